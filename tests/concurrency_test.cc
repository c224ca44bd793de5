// Copyright 2026 The runnel Authors.
//
// Concurrent writers and readers: group commit keeps every batch atomic and
// every writer's order, assigns each record exactly one sequence number, and
// readers never see a partial batch. Run under ThreadSanitizer in CI.

#include <leveldb/env.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "cdc/env_util.h"
#include "cdc/log_format.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Numbered;
using test::ReadAll;
using test::Rec;
using test::Stream;
using test::TempDir;

TEST(ConcurrencyTest, WritersReadersAndTheStreamAgree) {
  TempDir dir;
  Options o;
  o.segment_bytes = 256 << 10;       // rotations happen during the run
  o.write_buffer_bytes = 128 << 10;  // so do index flushes and compactions
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(o, dir.Sub("db"), &db));
  ASSERT_OK(db->CreateTable("left", Stream(StreamViewType::kNewAndOldImages)));
  ASSERT_OK(db->CreateTable("right", Stream(StreamViewType::kNewImage)));
  const SequenceNumber start = db->LastSequence() + 1;

  constexpr int kWriters = 6;
  constexpr int kOps = 400;
  std::atomic<bool> stop{false};
  std::atomic<int> reader_errors{0};

  // Each writer owns its keys; every batch writes the same counter to both
  // tables, so a reader that ever sees the tables disagree saw half a batch.
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 1; i <= kOps; ++i) {
        WriteBatch b;
        const std::string key = Numbered("w", w);
        b.Put("left", key, std::to_string(i));
        b.Put("right", key, std::to_string(i));
        WriteOptions wo;
        wo.sync = (i % 4 == 0);
        EXPECT_OK(db->Write(wo, b));
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      for (int w = 0; w < kWriters; ++w) {
        // LastSequence is monotonic and the iterator is bounded by it.
        std::unique_ptr<ChangeIterator> it;
        if (!db->NewChangeIterator(start, &it).ok()) {
          ++reader_errors;
          continue;
        }
        SequenceNumber prev = 0;
        int open_batch = 0;
        for (; it->Valid(); it->Next()) {
          if (it->record().sequence <= prev) ++reader_errors;
          prev = it->record().sequence;
          open_batch = it->record().end_of_batch ? 0 : open_batch + 1;
        }
        if (!it->status().ok() || open_batch != 0) ++reader_errors;
      }
    }
  });
  threads.emplace_back([&] {
    while (!stop.load()) {
      ScanResult l, r;
      EXPECT_OK(db->Scan(ReadOptions(), "left", ScanOptions(), &l));
      std::string v;
      for (const auto& [k, lv] : l.items) {
        // Reads see a prefix of the commits: right is at least as new as
        // left was when we read it (each batch writes both atomically).
        if (!db->Get(ReadOptions(), "right", k, &v).ok() || std::stoi(v) < std::stoi(lv)) {
          ++reader_errors;
        }
      }
    }
  });
  for (int w = 0; w < kWriters; ++w) threads[static_cast<size_t>(w)].join();
  stop = true;
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(reader_errors.load(), 0);

  std::vector<Rec> recs;
  ASSERT_OK(ReadAll(db.get(), start, &recs));
  ASSERT_EQ(recs.size(), static_cast<size_t>(kWriters * kOps * 2));
  std::map<std::string, int> last_left, last_right;
  for (size_t i = 0; i < recs.size(); ++i) {
    // Exactly one sequence number each, no gaps (no metadata in between).
    ASSERT_EQ(recs[i].seq, start + i);
    // Batches are contiguous: left then right of the same writer and value.
    if (i % 2 == 0) {
      ASSERT_EQ(recs[i].table, "left");
      ASSERT_EQ(recs[i + 1].table, "right");
      ASSERT_EQ(recs[i + 1].key, recs[i].key);
      ASSERT_EQ(recs[i + 1].new_image, recs[i].new_image);
      ASSERT_FALSE(recs[i].end_of_batch);
      ASSERT_TRUE(recs[i + 1].end_of_batch);
      // Each writer's batches appear in its order.
      const int v = std::stoi(recs[i].new_image);
      ASSERT_EQ(v, last_left[recs[i].key] + 1);
      last_left[recs[i].key] = v;
      ASSERT_EQ(recs[i].event, v == 1 ? EventName::kInsert : EventName::kModify);
      if (v > 1) {
        ASSERT_EQ(recs[i].old_image, std::to_string(v - 1));
      }
    }
  }
  ASSERT_OK(db->Close());
  db.reset();
  ASSERT_OK(DB::Open(o, dir.Sub("db"), &db));
  for (int w = 0; w < kWriters; ++w) {
    std::string v;
    ASSERT_OK(db->Get(ReadOptions(), "right", Numbered("w", w), &v));
    EXPECT_EQ(v, std::to_string(kOps));
  }
}

TEST(ConcurrencyTest, MetadataChangesInterleaveWithWrites) {
  TempDir dir;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(Options(), dir.Sub("db"), &db));
  ASSERT_OK(db->CreateTable("base", Stream(StreamViewType::kKeysOnly)));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int i = 0;
    while (!stop.load()) {
      EXPECT_OK(db->Put(WriteOptions(), "base", Numbered("k", i++ % 50), "v"));
    }
  });
  for (int i = 0; i < 30; ++i) {
    const std::string name = Numbered("tbl", i);
    ASSERT_OK(db->CreateTable(name, StreamSpecification()));
    ASSERT_OK(db->Put(WriteOptions(), name, "x", "y"));
    ASSERT_OK(db->UpdateTable("base", StreamSpecification()));
    ASSERT_OK(db->UpdateTable("base", Stream(StreamViewType::kNewImage)));
    if (i % 2 == 0) ASSERT_OK(db->DeleteTable(name));
  }
  stop = true;
  writer.join();
  std::vector<std::string> names;
  ASSERT_OK(db->ListTables(&names));
  EXPECT_EQ(names.size(), 16u);
  std::vector<StreamInfo> streams;
  ASSERT_OK(db->ListStreams("base", &streams));
  EXPECT_EQ(streams.size(), 31u);
  std::set<std::string> labels;
  for (const auto& s : streams) labels.insert(s.label);
  EXPECT_EQ(labels.size(), streams.size());  // every stream has its own label
}

// An Env whose log fsyncs take kSyncMillis, counted: the disk of a slow
// device, where sharing an fsync is what sync writers' throughput is.
class SlowLogSyncEnv : public leveldb::EnvWrapper {
 public:
  static constexpr int kSyncMillis = 20;
  SlowLogSyncEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}
  leveldb::Status NewWritableFile(const std::string& f, leveldb::WritableFile** r) override {
    return Wrap(f, target()->NewWritableFile(f, r), r);
  }
  leveldb::Status NewAppendableFile(const std::string& f, leveldb::WritableFile** r) override {
    return Wrap(f, target()->NewAppendableFile(f, r), r);
  }
  uint64_t log_syncs() const { return log_syncs_.load(); }

 private:
  class File final : public leveldb::WritableFile {
   public:
    File(leveldb::WritableFile* base, std::atomic<uint64_t>* syncs) : base_(base), syncs_(syncs) {}
    leveldb::Status Append(const leveldb::Slice& d) override { return base_->Append(d); }
    leveldb::Status Close() override { return base_->Close(); }
    leveldb::Status Flush() override { return base_->Flush(); }
    leveldb::Status Sync() override {
      std::this_thread::sleep_for(std::chrono::milliseconds(kSyncMillis));
      syncs_->fetch_add(1);
      return base_->Sync();
    }

   private:
    std::unique_ptr<leveldb::WritableFile> base_;
    std::atomic<uint64_t>* const syncs_;
  };

  leveldb::Status Wrap(const std::string& f, leveldb::Status s, leveldb::WritableFile** r) {
    uint64_t first = 0;
    const std::string name = f.substr(f.rfind('/') + 1);
    if (s.ok() && log::ParseSegmentFileName(name, &first)) *r = new File(*r, &log_syncs_);
    return s;
  }

  std::atomic<uint64_t> log_syncs_{0};
};

// Sync writers on many threads share their fsyncs. Released together after
// an fsync, a group's writers come back to a queue whose next leader has
// already begun with the others: without the leader's short wait for them
// the threads split into two cohorts, each paying its own fsync (1 and 7
// writers alternating here: up to 2 fsyncs per round of 8 writes).
TEST(ConcurrencyTest, SyncWritersOnManyThreadsShareTheirFsyncs) {
  {
    Options bad;
    bad.sync_group_wait_micros = 100001;
    TempDir dir;
    std::unique_ptr<DB> none;
    Status s = DB::Open(bad, dir.Sub("db"), &none);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.message().find("options.sync_group_wait_micros"), std::string::npos);
  }
  constexpr int kThreads = 8;
  constexpr int kPuts = 40;
  // Log fsyncs for kThreads x kPuts sync puts, with the leader's wait capped
  // at `wait_micros`.
  auto fsyncs = [&](uint32_t wait_micros) -> uint64_t {
    TempDir dir;
    SlowLogSyncEnv slow;
    LevelDBEnvAdapter handle(&slow);
    Options o;
    o.env = &handle;
    o.sync_group_wait_micros = wait_micros;
    std::unique_ptr<DB> db;
    EXPECT_OK(DB::Open(o, dir.Sub("db"), &db));
    EXPECT_OK(db->CreateTable("sync_t", Stream(StreamViewType::kNewImage)));
    const uint64_t before = slow.log_syncs();
    WriteOptions sync;
    sync.sync = true;
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < kPuts; ++i) {
          const std::string key = std::to_string(t) + "/" + std::to_string(i);
          ASSERT_OK(db->Put(sync, "sync_t", key, key));
        }
      });
    }
    for (std::thread& w : writers) w.join();
    const uint64_t n = slow.log_syncs() - before;
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kPuts; ++i) {
        const std::string key = std::to_string(t) + "/" + std::to_string(i);
        std::string v;
        EXPECT_OK(db->Get(ReadOptions(), "sync_t", key, &v));
        EXPECT_EQ(v, key);
      }
    }
    return n;
  };
  // Half the 20 ms fsync: room for seven threads to be scheduled back on a
  // loaded machine (the default, 1 ms, is for real disks).
  const uint64_t shared = fsyncs(10000);
  // One fsync per round of all eight threads is kPuts.
  EXPECT_LE(shared, kPuts * 7 / 5)
      << shared << " log fsyncs for " << kThreads * kPuts << " sync writes";
  const uint64_t alone = fsyncs(0);  // the wait off: the cohorts
  EXPECT_LT(shared, alone) << "with the wait " << shared << " fsyncs, without " << alone;
}

}  // namespace
}  // namespace runnel
