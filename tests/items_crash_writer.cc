// Copyright 2026 The runnel Authors.
//
// items_crash_writer: the child process of tests/items_crash_test.cc. It runs
// TransactWriteItems in a loop until the parent SIGKILLs it.
//
// Usage: items_crash_writer DIR SEED RUN
//
// Opens (creating if missing) the DB in DIR, creates (if missing) the typed
// tables "tx_a" and "tx_b" (HASH key pk of type S, NEW_AND_OLD_IMAGES
// streams), then loops: transaction <i> of run RUN puts K items (1..5)
// {pk: "r<RUN>t<i>#<j>", tx: "r<RUN>t<i>"} alternately into tx_a and tx_b,
// and adds 1 to the attribute n of the item {pk: "counter"} of tx_a; one in
// four transactions also carries a ConditionCheck that cannot pass
// (attribute_exists on the item "absent" of tx_b, which is never written),
// so it must be canceled and write nothing. Half of
// them are sync.
//
// Protocol on stdout, one line per write(2) (tests/campaign.h):
//   O / R / E <message>    as every campaign child
//   B <i> <k> <doomed>     transaction i with k puts is about to start
//   A <i> <first_seq>      it returned OK
//   C <i>                  it returned TransactionCanceled (expected iff doomed)

#include <cstdlib>
#include <random>
#include <string>

#include "runnel/db.h"
#include "tests/campaign.h"

namespace {

using runnel::AttributeValue;
using runnel::Status;
using runnel::TransactWriteItem;
using runnel::test::ChildEmit;
using runnel::test::ChildFail;

void CreateTables(runnel::DB* db) {
  runnel::TableSchema schema;
  schema.key_schema = {{"pk", runnel::KeyType::kHash}};
  schema.attribute_definitions = {{"pk", runnel::ScalarAttributeType::kS}};
  runnel::StreamSpecification stream;
  stream.stream_enabled = true;
  stream.stream_view_type = runnel::StreamViewType::kNewAndOldImages;
  for (const char* name : {"tx_a", "tx_b"}) {
    Status s = db->CreateTable(name, stream, schema);
    if (!s.ok() && !s.IsBusy()) ChildFail("create table", s);
  }
}

runnel::TransactWriteItemsRequest MakeTransaction(const std::string& tx, int k, bool doomed,
                                                  bool sync) {
  runnel::TransactWriteItemsRequest req;
  req.sync = sync;
  for (int j = 0; j < k; ++j) {
    TransactWriteItem put;
    put.kind = TransactWriteItem::Kind::kPut;
    put.table_name = j % 2 == 0 ? "tx_a" : "tx_b";
    put.item = {{"pk", AttributeValue::S(tx + "#" + std::to_string(j))},
                {"tx", AttributeValue::S(tx)}};
    req.transact_items.push_back(put);
  }
  TransactWriteItem count;
  count.kind = TransactWriteItem::Kind::kUpdate;
  count.table_name = "tx_a";
  count.key = {{"pk", AttributeValue::S("counter")}};
  count.update_expression = "ADD n :one";
  count.expression_attribute_values[":one"] = AttributeValue::N("1");
  req.transact_items.push_back(count);
  if (doomed) {
    TransactWriteItem check;
    check.kind = TransactWriteItem::Kind::kConditionCheck;
    check.table_name = "tx_b";
    check.key = {{"pk", AttributeValue::S("absent")}};
    check.condition_expression = "attribute_exists(pk)";
    req.transact_items.push_back(check);
  }
  return req;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: items_crash_writer DIR SEED RUN\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  const std::string run = argv[3];
  std::unique_ptr<runnel::DB> db = runnel::test::ChildOpen(dir);
  CreateTables(db.get());
  ChildEmit("R");
  for (uint64_t i = 0;; ++i) {
    const int k = 1 + static_cast<int>(rng() % 5);
    const bool doomed = rng() % 4 == 0;
    const bool sync = rng() % 2 == 0;
    const std::string tx = "r" + run + "t" + std::to_string(i);
    ChildEmit("B " + tx + " " + std::to_string(k) + " " + (doomed ? "1" : "0"));
    runnel::TransactWriteItemsResult result;
    Status s = db->TransactWriteItems(MakeTransaction(tx, k, doomed, sync), &result);
    if (s.ok()) {
      ChildEmit("A " + tx + " " + std::to_string(result.first_sequence));
    } else if (s.IsTransactionCanceled()) {
      ChildEmit("C " + tx);
    } else {
      ChildFail("transaction " + tx, s);
    }
  }
}
