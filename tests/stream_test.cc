// Copyright 2026 The runnel Authors.
//
// Streams: identity, every shard iterator type at its edges, GetRecords
// limits, skipping other tables, JSON rendering (golden file), waiting
// consumers, and a second process tailing read-only.

#include "runnel/stream.h"

#include <kj/encoding.h>
#include <leveldb/env.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cdc/log_format.h"
#include "cdc/segment_reader.h"
#include "cdc/stream_reader.h"
#include "db/db_impl.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Numbered;
using test::Stream;
using test::TempDir;

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(Options()); }
  void Open(Options o) {
    if (db_) ASSERT_OK(db_->Close());
    db_.reset();
    options_ = o;
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
  }
  std::string Arn(const std::string& table) {
    TableDescription d;
    EXPECT_OK(db_->DescribeTable(table, &d));
    return d.latest_stream_arn;
  }
  std::string Iterator(const std::string& arn, ShardIteratorType type, SequenceNumber seq = 0,
                       int64_t micros = 0) {
    ShardIteratorRequest req;
    req.stream_arn = arn;
    req.type = type;
    req.sequence_number = seq;
    req.timestamp_micros = micros;
    std::string it;
    Status s = db_->streams()->GetShardIterator(req, &it);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return it;
  }
  // Reads until caught up; returns "key@seq" strings.
  std::vector<std::string> Drain(std::string* it, size_t limit = 1000) {
    std::vector<std::string> out;
    for (int guard = 0; guard < 100000 && !it->empty(); ++guard) {
      RecordBatch b;
      GetRecordsOptions o;
      o.limit = limit;
      Status s = db_->streams()->GetRecords(*it, o, &b);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) break;
      for (const auto& r : b.records()) {
        out.push_back(std::string(r.key) + "@" + std::to_string(r.sequence));
      }
      const bool done = b.records().empty();
      *it = b.next_shard_iterator();
      if (done) break;
    }
    return out;
  }
  void Put(const std::string& t, const std::string& k, const std::string& v) {
    ASSERT_OK(db_->Put(WriteOptions(), t, k, v));
  }

  TempDir dir_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(StreamTest, DescribeStreamHasTheTablesKeySchema) {
  ASSERT_OK(db_->CreateTable("Bytes", Stream(StreamViewType::kKeysOnly)));
  TableSchema schema;
  schema.key_schema = {{"Artist", KeyType::kHash}, {"SongTitle", KeyType::kRange}};
  schema.attribute_definitions = {{"Artist", ScalarAttributeType::kS},
                                  {"SongTitle", ScalarAttributeType::kS}};
  ASSERT_OK(db_->CreateTable("Music", Stream(StreamViewType::kNewImage), schema));
  StreamDescription d;
  ASSERT_OK(db_->streams()->DescribeStream(Arn("Music"), &d));
  ASSERT_EQ(d.key_schema.size(), 2u);
  EXPECT_EQ(d.key_schema[0].attribute_name, "Artist");
  EXPECT_EQ(d.key_schema[0].key_type, KeyType::kHash);
  EXPECT_EQ(d.key_schema[1].attribute_name, "SongTitle");
  EXPECT_EQ(d.key_schema[1].key_type, KeyType::kRange);
  ASSERT_OK(db_->streams()->DescribeStream(Arn("Bytes"), &d));
  ASSERT_EQ(d.key_schema.size(), 1u);
  EXPECT_EQ(d.key_schema[0].attribute_name, "key");
  EXPECT_EQ(d.key_schema[0].key_type, KeyType::kHash);
}

TEST_F(StreamTest, DescribeAndListStreams) {
  ASSERT_OK(db_->CreateTable("Music", Stream(StreamViewType::kNewImage)));
  const std::string arn = Arn("Music");
  StreamDescription d;
  ASSERT_OK(db_->streams()->DescribeStream(arn, &d));
  EXPECT_EQ(d.stream_arn, arn);
  EXPECT_EQ(d.stream_status, "ENABLED");
  EXPECT_EQ(d.table_name, "Music");
  EXPECT_EQ(d.view_type, StreamViewType::kNewImage);
  EXPECT_EQ(d.ending_sequence, 0u);
  EXPECT_EQ(d.shard_id.substr(0, 8), "shardId-");
  EXPECT_EQ(arn, "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/" + d.stream_label);
  Put("Music", "a", "1");
  ASSERT_OK(db_->UpdateTable("Music", StreamSpecification()));
  ASSERT_OK(db_->streams()->DescribeStream(arn, &d));
  EXPECT_EQ(d.stream_status, "DISABLED");
  EXPECT_GE(d.ending_sequence, d.starting_sequence);
  std::vector<StreamInfo> streams;
  ASSERT_OK(db_->streams()->ListStreams("Music", &streams));
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_TRUE(
      db_->streams()
          ->DescribeStream("arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/x", &d)
          .IsNotFound());
  // Another region's or account's ARN names no stream of this DB; a string
  // of another shape is no ARN at all.
  Status s = db_->streams()->DescribeStream(
      "arn:aws:dynamodb:eu-west-1:000000000000:table/Music/stream/" + d.stream_label, &d);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("region us-east-1, account 000000000000"), std::string::npos)
      << s.ToString();
  s = db_->streams()->DescribeStream("arn:runnel:db:table/Music/stream/" + d.stream_label, &d);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(
      s.message().find("expected arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>"),
      std::string::npos)
      << s.ToString();
  ShardIteratorRequest req;
  req.stream_arn = arn;
  req.shard_id = "shardId-nope";
  std::string it;
  EXPECT_TRUE(db_->streams()->GetShardIterator(req, &it).IsNotFound());
  req.shard_id = d.shard_id;
  EXPECT_OK(db_->streams()->GetShardIterator(req, &it));
}

TEST_F(StreamTest, EmptyStreamThenRecordsInOrder) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewAndOldImages)));
  const std::string arn = Arn("tbl");
  for (auto type : {ShardIteratorType::kTrimHorizon, ShardIteratorType::kLatest}) {
    std::string it = Iterator(arn, type);
    RecordBatch b;
    ASSERT_OK(db_->streams()->GetRecords(it, GetRecordsOptions(), &b));
    EXPECT_TRUE(b.records().empty());
    EXPECT_FALSE(b.next_shard_iterator().empty());  // open stream: go on
    EXPECT_EQ(b.stream_arn(), arn);
  }
  std::string horizon = Iterator(arn, ShardIteratorType::kTrimHorizon);
  std::string latest = Iterator(arn, ShardIteratorType::kLatest);
  Put("tbl", "a", "1");
  Put("tbl", "b", "1");
  Put("tbl", "a", "2");
  ASSERT_OK(db_->Delete(WriteOptions(), "tbl", "b"));
  auto h = Drain(&horizon);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0].substr(0, 2), "a@");
  EXPECT_EQ(h[3].substr(0, 2), "b@");
  EXPECT_EQ(Drain(&latest), h);  // LATEST was taken before the writes
  // Caught up: no records, and the iterator continues from there.
  Put("tbl", "c", "1");
  auto more = Drain(&horizon);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].substr(0, 2), "c@");
}

TEST_F(StreamTest, SequenceNumberIteratorsAtTheEdges) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kKeysOnly)));
  const std::string arn = Arn("tbl");
  CommitInfo first, last;
  WriteBatch b1;
  b1.Put("tbl", "k0", "v");
  ASSERT_OK(db_->Write(WriteOptions(), b1, &first));
  for (int i = 1; i < 9; ++i) Put("tbl", Numbered("k", i), "v");
  WriteBatch b2;
  b2.Put("tbl", "k9", "v");
  ASSERT_OK(db_->Write(WriteOptions(), b2, &last));
  const SequenceNumber f = first.first_sequence, l = last.first_sequence;

  std::string it = Iterator(arn, ShardIteratorType::kAtSequenceNumber, f);
  auto all = Drain(&it);
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all.front(), Numbered("k0@", f));
  it = Iterator(arn, ShardIteratorType::kAfterSequenceNumber, f);
  EXPECT_EQ(Drain(&it).size(), 9u);
  it = Iterator(arn, ShardIteratorType::kAtSequenceNumber, l);
  EXPECT_EQ(Drain(&it), std::vector<std::string>{Numbered("k9@", l)});
  it = Iterator(arn, ShardIteratorType::kAfterSequenceNumber, l);
  EXPECT_TRUE(Drain(&it).empty());
  EXPECT_FALSE(it.empty());
  Put("tbl", "k10", "v");
  EXPECT_EQ(Drain(&it).size(), 1u);

  // Outside the stream's range.
  ShardIteratorRequest req;
  req.stream_arn = arn;
  req.type = ShardIteratorType::kAtSequenceNumber;
  req.sequence_number = db_->LastSequence() + 5;
  std::string out;
  Status s = db_->streams()->GetShardIterator(req, &out);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("outside the stream's range"), std::string::npos);
  req.sequence_number = 1;  // the create-table frame, before the stream
  EXPECT_TRUE(db_->streams()->GetShardIterator(req, &out).IsInvalidArgument());
  // AT may name the next sequence to be committed; AFTER only a committed
  // one (AFTER last+1 would skip the next record).
  req.sequence_number = db_->LastSequence() + 1;
  EXPECT_OK(db_->streams()->GetShardIterator(req, &out));
  req.type = ShardIteratorType::kAfterSequenceNumber;
  EXPECT_TRUE(db_->streams()->GetShardIterator(req, &out).IsInvalidArgument());
}

// An iterator names a file position; only this DB's own iterators are
// believed. A position moved by hand (here: into the middle of a stored
// value that itself holds a well-formed frame), an iterator of another DB,
// or garbage is InvalidArgument, never a read from that position.
TEST_F(StreamTest, TamperedOrForeignIteratorsAreRefused) {
  ASSERT_OK(db_->CreateTable("tam", Stream(StreamViewType::kNewImage)));
  const uint8_t* key = static_cast<DBImpl*>(db_.get())->id_bytes();
  std::string it = Iterator(Arn("tam"), ShardIteratorType::kTrimHorizon);
  // A value that is a whole frame, checksum and all.
  std::string forged;
  log::AppendFrame(log::kBatchFrame, 3, 1, 0, std::string(64, 'x'), &forged);
  log::SealFrames(forged.data(), forged.size(), 0, log::kSegmentHeaderSize);
  Put("tam", "k", forged);
  ShardPosition pos;
  ASSERT_OK(DecodeShardIterator(it, key, &pos));
  RecordBatch b;
  ASSERT_OK(db_->streams()->GetRecords(it, GetRecordsOptions(), &b));
  ASSERT_EQ(b.records().size(), 1u);

  // The same iterator with another offset, its old tag kept.
  auto decoded = kj::decodeBase64(kj::ArrayPtr<const char>(it.data(), it.size()));
  std::string plain(reinterpret_cast<const char*>(decoded.begin()), decoded.size());
  const std::string old_offset = Numbered("|", pos.offset) + "|";
  const size_t at = plain.find(old_offset);
  ASSERT_NE(at, std::string::npos);
  plain.replace(at, old_offset.size(), Numbered("|", pos.offset + 64) + "|");
  kj::String moved = kj::encodeBase64(
      kj::ArrayPtr<const kj::byte>(reinterpret_cast<const kj::byte*>(plain.data()), plain.size()));
  Status s = db_->streams()->GetRecords(std::string(moved.cStr()), GetRecordsOptions(), &b);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();

  // A well-formed iterator of another DB (another key).
  uint8_t other[16] = {1, 2, 3};
  s = db_->streams()->GetRecords(EncodeShardIterator(pos, other), GetRecordsOptions(), &b);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  // The v1 format (no tag) and garbage.
  for (const std::string& bad : {std::string("MXwxfDF8NDh8YXJuOnJ1bm5lbDp4"), std::string("%%"),
                                 it.substr(0, it.size() / 2)}) {
    s = db_->streams()->GetRecords(bad, GetRecordsOptions(), &b);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad << ": " << s.ToString();
  }
}

TEST_F(StreamTest, AtTimestamp) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  const std::string arn = Arn("tbl");
  Put("tbl", "early", "v");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int64_t t = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Put("tbl", "late1", "v");
  Put("tbl", "late2", "v");
  std::string it = Iterator(arn, ShardIteratorType::kAtTimestamp, 0, t);
  auto recs = Drain(&it);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].substr(0, 6), "late1@");
  it = Iterator(arn, ShardIteratorType::kAtTimestamp, 0, 0);
  EXPECT_EQ(Drain(&it).size(), 3u);
  it = Iterator(arn, ShardIteratorType::kAtTimestamp, 0, t + 3600000000LL);
  EXPECT_TRUE(Drain(&it).empty());
  Put("tbl", "future", "v");
  EXPECT_EQ(Drain(&it).size(), 1u);
}

TEST_F(StreamTest, LimitsAndByteCaps) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  const std::string arn = Arn("tbl");
  for (int i = 0; i < 25; ++i) Put("tbl", Numbered("k", i), std::string(100, 'v'));
  std::string it = Iterator(arn, ShardIteratorType::kTrimHorizon);
  RecordBatch b;
  GetRecordsOptions o;
  o.limit = 10;
  ASSERT_OK(db_->streams()->GetRecords(it, o, &b));
  EXPECT_EQ(b.records().size(), 10u);
  o.limit = 1000;
  o.max_bytes = 250;  // each record is ~103 bytes
  ASSERT_OK(db_->streams()->GetRecords(b.next_shard_iterator(), o, &b));
  EXPECT_EQ(b.records().size(), 3u);
  EXPECT_EQ(b.records()[0].key, "k10");
  o.max_bytes = 1;  // at least one record is always returned
  ASSERT_OK(db_->streams()->GetRecords(b.next_shard_iterator(), o, &b));
  ASSERT_EQ(b.records().size(), 1u);
  EXPECT_EQ(b.records()[0].key, "k13");
  o = GetRecordsOptions();
  o.limit = 0;
  EXPECT_TRUE(db_->streams()->GetRecords(it, o, &b).IsInvalidArgument());
  o.limit = 10001;
  EXPECT_TRUE(db_->streams()->GetRecords(it, o, &b).IsInvalidArgument());
  EXPECT_TRUE(db_->streams()->GetRecords("garbage", GetRecordsOptions(), &b).IsInvalidArgument());
  EXPECT_TRUE(db_->streams()->GetRecords("", GetRecordsOptions(), &b).IsInvalidArgument());
}

TEST_F(StreamTest, OtherTablesAreSkippedAndTheQuietIteratorAdvances) {
  ASSERT_OK(db_->CreateTable("quiet", Stream(StreamViewType::kNewImage)));
  ASSERT_OK(db_->CreateTable("busy", Stream(StreamViewType::kNewImage)));
  std::string it = Iterator(Arn("quiet"), ShardIteratorType::kTrimHorizon);
  for (int i = 0; i < 100; ++i) Put("busy", Numbered("k", i), "v");
  ShardPosition before, after;
  ASSERT_OK(DecodeShardIterator(it, static_cast<DBImpl*>(db_.get())->id_bytes(), &before));
  RecordBatch b;
  ASSERT_OK(db_->streams()->GetRecords(it, GetRecordsOptions(), &b));
  EXPECT_TRUE(b.records().empty());
  ASSERT_OK(DecodeShardIterator(b.next_shard_iterator(),
                                static_cast<DBImpl*>(db_.get())->id_bytes(), &after));
  EXPECT_EQ(after.next, db_->LastSequence() + 1);  // moved past busy's records
  EXPECT_GT(after.next, before.next);
  // A mixed batch: only the quiet table's change is in its stream.
  WriteBatch mixed;
  mixed.Put("busy", "x", "1");
  mixed.Put("quiet", "y", "2");
  mixed.Put("busy", "z", "3");
  ASSERT_OK(db_->Write(WriteOptions(), mixed));
  std::string next = b.next_shard_iterator();
  auto recs = Drain(&next);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].substr(0, 2), "y@");
}

TEST_F(StreamTest, ClosedStreamEndsWithANullIteratorAndANewStreamBegins) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  const std::string old_arn = Arn("tbl");
  Put("tbl", "a", "1");
  std::string old_it = Iterator(old_arn, ShardIteratorType::kTrimHorizon);
  ASSERT_OK(db_->UpdateTable("tbl", StreamSpecification()));
  Put("tbl", "off", "1");  // in no stream
  ASSERT_OK(db_->UpdateTable("tbl", Stream(StreamViewType::kKeysOnly)));
  const std::string new_arn = Arn("tbl");
  ASSERT_NE(new_arn, old_arn);
  Put("tbl", "b", "1");
  auto old_recs = Drain(&old_it);
  ASSERT_EQ(old_recs.size(), 1u);
  EXPECT_EQ(old_recs[0].substr(0, 2), "a@");
  EXPECT_TRUE(old_it.empty());  // closed and fully read: null iterator
  std::string new_it = Iterator(new_arn, ShardIteratorType::kTrimHorizon);
  auto new_recs = Drain(&new_it);
  ASSERT_EQ(new_recs.size(), 1u);
  EXPECT_EQ(new_recs[0].substr(0, 2), "b@");
  EXPECT_FALSE(new_it.empty());
  // A deleted table's stream stays readable.
  ASSERT_OK(db_->DeleteTable("tbl"));
  new_it = Iterator(new_arn, ShardIteratorType::kTrimHorizon);
  EXPECT_EQ(Drain(&new_it).size(), 1u);
  EXPECT_TRUE(new_it.empty());
}

TEST_F(StreamTest, IteratorsSurviveReopenAndSegmentBoundaries) {
  Options o;
  o.segment_bytes = 64 << 10;
  Open(o);
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  const std::string arn = Arn("tbl");
  std::string it = Iterator(arn, ShardIteratorType::kTrimHorizon);
  for (int i = 0; i < 300; ++i) Put("tbl", Numbered("k", i), std::string(900, 'v'));
  auto first = Drain(&it, 7);  // small pages that cross segments
  ASSERT_EQ(first.size(), 300u);
  EXPECT_GE(test::ListDir(dir_.Sub("db/wal")).size(), 4u);
  Open(o);
  for (int i = 300; i < 310; ++i) Put("tbl", Numbered("k", i), "v");
  auto after = Drain(&it);  // the iterator string outlived the DB object
  ASSERT_EQ(after.size(), 10u);
  EXPECT_EQ(after[0].substr(0, 5), "k300@");
  std::string again = Iterator(arn, ShardIteratorType::kTrimHorizon);
  auto whole = Drain(&again, 13);
  ASSERT_EQ(whole.size(), 310u);
  for (size_t i = 1; i < whole.size(); ++i) {
    const auto seq = [](const std::string& s) { return std::stoull(s.substr(s.find('@') + 1)); };
    ASSERT_LT(seq(whole[i - 1]), seq(whole[i]));
  }
}

TEST_F(StreamTest, TrimmedPositionsAreTypedErrors) {
  Options o;
  o.segment_bytes = 64 << 10;
  o.write_buffer_bytes = 64 << 10;
  o.retention_seconds = 0;
  o.max_log_bytes = 200 << 10;
  Open(o);
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  const std::string arn = Arn("tbl");
  std::string old_it = Iterator(arn, ShardIteratorType::kTrimHorizon);
  for (int i = 0; i < 1000; ++i) Put("tbl", Numbered("k", i % 50), std::string(900, 'a' + i % 26));
  // Retention also runs in the background after each segment switch.
  ASSERT_OK(db_->RunRetention(nullptr));
  const SequenceNumber first = db_->FirstAvailableSequence();
  ASSERT_GT(first, 1u);
  RecordBatch b;
  Status s = db_->streams()->GetRecords(old_it, GetRecordsOptions(), &b);
  EXPECT_TRUE(s.IsTrimmed()) << s.ToString();
  EXPECT_NE(s.message().find(Numbered("first available sequence is ", first)), std::string::npos)
      << s.ToString();
  ShardIteratorRequest req;
  req.stream_arn = arn;
  req.type = ShardIteratorType::kAtSequenceNumber;
  req.sequence_number = first - 1;
  std::string it;
  EXPECT_TRUE(db_->streams()->GetShardIterator(req, &it).IsTrimmed());
  req.sequence_number = first;  // exactly at the trim boundary
  ASSERT_OK(db_->streams()->GetShardIterator(req, &it));
  auto recs = Drain(&it);
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.front().substr(recs.front().find('@') + 1), std::to_string(first));
  std::string horizon = Iterator(arn, ShardIteratorType::kTrimHorizon);
  EXPECT_EQ(Drain(&horizon), recs);
}

TEST_F(StreamTest, WaitingConsumersAreWokenByTheCommit) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  const std::string arn = Arn("tbl");
  constexpr int kReaders = 4;
  constexpr int kRecords = 2000;
  std::vector<std::vector<std::string>> got(kReaders);
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      std::string it = Iterator(arn, ShardIteratorType::kTrimHorizon);
      while (got[r].size() < kRecords) {
        RecordBatch b;
        GetRecordsOptions o;
        o.limit = 1 + r * 50;
        ASSERT_OK(db_->streams()->GetRecords(it, o, &b));
        for (const auto& rec : b.records()) got[r].push_back(std::string(rec.key));
        it = b.next_shard_iterator();
        if (b.records().empty()) {
          Status s = db_->streams()->WaitForRecords(it, std::chrono::seconds(10));
          ASSERT_TRUE(s.ok()) << s.ToString();
        }
      }
    });
  }
  std::thread writer([&] {
    for (int i = 0; i < kRecords; ++i) {
      EXPECT_OK(db_->Put(WriteOptions(), "tbl", Numbered("k", i), "v"));
      if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  writer.join();
  for (auto& t : readers) t.join();
  for (int r = 0; r < kReaders; ++r) {
    ASSERT_EQ(got[r].size(), static_cast<size_t>(kRecords));
    for (int i = 0; i < kRecords; ++i) ASSERT_EQ(got[r][i], Numbered("k", i));
  }
  // A wait with nothing coming times out.
  std::string it = Iterator(arn, ShardIteratorType::kLatest);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(db_->streams()->WaitForRecords(it, std::chrono::milliseconds(50)).IsTimedOut());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(45));
}

TEST_F(StreamTest, ReadOnlyReaderSeesTheLiveLog) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewAndOldImages)));
  Put("tbl", "a", "1");
  std::unique_ptr<StreamReader> ro;
  ASSERT_OK(StreamReader::OpenReadOnly(dir_.Sub("db"), &ro));
  std::vector<StreamInfo> streams;
  ASSERT_OK(ro->ListStreams("", &streams));
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].arn, Arn("tbl"));
  ShardIteratorRequest req;
  req.stream_arn = streams[0].arn;
  std::string it;
  ASSERT_OK(ro->GetShardIterator(req, &it));
  RecordBatch b;
  ASSERT_OK(ro->GetRecords(it, GetRecordsOptions(), &b));
  ASSERT_EQ(b.records().size(), 1u);
  EXPECT_EQ(b.records()[0].new_image, "1");
  // Iterators are interchangeable between the DB and the read-only view.
  Put("tbl", "a", "2");
  std::string next = b.next_shard_iterator();
  auto recs = Drain(&next);
  ASSERT_EQ(recs.size(), 1u);
  it = b.next_shard_iterator();
  ASSERT_OK(ro->WaitForRecords(it, std::chrono::seconds(5)));
  ASSERT_OK(ro->GetRecords(it, GetRecordsOptions(), &b));
  ASSERT_EQ(b.records().size(), 1u);
  EXPECT_EQ(b.records()[0].old_image, "1");
  EXPECT_EQ(b.records()[0].new_image, "2");
  // Tables created later appear (metadata frames are followed too).
  ASSERT_OK(db_->CreateTable("later", Stream(StreamViewType::kKeysOnly)));
  ASSERT_OK(ro->ListStreams("later", &streams));
  EXPECT_EQ(streams.size(), 1u);
  // It works on a closed DB too, and never needs the lock.
  ASSERT_OK(db_->Close());
  db_.reset();
  ASSERT_OK(StreamReader::OpenReadOnly(dir_.Sub("db"), &ro));
  ASSERT_OK(ro->ListStreams("", &streams));
  EXPECT_EQ(streams.size(), 2u);
  std::unique_ptr<StreamReader> none;
  EXPECT_TRUE(StreamReader::OpenReadOnly(dir_.Sub("nothing"), &none).IsNotFound());
}

TEST_F(StreamTest, SecondProcessTailsWhileWeWriteAndRetentionTrims) {
  Options o;
  o.segment_bytes = 64 << 10;
  o.write_buffer_bytes = 64 << 10;
  o.retention_seconds = 0;
  o.max_log_bytes = 512 << 10;
  Open(o);
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  constexpr int kRecords = 3000;
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t child = fork();
  if (child == 0) {
    dup2(pipefd[1], 1);
    close(pipefd[0]);
    execl(TAIL_HELPER_PATH, TAIL_HELPER_PATH, dir_.Sub("db").c_str(), "tbl",
          std::to_string(kRecords).c_str(), "5000", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipefd[1]);
  // Retention (it also runs in the background after each segment switch)
  // may trim only what the tail has confirmed reading.
  db_->SetRetentionFloor("tail", 1);
  FILE* from_child = fdopen(pipefd[0], "r");
  ASSERT_NE(from_child, nullptr);
  // Lines the child printed, checked as they arrive: every record once, in
  // order.
  int seen = 0;
  SequenceNumber prev = 0;
  auto read_until = [&](int count) {
    char line[256];
    while (seen < count && std::fgets(line, sizeof(line), from_child) != nullptr) {
      std::string l(line);
      if (!l.empty() && l.back() == '\n') l.pop_back();
      ASSERT_EQ(l.find("ERROR"), std::string::npos) << l;
      const SequenceNumber seq = std::stoull(l.substr(0, l.find(' ')));
      ASSERT_GT(seq, prev);
      prev = seq;
      ASSERT_EQ(l.substr(l.find(' ') + 1), Numbered("k", seen)) << l;
      ++seen;
    }
  };
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "tbl", Numbered("k", i), std::string(300, 'v')));
    if (i % 500 == 499) {
      // Once the tail has caught up, trim what it has read: the reader keeps
      // following across deleted segments.
      read_until(i + 1);
      ASSERT_EQ(seen, i + 1);
      db_->SetRetentionFloor("tail", prev + 1);
      ASSERT_OK(db_->RunRetention(nullptr));
    }
  }
  read_until(kRecords);
  std::fclose(from_child);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Retention really trimmed during the tail (it also runs in the
  // background after each segment switch).
  EXPECT_GT(db_->FirstAvailableSequence(), 1000u);
  EXPECT_EQ(seen, kRecords);
}

// Appends a torn write to the newest segment of the (closed) DB in db_dir:
// 64 KiB (16 pages) that never became a frame, as a host killed
// in the middle of a group commit leaves it. Returns where it starts.
uint64_t AppendTornWrite(const std::string& db_dir, std::string* segment, uint64_t* bytes) {
  std::vector<uint64_t> segs;
  EXPECT_OK(log::ListSegments(leveldb::Env::Default(), db_dir + "/wal", &segs));
  if (segs.empty()) return 0;
  *segment = db_dir + "/wal/" + log::SegmentFileName(segs.back());
  const uint64_t intact = std::filesystem::file_size(*segment);
  std::string torn(64 << 10, '\0');
  for (size_t i = 0; i < torn.size(); ++i) torn[i] = static_cast<char>(i * 131 + 7);
  test::WriteAt(*segment, intact, torn);
  *bytes = torn.size();
  return intact;
}

// The lines of a stream-following child: "<sequence> <key>" per record, the
// keys Numbered("k", i) in order; every record exactly once.
struct ChildRecords {
  FILE* in = nullptr;
  int seen = 0;
  SequenceNumber prev = 0;
  std::string other;  // the first line that is not a record
  // Reads records until `count` are seen or another line comes.
  void ReadUntil(int count) {
    char line[256];
    other.clear();
    while (seen < count && std::fgets(line, sizeof(line), in) != nullptr) {
      std::string l(line);
      if (!l.empty() && l.back() == '\n') l.pop_back();
      if (l.empty() || l[0] < '0' || l[0] > '9') {
        other = l;
        return;
      }
      const SequenceNumber seq = std::stoull(l.substr(0, l.find(' ')));
      ASSERT_GT(seq, prev) << "a record twice or out of order: " << l;
      prev = seq;
      ASSERT_EQ(l.substr(l.find(' ') + 1), Numbered("k", seen)) << "a record lost: " << l;
      ++seen;
    }
  }
  std::string NextLine() {
    char line[256];
    if (std::fgets(line, sizeof(line), in) == nullptr) return "(end of output)";
    std::string l(line);
    if (!l.empty() && l.back() == '\n') l.pop_back();
    return l;
  }
};

// A reader in another process keeps the newest segment mapped between reads
// (a StreamCursor, as a trigger worker keeps one), torn write included: it
// has read the torn pages looking for the next frame. The next host's
// recovery cuts the torn tail under that mapping and appends new records
// over the same offsets. Touching a cut page is SIGBUS; the reader must
// instead see the shorter file, read the new records through the rest of
// its view and past it, and deliver each exactly once. Lock-step on the
// reader's output ("WAITING" after a read that found nothing), no sleeps.
TEST_F(StreamTest, MappedReaderInAnotherProcessReadsOnWhenRecoveryCutsItsSegment) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  constexpr int kBefore = 100, kFew = 3, kAfter = 400;
  int written = 0;
  auto put = [&](int n, size_t value_bytes) {
    for (int i = 0; i < n; ++i, ++written) {
      ASSERT_OK(
          db_->Put(WriteOptions(), "tbl", Numbered("k", written), std::string(value_bytes, 'v')));
    }
  };
  put(kBefore, 100);
  ASSERT_OK(db_->Close());
  db_.reset();
  std::string seg;
  uint64_t torn = 0;
  const uint64_t intact = AppendTornWrite(dir_.Sub("db"), &seg, &torn);
  ASSERT_GT(intact, 0u);

  int to_child[2], from_child[2];
  ASSERT_EQ(pipe(to_child), 0);
  ASSERT_EQ(pipe(from_child), 0);
  const pid_t child = fork();
  if (child == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[1]);
    close(from_child[0]);
    execl(CURSOR_HELPER_PATH, CURSOR_HELPER_PATH, dir_.Sub("db").c_str(), "tbl",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  ChildRecords out;
  out.in = fdopen(from_child[0], "r");
  ASSERT_NE(out.in, nullptr);
  auto go = [&] { ASSERT_EQ(write(to_child[1], "go\n", 3), 3); };
  // "WAITING", or how the reader died.
  auto waiting = [&] {
    const std::string line = out.NextLine();
    if (line == "WAITING") return line;
    int status = 0;
    if (line == "(end of output)" && waitpid(child, &status, 0) == child && WIFSIGNALED(status)) {
      return "the reader died of signal " + std::to_string(WTERMSIG(status));
    }
    return line;
  };

  out.ReadUntil(kBefore);
  ASSERT_EQ(out.seen, kBefore) << out.other;
  ASSERT_EQ(waiting(), "WAITING");  // at the torn write, mapped

  Open(Options());  // the new host: its recovery cuts the torn tail
  const RecoveryReport& report = db_->recovery_report();
  ASSERT_TRUE(report.torn_tail);
  EXPECT_EQ(report.torn_tail_offset, intact);
  EXPECT_EQ(report.torn_tail_bytes, torn);
  EXPECT_LT(std::filesystem::file_size(seg), intact + torn);
  // A few records where the torn write was: the reader reads them through
  // its old view, then runs on into the cut pages.
  put(kFew, 100);
  go();
  out.ReadUntil(kBefore + kFew);
  ASSERT_EQ(out.seen, kBefore + kFew) << out.other;
  ASSERT_EQ(waiting(), "WAITING");
  // More than was cut: the file grows past the reader's old view.
  put(kAfter, 300);
  go();
  out.ReadUntil(kBefore + kFew + kAfter);
  ASSERT_EQ(out.seen, kBefore + kFew + kAfter) << out.other;
  ASSERT_EQ(waiting(), "WAITING");
  close(to_child[1]);
  EXPECT_EQ(out.NextLine(), "(end of output)");
  std::fclose(out.in);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_FALSE(WIFSIGNALED(status)) << "the reader died of signal " << WTERMSIG(status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// The same recovery under `runnel tail`'s loop (GetRecords and
// WaitForRecords, a fresh view per call): nothing lost, nothing twice.
TEST_F(StreamTest, SecondProcessTailsOnWhenRecoveryCutsTheSegment) {
  ASSERT_OK(db_->CreateTable("tbl", Stream(StreamViewType::kNewImage)));
  constexpr int kBefore = 100, kAfter = 400;
  for (int i = 0; i < kBefore; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "tbl", Numbered("k", i), std::string(100, 'v')));
  }
  ASSERT_OK(db_->Close());
  db_.reset();
  std::string seg;
  uint64_t torn = 0;
  ASSERT_GT(AppendTornWrite(dir_.Sub("db"), &seg, &torn), 0u);
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t child = fork();
  if (child == 0) {
    dup2(pipefd[1], 1);
    close(pipefd[0]);
    execl(TAIL_HELPER_PATH, TAIL_HELPER_PATH, dir_.Sub("db").c_str(), "tbl",
          std::to_string(kBefore + kAfter).c_str(), "30000", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipefd[1]);
  ChildRecords out;
  out.in = fdopen(pipefd[0], "r");
  ASSERT_NE(out.in, nullptr);
  out.ReadUntil(kBefore);
  ASSERT_EQ(out.seen, kBefore) << out.other;
  Open(Options());
  ASSERT_TRUE(db_->recovery_report().torn_tail);
  for (int i = kBefore; i < kBefore + kAfter; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "tbl", Numbered("k", i), std::string(300, 'v')));
  }
  out.ReadUntil(kBefore + kAfter);
  ASSERT_EQ(out.seen, kBefore + kAfter) << out.other;
  std::fclose(out.in);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_FALSE(WIFSIGNALED(status)) << "the reader died of signal " << WTERMSIG(status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// Golden JSON for every event type x view type, from fixed records.
TEST(RecordJson, GoldenEveryEventAndViewType) {
  const std::string arn =
      "arn:aws:dynamodb:eu-central-1:123456789012:table/Music/stream/2026-01-02T03:04:05.678";
  std::ostringstream got;
  for (auto view : {StreamViewType::kKeysOnly, StreamViewType::kNewImage, StreamViewType::kOldImage,
                    StreamViewType::kNewAndOldImages}) {
    for (auto event : {EventName::kInsert, EventName::kModify, EventName::kRemove}) {
      ChangeRecord r;
      r.sequence = 100 + static_cast<int>(event) * 10 + static_cast<int>(view);
      r.commit_time_micros = 1767323045678901;
      r.table = "Music";
      r.event = event;
      r.view_type = view;
      r.key = "song#1";
      const bool keep_old =
          view == StreamViewType::kOldImage || view == StreamViewType::kNewAndOldImages;
      const bool keep_new =
          view == StreamViewType::kNewImage || view == StreamViewType::kNewAndOldImages;
      if (event != EventName::kInsert && keep_old) {
        r.has_old_image = true;
        r.old_image =
            R"({"title":"Call Me Today","plays":3,"tags":["pop"],"live":false,"note":null})";
      }
      if (event != EventName::kRemove && keep_new) {
        r.has_new_image = true;
        r.new_image = R"({"title":"Call Me Tomorrow","plays":4.5,"meta":{"year":2026}})";
      }
      r.size_bytes = static_cast<uint32_t>(r.key.size() + r.old_image.size() + r.new_image.size());
      got << RecordToJson(r, arn, "eu-central-1") << "\n";
    }
  }
  // Values that are not JSON objects: text and bytes.
  ChangeRecord text;
  text.sequence = 7;
  text.event = EventName::kInsert;
  text.view_type = StreamViewType::kNewImage;
  text.key = "plain";
  text.has_new_image = true;
  text.new_image = "hello, world";
  got << RecordToJson(text, arn, "eu-central-1") << "\n";
  const std::string binary("\xff\x00\x01", 3);
  ChangeRecord bin = text;
  bin.key = binary;
  bin.new_image = binary;
  got << RecordToJson(bin, arn, "eu-central-1") << "\n";

  const std::string golden_path = std::string(GOLDEN_DIR) + "/records.jsonl";
  if (std::getenv("RUNNEL_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden_path) << got.str();
  }
  EXPECT_EQ(got.str(), test::ReadFile(golden_path))
      << "rerun with RUNNEL_UPDATE_GOLDEN=1 to regenerate, then review the diff";
}

}  // namespace
}  // namespace runnel
