/* A plugin built against the version-2 plugin ABI (the header as it was
 * shipped, tests/plugins/function_abi_v2.h): runnel still loads it; it cannot
 * return a tumbling window's state. */
#include <string.h>

#include "function_abi_v2.h"

RUNNEL_DECLARE_FUNCTION_ABI

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    if (runnel_put(ctx, "out", 3, r->key, r->key_len, "v2", 2) != 0) return 1;
  }
  return 0;
}
