/* Copyright 2026 The runnel Authors.
 * endpoint_bench's plugin: writes, for every batch, the CLOCK_MONOTONIC time
 * at which the handler started (nanoseconds, one line) to the FIFO named by
 * RUNNEL_BENCH_FIFO, so that the benchmark measures PutItem over HTTP ->
 * handler start. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runnel/function.h"

RUNNEL_DECLARE_FUNCTION_ABI

static FILE* out;

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  (void)ctx;
  if (out == NULL) {
    const char* path = getenv("RUNNEL_BENCH_FIFO");
    if (path == NULL || (out = fopen(path, "w")) == NULL) return 1;
  }
  fprintf(out, "%lld %zu\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec, batch->count);
  fflush(out);
  return 0;
}
