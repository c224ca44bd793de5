// Copyright 2026 The runnel Authors.
//
// A change record as DynamoDB Streams' JSON: typed records (typed tables)
// decode their key and images exactly; byte records go through the
// byte-to-attribute mapping documented in runnel/stream.h.

#include "db/record_json.h"

#include <xxhash.h>

#include "db/items/item_codec.h"
#include "db/items/key_codec.h"
#include "db/items/value.h"
#include "util/encoding.h"
#include "util/utf8.h"

namespace runnel {
namespace {

using nlohmann::json;

json Bytes(std::string_view s) {
  if (ValidUtf8(s)) return json{{"S", std::string(s)}};
  return json{{"B", EncodeBase64(s)}};
}

json Typed(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return json{{"S", v.get<std::string>()}};
    case json::value_t::boolean:
      return json{{"BOOL", v.get<bool>()}};
    case json::value_t::null:
      return json{{"NULL", true}};
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return json{{"N", v.dump()}};
    case json::value_t::array: {
      json l = json::array();
      for (const auto& e : v) l.push_back(Typed(e));
      return json{{"L", l}};
    }
    case json::value_t::object: {
      json m = json::object();
      for (const auto& [k, e] : v.items()) m[k] = Typed(e);
      return json{{"M", m}};
    }
    default:
      return json{{"NULL", true}};
  }
}

json Image(std::string_view key, std::string_view value) {
  json parsed = json::parse(value.begin(), value.end(), nullptr,
                            /*allow_exceptions=*/false);
  json image = json::object();
  if (parsed.is_object()) {
    for (const auto& [k, e] : parsed.items()) image[k] = Typed(e);
    if (!image.contains("key")) image["key"] = Bytes(key);
    return image;
  }
  image["key"] = Bytes(key);
  image["value"] = Bytes(value);
  return image;
}

// The typed parts of a record (typed tables): Keys, images and the cloud's
// SizeBytes, the ItemSize of each of them. Returns false if the key or an
// image does not decode (a damaged log): the caller falls back to bytes.
bool TypedParts(const ChangeRecord& r, nlohmann::ordered_json* ddb, uint64_t* size_bytes) {
  Item keys;
  if (!items::DecodeItemKey(r.hash_key_name, r.range_key_name, r.key, &keys).ok()) return false;
  Item new_image;
  Item old_image;
  if (r.has_new_image && !items::DecodeItem(r.new_image, &new_image).ok()) return false;
  if (r.has_old_image && !items::DecodeItem(r.old_image, &old_image).ok()) return false;
  (*ddb)["Keys"] = json::parse(ItemToJson(keys));
  *size_bytes = items::ItemSize(keys);
  if (r.has_new_image) {
    (*ddb)["NewImage"] = json::parse(ItemToJson(new_image));
    *size_bytes += items::ItemSize(new_image);
  }
  if (r.has_old_image) {
    (*ddb)["OldImage"] = json::parse(ItemToJson(old_image));
    *size_bytes += items::ItemSize(old_image);
  }
  return true;
}

}  // namespace

std::string ImageToJson(std::string_view key, std::string_view value) {
  return Image(key, value).dump();
}

nlohmann::ordered_json RecordJson(const ChangeRecord& r, std::string_view stream_arn,
                                  std::string_view region) {
  // The records of one snapshot share its sequence number: their ids differ
  // by the key.
  const std::string id =
      HexU64(XXH3_64bits(stream_arn.data(), stream_arn.size())) +
      HexU64(r.snapshot ? XXH3_64bits_withSeed(r.key.data(), r.key.size(), r.sequence)
                        : r.sequence);
  // Field order as the cloud prints it.
  nlohmann::ordered_json ddb = nlohmann::ordered_json::object();
  ddb["ApproximateCreationDateTime"] = static_cast<double>(r.commit_time_micros / 1000) / 1000.0;
  uint64_t size_bytes = r.size_bytes;
  if (!r.typed || !TypedParts(r, &ddb, &size_bytes)) {
    ddb["Keys"] = json{{"key", Bytes(r.key)}};
    if (r.has_new_image) ddb["NewImage"] = Image(r.key, r.new_image);
    if (r.has_old_image) ddb["OldImage"] = Image(r.key, r.old_image);
  }
  ddb["SequenceNumber"] = std::to_string(r.sequence);
  ddb["SizeBytes"] = size_bytes;
  ddb["StreamViewType"] = std::string(StreamViewTypeName(r.view_type));
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["eventID"] = id;
  j["eventName"] = std::string(EventNameString(r.event));
  j["eventVersion"] = "1.1";
  j["eventSource"] = "aws:dynamodb";
  j["awsRegion"] = std::string(region);
  j["dynamodb"] = std::move(ddb);
  if (r.ttl_delete) {
    // The cloud marks deletions by time to live this way.
    j["userIdentity"] = {{"type", "Service"}, {"principalId", "dynamodb.amazonaws.com"}};
  }
  j["eventSourceARN"] = std::string(stream_arn);
  if (r.snapshot) j["runnelSnapshot"] = true;  // beside the cloud's fields
  return j;
}

std::string RecordToJson(const ChangeRecord& r, std::string_view stream_arn,
                         std::string_view region) {
  return RecordJson(r, stream_arn, region).dump();
}

}  // namespace runnel
