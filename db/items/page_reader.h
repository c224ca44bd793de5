// Copyright 2026 The runnel Authors.
//
// One page of a Query or Scan: walks one range of a typed table's index
// entries in key order (or backwards), as the cloud pages its results.
//
//   - Limit counts items evaluated, before the filter; a page also ends once
//     the items it evaluated reach kMaxPageBytes (by the cloud's ItemSize).
//   - The page ends with last_evaluated_key (the last evaluated item's key)
//     only if another item of the range follows: a final page has none.
//   - Segments (parallel scan): a partition belongs to one segment
//     (SegmentOf its hash component); the other partitions are skipped with
//     a seek, not evaluated.

#ifndef RUNNEL_DB_ITEMS_PAGE_READER_H_
#define RUNNEL_DB_ITEMS_PAGE_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "db/items/expression.h"
#include "db/items/key_codec.h"
#include "db/items/key_range.h"
#include "runnel/item.h"
#include "runnel/status.h"

namespace leveldb {
class Iterator;
}

namespace runnel::items {

struct PageSpec {
  uint32_t table_id = 0;
  KeyShape shape;
  KeyRange range;  // encoded keys, without the table prefix
  bool forward = true;
  uint32_t limit = 0;                             // 0: only the byte limit
  const Condition* filter = nullptr;              // null: every item counts
  const std::vector<Path>* projection = nullptr;  // null: whole items
  bool count_only = false;                        // Select COUNT: no items
  uint32_t segment = 0;
  uint32_t total_segments = 0;  // 0: no segments
};

// Fills *result (replacing it) from `it`, an iterator over the index.
// Corruption if an entry of the range does not decode.
Status ReadPage(leveldb::Iterator* it, const PageSpec& spec, QueryResult* result);
// The same page with the items in their stored form: without a filter or a
// projection, an item is never decoded (its size is read off the bytes).
Status ReadPage(leveldb::Iterator* it, const PageSpec& spec, ItemPage* page);

}  // namespace runnel::items

#endif  // RUNNEL_DB_ITEMS_PAGE_READER_H_
