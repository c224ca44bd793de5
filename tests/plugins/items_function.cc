// Copyright 2026 The runnel Authors.
//
// The plugin of tests/triggers_items_test.cc, written against the C++
// wrapper (runnel/function.hpp). For each record of a typed "orders" table
// (id S; sku S, qty N):
//   - logs "NewImage <json>" (the record's typed image);
//   - a REMOVE: deletes the order's audit item, logs whether it still reads;
//   - an order with attribute "bad": puts a malformed item, logs
//     "bad item: rc=<n> error=<message> read=<found|absent>";
//   - reads the price of its sku from table PRICES (another table);
//   - puts {"id","sku","qty","price"} into AUDIT and logs "audit <id>: <json>"
//     read back (its own write);
//   - updates TOTALS with "ADD #c :one, #q :qty" and logs
//     "total <sku> count=<n>" read back (its own update).
// FAIL_ONCE=P: after all write-backs of the first batch, creates file P and
// fails the batch (the next attempt finds P and succeeds).

#include <sys/stat.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "runnel/function.hpp"

RUNNEL_DECLARE_FUNCTION_ABI

namespace {

using nlohmann::json;
using runnel::fn::Context;
using runnel::fn::Record;

std::string Env(Context& ctx, const char* name) {
  const char* v = ctx.Getenv(name);
  return v != nullptr ? v : "";
}

// Deletes the audit item of a removed order and reads it back.
void OnRemove(Context& ctx, const Record& r, const std::string& audit) {
  const json keys = json::parse(*ctx.RecordJson(r, RUNNEL_RECORD_KEYS));
  ctx.DeleteItem(audit, keys.dump());
  std::string_view item;
  const int rc = ctx.GetItem(audit, keys.dump(), &item);
  ctx.Log("audit " + keys["id"]["S"].get<std::string>() +
          " after delete: " + (rc == RUNNEL_ITEM_NOT_FOUND ? "not found" : "still there"));
}

void PutBad(Context& ctx, const std::string& audit) {
  const int rc = ctx.PutItem(audit, R"({"id":{"S":"bad"},"n":{"N":"twelve"}})");
  const std::string error(ctx.LastError());
  std::string_view item;
  const int read = ctx.GetItem(audit, R"({"id":{"S":"bad"}})", &item);
  ctx.Log("bad item: rc=" + std::to_string(rc) + " error=" + error +
          " read=" + (read == RUNNEL_ITEM_OK ? "found" : "absent"));
}

int OnOrder(Context& ctx, const Record& r) {
  const std::string audit = Env(ctx, "AUDIT"), totals = Env(ctx, "TOTALS");
  const std::optional<std::string_view> image = ctx.RecordJson(r, RUNNEL_RECORD_NEW_IMAGE);
  if (!image) {
    OnRemove(ctx, r, audit);
    return 0;
  }
  ctx.Log("NewImage " + std::string(*image));
  const json order = json::parse(*image);
  if (order.contains("bad")) PutBad(ctx, audit);
  const std::string id = order["id"]["S"], sku = order["sku"]["S"];
  json price = nullptr;
  std::string_view found;
  const json price_key = {{"sku", {{"S", sku}}}};
  if (ctx.GetItem(Env(ctx, "PRICES"), price_key.dump(), &found) == RUNNEL_ITEM_OK) {
    price = json::parse(found)["price"];
  }
  json entry = {{"id", order["id"]}, {"sku", order["sku"]}, {"qty", order["qty"]}};
  if (!price.is_null()) entry["price"] = price;
  if (ctx.PutItem(audit, entry.dump()) != RUNNEL_ITEM_OK) return 1;
  if (ctx.GetItem(audit, json({{"id", order["id"]}}).dump(), &found) != RUNNEL_ITEM_OK) return 1;
  ctx.Log("audit " + id + ": " + std::string(found));
  const json names = {{"#c", "count"}, {"#q", "qty"}};
  const json values = {{":one", {{"N", "1"}}}, {":qty", order["qty"]}};
  if (ctx.UpdateItem(totals, price_key.dump(), "ADD #c :one, #q :qty", names.dump(),
                     values.dump()) != RUNNEL_ITEM_OK) {
    ctx.Log("update failed: " + std::string(ctx.LastError()));
    return 1;
  }
  if (ctx.GetItem(totals, price_key.dump(), &found) != RUNNEL_ITEM_OK) return 1;
  ctx.Log("total " + sku + " count=" + json::parse(found)["count"]["N"].get<std::string>());
  return 0;
}

int Handle(const runnel::fn::Batch& batch, Context& ctx) {
  for (const Record& r : batch) {
    if (OnOrder(ctx, r) != 0) return 1;
  }
  const std::string fail_once = Env(ctx, "FAIL_ONCE");
  struct stat st;
  if (!fail_once.empty() && ::stat(fail_once.c_str(), &st) != 0) {
    if (FILE* f = std::fopen(fail_once.c_str(), "w")) std::fclose(f);
    ctx.Log("failing after the write-backs");
    return 1;
  }
  return 0;
}

}  // namespace

RUNNEL_CPP_HANDLER(runnel_handler, Handle)
