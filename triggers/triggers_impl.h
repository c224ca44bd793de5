// Copyright 2026 The runnel Authors.
//
// TriggersImpl: the function and mapping registry (metadata frames of the
// DB's log) and the runtime that runs one MappingLanes (a MappingWorker per
// lane) per enabled mapping.

#ifndef RUNNEL_TRIGGERS_TRIGGERS_IMPL_H_
#define RUNNEL_TRIGGERS_TRIGGERS_IMPL_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "cdc/codec.h"
#include "db/db_internal.h"
#include "runnel/triggers.h"
#include "triggers/function_library.h"
#include "triggers/function_log.h"
#include "triggers/isolated_function.h"
#include "triggers/worker_pool.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace runnel {

class MappingLanes;

// What a worker needs to call a function: a loaded library or an
// in-process handler, plus the function's configuration at the time.
struct ResolvedFunction {
  log::FunctionEntryData config;
  std::shared_ptr<FunctionLibrary> library;    // keeps the code loaded
  std::shared_ptr<IsolatedFunction> isolated;  // its worker, if isolated
  std::function<int(const runnel_batch*, runnel_context*)> call;
};

// Attached to its DB (DBInternal::Attach), which stops it first on Close.
class TriggersImpl final : public Triggers, public DBInternal::Attachment {
 public:
  // `threads`: the WorkerPool's size while running (0: the default).
  TriggersImpl(DBInternal* db, size_t threads);
  ~TriggersImpl() override;

  Status CreateFunction(const FunctionConfiguration& config,
                        FunctionConfiguration* created) override;
  Status RegisterInProcessFunction(const FunctionConfiguration& config,
                                   InProcessHandler handler) override;
  Status GetFunction(std::string_view name, FunctionConfiguration* config) override;
  Status ListFunctions(std::vector<FunctionConfiguration>* functions) override;
  Status UpdateFunction(const FunctionConfiguration& config,
                        FunctionConfiguration* updated) override;
  Status DeleteFunction(std::string_view name, bool force) override;
  Status Invoke(std::string_view name, std::string_view payload, std::string* response) override;

  Status CreateEventSourceMapping(const EventSourceMappingConfiguration& config,
                                  EventSourceMappingConfiguration* created) override;
  Status ListEventSourceMappings(std::string_view function_name, std::string_view event_source_arn,
                                 std::string_view marker, size_t max_items,
                                 std::vector<EventSourceMappingConfiguration>* mappings,
                                 std::string* next_marker) override;
  Status GetEventSourceMapping(std::string_view uuid,
                               EventSourceMappingConfiguration* config) override;
  Status UpdateEventSourceMapping(std::string_view uuid, const EventSourceMappingUpdate& update,
                                  EventSourceMappingConfiguration* updated) override;
  Status DeleteEventSourceMapping(std::string_view uuid,
                                  EventSourceMappingConfiguration* deleted) override;
  Status GetMappingMetrics(std::string_view uuid, MappingMetrics* metrics) override;
  Status ReadFunctionLog(std::string_view name, int64_t since_micros,
                         std::vector<FunctionLogLine>* lines) override;
  Status Start() override;
  void Stop() override;
  Status WaitUntilIdle(std::chrono::milliseconds timeout) override;

  // --- DBInternal::Attachment
  void BeforeClose() override { Stop(); }
  Triggers* triggers() override { return this; }

  // --- For MappingWorker.
  DBInternal* db() const { return db_; }
  // The function's callable, loading its library on first use. NotFound /
  // FailedPrecondition (no in-process handler bound) / the load error.
  Status Resolve(const std::string& name, ResolvedFunction* out);
  FunctionLog* LogFor(const std::string& function_name);
  bool running() const { return running_.load(); }
  // The pool the lanes run on; set by the first Start(), lives as long as
  // the runtime.
  WorkerPool* pool() const { return pool_.load(); }

 private:
  Status ValidateFunction(const FunctionConfiguration& c, bool library) const;
  Status LoadChecked(const FunctionConfiguration& c, log::FunctionEntryData* entry,
                     std::shared_ptr<FunctionLibrary>* library);
  // Loads and checks the library, then records the function: a new one
  // (Busy if it exists) or a replacement (NotFound if it does not).
  Status PutLibraryFunction(const FunctionConfiguration& config, bool create,
                            FunctionConfiguration* out);
  FunctionConfiguration Describe(const log::FunctionEntryData& f) const;
  EventSourceMappingConfiguration Describe(const log::MappingEntryData& m);
  Status ValidateMapping(const log::MappingEntryData& m) const;
  // CreateEventSourceMapping's steps: the stream ARN of an event source (a
  // stream ARN, or a table with a stream), and the position a new mapping
  // starts from.
  Status ResolveEventSource(const std::string& event_source, std::string* arn);
  Status ResolveStartingPosition(const EventSourceMappingConfiguration& config,
                                 const std::string& arn, uint64_t* position);
  // Starts and stops workers to match the catalog.
  void Reconcile() EXCLUDES(mu_, workers_mu_);
  // Wakes every worker to look again at what blocked it (a function that
  // was missing may now be there).
  void RetryWorkers() EXCLUDES(workers_mu_);

  DBInternal* const db_;
  const size_t threads_;
  std::atomic<bool> running_{false};
  // Owned by pool_owner_: created by the first Start, destroyed with the
  // runtime (after ~TriggersImpl's Stop; a Stop racing with a Reconcile may
  // leave lanes stopping on it). pool_ lets lanes find it without a lock.
  // The DB calls it on each commit while listening_ (Start to Stop).
  std::unique_ptr<WorkerPool> pool_owner_ GUARDED_BY(workers_mu_);
  std::atomic<WorkerPool*> pool_{nullptr};
  bool listening_ GUARDED_BY(workers_mu_) = false;

  Mutex mu_;
  std::map<std::string, InProcessHandler, std::less<>> in_process_ GUARDED_BY(mu_);
  struct Loaded {
    std::string path;
    std::string handler;
    std::string code_hash;
    std::shared_ptr<FunctionLibrary> library;
  };
  std::map<std::string, Loaded, std::less<>> loaded_ GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<FunctionLog>, std::less<>> logs_ GUARDED_BY(mu_);

  Mutex workers_mu_;  // serializes Reconcile
  std::map<uint32_t, std::unique_ptr<MappingLanes>> workers_ GUARDED_BY(workers_mu_);
};

// XXH3-128 of a file, as 32 hex digits.
Status HashFile(const std::string& path, std::string* hash);

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_TRIGGERS_IMPL_H_
