/* Copyright 2026 The runnel Authors.
 *
 * process_stream: the tutorial's ProcessDynamoDBStream function. Logs one
 * line per record with its eventName, key, SequenceNumber and images. */

#include <stdio.h>
#include <stdlib.h>

#include "runnel/function.h"

RUNNEL_DECLARE_FUNCTION_ABI

static const char* kNames[] = {"?", "INSERT", "MODIFY", "REMOVE"};

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    size_t cap = 128 + r->key_len + r->old_image_len + r->new_image_len;
    char* line = (char*)malloc(cap);
    if (line == NULL) return 1;
    int len = snprintf(line, cap, "%s key=%.*s SequenceNumber=%llu",
                       kNames[r->event_name >= 1 && r->event_name <= 3 ? r->event_name : 0],
                       (int)r->key_len, r->key, (unsigned long long)r->sequence_number);
    if (r->has_old_image) {
      len += snprintf(line + len, cap - (size_t)len, " OldImage=%.*s", (int)r->old_image_len,
                      r->old_image);
    }
    if (r->has_new_image) {
      len += snprintf(line + len, cap - (size_t)len, " NewImage=%.*s", (int)r->new_image_len,
                      r->new_image);
    }
    runnel_log(ctx, line, (size_t)len);
    free(line);
  }
  char done[64];
  int len = snprintf(done, sizeof(done), "Successfully processed %zu records.", batch->count);
  runnel_log(ctx, done, (size_t)len);
  return 0;
}
