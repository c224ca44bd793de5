// Copyright 2026 The runnel Authors.
//
// Triggers: functions and event source mappings, as Lambda does them for
// DynamoDB Streams — locally, and woken by the commit instead of polling.
//
// A function is a shared library with the C ABI of runnel/function.h (or a
// C++ callable registered by the application). An event source mapping reads
// one stream from a starting position, in batches, and invokes its function;
// the checkpoint advances only after a batch succeeded or was handed to its
// failure destination, so delivery is at least once and in order per mapping.
// A handler's writes back into the DB are committed atomically with the
// checkpoint of the batch that made them: exactly-once effects.
//
// Functions, mappings and checkpoints are frames of the DB's log, so they
// survive restarts; a mapping resumes right after its last completed batch.
//
// Thread safety: all methods may be called concurrently. Handlers run on the
// runtime's pool of threads (Options::trigger_threads), one batch at a time
// per mapping lane. A handler must not call this interface's functions and
// mappings operations or Start/Stop (say, from a RegisterInProcessFunction
// handler that captured the DB): stopping a mapping's lanes waits for the
// pool, and the handler holds one of its threads. It may read and write
// items through its context, and the DB's data operations.

#ifndef RUNNEL_INCLUDE_TRIGGERS_H_
#define RUNNEL_INCLUDE_TRIGGERS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/change.h"
#include "runnel/function.h"
#include "runnel/status.h"

namespace runnel {

// Limits (the cloud's, where it has one).
inline constexpr uint32_t kMaxFunctionTimeoutSeconds = 900;
inline constexpr uint32_t kMaxBatchSize = 10000;
inline constexpr uint32_t kMaxBatchingWindowSeconds = 300;
// TumblingWindowInSeconds: 0 (no windows) to 900, as in the cloud.
inline constexpr uint32_t kMaxTumblingWindowSeconds = 900;
// The most a handler's window state may take (its JSON, in bytes).
inline constexpr size_t kMaxWindowStateBytes = 1u << 20;
inline constexpr int32_t kMaxRetryAttempts = 10000;
inline constexpr int32_t kMinRecordAgeSeconds = 60;
inline constexpr int32_t kMaxRecordAgeSeconds = 604800;
inline constexpr uint32_t kMaxParallelizationFactor = 10;
// FilterCriteria: at most this many filters per mapping, each pattern at
// most this many characters.
inline constexpr size_t kMaxFilters = 5;
inline constexpr size_t kMaxFilterPatternLength = 4096;
// A handler's write-back that would make a chain of triggers deeper than
// this is not committed (recursive loop detection).
inline constexpr int kMaxChainDepth = 16;

// Where a library function's handler runs (a runnel extension; the cloud
// always isolates).
//   kInProcess  in the host process (the default): the fastest; a crashing
//               plugin takes the host down, and a timeout is only noticed
//               when the handler returns.
//   kProcess    in a `runnel-worker` process that dlopen(3)s the plugin. The
//               batch, the handler's calls (items, write-backs, logs) and the
//               result cross a socket. A crash (signal, abort, exit) fails
//               only that invocation ("Runtime exited with error: ..." in the
//               function's log, a function error to the mapping); a handler
//               past its timeout is killed ("Task timed out after N.00
//               seconds"). Write-backs of a failed invocation are never
//               committed; the worker is started again for the next batch.
//               The worker executable is $RUNNEL_WORKER if set, else
//               `runnel-worker` beside the running executable, else in the
//               install's bin directory.
enum class FunctionIsolation : uint8_t {
  kInProcess = 0,
  kProcess = 1,
};
// "none" or "process" (the tool's --isolation values).
std::string_view FunctionIsolationName(FunctionIsolation isolation);
bool ParseFunctionIsolation(std::string_view name, FunctionIsolation* isolation);

struct FunctionConfiguration {
  // FunctionName: 1–64 characters of [A-Za-z0-9_-].
  std::string function_name;
  // The shared library; recorded as an absolute, resolved path. Empty for a
  // function registered in-process.
  std::string library;
  // The exported handler symbol.
  std::string handler = RUNNEL_DEFAULT_HANDLER_SYMBOL;
  std::map<std::string, std::string> environment;
  // 1–900 seconds (the cloud's default is 3).
  uint32_t timeout_seconds = 3;
  std::string description;
  // Library functions only; an in-process function cannot be isolated.
  FunctionIsolation isolation = FunctionIsolation::kInProcess;

  // Set by runnel.
  std::string function_arn;  // arn:aws:lambda:<region>:<account>:function:<name>
  bool in_process = false;
  int64_t last_modified_micros = 0;
  std::string code_hash;  // XXH3-128 of the library file (CodeSha256's role)
};

enum class StartingPosition : uint8_t {
  kTrimHorizon = 0,
  kLatest = 1,
  kAtTimestamp = 2,
  kAtSequenceNumber = 3,  // runnel goes beyond the cloud here
  // A runnel extension (the cloud refuses it): the mapping first receives
  // every item of the source table as of one consistent snapshot at some
  // sequence S, as INSERT records marked snapshot (ChangeRecord::snapshot,
  // runnel_record.snapshot, "runnelSnapshot": true in the event JSON), then
  // the stream after S. No item is missed or doubled: each key's delivered
  // history is its snapshot state followed by exactly its changes after it,
  // even when retention trimmed the stream's start, and across a crash
  // during the snapshot (the scan resumes after the last delivered key as of
  // a newer snapshot, and stream records already covered by that newer read
  // are skipped). While the snapshot phase runs, retention keeps the stream
  // after S. Snapshot batches follow BatchSize, filters, retries, bisection
  // and the failure destination as stream batches do; every record of one
  // snapshot pass carries S as its sequence number, so a partial batch
  // failure retries the batch from its first record.
  kSnapshot = 4,
};
std::string_view StartingPositionName(StartingPosition p);
bool ParseStartingPosition(std::string_view name, StartingPosition* p);

// An event source mapping's State, as the cloud names it. runnel reports
// kCreating, kUpdating and kDeleting in the answers to the calls that cause
// them (as the cloud does) and kEnabled or kDisabled from Get and List; the
// others are there for the cloud's full set.
enum class MappingState : uint8_t {
  kCreating = 0,
  kEnabling = 1,
  kEnabled = 2,
  kDisabling = 3,
  kDisabled = 4,
  kUpdating = 5,
  kDeleting = 6,
};
// The cloud's name: "Creating", "Enabling", "Enabled", "Disabling",
// "Disabled", "Updating" or "Deleting".
std::string_view MappingStateName(MappingState state);

struct EventSourceMappingConfiguration {
  // Set by runnel.
  std::string uuid;
  // FunctionName.
  std::string function_name;
  // On create: a stream ARN, or a table name (its latest stream). Returned as
  // the stream ARN (EventSourceArn).
  std::string event_source;
  uint32_t batch_size = 100;                     // 1–10000
  uint32_t maximum_batching_window_seconds = 0;  // 0–300
  StartingPosition starting_position = StartingPosition::kTrimHorizon;
  int64_t starting_position_timestamp_micros = 0;  // kAtTimestamp
  SequenceNumber starting_sequence_number = 0;     // kAtSequenceNumber
  bool enabled = true;
  // -1: retry until the records expire; 0–10000.
  int32_t maximum_retry_attempts = -1;
  // -1: no limit; 60–604800.
  int32_t maximum_record_age_seconds = -1;
  bool bisect_batch_on_function_error = false;
  // DestinationConfig.OnFailure: a table of this DB that receives one item
  // per discarded batch (the cloud's record shape, no record data). Empty:
  // none.
  std::string on_failure_destination;
  // FunctionResponseTypes = [ReportBatchItemFailures].
  bool report_batch_item_failures = false;
  // FilterCriteria.Filters[].Pattern: EventBridge-style JSON patterns over
  // each record as the function would receive it (eventName,
  // dynamodb.Keys / NewImage / OldImage with typed values, ...); at most
  // kMaxFilters of at most kMaxFilterPatternLength characters. A record is
  // delivered when any pattern matches it (all are, when there is none);
  // the others are never delivered and the mapping's position moves past
  // them (a batch left empty is not invoked). An invalid pattern is refused
  // (InvalidArgument naming the filter, the key and the operator).
  std::vector<std::string> filter_patterns;
  // ParallelizationFactor, 1–10: the records are split into this many lanes
  // by a hash (XXH3-64) of the item key; the lanes run concurrently, each
  // with its own batches, retries, bisection, partial batch responses and
  // failure destination. Records of one key stay in order (one key is
  // always in the same lane); records of different keys in different lanes
  // may be delivered in any order. In-process handlers (library plugins
  // without isolation, RegisterInProcessFunction handlers) are then called
  // from up to this many threads at once and must be thread-safe; isolated
  // functions get a worker process per lane. Each lane's progress is
  // committed with its write-backs (exactly-once effects per lane), and
  // after a crash every lane resumes from its own committed position. A
  // change of the factor first lets the old lanes catch up with the one
  // furthest ahead, then re-splits from that common position: no record is
  // lost, skipped or delivered twice because of it.
  uint32_t parallelization_factor = 1;
  // TumblingWindowInSeconds, 0 to kMaxTumblingWindowSeconds; 0: none.
  // With a window, records are grouped into windows of this many seconds,
  // aligned to multiples of it since the Unix epoch (UTC), by the time each
  // record was committed. The handler receives the window, the state it
  // returned for the window's previous batch ("{}" at first) and flags
  // (runnel_window in runnel/function.h), and must return the new state, a
  // JSON object of at most kMaxWindowStateBytes; an invocation that returns
  // none fails, as in the cloud. Once the window has ended (a record of a
  // later window was committed, or the clock passed its end), a final
  // invocation with no records and isFinalInvokeForWindow reports the
  // aggregate; the state is then dropped. The state is committed with the
  // mapping's checkpoint (and the final invocation's write-backs with the
  // checkpoint that closes the window), so a window's aggregate survives a
  // crash and its final invocation's effects happen exactly once. A state
  // over the limit terminates the window early: the final invocation gets
  // the state before that batch (isWindowTerminatedEarly), and the batch is
  // delivered again in the same window with a fresh state. A change of the
  // setting applies from the next window (0 ends an open window with its
  // final invocation).
  uint32_t tumbling_window_seconds = 0;

  // Set by runnel.
  std::string function_arn;
  MappingState state = MappingState::kCreating;
  std::string state_transition_reason;  // "User action"
  int64_t last_modified_micros = 0;
  // "No records processed", "OK", or "PROBLEM: ...".
  std::string last_processing_result;
};

// Fields to change in UpdateEventSourceMapping; unset fields stay.
struct EventSourceMappingUpdate {
  std::optional<std::string> function_name;
  std::optional<uint32_t> batch_size;
  std::optional<uint32_t> maximum_batching_window_seconds;
  std::optional<bool> enabled;
  std::optional<int32_t> maximum_retry_attempts;
  std::optional<int32_t> maximum_record_age_seconds;
  std::optional<bool> bisect_batch_on_function_error;
  std::optional<std::string> on_failure_destination;
  std::optional<bool> report_batch_item_failures;
  // Replaces all filters; an empty list removes them.
  std::optional<std::vector<std::string>> filter_patterns;
  std::optional<uint32_t> parallelization_factor;  // 1–10
  std::optional<uint32_t> tumbling_window_seconds;
};

struct MappingMetrics {
  // Age of the last record of the last batch when it was processed.
  int64_t iterator_age_ms = 0;
  uint64_t invocations = 0;
  uint64_t errors = 0;
  uint64_t records_in = 0;
  uint64_t records_failed = 0;  // sent to the failure destination
  // Records that matched none of the mapping's filters (never delivered),
  // since the runtime started the mapping; not durable.
  uint64_t records_filtered_out = 0;
  double duration_p50_ms = 0;
  double duration_p99_ms = 0;
  int64_t last_invocation_micros = 0;
  // The stream position the mapping processes next (with several lanes:
  // the lowest of them, the low-water mark).
  SequenceNumber position = 0;
  // Lanes currently invoking or with records to process (0 when caught up;
  // at most ParallelizationFactor).
  uint32_t concurrent_lanes = 0;
  // StartingPosition SNAPSHOT: snapshot records processed (delivered, or sent
  // to the failure destination; filtered-out ones excluded), durable with
  // the checkpoint; whether the table's items have all been read; and the
  // sequence S of the snapshot the stream phase starts after (the smallest,
  // if a restart resumed the scan as of a newer one). 0/false otherwise.
  uint64_t snapshot_records = 0;
  bool snapshot_done = false;
  SequenceNumber snapshot_sequence = 0;
};

// One line of a function's log.
struct FunctionLogLine {
  int64_t time_micros = 0;
  std::string text;
};

// Reads a function's log lines from the files of the DB in `db_dir`
// (DIR/logs/<function>/) without opening the DB: takes no lock and writes
// nothing, so the DB may be open in another process (lines its runtime has
// not flushed yet are missing; it flushes at least every 100 ms while busy).
// Lines logged at or after `since_micros`, oldest first. NotFound if the
// function has no log (one is created at its first invocation), and for a
// name no function can have. Unlike Triggers::ReadFunctionLog, it does not
// check that the function still exists.
Status ReadFunctionLogFiles(const std::string& db_dir, std::string_view function_name,
                            int64_t since_micros, std::vector<FunctionLogLine>* lines);

// A function the application provides in-process (no shared library). It
// receives exactly what a plugin's handler receives.
using InProcessHandler = std::function<int(const runnel_batch& batch, runnel_context* ctx)>;

class Triggers {
 public:
  Triggers() = default;
  Triggers(const Triggers&) = delete;
  Triggers& operator=(const Triggers&) = delete;
  virtual ~Triggers() = default;

  // --- Functions.

  // Loads the library to check it (file, ABI version, handler symbol,
  // runnel_init) before anything is recorded. Busy if the name exists.
  virtual Status CreateFunction(const FunctionConfiguration& config,
                                FunctionConfiguration* created) = 0;
  // Creates (or re-binds, after a restart) a function served by `handler`
  // in this process. Mappings of the function wait (with a PROBLEM result)
  // while no handler is bound.
  virtual Status RegisterInProcessFunction(const FunctionConfiguration& config,
                                           InProcessHandler handler) = 0;
  virtual Status GetFunction(std::string_view name, FunctionConfiguration* config) = 0;
  virtual Status ListFunctions(std::vector<FunctionConfiguration>* functions) = 0;
  // Replaces the function's library, handler, environment, timeout and
  // description (the new library is loaded and checked first) and reloads it.
  virtual Status UpdateFunction(const FunctionConfiguration& config,
                                FunctionConfiguration* updated) = 0;
  // FailedPrecondition while mappings use the function, unless `force`
  // (then those mappings are deleted too).
  virtual Status DeleteFunction(std::string_view name, bool force) = 0;
  // Invokes the function once with `payload`, a DynamoDB Streams event
  // ({"Records":[...]}, as RecordToJson renders them), like `lambda invoke`.
  // *response is {"StatusCode":200,...} with "FunctionError" set if the
  // handler failed and "batchItemFailures" if it reported any, and, when an
  // isolated function's worker died or was killed at the timeout, the
  // cloud's payload fields "errorType" (Runtime.ExitError, Sandbox.Timedout)
  // and "errorMessage". Write-backs of an invocation are committed if it
  // succeeds.
  virtual Status Invoke(std::string_view name, std::string_view payload, std::string* response) = 0;

  // --- Event source mappings.

  // Validates every setting (naming the allowed range), resolves the
  // starting position, and returns the configuration with its UUID and
  // State kCreating, as the cloud does.
  virtual Status CreateEventSourceMapping(const EventSourceMappingConfiguration& config,
                                          EventSourceMappingConfiguration* created) = 0;
  // Filters are optional (empty matches all). Paging: pass the previous
  // call's *next_marker as `marker`; max_items 0 means all.
  virtual Status ListEventSourceMappings(std::string_view function_name,
                                         std::string_view event_source_arn, std::string_view marker,
                                         size_t max_items,
                                         std::vector<EventSourceMappingConfiguration>* mappings,
                                         std::string* next_marker) = 0;
  virtual Status GetEventSourceMapping(std::string_view uuid,
                                       EventSourceMappingConfiguration* config) = 0;
  // Returns the configuration with State kUpdating.
  virtual Status UpdateEventSourceMapping(std::string_view uuid,
                                          const EventSourceMappingUpdate& update,
                                          EventSourceMappingConfiguration* updated) = 0;
  // Returns the configuration with State kDeleting.
  virtual Status DeleteEventSourceMapping(std::string_view uuid,
                                          EventSourceMappingConfiguration* deleted) = 0;
  virtual Status GetMappingMetrics(std::string_view uuid, MappingMetrics* metrics) = 0;

  // --- Function logs.

  // Lines logged at or after `since_micros`, oldest first.
  virtual Status ReadFunctionLog(std::string_view name, int64_t since_micros,
                                 std::vector<FunctionLogLine>* lines) = 0;

  // --- The runtime (runs in the process that owns the DB).

  // Starts a worker for every enabled mapping (and for mappings created or
  // enabled later). Idempotent.
  virtual Status Start() = 0;
  // Stops the workers after their current invocation. Idempotent.
  virtual void Stop() = 0;
  // Waits until every enabled mapping whose function is available has
  // processed everything committed so far (or is blocked on a failing
  // batch), or the timeout passes: OK or TimedOut.
  virtual Status WaitUntilIdle(std::chrono::milliseconds timeout) = 0;
};

}  // namespace runnel

#endif  // RUNNEL_INCLUDE_TRIGGERS_H_
