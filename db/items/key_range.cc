// Copyright 2026 The runnel Authors.

#include "db/items/key_range.h"

#include <xxhash.h>

#include "db/items/value.h"
#include "util/encoding.h"

namespace runnel::items {
namespace {

// "{N:5}" as the cloud prints an operand in KeyConditionExpression messages.
std::string OperandText(const AttributeValue& v) {
  std::string text = v.type == AttributeValue::Type::kB ? EncodeBase64(v.scalar) : v.scalar;
  return "{" + std::string(AttributeTypeName(v.type)) + ":" + text + "}";
}

std::string Encoded(const std::string& partition, const AttributeValue& range_value) {
  std::string k = partition;
  AppendKeyComponent(range_value, &k);
  return k;
}

}  // namespace

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    unsigned char last = static_cast<unsigned char>(s.back());
    if (last != 0xff) {
      s.back() = static_cast<char>(last + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}

std::string KeySuccessor(std::string_view key) {
  std::string s(key);
  s.push_back('\0');
  return s;
}

Status KeyConditionRange(const KeyShape& shape, const KeyCondition& cond, KeyRange* range,
                         std::string* partition) {
  using Op = KeyCondition::RangeOp;
  partition->clear();
  AppendKeyComponent(cond.hash, partition);
  const std::string& p = *partition;
  // The end of the partition: no key of another partition starts with P,
  // since components are self-delimiting.
  range->lower = p;
  range->upper = PrefixSuccessor(p);
  switch (cond.range_op) {
    case Op::kNone:
      break;
    case Op::kEq:
      range->lower = Encoded(p, cond.lo);
      range->upper = KeySuccessor(range->lower);
      break;
    case Op::kLt:
      range->upper = Encoded(p, cond.lo);
      break;
    case Op::kLe:
      range->upper = KeySuccessor(Encoded(p, cond.lo));
      break;
    case Op::kGt:
      range->lower = KeySuccessor(Encoded(p, cond.lo));
      break;
    case Op::kGe:
      range->lower = Encoded(p, cond.lo);
      break;
    case Op::kBetween: {
      std::optional<int> c = CompareScalars(cond.lo, cond.hi);
      if (c.has_value() && *c > 0) {
        return Status::InvalidArgument(
            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
            "greater than or equal to lower bound; lower bound operand: AttributeValue: " +
            OperandText(cond.lo) +
            ", upper bound operand: AttributeValue: " + OperandText(cond.hi));
      }
      range->lower = Encoded(p, cond.lo);
      range->upper = KeySuccessor(Encoded(p, cond.hi));
      break;
    }
    case Op::kBeginsWith: {
      if (shape.range_type == ScalarAttributeType::kN || cond.lo.type == AttributeValue::Type::kN) {
        return Status::InvalidArgument(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N");
      }
      // Values starting with s are exactly those in [s, PrefixSuccessor(s))
      // bytewise; with no successor (s all 0xff) the partition's end bounds.
      range->lower = Encoded(p, cond.lo);
      AttributeValue succ = cond.lo;
      succ.scalar = PrefixSuccessor(cond.lo.scalar);
      if (!succ.scalar.empty()) range->upper = Encoded(p, succ);
      break;
    }
  }
  return Status::OK();
}

Status HashComponentLength(const KeyShape& shape, std::string_view encoded, size_t* length) {
  Item key;
  Status s = DecodeItemKey(shape, encoded, &key);
  if (!s.ok()) return s;
  auto it = key.find(shape.hash_name);
  if (it == key.end()) return Status::Corruption("item key without its hash component");
  std::string hash;
  AppendKeyComponent(it->second, &hash);
  if (encoded.substr(0, hash.size()) != hash) {
    return Status::Corruption("item key does not start with its hash component");
  }
  *length = hash.size();
  return Status::OK();
}

uint32_t SegmentOf(std::string_view hash_component, uint32_t total) {
  return static_cast<uint32_t>(XXH3_64bits(hash_component.data(), hash_component.size()) % total);
}

}  // namespace runnel::items
