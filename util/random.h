// Copyright 2026 The runnel Authors.
//
// Random identifiers (DB ids, segment salts, request ids, mapping UUIDs), all
// from the kernel's generator, getrandom(2). Never throws (unlike
// std::random_device).

#ifndef RUNNEL_UTIL_RANDOM_H_
#define RUNNEL_UTIL_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace runnel {

// Fills buf[0, n) from getrandom(2) (blocking only until the kernel's pool
// is first initialised, early in boot). If the kernel has no getrandom
// (ENOSYS, or a seccomp filter that refuses it), the bytes come from the
// clock, the process id, the stack's address and a counter, mixed: unique in
// practice and unknown to a value's author, but not secret. Thread-safe.
void RandomBytes(void* buf, size_t n);
// Eight random bytes as an integer (see RandomBytes).
uint64_t RandomU64();
// A random RFC 4122 version 4 UUID, lower case:
// "xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx" with Y one of 8, 9, a, b.
std::string NewUuid();

}  // namespace runnel

#endif  // RUNNEL_UTIL_RANDOM_H_
