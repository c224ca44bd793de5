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
//  * LevelDB's background work keeps the default Env's thread at the
//    default priority. Running it at nice 19 (session 10) kept a compaction
//    from taking half a stream reader's core, but on a loaded machine it
//    starved the compactions writes wait for at level 0 (random puts fell
//    to 5.5k/s, 0.03x LevelDB, with builds running beside; nice 10: 0.25x;
//    nice 0: 0.53x): see bench/RESULTS.md, "Issue 13, session 10".
//  * Table files are read through read-only mappings (as LevelDB's own
//    Env does), but what scans leave in the process's RSS is bounded: once
//    sequential reads (iterators, compactions) have mapped in
//    kMappedTableBudget bytes, the pages of every mapping read since are
//    given back (MADV_DONTNEED; see index_env.cc). With LevelDB's mappings
//    a full scan of the index (the key filter's, at open) left the whole
//    index in RSS. Point reads (Get) are not counted: their pages stay
//    mapped until the next give-back, as before.
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
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace runnel {

class MappedTables;

class IndexEnv : public leveldb::EnvWrapper {
 public:
  // Bytes of pages mapped in by sequential reads of the table mappings
  // between two give-backs: about the most a scan leaves in RSS.
  static constexpr uint64_t kMappedTableBudget = 16ull << 20;

  explicit IndexEnv(leveldb::Env* base);
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
};

}  // namespace runnel

#endif  // RUNNEL_DB_INDEX_ENV_H_
