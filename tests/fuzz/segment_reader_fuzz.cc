// Copyright 2026 The runnel Authors.
//
// Fuzzes the log frame reader: the input is a segment file. It is read
// twice, once as given and once with its checksums repaired (the segment
// header's, and each frame's as far as the frames chain), because a mutated
// frame almost never keeps a valid XXH3: the repaired copy lets the fuzzer
// reach the paths behind the checksum (frame lengths, types, counts, the
// payload decoders). Each copy is read through a mapped file
// (leveldb::Env::Default()) and through pread into the reader's buffer.
//
// Besides crashes, it checks the reader's contracts: every frame payload is
// 8-byte aligned and lies inside the file, the offset only moves forward, and
// damage names an offset inside the file.

#include <leveldb/env.h>
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "cdc/codec.h"
#include "cdc/coding.h"
#include "cdc/log_format.h"
#include "cdc/segment_reader.h"
#include "tests/fuzz/fuzz_util.h"

namespace runnel::log {
namespace {

using fuzz::Check;

void DecodePayload(const Frame& f) {
  switch (f.header.type) {
    case kBatchFrame: {
      BatchData b;
      if (DecodeBatch(f.payload, &b).ok()) {
        for (const ChangeData& c : b.changes) {
          fuzz::Touch(c.key);
          fuzz::Touch(c.old_image);
          fuzz::Touch(c.new_image);
        }
        fuzz::Touch(b.checkpoint.result);
      }
      break;
    }
    case kMetaFrame: {
      MetaData m;
      (void)DecodeMeta(f.payload, &m);
      break;
    }
    case kCatalogFrame: {
      CatalogData c;
      (void)DecodeCatalog(f.payload, &c);
      break;
    }
    default:
      break;
  }
}

void ReadSegment(leveldb::Env* env, const std::string& dir, uint64_t first) {
  std::unique_ptr<SegmentReader> r;
  if (!SegmentReader::Open(env, dir, first, nullptr, &r).ok()) return;
  const uint64_t size = r->file_size();
  Frame frame;
  Damage damage;
  for (;;) {
    const uint64_t before = r->offset();
    switch (r->Next(&frame, &damage)) {
      case SegmentReader::Result::kFrame:
        Check(reinterpret_cast<uintptr_t>(frame.payload.data()) % 8 == 0,
              "frame payload is not 8-byte aligned");
        Check(frame.offset == before && frame.offset % 8 == 0,
              "frame offset is not the reader's offset");
        Check(frame.payload.size() == frame.header.length,
              "payload size differs from the header's length");
        Check(frame.offset + frame.header.frame_size() <= size &&
                  r->offset() == frame.offset + frame.header.frame_size(),
              "frame runs past the file or the offset did not advance");
        fuzz::Touch(frame.payload);
        DecodePayload(frame);
        break;
      case SegmentReader::Result::kDamaged:
        Check(r->offset() == before && damage.offset == before && damage.offset < size,
              "damage offset is not the reader's offset");
        Check(damage.to_end_of_file ||
                  (damage.next_intact_offset > damage.offset && damage.next_intact_offset < size &&
                   damage.next_intact_offset % 8 == 0),
              "damage names no later intact frame");
        r->SkipDamage(damage);
        Check(r->offset() > before, "SkipDamage did not move forward");
        break;
      case SegmentReader::Result::kEnd:
        Check(r->offset() >= size, "kEnd before the end of the file");
        return;
      case SegmentReader::Result::kError:
        return;
    }
  }
}

// The header checks and checksums a writer would have computed (with the
// salt the header holds). False if nothing changed.
bool RepairChecksums(std::string* seg) {
  const std::string before = *seg;
  uint64_t salt = 0;
  if (seg->size() >= kSegmentHeaderSize) {
    char* p = seg->data();
    std::memcpy(p, kMagic, sizeof(kMagic));
    EncodeFixed32(p + 8, kFormatVersion);
    EncodeFixed32(p + 12, kSegmentHeaderSize);
    EncodeFixed64(p + 48, XXH3_64bits(p, 48));
    salt = DecodeFixed64(p + 40);
  }
  uint64_t off = kSegmentHeaderSize;
  while (off + kFrameHeaderSize <= seg->size()) {
    char* p = seg->data() + off;
    const FrameHeader h = DecodeFrameHeader(p);
    if (!h.Plausible() || h.frame_size() > seg->size() - off) break;
    SealFrames(p, h.frame_size(), salt, off);
    off += h.frame_size();
  }
  return *seg != before;
}

void ReadBothWays(const std::string& dir, std::string_view bytes) {
  // Name the file after the first sequence its header claims, so that the
  // reader gets past the name check.
  const uint64_t first = bytes.size() >= kSegmentHeaderSize ? DecodeFixed64(bytes.data() + 32) : 1;
  const std::string path = dir + "/" + SegmentFileName(first);
  fuzz::WriteFileOrDie(path, bytes);
  ReadSegment(leveldb::Env::Default(), dir, first);
  ReadSegment(fuzz::PreadEnv(), dir, first);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace runnel::log

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const runnel::fuzz::ScratchDir dir("segment_reader");
  std::string seg(reinterpret_cast<const char*>(data), size);
  runnel::log::ReadBothWays(dir.path(), seg);
  if (runnel::log::RepairChecksums(&seg)) {
    runnel::log::ReadBothWays(dir.path(), seg);
  }
  return 0;
}
