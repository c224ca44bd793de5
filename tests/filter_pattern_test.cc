// Copyright 2026 The runnel Authors.
//
// The FilterCriteria pattern matcher: every operator, typed DynamoDB values,
// nested maps, $or, and invalid patterns with their messages.

#include "triggers/filter_pattern.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runnel/triggers.h"

namespace runnel {
namespace {

using ojson = nlohmann::ordered_json;

// A stream record as the function receives it (RecordJson's shape).
ojson Record(const std::string& event_name, const std::string& new_image,
             const std::string& old_image = "") {
  ojson r = ojson::parse(R"({
    "eventID": "7eb8", "eventName": "", "eventVersion": "1.1",
    "eventSource": "aws:dynamodb", "awsRegion": "eu-central-1",
    "dynamodb": {"ApproximateCreationDateTime": 1767323045.678,
                 "Keys": {"pk": {"S": "order#17"}, "sk": {"N": "3"}},
                 "SequenceNumber": "111", "SizeBytes": 6,
                 "StreamViewType": "NEW_AND_OLD_IMAGES"},
    "eventSourceARN": "arn:aws:dynamodb:eu-central-1:123456789012:table/T/stream/x"})");
  r["eventName"] = event_name;
  if (!new_image.empty()) r["dynamodb"]["NewImage"] = ojson::parse(new_image);
  if (!old_image.empty()) r["dynamodb"]["OldImage"] = ojson::parse(old_image);
  return r;
}

const ojson& Order() {
  static const ojson r = Record("INSERT", R"({
      "pk": {"S": "order#17"}, "sk": {"N": "3"},
      "price": {"N": "150.5"}, "qty": {"N": "2"}, "status": {"S": "Shipped"},
      "file": {"S": "report.PNG"}, "paid": {"BOOL": true}, "note": {"NULL": true},
      "tags": {"SS": ["red", "blue"]}, "sizes": {"NS": ["7", "42"]},
      "address": {"M": {"city": {"S": "Berlin"}, "zip": {"S": "10115"}}},
      "empty": {"S": ""}})",
                                R"({"pk": {"S": "order#17"}, "price": {"N": "99"}})");
  return r;
}

bool Matches(const std::string& pattern, const ojson& record = Order()) {
  FilterPattern p;
  Status s = FilterPattern::Compile(pattern, &p);
  EXPECT_TRUE(s.ok()) << pattern << ": " << s.ToString();
  return s.ok() && p.Matches(record);
}

// The compile error's message ("" if it compiled).
std::string Error(const std::string& pattern) {
  FilterPattern p;
  Status s = FilterPattern::Compile(pattern, &p);
  return s.ok() ? "" : s.message();
}

TEST(FilterPattern, ExactValuesAndOrLists) {
  EXPECT_TRUE(Matches(R"({"eventName": ["INSERT"]})"));
  EXPECT_FALSE(Matches(R"({"eventName": ["MODIFY"]})"));
  EXPECT_TRUE(Matches(R"({"eventName": ["MODIFY", "INSERT"]})"));
  EXPECT_FALSE(Matches(R"({"eventName": ["insert"]})"));  // case matters
  EXPECT_TRUE(Matches(R"({"eventSource": ["aws:dynamodb"], "awsRegion": ["eu-central-1"]})"));
  EXPECT_FALSE(Matches(R"({"eventSource": ["aws:dynamodb"], "awsRegion": ["us-east-1"]})"));
  EXPECT_TRUE(Matches(R"({"dynamodb": {"Keys": {"pk": {"S": ["order#17"]}}}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb": {"NewImage": {"paid": {"BOOL": [true]}}}})"));
  EXPECT_FALSE(Matches(R"({"dynamodb": {"NewImage": {"paid": {"BOOL": [false]}}}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb": {"NewImage": {"note": {"NULL": [true]}}}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb": {"NewImage": {"empty": {"S": [""]}}}})"));
  // An absent field matches no value.
  EXPECT_FALSE(Matches(R"({"dynamodb": {"NewImage": {"missing": {"S": [""]}}}})"));
}

TEST(FilterPattern, NullMatchesOnlyNull) {
  const ojson r = ojson::parse(R"({"a": null, "b": "x"})");
  EXPECT_TRUE(Matches(R"({"a": [null]})", r));
  EXPECT_FALSE(Matches(R"({"b": [null]})", r));
  EXPECT_FALSE(Matches(R"({"c": [null]})", r));
}

TEST(FilterPattern, TypedNumbersCompareAsNumbers) {
  // N values are strings in DynamoDB JSON: numeric operators read them.
  EXPECT_TRUE(
      Matches(R"({"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">", 100]}]}}}})"));
  EXPECT_FALSE(
      Matches(R"({"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">", 150.5]}]}}}})"));
  EXPECT_TRUE(
      Matches(R"({"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">=", 150.5]}]}}}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb": {"NewImage": {"qty": {"N": [{"numeric": ["=", 2]}]}}}})"));
  EXPECT_TRUE(Matches(
      R"({"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">", 100, "<=", 200]}]}}}})"));
  EXPECT_FALSE(Matches(
      R"({"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">", 0, "<", 100]}]}}}})"));
  EXPECT_TRUE(
      Matches(R"({"dynamodb": {"NewImage": {"price": {"N": [{"numeric": ["<", 1000]}]}}}})"));
  // The old image is matched on its own.
  EXPECT_TRUE(
      Matches(R"({"dynamodb": {"OldImage": {"price": {"N": [{"numeric": ["<", 100]}]}}}})"));
  // An exact number equals the N string numerically; the string as a string.
  EXPECT_TRUE(Matches(R"({"dynamodb": {"NewImage": {"qty": {"N": [2]}}}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb": {"NewImage": {"qty": {"N": [2.0]}}}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb": {"NewImage": {"qty": {"N": ["2"]}}}})"));
  EXPECT_FALSE(Matches(R"({"dynamodb": {"NewImage": {"qty": {"N": ["2.0"]}}}})"));
  // Keys too, and number sets (any element).
  EXPECT_TRUE(Matches(R"({"dynamodb": {"Keys": {"sk": {"N": [{"numeric": [">", 2]}]}}}})"));
  EXPECT_TRUE(
      Matches(R"({"dynamodb": {"NewImage": {"sizes": {"NS": [{"numeric": [">", 40]}]}}}})"));
  EXPECT_FALSE(
      Matches(R"({"dynamodb": {"NewImage": {"sizes": {"NS": [{"numeric": [">", 50]}]}}}})"));
  // A string that is not under N is not a number.
  EXPECT_FALSE(Matches(R"({"dynamodb": {"SequenceNumber": [{"numeric": [">", 1]}]}})"));
  // JSON numbers are numbers wherever they are.
  EXPECT_TRUE(Matches(R"({"dynamodb": {"SizeBytes": [{"numeric": ["<", 10]}]}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb": {"SizeBytes": [6]}})"));
}

TEST(FilterPattern, PrefixSuffixAndIgnoreCase) {
  const std::string img = R"({"dynamodb": {"NewImage": {)";
  EXPECT_TRUE(Matches(img + R"("status": {"S": [{"prefix": "Ship"}]}}}})"));
  EXPECT_FALSE(Matches(img + R"("status": {"S": [{"prefix": "ship"}]}}}})"));
  EXPECT_TRUE(Matches(img + R"("status": {"S": [{"prefix": {"equals-ignore-case": "sHIP"}}]}}}})"));
  EXPECT_TRUE(Matches(img + R"("file": {"S": [{"suffix": ".PNG"}]}}}})"));
  EXPECT_FALSE(Matches(img + R"("file": {"S": [{"suffix": ".png"}]}}}})"));
  EXPECT_TRUE(Matches(img + R"("file": {"S": [{"suffix": {"equals-ignore-case": ".png"}}]}}}})"));
  EXPECT_TRUE(Matches(img + R"("status": {"S": [{"equals-ignore-case": "SHIPPED"}]}}}})"));
  EXPECT_FALSE(Matches(img + R"("status": {"S": [{"equals-ignore-case": "SHIP"}]}}}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "order#"}]}}}})"));
  // Prefix of a longer string than the value, and of a number.
  EXPECT_FALSE(Matches(img + R"("status": {"S": [{"prefix": "Shipped!"}]}}}})"));
  EXPECT_FALSE(Matches(img + R"("qty": {"N": [{"prefix": "x"}]}}}})"));
}

TEST(FilterPattern, AnythingBut) {
  const std::string img = R"({"dynamodb": {"NewImage": {)";
  EXPECT_TRUE(Matches(R"({"eventName": [{"anything-but": "REMOVE"}]})"));
  EXPECT_FALSE(Matches(R"({"eventName": [{"anything-but": "INSERT"}]})"));
  EXPECT_FALSE(Matches(R"({"eventName": [{"anything-but": ["MODIFY", "INSERT"]}]})"));
  EXPECT_TRUE(Matches(R"({"eventName": [{"anything-but": ["MODIFY", "REMOVE"]}]})"));
  EXPECT_FALSE(Matches(img + R"("qty": {"N": [{"anything-but": 2}]}}}})"));
  EXPECT_TRUE(Matches(img + R"("qty": {"N": [{"anything-but": [1, 3]}]}}}})"));
  EXPECT_FALSE(Matches(img + R"("status": {"S": [{"anything-but": {"prefix": "Ship"}}]}}}})"));
  EXPECT_TRUE(Matches(img + R"("status": {"S": [{"anything-but": {"prefix": "Pend"}}]}}}})"));
  EXPECT_FALSE(Matches(img + R"("file": {"S": [{"anything-but": {"suffix": ".PNG"}}]}}}})"));
  EXPECT_TRUE(Matches(img + R"("file": {"S": [{"anything-but": {"suffix": ".png"}}]}}}})"));
  EXPECT_FALSE(Matches(
      img + R"("status": {"S": [{"anything-but": {"equals-ignore-case": "shipped"}}]}}}})"));
  EXPECT_TRUE(Matches(
      img + R"("status": {"S": [{"anything-but": {"equals-ignore-case": ["a", "b"]}}]}}}})"));
  // anything-but needs a value: an absent field does not match.
  EXPECT_FALSE(Matches(img + R"("missing": {"S": [{"anything-but": "x"}]}}}})"));
  // A set matches if any element is not excluded.
  EXPECT_TRUE(Matches(img + R"("tags": {"SS": [{"anything-but": "red"}]}}}})"));
  EXPECT_FALSE(Matches(img + R"("tags": {"SS": [{"anything-but": ["red", "blue"]}]}}}})"));
}

TEST(FilterPattern, Exists) {
  const std::string img = R"({"dynamodb": {"NewImage": {)";
  EXPECT_TRUE(Matches(img + R"("status": {"S": [{"exists": true}]}}}})"));
  EXPECT_FALSE(Matches(img + R"("status": {"S": [{"exists": false}]}}}})"));
  EXPECT_TRUE(Matches(img + R"("missing": {"S": [{"exists": false}]}}}})"));
  EXPECT_FALSE(Matches(img + R"("missing": {"S": [{"exists": true}]}}}})"));
  // As in the cloud, exists looks at leaves: an attribute (an object) is not
  // one, so the pattern must name its type.
  EXPECT_FALSE(Matches(img + R"("status": [{"exists": true}]}}})"));
  // A record without an old image has no OldImage leaves.
  const ojson insert = Record("INSERT", R"({"pk": {"S": "a"}})");
  EXPECT_TRUE(Matches(R"({"dynamodb": {"OldImage": {"pk": {"S": [{"exists": false}]}}}})", insert));
  EXPECT_FALSE(Matches(R"({"dynamodb": {"OldImage": {"pk": {"S": [{"exists": true}]}}}})", insert));
  // exists combines with values in an OR list.
  EXPECT_TRUE(Matches(img + R"("missing": {"S": ["x", {"exists": false}]}}}})"));
}

TEST(FilterPattern, NestedMapsAndAnd) {
  EXPECT_TRUE(
      Matches(R"({"dynamodb": {"NewImage": {"address": {"M": {"city": {"S": ["Berlin"]}}}}}})"));
  EXPECT_FALSE(
      Matches(R"({"dynamodb": {"NewImage": {"address": {"M": {"city": {"S": ["Paris"]}}}}}})"));
  // Every field must match (AND).
  EXPECT_TRUE(Matches(R"({"eventName": ["INSERT"], "dynamodb": {"NewImage": {
      "address": {"M": {"zip": {"S": [{"prefix": "10"}]}}},
      "price": {"N": [{"numeric": [">", 100]}]}}}})"));
  EXPECT_FALSE(Matches(R"({"eventName": ["INSERT"], "dynamodb": {"NewImage": {
      "address": {"M": {"zip": {"S": [{"prefix": "20"}]}}},
      "price": {"N": [{"numeric": [">", 100]}]}}}})"));
  // Arrays of objects: some element matches the nested pattern.
  const ojson list = Record("INSERT", R"({"items": {"L": [{"S": "a"}, {"N": "5"}]}})");
  EXPECT_TRUE(Matches(
      R"({"dynamodb": {"NewImage": {"items": {"L": {"N": [{"numeric": [">", 4]}]}}}}})", list));
  EXPECT_FALSE(Matches(R"({"dynamodb": {"NewImage": {"items": {"L": {"S": ["b"]}}}}})", list));
}

TEST(FilterPattern, Or) {
  EXPECT_TRUE(Matches(R"({"$or": [{"eventName": ["REMOVE"]},
      {"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">", 100]}]}}}}]})"));
  EXPECT_FALSE(Matches(R"({"$or": [{"eventName": ["REMOVE"]},
      {"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">", 1000]}]}}}}]})"));
  // Nested inside an object, and combined with fields beside it.
  EXPECT_TRUE(Matches(R"({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"$or": [
      {"status": {"S": ["Pending"]}}, {"qty": {"N": [2]}}]}}})"));
  EXPECT_FALSE(Matches(R"({"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"$or": [
      {"status": {"S": ["Pending"]}}, {"qty": {"N": [2]}}]}}})"));
}

TEST(FilterPattern, SetDeliversWhenAnyFilterMatches) {
  FilterSet none;
  ASSERT_TRUE(FilterSet::Compile({}, &none).ok());
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.Matches(Order()));
  FilterSet set;
  ASSERT_TRUE(FilterSet::Compile({R"({"eventName": ["REMOVE"]})",
                                  R"({"dynamodb": {"NewImage": {"qty": {"N": [2]}}}})"},
                                 &set)
                  .ok());
  EXPECT_TRUE(set.Matches(Order()));
  EXPECT_FALSE(set.Matches(Record("MODIFY", R"({"qty": {"N": "3"}})")));
  EXPECT_TRUE(set.Matches(Record("REMOVE", "")));
}

TEST(FilterPattern, InvalidPatternsAreRefusedWithTheProblem) {
  EXPECT_EQ(Error("{"), "pattern: not valid JSON");
  EXPECT_EQ(Error(R"(["INSERT"])"), "pattern: expected a JSON object, got [\"INSERT\"]");
  EXPECT_EQ(Error("{}"), "pattern: an empty object matches nothing; name at least one field");
  EXPECT_EQ(Error(R"({"eventName": "INSERT"})"),
            "key eventName: expected a list of values or operators (like [\"INSERT\"]) or an "
            "object, got \"INSERT\"");
  EXPECT_EQ(Error(R"({"eventName": []})"),
            "key eventName: an empty list matches nothing; give at least one value");
  EXPECT_EQ(Error(R"({"a": [["x"]]})"),
            "key a: a list of a pattern holds values and operator objects, not lists; got "
            "[\"x\"]");
  EXPECT_EQ(Error(R"({"dynamodb": {"NewImage": {"p": {"N": [{"numeric": [">>", 1]}]}}}})"),
            "key dynamodb.NewImage.p.N: numeric: unknown comparison \">>\"; expected =, <, <=, > "
            "or >=");
  EXPECT_EQ(Error(R"({"a": [{"numeric": [">", "1"]}]})"),
            "key a: numeric: the value after \">\" must be a number, got \"1\"");
  EXPECT_NE(Error(R"({"a": [{"numeric": [">"]}]})").find("key a: numeric: expected"),
            std::string::npos);
  EXPECT_EQ(Error(R"({"a": [{"numeric": ["<", 5, ">", 1]}]})"),
            "key a: numeric: a range is a lower bound (> or >=) then an upper bound (< or <=), "
            "got [\"<\",5,\">\",1]");
  EXPECT_EQ(Error(R"({"a": [{"numeric": [">", 5, "<", 1]}]})"),
            "key a: numeric: the lower bound must be below the upper bound, got [\">\",5,\"<\",1]");
  EXPECT_EQ(Error(R"({"a": [{"numeric": [">", 6e9]}]})"),
            "key a: numeric: 6000000000.0 is outside -5e9..5e9, the range of numeric matching");
  EXPECT_EQ(Error(R"({"a": [{"prefix": 1}]})"),
            "key a: prefix: expected a string or {\"equals-ignore-case\": \"...\"}, got 1");
  EXPECT_EQ(Error(R"({"a": [{"suffix": {"x": "y"}}]})"),
            "key a: suffix: expected a string or {\"equals-ignore-case\": \"...\"}, got "
            "{\"x\":\"y\"}");
  EXPECT_EQ(Error(R"({"a": [{"exists": "yes"}]})"),
            "key a: exists: expected true or false, got \"yes\"");
  EXPECT_EQ(Error(R"({"a": [{"equals-ignore-case": 3}]})"),
            "key a: equals-ignore-case: expected a string, got 3");
  EXPECT_NE(Error(R"({"a": [{"anything-but": ["x", 1]}]})").find("key a: anything-but: expected"),
            std::string::npos);
  EXPECT_NE(Error(R"({"a": [{"anything-but": []}]})").find("key a: anything-but: expected"),
            std::string::npos);
  EXPECT_NE(Error(R"({"a": [{"anything-but": true}]})").find("key a: anything-but: expected"),
            std::string::npos);
  EXPECT_EQ(Error(R"({"a": [{"anything-but": {"prefix": 1}}]})"),
            "key a: anything-but: prefix: expected a string, got 1");
  EXPECT_EQ(Error(R"({"a": [{"contains": "x"}]})"),
            "key a: unknown operator \"contains\"; expected prefix, suffix, equals-ignore-case, "
            "anything-but, numeric or exists");
  EXPECT_EQ(Error(R"({"a": [{"wildcard": "*x"}]})"),
            "key a: operator \"wildcard\" is not supported by runnel's filters");
  EXPECT_EQ(Error(R"({"a": [{"prefix": "x", "suffix": "y"}]})"),
            "key a: an operator object has exactly one operator, got {\"prefix\":\"x\",\"suffix\":"
            "\"y\"}");
  EXPECT_EQ(Error(R"({"$or": [{"a": ["x"]}]})"),
            "key $or: expected a list of at least two patterns (objects), got [{\"a\":[\"x\"]}]");
  EXPECT_EQ(Error(R"({"d": {"$or": [{"a": ["x"]}, 3]}})"),
            "key d.$or: each alternative must be an object, got 3");
  EXPECT_EQ(Error(R"({"$or": [{"a": ["x"]}, {"b": [{"numeric": 1}]}]})").substr(0, 16),
            "key b: numeric: ");
}

TEST(FilterPattern, SetLimits) {
  FilterSet set;
  const std::string p = R"({"eventName": ["INSERT"]})";
  Status s = FilterSet::Compile(std::vector<std::string>(6, p), &set);
  EXPECT_EQ(s.message(), "FilterCriteria: at most 5 filters, got 6");
  EXPECT_TRUE(FilterSet::Compile(std::vector<std::string>(5, p), &set).ok());
  // 4096 characters are allowed, 4097 are not.
  std::string big = R"({"eventName": [")";
  big += std::string(4096 - big.size() - 3, 'x') + R"("]})";
  ASSERT_EQ(big.size(), kMaxFilterPatternLength);
  EXPECT_TRUE(FilterSet::Compile({big}, &set).ok());
  big.insert(16, "y");
  ASSERT_TRUE(FilterSet::Compile({p}, &set).ok());
  s = FilterSet::Compile({p, big}, &set);
  EXPECT_EQ(s.message(), "FilterCriteria.Filters[1].Pattern: 4097 characters; the limit is 4096");
  s = FilterSet::Compile({p, R"({"eventName": "INSERT"})"}, &set);
  EXPECT_EQ(s.message().substr(0, 48), "FilterCriteria.Filters[1].Pattern: key eventName");
  // A failed compile leaves the set as it was.
  EXPECT_TRUE(set.Matches(Order()));
  EXPECT_FALSE(set.empty());
}

}  // namespace
}  // namespace runnel
