// Copyright 2026 The runnel Authors.
//
// The on-disk format of the runnel log. This comment is the specification;
// docs/log_format.md repeats it for readers without the source.
//
// The log is a sequence of segment files in DIR/wal/, each named by the first
// sequence number it may hold, as 20 decimal digits: 00000000000000000001.seg.
// Segments are contiguous: segment N+1's first sequence is one more than the
// last sequence of segment N. All integers are little-endian.
//
// Segment header (56 bytes, at offset 0):
//   0  char[8]  magic "RUNNELOG"
//   8  u32      format version (2)
//  12  u32      header size (56)
//  16  u8[16]   DB id (random, also in DIR/IDENTITY); a segment of another DB
//               is corruption
//  32  u64      first sequence number
//  40  u64      salt: random, chosen when the segment is created
//  48  u64      XXH3-64 of bytes [0, 48)
//
// Frames follow the header back to back; every frame starts at an offset that
// is a multiple of 8, so a payload read from a mapped segment is word-aligned
// and can be decoded in place.
//
// Every frame hash is XXH3-64 seeded with the frame seed, salt XOR the
// frame's offset in the segment. Stored values are arbitrary bytes and may
// themselves hold a well-formed frame; the seed makes such a frame (and a
// frame copied from another segment or offset) fail its checksum, so neither
// resynchronization after damage nor a moved position can ever read one as a
// real frame. Nobody can forge a frame without reading the segment's salt.
//
// Frame header (32 bytes):
//   0  u64  checksum: seeded XXH3-64 of bytes [8, 32 + length): the rest of
//           the header and the payload, contiguous in the file, in one pass
//   8  u32  payload length in bytes (the payload is then zero-padded to a
//           multiple of 8; the padding is not checksummed)
//  12  u8   type (below)
//  13  u8   flags (0; reserved)
//  14  u16  header check: the low 16 bits of the seeded XXH3-64 of bytes
//           [16, 32) followed by [8, 14). It lets a scan for the next intact
//           frame after damage reject almost every candidate offset without
//           hashing the payload its length field claims, so the scan stays
//           linear in the size of the damage.
//  16  u64  first sequence number of the frame
//  24  u32  number of sequence numbers the frame consumes; >= 1, except
//           that a skippable frame (type bit 0x80) may consume none (then
//           `first` is the sequence the next frame starts at)
//  28  u32  table hint: the id of the one table every change of the frame
//           belongs to; 0 for several tables; 0xFFFFFFFF for none (functions,
//           mappings, checkpoint-only frames). Stream readers skip frames of
//           other tables without decoding them.
//
// Frame types. Bit 0x80 marks a type that a reader which does not know it may
// skip (its sequence numbers are then simply not visible to that reader); an
// unknown type without the bit is NotSupported: the log was written by a newer
// version and must not be misread.
//   1     kBatchFrame: payload schema::BatchFrame (cdc/log.capnp), one atomic
//         write batch; change i has sequence first + i; count = #changes
//   2     kMetaFrame: payload schema::MetaFrame; count = 1
//   0x83  kCatalogFrame: payload schema::Catalog, the tables and streams as
//         of the segment's start; the first frame of every segment, count 0.
//         With it a segment is self-describing: a read-only reader in
//         another process learns table names and streams from the log alone,
//         even after retention removed the frames that created them.
//
// Damage. A frame whose header is short, whose length runs past the end of
// the file, or whose checksum does not match is damaged. If it is the last
// thing in the newest segment (it reaches end of file, or only zero bytes
// follow it) it is a torn write: the log ends before it. Anywhere else it is
// corruption, reported with the segment file name and the frame's offset.

#ifndef RUNNEL_CDC_LOG_FORMAT_H_
#define RUNNEL_CDC_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runnel/status.h"

namespace runnel::log {

inline constexpr char kMagic[8] = {'R', 'U', 'N', 'N', 'E', 'L', 'O', 'G'};
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr size_t kSegmentHeaderSize = 56;
inline constexpr size_t kFrameHeaderSize = 32;
inline constexpr size_t kDbIdSize = 16;
// Frames larger than this are rejected by the reader as corrupt lengths.
inline constexpr uint32_t kMaxFramePayload = 1u << 30;

inline constexpr uint8_t kSkippableTypeBit = 0x80;
// Table hint of a frame that changes no table.
inline constexpr uint32_t kNoTableHint = 0xFFFFFFFFu;
enum FrameType : uint8_t {
  kBatchFrame = 1,
  kMetaFrame = 2,
  kCatalogFrame = kSkippableTypeBit | 3,
};

struct SegmentHeader {
  uint8_t db_id[kDbIdSize] = {};
  uint64_t first_sequence = 0;
  uint64_t salt = 0;
};

struct FrameHeader {
  uint32_t length = 0;
  uint8_t type = 0;
  uint64_t first_sequence = 0;
  uint32_t count = 0;
  uint32_t table_hint = 0;
  uint64_t checksum = 0;

  // first_sequence - 1 for a frame that consumes no sequence number.
  uint64_t last_sequence() const { return first_sequence + count - 1; }
  // False for headers no writer produces (a zero-filled region, a wild
  // length): such a frame is damaged whatever its checksum.
  bool Plausible() const {
    return length <= kMaxFramePayload && (count > 0 || (type & kSkippableTypeBit) != 0) &&
           type != 0;
  }
  // Bytes the frame occupies in the segment, header and padding included.
  uint64_t frame_size() const { return kFrameHeaderSize + Padded(length); }
  static uint64_t Padded(uint64_t n) { return (n + 7) & ~uint64_t{7}; }
};

// The seed of every hash of the frame at `offset` of a segment with `salt`.
inline uint64_t FrameSeed(uint64_t salt, uint64_t offset) { return salt ^ offset; }

// Appends the 56-byte header to *dst.
void EncodeSegmentHeader(const SegmentHeader& header, std::string* dst);
// Corruption if the magic, version or checksum is wrong.
Status DecodeSegmentHeader(std::string_view src, SegmentHeader* header);

// Appends header + payload + padding to *dst, unsealed: the checksum and
// header check are left zero until SealFrames, which needs to know where the
// frame will be written. REQUIRES: count >= 1 unless the type is skippable.
void AppendFrame(uint8_t type, uint64_t first_sequence, uint32_t count, uint32_t table_hint,
                 std::string_view payload, std::string* dst);
// Fills in the header check and checksum of every frame of `frames` (whole
// frames back to back, as AppendFrame produces them) for frames[0] being
// written at `offset` of the segment with `salt`.
void SealFrames(char* frames, size_t size, uint64_t salt, uint64_t offset);
// Decodes the fixed part of a frame header (no checksum verification).
// REQUIRES: src.size() >= kFrameHeaderSize.
FrameHeader DecodeFrameHeader(const char* src);
// True if the header check of the frame header at `header` (32 bytes, at
// `offset` of the segment with `salt`) matches. Cheap; a scan uses it to
// reject an offset before hashing a payload.
bool HeaderCheckMatches(const char* header, uint64_t salt, uint64_t offset);
// True if the frame's checksum matches. `frame` holds the header and the
// payload (kFrameHeaderSize + length bytes) of the frame at `offset`.
bool VerifyFrame(const char* frame, uint32_t length, uint64_t salt, uint64_t offset);

// "00000000000000000001.seg"
std::string SegmentFileName(uint64_t first_sequence);
// Parses a segment file name; false if `name` is not one.
bool ParseSegmentFileName(std::string_view name, uint64_t* first_sequence);

}  // namespace runnel::log

#endif  // RUNNEL_CDC_LOG_FORMAT_H_
