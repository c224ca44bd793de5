// Copyright 2026 The runnel Authors.
//
// The model's rules over values. Messages follow the cloud's
// ValidationException texts where it has one, with the attribute path added
// (the cloud often leaves it out; a local store can afford to say).

#include "db/items/value.h"

#include <algorithm>
#include <string>
#include <vector>

#include "db/items/number.h"
#include "util/utf8.h"

namespace runnel::items {
namespace {

using Type = AttributeValue::Type;

Status Invalid(std::string_view what, std::string_view why) {
  std::string msg = "One or more parameter values were invalid: ";
  msg += why;
  msg += " (attribute \"";
  msg += what;
  msg += "\")";
  return Status::InvalidArgument(msg);
}

// Number errors already name the number; add the attribute.
Status NumberError(std::string_view what, const Status& s) {
  std::string msg(s.message());
  msg += " (attribute \"";
  msg += what;
  msg += "\")";
  return Status::InvalidArgument(msg);
}

Status CheckUtf8(std::string_view what, std::string_view s) {
  if (ValidUtf8(s)) return Status::OK();
  return Invalid(what, "a string is not valid UTF-8");
}

Status NormalizeSet(std::string_view what, AttributeValue* value) {
  if (value->set.empty()) {
    return Invalid(what,
                   "An " + std::string(AttributeTypeName(value->type)) + " set may not be empty");
  }
  for (std::string& e : value->set) {
    if (value->type == Type::kNS) {
      Status s = NormalizeNumber(e, &e);
      if (!s.ok()) return NumberError(what, s);
    } else if (value->type == Type::kSS) {
      Status s = CheckUtf8(what, e);
      if (!s.ok()) return s;
    }
  }
  // Numbers are normalized by now, so equal values have equal texts, and
  // sorted equal elements are neighbours.
  SortSet(value);
  const auto dup = std::adjacent_find(value->set.begin(), value->set.end());
  if (dup != value->set.end()) {
    std::string shown =
        value->type == Type::kBS ? "a binary value" : "\"" + std::string(*dup) + "\"";
    return Invalid(what, "Input collection contains duplicates: " + shown);
  }
  return Status::OK();
}

}  // namespace

void SortSet(AttributeValue* set) {
  if (set->type != Type::kNS) {
    std::sort(set->set.begin(), set->set.end());
    return;
  }
  std::vector<std::pair<Number, size_t>> numbers(set->set.size());
  for (size_t i = 0; i < set->set.size(); ++i) {
    // Not normalized yet (the caller reports it): leave the order.
    if (!Number::Parse(set->set[i], &numbers[i].first).ok()) return;
    numbers[i].second = i;
  }
  std::stable_sort(numbers.begin(), numbers.end(), [](const auto& a, const auto& b) {
    return Number::Compare(a.first, b.first) < 0;
  });
  std::vector<std::string> sorted;
  sorted.reserve(numbers.size());
  for (const auto& n : numbers) sorted.push_back(std::move(set->set[n.second]));
  set->set = std::move(sorted);
}

size_t NumberSize(std::string_view text) {
  // Without an exponent (every stored number: normalized text is plain
  // decimal), the significant digits are the digits between the first and
  // the last non-zero one: counted without parsing, as readers size every
  // number of every item they page through.
  if (text.find_first_of("eE") == std::string_view::npos) {
    const size_t first = text.find_first_of("123456789");
    if (first == std::string_view::npos) return 1;  // zero: (0 + 1) / 2 + 1
    const size_t last = text.find_last_of("123456789");
    size_t digits = 0;
    for (size_t i = first; i <= last; ++i) digits += text[i] >= '0' && text[i] <= '9';
    return (digits + 1) / 2 + 1;
  }
  Number n;
  size_t digits;
  if (Number::Parse(text, &n).ok()) {
    digits = n.digits().size();
  } else {  // not normalized yet: count what looks like digits
    digits = static_cast<size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }));
  }
  return (digits + 1) / 2 + 1;
}

Status NormalizeValue(std::string_view what, AttributeValue* value, size_t depth) {
  switch (value->type) {
    case Type::kS:
      return CheckUtf8(what, value->scalar);
    case Type::kN: {
      Status s = NormalizeNumber(value->scalar, &value->scalar);
      return s.ok() ? s : NumberError(what, s);
    }
    case Type::kB:
    case Type::kBool:
    case Type::kNull:
      return Status::OK();
    case Type::kSS:
    case Type::kNS:
    case Type::kBS:
      return NormalizeSet(what, value);
    case Type::kM:
    case Type::kL:
      break;
  }
  // The 33rd document nested in another is one too many.
  if (depth >= kMaxNestingDepth) {
    return Invalid(what, "Nesting Levels have exceeded supported limits");
  }
  if (value->type == Type::kL) {
    for (size_t i = 0; i < value->list.size(); ++i) {
      const std::string child = std::string(what) + "[" + std::to_string(i) + "]";
      Status s = NormalizeValue(child, &value->list[i], depth + 1);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }
  for (auto& [name, child] : value->map) {
    const std::string path = std::string(what) + "." + name;
    Status s = CheckUtf8(path, name);
    if (s.ok()) s = NormalizeValue(path, &child, depth + 1);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status NormalizeItem(Item* item) {
  for (auto& [name, value] : *item) {
    if (name.empty()) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: An attribute name may not be empty");
    }
    Status s = CheckUtf8(name, name);
    if (s.ok()) s = NormalizeValue(name, &value, 0);
    if (!s.ok()) return s;
  }
  const size_t size = ItemSize(*item);
  if (size > kMaxItemBytes) {
    return Status::InvalidArgument("Item size has exceeded the maximum allowed size (" +
                                   std::to_string(size) + " bytes, the limit is " +
                                   std::to_string(kMaxItemBytes) + ")");
  }
  return Status::OK();
}

size_t ValueSize(const AttributeValue& value) {
  switch (value.type) {
    case Type::kS:
    case Type::kB:
      return value.scalar.size();
    case Type::kN:
      return NumberSize(value.scalar);
    case Type::kBool:
    case Type::kNull:
      return 1;
    case Type::kSS:
    case Type::kBS: {
      size_t n = 0;
      for (const std::string& e : value.set) n += e.size();
      return n;
    }
    case Type::kNS: {
      size_t n = 0;
      for (const std::string& e : value.set) n += NumberSize(e);
      return n;
    }
    case Type::kL: {
      size_t n = 3;
      for (const AttributeValue& e : value.list) n += 1 + ValueSize(e);
      return n;
    }
    case Type::kM: {
      size_t n = 3;
      for (const auto& [name, e] : value.map) n += 1 + name.size() + ValueSize(e);
      return n;
    }
  }
  return 0;
}

size_t ItemSize(const Item& item) {
  size_t n = 0;
  for (const auto& [name, value] : item) n += name.size() + ValueSize(value);
  return n;
}

std::optional<int> CompareScalars(const AttributeValue& a, const AttributeValue& b) {
  if (a.type != b.type) return std::nullopt;
  switch (a.type) {
    case Type::kS:
    case Type::kB: {
      // std::string compares as unsigned bytes (char_traits<char>::lt).
      const int c = a.scalar.compare(b.scalar);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Type::kN: {
      Number x, y;
      if (Number::Parse(a.scalar, &x).ok() && Number::Parse(b.scalar, &y).ok()) {
        return Number::Compare(x, y);
      }
      const int c = a.scalar.compare(b.scalar);  // unnormalized garbage: by text
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    default:
      return std::nullopt;
  }
}

}  // namespace runnel::items
