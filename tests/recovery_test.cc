// Copyright 2026 The runnel Authors.
//
// Recovery on open: replay of the log into the index, torn tails, corruption
// before the tail under each WALRecoveryMode, unknown frame types.

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "cdc/codec.h"
#include "cdc/coding.h"
#include "cdc/env_util.h"
#include "cdc/log_format.h"
#include "cdc/segment_reader.h"
#include "db/db_internal.h"
#include "db/index_keys.h"
#include "db/index_manifest.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Numbered;
using test::ReadAll;
using test::Rec;
using test::Stream;
using test::TempDir;

class RecoveryTest : public ::testing::Test {
 protected:
  std::string db_dir() const { return dir_.Sub("db"); }
  std::string wal() const { return db_dir() + "/wal"; }
  std::string Newest() const {
    auto names = test::ListDir(wal());
    return wal() + "/" + names.back();
  }
  Status Open(Options o = Options()) {
    db_.reset();
    return DB::Open(o, db_dir(), &db_);
  }
  // Opens with the explicit repair mode, which skips damage.
  Status OpenSkippingDamage() {
    Options o;
    o.recovery_mode = WALRecoveryMode::kSkipAnyCorruptedRecords;
    return Open(o);
  }
  // Creates the table and writes n single-put frames; returns the offset of
  // each frame in the (single) segment.
  std::vector<uint64_t> Fill(int n) {
    EXPECT_OK(Open());
    EXPECT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewAndOldImages)));
    std::vector<uint64_t> offsets;
    for (int i = 0; i < n; ++i) {
      offsets.push_back(test::FileSize(Newest()));
      EXPECT_OK(db_->Put(WriteOptions(), "tbl", Numbered("k", i), Numbered("value", i)));
    }
    EXPECT_OK(db_->Close());
    db_.reset();
    return offsets;
  }
  std::string Get(const std::string& key) {
    std::string v;
    Status s = db_->Get(ReadOptions(), "tbl", key, &v);
    return s.ok() ? v : s.IsNotFound() ? "NOT_FOUND" : s.ToString();
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(RecoveryTest, ReplaysTheLogIntoTheIndex) {
  Fill(100);
  ASSERT_OK(Open());
  const RecoveryReport& r = db_->recovery_report();
  // LevelDB's own log is discarded, so the memtable of the last run was
  // rebuilt from our log.
  EXPECT_EQ(r.replayed_records, 100u);
  EXPECT_FALSE(r.torn_tail);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(Get(Numbered("k", i)), Numbered("value", i));
  // A second reopen after the replay still sees everything.
  ASSERT_OK(db_->Put(WriteOptions(), "tbl", "after", "1"));
  ASSERT_OK(Open());
  EXPECT_EQ(Get("k99"), "value99");
  EXPECT_EQ(Get("after"), "1");
}

// Replay applies each batch of the log to the index in key order, one write
// per key: the last write of every key must win, whether a put, an
// overwrite, a delete or a put after a delete, and the item count too.
TEST_F(RecoveryTest, ReplayKeepsTheLastWriteOfEveryKey) {
  ASSERT_OK(Open());
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewAndOldImages)));
  std::map<std::string, std::string> model;
  uint64_t state = 42;
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const std::string key = Numbered("k", static_cast<int>((state >> 33) % 300));
    if ((state >> 20) % 4 == 0) {
      ASSERT_OK(db_->Delete(WriteOptions(), "tbl", key));
      model.erase(key);
    } else {
      const std::string value = Numbered("v", i);
      ASSERT_OK(db_->Put(WriteOptions(), "tbl", key, value));
      model[key] = value;
    }
  }
  ASSERT_OK(db_->Close());
  for (int pass = 0; pass < 2; ++pass) {
    // The second pass rebuilds the whole index from the log.
    if (pass == 1) std::filesystem::remove_all(db_dir() + "/index");
    ASSERT_OK(Open());
    EXPECT_GE(db_->recovery_report().replayed_records, 1u);
    for (int k = 0; k < 300; ++k) {
      const std::string key = Numbered("k", k);
      auto it = model.find(key);
      EXPECT_EQ(Get(key), it == model.end() ? "NOT_FOUND" : it->second) << key << " pass " << pass;
    }
    TableDescription d;
    ASSERT_OK(db_->DescribeTable("tbl", &d));
    EXPECT_EQ(d.item_count, model.size()) << "pass " << pass;
    ASSERT_OK(db_->Close());
  }
}

// The index's applied sequence and statistics (its marker) are written
// with every 64th commit only, while LevelDB flushes its memtable whenever
// it fills: the index a reopen finds then holds items of commits after its
// marker, which the replay applies once more. Items and statistics must
// come out exact, for each table, across many reopens at every phase of
// the marker's interval.
TEST_F(RecoveryTest, ItemsAndStatisticsAreExactWhenTheIndexHoldsCommitsAfterItsMarker) {
  Options o;
  o.write_buffer_bytes = 64 << 10;  // a memtable flush every few hundred commits
  // Retention deletes what the index holds durably, and no more: the
  // segments after the marker of its last flush must stay for the replay.
  o.segment_bytes = 64 << 10;
  o.retention_seconds = 0;
  o.max_log_bytes = 1;  // every segment the index holds durably goes
  ASSERT_OK(Open(o));
  ASSERT_OK(db_->CreateTable("tba", Stream(StreamViewType::kNewAndOldImages)));
  ASSERT_OK(db_->CreateTable("tbb", Stream(StreamViewType::kKeysOnly)));
  std::map<std::string, std::string> model[2];
  const char* tables[2] = {"tba", "tbb"};
  uint64_t state = 7;
  for (int round = 0; round < 12; ++round) {
    // A commit count that is not a multiple of the marker's interval.
    const int commits = 700 + round * 37;
    for (int i = 0; i < commits; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const int t = static_cast<int>((state >> 60) & 1);
      const std::string key = Numbered("k", static_cast<int>((state >> 33) % 500));
      if ((state >> 20) % 5 == 0) {
        ASSERT_OK(db_->Delete(WriteOptions(), tables[t], key));
        model[t].erase(key);
      } else {
        // Sizes vary, so a MODIFY changes the table's bytes.
        const std::string value(1 + (state >> 40) % 200, static_cast<char>('a' + i % 26));
        ASSERT_OK(db_->Put(WriteOptions(), tables[t], key, value));
        model[t][key] = value;
      }
    }
    int deleted = 0;
    ASSERT_OK(db_->RunRetention(&deleted));
    ASSERT_OK(db_->Close());
    ASSERT_OK(Open(o));

    for (int t = 0; t < 2; ++t) {
      uint64_t bytes = 0;
      for (const auto& [k, v] : model[t]) bytes += k.size() + v.size();
      TableDescription d;
      ASSERT_OK(db_->DescribeTable(tables[t], &d));
      EXPECT_EQ(d.item_count, model[t].size()) << tables[t] << " round " << round;
      EXPECT_EQ(d.table_size_bytes, bytes) << tables[t] << " round " << round;
      for (int k = 0; k < 500; k += 7) {
        const std::string key = Numbered("k", k);
        auto it = model[t].find(key);
        std::string v;
        Status s = db_->Get(ReadOptions(), tables[t], key, &v);
        EXPECT_EQ(s.ok() ? v : "NOT_FOUND", it == model[t].end() ? "NOT_FOUND" : it->second)
            << tables[t] << " " << key << " round " << round;
      }
    }
  }
}

TEST_F(RecoveryTest, TheIndexCanBeRebuiltFromTheLogAlone) {
  Fill(50);
  std::filesystem::remove_all(db_dir() + "/index");
  ASSERT_OK(Open());
  EXPECT_EQ(db_->recovery_report().index_sequence, 0u);
  EXPECT_EQ(Get("k49"), "value49");
  TableDescription d;
  ASSERT_OK(db_->DescribeTable("tbl", &d));
  EXPECT_EQ(d.item_count, 50u);
  EXPECT_TRUE(d.stream_specification.stream_enabled);
}

// Damage to a MANIFEST record that intact records follow is not a torn
// tail (LevelDB synced those later records, and the edits they carry rely on
// the damaged one): Open does not cut it, but fails with Corruption that names
// the file and says how to rebuild the index from the log; doing so works.
TEST_F(RecoveryTest, DamagedIndexManifestBeforeItsEndSaysHowToRebuild) {
  Options small;
  small.write_buffer_bytes = 64 << 10;  // LevelDB flushes: MANIFEST records
  ASSERT_OK(Open(small));
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewAndOldImages)));
  for (int i = 0; i < 400; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "tbl", Numbered("k", i), std::string(1000, 'v')));
  }
  ASSERT_OK(db_->Close());
  db_.reset();
  std::string current = test::ReadFile(db_dir() + "/index/CURRENT");
  ASSERT_FALSE(current.empty());
  current.pop_back();
  const std::string manifest = db_dir() + "/index/" + current;
  std::string m = test::ReadFile(manifest);
  // The first record (LevelDB's snapshot of the version at open) is followed
  // by the flushes' edits.
  const size_t first_length =
      static_cast<unsigned char>(m[4]) | static_cast<size_t>(static_cast<unsigned char>(m[5])) << 8;
  ASSERT_GT(m.size(), 7 + first_length + 7) << "no MANIFEST record after the first";
  m[7 + first_length / 2] ^= 0x40;  // a flipped bit in the first record
  {
    std::FILE* f = std::fopen(manifest.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(m.data(), 1, m.size(), f), m.size());
    ASSERT_EQ(std::fclose(f), 0);
  }
  const Status s = Open(small);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("checksum mismatch"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("index/" + current + " is damaged at offset 0"), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.ToString().find("not a torn tail"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("move " + db_dir() + "/index aside"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(test::ReadFile(manifest), m) << "damage before intact records must not be cut";
  // What the message says to do.
  std::filesystem::rename(db_dir() + "/index", db_dir() + "/index.damaged");
  ASSERT_OK(Open(small));
  EXPECT_EQ(db_->recovery_report().index_sequence, 0u);
  EXPECT_FALSE(db_->recovery_report().index_torn_tail);
  for (int i = 0; i < 400; ++i) EXPECT_EQ(Get(Numbered("k", i)), std::string(1000, 'v'));
}

// Every way a power cut can leave the last MANIFEST record (cut short at any
// byte; or kept to any byte and zeros after it up to the record's end) is
// either ignored by LevelDB or found to be a torn tail and cut back to the
// end of the record before it, after which LevelDB opens; a flipped byte in
// any earlier record is never taken for a torn tail.
TEST_F(RecoveryTest, EveryTornLastIndexManifestRecordIsCut) {
  Options small;
  small.write_buffer_bytes = 64 << 10;
  ASSERT_OK(Open(small));
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewAndOldImages)));
  for (int i = 0; i < 300; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "tbl", Numbered("k", i), std::string(1000, 'v')));
  }
  ASSERT_OK(db_->Close());
  db_.reset();
  const std::string index = db_dir() + "/index";
  std::string current = test::ReadFile(index + "/CURRENT");
  current.pop_back();
  const std::string m = test::ReadFile(index + "/" + current);
  ManifestTail intact;
  ASSERT_OK(InspectIndexManifest(leveldb::Env::Default(), index, &intact));
  ASSERT_FALSE(intact.damaged);
  ASSERT_EQ(intact.intact_end, m.size());
  // The records (all in the first block here).
  ASSERT_LT(m.size(), 32768u);
  std::vector<size_t> starts;
  for (size_t o = 0; o < m.size();) {
    starts.push_back(o);
    o += 7 + (static_cast<unsigned char>(m[o + 4]) |
              static_cast<size_t>(static_cast<unsigned char>(m[o + 5])) << 8);
  }
  ASSERT_GE(starts.size(), 2u);
  const size_t last = starts.back();

  // Whether the last record deleted table files that are gone now: then a
  // copy without it references them (see opens() below).
  bool obsolete_files_gone = false;
  {
    std::filesystem::remove_all(dir_.Sub("probe"));
    std::filesystem::copy(index, dir_.Sub("probe"));
    std::FILE* f = std::fopen((dir_.Sub("probe") + "/" + current).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(m.data(), 1, last, f), last);
    ASSERT_EQ(std::fclose(f), 0);
    leveldb::DB* raw = nullptr;
    leveldb::Status ls = leveldb::DB::Open(leveldb::Options(), dir_.Sub("probe"), &raw);
    delete raw;
    obsolete_files_gone =
        ls.IsCorruption() && ls.ToString().find("missing files") != std::string::npos;
  }
  const std::string scratch = dir_.Sub("scratch");
  int torn = 0;  // variants LevelDB refuses to open
  auto try_variant = [&](const std::string& contents, const std::string& what) {
    std::filesystem::remove_all(scratch);
    std::filesystem::copy(index, scratch);
    {
      std::FILE* f = std::fopen((scratch + "/" + current).c_str(), "wb");
      ASSERT_NE(f, nullptr);
      ASSERT_EQ(std::fwrite(contents.data(), 1, contents.size(), f), contents.size());
      ASSERT_EQ(std::fclose(f), 0);
    }
    ManifestTail t;
    ASSERT_OK(InspectIndexManifest(leveldb::Env::Default(), scratch, &t));
    leveldb::Options lo;
    leveldb::DB* raw = nullptr;
    leveldb::Status ls = leveldb::DB::Open(lo, scratch, &raw);
    delete raw;
    // Every variant lacks the whole last record (LevelDB reads a partial
    // one at the end as the end). If that record was a compaction's, the
    // files it made obsolete are gone from this copy, which a real power cut
    // cannot produce (LevelDB deletes them only once the record is synced),
    // so LevelDB's "missing files" is then not a failure of the cut.
    auto opens = [&](const leveldb::Status& st) {
      return st.ok() || (st.IsCorruption() && obsolete_files_gone &&
                         st.ToString().find("missing files") != std::string::npos);
    };
    if (!t.damaged) {
      EXPECT_TRUE(opens(ls)) << what << ": " << ls.ToString();
      return;
    }
    EXPECT_TRUE(ls.IsCorruption()) << what << ": " << ls.ToString();
    ASSERT_TRUE(t.torn_tail) << what << ": " << t.reason;
    EXPECT_EQ(t.intact_end, last) << what;
    ++torn;
    // Cut back, LevelDB opens.
    ASSERT_EQ(::truncate((scratch + "/" + current).c_str(), static_cast<off_t>(t.intact_end)), 0);
    ls = leveldb::DB::Open(lo, scratch, &raw);
    delete raw;
    EXPECT_TRUE(opens(ls)) << what << ", cut back: " << ls.ToString();
  };
  for (size_t keep = last; keep < m.size(); ++keep) {
    try_variant(m.substr(0, keep), "cut at " + std::to_string(keep));
    std::string zeroed = m.substr(0, keep);
    zeroed.append(m.size() - keep, '\0');
    try_variant(zeroed, "zeros from " + std::to_string(keep));
  }
  // Zeros after a kept header: LevelDB's "checksum mismatch" (unless the
  // bytes zeroed were zeros already).
  EXPECT_GT(torn, 0);
  // A flipped byte before the last record: damage, never a torn tail.
  for (size_t pos = 0; pos < last; pos += 7) {
    std::string flipped = m;
    flipped[pos] ^= 0x01;
    std::filesystem::remove_all(scratch);
    std::filesystem::copy(index, scratch);
    std::FILE* f = std::fopen((scratch + "/" + current).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(flipped.data(), 1, flipped.size(), f), flipped.size());
    ASSERT_EQ(std::fclose(f), 0);
    ManifestTail t;
    ASSERT_OK(InspectIndexManifest(leveldb::Env::Default(), scratch, &t));
    EXPECT_TRUE(t.damaged) << "flip at " << pos;
    EXPECT_FALSE(t.torn_tail) << "flip at " << pos;
  }
}

TEST_F(RecoveryTest, TornTailIsCutAndReported) {
  auto offsets = Fill(10);
  const std::string seg = Newest();
  const uint64_t size = test::FileSize(seg);
  // The last frame was only partly written.
  ASSERT_EQ(::truncate(seg.c_str(), static_cast<off_t>(size - 5)), 0);
  ASSERT_OK(Open());
  const RecoveryReport& r = db_->recovery_report();
  EXPECT_TRUE(r.torn_tail);
  EXPECT_EQ(r.torn_tail_offset, offsets[9]);
  EXPECT_EQ(r.torn_tail_bytes, size - 5 - offsets[9]);
  EXPECT_EQ(r.torn_tail_segment, seg.substr(seg.rfind('/') + 1));
  EXPECT_EQ(Get("k8"), "value8");
  EXPECT_EQ(Get("k9"), "NOT_FOUND");
  // The info log says what was cut.
  const std::string info = test::ReadFile(db_dir() + "/LOG");
  EXPECT_NE(info.find("cut torn tail of wal/" + r.torn_tail_segment + " offset " +
                      std::to_string(offsets[9])),
            std::string::npos)
      << info;
  // New writes continue the log after the cut, and survive another reopen.
  ASSERT_OK(db_->Put(WriteOptions(), "tbl", "k9", "again"));
  ASSERT_OK(Open());
  EXPECT_FALSE(db_->recovery_report().torn_tail);
  EXPECT_EQ(Get("k9"), "again");
  std::vector<Rec> recs;
  ASSERT_OK(ReadAll(db_.get(), 1, &recs));
  ASSERT_EQ(recs.size(), 10u);
  EXPECT_EQ(recs.back().new_image, "again");
  EXPECT_EQ(recs.back().seq, recs[8].seq + 1);
}

TEST_F(RecoveryTest, ZeroFilledTailIsATornTail) {
  auto offsets = Fill(5);
  const std::string seg = Newest();
  test::WriteAt(seg, offsets[4], std::string(test::FileSize(seg) - offsets[4] + 100, '\0'));
  ASSERT_OK(Open());
  EXPECT_TRUE(db_->recovery_report().torn_tail);
  EXPECT_EQ(Get("k3"), "value3");
  EXPECT_EQ(Get("k4"), "NOT_FOUND");
}

TEST_F(RecoveryTest, AbsoluteConsistencyRefusesATornTail) {
  Fill(5);
  const std::string seg = Newest();
  ASSERT_EQ(::truncate(seg.c_str(), static_cast<off_t>(test::FileSize(seg) - 3)), 0);
  Options o;
  o.recovery_mode = WALRecoveryMode::kAbsoluteConsistency;
  Status s = Open(o);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // Nothing was cut: the default mode still finds the same tail.
  ASSERT_OK(Open());
  EXPECT_TRUE(db_->recovery_report().torn_tail);
}

TEST_F(RecoveryTest, CorruptionBeforeTheTailFailsOpenWithSegmentAndOffset) {
  auto offsets = Fill(10);
  const std::string seg = Newest();
  const std::string name = seg.substr(seg.rfind('/') + 1);
  // Flip a byte inside frame 3's payload.
  std::string bytes = test::ReadFile(seg);
  const uint64_t pos = offsets[3] + log::kFrameHeaderSize + 20;
  test::WriteAt(seg, pos, std::string(1, static_cast<char>(bytes[pos] ^ 0x40)));
  Status s = Open();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("wal/" + name + " offset " + std::to_string(offsets[3])),
            std::string::npos)
      << s.ToString();
  EXPECT_EQ(db_, nullptr);

  // Explicit repair skips it and says exactly what was lost.
  ASSERT_OK(OpenSkippingDamage());
  const RecoveryReport& r = db_->recovery_report();
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].segment, name);
  EXPECT_EQ(r.skipped[0].offset, offsets[3]);
  EXPECT_EQ(r.skipped[0].bytes, offsets[4] - offsets[3]);
  // Sequence 1 is the table, k0 is 2: frame 3 holds sequence 5.
  EXPECT_EQ(r.skipped[0].first_lost, 5u);
  EXPECT_EQ(r.skipped[0].last_lost, 5u);
  EXPECT_EQ(Get("k2"), "value2");
  EXPECT_EQ(Get("k3"), "NOT_FOUND");
  EXPECT_EQ(Get("k4"), "value4");
  EXPECT_EQ(Get("k9"), "value9");
  const std::string info = test::ReadFile(db_dir() + "/LOG");
  EXPECT_NE(info.find("skipped wal/" + name + " offset " + std::to_string(offsets[3])),
            std::string::npos);
}

// Stored values are arbitrary bytes, so one may hold a well-formed frame.
// After damage, kSkipAnyCorruptedRecords resynchronizes at the next intact
// frame; a frame inside a value must never count as one, or repair would
// replay a write nobody made. Frame hashes are seeded with the segment's
// random salt and the frame's offset, so a forger who cannot read the file
// cannot seal one (here: sealed exactly for where it lies, with the old
// unseeded hash).
TEST_F(RecoveryTest, SkippingDamageNeverReplaysAFrameStoredInAValue) {
  auto offsets = Fill(3);  // sequence 1 creates the table; k0..k2 are 2..4
  // The table id, from a real frame.
  std::string seg = test::ReadFile(Newest());
  const log::FrameHeader h0 = log::DecodeFrameHeader(seg.data() + offsets[0]);
  std::vector<uint64_t> aligned(h0.length / 8 + 1);
  std::memcpy(aligned.data(), seg.data() + offsets[0] + log::kFrameHeaderSize, h0.length);
  log::BatchData real;
  ASSERT_OK(log::DecodeBatch(
      std::string_view(reinterpret_cast<const char*>(aligned.data()), h0.length), &real));
  ASSERT_EQ(real.changes.size(), 1u);

  // A frame putting "forged", claiming the carrier's own sequence number 5.
  log::ChangeData c;
  c.table_id = real.changes[0].table_id;
  c.event = EventName::kInsert;
  c.view = log::View::kNewAndOldImages;
  c.key = "forged";
  c.has_new = true;
  c.new_image = "evil";
  std::string payload, forged;
  log::EncodeBatch(1, {c}, nullptr, 0, &payload);
  log::AppendFrame(log::kBatchFrame, 5, 1, c.table_id, payload, &forged);

  ASSERT_OK(Open());
  const uint64_t carrier = test::FileSize(Newest());
  ASSERT_OK(db_->Put(WriteOptions(), "tbl", "carrier1", forged));  // 8-byte key: aligned value
  ASSERT_OK(db_->Put(WriteOptions(), "tbl", "after", "1"));
  ASSERT_OK(db_->Close());
  db_.reset();

  seg = test::ReadFile(Newest());
  const size_t at = seg.find(forged, carrier);
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(at % 8, 0u);  // where a scan for frames looks
  // Seed salt ^ offset = 0: the unseeded XXH3 anyone can compute.
  log::SealFrames(forged.data(), forged.size(), /*salt=*/at, at);
  test::WriteAt(Newest(), at, forged);
  // Damage the carrier's frame header.
  test::WriteAt(Newest(), carrier + 8, std::string(1, static_cast<char>(seg[carrier + 8] ^ 0x04)));

  ASSERT_OK(OpenSkippingDamage());
  const RecoveryReport& r = db_->recovery_report();
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].offset, carrier);
  EXPECT_EQ(r.skipped[0].first_lost, 5u);
  EXPECT_EQ(r.skipped[0].last_lost, 5u);
  EXPECT_EQ(Get("forged"), "NOT_FOUND");
  EXPECT_EQ(Get("carrier1"), "NOT_FOUND");
  EXPECT_EQ(Get("k2"), "value2");
  EXPECT_EQ(Get("after"), "1");
}

// kSkipAnyCorruptedRecords skips a damaged frame after the index's marker
// whose item a memtable flush had already put in the index: replay, which
// counts statistics from the records, cannot count it, yet the table's
// statistics must still add up to its items. Also after the repair's own
// marker (past the damage, so no later replay sees it) became durable and
// its recount did not: a clean close does not flush the memtable.
TEST_F(RecoveryTest, SkippedDamageLeavesStatisticsThatMatchTheItems) {
  Options o;
  o.write_buffer_bytes = 64 << 10;  // flushes fall between the markers
  o.segment_bytes = 64 << 10;       // the damage is in an older segment
  ASSERT_OK(Open(o));
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewAndOldImages)));
  const uint32_t table_id =
      dynamic_cast<DBInternal*>(db_.get())->CurrentCatalog()->FindLive("tbl")->id;
  std::vector<std::string> segments;
  std::vector<uint64_t> offsets;
  std::vector<SequenceNumber> sequences;
  for (int i = 0; i < 2000; ++i) {
    const std::string segment = Newest();
    const uint64_t offset = test::FileSize(segment);
    CommitInfo info;
    WriteBatch b;
    b.Put("tbl", Numbered("k", i), std::string(1000, static_cast<char>('a' + i % 26)));
    ASSERT_OK(db_->Write(WriteOptions(), b, &info));
    // Empty if the frame went into a new segment.
    segments.push_back(Newest() == segment ? segment : std::string());
    offsets.push_back(offset);
    sequences.push_back(info.first_sequence);
  }
  const std::string newest = Newest();
  ASSERT_OK(db_->Close());
  db_.reset();

  // What the index holds on disk, read by LevelDB itself from a copy: its
  // marker, and which items after the marker a flush took.
  const std::string copy = dir_.Sub("index-copy");
  std::filesystem::copy(db_dir() + "/index", copy, std::filesystem::copy_options::recursive);
  int victim = -1;
  {
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(leveldb::Options(), copy, &raw).ok());
    std::unique_ptr<leveldb::DB> index(raw);
    std::string v;
    ASSERT_TRUE(index->Get(leveldb::ReadOptions(), ToSlice(index::kAppliedKey), &v).ok());
    ASSERT_EQ(v.size(), 8u);
    const uint64_t marker = DecodeFixed64(v.data());
    for (int i = 0; i < 2000 && victim < 0; ++i) {
      if (sequences[i] <= marker || segments[i].empty() || segments[i] == newest) continue;
      if (index->Get(leveldb::ReadOptions(), index::ItemKey(table_id, Numbered("k", i)), &v).ok()) {
        victim = i;
      }
    }
  }
  ASSERT_GE(victim, 0) << "no item after the index's marker was flushed: the setup needs retuning";

  // Damage the victim's frame header.
  const std::string seg = test::ReadFile(segments[victim]);
  const uint64_t at = offsets[victim] + 8;
  test::WriteAt(segments[victim], at, std::string(1, static_cast<char>(seg[at] ^ 0x04)));
  Options skip = o;
  skip.recovery_mode = WALRecoveryMode::kSkipAnyCorruptedRecords;
  ASSERT_OK(Open(skip));
  const RecoveryReport& r = db_->recovery_report();
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].first_lost, sequences[victim]);

  auto expect_exact = [&](const std::string& when) {
    std::vector<std::pair<std::string, std::string>> items;
    ASSERT_OK(test::ScanAll(db_.get(), "tbl", &items));
    const uint64_t count = items.size();
    uint64_t bytes = 0;
    for (const auto& [k, val] : items) bytes += k.size() + val.size();
    EXPECT_EQ(count, 2000u) << when;  // the victim's item is in the index
    TableDescription d;
    ASSERT_OK(db_->DescribeTable("tbl", &d));
    EXPECT_EQ(d.item_count, count) << when;
    EXPECT_EQ(d.table_size_bytes, bytes) << when;
  };
  expect_exact("after the repair");
  // Give the index time to flush the memtable that holds the repair's
  // marker (the recount is in the next one, which a close does not flush).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_OK(db_->Close());
  ASSERT_OK(Open(skip));  // skips the damage again only if that flush did not happen
  expect_exact("after a reopen (" + std::to_string(db_->recovery_report().skipped.size()) +
               " skipped)");
}

TEST_F(RecoveryTest, MissingSegmentInTheMiddleIsCorruption) {
  ASSERT_OK(Open());
  Options o;
  o.segment_bytes = 64 << 10;
  ASSERT_OK(Open(o));
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  for (int i = 0; i < 300; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "tbl", Numbered("k", i), std::string(1000, 'x')));
  }
  ASSERT_OK(db_->Close());
  db_.reset();
  auto names = test::ListDir(wal());
  ASSERT_GE(names.size(), 3u);
  std::filesystem::remove(wal() + "/" + names[1]);
  Status s = Open(o);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(names[2]), std::string::npos) << s.ToString();
}

TEST_F(RecoveryTest, UnknownFrameTypes) {
  Fill(3);
  ASSERT_OK(Open());
  const SequenceNumber last = db_->LastSequence();
  ASSERT_OK(db_->Close());
  db_.reset();
  // A newer version's frame that old readers may skip, then one they must not.
  std::string frame;
  log::AppendFrame(0x85, last + 1, 2, 0, std::string(16, 'z'), &frame);
  test::AppendFramesToSegment(Newest(), frame);
  ASSERT_OK(Open());
  ASSERT_OK(db_->Put(WriteOptions(), "tbl", "next", "v"));
  std::vector<Rec> recs;
  ASSERT_OK(ReadAll(db_.get(), 1, &recs));
  EXPECT_EQ(recs.back().seq, last + 3);  // after the skipped frame's range
  ASSERT_OK(db_->Close());
  db_.reset();
  frame.clear();
  log::AppendFrame(0x05, last + 4, 1, 0, std::string(16, 'z'), &frame);
  test::AppendFramesToSegment(Newest(), frame);
  Status s = Open();
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
}

TEST_F(RecoveryTest, TornNewSegmentHeaderIsRemoved) {
  Fill(3);
  // A segment created just before power loss whose header never arrived.
  const std::string ghost = wal() + "/" + log::SegmentFileName(5);
  test::WriteAt(ghost, 0, std::string(10, '\0'));
  ASSERT_OK(Open());
  EXPECT_TRUE(db_->recovery_report().torn_tail);
  EXPECT_EQ(Get("k2"), "value2");
  ASSERT_OK(db_->Put(WriteOptions(), "tbl", "k3", "v"));
  ASSERT_OK(Open());
  EXPECT_EQ(Get("k3"), "v");
}

TEST_F(RecoveryTest, EverySegmentStartsWithACatalogSnapshot) {
  Options o;
  o.segment_bytes = 64 << 10;
  ASSERT_OK(Open(o));
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kOldImage)));
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "tbl", Numbered("k", i), std::string(1000, 'x')));
  }
  ASSERT_OK(db_->Close());
  db_.reset();
  auto names = test::ListDir(wal());
  ASSERT_GE(names.size(), 3u);
  for (size_t i = 0; i < names.size(); ++i) {
    uint64_t first = 0;
    ASSERT_TRUE(log::ParseSegmentFileName(names[i], &first));
    std::unique_ptr<log::SegmentReader> reader;
    ASSERT_OK(log::SegmentReader::Open(leveldb::Env::Default(), wal(), first, nullptr, &reader));
    log::Frame frame;
    log::Damage damage;
    ASSERT_EQ(reader->Next(&frame, &damage), log::SegmentReader::Result::kFrame);
    ASSERT_EQ(frame.header.type, log::kCatalogFrame);
    EXPECT_EQ(frame.header.count, 0u);
    EXPECT_EQ(frame.header.first_sequence, first);
    log::CatalogData catalog;
    ASSERT_OK(log::DecodeCatalog(frame.payload, &catalog));
    if (i == 0) {
      EXPECT_TRUE(catalog.tables.empty());  // created before the table
      continue;
    }
    ASSERT_EQ(catalog.tables.size(), 1u);
    EXPECT_EQ(catalog.tables[0].name, "tbl");
    ASSERT_EQ(catalog.tables[0].streams.size(), 1u);
    EXPECT_EQ(catalog.tables[0].streams[0].view, log::View::kOldImage);
    // The batch frames that follow carry the table's id as their hint.
    ASSERT_EQ(reader->Next(&frame, &damage), log::SegmentReader::Result::kFrame);
    EXPECT_EQ(frame.header.type, log::kBatchFrame);
    EXPECT_EQ(frame.header.table_hint, catalog.tables[0].id);
  }
}

}  // namespace
}  // namespace runnel
