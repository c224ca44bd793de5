// Copyright 2026 The runnel Authors.
//
// The public DB API: tables, streams, items, change semantics, limits and
// bad input.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "db/db_internal.h"
#include "db/key_filter.h"
#include "runnel/triggers.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::ReadAll;
using test::Rec;
using test::Stream;
using test::TempDir;

class DBTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen(Options options = Options()) {
    if (db_) ASSERT_OK(db_->Close());
    db_.reset();
    ASSERT_OK(DB::Open(options, dir_.Sub("db"), &db_));
  }
  std::string Get(const std::string& table, const std::string& key) {
    std::string v;
    Status s = db_->Get(ReadOptions(), table, key, &v);
    if (s.IsNotFound()) return "NOT_FOUND";
    if (!s.ok()) return "ERROR: " + s.ToString();
    return v;
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
  WriteOptions wo_;
};

TEST_F(DBTest, PutGetDeleteAcrossReopen) {
  ASSERT_OK(db_->CreateTable("tb1", StreamSpecification()));
  ASSERT_OK(db_->Put(wo_, "tb1", "a", "1"));
  ASSERT_OK(db_->Put(wo_, "tb1", "b", ""));
  EXPECT_EQ(Get("tb1", "a"), "1");
  EXPECT_EQ(Get("tb1", "b"), "");  // empty values are values
  ASSERT_OK(db_->Delete(wo_, "tb1", "a"));
  EXPECT_EQ(Get("tb1", "a"), "NOT_FOUND");
  Reopen();
  EXPECT_EQ(Get("tb1", "a"), "NOT_FOUND");
  EXPECT_EQ(Get("tb1", "b"), "");
}

TEST_F(DBTest, TablesCreateListDescribeDelete) {
  ASSERT_OK(db_->CreateTable("Music", Stream(StreamViewType::kNewAndOldImages)));
  ASSERT_OK(db_->CreateTable("Audit", StreamSpecification()));
  EXPECT_TRUE(db_->CreateTable("Music", StreamSpecification()).IsBusy());
  std::vector<std::string> names;
  ASSERT_OK(db_->ListTables(&names));
  EXPECT_EQ(names, (std::vector<std::string>{"Audit", "Music"}));

  ASSERT_OK(db_->Put(wo_, "Music", "k1", "12345"));
  ASSERT_OK(db_->Put(wo_, "Music", "k2", "1"));
  ASSERT_OK(db_->Put(wo_, "Music", "k2", "123"));
  TableDescription d;
  ASSERT_OK(db_->DescribeTable("Music", &d));
  EXPECT_EQ(d.table_name, "Music");
  EXPECT_TRUE(d.stream_specification.stream_enabled);
  EXPECT_EQ(d.stream_specification.stream_view_type, StreamViewType::kNewAndOldImages);
  EXPECT_EQ(d.item_count, 2u);
  EXPECT_EQ(d.table_size_bytes, 2u + 5u + 2u + 3u);
  EXPECT_EQ(d.latest_stream_arn,
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/" + d.latest_stream_label);
  EXPECT_EQ(d.latest_stream_label.size(), 23u);  // 2026-11-27T13:22:23.291

  // Counts survive reopen (they are replayed from the log or read from the
  // index).
  Reopen();
  ASSERT_OK(db_->DescribeTable("Music", &d));
  EXPECT_EQ(d.item_count, 2u);
  EXPECT_EQ(d.table_size_bytes, 12u);

  ASSERT_OK(db_->DeleteTable("Music"));
  EXPECT_TRUE(db_->DescribeTable("Music", &d).IsNotFound());
  EXPECT_TRUE(db_->DeleteTable("Music").IsNotFound());
  std::string v;
  EXPECT_TRUE(db_->Get(ReadOptions(), "Music", "k1", &v).IsNotFound());
  // A new table of the same name starts empty.
  ASSERT_OK(db_->CreateTable("Music", StreamSpecification()));
  EXPECT_EQ(Get("Music", "k1"), "NOT_FOUND");
  ASSERT_OK(db_->DescribeTable("Music", &d));
  EXPECT_EQ(d.item_count, 0u);
  EXPECT_TRUE(d.latest_stream_arn.empty());
  Reopen();
  EXPECT_EQ(Get("Music", "k1"), "NOT_FOUND");
}

TEST_F(DBTest, ChangeSemantics) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewAndOldImages)));
  const SequenceNumber start = db_->LastSequence() + 1;
  ASSERT_OK(db_->Put(wo_, "tbl", "k", "v1"));   // INSERT
  ASSERT_OK(db_->Put(wo_, "tbl", "k", "v1"));   // same value: nothing
  ASSERT_OK(db_->Put(wo_, "tbl", "k", "v2"));   // MODIFY
  ASSERT_OK(db_->Delete(wo_, "tbl", "k"));      // REMOVE
  ASSERT_OK(db_->Delete(wo_, "tbl", "k"));      // missing: nothing
  ASSERT_OK(db_->Delete(wo_, "tbl", "never"));  // missing: nothing
  std::vector<Rec> recs;
  ASSERT_OK(ReadAll(db_.get(), start, &recs));
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].event, EventName::kInsert);
  EXPECT_FALSE(recs[0].has_old);
  EXPECT_EQ(recs[0].new_image, "v1");
  EXPECT_EQ(recs[1].event, EventName::kModify);
  EXPECT_EQ(recs[1].old_image, "v1");
  EXPECT_EQ(recs[1].new_image, "v2");
  EXPECT_EQ(recs[2].event, EventName::kRemove);
  EXPECT_EQ(recs[2].old_image, "v2");
  EXPECT_FALSE(recs[2].has_new);
  EXPECT_EQ(recs[1].seq, recs[0].seq + 1);  // no-ops consume no sequence
  EXPECT_EQ(recs[2].seq, recs[1].seq + 1);
}

// The absent-key filter only skips reads: no key ever added is reported
// absent, across its growth, and keys never added are mostly told apart.
TEST(KeyFilterTest, NoFalseNegativesAndFewFalsePositives) {
  // Sized for its keys (as at open), and grown from small (eight doublings,
  // as a new table's): false positives add up over the layers.
  for (uint64_t initial : {200000u, 1000u}) {
    SCOPED_TRACE("initial capacity " + std::to_string(initial));
    KeyFilter f(10, initial);
    for (int i = 0; i < 200000; ++i) f.Add(test::Numbered("key", i));
    EXPECT_EQ(f.keys(), 200000u);
    for (int i = 0; i < 200000; ++i) ASSERT_TRUE(f.MayContain(test::Numbered("key", i))) << i;
    int positives = 0;
    for (int i = 0; i < 100000; ++i) positives += f.MayContain(test::Numbered("other", i));
    EXPECT_LT(positives, initial == 1000u ? 5000 : 2000) << "false positives";
    EXPECT_LT(f.MemoryBytes(), 200000u * 10 / 8 * 3) << "more than 3x the design size";
  }
}

// Whatever the filter (off, the default, or one so small that it answers
// "maybe" for most keys), and whether a write comes while the filter is
// still being built at open or after, every write is classified as it would
// be without it: INSERT for a new key, MODIFY with the old image for an
// existing one, and the item count follows.
TEST_F(DBTest, KeyFilterNeverChangesWhatAWriteDoes) {
  Options bad;
  bad.key_filter_bits_per_key = -1;
  std::unique_ptr<DB> none;
  Status s = DB::Open(bad, dir_.Sub("bad"), &none);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("options.key_filter_bits_per_key"), std::string::npos);

  constexpr int kKeys = 5000;
  for (int bits : {0, 10, 1}) {
    for (bool wait : {false, true}) {
      SCOPED_TRACE("bits " + std::to_string(bits) + (wait ? ", after the scan" : ", during it"));
      Options o;
      o.key_filter_bits_per_key = bits;
      const std::string table = "t" + std::to_string(bits) + (wait ? "w" : "n");
      Reopen(o);
      ASSERT_OK(db_->CreateTable(table, Stream(StreamViewType::kNewAndOldImages)));
      for (int i = 0; i < kKeys; ++i) {
        ASSERT_OK(db_->Put(wo_, table, test::Numbered("k", i), test::Numbered("a", i)));
      }
      Reopen(o);  // the filter is built again from the index
      if (wait) std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const SequenceNumber start = db_->LastSequence() + 1;
      for (int i = 0; i < kKeys; ++i) {
        ASSERT_OK(db_->Put(wo_, table, test::Numbered("k", i), test::Numbered("b", i)));
      }
      for (int i = 0; i < kKeys; i += 2) ASSERT_OK(db_->Delete(wo_, table, test::Numbered("k", i)));
      for (int i = 0; i < kKeys; i += 2) {
        ASSERT_OK(db_->Put(wo_, table, test::Numbered("k", i), test::Numbered("c", i)));
      }
      for (int i = kKeys; i < kKeys + 100; ++i) {
        ASSERT_OK(db_->Put(wo_, table, test::Numbered("k", i), test::Numbered("d", i)));
      }
      std::vector<Rec> recs;
      ASSERT_OK(ReadAll(db_.get(), start, &recs));
      ASSERT_EQ(recs.size(), static_cast<size_t>(kKeys + kKeys / 2 * 2 + 100));
      for (int i = 0; i < kKeys; ++i) {
        ASSERT_EQ(recs[i].event, EventName::kModify) << i;
        ASSERT_EQ(recs[i].old_image, test::Numbered("a", i));
      }
      for (size_t i = kKeys + kKeys / 2; i < recs.size(); ++i) {
        ASSERT_EQ(recs[i].event, EventName::kInsert) << i;
        ASSERT_FALSE(recs[i].has_old);
      }
      TableDescription d;
      ASSERT_OK(db_->DescribeTable(table, &d));
      EXPECT_EQ(d.item_count, static_cast<uint64_t>(kKeys + 100));
    }
  }
}

TEST_F(DBTest, ViewTypesDecideTheImages) {
  struct Case {
    StreamViewType type;
    bool old_shown, new_shown;
  } cases[] = {{StreamViewType::kKeysOnly, false, false},
               {StreamViewType::kNewImage, false, true},
               {StreamViewType::kOldImage, true, false},
               {StreamViewType::kNewAndOldImages, true, true}};
  for (const Case& c : cases) {
    const std::string table = "tbl" + std::to_string(static_cast<int>(c.type));
    ASSERT_OK(db_->CreateTable(table, Stream(c.type)));
    const SequenceNumber start = db_->LastSequence() + 1;
    ASSERT_OK(db_->Put(wo_, table, "k", "a"));
    ASSERT_OK(db_->Put(wo_, table, "k", "b"));
    ASSERT_OK(db_->Delete(wo_, table, "k"));
    std::vector<Rec> recs;
    ASSERT_OK(ReadAll(db_.get(), start, &recs));
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[0].has_new, c.new_shown);
    EXPECT_FALSE(recs[0].has_old);
    EXPECT_EQ(recs[1].has_old, c.old_shown);
    EXPECT_EQ(recs[1].has_new, c.new_shown);
    if (c.old_shown) {
      EXPECT_EQ(recs[1].old_image, "a");
    }
    if (c.new_shown) {
      EXPECT_EQ(recs[1].new_image, "b");
    }
    EXPECT_EQ(recs[2].has_old, c.old_shown);
    EXPECT_FALSE(recs[2].has_new);
    for (const Rec& r : recs) EXPECT_EQ(r.key, "k");
  }
}

TEST_F(DBTest, TablesWithoutStreamAreInNoStream) {
  ASSERT_OK(db_->CreateTable("quiet", StreamSpecification()));
  ASSERT_OK(db_->CreateTable("loud", Stream(StreamViewType::kKeysOnly)));
  const SequenceNumber start = db_->LastSequence() + 1;
  ASSERT_OK(db_->Put(wo_, "quiet", "a", "1"));
  ASSERT_OK(db_->Put(wo_, "loud", "b", "2"));
  std::vector<Rec> recs;
  ASSERT_OK(ReadAll(db_.get(), start, &recs));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].table, "loud");
  // The quiet write is still in the log (it is the WAL): it survives reopen.
  Reopen();
  EXPECT_EQ(Get("quiet", "a"), "1");
}

TEST_F(DBTest, StreamEnableDisableRules) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  // Enabling an enabled stream (even with another view type) is in use.
  Status s = db_->UpdateTable("tbl", Stream(StreamViewType::kOldImage));
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("disable"), std::string::npos);
  TableDescription d1, d2;
  ASSERT_OK(db_->DescribeTable("tbl", &d1));
  ASSERT_OK(db_->UpdateTable("tbl", StreamSpecification()));  // disable
  // Disabling without a stream is a validation error.
  EXPECT_TRUE(db_->UpdateTable("tbl", StreamSpecification()).IsInvalidArgument());
  ASSERT_OK(db_->DescribeTable("tbl", &d2));
  EXPECT_FALSE(d2.stream_specification.stream_enabled);
  EXPECT_EQ(d2.latest_stream_arn, d1.latest_stream_arn);  // still the latest

  const SequenceNumber start = db_->LastSequence() + 1;
  ASSERT_OK(db_->Put(wo_, "tbl", "k", "while-disabled"));
  ASSERT_OK(db_->UpdateTable("tbl", Stream(StreamViewType::kOldImage)));
  ASSERT_OK(db_->DescribeTable("tbl", &d2));
  EXPECT_TRUE(d2.stream_specification.stream_enabled);
  EXPECT_EQ(d2.stream_specification.stream_view_type, StreamViewType::kOldImage);
  EXPECT_NE(d2.latest_stream_label, d1.latest_stream_label);  // a new stream
  ASSERT_OK(db_->Put(wo_, "tbl", "k", "after"));
  std::vector<Rec> recs;
  ASSERT_OK(ReadAll(db_.get(), start, &recs));
  ASSERT_EQ(recs.size(), 1u);  // the write while disabled is in no stream
  EXPECT_EQ(recs[0].event, EventName::kModify);
  EXPECT_EQ(recs[0].old_image, "while-disabled");
  EXPECT_FALSE(recs[0].has_new);

  std::vector<StreamInfo> streams;
  ASSERT_OK(db_->ListStreams("tbl", &streams));
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_FALSE(streams[0].enabled());
  EXPECT_TRUE(streams[1].enabled());
  EXPECT_LT(streams[0].ending_sequence, start);
  EXPECT_GT(streams[1].starting_sequence, start);
  EXPECT_EQ(streams[1].arn, d2.latest_stream_arn);
  // Streams survive reopen; a deleted table's streams stay listed.
  ASSERT_OK(db_->DeleteTable("tbl"));
  Reopen();
  ASSERT_OK(db_->ListStreams("", &streams));
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_FALSE(streams[1].enabled());
  EXPECT_TRUE(db_->ListStreams("nope", &streams).IsNotFound());
}

TEST_F(DBTest, BatchIsAtomicAndOrderedAcrossTables) {
  ASSERT_OK(db_->CreateTable("tba", Stream(StreamViewType::kNewAndOldImages)));
  ASSERT_OK(db_->CreateTable("tbb", Stream(StreamViewType::kNewAndOldImages)));
  ASSERT_OK(db_->Put(wo_, "tba", "x", "0"));
  const SequenceNumber start = db_->LastSequence() + 1;
  WriteBatch batch;
  batch.Put("tba", "x", "1");  // MODIFY
  batch.Put("tbb", "y", "1");  // INSERT
  batch.Put("tba", "x", "2");  // MODIFY again, sees the first
  batch.Delete("tbb", "y");    // REMOVE of the key inserted above
  batch.Delete("tbb", "zz");   // nothing
  CommitInfo info;
  ASSERT_OK(db_->Write(wo_, batch, &info));
  EXPECT_EQ(info.first_sequence, start);
  EXPECT_EQ(info.record_count, 4u);
  std::vector<Rec> recs;
  ASSERT_OK(ReadAll(db_.get(), start, &recs));
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].table, "tba");
  EXPECT_EQ(recs[0].old_image, "0");
  EXPECT_EQ(recs[1].event, EventName::kInsert);
  EXPECT_EQ(recs[2].old_image, "1");
  EXPECT_EQ(recs[3].event, EventName::kRemove);
  EXPECT_EQ(recs[3].old_image, "1");
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(recs[i].end_of_batch);
  EXPECT_TRUE(recs[3].end_of_batch);

  // A batch naming a missing table writes nothing at all.
  WriteBatch bad;
  bad.Put("tba", "x", "3");
  bad.Put("missing", "x", "3");
  const SequenceNumber before = db_->LastSequence();
  EXPECT_TRUE(db_->Write(wo_, bad).IsNotFound());
  EXPECT_EQ(Get("tba", "x"), "2");
  EXPECT_EQ(db_->LastSequence(), before);
}

TEST_F(DBTest, ScanPrefixRangeLimitResume) {
  ASSERT_OK(db_->CreateTable("tbl", StreamSpecification()));
  ASSERT_OK(db_->CreateTable("tbu", StreamSpecification()));
  for (const char* k : {"a1", "a2", "a3", "b1", "b2", "c"}) {
    ASSERT_OK(db_->Put(wo_, "tbl", k, std::string("v") + k));
  }
  ASSERT_OK(db_->Put(wo_, "tbu", "a0", "other table"));
  auto keys = [](const ScanResult& r) {
    std::string out;
    for (const auto& [k, v] : r.items) out += k + ",";
    return out;
  };
  ScanResult r;
  ASSERT_OK(db_->Scan(ReadOptions(), "tbl", ScanOptions(), &r));
  EXPECT_EQ(keys(r), "a1,a2,a3,b1,b2,c,");
  EXPECT_FALSE(r.has_more);
  EXPECT_EQ(r.items[0].second, "va1");
  ScanOptions o;
  o.prefix = "a";
  ASSERT_OK(db_->Scan(ReadOptions(), "tbl", o, &r));
  EXPECT_EQ(keys(r), "a1,a2,a3,");
  o = ScanOptions();
  o.start_key = "a2";
  o.end_key = "b2";
  ASSERT_OK(db_->Scan(ReadOptions(), "tbl", o, &r));
  EXPECT_EQ(keys(r), "a2,a3,b1,");
  o = ScanOptions();
  o.limit = 4;
  ASSERT_OK(db_->Scan(ReadOptions(), "tbl", o, &r));
  EXPECT_EQ(keys(r), "a1,a2,a3,b1,");
  EXPECT_TRUE(r.has_more);
  EXPECT_EQ(r.last_evaluated_key, "b1");
  o.exclusive_start_key = r.last_evaluated_key;
  ASSERT_OK(db_->Scan(ReadOptions(), "tbl", o, &r));
  EXPECT_EQ(keys(r), "b2,c,");
  EXPECT_FALSE(r.has_more);
  o = ScanOptions();
  o.limit = 3;
  o.prefix = "a";
  ASSERT_OK(db_->Scan(ReadOptions(), "tbl", o, &r));
  EXPECT_EQ(keys(r), "a1,a2,a3,");
  EXPECT_FALSE(r.has_more);  // nothing else matches the prefix
  EXPECT_TRUE(db_->Scan(ReadOptions(), "nope", ScanOptions(), &r).IsNotFound());
}

TEST_F(DBTest, LimitsAreEnforcedAndWriteNothing) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewAndOldImages)));
  const SequenceNumber before = db_->LastSequence();
  auto expect_invalid = [&](const Status& s, const std::string& names) {
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.message().find(names), std::string::npos) << s.ToString();
  };
  expect_invalid(db_->Put(wo_, "tbl", "", "v"), "key: must be 1 to 4096 bytes, got 0");
  expect_invalid(db_->Put(wo_, "tbl", std::string(4097, 'k'), "v"), "got 4097");
  ASSERT_OK(db_->Put(wo_, "tbl", std::string(4096, 'k'), "v"));
  expect_invalid(db_->Put(wo_, "tbl", "k", std::string((16u << 20) + 1, 'v')),
                 "value: must be at most 16777216 bytes");
  ASSERT_OK(db_->Put(wo_, "tbl", "big", std::string(16u << 20, 'v')));
  expect_invalid(db_->CreateTable("ab", StreamSpecification()),
                 "table name: must be 3 to 255 characters long, got 2");
  expect_invalid(db_->CreateTable(std::string(256, 'a'), StreamSpecification()), "got 256");
  ASSERT_OK(db_->CreateTable(std::string(255, 'a'), StreamSpecification()));
  expect_invalid(db_->CreateTable("bad name", StreamSpecification()),
                 "only [A-Za-z0-9_.-] allowed");
  expect_invalid(db_->CreateTable("bad/name", StreamSpecification()), "bad/name");
  ASSERT_OK(db_->CreateTable("Ok_.-9", StreamSpecification()));
  StreamSpecification weird;
  weird.stream_enabled = true;
  weird.stream_view_type = static_cast<StreamViewType>(9);
  expect_invalid(db_->CreateTable("weird", weird), "stream view type");
  // A batch with one bad operation is rejected whole, naming the operation.
  WriteBatch batch;
  batch.Put("tbl", "fine", "1");
  batch.Put("tbl", "", "2");
  expect_invalid(db_->Write(wo_, batch), "batch operation 1: key");
  WriteBatch huge;
  for (int i = 0; i < 5; ++i) huge.Put("tbl", test::Numbered("k", i), std::string(15u << 20, 'x'));
  expect_invalid(db_->Write(wo_, huge), "batch: keys and values must total at most");
  EXPECT_EQ(Get("tbl", "fine"), "NOT_FOUND");
  EXPECT_EQ(Get("tbl", "k0"), "NOT_FOUND");
  // Only the three successful operations advanced the log.
  EXPECT_EQ(db_->LastSequence(), before + 4);
  std::string v;
  EXPECT_TRUE(db_->Get(ReadOptions(), "tbl", "", &v).IsInvalidArgument());
  EXPECT_TRUE(db_->Put(wo_, "missing", "k", "v").IsNotFound());
  EXPECT_TRUE(db_->Get(ReadOptions(), "missing", "k", &v).IsNotFound());
}

TEST_F(DBTest, ClosedDbRefusesEverything) {
  ASSERT_OK(db_->CreateTable("tbl", StreamSpecification()));
  ASSERT_OK(db_->Close());
  ASSERT_OK(db_->Close());  // idempotent
  std::string v;
  EXPECT_TRUE(db_->Put(wo_, "tbl", "k", "v").IsFailedPrecondition());
  EXPECT_TRUE(db_->Get(ReadOptions(), "tbl", "k", &v).IsFailedPrecondition());
  EXPECT_TRUE(db_->CreateTable("tbu", StreamSpecification()).IsFailedPrecondition());
  std::vector<std::string> names;
  EXPECT_TRUE(db_->ListTables(&names).IsFailedPrecondition());
  std::unique_ptr<ChangeIterator> it;
  EXPECT_TRUE(db_->NewChangeIterator(1, &it).IsFailedPrecondition());
  db_.reset();
}

TEST_F(DBTest, SecondOpenIsRefusedWithThePid) {
  std::unique_ptr<DB> second;
  Status s = DB::Open(Options(), dir_.Sub("db"), &second);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("locked by pid " + std::to_string(getpid())), std::string::npos)
      << s.ToString();
  EXPECT_EQ(second, nullptr);

  // Another process is refused too, and told our pid.
  const pid_t child = fork();
  if (child == 0) {
    std::unique_ptr<DB> other;
    Status cs = DB::Open(Options(), dir_.Sub("db"), &other);
    const bool ok =
        cs.IsBusy() &&
        cs.message().find("locked by pid " + std::to_string(getppid())) != std::string::npos;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  // Once closed, the directory can be opened again.
  ASSERT_OK(db_->Close());
  ASSERT_OK(DB::Open(Options(), dir_.Sub("db"), &second));
}

TEST_F(DBTest, OpenOptions) {
  Options o;
  o.create_if_missing = false;
  std::unique_ptr<DB> other;
  EXPECT_TRUE(DB::Open(o, dir_.Sub("absent"), &other).IsNotFound());
  struct stat st;
  EXPECT_NE(::stat(dir_.Sub("absent").c_str(), &st), 0);  // nothing created
  ASSERT_OK(db_->Close());
  o = Options();
  o.error_if_exists = true;
  EXPECT_TRUE(DB::Open(o, dir_.Sub("db"), &other).IsInvalidArgument());
  o = Options();
  o.segment_bytes = 100;
  EXPECT_TRUE(DB::Open(o, dir_.Sub("db2"), &other).IsInvalidArgument());
  // The DB directory is private to its owner.
  ASSERT_OK(DB::Open(Options(), dir_.Sub("fresh"), &other));
  ASSERT_EQ(::stat(dir_.Sub("fresh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // The name comes from the directory unless given.
  EXPECT_EQ(other->name(), "fresh");
  EXPECT_EQ(other->id().size(), 32u);
  o = Options();
  o.name = "edge-1";
  std::unique_ptr<DB> named;
  ASSERT_OK(DB::Open(o, dir_.Sub("named"), &named));
  EXPECT_EQ(named->name(), "edge-1");
  ASSERT_OK(named->Close());
  o.name = "ignored-later";
  ASSERT_OK(DB::Open(o, dir_.Sub("named"), &named));
  EXPECT_EQ(named->name(), "edge-1");
}

TEST_F(DBTest, RegionAndAccountShapeArnsAndAreFixedAtCreation) {
  EXPECT_EQ(db_->region(), "us-east-1");
  EXPECT_EQ(db_->account_id(), "000000000000");
  Options o;
  std::unique_ptr<DB> other;
  struct stat st;
  for (const char* bad : {"", "US-EAST-1", "us_east_1", "-us", "us-east-1-", "a:b"}) {
    o.region = bad;
    Status s = DB::Open(o, dir_.Sub("bad"), &other);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad;
    EXPECT_NE(s.message().find("options.region"), std::string::npos) << s.ToString();
  }
  o = Options();
  for (const char* bad : {"", "12345678901", "1234567890123", "00000000000a"}) {
    o.account_id = bad;
    EXPECT_TRUE(DB::Open(o, dir_.Sub("bad"), &other).IsInvalidArgument()) << bad;
  }
  EXPECT_NE(::stat(dir_.Sub("bad").c_str(), &st), 0);  // nothing created

  o = Options();
  o.region = "eu-west-1";
  o.account_id = "123456789012";
  ASSERT_OK(DB::Open(o, dir_.Sub("eu"), &other));
  ASSERT_OK(other->CreateTable("Music", Stream(StreamViewType::kNewImage)));
  TableDescription d;
  ASSERT_OK(other->DescribeTable("Music", &d));
  const std::string arn = d.latest_stream_arn;
  EXPECT_EQ(arn,
            "arn:aws:dynamodb:eu-west-1:123456789012:table/Music/stream/" + d.latest_stream_label);
  ASSERT_OK(other->Close());
  // Reopened with other values (here the defaults): the DB keeps its own.
  ASSERT_OK(DB::Open(Options(), dir_.Sub("eu"), &other));
  EXPECT_EQ(other->region(), "eu-west-1");
  EXPECT_EQ(other->account_id(), "123456789012");
  ASSERT_OK(other->DescribeTable("Music", &d));
  EXPECT_EQ(d.latest_stream_arn, arn);
  ASSERT_OK(other->Put(wo_, "Music", "k", "v"));
  ShardIteratorRequest req;
  req.stream_arn = arn;
  std::string it;
  ASSERT_OK(other->streams()->GetShardIterator(req, &it));
  RecordBatch batch;
  ASSERT_OK(other->streams()->GetRecords(it, GetRecordsOptions(), &batch));
  ASSERT_EQ(batch.records().size(), 1u);
  EXPECT_NE(
      RecordToJson(batch.records()[0], arn, other->region()).find("\"awsRegion\":\"eu-west-1\""),
      std::string::npos);
  ASSERT_OK(other->Close());
  // A read-only reader (another process) sees the same ARNs.
  std::unique_ptr<StreamReader> reader;
  ASSERT_OK(StreamReader::OpenReadOnly(dir_.Sub("eu"), &reader));
  std::vector<StreamInfo> streams;
  ASSERT_OK(reader->ListStreams("Music", &streams));
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].arn, arn);

  // DIR/IDENTITY holds them; one written before they existed (three lines)
  // reads as the defaults, whatever Options say.
  const std::string identity = test::ReadFile(dir_.Sub("eu") + "/IDENTITY");
  EXPECT_NE(identity.find("\neu-west-1\n123456789012\n"), std::string::npos) << identity;
  size_t third = identity.find('\n', identity.find('\n', identity.find('\n') + 1) + 1);
  { std::ofstream(dir_.Sub("eu") + "/IDENTITY", std::ios::trunc) << identity.substr(0, third + 1); }
  o.region = "ap-south-1";
  ASSERT_OK(DB::Open(o, dir_.Sub("eu"), &other));
  EXPECT_EQ(other->region(), "us-east-1");
  EXPECT_EQ(other->account_id(), "000000000000");
}

// A table snapshot (a mapping's SNAPSHOT bootstrap) taken while the table is
// being deleted sees it whole, paired with a sequence before the delete, or
// gone: never part of the purge, which deletes the items in key order in
// chunks of 10,000, so a snapshot between two chunks would miss the first
// keys and still claim the sequence before the delete.
TEST_F(DBTest, TableSnapshotNeverSeesPartOfADeletedTablesPurge) {
  ASSERT_OK(db_->CreateTable("purged", Stream(StreamViewType::kNewImage)));
  constexpr int kItems = 60000;
  for (int i = 0; i < kItems; i += 1000) {
    WriteBatch b;
    for (int j = i; j < i + 1000; ++j) {
      char key[16];
      std::snprintf(key, sizeof(key), "k%07d", j);
      b.Put("purged", key, "v");
    }
    ASSERT_OK(db_->Write(wo_, b));
  }
  auto* internal = dynamic_cast<DBInternal*>(db_.get());
  ASSERT_NE(internal, nullptr);
  const uint32_t id = internal->CurrentCatalog()->FindLive("purged")->id;
  const SequenceNumber before = db_->LastSequence();
  std::atomic<bool> done{false};
  std::atomic<int> whole{0}, gone{0}, torn{0};
  std::thread snapshots([&] {
    // Until the delete is done, and then until one snapshot saw it.
    for (int after = 0; !done.load() || (gone.load() == 0 && after < 1000);) {
      if (done.load()) ++after;
      std::unique_ptr<TableSnapshot> snap;
      ASSERT_OK(internal->NewTableSnapshot(id, &snap));
      std::vector<std::pair<std::string, std::string>> items;
      bool end = false;
      ASSERT_OK(snap->Read("", 1, 1 << 20, &items, &end));
      const bool first_there = !items.empty() && items[0].first == "k0000000";
      if (snap->sequence() <= before) {
        (first_there ? whole : torn).fetch_add(1);
      } else {
        (items.empty() ? gone : torn).fetch_add(1);
      }
    }
  });
  const Status deleted = db_->DeleteTable("purged");
  done = true;
  snapshots.join();
  ASSERT_OK(deleted);
  EXPECT_EQ(torn.load(), 0) << whole.load() << " whole, " << gone.load() << " gone";
  EXPECT_GT(gone.load(), 0);
}

TEST_F(DBTest, RetentionDeletesOnlyDurableExpiredSegmentsAndReportsTrim) {
  Options o;
  o.segment_bytes = 64 << 10;
  o.write_buffer_bytes = 64 << 10;  // the index flushes often
  o.retention_seconds = 0;          // age never expires a segment...
  o.max_log_bytes = 256 << 10;      // ...but the size cap does
  Reopen(o);
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewAndOldImages)));
  db_->SetRetentionFloor("test", 1);  // pin everything first
  const std::string value(1000, 'v');
  for (int i = 0; i < 2000; ++i) {
    ASSERT_OK(db_->Put(wo_, "tbl", "key" + std::to_string(i % 300), value + std::to_string(i)));
  }
  int deleted = -1;
  ASSERT_OK(db_->RunRetention(&deleted));
  EXPECT_EQ(deleted, 0);  // the floor holds everything
  EXPECT_EQ(db_->FirstAvailableSequence(), 1u);
  db_->ClearRetentionFloor("test");
  ASSERT_OK(db_->RunRetention(&deleted));
  EXPECT_GT(deleted, 0);
  // The background pass (kicked by the segment switches above) may trim
  // further while this reads, once a flush of the index completes: a
  // reader is then told so, and reading from the new first available
  // sequence works.
  SequenceNumber first = 0;
  std::vector<Rec> recs;
  Status read;
  for (int attempt = 0; attempt < 20; ++attempt) {
    first = db_->FirstAvailableSequence();
    recs.clear();
    read = ReadAll(db_.get(), first, &recs);
    if (!read.IsTrimmed()) break;
  }
  ASSERT_OK(read);
  EXPECT_GT(first, 1u);
  std::unique_ptr<ChangeIterator> it;
  Status s = db_->NewChangeIterator(1, &it);
  EXPECT_TRUE(s.IsTrimmed()) << s.ToString();
  EXPECT_NE(s.message().find("the first available sequence is"), std::string::npos) << s.ToString();
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.front().seq, first);
  EXPECT_EQ(recs.back().seq, db_->LastSequence());
  // Nothing acknowledged was lost: the data is in the index.
  Reopen(o);
  for (int i = 1700; i < 2000; ++i) {
    EXPECT_EQ(Get("tbl", "key" + std::to_string(i % 300)), value + std::to_string(i));
  }
}

// --- DestroyDB

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TEST_F(DBTest, DestroyDBRemovesEverythingOnceClosed) {
  const std::string dir = dir_.Sub("db");
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  ASSERT_OK(db_->Put(wo_, "tbl", "k", "v"));
  // A function log too (DIR/logs/<function>/).
  FunctionConfiguration f;
  f.function_name = "fn";
  ASSERT_OK(db_->triggers()->RegisterInProcessFunction(
      f, [](const runnel_batch&, runnel_context*) { return 0; }));
  std::string response;
  ASSERT_OK(db_->triggers()->Invoke("fn", R"({"Records":[]})", &response));

  // Open: Busy, in this process and from another one; nothing is removed.
  Status s = DestroyDB(dir, Options());
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("locked by pid " + std::to_string(getpid())), std::string::npos)
      << s.ToString();
  const pid_t child = fork();
  if (child == 0) _exit(DestroyDB(dir, Options()).IsBusy() ? 0 : 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(Get("tbl", "k"), "v");

  ASSERT_OK(db_->Close());
  db_.reset();
  ASSERT_TRUE(Exists(dir + "/logs/fn/current.log"));
  ASSERT_TRUE(Exists(dir + "/wal"));
  ASSERT_OK(DestroyDB(dir, Options()));
  EXPECT_FALSE(Exists(dir)) << "left: " << dir;
  // Nothing there any more: OK again, and a new DB starts empty.
  ASSERT_OK(DestroyDB(dir, Options()));
  Reopen();
  std::vector<std::string> names;
  ASSERT_OK(db_->ListTables(&names));
  EXPECT_TRUE(names.empty());
  EXPECT_EQ(db_->LastSequence(), 0u);
}

TEST_F(DBTest, DestroyDBLeavesFilesItDidNotWrite) {
  const std::string dir = dir_.Sub("db");
  ASSERT_OK(db_->CreateTable("tbl", StreamSpecification()));
  ASSERT_OK(db_->Put(wo_, "tbl", "k", "v"));
  ASSERT_OK(db_->Close());
  db_.reset();
  test::WriteAt(dir + "/notes.txt", 0, "mine");
  test::WriteAt(dir + "/wal/notes.txt", 0, "mine too");
  ASSERT_OK(DestroyDB(dir, Options()));
  EXPECT_EQ(test::ReadFile(dir + "/notes.txt"), "mine");
  EXPECT_EQ(test::ReadFile(dir + "/wal/notes.txt"), "mine too");
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    left.push_back(e.path().lexically_relative(dir).string());
  }
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"notes.txt", "wal", "wal/notes.txt"}));
}

// --- Env

class ForeignEnv : public Env {};

TEST_F(DBTest, OnlyEnvsMadeByRunnelAreAccepted) {
  Options o;
  o.env = Env::Default();
  std::unique_ptr<DB> other;
  ASSERT_OK(DB::Open(o, dir_.Sub("default_env"), &other));
  ASSERT_OK(other->Close());
  ForeignEnv foreign;
  o.env = &foreign;
  Status s = DB::Open(o, dir_.Sub("foreign_env"), &other);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_FALSE(Exists(dir_.Sub("foreign_env")));
  EXPECT_TRUE(DestroyDB(dir_.Sub("default_env"), o).IsInvalidArgument());
}

// --- ReadOptions

// verify_checksums reaches LevelDB: a byte flipped inside an item's value in
// an index table file goes unnoticed by a default read (the block still
// parses) and fails a verifying one.
TEST_F(DBTest, ReadOptionsVerifyChecksumsCatchesADamagedIndexBlock) {
  Options o;
  o.write_buffer_bytes = 64 << 10;  // the first items reach a table file
  Reopen(o);
  ASSERT_OK(db_->CreateTable("tbl", StreamSpecification()));
  std::mt19937_64 rng(7);
  std::vector<std::string> values;
  for (int i = 0; i < 160; ++i) {
    std::string v(1000, '\0');
    for (char& c : v) c = static_cast<char>(rng());  // incompressible: stored as is
    values.push_back(v);
    char key[8];
    std::snprintf(key, sizeof(key), "k%03d", i);
    ASSERT_OK(db_->Put(wo_, "tbl", key, v));
  }
  ASSERT_OK(db_->Close());
  db_.reset();

  const std::string& target = values[10];
  std::string table_file;
  size_t at = std::string::npos;
  for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("db/index"))) {
    if (e.path().extension() != ".ldb") continue;
    at = test::ReadFile(e.path().string()).find(target);
    if (at != std::string::npos) {
      table_file = e.path().string();
      break;
    }
  }
  ASSERT_FALSE(table_file.empty()) << "item k010 never reached an index table file";
  std::string flipped = target.substr(500, 1);
  flipped[0] = static_cast<char>(flipped[0] ^ 0x55);
  test::WriteAt(table_file, at + 500, flipped);

  Reopen(o);
  // Verifying reads first: a block read without verification is cached.
  ReadOptions verify;
  verify.verify_checksums = true;
  verify.fill_cache = false;
  std::string v;
  Status s = db_->Get(verify, "tbl", "k010", &v);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  ScanResult r;
  s = db_->Scan(verify, "tbl", ScanOptions(), &r);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  ASSERT_OK(db_->Get(ReadOptions(), "tbl", "k010", &v));
  ASSERT_EQ(v.size(), target.size());
  EXPECT_NE(v, target);
  EXPECT_EQ(v[500], flipped[0]);
  // Items in undamaged blocks read fine either way.
  ASSERT_OK(db_->Get(verify, "tbl", "k159", &v));
  EXPECT_EQ(v, values[159]);
}

}  // namespace
}  // namespace runnel
