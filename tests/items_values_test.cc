// Copyright 2026 The runnel Authors.
//
// The value layer of typed tables: numbers, the model's rules, the item and
// key codecs, item JSON.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "db/items/number.h"
#include "runnel/item.h"

namespace runnel::items {
namespace {

std::string Norm(std::string_view text) {
  std::string out;
  Status s = NormalizeNumber(text, &out);
  return s.ok() ? out : "error: " + s.ToString();
}

bool Rejected(std::string_view text, std::string_view message_part) {
  std::string out;
  Status s = NormalizeNumber(text, &out);
  return s.IsInvalidArgument() && s.ToString().find(message_part) != std::string::npos &&
         s.ToString().find(std::string(text)) != std::string::npos;
}

Number Num(std::string_view text) {
  Number n;
  EXPECT_TRUE(Number::Parse(text, &n).ok()) << text;
  return n;
}

std::string Sum(std::string_view a, std::string_view b) {
  Number out;
  Status s = Number::Add(Num(a), Num(b), &out);
  return s.ok() ? out.ToString() : "error: " + s.ToString();
}

std::string Difference(std::string_view a, std::string_view b) {
  Number out;
  Status s = Number::Subtract(Num(a), Num(b), &out);
  return s.ok() ? out.ToString() : "error: " + s.ToString();
}

const std::string k38Nines(38, '9');

TEST(ItemsValues, NumberNormalizesAsTheCloudReturnsIt) {
  EXPECT_EQ(Norm("1.0"), "1");
  EXPECT_EQ(Norm("01"), "1");
  EXPECT_EQ(Norm("1E0"), "1");
  EXPECT_EQ(Norm("1E2"), "100");
  EXPECT_EQ(Norm("1e+2"), "100");
  EXPECT_EQ(Norm("-0"), "0");
  EXPECT_EQ(Norm("-0.000"), "0");
  EXPECT_EQ(Norm("0E99999"), "0");
  EXPECT_EQ(Norm("0.00012"), "0.00012");
  EXPECT_EQ(Norm("1.2E-4"), "0.00012");
  EXPECT_EQ(Norm("000123.4500"), "123.45");
  EXPECT_EQ(Norm("+7"), "7");
  EXPECT_EQ(Norm("-12.5"), "-12.5");
  EXPECT_EQ(Norm(".5"), "0.5");
  EXPECT_EQ(Norm("5."), "5");
  EXPECT_EQ(Norm("12345E-2"), "123.45");
  EXPECT_EQ(Norm("1E125"), "1" + std::string(125, '0'));
  EXPECT_EQ(Norm("1E-130"), "0." + std::string(129, '0') + "1");
  EXPECT_EQ(Norm("-1E-130"), "-0." + std::string(129, '0') + "1");
}

TEST(ItemsValues, NumberHoldsThirtyEightSignificantDigits) {
  EXPECT_EQ(Norm(k38Nines), k38Nines);
  EXPECT_EQ(Norm("0." + k38Nines), "0." + k38Nines);
  // Zeros around the digits are not significant.
  EXPECT_EQ(Norm("000" + k38Nines + "000"), k38Nines + "000");
  EXPECT_EQ(Norm("1" + std::string(50, '0')), "1" + std::string(50, '0'));
  EXPECT_TRUE(Rejected(k38Nines + "9", "38 significant digits"));
  EXPECT_TRUE(Rejected("1." + std::string(37, '0') + "1", "38 significant digits"));
}

TEST(ItemsValues, NumberRangeIsTheClouds) {
  const std::string max = "9." + std::string(37, '9') + "E+125";
  EXPECT_EQ(Norm(max), k38Nines + std::string(88, '0'));
  EXPECT_TRUE(Rejected("1E126", "Number overflow"));
  EXPECT_TRUE(Rejected("-1E126", "Number overflow"));
  EXPECT_TRUE(Rejected("1E99999999999999999999", "Number overflow"));
  EXPECT_TRUE(Rejected("1E-131", "Number underflow"));
  EXPECT_TRUE(Rejected("0.9E-130", "Number underflow"));
  EXPECT_TRUE(Rejected("1E-99999999999999999999", "Number underflow"));
}

TEST(ItemsValues, NumberRejectsText) {
  for (const char* bad : {"", " 1", "1 ", "abc", "1..2", "1.2.3", "--1", "+-1", "1E", "1E+", "E5",
                          ".", "-", "0x10", "1,5", "NaN", "Infinity", "1e2.5", "١"}) {
    std::string out;
    Status s = NormalizeNumber(bad, &out);
    EXPECT_TRUE(s.IsInvalidArgument()) << '"' << bad << '"';
  }
}

TEST(ItemsValues, NumberComparesByValue) {
  EXPECT_EQ(Number::Compare(Num("2"), Num("10")), -1);
  EXPECT_EQ(Number::Compare(Num("-1.5"), Num("-1")), -1);
  EXPECT_EQ(Number::Compare(Num("1.0"), Num("1")), 0);
  EXPECT_EQ(Number::Compare(Num("-0"), Num("0")), 0);
  EXPECT_EQ(Number::Compare(Num("0.12"), Num("0.123")), -1);
  EXPECT_EQ(Number::Compare(Num("-0.12"), Num("-0.123")), 1);
  EXPECT_EQ(Number::Compare(Num("1E-130"), Num("0")), 1);
  EXPECT_EQ(Number::Compare(Num("-1E-130"), Num("0")), -1);
  EXPECT_EQ(Number::Compare(Num("100"), Num("99.999")), 1);
}

TEST(ItemsValues, NumberArithmeticIsExact) {
  EXPECT_EQ(Sum("0.1", "0.2"), "0.3");
  EXPECT_EQ(Sum("1", "-1"), "0");
  EXPECT_EQ(Sum("-5", "3"), "-2");
  EXPECT_EQ(Sum("1E20", "1"), "100000000000000000001");
  EXPECT_EQ(Sum(k38Nines, "-" + k38Nines), "0");
  EXPECT_EQ(Difference("10", "0.01"), "9.99");
  EXPECT_EQ(Difference("0", "7"), "-7");
  EXPECT_EQ(Difference("1E-130", "1E-130"), "0");
  // 38 nines + 1 = 1E38: one significant digit, exact.
  EXPECT_EQ(Sum(k38Nines, "1"), "1" + std::string(38, '0'));
  // 1E38 + 1 needs 39 digits.
  EXPECT_NE(Sum("1E38", "1").find("38 significant digits"), std::string::npos);
  EXPECT_NE(Sum("9.9E125", "1E125").find("Number overflow"), std::string::npos);
  EXPECT_NE(Difference("1.1E-130", "1E-130").find("Number underflow"), std::string::npos);
}

TEST(ItemsValues, NumberToInt64) {
  int64_t v = -1;
  EXPECT_TRUE(Num("1700000000").ToInt64(&v));
  EXPECT_EQ(v, 1700000000);
  EXPECT_TRUE(Num("-9223372036854775808").ToInt64(&v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_TRUE(Num("0").ToInt64(&v));
  EXPECT_EQ(v, 0);
  EXPECT_FALSE(Num("9223372036854775808").ToInt64(&v));
  EXPECT_FALSE(Num("1.5").ToInt64(&v));
  EXPECT_FALSE(Num("1E30").ToInt64(&v));
}

TEST(ItemsValues, NumberDigitsAndExponent) {
  const Number n = Num("-0.00120");
  EXPECT_TRUE(n.negative());
  EXPECT_EQ(n.digits(), "12");
  EXPECT_EQ(n.exponent(), -2);  // -0.12E-2
  EXPECT_EQ(Num("100").digits(), "1");
  EXPECT_EQ(Num("100").exponent(), 3);
  EXPECT_TRUE(Num("-0").is_zero());
  EXPECT_FALSE(Num("-0").negative());
}

// --- AttributeValue.

TEST(ItemsValues, EqualityIsTheClouds) {
  using AV = AttributeValue;
  EXPECT_EQ(AV::N("1.0"), AV::N("1"));
  EXPECT_NE(AV::N("1"), AV::S("1"));
  EXPECT_NE(AV::N("abc"), AV::N("abd"));
  EXPECT_EQ(AV::N("abc"), AV::N("abc"));
  EXPECT_EQ(AV::SS({"a", "b"}), AV::SS({"b", "a"}));
  EXPECT_NE(AV::SS({"a", "b"}), AV::SS({"a"}));
  EXPECT_EQ(AV::NS({"1", "2.50"}), AV::NS({"2.5", "1.0"}));
  EXPECT_NE(AV::BS({"a"}), AV::SS({"a"}));
  EXPECT_EQ(AV::L({AV::N("1"), AV::Null()}), AV::L({AV::N("1.0"), AV::Null()}));
  EXPECT_NE(AV::L({AV::N("1"), AV::Null()}), AV::L({AV::Null(), AV::N("1")}));
  EXPECT_EQ(AV::M({{"a", AV::Bool(true)}}), AV::M({{"a", AV::Bool(true)}}));
  EXPECT_NE(AV::M({{"a", AV::Bool(true)}}), AV::M({{"a", AV::Bool(false)}}));
  EXPECT_NE(AV::M({{"a", AV::Bool(true)}}), AV::M({{"b", AV::Bool(true)}}));
}

TEST(ItemsValues, TypeNames) {
  for (const char* name : {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}) {
    AttributeValue::Type t;
    ASSERT_TRUE(ParseAttributeType(name, &t)) << name;
    EXPECT_EQ(AttributeTypeName(t), name);
  }
  AttributeValue::Type t;
  EXPECT_FALSE(ParseAttributeType("s", &t));
  EXPECT_FALSE(ParseAttributeType("STRING", &t));
}

// --- JSON.

TEST(ItemsValues, ItemJsonRoundTrip) {
  using AV = AttributeValue;
  Item item = {
      {"pk", AV::S("a\"b\\c\n")},
      {"n", AV::N("-1.5")},
      {"b", AV::B(std::string("\x00\x01\xff", 3))},
      {"t", AV::Bool(true)},
      {"z", AV::Null()},
      {"m", AV::M({{"inner", AV::L({AV::S(""), AV::N("0"), AV::M({})})}})},
      {"ss", AV::SS({"x", "y"})},
      {"ns", AV::NS({"1", "2"})},
      {"bs", AV::BS({std::string("\0", 1), "\xfe"})},
      {"l", AV::L({})},
  };
  const std::string json = ItemToJson(item);
  Item back;
  ASSERT_TRUE(ItemFromJson(json, &back).ok()) << json;
  EXPECT_EQ(back, item);
  EXPECT_EQ(ItemToJson(back), json);

  ASSERT_TRUE(ItemFromJson(R"({"pk":{"S":"a"},"n":{"N":"1"},"b":{"B":"AAE="}})", &back).ok());
  EXPECT_EQ(back.at("b"), AV::B(std::string("\x00\x01", 2)));
  EXPECT_EQ(ItemToJson(back), R"({"b":{"B":"AAE="},"n":{"N":"1"},"pk":{"S":"a"}})");

  AttributeValue v;
  ASSERT_TRUE(AttributeValueFromJson(R"({"NULL":true})", &v).ok());
  EXPECT_EQ(v.type, AttributeValue::Type::kNull);
  EXPECT_EQ(AttributeValueToJson(AV::NS({"1", "2"})), R"({"NS":["1","2"]})");
  EXPECT_EQ(AttributeValueToJson(AV::Bool(false)), R"({"BOOL":false})");
}

// The error of ItemFromJson(json), or "" if it parsed.
std::string JsonError(std::string_view json) {
  Item item;
  Status s = ItemFromJson(json, &item);
  if (s.ok()) return "";
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  return s.ToString();
}

TEST(ItemsValues, ItemJsonShapeErrorsNameTheAttribute) {
  EXPECT_NE(JsonError("[1]"), "");
  EXPECT_NE(JsonError("{"), "");
  EXPECT_NE(JsonError(R"({"a":"x"})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"S":"x","N":"1"}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"STR":"x"}})").find("STR"), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"S":1}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"N":1}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"B":"***"}})").find("base64"), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"NULL":false}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"BOOL":"true"}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"SS":"x"}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"NS":[1]}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"BS":["!"]}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"M":[]}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"L":{}}})").find("\"a\""), std::string::npos);
  EXPECT_NE(JsonError(R"({"a":{"M":{"b":{"L":[{"S":"ok"},{"X":1}]}}}})").find("a.b[1]"),
            std::string::npos);
  // Shape only: the model's rules (numbers, empty sets) are not JSON's.
  EXPECT_EQ(JsonError(R"({"a":{"N":"not a number"},"s":{"SS":[]}})"), "");
}

TEST(ItemsValues, ItemJsonDeepNestingIsAnErrorNotACrash) {
  std::string json = R"({"a":)";
  for (int i = 0; i < 10000; ++i) json += R"({"L":[)";
  json += R"({"NULL":true})";
  for (int i = 0; i < 10000; ++i) json += "]}";
  json += "}";
  EXPECT_NE(JsonError(json), "");
}

}  // namespace
}  // namespace runnel::items
