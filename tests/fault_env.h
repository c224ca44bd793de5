// Copyright 2026 The runnel Authors.
//
// FaultInjectionEnv: a leveldb::Env for the power-loss and fault suites, in
// the spirit of LevelDB's db/fault_injection_test.cc.
//
// It wraps Env::Default() (or any Env) and every WritableFile it hands out,
// and keeps, per file path, the size that has been Sync()ed. That gives three
// tools:
//
//  * Power loss. DropUnsyncedData() truncates every tracked file back to its
//    last synced size (a file that was never synced becomes empty). Other
//    modes model what a real power cut can also leave behind of the unsynced
//    bytes: a prefix of them torn at any byte (kKeepRandomPrefix), or some of
//    them followed by zeros (kZeroFillTail: the file size reached the disk
//    but the data did not; the zeros start at a 512-byte sector boundary or
//    at the synced size, and end at a 4 KiB block boundary or at the end of
//    the file). Call it
//    only while no file of this env is open, i.e. after the DB object is
//    destroyed. To get there without a clean Close (which fsyncs the log),
//    first SetCrashed(true): from then on every mutating call (file creation,
//    Append, Flush, Sync, rename, removal, mkdir) fails with IOError and does
//    nothing, so destroying the DB cannot make anything durable. Then
//    DropUnsyncedData(), SetCrashed(false) and reopen with the same env.
//    CrashAfter(n) enters crashed mode by itself after n more mutating calls,
//    so the "power cut" can land anywhere: inside a commit, a segment
//    rotation, a LevelDB flush or compaction.
//
//  * Injected errors. InjectFault() makes chosen calls (by operation, path
//    substring, and how many to let through first) fail with an IOError of a
//    chosen message, e.g. "No space left on device"; an Append may first
//    write part of its data (a torn write, as ENOSPC can leave).
//
//  * Counters of what went through, for test output.
//
// What is NOT simulated (documented limitations):
//  * Directory entries. Creating, renaming and removing files take effect
//    immediately and are never undone; a file created but whose directory was
//    never fsynced survives "power loss" (with its synced bytes). runnel
//    fsyncs directories directly through the OS (cdc/env_util.h), which this
//    env cannot see anyway.
//  * Truncation is durable at once: NewWritableFile on an existing path
//    forgets the old contents (the path's synced size becomes 0), and a file
//    shortened behind the env's back (recovery truncates a torn tail through
//    the OS) has its synced size clamped to the new size when it is next
//    opened for appending.
//  * Files that existed before the env first saw them (or that survived a
//    DropUnsyncedData) are fully durable.
//  * Loggers (NewLogger, e.g. DIR/LOG and index/LOG) are passed through and
//    not tracked: they carry no data.
//  * With SetSkipRealSync(true) a Sync only records the synced size and does
//    not call fsync(2); durability is then entirely simulated (faster).
//
// To keep destruction of an abandoned file harmless, every Append is flushed
// to the OS immediately, so the wrapped file never holds buffered bytes that
// its destructor would write after a simulated crash.
//
// Thread safety: all methods may be called concurrently (LevelDB's
// background thread uses the env too).

#ifndef RUNNEL_TESTS_FAULT_ENV_H_
#define RUNNEL_TESTS_FAULT_ENV_H_

#include <leveldb/env.h>
#include <leveldb/status.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace runnel::test {

// What DropUnsyncedData leaves of each file's unsynced bytes.
enum class DropMode {
  kDropAll,           // nothing: back to the synced size
  kKeepRandomPrefix,  // a random prefix of them (a write torn at any byte)
  kZeroFillTail,      // a random prefix (whole sectors), then zeros
};

// Mutating operations a fault can be injected into.
enum class FileOp {
  kNewWritableFile,
  kNewAppendableFile,
  kAppend,
  kSync,
  kRename,  // matched against the source path
  kRemove,
};

struct FaultSpec {
  FileOp op = FileOp::kAppend;
  // Only calls on paths containing this substring match; empty matches all.
  std::string path_contains;
  // Matching calls to let through before failing.
  int skip = 0;
  // Matching calls to fail after the skipped ones; -1 fails all later ones.
  int count = 1;
  // kAppend only: match only appends at file offset 0 (a new file's first
  // write, e.g. a segment header).
  bool only_at_file_start = false;
  // kAppend only: write this many bytes of the data (capped at its size)
  // before failing, as a torn write would.
  size_t partial_bytes = 0;
  // The IOError message.
  std::string message = "injected fault";
};

class FaultInjectionEnv : public leveldb::EnvWrapper {
 public:
  // Over leveldb::Env::Default().
  FaultInjectionEnv();
  explicit FaultInjectionEnv(leveldb::Env* base);
  ~FaultInjectionEnv() override;

  // --- leveldb::Env
  leveldb::Status NewWritableFile(const std::string& f, leveldb::WritableFile** r) override;
  leveldb::Status NewAppendableFile(const std::string& f, leveldb::WritableFile** r) override;
  leveldb::Status RemoveFile(const std::string& f) override;
  leveldb::Status RenameFile(const std::string& s, const std::string& t) override;
  leveldb::Status CreateDir(const std::string& d) override;
  leveldb::Status RemoveDir(const std::string& d) override;

  // --- Power loss
  // In crashed mode every mutating call fails and does nothing.
  void SetCrashed(bool crashed);
  bool crashed() const { return crashed_.load(); }
  // Enter crashed mode once `n` more mutating calls have succeeded (the next
  // one fails). n < 0 cancels.
  void CrashAfter(int64_t n);
  // Cuts every tracked file back to its synced size (see DropMode for what
  // else may remain) and forgets all tracking: what is on disk afterwards is
  // durable. REQUIRES: no file of this env is open. `seed` drives the random
  // modes. Returns the first error; stores the unsynced bytes lost (not kept
  // as written) if not null.
  leveldb::Status DropUnsyncedData(uint64_t* dropped_bytes = nullptr,
                                   DropMode mode = DropMode::kDropAll, uint64_t seed = 0);
  // Sync() records the synced size but skips fsync(2).
  void SetSkipRealSync(bool skip) { skip_real_sync_.store(skip); }

  // --- Injected errors
  void InjectFault(const FaultSpec& spec);
  void ClearFaults();
  // How many calls failed because of InjectFault (crashed mode not counted).
  int faults_triggered() const { return faults_triggered_.load(); }

  // --- Counters
  uint64_t syncs() const { return syncs_.load(); }
  uint64_t appends() const { return appends_.load(); }
  // Tracked paths and their synced sizes (for diagnostics).
  std::map<std::string, uint64_t> SyncedSizes() const;

 private:
  class File;
  friend class File;

  // Returns an error if the call must fail (crashed mode, CrashAfter, or an
  // injected fault); for kAppend stores the bytes to write first in *partial.
  leveldb::Status Check(FileOp op, const std::string& path, uint64_t offset = 0, size_t size = 0,
                        size_t* partial = nullptr);
  void NoteSynced(const std::string& path, uint64_t size);

  struct Fault {
    FaultSpec spec;
    int seen = 0;
    int failed = 0;
  };

  mutable std::mutex mu_;
  std::map<std::string, uint64_t> synced_;  // GUARDED_BY(mu_)
  std::vector<Fault> faults_;               // GUARDED_BY(mu_)
  int64_t crash_countdown_ = -1;            // GUARDED_BY(mu_)
  std::atomic<bool> crashed_{false};
  std::atomic<bool> skip_real_sync_{false};
  std::atomic<int> faults_triggered_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> appends_{0};
};

}  // namespace runnel::test

#endif  // RUNNEL_TESTS_FAULT_ENV_H_
