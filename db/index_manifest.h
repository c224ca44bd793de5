// Copyright 2026 The runnel Authors.
//
// The index's MANIFEST after a power cut.
//
// LevelDB appends one record per version edit (a memtable flush, a
// compaction) to its MANIFEST and fsyncs it before the edit takes effect, and
// it stops writing the MANIFEST after a failed append or sync. So a power cut
// can leave at most the last record unsynced, and only that record torn. A
// record cut short at the end of the file LevelDB ignores; but one whose
// header reached the disk while its payload did not (zeros, or stale bytes,
// after it: a zero-filled tail) fails LevelDB's recovery with "Corruption:
// checksum mismatch", and LevelDB then refuses to open (google/leveldb#160).
// That record was never synced, so nothing relied on the edit it carried:
// cutting it off is what LevelDB does itself for a record cut short.
//
// InspectIndexManifest reads index/CURRENT and the MANIFEST it names in
// LevelDB's log format (32 KiB blocks of records with a 7-byte header:
// masked CRC32C of type and payload, length, type) and finds where the
// intact records end. The damage is a torn tail only if no intact record
// follows it anywhere in the file; damage before intact records is
// corruption of synced data and is never cut.

#ifndef RUNNEL_DB_INDEX_MANIFEST_H_
#define RUNNEL_DB_INDEX_MANIFEST_H_

#include <leveldb/env.h>

#include <cstdint>
#include <string>

#include "runnel/status.h"

namespace runnel {

struct ManifestTail {
  std::string file;      // "MANIFEST-000123", as index/CURRENT names it
  uint64_t size = 0;     // the file's size
  bool damaged = false;  // LevelDB's recovery would report corruption
  uint64_t damage_offset = 0;
  std::string reason;       // e.g. "checksum mismatch"
  bool torn_tail = false;   // damaged, and no intact record after the damage
  uint64_t intact_end = 0;  // where the last intact record ends
};

// Inspects the MANIFEST that `index_dir`/CURRENT names.
Status InspectIndexManifest(leveldb::Env* env, const std::string& index_dir, ManifestTail* tail);

// CRC32C (Castagnoli), as LevelDB's log records use it (unmasked).
uint32_t Crc32c(const char* data, size_t n);

}  // namespace runnel

#endif  // RUNNEL_DB_INDEX_MANIFEST_H_
