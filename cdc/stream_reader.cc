// Copyright 2026 The runnel Authors.
//
// Shard iterators and GetRecords over the log files.

#include "cdc/stream_reader.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <deque>

#include "cdc/arn.h"
#include "cdc/codec.h"
#include "cdc/segment_reader.h"
#include "cdc/stream_cursor.h"
#include "util/clock.h"
#include "util/encoding.h"
#include "util/numbers.h"

namespace runnel {

RecordBatch::RecordBatch() = default;
RecordBatch::~RecordBatch() = default;
RecordBatch::RecordBatch(RecordBatch&&) noexcept = default;
RecordBatch& RecordBatch::operator=(RecordBatch&&) noexcept = default;

RecordBatch::Rep* RecordBatch::rep() {
  if (!rep_) rep_ = std::make_unique<Rep>();
  return rep_.get();
}

const std::vector<ChangeRecord>& RecordBatch::records() const {
  static const std::vector<ChangeRecord> kNone;
  return rep_ ? rep_->records : kNone;
}

const std::string& RecordBatch::next_shard_iterator() const {
  static const std::string kNone;
  return rep_ ? rep_->next : kNone;
}

const std::string& RecordBatch::stream_arn() const {
  static const std::string kNone;
  return rep_ ? rep_->arn : kNone;
}

int64_t RecordBatch::millis_behind_latest() const { return rep_ ? rep_->behind_ms : 0; }

std::string_view ShardIteratorTypeName(ShardIteratorType type) {
  switch (type) {
    case ShardIteratorType::kTrimHorizon:
      return "TRIM_HORIZON";
    case ShardIteratorType::kLatest:
      return "LATEST";
    case ShardIteratorType::kAtSequenceNumber:
      return "AT_SEQUENCE_NUMBER";
    case ShardIteratorType::kAfterSequenceNumber:
      return "AFTER_SEQUENCE_NUMBER";
    case ShardIteratorType::kAtTimestamp:
      return "AT_TIMESTAMP";
  }
  return "UNKNOWN";
}

bool ParseShardIteratorType(std::string_view name, ShardIteratorType* type) {
  for (auto t : {ShardIteratorType::kTrimHorizon, ShardIteratorType::kLatest,
                 ShardIteratorType::kAtSequenceNumber, ShardIteratorType::kAfterSequenceNumber,
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

// An iterator is base64 of "2|<next>|<segment>|<offset>|<tag>|<arn>": opaque
// to users, but stable across processes and reopening (it names a log
// position, not an in-memory object). <tag> is 16 hex digits, see
// stream_reader.h.
static uint64_t IteratorTag(const ShardPosition& p, const uint8_t* key) {
  uint64_t a = 0, b = 0;
  std::memcpy(&a, key, 8);
  std::memcpy(&b, key + 8, 8);
  const std::string fields = std::to_string(p.next) + "|" + std::to_string(p.segment) + "|" +
                             std::to_string(p.offset) + "|" + p.arn;
  return XXH3_64bits_withSeed(fields.data(), fields.size(), a ^ (b * 0x9E3779B97F4A7C15ull));
}

std::string EncodeShardIterator(const ShardPosition& p, const uint8_t* key) {
  return EncodeBase64("2|" + std::to_string(p.next) + "|" + std::to_string(p.segment) + "|" +
                      std::to_string(p.offset) + "|" + HexU64(IteratorTag(p, key)) + "|" + p.arn);
}

Status DecodeShardIterator(std::string_view iterator, const uint8_t* key, ShardPosition* p) {
  const Status bad = Status::InvalidArgument(
      "shard iterator: not an iterator returned by GetShardIterator or "
      "GetRecords of this DB");
  if (iterator.empty() || iterator.size() > 4096) return bad;
  std::string plain;
  if (!DecodeBase64(iterator, &plain)) return bad;
  std::vector<std::string_view> parts;
  std::string_view rest(plain);
  for (int i = 0; i < 5; ++i) {
    const size_t bar = rest.find('|');
    if (bar == std::string_view::npos) return bad;
    parts.push_back(rest.substr(0, bar));
    rest.remove_prefix(bar + 1);
  }
  if (parts[0] != "2" || !ParseUint64(parts[1], &p->next) || !ParseUint64(parts[2], &p->segment) ||
      !ParseUint64(parts[3], &p->offset) || parts[4].size() != 16 ||
      rest.substr(0, 17) != "arn:aws:dynamodb:" || p->next == 0) {
    return bad;
  }
  p->arn = std::string(rest);
  if (parts[4] != HexU64(IteratorTag(*p, key))) return bad;
  return Status::OK();
}

struct StreamReaderImpl::Found {
  std::shared_ptr<const Catalog> catalog;
  StreamInfo info;
  uint32_t table_id = 0;
  std::string hash_key_name;  // empty for a byte table
  std::string range_key_name;
};

static Status StreamNotFound(std::string_view arn) {
  return Status::NotFound("stream '" + std::string(arn) + "' does not exist");
}

static Status TrimmedAt(SequenceNumber wanted, SequenceNumber first) {
  return Status::Trimmed("sequence " + std::to_string(wanted) +
                         " was removed by retention; the first available "
                         "sequence is " +
                         std::to_string(first));
}

Status StreamReaderImpl::Find(const Catalog& catalog, std::string_view arn, Found* found) {
  arn::StreamArnParts parts;
  Status s = arn::ParseStream(arn, &parts);
  if (!s.ok()) return s;
  if (parts.region != source_->region() || parts.account != source_->account_id()) {
    return Status::NotFound("stream '" + std::string(arn) +
                            "' does not exist (this DB's ARNs are " + "in region " +
                            source_->region() + ", account " + source_->account_id() + ")");
  }
  for (const auto& t : catalog.data().tables) {
    for (const auto& s : t.streams) {
      StreamInfo info = Catalog::MakeStreamInfo(source_->region(), source_->account_id(), t, s);
      if (info.arn == arn) {
        found->info = std::move(info);
        found->table_id = t.id;
        found->hash_key_name = t.hash_key_name;
        found->range_key_name = t.range_key_name;
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

Status StreamReaderImpl::ListStreams(std::string_view table, std::vector<StreamInfo>* streams) {
  std::shared_ptr<const Catalog> catalog;
  Status s = source_->Catalog(&catalog);
  if (!s.ok()) return s;
  streams->clear();
  bool known = table.empty();
  for (const auto& t : catalog->data().tables) {
    if (!table.empty() && t.name != table) continue;
    known = true;
    for (const auto& st : t.streams) {
      streams->push_back(Catalog::MakeStreamInfo(source_->region(), source_->account_id(), t, st));
    }
  }
  if (!known) {
    return Status::NotFound("table '" + std::string(table) + "' does not exist");
  }
  std::stable_sort(streams->begin(), streams->end(), [](const StreamInfo& a, const StreamInfo& b) {
    return a.starting_sequence < b.starting_sequence;
  });
  return Status::OK();
}

Status StreamReaderImpl::DescribeStream(std::string_view arn, StreamDescription* d) {
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
  d->key_schema.push_back(
      {f.hash_key_name.empty() ? std::string("key") : f.hash_key_name, KeyType::kHash});
  if (!f.range_key_name.empty()) d->key_schema.push_back({f.range_key_name, KeyType::kRange});
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

Status StreamReaderImpl::GetShardIterator(const ShardIteratorRequest& req, std::string* iterator) {
  SequenceNumber last = 0;
  Status s = source_->LastSequence(&last);
  std::shared_ptr<const Catalog> catalog;
  if (s.ok()) s = source_->Catalog(&catalog);
  Found f;
  if (s.ok()) s = Find(*catalog, req.stream_arn, &f);
  if (!s.ok()) return s;
  f.catalog = catalog;
  if (!req.shard_id.empty() && req.shard_id != ShardIdFor(f.info)) {
    return Status::NotFound("shard '" + req.shard_id + "' is not a shard of " + req.stream_arn +
                            " (its shard is " + ShardIdFor(f.info) + ")");
  }
  SequenceNumber first = 0;
  s = FirstAvailable(source_, &first);
  if (!s.ok()) return s;
  const SequenceNumber start = f.info.starting_sequence;
  const SequenceNumber end = f.info.ending_sequence;  // 0: open
  const SequenceNumber upper = end != 0 ? end : last;
  // AT may name the next sequence to be committed; AFTER only one that is.
  auto check_range = [&](SequenceNumber n) -> Status {
    const bool after = req.type == ShardIteratorType::kAfterSequenceNumber;
    if (n < start || (end != 0 && n > end) || (end == 0 && n > last + (after ? 0 : 1))) {
      return Status::InvalidArgument("sequence number: " + std::to_string(n) +
                                     " is outside the stream's range [" + std::to_string(start) +
                                     ", " +
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
  *iterator = EncodeShardIterator(pos, source_->db_id());
  return Status::OK();
}

Status StreamReaderImpl::FirstRecordAtOrAfter(const Found& f, int64_t micros, SequenceNumber upper,
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

Status StreamReaderImpl::GetRecords(std::string_view iterator, const GetRecordsOptions& options,
                                    RecordBatch* batch) {
  if (options.limit == 0 || options.limit > 10000) {
    return Status::InvalidArgument("limit: must be 1 to 10000, got " +
                                   std::to_string(options.limit));
  }
  // Decoded before the batch is reset: callers naturally pass the previous
  // batch's next_shard_iterator() with the same batch.
  ShardPosition pos;
  Status s = DecodeShardIterator(iterator, source_->db_id(), &pos);
  *batch = RecordBatch();
  RecordBatch::Rep& rep = *batch->rep();
  SequenceNumber last = 0;
  if (s.ok()) s = source_->LastSequence(&last);
  std::shared_ptr<const Catalog> catalog;
  if (s.ok()) s = source_->Catalog(&catalog);
  Found f;
  if (s.ok()) s = Find(*catalog, pos.arn, &f);
  if (!s.ok()) return s;
  f.catalog = catalog;
  rep.arn = f.info.arn;
  const SequenceNumber end = f.info.ending_sequence;
  const SequenceNumber upper = end != 0 ? std::min(end, last) : last;
  if (pos.next <= upper) {
    rep.records.reserve(std::min<uint64_t>(options.limit, upper - pos.next + 1));
    s = Read(f, upper, options, &pos, batch);
    if (!s.ok()) return s;
  }
  if (end != 0 && pos.next > end) {
    rep.next.clear();  // closed and fully read
  } else {
    rep.next = EncodeShardIterator(pos, source_->db_id());
  }
  if (!rep.records.empty()) {
    const int64_t now = NowMicros(source_->env());
    rep.behind_ms = std::max<int64_t>(0, (now - rep.records.back().commit_time_micros) / 1000);
  }
  return Status::OK();
}

Status StreamReaderImpl::Read(const Found& f, SequenceNumber upper,
                              const GetRecordsOptions& options, ShardPosition* pos,
                              RecordBatch* batch) {
  StreamCursor cursor(source_, f.table_id, f.info.starting_sequence, f.catalog);
  cursor.Seek(pos->next, pos->segment, pos->offset);
  Status s = cursor.Read(upper, options, batch);
  if (!s.ok()) return s;
  pos->next = cursor.position();
  pos->segment = cursor.segment();
  pos->offset = cursor.offset();
  return Status::OK();
}

Status StreamReaderImpl::Locate(std::string_view arn, uint32_t* table_id,
                                SequenceNumber* stream_start, SequenceNumber* stream_end,
                                std::shared_ptr<const Catalog>* catalog) {
  Status s = source_->Catalog(catalog);
  Found f;
  if (s.ok()) s = Find(**catalog, arn, &f);
  if (!s.ok()) return s;
  *table_id = f.table_id;
  *stream_start = f.info.starting_sequence;
  *stream_end = f.info.ending_sequence;
  return Status::OK();
}

Status StreamReaderImpl::WaitForRecords(std::string_view iterator,
                                        std::chrono::milliseconds timeout) {
  ShardPosition pos;
  Status s = DecodeShardIterator(iterator, source_->db_id(), &pos);
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
