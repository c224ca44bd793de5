// Copyright 2026 The runnel Authors.
//
// Reads in handlers (runnel/function.h, ABI 3), with real plugins loaded by
// dlopen, in the host and in a worker process (--isolation process):
//  - get of byte tables: another table, the handler's own pending put and
//    del (read before they are committed), what get refuses; a retried
//    batch reads the committed state, never its failed attempt's writes;
//    a read-modify-write counter is exact;
//  - examples/materialized_view (get_item + put_item/delete_item of a view
//    table) under random INSERT/MODIFY/REMOVE: the view equals a
//    recomputation from the source table;
//  - a plugin built for ABI version 2 still loads and runs.

#include <stdlib.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "runnel/db.h"
#include "runnel/function.h"
#include "runnel/item.h"
#include "runnel/triggers.h"
#include "tests/testutil.h"
#include "tests/view_check.h"

namespace runnel {
namespace {

using test::Stream;
using test::TempDir;

class TriggersReads : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("RUNNEL_WORKER", RUNNEL_WORKER_PATH, 1);
    Open();
  }
  void Open() {
    if (db_) ASSERT_OK(db_->Close());
    db_.reset();
    Options o;
    o.run_triggers = true;
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
  }
  Triggers* t() { return db_->triggers(); }
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
  std::string GetBytes(const std::string& table, const std::string& key) {
    std::string v;
    Status s = db_->Get(ReadOptions(), table, key, &v);
    if (s.IsNotFound()) return "(absent)";
    EXPECT_OK(s);
    return v;
  }
  void Idle() { ASSERT_OK(t()->WaitUntilIdle(std::chrono::seconds(60))); }
  std::vector<std::string> LogLines(const std::string& fn) {
    std::vector<FunctionLogLine> lines;
    EXPECT_OK(t()->ReadFunctionLog(fn, 0, &lines));
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l.text);
    return out;
  }
  size_t Count(const std::string& fn, const std::string& needle) {
    size_t n = 0;
    for (const std::string& l : LogLines(fn)) n += l.find(needle) != std::string::npos;
    return n;
  }
  std::string Result(const std::string& uuid) {
    EventSourceMappingConfiguration c;
    EXPECT_OK(t()->GetEventSourceMapping(uuid, &c));
    return c.last_processing_result;
  }
  std::string Map(const std::string& fn, const std::string& table, uint32_t batch_size) {
    EventSourceMappingConfiguration m;
    m.function_name = fn;
    TableDescription d;
    EXPECT_OK(db_->DescribeTable(table, &d));
    m.event_source = d.latest_stream_arn;
    m.batch_size = batch_size;
    m.starting_position = StartingPosition::kTrimHorizon;
    EventSourceMappingConfiguration created;
    EXPECT_OK(t()->CreateEventSourceMapping(m, &created));
    return created.uuid;
  }
  void CheckByteReads(FunctionIsolation isolation);
  void CheckView(FunctionIsolation isolation, int ops);

  TempDir dir_;
  std::unique_ptr<DB> db_;
};

// A batch of three records, whose first attempt fails after its write-backs:
// each attempt reads another table, the committed state of its output, its
// own puts, and counts with a read-modify-write; the retry starts from the
// committed state (the failed attempt's writes are gone), and the count
// ends exact. A REMOVE deletes and reads its own delete.
TEST_F(TriggersReads, HandlerReadsByteTablesAndItsOwnPendingWrites) {
  CheckByteReads(FunctionIsolation::kInProcess);
}

// The same, with every get crossing from the worker to the host and back.
TEST_F(TriggersReads, IsolatedHandlerReadsByteTablesAndItsOwnPendingWrites) {
  CheckByteReads(FunctionIsolation::kProcess);
}

void TriggersReads::CheckByteReads(FunctionIsolation isolation) {
  const WriteOptions sync{true};
  ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kNewImage)));
  for (const char* table : {"out", "config", "counts"}) {
    ASSERT_OK(db_->CreateTable(table, StreamSpecification()));
  }
  CreateTyped("typed", "id");
  ASSERT_OK(db_->Put(sync, "config", "factor", "x3"));
  ASSERT_OK(db_->Put(sync, "out", "k2", "old"));
  WriteBatch b;
  b.Put("src", "k1", "a");
  b.Put("src", "k2", "b");
  b.Put("src", "k3", "c");
  ASSERT_OK(db_->Write(sync, b));
  FunctionConfiguration f;
  f.function_name = "reads";
  f.library = READS_FUNCTION;
  f.isolation = isolation;
  f.environment = {{"OUT", "out"},
                   {"CONFIG", "config"},
                   {"COUNTS", "counts"},
                   {"TYPED", "typed"},
                   {"FAIL_ONCE", dir_.Sub("failed-once")}};
  ASSERT_OK(t()->CreateFunction(f, nullptr));
  const std::string uuid = Map("reads", "src", 10);
  ASSERT_TRUE(test::WaitFor([&] { return Result(uuid) == "OK"; }, std::chrono::seconds(30)))
      << Result(uuid);
  Idle();

  EXPECT_EQ(Count("reads", "failing after the write-backs"), 1u);
  // The read-modify-write counted each record once, across the failure.
  EXPECT_EQ(GetBytes("counts", "n"), "3");
  EXPECT_EQ(GetBytes("out", "k1"), "a/x3");  // with the value read from config
  EXPECT_EQ(GetBytes("out", "k2"), "b/x3");
  EXPECT_EQ(GetBytes("out", "k3"), "c/x3");
  // Both attempts read the committed state: the retry never saw the failed
  // attempt's put of k2 nor its count.
  EXPECT_EQ(Count("reads", "before k2: old"), 2u);
  EXPECT_EQ(Count("reads", "count before k1: 0"), 2u);
  // Each attempt read its own pending writes.
  EXPECT_EQ(Count("reads", "count before k3: 2"), 2u);
  EXPECT_EQ(Count("reads", "own put k2: b/x3"), 2u);
  const std::string refused = "refused: " + std::to_string(RUNNEL_ITEM_INVALID) +
                              ":table 'typed' is a typed table: read it with get_item| " +
                              std::to_string(RUNNEL_ITEM_NO_SUCH_TABLE) +
                              ":Requested resource not found: table 'missing' does not exist| " +
                              std::to_string(RUNNEL_ITEM_INVALID) +
                              ":key: must be 1 to 4096 bytes, got 0|";
  EXPECT_EQ(Count("reads", refused), 2u) << LogLines("reads").back();

  // A REMOVE: the handler deletes k1 and reads its own delete; the next
  // write of k1 reads the committed delete.
  ASSERT_OK(db_->Delete(sync, "src", "k1"));
  Idle();
  EXPECT_EQ(Count("reads", "own delete k1: absent"), 1u);
  EXPECT_EQ(GetBytes("out", "k1"), "(absent)");
  ASSERT_OK(db_->Put(sync, "src", "k1", "z"));
  Idle();
  // (Both attempts of the first batch read k1 absent too.)
  EXPECT_EQ(Count("reads", "before k1: absent"), 3u);
  EXPECT_EQ(Count("reads", "own put k1: z/x3"), 1u);
  EXPECT_EQ(GetBytes("out", "k1"), "z/x3");
  EXPECT_EQ(GetBytes("counts", "n"), "4");

  // The checkpoint landed with the writes: a restart delivers nothing again.
  const size_t starts = Count("reads", "START RequestId");
  Open();
  Idle();
  EXPECT_EQ(Count("reads", "START RequestId"), starts);
  EXPECT_EQ(GetBytes("counts", "n"), "4");
}

// examples/materialized_view under random changes of the source table:
// inserts, updates that move an item to another group or change its amount
// (or change nothing the view sees), items that contribute nothing, and
// deletes, written while the mapping runs. At a few quiet points and at the
// end, the view equals a recomputation from the source table.
TEST_F(TriggersReads, MaterializedViewFollowsRandomInsertModifyRemove) {
  CheckView(FunctionIsolation::kInProcess, 600);
}

TEST_F(TriggersReads, IsolatedMaterializedViewFollowsRandomInsertModifyRemove) {
  CheckView(FunctionIsolation::kProcess, 200);
}

void TriggersReads::CheckView(FunctionIsolation isolation, int ops) {
  CreateTyped("orders", "id", Stream(StreamViewType::kNewAndOldImages));
  CreateTyped("totals", "group");
  FunctionConfiguration f;
  f.function_name = "view";
  f.library = MATERIALIZED_VIEW;
  f.isolation = isolation;
  f.environment = {{"VIEW_TABLE", "totals"}};
  ASSERT_OK(t()->CreateFunction(f, nullptr));
  const uint64_t seed = std::random_device()();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const std::string uuid = Map("view", "orders", 1 + static_cast<uint32_t>(rng() % 20));
  auto check = [&](const char* when) {
    Idle();
    test::ViewTotals want, got;
    ASSERT_OK(test::RecomputeView(db_.get(), "orders", &want));
    ASSERT_OK(test::ReadView(db_.get(), "totals", &got));
    EXPECT_EQ(test::DiffViews(want, got), "") << when << ", seed " << seed;
    EXPECT_EQ(Result(uuid), "OK") << when;
  };
  int moves = 0;
  for (int i = 0; i < ops; ++i) {
    const std::string id = "o" + std::to_string(rng() % 25);
    const std::string key = R"({"id":{"S":")" + id + R"("}})";
    const std::string group = "g" + std::to_string(rng() % 4);
    const std::string amount = std::to_string(static_cast<int64_t>(rng() % 301) - 100);
    const uint64_t r = rng() % 20;
    WriteItemResult res;
    if (r < 8) {
      PutItemRequest q;
      q.table_name = "orders";
      // Now and then an item the view does not count.
      const std::string value = r == 0   ? R"("note":{"S":"no amount"})"
                                : r == 1 ? R"("amount":{"N":"2.5"})"
                                         : R"("amount":{"N":")" + amount + R"("})";
      q.item = J(R"({"id":{"S":")" + id + R"("},"group":{"S":")" + group + R"("},)" + value + "}");
      ASSERT_OK(db_->PutItem(q, &res));
    } else if (r < 16) {
      UpdateItemRequest q;
      q.table_name = "orders";
      q.key = J(key);
      q.expression_attribute_names = {{"#g", "group"}};
      if (r < 11) {
        q.update_expression = "SET #g = :g";
        q.expression_attribute_values = J(R"({":g":{"S":")" + group + R"("}})");
        ++moves;
      } else if (r < 14) {
        q.update_expression = "SET amount = :a";
        q.expression_attribute_names.clear();
        q.expression_attribute_values = J(R"({":a":{"N":")" + amount + R"("}})");
      } else if (r < 15) {
        q.update_expression = "SET note = :n";
        q.expression_attribute_names.clear();
        q.expression_attribute_values = J(R"({":n":{"S":")" + std::to_string(i) + R"("}})");
      } else {
        q.update_expression = "REMOVE #g";
      }
      ASSERT_OK(db_->UpdateItem(q, &res));
    } else {
      DeleteItemRequest q;
      q.table_name = "orders";
      q.key = J(key);
      ASSERT_OK(db_->DeleteItem(q, &res));
    }
    if (i % 150 == 149) check(("after " + std::to_string(i + 1) + " writes").c_str());
  }
  check("at the end");
  EXPECT_GT(moves, 0);
  test::ViewTotals got;
  ASSERT_OK(test::ReadView(db_.get(), "totals", &got));
  EXPECT_GE(got.size(), 2u);  // a view worth checking
}

// A plugin built for ABI version 2 (before get) still loads and runs; it
// sees the host's version in its context.
TEST_F(TriggersReads, Version2PluginStillLoadsAndRuns) {
  ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kNewImage)));
  ASSERT_OK(db_->CreateTable("out", StreamSpecification()));
  FunctionConfiguration f;
  f.function_name = "v2";
  f.library = ABI_V2;
  ASSERT_OK(t()->CreateFunction(f, nullptr));
  Map("v2", "src", 10);
  ASSERT_OK(db_->Put(WriteOptions{true}, "src", "k", "v"));
  Idle();
  EXPECT_EQ(GetBytes("out", "k"), "v2 saw abi " + std::to_string(RUNNEL_FUNCTION_ABI_VERSION));
  EXPECT_EQ(RUNNEL_FUNCTION_ABI_VERSION, 3u);
}

}  // namespace
}  // namespace runnel
