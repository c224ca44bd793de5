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

}  // namespace

std::string EncodeBase64(std::string_view bytes) {
  kj::String s = kj::encodeBase64(Bytes(bytes));
  return std::string(s.cStr(), s.size());
}

bool DecodeBase64(std::string_view text, std::string* bytes) {
  auto decoded = kj::decodeBase64(Chars(text));
  if (decoded.hadErrors) return false;
  bytes->assign(reinterpret_cast<const char*>(decoded.begin()), decoded.size());
  return true;
}

std::string EncodeHex(std::string_view bytes) {
  kj::String s = kj::encodeHex(Bytes(bytes));
  return std::string(s.cStr(), s.size());
}

bool DecodeHex(std::string_view text, std::string* bytes) {
  auto decoded = kj::decodeHex(Chars(text));
  if (decoded.hadErrors) return false;
  bytes->assign(reinterpret_cast<const char*>(decoded.begin()), decoded.size());
  return true;
}

std::string HexU64(uint64_t v) {
  char be[8];
  for (int i = 7; i >= 0; --i, v >>= 8) be[i] = static_cast<char>(v & 0xff);
  return EncodeHex(std::string_view(be, sizeof(be)));
}

}  // namespace runnel
