// Copyright 2026 The runnel Authors.
//
// A batch as the cloud's Lambda event ({"Records":[...]}), and the reverse:
// turning an `invoke` payload back into records.

#ifndef RUNNEL_TRIGGERS_EVENT_JSON_H_
#define RUNNEL_TRIGGERS_EVENT_JSON_H_

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/function.h"
#include "runnel/status.h"

namespace runnel {

// {"Records":[<RecordToJson of each record>]}
std::string BatchToEventJson(const runnel_batch& batch, std::string_view region);

// Records parsed from a DynamoDB Streams event. The runnel_records point into
// `storage`, which the object owns.
struct ParsedEvent {
  std::vector<runnel_record> records;
  std::deque<std::string> storage;
  std::string event_source_arn;
};

// Parses {"Records":[...]} in the shape RecordToJson writes (images map back
// to bytes by the inverse of its rules). InvalidArgument naming what is wrong.
Status ParseEventJson(std::string_view payload, ParsedEvent* event);

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_EVENT_JSON_H_
