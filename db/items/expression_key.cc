// Copyright 2026 The runnel Authors.
//
// KeyConditionExpression: parsed with the condition grammar, then narrowed to
// what a Query can run as one range scan: `hash = :v`, optionally AND one
// condition on the range key (= < <= > >= BETWEEN begins_with), each with
// values of the key's schema type.

#include <string>
#include <utility>
#include <vector>

#include "db/items/expression_convert.h"

namespace runnel::items::expr {
namespace {

using Type = AttributeValue::Type;

Status Invalid(std::string_view what) {
  return Status::InvalidArgument("Invalid KeyConditionExpression: " + std::string(what));
}

std::string_view OperatorName(const Cond& c) {
  switch (c.kind) {
    case Cond::Kind::kOr:
      return "OR";
    case Cond::Kind::kNot:
      return "NOT";
    case Cond::Kind::kIn:
      return "IN";
    case Cond::Kind::kExists:
      return "attribute_exists";
    case Cond::Kind::kNotExists:
      return "attribute_not_exists";
    case Cond::Kind::kAttributeType:
      return "attribute_type";
    case Cond::Kind::kContains:
      return "contains";
    default:
      return "<>";
  }
}

// Flattens ANDs into their predicates.
void Flatten(const Cond& c, std::vector<const Cond*>* out) {
  if (c.kind == Cond::Kind::kAnd) {
    for (const Cond& child : c.children) Flatten(child, out);
  } else {
    out->push_back(&c);
  }
}

Type ScalarType(ScalarAttributeType t) {
  return t == ScalarAttributeType::kN   ? Type::kN
         : t == ScalarAttributeType::kB ? Type::kB
                                        : Type::kS;
}

CompareOp Mirror(CompareOp op) {
  switch (op) {
    case CompareOp::kLt:
      return CompareOp::kGt;
    case CompareOp::kLe:
      return CompareOp::kGe;
    case CompareOp::kGt:
      return CompareOp::kLt;
    case CompareOp::kGe:
      return CompareOp::kLe;
    default:
      return op;
  }
}

// One predicate on one key attribute: its name, operator and values.
struct KeyPredicate {
  std::string name;
  KeyCondition::RangeOp op = KeyCondition::RangeOp::kEq;
  std::vector<const AttributeValue*> values;
};

Status ToKeyPredicate(const Cond& c, KeyPredicate* out) {
  const bool supported = (c.kind == Cond::Kind::kCompare && c.op != CompareOp::kNe) ||
                         c.kind == Cond::Kind::kBetween || c.kind == Cond::Kind::kBeginsWith;
  if (!supported) {
    return Invalid("Invalid operator used in KeyConditionExpression: " +
                   std::string(OperatorName(c)));
  }
  std::vector<const Operand*> operands;
  for (const Operand& o : c.operands) operands.push_back(&o);
  CompareOp op = c.op;
  // `:v = pk` reads as `pk = :v`.
  if (c.kind == Cond::Kind::kCompare && operands[0]->kind == Operand::Kind::kValue) {
    std::swap(operands[0], operands[1]);
    op = Mirror(op);
  }
  if (operands[0]->kind != Operand::Kind::kPath) {
    return Status::InvalidArgument("Query key condition not supported");
  }
  if (operands[0]->path.size() != 1) {
    return Invalid("KeyConditionExpressions cannot have conditions on nested attributes");
  }
  out->name = operands[0]->path[0].name;
  for (size_t i = 1; i < operands.size(); ++i) {
    if (operands[i]->kind != Operand::Kind::kValue) {
      return Status::InvalidArgument("Query key condition not supported");
    }
    out->values.push_back(&operands[i]->value);
  }
  using RangeOp = KeyCondition::RangeOp;
  if (c.kind == Cond::Kind::kBetween) {
    out->op = RangeOp::kBetween;
  } else if (c.kind == Cond::Kind::kBeginsWith) {
    out->op = RangeOp::kBeginsWith;
  } else {
    static constexpr RangeOp kOps[] = {RangeOp::kEq, RangeOp::kNone, RangeOp::kLt,
                                       RangeOp::kLe, RangeOp::kGt,   RangeOp::kGe};
    out->op = kOps[static_cast<int>(op)];
  }
  return Status::OK();
}

Status CheckTypes(const KeyPredicate& p, Type type) {
  for (const AttributeValue* v : p.values) {
    if (v->type != type) {
      if (p.op == KeyCondition::RangeOp::kBeginsWith && type == Type::kN) {
        return Invalid(
            "Incorrect operand type for operator or function; operator or function: begins_with, "
            "operand type: N");
      }
      return Status::InvalidArgument(
          "One or more parameter values were invalid: Condition parameter type does not match "
          "schema type");
    }
  }
  return Status::OK();
}

}  // namespace

Status ToKeyCondition(const Cond& cond, const KeyShape& shape, KeyCondition* out) {
  std::vector<const Cond*> predicates;
  Flatten(cond, &predicates);
  std::vector<KeyPredicate> keys(predicates.size());
  for (size_t i = 0; i < predicates.size(); ++i) {
    Status s = ToKeyPredicate(*predicates[i], &keys[i]);
    if (!s.ok()) return s;
  }
  const KeyPredicate* hash = nullptr;
  const KeyPredicate* range = nullptr;
  for (const KeyPredicate& k : keys) {
    const KeyPredicate** slot = k.name == shape.hash_name                         ? &hash
                                : shape.has_range() && k.name == shape.range_name ? &range
                                                                                  : nullptr;
    if (slot == nullptr) continue;
    if (*slot != nullptr) {
      return Invalid("KeyConditionExpressions must only contain one condition per key");
    }
    *slot = &k;
  }
  if (hash == nullptr) {
    return Status::InvalidArgument("Query condition missed key schema element: " + shape.hash_name);
  }
  if (keys.size() != (range == nullptr ? 1u : 2u) || hash->op != KeyCondition::RangeOp::kEq) {
    return Status::InvalidArgument("Query key condition not supported");
  }
  Status s = CheckTypes(*hash, ScalarType(shape.hash_type));
  if (!s.ok()) return s;
  *out = KeyCondition();
  out->hash = *hash->values[0];
  if (range != nullptr) {
    s = CheckTypes(*range, ScalarType(shape.range_type));
    if (!s.ok()) return s;
    out->range_op = range->op;
    out->lo = *range->values[0];
    if (range->op == KeyCondition::RangeOp::kBetween) out->hi = *range->values[1];
  }
  return Status::OK();
}

}  // namespace runnel::items::expr
