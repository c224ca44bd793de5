// Copyright 2026 The runnel Authors.
//
// The one module that talks Cap'n Proto for the log and the catalog.
//
// Decoders take bytes that came from disk: they bound the reader's traversal
// by the input size, catch every KJ exception and turn it into
// Status::Corruption, and hand back plain structs. Views in decoded structs
// point into the input bytes (zero copy) and are valid as long as they are.

#ifndef RUNNEL_CDC_CODEC_H_
#define RUNNEL_CDC_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/change.h"
#include "runnel/status.h"

namespace runnel::log {

// The table's stream view at commit time; kNone: in the WAL, in no stream.
enum class View : uint8_t {
  kNone = 0,
  kKeysOnly = 1,
  kNewImage = 2,
  kOldImage = 3,
  kNewAndOldImages = 4,
};
inline bool KeepsOldImage(View v) { return v == View::kOldImage || v == View::kNewAndOldImages; }
inline bool ShowsNewImage(View v) { return v == View::kNewImage || v == View::kNewAndOldImages; }
inline View ToView(StreamViewType t) { return static_cast<View>(t); }
inline StreamViewType ToStreamViewType(View v) { return static_cast<StreamViewType>(v); }

struct ChangeData {
  uint32_t table_id = 0;
  EventName event = EventName::kInsert;
  View view = View::kNone;
  std::string_view key;
  bool has_old = false;
  bool has_new = false;
  std::string_view old_image;
  std::string_view new_image;
  uint32_t old_size = 0;
};

// Snapshot bootstrap progress (StartingPosition SNAPSHOT, cdc/log.capnp).
enum class SnapshotPhase : uint8_t {
  kNone = 0,       // not a snapshot mapping, or its snapshot is behind it
  kScanning = 1,   // reading the table's items
  kStreaming = 2,  // reading the stream; segments still cover some records
  kDone = 3,       // the stream phase has passed every segment
};
// Keys after the previous segment's last_key up to last_key (inclusive)
// were delivered as of `sequence`; in kStreaming the last segment reaches to
// the end of the key space.
struct SnapshotSegmentData {
  std::string last_key;
  uint64_t sequence = 0;
};
struct SnapshotStateData {
  SnapshotPhase phase = SnapshotPhase::kNone;
  std::vector<SnapshotSegmentData> segments;
  uint64_t records = 0;  // snapshot records processed
  // Whether a checkpoint carries it: a snapshot mapping's always do.
  bool present() const { return phase != SnapshotPhase::kNone; }
};

struct CheckpointData {
  uint32_t mapping_id = 0;
  uint64_t position = 0;
  std::string_view result;  // LastProcessingResult
  // Per lane committed positions (ParallelizationFactor > 1); empty: one
  // lane, or every lane at `position`.
  std::vector<uint64_t> lane_positions;
  // Tumbling windows (log.capnp Checkpoint.windowState): has_window is false
  // in checkpoints of mappings without windows. With it, a non-empty
  // window_state is the open window's state (JSON) and window_start_micros
  // its start; an empty one means no window is open and the next starts at
  // window_start_micros or later.
  bool has_window = false;
  int64_t window_start_micros = 0;
  std::string_view window_state;
  SnapshotStateData snapshot;
};

struct BatchData {
  int64_t commit_time_micros = 0;
  std::vector<ChangeData> changes;
  bool has_checkpoint = false;
  CheckpointData checkpoint;  // takes the frame's last sequence number
  uint8_t chain_depth = 0;
  // Deletions by a typed table's time to live.
  bool ttl_delete = false;
};

struct StreamEntryData {
  std::string label;
  View view = View::kNone;
  int64_t creation_time_micros = 0;
  uint64_t start_seq = 0;
  uint64_t end_seq = 0;  // 0 while enabled
};

struct TableEntryData {
  uint32_t id = 0;
  std::string name;
  int64_t creation_time_micros = 0;
  uint64_t deleted_seq = 0;  // 0 while live
  std::vector<StreamEntryData> streams;
  // Typed tables (runnel/item.h): the key attributes; hash_key_name empty
  // for a byte table, range_key_name empty without a RANGE key. Types are
  // ScalarAttributeType values (1 S, 2 N, 3 B).
  std::string hash_key_name;
  uint8_t hash_key_type = 0;
  std::string range_key_name;
  uint8_t range_key_type = 0;
  // Time to live (UpdateTimeToLive).
  bool ttl_enabled = false;
  std::string ttl_attribute;

  bool typed() const { return !hash_key_name.empty(); }
};

struct FunctionEntryData {
  std::string name;
  bool in_process = false;
  std::string library;
  std::string handler;
  std::vector<std::pair<std::string, std::string>> environment;
  uint32_t timeout_seconds = 3;
  std::string description;
  int64_t last_modified_micros = 0;
  std::string code_hash;
  // 0: in the host process, 1: in a worker process (FunctionIsolation).
  uint8_t isolation = 0;
};

enum class StartingPositionData : uint8_t {
  kTrimHorizon = 0,
  kLatest = 1,
  kAtTimestamp = 2,
  kAtSequenceNumber = 3,
  kSnapshot = 4,
};

struct MappingEntryData {
  uint32_t id = 0;
  std::string uuid;
  std::string function_name;
  std::string event_source_arn;
  uint32_t batch_size = 100;
  uint32_t max_batching_window_seconds = 0;
  StartingPositionData starting_position = StartingPositionData::kTrimHorizon;
  int64_t starting_timestamp_micros = 0;
  uint64_t starting_sequence = 0;
  bool enabled = true;
  int32_t max_retry_attempts = -1;
  int32_t max_record_age_seconds = -1;
  bool bisect_on_error = false;
  std::string on_failure_destination;
  bool report_batch_item_failures = false;
  int64_t last_modified_micros = 0;
  std::string state_transition_reason;
  uint64_t initial_position = 0;
  std::vector<std::string> filter_patterns;
  // ParallelizationFactor 1..10 (older catalogs read as 1).
  uint8_t parallelization_factor = 1;
  uint32_t tumbling_window_seconds = 0;  // 0: no tumbling windows
};

struct MetaData {
  enum class Kind : uint8_t {
    kCreateTable,
    kDeleteTable,
    kUpdateStream,
    kPutFunction,
    kDeleteFunction,
    kPutMapping,
    kDeleteMapping,
    kUpdateTimeToLive,
  };
  Kind kind = Kind::kCreateTable;
  int64_t commit_time_micros = 0;
  TableEntryData table;        // kCreateTable
  uint32_t table_id = 0;       // kDeleteTable, kUpdateStream, kUpdateTimeToLive
  View view = View::kNone;     // kUpdateStream: kNone disables
  std::string label;           // kUpdateStream when enabling
  FunctionEntryData function;  // kPutFunction
  std::string function_name;   // kDeleteFunction
  MappingEntryData mapping;    // kPutMapping
  uint32_t mapping_id = 0;     // kDeleteMapping
  bool ttl_enabled = false;    // kUpdateTimeToLive
  std::string ttl_attribute;   // kUpdateTimeToLive
};

struct CatalogData {
  uint32_t next_table_id = 1;
  std::vector<TableEntryData> tables;
  std::vector<FunctionEntryData> functions;
  std::vector<MappingEntryData> mappings;
  uint32_t next_mapping_id = 1;
};

// The public view of a change. `table` must outlive the record's use;
// end_of_batch is left false for the caller to set.
ChangeRecord ToChangeRecord(const ChangeData& c, uint64_t sequence, int64_t commit_time_micros,
                            std::string_view table);
// Sets the typed-table fields of `r` (typed, key names) from its table's
// catalog entry (null: unknown, left as a byte record) and the frame's
// ttl_delete mark. `table` must outlive the record's use.
void SetTableFields(const TableEntryData* table, bool ttl_delete, ChangeRecord* r);

// Encoders append one flat-array Cap'n Proto message (a multiple of 8 bytes)
// to *out.
// `checkpoint` may be null; `chain_depth` 0 for an application's write;
// `ttl_delete` marks a frame of time-to-live deletions.
void EncodeBatch(int64_t commit_time_micros, const std::vector<ChangeData>& changes,
                 const CheckpointData* checkpoint, uint8_t chain_depth, std::string* out,
                 bool ttl_delete = false);
void EncodeMeta(const MetaData& meta, std::string* out);
void EncodeCatalog(const CatalogData& catalog, std::string* out);

// REQUIRES: payload.data() is 8-byte aligned (frames guarantee it).
// *batch's views point into payload. Tries DecodeBatchFast first and falls
// back to DecodeBatchWithCapnp; the result is the same either way.
Status DecodeBatch(std::string_view payload, BatchData* batch);
// The reference decoder: Cap'n Proto's checked reader with limits derived
// from the payload's size.
Status DecodeBatchWithCapnp(std::string_view payload, BatchData* batch);
// A bounds-checked decoder of the one layout our writer produces (a single
// segment, a composite list of changes, a byte blob, no checkpoint), with the
// field offsets taken from the compiled schema. Returns true with *batch set
// exactly as DecodeBatchWithCapnp would set it; false (and *batch
// unspecified) for any other input, valid or not, which the reference
// decoder must then judge. Checked against it by tests/fuzz/codec_fuzz.
bool DecodeBatchFast(std::string_view payload, BatchData* batch);
Status DecodeMeta(std::string_view payload, MetaData* meta);
// `bytes` need not be aligned (the catalog comes from LevelDB).
Status DecodeCatalog(std::string_view bytes, CatalogData* catalog);

}  // namespace runnel::log

#endif  // RUNNEL_CDC_CODEC_H_
