// Copyright 2026 The runnel Authors.
//
// WorkerPool: a fixed number of threads that run the steps of many tasks
// (the lanes of every event source mapping). A task runs one step at a
// time; between steps it waits for a time, for a commit to a table, or to be
// woken, without holding a thread. So 1000 mappings of 10 lanes each cost
// 10000 small objects and a few threads, not 10000 threads; and a commit to
// a table makes the tasks waiting on it ready at once (the committing thread
// calls OnTableChange), so a lone mapping's commit -> handler latency is one
// thread wakeup, as with a thread of its own.
//
// Thread safety: every method may be called from any thread, except that
// Join() must not be called from a pool thread (it waits for one).

#ifndef RUNNEL_TRIGGERS_WORKER_POOL_H_
#define RUNNEL_TRIGGERS_WORKER_POOL_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace runnel {

class WorkerPool {
 public:
  using Clock = std::chrono::steady_clock;

  // What a task waits for after a step.
  struct Wait {
    enum class Kind { kNone, kTime, kTableChange, kDone };
    Kind kind = Kind::kNone;
    Clock::time_point deadline;
    uint32_t table = 0;
    uint64_t sequence = 0;

    // Runs again once the tasks ready before it had their turn.
    static Wait None() { return Wait(); }
    // Runs again at `deadline` (or when woken).
    static Wait Until(Clock::time_point deadline);
    // Runs again once a change to `table` at or after `sequence` is
    // committed, or at `deadline` (or when woken).
    static Wait ForTableChange(uint32_t table, uint64_t sequence, Clock::time_point deadline);
    // Never runs again: Join() returns.
    static Wait Done();
  };

  class Task {
   public:
    Task() = default;
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    virtual ~Task() = default;

    // One step, on a pool thread. Steps of one task never overlap, and each
    // step sees what the previous one wrote.
    virtual Wait Step() = 0;

   private:
    friend class WorkerPool;
    enum class State { kNew, kReady, kRunning, kWaiting, kDone };
    // All guarded by the pool's mutex.
    State state_ = State::kNew;
    bool woken_ = false;  // Wake() while running: ready again at once
    Wait wait_;
    bool has_timer_ = false;
    std::multimap<Clock::time_point, Task*>::iterator timer_;
  };

  // Starts `threads` threads (at least one).
  explicit WorkerPool(size_t threads);
  // Joins the threads. Requires: every task added is done (Join returned).
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Makes `task` ready to run its first step. It must stay alive until it is
  // done (its Step returned Wait::Done and Join returned).
  void Add(Task* task) EXCLUDES(mu_);
  // Ends `task`'s wait now; if a step is running, the next one runs right
  // after it. Nothing if the task is ready already or done.
  void Wake(Task* task) EXCLUDES(mu_);
  // Waits until `task`'s Step has returned Wait::Done (at once if it was
  // never added). The caller makes that happen (say, sets a flag the task
  // checks, then Wake()s it).
  void Join(Task* task) EXCLUDES(mu_);
  // A commit changed `tables`; its last record has sequence `last`. Called
  // by the committing thread (DBInternal::SetTableChangeListener).
  void OnTableChange(uint64_t last, const std::vector<uint32_t>& tables) EXCLUDES(mu_);

  size_t threads() const { return threads_.size(); }

 private:
  void Loop() EXCLUDES(mu_);
  // Queues `task`; with `wake`, wakes a thread for it if one is asleep.
  void MakeReady(Task* task, bool wake = true) REQUIRES(mu_);
  // Takes a waiting task off its timer and table.
  void Unpark(Task* task) REQUIRES(mu_);
  // After a step: queue the task again, park it, or finish it.
  void Park(Task* task, const Wait& wait) REQUIRES(mu_);
  void FireTimers(Clock::time_point now) REQUIRES(mu_);

  Mutex mu_;
  // Idle threads: at most one, the keeper, sleeps until the earliest timer
  // (on timer_cv_); the others sleep on work_cv_ until a task is ready. So a
  // commit wakes one thread, and a timer added later than the one the
  // keeper watches wakes none.
  CondVar work_cv_;
  CondVar timer_cv_;
  int sleepers_ GUARDED_BY(mu_) = 0;  // on work_cv_
  bool keeper_ GUARDED_BY(mu_) = false;
  Clock::time_point keeper_deadline_ GUARDED_BY(mu_);
  CondVar done_cv_;  // a task is done
  bool shutdown_ GUARDED_BY(mu_) = false;
  std::deque<Task*> ready_ GUARDED_BY(mu_);
  std::multimap<Clock::time_point, Task*> timers_ GUARDED_BY(mu_);
  // The tasks waiting for a change to each table, and the last sequence of
  // a change to each table seen since the pool started (a task about to
  // wait for a change that came meanwhile runs at once instead).
  std::unordered_map<uint32_t, std::unordered_set<Task*>> table_waiters_ GUARDED_BY(mu_);
  std::unordered_map<uint32_t, uint64_t> table_last_ GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// The default pool size: four threads per core (a handler that waits, for
// I/O or a lock, does not hold back the others), at least 4.
size_t DefaultTriggerThreads();

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_WORKER_POOL_H_
