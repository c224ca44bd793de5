// Copyright 2026 The runnel Authors.

#include "cdc/log_format.h"

#include <xxhash.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "cdc/coding.h"

namespace runnel::log {

void EncodeSegmentHeader(const SegmentHeader& header, std::string* dst) {
  const size_t start = dst->size();
  dst->append(kMagic, sizeof(kMagic));
  PutFixed32(dst, kFormatVersion);
  PutFixed32(dst, kSegmentHeaderSize);
  dst->append(reinterpret_cast<const char*>(header.db_id), kDbIdSize);
  PutFixed64(dst, header.first_sequence);
  PutFixed64(dst, header.salt);
  PutFixed64(dst, XXH3_64bits(dst->data() + start, 48));
}

Status DecodeSegmentHeader(std::string_view src, SegmentHeader* header) {
  if (src.size() < kSegmentHeaderSize) {
    return Status::Corruption("segment header is short");
  }
  if (std::memcmp(src.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption("not a runnel log segment (bad magic)");
  }
  const uint32_t version = DecodeFixed32(src.data() + 8);
  if (version == 1) {
    // Its 48-byte header has no salt; this build never reads such frames.
    return Status::NotSupported(
        "segment format version 1, written by a pre-release runnel (this "
        "build reads version " +
        std::to_string(kFormatVersion) + ")");
  }
  if (XXH3_64bits(src.data(), 48) != DecodeFixed64(src.data() + 48)) {
    return Status::Corruption("segment header checksum mismatch");
  }
  if (version != kFormatVersion) {
    return Status::NotSupported("segment format version " + std::to_string(version) +
                                " (this build reads " + std::to_string(kFormatVersion) + ")");
  }
  if (DecodeFixed32(src.data() + 12) != kSegmentHeaderSize) {
    return Status::Corruption("segment header size mismatch");
  }
  std::memcpy(header->db_id, src.data() + 16, kDbIdSize);
  header->first_sequence = DecodeFixed64(src.data() + 32);
  header->salt = DecodeFixed64(src.data() + 40);
  return Status::OK();
}

void AppendFrame(uint8_t type, uint64_t first_sequence, uint32_t count, uint32_t table_hint,
                 std::string_view payload, std::string* dst) {
  char header[kFrameHeaderSize] = {};
  EncodeFixed32(header + 8, static_cast<uint32_t>(payload.size()));
  header[12] = static_cast<char>(type);
  EncodeFixed64(header + 16, first_sequence);
  EncodeFixed32(header + 24, count);
  EncodeFixed32(header + 28, table_hint);
  dst->append(header, kFrameHeaderSize);
  dst->append(payload);
  dst->append(FrameHeader::Padded(payload.size()) - payload.size(), '\0');
}

namespace {

uint16_t HeaderCheck(const char* header, uint64_t seed) {
  // Bytes [16, 32) then [8, 14): everything but the checksum and the check.
  char buf[22];
  std::memcpy(buf, header + 16, 16);
  std::memcpy(buf + 16, header + 8, 6);
  return static_cast<uint16_t>(XXH3_64bits_withSeed(buf, sizeof(buf), seed));
}

}  // namespace

void SealFrames(char* frames, size_t size, uint64_t salt, uint64_t offset) {
  size_t at = 0;
  while (at + kFrameHeaderSize <= size) {
    char* f = frames + at;
    const uint64_t seed = FrameSeed(salt, offset + at);
    const uint32_t length = DecodeFixed32(f + 8);
    EncodeFixed16(f + 14, HeaderCheck(f, seed));
    EncodeFixed64(f, XXH3_64bits_withSeed(f + 8, kFrameHeaderSize - 8 + length, seed));
    at += kFrameHeaderSize + FrameHeader::Padded(length);
  }
}

FrameHeader DecodeFrameHeader(const char* src) {
  FrameHeader h;
  h.checksum = DecodeFixed64(src);
  h.length = DecodeFixed32(src + 8);
  h.type = static_cast<uint8_t>(src[12]);
  h.first_sequence = DecodeFixed64(src + 16);
  h.count = DecodeFixed32(src + 24);
  h.table_hint = DecodeFixed32(src + 28);
  return h;
}

bool HeaderCheckMatches(const char* header, uint64_t salt, uint64_t offset) {
  return HeaderCheck(header, FrameSeed(salt, offset)) == DecodeFixed16(header + 14);
}

bool VerifyFrame(const char* frame, uint32_t length, uint64_t salt, uint64_t offset) {
  return XXH3_64bits_withSeed(frame + 8, kFrameHeaderSize - 8 + length, FrameSeed(salt, offset)) ==
         DecodeFixed64(frame);
}

std::string SegmentFileName(uint64_t first_sequence) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64 ".seg", first_sequence);
  return buf;
}

bool ParseSegmentFileName(std::string_view name, uint64_t* first_sequence) {
  if (name.size() != 24 || name.substr(20) != ".seg") return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *first_sequence = v;
  return true;
}

}  // namespace runnel::log
