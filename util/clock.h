// Copyright 2026 The runnel Authors.
//
// The wall clock, read through a leveldb::Env so that tests can inject time
// (an EnvWrapper overriding NowMicros).

#ifndef RUNNEL_UTIL_CLOCK_H_
#define RUNNEL_UTIL_CLOCK_H_

#include <cstdint>

namespace leveldb {
class Env;
}

namespace runnel {

// Microseconds since the Unix epoch, UTC, from env->NowMicros() (the
// default Env reads the wall clock: it can step backwards). Code that holds
// a DB passes the DB's Env (Options::env); code without one passes
// leveldb::Env::Default(). REQUIRES: env != nullptr. Thread-safe if env is.
int64_t NowMicros(leveldb::Env* env);

}  // namespace runnel

#endif  // RUNNEL_UTIL_CLOCK_H_
