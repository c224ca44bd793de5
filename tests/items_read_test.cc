// Copyright 2026 The runnel Authors.
//
// The read side of typed tables: GetItem, Query, Scan, BatchGetItem and
// TransactGetItems, against items written with PutItem; and the stream JSON
// of typed records.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "db/items/item_codec.h"
#include "db/items/key_codec.h"
#include "db/items/value.h"
#include "runnel/db.h"
#include "runnel/item.h"
#include "runnel/stream.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::TempDir;
using AV = AttributeValue;

class ItemsRead : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(DB::Open(Options(), dir_.Sub("db"), &db_)); }

  // A table keyed by pk (S) and, unless range_type is empty, sk of that type.
  void Create(const std::string& name, const std::string& range_type = "",
              StreamSpecification stream = {}) {
    TableSchema schema;
    schema.key_schema.push_back({"pk", KeyType::kHash});
    schema.attribute_definitions.push_back({"pk", ScalarAttributeType::kS});
    if (!range_type.empty()) {
      schema.key_schema.push_back({"sk", KeyType::kRange});
      ScalarAttributeType t = range_type == "N"   ? ScalarAttributeType::kN
                              : range_type == "B" ? ScalarAttributeType::kB
                                                  : ScalarAttributeType::kS;
      schema.attribute_definitions.push_back({"sk", t});
    }
    ASSERT_OK(db_->CreateTable(name, stream, schema));
  }
  void Put(const std::string& table, Item item) {
    PutItemRequest r;
    r.table_name = table;
    r.item = std::move(item);
    WriteItemResult w;
    ASSERT_OK(db_->PutItem(r, &w));
  }
  // Items pk=p, sk=v (an N, S or B value), plus extra attributes.
  void PutSorted(const std::string& table, const std::string& p, const AV& sk, Item extra = {}) {
    extra["pk"] = AV::S(p);
    extra["sk"] = sk;
    Put(table, std::move(extra));
  }
  QueryRequest Q(const std::string& table, const std::string& cond, Item values) {
    QueryRequest q;
    q.table_name = table;
    q.key_condition_expression = cond;
    q.expression_attribute_values = std::move(values);
    return q;
  }
  // The sk values of a Query's items, in order.
  std::vector<std::string> SortKeys(const QueryRequest& q) {
    QueryResult r;
    Status s = db_->Query(ReadOptions(), q, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<std::string> out;
    for (const Item& it : r.items) out.push_back(it.at("sk").scalar);
    return out;
  }
  // Every page of a Query (or Scan via `page`) concatenated.
  template <typename Request, typename Fn>
  std::vector<Item> AllPages(Request req, Fn page, size_t* pages) {
    std::vector<Item> all;
    *pages = 0;
    for (;;) {
      QueryResult r;
      Status s = page(req, &r);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) break;
      ++*pages;
      all.insert(all.end(), r.items.begin(), r.items.end());
      if (!r.last_evaluated_key.has_value()) break;
      req.exclusive_start_key = *r.last_evaluated_key;
      if (*pages > 10000) break;
    }
    return all;
  }
  Status QueryPage(const QueryRequest& q, QueryResult* r) {
    return db_->Query(ReadOptions(), q, r);
  }
  Status ScanPage(const ScanRequest& q, QueryResult* r) {
    return db_->ScanItems(ReadOptions(), q, r);
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(ItemsRead, QueryOrdersNumbersByValue) {
  Create("tt1", "N");
  const std::vector<std::string> order = {"-1E10", "-10", "-1.5", "-1", "-0.001", "0",     "0.001",
                                          "1",     "1.5", "2",    "10", "100",    "123.4", "1E20"};
  // Insert in a scrambled order, and a neighbouring partition.
  for (size_t i = 0; i < order.size(); ++i) {
    PutSorted("tt1", "p", AV::N(order[(i * 5) % order.size()]));
    PutSorted("tt1", "p2", AV::N(order[i]));
    PutSorted("tt1", "o", AV::N(order[i]));
  }
  std::vector<std::string> want;
  for (const auto& n : order) want.push_back(n == "1E20" ? "100000000000000000000" : n);
  want[0] = "-10000000000";
  EXPECT_EQ(SortKeys(Q("tt1", "pk = :p", {{":p", AV::S("p")}})), want);
  QueryRequest back = Q("tt1", "pk = :p", {{":p", AV::S("p")}});
  back.scan_index_forward = false;
  std::reverse(want.begin(), want.end());
  EXPECT_EQ(SortKeys(back), want);
}

TEST_F(ItemsRead, QueryOrdersStringsAndBinariesBytewise) {
  Create("ss1", "S");
  Create("bb1", "B");
  const std::vector<std::string> strings = {"A", "B", "a", "a b", "ab", "abc", "b", "\xc3\xa9"};
  for (const auto& s : strings) PutSorted("ss1", "p", AV::S(s));
  EXPECT_EQ(SortKeys(Q("ss1", "pk = :p", {{":p", AV::S("p")}})), strings);
  const std::vector<std::string> bytes = {
      std::string("\x00", 1),    std::string("\x00\x00", 2), "\x01", "\x7f", "\x80", "\xff",
      std::string("\xff\x00", 2)};
  for (const auto& b : bytes) PutSorted("bb1", "p", AV::B(b));
  EXPECT_EQ(SortKeys(Q("bb1", "pk = :p", {{":p", AV::S("p")}})), bytes);
}

TEST_F(ItemsRead, EveryKeyConditionOperator) {
  Create("tt1", "N");
  for (int i = 1; i <= 10; ++i) PutSorted("tt1", "p", AV::N(std::to_string(i)));
  PutSorted("tt1", "q", AV::N("5"));
  auto run = [&](const std::string& cond, Item values, bool forward = true) {
    values[":p"] = AV::S("p");
    QueryRequest q = Q("tt1", "pk = :p AND " + cond, std::move(values));
    q.scan_index_forward = forward;
    std::vector<std::string> got = SortKeys(q);
    std::string joined;
    for (const auto& s : got) joined += s + ",";
    return joined;
  };
  EXPECT_EQ(run("sk = :v", {{":v", AV::N("5")}}), "5,");
  EXPECT_EQ(run("sk = :v", {{":v", AV::N("5.5")}}), "");
  EXPECT_EQ(run("sk < :v", {{":v", AV::N("4")}}), "1,2,3,");
  EXPECT_EQ(run("sk <= :v", {{":v", AV::N("4")}}), "1,2,3,4,");
  EXPECT_EQ(run("sk > :v", {{":v", AV::N("7")}}), "8,9,10,");
  EXPECT_EQ(run("sk >= :v", {{":v", AV::N("7")}}), "7,8,9,10,");
  EXPECT_EQ(run("sk >= :v", {{":v", AV::N("7")}}, false), "10,9,8,7,");
  EXPECT_EQ(run("sk < :v", {{":v", AV::N("4")}}, false), "3,2,1,");
  EXPECT_EQ(run("sk BETWEEN :a AND :b", {{":a", AV::N("3")}, {":b", AV::N("6")}}), "3,4,5,6,");
  EXPECT_EQ(run("sk BETWEEN :a AND :b", {{":a", AV::N("2.5")}, {":b", AV::N("2.5")}}), "");
  EXPECT_EQ(run("sk BETWEEN :a AND :b", {{":a", AV::N("3")}, {":b", AV::N("6")}}, false),
            "6,5,4,3,");
  EXPECT_EQ(run("sk = :v", {{":v", AV::N("5.0")}}), "5,");  // by value

  Create("ss1", "S");
  for (const char* s : {"a", "ab", "ab\xc3\xbf", "abc", "abd", "ac", "b"})
    PutSorted("ss1", "p", AV::S(s));
  QueryRequest bw =
      Q("ss1", "pk = :p AND begins_with(sk, :s)", {{":p", AV::S("p")}, {":s", AV::S("ab")}});
  EXPECT_EQ(SortKeys(bw), (std::vector<std::string>{"ab", "abc", "abd", "ab\xc3\xbf"}));
  Create("bb1", "B");
  for (const char* s : {"\x01", "\xff", "\xff\x01", "\xff\xff", "\xff\xff\x02"}) {
    PutSorted("bb1", "p", AV::B(s));
  }
  QueryRequest bb =
      Q("bb1", "pk = :p AND begins_with(sk, :s)", {{":p", AV::S("p")}, {":s", AV::B("\xff\xff")}});
  EXPECT_EQ(SortKeys(bb), (std::vector<std::string>{"\xff\xff", "\xff\xff\x02"}));
}

TEST_F(ItemsRead, LimitPagesReassembleTheFullResult) {
  Create("tt1", "N");
  for (int i = 0; i < 57; ++i) PutSorted("tt1", "p", AV::N(std::to_string(i)));
  for (int i = 0; i < 5; ++i) PutSorted("tt1", "z", AV::N(std::to_string(i)));
  for (bool forward : {true, false}) {
    QueryRequest full = Q("tt1", "pk = :p", {{":p", AV::S("p")}});
    full.scan_index_forward = forward;
    QueryResult all;
    ASSERT_OK(db_->Query(ReadOptions(), full, &all));
    ASSERT_EQ(all.items.size(), 57u);
    EXPECT_FALSE(all.last_evaluated_key.has_value());
    for (uint32_t limit : {1u, 10u, 19u, 57u, 100u}) {
      QueryRequest q = full;
      q.limit = limit;
      size_t pages = 0;
      std::vector<Item> got = AllPages(
          q, [&](const QueryRequest& r, QueryResult* o) { return QueryPage(r, o); }, &pages);
      EXPECT_EQ(got, all.items) << "limit " << limit;
      EXPECT_EQ(pages, (57 + limit - 1) / limit) << "limit " << limit;
    }
  }
  // A page that ends exactly at the end of the range names no next key.
  QueryRequest q = Q("tt1", "pk = :p AND sk < :v", {{":p", AV::S("p")}, {":v", AV::N("10")}});
  q.limit = 10;
  QueryResult r;
  ASSERT_OK(db_->Query(ReadOptions(), q, &r));
  EXPECT_EQ(r.items.size(), 10u);
  EXPECT_FALSE(r.last_evaluated_key.has_value());
  q.limit = 4;
  ASSERT_OK(db_->Query(ReadOptions(), q, &r));
  ASSERT_TRUE(r.last_evaluated_key.has_value());
  EXPECT_EQ(*r.last_evaluated_key, (Item{{"pk", AV::S("p")}, {"sk", AV::N("3")}}));
}

TEST_F(ItemsRead, PagesEndAtOneMegabyteOfEvaluatedItems) {
  Create("tt1", "N");
  const std::string blob(100 * 1024, 'x');
  for (int i = 0; i < 25; ++i)
    PutSorted("tt1", "p", AV::N(std::to_string(i)), {{"d", AV::S(blob)}});
  QueryRequest q = Q("tt1", "pk = :p", {{":p", AV::S("p")}});
  QueryRequest copy = q;
  size_t total = 0;
  for (int page = 0;; ++page) {
    ASSERT_LT(page, 10);
    QueryResult r;
    ASSERT_OK(db_->Query(ReadOptions(), q, &r));
    size_t bytes = 0;
    for (const Item& it : r.items) bytes += items::ItemSize(it);
    total += r.items.size();
    if (!r.last_evaluated_key.has_value()) break;
    // Full pages: at least 1 MB, and under it without their last item.
    EXPECT_GE(bytes, kMaxPageBytes);
    EXPECT_LT(bytes - items::ItemSize(r.items.back()), kMaxPageBytes);
    q.exclusive_start_key = *r.last_evaluated_key;
  }
  EXPECT_EQ(total, 25u);
  // A filter that drops every item still pages by evaluated bytes.
  copy.filter_expression = "attribute_exists(nothing)";
  QueryResult r;
  ASSERT_OK(db_->Query(ReadOptions(), copy, &r));
  EXPECT_EQ(r.count, 0u);
  EXPECT_EQ(r.scanned_count, 11u);
  EXPECT_TRUE(r.last_evaluated_key.has_value());
}

TEST_F(ItemsRead, LimitCountsItemsBeforeTheFilter) {
  Create("tt1", "N");
  for (int i = 0; i < 20; ++i) {
    PutSorted("tt1", "p", AV::N(std::to_string(i)), {{"odd", AV::Bool(i % 2 == 1)}});
  }
  QueryRequest q = Q("tt1", "pk = :p", {{":p", AV::S("p")}, {":t", AV::Bool(true)}});
  q.filter_expression = "odd = :t";
  q.limit = 5;
  QueryResult r;
  ASSERT_OK(db_->Query(ReadOptions(), q, &r));
  EXPECT_EQ(r.scanned_count, 5u);
  EXPECT_EQ(r.count, 2u);  // 1 and 3
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.items[1].at("sk").scalar, "3");
  size_t pages = 0;
  std::vector<Item> all = AllPages(
      q, [&](const QueryRequest& x, QueryResult* o) { return QueryPage(x, o); }, &pages);
  EXPECT_EQ(all.size(), 10u);
  EXPECT_EQ(pages, 4u);
}

TEST_F(ItemsRead, ProjectionAndSelect) {
  Create("tt1", "N");
  Item extra = {{"a", AV::S("x")},
                {"size", AV::N("3")},
                {"m", AV::M({{"x", AV::N("1")}, {"y", AV::N("2")}})},
                {"l", AV::L({AV::S("l0"), AV::S("l1"), AV::S("l2")})}};
  for (int i = 0; i < 3; ++i) PutSorted("tt1", "p", AV::N(std::to_string(i)), extra);

  QueryRequest q = Q("tt1", "pk = :p", {{":p", AV::S("p")}});
  q.projection_expression = "a, m.x, l[1], #s";
  q.expression_attribute_names = {{"#s", "size"}};
  QueryResult r;
  ASSERT_OK(db_->Query(ReadOptions(), q, &r));
  ASSERT_EQ(r.items.size(), 3u);
  Item want = {{"a", AV::S("x")},
               {"size", AV::N("3")},
               {"m", AV::M({{"x", AV::N("1")}})},
               {"l", AV::L({AV::S("l1")})}};
  EXPECT_EQ(r.items[0], want);

  q.select = Select::kCount;
  EXPECT_TRUE(db_->Query(ReadOptions(), q, &r).IsInvalidArgument());
  q.projection_expression.clear();
  q.expression_attribute_names.clear();
  ASSERT_OK(db_->Query(ReadOptions(), q, &r));
  EXPECT_TRUE(r.items.empty());
  EXPECT_EQ(r.count, 3u);
  EXPECT_EQ(r.scanned_count, 3u);
  q.select = Select::kSpecificAttributes;
  EXPECT_TRUE(db_->Query(ReadOptions(), q, &r).IsInvalidArgument());

  GetItemRequest g;
  g.table_name = "tt1";
  g.key = {{"pk", AV::S("p")}, {"sk", AV::N("1")}};
  g.projection_expression = "m.y, nothing";
  GetItemResult gr;
  ASSERT_OK(db_->GetItem(ReadOptions(), g, &gr));
  ASSERT_TRUE(gr.item.has_value());
  EXPECT_EQ(*gr.item, (Item{{"m", AV::M({{"y", AV::N("2")}})}}));
}

// The decoded items of an ItemPage, and its counts, as a QueryResult.
QueryResult Decoded(const ItemPage& page) {
  QueryResult r;
  for (size_t i = 0; i < page.size(); ++i) {
    Item item;
    EXPECT_TRUE(page.item(i).Decode(&item).ok());
    r.items.push_back(std::move(item));
  }
  r.count = page.count;
  r.scanned_count = page.scanned_count;
  r.last_evaluated_key = page.last_evaluated_key;
  return r;
}

void ExpectSame(const QueryResult& a, const QueryResult& b, const std::string& what) {
  EXPECT_EQ(a.items, b.items) << what;
  EXPECT_EQ(a.count, b.count) << what;
  EXPECT_EQ(a.scanned_count, b.scanned_count) << what;
  EXPECT_EQ(a.last_evaluated_key, b.last_evaluated_key) << what;
}

// ItemPage (items left encoded) gives exactly what QueryResult gives: the
// same items, counts and page ends, with filters, projections, Select COUNT,
// limits, both directions, the 1 MB page end and scan segments.
TEST_F(ItemsRead, ItemPageEqualsQueryResult) {
  Create("tt1", "N");
  const std::string big(60000, 'x');
  for (int i = 0; i < 40; ++i) {
    PutSorted("tt1", "p", AV::N(std::to_string(i)),
              {{"n", AV::N(std::to_string(i * 1.5))},
               {"blob", AV::S(i % 2 == 0 ? big : "small")},
               {"m", AV::M({{"x", AV::NS({"1", "2"})}, {"y", AV::L({AV::Bool(true)})}})}});
  }
  for (int i = 0; i < 5; ++i) PutSorted("tt1", "q", AV::N(std::to_string(i)));
  struct Variant {
    const char* name;
    std::function<void(QueryRequest*)> edit;
  };
  const std::vector<Variant> variants = {
      {"plain", [](QueryRequest*) {}},
      {"reverse", [](QueryRequest* q) { q->scan_index_forward = false; }},
      {"limit", [](QueryRequest* q) { q->limit = 7; }},
      {"filter",
       [](QueryRequest* q) {
         q->filter_expression = "n > :n";
         q->expression_attribute_values[":n"] = AV::N("20");
       }},
      {"projection", [](QueryRequest* q) { q->projection_expression = "n, m.x"; }},
      {"count", [](QueryRequest* q) { q->select = Select::kCount; }},
  };
  for (const Variant& v : variants) {
    QueryRequest q = Q("tt1", "pk = :p", {{":p", AV::S("p")}});
    v.edit(&q);
    for (int page = 0; page < 100; ++page) {  // every page, up to the 1 MB ends
      QueryResult want;
      ItemPage got;
      ASSERT_OK(db_->Query(ReadOptions(), q, &want));
      ASSERT_OK(db_->Query(ReadOptions(), q, &got));
      ExpectSame(Decoded(got), want, std::string(v.name) + " page " + std::to_string(page));
      if (!want.last_evaluated_key.has_value()) break;
      q.exclusive_start_key = *want.last_evaluated_key;
    }
  }
  ScanRequest scan;
  scan.table_name = "tt1";
  scan.total_segments = 3;
  for (uint32_t segment = 0; segment < 3; ++segment) {
    scan.segment = segment;
    QueryResult want;
    ItemPage got;
    ASSERT_OK(db_->ScanItems(ReadOptions(), scan, &want));
    ASSERT_OK(db_->ScanItems(ReadOptions(), scan, &got));
    ExpectSame(Decoded(got), want, "segment " + std::to_string(segment));
  }
  // A view reads one attribute in place, and the JSON of the item.
  QueryRequest q = Q("tt1", "pk = :p AND sk = :s", {{":p", AV::S("p")}, {":s", AV::N("3")}});
  ItemPage page;
  ASSERT_OK(db_->Query(ReadOptions(), q, &page));
  ASSERT_EQ(page.size(), 1u);
  AttributeValue n;
  ASSERT_OK(page.item(0).Get("n", &n));
  EXPECT_EQ(n, AV::N("4.5"));
  EXPECT_TRUE(page.item(0).Get("absent", &n).IsNotFound());
  std::string json;
  ASSERT_OK(page.item(0).ToJson(&json));
  EXPECT_EQ(nlohmann::json::parse(json)["blob"]["S"], "small");
}

// As the cloud: a Query filter may not name a key attribute (the key
// condition is the place for them); a Scan filter may.
TEST_F(ItemsRead, QueryFilterOnKeyAttributesIsRefused) {
  Create("tt1", "N");
  PutSorted("tt1", "p", AV::N("1"), {{"a", AV::S("x")}});
  QueryRequest q = Q("tt1", "pk = :p", {{":p", AV::S("p")}, {":v", AV::N("1")}});
  q.filter_expression = "sk > :v";
  QueryResult r;
  Status s = db_->Query(ReadOptions(), q, &r);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("Filter Expression can only contain non-primary key attributes: "
                              "Primary key attribute: sk"),
            std::string::npos)
      << s.ToString();
  q.filter_expression = "a = :a OR size(#k) > :v";
  q.expression_attribute_names = {{"#k", "pk"}};
  q.expression_attribute_values[":a"] = AV::S("x");
  s = db_->Query(ReadOptions(), q, &r);
  EXPECT_NE(s.ToString().find("Primary key attribute: pk"), std::string::npos) << s.ToString();
  q.filter_expression = "a = :a AND :v = :v";
  q.expression_attribute_names.clear();
  ASSERT_OK(db_->Query(ReadOptions(), q, &r));
  EXPECT_EQ(r.count, 1u);
  ScanRequest scan;
  scan.table_name = "tt1";
  scan.filter_expression = "sk = :v";
  scan.expression_attribute_values = {{":v", AV::N("1")}};
  ASSERT_OK(db_->ScanItems(ReadOptions(), scan, &r));
  EXPECT_EQ(r.count, 1u);
}

TEST_F(ItemsRead, ScanSegmentsAreDisjointAndCoverTheTable) {
  Create("tt1", "N");
  for (int p = 0; p < 40; ++p) {
    for (int i = 0; i < 3; ++i) PutSorted("tt1", test::Numbered("p", p), AV::N(std::to_string(i)));
  }
  ScanRequest all;
  all.table_name = "tt1";
  QueryResult whole;
  ASSERT_OK(db_->ScanItems(ReadOptions(), all, &whole));
  ASSERT_EQ(whole.items.size(), 120u);
  EXPECT_FALSE(whole.last_evaluated_key.has_value());
  for (uint32_t total : {1u, 3u, 7u}) {
    std::multiset<std::string> seen;
    for (uint32_t seg = 0; seg < total; ++seg) {
      ScanRequest s = all;
      s.segment = seg;
      s.total_segments = total;
      s.limit = 4;
      size_t pages = 0;
      std::vector<Item> got = AllPages(
          s, [&](const ScanRequest& x, QueryResult* o) { return ScanPage(x, o); }, &pages);
      std::set<std::string> partitions;
      for (const Item& it : got) {
        seen.insert(ItemToJson(it));
        partitions.insert(it.at("pk").scalar);
      }
      // A partition is wholly in one segment.
      EXPECT_EQ(got.size(), partitions.size() * 3) << total << "/" << seg;
    }
    std::multiset<std::string> want;
    for (const Item& it : whole.items) want.insert(ItemToJson(it));
    EXPECT_EQ(seen, want) << "total_segments " << total;
  }
  ScanRequest bad = all;
  bad.segment = 3;
  bad.total_segments = 3;
  QueryResult r;
  EXPECT_TRUE(db_->ScanItems(ReadOptions(), bad, &r).IsInvalidArgument());
  bad.total_segments = 1000001;
  bad.segment = 0;
  EXPECT_TRUE(db_->ScanItems(ReadOptions(), bad, &r).IsInvalidArgument());
  bad.total_segments = 0;
  bad.segment = 1;
  EXPECT_TRUE(db_->ScanItems(ReadOptions(), bad, &r).IsInvalidArgument());
  bad.total_segments = 1000000;
  bad.segment = 999999;
  EXPECT_OK(db_->ScanItems(ReadOptions(), bad, &r));
}

TEST_F(ItemsRead, ScanFilterAndCount) {
  Create("tt1");
  for (int i = 0; i < 30; ++i)
    Put("tt1", {{"pk", AV::S(test::Numbered("k", i))}, {"n", AV::N(std::to_string(i))}});
  ScanRequest s;
  s.table_name = "tt1";
  s.filter_expression = "n >= :ten";
  s.expression_attribute_values = {{":ten", AV::N("10")}};
  s.select = Select::kCount;
  QueryResult r;
  ASSERT_OK(db_->ScanItems(ReadOptions(), s, &r));
  EXPECT_EQ(r.count, 20u);
  EXPECT_EQ(r.scanned_count, 30u);
  EXPECT_TRUE(r.items.empty());
}

TEST_F(ItemsRead, BatchGetItem) {
  Create("aa1");
  Create("bb1", "N");
  for (int i = 0; i < 5; ++i) {
    Put("aa1", {{"pk", AV::S(test::Numbered("k", i))},
                {"v", AV::N(std::to_string(i))},
                {"w", AV::S("w")}});
    PutSorted("bb1", "p", AV::N(std::to_string(i)), {{"v", AV::S("x")}});
  }
  BatchGetItemRequest req;
  KeysAndAttributes& a = req.request_items["aa1"];
  a.keys = {{{"pk", AV::S("k1")}}, {{"pk", AV::S("k3")}}, {{"pk", AV::S("missing")}}};
  a.projection_expression = "#v";
  a.expression_attribute_names = {{"#v", "v"}};
  KeysAndAttributes& b = req.request_items["bb1"];
  b.keys = {{{"pk", AV::S("p")}, {"sk", AV::N("4")}}};
  BatchGetItemResult r;
  ASSERT_OK(db_->BatchGetItem(ReadOptions(), req, &r));
  ASSERT_EQ(r.responses["aa1"].size(), 2u);
  std::set<std::string> got;
  for (const Item& it : r.responses["aa1"]) got.insert(ItemToJson(it));
  EXPECT_EQ(got, (std::set<std::string>{ItemToJson({{"v", AV::N("1")}}),
                                        ItemToJson({{"v", AV::N("3")}})}));
  ASSERT_EQ(r.responses["bb1"].size(), 1u);
  EXPECT_EQ(r.responses["bb1"][0].at("v").scalar, "x");
  EXPECT_TRUE(r.unprocessed_keys.empty());

  BatchGetItemRequest dup = req;
  dup.request_items["aa1"].keys.push_back({{"pk", AV::S("k1")}});
  EXPECT_TRUE(db_->BatchGetItem(ReadOptions(), dup, &r).IsInvalidArgument());
  BatchGetItemRequest many;
  for (int i = 0; i < 101; ++i)
    many.request_items["aa1"].keys.push_back({{"pk", AV::S(test::Numbered("k", i))}});
  EXPECT_TRUE(db_->BatchGetItem(ReadOptions(), many, &r).IsInvalidArgument());
  many.request_items["aa1"].keys.pop_back();
  EXPECT_OK(db_->BatchGetItem(ReadOptions(), many, &r));
  EXPECT_EQ(r.responses["aa1"].size(), 5u);
  BatchGetItemRequest bad_key = req;
  bad_key.request_items["bb1"].keys[0].erase("sk");
  EXPECT_TRUE(db_->BatchGetItem(ReadOptions(), bad_key, &r).IsInvalidArgument());
  BatchGetItemRequest missing;
  missing.request_items["nope_table"].keys = {{{"pk", AV::S("k")}}};
  EXPECT_TRUE(db_->BatchGetItem(ReadOptions(), missing, &r).IsNotFound());
  EXPECT_TRUE(db_->BatchGetItem(ReadOptions(), BatchGetItemRequest(), &r).IsInvalidArgument());
}

TEST_F(ItemsRead, TransactGetItems) {
  Create("aa1");
  Create("bb1", "S");
  Put("aa1", {{"pk", AV::S("x")}, {"v", AV::N("1")}, {"w", AV::N("2")}});
  PutSorted("bb1", "p", AV::S("s"), {{"v", AV::N("3")}});
  TransactGetItemsRequest req;
  req.transact_items.resize(3);
  req.transact_items[0].table_name = "bb1";
  req.transact_items[0].key = {{"pk", AV::S("p")}, {"sk", AV::S("s")}};
  req.transact_items[1].table_name = "aa1";
  req.transact_items[1].key = {{"pk", AV::S("missing")}};
  req.transact_items[2].table_name = "aa1";
  req.transact_items[2].key = {{"pk", AV::S("x")}};
  req.transact_items[2].projection_expression = "w";
  TransactGetItemsResult r;
  ASSERT_OK(db_->TransactGetItems(ReadOptions(), req, &r));
  ASSERT_EQ(r.responses.size(), 3u);
  ASSERT_TRUE(r.responses[0].has_value());
  EXPECT_EQ(r.responses[0]->at("v").scalar, "3");
  EXPECT_FALSE(r.responses[1].has_value());
  EXPECT_EQ(r.responses[2], (Item{{"w", AV::N("2")}}));

  TransactGetItemsRequest dup = req;
  dup.transact_items.push_back(req.transact_items[2]);
  EXPECT_TRUE(db_->TransactGetItems(ReadOptions(), dup, &r).IsInvalidArgument());
  EXPECT_TRUE(db_->TransactGetItems(ReadOptions(), {}, &r).IsInvalidArgument());
  TransactGetItemsRequest many;
  for (int i = 0; i < 101; ++i) {
    TransactGetItem g;
    g.table_name = "aa1";
    g.key = {{"pk", AV::S(test::Numbered("k", i))}};
    many.transact_items.push_back(g);
  }
  EXPECT_TRUE(db_->TransactGetItems(ReadOptions(), many, &r).IsInvalidArgument());
}

TEST_F(ItemsRead, BadRequestsAreValidationErrors) {
  Create("tt1", "N");
  ASSERT_OK(db_->CreateTable("bytes", StreamSpecification()));
  PutSorted("tt1", "p", AV::N("1"));
  GetItemRequest g;
  g.table_name = "tt1";
  GetItemResult gr;
  g.key = {{"pk", AV::S("p")}};  // no sk
  EXPECT_TRUE(db_->GetItem(ReadOptions(), g, &gr).IsInvalidArgument());
  g.key = {{"pk", AV::S("p")}, {"sk", AV::N("1")}, {"x", AV::S("extra")}};
  EXPECT_TRUE(db_->GetItem(ReadOptions(), g, &gr).IsInvalidArgument());
  g.key = {{"pk", AV::S("p")}, {"sk", AV::S("1")}};  // wrong type
  EXPECT_TRUE(db_->GetItem(ReadOptions(), g, &gr).IsInvalidArgument());
  g.key = {{"pk", AV::S("p")}, {"sk", AV::N("1.000")}};  // by value
  ASSERT_OK(db_->GetItem(ReadOptions(), g, &gr));
  EXPECT_TRUE(gr.item.has_value());
  g.expression_attribute_values = {{":unused", AV::N("1")}};
  EXPECT_TRUE(db_->GetItem(ReadOptions(), g, &gr).IsInvalidArgument());
  g.expression_attribute_values.clear();
  g.table_name = "bytes";
  g.key = {{"pk", AV::S("p")}};
  EXPECT_TRUE(db_->GetItem(ReadOptions(), g, &gr).IsFailedPrecondition());
  g.table_name = "nope_table";
  EXPECT_TRUE(db_->GetItem(ReadOptions(), g, &gr).IsNotFound());

  QueryResult r;
  QueryRequest q = Q("tt1", "", {});
  EXPECT_TRUE(db_->Query(ReadOptions(), q, &r).IsInvalidArgument());
  q = Q("tt1", "pk = :p AND sk BETWEEN :a AND :b",
        {{":p", AV::S("p")}, {":a", AV::N("5")}, {":b", AV::N("1")}});
  EXPECT_TRUE(db_->Query(ReadOptions(), q, &r).IsInvalidArgument());
  q = Q("tt1", "pk = :p", {{":p", AV::S("p")}});
  q.exclusive_start_key = {{"pk", AV::S("other")}, {"sk", AV::N("1")}};
  EXPECT_TRUE(db_->Query(ReadOptions(), q, &r).IsInvalidArgument());
  q.exclusive_start_key = {{"pk", AV::S("p")}};
  EXPECT_TRUE(db_->Query(ReadOptions(), q, &r).IsInvalidArgument());
  q.exclusive_start_key = {{"pk", AV::S("p")}, {"sk", AV::N("0")}};
  ASSERT_OK(db_->Query(ReadOptions(), q, &r));
  EXPECT_EQ(r.items.size(), 1u);
  q.exclusive_start_key = {{"pk", AV::S("p")}, {"sk", AV::N("1")}};
  ASSERT_OK(db_->Query(ReadOptions(), q, &r));
  EXPECT_EQ(r.items.size(), 0u);
  q = Q("bytes", "pk = :p", {{":p", AV::S("p")}});
  EXPECT_TRUE(db_->Query(ReadOptions(), q, &r).IsFailedPrecondition());
  ScanRequest s;
  s.table_name = "bytes";
  EXPECT_TRUE(db_->ScanItems(ReadOptions(), s, &r).IsFailedPrecondition());
  s.table_name = "tt1";
  s.exclusive_start_key = {{"pk", AV::S("p")}, {"sk", AV::N("1")}, {"x", AV::N("1")}};
  EXPECT_TRUE(db_->ScanItems(ReadOptions(), s, &r).IsInvalidArgument());
}

TEST_F(ItemsRead, StreamRecordsOfTypedTablesAreTyped) {
  Create("tt1", "N", test::Stream(StreamViewType::kNewAndOldImages));
  PutSorted("tt1", "p", AV::N("1.50"), {{"v", AV::N("1")}});
  PutSorted("tt1", "p", AV::N("1.5"), {{"v", AV::N("2")}});
  TableDescription d;
  ASSERT_OK(db_->DescribeTable("tt1", &d));
  ShardIteratorRequest req;
  req.stream_arn = d.latest_stream_arn;
  req.type = ShardIteratorType::kTrimHorizon;
  std::string it;
  ASSERT_OK(db_->streams()->GetShardIterator(req, &it));
  RecordBatch batch;
  ASSERT_OK(db_->streams()->GetRecords(it, GetRecordsOptions(), &batch));
  ASSERT_EQ(batch.records().size(), 2u);
  const auto insert =
      nlohmann::json::parse(RecordToJson(batch.records()[0], req.stream_arn, "edge"));
  const auto modify =
      nlohmann::json::parse(RecordToJson(batch.records()[1], req.stream_arn, "edge"));
  EXPECT_EQ(insert.at("eventName"), "INSERT");
  EXPECT_EQ(insert.at("dynamodb").at("Keys").dump(), R"({"pk":{"S":"p"},"sk":{"N":"1.5"}})");
  EXPECT_EQ(insert.at("dynamodb").at("NewImage").dump(),
            R"({"pk":{"S":"p"},"sk":{"N":"1.5"},"v":{"N":"1"}})");
  EXPECT_FALSE(insert.at("dynamodb").contains("OldImage"));
  EXPECT_EQ(modify.at("eventName"), "MODIFY");
  EXPECT_EQ(modify.at("dynamodb").at("OldImage").at("v").dump(), R"({"N":"1"})");
  EXPECT_EQ(modify.at("dynamodb").at("NewImage").at("v").dump(), R"({"N":"2"})");
  const Item keys = {{"pk", AV::S("p")}, {"sk", AV::N("1.5")}};
  const Item image = {{"pk", AV::S("p")}, {"sk", AV::N("1.5")}, {"v", AV::N("1")}};
  EXPECT_EQ(modify.at("dynamodb").at("SizeBytes"),
            items::ItemSize(keys) + 2 * items::ItemSize(image));
}

// --- Stream JSON of typed records.

std::string EncodedKey(const Item& key, const std::string& range) {
  items::KeyShape shape;
  shape.hash_name = "pk";
  shape.hash_type = ScalarAttributeType::kS;
  shape.range_name = range;
  shape.range_type = ScalarAttributeType::kN;
  std::string out;
  EXPECT_OK(items::EncodeItemKey(shape, key, /*exact=*/false, &out));
  return out;
}

std::string Encoded(const Item& item) {
  std::string out;
  items::EncodeItem(item, &out);
  return out;
}

TEST(ItemsReadStreamJson, TypedKeysAndImagesForEveryViewType) {
  const Item old_item = {{"pk", AV::S("p")}, {"sk", AV::N("1.5")}, {"n", AV::N("1")}};
  const Item new_item = {
      {"pk", AV::S("p")},         {"sk", AV::N("1.5")},
      {"n", AV::N("2")},          {"b", AV::B(std::string("\x00\xff", 2))},
      {"ss", AV::SS({"x", "y"})}, {"m", AV::M({{"l", AV::L({AV::Bool(true), AV::Null()})}})}};
  const std::string key = EncodedKey(old_item, "sk");
  const std::string old_bytes = Encoded(old_item);
  const std::string new_bytes = Encoded(new_item);
  const Item keys = {{"pk", AV::S("p")}, {"sk", AV::N("1.5")}};
  for (StreamViewType view : {StreamViewType::kKeysOnly, StreamViewType::kNewImage,
                              StreamViewType::kOldImage, StreamViewType::kNewAndOldImages}) {
    ChangeRecord r;
    r.sequence = 42;
    r.commit_time_micros = 1764547200123456;
    r.event = EventName::kModify;
    r.view_type = view;
    r.typed = true;
    r.hash_key_name = "pk";
    r.range_key_name = "sk";
    r.key = key;
    r.has_new_image = view == StreamViewType::kNewImage || view == StreamViewType::kNewAndOldImages;
    r.has_old_image = view == StreamViewType::kOldImage || view == StreamViewType::kNewAndOldImages;
    if (r.has_new_image) r.new_image = new_bytes;
    if (r.has_old_image) r.old_image = old_bytes;
    r.size_bytes = 999;  // log bytes: not what the cloud reports
    const auto j = nlohmann::json::parse(RecordToJson(r, "arn:s", "edge"));
    const auto& d = j.at("dynamodb");
    EXPECT_EQ(d.at("Keys"), nlohmann::json::parse(ItemToJson(keys)));
    EXPECT_EQ(d.at("Keys").dump(), R"({"pk":{"S":"p"},"sk":{"N":"1.5"}})");
    size_t size = items::ItemSize(keys);
    if (r.has_new_image) {
      EXPECT_EQ(d.at("NewImage"), nlohmann::json::parse(ItemToJson(new_item)));
      EXPECT_EQ(d.at("NewImage").at("b").dump(), R"({"B":"AP8="})");
      size += items::ItemSize(new_item);
    } else {
      EXPECT_FALSE(d.contains("NewImage"));
    }
    if (r.has_old_image) {
      EXPECT_EQ(d.at("OldImage").dump(), R"({"n":{"N":"1"},"pk":{"S":"p"},"sk":{"N":"1.5"}})");
      size += items::ItemSize(old_item);
    } else {
      EXPECT_FALSE(d.contains("OldImage"));
    }
    EXPECT_EQ(d.at("SizeBytes"), size);
    EXPECT_EQ(d.at("StreamViewType"), std::string(StreamViewTypeName(view)));
    EXPECT_FALSE(j.contains("userIdentity"));
  }
}

TEST(ItemsReadStreamJson, TtlDeletionsCarryTheServiceIdentity) {
  const Item item = {{"pk", AV::S("gone")}, {"exp", AV::N("1700000000")}};
  const std::string key = EncodedKey(item, "");
  const std::string bytes = Encoded(item);
  ChangeRecord r;
  r.sequence = 7;
  r.event = EventName::kRemove;
  r.view_type = StreamViewType::kOldImage;
  r.typed = true;
  r.hash_key_name = "pk";
  r.key = key;
  r.has_old_image = true;
  r.old_image = bytes;
  r.ttl_delete = true;
  const std::string text = RecordToJson(r, "arn:s", "edge");
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("userIdentity").dump(),
            R"({"principalId":"dynamodb.amazonaws.com","type":"Service"})");
  EXPECT_NE(
      text.find(R"("userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"})"),
      std::string::npos);
  EXPECT_EQ(j.at("dynamodb").at("Keys").dump(), R"({"pk":{"S":"gone"}})");
  EXPECT_EQ(j.at("dynamodb").at("SizeBytes"),
            items::ItemSize({{"pk", AV::S("gone")}}) + items::ItemSize(item));
}

}  // namespace
}  // namespace runnel
