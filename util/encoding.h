// Copyright 2026 The runnel Authors.
//
// Base64 and hex, through KJ (kj/encoding.h), so that every layer encodes and
// decodes them the same way.

#ifndef RUNNEL_UTIL_ENCODING_H_
#define RUNNEL_UTIL_ENCODING_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace runnel {

// Standard base64 (RFC 4648 alphabet, '=' padding, no line breaks).
std::string EncodeBase64(std::string_view bytes);
// Decodes base64 into *bytes; false (and *bytes unchanged) if `text` is not
// base64 (a character outside the alphabet, or wrong padding).
[[nodiscard]] bool DecodeBase64(std::string_view text, std::string* bytes);

// Lower-case hex, two digits a byte.
std::string EncodeHex(std::string_view bytes);
// Decodes hex (either case) into *bytes; false (and *bytes unchanged) on an
// odd length or a character that is not a hex digit.
[[nodiscard]] bool DecodeHex(std::string_view text, std::string* bytes);
// `v` as 16 lower-case hex digits, most significant first.
std::string HexU64(uint64_t v);

}  // namespace runnel

#endif  // RUNNEL_UTIL_ENCODING_H_
