// Copyright 2026 The runnel Authors.
//
// The value layer of typed tables: numbers, the model's rules, the item and
// key codecs, item JSON.

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "db/items/item_codec.h"
#include "db/items/key_codec.h"
#include "db/items/number.h"
#include "db/items/value.h"
#include "runnel/item.h"
#include "util/encoding.h"

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

// --- Value rules.

using AV = AttributeValue;

// The error of NormalizeItem({name: value}), "" if it passed.
std::string ItemError(Item item) {
  Status s = NormalizeItem(&item);
  if (s.ok()) return "";
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  return s.ToString();
}

bool Mentions(const std::string& error, std::string_view part) {
  return error.find(part) != std::string::npos;
}

TEST(ItemsValues, NormalizeItemNormalizesNumbersAndChecksSets) {
  Item item = {{"n", AV::N("01.50")},
               {"ns", AV::NS({"1.0", "2E1"})},
               {"m", AV::M({{"x", AV::L({AV::N("-0")})}})}};
  ASSERT_TRUE(NormalizeItem(&item).ok());
  EXPECT_EQ(item.at("n").scalar, "1.5");
  EXPECT_EQ(item.at("ns").set, (std::vector<std::string>{"1", "20"}));
  EXPECT_EQ(item.at("m").map.at("x").list[0].scalar, "0");

  EXPECT_TRUE(Mentions(ItemError({{"s", AV::SS({})}}), "\"s\""));
  EXPECT_TRUE(Mentions(ItemError({{"s", AV::SS({})}}), "may not be empty"));
  EXPECT_TRUE(Mentions(ItemError({{"s", AV::NS({})}}), "may not be empty"));
  EXPECT_TRUE(Mentions(ItemError({{"s", AV::BS({})}}), "may not be empty"));
  EXPECT_TRUE(Mentions(ItemError({{"d", AV::NS({"1", "1.0"})}}), "duplicates"));
  EXPECT_TRUE(Mentions(ItemError({{"d", AV::NS({"1", "1.0"})}}), "\"d\""));
  EXPECT_TRUE(Mentions(ItemError({{"d", AV::SS({"a", "b", "a"})}}), "duplicates"));
  EXPECT_TRUE(Mentions(ItemError({{"d", AV::BS({"\x01", "\x01"})}}), "duplicates"));
  EXPECT_EQ(ItemError({{"d", AV::SS({"a", "A"})}}), "");
  EXPECT_TRUE(Mentions(ItemError({{"m", AV::M({{"x", AV::N("1E200")}})}}), "Number overflow"));
  EXPECT_TRUE(Mentions(ItemError({{"m", AV::M({{"x", AV::N("1E200")}})}}), "m.x"));
  EXPECT_TRUE(Mentions(ItemError({{"l", AV::L({AV::N("x")})}}), "l[0]"));
  EXPECT_TRUE(Mentions(ItemError({{"", AV::S("a")}}), "name may not be empty"));
  // Empty strings and binaries are fine outside keys.
  EXPECT_EQ(ItemError({{"s", AV::S("")}, {"b", AV::B("")}}), "");
}

TEST(ItemsValues, NormalizeItemRejectsInvalidUtf8) {
  const std::string bad = "a\xc3(";
  EXPECT_TRUE(Mentions(ItemError({{"s", AV::S(bad)}}), "UTF-8"));
  EXPECT_TRUE(Mentions(ItemError({{"s", AV::SS({"ok", bad})}}), "UTF-8"));
  EXPECT_TRUE(Mentions(ItemError({{bad, AV::S("ok")}}), "UTF-8"));
  EXPECT_TRUE(Mentions(ItemError({{"m", AV::M({{bad, AV::Null()}})}}), "UTF-8"));
  EXPECT_EQ(ItemError({{"b", AV::B(bad)}}), "");  // binaries are bytes
  EXPECT_EQ(ItemError({{"s", AV::S(std::string("nul\0inside", 10))}}), "");
}

AttributeValue Nested(int levels) {
  AttributeValue v = AV::S("x");
  for (int i = 0; i < levels; ++i) v = (i % 2) ? AV::L({v}) : AV::M({{"k", v}});
  return v;
}

TEST(ItemsValues, NestingUpTo32Levels) {
  EXPECT_EQ(ItemError({{"deep", Nested(32)}}), "");
  EXPECT_TRUE(Mentions(ItemError({{"deep", Nested(33)}}), "Nesting Levels"));
  EXPECT_TRUE(Mentions(ItemError({{"deep", Nested(33)}}), "deep"));
}

TEST(ItemsValues, ItemSizeLimitIsExactly400KB) {
  // Name "a" (1 byte) + the string.
  Item item = {{"a", AV::S(std::string(kMaxItemBytes - 1, 'x'))}};
  EXPECT_EQ(ItemSize(item), kMaxItemBytes);
  EXPECT_EQ(ItemError(item), "");
  item["a"].scalar.push_back('x');
  EXPECT_TRUE(Mentions(ItemError(item), "Item size has exceeded"));
}

TEST(ItemsValues, SizesFollowTheCloudsRules) {
  EXPECT_EQ(ValueSize(AV::S("héllo")), 6u);
  EXPECT_EQ(ValueSize(AV::B("abc")), 3u);
  EXPECT_EQ(ValueSize(AV::Bool(true)), 1u);
  EXPECT_EQ(ValueSize(AV::Null()), 1u);
  EXPECT_EQ(ValueSize(AV::N("123")), 3u);  // 2 digits a byte, + 1
  EXPECT_EQ(ValueSize(AV::N("1234")), 3u);
  EXPECT_EQ(ValueSize(AV::N("-0.00120")), 2u);  // significant digits "12"
  EXPECT_EQ(ValueSize(AV::N(k38Nines)), 20u);
  EXPECT_EQ(ValueSize(AV::M({})), 3u);
  EXPECT_EQ(ValueSize(AV::L({})), 3u);
  EXPECT_EQ(ValueSize(AV::L({AV::S("ab"), AV::Null()})), 3u + (1 + 2) + (1 + 1));
  EXPECT_EQ(ValueSize(AV::M({{"k", AV::S("ab")}})), 3u + 1 + 1 + 2);
  EXPECT_EQ(ValueSize(AV::SS({"a", "bc"})), 3u);
  EXPECT_EQ(ValueSize(AV::NS({"1", "100"})), 4u);
  EXPECT_EQ(ItemSize({{"name", AV::S("value")}, {"n", AV::N("1")}}), 4u + 5 + 1 + 2);
}

TEST(ItemsValues, CompareScalars) {
  EXPECT_EQ(CompareScalars(AV::N("2"), AV::N("10")), -1);
  EXPECT_EQ(CompareScalars(AV::N("-1.5"), AV::N("-1")), -1);
  EXPECT_EQ(CompareScalars(AV::N("1.0"), AV::N("1")), 0);
  EXPECT_EQ(CompareScalars(AV::S("b"), AV::S("a")), 1);
  EXPECT_EQ(CompareScalars(AV::S("a"), AV::S("ab")), -1);
  EXPECT_EQ(CompareScalars(AV::B("\xff"), AV::B("\x01")), 1);  // unsigned bytes
  EXPECT_EQ(CompareScalars(AV::S("1"), AV::N("1")), std::nullopt);
  EXPECT_EQ(CompareScalars(AV::Bool(true), AV::Bool(true)), std::nullopt);
  EXPECT_EQ(CompareScalars(AV::SS({"a"}), AV::SS({"a"})), std::nullopt);
}

// --- Item codec.

Item SampleItem() {
  return {
      {"pk", AV::S("user#1")},
      {"n", AV::N("-12.5")},
      {"b", AV::B(std::string("\x00\xff\x80", 3))},
      {"yes", AV::Bool(true)},
      {"no", AV::Bool(false)},
      {"nothing", AV::Null()},
      {"doc", AV::M({{"tags", AV::SS({"x", "y"})},
                     {"list", AV::L({AV::N("1"), AV::L({}), AV::M({}), AV::S("")})}})},
      {"ns", AV::NS({"1", "2.5"})},
      {"bs", AV::BS({std::string("\0", 1), "\xff"})},
      {"", AV::S("empty name still encodes")},
      {std::string(300, 'n'), AV::S(std::string(70000, 'v'))},
  };
}

std::string Encoded(const Item& item) {
  std::string bytes;
  EncodeItem(item, &bytes);
  return bytes;
}

TEST(ItemsValues, ItemCodecRoundTrip) {
  const Item item = SampleItem();
  const std::string bytes = Encoded(item);
  Item back;
  ASSERT_TRUE(DecodeItem(bytes, &back).ok());
  EXPECT_EQ(back, item);
  EXPECT_EQ(ItemToJson(back), ItemToJson(item));  // also set order and number text
  EXPECT_EQ(Encoded(back), bytes);

  Item empty;
  ASSERT_TRUE(DecodeItem(Encoded(empty), &back).ok());
  EXPECT_TRUE(back.empty());
}

TEST(ItemsValues, FindAttributeReadsOneAttribute) {
  const Item item = SampleItem();
  const std::string bytes = Encoded(item);
  for (const auto& [name, value] : item) {
    AttributeValue found;
    ASSERT_TRUE(FindAttribute(bytes, name, &found).ok()) << name;
    EXPECT_EQ(found, value) << name;
  }
  AttributeValue found;
  EXPECT_TRUE(FindAttribute(bytes, "absent", &found).IsNotFound());
  EXPECT_TRUE(FindAttribute(bytes, "zzz", &found).IsNotFound());
  EXPECT_TRUE(FindAttribute(bytes, "a", &found).IsNotFound());
  EXPECT_TRUE(FindAttribute("", "pk", &found).IsCorruption());
}

TEST(ItemsValues, ItemDecoderReportsDamageAsCorruption) {
  Item item;
  EXPECT_TRUE(DecodeItem("", &item).IsCorruption());
  EXPECT_TRUE(DecodeItem("\x02", &item).IsCorruption());  // unknown version
  // Names out of order: "b" then "a".
  const std::string out_of_order = std::string(
      "\x01\x01"
      "b\x05\x00"
      "\x01"
      "a\x05\x00",
      9);
  EXPECT_TRUE(DecodeItem(out_of_order, &item).IsCorruption());
  const std::string duplicate = std::string(
      "\x01\x01"
      "a\x05\x00"
      "\x01"
      "a\x05\x00",
      9);
  EXPECT_TRUE(DecodeItem(duplicate, &item).IsCorruption());
  EXPECT_TRUE(DecodeItem(std::string("\x01\x01"
                                     "a\x04\x01\x02",
                                     6),
                         &item)
                  .IsCorruption());
  EXPECT_TRUE(DecodeItem(std::string("\x01\x01"
                                     "a\x0b\x00",
                                     5),
                         &item)
                  .IsCorruption());
  EXPECT_TRUE(DecodeItem("\x01\x01"
                         "a\x01\xff\xff\xff\xff\x7f",
                         &item)
                  .IsCorruption());

  // Every truncation and every single-byte change: OK or Corruption, never
  // a crash (ASan/UBSan builds check the "never").
  const std::string bytes = Encoded(SampleItem());
  for (size_t n = 0; n < bytes.size(); n += (n < 400 ? 1 : 997)) {
    Status s = DecodeItem(bytes.substr(0, n), &item);
    EXPECT_TRUE(s.ok() || s.IsCorruption()) << n;
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string damaged = bytes.substr(0, 600);
    damaged[rng() % damaged.size()] = static_cast<char>(rng());
    Status s = DecodeItem(damaged, &item);
    EXPECT_TRUE(s.ok() || s.IsCorruption());
    AttributeValue v;
    s = FindAttribute(damaged, "doc", &v);
    EXPECT_TRUE(s.ok() || s.IsCorruption() || s.IsNotFound());
  }
}

TEST(ItemsValues, ItemDecoderBoundsNesting) {
  // 10000 lists nested in one another: damage (stored items nest 32 levels
  // at most), refused without recursing 10000 deep.
  std::string value;
  for (int i = 0; i < 10000; ++i) {
    std::string outer(1, static_cast<char>(AttributeValue::Type::kL));
    for (uint64_t n = value.size();; n >>= 7) {  // the payload length, as a varint
      outer.push_back(static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)));
      if (n < 0x80) break;
    }
    value = outer + value;
  }
  Item item;
  EXPECT_TRUE(DecodeItem(std::string("\x01\x01"
                                     "a",
                                     3) +
                             value,
                         &item)
                  .IsCorruption());
  Item deep = {{"d", Nested(32)}};
  ASSERT_TRUE(DecodeItem(Encoded(deep), &item).ok());
  EXPECT_EQ(item, deep);
}

// --- Key codec.

std::string KeyOf(const AttributeValue& v) {
  std::string out;
  AppendKeyComponent(v, &out);
  return out;
}

int Sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

// A random number, normalized: any sign, 1..38 digits, any exponent, with
// a bias to shared digit prefixes and small values so that near-ties occur.
std::string RandomNumber(std::mt19937_64& rng) {
  static const std::vector<std::string> kPrefixes = {"1", "12", "123", "9", "99", "5"};
  std::string digits = kPrefixes[rng() % kPrefixes.size()];
  const size_t extra = rng() % 4 == 0 ? rng() % (38 - digits.size() + 1) : rng() % 3;
  for (size_t i = 0; i < extra; ++i) digits.push_back(static_cast<char>('0' + rng() % 10));
  int exponent;
  switch (rng() % 4) {
    case 0:
      exponent = -129 + static_cast<int>(rng() % 4);  // tiny
      break;
    case 1:
      exponent = 126 - static_cast<int>(rng() % 4);  // huge
      break;
    default:
      exponent = static_cast<int>(rng() % 9) - 3;
  }
  if (rng() % 10 == 0) return "0";
  const std::string text = (rng() % 2 ? "-0." : "0.") + digits + "E" + std::to_string(exponent);
  std::string normalized;
  EXPECT_TRUE(NormalizeNumber(text, &normalized).ok()) << text;
  return normalized;
}

std::string RandomBytes(std::mt19937_64& rng) {
  static const char kAlphabet[] = {'\0', '\x01', 'a', 'b', '\x7f', '\x80', '\xfe', '\xff'};
  std::string s(rng() % 6, ' ');
  for (char& c : s) c = kAlphabet[rng() % sizeof(kAlphabet)];
  return s;
}

AttributeValue RandomKeyValue(std::mt19937_64& rng, AttributeValue::Type type) {
  if (type == AttributeValue::Type::kN) return AV::N(RandomNumber(rng));
  const std::string bytes = RandomBytes(rng);
  return type == AttributeValue::Type::kS ? AV::S(bytes) : AV::B(bytes);
}

TEST(ItemsValues, KeyByteOrderIsValueOrder) {
  std::mt19937_64 rng(20261202);
  for (AttributeValue::Type type :
       {AttributeValue::Type::kS, AttributeValue::Type::kN, AttributeValue::Type::kB}) {
    std::vector<AttributeValue> values;
    for (int i = 0; i < 3000; ++i) values.push_back(RandomKeyValue(rng, type));
    for (size_t i = 0; i + 1 < values.size(); ++i) {
      const AttributeValue& a = values[i];
      const AttributeValue& b = values[(i * 7919 + 1) % values.size()];
      for (const auto& [x, y] : {std::pair(a, b), std::pair(a, values[i + 1])}) {
        ASSERT_EQ(Sign(KeyOf(x).compare(KeyOf(y))), *CompareScalars(x, y))
            << AttributeValueToJson(x) << " vs " << AttributeValueToJson(y);
      }
    }
    // Sorting by encoding sorts by value.
    std::sort(values.begin(), values.end(),
              [](const AttributeValue& x, const AttributeValue& y) { return KeyOf(x) < KeyOf(y); });
    for (size_t i = 0; i + 1 < values.size(); ++i) {
      ASSERT_LE(*CompareScalars(values[i], values[i + 1]), 0)
          << AttributeValueToJson(values[i]) << " then " << AttributeValueToJson(values[i + 1]);
    }
  }
}

TEST(ItemsValues, CompositeKeyOrderIsHashThenRange) {
  std::mt19937_64 rng(11);
  const KeyShape shape{"h", ScalarAttributeType::kS, "r", ScalarAttributeType::kN};
  std::vector<Item> keys;
  for (int i = 0; i < 2000; ++i) {
    std::string h = RandomBytes(rng);
    if (h.empty()) h = "k";
    for (char& c : h) c &= 0x7f;  // S must be UTF-8 in EncodeItemKey
    keys.push_back({{"h", AV::S(h)}, {"r", AV::N(RandomNumber(rng))}});
  }
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    const Item& a = keys[i];
    const Item& b = keys[i + 1];
    std::string ka, kb;
    ASSERT_TRUE(EncodeItemKey(shape, a, true, &ka).ok());
    ASSERT_TRUE(EncodeItemKey(shape, b, true, &kb).ok());
    int want = *CompareScalars(a.at("h"), b.at("h"));
    if (want == 0) want = *CompareScalars(a.at("r"), b.at("r"));
    ASSERT_EQ(Sign(ka.compare(kb)), want) << ItemToJson(a) << " vs " << ItemToJson(b);
    // A partition's keys all start with the hash component, and no other.
    const std::string prefix = KeyOf(a.at("h"));
    EXPECT_EQ(kb.compare(0, prefix.size(), prefix) == 0, a.at("h").scalar == b.at("h").scalar);
    Item back;
    ASSERT_TRUE(DecodeItemKey(shape, ka, &back).ok());
    EXPECT_EQ(ItemToJson(back), ItemToJson(a));
  }
}

TEST(ItemsValues, KeyDecodeRoundTrip) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 3000; ++i) {
    const auto type = static_cast<AttributeValue::Type>(1 + rng() % 3);  // S, N, B
    AttributeValue v = RandomKeyValue(rng, type);
    if (type != AttributeValue::Type::kN && v.scalar.empty()) continue;
    Item key;
    ASSERT_TRUE(DecodeItemKey("pk", "", KeyOf(v), &key).ok()) << AttributeValueToJson(v);
    ASSERT_EQ(key.size(), 1u);
    EXPECT_EQ(key.at("pk").type, v.type);
    EXPECT_EQ(key.at("pk").scalar, v.scalar);  // normalized text, exactly
  }
  Item key;
  ASSERT_TRUE(
      DecodeItemKey("pk", "", KeyOf(AV::N("-9.9999999999999999999999999999999999999E125")), &key)
          .ok());
  EXPECT_EQ(key.at("pk").scalar, "-" + k38Nines + std::string(88, '0'));
}

TEST(ItemsValues, KeyExamples) {
  EXPECT_LT(KeyOf(AV::N("2")), KeyOf(AV::N("10")));
  EXPECT_LT(KeyOf(AV::N("-1.5")), KeyOf(AV::N("-1")));
  EXPECT_LT(KeyOf(AV::N("-1")), KeyOf(AV::N("0")));
  EXPECT_LT(KeyOf(AV::N("0")), KeyOf(AV::N("1E-130")));
  EXPECT_EQ(KeyOf(AV::N("1.0")), KeyOf(AV::N("1")));
  EXPECT_LT(KeyOf(AV::S("a")), KeyOf(AV::S(std::string("a\0", 2))));
  EXPECT_LT(KeyOf(AV::S(std::string("a\0", 2))), KeyOf(AV::S("a\x01")));
  EXPECT_LT(KeyOf(AV::S("a\x7f")), KeyOf(AV::S("a\xff")));
  EXPECT_LT(KeyOf(AV::B("a")), KeyOf(AV::B("ab")));
}

std::string KeyError(const KeyShape& shape, const Item& item, bool exact = true) {
  std::string out = "untouched";
  Status s = EncodeItemKey(shape, item, exact, &out);
  if (s.ok()) return "";
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(out, "untouched");
  return s.ToString();
}

TEST(ItemsValues, EncodeItemKeyChecksTheKey) {
  const KeyShape hash_only{"pk", ScalarAttributeType::kS, "", ScalarAttributeType::kS};
  const KeyShape both{"pk", ScalarAttributeType::kB, "sk", ScalarAttributeType::kS};
  EXPECT_TRUE(Mentions(KeyError(hash_only, {}), "pk"));
  EXPECT_TRUE(Mentions(KeyError(hash_only, {{"pk", AV::N("1")}}), "Type mismatch for key pk"));
  EXPECT_TRUE(Mentions(KeyError(hash_only, {{"pk", AV::S("")}}), "empty"));
  EXPECT_TRUE(Mentions(KeyError(both, {{"pk", AV::B("")}, {"sk", AV::S("a")}}), "empty"));
  EXPECT_TRUE(Mentions(KeyError(both, {{"pk", AV::B("x")}}), "sk"));
  EXPECT_TRUE(Mentions(KeyError(hash_only, {{"pk", AV::S("a")}, {"x", AV::S("b")}}),
                       "does not match the schema"));
  EXPECT_EQ(KeyError(hash_only, {{"pk", AV::S("a")}, {"x", AV::S("b")}}, false), "");
  EXPECT_TRUE(Mentions(KeyError(hash_only, {{"pk", AV::S("\xc3")}}), "UTF-8"));
  EXPECT_EQ(KeyError(hash_only, {{"pk", AV::S(std::string(kMaxHashKeyBytes, 'h'))}}), "");
  EXPECT_TRUE(Mentions(KeyError(hash_only, {{"pk", AV::S(std::string(kMaxHashKeyBytes + 1, 'h'))}}),
                       "2048"));
  EXPECT_EQ(
      KeyError(both, {{"pk", AV::B("x")}, {"sk", AV::S(std::string(kMaxRangeKeyBytes, 'r'))}}), "");
  EXPECT_TRUE(Mentions(
      KeyError(both, {{"pk", AV::B("x")}, {"sk", AV::S(std::string(kMaxRangeKeyBytes + 1, 'r'))}}),
      "1024"));
  const KeyShape numeric{"pk", ScalarAttributeType::kN, "", ScalarAttributeType::kS};
  EXPECT_TRUE(Mentions(KeyError(numeric, {{"pk", AV::N("1E999")}}), "Number overflow"));
  EXPECT_EQ(KeyError(numeric, {{"pk", AV::N("0")}}), "");
  // An unnormalized number in a request key encodes as its value.
  std::string a, b;
  ASSERT_TRUE(EncodeItemKey(numeric, {{"pk", AV::N("1.50")}}, true, &a).ok());
  ASSERT_TRUE(EncodeItemKey(numeric, {{"pk", AV::N("1.5")}}, true, &b).ok());
  EXPECT_EQ(a, b);
}

TEST(ItemsValues, KeyDecoderReportsDamageAsCorruption) {
  Item key;
  for (std::string bad :
       {std::string(""), std::string("\x09"),
        std::string("\x01"
                    "abc"),
        std::string("\x01"
                    "a\0\x02",
                    4),
        std::string("\x05"), std::string("\x05\x81", 2), std::string("\x05\x81\x65\0", 4),
        std::string("\x05\x81\x01\0", 4), std::string("\x04\x04", 2)}) {
    EXPECT_TRUE(DecodeItemKey("pk", "", bad, &key).IsCorruption()) << EncodeHex(bad);
  }
  // A hash-only key read as hash + range misses its range.
  EXPECT_TRUE(DecodeItemKey("pk", "sk", KeyOf(AV::S("a")), &key).IsCorruption());
  std::mt19937_64 rng(5);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes(rng() % 12, ' ');
    for (char& c : bytes) c = static_cast<char>(rng() % 8 == 0 ? rng() % 8 : rng());
    Status s = DecodeItemKey("pk", "sk", bytes, &key);
    ASSERT_TRUE(s.ok() || s.IsCorruption());
    if (s.ok()) {  // whatever decodes re-encodes to the same bytes
      EXPECT_EQ(KeyOf(key.at("pk")) + KeyOf(key.at("sk")), bytes);
    }
  }
}

// A random normalized value of any type, nested up to `depth` levels.
AttributeValue RandomValue(std::mt19937_64& rng, int depth) {
  std::string n = RandomNumber(rng);
  EXPECT_TRUE(NormalizeNumber(n, &n).ok()) << n;
  switch (rng() % (depth > 0 ? 10 : 8)) {
    case 0:
      return AV::S(RandomBytes(rng));
    case 1:
      return AV::N(n);
    case 2:
      return AV::B(RandomBytes(rng));
    case 3:
      return AV::Bool(rng() % 2 == 0);
    case 4:
      return AV::Null();
    case 5:
      return AV::SS({"a" + RandomBytes(rng), "b" + RandomBytes(rng)});
    case 6: {
      std::string m = RandomNumber(rng);
      EXPECT_TRUE(NormalizeNumber(m, &m).ok());
      return m == n ? AV::NS({n}) : AV::NS({n, m});
    }
    case 7:
      return AV::BS({"x", "y" + RandomBytes(rng)});
    case 8: {
      std::map<std::string, AttributeValue> m;
      for (int i = 0; i < 3; ++i) m["k" + std::to_string(rng() % 5)] = RandomValue(rng, depth - 1);
      return AV::M(std::move(m));
    }
    default: {
      std::vector<AttributeValue> l;
      for (int i = 0; i < 3; ++i) l.push_back(RandomValue(rng, depth - 1));
      return AV::L(std::move(l));
    }
  }
}

// The reference: the item as a JSON tree, dumped by nlohmann (what
// ItemToJson wrote before it wrote straight into a string).
nlohmann::json TreeOf(const AttributeValue& v) {
  nlohmann::json body;
  switch (v.type) {
    case AV::Type::kS:
    case AV::Type::kN:
      body = v.scalar;
      break;
    case AV::Type::kB:
      body = EncodeBase64(v.scalar);
      break;
    case AV::Type::kBool:
      body = v.boolean;
      break;
    case AV::Type::kNull:
      body = true;
      break;
    case AV::Type::kM:
      body = nlohmann::json::object();
      for (const auto& [name, child] : v.map) body[name] = TreeOf(child);
      break;
    case AV::Type::kL:
      body = nlohmann::json::array();
      for (const AttributeValue& child : v.list) body.push_back(TreeOf(child));
      break;
    case AV::Type::kSS:
    case AV::Type::kNS:
      body = v.set;
      break;
    case AV::Type::kBS:
      body = nlohmann::json::array();
      for (const std::string& e : v.set) body.push_back(EncodeBase64(e));
      break;
  }
  nlohmann::json j = nlohmann::json::object();
  j[std::string(AttributeTypeName(v.type))] = std::move(body);
  return j;
}

// Item JSON is written straight into a string (every GetItem and Query
// answer of the endpoint): byte for byte what a JSON library writes, for
// quotes, backslashes, control characters, multi-byte UTF-8, and strings
// that are not UTF-8 at all (replaced, never thrown or passed through).
TEST(ItemsValues, ItemJsonIsWrittenAsAJsonLibraryWritesIt) {
  std::mt19937_64 rng(7);
  const std::vector<std::string> tricky = {"",
                                           "plain",
                                           "q\"uote",
                                           "back\\slash",
                                           std::string("nul\0x", 5),
                                           "\x01\x1f\x7f",
                                           "\b\f\n\r\t",
                                           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                                           "bad\xff",
                                           "cut\xe2\x82",
                                           "surrogate\xed\xa0\x80",
                                           "/slash"};
  for (int i = 0; i < 3000; ++i) {
    Item item;
    for (int a = 0; a < 5; ++a) item["a" + std::to_string(rng() % 10)] = RandomValue(rng, 3);
    const std::string& t = tricky[rng() % tricky.size()];
    item[t] = AV::S(tricky[rng() % tricky.size()]);
    item["m"] = AV::M({{t, AV::SS({t, "z"})}});
    nlohmann::json want = nlohmann::json::object();
    for (const auto& [name, value] : item) want[name] = TreeOf(value);
    ASSERT_EQ(ItemToJson(item),
              want.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    std::string appended = "[";
    AppendItemJson(item, &appended);
    ASSERT_EQ(appended, "[" + ItemToJson(item));
    for (const auto& [name, value] : item) {
      ASSERT_EQ(AttributeValueToJson(value),
                TreeOf(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
}

// Pages are sized off the encoded bytes: it must be the cloud's size.
TEST(ItemsValues, EncodedItemSizeEqualsItemSize) {
  std::mt19937_64 rng(20261206);
  for (int i = 0; i < 2000; ++i) {
    Item item;
    for (int a = 0; a < 6; ++a) item["a" + std::to_string(rng() % 10)] = RandomValue(rng, 3);
    std::string bytes;
    EncodeItem(item, &bytes);
    size_t size = 0;
    ASSERT_TRUE(EncodedItemSize(bytes, &size).ok());
    ASSERT_EQ(size, ItemSize(item)) << ItemToJson(item);
  }
  std::string bytes;
  EncodeItem({{"n", AV::N("12")}}, &bytes);
  size_t size = 0;
  EXPECT_TRUE(EncodedItemSize(bytes.substr(0, bytes.size() - 1), &size).IsCorruption());
}

// The same set written in any order is stored as the same bytes (a re-put
// changes nothing), NS in value order, SS and BS bytewise.
TEST(ItemsValues, SetsAreStoredInCanonicalOrder) {
  Item a = {{"ns", AV::NS({"10", "9", "-1.5", "1E1x"})}};
  EXPECT_FALSE(NormalizeItem(&a).ok());  // invalid: order left alone, error reported
  Item b = {{"ns", AV::NS({"10", "9", "-1.5", "0.5"})},
            {"ss", AV::SS({"b", "a", "ab"})},
            {"bs", AV::BS({std::string("\xff", 1), std::string("\x00", 1)})}};
  ASSERT_TRUE(NormalizeItem(&b).ok());
  EXPECT_EQ(b["ns"].set, (std::vector<std::string>{"-1.5", "0.5", "9", "10"}));
  EXPECT_EQ(b["ss"].set, (std::vector<std::string>{"a", "ab", "b"}));
  EXPECT_EQ(b["bs"].set, (std::vector<std::string>{std::string("\x00", 1), "\xff"}));
  Item c = {{"ns", AV::NS({"0.5", "1e1", "-1.5", "9"})},
            {"ss", AV::SS({"ab", "b", "a"})},
            {"bs", AV::BS({std::string("\x00", 1), std::string("\xff", 1)})}};
  ASSERT_TRUE(NormalizeItem(&c).ok());
  std::string eb, ec;
  EncodeItem(b, &eb);
  EncodeItem(c, &ec);
  EXPECT_EQ(eb, ec);
}

}  // namespace
}  // namespace runnel::items
