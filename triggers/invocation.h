// Copyright 2026 The runnel Authors.
//
// Invocation: one call of a handler, and the runnel_context it sees.

#ifndef RUNNEL_TRIGGERS_INVOCATION_H_
#define RUNNEL_TRIGGERS_INVOCATION_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cdc/codec.h"
#include "runnel/change.h"
#include "runnel/function.h"
#include "runnel/write_batch.h"
#include "triggers/item_calls.h"

namespace leveldb {
class Env;
}

namespace runnel {

class DBInternal;
class FunctionLog;

struct Invocation {
  // Must stay the first member: handlers get &context, and the API
  // functions cast it back.
  runnel_context context;

  std::string request_id;
  // The clock of the function log's lines (the DB's Env; Env::Default() until
  // the caller sets it). Never null.
  leveldb::Env* env;
  std::chrono::steady_clock::time_point deadline;
  const log::FunctionEntryData* function = nullptr;
  FunctionLog* log = nullptr;
  const runnel_batch* batch = nullptr;
  std::string region;
  bool report_batch_item_failures = false;
  // The DB the handler reads items from and whose catalog checks its writes;
  // null: item calls fail and writes are checked without it.
  DBInternal* db = nullptr;
  // The change records behind batch->records (same order), which typed
  // records need for their JSON (the ABI record lacks the key attribute
  // names); null: records are rendered from the ABI records.
  const ChangeRecord* changes = nullptr;

  // The tumbling window (has_window: the mapping has one). window.state and
  // window.shard_id point into window_state and shard_id.
  bool has_window = false;
  runnel_window window = {};
  std::string window_state;
  std::string shard_id;
  // The plugin's ABI version (0: not a plugin), to say why a version-2
  // plugin cannot serve a windowed mapping.
  uint32_t plugin_abi = 0;

  // Results.
  std::string event_json;
  bool event_json_rendered = false;
  std::vector<uint64_t> failed_items;
  bool bad_failed_item = false;
  WriteBatch writes;
  bool bad_write = false;
  // Typed write-backs in call order, the overlay they form, and the item
  // calls' state (item_calls.h).
  ItemCalls items;
  std::string error;  // what made the invocation fail, if it did
  // Set when the function's timeout ended the invocation (an isolated
  // function's worker was killed); the invocation then failed.
  bool timed_out = false;
  // The state the handler returned (set_state), as compact JSON.
  bool state_set = false;
  std::string new_state;
  // set_state or set_response got something malformed: the invocation fails.
  bool bad_state = false;

  // Points window.state and window.shard_id at window_state and shard_id.
  void SetWindow(int64_t start_micros, int64_t end_micros, bool is_final, bool terminated_early);

  Invocation();
  // The invocation behind a context that Invocation handed out.
  static Invocation* FromContext(runnel_context* ctx) { return reinterpret_cast<Invocation*>(ctx); }
  // Calls the handler (catching C++ exceptions of in-process handlers) and
  // returns its result; non-zero also when it threw.
  int Run(const std::function<int(const runnel_batch*, runnel_context*)>& handler);
  void LogLine(std::string_view text);
};

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_INVOCATION_H_
