// Copyright 2026 The runnel Authors.
//
// MappingWorker: runs one event source mapping, as a task of the trigger
// runtime's WorkerPool: one round per step. Between rounds it waits, without
// holding a thread, for records past its position (woken by the commit), for
// its batching window or a backoff to pass. It builds a batch (size or
// batching window), invokes the function, and advances the checkpoint only
// when the batch succeeded or was handed to the failure destination; failing
// batches are retried with capped exponential backoff, bisected if asked,
// and discarded (to the destination) once they exceed the retry count or
// record age. Write-backs are committed with the checkpoint in one frame.
// With ParallelizationFactor > 1 each worker is one lane of its mapping
// (MappingLanes): it reads the whole stream, keeps the records whose key
// hashes to its lane, and commits its own position in the shared checkpoint
// (LaneCheckpoints).

#ifndef RUNNEL_TRIGGERS_MAPPING_WORKER_H_
#define RUNNEL_TRIGGERS_MAPPING_WORKER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cdc/catalog.h"
#include "cdc/stream_cursor.h"
#include "db/db_internal.h"
#include "runnel/function.h"
#include "runnel/stream.h"
#include "runnel/triggers.h"
#include "triggers/filter_pattern.h"
#include "triggers/mapping_lanes.h"
#include "triggers/triggers_impl.h"
#include "triggers/worker_pool.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace runnel {

struct Invocation;

class MappingWorker final : public WorkerPool::Task {
 public:
  // Runs lane `lane` of `lanes` (lanes->lanes() == 1: the whole mapping),
  // from the position the lane committed. With a `drain_barrier`, the lane
  // processes only records below it and returns once it is there
  // (Drained()).
  MappingWorker(TriggersImpl* owner, uint32_t mapping_id, std::shared_ptr<LaneCheckpoints> lanes,
                uint32_t lane, uint64_t drain_barrier = 0);
  ~MappingWorker() override;  // stops and joins

  // Adds the worker to its owner's pool.
  void Start();
  // Asks the worker to stop after its current invocation (without waiting).
  void RequestStop();
  // RequestStop, then waits until it has stopped. Not on a pool thread.
  void Stop();

  uint32_t mapping_id() const { return mapping_id_; }
  // True when the worker has nothing to do: caught up with everything
  // committed, or waiting out a failing batch's backoff, or blocked on a
  // missing function.
  bool Idle() const;
  // Something it was blocked on may have changed (a handler was registered,
  // a function created or updated): wake up and try again now.
  void Retry();
  std::string LastResult() const;
  // True once the worker has ended (its mapping was disabled or deleted, or
  // it was stopped).
  bool Finished() const { return finished_.load(); }
  MappingMetrics Metrics() const;
  // Appends the recent invocation durations (ms).
  void Durations(std::vector<double>* out) const;
  // True once a drain lane has returned at its barrier, its position
  // committed.
  bool Drained() const { return drained_.load(); }

 private:
  // WorkerPool::Task: one round, then what to wait for.
  WorkerPool::Wait Step() override;
  // What is left to do once the rounds end: persist, release, flush.
  void Finish();
  // One round: read, invoke, checkpoint or retry. Returns false when the
  // worker should stop. Before it returns, a step that must wait sets next_.
  bool Round();

  // Round()'s steps, in the order it takes them. A step that may end the
  // round returns RoundEnd: empty to go on, or the value Round() returns.
  using RoundEnd = std::optional<bool>;
  // The records of one round, and the stream pages their views point into.
  struct Batch {
    std::vector<RecordBatch> pages;
    std::vector<ChangeRecord> records;
    size_t bytes = 0;
    // The cursor's position after the records: the checkpoint once they are
    // done.
    uint64_t next_position = 0;
    // The highest trigger chain depth among the records.
    uint8_t depth = 0;
    // Snapshot batches: the items the records' views point into, and the
    // last key read (filtered-out items included).
    std::vector<std::pair<std::string, std::string>> items;
    std::string last_key;
  };
  // Looks up the mapping, its stream and cursor again if the catalog changed.
  RoundEnd RefreshConfiguration();
  // The position to start from: the checkpoint, or the initial position.
  void LoadPosition();
  // Resolves the mapping's function, unless that is done already.
  RoundEnd ResolveFunction();
  // Reads records into *batch until it is full or its batching window closes.
  RoundEnd ReadBatch(Batch* batch);
  // The records at `before` were removed by retention before processing.
  bool DiscardExpired(SequenceNumber before);
  // Nothing to read: persists the position and waits for the next commit.
  bool WaitWhileCaughtUp();
  // A drain lane at its barrier: commits its position and ends.
  bool FinishDrain();
  // True if `r` belongs to this lane.
  bool InLane(const ChangeRecord& r) const;
  // Commits the write-backs with this lane's checkpoint at `position`.
  Status CommitLane(uint64_t position, const std::string& result, const WriteBatch& writes,
                    const std::vector<ItemMutation>& items, uint8_t chain_depth);
  // Drops the records that match none of the mapping's filters; when none
  // is left, moves the position past the batch without invoking.
  RoundEnd ApplyFilters(Batch* batch);
  // Discards a batch that must not be invoked (recursive loop, too old).
  RoundEnd CheckBatch(const Batch& batch);
  // Invokes the function on `abi` (the records of `batch`); true if it
  // succeeded.
  bool Invoke(const runnel_batch& abi, const Batch& batch, Invocation* inv);
  // Checkpoints what the invocation finished, with its write-backs.
  bool Settle(const Batch& batch, Invocation* inv, bool ok);
  // A failed attempt: bisect, retry with backoff, or discard the rest of the
  // batch (records from `checkpoint` on, all of them if !ok).
  bool RetryOrDiscard(const Batch& batch, uint64_t checkpoint, bool ok);

  // Tumbling windows (mapping_windows.cc).
  // The window stored with the checkpoint at `position`, if any.
  void LoadWindow(uint64_t position);
  // Adds the window (as of position_) to a checkpoint about to be committed.
  void FillWindow(log::CheckpointData* cp) const;
  // The open window has ended (a later record was seen, the clock passed its
  // end with nothing of it left to read, its state outgrew the limit, or
  // windows were turned off): makes its final invocation.
  RoundEnd CloseWindowIfDue();
  // Opens a window for the first record if none is open, and cuts the
  // records (and *next_position) before the first record of a later window.
  RoundEnd CutAtWindow(std::vector<ChangeRecord>* records, uint64_t* next_position);
  // Gives the invocation its window and state.
  void PrepareWindow(Invocation* inv, bool is_final);
  // After a windowed invocation: it must have returned a state; one over the
  // limit ends the window early (the round ends). Takes the new state.
  RoundEnd CheckWindowResult(Invocation* inv, bool* ok);
  // The final invocation of the open window, with no records; on success
  // its write-backs are committed with the checkpoint that closes it.
  bool FinalInvoke();
  // How long a caught-up worker may wait for a commit before the open
  // window's end needs it.
  // Called when it has read everything committed.
  std::chrono::microseconds WindowWait(std::chrono::microseconds wait);
  // Commits the position and window as a checkpoint (see CloseWindowIfDue).
  bool CommitBarrier();
  // Invoke() on a batch of no records.
  bool InvokeEmpty(const runnel_batch& abi, Invocation* inv);
  // Snapshot bootstrap (StartingPosition SNAPSHOT; mapping_snapshot.cc).
  // Loads the progress with the position (a fresh snapshot if none).
  void LoadSnapshot();
  // One batch of the table's items, or the end of the scan.
  bool SnapshotRound();
  // Reads the next items of the current pass into *batch (opening a pass as
  // of a new index snapshot first if there is none): false with the round's
  // result when the round must end.
  RoundEnd ReadSnapshotBatch(Batch* batch);
  // The scan reached the end of the table: the stream phase starts.
  bool FinishSnapshotScan();
  // Checkpoints a snapshot batch's outcome with `next` as the progress.
  bool SettleSnapshot(const Batch& batch, Invocation* inv, bool ok);
  bool RetrySnapshotBatch(const Batch& batch, bool ok);
  // Stream phase: drops records whose key's snapshot state already holds
  // them; moves past the batch when none is left.
  RoundEnd SkipSnapshotted(Batch* batch);
  // The snapshot progress a checkpoint at cp->position carries.
  void FillSnapshot(log::CheckpointData* cp) const;
  void SetSnapshot(log::SnapshotStateData next);

  void SetResult(const std::string& result);
  // Ends the round: the next one starts in `d` (or when woken). Returns
  // false if stopping.
  bool Sleep(std::chrono::milliseconds d);
  // Commits the in-memory position as a checkpoint if it moved since the
  // last one.
  void PersistPosition();
  Status Discard(const std::vector<ChangeRecord>& records, const std::string& condition,
                 const std::string& arn, uint64_t next_position, const std::string& result,
                 uint32_t invoke_count);

  TriggersImpl* const owner_;
  const uint32_t mapping_id_;
  const std::shared_ptr<LaneCheckpoints> lanes_;
  const uint32_t lane_;
  const uint64_t drain_barrier_;  // 0: none
  std::atomic<bool> drained_{false};
  WorkerPool* const pool_;
  bool started_ = false;  // added to pool_ (by the owner's thread)
  std::atomic<bool> stop_{false};

  // Progress, read by other threads.
  mutable Mutex mu_;
  std::string last_result_ GUARDED_BY(mu_);
  MappingMetrics metrics_ GUARDED_BY(mu_);
  std::deque<double> durations_ GUARDED_BY(mu_);  // the last 1024
  std::atomic<bool> idle_{false};
  std::atomic<bool> blocked_{false};
  // Set by Retry(): the worker looks again at once, and does not count as
  // idle until a round has started after it.
  std::atomic<bool> retry_pending_{false};
  std::atomic<bool> finished_{false};  // failing batch or missing function
  std::atomic<uint64_t> position_{0};

  // Owned by the worker's steps (one at a time, on a pool thread).
  // What the round that just ended waits for (set by Sleep and the waits
  // for commits).
  WorkerPool::Wait next_;
  // A batch whose batching window is still open: the next round reads on
  // into it. Dropped if the mapping's stream, batch size or batching window
  // changed meanwhile (RefreshConfiguration).
  std::unique_ptr<Batch> pending_;  // (not std::optional: clang sees Batch incomplete)
  std::chrono::steady_clock::time_point batch_window_end_;
  bool batch_open_ = false;    // ReadBatch left pending_ to wait for more
  uint32_t attempts_ = 0;      // failed attempts of the current batch
  uint32_t bisect_limit_ = 0;  // 0: the mapping's batch size
  // The configuration as of catalog_ (refreshed when the catalog changes).
  std::shared_ptr<const Catalog> catalog_;
  log::MappingEntryData mapping_;
  FilterSet filters_;  // mapping_'s
  // Records below this sequence were counted in records_filtered_out
  // already (a retried batch is filtered again).
  uint64_t filter_counted_ = 0;
  bool function_ok_ = false;
  ResolvedFunction function_;
  FunctionLog* log_ = nullptr;
  // Just past the last record of the source table the cursor returned (of
  // any lane, filtered out or not): a position past it moved past records
  // of ours, and is persisted soon.
  uint64_t read_end_ = 0;
  // The last checkpoint committed, and when.
  uint64_t persisted_ = 0;
  std::chrono::steady_clock::time_point persisted_at_;
  // Reads the stream; kept across rounds (its decoded frame too).
  std::unique_ptr<StreamCursor> cursor_;
  std::string cursor_arn_;
  // The tumbling window as of position_, committed with it. Closed
  // (!open): `start` is the earliest start of the next window (the end of
  // the one closed last, or 0).
  struct Window {
    bool open = false;
    int64_t start = 0;
    int64_t end = 0;
    std::string state;           // open: a JSON object
    std::string previous_state;  // restored if the next commit fails
    // The sequence of the first record of a later window, once read (0:
    // none yet): the window ends when the position reaches it.
    uint64_t close_at = 0;
    bool terminate_early = false;  // a returned state outgrew the limit
    // The clock passed the end and a checkpoint was committed after that
    // (every commit timed before the end is visible); drained: everything
    // committed was read since, without a later record.
    bool barrier = false;
    bool drained = false;
    uint64_t barrier_seq = 0;  // the last sequence once it was committed
  };
  Window window_;
  std::string shard_id_;  // of cursor_arn_'s stream, for window events
  std::string shard_arn_;
  std::atomic<uint32_t> source_table_{0};
  SequenceNumber stream_end_ = 0;  // 0 while the stream is enabled

  // Snapshot bootstrap, owned by the worker's steps: the progress as last
  // committed, the current pass (an index snapshot; gone after a restart),
  // and when the pass started (the records' ApproximateCreationDateTime).
  log::SnapshotStateData snap_;
  std::unique_ptr<TableSnapshot> snap_read_;
  int64_t snap_time_micros_ = 0;
  // The same, for Idle() and Metrics() on other threads.
  std::atomic<bool> snap_scanning_{false};
  std::atomic<bool> snap_done_{false};
  std::atomic<uint64_t> snap_records_{0};
  std::atomic<uint64_t> snap_sequence_{0};
};

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_MAPPING_WORKER_H_
