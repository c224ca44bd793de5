// Copyright 2026 The runnel Authors.
//
// Typed tables through the DB: schemas, conditional writes with every
// ReturnValues, BatchWriteItem, transactions, time to live, recovery, and
// the stream records they leave (or do not leave).

#include <filesystem>
#include <thread>

#include "db/db_internal.h"
#include "db/items/item_codec.h"
#include "db/items/key_codec.h"
#include "runnel/stream.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Stream;
using test::TempDir;

AttributeValue S(std::string_view s) { return AttributeValue::S(s); }
AttributeValue N(std::string_view n) { return AttributeValue::N(n); }

TableSchema Schema(const std::string& hash, ScalarAttributeType ht, const std::string& range = "",
                   ScalarAttributeType rt = ScalarAttributeType::kS) {
  TableSchema s;
  s.key_schema.push_back({hash, KeyType::kHash});
  s.attribute_definitions.push_back({hash, ht});
  if (!range.empty()) {
    s.key_schema.push_back({range, KeyType::kRange});
    s.attribute_definitions.push_back({range, rt});
  }
  return s;
}

// One typed stream record, decoded.
struct TypedRec {
  SequenceNumber seq = 0;
  std::string table;
  EventName event = EventName::kInsert;
  Item keys;
  std::optional<Item> old_image, new_image;
  bool end_of_batch = false;
  bool ttl_delete = false;
};

class ItemsDb : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen(Options options = Options()) {
    if (db_) ASSERT_OK(db_->Close());
    db_.reset();
    options.ttl_check_seconds = 0;  // passes run when a test asks
    ASSERT_OK(DB::Open(options, dir_.Sub("db"), &db_));
  }
  // A table "Tab" keyed by pk (S), with a NEW_AND_OLD_IMAGES stream.
  void CreateT() {
    ASSERT_OK(db_->CreateTable("Tab", Stream(StreamViewType::kNewAndOldImages),
                               Schema("pk", ScalarAttributeType::kS)));
  }
  // The item as stored (the read side is another module: read the index).
  std::optional<Item> Stored(const std::string& table, const std::string& pk) {
    items::KeyShape shape;
    shape.hash_name = "pk";
    std::string key;
    EXPECT_OK(items::EncodeItemKey(shape, Item{{"pk", S(pk)}}, true, &key));
    std::string value;
    Status s = db_->Get(ReadOptions(), table, key, &value);
    if (s.IsNotFound()) return std::nullopt;
    EXPECT_OK(s);
    Item item;
    EXPECT_OK(items::DecodeItem(value, &item));
    return item;
  }
  std::vector<TypedRec> Records(SequenceNumber start = 1) {
    std::vector<TypedRec> out;
    std::unique_ptr<ChangeIterator> it;
    EXPECT_OK(db_->NewChangeIterator(start, &it));
    for (; it->Valid(); it->Next()) {
      const ChangeRecord& r = it->record();
      TypedRec t;
      t.seq = r.sequence;
      t.table = std::string(r.table);
      t.event = r.event;
      t.end_of_batch = r.end_of_batch;
      t.ttl_delete = r.ttl_delete;
      EXPECT_TRUE(r.typed);
      EXPECT_OK(items::DecodeItemKey(r.hash_key_name, r.range_key_name, r.key, &t.keys));
      if (r.has_old_image) EXPECT_OK(items::DecodeItem(r.old_image, &t.old_image.emplace()));
      if (r.has_new_image) EXPECT_OK(items::DecodeItem(r.new_image, &t.new_image.emplace()));
      out.push_back(std::move(t));
    }
    EXPECT_OK(it->status());
    return out;
  }
  Status Put(Item item, const std::string& condition = "", Item values = {},
             WriteItemResult* result = nullptr) {
    PutItemRequest r;
    r.table_name = "Tab";
    r.item = std::move(item);
    r.condition_expression = condition;
    r.expression_attribute_values = std::move(values);
    return db_->PutItem(r, result);
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
};

Status CreateWith(DB* db, const TableSchema& schema) {
  return db->CreateTable("Bad", StreamSpecification(), schema);
}

TEST_F(ItemsDb, SchemaValidatedAsTheCloudDoesAndDescribed) {
  auto message = [&](const TableSchema& s) {
    Status st = CreateWith(db_.get(), s);
    EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
    return st.message();
  };
  TableSchema two_hash = Schema("a", ScalarAttributeType::kS, "b");
  two_hash.key_schema[1].key_type = KeyType::kHash;
  EXPECT_NE(message(two_hash).find("second KeySchemaElement is not a RANGE"), std::string::npos);
  TableSchema range_first = Schema("a", ScalarAttributeType::kS);
  range_first.key_schema[0].key_type = KeyType::kRange;
  EXPECT_NE(message(range_first).find("first KeySchemaElement is not a HASH"), std::string::npos);
  TableSchema three = Schema("a", ScalarAttributeType::kS, "b");
  three.key_schema.push_back({"c", KeyType::kRange});
  EXPECT_NE(message(three).find("length less than or equal to 2"), std::string::npos);
  TableSchema undefined = Schema("a", ScalarAttributeType::kS);
  undefined.attribute_definitions[0].attribute_name = "x";
  EXPECT_NE(message(undefined).find("Some index key attributes are not defined"),
            std::string::npos);
  TableSchema extra = Schema("a", ScalarAttributeType::kS);
  extra.attribute_definitions.push_back({"x", ScalarAttributeType::kN});
  EXPECT_NE(message(extra).find("does not exactly match"), std::string::npos);
  TableSchema bad_type = Schema("a", ScalarAttributeType::kS);
  bad_type.attribute_definitions[0].attribute_type = static_cast<ScalarAttributeType>(7);
  EXPECT_NE(message(bad_type).find("[B, N, S]"), std::string::npos);
  EXPECT_NE(message(Schema("", ScalarAttributeType::kS)).find("greater than or equal to 1"),
            std::string::npos);
  EXPECT_NE(message(Schema(std::string(256, 'a'), ScalarAttributeType::kS))
                .find("less than or equal to 255"),
            std::string::npos);
  EXPECT_NE(message(Schema("a", ScalarAttributeType::kS, "a")).find("same name"),
            std::string::npos);
  std::vector<std::string> names;
  ASSERT_OK(db_->ListTables(&names));
  EXPECT_TRUE(names.empty());  // nothing was created

  ASSERT_OK(
      db_->CreateTable("Music", StreamSpecification(),
                       Schema("Artist", ScalarAttributeType::kS, "Year", ScalarAttributeType::kN)));
  TableDescription d;
  ASSERT_OK(db_->DescribeTable("Music", &d));
  ASSERT_EQ(d.schema.key_schema.size(), 2u);
  EXPECT_EQ(d.schema.key_schema[0].attribute_name, "Artist");
  EXPECT_EQ(d.schema.key_schema[1].key_type, KeyType::kRange);
  EXPECT_EQ(d.schema.attribute_definitions[1].attribute_type, ScalarAttributeType::kN);
  EXPECT_FALSE(d.time_to_live.enabled);
  EXPECT_TRUE(db_->CreateTable("Music", StreamSpecification(), Schema("x", ScalarAttributeType::kS))
                  .IsBusy());
}

TEST_F(ItemsDb, ConditionalPutAndDeleteWithReturnValues) {
  CreateT();
  ASSERT_OK(Put({{"pk", S("a")}, {"v", N("1.0")}}, "attribute_not_exists(pk)"));
  const SequenceNumber after_first = db_->LastSequence();
  WriteItemResult r;
  Status s = Put({{"pk", S("a")}, {"v", N("2")}}, "attribute_not_exists(pk)", {}, &r);
  ASSERT_TRUE(s.IsConditionalCheckFailed()) << s.ToString();
  EXPECT_EQ(s.message(), "The conditional request failed");
  EXPECT_FALSE(r.attributes.has_value());
  EXPECT_EQ(db_->LastSequence(), after_first);    // nothing written, no record
  EXPECT_EQ((*Stored("Tab", "a"))["v"], N("1"));  // normalized

  // ReturnValuesOnConditionCheckFailure ALL_OLD.
  PutItemRequest req;
  req.table_name = "Tab";
  req.item = {{"pk", S("a")}, {"v", N("3")}};
  req.condition_expression = "v = :two";
  req.expression_attribute_values = {{":two", N("2")}};
  req.return_old_on_condition_failure = true;
  ASSERT_TRUE(db_->PutItem(req, &r).IsConditionalCheckFailed());
  ASSERT_TRUE(r.attributes.has_value());
  EXPECT_EQ((*r.attributes)["v"], N("1"));

  // ALL_OLD after a successful put.
  req.condition_expression = "v = :one";
  req.expression_attribute_values = {{":one", N("1")}};
  req.return_values = ReturnValues::kAllOld;
  ASSERT_OK(db_->PutItem(req, &r));
  ASSERT_TRUE(r.attributes.has_value());
  EXPECT_EQ((*r.attributes)["v"], N("1"));
  EXPECT_EQ(r.sequence, db_->LastSequence());
  req.return_values = ReturnValues::kAllNew;
  EXPECT_TRUE(db_->PutItem(req, &r).IsInvalidArgument());

  // A put of the same item changes nothing and writes no record.
  const SequenceNumber before = db_->LastSequence();
  ASSERT_OK(Put({{"pk", S("a")}, {"v", N("3")}}, "", {}, &r));
  EXPECT_EQ(r.sequence, 0u);
  EXPECT_EQ(db_->LastSequence(), before);

  DeleteItemRequest del;
  del.table_name = "Tab";
  del.key = {{"pk", S("a")}};
  del.condition_expression = "v > :x";
  del.expression_attribute_values = {{":x", N("5")}};
  ASSERT_TRUE(db_->DeleteItem(del, &r).IsConditionalCheckFailed());
  EXPECT_TRUE(Stored("Tab", "a").has_value());
  del.expression_attribute_values = {{":x", N("2.5")}};
  del.return_values = ReturnValues::kAllOld;
  ASSERT_OK(db_->DeleteItem(del, &r));
  EXPECT_EQ((*r.attributes)["v"], N("3"));
  EXPECT_FALSE(Stored("Tab", "a").has_value());

  const std::vector<TypedRec> recs = Records();
  ASSERT_EQ(recs.size(), 3u);  // insert, modify, remove: failures left none
  EXPECT_EQ(recs[0].event, EventName::kInsert);
  EXPECT_EQ(recs[1].event, EventName::kModify);
  EXPECT_EQ(recs[1].old_image->at("v"), N("1"));
  EXPECT_EQ(recs[2].event, EventName::kRemove);
  EXPECT_EQ(recs[2].keys, (Item{{"pk", S("a")}}));
  EXPECT_FALSE(recs[2].ttl_delete);
}

TEST_F(ItemsDb, UpdateItemEachReturnValues) {
  CreateT();
  auto update = [&](ReturnValues rv, WriteItemResult* r) {
    UpdateItemRequest u;
    u.table_name = "Tab";
    u.key = {{"pk", S("k")}};
    u.update_expression = "SET #c = :c ADD n :one";
    u.expression_attribute_names = {{"#c", "color"}};
    u.expression_attribute_values = {{":c", S("red")}, {":one", N("1")}};
    u.return_values = rv;
    return db_->UpdateItem(u, r);
  };
  WriteItemResult r;
  ASSERT_OK(update(ReturnValues::kAllOld, &r));  // creates the item
  EXPECT_FALSE(r.attributes.has_value());
  EXPECT_EQ(*Stored("Tab", "k"), (Item{{"pk", S("k")}, {"color", S("red")}, {"n", N("1")}}));
  ASSERT_OK(Put({{"pk", S("k")}, {"n", N("1")}, {"other", S("x")}}));

  ASSERT_OK(update(ReturnValues::kUpdatedOld, &r));
  EXPECT_EQ(*r.attributes, (Item{{"n", N("1")}}));  // color did not exist
  ASSERT_OK(update(ReturnValues::kUpdatedNew, &r));
  EXPECT_EQ(*r.attributes, (Item{{"color", S("red")}, {"n", N("3")}}));
  ASSERT_OK(update(ReturnValues::kAllNew, &r));
  EXPECT_EQ(*r.attributes,
            (Item{{"pk", S("k")}, {"color", S("red")}, {"n", N("4")}, {"other", S("x")}}));
  ASSERT_OK(update(ReturnValues::kAllOld, &r));
  EXPECT_EQ((*r.attributes)["n"], N("4"));
  ASSERT_OK(update(ReturnValues::kNone, &r));
  EXPECT_FALSE(r.attributes.has_value());
  EXPECT_EQ((*Stored("Tab", "k"))["n"], N("6"));

  UpdateItemRequest key_update;
  key_update.table_name = "Tab";
  key_update.key = {{"pk", S("k")}};
  key_update.update_expression = "SET pk = :v";
  key_update.expression_attribute_values = {{":v", S("z")}};
  Status s = db_->UpdateItem(key_update, &r);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("Cannot update attribute pk. This attribute is part of the key"),
            std::string::npos);

  // A failed condition on an update: nothing written, the old item on request.
  UpdateItemRequest cond;
  cond.table_name = "Tab";
  cond.key = {{"pk", S("k")}};
  cond.update_expression = "REMOVE #o";  // OTHER is a reserved word
  cond.expression_attribute_names = {{"#o", "other"}};
  cond.condition_expression = "n < :max";
  cond.expression_attribute_values = {{":max", N("5")}};
  cond.return_old_on_condition_failure = true;
  const SequenceNumber before = db_->LastSequence();
  Status cs = db_->UpdateItem(cond, &r);
  ASSERT_TRUE(cs.IsConditionalCheckFailed()) << cs.ToString();
  EXPECT_EQ((*r.attributes)["n"], N("6"));
  EXPECT_EQ(db_->LastSequence(), before);
  // Unused expression values are refused before anything is queued.
  cond.expression_attribute_values[":unused"] = N("1");
  EXPECT_TRUE(db_->UpdateItem(cond, &r).IsInvalidArgument());
}

TEST_F(ItemsDb, BatchWriteItemIsOneFrame) {
  CreateT();
  ASSERT_OK(db_->CreateTable("Uni", StreamSpecification(), Schema("pk", ScalarAttributeType::kS)));
  ASSERT_OK(Put({{"pk", S("gone")}}));
  const SequenceNumber start = db_->LastSequence() + 1;
  BatchWriteItemRequest b;
  b.request_items["Tab"] = {{true, {{"pk", S("a")}}},
                            {true, {{"pk", S("b")}, {"n", N("1")}}},
                            {false, {{"pk", S("gone")}}}};
  b.request_items["Uni"] = {{true, {{"pk", S("c")}}}};
  ASSERT_OK(db_->BatchWriteItem(b, nullptr));
  const std::vector<TypedRec> recs = Records(start);
  ASSERT_EQ(recs.size(), 3u);  // U has no stream
  EXPECT_FALSE(recs[0].end_of_batch);
  EXPECT_FALSE(recs[1].end_of_batch);
  EXPECT_TRUE(recs[2].end_of_batch);
  EXPECT_EQ(recs[2].event, EventName::kRemove);
  EXPECT_FALSE(Stored("Tab", "gone").has_value());
  EXPECT_TRUE(Stored("Uni", "c").has_value());

  BatchWriteItemRequest dup;
  dup.request_items["Tab"] = {{true, {{"pk", S("x")}}}, {false, {{"pk", S("x")}}}};
  Status s = db_->BatchWriteItem(dup, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("duplicates"), std::string::npos);
  BatchWriteItemRequest big;
  for (int i = 0; i < 26; ++i)
    big.request_items["Tab"].push_back({true, {{"pk", N(std::to_string(i))}}});
  EXPECT_TRUE(db_->BatchWriteItem(big, nullptr).IsInvalidArgument());
  BatchWriteItemRequest bad;
  bad.request_items["Tab"] = {{true, {{"pk", S("ok")}}}, {true, {{"nokey", S("x")}}}};
  EXPECT_TRUE(db_->BatchWriteItem(bad, nullptr).IsInvalidArgument());
  EXPECT_FALSE(Stored("Tab", "ok").has_value());
}

TransactWriteItem TxPut(const std::string& table, Item item, const std::string& cond = "") {
  TransactWriteItem a;
  a.kind = TransactWriteItem::Kind::kPut;
  a.table_name = table;
  a.item = std::move(item);
  a.condition_expression = cond;
  return a;
}

TEST_F(ItemsDb, TransactionsAllOrNothingWithReasons) {
  CreateT();
  ASSERT_OK(Put({{"pk", S("acct")}, {"balance", N("10")}}));
  const SequenceNumber start = db_->LastSequence() + 1;

  TransactWriteItemsRequest tx;
  TransactWriteItem debit;
  debit.kind = TransactWriteItem::Kind::kUpdate;
  debit.table_name = "Tab";
  debit.key = {{"pk", S("acct")}};
  debit.update_expression = "SET balance = balance - :amt";
  debit.condition_expression = "balance >= :amt";
  debit.expression_attribute_values = {{":amt", N("15")}};
  debit.return_old_on_condition_failure = true;
  tx.transact_items = {TxPut("Tab", {{"pk", S("order")}}, "attribute_not_exists(pk)"), debit};
  TransactWriteItemsResult result;
  Status s = db_->TransactWriteItems(tx, &result);
  ASSERT_TRUE(s.IsTransactionCanceled()) << s.ToString();
  ASSERT_EQ(result.cancellation_reasons.size(), 2u);
  EXPECT_EQ(result.cancellation_reasons[0].code, "None");
  EXPECT_EQ(result.cancellation_reasons[1].code, "ConditionalCheckFailed");
  EXPECT_EQ((*result.cancellation_reasons[1].item)["balance"], N("10"));
  EXPECT_NE(s.message().find("[None, ConditionalCheckFailed]"), std::string::npos);
  EXPECT_FALSE(Stored("Tab", "order").has_value());  // the passing action was not written
  EXPECT_EQ(db_->LastSequence(), start - 1);

  tx.transact_items[1].expression_attribute_values = {{":amt", N("4")}};
  TransactWriteItem check;
  check.kind = TransactWriteItem::Kind::kConditionCheck;
  check.table_name = "Tab";
  check.key = {{"pk", S("acct")}};
  check.condition_expression = "attribute_exists(balance)";
  tx.transact_items.push_back(TxPut("Tab", {{"pk", S("log")}}));
  ASSERT_OK(db_->TransactWriteItems(tx, &result));
  EXPECT_EQ((*Stored("Tab", "acct"))["balance"], N("6"));
  const std::vector<TypedRec> recs = Records(start);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(result.first_sequence, recs[0].seq);
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].seq, recs[0].seq + i);  // contiguous, one frame
    EXPECT_EQ(recs[i].end_of_batch, i + 1 == recs.size());
  }

  // A condition check alone writes nothing; one item twice is refused.
  TransactWriteItemsRequest only_check;
  only_check.transact_items = {check};
  const SequenceNumber before = db_->LastSequence();
  ASSERT_OK(db_->TransactWriteItems(only_check, &result));
  EXPECT_EQ(db_->LastSequence(), before);
  only_check.transact_items.push_back(TxPut("Tab", {{"pk", S("acct")}}));
  s = db_->TransactWriteItems(only_check, &result);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("multiple operations on one item"), std::string::npos);
  TransactWriteItemsRequest none;
  EXPECT_TRUE(db_->TransactWriteItems(none, &result).IsInvalidArgument());

  // What only the item can tell (a number operand that is a string) is a
  // ValidationError reason; the other actions pass and nothing is written.
  ASSERT_OK(Put({{"pk", S("text")}, {"n", S("not a number")}}));
  TransactWriteItem add;
  add.kind = TransactWriteItem::Kind::kUpdate;
  add.table_name = "Tab";
  add.key = {{"pk", S("text")}};
  add.update_expression = "SET n = n + :one";
  add.expression_attribute_values = {{":one", N("1")}};
  TransactWriteItemsRequest runtime;
  runtime.transact_items = {TxPut("Tab", {{"pk", S("fresh")}}), add};
  s = db_->TransactWriteItems(runtime, &result);
  ASSERT_TRUE(s.IsTransactionCanceled()) << s.ToString();
  EXPECT_EQ(result.cancellation_reasons[0].code, "None");
  EXPECT_EQ(result.cancellation_reasons[1].code, "ValidationError");
  EXPECT_FALSE(result.cancellation_reasons[1].message.empty());
  EXPECT_FALSE(Stored("Tab", "fresh").has_value());
}

TEST_F(ItemsDb, ClientRequestTokenIsIdempotent) {
  CreateT();
  ASSERT_OK(Put({{"pk", S("c")}, {"n", N("0")}}));
  TransactWriteItemsRequest tx;
  TransactWriteItem add;
  add.kind = TransactWriteItem::Kind::kUpdate;
  add.table_name = "Tab";
  add.key = {{"pk", S("c")}};
  add.update_expression = "ADD n :one";
  add.expression_attribute_values = {{":one", N("1")}};
  tx.transact_items = {add};
  tx.client_request_token = "token-1";
  TransactWriteItemsResult first, again;
  ASSERT_OK(db_->TransactWriteItems(tx, &first));
  const SequenceNumber last = db_->LastSequence();
  ASSERT_OK(db_->TransactWriteItems(tx, &again));
  EXPECT_EQ(again.first_sequence, first.first_sequence);
  EXPECT_EQ(db_->LastSequence(), last);  // not written twice
  EXPECT_EQ((*Stored("Tab", "c"))["n"], N("1"));

  tx.transact_items[0].expression_attribute_values = {{":one", N("2")}};
  Status s = db_->TransactWriteItems(tx, &again);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("IdempotentParameterMismatch"), std::string::npos);
  tx.client_request_token = "token-2";
  ASSERT_OK(db_->TransactWriteItems(tx, &again));
  EXPECT_EQ((*Stored("Tab", "c"))["n"], N("3"));
}

// Concurrent calls with one new token: the transaction commits once; the
// others get its result or TransactionInProgress (Busy), never a second
// commit.
TEST_F(ItemsDb, ConcurrentRetriesWithOneTokenCommitOnce) {
  CreateT();
  ASSERT_OK(Put({{"pk", S("c")}, {"n", N("0")}}));
  for (int round = 0; round < 20; ++round) {
    TransactWriteItemsRequest tx;
    TransactWriteItem add;
    add.kind = TransactWriteItem::Kind::kUpdate;
    add.table_name = "Tab";
    add.key = {{"pk", S("c")}};
    add.update_expression = "ADD n :one";
    add.expression_attribute_values = {{":one", N("1")}};
    tx.transact_items = {add};
    tx.client_request_token = "race-" + std::to_string(round);
    std::atomic<int> ok{0}, busy{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        TransactWriteItemsResult r;
        Status s = db_->TransactWriteItems(tx, &r);
        if (s.ok()) {
          ++ok;
        } else {
          EXPECT_TRUE(s.IsBusy()) << s.ToString();
          EXPECT_NE(s.message().find("TransactionInProgressException"), std::string::npos);
          ++busy;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_GE(ok.load(), 1);
    EXPECT_EQ(ok.load() + busy.load(), 4);
    EXPECT_EQ((*Stored("Tab", "c"))["n"], N(std::to_string(round + 1))) << "round " << round;
  }
  // A canceled transaction frees its token: the retry runs again.
  TransactWriteItemsRequest tx;
  TransactWriteItem check;
  check.kind = TransactWriteItem::Kind::kConditionCheck;
  check.table_name = "Tab";
  check.key = {{"pk", S("d")}};
  check.condition_expression = "attribute_exists(pk)";
  tx.transact_items = {check};
  tx.client_request_token = "canceled";
  TransactWriteItemsResult r;
  EXPECT_TRUE(db_->TransactWriteItems(tx, &r).IsTransactionCanceled());
  ASSERT_OK(Put({{"pk", S("d")}}));
  EXPECT_OK(db_->TransactWriteItems(tx, &r));
}

TEST_F(ItemsDb, TimeToLiveDeletesExpiredItemsAsTtlRecords) {
  CreateT();
  TimeToLiveSpecification ttl{true, "expires"};
  ASSERT_OK(db_->UpdateTimeToLive("Tab", ttl));
  EXPECT_TRUE(db_->UpdateTimeToLive("Tab", ttl).IsInvalidArgument());  // already enabled
  TableDescription d;
  ASSERT_OK(db_->DescribeTable("Tab", &d));
  EXPECT_TRUE(d.time_to_live.enabled);
  EXPECT_EQ(d.time_to_live.attribute_name, "expires");

  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  ASSERT_OK(Put({{"pk", S("old")}, {"expires", N(std::to_string(now - 100))}}));
  ASSERT_OK(Put({{"pk", S("frac")}, {"expires", N(std::to_string(now - 1) + ".5")}}));
  ASSERT_OK(Put({{"pk", S("future")}, {"expires", N(std::to_string(now + 3600))}}));
  ASSERT_OK(Put({{"pk", S("text")}, {"expires", S("0")}}));
  ASSERT_OK(Put({{"pk", S("none")}}));
  ASSERT_OK(Put({{"pk", S("ancient")}, {"expires", N("1000")}}));  // > 5 years: kept
  const SequenceNumber start = db_->LastSequence() + 1;
  uint64_t deleted = 0;
  ASSERT_OK(db_->RunTimeToLive(&deleted));
  EXPECT_EQ(deleted, 2u);
  EXPECT_FALSE(Stored("Tab", "old").has_value());
  EXPECT_FALSE(Stored("Tab", "frac").has_value());
  for (const char* kept : {"future", "text", "none", "ancient"}) {
    EXPECT_TRUE(Stored("Tab", kept).has_value()) << kept;
  }
  const std::vector<TypedRec> recs = Records(start);
  ASSERT_EQ(recs.size(), 2u);
  for (const TypedRec& r : recs) {
    EXPECT_EQ(r.event, EventName::kRemove);
    EXPECT_TRUE(r.ttl_delete);
    EXPECT_TRUE(r.old_image.has_value());
  }
  ASSERT_OK(db_->RunTimeToLive(&deleted));
  EXPECT_EQ(deleted, 0u);

  EXPECT_TRUE(db_->UpdateTimeToLive("Tab", {false, "other"}).IsInvalidArgument());
  ASSERT_OK(db_->UpdateTimeToLive("Tab", {false, "expires"}));
  EXPECT_TRUE(db_->UpdateTimeToLive("Tab", {false, "expires"}).IsInvalidArgument());
  ASSERT_OK(db_->CreateTable("Bytes", StreamSpecification()));
  EXPECT_TRUE(db_->UpdateTimeToLive("Bytes", ttl).IsFailedPrecondition());
  EXPECT_TRUE(db_->UpdateTimeToLive("Missing", ttl).IsNotFound());
}

TEST_F(ItemsDb, BackgroundPassDeletesExpiredItems) {
  Options o;
  ASSERT_OK(db_->Close());
  db_.reset();
  o.ttl_check_seconds = 1;
  ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
  CreateT();
  ASSERT_OK(db_->UpdateTimeToLive("Tab", {true, "ttl"}));
  ASSERT_OK(Put({{"pk", S("x")}, {"ttl", N("1700000000")}}));
  EXPECT_TRUE(
      test::WaitFor([&] { return !Stored("Tab", "x").has_value(); }, std::chrono::seconds(20)));
}

TEST_F(ItemsDb, ReopenReplaysTypedWritesAndTheCatalog) {
  CreateT();
  ASSERT_OK(db_->UpdateTimeToLive("Tab", {true, "ttl"}));
  ASSERT_OK(Put({{"pk", S("a")}, {"n", N("1")}}));
  UpdateItemRequest u;
  u.table_name = "Tab";
  u.key = {{"pk", S("a")}};
  u.update_expression = "ADD n :one";
  u.expression_attribute_values = {{":one", N("1")}};
  ASSERT_OK(db_->UpdateItem(u, nullptr));
  ASSERT_OK(db_->Close());
  db_.reset();
  // Without its index, the DB rebuilds everything from the log.
  std::filesystem::remove_all(dir_.Sub("db") + "/index");
  Reopen();
  TableDescription d;
  ASSERT_OK(db_->DescribeTable("Tab", &d));
  EXPECT_EQ(d.schema.key_schema[0].attribute_name, "pk");
  EXPECT_EQ(d.time_to_live.attribute_name, "ttl");
  EXPECT_EQ(d.item_count, 1u);
  EXPECT_EQ((*Stored("Tab", "a"))["n"], N("2"));
  ASSERT_OK(db_->UpdateItem(u, nullptr));
  EXPECT_EQ((*Stored("Tab", "a"))["n"], N("3"));
  EXPECT_EQ(Records().size(), 3u);
}

TEST_F(ItemsDb, ByteTablesUnaffectedAndKeptApart) {
  CreateT();
  ASSERT_OK(db_->CreateTable("Bin", Stream(StreamViewType::kNewImage)));
  ASSERT_OK(db_->Put(WriteOptions(), "Bin", "k", "v"));
  std::string v;
  ASSERT_OK(db_->Get(ReadOptions(), "Bin", "k", &v));
  EXPECT_EQ(v, "v");
  TableDescription d;
  ASSERT_OK(db_->DescribeTable("Bin", &d));
  EXPECT_FALSE(d.schema.typed());

  PutItemRequest p;
  p.table_name = "Bin";
  p.item = {{"pk", S("a")}};
  EXPECT_TRUE(db_->PutItem(p, nullptr).IsFailedPrecondition());
  p.table_name = "Missing";
  EXPECT_TRUE(db_->PutItem(p, nullptr).IsNotFound());
  EXPECT_TRUE(db_->Put(WriteOptions(), "Tab", "raw", "bytes").IsFailedPrecondition());

  std::unique_ptr<ChangeIterator> it;
  ASSERT_OK(db_->NewChangeIterator(1, &it));
  ASSERT_TRUE(it->Valid());
  EXPECT_FALSE(it->record().typed);
  EXPECT_EQ(it->record().key, "k");
}

TEST_F(ItemsDb, StreamRecordsOfTypedTablesCarryKeyNames) {
  ASSERT_OK(
      db_->CreateTable("Music", Stream(StreamViewType::kKeysOnly),
                       Schema("Artist", ScalarAttributeType::kS, "Year", ScalarAttributeType::kN)));
  PutItemRequest p;
  p.table_name = "Music";
  p.item = {{"Artist", S("X")}, {"Year", N("1999")}, {"Title", S("t")}};
  ASSERT_OK(db_->PutItem(p, nullptr));
  TableDescription d;
  ASSERT_OK(db_->DescribeTable("Music", &d));
  ShardIteratorRequest req;
  req.stream_arn = d.latest_stream_arn;
  std::string iterator;
  ASSERT_OK(db_->streams()->GetShardIterator(req, &iterator));
  RecordBatch b;
  ASSERT_OK(db_->streams()->GetRecords(iterator, GetRecordsOptions(), &b));
  ASSERT_EQ(b.records().size(), 1u);
  const ChangeRecord& r = b.records()[0];
  EXPECT_TRUE(r.typed);
  EXPECT_EQ(r.hash_key_name, "Artist");
  EXPECT_EQ(r.range_key_name, "Year");
  EXPECT_FALSE(r.ttl_delete);
  Item keys;
  ASSERT_OK(items::DecodeItemKey(r.hash_key_name, r.range_key_name, r.key, &keys));
  EXPECT_EQ(keys, (Item{{"Artist", S("X")}, {"Year", N("1999")}}));
}

TEST_F(ItemsDb, ConcurrentConditionalWritesAreAtomic) {
  CreateT();
  ASSERT_OK(Put({{"pk", S("counter")}, {"n", N("0")}}));
  constexpr int kThreads = 4, kEach = 100, kKeys = 25;
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      UpdateItemRequest u;
      u.table_name = "Tab";
      u.key = {{"pk", S("counter")}};
      u.update_expression = "ADD n :one";
      u.expression_attribute_values = {{":one", N("1")}};
      for (int i = 0; i < kEach; ++i) EXPECT_OK(db_->UpdateItem(u, nullptr));
      for (int k = 0; k < kKeys; ++k) {
        Status s = Put({{"pk", S(test::Numbered("key", k))}}, "attribute_not_exists(pk)");
        if (s.ok()) {
          ++created;
        } else {
          EXPECT_TRUE(s.IsConditionalCheckFailed()) << s.ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ((*Stored("Tab", "counter"))["n"], N(std::to_string(kThreads * kEach)));
  EXPECT_EQ(created.load(), kKeys);  // each key created exactly once
  TableDescription d;
  ASSERT_OK(db_->DescribeTable("Tab", &d));
  EXPECT_EQ(d.item_count, static_cast<uint64_t>(kKeys + 1));
}

TEST_F(ItemsDb, CheckpointCommitsByteWritesItemsAndCheckpointTogether) {
  ASSERT_OK(db_->Close());
  db_.reset();
  std::unique_ptr<DBInternal> db;
  Options o;
  o.ttl_check_seconds = 0;
  ASSERT_OK(DBInternal::Open(o, dir_.Sub("db"), &db));
  ASSERT_OK(db->CreateTable("Tab", StreamSpecification(), Schema("pk", ScalarAttributeType::kS)));
  ASSERT_OK(db->CreateTable("Bin", StreamSpecification()));
  items::KeyShape shape;
  shape.hash_name = "pk";
  auto mutation = [&](const std::string& pk, bool fail) {
    ItemMutation m;
    m.table = "Tab";
    EXPECT_OK(items::EncodeItemKey(shape, Item{{"pk", S(pk)}}, true, &m.key));
    m.decide = [pk, fail](std::optional<std::string_view>, std::optional<std::string>* next) {
      if (fail) return Status::ConditionalCheckFailed("The conditional request failed");
      std::string encoded;
      items::EncodeItem(Item{{"pk", S(pk)}}, &encoded);
      *next = encoded;
      return Status::OK();
    };
    return m;
  };
  WriteBatch writes;
  writes.Put("Bin", "k", "v");
  log::CheckpointData cp{7, 42, "OK", {}};
  const SequenceNumber before = db->LastSequence();
  Status s = db->CommitCheckpoint(writes, {mutation("a", false), mutation("b", true)}, cp, 1);
  EXPECT_TRUE(s.IsConditionalCheckFailed()) << s.ToString();
  EXPECT_EQ(db->LastSequence(), before);  // not even the checkpoint
  uint64_t position = 0;
  std::string result;
  EXPECT_FALSE(db->ReadCheckpoint(7, &position, &result));

  ASSERT_OK(db->CommitCheckpoint(writes, {mutation("a", false)}, cp, 1));
  EXPECT_EQ(db->LastSequence(), before + 3);  // put, item, checkpoint: one frame
  ASSERT_TRUE(db->ReadCheckpoint(7, &position, &result));
  EXPECT_EQ(position, 42u);
  std::string v;
  ASSERT_OK(db->Get(ReadOptions(), "Bin", "k", &v));
  ASSERT_OK(db->Close());
}

}  // namespace
}  // namespace runnel
