// Copyright 2026 The runnel Authors.
//
// DynamoDB's batches and transactions: BatchGetItem, BatchWriteItem,
// TransactWriteItems, TransactGetItems. Their request maps are parsed by
// the AWS CLI's parsers (tools/item_args.h): the CLI takes them in their
// wire JSON.

#include "tools/endpoint/dynamodb_internal.h"
#include "tools/item_args.h"

namespace runnel::endpoint::ddb {
namespace {

ojson ItemJ(const Item& item) { return ojson::parse(ItemToJson(item)); }

}  // namespace

HttpResponse BatchGetItem(const Call& c) {
  const Params p(c.body, "");
  const json* items = nullptr;
  BatchGetItemRequest r;
  Fault f = p.Object("RequestItems", &items, true);
  if (f.ok()) f = CheckReturnMetrics(p);
  if (f.ok()) {
    f = FromArgStatus(cli::ParseBatchGetArg(items->dump(), &r), "--request-items", "RequestItems");
  }
  if (!f.ok()) return ErrorResponse(f);
  BatchGetItemResult result;
  Status s = c.db().BatchGetItem(ReadOptions(), r, &result);
  if (!s.ok()) return ErrorResponse(FromStatus(s));
  ojson responses = ojson::object();
  for (const auto& [table, ka] : r.request_items) {
    ojson list = ojson::array();
    auto it = result.responses.find(table);
    if (it != result.responses.end()) {
      for (const Item& item : it->second) list.push_back(ItemJ(item));
    }
    responses[table] = std::move(list);
  }
  ojson unprocessed = ojson::object();
  for (const auto& [table, ka] : result.unprocessed_keys) {
    unprocessed[table] = cli::KeysAndAttributesJson(ka);
  }
  return OkResponse({{"Responses", std::move(responses)}, {"UnprocessedKeys", unprocessed}});
}

HttpResponse BatchWriteItem(const Call& c) {
  const Params p(c.body, "");
  const json* items = nullptr;
  BatchWriteItemRequest r;
  r.sync = c.sync();
  Fault f = p.Object("RequestItems", &items, true);
  if (f.ok()) f = CheckReturnMetrics(p);
  if (f.ok()) {
    f = FromArgStatus(cli::ParseBatchWriteArg(items->dump(), &r), "--request-items",
                      "RequestItems");
  }
  if (!f.ok()) return ErrorResponse(f);
  BatchWriteItemResult result;
  Status s = c.db().BatchWriteItem(r, &result);
  if (!s.ok()) return ErrorResponse(FromStatus(s));
  return OkResponse({{"UnprocessedItems", cli::WriteRequestsJson(result.unprocessed_items)}});
}

HttpResponse TransactWriteItems(const Call& c) {
  const Params p(c.body, "");
  const json* items = nullptr;
  TransactWriteItemsRequest r;
  r.sync = c.sync();
  Fault f = p.Array("TransactItems", &items, true);
  if (f.ok()) f = p.Str("ClientRequestToken", &r.client_request_token);
  if (f.ok()) f = CheckReturnMetrics(p);
  if (f.ok()) {
    f = FromArgStatus(cli::ParseTransactWriteArg(items->dump(), &r.transact_items),
                      "--transact-items", "TransactItems");
  }
  if (!f.ok()) return ErrorResponse(f);
  TransactWriteItemsResult result;
  Status s = c.db().TransactWriteItems(r, &result);
  if (s.IsTransactionCanceled()) {
    Fault t{"TransactionCanceledException", cli::CancellationMessage(result.cancellation_reasons),
            cli::CancellationReasonsJson(result.cancellation_reasons)};
    return ErrorResponse(t);
  }
  if (!s.ok()) return ErrorResponse(FromStatus(s));
  return OkResponse(ojson::object());
}

HttpResponse TransactGetItems(const Call& c) {
  const Params p(c.body, "");
  const json* items = nullptr;
  TransactGetItemsRequest r;
  Fault f = p.Array("TransactItems", &items, true);
  if (f.ok()) f = CheckReturnMetrics(p);
  if (f.ok()) {
    f = FromArgStatus(cli::ParseTransactGetArg(items->dump(), &r), "--transact-items",
                      "TransactItems");
  }
  if (!f.ok()) return ErrorResponse(f);
  TransactGetItemsResult result;
  Status s = c.db().TransactGetItems(ReadOptions(), r, &result);
  if (!s.ok()) return ErrorResponse(FromStatus(s));
  ojson responses = ojson::array();
  for (const std::optional<Item>& item : result.responses) {
    ojson one = ojson::object();
    if (item) one["Item"] = ItemJ(*item);
    responses.push_back(std::move(one));
  }
  return OkResponse({{"Responses", std::move(responses)}});
}

}  // namespace runnel::endpoint::ddb
