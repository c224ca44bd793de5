// Copyright 2026 The runnel Authors.
//
// Open, close, reads and table administration.

#include "db/db_impl.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "cdc/arn.h"
#include "cdc/env_util.h"
#include "cdc/log_writer.h"
#include "db/dir_lock.h"
#include "db/index_env.h"
#include "db/index_keys.h"

namespace runnel {

Status DBInternal::Open(const Options& options, const std::string& dir,
                        std::unique_ptr<DBInternal>* db) {
  db->reset();
  if (dir.empty()) return Status::InvalidArgument("dir: must not be empty");
  if (options.segment_bytes < (64u << 10)) {
    return Status::InvalidArgument("options.segment_bytes: must be >= 65536");
  }
  if (options.trigger_threads < 0 || options.trigger_threads > 1024) {
    return Status::InvalidArgument(
        "options.trigger_threads: must be 0 (the default) to 1024, got " +
        std::to_string(options.trigger_threads));
  }
  if (options.sync_group_wait_micros > 100000) {
    return Status::InvalidArgument(
        "options.sync_group_wait_micros: must be 0 (off) to 100000 (0.1 s), got " +
        std::to_string(options.sync_group_wait_micros));
  }
  if (options.key_filter_bits_per_key < 0 || options.key_filter_bits_per_key > 64) {
    return Status::InvalidArgument("options.key_filter_bits_per_key: must be 0 (off) to 64, got " +
                                   std::to_string(options.key_filter_bits_per_key));
  }
  Status s = arn::CheckRegion(options.region);
  if (!s.ok()) return Status::InvalidArgument("options.region: " + s.message());
  s = arn::CheckAccount(options.account_id);
  if (!s.ok()) return Status::InvalidArgument("options.account_id: " + s.message());
  if (ToLevelDBEnv(options.env) == nullptr) {
    return Status::InvalidArgument("options.env: not an Env made by runnel (see runnel/env.h)");
  }
  auto impl = std::make_unique<DBImpl>(options, dir);
  s = impl->Open();
  if (!s.ok()) return s;
  *db = std::move(impl);
  return Status::OK();
}

DBImpl::DBImpl(const Options& options, std::string dir)
    : options_(options),
      dir_(std::move(dir)),
      wal_dir_(dir_ + "/wal"),
      index_dir_(dir_ + "/index"),
      env_(ToLevelDBEnv(options.env)) {}

DBImpl::~DBImpl() { Close().ok(); }  // best effort; Close() reports errors

Status DBImpl::Open() {
  if (::mkdir(dir_.c_str(), 0700) != 0) {
    if (errno != EEXIST) {
      return Status::IOError(dir_ + ": mkdir: " + std::strerror(errno));
    }
  } else if (!options_.create_if_missing) {
    ::rmdir(dir_.c_str());
    return Status::NotFound(dir_ + ": DB does not exist (create_if_missing is false)");
  }
  Status s = DirLock::Acquire(dir_, &lock_);
  if (!s.ok()) return s;
  s = OpenOrCreateIdentity();
  if (!s.ok()) return s;
  env_->CreateDir(wal_dir_);  // may exist; errors surface below
  env_->CreateDir(index_dir_);
  s = FromLevelDB(env_->NewLogger(dir_ + "/LOG", &info_log_), dir_ + "/LOG");
  if (!s.ok()) return s;

  index_env_ = std::make_unique<IndexEnv>(env_);
  filter_policy_.reset(leveldb::NewBloomFilterPolicy(10));
  block_cache_.reset(leveldb::NewLRUCache(options_.block_cache_bytes));
  leveldb::Options lo;
  lo.create_if_missing = true;
  lo.env = index_env_.get();
  lo.filter_policy = filter_policy_.get();
  lo.block_cache = block_cache_.get();
  lo.write_buffer_size = options_.write_buffer_bytes;
  lo.max_open_files = options_.max_open_files;
  s = OpenIndex(lo);
  if (!s.ok()) return s;

  uint64_t applied = 0;
  s = LoadIndexState(&applied);
  if (s.ok()) s = Recover(applied);
  if (!s.ok()) return s;
  StartKeyFilter();
  // Before retention first runs: the stream a snapshot mapping still needs.
  LoadSnapshotFloors();
  LoadLaneEntries();

  retention_thread_ = std::thread([this] { RetentionLoop(); });
  if (options_.ttl_check_seconds > 0) ttl_thread_ = std::thread([this] { TtlLoop(); });
  return Status::OK();
}

void DBImpl::Attach(std::unique_ptr<Attachment> attachment) { attachment_ = std::move(attachment); }

Triggers* DBImpl::triggers() { return attachment_ != nullptr ? attachment_->triggers() : nullptr; }

Status DBImpl::Close() {
  // Handlers write back through the DB: stop them while it still works.
  if (attachment_ != nullptr && !closed_.load()) attachment_->BeforeClose();
  {
    MutexLock lock(&mu_);
    if (closed_.exchange(true)) return Status::OK();
    // Writers already queued are committed; new ones are refused.
    while (!writers_.empty()) idle_cv_.Wait(&mu_);
  }
  WakeWaiters();  // waiting consumers see closed_ and return
  StopTtl();      // its pass stops at its next commit (closed_)
  StopKeyFilter();
  if (retention_thread_.joinable()) {
    {
      MutexLock lock(&retention_mu_);
      retention_stop_ = true;
    }
    retention_cv_.SignalAll();
    retention_thread_.join();
  }
  Status s;
  if (log_ != nullptr) s = log_->Sync();
  // The index goes first: its compaction thread may still sync the log.
  index_.reset();
  if (log_ != nullptr) {
    Status c = log_->Close();
    if (s.ok()) s = c;
  }
  log_.reset();
  delete info_log_;
  info_log_ = nullptr;
  lock_.reset();
  return s;
}

void DBImpl::StartKeyFilter() {
  if (options_.key_filter_bits_per_key <= 0) return;
  uint64_t items = 0;
  {
    MutexLock lock(&stats_mu_);
    for (const auto& [id, st] : stats_)
      items += static_cast<uint64_t>(std::max<int64_t>(st.count, 0));
  }
  // (Sized for the items there are, plus growth; it grows by itself past
  // that.)
  key_filter_ = std::make_unique<KeyFilter>(options_.key_filter_bits_per_key,
                                            std::max<uint64_t>(items + items / 4, 1u << 16));
  leveldb::ReadOptions ro;
  ro.fill_cache = false;
  const std::string first(1, index::kItemTag);
  {
    std::unique_ptr<leveldb::Iterator> it(index_->NewIterator(ro));
    it->Seek(first);
    if (it->status().ok() && (!it->Valid() || it->key()[0] != index::kItemTag)) {
      key_filter_ready_.store(true, std::memory_order_release);  // no item yet
      return;
    }
  }
  // The scan reads a snapshot: a key inserted after it is added by the
  // commit path (which adds from now on), so the union misses no key.
  key_filter_thread_ = std::thread([this, ro, first]() mutable {
    const leveldb::Snapshot* snapshot = index_->GetSnapshot();
    ro.snapshot = snapshot;
    std::unique_ptr<leveldb::Iterator> it(index_->NewIterator(ro));
    uint64_t n = 0;
    for (it->Seek(first); it->Valid() && it->key()[0] == index::kItemTag; it->Next()) {
      key_filter_->Add(std::string_view(it->key().data(), it->key().size()));
      if (++n % 4096 == 0 && key_filter_stop_.load(std::memory_order_relaxed)) break;
    }
    const bool complete = it->status().ok() && !key_filter_stop_.load();
    it.reset();
    index_->ReleaseSnapshot(snapshot);
    // (After a read error the filter stays unused: every lookup reads.)
    if (complete) key_filter_ready_.store(true, std::memory_order_release);
  });
}

void DBImpl::StopKeyFilter() {
  key_filter_stop_.store(true);
  if (key_filter_thread_.joinable()) key_filter_thread_.join();
}

Status DBImpl::CheckOpen() const {
  if (closed_.load()) return Status::FailedPrecondition("DB is closed");
  return Status::OK();
}

std::shared_ptr<const Catalog> DBImpl::catalog() const {
  MutexLock lock(&catalog_mu_);
  return catalog_;
}

// leveldb::Log() is not exported by Debian's shared LevelDB; Logv is virtual.
static void LogLine(leveldb::Logger* logger, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  logger->Logv(format, ap);
  va_end(ap);
}

void DBImpl::Info(const std::string& msg) {
  if (info_log_ != nullptr) LogLine(info_log_, "%s", msg.c_str());
}

// --- Tables

Status DBImpl::CreateTable(std::string_view name, const StreamSpecification& stream) {
  return CommitTableMeta(log::MetaData::Kind::kCreateTable, name, stream);
}

Status DBImpl::DeleteTable(std::string_view name) {
  return CommitTableMeta(log::MetaData::Kind::kDeleteTable, name, {});
}

Status DBImpl::UpdateTable(std::string_view name, const StreamSpecification& stream) {
  return CommitTableMeta(log::MetaData::Kind::kUpdateStream, name, stream);
}

Status DBImpl::CommitTableMeta(log::MetaData::Kind kind, std::string_view name,
                               const StreamSpecification& stream) {
  const std::string table(name);
  return CommitMeta([&](const Catalog& cat, uint64_t seq, int64_t now, log::MetaData* meta) {
    return PrepareTableMeta(kind, table, stream, cat, now, seq, meta);
  });
}

Status DBImpl::CommitMeta(const MetaPrepare& prepare, SequenceNumber* seq) {
  Writer w;
  w.meta = &prepare;
  w.sync = true;
  Status s = Commit(&w);
  if (s.ok() && seq != nullptr) *seq = w.info.first_sequence;
  return s;
}

Status DBImpl::CommitCheckpoint(const WriteBatch& writes, const log::CheckpointData& checkpoint,
                                uint8_t chain_depth) {
  Status s = ValidateBatch(writes);
  if (!s.ok()) return s;
  Writer w;
  w.batch = &writes;
  w.checkpoint = &checkpoint;
  w.chain_depth = chain_depth;
  // Not fsynced: the checkpoint and its write-backs are one frame, so a
  // power loss drops both together and the batch is simply delivered again
  // (at least once, effects exactly once). Group commit batches them.
  w.sync = false;
  return Commit(&w);
}

bool DBImpl::ReadCheckpoint(uint32_t mapping_id, uint64_t* position, std::string* result) {
  if (!CheckOpen().ok()) return false;
  std::string v;
  if (!index_->Get(leveldb::ReadOptions(), index::CheckpointKey(mapping_id), &v).ok() ||
      v.size() < 8) {
    return false;
  }
  *position = DecodeFixed64(v.data());
  result->assign(v, 8);
  return true;
}

void DBImpl::LoadLaneEntries() {
  std::unique_ptr<leveldb::Iterator> it(index_->NewIterator(leveldb::ReadOptions()));
  const leveldb::Slice prefix(index::kLanesPrefix.data(), index::kLanesPrefix.size());
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 4) continue;
    lane_entries_.insert(DecodeBigEndian32(it->key().data() + prefix.size()));
  }
}

std::vector<uint64_t> DBImpl::ReadCheckpointLanes(uint32_t mapping_id) {
  std::vector<uint64_t> lanes;
  if (!CheckOpen().ok()) return lanes;
  std::string v;
  if (!index_->Get(leveldb::ReadOptions(), index::LanesKey(mapping_id), &v).ok()) return lanes;
  for (size_t i = 0; i + 8 <= v.size(); i += 8) lanes.push_back(DecodeFixed64(v.data() + i));
  return lanes;
}

bool DBImpl::ReadCheckpointWindow(uint32_t mapping_id, uint64_t position, int64_t* start_micros,
                                  std::string* state) {
  if (!CheckOpen().ok()) return false;
  std::string v;
  if (!index_->Get(leveldb::ReadOptions(), index::CheckpointWindowKey(mapping_id), &v).ok() ||
      v.size() < 16 || DecodeFixed64(v.data()) != position) {
    return false;
  }
  *start_micros = static_cast<int64_t>(DecodeFixed64(v.data() + 8));
  state->assign(v, 16);
  return true;
}

static Status TableNotFound(std::string_view name) {
  return Status::NotFound("table '" + std::string(name) + "' does not exist");
}

Status DBImpl::DescribeTable(std::string_view name, TableDescription* d) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  auto cat = catalog();
  const log::TableEntryData* t = cat->FindLive(name);
  if (t == nullptr) return TableNotFound(name);
  *d = TableDescription();
  d->table_name = t->name;
  d->table_id = t->id;
  d->creation_time_micros = t->creation_time_micros;
  FillTypedDescription(*t, d);
  const log::View view = Catalog::CurrentView(*t);
  d->stream_specification.stream_enabled = view != log::View::kNone;
  if (view != log::View::kNone) {
    d->stream_specification.stream_view_type = log::ToStreamViewType(view);
  }
  if (!t->streams.empty()) {
    StreamInfo info = Catalog::MakeStreamInfo(region_, account_id_, *t, t->streams.back());
    d->latest_stream_arn = info.arn;
    d->latest_stream_label = info.label;
  }
  MutexLock lock(&stats_mu_);
  auto it = stats_.find(t->id);
  if (it != stats_.end()) {
    d->item_count = static_cast<uint64_t>(std::max<int64_t>(0, it->second.count));
    d->table_size_bytes = static_cast<uint64_t>(std::max<int64_t>(0, it->second.bytes));
  }
  return Status::OK();
}

Status DBImpl::ListTables(std::vector<std::string>* names) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  names->clear();
  for (const auto& t : catalog()->data().tables) {
    if (t.deleted_seq == 0) names->push_back(t.name);
  }
  std::sort(names->begin(), names->end());
  return Status::OK();
}

Status DBImpl::ListStreams(std::string_view table, std::vector<StreamInfo>* streams) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  streams->clear();
  auto cat = catalog();
  if (!table.empty() && cat->FindLive(table) == nullptr) {
    bool known = false;
    for (const auto& t : cat->data().tables) known |= t.name == table;
    if (!known) return TableNotFound(table);
  }
  for (const auto& t : cat->data().tables) {
    if (!table.empty() && t.name != table) continue;
    for (const auto& st : t.streams) {
      streams->push_back(Catalog::MakeStreamInfo(region_, account_id_, t, st));
    }
  }
  std::stable_sort(streams->begin(), streams->end(), [](const StreamInfo& a, const StreamInfo& b) {
    return a.starting_sequence < b.starting_sequence;
  });
  return Status::OK();
}

// --- Items

static Status ValidateKey(std::string_view key) {
  if (key.size() < kMinKeyBytes || key.size() > kMaxKeyBytes) {
    return Status::InvalidArgument("key: must be 1 to 4096 bytes, got " +
                                   std::to_string(key.size()));
  }
  return Status::OK();
}

// The LevelDB read options for a runnel one.
static leveldb::ReadOptions IndexReadOptions(const ReadOptions& options) {
  leveldb::ReadOptions lo;
  lo.verify_checksums = options.verify_checksums;
  lo.fill_cache = options.fill_cache;
  return lo;
}

Status DBImpl::Get(const ReadOptions& options, std::string_view table, std::string_view key,
                   std::string* value) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  s = ValidateKey(key);
  if (!s.ok()) return s;
  auto cat = catalog();
  const log::TableEntryData* t = cat->FindLive(table);
  if (t == nullptr) return TableNotFound(table);
  leveldb::Status ls = index_->Get(IndexReadOptions(options), index::ItemKey(t->id, key), value);
  if (ls.IsNotFound()) return Status::NotFound("key not found");
  return FromLevelDB(ls);
}

Status DBImpl::Scan(const ReadOptions& options, std::string_view table, const ScanOptions& o,
                    ScanResult* result) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  if (!o.exclusive_start_key.empty()) {
    s = ValidateKey(o.exclusive_start_key);
    if (!s.ok()) return s.WithContext("exclusive_start_key");
  }
  auto cat = catalog();
  const log::TableEntryData* t = cat->FindLive(table);
  if (t == nullptr) return TableNotFound(table);
  *result = ScanResult();

  // The first user key to consider: the largest of the lower bounds.
  std::string lower = std::max(o.prefix, o.start_key);
  if (!o.exclusive_start_key.empty()) {
    std::string after = o.exclusive_start_key;
    after.push_back('\0');  // the smallest key greater than it
    lower = std::max(lower, after);
  }
  const std::string table_prefix = index::ItemPrefix(t->id);
  std::unique_ptr<leveldb::Iterator> it(index_->NewIterator(IndexReadOptions(options)));
  it->Seek(table_prefix + lower);
  for (; it->Valid(); it->Next()) {
    const leveldb::Slice k = it->key();
    if (!k.starts_with(table_prefix)) break;
    const std::string_view user(k.data() + table_prefix.size(), k.size() - table_prefix.size());
    if (!o.end_key.empty() && user >= o.end_key) break;
    if (user.substr(0, o.prefix.size()) != o.prefix) break;
    if (o.limit != 0 && result->items.size() == o.limit) {
      result->has_more = true;
      result->last_evaluated_key = result->items.back().first;
      break;
    }
    result->items.emplace_back(std::string(user), it->value().ToString());
  }
  return FromLevelDB(it->status());
}

void DBImpl::Publish(uint64_t last, const std::vector<uint32_t>& tables) {
  if (!tables.empty()) {
    MutexLock lock(&wait_mu_);
    for (uint32_t t : tables) table_last_[t] = last;
  }
  last_sequence_.store(last);
  // Sequentially consistent with the waiter's increment-then-check: either
  // the waiter sees the new sequence, or we see the waiter.
  if (waiters_.load() > 0) {
    { MutexLock lock(&wait_mu_); }
    wait_cv_.SignalAll();
  }
  // After last_sequence_: a worker woken by the listener reads up to here.
  if (!tables.empty() && has_listener_.load()) {
    MutexLock lock(&listener_mu_);
    if (listener_) listener_(last, tables);
  }
}

void DBImpl::SetTableChangeListener(TableChangeListener listener) {
  MutexLock lock(&listener_mu_);
  has_listener_ = static_cast<bool>(listener);
  listener_ = std::move(listener);
}

Status DBImpl::WaitForSequence(SequenceNumber sequence, std::chrono::microseconds timeout) {
  return source_.WaitFor(sequence, std::chrono::steady_clock::now() + timeout);
}

Status DBImpl::Source::WaitFor(SequenceNumber sequence,
                               std::chrono::steady_clock::time_point deadline) {
  if (db_->last_sequence_.load() >= sequence) return Status::OK();
  MutexLock lock(&db_->wait_mu_);
  ++db_->waiters_;
  Status s;
  for (;;) {
    if (db_->last_sequence_.load() >= sequence) break;
    if (db_->closed_.load()) {
      s = Status::FailedPrecondition("DB is closed");
      break;
    }
    if (!db_->wait_cv_.WaitUntil(&db_->wait_mu_, deadline) &&
        db_->last_sequence_.load() < sequence) {
      s = Status::TimedOut("no sequence " + std::to_string(sequence) +
                           " committed before the deadline");
      break;
    }
  }
  --db_->waiters_;
  return s;
}

SequenceNumber DBImpl::LastTableChange(uint32_t table_id) {
  MutexLock lock(&wait_mu_);
  auto it = table_last_.find(table_id);
  return it == table_last_.end() ? 0 : it->second;
}

void DBImpl::WakeWaiters() {
  MutexLock lock(&wait_mu_);
  wait_cv_.SignalAll();
}

Status DBImpl::Source::Catalog(std::shared_ptr<const runnel::Catalog>* c) {
  Status s = db_->CheckOpen();
  if (s.ok()) *c = db_->catalog();
  return s;
}

Status DBImpl::Source::LastSequence(SequenceNumber* last) {
  Status s = db_->CheckOpen();
  if (s.ok()) *last = db_->last_sequence_.load();
  return s;
}

SequenceNumber DBImpl::FirstAvailableSequence() const {
  return std::min(first_available_.load(), last_sequence_.load() + 1);
}

void DBImpl::SetRetentionFloor(std::string_view owner, SequenceNumber keep) {
  MutexLock lock(&retention_mu_);
  floors_[std::string(owner)] = keep;
}

void DBImpl::ClearRetentionFloor(std::string_view owner) {
  MutexLock lock(&retention_mu_);
  auto it = floors_.find(owner);
  if (it != floors_.end()) floors_.erase(it);
}

}  // namespace runnel
