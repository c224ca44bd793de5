// Copyright 2026 The runnel Authors.
//
// The bounded trigger runtime (Options::trigger_threads), with a real plugin
// (dlopen): a thousand mappings, a hundred of them with ten lanes, run on a
// pool of four threads and each receives every record of its table; the
// process does not grow a thread per mapping or lane; a mapping that waits
// (for its batching window, or for records) holds no thread, so a pool of
// one still serves the others; bad pool sizes are refused.

#include <dirent.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "db/db_internal.h"
#include "runnel/db.h"
#include "runnel/triggers.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Numbered;
using test::Stream;
using test::TempDir;

// The threads of this process.
int ThreadCount() {
  int n = 0;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return -1;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

class TriggersPool : public ::testing::Test {
 protected:
  void Open(int threads) {
    Options o;
    o.trigger_threads = threads;
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
  }
  Triggers* t() { return db_->triggers(); }
  void CreateFunction() {
    ASSERT_OK(db_->CreateTable("Seen", Stream(StreamViewType::kNewImage)));
    FunctionConfiguration f;
    f.function_name = "lanes";
    f.library = LANES_FUNCTION;
    f.environment = {{"TARGET", "Seen"}};
    ASSERT_OK(t()->CreateFunction(f, nullptr));
  }
  std::string CreateMapping(const std::string& table, uint32_t factor, uint32_t batch_size,
                            uint32_t batching_window = 0) {
    EventSourceMappingConfiguration m;
    m.starting_position = StartingPosition::kTrimHorizon;
    m.function_name = "lanes";
    m.event_source = table;
    m.batch_size = batch_size;
    m.parallelization_factor = factor;
    m.maximum_batching_window_seconds = batching_window;
    EventSourceMappingConfiguration created;
    EXPECT_OK(t()->CreateEventSourceMapping(m, &created));
    return created.uuid;
  }
  MappingMetrics Metrics(const std::string& uuid) {
    MappingMetrics m;
    EXPECT_OK(t()->GetMappingMetrics(uuid, &m));
    return m;
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
};

// Every lane's stream cursor maps the log segment it reads, and a sanitizer
// shadows each mapping: a thousand mappings would need tens of GB under
// ThreadSanitizer. Sanitizer builds check the same with fewer.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define RUNNEL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define RUNNEL_SANITIZED 1
#endif
#endif
#ifdef RUNNEL_SANITIZED
constexpr int kTables = 2;
constexpr int kMappingsPerTable = 20;
#else
constexpr int kTables = 10;
constexpr int kMappingsPerTable = 100;  // every tenth with 10 lanes
#endif

TEST_F(TriggersPool, AThousandMappingsSomeWithTenLanesRunOnFourThreads) {
  constexpr int kRecords = 30;  // per table
  Open(4);
  CreateFunction();
  std::vector<std::vector<std::string>> uuids(kTables);
  for (int i = 0; i < kTables; ++i) {
    const std::string table = Numbered("src", i);
    ASSERT_OK(db_->CreateTable(table, Stream(StreamViewType::kNewImage)));
    for (int j = 0; j < kMappingsPerTable; ++j) {
      uuids[i].push_back(CreateMapping(table, j % 10 == 0 ? 10 : 1, 7));
    }
  }
  const int before = ThreadCount();
  ASSERT_OK(t()->Start());
  std::vector<SequenceNumber> last(kTables);  // of each table's last record
  for (int r = 0; r < kRecords; ++r) {
    for (int i = 0; i < kTables; ++i) {
      ASSERT_OK(db_->Put(WriteOptions(), Numbered("src", i), Numbered("k", r), "v"));
      last[i] = db_->LastSequence();
    }
  }
  ASSERT_OK(t()->WaitUntilIdle(std::chrono::seconds(300)));
  // A thread per mapping and lane would be 1900 more (38 sanitized); the pool is 4 (the
  // function loads in process: no other thread is needed).
  const int during = ThreadCount();
  EXPECT_LE(during - before, 4) << before << " threads before Start, " << during << " after";
  for (int i = 0; i < kTables; ++i) {
    for (int j = 0; j < kMappingsPerTable; ++j) {
      const MappingMetrics m = Metrics(uuids[i][j]);
      ASSERT_EQ(m.records_in, uint64_t{kRecords}) << "table " << i << " mapping " << j;
      ASSERT_EQ(m.errors, 0u);
      // Past the last record of its table (the position is the next one to read).
      ASSERT_GT(m.position, last[i]) << "table " << i << " mapping " << j;
    }
  }
  ASSERT_OK(db_->Close());
  db_.reset();
  EXPECT_LE(ThreadCount(), before) << "the pool's threads end with the DB";
}

TEST_F(TriggersPool, AMappingWaitingForItsBatchingWindowHoldsNoThread) {
  Open(1);
  CreateFunction();
  ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kNewImage)));
  // Waits up to 300 s to fill a batch of 10000.
  const std::string slow = CreateMapping("src", 1, 10000, 300);
  ASSERT_OK(t()->Start());
  ASSERT_OK(db_->Put(WriteOptions(), "src", "k0", "v"));
  // The first mapping now waits for more records; the only pool thread must
  // still serve a second one.
  const std::string quick = CreateMapping("src", 1, 10);
  for (int r = 1; r < 20; ++r) ASSERT_OK(db_->Put(WriteOptions(), "src", Numbered("k", r), "v"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Metrics(quick).records_in < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(Metrics(quick).records_in, 20u);
  EXPECT_EQ(Metrics(slow).invocations, 0u) << "its batching window is still open";
  // Stop ends the wait at once; the batch is delivered after a restart.
  const auto t0 = std::chrono::steady_clock::now();
  t()->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

// Metadata commits (here: tables created every 100 ms) swap the catalog the
// lanes look at; a batch waiting for its batching window must still be
// invoked when the window closes, not have its window restarted each time.
TEST_F(TriggersPool, MetadataCommitsDoNotHoldBackABatchingWindow) {
  Open(0);
  CreateFunction();
  ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kNewImage)));
  const std::string uuid = CreateMapping("src", 1, 10000, /*batching_window=*/1);
  ASSERT_OK(t()->Start());
  ASSERT_OK(db_->Put(WriteOptions(), "src", "k", "v"));
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  for (int i = 0; std::chrono::steady_clock::now() < until && Metrics(uuid).invocations == 0; ++i) {
    ASSERT_OK(db_->CreateTable(Numbered("other", i), StreamSpecification()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Metrics(uuid).invocations, 1u)
      << "the 1 s window never closed while other metadata was committed";
  EXPECT_EQ(Metrics(uuid).records_in, 1u);
}

// A position that moved past records of the source table is persisted once
// the mapping catches up, also for a backlog from before the runtime
// started (filtered out here: nothing else commits a checkpoint for them).
TEST_F(TriggersPool, FilteredBacklogMovesThePositionDurably) {
  Open(0);
  CreateFunction();
  ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kNewImage)));
  EventSourceMappingConfiguration m;
  m.starting_position = StartingPosition::kTrimHorizon;
  m.function_name = "lanes";
  m.event_source = "src";
  m.batch_size = 10;
  m.filter_patterns = {R"({"eventName":["REMOVE"]})"};
  EventSourceMappingConfiguration created;
  ASSERT_OK(t()->CreateEventSourceMapping(m, &created));
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "src", Numbered("k", i), "v"));  // INSERTs: filtered out
  }
  const SequenceNumber last = db_->LastSequence();
  ASSERT_OK(db_->Close());
  db_.reset();
  Open(0);
  ASSERT_OK(t()->Start());
  ASSERT_OK(t()->WaitUntilIdle(std::chrono::seconds(60)));
  EXPECT_EQ(Metrics(created.uuid).records_filtered_out, 100u);
  // Without stopping (a kill -9 now must not filter them again).
  auto* db = dynamic_cast<DBInternal*>(db_.get());
  ASSERT_NE(db, nullptr);
  uint64_t position = 0;
  std::string result;
  const auto cat = db->CurrentCatalog();
  uint32_t id = 0;
  for (const auto& e : cat->data().mappings) id = e.id;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!(db->ReadCheckpoint(id, &position, &result) && position > last) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(position, last) << "the checkpoint stayed before the filtered backlog";
}

TEST_F(TriggersPool, BadPoolSizesAreRefused) {
  for (int bad : {-1, 1025}) {
    Options o;
    o.trigger_threads = bad;
    std::unique_ptr<DB> db;
    Status s = DB::Open(o, dir_.Sub("bad"), &db);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.ToString().find("options.trigger_threads"), std::string::npos) << s.ToString();
    EXPECT_EQ(db, nullptr);
  }
}

}  // namespace
}  // namespace runnel
