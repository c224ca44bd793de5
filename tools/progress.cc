// Copyright 2026 The runnel Authors.

#include "tools/progress.h"

#include <cstdio>

namespace runnel::cli {

Progress::Progress(Context& ctx, std::string label, uint64_t total, std::string unit)
    : err_(ctx.io().err),
      enabled_(ctx.ErrIsTerminal()),
      label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total) {}

void Progress::Add(uint64_t n) {
  done_ += n;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  Draw();
}

void Progress::Draw() {
  constexpr int kWidth = 30;
  if (total_ > 0) {
    const uint64_t shown = done_ < total_ ? done_ : total_;
    const int filled = static_cast<int>(shown * kWidth / total_);
    std::fprintf(err_, "\r%s [%.*s%*s] %3d%% %llu/%llu %s", label_.c_str(), filled,
                 "##############################", kWidth - filled, "",
                 static_cast<int>(shown * 100 / total_), static_cast<unsigned long long>(done_),
                 static_cast<unsigned long long>(total_), unit_.c_str());
  } else {
    std::fprintf(err_, "\r%s %llu %s", label_.c_str(), static_cast<unsigned long long>(done_),
                 unit_.c_str());
  }
  std::fflush(err_);
  drawn_ = true;
}

void Progress::Done() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(err_, "\r\033[K");  // erase the line
  std::fflush(err_);
  drawn_ = false;
  enabled_ = false;
}

}  // namespace runnel::cli
