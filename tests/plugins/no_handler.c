/* A plugin with the ABI symbol but no handler. */
#include "runnel/function.h"
RUNNEL_DECLARE_FUNCTION_ABI
RUNNEL_EXPORT int something_else(void) { return 0; }
