// Copyright 2026 The runnel Authors.

#include "cdc/stream_cursor.h"

#include <leveldb/env.h>

#include <cstring>

#include "cdc/stream_reader.h"

namespace runnel {

StreamCursor::StreamCursor(LogSource* source, uint32_t table_id, SequenceNumber stream_start,
                           std::shared_ptr<const Catalog> catalog)
    : source_(source),
      table_id_(table_id),
      stream_start_(stream_start),
      catalog_(std::move(catalog)) {
  const log::TableEntryData* t = catalog_ ? catalog_->FindById(table_id) : nullptr;
  if (t != nullptr) table_name_ = t->name;
  table_ = t;
}

StreamCursor::~StreamCursor() = default;

void StreamCursor::Seek(SequenceNumber next, uint64_t segment_hint, uint64_t offset_hint) {
  if (have_frame_ && next >= frame_.first_sequence && next <= frame_.last_sequence()) {
    position_ = next;  // inside the decoded frame: nothing to read again
    return;
  }
  position_ = next;
  have_frame_ = false;
  payload_copy_.reset();
  reader_.reset();
  segment_hint_ = segment_hint;
  offset_hint_ = offset_hint;
}

static Status TrimmedAt(SequenceNumber wanted, SequenceNumber first) {
  return Status::Trimmed("sequence " + std::to_string(wanted) +
                         " was removed by retention; the first available "
                         "sequence is " +
                         std::to_string(first));
}

Status StreamCursor::OpenSegmentFor(SequenceNumber seq) {
  Status s = log::ListSegments(source_->env(), source_->wal_dir(), &segs_);
  if (!s.ok()) return s;
  if (segs_.empty() || seq < segs_.front()) {
    return TrimmedAt(seq, segs_.empty() ? seq : segs_.front());
  }
  idx_ = 0;
  while (idx_ + 1 < segs_.size() && segs_[idx_ + 1] <= seq) ++idx_;
  std::unique_ptr<log::SegmentReader> r;
  s = log::SegmentReader::Open(source_->env(), source_->wal_dir(), segs_[idx_], source_->db_id(),
                               &r);
  if (s.IsNotFound()) {
    // Deleted between listing and opening: only an older segment can go.
    std::vector<uint64_t> now;
    Status ls = log::ListSegments(source_->env(), source_->wal_dir(), &now);
    if (!ls.ok()) return ls;
    return TrimmedAt(seq, now.empty() ? seq : now.front());
  }
  if (!s.ok()) return s;
  reader_ = std::move(r);
  segment_ = segs_[idx_];
  if (segment_hint_ == segment_ && offset_hint_ > log::kSegmentHeaderSize &&
      offset_hint_ < reader_->file_size() && offset_hint_ % 8 == 0) {
    reader_->SeekToOffset(offset_hint_);
  }
  segment_hint_ = offset_hint_ = 0;
  return Status::OK();
}

Status StreamCursor::Refresh(bool* grew) {
  bool in_place = false;
  *grew = reader_->Grew(source_->env(), &in_place);
  return *grew && !in_place ? Reopen() : Status::OK();
}

Status StreamCursor::Reopen() {
  const uint64_t offset = reader_->offset();
  std::unique_ptr<log::SegmentReader> r;
  Status s =
      log::SegmentReader::Open(source_->env(), source_->wal_dir(), segment_, source_->db_id(), &r);
  if (s.IsNotFound()) return OpenSegmentFor(position_);
  if (!s.ok()) return s;
  r->SeekToOffset(offset);
  reader_ = std::move(r);
  return Status::OK();
}

void StreamCursor::Emit(RecordBatch* batch, const log::ChangeData& c, SequenceNumber seq) {
  RecordBatch::Rep& rep = *batch->rep();
  // Keep what the views point into alive as long as the batch.
  const void* hold = payload_copy_ ? static_cast<const void*>(payload_copy_.get())
                                   : static_cast<const void*>(reader_.get());
  if (rep.holds.empty() || rep.holds.back().get() != hold) {
    if (payload_copy_) {
      rep.holds.push_back(payload_copy_);
    } else {
      rep.holds.push_back(reader_);
    }
  }
  rep.records.push_back(log::ToChangeRecord(c, seq, data_.commit_time_micros, table_name_));
  rep.records.back().chain_depth = data_.chain_depth;
  log::SetTableFields(table_, data_.ttl_delete, &rep.records.back());
}

// The state of one Read() call.
struct StreamCursor::ReadPass {
  SequenceNumber upper;
  const GetRecordsOptions& options;
  RecordBatch* batch;
  size_t bytes = 0;
  // The segment and offset hints of Seek are still to be checked.
  bool hinted = false;
  // The reader looked at its file's size once more (after damage or at the
  // end of the newest segment).
  bool reopened = false;
};

Status StreamCursor::Read(SequenceNumber upper, const GetRecordsOptions& options,
                          RecordBatch* batch) {
  RecordBatch::Rep& rep = *batch->rep();
  if (!rep.catalog) rep.catalog = catalog_;
  ReadPass pass{upper, options, batch};
  pass.hinted = segment_hint_ != 0;
  Status s;
  if (!reader_ && !have_frame_) {
    s = OpenSegmentFor(position_);
    if (!s.ok()) return s;
  }
  for (;;) {
    if (have_frame_ && EmitFrame(&pass)) return Status::OK();
    if (!reader_) {
      s = OpenSegmentFor(position_);
      if (!s.ok()) return s;
    }
    const uint64_t frame_offset = reader_->offset();
    log::Frame frame;
    log::Damage damage;
    ReadEnd end;
    switch (reader_->Next(&frame, &damage)) {
      case log::SegmentReader::Result::kError:
        return reader_->status();
      case log::SegmentReader::Result::kDamaged:
        end = AtDamage(&pass, damage);
        break;
      case log::SegmentReader::Result::kEnd:
        end = AtSegmentEnd(&pass);
        break;
      case log::SegmentReader::Result::kFrame:
        end = AtFrame(&pass, frame, frame_offset);
        break;
    }
    if (end) return *end;
  }
}

bool StreamCursor::EmitFrame(ReadPass* pass) {
  RecordBatch* batch = pass->batch;
  std::vector<ChangeRecord>& records = batch->rep()->records;
  ChangeRecord* last_of_frame = nullptr;
  for (size_t i = position_ - frame_.first_sequence; i < data_.changes.size(); ++i) {
    const SequenceNumber seq = frame_.first_sequence + i;
    if (seq > pass->upper) {
      position_ = seq;
      return true;
    }
    const log::ChangeData& c = data_.changes[i];
    if (c.table_id == table_id_ && c.view != log::View::kNone && seq >= stream_start_) {
      if (records.size() >= pass->options.limit ||
          (pass->bytes >= pass->options.max_bytes && !records.empty())) {
        position_ = seq;
        return true;
      }
      Emit(batch, c, seq);
      pass->bytes += records.back().size_bytes;
      last_of_frame = &records.back();
    }
    position_ = seq + 1;
  }
  if (last_of_frame != nullptr) last_of_frame->end_of_batch = true;
  position_ = std::max(position_, frame_.last_sequence() + 1);
  have_frame_ = false;
  payload_copy_.reset();
  frame_offset_ = reader_ ? reader_->offset() : frame_offset_;
  return position_ > pass->upper;
}

StreamCursor::ReadEnd StreamCursor::AtDamage(ReadPass* pass, const log::Damage& damage) {
  if (pass->hinted) {  // the hint did not point at a frame: ignore it
    pass->hinted = false;
    reader_->SeekToOffset(log::kSegmentHeaderSize);
    return std::nullopt;
  }
  if (!pass->reopened) {
    // Most often the frame is whole on disk and only our view of the
    // file is old (the reader keeps the size it saw when it opened).
    pass->reopened = true;
    bool grew = false;
    Status s = Refresh(&grew);  // the reader is still at damage.offset
    if (!s.ok()) return s;
    if (grew) return std::nullopt;
  }
  if (damage.to_end_of_file && idx_ + 1 == segs_.size()) {
    reader_->SeekToOffset(damage.offset);
    return Status::OK();  // a write still in progress (read-only view)
  }
  return Status::Corruption("wal/" + reader_->file_name() + " offset " +
                            std::to_string(damage.offset) + ": " + damage.reason);
}

StreamCursor::ReadEnd StreamCursor::AtSegmentEnd(ReadPass* pass) {
  if (idx_ + 1 < segs_.size()) return NextSegment();
  if (pass->reopened) return Status::OK();
  // The newest segment we know: frames may have been appended, or a
  // new segment started, since we opened it.
  pass->reopened = true;
  bool grew = false;
  Status s = Refresh(&grew);
  if (!s.ok()) return s;
  if (grew) return std::nullopt;
  std::vector<uint64_t> segs;
  s = log::ListSegments(source_->env(), source_->wal_dir(), &segs);
  if (!s.ok()) return s;
  if (!segs.empty() && segs.back() > segment_) {
    segs_ = std::move(segs);
    idx_ = 0;
    while (idx_ < segs_.size() && segs_[idx_] != segment_) ++idx_;
    if (idx_ == segs_.size()) {
      // Our (fully read) segment was deleted: continue from the list.
      s = OpenSegmentFor(position_);
      if (!s.ok()) return s;
    }
    return std::nullopt;
  }
  return Status::OK();
}

StreamCursor::ReadEnd StreamCursor::NextSegment() {
  // A newer segment exists, so this one was complete when the list
  // was taken: the writer closes a segment before starting the
  // next. But our reader may have opened it earlier, while frames
  // were still being appended; look at its size once more before
  // leaving it, or those frames would be skipped.
  bool grew = false;
  Status s = Refresh(&grew);
  if (!s.ok()) return s;
  if (grew) return std::nullopt;
  ++idx_;
  std::unique_ptr<log::SegmentReader> r;
  s = log::SegmentReader::Open(source_->env(), source_->wal_dir(), segs_[idx_], source_->db_id(),
                               &r);
  if (s.IsNotFound()) {
    // Retention moved on meanwhile: find the position afresh (it is
    // Trimmed only if it is older than what the log still holds).
    s = OpenSegmentFor(position_);
    if (!s.ok()) return s;
    return std::nullopt;
  }
  if (!s.ok()) return s;
  reader_ = std::move(r);
  segment_ = segs_[idx_];
  frame_offset_ = reader_->offset();
  return std::nullopt;
}

StreamCursor::ReadEnd StreamCursor::AtFrame(ReadPass* pass, const log::Frame& frame,
                                            uint64_t frame_offset) {
  const log::FrameHeader& h = frame.header;
  if (pass->hinted) {
    pass->hinted = false;
    if (h.first_sequence > position_ && h.count > 0) {
      reader_->SeekToOffset(log::kSegmentHeaderSize);  // a stale hint
      return std::nullopt;
    }
  }
  frame_offset_ = frame_offset;
  if (h.count == 0 || h.last_sequence() < position_) return std::nullopt;
  if (h.first_sequence > pass->upper) {
    reader_->SeekToOffset(frame_offset);  // not committed for us yet
    return Status::OK();
  }
  if (h.type == log::kBatchFrame && (h.table_hint == 0 || h.table_hint == table_id_)) {
    Status s = DecodeFrame(frame, frame_offset);
    if (!s.ok()) return s;
    return std::nullopt;
  }
  if (h.type != log::kBatchFrame && h.type != log::kMetaFrame &&
      (h.type & log::kSkippableTypeBit) == 0) {
    return Status::NotSupported("wal/" + reader_->file_name() + " offset " +
                                std::to_string(frame_offset) + ": unknown frame type " +
                                std::to_string(h.type));
  }
  position_ = h.last_sequence() + 1;
  frame_offset_ = reader_->offset();
  return std::nullopt;
}

Status StreamCursor::DecodeFrame(const log::Frame& frame, uint64_t frame_offset) {
  const log::FrameHeader& h = frame.header;
  std::string_view payload = frame.payload;
  payload_copy_.reset();
  if (reader_->PayloadBuffered(frame)) {
    payload_copy_ = std::make_shared<std::vector<uint64_t>>((payload.size() + 7) / 8);
    std::memcpy(payload_copy_->data(), payload.data(), payload.size());
    payload =
        std::string_view(reinterpret_cast<const char*>(payload_copy_->data()), payload.size());
  }
  Status s = log::DecodeBatch(payload, &data_);
  if (!s.ok()) {
    return s.WithContext("wal/" + reader_->file_name() + " offset " + std::to_string(frame_offset));
  }
  frame_ = h;
  have_frame_ = true;
  if (position_ < h.first_sequence) position_ = h.first_sequence;
  return Status::OK();
}

}  // namespace runnel
