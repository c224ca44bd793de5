// Copyright 2026 The runnel Authors.

#include "triggers/mapping_worker.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cdc/arn.h"
#include "cdc/stream_reader.h"
#include "db/db_internal.h"
#include "db/record_json.h"
#include "triggers/invocation.h"
#include "triggers/snapshot.h"
#include "triggers/triggers_impl.h"
#include "util/clock.h"
#include "util/random.h"
#include "util/time.h"

namespace runnel {
namespace {

// The cloud caps payloads at 6 MB; a batch stops growing there.
constexpr size_t kMaxBatchPayload = 6u << 20;

// The records as the plugin ABI sees them (views into `records`).
std::vector<runnel_record> AbiRecords(const std::vector<ChangeRecord>& records) {
  std::vector<runnel_record> recs(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const ChangeRecord& r = records[i];
    runnel_record& o = recs[i];
    o.sequence_number = r.sequence;
    o.commit_time_micros = r.commit_time_micros;
    o.event_name = static_cast<int32_t>(r.event);
    o.size_bytes = r.size_bytes;
    o.table = r.table.data();
    o.table_len = r.table.size();
    o.key = r.key.data();
    o.key_len = r.key.size();
    o.has_old_image = r.has_old_image;
    o.has_new_image = r.has_new_image;
    o.old_image = r.old_image.data();
    o.old_image_len = r.old_image.size();
    o.new_image = r.new_image.data();
    o.new_image_len = r.new_image.size();
    o.typed = r.typed;
    o.snapshot = r.snapshot;
  }
  return recs;
}

}  // namespace

MappingWorker::MappingWorker(TriggersImpl* owner, uint32_t mapping_id,
                             std::shared_ptr<LaneCheckpoints> lanes, uint32_t lane,
                             uint64_t drain_barrier)
    : owner_(owner),
      mapping_id_(mapping_id),
      lanes_(std::move(lanes)),
      lane_(lane),
      drain_barrier_(drain_barrier),
      pool_(owner->pool()) {}

MappingWorker::~MappingWorker() { Stop(); }

void MappingWorker::Start() {
  started_ = true;
  pool_->Add(this);
}

void MappingWorker::RequestStop() {
  stop_ = true;
  pool_->Wake(this);
}

void MappingWorker::Stop() {
  RequestStop();
  if (started_) pool_->Join(this);
}

bool MappingWorker::Sleep(std::chrono::milliseconds d) {
  next_ = WorkerPool::Wait::Until(std::chrono::steady_clock::now() + d);
  return !stop_.load();
}

void MappingWorker::Retry() {
  retry_pending_ = true;
  pool_->Wake(this);
}

bool MappingWorker::Idle() const {
  // A worker asked to retry is not idle until it has: otherwise a wait for
  // idle right after registering a handler would see the old "blocked".
  if (retry_pending_.load()) return false;
  if (!idle_.load()) return false;
  if (blocked_.load()) return true;
  if (snap_scanning_.load()) return false;
  // Caught up: nothing of the source table is committed at or after the
  // position (other tables' commits, like other mappings' checkpoints, do
  // not count).
  return position_.load() > owner_->db()->LastTableChange(source_table_.load());
}

std::string MappingWorker::LastResult() const {
  MutexLock lock(&mu_);
  return last_result_;
}

MappingMetrics MappingWorker::Metrics() const {
  MutexLock lock(&mu_);
  MappingMetrics m = metrics_;
  if (!durations_.empty()) {
    std::vector<double> d(durations_.begin(), durations_.end());
    std::sort(d.begin(), d.end());
    m.duration_p50_ms = d[d.size() / 2];
    m.duration_p99_ms = d[std::min(d.size() - 1, d.size() * 99 / 100)];
  }
  m.position = position_.load();
  m.snapshot_records = snap_records_.load();
  m.snapshot_done = snap_done_.load();
  m.snapshot_sequence = snap_sequence_.load();
  return m;
}

void MappingWorker::Durations(std::vector<double>* out) const {
  MutexLock lock(&mu_);
  out->insert(out->end(), durations_.begin(), durations_.end());
}

void MappingWorker::SetResult(const std::string& result) {
  MutexLock lock(&mu_);
  last_result_ = result;
}

WorkerPool::Wait MappingWorker::Step() {
  // A retry requested before this round starts is served by it.
  const bool retrying = retry_pending_.load();
  next_ = WorkerPool::Wait::None();
  if (!stop_.load() && Round()) {
    if (retrying) retry_pending_ = false;
    if (!stop_.load()) return next_;
  }
  Finish();
  return WorkerPool::Wait::Done();
}

void MappingWorker::Finish() {
  pending_.reset();
  // A deleted mapping's checkpoint was removed with it: do not write it back.
  bool exists = false;
  const auto cat = owner_->db()->CurrentCatalog();  // a range-for would drop it
  for (const auto& e : cat->data().mappings) {
    exists |= e.id == mapping_id_;
  }
  if (exists) PersistPosition();
  owner_->db()->ClearRetentionFloor(SnapshotFloorOwner(mapping_id_));
  snap_read_.reset();
  if (log_ != nullptr) log_->Flush();
  idle_ = true;
  finished_ = true;
}

void MappingWorker::PersistPosition() {
  const uint64_t pos = position_.load();
  if (pos == 0 || pos == persisted_) return;
  if (CommitLane(pos, LastResult(), WriteBatch(), {}, 0).ok()) {
    persisted_ = pos;
    persisted_at_ = std::chrono::steady_clock::now();
  }
}

Status MappingWorker::Discard(const std::vector<ChangeRecord>& records,
                              const std::string& condition, const std::string& arn,
                              uint64_t next_position, const std::string& result,
                              uint32_t invoke_count) {
  DBInternal* db = owner_->db();
  auto cat = db->CurrentCatalog();
  const log::MappingEntryData* m = nullptr;
  for (const auto& e : cat->data().mappings) {
    if (e.id == mapping_id_) m = &e;
  }
  if (m == nullptr) return Status::OK();
  WriteBatch writes;
  uint8_t depth = 0;
  for (const auto& r : records) depth = std::max<uint8_t>(depth, r.chain_depth);
  if (!m->on_failure_destination.empty() && !records.empty()) {
    // The cloud's on-failure record: metadata of the batch, no record data.
    nlohmann::ordered_json j;
    j["requestContext"] = {
        {"requestId", NewUuid()},
        {"functionArn", arn::Function(db->region(), db->account_id(), m->function_name)},
        {"condition", condition},
        {"approximateInvokeCount", invoke_count}};
    j["responseContext"] = {
        {"statusCode", 200}, {"executedVersion", "$LATEST"}, {"functionError", "Unhandled"}};
    j["version"] = "1.0";
    j["timestamp"] = IsoMicros(NowMicros(owner_->db()->env()));
    StreamDescription sd;
    std::string shard;
    if (db->streams()->DescribeStream(arn, &sd).ok()) shard = sd.shard_id;
    j["DDBStreamBatchInfo"] = {
        {"shardId", shard},
        {"startSequenceNumber", std::to_string(records.front().sequence)},
        {"endSequenceNumber", std::to_string(records.back().sequence)},
        {"approximateArrivalOfFirstRecord", IsoMicros(records.front().commit_time_micros)},
        {"approximateArrivalOfLastRecord", IsoMicros(records.back().commit_time_micros)},
        {"batchSize", records.size()},
        {"streamArn", arn}};
    if (records.front().snapshot) j["DDBStreamBatchInfo"]["runnelSnapshot"] = true;
    char key[128];
    std::snprintf(key, sizeof(key), "%s/%020llu", m->uuid.c_str(),
                  static_cast<unsigned long long>(records.front().sequence));
    writes.Put(m->on_failure_destination, key, j.dump());
  }
  Status s =
      CommitLane(next_position, result, writes, {}, static_cast<uint8_t>(std::min(depth + 1, 255)));
  if (s.ok()) {
    position_ = next_position;
    persisted_ = next_position;
    persisted_at_ = std::chrono::steady_clock::now();
    MutexLock lock(&mu_);
    metrics_.records_failed += records.size();
    last_result_ = result;
  }
  return s;
}

bool MappingWorker::Round() {
  if (RoundEnd end = RefreshConfiguration()) return *end;
  blocked_ = false;
  if (position_.load() == 0) LoadPosition();
  if (RoundEnd end = ResolveFunction()) return *end;
  if (snap_.phase == log::SnapshotPhase::kScanning) return SnapshotRound();
  if (!pending_) {
    if (cursor_->position() != position_.load()) cursor_->Seek(position_.load());
    if (RoundEnd end = CloseWindowIfDue()) return *end;
    pending_ = std::make_unique<Batch>();
    batch_window_end_ =
        std::chrono::steady_clock::now() +
        std::chrono::seconds(bisect_limit_ != 0 ? 0 : mapping_.max_batching_window_seconds);
  }

  // --- Read a batch (over several rounds while its batching window is open).
  batch_open_ = false;
  if (RoundEnd end = ReadBatch(&*pending_)) {
    // Kept only while its batching window is open: any other end of the
    // round (caught up, an error, stopping) reads again from position_.
    if (!batch_open_) pending_.reset();
    return *end;
  }
  Batch batch = std::move(*pending_);
  pending_.reset();
  if (batch.records.empty()) return true;
  idle_ = false;
  batch.next_position = cursor_->position();
  if (RoundEnd end = SkipSnapshotted(&batch)) return *end;
  if (RoundEnd end = CutAtWindow(&batch.records, &batch.next_position)) return *end;
  if (RoundEnd end = ApplyFilters(&batch)) return *end;

  // --- Checks before invoking.
  for (const auto& r : batch.records) batch.depth = std::max(batch.depth, r.chain_depth);
  if (RoundEnd end = CheckBatch(batch)) return *end;

  // --- Invoke.
  const log::MappingEntryData& m = mapping_;
  std::vector<runnel_record> recs = AbiRecords(batch.records);
  runnel_batch abi;
  abi.records = recs.data();
  abi.count = recs.size();
  abi.event_source_arn = m.event_source_arn.c_str();
  abi.mapping_uuid = m.uuid.c_str();
  Invocation inv;
  inv.changes = batch.records.data();
  PrepareWindow(&inv, /*is_final=*/false);
  bool ok = Invoke(abi, batch, &inv);
  if (RoundEnd end = CheckWindowResult(&inv, &ok)) return *end;
  return Settle(batch, &inv, ok);
}

MappingWorker::RoundEnd MappingWorker::RefreshConfiguration() {
  DBInternal* db = owner_->db();
  // Configuration, function and stream are looked up again only when the
  // catalog changed (any metadata commit swaps it).
  auto cat = db->CurrentCatalog();
  if (cat.get() == catalog_.get()) return std::nullopt;
  catalog_ = cat;
  const log::MappingEntryData* found = nullptr;
  for (const auto& e : cat->data().mappings) {
    if (e.id == mapping_id_) found = &e;
  }
  if (found == nullptr || !found->enabled) return false;
  // Any metadata commit swaps the catalog (another mapping created, a table,
  // a function): a batch whose window is open is kept, its window closing
  // when it was going to, unless what shapes it changed.
  if (pending_ && (found->event_source_arn != mapping_.event_source_arn ||
                   found->batch_size != mapping_.batch_size ||
                   found->max_batching_window_seconds != mapping_.max_batching_window_seconds)) {
    pending_.reset();
  }
  mapping_ = *found;
  function_ok_ = false;
  if (Status fs = FilterSet::Compile(mapping_.filter_patterns, &filters_); !fs.ok()) {
    // Validated when set: only a damaged catalog gets here. Delivering
    // records the filters were meant to hold back would be worse than
    // waiting.
    catalog_.reset();
    SetResult("PROBLEM: " + fs.ToString());
    blocked_ = true;
    idle_ = true;
    return Sleep(std::chrono::milliseconds(500));
  }
  SequenceNumber start = 0;
  uint32_t table = 0;
  std::shared_ptr<const Catalog> stream_catalog;
  Status ls = db->stream_impl()->Locate(mapping_.event_source_arn, &table, &start, &stream_end_,
                                        &stream_catalog);
  if (!ls.ok()) {
    catalog_.reset();
    SetResult("PROBLEM: " + ls.ToString());
    blocked_ = true;
    idle_ = true;
    return Sleep(std::chrono::milliseconds(500));
  }
  source_table_ = table;
  if (!cursor_ || cursor_arn_ != mapping_.event_source_arn) {
    cursor_ = std::make_unique<StreamCursor>(db->log_source(), table, start, stream_catalog);
    cursor_arn_ = mapping_.event_source_arn;
  }
  return std::nullopt;
}

void MappingWorker::LoadPosition() {
  uint64_t pos = 0;
  std::string result;
  // The position is the one this lane committed (MappingLanes read the
  // checkpoint). A lone lane starts with the mapping's last result; one of
  // several has none of its own until it invokes (LaneCheckpoints keeps the
  // mapping's: a lane's stale copy could take back another's newer one).
  if (lanes_->lanes() == 1 && owner_->db()->ReadCheckpoint(mapping_id_, &pos, &result) &&
      !result.empty()) {
    SetResult(result);
  }
  position_ = lanes_->committed(lane_);
  if (position_.load() == 0) position_ = mapping_.initial_position;
  persisted_ = position_.load();
  LoadWindow(position_.load());
  LoadSnapshot();
}

MappingWorker::RoundEnd MappingWorker::ResolveFunction() {
  if (function_ok_) return std::nullopt;
  const log::MappingEntryData& m = mapping_;
  ResolvedFunction previous = std::move(function_);
  function_ = ResolvedFunction();
  Status rs = owner_->Resolve(m.function_name, &function_);
  if (rs.ok() && previous.isolated != nullptr && function_.isolated != nullptr &&
      previous.config.library == function_.config.library &&
      previous.config.handler == function_.config.handler &&
      previous.config.code_hash == function_.config.code_hash) {
    // The catalog changed but not the code: the worker (and what its
    // runnel_init set up) carries on.
    function_.isolated = std::move(previous.isolated);
    function_.call = std::move(previous.call);
  }
  if (!rs.ok()) {
    SetResult("PROBLEM: function unavailable: " + rs.message());
    blocked_ = true;
    idle_ = true;
    catalog_.reset();  // look again next round
    return Sleep(std::chrono::milliseconds(500));
  }
  function_ok_ = true;
  log_ = owner_->LogFor(m.function_name);
  return std::nullopt;
}

MappingWorker::RoundEnd MappingWorker::ReadBatch(Batch* batch) {
  DBInternal* db = owner_->db();
  const log::MappingEntryData& m = mapping_;
  std::vector<ChangeRecord>& records = batch->records;
  const uint32_t limit = bisect_limit_ != 0 ? bisect_limit_ : m.batch_size;
  for (;;) {
    if (stream_end_ != 0 && cursor_->position() > stream_end_) {
      if (!records.empty()) break;
      SetResult("PROBLEM: the stream " + m.event_source_arn +
                " is disabled or its table was deleted; no more records will arrive");
      blocked_ = true;
      idle_ = true;
      return Sleep(std::chrono::seconds(1));
    }
    GetRecordsOptions o;
    // A lane keeps about 1/lanes of what it reads: read that much more.
    const uint32_t lanes = lanes_->lanes();
    o.limit = std::min<size_t>((limit - records.size()) * lanes, kMaxBatchSize);
    o.max_bytes = kMaxBatchPayload - batch->bytes;
    const SequenceNumber last = db->LastSequence();
    SequenceNumber upper = stream_end_ != 0 ? std::min(stream_end_, last) : last;
    if (drain_barrier_ != 0) upper = std::min(upper, drain_barrier_ - 1);
    RecordBatch b;
    const SequenceNumber before = cursor_->position();
    Status s = cursor_->position() <= upper ? cursor_->Read(upper, o, &b) : Status::OK();
    if (s.IsTrimmed() && !records.empty()) {
      break;  // invoke what was read; the next round meets the gap
    }
    if (s.IsTrimmed()) return DiscardExpired(before);
    if (!s.ok()) {
      SetResult("PROBLEM: reading the stream: " + s.ToString());
      blocked_ = true;
      idle_ = true;
      cursor_.reset();
      catalog_.reset();  // rebuilds the cursor next round
      return Sleep(std::chrono::milliseconds(500));
    }
    SequenceNumber cut = 0;  // the first record of ours the batch has no room for
    for (const auto& r : b.records()) {
      if (!InLane(r)) continue;
      if (records.size() >= limit) {
        cut = r.sequence;
        break;
      }
      records.push_back(r);
      batch->bytes += r.size_bytes;
    }
    const bool read_some = !b.records().empty();
    if (read_some) read_end_ = std::max<uint64_t>(read_end_, b.records().back().sequence + 1);
    const bool page_full = b.records().size() >= o.limit;
    batch->pages.push_back(std::move(b));
    if (cut != 0) {
      cursor_->Seek(cut);  // the batch ends before it (its next position)
      break;
    }
    if (drain_barrier_ != 0 && cursor_->position() >= drain_barrier_) {
      if (records.empty()) return FinishDrain();
      break;
    }
    if (records.size() >= limit || batch->bytes >= kMaxBatchPayload) break;
    if (stream_end_ != 0 && cursor_->position() > stream_end_) {
      if (records.empty()) continue;  // closed and read: said at the top
      break;
    }
    if (records.empty() && read_some) {
      // Only other lanes' records: read on (they are not ours to wait for).
      if (stop_.load()) return false;
      batch->pages.clear();
      continue;
    }
    if (records.empty() && cursor_->position() < db->FirstAvailableSequence()) {
      // Nothing more to read, yet retention removed what follows: the
      // cursor may still hold the deleted segment (read to its end) and not
      // notice. Say so, as for Trimmed, rather than wait for ever.
      return DiscardExpired(cursor_->position());
    }
    if (records.empty()) return WaitWhileCaughtUp();
    const auto now = std::chrono::steady_clock::now();
    // More of the stream is there at once: a lane reads on to fill its batch.
    if (lanes > 1 && page_full) continue;
    if (now >= batch_window_end_) break;
    // Batching window: the next round reads on into this batch, once more
    // records are committed or the window closes.
    idle_ = false;
    batch_open_ = true;
    next_ = WorkerPool::Wait::ForTableChange(source_table_.load(), cursor_->position(),
                                             batch_window_end_);
    return !stop_.load();
  }
  return std::nullopt;
}

bool MappingWorker::DiscardExpired(SequenceNumber before) {
  // The records expired before they were processed: say so, hand what
  // we know to the failure destination, and go on from what is left.
  const SequenceNumber first = owner_->db()->FirstAvailableSequence();
  const std::string result = "PROBLEM: records expired: sequence " + std::to_string(before) +
                             " to " + std::to_string(first - 1) +
                             " were removed by retention before processing";
  ChangeRecord lost;
  lost.sequence = before;
  ChangeRecord lost_end;
  lost_end.sequence = first - 1;
  Status ds =
      Discard({lost, lost_end}, "RecordsExpired", mapping_.event_source_arn, first, result, 0);
  if (!ds.ok()) SetResult("PROBLEM: " + ds.ToString());
  cursor_.reset();
  catalog_.reset();  // rebuilds the cursor next round
  return Sleep(std::chrono::milliseconds(ds.ok() ? 0 : 500));
}

bool MappingWorker::WaitWhileCaughtUp() {
  // Caught up: persist the position, make the function's log visible,
  // and wait for the next commit to the source table (it wakes us;
  // commits to other tables do not).
  position_ = cursor_->position();
  const auto since = std::chrono::steady_clock::now() - persisted_at_;
  // With several lanes every commit wakes every lane, and most find nothing
  // of theirs: persisting each time would write a checkpoint per lane per
  // commit. Such a lane persists at most every 100 ms (its next round
  // after the 1 s wait, or Stop, persists the rest; a crash before then
  // only makes it read past other lanes' records again).
  // A position that only moved past other tables' records (other mappings'
  // checkpoints among them) is persisted at most once a minute: else every
  // checkpoint would move every idle mapping's position, and a thousand idle
  // mappings would commit a thousand checkpoints a second, for ever. A crash
  // only makes the mapping read past those records again.
  const bool passed_ours = read_end_ > persisted_;
  if (passed_ours ? lanes_->lanes() <= 1 || since >= std::chrono::milliseconds(100)
                  : since >= std::chrono::seconds(60)) {
    PersistPosition();
  }
  if (log_ != nullptr) log_->Flush();
  idle_ = true;
  // The timeout lets a stream that was disabled, or a window that ended,
  // be noticed without a commit.
  next_ = WorkerPool::Wait::ForTableChange(
      source_table_.load(), cursor_->position(),
      std::chrono::steady_clock::now() + WindowWait(std::chrono::seconds(1)));
  return !stop_.load();
}

bool MappingWorker::InLane(const ChangeRecord& r) const {
  return lanes_->lanes() <= 1 || LaneOf(r.key, lanes_->lanes()) == lane_;
}

Status MappingWorker::CommitLane(uint64_t position, const std::string& result,
                                 const WriteBatch& writes, const std::vector<ItemMutation>& items,
                                 uint8_t chain_depth) {
  // (The tumbling window and the snapshot's progress, if any, go with the
  // checkpoint: a mapping with either has one lane.)
  log::CheckpointData extra;
  extra.position = position;
  FillWindow(&extra);
  FillSnapshot(&extra);
  return lanes_->Commit(lane_, position, result, writes, items, chain_depth, extra);
}

bool MappingWorker::FinishDrain() {
  position_ = cursor_->position();
  PersistPosition();
  if (log_ != nullptr) log_->Flush();
  drained_ = persisted_ == position_.load();
  idle_ = true;
  return false;
}

MappingWorker::RoundEnd MappingWorker::ApplyFilters(Batch* batch) {
  if (filters_.empty()) return std::nullopt;
  const std::string& region = owner_->db()->region();
  std::vector<ChangeRecord> kept;
  uint64_t dropped = 0;
  for (const ChangeRecord& r : batch->records) {
    // Matched against the record exactly as the function would receive it.
    if (filters_.Matches(RecordJson(r, mapping_.event_source_arn, region))) {
      kept.push_back(r);
    } else if (r.sequence >= filter_counted_) {
      ++dropped;
    }
  }
  filter_counted_ = std::max(filter_counted_, batch->records.back().sequence + 1);
  if (dropped != 0) {
    MutexLock lock(&mu_);
    metrics_.records_filtered_out += dropped;
  }
  batch->records = std::move(kept);
  if (!batch->records.empty()) return std::nullopt;
  // Nothing to deliver: move past the batch as after a successful
  // invocation without write-backs (persisted when the mapping catches up,
  // stops, or every 100 ms; a crash before then only filters them again).
  position_ = batch->next_position;
  if (std::chrono::steady_clock::now() - persisted_at_ >= std::chrono::milliseconds(100)) {
    PersistPosition();
  }
  return true;
}

MappingWorker::RoundEnd MappingWorker::CheckBatch(const Batch& batch) {
  const log::MappingEntryData& m = mapping_;
  const std::vector<ChangeRecord>& records = batch.records;
  const uint8_t depth = batch.depth;
  if (depth >= kMaxChainDepth) {
    Status ds = Discard(records, "RecursiveLoopDetected", m.event_source_arn, batch.next_position,
                        "PROBLEM: recursive loop detected: records at trigger chain "
                        "depth " +
                            std::to_string(depth) + " (limit " + std::to_string(kMaxChainDepth) +
                            "); the function was not invoked",
                        0);
    if (!ds.ok()) SetResult("PROBLEM: " + ds.ToString());
    return ds.ok() || Sleep(std::chrono::milliseconds(500));
  }
  const int64_t now_us = NowMicros(owner_->db()->env());
  if (m.max_record_age_seconds != -1 &&
      now_us - records.front().commit_time_micros > int64_t{m.max_record_age_seconds} * 1000000) {
    Status ds = Discard(records, "RecordAgeExceeded", m.event_source_arn, batch.next_position,
                        "PROBLEM: records older than the maximum record age (" +
                            std::to_string(m.max_record_age_seconds) +
                            " s) were sent to the failure destination",
                        attempts_);
    attempts_ = 0;
    bisect_limit_ = 0;
    return ds.ok() || Sleep(std::chrono::milliseconds(500));
  }
  return std::nullopt;
}

bool MappingWorker::Invoke(const runnel_batch& abi, const Batch& batch, Invocation* inv) {
  const log::MappingEntryData& m = mapping_;
  const ResolvedFunction& fn = function_;
  inv->deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(fn.config.timeout_seconds);
  inv->function = &fn.config;
  inv->log = log_;
  inv->batch = &abi;
  inv->region = owner_->db()->region();
  inv->env = owner_->db()->env();
  inv->db = owner_->db();
  inv->report_batch_item_failures = m.report_batch_item_failures;
  inv->log->Append(NowMicros(owner_->db()->env()),
                   "START RequestId: " + inv->request_id + " Version: $LATEST");
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = inv->Run(fn.call);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  // An isolated function's worker is killed at the deadline; an in-process
  // handler can only be found late when it returns.
  const bool timed_out =
      inv->timed_out || elapsed > std::chrono::seconds(fn.config.timeout_seconds);
  if (timed_out) {
    inv->LogLine("Task timed out after " + std::to_string(fn.config.timeout_seconds) +
                 ".00 seconds");
  }
  inv->log->Append(NowMicros(owner_->db()->env()), "END RequestId: " + inv->request_id);
  char report[200];
  std::snprintf(report, sizeof(report), "REPORT RequestId: %s Duration: %.2f ms Records: %zu",
                inv->request_id.c_str(), ms, batch.records.size());
  inv->log->Append(NowMicros(owner_->db()->env()), report);
  {
    MutexLock lock(&mu_);
    ++metrics_.invocations;
    metrics_.records_in += batch.records.size();
    metrics_.last_invocation_micros = NowMicros(owner_->db()->env());
    if (!batch.records.empty()) {  // a window's final invocation has none
      metrics_.iterator_age_ms =
          (NowMicros(owner_->db()->env()) - batch.records.back().commit_time_micros) / 1000;
    }
    durations_.push_back(ms);
    if (durations_.size() > 1024) durations_.pop_front();
  }
  return rc == 0 && !inv->bad_write && !inv->bad_failed_item && !timed_out;
}

bool MappingWorker::InvokeEmpty(const runnel_batch& abi, Invocation* inv) {
  return Invoke(abi, Batch(), inv);
}

bool MappingWorker::Settle(const Batch& batch, Invocation* inv, bool ok) {
  const log::MappingEntryData& m = mapping_;
  const uint64_t next_position = batch.next_position;
  uint64_t checkpoint = next_position;
  std::string result = "OK";
  if (ok && m.report_batch_item_failures && !inv->failed_items.empty()) {
    // Partial batch response: everything before the lowest failed record is
    // done; the rest is retried.
    checkpoint = *std::min_element(inv->failed_items.begin(), inv->failed_items.end());
    result = "PROBLEM: Function reported failed items (lowest sequence " +
             std::to_string(checkpoint) + ")";
  }
  if (ok && inv->writes.Count() == 0 && inv->items.writes().empty() &&
      checkpoint == next_position) {
    // Nothing to commit with the checkpoint: keep it in memory and persist
    // it when the mapping catches up, stops, or every 100 ms. A crash before
    // then delivers those batches again (at least once), and no effect of
    // theirs is lost or doubled because they had none.
    position_ = checkpoint;
    SetResult(result);
    bisect_limit_ = 0;
    attempts_ = 0;
    if (std::chrono::steady_clock::now() - persisted_at_ >= std::chrono::milliseconds(100)) {
      PersistPosition();
    }
    if (log_ != nullptr) log_->FlushIfDue();
    return true;
  }
  if (ok) {
    // Byte write-backs, item write-backs (decided by the commit leader on
    // the items as they are then) and the checkpoint: one frame.
    Status s = CommitLane(checkpoint, result, inv->writes, inv->items.Mutations(),
                          static_cast<uint8_t>(std::min(batch.depth + 1, 255)));
    if (s.ok()) {
      persisted_ = checkpoint;
      persisted_at_ = std::chrono::steady_clock::now();
    }
    if (s.ok()) {
      const bool progressed = checkpoint > position_.load();
      position_ = checkpoint;
      SetResult(result);
      bisect_limit_ = 0;
      if (checkpoint == next_position) {
        attempts_ = 0;
        if (log_ != nullptr) log_->FlushIfDue();
        return true;
      }
      if (progressed) attempts_ = 0;
      // Partial failure: the rest of the batch counts as a failed attempt.
    } else {
      inv->error = "committing the batch's writes failed: " + s.ToString();
      inv->LogLine(inv->error);
      window_.state = window_.previous_state;  // the batch is retried with it
      ok = false;
    }
  }
  if (!ok || checkpoint != next_position) return RetryOrDiscard(batch, checkpoint, ok);
  return true;
}

bool MappingWorker::RetryOrDiscard(const Batch& batch, uint64_t checkpoint, bool ok) {
  const log::MappingEntryData& m = mapping_;
  const std::vector<ChangeRecord>& records = batch.records;
  {
    MutexLock lock(&mu_);
    ++metrics_.errors;
  }
  if (!ok) SetResult("PROBLEM: Function call failed");
  if (!ok && m.bisect_on_error && records.size() > 1) {
    // Bisect: retry the first half alone; splits do not count as retries.
    bisect_limit_ = static_cast<uint32_t>(records.size() / 2);
    return Sleep(std::chrono::milliseconds(10));
  }
  ++attempts_;
  if (m.max_retry_attempts != -1 && attempts_ > static_cast<uint32_t>(m.max_retry_attempts)) {
    std::vector<ChangeRecord> rest;
    for (const auto& r : records) {
      if (r.sequence >= checkpoint || !ok) rest.push_back(r);
    }
    Status ds = Discard(rest, "RetryAttemptsExhausted", m.event_source_arn, batch.next_position,
                        "PROBLEM: Function call failed " + std::to_string(attempts_) +
                            " times; the batch was sent to the failure destination",
                        attempts_);
    attempts_ = 0;
    bisect_limit_ = 0;
    return ds.ok() || Sleep(std::chrono::milliseconds(500));
  }
  // The failing batch blocks the mapping (order is kept), retried with
  // capped exponential backoff.
  blocked_ = true;
  idle_ = true;
  const auto backoff = std::chrono::milliseconds(
      std::min<int64_t>(10000, int64_t{50} << std::min<uint32_t>(attempts_ - 1, 8)));
  return Sleep(backoff);
}

}  // namespace runnel
