// Copyright 2026 The runnel Authors.

#include "triggers/isolated_function.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "triggers/function_log.h"
#include "triggers/invocation.h"
#include "triggers/worker_protocol.h"
#include "util/clock.h"

extern char** environ;

#ifndef RUNNEL_INSTALL_BINDIR
#define RUNNEL_INSTALL_BINDIR "/usr/local/bin"
#endif

namespace runnel {

using worker::CallOp;
using worker::Decoder;
using worker::Encoder;
using worker::FrameType;
using worker::ReadResult;

namespace {

constexpr char kWorkerName[] = "runnel-worker";

bool IsExecutable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string ExecutableDir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

}  // namespace

Status FindWorkerExecutable(std::string* path) {
  const char* env = std::getenv("RUNNEL_WORKER");
  if (env != nullptr && *env != '\0') {
    if (IsExecutable(env)) {
      *path = env;
      return Status::OK();
    }
    return Status::NotFound(std::string("isolation: RUNNEL_WORKER=") + env +
                            " is not an executable file");
  }
  const std::string beside = ExecutableDir() + "/" + kWorkerName;
  const std::string installed = std::string(RUNNEL_INSTALL_BINDIR) + "/" + kWorkerName;
  for (const std::string& p : {beside, installed}) {
    if (IsExecutable(p)) {
      *path = p;
      return Status::OK();
    }
  }
  return Status::NotFound("isolation: the worker executable " + std::string(kWorkerName) +
                          " was not found at " + beside + " nor " + installed +
                          " (install it beside runnel, or set RUNNEL_WORKER to its path)");
}

std::string DescribeRuntimeExit(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    // Go's names, as the cloud's runtime interface prints them.
    // sigdescr_np, unlike strsignal, is thread-safe (mapping threads).
    const char* name = ::sigdescr_np(WTERMSIG(wait_status));
    std::string s = name != nullptr ? name : "signal " + std::to_string(WTERMSIG(wait_status));
    if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    return "Runtime exited with error: signal: " + s;
  }
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) != 0) {
    return "Runtime exited with error: exit status " + std::to_string(WEXITSTATUS(wait_status));
  }
  return "Runtime exited without providing a reason";
}

IsolatedFunction::IsolatedFunction(const log::FunctionEntryData& config) : config_(config) {}

IsolatedFunction::~IsolatedFunction() { Stop(); }

Status IsolatedFunction::Check(const log::FunctionEntryData& config) {
  IsolatedFunction f(config);
  // A generous bound: runnel_init may do real work, and the machine may be
  // loaded; the cloud's own init phase gets 10 s.
  return f.Start(std::chrono::steady_clock::now() + std::chrono::seconds(30));
}

Status IsolatedFunction::Start(std::chrono::steady_clock::time_point deadline) {
  std::string exe;
  Status s = FindWorkerExecutable(&exe);
  if (!s.ok()) return s;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Status::IOError(std::string("isolation: socketpair: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the copy; the worker gets only fd 3.
  posix_spawn_file_actions_adddup2(&actions, sv[1], worker::kWorkerChannelFd);
  char arg0[] = "runnel-worker";
  char arg1[] = "--channel";
  char* argv[] = {arg0, arg1, nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(sv[1]);
  if (rc != 0) {
    ::close(sv[0]);
    return Status::IOError("isolation: cannot start " + exe + ": " + std::strerror(rc));
  }
  pid_ = pid;
  fd_ = sv[0];
  Encoder e;
  e.Bytes(config_.library);
  e.Bytes(config_.handler);
  e.Bytes(config_.name);
  FrameType type;
  std::string payload;
  ReadResult r = ReadResult::kError;
  if (worker::SendFrame(fd_, e.Frame(FrameType::kLoad))) {
    r = worker::ReadFrame(fd_, deadline, &type, &payload);
  }
  Decoder d(payload);
  int32_t ok = 0;
  std::string_view message;
  if (r == ReadResult::kOk && type == FrameType::kLoaded && d.I32(&ok) && d.Bytes(&message)) {
    if (ok == 1) return Status::OK();
    Stop();
    return Status::InvalidArgument(message);
  }
  const bool timed_out = r == ReadResult::kTimeout;
  const int status = Reap(/*kill=*/true);
  if (timed_out)
    return Status::TimedOut("isolation: the worker did not load " + config_.library + " in time");
  return Status::InvalidArgument("isolation: the worker died loading " + config_.library + ": " +
                                 DescribeRuntimeExit(status));
}

int IsolatedFunction::Reap(bool kill) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  int status = 0;
  if (pid_ > 0) {
    if (kill) ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
  return status;
}

void IsolatedFunction::Stop() {
  if (pid_ <= 0) return;
  ::close(fd_);
  fd_ = -1;
  // The worker sees the channel close and runs runnel_shutdown; a worker
  // that hangs there is killed.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int status = 0;
  while (std::chrono::steady_clock::now() < give_up) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Reap(/*kill=*/true);
}

void IsolatedFunction::ReportExit(Invocation* inv) {
  // The channel closed: the worker is dying, or a plugin closed fd 3 and
  // runs on. Wait for it up to the invocation's deadline, then kill it.
  int status = 0;
  auto pause = std::chrono::microseconds(100);
  while (pid_ > 0) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      pid_ = -1;
      break;
    }
    if (std::chrono::steady_clock::now() >= inv->deadline) {
      Reap(/*kill=*/true);
      inv->timed_out = true;
      return;
    }
    // A dying worker is reaped within a few pauses; one that closed the
    // channel and runs on is polled less and less often.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10000));
  }
  Reap(/*kill=*/false);  // closes the channel
  inv->error = DescribeRuntimeExit(status);
  if (inv->log == nullptr) return;
  // The cloud's two lines for a runtime that exits during an invocation.
  inv->log->Append(NowMicros(inv->env), "RequestId: " + inv->request_id + " Error: " + inv->error);
  inv->log->Append(NowMicros(inv->env), "Runtime.ExitError");
}

namespace {

// The answer to one call: its result and, when present, its bytes.
std::string Reply(int32_t result, const char* bytes, size_t len) {
  Encoder e;
  e.I32(result);
  e.U8(bytes != nullptr ? 1 : 0);
  e.Bytes(bytes != nullptr ? std::string_view(bytes, len) : std::string_view());
  return e.Frame(FrameType::kReply);
}

// An optional argument: nullptr when absent.
bool OptionalArg(Decoder* d, std::string_view* v, bool* present) {
  uint8_t p = 0;
  if (!d->U8(&p) || !d->Bytes(v)) return false;
  *present = p != 0;
  return true;
}

const char* Ptr(std::string_view v, bool present) { return present ? v.data() : nullptr; }

// Serves the item calls (ABI 2) and get (ABI 3); false on a malformed call.
bool ServeItemCall(CallOp op, Decoder* d, runnel_context* ctx, std::string* reply) {
  const runnel_context_api* api = ctx->api;
  std::string_view table, a;
  if (!d->Bytes(&table) || !d->Bytes(&a)) return false;
  int32_t rc = 0;
  if (op == CallOp::kGet) {
    const char* value = nullptr;
    size_t len = 0;
    rc = api->get(ctx, table.data(), table.size(), a.data(), a.size(), &value, &len);
    *reply = Reply(rc, rc == RUNNEL_ITEM_OK ? value : nullptr, len);
    return true;
  }
  if (op == CallOp::kGetItem) {
    const char* item = nullptr;
    size_t len = 0;
    rc = api->get_item(ctx, table.data(), table.size(), a.data(), a.size(), &item, &len);
    *reply = Reply(rc, rc == RUNNEL_ITEM_OK ? item : nullptr, len);
    return true;
  }
  if (op == CallOp::kPutItem) {
    rc = api->put_item(ctx, table.data(), table.size(), a.data(), a.size());
  } else if (op == CallOp::kDeleteItem) {
    rc = api->delete_item(ctx, table.data(), table.size(), a.data(), a.size());
  } else if (op == CallOp::kUpdateItem) {
    std::string_view expr, names, values;
    bool has_expr, has_names, has_values;
    if (!OptionalArg(d, &expr, &has_expr) || !OptionalArg(d, &names, &has_names) ||
        !OptionalArg(d, &values, &has_values)) {
      return false;
    }
    rc = api->update_item(ctx, table.data(), table.size(), a.data(), a.size(), Ptr(expr, has_expr),
                          expr.size(), Ptr(names, has_names), names.size(), Ptr(values, has_values),
                          values.size());
  } else {
    return false;
  }
  *reply = Reply(rc, nullptr, 0);
  return true;
}

}  // namespace

bool IsolatedFunction::Serve(const std::string& payload, runnel_context* ctx) {
  const runnel_context_api* api = ctx->api;
  const runnel_batch* batch = Invocation::FromContext(ctx)->batch;
  Decoder d(payload);
  uint8_t raw = 0;
  if (!d.U8(&raw)) return false;
  const CallOp op = static_cast<CallOp>(raw);
  std::string_view a, b, c;
  std::string reply;
  size_t len = 0;
  switch (op) {
    case CallOp::kLog:
      if (!d.Bytes(&a)) return false;
      api->log(ctx, a.data(), a.size());
      return true;  // one way
    case CallOp::kReportFailedItem: {
      uint64_t seq;
      if (!d.U64(&seq)) return false;
      reply = Reply(api->report_failed_item(ctx, seq), nullptr, 0);
      break;
    }
    case CallOp::kEventJson: {
      const char* json = api->event_json(ctx, &len);
      reply = Reply(0, json, len);
      break;
    }
    case CallOp::kGetenv: {
      if (!d.Bytes(&a)) return false;
      const char* v = api->getenv(ctx, std::string(a).c_str());
      reply = Reply(0, v, v != nullptr ? std::strlen(v) : 0);
      break;
    }
    case CallOp::kPut:
      if (!d.Bytes(&a) || !d.Bytes(&b) || !d.Bytes(&c)) return false;
      reply = Reply(api->put(ctx, a.data(), a.size(), b.data(), b.size(), c.data(), c.size()),
                    nullptr, 0);
      break;
    case CallOp::kDelete:
      if (!d.Bytes(&a) || !d.Bytes(&b)) return false;
      reply = Reply(api->del(ctx, a.data(), a.size(), b.data(), b.size()), nullptr, 0);
      break;
    case CallOp::kRecordJson: {
      uint32_t index;
      int32_t part;
      if (!d.U32(&index) || !d.I32(&part) || index >= batch->count) return false;
      const char* json = api->record_json(ctx, &batch->records[index], part, &len);
      reply = Reply(0, json, len);
      break;
    }
    case CallOp::kWindow: {
      runnel_window w;
      const int rc = api->window(ctx, &w);
      Encoder we;
      if (rc == 0) {
        we.I64(w.start_micros);
        we.I64(w.end_micros);
        we.Bytes(std::string_view(w.state, w.state_len));
        we.I32(w.is_final_invoke);
        we.I32(w.is_terminated_early);
        we.Bytes(w.shard_id);
      }
      reply = Reply(rc, rc == 0 ? we.bytes().data() : nullptr, we.bytes().size());
      break;
    }
    case CallOp::kSetState:
      if (!d.Bytes(&a)) return false;
      reply = Reply(api->set_state(ctx, a.data(), a.size()), nullptr, 0);
      break;
    case CallOp::kSetResponse:
      if (!d.Bytes(&a)) return false;
      reply = Reply(api->set_response(ctx, a.data(), a.size()), nullptr, 0);
      break;
    case CallOp::kLastError: {
      const char* text = api->last_error(ctx, &len);
      reply = Reply(0, text, len);
      break;
    }
    default:
      if (!ServeItemCall(op, &d, ctx, &reply)) return false;
  }
  return worker::SendFrame(fd_, reply);
}

int IsolatedFunction::Invoke(const runnel_batch* batch, runnel_context* ctx) {
  Invocation* inv = Invocation::FromContext(ctx);
  if (pid_ <= 0) {
    Status s = Start(inv->deadline);
    if (!s.ok()) {
      if (s.IsTimedOut()) {
        inv->timed_out = true;
      } else {
        inv->error = s.ToString();
        inv->LogLine("runnel: cannot start the function's worker: " + s.ToString());
      }
      return -1;
    }
  }
  Encoder e;
  e.Bytes(inv->request_id);
  e.I64(std::chrono::duration_cast<std::chrono::milliseconds>(inv->deadline -
                                                              std::chrono::steady_clock::now())
            .count());
  worker::EncodeBatch(*batch, &e);
  if (!worker::SendFrame(fd_, e.Frame(FrameType::kInvoke))) {
    ReportExit(inv);
    return -1;
  }
  for (;;) {
    FrameType type;
    std::string payload;
    const ReadResult r = worker::ReadFrame(fd_, inv->deadline, &type, &payload);
    if (r == ReadResult::kTimeout) {
      Reap(/*kill=*/true);
      inv->timed_out = true;
      return -1;
    }
    if (r == ReadResult::kOk && type == FrameType::kDone) {
      Decoder d(payload);
      int32_t rc = -1;
      if (d.I32(&rc)) return rc;
    } else if (r == ReadResult::kOk && type == FrameType::kCall && Serve(payload, ctx)) {
      continue;
    }
    // The worker died (or garbled the channel, which only a plugin writing
    // to fd 3 can do): kill it if it lives, and report how it ended.
    if (r == ReadResult::kOk) ::kill(pid_, SIGKILL);
    ReportExit(inv);
    return -1;
  }
}

}  // namespace runnel
