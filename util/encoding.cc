// Copyright 2026 The runnel Authors.

#include "util/encoding.h"

#include <kj/encoding.h>

namespace runnel {
namespace {

kj::ArrayPtr<const kj::byte> Bytes(std::string_view s) {
  return kj::ArrayPtr<const kj::byte>(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

kj::ArrayPtr<const char> Chars(std::string_view s) {
  return kj::ArrayPtr<const char>(s.data(), s.size());
}

std::string Text(const kj::String& s) { return std::string(s.cStr(), s.size()); }

// The decoded bytes into *out, unless the input had errors.
bool Assign(const kj::EncodingResult<kj::Array<kj::byte>>& decoded, std::string* out) {
  if (decoded.hadErrors) return false;
  out->assign(reinterpret_cast<const char*>(decoded.begin()), decoded.size());
  return true;
}

}  // namespace

std::string EncodeBase64(std::string_view bytes) { return Text(kj::encodeBase64(Bytes(bytes))); }

bool DecodeBase64(std::string_view text, std::string* bytes) {
  return Assign(kj::decodeBase64(Chars(text)), bytes);
}

std::string EncodeHex(std::string_view bytes) { return Text(kj::encodeHex(Bytes(bytes))); }

bool DecodeHex(std::string_view text, std::string* bytes) {
  return Assign(kj::decodeHex(Chars(text)), bytes);
}

std::string HexU64(uint64_t v) {
  char be[8];
  for (int i = 7; i >= 0; --i, v >>= 8) be[i] = static_cast<char>(v & 0xff);
  return EncodeHex(std::string_view(be, sizeof(be)));
}

}  // namespace runnel
