// Copyright 2026 The runnel Authors.
//
// One typed write, validated and parsed before it is queued, and evaluated by
// the commit leader against the item as it is at commit time. Shared by
// PutItem/UpdateItem/DeleteItem, BatchWriteItem and TransactWriteItems
// (db_items_write.cc, db_transact.cc).

#ifndef RUNNEL_DB_DB_ITEMS_WRITE_H_
#define RUNNEL_DB_DB_ITEMS_WRITE_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "cdc/catalog.h"
#include "db/db_internal.h"
#include "db/items/expression.h"
#include "runnel/item.h"

namespace runnel::items {

struct PreparedWrite {
  enum class Kind : uint8_t { kPut, kUpdate, kDelete, kConditionCheck };
  Kind kind = Kind::kPut;
  std::string table;
  std::string key;  // encoded (EncodeItemKey)
  Item item;        // kPut: the normalized item; kUpdate: the key attributes
  std::shared_ptr<const Condition> condition;  // null: unconditional
  std::shared_ptr<const Update> update;        // kUpdate; null: no clauses
  ReturnValues return_values = ReturnValues::kNone;
  bool return_old_on_condition_failure = false;

  // Set by Evaluate (in the commit leader): what ReturnValues asked for, or
  // after a failed condition with return_old_on_condition_failure, the item
  // as it was.
  std::optional<Item> attributes;
  std::optional<Item> failed_item;

  // The decide step of the ItemMutation: only evaluates (everything was
  // checked before queuing). ConditionalCheckFailed "The conditional request
  // failed"; InvalidArgument for what an update can only find at run time.
  Status Evaluate(std::optional<std::string_view> current, std::optional<std::string>* next);
  // The mutation; `this` must outlive its commit.
  ItemMutation Mutation();
};

// The live typed table `name` in `cat`: NotFound, or FailedPrecondition for a
// byte table.
Status FindTypedTable(const Catalog& cat, std::string_view name, const log::TableEntryData** t);

// Normalizes the ExpressionAttributeValues of a request into *out.
Status NormalizeValues(const Item& values, Item* out);

// Validates and parses one write against `table` (a live typed table):
// normalizes the item or key, encodes the key, parses the expressions with
// one ExpressionContext and checks that every #name and :value is used.
// `update_expression` is ignored unless the kind is kUpdate.
Status PrepareWrite(const log::TableEntryData& table, PreparedWrite::Kind kind, Item item_or_key,
                    const ExpressionInput& input, std::string_view condition_expression,
                    std::string_view update_expression, PreparedWrite* out);

}  // namespace runnel::items

#endif  // RUNNEL_DB_DB_ITEMS_WRITE_H_
