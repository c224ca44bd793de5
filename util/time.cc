// Copyright 2026 The runnel Authors.

#include "util/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace runnel {
namespace {

// UTC fields of `micros`, with the sub-second part (0..999999) apart.
struct tm Utc(int64_t micros, int* sub) {
  int64_t secs = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {  // floor, so that times before 1970 print correctly
    rem += 1000000;
    --secs;
  }
  *sub = static_cast<int>(rem);
  const time_t t = static_cast<time_t>(secs);
  struct tm tm = {};
  gmtime_r(&t, &tm);
  return tm;
}

std::string Format(int64_t micros, bool millis, const char* zone) {
  int sub = 0;
  const struct tm tm = Utc(micros, &sub);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%0*d%s", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis ? 3 : 6,
                millis ? sub / 1000 : sub, zone);
  return buf;
}

// Reads 1..max_digits digits from the front of *s.
bool Field(std::string_view* s, int max_digits, int* v) {
  int n = 0, r = 0;
  while (n < max_digits && n < static_cast<int>(s->size()) && (*s)[n] >= '0' && (*s)[n] <= '9') {
    r = r * 10 + ((*s)[n] - '0');
    ++n;
  }
  if (n == 0) return false;
  s->remove_prefix(static_cast<size_t>(n));
  *v = r;
  return true;
}

bool Expect(std::string_view* s, char c) {
  if (s->empty() || s->front() != c) return false;
  s->remove_prefix(1);
  return true;
}

}  // namespace

std::string IsoMicros(int64_t micros) { return Format(micros, false, "Z"); }

std::string IsoTime(int64_t micros) { return Format(micros, false, "+00:00"); }

std::string IsoMillis(int64_t micros) { return Format(micros, true, ""); }

bool ParseIsoTime(std::string_view text, int64_t* micros) {
  std::string_view s = text;
  int y, mo, d, h, mi, sec;
  if (!Field(&s, 4, &y) || !Expect(&s, '-') || !Field(&s, 2, &mo) || !Expect(&s, '-') ||
      !Field(&s, 2, &d) || !Expect(&s, 'T') || !Field(&s, 2, &h) || !Expect(&s, ':') ||
      !Field(&s, 2, &mi) || !Expect(&s, ':') || !Field(&s, 2, &sec)) {
    return false;
  }
  int64_t frac = 0;
  if (Expect(&s, '.')) {
    int digits = 0;
    while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
      if (digits < 6) frac = frac * 10 + (s.front() - '0');
      ++digits;
      s.remove_prefix(1);
    }
    if (digits == 0) return false;
    for (; digits < 6; ++digits) frac *= 10;
  }
  if (!(s.empty() || s == "Z" || s == "+00:00")) return false;
  const std::chrono::year_month_day date{std::chrono::year{y},
                                         std::chrono::month{static_cast<unsigned>(mo)},
                                         std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || sec > 60) return false;
  const int64_t days = std::chrono::sys_days{date}.time_since_epoch().count();
  *micros = ((days * 24 + h) * 60 + mi) * 60 * 1000000 + int64_t{sec} * 1000000 + frac;
  return true;
}

}  // namespace runnel
