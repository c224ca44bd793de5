// Copyright 2026 The runnel Authors.
//
// Format of one component: a tag byte, then
//
//   S (0x01), B (0x02): the bytes with 0x00 escaped as 0x00 0xFF, ended by
//       0x00 0x01. The terminator sorts below every byte and below an escaped
//       0x00, so a value sorts before its extensions ("a" < "a\0" < "ab") and
//       the component ends unambiguously.
//   N: the tag is the sign (0x03 negative, 0x04 zero, 0x05 positive); zero
//       has no body. Otherwise: one byte of exponent (e + 129, the value being
//       0.DIGITS * 10^e, e in -129..126), then the digits packed two a byte as
//       d1*10 + d2 + 1 (1..100; an odd last digit is padded with 0), ended by
//       0x00. Larger exponents are larger magnitudes; at equal exponents the
//       packed digits compare as the digit strings do, and a shorter string
//       (the terminator) sorts first. Negative numbers invert every byte after
//       the tag, terminator included, so larger magnitudes sort first.
//
// Tags differ between types only so that a key decodes without its schema;
// one key attribute always has one type, so types never compare.

#include "db/items/key_codec.h"

#include <cstdint>
#include <string>

#include "db/items/number.h"
#include "util/utf8.h"

namespace runnel::items {
namespace {

using Type = AttributeValue::Type;

constexpr uint8_t kTagS = 0x01;
constexpr uint8_t kTagB = 0x02;
constexpr uint8_t kTagNegative = 0x03;
constexpr uint8_t kTagZero = 0x04;
constexpr uint8_t kTagPositive = 0x05;
constexpr int kExponentBias = 129;

void AppendEscaped(std::string_view bytes, std::string* out) {
  for (char c : bytes) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

void AppendNumber(const Number& n, std::string* out) {
  if (n.is_zero()) {
    out->push_back(static_cast<char>(kTagZero));
    return;
  }
  out->push_back(static_cast<char>(n.negative() ? kTagNegative : kTagPositive));
  const uint8_t mask = n.negative() ? 0xff : 0x00;
  auto put = [&](int b) { out->push_back(static_cast<char>(static_cast<uint8_t>(b) ^ mask)); };
  put(n.exponent() + kExponentBias);
  const std::string& d = n.digits();
  for (size_t i = 0; i < d.size(); i += 2) {
    const int hi = d[i] - '0';
    const int lo = i + 1 < d.size() ? d[i + 1] - '0' : 0;
    put(hi * 10 + lo + 1);
  }
  put(0);
}

Status Damaged(std::string_view what) {
  return Status::Corruption("key encoding: " + std::string(what));
}

// Reads an escaped S/B body from *in.
bool ReadEscaped(std::string_view* in, std::string* out) {
  for (size_t i = 0; i < in->size(); ++i) {
    const char c = (*in)[i];
    if (c != '\0') {
      out->push_back(c);
      continue;
    }
    if (i + 1 >= in->size()) return false;
    const char next = (*in)[++i];
    if (next == '\x01') {
      in->remove_prefix(i + 1);
      return true;
    }
    if (next != '\xff') return false;
    out->push_back('\0');
  }
  return false;  // no terminator
}

// Reads a non-zero number's body (after its sign tag) into decimal text.
bool ReadNumber(bool negative, std::string_view* in, std::string* text) {
  const uint8_t mask = negative ? 0xff : 0x00;
  if (in->empty()) return false;
  const int exponent = (static_cast<uint8_t>((*in)[0]) ^ mask) - kExponentBias;
  std::string digits;
  for (size_t i = 1; i < in->size(); ++i) {
    const int b = static_cast<uint8_t>((*in)[i]) ^ mask;
    if (b == 0) {
      // Canonical digits: a non-zero first digit, no zero pair at the end.
      if (digits.empty() || digits[0] == '0' || digits.size() > 38) return false;
      if (digits.back() == '0') digits.pop_back();
      if (digits.back() == '0') return false;
      in->remove_prefix(i + 1);
      *text = (negative ? "-0." : "0.") + digits + "E" + std::to_string(exponent);
      return true;
    }
    if (b > 100) return false;
    digits.push_back(static_cast<char>('0' + (b - 1) / 10));
    digits.push_back(static_cast<char>('0' + (b - 1) % 10));
  }
  return false;  // no terminator
}

// Decodes one component from the front of *in.
Status ReadComponent(std::string_view* in, AttributeValue* value) {
  if (in->empty()) return Damaged("missing component");
  const auto tag = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  switch (tag) {
    case kTagS:
    case kTagB:
      *value = AttributeValue();
      value->type = tag == kTagS ? Type::kS : Type::kB;
      if (!ReadEscaped(in, &value->scalar)) return Damaged("unterminated string");
      return Status::OK();
    case kTagZero:
      *value = AttributeValue::N("0");
      return Status::OK();
    case kTagNegative:
    case kTagPositive: {
      std::string text;
      Number n;
      if (!ReadNumber(tag == kTagNegative, in, &text) || !Number::Parse(text, &n).ok()) {
        return Damaged("bad number");
      }
      *value = AttributeValue::N(n.ToString());
      return Status::OK();
    }
    default:
      return Damaged("unknown tag");
  }
}

Status KeyError(std::string_view why) {
  return Status::InvalidArgument("One or more parameter values were invalid: " + std::string(why));
}

// Checks one key attribute of `item` and appends its component.
Status AppendKeyAttribute(const Item& item, const std::string& name, ScalarAttributeType type,
                          size_t max_bytes, std::string* out) {
  const auto it = item.find(name);
  if (it == item.end()) return KeyError("Missing the key " + name + " in the item");
  const AttributeValue& v = it->second;
  const Type want = type == ScalarAttributeType::kS   ? Type::kS
                    : type == ScalarAttributeType::kN ? Type::kN
                                                      : Type::kB;
  if (v.type != want) {
    return KeyError("Type mismatch for key " + name +
                    " expected: " + std::string(AttributeTypeName(want)) +
                    " actual: " + std::string(AttributeTypeName(v.type)));
  }
  if (want == Type::kN) {
    Number n;
    Status s = Number::Parse(v.scalar, &n);
    if (!s.ok()) return Status::InvalidArgument(s.message() + " (key " + name + ")");
    AppendNumber(n, out);
    return Status::OK();
  }
  if (v.scalar.empty()) {
    return KeyError("The AttributeValue for a key attribute cannot contain an empty " +
                    std::string(want == Type::kS ? "string" : "binary") + " value. Key: " + name);
  }
  if (want == Type::kS && !ValidUtf8(v.scalar)) {
    return KeyError("The key " + name + " is not valid UTF-8");
  }
  if (v.scalar.size() > max_bytes) {
    return KeyError("Size of key " + name + " has exceeded the maximum size limit of " +
                    std::to_string(max_bytes) + " bytes");
  }
  AppendKeyComponent(v, out);
  return Status::OK();
}

}  // namespace

void AppendKeyComponent(const AttributeValue& value, std::string* out) {
  switch (value.type) {
    case Type::kS:
    case Type::kB:
      out->push_back(static_cast<char>(value.type == Type::kS ? kTagS : kTagB));
      AppendEscaped(value.scalar, out);
      return;
    case Type::kN: {
      // REQUIRES a valid number; text that is not one encodes as zero.
      Number n;
      if (!Number::Parse(value.scalar, &n).ok()) n = Number();
      AppendNumber(n, out);
      return;
    }
    default:
      return;  // not a key type
  }
}

Status EncodeItemKey(const KeyShape& shape, const Item& item, bool exact, std::string* out) {
  if (exact && item.size() != (shape.has_range() ? 2u : 1u)) {
    return KeyError("The provided key element does not match the schema");
  }
  std::string key;
  Status s = AppendKeyAttribute(item, shape.hash_name, shape.hash_type, kMaxHashKeyBytes, &key);
  if (s.ok() && shape.has_range()) {
    s = AppendKeyAttribute(item, shape.range_name, shape.range_type, kMaxRangeKeyBytes, &key);
  }
  if (!s.ok()) return s;
  out->append(key);
  return Status::OK();
}

Status DecodeItemKey(const KeyShape& shape, std::string_view bytes, Item* key) {
  return DecodeItemKey(shape.hash_name, shape.range_name, bytes, key);
}

Status DecodeItemKey(std::string_view hash_name, std::string_view range_name,
                     std::string_view bytes, Item* key) {
  Item result;
  Status s = ReadComponent(&bytes, &result[std::string(hash_name)]);
  if (s.ok() && !range_name.empty()) s = ReadComponent(&bytes, &result[std::string(range_name)]);
  if (!s.ok()) return s;
  if (!bytes.empty()) return Damaged("trailing bytes");
  *key = std::move(result);
  return Status::OK();
}

}  // namespace runnel::items
