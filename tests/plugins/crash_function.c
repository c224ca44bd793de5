/* Copyright 2026 The runnel Authors.
 *
 * A plugin that dies in the ways a plugin can, for the isolated-function
 * tests (tests/isolation_test.cc). Its behaviour is chosen by the function's
 * environment:
 *   TARGET=T      first write "doomed-<seq>" into byte table T for every
 *                 record (write-backs of an attempt that then dies), and on
 *                 success write "<seq>" = the record's key
 *   CRASH=HOW     segv | abort | exit3 | exit0 | sleep (60 s, past any test
 *                 timeout) | none
 *   CRASH_ONCE=P  die only while file P does not exist (it is created just
 *                 before): the retry succeeds
 *   CRASH_KEY=K   die only on a batch holding key K
 * It logs "alive <request id> <remaining ms> <event json bytes>" on every
 * call, through the same services an in-process handler uses.
 *
 * A function whose name starts with "crash_init" segfaults in runnel_init. */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runnel/function.h"

RUNNEL_DECLARE_FUNCTION_ABI

RUNNEL_EXPORT int runnel_init(const runnel_init_args* args) {
  if (strncmp(args->function_name, "crash_init", 10) == 0) raise(SIGSEGV);
  return 0;
}

static int HasKey(const runnel_batch* batch, const char* key) {
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    if (strlen(key) == r->key_len && memcmp(key, r->key, r->key_len) == 0) return 1;
  }
  return 0;
}

static void Die(const char* how) {
  if (strcmp(how, "segv") == 0) {
    // A real SIGSEGV with the default action, however the plugin is built:
    // under UBSan a null store is reported and exits 1, and ASan catches a
    // fault itself; the host must see what a segfaulting plugin does.
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
  } else if (strcmp(how, "abort") == 0) {
    abort();
  } else if (strcmp(how, "exit3") == 0) {
    exit(3);
  } else if (strcmp(how, "exit0") == 0) {
    exit(0);
  } else if (strcmp(how, "sleep") == 0) {
    struct timespec ts = {60, 0};
    nanosleep(&ts, NULL);
  }
}

static int ShouldDie(const runnel_batch* batch, runnel_context* ctx) {
  const char* how = ctx->api->getenv(ctx, "CRASH");
  const char* once = ctx->api->getenv(ctx, "CRASH_ONCE");
  const char* key = ctx->api->getenv(ctx, "CRASH_KEY");
  if (how == NULL || strcmp(how, "none") == 0) return 0;
  if (key != NULL && !HasKey(batch, key)) return 0;
  if (once != NULL) {
    FILE* f = fopen(once, "r");
    if (f != NULL) {
      fclose(f);
      return 0;
    }
    f = fopen(once, "w");
    if (f != NULL) fclose(f);
  }
  return 1;
}

static void WriteAll(const runnel_batch* batch, runnel_context* ctx, const char* target,
                     int doomed) {
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    char key[48];
    snprintf(key, sizeof(key), "%s%020llu", doomed ? "doomed-" : "",
             (unsigned long long)r->sequence_number);
    runnel_put(ctx, target, strlen(target), key, strlen(key), r->key, r->key_len);
  }
}

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  const char* target = ctx->api->getenv(ctx, "TARGET");
  size_t json_len = 0;
  ctx->api->event_json(ctx, &json_len);
  char line[160];
  int n = snprintf(line, sizeof(line), "alive %s %lld %zu", ctx->api->request_id(ctx),
                   (long long)ctx->api->remaining_time_ms(ctx), json_len);
  runnel_log(ctx, line, (size_t)n);
  if (ShouldDie(batch, ctx)) {
    if (target != NULL) WriteAll(batch, ctx, target, 1);
    Die(ctx->api->getenv(ctx, "CRASH"));
    return 1; /* "sleep" woke up: too late anyway */
  }
  if (target != NULL) WriteAll(batch, ctx, target, 0);
  return 0;
}
