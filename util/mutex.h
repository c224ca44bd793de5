// Copyright 2026 The runnel Authors.
//
// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with
// clang thread-safety annotations (util/thread_annotations.h), so that state
// declared GUARDED_BY(mu_) is checked at compile time in the clang build.
// They add no behaviour and no cost: each call is the std:: call it wraps.
//
// Thread safety: a Mutex and a CondVar may be used from any thread; a
// MutexLock belongs to the thread that made it.

#ifndef RUNNEL_UTIL_MUTEX_H_
#define RUNNEL_UTIL_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "util/thread_annotations.h"

namespace runnel {

class CondVar;

// A non-recursive mutex. Prefer MutexLock over Lock()/Unlock() pairs.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // Tells the analysis the calling thread holds the mutex (not checked at
  // run time: std::mutex has no owner query).
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds a Mutex from construction to the end of the scope. Inside the scope
// the owner may Unlock() the mutex itself and Lock() it again (to do I/O
// without it), as long as it holds it when the scope ends.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable waited on with a Mutex held. It is not bound to one
// mutex, so it can live in a queued writer or a map entry; every waiter of
// one CondVar must pass the same Mutex (as with std::condition_variable).
// Wakeups may be spurious: callers wait in a loop on their condition.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases *mu, blocks until signalled (or a spurious wakeup), and returns
  // with *mu held again.
  void Wait(Mutex* mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held: the caller's lock owns it
  }

  // As Wait, but gives up at `deadline`: returns false if it returned
  // because the deadline passed (std::cv_status::timeout), true otherwise.
  // Either way *mu is held again on return.
  template <class Clock, class Duration>
  bool WaitUntil(Mutex* mu, const std::chrono::time_point<Clock, Duration>& deadline) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const std::cv_status status = cv_.wait_until(lock, deadline);
    lock.release();
    return status == std::cv_status::no_timeout;
  }

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace runnel

#endif  // RUNNEL_UTIL_MUTEX_H_
