// Copyright 2026 The runnel Authors.
//
// DynamoDB expressions: parsing (PEGTL grammars) and evaluation against
// items. Condition and filter expressions, update expressions, projection
// expressions and key condition expressions, with ExpressionAttributeNames
// ("#n") and ExpressionAttributeValues (":v").
//
// Errors are InvalidArgument with the cloud's wording where it has one
// ("Invalid ConditionExpression: Syntax error; token: \"=\", near: ...",
// "Value provided in ExpressionAttributeValues unused in expressions: keys:
// {:v}", "Attribute name is a reserved keyword; reserved keyword: size").
//
// Parsed expressions are immutable and may be evaluated from any thread.

#ifndef RUNNEL_DB_ITEMS_EXPRESSION_H_
#define RUNNEL_DB_ITEMS_EXPRESSION_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "db/items/key_codec.h"
#include "runnel/item.h"
#include "runnel/status.h"

namespace runnel::items {

// A document path, `a.b[2].c`: an attribute name, then map keys and list
// indexes (names already resolved from #placeholders).
struct PathElement {
  bool is_index = false;
  std::string name;    // !is_index
  uint32_t index = 0;  // is_index
};
using Path = std::vector<PathElement>;

// "a.b[2].c" (for messages).
std::string PathToString(const Path& path);

// A condition or filter expression.
class Condition {
 public:
  virtual ~Condition() = default;
  // True if the item satisfies the condition. A missing item is an empty
  // one (attribute_not_exists(pk) is true). Type mismatches and missing
  // attributes make a comparison false, never an error.
  virtual bool Evaluate(const Item& item) const = 0;
  // Top-level attribute names the condition refers to (a Query's filter may
  // not name a key attribute).
  virtual const std::set<std::string>& TopLevelNames() const = 0;
};

// An update expression (SET, REMOVE, ADD, DELETE clauses).
class Update {
 public:
  virtual ~Update() = default;
  // Applies the clauses to *item (empty for a missing item). Stores the
  // top-level attribute names the update touched in *updated (for
  // ReturnValues UPDATED_OLD/UPDATED_NEW). InvalidArgument for what the
  // cloud rejects only at run time: an operand of the wrong type for
  // `+`/`-`/ADD/DELETE/list_append, a path into a missing or non-map/list
  // parent, a result number out of range. *item is unspecified after an
  // error (callers apply to a copy).
  virtual Status Apply(Item* item, std::set<std::string>* updated) const = 0;
  // Top-level attribute names the update may touch (to refuse key updates
  // before anything runs).
  virtual const std::set<std::string>& TopLevelNames() const = 0;
};

// A key condition: the hash key equals a value, and optionally one
// condition on the range key.
struct KeyCondition {
  enum class RangeOp : uint8_t { kNone, kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };
  AttributeValue hash;
  RangeOp range_op = RangeOp::kNone;
  AttributeValue lo;  // the operand (kBetween: the lower bound)
  AttributeValue hi;  // kBetween: the upper bound
};

// The expressions of one request share one context: it resolves #names and
// :values and remembers which were used, so that CheckAllUsed can report
// the unused ones as the cloud does.
class ExpressionContext {
 public:
  // Both must outlive the context. Values must be normalized (the DB
  // normalizes them first).
  ExpressionContext(const AttributeNames& names, const Item& values);

  // `parameter` names the request field in messages ("ConditionExpression",
  // "FilterExpression").
  Status ParseCondition(std::string_view text, std::string_view parameter,
                        std::shared_ptr<const Condition>* out);
  Status ParseUpdate(std::string_view text, std::shared_ptr<const Update>* out);
  Status ParseProjection(std::string_view text, std::vector<Path>* out);
  // Checks the names and types of the key attributes against `shape`.
  Status ParseKeyCondition(std::string_view text, const KeyShape& shape, KeyCondition* out);

  // InvalidArgument naming the #names and :values that no parsed expression
  // used. Call after parsing every expression of the request.
  Status CheckAllUsed() const;

 private:
  struct Rep;
  std::shared_ptr<Rep> rep_;
};

// The attributes of `item` at `paths` (a projection), with the document
// structure kept (list elements projected from one list keep their order).
void Project(const Item& item, const std::vector<Path>& paths, Item* out);

}  // namespace runnel::items

#endif  // RUNNEL_DB_ITEMS_EXPRESSION_H_
