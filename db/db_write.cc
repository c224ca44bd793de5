// Copyright 2026 The runnel Authors.
//
// The write path: validation, the group-commit queue, classification of
// changes against the index, one log append (and at most one fsync) per
// group, then one index batch per group.

#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>

#include "cdc/env_util.h"
#include "cdc/log_writer.h"
#include "db/db_impl.h"
#include "db/index_keys.h"
#include "util/clock.h"

namespace runnel {
namespace {

std::string Fixed64(uint64_t v) {
  std::string s;
  PutFixed64(&s, v);
  return s;
}

bool ValidView(StreamViewType t) {
  const auto v = static_cast<uint8_t>(t);
  return v >= 1 && v <= 4;
}

// How many deletes one index batch of a table purge may hold.
constexpr size_t kPurgeChunk = 10000;

size_t ItemCount(const std::vector<ItemMutation>* items) {
  return items == nullptr ? 0 : items->size();
}

// What a writer adds to a group's size before its items are decided.
size_t ApproximateItemBytes(const std::vector<ItemMutation>* items) {
  size_t bytes = 0;
  if (items != nullptr) {
    for (const ItemMutation& m : *items) bytes += m.key.size() + m.table.size() + 64;
  }
  return bytes;
}

}  // namespace

Status DBImpl::Put(const WriteOptions& options, std::string_view table, std::string_view key,
                   std::string_view value) {
  WriteBatch batch;
  batch.Put(table, key, value);
  return Write(options, batch, nullptr);
}

Status DBImpl::Delete(const WriteOptions& options, std::string_view table, std::string_view key) {
  WriteBatch batch;
  batch.Delete(table, key);
  return Write(options, batch, nullptr);
}

Status DBImpl::ValidateBatch(const WriteBatch& batch) const {
  Status s;
  size_t index = 0;
  size_t total = 0;
  batch.ForEach([&](const WriteBatch::Op& op) {
    if (!s.ok()) return;
    s = ValidateTableName(op.table);
    if (s.ok() && (op.key.size() < kMinKeyBytes || op.key.size() > kMaxKeyBytes)) {
      s = Status::InvalidArgument("key: must be 1 to 4096 bytes, got " +
                                  std::to_string(op.key.size()));
    }
    if (s.ok() && op.value.size() > kMaxValueBytes) {
      s = Status::InvalidArgument("value: must be at most 16777216 bytes, got " +
                                  std::to_string(op.value.size()));
    }
    if (!s.ok() && batch.Count() > 1) {
      s = s.WithContext("batch operation " + std::to_string(index));
    }
    total += op.key.size() + op.value.size();
    ++index;
  });
  if (s.ok() && total > kMaxBatchBytes) {
    s = Status::InvalidArgument("batch: keys and values must total at most 67108864 bytes, got " +
                                std::to_string(total));
  }
  return s;
}

Status DBImpl::Write(const WriteOptions& options, const WriteBatch& batch, CommitInfo* info) {
  Status s = ValidateBatch(batch);
  if (!s.ok()) return s;
  Writer w;
  w.batch = &batch;
  w.sync = options.sync;
  s = Commit(&w);
  if (s.ok() && info != nullptr) *info = w.info;
  return s;
}

Status DBImpl::Commit(Writer* w) {
  MutexLock lock(&mu_);
  if (closed_.load()) return Status::FailedPrecondition("DB is closed");
  writers_.push_back(w);
  // A sibling a gathering leader waits for (GatherSyncSiblings): the last
  // one to come wakes it.
  if (w->sync && !gather_expected_.empty() &&
      std::find(gather_expected_.begin(), gather_expected_.end(), w->thread) !=
          gather_expected_.end() &&
      ++gather_arrived_ == gather_expected_.size()) {
    writers_.front()->cv.Signal();
  }
  while (!w->done && w != writers_.front()) w->cv.Wait(&mu_);
  if (w->done) return w->status;
  if (w->sync && w->meta == nullptr) GatherSyncSiblings(w);

  // This writer leads: take a group of compatible writers behind it. Metadata
  // changes commit alone; a sync writer never joins a non-sync leader's group
  // (it would be acknowledged without its fsync).
  std::vector<Writer*> group{w};
  if (w->meta == nullptr) {
    size_t bytes = w->batch->ApproximateSize() + ApproximateItemBytes(w->items);
    for (auto it = writers_.begin() + 1; it != writers_.end(); ++it) {
      Writer* x = *it;
      if (x->meta != nullptr || (x->sync && !w->sync)) break;
      bytes += x->batch->ApproximateSize() + ApproximateItemBytes(x->items);
      if (bytes > options_.max_group_bytes) break;
      group.push_back(x);
    }
  }
  // After a failed log or index write the DB refuses every later write:
  // the group that hit the error got the I/O error itself, later writers get
  // FailedPrecondition naming it.
  Status fatal;
  if (!bg_error_.ok()) {
    fatal = Status::FailedPrecondition("the DB refuses writes after a failed log or index write (" +
                                       bg_error_.ToString() + "); reopen it");
  }
  mu_.Unlock();  // the leader does the I/O without the queue lock
  if (fatal.ok()) fatal = CommitGroup(group);
  mu_.Lock();
  if (!fatal.ok() && bg_error_.ok()) {
    bg_error_ = fatal;
    Info("write error: " + fatal.ToString());
  }
  if (w->sync && w->meta == nullptr) NoteSyncGroup(group);
  for (Writer* x : group) {
    writers_.pop_front();
    if (!fatal.ok()) x->status = fatal;
    if (x != w) {
      x->done = true;
      x->cv.Signal();
    }
  }
  if (!writers_.empty()) {
    writers_.front()->cv.Signal();
  } else {
    idle_cv_.SignalAll();
  }
  return w->status;
}

// Sync writers from several threads share fsyncs only as far as they queue
// behind one: a group's writers are released after its fsync, and while
// they return to queue again the next leader has already started with
// whoever queued meanwhile. With 8 threads the groups settled into two
// alternating cohorts of about 4 (LevelDB's too), an fsync each. So a sync
// leader first waits, for at most half an fsync (and at most
// Options::sync_group_wait_micros), for the threads that
// committed sync writes within the last few fsyncs and are not queued: the
// cohorts merge, one fsync serves all of them. A lone writer never waits
// (it is its only recent thread); a thread that stopped writing costs the
// leaders at most half an fsync each until it is forgotten, and threads
// that seldom come back in time soon stop being waited for. PostgreSQL's
// commit_delay/commit_siblings do this by hand; here it is measured.
void DBImpl::GatherSyncSiblings(Writer* leader) {
  const int64_t sync_ns = sync_nanos_.load(std::memory_order_relaxed);
  const int64_t cap_ns = int64_t{options_.sync_group_wait_micros} * 1000;
  if (sync_ns <= 0 || cap_ns <= 0 || !bg_error_.ok()) return;
  // Who queues behind a metadata change or past the group's byte budget
  // cannot join this group anyway.
  size_t bytes = 0;
  for (const Writer* x : writers_) {
    if (x->meta != nullptr) return;
    bytes += x->batch->ApproximateSize() + ApproximateItemBytes(x->items);
  }
  if (bytes > options_.max_group_bytes) return;
  const auto now = std::chrono::steady_clock::now();
  const auto forget = now - std::chrono::nanoseconds(kSiblingWindowSyncs * sync_ns);
  std::erase_if(recent_sync_, [&](const RecentSyncWriter& r) { return r.at < forget; });
  gather_expected_.clear();
  for (const RecentSyncWriter& r : recent_sync_) {
    if (std::none_of(writers_.begin(), writers_.end(),
                     [&](const Writer* x) { return x->thread == r.thread; })) {
      gather_expected_.push_back(r.thread);
    }
  }
  if (gather_expected_.empty()) return;
  // Threads that write now and then (not in a loop) are recent but do not
  // come back within the wait: after kGatherMissLimit waits in a row that
  // ran out before all of them came, only every kGatherProbeEvery-th leader
  // waits, until one wait sees them all.
  if (gather_misses_ >= kGatherMissLimit && ++gather_skipped_ % kGatherProbeEvery != 0) {
    gather_expected_.clear();
    return;
  }
  gather_arrived_ = 0;
  const auto deadline = now + std::chrono::nanoseconds(std::min(sync_ns / 2, cap_ns));
  while (gather_arrived_ < gather_expected_.size() && leader->cv.WaitUntil(&mu_, deadline)) {
  }
  if (gather_arrived_ == gather_expected_.size()) {
    gather_misses_ = 0;
  } else if (gather_misses_ < kGatherMissLimit) {
    ++gather_misses_;
  }
  gather_expected_.clear();  // no longer waiting
}

void DBImpl::NoteSyncGroup(const std::vector<Writer*>& group) {
  const auto now = std::chrono::steady_clock::now();
  for (const Writer* x : group) {
    if (!x->sync) continue;
    auto it = std::find_if(recent_sync_.begin(), recent_sync_.end(),
                           [&](const RecentSyncWriter& r) { return r.thread == x->thread; });
    if (it != recent_sync_.end()) {
      it->at = now;
    } else if (recent_sync_.size() < kMaxRecentSyncWriters) {
      recent_sync_.push_back({x->thread, now});
    }
  }
}

Status DBImpl::CommitGroup(const std::vector<Writer*>& group) {
  if (group.front()->meta != nullptr) return CommitMetaGroup(group.front());
  return CommitBatches(group);
}

// The state of one group's commit (CommitBatches): what the group's batches
// change, as log frames (in frames_) and as one index batch.
struct DBImpl::GroupCommit {
  std::shared_ptr<const Catalog> cat;
  int64_t now = 0;
  uint64_t first_seq = 0;
  uint64_t seq = 0;  // the next sequence to assign
  leveldb::WriteBatch index_batch;
  std::unordered_map<uint32_t, TableStats> delta;

  // Keys written earlier in this group, so that later operations on them are
  // classified against the group's own effects. A lone operation needs none.
  bool use_overlay = false;
  std::unordered_map<std::string, std::optional<std::string_view>> overlay;
  std::deque<std::string> old_values;  // stable storage for index reads
  std::deque<std::string> new_values;  // stable storage for decided items
  std::vector<const log::TableEntryData*> tables;
  std::vector<log::ChangeData> changes;
  std::string payload;
  std::string ikey;
  std::vector<uint32_t> touched;  // tables changed by this group
  // Mappings whose "\0lanes" entry this group deletes (lane_entries_ forgets
  // them once the index write succeeded).
  std::vector<uint32_t> lanes_cleared;

  static constexpr size_t kKeptBytes = 1 << 20;

  // Empties the state for the next group, keeping the containers' memory:
  // a commit of one small put allocated and freed a dozen blocks for them.
  // What a large group grew is given back, not kept for good.
  void Reset() {
    cat.reset();
    now = 0;
    first_seq = seq = 0;
    if (index_batch.ApproximateSize() > kKeptBytes) {
      index_batch = leveldb::WriteBatch();
    } else {
      index_batch.Clear();
    }
    if (payload.capacity() > kKeptBytes) std::string().swap(payload);
    delta.clear();
    use_overlay = false;
    overlay.clear();
    old_values.clear();
    new_values.clear();
    tables.clear();
    changes.clear();
    payload.clear();
    ikey.clear();
    touched.clear();
    lanes_cleared.clear();
  }
};

DBImpl::GroupCommitState::GroupCommitState() : group(std::make_unique<GroupCommit>()) {}
DBImpl::GroupCommitState::~GroupCommitState() = default;

Status DBImpl::CommitBatches(const std::vector<Writer*>& group) {
  GroupCommit& g = *group_state_.group;
  g.Reset();
  g.cat = catalog();
  g.now = NowMicros(env_);
  g.first_seq = next_sequence_;
  g.seq = g.first_seq;
  if (frames_.capacity() > GroupCommit::kKeptBytes) std::string().swap(frames_);
  frames_.clear();

  size_t total_ops = 0;
  for (Writer* w : group) total_ops += w->batch->Count() + ItemCount(w->items);
  g.use_overlay = total_ops > 1;
  for (Writer* w : group) {
    Status io = AddToGroup(&g, w);
    if (!io.ok()) return io;
  }

  const uint64_t first_seq = g.first_seq;
  const uint64_t seq = g.seq;
  bool sync = false;
  for (Writer* w : group) sync |= w->sync;
  Status s;
  if (!frames_.empty()) s = log_->Append(&frames_, first_seq, seq - 1);
  // A sync writer whose batch changed nothing still waits for the fsync: the
  // value it "wrote" may have come from an earlier, not yet durable write.
  if (s.ok() && sync) {
    const auto t0 = std::chrono::steady_clock::now();
    s = log_->Sync();
    const int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    const int64_t avg = sync_nanos_.load(std::memory_order_relaxed);
    sync_nanos_.store(avg == 0 ? ns : (avg * 7 + ns) / 8, std::memory_order_relaxed);
  }
  if (!s.ok()) return s;
  if (seq == first_seq) return Status::OK();

  const bool marker = groups_since_marker_ + 1 >= kMarkerEvery;
  if (marker) AddMarkerTo(seq - 1, g.delta, &g.index_batch);
  leveldb::WriteOptions wo;  // never sync: the log is the WAL
  {
    MutexLock lock(&index_write_mu_);
    s = FromLevelDB(index_->Write(wo, &g.index_batch), "index write");
    if (s.ok()) index_applied_ = seq - 1;
  }
  if (!s.ok()) return s;
  for (uint32_t id : g.lanes_cleared) lane_entries_.erase(id);
  NoteIndexWrite(seq - 1, marker, g.delta);
  next_sequence_ = seq;
  Publish(seq - 1, g.touched);
  return Status::OK();
}

struct DBImpl::DecidedItem {
  const log::TableEntryData* table = nullptr;
  std::string_view key;  // the encoded item key (in the mutation)
  OldValue old;          // the item the mutation was decided against
  bool put = false;      // false: delete
  std::string_view value;
};

Status DBImpl::AddToGroup(GroupCommit* g, Writer* w) {
  g->tables.clear();
  w->batch->ForEach([&](const WriteBatch::Op& op) {
    if (!w->status.ok()) return;
    const log::TableEntryData* t = g->cat->FindLive(op.table);
    if (t == nullptr) {
      w->status = Status::NotFound("table '" + std::string(op.table) + "' does not exist");
    } else if (t->typed()) {
      // Raw bytes in a typed table would not decode as items.
      w->status = Status::FailedPrecondition("table '" + std::string(op.table) +
                                             "' is a typed table: use PutItem, UpdateItem and "
                                             "DeleteItem");
    }
    g->tables.push_back(t);
  });
  if (!w->status.ok()) return Status::OK();  // nothing of this batch is written

  // Items are decided before anything of the writer is classified, so that a
  // failed condition leaves no trace in the group (index batch, overlay,
  // statistics).
  std::vector<DecidedItem> decided;
  if (ItemCount(w->items) > 0) {
    Status io = DecideItems(g, w, &decided);
    if (!io.ok()) return io;
    if (!w->status.ok()) return Status::OK();
  }

  g->changes.clear();
  size_t i = 0;
  Status io;
  w->batch->ForEach([&](const WriteBatch::Op& op) {
    const log::TableEntryData* t = g->tables[i++];
    if (!io.ok()) return;
    io = ClassifyChange(g, t, op);
  });
  for (const DecidedItem& d : decided) {
    if (!io.ok()) break;
    WriteBatch::Op op{d.put ? WriteBatch::OpType::kPut : WriteBatch::OpType::kDelete, d.table->name,
                      d.key, d.value};
    io = ClassifyChange(g, d.table, op, &d.old);
  }
  if (!io.ok()) return io;
  if (!g->changes.empty() || w->checkpoint != nullptr) AppendBatchFrame(g, w);
  return Status::OK();
}

Status DBImpl::DecideItems(GroupCommit* g, Writer* w, std::vector<DecidedItem>* decided) {
  // The writer's own earlier mutations of a key (a handler's write-backs may
  // touch one item twice): later ones see them.
  std::unordered_map<std::string, OldValue> local;
  Status first_failure;
  std::string ikey;
  for (size_t i = 0; i < w->items->size(); ++i) {
    const ItemMutation& m = (*w->items)[i];
    DecidedItem d;
    d.key = m.key;
    d.table = g->cat->FindLive(m.table);
    Status s;
    if (d.table == nullptr) {
      s = Status::NotFound("table '" + m.table + "' does not exist");
    } else if (!d.table->typed()) {
      s = Status::FailedPrecondition("table '" + m.table + "' is not a typed table");
    } else if (m.table_id != 0 && m.table_id != d.table->id) {
      s = Status::NotFound("table '" + m.table + "' was deleted while the write was queued");
    } else {
      ikey.clear();
      index::AppendItemKey(d.table->id, m.key, &ikey);
      auto found = local.find(ikey);
      if (found != local.end()) {
        d.old = found->second;
      } else {
        Status io = LookupOld(g, ikey, &d.old);
        if (!io.ok()) return io;
      }
      std::optional<std::string> next;
      s = m.decide(d.old.exists ? std::optional<std::string_view>(d.old.value) : std::nullopt,
                   &next);
      if (s.ok()) {
        d.put = next.has_value();
        if (d.put) d.value = g->new_values.emplace_back(std::move(*next));
        local[ikey] = OldValue{d.put, d.value};
      }
    }
    if (w->item_status != nullptr) w->item_status->push_back(s);
    if (!s.ok() && first_failure.ok()) first_failure = s;
    decided->push_back(d);
  }
  if (!first_failure.ok()) {
    w->status = first_failure;
    decided->clear();
  }
  return Status::OK();
}

Status DBImpl::LookupOld(GroupCommit* g, const std::string& ikey, OldValue* old) {
  *old = OldValue();
  auto found = g->use_overlay ? g->overlay.find(ikey) : g->overlay.end();
  if (found != g->overlay.end()) {
    old->exists = found->second.has_value();
    if (old->exists) old->value = *found->second;
    return Status::OK();
  }
  // A certainly new key needs no read (most inserts).
  if (key_filter_ready_.load(std::memory_order_acquire) && !key_filter_->MayContain(ikey)) {
    return Status::OK();
  }
  std::string& slot = g->old_values.emplace_back();
  leveldb::Status ls = index_->Get(leveldb::ReadOptions(), ikey, &slot);
  if (ls.ok()) {
    old->exists = true;
    old->value = slot;
  } else if (!ls.IsNotFound()) {
    return FromLevelDB(ls, "reading old value");
  }
  return Status::OK();
}

Status DBImpl::ClassifyChange(GroupCommit* g, const log::TableEntryData* t,
                              const WriteBatch::Op& op, const OldValue* known) {
  std::string& ikey = g->ikey;
  ikey.clear();
  index::AppendItemKey(t->id, op.key, &ikey);
  OldValue looked;
  if (known == nullptr) {
    Status io = LookupOld(g, ikey, &looked);
    if (!io.ok()) return io;
    known = &looked;
  }
  const bool exists = known->exists;
  const std::string_view old = known->value;
  const bool put = op.type == WriteBatch::OpType::kPut;
  if (put ? (exists && old == op.value) : !exists) return Status::OK();  // no change

  log::ChangeData c;
  c.table_id = t->id;
  c.event = !put ? EventName::kRemove : (exists ? EventName::kModify : EventName::kInsert);
  c.view = Catalog::CurrentView(*t);
  c.key = op.key;
  if (exists && log::KeepsOldImage(c.view)) {
    c.has_old = true;
    c.old_image = old;
  }
  if (put) {
    c.has_new = true;
    c.new_image = op.value;
  }
  c.old_size = exists ? static_cast<uint32_t>(old.size()) : 0;
  g->changes.push_back(c);
  if (std::find(g->touched.begin(), g->touched.end(), t->id) == g->touched.end()) {
    g->touched.push_back(t->id);
  }

  TableStats& d = g->delta[t->id];
  if (c.event == EventName::kInsert) {
    d.count += 1;
    d.bytes += static_cast<int64_t>(op.key.size() + op.value.size());
  } else if (c.event == EventName::kModify) {
    d.bytes += static_cast<int64_t>(op.value.size()) - static_cast<int64_t>(old.size());
  } else {
    d.count -= 1;
    d.bytes -= static_cast<int64_t>(op.key.size() + old.size());
  }
  if (c.event == EventName::kInsert && key_filter_ != nullptr) key_filter_->Add(ikey);
  if (put) {
    g->index_batch.Put(ikey, leveldb::Slice(op.value.data(), op.value.size()));
  } else {
    g->index_batch.Delete(ikey);
  }
  if (g->use_overlay) {
    g->overlay[ikey] = put ? std::optional<std::string_view>(op.value) : std::nullopt;
  }
  return Status::OK();
}

void DBImpl::AppendBatchFrame(GroupCommit* g, Writer* w) {
  const std::vector<log::ChangeData>& changes = g->changes;
  const uint64_t seq = g->seq;
  g->payload.clear();
  log::EncodeBatch(g->now, changes, w->checkpoint, w->chain_depth, &g->payload, w->ttl_delete);
  uint32_t hint = changes.empty() ? log::kNoTableHint : changes.front().table_id;
  for (const log::ChangeData& c : changes) {
    if (c.table_id != hint) hint = 0;
  }
  // A checkpoint takes the sequence number after the changes.
  const uint32_t count = static_cast<uint32_t>(changes.size()) + (w->checkpoint != nullptr ? 1 : 0);
  log::AppendFrame(log::kBatchFrame, seq, count, hint, g->payload, &frames_);
  if (w->checkpoint != nullptr) {
    g->index_batch.Put(index::CheckpointKey(w->checkpoint->mapping_id),
                       index::CheckpointValue(w->checkpoint->position, w->checkpoint->result));
    const uint32_t id = w->checkpoint->mapping_id;
    if (!w->checkpoint->lane_positions.empty()) {
      index::PutLanes(id, w->checkpoint->lane_positions, &g->index_batch);
      lane_entries_.insert(id);
      // Written again after a delete earlier in this group: it stays.
      auto& c = g->lanes_cleared;
      c.erase(std::remove(c.begin(), c.end(), id), c.end());
    } else if (lane_entries_.count(id) != 0) {
      index::PutLanes(id, {}, &g->index_batch);  // the lanes are even again
      g->lanes_cleared.push_back(id);
    }
    if (w->checkpoint->has_window) {
      g->index_batch.Put(
          index::CheckpointWindowKey(w->checkpoint->mapping_id),
          index::CheckpointWindowValue(w->checkpoint->position, w->checkpoint->window_start_micros,
                                       w->checkpoint->window_state));
    }
    if (w->checkpoint->snapshot.present()) {
      g->index_batch.Put(index::SnapshotKey(w->checkpoint->mapping_id),
                         index::EncodeSnapshot(w->checkpoint->snapshot));
      UpdateSnapshotFloor(w->checkpoint->mapping_id, w->checkpoint->snapshot, seq + count - 1);
    }
  }
  w->info.first_sequence = changes.empty() ? 0 : seq;
  w->info.record_count = static_cast<uint32_t>(changes.size());
  g->seq += count;
}

void DBImpl::AddMarkerTo(uint64_t seq, const std::unordered_map<uint32_t, TableStats>& delta,
                         leveldb::WriteBatch* batch) {
  batch->Put(ToSlice(index::kAppliedKey), Fixed64(seq));
  MutexLock lock(&stats_mu_);
  std::vector<uint32_t> ids(stats_dirty_.begin(), stats_dirty_.end());
  for (const auto& entry : delta) {
    if (stats_dirty_.count(entry.first) == 0) ids.push_back(entry.first);
  }
  for (uint32_t id : ids) {
    TableStats cur;
    auto it = stats_.find(id);
    auto d = delta.find(id);
    if (it == stats_.end() && d == delta.end()) continue;  // a deleted table's
    if (it != stats_.end()) cur = it->second;
    if (d != delta.end()) {
      cur.count += d->second.count;
      cur.bytes += d->second.bytes;
    }
    batch->Put(index::StatsKey(id), index::StatsValue(cur.count, cur.bytes));
  }
}

void DBImpl::NoteIndexWrite(uint64_t seq, bool marker,
                            const std::unordered_map<uint32_t, TableStats>& delta) {
  {
    MutexLock lock(&stats_mu_);
    for (const auto& [id, d] : delta) {
      stats_[id].count += d.count;
      stats_[id].bytes += d.bytes;
      if (!marker) stats_dirty_.insert(id);
    }
    if (marker) stats_dirty_.clear();
  }
  if (marker) {
    groups_since_marker_ = 0;
    index_marker_.store(seq);
  } else {
    ++groups_since_marker_;
  }
}

void DBImpl::AddStatsTo(const std::unordered_map<uint32_t, TableStats>& delta,
                        leveldb::WriteBatch* batch) {
  MutexLock lock(&stats_mu_);
  for (const auto& [id, d] : delta) {
    TableStats cur;
    auto it = stats_.find(id);
    if (it != stats_.end()) cur = it->second;
    batch->Put(index::StatsKey(id), index::StatsValue(cur.count + d.count, cur.bytes + d.bytes));
  }
}

Status DBImpl::PrepareTableMeta(log::MetaData::Kind kind, const std::string& name,
                                const StreamSpecification& stream, const Catalog& cat, int64_t now,
                                uint64_t seq, log::MetaData* meta) {
  Status s = ValidateTableName(name);
  if (!s.ok()) return s;
  if (stream.stream_enabled && !ValidView(stream.stream_view_type)) {
    return Status::InvalidArgument(
        "stream view type: must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or "
        "NEW_AND_OLD_IMAGES");
  }
  meta->kind = kind;
  meta->commit_time_micros = now;
  const log::TableEntryData* t = cat.FindLive(name);
  if (kind == log::MetaData::Kind::kCreateTable) {
    if (t != nullptr) {
      return Status::Busy("table '" + name + "' already exists");
    }
    meta->table.id = cat.data().next_table_id;
    meta->table.name = name;
    meta->table.creation_time_micros = now;
    if (stream.stream_enabled) {
      log::StreamEntryData st;
      st.label = StreamLabel(now);
      st.view = log::ToView(stream.stream_view_type);
      st.creation_time_micros = now;
      st.start_seq = seq + 1;
      meta->table.streams.push_back(std::move(st));
    }
    return Status::OK();
  }
  if (t == nullptr) {
    return Status::NotFound("table '" + name + "' does not exist");
  }
  meta->table_id = t->id;
  if (kind == log::MetaData::Kind::kDeleteTable) return Status::OK();

  const log::View current = Catalog::CurrentView(*t);
  if (stream.stream_enabled) {
    if (current != log::View::kNone) {
      return Status::Busy("table '" + name + "' already has an enabled stream (" +
                          std::string(StreamViewTypeName(log::ToStreamViewType(current))) +
                          "); to change the view type, disable the stream and enable it "
                          "again (that creates a new stream)");
    }
    // Labels identify streams: keep them unique even within a millisecond.
    int64_t when = now;
    if (!t->streams.empty()) {
      when = std::max(when, t->streams.back().creation_time_micros + 1000);
    }
    meta->commit_time_micros = when;
    meta->view = log::ToView(stream.stream_view_type);
    meta->label = StreamLabel(when);
  } else {
    if (current == log::View::kNone) {
      return Status::InvalidArgument("stream specification: table '" + name +
                                     "' has no enabled stream to disable");
    }
    meta->view = log::View::kNone;
  }
  return Status::OK();
}

Status DBImpl::CommitMetaGroup(Writer* w) {
  const std::shared_ptr<const Catalog> cat = catalog();
  const uint64_t seq = next_sequence_;
  log::MetaData meta;
  w->status = (*w->meta)(*cat, seq, NowMicros(env_), &meta);
  if (!w->status.ok()) return Status::OK();  // rejected; nothing written

  std::string payload;
  log::EncodeMeta(meta, &payload);
  frames_.clear();
  uint32_t hint = log::kNoTableHint;
  if (meta.kind == log::MetaData::Kind::kCreateTable) hint = meta.table.id;
  if (meta.kind == log::MetaData::Kind::kDeleteTable ||
      meta.kind == log::MetaData::Kind::kUpdateStream ||
      meta.kind == log::MetaData::Kind::kUpdateTimeToLive) {
    hint = meta.table_id;
  }
  log::AppendFrame(log::kMetaFrame, seq, 1, hint, payload, &frames_);
  Status s = log_->Append(&frames_, seq, seq);
  if (s.ok()) s = log_->Sync();
  if (s.ok()) s = ApplyMeta(meta, seq);
  if (!s.ok()) return s;
  w->info.first_sequence = seq;
  next_sequence_ = seq + 1;
  Publish(seq);
  return Status::OK();
}

// Removes a deleted table's items in bounded batches, without a marker: if
// we crash midway, the index's marker is still before the delete's frame,
// and replay of it deletes the rest.
Status DBImpl::PurgeTableItems(uint32_t table_id) {
  leveldb::WriteOptions wo;
  const std::string prefix = index::ItemPrefix(table_id);
  std::unique_ptr<leveldb::Iterator> it(index_->NewIterator(leveldb::ReadOptions()));
  leveldb::WriteBatch chunk;
  size_t n = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    chunk.Delete(it->key());
    if (++n % kPurgeChunk == 0) {
      Status s = FromLevelDB(index_->Write(wo, &chunk), "table purge");
      if (!s.ok()) return s;
      chunk.Clear();
    }
  }
  Status s = FromLevelDB(it->status(), "table purge");
  if (s.ok()) s = FromLevelDB(index_->Write(wo, &chunk), "table purge");
  return s;
}

Status DBImpl::ApplyMeta(const log::MetaData& meta, uint64_t seq) {
  const std::shared_ptr<const Catalog> next = catalog()->Apply(meta, seq);
  leveldb::WriteOptions wo;
  leveldb::WriteBatch batch;
  std::string encoded;
  log::EncodeCatalog(next->data(), &encoded);
  batch.Put(ToSlice(index::kCatalogKey), encoded);
  AddMarkerTo(seq, {}, &batch);
  if (meta.kind == log::MetaData::Kind::kDeleteTable) {
    batch.Delete(index::StatsKey(meta.table_id));  // after the marker's: it wins
  }
  if (meta.kind == log::MetaData::Kind::kDeleteMapping) {
    batch.Delete(index::CheckpointKey(meta.mapping_id));
    batch.Delete(index::LanesKey(meta.mapping_id));
    batch.Delete(index::CheckpointWindowKey(meta.mapping_id));
    batch.Delete(index::SnapshotKey(meta.mapping_id));
    DropSnapshotFloor(meta.mapping_id);
  }
  Status s;
  {
    // The purge and the change are one step to a table snapshot, which
    // pairs the index with index_applied_ under this lock: it sees the
    // table whole before the delete or gone after it, never half purged.
    MutexLock lock(&index_write_mu_);
    if (meta.kind == log::MetaData::Kind::kDeleteTable) s = PurgeTableItems(meta.table_id);
    if (s.ok()) s = FromLevelDB(index_->Write(wo, &batch), "index write");
    if (s.ok()) index_applied_ = seq;
  }
  if (!s.ok()) return s;
  NoteIndexWrite(seq, /*marker=*/true, {});
  {
    MutexLock lock(&stats_mu_);
    if (meta.kind == log::MetaData::Kind::kDeleteTable) {
      stats_.erase(meta.table_id);
    }
  }
  MutexLock lock(&catalog_mu_);
  catalog_ = next;
  return Status::OK();
}

}  // namespace runnel
