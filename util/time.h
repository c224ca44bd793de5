// Copyright 2026 The runnel Authors.
//
// ISO-8601 times in UTC: the shapes runnel prints, and the one parser.

#ifndef RUNNEL_UTIL_TIME_H_
#define RUNNEL_UTIL_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace runnel {

// "2026-11-27T15:47:46.123456Z": function logs, the cloud's on-failure
// records. `micros` is since the Unix epoch; times before it are formatted
// correctly too (the fraction is never negative).
std::string IsoMicros(int64_t micros);
// "2026-11-27T15:47:46.123456+00:00", as the cloud CLI prints timestamps.
std::string IsoTime(int64_t micros);
// "2026-11-27T15:47:46.123": milliseconds, no zone (stream labels).
std::string IsoMillis(int64_t micros);

// Parses a whole UTC time "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+00:00]" into
// micros since the epoch (digits past the sixth of the fraction are
// dropped). Year 1 to 4 digits, the other fields 1 or 2; the date must exist
// (no February 30th), hours 0-23, minutes 0-59, seconds 0-60. False on
// anything else, including other offsets and trailing text. Every string
// IsoMicros and IsoTime write parses back to the same micros.
[[nodiscard]] bool ParseIsoTime(std::string_view text, int64_t* micros);

}  // namespace runnel

#endif  // RUNNEL_UTIL_TIME_H_
