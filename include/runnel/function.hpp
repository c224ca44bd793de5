// Copyright 2026 The runnel Authors.
//
// runnel/function.hpp: a thin, header-only C++ wrapper over runnel/function.h
// for writing function plugins in C++. Nothing here needs librunnel.
//
//   #include "runnel/function.hpp"
//   RUNNEL_DECLARE_FUNCTION_ABI
//   static int Handle(const runnel::fn::Batch& batch, runnel::fn::Context& ctx) {
//     for (const runnel::fn::Record& r : batch) ctx.Log(r.key());
//     return 0;
//   }
//   RUNNEL_CPP_HANDLER(runnel_handler, Handle)
//
// Lifetimes are those of the C ABI: every view is valid during the call only.

#ifndef RUNNEL_INCLUDE_FUNCTION_HPP_
#define RUNNEL_INCLUDE_FUNCTION_HPP_

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "runnel/function.h"

namespace runnel::fn {

class Record {
 public:
  explicit Record(const runnel_record& r) : r_(&r) {}
  uint64_t sequence_number() const { return r_->sequence_number; }
  int64_t commit_time_micros() const { return r_->commit_time_micros; }
  runnel_event_name event() const { return static_cast<runnel_event_name>(r_->event_name); }
  std::string_view event_name() const {
    switch (r_->event_name) {
      case RUNNEL_INSERT:
        return "INSERT";
      case RUNNEL_MODIFY:
        return "MODIFY";
      default:
        return "REMOVE";
    }
  }
  std::string_view table() const { return {r_->table, r_->table_len}; }
  std::string_view key() const { return {r_->key, r_->key_len}; }
  bool has_old_image() const { return r_->has_old_image != 0; }
  bool has_new_image() const { return r_->has_new_image != 0; }
  std::string_view old_image() const { return {r_->old_image, r_->old_image_len}; }
  std::string_view new_image() const { return {r_->new_image, r_->new_image_len}; }
  // A typed table's record: key() and the images are encoded items; read
  // them as JSON with Context::RecordJson.
  bool typed() const { return r_->typed != 0; }
  // A snapshot record (StartingPosition SNAPSHOT): the item as the table
  // held it at sequence(), delivered before the stream after it.
  bool snapshot() const { return r_->snapshot != 0; }
  const runnel_record& raw() const { return *r_; }

 private:
  const runnel_record* r_;
};

class Batch {
 public:
  explicit Batch(const runnel_batch& b) : b_(&b) {}
  size_t size() const { return b_->count; }
  Record operator[](size_t i) const { return Record(b_->records[i]); }
  std::string_view event_source_arn() const { return b_->event_source_arn; }
  std::string_view mapping_uuid() const { return b_->mapping_uuid; }

  class iterator {
   public:
    explicit iterator(const runnel_record* p) : p_(p) {}
    Record operator*() const { return Record(*p_); }
    iterator& operator++() {
      ++p_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return p_ != o.p_; }

   private:
    const runnel_record* p_;
  };
  iterator begin() const { return iterator(b_->records); }
  iterator end() const { return iterator(b_->records + b_->count); }

 private:
  const runnel_batch* b_;
};

class Context {
 public:
  explicit Context(runnel_context* c) : c_(c) {}
  void Log(std::string_view line) { c_->api->log(c_, line.data(), line.size()); }
  std::string_view request_id() const { return c_->api->request_id(c_); }
  int64_t remaining_time_ms() const { return c_->api->remaining_time_ms(c_); }
  // Partial batch response; false if the sequence is not in the batch.
  bool ReportFailedItem(uint64_t sequence_number) {
    return c_->api->report_failed_item(c_, sequence_number) == 0;
  }
  // The batch as {"Records":[...]} (DynamoDB Streams JSON).
  std::string_view EventJson() {
    size_t len = 0;
    const char* p = c_->api->event_json(c_, &len);
    return {p, len};
  }
  // The environment variable, or an empty optional-like null view.
  const char* Getenv(const char* name) const { return c_->api->getenv(c_, name); }
  // Write-backs, committed with the batch's checkpoint if it succeeds.
  bool Put(std::string_view table, std::string_view key, std::string_view value) {
    return c_->api->put(c_, table.data(), table.size(), key.data(), key.size(), value.data(),
                        value.size()) == 0;
  }
  bool Delete(std::string_view table, std::string_view key) {
    return c_->api->del(c_, table.data(), table.size(), key.data(), key.size()) == 0;
  }
  // ABI 3: the value of a byte table's key (this invocation's own Put and
  // Delete visible) into *value; RUNNEL_ITEM_NOT_FOUND, or an error with its
  // message in LastError().
  runnel_item_result Get(std::string_view table, std::string_view key, std::string_view* value) {
    const char* p = nullptr;
    size_t len = 0;
    const int rc = c_->api->get(c_, table.data(), table.size(), key.data(), key.size(), &p, &len);
    *value = rc == RUNNEL_ITEM_OK ? std::string_view(p, len) : std::string_view();
    return static_cast<runnel_item_result>(rc);
  }

  // --- Typed items (ABI 2). JSON is DynamoDB's item JSON; results as in
  // runnel/function.h (RUNNEL_ITEM_OK, RUNNEL_ITEM_NOT_FOUND, ...), with the
  // message of an error in LastError().

  // A part of a record of this batch as the cloud's JSON (for typed records
  // the typed images); nullopt if the record has no such part.
  std::optional<std::string_view> RecordJson(const Record& record,
                                             runnel_record_part part = RUNNEL_RECORD_DYNAMODB) {
    size_t len = 0;
    const char* p = c_->api->record_json(c_, &record.raw(), part, &len);
    if (p == nullptr) return std::nullopt;
    return std::string_view(p, len);
  }
  // The item (this invocation's own write-backs visible) into *item_json.
  runnel_item_result GetItem(std::string_view table, std::string_view key_json,
                             std::string_view* item_json) {
    const char* p = nullptr;
    size_t len = 0;
    const int rc = c_->api->get_item(c_, table.data(), table.size(), key_json.data(),
                                     key_json.size(), &p, &len);
    *item_json = rc == RUNNEL_ITEM_OK ? std::string_view(p, len) : std::string_view();
    return static_cast<runnel_item_result>(rc);
  }
  // Item write-backs, committed with the batch's checkpoint if it succeeds.
  runnel_item_result PutItem(std::string_view table, std::string_view item_json) {
    return static_cast<runnel_item_result>(
        c_->api->put_item(c_, table.data(), table.size(), item_json.data(), item_json.size()));
  }
  runnel_item_result DeleteItem(std::string_view table, std::string_view key_json) {
    return static_cast<runnel_item_result>(
        c_->api->delete_item(c_, table.data(), table.size(), key_json.data(), key_json.size()));
  }
  // Empty names_json / values_json: none.
  runnel_item_result UpdateItem(std::string_view table, std::string_view key_json,
                                std::string_view update_expression,
                                std::string_view names_json = {},
                                std::string_view values_json = {}) {
    return static_cast<runnel_item_result>(
        c_->api->update_item(c_, table.data(), table.size(), key_json.data(), key_json.size(),
                             update_expression.data(), update_expression.size(), names_json.data(),
                             names_json.size(), values_json.data(), values_json.size()));
  }
  // Why the last failed item call failed; empty after a success.
  std::string_view LastError() {
    size_t len = 0;
    const char* p = c_->api->last_error(c_, &len);
    return {p, len};
  }
  runnel_context* raw() { return c_; }

 private:
  runnel_context* c_;
};

}  // namespace runnel::fn

// Defines the exported C handler `symbol` that calls the C++ function
// `impl(const runnel::fn::Batch&, runnel::fn::Context&) -> int`. An exception
// escaping `impl` fails the batch (and is logged) instead of crossing the C ABI.
#define RUNNEL_CPP_HANDLER(symbol, impl)                               \
  RUNNEL_EXPORT int symbol(const runnel_batch* b, runnel_context* c) { \
    runnel::fn::Context ctx(c);                                        \
    try {                                                              \
      return impl(runnel::fn::Batch(*b), ctx);                         \
    } catch (const std::exception& e) {                                \
      ctx.Log(std::string("unhandled exception: ") + e.what());        \
    } catch (...) {                                                    \
      ctx.Log("unhandled exception");                                  \
    }                                                                  \
    return 1;                                                          \
  }

#endif  // RUNNEL_INCLUDE_FUNCTION_HPP_
