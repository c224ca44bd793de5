// Copyright 2026 The runnel Authors.
//
// Open-time recovery: the DB identity, the index's durable state, and replay
// of the log after the last sequence the index holds.

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "cdc/env_util.h"
#include "cdc/identity.h"
#include "cdc/log_writer.h"
#include "cdc/segment_reader.h"
#include "db/db_impl.h"
#include "db/index_env.h"
#include "db/index_keys.h"
#include "db/index_manifest.h"

namespace runnel {
namespace {

std::string BaseName(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  const size_t slash = d.rfind('/');
  return slash == std::string::npos ? d : d.substr(slash + 1);
}

// Replay flushes its index batch at this size.
constexpr size_t kReplayBatchBytes = 16u << 20;

// Makes the file's contents durable (opens it for appending and fsyncs it).
Status SyncFile(leveldb::Env* env, const std::string& path) {
  leveldb::WritableFile* f = nullptr;
  Status s = FromLevelDB(env->NewAppendableFile(path, &f), path);
  if (s.ok()) s = FromLevelDB(f->Sync(), path);
  if (f != nullptr) {
    f->Close();
    delete f;
  }
  return s;
}

}  // namespace

Status DBImpl::OpenOrCreateIdentity() {
  Identity identity;
  Status s = ReadIdentity(env_, dir_, &identity);
  if (s.ok() && options_.error_if_exists) {
    return Status::InvalidArgument(dir_ + ": DB exists (error_if_exists)");
  }
  if (s.IsNotFound()) {
    std::vector<uint64_t> segments;
    if (env_->FileExists(wal_dir_) && log::ListSegments(env_, wal_dir_, &segments).ok() &&
        !segments.empty()) {
      return Status::Corruption(dir_ +
                                "/IDENTITY is missing but wal/ holds "
                                "segments");
    }
    identity.name = options_.name.empty() ? BaseName(dir_) : options_.name;
    identity.region = options_.region;
    identity.account = options_.account_id;
    s = CreateIdentity(env_, dir_, &identity);
  }
  if (!s.ok()) return s;
  std::memcpy(id_, identity.id, log::kDbIdSize);
  name_ = identity.name;
  region_ = identity.region;
  account_id_ = identity.account;
  id_hex_ = identity.IdHex();
  return Status::OK();
}

Status DBImpl::OpenIndex(const leveldb::Options& lo) {
  leveldb::DB* index = nullptr;
  leveldb::Status ls = leveldb::DB::Open(lo, index_dir_, &index);
  ManifestTail tail;
  if (ls.IsCorruption() && InspectIndexManifest(env_, index_dir_, &tail).ok() && tail.damaged &&
      tail.torn_tail) {
    // The power was cut while LevelDB appended a MANIFEST record it had not
    // synced yet: the edit never took effect, so the record is cut off as
    // LevelDB itself ignores one cut short at the end of the file.
    const std::string path = index_dir_ + "/" + tail.file;
    Status s = TruncateFile(path, tail.intact_end);
    if (!s.ok()) return s;
    report_.index_torn_tail = true;
    report_.index_torn_tail_file = tail.file;
    report_.index_torn_tail_bytes = tail.size - tail.intact_end;
    Info("recovery: cut torn tail of index/" + tail.file + " offset " +
         std::to_string(tail.intact_end) + " (" + std::to_string(report_.index_torn_tail_bytes) +
         " bytes): " + tail.reason + " at offset " + std::to_string(tail.damage_offset) + " (" +
         ls.ToString() + ")");
    ls = leveldb::DB::Open(lo, index_dir_, &index);
  }
  if (ls.ok()) {
    index_.reset(index);
    return Status::OK();
  }
  Status s = FromLevelDB(ls, index_dir_);
  if (!ls.IsCorruption()) return s;
  // Say what can be done: the index is derived from the log.
  std::string advice;
  std::vector<uint64_t> segs;
  if (report_.index_torn_tail) {
    advice = "(This is after cutting a torn tail of " +
             std::to_string(report_.index_torn_tail_bytes) + " bytes off index/" + tail.file +
             ".) ";
  }
  if (tail.damaged && !tail.torn_tail) {
    advice = "index/" + tail.file + " is damaged at offset " + std::to_string(tail.damage_offset) +
             " (" + tail.reason + ") before intact records, so it is not a torn tail. ";
  }
  const bool listed = log::ListSegments(env_, wal_dir_, &segs).ok();
  if (listed && !segs.empty() && segs.front() == 1) {
    advice +=
        "The index is derived from the log, and wal/ still holds every record from sequence 1: "
        "move " +
        index_dir_ + " aside (e.g. to " + index_dir_ +
        ".damaged) and reopen to rebuild the index from the log.";
  } else {
    advice += (!listed        ? std::string("wal/ cannot be listed")
               : segs.empty() ? std::string("wal/ holds no segments")
                              : "wal/ starts at sequence " + std::to_string(segs.front()) +
                                    " (older segments were trimmed)") +
              ", so the index cannot be rebuilt from the log alone: restore " + dir_ +
              " from a backup.";
  }
  return Status::Corruption(s.message() + ". " + advice);
}

Status DBImpl::LoadIndexState(uint64_t* applied) {
  leveldb::ReadOptions ro;
  std::string v;
  leveldb::Status ls = index_->Get(ro, ToSlice(index::kAppliedKey), &v);
  *applied = 0;
  if (ls.ok()) {
    if (v.size() != 8) return Status::Corruption("index: bad applied sequence");
    *applied = DecodeFixed64(v.data());
  } else if (!ls.IsNotFound()) {
    return FromLevelDB(ls, "index");
  }
  index_marker_.store(*applied);
  {
    MutexLock lock(&index_write_mu_);
    index_applied_ = *applied;
  }
  log::CatalogData data;
  ls = index_->Get(ro, ToSlice(index::kCatalogKey), &v);
  if (ls.ok()) {
    Status s = log::DecodeCatalog(v, &data);
    if (!s.ok()) return s.WithContext("index");
  } else if (!ls.IsNotFound()) {
    return FromLevelDB(ls, "index");
  }
  {
    // Open is single-threaded; the locks are taken for the analysis' sake.
    MutexLock lock(&catalog_mu_);
    catalog_ = std::make_shared<const Catalog>(std::move(data));
  }

  MutexLock lock(&stats_mu_);
  std::unique_ptr<leveldb::Iterator> it(index_->NewIterator(ro));
  const leveldb::Slice prefix(index::kStatsPrefix.data(), index::kStatsPrefix.size());
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 4 || it->value().size() != 16) {
      return Status::Corruption("index: malformed table statistics");
    }
    const uint32_t id = DecodeBigEndian32(it->key().data() + prefix.size());
    TableStats& st = stats_[id];
    st.count = static_cast<int64_t>(DecodeFixed64(it->value().data()));
    st.bytes = static_cast<int64_t>(DecodeFixed64(it->value().data() + 8));
  }
  return FromLevelDB(it->status(), "index");
}

// The index writes of one replay batch, applied in key order with one
// write per key (the last one the log holds). Replay's cost is LevelDB's
// memtable: inserting keys in log order (random for most workloads) misses
// the cache on every level of the skip list, while inserting them sorted
// walks the list in order. The batch is written whole, so its order within
// does not matter to anyone but the cache.
class DBImpl::ReplayWrites {
 public:
  void Put(std::string_view key, std::string_view value) { Add(key, value, false); }
  void Delete(std::string_view key) { Add(key, {}, true); }
  size_t bytes() const { return arena_.size(); }
  // Adds the writes to `batch` in key order, the last write of each key
  // only, and forgets them.
  void MoveTo(leveldb::WriteBatch* batch) {
    std::sort(ops_.begin(), ops_.end(), [this](const Op& a, const Op& b) {
      const int c = Key(a).compare(Key(b));
      return c != 0 ? c < 0 : a.order < b.order;
    });
    for (size_t i = 0; i < ops_.size(); ++i) {
      const Op& op = ops_[i];
      if (i + 1 < ops_.size() && Key(ops_[i + 1]) == Key(op)) continue;  // overwritten
      const leveldb::Slice key(arena_.data() + op.key_at, op.key_len);
      if (op.del) {
        batch->Delete(key);
      } else {
        batch->Put(key, leveldb::Slice(arena_.data() + op.value_at, op.value_len));
      }
    }
    ops_.clear();
    arena_.clear();
  }

 private:
  struct Op {
    size_t key_at, value_at;
    uint32_t key_len, value_len;
    uint32_t order;
    bool del;
  };
  void Add(std::string_view key, std::string_view value, bool del) {
    Op op{arena_.size(),
          arena_.size() + key.size(),
          static_cast<uint32_t>(key.size()),
          static_cast<uint32_t>(value.size()),
          static_cast<uint32_t>(ops_.size()),
          del};
    arena_.append(key);
    arena_.append(value);
    ops_.push_back(op);
  }
  std::string_view Key(const Op& op) const {
    return std::string_view(arena_.data() + op.key_at, op.key_len);
  }

  std::string arena_;
  std::vector<Op> ops_;
};

Status DBImpl::ReplayBatch(std::string_view payload, uint64_t first_seq, ReplayWrites* batch,
                           std::unordered_map<uint32_t, TableStats>* delta) {
  log::BatchData data;
  Status s = log::DecodeBatch(payload, &data);
  if (!s.ok()) return s;
  const std::shared_ptr<const Catalog> cat = catalog();
  std::string ikey;
  for (size_t i = 0; i < data.changes.size(); ++i) {
    const log::ChangeData& c = data.changes[i];
    if (cat->FindById(c.table_id) == nullptr) {
      return Status::Corruption("record " + std::to_string(first_seq + i) +
                                " names unknown table id " + std::to_string(c.table_id));
    }
    ikey.clear();
    index::AppendItemKey(c.table_id, c.key, &ikey);
    TableStats& d = (*delta)[c.table_id];
    const auto key_bytes = static_cast<int64_t>(c.key.size());
    if (c.event == EventName::kRemove) {
      batch->Delete(ikey);
      d.count -= 1;
      d.bytes -= key_bytes + c.old_size;
    } else {
      if (!c.has_new) {
        return Status::Corruption("record " + std::to_string(first_seq + i) + " has no new image");
      }
      batch->Put(ikey, std::string_view(c.new_image.data(), c.new_image.size()));
      if (c.event == EventName::kInsert) {
        d.count += 1;
        d.bytes += key_bytes + static_cast<int64_t>(c.new_image.size());
      } else {
        d.bytes += static_cast<int64_t>(c.new_image.size()) - c.old_size;
      }
    }
  }
  if (data.has_checkpoint) {
    batch->Put(index::CheckpointKey(data.checkpoint.mapping_id),
               index::CheckpointValue(data.checkpoint.position, data.checkpoint.result));
    index::PutLanes(data.checkpoint.mapping_id, data.checkpoint.lane_positions, batch);
    if (data.checkpoint.has_window) {
      batch->Put(index::CheckpointWindowKey(data.checkpoint.mapping_id),
                 index::CheckpointWindowValue(data.checkpoint.position,
                                              data.checkpoint.window_start_micros,
                                              data.checkpoint.window_state));
    }
    if (data.checkpoint.snapshot.present()) {
      batch->Put(index::SnapshotKey(data.checkpoint.mapping_id),
                 index::EncodeSnapshot(data.checkpoint.snapshot));
    }
  }
  return Status::OK();
}

// The state of one replay of the log, from the segment that holds the
// index's applied sequence + 1 to the end.
struct DBImpl::ReplayPass {
  uint64_t applied = 0;  // the last sequence the index held at open
  bool skip_mode = false;
  bool tolerate_tail = false;
  std::vector<uint64_t> segs;
  size_t start = 0;  // the segment that holds applied + 1

  // The segment being replayed, and the frame or damage its reader returned
  // last.
  std::string name;
  std::string path;
  bool newest = false;
  std::unique_ptr<log::SegmentReader> reader;
  log::Frame frame;
  log::Damage damage;

  // The index writes being gathered; they hold everything up to
  // pending_last.
  ReplayWrites pending;
  leveldb::WriteBatch batch;
  std::unordered_map<uint32_t, TableStats> delta;
  uint64_t pending_last = 0;

  uint64_t last_seq = 0;  // the last sequence read from the log
  bool gap_allowed = false;
  uint64_t newest_size = 0;
  uint64_t newest_salt = 0;
};

Status DBImpl::Recover(uint64_t applied) {
  report_.index_sequence = applied;
  index_env_->NoteDurable(applied);
  last_sequence_.store(applied);
  CreateLogWriter();

  // A recovery that skipped damage may have made a marker past the damage
  // durable but not yet its recount of the statistics: do it again.
  std::string flag;
  const bool recount = index_->Get(leveldb::ReadOptions(), ToSlice(index::kRecountKey), &flag).ok();

  ReplayPass pass;
  pass.applied = applied;
  Status s = log::ListSegments(env_, wal_dir_, &pass.segs);
  if (!s.ok()) return s;
  pass.skip_mode = options_.recovery_mode == WALRecoveryMode::kSkipAnyCorruptedRecords;
  pass.tolerate_tail = options_.recovery_mode != WALRecoveryMode::kAbsoluteConsistency;
  s = FindReplayStart(&pass);
  if (!s.ok()) return s;

  std::vector<uint64_t>& segs = pass.segs;
  pass.pending_last = applied;
  pass.last_seq = segs.empty() ? applied : segs[pass.start] - 1;
  for (size_t i = pass.start; i < segs.size(); ++i) {
    pass.newest = i + 1 == segs.size();
    pass.name = log::SegmentFileName(segs[i]);
    pass.path = wal_dir_ + "/" + pass.name;
    s = OpenReplaySegment(&pass, segs[i]);
    if (!s.ok()) return s;
    if (pass.reader == nullptr) continue;  // skipped, or the torn newest one removed
    if (i > pass.start && segs[i] != pass.last_seq + 1 && !pass.gap_allowed) {
      return Status::Corruption("wal/" + pass.name + ": segment starts at sequence " +
                                std::to_string(segs[i]) + " but the previous segment ended at " +
                                std::to_string(pass.last_seq));
    }
    // Nothing may reach the index (whose files LevelDB may fsync at any time)
    // unless it is durable in the log: make the replayed segment durable.
    s = SyncFile(env_, pass.path);
    if (!s.ok()) return s;
    s = ReplaySegment(&pass);
    if (!s.ok()) return s;
    pass.reader.reset();  // closed before the next one opens, and before the log resumes
  }
  s = FlushReplay(&pass);
  if (s.ok() && (recount || !report_.skipped.empty())) s = RecountStats();
  if (!s.ok()) return s;
  return FinishReplay(&pass);
}

// Replay rebuilds the statistics after the index's marker from the records
// (each carries its old size). A frame that kSkipAnyCorruptedRecords skipped
// takes its delta with it, yet its items may be in the index already: a
// memtable flush after the marker took them. So a recovery that skipped
// damage counts the statistics again from the items themselves, one scan of
// the index; the others never pay for it. The "\0recount" flag, written when
// the damage was skipped (ReplayDamage), goes in the same batch as the
// recount: LevelDB flushes memtables in write order, so a durable marker
// past the damage (after which no replay sees it again) always comes with
// either the flag or the recount.
Status DBImpl::FlagRecount() {
  // Before any marker past the damage.
  return FromLevelDB(index_->Put(leveldb::WriteOptions(), ToSlice(index::kRecountKey), ""),
                     "index write");
}

Status DBImpl::RecountStats() {
  std::unordered_map<uint32_t, TableStats> counted;
  const char tag = index::kItemTag;
  leveldb::ReadOptions ro;
  ro.fill_cache = false;  // one pass over every item: keep the cache
  std::unique_ptr<leveldb::Iterator> it(index_->NewIterator(ro));
  for (it->Seek(leveldb::Slice(&tag, 1)); it->Valid(); it->Next()) {
    const leveldb::Slice k = it->key();
    if (k.empty() || k[0] != tag) break;
    if (k.size() < index::kItemKeyPrefixBytes) return Status::Corruption("index: short item key");
    TableStats& st = counted[DecodeBigEndian32(k.data() + 1)];
    st.count += 1;
    st.bytes += static_cast<int64_t>(k.size() - index::kItemKeyPrefixBytes + it->value().size());
  }
  Status s = FromLevelDB(it->status(), "index");
  if (!s.ok()) return s;
  leveldb::WriteBatch batch;
  {
    MutexLock lock(&stats_mu_);
    for (const auto& [id, st] : stats_) counted.try_emplace(id);  // tables left empty
    for (const auto& [id, st] : counted) {
      batch.Put(index::StatsKey(id), index::StatsValue(st.count, st.bytes));
    }
    stats_ = std::move(counted);
  }
  batch.Delete(ToSlice(index::kRecountKey));
  Info("recovery: skipped damage, so table statistics were counted again from the index");
  MutexLock lock(&index_write_mu_);
  return FromLevelDB(index_->Write(leveldb::WriteOptions(), &batch), "index write");
}

void DBImpl::CreateLogWriter() {
  log_ = std::make_unique<log::LogWriter>(env_, wal_dir_, id_, options_.segment_bytes);
  index_env_->SetHooks(
      [this]() -> leveldb::Status {
        Status s = log_->SyncAppended();
        return s.ok() ? leveldb::Status::OK() : leveldb::Status::IOError(s.ToString());
      },
      [this] { return index_marker_.load(); });
  log_->SetRotationListener([this](uint64_t) { KickRetention(); });
  log_->SetSegmentPreamble([this](uint64_t first_sequence) {
    std::string payload, frame;
    log::EncodeCatalog(catalog()->data(), &payload);
    log::AppendFrame(log::kCatalogFrame, first_sequence, 0, 0, payload, &frame);
    return frame;
  });
}

Status DBImpl::FindReplayStart(ReplayPass* pass) {
  const std::vector<uint64_t>& segs = pass->segs;
  const uint64_t applied = pass->applied;
  // The segment that holds applied + 1.
  size_t start = 0;
  while (start + 1 < segs.size() && segs[start + 1] <= applied + 1) ++start;
  if (!segs.empty() && segs[start] > applied + 1) {
    return Status::Corruption("log starts at sequence " + std::to_string(segs[start]) +
                              " but the index needs the log from sequence " +
                              std::to_string(applied + 1));
  }
  if (segs.empty() && applied > 0) {
    return Status::Corruption(
        "wal/ holds no segments but the index is at "
        "sequence " +
        std::to_string(applied));
  }
  pass->start = start;
  return Status::OK();
}

Status DBImpl::FlushReplay(ReplayPass* pass) {
  if (pass->pending_last == last_sequence_.load()) return Status::OK();
  std::string v;
  PutFixed64(&v, pass->pending_last);
  pass->pending.MoveTo(&pass->batch);
  pass->batch.Put(ToSlice(index::kAppliedKey), v);
  AddStatsTo(pass->delta, &pass->batch);
  Status fs;
  {
    MutexLock lock(&index_write_mu_);
    fs = FromLevelDB(index_->Write(leveldb::WriteOptions(), &pass->batch), "index write");
    if (fs.ok()) index_applied_ = pass->pending_last;
  }
  if (!fs.ok()) return fs;
  index_marker_.store(pass->pending_last);
  {
    MutexLock lock(&stats_mu_);
    for (const auto& [id, d] : pass->delta) {
      stats_[id].count += d.count;
      stats_[id].bytes += d.bytes;
    }
  }
  pass->batch.Clear();
  pass->delta.clear();
  last_sequence_.store(pass->pending_last);
  return Status::OK();
}

Status DBImpl::OpenReplaySegment(ReplayPass* pass, uint64_t segment) {
  const std::string& name = pass->name;
  const std::string& path = pass->path;
  pass->reader.reset();
  Status s = log::SegmentReader::Open(env_, wal_dir_, segment, id_, &pass->reader);
  if (s.ok()) return s;
  pass->reader.reset();
  uint64_t size = 0;
  env_->GetFileSize(path, &size);
  std::string raw;
  leveldb::ReadFileToString(env_, path, &raw);
  const bool blank = raw.find_first_not_of('\0') == std::string::npos;
  if (pass->newest && pass->tolerate_tail && (size < log::kSegmentHeaderSize || blank)) {
    // A segment created just before a crash whose header never reached
    // the disk: it cannot hold an acknowledged frame.
    report_.torn_tail = true;
    report_.torn_tail_segment = name;
    report_.torn_tail_offset = 0;
    report_.torn_tail_bytes = size;
    Info("recovery: removed torn segment " + name + " (" + std::to_string(size) +
         " bytes, no intact header)");
    s = FromLevelDB(env_->RemoveFile(path), path);
    if (!s.ok()) return s;
    pass->segs.pop_back();
    return Status::OK();
  }
  if (pass->skip_mode) {
    report_.skipped.push_back({name, 0, size, pass->last_seq + 1, 0, s.ToString()});
    Info("recovery: skipped unreadable segment " + name + ": " + s.ToString());
    pass->gap_allowed = true;
    return FlagRecount();
  }
  return s.WithContext("wal/" + name);
}

Status DBImpl::ReplaySegment(ReplayPass* pass) {
  log::SegmentReader* reader = pass->reader.get();
  bool segment_done = false;
  Status s;
  while (!segment_done) {
    switch (reader->Next(&pass->frame, &pass->damage)) {
      case log::SegmentReader::Result::kEnd:
        segment_done = true;
        break;
      case log::SegmentReader::Result::kError:
        return reader->status();
      case log::SegmentReader::Result::kDamaged:
        s = ReplayDamage(pass, &segment_done);
        if (!s.ok()) return s;
        break;
      case log::SegmentReader::Result::kFrame:
        s = ReplayFrame(pass);
        if (!s.ok()) return s;
        break;
    }
  }
  if (pass->newest && !report_.torn_tail) pass->newest_size = reader->file_size();
  if (pass->newest) pass->newest_salt = reader->salt();
  return Status::OK();
}

Status DBImpl::ReplayDamage(ReplayPass* pass, bool* segment_done) {
  log::SegmentReader* reader = pass->reader.get();
  const log::Damage& damage = pass->damage;
  const std::string& name = pass->name;
  const std::string where = "wal/" + name + " offset " + std::to_string(damage.offset);
  if (pass->newest && pass->tolerate_tail && damage.to_end_of_file) {
    report_.torn_tail = true;
    report_.torn_tail_segment = name;
    report_.torn_tail_offset = damage.offset;
    report_.torn_tail_bytes = reader->file_size() - damage.offset;
    Info("recovery: cut torn tail of " + where + " (" + std::to_string(report_.torn_tail_bytes) +
         " bytes): " + damage.reason);
    Status s = TruncateFile(pass->path, damage.offset);
    if (!s.ok()) return s;
    reader->SkipDamage(damage);
    pass->newest_size = damage.offset;
    *segment_done = true;
    return Status::OK();
  }
  if (!pass->skip_mode) {
    return Status::Corruption(where + ": " + damage.reason);
  }
  RecoveryReport::Skipped sk;
  sk.segment = name;
  sk.offset = damage.offset;
  sk.reason = damage.reason;
  sk.first_lost = pass->last_seq + 1;
  reader->SkipDamage(damage);
  sk.bytes = reader->offset() - damage.offset;
  log::Frame next;
  log::Damage ignored;
  const uint64_t resume = reader->offset();
  if (reader->Next(&next, &ignored) == log::SegmentReader::Result::kFrame) {
    sk.last_lost = next.header.first_sequence - 1;
  }
  reader->SeekToOffset(resume);
  Info("recovery: skipped " + where + " (" + std::to_string(sk.bytes) +
       " bytes): " + damage.reason);
  report_.skipped.push_back(sk);
  pass->gap_allowed = true;
  return FlagRecount();
}

Status DBImpl::ReplayFrame(ReplayPass* pass) {
  const log::Frame& frame = pass->frame;
  const std::string& name = pass->name;
  const uint64_t applied = pass->applied;
  const log::FrameHeader& h = frame.header;
  if (h.first_sequence != pass->last_seq + 1 && !pass->gap_allowed) {
    return Status::Corruption("wal/" + name + " offset " + std::to_string(frame.offset) +
                              ": frame starts at sequence " + std::to_string(h.first_sequence) +
                              ", expected " + std::to_string(pass->last_seq + 1));
  }
  pass->gap_allowed = false;
  if (h.count == 0) return Status::OK();  // a catalog snapshot: nothing to apply
  pass->last_seq = h.last_sequence();
  if (h.last_sequence() <= applied) return Status::OK();  // already in the index
  if (h.first_sequence <= applied) {
    return Status::Corruption("wal/" + name +
                              ": frame straddles the "
                              "index's applied sequence");
  }
  Status s;
  if (h.type == log::kBatchFrame) {
    s = ReplayBatch(frame.payload, h.first_sequence, &pass->pending, &pass->delta);
    pass->pending_last = h.last_sequence();
    if (s.ok() && pass->pending.bytes() > kReplayBatchBytes) {
      s = FlushReplay(pass);
    }
  } else if (h.type == log::kMetaFrame) {
    log::MetaData meta;
    s = FlushReplay(pass);
    if (s.ok()) s = log::DecodeMeta(frame.payload, &meta);
    if (s.ok()) s = ApplyMeta(meta, h.first_sequence);
    if (s.ok()) {
      pass->pending_last = h.first_sequence;
      last_sequence_.store(pass->pending_last);
    }
  } else if ((h.type & log::kSkippableTypeBit) == 0) {
    s = Status::NotSupported("frame type " + std::to_string(h.type) +
                             " (written by a newer runnel?)");
  }
  if (!s.ok()) {
    return s.WithContext("wal/" + name + " offset " + std::to_string(frame.offset));
  }
  ++report_.replayed_frames;
  if (h.type == log::kBatchFrame) report_.replayed_records += h.count;
  return Status::OK();
}

Status DBImpl::FinishReplay(ReplayPass* pass) {
  std::vector<uint64_t>& segs = pass->segs;
  const uint64_t applied = pass->applied;
  const uint64_t last_seq = std::max(pass->last_seq, applied);
  next_sequence_ = last_seq + 1;
  last_sequence_.store(last_seq);
  // Continue the newest segment only if it holds frames: one cut back to its
  // bare header lost its catalog frame (the first frame of every segment),
  // so it is rewritten from scratch under the same name (it holds no
  // sequence numbers).
  Status s;
  if (!segs.empty() && pass->newest_size < options_.segment_bytes &&
      pass->newest_size > log::kSegmentHeaderSize) {
    s = log_->Reopen(segs.back(), pass->newest_size, last_seq, pass->newest_salt);
  } else {
    s = log_->StartSegment(next_sequence_);
    if (s.ok() && (segs.empty() || segs.back() < next_sequence_)) {
      segs.push_back(next_sequence_);
    }
  }
  if (!s.ok()) return s;
  first_available_.store(segs.front());
  if (report_.replayed_frames > 0 || report_.torn_tail || !report_.skipped.empty()) {
    Info("recovery: index at " + std::to_string(applied) + ", replayed " +
         std::to_string(report_.replayed_frames) + " frames (" +
         std::to_string(report_.replayed_records) + " records) up to " + std::to_string(last_seq));
  }
  return Status::OK();
}

}  // namespace runnel
