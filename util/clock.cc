// Copyright 2026 The runnel Authors.

#include "util/clock.h"

#include <leveldb/env.h>

namespace runnel {

int64_t NowMicros(leveldb::Env* env) { return static_cast<int64_t>(env->NowMicros()); }

}  // namespace runnel
