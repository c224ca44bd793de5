// Copyright 2026 The runnel Authors.
//
// Env: the seam through which a DB does its file I/O (Options::env).
//
// Applications use the default (Options::env = nullptr, or Env::Default()).
// The class is a handle: runnel's own tests wrap a fault-injecting file
// system (dropping unsynced data, failing writes or fsync) in one, through an
// internal adapter. There is no public way to implement an Env: that would
// make the storage engine's internal file interface part of runnel's API. An
// Env that runnel did not make is refused by DB::Open (InvalidArgument).
//
// Thread safety: an Env may be used by any number of DBs and threads at once.

#ifndef RUNNEL_INCLUDE_ENV_H_
#define RUNNEL_INCLUDE_ENV_H_

namespace runnel {

class Env {
 public:
  // The process's default Env: the local file system. Never destroyed.
  static Env* Default();

  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  virtual ~Env();

 protected:
  Env() = default;
};

}  // namespace runnel

#endif  // RUNNEL_INCLUDE_ENV_H_
