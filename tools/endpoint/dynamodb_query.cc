// Copyright 2026 The runnel Authors.
//
// DynamoDB's Query and Scan.

#include "tools/endpoint/dynamodb_internal.h"

namespace runnel::endpoint::ddb {
namespace {

ojson ItemJ(const Item& item) { return ojson::parse(ItemToJson(item)); }

Fault ParseSelect(const Params& p, Select* select) {
  std::string v;
  Fault f = p.Str("Select", &v);
  if (!f.ok() || v.empty()) return f;
  if (v == "ALL_ATTRIBUTES") {
    *select = Select::kAllAttributes;
  } else if (v == "SPECIFIC_ATTRIBUTES") {
    *select = Select::kSpecificAttributes;
  } else if (v == "COUNT") {
    *select = Select::kCount;
  } else if (v == "ALL_PROJECTED_ATTRIBUTES") {
    return Validation(
        "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is "
        "supported for global secondary index or local secondary index only");
  } else {
    return Validation(
        "1 validation error detected: Value '" + v +
        "' at 'select' failed to satisfy constraint: Member must satisfy enum value "
        "set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]");
  }
  return {};
}

// What Query and Scan share.
template <typename Request>
Fault ParseRead(const Params& p, Request* r) {
  int64_t limit = 0;
  bool has_limit = false;
  Fault f = p.NotServed({"IndexName"});
  if (f.ok()) f = p.Str("TableName", &r->table_name, true);
  if (f.ok()) f = p.Expr("FilterExpression", &r->filter_expression);
  if (f.ok()) f = p.Expr("ProjectionExpression", &r->projection_expression);
  if (f.ok()) f = p.Expressions(r);
  if (f.ok()) f = p.Int("Limit", 1, UINT32_MAX, &limit, &has_limit);
  if (f.ok()) f = p.ItemMember("ExclusiveStartKey", &r->exclusive_start_key);
  if (f.ok()) f = ParseSelect(p, &r->select);
  if (f.ok()) f = p.Bool("ConsistentRead", &r->consistent_read);
  if (f.ok()) f = CheckReturnMetrics(p);
  if (f.ok() && p.Has("Select") && r->select == Select::kSpecificAttributes &&
      r->projection_expression.empty()) {
    f = Validation(
        "One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires "
        "ProjectionExpression or AttributesToGet");
  }
  if (f.ok() && r->select != Select::kSpecificAttributes && !r->projection_expression.empty()) {
    if (p.Has("Select")) {
      f = Validation(
          "One or more parameter values were invalid: Select must be SPECIFIC_ATTRIBUTES when "
          "ProjectionExpression or AttributesToGet is specified");
    } else {
      r->select = Select::kSpecificAttributes;
    }
  }
  r->limit = static_cast<uint32_t>(limit);
  return f;
}

HttpResponse PageResponse(const Status& s, const QueryRequest* q, const ScanRequest* sc,
                          const QueryResult& result) {
  if (!s.ok()) return ErrorResponse(FromStatus(s));
  const Select select = q != nullptr ? q->select : sc->select;
  ojson out;
  if (select != Select::kCount) {
    ojson items = ojson::array();
    for (const Item& item : result.items) items.push_back(ItemJ(item));
    out["Items"] = std::move(items);
  }
  out["Count"] = result.count;
  out["ScannedCount"] = result.scanned_count;
  if (result.last_evaluated_key) out["LastEvaluatedKey"] = ItemJ(*result.last_evaluated_key);
  return OkResponse(out);
}

}  // namespace

HttpResponse Query(const Call& c) {
  const Params p(c.body, "");
  QueryRequest r;
  Fault f = ParseRead(p, &r);
  if (f.ok()) f = p.Expr("KeyConditionExpression", &r.key_condition_expression);
  if (f.ok()) f = p.Bool("ScanIndexForward", &r.scan_index_forward);
  if (f.ok() && r.key_condition_expression.empty()) {
    f = Validation(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified "
        "in the request.");
  }
  if (!f.ok()) return ErrorResponse(f);
  QueryResult result;
  Status s = c.db().Query(ReadOptions(), r, &result);
  return PageResponse(s, &r, nullptr, result);
}

HttpResponse Scan(const Call& c) {
  const Params p(c.body, "");
  ScanRequest r;
  int64_t segment = 0, total = 0;
  bool has_segment = false, has_total = false;
  Fault f = ParseRead(p, &r);
  if (f.ok()) f = p.Int("Segment", 0, 999999, &segment, &has_segment);
  if (f.ok()) f = p.Int("TotalSegments", 1, 1000000, &total, &has_total);
  if (f.ok() && has_segment != has_total) {
    f = Validation(has_segment ? "The TotalSegments parameter is required but was not present in "
                                 "the request when Segment parameter is present"
                               : "The Segment parameter is required but was not present in the "
                                 "request when parameter TotalSegments is present");
  }
  if (f.ok() && has_total && segment >= total) {
    f = Validation(
        "The Segment parameter is zero-based and must be less than parameter "
        "TotalSegments: Segment: " +
        std::to_string(segment) + " is not less than TotalSegments: " + std::to_string(total));
  }
  if (!f.ok()) return ErrorResponse(f);
  r.segment = static_cast<uint32_t>(segment);
  r.total_segments = static_cast<uint32_t>(total);
  QueryResult result;
  Status s = c.db().ScanItems(ReadOptions(), r, &result);
  return PageResponse(s, nullptr, &r, result);
}

}  // namespace runnel::endpoint::ddb
