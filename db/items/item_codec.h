// Copyright 2026 The runnel Authors.
//
// The binary form of an item, as stored in the index and in log images of
// typed tables. Compact and readable in place: attributes sorted by name,
// each [name][type][payload] with length prefixes, so that FindAttribute
// reaches one attribute without decoding the others.
//
// The decoder takes bytes that came from disk: every length is bounds
// checked, and damage is Corruption, never a crash (fuzzed).

#ifndef RUNNEL_DB_ITEMS_ITEM_CODEC_H_
#define RUNNEL_DB_ITEMS_ITEM_CODEC_H_

#include <string>
#include <string_view>

#include "runnel/item.h"
#include "runnel/status.h"

namespace runnel::items {

// Appends the encoding of `item` (assumed normalized) to *out.
void EncodeItem(const Item& item, std::string* out);
// Corruption if `bytes` is not an item encoding.
Status DecodeItem(std::string_view bytes, Item* item);
// One top-level attribute: OK and *value, NotFound if absent, Corruption.
Status FindAttribute(std::string_view bytes, std::string_view name, AttributeValue* value);
// The cloud's size of the encoded item (ItemSize of its decoding), walking
// the bytes without decoding them; Corruption if they are damaged.
Status EncodedItemSize(std::string_view bytes, size_t* size);

}  // namespace runnel::items

#endif  // RUNNEL_DB_ITEMS_ITEM_CODEC_H_
