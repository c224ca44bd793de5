// Copyright 2026 The runnel Authors.
//
// Concurrent writers and readers: group commit keeps every batch atomic and
// every writer's order, assigns each record exactly one sequence number, and
// readers never see a partial batch. Run under ThreadSanitizer in CI.

#include <atomic>
#include <map>
#include <set>
#include <thread>

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

}  // namespace
}  // namespace runnel
