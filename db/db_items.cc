// Copyright 2026 The runnel Authors.
//
// Typed tables on the DB: schema, item operations, transactions, TTL.
// (Placeholder bodies: the typed tables work replaces each one.)

#include "db/db_impl.h"

namespace runnel {
namespace {
Status NotYet(std::string_view what) {
  return Status::NotSupported(std::string(what) + ": typed tables are not built yet");
}
}  // namespace

Status DBImpl::CreateTable(std::string_view name, const StreamSpecification& stream,
                           const TableSchema& schema) {
  if (!schema.typed()) return CreateTable(name, stream);
  return NotYet("CreateTable with a key schema");
}
Status DBImpl::UpdateTimeToLive(std::string_view, const TimeToLiveSpecification&) {
  return NotYet("UpdateTimeToLive");
}
Status DBImpl::RunTimeToLive(uint64_t* deleted) {
  if (deleted != nullptr) *deleted = 0;
  return Status::OK();
}
Status DBImpl::PutItem(const PutItemRequest&, WriteItemResult*) { return NotYet("PutItem"); }
Status DBImpl::UpdateItem(const UpdateItemRequest&, WriteItemResult*) {
  return NotYet("UpdateItem");
}
Status DBImpl::DeleteItem(const DeleteItemRequest&, WriteItemResult*) {
  return NotYet("DeleteItem");
}
Status DBImpl::BatchWriteItem(const BatchWriteItemRequest&, BatchWriteItemResult*) {
  return NotYet("BatchWriteItem");
}
Status DBImpl::TransactWriteItems(const TransactWriteItemsRequest&, TransactWriteItemsResult*) {
  return NotYet("TransactWriteItems");
}
Status DBImpl::CommitCheckpoint(const WriteBatch& writes, const std::vector<ItemMutation>& items,
                                const log::CheckpointData& checkpoint, uint8_t chain_depth) {
  if (items.empty()) return CommitCheckpoint(writes, checkpoint, chain_depth);
  return NotYet("typed write-backs");
}

}  // namespace runnel
