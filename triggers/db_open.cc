// Copyright 2026 The runnel Authors.
//
// DB::Open and DestroyDB: where the store (db/) and the trigger runtime (triggers/) are put
// together. It lives here, above both, so that db/ knows nothing of
// triggers/: the runtime attaches to the DB through DBInternal.

#include <memory>

#include "db/db_internal.h"
#include "runnel/db.h"
#include "triggers/function_log.h"
#include "triggers/triggers_impl.h"

namespace runnel {

Status DB::Open(const Options& options, const std::string& dir, std::unique_ptr<DB>* db) {
  db->reset();
  std::unique_ptr<DBInternal> impl;
  Status s = DBInternal::Open(options, dir, &impl);
  if (!s.ok()) return s;
  auto runtime = std::make_unique<TriggersImpl>(impl.get(), options.trigger_threads);
  TriggersImpl* triggers = runtime.get();
  impl->Attach(std::move(runtime));
  if (options.run_triggers) {
    s = triggers->Start();
    if (!s.ok()) return s;  // destroying impl closes the DB
  }
  *db = std::move(impl);
  return Status::OK();
}

Status DestroyDB(const std::string& dir, const Options& options) {
  return DBInternal::Destroy(dir, options, [&dir] { return RemoveFunctionLogs(dir); });
}

}  // namespace runnel
