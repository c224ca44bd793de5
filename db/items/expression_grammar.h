// Copyright 2026 The runnel Authors.
//
// The PEGTL grammars of DynamoDB's expressions (condition/filter, update,
// projection; key conditions use the condition grammar). Parsing builds a
// parse tree of the selected rules below; expression.cc turns it into the
// evaluable form and applies the cloud's semantic checks (placeholders,
// reserved words, function names and arities).
//
// Precedence, loosest first: OR, AND, NOT, then a predicate (a comparison,
// BETWEEN, IN or a function call). Keywords are case-insensitive; function
// names are not. Whitespace is space, tab, CR and LF.

#ifndef RUNNEL_DB_ITEMS_EXPRESSION_GRAMMAR_H_
#define RUNNEL_DB_ITEMS_EXPRESSION_GRAMMAR_H_

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/parse_tree.hpp>

namespace runnel::items::grammar {

namespace pegtl = tao::pegtl;
using pegtl::alpha;
using pegtl::digit;
using pegtl::eof;
using pegtl::istring;
using pegtl::list;
using pegtl::not_at;
using pegtl::one;
using pegtl::opt;
using pegtl::plus;
using pegtl::ranges;
using pegtl::seq;
using pegtl::sor;
using pegtl::star;
using pegtl::string;

struct sp : star<one<' ', '\t', '\r', '\n'>> {};
struct ident_char : ranges<'a', 'z', 'A', 'Z', '0', '9', '_'> {};
template <char... Cs>
struct keyword : seq<istring<Cs...>, not_at<ident_char>> {};

struct kw_and : keyword<'A', 'N', 'D'> {};
struct kw_or : keyword<'O', 'R'> {};
struct kw_not : keyword<'N', 'O', 'T'> {};
struct kw_between : keyword<'B', 'E', 'T', 'W', 'E', 'E', 'N'> {};
struct kw_in : keyword<'I', 'N'> {};
struct kw_set : keyword<'S', 'E', 'T'> {};
struct kw_remove : keyword<'R', 'E', 'M', 'O', 'V', 'E'> {};
struct kw_add : keyword<'A', 'D', 'D'> {};
struct kw_delete : keyword<'D', 'E', 'L', 'E', 'T', 'E'> {};

struct comma : seq<sp, one<','>, sp> {};

// --- Operands.
struct name : seq<alpha, star<ident_char>> {};          // a bare attribute name
struct name_ref : seq<one<'#'>, plus<ident_char>> {};   // #placeholder
struct value_ref : seq<one<':'>, plus<ident_char>> {};  // :placeholder
struct index : plus<digit> {};
struct path_name : sor<name_ref, name> {};
struct path_index : seq<one<'['>, sp, index, sp, one<']'>> {};
struct path : seq<path_name, star<sp, sor<path_index, seq<one<'.'>, sp, path_name>>>> {};

struct operand;
struct function_name : seq<sor<alpha, one<'_'>>, star<ident_char>> {};
struct function : seq<function_name, sp, one<'('>, sp, list<operand, comma>, sp, one<')'>> {};
struct paren_operand : seq<one<'('>, sp, operand, sp, one<')'>> {};
struct operand : sor<function, value_ref, path, paren_operand> {};

// --- Conditions.
struct comparator
    : sor<string<'<', '>'>, string<'<', '='>, string<'>', '='>, one<'='>, one<'<'>, one<'>'>> {};
struct compare_tail : seq<comparator, sp, operand> {};
struct between_tail : seq<kw_between, sp, operand, sp, kw_and, sp, operand> {};
struct in_tail : seq<kw_in, sp, one<'('>, sp, list<operand, comma>, sp, one<')'>> {};
// A bare operand (no tail) is valid only for a boolean function; the
// conversion checks that.
struct predicate : seq<operand, opt<sp, sor<compare_tail, between_tail, in_tail>>> {};

struct or_cond;
struct paren_cond : seq<one<'('>, sp, or_cond, sp, one<')'>> {};
struct primary : sor<predicate, paren_cond> {};
struct not_cond;
struct negation : seq<kw_not, sp, not_cond> {};
struct not_cond : sor<negation, primary> {};
struct and_cond : seq<not_cond, star<sp, kw_and, sp, not_cond>> {};
struct or_cond : seq<and_cond, star<sp, kw_or, sp, and_cond>> {};
struct condition : seq<sp, or_cond, sp, eof> {};

// --- Updates.
struct update_operand : sor<function, value_ref, path> {};
struct arith_op : one<'+', '-'> {};
struct set_value : seq<update_operand, opt<sp, arith_op, sp, update_operand>> {};
struct set_action : seq<path, sp, one<'='>, sp, set_value> {};
struct path_value_action : seq<path, sp, value_ref> {};
struct set_clause : seq<kw_set, sp, list<set_action, comma>> {};
struct remove_clause : seq<kw_remove, sp, list<path, comma>> {};
struct add_clause : seq<kw_add, sp, list<path_value_action, comma>> {};
struct delete_clause : seq<kw_delete, sp, list<path_value_action, comma>> {};
struct clause : sor<set_clause, remove_clause, add_clause, delete_clause> {};
struct update : seq<sp, clause, star<sp, clause>, sp, eof> {};

// --- Projections.
struct projection : seq<sp, list<path, comma>, sp, eof> {};

// The rules that become parse tree nodes; the rest is structure.
template <typename Rule>
using selector = pegtl::parse_tree::selector<
    Rule,
    pegtl::parse_tree::store_content::on<name, name_ref, value_ref, index, path, function_name,
                                         function, comparator, arith_op>,
    pegtl::parse_tree::remove_content::on<
        compare_tail, between_tail, in_tail, predicate, negation, and_cond, or_cond, set_value,
        set_action, path_value_action, set_clause, remove_clause, add_clause, delete_clause>>;

// The furthest position any rule started at: where a failed parse stopped
// making sense, for the cloud's "Syntax error; token: ..." message.
struct Furthest {
  const char* at = nullptr;
  int depth = 0;  // rules currently being matched (a recursion guard)
};
// Deep enough for ~100 levels of parentheses; bounds the parser's stack.
inline constexpr int kMaxRuleDepth = 1500;

template <typename Rule>
struct control : pegtl::normal<Rule> {
  template <typename ParseInput, typename... States>
  static void start(const ParseInput& in, Furthest& furthest, States&&... /*unused*/) {
    if (furthest.at == nullptr || in.current() > furthest.at) furthest.at = in.current();
  }
};

}  // namespace runnel::items::grammar

#endif  // RUNNEL_DB_ITEMS_EXPRESSION_GRAMMAR_H_
