// Copyright 2026 The runnel Authors.
//
// Fuzzes the FilterCriteria pattern compiler and matcher (patterns come from
// the tool's --filter-criteria and the endpoint's FilterCriteria). The input
// is a pattern, then (after the first newline, if any) a record to match.
// Any Status is fine; a crash, an escaped exception or undefined behaviour is
// not.
//
// Besides crashes, it checks that a compiled pattern, parsed and dumped
// again (another spelling of the same JSON), compiles and decides the record
// the same way.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_util.h"
#include "triggers/filter_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view pattern = input.substr(0, newline);
  const std::string_view record_text =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  runnel::FilterPattern p;
  if (!runnel::FilterPattern::Compile(pattern, &p).ok()) return 0;
  nlohmann::ordered_json record =
      nlohmann::ordered_json::parse(record_text.begin(), record_text.end(), nullptr, false);
  if (record.is_discarded()) record = nlohmann::ordered_json::object();
  const bool matches = p.Matches(record);

  const std::string again = nlohmann::json::parse(pattern.begin(), pattern.end(), nullptr, false)
                                .dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  runnel::FilterPattern q;
  runnel::fuzz::CheckOk(runnel::FilterPattern::Compile(again, &q),
                        "a compiled pattern, dumped again, does not compile");
  runnel::fuzz::Check(q.Matches(record) == matches,
                      "a pattern dumped again decides a record otherwise");
  return 0;
}
