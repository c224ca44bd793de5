/* A plugin whose runnel_init fails. */
#include "runnel/function.h"
RUNNEL_DECLARE_FUNCTION_ABI
RUNNEL_EXPORT int runnel_init(const runnel_init_args* args) {
  (void)args;
  return 7;
}
RUNNEL_EXPORT int runnel_handler(const runnel_batch* b, runnel_context* c) {
  (void)b;
  (void)c;
  return 0;
}
