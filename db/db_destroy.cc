// Copyright 2026 The runnel Authors.
//
// DBInternal::Destroy: the store's part of DestroyDB.

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/options.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "cdc/env_util.h"
#include "cdc/log_format.h"
#include "db/db_internal.h"
#include "db/dir_lock.h"

namespace runnel {

Status DBInternal::Destroy(const std::string& dir, const Options& options,
                           const std::function<Status()>& remove_attached) {
  leveldb::Env* env = ToLevelDBEnv(options.env);
  if (env == nullptr) {
    return Status::InvalidArgument("options.env: not an Env made by runnel (see runnel/env.h)");
  }
  if (dir.empty()) return Status::InvalidArgument("dir: must not be empty");
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::OK();
    return Status::IOError(dir + ": stat: " + std::strerror(errno));
  }
  // Held to the end, so that no DB opens the directory meanwhile.
  std::unique_ptr<DirLock> lock;
  Status s = DirLock::Acquire(dir, &lock);
  if (!s.ok()) return s;
  auto note = [&s](const Status& r) {
    if (s.ok()) s = r;
  };
  if (remove_attached) note(remove_attached());

  // Only files with the names runnel gives them: a directory that holds
  // something else keeps it (leveldb::DestroyDB does the same).
  const std::string wal = dir + "/wal";
  std::vector<std::string> names;
  if (env->GetChildren(wal, &names).ok()) {
    for (const std::string& name : names) {
      uint64_t first = 0;
      if (log::ParseSegmentFileName(name, &first)) {
        note(FromLevelDB(env->RemoveFile(wal + "/" + name), wal + "/" + name));
      }
    }
    env->RemoveDir(wal);  // fails if something else is left: it stays
  }
  leveldb::Options lo;
  lo.env = env;
  note(FromLevelDB(leveldb::DestroyDB(dir + "/index", lo), dir + "/index"));
  env->RemoveDir(dir + "/index");
  for (const char* name : {"IDENTITY", "IDENTITY.tmp", "LOG"}) {
    const std::string path = dir + "/" + name;
    if (env->FileExists(path)) note(FromLevelDB(env->RemoveFile(path), path));
  }
  // The lock file goes last, while it is still held (as in LevelDB).
  env->RemoveFile(dir + "/LOCK");
  lock.reset();
  env->RemoveDir(dir);
  return s;
}

}  // namespace runnel
