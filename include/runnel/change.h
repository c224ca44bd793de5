// Copyright 2026 The runnel Authors.
//
// Change records: what the log says happened, one record per changed item.
//
// Every committed change gets a global, strictly increasing 64-bit sequence
// number. A put of a missing key is kInsert, a put of an existing key with a
// different value kModify, a delete of an existing key kRemove. A put of an
// identical value and a delete of a missing key change nothing and produce no
// record (and consume no sequence number). Table and stream metadata changes
// also consume one sequence number each but are not change records.
//
// Records of a table are visible (to ChangeIterator and, later, to stream
// readers) only while the table has an enabled stream; the images a record
// carries follow that stream's view type.

#ifndef RUNNEL_INCLUDE_CHANGE_H_
#define RUNNEL_INCLUDE_CHANGE_H_

#include <cstdint>
#include <string_view>

#include "runnel/status.h"

namespace runnel {

using SequenceNumber = uint64_t;

enum class StreamViewType : uint8_t {
  kKeysOnly = 1,
  kNewImage = 2,
  kOldImage = 3,
  kNewAndOldImages = 4,
};

// "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES".
std::string_view StreamViewTypeName(StreamViewType type);
// Parses the names above; false for anything else.
bool ParseStreamViewType(std::string_view name, StreamViewType* type);

enum class EventName : uint8_t { kInsert = 1, kModify = 2, kRemove = 3 };

// "INSERT", "MODIFY", "REMOVE".
std::string_view EventNameString(EventName event);

// One change, as a set of views. Unless an accessor says otherwise the views
// point into the log (mapped segment memory or the reader's buffer) and stay
// valid until the object that produced the record moves or is destroyed.
struct ChangeRecord {
  SequenceNumber sequence = 0;
  // Commit time, microseconds since the Unix epoch (UTC), shared by every
  // record of one atomic batch.
  int64_t commit_time_micros = 0;
  uint32_t table_id = 0;
  // The table's name (stable: table names are kept for deleted tables too).
  std::string_view table;
  EventName event = EventName::kInsert;
  // The view type of the stream the record belongs to.
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
  std::string_view key;
  // Present only when the view type and the event allow: kInsert has no old
  // image, kRemove no new image; KEYS_ONLY has neither.
  bool has_old_image = false;
  bool has_new_image = false;
  std::string_view old_image;
  std::string_view new_image;
  // Records of one atomic batch are contiguous; this is set on the last
  // visible record of the batch.
  bool end_of_batch = false;
  // Log bytes of the record's key and images (the cloud's SizeBytes).
  uint32_t size_bytes = 0;
  // 0 for an application's write; n + 1 for a trigger handler's write-back
  // caused by records of depth n (recursive loop detection).
  uint8_t chain_depth = 0;
  // Typed tables (runnel/item.h): `key` is the encoded item key and the
  // images are encoded items (db/items/), which RecordToJson renders as the
  // cloud's Keys/NewImage/OldImage using these key attribute names
  // (range_key_name empty without a RANGE key). Views into the catalog,
  // valid as long as the record. False/empty for byte tables.
  bool typed = false;
  std::string_view hash_key_name;
  std::string_view range_key_name;
  // A deletion by the table's time to live (the cloud's userIdentity
  // {"type":"Service","principalId":"dynamodb.amazonaws.com"}).
  bool ttl_delete = false;
  // A record of a snapshot mapping's bootstrap (StartingPosition SNAPSHOT,
  // a runnel extension): an INSERT of an item as the table held it at
  // `sequence` (the snapshot's), not a change in the stream. Rendered with
  // "runnelSnapshot": true.
  bool snapshot = false;
};

// Iterates over change records in sequence order.
//
// Thread safety: an iterator is used by one thread at a time. It reads a
// consistent prefix of the log (fixed when the iterator is created) and does
// not block writers.
class ChangeIterator {
 public:
  ChangeIterator() = default;
  ChangeIterator(const ChangeIterator&) = delete;
  ChangeIterator& operator=(const ChangeIterator&) = delete;
  virtual ~ChangeIterator() = default;

  // True while positioned at a record. False at the end, or after an error
  // (see status()).
  virtual bool Valid() const = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  // REQUIRES: Valid(). The record and its views stay valid until the next
  // call to Next() or the iterator's destruction.
  virtual const ChangeRecord& record() const = 0;
  // OK at a clean end; Corruption (naming segment and offset) or IOError if
  // the log could not be read; Trimmed if retention removed the position.
  virtual Status status() const = 0;
};

}  // namespace runnel

#endif  // RUNNEL_INCLUDE_CHANGE_H_
