// Copyright 2026 The runnel Authors.

#include "triggers/worker_pool.h"

#include <algorithm>

namespace runnel {

WorkerPool::Wait WorkerPool::Wait::Until(Clock::time_point deadline) {
  Wait w;
  w.kind = Kind::kTime;
  w.deadline = deadline;
  return w;
}

WorkerPool::Wait WorkerPool::Wait::ForTableChange(uint32_t table, uint64_t sequence,
                                                  Clock::time_point deadline) {
  Wait w;
  w.kind = Kind::kTableChange;
  w.deadline = deadline;
  w.table = table;
  w.sequence = sequence;
  return w;
}

WorkerPool::Wait WorkerPool::Wait::Done() {
  Wait w;
  w.kind = Kind::kDone;
  return w;
}

size_t DefaultTriggerThreads() {
  return std::max<size_t>(4, 4 * std::max(1u, std::thread::hardware_concurrency()));
}

WorkerPool::WorkerPool(size_t threads) {
  threads = std::max<size_t>(threads, 1);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  {
    MutexLock lock(&mu_);
    shutdown_ = true;
  }
  work_cv_.SignalAll();
  timer_cv_.SignalAll();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Add(Task* task) {
  MutexLock lock(&mu_);
  MakeReady(task);
}

void WorkerPool::Wake(Task* task) {
  MutexLock lock(&mu_);
  switch (task->state_) {
    case Task::State::kRunning:
      task->woken_ = true;
      break;
    case Task::State::kWaiting:
      Unpark(task);
      MakeReady(task);
      break;
    default:  // not added, ready already, or done
      break;
  }
}

void WorkerPool::Join(Task* task) {
  MutexLock lock(&mu_);
  while (task->state_ != Task::State::kDone && task->state_ != Task::State::kNew) {
    done_cv_.Wait(&mu_);
  }
}

void WorkerPool::OnTableChange(uint64_t last, const std::vector<uint32_t>& tables) {
  MutexLock lock(&mu_);
  for (uint32_t table : tables) {
    uint64_t& seen = table_last_[table];
    seen = std::max(seen, last);
    auto it = table_waiters_.find(table);
    if (it == table_waiters_.end()) continue;
    std::vector<Task*> due;
    for (Task* t : it->second) {
      if (t->wait_.sequence <= last) due.push_back(t);
    }
    for (Task* t : due) {
      Unpark(t);
      MakeReady(t);
    }
  }
}

void WorkerPool::MakeReady(Task* task, bool wake) {
  task->state_ = Task::State::kReady;
  ready_.push_back(task);
  if (!wake) return;
  if (sleepers_ > 0) {
    work_cv_.Signal();
  } else if (keeper_) {
    timer_cv_.Signal();
  }
}

void WorkerPool::Unpark(Task* task) {
  if (task->has_timer_) {
    timers_.erase(task->timer_);
    task->has_timer_ = false;
  }
  if (task->wait_.kind == Wait::Kind::kTableChange) {
    auto it = table_waiters_.find(task->wait_.table);
    if (it != table_waiters_.end()) {
      it->second.erase(task);
      if (it->second.empty()) table_waiters_.erase(it);
    }
  }
  task->wait_ = Wait();
}

void WorkerPool::Park(Task* task, const Wait& wait) {
  if (wait.kind == Wait::Kind::kDone) {
    task->state_ = Task::State::kDone;
    done_cv_.SignalAll();
    return;
  }
  const bool woken = task->woken_;
  task->woken_ = false;
  if (wait.kind == Wait::Kind::kNone || woken || wait.deadline <= Clock::now()) {
    // The thread that ran the step looks at the queue next: no other needs
    // waking for it.
    MakeReady(task, /*wake=*/false);
    return;
  }
  if (wait.kind == Wait::Kind::kTableChange) {
    // The change may have been committed while the step ran (after it read
    // the stream's end): then waiting for it would sleep through it.
    auto seen = table_last_.find(wait.table);
    if (seen != table_last_.end() && seen->second >= wait.sequence) {
      MakeReady(task, /*wake=*/false);
      return;
    }
    table_waiters_[wait.table].insert(task);
  }
  task->wait_ = wait;
  task->state_ = Task::State::kWaiting;
  task->timer_ = timers_.emplace(wait.deadline, task);
  task->has_timer_ = true;
  if (keeper_) {
    // The keeper must wait for this one instead.
    if (wait.deadline < keeper_deadline_) timer_cv_.Signal();
  } else if (sleepers_ > 0) {
    work_cv_.Signal();  // one of them becomes the keeper
  }
}

void WorkerPool::FireTimers(Clock::time_point now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    Task* t = timers_.begin()->second;
    Unpark(t);
    MakeReady(t);
  }
}

void WorkerPool::Loop() {
  MutexLock lock(&mu_);
  while (!shutdown_) {
    FireTimers(Clock::now());
    if (ready_.empty()) {
      if (!keeper_ && !timers_.empty()) {
        keeper_ = true;
        // A copy: the timer may be erased while this thread waits.
        keeper_deadline_ = timers_.begin()->first;
        const Clock::time_point deadline = keeper_deadline_;
        timer_cv_.WaitUntil(&mu_, deadline);
        keeper_ = false;
      } else {
        ++sleepers_;
        work_cv_.Wait(&mu_);
        --sleepers_;
      }
      continue;
    }
    Task* task = ready_.front();
    ready_.pop_front();
    // More are ready: pass the wake-up on. (A signal sent while a woken
    // thread had not yet left its wait reached no one else: without this,
    // a second task made ready with the first could wait for this one's
    // whole step, or for the keeper's deadline.)
    if (!ready_.empty()) {
      if (sleepers_ > 0) {
        work_cv_.Signal();
      } else if (keeper_) {
        timer_cv_.Signal();
      }
    }
    task->state_ = Task::State::kRunning;
    mu_.Unlock();
    const Wait wait = task->Step();
    mu_.Lock();
    Park(task, wait);
  }
}

}  // namespace runnel
