// Copyright 2026 The runnel Authors.
//
// Retention: deletes the oldest log segments once they are durable in the
// index and either past the stream retention or over the log's size cap,
// never past a retention floor.

#include <leveldb/env.h>
#include <sys/stat.h>

#include <chrono>
#include <limits>

#include "cdc/env_util.h"
#include "cdc/log_writer.h"
#include "cdc/segment_reader.h"
#include "db/db_impl.h"
#include "db/index_env.h"
#include "util/clock.h"

namespace runnel {

void DBImpl::KickRetention() {
  {
    MutexLock lock(&retention_mu_);
    retention_kick_ = true;
  }
  retention_cv_.SignalAll();
}

void DBImpl::RetentionLoop() {
  MutexLock lock(&retention_mu_);
  while (!retention_stop_) {
    // Wakes when stopped or kicked, or after retention_check_seconds.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options_.retention_check_seconds);
    while (!retention_stop_ && !retention_kick_) {
      if (!retention_cv_.WaitUntil(&retention_mu_, deadline)) break;
    }
    if (retention_stop_) break;
    retention_kick_ = false;
    retention_mu_.Unlock();
    Status s = RunRetention(nullptr);
    if (!s.ok()) Info("retention: " + s.ToString());
    retention_mu_.Lock();
  }
}

Status DBImpl::RunRetention(int* deleted) {
  if (deleted != nullptr) *deleted = 0;
  Status s = CheckOpen();
  if (!s.ok()) return s;
  MutexLock run(&retention_run_mu_);
  ReleaseSnapshotFloors(index_env_->durable_sequence());
  uint64_t floor = std::numeric_limits<uint64_t>::max();
  {
    MutexLock lock(&retention_mu_);
    for (const auto& [owner, seq] : floors_) floor = std::min(floor, seq);
  }
  std::vector<uint64_t> segs;
  s = log::ListSegments(env_, wal_dir_, &segs);
  if (!s.ok()) return s;
  const uint64_t durable = index_env_->durable_sequence();
  const uint64_t active = log_->current_segment();
  std::vector<uint64_t> sizes(segs.size(), 0);
  uint64_t total = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    env_->GetFileSize(wal_dir_ + "/" + log::SegmentFileName(segs[i]), &sizes[i]);
    total += sizes[i];
  }
  const int64_t now = NowMicros(env_);
  for (size_t i = 0; i + 1 < segs.size() && segs[i] < active; ++i) {
    const uint64_t last_in_segment = segs[i + 1] - 1;
    // (a) Everything in it is durable in the index, and nobody pinned it.
    if (last_in_segment > durable || last_in_segment >= floor) break;
    // (b) Past retention (its newest frame was written at its mtime), or the
    // log is over its size cap.
    const std::string path = wal_dir_ + "/" + log::SegmentFileName(segs[i]);
    bool expired = false;
    if (options_.retention_seconds > 0) {
      struct stat st;
      if (::stat(path.c_str(), &st) == 0) {
        expired = now - int64_t{st.st_mtime} * 1000000 >=
                  static_cast<int64_t>(options_.retention_seconds) * 1000000;
      }
    }
    const bool over_cap = options_.max_log_bytes > 0 && total > options_.max_log_bytes;
    if (!expired && !over_cap) break;
    s = FromLevelDB(env_->RemoveFile(path), path);
    if (!s.ok()) return s;
    first_available_.store(segs[i + 1]);
    total -= sizes[i];
    if (deleted != nullptr) ++*deleted;
    Info("retention: deleted segment " + log::SegmentFileName(segs[i]) +
         (expired ? " (past retention)" : " (over size cap)"));
  }
  return Status::OK();
}

}  // namespace runnel
