// Copyright 2026 The runnel Authors.
//
// DIR/IDENTITY: the DB's random id (also in every segment header), its name,
// and the region and account of its ARNs. Lines: "runnel-db 1", 32 hex
// digits, the name, then the region and the account id. Files written before
// the region and account existed have only the first three lines; they read
// as us-east-1 / 000000000000.

#ifndef RUNNEL_CDC_IDENTITY_H_
#define RUNNEL_CDC_IDENTITY_H_

#include <cstdint>
#include <string>

#include "cdc/log_format.h"
#include "runnel/status.h"

namespace leveldb {
class Env;
}

namespace runnel {

struct Identity {
  uint8_t id[log::kDbIdSize] = {};
  std::string name;
  std::string region;
  std::string account;
  std::string IdHex() const;
};

// NotFound if the file does not exist; Corruption if it is malformed.
Status ReadIdentity(leveldb::Env* env, const std::string& dir, Identity* out);
// A new random identity, written durably (temporary file, fsync, rename,
// directory fsync): a crash leaves no identity or a complete one.
// `out` holds the name, region and account to write.
Status CreateIdentity(leveldb::Env* env, const std::string& dir, Identity* out);

}  // namespace runnel

#endif  // RUNNEL_CDC_IDENTITY_H_
