// Copyright 2026 The runnel Authors.
//
// Parse tree -> evaluable form (internal to expression*.cc). One Converter
// per parsed expression: it resolves #names and :values (recording the ones
// used in the request's Placeholders) and reports the cloud's semantic
// errors as InvalidArgument "Invalid <parameter>: ...".

#ifndef RUNNEL_DB_ITEMS_EXPRESSION_CONVERT_H_
#define RUNNEL_DB_ITEMS_EXPRESSION_CONVERT_H_

#include <set>
#include <string>
#include <string_view>
#include <tao/pegtl/contrib/parse_tree.hpp>
#include <vector>

#include "db/items/expression_ast.h"

namespace runnel::items::expr {

using Node = tao::pegtl::parse_tree::node;

// The placeholders a request's expressions used.
struct Placeholders {
  std::set<std::string> names;
  std::set<std::string> values;
};

class Converter {
 public:
  // All must outlive the converter.
  Converter(const AttributeNames& names, const Item& values, std::string_view parameter,
            Placeholders* used);

  // `root` is the tree of grammar::condition, grammar::update or
  // grammar::projection.
  Status ConditionRoot(const Node& root, Cond* out);
  Status UpdateRoot(const Node& root, std::vector<UpdateAction>* out);
  Status ProjectionRoot(const Node& root, std::vector<Path>* out);

 private:
  Status Error(std::string_view what) const;
  Status ConvertPath(const Node& n, Path* out);
  Status ConvertValue(const Node& n, AttributeValue* out);
  Status ConditionNode(const Node& n, Cond* out);
  Status Predicate(const Node& n, Cond* out);
  Status BooleanFunction(const Node& n, Cond* out);
  Status FunctionArgs(const Node& n, size_t arity, std::string* name, std::vector<Operand>* args);
  Status ConditionOperand(const Node& n, Operand* out);
  Status UpdateOperand(const Node& n, Operand* out);
  Status SetAction(const Node& n, UpdateAction* out);
  Status ValueAction(const Node& n, UpdateAction::Kind kind, UpdateAction* out);
  Status CheckOverlaps(const std::vector<const Path*>& paths) const;
  Status CountOperator();

  const AttributeNames& names_;
  const Item& values_;
  const std::string prefix_;  // "Invalid ConditionExpression: "
  Placeholders* used_;
  int operators_ = 0;
};

// The key condition of a Query, checked against the table's key shape.
Status ToKeyCondition(const Cond& cond, const KeyShape& shape, KeyCondition* out);

}  // namespace runnel::items::expr

#endif  // RUNNEL_DB_ITEMS_EXPRESSION_CONVERT_H_
