// Copyright 2026 The runnel Authors.

#include "triggers/event_json.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "cdc/arn.h"
#include "db/record_json.h"
#include "runnel/stream.h"
#include "util/encoding.h"
#include "util/numbers.h"
#include "util/time.h"

namespace runnel {

ChangeRecord ChangeFromAbi(const runnel_record& r) {
  ChangeRecord c;
  c.sequence = r.sequence_number;
  c.commit_time_micros = r.commit_time_micros;
  c.event = static_cast<EventName>(r.event_name);
  c.size_bytes = r.size_bytes;
  c.table = std::string_view(r.table, r.table_len);
  c.key = std::string_view(r.key, r.key_len);
  c.has_old_image = r.has_old_image != 0;
  c.has_new_image = r.has_new_image != 0;
  c.snapshot = r.snapshot != 0;
  if (c.has_old_image) c.old_image = std::string_view(r.old_image, r.old_image_len);
  if (c.has_new_image) c.new_image = std::string_view(r.new_image, r.new_image_len);
  // The event's StreamViewType: what the images say.
  c.view_type = c.has_new_image && c.has_old_image ? StreamViewType::kNewAndOldImages
                : c.has_new_image                  ? StreamViewType::kNewImage
                : c.has_old_image                  ? StreamViewType::kOldImage
                                                   : StreamViewType::kKeysOnly;
  return c;
}

namespace {

using nlohmann::json;

// The member `name` of object `o` if it is a string, else "" (json::value
// would throw for a member of another type).
std::string StringMember(const json& o, const char* name) {
  const auto it = o.find(name);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

// The bytes of an S or B attribute.
bool AttributeBytes(const json& a, std::string* out) {
  if (!a.is_object() || a.size() != 1) return false;
  if (a.contains("S") && a["S"].is_string()) {
    *out = a["S"].get<std::string>();
    return true;
  }
  if (a.contains("B") && a["B"].is_string()) {
    return DecodeBase64(a["B"].get<std::string>(), out);
  }
  return false;
}

// A typed attribute back to plain JSON.
bool Untyped(const json& a, json* out) {
  if (!a.is_object() || a.size() != 1) return false;
  // (Not a structured binding over items(): its proxy is a temporary.)
  const auto it = a.begin();
  const std::string& type = it.key();
  const json& v = it.value();
  if (type == "S" && v.is_string()) {
    *out = v;
  } else if (type == "N" && v.is_string()) {
    *out = json::parse(v.get<std::string>(), nullptr, false);
    if (out->is_discarded() || !out->is_number()) return false;
  } else if (type == "BOOL" && v.is_boolean()) {
    *out = v;
  } else if (type == "NULL") {
    *out = nullptr;
  } else if (type == "L" && v.is_array()) {
    *out = json::array();
    for (const auto& e : v) {
      json u;
      if (!Untyped(e, &u)) return false;
      out->push_back(u);
    }
  } else if (type == "M" && v.is_object()) {
    *out = json::object();
    for (const auto& [k, e] : v.items()) {
      json u;
      if (!Untyped(e, &u)) return false;
      (*out)[k] = u;
    }
  } else if (type == "B" && v.is_string()) {
    *out = v;  // binary inside an object stays base64 text
  } else {
    return false;
  }
  return true;
}

// An image back to the stored value (inverse of RecordToJson's mapping).
bool ImageBytes(const json& image, const std::string& key, std::string* out) {
  if (!image.is_object()) return false;
  std::string stored_key;
  if (image.size() == 2 && image.contains("value") && image.contains("key") &&
      AttributeBytes(image["key"], &stored_key) && stored_key == key &&
      AttributeBytes(image["value"], out)) {
    return true;
  }
  json object = json::object();
  for (const auto& [name, attr] : image.items()) {
    std::string k;
    if (name == "key" && AttributeBytes(attr, &k) && k == key) continue;
    json u;
    if (!Untyped(attr, &u)) return false;
    object[name] = u;
  }
  *out = object.dump();
  return true;
}

// Fills the record's images from the record's dynamodb.OldImage and
// NewImage, if present (the bytes are kept in event->storage).
Status ParseImages(const json& d, const std::string& key, const std::string& where,
                   ParsedEvent* event, runnel_record* rec) {
  for (const char* which : {"OldImage", "NewImage"}) {
    if (!d.contains(which)) continue;
    std::string bytes;
    if (!ImageBytes(d[which], key, &bytes)) {
      return Status::InvalidArgument(where + ": dynamodb." + which +
                                     " is not a map of typed attributes");
    }
    const std::string& b = event->storage.emplace_back(std::move(bytes));
    if (std::string_view(which) == "OldImage") {
      rec->has_old_image = 1;
      rec->old_image = b.data();
      rec->old_image_len = b.size();
    } else {
      rec->has_new_image = 1;
      rec->new_image = b.data();
      rec->new_image_len = b.size();
    }
  }
  return Status::OK();
}

// The table named in an eventSourceARN (a stream ARN); empty if the record
// has none. InvalidArgument for anything else.
Status TableFromArn(const std::string& where, const std::string& arn, std::string* table) {
  table->clear();
  if (arn.empty()) return Status::OK();
  arn::StreamArnParts parts;
  Status s = arn::ParseStream(arn, &parts);
  if (!s.ok()) return Status::InvalidArgument(where + ": eventSourceARN: " + s.message());
  *table = parts.table;
  return Status::OK();
}

}  // namespace

std::string WindowTime(int64_t micros) { return IsoMicros(micros).substr(0, 19) + "Z"; }

std::string BatchToEventJson(const runnel_batch& batch, std::string_view region,
                             const ChangeRecord* changes, const runnel_window* window) {
  nlohmann::ordered_json records = nlohmann::ordered_json::array();
  for (size_t i = 0; i < batch.count; ++i) {
    records.push_back(RecordJson(changes != nullptr ? changes[i] : ChangeFromAbi(batch.records[i]),
                                 batch.event_source_arn != nullptr ? batch.event_source_arn : "",
                                 region));
  }
  nlohmann::ordered_json event;
  event["Records"] = std::move(records);
  if (window != nullptr) {
    const std::string_view arn = batch.event_source_arn != nullptr ? batch.event_source_arn : "";
    event["window"] = {{"start", WindowTime(window->start_micros)},
                       {"end", WindowTime(window->end_micros)}};
    nlohmann::ordered_json state = nlohmann::ordered_json::parse(
        window->state, window->state + window->state_len, nullptr, false);
    event["state"] = state.is_object() ? state : nlohmann::ordered_json::object();
    event["shardId"] = window->shard_id != nullptr ? window->shard_id : "";
    event["eventSourceARN"] = arn;
    event["isFinalInvokeForWindow"] = window->is_final_invoke != 0;
    event["isWindowTerminatedEarly"] = window->is_terminated_early != 0;
  }
  return event.dump();
}

Status ParseEventJson(std::string_view payload, ParsedEvent* event) {
  json j = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("payload: not valid JSON");
  if (!j.is_object() || !j.contains("Records") || !j["Records"].is_array()) {
    return Status::InvalidArgument(
        "payload: expected a DynamoDB Streams event {\"Records\":[...]}");
  }
  *event = ParsedEvent();
  size_t index = 0;
  for (const json& r : j["Records"]) {
    const std::string where = "payload: Records[" + std::to_string(index++) + "]";
    if (!r.is_object() || !r.contains("dynamodb") || !r["dynamodb"].is_object()) {
      return Status::InvalidArgument(where + ": missing \"dynamodb\"");
    }
    const json& d = r["dynamodb"];
    runnel_record rec = {};
    const std::string name = StringMember(r, "eventName");
    if (name == "INSERT")
      rec.event_name = RUNNEL_INSERT;
    else if (name == "MODIFY")
      rec.event_name = RUNNEL_MODIFY;
    else if (name == "REMOVE")
      rec.event_name = RUNNEL_REMOVE;
    else
      return Status::InvalidArgument(where + ": eventName must be INSERT, MODIFY or REMOVE");
    std::string key;
    if (!d.contains("Keys") || !d["Keys"].is_object() || !d["Keys"].contains("key") ||
        !AttributeBytes(d["Keys"]["key"], &key)) {
      return Status::InvalidArgument(where + ": dynamodb.Keys.key must be an S or B attribute");
    }
    const std::string& k = event->storage.emplace_back(key);
    rec.key = k.data();
    rec.key_len = k.size();
    if (d.contains("SequenceNumber")) {
      const std::string seq = d["SequenceNumber"].is_string()
                                  ? d["SequenceNumber"].get<std::string>()
                                  : d["SequenceNumber"].dump();
      if (!ParseUint64(seq, &rec.sequence_number)) {
        return Status::InvalidArgument(where +
                                       ": dynamodb.SequenceNumber must be a decimal sequence "
                                       "number, got " +
                                       d["SequenceNumber"].dump());
      }
    }
    if (d.contains("ApproximateCreationDateTime") && d["ApproximateCreationDateTime"].is_number()) {
      const double seconds = d["ApproximateCreationDateTime"].get<double>();
      // Outside this range the conversion to int64_t is undefined.
      if (!(std::fabs(seconds) < 9.2e12)) {
        return Status::InvalidArgument(where +
                                       ": dynamodb.ApproximateCreationDateTime is out of range");
      }
      rec.commit_time_micros = static_cast<int64_t>(seconds * 1e6);
    }
    Status s = ParseImages(d, key, where, event, &rec);
    if (!s.ok()) return s;
    rec.size_bytes = static_cast<uint32_t>(rec.key_len + rec.old_image_len + rec.new_image_len);
    rec.snapshot = r.contains("runnelSnapshot") && r["runnelSnapshot"].is_boolean() &&
                   r["runnelSnapshot"].get<bool>();
    const std::string arn = StringMember(r, "eventSourceARN");
    if (event->event_source_arn.empty()) event->event_source_arn = arn;
    std::string table;
    s = TableFromArn(where, arn, &table);
    if (!s.ok()) return s;
    const std::string& tb = event->storage.emplace_back(std::move(table));
    rec.table = tb.data();
    rec.table_len = tb.size();
    event->records.push_back(rec);
  }
  return Status::OK();
}

}  // namespace runnel
