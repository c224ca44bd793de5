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

#include "runnel/status.h"

namespace runnel {

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
