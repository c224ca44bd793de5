// Copyright 2026 The runnel Authors.
//
// Snapshot bootstrap (StartingPosition SNAPSHOT) at run time, with a real
// plugin (tests/plugins/snapshot_function.c): a new mapping first receives
// every item of the table from one snapshot at S, as snapshot records, then
// the stream after S; no item missed or doubled, even when retention trimmed
// the stream's start and across a restart during the snapshot phase.
// Filters and batch sizes apply to snapshot records; typed tables and
// isolated functions work; a version-2 plugin still loads and gets records.

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runnel/db.h"
#include "runnel/item.h"
#include "runnel/triggers.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Stream;
using test::TempDir;

class TriggersSnapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("RUNNEL_WORKER", RUNNEL_WORKER_PATH, 1);
    Open(false);
  }
  void Open(bool run, uint64_t max_log_bytes = 0) {
    if (db_) ASSERT_OK(db_->Close());
    db_.reset();
    Options o;
    o.run_triggers = run;
    o.segment_bytes = 64 << 10;
    o.write_buffer_bytes = 64 << 10;  // the index flushes often
    o.retention_seconds = 0;
    o.max_log_bytes = max_log_bytes;
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
  }
  Triggers* t() { return db_->triggers(); }
  void Put(const std::string& k, const std::string& v) {
    ASSERT_OK(db_->Put(WriteOptions(), "src", k, v));
  }
  void Del(const std::string& k) { ASSERT_OK(db_->Delete(WriteOptions(), "src", k)); }
  void Idle() { ASSERT_OK(t()->WaitUntilIdle(std::chrono::seconds(60))); }
  void MakeSource(std::map<std::string, std::string> env = {},
                  FunctionIsolation isolation = FunctionIsolation::kInProcess) {
    ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kNewAndOldImages)));
    ASSERT_OK(db_->CreateTable("Seen", StreamSpecification()));
    FunctionConfiguration f;
    f.function_name = "rec";
    f.library = SNAPSHOT_FUNCTION;
    f.environment = std::move(env);
    f.environment["TARGET"] = "Seen";
    f.environment["COUNT_FILE"] = dir_.Sub("counts");
    f.isolation = isolation;
    ASSERT_OK(t()->CreateFunction(f, nullptr));
  }
  std::string CreateMapping(uint32_t batch_size, std::vector<std::string> filters = {}) {
    EventSourceMappingConfiguration m;
    m.function_name = "rec";
    m.event_source = "src";
    m.batch_size = batch_size;
    m.starting_position = StartingPosition::kSnapshot;
    m.filter_patterns = std::move(filters);
    EventSourceMappingConfiguration created;
    EXPECT_OK(t()->CreateEventSourceMapping(m, &created));
    EXPECT_EQ(created.starting_position, StartingPosition::kSnapshot);
    return created.uuid;
  }
  // The table as the function saw it: per key, the snapshot state (with
  // the snapshot's sequence) and then the stream records after it. Adds a
  // failure for a key delivered by the snapshot twice, or a stream record
  // at or below its key's snapshot sequence.
  std::map<std::string, std::string> Delivered(size_t* snapshot_records,
                                               std::map<std::string, uint64_t>* snap_seq) {
    std::vector<std::pair<std::string, std::string>> items;
    EXPECT_OK(test::ScanAll(db_.get(), "Seen", &items));
    std::map<std::string, std::optional<std::string>> state;
    *snapshot_records = 0;
    for (const auto& [k, v] : items) {
      if (k.rfind("s/", 0) != 0) continue;
      const size_t slash = k.rfind('/');
      const std::string key = k.substr(2, slash - 2);
      const uint64_t seq = std::stoull(k.substr(slash + 1));
      EXPECT_EQ(snap_seq->count(key), 0u) << "snapshot delivered " << key << " twice";
      (*snap_seq)[key] = seq;
      state[key] = v;
      ++*snapshot_records;
    }
    for (const auto& [k, v] : items) {  // "t/<seq>" in sequence order
      if (k.rfind("t/", 0) != 0) continue;
      const uint64_t seq = std::stoull(k.substr(2));
      const size_t sp1 = v.find(' '), sp2 = v.find(' ', sp1 + 1);
      const std::string event = v.substr(0, sp1);
      const std::string key = v.substr(sp1 + 1, sp2 - sp1 - 1);
      auto s = snap_seq->find(key);
      EXPECT_TRUE(s == snap_seq->end() || seq > s->second)
          << "stream record " << seq << " of " << key << " doubles the snapshot at " << s->second;
      if (event == "REMOVE") {
        state[key] = std::nullopt;
      } else {
        state[key] = v.substr(sp2 + 1);
      }
    }
    std::map<std::string, std::string> out;
    for (auto& [k, v] : state) {
      if (v) out[k] = *v;
    }
    return out;
  }
  std::map<std::string, std::string> Table() {
    std::vector<std::pair<std::string, std::string>> items;
    EXPECT_OK(test::ScanAll(db_.get(), "src", &items));
    return {items.begin(), items.end()};
  }
  std::vector<std::pair<size_t, size_t>> Batches() {
    std::ifstream in(dir_.Sub("counts"));
    std::vector<std::pair<size_t, size_t>> out;
    size_t n, s;
    while (in >> n >> s) out.emplace_back(n, s);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(TriggersSnapshot, DeliversEveryItemThenTheStreamEvenAfterRetentionTrimmedItsStart) {
  ASSERT_NO_FATAL_FAILURE(MakeSource());
  // History the stream no longer holds: many versions, deletes, then a
  // size cap trims the log's start.
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 300; ++i) Put("k" + std::to_string(i), std::string(200, 'a' + round));
  }
  for (int i = 0; i < 300; i += 7) Del("k" + std::to_string(i));
  ASSERT_NO_FATAL_FAILURE(Open(false, 128 << 10));
  int deleted = 0;
  ASSERT_OK(db_->RunRetention(&deleted));
  ASSERT_GT(deleted, 0);
  ASSERT_GT(db_->FirstAvailableSequence(), 1u);

  const std::string uuid = CreateMapping(7);
  ASSERT_OK(t()->Start());
  Idle();
  MappingMetrics m;
  ASSERT_OK(t()->GetMappingMetrics(uuid, &m));
  const auto table = Table();
  EXPECT_TRUE(m.snapshot_done);
  EXPECT_EQ(m.snapshot_records, table.size());
  EXPECT_GT(m.snapshot_sequence, 0u);
  size_t snaps = 0;
  std::map<std::string, uint64_t> seqs;
  EXPECT_EQ(Delivered(&snaps, &seqs), table);
  EXPECT_EQ(snaps, table.size());
  for (const auto& [k, s] : seqs) EXPECT_EQ(s, m.snapshot_sequence) << k;
  for (const auto& [n, s] : Batches()) {
    EXPECT_LE(n, 7u);
    EXPECT_EQ(s, n);  // snapshot batches hold only snapshot records
  }

  // Then the stream after S.
  for (int i = 0; i < 50; ++i) Put("k" + std::to_string(i), "new" + std::to_string(i));
  for (int i = 50; i < 60; ++i) Del("k" + std::to_string(i));
  Put("fresh", "x");
  Idle();
  snaps = 0;
  seqs.clear();
  EXPECT_EQ(Delivered(&snaps, &seqs), Table());
  EXPECT_EQ(snaps, table.size());
  EXPECT_EQ(t()->GetMappingMetrics(uuid, &m).ok(), true);
  EXPECT_EQ(m.snapshot_records, table.size());
  EventSourceMappingConfiguration got;
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &got));
  EXPECT_EQ(got.last_processing_result, "OK");
}

TEST_F(TriggersSnapshot, RestartsDuringTheSnapshotMissAndDoubleNothing) {
  ASSERT_NO_FATAL_FAILURE(MakeSource({{"SLEEP_MS", "10"}}));
  // 120 batches of at least 10 ms: the restarts below land mid-snapshot.
  for (int i = 0; i < 600; ++i) Put("k" + std::to_string(1000 + i), "v0");
  const std::string uuid = CreateMapping(5);
  int restarts = 0;
  for (int round = 1; round <= 4; ++round) {
    ASSERT_NO_FATAL_FAILURE(Open(true, 256 << 10));
    // Writes race the scan: updates ahead of and behind it, deletes, inserts.
    for (int i = 0; i < 60; ++i) {
      const int k = 1000 + (i * 37 + round * 11) % 620;
      if (i % 5 == 0) {
        Del("k" + std::to_string(k));
      } else {
        Put("k" + std::to_string(k), "v" + std::to_string(round) + "." + std::to_string(i));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    MappingMetrics m;
    ASSERT_OK(t()->GetMappingMetrics(uuid, &m));
    if (!m.snapshot_done) ++restarts;
    // Retention under a size cap must keep what the mapping still needs.
    ASSERT_OK(db_->RunRetention(nullptr));
  }
  EXPECT_GE(restarts, 1) << "the snapshot ended before the restarts";
  ASSERT_NO_FATAL_FAILURE(Open(true, 256 << 10));
  Idle();
  MappingMetrics m;
  ASSERT_OK(t()->GetMappingMetrics(uuid, &m));
  EXPECT_TRUE(m.snapshot_done);
  size_t snaps = 0;
  std::map<std::string, uint64_t> seqs;
  EXPECT_EQ(Delivered(&snaps, &seqs), Table());
  EXPECT_EQ(m.snapshot_records, snaps);
  std::map<uint64_t, int> passes;
  for (const auto& [k, s] : seqs) ++passes[s];
  EXPECT_GE(passes.size(), 2u) << "the scan never resumed as of a newer snapshot";
  EventSourceMappingConfiguration got;
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &got));
  EXPECT_EQ(got.last_processing_result, "OK");
}

TEST_F(TriggersSnapshot, RetentionKeepsTheStreamAfterTheSnapshotAlsoAcrossARestart) {
  ASSERT_NO_FATAL_FAILURE(MakeSource({{"SLEEP_MS", "20"}}));
  for (int i = 0; i < 200; ++i) Put("k" + std::to_string(1000 + i), "v0");
  const std::string uuid = CreateMapping(2);
  ASSERT_NO_FATAL_FAILURE(Open(true, 128 << 10));
  MappingMetrics m;
  for (int i = 0; i < 500 && m.snapshot_sequence == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_OK(t()->GetMappingMetrics(uuid, &m));
  }
  ASSERT_GT(m.snapshot_sequence, 0u);
  ASSERT_FALSE(m.snapshot_done);
  const SequenceNumber s = m.snapshot_sequence;
  // Enough writes after S to exceed the size cap many times over.
  const std::string big(2000, 'x');
  for (int i = 0; i < 300; ++i) Put("k" + std::to_string(1000 + i % 250), big + std::to_string(i));
  int deleted = 0;
  ASSERT_OK(db_->RunRetention(&deleted));
  EXPECT_LE(db_->FirstAvailableSequence(), s + 1);
  // After a restart, before the runtime runs: the floor comes back from the
  // checkpoint.
  ASSERT_NO_FATAL_FAILURE(Open(false, 128 << 10));
  ASSERT_OK(t()->GetMappingMetrics(uuid, &m));
  ASSERT_FALSE(m.snapshot_done);
  for (int i = 0; i < 100; ++i) Put("k" + std::to_string(1000 + i), big + "again");
  ASSERT_OK(db_->RunRetention(&deleted));
  EXPECT_LE(db_->FirstAvailableSequence(), s + 1);
  ASSERT_OK(t()->Start());
  Idle();
  ASSERT_OK(t()->GetMappingMetrics(uuid, &m));
  EXPECT_TRUE(m.snapshot_done);
  size_t snaps = 0;
  std::map<std::string, uint64_t> seqs;
  EXPECT_EQ(Delivered(&snaps, &seqs), Table());
  EventSourceMappingConfiguration got;
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &got));
  EXPECT_EQ(got.last_processing_result, "OK");
  // Past the snapshot, the floor is released: retention trims again.
  for (int i = 0; i < 100; ++i) Put("k" + std::to_string(1000 + i), big + "more");
  Idle();
  ASSERT_NO_FATAL_FAILURE(Open(false, 128 << 10));
  ASSERT_OK(db_->RunRetention(&deleted));
  EXPECT_GT(db_->FirstAvailableSequence(), s + 1);
}

TEST_F(TriggersSnapshot, FiltersApplyToSnapshotRecords) {
  ASSERT_NO_FATAL_FAILURE(MakeSource());
  for (int i = 0; i < 40; ++i) Put("k" + std::to_string(i), i % 2 ? "odd" : "even");
  const std::string uuid =
      CreateMapping(10, {R"({"dynamodb":{"NewImage":{"value":{"S":["odd"]}}}})"});
  ASSERT_OK(t()->Start());
  Idle();
  size_t snaps = 0;
  std::map<std::string, uint64_t> seqs;
  const auto got = Delivered(&snaps, &seqs);
  EXPECT_EQ(snaps, 20u);
  for (const auto& [k, v] : got) EXPECT_EQ(v, "odd") << k;
  MappingMetrics m;
  ASSERT_OK(t()->GetMappingMetrics(uuid, &m));
  EXPECT_EQ(m.snapshot_records, 20u);
  EXPECT_EQ(m.records_filtered_out, 20u);
  EXPECT_TRUE(m.snapshot_done);
}

TEST_F(TriggersSnapshot, FailingSnapshotBatchGoesToTheFailureDestinationAfterRetries) {
  ASSERT_NO_FATAL_FAILURE(MakeSource({{"FAIL_KEY", "k13"}}));
  ASSERT_OK(db_->CreateTable("dlq", StreamSpecification()));
  for (int i = 10; i < 30; ++i) Put("k" + std::to_string(i), "v");
  EventSourceMappingConfiguration c;
  c.function_name = "rec";
  c.event_source = "src";
  c.batch_size = 4;
  c.starting_position = StartingPosition::kSnapshot;
  c.maximum_retry_attempts = 1;
  c.on_failure_destination = "dlq";
  EventSourceMappingConfiguration created;
  ASSERT_OK(t()->CreateEventSourceMapping(c, &created));
  ASSERT_OK(t()->Start());
  std::vector<std::pair<std::string, std::string>> dlq;
  // Idle also while the failing batch backs off: wait for the destination.
  for (int i = 0; i < 500 && dlq.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_OK(test::ScanAll(db_.get(), "dlq", &dlq));
  }
  Idle();
  ASSERT_EQ(dlq.size(), 1u);
  const auto j = nlohmann::json::parse(dlq[0].second);
  EXPECT_EQ(j["requestContext"]["condition"], "RetryAttemptsExhausted");
  EXPECT_EQ(j["DDBStreamBatchInfo"]["batchSize"], 4);
  EXPECT_EQ(j["DDBStreamBatchInfo"]["runnelSnapshot"], true);
  size_t snaps = 0;
  std::map<std::string, uint64_t> seqs;
  const auto got = Delivered(&snaps, &seqs);
  EXPECT_EQ(snaps, 16u);  // k12..k15 went to the destination
  EXPECT_EQ(got.count("k13"), 0u);
  MappingMetrics m;
  ASSERT_OK(t()->GetMappingMetrics(created.uuid, &m));
  EXPECT_EQ(m.snapshot_records, 20u);
  EXPECT_TRUE(m.snapshot_done);
}

TEST_F(TriggersSnapshot, TypedTableRecordsAreMarkedInTheEventJson) {
  TableSchema schema;
  schema.key_schema = {{"pk", KeyType::kHash}};
  schema.attribute_definitions = {{"pk", ScalarAttributeType::kS}};
  ASSERT_OK(db_->CreateTable("items", Stream(StreamViewType::kNewImage), schema));
  for (int i = 0; i < 12; ++i) {
    PutItemRequest r;
    r.table_name = "items";
    ASSERT_OK(ItemFromJson(
        R"({"pk":{"S":"p)" + std::to_string(i) + R"("},"n":{"N":")" + std::to_string(i) + R"("}})",
        &r.item));
    WriteItemResult w;
    ASSERT_OK(db_->PutItem(r, &w));
  }
  std::vector<nlohmann::json> events;
  std::mutex mu;
  FunctionConfiguration f;
  f.function_name = "json";
  ASSERT_OK(t()->RegisterInProcessFunction(f, [&](const runnel_batch& b, runnel_context* ctx) {
    size_t len = 0;
    const char* ev = ctx->api->event_json(ctx, &len);
    std::lock_guard<std::mutex> lock(mu);
    const nlohmann::json event = nlohmann::json::parse(std::string(ev, len));
    for (const auto& r : event["Records"]) events.push_back(r);
    for (size_t i = 0; i < b.count; ++i) EXPECT_TRUE(b.records[i].typed);
    return 0;
  }));
  EventSourceMappingConfiguration c;
  c.function_name = "json";
  c.event_source = "items";
  c.batch_size = 5;
  c.starting_position = StartingPosition::kSnapshot;
  ASSERT_OK(t()->CreateEventSourceMapping(c, nullptr));
  ASSERT_OK(t()->Start());
  Idle();
  EventSourceMappingConfiguration got;
  std::vector<EventSourceMappingConfiguration> all;
  ASSERT_OK(t()->ListEventSourceMappings("json", "", "", 0, &all, nullptr));
  ASSERT_EQ(all.size(), 1u);
  std::lock_guard<std::mutex> lock(mu);
  MappingMetrics mm;
  ASSERT_OK(t()->GetMappingMetrics(all[0].uuid, &mm));
  ASSERT_EQ(events.size(), 12u) << all[0].last_processing_result << " invocations "
                                << mm.invocations << " snapshot records " << mm.snapshot_records
                                << " done " << mm.snapshot_done;
  std::set<std::string> ids;
  for (const auto& r : events) {
    EXPECT_EQ(r["eventName"], "INSERT");
    EXPECT_EQ(r["runnelSnapshot"], true);
    EXPECT_TRUE(r["dynamodb"]["NewImage"].contains("n")) << r.dump();
    EXPECT_TRUE(r["dynamodb"]["Keys"]["pk"].contains("S")) << r.dump();
    EXPECT_FALSE(r["dynamodb"].contains("OldImage"));
    ids.insert(r["eventID"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 12u) << "eventIDs of one snapshot must differ";
}

TEST_F(TriggersSnapshot, IsolatedFunctionGetsSnapshotRecords) {
  ASSERT_NO_FATAL_FAILURE(MakeSource({}, FunctionIsolation::kProcess));
  for (int i = 0; i < 30; ++i) Put("k" + std::to_string(i), "v" + std::to_string(i));
  const std::string uuid = CreateMapping(8);
  ASSERT_OK(t()->Start());
  Idle();
  Put("k1", "changed");
  Idle();
  size_t snaps = 0;
  std::map<std::string, uint64_t> seqs;
  EXPECT_EQ(Delivered(&snaps, &seqs), Table());
  EXPECT_EQ(snaps, 30u);
}

TEST_F(TriggersSnapshot, VersionTwoPluginLoadsAndGetsEveryRecord) {
  ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kNewImage)));
  ASSERT_OK(db_->CreateTable("out", StreamSpecification()));
  FunctionConfiguration f;
  f.function_name = "v2";
  f.library = ABI_V2;
  ASSERT_OK(t()->CreateFunction(f, nullptr));
  for (int i = 0; i < 9; ++i) Put("k" + std::to_string(i), "v" + std::to_string(i));
  EventSourceMappingConfiguration c;
  c.function_name = "v2";
  c.event_source = "src";
  c.batch_size = 4;
  c.starting_position = StartingPosition::kSnapshot;
  ASSERT_OK(t()->CreateEventSourceMapping(c, nullptr));
  ASSERT_OK(t()->Start());
  Idle();
  Put("k9", "v9");
  Idle();
  std::vector<std::pair<std::string, std::string>> out;
  ASSERT_OK(test::ScanAll(db_.get(), "out", &out));
  ASSERT_EQ(out.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(out[static_cast<size_t>(i)].first, "k" + std::to_string(i));
    EXPECT_EQ(out[static_cast<size_t>(i)].second, "v" + std::to_string(i));
  }
}

TEST_F(TriggersSnapshot, StartingPositionNameRoundTrips) {
  StartingPosition p;
  ASSERT_TRUE(ParseStartingPosition("SNAPSHOT", &p));
  EXPECT_EQ(p, StartingPosition::kSnapshot);
  EXPECT_EQ(StartingPositionName(p), "SNAPSHOT");
}

}  // namespace
}  // namespace runnel
