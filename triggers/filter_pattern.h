// Copyright 2026 The runnel Authors.
//
// FilterCriteria: EventBridge-style patterns over a stream record as the
// function receives it (RecordJson: eventName, eventSource, awsRegion,
// dynamodb.Keys / NewImage / OldImage with typed values, ...).
//
// A pattern is a JSON object whose structure follows the record's. Its leaves
// are non-empty arrays; a leaf matches when ANY of its elements matches a
// value at that path, and a pattern matches when ALL its leaves (and `$or`
// groups) do. Elements are exact values (string, number, true, false, null)
// or one-key operator objects:
//   {"prefix": "s"}  {"prefix": {"equals-ignore-case": "s"}}   (and suffix)
//   {"equals-ignore-case": "s"}
//   {"anything-but": v | [v, ...] | {"prefix"|"suffix"|"equals-ignore-case": ...}}
//   {"numeric": [">", 0, "<=", 5]}   (one comparison, or a lower and an upper)
//   {"exists": true | false}
// and `"$or": [{...}, {...}]` combines whole sub-patterns.
//
// As in the cloud (whose matcher flattens a record to its leaf values):
// - a record value that is an array matches if any element matches;
// - an object in the record is not a leaf: a leaf pattern at its path sees
//   nothing there (`exists: true` fails, `exists: false` holds), which is
//   why DynamoDB patterns name the type: {"price": {"N": [...]}};
// - a field that is absent matches only `exists: false`; `anything-but`
//   needs a value;
// - DynamoDB's N values are strings: under an "N" key they compare as
//   numbers with `numeric`, exact numbers and `anything-but` numbers.
//
// Thread safety: a compiled FilterSet is immutable; Matches may be called
// concurrently.

#ifndef RUNNEL_TRIGGERS_FILTER_PATTERN_H_
#define RUNNEL_TRIGGERS_FILTER_PATTERN_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/status.h"

namespace runnel {

struct FilterNode;

class FilterPattern {
 public:
  FilterPattern();
  ~FilterPattern();
  FilterPattern(FilterPattern&&) noexcept;
  FilterPattern& operator=(FilterPattern&&) noexcept;

  // Compiles one pattern. InvalidArgument naming the problem: the key path,
  // the operator and what was expected (e.g. "key dynamodb.NewImage.price.N:
  // numeric: expected [\">\", 0] or [\">\", 0, \"<\", 9], got ...").
  static Status Compile(std::string_view text, FilterPattern* out);
  bool Matches(const nlohmann::ordered_json& record) const;

 private:
  std::unique_ptr<FilterNode> root_;
};

// A mapping's filters: a record is delivered when ANY pattern matches (or
// there are none).
class FilterSet {
 public:
  // At most kMaxFilters patterns of at most kMaxFilterPatternLength
  // characters each. Errors start with "FilterCriteria.Filters[i].Pattern: ".
  static Status Compile(const std::vector<std::string>& patterns, FilterSet* out);
  bool empty() const { return patterns_.empty(); }
  bool Matches(const nlohmann::ordered_json& record) const;

 private:
  std::vector<FilterPattern> patterns_;
};

// Compile, for validation only.
Status ValidateFilterPatterns(const std::vector<std::string>& patterns);

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_FILTER_PATTERN_H_
