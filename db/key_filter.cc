// Copyright 2026 The runnel Authors.

#include "db/key_filter.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>

namespace runnel {
namespace {

// The i-th probe of a key's hash: a bit of its 512-bit block.
inline uint32_t Probe(uint64_t h, int i) {
  // (Double hashing inside the block: the low and high halves of a second
  // mix of the hash.)
  const uint64_t g = h * 0x9E3779B97F4A7C15ull;
  const uint32_t a = static_cast<uint32_t>(g), b = static_cast<uint32_t>(g >> 32) | 1;
  return (a + static_cast<uint32_t>(i) * b) & 511;
}

inline uint64_t BlockOf(uint64_t h, uint64_t blocks) {
  // (Lemire's multiply-shift: a uniform block without a division.)
  return static_cast<uint64_t>((static_cast<unsigned __int128>(h >> 32 | h << 32) * blocks) >> 64);
}

}  // namespace

KeyFilter::KeyFilter(int bits_per_key, uint64_t initial_keys)
    : bits_per_key_(std::max(1, bits_per_key)) {
  MutexLock lock(&mu_);
  AddLayer(std::max<uint64_t>(initial_keys, 64));
}

void KeyFilter::AddLayer(uint64_t capacity) {
  // Each layer spends one bit per key more than the one before, so that
  // the false positive rates of all layers (which add up) stay near the
  // first one's however often the filter doubles.
  Layer layer;
  layer.capacity = capacity;
  const int bits = bits_per_key_ + static_cast<int>(std::min<size_t>(layers_.size(), 8));
  // (ln 2 * bits per key probes minimise a Bloom filter's false positives.)
  layer.probes = std::clamp(static_cast<int>(bits * 0.69 + 0.5), 1, 16);
  layer.blocks = (capacity * bits + 511) / 512;
  layer.words.assign(layer.blocks * 8, 0);
  layers_.push_back(std::move(layer));
}

void KeyFilter::Set(Layer* layer, uint64_t h) {
  uint64_t* block = &layer->words[BlockOf(h, layer->blocks) * 8];
  for (int i = 0; i < layer->probes; ++i) {
    const uint32_t bit = Probe(h, i);
    block[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
  ++layer->count;
}

void KeyFilter::Add(std::string_view key) {
  const uint64_t h = XXH3_64bits(key.data(), key.size());
  MutexLock lock(&mu_);
  if (layers_.back().count >= layers_.back().capacity) AddLayer(layers_.back().capacity * 2);
  Set(&layers_.back(), h);
}

bool KeyFilter::MayContain(std::string_view key) const {
  const uint64_t h = XXH3_64bits(key.data(), key.size());
  MutexLock lock(&mu_);
  for (const Layer& layer : layers_) {
    const uint64_t* block = &layer.words[BlockOf(h, layer.blocks) * 8];
    bool all = true;
    for (int i = 0; i < layer.probes && all; ++i) {
      const uint32_t bit = Probe(h, i);
      all = (block[bit >> 6] >> (bit & 63)) & 1;
    }
    if (all) return true;
  }
  return false;
}

size_t KeyFilter::MemoryBytes() const {
  MutexLock lock(&mu_);
  size_t n = 0;
  for (const Layer& layer : layers_) n += layer.words.size() * sizeof(uint64_t);
  return n;
}

uint64_t KeyFilter::keys() const {
  MutexLock lock(&mu_);
  uint64_t n = 0;
  for (const Layer& layer : layers_) n += layer.count;
  return n;
}

}  // namespace runnel
