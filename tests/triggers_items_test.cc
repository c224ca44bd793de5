// Copyright 2026 The runnel Authors.
//
// Typed items in the trigger plugin ABI (runnel/function.h, version 2), with
// a real plugin loaded by dlopen (tests/plugins/items_function.cc): typed
// images as the cloud's JSON, reads of other tables, item write-backs
// committed with the checkpoint exactly once across a failed attempt, a
// handler reading its own writes, call-time validation, the tutorial's
// function on a typed table, and a plugin of the old ABI refused.

#include <stdlib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runnel/db.h"
#include "runnel/function.hpp"
#include "runnel/item.h"
#include "runnel/triggers.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using nlohmann::json;
using test::Stream;
using test::TempDir;

class TriggersItems : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    if (db_) ASSERT_OK(db_->Close());
    db_.reset();
    Options o;
    o.run_triggers = true;
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
  }
  Triggers* t() { return db_->triggers(); }
  // A typed table keyed by the S attribute `hash`.
  void CreateTyped(const std::string& name, const std::string& hash,
                   StreamSpecification stream = StreamSpecification()) {
    TableSchema schema;
    schema.key_schema = {{hash, KeyType::kHash}};
    schema.attribute_definitions = {{hash, ScalarAttributeType::kS}};
    ASSERT_OK(db_->CreateTable(name, stream, schema));
  }
  static Item J(std::string_view text) {
    Item item;
    Status s = ItemFromJson(text, &item);
    EXPECT_TRUE(s.ok()) << s.ToString() << ": " << text;
    return item;
  }
  void PutItem(const std::string& table, std::string_view item) {
    PutItemRequest q;
    q.table_name = table;
    q.item = J(item);
    WriteItemResult r;
    ASSERT_OK(db_->PutItem(q, &r));
  }
  // The item as JSON parsed, or null if there is none.
  json Get(const std::string& table, std::string_view key) {
    GetItemRequest q;
    q.table_name = table;
    q.key = J(key);
    GetItemResult r;
    EXPECT_OK(db_->GetItem(ReadOptions(), q, &r));
    return r.item ? json::parse(ItemToJson(*r.item)) : json();
  }
  void Idle() { ASSERT_OK(t()->WaitUntilIdle(std::chrono::seconds(20))); }
  std::vector<std::string> LogLines(const std::string& fn) {
    std::vector<FunctionLogLine> lines;
    EXPECT_OK(t()->ReadFunctionLog(fn, 0, &lines));
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l.text);
    return out;
  }
  // The lines holding `needle`, from just after it.
  std::vector<std::string> After(const std::string& fn, const std::string& needle) {
    std::vector<std::string> out;
    for (const std::string& l : LogLines(fn)) {
      const size_t p = l.find(needle);
      if (p != std::string::npos) out.push_back(l.substr(p + needle.size()));
    }
    return out;
  }
  std::string Result(const std::string& uuid) {
    EventSourceMappingConfiguration c;
    EXPECT_OK(t()->GetEventSourceMapping(uuid, &c));
    return c.last_processing_result;
  }
  std::string Map(const std::string& fn, const std::string& table) {
    EventSourceMappingConfiguration m;
    m.function_name = fn;
    TableDescription d;
    EXPECT_OK(db_->DescribeTable(table, &d));
    m.event_source = d.latest_stream_arn;
    m.batch_size = 10;
    m.starting_position = StartingPosition::kTrimHorizon;
    EventSourceMappingConfiguration created;
    EXPECT_OK(t()->CreateEventSourceMapping(m, &created));
    return created.uuid;
  }
  // The handler of HandlerReadsTypedImagesAndItemsAndWritesBackExactlyOnce,
  // in the host or in a worker process.
  void CheckTypedHandler(FunctionIsolation isolation);
  size_t Count(const std::vector<std::string>& lines, const std::string& needle) {
    size_t n = 0;
    for (const std::string& l : lines) n += l.find(needle) != std::string::npos;
    return n;
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(TriggersItems, OldAbiPluginIsRefusedNamingBothVersions) {
  FunctionConfiguration f;
  f.function_name = "old";
  f.library = ABI_V1;
  Status s = t()->CreateFunction(f, nullptr);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("built for function ABI version 1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("version " + std::to_string(RUNNEL_FUNCTION_ABI_VERSION)),
            std::string::npos)
      << s.message();
  EXPECT_EQ(RUNNEL_FUNCTION_ABI_VERSION, 3u);
  FunctionConfiguration got;
  EXPECT_TRUE(t()->GetFunction("old", &got).IsNotFound());
}

// The tutorial's scenario on typed tables: the handler reads each order's
// typed NewImage, the price from another table, and writes an audit item
// (put), a running total (update with ADD) and, on REMOVE, deletes the
// audit item. Its first attempt fails after all its write-backs: they are
// discarded with it, and the retry commits them with the checkpoint, once.
TEST_F(TriggersItems, HandlerReadsTypedImagesAndItemsAndWritesBackExactlyOnce) {
  CheckTypedHandler(FunctionIsolation::kInProcess);
}

// Every call of the ABI crosses to the host and back: the same outcome.
TEST_F(TriggersItems, IsolatedHandlerReadsTypedImagesAndItemsAndWritesBackExactlyOnce) {
  ::setenv("RUNNEL_WORKER", RUNNEL_WORKER_PATH, 1);
  CheckTypedHandler(FunctionIsolation::kProcess);
}

void TriggersItems::CheckTypedHandler(FunctionIsolation isolation) {
  CreateTyped("orders", "id", Stream(StreamViewType::kNewAndOldImages));
  CreateTyped("prices", "sku");
  CreateTyped("totals", "sku");
  CreateTyped("audit", "id");
  PutItem("prices", R"({"sku":{"S":"apple"},"price":{"N":"1.50"}})");
  PutItem("orders", R"({"id":{"S":"o1"},"sku":{"S":"apple"},"qty":{"N":"2"}})");
  PutItem("orders", R"({"id":{"S":"o2"},"sku":{"S":"apple"},"qty":{"N":"3"}})");
  PutItem("orders", R"({"id":{"S":"o3"},"sku":{"S":"pear"},"qty":{"N":"1"},"bad":{"BOOL":true}})");
  FunctionConfiguration f;
  f.function_name = "items";
  f.library = ITEMS_FUNCTION;
  f.environment = {{"PRICES", "prices"},
                   {"TOTALS", "totals"},
                   {"AUDIT", "audit"},
                   {"FAIL_ONCE", dir_.Sub("failed-once")}};
  f.isolation = isolation;
  ASSERT_OK(t()->CreateFunction(f, nullptr));
  const std::string uuid = Map("items", "orders");
  // A failing batch waiting out its backoff counts as idle: wait for the
  // retry to succeed.
  ASSERT_TRUE(test::WaitFor([&] { return Result(uuid) == "OK"; }, std::chrono::seconds(20)))
      << Result(uuid);
  Idle();

  // Typed images, as the cloud's JSON.
  const std::vector<std::string> images = After("items", "NewImage ");
  ASSERT_FALSE(images.empty());
  EXPECT_EQ(json::parse(images.front()),
            json::parse(R"({"id":{"S":"o1"},"sku":{"S":"apple"},"qty":{"N":"2"}})"));
  // The first attempt failed after its write-backs; nothing of it landed.
  std::vector<std::string> lines = LogLines("items");
  EXPECT_EQ(Count(lines, "failing after the write-backs"), 1u);
  EXPECT_EQ(Get("totals", R"({"sku":{"S":"apple"}})"),
            json::parse(R"({"sku":{"S":"apple"},"count":{"N":"2"},"qty":{"N":"5"}})"));
  EXPECT_EQ(Get("totals", R"({"sku":{"S":"pear"}})"),
            json::parse(R"({"sku":{"S":"pear"},"count":{"N":"1"},"qty":{"N":"1"}})"));
  // The put item carries the price read from the other table.
  EXPECT_EQ(
      Get("audit", R"({"id":{"S":"o1"}})"),
      json::parse(R"({"id":{"S":"o1"},"sku":{"S":"apple"},"qty":{"N":"2"},"price":{"N":"1.5"}})"));
  // Read-your-writes: each attempt read its own uncommitted put and update
  // (o1 is the first apple order of the first batch in both attempts).
  EXPECT_EQ(Count(lines, "total apple count=1"), 2u);
  const std::vector<std::string> audits = After("items", "audit o1: ");
  ASSERT_EQ(audits.size(), 2u);
  EXPECT_EQ(json::parse(audits[0]), Get("audit", R"({"id":{"S":"o1"}})"));
  // The malformed item was an error the handler saw, and wrote nothing.
  const std::vector<std::string> bad = After("items", "bad item: ");
  ASSERT_FALSE(bad.empty());
  EXPECT_EQ(bad[0].rfind("rc=" + std::to_string(RUNNEL_ITEM_INVALID) + " error=Item", 0), 0u)
      << bad[0];
  EXPECT_NE(bad[0].find("read=absent"), std::string::npos) << bad[0];
  EXPECT_TRUE(Get("audit", R"({"id":{"S":"bad"}})").is_null());

  // A REMOVE: the handler deletes the audit item and no longer reads it.
  DeleteItemRequest del;
  del.table_name = "orders";
  del.key = J(R"({"id":{"S":"o3"}})");
  WriteItemResult r;
  ASSERT_OK(db_->DeleteItem(del, &r));
  Idle();
  EXPECT_EQ(Count(LogLines("items"), "audit o3 after delete: not found"), 1u);
  EXPECT_TRUE(Get("audit", R"({"id":{"S":"o3"}})").is_null());
  EXPECT_FALSE(Get("audit", R"({"id":{"S":"o1"}})").is_null());

  // The checkpoint landed with the write-backs: a restart delivers nothing
  // again and the totals stay.
  const size_t starts = Count(LogLines("items"), "START RequestId");
  Open();
  Idle();
  EXPECT_EQ(Count(LogLines("items"), "START RequestId"), starts);
  EXPECT_EQ(Get("totals", R"({"sku":{"S":"apple"}})")["count"], json::parse(R"({"N":"2"})"));
}

// Every malformed call is an error with a message the handler reads, at the
// call; nothing of it is written, and the batch goes on.
TEST_F(TriggersItems, BadCallsAreErrorsAtTheCallAndWriteNothing) {
  CreateTyped("src", "id", Stream(StreamViewType::kNewImage));
  CreateTyped("out", "id");
  ASSERT_OK(db_->CreateTable("bytes", StreamSpecification()));
  struct Outcome {
    int rc;
    std::string error;
  };
  std::vector<Outcome> outcomes;
  FunctionConfiguration f;
  f.function_name = "checker";
  ASSERT_OK(t()->RegisterInProcessFunction(f, [&](const runnel_batch&, runnel_context* c) {
    fn::Context ctx(c);
    auto note = [&](int rc) { outcomes.push_back({rc, std::string(ctx.LastError())}); };
    note(ctx.PutItem("out", R"({"id":{"S":"a"},"n":{"N":"1e200"}})"));
    note(ctx.PutItem("out", R"({"id":{"N":"1"}})"));
    note(ctx.PutItem("out", R"({"other":{"S":"x"}})"));
    note(ctx.PutItem("out", R"({"id":{"S":"a"},"s":{"SS":["x","x"]}})"));
    note(ctx.PutItem("out", "not json"));
    note(ctx.DeleteItem("out", R"({"id":{"S":"a"},"extra":{"S":"x"}})"));
    note(ctx.UpdateItem("out", R"({"id":{"S":"a"}})", "SET #id = :v", R"({"#id":"id"})",
                        R"({":v":{"S":"b"}})"));
    note(ctx.UpdateItem("out", R"({"id":{"S":"a"}})", "SET n = :v", "",
                        R"({":v":{"N":"1"},":unused":{"N":"2"}})"));
    note(ctx.UpdateItem("out", R"({"id":{"S":"a"}})", "SET n = n +", "", ""));
    note(ctx.PutItem("missing", R"({"id":{"S":"a"}})"));
    note(ctx.PutItem("bytes", R"({"id":{"S":"a"}})"));
    std::string_view item;
    note(ctx.GetItem("out", R"({"id":{"S":"a"}})", &item));
    return 0;
  }));
  const std::string uuid = Map("checker", "src");
  PutItem("src", R"({"id":{"S":"go"}})");
  Idle();
  EXPECT_EQ(Result(uuid), "OK");
  const int kInvalid = RUNNEL_ITEM_INVALID;
  const std::vector<std::pair<int, std::string>> expect = {{kInvalid, "Item"},
                                                           {kInvalid, "id"},
                                                           {kInvalid, "id"},
                                                           {kInvalid, "Item"},
                                                           {kInvalid, "Item"},
                                                           {kInvalid, "key element"},
                                                           {kInvalid, "part of the key"},
                                                           {kInvalid, ":unused"},
                                                           {kInvalid, "UpdateExpression"},
                                                           {RUNNEL_ITEM_NO_SUCH_TABLE, "missing"},
                                                           {kInvalid, "byte table"},
                                                           {RUNNEL_ITEM_NOT_FOUND, ""}};
  ASSERT_EQ(outcomes.size(), expect.size());
  for (size_t i = 0; i < expect.size(); ++i) {
    EXPECT_EQ(outcomes[i].rc, expect[i].first) << i << ": " << outcomes[i].error;
    EXPECT_NE(outcomes[i].error.find(expect[i].second), std::string::npos)
        << i << ": " << outcomes[i].error;
  }
  EXPECT_TRUE(outcomes.back().error.empty());
  EXPECT_TRUE(Get("out", R"({"id":{"S":"a"}})").is_null());
}

// Invoke has no checkpoint to commit with: item write-backs are applied in
// call order after a successful call (as a handler's calls write at once in
// the cloud), and not at all after a failed one. A byte write to a typed
// table is refused at the call and fails the call.
TEST_F(TriggersItems, InvokeAppliesItemWriteBacksOfASuccessfulCall) {
  CreateTyped("counters", "name");
  std::atomic<bool> fail{false};
  std::atomic<bool> byte_write{false};
  FunctionConfiguration f;
  f.function_name = "counter";
  ASSERT_OK(t()->RegisterInProcessFunction(f, [&](const runnel_batch&, runnel_context* c) {
    fn::Context ctx(c);
    const std::string key = R"({"name":{"S":"hits"}})";
    for (int i = 0; i < 3; ++i) {
      if (ctx.UpdateItem("counters", key, "ADD n :one", "", R"({":one":{"N":"1"}})") != 0) return 1;
    }
    std::string_view item;
    if (ctx.GetItem("counters", key, &item) != RUNNEL_ITEM_OK) return 1;
    ctx.Log("read " + std::string(item));
    if (ctx.PutItem("counters", R"({"name":{"S":"gone"}})") != 0) return 1;
    if (ctx.DeleteItem("counters", R"({"name":{"S":"gone"}})") != 0) return 1;
    if (byte_write && ctx.Put("counters", "k", "v")) return 1;
    return fail ? 1 : 0;
  }));
  std::string response;
  ASSERT_OK(t()->Invoke("counter", R"({"Records":[]})", &response));
  EXPECT_EQ(response.find("FunctionError"), std::string::npos) << response;
  EXPECT_EQ(Get("counters", R"({"name":{"S":"hits"}})"),
            json::parse(R"({"name":{"S":"hits"},"n":{"N":"3"}})"));
  EXPECT_TRUE(Get("counters", R"({"name":{"S":"gone"}})").is_null());
  EXPECT_EQ(After("counter", "read ").front(), R"({"n":{"N":"3"},"name":{"S":"hits"}})");
  fail = true;
  ASSERT_OK(t()->Invoke("counter", R"({"Records":[]})", &response));
  EXPECT_NE(response.find("FunctionError"), std::string::npos) << response;
  fail = false;
  byte_write = true;
  ASSERT_OK(t()->Invoke("counter", R"({"Records":[]})", &response));
  EXPECT_NE(response.find("FunctionError"), std::string::npos) << response;
  EXPECT_EQ(Get("counters", R"({"name":{"S":"hits"}})")["n"], json::parse(R"({"N":"3"})"));
  EXPECT_EQ(Count(LogLines("counter"), "is a typed table: write it with put_item"), 1u);
}

// examples/process_stream.c prints typed records as the tutorial's Node.js
// function does (console.log('DynamoDB Record: %j', record.dynamodb)).
TEST_F(TriggersItems, ProcessStreamPrintsTypedRecordsLikeTheTutorial) {
  CreateTyped("Music", "Artist", Stream(StreamViewType::kNewAndOldImages));
  FunctionConfiguration f;
  f.function_name = "ProcessDynamoDBStream";
  f.library = PROCESS_STREAM;
  ASSERT_OK(t()->CreateFunction(f, nullptr));
  Map("ProcessDynamoDBStream", "Music");
  PutItem("Music", R"({"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}})");
  PutItem("Music", R"({"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Tomorrow"}})");
  Idle();
  const std::vector<std::string> inserts =
      After("ProcessDynamoDBStream", "INSERT DynamoDB Record: ");
  ASSERT_EQ(inserts.size(), 1u);
  const json d = json::parse(inserts[0]);
  EXPECT_EQ(d["Keys"], json::parse(R"({"Artist":{"S":"No One You Know"}})"));
  EXPECT_EQ(d["NewImage"]["SongTitle"], json::parse(R"({"S":"Call Me Today"})"));
  EXPECT_EQ(d["StreamViewType"], "NEW_AND_OLD_IMAGES");
  const std::vector<std::string> modifies =
      After("ProcessDynamoDBStream", "MODIFY DynamoDB Record: ");
  ASSERT_EQ(modifies.size(), 1u);
  const json m = json::parse(modifies[0]);
  EXPECT_EQ(m["OldImage"]["SongTitle"], json::parse(R"({"S":"Call Me Today"})"));
  EXPECT_EQ(m["NewImage"]["SongTitle"], json::parse(R"({"S":"Call Me Tomorrow"})"));
}

}  // namespace
}  // namespace runnel
