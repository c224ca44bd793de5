// Copyright 2026 The runnel Authors.
//
// FilterCriteria at run time, with a real plugin (dlopen): records that match
// no filter are never delivered, the mapping's position moves past them
// durably (also when a whole batch is filtered out), the metric counts them;
// filters are stored with the mapping, replaced and cleared by an update,
// and invalid ones are refused without changing anything.

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "runnel/db.h"
#include "runnel/function.hpp"
#include "runnel/item.h"
#include "runnel/triggers.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Numbered;
using test::Stream;
using test::TempDir;

constexpr char kPriceAtLeast50[] =
    R"({"dynamodb":{"NewImage":{"price":{"N":[{"numeric":[">=",50]}]}}}})";
constexpr char kRemoves[] = R"({"eventName":["REMOVE"]})";

class TriggersFilter : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(bool run = true) {
    if (db_) ASSERT_OK(db_->Close());
    db_.reset();
    Options o;
    o.run_triggers = run;
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
  }
  Triggers* t() { return db_->triggers(); }
  void Put(const std::string& table, const std::string& k, const std::string& v) {
    ASSERT_OK(db_->Put(WriteOptions(), table, k, v));
  }
  void Idle() { ASSERT_OK(t()->WaitUntilIdle(std::chrono::seconds(20))); }
  // A byte table "src" with a stream, a table "Seen", and function "rec"
  // (one item into Seen per delivered record, its batch sizes appended to
  // the count file).
  void MakeSource() {
    ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kNewAndOldImages)));
    ASSERT_OK(db_->CreateTable("Seen", StreamSpecification()));
    FunctionConfiguration f;
    f.function_name = "rec";
    f.library = TEST_FUNCTION;
    f.environment = {{"TARGET", "Seen"}, {"COUNT_FILE", dir_.Sub("counts")}};
    ASSERT_OK(t()->CreateFunction(f, nullptr));
  }
  std::string CreateMapping(std::vector<std::string> filters, uint32_t batch_size = 10) {
    EventSourceMappingConfiguration m;
    m.function_name = "rec";
    m.event_source = "src";
    m.batch_size = batch_size;
    m.filter_patterns = std::move(filters);
    EventSourceMappingConfiguration created;
    EXPECT_OK(t()->CreateEventSourceMapping(m, &created));
    return created.uuid;
  }
  // Seen's values ("<event> <key> <new image>") in delivery (sequence) order.
  std::vector<std::string> Seen() {
    std::vector<std::pair<std::string, std::string>> items;
    EXPECT_OK(test::ScanAll(db_.get(), "Seen", &items));
    std::vector<std::string> out;
    for (auto& [seq, value] : items) out.push_back(value);
    return out;
  }
  // The batch sizes the function was invoked with.
  std::vector<int> Invocations() {
    std::ifstream in(dir_.Sub("counts"));
    std::vector<int> out;
    for (int n; in >> n;) out.push_back(n);
    return out;
  }
  MappingMetrics Metrics(const std::string& uuid) {
    MappingMetrics m;
    EXPECT_OK(t()->GetMappingMetrics(uuid, &m));
    return m;
  }
  static std::string Price(int i) { return "{\"price\":" + std::to_string(i) + "}"; }

  TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(TriggersFilter, OnlyMatchingRecordsAreDeliveredInOrder) {
  MakeSource();
  const std::string uuid = CreateMapping({kPriceAtLeast50, kRemoves});
  // Prices go up and down, so matching records are spread over the batches.
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    const int price = (i * 37) % 100;
    Put("src", Numbered("k", i), Price(price));
    if (price >= 50) expected.push_back("INSERT " + Numbered("k", i) + " " + Price(price));
  }
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(db_->Delete(WriteOptions(), "src", Numbered("k", i)));
    expected.push_back("REMOVE " + Numbered("k", i) + " ");
  }
  Idle();
  EXPECT_EQ(Seen(), expected);  // exactly the matching records, in order
  const MappingMetrics m = Metrics(uuid);
  EXPECT_EQ(m.records_filtered_out, 105u - expected.size());
  EXPECT_EQ(m.records_in, expected.size());
  // No invocation was given an empty batch, and the batches hold exactly
  // the delivered records. (How many batches depends on how far the
  // commits were ahead of the mapping: a slow machine reads smaller ones.)
  const std::vector<int> calls = Invocations();
  ASSERT_FALSE(calls.empty());
  size_t delivered = 0;
  for (int n : calls) {
    EXPECT_GT(n, 0);
    delivered += static_cast<size_t>(n);
  }
  EXPECT_EQ(delivered, expected.size());
  EXPECT_EQ(m.invocations, calls.size());
}

TEST_F(TriggersFilter, FilteredOutBatchesAdvanceThePositionDurably) {
  MakeSource();
  const std::string uuid = CreateMapping({kRemoves});
  for (int i = 0; i < 60; ++i) Put("src", Numbered("k", i), Price(i));
  Idle();
  MappingMetrics m = Metrics(uuid);
  EXPECT_EQ(m.invocations, 0u);  // every batch was filtered out
  EXPECT_EQ(m.records_filtered_out, 60u);
  const SequenceNumber past = m.position;
  EXPECT_GT(past, 60u);
  EXPECT_TRUE(Invocations().empty());
  // The checkpoint is past them after a restart: reopened without the
  // runtime, the stored position says so.
  Open(/*run=*/false);
  m = Metrics(uuid);
  EXPECT_EQ(m.position, past);
  // And the runtime does not read them again: nothing is filtered anew, and
  // the one matching record after them is delivered.
  Open();
  ASSERT_OK(db_->Delete(WriteOptions(), "src", Numbered("k", 7)));
  Idle();
  EXPECT_EQ(Seen(), std::vector<std::string>{"REMOVE " + Numbered("k", 7) + " "});
  m = Metrics(uuid);
  EXPECT_EQ(m.records_filtered_out, 0u);
  EXPECT_EQ(m.invocations, 1u);
}

TEST_F(TriggersFilter, PositionIsKeptAcrossARestartInTheMiddle) {
  MakeSource();
  EventSourceMappingConfiguration m;
  m.function_name = "rec";
  m.event_source = "src";
  m.batch_size = 3;
  m.filter_patterns = {R"({"dynamodb":{"Keys":{"key":{"S":[{"suffix":"0"}]}}}})"};
  ASSERT_OK(t()->CreateEventSourceMapping(m, nullptr));
  for (int i = 0; i < 300; ++i) Put("src", Numbered("k", i), Price(i));
  // Close while the backlog is being worked on, reopen, let it finish.
  ASSERT_TRUE(test::WaitFor([&] { return !Seen().empty(); }, std::chrono::seconds(20)));
  Open();
  Idle();
  std::vector<std::string> expected;
  for (int i = 0; i < 300; i += 10) {
    expected.push_back("INSERT " + Numbered("k", i) + " " + Price(i));
  }
  EXPECT_EQ(Seen(), expected);  // each matching record once, in order
}

TEST_F(TriggersFilter, TypedTableAttributesAreMatchedWithTheirTypes) {
  TableSchema schema;
  schema.key_schema = {{"id", KeyType::kHash}};
  schema.attribute_definitions = {{"id", ScalarAttributeType::kS}};
  ASSERT_OK(db_->CreateTable("orders", Stream(StreamViewType::kNewAndOldImages), schema));
  std::vector<std::string> delivered;
  FunctionConfiguration f;
  f.function_name = "big";
  std::mutex mu;
  ASSERT_OK(t()->RegisterInProcessFunction(f, [&](const runnel_batch& b, runnel_context* ctx) {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = 0; i < b.count; ++i) {
      size_t len = 0;
      const char* keys = runnel_record_json(ctx, &b.records[i], RUNNEL_RECORD_KEYS, &len);
      if (keys == nullptr) return 1;
      delivered.push_back(nlohmann::json::parse(std::string(keys, len))["id"]["S"]);
    }
    return 0;
  }));
  EventSourceMappingConfiguration m;
  m.function_name = "big";
  m.event_source = "orders";
  m.filter_patterns = {
      R"({"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{
          "price":{"N":[{"numeric":[">",100]}]},"status":{"S":[{"anything-but":"void"}]}}}})"};
  ASSERT_OK(t()->CreateEventSourceMapping(m, nullptr));
  const char* items[] = {
      R"({"id":{"S":"a"},"price":{"N":"150"},"status":{"S":"new"}})",
      R"({"id":{"S":"b"},"price":{"N":"99.99"},"status":{"S":"new"}})",
      R"({"id":{"S":"c"},"price":{"N":"1e3"},"status":{"S":"void"}})",
      R"({"id":{"S":"d"},"price":{"S":"150"},"status":{"S":"new"}})",
      R"({"id":{"S":"e"},"price":{"N":"100.5"}})",
  };
  for (const char* text : items) {
    PutItemRequest q;
    q.table_name = "orders";
    ASSERT_OK(ItemFromJson(text, &q.item));
    WriteItemResult r;
    ASSERT_OK(db_->PutItem(q, &r));
  }
  Idle();
  std::lock_guard<std::mutex> lock(mu);
  // a: N above 100; b: not above; c: excluded status; d: price is a string
  // (S), not a number; e: no status at all (anything-but needs a value).
  EXPECT_EQ(delivered, std::vector<std::string>{"a"});
}

TEST_F(TriggersFilter, FiltersAreStoredReplacedAndClearedByUpdate) {
  MakeSource();
  const std::string uuid = CreateMapping({kRemoves, kPriceAtLeast50});
  Open();
  EventSourceMappingConfiguration c;
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &c));
  EXPECT_EQ(c.filter_patterns, (std::vector<std::string>{kRemoves, kPriceAtLeast50}));
  // An update without filters keeps them.
  EventSourceMappingUpdate u;
  u.batch_size = 5;
  ASSERT_OK(t()->UpdateEventSourceMapping(uuid, u, &c));
  EXPECT_EQ(c.filter_patterns.size(), 2u);
  // An invalid pattern is refused, naming it, and changes nothing.
  u = EventSourceMappingUpdate();
  u.filter_patterns = std::vector<std::string>{kRemoves, R"({"eventName":[{"numeric":[">"]}]})"};
  Status s = t()->UpdateEventSourceMapping(uuid, u, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("FilterCriteria.Filters[1].Pattern: key eventName: numeric: "),
            std::string::npos)
      << s.ToString();
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &c));
  EXPECT_EQ(c.filter_patterns, (std::vector<std::string>{kRemoves, kPriceAtLeast50}));
  // Six filters are one too many.
  u.filter_patterns = std::vector<std::string>(6, kRemoves);
  s = t()->UpdateEventSourceMapping(uuid, u, nullptr);
  EXPECT_EQ(s.message(), "FilterCriteria: at most 5 filters, got 6");
  // Replaced, then cleared: everything is delivered again.
  u.filter_patterns = std::vector<std::string>{kRemoves};
  ASSERT_OK(t()->UpdateEventSourceMapping(uuid, u, &c));
  EXPECT_EQ(c.filter_patterns, std::vector<std::string>{kRemoves});
  Put("src", "a", Price(1));
  Idle();
  EXPECT_TRUE(Seen().empty());
  u.filter_patterns = std::vector<std::string>();
  ASSERT_OK(t()->UpdateEventSourceMapping(uuid, u, &c));
  EXPECT_TRUE(c.filter_patterns.empty());
  Put("src", "b", Price(2));
  Idle();
  EXPECT_EQ(Seen(), std::vector<std::string>{"INSERT b " + Price(2)});
  Open();
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &c));
  EXPECT_TRUE(c.filter_patterns.empty());
}

TEST_F(TriggersFilter, InvalidPatternAtCreateCreatesNothing) {
  MakeSource();
  EventSourceMappingConfiguration m;
  m.function_name = "rec";
  m.event_source = "src";
  m.filter_patterns = {R"({"eventName":["INSERT"]})", "not json"};
  Status s = t()->CreateEventSourceMapping(m, nullptr);
  EXPECT_EQ(s.message(), "FilterCriteria.Filters[1].Pattern: pattern: not valid JSON");
  std::vector<EventSourceMappingConfiguration> all;
  std::string next;
  ASSERT_OK(t()->ListEventSourceMappings("", "", "", 0, &all, &next));
  EXPECT_TRUE(all.empty());
}

}  // namespace
}  // namespace runnel
