// Copyright 2026 The runnel Authors.

#include "cdc/log_writer.h"

#include <leveldb/env.h>

#include <cstring>

#include "cdc/env_util.h"
#include "util/random.h"

namespace runnel::log {

LogWriter::LogWriter(leveldb::Env* env, std::string dir, const uint8_t* db_id,
                     uint64_t segment_bytes)
    : env_(env), dir_(std::move(dir)), segment_bytes_(segment_bytes) {
  std::memcpy(db_id_, db_id, kDbIdSize);
}

LogWriter::~LogWriter() { Close().ok(); }  // errors were reported by Close()

Status LogWriter::Reopen(uint64_t first_sequence, uint64_t size, uint64_t last_sequence,
                         uint64_t salt) {
  MutexLock lock(&io_mu_);
  const std::string path = dir_ + "/" + SegmentFileName(first_sequence);
  leveldb::WritableFile* file = nullptr;
  Status s = FromLevelDB(env_->NewAppendableFile(path, &file), path);
  if (!s.ok()) return s;
  file_ = file;
  size_ = size;
  salt_ = salt;
  current_first_ = first_sequence;
  appended_ = last_sequence;
  synced_ = last_sequence;  // recovery read it back from disk
  return Status::OK();
}

Status LogWriter::StartSegment(uint64_t first_sequence) {
  MutexLock lock(&io_mu_);
  appended_ = first_sequence - 1;
  synced_ = first_sequence - 1;
  return StartSegmentLocked(first_sequence);
}

Status LogWriter::StartSegmentLocked(uint64_t first_sequence) {
  const std::string path = dir_ + "/" + SegmentFileName(first_sequence);
  leveldb::WritableFile* file = nullptr;
  Status s = FromLevelDB(env_->NewWritableFile(path, &file), path);
  if (!s.ok()) return s;
  std::string header;
  SegmentHeader h;
  std::memcpy(h.db_id, db_id_, kDbIdSize);
  h.first_sequence = first_sequence;
  // Unpredictable to whoever writes values (see FrameSeed); from the
  // kernel's generator, never an exception.
  h.salt = RandomU64();
  EncodeSegmentHeader(h, &header);
  if (preamble_) {
    header += preamble_(first_sequence);
    SealFrames(header.data() + kSegmentHeaderSize, header.size() - kSegmentHeaderSize, h.salt,
               kSegmentHeaderSize);
  }
  s = FromLevelDB(file->Append(header), path);
  if (s.ok()) s = FromLevelDB(file->Flush(), path);
  // The new directory entry must survive power loss before any frame in the
  // file is acknowledged as durable.
  if (s.ok()) s = SyncDirectory(dir_);
  if (!s.ok()) {
    delete file;
    return s;
  }
  file_ = file;
  size_ = header.size();
  salt_ = h.salt;
  current_first_ = first_sequence;
  return Status::OK();
}

Status LogWriter::Append(std::string* frames, uint64_t first_sequence, uint64_t last_sequence) {
  bool rotated = false;
  {
    MutexLock lock(&io_mu_);
    if (!error_.ok()) return error_;
    if (file_ == nullptr) return Status::FailedPrecondition("log is closed");
    if (size_ > kSegmentHeaderSize && size_ + frames->size() > segment_bytes_) {
      // A segment is durable before the next one exists, so a torn write can
      // only ever be at the end of the newest segment.
      Status s = SyncLocked();
      if (s.ok()) s = FromLevelDB(file_->Close());
      if (!s.ok()) {
        error_ = s;
        return s;
      }
      delete file_;
      file_ = nullptr;
      s = StartSegmentLocked(first_sequence);
      if (!s.ok()) {
        error_ = s;
        return s;
      }
      rotated = true;
    }
    // Sealed here, where the segment and offset are known; hashing under
    // io_mu_ costs what hashing before it would.
    SealFrames(frames->data(), frames->size(), salt_, size_);
    Status s = FromLevelDB(file_->Append(leveldb::Slice(frames->data(), frames->size())));
    if (s.ok()) s = FromLevelDB(file_->Flush());
    if (!s.ok()) {
      error_ = s.WithContext("log append");
      return error_;
    }
    size_ += frames->size();
    appended_ = last_sequence;
  }
  if (rotated && rotation_listener_) rotation_listener_(first_sequence);
  return Status::OK();
}

Status LogWriter::SyncLocked() {
  if (!error_.ok()) return error_;
  if (file_ == nullptr) return Status::FailedPrecondition("log is closed");
  const uint64_t target = appended_.load();
  Status s = FromLevelDB(file_->Sync());
  if (!s.ok()) {
    // After a failed fsync the kernel may have dropped the dirty pages; the
    // only safe answer is to refuse everything from now on.
    error_ = s.WithContext("log fsync");
    return error_;
  }
  synced_ = target;
  return Status::OK();
}

Status LogWriter::Sync() {
  MutexLock lock(&io_mu_);
  return SyncLocked();
}

Status LogWriter::SyncAppended() {
  if (synced_.load() >= appended_.load()) return Status::OK();
  MutexLock lock(&io_mu_);
  if (synced_.load() >= appended_.load()) return error_;
  return SyncLocked();
}

Status LogWriter::Close() {
  MutexLock lock(&io_mu_);
  if (file_ == nullptr) return Status::OK();
  Status s = error_.ok() ? SyncLocked() : error_;
  Status c = FromLevelDB(file_->Close());
  delete file_;
  file_ = nullptr;
  return s.ok() ? c : s;
}

}  // namespace runnel::log
