// Copyright 2026 The runnel Authors.
//
// DIR/IDENTITY: the DB's random id (also in every segment header) and its
// name (used in stream ARNs). Three lines: "runnel-db 1", 32 hex digits, the
// name.

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
  std::string IdHex() const;
};

// NotFound if the file does not exist; Corruption if it is malformed.
Status ReadIdentity(leveldb::Env* env, const std::string& dir, Identity* out);
// A new random identity, written durably (temporary file, fsync, rename,
// directory fsync): a crash leaves no identity or a complete one.
Status CreateIdentity(leveldb::Env* env, const std::string& dir, const std::string& name,
                      Identity* out);

}  // namespace runnel

#endif  // RUNNEL_CDC_IDENTITY_H_
