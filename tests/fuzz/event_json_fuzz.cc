// Copyright 2026 The runnel Authors.
//
// Fuzzes ParseEventJson, the parser of the JSON a user passes to
// `runnel invoke`. Any Status is fine; a crash, an escaped exception or
// undefined behaviour is not.
//
// Besides crashes, it checks that an accepted event, rendered again with
// BatchToEventJson (the shape the parser is documented to invert), parses
// again.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_util.h"
#include "triggers/event_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  runnel::ParsedEvent event;
  if (!runnel::ParseEventJson(payload, &event).ok()) return 0;
  for (const runnel_record& r : event.records) {
    runnel::fuzz::Touch(std::string_view(r.table, r.table_len));
    runnel::fuzz::Touch(std::string_view(r.key, r.key_len));
    if (r.has_old_image) {
      runnel::fuzz::Touch(std::string_view(r.old_image, r.old_image_len));
    }
    if (r.has_new_image) {
      runnel::fuzz::Touch(std::string_view(r.new_image, r.new_image_len));
    }
  }
  runnel_batch batch = {};
  batch.records = event.records.data();
  batch.count = event.records.size();
  batch.event_source_arn = event.event_source_arn.c_str();
  const std::string again = runnel::BatchToEventJson(batch, "fuzz");
  runnel::ParsedEvent reparsed;
  const runnel::Status s = runnel::ParseEventJson(again, &reparsed);
  runnel::fuzz::CheckOk(s, "a rendered event does not parse again");
  runnel::fuzz::Check(reparsed.records.size() == event.records.size(),
                      "a rendered event has another number of records");
  return 0;
}
