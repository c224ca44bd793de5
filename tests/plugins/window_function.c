/* A counting aggregate over tumbling windows (TumblingWindowInSeconds), for
 * tests/triggers_windows_test.cc and trigger_crash_windows_test.cc.
 *
 * State: {"count":N} (plus "pad", PAD bytes per record counted, when the
 * environment sets PAD). Each non-final invocation adds its records to the
 * count. The final invocation of a window writes one item to the table
 * TARGET: key "<window start micros>/<final|early>/<request id>", value the
 * count. A record outside the window, or a final invocation with records,
 * is written to TARGET as "violation/..." (the tests look for them).
 *
 * MODE=cloud reads the window, state and flags from the event JSON (as a
 * handler written against the cloud does) and returns the cloud's response
 * with set_response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runnel/function.h"

RUNNEL_DECLARE_FUNCTION_ABI

static unsigned long long CountIn(const char* json) {
  const char* p = strstr(json, "\"count\":");
  return p != NULL ? strtoull(p + 8, NULL, 10) : 0;
}

static void Put(runnel_context* ctx, const char* table, const char* key, const char* value) {
  runnel_put(ctx, table, strlen(table), key, strlen(key), value, strlen(value));
}

/* The parts of the cloud's event a handler needs; 0 if one is missing. */
static int FromEvent(runnel_context* ctx, int* is_final, unsigned long long* count) {
  size_t len = 0;
  const char* ev = ctx->api->event_json(ctx, &len);
  const char* need[] = {"\"window\":{\"start\":\"",
                        "\"end\":\"",
                        "\"state\":{",
                        "\"shardId\":\"shardId-",
                        "\"eventSourceARN\":\"arn:aws:dynamodb:",
                        "\"isWindowTerminatedEarly\":"};
  for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); ++i) {
    if (strstr(ev, need[i]) == NULL) return 0;
  }
  *is_final = strstr(ev, "\"isFinalInvokeForWindow\":true") != NULL;
  *count = CountIn(strstr(ev, "\"state\":{"));
  return 1;
}

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  runnel_window w;
  if (runnel_window_get(ctx, &w) != 0) {
    runnel_log(ctx, "no window", 9);
    return 1;
  }
  const char* target = ctx->api->getenv(ctx, "TARGET");
  const char* mode = ctx->api->getenv(ctx, "MODE");
  const char* pad_env = ctx->api->getenv(ctx, "PAD");
  const int cloud = mode != NULL && strcmp(mode, "cloud") == 0;
  if (target == NULL) return 1;
  int is_final = w.is_final_invoke;
  unsigned long long count = CountIn(w.state);
  if (cloud && !FromEvent(ctx, &is_final, &count)) {
    runnel_log(ctx, "event lacks window fields", 25);
    return 1;
  }
  char key[160];
  char value[64];
  for (size_t i = 0; i < batch->count; ++i) {
    const runnel_record* r = &batch->records[i];
    if (r->commit_time_micros < w.start_micros || r->commit_time_micros >= w.end_micros) {
      snprintf(key, sizeof(key), "violation/outside/%llu", (unsigned long long)r->sequence_number);
      Put(ctx, target, key, "1");
    }
  }
  if (is_final) {
    if (batch->count != 0) Put(ctx, target, "violation/final-with-records", "1");
    snprintf(key, sizeof(key), "%020lld/%s/%s", (long long)w.start_micros,
             w.is_terminated_early ? "early" : "final", ctx->api->request_id(ctx));
    snprintf(value, sizeof(value), "%llu", count);
    Put(ctx, target, key, value);
    if (cloud) {
      const char* done = "{\"state\":{},\"batchItemFailures\":[]}";
      return runnel_set_response(ctx, done, strlen(done));
    }
    return runnel_set_state(ctx, "{}", 2);
  }
  count += batch->count;
  const size_t pad = pad_env != NULL ? (size_t)strtoull(pad_env, NULL, 10) * count : 0;
  char* state = malloc(pad + 96);
  if (state == NULL) return 1;
  int n = snprintf(state, 96, "%s{\"count\":%llu", cloud ? "{\"state\":" : "", count);
  if (pad != 0) {
    memcpy(state + n, ",\"pad\":\"", 8);
    memset(state + n + 8, 'x', pad);
    n += 8 + (int)pad;
    state[n++] = '"';
  }
  n += snprintf(state + n, 64, "}%s", cloud ? ",\"batchItemFailures\":[]}" : "");
  const int rc =
      cloud ? runnel_set_response(ctx, state, (size_t)n) : runnel_set_state(ctx, state, (size_t)n);
  free(state);
  return rc;
}
