// Copyright 2026 The runnel Authors.

#include "tools/json_shapes.h"

#include "cdc/arn.h"
#include "tools/cli.h"

namespace runnel::cli {

using ojson = nlohmann::ordered_json;

namespace {

// runnel's tables have one key attribute, a string named "key".
ojson KeySchema() { return ojson::array({ojson{{"AttributeName", "key"}, {"KeyType", "HASH"}}}); }

}  // namespace

ojson KeySchemaJson(const TableSchema& schema) {
  ojson ks = ojson::array();
  for (const KeySchemaElement& k : schema.key_schema) {
    ks.push_back({{"AttributeName", k.attribute_name},
                  {"KeyType", k.key_type == KeyType::kHash ? "HASH" : "RANGE"}});
  }
  return ks;
}

namespace {

const char* ScalarTypeName(ScalarAttributeType t) {
  switch (t) {
    case ScalarAttributeType::kS:
      return "S";
    case ScalarAttributeType::kN:
      return "N";
    case ScalarAttributeType::kB:
      return "B";
  }
  return "S";
}

}  // namespace

ojson AttributeDefinitionsJson(const TableSchema& schema) {
  ojson defs = ojson::array();
  for (const AttributeDefinition& a : schema.attribute_definitions) {
    defs.push_back(
        {{"AttributeName", a.attribute_name}, {"AttributeType", ScalarTypeName(a.attribute_type)}});
  }
  return defs;
}

ojson TableJson(DB& db, const TableDescription& d, const char* status) {
  const bool typed = d.schema.typed();
  ojson j;
  if (typed) {
    ojson defs = ojson::array();
    for (const AttributeDefinition& a : d.schema.attribute_definitions) {
      defs.push_back({{"AttributeName", a.attribute_name},
                      {"AttributeType", ScalarTypeName(a.attribute_type)}});
    }
    j["AttributeDefinitions"] = std::move(defs);
  } else {
    j["AttributeDefinitions"] =
        ojson::array({ojson{{"AttributeName", "key"}, {"AttributeType", "S"}}});
  }
  j["TableName"] = d.table_name;
  j["KeySchema"] = typed ? KeySchemaJson(d.schema) : KeySchema();
  j["TableStatus"] = status;
  j["CreationDateTime"] = IsoTime(d.creation_time_micros);
  if (typed) {
    // On-demand, as far as a client can tell: runnel provisions no capacity.
    j["ProvisionedThroughput"] = {
        {"NumberOfDecreasesToday", 0}, {"ReadCapacityUnits", 0}, {"WriteCapacityUnits", 0}};
  }
  j["TableSizeBytes"] = d.table_size_bytes;
  j["ItemCount"] = d.item_count;
  j["TableArn"] = arn::Table(db.region(), db.account_id(), d.table_name);
  j["TableId"] = std::to_string(d.table_id);
  if (typed) j["BillingModeSummary"] = {{"BillingMode", "PAY_PER_REQUEST"}};
  if (d.stream_specification.stream_enabled) {
    j["StreamSpecification"] = {
        {"StreamEnabled", true},
        {"StreamViewType",
         std::string(StreamViewTypeName(d.stream_specification.stream_view_type))}};
  } else if (!d.latest_stream_arn.empty()) {
    j["StreamSpecification"] = {{"StreamEnabled", false}};
  }
  if (!d.latest_stream_arn.empty()) {
    j["LatestStreamLabel"] = d.latest_stream_label;
    j["LatestStreamArn"] = d.latest_stream_arn;
  }
  return j;
}

ojson StreamDescriptionJson(const StreamDescription& d) {
  ojson range;
  range["StartingSequenceNumber"] = std::to_string(d.starting_sequence);
  if (d.ending_sequence != 0) range["EndingSequenceNumber"] = std::to_string(d.ending_sequence);
  ojson shard;
  shard["ShardId"] = d.shard_id;
  shard["SequenceNumberRange"] = std::move(range);
  ojson j;
  j["StreamArn"] = d.stream_arn;
  j["StreamLabel"] = d.stream_label;
  j["StreamStatus"] = d.stream_status;
  j["StreamViewType"] = std::string(StreamViewTypeName(d.view_type));
  j["CreationRequestDateTime"] = IsoTime(d.creation_request_time_micros);
  j["TableName"] = d.table_name;
  TableSchema keys;
  keys.key_schema = d.key_schema;
  j["KeySchema"] = KeySchemaJson(keys);
  j["Shards"] = ojson::array({shard});
  return j;
}

std::string RegionOfArn(std::string_view stream_arn) {
  arn::StreamArnParts parts;
  return arn::ParseStream(stream_arn, &parts).ok() ? parts.region : std::string();
}

ojson GetRecordsJson(const RecordBatch& batch, bool with_event_source_arn) {
  const std::string region = RegionOfArn(batch.stream_arn());
  ojson records = ojson::array();
  for (const ChangeRecord& rec : batch.records()) {
    ojson r = ojson::parse(RecordToJson(rec, batch.stream_arn(), region));
    if (!with_event_source_arn) r.erase("eventSourceARN");
    records.push_back(std::move(r));
  }
  ojson out;
  out["Records"] = std::move(records);
  if (!batch.next_shard_iterator().empty()) out["NextShardIterator"] = batch.next_shard_iterator();
  return out;
}

ojson FunctionJson(const FunctionConfiguration& f) {
  ojson j;
  j["FunctionName"] = f.function_name;
  j["FunctionArn"] = f.function_arn;
  j["Runtime"] = f.in_process ? "in-process" : "provided.shared-library";
  j["Handler"] = f.handler;
  if (!f.library.empty()) j["Library"] = f.library;
  j["Description"] = f.description;
  j["Timeout"] = f.timeout_seconds;
  // Lambda's own format: milliseconds and "+0000".
  const std::string t = IsoTime(f.last_modified_micros);
  j["LastModified"] = t.substr(0, 23) + "+0000";
  if (!f.code_hash.empty()) j["CodeSha256"] = f.code_hash;
  j["Version"] = "$LATEST";
  if (!f.environment.empty()) {
    ojson vars = ojson::object();
    for (const auto& [k, v] : f.environment) vars[k] = v;
    j["Environment"] = {{"Variables", std::move(vars)}};
  }
  j["State"] = "Active";
  j["PackageType"] = "SharedLibrary";
  // A runnel field beside the cloud's (which always isolates).
  j["RunnelIsolation"] = std::string(FunctionIsolationName(f.isolation));
  return j;
}

ojson MappingMetricsJson(const MappingMetrics& mm, StartingPosition start) {
  ojson j = {{"IteratorAgeMs", mm.iterator_age_ms},
             {"Invocations", mm.invocations},
             {"Errors", mm.errors},
             {"RecordsIn", mm.records_in},
             {"RecordsFailed", mm.records_failed},
             {"RecordsFilteredOut", mm.records_filtered_out},
             {"ConcurrentLanes", mm.concurrent_lanes}};
  if (start == StartingPosition::kSnapshot) {
    j["SnapshotRecords"] = mm.snapshot_records;
    j["SnapshotDone"] = mm.snapshot_done;
    if (mm.snapshot_sequence != 0) {
      j["SnapshotSequenceNumber"] = std::to_string(mm.snapshot_sequence);
    }
  }
  return j;
}

ojson MappingJson(const EventSourceMappingConfiguration& m) {
  ojson j;
  j["UUID"] = m.uuid;
  j["StartingPosition"] = std::string(StartingPositionName(m.starting_position));
  if (m.starting_position == StartingPosition::kAtTimestamp) {
    j["StartingPositionTimestamp"] = IsoTime(m.starting_position_timestamp_micros);
  }
  if (m.starting_position == StartingPosition::kAtSequenceNumber) {
    j["StartingSequenceNumber"] = std::to_string(m.starting_sequence_number);
  }
  j["BatchSize"] = m.batch_size;
  j["MaximumBatchingWindowInSeconds"] = m.maximum_batching_window_seconds;
  j["ParallelizationFactor"] = m.parallelization_factor;
  j["EventSourceArn"] = m.event_source;
  j["FunctionArn"] = m.function_arn;
  j["LastModified"] = IsoTime(m.last_modified_micros);
  j["LastProcessingResult"] = m.last_processing_result;
  j["State"] = std::string(MappingStateName(m.state));
  j["StateTransitionReason"] = m.state_transition_reason;
  ojson on_failure = ojson::object();
  if (!m.on_failure_destination.empty()) on_failure["Destination"] = m.on_failure_destination;
  j["DestinationConfig"] = {{"OnFailure", std::move(on_failure)}};
  j["MaximumRecordAgeInSeconds"] = m.maximum_record_age_seconds;
  j["BisectBatchOnFunctionError"] = m.bisect_batch_on_function_error;
  j["MaximumRetryAttempts"] = m.maximum_retry_attempts;
  j["TumblingWindowInSeconds"] = m.tumbling_window_seconds;
  j["FunctionResponseTypes"] =
      m.report_batch_item_failures ? ojson::array({"ReportBatchItemFailures"}) : ojson::array();
  // The cloud leaves FilterCriteria out of a mapping without filters.
  if (!m.filter_patterns.empty()) {
    ojson filters = ojson::array();
    for (const auto& p : m.filter_patterns) filters.push_back(ojson{{"Pattern", p}});
    j["FilterCriteria"] = {{"Filters", std::move(filters)}};
  }
  return j;
}

Status FilterCriteriaFromJson(const nlohmann::json& criteria, std::vector<std::string>* patterns) {
  patterns->clear();
  if (criteria.is_null()) return Status::OK();
  if (!criteria.is_object()) {
    return Status::InvalidArgument(
        "FilterCriteria: expected an object {\"Filters\":[{\"Pattern\":\"...\"}]}, got " +
        criteria.dump());
  }
  for (const auto& [key, v] : criteria.items()) {
    if (key != "Filters") {
      return Status::InvalidArgument("FilterCriteria: unknown field '" + key +
                                     "'; the only field is Filters");
    }
  }
  if (!criteria.contains("Filters") || criteria["Filters"].is_null()) return Status::OK();
  const nlohmann::json& filters = criteria["Filters"];
  if (!filters.is_array()) {
    return Status::InvalidArgument("FilterCriteria.Filters: expected a list, got " +
                                   filters.dump());
  }
  for (size_t i = 0; i < filters.size(); ++i) {
    const nlohmann::json& f = filters[i];
    const std::string where = "FilterCriteria.Filters[" + std::to_string(i) + "]";
    if (!f.is_object() || f.size() != 1 || !f.contains("Pattern") || !f["Pattern"].is_string()) {
      return Status::InvalidArgument(where + ": expected {\"Pattern\":\"<JSON pattern>\"}, got " +
                                     f.dump());
    }
    patterns->push_back(f["Pattern"].get<std::string>());
  }
  return Status::OK();
}

}  // namespace runnel::cli
