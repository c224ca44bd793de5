// Copyright 2026 The runnel Authors.
//
// A progress bar on stderr for long commands (dump, load, inspect log). It
// is drawn only when stderr is a terminal, at most ten times a second, and
// erased when done; piped output never sees it.

#ifndef RUNNEL_TOOLS_PROGRESS_H_
#define RUNNEL_TOOLS_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "tools/cli.h"

namespace runnel::cli {

class Progress {
 public:
  // `total` 0 means unknown (a count without a bar).
  Progress(Context& ctx, std::string label, uint64_t total, std::string unit);
  ~Progress() { Done(); }
  void Add(uint64_t n);
  void Done();

 private:
  void Draw();
  FILE* err_;
  bool enabled_;
  std::string label_, unit_;
  uint64_t total_, done_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace runnel::cli

#endif  // RUNNEL_TOOLS_PROGRESS_H_
