// Copyright 2026 The runnel Authors.
//
// The protocol between the host and a `runnel-worker` process (isolated
// functions, FunctionIsolation::kProcess), over one AF_UNIX stream socket
// that the worker has as file descriptor kWorkerChannelFd.
//
// A frame is a little-endian u32 length, then that many bytes: a u8 type and
// the payload. Payload fields are u8, u32, i32, u64, i64 (little-endian) and
// byte strings (u32 length, then the bytes). Both sides are the same build
// (the worker is installed beside the host); there is no version exchange.
//
//   host -> worker   kLoad    library, handler symbol, function name
//   worker -> host   kLoaded  i32 ok (1/0), error message
//   host -> worker   kInvoke  request id, remaining ms, batch (EncodeBatch)
//   worker -> host   kCall    u8 CallOp, its arguments     (0..n times)
//   host -> worker   kReply   i32 result, u8 present, bytes (for each kCall
//                                                            but kLog)
//   worker -> host   kDone    i32 the handler's result
//
// Closing the socket asks the worker to call runnel_shutdown and exit. The
// host trusts nothing it reads: every decode is bounds-checked.

#ifndef RUNNEL_TRIGGERS_WORKER_PROTOCOL_H_
#define RUNNEL_TRIGGERS_WORKER_PROTOCOL_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/function.h"

namespace runnel::worker {

inline constexpr int kWorkerChannelFd = 3;
// A frame larger than this is a protocol error (a batch is at most 10000
// records of at most 400 KB images each, well below).
inline constexpr uint32_t kMaxFrameBytes = 1u << 30;

enum class FrameType : uint8_t {
  kLoad = 1,
  kLoaded = 2,
  kInvoke = 3,
  kCall = 4,
  kReply = 5,
  kDone = 6,
};

// The runnel_context_api calls the worker forwards (request_id and
// remaining_time_ms are answered in the worker).
enum class CallOp : uint8_t {
  kLog = 1,  // one way: no reply
  kReportFailedItem = 2,
  kEventJson = 3,
  kGetenv = 4,
  kPut = 5,
  kDelete = 6,
  kRecordJson = 7,
  kGetItem = 8,
  kPutItem = 9,
  kDeleteItem = 10,
  kUpdateItem = 11,
  kLastError = 12,
  kGet = 13,  // ABI 3: table, key; the reply carries the value
  // ABI 3: tumbling windows. kWindow's reply bytes are the window (i64
  // start, i64 end, bytes state, i32 final, i32 terminated early, bytes
  // shard id) when its result is 0.
  kWindow = 14,
  kSetState = 15,
  kSetResponse = 16,
};

class Encoder {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v);
  void I32(int32_t v) { U32(static_cast<uint32_t>(v)); }
  void U64(uint64_t v);
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void Bytes(std::string_view b);
  // A frame of `type` around what was encoded so far.
  std::string Frame(FrameType type) const;
  // What was encoded so far, without a frame.
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  // Each returns false (and leaves *v alone) when the input is too short.
  bool U8(uint8_t* v);
  bool U32(uint32_t* v);
  bool I32(int32_t* v);
  bool U64(uint64_t* v);
  bool I64(int64_t* v);
  // A view into the input: valid as long as the input is.
  bool Bytes(std::string_view* v);
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

// The batch's records and ids, by value.
void EncodeBatch(const runnel_batch& batch, Encoder* e);

// A batch decoded from a frame: its records point into `frame`, which must
// outlive it.
struct DecodedBatch {
  std::vector<runnel_record> records;
  std::string event_source_arn;
  std::string mapping_uuid;
  runnel_batch batch = {};
};
bool DecodeBatch(Decoder* d, DecodedBatch* out);

// Blocking I/O on the channel. SendFrame never raises SIGPIPE (a dead peer
// is an error). ReadFrame waits until `deadline` (time_point::max(): for
// ever) for a whole frame; *type and *payload are set on kOk.
enum class ReadResult { kOk, kEof, kTimeout, kError };
bool SendFrame(int fd, const std::string& frame);
ReadResult ReadFrame(int fd, std::chrono::steady_clock::time_point deadline, FrameType* type,
                     std::string* payload);

}  // namespace runnel::worker

#endif  // RUNNEL_TRIGGERS_WORKER_PROTOCOL_H_
