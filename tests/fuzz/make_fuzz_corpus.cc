// Copyright 2026 The runnel Authors.
//
// Writes the seed corpora of the fuzz targets, using the library's own
// encoders and a real DB, into DIR/<target>/ (normally tests/fuzz/corpus):
//
//   build-fuzz/tests/fuzz/make_fuzz_corpus tests/fuzz/corpus
//
// The files are checked in; rerun this after a change of the log format, the
// record schemas or the fixture DB (fuzz_util.cc), and keep the corpus small.

#include <leveldb/env.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "cdc/codec.h"
#include "cdc/log_format.h"
#include "db/items/item_codec.h"
#include "db/items/key_codec.h"
#include "runnel/db.h"
#include "runnel/function.h"
#include "runnel/item.h"
#include "tests/fuzz/fuzz_util.h"
#include "triggers/event_json.h"

namespace runnel {
namespace {

using fuzz::CheckOk;
using fuzz::Die;

std::string out_dir;

void Emit(const std::string& target, const std::string& name, std::string_view bytes) {
  const std::string dir = out_dir + "/" + target;
  std::filesystem::create_directories(dir);
  fuzz::WriteFileOrDie(dir + "/" + name, bytes);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// --- Record payloads (codec) and synthetic segments (segment_reader).

log::TableEntryData Table(uint32_t id, const std::string& name) {
  log::TableEntryData t;
  t.id = id;
  t.name = name;
  t.creation_time_micros = 1700000000000000 + id;
  log::StreamEntryData s;
  s.label = "2026-01-02T03:04:05.678";
  s.view = log::View::kNewAndOldImages;
  s.creation_time_micros = t.creation_time_micros;
  s.start_seq = 1;
  s.end_seq = 9;
  t.streams.push_back(s);
  s.label = "2026-01-02T03:04:06.000";
  s.view = log::View::kKeysOnly;
  s.start_seq = 10;
  s.end_seq = 0;
  t.streams.push_back(s);
  return t;
}

log::FunctionEntryData Function() {
  log::FunctionEntryData f;
  f.name = "ProcessStream";
  f.library = "/opt/fn/libprocess.so";
  f.handler = "handle";
  f.environment = {{"REGION", "edge-1"}, {"LEVEL", "debug"}};
  f.timeout_seconds = 7;
  f.description = "fuzz seed";
  f.last_modified_micros = 1700000000000123;
  f.code_hash = "0123456789abcdef";
  return f;
}

log::MappingEntryData Mapping() {
  log::MappingEntryData m;
  m.id = 3;
  m.uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
  m.function_name = "ProcessStream";
  m.event_source_arn =
      "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-02T03:04:06.000";
  m.batch_size = 10;
  m.max_batching_window_seconds = 2;
  m.starting_position = log::StartingPositionData::kAtSequenceNumber;
  m.starting_sequence = 42;
  m.max_retry_attempts = 3;
  m.max_record_age_seconds = 60;
  m.bisect_on_error = true;
  m.on_failure_destination = "dlq";
  m.report_batch_item_failures = true;
  m.state_transition_reason = "USER_INITIATED";
  m.initial_position = 42;
  return m;
}

std::string Batch(bool checkpoint) {
  auto change = [](uint32_t table, EventName event, log::View view, std::string_view key) {
    log::ChangeData c;
    c.table_id = table;
    c.event = event;
    c.view = view;
    c.key = key;
    return c;
  };
  std::vector<log::ChangeData> changes;
  changes.push_back(change(1, EventName::kInsert, log::View::kNewAndOldImages, "song#1"));
  changes.back().has_new = true;
  changes.back().new_image = "{\"title\":\"Call Me\"}";
  changes.push_back(change(1, EventName::kModify, log::View::kNewAndOldImages, "song#2"));
  changes.back().has_old = changes.back().has_new = true;
  changes.back().old_image = "old";
  changes.back().new_image = "new";
  changes.back().old_size = 3;
  changes.push_back(
      change(2, EventName::kRemove, log::View::kKeysOnly, std::string_view("\x00\xff", 2)));
  changes.back().has_old = true;
  changes.back().old_image = "gone";
  changes.back().old_size = 4;
  log::CheckpointData cp;
  cp.mapping_id = 3;
  cp.position = 17;
  cp.result = "OK";
  std::string out;
  log::EncodeBatch(1700000000000000, changes, checkpoint ? &cp : nullptr, checkpoint ? 1 : 0, &out);
  return out;
}

std::vector<std::pair<std::string, std::string>> Metas() {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const std::string& name, const log::MetaData& m) {
    std::string bytes;
    log::EncodeMeta(m, &bytes);
    out.emplace_back(name, bytes);
  };
  log::MetaData m;
  m.commit_time_micros = 1700000000000000;
  m.kind = log::MetaData::Kind::kCreateTable;
  m.table = Table(1, "songs");
  add("meta_create_table", m);
  m = log::MetaData();
  m.kind = log::MetaData::Kind::kDeleteTable;
  m.table_id = 1;
  add("meta_delete_table", m);
  m.kind = log::MetaData::Kind::kUpdateStream;
  m.view = log::View::kNewImage;
  m.label = "2026-01-02T03:04:07.000";
  add("meta_update_stream", m);
  m = log::MetaData();
  m.kind = log::MetaData::Kind::kPutFunction;
  m.function = Function();
  add("meta_put_function", m);
  m = log::MetaData();
  m.kind = log::MetaData::Kind::kDeleteFunction;
  m.function_name = "ProcessStream";
  add("meta_delete_function", m);
  m = log::MetaData();
  m.kind = log::MetaData::Kind::kPutMapping;
  m.mapping = Mapping();
  add("meta_put_mapping", m);
  m = log::MetaData();
  m.kind = log::MetaData::Kind::kDeleteMapping;
  m.mapping_id = 3;
  add("meta_delete_mapping", m);
  return out;
}

std::string Catalog() {
  log::CatalogData c;
  c.next_table_id = 3;
  c.tables = {Table(1, "songs"), Table(2, "albums")};
  c.functions = {Function()};
  c.mappings = {Mapping()};
  c.next_mapping_id = 4;
  std::string out;
  log::EncodeCatalog(c, &out);
  return out;
}

void CodecCorpus() {
  Emit("codec", "batch", Batch(false));
  Emit("codec", "batch_checkpoint", Batch(true));
  for (const auto& [name, bytes] : Metas()) Emit("codec", name, bytes);
  Emit("codec", "catalog", Catalog());
}

// A segment of every frame type, written with the format's own encoders.
void SyntheticSegments() {
  log::SegmentHeader h;
  for (size_t i = 0; i < log::kDbIdSize; ++i) h.db_id[i] = uint8_t(i + 1);
  h.first_sequence = 1;
  h.salt = 0x0123456789abcdefull;
  std::string seg;
  log::EncodeSegmentHeader(h, &seg);
  log::AppendFrame(log::kCatalogFrame, 1, 0, log::kNoTableHint, Catalog(), &seg);
  uint64_t seq = 1;
  for (const auto& [name, bytes] : Metas()) {
    log::AppendFrame(log::kMetaFrame, seq++, 1, log::kNoTableHint, bytes, &seg);
  }
  log::AppendFrame(log::kBatchFrame, seq, 3, 0, Batch(true), &seg);
  seq += 3;
  // A type this reader does not know but may skip, consuming nothing.
  log::AppendFrame(0x85, seq, 0, log::kNoTableHint, "future", &seg);
  log::AppendFrame(log::kBatchFrame, seq, 3, 1, Batch(false), &seg);
  log::SealFrames(seg.data() + log::kSegmentHeaderSize, seg.size() - log::kSegmentHeaderSize,
                  h.salt, log::kSegmentHeaderSize);
  Emit("segment_reader", "synthetic.seg", seg);
}

// --- Real segments written by a DB.

void RealSegments() {
  fuzz::ScratchDir dir("corpus");
  const std::string db_dir = dir.path() + "/db";
  {
    Options options;
    options.name = "seed";
    std::unique_ptr<DB> db;
    CheckOk(DB::Open(options, db_dir, &db), "DB::Open");
    StreamSpecification spec;
    spec.stream_enabled = true;
    spec.stream_view_type = StreamViewType::kNewAndOldImages;
    CheckOk(db->CreateTable("songs", spec), "create songs");
    CheckOk(db->CreateTable("plain", StreamSpecification()), "create plain");
    const WriteOptions w;
    CheckOk(db->Put(w, "songs", "song#1", "{\"title\":\"Call Me Today\"}"), "put");
    CheckOk(db->Put(w, "songs", "song#2", "plain value"), "put");
    CheckOk(db->Put(w, "songs", "song#1", "{\"title\":\"Call Me\"}"), "put");
    WriteBatch batch;
    batch.Put("songs", "song#3", "x");
    batch.Delete("songs", "song#2");
    batch.Put("plain", "p", "y");
    CheckOk(db->Write(w, batch), "write");
    CheckOk(db->UpdateTable("songs", StreamSpecification()), "disable");
    CheckOk(db->Delete(w, "songs", "song#3"), "delete");
    CheckOk(db->Close(), "close");
  }
  std::vector<uint64_t> firsts;
  for (const auto& e : std::filesystem::directory_iterator(db_dir + "/wal")) {
    uint64_t first;
    if (log::ParseSegmentFileName(e.path().filename().string(), &first)) {
      firsts.push_back(first);
    }
  }
  if (firsts.size() != 1) Die("expected one segment");
  const std::string seg = ReadFile(db_dir + "/wal/" + log::SegmentFileName(firsts[0]));
  Emit("segment_reader", "db.seg", seg);
  // Damage as the reader classifies it: a torn tail (cut mid-frame, or
  // zero-filled), and corruption before the tail (a flipped payload byte of
  // the second frame, which the reader must skip to the third).
  Emit("segment_reader", "db_torn.seg", seg.substr(0, seg.size() - 13));
  std::string zeroed = seg;
  std::memset(zeroed.data() + zeroed.size() - 40, 0, 40);
  Emit("segment_reader", "db_zero_tail.seg", zeroed);
  const log::FrameHeader f0 = log::DecodeFrameHeader(seg.data() + log::kSegmentHeaderSize);
  const size_t second = log::kSegmentHeaderSize + f0.frame_size();
  std::string flipped = seg;
  flipped[second + log::kFrameHeaderSize + 3] ^= 0x40;
  Emit("segment_reader", "db_corrupt_middle.seg", flipped);
  Emit("segment_reader", "header_only.seg", seg.substr(0, log::kSegmentHeaderSize));
}

// --- Shard iterators of the fixture DB, with placeholder ARNs.

void IteratorCorpus() {
  fuzz::FixtureDb fx;
  fuzz::BuildFixtureDb(&fx);
  StreamReader* streams = fx.db->streams();
  int n = 0;
  std::set<std::string> seen;
  auto emit = [&](const std::string& placeholder, const std::string& it) {
    std::string numbers, arn;
    if (!fuzz::SplitIterator(it, &numbers, &arn)) Die("unparsable iterator");
    const std::string seed = fuzz::JoinIterator(numbers, placeholder, nullptr);
    if (!seen.insert(seed).second) return;
    Emit("shard_iterator", "it" + std::to_string(n++), seed);
  };
  for (const auto& [placeholder, arn] : fx.placeholders) {
    StreamInfo info;
    std::vector<StreamInfo> all;
    CheckOk(fx.db->ListStreams("", &all), "ListStreams");
    for (const StreamInfo& s : all) {
      if (s.arn == arn) info = s;
    }
    ShardIteratorRequest req;
    req.stream_arn = arn;
    for (ShardIteratorType type :
         {ShardIteratorType::kTrimHorizon, ShardIteratorType::kLatest,
          ShardIteratorType::kAtSequenceNumber, ShardIteratorType::kAfterSequenceNumber,
          ShardIteratorType::kAtTimestamp}) {
      req.type = type;
      req.sequence_number = info.starting_sequence + 3;
      req.timestamp_micros = info.creation_time_micros;
      std::string it;
      if (!streams->GetShardIterator(req, &it).ok()) continue;
      if (type != ShardIteratorType::kTrimHorizon && type != ShardIteratorType::kAtSequenceNumber) {
        emit(placeholder, it);
        continue;
      }
      // Follow the stream in small steps: these iterators carry segment and
      // offset hints.
      GetRecordsOptions o;
      o.limit = 40;
      for (int step = 0; step < 3 && !it.empty(); ++step) {
        emit(placeholder, it);
        RecordBatch batch;
        if (!streams->GetRecords(it, o, &batch).ok()) break;
        it = batch.next_shard_iterator();
      }
    }
  }
  // Near misses of the format.
  Emit(
      "shard_iterator", "bad_version",
      fuzz::JoinIterator("3|1|1|48|0000000000000000|",
                         "arn:aws:dynamodb:us-east-1:000000000000:table/items/stream/@0", nullptr));
  Emit("shard_iterator", "not_base64", "1|1|1|48|arn:aws:dynamodb:us-east-1:000000000000:table/x");
  CheckOk(fx.db->Close(), "close fixture");
}

// --- Invoke payloads.

void EventJsonCorpus() {
  std::vector<runnel_record> records(4);
  auto set = [](runnel_record* r, uint64_t seq, int32_t event, std::string_view key,
                const std::string* old_image, const std::string* new_image) {
    r->sequence_number = seq;
    r->commit_time_micros = 1700000000123456;
    r->event_name = event;
    r->table = "songs";
    r->table_len = 5;
    r->key = key.data();
    r->key_len = key.size();
    r->has_old_image = old_image != nullptr;
    if (old_image != nullptr) {
      r->old_image = old_image->data();
      r->old_image_len = old_image->size();
    }
    r->has_new_image = new_image != nullptr;
    if (new_image != nullptr) {
      r->new_image = new_image->data();
      r->new_image_len = new_image->size();
    }
    r->size_bytes = static_cast<uint32_t>(r->key_len + r->old_image_len + r->new_image_len);
  };
  const std::string typed =
      "{\"title\":\"Call Me Today\",\"n\":3.5,\"ok\":true,\"none\":null,"
      "\"tags\":[\"a\",1,[false]],\"meta\":{\"x\":{\"y\":\"z\"}}}";
  const std::string plain = "not json";
  const std::string binary("\x00\x01\xfe", 3);
  set(&records[0], 1, RUNNEL_INSERT, "song#1", nullptr, &typed);
  set(&records[1], 2, RUNNEL_MODIFY, "song#2", &plain, &typed);
  set(&records[2], 3, RUNNEL_REMOVE, "song#3", &binary, nullptr);
  set(&records[3], 4, RUNNEL_INSERT, std::string_view("\xff\x00k", 3), nullptr, &binary);
  runnel_batch batch = {};
  batch.event_source_arn =
      "arn:aws:dynamodb:us-east-1:000000000000:table/songs/stream/2026-01-02T03:04:05.678";
  batch.records = records.data();
  batch.count = 1;
  Emit("event_json", "insert.json", BatchToEventJson(batch, "us-east-1"));
  batch.count = records.size();
  Emit("event_json", "all.json", BatchToEventJson(batch, "us-east-1"));
  Emit("event_json", "empty.json", "{\"Records\":[]}");
  // The minimal shape a user writes by hand for `runnel invoke`.
  Emit("event_json", "hand.json",
       "{\"Records\":[{\"eventName\":\"INSERT\",\"dynamodb\":{\"Keys\":{"
       "\"key\":{\"S\":\"k\"}},\"NewImage\":{\"v\":{\"N\":\"12\"}},"
       "\"SequenceNumber\":\"5\",\"ApproximateCreationDateTime\":1.5e9}}]}");
}

// --- Typed items: stored item bytes and index keys (item_codec), item JSON
// (item_json).

void ItemCorpus() {
  using AV = AttributeValue;
  const Item item = {
      {"pk", AV::S("user#1")},
      {"n", AV::N("-12.5")},
      {"b", AV::B(std::string("\x00\xff", 2))},
      {"flag", AV::Bool(true)},
      {"none", AV::Null()},
      {"doc", AV::M({{"tags", AV::SS({"x", "y"})}, {"l", AV::L({AV::N("1"), AV::M({})})}})},
      {"ns", AV::NS({"1", "2.5"})},
      {"bs", AV::BS({std::string("\0", 1), "\xff"})},
  };
  std::string bytes;
  items::EncodeItem(item, &bytes);
  Emit("item_codec", "item", bytes);
  bytes.clear();
  items::EncodeItem(Item{}, &bytes);
  Emit("item_codec", "item_empty", bytes);
  const std::pair<const char*, Item> keys[] = {
      {"key_s", {{"h", AV::S(std::string("a\0b", 3))}}},
      {"key_n_b", {{"h", AV::N("-0.00120")}, {"r", AV::B("\xff\x00")}}},
      {"key_n_n", {{"h", AV::N("9.9E125")}, {"r", AV::N("1E-130")}}},
      {"key_s_zero", {{"h", AV::S("x")}, {"r", AV::N("0")}}},
  };
  for (const auto& [name, key] : keys) {
    std::string encoded;
    for (const auto& [attr, value] : key) items::AppendKeyComponent(value, &encoded);
    Emit("item_codec", name, encoded);
  }
  Emit("item_json", "item.json", ItemToJson(item));
  Emit("item_json", "key.json", R"({"pk":{"S":"a"},"sk":{"N":"01.50"}})");
  Emit("item_json", "nested.json",
       R"({"m":{"M":{"l":{"L":[{"NULL":true},{"BOOL":false},{"NS":["1","1.0"]}]}}}})");
}

}  // namespace
}  // namespace runnel

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  runnel::out_dir = argv[1];
  for (const char* target :
       {"codec", "segment_reader", "shard_iterator", "event_json", "item_codec", "item_json"}) {
    std::filesystem::remove_all(runnel::out_dir + "/" + target);
  }
  runnel::CodecCorpus();
  runnel::SyntheticSegments();
  runnel::RealSegments();
  runnel::IteratorCorpus();
  runnel::EventJsonCorpus();
  runnel::ItemCorpus();
  return 0;
}
