// Copyright 2026 The runnel Authors.
//
// What stays in the process's RSS of the files runnel maps (issue 13: a
// process streaming 10M records stays within 64 MiB + its caches):
//  - a reader that walks a whole log segment gives back the pages it has
//    passed, and the views it handed out stay valid;
//  - reading the whole index (a full scan) leaves at most the mapped-table
//    budget of the index's table files in RSS, and reads the same items.

#include <gtest/gtest.h>
#include <leveldb/env.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cdc/log_format.h"
#include "cdc/segment_reader.h"
#include "db/index_env.h"
#include "runnel/db.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Numbered;
using test::Stream;
using test::TempDir;

// Rss (bytes) of this process's mappings of files whose path ends with
// `suffix`, from /proc/self/smaps.
uint64_t MappedRss(const std::string& suffix) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool ours = false;
  uint64_t kb = 0;
  while (std::getline(in, line)) {
    if (line.rfind("Rss:", 0) == 0) {
      if (ours) kb += std::stoull(line.substr(4));
    } else if (line.find(" r") != std::string::npos && line.find('-') < line.find(' ')) {
      ours = line.size() >= suffix.size() &&
             line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0;
    }
  }
  return kb * 1024;
}

TEST(RssTest, LogSegmentPagesAReaderHasPassedLeaveItsRss) {
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

TEST(RssTest, AFullScanOfTheIndexKeepsItsTablesWithinTheBudget) {
  TempDir dir;
  const std::string db_dir = dir.Sub("db");
  // 48 MiB of values that do not compress, so the index's tables are as big.
  constexpr int kItems = 48 << 10;
  std::mt19937_64 rng(7);
  auto value = [&] {
    std::string v(1024, '\0');
    for (size_t i = 0; i < v.size(); i += 8) {
      const uint64_t r = rng();
      std::memcpy(&v[i], &r, 8);
    }
    return v;
  };
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(Options(), db_dir, &db));
  ASSERT_OK(db->CreateTable("tbl", StreamSpecification()));
  for (int i = 0; i < kItems;) {
    WriteBatch wb;
    for (int j = 0; j < 256; ++j, ++i) wb.Put("tbl", Numbered("k", 1000000 + i), value());
    ASSERT_OK(db->Write(WriteOptions(), wb));
  }
  ASSERT_OK(db->Close());
  db.reset();
  uint64_t table_bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(db_dir + "/index")) {
    if (e.path().extension() == ".ldb") table_bytes += e.file_size();
  }
  ASSERT_GE(table_bytes, 40u << 20) << "the index is too small for this test to measure";

  Options o;
  o.key_filter_bits_per_key = 0;  // no background scan: this test reads
  ASSERT_OK(DB::Open(o, db_dir, &db));
  ReadOptions ro;
  ro.fill_cache = false;
  ScanOptions scan;
  scan.limit = 1000;
  size_t items = 0;
  uint64_t max_rss = 0;
  for (;;) {
    ScanResult page;
    ASSERT_OK(db->Scan(ro, "tbl", scan, &page));
    items += page.items.size();
    for (const auto& [k, v] : page.items) ASSERT_EQ(v.size(), 1024u) << k;
    max_rss = std::max(max_rss, MappedRss(".ldb"));
    if (!page.has_more) break;
    scan.exclusive_start_key = page.last_evaluated_key;
  }
  EXPECT_EQ(items, static_cast<size_t>(kItems));
  // The budget, plus what a give-back leaves behind: the last read's block.
  EXPECT_LE(max_rss, IndexEnv::kMappedTableBudget + (1u << 20))
      << "reading " << table_bytes << " bytes of tables kept them in RSS";
  EXPECT_GT(max_rss, 0u) << "the tables are not mapped: this test measures nothing";
  ASSERT_OK(db->Close());
}

}  // namespace
}  // namespace runnel
