// Copyright 2026 The runnel Authors.
//
// Fault-injection tests: I/O errors injected through FaultInjectionEnv
// (tests/fault_env.h) into the log's fsync, the log's appends (ENOSPC, also
// torn), segment rotation and the LevelDB index. In each case:
//  * the error reaches the writer (a non-OK status);
//  * the DB refuses every later write, even once the fault is gone (sticky);
//    StickyErrorIsFailedPrecondition checks the code of those refusals:
//    FailedPrecondition, as include/runnel/status.h documents for "a write
//    after a sticky I/O error";
//  * reads (Get, Scan, the change stream) keep working;
//  * after reopening with the fault gone, every write acknowledged before the
//    failure is present (and the write that failed is wholly present or
//    wholly absent), and the DB accepts writes again.
// The first tests check the harness itself.

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cdc/env_util.h"
#include "cdc/log_format.h"
#include "runnel/db.h"
#include "tests/fault_env.h"
#include "tests/testutil.h"

namespace runnel::test {
namespace {

constexpr char kEnospc[] = "No space left on device";

// --- The harness.

std::string Slurp(leveldb::Env* env, const std::string& path) {
  std::string s;
  EXPECT_TRUE(leveldb::ReadFileToString(env, path, &s).ok());
  return s;
}

TEST(FaultEnvTest, DropUnsyncedDataKeepsSyncedPrefix) {
  TempDir tmp;
  FaultInjectionEnv env;
  const std::string a = tmp.Sub("a"), b = tmp.Sub("b"), c = tmp.Sub("c");
  leveldb::WritableFile* f = nullptr;
  ASSERT_TRUE(env.NewWritableFile(a, &f).ok());
  ASSERT_TRUE(f->Append("synced").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("-unsynced").ok());
  ASSERT_TRUE(f->Close().ok());
  delete f;
  ASSERT_TRUE(env.NewWritableFile(b, &f).ok());  // never synced
  ASSERT_TRUE(f->Append("lost").ok());
  delete f;
  // A file the env did not create is durable as found; appends to it are not.
  WriteAt(c, 0, "old");
  ASSERT_TRUE(env.NewAppendableFile(c, &f).ok());
  ASSERT_TRUE(f->Append("+new").ok());
  delete f;
  EXPECT_EQ(Slurp(&env, a), "synced-unsynced");  // the OS has it all
  uint64_t dropped = 0;
  ASSERT_TRUE(env.DropUnsyncedData(&dropped).ok());
  EXPECT_EQ(dropped, 9u + 4u + 4u);
  EXPECT_EQ(Slurp(&env, a), "synced");
  EXPECT_EQ(Slurp(&env, b), "");
  EXPECT_EQ(Slurp(&env, c), "old");
}

TEST(FaultEnvTest, DropModesKeepPrefixOrZeros) {
  TempDir tmp;
  const std::string written = std::string(100, 's') + std::string(20000, 'u');
  for (uint64_t seed = 0; seed < 40; ++seed) {
    FaultInjectionEnv env;
    const std::string path = tmp.Sub(Numbered("f", seed));
    leveldb::WritableFile* f = nullptr;
    ASSERT_TRUE(env.NewWritableFile(path, &f).ok());
    ASSERT_TRUE(f->Append(written.substr(0, 100)).ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(f->Append(written.substr(100)).ok());
    delete f;
    const DropMode mode = seed % 2 == 0 ? DropMode::kKeepRandomPrefix : DropMode::kZeroFillTail;
    uint64_t dropped = 0;
    ASSERT_TRUE(env.DropUnsyncedData(&dropped, mode, seed).ok());
    const std::string got = Slurp(&env, path);
    ASSERT_GE(got.size(), 100u);
    ASSERT_LE(got.size(), written.size());
    size_t kept = 0;
    while (kept < got.size() && got[kept] == written[kept]) ++kept;
    EXPECT_EQ(dropped, written.size() - kept);
    if (mode == DropMode::kKeepRandomPrefix) {
      EXPECT_EQ(kept, got.size()) << "not a prefix of what was written";
    } else {
      EXPECT_EQ(got.find_first_not_of('\0', kept), std::string::npos)
          << "something other than zeros follows the kept prefix";
      EXPECT_TRUE(got.size() % 4096 == 0 || got.size() == written.size());
    }
  }
}

TEST(FaultEnvTest, RenameCarriesSyncedSizeAndAppendableResumes) {
  TempDir tmp;
  FaultInjectionEnv env;
  const std::string a = tmp.Sub("a"), b = tmp.Sub("b");
  leveldb::WritableFile* f = nullptr;
  ASSERT_TRUE(env.NewWritableFile(a, &f).ok());
  ASSERT_TRUE(f->Append("12345").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("678").ok());
  delete f;
  ASSERT_TRUE(env.RenameFile(a, b).ok());
  // Reopened for appending: starts at the current size; the synced size is
  // still 5.
  ASSERT_TRUE(env.NewAppendableFile(b, &f).ok());
  ASSERT_TRUE(f->Append("9").ok());
  delete f;
  EXPECT_EQ(Slurp(&env, b), "123456789");
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(Slurp(&env, b), "12345");
  EXPECT_FALSE(env.FileExists(a));
}

TEST(FaultEnvTest, CrashedModeChangesNothing) {
  TempDir tmp;
  FaultInjectionEnv env;
  const std::string a = tmp.Sub("a");
  leveldb::WritableFile* f = nullptr;
  ASSERT_TRUE(env.NewWritableFile(a, &f).ok());
  ASSERT_TRUE(f->Append("abc").ok());
  env.SetCrashed(true);
  EXPECT_FALSE(f->Append("def").ok());
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_FALSE(env.RenameFile(a, tmp.Sub("b")).ok());
  EXPECT_FALSE(env.RemoveFile(a).ok());
  leveldb::WritableFile* g = nullptr;
  EXPECT_FALSE(env.NewWritableFile(a, &g).ok());  // would truncate
  delete f;                                       // closing an abandoned file writes nothing
  EXPECT_EQ(Slurp(&env, a), "abc");
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  env.SetCrashed(false);
  EXPECT_EQ(Slurp(&env, a), "");
}

TEST(FaultEnvTest, InjectedFaultsAndCrashAfter) {
  TempDir tmp;
  FaultInjectionEnv env;
  FaultSpec spec;
  spec.op = FileOp::kAppend;
  spec.path_contains = "/x";
  spec.skip = 1;
  spec.count = 1;
  spec.partial_bytes = 2;
  spec.message = kEnospc;
  env.InjectFault(spec);
  leveldb::WritableFile* f = nullptr;
  ASSERT_TRUE(env.NewWritableFile(tmp.Sub("x"), &f).ok());
  EXPECT_TRUE(f->Append("one").ok());
  leveldb::Status s = f->Append("two");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.ToString().find(kEnospc), std::string::npos) << s.ToString();
  EXPECT_TRUE(f->Append("three").ok());
  delete f;
  EXPECT_EQ(Slurp(&env, tmp.Sub("x")), "onetwthree");
  EXPECT_EQ(env.faults_triggered(), 1);

  env.ClearFaults();
  env.CrashAfter(2);
  ASSERT_TRUE(env.NewWritableFile(tmp.Sub("y"), &f).ok());
  EXPECT_TRUE(f->Append("1").ok());
  EXPECT_FALSE(f->Append("2").ok());
  EXPECT_TRUE(env.crashed());
  delete f;
  env.SetCrashed(false);
}

// --- The DB under faults.

class FaultTest : public ::testing::Test {
 protected:
  static constexpr char kTable[] = "fault_t";

  void Open(uint64_t segment_bytes = 64ull << 20, size_t write_buffer = 4u << 20) {
    options_.env = &env_handle_;
    options_.segment_bytes = segment_bytes;
    options_.write_buffer_bytes = write_buffer;
    ASSERT_OK(DB::Open(options_, dir_, &db_));
  }

  void Reopen() {
    db_.reset();
    ASSERT_OK(DB::Open(options_, dir_, &db_));
  }

  // Simulated power loss, then reopen.
  void PowerLossAndReopen() {
    env_.SetCrashed(true);
    db_.reset();
    ASSERT_TRUE(env_.DropUnsyncedData().ok());
    env_.SetCrashed(false);
    ASSERT_OK(DB::Open(options_, dir_, &db_));
  }

  void CreateTable() {
    ASSERT_OK(db_->CreateTable(kTable, Stream(StreamViewType::kNewAndOldImages)));
  }

  Status Put(const std::string& key, const std::string& value, bool sync) {
    WriteOptions wo;
    wo.sync = sync;
    Status s = db_->Put(wo, kTable, key, value);
    if (s.ok()) acked_[key] = value;
    return s;
  }

  // Every later write fails, whatever its kind.
  void ExpectWritesRefused(const std::string& why) {
    SCOPED_TRACE(why);
    WriteOptions sync, nosync;
    sync.sync = true;
    std::vector<std::pair<std::string, Status>> results;
    results.emplace_back("sync put", db_->Put(sync, kTable, "later", "v"));
    results.emplace_back("put", db_->Put(nosync, kTable, "later", "v"));
    results.emplace_back("delete", db_->Delete(sync, kTable, "k0"));
    WriteBatch batch;
    batch.Put(kTable, "later2", "v");
    batch.Delete(kTable, "k1");
    results.emplace_back("batch", db_->Write(nosync, batch));
    results.emplace_back("create table", db_->CreateTable("fault_other", StreamSpecification()));
    for (const auto& [what, s] : results) {
      EXPECT_FALSE(s.ok()) << what << " succeeded after a sticky error";
      // The status code is checked by StickyErrorIsFailedPrecondition.
    }
    std::string v;
    EXPECT_TRUE(db_->Get(ReadOptions(), kTable, "later", &v).IsNotFound());
  }

  // Reads work and show exactly the acknowledged state (plus, possibly, the
  // one write that failed: `maybe_key` -> `maybe_value`).
  void ExpectAckedState(const std::string& maybe_key = "", const std::string& maybe_value = "") {
    std::vector<std::pair<std::string, std::string>> items;
    ASSERT_OK(ScanAll(db_.get(), kTable, &items));
    std::map<std::string, std::string> got(items.begin(), items.end());
    std::map<std::string, std::string> want = acked_;
    if (!maybe_key.empty() && got.count(maybe_key) != 0) {
      EXPECT_EQ(got[maybe_key], maybe_value) << "the failed write, half applied";
      want[maybe_key] = maybe_value;
    }
    EXPECT_EQ(got.size(), want.size());
    for (const auto& [k, v] : want) {
      auto it = got.find(k);
      if (it == got.end()) {
        ADD_FAILURE() << "acknowledged key " << k << " is missing";
      } else if (it->second != v) {
        ADD_FAILURE() << "key " << k << " has " << it->second.size() << " bytes, acknowledged "
                      << v.size();
      }
      std::string value;
      EXPECT_OK(db_->Get(ReadOptions(), kTable, k, &value));
    }
    // The change stream is readable and agrees with the table.
    std::vector<Rec> recs;
    ASSERT_OK(ReadAll(db_.get(), 1, &recs));
    std::map<std::string, std::string> replayed;
    for (const Rec& r : recs) {
      if (r.event == EventName::kRemove) {
        replayed.erase(r.key);
      } else {
        replayed[r.key] = r.new_image;
      }
    }
    EXPECT_TRUE(replayed == got) << "the change stream disagrees with Scan";
  }

  void ExpectWritableAgain() {
    WriteOptions sync;
    sync.sync = true;
    ASSERT_OK(db_->Put(sync, kTable, "again", "yes"));
    acked_["again"] = "yes";
    std::string v;
    ASSERT_OK(db_->Get(ReadOptions(), kTable, "again", &v));
    EXPECT_EQ(v, "yes");
  }

  int SegmentCount() {
    int n = 0;
    for (const std::string& name : ListDir(dir_ + "/wal")) {
      n += name.size() > 4 && name.substr(name.size() - 4) == ".seg";
    }
    return n;
  }

  TempDir tmp_;
  const std::string dir_ = tmp_.Sub("db");
  FaultInjectionEnv env_;
  LevelDBEnvAdapter env_handle_{&env_};
  Options options_;
  std::unique_ptr<DB> db_;
  std::map<std::string, std::string> acked_;
};

TEST_F(FaultTest, FailedLogFsyncIsSticky) {
  Open();
  CreateTable();
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(Put(Numbered("k", i), Numbered("v", i), i % 2 == 0));
  }
  FaultSpec spec;
  spec.op = FileOp::kSync;
  spec.path_contains = "/wal/";
  spec.message = "Input/output error";
  env_.InjectFault(spec);
  Status s = Put("failed", "never-acknowledged", true);
  ASSERT_FALSE(s.ok()) << "a sync write whose fsync failed was acknowledged";
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(env_.faults_triggered(), 1);
  env_.ClearFaults();  // syncs would succeed now
  ExpectWritesRefused("after a failed log fsync");
  ExpectAckedState();  // reads still work; the failed write is not visible
  std::string v;
  EXPECT_TRUE(db_->Get(ReadOptions(), kTable, "failed", &v).IsNotFound());

  Reopen();
  ExpectAckedState("failed", "never-acknowledged");
  ExpectWritableAgain();
}

// include/runnel/status.h: kFailedPrecondition is "the operation is not valid
// in the current state (closed DB, a write after a sticky I/O error, ...)".
// The write that hit the failure reports the I/O error itself; later ones are
// refused because of the state, and name the original error.
TEST_F(FaultTest, StickyErrorIsFailedPrecondition) {
  Open();
  CreateTable();
  ASSERT_OK(Put("k0", "v0", true));
  FaultSpec spec;
  spec.op = FileOp::kAppend;
  spec.path_contains = "/wal/";
  spec.message = kEnospc;
  env_.InjectFault(spec);
  Status first = Put("failed", "x", true);
  ASSERT_FALSE(first.ok());
  EXPECT_TRUE(first.IsIOError()) << first.ToString();
  env_.ClearFaults();
  WriteOptions sync;
  sync.sync = true;
  Status later = db_->Put(sync, kTable, "later", "v");
  EXPECT_TRUE(later.IsFailedPrecondition())
      << "a write after a sticky I/O error: " << later.ToString();
  EXPECT_NE(later.ToString().find(kEnospc), std::string::npos)
      << "the refusal should name the original error: " << later.ToString();
  Status meta = db_->CreateTable("fault_other", StreamSpecification());
  EXPECT_TRUE(meta.IsFailedPrecondition())
      << "a table change after a sticky I/O error: " << meta.ToString();
}

TEST_F(FaultTest, FailedLogFsyncThenPowerLoss) {
  Open();
  CreateTable();
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(Put(Numbered("k", i), std::string(300, 'a' + i), true));
  }
  FaultSpec spec;
  spec.op = FileOp::kSync;
  spec.path_contains = "/wal/";
  env_.InjectFault(spec);
  ASSERT_FALSE(Put("failed", "x", true).ok());
  env_.ClearFaults();
  ExpectWritesRefused("after a failed log fsync");
  PowerLossAndReopen();
  ExpectAckedState("failed", "x");
  ExpectWritableAgain();
}

TEST_F(FaultTest, FailedLogFsyncFailsWholeGroup) {
  Open();
  CreateTable();
  constexpr int kThreads = 4;
  std::vector<std::map<std::string, std::string>> acked(kThreads);
  std::vector<std::string> failed_key(kThreads);
  std::vector<Status> first_error(kThreads);
  std::atomic<int> acked_total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      WriteOptions sync;
      sync.sync = true;
      for (int i = 0; i < 100000; ++i) {
        const std::string key = Numbered("t", t) + Numbered("-", i);
        Status s = db_->Put(sync, kTable, key, key);
        if (!s.ok()) {
          failed_key[t] = key;
          first_error[t] = s;
          return;
        }
        acked[t][key] = key;
        acked_total.fetch_add(1);
      }
    });
  }
  while (acked_total.load() < 200) std::this_thread::yield();
  FaultSpec spec;
  spec.op = FileOp::kSync;
  spec.path_contains = "/wal/";
  env_.InjectFault(spec);
  for (auto& th : threads) th.join();
  env_.ClearFaults();
  int io_errors = 0;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_FALSE(first_error[t].ok()) << "thread " << t << " never failed";
    io_errors += first_error[t].IsIOError();
    for (const auto& [k, v] : acked[t]) acked_[k] = v;
  }
  EXPECT_GE(io_errors, 1) << "the group whose fsync failed got no IOError";
  ExpectWritesRefused("after a failed group fsync");
  Reopen();
  // Writes that failed may or may not have reached the log; acknowledged ones
  // must be there.
  std::vector<std::pair<std::string, std::string>> items;
  ASSERT_OK(ScanAll(db_.get(), kTable, &items));
  std::map<std::string, std::string> got(items.begin(), items.end());
  for (const auto& [k, v] : acked_) {
    EXPECT_TRUE(got.count(k) == 1 && got[k] == v) << "acknowledged " << k << " lost";
  }
  for (const auto& [k, v] : got) {
    bool known = acked_.count(k) != 0;
    for (const std::string& f : failed_key) known |= f == k;
    EXPECT_TRUE(known) << "unexpected key " << k;
  }
  ExpectWritableAgain();
  printf("group fsync failure: %zu writes acknowledged before it\n", acked_.size());
}

TEST_F(FaultTest, EnospcOnLogAppend) {
  Open();
  CreateTable();
  for (int i = 0; i < 30; ++i) {
    ASSERT_OK(Put(Numbered("k", i), std::string(100, 'a' + i % 26), i % 3 != 0));
  }
  FaultSpec spec;
  spec.op = FileOp::kAppend;
  spec.path_contains = "/wal/";
  spec.count = -1;          // the disk stays full
  spec.partial_bytes = 20;  // and the failed write left a torn frame
  spec.message = kEnospc;
  env_.InjectFault(spec);
  Status s = Put("failed", "no room", false);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.ToString().find(kEnospc), std::string::npos) << s.ToString();
  env_.ClearFaults();  // space was freed
  ExpectWritesRefused("after ENOSPC on the log");
  ExpectAckedState();

  Reopen();
  EXPECT_TRUE(db_->recovery_report().torn_tail)
      << "the partial frame should have been cut as a torn tail";
  ExpectAckedState("failed", "no room");
  std::string v;
  EXPECT_TRUE(db_->Get(ReadOptions(), kTable, "failed", &v).IsNotFound());
  ExpectWritableAgain();
}

TEST_F(FaultTest, EnospcOnSyncWriteThenPowerLoss) {
  Open();
  CreateTable();
  for (int i = 0; i < 30; ++i) {
    ASSERT_OK(Put(Numbered("k", i), std::string(100, 'a' + i % 26), true));
  }
  FaultSpec spec;
  spec.op = FileOp::kAppend;
  spec.path_contains = "/wal/";
  spec.partial_bytes = 100;
  spec.message = kEnospc;
  env_.InjectFault(spec);
  ASSERT_FALSE(Put("failed", std::string(500, 'z'), true).ok());
  env_.ClearFaults();
  ExpectWritesRefused("after ENOSPC on a sync write");
  PowerLossAndReopen();
  ExpectAckedState("failed", std::string(500, 'z'));
  ExpectWritableAgain();
}

// Writes ~1 KiB values until the log rotates; returns the first error.
Status WriteUntilError(DB* db, const char* table, int max_writes, bool sync,
                       std::map<std::string, std::string>* acked, std::string* failed_key) {
  WriteOptions wo;
  wo.sync = sync;
  for (int i = 0; i < max_writes; ++i) {
    const std::string key = Numbered("r", i);
    const std::string value(1000, 'a' + i % 26);
    Status s = db->Put(wo, table, key, value);
    if (!s.ok()) {
      *failed_key = key;
      return s;
    }
    (*acked)[key] = value;
  }
  return Status::OK();
}

TEST_F(FaultTest, EnospcWritingNewSegmentHeader) {
  Open(64 << 10);
  CreateTable();
  ASSERT_EQ(SegmentCount(), 1);
  FaultSpec spec;
  spec.op = FileOp::kAppend;
  spec.path_contains = "/wal/";
  spec.only_at_file_start = true;  // the header of the next segment
  spec.partial_bytes = 10;
  spec.message = kEnospc;
  env_.InjectFault(spec);
  std::string failed;
  Status s = WriteUntilError(db_.get(), kTable, 1000, false, &acked_, &failed);
  ASSERT_FALSE(s.ok()) << "no rotation happened";
  EXPECT_EQ(env_.faults_triggered(), 1);
  EXPECT_NE(s.ToString().find(kEnospc), std::string::npos) << s.ToString();
  EXPECT_GT(acked_.size(), 30u) << "failed before the first segment was full";
  EXPECT_EQ(SegmentCount(), 2) << "the new segment (partial header) is there";
  env_.ClearFaults();
  ExpectWritesRefused("after ENOSPC during rotation");
  ExpectAckedState();

  Reopen();
  const RecoveryReport& r = db_->recovery_report();
  EXPECT_TRUE(r.torn_tail) << "the headerless segment should be removed";
  EXPECT_EQ(r.torn_tail_offset, 0u);
  ExpectAckedState(failed, std::string(1000, 'a' + std::stoi(failed.substr(1)) % 26));
  ExpectWritableAgain();
  // Rotation works again.
  std::string failed2;
  std::map<std::string, std::string> more;
  ASSERT_OK(WriteUntilError(db_.get(), kTable, 200, false, &more, &failed2));
  EXPECT_GE(SegmentCount(), 2);
}

// ENOSPC while writing the start of a new segment, after the header made it
// but in the middle of the catalog snapshot that follows it
// (cdc/log_format.h: "kCatalogFrame ... the first frame of every segment").
// Recovery cuts the torn snapshot; the segment must still end up opening with
// a catalog snapshot, like every other segment.
TEST_F(FaultTest, EnospcInSegmentPreamble) {
  Open(64 << 10);
  CreateTable();
  FaultSpec spec;
  spec.op = FileOp::kAppend;
  spec.path_contains = "/wal/";
  spec.only_at_file_start = true;
  spec.partial_bytes = log::kSegmentHeaderSize + 8;
  spec.message = kEnospc;
  env_.InjectFault(spec);
  std::string failed;
  Status s = WriteUntilError(db_.get(), kTable, 1000, false, &acked_, &failed);
  ASSERT_FALSE(s.ok()) << "no rotation happened";
  ASSERT_EQ(env_.faults_triggered(), 1);
  ASSERT_EQ(SegmentCount(), 2);
  env_.ClearFaults();
  ExpectWritesRefused("after ENOSPC in a segment preamble");

  Reopen();
  EXPECT_TRUE(db_->recovery_report().torn_tail);
  ExpectAckedState(failed, std::string(1000, 'a' + std::stoi(failed.substr(1)) % 26));
  ExpectWritableAgain();
  std::map<std::string, std::string> more;
  std::string failed2;
  ASSERT_OK(WriteUntilError(db_.get(), kTable, 200, false, &more, &failed2));
  for (const auto& [k, v] : more) acked_[k] = v;
  Reopen();
  ExpectAckedState();
  // Every segment opens with a catalog snapshot.
  for (const std::string& name : ListDir(dir_ + "/wal")) {
    uint64_t first;
    if (!log::ParseSegmentFileName(name, &first)) continue;
    const std::string data = ReadFile(dir_ + "/wal/" + name);
    if (data.size() < log::kSegmentHeaderSize + log::kFrameHeaderSize) {
      ADD_FAILURE() << name << " holds " << data.size() << " bytes only";
      continue;
    }
    const log::FrameHeader h = log::DecodeFrameHeader(data.data() + log::kSegmentHeaderSize);
    EXPECT_EQ(int{h.type}, int{log::kCatalogFrame})
        << name << " (" << data.size() << " bytes) does not open with a "
        << "catalog snapshot: its first frame has type " << int{h.type} << ", sequences "
        << h.first_sequence << ".." << h.last_sequence();
  }
}

TEST_F(FaultTest, NewSegmentCannotBeCreated) {
  Open(64 << 10);
  CreateTable();
  FaultSpec spec;
  spec.op = FileOp::kNewWritableFile;
  spec.path_contains = "/wal/";
  spec.message = kEnospc;
  env_.InjectFault(spec);
  std::string failed;
  Status s = WriteUntilError(db_.get(), kTable, 1000, false, &acked_, &failed);
  ASSERT_FALSE(s.ok()) << "no rotation happened";
  EXPECT_EQ(env_.faults_triggered(), 1);
  EXPECT_EQ(SegmentCount(), 1);
  env_.ClearFaults();
  ExpectWritesRefused("after failing to create a segment");
  ExpectAckedState();
  Reopen();
  ExpectAckedState(failed, std::string(1000, 'a' + std::stoi(failed.substr(1)) % 26));
  ExpectWritableAgain();
}

TEST_F(FaultTest, FsyncFailureAtRotation) {
  Open(64 << 10);
  CreateTable();
  // A few durable writes, then non-sync ones: with the default 4 MiB index
  // write buffer nothing else syncs the log, so the first log fsync is the
  // one that closes the full segment.
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(Put(Numbered("s", i), "durable", true));
  }
  std::map<std::string, std::string> synced = acked_;
  FaultSpec spec;
  spec.op = FileOp::kSync;
  spec.path_contains = "/wal/";
  env_.InjectFault(spec);
  std::string failed;
  Status s = WriteUntilError(db_.get(), kTable, 1000, false, &acked_, &failed);
  ASSERT_FALSE(s.ok()) << "no rotation happened";
  EXPECT_EQ(env_.faults_triggered(), 1);
  EXPECT_GT(acked_.size(), 30u);
  EXPECT_EQ(SegmentCount(), 1) << "no segment may follow one that is not durable";
  env_.ClearFaults();
  ExpectWritesRefused("after a failed fsync at rotation");
  ExpectAckedState();
  // Power loss now: only the sync writes are guaranteed.
  PowerLossAndReopen();
  std::string v;
  for (const auto& [k, val] : synced) {
    ASSERT_OK(db_->Get(ReadOptions(), kTable, k, &v));
    EXPECT_EQ(v, val);
  }
  ExpectWritableAgain();
}

TEST_F(FaultTest, IndexFlushFailureIsSticky) {
  Open(64ull << 20, 64 << 10);  // small write buffer: the index flushes soon
  CreateTable();
  FaultSpec spec;
  spec.op = FileOp::kAppend;
  spec.path_contains = ".ldb";
  spec.count = -1;
  spec.message = kEnospc;
  env_.InjectFault(spec);
  std::string failed;
  // LevelDB reports the failed flush to the next write that needs room.
  Status s = WriteUntilError(db_.get(), kTable, 5000, false, &acked_, &failed);
  ASSERT_FALSE(s.ok()) << "the index never flushed";
  EXPECT_GE(env_.faults_triggered(), 1);
  env_.ClearFaults();
  ExpectWritesRefused("after a failed index flush");
  {
    // Reads still work.
    std::string v;
    auto it = acked_.begin();
    ASSERT_OK(db_->Get(ReadOptions(), kTable, it->first, &v));
    EXPECT_EQ(v, it->second);
  }
  Reopen();
  ExpectAckedState(failed, std::string(1000, 'a' + std::stoi(failed.substr(1)) % 26));
  ExpectWritableAgain();
}

}  // namespace
}  // namespace runnel::test
