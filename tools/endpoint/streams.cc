// Copyright 2026 The runnel Authors.
//
// DynamoDB Streams over JSON 1.0 (DynamoDBStreams_20120810.<Op>): request
// JSON -> runnel's StreamReader (DB::streams()) -> the cloud's response JSON.
// The shapes come from tools/json_shapes (shared with the `runnel` CLI);
// this file adds only what differs on the wire: timestamps as epoch seconds,
// paging, and the cloud's parameter checks and error types.

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runnel/stream.h"
#include "tools/endpoint/endpoint.h"
#include "tools/json_shapes.h"
#include "util/numbers.h"

namespace runnel::endpoint {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::string_view kErrorPrefix = "com.amazonaws.dynamodb.v20120810";
constexpr std::string_view kCoralPrefix = "com.amazon.coral.service";

// A parameter check that failed: the response to send.
struct Failure {
  HttpResponse response;
};

Failure Validation(const std::string& message) {
  return {JsonError(400, kErrorPrefix, "ValidationException", message)};
}

Failure Serialization(const std::string& message) {
  return {JsonError(400, kCoralPrefix, "SerializationException", message)};
}

// The cloud's wording for a constraint on a member ("at 'streamArn'").
Failure Constraint(const std::string& value, const char* member, const std::string& rule) {
  throw Validation("1 validation error detected: Value " + value + " at '" + member +
                   "' failed to satisfy constraint: Member must " + rule);
}

// The request's members. Each getter throws Failure for a member of the
// wrong JSON type or outside the cloud's constraints.
class Params {
 public:
  explicit Params(const json& body) : body_(body) {}

  // `member` is the wire name ("StreamArn"); `camel` the cloud's name for
  // it in validation messages ("streamArn").
  std::optional<std::string> String(const char* member, const char* camel, size_t min_len,
                                    size_t max_len, bool required) const {
    auto it = body_.find(member);
    if (it == body_.end() || it->is_null()) {
      if (required) throw Constraint("null", camel, "not be null");
      return std::nullopt;
    }
    if (!it->is_string()) {
      throw Serialization(std::string("Unexpected value type for ") + member +
                          ": expected a string");
    }
    std::string v = it->get<std::string>();
    if (v.size() < min_len) {
      throw Constraint("'" + v + "'", camel,
                       "have length greater than or equal to " + std::to_string(min_len));
    }
    if (v.size() > max_len) {
      throw Constraint("'" + v + "'", camel,
                       "have length less than or equal to " + std::to_string(max_len));
    }
    return v;
  }

  // An integer member in [min, max]; `fallback` if absent.
  int64_t Int(const char* member, const char* camel, int64_t min, int64_t max,
              int64_t fallback) const {
    auto it = body_.find(member);
    if (it == body_.end() || it->is_null()) return fallback;
    if (!it->is_number_integer() && !it->is_number_unsigned()) {
      throw Serialization(std::string("Unexpected value type for ") + member +
                          ": expected an integer");
    }
    const int64_t v = it->is_number_unsigned() && it->get<uint64_t>() > uint64_t{INT64_MAX}
                          ? INT64_MAX
                          : it->get<int64_t>();
    if (v < min) {
      throw Constraint("'" + std::to_string(v) + "'", camel,
                       "have value greater than or equal to " + std::to_string(min));
    }
    if (v > max) {
      throw Constraint("'" + std::to_string(v) + "'", camel,
                       "have value less than or equal to " + std::to_string(max));
    }
    return v;
  }

 private:
  const json& body_;
};

// A library error as the cloud's exception.
HttpResponse FromStatus(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound:
      return JsonError(400, kErrorPrefix, "ResourceNotFoundException",
                       "Requested resource not found: " + s.message());
    case Status::Code::kInvalidArgument:
      return JsonError(400, kErrorPrefix, "ValidationException", s.message());
    case Status::Code::kTrimmed:
      return JsonError(400, kErrorPrefix, "TrimmedDataAccessException", s.message());
    case Status::Code::kBusy:
      return JsonError(400, kErrorPrefix, "LimitExceededException", s.message());
    default:
      return JsonError(500, kErrorPrefix, "InternalServerError", s.ToString());
  }
}

HttpResponse Ok(const ojson& body) {
  HttpResponse r;
  r.headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

// JSON 1.0 timestamps are epoch seconds (numbers), not the CLI's ISO text.
double EpochSeconds(int64_t micros) { return static_cast<double>(micros / 1000) / 1000.0; }

HttpResponse ListStreams(DB& db, const Params& p) {
  const std::optional<std::string> table = p.String("TableName", "tableName", 3, 255, false);
  const int64_t limit = p.Int("Limit", "limit", 1, 100, 100);
  const std::optional<std::string> start =
      p.String("ExclusiveStartStreamArn", "exclusiveStartStreamArn", 37, 1024, false);
  std::vector<StreamInfo> streams;
  Status s = db.streams()->ListStreams(table.value_or(""), &streams);
  if (s.IsNotFound()) {
    return JsonError(400, kErrorPrefix, "ResourceNotFoundException",
                     "Requested resource not found: Table: " + *table + " not found");
  }
  if (!s.ok()) return FromStatus(s);
  size_t first = 0;
  if (start) {
    while (first < streams.size() && streams[first].arn != *start) ++first;
    if (first == streams.size()) {
      throw Validation("ExclusiveStartStreamArn: " + *start + " is not a stream of this listing");
    }
    ++first;
  }
  ojson list = ojson::array();
  size_t i = first;
  for (; i < streams.size() && list.size() < static_cast<size_t>(limit); ++i) {
    list.push_back({{"StreamArn", streams[i].arn},
                    {"TableName", streams[i].table_name},
                    {"StreamLabel", streams[i].label}});
  }
  ojson out;
  out["Streams"] = std::move(list);
  if (i < streams.size()) out["LastEvaluatedStreamArn"] = streams[i - 1].arn;
  return Ok(out);
}

HttpResponse DescribeStream(DB& db, const Params& p) {
  const std::string arn = *p.String("StreamArn", "streamArn", 37, 1024, true);
  const int64_t limit = p.Int("Limit", "limit", 1, 100, 100);
  const std::optional<std::string> start =
      p.String("ExclusiveStartShardId", "exclusiveStartShardId", 28, 65, false);
  StreamDescription d;
  Status s = db.streams()->DescribeStream(arn, &d);
  if (!s.ok()) return FromStatus(s);
  ojson desc = cli::StreamDescriptionJson(d);
  desc["CreationRequestDateTime"] = EpochSeconds(d.creation_request_time_micros);
  // Shards after ExclusiveStartShardId, in ShardId order, as the cloud
  // pages them. A stream has one shard, so a page of `limit` >= 1 ends it.
  ojson shards = ojson::array();
  for (const auto& shard : desc["Shards"]) {
    if (start && shard["ShardId"].get<std::string>() <= *start) continue;
    if (shards.size() < static_cast<size_t>(limit)) shards.push_back(shard);
  }
  desc["Shards"] = std::move(shards);
  return Ok({{"StreamDescription", std::move(desc)}});
}

HttpResponse GetShardIterator(DB& db, const Params& p) {
  ShardIteratorRequest req;
  req.stream_arn = *p.String("StreamArn", "streamArn", 37, 1024, true);
  req.shard_id = *p.String("ShardId", "shardId", 28, 65, true);
  const std::string type = *p.String("ShardIteratorType", "shardIteratorType", 0, 64, true);
  // AT_TIMESTAMP is runnel's own (the CLI has it); the wire keeps the cloud's set.
  if (!ParseShardIteratorType(type, &req.type) || req.type == ShardIteratorType::kAtTimestamp) {
    throw Constraint("'" + type + "'", "shardIteratorType",
                     "satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, "
                     "AT_SEQUENCE_NUMBER, TRIM_HORIZON]");
  }
  const std::optional<std::string> seq = p.String("SequenceNumber", "sequenceNumber", 1, 40, false);
  if (req.type == ShardIteratorType::kAtSequenceNumber ||
      req.type == ShardIteratorType::kAfterSequenceNumber) {
    if (!seq) throw Validation("A SequenceNumber is required for ShardIteratorType " + type);
    if (!ParseUint64(*seq, &req.sequence_number)) {
      throw Validation("Invalid SequenceNumber: '" + *seq + "' is not a sequence number");
    }
  }
  std::string iterator;
  Status s = db.streams()->GetShardIterator(req, &iterator);
  if (!s.ok()) return FromStatus(s);
  return Ok({{"ShardIterator", iterator}});
}

HttpResponse GetRecords(DB& db, const Params& p) {
  const std::string iterator = *p.String("ShardIterator", "shardIterator", 1, 2048, true);
  GetRecordsOptions o;
  o.limit = static_cast<size_t>(p.Int("Limit", "limit", 1, 1000, 1000));
  // GetRecords reads what the log holds and returns, never waiting for new
  // records (that is WaitForRecords): a caught-up reader gets [] at once.
  RecordBatch batch;
  Status s = db.streams()->GetRecords(iterator, o, &batch);
  if (s.IsInvalidArgument()) {
    throw Validation("Invalid ShardIterator: " + s.message());
  }
  if (!s.ok()) return FromStatus(s);
  ojson out = cli::GetRecordsJson(batch, /*with_event_source_arn=*/false);
  for (auto& r : out["Records"]) {
    // The cloud rounds down to the second.
    auto& t = r["dynamodb"]["ApproximateCreationDateTime"];
    t = std::floor(t.get<double>());
  }
  return Ok(out);
}

}  // namespace

HttpResponse ServeStreams(ServiceContext& ctx, std::string_view op, const HttpRequest& request) {
  using Handler = HttpResponse (*)(DB&, const Params&);
  Handler handler = nullptr;
  if (op == "ListStreams") handler = ListStreams;
  if (op == "DescribeStream") handler = DescribeStream;
  if (op == "GetShardIterator") handler = GetShardIterator;
  if (op == "GetRecords") handler = GetRecords;
  if (handler == nullptr) {
    return JsonError(400, kCoralPrefix, "UnknownOperationException",
                     "Unknown operation: DynamoDBStreams_20120810." + std::string(op));
  }
  if (ctx.db == nullptr) {
    return JsonError(500, kErrorPrefix, "InternalServerError", "no DB is open");
  }
  const json body = json::parse(request.body.empty() ? std::string("{}") : request.body, nullptr,
                                /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return Serialization("Request body is not a JSON object").response;
  }
  try {
    return handler(*ctx.db, Params(body));
  } catch (const Failure& f) {
    return f.response;
  } catch (const std::exception& e) {
    return JsonError(500, kErrorPrefix, "InternalServerError", e.what());
  }
}

}  // namespace runnel::endpoint
