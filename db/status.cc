// Copyright 2026 The runnel Authors.

#include "runnel/status.h"

namespace runnel {

static const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotFound:
      return "NotFound";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kNotSupported:
      return "NotSupported";
    case Status::Code::kInvalidArgument:
      return "InvalidArgument";
    case Status::Code::kIOError:
      return "IOError";
    case Status::Code::kBusy:
      return "Busy";
    case Status::Code::kTrimmed:
      return "Trimmed";
    case Status::Code::kFailedPrecondition:
      return "FailedPrecondition";
    case Status::Code::kTimedOut:
      return "TimedOut";
    case Status::Code::kConditionalCheckFailed:
      return "ConditionalCheckFailed";
    case Status::Code::kTransactionCanceled:
      return "TransactionCanceled";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Status(code_, msg);
}

}  // namespace runnel
