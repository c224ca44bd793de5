// Copyright 2026 The runnel Authors.
//
// The index key of a typed item: an order-preserving, self-delimiting
// encoding of (hash value, range value). Byte order of encodings equals the
// order of the values: S and B bytewise, N numerically ("2" < "10",
// "-1.5" < "-1"); so a Query of one partition is one LevelDB range scan in
// sort-key order. Each component starts with a type tag, so an encoded key
// decodes without the schema (the stream renders Keys from it).

#ifndef RUNNEL_DB_ITEMS_KEY_CODEC_H_
#define RUNNEL_DB_ITEMS_KEY_CODEC_H_

#include <string>
#include <string_view>

#include "runnel/item.h"
#include "runnel/status.h"

namespace runnel::items {

// The key attributes of a typed table (from its TableSchema).
struct KeyShape {
  std::string hash_name;
  ScalarAttributeType hash_type = ScalarAttributeType::kS;
  std::string range_name;  // empty: no range key
  ScalarAttributeType range_type = ScalarAttributeType::kS;

  bool has_range() const { return !range_name.empty(); }
};

// Appends one component (a normalized S, N or B value) to *out.
void AppendKeyComponent(const AttributeValue& value, std::string* out);

// Extracts the key attributes of `item` (an item or a key) and appends the
// encoded key to *out. InvalidArgument naming the attribute if one is
// missing, has the wrong type, is an empty S/B, or exceeds its size limit;
// also if `exact` and the item holds attributes other than the key's (a Key
// parameter with extra attributes is a ValidationException in the cloud).
Status EncodeItemKey(const KeyShape& shape, const Item& item, bool exact, std::string* out);

// The components of an encoded key, named by `shape`; Corruption if the
// bytes are not a key encoding.
Status DecodeItemKey(const KeyShape& shape, std::string_view bytes, Item* key);
// The same with explicit names (the stream: names from ChangeRecord).
Status DecodeItemKey(std::string_view hash_name, std::string_view range_name,
                     std::string_view bytes, Item* key);

}  // namespace runnel::items

#endif  // RUNNEL_DB_ITEMS_KEY_CODEC_H_
