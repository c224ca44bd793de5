// Copyright 2026 The runnel Authors.
//
// The model's rules over AttributeValues (runnel/item.h): validation and
// normalization as the DB stores items, the cloud's size accounting, value
// order for comparisons.

#ifndef RUNNEL_DB_ITEMS_VALUE_H_
#define RUNNEL_DB_ITEMS_VALUE_H_

#include <cstddef>
#include <optional>
#include <string_view>

#include "runnel/item.h"
#include "runnel/status.h"

namespace runnel::items {

// Checks one value (recursively) and normalizes it in place: numbers (also
// in NS) to their normalized text, set elements checked for duplicates by
// value. InvalidArgument naming `what` (an attribute path) for: an invalid
// number, an empty set, duplicates in a set, invalid UTF-8 in S/SS, nesting
// deeper than kMaxNestingDepth.
Status NormalizeValue(std::string_view what, AttributeValue* value, size_t depth = 0);

// NormalizeValue on every attribute, plus the item size limit (ItemSize <=
// kMaxItemBytes) and non-empty attribute names.
Status NormalizeItem(Item* item);

// The cloud's size of an item (names + values in UTF-8 bytes; numbers by
// their significant digits; 1 byte for BOOL/NULL; 3 bytes of overhead per
// M/L plus 1 per element), used for the 400 KB limit and SizeBytes.
size_t ItemSize(const Item& item);
size_t ValueSize(const AttributeValue& value);
// Puts a set's elements in runnel's canonical order (NS by value, SS and BS
// bytewise), so that the same set is stored as the same bytes whatever
// order it was written in.
void SortSet(AttributeValue* set);
// The size of one number (of NS elements too): (significant digits + 1) / 2 + 1.
size_t NumberSize(std::string_view text);

// Order of two scalar values of the same type (S and B bytewise, N by
// value): <0, 0, >0; nullopt if the types differ or are not S, N or B.
std::optional<int> CompareScalars(const AttributeValue& a, const AttributeValue& b);

}  // namespace runnel::items

#endif  // RUNNEL_DB_ITEMS_VALUE_H_
