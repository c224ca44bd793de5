// Copyright 2026 The runnel Authors.
//
// DynamoDB's table operations: CreateTable, DescribeTable, ListTables,
// UpdateTable, DeleteTable, UpdateTimeToLive, DescribeTimeToLive,
// DescribeEndpoints.

#include <algorithm>

#include "runnel/change.h"
#include "tools/endpoint/dynamodb_internal.h"
#include "tools/item_args.h"
#include "tools/json_shapes.h"

namespace runnel::endpoint::ddb {
namespace {

// Capacity a request asked for: runnel has no capacity units, so it is
// only echoed in the response of the call that set it.
struct Billing {
  bool given = false;  // BillingMode or ProvisionedThroughput present
  bool provisioned = false;
  int64_t read = 0, write = 0;
};

Fault ParseBilling(const Params& p, bool create, Billing* b) {
  std::string mode;
  Fault f = p.Str("BillingMode", &mode);
  if (!f.ok()) return f;
  if (!mode.empty() && mode != "PROVISIONED" && mode != "PAY_PER_REQUEST") {
    return Validation("1 validation error detected: Value '" + mode +
                      "' at 'billingMode' failed to satisfy constraint: Member must satisfy enum "
                      "value set: [PROVISIONED, PAY_PER_REQUEST]");
  }
  const json* pt = nullptr;
  f = p.Object("ProvisionedThroughput", &pt);
  if (!f.ok()) return f;
  b->given = !mode.empty() || pt != nullptr;
  b->provisioned = mode == "PROVISIONED" || (mode.empty() && (create || pt != nullptr));
  if (pt != nullptr) {
    if (mode == "PAY_PER_REQUEST") {
      return Validation(
          "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
          "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    }
    const Params t(*pt, "ProvisionedThroughput");
    bool has_r = false, has_w = false;
    f = t.Int("ReadCapacityUnits", 1, INT64_MAX, &b->read, &has_r);
    if (f.ok()) f = t.Int("WriteCapacityUnits", 1, INT64_MAX, &b->write, &has_w);
    if (!f.ok()) return f;
    if (!has_r) return Validation(NullMember("ProvisionedThroughput.ReadCapacityUnits"));
    if (!has_w) return Validation(NullMember("ProvisionedThroughput.WriteCapacityUnits"));
  } else if (create && b->provisioned) {
    return Validation(
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
        "must both be specified when BillingMode is PROVISIONED");
  }
  return {};
}

Fault ParseStreamSpec(const Params& p, bool* present, StreamSpecification* spec) {
  const json* s = nullptr;
  Fault f = p.Object("StreamSpecification", &s);
  *present = s != nullptr;
  if (!f.ok() || s == nullptr) return f;
  const Params sp(*s, "StreamSpecification");
  if (!sp.Has("StreamEnabled")) return Validation(NullMember("StreamSpecification.StreamEnabled"));
  f = sp.Bool("StreamEnabled", &spec->stream_enabled);
  std::string view;
  if (f.ok()) f = sp.Str("StreamViewType", &view);
  if (!f.ok()) return f;
  if (spec->stream_enabled && view.empty()) {
    return Validation(
        "One or more parameter values were invalid: StreamViewType is required when "
        "StreamEnabled is true");
  }
  if (!spec->stream_enabled && !view.empty()) {
    return Validation(
        "One or more parameter values were invalid: StreamViewType cannot be specified when "
        "StreamEnabled is false");
  }
  if (!view.empty() && !ParseStreamViewType(view, &spec->stream_view_type)) {
    return Validation("1 validation error detected: Value '" + view +
                      "' at 'streamSpecification.streamViewType' failed to satisfy constraint: "
                      "Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, "
                      "NEW_AND_OLD_IMAGES, KEYS_ONLY]");
  }
  return {};
}

// TableJson prints what the runnel CLI shows; on the wire the cloud sends
// CreationDateTime as epoch seconds (a number), which the SDKs require.
ojson WireTable(DB& db, const TableDescription& d, const char* status, const Billing& b) {
  ojson t = cli::TableJson(db, d, status);
  t["CreationDateTime"] = static_cast<double>(d.creation_time_micros / 1000) / 1000.0;
  if (b.given && d.schema.typed()) {
    if (b.provisioned) {
      t["ProvisionedThroughput"] = {{"NumberOfDecreasesToday", 0},
                                    {"ReadCapacityUnits", b.read},
                                    {"WriteCapacityUnits", b.write}};
      t["BillingModeSummary"] = {{"BillingMode", "PROVISIONED"}};
    }
  }
  return t;
}

Fault TableNotFound(const std::string& name) {
  return {"ResourceNotFoundException",
          "Requested resource not found: Table: " + name + " not found",
          {}};
}

Fault Describe(DB& db, const std::string& name, TableDescription* d) {
  Status s = db.DescribeTable(name, d);
  if (s.IsNotFound()) return TableNotFound(name);
  return FromStatus(s);
}

Fault ParseSchema(const Params& p, TableSchema* schema) {
  const json* ks = nullptr;
  const json* defs = nullptr;
  Fault f = p.Array("AttributeDefinitions", &defs, true);
  if (f.ok()) f = p.Array("KeySchema", &ks, true);
  if (!f.ok()) return f;
  Status s = cli::ParseKeySchemaArg({ks->dump()}, &schema->key_schema);
  if (!s.ok()) return FromArgStatus(s, "--key-schema", "KeySchema");
  s = cli::ParseAttributeDefinitionsArg({defs->dump()}, &schema->attribute_definitions);
  if (!s.ok()) return FromArgStatus(s, "--attribute-definitions", "AttributeDefinitions");
  return {};
}

}  // namespace

HttpResponse CreateTable(const Call& c) {
  const Params p(c.body, "");
  std::string name;
  TableSchema schema;
  Billing billing;
  StreamSpecification stream;
  bool has_stream = false;
  bool protect = false;
  Fault f = p.NotServed({"GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ResourcePolicy",
                         "OnDemandThroughput", "WarmThroughput"});
  if (f.ok()) f = p.Str("TableName", &name, true);
  if (f.ok()) f = ParseSchema(p, &schema);
  if (f.ok()) f = ParseBilling(p, true, &billing);
  if (f.ok()) f = ParseStreamSpec(p, &has_stream, &stream);
  if (f.ok()) f = p.Bool("DeletionProtectionEnabled", &protect);
  if (f.ok() && protect) f = Validation("runnel does not serve DeletionProtectionEnabled=true");
  if (!f.ok()) return ErrorResponse(f);
  Status s = c.db().CreateTable(name, stream, schema);
  if (s.IsBusy()) {
    return ErrorResponse({"ResourceInUseException", "Table already exists: " + name, {}});
  }
  TableDescription d;
  if (s.ok()) f = Describe(c.db(), name, &d);
  if (!s.ok()) f = FromStatus(s);
  if (!f.ok()) return ErrorResponse(f);
  return OkResponse({{"TableDescription", WireTable(c.db(), d, "ACTIVE", billing)}});
}

HttpResponse DescribeTable(const Call& c) {
  const Params p(c.body, "");
  std::string name;
  TableDescription d;
  Fault f = p.Str("TableName", &name, true);
  if (f.ok()) f = Describe(c.db(), name, &d);
  if (!f.ok()) return ErrorResponse(f);
  return OkResponse({{"Table", WireTable(c.db(), d, "ACTIVE", {})}});
}

HttpResponse ListTables(const Call& c) {
  const Params p(c.body, "");
  std::string start;
  int64_t limit = 100;
  bool has_limit = false;
  Fault f = p.Str("ExclusiveStartTableName", &start);
  if (f.ok()) f = p.Int("Limit", 1, 100, &limit, &has_limit);
  if (!f.ok()) return ErrorResponse(f);
  std::vector<std::string> names;
  Status s = c.db().ListTables(&names);
  if (!s.ok()) return ErrorResponse(FromStatus(s));
  auto it = start.empty() ? names.begin() : std::upper_bound(names.begin(), names.end(), start);
  ojson list = ojson::array();
  for (; it != names.end() && static_cast<int64_t>(list.size()) < limit; ++it) list.push_back(*it);
  ojson out;
  out["TableNames"] = list;
  if (it != names.end() && !list.empty()) out["LastEvaluatedTableName"] = list.back();
  return OkResponse(out);
}

HttpResponse UpdateTable(const Call& c) {
  const Params p(c.body, "");
  std::string name;
  Billing billing;
  StreamSpecification stream;
  bool has_stream = false;
  Fault f = p.NotServed({"GlobalSecondaryIndexUpdates", "ReplicaUpdates", "AttributeDefinitions",
                         "OnDemandThroughput", "WarmThroughput", "MultiRegionConsistency"});
  if (f.ok()) f = p.Str("TableName", &name, true);
  if (f.ok()) f = ParseBilling(p, false, &billing);
  if (f.ok()) f = ParseStreamSpec(p, &has_stream, &stream);
  if (f.ok() && !has_stream && !billing.given && !p.Has("SSESpecification") &&
      !p.Has("TableClass") && !p.Has("DeletionProtectionEnabled")) {
    f = Validation(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  bool protect = false;
  if (f.ok()) f = p.Bool("DeletionProtectionEnabled", &protect);
  if (f.ok() && protect) f = Validation("runnel does not serve DeletionProtectionEnabled=true");
  TableDescription d;
  if (f.ok()) f = Describe(c.db(), name, &d);
  if (f.ok() && has_stream) f = FromStatus(c.db().UpdateTable(name, stream));
  if (f.ok() && has_stream) f = Describe(c.db(), name, &d);
  if (!f.ok()) return ErrorResponse(f);
  return OkResponse({{"TableDescription", WireTable(c.db(), d, "ACTIVE", billing)}});
}

HttpResponse DeleteTable(const Call& c) {
  const Params p(c.body, "");
  std::string name;
  TableDescription d;
  Fault f = p.Str("TableName", &name, true);
  if (f.ok()) f = Describe(c.db(), name, &d);
  if (f.ok()) {
    Status s = c.db().DeleteTable(name);
    f = s.IsNotFound() ? TableNotFound(name) : FromStatus(s);
  }
  if (!f.ok()) return ErrorResponse(f);
  return OkResponse({{"TableDescription", WireTable(c.db(), d, "DELETING", {})}});
}

HttpResponse UpdateTimeToLive(const Call& c) {
  const Params p(c.body, "");
  std::string name;
  const json* spec = nullptr;
  TimeToLiveSpecification ttl;
  Fault f = p.Str("TableName", &name, true);
  if (f.ok()) f = p.Object("TimeToLiveSpecification", &spec, true);
  if (f.ok()) {
    const Params sp(*spec, "TimeToLiveSpecification");
    if (!sp.Has("Enabled")) f = Validation(NullMember("TimeToLiveSpecification.Enabled"));
    if (f.ok()) f = sp.Bool("Enabled", &ttl.enabled);
    if (f.ok()) f = sp.Str("AttributeName", &ttl.attribute_name, true);
  }
  if (f.ok() && ttl.attribute_name.empty()) {
    f = Validation("TimeToLiveSpecification.AttributeName must not be empty");
  }
  TableDescription d;
  if (f.ok()) f = Describe(c.db(), name, &d);
  if (f.ok()) f = FromStatus(c.db().UpdateTimeToLive(name, ttl));
  if (!f.ok()) return ErrorResponse(f);
  return OkResponse({{"TimeToLiveSpecification",
                      {{"Enabled", ttl.enabled}, {"AttributeName", ttl.attribute_name}}}});
}

HttpResponse DescribeTimeToLive(const Call& c) {
  const Params p(c.body, "");
  std::string name;
  TableDescription d;
  Fault f = p.Str("TableName", &name, true);
  if (f.ok()) f = Describe(c.db(), name, &d);
  if (!f.ok()) return ErrorResponse(f);
  ojson desc;
  if (d.time_to_live.enabled) {
    desc["TimeToLiveStatus"] = "ENABLED";
    desc["AttributeName"] = d.time_to_live.attribute_name;
  } else {
    desc["TimeToLiveStatus"] = "DISABLED";
  }
  return OkResponse({{"TimeToLiveDescription", desc}});
}

HttpResponse DescribeEndpoints(const Call& c) {
  // The endpoint the client reached: clients that discover endpoints then
  // keep talking to runnel.
  std::string host(c.request.Header("host"));
  if (host.empty()) host = "localhost";
  return OkResponse(
      {{"Endpoints", ojson::array({{{"Address", host}, {"CachePeriodInMinutes", 1440}}})}});
}

}  // namespace runnel::endpoint::ddb
