// Copyright 2026 The runnel Authors.
//
// Helpers shared by the benchmarks in bench/: statistics over runs and what
// the machine was doing meanwhile. Header-only; every bench is one .cc.

#ifndef RUNNEL_BENCH_BENCH_UTIL_H_
#define RUNNEL_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

namespace runnel::bench {

// The median of the runs (the mean of the middle two for an even count);
// NaN for none.
inline double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The first three fields of /proc/loadavg: other work on the machine shows
// up here, and in the spread between runs.
inline std::string LoadAvg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace runnel::bench

#endif  // RUNNEL_BENCH_BENCH_UTIL_H_
