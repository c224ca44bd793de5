// Copyright 2026 The runnel Authors.
//
// FunctionLog: a function's log files (CloudWatch Logs' role), in
// DIR/logs/<function>/: "current.log", rotated to "1.log" (newest) ... at a
// size limit. Every line starts with its UTC time (ISO-8601, microseconds);
// per invocation the runtime writes
//
//   <time> START RequestId: <id> Version: $LATEST
//   <time> <id> <one line the function logged>
//   <time> END RequestId: <id>
//   <time> REPORT RequestId: <id> Duration: <ms> ms Records: <n>
//
// Thread safety: Append and Read may be called concurrently.

#ifndef RUNNEL_TRIGGERS_FUNCTION_LOG_H_
#define RUNNEL_TRIGGERS_FUNCTION_LOG_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/status.h"
#include "runnel/triggers.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace runnel {

class FunctionLog {
 public:
  // `dir` is the function's log directory (created if missing).
  FunctionLog(std::string dir, uint64_t rotate_bytes = 8u << 20, int keep_files = 4);
  ~FunctionLog();

  // Appends one line (newlines inside `text` are replaced by spaces, so one
  // call is one line). Errors are reported once to stderr, never thrown: a
  // full disk must not fail the invocation that logs.
  void Append(int64_t time_micros, std::string_view text);
  // Hands buffered lines to the file (visible to other processes).
  void Flush();
  // Flush() if lines are waiting and the last flush was >= 100 ms ago.
  void FlushIfDue();
  // Lines at or after since_micros, oldest first.
  Status Read(int64_t since_micros, std::vector<FunctionLogLine>* lines);

 private:
  void RotateLocked() REQUIRES(mu_);
  void FlushLocked() REQUIRES(mu_);

  const std::string dir_;
  const uint64_t rotate_bytes_;
  const int keep_files_;
  Mutex mu_;
  FILE* file_ GUARDED_BY(mu_) = nullptr;
  uint64_t size_ GUARDED_BY(mu_) = 0;
  bool reported_error_ GUARDED_BY(mu_) = false;
  bool dirty_ GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point last_flush_ GUARDED_BY(mu_);
};

// Removes the function log files of the DB in `db_dir` (DIR/logs/<function>/
// current.log and N.log) and then the directories, if nothing else is left in
// them. OK if there are none; otherwise the first error.
Status RemoveFunctionLogs(const std::string& db_dir);

// A FunctionName: 1-64 characters of [A-Za-z0-9_-].
bool IsValidFunctionName(std::string_view name);

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_FUNCTION_LOG_H_
