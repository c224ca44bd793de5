// Copyright 2026 The runnel Authors.
//
// DBInternal: what the layer above db/ (the trigger runtime, triggers/) needs
// of a DB beyond the public API, and nothing more: commit a metadata change
// or a batch with a mapping checkpoint, wait for a table's change, read the
// stream, and attach something that the DB stops first when it closes.
//
// db/ knows nothing of triggers/: DB::Open, the composition point, lives in
// triggers/ (triggers/db_open.cc). It opens the store with DBInternal::Open,
// attaches the trigger runtime, and hands the DB to the caller. Every DB that
// DB::Open returns is a DBInternal.
//
// Thread safety: as DB, every method may be called concurrently, except
// Attach (see there).

#ifndef RUNNEL_DB_DB_INTERNAL_H_
#define RUNNEL_DB_DB_INTERNAL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cdc/catalog.h"
#include "cdc/codec.h"
#include "cdc/stream_reader.h"
#include "runnel/db.h"

namespace leveldb {
class Env;
}  // namespace leveldb

namespace runnel {

// One write of a typed item whose outcome the commit leader decides against
// the item as it is at commit time (conditions, update expressions,
// transactions; typed write-backs of trigger handlers).
struct ItemMutation {
  // The table's name; it must be a live typed table when the leader runs.
  std::string table;
  // The encoded item key (items::EncodeItemKey).
  std::string key;
  // Called exactly once, by the commit leader, without any DB lock held,
  // with the current encoded item (nullopt if missing; earlier writes of the
  // same group are visible). On OK, *next is the new encoded item or
  // nullopt to delete; leaving the item as it is writes no record. Any error
  // (ConditionalCheckFailed, InvalidArgument) fails the whole commit that
  // carries this mutation, and nothing of it is written.
  std::function<Status(std::optional<std::string_view> current, std::optional<std::string>* next)>
      decide;
  // If not 0: the table id the key was encoded for. A table of that name
  // with another id (deleted and created again, maybe with another key
  // schema, since the request was prepared) fails the commit with NotFound.
  uint32_t table_id = 0;
};

// One consistent read of a table's items, for a mapping's snapshot bootstrap
// (StartingPosition SNAPSHOT). It pins an index snapshot: every change with
// a sequence <= sequence() is in it and none after. Used by one thread at a
// time; destroy it before the DB.
class TableSnapshot {
 public:
  virtual ~TableSnapshot() = default;
  // The last sequence number the items reflect.
  virtual SequenceNumber sequence() const = 0;
  // Up to `limit` items, in key order, with keys greater than `after` (all
  // keys when `after` is empty), stopping once `max_bytes` of keys and
  // values are read; *end is set when no key follows the last one returned.
  virtual Status Read(std::string_view after, size_t limit, size_t max_bytes,
                      std::vector<std::pair<std::string, std::string>>* items, bool* end) = 0;
};

class DBInternal : public DB {
 public:
  // Validates a metadata change against the catalog it will apply to and
  // fills the frame: (catalog, sequence of the frame, now, out).
  using MetaPrepare = std::function<Status(const Catalog&, uint64_t, int64_t, log::MetaData*)>;

  // Something that lives with a DB and calls it from its own threads (the
  // trigger runtime). db/ knows it only through this interface.
  class Attachment {
   public:
    Attachment() = default;
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;
    virtual ~Attachment() = default;

    // Called once by DB::Close() before anything else, while the DB still
    // commits writes (handlers write back through it). Returns once none of
    // the attachment's threads calls the DB any more.
    virtual void BeforeClose() = 0;
    // What DB::triggers() returns; lives as long as the attachment.
    virtual Triggers* triggers() = 0;
  };

  // The store's part of DB::Open: opens (or creates) the DB in `dir` and
  // recovers it, with nothing attached. Same contract as DB::Open otherwise.
  static Status Open(const Options& options, const std::string& dir,
                     std::unique_ptr<DBInternal>* db);
  // The store's part of DestroyDB: under the directory's lock (Busy if the
  // DB is open), calls `remove_attached` (which removes the files of what is
  // attached to a DB, e.g. function logs), then removes the log, the index
  // and the DB's own files, and the directory if nothing else is left in it.
  // Returns the first error; OK if `dir` does not exist.
  static Status Destroy(const std::string& dir, const Options& options,
                        const std::function<Status()>& remove_attached);

  // The DB owns `attachment` from now on: it calls BeforeClose() first in
  // Close() and destroys it with the DB (after Close). DB::triggers()
  // returns attachment->triggers() (nullptr while nothing is attached).
  // REQUIRES: called at most once, before the DB is shared with other
  // threads.
  virtual void Attach(std::unique_ptr<Attachment> attachment) = 0;

  // Commits a metadata change whose validity `prepare` decides (fsynced).
  // Stores the frame's sequence in *seq if not null.
  virtual Status CommitMeta(const MetaPrepare& prepare, SequenceNumber* seq = nullptr) = 0;
  // Commits a handler's write-backs (may be empty) together with a mapping
  // checkpoint, as one frame, without fsync: a power loss drops both
  // together and the batch is simply delivered again.
  virtual Status CommitCheckpoint(const WriteBatch& writes, const log::CheckpointData& checkpoint,
                                  uint8_t chain_depth) = 0;
  // The same with typed write-backs too: the byte writes, then the item
  // mutations, then the checkpoint, in one frame. If a mutation fails, its
  // status is returned and nothing (not even the checkpoint) is committed.
  virtual Status CommitCheckpoint(const WriteBatch& writes, const std::vector<ItemMutation>& items,
                                  const log::CheckpointData& checkpoint, uint8_t chain_depth) = 0;
  // The sequence of the last change to the table since Open (0 if none).
  virtual SequenceNumber LastTableChange(uint32_t table_id) = 0;
  // Called by every commit that changed tables, once its records are
  // visible to readers: `last` is the commit's last sequence, `tables` the
  // tables it changed. It runs on the committing thread while the next
  // commit waits, so it must be quick and must not call the DB. An empty
  // function removes it; returns once no call to the previous one is in
  // progress.
  using TableChangeListener =
      std::function<void(SequenceNumber last, const std::vector<uint32_t>& tables)>;
  virtual void SetTableChangeListener(TableChangeListener listener) = 0;
  // FailedPrecondition once the DB is closed.
  virtual Status CheckOpenForTriggers() const = 0;
  // The checkpoint of a mapping: false if it has none yet (or the DB is
  // closed).
  virtual bool ReadCheckpoint(uint32_t mapping_id, uint64_t* position, std::string* result) = 0;
  // The per lane positions of a mapping's checkpoint (ParallelizationFactor
  // > 1): empty if it has none (one lane, every lane at its position, or
  // a checkpoint older than lanes).
  virtual std::vector<uint64_t> ReadCheckpointLanes(uint32_t mapping_id) = 0;
  // The tumbling window stored with the mapping's checkpoint at `position`
  // (see log::CheckpointData): false if the mapping has none, or if the one
  // stored belongs to another position (a later checkpoint came without a
  // window, e.g. while the mapping had no tumbling window).
  virtual bool ReadCheckpointWindow(uint32_t mapping_id, uint64_t position, int64_t* start_micros,
                                    std::string* state) = 0;
  // A snapshot mapping's progress as of its last checkpoint: false if it has
  // none (or the DB is closed). While it holds segments, retention keeps the
  // log from the smallest segment sequence + 1 on (restored at Open).
  virtual bool ReadSnapshotState(uint32_t mapping_id, log::SnapshotStateData* state) = 0;
  // A consistent read of the items of table `table_id` (see TableSnapshot).
  virtual Status NewTableSnapshot(uint32_t table_id, std::unique_ptr<TableSnapshot>* snapshot) = 0;
  // The catalog as of the last committed metadata change; never null.
  virtual std::shared_ptr<const Catalog> CurrentCatalog() const = 0;
  // The in-process stream reader (the same object as streams()) and the log
  // it reads. Owned by the DB; valid until it is destroyed.
  virtual StreamReaderImpl* stream_impl() = 0;
  virtual LogSource* log_source() = 0;
  // The DB directory, as given to Open.
  virtual const std::string& dir() const = 0;
  // The raw 16-byte id (the key of shard iterator tags).
  virtual const uint8_t* id_bytes() const = 0;
  // The Env behind Options::env: the DB's file system and clock.
  virtual leveldb::Env* env() const = 0;
};

}  // namespace runnel

#endif  // RUNNEL_DB_DB_INTERNAL_H_
