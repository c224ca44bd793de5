// Copyright 2026 The runnel Authors.
//
// DirLock: exclusive ownership of a DB directory by one DB object.
//
// flock(2) on DIR/LOCK: unlike fcntl locks it also excludes a second open in
// the same process, and the kernel releases it when the process dies (a crash
// never leaves a stale lock). The owner's pid is written into the file so that
// a refused open can say who holds it.

#ifndef RUNNEL_DB_DIR_LOCK_H_
#define RUNNEL_DB_DIR_LOCK_H_

#include <memory>
#include <string>

#include "runnel/status.h"

namespace runnel {

class DirLock {
 public:
  // Busy("DB directory DIR is locked by pid N") if another owner holds it.
  static Status Acquire(const std::string& dir, std::unique_ptr<DirLock>* lock);
  ~DirLock();  // releases
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace runnel

#endif  // RUNNEL_DB_DIR_LOCK_H_
