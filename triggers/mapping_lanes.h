// Copyright 2026 The runnel Authors.
//
// MappingLanes: the runtime of one event source mapping with
// ParallelizationFactor N. Its records are split into N lanes by XXH3-64 of
// the item key; each lane is a MappingWorker that reads the stream, keeps
// the records of its lane and runs the whole delivery loop (batches,
// batching window, filters, retries, bisection, partial batch responses,
// failure destination) on them alone. A key is always in the same lane, so
// its records stay in order.
//
// Durable position: the checkpoint holds, per lane, the position that lane
// has committed, and their minimum (the low-water mark, which retention and
// older readers see). A lane commits its position with its write-backs in
// one frame (LaneCheckpoints::Commit), so after a crash each lane resumes
// from its own position: nothing lost, skipped or applied twice.
//
// A checkpoint whose lanes do not match the factor (the factor was changed,
// maybe just before a crash) is first drained: its lanes run, as they were,
// up to the position of the one furthest ahead; once they are even, the
// mapping re-splits from there with the new factor.
//
// Thread safety: the public methods may be called from any thread.

#ifndef RUNNEL_TRIGGERS_MAPPING_LANES_H_
#define RUNNEL_TRIGGERS_MAPPING_LANES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "db/db_internal.h"
#include "runnel/triggers.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace runnel {

class MappingWorker;
class TriggersImpl;

// The lane of a record with key `key` among `lanes`.
uint32_t LaneOf(std::string_view key, uint32_t lanes);

// The committed positions of a mapping's lanes, shared by its workers. Every
// checkpoint frame carries all of them: commits are serialized here so that
// the log's last checkpoint always holds each lane's latest position (a
// checkpoint commit is not fsynced, so this costs no disk wait).
class LaneCheckpoints {
 public:
  LaneCheckpoints(DBInternal* db, uint32_t mapping_id, std::vector<uint64_t> committed);

  uint32_t lanes() const { return static_cast<uint32_t>(count_); }
  uint64_t committed(uint32_t lane) const EXCLUDES(mu_);
  // Commits `writes` and `items` with a checkpoint where `lane` is at
  // `position` (and every other lane where it committed last), as one
  // frame, with the tumbling window (has_window, window_start_micros,
  // window_state) and the snapshot progress (snapshot) of `window`; a
  // mapping with either has one lane. On failure nothing changes.
  Status Commit(uint32_t lane, uint64_t position, std::string_view result, const WriteBatch& writes,
                const std::vector<ItemMutation>& items, uint8_t chain_depth,
                const log::CheckpointData& window = {}) EXCLUDES(mu_);

 private:
  DBInternal* const db_;
  const uint32_t mapping_id_;
  const size_t count_;
  mutable Mutex mu_;
  std::vector<uint64_t> committed_ GUARDED_BY(mu_);
  // The mapping's LastProcessingResult as last committed: a lane that has
  // not invoked yet has none of its own and commits this one.
  std::string result_ GUARDED_BY(mu_);
};

class MappingLanes {
 public:
  MappingLanes(TriggersImpl* owner, uint32_t mapping_id, uint32_t factor);
  ~MappingLanes();  // stops and joins

  // Starts the lanes on the owner's WorkerPool. A checkpoint of another
  // layout (the factor changed) is drained first by a thread of its own, so
  // that Start returns at once; otherwise the lanes start here.
  void Start();
  // As MappingWorker's: asks every lane to stop, without waiting.
  void RequestStop() EXCLUDES(mu_);
  void Stop() EXCLUDES(mu_);

  uint32_t factor() const { return factor_; }
  // True when every lane is idle (MappingWorker::Idle), drain lanes
  // included; false between the drain and the final lanes.
  bool Idle() const EXCLUDES(mu_);
  void Retry() EXCLUDES(mu_);
  // A lane's PROBLEM if any has one, else the first lane's result that is
  // not empty (a lane that has not invoked yet has none).
  std::string LastResult() const EXCLUDES(mu_);
  // True once every lane has returned (disabled, deleted, stopped).
  bool Finished() const EXCLUDES(mu_);
  // The lanes' metrics summed (counts), the worst (iterator age) or the
  // lowest (position); concurrent_lanes counts the lanes not idle.
  MappingMetrics Metrics() const EXCLUDES(mu_);

 private:
  void Run();
  // Lets lanes of a checkpoint that does not match the factor catch up with
  // the one furthest ahead. False if stopped before they did.
  bool Drain();
  // Runs `workers` as the current lanes (`final`: not drain lanes). False
  // (and starts nothing) if stopping.
  bool Launch(std::vector<std::unique_ptr<MappingWorker>> workers, bool final) EXCLUDES(mu_);
  // The committed position of the mapping (its initial position if it has
  // no checkpoint) and its lanes' positions (empty: all there).
  bool ReadPositions(uint64_t* position, std::vector<uint64_t>* lanes) const;

  TriggersImpl* const owner_;
  const uint32_t mapping_id_;
  const uint32_t factor_;
  std::thread thread_;  // only while a factor change drains
  std::atomic<bool> stop_{false};
  // Set when Run() returned without starting the final lanes.
  std::atomic<bool> gave_up_{false};

  mutable Mutex mu_;
  std::vector<std::unique_ptr<MappingWorker>> workers_ GUARDED_BY(mu_);
  bool launched_ GUARDED_BY(mu_) = false;  // the final lanes run
};

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_MAPPING_LANES_H_
