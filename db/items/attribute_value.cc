// Copyright 2026 The runnel Authors.
//
// AttributeValue's factories, equality and type names (runnel/item.h).

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "db/items/number.h"
#include "runnel/item.h"

namespace runnel {
namespace {

using Type = AttributeValue::Type;

constexpr std::array<std::pair<Type, std::string_view>, 10> kTypeNames = {{
    {Type::kS, "S"},
    {Type::kN, "N"},
    {Type::kB, "B"},
    {Type::kBool, "BOOL"},
    {Type::kNull, "NULL"},
    {Type::kM, "M"},
    {Type::kL, "L"},
    {Type::kSS, "SS"},
    {Type::kNS, "NS"},
    {Type::kBS, "BS"},
}};

AttributeValue Scalar(Type type, std::string_view s) {
  AttributeValue v;
  v.type = type;
  v.scalar = std::string(s);
  return v;
}

AttributeValue Set(Type type, std::vector<std::string> elements) {
  AttributeValue v;
  v.type = type;
  v.set = std::move(elements);
  return v;
}

// A number's normalized text, or its own text if it is not a number: two
// invalid numbers are equal only if they are spelled the same.
std::string NumberKey(const std::string& text) {
  std::string normalized;
  if (items::NormalizeNumber(text, &normalized).ok()) return normalized;
  return "?" + text;  // '?' sorts apart from every valid number's text
}

bool NumbersEqual(const std::string& a, const std::string& b) {
  if (a == b) return true;
  items::Number x, y;
  if (!items::Number::Parse(a, &x).ok() || !items::Number::Parse(b, &y).ok()) return false;
  return items::Number::Compare(x, y) == 0;
}

bool SetsEqual(Type type, std::vector<std::string> a, std::vector<std::string> b) {
  if (a.size() != b.size()) return false;
  if (type == Type::kNS) {
    for (std::string& e : a) e = NumberKey(e);
    for (std::string& e : b) e = NumberKey(e);
  }
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

}  // namespace

AttributeValue AttributeValue::S(std::string_view s) { return Scalar(Type::kS, s); }
AttributeValue AttributeValue::N(std::string_view number) { return Scalar(Type::kN, number); }
AttributeValue AttributeValue::B(std::string_view bytes) { return Scalar(Type::kB, bytes); }

AttributeValue AttributeValue::Bool(bool b) {
  AttributeValue v;
  v.type = Type::kBool;
  v.boolean = b;
  return v;
}

AttributeValue AttributeValue::Null() { return AttributeValue(); }

AttributeValue AttributeValue::M(std::map<std::string, AttributeValue> m) {
  AttributeValue v;
  v.type = Type::kM;
  v.map = std::move(m);
  return v;
}

AttributeValue AttributeValue::L(std::vector<AttributeValue> l) {
  AttributeValue v;
  v.type = Type::kL;
  v.list = std::move(l);
  return v;
}

AttributeValue AttributeValue::SS(std::vector<std::string> elements) {
  return Set(Type::kSS, std::move(elements));
}
AttributeValue AttributeValue::NS(std::vector<std::string> elements) {
  return Set(Type::kNS, std::move(elements));
}
AttributeValue AttributeValue::BS(std::vector<std::string> elements) {
  return Set(Type::kBS, std::move(elements));
}

bool operator==(const AttributeValue& a, const AttributeValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case Type::kS:
    case Type::kB:
      return a.scalar == b.scalar;
    case Type::kN:
      return NumbersEqual(a.scalar, b.scalar);
    case Type::kBool:
      return a.boolean == b.boolean;
    case Type::kNull:
      return true;
    case Type::kM:
      return a.map == b.map;  // std::map ==: same names, values by operator==
    case Type::kL:
      return a.list == b.list;
    case Type::kSS:
    case Type::kNS:
    case Type::kBS:
      return SetsEqual(a.type, a.set, b.set);
  }
  return false;
}

std::string_view AttributeTypeName(AttributeValue::Type type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "?";
}

bool ParseAttributeType(std::string_view name, AttributeValue::Type* type) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) {
      *type = t;
      return true;
    }
  }
  return false;
}

}  // namespace runnel
