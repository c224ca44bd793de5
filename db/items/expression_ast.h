// Copyright 2026 The runnel Authors.
//
// The evaluable form of parsed expressions (internal to expression*.cc):
// placeholders are resolved, functions checked, so evaluation never fails
// except where the cloud fails at run time (update type errors).

#ifndef RUNNEL_DB_ITEMS_EXPRESSION_AST_H_
#define RUNNEL_DB_ITEMS_EXPRESSION_AST_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "db/items/expression.h"
#include "runnel/item.h"
#include "runnel/status.h"

namespace runnel::items::expr {

// A value-producing operand.
struct Operand {
  enum class Kind : uint8_t {
    kPath,         // path
    kValue,        // value (an ExpressionAttributeValue)
    kSize,         // size(path)
    kIfNotExists,  // if_not_exists(path, args[0])
    kListAppend,   // list_append(args[0], args[1])
    kPlus,         // args[0] + args[1]
    kMinus,        // args[0] - args[1]
  };
  Kind kind = Kind::kPath;
  Path path;
  AttributeValue value;
  std::vector<Operand> args;
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// A condition node.
struct Cond {
  enum class Kind : uint8_t {
    kAnd,            // children (two or more)
    kOr,             // children
    kNot,            // children[0]
    kCompare,        // operands[0] op operands[1]
    kBetween,        // operands[0] BETWEEN operands[1] AND operands[2]
    kIn,             // operands[0] IN (operands[1..])
    kExists,         // attribute_exists(operands[0].path)
    kNotExists,      // attribute_not_exists(operands[0].path)
    kAttributeType,  // attribute_type(operands[0].path, operands[1] holds the type name)
    kBeginsWith,     // begins_with(operands[0], operands[1])
    kContains,       // contains(operands[0], operands[1])
  };
  Kind kind = Kind::kAnd;
  CompareOp op = CompareOp::kEq;
  std::vector<Cond> children;
  std::vector<Operand> operands;
};

struct UpdateAction {
  enum class Kind : uint8_t { kSet, kRemove, kAdd, kDelete };
  Kind kind = Kind::kSet;
  Path path;
  Operand value;  // kSet: the right-hand side; kAdd/kDelete: a kValue operand
};

// The value at `path` in `item`, or null.
const AttributeValue* Lookup(const Item& item, const Path& path);

bool Evaluate(const Cond& cond, const Item& item);

// REQUIRES: the actions' paths do not overlap (checked at parse).
Status ApplyActions(const std::vector<UpdateAction>& actions, Item* item);

// Order of two values of the same scalar type (S and B bytewise, N by
// value): <0, 0, >0; nullopt for other or different types.
std::optional<int> CompareSame(const AttributeValue& a, const AttributeValue& b);

// True if `word` is one of DynamoDB's reserved words (case-insensitive).
bool IsReservedWord(std::string_view word);

// "[a, b, [2]]": the cloud's rendering of a path in overlap messages.
std::string PathToList(const Path& path);

// The size() of a value: length of S/B, element count of sets, L and M;
// false for the other types.
bool SizeOf(const AttributeValue& value, uint64_t* size);

}  // namespace runnel::items::expr

#endif  // RUNNEL_DB_ITEMS_EXPRESSION_AST_H_
