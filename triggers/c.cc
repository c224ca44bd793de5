// Copyright 2026 The runnel Authors.
//
// The C API (runnel/c.h), trigger half: open and destroy (DB::Open and
// DestroyDB attach the runtime, so they live in triggers/), functions, event
// source mappings, function logs and the runtime. It reaches the DB only
// through the handles db/c_internal.h defines and the public API.

#include "runnel/c.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "db/c_internal.h"
#include "runnel/db.h"
#include "runnel/triggers.h"

using runnel::Status;
using runnel::c_api::CopyBytes;
using runnel::c_api::Out;
using runnel::c_api::SaveError;
using runnel::c_api::View;

struct runnel_functionconfig_t {
  runnel::FunctionConfiguration rep;
};
struct runnel_functions_t {
  std::vector<runnel_functionconfig_t> rep;
};
struct runnel_functionlog_t {
  std::vector<runnel::FunctionLogLine> rep;
};
struct runnel_mappingconfig_t {
  runnel::EventSourceMappingConfiguration rep;
};
struct runnel_mappings_t {
  std::vector<runnel_mappingconfig_t> rep;
  std::string next_marker;
};

namespace {

runnel::Triggers* T(runnel_t* db) { return db->rep->triggers(); }

}  // namespace

extern "C" {

// --- Open and destroy.

runnel_t* runnel_open(const runnel_options_t* options, const char* dir, char** errptr) {
  static const runnel_options_t kDefaults;
  if (options == nullptr) options = &kDefaults;
  if (options->rep.recovery_mode > runnel::WALRecoveryMode::kSkipAnyCorruptedRecords) {
    SaveError(errptr, Status::InvalidArgument("recovery_mode must be 0, 1 or 2"));
    return nullptr;
  }
  std::unique_ptr<runnel::DB> db;
  if (SaveError(errptr, runnel::DB::Open(options->rep, dir, &db))) return nullptr;
  return new runnel_t{std::move(db)};
}

void runnel_destroy_db(const runnel_options_t* options, const char* dir, char** errptr) {
  static const runnel_options_t kDefaults;
  if (options == nullptr) options = &kDefaults;
  SaveError(errptr, runnel::DestroyDB(dir, options->rep));
}

// --- Function configurations.

runnel_functionconfig_t* runnel_functionconfig_create(void) { return new runnel_functionconfig_t; }
void runnel_functionconfig_destroy(runnel_functionconfig_t* fn) { delete fn; }
void runnel_functionconfig_set_name(runnel_functionconfig_t* fn, const char* name, size_t len) {
  fn->rep.function_name.assign(View(name, len));
}
void runnel_functionconfig_set_library(runnel_functionconfig_t* fn, const char* path) {
  fn->rep.library = path;
}
void runnel_functionconfig_set_handler(runnel_functionconfig_t* fn, const char* symbol) {
  fn->rep.handler = symbol;
}
void runnel_functionconfig_set_timeout_seconds(runnel_functionconfig_t* fn, uint32_t seconds) {
  fn->rep.timeout_seconds = seconds;
}
void runnel_functionconfig_set_description(runnel_functionconfig_t* fn, const char* text,
                                           size_t len) {
  fn->rep.description.assign(View(text, len));
}
void runnel_functionconfig_set_environment(runnel_functionconfig_t* fn, const char* name,
                                           size_t name_len, const char* value, size_t value_len) {
  fn->rep.environment[std::string(View(name, name_len))] = std::string(View(value, value_len));
}
void runnel_functionconfig_set_isolation(runnel_functionconfig_t* fn, int isolation) {
  fn->rep.isolation = static_cast<runnel::FunctionIsolation>(isolation);
}
int runnel_functionconfig_isolation(const runnel_functionconfig_t* fn) {
  return static_cast<int>(fn->rep.isolation);
}
const char* runnel_functionconfig_name(const runnel_functionconfig_t* fn, size_t* len) {
  return Out(fn->rep.function_name, len);
}
const char* runnel_functionconfig_library(const runnel_functionconfig_t* fn) {
  return fn->rep.library.c_str();
}
const char* runnel_functionconfig_handler(const runnel_functionconfig_t* fn) {
  return fn->rep.handler.c_str();
}
uint32_t runnel_functionconfig_timeout_seconds(const runnel_functionconfig_t* fn) {
  return fn->rep.timeout_seconds;
}
const char* runnel_functionconfig_arn(const runnel_functionconfig_t* fn, size_t* len) {
  return Out(fn->rep.function_arn, len);
}
const char* runnel_functionconfig_code_hash(const runnel_functionconfig_t* fn, size_t* len) {
  return Out(fn->rep.code_hash, len);
}
int64_t runnel_functionconfig_last_modified_micros(const runnel_functionconfig_t* fn) {
  return fn->rep.last_modified_micros;
}

// --- Functions.

runnel_functionconfig_t* runnel_create_function(runnel_t* db, const runnel_functionconfig_t* config,
                                                char** errptr) {
  auto created = std::make_unique<runnel_functionconfig_t>();
  if (SaveError(errptr, T(db)->CreateFunction(config->rep, &created->rep))) return nullptr;
  return created.release();
}

runnel_functionconfig_t* runnel_get_function(runnel_t* db, const char* name, size_t name_len,
                                             char** errptr) {
  auto fn = std::make_unique<runnel_functionconfig_t>();
  if (SaveError(errptr, T(db)->GetFunction(View(name, name_len), &fn->rep))) return nullptr;
  return fn.release();
}

void runnel_delete_function(runnel_t* db, const char* name, size_t name_len, unsigned char force,
                            char** errptr) {
  SaveError(errptr, T(db)->DeleteFunction(View(name, name_len), force != 0));
}

runnel_functions_t* runnel_list_functions(runnel_t* db, char** errptr) {
  std::vector<runnel::FunctionConfiguration> functions;
  if (SaveError(errptr, T(db)->ListFunctions(&functions))) return nullptr;
  auto list = std::make_unique<runnel_functions_t>();
  list->rep.reserve(functions.size());
  for (auto& f : functions) list->rep.push_back(runnel_functionconfig_t{std::move(f)});
  return list.release();
}
void runnel_functions_destroy(runnel_functions_t* list) { delete list; }
size_t runnel_functions_count(const runnel_functions_t* list) { return list->rep.size(); }
const runnel_functionconfig_t* runnel_functions_get(const runnel_functions_t* list, size_t i) {
  return &list->rep[i];
}

char* runnel_invoke(runnel_t* db, const char* name, size_t name_len, const char* payload,
                    size_t payload_len, size_t* response_len, char** errptr) {
  *response_len = 0;
  std::string response;
  if (SaveError(errptr,
                T(db)->Invoke(View(name, name_len), View(payload, payload_len), &response))) {
    return nullptr;
  }
  *response_len = response.size();
  return CopyBytes(response);
}

runnel_functionlog_t* runnel_read_function_log(runnel_t* db, const char* name, size_t name_len,
                                               int64_t since_micros, char** errptr) {
  auto log = std::make_unique<runnel_functionlog_t>();
  if (SaveError(errptr, T(db)->ReadFunctionLog(View(name, name_len), since_micros, &log->rep))) {
    return nullptr;
  }
  return log.release();
}
void runnel_functionlog_destroy(runnel_functionlog_t* log) { delete log; }
size_t runnel_functionlog_count(const runnel_functionlog_t* log) { return log->rep.size(); }
int64_t runnel_functionlog_time_micros(const runnel_functionlog_t* log, size_t i) {
  return log->rep[i].time_micros;
}
const char* runnel_functionlog_text(const runnel_functionlog_t* log, size_t i, size_t* len) {
  return Out(log->rep[i].text, len);
}

// --- Mapping configurations.

runnel_mappingconfig_t* runnel_mappingconfig_create(void) { return new runnel_mappingconfig_t; }
void runnel_mappingconfig_destroy(runnel_mappingconfig_t* m) { delete m; }
void runnel_mappingconfig_set_function_name(runnel_mappingconfig_t* m, const char* name,
                                            size_t len) {
  m->rep.function_name.assign(View(name, len));
}
void runnel_mappingconfig_set_event_source(runnel_mappingconfig_t* m, const char* source,
                                           size_t len) {
  m->rep.event_source.assign(View(source, len));
}
void runnel_mappingconfig_set_batch_size(runnel_mappingconfig_t* m, uint32_t n) {
  m->rep.batch_size = n;
}
void runnel_mappingconfig_set_maximum_batching_window_seconds(runnel_mappingconfig_t* m,
                                                              uint32_t seconds) {
  m->rep.maximum_batching_window_seconds = seconds;
}
void runnel_mappingconfig_set_starting_position(runnel_mappingconfig_t* m, int position,
                                                int64_t timestamp_micros, uint64_t sequence) {
  m->rep.starting_position = static_cast<runnel::StartingPosition>(position);
  m->rep.starting_position_timestamp_micros = timestamp_micros;
  m->rep.starting_sequence_number = sequence;
}
void runnel_mappingconfig_set_enabled(runnel_mappingconfig_t* m, unsigned char enabled) {
  m->rep.enabled = enabled != 0;
}
void runnel_mappingconfig_set_maximum_retry_attempts(runnel_mappingconfig_t* m, int32_t n) {
  m->rep.maximum_retry_attempts = n;
}
void runnel_mappingconfig_set_maximum_record_age_seconds(runnel_mappingconfig_t* m,
                                                         int32_t seconds) {
  m->rep.maximum_record_age_seconds = seconds;
}
void runnel_mappingconfig_set_bisect_batch_on_function_error(runnel_mappingconfig_t* m,
                                                             unsigned char value) {
  m->rep.bisect_batch_on_function_error = value != 0;
}
void runnel_mappingconfig_set_on_failure_destination(runnel_mappingconfig_t* m, const char* table,
                                                     size_t len) {
  m->rep.on_failure_destination.assign(View(table, len));
}
void runnel_mappingconfig_set_report_batch_item_failures(runnel_mappingconfig_t* m,
                                                         unsigned char value) {
  m->rep.report_batch_item_failures = value != 0;
}
void runnel_mappingconfig_set_parallelization_factor(runnel_mappingconfig_t* m, uint32_t factor) {
  m->rep.parallelization_factor = factor;
}
uint32_t runnel_mappingconfig_parallelization_factor(const runnel_mappingconfig_t* m) {
  return m->rep.parallelization_factor;
}
void runnel_mappingconfig_set_tumbling_window_seconds(runnel_mappingconfig_t* m, uint32_t seconds) {
  m->rep.tumbling_window_seconds = seconds;
}
uint32_t runnel_mappingconfig_tumbling_window_seconds(const runnel_mappingconfig_t* m) {
  return m->rep.tumbling_window_seconds;
}
const char* runnel_mappingconfig_uuid(const runnel_mappingconfig_t* m, size_t* len) {
  return Out(m->rep.uuid, len);
}
const char* runnel_mappingconfig_function_name(const runnel_mappingconfig_t* m, size_t* len) {
  return Out(m->rep.function_name, len);
}
const char* runnel_mappingconfig_event_source(const runnel_mappingconfig_t* m, size_t* len) {
  return Out(m->rep.event_source, len);
}
const char* runnel_mappingconfig_function_arn(const runnel_mappingconfig_t* m, size_t* len) {
  return Out(m->rep.function_arn, len);
}
uint32_t runnel_mappingconfig_batch_size(const runnel_mappingconfig_t* m) {
  return m->rep.batch_size;
}
int runnel_mappingconfig_starting_position(const runnel_mappingconfig_t* m) {
  return static_cast<int>(m->rep.starting_position);
}
unsigned char runnel_mappingconfig_enabled(const runnel_mappingconfig_t* m) {
  return m->rep.enabled ? 1 : 0;
}
const char* runnel_mappingconfig_state(const runnel_mappingconfig_t* m, size_t* len) {
  // The names are string literals: the pointer outlives the object.
  std::string_view name = runnel::MappingStateName(m->rep.state);
  *len = name.size();
  return name.data();
}
const char* runnel_mappingconfig_state_transition_reason(const runnel_mappingconfig_t* m,
                                                         size_t* len) {
  return Out(m->rep.state_transition_reason, len);
}
const char* runnel_mappingconfig_last_processing_result(const runnel_mappingconfig_t* m,
                                                        size_t* len) {
  return Out(m->rep.last_processing_result, len);
}
int64_t runnel_mappingconfig_last_modified_micros(const runnel_mappingconfig_t* m) {
  return m->rep.last_modified_micros;
}

// --- Event source mappings.

runnel_mappingconfig_t* runnel_create_event_source_mapping(runnel_t* db,
                                                           const runnel_mappingconfig_t* config,
                                                           char** errptr) {
  if (config->rep.starting_position > runnel::StartingPosition::kSnapshot) {
    SaveError(errptr, Status::InvalidArgument("starting_position must be 0 to 4 "
                                              "(runnel_start_trim_horizon to "
                                              "runnel_start_snapshot)"));
    return nullptr;
  }
  auto created = std::make_unique<runnel_mappingconfig_t>();
  if (SaveError(errptr, T(db)->CreateEventSourceMapping(config->rep, &created->rep))) {
    return nullptr;
  }
  return created.release();
}

runnel_mappingconfig_t* runnel_get_event_source_mapping(runnel_t* db, const char* uuid,
                                                        size_t uuid_len, char** errptr) {
  auto m = std::make_unique<runnel_mappingconfig_t>();
  if (SaveError(errptr, T(db)->GetEventSourceMapping(View(uuid, uuid_len), &m->rep))) {
    return nullptr;
  }
  return m.release();
}

runnel_mappingconfig_t* runnel_delete_event_source_mapping(runnel_t* db, const char* uuid,
                                                           size_t uuid_len, char** errptr) {
  auto m = std::make_unique<runnel_mappingconfig_t>();
  if (SaveError(errptr, T(db)->DeleteEventSourceMapping(View(uuid, uuid_len), &m->rep))) {
    return nullptr;
  }
  return m.release();
}

runnel_mappings_t* runnel_list_event_source_mappings(runnel_t* db, const char* function_name,
                                                     size_t function_name_len,
                                                     const char* stream_arn, size_t stream_arn_len,
                                                     const char* marker, size_t marker_len,
                                                     size_t max_items, char** errptr) {
  std::vector<runnel::EventSourceMappingConfiguration> mappings;
  auto list = std::make_unique<runnel_mappings_t>();
  if (SaveError(errptr, T(db)->ListEventSourceMappings(View(function_name, function_name_len),
                                                       View(stream_arn, stream_arn_len),
                                                       View(marker, marker_len), max_items,
                                                       &mappings, &list->next_marker))) {
    return nullptr;
  }
  list->rep.reserve(mappings.size());
  for (auto& m : mappings) list->rep.push_back(runnel_mappingconfig_t{std::move(m)});
  return list.release();
}
void runnel_mappings_destroy(runnel_mappings_t* list) { delete list; }
size_t runnel_mappings_count(const runnel_mappings_t* list) { return list->rep.size(); }
const runnel_mappingconfig_t* runnel_mappings_get(const runnel_mappings_t* list, size_t i) {
  return &list->rep[i];
}
const char* runnel_mappings_next_marker(const runnel_mappings_t* list, size_t* len) {
  return Out(list->next_marker, len);
}

// --- The runtime.

void runnel_triggers_start(runnel_t* db, char** errptr) { SaveError(errptr, T(db)->Start()); }
void runnel_triggers_stop(runnel_t* db) { T(db)->Stop(); }
void runnel_triggers_wait_until_idle(runnel_t* db, int64_t timeout_ms, char** errptr) {
  SaveError(errptr, T(db)->WaitUntilIdle(std::chrono::milliseconds(timeout_ms)));
}

}  // extern "C"
