// Copyright 2026 The runnel Authors.
//
// Fuzzes the decoders of typed items' stored bytes (db/items): DecodeItem
// and FindAttribute (the index's item values and the log's images) and
// DecodeItemKey (index keys, which the stream renders as Keys). Each must
// return a Status for any bytes: no crash, no unbounded recursion.
//
// Besides crashes, it checks that a decoded item re-encodes to a fixed point
// (Encode(Decode(Encode(Decode(x)))) == Encode(Decode(x))), that
// FindAttribute finds exactly what DecodeItem decoded, and that a decoded
// key re-encodes to the very input bytes (the key encoding is canonical:
// LevelDB finds an item by those bytes).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "db/items/item_codec.h"
#include "db/items/key_codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace runnel::items {
namespace {

using fuzz::Check;

void FuzzItem(std::string_view bytes) {
  Item item;
  const Status s = DecodeItem(bytes, &item);
  Check(s.ok() || s.IsCorruption(), "DecodeItem returned neither OK nor Corruption");
  for (const auto& [name, value] : item) {
    AttributeValue found;
    Check(FindAttribute(bytes, name, &found).ok(), "FindAttribute misses a decoded attribute");
    Check(found == value, "FindAttribute reads another value than DecodeItem");
  }
  AttributeValue v;
  const Status f = FindAttribute(bytes, "a", &v);
  Check(f.ok() || f.IsNotFound() || f.IsCorruption(), "FindAttribute returned an odd status");
  if (!s.ok()) return;
  std::string once;
  EncodeItem(item, &once);
  Item again;
  Check(DecodeItem(once, &again).ok(), "a re-encoded item does not decode");
  Check(again == item, "a re-encoded item decodes to another item");
  std::string twice;
  EncodeItem(again, &twice);
  Check(twice == once, "item re-encoding is not stable");
}

void FuzzKey(std::string_view bytes, std::string_view range_name) {
  Item key;
  const Status s = DecodeItemKey("h", range_name, bytes, &key);
  Check(s.ok() || s.IsCorruption(), "DecodeItemKey returned neither OK nor Corruption");
  if (!s.ok()) return;
  std::string again;
  AppendKeyComponent(key.at("h"), &again);
  if (!range_name.empty()) AppendKeyComponent(key.at(std::string(range_name)), &again);
  Check(again == bytes, "a decoded key re-encodes to other bytes");
}

}  // namespace
}  // namespace runnel::items

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size copy lets AddressSanitizer see a read past the input.
  std::unique_ptr<char[]> copy(new char[size]);
  if (size > 0) std::memcpy(copy.get(), data, size);
  const std::string_view bytes(copy.get(), size);
  runnel::items::FuzzItem(bytes);
  runnel::items::FuzzKey(bytes, "");
  runnel::items::FuzzKey(bytes, "r");
  return 0;
}
