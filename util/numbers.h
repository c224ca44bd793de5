// Copyright 2026 The runnel Authors.
//
// Checked decimal parsing (std::from_chars): the whole text must be the
// number. Callers report bad input with the argument's name and what was
// expected.

#ifndef RUNNEL_UTIL_NUMBERS_H_
#define RUNNEL_UTIL_NUMBERS_H_

#include <cstdint>
#include <string_view>

namespace runnel {

// Parses `text` as an unsigned decimal: one or more digits 0-9, nothing
// else (no sign, no white space, no trailing characters), at most
// UINT64_MAX. False, with *value unchanged, otherwise.
[[nodiscard]] bool ParseUint64(std::string_view text, uint64_t* value);

}  // namespace runnel

#endif  // RUNNEL_UTIL_NUMBERS_H_
