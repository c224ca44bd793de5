// Copyright 2026 The runnel Authors.
//
// DynamoDB Streams over the wire (tools/endpoint/streams.cc): requests as
// boto3 sends them, through Dispatch, against a real DB in a temp dir; the
// assertions are on the response JSON and the error __type a client sees.

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/testutil.h"
#include "tools/endpoint/endpoint.h"

namespace runnel {
namespace {

using json = nlohmann::json;
using endpoint::HttpRequest;
using endpoint::HttpResponse;

const std::string kPrefix = "com.amazonaws.dynamodb.v20120810#";

Item ItemOf(const std::string& j) {
  Item item;
  EXPECT_OK(ItemFromJson(j, &item));
  return item;
}

class EndpointStreams : public ::testing::Test {
 protected:
  void SetUp() override { Open(Options()); }
  void Open(const Options& o) {
    if (db_) ASSERT_OK(db_->Close());
    db_.reset();
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
    ctx_.db = db_.get();
  }

  // POST / with X-Amz-Target: DynamoDBStreams_20120810.<op>, as boto3 sends it.
  HttpResponse Call(const std::string& op, const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/";
    r.headers = {{"host", "localhost:8000"},
                 {"x-amz-target", "DynamoDBStreams_20120810." + op},
                 {"content-type", "application/x-amz-json-1.0"}};
    r.body = body;
    return endpoint::Dispatch(ctx_, r);
  }
  // The response JSON of a call that must succeed.
  json Ok(const std::string& op, const json& body) {
    HttpResponse r = Call(op, body.dump());
    EXPECT_EQ(r.status, 200) << op << " " << body.dump() << " -> " << r.body;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.body;
    return j;
  }
  // The __type (without its prefix) of a call that must fail with 400.
  std::string ErrorType(const std::string& op, const std::string& body,
                        std::string* message = nullptr) {
    HttpResponse r = Call(op, body);
    EXPECT_EQ(r.status, 400) << op << " " << body << " -> " << r.body;
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("__type")) return "no __type: " + r.body;
    if (message != nullptr) *message = j.value("message", "");
    const std::string type = j["__type"];
    const std::string name = type.substr(type.find('#') + 1);
    if (name != "SerializationException") {
      EXPECT_EQ(type, kPrefix + name);
    }
    return name;
  }

  void CreateTypedTable(const std::string& name, StreamViewType view) {
    TableSchema schema;
    schema.key_schema = {{"Artist", KeyType::kHash}, {"SongTitle", KeyType::kRange}};
    schema.attribute_definitions = {{"Artist", ScalarAttributeType::kS},
                                    {"SongTitle", ScalarAttributeType::kS}};
    ASSERT_OK(db_->CreateTable(name, test::Stream(view), schema));
  }
  std::string LatestArn(const std::string& table) {
    TableDescription d;
    EXPECT_OK(db_->DescribeTable(table, &d));
    return d.latest_stream_arn;
  }
  std::string ShardId(const std::string& arn) {
    return Ok("DescribeStream", {{"StreamArn", arn}})["StreamDescription"]["Shards"][0]["ShardId"];
  }
  std::string Iterator(const std::string& arn, const std::string& type,
                       const std::string& seq = "") {
    json body = {{"StreamArn", arn}, {"ShardId", ShardId(arn)}, {"ShardIteratorType", type}};
    if (!seq.empty()) body["SequenceNumber"] = seq;
    return Ok("GetShardIterator", body)["ShardIterator"];
  }
  void Put(const std::string& table, const std::string& item) {
    PutItemRequest p;
    p.table_name = table;
    p.item = ItemOf(item);
    ASSERT_OK(db_->PutItem(p, nullptr));
  }

  test::TempDir dir_;
  std::unique_ptr<DB> db_;
  endpoint::ServiceContext ctx_;
};

TEST_F(EndpointStreams, ListStreamsFiltersAndPages) {
  CreateTypedTable("Music", StreamViewType::kNewAndOldImages);
  ASSERT_OK(db_->CreateTable("Audit", test::Stream(StreamViewType::kKeysOnly)));
  ASSERT_OK(db_->CreateTable("Plain", StreamSpecification()));
  const std::string first_music = LatestArn("Music");
  // Disabling and re-enabling makes a second stream of Music.
  ASSERT_OK(db_->UpdateTable("Music", StreamSpecification()));
  ASSERT_OK(db_->UpdateTable("Music", test::Stream(StreamViewType::kNewImage)));
  const std::string second_music = LatestArn("Music");
  ASSERT_NE(first_music, second_music);

  json all = Ok("ListStreams", json::object());
  ASSERT_EQ(all["Streams"].size(), 3u) << all;
  EXPECT_FALSE(all.contains("LastEvaluatedStreamArn"));
  for (const auto& s : all["Streams"]) {
    EXPECT_EQ(s.size(), 3u) << s;  // StreamArn, TableName, StreamLabel
    const std::string arn = s["StreamArn"];
    EXPECT_EQ(arn, "arn:aws:dynamodb:us-east-1:000000000000:table/" +
                       s["TableName"].get<std::string>() + "/stream/" +
                       s["StreamLabel"].get<std::string>());
  }
  json music = Ok("ListStreams", {{"TableName", "Music"}});
  ASSERT_EQ(music["Streams"].size(), 2u) << music;
  EXPECT_EQ(Ok("ListStreams", {{"TableName", "Plain"}})["Streams"], json::array());

  // Pages of one, as boto3's paginator walks them.
  std::vector<std::string> seen;
  json req = {{"Limit", 1}};
  for (int page = 0; page < 10; ++page) {
    json r = Ok("ListStreams", req);
    ASSERT_EQ(r["Streams"].size(), 1u) << r;
    seen.push_back(r["Streams"][0]["StreamArn"]);
    if (!r.contains("LastEvaluatedStreamArn")) break;
    EXPECT_EQ(r["LastEvaluatedStreamArn"], seen.back());
    req["ExclusiveStartStreamArn"] = r["LastEvaluatedStreamArn"];
  }
  ASSERT_EQ(seen.size(), 3u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], all["Streams"][i]["StreamArn"]);

  std::string message;
  EXPECT_EQ(ErrorType("ListStreams", R"({"TableName":"Nope"})", &message),
            "ResourceNotFoundException");
  EXPECT_NE(message.find("Table: Nope not found"), std::string::npos) << message;
  EXPECT_EQ(ErrorType("ListStreams", R"({"Limit":0})", &message), "ValidationException");
  EXPECT_NE(message.find("at 'limit' failed to satisfy constraint"), std::string::npos);
  EXPECT_EQ(ErrorType("ListStreams", R"({"Limit":101})"), "ValidationException");
  EXPECT_EQ(ErrorType("ListStreams", R"({"TableName":"ab"})"), "ValidationException");
  EXPECT_EQ(ErrorType("ListStreams", R"({"Limit":"5"})"), "SerializationException");
  EXPECT_EQ(ErrorType("ListStreams", "{not json"), "SerializationException");
}

TEST_F(EndpointStreams, DescribeStreamOfATypedTable) {
  CreateTypedTable("Music", StreamViewType::kNewAndOldImages);
  const std::string arn = LatestArn("Music");
  json d = Ok("DescribeStream", {{"StreamArn", arn}})["StreamDescription"];
  EXPECT_EQ(d["StreamArn"], arn);
  EXPECT_EQ(arn, "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/" +
                     d["StreamLabel"].get<std::string>());
  EXPECT_EQ(d["StreamStatus"], "ENABLED");
  EXPECT_EQ(d["StreamViewType"], "NEW_AND_OLD_IMAGES");
  EXPECT_EQ(d["TableName"], "Music");
  // The table's key schema, not runnel's byte-table "key".
  EXPECT_EQ(d["KeySchema"], json::parse(R"([{"AttributeName":"Artist","KeyType":"HASH"},
                                            {"AttributeName":"SongTitle","KeyType":"RANGE"}])"));
  // JSON 1.0 timestamps are epoch seconds.
  ASSERT_TRUE(d["CreationRequestDateTime"].is_number()) << d;
  const double created = d["CreationRequestDateTime"];
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(created, now, 60.0);
  ASSERT_EQ(d["Shards"].size(), 1u);
  const json shard = d["Shards"][0];
  EXPECT_EQ(shard["ShardId"].get<std::string>().substr(0, 8), "shardId-");
  EXPECT_TRUE(shard["SequenceNumberRange"].contains("StartingSequenceNumber"));
  EXPECT_FALSE(shard["SequenceNumberRange"].contains("EndingSequenceNumber"));
  EXPECT_FALSE(shard.contains("ParentShardId"));
  EXPECT_FALSE(d.contains("LastEvaluatedShardId"));

  // Paging shards: after the only shard there is none.
  json after = Ok("DescribeStream",
                  {{"StreamArn", arn}, {"Limit", 1}, {"ExclusiveStartShardId", shard["ShardId"]}});
  EXPECT_EQ(after["StreamDescription"]["Shards"], json::array()) << after;
  EXPECT_FALSE(after["StreamDescription"].contains("LastEvaluatedShardId"));

  // A byte table's stream: runnel's key attribute.
  ASSERT_OK(db_->CreateTable("Bytes", test::Stream(StreamViewType::kKeysOnly)));
  d = Ok("DescribeStream", {{"StreamArn", LatestArn("Bytes")}})["StreamDescription"];
  EXPECT_EQ(d["KeySchema"], json::parse(R"([{"AttributeName":"key","KeyType":"HASH"}])"));

  // Closed: DISABLED, with an ending sequence number.
  Put("Music", R"({"Artist":{"S":"a"},"SongTitle":{"S":"t"}})");
  ASSERT_OK(db_->UpdateTable("Music", StreamSpecification()));
  d = Ok("DescribeStream", {{"StreamArn", arn}})["StreamDescription"];
  EXPECT_EQ(d["StreamStatus"], "DISABLED");
  EXPECT_TRUE(d["Shards"][0]["SequenceNumberRange"].contains("EndingSequenceNumber")) << d;

  std::string message;
  EXPECT_EQ(ErrorType("DescribeStream", "{}", &message), "ValidationException");
  EXPECT_NE(message.find("Value null at 'streamArn'"), std::string::npos) << message;
  const std::string other_region = "arn:aws:dynamodb:eu-west-1:000000000000:table/Music/stream/" +
                                   d["StreamLabel"].get<std::string>();
  EXPECT_EQ(ErrorType("DescribeStream", json{{"StreamArn", other_region}}.dump()),
            "ResourceNotFoundException");
  EXPECT_EQ(ErrorType("DescribeStream", json{{"StreamArn",
                                              "arn:aws:dynamodb:us-east-1:000000000000:table/Music/"
                                              "stream/2000-01-01T00:00:00.000"}}
                                            .dump()),
            "ResourceNotFoundException");
  EXPECT_EQ(
      ErrorType(
          "DescribeStream",
          json{{"StreamArn", "arn:runnel:db:table/Music/stream/2000-01-01T00:00:00.000"}}.dump(),
          &message),
      "ValidationException");
  EXPECT_NE(message.find("Invalid StreamArn"), std::string::npos) << message;
  EXPECT_EQ(ErrorType("DescribeStream", json{{"StreamArn", arn}, {"Limit", 0}}.dump()),
            "ValidationException");
}

TEST_F(EndpointStreams, GetRecordsInTheCloudsShape) {
  CreateTypedTable("Music", StreamViewType::kNewAndOldImages);
  const std::string arn = LatestArn("Music");
  Put("Music", R"({"Artist":{"S":"No One"},"SongTitle":{"S":"Call Me"},"Plays":{"N":"1"}})");
  Put("Music", R"({"Artist":{"S":"No One"},"SongTitle":{"S":"Call Me"},"Plays":{"N":"2"}})");
  DeleteItemRequest del;
  del.table_name = "Music";
  del.key = ItemOf(R"({"Artist":{"S":"No One"},"SongTitle":{"S":"Call Me"}})");
  ASSERT_OK(db_->DeleteItem(del, nullptr));

  json r = Ok("GetRecords", {{"ShardIterator", Iterator(arn, "TRIM_HORIZON")}});
  ASSERT_EQ(r["Records"].size(), 3u) << r;
  ASSERT_TRUE(r.contains("NextShardIterator"));
  const json keys = json::parse(R"({"Artist":{"S":"No One"},"SongTitle":{"S":"Call Me"}})");
  const json v1 =
      json::parse(R"({"Artist":{"S":"No One"},"SongTitle":{"S":"Call Me"},"Plays":{"N":"1"}})");
  const json v2 =
      json::parse(R"({"Artist":{"S":"No One"},"SongTitle":{"S":"Call Me"},"Plays":{"N":"2"}})");
  const char* names[] = {"INSERT", "MODIFY", "REMOVE"};
  uint64_t last_seq = 0;
  for (int i = 0; i < 3; ++i) {
    const json& rec = r["Records"][i];
    EXPECT_EQ(rec["eventName"], names[i]);
    EXPECT_EQ(rec["eventVersion"], "1.1");
    EXPECT_EQ(rec["eventSource"], "aws:dynamodb");
    EXPECT_EQ(rec["awsRegion"], "us-east-1");
    EXPECT_EQ(rec["eventID"].get<std::string>().size(), 32u);
    // GetRecords' records carry no eventSourceARN (Lambda events do).
    EXPECT_FALSE(rec.contains("eventSourceARN")) << rec;
    EXPECT_FALSE(rec.contains("userIdentity")) << rec;
    const json& ddb = rec["dynamodb"];
    const double t = ddb["ApproximateCreationDateTime"];
    EXPECT_EQ(t, std::floor(t)) << "rounded down to the second";
    EXPECT_EQ(ddb["Keys"], keys);
    EXPECT_EQ(ddb["StreamViewType"], "NEW_AND_OLD_IMAGES");
    EXPECT_GT(ddb["SizeBytes"].get<int>(), 0);
    const uint64_t seq = std::stoull(ddb["SequenceNumber"].get<std::string>());
    EXPECT_GT(seq, last_seq);
    last_seq = seq;
  }
  EXPECT_EQ(r["Records"][0]["dynamodb"]["NewImage"], v1);
  EXPECT_FALSE(r["Records"][0]["dynamodb"].contains("OldImage"));
  EXPECT_EQ(r["Records"][1]["dynamodb"]["OldImage"], v1);
  EXPECT_EQ(r["Records"][1]["dynamodb"]["NewImage"], v2);
  EXPECT_EQ(r["Records"][2]["dynamodb"]["OldImage"], v2);
  EXPECT_FALSE(r["Records"][2]["dynamodb"].contains("NewImage"));
  // Field order as the cloud prints it (json sorts keys: read the raw body).
  const std::string raw =
      Call("GetRecords", json{{"ShardIterator", Iterator(arn, "TRIM_HORIZON")}}.dump()).body;
  EXPECT_LT(raw.find("\"eventID\""), raw.find("\"eventName\""));
  EXPECT_LT(raw.find("\"ApproximateCreationDateTime\""), raw.find("\"Keys\""));
  EXPECT_LT(raw.find("\"Keys\""), raw.find("\"SequenceNumber\""));

  // Caught up: an empty page at once, and an iterator that continues.
  const auto start = std::chrono::steady_clock::now();
  json next = Ok("GetRecords", {{"ShardIterator", r["NextShardIterator"]}});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(next["Records"], json::array());
  ASSERT_TRUE(next.contains("NextShardIterator"));
  Put("Music", R"({"Artist":{"S":"B"},"SongTitle":{"S":"T"}})");
  next = Ok("GetRecords", {{"ShardIterator", next["NextShardIterator"]}});
  ASSERT_EQ(next["Records"].size(), 1u) << next;
  EXPECT_EQ(next["Records"][0]["eventName"], "INSERT");

  // A closed stream read to its end has no NextShardIterator.
  ASSERT_OK(db_->UpdateTable("Music", StreamSpecification()));
  json closed = Ok("GetRecords", {{"ShardIterator", next["NextShardIterator"]}});
  EXPECT_EQ(closed["Records"], json::array());
  EXPECT_FALSE(closed.contains("NextShardIterator")) << closed;
}

TEST_F(EndpointStreams, IteratorTypesAndLimits) {
  ASSERT_OK(db_->CreateTable("Music", test::Stream(StreamViewType::kKeysOnly)));
  const std::string arn = LatestArn("Music");
  const std::string latest = Iterator(arn, "LATEST");
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "Music", "k" + std::to_string(i), "v"));
  }
  json all = Ok("GetRecords", {{"ShardIterator", Iterator(arn, "TRIM_HORIZON")}});
  ASSERT_EQ(all["Records"].size(), 5u);
  auto seq = [&](int i) {
    return all["Records"][i]["dynamodb"]["SequenceNumber"].get<std::string>();
  };
  auto first_key = [](const json& page) {
    return page["Records"][0]["dynamodb"]["Keys"]["key"]["S"].get<std::string>();
  };
  EXPECT_EQ(Ok("GetRecords", {{"ShardIterator", latest}})["Records"].size(), 5u);
  EXPECT_EQ(Ok("GetRecords", {{"ShardIterator", Iterator(arn, "LATEST")}})["Records"],
            json::array());
  json at = Ok("GetRecords", {{"ShardIterator", Iterator(arn, "AT_SEQUENCE_NUMBER", seq(2))}});
  EXPECT_EQ(at["Records"].size(), 3u);
  EXPECT_EQ(first_key(at), "k2");
  json after =
      Ok("GetRecords", {{"ShardIterator", Iterator(arn, "AFTER_SEQUENCE_NUMBER", seq(2))}});
  EXPECT_EQ(after["Records"].size(), 2u);
  EXPECT_EQ(first_key(after), "k3");

  // Limit pages the records.
  json page = Ok("GetRecords", {{"ShardIterator", Iterator(arn, "TRIM_HORIZON")}, {"Limit", 2}});
  ASSERT_EQ(page["Records"].size(), 2u);
  page = Ok("GetRecords", {{"ShardIterator", page["NextShardIterator"]}, {"Limit", 1000}});
  ASSERT_EQ(page["Records"].size(), 3u);
  EXPECT_EQ(first_key(page), "k2");

  const std::string it = Iterator(arn, "TRIM_HORIZON");
  const std::string shard = ShardId(arn);
  std::string message;
  EXPECT_EQ(ErrorType("GetRecords", json{{"ShardIterator", it}, {"Limit", 1001}}.dump(), &message),
            "ValidationException");
  EXPECT_NE(message.find("less than or equal to 1000"), std::string::npos) << message;
  EXPECT_EQ(ErrorType("GetRecords", json{{"ShardIterator", it}, {"Limit", 0}}.dump()),
            "ValidationException");
  EXPECT_EQ(ErrorType("GetRecords", "{}"), "ValidationException");
  EXPECT_EQ(ErrorType("GetRecords", R"({"ShardIterator":"bm90IGFuIGl0ZXJhdG9y"})", &message),
            "ValidationException");
  EXPECT_NE(message.find("Invalid ShardIterator"), std::string::npos) << message;
  for (const char* type : {"AT_TIMESTAMP", "BOGUS", "latest"}) {
    EXPECT_EQ(
        ErrorType("GetShardIterator",
                  json{{"StreamArn", arn}, {"ShardId", shard}, {"ShardIteratorType", type}}.dump(),
                  &message),
        "ValidationException")
        << type;
    EXPECT_NE(message.find("enum value set"), std::string::npos) << message;
  }
  EXPECT_EQ(ErrorType("GetShardIterator", json{{"StreamArn", arn},
                                               {"ShardId", shard},
                                               {"ShardIteratorType", "AT_SEQUENCE_NUMBER"}}
                                              .dump()),
            "ValidationException");
  EXPECT_EQ(ErrorType("GetShardIterator", json{{"StreamArn", arn},
                                               {"ShardId", shard},
                                               {"ShardIteratorType", "AFTER_SEQUENCE_NUMBER"},
                                               {"SequenceNumber", "12x"}}
                                              .dump()),
            "ValidationException");
  EXPECT_EQ(ErrorType("GetShardIterator",
                      json{{"StreamArn", arn}, {"ShardIteratorType", "LATEST"}}.dump(), &message),
            "ValidationException");
  EXPECT_NE(message.find("'shardId'"), std::string::npos) << message;
  EXPECT_EQ(ErrorType("GetShardIterator", json{{"StreamArn", arn},
                                               {"ShardId", "shardId-00000000000000000000-00000001"},
                                               {"ShardIteratorType", "LATEST"}}
                                              .dump()),
            "ResourceNotFoundException");
}

TEST_F(EndpointStreams, TrimmedPositionsAndTimeToLiveDeletes) {
  Options o;
  o.segment_bytes = 64 << 10;
  o.write_buffer_bytes = 64 << 10;
  o.retention_seconds = 0;
  o.max_log_bytes = 200 << 10;
  Open(o);
  ASSERT_OK(db_->CreateTable("tbl", test::Stream(StreamViewType::kNewImage)));
  const std::string arn = LatestArn("tbl");
  const std::string old_it = Iterator(arn, "TRIM_HORIZON");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "tbl", "k" + std::to_string(i % 50),
                       std::string(900, static_cast<char>('a' + i % 26))));
  }
  ASSERT_OK(db_->RunRetention(nullptr));
  const SequenceNumber first = db_->FirstAvailableSequence();
  ASSERT_GT(first, 2u);
  EXPECT_EQ(ErrorType("GetRecords", json{{"ShardIterator", old_it}}.dump()),
            "TrimmedDataAccessException");
  EXPECT_EQ(ErrorType("GetShardIterator", json{{"StreamArn", arn},
                                               {"ShardId", ShardId(arn)},
                                               {"ShardIteratorType", "AT_SEQUENCE_NUMBER"},
                                               {"SequenceNumber", std::to_string(first - 1)}}
                                              .dump()),
            "TrimmedDataAccessException");

  // A deletion by time to live names its principal.
  CreateTypedTable("Music", StreamViewType::kOldImage);
  ASSERT_OK(db_->UpdateTimeToLive("Music", {true, "expires"}));
  // An hour ago (the cloud ignores expiry times more than five years old).
  const std::string expires =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() -
                     3600);
  Put("Music",
      R"({"Artist":{"S":"a"},"SongTitle":{"S":"t"},"expires":{"N":")" + expires + R"("}})");
  uint64_t deleted = 0;
  ASSERT_OK(db_->RunTimeToLive(&deleted));
  ASSERT_EQ(deleted, 1u);
  json r = Ok("GetRecords", {{"ShardIterator", Iterator(LatestArn("Music"), "TRIM_HORIZON")}});
  ASSERT_EQ(r["Records"].size(), 2u) << r;
  EXPECT_FALSE(r["Records"][0].contains("userIdentity"));
  EXPECT_EQ(r["Records"][1]["eventName"], "REMOVE");
  EXPECT_EQ(r["Records"][1]["userIdentity"],
            json::parse(R"({"type":"Service","principalId":"dynamodb.amazonaws.com"})"));
  EXPECT_EQ(r["Records"][1]["dynamodb"]["OldImage"]["expires"], (json{{"N", expires}}));
}

TEST_F(EndpointStreams, RegionAndAccountOfTheDb) {
  Options o;
  o.region = "eu-west-1";
  o.account_id = "123456789012";
  ASSERT_OK(DB::Open(o, dir_.Sub("eu"), &db_));
  ctx_.db = db_.get();
  ASSERT_OK(db_->CreateTable("Music", test::Stream(StreamViewType::kNewImage)));
  ASSERT_OK(db_->Put(WriteOptions(), "Music", "k", "v"));
  json s = Ok("ListStreams", json::object());
  ASSERT_EQ(s["Streams"].size(), 1u);
  const std::string arn = s["Streams"][0]["StreamArn"];
  EXPECT_EQ(arn.substr(0, 54), "arn:aws:dynamodb:eu-west-1:123456789012:table/Music/st");
  json r = Ok("GetRecords", {{"ShardIterator", Iterator(arn, "TRIM_HORIZON")}});
  ASSERT_EQ(r["Records"].size(), 1u);
  EXPECT_EQ(r["Records"][0]["awsRegion"], "eu-west-1");
}

TEST_F(EndpointStreams, UnservedOperationsAreUnknown) {
  HttpResponse r = Call("DescribeLimits", "{}");
  EXPECT_EQ(r.status, 400);
  const json j = json::parse(r.body);
  EXPECT_EQ(j["__type"], "com.amazon.coral.service#UnknownOperationException");
  EXPECT_EQ(j["message"], "Unknown operation: DynamoDBStreams_20120810.DescribeLimits");
}

}  // namespace
}  // namespace runnel
