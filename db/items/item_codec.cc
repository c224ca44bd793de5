// Copyright 2026 The runnel Authors.
//
// Format (all lengths and counts are LEB128 varints, at most 32 bits):
//
//   item    := 0x01 attr*                     (attributes in ascending name order)
//   attr    := len name value
//   value   := type len payload               (type: AttributeValue::Type)
//   payload := S, N, B: the bytes (N: normalized decimal text)
//              BOOL: 0x00 or 0x01; NULL: nothing
//              M: attr* (ascending names); L: value*
//              SS, NS, BS: (len bytes)*
//
// Every value carries its payload length, so a reader skips an attribute
// without looking inside it (FindAttribute), and a damaged length can never
// send the decoder outside the bytes it was given.

#include "db/items/item_codec.h"

#include <cstdint>
#include <string>
#include <utility>

#include "db/items/value.h"

namespace runnel {
namespace items {
namespace {

using Type = AttributeValue::Type;

constexpr char kFormatVersion = 0x01;
// Stored items are normalized (32 levels at most); deeper is damage, and the
// bound keeps the recursion short whatever the bytes say.
constexpr size_t kMaxDecodeDepth = 64;

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytes(std::string_view bytes, std::string* out) {
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

void EncodeValue(const AttributeValue& v, std::string* out);

// The payload of `v`, without type and length.
void EncodePayload(const AttributeValue& v, std::string* out) {
  switch (v.type) {
    case Type::kS:
    case Type::kN:
    case Type::kB:
      out->append(v.scalar);
      break;
    case Type::kBool:
      out->push_back(v.boolean ? 1 : 0);
      break;
    case Type::kNull:
      break;
    case Type::kM:
      for (const auto& [name, child] : v.map) {
        PutBytes(name, out);
        EncodeValue(child, out);
      }
      break;
    case Type::kL:
      for (const AttributeValue& child : v.list) EncodeValue(child, out);
      break;
    case Type::kSS:
    case Type::kNS:
    case Type::kBS:
      for (const std::string& e : v.set) PutBytes(e, out);
      break;
  }
}

void EncodeValue(const AttributeValue& v, std::string* out) {
  out->push_back(static_cast<char>(v.type));
  if (v.type == Type::kS || v.type == Type::kN || v.type == Type::kB) {
    PutBytes(v.scalar, out);  // the common case, without a copy
    return;
  }
  std::string payload;
  EncodePayload(v, &payload);
  PutBytes(payload, out);
}

// A bounds-checked reader over untrusted bytes.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool empty() const { return in_.empty(); }

  bool Varint(uint32_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 28; shift += 7) {
      if (in_.empty()) return false;
      const auto byte = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        if (result > UINT32_MAX) return false;
        *v = static_cast<uint32_t>(result);
        return true;
      }
    }
    return false;
  }
  bool Byte(uint8_t* b) {
    if (in_.empty()) return false;
    *b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool Bytes(std::string_view* out) {
    uint32_t n;
    if (!Varint(&n) || n > in_.size()) return false;
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }

 private:
  std::string_view in_;
};

Status Damaged(std::string_view what) {
  return Status::Corruption("item encoding: " + std::string(what));
}

// One value: its type and payload, not yet looked into.
bool ReadValueHeader(Reader* r, Type* type, std::string_view* payload) {
  uint8_t t;
  if (!r->Byte(&t) || t < static_cast<uint8_t>(Type::kS) || t > static_cast<uint8_t>(Type::kBS)) {
    return false;
  }
  *type = static_cast<Type>(t);
  return r->Bytes(payload);
}

Status DecodeValue(Type type, std::string_view payload, size_t depth, AttributeValue* v);

// attr* in strictly ascending name order, into *map.
Status DecodeAttributes(std::string_view bytes, size_t depth,
                        std::map<std::string, AttributeValue>* map) {
  Reader r(bytes);
  std::string_view previous;
  bool first = true;
  while (!r.empty()) {
    std::string_view name, payload;
    Type type;
    if (!r.Bytes(&name) || !ReadValueHeader(&r, &type, &payload)) {
      return Damaged("truncated attribute");
    }
    if (!first && name <= previous) return Damaged("attribute names out of order");
    first = false;
    previous = name;
    Status s = DecodeValue(type, payload, depth, &(*map)[std::string(name)]);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status DecodeValue(Type type, std::string_view payload, size_t depth, AttributeValue* v) {
  if (depth > kMaxDecodeDepth) return Damaged("nested too deeply");
  v->type = type;
  switch (type) {
    case Type::kS:
    case Type::kN:
    case Type::kB:
      v->scalar = std::string(payload);
      return Status::OK();
    case Type::kBool:
      if (payload.size() != 1 || static_cast<uint8_t>(payload[0]) > 1) return Damaged("bad BOOL");
      v->boolean = payload[0] == 1;
      return Status::OK();
    case Type::kNull:
      return payload.empty() ? Status::OK() : Damaged("bad NULL");
    case Type::kM:
      return DecodeAttributes(payload, depth + 1, &v->map);
    case Type::kL: {
      Reader r(payload);
      while (!r.empty()) {
        Type child_type;
        std::string_view child;
        if (!ReadValueHeader(&r, &child_type, &child)) return Damaged("truncated list element");
        Status s = DecodeValue(child_type, child, depth + 1, &v->list.emplace_back());
        if (!s.ok()) return s;
      }
      return Status::OK();
    }
    case Type::kSS:
    case Type::kNS:
    case Type::kBS: {
      Reader r(payload);
      while (!r.empty()) {
        std::string_view e;
        if (!r.Bytes(&e)) return Damaged("truncated set element");
        v->set.emplace_back(e);
      }
      return Status::OK();
    }
  }
  return Damaged("unknown type");
}

Status PayloadSize(Type type, std::string_view payload, size_t depth, size_t* size);

// attr* (of an item or a map): names + values.
Status AttributesSize(std::string_view bytes, size_t depth, size_t* size) {
  Reader r(bytes);
  while (!r.empty()) {
    std::string_view name, payload;
    Type type;
    if (!r.Bytes(&name) || !ReadValueHeader(&r, &type, &payload)) {
      return Damaged("truncated attribute");
    }
    *size += name.size();
    Status s = PayloadSize(type, payload, depth, size);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// As ValueSize (db/items/value.cc), on the encoding.
Status PayloadSize(Type type, std::string_view payload, size_t depth, size_t* size) {
  if (depth > kMaxDecodeDepth) return Damaged("nested too deeply");
  switch (type) {
    case Type::kS:
    case Type::kB:
      *size += payload.size();
      return Status::OK();
    case Type::kN:
      *size += NumberSize(payload);
      return Status::OK();
    case Type::kBool:
    case Type::kNull:
      *size += 1;
      return Status::OK();
    case Type::kM: {
      // 3 bytes for the map, 1 per element (AttributesSize adds the names).
      *size += 3;
      Reader r(payload);
      while (!r.empty()) {
        std::string_view name, child;
        Type child_type;
        if (!r.Bytes(&name) || !ReadValueHeader(&r, &child_type, &child)) {
          return Damaged("truncated attribute");
        }
        *size += 1 + name.size();
        Status s = PayloadSize(child_type, child, depth + 1, size);
        if (!s.ok()) return s;
      }
      return Status::OK();
    }
    case Type::kL: {
      *size += 3;
      Reader r(payload);
      while (!r.empty()) {
        Type child_type;
        std::string_view child;
        if (!ReadValueHeader(&r, &child_type, &child)) return Damaged("truncated list element");
        *size += 1;
        Status s = PayloadSize(child_type, child, depth + 1, size);
        if (!s.ok()) return s;
      }
      return Status::OK();
    }
    case Type::kSS:
    case Type::kNS:
    case Type::kBS: {
      Reader r(payload);
      while (!r.empty()) {
        std::string_view e;
        if (!r.Bytes(&e)) return Damaged("truncated set element");
        *size += type == Type::kNS ? NumberSize(e) : e.size();
      }
      return Status::OK();
    }
  }
  return Damaged("unknown type");
}

Status CheckVersion(std::string_view* bytes) {
  if (bytes->empty() || (*bytes)[0] != kFormatVersion) return Damaged("unknown format version");
  bytes->remove_prefix(1);
  return Status::OK();
}

}  // namespace

void EncodeItem(const Item& item, std::string* out) {
  out->push_back(kFormatVersion);
  for (const auto& [name, value] : item) {
    PutBytes(name, out);
    EncodeValue(value, out);
  }
}

Status DecodeItem(std::string_view bytes, Item* item) {
  Status s = CheckVersion(&bytes);
  if (!s.ok()) return s;
  Item result;
  s = DecodeAttributes(bytes, 0, &result);
  if (!s.ok()) return s;
  *item = std::move(result);
  return Status::OK();
}

Status FindAttribute(std::string_view bytes, std::string_view name, AttributeValue* value) {
  Status s = CheckVersion(&bytes);
  if (!s.ok()) return s;
  Reader r(bytes);
  while (!r.empty()) {
    std::string_view attr, payload;
    Type type;
    if (!r.Bytes(&attr) || !ReadValueHeader(&r, &type, &payload)) {
      return Damaged("truncated attribute");
    }
    if (attr < name) continue;
    if (attr > name) break;  // sorted: it is not there
    AttributeValue result;
    s = DecodeValue(type, payload, 0, &result);
    if (!s.ok()) return s;
    *value = std::move(result);
    return Status::OK();
  }
  return Status::NotFound("no attribute \"" + std::string(name) + "\"");
}

Status EncodedItemSize(std::string_view bytes, size_t* size) {
  Status s = CheckVersion(&bytes);
  if (!s.ok()) return s;
  size_t n = 0;
  s = AttributesSize(bytes, 0, &n);
  if (!s.ok()) return s;
  *size = n;
  return Status::OK();
}

}  // namespace items

// --- ItemView (runnel/item.h): the public face of the codec.

Status ItemView::Get(std::string_view attribute, AttributeValue* value) const {
  return items::FindAttribute(encoded_, attribute, value);
}

Status ItemView::Decode(Item* item) const { return items::DecodeItem(encoded_, item); }

Status ItemView::ToJson(std::string* json) const {
  Item item;
  Status s = items::DecodeItem(encoded_, &item);
  if (!s.ok()) return s;
  *json = ItemToJson(item);
  return Status::OK();
}

}  // namespace runnel
