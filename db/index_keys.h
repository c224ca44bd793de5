// Copyright 2026 The runnel Authors.
//
// The layout of the LevelDB index.
//
//   "\x00applied"            u64: the index's marker, a sequence number
//                            such that every change up to it is in the index
//                            and the "\0stats" entries are exact as of it
//                            (written with every 64th commit, and with each
//                            metadata change and replay batch; changes after
//                            it may be in the index too: replay applies them
//                            again, see DBImpl::kMarkerEvery)
//   "\x00catalog"            schema::Catalog (cdc/log.capnp)
//   "\x00stats" be32(table)  u64 item count, u64 bytes
//   "\x00ckpt" be32(mapping) u64 position, then LastProcessingResult
//   "\x00lanes" be32(mapping) u64 per lane: its committed position (only with
//                            ParallelizationFactor > 1 and uneven lanes)
//   "\x00ckwin" be32(mapping) u64 position, i64 window start, then the window
//                            state (tumbling windows; written with every
//                            checkpoint that carries a window, and valid only
//                            while its position equals the checkpoint's)
//   "\x00snap" be32(mapping) a snapshot mapping's progress (EncodeSnapshot)
//   "\x01" be32(table) key   the item's value
//
// Table ids are never reused, so a deleted table's leftovers can never be
// mistaken for a new table's items.

#ifndef RUNNEL_DB_INDEX_KEYS_H_
#define RUNNEL_DB_INDEX_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cdc/codec.h"
#include "cdc/coding.h"

namespace runnel::index {

inline constexpr std::string_view kAppliedKey(
    "\x00"
    "applied",
    8);
inline constexpr std::string_view kCatalogKey(
    "\x00"
    "catalog",
    8);
inline constexpr std::string_view kStatsPrefix(
    "\x00"
    "stats",
    6);
// Present while a recovery that skipped damage has not yet made its
// recount of the table statistics durable (DBImpl::RecountStats).
inline constexpr std::string_view kRecountKey(
    "\x00"
    "recount",
    8);
inline constexpr std::string_view kCheckpointPrefix(
    "\x00"
    "ckpt",
    5);
// A checkpoint's per lane positions (ParallelizationFactor > 1), beside its
// "\0ckpt" entry; absent when the checkpoint has none.
inline constexpr std::string_view kLanesPrefix(
    "\x00"
    "lanes",
    6);
inline constexpr std::string_view kCheckpointWindowPrefix(
    "\x00"
    "ckwin",
    6);
inline constexpr std::string_view kSnapshotPrefix(
    "\x00"
    "snap",
    5);
inline constexpr char kItemTag = '\x01';

inline std::string ItemPrefix(uint32_t table_id) {
  std::string k(1, kItemTag);
  PutBigEndian32(&k, table_id);
  return k;
}
inline void AppendItemKey(uint32_t table_id, std::string_view key, std::string* dst) {
  dst->push_back(kItemTag);
  PutBigEndian32(dst, table_id);
  dst->append(key);
}
inline std::string ItemKey(uint32_t table_id, std::string_view key) {
  std::string k;
  k.reserve(5 + key.size());
  AppendItemKey(table_id, key, &k);
  return k;
}
inline constexpr size_t kItemKeyPrefixBytes = 5;
inline std::string StatsKey(uint32_t table_id) {
  std::string k(kStatsPrefix);
  PutBigEndian32(&k, table_id);
  return k;
}
// A table's "\0stats" value: item count, then bytes of keys and values.
inline std::string StatsValue(int64_t count, int64_t bytes) {
  std::string v;
  PutFixed64(&v, static_cast<uint64_t>(count));
  PutFixed64(&v, static_cast<uint64_t>(bytes));
  return v;
}

inline std::string CheckpointKey(uint32_t mapping_id) {
  std::string k(kCheckpointPrefix);
  PutBigEndian32(&k, mapping_id);
  return k;
}
inline std::string CheckpointValue(uint64_t position, std::string_view result) {
  std::string v;
  PutFixed64(&v, position);
  v.append(result);
  return v;
}

inline std::string LanesKey(uint32_t mapping_id) {
  std::string k(kLanesPrefix);
  PutBigEndian32(&k, mapping_id);
  return k;
}
// Writes a checkpoint's lane positions into an index batch (a LevelDB
// WriteBatch), or deletes stale ones when it has none.
template <typename IndexBatch>
void PutLanes(uint32_t mapping_id, const std::vector<uint64_t>& lanes, IndexBatch* batch) {
  if (lanes.empty()) {
    batch->Delete(LanesKey(mapping_id));
    return;
  }
  std::string v;
  for (uint64_t p : lanes) PutFixed64(&v, p);
  batch->Put(LanesKey(mapping_id), v);
}
inline std::string CheckpointWindowKey(uint32_t mapping_id) {
  std::string k(kCheckpointWindowPrefix);
  PutBigEndian32(&k, mapping_id);
  return k;
}
inline std::string CheckpointWindowValue(uint64_t position, int64_t window_start,
                                         std::string_view state) {
  std::string v;
  PutFixed64(&v, position);
  PutFixed64(&v, static_cast<uint64_t>(window_start));
  v.append(state);
  return v;
}
inline std::string SnapshotKey(uint32_t mapping_id) {
  std::string k(kSnapshotPrefix);
  PutBigEndian32(&k, mapping_id);
  return k;
}
// u8 phase, u64 records, u32 segment count, then per segment u64 sequence,
// u32 key length, key.
inline std::string EncodeSnapshot(const log::SnapshotStateData& st) {
  std::string v(1, static_cast<char>(st.phase));
  PutFixed64(&v, st.records);
  PutFixed32(&v, static_cast<uint32_t>(st.segments.size()));
  for (const auto& seg : st.segments) {
    PutFixed64(&v, seg.sequence);
    PutFixed32(&v, static_cast<uint32_t>(seg.last_key.size()));
    v.append(seg.last_key);
  }
  return v;
}
// False if `v` is not what EncodeSnapshot writes.
inline bool DecodeSnapshot(std::string_view v, log::SnapshotStateData* st) {
  if (v.size() < 13 || static_cast<uint8_t>(v[0]) > 3) return false;
  st->phase = static_cast<log::SnapshotPhase>(v[0]);
  st->records = DecodeFixed64(v.data() + 1);
  const uint32_t n = DecodeFixed32(v.data() + 9);
  v.remove_prefix(13);
  st->segments.clear();
  for (uint32_t i = 0; i < n; ++i) {
    if (v.size() < 12) return false;
    log::SnapshotSegmentData seg;
    seg.sequence = DecodeFixed64(v.data());
    const uint32_t len = DecodeFixed32(v.data() + 8);
    v.remove_prefix(12);
    if (v.size() < len) return false;
    seg.last_key.assign(v.data(), len);
    v.remove_prefix(len);
    st->segments.push_back(std::move(seg));
  }
  return v.empty();
}

}  // namespace runnel::index

#endif  // RUNNEL_DB_INDEX_KEYS_H_
