// Copyright 2026 The runnel Authors.
//
// IsolatedFunction: the host's side of a function that runs in a
// `runnel-worker` process (FunctionIsolation::kProcess).
//
// Invoke sends the batch to the worker and serves the handler's calls with
// the real services of the invocation's context (so write-backs, item reads
// and logs behave exactly as in-process, and write-backs are collected in
// the host's Invocation, committed only if the invocation succeeds). When
// the worker dies during the call (a signal, abort(), exit()) the invocation
// fails with the cloud's Runtime.ExitError in the function's log; when the
// invocation's deadline passes the worker is killed with SIGKILL and the
// invocation is marked timed out. Either way the worker is started again,
// lazily, for the next invocation.
//
// Thread safety: one invocation at a time (a mapping's thread, or one
// Invoke); not safe for concurrent use. The destructor stops the worker
// (runnel_shutdown runs in it, bounded by a grace period, then SIGKILL).

#ifndef RUNNEL_TRIGGERS_ISOLATED_FUNCTION_H_
#define RUNNEL_TRIGGERS_ISOLATED_FUNCTION_H_

#include <sys/types.h>

#include <chrono>
#include <string>

#include "cdc/codec.h"
#include "runnel/function.h"
#include "runnel/status.h"

namespace runnel {

struct Invocation;

class IsolatedFunction {
 public:
  explicit IsolatedFunction(const log::FunctionEntryData& config);
  ~IsolatedFunction();
  IsolatedFunction(const IsolatedFunction&) = delete;
  IsolatedFunction& operator=(const IsolatedFunction&) = delete;

  // Starts a worker that loads the library (ABI, symbol, runnel_init) and
  // stops it again: the load errors of FunctionLibrary::Load, or the crash
  // of the worker while loading, or that runnel-worker cannot be found.
  static Status Check(const log::FunctionEntryData& config);

  // Runs the handler on `batch` in the worker; `ctx` must be an
  // Invocation's context (the handler's calls are served with it). Returns
  // the handler's result, or -1 when the worker crashed, timed out (then
  // inv->timed_out is set) or could not be started (logged).
  int Invoke(const runnel_batch* batch, runnel_context* ctx);

  // The worker's process id, or -1 when none runs (for tests).
  pid_t pid() const { return pid_; }

 private:
  // Spawns the worker and loads the library, until `deadline`.
  Status Start(std::chrono::steady_clock::time_point deadline);
  // Kills (if asked) and reaps the worker; its wait status.
  int Reap(bool kill);
  // Closes the channel and waits a grace period for the worker to exit.
  void Stop();
  // Serves one kCall of the handler; false if the worker spoke nonsense.
  bool Serve(const std::string& payload, runnel_context* ctx);
  // Reaps a dead worker and logs the runtime exit.
  void ReportExit(Invocation* inv);

  const log::FunctionEntryData config_;
  pid_t pid_ = -1;
  int fd_ = -1;
};

// The worker executable: $RUNNEL_WORKER, else runnel-worker beside the
// running executable, else in the install's bin directory; NotFound naming
// the places looked at.
Status FindWorkerExecutable(std::string* path);

// How the cloud describes a runtime's exit: "Runtime exited with error:
// signal: segmentation fault", "... exit status 3", or "Runtime exited
// without providing a reason" (exit status 0).
std::string DescribeRuntimeExit(int wait_status);

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_ISOLATED_FUNCTION_H_
