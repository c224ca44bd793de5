// Copyright 2026 The runnel Authors.

#include "db/index_env.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

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

class MappedTable;

// What one read fault of a file mapping maps in, as the budget counts it:
// Linux maps the pages around the faulting one that are in the page cache
// too, 64 KiB aligned by default (fault_around_bytes). Counting 4 KiB pages
// undercounted random point reads sixteenfold: the whole index stayed in.
constexpr uint64_t kFaultWindow = 64 << 10;

// The live table mappings and the bytes read through them since the last
// give-back.
class MappedTables {
 public:
  static constexpr int kMaxMappings = 1000;  // as LevelDB's own Env

  // False if kMaxMappings are live.
  bool Add(MappedTable* t);
  void Remove(MappedTable* t);
  // Counts n bytes mapped in; past the budget, gives the pages back.
  void Charge(size_t n) {
    if (charged_.fetch_add(n, std::memory_order_relaxed) + n >= IndexEnv::kMappedTableBudget) {
      GiveBack();
    }
  }

 private:
  void GiveBack();

  Mutex mu_;
  std::set<MappedTable*> tables_ GUARDED_BY(mu_);
  std::atomic<uint64_t> charged_{0};
};

// A table file mapped read-only. LevelDB table files are immutable and only
// ever deleted, never cut, so a mapping of one never faults past its end.
class MappedTable final : public leveldb::RandomAccessFile {
 public:
  MappedTable(std::shared_ptr<MappedTables> tables, std::string name, const char* base,
              size_t bytes)
      : tables_(std::move(tables)), name_(std::move(name)), base_(base), bytes_(bytes) {}
  ~MappedTable() override {
    tables_->Remove(this);
    ::munmap(const_cast<char*>(base_), bytes_);
  }
  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* /*scratch*/) const override {
    if (offset > bytes_ || n > bytes_ - offset) {
      *result = leveldb::Slice();
      return leveldb::Status::IOError(name_, std::strerror(EINVAL));
    }
    *result = leveldb::Slice(base_ + offset, n);
    if (!read_.load(std::memory_order_relaxed)) read_.store(true, std::memory_order_relaxed);
    // Only reads that go on where the last read of this file ended (a scan:
    // an iterator, a compaction) are charged, by what they may map in (whole
    // fault windows, not bytes: a compressed block of a few hundred bytes
    // still maps a window). Point reads are not: charging them made every
    // Get over an index larger than the budget fault its blocks back in,
    // which halved random Gets/s (bench/RESULTS.md). Their pages stay mapped
    // until a scan's give-back, as they did with LevelDB's own mappings.
    const uint64_t first = offset / kFaultWindow;
    const uint64_t last = (offset + (n > 0 ? n - 1 : 0)) / kFaultWindow;
    const uint64_t prev = last_window_.exchange(last, std::memory_order_relaxed);
    if (prev == first) {
      if (last > first) tables_->Charge((last - first) * kFaultWindow);
    } else if (prev != UINT64_MAX && prev + 1 == first) {
      tables_->Charge((last - first + 1) * kFaultWindow);
    }
    return leveldb::Status::OK();
  }
  // Gives back the pages of a mapping read since the last call.
  void GiveBack() {
    if (!read_.exchange(false, std::memory_order_relaxed)) return;
    ::madvise(const_cast<char*>(base_), bytes_, MADV_DONTNEED);
  }

 private:
  const std::shared_ptr<MappedTables> tables_;
  const std::string name_;
  const char* const base_;
  const size_t bytes_;
  mutable std::atomic<bool> read_{false};
  mutable std::atomic<uint64_t> last_window_{UINT64_MAX};
};

bool MappedTables::Add(MappedTable* t) {
  MutexLock lock(&mu_);
  if (tables_.size() >= kMaxMappings) return false;
  tables_.insert(t);
  return true;
}

void MappedTables::Remove(MappedTable* t) {
  MutexLock lock(&mu_);
  tables_.erase(t);
}

// Slices that LevelDB holds into a mapping (a block being parsed, an
// iterator's block) stay valid: the mappings are MAP_SHARED and read-only,
// so MADV_DONTNEED only takes the pages out of this process's page tables,
// the bytes stay in the page cache, and the next touch maps them in again
// (a minor fault). What is given back is what was read since: the budget
// bounds the RSS, the page cache keeps the speed.
void MappedTables::GiveBack() {
  MutexLock lock(&mu_);
  if (charged_.load(std::memory_order_relaxed) < IndexEnv::kMappedTableBudget) return;
  charged_.store(0, std::memory_order_relaxed);
  for (MappedTable* t : tables_) t->GiveBack();
}

IndexEnv::IndexEnv(leveldb::Env* base)
    : leveldb::EnvWrapper(base), mapped_(std::make_shared<MappedTables>()) {}

IndexEnv::~IndexEnv() = default;

leveldb::Status IndexEnv::NewRandomAccessFile(const std::string& f, leveldb::RandomAccessFile** r) {
  if (target() != leveldb::Env::Default()) return target()->NewRandomAccessFile(f, r);
  const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return target()->NewRandomAccessFile(f, r);  // its error, as LevelDB words it
  struct stat st;
  void* p = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  }
  ::close(fd);  // the mapping keeps the file
  if (p == MAP_FAILED) return target()->NewRandomAccessFile(f, r);
  auto table = std::make_unique<MappedTable>(mapped_, f, static_cast<const char*>(p),
                                             static_cast<size_t>(st.st_size));
  if (!mapped_->Add(table.get())) {
    table.reset();
    return target()->NewRandomAccessFile(f, r);
  }
  *r = table.release();
  return leveldb::Status::OK();
}

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
