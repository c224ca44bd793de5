// Copyright 2026 The runnel Authors.
//
// What a snapshot mapping (StartingPosition SNAPSHOT) needs of the store: a
// consistent read of a table's items that names the sequence it reflects,
// the mapping's progress as stored with its checkpoint, and the retention
// floor that keeps the stream after the snapshot while the mapping needs it.

#include <leveldb/db.h>

#include <limits>

#include "db/db_impl.h"
#include "db/index_keys.h"

namespace runnel {
namespace {

class TableSnapshotImpl : public TableSnapshot {
 public:
  // `snapshot` holds exactly the changes up to `sequence` (taken under
  // the index write lock).
  TableSnapshotImpl(leveldb::DB* index, const leveldb::Snapshot* snapshot, uint64_t sequence,
                    uint32_t table_id)
      : index_(index),
        snapshot_(snapshot),
        prefix_(index::ItemPrefix(table_id)),
        sequence_(sequence) {
    leveldb::ReadOptions ro;
    ro.snapshot = snapshot_;
    ro.fill_cache = false;  // one pass over the table: keep the cache for reads
    it_.reset(index_->NewIterator(ro));
  }
  ~TableSnapshotImpl() override {
    it_.reset();
    index_->ReleaseSnapshot(snapshot_);
  }

  SequenceNumber sequence() const override { return sequence_; }

  Status Read(std::string_view after, size_t limit, size_t max_bytes,
              std::vector<std::pair<std::string, std::string>>* items, bool* end) override {
    items->clear();
    *end = false;
    std::string start = prefix_;
    start.append(after);
    it_->Seek(start);
    if (!after.empty() && it_->Valid() && it_->key() == leveldb::Slice(start)) it_->Next();
    size_t bytes = 0;
    for (; it_->Valid(); it_->Next()) {
      const leveldb::Slice k = it_->key();
      if (!k.starts_with(prefix_)) break;
      if (items->size() >= limit || bytes >= max_bytes) return Status::OK();
      items->emplace_back(std::string(k.data() + prefix_.size(), k.size() - prefix_.size()),
                          it_->value().ToString());
      bytes += items->back().first.size() + items->back().second.size();
    }
    if (!it_->status().ok()) return Status::IOError("snapshot read: " + it_->status().ToString());
    *end = true;
    return Status::OK();
  }

 private:
  leveldb::DB* const index_;
  const leveldb::Snapshot* const snapshot_;
  const std::string prefix_;
  SequenceNumber sequence_ = 0;
  std::unique_ptr<leveldb::Iterator> it_;
};

std::string FloorOwner(uint32_t mapping_id) {
  return "snapshot mapping " + std::to_string(mapping_id);
}

// The records a mapping still needs while its snapshot has segments: those
// after the smallest segment sequence (the stream phase starts there).
uint64_t FloorOf(const log::SnapshotStateData& st) {
  uint64_t floor = std::numeric_limits<uint64_t>::max();
  for (const auto& seg : st.segments) floor = std::min(floor, seg.sequence + 1);
  return floor;
}

}  // namespace

Status DBImpl::NewTableSnapshot(uint32_t table_id, std::unique_ptr<TableSnapshot>* snapshot) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  // Not every index write carries the applied sequence any more (the
  // marker is sparse): the snapshot is paired with the sequence of the last
  // index write under the lock every commit holds across its write.
  const leveldb::Snapshot* snap;
  uint64_t sequence;
  {
    MutexLock lock(&index_write_mu_);
    snap = index_->GetSnapshot();
    sequence = index_applied_;
  }
  *snapshot = std::make_unique<TableSnapshotImpl>(index_.get(), snap, sequence, table_id);
  return Status::OK();
}

bool DBImpl::ReadSnapshotState(uint32_t mapping_id, log::SnapshotStateData* state) {
  if (!CheckOpen().ok()) return false;
  std::string v;
  if (!index_->Get(leveldb::ReadOptions(), index::SnapshotKey(mapping_id), &v).ok()) return false;
  return index::DecodeSnapshot(v, state);
}

void DBImpl::LoadSnapshotFloors() {
  std::unique_ptr<leveldb::Iterator> it(index_->NewIterator(leveldb::ReadOptions()));
  const leveldb::Slice prefix(index::kSnapshotPrefix.data(), index::kSnapshotPrefix.size());
  MutexLock lock(&retention_mu_);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 4) continue;
    const uint32_t id = DecodeBigEndian32(it->key().data() + prefix.size());
    log::SnapshotStateData st;
    if (!index::DecodeSnapshot(std::string_view(it->value().data(), it->value().size()), &st)) {
      continue;
    }
    if (!st.segments.empty()) floors_[FloorOwner(id)] = FloorOf(st);
  }
}

void DBImpl::UpdateSnapshotFloor(uint32_t mapping_id, const log::SnapshotStateData& st,
                                 uint64_t seq) {
  const std::string owner = FloorOwner(mapping_id);
  MutexLock lock(&retention_mu_);
  if (!st.segments.empty()) {
    // Raised or set at once: a lower floor before this checkpoint is durable
    // only keeps more.
    floors_[owner] = FloorOf(st);
    floor_releases_.erase(owner);
  } else if (floors_.count(owner) != 0) {
    // Cleared only once this checkpoint is durable: until then a power loss
    // could bring back the one that still needs the records.
    floor_releases_[owner] = seq;
  }
}

void DBImpl::DropSnapshotFloor(uint32_t mapping_id) {
  const std::string owner = FloorOwner(mapping_id);
  MutexLock lock(&retention_mu_);
  floors_.erase(owner);
  floor_releases_.erase(owner);
}

void DBImpl::ReleaseSnapshotFloors(uint64_t durable) {
  MutexLock lock(&retention_mu_);
  for (auto it = floor_releases_.begin(); it != floor_releases_.end();) {
    if (it->second <= durable) {
      floors_.erase(it->first);
      it = floor_releases_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace runnel
