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

#include "runnel/change.h"
#include "runnel/function.h"
#include "runnel/status.h"

namespace runnel {

// {"Records":[<RecordToJson of each record>]}. Each record is rendered from
// changes[i] when `changes` is given (the change records behind
// batch.records, in order: typed records need them, the ABI record lacks
// their key attribute names), else from the ABI record (ChangeFromAbi).
// With `window` (a mapping with a tumbling window), the event also carries
// the cloud's "window" {start, end}, "state", "shardId", "eventSourceARN",
// "isFinalInvokeForWindow" and "isWindowTerminatedEarly"; window->state
// must be a JSON object.
std::string BatchToEventJson(const runnel_batch& batch, std::string_view region,
                             const ChangeRecord* changes = nullptr,
                             const runnel_window* window = nullptr);
// "2020-07-30T17:00:00Z": a window boundary as the cloud's event shows it
// (boundaries are whole seconds).
std::string WindowTime(int64_t micros);

// The change record an ABI record describes (a byte record: the ABI record
// does not carry what typed ones need); views into `r`.
ChangeRecord ChangeFromAbi(const runnel_record& r);

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
