/* A plugin built against the version-2 plugin ABI (the header as it was
 * shipped): runnel still loads and runs it. For each record of a byte table
 * it puts out/<key> = "v2 saw abi <the host's abi_version>". */
#include <stdio.h>
#include <string.h>

#include "function_abi_v2.h"

RUNNEL_DECLARE_FUNCTION_ABI

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    if (r->typed) continue;
    char value[64];
    snprintf(value, sizeof(value), "v2 saw abi %u", (unsigned)ctx->api->abi_version);
    if (runnel_put(ctx, "out", 3, r->key, r->key_len, value, strlen(value)) != 0) return 1;
  }
  return 0;
}
