// Copyright 2026 The runnel Authors.
//
// DynamoDB's JSON 1.0 protocol: the operation table, the cloud's error
// bodies and typed access to request members.

#include <cctype>
#include <exception>
#include <utility>

#include "tools/endpoint/dynamodb_internal.h"

namespace runnel::endpoint {

namespace ddb {
namespace {

// The cloud answers these from its framework (coral), not from DynamoDB:
// clients only look at what follows the '#', but the full names are kept.
std::string_view PrefixOf(std::string_view type) {
  if (type == "ValidationException") return "com.amazon.coral.validate";
  if (type == "SerializationException" || type == "UnknownOperationException") {
    return "com.amazon.coral.service";
  }
  return "com.amazonaws.dynamodb.v20120810";
}

std::string JsonTypeName(const json& v) {
  if (v.is_string()) return "STRING_VALUE";
  if (v.is_boolean()) return v.get<bool>() ? "TRUE_VALUE" : "FALSE_VALUE";
  if (v.is_number()) return "NUMBER_VALUE";
  if (v.is_array()) return "START_ARRAY";
  if (v.is_object()) return "START_OBJECT";
  return "VALUE_NULL";
}

Fault WrongType(const json& v, std::string_view member, std::string_view want) {
  return Serialization(JsonTypeName(v) + " cannot be converted to " + std::string(want) + " (" +
                       std::string(member) + ")");
}

// The JSON types inside AttributeValues, checked as the cloud's
// deserializer does before any validation: {"N": 5} is a
// SerializationException, not a ValidationException.
Fault CheckValueShapes(const json& item, const std::string& where, int depth) {
  if (depth > 64) return {};  // deeper than the model allows: validation says so
  for (const auto& [name, av] : item.items()) {
    const std::string at = where + "." + name;
    if (!av.is_object()) return WrongType(av, at, "AttributeValue");
    for (const auto& [type, v] : av.items()) {
      const std::string p = at + "." + type;
      if (type == "S" || type == "N" || type == "B") {
        if (!v.is_string()) return WrongType(v, p, "String");
      } else if (type == "BOOL" || type == "NULL") {
        if (!v.is_boolean()) return WrongType(v, p, "Boolean");
      } else if (type == "SS" || type == "NS" || type == "BS") {
        if (!v.is_array()) return WrongType(v, p, "List");
        for (const json& e : v) {
          if (!e.is_string()) return WrongType(e, p, "String");
        }
      } else if (type == "M") {
        if (!v.is_object()) return WrongType(v, p, "Map");
        Fault f = CheckValueShapes(v, p, depth + 1);
        if (!f.ok()) return f;
      } else if (type == "L") {
        if (!v.is_array()) return WrongType(v, p, "List");
        json m = json::object();
        for (size_t i = 0; i < v.size(); ++i) m[std::to_string(i)] = v[i];
        Fault f = CheckValueShapes(m, p, depth + 1);
        if (!f.ok()) return f;
      }
    }
  }
  return {};
}

}  // namespace

Fault Validation(std::string message) { return {"ValidationException", std::move(message), {}}; }
Fault Serialization(std::string message) {
  return {"SerializationException", std::move(message), {}};
}

Fault FromStatus(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return {};
    case Status::Code::kInvalidArgument:
      if (s.message().rfind("IdempotentParameterMismatch", 0) == 0) {
        return {"IdempotentParameterMismatchException", s.message(), {}};
      }
      return Validation(s.message());
    case Status::Code::kFailedPrecondition:
      // A byte table (runnel's own kind, without key schema) under an item
      // operation: to a DynamoDB client, a request its table cannot serve.
      return Validation(s.message());
    case Status::Code::kNotFound:
      return {"ResourceNotFoundException", "Requested resource not found", {}};
    case Status::Code::kBusy:
      return {"ResourceInUseException", s.message(), {}};
    case Status::Code::kConditionalCheckFailed:
      return {"ConditionalCheckFailedException", "The conditional request failed", {}};
    case Status::Code::kTransactionCanceled:
      return {"TransactionCanceledException", s.message(), {}};
    default:
      return {"InternalServerError", s.ToString(), {}};
  }
}

Fault FromArgStatus(const Status& s, std::string_view flag, std::string_view param) {
  Fault f = FromStatus(s);
  for (size_t pos; (pos = f.message.find(flag)) != std::string::npos;) {
    f.message.replace(pos, flag.size(), param);
  }
  return f;
}

HttpResponse ErrorResponse(const Fault& f) {
  const int status = f.type == "InternalServerError" ? 500 : 400;
  HttpResponse r = JsonError(status, PrefixOf(f.type), f.type, f.message);
  if (!f.extra.empty()) {
    ojson body = ojson::parse(r.body);
    for (const auto& [k, v] : f.extra.items()) body[k] = v;
    r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return r;
}

HttpResponse OkResponse(const ojson& body) {
  return OkResponse(body.dump(-1, ' ', false, json::error_handler_t::replace));
}

HttpResponse OkResponse(std::string body) {
  HttpResponse r;
  r.headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
  r.body = std::move(body);
  return r;
}

std::string NullMember(std::string_view param) {
  std::string p(param);
  if (!p.empty()) p[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(p[0])));
  return "1 validation error detected: Value null at '" + p +
         "' failed to satisfy constraint: Member must not be null";
}

std::string Params::Name(const char* name) const {
  return where_.empty() ? std::string(name) : where_ + "." + name;
}

Fault Params::Str(const char* name, std::string* out, bool required) const {
  if (!Has(name)) return required ? Validation(NullMember(Name(name))) : Fault{};
  const json& v = o_.at(name);
  if (!v.is_string()) return WrongType(v, Name(name), "String");
  *out = v.get<std::string>();
  return {};
}

Fault Params::Expr(const char* name, std::string* out) const {
  Fault f = Str(name, out);
  if (f.ok() && Has(name) && out->empty()) {
    return Validation("Invalid " + Name(name) + ": The expression can not be empty;");
  }
  return f;
}

Fault Params::Bool(const char* name, bool* out) const {
  if (!Has(name)) return {};
  const json& v = o_.at(name);
  if (!v.is_boolean()) return WrongType(v, Name(name), "Boolean");
  *out = v.get<bool>();
  return {};
}

Fault Params::Int(const char* name, int64_t min, int64_t max, int64_t* out, bool* present) const {
  *present = Has(name);
  if (!*present) return {};
  const json& v = o_.at(name);
  if (!v.is_number_integer()) return WrongType(v, Name(name), "Integer");
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(max)) {
    *out = max + 1;
  } else {
    *out = v.get<int64_t>();
  }
  if (*out < min || *out > max) {
    std::string p = Name(name);
    p[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(p[0])));
    return Validation("1 validation error detected: Value '" + std::to_string(*out) + "' at '" + p +
                      "' failed to satisfy constraint: Member must have value " +
                      (*out < min ? "greater than or equal to " + std::to_string(min)
                                  : "less than or equal to " + std::to_string(max)));
  }
  return {};
}

Fault Params::ItemMember(const char* name, Item* out, bool required) const {
  if (!Has(name)) return required ? Validation(NullMember(Name(name))) : Fault{};
  const json& v = o_.at(name);
  if (!v.is_object()) return WrongType(v, Name(name), "Map");
  Fault f = CheckValueShapes(v, Name(name), 0);
  if (!f.ok()) return f;
  Status s = ItemFromJson(v.dump(), out);
  if (!s.ok()) return Validation(Name(name) + ": " + s.message());
  return {};
}

Fault Params::Expressions(ExpressionInput* in) const {
  const json* names = nullptr;
  Fault f = Object("ExpressionAttributeNames", &names);
  if (!f.ok()) return f;
  if (names != nullptr) {
    for (const auto& [k, v] : names->items()) {
      if (!v.is_string()) return WrongType(v, Name("ExpressionAttributeNames") + "." + k, "String");
      in->expression_attribute_names[k] = v.get<std::string>();
    }
  }
  return ItemMember("ExpressionAttributeValues", &in->expression_attribute_values);
}

Fault Params::Object(const char* name, const json** out, bool required) const {
  *out = nullptr;
  if (!Has(name)) return required ? Validation(NullMember(Name(name))) : Fault{};
  const json& v = o_.at(name);
  if (!v.is_object()) return WrongType(v, Name(name), "Map");
  *out = &v;
  return {};
}

Fault Params::Array(const char* name, const json** out, bool required) const {
  *out = nullptr;
  if (!Has(name)) return required ? Validation(NullMember(Name(name))) : Fault{};
  const json& v = o_.at(name);
  if (!v.is_array()) return WrongType(v, Name(name), "List");
  *out = &v;
  return {};
}

Fault Params::NotServed(std::initializer_list<const char*> names) const {
  for (const char* n : names) {
    if (Has(n)) return Validation("runnel does not serve the parameter " + Name(n));
  }
  return {};
}

Fault ParseReturnValues(const Params& p, bool all_values, ReturnValues* rv) {
  std::string v;
  Fault f = p.Str("ReturnValues", &v);
  if (!f.ok() || v.empty()) return f;
  if (v == "NONE") {
    *rv = ReturnValues::kNone;
  } else if (v == "ALL_OLD") {
    *rv = ReturnValues::kAllOld;
  } else if (all_values && v == "UPDATED_OLD") {
    *rv = ReturnValues::kUpdatedOld;
  } else if (all_values && v == "ALL_NEW") {
    *rv = ReturnValues::kAllNew;
  } else if (all_values && v == "UPDATED_NEW") {
    *rv = ReturnValues::kUpdatedNew;
  } else if (v == "UPDATED_OLD" || v == "ALL_NEW" || v == "UPDATED_NEW") {
    return Validation("Return values set to invalid value");
  } else {
    return Validation("1 validation error detected: Value '" + v +
                      "' at 'returnValues' failed to satisfy constraint: Member must satisfy enum "
                      "value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]");
  }
  return {};
}

Fault ParseReturnOnFailure(const Params& p, bool* all_old) {
  std::string v;
  Fault f = p.Str("ReturnValuesOnConditionCheckFailure", &v);
  if (!f.ok() || v.empty()) return f;
  if (v != "ALL_OLD" && v != "NONE") {
    return Validation("1 validation error detected: Value '" + v +
                      "' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: "
                      "Member must satisfy enum value set: [ALL_OLD, NONE]");
  }
  *all_old = v == "ALL_OLD";
  return {};
}

Fault CheckReturnMetrics(const Params& p) {
  std::string v;
  Fault f = p.Str("ReturnConsumedCapacity", &v);
  if (!f.ok()) return f;
  if (!v.empty() && v != "INDEXES" && v != "TOTAL" && v != "NONE") {
    return Validation("1 validation error detected: Value '" + v +
                      "' at 'returnConsumedCapacity' failed to satisfy constraint: Member must "
                      "satisfy enum value set: [INDEXES, TOTAL, NONE]");
  }
  v.clear();
  f = p.Str("ReturnItemCollectionMetrics", &v);
  if (!f.ok()) return f;
  if (!v.empty() && v != "SIZE" && v != "NONE") {
    return Validation("1 validation error detected: Value '" + v +
                      "' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member "
                      "must satisfy enum value set: [SIZE, NONE]");
  }
  return {};
}

namespace {

using Handler = HttpResponse (*)(const Call&);

struct Operation {
  std::string_view name;
  Handler handler;
};

constexpr Operation kOperations[] = {
    {"CreateTable", CreateTable},
    {"DescribeTable", DescribeTable},
    {"ListTables", ListTables},
    {"UpdateTable", UpdateTable},
    {"DeleteTable", DeleteTable},
    {"UpdateTimeToLive", UpdateTimeToLive},
    {"DescribeTimeToLive", DescribeTimeToLive},
    {"DescribeEndpoints", DescribeEndpoints},
    {"PutItem", PutItem},
    {"GetItem", GetItem},
    {"UpdateItem", UpdateItem},
    {"DeleteItem", DeleteItem},
    {"Query", Query},
    {"Scan", Scan},
    {"BatchGetItem", BatchGetItem},
    {"BatchWriteItem", BatchWriteItem},
    {"TransactWriteItems", TransactWriteItems},
    {"TransactGetItems", TransactGetItems},
};

}  // namespace
}  // namespace ddb

HttpResponse ServeDynamoDB(ServiceContext& ctx, std::string_view op, const HttpRequest& request) {
  using ddb::Fault;
  ddb::Handler handler = nullptr;
  for (const ddb::Operation& o : ddb::kOperations) {
    if (o.name == op) handler = o.handler;
  }
  if (handler == nullptr) {
    return ddb::ErrorResponse(
        {"UnknownOperationException", "Unknown operation: " + std::string(op), {}});
  }
  ddb::json body = ddb::json::parse(request.body, nullptr, false);
  if (body.is_discarded()) {
    return ddb::ErrorResponse(ddb::Serialization("The request body is not valid JSON"));
  }
  if (!body.is_object()) {
    return ddb::ErrorResponse(
        ddb::Serialization("Start of structure or map expected: the request body must be a JSON "
                           "object"));
  }
  // nlohmann's accessors throw on a shape the checks above missed; a
  // request must never take the server down with it.
  try {
    Fault f = ddb::TranslateLegacy(op, &body);
    if (!f.ok()) return ddb::ErrorResponse(f);
    return handler(ddb::Call{ctx, request, body});
  } catch (const std::exception& e) {
    return ddb::ErrorResponse(
        {"InternalServerError", std::string("Internal error: ") + e.what(), {}});
  }
}

}  // namespace runnel::endpoint
