/* Copyright 2026 The runnel Authors.
 *
 * fail_on_key: fails every batch that contains the key named by $FAIL_KEY,
 * to show retries, bisection and the on-failure destination. With
 * $REPORT_ITEMS=1 it reports that record as a failed item instead
 * (ReportBatchItemFailures) and lets the rest of the batch succeed. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runnel/function.h"

RUNNEL_DECLARE_FUNCTION_ABI

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  const char* fail_key = ctx->api->getenv(ctx, "FAIL_KEY");
  const char* report = ctx->api->getenv(ctx, "REPORT_ITEMS");
  int failed = 0;
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    if (fail_key != NULL && strlen(fail_key) == r->key_len &&
        memcmp(fail_key, r->key, r->key_len) == 0) {
      char line[96];
      int len = snprintf(line, sizeof(line), "failing on key %s (sequence %llu)", fail_key,
                         (unsigned long long)r->sequence_number);
      runnel_log(ctx, line, (size_t)len);
      if (report != NULL && strcmp(report, "1") == 0) {
        runnel_report_failed_item(ctx, r->sequence_number);
      } else {
        failed = 1;
      }
    }
  }
  return failed;
}
