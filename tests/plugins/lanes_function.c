/* Copyright 2026 The runnel Authors.
 *
 * The plugin of the ParallelizationFactor tests. For every record it writes
 * one item into table TARGET (from the environment): key = the record's
 * sequence number (20 digits), value = "<item key> <pid>.<delivery>", where
 * <delivery> is taken once per record in the order the handler sees them:
 * strictly increasing in this process, also across reloads of the library
 * (monotonic clock nanoseconds, bumped past the previous one). So a key's delivery order can be
 * read back from the items, and a record delivered twice with its write-back committed twice shows
 * up as a MODIFY in TARGET's stream (the values differ). SLEEP_MS=N   sleep N ms per batch
 * lanes_max_in_flight() is the most invocations that were ever running at
 * once in this process, lanes_max_batch() the largest batch (a test dlopens
 * the same library to read them). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runnel/function.h"

RUNNEL_DECLARE_FUNCTION_ABI

static long long g_delivery;

static long long NextDelivery(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const long long now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  long long last = __atomic_load_n(&g_delivery, __ATOMIC_SEQ_CST);
  for (;;) {
    const long long next = now > last ? now : last + 1;
    if (__atomic_compare_exchange_n(&g_delivery, &last, next, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
      return next;
    }
  }
}
static int g_in_flight;
static int g_max_in_flight;
static size_t g_max_batch;

RUNNEL_EXPORT int lanes_max_in_flight(void) {
  return __atomic_load_n(&g_max_in_flight, __ATOMIC_SEQ_CST);
}

RUNNEL_EXPORT size_t lanes_max_batch(void) {
  return __atomic_load_n(&g_max_batch, __ATOMIC_SEQ_CST);
}

RUNNEL_EXPORT void lanes_reset(void) { __atomic_store_n(&g_max_in_flight, 0, __ATOMIC_SEQ_CST); }

static void NoteInFlight(void) {
  int now = __atomic_add_fetch(&g_in_flight, 1, __ATOMIC_SEQ_CST);
  int max = __atomic_load_n(&g_max_in_flight, __ATOMIC_SEQ_CST);
  while (now > max && !__atomic_compare_exchange_n(&g_max_in_flight, &max, now, 0, __ATOMIC_SEQ_CST,
                                                   __ATOMIC_SEQ_CST)) {
  }
}

RUNNEL_EXPORT int runnel_handler(const runnel_batch* batch, runnel_context* ctx) {
  const char* target = ctx->api->getenv(ctx, "TARGET");
  const char* sleep_ms = ctx->api->getenv(ctx, "SLEEP_MS");
  NoteInFlight();
  size_t max = __atomic_load_n(&g_max_batch, __ATOMIC_SEQ_CST);
  while (batch->count > max && !__atomic_compare_exchange_n(&g_max_batch, &max, batch->count, 0,
                                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  if (sleep_ms != NULL) {
    long ms = atol(sleep_ms);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  const char* fail_key = ctx->api->getenv(ctx, "FAIL_KEY");
  for (size_t i = 0; i < batch->count && fail_key != NULL; ++i) {
    const runnel_record* r = &batch->records[i];
    if (strlen(fail_key) == r->key_len && memcmp(fail_key, r->key, r->key_len) == 0) {
      __atomic_sub_fetch(&g_in_flight, 1, __ATOMIC_SEQ_CST);
      return 1;
    }
  }
  for (size_t i = 0; i < batch->count && target != NULL; ++i) {
    const runnel_record* r = &batch->records[i];
    const long long delivery = NextDelivery();
    char key[32];
    snprintf(key, sizeof(key), "%020llu", (unsigned long long)r->sequence_number);
    char value[320];
    int len =
        snprintf(value, sizeof(value), "%.*s %ld.%lld", (int)(r->key_len < 256 ? r->key_len : 256),
                 r->key, (long)getpid(), delivery);
    runnel_put(ctx, target, strlen(target), key, strlen(key), value, (size_t)len);
  }
  __atomic_sub_fetch(&g_in_flight, 1, __ATOMIC_SEQ_CST);
  return 0;
}
