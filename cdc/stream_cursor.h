// Copyright 2026 The runnel Authors.
//
// StreamCursor: reads one stream forward from a position. It keeps its
// segment open and its current frame decoded between calls, so a consumer
// that takes one record at a time out of a 1000-change batch frame pays for
// decoding that frame once, not a thousand times. GetRecords uses a cursor
// per call; a trigger worker keeps one for its mapping's lifetime.
//
// Thread safety: not synchronized; one thread at a time.

#ifndef RUNNEL_CDC_STREAM_CURSOR_H_
#define RUNNEL_CDC_STREAM_CURSOR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "cdc/catalog.h"
#include "cdc/codec.h"
#include "cdc/segment_reader.h"
#include "runnel/stream.h"

namespace runnel {

class LogSource;

class StreamCursor {
 public:
  // Records of table `table_id` with sequence >= `stream_start` (and a
  // stream view) belong to the stream. `catalog` names the table in records.
  StreamCursor(LogSource* source, uint32_t table_id, SequenceNumber stream_start,
               std::shared_ptr<const Catalog> catalog);
  ~StreamCursor();

  // Moves to `next`. The hints (where the frame holding `next` probably
  // starts) are verified and ignored if stale.
  void Seek(SequenceNumber next, uint64_t segment_hint = 0, uint64_t offset_hint = 0);
  // Appends the stream's records with sequence in [position(), upper] to
  // *batch, up to options.limit records / options.max_bytes (at least one
  // record if any), and advances past what it read — including other
  // tables' frames. Trimmed if position() was removed by retention.
  Status Read(SequenceNumber upper, const GetRecordsOptions& options, RecordBatch* batch);

  SequenceNumber position() const { return position_; }
  // Where the frame holding position() starts (a hint for iterators).
  uint64_t segment() const { return segment_; }
  uint64_t offset() const { return frame_offset_; }

 private:
  Status OpenSegmentFor(SequenceNumber seq);
  Status Reopen();  // the same segment, to see frames appended since
  // Looks at the segment file's size again; if it grew (*grew), makes the
  // new bytes readable: in place, or by Reopen().
  Status Refresh(bool* grew);
  void Emit(RecordBatch* batch, const log::ChangeData& c, SequenceNumber seq);

  // Read()'s steps. A step that may end the call returns ReadEnd: empty to
  // read on, or the status Read() returns.
  using ReadEnd = std::optional<Status>;
  struct ReadPass;
  // Emits the decoded frame's records from position() on; true when Read()
  // is done (the batch is full or `upper` reached).
  bool EmitFrame(ReadPass* pass);
  ReadEnd AtDamage(ReadPass* pass, const log::Damage& damage);
  ReadEnd AtSegmentEnd(ReadPass* pass);
  // Leaves a segment that is read to its end for the next one in segs_.
  ReadEnd NextSegment();
  ReadEnd AtFrame(ReadPass* pass, const log::Frame& frame, uint64_t frame_offset);
  // Decodes a batch frame that may hold the stream's records.
  Status DecodeFrame(const log::Frame& frame, uint64_t frame_offset);

  LogSource* const source_;
  const uint32_t table_id_;
  const SequenceNumber stream_start_;
  std::shared_ptr<const Catalog> catalog_;
  std::string_view table_name_;
  const log::TableEntryData* table_ = nullptr;  // in catalog_; null if unknown

  SequenceNumber position_ = 0;
  uint64_t segment_hint_ = 0, offset_hint_ = 0;
  std::vector<uint64_t> segs_;
  size_t idx_ = 0;
  uint64_t segment_ = 0;
  std::shared_ptr<log::SegmentReader> reader_;
  uint64_t frame_offset_ = 0;  // of the frame holding position_
  // The decoded frame the position is inside, if any.
  bool have_frame_ = false;
  log::FrameHeader frame_;
  log::BatchData data_;
  std::shared_ptr<std::vector<uint64_t>> payload_copy_;  // when not mapped
};

}  // namespace runnel

#endif  // RUNNEL_CDC_STREAM_CURSOR_H_
