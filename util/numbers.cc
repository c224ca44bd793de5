// Copyright 2026 The runnel Authors.

#include "util/numbers.h"

#include <charconv>
#include <system_error>

namespace runnel {

bool ParseUint64(std::string_view text, uint64_t* value) {
  // from_chars accepts no sign for unsigned types, and reports overflow.
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v, 10);
  if (text.empty() || ec != std::errc() || ptr != end) return false;
  *value = v;
  return true;
}

}  // namespace runnel
