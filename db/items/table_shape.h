// Copyright 2026 The runnel Authors.
//
// The key shape of a typed table, from its catalog entry.

#ifndef RUNNEL_DB_ITEMS_TABLE_SHAPE_H_
#define RUNNEL_DB_ITEMS_TABLE_SHAPE_H_

#include "cdc/codec.h"
#include "db/items/key_codec.h"

namespace runnel::items {

// REQUIRES: table.typed().
inline KeyShape ShapeOf(const log::TableEntryData& table) {
  KeyShape shape;
  shape.hash_name = table.hash_key_name;
  shape.hash_type = static_cast<ScalarAttributeType>(table.hash_key_type);
  shape.range_name = table.range_key_name;
  shape.range_type = static_cast<ScalarAttributeType>(table.range_key_type);
  return shape;
}

}  // namespace runnel::items

#endif  // RUNNEL_DB_ITEMS_TABLE_SHAPE_H_
