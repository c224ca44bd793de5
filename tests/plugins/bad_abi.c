/* A plugin built for another ABI version. */
#include <stdint.h>

#include "runnel/function.h"
RUNNEL_EXPORT uint32_t runnel_function_abi_version(void) { return 999; }
RUNNEL_EXPORT int runnel_handler(const runnel_batch* b, runnel_context* c) {
  (void)b;
  (void)c;
  return 0;
}
