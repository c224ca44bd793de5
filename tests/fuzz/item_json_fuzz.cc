// Copyright 2026 The runnel Authors.
//
// Fuzzes the item JSON reader (runnel/item.h ItemFromJson: the CLI's --item
// and --key, the endpoint's request bodies) and the model's rules behind it
// (NormalizeItem). Any input must give a Status, never a crash or an
// escaped exception.
//
// Besides crashes, it checks the round trips a user relies on: an item that
// normalizes survives ItemToJson -> ItemFromJson and EncodeItem ->
// DecodeItem unchanged, normalizing it again changes nothing, and its size
// stays within the limit.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "db/items/item_codec.h"
#include "db/items/value.h"
#include "runnel/item.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using runnel::fuzz::Check;
  namespace items = runnel::items;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  runnel::Item item;
  const runnel::Status parsed = runnel::ItemFromJson(text, &item);
  Check(parsed.ok() || parsed.IsInvalidArgument(), "ItemFromJson: an odd status");
  if (!parsed.ok()) return 0;
  (void)runnel::ItemToJson(item);  // unnormalized items print too
  const runnel::Status normalized = items::NormalizeItem(&item);
  Check(normalized.ok() || normalized.IsInvalidArgument(), "NormalizeItem: an odd status");
  if (!normalized.ok()) return 0;
  Check(items::ItemSize(item) <= runnel::kMaxItemBytes, "a normalized item is over the limit");

  runnel::Item again = item;
  Check(items::NormalizeItem(&again).ok() && runnel::ItemToJson(again) == runnel::ItemToJson(item),
        "normalizing twice changes the item");
  runnel::Item from_json;
  Check(runnel::ItemFromJson(runnel::ItemToJson(item), &from_json).ok(),
        "ItemToJson output does not parse");
  Check(from_json == item, "the JSON round trip changes the item");
  std::string bytes;
  items::EncodeItem(item, &bytes);
  runnel::Item decoded;
  Check(items::DecodeItem(bytes, &decoded).ok(), "an encoded item does not decode");
  Check(runnel::ItemToJson(decoded) == runnel::ItemToJson(item),
        "the binary round trip changes the item");
  return 0;
}
