// Copyright 2026 The runnel Authors.
//
// StreamReaderImpl: the stream API (runnel/stream.h) over a LogSource, which
// is either the DB that owns the log (in-process) or a read-only view of the
// log files (another process).

#ifndef RUNNEL_CDC_STREAM_READER_H_
#define RUNNEL_CDC_STREAM_READER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "cdc/catalog.h"
#include "cdc/log_format.h"
#include "runnel/stream.h"

namespace leveldb {
class Env;
}

namespace runnel {

// A RecordBatch's contents, and what it keeps alive for its views.
struct RecordBatch::Rep {
  std::vector<ChangeRecord> records;
  std::string next;
  std::string arn;
  int64_t behind_ms = 0;
  std::shared_ptr<const Catalog> catalog;
  // Mapped segment readers and copied payloads the records point into.
  std::vector<std::shared_ptr<const void>> holds;
};

// What a stream reader needs from the log's owner.
class LogSource {
 public:
  virtual ~LogSource() = default;
  virtual leveldb::Env* env() = 0;
  virtual const std::string& wal_dir() = 0;
  virtual const uint8_t* db_id() = 0;
  // The region and account of the DB's ARNs.
  virtual const std::string& region() = 0;
  virtual const std::string& account_id() = 0;
  // The catalog, current as of at least last_sequence() at the time of the
  // call (callers read last_sequence() first).
  virtual Status Catalog(std::shared_ptr<const runnel::Catalog>* catalog) = 0;
  // The newest sequence whose frame is complete in the log.
  virtual Status LastSequence(SequenceNumber* last) = 0;
  // Waits until LastSequence() >= sequence or the deadline: OK or TimedOut.
  virtual Status WaitFor(SequenceNumber sequence,
                         std::chrono::steady_clock::time_point deadline) = 0;
};

// The log of the DB in `dir` as another process sees it, read-only (what
// StreamReader::OpenReadOnly reads through). NotFound if `dir` is no DB.
Status OpenReadOnlySource(const std::string& dir, std::unique_ptr<LogSource>* source);

// The decoded form of a shard iterator string.
struct ShardPosition {
  std::string arn;
  // The next sequence number to consider.
  SequenceNumber next = 0;
  // Where the frame holding `next` probably starts (a hint: verified, and
  // ignored if stale).
  uint64_t segment = 0;
  uint64_t offset = 0;
};
// Iterators carry a tag keyed by the DB's random 16-byte id, so that a
// position (a file offset the reader seeks to) can only come from this DB's
// own encoder: a garbled or hand-made iterator is refused instead of
// pointing the reader into the middle of a value, where a stored value could
// even hold a well-formed frame. The tag is XXH3-64 with a seed from the
// id: tamper-evident against accidents and against anyone who cannot read
// DIR/IDENTITY (the DB's owner can; iterators are not a security boundary).
std::string EncodeShardIterator(const ShardPosition& position, const uint8_t* key);
// InvalidArgument naming what is wrong (also for a tag that does not match).
Status DecodeShardIterator(std::string_view iterator, const uint8_t* key, ShardPosition* position);

class StreamReaderImpl final : public StreamReader {
 public:
  explicit StreamReaderImpl(LogSource* source) : source_(source) {}
  // Owns its source (the read-only reader).
  explicit StreamReaderImpl(std::unique_ptr<LogSource> source)
      : owned_(std::move(source)), source_(owned_.get()) {}

  Status ListStreams(std::string_view table, std::vector<StreamInfo>* streams) override;
  Status DescribeStream(std::string_view stream_arn, StreamDescription* description) override;
  Status GetShardIterator(const ShardIteratorRequest& request, std::string* iterator) override;
  Status GetRecords(std::string_view iterator, const GetRecordsOptions& options,
                    RecordBatch* batch) override;
  Status WaitForRecords(std::string_view iterator, std::chrono::milliseconds timeout) override;
  SequenceNumber LastSequence() override;

 private:
  struct Found;  // a stream located in the catalog
  Status Find(const Catalog& catalog, std::string_view arn, Found* found);
  // Reads records of the stream from `pos` up to `upper` (a StreamCursor
  // for the one call).
  Status Read(const Found& stream, SequenceNumber upper, const GetRecordsOptions& options,
              ShardPosition* pos, RecordBatch* batch);

 public:
  // The table and catalog a stream ARN refers to (for cursors).
  Status Locate(std::string_view arn, uint32_t* table_id, SequenceNumber* stream_start,
                SequenceNumber* stream_end, std::shared_ptr<const Catalog>* catalog);

 private:
  Status FirstRecordAtOrAfter(const Found& stream, int64_t micros, SequenceNumber last,
                              SequenceNumber* seq);

  const std::unique_ptr<LogSource> owned_;
  LogSource* const source_;
};

// The shard id of a stream: "shardId-00000000000000000001-<label digits>".
std::string ShardIdFor(const StreamInfo& stream);

}  // namespace runnel

#endif  // RUNNEL_CDC_STREAM_READER_H_
