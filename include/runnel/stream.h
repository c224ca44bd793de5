// Copyright 2026 The runnel Authors.
//
// Streams: DynamoDB Streams over the runnel log.
//
// Every enabled stream of a table has one shard (one log keeps total order).
// A shard iterator is an opaque string naming a stream and a position; it
// survives being passed to another process and reopening the DB, and it never
// expires (unlike the cloud's 15 minutes). GetRecords returns the stream's
// records from the iterator's position and the iterator to continue from.
//
// Two implementations share this interface:
//  * DB::streams(): in the process that owns the DB. Readers are woken by
//    the commit itself (WaitForRecords), and never stall writers: they read
//    the log files, nothing is buffered for them.
//  * StreamReader::OpenReadOnly(dir): another process reads a live (or
//    closed) DB's streams directly from its log files, without the lock and
//    without writing anything. It learns tables and streams from the catalog
//    snapshot that opens every segment, and follows the tail with inotify.
//
// Thread safety: all methods may be called concurrently.

#ifndef RUNNEL_INCLUDE_STREAM_H_
#define RUNNEL_INCLUDE_STREAM_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/change.h"
#include "runnel/item.h"
#include "runnel/status.h"

namespace runnel {

// One stream of a table: created when the stream is enabled, closed (but
// still readable until retention removes its records) when it is disabled or
// the table is deleted. Re-enabling creates a new stream with a new label.
struct StreamInfo {
  std::string table_name;
  // ISO-8601 UTC time of enabling with milliseconds, e.g.
  // "2026-11-27T13:22:23.291". Unique per table.
  std::string label;
  // arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>, with
  // the DB's region and account (Options::region, Options::account_id).
  std::string arn;
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
  int64_t creation_time_micros = 0;
  // Records of this stream have sequence numbers in
  // [starting_sequence, ending_sequence]; ending_sequence is 0 while the
  // stream is enabled.
  SequenceNumber starting_sequence = 0;
  SequenceNumber ending_sequence = 0;
  bool enabled() const { return ending_sequence == 0; }
};

enum class ShardIteratorType : uint8_t {
  // The oldest record still in the stream.
  kTrimHorizon = 0,
  // Just after the newest record at the time of the call.
  kLatest = 1,
  // At the record with the given sequence number (or the first after it,
  // if that sequence belongs to no record of this stream).
  kAtSequenceNumber = 2,
  kAfterSequenceNumber = 3,
  // At the first record committed at or after the given time (runnel goes
  // beyond the cloud here).
  kAtTimestamp = 4,
};

// "TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER",
// "AT_TIMESTAMP".
std::string_view ShardIteratorTypeName(ShardIteratorType type);
bool ParseShardIteratorType(std::string_view name, ShardIteratorType* type);

struct ShardIteratorRequest {
  std::string stream_arn;
  // Optional; if set it must name the stream's shard.
  std::string shard_id;
  ShardIteratorType type = ShardIteratorType::kTrimHorizon;
  // For kAtSequenceNumber and kAfterSequenceNumber.
  SequenceNumber sequence_number = 0;
  // For kAtTimestamp: microseconds since the Unix epoch.
  int64_t timestamp_micros = 0;
};

// DescribeStream's answer, with the cloud's field names in the comments.
struct StreamDescription {
  std::string stream_arn;     // StreamArn
  std::string stream_label;   // StreamLabel
  std::string stream_status;  // StreamStatus: "ENABLED" or "DISABLED"
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
  int64_t creation_request_time_micros = 0;  // CreationRequestDateTime
  std::string table_name;                    // TableName
  // KeySchema: the table's key attributes for a typed table (HASH, then
  // RANGE if any); [{"key", HASH}] for a byte table.
  std::vector<KeySchemaElement> key_schema;
  // The one shard: ShardId, SequenceNumberRange.{Starting,Ending}.
  std::string shard_id;
  SequenceNumber starting_sequence = 0;
  // 0 while the stream is enabled.
  SequenceNumber ending_sequence = 0;
};

struct GetRecordsOptions {
  // At most this many records (the cloud allows 1..1000).
  size_t limit = 1000;
  // Stop once the records' SizeBytes reach this (the cloud: 1 MB). At least
  // one record is returned if any is available.
  size_t max_bytes = 1u << 20;
};

// The result of GetRecords: records as views into the log, and where to go
// on. The views stay valid as long as this object lives (it keeps the log
// segments they point into mapped), even if retention deletes the files.
class RecordBatch {
 public:
  RecordBatch();
  ~RecordBatch();
  RecordBatch(RecordBatch&&) noexcept;
  RecordBatch& operator=(RecordBatch&&) noexcept;

  const std::vector<ChangeRecord>& records() const;
  // The iterator to pass to the next GetRecords. Empty when the stream is
  // closed (disabled or its table deleted) and every record has been read:
  // there will never be more. A caught-up read of an open stream returns no
  // records and a non-empty iterator that continues from there.
  const std::string& next_shard_iterator() const;
  // The stream ARN the records belong to.
  const std::string& stream_arn() const;
  // Milliseconds between the newest returned record's commit and now; 0 when
  // no record was returned (caught up).
  int64_t millis_behind_latest() const;

  // The representation the stream readers fill in. It is complete only
  // inside the library, so an application can do nothing with it; rep()
  // creates it on first use (an empty batch allocates nothing).
  struct Rep;
  Rep* rep();

 private:
  std::unique_ptr<Rep> rep_;
};

class StreamReader {
 public:
  // Opens the streams of the DB in `dir` for reading only, from another
  // process (or this one). Takes no lock and writes nothing; the DB may be
  // open in another process, or closed.
  //
  // Crash behaviour: when the host dies in the middle of a log write, the
  // reader sees a torn write at the end of the log and treats it as a write
  // still in progress (no records from it, GetRecords returns what precedes
  // it). The next host's recovery cuts it off the file, possibly while this
  // reader has the segment mapped; the reader then sees the shorter file and
  // reads on, with the records the new host appends at the same place: it
  // never returns a record of the torn write, never skips or repeats one.
  // The cut cannot kill the process with SIGBUS: the library installs a
  // SIGBUS handler (once, on the first mapped segment) that turns a touch
  // of a cut page of its own mappings into zeros and passes every other
  // SIGBUS on to the handler it replaced. A handler installed later that
  // does not chain to the previous one defeats this.
  static Status OpenReadOnly(const std::string& dir, std::unique_ptr<StreamReader>* reader);

  StreamReader() = default;
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;
  virtual ~StreamReader() = default;

  // Streams of one table (or of all tables when `table` is empty), oldest
  // first, including disabled ones whose records may still be readable.
  virtual Status ListStreams(std::string_view table, std::vector<StreamInfo>* streams) = 0;
  // InvalidArgument (naming the expected shape) for a string that is no
  // stream ARN; NotFound if no such stream (also for an ARN of another
  // region or account).
  virtual Status DescribeStream(std::string_view stream_arn, StreamDescription* description) = 0;
  // InvalidArgument for a malformed stream ARN; NotFound for an unknown
  // stream or shard; Trimmed (naming the first
  // available sequence) if the position was removed by retention;
  // InvalidArgument for a sequence number outside the stream's range.
  virtual Status GetShardIterator(const ShardIteratorRequest& request, std::string* iterator) = 0;
  // Reads records from the iterator's position. InvalidArgument for a
  // malformed iterator; Trimmed (naming the first available sequence) if
  // retention removed the position meanwhile; Corruption naming segment and
  // offset if the log is damaged there.
  virtual Status GetRecords(std::string_view iterator, const GetRecordsOptions& options,
                            RecordBatch* batch) = 0;
  // Blocks until the log may hold records past the iterator's position
  // (something was committed after it) or the timeout passes. OK or
  // TimedOut. In-process, the commit wakes the waiter directly; read-only,
  // the log file's growth does (inotify).
  virtual Status WaitForRecords(std::string_view iterator, std::chrono::milliseconds timeout) = 0;
  // The newest committed sequence number this reader can see.
  virtual SequenceNumber LastSequence() = 0;
};

// Renders a record the way DynamoDB Streams does (eventID, eventName,
// eventVersion "1.1", eventSource "aws:dynamodb", awsRegion,
// eventSourceARN, and dynamodb{ApproximateCreationDateTime, Keys,
// NewImage, OldImage, SequenceNumber, SizeBytes, StreamViewType}).
//
// Keys and values are bytes; they become typed attributes as follows, so a
// handler written for the cloud's event shape runs unchanged:
//  * Keys = {"key": K} where K is {"S": key} if the key is valid UTF-8,
//    else {"B": base64(key)}.
//  * An image whose value is a JSON object becomes that object's attributes,
//    typed: strings "S", numbers "N" (as decimal strings), booleans "BOOL",
//    null "NULL", arrays "L", objects "M"; plus the "key" attribute (as the
//    cloud includes key attributes in images) unless the object has its own
//    "key" member.
//  * Any other value becomes {"key": K, "value": V} with V = {"S": value} if
//    it is valid UTF-8, else {"B": base64(value)}.
// Records of typed tables (ChangeRecord::typed) need no mapping: Keys holds
// the key attributes and NewImage/OldImage the items, exactly as the cloud
// renders them ({"pk":{"S":"a"},"n":{"N":"1.5"}}); SizeBytes is the cloud's
// size (runnel/item.h rules) of Keys plus the images the record carries; a
// deletion by time to live carries
// "userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}.
// `region` fills awsRegion (runnel uses the DB's region, DB::region()).
std::string RecordToJson(const ChangeRecord& record, std::string_view stream_arn,
                         std::string_view region);

// An item (key and value) as the attribute map RecordToJson uses for its
// images, e.g. {"key":{"S":"song#1"},"title":{"S":"Call Me Today"}}: what
// `runnel get-item` prints as "Item".
std::string ImageToJson(std::string_view key, std::string_view value);

}  // namespace runnel

#endif  // RUNNEL_INCLUDE_STREAM_H_
