/* Copyright 2026 The runnel Authors.
 *
 * A plugin built for the version-2 plugin ABI: runnel_function_abi_version
 * returns 2 and the records are read through the version-2 layout of
 * runnel_record (below, as version 2 shipped it), so it walks the array with
 * that struct's size. runnel must load it and hand it every record. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runnel/function.h"

typedef struct v2_record {
  uint64_t sequence_number;
  int64_t commit_time_micros;
  int32_t event_name;
  uint32_t size_bytes;
  const char* table;
  size_t table_len;
  const char* key;
  size_t key_len;
  int32_t has_old_image;
  int32_t has_new_image;
  const char* old_image;
  size_t old_image_len;
  const char* new_image;
  size_t new_image_len;
  int32_t typed;
} v2_record;

RUNNEL_EXPORT uint32_t runnel_function_abi_version(void) { return 2u; }

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  const v2_record* records = (const v2_record*)(const void*)batch->records;
  for (size_t i = 0; i < batch->count; ++i) {
    const v2_record* r = &records[i];
    if (runnel_put(ctx, "out", 3, r->key, r->key_len, r->new_image, r->new_image_len) != 0) {
      return 1;
    }
  }
  return 0;
}
