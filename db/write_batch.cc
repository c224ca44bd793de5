// Copyright 2026 The runnel Authors.

#include "runnel/write_batch.h"

#include <algorithm>

#include "cdc/coding.h"

namespace runnel {

// rep_ is a sequence of [type u8][table len u32][table][key len u32][key]
// and, for puts, [value len u32][value]: appending is one allocation-free
// memcpy per field once the string has grown, and ops are views into it.
namespace {

// Makes room for `more` bytes at once (a lone Put allocated two or three
// times while its string grew), doubling as append would.
void Reserve(std::string* rep, size_t more) {
  const size_t need = rep->size() + more;
  if (need > rep->capacity()) rep->reserve(std::max(need, 2 * rep->capacity()));
}

}  // namespace

void WriteBatch::Put(std::string_view table, std::string_view key, std::string_view value) {
  Reserve(&rep_, 13 + table.size() + key.size() + value.size());
  rep_.push_back(static_cast<char>(OpType::kPut));
  PutFixed32(&rep_, static_cast<uint32_t>(table.size()));
  rep_.append(table);
  PutFixed32(&rep_, static_cast<uint32_t>(key.size()));
  rep_.append(key);
  PutFixed32(&rep_, static_cast<uint32_t>(value.size()));
  rep_.append(value);
  ++count_;
}

void WriteBatch::Delete(std::string_view table, std::string_view key) {
  Reserve(&rep_, 9 + table.size() + key.size());
  rep_.push_back(static_cast<char>(OpType::kDelete));
  PutFixed32(&rep_, static_cast<uint32_t>(table.size()));
  rep_.append(table);
  PutFixed32(&rep_, static_cast<uint32_t>(key.size()));
  rep_.append(key);
  ++count_;
}

void WriteBatch::Clear() {
  rep_.clear();
  count_ = 0;
}

WriteBatch::Op WriteBatch::Decode(size_t* pos) const {
  const char* p = rep_.data() + *pos;
  Op op;
  op.type = static_cast<OpType>(*p++);
  auto field = [&p]() {
    const uint32_t n = DecodeFixed32(p);
    std::string_view v(p + 4, n);
    p += 4 + n;
    return v;
  };
  op.table = field();
  op.key = field();
  if (op.type == OpType::kPut) op.value = field();
  *pos = static_cast<size_t>(p - rep_.data());
  return op;
}

}  // namespace runnel
