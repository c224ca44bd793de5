// Copyright 2026 The runnel Authors.
//
// Shared by the dynamodb*.cc files of ServeDynamoDB: the cloud's errors,
// typed access to request members, and the operations' handlers.

#ifndef RUNNEL_TOOLS_ENDPOINT_DYNAMODB_INTERNAL_H_
#define RUNNEL_TOOLS_ENDPOINT_DYNAMODB_INTERNAL_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "runnel/db.h"
#include "runnel/item.h"
#include "tools/endpoint/endpoint.h"

namespace runnel::endpoint::ddb {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// A request failure in the cloud's terms. An empty type is success.
struct Fault {
  std::string type;  // "ValidationException", "ResourceNotFoundException", ...
  std::string message;
  // Extra members of the error body (Item, CancellationReasons).
  ojson extra = ojson::object();

  bool ok() const { return type.empty(); }
};

Fault Validation(std::string message);
Fault Serialization(std::string message);
// A runnel Status of an item or table call, as the cloud's error (NotFound:
// ResourceNotFoundException "Requested resource not found"; Busy:
// ResourceInUseException; InvalidArgument and FailedPrecondition (a byte
// table): ValidationException). The caller adds the extra members of
// ConditionalCheckFailed and TransactionCanceled.
Fault FromStatus(const Status& s);
// A status of a tools/item_args.h parser: its flag name in the message is
// replaced by the wire parameter's name.
Fault FromArgStatus(const Status& s, std::string_view flag, std::string_view param);

HttpResponse ErrorResponse(const Fault& f);
HttpResponse OkResponse(const ojson& body);
// A 200 with a body already written as JSON.
HttpResponse OkResponse(std::string body);

// "1 validation error detected: Value null at 'tableName' failed to satisfy
// constraint: Member must not be null".
std::string NullMember(std::string_view param);

// Typed access to the members of a request object. A member of the wrong
// JSON type is a SerializationException, as the cloud's deserializer
// answers; a missing required member a ValidationException.
class Params {
 public:
  Params(const json& object, std::string where) : o_(object), where_(std::move(where)) {}

  bool Has(const char* name) const { return o_.contains(name) && !o_.at(name).is_null(); }
  const json& Get(const char* name) const { return o_.at(name); }

  Fault Str(const char* name, std::string* out, bool required = false) const;
  // An expression parameter: a string that, when present, is not empty.
  Fault Expr(const char* name, std::string* out) const;
  Fault Bool(const char* name, bool* out) const;
  // An integer in [min, max]; `*present` false if absent.
  Fault Int(const char* name, int64_t min, int64_t max, int64_t* out, bool* present) const;
  Fault ItemMember(const char* name, Item* out, bool required = false) const;
  // ExpressionAttributeNames and ExpressionAttributeValues.
  Fault Expressions(ExpressionInput* in) const;
  // An object member (a structure); `*present` false if absent.
  Fault Object(const char* name, const json** out, bool required = false) const;
  Fault Array(const char* name, const json** out, bool required = false) const;
  // ValidationException if any of `names` is present: parameters runnel
  // does not serve.
  Fault NotServed(std::initializer_list<const char*> names) const;

 private:
  std::string Name(const char* name) const;

  const json& o_;
  std::string where_;
};

// ReturnValues: all five when `all_values` (UpdateItem), else NONE and
// ALL_OLD.
Fault ParseReturnValues(const Params& p, bool all_values, ReturnValues* rv);
// ReturnValuesOnConditionCheckFailure.
Fault ParseReturnOnFailure(const Params& p, bool* all_old);
// ReturnConsumedCapacity / ReturnItemCollectionMetrics: checked, then
// nothing is returned (runnel has no capacity units).
Fault CheckReturnMetrics(const Params& p);

// Rewrites the legacy parameters of `op` (AttributesToGet, Expected,
// AttributeUpdates, KeyConditions, QueryFilter, ScanFilter,
// ConditionalOperator) in `body` into the equivalent expressions.
// ValidationException if the request mixes legacy and expression
// parameters, as in the cloud.
Fault TranslateLegacy(std::string_view op, json* body);
// The same for one KeysAndAttributes of BatchGetItem (AttributesToGet).
Fault TranslateLegacyProjection(json* object);

struct Call {
  ServiceContext& ctx;
  const HttpRequest& request;
  const json& body;
  DB& db() const { return *ctx.db; }
  // The durability of the request's writes (ServiceContext::unsynced_writes).
  bool sync() const { return !ctx.unsynced_writes; }
};

// Tables (dynamodb_tables.cc).
HttpResponse CreateTable(const Call& c);
HttpResponse DescribeTable(const Call& c);
HttpResponse ListTables(const Call& c);
HttpResponse UpdateTable(const Call& c);
HttpResponse DeleteTable(const Call& c);
HttpResponse UpdateTimeToLive(const Call& c);
HttpResponse DescribeTimeToLive(const Call& c);
HttpResponse DescribeEndpoints(const Call& c);
// Items (dynamodb_items.cc).
HttpResponse PutItem(const Call& c);
HttpResponse GetItem(const Call& c);
HttpResponse UpdateItem(const Call& c);
HttpResponse DeleteItem(const Call& c);
// Query and Scan (dynamodb_query.cc).
HttpResponse Query(const Call& c);
HttpResponse Scan(const Call& c);
// Batches and transactions (dynamodb_batch.cc).
HttpResponse BatchGetItem(const Call& c);
HttpResponse BatchWriteItem(const Call& c);
HttpResponse TransactWriteItems(const Call& c);
HttpResponse TransactGetItems(const Call& c);

}  // namespace runnel::endpoint::ddb

#endif  // RUNNEL_TOOLS_ENDPOINT_DYNAMODB_INTERNAL_H_
