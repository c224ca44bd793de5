// Copyright 2026 The runnel Authors.
//
// Typed tables on the DB: the read side (GetItem, Query, Scan, BatchGetItem,
// TransactGetItems). The write side is in db_items_write.cc, db_transact.cc,
// db_items_schema.cc and db_ttl.cc.
// (Placeholder bodies: the typed tables work replaces each one.)

#include "db/db_impl.h"

namespace runnel {
namespace {
Status NotYet(std::string_view what) {
  return Status::NotSupported(std::string(what) + ": typed tables are not built yet");
}
}  // namespace

Status DBImpl::GetItem(const ReadOptions&, const GetItemRequest&, GetItemResult*) {
  return NotYet("GetItem");
}
Status DBImpl::Query(const ReadOptions&, const QueryRequest&, QueryResult*) {
  return NotYet("Query");
}
Status DBImpl::ScanItems(const ReadOptions&, const ScanRequest&, QueryResult*) {
  return NotYet("Scan");
}
Status DBImpl::BatchGetItem(const ReadOptions&, const BatchGetItemRequest&, BatchGetItemResult*) {
  return NotYet("BatchGetItem");
}
Status DBImpl::TransactGetItems(const ReadOptions&, const TransactGetItemsRequest&,
                                TransactGetItemsResult*) {
  return NotYet("TransactGetItems");
}

}  // namespace runnel
