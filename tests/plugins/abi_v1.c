/* A plugin built against the version-1 plugin ABI (the header as it was
 * shipped): runnel refuses to load it, naming both versions. */
#include <string.h>

#include "function_abi_v1.h"

RUNNEL_DECLARE_FUNCTION_ABI

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    runnel_put(ctx, "out", 3, r->key, r->key_len, "v1", 2);
  }
  return 0;
}
