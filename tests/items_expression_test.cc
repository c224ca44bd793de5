// Copyright 2026 The runnel Authors.
//
// DynamoDB expressions (db/items/expression.h): conditions and filters,
// updates, projections, key conditions; placeholders, reserved words,
// limits, and the cloud's error messages.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "db/items/expression.h"
#include "runnel/item.h"

namespace runnel {
// Readable values in failure messages.
void PrintTo(const AttributeValue& v, std::ostream* os) { *os << AttributeValueToJson(v); }
}  // namespace runnel

namespace runnel::items {
namespace {

using ::testing::HasSubstr;
using V = AttributeValue;

// A sample item with every type.
Item Sample() {
  return Item{
      {"pk", V::S("p1")},
      {"s", V::S("hello world")},
      {"n", V::N("10")},
      {"b", V::B(std::string("\x01\x02\x03", 3))},
      {"t", V::Bool(true)},
      {"z", V::Null()},
      {"ss", V::SS({"a", "b"})},
      {"ns", V::NS({"1", "2.5"})},
      {"bs", V::BS({"x"})},
      {"l", V::L({V::S("a"), V::N("2"), V::M({{"c", V::S("deep")}})})},
      {"m", V::M({{"k", V::S("v")}, {"inr", V::M({{"x", V::N("1")}})}})},
  };
}

Item Values() {
  return Item{{":s", V::S("hello world")}, {":hello", V::S("hello")},
              {":n", V::N("10.0")},        {":n5", V::N("5")},
              {":n20", V::N("20")},        {":b", V::B(std::string("\x01\x02", 2))},
              {":ss", V::SS({"b", "a"})},  {":a", V::S("a")},
              {":one", V::N("1")},         {":l", V::L({V::S("z")})},
              {":tS", V::S("S")},          {":tN", V::S("N")},
              {":tM", V::S("M")}};
}

// "true"/"false", or the error.
std::string Eval(std::string_view expression, const Item& item = Sample(),
                 const AttributeNames& names = {}, const Item& values = Values()) {
  ExpressionContext ctx(names, values);
  std::shared_ptr<const Condition> c;
  Status s = ctx.ParseCondition(expression, "ConditionExpression", &c);
  if (!s.ok()) return s.ToString();
  return c->Evaluate(item) ? "true" : "false";
}

// Applies an update to `item`; "" on success, else the error.
std::string Apply(std::string_view expression, Item* item, const Item& values = Values(),
                  const AttributeNames& names = {}, std::set<std::string>* updated = nullptr) {
  ExpressionContext ctx(names, values);
  std::shared_ptr<const Update> u;
  Status s = ctx.ParseUpdate(expression, &u);
  if (!s.ok()) return s.ToString();
  std::set<std::string> ignored;
  s = u->Apply(item, updated != nullptr ? updated : &ignored);
  return s.ok() ? "" : s.ToString();
}

TEST(ItemsExpression, Comparisons) {
  EXPECT_EQ(Eval("s = :s"), "true");
  EXPECT_EQ(Eval("n = :n"), "true");  // 10 == 10.0 by value
  EXPECT_EQ(Eval("n <> :n"), "false");
  EXPECT_EQ(Eval("n < :n20"), "true");
  EXPECT_EQ(Eval("n <= :n"), "true");
  EXPECT_EQ(Eval("n > :n5"), "true");
  EXPECT_EQ(Eval("n >= :n20"), "false");
  EXPECT_EQ(Eval("s > :hello"), "true");  // bytewise
  EXPECT_EQ(Eval("b > :b"), "true");
  EXPECT_EQ(Eval("ss = :ss"), "true");  // sets regardless of order
  EXPECT_EQ(Eval(":n5 < n"), "true");
  EXPECT_EQ(Eval("n = m.inr.x"), "false");
  EXPECT_EQ(Eval("m.inr.x = :one"), "true");
}

TEST(ItemsExpression, NumbersCompareByValueNotText) {
  Item item{{"n", V::N("9")}};
  Item values{{":v", V::N("10")}, {":neg", V::N("-1.5")}, {":neg2", V::N("-1")}};
  EXPECT_EQ(Eval("n < :v", item, {}, values), "true");
  EXPECT_EQ(Eval(":neg < :neg2", item, {}, values), "true");
}

TEST(ItemsExpression, TypeMismatchesAndMissingAttributesAreFalse) {
  EXPECT_EQ(Eval("s = :n"), "false");
  EXPECT_EQ(Eval("s < :n"), "false");
  EXPECT_EQ(Eval("n > :s"), "false");
  EXPECT_EQ(Eval("nope = :s"), "false");
  EXPECT_EQ(Eval("nope < :n"), "false");
  EXPECT_EQ(Eval("nope BETWEEN :n5 AND :n20"), "false");
  EXPECT_EQ(Eval("nope IN (:s, :n)"), "false");
  EXPECT_EQ(Eval("begins_with(nope, :hello)"), "false");
  EXPECT_EQ(Eval("contains(n, :a)"), "false");
  EXPECT_EQ(Eval("size(nope) > :one"), "false");
  EXPECT_EQ(Eval("size(n) > :one"), "false");  // numbers have no size
  EXPECT_EQ(Eval("m.k.deeper = :s"), "false");
  EXPECT_EQ(Eval("l[9] = :s"), "false");
  // Not-equal holds for a nope attribute and for another type, as in the cloud.
  EXPECT_EQ(Eval("nope <> :s"), "true");
  EXPECT_EQ(Eval("s <> :n"), "true");
}

TEST(ItemsExpression, BetweenAndIn) {
  EXPECT_EQ(Eval("n BETWEEN :n5 AND :n20"), "true");
  EXPECT_EQ(Eval("n BETWEEN :n AND :n"), "true");
  EXPECT_EQ(Eval("n between :one AND :n5"), "false");
  EXPECT_EQ(Eval("n IN (:one, :n)"), "true");
  EXPECT_EQ(Eval("n IN (:one, :n5)"), "false");
  EXPECT_EQ(Eval("s in (:s)"), "true");
  EXPECT_THAT(Eval("n BETWEEN :n20 AND :n5"),
              HasSubstr("The BETWEEN operator requires upper bound to be greater than or equal to "
                        "lower bound"));
  EXPECT_THAT(Eval("n BETWEEN :n5 AND :s"),
              HasSubstr("The BETWEEN operator requires same data type for lower and upper bounds"));
}

TEST(ItemsExpression, InTakesAtMostOneHundredOperands) {
  Item values;
  std::string list;
  for (int i = 0; i < 101; ++i) {
    values[":v" + std::to_string(i)] = V::N(std::to_string(i));
  }
  for (int i = 0; i < 100; ++i) list += (i ? ", :v" : ":v") + std::to_string(i);
  EXPECT_EQ(Eval("n IN (" + list + ")", Sample(), {}, values), "true");
  EXPECT_THAT(Eval("n IN (" + list + ", :v100)", Sample(), {}, values),
              HasSubstr("The IN operator is provided with too many operands; number of operands: "
                        "101"));
}

TEST(ItemsExpression, Functions) {
  EXPECT_EQ(Eval("attribute_exists(s)"), "true");
  EXPECT_EQ(Eval("attribute_exists(nope)"), "false");
  EXPECT_EQ(Eval("attribute_not_exists(nope)"), "true");
  EXPECT_EQ(Eval("attribute_exists(m.inr.x)"), "true");
  EXPECT_EQ(Eval("attribute_exists(l[2].c)"), "true");
  EXPECT_EQ(Eval("attribute_not_exists(pk)", Item()), "true");
  EXPECT_EQ(Eval("attribute_type(s, :tS)"), "true");
  EXPECT_EQ(Eval("attribute_type(n, :tN)"), "true");
  EXPECT_EQ(Eval("attribute_type(n, :tS)"), "false");
  EXPECT_EQ(Eval("attribute_type(m, :tM)"), "true");
  EXPECT_EQ(Eval("begins_with(s, :hello)"), "true");
  EXPECT_EQ(Eval("begins_with(s, :a)"), "false");
  EXPECT_EQ(Eval("begins_with(b, :b)"), "true");
  EXPECT_EQ(Eval("contains(s, :hello)"), "true");
  EXPECT_EQ(Eval("contains(ss, :a)"), "true");
  EXPECT_EQ(Eval("contains(ns, :one)"), "true");
  EXPECT_EQ(Eval("contains(ns, :n5)"), "false");
  EXPECT_EQ(Eval("contains(l, :a)"), "true");
  EXPECT_EQ(Eval("contains(l, :hello)"), "false");
  EXPECT_EQ(Eval("contains(ss, :one)"), "false");
}

TEST(ItemsExpression, SizeIsAnOperand) {
  Item values{{":v", V::N("11")}, {":two", V::N("2")}, {":three", V::N("3")}};
  EXPECT_EQ(Eval("size(s) = :v", Sample(), {}, values), "true");
  EXPECT_EQ(Eval("size(ss) = :two", Sample(), {}, values), "true");
  EXPECT_EQ(Eval("size(l) = :three", Sample(), {}, values), "true");
  EXPECT_EQ(Eval("size(m) = :two", Sample(), {}, values), "true");
  EXPECT_EQ(Eval("size(b) = :three", Sample(), {}, values), "true");
  EXPECT_EQ(Eval("size(m.inr) < :two", Sample(), {}, values), "true");
  // The cloud counts UTF-16 code units: "é𝄞" is 3.
  Item unicode{{"u", V::S("\xC3\xA9\xF0\x9D\x84\x9E")}};
  EXPECT_EQ(Eval("size(u) = :three", unicode, {}, values), "true");
}

TEST(ItemsExpression, Precedence) {
  // NOT binds tighter than AND, AND tighter than OR.
  EXPECT_EQ(Eval("n = :one OR s = :s AND n = :n"), "true");
  EXPECT_EQ(Eval("n = :n OR s = :a AND n = :one"), "true");
  EXPECT_EQ(Eval("(n = :n OR s = :a) AND n = :one"), "false");
  EXPECT_EQ(Eval("NOT n = :one AND s = :s"), "true");
  EXPECT_EQ(Eval("NOT (n = :n AND s = :a)"), "true");
  EXPECT_EQ(Eval("NOT n = :n OR s = :s"), "true");
  EXPECT_EQ(Eval("NOT NOT attribute_exists(s)"), "true");
  EXPECT_EQ(Eval("not attribute_exists(s) or attribute_exists(n)"), "true");
  EXPECT_EQ(Eval("(n = :n) AND ((s = :s) OR (n) = :one)"), "true");
  EXPECT_THAT(Eval("((n = :n))"), HasSubstr("The expression has redundant parentheses;"));
  EXPECT_THAT(Eval("((n)) = :n"), HasSubstr("The expression has redundant parentheses;"));
  EXPECT_EQ(Eval("(attribute_exists(s)) AND (n) = :n"), "true");
}

TEST(ItemsExpression, NestedPathsAndPlaceholders) {
  AttributeNames names{{"#m", "m"}, {"#dot", "a.b"}, {"#size", "size"}};
  Item item = Sample();
  item["a.b"] = V::S("literal dot");
  item["size"] = V::N("3");
  Item values = Values();
  values[":lit"] = V::S("literal dot");
  values[":three"] = V::N("3");
  EXPECT_EQ(Eval("#m.inr.x = :one", item, names, values), "true");
  EXPECT_EQ(Eval("#dot = :lit", item, names, values), "true");  // one name, not a path
  EXPECT_EQ(Eval("#size = :three", item, names, values), "true");
  EXPECT_EQ(Eval("l[1] = :two", item, {}, Item{{":two", V::N("2")}}), "true");
  EXPECT_EQ(Eval("l [ 2 ] . c = :d", item, {}, Item{{":d", V::S("deep")}}), "true");
}

TEST(ItemsExpression, ReservedWordsNeedPlaceholders) {
  EXPECT_THAT(Eval("size = :one"),
              HasSubstr("Invalid ConditionExpression: Attribute name is a reserved keyword; "
                        "reserved keyword: size"));
  EXPECT_THAT(Eval("m.Status = :one"), HasSubstr("reserved keyword: Status"));
  EXPECT_THAT(Eval("attribute_exists(name)"), HasSubstr("reserved keyword: name"));
  EXPECT_EQ(Eval("attribute_exists(names1)"), "false");  // only whole words
}

TEST(ItemsExpression, UndefinedAndUnusedPlaceholders) {
  EXPECT_THAT(Eval("#nope = :s"),
              HasSubstr("Invalid ConditionExpression: An expression attribute name used in the "
                        "document path is not defined; attribute name: #nope"));
  EXPECT_THAT(Eval("s = :nope"),
              HasSubstr("An expression attribute value used in expression is not defined; "
                        "attribute value: :nope"));

  AttributeNames names{{"#a", "s"}, {"#unused", "x"}, {"#zz", "y"}};
  Item values{{":v", V::S("x")}, {":w", V::S("y")}};
  ExpressionContext ctx(names, values);
  std::shared_ptr<const Condition> c;
  ASSERT_TRUE(ctx.ParseCondition("#a = :v", "ConditionExpression", &c).ok());
  EXPECT_THAT(ctx.CheckAllUsed().ToString(),
              HasSubstr("Value provided in ExpressionAttributeNames unused in expressions: keys: "
                        "{#unused, #zz}"));

  // Names and values shared by several expressions of one request.
  AttributeNames names2{{"#a", "s"}};
  ExpressionContext ctx2(names2, values);
  ASSERT_TRUE(ctx2.ParseCondition("#a = :v", "ConditionExpression", &c).ok());
  EXPECT_THAT(ctx2.CheckAllUsed().ToString(),
              HasSubstr("Value provided in ExpressionAttributeValues unused in expressions: keys: "
                        "{:w}"));
  std::shared_ptr<const Update> u;
  ASSERT_TRUE(ctx2.ParseUpdate("SET x = :w", &u).ok());
  EXPECT_TRUE(ctx2.CheckAllUsed().ok());
}

TEST(ItemsExpression, SyntaxErrors) {
  EXPECT_THAT(Eval("s = = :s"), HasSubstr("Invalid ConditionExpression: Syntax error; token: "
                                          "\"=\", near: \"= = :s\""));
  EXPECT_THAT(Eval("s ="), HasSubstr("Syntax error; token: \"<EOF>\", near: \"=\""));
  EXPECT_THAT(Eval("s = :s AND"), HasSubstr("Syntax error; token: \"<EOF>\""));
  EXPECT_THAT(Eval("s = :s extra"), HasSubstr("Syntax error; token: \"extra\""));
  EXPECT_THAT(Eval("(s = :s"), HasSubstr("Syntax error"));
  EXPECT_THAT(Eval("s"), HasSubstr("Syntax error"));
  EXPECT_THAT(Eval("   "), HasSubstr("The expression can not be empty;"));
  EXPECT_THAT(Eval("s = :s AND n == :n"), HasSubstr("Syntax error; token: \"=\""));
  EXPECT_THAT(Eval("1abc = :s"), HasSubstr("Syntax error; token: \"1abc\""));
}

TEST(ItemsExpression, FunctionMisuse) {
  EXPECT_THAT(Eval("nope(s)"), HasSubstr("Invalid function name; function: nope"));
  EXPECT_THAT(Eval("size(s)"),
              HasSubstr("The function is not allowed to be used this way in an expression; "
                        "function: size"));
  EXPECT_THAT(Eval("attribute_exists(s) = :s"),
              HasSubstr("The function is not allowed to be used this way in an expression; "
                        "function: attribute_exists"));
  EXPECT_THAT(Eval("list_append(l, :l) = :l"),
              HasSubstr("The function is not allowed in a condition expression; function: "
                        "list_append"));
  EXPECT_THAT(Eval("begins_with(s)"),
              HasSubstr("Incorrect number of operands for operator or function; operator or "
                        "function: begins_with, number of operands: 1"));
  EXPECT_THAT(Eval("begins_with(s, :n)"),
              HasSubstr("Incorrect operand type for operator or function; operator or function: "
                        "begins_with, operand type: N"));
  EXPECT_THAT(Eval("attribute_type(s, :a)"),
              HasSubstr("Invalid attribute type name found; type: a"));
  EXPECT_THAT(Eval("attribute_exists(:s)"),
              HasSubstr("Operator or function requires a document path"));
  EXPECT_THAT(Eval("s = s"), HasSubstr("The first operand must be distinct from the remaining "
                                       "operands for this operator or function; operator: =, "
                                       "first operand: [s]"));
}

TEST(ItemsExpression, Limits) {
  std::string long_name(4096 - 5, 'a');
  EXPECT_EQ(Eval(long_name + " = :s"), "false");  // exactly 4096 bytes
  EXPECT_THAT(Eval(long_name + "a = :s"),
              HasSubstr("Invalid ConditionExpression: Expression size has exceeded the maximum "
                        "allowed size; expression size: 4097"));
  // 300 operators: 150 comparisons joined by 149 ANDs plus one NOT.
  std::string expr = "NOT (n = :one";
  for (int i = 1; i < 150; ++i) expr += " AND n = :one";
  expr += ")";
  EXPECT_EQ(Eval(expr), "true");
  EXPECT_THAT(Eval(expr + " AND n = :n"),
              HasSubstr("The expression contains too many operators; operator count: 301"));
  // Deep nesting is refused, not a stack overflow; nesting costs linear time.
  std::string deep = std::string(2000, '(') + "n = :n" + std::string(2000, ')');
  EXPECT_THAT(Eval(deep), HasSubstr("The expression is nested too deeply;"));
  std::string nested = "n = :n";
  for (int i = 0; i < 40; ++i) nested = "(" + nested + ") AND n = :n";
  EXPECT_EQ(Eval(nested), "true");
}

// --- Updates.

TEST(ItemsExpression, SetValuesAndArithmetic) {
  Item item = Sample();
  std::set<std::string> updated;
  EXPECT_EQ(Apply("SET a = :s, n = n + :one, c = :n20 - n, d = s", &item, Values(), {}, &updated),
            "");
  EXPECT_EQ(item["a"], V::S("hello world"));
  EXPECT_EQ(item["n"], V::N("11"));
  EXPECT_EQ(item["c"].scalar, "10");  // computed from the item before the update
  EXPECT_EQ(item["d"], V::S("hello world"));
  EXPECT_EQ(updated, (std::set<std::string>{"a", "c", "d", "n"}));

  Item swap{{"x", V::N("1")}, {"y", V::N("2")}};
  EXPECT_EQ(Apply("SET x = y, y = x", &swap), "");
  EXPECT_EQ(swap["x"].scalar, "2");
  EXPECT_EQ(swap["y"].scalar, "1");

  // Exact decimal arithmetic.
  Item money{{"v", V::N("0.1")}};
  EXPECT_EQ(Apply("SET v = v + :c", &money, Item{{":c", V::N("0.2")}}), "");
  EXPECT_EQ(money["v"].scalar, "0.3");
}

TEST(ItemsExpression, SetErrors) {
  Item item = Sample();
  EXPECT_THAT(Apply("SET a = s + :one", &item),
              HasSubstr("An operand in the update expression has an incorrect data type"));
  EXPECT_THAT(Apply("SET a = nope", &item),
              HasSubstr("The provided expression refers to an attribute that does not exist in "
                        "the item"));
  EXPECT_THAT(Apply("SET a = n + :s", &item),
              HasSubstr("Incorrect operand type for operator or function; operator or function: "
                        "+, operand type: S"));
  EXPECT_THAT(Apply("SET a = size(s)", &item),
              HasSubstr("The function is not allowed in an update expression; function: size"));
  EXPECT_THAT(Apply("SET nope.x = :one", &item),
              HasSubstr("The document path provided in the update expression is invalid for "
                        "update"));
  EXPECT_THAT(Apply("SET s.x = :one", &item), HasSubstr("invalid for update"));
  EXPECT_THAT(Apply("SET m[0] = :one", &item), HasSubstr("invalid for update"));
  Item big{{"n", V::N("9.9999999999999999999999999999999999999E+125")}};
  EXPECT_FALSE(Apply("SET n = n + n", &big).empty());
}

TEST(ItemsExpression, SetNestedPaths) {
  Item item = Sample();
  EXPECT_EQ(Apply("SET m.inr.y = :one, m.k = :a, l[0] = :n5", &item), "");
  EXPECT_EQ(item["m"].map["inr"].map["y"], V::N("1"));
  EXPECT_EQ(item["m"].map["k"], V::S("a"));
  EXPECT_EQ(item["l"].list[0], V::N("5"));
  // An index past the end appends.
  EXPECT_EQ(Apply("SET l[10] = :a", &item), "");
  ASSERT_EQ(item["l"].list.size(), 4u);
  EXPECT_EQ(item["l"].list[3], V::S("a"));
  EXPECT_EQ(Apply("SET l[2].c = :hello", &item), "");
  EXPECT_EQ(item["l"].list[2].map["c"], V::S("hello"));
}

TEST(ItemsExpression, IfNotExistsAndListAppend) {
  Item item = Sample();
  Item values = Values();
  values[":empty"] = V::L({});
  EXPECT_EQ(Apply("SET n = if_not_exists(n, :one), c = if_not_exists(c, :one)", &item, values), "");
  EXPECT_EQ(item["n"], V::N("10"));
  EXPECT_EQ(item["c"], V::N("1"));
  EXPECT_EQ(Apply("SET l = list_append(l, :l), q = list_append(:l, l)", &item, values), "");
  ASSERT_EQ(item["l"].list.size(), 4u);
  EXPECT_EQ(item["l"].list[3], V::S("z"));
  EXPECT_EQ(item["q"].list[0], V::S("z"));
  EXPECT_EQ(item["q"].list.size(), 4u);
  EXPECT_EQ(Apply("SET fresh = list_append(if_not_exists(fresh, :empty), :l)", &item, values), "");
  EXPECT_EQ(item["fresh"], V::L({V::S("z")}));
  EXPECT_THAT(Apply("SET l = list_append(l, :a)", &item, values),
              HasSubstr("Incorrect operand type for operator or function; operator or function: "
                        "list_append, operand type: S"));
  EXPECT_THAT(Apply("SET l = list_append(s, :l)", &item, values),
              HasSubstr("An operand in the update expression has an incorrect data type"));
  EXPECT_THAT(Apply("SET l = if_not_exists(:a, l)", &item, values),
              HasSubstr("Operator or function requires a document path"));
}

TEST(ItemsExpression, Remove) {
  Item item = Sample();
  EXPECT_EQ(Apply("REMOVE s, m.inr, nope, m.nope.deeper", &item), "");
  EXPECT_EQ(item.count("s"), 0u);
  EXPECT_EQ(item["m"].map.count("inr"), 0u);
  // List elements by index: the rest shift; indexes name the original list.
  Item list{{"l", V::L({V::N("0"), V::N("1"), V::N("2"), V::N("3")})}};
  EXPECT_EQ(Apply("REMOVE l[1], l[2]", &list), "");
  EXPECT_EQ(list["l"], V::L({V::N("0"), V::N("3")}));
  EXPECT_EQ(Apply("REMOVE l[7]", &list), "");
  EXPECT_EQ(list["l"].list.size(), 2u);
}

TEST(ItemsExpression, AddNumbersAndSets) {
  Item item = Sample();
  Item values{{":one", V::N("1")},
              {":ss", V::SS({"b", "c"})},
              {":ns", V::NS({"2.50", "3"})},
              {":s", V::S("x")}};
  EXPECT_EQ(Apply("ADD n :one, ss :ss, ns :ns, cnt :one, newset :ss", &item, values), "");
  EXPECT_EQ(item["n"], V::N("11"));
  EXPECT_EQ(item["ss"], V::SS({"a", "b", "c"}));
  EXPECT_EQ(item["ns"], V::NS({"1", "2.5", "3"}));  // 2.50 is already there
  EXPECT_EQ(item["cnt"], V::N("1"));
  EXPECT_EQ(item["newset"], V::SS({"b", "c"}));
  EXPECT_EQ(Apply("ADD m.cnt :one", &item, values), "");
  EXPECT_EQ(item["m"].map["cnt"], V::N("1"));
  EXPECT_THAT(Apply("ADD nope.cnt :one", &item, values), HasSubstr("invalid for update"));
  EXPECT_THAT(Apply("ADD s :one", &item, values),
              HasSubstr("An operand in the update expression has an incorrect data type"));
  EXPECT_THAT(Apply("ADD ss :ns", &item, values), HasSubstr("incorrect data type"));
  EXPECT_THAT(Apply("ADD n :s", &item, values),
              HasSubstr("Incorrect operand type for operator or function; operator: ADD, operand "
                        "type: S"));
}

TEST(ItemsExpression, DeleteFromSets) {
  Item item = Sample();
  Item values{{":a", V::SS({"a"})},
              {":ab", V::SS({"a", "b"})},
              {":ns", V::NS({"2.50"})},
              {":s", V::S("a")}};
  EXPECT_EQ(Apply("DELETE ss :a, ns :ns, nope :a", &item, values), "");
  EXPECT_EQ(item["ss"], V::SS({"b"}));
  EXPECT_EQ(item["ns"], V::NS({"1"}));
  // Emptying the set removes the attribute.
  EXPECT_EQ(Apply("DELETE ss :ab", &item, values), "");
  EXPECT_EQ(item.count("ss"), 0u);
  EXPECT_THAT(Apply("DELETE ns :a", &item, values), HasSubstr("incorrect data type"));
  EXPECT_THAT(Apply("DELETE ns :s", &item, values),
              HasSubstr("Incorrect operand type for operator or function; operator: DELETE"));
}

TEST(ItemsExpression, UpdateClausesAndOverlaps) {
  Item item = Sample();
  Item values{{":v", V::N("1")}, {":ss", V::SS({"a"})}};
  EXPECT_EQ(Apply("SET a = :v REMOVE s ADD n :v DELETE ss :ss", &item, values), "");
  EXPECT_EQ(Apply("remove t set b = :v", &item, Item{{":v", V::N("1")}}), "");
  EXPECT_THAT(Apply("SET a = :v SET b = :v", &item, Item{{":v", V::N("1")}}),
              HasSubstr("The \"SET\" section can only be used once in an update expression;"));
  EXPECT_THAT(Apply("SET a = :v REMOVE a", &item, Item{{":v", V::N("1")}}),
              HasSubstr("Two document paths overlap with each other; must remove or rewrite one "
                        "of these paths; path one: [a], path two: [a]"));
  EXPECT_THAT(Apply("SET m.k = :v, m = :v", &item, Item{{":v", V::N("1")}}),
              HasSubstr("path one: [m, k], path two: [m]"));
  EXPECT_THAT(Apply("REMOVE l[1], l[1].c", &item), HasSubstr("path one: [l, [1]]"));
  EXPECT_EQ(Apply("REMOVE l[0], l[1]", &item), "");
  EXPECT_THAT(Apply("SET a = :v,", &item, Item{{":v", V::N("1")}}), HasSubstr("Syntax error"));
  EXPECT_THAT(Apply("SET", &item), HasSubstr("Syntax error; token: \"<EOF>\""));
  EXPECT_THAT(Apply("UPSERT a = :v", &item, Item{{":v", V::N("1")}}),
              HasSubstr("Invalid UpdateExpression: Syntax error; token: \"UPSERT\""));
}

TEST(ItemsExpression, TopLevelNames) {
  AttributeNames names{{"#k", "pk"}};
  Item values{{":v", V::N("1")}};
  ExpressionContext ctx(names, values);
  std::shared_ptr<const Update> u;
  ASSERT_TRUE(ctx.ParseUpdate("SET #k = :v, m.a = :v REMOVE l[0]", &u).ok());
  EXPECT_EQ(u->TopLevelNames(), (std::set<std::string>{"l", "m", "pk"}));
}

// --- Projections.

TEST(ItemsExpression, Projection) {
  AttributeNames names{{"#s", "s"}};
  Item no_values;
  ExpressionContext ctx(names, no_values);
  std::vector<Path> paths;
  ASSERT_TRUE(ctx.ParseProjection("#s, m.inr.x, l[2].c, l[0], nope, n.x", &paths).ok());
  ASSERT_EQ(paths.size(), 6u);
  EXPECT_EQ(PathToString(paths[2]), "l[2].c");
  Item out;
  Project(Sample(), paths, &out);
  Item expected{
      {"s", V::S("hello world")},
      {"m", V::M({{"inr", V::M({{"x", V::N("1")}})}})},
      {"l", V::L({V::S("a"), V::M({{"c", V::S("deep")}})})},
  };
  EXPECT_EQ(out, expected);
  EXPECT_TRUE(ctx.CheckAllUsed().ok());

  EXPECT_THAT(ctx.ParseProjection("a, a.b", &paths).ToString(),
              HasSubstr("Invalid ProjectionExpression: Two document paths overlap"));
  EXPECT_THAT(ctx.ParseProjection("a, size", &paths).ToString(),
              HasSubstr("reserved keyword: size"));
  EXPECT_THAT(ctx.ParseProjection("a,", &paths).ToString(), HasSubstr("Syntax error"));
}

// --- Key conditions.

std::string Key(std::string_view expression, KeyCondition* out, const Item& values = {}) {
  KeyShape shape;
  shape.hash_name = "pk";
  shape.hash_type = ScalarAttributeType::kS;
  shape.range_name = "sk";
  shape.range_type = ScalarAttributeType::kN;
  Item v = values.empty()
               ? Item{{":p", V::S("a")}, {":n", V::N("1")}, {":m", V::N("5")}, {":s", V::S("x")}}
               : values;
  AttributeNames names{{"#p", "pk"}};
  ExpressionContext ctx(names, v);
  Status s = ctx.ParseKeyCondition(expression, shape, out);
  return s.ok() ? "" : s.ToString();
}

TEST(ItemsExpression, KeyConditions) {
  KeyCondition k;
  EXPECT_EQ(Key("pk = :p", &k), "");
  EXPECT_EQ(k.hash, V::S("a"));
  EXPECT_EQ(k.range_op, KeyCondition::RangeOp::kNone);
  EXPECT_EQ(Key("#p = :p AND sk BETWEEN :n AND :m", &k), "");
  EXPECT_EQ(k.range_op, KeyCondition::RangeOp::kBetween);
  EXPECT_EQ(k.lo, V::N("1"));
  EXPECT_EQ(k.hi, V::N("5"));
  EXPECT_EQ(Key("sk >= :n AND pk = :p", &k), "");
  EXPECT_EQ(k.range_op, KeyCondition::RangeOp::kGe);
  EXPECT_EQ(Key("(pk = :p) AND (:n < sk)", &k), "");
  EXPECT_EQ(k.range_op, KeyCondition::RangeOp::kGt);
  for (auto [op, want] : {std::pair{"=", KeyCondition::RangeOp::kEq},
                          {"<", KeyCondition::RangeOp::kLt},
                          {"<=", KeyCondition::RangeOp::kLe},
                          {">", KeyCondition::RangeOp::kGt}}) {
    EXPECT_EQ(Key(std::string("pk = :p AND sk ") + op + " :n", &k), "") << op;
    EXPECT_EQ(k.range_op, want) << op;
  }
}

TEST(ItemsExpression, KeyConditionErrors) {
  KeyCondition k;
  EXPECT_THAT(Key("sk = :n", &k), HasSubstr("Query condition missed key schema element: pk"));
  EXPECT_THAT(Key("pk = :p AND color = :n", &k), HasSubstr("Query key condition not supported"));
  EXPECT_THAT(Key("pk > :p", &k), HasSubstr("Query key condition not supported"));
  EXPECT_THAT(Key("pk = :p AND sk > :n AND sk < :m", &k),
              HasSubstr("KeyConditionExpressions must only contain one condition per key"));
  EXPECT_THAT(Key("pk = :p OR sk = :n", &k),
              HasSubstr("Invalid operator used in KeyConditionExpression: OR"));
  EXPECT_THAT(Key("pk = :p AND sk <> :n", &k),
              HasSubstr("Invalid operator used in KeyConditionExpression: <>"));
  EXPECT_THAT(Key("pk = :p AND attribute_exists(sk)", &k),
              HasSubstr("Invalid operator used in KeyConditionExpression: attribute_exists"));
  EXPECT_THAT(Key("pk = :n", &k),
              HasSubstr("One or more parameter values were invalid: Condition parameter type "
                        "does not match schema type"));
  EXPECT_THAT(Key("pk = :p AND begins_with(sk, :s)", &k),
              HasSubstr("Incorrect operand type for operator or function; operator or function: "
                        "begins_with, operand type: N"));
  EXPECT_THAT(Key("pk.x = :p", &k), HasSubstr("nested attributes"));
  EXPECT_THAT(Key("pk = :e", &k, Item{{":e", V::S("")}}),
              HasSubstr("The AttributeValue for a key attribute cannot contain an empty string "
                        "value. Key: pk"));
  EXPECT_THAT(Key("pk = :p AND", &k),
              HasSubstr("Invalid KeyConditionExpression: Syntax error; token: \"<EOF>\""));
}

TEST(ItemsExpression, BeginsWithOnStringRangeKey) {
  KeyShape shape;
  shape.hash_name = "pk";
  shape.range_name = "sk";
  Item values{{":p", V::S("a")}, {":pre", V::S("2024-")}};
  AttributeNames no_names;
  ExpressionContext ctx(no_names, values);
  KeyCondition k;
  ASSERT_TRUE(ctx.ParseKeyCondition("pk = :p AND begins_with(sk, :pre)", shape, &k).ok());
  EXPECT_EQ(k.range_op, KeyCondition::RangeOp::kBeginsWith);
  EXPECT_EQ(k.lo, V::S("2024-"));
}

}  // namespace
}  // namespace runnel::items
