// Copyright 2026 The runnel Authors.
//
// Time to live: a background pass every Options::ttl_check_seconds (and
// DB::RunTimeToLive) scans the typed tables with TTL enabled and deletes the
// items whose TTL attribute, a number of seconds since the epoch, is before
// now. The scan only proposes: each delete is decided by the commit leader,
// which checks the expiry again on the item as it is then, so an item
// rewritten meanwhile with a later expiry (or none) is kept. Deletions are
// committed in frames marked ttlDelete, whose records carry the cloud's
// Service userIdentity.

#include <leveldb/db.h>
#include <leveldb/iterator.h>

#include <chrono>

#include "cdc/env_util.h"
#include "db/db_impl.h"
#include "db/index_keys.h"
#include "db/items/item_codec.h"
#include "db/items/number.h"
#include "util/clock.h"

namespace runnel {
namespace {

// Deletions per frame: bounds a frame's size and the time a pass holds the
// commit queue.
constexpr size_t kTtlFrameItems = 100;

// The cloud leaves alone items whose expiry is more than five years in the
// past (such a value is taken for a mistake, not an expiry).
constexpr int64_t kMaxPastSeconds = 5LL * 365 * 24 * 3600;

// Whether an encoded item has expired by `now` (epoch seconds).
bool Expired(std::string_view encoded, const std::string& attribute, const items::Number& now,
             const items::Number& oldest) {
  AttributeValue v;
  if (!items::FindAttribute(encoded, attribute, &v).ok()) return false;
  if (v.type != AttributeValue::Type::kN) return false;
  items::Number expiry;
  if (!items::Number::Parse(v.scalar, &expiry).ok()) return false;
  return items::Number::Compare(expiry, now) < 0 && items::Number::Compare(expiry, oldest) >= 0;
}

struct TtlClock {
  items::Number now;
  items::Number oldest;
};

TtlClock MakeClock(int64_t now_seconds) {
  TtlClock c;
  (void)items::Number::Parse(std::to_string(now_seconds), &c.now);
  (void)items::Number::Parse(std::to_string(now_seconds - kMaxPastSeconds), &c.oldest);
  return c;
}

}  // namespace

Status DBImpl::RunTimeToLive(uint64_t* deleted) {
  if (deleted != nullptr) *deleted = 0;
  Status s = CheckOpen();
  if (!s.ok()) return s;
  MutexLock run(&ttl_run_mu_);
  const TtlClock clock = MakeClock(NowMicros(env_) / 1000000);
  const std::shared_ptr<const Catalog> cat = catalog();
  uint64_t count = 0;
  for (const log::TableEntryData& t : cat->data().tables) {
    if (t.deleted_seq != 0 || !t.typed() || !t.ttl_enabled) continue;
    const std::string& attribute = t.ttl_attribute;
    // Each mutation re-checks the expiry on the item the leader reads.
    auto decide = [&](std::optional<std::string_view> current, std::optional<std::string>* next) {
      if (current.has_value()) {
        if (Expired(*current, attribute, clock.now, clock.oldest)) {
          ++count;
          next->reset();
        } else {
          *next = std::string(*current);  // rewritten meanwhile: keep it
        }
      }
      return Status::OK();
    };
    const std::string prefix = index::ItemPrefix(t.id);
    std::unique_ptr<leveldb::Iterator> it(index_->NewIterator(leveldb::ReadOptions()));
    std::vector<ItemMutation> batch;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string_view value(it->value().data(), it->value().size());
      if (!Expired(value, attribute, clock.now, clock.oldest)) continue;
      ItemMutation m;
      m.table = t.name;
      m.key.assign(it->key().data() + prefix.size(), it->key().size() - prefix.size());
      m.decide = decide;
      batch.push_back(std::move(m));
      if (batch.size() == kTtlFrameItems) {
        s = CommitItems(batch, false, /*ttl_delete=*/true, nullptr, nullptr);
        batch.clear();
        if (!s.ok()) break;
      }
    }
    if (s.ok()) s = FromLevelDB(it->status(), "time to live scan");
    if (s.ok() && !batch.empty()) s = CommitItems(batch, false, true, nullptr, nullptr);
    // A table deleted during the pass: its items are gone anyway.
    if (s.IsNotFound() || s.IsFailedPrecondition()) s = CheckOpen();
    if (!s.ok()) break;
  }
  if (deleted != nullptr) *deleted = count;
  return s;
}

void DBImpl::TtlLoop() {
  MutexLock lock(&ttl_mu_);
  while (!ttl_stop_) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options_.ttl_check_seconds);
    while (!ttl_stop_) {
      if (!ttl_cv_.WaitUntil(&ttl_mu_, deadline)) break;
    }
    if (ttl_stop_) break;
    ttl_mu_.Unlock();
    Status s = RunTimeToLive(nullptr);
    if (!s.ok()) Info("time to live: " + s.ToString());
    ttl_mu_.Lock();
  }
}

void DBImpl::StopTtl() {
  if (!ttl_thread_.joinable()) return;
  {
    MutexLock lock(&ttl_mu_);
    ttl_stop_ = true;
  }
  ttl_cv_.SignalAll();
  ttl_thread_.join();
}

}  // namespace runnel
