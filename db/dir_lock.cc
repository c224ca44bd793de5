// Copyright 2026 The runnel Authors.

#include "db/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace runnel {

Status DirLock::Acquire(const std::string& dir, std::unique_ptr<DirLock>* lock) {
  const std::string path = dir + "/LOCK";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IOError(path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
        pid.pop_back();
      }
      return Status::Busy("DB directory " + dir + " is locked by pid " +
                          (pid.empty() ? "unknown" : pid));
    }
    return Status::IOError(path + ": flock: " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return Status::IOError(path + ": write pid: " + std::strerror(err));
  }
  lock->reset(new DirLock(fd));
  return Status::OK();
}

DirLock::~DirLock() {
  // Closing the descriptor releases the flock. The pid is left in the file:
  // it only matters while the lock is held.
  ::close(fd_);
}

}  // namespace runnel
