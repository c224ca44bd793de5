// Copyright 2026 The runnel Authors.
//
// Typed writes: PutItem, UpdateItem, DeleteItem, BatchWriteItem, and the
// commit of item mutations (also with a trigger checkpoint). A request is
// validated, normalized and parsed here, before it is queued; the commit
// leader only evaluates it against the item it reads anyway (db_write.cc), so
// a conditional write costs no extra read and no lock.

#include "db/db_items_write.h"

#include <set>
#include <utility>

#include "db/db_impl.h"
#include "db/items/item_codec.h"
#include "db/items/key_codec.h"
#include "db/items/table_shape.h"
#include "db/items/value.h"

namespace runnel {
namespace items {
namespace {

// ReturnValues UPDATED_OLD / UPDATED_NEW: the updated attributes of `item`.
Item Only(const Item& item, const std::set<std::string>& names) {
  Item out;
  for (const std::string& n : names) {
    auto it = item.find(n);
    if (it != item.end()) out.emplace(n, it->second);
  }
  return out;
}

std::string Encoded(const Item& item) {
  std::string out;
  EncodeItem(item, &out);
  return out;
}

}  // namespace

Status FindTypedTable(const Catalog& cat, std::string_view name, const log::TableEntryData** t) {
  *t = cat.FindLive(name);
  if (*t == nullptr) {
    return Status::NotFound("Requested resource not found: table '" + std::string(name) +
                            "' does not exist");
  }
  if (!(*t)->typed()) {
    return Status::FailedPrecondition("table '" + std::string(name) +
                                      "' is a byte table: use Put, Get and Delete");
  }
  return Status::OK();
}

Status NormalizeValues(const Item& values, Item* out) {
  *out = values;
  for (auto& [name, value] : *out) {
    Status s = NormalizeValue("ExpressionAttributeValues " + name, &value);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status PrepareWrite(const log::TableEntryData& table, PreparedWrite::Kind kind, Item item_or_key,
                    const ExpressionInput& input, std::string_view condition_expression,
                    std::string_view update_expression, PreparedWrite* out) {
  using Kind = PreparedWrite::Kind;
  out->kind = kind;
  out->table = table.name;
  const KeyShape shape = ShapeOf(table);
  Status s = NormalizeItem(&item_or_key);
  if (!s.ok()) return s;
  out->key.clear();
  s = EncodeItemKey(shape, item_or_key, /*exact=*/kind != Kind::kPut, &out->key);
  if (!s.ok()) return s;
  out->item = std::move(item_or_key);

  Item values;
  s = NormalizeValues(input.expression_attribute_values, &values);
  if (!s.ok()) return s;
  ExpressionContext ctx(input.expression_attribute_names, values);
  if (!condition_expression.empty()) {
    s = ctx.ParseCondition(condition_expression, "ConditionExpression", &out->condition);
    if (!s.ok()) return s;
  } else if (kind == Kind::kConditionCheck) {
    return Status::InvalidArgument("ConditionExpression: must not be empty in a ConditionCheck");
  }
  if (kind == Kind::kUpdate && !update_expression.empty()) {
    s = ctx.ParseUpdate(update_expression, &out->update);
    if (!s.ok()) return s;
    for (const std::string& name : out->update->TopLevelNames()) {
      if (name == shape.hash_name || (shape.has_range() && name == shape.range_name)) {
        return Status::InvalidArgument(
            "One or more parameter values were invalid: Cannot update attribute " + name +
            ". This attribute is part of the key");
      }
    }
  }
  return ctx.CheckAllUsed();
}

Status PreparedWrite::Evaluate(std::optional<std::string_view> current,
                               std::optional<std::string>* next) {
  // A plain put needs nothing of the old item.
  const bool need_old =
      condition != nullptr || kind == Kind::kUpdate || return_values != ReturnValues::kNone;
  if (kind == Kind::kPut && !need_old) {
    *next = Encoded(item);
    return Status::OK();
  }
  Item old;
  if (current.has_value()) {
    Status s = DecodeItem(*current, &old);
    if (!s.ok()) return s;
  }
  if (condition != nullptr && !condition->Evaluate(old)) {
    if (return_old_on_condition_failure && current.has_value()) failed_item = std::move(old);
    return Status::ConditionalCheckFailed("The conditional request failed");
  }
  switch (kind) {
    case Kind::kPut:
      *next = Encoded(item);
      if (return_values == ReturnValues::kAllOld && current.has_value()) attributes = old;
      return Status::OK();
    case Kind::kDelete:
      next->reset();
      if (return_values == ReturnValues::kAllOld && current.has_value()) attributes = old;
      return Status::OK();
    case Kind::kConditionCheck:
      if (current.has_value()) *next = std::string(*current);  // unchanged: no record
      return Status::OK();
    case Kind::kUpdate:
      break;
  }
  // An update of a missing item starts from its key.
  Item updated_item = current.has_value() ? old : item;
  std::set<std::string> updated;
  if (update != nullptr) {
    Status s = update->Apply(&updated_item, &updated);
    if (s.ok()) s = NormalizeItem(&updated_item);  // sizes and sets after the update
    if (!s.ok()) return s;
  }
  *next = Encoded(updated_item);
  switch (return_values) {
    case ReturnValues::kNone:
      break;
    case ReturnValues::kAllOld:
      if (current.has_value()) attributes = std::move(old);
      break;
    case ReturnValues::kUpdatedOld:
      if (current.has_value()) attributes = Only(old, updated);
      break;
    case ReturnValues::kAllNew:
      attributes = std::move(updated_item);
      break;
    case ReturnValues::kUpdatedNew:
      attributes = Only(updated_item, updated);
      break;
  }
  if (attributes.has_value() && attributes->empty()) attributes.reset();
  return Status::OK();
}

ItemMutation PreparedWrite::Mutation() {
  ItemMutation m;
  m.table = table;
  m.key = key;
  m.decide = [this](std::optional<std::string_view> current, std::optional<std::string>* next) {
    return Evaluate(current, next);
  };
  return m;
}

}  // namespace items

namespace {

Status CheckPutDeleteReturnValues(ReturnValues rv) {
  if (rv != ReturnValues::kNone && rv != ReturnValues::kAllOld) {
    return Status::InvalidArgument("ReturnValues can only be ALL_OLD or NONE");
  }
  return Status::OK();
}

}  // namespace

Status DBImpl::CommitItems(const std::vector<ItemMutation>& items, bool sync, bool ttl_delete,
                           std::vector<Status>* item_status, CommitInfo* info) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  const WriteBatch none;
  Writer w;
  w.batch = &none;
  w.items = &items;
  w.item_status = item_status;
  w.ttl_delete = ttl_delete;
  w.sync = sync;
  s = Commit(&w);
  if (info != nullptr) *info = w.info;
  return s;
}

Status DBImpl::CommitCheckpoint(const WriteBatch& writes, const std::vector<ItemMutation>& items,
                                const log::CheckpointData& checkpoint, uint8_t chain_depth) {
  if (items.empty()) return CommitCheckpoint(writes, checkpoint, chain_depth);
  Status s = ValidateBatch(writes);
  if (!s.ok()) return s;
  Writer w;
  w.batch = &writes;
  w.items = &items;
  w.checkpoint = &checkpoint;
  w.chain_depth = chain_depth;
  w.sync = false;  // as CommitCheckpoint without items: one frame, redelivered if lost
  return Commit(&w);
}

Status DBImpl::CommitPrepared(items::PreparedWrite* p, bool sync, WriteItemResult* result) {
  const std::vector<ItemMutation> mutations{p->Mutation()};
  CommitInfo info;
  Status s = CommitItems(mutations, sync, false, nullptr, &info);
  if (result == nullptr) return s;
  *result = WriteItemResult();
  if (s.ok()) {
    result->attributes = std::move(p->attributes);
    result->sequence = info.first_sequence;
  } else if (s.IsConditionalCheckFailed()) {
    result->attributes = std::move(p->failed_item);
  }
  return s;
}

Status DBImpl::PutItem(const PutItemRequest& request, WriteItemResult* result) {
  Status s = CheckOpen();
  if (s.ok()) s = CheckPutDeleteReturnValues(request.return_values);
  const log::TableEntryData* t = nullptr;
  const std::shared_ptr<const Catalog> cat = catalog();
  if (s.ok()) s = items::FindTypedTable(*cat, request.table_name, &t);
  items::PreparedWrite p;
  if (s.ok()) {
    s = items::PrepareWrite(*t, items::PreparedWrite::Kind::kPut, request.item, request,
                            request.condition_expression, {}, &p);
  }
  if (!s.ok()) return s;
  p.return_values = request.return_values;
  p.return_old_on_condition_failure = request.return_old_on_condition_failure;
  return CommitPrepared(&p, request.sync, result);
}

Status DBImpl::UpdateItem(const UpdateItemRequest& request, WriteItemResult* result) {
  Status s = CheckOpen();
  const log::TableEntryData* t = nullptr;
  const std::shared_ptr<const Catalog> cat = catalog();
  if (s.ok()) s = items::FindTypedTable(*cat, request.table_name, &t);
  items::PreparedWrite p;
  if (s.ok()) {
    s = items::PrepareWrite(*t, items::PreparedWrite::Kind::kUpdate, request.key, request,
                            request.condition_expression, request.update_expression, &p);
  }
  if (!s.ok()) return s;
  p.return_values = request.return_values;
  p.return_old_on_condition_failure = request.return_old_on_condition_failure;
  return CommitPrepared(&p, request.sync, result);
}

Status DBImpl::DeleteItem(const DeleteItemRequest& request, WriteItemResult* result) {
  Status s = CheckOpen();
  if (s.ok()) s = CheckPutDeleteReturnValues(request.return_values);
  const log::TableEntryData* t = nullptr;
  const std::shared_ptr<const Catalog> cat = catalog();
  if (s.ok()) s = items::FindTypedTable(*cat, request.table_name, &t);
  items::PreparedWrite p;
  if (s.ok()) {
    s = items::PrepareWrite(*t, items::PreparedWrite::Kind::kDelete, request.key, request,
                            request.condition_expression, {}, &p);
  }
  if (!s.ok()) return s;
  p.return_values = request.return_values;
  p.return_old_on_condition_failure = request.return_old_on_condition_failure;
  return CommitPrepared(&p, request.sync, result);
}

Status DBImpl::BatchWriteItem(const BatchWriteItemRequest& request, BatchWriteItemResult* result) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  size_t total = 0;
  for (const auto& [table, requests] : request.request_items) total += requests.size();
  if (total == 0 || total > kMaxBatchWriteRequests) {
    return Status::InvalidArgument(
        "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
        "Member must have between 1 and 25 requests in all, got " +
        std::to_string(total));
  }
  const std::shared_ptr<const Catalog> cat = catalog();
  std::vector<items::PreparedWrite> prepared(total);
  std::set<std::pair<std::string, std::string>> keys;
  size_t i = 0;
  for (const auto& [table, requests] : request.request_items) {
    const log::TableEntryData* t = nullptr;
    s = items::FindTypedTable(*cat, table, &t);
    if (!s.ok()) return s;
    for (const WriteRequest& r : requests) {
      items::PreparedWrite& p = prepared[i++];
      s = items::PrepareWrite(
          *t, r.put ? items::PreparedWrite::Kind::kPut : items::PreparedWrite::Kind::kDelete,
          r.item, ExpressionInput(), {}, {}, &p);
      if (!s.ok()) return s.WithContext("RequestItems " + table);
      if (!keys.emplace(table, p.key).second) {
        return Status::InvalidArgument("Provided list of item keys contains duplicates");
      }
    }
  }
  std::vector<ItemMutation> mutations;
  mutations.reserve(total);
  for (items::PreparedWrite& p : prepared) mutations.push_back(p.Mutation());
  s = CommitItems(mutations, request.sync, false, nullptr, nullptr);
  if (s.ok() && result != nullptr) *result = BatchWriteItemResult();
  return s;
}

}  // namespace runnel
