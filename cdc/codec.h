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
inline bool KeepsOldImage(View v) {
  return v == View::kOldImage || v == View::kNewAndOldImages;
}
inline bool ShowsNewImage(View v) {
  return v == View::kNewImage || v == View::kNewAndOldImages;
}
inline View ToView(StreamViewType t) { return static_cast<View>(t); }
inline StreamViewType ToStreamViewType(View v) {
  return static_cast<StreamViewType>(v);
}

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

struct BatchData {
  int64_t commit_time_micros = 0;
  std::vector<ChangeData> changes;
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
};

struct MetaData {
  enum class Kind : uint8_t { kCreateTable, kDeleteTable, kUpdateStream };
  Kind kind = Kind::kCreateTable;
  int64_t commit_time_micros = 0;
  TableEntryData table;  // kCreateTable
  uint32_t table_id = 0;  // kDeleteTable, kUpdateStream
  View view = View::kNone;  // kUpdateStream: kNone disables
  std::string label;        // kUpdateStream when enabling
};

struct CatalogData {
  uint32_t next_table_id = 1;
  std::vector<TableEntryData> tables;
};

// The public view of a change. `table` must outlive the record's use;
// end_of_batch is left false for the caller to set.
ChangeRecord ToChangeRecord(const ChangeData& c, uint64_t sequence,
                            int64_t commit_time_micros, std::string_view table);

// Encoders append one flat-array Cap'n Proto message (a multiple of 8 bytes)
// to *out.
void EncodeBatch(int64_t commit_time_micros,
                 const std::vector<ChangeData>& changes, std::string* out);
void EncodeMeta(const MetaData& meta, std::string* out);
void EncodeCatalog(const CatalogData& catalog, std::string* out);

// REQUIRES: payload.data() is 8-byte aligned (frames guarantee it).
// *batch's views point into payload.
Status DecodeBatch(std::string_view payload, BatchData* batch);
Status DecodeMeta(std::string_view payload, MetaData* meta);
// `bytes` need not be aligned (the catalog comes from LevelDB).
Status DecodeCatalog(std::string_view bytes, CatalogData* catalog);

}  // namespace runnel::log

#endif  // RUNNEL_CDC_CODEC_H_
