// Copyright 2026 The runnel Authors.

#include "cdc/identity.h"

#include <leveldb/env.h>

#include <cstring>
#include <string_view>

#include "cdc/arn.h"
#include "cdc/env_util.h"
#include "util/encoding.h"
#include "util/random.h"

namespace runnel {
namespace {

constexpr char kHeader[] = "runnel-db 1";

}  // namespace

std::string Identity::IdHex() const {
  return EncodeHex(std::string_view(reinterpret_cast<const char*>(id), sizeof(id)));
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
  std::string id;
  if (c == std::string::npos || contents.substr(0, a) != kHeader ||
      !DecodeHex(std::string_view(contents).substr(a + 1, b - a - 1), &id) ||
      id.size() != log::kDbIdSize) {
    return Status::Corruption(path + ": malformed identity file");
  }
  std::memcpy(out->id, id.data(), log::kDbIdSize);
  out->name = contents.substr(b + 1, c - b - 1);
  out->region = std::string(arn::kDefaultRegion);
  out->account = std::string(arn::kDefaultAccount);
  const size_t d = contents.find('\n', c + 1);
  const size_t e = d == std::string::npos ? d : contents.find('\n', d + 1);
  if (d != std::string::npos) {
    out->region = contents.substr(c + 1, d - c - 1);
    out->account = e == std::string::npos ? "" : contents.substr(d + 1, e - d - 1);
    if (!arn::CheckRegion(out->region).ok() || !arn::CheckAccount(out->account).ok()) {
      return Status::Corruption(path + ": malformed region or account id");
    }
  }
  return Status::OK();
}

Status CreateIdentity(leveldb::Env* env, const std::string& dir, Identity* out) {
  RandomBytes(out->id, sizeof(out->id));
  const std::string contents = std::string(kHeader) + "\n" + out->IdHex() + "\n" + out->name +
                               "\n" + out->region + "\n" + out->account + "\n";
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
