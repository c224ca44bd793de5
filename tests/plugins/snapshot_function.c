/* Copyright 2026 The runnel Authors.
 *
 * The plugin of the snapshot bootstrap tests (StartingPosition SNAPSHOT).
 * Its behaviour is chosen by the function's environment:
 *   TARGET=T      one item per record into table T: a snapshot record as
 *                 key "s/<key>/<sequence, 20 digits>", value its new image;
 *                 a stream record as key "t/<sequence, 20 digits>", value
 *                 "<event> <key> <new image>"
 *   SLEEP_MS=N    sleep N ms per batch
 *   COUNT_FILE=P  append "<batch size> <snapshot records>" to file P
 *   FAIL_KEY=K    fail any batch holding key K */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runnel/function.h"

RUNNEL_DECLARE_FUNCTION_ABI

static const char* kNames[] = {"?", "INSERT", "MODIFY", "REMOVE"};

static int WriteBack(runnel_context* ctx, const char* target, const runnel_record* r) {
  size_t cap = 64 + 2 * r->key_len + r->new_image_len;
  char* key = malloc(cap);
  char* value = malloc(cap);
  size_t klen, vlen;
  if (key == NULL || value == NULL) {
    free(key);
    free(value);
    return 1;
  }
  if (r->snapshot) {
    memcpy(key, "s/", 2);
    memcpy(key + 2, r->key, r->key_len);
    klen = 2 + r->key_len;
    klen += (size_t)snprintf(key + klen, cap - klen, "/%020llu",
                             (unsigned long long)r->sequence_number);
    memcpy(value, r->new_image, r->new_image_len);
    vlen = r->new_image_len;
  } else {
    klen = (size_t)snprintf(key, cap, "t/%020llu", (unsigned long long)r->sequence_number);
    vlen = (size_t)snprintf(value, cap, "%s ", kNames[r->event_name]);
    memcpy(value + vlen, r->key, r->key_len);
    vlen += r->key_len;
    value[vlen++] = ' ';
    if (r->has_new_image) {
      memcpy(value + vlen, r->new_image, r->new_image_len);
      vlen += r->new_image_len;
    }
  }
  int rc = runnel_put(ctx, target, strlen(target), key, klen, value, vlen);
  free(key);
  free(value);
  return rc;
}

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  const char* target = ctx->api->getenv(ctx, "TARGET");
  const char* sleep_ms = ctx->api->getenv(ctx, "SLEEP_MS");
  const char* count_file = ctx->api->getenv(ctx, "COUNT_FILE");
  const char* fail_key = ctx->api->getenv(ctx, "FAIL_KEY");
  if (sleep_ms != NULL) {
    long ms = atol(sleep_ms);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  size_t snapshots = 0;
  for (size_t i = 0; i < batch->count; ++i) snapshots += batch->records[i].snapshot != 0;
  if (count_file != NULL) {
    FILE* f = fopen(count_file, "a");
    if (f != NULL) {
      fprintf(f, "%zu %zu\n", batch->count, snapshots);
      fclose(f);
    }
  }
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    if (fail_key != NULL && strlen(fail_key) == r->key_len &&
        memcmp(fail_key, r->key, r->key_len) == 0) {
      return 1;
    }
    if (target != NULL && WriteBack(ctx, target, r) != 0) return 1;
  }
  return 0;
}
