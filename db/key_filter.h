// Copyright 2026 The runnel Authors.
//
// KeyFilter: an in-memory Bloom filter over the item keys of the index, so
// that the commit path can skip the LevelDB read of an old value when the
// key is certainly new (most inserts). A "maybe" answer (a key that was ever
// added, or a false positive, about 1% at 10 bits per key) falls back to the
// read, so a filter can only save work, never change a result.
//
// It grows with the keys: a chain of blocked Bloom filters (one cache line
// per key), each twice the capacity of the one before, so its false positive
// rate stays near its design rate however many keys are added. Keys are
// never removed (a deleted key stays a "maybe").
//
// Thread safety: every method may be called from any thread (the commit
// leader adds and asks while a background scan of the index adds).

#ifndef RUNNEL_DB_KEY_FILTER_H_
#define RUNNEL_DB_KEY_FILTER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace runnel {

class KeyFilter {
 public:
  // `bits_per_key` >= 1; the first filter holds `initial_keys` keys.
  explicit KeyFilter(int bits_per_key, uint64_t initial_keys = 1u << 16);

  void Add(std::string_view key);
  // False only if `key` was never added.
  bool MayContain(std::string_view key) const;
  // Bytes of the bit arrays.
  size_t MemoryBytes() const;
  uint64_t keys() const;

 private:
  struct Layer {
    std::vector<uint64_t> words;  // blocks of 8 words (512 bits)
    uint64_t blocks = 0;
    uint64_t capacity = 0;
    uint64_t count = 0;
    int probes = 1;
  };
  void AddLayer(uint64_t capacity) REQUIRES(mu_);
  void Set(Layer* layer, uint64_t h);

  const int bits_per_key_;
  mutable Mutex mu_;
  std::vector<Layer> layers_ GUARDED_BY(mu_);
};

}  // namespace runnel

#endif  // RUNNEL_DB_KEY_FILTER_H_
