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
