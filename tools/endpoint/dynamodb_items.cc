// Copyright 2026 The runnel Authors.
//
// DynamoDB's single-item operations: PutItem, GetItem, UpdateItem,
// DeleteItem.

#include "tools/endpoint/dynamodb_internal.h"

namespace runnel::endpoint::ddb {
namespace {

ojson ItemJ(const Item& item) { return ojson::parse(ItemToJson(item)); }

// The parameters the three writes share.
template <typename Request>
Fault ParseWrite(const Params& p, bool all_values, Request* r) {
  Fault f = p.Str("TableName", &r->table_name, true);
  if (f.ok()) f = p.Expr("ConditionExpression", &r->condition_expression);
  if (f.ok()) f = p.Expressions(r);
  if (f.ok()) f = ParseReturnValues(p, all_values, &r->return_values);
  if (f.ok()) f = ParseReturnOnFailure(p, &r->return_old_on_condition_failure);
  if (f.ok()) f = CheckReturnMetrics(p);
  return f;
}

HttpResponse WriteResponse(const Status& s, const WriteItemResult& result) {
  if (s.IsConditionalCheckFailed()) {
    Fault f = FromStatus(s);
    if (result.attributes) f.extra["Item"] = ItemJ(*result.attributes);
    return ErrorResponse(f);
  }
  if (!s.ok()) return ErrorResponse(FromStatus(s));
  if (!result.attributes) return OkResponse(std::string("{}"));
  std::string out = "{\"Attributes\":";
  AppendItemJson(*result.attributes, &out);
  out += '}';
  return OkResponse(std::move(out));
}

}  // namespace

HttpResponse PutItem(const Call& c) {
  const Params p(c.body, "");
  PutItemRequest r;
  r.sync = c.sync();
  Fault f = ParseWrite(p, false, &r);
  if (f.ok()) f = p.ItemMember("Item", &r.item, true);
  if (!f.ok()) return ErrorResponse(f);
  WriteItemResult result;
  Status s = c.db().PutItem(r, &result);
  return WriteResponse(s, result);
}

HttpResponse UpdateItem(const Call& c) {
  const Params p(c.body, "");
  UpdateItemRequest r;
  r.sync = c.sync();
  Fault f = ParseWrite(p, true, &r);
  if (f.ok()) f = p.ItemMember("Key", &r.key, true);
  if (f.ok()) f = p.Expr("UpdateExpression", &r.update_expression);
  if (!f.ok()) return ErrorResponse(f);
  WriteItemResult result;
  Status s = c.db().UpdateItem(r, &result);
  return WriteResponse(s, result);
}

HttpResponse DeleteItem(const Call& c) {
  const Params p(c.body, "");
  DeleteItemRequest r;
  r.sync = c.sync();
  Fault f = ParseWrite(p, false, &r);
  if (f.ok()) f = p.ItemMember("Key", &r.key, true);
  if (!f.ok()) return ErrorResponse(f);
  WriteItemResult result;
  Status s = c.db().DeleteItem(r, &result);
  return WriteResponse(s, result);
}

HttpResponse GetItem(const Call& c) {
  const Params p(c.body, "");
  GetItemRequest r;
  Fault f = p.Str("TableName", &r.table_name, true);
  if (f.ok()) f = p.ItemMember("Key", &r.key, true);
  if (f.ok()) f = p.Expr("ProjectionExpression", &r.projection_expression);
  if (f.ok()) f = p.Expressions(&r);
  if (f.ok()) f = p.Bool("ConsistentRead", &r.consistent_read);
  if (f.ok()) f = CheckReturnMetrics(p);
  if (!f.ok()) return ErrorResponse(f);
  GetItemResult result;
  Status s = c.db().GetItem(ReadOptions(), r, &result);
  if (!s.ok()) return ErrorResponse(FromStatus(s));
  // (Written straight, without a JSON tree: the hot read of the endpoint.)
  if (!result.item) return OkResponse(std::string("{}"));
  std::string out = "{\"Item\":";
  AppendItemJson(*result.item, &out);
  out += '}';
  return OkResponse(std::move(out));
}

}  // namespace runnel::endpoint::ddb
