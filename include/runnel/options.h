// Copyright 2026 The runnel Authors.
//
// Options that control a DB and its individual operations.
//
// Every field has an inline default; a default-constructed Options opens (and
// creates, if missing) a durable DB with a 24 h stream retention.

#ifndef RUNNEL_INCLUDE_OPTIONS_H_
#define RUNNEL_INCLUDE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "runnel/env.h"

namespace runnel {

// What recovery does when the log is damaged. Modelled on RocksDB's
// WALRecoveryMode; every mode reports what it found in the DB's info log
// (DIR/LOG) and in DB::recovery_report().
enum class WALRecoveryMode : uint8_t {
  // Default. A damaged frame at the very end of the newest segment (a write
  // torn by a crash or power loss: short, checksum mismatch, or zero-filled up
  // to end of file) is cut off and reported; such a frame was never
  // acknowledged as durable. Damage anywhere else fails DB::Open with
  // Corruption naming the segment file and byte offset.
  kTolerateCorruptedTailRecords = 0,
  // Any damage, including a torn tail, fails DB::Open. For callers that
  // write only with sync=true and want to hear about every anomaly.
  kAbsoluteConsistency = 1,
  // Explicit repair: damaged frames anywhere are skipped; recovery resumes at
  // the next intact frame and reports each skipped byte range together with
  // the sequence numbers it held (as far as they can be inferred). Data in the
  // skipped frames is lost; use only after reading the report.
  kSkipAnyCorruptedRecords = 2,
};

// Options for DB::Open. The struct is copied at Open; later changes have no
// effect on an open DB.
struct Options {
  // Create the directory and an empty DB if DIR has none.
  bool create_if_missing = true;

  // Fail Open with Busy if DIR already holds a DB.
  bool error_if_exists = false;

  // The DB's name, as tools show it (DB::name(); `runnel inspect`, dumps).
  // Empty means the base name of the DB directory. Fixed when the DB is
  // created; a different non-empty value at a later Open is ignored.
  std::string name;

  // The region and account of the DB's ARNs, as the cloud shapes them:
  //   table     arn:aws:dynamodb:<region>:<account_id>:table/<T>
  //   stream    arn:aws:dynamodb:<region>:<account_id>:table/<T>/stream/<label>
  //   function  arn:aws:lambda:<region>:<account_id>:function:<name>
  // The region is also the awsRegion of every stream record. Open fails with
  // InvalidArgument unless region is 1-32 of [a-z0-9-] (not starting or
  // ending with '-') and account_id is twelve digits.
  //
  // Both are fixed when the DB is created, like name: ARNs are stored (event
  // source mappings keep their stream's ARN) and handed out (to clients, in
  // records), so they must not change under them. At a later Open these two
  // fields are checked for form and otherwise ignored: a DB created in
  // "eu-west-1" keeps answering with eu-west-1 ARNs when it is reopened with
  // default Options. DB::region() and DB::account_id() tell the values in
  // force. DBs created before these options existed read as the defaults.
  std::string region = "us-east-1";
  std::string account_id = "000000000000";

  // What to do with a damaged log at Open. See WALRecoveryMode.
  WALRecoveryMode recovery_mode = WALRecoveryMode::kTolerateCorruptedTailRecords;

  // File system seam for tests and fault injection (see runnel/env.h);
  // nullptr means Env::Default(). Both the log and the LevelDB index perform
  // all file I/O through it (directory fsync aside). Its clock is the DB's
  // wall clock: commit times, table and stream creation times, retention by
  // age, function log lines. Not owned; must outlive the DB.
  Env* env = nullptr;

  // A log segment is closed (fsynced) and a new one started once it reaches
  // this size. Retention deletes whole segments, so this is also the
  // granularity of trimming. Minimum 64 KiB.
  uint64_t segment_bytes = 64ull << 20;

  // Stream retention: a segment whose newest record is older than this is
  // deleted once it is durable in the index. DynamoDB Streams keep 24 h.
  // 0 keeps segments forever (unless max_log_bytes says otherwise).
  uint64_t retention_seconds = 24 * 3600;

  // Size cap of the log: while the segments together exceed it, the oldest
  // segment that is durable in the index is deleted even if it is younger
  // than retention_seconds. 0 means no cap.
  uint64_t max_log_bytes = 0;

  // How often the background retention pass runs (it also runs after each
  // segment switch).
  uint32_t retention_check_seconds = 60;

  // Time to live of typed tables (DB::UpdateTimeToLive): how often the
  // background pass looks for expired items. An item whose expiry time has
  // passed is deleted within about this delay (the cloud: within days).
  // 0 disables the background pass (DB::RunTimeToLive still works).
  uint32_t ttl_check_seconds = 10;

  // LevelDB tuning of the index. The index always uses a bloom filter
  // (10 bits per key) so that the commit path's old-value reads of missing
  // keys rarely touch disk.
  size_t write_buffer_bytes = 4u << 20;
  size_t block_cache_bytes = 8u << 20;
  int max_open_files = 1000;

  // An in-memory filter over the index's item keys (a Bloom filter of this
  // many bits per key, about 1.25 bytes per item at 10) lets a write skip
  // reading the old value of a key that is certainly new; it never changes
  // what a write does. It is built at open by a background scan of the
  // index (writes read old values as before until it is done). 0 disables it.
  int key_filter_bits_per_key = 10;

  // The commit leader takes queued writers into one group until their
  // batches reach this many bytes.
  size_t max_group_bytes = 1u << 20;

  // A leader of a sync group first waits, up to half an fsync and at most
  // this long, for the threads whose sync writes committed within the last
  // few fsyncs and are not queued yet, so that they share its fsync (with
  // 8 sync writers in a loop: about 8 writes per fsync instead of 4). A lone
  // writer never waits; threads that stop coming back in time stop being
  // waited for. 0 turns the wait off. At most 100000 (0.1 s).
  uint32_t sync_group_wait_micros = 1000;

  // Start the trigger runtime at Open: every enabled event source mapping
  // begins invoking its function. Off by default so that tools can open a
  // DB without running user code; see Triggers::Start().
  bool run_triggers = false;

  // The trigger runtime runs every mapping and lane on a pool of this many
  // threads (0: four per core, at least 4). A lane holds a thread only
  // while it reads, invokes or commits; one waiting for records, its
  // batching window or a retry holds none. At most this many handlers run
  // at once, so a pool smaller than the lanes of a mapping whose handler
  // waits (I/O, a sleep) caps its parallelism. 0 to 1024.
  int trigger_threads = 0;
};

// Options for a single read (DB::Get, DB::Scan). Both fields are passed to
// the LevelDB index, which serves every read.
struct ReadOptions {
  // If true, every block read from the index's table files for this call is
  // checked against its checksum, and a mismatch fails the read with
  // Corruption. If false, damage that leaves a block parseable can go
  // unnoticed and return wrong bytes. Items not yet flushed from memory to a
  // table file have no checksum to check. The log (change iterators, streams)
  // is always checked, whatever this says.
  bool verify_checksums = false;

  // If true, blocks read for this call are kept in the block cache
  // (Options::block_cache_bytes). Set it to false for a bulk read (a full
  // Scan, an export) so that it does not push out what point reads use.
  // Results are the same either way.
  bool fill_cache = true;
};

// Options for a single write.
struct WriteOptions {
  // If false, the write survives a crash of the process but may be lost by a
  // crash of the machine (power loss): similar crash semantics to write(2).
  // If true, the write is acknowledged only once its log frame is fsynced:
  // similar to write(2) followed by fdatasync(2). A sync write is never
  // acknowledged from a group whose fsync did not cover it.
  bool sync = false;
};

}  // namespace runnel

#endif  // RUNNEL_INCLUDE_OPTIONS_H_
