// Copyright 2026 The runnel Authors.

#include "tests/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>

namespace runnel::test {

using Clock = std::chrono::steady_clock;

ChildExit RunChild(const std::vector<std::string>& argv, const std::string& stderr_path,
                   const ChildSchedule& schedule,
                   const std::function<bool(const std::string&)>& on_line) {
  ChildExit out;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) ::dup2(err, 2);
    ::execv(args[0], args.data());
    _exit(127);
  }
  ::close(fds[1]);
  const int rfd = fds[0];

  const Clock::time_point start = Clock::now();
  std::optional<Clock::time_point> kill_at;
  if (schedule.kill_after_start) kill_at = start + *schedule.kill_after_start;
  const Clock::time_point give_up = start + schedule.give_up;
  std::string buf;
  auto consume = [&] {
    size_t pos;
    while ((pos = buf.find('\n')) != std::string::npos) {
      const bool ready = on_line(buf.substr(0, pos));
      buf.erase(0, pos + 1);
      if (ready && !kill_at && schedule.kill_after_ready) {
        kill_at = Clock::now() + *schedule.kill_after_ready;
      }
    }
  };
  bool eof = false;
  char chunk[1 << 16];
  while (!eof) {
    const Clock::time_point now = Clock::now();
    if ((kill_at && now >= *kill_at) || now >= give_up) break;
    const auto until = kill_at ? std::min(*kill_at, give_up) : give_up;
    const int wait_ms =
        static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count()) +
        1;
    pollfd p{rfd, POLLIN, 0};
    const int r = ::poll(&p, 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) {
      const ssize_t n = ::read(rfd, chunk, sizeof(chunk));
      if (n > 0) {
        buf.append(chunk, static_cast<size_t>(n));
        consume();
      } else if (n == 0) {
        eof = true;
      }
    }
  }
  out.timed_out = !eof && (!kill_at || Clock::now() < *kill_at);
  // A child that closed its stdout is exiting by itself: a kill now could
  // race with its exit and replace its status.
  if (!eof) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // Drain what the child wrote before it died.
  for (;;) {
    const ssize_t n = ::read(rfd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  consume();
  ::close(rfd);
  out.status = status;
  out.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  out.exited = WIFEXITED(status);
  return out;
}

}  // namespace runnel::test
