/* Copyright 2026 The runnel Authors.
 *
 * process_stream: the tutorial's ProcessDynamoDBStream function. Logs one
 * line per record: for a typed table, as the tutorial's Node.js function
 * does (console.log('DynamoDB Record: %j', record.dynamodb)), the record's
 * eventName and its "dynamodb" member with Keys and typed images; for a byte
 * table its eventName, key, SequenceNumber and images. */

#include <stdio.h>
#include <stdlib.h>

#include "runnel/function.h"

RUNNEL_DECLARE_FUNCTION_ABI

static const char* kNames[] = {"?", "INSERT", "MODIFY", "REMOVE"};

static const char* EventName(const runnel_record* r) {
  return kNames[r->event_name >= 1 && r->event_name <= 3 ? r->event_name : 0];
}

/* "INSERT DynamoDB Record: {"ApproximateCreationDateTime":...,"Keys":...}" */
static int LogTyped(runnel_context* ctx, const runnel_record* r) {
  size_t json_len = 0;
  const char* json = runnel_record_json(ctx, r, RUNNEL_RECORD_DYNAMODB, &json_len);
  if (json == NULL) return 1;
  size_t cap = 64 + json_len;
  char* line = (char*)malloc(cap);
  if (line == NULL) return 1;
  int len = snprintf(line, cap, "%s DynamoDB Record: %.*s", EventName(r), (int)json_len, json);
  runnel_log(ctx, line, (size_t)len);
  free(line);
  return 0;
}

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    if (r->typed) {
      if (LogTyped(ctx, r) != 0) return 1;
      continue;
    }
    size_t cap = 128 + r->key_len + r->old_image_len + r->new_image_len;
    char* line = (char*)malloc(cap);
    if (line == NULL) return 1;
    int len = snprintf(line, cap, "%s key=%.*s SequenceNumber=%llu", EventName(r), (int)r->key_len,
                       r->key, (unsigned long long)r->sequence_number);
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
