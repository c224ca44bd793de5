// Copyright 2026 The runnel Authors.

#include "util/random.h"

#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "util/encoding.h"

namespace runnel {
namespace {

// SplitMix64's finaliser: spreads every input bit over the output.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void FallbackBytes(uint8_t* out, size_t n) {
  static std::atomic<uint64_t> counter{0};
  const uint64_t local = 0;
  uint64_t state =
      Mix(static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())) ^
      Mix(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) +
          static_cast<uint64_t>(::getpid())) ^
      Mix(reinterpret_cast<uintptr_t>(&local)) ^ Mix(counter.fetch_add(1) + 0x9E3779B97F4A7C15ull);
  while (n > 0) {
    state += 0x9E3779B97F4A7C15ull;
    const uint64_t v = Mix(state);
    const size_t k = n < sizeof(v) ? n : sizeof(v);
    std::memcpy(out, &v, k);
    out += k;
    n -= k;
  }
}

}  // namespace

void RandomBytes(void* buf, size_t n) {
  auto* out = static_cast<uint8_t*>(buf);
  while (n > 0) {
    const ssize_t r = ::getrandom(out, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      FallbackBytes(out, n);
      return;
    }
    // Requests over 256 bytes may come back short.
    out += r;
    n -= static_cast<size_t>(r);
  }
}

uint64_t RandomU64() {
  uint64_t v = 0;
  RandomBytes(&v, sizeof(v));
  return v;
}

std::string NewUuid() {
  uint8_t b[16];
  RandomBytes(b, sizeof(b));
  b[6] = static_cast<uint8_t>(0x40 | (b[6] & 0x0f));  // version 4
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f));  // RFC 4122 variant
  std::string s = EncodeHex(std::string_view(reinterpret_cast<const char*>(b), sizeof(b)));
  for (size_t dash : {8, 13, 18, 23}) s.insert(dash, 1, '-');
  return s;
}

}  // namespace runnel
