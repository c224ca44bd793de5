// Copyright 2026 The runnel Authors.

#include "triggers/invocation.h"

#include <leveldb/env.h>

#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

#include "cdc/catalog.h"
#include "db/db_internal.h"
#include "runnel/db.h"
#include "triggers/event_json.h"
#include "triggers/function_log.h"
#include "util/clock.h"
#include "util/numbers.h"
#include "util/random.h"

namespace runnel {
namespace {

Invocation* Self(runnel_context* ctx) { return reinterpret_cast<Invocation*>(ctx); }

void ApiLog(runnel_context* ctx, const char* line, size_t len) {
  Self(ctx)->LogLine(std::string_view(line, len));
}

const char* ApiRequestId(runnel_context* ctx) { return Self(ctx)->request_id.c_str(); }

int64_t ApiRemaining(runnel_context* ctx) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Self(ctx)->deadline -
                                                               std::chrono::steady_clock::now())
      .count();
}

int ApiReportFailedItem(runnel_context* ctx, uint64_t seq) {
  Invocation* inv = Self(ctx);
  for (size_t i = 0; i < inv->batch->count; ++i) {
    if (inv->batch->records[i].sequence_number == seq) {
      inv->failed_items.push_back(seq);
      return 0;
    }
  }
  // The cloud treats an unknown itemIdentifier as a failure of the whole
  // batch.
  inv->bad_failed_item = true;
  inv->LogLine("runnel: report_failed_item(" + std::to_string(seq) +
               ") names no record of this batch; the whole batch fails");
  return 1;
}

const char* ApiEventJson(runnel_context* ctx, size_t* len) {
  Invocation* inv = Self(ctx);
  if (!inv->event_json_rendered) {
    inv->event_json = BatchToEventJson(*inv->batch, inv->region, inv->changes,
                                       inv->has_window ? &inv->window : nullptr);
    inv->event_json_rendered = true;
  }
  if (len != nullptr) *len = inv->event_json.size();
  return inv->event_json.c_str();
}

const char* ApiGetenv(runnel_context* ctx, const char* name) {
  Invocation* inv = Self(ctx);
  if (inv->function == nullptr || name == nullptr) return nullptr;
  for (const auto& [k, v] : inv->function->environment) {
    if (k == name) return v.c_str();
  }
  return nullptr;
}

// Validated now, so the handler hears about a bad write at the call.
int CheckWrite(Invocation* inv, std::string_view table, std::string_view key,
               std::string_view value) {
  Status s = ValidateTableName(table);
  if (s.ok() && inv->db != nullptr) {
    // A byte write to a typed table would fail the whole commit later.
    const log::TableEntryData* t = inv->db->CurrentCatalog()->FindLive(table);
    if (t != nullptr && t->typed()) {
      s = Status::InvalidArgument("table '" + std::string(table) +
                                  "' is a typed table: write it with put_item, update_item and "
                                  "delete_item");
    }
  }
  if (s.ok() && (key.size() < kMinKeyBytes || key.size() > kMaxKeyBytes)) {
    s = Status::InvalidArgument("key: must be 1 to 4096 bytes, got " + std::to_string(key.size()));
  }
  if (s.ok() && value.size() > kMaxValueBytes) {
    s = Status::InvalidArgument("value: must be at most 16777216 bytes");
  }
  if (!s.ok()) {
    inv->bad_write = true;
    inv->LogLine("runnel: write rejected: " + s.ToString());
    return 1;
  }
  return 0;
}

int ApiPut(runnel_context* ctx, const char* table, size_t table_len, const char* key,
           size_t key_len, const char* value, size_t value_len) {
  Invocation* inv = Self(ctx);
  const std::string_view t(table, table_len), k(key, key_len), v(value, value_len);
  if (CheckWrite(inv, t, k, v) != 0) return 1;
  inv->writes.Put(t, k, v);
  inv->items.NoteByteWrite(t, k, v);
  return 0;
}

int ApiDelete(runnel_context* ctx, const char* table, size_t table_len, const char* key,
              size_t key_len) {
  Invocation* inv = Self(ctx);
  const std::string_view t(table, table_len), k(key, key_len);
  if (CheckWrite(inv, t, k, {}) != 0) return 1;
  inv->writes.Delete(t, k);
  inv->items.NoteByteWrite(t, k, std::nullopt);
  return 0;
}

int ApiWindow(runnel_context* ctx, runnel_window* window) {
  Invocation* inv = Self(ctx);
  if (!inv->has_window || window == nullptr) return 1;
  *window = inv->window;
  return 0;
}

int StateRejected(Invocation* inv, const std::string& why) {
  inv->bad_state = true;
  inv->LogLine("runnel: state rejected: " + why + "; the invocation fails");
  return 1;
}

// Keeps `state` (parsed) as the invocation's returned state.
int KeepState(Invocation* inv, const nlohmann::json& state) {
  if (!state.is_object()) {
    return StateRejected(inv, std::string("expected a JSON object, got ") + state.type_name());
  }
  inv->new_state = state.dump();
  inv->state_set = true;
  return 0;
}

int ApiSetState(runnel_context* ctx, const char* state_json, size_t len) {
  Invocation* inv = Self(ctx);
  if (!inv->has_window) {
    return StateRejected(inv, "the event source mapping has no tumbling window");
  }
  if (state_json == nullptr) return StateRejected(inv, "no state given");
  nlohmann::json j = nlohmann::json::parse(state_json, state_json + len, nullptr, false);
  if (j.is_discarded()) return StateRejected(inv, "not valid JSON");
  return KeepState(inv, j);
}

int ApiSetResponse(runnel_context* ctx, const char* response_json, size_t len) {
  Invocation* inv = Self(ctx);
  if (response_json == nullptr) return StateRejected(inv, "no response given");
  nlohmann::json j = nlohmann::json::parse(response_json, response_json + len, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return StateRejected(inv, "the response is not a JSON object");
  }
  if (j.contains("state") && !j["state"].is_null()) {
    if (!inv->has_window) {
      return StateRejected(inv, "the event source mapping has no tumbling window");
    }
    if (KeepState(inv, j["state"]) != 0) return 1;
  }
  if (!j.contains("batchItemFailures") || j["batchItemFailures"].is_null()) return 0;
  if (!j["batchItemFailures"].is_array()) {
    return StateRejected(inv, "batchItemFailures: expected a list");
  }
  for (const auto& f : j["batchItemFailures"]) {
    // The cloud fails the whole batch for an itemIdentifier that is not one
    // of its sequence numbers.
    uint64_t seq = 0;
    const bool ok = f.is_object() && f.contains("itemIdentifier") &&
                    f["itemIdentifier"].is_string() &&
                    ParseUint64(f["itemIdentifier"].get<std::string>(), &seq);
    if (!ok) {
      inv->bad_failed_item = true;
      inv->LogLine("runnel: batchItemFailures: " + f.dump() +
                   " has no itemIdentifier naming a sequence number; the whole batch fails");
      return 1;
    }
    if (ApiReportFailedItem(ctx, seq) != 0) return 1;
  }
  return 0;
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
    ItemCalls::RecordJson,
    ItemCalls::GetItem,
    ItemCalls::PutItem,
    ItemCalls::DeleteItem,
    ItemCalls::UpdateItem,
    ItemCalls::LastError,
    ItemCalls::Get,
    ApiWindow,
    ApiSetState,
    ApiSetResponse,
};

}  // namespace

Invocation::Invocation() : request_id(NewUuid()), env(leveldb::Env::Default()) {
  context.api = &kApi;
}

void Invocation::SetWindow(int64_t start_micros, int64_t end_micros, bool is_final,
                           bool terminated_early) {
  has_window = true;
  window.start_micros = start_micros;
  window.end_micros = end_micros;
  window.state = window_state.c_str();
  window.state_len = window_state.size();
  window.is_final_invoke = is_final ? 1 : 0;
  window.is_terminated_early = terminated_early ? 1 : 0;
  window.shard_id = shard_id.c_str();
}

void Invocation::LogLine(std::string_view text) {
  if (log == nullptr) return;
  std::string line = request_id;
  line.push_back(' ');
  line.append(text);
  log->Append(NowMicros(env), line);
}

int Invocation::Run(const std::function<int(const runnel_batch*, runnel_context*)>& handler) {
  try {
    return handler(batch, &context);
  } catch (const std::exception& e) {
    error = std::string("handler threw: ") + e.what();
  } catch (...) {
    error = "handler threw a non-standard exception";
  }
  LogLine(error);
  return -1;
}

}  // namespace runnel
