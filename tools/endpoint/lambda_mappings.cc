// Copyright 2026 The runnel Authors.
//
// Event source mappings under /2015-03-31/event-source-mappings/: runnel's
// mappings of a table's stream to a function, in the cloud's shape.

#include <cmath>

#include "tools/endpoint/lambda_internal.h"
#include "tools/json_shapes.h"

namespace runnel::endpoint::lambda {
namespace {

constexpr std::string_view kMappingNotFound = "The resource you requested does not exist.";

// MappingJson, with the cloud's timestamp shape (epoch seconds) and the
// fields it adds for a DynamoDB stream.
ojson MappingConfigJson(const ServiceContext& ctx, const EventSourceMappingConfiguration& m) {
  ojson j = cli::MappingJson(m);
  if (j.contains("StartingPositionTimestamp")) {
    j["StartingPositionTimestamp"] = EpochSeconds(m.starting_position_timestamp_micros);
  }
  j["LastModified"] = EpochSeconds(m.last_modified_micros);
  j["TumblingWindowInSeconds"] = m.tumbling_window_seconds;
  j["EventSourceMappingArn"] =
      "arn:aws:lambda:" + ctx.region + ":" + ctx.account + ":event-source-mapping:" + m.uuid;
  return j;
}

// DestinationConfig.OnFailure.Destination: a table of this DB, by name or
// by its ARN. Returns false if DestinationConfig is absent.
bool ParseDestination(Params& p, std::string* table) {
  const nlohmann::json* d = p.Object("DestinationConfig");
  if (d == nullptr) return false;
  table->clear();
  if (!d->contains("OnFailure") || (*d)["OnFailure"].is_null()) return true;
  const nlohmann::json& of = (*d)["OnFailure"];
  if (!of.is_object() || (of.contains("Destination") && !of["Destination"].is_string() &&
                          !of["Destination"].is_null())) {
    p.Fail(InvalidParameter("DestinationConfig.OnFailure.Destination must be a string"));
    return false;
  }
  std::string dest = of.value("Destination", "");
  if (dest.rfind("arn:", 0) == 0) {
    const size_t t = dest.find(":table/");
    if (t == std::string::npos) {
      p.Fail(InvalidParameter(
          "runnel's on-failure destination is a DynamoDB table of the same DB (a table name or "
          "ARN), got " +
          dest));
      return false;
    }
    dest = dest.substr(t + 7);
    dest = dest.substr(0, dest.find('/'));
  }
  *table = dest;
  return true;
}

// FunctionResponseTypes: [] or ["ReportBatchItemFailures"].
bool ParseResponseTypes(Params& p, const nlohmann::json& body, bool* report) {
  if (!p.Has("FunctionResponseTypes")) return false;
  const nlohmann::json& t = body["FunctionResponseTypes"];
  *report = false;
  if (!t.is_array()) {
    p.Fail(InvalidParameter("FunctionResponseTypes must be a list"));
    return false;
  }
  for (const auto& v : t) {
    if (v != "ReportBatchItemFailures") {
      p.Fail(RestError(400, "ValidationException",
                       "1 validation error detected: Value '" + v.dump() +
                           "' at 'functionResponseTypes' failed to satisfy constraint: Member "
                           "must satisfy enum value set: [ReportBatchItemFailures]"));
      return false;
    }
    *report = true;
  }
  return true;
}

// FilterCriteria's shape (the library checks the patterns themselves when
// the mapping is created or updated). Returns false if it is absent.
bool ParseFilterCriteria(Params& p, const nlohmann::json& body, std::vector<std::string>* out) {
  if (!p.Has("FilterCriteria")) return false;
  Status s = cli::FilterCriteriaFromJson(body["FilterCriteria"], out);
  if (!s.ok()) {
    p.Fail(InvalidParameter(s.message()));
    return false;
  }
  return true;
}

// The fields Create and Update share, into `u`.
void ParseCommon(Params& p, const nlohmann::json& body, EventSourceMappingUpdate* u) {
  if (auto v = p.String("FunctionName")) u->function_name = FunctionNameOf(*v);
  if (auto v = p.Int("BatchSize", 1, 10000)) u->batch_size = static_cast<uint32_t>(*v);
  if (auto v = p.Int("MaximumBatchingWindowInSeconds", 0, 300)) {
    u->maximum_batching_window_seconds = static_cast<uint32_t>(*v);
  }
  if (auto v = p.Bool("Enabled")) u->enabled = *v;
  if (auto v = p.Int("MaximumRetryAttempts", -1, 10000)) {
    u->maximum_retry_attempts = static_cast<int32_t>(*v);
  }
  if (auto v = p.Int("MaximumRecordAgeInSeconds", -1, 604800)) {
    u->maximum_record_age_seconds = static_cast<int32_t>(*v);
  }
  if (auto v = p.Bool("BisectBatchOnFunctionError")) u->bisect_batch_on_function_error = *v;
  if (auto v = p.Int("ParallelizationFactor", 1, 10)) {
    u->parallelization_factor = static_cast<uint32_t>(*v);
  }
  std::string dest;
  if (ParseDestination(p, &dest)) u->on_failure_destination = dest;
  bool report = false;
  if (ParseResponseTypes(p, body, &report)) u->report_batch_item_failures = report;
  std::vector<std::string> patterns;
  if (ParseFilterCriteria(p, body, &patterns)) u->filter_patterns = std::move(patterns);
  if (auto v = p.Int("TumblingWindowInSeconds", 0, 900)) {
    u->tumbling_window_seconds = static_cast<uint32_t>(*v);
  }
}

// StartingPosition and its companions, into m.
void ParseStart(Params& p, EventSourceMappingConfiguration* m) {
  const auto start = p.String("StartingPosition", true);
  const auto ts = p.Number("StartingPositionTimestamp");
  const auto seq = p.String("StartingSequenceNumber");
  if (!p.ok()) return;
  if (!ParseStartingPosition(*start, &m->starting_position)) {
    p.Fail(RestError(400, "ValidationException",
                     "1 validation error detected: Value '" + *start +
                         "' at 'startingPosition' failed to satisfy constraint: Member must "
                         "satisfy enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]"));
    return;
  }
  const bool at_ts = m->starting_position == StartingPosition::kAtTimestamp;
  const bool at_seq = m->starting_position == StartingPosition::kAtSequenceNumber;
  if (at_ts != ts.has_value()) {
    p.Fail(InvalidParameter(at_ts ? "StartingPositionTimestamp is required with AT_TIMESTAMP"
                                  : "StartingPositionTimestamp is only valid with AT_TIMESTAMP"));
  } else if (at_seq != seq.has_value()) {
    p.Fail(InvalidParameter(at_seq ? "StartingSequenceNumber is required with AT_SEQUENCE_NUMBER"
                                   : "StartingSequenceNumber is only valid with "
                                     "AT_SEQUENCE_NUMBER"));
  }
  if (!p.ok()) return;
  if (ts) m->starting_position_timestamp_micros = std::llround(*ts * 1e6);
  if (seq) {
    char* end = nullptr;
    m->starting_sequence_number = std::strtoull(seq->c_str(), &end, 10);
    if (seq->empty() || *end != '\0') p.Fail(InvalidParameter("StartingSequenceNumber: digits"));
  }
}

HttpResponse Create(ServiceContext& ctx, const HttpRequest& request) {
  nlohmann::json body;
  HttpResponse error;
  if (!ParseBody(request, &body, &error)) return error;
  Params p(body);
  p.OnlyServed({"FunctionName", "EventSourceArn", "BatchSize", "MaximumBatchingWindowInSeconds",
                "StartingPosition", "StartingPositionTimestamp", "StartingSequenceNumber",
                "Enabled", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds",
                "BisectBatchOnFunctionError", "DestinationConfig", "FunctionResponseTypes",
                "ParallelizationFactor", "TumblingWindowInSeconds", "FilterCriteria"});
  p.String("FunctionName", true);
  const auto source = p.String("EventSourceArn");
  EventSourceMappingUpdate u;
  EventSourceMappingConfiguration m;
  if (p.ok()) ParseCommon(p, body, &u);
  if (p.ok()) ParseStart(p, &m);
  if (p.ok() && !source) p.Fail(InvalidParameter("Unrecognized event source."));
  if (!p.ok()) return p.error();
  m.function_name = *u.function_name;
  m.event_source = *source;
  m.batch_size = u.batch_size.value_or(m.batch_size);
  m.maximum_batching_window_seconds =
      u.maximum_batching_window_seconds.value_or(m.maximum_batching_window_seconds);
  m.enabled = u.enabled.value_or(true);
  m.maximum_retry_attempts = u.maximum_retry_attempts.value_or(-1);
  m.maximum_record_age_seconds = u.maximum_record_age_seconds.value_or(-1);
  m.bisect_batch_on_function_error = u.bisect_batch_on_function_error.value_or(false);
  m.on_failure_destination = u.on_failure_destination.value_or("");
  m.report_batch_item_failures = u.report_batch_item_failures.value_or(false);
  m.filter_patterns = u.filter_patterns.value_or(std::vector<std::string>());
  m.parallelization_factor = u.parallelization_factor.value_or(1);
  m.tumbling_window_seconds = u.tumbling_window_seconds.value_or(0);
  FunctionConfiguration f;
  if (!IsValidFunctionName(m.function_name) ||
      !ctx.db->triggers()->GetFunction(m.function_name, &f).ok()) {
    return RestError(404, "ResourceNotFoundException",
                     FunctionNotFoundMessage(ctx, m.function_name));
  }
  EventSourceMappingConfiguration created;
  Status s = ctx.db->triggers()->CreateEventSourceMapping(m, &created);
  // The function exists: what is not found is the stream.
  if (s.IsNotFound()) return InvalidParameter("Stream not found: " + m.event_source);
  if (!s.ok()) return ErrorOf(s);
  return JsonResponse(202, MappingConfigJson(ctx, created));
}

HttpResponse List(ServiceContext& ctx, const HttpRequest& request) {
  const auto query = ParseQuery(request.query);
  auto get = [&](const char* k) { return query.count(k) ? query.at(k) : std::string(); };
  size_t max_items = 100;
  if (const std::string v = get("MaxItems"); !v.empty()) {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 10000) {
      return RestError(400, "ValidationException",
                       "1 validation error detected: Value '" + v +
                           "' at 'maxItems' failed to satisfy constraint: Member must have value "
                           "between 1 and 10000");
    }
    max_items = std::min<size_t>(static_cast<size_t>(n), 100);
  }
  const std::string function =
      get("FunctionName").empty() ? "" : FunctionNameOf(get("FunctionName"));
  std::vector<EventSourceMappingConfiguration> mappings;
  std::string next;
  Status s = ctx.db->triggers()->ListEventSourceMappings(
      function, get("EventSourceArn"), get("Marker"), max_items, &mappings, &next);
  if (!s.ok()) return ErrorOf(s);
  ojson list = ojson::array();
  for (const auto& m : mappings) list.push_back(MappingConfigJson(ctx, m));
  ojson out;
  if (!next.empty()) out["NextMarker"] = next;
  out["EventSourceMappings"] = std::move(list);
  return JsonResponse(200, out);
}

HttpResponse Update(ServiceContext& ctx, const std::string& uuid, const HttpRequest& request) {
  nlohmann::json body;
  HttpResponse error;
  if (!ParseBody(request, &body, &error)) return error;
  Params p(body);
  p.OnlyServed({"FunctionName", "BatchSize", "MaximumBatchingWindowInSeconds", "Enabled",
                "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError",
                "DestinationConfig", "FunctionResponseTypes", "ParallelizationFactor",
                "TumblingWindowInSeconds", "FilterCriteria"});
  EventSourceMappingUpdate u;
  ParseCommon(p, body, &u);
  if (!p.ok()) return p.error();
  if (u.function_name) {
    FunctionConfiguration f;
    if (!IsValidFunctionName(*u.function_name) ||
        !ctx.db->triggers()->GetFunction(*u.function_name, &f).ok()) {
      return RestError(404, "ResourceNotFoundException",
                       FunctionNotFoundMessage(ctx, *u.function_name));
    }
  }
  EventSourceMappingConfiguration updated;
  Status s = ctx.db->triggers()->UpdateEventSourceMapping(uuid, u, &updated);
  if (!s.ok()) return ErrorOf(s, kMappingNotFound);
  return JsonResponse(202, MappingConfigJson(ctx, updated));
}

}  // namespace

HttpResponse ServeMappings(ServiceContext& ctx, std::string_view rest, const HttpRequest& request) {
  const std::string& m = request.method;
  if (rest.empty() || rest == "/") {
    if (m == "POST") return Create(ctx, request);
    if (m == "GET") return List(ctx, request);
  } else if (rest[0] == '/' && rest.find('/', 1) == std::string_view::npos) {
    const std::string uuid = UrlDecode(rest.substr(1), false);
    EventSourceMappingConfiguration c;
    if (m == "GET") {
      Status s = ctx.db->triggers()->GetEventSourceMapping(uuid, &c);
      if (!s.ok()) return ErrorOf(s, kMappingNotFound);
      ojson j = MappingConfigJson(ctx, c);
      MappingMetrics mm;
      if (ctx.db->triggers()->GetMappingMetrics(uuid, &mm).ok()) {
        // runnel's figures beside the cloud's fields (AWS clients ignore a
        // member they do not know).
        j["RunnelMetrics"] = cli::MappingMetricsJson(mm, c.starting_position);
      }
      return JsonResponse(200, j);
    }
    if (m == "PUT") return Update(ctx, uuid, request);
    if (m == "DELETE") {
      Status s = ctx.db->triggers()->DeleteEventSourceMapping(uuid, &c);
      if (!s.ok()) return ErrorOf(s, kMappingNotFound);
      return JsonResponse(202, MappingConfigJson(ctx, c));
    }
  }
  return RestError(404, "UnknownOperationException",
                   "Operation not served: " + request.method + " " + request.path);
}

}  // namespace runnel::endpoint::lambda
