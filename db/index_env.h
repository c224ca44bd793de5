// Copyright 2026 The runnel Authors.
//
// IndexEnv: the leveldb::Env under the LevelDB index. It makes LevelDB the
// index of the runnel log rather than a second log:
//
//  * LevelDB's own write-ahead log (<n>.log) is discarded: every change is
//    already in the runnel log, and recovery replays that.
//  * Before LevelDB fsyncs any other file (tables, MANIFEST, CURRENT), the
//    runnel log is fsynced up to everything applied so far. So the durable
//    index is always a prefix of the durable log.
//  * It tracks which applied sequence number is durable in the index: when
//    LevelDB switches memtables it creates a new .log file (we note the
//    sequence of the index's last marker, "\0applied", so far); when it
//    deletes the old .log file the memtable before the switch has been
//    written to a table and recorded in a synced MANIFEST, so that marker is
//    durable: a reopen replays from it. Retention uses it.
//  * Table files are read through read-only mappings (as LevelDB's own
//    Env does), but what scans leave in the process's RSS is bounded: once
//    sequential reads (iterators, compactions) have mapped in
//    kMappedTableBudget bytes, the pages of every mapping read since are
//    given back (MADV_DONTNEED; see index_env.cc). With LevelDB's mappings
//    a full scan of the index (the key filter's, at open) left the whole
//    index in RSS. Point reads (Get) are not counted: their pages stay
//    mapped until the next give-back, as before.
//  * LevelDB's background work (memtable flushes, compactions) runs on the
//    index's own thread, at nice kBackgroundNice, not on the thread the
//    default Env shares among every LevelDB in the process. A compaction
//    left behind by a burst of writes then yields the CPU to the threads
//    that read streams and serve requests instead of taking half of it (on
//    two cores with one busy, GetRecords fell to half speed under the
//    index's compaction); writes cannot outrun it, LevelDB slows them down
//    when level 0 fills. Other LevelDBs in the process keep their priority.
//    The price: while it holds a lock the foreground needs (LevelDB's
//    mutex, the log's I/O mutex in the sync hook) it runs at its low share
//    if the process's own threads keep the CPUs busy, and a write that
//    waits at level 0's stop waits for it at that share. With autogroup
//    scheduling (Linux's default) nice ranks it against this process's
//    threads, not against other processes.
//
// Thread safety: all methods are called by LevelDB from its foreground and
// compaction threads; internal state is guarded by mu_. The sync hook must not
// block on the commit lock (it calls LogWriter::SyncAppended, which only takes
// the log's I/O mutex).

#ifndef RUNNEL_DB_INDEX_ENV_H_
#define RUNNEL_DB_INDEX_ENV_H_

#include <leveldb/env.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace runnel {

class MappedTables;

class IndexEnv : public leveldb::EnvWrapper {
 public:
  // Bytes of pages mapped in by sequential reads of the table mappings
  // between two give-backs: about the most a scan leaves in RSS.
  static constexpr uint64_t kMappedTableBudget = 16ull << 20;
  // The nice value of the index's background thread: the lowest, as
  // RocksDB's Env::LowerThreadPoolCPUPriority(CpuPriority::kLow). Nice 10
  // still let a compaction take ~10% of the reader's core (GetRecords with
  // the other core busy: 1.58-1.62x RocksDB at 10, 1.67-1.98x at 19).
  static constexpr int kBackgroundNice = 19;

  explicit IndexEnv(leveldb::Env* base);
  // Joins the background thread: LevelDB's DB destructor has waited for
  // the work it scheduled, so none is left.
  ~IndexEnv() override;

  // Installed once the log is open; until then (LevelDB's own Open) syncs
  // need no log sync and the applied sequence is the caller's initial value.
  void SetHooks(std::function<leveldb::Status()> sync_log,
                std::function<uint64_t()> applied_sequence);
  // Raises the durable sequence (e.g. to what Open read from the index).
  void NoteDurable(uint64_t sequence);
  // The highest sequence known to be durable in the index.
  uint64_t durable_sequence() const { return durable_.load(); }

  leveldb::Status NewWritableFile(const std::string& f, leveldb::WritableFile** r) override;
  leveldb::Status NewAppendableFile(const std::string& f, leveldb::WritableFile** r) override;
  leveldb::Status RemoveFile(const std::string& f) override;
  // Through the default Env: a bounded mapping (see above), or the base
  // Env's file past 1000 live mappings or if mmap fails. Other Envs (tests
  // inject faults) are read through as they are.
  leveldb::Status NewRandomAccessFile(const std::string& f, leveldb::RandomAccessFile** r) override;
  // Runs fn(arg) on the index's background thread (started on first use),
  // in the order scheduled.
  void Schedule(void (*fn)(void*), void* arg) override EXCLUDES(bg_mu_);

 private:
  leveldb::Status Wrap(leveldb::Status s, leveldb::WritableFile** r);
  // Runs the hook without mu_: it fsyncs the log.
  leveldb::Status SyncLog() EXCLUDES(mu_);

  Mutex mu_;
  std::function<leveldb::Status()> sync_log_ GUARDED_BY(mu_);
  std::function<uint64_t()> applied_ GUARDED_BY(mu_);
  // LevelDB log number -> sequence applied when it was created.
  std::map<uint64_t, uint64_t> log_starts_ GUARDED_BY(mu_);
  std::atomic<uint64_t> durable_{0};
  // Shared with the files, which LevelDB may close after the Env.
  const std::shared_ptr<MappedTables> mapped_;

  void BackgroundThread() EXCLUDES(bg_mu_);
  Mutex bg_mu_;
  CondVar bg_cv_;
  std::deque<std::pair<void (*)(void*), void*>> bg_queue_ GUARDED_BY(bg_mu_);
  bool bg_started_ GUARDED_BY(bg_mu_) = false;
  bool bg_stop_ GUARDED_BY(bg_mu_) = false;
  std::thread bg_thread_;  // started and joined under bg_mu_'s protocol
};

}  // namespace runnel

#endif  // RUNNEL_DB_INDEX_ENV_H_
