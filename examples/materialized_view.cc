// Copyright 2026 The runnel Authors.
//
// materialized_view: a per-group count and sum of a typed table, kept in
// another typed table by a trigger, exactly once.
//
// The source table (its stream NEW_AND_OLD_IMAGES) holds items with a group
// attribute (S) and an amount (N, an integer). The view table, keyed by the
// same group attribute (S), holds one item per group that has items:
//   {"group":{"S":"g"},"count":{"N":"<items>"},"sum":{"N":"<sum of amounts>"}}
// For each record the handler takes the item's old contribution (from the
// OldImage) out of its group and adds the new one (from the NewImage): an
// INSERT adds, a REMOVE subtracts, a MODIFY that changes the group or the
// amount moves the contribution. Each change is a read-modify-write: it
// reads the group's view item with get_item (which sees this invocation's
// own writes, so two records of one group in one batch add up), computes
// the new count and sum, and writes the item back with put_item (or
// deletes it when the count drops to 0). An item without the group
// attribute or without an integer amount contributes nothing.
//
// Why it is exactly once: the write-backs of an invocation are committed
// atomically with the mapping's checkpoint, or not at all; a retried batch
// (a failed attempt, a crash, a kill -9) starts again from the committed
// view. So the view always equals a recomputation from the records below
// the checkpoint, and after catching up, from the source table. The view
// must be written only by this mapping (one mapping, ParallelizationFactor
// 1): two writers of one view item would race between the read and the
// commit.
//
// Environment: VIEW_TABLE (default "OrderTotals"), GROUP_ATTRIBUTE
// (default "group"), AMOUNT_ATTRIBUTE (default "amount").

#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runnel/function.hpp"

RUNNEL_DECLARE_FUNCTION_ABI

namespace {

using nlohmann::json;
using runnel::fn::Context;
using runnel::fn::Record;

struct Settings {
  std::string view, group, amount;
};

struct Contribution {
  std::string group;
  int64_t amount = 0;
  bool operator==(const Contribution& o) const { return group == o.group && amount == o.amount; }
};

std::string Env(Context& ctx, const char* name, const char* def) {
  const char* v = ctx.Getenv(name);
  return v != nullptr && *v != '\0' ? v : def;
}

bool ParseInt(const std::string& s, int64_t* out) {
  const char* end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, *out);
  return r.ec == std::errc() && r.ptr == end;
}

// What an image (an item as the cloud's JSON) adds to the view, if anything.
std::optional<Contribution> ContributionOf(const Settings& cfg, std::string_view image) {
  const json item = json::parse(image, nullptr, false);
  if (!item.is_object()) return std::nullopt;
  const auto g = item.find(cfg.group);
  const auto a = item.find(cfg.amount);
  if (g == item.end() || a == item.end() || !g->contains("S") || !a->contains("N")) {
    return std::nullopt;
  }
  Contribution c;
  c.group = (*g)["S"].get<std::string>();
  if (!ParseInt((*a)["N"].get<std::string>(), &c.amount)) return std::nullopt;
  return c;
}

// Adds (count, sum) to the group's view item: read, modify, write.
bool AddToGroup(Context& ctx, const Settings& cfg, const std::string& group, int64_t count,
                int64_t sum) {
  const std::string key = json{{cfg.group, {{"S", group}}}}.dump();
  std::string_view found;
  int64_t have_count = 0, have_sum = 0;
  const runnel_item_result rc = ctx.GetItem(cfg.view, key, &found);
  if (rc == RUNNEL_ITEM_OK) {
    const json row = json::parse(found);
    if (!ParseInt(row.value("count", json::object()).value("N", ""), &have_count) ||
        !ParseInt(row.value("sum", json::object()).value("N", ""), &have_sum)) {
      ctx.Log("view item of group " + group + " is not {count, sum}: " + std::string(found));
      return false;
    }
  } else if (rc != RUNNEL_ITEM_NOT_FOUND) {
    ctx.Log("reading the view failed: " + std::string(ctx.LastError()));
    return false;
  }
  have_count += count;
  have_sum += sum;
  runnel_item_result w;
  if (have_count == 0) {
    w = ctx.DeleteItem(cfg.view, key);
  } else {
    const json row = {{cfg.group, {{"S", group}}},
                      {"count", {{"N", std::to_string(have_count)}}},
                      {"sum", {{"N", std::to_string(have_sum)}}}};
    w = ctx.PutItem(cfg.view, row.dump());
  }
  if (w != RUNNEL_ITEM_OK) ctx.Log("writing the view failed: " + std::string(ctx.LastError()));
  return w == RUNNEL_ITEM_OK;
}

bool OnRecord(Context& ctx, const Settings& cfg, const Record& r) {
  const auto old_image = ctx.RecordJson(r, RUNNEL_RECORD_OLD_IMAGE);
  const auto new_image = ctx.RecordJson(r, RUNNEL_RECORD_NEW_IMAGE);
  if (r.event() != RUNNEL_INSERT && !old_image) {
    ctx.Log("a " + std::string(r.event_name()) +
            " without its OldImage: the source stream must be NEW_AND_OLD_IMAGES");
    return false;
  }
  std::optional<Contribution> before, after;
  if (old_image) before = ContributionOf(cfg, *old_image);
  if (new_image) after = ContributionOf(cfg, *new_image);
  if (before == after) return true;  // another attribute changed
  if (before && !AddToGroup(ctx, cfg, before->group, -1, -before->amount)) return false;
  if (after && !AddToGroup(ctx, cfg, after->group, 1, after->amount)) return false;
  return true;
}

int Handle(const runnel::fn::Batch& batch, Context& ctx) {
  const Settings cfg = {Env(ctx, "VIEW_TABLE", "OrderTotals"), Env(ctx, "GROUP_ATTRIBUTE", "group"),
                        Env(ctx, "AMOUNT_ATTRIBUTE", "amount")};
  for (const Record& r : batch) {
    if (!r.typed()) {
      ctx.Log("materialized_view reads typed tables; " + std::string(r.table()) +
              " is a byte table");
      return 1;
    }
    if (!OnRecord(ctx, cfg, r)) return 1;
  }
  ctx.Log("applied " + std::to_string(batch.size()) + " records to " + cfg.view);
  return 0;
}

}  // namespace

RUNNEL_CPP_HANDLER(runnel_handler, Handle)
