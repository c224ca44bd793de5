// Copyright 2026 The runnel Authors.
//
// Helpers at the boundary to leveldb::Env: status translation and
// whole-directory operations that Env does not offer.

#ifndef RUNNEL_CDC_ENV_UTIL_H_
#define RUNNEL_CDC_ENV_UTIL_H_

#include <leveldb/slice.h>
#include <leveldb/status.h>

#include <string>
#include <string_view>

#include "runnel/env.h"
#include "runnel/status.h"

namespace leveldb {
class Env;
}  // namespace leveldb

namespace runnel {

// The internal adapter behind the public Env handle (runnel/env.h): a
// leveldb::Env, not owned, which must outlive the adapter. Tests wrap their
// fault-injecting Envs in one to pass them as Options::env.
class LevelDBEnvAdapter final : public Env {
 public:
  explicit LevelDBEnvAdapter(leveldb::Env* target) : target_(target) {}
  leveldb::Env* target() const { return target_; }

 private:
  leveldb::Env* const target_;
};

// The leveldb::Env behind `env`: leveldb::Env::Default() for nullptr, and
// nullptr for an Env that runnel did not make.
leveldb::Env* ToLevelDBEnv(Env* env);

inline leveldb::Slice ToSlice(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }

// Translates a LevelDB status; `context` (e.g. a path) prefixes the message.
Status FromLevelDB(const leveldb::Status& s, const std::string& context = {});

// fsync(2) of a directory, so that files created or removed in it survive a
// power loss. Env has no such call; the fault-injection Env of the tests does
// not simulate directory entries (see tests/fault_env.h).
Status SyncDirectory(const std::string& dir);

// truncate(2) through the OS (Env has no truncate). Used only during recovery,
// before any writer exists, to cut a torn tail.
Status TruncateFile(const std::string& path, uint64_t size);

}  // namespace runnel

#endif  // RUNNEL_CDC_ENV_UTIL_H_
