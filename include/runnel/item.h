// Copyright 2026 The runnel Authors.
//
// Typed tables: DynamoDB's item model and the requests of its item
// operations (DB::PutItem, DB::Query, ...; see runnel/db.h).
//
// A table created with a key schema (CreateTable with TableSchema) is a typed
// table: its items are maps of attribute names to AttributeValues, keyed by a
// HASH attribute and an optional RANGE attribute of type S, N or B. The rules
// are the cloud's (item size 400 KB, 38-digit numbers, sets without
// duplicates, empty strings and binaries only outside keys, nesting up to 32
// levels); a violation is InvalidArgument (the cloud's ValidationException)
// naming what is wrong, and nothing is written.
//
// Expressions (condition, update, filter, projection, key condition) are
// DynamoDB's, with ExpressionAttributeNames ("#n" -> name) and
// ExpressionAttributeValues (":v" -> value). Names or values that a request
// defines but does not use, and ones it uses but does not define, are
// InvalidArgument.
//
// Status codes of item operations, beside InvalidArgument:
//   NotFound              the table does not exist (ResourceNotFoundException)
//   ConditionalCheckFailed  a ConditionExpression was false; nothing written
//   TransactionCanceled   TransactWriteItems wrote nothing; the result's
//                         cancellation_reasons say why, one per action
//   FailedPrecondition    the table is a byte table (use Put/Get/Delete)
//
// Thread safety: these are plain values; the DB methods that take them may be
// called concurrently.

#ifndef RUNNEL_INCLUDE_ITEM_H_
#define RUNNEL_INCLUDE_ITEM_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/status.h"

namespace runnel {

// One attribute value: exactly one of DynamoDB's ten types.
struct AttributeValue {
  enum class Type : uint8_t {
    kS = 1,     // UTF-8 string: `scalar`
    kN = 2,     // number: `scalar` holds its decimal text
    kB = 3,     // binary: `scalar` holds the raw bytes (not base64)
    kBool = 4,  // `boolean`
    kNull = 5,  // NULL: true
    kM = 6,     // map: `map`
    kL = 7,     // list: `list`
    kSS = 8,    // string set: `set`
    kNS = 9,    // number set: `set` (decimal texts)
    kBS = 10,   // binary set: `set` (raw bytes)
  };

  Type type = Type::kNull;
  std::string scalar;
  bool boolean = false;
  std::vector<std::string> set;
  std::vector<AttributeValue> list;
  std::map<std::string, AttributeValue> map;

  static AttributeValue S(std::string_view s);
  // The text is not checked here: DB calls validate (and normalize) numbers.
  static AttributeValue N(std::string_view number);
  static AttributeValue B(std::string_view bytes);
  static AttributeValue Bool(bool b);
  static AttributeValue Null();
  static AttributeValue M(std::map<std::string, AttributeValue> m);
  static AttributeValue L(std::vector<AttributeValue> l);
  static AttributeValue SS(std::vector<std::string> elements);
  static AttributeValue NS(std::vector<std::string> elements);
  static AttributeValue BS(std::vector<std::string> elements);
};

// Equality as DynamoDB compares values: numbers by value ("1.0" == "1"),
// sets regardless of element order. Invalid numbers compare by text.
bool operator==(const AttributeValue& a, const AttributeValue& b);
inline bool operator!=(const AttributeValue& a, const AttributeValue& b) { return !(a == b); }

// "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS".
std::string_view AttributeTypeName(AttributeValue::Type type);
// Parses one of those names; false if it is none of them.
bool ParseAttributeType(std::string_view name, AttributeValue::Type* type);

// An item, a key (its key attributes only), or a set of expression attribute
// values (":v" -> value).
using Item = std::map<std::string, AttributeValue>;
// Expression attribute names: "#n" -> attribute name.
using AttributeNames = std::map<std::string, std::string>;

// DynamoDB's JSON for items: {"pk":{"S":"a"},"n":{"N":"1"},"b":{"B":"AAE="}}
// (binaries in base64), as the AWS CLI's --item and --key and the wire
// protocol carry them. ItemFromJson checks the JSON shape (each value an
// object with exactly one known type) and returns InvalidArgument naming the
// attribute otherwise; it does not apply the model's limits (DB calls do).
Status ItemFromJson(std::string_view json, Item* item);
std::string ItemToJson(const Item& item);
// ItemToJson appended to *out.
void AppendItemJson(const Item& item, std::string* out);
// One value, {"S":"a"}.
Status AttributeValueFromJson(std::string_view json, AttributeValue* value);
std::string AttributeValueToJson(const AttributeValue& value);

// --- Table schema.

enum class KeyType : uint8_t { kHash = 1, kRange = 2 };
// The type a key attribute may have.
enum class ScalarAttributeType : uint8_t { kS = 1, kN = 2, kB = 3 };

struct KeySchemaElement {
  std::string attribute_name;
  KeyType key_type = KeyType::kHash;
};

struct AttributeDefinition {
  std::string attribute_name;
  ScalarAttributeType attribute_type = ScalarAttributeType::kS;
};

// What CreateTable takes: an empty key_schema makes a byte table; otherwise
// one HASH element, optionally one RANGE element, and exactly one attribute
// definition for each (no others), as CreateTable in the cloud.
struct TableSchema {
  std::vector<KeySchemaElement> key_schema;
  std::vector<AttributeDefinition> attribute_definitions;

  bool typed() const { return !key_schema.empty(); }
};

struct TimeToLiveSpecification {
  bool enabled = false;
  // The attribute holding the expiry time, in seconds since the Unix epoch
  // (type N). Items without it, or with a non-number, never expire.
  std::string attribute_name;
};

// --- Item operations (see DB).

enum class ReturnValues : uint8_t { kNone, kAllOld, kUpdatedOld, kAllNew, kUpdatedNew };
enum class Select : uint8_t { kAllAttributes, kSpecificAttributes, kCount };

// The expression parameters every operation shares.
struct ExpressionInput {
  AttributeNames expression_attribute_names;
  Item expression_attribute_values;
};

struct PutItemRequest : ExpressionInput {
  std::string table_name;
  Item item;
  std::string condition_expression;                  // empty: unconditional
  ReturnValues return_values = ReturnValues::kNone;  // kNone or kAllOld
  // ReturnValuesOnConditionCheckFailure ALL_OLD: a failed condition returns
  // the item as it was in the status' result (WriteItemResult::attributes).
  bool return_old_on_condition_failure = false;
  // Durability as WriteOptions::sync.
  bool sync = false;
};

struct UpdateItemRequest : ExpressionInput {
  std::string table_name;
  Item key;
  std::string update_expression;  // may be empty (then the item is created if missing)
  std::string condition_expression;
  ReturnValues return_values = ReturnValues::kNone;
  bool return_old_on_condition_failure = false;
  bool sync = false;
};

struct DeleteItemRequest : ExpressionInput {
  std::string table_name;
  Item key;
  std::string condition_expression;
  ReturnValues return_values = ReturnValues::kNone;  // kNone or kAllOld
  bool return_old_on_condition_failure = false;
  bool sync = false;
};

// The result of PutItem, UpdateItem and DeleteItem.
struct WriteItemResult {
  // What ReturnValues asked for (absent when it asked for nothing or there
  // was nothing, e.g. ALL_OLD of a new item). After ConditionalCheckFailed
  // with return_old_on_condition_failure: the item as it was, if it existed.
  std::optional<Item> attributes;
  // The sequence number of the change record; 0 if nothing changed.
  uint64_t sequence = 0;
};

struct GetItemRequest : ExpressionInput {
  std::string table_name;
  Item key;
  std::string projection_expression;  // empty: every attribute
  // Reads are always strongly consistent; accepted for the cloud's sake.
  bool consistent_read = false;
};

struct GetItemResult {
  std::optional<Item> item;  // absent: no such item
};

struct QueryRequest : ExpressionInput {
  std::string table_name;
  std::string key_condition_expression;
  std::string filter_expression;
  std::string projection_expression;
  bool scan_index_forward = true;
  // Items to evaluate (before the filter); 0: no limit (pages still end at
  // 1 MB of evaluated items).
  uint32_t limit = 0;
  // Resume after this key (the previous page's last_evaluated_key).
  Item exclusive_start_key;
  Select select = Select::kAllAttributes;
  bool consistent_read = false;
};

struct ScanRequest : ExpressionInput {
  std::string table_name;
  std::string filter_expression;
  std::string projection_expression;
  uint32_t limit = 0;
  Item exclusive_start_key;
  Select select = Select::kAllAttributes;
  // Parallel scan: this worker's segment of total_segments (1..1000000);
  // total_segments 0 scans the whole table.
  uint32_t segment = 0;
  uint32_t total_segments = 0;
  bool consistent_read = false;
};

// The result of Query and Scan.
struct QueryResult {
  std::vector<Item> items;     // empty for Select COUNT
  uint64_t count = 0;          // items after the filter
  uint64_t scanned_count = 0;  // items evaluated
  // Set when the page ended before the end of the range: pass it as
  // exclusive_start_key to continue.
  std::optional<Item> last_evaluated_key;
};

// An item in its stored binary form (the index's value), read in place:
// nothing is decoded or allocated until an attribute is asked for. A view
// points into the bytes it was made from (an ItemPage's buffer) and is valid
// as long as they are, unmodified. Thread-compatible.
class ItemView {
 public:
  ItemView() = default;
  explicit ItemView(std::string_view encoded) : encoded_(encoded) {}

  // One top-level attribute: OK and *value; NotFound if the item has none of
  // that name; Corruption if the bytes are damaged.
  Status Get(std::string_view attribute, AttributeValue* value) const;
  // The whole item (Corruption if the bytes are damaged).
  Status Decode(Item* item) const;
  // DynamoDB's JSON of the item, as ItemToJson writes it.
  Status ToJson(std::string* json) const;
  std::string_view encoded() const { return encoded_; }

 private:
  std::string_view encoded_;
};

// A page of Query or Scan results with the items kept in their stored form,
// in one buffer: the fast way to read many items (QueryResult decodes every
// item into an Item). Reusing one ItemPage for many calls reuses its memory.
class ItemPage {
 public:
  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  // The i-th item, valid until the page is cleared, refilled or destroyed.
  // REQUIRES: i < size().
  ItemView item(size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return ItemView(std::string_view(data_).substr(begin, ends_[i] - begin));
  }

  uint64_t count = 0;          // items after the filter
  uint64_t scanned_count = 0;  // items evaluated
  // As QueryResult::last_evaluated_key.
  std::optional<Item> last_evaluated_key;

  // Used by the DB to fill the page.
  void Clear() {
    data_.clear();
    ends_.clear();
    count = scanned_count = 0;
    last_evaluated_key.reset();
  }
  void Append(std::string_view encoded) {
    data_.append(encoded);
    ends_.push_back(data_.size());
  }

 private:
  std::string data_;
  std::vector<size_t> ends_;
};

struct KeysAndAttributes : ExpressionInput {
  std::vector<Item> keys;
  std::string projection_expression;
  bool consistent_read = false;
};

struct BatchGetItemRequest {
  std::map<std::string, KeysAndAttributes> request_items;  // table -> keys (<= 100 in all)
};

struct BatchGetItemResult {
  std::map<std::string, std::vector<Item>> responses;
  // Keys not read (the 16 MB response limit); retry them.
  std::map<std::string, KeysAndAttributes> unprocessed_keys;
};

// A PutRequest (item) or a DeleteRequest (key).
struct WriteRequest {
  bool put = true;
  Item item;  // the item to put, or the key to delete
};

struct BatchWriteItemRequest {
  std::map<std::string, std::vector<WriteRequest>> request_items;  // <= 25 in all
  bool sync = false;
};

struct BatchWriteItemResult {
  // Always empty: runnel commits every request of a valid batch (the cloud
  // may return throttled ones here).
  std::map<std::string, std::vector<WriteRequest>> unprocessed_items;
};

struct TransactWriteItem : ExpressionInput {
  enum class Kind : uint8_t { kPut, kUpdate, kDelete, kConditionCheck };
  Kind kind = Kind::kPut;
  std::string table_name;
  Item item;                         // kPut
  Item key;                          // kUpdate, kDelete, kConditionCheck
  std::string update_expression;     // kUpdate
  std::string condition_expression;  // required for kConditionCheck
  bool return_old_on_condition_failure = false;
};

struct TransactWriteItemsRequest {
  std::vector<TransactWriteItem> transact_items;  // 1..100, one item at most once
  // Idempotency: a retry with the same token within 10 minutes returns the
  // first call's result without writing again; the same token with a
  // different request is InvalidArgument (IdempotentParameterMismatch).
  std::string client_request_token;
  bool sync = false;
};

// Why one action of a canceled transaction failed: code "None" for actions
// that passed, "ConditionalCheckFailed", "ValidationError", ...
struct CancellationReason {
  std::string code;
  std::string message;
  std::optional<Item> item;  // with return_old_on_condition_failure
};

struct TransactWriteItemsResult {
  // Set (one per action, in order) when the status is TransactionCanceled.
  std::vector<CancellationReason> cancellation_reasons;
  uint64_t first_sequence = 0;  // 0 if the transaction changed nothing
};

struct TransactGetItem : ExpressionInput {
  std::string table_name;
  Item key;
  std::string projection_expression;
};

struct TransactGetItemsRequest {
  std::vector<TransactGetItem> transact_items;  // 1..100
};

struct TransactGetItemsResult {
  // One per request, in order, from one consistent snapshot; absent: no item.
  std::vector<std::optional<Item>> responses;
};

// Limits (the cloud's).
inline constexpr size_t kMaxItemBytes = 400 * 1024;
inline constexpr size_t kMaxHashKeyBytes = 2048;
inline constexpr size_t kMaxRangeKeyBytes = 1024;
inline constexpr size_t kMaxNestingDepth = 32;
inline constexpr size_t kMaxBatchGetKeys = 100;
inline constexpr size_t kMaxBatchWriteRequests = 25;
inline constexpr size_t kMaxTransactItems = 100;
inline constexpr size_t kMaxPageBytes = 1024 * 1024;

}  // namespace runnel

#endif  // RUNNEL_INCLUDE_ITEM_H_
