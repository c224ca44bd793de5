// Copyright 2026 The runnel Authors.
//
// runnel-worker: runs one isolated function (FunctionIsolation::kProcess) for
// its host. It dlopen(3)s the plugin, then runs one invocation at a time,
// forwarding every call of the handler to the host over the channel
// (triggers/worker_protocol.h). It is started by the host, never by hand:
//
//   runnel-worker --channel   (the socket is file descriptor 3)
//
// A plugin that crashes takes only this process down; the host sees the
// socket close, reports the invocation as failed and starts a new worker.

#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "triggers/function_library.h"
#include "triggers/worker_protocol.h"

namespace runnel::worker {
namespace {

constexpr int kFd = kWorkerChannelFd;

// The state of the invocation in progress, behind the handler's context.
struct WorkerContext {
  runnel_context context;  // first: the API functions cast back to this
  const runnel_batch* batch = nullptr;
  std::string request_id;
  std::chrono::steady_clock::time_point deadline;
  // Strings handed to the handler stay valid for the whole call.
  std::deque<std::string> kept;
  std::map<std::string, const char*> env_cache;
  const char* event_json = nullptr;
  size_t event_json_len = 0;
  // The window, asked for once: 0 unknown, 1 present, 2 absent.
  int window_known = 0;
  runnel_window window = {};
};

WorkerContext* Self(runnel_context* ctx) { return reinterpret_cast<WorkerContext*>(ctx); }

[[noreturn]] void LostHost() {
  // The host is gone or spoke nonsense: nothing to report to.
  std::_Exit(70);
}

struct Answer {
  int32_t result = 0;
  bool present = false;
  std::string_view bytes;  // into kept.back() when present
};

// Sends a call and waits for the host's reply.
Answer Call(WorkerContext* w, CallOp op, const Encoder& args) {
  if (!SendFrame(kFd, args.Frame(FrameType::kCall))) LostHost();
  (void)op;
  FrameType type;
  std::string payload;
  if (ReadFrame(kFd, std::chrono::steady_clock::time_point::max(), &type, &payload) !=
          ReadResult::kOk ||
      type != FrameType::kReply) {
    LostHost();
  }
  Decoder d(payload);
  Answer a;
  uint8_t present = 0;
  std::string_view bytes;
  if (!d.I32(&a.result) || !d.U8(&present) || !d.Bytes(&bytes)) LostHost();
  a.present = present != 0;
  if (a.present) {
    w->kept.emplace_back(bytes);
    a.bytes = w->kept.back();
  }
  return a;
}

Encoder Op(CallOp op) {
  Encoder e;
  e.U8(static_cast<uint8_t>(op));
  return e;
}

void ApiLog(runnel_context*, const char* line, size_t len) {
  Encoder e = Op(CallOp::kLog);
  e.Bytes(std::string_view(line, len));
  if (!SendFrame(kFd, e.Frame(FrameType::kCall))) LostHost();
}

const char* ApiRequestId(runnel_context* ctx) { return Self(ctx)->request_id.c_str(); }

int64_t ApiRemaining(runnel_context* ctx) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Self(ctx)->deadline -
                                                               std::chrono::steady_clock::now())
      .count();
}

int ApiReportFailedItem(runnel_context* ctx, uint64_t seq) {
  Encoder e = Op(CallOp::kReportFailedItem);
  e.U64(seq);
  return Call(Self(ctx), CallOp::kReportFailedItem, e).result;
}

const char* ApiEventJson(runnel_context* ctx, size_t* len) {
  WorkerContext* w = Self(ctx);
  if (w->event_json == nullptr) {
    Answer a = Call(w, CallOp::kEventJson, Op(CallOp::kEventJson));
    w->event_json = a.present ? a.bytes.data() : "";
    w->event_json_len = a.bytes.size();
  }
  if (len != nullptr) *len = w->event_json_len;
  return w->event_json;
}

const char* ApiGetenv(runnel_context* ctx, const char* name) {
  WorkerContext* w = Self(ctx);
  if (name == nullptr) return nullptr;
  auto it = w->env_cache.find(name);
  if (it != w->env_cache.end()) return it->second;
  Encoder e = Op(CallOp::kGetenv);
  e.Bytes(name);
  Answer a = Call(w, CallOp::kGetenv, e);
  const char* value = a.present ? a.bytes.data() : nullptr;
  w->env_cache[name] = value;
  return value;
}

int ApiPut(runnel_context* ctx, const char* table, size_t table_len, const char* key,
           size_t key_len, const char* value, size_t value_len) {
  Encoder e = Op(CallOp::kPut);
  e.Bytes(std::string_view(table, table_len));
  e.Bytes(std::string_view(key, key_len));
  e.Bytes(std::string_view(value, value_len));
  return Call(Self(ctx), CallOp::kPut, e).result;
}

int ApiDelete(runnel_context* ctx, const char* table, size_t table_len, const char* key,
              size_t key_len) {
  Encoder e = Op(CallOp::kDelete);
  e.Bytes(std::string_view(table, table_len));
  e.Bytes(std::string_view(key, key_len));
  return Call(Self(ctx), CallOp::kDelete, e).result;
}

const char* ApiRecordJson(runnel_context* ctx, const runnel_record* record, int32_t part,
                          size_t* len) {
  WorkerContext* w = Self(ctx);
  const runnel_batch* b = w->batch;
  // The host knows records by their index in the batch.
  if (record < b->records || record >= b->records + b->count) return nullptr;
  Encoder e = Op(CallOp::kRecordJson);
  e.U32(static_cast<uint32_t>(record - b->records));
  e.I32(part);
  Answer a = Call(w, CallOp::kRecordJson, e);
  if (!a.present) return nullptr;
  if (len != nullptr) *len = a.bytes.size();
  return a.bytes.data();
}

int ApiGetItem(runnel_context* ctx, const char* table, size_t table_len, const char* key_json,
               size_t key_json_len, const char** item_json, size_t* item_json_len) {
  Encoder e = Op(CallOp::kGetItem);
  e.Bytes(std::string_view(table, table_len));
  e.Bytes(std::string_view(key_json, key_json_len));
  Answer a = Call(Self(ctx), CallOp::kGetItem, e);
  if (a.present) {
    if (item_json != nullptr) *item_json = a.bytes.data();
    if (item_json_len != nullptr) *item_json_len = a.bytes.size();
  }
  return a.result;
}

int ApiPutItem(runnel_context* ctx, const char* table, size_t table_len, const char* item_json,
               size_t item_json_len) {
  Encoder e = Op(CallOp::kPutItem);
  e.Bytes(std::string_view(table, table_len));
  e.Bytes(std::string_view(item_json, item_json_len));
  return Call(Self(ctx), CallOp::kPutItem, e).result;
}

int ApiDeleteItem(runnel_context* ctx, const char* table, size_t table_len, const char* key_json,
                  size_t key_json_len) {
  Encoder e = Op(CallOp::kDeleteItem);
  e.Bytes(std::string_view(table, table_len));
  e.Bytes(std::string_view(key_json, key_json_len));
  return Call(Self(ctx), CallOp::kDeleteItem, e).result;
}

// Optional strings travel as a presence byte and the bytes.
void Optional(Encoder* e, const char* s, size_t len) {
  e->U8(s != nullptr ? 1 : 0);
  e->Bytes(s != nullptr ? std::string_view(s, len) : std::string_view());
}

int ApiUpdateItem(runnel_context* ctx, const char* table, size_t table_len, const char* key_json,
                  size_t key_json_len, const char* update_expression, size_t update_expression_len,
                  const char* names_json, size_t names_json_len, const char* values_json,
                  size_t values_json_len) {
  Encoder e = Op(CallOp::kUpdateItem);
  e.Bytes(std::string_view(table, table_len));
  e.Bytes(std::string_view(key_json, key_json_len));
  Optional(&e, update_expression, update_expression_len);
  Optional(&e, names_json, names_json_len);
  Optional(&e, values_json, values_json_len);
  return Call(Self(ctx), CallOp::kUpdateItem, e).result;
}

int ApiGet(runnel_context* ctx, const char* table, size_t table_len, const char* key,
           size_t key_len, const char** value, size_t* value_len) {
  Encoder e = Op(CallOp::kGet);
  e.Bytes(std::string_view(table, table_len));
  e.Bytes(std::string_view(key, key_len));
  Answer a = Call(Self(ctx), CallOp::kGet, e);
  if (a.present) {
    if (value != nullptr) *value = a.bytes.data();
    if (value_len != nullptr) *value_len = a.bytes.size();
  }
  return a.result;
}

const char* ApiLastError(runnel_context* ctx, size_t* len) {
  Answer a = Call(Self(ctx), CallOp::kLastError, Op(CallOp::kLastError));
  if (len != nullptr) *len = a.bytes.size();
  return a.present ? a.bytes.data() : "";
}

int ApiWindow(runnel_context* ctx, runnel_window* window) {
  WorkerContext* w = Self(ctx);
  if (w->window_known == 0) {
    Answer a = Call(w, CallOp::kWindow, Op(CallOp::kWindow));
    w->window_known = 2;
    if (a.result == 0 && a.present) {
      Decoder d(a.bytes);
      std::string_view state, shard;
      runnel_window& win = w->window;
      if (!d.I64(&win.start_micros) || !d.I64(&win.end_micros) || !d.Bytes(&state) ||
          !d.I32(&win.is_final_invoke) || !d.I32(&win.is_terminated_early) || !d.Bytes(&shard)) {
        LostHost();
      }
      // Kept as strings of their own: the handler gets them NUL-terminated.
      w->kept.emplace_back(state);
      win.state = w->kept.back().c_str();
      win.state_len = state.size();
      w->kept.emplace_back(shard);
      win.shard_id = w->kept.back().c_str();
      w->window_known = 1;
    }
  }
  if (w->window_known != 1 || window == nullptr) return 1;
  *window = w->window;
  return 0;
}

int ApiSetState(runnel_context* ctx, const char* state_json, size_t len) {
  Encoder e = Op(CallOp::kSetState);
  e.Bytes(state_json != nullptr ? std::string_view(state_json, len) : std::string_view());
  return Call(Self(ctx), CallOp::kSetState, e).result;
}

int ApiSetResponse(runnel_context* ctx, const char* response_json, size_t len) {
  Encoder e = Op(CallOp::kSetResponse);
  e.Bytes(response_json != nullptr ? std::string_view(response_json, len) : std::string_view());
  return Call(Self(ctx), CallOp::kSetResponse, e).result;
}

const runnel_context_api kApi = {
    RUNNEL_FUNCTION_ABI_VERSION,
    ApiLog,
    ApiRequestId,
    ApiRemaining,
    ApiReportFailedItem,
    ApiEventJson,
    ApiGetenv,
    ApiPut,
    ApiDelete,
    ApiRecordJson,
    ApiGetItem,
    ApiPutItem,
    ApiDeleteItem,
    ApiUpdateItem,
    ApiLastError,
    ApiGet,
    ApiWindow,
    ApiSetState,
    ApiSetResponse,
};

// kLoad: loads the plugin and answers kLoaded.
std::shared_ptr<FunctionLibrary> Load(const std::string& payload) {
  Decoder d(payload);
  std::string_view path, handler, name;
  if (!d.Bytes(&path) || !d.Bytes(&handler) || !d.Bytes(&name)) LostHost();
  std::shared_ptr<FunctionLibrary> lib;
  Status s =
      FunctionLibrary::Load(std::string(path), std::string(handler), std::string(name), &lib);
  Encoder e;
  e.I32(s.ok() ? 1 : 0);
  e.Bytes(s.ok() ? "" : s.message());
  if (!SendFrame(kFd, e.Frame(FrameType::kLoaded))) LostHost();
  return s.ok() ? lib : nullptr;
}

// kInvoke: runs the handler once and answers kDone.
void Invoke(const FunctionLibrary& lib, const std::string& payload) {
  Decoder d(payload);
  std::string_view request_id;
  int64_t remaining_ms = 0;
  DecodedBatch batch;
  if (!d.Bytes(&request_id) || !d.I64(&remaining_ms) || !DecodeBatch(&d, &batch)) LostHost();
  WorkerContext w;
  w.context.api = &kApi;
  w.batch = &batch.batch;
  w.request_id.assign(request_id);
  w.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(remaining_ms);
  const int rc = lib.handler()(&batch.batch, &w.context);
  Encoder e;
  e.I32(rc);
  if (!SendFrame(kFd, e.Frame(FrameType::kDone))) LostHost();
}

int Main() {
  // Die with the host: a worker never outlives the process it serves.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::shared_ptr<FunctionLibrary> lib;
  for (;;) {
    FrameType type;
    std::string payload;
    const ReadResult r =
        ReadFrame(kFd, std::chrono::steady_clock::time_point::max(), &type, &payload);
    if (r == ReadResult::kEof) break;  // the host is done with us
    if (r != ReadResult::kOk) LostHost();
    if (type == FrameType::kLoad && lib == nullptr) {
      lib = Load(payload);
      if (lib == nullptr) return 0;
    } else if (type == FrameType::kInvoke && lib != nullptr) {
      Invoke(*lib, payload);
    } else {
      LostHost();
    }
  }
  lib.reset();  // runnel_shutdown, then dlclose
  return 0;
}

}  // namespace
}  // namespace runnel::worker

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "--channel") != 0) {
    std::fprintf(stderr,
                 "runnel-worker runs isolated functions for runnel; it is started by runnel, "
                 "not by hand\n");
    return 2;
  }
  return runnel::worker::Main();
}
