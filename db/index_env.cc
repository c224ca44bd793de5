// Copyright 2026 The runnel Authors.

#include "db/index_env.h"

#include <cstdlib>

namespace runnel {
namespace {

// LevelDB names its write-ahead logs <number>.log.
bool ParseLevelDBLog(const std::string& path, uint64_t* number) {
  const size_t slash = path.rfind('/');
  const std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".log") != 0) {
    return false;
  }
  uint64_t n = 0;
  for (size_t i = 0; i + 4 < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    n = n * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *number = n;
  return true;
}

class DiscardingFile final : public leveldb::WritableFile {
 public:
  leveldb::Status Append(const leveldb::Slice&) override { return {}; }
  leveldb::Status Close() override { return {}; }
  leveldb::Status Flush() override { return {}; }
  leveldb::Status Sync() override { return {}; }
};

// Syncs the runnel log before the file itself.
class LogFirstFile final : public leveldb::WritableFile {
 public:
  LogFirstFile(leveldb::WritableFile* base, std::function<leveldb::Status()> sync_log)
      : base_(base), sync_log_(std::move(sync_log)) {}
  ~LogFirstFile() override { delete base_; }
  leveldb::Status Append(const leveldb::Slice& d) override { return base_->Append(d); }
  leveldb::Status Close() override { return base_->Close(); }
  leveldb::Status Flush() override { return base_->Flush(); }
  leveldb::Status Sync() override {
    leveldb::Status s = sync_log_();
    if (!s.ok()) return s;
    return base_->Sync();
  }

 private:
  leveldb::WritableFile* const base_;
  const std::function<leveldb::Status()> sync_log_;
};

}  // namespace

void IndexEnv::SetHooks(std::function<leveldb::Status()> sync_log,
                        std::function<uint64_t()> applied_sequence) {
  MutexLock lock(&mu_);
  sync_log_ = std::move(sync_log);
  applied_ = std::move(applied_sequence);
}

void IndexEnv::NoteDurable(uint64_t sequence) {
  uint64_t cur = durable_.load();
  while (cur < sequence && !durable_.compare_exchange_weak(cur, sequence)) {
  }
}

leveldb::Status IndexEnv::SyncLog() {
  std::function<leveldb::Status()> hook;
  {
    MutexLock lock(&mu_);
    hook = sync_log_;
  }
  return hook ? hook() : leveldb::Status::OK();
}

leveldb::Status IndexEnv::Wrap(leveldb::Status s, leveldb::WritableFile** r) {
  if (!s.ok()) return s;
  *r = new LogFirstFile(*r, [this] { return SyncLog(); });
  return s;
}

leveldb::Status IndexEnv::NewWritableFile(const std::string& f, leveldb::WritableFile** r) {
  uint64_t number;
  if (ParseLevelDBLog(f, &number)) {
    MutexLock lock(&mu_);
    // Called inside LevelDB's Write at a memtable switch: everything applied
    // before this write is in the memtable being retired.
    log_starts_[number] = applied_ ? applied_() : 0;
    // The empty file must exist: LevelDB finds obsolete logs by listing the
    // directory, and their deletion is how we learn what is durable.
    leveldb::WritableFile* real = nullptr;
    leveldb::Status s = target()->NewWritableFile(f, &real);
    if (!s.ok()) return s;
    delete real;
    *r = new DiscardingFile;
    return leveldb::Status::OK();
  }
  return Wrap(target()->NewWritableFile(f, r), r);
}

leveldb::Status IndexEnv::NewAppendableFile(const std::string& f, leveldb::WritableFile** r) {
  uint64_t number;
  if (ParseLevelDBLog(f, &number)) {
    MutexLock lock(&mu_);
    log_starts_[number] = applied_ ? applied_() : 0;
    *r = new DiscardingFile;
    return leveldb::Status::OK();
  }
  return Wrap(target()->NewAppendableFile(f, r), r);
}

leveldb::Status IndexEnv::RemoveFile(const std::string& f) {
  uint64_t number;
  if (ParseLevelDBLog(f, &number)) {
    MutexLock lock(&mu_);
    // LevelDB deletes log <number> once the memtables it covered are in
    // tables recorded by a synced MANIFEST: what was applied when the next
    // log began is durable.
    auto next = log_starts_.upper_bound(number);
    if (next != log_starts_.end()) NoteDurable(next->second);
    log_starts_.erase(log_starts_.begin(), next);
  }
  return target()->RemoveFile(f);
}

}  // namespace runnel
