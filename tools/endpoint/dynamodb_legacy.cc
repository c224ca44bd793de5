// Copyright 2026 The runnel Authors.
//
// DynamoDB's legacy (pre-2014) parameters, rewritten into the expressions
// the typed-table layer evaluates. Attribute names become "#lN" and values
// ":lN" placeholders: a request with legacy parameters may carry no
// expression parameters (the cloud forbids mixing), so they cannot clash.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tools/endpoint/dynamodb_internal.h"

namespace runnel::endpoint::ddb {
namespace {

constexpr const char* kLegacy[] = {"AttributesToGet",    "Expected",    "AttributeUpdates",
                                   "KeyConditions",      "QueryFilter", "ScanFilter",
                                   "ConditionalOperator"};
constexpr const char* kExpression[] = {"ProjectionExpression",     "ConditionExpression",
                                       "UpdateExpression",         "KeyConditionExpression",
                                       "FilterExpression",         "ExpressionAttributeNames",
                                       "ExpressionAttributeValues"};

class Translator {
 public:
  explicit Translator(json* body) : body_(*body) {}

  std::string Name(const std::string& attribute) {
    const std::string n = "#l" + std::to_string(names_.size());
    names_[n] = attribute;
    return n;
  }
  std::string Value(const json& v) {
    const std::string n = ":l" + std::to_string(values_.size());
    values_[n] = v;
    return n;
  }

  Fault Projection(const char* member);
  // Expected, KeyConditions, QueryFilter, ScanFilter: `expected` allows
  // Value/Exists.
  Fault Conditions(const char* member, const char* target, bool expected, bool use_operator);
  Fault Updates();
  void Finish();

 private:
  Fault Condition(const std::string& attribute, const json& c, bool expected, std::string* out);
  Fault Comparison(const std::string& attribute, const std::string& op, const json& args,
                   std::string* out);

  json& body_;
  json names_ = json::object();
  json values_ = json::object();
};

Fault Translator::Projection(const char* member) {
  if (!body_.contains(member)) return {};
  const json& list = body_[member];
  if (!list.is_array()) return Serialization(std::string(member) + ": expected a list");
  if (list.empty()) {
    return Validation(std::string("1 validation error detected: Value '[]' at '") +
                      "attributesToGet' failed to satisfy constraint: Member must have length "
                      "greater than or equal to 1");
  }
  std::string projection;
  for (const json& a : list) {
    if (!a.is_string()) return Serialization(std::string(member) + ": expected strings");
    projection += (projection.empty() ? "" : ", ") + Name(a.get<std::string>());
  }
  body_.erase(member);
  body_["ProjectionExpression"] = projection;
  return {};
}

Fault Translator::Comparison(const std::string& attribute, const std::string& op, const json& args,
                             std::string* out) {
  static const std::map<std::string, std::pair<std::string, size_t>> kOps = {
      {"EQ", {"=", 1}},      {"NE", {"<>", 1}},         {"LE", {"<=", 1}},        {"LT", {"<", 1}},
      {"GE", {">=", 1}},     {"GT", {">", 1}},          {"NOT_NULL", {"", 0}},    {"NULL", {"", 0}},
      {"CONTAINS", {"", 1}}, {"NOT_CONTAINS", {"", 1}}, {"BEGINS_WITH", {"", 1}}, {"IN", {"", 0}},
      {"BETWEEN", {"", 2}}};
  auto it = kOps.find(op);
  if (it == kOps.end()) {
    return Validation("1 validation error detected: Value '" + op +
                      "' at 'comparisonOperator' failed to satisfy constraint: Member must "
                      "satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, "
                      "NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]");
  }
  const bool bad_count = op == "IN" ? args.empty() : args.size() != it->second.second;
  if (bad_count) {
    return Validation(
        "One or more parameter values were invalid: Invalid number of argument(s) "
        "for the " +
        op + " ComparisonOperator");
  }
  const std::string n = Name(attribute);
  std::vector<std::string> v;
  for (const json& a : args) v.push_back(Value(a));
  if (!it->second.first.empty()) {
    *out = n + " " + it->second.first + " " + v[0];
    // Legacy NE also holds when the attribute is missing.
    if (op == "NE") *out = "(attribute_not_exists(" + n + ") OR " + *out + ")";
  } else if (op == "NOT_NULL" || op == "NULL") {
    *out = (op == "NULL" ? "attribute_not_exists(" : "attribute_exists(") + n + ")";
  } else if (op == "CONTAINS" || op == "NOT_CONTAINS") {
    *out = (op == "NOT_CONTAINS" ? "NOT contains(" : "contains(") + n + ", " + v[0] + ")";
  } else if (op == "BEGINS_WITH") {
    *out = "begins_with(" + n + ", " + v[0] + ")";
  } else if (op == "BETWEEN") {
    *out = n + " BETWEEN " + v[0] + " AND " + v[1];
  } else {
    std::string list;
    for (const std::string& x : v) list += (list.empty() ? "" : ", ") + x;
    *out = n + " IN (" + list + ")";
  }
  return {};
}

Fault Translator::Condition(const std::string& attribute, const json& c, bool expected,
                            std::string* out) {
  if (!c.is_object()) return Serialization(attribute + ": expected a structure");
  const json empty = json::array();
  if (c.contains("ComparisonOperator")) {
    if (!c["ComparisonOperator"].is_string()) {
      return Serialization("ComparisonOperator: expected a string");
    }
    const json& args = c.contains("AttributeValueList") ? c["AttributeValueList"] : empty;
    if (!args.is_array()) return Serialization("AttributeValueList: expected a list");
    if (c.contains("Value")) {
      return Validation(
          "One or more parameter values were invalid: Value and ComparisonOperator "
          "cannot be used together for Attribute: " +
          attribute);
    }
    return Comparison(attribute, c["ComparisonOperator"].get<std::string>(), args, out);
  }
  if (!expected) return Validation(NullMember("ComparisonOperator"));
  bool exists = true;
  if (c.contains("Exists")) {
    if (!c["Exists"].is_boolean()) return Serialization("Exists: expected a boolean");
    exists = c["Exists"].get<bool>();
  }
  if (!exists) {
    if (c.contains("Value")) {
      return Validation(
          "One or more parameter values were invalid: Value cannot be used when "
          "Exists is false for Attribute: " +
          attribute);
    }
    *out = "attribute_not_exists(" + Name(attribute) + ")";
    return {};
  }
  if (!c.contains("Value")) {
    return Validation(
        "One or more parameter values were invalid: Value must be provided when "
        "Exists is true for Attribute: " +
        attribute);
  }
  *out = Name(attribute) + " = " + Value(c["Value"]);
  return {};
}

Fault Translator::Conditions(const char* member, const char* target, bool expected,
                             bool use_operator) {
  if (!body_.contains(member)) return {};
  const json& map = body_[member];
  if (!map.is_object()) return Serialization(std::string(member) + ": expected a map");
  std::string joiner = " AND ";
  if (use_operator && body_.contains("ConditionalOperator")) {
    const json& op = body_["ConditionalOperator"];
    if (!op.is_string() || (op != "AND" && op != "OR")) {
      return Validation(
          "1 validation error detected: Value at 'conditionalOperator' failed to "
          "satisfy constraint: Member must satisfy enum value set: [OR, AND]");
    }
    joiner = " " + op.get<std::string>() + " ";
  }
  std::string expr;
  for (const auto& [attribute, c] : map.items()) {
    std::string one;
    Fault f = Condition(attribute, c, expected, &one);
    if (!f.ok()) return f;
    expr += (expr.empty() ? "" : joiner) + one;
  }
  body_.erase(member);
  if (!expr.empty()) body_[target] = expr;
  return {};
}

Fault Translator::Updates() {
  if (!body_.contains("AttributeUpdates")) return {};
  const json& map = body_["AttributeUpdates"];
  if (!map.is_object()) return Serialization("AttributeUpdates: expected a map");
  std::string set, add, remove, del;
  auto append = [](std::string* clause, const std::string& s) {
    *clause += (clause->empty() ? "" : ", ") + s;
  };
  for (const auto& [attribute, u] : map.items()) {
    if (!u.is_object()) return Serialization("AttributeUpdates: expected structures");
    std::string action = "PUT";
    if (u.contains("Action")) {
      if (!u["Action"].is_string()) return Serialization("Action: expected a string");
      action = u["Action"].get<std::string>();
    }
    const bool has_value = u.contains("Value");
    if (action == "PUT" && has_value) {
      append(&set, Name(attribute) + " = " + Value(u["Value"]));
    } else if (action == "ADD" && has_value) {
      append(&add, Name(attribute) + " " + Value(u["Value"]));
    } else if (action == "DELETE") {
      append(has_value ? &del : &remove,
             has_value ? Name(attribute) + " " + Value(u["Value"]) : Name(attribute));
    } else if (action == "PUT" || action == "ADD") {
      return Validation(
          "One or more parameter values were invalid: Only DELETE action is allowed "
          "when no attribute value is specified");
    } else {
      return Validation("1 validation error detected: Value '" + action +
                        "' at 'attributeUpdates." + attribute +
                        ".member.action' failed to satisfy constraint: Member must satisfy enum "
                        "value set: [ADD, PUT, DELETE]");
    }
  }
  std::string expr;
  for (const auto& [word, clause] : {std::pair<const char*, const std::string&>{"SET", set},
                                     {"ADD", add},
                                     {"REMOVE", remove},
                                     {"DELETE", del}}) {
    if (!clause.empty()) expr += (expr.empty() ? "" : " ") + std::string(word) + " " + clause;
  }
  body_.erase("AttributeUpdates");
  if (!expr.empty()) body_["UpdateExpression"] = expr;
  return {};
}

void Translator::Finish() {
  body_.erase("ConditionalOperator");
  if (!names_.empty()) body_["ExpressionAttributeNames"] = names_;
  if (!values_.empty()) body_["ExpressionAttributeValues"] = values_;
}

// The cloud's message for a request that mixes both kinds.
Fault CheckNotMixed(const json& body) {
  std::string legacy, expression;
  for (const char* m : kLegacy) {
    if (body.contains(m)) legacy += (legacy.empty() ? "" : ", ") + std::string(m);
  }
  for (const char* m : kExpression) {
    if (body.contains(m)) expression += (expression.empty() ? "" : ", ") + std::string(m);
  }
  if (legacy.empty() || expression.empty()) return {};
  return Validation(
      "Can not use both expression and non-expression parameters in the same request: "
      "Non-expression parameters: {" +
      legacy + "} Expression parameters: {" + expression + "}");
}

}  // namespace

Fault TranslateLegacyProjection(json* object) {
  if (!object->is_object()) return {};
  Fault f = CheckNotMixed(*object);
  if (!f.ok()) return f;
  Translator t(object);
  f = t.Projection("AttributesToGet");
  if (f.ok()) t.Finish();
  return f;
}

Fault TranslateLegacy(std::string_view op, json* body) {
  if (op == "BatchGetItem" && body->contains("RequestItems") &&
      (*body)["RequestItems"].is_object()) {
    for (auto& [table, ka] : (*body)["RequestItems"].items()) {
      Fault f = TranslateLegacyProjection(&ka);
      if (!f.ok()) return f;
    }
    return {};
  }
  Fault f = CheckNotMixed(*body);
  if (!f.ok()) return f;
  Translator t(body);
  if (op == "GetItem" || op == "Query" || op == "Scan") f = t.Projection("AttributesToGet");
  if (f.ok() && (op == "PutItem" || op == "UpdateItem" || op == "DeleteItem")) {
    f = t.Conditions("Expected", "ConditionExpression", true, true);
  }
  if (f.ok() && op == "UpdateItem") f = t.Updates();
  if (f.ok() && op == "Query")
    f = t.Conditions("KeyConditions", "KeyConditionExpression", false, false);
  if (f.ok() && op == "Query") f = t.Conditions("QueryFilter", "FilterExpression", false, true);
  if (f.ok() && op == "Scan") f = t.Conditions("ScanFilter", "FilterExpression", false, true);
  if (f.ok()) t.Finish();
  return f;
}

}  // namespace runnel::endpoint::ddb
