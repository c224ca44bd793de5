// Copyright 2026 The runnel Authors.
//
// WriteBatch: puts and deletes over any number of tables, committed
// atomically by DB::Write.
//
// A committed batch is one frame in the log, so its change records appear in
// the stream together and in the order they were added, and a crash applies
// either all of them or none. Within one batch a later operation on the same
// (table, key) sees the earlier one: Put(k,"a") then Put(k,"b") on a missing
// key yields INSERT then MODIFY.
//
// Thread safety: a WriteBatch is not synchronized; use one per thread, or
// guard it. DB::Write does not modify or retain the batch.

#ifndef RUNNEL_INCLUDE_WRITE_BATCH_H_
#define RUNNEL_INCLUDE_WRITE_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace runnel {

class WriteBatch {
 public:
  enum class OpType : uint8_t { kPut = 1, kDelete = 2 };

  // One operation; the views point into the batch and stay valid until the
  // batch is modified or destroyed.
  struct Op {
    OpType type;
    std::string_view table;
    std::string_view key;
    std::string_view value;  // empty for kDelete
  };

  WriteBatch() = default;
  WriteBatch(const WriteBatch&) = default;
  WriteBatch& operator=(const WriteBatch&) = default;
  WriteBatch(WriteBatch&&) noexcept = default;
  WriteBatch& operator=(WriteBatch&&) noexcept = default;

  // Records the operations. Arguments are copied. Limits (table names, key
  // and value sizes) are checked by DB::Write, which rejects the whole batch
  // if any operation violates one.
  void Put(std::string_view table, std::string_view key, std::string_view value);
  void Delete(std::string_view table, std::string_view key);

  void Clear();
  // Number of operations.
  size_t Count() const { return count_; }
  // Bytes of the internal representation; a good estimate of log bytes.
  size_t ApproximateSize() const { return rep_.size(); }

  // Calls fn(const Op&) for each operation, in order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    size_t pos = 0;
    while (pos < rep_.size()) fn(Decode(&pos));
  }

 private:
  Op Decode(size_t* pos) const;

  std::string rep_;
  size_t count_ = 0;
};

}  // namespace runnel

#endif  // RUNNEL_INCLUDE_WRITE_BATCH_H_
