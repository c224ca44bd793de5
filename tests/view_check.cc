// Copyright 2026 The runnel Authors.

#include "tests/view_check.h"

#include <algorithm>
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

Status CreateTyped(DB* db, const std::string& name, const std::string& hash,
                   const StreamSpecification& stream) {
  TableSchema schema;
  schema.key_schema = {{hash, KeyType::kHash}};
  schema.attribute_definitions = {{hash, ScalarAttributeType::kS}};
  const Status s = db->CreateTable(name, stream, schema);
  return s.IsBusy() ? Status::OK() : s;
}

// The JSON here is always valid: a bad one would be an empty item, which
// the DB refuses, naming it.
Item ItemOf(const std::string& json) {
  Item item;
  (void)ItemFromJson(json, &item);
  return item;
}

std::string OrderKey(const std::string& id) { return R"({"id":{"S":")" + id + R"("}})"; }

// A random order: most count in the view; some lack the amount or have a
// fraction (they count nowhere).
std::string RandomOrder(std::mt19937_64& rng, const std::string& id) {
  const std::string group = "g" + std::to_string(rng() % 6);
  const uint64_t r = rng() % 12;
  const std::string amount =
      r == 0   ? R"("note":{"S":"no amount"})"
      : r == 1 ? R"("amount":{"N":"0.5"})"
               : R"("amount":{"N":")" + std::to_string(static_cast<int64_t>(rng() % 301) - 100) +
                     R"("})";
  return R"({"id":{"S":")" + id + R"("},"group":{"S":")" + group + R"("},)" + amount + "}";
}

// One random update of an order: to another group, another amount, an
// attribute the view ignores, or no group at all.
void RandomUpdate(std::mt19937_64& rng, ExpressionInput* q, std::string* expression) {
  const uint64_t r = rng() % 8;
  if (r < 3) {
    *expression = "SET #g = :g";
    q->expression_attribute_names = {{"#g", "group"}};
    q->expression_attribute_values =
        ItemOf(R"({":g":{"S":"g)" + std::to_string(rng() % 6) + R"("}})");
  } else if (r < 6) {
    *expression = "SET amount = :a";
    q->expression_attribute_values = ItemOf(
        R"({":a":{"N":")" + std::to_string(static_cast<int64_t>(rng() % 301) - 100) + R"("}})");
  } else if (r < 7) {
    *expression = "SET note = :n";
    q->expression_attribute_values = ItemOf(R"({":n":{"S":")" + std::to_string(rng()) + R"("}})");
  } else {
    *expression = "REMOVE #g";
    q->expression_attribute_names = {{"#g", "group"}};
  }
}

// A transaction of 2..4 actions on distinct orders: one log frame of several
// records, which a mapping batch may cut.
Status RandomTransaction(DB* db, std::mt19937_64& rng, bool sync) {
  TransactWriteItemsRequest q;
  q.sync = sync;
  std::vector<uint64_t> ids;
  const size_t n = 2 + rng() % 3;
  while (ids.size() < n) {
    const uint64_t id = rng() % 40;
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  for (const uint64_t id : ids) {
    TransactWriteItem a;
    a.table_name = "orders";
    const std::string name = "o" + std::to_string(id);
    const uint64_t r = rng() % 3;
    if (r == 0) {
      a.kind = TransactWriteItem::Kind::kPut;
      a.item = ItemOf(RandomOrder(rng, name));
    } else if (r == 1) {
      a.kind = TransactWriteItem::Kind::kUpdate;
      a.key = ItemOf(OrderKey(name));
      RandomUpdate(rng, &a, &a.update_expression);
    } else {
      a.kind = TransactWriteItem::Kind::kDelete;
      a.key = ItemOf(OrderKey(name));
    }
    q.transact_items.push_back(std::move(a));
  }
  TransactWriteItemsResult r;
  return db->TransactWriteItems(q, &r);
}

}  // namespace

Status CreateViewTables(DB* db) {
  StreamSpecification stream;
  stream.stream_enabled = true;
  stream.stream_view_type = StreamViewType::kNewAndOldImages;
  Status s = CreateTyped(db, "orders", "id", stream);
  if (s.ok()) s = CreateTyped(db, "totals", "group", StreamSpecification());
  return s;
}

Status RandomOrderWrite(DB* db, std::mt19937_64& rng, bool sync) {
  const std::string id = "o" + std::to_string(rng() % 40);
  const uint64_t r = rng() % 20;
  WriteItemResult res;
  if (r < 8) {
    PutItemRequest q;
    q.table_name = "orders";
    q.item = ItemOf(RandomOrder(rng, id));
    q.sync = sync;
    return db->PutItem(q, &res);
  }
  if (r < 15) {
    UpdateItemRequest q;
    q.table_name = "orders";
    q.key = ItemOf(OrderKey(id));
    RandomUpdate(rng, &q, &q.update_expression);
    q.sync = sync;
    return db->UpdateItem(q, &res);
  }
  if (r < 18) {
    DeleteItemRequest q;
    q.table_name = "orders";
    q.key = ItemOf(OrderKey(id));
    q.sync = sync;
    return db->DeleteItem(q, &res);
  }
  return RandomTransaction(db, rng, sync);
}

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
