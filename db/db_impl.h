// Copyright 2026 The runnel Authors.
//
// DBImpl: the store. Split by concern across db_impl.cc (open, close, reads,
// tables), db_write.cc (group commit), db_recovery.cc (log replay) and
// db_retention.cc (segment deletion).

#ifndef RUNNEL_DB_DB_IMPL_H_
#define RUNNEL_DB_DB_IMPL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cdc/catalog.h"
#include "cdc/codec.h"
#include "cdc/log_format.h"
#include "cdc/stream_reader.h"
#include "db/db_internal.h"
#include "db/key_filter.h"
#include "runnel/db.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace leveldb {
class Cache;
class DB;
class FilterPolicy;
class Logger;
struct Options;
class WriteBatch;
}  // namespace leveldb

namespace runnel {

class DirLock;
class IndexEnv;
namespace log {
class LogWriter;
}
namespace items {
struct PreparedWrite;
}

class DBImpl final : public DBInternal {
 public:
  DBImpl(const Options& options, std::string dir);
  ~DBImpl() override;

  // Called once by DBInternal::Open.
  Status Open();

  Status Close() override;
  Status CreateTable(std::string_view name, const StreamSpecification& stream) override;
  Status DeleteTable(std::string_view name) override;
  Status UpdateTable(std::string_view name, const StreamSpecification& stream) override;
  Status DescribeTable(std::string_view name, TableDescription* description) override;
  Status ListTables(std::vector<std::string>* names) override;
  Status ListStreams(std::string_view table, std::vector<StreamInfo>* streams) override;
  Status Put(const WriteOptions& options, std::string_view table, std::string_view key,
             std::string_view value) override;
  Status Delete(const WriteOptions& options, std::string_view table, std::string_view key) override;
  Status Write(const WriteOptions& options, const WriteBatch& batch, CommitInfo* info) override;
  Status Get(const ReadOptions& options, std::string_view table, std::string_view key,
             std::string* value) override;
  Status Scan(const ReadOptions& options, std::string_view table, const ScanOptions& scan,
              ScanResult* result) override;
  SequenceNumber LastSequence() const override { return last_sequence_.load(); }
  SequenceNumber FirstAvailableSequence() const override;
  Status WaitForSequence(SequenceNumber sequence, std::chrono::microseconds timeout) override;
  StreamReader* streams() override { return &streams_; }
  Triggers* triggers() override;
  Status NewChangeIterator(SequenceNumber start, std::unique_ptr<ChangeIterator>* it) override;
  void SetRetentionFloor(std::string_view owner, SequenceNumber keep_from) override;
  void ClearRetentionFloor(std::string_view owner) override;
  Status RunRetention(int* deleted) override;
  const RecoveryReport& recovery_report() const override { return report_; }
  const std::string& name() const override { return name_; }
  const std::string& id() const override { return id_hex_; }
  const std::string& region() const override { return region_; }
  const std::string& account_id() const override { return account_id_; }

  // --- Typed tables: db_items_schema.cc, db_items_write.cc, db_transact.cc,
  // db_ttl.cc (writes) and db_items_read.cc (reads).
  Status CreateTable(std::string_view name, const StreamSpecification& stream,
                     const TableSchema& schema) override;
  Status UpdateTimeToLive(std::string_view table, const TimeToLiveSpecification& spec) override;
  Status RunTimeToLive(uint64_t* deleted) override;
  Status PutItem(const PutItemRequest& request, WriteItemResult* result) override;
  Status UpdateItem(const UpdateItemRequest& request, WriteItemResult* result) override;
  Status DeleteItem(const DeleteItemRequest& request, WriteItemResult* result) override;
  Status GetItem(const ReadOptions& options, const GetItemRequest& request,
                 GetItemResult* result) override;
  Status Query(const ReadOptions& options, const QueryRequest& request,
               QueryResult* result) override;
  Status ScanItems(const ReadOptions& options, const ScanRequest& request,
                   QueryResult* result) override;
  Status Query(const ReadOptions& options, const QueryRequest& request, ItemPage* page) override;
  Status ScanItems(const ReadOptions& options, const ScanRequest& request, ItemPage* page) override;
  Status BatchGetItem(const ReadOptions& options, const BatchGetItemRequest& request,
                      BatchGetItemResult* result) override;
  Status BatchWriteItem(const BatchWriteItemRequest& request,
                        BatchWriteItemResult* result) override;
  Status TransactWriteItems(const TransactWriteItemsRequest& request,
                            TransactWriteItemsResult* result) override;
  Status TransactGetItems(const ReadOptions& options, const TransactGetItemsRequest& request,
                          TransactGetItemsResult* result) override;

  // --- DBInternal: for the trigger runtime (see db/db_internal.h).
  void Attach(std::unique_ptr<Attachment> attachment) override;
  Status CommitMeta(const MetaPrepare& prepare, SequenceNumber* seq = nullptr) override;
  Status CommitCheckpoint(const WriteBatch& writes, const log::CheckpointData& checkpoint,
                          uint8_t chain_depth) override;
  Status CommitCheckpoint(const WriteBatch& writes, const std::vector<ItemMutation>& items,
                          const log::CheckpointData& checkpoint, uint8_t chain_depth) override;
  SequenceNumber LastTableChange(uint32_t table_id) override;
  void SetTableChangeListener(TableChangeListener listener) override;
  Status CheckOpenForTriggers() const override { return CheckOpen(); }
  bool ReadCheckpoint(uint32_t mapping_id, uint64_t* position, std::string* result) override;
  std::vector<uint64_t> ReadCheckpointLanes(uint32_t mapping_id) override;
  bool ReadCheckpointWindow(uint32_t mapping_id, uint64_t position, int64_t* start_micros,
                            std::string* state) override;
  bool ReadSnapshotState(uint32_t mapping_id, log::SnapshotStateData* state) override;
  Status NewTableSnapshot(uint32_t table_id, std::unique_ptr<TableSnapshot>* snapshot) override;
  std::shared_ptr<const Catalog> CurrentCatalog() const override { return catalog(); }
  StreamReaderImpl* stream_impl() override { return &streams_; }
  LogSource* log_source() override { return &source_; }
  const std::string& dir() const override { return dir_; }
  const uint8_t* id_bytes() const override { return id_; }
  leveldb::Env* env() const override { return env_; }

 private:
  // TransactWriteItems after the token check: *committed says whether the
  // transaction is in the log.
  Status CommitTransaction(const TransactWriteItemsRequest& request,
                           TransactWriteItemsResult* result, bool* committed);
  // Query and Scan, into either result type.
  template <typename Request, typename Out>
  Status ReadItems(const ReadOptions& options, const Request& request, Out* out);

  struct TableStats {
    int64_t count = 0;
    int64_t bytes = 0;
  };
  // A queued writer (LevelDB's DBImpl::Writer).
  struct Writer {
    const WriteBatch* batch = nullptr;
    // A metadata change: validated against the current catalog and turned
    // into a frame by the leader (so that checks and the change are atomic).
    const MetaPrepare* meta = nullptr;
    // A trigger mapping's checkpoint, committed in the batch's frame.
    const log::CheckpointData* checkpoint = nullptr;
    // Typed item writes the leader decides against the current items
    // (db_items_write.cc): all of them succeed, then they become changes
    // after the batch's; or none is written and w->status is the first
    // failure. Null for none.
    const std::vector<ItemMutation>* items = nullptr;
    // If set, the leader stores every mutation's own status here (one per
    // item, in order): a transaction's cancellation reasons.
    std::vector<Status>* item_status = nullptr;
    // The frame holds deletions by a table's time to live.
    bool ttl_delete = false;
    uint8_t chain_depth = 0;
    bool sync = false;
    bool done = false;
    Status status;
    CommitInfo info;
    CondVar cv;  // waited on with mu_
    std::thread::id thread = std::this_thread::get_id();
  };

  // --- db_write.cc
  Status ValidateBatch(const WriteBatch& batch) const;
  Status CommitTableMeta(log::MetaData::Kind kind, std::string_view name,
                         const StreamSpecification& stream);
  // Queues w and returns its status once a leader committed it.
  Status Commit(Writer* w);
  // Leader only: commits the writers, which are the front of writers_.
  Status CommitGroup(const std::vector<Writer*>& group);
  // A sync leader's short wait for the threads whose sync writes committed
  // lately and that are not queued yet (see db_write.cc).
  void GatherSyncSiblings(Writer* leader) REQUIRES(mu_);
  void NoteSyncGroup(const std::vector<Writer*>& group) REQUIRES(mu_);
  Status CommitBatches(const std::vector<Writer*>& group);
  Status CommitMetaGroup(Writer* w);
  // Validates a metadata request against the catalog; fills *meta.
  Status PrepareTableMeta(log::MetaData::Kind kind, const std::string& name,
                          const StreamSpecification& stream, const Catalog& catalog,
                          int64_t now_micros, uint64_t seq, log::MetaData* meta);
  // Adds the index effects of a metadata frame at `seq` to the catalog and
  // the index (deleting a table's items in chunks). Used by commit and replay.
  Status ApplyMeta(const log::MetaData& meta, uint64_t seq);
  Status PurgeTableItems(uint32_t table_id) REQUIRES(index_write_mu_);
  // Sets every table's statistics to what its items in the index add up
  // to (after a recovery that skipped damage).
  Status RecountStats();
  // Notes in the index that a recount is due (written when damage is skipped).
  Status FlagRecount();
  void AddStatsTo(const std::unordered_map<uint32_t, TableStats>& delta,
                  leveldb::WriteBatch* batch);
  // Adds the index's marker for `seq` to *batch: "\0applied" = seq, and the
  // statistics of every table changed since the last marker (and by
  // `delta`, the group's own, not yet in stats_). Leader only.
  void AddMarkerTo(uint64_t seq, const std::unordered_map<uint32_t, TableStats>& delta,
                   leveldb::WriteBatch* batch);
  // After an index write: applies `delta` to stats_, notes the write's
  // sequence, and if the write carried a marker, that the index now names
  // `seq` (the statistics are clean). Leader only.
  void NoteIndexWrite(uint64_t seq, bool marker,
                      const std::unordered_map<uint32_t, TableStats>& delta);

  // CommitBatches()'s steps, over the state of one group's commit.
  struct GroupCommit;
  // Classifies one writer's batch and appends its frame (unless it changes
  // nothing); a batch naming a missing table fails alone (w->status).
  Status AddToGroup(GroupCommit* g, Writer* w);
  // The value a key holds as the group sees it: the group's own earlier
  // write (overlay) or the index.
  struct OldValue {
    bool exists = false;
    std::string_view value;  // stable for the group's commit
  };
  Status LookupOld(GroupCommit* g, const std::string& ikey, OldValue* old);
  // Classifies one operation against the index and the group's earlier
  // operations; an operation that changes nothing adds nothing. `known`:
  // the old value already looked up (typed items), else null.
  Status ClassifyChange(GroupCommit* g, const log::TableEntryData* t, const WriteBatch::Op& op,
                        const OldValue* known = nullptr);
  // A decided item mutation, ready to classify.
  struct DecidedItem;
  // Calls every item mutation's decide against the current item; on any
  // failure sets w->status (nothing of w is written).
  Status DecideItems(GroupCommit* g, Writer* w, std::vector<DecidedItem>* decided);
  void AppendBatchFrame(GroupCommit* g, Writer* w);

  // --- db_recovery.cc
  Status OpenOrCreateIdentity();
  // Opens the LevelDB index into index_, first cutting a torn tail off its
  // MANIFEST if LevelDB reports one (db/index_manifest.h).
  Status OpenIndex(const leveldb::Options& lo);
  Status LoadIndexState(uint64_t* applied);
  // Snapshot mappings (db_snapshot.cc): the retention floors of their
  // checkpoints' segments, from the index at Open, and as checkpoints with
  // snapshot progress are committed (the frame at `seq`).
  void LoadSnapshotFloors();
  // Fills lane_entries_ from the index (at Open, after recovery).
  void LoadLaneEntries();
  void UpdateSnapshotFloor(uint32_t mapping_id, const log::SnapshotStateData& st, uint64_t seq);
  void DropSnapshotFloor(uint32_t mapping_id);
  // Floors whose clearing waited for the clearing checkpoint to be durable.
  void ReleaseSnapshotFloors(uint64_t durable);
  Status Recover(uint64_t applied);
  class ReplayWrites;
  Status ReplayBatch(std::string_view payload, uint64_t first_seq, ReplayWrites* writes,
                     std::unordered_map<uint32_t, TableStats>* delta);
  void Info(const std::string& msg);

  // Recover()'s steps, in order, over the state of one replay of the log.
  struct ReplayPass;
  // Creates log_, the writer that continues the log after replay.
  void CreateLogWriter();
  // Finds the segment that holds the index's applied sequence + 1.
  Status FindReplayStart(ReplayPass* pass);
  // Opens the segment; leaves pass->reader null if it is skipped (damaged)
  // or removed (the torn newest one).
  Status OpenReplaySegment(ReplayPass* pass, uint64_t segment);
  Status ReplaySegment(ReplayPass* pass);
  // The reader met damage: cut a torn tail, skip it, or fail.
  Status ReplayDamage(ReplayPass* pass, bool* segment_done);
  Status ReplayFrame(ReplayPass* pass);
  // Writes the pending index batch (with the applied sequence and the
  // statistics) and publishes it.
  Status FlushReplay(ReplayPass* pass);
  // Sets the sequence counters and resumes the log where replay ended.
  Status FinishReplay(ReplayPass* pass);

  // --- db_retention.cc
  void RetentionLoop();
  void KickRetention();

  // --- db_impl.cc: the absent-key filter.
  // Creates key_filter_ (if enabled) and makes it ready: at once for an
  // index without items, else once a background scan has added them.
  void StartKeyFilter();
  void StopKeyFilter();

  // --- db_ttl.cc
  void TtlLoop();
  void StopTtl();
  // Commits item mutations as one frame (db_items_write.cc and db_ttl.cc).
  Status CommitItems(const std::vector<ItemMutation>& items, bool sync, bool ttl_delete,
                     std::vector<Status>* item_status, CommitInfo* info);
  // Commits one PutItem/UpdateItem/DeleteItem and fills *result (also after
  // a failed condition).
  Status CommitPrepared(items::PreparedWrite* p, bool sync, WriteItemResult* result);

  std::shared_ptr<const Catalog> catalog() const;
  Status CheckOpen() const;
  // Makes `last` visible to readers and wakes waiting consumers; `tables`
  // are the tables the published frames changed.
  void Publish(uint64_t last, const std::vector<uint32_t>& tables = {});
  // Wakes every WaitForSequence waiter (they then see closed_).
  void WakeWaiters();

  // The stream API's view of this DB.
  class Source final : public LogSource {
   public:
    explicit Source(DBImpl* db) : db_(db) {}
    leveldb::Env* env() override { return db_->env_; }
    const std::string& wal_dir() override { return db_->wal_dir_; }
    const uint8_t* db_id() override { return db_->id_; }
    const std::string& region() override { return db_->region_; }
    const std::string& account_id() override { return db_->account_id_; }
    Status Catalog(std::shared_ptr<const runnel::Catalog>* catalog) override;
    Status LastSequence(SequenceNumber* last) override;
    Status WaitFor(SequenceNumber sequence,
                   std::chrono::steady_clock::time_point deadline) override;

   private:
    DBImpl* const db_;
  };

  const Options options_;
  const std::string dir_;
  const std::string wal_dir_;
  const std::string index_dir_;
  leveldb::Env* const env_;
  std::string name_;
  std::string region_;
  std::string account_id_;
  std::string id_hex_;
  uint8_t id_[log::kDbIdSize] = {};

  std::unique_ptr<DirLock> lock_;
  leveldb::Logger* info_log_ = nullptr;
  std::unique_ptr<IndexEnv> index_env_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_policy_;
  std::unique_ptr<leveldb::Cache> block_cache_;
  std::unique_ptr<leveldb::DB> index_;
  std::unique_ptr<log::LogWriter> log_;
  RecoveryReport report_;

  // Commit queue.
  mutable Mutex mu_;
  std::deque<Writer*> writers_ GUARDED_BY(mu_);
  CondVar idle_cv_;  // signalled when writers_ drains
  // Threads whose sync writes committed lately, and when: a sync leader
  // waits briefly for those not queued so that they share its fsync.
  struct RecentSyncWriter {
    std::thread::id thread;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<RecentSyncWriter> recent_sync_ GUARDED_BY(mu_);
  // While a leader waits for them (empty otherwise): the threads it waits
  // for, and how many of them have queued since (the last one wakes it).
  std::vector<std::thread::id> gather_expected_ GUARDED_BY(mu_);
  size_t gather_arrived_ GUARDED_BY(mu_) = 0;
  // Waits in a row that nobody joined, and leaders that skipped the wait
  // since (GatherSyncSiblings).
  int gather_misses_ GUARDED_BY(mu_) = 0;
  uint64_t gather_skipped_ GUARDED_BY(mu_) = 0;
  // Moving average of the log's fsync, in nanoseconds (0: none yet).
  std::atomic<int64_t> sync_nanos_{0};
  // Sticky: once the log or the index failed a write, every write fails.
  Status bg_error_ GUARDED_BY(mu_);
  std::atomic<bool> closed_{false};

  // Owned by the group-commit leader (only the writer at the front of
  // writers_ touches these, and only while it leads).
  uint64_t next_sequence_ = 1;
  std::string frames_;
  struct GroupCommitState {
    GroupCommitState();
    ~GroupCommitState();
    std::unique_ptr<GroupCommit> group;  // reused from group to group
  } group_state_;

  // The last sequence applied to the index and visible to readers.
  std::atomic<uint64_t> last_sequence_{0};

  // Consumers waiting for a sequence (WaitForSequence). The leader takes
  // wait_mu_ only when waiters_ > 0, so commits without waiters pay one
  // atomic load.
  Mutex wait_mu_;
  CondVar wait_cv_;
  std::atomic<int> waiters_{0};
  // Per table: the last sequence that changed it (since Open). The trigger
  // runtime is woken by the commit itself (SetTableChangeListener).
  std::unordered_map<uint32_t, uint64_t> table_last_ GUARDED_BY(wait_mu_);
  // The mappings whose checkpoint has lane positions in the index (a
  // "\0lanes" entry): only theirs is deleted when a checkpoint without lanes
  // commits, so that the checkpoints of the many one-lane mappings carry no
  // index delete. Owned by the commit leader (one at a time) and Open.
  std::unordered_set<uint32_t> lane_entries_;
  // SetTableChangeListener's; has_listener_ spares commits the lock when
  // there is none.
  Mutex listener_mu_;
  TableChangeListener listener_ GUARDED_BY(listener_mu_);
  std::atomic<bool> has_listener_{false};
  Source source_{this};
  StreamReaderImpl streams_{&source_};

  mutable Mutex catalog_mu_;
  std::shared_ptr<const Catalog> catalog_ GUARDED_BY(catalog_mu_);

  mutable Mutex stats_mu_;
  std::unordered_map<uint32_t, TableStats> stats_ GUARDED_BY(stats_mu_);
  // Tables whose statistics changed since the index's last marker.
  std::unordered_set<uint32_t> stats_dirty_ GUARDED_BY(stats_mu_);

  // The index's marker ("\0applied", with the statistics) is written with
  // every kMarkerEvery-th group commit, not with each: two entries less per
  // commit in LevelDB's memtable, and in every table it flushes and
  // compacts. Recovery replays from the marker; the items of the groups
  // after it are replayed onto themselves (a record's effect is absolute)
  // and the statistics are rebuilt from the records (each carries its old
  // size), so the result is exact either way.
  static constexpr uint32_t kMarkerEvery = 64;
  // GatherSyncSiblings: a thread is a sibling for this many fsyncs after its
  // last sync write.
  static constexpr int64_t kSiblingWindowSyncs = 4;
  static constexpr size_t kMaxRecentSyncWriters = 64;
  static constexpr int kGatherMissLimit = 4;
  static constexpr uint64_t kGatherProbeEvery = 16;
  uint32_t groups_since_marker_ = 0;  // leader only
  // The sequence of the last marker written: what the index names once the
  // memtable holding it is flushed (IndexEnv's durable sequence).
  std::atomic<uint64_t> index_marker_{0};
  // The last sequence whose index write has returned. Held across each
  // commit's index write, so that a LevelDB snapshot taken under it pairs
  // with the exact sequence it reflects (TableSnapshot).
  Mutex index_write_mu_;
  uint64_t index_applied_ GUARDED_BY(index_write_mu_) = 0;

  // Retention.
  Mutex retention_mu_;
  CondVar retention_cv_;
  bool retention_stop_ GUARDED_BY(retention_mu_) = false;
  bool retention_kick_ GUARDED_BY(retention_mu_) = false;
  std::map<std::string, uint64_t, std::less<>> floors_ GUARDED_BY(retention_mu_);
  // Snapshot floors to clear once the index is durable past the sequence.
  std::map<std::string, uint64_t, std::less<>> floor_releases_ GUARDED_BY(retention_mu_);
  Mutex retention_run_mu_;  // one pass at a time
  std::atomic<uint64_t> first_available_{1};
  std::thread retention_thread_;

  // Time to live (db_ttl.cc).
  Mutex ttl_mu_;
  CondVar ttl_cv_;
  bool ttl_stop_ GUARDED_BY(ttl_mu_) = false;
  Mutex ttl_run_mu_;  // one pass at a time
  std::thread ttl_thread_;

  // The absent-key filter (db/key_filter.h; null when disabled). Consulted
  // only once ready, i.e. once it holds every item key of the index: keys
  // present at open are added by key_filter_thread_'s scan, keys inserted
  // since by the commit path.
  std::unique_ptr<KeyFilter> key_filter_;
  std::atomic<bool> key_filter_ready_{false};
  std::atomic<bool> key_filter_stop_{false};
  std::thread key_filter_thread_;

  // TransactWriteItems' ClientRequestTokens of the last 10 minutes (in
  // memory only: a retry after a restart writes again).
  struct TokenEntry {
    std::string request_hash;
    int64_t expires_micros = 0;
    Status status;
    TransactWriteItemsResult result;
    bool in_progress = false;  // claimed by a call still committing
  };
  Mutex token_mu_;
  std::map<std::string, TokenEntry, std::less<>> tokens_ GUARDED_BY(token_mu_);

  // The trigger runtime (see Attach); stopped first in Close().
  std::unique_ptr<Attachment> attachment_;
};

// The key schema and time to live of a table, for DescribeTable
// (db_items_schema.cc).
void FillTypedDescription(const log::TableEntryData& table, TableDescription* description);

}  // namespace runnel

#endif  // RUNNEL_DB_DB_IMPL_H_
