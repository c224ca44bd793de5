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
#include "util/utf8.h"

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

// DynamoDB JSON is written straight into the output (no DOM: this is every
// GetItem's and Query's answer), byte for byte as nlohmann's dump writes it:
// object members in the maps' (sorted) order, no spaces, '"', '\\' and
// control characters escaped, other bytes as they are. A string that is not
// UTF-8 (only in values that were never normalized) goes through nlohmann
// for its replacement rules.
void AppendString(std::string* out, std::string_view s) {
  if (!ValidUtf8(s)) {
    *out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    out->push_back('\\');
    switch (c) {
      case '"':
      case '\\':
        out->push_back(static_cast<char>(c));
        break;
      case '\b':
        out->push_back('b');
        break;
      case '\f':
        out->push_back('f');
        break;
      case '\n':
        out->push_back('n');
        break;
      case '\r':
        out->push_back('r');
        break;
      case '\t':
        out->push_back('t');
        break;
      default:
        out->append("u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void AppendValue(std::string* out, const AttributeValue& v);

void AppendMap(std::string* out, const std::map<std::string, AttributeValue>& map) {
  out->push_back('{');
  bool first = true;
  for (const auto& [name, child] : map) {
    if (!first) out->push_back(',');
    first = false;
    AppendString(out, name);
    out->push_back(':');
    AppendValue(out, child);
  }
  out->push_back('}');
}

void AppendValue(std::string* out, const AttributeValue& v) {
  out->append("{\"");
  out->append(AttributeTypeName(v.type));
  out->append("\":");
  switch (v.type) {
    case Type::kS:
    case Type::kN:
      AppendString(out, v.scalar);
      break;
    case Type::kB:
      AppendString(out, EncodeBase64(v.scalar));
      break;
    case Type::kBool:
      out->append(v.boolean ? "true" : "false");
      break;
    case Type::kNull:
      out->append("true");
      break;
    case Type::kM:
      AppendMap(out, v.map);
      break;
    case Type::kL:
      out->push_back('[');
      for (size_t i = 0; i < v.list.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendValue(out, v.list[i]);
      }
      out->push_back(']');
      break;
    case Type::kSS:
    case Type::kNS:
    case Type::kBS:
      out->push_back('[');
      for (size_t i = 0; i < v.set.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendString(out, v.type == Type::kBS ? EncodeBase64(v.set[i]) : v.set[i]);
      }
      out->push_back(']');
      break;
  }
  out->push_back('}');
}

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
  std::string out;
  AppendItemJson(item, &out);
  return out;
}

void AppendItemJson(const Item& item, std::string* out) { AppendMap(out, item); }

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

std::string AttributeValueToJson(const AttributeValue& value) {
  std::string out;
  AppendValue(&out, value);
  return out;
}

}  // namespace runnel
