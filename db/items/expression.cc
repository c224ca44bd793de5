// Copyright 2026 The runnel Authors.
//
// Expressions: the PEGTL parse (expression_grammar.h), then one pass over
// the parse tree that resolves placeholders, checks what the cloud checks
// before reading the item (reserved words, functions and their arities,
// operand types of literal values, overlapping update paths, limits) and
// builds the evaluable form (expression_ast.h). Evaluation lives in
// expression_eval.cc.

#include "db/items/expression.h"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

#include "db/items/expression_ast.h"
#include "db/items/expression_convert.h"
#include "db/items/expression_grammar.h"

namespace runnel::items {

struct ExpressionContext::Rep {
  const AttributeNames* names;
  const Item* values;
  expr::Placeholders used;
};

namespace {

namespace pegtl = tao::pegtl;
using expr::Converter;
using expr::Node;

constexpr size_t kMaxExpressionBytes = 4096;

class ConditionImpl final : public Condition {
 public:
  explicit ConditionImpl(expr::Cond root) : root_(std::move(root)) { AddNames(root_); }
  bool Evaluate(const Item& item) const override { return expr::Evaluate(root_, item); }
  const std::set<std::string>& TopLevelNames() const override { return names_; }

 private:
  void AddNames(const expr::Operand& o) {
    if (!o.path.empty()) names_.insert(o.path.front().name);
    for (const expr::Operand& arg : o.args) AddNames(arg);
  }
  void AddNames(const expr::Cond& c) {
    for (const expr::Cond& child : c.children) AddNames(child);
    for (const expr::Operand& o : c.operands) AddNames(o);
  }

  const expr::Cond root_;
  std::set<std::string> names_;
};

class UpdateImpl final : public Update {
 public:
  explicit UpdateImpl(std::vector<expr::UpdateAction> actions) : actions_(std::move(actions)) {
    for (const expr::UpdateAction& a : actions_) names_.insert(a.path.front().name);
  }
  Status Apply(Item* item, std::set<std::string>* updated) const override {
    if (updated != nullptr) updated->insert(names_.begin(), names_.end());
    return expr::ApplyActions(actions_, item);
  }
  const std::set<std::string>& TopLevelNames() const override { return names_; }

 private:
  const std::vector<expr::UpdateAction> actions_;
  std::set<std::string> names_;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '#' || c == ':';
}

// The extent of the token starting at `pos` (after whitespace), for error
// messages only: a name or placeholder, a two-character comparator, or one
// character. Returns [begin, end); begin == end at the end of the text.
std::pair<size_t, size_t> TokenAt(std::string_view text, size_t pos) {
  while (pos < text.size() && IsSpace(text[pos])) ++pos;
  if (pos >= text.size()) return {text.size(), text.size()};
  size_t end = pos + 1;
  if (IsIdentChar(text[pos])) {
    while (end < text.size() && IsIdentChar(text[end])) ++end;
  } else if (end < text.size() && (text.substr(pos, 2) == "<=" || text.substr(pos, 2) == ">=" ||
                                   text.substr(pos, 2) == "<>")) {
    ++end;
  }
  return {pos, end};
}

// The start of the token that ends before `pos`.
size_t PreviousTokenStart(std::string_view text, size_t pos) {
  while (pos > 0 && IsSpace(text[pos - 1])) --pos;
  if (pos == 0) return 0;
  size_t begin = pos - 1;
  if (IsIdentChar(text[begin])) {
    while (begin > 0 && IsIdentChar(text[begin - 1])) --begin;
  }
  return begin;
}

// The cloud's syntax error: the offending token and the text around it.
std::string SyntaxError(std::string_view text, size_t pos) {
  auto [begin, end] = TokenAt(text, pos);
  std::string token = begin == end ? "<EOF>" : std::string(text.substr(begin, end - begin));
  size_t near_begin = PreviousTokenStart(text, begin);
  size_t near_end = begin == end ? end : TokenAt(text, end).second;
  return "Syntax error; token: \"" + token + "\", near: \"" +
         std::string(text.substr(near_begin, near_end - near_begin)) + "\"";
}

// Thrown by the depth guard: deeply nested input would otherwise recurse
// without bound.
struct TooDeep : std::exception {};

template <typename Rule>
struct guarded_control : grammar::control<Rule> {
  template <typename ParseInput, typename... States>
  static void start(const ParseInput& in, grammar::Furthest& furthest, States&&... st) {
    grammar::control<Rule>::start(in, furthest, st...);
    if (++furthest.depth > grammar::kMaxRuleDepth) throw TooDeep();
  }
  template <typename ParseInput, typename... States>
  static void success(const ParseInput& /*in*/, grammar::Furthest& furthest, States&&... /*st*/) {
    --furthest.depth;
  }
  template <typename ParseInput, typename... States>
  static void failure(const ParseInput& /*in*/, grammar::Furthest& furthest, States&&... /*st*/) {
    --furthest.depth;
  }
};

// Parses `text` with `Rule` into *root; InvalidArgument ("Invalid
// <parameter>: ...") for an empty, oversized or malformed expression.
template <typename Rule>
Status ParseTree(std::string_view text, std::string_view parameter, std::unique_ptr<Node>* root) {
  const std::string prefix = "Invalid " + std::string(parameter) + ": ";
  if (text.size() > kMaxExpressionBytes) {
    return Status::InvalidArgument(
        prefix + "Expression size has exceeded the maximum allowed size; expression size: " +
        std::to_string(text.size()));
  }
  if (std::all_of(text.begin(), text.end(), IsSpace)) {
    return Status::InvalidArgument(prefix + "The expression can not be empty;");
  }
  pegtl::memory_input<pegtl::tracking_mode::lazy> in(text.data(), text.size(), "");
  grammar::Furthest furthest;
  try {
    *root = pegtl::parse_tree::parse<Rule, grammar::selector, pegtl::nothing, guarded_control>(
        in, furthest);
  } catch (const TooDeep&) {
    return Status::InvalidArgument(prefix + "The expression is nested too deeply;");
  }
  if (*root == nullptr) {
    const size_t pos = furthest.at == nullptr ? 0 : static_cast<size_t>(furthest.at - text.data());
    return Status::InvalidArgument(prefix + SyntaxError(text, pos));
  }
  return Status::OK();
}

}  // namespace

std::string PathToString(const Path& path) {
  std::string out;
  for (const PathElement& e : path) {
    if (e.is_index) {
      out += "[" + std::to_string(e.index) + "]";
    } else {
      if (!out.empty()) out += ".";
      out += e.name;
    }
  }
  return out;
}

ExpressionContext::ExpressionContext(const AttributeNames& names, const Item& values)
    : rep_(std::make_shared<Rep>()) {
  rep_->names = &names;
  rep_->values = &values;
}

Status ExpressionContext::ParseCondition(std::string_view text, std::string_view parameter,
                                         std::shared_ptr<const Condition>* out) {
  std::unique_ptr<Node> root;
  Status s = ParseTree<grammar::condition>(text, parameter, &root);
  if (!s.ok()) return s;
  Converter c(*rep_->names, *rep_->values, parameter, &rep_->used);
  expr::Cond cond;
  s = c.ConditionRoot(*root, &cond);
  if (!s.ok()) return s;
  *out = std::make_shared<ConditionImpl>(std::move(cond));
  return Status::OK();
}

Status ExpressionContext::ParseUpdate(std::string_view text, std::shared_ptr<const Update>* out) {
  std::unique_ptr<Node> root;
  Status s = ParseTree<grammar::update>(text, "UpdateExpression", &root);
  if (!s.ok()) return s;
  Converter c(*rep_->names, *rep_->values, "UpdateExpression", &rep_->used);
  std::vector<expr::UpdateAction> actions;
  s = c.UpdateRoot(*root, &actions);
  if (!s.ok()) return s;
  *out = std::make_shared<UpdateImpl>(std::move(actions));
  return Status::OK();
}

Status ExpressionContext::ParseProjection(std::string_view text, std::vector<Path>* out) {
  std::unique_ptr<Node> root;
  Status s = ParseTree<grammar::projection>(text, "ProjectionExpression", &root);
  if (!s.ok()) return s;
  Converter c(*rep_->names, *rep_->values, "ProjectionExpression", &rep_->used);
  return c.ProjectionRoot(*root, out);
}

Status ExpressionContext::ParseKeyCondition(std::string_view text, const KeyShape& shape,
                                            KeyCondition* out) {
  std::unique_ptr<Node> root;
  Status s = ParseTree<grammar::condition>(text, "KeyConditionExpression", &root);
  if (!s.ok()) return s;
  Converter c(*rep_->names, *rep_->values, "KeyConditionExpression", &rep_->used);
  expr::Cond cond;
  s = c.ConditionRoot(*root, &cond);
  if (!s.ok()) return s;
  return expr::ToKeyCondition(cond, shape, out);
}

Status ExpressionContext::CheckAllUsed() const {
  auto unused = [](const auto& defined, const std::set<std::string>& used) {
    std::string keys;
    for (const auto& [key, value] : defined) {
      if (used.count(key) != 0) continue;
      keys += (keys.empty() ? "" : ", ") + key;
    }
    return keys;
  };
  std::string names = unused(*rep_->names, rep_->used.names);
  if (!names.empty()) {
    return Status::InvalidArgument(
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + names + "}");
  }
  std::string values = unused(*rep_->values, rep_->used.values);
  if (!values.empty()) {
    return Status::InvalidArgument(
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {" + values +
        "}");
  }
  return Status::OK();
}

}  // namespace runnel::items
