// Copyright 2026 The runnel Authors.
//
// The log's framing and payload codec: encode/decode round trips, and what
// the segment reader makes of flipped, truncated and zeroed bytes.

#include "cdc/log_format.h"

#include <leveldb/env.h>

#include <cstring>
#include <filesystem>

#include "cdc/codec.h"
#include "cdc/coding.h"
#include "cdc/segment_reader.h"
#include "tests/testutil.h"
#include "util/random.h"

namespace runnel::log {
namespace {

using test::TempDir;

const uint8_t kId[kDbIdSize] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const uint64_t kSalt = 0x5eed5a17c0ffee11ull;

std::string BatchPayload(const std::string& key, const std::string& value) {
  ChangeData c;
  c.table_id = 7;
  c.event = EventName::kInsert;
  c.view = View::kNewAndOldImages;
  c.key = key;
  c.has_new = true;
  c.new_image = value;
  std::string out;
  EncodeBatch(1234, {c}, nullptr, 0, &out);
  return out;
}

// Writes a segment starting at sequence `first` with `n` single-change
// frames; returns the frame offsets.
std::vector<uint64_t> WriteSegment(const std::string& dir, uint64_t first, int n,
                                   std::string* bytes = nullptr, uint64_t salt = kSalt) {
  std::string seg;
  SegmentHeader h;
  std::memcpy(h.db_id, kId, kDbIdSize);
  h.first_sequence = first;
  h.salt = salt;
  EncodeSegmentHeader(h, &seg);
  std::vector<uint64_t> offsets;
  for (int i = 0; i < n; ++i) {
    offsets.push_back(seg.size());
    AppendFrame(kBatchFrame, first + i, 1, 7,
                BatchPayload("key" + std::to_string(i), std::string(10 + i * 3, 'v')), &seg);
  }
  SealFrames(seg.data() + kSegmentHeaderSize, seg.size() - kSegmentHeaderSize, kSalt,
             kSegmentHeaderSize);
  const std::string path = dir + "/" + SegmentFileName(first);
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(seg.data(), 1, seg.size(), f);
  std::fclose(f);
  if (bytes != nullptr) *bytes = seg;
  return offsets;
}

struct ReadResult {
  int frames = 0;
  bool damaged = false;
  Damage damage;
};

ReadResult ReadSegment(const std::string& dir, uint64_t first) {
  std::unique_ptr<SegmentReader> r;
  Status s = SegmentReader::Open(leveldb::Env::Default(), dir, first, kId, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  ReadResult out;
  if (!s.ok()) return out;
  Frame f;
  for (;;) {
    auto res = r->Next(&f, &out.damage);
    if (res == SegmentReader::Result::kFrame) {
      BatchData b;
      EXPECT_TRUE(DecodeBatch(f.payload, &b).ok());
      EXPECT_EQ(reinterpret_cast<uintptr_t>(f.payload.data()) % 8, 0u);
      ++out.frames;
      continue;
    }
    out.damaged = res == SegmentReader::Result::kDamaged;
    break;
  }
  return out;
}

TEST(LogFormat, SegmentHeaderRoundTrip) {
  SegmentHeader h;
  std::memcpy(h.db_id, kId, kDbIdSize);
  h.first_sequence = 42;
  h.salt = RandomU64();
  std::string bytes;
  EncodeSegmentHeader(h, &bytes);
  ASSERT_EQ(bytes.size(), kSegmentHeaderSize);
  SegmentHeader d;
  ASSERT_OK(DecodeSegmentHeader(bytes, &d));
  EXPECT_EQ(d.first_sequence, 42u);
  EXPECT_EQ(d.salt, h.salt);
  EXPECT_EQ(std::memcmp(d.db_id, kId, kDbIdSize), 0);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x10;
    EXPECT_FALSE(DecodeSegmentHeader(bad, &d).ok()) << "flip at " << i;
  }
}

TEST(LogFormat, SegmentFileNames) {
  EXPECT_EQ(SegmentFileName(1), "00000000000000000001.seg");
  uint64_t v = 0;
  EXPECT_TRUE(ParseSegmentFileName("00000000000000000123.seg", &v));
  EXPECT_EQ(v, 123u);
  EXPECT_FALSE(ParseSegmentFileName("0000000000000000012.seg", &v));
  EXPECT_FALSE(ParseSegmentFileName("0000000000000000012x.seg", &v));
  EXPECT_FALSE(ParseSegmentFileName("00000000000000000123.log", &v));
}

TEST(LogFormat, BatchRoundTripIsZeroCopy) {
  std::vector<ChangeData> in(3);
  const std::string big(100000, 'x');
  in[0] = {1, EventName::kInsert, View::kNewImage, "a", false, true, {}, "1", 0};
  in[1] = {2, EventName::kModify, View::kNewAndOldImages, "b", true, true, "old", big, 3};
  in[2] = {2, EventName::kRemove, View::kKeysOnly, "c", false, false, {}, {}, 9};
  std::string payload;
  EncodeBatch(99, in, nullptr, 0, &payload);
  ASSERT_EQ(payload.size() % 8, 0u);
  std::vector<uint64_t> aligned((payload.size() + 7) / 8);
  std::memcpy(aligned.data(), payload.data(), payload.size());
  const std::string_view view(reinterpret_cast<const char*>(aligned.data()), payload.size());
  BatchData out;
  ASSERT_OK(DecodeBatch(view, &out));
  EXPECT_EQ(out.commit_time_micros, 99);
  ASSERT_EQ(out.changes.size(), 3u);
  EXPECT_EQ(out.changes[1].event, EventName::kModify);
  EXPECT_EQ(out.changes[1].old_image, "old");
  EXPECT_EQ(out.changes[1].new_image, big);
  EXPECT_EQ(out.changes[1].old_size, 3u);
  EXPECT_FALSE(out.changes[2].has_new);
  EXPECT_FALSE(out.changes[0].has_old);
  // The images are views into the payload, not copies.
  EXPECT_GE(out.changes[1].new_image.data(), view.data());
  EXPECT_LT(out.changes[1].new_image.data(), view.data() + view.size());
}

// A change always has a key (1 byte at least): a frame whose changes own no
// bytes is corrupt. This also bounds how many changes a frame can claim, so
// a crafted frame cannot make the decoder allocate far more than it holds.
TEST(LogFormat, BatchChangesWithoutKeysAreCorruption) {
  std::vector<ChangeData> in(2);
  in[0] = {1, EventName::kInsert, View::kNewImage, "", false, true, {}, "1", 0};
  in[1] = {1, EventName::kInsert, View::kNewImage, "k", false, true, {}, "1", 0};
  std::string payload;
  EncodeBatch(1, in, nullptr, 0, &payload);
  std::vector<uint64_t> aligned((payload.size() + 7) / 8);
  std::memcpy(aligned.data(), payload.data(), payload.size());
  BatchData out;
  const Status s = DecodeBatch(
      std::string_view(reinterpret_cast<const char*>(aligned.data()), payload.size()), &out);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

// Field by field, views compared by content and position.
void ExpectSameBatch(const BatchData& a, const BatchData& b, const std::string& what) {
  EXPECT_EQ(a.commit_time_micros, b.commit_time_micros) << what;
  EXPECT_EQ(a.chain_depth, b.chain_depth) << what;
  EXPECT_EQ(a.ttl_delete, b.ttl_delete) << what;
  EXPECT_EQ(a.has_checkpoint, b.has_checkpoint) << what;
  ASSERT_EQ(a.changes.size(), b.changes.size()) << what;
  for (size_t i = 0; i < a.changes.size(); ++i) {
    const ChangeData& x = a.changes[i];
    const ChangeData& y = b.changes[i];
    EXPECT_EQ(x.table_id, y.table_id) << what;
    EXPECT_EQ(x.event, y.event) << what;
    EXPECT_EQ(x.view, y.view) << what;
    EXPECT_EQ(x.has_old, y.has_old) << what;
    EXPECT_EQ(x.has_new, y.has_new) << what;
    EXPECT_EQ(x.old_size, y.old_size) << what;
    EXPECT_EQ(x.key.data(), y.key.data()) << what;
    EXPECT_EQ(x.key, y.key) << what;
    EXPECT_EQ(x.old_image.data(), y.old_image.data()) << what;
    EXPECT_EQ(x.old_image, y.old_image) << what;
    EXPECT_EQ(x.new_image.data(), y.new_image.data()) << what;
    EXPECT_EQ(x.new_image, y.new_image) << what;
  }
}

// The fast batch decoder reads what our writer produces, and gives exactly
// the reference decoder's answer on every one-byte corruption of it
// (tests/fuzz/codec_fuzz checks the same on arbitrary inputs).
TEST(LogFormat, FastBatchDecoderAgreesWithCapnp) {
  std::vector<ChangeData> in(3);
  in[0] = {1, EventName::kInsert, View::kNewImage, "a", false, true, {}, "1", 0};
  in[1] = {2, EventName::kModify, View::kNewAndOldImages, "bb", true, true, "old", "new", 3};
  in[2] = {2, EventName::kRemove, View::kKeysOnly, "c", false, false, {}, {}, 9};
  std::string payload;
  EncodeBatch(99, in, nullptr, 7, &payload, /*ttl_delete=*/true);
  std::vector<uint64_t> aligned(payload.size() / 8);
  std::memcpy(aligned.data(), payload.data(), payload.size());
  char* bytes = reinterpret_cast<char*>(aligned.data());
  const std::string_view view(bytes, payload.size());
  BatchData fast, ref;
  ASSERT_TRUE(DecodeBatchFast(view, &fast));
  ASSERT_OK(DecodeBatchWithCapnp(view, &ref));
  ExpectSameBatch(fast, ref, "intact");
  EXPECT_EQ(fast.chain_depth, 7);
  EXPECT_TRUE(fast.ttl_delete);
  EXPECT_EQ(fast.changes[1].old_image, "old");

  // Reused BatchData: no image of an earlier frame survives.
  std::string second;
  EncodeBatch(1, {in[2]}, nullptr, 0, &second);
  std::vector<uint64_t> aligned2(second.size() / 8);
  std::memcpy(aligned2.data(), second.data(), second.size());
  ASSERT_TRUE(DecodeBatchFast(
      std::string_view(reinterpret_cast<const char*>(aligned2.data()), second.size()), &fast));
  ASSERT_EQ(fast.changes.size(), 1u);
  EXPECT_TRUE(fast.changes[0].new_image.empty());
  EXPECT_FALSE(fast.ttl_delete);

  // A checkpoint is left to the reference decoder.
  CheckpointData cp{4, 100, "OK", {}};
  std::string with_cp;
  EncodeBatch(1, in, &cp, 1, &with_cp);
  std::vector<uint64_t> aligned3(with_cp.size() / 8);
  std::memcpy(aligned3.data(), with_cp.data(), with_cp.size());
  const std::string_view cp_view(reinterpret_cast<const char*>(aligned3.data()), with_cp.size());
  EXPECT_FALSE(DecodeBatchFast(cp_view, &fast));
  ASSERT_OK(DecodeBatch(cp_view, &fast));
  EXPECT_TRUE(fast.has_checkpoint);
  EXPECT_EQ(fast.checkpoint.result, "OK");

  int fast_accepted = 0;
  for (size_t pos = 0; pos < payload.size(); ++pos) {
    for (const uint8_t flip : {0x01, 0x10, 0x80}) {
      std::memcpy(bytes, payload.data(), payload.size());
      bytes[pos] = static_cast<char>(bytes[pos] ^ flip);
      const std::string what = "flip " + std::to_string(flip) + " at " + std::to_string(pos);
      BatchData got, want;
      const Status want_s = DecodeBatchWithCapnp(view, &want);
      if (DecodeBatchFast(view, &got)) {
        ++fast_accepted;
        ASSERT_TRUE(want_s.ok()) << what << ": the reference says " << want_s.ToString();
        ExpectSameBatch(got, want, what);
      }
      const Status s = DecodeBatch(view, &got);
      EXPECT_EQ(s.ok(), want_s.ok()) << what;
      EXPECT_EQ(s.ToString(), want_s.ToString()) << what;
      if (s.ok()) ExpectSameBatch(got, want, what);
    }
  }
  EXPECT_GT(fast_accepted, 0);  // flips of sizes and times that stay valid
}

TEST(LogFormat, MetaAndCatalogRoundTrip) {
  MetaData m;
  m.kind = MetaData::Kind::kCreateTable;
  m.commit_time_micros = 5;
  m.table.id = 3;
  m.table.name = "Music";
  m.table.streams.push_back({"2026-01-01T00:00:00.000", View::kOldImage, 5, 2, 0});
  std::string payload;
  EncodeMeta(m, &payload);
  std::vector<uint64_t> aligned((payload.size() + 7) / 8);
  std::memcpy(aligned.data(), payload.data(), payload.size());
  MetaData d;
  ASSERT_OK(DecodeMeta(
      std::string_view(reinterpret_cast<const char*>(aligned.data()), payload.size()), &d));
  EXPECT_EQ(d.kind, MetaData::Kind::kCreateTable);
  EXPECT_EQ(d.table.name, "Music");
  ASSERT_EQ(d.table.streams.size(), 1u);
  EXPECT_EQ(d.table.streams[0].view, View::kOldImage);

  CatalogData c;
  c.next_table_id = 4;
  c.tables.push_back(m.table);
  std::string bytes;
  EncodeCatalog(c, &bytes);
  CatalogData dc;
  ASSERT_OK(DecodeCatalog(bytes, &dc));
  EXPECT_EQ(dc.next_table_id, 4u);
  ASSERT_EQ(dc.tables.size(), 1u);
  EXPECT_EQ(dc.tables[0].streams[0].label, "2026-01-01T00:00:00.000");
}

TEST(LogFormat, GarbagePayloadIsCorruptionNotACrash) {
  std::vector<uint64_t> words(16);
  for (size_t i = 0; i < words.size(); ++i) words[i] = 0x9e3779b97f4a7c15ull * (i + 1);
  const std::string_view v(reinterpret_cast<const char*>(words.data()), 128);
  BatchData b;
  MetaData m;
  EXPECT_TRUE(DecodeBatch(v, &b).IsCorruption());
  EXPECT_FALSE(DecodeMeta(v, &m).ok());
  EXPECT_TRUE(DecodeBatch(std::string_view(), &b).IsCorruption());
  CatalogData c;
  EXPECT_TRUE(DecodeCatalog("1234567", &c).IsCorruption());
}

TEST(SegmentReader, ReadsEveryFrame) {
  TempDir dir;
  WriteSegment(dir.path(), 1, 20);
  ReadResult r = ReadSegment(dir.path(), 1);
  EXPECT_EQ(r.frames, 20);
  EXPECT_FALSE(r.damaged);
}

TEST(SegmentReader, WrongDbOrFirstSequenceIsCorruption) {
  TempDir dir;
  WriteSegment(dir.path(), 5, 1);
  std::rename((dir.path() + "/" + SegmentFileName(5)).c_str(),
              (dir.path() + "/" + SegmentFileName(6)).c_str());
  std::unique_ptr<SegmentReader> r;
  EXPECT_TRUE(SegmentReader::Open(leveldb::Env::Default(), dir.path(), 6, kId, &r).IsCorruption());
  uint8_t other[kDbIdSize] = {};
  WriteSegment(dir.path(), 7, 1);
  EXPECT_TRUE(
      SegmentReader::Open(leveldb::Env::Default(), dir.path(), 7, other, &r).IsCorruption());
}

TEST(SegmentReader, EveryTruncationOfTheLastFrameIsATornTail) {
  TempDir dir;
  std::string bytes;
  auto offsets = WriteSegment(dir.path(), 1, 5, &bytes);
  const std::string path = dir.path() + "/" + SegmentFileName(1);
  for (uint64_t cut = offsets[4] + 1; cut < bytes.size(); cut += 3) {
    ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(cut)), 0);
    ReadResult r = ReadSegment(dir.path(), 1);
    EXPECT_EQ(r.frames, 4) << "cut at " << cut;
    ASSERT_TRUE(r.damaged) << "cut at " << cut;
    EXPECT_TRUE(r.damage.to_end_of_file) << "cut at " << cut;
    EXPECT_EQ(r.damage.offset, offsets[4]);
  }
}

TEST(SegmentReader, ZeroFilledTailIsATornTail) {
  TempDir dir;
  std::string bytes;
  auto offsets = WriteSegment(dir.path(), 1, 3, &bytes);
  const std::string path = dir.path() + "/" + SegmentFileName(1);
  // The file system extended the file but the data never arrived.
  test::WriteAt(path, offsets[2], std::string(bytes.size() - offsets[2] + 4096, '\0'));
  ReadResult r = ReadSegment(dir.path(), 1);
  EXPECT_EQ(r.frames, 2);
  ASSERT_TRUE(r.damaged);
  EXPECT_TRUE(r.damage.to_end_of_file);
}

TEST(SegmentReader, EveryFlippedByteIsDetected) {
  TempDir dir;
  std::string bytes;
  auto offsets = WriteSegment(dir.path(), 1, 4, &bytes);
  const std::string path = dir.path() + "/" + SegmentFileName(1);
  for (uint64_t pos = kSegmentHeaderSize; pos < bytes.size(); ++pos) {
    std::string mutated = bytes;
    mutated[pos] ^= 0x01;
    test::WriteAt(path, 0, mutated);
    ReadResult r = ReadSegment(dir.path(), 1);
    // The frame holding the byte is damaged; padding bytes are not covered
    // by the checksum, but then every frame still reads intact.
    size_t holder = 0;
    while (holder + 1 < offsets.size() && offsets[holder + 1] <= pos) ++holder;
    if (!r.damaged) {
      EXPECT_EQ(r.frames, 4) << "flip at " << pos;
      continue;
    }
    EXPECT_EQ(r.frames, static_cast<int>(holder)) << "flip at " << pos;
    EXPECT_EQ(r.damage.offset, offsets[holder]) << "flip at " << pos;
    // Damage before the last frame has intact frames after it: corruption,
    // never a torn tail.
    if (holder < 3) {
      EXPECT_FALSE(r.damage.to_end_of_file) << "flip at " << pos;
    }
  }
}

// A reader at the tail sees appended frames by raising its size in place,
// but a file rewritten under the same name (recovery rewrites a new segment
// whose catalog frame was torn) or cut shorter needs a fresh open: reading it
// with the old salt would call every new frame damaged.
TEST(SegmentReader, GrowsInPlaceOnlyWhileTheFileIsTheSame) {
  TempDir dir;
  leveldb::Env* env = leveldb::Env::Default();
  WriteSegment(dir.path(), 1, 2);
  std::unique_ptr<SegmentReader> r;
  ASSERT_OK(SegmentReader::Open(env, dir.path(), 1, kId, &r));
  const uint64_t first_size = r->file_size();
  bool in_place = true;
  EXPECT_FALSE(r->Grew(env, &in_place));

  WriteSegment(dir.path(), 1, 4);  // the same file, two frames longer
  ASSERT_TRUE(r->Grew(env, &in_place));
  EXPECT_TRUE(in_place);
  EXPECT_GT(r->file_size(), first_size);
  Frame f;
  Damage d;
  int frames = 0;
  while (r->Next(&f, &d) == SegmentReader::Result::kFrame) ++frames;
  EXPECT_EQ(frames, 4);

  WriteSegment(dir.path(), 1, 6, nullptr, kSalt + 1);  // rewritten: another salt
  ASSERT_TRUE(r->Grew(env, &in_place));
  EXPECT_FALSE(in_place);

  ASSERT_OK(SegmentReader::Open(env, dir.path(), 1, kId, &r));
  std::filesystem::resize_file(dir.path() + "/" + SegmentFileName(1), first_size);  // cut
  ASSERT_TRUE(r->Grew(env, &in_place));
  EXPECT_FALSE(in_place);
}

// Another process may cut the segment under a reader's mapping (the host's
// recovery cuts a torn tail). Touching a page past the new end of a mapped
// file is SIGBUS; the reader must instead see the cut part as the end of
// the data, and learn that only a fresh open shows the file as it is now,
// even if the file has since grown back to the very size it had.
TEST(SegmentReader, FileCutUnderTheMappingReadsAsTheEndOfData) {
  TempDir dir;
  leveldb::Env* env = leveldb::Env::Default();
  std::string bytes;
  WriteSegment(dir.path(), 1, 3, &bytes);
  const std::string path = dir.path() + "/" + SegmentFileName(1);
  // A torn write of 16 pages: the scan for an intact frame after it reads
  // every one of them.
  std::string torn(64 << 10, '\0');
  for (size_t i = 0; i < torn.size(); ++i) torn[i] = static_cast<char>(i * 131 + 7);
  test::WriteAt(path, bytes.size(), torn);
  std::unique_ptr<SegmentReader> r;
  ASSERT_OK(SegmentReader::Open(env, dir.path(), 1, kId, &r));
  const uint64_t stale_size = r->file_size();
  ASSERT_EQ(stale_size, bytes.size() + torn.size());
  Frame f;
  Damage d;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(r->Next(&f, &d), SegmentReader::Result::kFrame);
  const std::string_view third = f.payload;

  std::filesystem::resize_file(path, bytes.size());  // recovery's cut
  ASSERT_EQ(r->Next(&f, &d), SegmentReader::Result::kDamaged);
  EXPECT_EQ(d.offset, bytes.size());
  EXPECT_TRUE(d.to_end_of_file);
  // A frame handed out before the cut lies before it: still readable.
  BatchData b;
  EXPECT_OK(DecodeBatch(third, &b));

  // The file grows back to exactly the size the reader saw, with two more
  // frames: the size alone cannot tell, the reader must reopen.
  std::string five;
  WriteSegment(dir.path(), 1, 5, &five);
  ASSERT_LT(five.size(), stale_size);
  test::WriteAt(path, five.size(), std::string(stale_size - five.size(), '\0'));
  ASSERT_EQ(std::filesystem::file_size(path), stale_size);
  bool in_place = true;
  ASSERT_TRUE(r->Grew(env, &in_place));
  EXPECT_FALSE(in_place);
  ASSERT_OK(SegmentReader::Open(env, dir.path(), 1, kId, &r));
  r->SeekToOffset(bytes.size());
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(r->Next(&f, &d), SegmentReader::Result::kFrame) << i;
    EXPECT_EQ(f.header.first_sequence, 4u + i);
  }
  EXPECT_EQ(r->Next(&f, &d), SegmentReader::Result::kDamaged);  // the zeros
  EXPECT_TRUE(d.to_end_of_file);
}

// A frame hash is seeded by the segment's salt and the frame's offset, so a
// well-formed frame stored inside a value (or copied from elsewhere) never
// reads as a frame: not where it lies, and not when a scan after damage
// resynchronizes. Otherwise skipping damage could replay a forged write.
TEST(SegmentReader, ResyncNeverLandsOnAFrameInsideAValue) {
  TempDir dir;
  std::string bytes;
  WriteSegment(dir.path(), 1, 1, &bytes);
  // Inside the value: a frame sealed with the right salt for the offset it
  // was built for, and one sealed for exactly where it will lie but with
  // another salt (someone who guessed the layout but cannot read the file).
  const uint64_t value_frame = bytes.size();
  std::string forged_payload = BatchPayload("forged", "x");
  std::string inner;
  AppendFrame(kBatchFrame, 2, 1, 7, forged_payload, &inner);
  SealFrames(inner.data(), inner.size(), kSalt, kSegmentHeaderSize);
  std::string inner2;
  AppendFrame(kBatchFrame, 2, 1, 7, forged_payload, &inner2);
  // An 8-byte key keeps the value (and so both forgeries) 8-byte aligned,
  // where the scan looks for frames.
  AppendFrame(kBatchFrame, 2, 1, 7, BatchPayload("valuekey", inner + inner2), &bytes);
  const uint64_t inner_frame = bytes.find(inner, value_frame + 32);
  const uint64_t inner2_at = bytes.find(inner2.substr(8, 24), value_frame + 32);
  ASSERT_NE(inner_frame, std::string::npos);
  ASSERT_NE(inner2_at, std::string::npos);
  const uint64_t inner2_frame = inner2_at - 8;
  ASSERT_EQ(inner_frame % 8, 0u);
  ASSERT_EQ(inner2_frame, inner_frame + inner.size());
  SealFrames(bytes.data() + inner2_frame, inner2.size(), kSalt ^ 1, inner2_frame);
  // Re-seal the outer frame now that its payload is final, then a real frame.
  SealFrames(bytes.data() + value_frame, bytes.size() - value_frame, kSalt, value_frame);
  const uint64_t real = bytes.size();
  AppendFrame(kBatchFrame, 3, 1, 7, BatchPayload("real", "r"), &bytes);
  SealFrames(bytes.data() + real, bytes.size() - real, kSalt, real);
  const std::string path = dir.path() + "/" + SegmentFileName(1);
  test::WriteAt(path, 0, bytes);
  ASSERT_EQ(ReadSegment(dir.path(), 1).frames, 3);

  // Damage the value's frame header: the scan must skip both forgeries.
  std::string damaged = bytes;
  damaged[value_frame + 8] ^= 0x40;
  test::WriteAt(path, 0, damaged);
  ReadResult r = ReadSegment(dir.path(), 1);
  EXPECT_EQ(r.frames, 1);
  ASSERT_TRUE(r.damaged);
  EXPECT_EQ(r.damage.offset, value_frame);
  EXPECT_FALSE(r.damage.to_end_of_file);
  EXPECT_EQ(r.damage.next_intact_offset, real);
}

// Damage full of plausible frame headers, each claiming a payload that runs
// to the end of the file, must not make the scan for the next intact frame
// hash megabytes per candidate. Without the header check this took 17 s for
// 4 MiB here, growing with the square of the damage (16 MiB: ~5 minutes, past
// this test's ctest timeout); with it, milliseconds.
TEST(SegmentReader, ScanPastDamageIsLinear) {
  TempDir dir;
  std::string bytes;
  WriteSegment(dir.path(), 1, 1, &bytes);
  const uint64_t damage_at = bytes.size();
  const size_t kDamage = 16 << 20;
  const uint64_t real = damage_at + kDamage;
  for (uint64_t off = damage_at; off < real; off += 8) {
    char h[8];
    if ((off / 8) % 4 == 0) {
      // A header's first 8 bytes would be the checksum; these 32-byte groups
      // look like headers at every 32nd offset and are plausible at others.
      EncodeFixed64(h, 0x1234567890abcdefull);
    } else if ((off / 8) % 4 == 1) {
      const uint64_t to_end = real + 4096 - off - kFrameHeaderSize;
      EncodeFixed64(h, (to_end & ~uint64_t{7}) | (uint64_t{kBatchFrame} << 32));
    } else {
      EncodeFixed64(h, 0x0000000100000005ull);  // first 5, count 1
    }
    bytes.append(h, 8);
  }
  AppendFrame(kBatchFrame, 2, 1, 7, BatchPayload("after", std::string(4000, 'a')), &bytes);
  SealFrames(bytes.data() + real, bytes.size() - real, kSalt, real);
  test::WriteAt(dir.path() + "/" + SegmentFileName(1), 0, bytes);
  ReadResult r = ReadSegment(dir.path(), 1);
  EXPECT_EQ(r.frames, 1);
  ASSERT_TRUE(r.damaged);
  EXPECT_EQ(r.damage.offset, damage_at);
  EXPECT_EQ(r.damage.next_intact_offset, real);
}

}  // namespace
}  // namespace runnel::log
