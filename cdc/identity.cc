// Copyright 2026 The runnel Authors.

#include "cdc/identity.h"

#include <leveldb/env.h>

#include <random>
#include <string_view>

#include "cdc/env_util.h"

namespace runnel {
namespace {

constexpr char kHeader[] = "runnel-db 1";

bool ParseHex(std::string_view s, uint8_t* out, size_t n) {
  if (s.size() != 2 * n) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < n; ++i) {
    const int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

}  // namespace

std::string Identity::IdHex() const {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

Status ReadIdentity(leveldb::Env* env, const std::string& dir, Identity* out) {
  const std::string path = dir + "/IDENTITY";
  if (!env->FileExists(path)) return Status::NotFound(path + " does not exist");
  std::string contents;
  Status s = FromLevelDB(leveldb::ReadFileToString(env, path, &contents), path);
  if (!s.ok()) return s;
  const size_t a = contents.find('\n');
  const size_t b = a == std::string::npos ? a : contents.find('\n', a + 1);
  const size_t c = b == std::string::npos ? b : contents.find('\n', b + 1);
  if (c == std::string::npos || contents.substr(0, a) != kHeader ||
      !ParseHex(std::string_view(contents).substr(a + 1, b - a - 1), out->id, log::kDbIdSize)) {
    return Status::Corruption(path + ": malformed identity file");
  }
  out->name = contents.substr(b + 1, c - b - 1);
  return Status::OK();
}

Status CreateIdentity(leveldb::Env* env, const std::string& dir, const std::string& name,
                      Identity* out) {
  std::random_device rd;
  for (uint8_t& b : out->id) b = static_cast<uint8_t>(rd());
  out->name = name;
  const std::string contents = std::string(kHeader) + "\n" + out->IdHex() + "\n" + name + "\n";
  const std::string path = dir + "/IDENTITY";
  const std::string tmp = path + ".tmp";
  leveldb::WritableFile* file = nullptr;
  Status s = FromLevelDB(env->NewWritableFile(tmp, &file), tmp);
  if (!s.ok()) return s;
  s = FromLevelDB(file->Append(contents), tmp);
  if (s.ok()) s = FromLevelDB(file->Sync(), tmp);
  if (s.ok()) s = FromLevelDB(file->Close(), tmp);
  delete file;
  if (s.ok()) s = FromLevelDB(env->RenameFile(tmp, path), path);
  if (s.ok()) s = SyncDirectory(dir);
  return s;
}

}  // namespace runnel
