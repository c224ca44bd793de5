// Copyright 2026 The runnel Authors.
//
// Memory of a reader that walks a whole log segment: the pages it has passed
// leave the process's RSS (issue 13: a process streaming 10M records stays
// within 64 MiB + its caches), and the views it handed out stay valid.

#include <gtest/gtest.h>
#include <leveldb/env.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cdc/log_format.h"
#include "cdc/segment_reader.h"
#include "runnel/db.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Numbered;
using test::Stream;
using test::TempDir;

// Rss (bytes) of this process's mappings of `path`, from /proc/self/smaps.
uint64_t MappedRss(const std::string& path) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool ours = false;
  uint64_t kb = 0;
  while (std::getline(in, line)) {
    if (line.rfind("Rss:", 0) == 0) {
      if (ours) kb += std::stoull(line.substr(4));
    } else if (line.find(" r") != std::string::npos && line.find('-') < line.find(' ')) {
      ours = line.size() >= path.size() &&
             line.compare(line.size() - path.size(), path.size(), path) == 0;
    }
  }
  return kb * 1024;
}

TEST(SegmentMemoryTest, PagesAReaderHasPassedLeaveItsRss) {
  TempDir dir;
  const std::string db_dir = dir.Sub("db");
  {
    std::unique_ptr<DB> db;
    ASSERT_OK(DB::Open(Options(), db_dir, &db));
    ASSERT_OK(db->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
    // 24 MiB of values in one segment (the default segment is 64 MiB).
    for (int i = 0; i < 384; ++i) {
      ASSERT_OK(db->Put(WriteOptions(), "tbl", Numbered("k", i),
                        std::string(64 << 10, static_cast<char>('a' + i % 26))));
    }
    ASSERT_OK(db->Close());
  }
  const std::string wal = db_dir + "/wal";
  std::vector<uint64_t> firsts;
  ASSERT_OK(log::ListSegments(leveldb::Env::Default(), wal, &firsts));
  ASSERT_FALSE(firsts.empty());
  std::unique_ptr<log::SegmentReader> reader;
  ASSERT_OK(
      log::SegmentReader::Open(leveldb::Env::Default(), wal, firsts.back(), nullptr, &reader));
  ASSERT_GE(reader->file_size(), 24u << 20);

  log::Frame frame;
  log::Damage damage;
  std::string_view first_batch;
  std::string first_copy;
  size_t frames = 0;
  uint64_t max_rss = 0;
  for (;;) {
    const auto r = reader->Next(&frame, &damage);
    if (r == log::SegmentReader::Result::kEnd) break;
    ASSERT_EQ(r, log::SegmentReader::Result::kFrame) << damage.reason;
    ++frames;
    // Touch every byte, as a consumer reading each value does.
    uint64_t sum = 0;
    for (char c : frame.payload) sum += static_cast<unsigned char>(c);
    ASSERT_GT(sum + 1, 0u);
    if (frame.header.type == log::kBatchFrame && first_batch.empty()) {
      first_batch = frame.payload;
      first_copy.assign(frame.payload);
    }
    if (frames % 32 == 0) max_rss = std::max(max_rss, MappedRss(reader->path()));
  }
  max_rss = std::max(max_rss, MappedRss(reader->path()));
  EXPECT_GE(frames, 384u);
  // Without giving pages back, all 24 MiB the reader touched would be here.
  EXPECT_LE(max_rss, 8u << 20) << "the segment's mapping keeps what the reader passed";
  EXPECT_GT(max_rss, 0u) << "the segment is not mapped: this test measures nothing";
  // A view handed out before its pages were given back reads the same bytes.
  ASSERT_FALSE(first_batch.empty());
  EXPECT_EQ(first_batch, first_copy);
}

}  // namespace
}  // namespace runnel
