// Copyright 2026 The runnel Authors.
//
// A change record as DynamoDB Streams' JSON, with the byte-to-attribute
// mapping documented in runnel/stream.h.

#include <kj/encoding.h>
#include <xxhash.h>

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "runnel/stream.h"

namespace runnel {
namespace {

using nlohmann::json;

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // sequence cut short
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

json Bytes(std::string_view s) {
  if (ValidUtf8(s)) return json{{"S", std::string(s)}};
  kj::String b64 = kj::encodeBase64(
      kj::ArrayPtr<const kj::byte>(reinterpret_cast<const kj::byte*>(s.data()), s.size()));
  return json{{"B", std::string(b64.cStr(), b64.size())}};
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

}  // namespace

std::string ImageToJson(std::string_view key, std::string_view value) {
  return Image(key, value).dump();
}

std::string RecordToJson(const ChangeRecord& r, std::string_view stream_arn,
                         std::string_view region) {
  char id[40];
  std::snprintf(id, sizeof(id), "%016" PRIx64 "%016" PRIx64,
                static_cast<uint64_t>(XXH3_64bits(stream_arn.data(), stream_arn.size())),
                static_cast<uint64_t>(r.sequence));
  // Field order as the cloud prints it.
  nlohmann::ordered_json ddb = nlohmann::ordered_json::object();
  ddb["ApproximateCreationDateTime"] = static_cast<double>(r.commit_time_micros / 1000) / 1000.0;
  ddb["Keys"] = json{{"key", Bytes(r.key)}};
  if (r.has_new_image) ddb["NewImage"] = Image(r.key, r.new_image);
  if (r.has_old_image) ddb["OldImage"] = Image(r.key, r.old_image);
  ddb["SequenceNumber"] = std::to_string(r.sequence);
  ddb["SizeBytes"] = r.size_bytes;
  ddb["StreamViewType"] = std::string(StreamViewTypeName(r.view_type));
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["eventID"] = id;
  j["eventName"] = std::string(EventNameString(r.event));
  j["eventVersion"] = "1.1";
  j["eventSource"] = "aws:dynamodb";
  j["awsRegion"] = std::string(region);
  j["dynamodb"] = std::move(ddb);
  j["eventSourceARN"] = std::string(stream_arn);
  return j.dump();
}

}  // namespace runnel
