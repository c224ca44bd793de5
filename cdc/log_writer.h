// Copyright 2026 The runnel Authors.
//
// LogWriter: appends encoded frames to the newest segment, rotates segments
// and makes them durable.
//
// Thread safety: every method may be called from any thread; an internal
// mutex (io_mu_) serializes file I/O. That mutex is only ever held around
// file operations, never while calling into LevelDB or waiting for the commit
// lock, so LevelDB's compaction thread can call SyncAppended() (through the
// index Env) while the commit leader is blocked inside LevelDB.
//
// Errors are sticky: after a failed write or fsync every later Append and
// Sync returns the first error, so nothing is acknowledged that might not be
// on disk.

#ifndef RUNNEL_CDC_LOG_WRITER_H_
#define RUNNEL_CDC_LOG_WRITER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "cdc/log_format.h"
#include "runnel/status.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace leveldb {
class Env;
class WritableFile;
}  // namespace leveldb

namespace runnel::log {

class LogWriter {
 public:
  // `dir` is the segment directory; `db_id` has kDbIdSize bytes.
  LogWriter(leveldb::Env* env, std::string dir, const uint8_t* db_id, uint64_t segment_bytes);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Continues the existing segment `first_sequence`, which holds `size`
  // intact bytes and frames up to `last_sequence`; `salt` is from its header.
  Status Reopen(uint64_t first_sequence, uint64_t size, uint64_t last_sequence, uint64_t salt);
  // Creates a new segment whose first frame will have `first_sequence`.
  Status StartSegment(uint64_t first_sequence);

  // Appends whole unsealed frames (log::AppendFrame) holding sequences
  // [first_sequence, last_sequence] and hands them to the OS (write(2); a
  // process crash cannot lose them). Switches to a new segment first if the
  // current one would exceed the segment size. Seals *frames in place for
  // the segment and offset they land at (log::SealFrames). Does not fsync.
  Status Append(std::string* frames, uint64_t first_sequence, uint64_t last_sequence);
  // fsyncs everything appended so far.
  Status Sync();
  // Sync() unless everything appended is already durable.
  Status SyncAppended();

  // Called (outside io_mu_) with the first sequence of each segment created
  // by a rotation; the previous segment is durable and closed by then.
  void SetRotationListener(std::function<void(uint64_t)> listener) {
    rotation_listener_ = std::move(listener);
  }
  // Returns the unsealed frames that open every new segment, right after its
  // header (the catalog snapshot); called with io_mu_ held, by the thread that
  // starts the segment. Set before the first segment is started.
  void SetSegmentPreamble(std::function<std::string(uint64_t)> preamble) {
    preamble_ = std::move(preamble);
  }

  uint64_t appended_sequence() const { return appended_.load(); }
  uint64_t synced_sequence() const { return synced_.load(); }
  uint64_t current_segment() const { return current_first_.load(); }
  // Syncs and closes the current segment.
  Status Close();

 private:
  Status SyncLocked() REQUIRES(io_mu_);
  Status StartSegmentLocked(uint64_t first_sequence) REQUIRES(io_mu_);

  leveldb::Env* const env_;
  const std::string dir_;
  uint8_t db_id_[kDbIdSize];
  const uint64_t segment_bytes_;
  std::function<void(uint64_t)> rotation_listener_;
  std::function<std::string(uint64_t)> preamble_;

  Mutex io_mu_;
  leveldb::WritableFile* file_ GUARDED_BY(io_mu_) = nullptr;
  uint64_t size_ GUARDED_BY(io_mu_) = 0;
  uint64_t salt_ GUARDED_BY(io_mu_) = 0;  // the segment's
  Status error_ GUARDED_BY(io_mu_);       // sticky
  std::atomic<uint64_t> current_first_{0};
  std::atomic<uint64_t> appended_{0};
  std::atomic<uint64_t> synced_{0};
};

}  // namespace runnel::log

#endif  // RUNNEL_CDC_LOG_WRITER_H_
