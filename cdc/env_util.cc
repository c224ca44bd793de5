// Copyright 2026 The runnel Authors.

#include "cdc/env_util.h"

#include <fcntl.h>
#include <leveldb/env.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runnel {

Env::~Env() = default;

Env* Env::Default() {
  static LevelDBEnvAdapter* const env = new LevelDBEnvAdapter(leveldb::Env::Default());
  return env;
}

leveldb::Env* ToLevelDBEnv(Env* env) {
  if (env == nullptr) return leveldb::Env::Default();
  // Once per Open, not per I/O: the cast only checks where the Env came from.
  auto* adapter = dynamic_cast<LevelDBEnvAdapter*>(env);
  return adapter != nullptr ? adapter->target() : nullptr;
}

Status FromLevelDB(const leveldb::Status& s, const std::string& context) {
  if (s.ok()) return Status::OK();
  std::string msg = s.ToString();
  if (!context.empty()) msg = context + ": " + msg;
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotSupportedError()) return Status::NotSupported(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Status::IOError(dir + ": open for fsync: " + std::strerror(errno));
  }
  Status s;
  if (::fsync(fd) != 0) {
    s = Status::IOError(dir + ": fsync: " + std::strerror(errno));
  }
  ::close(fd);
  return s;
}

Status TruncateFile(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    return Status::IOError(path + ": truncate: " + std::strerror(errno));
  }
  return Status::OK();
}

}  // namespace runnel
