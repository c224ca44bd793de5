/* Copyright 2026 The runnel Authors.
 * A function that takes 1 ms per batch (it sleeps, as a handler waiting on
 * I/O does) and does nothing else: lanes_bench's plugin. Thread-safe. */
#include <time.h>

#include "runnel/function.h"
RUNNEL_DECLARE_FUNCTION_ABI
RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  (void)batch;
  (void)ctx;
  struct timespec ts = {0, 1000000L};
  nanosleep(&ts, NULL);
  return 0;
}
