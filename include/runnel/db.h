// Copyright 2026 The runnel Authors.
//
// DB: an embedded key-value store whose write-ahead log is also its change
// stream.
//
// A DB directory holds named tables of byte-string keys and values. Every
// change is appended to one log (DIR/wal/) before it is applied to the LevelDB
// index (DIR/index/); the log is the only write-ahead log, LevelDB's own is
// switched off. On Open, the index is brought up to date by replaying the log
// after the last sequence number the index holds durably.
//
// Crash behaviour: a write acknowledged with WriteOptions::sync = true
// survives power loss; one acknowledged with sync = false survives a crash of
// the process. A torn write at the end of the log is cut off on Open and
// reported; damage elsewhere fails Open (see WALRecoveryMode).
//
// Thread safety: all methods of DB may be called concurrently from any number
// of threads. Concurrent writers are committed in groups that share one log
// append and at most one fsync.

#ifndef RUNNEL_INCLUDE_DB_H_
#define RUNNEL_INCLUDE_DB_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runnel/change.h"
#include "runnel/item.h"
#include "runnel/options.h"
#include "runnel/status.h"
#include "runnel/stream.h"
#include "runnel/write_batch.h"

namespace runnel {

// Functions, event source mappings and their runtime: runnel/triggers.h.
class Triggers;

// Limits. A violation is InvalidArgument naming the argument and the limit;
// the write is rejected whole and nothing is written.
//
// Table names follow DynamoDB: 3 to 255 characters of [A-Za-z0-9_.-].
inline constexpr size_t kMinTableNameBytes = 3;
inline constexpr size_t kMaxTableNameBytes = 255;
// Keys are 1 byte to 4 KiB: they are stored in LevelDB index blocks and
// repeated in every change record, so they are kept small (DynamoDB allows
// 2 KiB partition + 1 KiB sort key).
inline constexpr size_t kMinKeyBytes = 1;
inline constexpr size_t kMaxKeyBytes = 4096;
// Values up to 16 MiB (DynamoDB: 400 KB items). A value may be empty.
inline constexpr size_t kMaxValueBytes = 16u << 20;
// One atomic batch is one log frame; its operations together may not exceed
// 64 MiB of keys and values (a MODIFY's old image counts too when the view
// type keeps it, so the frame itself may be up to about twice that).
inline constexpr size_t kMaxBatchBytes = 64u << 20;

struct StreamSpecification {
  bool stream_enabled = false;
  // Meaningful only when stream_enabled.
  StreamViewType stream_view_type = StreamViewType::kNewAndOldImages;
};

struct TableDescription {
  std::string table_name;
  uint32_t table_id = 0;
  int64_t creation_time_micros = 0;
  StreamSpecification stream_specification;
  // The newest stream (enabled or not); empty if the table never had one.
  std::string latest_stream_arn;
  std::string latest_stream_label;
  // Exact as of the last committed write (DynamoDB's are approximate).
  uint64_t item_count = 0;
  // Sum of key and value bytes of the table's items.
  uint64_t table_size_bytes = 0;
  // Empty key_schema: a byte table.
  TableSchema schema;
  TimeToLiveSpecification time_to_live;
};

// Which keys Scan returns. All bounds combine (intersection).
struct ScanOptions {
  // Only keys that start with this prefix.
  std::string prefix;
  // Only keys >= start_key (bytewise).
  std::string start_key;
  // Only keys < end_key; empty means no upper bound.
  std::string end_key;
  // Resume after this key: pass the previous page's last_evaluated_key.
  std::string exclusive_start_key;
  // At most this many items; 0 means no limit.
  size_t limit = 0;
};

struct ScanResult {
  std::vector<std::pair<std::string, std::string>> items;
  // Set when the scan stopped at the limit and more keys may follow: pass it
  // as ScanOptions::exclusive_start_key to continue.
  std::string last_evaluated_key;
  bool has_more = false;
};

// What a successful Write committed.
struct CommitInfo {
  // Sequence number of the batch's first change record; 0 if the batch
  // changed nothing (then no record was written).
  SequenceNumber first_sequence = 0;
  // Number of change records the batch produced (no-op operations excluded).
  uint32_t record_count = 0;
};

// What recovery found at Open.
struct RecoveryReport {
  // The last sequence number durable in the index before replay.
  SequenceNumber index_sequence = 0;
  // Frames and change records replayed from the log into the index.
  uint64_t replayed_frames = 0;
  uint64_t replayed_records = 0;
  // A torn tail that was cut off: the segment file, the byte offset where the
  // damaged frame started, and how many bytes were removed.
  bool torn_tail = false;
  std::string torn_tail_segment;
  uint64_t torn_tail_offset = 0;
  uint64_t torn_tail_bytes = 0;
  // A torn tail cut off the index's MANIFEST (index/MANIFEST-*, LevelDB's
  // record of which table files make up the index): a record whose append a
  // power cut interrupted before LevelDB synced it, so the edit it carried
  // never took effect. The file name and how many bytes were removed.
  bool index_torn_tail = false;
  std::string index_torn_tail_file;
  uint64_t index_torn_tail_bytes = 0;
  // Damaged ranges skipped under kSkipAnyCorruptedRecords.
  struct Skipped {
    std::string segment;
    uint64_t offset = 0;
    uint64_t bytes = 0;
    // Sequence numbers lost, inferred from the neighbouring intact frames;
    // 0 when unknown (e.g. the damage reached the end of the log).
    SequenceNumber first_lost = 0;
    SequenceNumber last_lost = 0;
    std::string reason;
  };
  std::vector<Skipped> skipped;
};

class DB {
 public:
  // Opens the DB in directory `dir`, creating it if options.create_if_missing.
  // A DB directory is owned by one process at a time: if another DB object
  // (in this or another process) has it open, returns Busy with "locked by
  // pid N". On success stores the DB in *db.
  static Status Open(const Options& options, const std::string& dir, std::unique_ptr<DB>* db);

  DB() = default;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  // Closes the DB if it is still open (see Close()).
  virtual ~DB() = default;

  // Stops the trigger runtime, waits for in-flight writes, makes the log
  // durable, stops background work and releases the directory lock. Every
  // later call returns FailedPrecondition. Idempotent.
  // REQUIRES: no call on this DB (or its streams() / triggers()) is running
  // concurrently with Close(); writes queued before it are committed, but a
  // read racing with it may use freed state.
  virtual Status Close() = 0;

  // --- Tables. Metadata changes are frames of the log, always fsynced.

  // Busy if the table exists; InvalidArgument for a bad name. A byte table.
  virtual Status CreateTable(std::string_view name, const StreamSpecification& stream) = 0;
  // A typed table when schema.typed() (see runnel/item.h), else a byte
  // table. InvalidArgument for a bad schema (naming the element).
  virtual Status CreateTable(std::string_view name, const StreamSpecification& stream,
                             const TableSchema& schema) = 0;
  // DynamoDB's UpdateTimeToLive: enabling when enabled, or disabling when
  // disabled, is InvalidArgument ("TimeToLive is already enabled"). Typed
  // tables only. Expired items are deleted by a background pass (see
  // Options::ttl_interval) as REMOVE records with ChangeRecord::ttl_delete.
  virtual Status UpdateTimeToLive(std::string_view table, const TimeToLiveSpecification& spec) = 0;
  // Removes the table and its items. Its streams are closed and stay readable
  // until retention removes their records. NotFound if missing.
  virtual Status DeleteTable(std::string_view name) = 0;
  // Enables or disables the table's stream, with DynamoDB's rules: enabling
  // an enabled stream is Busy (ResourceInUse) — including with a different
  // view type (disable first, then enable: a new stream with a new label);
  // disabling a table without an enabled stream is InvalidArgument.
  virtual Status UpdateTable(std::string_view name, const StreamSpecification& stream) = 0;
  virtual Status DescribeTable(std::string_view name, TableDescription* description) = 0;
  // Names of live tables, sorted.
  virtual Status ListTables(std::vector<std::string>* names) = 0;
  // Streams of one table (or of all tables, deleted ones included, when
  // table is empty), oldest first.
  virtual Status ListStreams(std::string_view table, std::vector<StreamInfo>* streams) = 0;

  // --- Items.

  virtual Status Put(const WriteOptions& options, std::string_view table, std::string_view key,
                     std::string_view value) = 0;
  virtual Status Delete(const WriteOptions& options, std::string_view table,
                        std::string_view key) = 0;
  // Commits the batch atomically as one log frame. Every operation is
  // validated first; any violation rejects the whole batch. If info is not
  // null, stores what was committed.
  virtual Status Write(const WriteOptions& options, const WriteBatch& batch,
                       CommitInfo* info = nullptr) = 0;
  // NotFound if the table or the key is missing. Reads see every write that
  // was acknowledged before the call started.
  virtual Status Get(const ReadOptions& options, std::string_view table, std::string_view key,
                     std::string* value) = 0;
  // Items in key order from a consistent snapshot.
  virtual Status Scan(const ReadOptions& options, std::string_view table, const ScanOptions& scan,
                      ScanResult* result) = 0;

  // --- Items of typed tables (runnel/item.h). Byte tables are
  // FailedPrecondition. A condition or update is evaluated by the commit
  // leader against the item as it is at commit time: atomic, with no extra
  // lock or read. A write that changes nothing writes no record.

  virtual Status PutItem(const PutItemRequest& request, WriteItemResult* result) = 0;
  virtual Status UpdateItem(const UpdateItemRequest& request, WriteItemResult* result) = 0;
  virtual Status DeleteItem(const DeleteItemRequest& request, WriteItemResult* result) = 0;
  virtual Status GetItem(const ReadOptions& options, const GetItemRequest& request,
                         GetItemResult* result) = 0;
  // One partition in sort-key order, from a consistent snapshot.
  virtual Status Query(const ReadOptions& options, const QueryRequest& request,
                       QueryResult* result) = 0;
  // Items in index order (hash key encoding, then sort key).
  virtual Status ScanItems(const ReadOptions& options, const ScanRequest& request,
                           QueryResult* result) = 0;
  // The same two, with the items left in their stored form (ItemView): the
  // same items, counts and last_evaluated_key, without decoding each item.
  virtual Status Query(const ReadOptions& options, const QueryRequest& request, ItemPage* page) = 0;
  virtual Status ScanItems(const ReadOptions& options, const ScanRequest& request,
                           ItemPage* page) = 0;
  virtual Status BatchGetItem(const ReadOptions& options, const BatchGetItemRequest& request,
                              BatchGetItemResult* result) = 0;
  // Every request is validated first; then all are committed as one frame
  // (a stronger guarantee than the cloud's, which may apply a part).
  virtual Status BatchWriteItem(const BatchWriteItemRequest& request,
                                BatchWriteItemResult* result) = 0;
  // All or nothing, as one log frame (its records are contiguous in the
  // stream). TransactionCanceled: result->cancellation_reasons says why.
  virtual Status TransactWriteItems(const TransactWriteItemsRequest& request,
                                    TransactWriteItemsResult* result) = 0;
  virtual Status TransactGetItems(const ReadOptions& options,
                                  const TransactGetItemsRequest& request,
                                  TransactGetItemsResult* result) = 0;

  // --- The log.

  // The sequence number of the newest committed change (0 if none).
  virtual SequenceNumber LastSequence() const = 0;
  // The oldest sequence number still in the log (retention removes older
  // ones); LastSequence() + 1 if the log holds nothing.
  virtual SequenceNumber FirstAvailableSequence() const = 0;
  // Visible change records with sequence >= start, up to LastSequence() at
  // the time of the call. Trimmed (naming the first available sequence) if
  // start is older than what the log still holds. It takes no ReadOptions:
  // it reads the log, whose frames are always checked and never cached.
  virtual Status NewChangeIterator(SequenceNumber start, std::unique_ptr<ChangeIterator>* it) = 0;

  // Blocks until LastSequence() >= sequence or the timeout passes; returns
  // OK or TimedOut (FailedPrecondition once the DB closes). The committing
  // thread wakes waiters directly: no polling.
  virtual Status WaitForSequence(SequenceNumber sequence, std::chrono::microseconds timeout) = 0;
  // DynamoDB Streams over this DB's log (see runnel/stream.h). Owned by the
  // DB and valid until it is destroyed; its calls fail once the DB is closed.
  virtual StreamReader* streams() = 0;
  // Functions, event source mappings and their runtime. Owned by the DB;
  // valid until it is destroyed. The runtime runs when Options::run_triggers
  // is set or after triggers()->Start(); Close() stops it first.
  //
  // Declared here with a forward declaration only: include runnel/triggers.h
  // to call it. It stays on DB (rather than a free function of the triggers
  // API) because the runtime is part of every DB that Open returns and lives
  // exactly as long; but db.h does not pull in the triggers API and the
  // plugin ABI (runnel/function.h) with it.
  virtual Triggers* triggers() = 0;

  // Retention will not delete any segment holding a sequence >= keep_from
  // while this floor is set. Owners are independent; the lowest floor wins.
  virtual void SetRetentionFloor(std::string_view owner, SequenceNumber keep_from) = 0;
  virtual void ClearRetentionFloor(std::string_view owner) = 0;
  // Runs one retention pass now (it also runs in the background) and stores
  // the number of segments deleted in *deleted if not null.
  virtual Status RunRetention(int* deleted = nullptr) = 0;

  // Runs one time-to-live pass now: deletes every item of a typed table with
  // TTL enabled whose expiry time is before now. Stores the number of items
  // deleted in *deleted if not null.
  virtual Status RunTimeToLive(uint64_t* deleted = nullptr) = 0;

  // What recovery found when this DB was opened.
  virtual const RecoveryReport& recovery_report() const = 0;
  // The DB's name (Options::name), and its random identity (hex).
  virtual const std::string& name() const = 0;
  virtual const std::string& id() const = 0;
  // The region and account of the DB's ARNs, fixed when it was created
  // (Options::region, Options::account_id).
  virtual const std::string& region() const = 0;
  virtual const std::string& account_id() const = 0;
};

// Removes the DB in `dir`, like LevelDB's DestroyDB: its log, index,
// identity, info log and function logs, then the directory itself unless
// files runnel did not write are left in it (they are not touched). OK if
// `dir` does not exist. Busy ("locked by pid N") while the DB is open, in
// this or another process; nothing is removed then. Not atomic: if it is
// interrupted (a crash), what is left is no usable DB: call it again.
// options.env performs the removal of the log and index files. A reader of
// the streams (StreamReader::OpenReadOnly) holds no lock and is not
// detected; its mapped segments stay readable to it.
Status DestroyDB(const std::string& dir, const Options& options);

}  // namespace runnel

#endif  // RUNNEL_INCLUDE_DB_H_
