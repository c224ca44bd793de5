// Copyright 2026 The runnel Authors.

#include "db/items/page_reader.h"

#include <leveldb/iterator.h>

#include <algorithm>

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

// Where a page's items go: decoded Items (QueryResult) or their bytes
// (ItemPage).
class ResultSink {
 public:
  explicit ResultSink(QueryResult* r) : r_(r) {}
  QueryResult& result() { return *r_; }
  void Reset(size_t expected) {
    *r_ = QueryResult();
    r_->items.reserve(expected);
  }
  static constexpr bool kNeedsItem = true;
  void Add(std::string_view /*encoded*/, Item* item) { r_->items.push_back(std::move(*item)); }

 private:
  QueryResult* r_;
};

class PageSink {
 public:
  explicit PageSink(ItemPage* p) : p_(p) {}
  ItemPage& result() { return *p_; }
  void Reset(size_t /*expected*/) { p_->Clear(); }
  static constexpr bool kNeedsItem = false;
  // `item` is null unless the item was decoded (a filter) or projected.
  void Add(std::string_view encoded, const Item* projected) {
    if (projected == nullptr) {
      p_->Append(encoded);
      return;
    }
    scratch_.clear();
    EncodeItem(*projected, &scratch_);
    p_->Append(scratch_);
  }

 private:
  ItemPage* p_;
  std::string scratch_;
};

// Sizes (for the 1 MB page), filters and projects one item, and hands it to
// the sink if it passes the filter.
template <typename Sink>
Status TakeItem(const PageSpec& spec, std::string_view encoded, Sink* sink, size_t* bytes) {
  auto& result = sink->result();
  ++result.scanned_count;
  const bool decode = Sink::kNeedsItem || spec.filter != nullptr || spec.projection != nullptr;
  if (!decode) {
    size_t size = 0;
    Status s = EncodedItemSize(encoded, &size);
    if (!s.ok()) return s;
    *bytes += size;
    ++result.count;
    if (!spec.count_only) sink->Add(encoded, nullptr);
    return Status::OK();
  }
  Item item;
  Status s = DecodeItem(encoded, &item);
  if (!s.ok()) return s;
  *bytes += ItemSize(item);
  if (spec.filter != nullptr && !spec.filter->Evaluate(item)) return Status::OK();
  ++result.count;
  if (spec.count_only) return Status::OK();
  if (spec.projection != nullptr) {
    Item projected;
    Project(item, *spec.projection, &projected);
    sink->Add(encoded, &projected);
  } else {
    sink->Add(encoded, Sink::kNeedsItem ? &item : nullptr);
  }
  return Status::OK();
}

template <typename Sink>
Status ReadInto(leveldb::Iterator* it, const PageSpec& spec, Sink* sink) {
  sink->Reset(spec.count_only ? 0 : std::min<size_t>(spec.limit == 0 ? 128 : spec.limit, 1024));
  auto& result = sink->result();
  RangeCursor cursor(it, spec.table_id, spec.range, spec.forward);
  std::string last_key;  // the encoded key of the last evaluated item
  size_t bytes = 0;
  for (cursor.Start(); cursor.Valid();) {
    bool in = true;
    Status s = InSegment(spec, &cursor, &in);
    if (!s.ok()) return s;
    if (!in) continue;
    const bool full =
        (spec.limit != 0 && result.scanned_count == spec.limit) || bytes >= kMaxPageBytes;
    if (full) {
      // Another item follows: the caller continues after the last one.
      Item key;
      s = DecodeItemKey(spec.shape, last_key, &key);
      if (!s.ok()) return s;
      result.last_evaluated_key = std::move(key);
      break;
    }
    s = TakeItem(spec, cursor.value(), sink, &bytes);
    if (!s.ok()) return s.WithContext("item of table " + std::to_string(spec.table_id));
    last_key.assign(cursor.user_key());
    cursor.Next();
  }
  return FromLevelDB(it->status(), "index read");
}

}  // namespace

Status ReadPage(leveldb::Iterator* it, const PageSpec& spec, QueryResult* result) {
  ResultSink sink(result);
  return ReadInto(it, spec, &sink);
}

Status ReadPage(leveldb::Iterator* it, const PageSpec& spec, ItemPage* page) {
  PageSink sink(page);
  return ReadInto(it, spec, &sink);
}

}  // namespace runnel::items
