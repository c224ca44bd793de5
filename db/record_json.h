// Copyright 2026 The runnel Authors.
//
// The JSON values behind RecordToJson (runnel/stream.h), for callers that put
// records inside a larger document (a trigger event's "Records").

#ifndef RUNNEL_DB_RECORD_JSON_H_
#define RUNNEL_DB_RECORD_JSON_H_

#include <nlohmann/json.hpp>
#include <string_view>

#include "runnel/stream.h"

namespace runnel {

// The record as RecordToJson renders it: RecordToJson(r, arn, region) ==
// RecordJson(r, arn, region).dump().
nlohmann::ordered_json RecordJson(const ChangeRecord& r, std::string_view stream_arn,
                                  std::string_view region);

}  // namespace runnel

#endif  // RUNNEL_DB_RECORD_JSON_H_
