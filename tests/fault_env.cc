// Copyright 2026 The runnel Authors.

#include "tests/fault_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

namespace runnel::test {

namespace {

const char kCrashedMessage[] = "simulated power loss (env crashed)";

}  // namespace

// A WritableFile that forwards to the real one, flushes every Append to the
// OS at once, and tells the env how far it has been synced.
class FaultInjectionEnv::File final : public leveldb::WritableFile {
 public:
  File(FaultInjectionEnv* env, std::string path, leveldb::WritableFile* base, uint64_t pos)
      : env_(env), path_(std::move(path)), base_(base), pos_(pos) {}
  ~File() override { delete base_; }  // base_ holds no buffered bytes

  leveldb::Status Append(const leveldb::Slice& data) override {
    size_t partial = 0;
    leveldb::Status s = env_->Check(FileOp::kAppend, path_, pos_, data.size(), &partial);
    if (!s.ok()) {
      if (partial > 0) {
        leveldb::Status w = base_->Append(leveldb::Slice(data.data(), partial));
        if (w.ok()) w = base_->Flush();
        if (w.ok()) pos_ += partial;
      }
      return s;
    }
    s = base_->Append(data);
    if (s.ok()) s = base_->Flush();
    if (s.ok()) {
      pos_ += data.size();
      env_->appends_.fetch_add(1);
    }
    return s;
  }

  leveldb::Status Flush() override {
    if (env_->crashed()) return leveldb::Status::IOError(path_, kCrashedMessage);
    return leveldb::Status::OK();  // every Append was flushed already
  }

  leveldb::Status Sync() override {
    leveldb::Status s = env_->Check(FileOp::kSync, path_);
    if (!s.ok()) return s;
    if (!env_->skip_real_sync_.load()) {
      s = base_->Sync();
      if (!s.ok()) return s;
    }
    env_->syncs_.fetch_add(1);
    env_->NoteSynced(path_, pos_);
    return s;
  }

  leveldb::Status Close() override {
    // Closing writes nothing (no buffered bytes), so it is allowed even in
    // crashed mode: an abandoned DB must be able to release its files.
    return base_->Close();
  }

 private:
  FaultInjectionEnv* const env_;
  const std::string path_;
  leveldb::WritableFile* const base_;
  uint64_t pos_;
};

FaultInjectionEnv::FaultInjectionEnv() : FaultInjectionEnv(leveldb::Env::Default()) {}

FaultInjectionEnv::FaultInjectionEnv(leveldb::Env* base) : leveldb::EnvWrapper(base) {}

FaultInjectionEnv::~FaultInjectionEnv() = default;

leveldb::Status FaultInjectionEnv::Check(FileOp op, const std::string& path, uint64_t offset,
                                         size_t size, size_t* partial) {
  if (crashed_.load()) return leveldb::Status::IOError(path, kCrashedMessage);
  std::lock_guard<std::mutex> lock(mu_);
  if (crash_countdown_ >= 0) {
    if (crash_countdown_ == 0) {
      crash_countdown_ = -1;
      crashed_.store(true);
      return leveldb::Status::IOError(path, kCrashedMessage);
    }
    --crash_countdown_;
  }
  for (Fault& f : faults_) {
    if (f.spec.op != op) continue;
    if (!f.spec.path_contains.empty() && path.find(f.spec.path_contains) == std::string::npos) {
      continue;
    }
    if (op == FileOp::kAppend && f.spec.only_at_file_start && offset != 0) {
      continue;
    }
    if (f.spec.count >= 0 && f.failed >= f.spec.count) continue;
    if (f.seen++ < f.spec.skip) continue;
    ++f.failed;
    faults_triggered_.fetch_add(1);
    if (partial != nullptr) *partial = std::min(f.spec.partial_bytes, size);
    return leveldb::Status::IOError(path, f.spec.message);
  }
  return leveldb::Status::OK();
}

void FaultInjectionEnv::NoteSynced(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = synced_.find(path);
  // A file of a path that was since removed or renamed is no longer tracked
  // under that path; nothing to record.
  if (it != synced_.end()) it->second = size;
}

leveldb::Status FaultInjectionEnv::NewWritableFile(const std::string& f,
                                                   leveldb::WritableFile** r) {
  *r = nullptr;
  leveldb::Status s = Check(FileOp::kNewWritableFile, f);
  if (!s.ok()) return s;
  leveldb::WritableFile* base = nullptr;
  s = target()->NewWritableFile(f, &base);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    synced_[f] = 0;  // truncated: nothing of it is durable yet
  }
  *r = new File(this, f, base, 0);
  return s;
}

leveldb::Status FaultInjectionEnv::NewAppendableFile(const std::string& f,
                                                     leveldb::WritableFile** r) {
  *r = nullptr;
  leveldb::Status s = Check(FileOp::kNewAppendableFile, f);
  if (!s.ok()) return s;
  uint64_t size = 0;
  if (!target()->GetFileSize(f, &size).ok()) size = 0;  // created below
  leveldb::WritableFile* base = nullptr;
  s = target()->NewAppendableFile(f, &base);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = synced_.find(f);
    if (it == synced_.end()) {
      // Existing bytes we never saw written are durable.
      synced_[f] = size;
    } else {
      it->second = std::min(it->second, size);
    }
  }
  *r = new File(this, f, base, size);
  return s;
}

leveldb::Status FaultInjectionEnv::RemoveFile(const std::string& f) {
  leveldb::Status s = Check(FileOp::kRemove, f);
  if (!s.ok()) return s;
  s = target()->RemoveFile(f);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    synced_.erase(f);
  }
  return s;
}

leveldb::Status FaultInjectionEnv::RenameFile(const std::string& src, const std::string& dst) {
  leveldb::Status s = Check(FileOp::kRename, src);
  if (!s.ok()) return s;
  s = target()->RenameFile(src, dst);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = synced_.find(src);
    if (it != synced_.end()) {
      synced_[dst] = it->second;
      synced_.erase(src);
    } else {
      synced_.erase(dst);  // an untracked file is durable
    }
  }
  return s;
}

leveldb::Status FaultInjectionEnv::CreateDir(const std::string& d) {
  if (crashed_.load()) return leveldb::Status::IOError(d, kCrashedMessage);
  return target()->CreateDir(d);
}

leveldb::Status FaultInjectionEnv::RemoveDir(const std::string& d) {
  if (crashed_.load()) return leveldb::Status::IOError(d, kCrashedMessage);
  return target()->RemoveDir(d);
}

void FaultInjectionEnv::SetCrashed(bool crashed) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_countdown_ = -1;
  crashed_.store(crashed);
}

void FaultInjectionEnv::CrashAfter(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_countdown_ = n < 0 ? -1 : n;
}

leveldb::Status FaultInjectionEnv::DropUnsyncedData(uint64_t* dropped_bytes, DropMode mode,
                                                    uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  std::mt19937_64 rng(seed);
  leveldb::Status result;
  uint64_t dropped = 0;
  auto fail = [&](const std::string& path) {
    if (result.ok()) result = leveldb::Status::IOError(path, std::strerror(errno));
  };
  for (const auto& [path, synced] : synced_) {
    uint64_t size = 0;
    if (!target()->GetFileSize(path, &size).ok()) continue;  // gone
    if (size <= synced) continue;
    uint64_t keep = synced;  // bytes kept as written
    uint64_t end = synced;   // the file's new size
    if (mode != DropMode::kDropAll) {
      keep = synced + rng() % (size - synced + 1);
      end = keep;
    }
    if (mode == DropMode::kZeroFillTail) {
      // Sectors are written whole: the zeros start at a sector boundary (or
      // where the synced data ends).
      keep = std::max(synced, keep / 512 * 512);
      end = keep;
    }
    if (mode == DropMode::kZeroFillTail && keep < size) {
      constexpr uint64_t kBlock = 4096;
      end = std::min(size, (keep + 1 + rng() % (size - keep) + kBlock - 1) / kBlock * kBlock);
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) {
        fail(path);
        continue;
      }
      const std::string zeros(end - keep, '\0');
      if (::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(keep)) !=
          static_cast<ssize_t>(zeros.size())) {
        fail(path);
      }
      ::close(fd);
    }
    if (::truncate(path.c_str(), static_cast<off_t>(end)) != 0) {
      fail(path);
      continue;
    }
    dropped += size - keep;
  }
  synced_.clear();
  if (dropped_bytes != nullptr) *dropped_bytes = dropped;
  return result;
}

void FaultInjectionEnv::InjectFault(const FaultSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(Fault{spec});
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

std::map<std::string, uint64_t> FaultInjectionEnv::SyncedSizes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

}  // namespace runnel::test
