// Copyright 2026 The runnel Authors.

#include "cdc/segment_reader.h"

#include <fcntl.h>
#include <leveldb/env.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "cdc/env_util.h"
#include "cdc/mapping_guard.h"

namespace runnel::log {

namespace {
// Address space a mapped reader reserves: the default segment size and a
// little more (a segment may end with one frame past the size).
constexpr uint64_t kMapReserveBytes = (64ull << 20) + (1ull << 20);
// A sequential reader gives back the pages it has passed in steps of this
// many bytes, keeping the last kKeepBehindBytes (where the views of the
// batch in hand usually are) mapped in.
constexpr uint64_t kDropStepBytes = 4ull << 20;
constexpr uint64_t kKeepBehindBytes = 2ull << 20;
}  // namespace

Status SegmentReader::Open(leveldb::Env* env, const std::string& dir, uint64_t first_sequence,
                           const uint8_t* db_id, std::unique_ptr<SegmentReader>* reader) {
  std::unique_ptr<SegmentReader> r(new SegmentReader);
  r->name_ = SegmentFileName(first_sequence);
  r->path_ = dir + "/" + r->name_;
  r->first_sequence_ = first_sequence;
  Status s = FromLevelDB(env->GetFileSize(r->path_, &r->size_), r->path_);
  if (!s.ok()) return s;
  if (env == leveldb::Env::Default()) {
    s = r->MapOrOpen();
    if (!s.ok()) return s;
  } else {
    // Other Envs (tests inject faults, fuzzers force reads) are read through.
    s = FromLevelDB(env->NewRandomAccessFile(r->path_, &r->file_), r->path_);
    if (!s.ok()) return s;
  }
  if (r->size_ < kSegmentHeaderSize) {
    return Status::Corruption(r->name_ + ": file of " + std::to_string(r->size_) +
                              " bytes is shorter than a segment header");
  }
  std::string_view raw;
  std::vector<uint64_t> buf;
  s = r->Read(0, kSegmentHeaderSize, &raw, &buf);
  if (!s.ok()) return s;
  SegmentHeader header;
  s = DecodeSegmentHeader(raw, &header);
  if (!s.ok()) return s.WithContext(r->name_);
  if (db_id != nullptr && std::memcmp(header.db_id, db_id, kDbIdSize) != 0) {
    return Status::Corruption(r->name_ + ": segment belongs to another DB");
  }
  if (header.first_sequence != first_sequence) {
    return Status::Corruption(r->name_ + ": header says first sequence " +
                              std::to_string(header.first_sequence));
  }
  r->salt_ = header.salt;
  *reader = std::move(r);
  return Status::OK();
}

Status SegmentReader::MapOrOpen() {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    // NotFound as from the Env: callers take it for a segment that
    // retention deleted meanwhile.
    const int err = errno;
    const std::string msg = path_ + ": open: " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
  }
  if (size_ == 0) return Status::OK();
  // Our own read-only mapping: a stream reader walks frames one after
  // another, and a read through the Env (a virtual call and a Status per
  // read) cost as much per frame as the rest of the framing. It reserves
  // room for the segment to grow to the usual segment size, so a consumer
  // waiting at the tail sees new frames after a stat instead of an open, a
  // mmap and a munmap per wake-up. Reads stop at size_, a size the file
  // had; if another process has cut the file below it since (recovery of a
  // torn tail), the guard turns the fault into zeros (cdc/mapping_guard.h).
  // Without a mapping (none free, or no guard) the file is read with
  // pread(2), which a cut file answers with a short read: never with the
  // Env's random-access file, which maps the file too, unguarded.
  const uint64_t bytes = std::max<uint64_t>(size_, kMapReserveBytes);
  void* p = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) return Status::OK();
  guard_ = GuardMapping(p, bytes);
  if (guard_ < 0) {
    ::munmap(p, bytes);
    return Status::OK();
  }
  ::close(fd_);
  fd_ = -1;
  mapped_ = static_cast<const char*>(p);
  map_bytes_ = bytes;
  return Status::OK();
}

SegmentReader::~SegmentReader() {
  if (mapped_ != nullptr) {
    UnguardMapping(guard_);
    ::munmap(const_cast<char*>(mapped_), map_bytes_);
  }
  if (fd_ >= 0) ::close(fd_);
  delete file_;
}

bool SegmentReader::Grew(leveldb::Env* env, bool* in_place) {
  uint64_t size = 0;
  *in_place = false;
  // Zero pages replaced part of the mapping: whatever the size is now, only
  // a fresh mapping shows the file's bytes there.
  if (mapped_ != nullptr && MappingWasCut(guard_)) return true;
  if (!env->GetFileSize(path_, &size).ok() || size == size_) return false;
  // A file that shrank was cut by recovery (a torn tail), or rewritten under
  // the same name (a new segment whose catalog frame was torn): only a
  // fresh open sees it as it is now. A rewrite that is already longer than
  // our view has a new salt in the same place; the mapping shows it.
  if (size > size_ && mapped_ != nullptr && size <= map_bytes_) {
    SegmentHeader now;
    if (DecodeSegmentHeader(std::string_view(mapped_, kSegmentHeaderSize), &now).ok() &&
        now.salt == salt_) {
      size_ = size;
      *in_place = true;
    }
  }
  return true;
}

Status SegmentReader::ReadFromFile(uint64_t off, size_t n, std::string_view* out,
                                   std::vector<uint64_t>* buf) {
  auto short_read = [&] {
    return Status::IOError(path_ + ": short read at offset " + std::to_string(off));
  };
  if (file_ == nullptr && fd_ < 0) return short_read();  // mapped, past the end
  // Reading into a uint64_t buffer keeps copied payloads word-aligned; a
  // mapped file returns a pointer into the mapping, aligned because frames
  // start at multiples of 8.
  const size_t words = (n + 7) / 8 + 1;
  if (buf->size() < words) buf->resize(words);
  char* scratch = reinterpret_cast<char*>(buf->data());
  if (fd_ >= 0) {
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Status::IOError(path_ + ": pread: " + std::strerror(errno));
      if (r == 0) return short_read();
      got += static_cast<size_t>(r);
    }
    *out = std::string_view(scratch, n);
    return Status::OK();
  }
  leveldb::Slice result;
  leveldb::Status s = file_->Read(off, n, &result, scratch);
  if (!s.ok()) return FromLevelDB(s, path_);
  if (result.size() != n) return short_read();
  *out = std::string_view(result.data(), result.size());
  return Status::OK();
}

bool SegmentReader::IntactFrameAt(uint64_t off) {
  if (off + kFrameHeaderSize > size_) return false;
  std::string_view raw;
  if (!Read(off, kFrameHeaderSize, &raw, &probe_buf_).ok()) return false;
  const FrameHeader h = DecodeFrameHeader(raw.data());
  if (!h.Plausible() || off + h.frame_size() > size_) return false;
  // Without this, damage full of plausible headers whose lengths reach the
  // end of the file would hash O(n) bytes per candidate: O(n^2) in all.
  if (!HeaderCheckMatches(raw.data(), salt_, off)) return false;
  if (!Read(off, kFrameHeaderSize + h.length, &raw, &probe_buf_).ok()) {
    return false;
  }
  return VerifyFrame(raw.data(), h.length, salt_, off);
}

uint64_t SegmentReader::FindNextIntact(uint64_t off) {
  for (uint64_t q = off + 8; q + kFrameHeaderSize <= size_; q += 8) {
    if (IntactFrameAt(q)) return q;
  }
  return size_;
}

SegmentReader::Result SegmentReader::Next(Frame* frame, Damage* damage) {
  if (offset_ >= size_) return Result::kEnd;
  auto damaged = [&](std::string reason) {
    damage->offset = offset_;
    damage->reason = std::move(reason);
    damage->next_intact_offset = FindNextIntact(offset_);
    damage->to_end_of_file = damage->next_intact_offset >= size_;
    return Result::kDamaged;
  };
  const uint64_t remaining = size_ - offset_;
  if (remaining < kFrameHeaderSize) {
    return damaged("frame header cut short (" + std::to_string(remaining) + " bytes left)");
  }
  if (mapped_ != nullptr) Prefetch();
  std::string_view raw;
  status_ = Read(offset_, kFrameHeaderSize, &raw, &buf_);
  if (!status_.ok()) return Result::kError;
  const FrameHeader h = DecodeFrameHeader(raw.data());
  if (!h.Plausible()) return damaged("implausible frame header");
  if (h.frame_size() > remaining) {
    return damaged("frame of " + std::to_string(h.length) + " payload bytes runs past end of file");
  }
  // Header and payload in one read (one pointer, when the file is mapped),
  // checked in one hash pass.
  status_ = Read(offset_, kFrameHeaderSize + h.length, &raw, &buf_);
  if (!status_.ok()) return Result::kError;
  if (!VerifyFrame(raw.data(), h.length, salt_, offset_)) {
    return damaged("frame checksum mismatch");
  }
  frame->header = h;
  frame->offset = offset_;
  frame->payload = raw.substr(kFrameHeaderSize);
  offset_ += h.frame_size();
  if (mapped_ != nullptr && offset_ >= dropped_ + kDropStepBytes + kKeepBehindBytes) {
    DropPassedPages();
  }
  return Result::kFrame;
}

// Reading a log is a walk from memory (page cache) to the CPU that the
// hash of each frame is the first to touch; the hardware prefetcher stops at
// every 4 KiB page boundary. Asking for the bytes kPrefetchAhead ahead keeps
// the walk from waiting on each miss.
void SegmentReader::Prefetch() {
  const uint64_t want = std::min<uint64_t>(size_, offset_ + kPrefetchAhead);
  if (prefetched_ < offset_) prefetched_ = offset_ & ~uint64_t{63};
  for (; prefetched_ < want; prefetched_ += 64) __builtin_prefetch(mapped_ + prefetched_);
}

// Every page of the mapping that a read touched stays in the process's RSS
// until the mapping goes: a reader that walks a whole segment (a mapping's
// lane keeps its cursor, and so its segment, from batch to batch) would
// hold up to the segment size (64 MiB) of file pages. MADV_DONTNEED only
// takes them out of this process's page tables: the mapping is MAP_SHARED
// and read-only, so the bytes stay in the page cache and a later touch (a
// view still held by a batch, a seek back) faults them in again from the
// file, unchanged. Views stay valid.
void SegmentReader::DropPassedPages() {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t end = (offset_ - kKeepBehindBytes) / page * page;
  if (end <= dropped_) return;
  ::madvise(const_cast<char*>(mapped_) + dropped_, end - dropped_, MADV_DONTNEED);
  dropped_ = end;
}

void SegmentReader::SkipDamage(const Damage& damage) {
  offset_ = damage.to_end_of_file ? size_ : damage.next_intact_offset;
}

Status ListSegments(leveldb::Env* env, const std::string& dir, std::vector<uint64_t>* firsts) {
  std::vector<std::string> children;
  Status s = FromLevelDB(env->GetChildren(dir, &children), dir);
  if (!s.ok()) return s;
  firsts->clear();
  for (const std::string& name : children) {
    uint64_t first;
    if (ParseSegmentFileName(name, &first)) firsts->push_back(first);
  }
  std::sort(firsts->begin(), firsts->end());
  return Status::OK();
}

}  // namespace runnel::log
