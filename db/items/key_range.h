// Copyright 2026 The runnel Authors.
//
// The encoded key ranges that Query and Scan read: a key condition becomes
// one range of encoded item keys (db/items/key_codec.h), so a Query is one
// LevelDB range scan; and the parallel scan's segment of a partition.
//
// Bounds are encoded item keys without the index's table prefix: `lower` is
// inclusive, `upper` exclusive, and an empty `upper` means "to the end of the
// table".

#ifndef RUNNEL_DB_ITEMS_KEY_RANGE_H_
#define RUNNEL_DB_ITEMS_KEY_RANGE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "db/items/expression.h"
#include "db/items/key_codec.h"
#include "runnel/status.h"

namespace runnel::items {

struct KeyRange {
  std::string lower;  // inclusive
  std::string upper;  // exclusive; empty: unbounded
};

// The shortest string greater than every string that starts with `prefix`;
// empty if there is none (`prefix` is all 0xff or empty).
std::string PrefixSuccessor(std::string_view prefix);

// The smallest string greater than `key` (key + "\0").
std::string KeySuccessor(std::string_view key);

// The range of one partition (cond.hash) narrowed by cond's range-key
// operator. The component encoding is order preserving and prefix free, so
// for a range key value v the encoded keys below P+E(v) are exactly the
// items with range key < v. begins_with(s) is [s, PrefixSuccessor(s)) in
// value order. InvalidArgument as the cloud words it for BETWEEN with
// bounds out of order and begins_with on a number. *partition receives P,
// the encoded hash component.
Status KeyConditionRange(const KeyShape& shape, const KeyCondition& cond, KeyRange* range,
                         std::string* partition);

// The length of the hash component at the start of an encoded item key.
// Corruption if `encoded` is not a key of `shape`.
Status HashComponentLength(const KeyShape& shape, std::string_view encoded, size_t* length);

// The parallel-scan segment (0..total-1) of a partition, from a hash of its
// encoded hash component: every item of a partition is in one segment, so
// segments are disjoint and together cover the table.
// REQUIRES: total > 0.
uint32_t SegmentOf(std::string_view hash_component, uint32_t total);

}  // namespace runnel::items

#endif  // RUNNEL_DB_ITEMS_KEY_RANGE_H_
