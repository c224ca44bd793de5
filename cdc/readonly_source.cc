// Copyright 2026 The runnel Authors.
//
// A read-only view of a DB's log for another process: the catalog is rebuilt
// from the snapshot that opens the oldest segment plus the metadata frames
// after it; the tail is followed by scanning frame headers as the files grow,
// woken by inotify. Nothing is locked or written.

#include <leveldb/env.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "cdc/codec.h"
#include "cdc/identity.h"
#include "cdc/segment_reader.h"
#include "cdc/stream_reader.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace runnel {
namespace {

class ReadOnlySource final : public LogSource {
 public:
  explicit ReadOnlySource(std::string dir) : dir_(std::move(dir)), wal_dir_(dir_ + "/wal") {}

  Status Init() {
    Status s = ReadIdentity(env_, dir_, &identity_);
    if (s.IsNotFound()) {
      return Status::NotFound(dir_ + " is not a runnel DB (no IDENTITY)");
    }
    if (!s.ok()) return s;
    MutexLock lock(&mu_);
    return RefreshLocked();
  }

  leveldb::Env* env() override { return env_; }
  const std::string& wal_dir() override { return wal_dir_; }
  const uint8_t* db_id() override { return identity_.id; }
  const std::string& region() override { return identity_.region; }
  const std::string& account_id() override { return identity_.account; }

  Status Catalog(std::shared_ptr<const runnel::Catalog>* catalog) override {
    MutexLock lock(&mu_);
    Status s = RefreshLocked();
    if (!s.ok()) return s;
    *catalog = catalog_ ? catalog_ : std::make_shared<const runnel::Catalog>(log::CatalogData());
    return Status::OK();
  }

  Status LastSequence(SequenceNumber* last) override {
    MutexLock lock(&mu_);
    Status s = RefreshLocked();
    *last = last_;
    return s;
  }

  Status WaitFor(SequenceNumber sequence, std::chrono::steady_clock::time_point deadline) override {
    // One inotify instance per wait: concurrent waiters must not drain each
    // other's events. It is set up before the first scan, so a write after
    // that scan is always seen.
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0 || ::inotify_add_watch(fd, wal_dir_.c_str(),
                                      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE) < 0) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      return Status::IOError(wal_dir_ + ": inotify: " + std::strerror(err));
    }
    Status result = WaitWith(fd, sequence, deadline);
    ::close(fd);
    return result;
  }

 private:
  Status WaitWith(int fd, SequenceNumber sequence, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      SequenceNumber last = 0;
      Status s = LastSequence(&last);
      if (!s.ok()) return s;
      if (last >= sequence) return Status::OK();
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        return Status::TimedOut("no sequence " + std::to_string(sequence) +
                                " committed before the deadline");
      }
      // Sleep until the log directory changes (a write, a new segment), not
      // for a fixed interval. Events are drained only after poll returns and
      // before the next scan, so a write that lands between our scan and the
      // poll is still queued and wakes us at once.
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      struct pollfd p = {fd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<int64_t>(ms + 1, INT32_MAX)));
      char buf[4096];
      while (::read(fd, buf, sizeof(buf)) > 0) {
      }
    }
  }

  // Scans frames appended since the last call.
  Status RefreshLocked() REQUIRES(mu_) {
    std::vector<uint64_t> segs;
    Status s = log::ListSegments(env_, wal_dir_, &segs);
    if (!s.ok() || segs.empty()) return s;
    if (std::find(segs.begin(), segs.end(), segment_) == segs.end()) {
      // First call, or retention removed the segment we were in: start over
      // from the oldest segment and its catalog snapshot.
      segment_ = segs.front();
      offset_ = log::kSegmentHeaderSize;
      catalog_.reset();
    }
    size_t idx = static_cast<size_t>(std::find(segs.begin(), segs.end(), segment_) - segs.begin());
    for (;;) {
      std::unique_ptr<log::SegmentReader> reader;
      s = log::SegmentReader::Open(env_, wal_dir_, segs[idx], identity_.id, &reader);
      if (s.IsNotFound() || (!s.ok() && idx + 1 == segs.size())) {
        return Status::OK();  // deleted meanwhile, or a header being written
      }
      if (!s.ok()) return s;
      reader->SeekToOffset(offset_);
      log::Frame frame;
      log::Damage damage;
      for (;;) {
        auto r = reader->Next(&frame, &damage);
        if (r == log::SegmentReader::Result::kError) return reader->status();
        if (r == log::SegmentReader::Result::kDamaged) {
          // At the end of the newest segment this is a write in progress.
          if (damage.to_end_of_file && idx + 1 == segs.size()) {
            return Status::OK();
          }
          return Status::Corruption("wal/" + reader->file_name() + " offset " +
                                    std::to_string(damage.offset) + ": " + damage.reason);
        }
        if (r == log::SegmentReader::Result::kEnd) break;
        const log::FrameHeader& h = frame.header;
        if (h.type == log::kCatalogFrame && !catalog_) {
          log::CatalogData data;
          s = log::DecodeCatalog(frame.payload, &data);
          if (!s.ok()) return s.WithContext("wal/" + reader->file_name());
          catalog_ = std::make_shared<const runnel::Catalog>(std::move(data));
        } else if (h.type == log::kMetaFrame && catalog_) {
          log::MetaData meta;
          s = log::DecodeMeta(frame.payload, &meta);
          if (!s.ok()) return s.WithContext("wal/" + reader->file_name());
          catalog_ = catalog_->Apply(meta, h.first_sequence);
        }
        if (h.count > 0) last_ = std::max(last_, h.last_sequence());
        offset_ = reader->offset();
      }
      if (idx + 1 >= segs.size()) return Status::OK();
      ++idx;
      segment_ = segs[idx];
      offset_ = log::kSegmentHeaderSize;
    }
  }

  leveldb::Env* const env_ = leveldb::Env::Default();
  const std::string dir_;
  const std::string wal_dir_;
  Identity identity_;

  Mutex mu_;
  std::shared_ptr<const runnel::Catalog> catalog_ GUARDED_BY(mu_);
  SequenceNumber last_ GUARDED_BY(mu_) = 0;
  uint64_t segment_ GUARDED_BY(mu_) = 0;
  uint64_t offset_ GUARDED_BY(mu_) = 0;
};

}  // namespace

Status OpenReadOnlySource(const std::string& dir, std::unique_ptr<LogSource>* source) {
  auto s = std::make_unique<ReadOnlySource>(dir);
  Status st = s->Init();
  if (!st.ok()) return st;
  *source = std::move(s);
  return Status::OK();
}

Status StreamReader::OpenReadOnly(const std::string& dir, std::unique_ptr<StreamReader>* reader) {
  std::unique_ptr<LogSource> source;
  Status s = OpenReadOnlySource(dir, &source);
  if (!s.ok()) return s;
  *reader = std::make_unique<StreamReaderImpl>(std::move(source));
  return Status::OK();
}

}  // namespace runnel
