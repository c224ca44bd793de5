// Copyright 2026 The runnel Authors.
//
// The DynamoDB wire protocol (tools/endpoint/dynamodb*.cc) through Dispatch,
// on a real DB: request bodies as boto3 and the AWS CLI send them, and the
// response JSON and error __types a client sees.

#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tests/testutil.h"
#include "tools/endpoint/endpoint.h"

namespace runnel {
namespace {

using endpoint::HttpRequest;
using endpoint::HttpResponse;
using json = nlohmann::json;
using test::TempDir;

struct Reply {
  int status = 0;
  json body;
  // What follows '#' in __type; empty on success.
  std::string error() const {
    if (!body.contains("__type")) return "";
    const std::string t = body["__type"];
    return t.substr(t.find('#') + 1);
  }
  std::string message() const { return body.value("message", ""); }
};

class EndpointDynamoDB : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.ttl_check_seconds = 0;
    ASSERT_OK(DB::Open(options, dir_.Sub("db"), &db_));
    ctx_.db = db_.get();
  }
  void TearDown() override {
    if (db_) EXPECT_OK(db_->Close());
  }

  // One request as the SDKs send it: POST / with the JSON 1.0 headers.
  Reply Send(const std::string& op, const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/";
    r.headers = {{"host", "localhost:8000"},
                 {"x-amz-target", "DynamoDB_20120810." + op},
                 {"content-type", "application/x-amz-json-1.0"}};
    r.body = body;
    const HttpResponse resp = endpoint::Dispatch(ctx_, r);
    Reply reply;
    reply.status = resp.status;
    reply.body = json::parse(resp.body, nullptr, false);
    EXPECT_FALSE(reply.body.is_discarded()) << resp.body;
    return reply;
  }
  Reply Send(const std::string& op, const char* body) { return Send(op, std::string(body)); }
  Reply Send(const std::string& op, const json& body) { return Send(op, body.dump()); }

  // Music: Artist (HASH, S) + SongTitle (RANGE, S), on demand.
  void CreateMusic(bool stream = false) {
    json req = json::parse(R"js({
      "AttributeDefinitions": [{"AttributeName": "Artist", "AttributeType": "S"},
                               {"AttributeName": "SongTitle", "AttributeType": "S"}],
      "TableName": "Music",
      "KeySchema": [{"AttributeName": "Artist", "KeyType": "HASH"},
                    {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
      "BillingMode": "PAY_PER_REQUEST"})js");
    if (stream) {
      req["StreamSpecification"] = {{"StreamEnabled", true},
                                    {"StreamViewType", "NEW_AND_OLD_IMAGES"}};
    }
    const Reply r = Send("CreateTable", req);
    ASSERT_EQ(r.status, 200) << r.body.dump();
  }
  void PutSong(const std::string& artist, const std::string& title, int year) {
    const Reply r = Send("PutItem", json{{"TableName", "Music"},
                                         {"Item",
                                          {{"Artist", {{"S", artist}}},
                                           {"SongTitle", {{"S", title}}},
                                           {"Year", {{"N", std::to_string(year)}}}}}});
    ASSERT_EQ(r.status, 200) << r.body.dump();
  }
  static json Key(const std::string& artist, const std::string& title) {
    return {{"Artist", {{"S", artist}}}, {"SongTitle", {{"S", title}}}};
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
  endpoint::ServiceContext ctx_;
};

TEST_F(EndpointDynamoDB, TableLifecycle) {
  CreateMusic(/*stream=*/true);
  Reply d = Send("DescribeTable", R"js({"TableName": "Music"})js");
  ASSERT_EQ(d.status, 200) << d.body.dump();
  const json& t = d.body["Table"];
  EXPECT_EQ(t["TableName"], "Music");
  EXPECT_EQ(t["TableStatus"], "ACTIVE");
  EXPECT_EQ(t["KeySchema"][0], json({{"AttributeName", "Artist"}, {"KeyType", "HASH"}}));
  EXPECT_EQ(t["KeySchema"][1], json({{"AttributeName", "SongTitle"}, {"KeyType", "RANGE"}}));
  EXPECT_EQ(t["AttributeDefinitions"].size(), 2u);
  EXPECT_TRUE(t["CreationDateTime"].is_number()) << t.dump();
  EXPECT_EQ(t["ItemCount"], 0);
  EXPECT_EQ(t["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
  EXPECT_TRUE(t["LatestStreamArn"].is_string());
  EXPECT_TRUE(t["TableArn"].is_string());
  EXPECT_EQ(t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");

  Reply again = Send("CreateTable", R"js({"TableName": "Music",
      "KeySchema": [{"AttributeName": "Artist", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "Artist", "AttributeType": "S"}],
      "BillingMode": "PAY_PER_REQUEST"})js");
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.error(), "ResourceInUseException");
  EXPECT_EQ(again.body["__type"], "com.amazonaws.dynamodb.v20120810#ResourceInUseException");

  Reply u = Send("UpdateTable", R"js({"TableName": "Music",
      "StreamSpecification": {"StreamEnabled": false}})js");
  ASSERT_EQ(u.status, 200) << u.body.dump();
  EXPECT_EQ(u.body["TableDescription"]["StreamSpecification"]["StreamEnabled"], false);
  Reply u2 = Send("UpdateTable", R"js({"TableName": "Music"})js");
  EXPECT_EQ(u2.error(), "ValidationException");

  Reply del = Send("DeleteTable", R"js({"TableName": "Music"})js");
  ASSERT_EQ(del.status, 200) << del.body.dump();
  EXPECT_EQ(del.body["TableDescription"]["TableStatus"], "DELETING");
  Reply gone = Send("DescribeTable", R"js({"TableName": "Music"})js");
  EXPECT_EQ(gone.status, 400);
  EXPECT_EQ(gone.error(), "ResourceNotFoundException");
  EXPECT_EQ(gone.message(), "Requested resource not found: Table: Music not found");
  EXPECT_EQ(Send("DeleteTable", R"js({"TableName": "Music"})js").error(),
            "ResourceNotFoundException");
}

TEST_F(EndpointDynamoDB, ListTablesPages) {
  for (const char* name : {"Alpha", "Bravo", "Charlie"}) {
    const Reply r =
        Send("CreateTable",
             json{{"TableName", name},
                  {"KeySchema", {{{"AttributeName", "pk"}, {"KeyType", "HASH"}}}},
                  {"AttributeDefinitions", {{{"AttributeName", "pk"}, {"AttributeType", "S"}}}},
                  {"BillingMode", "PAY_PER_REQUEST"}});
    ASSERT_EQ(r.status, 200) << r.body.dump();
  }
  Reply all = Send("ListTables", "{}");
  EXPECT_EQ(all.body, json::parse(R"js({"TableNames":["Alpha","Bravo","Charlie"]})js"));
  Reply p1 = Send("ListTables", R"js({"Limit": 2})js");
  EXPECT_EQ(p1.body["TableNames"], json({"Alpha", "Bravo"}));
  EXPECT_EQ(p1.body["LastEvaluatedTableName"], "Bravo");
  Reply p2 = Send("ListTables", R"js({"Limit": 2, "ExclusiveStartTableName": "Bravo"})js");
  EXPECT_EQ(p2.body, json::parse(R"js({"TableNames":["Charlie"]})js"));
  EXPECT_EQ(Send("ListTables", R"js({"Limit": 0})js").error(), "ValidationException");
}

TEST_F(EndpointDynamoDB, CreateTableBillingAndValidation) {
  // The cloud's default billing mode is PROVISIONED: capacity is required.
  Reply r = Send("CreateTable", R"js({"TableName": "Tab1",
      "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]})js");
  EXPECT_EQ(r.error(), "ValidationException");
  EXPECT_EQ(r.body["__type"], "com.amazon.coral.validate#ValidationException");
  r = Send("CreateTable", R"js({"TableName": "Tab1",
      "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
      "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7}})js");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"], 5);
  EXPECT_EQ(r.body["TableDescription"]["ProvisionedThroughput"]["WriteCapacityUnits"], 7);
  EXPECT_EQ(r.body["TableDescription"]["BillingModeSummary"]["BillingMode"], "PROVISIONED");

  r = Send("CreateTable", R"js({"TableName": "Tab2",
      "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
      "BillingMode": "PAY_PER_REQUEST"})js");
  EXPECT_EQ(r.error(), "ValidationException");
  EXPECT_NE(r.message().find("keySchema"), std::string::npos) << r.message();
  r = Send("CreateTable", R"js({"TableName": "Tab2",
      "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
      "BillingMode": "PAY_PER_REQUEST",
      "GlobalSecondaryIndexes": [{"IndexName": "g"}]})js");
  EXPECT_EQ(r.error(), "ValidationException");
  EXPECT_NE(r.message().find("GlobalSecondaryIndexes"), std::string::npos);
  EXPECT_EQ(Send("ListTables", "{}").body["TableNames"], json({"Tab1"}));
}

TEST_F(EndpointDynamoDB, PutGetDeleteItem) {
  CreateMusic();
  Reply put = Send("PutItem", R"js({"TableName": "Music", "Item": {
      "Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Call Me Today"},
      "Year": {"N": "2015.0"}, "Tags": {"SS": ["a", "b"]}, "Raw": {"B": "AAE="},
      "Info": {"M": {"Plays": {"N": "01"}, "Live": {"BOOL": true}}}}})js");
  ASSERT_EQ(put.status, 200) << put.body.dump();
  EXPECT_EQ(put.body, json::object());

  Reply get = Send("GetItem",
                   json{{"TableName", "Music"}, {"Key", Key("No One You Know", "Call Me Today")}});
  ASSERT_EQ(get.status, 200) << get.body.dump();
  const json& item = get.body["Item"];
  EXPECT_EQ(item["Year"], json({{"N", "2015"}}));
  EXPECT_EQ(item["Raw"], json({{"B", "AAE="}}));
  EXPECT_EQ(item["Info"]["M"]["Plays"], json({{"N", "1"}}));
  EXPECT_EQ(item["Info"]["M"]["Live"], json({{"BOOL", true}}));

  Reply proj = Send("GetItem", json{{"TableName", "Music"},
                                    {"Key", Key("No One You Know", "Call Me Today")},
                                    {"ProjectionExpression", "#y, Info.Plays"},
                                    {"ExpressionAttributeNames", {{"#y", "Year"}}},
                                    {"ConsistentRead", true}});
  EXPECT_EQ(proj.body, json::parse(R"js({"Item":{"Info":{"M":{"Plays":{"N":"1"}}},
                                        "Year":{"N":"2015"}}})js"));

  Reply missing = Send("GetItem", json{{"TableName", "Music"}, {"Key", Key("x", "y")}});
  EXPECT_EQ(missing.status, 200);
  EXPECT_EQ(missing.body, json::object());

  Reply over = Send("PutItem", json{{"TableName", "Music"},
                                    {"Item", Key("No One You Know", "Call Me Today")},
                                    {"ReturnValues", "ALL_OLD"}});
  ASSERT_EQ(over.status, 200) << over.body.dump();
  EXPECT_EQ(over.body["Attributes"]["Year"], json({{"N", "2015"}}));
  EXPECT_EQ(Send("PutItem",
                 json{{"TableName", "Music"}, {"Item", Key("a", "b")}, {"ReturnValues", "ALL_NEW"}})
                .error(),
            "ValidationException");

  Reply del = Send("DeleteItem", json{{"TableName", "Music"},
                                      {"Key", Key("No One You Know", "Call Me Today")},
                                      {"ReturnValues", "ALL_OLD"}});
  ASSERT_EQ(del.status, 200) << del.body.dump();
  EXPECT_EQ(del.body["Attributes"], Key("No One You Know", "Call Me Today"));
  Reply del2 = Send("DeleteItem", json{{"TableName", "Music"},
                                       {"Key", Key("No One You Know", "Call Me Today")},
                                       {"ReturnValues", "ALL_OLD"}});
  EXPECT_EQ(del2.body, json::object());
}

TEST_F(EndpointDynamoDB, UpdateItemReturnValues) {
  CreateMusic();
  PutSong("Acme", "Song", 2000);
  Reply u = Send("UpdateItem", R"js({"TableName": "Music",
      "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Song"}},
      "UpdateExpression": "SET #y = #y + :one, Plays = if_not_exists(Plays, :zero) ADD Tags :t",
      "ExpressionAttributeNames": {"#y": "Year"},
      "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"},
                                    ":t": {"SS": ["rock"]}},
      "ReturnValues": "UPDATED_NEW"})js");
  ASSERT_EQ(u.status, 200) << u.body.dump();
  EXPECT_EQ(u.body, json::parse(R"js({"Attributes":{"Plays":{"N":"0"},"Tags":{"SS":["rock"]},
                                     "Year":{"N":"2001"}}})js"));
  Reply old = Send("UpdateItem", R"js({"TableName": "Music",
      "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Song"}},
      "UpdateExpression": "REMOVE Plays", "ReturnValues": "UPDATED_OLD"})js");
  EXPECT_EQ(old.body, json::parse(R"js({"Attributes":{"Plays":{"N":"0"}}})js"));
  Reply all = Send("UpdateItem", R"js({"TableName": "Music",
      "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Song"}},
      "UpdateExpression": "SET Genre = :g", "ExpressionAttributeValues": {":g": {"S": "Pop"}},
      "ReturnValues": "ALL_NEW"})js");
  EXPECT_EQ(all.body["Attributes"].size(), 5u) << all.body.dump();
  EXPECT_EQ(all.body["Attributes"]["Genre"], json({{"S", "Pop"}}));
  Reply bad = Send("UpdateItem", R"js({"TableName": "Music",
      "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Song"}},
      "UpdateExpression": "SET Genre = :g"})js");
  EXPECT_EQ(bad.error(), "ValidationException");
  EXPECT_FALSE(bad.message().empty());
}

TEST_F(EndpointDynamoDB, ConditionalCheckFailedCarriesOldItem) {
  CreateMusic();
  PutSong("Acme", "Song", 2000);
  const json base = json{{"TableName", "Music"},
                         {"Item", Key("Acme", "Song")},
                         {"ConditionExpression", "attribute_not_exists(Artist)"}};
  Reply plain = Send("PutItem", base);
  EXPECT_EQ(plain.status, 400);
  EXPECT_EQ(plain.body["__type"],
            "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException");
  EXPECT_EQ(plain.message(), "The conditional request failed");
  EXPECT_FALSE(plain.body.contains("Item"));

  json with_old = base;
  with_old["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD";
  Reply r = Send("PutItem", with_old);
  EXPECT_EQ(r.error(), "ConditionalCheckFailedException");
  EXPECT_EQ(r.body["Item"]["Year"], json({{"N", "2000"}})) << r.body.dump();

  Reply d = Send("DeleteItem", R"js({"TableName": "Music",
      "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Song"}},
      "ConditionExpression": "#y > :y", "ExpressionAttributeNames": {"#y": "Year"},
      "ExpressionAttributeValues": {":y": {"N": "2010"}},
      "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})js");
  EXPECT_EQ(d.error(), "ConditionalCheckFailedException");
  EXPECT_EQ(d.body["Item"]["Artist"], json({{"S", "Acme"}}));
  // Nothing changed.
  Reply g = Send("GetItem", json{{"TableName", "Music"}, {"Key", Key("Acme", "Song")}});
  EXPECT_EQ(g.body["Item"]["Year"], json({{"N", "2000"}}));
}

TEST_F(EndpointDynamoDB, QueryPagesWithLastEvaluatedKey) {
  CreateMusic();
  for (int i = 0; i < 5; ++i) PutSong("Acme", test::Numbered("Song", i), 2000 + i);
  PutSong("Other", "Song0", 1999);
  json q = json::parse(R"js({"TableName": "Music", "Limit": 2,
      "KeyConditionExpression": "Artist = :a",
      "ExpressionAttributeValues": {":a": {"S": "Acme"}}})js");
  std::vector<std::string> titles;
  int pages = 0;
  for (;;) {
    Reply r = Send("Query", q);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    ++pages;
    for (const json& item : r.body["Items"]) titles.push_back(item["SongTitle"]["S"]);
    EXPECT_EQ(r.body["Count"], r.body["Items"].size());
    if (!r.body.contains("LastEvaluatedKey")) break;
    q["ExclusiveStartKey"] = r.body["LastEvaluatedKey"];
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(titles, (std::vector<std::string>{"Song0", "Song1", "Song2", "Song3", "Song4"}));
  EXPECT_GE(pages, 3);

  Reply back = Send("Query", R"js({"TableName": "Music", "ScanIndexForward": false,
      "KeyConditionExpression": "Artist = :a AND begins_with(SongTitle, :p)",
      "FilterExpression": "#y >= :y", "ExpressionAttributeNames": {"#y": "Year"},
      "ExpressionAttributeValues": {":a": {"S": "Acme"}, ":p": {"S": "Song"},
                                    ":y": {"N": "2003"}}})js");
  ASSERT_EQ(back.status, 200) << back.body.dump();
  EXPECT_EQ(back.body["Count"], 2);
  EXPECT_EQ(back.body["ScannedCount"], 5);
  EXPECT_EQ(back.body["Items"][0]["SongTitle"]["S"], "Song4");

  Reply count = Send("Query", R"js({"TableName": "Music", "Select": "COUNT",
      "KeyConditionExpression": "Artist = :a",
      "ExpressionAttributeValues": {":a": {"S": "Acme"}}})js");
  EXPECT_EQ(count.body, json::parse(R"js({"Count":5,"ScannedCount":5})js"));
  Reply no_key = Send("Query", R"js({"TableName": "Music"})js");
  EXPECT_EQ(no_key.error(), "ValidationException");
  Reply index = Send("Query", R"js({"TableName": "Music", "IndexName": "ByYear",
      "KeyConditionExpression": "Artist = :a",
      "ExpressionAttributeValues": {":a": {"S": "Acme"}}})js");
  EXPECT_EQ(index.error(), "ValidationException");
}

TEST_F(EndpointDynamoDB, ScanSegmentsAndLimits) {
  CreateMusic();
  for (int i = 0; i < 20; ++i) PutSong(test::Numbered("Artist", i), "S", 2000 + i);
  std::set<std::string> seen;
  for (int seg = 0; seg < 3; ++seg) {
    json req = {{"TableName", "Music"}, {"Segment", seg}, {"TotalSegments", 3}};
    for (;;) {
      Reply r = Send("Scan", req);
      ASSERT_EQ(r.status, 200) << r.body.dump();
      for (const json& item : r.body["Items"]) {
        EXPECT_TRUE(seen.insert(item["Artist"]["S"].get<std::string>()).second);
      }
      if (!r.body.contains("LastEvaluatedKey")) break;
      req["ExclusiveStartKey"] = r.body["LastEvaluatedKey"];
    }
  }
  EXPECT_EQ(seen.size(), 20u);
  Reply lim = Send("Scan", R"js({"TableName": "Music", "Limit": 7,
      "ProjectionExpression": "Artist"})js");
  EXPECT_EQ(lim.body["Items"].size(), 7u);
  EXPECT_EQ(lim.body["Items"][0].size(), 1u);
  EXPECT_TRUE(lim.body.contains("LastEvaluatedKey"));
  EXPECT_EQ(Send("Scan", R"js({"TableName": "Music", "Segment": 1})js").error(),
            "ValidationException");
  EXPECT_EQ(Send("Scan", R"js({"TableName": "Music", "Segment": 3, "TotalSegments": 3})js").error(),
            "ValidationException");
  Reply filtered = Send("Scan", R"js({"TableName": "Music", "FilterExpression": "#y < :y",
      "ExpressionAttributeNames": {"#y": "Year"},
      "ExpressionAttributeValues": {":y": {"N": "2005"}}, "Select": "COUNT"})js");
  EXPECT_EQ(filtered.body, json::parse(R"js({"Count":5,"ScannedCount":20})js"));
}

TEST_F(EndpointDynamoDB, BatchWriteAndGet) {
  CreateMusic();
  Reply w = Send("BatchWriteItem", R"js({"RequestItems": {"Music": [
      {"PutRequest": {"Item": {"Artist": {"S": "A"}, "SongTitle": {"S": "1"}}}},
      {"PutRequest": {"Item": {"Artist": {"S": "A"}, "SongTitle": {"S": "2"}}}},
      {"PutRequest": {"Item": {"Artist": {"S": "B"}, "SongTitle": {"S": "1"}}}}]}})js");
  ASSERT_EQ(w.status, 200) << w.body.dump();
  EXPECT_EQ(w.body, json::parse(R"js({"UnprocessedItems":{}})js"));
  Reply d = Send("BatchWriteItem", R"js({"RequestItems": {"Music": [
      {"DeleteRequest": {"Key": {"Artist": {"S": "B"}, "SongTitle": {"S": "1"}}}}]}})js");
  EXPECT_EQ(d.status, 200) << d.body.dump();

  Reply g = Send("BatchGetItem", R"js({"RequestItems": {"Music": {"Keys": [
      {"Artist": {"S": "A"}, "SongTitle": {"S": "1"}},
      {"Artist": {"S": "A"}, "SongTitle": {"S": "2"}},
      {"Artist": {"S": "B"}, "SongTitle": {"S": "1"}}],
      "ProjectionExpression": "SongTitle"}}})js");
  ASSERT_EQ(g.status, 200) << g.body.dump();
  EXPECT_EQ(g.body["UnprocessedKeys"], json::object());
  std::multiset<std::string> titles;
  for (const json& item : g.body["Responses"]["Music"]) {
    EXPECT_EQ(item.size(), 1u);
    titles.insert(item["SongTitle"]["S"].get<std::string>());
  }
  EXPECT_EQ(titles, (std::multiset<std::string>{"1", "2"}));

  Reply missing = Send("BatchWriteItem", R"js({"RequestItems": {"Nope": [
      {"PutRequest": {"Item": {"Artist": {"S": "A"}, "SongTitle": {"S": "1"}}}}]}})js");
  EXPECT_EQ(missing.error(), "ResourceNotFoundException");
  EXPECT_EQ(Send("BatchGetItem", R"js({"RequestItems": {"Nope": {"Keys": [
      {"Artist": {"S": "A"}, "SongTitle": {"S": "1"}}]}}})js")
                .error(),
            "ResourceNotFoundException");
  Reply bad = Send("BatchWriteItem", R"js({"RequestItems": {"Music": [{"Bogus": {}}]}})js");
  EXPECT_EQ(bad.error(), "ValidationException");
  EXPECT_NE(bad.message().find("RequestItems"), std::string::npos) << bad.message();
}

TEST_F(EndpointDynamoDB, TransactionsCancelWithReasons) {
  CreateMusic();
  PutSong("Acme", "Song", 2000);
  const std::string cancel = R"js({"TransactItems": [
      {"Put": {"TableName": "Music", "Item": {"Artist": {"S": "New"}, "SongTitle": {"S": "X"}}}},
      {"ConditionCheck": {"TableName": "Music",
          "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Song"}},
          "ConditionExpression": "#y = :y", "ExpressionAttributeNames": {"#y": "Year"},
          "ExpressionAttributeValues": {":y": {"N": "1999"}},
          "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]})js";
  Reply r = Send("TransactWriteItems", cancel);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["__type"], "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
  EXPECT_EQ(r.message(),
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[None, ConditionalCheckFailed]");
  ASSERT_EQ(r.body["CancellationReasons"].size(), 2u) << r.body.dump();
  EXPECT_EQ(r.body["CancellationReasons"][0], json({{"Code", "None"}}));
  EXPECT_EQ(r.body["CancellationReasons"][1]["Code"], "ConditionalCheckFailed");
  EXPECT_EQ(r.body["CancellationReasons"][1]["Item"]["Year"], json({{"N", "2000"}}));
  EXPECT_EQ(Send("GetItem", json{{"TableName", "Music"}, {"Key", Key("New", "X")}}).body,
            json::object());

  const std::string ok = R"js({"ClientRequestToken": "tok-1", "TransactItems": [
      {"Put": {"TableName": "Music", "Item": {"Artist": {"S": "New"}, "SongTitle": {"S": "X"}}}},
      {"Update": {"TableName": "Music",
          "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Song"}},
          "UpdateExpression": "SET Plays = :p", "ExpressionAttributeValues": {":p": {"N": "3"}}}},
      {"Delete": {"TableName": "Music",
          "Key": {"Artist": {"S": "Gone"}, "SongTitle": {"S": "Z"}}}}]})js";
  Reply w = Send("TransactWriteItems", ok);
  ASSERT_EQ(w.status, 200) << w.body.dump();
  EXPECT_EQ(w.body, json::object());
  // The same token again: the first result, nothing written twice.
  EXPECT_EQ(Send("TransactWriteItems", ok).status, 200);
  Reply mismatch = Send("TransactWriteItems", R"js({"ClientRequestToken": "tok-1",
      "TransactItems": [{"Delete": {"TableName": "Music",
          "Key": {"Artist": {"S": "New"}, "SongTitle": {"S": "X"}}}}]})js");
  EXPECT_EQ(mismatch.error(), "IdempotentParameterMismatchException");

  EXPECT_EQ(Send("TransactWriteItems", R"js({"TransactItems": [{"Put": {"TableName": "Nope",
      "Item": {"Artist": {"S": "A"}, "SongTitle": {"S": "1"}}}}]})js")
                .error(),
            "ResourceNotFoundException");
  Reply g = Send("TransactGetItems", R"js({"TransactItems": [
      {"Get": {"TableName": "Music", "Key": {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Song"}},
               "ProjectionExpression": "Plays"}},
      {"Get": {"TableName": "Music", "Key": {"Artist": {"S": "None"}, "SongTitle": {"S": "Q"}}}}]})js");
  ASSERT_EQ(g.status, 200) << g.body.dump();
  EXPECT_EQ(g.body, json::parse(R"js({"Responses":[{"Item":{"Plays":{"N":"3"}}},{}]})js"));
}

TEST_F(EndpointDynamoDB, TimeToLive) {
  CreateMusic();
  Reply d = Send("DescribeTimeToLive", R"js({"TableName": "Music"})js");
  EXPECT_EQ(d.body,
            json::parse(R"js({"TimeToLiveDescription":{"TimeToLiveStatus":"DISABLED"}})js"));
  Reply u = Send("UpdateTimeToLive", R"js({"TableName": "Music",
      "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "expires"}})js");
  ASSERT_EQ(u.status, 200) << u.body.dump();
  EXPECT_EQ(
      u.body,
      json::parse(R"js({"TimeToLiveSpecification":{"Enabled":true,"AttributeName":"expires"}})js"));
  d = Send("DescribeTimeToLive", R"js({"TableName": "Music"})js");
  EXPECT_EQ(d.body, json::parse(R"js({"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED",
                                                              "AttributeName":"expires"}})js"));
  Reply again = Send("UpdateTimeToLive", R"js({"TableName": "Music",
      "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "expires"}})js");
  EXPECT_EQ(again.error(), "ValidationException");
  EXPECT_EQ(Send("DescribeTimeToLive", R"js({"TableName": "Nope"})js").error(),
            "ResourceNotFoundException");

  // An expired item goes at the next pass.
  const std::string past = std::to_string(std::time(nullptr) - 60);
  Reply put = Send(
      "PutItem",
      json{{"TableName", "Music"},
           {"Item",
            {{"Artist", {{"S", "A"}}}, {"SongTitle", {{"S", "B"}}}, {"expires", {{"N", past}}}}}});
  ASSERT_EQ(put.status, 200) << put.body.dump();
  uint64_t deleted = 0;
  ASSERT_OK(db_->RunTimeToLive(&deleted));
  EXPECT_EQ(deleted, 1u);
}

TEST_F(EndpointDynamoDB, ProtocolErrors) {
  CreateMusic();
  Reply bad_json = Send("PutItem", std::string(R"js({"TableName": "Music", )js"));
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.body["__type"], "com.amazon.coral.service#SerializationException");
  EXPECT_EQ(Send("PutItem", std::string("[1]")).error(), "SerializationException");
  EXPECT_EQ(Send("DescribeTable", R"js({"TableName": 5})js").error(), "SerializationException");
  EXPECT_EQ(Send("GetItem", R"js({"TableName": "Music", "Key": "k"})js").error(),
            "SerializationException");
  EXPECT_EQ(Send("Query", R"js({"TableName": "Music", "Limit": "2",
      "KeyConditionExpression": "Artist = :a",
      "ExpressionAttributeValues": {":a": {"S": "Acme"}}})js")
                .error(),
            "SerializationException");

  Reply number = Send("PutItem", R"js({"TableName": "Music", "Item": {"Artist": {"S": "A"},
      "SongTitle": {"S": "B"}, "Info": {"M": {"Year": {"N": 2001}}}}})js");
  EXPECT_EQ(number.error(), "SerializationException");
  EXPECT_NE(number.message().find("Item.Info.M.Year.N"), std::string::npos) << number.message();
  Reply unknown = Send("FlyToTheMoon", "{}");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.error(), "UnknownOperationException");
}

TEST_F(EndpointDynamoDB, MissingAndInvalidParameters) {
  CreateMusic();
  Reply no_table = Send("PutItem", R"js({"Item": {"Artist": {"S": "A"}}})js");
  EXPECT_EQ(no_table.error(), "ValidationException");
  EXPECT_EQ(no_table.message(),
            "1 validation error detected: Value null at 'tableName' failed to satisfy "
            "constraint: Member must not be null");
  EXPECT_EQ(Send("GetItem", R"js({"TableName": "Music"})js").error(), "ValidationException");
  Reply empty = Send("PutItem", R"js({"TableName": "Music", "ConditionExpression": "",
      "Item": {"Artist": {"S": "A"}, "SongTitle": {"S": "B"}}})js");
  EXPECT_EQ(empty.error(), "ValidationException");
  EXPECT_EQ(empty.message(), "Invalid ConditionExpression: The expression can not be empty;");
  Reply nf = Send("PutItem", R"js({"TableName": "Nope", "Item": {"Artist": {"S": "A"}}})js");
  EXPECT_EQ(nf.error(), "ResourceNotFoundException");
  EXPECT_EQ(nf.message(), "Requested resource not found");
  Reply bad_value = Send("PutItem", R"js({"TableName": "Music", "Item": {
      "Artist": {"S": "A"}, "SongTitle": {"S": "B"}, "X": {"Q": "1"}}})js");
  EXPECT_EQ(bad_value.error(), "ValidationException");
  Reply bad_key = Send("PutItem", R"js({"TableName": "Music", "Item": {"Artist": {"S": "A"}}})js");
  EXPECT_EQ(bad_key.error(), "ValidationException");

  // A byte table (runnel's own kind) does not serve item operations.
  ASSERT_OK(db_->CreateTable("bytes", StreamSpecification()));
  Reply bt = Send("GetItem", R"js({"TableName": "bytes", "Key": {"key": {"S": "a"}}})js");
  EXPECT_EQ(bt.error(), "ValidationException");
  Reply ep = Send("DescribeEndpoints", "{}");
  EXPECT_EQ(ep.body,
            json::parse(
                R"js({"Endpoints":[{"Address":"localhost:8000","CachePeriodInMinutes":1440}]})js"));
}

// Bodies of the wrong shape, for every operation.
TEST_F(EndpointDynamoDB, MalformedShapesAreClientErrors) {
  CreateMusic();
  const char* ops[] = {"CreateTable",
                       "DescribeTable",
                       "ListTables",
                       "UpdateTable",
                       "DeleteTable",
                       "UpdateTimeToLive",
                       "DescribeTimeToLive",
                       "PutItem",
                       "GetItem",
                       "UpdateItem",
                       "DeleteItem",
                       "Query",
                       "Scan",
                       "BatchGetItem",
                       "BatchWriteItem",
                       "TransactWriteItems",
                       "TransactGetItems"};
  const char* bodies[] = {
      R"js({"TableName": ["Music"]})js",
      R"js({"TableName": "Music", "Key": [], "Item": 5, "Limit": -1})js",
      R"js({"TableName": "Music", "Key": {"Artist": 5}, "Item": {"Artist": {}}})js",
      R"js({"TableName": "Music", "ExpressionAttributeNames": {"#a": 1}})js",
      R"js({"TableName": "Music", "ExpressionAttributeValues": [1]})js",
      R"js({"TableName": "Music", "Expected": {"a": 5}, "KeyConditions": {"a": []}})js",
      R"js({"TableName": "Music", "AttributeUpdates": {"a": {"Action": 5}}})js",
      R"js({"TableName": "Music", "ScanFilter": {"a": {"ComparisonOperator": "EQ",
                                                        "AttributeValueList": 3}}})js",
      R"js({"TableName": "Music", "AttributesToGet": [1, 2], "QueryFilter": 7})js",
      R"js({"RequestItems": {"Music": 5}, "TransactItems": {"Put": 1}})js",
      R"js({"RequestItems": [], "TransactItems": [{"Get": []}, 5]})js",
      R"js({"TableName": "Music", "KeySchema": "x", "AttributeDefinitions": [5],
            "StreamSpecification": [], "TimeToLiveSpecification": {"Enabled": "yes"}})js",
  };
  // Members an operation does not take are ignored, as the cloud ignores
  // them; the rest must be a client error, never a crash or a 500.
  int client_errors = 0;
  for (const char* op : ops) {
    for (const char* body : bodies) {
      const Reply r = Send(op, body);
      EXPECT_TRUE(r.status == 200 || r.status == 400) << op << " " << body << " -> " << r.status;
      EXPECT_EQ(r.status == 400, !r.error().empty()) << op << " " << body;
      EXPECT_NE(r.error(), "InternalServerError") << op << " " << body << " -> " << r.message();
      client_errors += r.status == 400;
    }
  }
  EXPECT_GT(client_errors, 150);
}

TEST_F(EndpointDynamoDB, LegacyParameters) {
  CreateMusic();
  // Expected with Exists false: a put that may not overwrite.
  const std::string put = R"js({"TableName": "Music", "Item": {"Artist": {"S": "A"},
      "SongTitle": {"S": "1"}, "Year": {"N": "2001"}, "Genre": {"S": "Rock"}},
      "Expected": {"Artist": {"Exists": false}}})js";
  ASSERT_EQ(Send("PutItem", put).status, 200);
  EXPECT_EQ(Send("PutItem", put).error(), "ConditionalCheckFailedException");
  PutSong("A", "2", 2002);
  PutSong("A", "3", 2003);

  Reply g = Send("GetItem", R"js({"TableName": "Music",
      "Key": {"Artist": {"S": "A"}, "SongTitle": {"S": "1"}}, "AttributesToGet": ["Genre"]})js");
  EXPECT_EQ(g.body, json::parse(R"js({"Item":{"Genre":{"S":"Rock"}}})js"));

  Reply u = Send("UpdateItem", R"js({"TableName": "Music",
      "Key": {"Artist": {"S": "A"}, "SongTitle": {"S": "1"}},
      "AttributeUpdates": {"Year": {"Action": "ADD", "Value": {"N": "10"}},
                           "Genre": {"Action": "DELETE"},
                           "Mood": {"Value": {"S": "calm"}}},
      "Expected": {"Year": {"Value": {"N": "2001"}}},
      "ReturnValues": "ALL_NEW"})js");
  ASSERT_EQ(u.status, 200) << u.body.dump();
  EXPECT_EQ(u.body["Attributes"]["Year"], json({{"N", "2011"}}));
  EXPECT_EQ(u.body["Attributes"]["Mood"], json({{"S", "calm"}}));
  EXPECT_FALSE(u.body["Attributes"].contains("Genre"));

  Reply q = Send("Query", R"js({"TableName": "Music",
      "KeyConditions": {"Artist": {"ComparisonOperator": "EQ",
                                   "AttributeValueList": [{"S": "A"}]},
                        "SongTitle": {"ComparisonOperator": "BETWEEN",
                                      "AttributeValueList": [{"S": "1"}, {"S": "2"}]}},
      "QueryFilter": {"Year": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "2005"}]},
                      "Mood": {"ComparisonOperator": "NOT_NULL"}},
      "ConditionalOperator": "OR"})js");
  ASSERT_EQ(q.status, 200) << q.body.dump();
  EXPECT_EQ(q.body["Count"], 1);
  EXPECT_EQ(q.body["ScannedCount"], 2);
  EXPECT_EQ(q.body["Items"][0]["SongTitle"]["S"], "1");

  Reply s = Send("Scan", R"js({"TableName": "Music",
      "ScanFilter": {"Year": {"ComparisonOperator": "IN",
                              "AttributeValueList": [{"N": "2002"}, {"N": "2003"}]}},
      "AttributesToGet": ["SongTitle"]})js");
  ASSERT_EQ(s.status, 200) << s.body.dump();
  EXPECT_EQ(s.body["Count"], 2);
  EXPECT_EQ(s.body["Items"][0].size(), 1u);

  Reply mixed = Send("Scan", R"js({"TableName": "Music",
      "AttributesToGet": ["SongTitle"], "FilterExpression": "attribute_exists(Year)"})js");
  EXPECT_EQ(mixed.error(), "ValidationException");
  EXPECT_EQ(mixed.message(),
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: "
            "{FilterExpression}");
  Reply bad_op = Send("Scan", R"js({"TableName": "Music",
      "ScanFilter": {"Year": {"ComparisonOperator": "EQ"}}})js");
  EXPECT_EQ(bad_op.error(), "ValidationException");

  Reply bg = Send("BatchGetItem", R"js({"RequestItems": {"Music": {
      "Keys": [{"Artist": {"S": "A"}, "SongTitle": {"S": "2"}}], "AttributesToGet": ["Year"]}}})js");
  EXPECT_EQ(bg.body["Responses"]["Music"], json::parse(R"js([{"Year":{"N":"2002"}}])js"));
}

}  // namespace
}  // namespace runnel
