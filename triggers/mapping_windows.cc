// Copyright 2026 The runnel Authors.
//
// Tumbling windows (TumblingWindowInSeconds) of a MappingWorker: how records
// are cut into windows, when a window's final invocation is made, and how
// the window's state travels with the checkpoint.
//
// A record belongs to the window of its commit time (windows are aligned to
// multiples of their length since the epoch), but never to one before the
// open window, or before the end of the window closed last: a record whose
// window has already been reported (the clock stepped back) counts in the
// next one, so no window is ever reported twice and no record is lost. The
// window's state is committed with every checkpoint the worker writes
// (log::CheckpointData), so after a crash the mapping resumes from a
// position and the state that covers exactly the records before it.

#include <algorithm>

#include "db/db_internal.h"
#include "runnel/stream.h"
#include "triggers/event_json.h"
#include "triggers/function_log.h"
#include "triggers/invocation.h"
#include "triggers/mapping_worker.h"
#include "util/clock.h"

namespace runnel {
namespace {

constexpr char kFreshState[] = "{}";

int64_t FloorTo(int64_t t, int64_t unit) {
  int64_t q = t / unit;
  if (t % unit != 0 && t < 0) --q;
  return q * unit;
}

}  // namespace

void MappingWorker::LoadWindow(uint64_t position) {
  window_ = Window();
  int64_t start = 0;
  std::string state;
  if (!owner_->db()->ReadCheckpointWindow(mapping_id_, position, &start, &state)) return;
  window_.start = start;
  if (state.empty()) return;  // closed; `start` bounds the next window
  window_.open = true;
  window_.state = std::move(state);
  // The window keeps the length it was opened with while it is open; after
  // a restart, the mapping's current length (a change applies from the next
  // window, or at once after a restart).
  const int64_t unit = int64_t{std::max<uint32_t>(mapping_.tumbling_window_seconds, 1)} * 1000000;
  window_.end = FloorTo(start, unit) + unit;
}

void MappingWorker::FillWindow(log::CheckpointData* cp) const {
  if (!window_.open && mapping_.tumbling_window_seconds == 0) return;
  cp->has_window = true;
  cp->window_start_micros = window_.start;
  cp->window_state = window_.open ? std::string_view(window_.state) : std::string_view();
}

std::chrono::microseconds MappingWorker::WindowWait(std::chrono::microseconds wait) {
  if (!window_.open) return wait;
  // Everything committed up to now is read: after the barrier (see
  // CloseWindowIfDue) that is everything of the window.
  if (window_.barrier) {
    // A read can come back empty before the end of what is committed (at a
    // segment's end): only a cursor past the barrier has seen it all.
    if (cursor_ != nullptr && cursor_->position() > window_.barrier_seq) {
      window_.drained = true;
      return std::chrono::microseconds(0);
    }
    return std::min(wait, std::chrono::microseconds(1000));
  }
  // Wake up just after the window's end to make its final invocation.
  const int64_t until = window_.end - NowMicros(owner_->db()->env()) + 1000;
  return std::clamp(std::chrono::microseconds(until), std::chrono::microseconds(1000), wait);
}

MappingWorker::RoundEnd MappingWorker::CloseWindowIfDue() {
  if (!window_.open) return std::nullopt;
  DBInternal* db = owner_->db();
  // A record of a later window was read, and everything before it is done.
  const bool later = window_.close_at != 0 && position_.load() >= window_.close_at;
  const bool due = later || window_.terminate_early || mapping_.tumbling_window_seconds == 0;
  if (!due) {
    if (NowMicros(db->env()) < window_.end) return std::nullopt;
    if (window_.barrier && !window_.drained) return std::nullopt;  // read on
    if (!window_.barrier) {
      // The clock passed the end. A commit that took its time before the end
      // may still be on its way: commit a checkpoint now (which also
      // persists the window). The commit queue is ordered, so once it is
      // done every commit timed before it is visible, and every later one is
      // timed after the window's end. The window is over once the worker
      // has then read everything committed (WindowWait) without meeting a
      // later record (which would end it at once).
      if (!CommitBarrier()) return std::nullopt;
      window_.barrier = true;
      window_.drained = false;
      return std::nullopt;
    }
  }
  return FinalInvoke();
}

bool MappingWorker::CommitBarrier() {
  DBInternal* db = owner_->db();
  {
    log::CheckpointData cp;
    cp.mapping_id = mapping_id_;
    cp.position = position_.load();
    const std::string result = LastResult();
    cp.result = result;
    FillWindow(&cp);
    if (!db->CommitCheckpoint(WriteBatch(), cp, 0).ok()) return false;
    persisted_ = cp.position;
    persisted_at_ = std::chrono::steady_clock::now();
  }
  // At or after the barrier's own sequence number.
  window_.barrier_seq = db->LastSequence();
  return true;
}

MappingWorker::RoundEnd MappingWorker::CutAtWindow(std::vector<ChangeRecord>* records,
                                                   uint64_t* next_position) {
  if (mapping_.tumbling_window_seconds == 0 || records->empty()) return std::nullopt;
  if (!window_.open) {
    const int64_t unit = int64_t{mapping_.tumbling_window_seconds} * 1000000;
    const int64_t start =
        std::max(FloorTo(records->front().commit_time_micros, unit), window_.start);
    window_.open = true;
    window_.start = start;
    window_.end = FloorTo(start, unit) + unit;
    window_.state = kFreshState;
  }
  window_.drained = false;  // records were read: the window may go on
  size_t keep = 0;
  while (keep < records->size() && (*records)[keep].commit_time_micros < window_.end) ++keep;
  if (keep == records->size()) return std::nullopt;
  // A record of a later window: the open one ends once the records before
  // it are done.
  *next_position = (*records)[keep].sequence;
  window_.close_at = *next_position;
  records->resize(keep);
  if (!records->empty()) return std::nullopt;
  // Nothing of the source table lies between the position and the cut
  // (other tables' commits and checkpoints may): move there, so that the
  // next round makes the final invocation.
  position_ = *next_position;
  return true;
}

void MappingWorker::PrepareWindow(Invocation* inv, bool is_final) {
  if (!window_.open) return;
  if (shard_arn_ != mapping_.event_source_arn) {
    StreamDescription sd;
    shard_id_.clear();
    if (owner_->db()->streams()->DescribeStream(mapping_.event_source_arn, &sd).ok()) {
      shard_id_ = sd.shard_id;
    }
    shard_arn_ = mapping_.event_source_arn;
  }
  inv->window_state = window_.state;
  inv->shard_id = shard_id_;
  inv->plugin_abi = function_.library != nullptr ? function_.library->abi_version() : 0;
  inv->SetWindow(window_.start, window_.end, is_final, is_final && window_.terminate_early);
}

MappingWorker::RoundEnd MappingWorker::CheckWindowResult(Invocation* inv, bool* ok) {
  if (!inv->has_window || !*ok) return std::nullopt;
  if (!inv->state_set) {
    std::string why =
        "runnel: the event source mapping has a tumbling window and the handler returned no "
        "state (call set_state or set_response); the invocation failed, as in the cloud";
    if (inv->plugin_abi != 0 && inv->plugin_abi < 3) {
      why += " (the plugin was built for function ABI version " + std::to_string(inv->plugin_abi) +
             ", which has no window state: rebuild it against runnel/function.h version 3)";
    }
    inv->LogLine(why);
    *ok = false;
    return std::nullopt;
  }
  if (inv->new_state.size() > kMaxWindowStateBytes) {
    const std::string size = std::to_string(inv->new_state.size());
    if (window_.state != kFreshState) {
      inv->LogLine("runnel: the state returned (" + size +
                   " bytes) exceeds the limit of 1048576 bytes: the window is terminated early; "
                   "its final invocation gets the state before this batch, and the batch is "
                   "delivered again with a fresh state");
      window_.terminate_early = true;
      if (log_ != nullptr) log_->FlushIfDue();
      return true;  // nothing of this invocation is kept
    }
    inv->LogLine("runnel: the state returned (" + size +
                 " bytes) exceeds the limit of 1048576 bytes, from a fresh state; the invocation "
                 "failed");
    *ok = false;
    return std::nullopt;
  }
  window_.previous_state = window_.state;
  window_.state = inv->new_state;
  return std::nullopt;
}

bool MappingWorker::FinalInvoke() {
  const log::MappingEntryData& m = mapping_;
  runnel_batch abi = {};
  abi.event_source_arn = m.event_source_arn.c_str();
  abi.mapping_uuid = m.uuid.c_str();
  Invocation inv;
  PrepareWindow(&inv, /*is_final=*/true);
  bool ok = InvokeEmpty(abi, &inv);
  if (ok && !inv.state_set) {
    bool unused = true;
    CheckWindowResult(&inv, &unused);  // logs why
    ok = false;
  }
  const std::string window = WindowTime(window_.start) + " to " + WindowTime(window_.end);
  if (ok) {
    // Close the window: its write-backs and the checkpoint in one frame, so
    // its aggregate is reported exactly once. After an early termination the
    // window goes on (same bounds) with a fresh state.
    Window next = window_;
    next.close_at = 0;
    next.barrier = false;
    next.drained = false;
    next.terminate_early = false;
    if (window_.terminate_early) {
      next.state = kFreshState;
    } else {
      next.open = false;
      next.start = window_.end;
      next.state.clear();
    }
    const Window before = window_;
    window_ = next;
    log::CheckpointData cp;
    cp.mapping_id = mapping_id_;
    cp.position = position_.load();
    cp.result = "OK";
    FillWindow(&cp);
    Status s = owner_->db()->CommitCheckpoint(inv.writes, inv.items.Mutations(), cp, 1);
    if (s.ok()) {
      persisted_ = cp.position;
      persisted_at_ = std::chrono::steady_clock::now();
      attempts_ = 0;
      SetResult("OK");
      if (log_ != nullptr) log_->FlushIfDue();
      return true;
    }
    window_ = before;
    inv.LogLine("committing the final invocation's writes failed: " + s.ToString());
  }
  {
    MutexLock lock(&mu_);
    ++metrics_.errors;
  }
  ++attempts_;
  if (m.max_retry_attempts != -1 && attempts_ > static_cast<uint32_t>(m.max_retry_attempts)) {
    // Give up on the window: close it without its aggregate.
    const std::string result = "PROBLEM: the final invocation for the window " + window +
                               " failed " + std::to_string(attempts_) +
                               " times; the window's state was dropped";
    const Window before = window_;
    window_.open = false;
    window_.start = window_.end;
    window_.state.clear();
    window_.close_at = 0;
    window_.terminate_early = false;
    window_.barrier = false;
    window_.drained = false;
    log::CheckpointData cp;
    cp.mapping_id = mapping_id_;
    cp.position = position_.load();
    cp.result = result;
    FillWindow(&cp);
    if (owner_->db()->CommitCheckpoint(WriteBatch(), cp, 0).ok()) {
      attempts_ = 0;
      SetResult(result);
      return true;
    }
    window_ = before;
  }
  SetResult("PROBLEM: Function call failed (the final invocation for the window " + window + ")");
  blocked_ = true;
  idle_ = true;
  const auto backoff = std::chrono::milliseconds(
      std::min<int64_t>(10000, int64_t{50} << std::min<uint32_t>(attempts_ - 1, 8)));
  return Sleep(backoff);
}

}  // namespace runnel
