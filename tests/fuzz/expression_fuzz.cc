// Copyright 2026 The runnel Authors.
//
// Fuzzes the DynamoDB expression parser (db/items/expression.h) and the
// evaluation of what it accepts. The first byte picks the expression kind,
// the rest is its text:
//
//   0: ConditionExpression (then evaluated against a sample item and an
//      empty one)
//   1: UpdateExpression (then applied to a copy of the sample item)
//   2: ProjectionExpression (then projected from the sample item)
//   3: KeyConditionExpression (hash pk:S, range sk:N)
//
// Names #a #b #n and values :s :n :b :l :m :ss :ns :bs :t :z :e are
// defined. Any Status is fine; a crash, an exception, undefined behaviour
// or a parse that answers differently the second time is not.

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "db/items/expression.h"
#include "runnel/item.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using runnel::AttributeNames;
using runnel::AttributeValue;
using runnel::Item;
using runnel::Status;
namespace items = runnel::items;
using V = AttributeValue;

struct Fixture {
  AttributeNames names{{"#a", "a"}, {"#b", "size"}, {"#n", "n"}};
  Item values{
      {":s", V::S("ab")},
      {":n", V::N("1.5")},
      {":b", V::B(std::string("\x00\x01", 2))},
      {":l", V::L({V::S("x"), V::N("2")})},
      {":m", V::M({{"k", V::S("v")}})},
      {":ss", V::SS({"a", "b"})},
      {":ns", V::NS({"1", "2"})},
      {":bs", V::BS({"x"})},
      {":t", V::S("N")},
      {":z", V::Null()},
      {":e", V::L({})},
  };
  Item item{
      {"pk", V::S("p")},
      {"sk", V::N("7")},
      {"a", V::S("abc")},
      {"n", V::N("10")},
      {"size", V::N("3")},
      {"l", V::L({V::S("x"), V::M({{"c", V::NS({"1"})}}), V::L({V::N("1")})})},
      {"m", V::M({{"k", V::S("v")}, {"d", V::M({{"e", V::BS({"q"})}})}})},
      {"ss", V::SS({"a"})},
  };
  items::KeyShape shape{"pk", runnel::ScalarAttributeType::kS, "sk",
                        runnel::ScalarAttributeType::kN};
};

// Parses `text` as `mode` and exercises the result; returns the parse status.
Status Run(const Fixture& fx, int mode, std::string_view text) {
  items::ExpressionContext ctx(fx.names, fx.values);
  Status s;
  if (mode == 0) {
    std::shared_ptr<const items::Condition> c;
    s = ctx.ParseCondition(text, "ConditionExpression", &c);
    if (s.ok()) {
      (void)c->Evaluate(fx.item);
      (void)c->Evaluate(Item());
    }
  } else if (mode == 1) {
    std::shared_ptr<const items::Update> u;
    s = ctx.ParseUpdate(text, &u);
    if (s.ok()) {
      Item copy = fx.item;
      std::set<std::string> updated;
      (void)u->Apply(&copy, &updated);
      Item empty;
      (void)u->Apply(&empty, &updated);
      runnel::fuzz::Check(!u->TopLevelNames().empty(), "an update without paths");
    }
  } else if (mode == 2) {
    std::vector<items::Path> paths;
    s = ctx.ParseProjection(text, &paths);
    if (s.ok()) {
      Item out;
      items::Project(fx.item, paths, &out);
      for (const items::Path& p : paths) (void)items::PathToString(p);
    }
  } else {
    items::KeyCondition k;
    s = ctx.ParseKeyCondition(text, fx.shape, &k);
  }
  (void)ctx.CheckAllUsed();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* fx = new Fixture();
  if (size == 0) return 0;
  const int mode = data[0] % 4;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const Status first = Run(*fx, mode, text);
  const Status second = Run(*fx, mode, text);
  runnel::fuzz::Check(first.ToString() == second.ToString(), "parse is not deterministic");
  return 0;
}
