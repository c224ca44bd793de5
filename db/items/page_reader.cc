// Copyright 2026 The runnel Authors.

#include "db/items/page_reader.h"

#include <leveldb/iterator.h>

#include "cdc/env_util.h"
#include "db/index_keys.h"
#include "db/items/item_codec.h"
#include "db/items/value.h"

namespace runnel::items {
namespace {

// The walk over one range, in either direction.
class RangeCursor {
 public:
  RangeCursor(leveldb::Iterator* it, uint32_t table_id, const KeyRange& range, bool forward)
      : it_(it),
        prefix_(index::ItemPrefix(table_id)),
        lower_(prefix_ + range.lower),
        upper_(range.upper.empty() ? PrefixSuccessor(prefix_) : prefix_ + range.upper),
        forward_(forward) {}

  void Start() {
    if (forward_) {
      it_->Seek(lower_);
      return;
    }
    it_->Seek(upper_);
    if (it_->Valid()) {
      it_->Prev();
    } else {
      it_->SeekToLast();
    }
  }
  bool Valid() const {
    if (!it_->Valid()) return false;
    const leveldb::Slice k = it_->key();
    std::string_view key(k.data(), k.size());
    return key >= lower_ && key < upper_;
  }
  void Next() {
    if (forward_) {
      it_->Next();
    } else {
      it_->Prev();
    }
  }
  // Moves past every key starting with `user_prefix` (forward only).
  void SkipPast(std::string_view user_prefix) {
    std::string succ = PrefixSuccessor(std::string(prefix_).append(user_prefix));
    if (succ.empty() || succ >= upper_) {
      it_->Seek(upper_);
      return;
    }
    it_->Seek(succ);
  }
  std::string_view user_key() const {
    const leveldb::Slice k = it_->key();
    return std::string_view(k.data(), k.size()).substr(prefix_.size());
  }
  std::string_view value() const {
    const leveldb::Slice v = it_->value();
    return std::string_view(v.data(), v.size());
  }

 private:
  leveldb::Iterator* const it_;
  const std::string prefix_;
  const std::string lower_;
  const std::string upper_;
  const bool forward_;
};

// False (and the cursor advanced) if the item's partition is another
// segment's.
Status InSegment(const PageSpec& spec, RangeCursor* cursor, bool* in) {
  *in = true;
  if (spec.total_segments == 0) return Status::OK();
  size_t n = 0;
  Status s = HashComponentLength(spec.shape, cursor->user_key(), &n);
  if (!s.ok()) return s;
  const std::string_view hash = cursor->user_key().substr(0, n);
  if (SegmentOf(hash, spec.total_segments) == spec.segment) return Status::OK();
  *in = false;
  cursor->SkipPast(hash);
  return Status::OK();
}

}  // namespace

Status ReadPage(leveldb::Iterator* it, const PageSpec& spec, QueryResult* result) {
  *result = QueryResult();
  RangeCursor cursor(it, spec.table_id, spec.range, spec.forward);
  std::string last_key;  // the encoded key of the last evaluated item
  size_t bytes = 0;
  Item item;
  for (cursor.Start(); cursor.Valid();) {
    bool in = true;
    Status s = InSegment(spec, &cursor, &in);
    if (!s.ok()) return s;
    if (!in) continue;
    const bool full =
        (spec.limit != 0 && result->scanned_count == spec.limit) || bytes >= kMaxPageBytes;
    if (full) {
      // Another item follows: the caller continues after the last one.
      Item key;
      s = DecodeItemKey(spec.shape, last_key, &key);
      if (!s.ok()) return s;
      result->last_evaluated_key = std::move(key);
      break;
    }
    item.clear();
    s = DecodeItem(cursor.value(), &item);
    if (!s.ok()) return s.WithContext("item of table " + std::to_string(spec.table_id));
    last_key.assign(cursor.user_key());
    ++result->scanned_count;
    bytes += ItemSize(item);
    if (spec.filter == nullptr || spec.filter->Evaluate(item)) {
      ++result->count;
      if (spec.count_only) {
        // Counted only.
      } else if (spec.projection != nullptr) {
        Item projected;
        Project(item, *spec.projection, &projected);
        result->items.push_back(std::move(projected));
      } else {
        result->items.push_back(std::move(item));
      }
    }
    cursor.Next();
  }
  return FromLevelDB(it->status(), "index read");
}

}  // namespace runnel::items
