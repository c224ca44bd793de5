// Copyright 2026 The runnel Authors.
//
// DynamoDB's JSON for items and values (runnel/item.h). The shape is checked
// here, with the attribute path in every error; the model's rules (numbers,
// sets, sizes) are NormalizeItem's, applied by the DB calls.

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "runnel/item.h"
#include "util/encoding.h"

namespace runnel {
namespace {

using nlohmann::json;
using Type = AttributeValue::Type;

// Deep enough for every valid item (32 levels) with room for the model's
// own "too deep" error; bounds the recursion on hostile input.
constexpr size_t kMaxJsonDepth = 64;

Status ShapeError(const std::string& path, std::string_view what) {
  std::string msg = "Invalid attribute value for \"";
  msg += path;
  msg += "\": ";
  msg += what;
  return Status::InvalidArgument(msg);
}

Status ValueFromJson(const std::string& path, const json& j, size_t depth, AttributeValue* out);

Status StringsFromJson(const std::string& path, const json& j, bool base64,
                       std::vector<std::string>* out) {
  if (!j.is_array()) return ShapeError(path, "a set must be a JSON array of strings");
  for (const json& e : j) {
    if (!e.is_string()) return ShapeError(path, "a set must be a JSON array of strings");
    const std::string& s = e.get_ref<const std::string&>();
    if (!base64) {
      out->push_back(s);
      continue;
    }
    std::string bytes;
    if (!DecodeBase64(s, &bytes)) return ShapeError(path, "a BS element is not base64");
    out->push_back(std::move(bytes));
  }
  return Status::OK();
}

Status MapFromJson(const std::string& path, const json& j, size_t depth,
                   std::map<std::string, AttributeValue>* out) {
  for (const auto& [name, v] : j.items()) {
    const std::string child = path.empty() ? name : path + "." + name;
    Status s = ValueFromJson(child, v, depth + 1, &(*out)[name]);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status ScalarFromJson(const std::string& path, Type type, const json& body, AttributeValue* out) {
  switch (type) {
    case Type::kS:
    case Type::kN:
      if (!body.is_string()) {
        return ShapeError(path, type == Type::kS ? "S must be a JSON string"
                                                 : "N must be a JSON string holding the number");
      }
      out->scalar = body.get<std::string>();
      return Status::OK();
    case Type::kB:
      if (!body.is_string() || !DecodeBase64(body.get_ref<const std::string&>(), &out->scalar)) {
        return ShapeError(path, "B must be a base64 JSON string");
      }
      return Status::OK();
    case Type::kBool:
      if (!body.is_boolean()) return ShapeError(path, "BOOL must be true or false");
      out->boolean = body.get<bool>();
      return Status::OK();
    case Type::kNull:
      if (!body.is_boolean() || !body.get<bool>()) return ShapeError(path, "NULL must be true");
      return Status::OK();
    default:
      return ShapeError(path, "not a scalar type");
  }
}

Status ValueFromJson(const std::string& path, const json& j, size_t depth, AttributeValue* out) {
  if (depth > kMaxJsonDepth) return ShapeError(path, "nested too deeply");
  if (!j.is_object() || j.size() != 1) {
    return ShapeError(path, "expected an object with exactly one type key, e.g. {\"S\":\"a\"}");
  }
  const auto it = j.begin();
  Type type;
  if (!ParseAttributeType(it.key(), &type)) {
    return ShapeError(path, "unknown type \"" + it.key() + "\"");
  }
  *out = AttributeValue();
  out->type = type;
  const json& body = it.value();
  switch (type) {
    case Type::kM:
      if (!body.is_object()) return ShapeError(path, "M must be a JSON object");
      return MapFromJson(path, body, depth, &out->map);
    case Type::kL:
      if (!body.is_array()) return ShapeError(path, "L must be a JSON array");
      out->list.resize(body.size());
      for (size_t i = 0; i < body.size(); ++i) {
        Status s =
            ValueFromJson(path + "[" + std::to_string(i) + "]", body[i], depth + 1, &out->list[i]);
        if (!s.ok()) return s;
      }
      return Status::OK();
    case Type::kSS:
    case Type::kNS:
      return StringsFromJson(path, body, false, &out->set);
    case Type::kBS:
      return StringsFromJson(path, body, true, &out->set);
    default:
      return ScalarFromJson(path, type, body, out);
  }
}

json ValueToJson(const AttributeValue& v) {
  json body;
  switch (v.type) {
    case Type::kS:
    case Type::kN:
      body = v.scalar;
      break;
    case Type::kB:
      body = EncodeBase64(v.scalar);
      break;
    case Type::kBool:
      body = v.boolean;
      break;
    case Type::kNull:
      body = true;
      break;
    case Type::kM:
      body = json::object();
      for (const auto& [name, child] : v.map) body[name] = ValueToJson(child);
      break;
    case Type::kL:
      body = json::array();
      for (const AttributeValue& child : v.list) body.push_back(ValueToJson(child));
      break;
    case Type::kSS:
    case Type::kNS:
      body = v.set;
      break;
    case Type::kBS:
      body = json::array();
      for (const std::string& e : v.set) body.push_back(EncodeBase64(e));
      break;
  }
  json j = json::object();
  j[std::string(AttributeTypeName(v.type))] = std::move(body);
  return j;
}

// Invalid UTF-8 (only in values that were never normalized) is replaced
// rather than thrown.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Status Parse(std::string_view text, json* j) {
  *j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j->is_discarded()) return Status::InvalidArgument("Invalid JSON for an item or value");
  return Status::OK();
}

}  // namespace

Status ItemFromJson(std::string_view text, Item* item) {
  json j;
  Status s = Parse(text, &j);
  if (!s.ok()) return s;
  if (!j.is_object()) {
    return Status::InvalidArgument("An item must be a JSON object of attribute names to values");
  }
  Item result;
  s = MapFromJson("", j, 0, &result);
  if (!s.ok()) return s;
  *item = std::move(result);
  return Status::OK();
}

std::string ItemToJson(const Item& item) {
  json j = json::object();
  for (const auto& [name, value] : item) j[name] = ValueToJson(value);
  return Dump(j);
}

Status AttributeValueFromJson(std::string_view text, AttributeValue* value) {
  json j;
  Status s = Parse(text, &j);
  if (!s.ok()) return s;
  AttributeValue result;
  s = ValueFromJson("value", j, 0, &result);
  if (!s.ok()) return s;
  *value = std::move(result);
  return Status::OK();
}

std::string AttributeValueToJson(const AttributeValue& value) { return Dump(ValueToJson(value)); }

}  // namespace runnel
