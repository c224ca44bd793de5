// Copyright 2026 The runnel Authors.
//
// ChangeIterator over the log files: walks segments and frames in sequence
// order and yields the records of streamed tables as views into the frames.

#include <leveldb/env.h>

#include "cdc/segment_reader.h"
#include "db/db_impl.h"

namespace runnel {
namespace {

class LogChangeIterator final : public ChangeIterator {
 public:
  LogChangeIterator(leveldb::Env* env, std::string wal_dir, const uint8_t* db_id,
                    std::shared_ptr<const Catalog> cat, SequenceNumber start, SequenceNumber end)
      : env_(env),
        wal_dir_(std::move(wal_dir)),
        db_id_(db_id),
        catalog_(std::move(cat)),
        start_(start),
        end_(end) {}

  Status Init() {
    Status s = log::ListSegments(env_, wal_dir_, &segments_);
    if (!s.ok()) return s;
    if (start_ > end_) return Status::OK();
    if (segments_.empty() || segments_.front() > start_) {
      const uint64_t first = segments_.empty() ? end_ + 1 : segments_.front();
      return Status::Trimmed("sequence " + std::to_string(start_) +
                             " was removed by retention; the first available "
                             "sequence is " +
                             std::to_string(first));
    }
    while (seg_index_ + 1 < segments_.size() && segments_[seg_index_ + 1] <= start_) {
      ++seg_index_;
    }
    s = log::SegmentReader::Open(env_, wal_dir_, segments_[seg_index_], db_id_, &reader_);
    if (!s.ok()) return s;
    Advance();
    return status_;
  }

  bool Valid() const override { return valid_; }
  const ChangeRecord& record() const override { return record_; }
  Status status() const override { return status_; }
  void Next() override { Advance(); }

 private:
  // Moves to the next visible record with sequence in [start_, end_].
  void Advance() {
    valid_ = false;
    while (status_.ok()) {
      while (change_index_ < batch_.changes.size()) {
        const size_t i = change_index_++;
        const uint64_t seq = frame_first_ + i;
        if (seq > end_) {
          done_ = true;
          return;
        }
        const log::ChangeData& c = batch_.changes[i];
        if (seq < start_ || c.view == log::View::kNone) continue;
        Fill(c, seq);
        valid_ = true;
        return;
      }
      if (done_ || !ReadFrame()) return;
    }
  }

  void Fill(const log::ChangeData& c, uint64_t seq) {
    const log::TableEntryData* t = catalog_->FindById(c.table_id);
    record_ = log::ToChangeRecord(c, seq, batch_.commit_time_micros,
                                  t != nullptr ? std::string_view(t->name) : std::string_view());
    record_.chain_depth = batch_.chain_depth;
    log::SetTableFields(t, batch_.ttl_delete, &record_);
    // The last visible record of the frame ends the batch.
    record_.end_of_batch = true;
    for (size_t j = change_index_; j < batch_.changes.size(); ++j) {
      if (frame_first_ + j > end_) break;
      if (batch_.changes[j].view != log::View::kNone) {
        record_.end_of_batch = false;
        break;
      }
    }
  }

  // Loads the next batch frame; false at the end or on error.
  bool ReadFrame() {
    batch_.changes.clear();
    change_index_ = 0;
    for (;;) {
      if (next_expected_ > end_) {
        done_ = true;
        return false;
      }
      log::Frame frame;
      log::Damage damage;
      switch (reader_->Next(&frame, &damage)) {
        case log::SegmentReader::Result::kFrame: {
          const log::FrameHeader& h = frame.header;
          next_expected_ = h.last_sequence() + 1;
          if (h.last_sequence() < start_) continue;
          if (h.type == log::kBatchFrame) {
            status_ = log::DecodeBatch(frame.payload, &batch_);
            if (!status_.ok()) {
              status_ = status_.WithContext(Where(frame.offset));
              return false;
            }
            frame_first_ = h.first_sequence;
            return true;
          }
          if (h.type != log::kMetaFrame && (h.type & log::kSkippableTypeBit) == 0) {
            status_ = Status::NotSupported(Where(frame.offset) + ": unknown frame type " +
                                           std::to_string(h.type));
            return false;
          }
          continue;
        }
        case log::SegmentReader::Result::kEnd: {
          if (seg_index_ + 1 >= segments_.size()) {
            done_ = true;
            return false;
          }
          ++seg_index_;
          Status s =
              log::SegmentReader::Open(env_, wal_dir_, segments_[seg_index_], db_id_, &reader_);
          if (s.IsNotFound()) {
            s = Status::Trimmed("segment " + log::SegmentFileName(segments_[seg_index_]) +
                                " was removed by retention while reading");
          }
          if (!s.ok()) {
            status_ = s;
            return false;
          }
          continue;
        }
        case log::SegmentReader::Result::kDamaged:
          status_ = Status::Corruption(Where(damage.offset) + ": " + damage.reason);
          return false;
        case log::SegmentReader::Result::kError:
          status_ = reader_->status();
          return false;
      }
    }
  }

  std::string Where(uint64_t offset) const {
    return "wal/" + reader_->file_name() + " offset " + std::to_string(offset);
  }

  leveldb::Env* const env_;
  const std::string wal_dir_;
  const uint8_t* const db_id_;
  const std::shared_ptr<const Catalog> catalog_;
  const SequenceNumber start_;
  const SequenceNumber end_;
  std::vector<uint64_t> segments_;
  size_t seg_index_ = 0;
  std::unique_ptr<log::SegmentReader> reader_;
  log::BatchData batch_;
  uint64_t frame_first_ = 0;
  size_t change_index_ = 0;
  uint64_t next_expected_ = 0;
  bool done_ = false;
  bool valid_ = false;
  ChangeRecord record_;
  Status status_;
};

}  // namespace

Status DBImpl::NewChangeIterator(SequenceNumber start, std::unique_ptr<ChangeIterator>* it) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  if (start == 0) start = 1;
  const SequenceNumber first = FirstAvailableSequence();
  if (start < first) {
    return Status::Trimmed("sequence " + std::to_string(start) +
                           " was removed by retention; the first available "
                           "sequence is " +
                           std::to_string(first));
  }
  // The sequence first, then the catalog: a metadata change swaps the
  // catalog before it publishes its sequence, so this catalog knows every
  // table the records up to `end` can name.
  const SequenceNumber end = LastSequence();
  auto iter = std::make_unique<LogChangeIterator>(env_, wal_dir_, id_, catalog(), start, end);
  s = iter->Init();
  if (!s.ok()) return s;
  *it = std::move(iter);
  return Status::OK();
}

}  // namespace runnel
