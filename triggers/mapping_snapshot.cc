// Copyright 2026 The runnel Authors.
//
// MappingWorker's snapshot bootstrap (StartingPosition SNAPSHOT): the scan
// of the source table's items before the stream, and the stream phase's skip
// of records the snapshot already holds. triggers/snapshot.h has the rules.

#include <algorithm>

#include "cdc/arn.h"
#include "db/db_internal.h"
#include "db/record_json.h"
#include "triggers/invocation.h"
#include "triggers/mapping_worker.h"
#include "triggers/snapshot.h"
#include "util/clock.h"

namespace runnel {
namespace {

constexpr size_t kMaxSnapshotBatchBytes = 6u << 20;  // the cloud's payload cap

}  // namespace

void MappingWorker::SetSnapshot(log::SnapshotStateData next) {
  snap_ = std::move(next);
  MappingMetrics m;
  SnapshotMetrics(snap_, &m);
  snap_scanning_ = snap_.phase == log::SnapshotPhase::kScanning;
  snap_done_ = m.snapshot_done;
  snap_records_ = m.snapshot_records;
  if (m.snapshot_sequence != 0) snap_sequence_ = m.snapshot_sequence;
}

void MappingWorker::LoadSnapshot() {
  if (mapping_.starting_position != log::StartingPositionData::kSnapshot) {
    SetSnapshot(log::SnapshotStateData());
    return;
  }
  log::SnapshotStateData st;
  if (!owner_->db()->ReadSnapshotState(mapping_id_, &st)) {
    // Nothing delivered yet: a fresh scan.
    st = log::SnapshotStateData();
    st.phase = log::SnapshotPhase::kScanning;
  }
  SetSnapshot(std::move(st));
}

void MappingWorker::FillSnapshot(log::CheckpointData* cp) const {
  if (!snap_.present()) return;
  cp->snapshot = snap_;
  if (snap_.phase == log::SnapshotPhase::kStreaming && cp->position > SnapshotMaxSequence(snap_)) {
    // Past every segment: no record ahead is covered, and retention may go
    // on (the DB releases the floor once this checkpoint is durable).
    cp->snapshot.phase = log::SnapshotPhase::kDone;
    cp->snapshot.segments.clear();
  }
}

MappingWorker::RoundEnd MappingWorker::ReadSnapshotBatch(Batch* batch) {
  DBInternal* db = owner_->db();
  if (snap_read_ == nullptr) {
    // Keep the stream after this pass's sequence before taking it; the
    // checkpoints' own floor takes over once a batch of the pass is done.
    db->SetRetentionFloor(SnapshotFloorOwner(mapping_id_), db->LastSequence() + 1);
    Status s = db->NewTableSnapshot(source_table_.load(), &snap_read_);
    if (!s.ok()) {
      SetResult("PROBLEM: reading the table's snapshot: " + s.ToString());
      blocked_ = true;
      idle_ = true;
      return Sleep(std::chrono::milliseconds(500));
    }
    snap_time_micros_ = NowMicros(db->env());
    // The stream phase starts after the first pass's sequence.
    if (snap_.segments.empty()) position_ = snap_read_->sequence() + 1;
  }
  const uint32_t limit = bisect_limit_ != 0 ? bisect_limit_ : mapping_.batch_size;
  const std::string after = snap_.segments.empty() ? "" : snap_.segments.back().last_key;
  bool end = false;
  Status s = snap_read_->Read(after, limit, kMaxSnapshotBatchBytes, &batch->items, &end);
  if (!s.ok()) {
    SetResult("PROBLEM: reading the table's snapshot: " + s.ToString());
    snap_read_.reset();
    blocked_ = true;
    idle_ = true;
    return Sleep(std::chrono::milliseconds(500));
  }
  if (batch->items.empty()) return FinishSnapshotScan();

  // The records as an INSERT of each item would show on the mapping's stream.
  const log::TableEntryData* table = catalog_->FindById(source_table_.load());
  log::View view = log::View::kNewAndOldImages;
  arn::StreamArnParts parts;
  if (table != nullptr && arn::ParseStream(mapping_.event_source_arn, &parts).ok()) {
    for (const auto& st : table->streams) {
      if (st.label == parts.label) view = st.view;
    }
  }
  const SequenceNumber seq = snap_read_->sequence();
  for (const auto& [key, value] : batch->items) {
    ChangeRecord r;
    r.sequence = seq;
    r.commit_time_micros = snap_time_micros_;
    r.table_id = source_table_.load();
    if (table != nullptr) r.table = table->name;
    r.event = EventName::kInsert;
    r.view_type = log::ToStreamViewType(view);
    r.key = key;
    r.has_new_image = log::ShowsNewImage(view);
    if (r.has_new_image) r.new_image = value;
    r.size_bytes = static_cast<uint32_t>(key.size() + r.new_image.size());
    r.snapshot = true;
    log::SetTableFields(table, false, &r);
    batch->records.push_back(r);
  }
  batch->last_key = batch->items.back().first;
  batch->next_position = position_.load();
  return std::nullopt;
}

bool MappingWorker::SnapshotRound() {
  Batch batch;
  if (RoundEnd end = ReadSnapshotBatch(&batch)) return *end;
  idle_ = false;
  if (!filters_.empty()) {
    const std::string& region = owner_->db()->region();
    std::vector<ChangeRecord> kept;
    for (const ChangeRecord& r : batch.records) {
      if (filters_.Matches(RecordJson(r, mapping_.event_source_arn, region))) kept.push_back(r);
    }
    if (kept.size() != batch.records.size() && bisect_limit_ == 0 && attempts_ == 0) {
      MutexLock lock(&mu_);
      metrics_.records_filtered_out += batch.records.size() - kept.size();
    }
    batch.records = std::move(kept);
  }
  if (batch.records.empty()) {
    Invocation none;
    return SettleSnapshot(batch, &none, true);
  }
  std::vector<runnel_record> recs(batch.records.size());
  {
    // The same views as a stream batch's (AbiRecords in mapping_worker.cc).
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const ChangeRecord& r = batch.records[i];
      runnel_record& o = recs[i];
      o = runnel_record();
      o.sequence_number = r.sequence;
      o.commit_time_micros = r.commit_time_micros;
      o.event_name = static_cast<int32_t>(r.event);
      o.size_bytes = r.size_bytes;
      o.table = r.table.data();
      o.table_len = r.table.size();
      o.key = r.key.data();
      o.key_len = r.key.size();
      o.has_new_image = r.has_new_image;
      o.new_image = r.new_image.data();
      o.new_image_len = r.new_image.size();
      o.typed = r.typed;
      o.snapshot = 1;
    }
  }
  runnel_batch abi;
  abi.records = recs.data();
  abi.count = recs.size();
  abi.event_source_arn = mapping_.event_source_arn.c_str();
  abi.mapping_uuid = mapping_.uuid.c_str();
  Invocation inv;
  inv.changes = batch.records.data();
  const bool ok = Invoke(abi, batch, &inv);
  return SettleSnapshot(batch, &inv, ok);
}

bool MappingWorker::SettleSnapshot(const Batch& batch, Invocation* inv, bool ok) {
  if (ok && !inv->failed_items.empty()) {
    // Every record of the pass carries its sequence: a reported failure
    // cannot name one record, so the batch is retried from its first.
    inv->LogLine("a failed snapshot record retries its whole batch");
    ok = false;
  }
  if (!ok) return RetrySnapshotBatch(batch, false);
  const log::SnapshotStateData next =
      SnapshotAdvanced(snap_, batch.last_key, snap_read_->sequence(), batch.records.size());
  log::CheckpointData cp;
  cp.mapping_id = mapping_id_;
  cp.position = position_.load();
  const std::string result = batch.records.empty() ? LastResult() : "OK";
  cp.result = result;
  cp.snapshot = next;
  // The write-backs and the progress past these items: one frame.
  Status s = owner_->db()->CommitCheckpoint(inv->writes, inv->items.Mutations(), cp, 1);
  if (!s.ok()) {
    inv->error = "committing the batch's writes failed: " + s.ToString();
    if (inv->log != nullptr) inv->LogLine(inv->error);
    return RetrySnapshotBatch(batch, false);
  }
  persisted_ = cp.position;
  persisted_at_ = std::chrono::steady_clock::now();
  SetSnapshot(next);
  SetResult(result);
  bisect_limit_ = 0;
  attempts_ = 0;
  if (log_ != nullptr) log_->FlushIfDue();
  return true;
}

bool MappingWorker::RetrySnapshotBatch(const Batch& batch, bool ok) {
  const log::MappingEntryData& m = mapping_;
  {
    MutexLock lock(&mu_);
    ++metrics_.errors;
  }
  if (!ok) SetResult("PROBLEM: Function call failed");
  if (m.bisect_on_error && batch.records.size() > 1) {
    // Bisect: the first half of the items alone; splits are not retries.
    bisect_limit_ = static_cast<uint32_t>(std::max<size_t>(1, batch.items.size() / 2));
    return Sleep(std::chrono::milliseconds(10));
  }
  ++attempts_;
  if (m.max_retry_attempts != -1 && attempts_ > static_cast<uint32_t>(m.max_retry_attempts)) {
    // To the failure destination, and past these items: Discard commits the
    // progress that snap_ holds.
    const log::SnapshotStateData before = snap_;
    snap_ = SnapshotAdvanced(snap_, batch.last_key, snap_read_->sequence(), batch.records.size());
    Status ds =
        Discard(batch.records, "RetryAttemptsExhausted", m.event_source_arn, position_.load(),
                "PROBLEM: Function call failed " + std::to_string(attempts_) +
                    " times; the batch was sent to the failure destination",
                attempts_);
    log::SnapshotStateData now = snap_;
    snap_ = before;
    if (ds.ok()) SetSnapshot(std::move(now));
    attempts_ = 0;
    bisect_limit_ = 0;
    return ds.ok() || Sleep(std::chrono::milliseconds(500));
  }
  blocked_ = true;
  idle_ = true;
  const auto backoff = std::chrono::milliseconds(
      std::min<int64_t>(10000, int64_t{50} << std::min<uint32_t>(attempts_ - 1, 8)));
  return Sleep(backoff);
}

bool MappingWorker::FinishSnapshotScan() {
  log::SnapshotStateData next = snap_;
  const SequenceNumber seq = snap_read_->sequence();
  if (next.segments.empty() || next.segments.back().sequence != seq) {
    // The keys after the last one delivered, as this pass saw them (none).
    next.segments.push_back({std::string(), seq});
  }
  next.phase = log::SnapshotPhase::kStreaming;
  log::CheckpointData cp;
  cp.mapping_id = mapping_id_;
  cp.position = position_.load();
  const std::string result = LastResult();
  cp.result = result;
  cp.snapshot = next;
  Status s = owner_->db()->CommitCheckpoint(WriteBatch(), cp, 0);
  if (!s.ok()) {
    SetResult("PROBLEM: " + s.ToString());
    return Sleep(std::chrono::milliseconds(500));
  }
  persisted_ = cp.position;
  persisted_at_ = std::chrono::steady_clock::now();
  SetSnapshot(std::move(next));
  snap_read_.reset();
  owner_->db()->ClearRetentionFloor(SnapshotFloorOwner(mapping_id_));
  return true;
}

MappingWorker::RoundEnd MappingWorker::SkipSnapshotted(Batch* batch) {
  if (snap_.phase != log::SnapshotPhase::kStreaming) return std::nullopt;
  const size_t before = batch->records.size();
  auto& recs = batch->records;
  recs.erase(std::remove_if(recs.begin(), recs.end(),
                            [this](const ChangeRecord& r) {
                              return r.sequence <= SnapshotCoveredUpTo(snap_, r.key);
                            }),
             recs.end());
  if (!recs.empty() || before == 0) return std::nullopt;
  // Everything was in the snapshot already: move past it as after a batch
  // without write-backs.
  position_ = batch->next_position;
  if (std::chrono::steady_clock::now() - persisted_at_ >= std::chrono::milliseconds(100)) {
    PersistPosition();
  }
  return true;
}

}  // namespace runnel
