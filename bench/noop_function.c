/* Copyright 2026 The runnel Authors.
 * A function that does nothing: the trigger benchmark's plugin. */
#include "runnel/function.h"
RUNNEL_DECLARE_FUNCTION_ABI
RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  (void)batch;
  (void)ctx;
  return 0;
}
