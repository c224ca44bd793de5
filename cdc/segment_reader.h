// Copyright 2026 The runnel Authors.
//
// SegmentReader: reads the frames of one log segment file, verifying each
// checksum, and classifies damage as a torn tail or corruption.

#ifndef RUNNEL_CDC_SEGMENT_READER_H_
#define RUNNEL_CDC_SEGMENT_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cdc/log_format.h"
#include "runnel/status.h"

namespace leveldb {
class Env;
class RandomAccessFile;
}  // namespace leveldb

namespace runnel::log {

// One frame as read. `payload` is 8-byte aligned; it points into the mapped
// file or into the reader's buffer and stays valid until the reader's next
// call to Next() or its destruction.
struct Frame {
  FrameHeader header;
  uint64_t offset = 0;  // of the frame header within the segment
  std::string_view payload;
};

// Why a frame could not be read.
struct Damage {
  uint64_t offset = 0;  // where the damaged frame starts
  std::string reason;
  // True if no intact frame follows in this segment: the damage reaches the
  // end of the file (a torn write, if this is the newest segment).
  bool to_end_of_file = false;
  // Offset of the next intact frame when !to_end_of_file.
  uint64_t next_intact_offset = 0;
};

// Thread safety: not synchronized; one thread at a time.
//
// A file cut under the reader: another process may cut the segment while it
// is open (the host's recovery cuts a torn tail off the newest segment, and
// rewrites from offset 0 a segment whose catalog frame was torn). Reading
// through the default Env, the reader never dies of it (no SIGBUS, see
// cdc/mapping_guard.h): the cut bytes read as zeros (or as a short read),
// which is damage to the end of the file as the reader sees it, never a
// frame. Grew() then returns true with !*in_place, and an open afresh sees
// the shorter file and whatever was appended since. Frames returned before
// stay valid: recovery only ever cuts from the first damaged frame on.
class SegmentReader {
 public:
  enum class Result { kFrame, kEnd, kDamaged, kError };

  // Opens DIR/<name>, reads the file size once (frames appended later are not
  // seen) and verifies the header. Corruption if the header is damaged or
  // belongs to another DB (db_id mismatch; pass nullptr to skip that check)
  // or names another first sequence than the file name.
  static Status Open(leveldb::Env* env, const std::string& dir, uint64_t first_sequence,
                     const uint8_t* db_id, std::unique_ptr<SegmentReader>* reader);

  ~SegmentReader();

  // Reads the frame at the current offset and advances past it.
  //   kFrame:   *frame is set.
  //   kEnd:     the file ends exactly at the current offset.
  //   kDamaged: *damage is set; the offset does not move (call SkipDamage to
  //             continue after it).
  //   kError:   an I/O error, see status().
  Result Next(Frame* frame, Damage* damage);
  // Moves to damage.next_intact_offset (or end of file).
  void SkipDamage(const Damage& damage);
  // Positions at `offset`. REQUIRES: a frame boundary previously returned.
  void SeekToOffset(uint64_t offset) { offset_ = offset; }

  // True if the frame's payload is in the reader's own buffer (the file is
  // read with pread, not mapped): it is then overwritten by the next read.
  bool PayloadBuffered(const Frame& frame) const {
    const char* p = frame.payload.data();
    const char* b = reinterpret_cast<const char*>(buf_.data());
    return p >= b && p < b + buf_.size() * sizeof(uint64_t);
  }

  // Looks at the file's size again (a stat). True if it changed, or if the
  // file was cut under the reader's mapping (whatever its size now): then,
  // if it grew, the new bytes lie within the reader's mapping and the file
  // is still the one opened (same salt), they are readable at once
  // (*in_place); otherwise the caller must open the segment afresh. Views
  // handed out before stay valid either way.
  bool Grew(leveldb::Env* env, bool* in_place);

  uint64_t offset() const { return offset_; }
  uint64_t file_size() const { return size_; }
  const std::string& path() const { return path_; }
  const std::string& file_name() const { return name_; }
  uint64_t first_sequence() const { return first_sequence_; }
  // The salt of the segment header, which seeds every frame hash.
  uint64_t salt() const { return salt_; }
  const Status& status() const { return status_; }

 private:
  SegmentReader() = default;
  // Reads n bytes at off into an aligned view (mapped or buffered).
  Status Read(uint64_t off, size_t n, std::string_view* out, std::vector<uint64_t>* buf) {
    if (mapped_ != nullptr && off <= size_ && n <= size_ - off) {
      *out = std::string_view(mapped_ + off, n);
      return Status::OK();
    }
    return ReadFromFile(off, n, out, buf);
  }
  // Maps the file (guarded) or, failing that, keeps it open for pread.
  Status MapOrOpen();
  Status ReadFromFile(uint64_t off, size_t n, std::string_view* out, std::vector<uint64_t>* buf);
  // True if an intact frame starts at off.
  bool IntactFrameAt(uint64_t off);
  // Gives back the pages of the mapping that the reader has passed (see
  // segment_reader.cc).
  void DropPassedPages();
  void Prefetch();
  static constexpr uint64_t kPrefetchAhead = 2048;
  // Finds the first intact frame after `off`; size_ if none. Linear in the
  // bytes scanned: a candidate offset must pass the header check before its
  // payload is hashed.
  uint64_t FindNextIntact(uint64_t off);

  leveldb::RandomAccessFile* file_ = nullptr;  // other Envs than the default
  // The file mapped read-only (map_bytes_ >= size_), when read through the
  // default Env: reads are then pointer arithmetic, and frames appended
  // later become readable by raising size_. Registered with the SIGBUS
  // guard (slot guard_), since another process may cut the file under it.
  const char* mapped_ = nullptr;
  uint64_t map_bytes_ = 0;
  uint64_t dropped_ = 0;     // the mapping's pages below this were given back
  uint64_t prefetched_ = 0;  // the mapping's bytes below this were prefetched
  int guard_ = -1;
  int fd_ = -1;  // the default Env's file when it is not mapped: pread
  std::string path_;
  std::string name_;
  uint64_t first_sequence_ = 0;
  uint64_t salt_ = 0;
  uint64_t size_ = 0;
  uint64_t offset_ = kSegmentHeaderSize;
  std::vector<uint64_t> buf_;        // payloads when the file is not mapped
  std::vector<uint64_t> probe_buf_;  // used while scanning past damage
  Status status_;
};

// Sorted first sequence numbers of the segment files in `dir`.
Status ListSegments(leveldb::Env* env, const std::string& dir, std::vector<uint64_t>* firsts);

}  // namespace runnel::log

#endif  // RUNNEL_CDC_SEGMENT_READER_H_
