// Copyright 2026 The runnel Authors.

#include "db/index_manifest.h"

#include <algorithm>
#include <array>

#include "cdc/env_util.h"

namespace runnel {
namespace {

// LevelDB's log format (db/log_format.h of LevelDB).
constexpr uint64_t kBlockSize = 32768;
constexpr uint64_t kHeaderSize = 7;  // checksum (4), length (2), type (1)
enum RecordType : unsigned {
  kZeroType = 0,
  kFullType = 1,
  kFirstType = 2,
  kMiddleType = 3,
  kLastType = 4
};
constexpr uint32_t kMaskDelta = 0xa282ead8u;

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    t[i] = c;
  }
  return t;
}

uint32_t Load32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 |
         static_cast<uint32_t>(u[2]) << 16 | static_cast<uint32_t>(u[3]) << 24;
}

// The physical record at `offset`, if its header and payload lie within the
// file and its block.
struct Physical {
  unsigned type = 0;
  uint64_t length = 0;
  bool fits = false;      // header and payload within the block and the file
  bool checksum = false;  // the checksum matches
};

Physical ReadPhysical(const std::string& m, uint64_t offset) {
  Physical r;
  const uint64_t block_end = (offset / kBlockSize + 1) * kBlockSize;
  if (offset + kHeaderSize > std::min<uint64_t>(block_end, m.size())) return r;
  const char* h = m.data() + offset;
  r.length = static_cast<uint64_t>(static_cast<unsigned char>(h[4])) |
             static_cast<uint64_t>(static_cast<unsigned char>(h[5])) << 8;
  r.type = static_cast<unsigned char>(h[6]);
  r.fits = offset + kHeaderSize + r.length <= std::min<uint64_t>(block_end, m.size());
  if (r.fits) {
    const uint32_t masked = Load32(h);
    const uint32_t stored = masked - kMaskDelta;
    const uint32_t crc = (stored >> 17) | (stored << 15);
    r.checksum = crc == Crc32c(h + 6, 1 + r.length);
  }
  return r;
}

// An intact physical record of a known type starts at `offset`.
bool IntactAt(const std::string& m, uint64_t offset) {
  const unsigned type = static_cast<unsigned char>(m[offset + 6]);
  if (type < kFullType || type > kLastType) return false;  // cheap test first
  const Physical r = ReadPhysical(m, offset);
  return r.fits && r.checksum && r.type >= kFullType && r.type <= kLastType;
}

// Scans the records as LevelDB's log::Reader does (checksums on, from the
// start) and fills the damage fields of *t.
void Scan(const std::string& m, ManifestTail* t) {
  const uint64_t size = m.size();
  uint64_t offset = 0;
  bool in_fragment = false;
  auto damage = [&](uint64_t at, const char* reason) {
    t->damaged = true;
    t->damage_offset = at;
    t->reason = reason;
  };
  while (offset < size) {
    const uint64_t block_end = (offset / kBlockSize + 1) * kBlockSize;
    if (block_end - offset < kHeaderSize) {  // the block's zero trailer
      offset = block_end;
      continue;
    }
    if (size - offset < kHeaderSize) return;  // a header cut short at the end: ignored
    const Physical r = ReadPhysical(m, offset);
    if (!r.fits) {
      // LevelDB ignores a record cut short by the end of the file (in the
      // file's last block); one that overruns its block is corrupt.
      if (size < block_end) return;
      return damage(offset, "bad record length");
    }
    if (r.type == kZeroType && r.length == 0) {
      // LevelDB skips the rest of the block (preallocated zeros), which is
      // corruption only inside a fragmented record.
      if (in_fragment) return damage(offset, "error in middle of record");
      offset = block_end;
      continue;
    }
    if (!r.checksum) return damage(offset, "checksum mismatch");
    const uint64_t end = offset + kHeaderSize + r.length;
    switch (r.type) {
      case kFullType:
        if (in_fragment) return damage(offset, "partial record without end");
        t->intact_end = end;
        break;
      case kFirstType:
        if (in_fragment) return damage(offset, "partial record without end");
        in_fragment = true;
        break;
      case kMiddleType:
        if (!in_fragment) return damage(offset, "missing start of fragmented record");
        break;
      case kLastType:
        if (!in_fragment) return damage(offset, "missing start of fragmented record");
        in_fragment = false;
        t->intact_end = end;
        break;
      default:
        return damage(offset, "unknown record type");
    }
    offset = end;
  }
}

}  // namespace

uint32_t Crc32c(const char* data, size_t n) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c = table[(c ^ static_cast<unsigned char>(data[i])) & 0xff] ^ (c >> 8);
  }
  return c ^ 0xffffffffu;
}

Status InspectIndexManifest(leveldb::Env* env, const std::string& index_dir, ManifestTail* t) {
  *t = ManifestTail();
  std::string current;
  const std::string current_path = index_dir + "/CURRENT";
  Status s = FromLevelDB(leveldb::ReadFileToString(env, current_path, &current), current_path);
  if (!s.ok()) return s;
  if (current.empty() || current.back() != '\n' || current.compare(0, 9, "MANIFEST-") != 0 ||
      current.find('/') != std::string::npos) {
    return Status::Corruption(current_path + " does not name a MANIFEST");
  }
  current.pop_back();
  t->file = current;
  const std::string path = index_dir + "/" + current;
  std::string m;
  s = FromLevelDB(leveldb::ReadFileToString(env, path, &m), path);
  if (!s.ok()) return s;
  t->size = m.size();
  Scan(m, t);
  if (!t->damaged) return Status::OK();
  t->torn_tail = true;
  for (uint64_t o = t->damage_offset + 1; o + kHeaderSize <= m.size(); ++o) {
    if (IntactAt(m, o)) {
      t->torn_tail = false;
      break;
    }
  }
  return Status::OK();
}

}  // namespace runnel
