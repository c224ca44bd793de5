// Copyright 2026 The runnel Authors.
//
// DynamoDB's Query and Scan.

#include "tools/endpoint/dynamodb_internal.h"

namespace runnel::endpoint::ddb {
namespace {

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

// The page, written straight from the items' stored form: no Item maps, no
// JSON tree (a Query of 100 items answers ~15 KB).
HttpResponse PageResponse(const Status& s, Select select, const ItemPage& page) {
  if (!s.ok()) return ErrorResponse(FromStatus(s));
  std::string out = "{";
  if (select != Select::kCount) {
    out += "\"Items\":[";
    std::string item;
    for (size_t i = 0; i < page.size(); ++i) {
      Status d = page.item(i).ToJson(&item);
      if (!d.ok()) return ErrorResponse(FromStatus(d));
      if (i > 0) out += ',';
      out += item;
    }
    out += "],";
  }
  out += "\"Count\":" + std::to_string(page.count);
  out += ",\"ScannedCount\":" + std::to_string(page.scanned_count);
  if (page.last_evaluated_key) {
    out += ",\"LastEvaluatedKey\":";
    AppendItemJson(*page.last_evaluated_key, &out);
  }
  out += '}';
  return OkResponse(std::move(out));
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
  ItemPage page;
  Status s = c.db().Query(ReadOptions(), r, &page);
  return PageResponse(s, r.select, page);
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
  ItemPage page;
  Status s = c.db().ScanItems(ReadOptions(), r, &page);
  return PageResponse(s, r.select, page);
}

}  // namespace runnel::endpoint::ddb
