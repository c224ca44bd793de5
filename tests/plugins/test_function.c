/* Copyright 2026 The runnel Authors.
 *
 * The plugin the trigger tests load with dlopen. Its behaviour is chosen by
 * the function's environment:
 *   TARGET=T       write one item per record into table T: key = the
 *                  record's sequence number (20 digits), value =
 *                  "<event> <key> <new image>"
 *   FAIL_KEY=K     fail any batch holding key K (REPORT_ITEMS=1: report that
 *                  record as a failed item instead)
 *   SLEEP_MS=N     sleep N ms per batch
 *   ECHO_SELF=1    write "<key>+" back into the record's own table (a
 *                  recursive trigger chain)
 *   COUNT_FILE=P   append the batch size to file P (counts invocations
 *                  across processes) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runnel/function.h"

RUNNEL_DECLARE_FUNCTION_ABI

static const char* kNames[] = {"?", "INSERT", "MODIFY", "REMOVE"};

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  const char* target = ctx->api->getenv(ctx, "TARGET");
  const char* fail_key = ctx->api->getenv(ctx, "FAIL_KEY");
  const char* report = ctx->api->getenv(ctx, "REPORT_ITEMS");
  const char* sleep_ms = ctx->api->getenv(ctx, "SLEEP_MS");
  const char* echo = ctx->api->getenv(ctx, "ECHO_SELF");
  const char* count_file = ctx->api->getenv(ctx, "COUNT_FILE");
  if (sleep_ms != NULL) {
    long ms = atol(sleep_ms);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  if (count_file != NULL) {
    FILE* f = fopen(count_file, "a");
    if (f != NULL) {
      fprintf(f, "%zu\n", batch->count);
      fclose(f);
    }
  }
  int failed = 0;
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    if (fail_key != NULL && strlen(fail_key) == r->key_len &&
        memcmp(fail_key, r->key, r->key_len) == 0) {
      if (report != NULL && strcmp(report, "1") == 0) {
        runnel_report_failed_item(ctx, r->sequence_number);
      } else {
        failed = 1;
      }
    }
    if (target != NULL) {
      char key[32];
      snprintf(key, sizeof(key), "%020llu", (unsigned long long)r->sequence_number);
      size_t cap = 16 + r->key_len + r->new_image_len;
      char* value = (char*)malloc(cap);
      int len = snprintf(value, cap, "%s %.*s %.*s", kNames[r->event_name & 3], (int)r->key_len,
                         r->key, (int)r->new_image_len, r->has_new_image ? r->new_image : "");
      runnel_put(ctx, target, strlen(target), key, strlen(key), value, (size_t)len);
      free(value);
    }
    if (echo != NULL && r->event_name != RUNNEL_REMOVE && r->key_len < 200) {
      char key[256];
      memcpy(key, r->key, r->key_len);
      key[r->key_len] = '+';
      runnel_put(ctx, r->table, r->table_len, key, r->key_len + 1, "v", 1);
    }
  }
  char line[64];
  int n = snprintf(line, sizeof(line), "batch of %zu", batch->count);
  runnel_log(ctx, line, (size_t)n);
  return failed;
}
