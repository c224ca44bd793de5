// Copyright 2026 The runnel Authors.
//
// Shard iterators and GetRecords over the log files.

#include "cdc/stream_reader.h"

#include <kj/encoding.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>

#include "cdc/codec.h"
#include "cdc/segment_reader.h"

namespace runnel {

struct RecordBatch::Pins {
  std::shared_ptr<const Catalog> catalog;
  std::vector<std::shared_ptr<log::SegmentReader>> readers;
  std::deque<std::vector<uint64_t>> copies;  // payloads read with pread
};

RecordBatch::RecordBatch() = default;
RecordBatch::~RecordBatch() = default;
RecordBatch::RecordBatch(RecordBatch&&) noexcept = default;
RecordBatch& RecordBatch::operator=(RecordBatch&&) noexcept = default;

std::string_view ShardIteratorTypeName(ShardIteratorType type) {
  switch (type) {
    case ShardIteratorType::kTrimHorizon: return "TRIM_HORIZON";
    case ShardIteratorType::kLatest: return "LATEST";
    case ShardIteratorType::kAtSequenceNumber: return "AT_SEQUENCE_NUMBER";
    case ShardIteratorType::kAfterSequenceNumber: return "AFTER_SEQUENCE_NUMBER";
    case ShardIteratorType::kAtTimestamp: return "AT_TIMESTAMP";
  }
  return "UNKNOWN";
}

bool ParseShardIteratorType(std::string_view name, ShardIteratorType* type) {
  for (auto t : {ShardIteratorType::kTrimHorizon, ShardIteratorType::kLatest,
                 ShardIteratorType::kAtSequenceNumber,
                 ShardIteratorType::kAfterSequenceNumber,
                 ShardIteratorType::kAtTimestamp}) {
    if (ShardIteratorTypeName(t) == name) {
      *type = t;
      return true;
    }
  }
  return false;
}

std::string ShardIdFor(const StreamInfo& stream) {
  std::string digits;
  for (char c : stream.label) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  return "shardId-" + digits + "-00000001";
}

// An iterator is base64 of "1|<next>|<segment>|<offset>|<arn>": opaque to
// users, but stable across processes and reopening (it names a log position,
// not an in-memory object).
std::string EncodeShardIterator(const ShardPosition& p) {
  const std::string plain = "1|" + std::to_string(p.next) + "|" +
                            std::to_string(p.segment) + "|" +
                            std::to_string(p.offset) + "|" + p.arn;
  kj::String enc = kj::encodeBase64(kj::ArrayPtr<const kj::byte>(
      reinterpret_cast<const kj::byte*>(plain.data()), plain.size()));
  return std::string(enc.cStr(), enc.size());
}

static bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t r = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (r > (UINT64_MAX - d) / 10) return false;
    r = r * 10 + d;
  }
  *v = r;
  return true;
}

Status DecodeShardIterator(std::string_view iterator, ShardPosition* p) {
  const Status bad = Status::InvalidArgument(
      "shard iterator: not an iterator returned by GetShardIterator or "
      "GetRecords");
  if (iterator.empty() || iterator.size() > 4096) return bad;
  auto decoded = kj::decodeBase64(
      kj::ArrayPtr<const char>(iterator.data(), iterator.size()));
  if (decoded.hadErrors) return bad;
  const std::string plain(reinterpret_cast<const char*>(decoded.begin()),
                          decoded.size());
  std::vector<std::string_view> parts;
  std::string_view rest(plain);
  for (int i = 0; i < 4; ++i) {
    const size_t bar = rest.find('|');
    if (bar == std::string_view::npos) return bad;
    parts.push_back(rest.substr(0, bar));
    rest.remove_prefix(bar + 1);
  }
  if (parts[0] != "1" || !ParseU64(parts[1], &p->next) ||
      !ParseU64(parts[2], &p->segment) || !ParseU64(parts[3], &p->offset) ||
      rest.substr(0, 11) != "arn:runnel:" || p->next == 0) {
    return bad;
  }
  p->arn = std::string(rest);
  return Status::OK();
}

struct StreamReaderImpl::Found {
  std::shared_ptr<const Catalog> catalog;
  StreamInfo info;
  uint32_t table_id = 0;
};

static Status StreamNotFound(std::string_view arn) {
  return Status::NotFound("stream '" + std::string(arn) + "' does not exist");
}

static Status TrimmedAt(SequenceNumber wanted, SequenceNumber first) {
  return Status::Trimmed("sequence " + std::to_string(wanted) +
                         " was removed by retention; the first available "
                         "sequence is " + std::to_string(first));
}

Status StreamReaderImpl::Find(const Catalog& catalog, std::string_view arn,
                              Found* found) {
  for (const auto& t : catalog.data().tables) {
    for (const auto& s : t.streams) {
      StreamInfo info = Catalog::MakeStreamInfo(source_->db_name(), t, s);
      if (info.arn == arn) {
        found->info = std::move(info);
        found->table_id = t.id;
        return Status::OK();
      }
    }
  }
  return StreamNotFound(arn);
}

SequenceNumber StreamReaderImpl::LastSequence() {
  SequenceNumber last = 0;
  Status s = source_->LastSequence(&last);
  return s.ok() ? last : 0;
}

Status StreamReaderImpl::ListStreams(std::string_view table,
                                     std::vector<StreamInfo>* streams) {
  std::shared_ptr<const Catalog> catalog;
  Status s = source_->Catalog(&catalog);
  if (!s.ok()) return s;
  streams->clear();
  bool known = table.empty();
  for (const auto& t : catalog->data().tables) {
    if (!table.empty() && t.name != table) continue;
    known = true;
    for (const auto& st : t.streams) {
      streams->push_back(Catalog::MakeStreamInfo(source_->db_name(), t, st));
    }
  }
  if (!known) {
    return Status::NotFound("table '" + std::string(table) + "' does not exist");
  }
  std::stable_sort(streams->begin(), streams->end(),
                   [](const StreamInfo& a, const StreamInfo& b) {
                     return a.starting_sequence < b.starting_sequence;
                   });
  return Status::OK();
}

Status StreamReaderImpl::DescribeStream(std::string_view arn,
                                        StreamDescription* d) {
  std::shared_ptr<const Catalog> catalog;
  Status s = source_->Catalog(&catalog);
  if (!s.ok()) return s;
  Found f;
  s = Find(*catalog, arn, &f);
  if (!s.ok()) return s;
  *d = StreamDescription();
  d->stream_arn = f.info.arn;
  d->stream_label = f.info.label;
  d->stream_status = f.info.enabled() ? "ENABLED" : "DISABLED";
  d->view_type = f.info.view_type;
  d->creation_request_time_micros = f.info.creation_time_micros;
  d->table_name = f.info.table_name;
  d->shard_id = ShardIdFor(f.info);
  d->starting_sequence = f.info.starting_sequence;
  d->ending_sequence = f.info.ending_sequence;
  return Status::OK();
}

static Status FirstAvailable(LogSource* source, SequenceNumber* first) {
  std::vector<uint64_t> segs;
  Status s = log::ListSegments(source->env(), source->wal_dir(), &segs);
  if (!s.ok()) return s;
  *first = segs.empty() ? 1 : segs.front();
  return Status::OK();
}

Status StreamReaderImpl::GetShardIterator(const ShardIteratorRequest& req,
                                          std::string* iterator) {
  SequenceNumber last = 0;
  Status s = source_->LastSequence(&last);
  std::shared_ptr<const Catalog> catalog;
  if (s.ok()) s = source_->Catalog(&catalog);
  Found f;
  if (s.ok()) s = Find(*catalog, req.stream_arn, &f);
  if (!s.ok()) return s;
  f.catalog = catalog;
  if (!req.shard_id.empty() && req.shard_id != ShardIdFor(f.info)) {
    return Status::NotFound("shard '" + req.shard_id + "' is not a shard of " +
                            req.stream_arn + " (its shard is " +
                            ShardIdFor(f.info) + ")");
  }
  SequenceNumber first = 0;
  s = FirstAvailable(source_, &first);
  if (!s.ok()) return s;
  const SequenceNumber start = f.info.starting_sequence;
  const SequenceNumber end = f.info.ending_sequence;  // 0: open
  const SequenceNumber upper = end != 0 ? end : last;
  auto check_range = [&](SequenceNumber n) -> Status {
    if (n < start || (end != 0 && n > end) || (end == 0 && n > last + 1)) {
      return Status::InvalidArgument(
          "sequence number: " + std::to_string(n) +
          " is outside the stream's range [" + std::to_string(start) + ", " +
          (end != 0 ? std::to_string(end) : std::to_string(last)) + "]");
    }
    if (n < first) return TrimmedAt(n, first);
    return Status::OK();
  };
  ShardPosition pos;
  pos.arn = f.info.arn;
  switch (req.type) {
    case ShardIteratorType::kTrimHorizon:
      if (end != 0 && end < first && end >= start) {
        return Status::Trimmed("every record of stream " + f.info.arn +
                               " was removed by retention; the first "
                               "available sequence is " +
                               std::to_string(first));
      }
      pos.next = std::max(start, first);
      break;
    case ShardIteratorType::kLatest:
      pos.next = std::max(start, upper + 1);
      break;
    case ShardIteratorType::kAtSequenceNumber:
      s = check_range(req.sequence_number);
      pos.next = req.sequence_number;
      break;
    case ShardIteratorType::kAfterSequenceNumber:
      s = check_range(req.sequence_number);
      pos.next = req.sequence_number + 1;
      break;
    case ShardIteratorType::kAtTimestamp:
      if (end != 0 && end < first && end >= start) {
        return TrimmedAt(start, first);
      }
      s = FirstRecordAtOrAfter(f, req.timestamp_micros, upper, &pos.next);
      break;
    default:
      return Status::InvalidArgument("shard iterator type: unknown");
  }
  if (!s.ok()) return s;
  *iterator = EncodeShardIterator(pos);
  return Status::OK();
}

Status StreamReaderImpl::FirstRecordAtOrAfter(const Found& f, int64_t micros,
                                              SequenceNumber upper,
                                              SequenceNumber* seq) {
  // Read the stream from its oldest available record until a record is new
  // enough. Commit times grow with sequence numbers, so the first match is
  // the answer.
  SequenceNumber first = 0;
  Status s = FirstAvailable(source_, &first);
  if (!s.ok()) return s;
  ShardPosition pos;
  pos.arn = f.info.arn;
  pos.next = std::max(f.info.starting_sequence, first);
  GetRecordsOptions o;
  o.limit = 1000;
  o.max_bytes = SIZE_MAX;
  for (;;) {
    if (pos.next > upper) break;
    RecordBatch batch;
    const SequenceNumber before = pos.next;
    s = Read(f, upper, o, &pos, &batch);
    if (!s.ok()) return s;
    for (const ChangeRecord& r : batch.records()) {
      if (r.commit_time_micros >= micros) {
        *seq = r.sequence;
        return Status::OK();
      }
    }
    if (pos.next == before) break;  // nothing more is readable yet
  }
  *seq = std::max(pos.next, upper + 1);
  return Status::OK();
}

Status StreamReaderImpl::GetRecords(std::string_view iterator,
                                    const GetRecordsOptions& options,
                                    RecordBatch* batch) {
  if (options.limit == 0 || options.limit > 10000) {
    return Status::InvalidArgument("limit: must be 1 to 10000, got " +
                                   std::to_string(options.limit));
  }
  // Decoded before the batch is reset: callers naturally pass the previous
  // batch's next_shard_iterator() with the same batch.
  ShardPosition pos;
  Status s = DecodeShardIterator(iterator, &pos);
  *batch = RecordBatch();
  SequenceNumber last = 0;
  if (s.ok()) s = source_->LastSequence(&last);
  std::shared_ptr<const Catalog> catalog;
  if (s.ok()) s = source_->Catalog(&catalog);
  Found f;
  if (s.ok()) s = Find(*catalog, pos.arn, &f);
  if (!s.ok()) return s;
  f.catalog = catalog;
  batch->arn_ = f.info.arn;
  const SequenceNumber end = f.info.ending_sequence;
  const SequenceNumber upper = end != 0 ? std::min(end, last) : last;
  if (pos.next <= upper) {
    batch->records_.reserve(
        std::min<uint64_t>(options.limit, upper - pos.next + 1));
    s = Read(f, upper, options, &pos, batch);
    if (!s.ok()) return s;
  }
  if (end != 0 && pos.next > end) {
    batch->next_.clear();  // closed and fully read
  } else {
    batch->next_ = EncodeShardIterator(pos);
  }
  if (!batch->records_.empty()) {
    const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    batch->behind_ms_ =
        std::max<int64_t>(0, (now - batch->records_.back().commit_time_micros) / 1000);
  }
  return Status::OK();
}

Status StreamReaderImpl::Read(const Found& f, SequenceNumber upper,
                              const GetRecordsOptions& options,
                              ShardPosition* pos, RecordBatch* batch) {
  std::vector<uint64_t> segs;
  Status s = log::ListSegments(source_->env(), source_->wal_dir(), &segs);
  if (!s.ok()) return s;
  if (segs.empty() || pos->next < segs.front()) {
    return TrimmedAt(pos->next, segs.empty() ? upper + 1 : segs.front());
  }
  if (!batch->pins_) batch->pins_ = std::make_unique<RecordBatch::Pins>();
  RecordBatch::Pins& pins = *batch->pins_;
  if (f.catalog) pins.catalog = f.catalog;
  const log::TableEntryData* table = pins.catalog
                                         ? pins.catalog->FindById(f.table_id)
                                         : nullptr;
  const std::string_view table_name =
      table != nullptr ? std::string_view(table->name) : std::string_view();

  size_t idx = 0;
  while (idx + 1 < segs.size() && segs[idx + 1] <= pos->next) ++idx;
  auto open = [&](size_t i, std::shared_ptr<log::SegmentReader>* out) {
    std::unique_ptr<log::SegmentReader> r;
    Status os = log::SegmentReader::Open(source_->env(), source_->wal_dir(),
                                         segs[i], source_->db_id(), &r);
    if (os.IsNotFound()) return TrimmedAt(pos->next, segs[i] + 1);
    if (os.ok()) *out = std::move(r);
    return os;
  };
  std::shared_ptr<log::SegmentReader> reader;
  s = open(idx, &reader);
  if (!s.ok()) return s;
  bool hinted = false;
  if (pos->segment == segs[idx] && pos->offset > log::kSegmentHeaderSize &&
      pos->offset < reader->file_size() && pos->offset % 8 == 0) {
    reader->SeekToOffset(pos->offset);
    hinted = true;
  }
  pins.readers.push_back(reader);

  size_t bytes = 0;
  log::BatchData data;
  log::Frame frame;
  log::Damage damage;
  for (;;) {
    const uint64_t frame_offset = reader->offset();
    switch (reader->Next(&frame, &damage)) {
      case log::SegmentReader::Result::kError:
        return reader->status();
      case log::SegmentReader::Result::kDamaged:
        if (hinted) {  // the hint did not point at a frame: ignore it
          hinted = false;
          reader->SeekToOffset(log::kSegmentHeaderSize);
          continue;
        }
        if (damage.to_end_of_file && idx + 1 == segs.size()) {
          return Status::OK();  // a write still in progress (read-only view)
        }
        return Status::Corruption("wal/" + reader->file_name() + " offset " +
                                  std::to_string(damage.offset) + ": " +
                                  damage.reason);
      case log::SegmentReader::Result::kEnd:
        if (idx + 1 >= segs.size()) return Status::OK();
        ++idx;
        s = open(idx, &reader);
        if (!s.ok()) return s;
        pins.readers.push_back(reader);
        hinted = false;
        continue;
      case log::SegmentReader::Result::kFrame:
        break;
    }
    const log::FrameHeader& h = frame.header;
    if (hinted) {
      hinted = false;
      if (h.first_sequence > pos->next && h.count > 0) {
        reader->SeekToOffset(log::kSegmentHeaderSize);  // a stale hint
        continue;
      }
    }
    if (h.count == 0 || h.last_sequence() < pos->next) continue;
    if (h.first_sequence > upper) return Status::OK();
    if (h.type == log::kBatchFrame &&
        (h.table_hint == 0 || h.table_hint == f.table_id)) {
      std::string_view payload = frame.payload;
      if (reader->PayloadBuffered(frame)) {
        auto& copy = pins.copies.emplace_back((payload.size() + 7) / 8);
        std::memcpy(copy.data(), payload.data(), payload.size());
        payload = std::string_view(reinterpret_cast<const char*>(copy.data()),
                                   payload.size());
      }
      s = log::DecodeBatch(payload, &data);
      if (!s.ok()) {
        return s.WithContext("wal/" + reader->file_name() + " offset " +
                             std::to_string(frame_offset));
      }
      ChangeRecord* last_of_frame = nullptr;
      for (size_t i = 0; i < data.changes.size(); ++i) {
        const SequenceNumber seq = h.first_sequence + i;
        if (seq < pos->next) continue;
        const log::ChangeData& c = data.changes[i];
        if (seq > upper) {
          pos->next = seq;
          pos->segment = segs[idx];
          pos->offset = frame_offset;
          return Status::OK();
        }
        if (c.table_id != f.table_id || c.view == log::View::kNone ||
            seq < f.info.starting_sequence) {
          continue;
        }
        if (batch->records_.size() >= options.limit ||
            (bytes >= options.max_bytes && !batch->records_.empty())) {
          pos->next = seq;
          pos->segment = segs[idx];
          pos->offset = frame_offset;
          return Status::OK();
        }
        batch->records_.push_back(
            log::ToChangeRecord(c, seq, data.commit_time_micros, table_name));
        batch->records_.back().chain_depth = data.chain_depth;
        bytes += batch->records_.back().size_bytes;
        last_of_frame = &batch->records_.back();
      }
      if (last_of_frame != nullptr) last_of_frame->end_of_batch = true;
    } else if (h.type != log::kBatchFrame && h.type != log::kMetaFrame &&
               (h.type & log::kSkippableTypeBit) == 0) {
      return Status::NotSupported("wal/" + reader->file_name() + " offset " +
                                  std::to_string(frame_offset) +
                                  ": unknown frame type " +
                                  std::to_string(h.type));
    }
    pos->next = h.last_sequence() + 1;
    pos->segment = segs[idx];
    pos->offset = reader->offset();
  }
}

Status StreamReaderImpl::WaitForRecords(std::string_view iterator,
                                        std::chrono::milliseconds timeout) {
  ShardPosition pos;
  Status s = DecodeShardIterator(iterator, &pos);
  std::shared_ptr<const Catalog> catalog;
  if (s.ok()) s = source_->Catalog(&catalog);
  Found f;
  if (s.ok()) s = Find(*catalog, pos.arn, &f);
  if (!s.ok()) return s;
  if (f.info.ending_sequence != 0 && pos.next > f.info.ending_sequence) {
    return Status::OK();  // closed: GetRecords says so at once
  }
  return source_->WaitFor(pos.next, std::chrono::steady_clock::now() + timeout);
}

}  // namespace runnel
