// Copyright 2026 The runnel Authors.
//
// Status: the result of every fallible runnel call.
//
// A Status is either OK or carries a code and a message. No exception ever
// crosses runnel's public API: errors from LevelDB, Cap'n Proto (whose decoders
// throw) and the operating system are translated into a Status at the module
// boundary.
//
// Thread safety: a Status is a value; distinct objects may be used from
// distinct threads without synchronization.

#ifndef RUNNEL_INCLUDE_STATUS_H_
#define RUNNEL_INCLUDE_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace runnel {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    // The named item, table or object does not exist.
    kNotFound = 1,
    // Bytes on disk failed a checksum or could not be decoded.
    kCorruption = 2,
    // The feature is not supported (e.g. a log frame of an unknown, required
    // type written by a newer version).
    kNotSupported = 3,
    // A caller-supplied argument violated a documented limit. The message
    // names the argument and the limit. Nothing was written.
    kInvalidArgument = 4,
    // The operating system reported an I/O failure.
    kIOError = 5,
    // The object is in use (a locked DB directory, an existing table).
    kBusy = 6,
    // The requested log position was removed by retention. The message names
    // the first sequence number that is still available.
    kTrimmed = 7,
    // The operation is not valid in the current state (closed DB, a write
    // after a sticky I/O error, enabling an already enabled stream).
    kFailedPrecondition = 8,
    // A wait ended because its deadline passed.
    kTimedOut = 9,
    // A typed write's ConditionExpression was false (the cloud's
    // ConditionalCheckFailedException). Nothing was written.
    kConditionalCheckFailed = 10,
    // TransactWriteItems wrote nothing; the result names the reason of each
    // action (the cloud's TransactionCanceledException).
    kTransactionCanceled = 11,
  };

  // Creates an OK status.
  Status() noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return {Code::kNotFound, msg}; }
  static Status Corruption(std::string_view msg) { return {Code::kCorruption, msg}; }
  static Status NotSupported(std::string_view msg) { return {Code::kNotSupported, msg}; }
  static Status InvalidArgument(std::string_view msg) { return {Code::kInvalidArgument, msg}; }
  static Status IOError(std::string_view msg) { return {Code::kIOError, msg}; }
  static Status Busy(std::string_view msg) { return {Code::kBusy, msg}; }
  static Status Trimmed(std::string_view msg) { return {Code::kTrimmed, msg}; }
  static Status FailedPrecondition(std::string_view msg) {
    return {Code::kFailedPrecondition, msg};
  }
  static Status TimedOut(std::string_view msg) { return {Code::kTimedOut, msg}; }
  static Status ConditionalCheckFailed(std::string_view msg) {
    return {Code::kConditionalCheckFailed, msg};
  }
  static Status TransactionCanceled(std::string_view msg) {
    return {Code::kTransactionCanceled, msg};
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsTrimmed() const { return code_ == Code::kTrimmed; }
  bool IsFailedPrecondition() const { return code_ == Code::kFailedPrecondition; }
  bool IsTimedOut() const { return code_ == Code::kTimedOut; }
  bool IsConditionalCheckFailed() const { return code_ == Code::kConditionalCheckFailed; }
  bool IsTransactionCanceled() const { return code_ == Code::kTransactionCanceled; }

  Code code() const { return code_; }
  // The message without the code name; empty for OK.
  const std::string& message() const { return message_; }
  // "OK", or "<Code name>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>". OK stays OK.
  Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string_view msg) : code_(code), message_(msg) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace runnel

#endif  // RUNNEL_INCLUDE_STATUS_H_
