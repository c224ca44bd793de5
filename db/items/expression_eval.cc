// Copyright 2026 The runnel Authors.
//
// Evaluation of parsed expressions against items: conditions (lenient: a
// missing attribute or a type mismatch is false), update actions (strict:
// what the cloud rejects at run time is InvalidArgument), projections.

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "db/items/expression_ast.h"
#include "db/items/number.h"

namespace runnel::items {
namespace expr {
namespace {

using Type = AttributeValue::Type;

// The set's element type.
Type ElementType(Type set) {
  return set == Type::kSS ? Type::kS : set == Type::kNS ? Type::kN : Type::kB;
}

int CompareNumbers(const std::string& a, const std::string& b) {
  Number x, y;
  // Stored and expression values are normalized; an unparsable text (never
  // expected) compares by text so that evaluation stays total.
  if (!Number::Parse(a, &x).ok() || !Number::Parse(b, &y).ok()) return a.compare(b);
  return Number::Compare(x, y);
}

bool SameElement(Type set, const std::string& a, const std::string& b) {
  return set == Type::kNS ? CompareNumbers(a, b) == 0 : a == b;
}

bool SetHas(const AttributeValue& set, const std::string& element) {
  return std::any_of(set.set.begin(), set.set.end(),
                     [&](const std::string& e) { return SameElement(set.type, e, element); });
}

// An operand's value for a condition: a pointer into the item or the
// expression, or a computed size.
struct Resolved {
  const AttributeValue* value = nullptr;
  AttributeValue computed;
};

bool Resolve(const Operand& o, const Item& item, Resolved* r) {
  switch (o.kind) {
    case Operand::Kind::kValue:
      r->value = &o.value;
      return true;
    case Operand::Kind::kSize: {
      const AttributeValue* v = Lookup(item, o.path);
      uint64_t size = 0;
      if (v == nullptr || !SizeOf(*v, &size)) return false;
      r->computed = AttributeValue::N(std::to_string(size));
      r->value = &r->computed;
      return true;
    }
    default:
      r->value = Lookup(item, o.path);
      return r->value != nullptr;
  }
}

bool Compare(CompareOp op, const AttributeValue& a, const AttributeValue& b) {
  if (op == CompareOp::kEq) return a == b;
  if (op == CompareOp::kNe) return a != b;
  std::optional<int> order = CompareSame(a, b);
  if (!order.has_value()) return false;
  switch (op) {
    case CompareOp::kLt:
      return *order < 0;
    case CompareOp::kLe:
      return *order <= 0;
    case CompareOp::kGt:
      return *order > 0;
    default:
      return *order >= 0;
  }
}

bool Contains(const AttributeValue& haystack, const AttributeValue& needle) {
  switch (haystack.type) {
    case Type::kS:
    case Type::kB:
      return needle.type == haystack.type &&
             haystack.scalar.find(needle.scalar) != std::string::npos;
    case Type::kSS:
    case Type::kNS:
    case Type::kBS:
      return needle.type == ElementType(haystack.type) && SetHas(haystack, needle.scalar);
    case Type::kL:
      return std::find(haystack.list.begin(), haystack.list.end(), needle) != haystack.list.end();
    default:
      return false;
  }
}

bool EvaluatePredicate(const Cond& c, const Item& item) {
  Resolved a;
  if (c.kind == Cond::Kind::kExists || c.kind == Cond::Kind::kNotExists) {
    const bool exists = Lookup(item, c.operands[0].path) != nullptr;
    return exists == (c.kind == Cond::Kind::kExists);
  }
  if (!Resolve(c.operands[0], item, &a)) {
    // `missing <> :v` holds, as in the cloud; every other test fails.
    if (c.kind != Cond::Kind::kCompare || c.op != CompareOp::kNe) return false;
    Resolved b;
    return Resolve(c.operands[1], item, &b);
  }
  std::vector<Resolved> rest(c.operands.size() - 1);
  for (size_t i = 1; i < c.operands.size(); ++i) {
    if (!Resolve(c.operands[i], item, &rest[i - 1]) && c.kind != Cond::Kind::kIn) {
      return c.kind == Cond::Kind::kCompare && c.op == CompareOp::kNe;
    }
  }
  const AttributeValue& v = *a.value;
  switch (c.kind) {
    case Cond::Kind::kCompare:
      return Compare(c.op, v, *rest[0].value);
    case Cond::Kind::kBetween:
      return Compare(CompareOp::kGe, v, *rest[0].value) &&
             Compare(CompareOp::kLe, v, *rest[1].value);
    case Cond::Kind::kIn:
      return std::any_of(rest.begin(), rest.end(),
                         [&](const Resolved& r) { return r.value != nullptr && *r.value == v; });
    case Cond::Kind::kAttributeType: {
      Type t;
      return ParseAttributeType(rest[0].value->scalar, &t) && t == v.type;
    }
    case Cond::Kind::kBeginsWith: {
      const AttributeValue& prefix = *rest[0].value;
      return (v.type == Type::kS || v.type == Type::kB) && prefix.type == v.type &&
             v.scalar.compare(0, prefix.scalar.size(), prefix.scalar) == 0 &&
             v.scalar.size() >= prefix.scalar.size();
    }
    default:
      return Contains(v, *rest[0].value);
  }
}

}  // namespace

const AttributeValue* Lookup(const Item& item, const Path& path) {
  auto it = item.find(path.front().name);
  if (it == item.end()) return nullptr;
  const AttributeValue* v = &it->second;
  for (size_t i = 1; i < path.size() && v != nullptr; ++i) {
    const PathElement& e = path[i];
    if (e.is_index) {
      v = v->type == Type::kL && e.index < v->list.size() ? &v->list[e.index] : nullptr;
    } else if (v->type == Type::kM) {
      auto m = v->map.find(e.name);
      v = m == v->map.end() ? nullptr : &m->second;
    } else {
      v = nullptr;
    }
  }
  return v;
}

std::optional<int> CompareSame(const AttributeValue& a, const AttributeValue& b) {
  if (a.type != b.type) return std::nullopt;
  switch (a.type) {
    case Type::kS:
    case Type::kB: {
      const int c = a.scalar.compare(b.scalar);  // bytewise: std::string compares as unsigned
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case Type::kN:
      return CompareNumbers(a.scalar, b.scalar);
    default:
      return std::nullopt;
  }
}

bool SizeOf(const AttributeValue& value, uint64_t* size) {
  switch (value.type) {
    case Type::kS:
      // The cloud counts UTF-16 code units: a 4-byte UTF-8 sequence is a
      // surrogate pair.
      *size = 0;
      for (unsigned char c : value.scalar) {
        if ((c & 0xC0) != 0x80) *size += c >= 0xF0 ? 2 : 1;
      }
      return true;
    case Type::kB:
      *size = value.scalar.size();
      return true;
    case Type::kSS:
    case Type::kNS:
    case Type::kBS:
      *size = value.set.size();
      return true;
    case Type::kL:
      *size = value.list.size();
      return true;
    case Type::kM:
      *size = value.map.size();
      return true;
    default:
      return false;
  }
}

bool Evaluate(const Cond& cond, const Item& item) {
  switch (cond.kind) {
    case Cond::Kind::kAnd:
      return std::all_of(cond.children.begin(), cond.children.end(),
                         [&](const Cond& c) { return Evaluate(c, item); });
    case Cond::Kind::kOr:
      return std::any_of(cond.children.begin(), cond.children.end(),
                         [&](const Cond& c) { return Evaluate(c, item); });
    case Cond::Kind::kNot:
      return !Evaluate(cond.children.front(), item);
    default:
      return EvaluatePredicate(cond, item);
  }
}

}  // namespace expr
}  // namespace runnel::items
