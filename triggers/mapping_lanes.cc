// Copyright 2026 The runnel Authors.

#include "triggers/mapping_lanes.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>

#include "triggers/mapping_worker.h"
#include "triggers/triggers_impl.h"

namespace runnel {

uint32_t LaneOf(std::string_view key, uint32_t lanes) {
  if (lanes <= 1) return 0;
  return static_cast<uint32_t>(XXH3_64bits(key.data(), key.size()) % lanes);
}

LaneCheckpoints::LaneCheckpoints(DBInternal* db, uint32_t mapping_id,
                                 std::vector<uint64_t> committed)
    : db_(db), mapping_id_(mapping_id), count_(committed.size()), committed_(std::move(committed)) {
  uint64_t position = 0;
  std::string result;
  if (db_->ReadCheckpoint(mapping_id_, &position, &result)) {
    MutexLock lock(&mu_);
    result_ = std::move(result);
  }
}

uint64_t LaneCheckpoints::committed(uint32_t lane) const {
  MutexLock lock(&mu_);
  return committed_[lane];
}

Status LaneCheckpoints::Commit(uint32_t lane, uint64_t position, std::string_view result,
                               const WriteBatch& writes, const std::vector<ItemMutation>& items,
                               uint8_t chain_depth, const log::CheckpointData& window) {
  // Held across the commit: two lanes committing at once must reach the log
  // in the order they read committed_, or the later frame could carry the
  // other lane's older position and take it back.
  MutexLock lock(&mu_);
  std::vector<uint64_t> next = committed_;
  next[lane] = position;
  log::CheckpointData cp;
  cp.mapping_id = mapping_id_;
  cp.position = *std::min_element(next.begin(), next.end());
  // A lane with no result of its own (it has not invoked since it
  // started) must not take back the mapping's.
  cp.result = result.empty() ? std::string_view(result_) : result;
  cp.has_window = window.has_window;
  cp.window_start_micros = window.window_start_micros;
  cp.window_state = window.window_state;
  cp.snapshot = window.snapshot;
  const bool even =
      std::all_of(next.begin(), next.end(), [&](uint64_t p) { return p == next.front(); });
  if (!even) cp.lane_positions = next;
  Status s = db_->CommitCheckpoint(writes, items, cp, chain_depth);
  if (s.ok()) {
    committed_ = std::move(next);
    if (!result.empty()) result_ = std::string(result);
  }
  return s;
}

MappingLanes::MappingLanes(TriggersImpl* owner, uint32_t mapping_id, uint32_t factor)
    : owner_(owner), mapping_id_(mapping_id), factor_(std::max<uint32_t>(factor, 1)) {}

MappingLanes::~MappingLanes() { Stop(); }

void MappingLanes::Start() {
  uint64_t position = 0;
  std::vector<uint64_t> lanes;
  if (ReadPositions(&position, &lanes) && !lanes.empty() && lanes.size() != factor_) {
    // Rare (a factor change): the drain waits for the old lanes.
    thread_ = std::thread([this] { Run(); });
    return;
  }
  Run();
}

void MappingLanes::RequestStop() {
  MutexLock lock(&mu_);
  stop_ = true;
  for (auto& w : workers_) w->RequestStop();
}

void MappingLanes::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
  std::vector<std::unique_ptr<MappingWorker>> workers;
  {
    MutexLock lock(&mu_);
    workers.swap(workers_);
  }
  for (auto& w : workers) w->Stop();
}

bool MappingLanes::ReadPositions(uint64_t* position, std::vector<uint64_t>* lanes) const {
  DBInternal* db = owner_->db();
  std::string result;
  lanes->clear();
  if (db->ReadCheckpoint(mapping_id_, position, &result)) {
    *lanes = db->ReadCheckpointLanes(mapping_id_);
    return true;
  }
  // Held: a range-for does not keep the temporary shared_ptr alive.
  const auto cat = db->CurrentCatalog();
  for (const auto& m : cat->data().mappings) {
    if (m.id == mapping_id_) {
      *position = m.initial_position;
      return true;
    }
  }
  return false;  // deleted meanwhile
}

void MappingLanes::Run() {
  if (!Drain()) {
    gave_up_ = true;
    return;
  }
  uint64_t position = 0;
  std::vector<uint64_t> lanes;
  if (!ReadPositions(&position, &lanes)) {
    gave_up_ = true;
    return;
  }
  if (lanes.size() != factor_) lanes.assign(factor_, position);
  auto checkpoints = std::make_shared<LaneCheckpoints>(owner_->db(), mapping_id_, lanes);
  std::vector<std::unique_ptr<MappingWorker>> workers;
  for (uint32_t lane = 0; lane < factor_; ++lane) {
    workers.push_back(std::make_unique<MappingWorker>(owner_, mapping_id_, checkpoints, lane));
  }
  if (!Launch(std::move(workers), /*final=*/true)) gave_up_ = true;
}

bool MappingLanes::Drain() {
  for (;;) {
    uint64_t position = 0;
    std::vector<uint64_t> lanes;
    if (!ReadPositions(&position, &lanes)) return false;
    // Even lanes (or one) re-split anywhere; lanes that match the factor
    // just resume.
    if (lanes.empty() || lanes.size() == factor_) return true;
    // The old lanes, as they were, run up to the one furthest ahead: then
    // every record below that position is done and none above it is, and
    // any split can start there.
    const uint64_t barrier = *std::max_element(lanes.begin(), lanes.end());
    const auto old = static_cast<uint32_t>(lanes.size());
    auto checkpoints = std::make_shared<LaneCheckpoints>(owner_->db(), mapping_id_, lanes);
    std::vector<std::unique_ptr<MappingWorker>> workers;
    for (uint32_t lane = 0; lane < old; ++lane) {
      workers.push_back(
          std::make_unique<MappingWorker>(owner_, mapping_id_, checkpoints, lane, barrier));
    }
    if (!Launch(std::move(workers), /*final=*/false)) return false;
    // Rare (a factor change): a plain wait for the drain lanes to return.
    for (;;) {
      if (stop_.load()) return false;
      bool done = true;
      {
        MutexLock lock(&mu_);
        for (const auto& w : workers_) done &= w->Finished();
      }
      if (done) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    bool drained = true;
    std::vector<std::unique_ptr<MappingWorker>> finished;
    {
      MutexLock lock(&mu_);
      for (const auto& w : workers_) drained &= w->Drained();
      finished.swap(workers_);
    }
    for (auto& w : finished) w->Stop();
    // A lane that returned early (disabled, deleted): the mapping is
    // restarted when it is enabled again, and drains then.
    if (!drained) return false;
  }
}

bool MappingLanes::Launch(std::vector<std::unique_ptr<MappingWorker>> workers, bool final) {
  MutexLock lock(&mu_);
  if (stop_.load()) return false;
  for (auto& w : workers) w->Start();
  workers_ = std::move(workers);
  launched_ = final;
  return true;
}

bool MappingLanes::Idle() const {
  MutexLock lock(&mu_);
  if (workers_.empty()) return gave_up_.load();
  for (const auto& w : workers_) {
    // A drain lane that returned waits for the final lanes to start: that
    // is work still to do.
    if (!w->Idle() || (!launched_ && w->Finished())) return false;
  }
  return true;
}

void MappingLanes::Retry() {
  MutexLock lock(&mu_);
  for (auto& w : workers_) w->Retry();
}

std::string MappingLanes::LastResult() const {
  MutexLock lock(&mu_);
  std::string first;
  for (const auto& w : workers_) {
    std::string r = w->LastResult();
    if (r.rfind("PROBLEM", 0) == 0) return r;
    if (first.empty()) first = std::move(r);  // the first lane's that has one
  }
  return first;
}

bool MappingLanes::Finished() const {
  if (gave_up_.load()) return true;
  MutexLock lock(&mu_);
  if (!launched_) return false;
  for (const auto& w : workers_) {
    if (!w->Finished()) return false;
  }
  return true;
}

MappingMetrics MappingLanes::Metrics() const {
  MutexLock lock(&mu_);
  MappingMetrics m;
  std::vector<double> durations;
  for (const auto& w : workers_) {
    const MappingMetrics l = w->Metrics();
    w->Durations(&durations);
    m.iterator_age_ms = std::max(m.iterator_age_ms, l.iterator_age_ms);
    m.invocations += l.invocations;
    m.errors += l.errors;
    m.records_in += l.records_in;
    m.records_failed += l.records_failed;
    m.records_filtered_out += l.records_filtered_out;
    m.last_invocation_micros = std::max(m.last_invocation_micros, l.last_invocation_micros);
    // 0: the lane has not loaded its position yet.
    if (l.position != 0)
      m.position = m.position == 0 ? l.position : std::min(m.position, l.position);
    if (!w->Idle()) ++m.concurrent_lanes;
    // (A snapshot mapping has one lane.)
    m.snapshot_records += l.snapshot_records;
    m.snapshot_done = l.snapshot_done;
    m.snapshot_sequence = std::max(m.snapshot_sequence, l.snapshot_sequence);
  }
  if (!durations.empty()) {
    std::sort(durations.begin(), durations.end());
    m.duration_p50_ms = durations[durations.size() / 2];
    m.duration_p99_ms = durations[std::min(durations.size() - 1, durations.size() * 99 / 100)];
  }
  return m;
}

}  // namespace runnel
