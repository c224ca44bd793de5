// Copyright 2026 The runnel Authors.

#include "triggers/snapshot.h"

#include <algorithm>

namespace runnel {

uint64_t SnapshotCoveredUpTo(const log::SnapshotStateData& st, std::string_view key) {
  if (st.phase != log::SnapshotPhase::kStreaming || st.segments.empty()) return 0;
  // Segments but the last are bounded by their last key; the last reaches to
  // the end of the key space.
  const auto end = st.segments.end() - 1;
  auto it = std::lower_bound(
      st.segments.begin(), end, key,
      [](const log::SnapshotSegmentData& seg, std::string_view k) { return seg.last_key < k; });
  return it->sequence;
}

uint64_t SnapshotMaxSequence(const log::SnapshotStateData& st) {
  uint64_t m = 0;
  for (const auto& seg : st.segments) m = std::max(m, seg.sequence);
  return m;
}

uint64_t SnapshotMinSequence(const log::SnapshotStateData& st) {
  uint64_t m = 0;
  for (const auto& seg : st.segments) m = m == 0 ? seg.sequence : std::min(m, seg.sequence);
  return m;
}

log::SnapshotStateData SnapshotAdvanced(const log::SnapshotStateData& st, std::string_view last_key,
                                        uint64_t sequence, uint64_t records) {
  log::SnapshotStateData next = st;
  if (!next.segments.empty() && next.segments.back().sequence == sequence) {
    next.segments.back().last_key.assign(last_key);
  } else {
    next.segments.push_back({std::string(last_key), sequence});
  }
  next.records += records;
  return next;
}

void SnapshotMetrics(const log::SnapshotStateData& st, MappingMetrics* m) {
  m->snapshot_records = st.records;
  m->snapshot_done =
      st.phase == log::SnapshotPhase::kStreaming || st.phase == log::SnapshotPhase::kDone;
  m->snapshot_sequence = SnapshotMinSequence(st);
}

std::string SnapshotFloorOwner(uint32_t mapping_id) {
  return "snapshot pass of mapping " + std::to_string(mapping_id);
}

}  // namespace runnel
