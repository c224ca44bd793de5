// Copyright 2026 The runnel Authors.

#include "tests/view_check.h"

#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "runnel/item.h"
#include "runnel/stream.h"

namespace runnel::test {
namespace {

using nlohmann::json;

bool ParseInt(const std::string& s, int64_t* out) {
  const char* end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, *out);
  return r.ec == std::errc() && r.ptr == end;
}

// The N attribute `name` of `item` as an integer.
bool IntAttribute(const json& item, const char* name, int64_t* out) {
  const auto a = item.find(name);
  return a != item.end() && a->is_object() && a->contains("N") && (*a)["N"].is_string() &&
         ParseInt((*a)["N"].get<std::string>(), out);
}

bool GroupAttribute(const json& item, std::string* out) {
  const auto g = item.find("group");
  if (g == item.end() || !g->is_object() || !g->contains("S")) return false;
  *out = (*g)["S"].get<std::string>();
  return true;
}

std::string Show(const ViewTotals& v, const std::string& g) {
  const auto it = v.find(g);
  if (it == v.end()) return "absent";
  return "count " + std::to_string(it->second.count) + " sum " + std::to_string(it->second.sum);
}

}  // namespace

Status ScanItemJson(DB* db, const std::string& table, std::vector<std::string>* items) {
  items->clear();
  ScanRequest q;
  q.table_name = table;
  for (;;) {
    QueryResult r;
    Status s = db->ScanItems(ReadOptions(), q, &r);
    if (!s.ok()) return s;
    for (const Item& item : r.items) items->push_back(ItemToJson(item));
    if (!r.last_evaluated_key) return Status::OK();
    q.exclusive_start_key = *r.last_evaluated_key;
  }
}

namespace {

void AddItems(const std::vector<json>& items, ViewTotals* out) {
  out->clear();
  for (const json& item : items) {
    std::string group;
    int64_t amount = 0;
    if (!GroupAttribute(item, &group) || !IntAttribute(item, "amount", &amount)) continue;
    GroupTotals& t = (*out)[group];
    ++t.count;
    t.sum += amount;
  }
}

}  // namespace

Status RecomputeView(DB* db, const std::string& source, ViewTotals* out) {
  std::vector<std::string> texts;
  Status s = ScanItemJson(db, source, &texts);
  if (!s.ok()) return s;
  std::vector<json> items;
  for (const std::string& text : texts) items.push_back(json::parse(text));
  AddItems(items, out);
  return Status::OK();
}

Status ViewBelow(DB* db, const std::string& source, uint64_t position, ViewTotals* out,
                 uint64_t* below, uint64_t* at_or_above) {
  *below = *at_or_above = 0;
  std::unique_ptr<ChangeIterator> it;
  Status s = db->NewChangeIterator(1, &it);
  if (!s.ok()) return s;
  std::map<std::string, json> state;  // Keys as JSON -> the item
  for (; it->Valid(); it->Next()) {
    const ChangeRecord& r = it->record();
    if (r.table != source) continue;
    if (r.sequence >= position) {
      ++*at_or_above;
      continue;
    }
    ++*below;
    const json d = json::parse(RecordToJson(r, "", ""))["dynamodb"];
    const std::string key = d["Keys"].dump();
    if (r.event == EventName::kRemove) {
      state.erase(key);
    } else if (d.contains("NewImage")) {
      state[key] = d["NewImage"];
    } else {
      return Status::InvalidArgument("a record without its NewImage: the stream of " + source +
                                     " must carry new images");
    }
  }
  if (!it->status().ok()) return it->status();
  std::vector<json> items;
  for (auto& [k, item] : state) items.push_back(std::move(item));
  AddItems(items, out);
  return Status::OK();
}

Status ReadView(DB* db, const std::string& view, ViewTotals* out) {
  out->clear();
  std::vector<std::string> items;
  Status s = ScanItemJson(db, view, &items);
  if (!s.ok()) return s;
  for (const std::string& text : items) {
    const json item = json::parse(text);
    std::string group;
    GroupTotals t;
    if (!GroupAttribute(item, &group) || !IntAttribute(item, "count", &t.count) ||
        !IntAttribute(item, "sum", &t.sum) || item.size() != 3) {
      return Status::Corruption("a view item that is not {group, count, sum}: " + text);
    }
    (*out)[group] = t;
  }
  return Status::OK();
}

std::string DiffViews(const ViewTotals& want, const ViewTotals& got) {
  std::string out;
  int shown = 0;
  auto note = [&](const std::string& g) {
    if (shown++ < 5) {
      out += "group " + g + ": recomputed " + Show(want, g) + ", view " + Show(got, g) + "; ";
    }
  };
  for (const auto& [g, t] : want) {
    const auto it = got.find(g);
    if (it == got.end() || !(it->second == t)) note(g);
  }
  for (const auto& [g, t] : got) {
    if (want.find(g) == want.end()) note(g);
  }
  if (shown > 5) out += std::to_string(shown - 5) + " more groups differ";
  return out;
}

}  // namespace runnel::test
