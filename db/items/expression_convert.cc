// Copyright 2026 The runnel Authors.
//
// Parse tree -> evaluable form, with the cloud's parse-time checks. The
// cloud rejects what it can see without the item (a literal of the wrong
// type for a function, an unknown function, overlapping update paths) and
// evaluates the rest leniently: a missing attribute or a type mismatch makes
// a condition false.

#include "db/items/expression_convert.h"

#include <algorithm>
#include <string>
#include <utility>

#include "db/items/expression_grammar.h"

namespace runnel::items::expr {
namespace {

namespace g = grammar;
using Type = AttributeValue::Type;

constexpr int kMaxOperators = 300;
constexpr size_t kMaxInOperands = 100;
constexpr uint64_t kMaxListIndex = 0x7fffffff;

bool IsSet(Type t) { return t == Type::kSS || t == Type::kNS || t == Type::kBS; }

std::string TypeName(const AttributeValue& v) { return std::string(AttributeTypeName(v.type)); }

// "{N:5}": a literal in BETWEEN messages.
std::string Literal(const AttributeValue& v) {
  std::string text = v.type == Type::kS || v.type == Type::kN ? v.scalar : "...";
  return "AttributeValue: {" + TypeName(v) + ":" + text + "}";
}

bool IsPrefix(const Path& a, const Path& b) {
  if (a.size() > b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].is_index != b[i].is_index) return false;
    if (a[i].is_index ? a[i].index != b[i].index : a[i].name != b[i].name) return false;
  }
  return true;
}

}  // namespace

Converter::Converter(const AttributeNames& names, const Item& values, std::string_view parameter,
                     Placeholders* used)
    : names_(names),
      values_(values),
      prefix_("Invalid " + std::string(parameter) + ": "),
      used_(used) {}

Status Converter::Error(std::string_view what) const {
  return Status::InvalidArgument(prefix_ + std::string(what));
}

Status Converter::CountOperator() {
  if (++operators_ > kMaxOperators) {
    return Error("The expression contains too many operators; operator count: " +
                 std::to_string(operators_));
  }
  return Status::OK();
}

Status Converter::ConvertPath(const Node& n, Path* out) {
  out->clear();
  for (const auto& child : n.children) {
    PathElement e;
    if (child->is_type<g::index>()) {
      const std::string digits = child->string();
      uint64_t index = 0;
      for (char c : digits) {
        index = index * 10 + static_cast<uint64_t>(c - '0');
        if (index > kMaxListIndex) return Error("List index is too large; index: " + digits);
      }
      e.is_index = true;
      e.index = static_cast<uint32_t>(index);
    } else if (child->is_type<g::name_ref>()) {
      const std::string ref = child->string();
      auto it = names_.find(ref);
      if (it == names_.end()) {
        return Error(
            "An expression attribute name used in the document path is not defined; attribute "
            "name: " +
            ref);
      }
      used_->names.insert(ref);
      e.name = it->second;
    } else {
      e.name = child->string();
      if (IsReservedWord(e.name)) {
        return Error("Attribute name is a reserved keyword; reserved keyword: " + e.name);
      }
    }
    out->push_back(std::move(e));
  }
  return Status::OK();
}

Status Converter::ConvertValue(const Node& n, AttributeValue* out) {
  const std::string ref = n.string();
  auto it = values_.find(ref);
  if (it == values_.end()) {
    return Error(
        "An expression attribute value used in expression is not defined; attribute value: " + ref);
  }
  used_->values.insert(ref);
  *out = it->second;
  return Status::OK();
}

// --- Conditions.

Status Converter::ConditionRoot(const Node& root, Cond* out) {
  Status s = ConditionNode(*root.children.front(), out);
  return s;
}

Status Converter::ConditionNode(const Node& n, Cond* out) {
  if (n.is_type<g::or_cond>() || n.is_type<g::and_cond>()) {
    if (n.children.size() == 1) return ConditionNode(*n.children.front(), out);
    out->kind = n.is_type<g::or_cond>() ? Cond::Kind::kOr : Cond::Kind::kAnd;
    out->children.resize(n.children.size());
    for (size_t i = 0; i < n.children.size(); ++i) {
      if (i > 0) {
        Status s = CountOperator();
        if (!s.ok()) return s;
      }
      Status s = ConditionNode(*n.children[i], &out->children[i]);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }
  if (n.is_type<g::negation>()) {
    Status s = CountOperator();
    if (!s.ok()) return s;
    out->kind = Cond::Kind::kNot;
    out->children.resize(1);
    return ConditionNode(*n.children.front(), &out->children.front());
  }
  return Predicate(n, out);
}

Status Converter::Predicate(const Node& n, Cond* out) {
  const Node& first = *n.children.front();
  if (n.children.size() == 1) {
    if (!first.is_type<g::function>()) {
      // A bare path or value where a condition belongs.
      return Error("Syntax error; token: \"<EOF>\", near: \"" + first.string() + "\"");
    }
    return BooleanFunction(first, out);
  }
  Status s = CountOperator();
  if (!s.ok()) return s;
  const Node& tail = *n.children[1];
  out->operands.resize(1);
  s = ConditionOperand(first, &out->operands[0]);
  if (!s.ok()) return s;
  std::vector<const Node*> rest;
  for (const auto& child : tail.children) {
    if (!child->is_type<g::comparator>()) rest.push_back(child.get());
  }
  if (tail.is_type<g::in_tail>() && rest.size() > kMaxInOperands) {
    return Error("The IN operator is provided with too many operands; number of operands: " +
                 std::to_string(rest.size()));
  }
  for (const Node* r : rest) {
    out->operands.emplace_back();
    s = ConditionOperand(*r, &out->operands.back());
    if (!s.ok()) return s;
  }
  if (tail.is_type<g::compare_tail>()) {
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"=", CompareOp::kEq},  {"<>", CompareOp::kNe}, {"<", CompareOp::kLt},
        {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
    const std::string op = tail.children.front()->string();
    out->kind = Cond::Kind::kCompare;
    for (const auto& [text, value] : kOps) {
      if (text == op) out->op = value;
    }
    const Operand& a = out->operands[0];
    const Operand& b = out->operands[1];
    if (a.kind == Operand::Kind::kPath && b.kind == Operand::Kind::kPath &&
        IsPrefix(a.path, b.path) && a.path.size() == b.path.size()) {
      return Error(
          "The first operand must be distinct from the remaining operands for this operator or "
          "function; operator: " +
          op + ", first operand: " + PathToList(a.path));
    }
    return Status::OK();
  }
  if (tail.is_type<g::between_tail>()) {
    out->kind = Cond::Kind::kBetween;
    const Operand& lo = out->operands[1];
    const Operand& hi = out->operands[2];
    if (lo.kind == Operand::Kind::kValue && hi.kind == Operand::Kind::kValue) {
      std::optional<int> order = CompareSame(lo.value, hi.value);
      if (lo.value.type != hi.value.type) {
        return Error(
            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound "
            "operand: " +
            Literal(lo.value) + ", upper bound operand: " + Literal(hi.value));
      }
      if (order.has_value() && *order > 0) {
        return Error(
            "The BETWEEN operator requires upper bound to be greater than or equal to lower "
            "bound; lower bound operand: " +
            Literal(lo.value) + ", upper bound operand: " + Literal(hi.value));
      }
    }
    return Status::OK();
  }
  out->kind = Cond::Kind::kIn;
  return Status::OK();
}

// Converts a call's name and arguments (condition operands), checking the
// arity the cloud expects for the functions it knows.
Status Converter::FunctionArgs(const Node& n, size_t arity, std::string* name,
                               std::vector<Operand>* args) {
  *name = n.children.front()->string();
  const size_t count = n.children.size() - 1;
  if (count != arity) {
    return Error("Incorrect number of operands for operator or function; operator or function: " +
                 *name + ", number of operands: " + std::to_string(count));
  }
  Status s = CountOperator();
  if (!s.ok()) return s;
  args->resize(count);
  for (size_t i = 0; i < count; ++i) {
    s = ConditionOperand(*n.children[i + 1], &(*args)[i]);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

namespace {

struct FunctionInfo {
  std::string_view name;
  size_t arity;
  enum Use : uint8_t { kBoolean, kValue, kUpdate } use;
};
constexpr FunctionInfo kFunctions[] = {
    {"attribute_exists", 1, FunctionInfo::kBoolean},
    {"attribute_not_exists", 1, FunctionInfo::kBoolean},
    {"attribute_type", 2, FunctionInfo::kBoolean},
    {"begins_with", 2, FunctionInfo::kBoolean},
    {"contains", 2, FunctionInfo::kBoolean},
    {"size", 1, FunctionInfo::kValue},
    {"if_not_exists", 2, FunctionInfo::kUpdate},
    {"list_append", 2, FunctionInfo::kUpdate},
};

const FunctionInfo* FindFunction(std::string_view name) {
  for (const FunctionInfo& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace

Status Converter::BooleanFunction(const Node& n, Cond* out) {
  const std::string name = n.children.front()->string();
  const FunctionInfo* f = FindFunction(name);
  if (f == nullptr) return Error("Invalid function name; function: " + name);
  if (f->use == FunctionInfo::kUpdate) {
    return Error("The function is not allowed in a condition expression; function: " + name);
  }
  if (f->use != FunctionInfo::kBoolean) {
    return Error("The function is not allowed to be used this way in an expression; function: " +
                 name);
  }
  std::string ignored;
  Status s = FunctionArgs(n, f->arity, &ignored, &out->operands);
  if (!s.ok()) return s;
  const Operand& a = out->operands[0];
  const bool needs_path = name.rfind("attribute_", 0) == 0;
  if (needs_path && a.kind != Operand::Kind::kPath) {
    return Error("Operator or function requires a document path; operator or function: " + name);
  }
  if (name == "attribute_exists") {
    out->kind = Cond::Kind::kExists;
  } else if (name == "attribute_not_exists") {
    out->kind = Cond::Kind::kNotExists;
  } else if (name == "attribute_type") {
    out->kind = Cond::Kind::kAttributeType;
    const Operand& t = out->operands[1];
    if (t.kind != Operand::Kind::kValue || t.value.type != Type::kS) {
      return Error(
          "Incorrect operand type for operator or function; operator or function: "
          "attribute_type, operand type: " +
          (t.kind == Operand::Kind::kValue ? TypeName(t.value) : std::string("N")));
    }
    Type parsed;
    if (!ParseAttributeType(t.value.scalar, &parsed)) {
      return Error("Invalid attribute type name found; type: " + t.value.scalar +
                   ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
    }
  } else {
    out->kind = name == "begins_with" ? Cond::Kind::kBeginsWith : Cond::Kind::kContains;
    if (name == "begins_with") {
      for (const Operand& o : out->operands) {
        if (o.kind == Operand::Kind::kValue && o.value.type != Type::kS &&
            o.value.type != Type::kB) {
          return Error(
              "Incorrect operand type for operator or function; operator or function: "
              "begins_with, operand type: " +
              TypeName(o.value));
        }
      }
    }
  }
  return Status::OK();
}

Status Converter::ConditionOperand(const Node& n, Operand* out) {
  if (n.is_type<g::path>()) {
    out->kind = Operand::Kind::kPath;
    return ConvertPath(n, &out->path);
  }
  if (n.is_type<g::value_ref>()) {
    out->kind = Operand::Kind::kValue;
    return ConvertValue(n, &out->value);
  }
  const std::string name = n.children.front()->string();
  const FunctionInfo* f = FindFunction(name);
  if (f == nullptr) return Error("Invalid function name; function: " + name);
  if (f->use == FunctionInfo::kUpdate) {
    return Error("The function is not allowed in a condition expression; function: " + name);
  }
  if (f->use != FunctionInfo::kValue) {
    return Error("The function is not allowed to be used this way in an expression; function: " +
                 name);
  }
  std::vector<Operand> args;
  std::string ignored;
  Status s = FunctionArgs(n, f->arity, &ignored, &args);
  if (!s.ok()) return s;
  if (args[0].kind != Operand::Kind::kPath) {
    return Error("Operator or function requires a document path; operator or function: size");
  }
  out->kind = Operand::Kind::kSize;
  out->path = std::move(args[0].path);
  return Status::OK();
}

// --- Updates.

Status Converter::UpdateRoot(const Node& root, std::vector<UpdateAction>* out) {
  std::set<std::string_view> seen;
  for (const auto& clause : root.children) {
    std::string_view keyword = clause->is_type<g::set_clause>()      ? "SET"
                               : clause->is_type<g::remove_clause>() ? "REMOVE"
                               : clause->is_type<g::add_clause>()    ? "ADD"
                                                                     : "DELETE";
    if (!seen.insert(keyword).second) {
      return Error("The \"" + std::string(keyword) +
                   "\" section can only be used once in an update expression;");
    }
    for (const auto& action : clause->children) {
      UpdateAction a;
      Status s;
      if (keyword == "SET") {
        s = SetAction(*action, &a);
      } else if (keyword == "REMOVE") {
        a.kind = UpdateAction::Kind::kRemove;
        s = ConvertPath(*action, &a.path);
      } else {
        s = ValueAction(
            *action, keyword == "ADD" ? UpdateAction::Kind::kAdd : UpdateAction::Kind::kDelete, &a);
      }
      if (!s.ok()) return s;
      out->push_back(std::move(a));
    }
  }
  std::vector<const Path*> paths;
  for (const UpdateAction& a : *out) paths.push_back(&a.path);
  return CheckOverlaps(paths);
}

Status Converter::SetAction(const Node& n, UpdateAction* out) {
  out->kind = UpdateAction::Kind::kSet;
  Status s = ConvertPath(*n.children[0], &out->path);
  if (!s.ok()) return s;
  const Node& value = *n.children[1];
  if (value.children.size() == 1) return UpdateOperand(*value.children[0], &out->value);
  s = CountOperator();
  if (!s.ok()) return s;
  const std::string op = value.children[1]->string();
  out->value.kind = op == "+" ? Operand::Kind::kPlus : Operand::Kind::kMinus;
  out->value.args.resize(2);
  for (size_t i = 0; i < 2; ++i) {
    s = UpdateOperand(*value.children[i == 0 ? 0 : 2], &out->value.args[i]);
    if (!s.ok()) return s;
    const Operand& arg = out->value.args[i];
    if (arg.kind == Operand::Kind::kValue && arg.value.type != Type::kN) {
      return Error("Incorrect operand type for operator or function; operator or function: " + op +
                   ", operand type: " + TypeName(arg.value));
    }
  }
  return Status::OK();
}

Status Converter::UpdateOperand(const Node& n, Operand* out) {
  if (n.is_type<g::path>()) {
    out->kind = Operand::Kind::kPath;
    return ConvertPath(n, &out->path);
  }
  if (n.is_type<g::value_ref>()) {
    out->kind = Operand::Kind::kValue;
    return ConvertValue(n, &out->value);
  }
  const std::string name = n.children.front()->string();
  const FunctionInfo* f = FindFunction(name);
  if (f == nullptr) return Error("Invalid function name; function: " + name);
  if (f->use != FunctionInfo::kUpdate) {
    return Error("The function is not allowed in an update expression; function: " + name);
  }
  const size_t count = n.children.size() - 1;
  if (count != f->arity) {
    return Error("Incorrect number of operands for operator or function; operator or function: " +
                 name + ", number of operands: " + std::to_string(count));
  }
  Status s = CountOperator();
  if (!s.ok()) return s;
  out->args.resize(count);
  for (size_t i = 0; i < count; ++i) {
    s = UpdateOperand(*n.children[i + 1], &out->args[i]);
    if (!s.ok()) return s;
  }
  if (name == "if_not_exists") {
    if (out->args[0].kind != Operand::Kind::kPath) {
      return Error(
          "Operator or function requires a document path; operator or function: if_not_exists");
    }
    out->kind = Operand::Kind::kIfNotExists;
    out->path = std::move(out->args[0].path);
    out->args.erase(out->args.begin());
    return Status::OK();
  }
  out->kind = Operand::Kind::kListAppend;
  for (const Operand& arg : out->args) {
    if (arg.kind == Operand::Kind::kValue && arg.value.type != Type::kL) {
      return Error(
          "Incorrect operand type for operator or function; operator or function: list_append, "
          "operand type: " +
          TypeName(arg.value));
    }
  }
  return Status::OK();
}

Status Converter::ValueAction(const Node& n, UpdateAction::Kind kind, UpdateAction* out) {
  out->kind = kind;
  Status s = ConvertPath(*n.children[0], &out->path);
  if (!s.ok()) return s;
  out->value.kind = Operand::Kind::kValue;
  s = ConvertValue(*n.children[1], &out->value.value);
  if (!s.ok()) return s;
  const Type t = out->value.value.type;
  const bool ok = kind == UpdateAction::Kind::kAdd ? (t == Type::kN || IsSet(t)) : IsSet(t);
  if (!ok) {
    return Error(std::string("Incorrect operand type for operator or function; operator: ") +
                 (kind == UpdateAction::Kind::kAdd ? "ADD" : "DELETE") +
                 ", operand type: " + TypeName(out->value.value));
  }
  return Status::OK();
}

Status Converter::CheckOverlaps(const std::vector<const Path*>& paths) const {
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = i + 1; j < paths.size(); ++j) {
      if (IsPrefix(*paths[i], *paths[j]) || IsPrefix(*paths[j], *paths[i])) {
        return Error(
            "Two document paths overlap with each other; must remove or rewrite one of these "
            "paths; path one: " +
            PathToList(*paths[i]) + ", path two: " + PathToList(*paths[j]));
      }
    }
  }
  return Status::OK();
}

// --- Projections.

Status Converter::ProjectionRoot(const Node& root, std::vector<Path>* out) {
  out->clear();
  out->resize(root.children.size());
  for (size_t i = 0; i < root.children.size(); ++i) {
    Status s = ConvertPath(*root.children[i], &(*out)[i]);
    if (!s.ok()) return s;
  }
  std::vector<const Path*> paths;
  for (const Path& p : *out) paths.push_back(&p);
  return CheckOverlaps(paths);
}

std::string PathToList(const Path& path) {
  std::string out = "[";
  for (size_t i = 0; i < path.size(); ++i) {
    if (i > 0) out += ", ";
    out += path[i].is_index ? "[" + std::to_string(path[i].index) + "]" : path[i].name;
  }
  return out + "]";
}

}  // namespace runnel::items::expr
