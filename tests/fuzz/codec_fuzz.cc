// Copyright 2026 The runnel Authors.
//
// Fuzzes the record decoders of cdc/codec.h with the raw input as a frame
// payload: DecodeBatch and DecodeMeta (on an 8-byte-aligned copy of exactly
// the input's size, as frames guarantee) and DecodeCatalog (aligned and, as
// catalogs from LevelDB may be, unaligned). Each must return a Status for any
// bytes: no crash, no escaped exception, no absurd allocation.
//
// Besides crashes, it checks that the views of a decoded batch lie inside the
// input, that what a decoder accepts re-encodes to a fixed point:
// Encode(Decode(Encode(Decode(x)))) == Encode(Decode(x)), and that the fast
// batch decoder never accepts what Cap'n Proto's reader rejects and, where it
// accepts, decodes exactly the same batch.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "cdc/codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace runnel::log {
namespace {

using fuzz::Check;

bool Inside(std::string_view v, std::string_view outer) {
  return v.empty() ||
         (v.data() >= outer.data() && v.data() + v.size() <= outer.data() + outer.size());
}

std::string EncodeBatchData(const BatchData& b) {
  std::string out;
  EncodeBatch(b.commit_time_micros, b.changes, b.has_checkpoint ? &b.checkpoint : nullptr,
              b.chain_depth, &out, b.ttl_delete);
  return out;
}

bool SameBatch(const BatchData& a, const BatchData& b) {
  if (a.commit_time_micros != b.commit_time_micros || a.chain_depth != b.chain_depth ||
      a.ttl_delete != b.ttl_delete || a.has_checkpoint != b.has_checkpoint ||
      a.changes.size() != b.changes.size()) {
    return false;
  }
  auto same_view = [](std::string_view x, std::string_view y) {
    return x.size() == y.size() && (x.empty() || x.data() == y.data());
  };
  for (size_t i = 0; i < a.changes.size(); ++i) {
    const ChangeData& x = a.changes[i];
    const ChangeData& y = b.changes[i];
    if (x.table_id != y.table_id || x.event != y.event || x.view != y.view ||
        x.has_old != y.has_old || x.has_new != y.has_new || x.old_size != y.old_size ||
        !same_view(x.key, y.key) || !same_view(x.old_image, y.old_image) ||
        !same_view(x.new_image, y.new_image)) {
      return false;
    }
  }
  return true;
}

void FuzzBatch(std::string_view payload) {
  BatchData b;
  const bool ok = DecodeBatchWithCapnp(payload, &b).ok();
  BatchData fast;
  if (DecodeBatchFast(payload, &fast)) {
    Check(ok, "the fast batch decoder accepts what Cap'n Proto rejects");
    Check(SameBatch(fast, b), "the fast batch decoder reads another batch than Cap'n Proto");
  }
  if (!ok) return;
  for (const ChangeData& c : b.changes) {
    Check(Inside(c.key, payload) && Inside(c.old_image, payload) && Inside(c.new_image, payload),
          "a decoded change points outside the payload");
    fuzz::Touch(c.key);
    fuzz::Touch(c.old_image);
    fuzz::Touch(c.new_image);
    (void)ToChangeRecord(c, 1, b.commit_time_micros, "t");
  }
  if (b.has_checkpoint) {
    Check(Inside(b.checkpoint.result, payload), "a decoded checkpoint points outside the payload");
    fuzz::Touch(b.checkpoint.result);
  }
  const std::string once = EncodeBatchData(b);
  BatchData again;
  Check(DecodeBatch(once, &again).ok(), "a re-encoded batch does not decode");
  Check(EncodeBatchData(again) == once, "batch re-encoding is not stable");
}

void FuzzMeta(std::string_view payload) {
  MetaData m;
  if (!DecodeMeta(payload, &m).ok()) return;
  std::string once;
  EncodeMeta(m, &once);
  MetaData again;
  Check(DecodeMeta(once, &again).ok(), "a re-encoded meta does not decode");
  std::string twice;
  EncodeMeta(again, &twice);
  Check(twice == once, "meta re-encoding is not stable");
}

void FuzzCatalog(std::string_view bytes) {
  CatalogData c;
  if (!DecodeCatalog(bytes, &c).ok()) return;
  std::string once;
  EncodeCatalog(c, &once);
  CatalogData again;
  Check(DecodeCatalog(once, &again).ok(), "a re-encoded catalog does not decode");
  std::string twice;
  EncodeCatalog(again, &twice);
  Check(twice == once, "catalog re-encoding is not stable");
}

}  // namespace
}  // namespace runnel::log

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // operator new aligns to at least 16; exact sizes let AddressSanitizer see
  // a read past the input.
  std::unique_ptr<char[]> aligned(new char[size]);
  if (size > 0) std::memcpy(aligned.get(), data, size);
  const std::string_view payload(aligned.get(), size);
  runnel::log::FuzzBatch(payload);
  runnel::log::FuzzMeta(payload);
  runnel::log::FuzzCatalog(payload);

  std::unique_ptr<char[]> shifted(new char[size + 1]);
  if (size > 0) std::memcpy(shifted.get() + 1, data, size);
  runnel::log::FuzzCatalog(std::string_view(shifted.get() + 1, size));
  return 0;
}
