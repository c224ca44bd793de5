/* The plugin ABI as runnel shipped it at version 1 (include/runnel/function.h
 * before typed items), kept verbatim below so that tests/plugins/abi_v1.c is
 * a real plugin built for the old ABI. Do not update it. */
/* Copyright 2026 The runnel Authors.
 *
 * runnel/function.h: the plain C ABI between runnel and a function plugin.
 *
 * A function is a shared library that runnel loads with dlopen(3). It exports
 *
 *   uint32_t runnel_function_abi_version(void);       required
 *   int runnel_handler(const runnel_batch*, runnel_context*);
 *                                                    the default handler name;
 *                                                    a function's configuration
 *                                                    may name another symbol
 *   int runnel_init(const runnel_init_args*);        optional, once per load
 *   void runnel_shutdown(void);                      optional, before unload
 *
 * runnel_function_abi_version() must return RUNNEL_FUNCTION_ABI_VERSION as
 * the plugin was compiled against it; a mismatch refuses the load with a
 * clear error. The plugin does not link against librunnel: everything it may
 * call is reached through the context's function table.
 *
 * The handler returns 0 when the batch succeeded and non-zero when it failed
 * (the whole batch is then retried, unless it reported failed items, see
 * runnel_report_failed_item). Records and every pointer reachable from the
 * batch or the context are valid only during the call; copy what you keep.
 * A handler may be called again for the same records (delivery is at least
 * once); it is never called concurrently for the same event source mapping.
 *
 * Strings are (pointer, length) pairs and are not NUL-terminated unless said
 * otherwise. Keys and values are bytes.
 */

#ifndef RUNNEL_INCLUDE_FUNCTION_H_
#define RUNNEL_INCLUDE_FUNCTION_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUNNEL_FUNCTION_ABI_VERSION 1u

/* Default symbol names. */
#define RUNNEL_ABI_VERSION_SYMBOL "runnel_function_abi_version"
#define RUNNEL_DEFAULT_HANDLER_SYMBOL "runnel_handler"
#define RUNNEL_INIT_SYMBOL "runnel_init"
#define RUNNEL_SHUTDOWN_SYMBOL "runnel_shutdown"

typedef enum runnel_event_name {
  RUNNEL_INSERT = 1,
  RUNNEL_MODIFY = 2,
  RUNNEL_REMOVE = 3
} runnel_event_name;

/* One change record, as views into the log. */
typedef struct runnel_record {
  uint64_t sequence_number;
  int64_t commit_time_micros; /* since the Unix epoch, UTC */
  int32_t event_name;         /* runnel_event_name */
  uint32_t size_bytes;        /* the cloud's SizeBytes */
  const char* table;
  size_t table_len;
  const char* key;
  size_t key_len;
  /* Present as the stream's view type and the event allow. */
  int32_t has_old_image;
  int32_t has_new_image;
  const char* old_image;
  size_t old_image_len;
  const char* new_image;
  size_t new_image_len;
} runnel_record;

typedef struct runnel_batch {
  const runnel_record* records;
  size_t count;
  const char* event_source_arn; /* the stream ARN, NUL-terminated */
  const char* mapping_uuid;     /* the event source mapping, NUL-terminated */
} runnel_batch;

typedef struct runnel_context runnel_context;

/* The services runnel offers a running handler. Every function returns 0 on
 * success and non-zero on failure unless documented otherwise. */
typedef struct runnel_context_api {
  uint32_t abi_version; /* RUNNEL_FUNCTION_ABI_VERSION of the host */
  /* Appends one line to the function's log (prefixed with time and request
   * id). */
  void (*log)(runnel_context* ctx, const char* line, size_t len);
  /* The invocation's request id, NUL-terminated, valid during the call. */
  const char* (*request_id)(runnel_context* ctx);
  /* Milliseconds left before the function's timeout. */
  int64_t (*remaining_time_ms)(runnel_context* ctx);
  /* Partial batch response (ReportBatchItemFailures): marks the record with
   * this sequence number as failed. The mapping then checkpoints before the
   * lowest failed record and retries from there. Returns non-zero if the
   * sequence number is not in the batch (the whole batch then fails, as in
   * the cloud). */
  int (*report_failed_item)(runnel_context* ctx, uint64_t sequence_number);
  /* The batch as the cloud's event, {"Records":[...]}, rendered once on
   * first use; NUL-terminated; valid during the call. */
  const char* (*event_json)(runnel_context* ctx, size_t* len);
  /* The function's environment variable, or NULL. NUL-terminated. */
  const char* (*getenv)(runnel_context* ctx, const char* name);
  /* Writes back into the DB. The writes of one invocation are committed
   * atomically together with the mapping's checkpoint when the batch
   * succeeds, and discarded when it fails (exactly-once effects). Reads
   * do not see them before then. Non-zero for an invalid argument (the
   * message is in the function's log). */
  int (*put)(runnel_context* ctx, const char* table, size_t table_len, const char* key,
             size_t key_len, const char* value, size_t value_len);
  int (*del)(runnel_context* ctx, const char* table, size_t table_len, const char* key,
             size_t key_len);
} runnel_context_api;

struct runnel_context {
  const runnel_context_api* api;
};

typedef struct runnel_init_args {
  uint32_t abi_version;
  const char* function_name; /* NUL-terminated */
} runnel_init_args;

typedef uint32_t (*runnel_abi_version_fn)(void);
typedef int (*runnel_handler_fn)(const runnel_batch* batch, runnel_context* ctx);
typedef int (*runnel_init_fn)(const runnel_init_args* args);
typedef void (*runnel_shutdown_fn)(void);

/* Conveniences over the function table. */
static inline void runnel_log(runnel_context* ctx, const char* line, size_t len) {
  ctx->api->log(ctx, line, len);
}
static inline int runnel_report_failed_item(runnel_context* ctx, uint64_t sequence_number) {
  return ctx->api->report_failed_item(ctx, sequence_number);
}
static inline int runnel_put(runnel_context* ctx, const char* table, size_t table_len,
                             const char* key, size_t key_len, const char* value, size_t value_len) {
  return ctx->api->put(ctx, table, table_len, key, key_len, value, value_len);
}
static inline int runnel_delete(runnel_context* ctx, const char* table, size_t table_len,
                                const char* key, size_t key_len) {
  return ctx->api->del(ctx, table, table_len, key, key_len);
}

/* Exported plugin symbols need C linkage and default visibility. */
#ifdef __cplusplus
#define RUNNEL_EXPORT extern "C" __attribute__((visibility("default")))
#else
#define RUNNEL_EXPORT __attribute__((visibility("default")))
#endif

/* Defines the ABI version export; use once in a plugin. */
#define RUNNEL_DECLARE_FUNCTION_ABI \
  RUNNEL_EXPORT uint32_t runnel_function_abi_version(void) { return RUNNEL_FUNCTION_ABI_VERSION; }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RUNNEL_INCLUDE_FUNCTION_H_ */
