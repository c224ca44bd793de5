// Copyright 2026 The runnel Authors.
//
// Snapshot bootstrap (StartingPosition SNAPSHOT): the rules of a snapshot
// mapping's progress, shared by its worker and the runtime's metrics.
//
// The progress is a list of segments in key order. A pass reads the table's
// items through an index snapshot as of sequence S, after the last key
// delivered; each completed batch extends the pass's segment (or starts one)
// to its last key, in the checkpoint committed with the batch's write-backs.
// A restart cannot reopen the old index snapshot, so the next pass resumes
// after the last key as of a newer S'. When the scan ends, the last segment
// reaches to the end of the key space and the stream phase starts after the
// smallest S: a record of key k with sequence q is delivered only if q is
// greater than the S of k's segment (otherwise k's snapshot state already
// holds it). Once the stream phase is past every segment's S the segments
// are dropped.

#ifndef RUNNEL_TRIGGERS_SNAPSHOT_H_
#define RUNNEL_TRIGGERS_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "cdc/codec.h"
#include "runnel/triggers.h"

namespace runnel {

// The sequence as of which `key`'s state was delivered by the snapshot; 0
// when no segment covers it (not streaming, or no segments).
uint64_t SnapshotCoveredUpTo(const log::SnapshotStateData& st, std::string_view key);
// The largest and the smallest segment sequence (0 without segments).
uint64_t SnapshotMaxSequence(const log::SnapshotStateData& st);
uint64_t SnapshotMinSequence(const log::SnapshotStateData& st);
// `st` with the keys up to `last_key` delivered as of `sequence`, and
// `records` more records processed.
log::SnapshotStateData SnapshotAdvanced(const log::SnapshotStateData& st, std::string_view last_key,
                                        uint64_t sequence, uint64_t records);
// The metrics' snapshot fields from a mapping's progress.
void SnapshotMetrics(const log::SnapshotStateData& st, MappingMetrics* m);
// The owner of the retention floor a worker holds while a pass has not
// checkpointed its first batch yet.
std::string SnapshotFloorOwner(uint32_t mapping_id);

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_SNAPSHOT_H_
