// Copyright 2026 The runnel Authors.
//
// The function and event source mapping registry, and the runtime's workers.

#include "triggers/triggers_impl.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <unordered_map>

#include "cdc/arn.h"
#include "cdc/stream_reader.h"
#include "triggers/event_json.h"
#include "triggers/filter_pattern.h"
#include "triggers/invocation.h"
#include "triggers/mapping_lanes.h"
#include "triggers/mapping_worker.h"
#include "triggers/snapshot.h"
#include "util/clock.h"
#include "util/encoding.h"
#include "util/random.h"

namespace runnel {
namespace {

Status FunctionNotFound(std::string_view name) {
  return Status::NotFound("function '" + std::string(name) + "' does not exist");
}

Status MappingNotFound(std::string_view uuid) {
  return Status::NotFound("event source mapping '" + std::string(uuid) + "' does not exist");
}

}  // namespace

std::string_view StartingPositionName(StartingPosition p) {
  switch (p) {
    case StartingPosition::kTrimHorizon:
      return "TRIM_HORIZON";
    case StartingPosition::kLatest:
      return "LATEST";
    case StartingPosition::kAtTimestamp:
      return "AT_TIMESTAMP";
    case StartingPosition::kAtSequenceNumber:
      return "AT_SEQUENCE_NUMBER";
    case StartingPosition::kSnapshot:
      return "SNAPSHOT";
  }
  return "UNKNOWN";
}

std::string_view MappingStateName(MappingState state) {
  switch (state) {
    case MappingState::kCreating:
      return "Creating";
    case MappingState::kEnabling:
      return "Enabling";
    case MappingState::kEnabled:
      return "Enabled";
    case MappingState::kDisabling:
      return "Disabling";
    case MappingState::kDisabled:
      return "Disabled";
    case MappingState::kUpdating:
      return "Updating";
    case MappingState::kDeleting:
      return "Deleting";
  }
  return "UNKNOWN";
}

std::string_view FunctionIsolationName(FunctionIsolation isolation) {
  switch (isolation) {
    case FunctionIsolation::kInProcess:
      return "none";
    case FunctionIsolation::kProcess:
      return "process";
  }
  return "UNKNOWN";
}

bool ParseFunctionIsolation(std::string_view name, FunctionIsolation* isolation) {
  for (auto v : {FunctionIsolation::kInProcess, FunctionIsolation::kProcess}) {
    if (FunctionIsolationName(v) == name) {
      *isolation = v;
      return true;
    }
  }
  return false;
}

bool ParseStartingPosition(std::string_view name, StartingPosition* p) {
  for (auto v :
       {StartingPosition::kTrimHorizon, StartingPosition::kLatest, StartingPosition::kAtTimestamp,
        StartingPosition::kAtSequenceNumber, StartingPosition::kSnapshot}) {
    if (StartingPositionName(v) == name) {
      *p = v;
      return true;
    }
  }
  return false;
}

Status HashFile(const std::string& path, std::string* hash) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot read");
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof(buf));
    XXH3_128bits_update(state, buf, static_cast<size_t>(in.gcount()));
  }
  const XXH128_hash_t h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  *hash = HexU64(h.high64) + HexU64(h.low64);
  return Status::OK();
}

TriggersImpl::TriggersImpl(DBInternal* db, size_t threads)
    : db_(db), threads_(threads != 0 ? threads : DefaultTriggerThreads()) {}

TriggersImpl::~TriggersImpl() { Stop(); }

// --- Functions

Status TriggersImpl::ValidateFunction(const FunctionConfiguration& c, bool library) const {
  const std::string& n = c.function_name;
  if (n.empty() || n.size() > 64) {
    return Status::InvalidArgument("function name: must be 1 to 64 characters, got " +
                                   std::to_string(n.size()));
  }
  if (!IsValidFunctionName(n)) {
    return Status::InvalidArgument("function name: only [A-Za-z0-9_-] allowed, got '" + n + "'");
  }
  if (c.timeout_seconds < 1 || c.timeout_seconds > kMaxFunctionTimeoutSeconds) {
    return Status::InvalidArgument("timeout: must be 1 to 900 seconds, got " +
                                   std::to_string(c.timeout_seconds));
  }
  if (library && c.handler.empty()) {
    return Status::InvalidArgument("handler: must name an exported symbol");
  }
  if (c.isolation != FunctionIsolation::kInProcess && c.isolation != FunctionIsolation::kProcess) {
    return Status::InvalidArgument("isolation: must be none or process, got " +
                                   std::to_string(static_cast<int>(c.isolation)));
  }
  if (!library && c.isolation != FunctionIsolation::kInProcess) {
    return Status::InvalidArgument(
        "isolation: a function registered in-process runs in the host process; only a library "
        "function can be isolated");
  }
  for (const auto& [k, v] : c.environment) {
    if (k.empty() || k.find('=') != std::string::npos) {
      return Status::InvalidArgument("environment: bad variable name '" + k + "'");
    }
  }
  return Status::OK();
}

Status TriggersImpl::LoadChecked(const FunctionConfiguration& c, log::FunctionEntryData* entry,
                                 std::shared_ptr<FunctionLibrary>* library) {
  Status s = ValidateFunction(c, true);
  std::string resolved;
  if (s.ok()) s = ResolveLibraryPath(c.library, &resolved);
  if (!s.ok()) return s;
  entry->name = c.function_name;
  entry->in_process = false;
  entry->library = resolved;
  entry->handler = c.handler;
  entry->environment.assign(c.environment.begin(), c.environment.end());
  entry->timeout_seconds = c.timeout_seconds;
  entry->description = c.description;
  entry->last_modified_micros = NowMicros(db_->env());
  entry->isolation = static_cast<uint8_t>(c.isolation);
  // Loaded (and initialized) before anything is recorded: a bad plugin is an
  // error now, not a PROBLEM later. An isolated one is loaded by a worker,
  // so that even a plugin crashing in runnel_init leaves the host running.
  if (c.isolation == FunctionIsolation::kProcess) {
    s = IsolatedFunction::Check(*entry);
  } else {
    s = FunctionLibrary::Load(resolved, c.handler, c.function_name, library);
  }
  if (s.ok()) s = HashFile(resolved, &entry->code_hash);
  return s;
}

FunctionConfiguration TriggersImpl::Describe(const log::FunctionEntryData& f) const {
  FunctionConfiguration c;
  c.function_name = f.name;
  c.library = f.library;
  c.handler = f.handler;
  c.environment.insert(f.environment.begin(), f.environment.end());
  c.timeout_seconds = f.timeout_seconds;
  c.description = f.description;
  c.function_arn = arn::Function(db_->region(), db_->account_id(), f.name);
  c.in_process = f.in_process;
  c.last_modified_micros = f.last_modified_micros;
  c.code_hash = f.code_hash;
  c.isolation = static_cast<FunctionIsolation>(f.isolation);
  return c;
}

Status TriggersImpl::PutLibraryFunction(const FunctionConfiguration& config, bool create,
                                        FunctionConfiguration* out) {
  log::FunctionEntryData entry;
  std::shared_ptr<FunctionLibrary> library;
  Status s = LoadChecked(config, &entry, &library);
  if (!s.ok()) return s;
  s = db_->CommitMeta([&](const Catalog& cat, uint64_t, int64_t, log::MetaData* meta) {
    const log::FunctionEntryData* old = cat.FindFunction(entry.name);
    if (create && old != nullptr) {
      return Status::Busy("function '" + entry.name + "' already exists");
    }
    if (!create && old == nullptr) return FunctionNotFound(entry.name);
    if (!create && old->in_process) {
      return Status::InvalidArgument("function '" + entry.name +
                                     "' is registered in-process; re-register it to change it");
    }
    meta->kind = log::MetaData::Kind::kPutFunction;
    meta->function = entry;
    return Status::OK();
  });
  if (!s.ok()) return s;
  {
    // Workers hold their own reference for the invocation in flight; old
    // code is unloaded when that ends.
    MutexLock lock(&mu_);
    if (library != nullptr) {
      loaded_[entry.name] = {entry.library, entry.handler, entry.code_hash, library};
    } else {
      loaded_.erase(entry.name);  // isolated: the host keeps no copy loaded
    }
  }
  if (out != nullptr) *out = Describe(entry);
  return Status::OK();
}

Status TriggersImpl::CreateFunction(const FunctionConfiguration& config,
                                    FunctionConfiguration* created) {
  return PutLibraryFunction(config, /*create=*/true, created);
}

Status TriggersImpl::RegisterInProcessFunction(const FunctionConfiguration& config,
                                               InProcessHandler handler) {
  Status s = ValidateFunction(config, false);
  if (!s.ok()) return s;
  if (!handler) return Status::InvalidArgument("handler: must be callable");
  log::FunctionEntryData entry;
  entry.name = config.function_name;
  entry.in_process = true;
  entry.environment.assign(config.environment.begin(), config.environment.end());
  entry.timeout_seconds = config.timeout_seconds;
  entry.description = config.description;
  entry.last_modified_micros = NowMicros(db_->env());
  s = db_->CommitMeta([&](const Catalog& cat, uint64_t, int64_t, log::MetaData* meta) {
    const log::FunctionEntryData* old = cat.FindFunction(entry.name);
    if (old != nullptr && !old->in_process) {
      return Status::Busy("function '" + entry.name + "' already exists as a library function");
    }
    meta->kind = log::MetaData::Kind::kPutFunction;
    meta->function = entry;
    return Status::OK();
  });
  if (!s.ok()) return s;
  {
    MutexLock lock(&mu_);
    in_process_[entry.name] = std::move(handler);
  }
  Reconcile();
  RetryWorkers();
  return Status::OK();
}

void TriggersImpl::RetryWorkers() {
  MutexLock lock(&workers_mu_);
  for (auto& [id, w] : workers_) w->Retry();
}

Status TriggersImpl::GetFunction(std::string_view name, FunctionConfiguration* config) {
  auto cat = db_->CurrentCatalog();
  const log::FunctionEntryData* f = cat->FindFunction(name);
  if (f == nullptr) return FunctionNotFound(name);
  *config = Describe(*f);
  return Status::OK();
}

Status TriggersImpl::ListFunctions(std::vector<FunctionConfiguration>* functions) {
  functions->clear();
  auto cat = db_->CurrentCatalog();
  for (const auto& f : cat->data().functions) functions->push_back(Describe(f));
  std::sort(functions->begin(), functions->end(),
            [](const auto& a, const auto& b) { return a.function_name < b.function_name; });
  return Status::OK();
}

Status TriggersImpl::UpdateFunction(const FunctionConfiguration& config,
                                    FunctionConfiguration* updated) {
  {
    // Checked before loading the new library too, for a clear error.
    auto cat = db_->CurrentCatalog();
    const log::FunctionEntryData* f = cat->FindFunction(config.function_name);
    if (f == nullptr) return FunctionNotFound(config.function_name);
    if (f->in_process) {
      return Status::InvalidArgument("function '" + config.function_name +
                                     "' is registered in-process; re-register it to change it");
    }
  }
  return PutLibraryFunction(config, /*create=*/false, updated);
}

Status TriggersImpl::DeleteFunction(std::string_view name, bool force) {
  const std::string fn(name);
  std::vector<uint32_t> users;
  {
    auto cat = db_->CurrentCatalog();
    if (cat->FindFunction(fn) == nullptr) return FunctionNotFound(fn);
    for (const auto& m : cat->data().mappings) {
      if (m.function_name == fn) users.push_back(m.id);
    }
  }
  if (!users.empty() && !force) {
    return Status::FailedPrecondition(
        "function '" + fn + "' is used by " + std::to_string(users.size()) +
        " event source mapping(s); delete them first or force the deletion");
  }
  for (uint32_t id : users) {
    Status s = db_->CommitMeta([&](const Catalog&, uint64_t, int64_t, log::MetaData* meta) {
      meta->kind = log::MetaData::Kind::kDeleteMapping;
      meta->mapping_id = id;
      return Status::OK();
    });
    if (!s.ok()) return s;
  }
  Reconcile();
  Status s = db_->CommitMeta([&](const Catalog& cat, uint64_t, int64_t, log::MetaData* meta) {
    if (cat.FindFunction(fn) == nullptr) return FunctionNotFound(fn);
    for (const auto& m : cat.data().mappings) {
      if (m.function_name == fn) {
        return Status::FailedPrecondition("function '" + fn + "' gained a mapping meanwhile");
      }
    }
    meta->kind = log::MetaData::Kind::kDeleteFunction;
    meta->function_name = fn;
    return Status::OK();
  });
  if (!s.ok()) return s;
  MutexLock lock(&mu_);
  loaded_.erase(fn);
  in_process_.erase(fn);
  return Status::OK();
}

Status TriggersImpl::Resolve(const std::string& name, ResolvedFunction* out) {
  auto cat = db_->CurrentCatalog();
  const log::FunctionEntryData* f = cat->FindFunction(name);
  if (f == nullptr) return FunctionNotFound(name);
  out->config = *f;
  if (f->isolation == static_cast<uint8_t>(FunctionIsolation::kProcess)) {
    // A worker of its own per resolution (a mapping, an Invoke): they run
    // concurrently, each one invocation at a time. It starts on first use.
    auto isolated = std::make_shared<IsolatedFunction>(*f);
    out->isolated = isolated;
    out->call = [isolated](const runnel_batch* b, runnel_context* c) {
      return isolated->Invoke(b, c);
    };
    return Status::OK();
  }
  MutexLock lock(&mu_);
  if (f->in_process) {
    auto it = in_process_.find(name);
    if (it == in_process_.end()) {
      return Status::FailedPrecondition("in-process function '" + name +
                                        "' has no handler registered in this process");
    }
    InProcessHandler h = it->second;
    out->call = [h](const runnel_batch* b, runnel_context* c) { return h(*b, c); };
    return Status::OK();
  }
  auto it = loaded_.find(name);
  if (it == loaded_.end() || it->second.path != f->library || it->second.handler != f->handler ||
      it->second.code_hash != f->code_hash) {
    std::shared_ptr<FunctionLibrary> lib;
    Status s = FunctionLibrary::Load(f->library, f->handler, f->name, &lib);
    if (!s.ok()) return s;
    loaded_[name] = {f->library, f->handler, f->code_hash, lib};
    it = loaded_.find(name);
  }
  out->library = it->second.library;
  runnel_handler_fn fn = out->library->handler();
  out->call = [fn](const runnel_batch* b, runnel_context* c) { return fn(b, c); };
  return Status::OK();
}

FunctionLog* TriggersImpl::LogFor(const std::string& function_name) {
  MutexLock lock(&mu_);
  auto& log = logs_[function_name];
  if (!log) {
    log = std::make_unique<FunctionLog>(db_->dir() + "/logs/" + function_name);
  }
  return log.get();
}

Status TriggersImpl::ReadFunctionLog(std::string_view name, int64_t since_micros,
                                     std::vector<FunctionLogLine>* lines) {
  auto cat = db_->CurrentCatalog();
  if (cat->FindFunction(name) == nullptr) return FunctionNotFound(name);
  return LogFor(std::string(name))->Read(since_micros, lines);
}

namespace {

// The cloud's Invoke response, fields in its order.
std::string InvokeResponse(const Invocation& inv, bool failed, bool timed_out,
                           uint32_t timeout_seconds) {
  nlohmann::ordered_json out;
  out["StatusCode"] = 200;
  out["ExecutedVersion"] = "$LATEST";
  if (failed) out["FunctionError"] = "Unhandled";
  out["RequestId"] = inv.request_id;
  // What the cloud's payload says when the runtime died or was stopped
  // (isolated functions), for the caller to return as the payload.
  if (timed_out) {
    out["errorType"] = "Sandbox.Timedout";
    out["errorMessage"] = "RequestId: " + inv.request_id + " Error: Task timed out after " +
                          std::to_string(timeout_seconds) + ".00 seconds";
  } else if (inv.error.rfind("Runtime exited", 0) == 0) {
    out["errorType"] = "Runtime.ExitError";
    out["errorMessage"] = "RequestId: " + inv.request_id + " Error: " + inv.error;
  }
  if (!inv.failed_items.empty()) {
    nlohmann::ordered_json& failures = out["batchItemFailures"] = nlohmann::ordered_json::array();
    for (uint64_t item : inv.failed_items) {
      failures.push_back({{"itemIdentifier", std::to_string(item)}});
    }
  }
  return out.dump();
}

}  // namespace

Status TriggersImpl::Invoke(std::string_view name, std::string_view payload,
                            std::string* response) {
  ResolvedFunction fn;
  Status s = Resolve(std::string(name), &fn);
  if (!s.ok()) return s;
  ParsedEvent event;
  s = ParseEventJson(payload, &event);
  if (!s.ok()) return s;
  runnel_batch batch = {};
  batch.records = event.records.data();
  batch.count = event.records.size();
  batch.event_source_arn = event.event_source_arn.c_str();
  batch.mapping_uuid = "";
  Invocation inv;
  inv.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(fn.config.timeout_seconds);
  inv.function = &fn.config;
  inv.log = LogFor(fn.config.name);
  inv.batch = &batch;
  inv.region = db_->region();
  inv.env = db_->env();
  inv.db = db_;
  inv.log->Append(NowMicros(db_->env()),
                  "START RequestId: " + inv.request_id + " Version: $LATEST");
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = inv.Run(fn.call);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  const bool timed_out = inv.timed_out || elapsed > std::chrono::seconds(fn.config.timeout_seconds);
  if (timed_out) {
    inv.LogLine("Task timed out after " + std::to_string(fn.config.timeout_seconds) +
                ".00 seconds");
  }
  inv.log->Append(NowMicros(db_->env()), "END RequestId: " + inv.request_id);
  char report[160];
  std::snprintf(report, sizeof(report), "REPORT RequestId: %s Duration: %.2f ms Records: %zu",
                inv.request_id.c_str(), ms, batch.count);
  inv.log->Append(NowMicros(db_->env()), report);
  const bool failed = rc != 0 || inv.bad_failed_item || inv.bad_write || timed_out;
  *response = InvokeResponse(inv, failed, timed_out, fn.config.timeout_seconds);
  if (failed) return Status::OK();
  if (inv.writes.Count() > 0) {
    s = db_->Write(WriteOptions{true}, inv.writes, nullptr);
    if (!s.ok()) return s;
  }
  // No checkpoint to commit them with: item write-backs are applied one by
  // one, as a handler's calls write at once in the cloud.
  return inv.items.Replay(db_);
}

// --- Event source mappings

namespace {

// The catalog keeps the factor in a byte: check the range before narrowing.
Status CheckedFactor(uint32_t factor, uint8_t* out) {
  if (factor < 1 || factor > kMaxParallelizationFactor) {
    return Status::InvalidArgument("parallelization factor: must be 1 to 10, got " +
                                   std::to_string(factor));
  }
  *out = static_cast<uint8_t>(factor);
  return Status::OK();
}

}  // namespace

Status TriggersImpl::ValidateMapping(const log::MappingEntryData& m) const {
  if (m.batch_size < 1 || m.batch_size > kMaxBatchSize) {
    return Status::InvalidArgument("batch size: must be 1 to 10000, got " +
                                   std::to_string(m.batch_size));
  }
  if (m.max_batching_window_seconds > kMaxBatchingWindowSeconds) {
    return Status::InvalidArgument("maximum batching window: must be 0 to 300 seconds, got " +
                                   std::to_string(m.max_batching_window_seconds));
  }
  if (m.tumbling_window_seconds > kMaxTumblingWindowSeconds) {
    return Status::InvalidArgument("tumbling window: must be 0 to 900 seconds, got " +
                                   std::to_string(m.tumbling_window_seconds));
  }
  if (m.tumbling_window_seconds > 0 && m.parallelization_factor > 1) {
    // (A window's state is one per mapping; lanes would need one each.)
    return Status::InvalidArgument(
        "tumbling window: runnel does not yet combine TumblingWindowInSeconds with a "
        "ParallelizationFactor above 1 (got " +
        std::to_string(m.parallelization_factor) + "); use one of the two");
  }
  if (m.starting_position == log::StartingPositionData::kSnapshot &&
      (m.parallelization_factor > 1 || m.tumbling_window_seconds > 0)) {
    // (The snapshot's progress is one per mapping, like a window's state.)
    return Status::InvalidArgument(
        "starting position: runnel does not yet combine SNAPSHOT with a ParallelizationFactor "
        "above 1 or a TumblingWindowInSeconds (got " +
        std::to_string(m.parallelization_factor) + " and " +
        std::to_string(m.tumbling_window_seconds) + "); use SNAPSHOT alone");
  }
  if (m.max_retry_attempts < -1 || m.max_retry_attempts > kMaxRetryAttempts) {
    return Status::InvalidArgument(
        "maximum retry attempts: must be -1 (until the records expire) or 0 to "
        "10000, got " +
        std::to_string(m.max_retry_attempts));
  }
  if (m.max_record_age_seconds != -1 && (m.max_record_age_seconds < kMinRecordAgeSeconds ||
                                         m.max_record_age_seconds > kMaxRecordAgeSeconds)) {
    return Status::InvalidArgument(
        "maximum record age: must be -1 (no limit) or 60 to 604800 seconds, got " +
        std::to_string(m.max_record_age_seconds));
  }
  if (m.parallelization_factor < 1 || m.parallelization_factor > kMaxParallelizationFactor) {
    return Status::InvalidArgument("parallelization factor: must be 1 to 10, got " +
                                   std::to_string(m.parallelization_factor));
  }
  return ValidateFilterPatterns(m.filter_patterns);
}

EventSourceMappingConfiguration TriggersImpl::Describe(const log::MappingEntryData& m) {
  EventSourceMappingConfiguration c;
  c.uuid = m.uuid;
  c.function_name = m.function_name;
  c.function_arn = arn::Function(db_->region(), db_->account_id(), m.function_name);
  c.event_source = m.event_source_arn;
  c.batch_size = m.batch_size;
  c.maximum_batching_window_seconds = m.max_batching_window_seconds;
  c.starting_position = static_cast<StartingPosition>(m.starting_position);
  c.starting_position_timestamp_micros = m.starting_timestamp_micros;
  c.starting_sequence_number = m.starting_sequence;
  c.enabled = m.enabled;
  c.maximum_retry_attempts = m.max_retry_attempts;
  c.maximum_record_age_seconds = m.max_record_age_seconds;
  c.bisect_batch_on_function_error = m.bisect_on_error;
  c.on_failure_destination = m.on_failure_destination;
  c.report_batch_item_failures = m.report_batch_item_failures;
  c.filter_patterns = m.filter_patterns;
  c.parallelization_factor = m.parallelization_factor;
  c.tumbling_window_seconds = m.tumbling_window_seconds;
  c.state = m.enabled ? MappingState::kEnabled : MappingState::kDisabled;
  c.state_transition_reason = m.state_transition_reason;
  c.last_modified_micros = m.last_modified_micros;
  c.last_processing_result = "No records processed";
  {
    MutexLock lock(&workers_mu_);
    auto it = workers_.find(m.id);
    if (it != workers_.end() && !it->second->LastResult().empty()) {
      c.last_processing_result = it->second->LastResult();
      return c;
    }
  }
  uint64_t position;
  std::string result;
  if (db_->ReadCheckpoint(m.id, &position, &result) && !result.empty()) {
    c.last_processing_result = result;
  }
  return c;
}

Status TriggersImpl::CreateEventSourceMapping(const EventSourceMappingConfiguration& config,
                                              EventSourceMappingConfiguration* created) {
  log::MappingEntryData m;
  m.uuid = NewUuid();
  m.function_name = config.function_name;
  m.batch_size = config.batch_size;
  m.max_batching_window_seconds = config.maximum_batching_window_seconds;
  m.starting_position = static_cast<log::StartingPositionData>(config.starting_position);
  m.starting_timestamp_micros = config.starting_position_timestamp_micros;
  m.starting_sequence = config.starting_sequence_number;
  m.enabled = config.enabled;
  m.max_retry_attempts = config.maximum_retry_attempts;
  m.max_record_age_seconds = config.maximum_record_age_seconds;
  m.bisect_on_error = config.bisect_batch_on_function_error;
  m.on_failure_destination = config.on_failure_destination;
  m.report_batch_item_failures = config.report_batch_item_failures;
  m.filter_patterns = config.filter_patterns;
  Status fs = CheckedFactor(config.parallelization_factor, &m.parallelization_factor);
  if (!fs.ok()) return fs;
  m.tumbling_window_seconds = config.tumbling_window_seconds;
  m.state_transition_reason = "User action";
  Status s = ValidateMapping(m);
  if (!s.ok()) return s;
  if (static_cast<uint8_t>(config.starting_position) > 4) {
    return Status::InvalidArgument(
        "starting position: must be TRIM_HORIZON, LATEST, AT_TIMESTAMP, "
        "AT_SEQUENCE_NUMBER or SNAPSHOT");
  }
  if (config.event_source.empty()) {
    return Status::InvalidArgument("event source: a stream ARN or table name is required");
  }
  s = ResolveEventSource(config.event_source, &m.event_source_arn);
  if (!s.ok()) return s;
  s = ResolveStartingPosition(config, m.event_source_arn, &m.initial_position);
  if (!s.ok()) return s;

  s = db_->CommitMeta([&](const Catalog& cat, uint64_t, int64_t now, log::MetaData* meta) {
    if (cat.FindFunction(m.function_name) == nullptr) return FunctionNotFound(m.function_name);
    if (!m.on_failure_destination.empty() && cat.FindLive(m.on_failure_destination) == nullptr) {
      return Status::InvalidArgument("on-failure destination: table '" + m.on_failure_destination +
                                     "' does not exist");
    }
    m.id = cat.data().next_mapping_id;
    m.last_modified_micros = now;
    meta->kind = log::MetaData::Kind::kPutMapping;
    meta->mapping = m;
    return Status::OK();
  });
  if (!s.ok()) return s;
  Reconcile();
  if (created != nullptr) {
    *created = Describe(m);
    created->state = MappingState::kCreating;  // as the cloud returns it
  }
  return Status::OK();
}

Status TriggersImpl::ResolveEventSource(const std::string& event_source, std::string* arn_out) {
  // The event source: a stream ARN, or a table whose latest stream is used.
  std::string arn = event_source;
  Status s;
  if (arn.rfind("arn:", 0) != 0) {
    TableDescription d;
    s = db_->DescribeTable(arn, &d);
    if (!s.ok()) return s.WithContext("event source");
    if (!d.stream_specification.stream_enabled) {
      return Status::InvalidArgument("event source: table '" + arn + "' has no enabled stream");
    }
    arn = d.latest_stream_arn;
  }
  StreamDescription sd;
  s = db_->streams()->DescribeStream(arn, &sd);
  if (!s.ok()) return s.WithContext("event source");
  if (sd.stream_status != "ENABLED") {
    return Status::InvalidArgument("event source: stream " + arn + " is not enabled");
  }
  *arn_out = arn;
  return Status::OK();
}

Status TriggersImpl::ResolveStartingPosition(const EventSourceMappingConfiguration& config,
                                             const std::string& arn, uint64_t* position) {
  // Resolve the starting position now: the mapping starts exactly there
  // (LATEST never misses records committed after this call returns).
  ShardIteratorRequest req;
  req.stream_arn = arn;
  switch (config.starting_position) {
    case StartingPosition::kTrimHorizon:
      req.type = ShardIteratorType::kTrimHorizon;
      break;
    case StartingPosition::kLatest:
    case StartingPosition::kSnapshot:
      // The snapshot's own sequence replaces it when the mapping starts.
      req.type = ShardIteratorType::kLatest;
      break;
    case StartingPosition::kAtTimestamp:
      req.type = ShardIteratorType::kAtTimestamp;
      req.timestamp_micros = config.starting_position_timestamp_micros;
      break;
    case StartingPosition::kAtSequenceNumber:
      req.type = ShardIteratorType::kAtSequenceNumber;
      req.sequence_number = config.starting_sequence_number;
      break;
  }
  std::string iterator;
  Status s = db_->streams()->GetShardIterator(req, &iterator);
  ShardPosition pos;
  if (s.ok()) s = DecodeShardIterator(iterator, db_->id_bytes(), &pos);
  if (!s.ok()) return s.WithContext("starting position");
  *position = pos.next;
  return Status::OK();
}

Status TriggersImpl::ListEventSourceMappings(std::string_view function_name,
                                             std::string_view event_source_arn,
                                             std::string_view marker, size_t max_items,
                                             std::vector<EventSourceMappingConfiguration>* mappings,
                                             std::string* next_marker) {
  // Copied first: callers naturally pass the previous page's next marker
  // as both `marker` and `next_marker`.
  const std::string after(marker);
  mappings->clear();
  if (next_marker != nullptr) next_marker->clear();
  auto cat = db_->CurrentCatalog();
  std::vector<const log::MappingEntryData*> all;
  for (const auto& m : cat->data().mappings) {
    if (!function_name.empty() && m.function_name != function_name) continue;
    if (!event_source_arn.empty() && m.event_source_arn != event_source_arn) continue;
    all.push_back(&m);
  }
  std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->uuid < b->uuid; });
  for (const auto* m : all) {
    if (!after.empty() && m->uuid <= after) continue;
    if (max_items != 0 && mappings->size() == max_items) {
      if (next_marker != nullptr) *next_marker = mappings->back().uuid;
      break;
    }
    mappings->push_back(Describe(*m));
  }
  return Status::OK();
}

Status TriggersImpl::GetEventSourceMapping(std::string_view uuid,
                                           EventSourceMappingConfiguration* config) {
  auto cat = db_->CurrentCatalog();
  const log::MappingEntryData* m = cat->FindMapping(uuid);
  if (m == nullptr) return MappingNotFound(uuid);
  *config = Describe(*m);
  return Status::OK();
}

Status TriggersImpl::UpdateEventSourceMapping(std::string_view uuid,
                                              const EventSourceMappingUpdate& u,
                                              EventSourceMappingConfiguration* updated) {
  log::MappingEntryData m;
  Status s = db_->CommitMeta([&](const Catalog& cat, uint64_t, int64_t now, log::MetaData* meta) {
    const log::MappingEntryData* old = cat.FindMapping(uuid);
    if (old == nullptr) return MappingNotFound(uuid);
    m = *old;
    if (u.function_name) m.function_name = *u.function_name;
    if (u.batch_size) m.batch_size = *u.batch_size;
    if (u.maximum_batching_window_seconds) {
      m.max_batching_window_seconds = *u.maximum_batching_window_seconds;
    }
    if (u.enabled) m.enabled = *u.enabled;
    if (u.maximum_retry_attempts) m.max_retry_attempts = *u.maximum_retry_attempts;
    if (u.maximum_record_age_seconds) m.max_record_age_seconds = *u.maximum_record_age_seconds;
    if (u.bisect_batch_on_function_error) m.bisect_on_error = *u.bisect_batch_on_function_error;
    if (u.on_failure_destination) m.on_failure_destination = *u.on_failure_destination;
    if (u.report_batch_item_failures) {
      m.report_batch_item_failures = *u.report_batch_item_failures;
    }
    if (u.filter_patterns) m.filter_patterns = *u.filter_patterns;
    if (u.parallelization_factor) {
      Status fs = CheckedFactor(*u.parallelization_factor, &m.parallelization_factor);
      if (!fs.ok()) return fs;
    }
    if (u.tumbling_window_seconds) m.tumbling_window_seconds = *u.tumbling_window_seconds;
    Status v = ValidateMapping(m);
    if (!v.ok()) return v;
    if (cat.FindFunction(m.function_name) == nullptr) return FunctionNotFound(m.function_name);
    if (!m.on_failure_destination.empty() && cat.FindLive(m.on_failure_destination) == nullptr) {
      return Status::InvalidArgument("on-failure destination: table '" + m.on_failure_destination +
                                     "' does not exist");
    }
    m.last_modified_micros = now;
    m.state_transition_reason = "User action";
    meta->kind = log::MetaData::Kind::kPutMapping;
    meta->mapping = m;
    return Status::OK();
  });
  if (!s.ok()) return s;
  Reconcile();
  if (updated != nullptr) {
    *updated = Describe(m);
    updated->state = MappingState::kUpdating;
  }
  return Status::OK();
}

Status TriggersImpl::DeleteEventSourceMapping(std::string_view uuid,
                                              EventSourceMappingConfiguration* deleted) {
  log::MappingEntryData m;
  Status s = db_->CommitMeta([&](const Catalog& cat, uint64_t, int64_t, log::MetaData* meta) {
    const log::MappingEntryData* old = cat.FindMapping(uuid);
    if (old == nullptr) return MappingNotFound(uuid);
    m = *old;
    meta->kind = log::MetaData::Kind::kDeleteMapping;
    meta->mapping_id = old->id;
    return Status::OK();
  });
  if (!s.ok()) return s;
  EventSourceMappingConfiguration d = Describe(m);
  Reconcile();
  if (deleted != nullptr) {
    *deleted = d;
    deleted->state = MappingState::kDeleting;
  }
  return Status::OK();
}

Status TriggersImpl::GetMappingMetrics(std::string_view uuid, MappingMetrics* metrics) {
  auto cat = db_->CurrentCatalog();
  const log::MappingEntryData* m = cat->FindMapping(uuid);
  if (m == nullptr) return MappingNotFound(uuid);
  *metrics = MappingMetrics();
  MutexLock lock(&workers_mu_);
  auto it = workers_.find(m->id);
  if (it != workers_.end()) {
    *metrics = it->second->Metrics();
  } else {
    std::string result;
    if (!db_->ReadCheckpoint(m->id, &metrics->position, &result)) {
      metrics->position = m->initial_position;
    }
    log::SnapshotStateData st;
    if (db_->ReadSnapshotState(m->id, &st)) SnapshotMetrics(st, metrics);
  }
  return Status::OK();
}

// --- Runtime

Status TriggersImpl::Start() {
  Status s = db_->CheckOpenForTriggers();
  if (!s.ok()) return s;
  {
    MutexLock lock(&workers_mu_);
    if (!pool_owner_) {
      pool_owner_ = std::make_unique<WorkerPool>(threads_);
      pool_ = pool_owner_.get();
    }
    if (!listening_) {
      listening_ = true;
      WorkerPool* pool = pool_owner_.get();
      db_->SetTableChangeListener([pool](SequenceNumber last, const std::vector<uint32_t>& tables) {
        pool->OnTableChange(last, tables);
      });
    }
    running_ = true;
  }
  Reconcile();
  return Status::OK();
}

void TriggersImpl::Stop() {
  std::map<uint32_t, std::unique_ptr<MappingLanes>> workers;
  {
    // Under the lock, so that a Reconcile racing with Stop cannot start a
    // worker after it.
    MutexLock lock(&workers_mu_);
    running_ = false;
    workers.swap(workers_);
  }
  // Signal everyone first, then join: stopping is as slow as the slowest
  // invocation in flight, not the sum of them.
  for (auto& [id, w] : workers) w->RequestStop();
  for (auto& [id, w] : workers) w->Stop();
  workers.clear();
  // The pool itself stays until the runtime is destroyed: lanes that a
  // Reconcile racing with this Stop retired may still be stopping on it.
  MutexLock lock(&workers_mu_);
  // (A Start racing with this Stop wants the commits' wake-ups.)
  if (!running_.load() && listening_) {
    db_->SetTableChangeListener(nullptr);
    listening_ = false;
  }
}

void TriggersImpl::Reconcile() {
  auto cat = db_->CurrentCatalog();
  std::vector<std::unique_ptr<MappingLanes>> retired;
  std::set<uint32_t> retired_ids;
  bool restart = false;
  {
    MutexLock lock(&workers_mu_);
    if (!running_.load()) return;
    cat = db_->CurrentCatalog();  // the newest, now that we are serialized
    // Enabled mappings by id, with their factor (a lookup per worker: a
    // thousand mappings must not make this quadratic).
    std::unordered_map<uint32_t, uint32_t> enabled_factor;
    for (const auto& m : cat->data().mappings) {
      if (m.enabled) enabled_factor[m.id] = m.parallelization_factor;
    }
    for (auto it = workers_.begin(); it != workers_.end();) {
      // A worker that returned (it saw its mapping disabled) is replaced if
      // the mapping is enabled again.
      bool keep = !it->second->Finished();
      // A mapping whose ParallelizationFactor changed is restarted: the new
      // lanes drain the old ones' checkpoint first.
      auto e = enabled_factor.find(it->first);
      keep &= e != enabled_factor.end() && e->second == it->second->factor();
      if (!keep) {
        retired_ids.insert(it->first);
        retired.push_back(std::move(it->second));
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& m : cat->data().mappings) {
      // One retired here restarts once it has stopped (below): its lanes
      // must not commit beside the new ones.
      if (retired_ids.count(m.id) != 0) {
        restart |= m.enabled;
        continue;
      }
      if (m.enabled && workers_.find(m.id) == workers_.end()) {
        auto w = std::make_unique<MappingLanes>(this, m.id, m.parallelization_factor);
        w->Start();
        workers_[m.id] = std::move(w);
      }
    }
  }
  // Stopped outside the lock: a worker finishing an invocation may be
  // describing itself meanwhile.
  for (auto& w : retired) w->RequestStop();
  for (auto& w : retired) w->Stop();
  if (restart) Reconcile();
}

Status TriggersImpl::WaitUntilIdle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool idle = true;
    {
      MutexLock lock(&workers_mu_);
      for (const auto& [id, w] : workers_) idle &= w->Idle();
    }
    if (idle) return Status::OK();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::TimedOut("mappings still have records to process");
    }
    // A control-plane wait (tests, `run --until-idle`): record delivery
    // itself never polls.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace runnel
