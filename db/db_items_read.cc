// Copyright 2026 The runnel Authors.
//
// Typed tables, the read side: GetItem, BatchGetItem, TransactGetItems,
// Query and Scan. Every request is validated whole (keys, expressions,
// limits) before the index is read; a multi-item read uses one LevelDB
// snapshot, so it sees one committed state.

#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>

#include <algorithm>
#include <memory>
#include <set>
#include <type_traits>

#include "cdc/env_util.h"
#include "db/db_impl.h"
#include "db/index_keys.h"
#include "db/items/expression.h"
#include "db/items/item_codec.h"
#include "db/items/key_range.h"
#include "db/items/page_reader.h"
#include "db/items/table_shape.h"
#include "db/items/value.h"

namespace runnel {
namespace {

// The cloud's BatchGetItem response limit; keys beyond it are unprocessed.
constexpr size_t kMaxBatchGetResponseBytes = 16 * 1024 * 1024;
constexpr uint32_t kMaxTotalSegments = 1000000;

leveldb::ReadOptions IndexOptions(const ReadOptions& options,
                                  const leveldb::Snapshot* snapshot = nullptr) {
  leveldb::ReadOptions lo;
  lo.verify_checksums = options.verify_checksums;
  lo.fill_cache = options.fill_cache;
  lo.snapshot = snapshot;
  return lo;
}

// A LevelDB snapshot released on scope exit.
class Snapshot {
 public:
  explicit Snapshot(leveldb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~Snapshot() { db_->ReleaseSnapshot(snapshot_); }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  const leveldb::Snapshot* get() const { return snapshot_; }

 private:
  leveldb::DB* const db_;
  const leveldb::Snapshot* const snapshot_;
};

Status TypedTable(const Catalog& catalog, std::string_view name, const log::TableEntryData** t) {
  *t = catalog.FindLive(name);
  if (*t == nullptr) {
    return Status::NotFound("Requested resource not found: table '" + std::string(name) +
                            "' does not exist");
  }
  if (!(*t)->typed()) {
    return Status::FailedPrecondition("table '" + std::string(name) +
                                      "' is a byte table (no key schema): use Get/Scan");
  }
  return Status::OK();
}

// The expressions of one read request, parsed; holds the normalized values
// the parsed expressions were resolved against.
struct ReadExpressions {
  Item values;
  std::shared_ptr<const items::Condition> filter;
  bool project = false;
  std::vector<items::Path> paths;
};

Status NormalizeValues(const Item& in, Item* out) {
  *out = in;
  for (auto& [name, value] : *out) {
    Status s = items::NormalizeValue(name, &value);
    if (!s.ok()) return s.WithContext("ExpressionAttributeValues");
  }
  return Status::OK();
}

Status ParseProjection(items::ExpressionContext* ctx, std::string_view text, ReadExpressions* e) {
  e->project = !text.empty();
  if (!e->project) return Status::OK();
  return ctx->ParseProjection(text, &e->paths);
}

// A key parameter (Key, ExclusiveStartKey): normalized and encoded; every
// key attribute and no other.
Status EncodeKeyParameter(const items::KeyShape& shape, const Item& key, std::string* encoded) {
  Item normalized = key;
  for (auto& [name, value] : normalized) {
    Status s = items::NormalizeValue(name, &value);
    if (!s.ok()) return s;
  }
  encoded->clear();
  Status s = items::EncodeItemKey(shape, normalized, /*exact=*/true, encoded);
  if (!s.ok()) {
    return Status::InvalidArgument("The provided key element does not match the schema: " +
                                   s.message());
  }
  return Status::OK();
}

// One item to read: where it is and what of it to return.
struct PreparedGet {
  uint32_t table_id = 0;
  std::string encoded_key;
  std::shared_ptr<ReadExpressions> expressions;
};

Status ReadPrepared(leveldb::DB* index, const leveldb::ReadOptions& options, const PreparedGet& get,
                    std::optional<Item>* out) {
  out->reset();
  std::string value;
  leveldb::Status ls = index->Get(options, index::ItemKey(get.table_id, get.encoded_key), &value);
  if (ls.IsNotFound()) return Status::OK();
  if (!ls.ok()) return FromLevelDB(ls, "index read");
  Item item;
  Status s = items::DecodeItem(value, &item);
  if (!s.ok()) return s.WithContext("item of table " + std::to_string(get.table_id));
  if (get.expressions->project) {
    Item projected;
    items::Project(item, get.expressions->paths, &projected);
    item = std::move(projected);
  }
  *out = std::move(item);
  return Status::OK();
}

// Expressions of a get (projection only) for one table.
Status PrepareGetExpressions(const ExpressionInput& input, std::string_view projection,
                             std::shared_ptr<ReadExpressions>* out) {
  auto e = std::make_shared<ReadExpressions>();
  Status s = NormalizeValues(input.expression_attribute_values, &e->values);
  if (!s.ok()) return s;
  items::ExpressionContext ctx(input.expression_attribute_names, e->values);
  s = ParseProjection(&ctx, projection, e.get());
  if (s.ok()) s = ctx.CheckAllUsed();
  if (s.ok()) *out = std::move(e);
  return s;
}

Status PrepareGet(const Catalog& catalog, std::string_view table, const Item& key,
                  const ExpressionInput& input, std::string_view projection, PreparedGet* get) {
  const log::TableEntryData* t = nullptr;
  Status s = TypedTable(catalog, table, &t);
  if (!s.ok()) return s;
  get->table_id = t->id;
  s = EncodeKeyParameter(items::ShapeOf(*t), key, &get->encoded_key);
  if (!s.ok()) return s;
  return PrepareGetExpressions(input, projection, &get->expressions);
}

Status CheckSelect(Select select, std::string_view projection) {
  if (select == Select::kCount && !projection.empty()) {
    return Status::InvalidArgument(
        "Cannot specify the ProjectionExpression when choosing to get COUNT");
  }
  if (select == Select::kSpecificAttributes && projection.empty()) {
    return Status::InvalidArgument(
        "Must specify the ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES");
  }
  return Status::OK();
}

// Filter and projection of a Query or Scan; the caller parses any other
// expression with `ctx` in between and calls CheckAllUsed.
Status ParseFilterAndProjection(items::ExpressionContext* ctx, std::string_view filter,
                                std::string_view projection, ReadExpressions* e) {
  if (!filter.empty()) {
    Status s = ctx->ParseCondition(filter, "FilterExpression", &e->filter);
    if (!s.ok()) return s;
  }
  return ParseProjection(ctx, projection, e);
}

// Narrows the range to the keys after ExclusiveStartKey in the direction of
// the read. For a Query the key must be in the partition.
Status ApplyStartKey(const items::KeyShape& shape, const Item& start, bool forward,
                     const std::string* partition, items::KeyRange* range) {
  if (start.empty()) return Status::OK();
  std::string encoded;
  Status s = EncodeKeyParameter(shape, start, &encoded);
  if (!s.ok()) return s.WithContext("The provided starting key is invalid");
  if (partition != nullptr && encoded.compare(0, partition->size(), *partition) != 0) {
    return Status::InvalidArgument(
        "The provided starting key is invalid: its hash key is not the one the "
        "KeyConditionExpression names");
  }
  if (forward) {
    range->lower = std::max(range->lower, items::KeySuccessor(encoded));
  } else {
    range->upper = range->upper.empty() ? encoded : std::min(range->upper, encoded);
  }
  return Status::OK();
}

void FillPageSpec(const log::TableEntryData& t, const ReadExpressions& e, Select select,
                  uint32_t limit, items::PageSpec* spec) {
  spec->table_id = t.id;
  spec->shape = items::ShapeOf(t);
  spec->limit = limit;
  spec->filter = e.filter.get();
  spec->projection = e.project ? &e.paths : nullptr;
  spec->count_only = select == Select::kCount;
}

Status CheckSegments(uint32_t segment, uint32_t total) {
  if (total > kMaxTotalSegments) {
    return Status::InvalidArgument(
        "1 validation error detected: Value '" + std::to_string(total) +
        "' at 'totalSegments' failed to satisfy constraint: Member must have value less than or "
        "equal to 1000000");
  }
  if (total == 0 && segment != 0) {
    return Status::InvalidArgument(
        "The TotalSegments parameter is required but was not present in the request when "
        "Segment parameter is present");
  }
  if (total != 0 && segment >= total) {
    return Status::InvalidArgument(
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: " +
        std::to_string(segment) + " is out of range for TotalSegments: " + std::to_string(total));
  }
  return Status::OK();
}

using BatchPlan = std::vector<std::pair<std::string, std::vector<PreparedGet>>>;

// Reads a validated BatchGetItem from one snapshot. Once the response
// reaches the cloud's 16 MB, the remaining keys are returned unprocessed.
Status ReadBatch(leveldb::DB* index, const ReadOptions& options, const BatchGetItemRequest& request,
                 const BatchPlan& plan, BatchGetItemResult* result) {
  *result = BatchGetItemResult();
  Snapshot snapshot(index);
  const leveldb::ReadOptions lo = IndexOptions(options, snapshot.get());
  size_t bytes = 0;
  for (const auto& [table, gets] : plan) {
    const KeysAndAttributes& asked = request.request_items.at(table);
    std::vector<Item>& found = result->responses[table];
    for (size_t i = 0; i < gets.size(); ++i) {
      if (bytes >= kMaxBatchGetResponseBytes) {
        KeysAndAttributes& rest = result->unprocessed_keys[table];
        if (rest.keys.empty()) {
          rest = asked;
          rest.keys.clear();
        }
        rest.keys.push_back(asked.keys[i]);
        continue;
      }
      std::optional<Item> item;
      Status s = ReadPrepared(index, lo, gets[i], &item);
      if (!s.ok()) return s;
      if (!item.has_value()) continue;
      bytes += items::ItemSize(*item);
      found.push_back(std::move(*item));
    }
  }
  return Status::OK();
}

}  // namespace

Status DBImpl::GetItem(const ReadOptions& options, const GetItemRequest& request,
                       GetItemResult* result) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  auto cat = catalog();
  PreparedGet get;
  s = PrepareGet(*cat, request.table_name, request.key, request, request.projection_expression,
                 &get);
  if (!s.ok()) return s;
  *result = GetItemResult();
  return ReadPrepared(index_.get(), IndexOptions(options), get, &result->item);
}

namespace {

// A Query or Scan, validated and planned: `spec` points into `e`.
struct PreparedRead {
  ReadExpressions e;
  items::PageSpec spec;
};

// The cloud refuses a Query filter on the key attributes: the key condition
// is where they belong.
Status CheckFilterNotOnKey(const items::KeyShape& shape, const items::Condition* filter) {
  if (filter == nullptr) return Status::OK();
  for (const std::string* key : {&shape.hash_name, &shape.range_name}) {
    if (!key->empty() && filter->TopLevelNames().count(*key) != 0) {
      return Status::InvalidArgument(
          "Filter Expression can only contain non-primary key attributes: Primary key "
          "attribute: " +
          *key);
    }
  }
  return Status::OK();
}

Status PrepareQuery(const Catalog& cat, const QueryRequest& request, PreparedRead* r) {
  const log::TableEntryData* t = nullptr;
  Status s = TypedTable(cat, request.table_name, &t);
  if (!s.ok()) return s;
  s = CheckSelect(request.select, request.projection_expression);
  if (!s.ok()) return s;
  if (request.key_condition_expression.empty()) {
    return Status::InvalidArgument(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.");
  }
  const items::KeyShape shape = items::ShapeOf(*t);
  s = NormalizeValues(request.expression_attribute_values, &r->e.values);
  if (!s.ok()) return s;
  items::ExpressionContext ctx(request.expression_attribute_names, r->e.values);
  items::KeyCondition kc;
  s = ctx.ParseKeyCondition(request.key_condition_expression, shape, &kc);
  if (s.ok()) {
    s = ParseFilterAndProjection(&ctx, request.filter_expression, request.projection_expression,
                                 &r->e);
  }
  if (s.ok()) s = ctx.CheckAllUsed();
  if (s.ok()) s = CheckFilterNotOnKey(shape, r->e.filter.get());
  if (!s.ok()) return s;

  FillPageSpec(*t, r->e, request.select, request.limit, &r->spec);
  r->spec.forward = request.scan_index_forward;
  std::string partition;
  s = items::KeyConditionRange(shape, kc, &r->spec.range, &partition);
  if (!s.ok()) return s;
  return ApplyStartKey(shape, request.exclusive_start_key, r->spec.forward, &partition,
                       &r->spec.range);
}

Status PrepareScan(const Catalog& cat, const ScanRequest& request, PreparedRead* r) {
  const log::TableEntryData* t = nullptr;
  Status s = TypedTable(cat, request.table_name, &t);
  if (s.ok()) s = CheckSelect(request.select, request.projection_expression);
  if (s.ok()) s = CheckSegments(request.segment, request.total_segments);
  if (!s.ok()) return s;
  s = NormalizeValues(request.expression_attribute_values, &r->e.values);
  if (!s.ok()) return s;
  items::ExpressionContext ctx(request.expression_attribute_names, r->e.values);
  s = ParseFilterAndProjection(&ctx, request.filter_expression, request.projection_expression,
                               &r->e);
  if (s.ok()) s = ctx.CheckAllUsed();
  if (!s.ok()) return s;

  FillPageSpec(*t, r->e, request.select, request.limit, &r->spec);
  r->spec.segment = request.segment;
  r->spec.total_segments = request.total_segments;
  return ApplyStartKey(r->spec.shape, request.exclusive_start_key, /*forward=*/true, nullptr,
                       &r->spec.range);
}

}  // namespace

template <typename Request, typename Out>
Status DBImpl::ReadItems(const ReadOptions& options, const Request& request, Out* out) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  PreparedRead r;
  if constexpr (std::is_same_v<Request, QueryRequest>) {
    s = PrepareQuery(*catalog(), request, &r);
  } else {
    s = PrepareScan(*catalog(), request, &r);
  }
  if (!s.ok()) return s;
  std::unique_ptr<leveldb::Iterator> it(index_->NewIterator(IndexOptions(options)));
  return items::ReadPage(it.get(), r.spec, out);
}

Status DBImpl::Query(const ReadOptions& options, const QueryRequest& request, QueryResult* result) {
  return ReadItems(options, request, result);
}

Status DBImpl::Query(const ReadOptions& options, const QueryRequest& request, ItemPage* page) {
  return ReadItems(options, request, page);
}

Status DBImpl::ScanItems(const ReadOptions& options, const ScanRequest& request,
                         QueryResult* result) {
  return ReadItems(options, request, result);
}

Status DBImpl::ScanItems(const ReadOptions& options, const ScanRequest& request, ItemPage* page) {
  return ReadItems(options, request, page);
}

Status DBImpl::BatchGetItem(const ReadOptions& options, const BatchGetItemRequest& request,
                            BatchGetItemResult* result) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  if (request.request_items.empty()) {
    return Status::InvalidArgument(
        "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1");
  }
  auto cat = catalog();
  size_t total = 0;
  // Per table, in request order: the prepared gets of its keys.
  BatchPlan plan;
  for (const auto& [table, keys] : request.request_items) {
    if (keys.keys.empty()) {
      return Status::InvalidArgument(
          "1 validation error detected: Value '[]' at 'requestItems." + table +
          ".member.keys' failed to satisfy constraint: Member must have length greater than or "
          "equal to 1");
    }
    total += keys.keys.size();
    if (total > kMaxBatchGetKeys) {
      return Status::InvalidArgument("Too many items requested for the BatchGetItem call");
    }
    std::shared_ptr<ReadExpressions> e;
    s = PrepareGetExpressions(keys, keys.projection_expression, &e);
    if (!s.ok()) return s;
    const log::TableEntryData* t = nullptr;
    s = TypedTable(*cat, table, &t);
    if (!s.ok()) return s;
    const items::KeyShape shape = items::ShapeOf(*t);
    std::vector<PreparedGet> gets;
    std::set<std::string> seen;
    for (const Item& key : keys.keys) {
      PreparedGet get;
      s = EncodeKeyParameter(shape, key, &get.encoded_key);
      if (!s.ok()) return s;
      if (!seen.insert(get.encoded_key).second) {
        return Status::InvalidArgument("Provided list of item keys contains duplicates");
      }
      get.table_id = t->id;
      get.expressions = e;
      gets.push_back(std::move(get));
    }
    plan.emplace_back(table, std::move(gets));
  }
  return ReadBatch(index_.get(), options, request, plan, result);
}

Status DBImpl::TransactGetItems(const ReadOptions& options, const TransactGetItemsRequest& request,
                                TransactGetItemsResult* result) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  const size_t n = request.transact_items.size();
  if (n == 0 || n > kMaxTransactItems) {
    return Status::InvalidArgument(
        "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
        "Member must have length less than or equal to 100 and greater than or equal to 1; got " +
        std::to_string(n));
  }
  auto cat = catalog();
  std::vector<PreparedGet> gets(n);
  std::set<std::string> seen;  // index keys: one item at most once
  for (size_t i = 0; i < n; ++i) {
    const TransactGetItem& g = request.transact_items[i];
    s = PrepareGet(*cat, g.table_name, g.key, g, g.projection_expression, &gets[i]);
    if (!s.ok()) return s.WithContext("TransactItems[" + std::to_string(i) + "]");
    if (!seen.insert(index::ItemKey(gets[i].table_id, gets[i].encoded_key)).second) {
      return Status::InvalidArgument(
          "Transaction request cannot include multiple operations on one item");
    }
  }
  *result = TransactGetItemsResult();
  result->responses.resize(n);
  Snapshot snapshot(index_.get());
  const leveldb::ReadOptions lo = IndexOptions(options, snapshot.get());
  for (size_t i = 0; i < n; ++i) {
    s = ReadPrepared(index_.get(), lo, gets[i], &result->responses[i]);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace runnel
