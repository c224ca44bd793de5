// Copyright 2026 The runnel Authors.
//
// Running and killing the child processes of the crash tests, and the
// children's side of their line protocol on stdout.

#ifndef RUNNEL_TESTS_CHILD_PROCESS_H_
#define RUNNEL_TESTS_CHILD_PROCESS_H_

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace runnel::test {

struct ChildSchedule {
  // SIGKILL this long after the start (if set) ...
  std::optional<std::chrono::milliseconds> kill_after_start;
  // ... or this long after the child reported itself ready (if set).
  std::optional<std::chrono::milliseconds> kill_after_ready;
  // Stop waiting (and kill) after this long in any case.
  std::chrono::milliseconds give_up{30000};
};

struct ChildExit {
  int status = 0;          // from waitpid
  bool killed = false;     // died of our SIGKILL
  bool exited = false;     // exited by itself
  bool timed_out = false;  // give_up passed before the planned kill or exit
};

// Runs argv[0] with argv, stdout on a pipe and stderr appended to
// `stderr_path`. Every complete stdout line goes to on_line, which returns
// true when the line says the child is ready (that starts kill_after_ready).
// An incomplete last line (a write cut by the kill) is dropped. The child is
// killed only if it has not closed its stdout, so a child that exits by
// itself keeps its exit status.
ChildExit RunChild(const std::vector<std::string>& argv, const std::string& stderr_path,
                   const ChildSchedule& schedule,
                   const std::function<bool(const std::string&)>& on_line);

// The child's side: writes one line to stdout with write(2), whole (a kill
// can cut it, and the parent then drops it); exits 5 if the parent is gone.
inline void EmitLine(const std::string& line) {
  const std::string s = line + "\n";
  const char* p = s.data();
  size_t left = s.size();
  while (left > 0) {
    const ssize_t n = ::write(1, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      _exit(5);  // the parent went away
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace runnel::test

#endif  // RUNNEL_TESTS_CHILD_PROCESS_H_
