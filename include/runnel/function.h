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
 * clear error naming both versions (rebuild the plugin against this header).
 * Version 2 added typed items: runnel_record.typed, the record's images as
 * the cloud's JSON, and reading and writing items of typed tables. Version 3
 * added reads of byte tables (runnel_context_api.get), tumbling windows
 * (runnel_window, and the context's window, set_state and set_response),
 * appended at the end, and runnel_record.snapshot (in the struct's former
 * padding: its size and layout are unchanged). runnel loads plugins of every version from
 * RUNNEL_FUNCTION_ABI_MIN_VERSION to RUNNEL_FUNCTION_ABI_VERSION: the
 * context's function table only grows at its end, so an older plugin knows
 * only the members it was built with, and the host never expects it to call
 * more; any other version is refused. The
 * plugin does not link against librunnel: everything it may call is reached
 * through the context's function table.
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

#define RUNNEL_FUNCTION_ABI_VERSION 3u
/* The oldest plugin ABI version this runnel still loads. */
#define RUNNEL_FUNCTION_ABI_MIN_VERSION 2u

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

/* One change record, as views into the log.
 *
 * Records of a byte table carry the key and the stored values. Records of a
 * typed table (`typed` set) carry the encoded item key and encoded items,
 * which are opaque: read them as the cloud's JSON (Keys, NewImage, OldImage)
 * with runnel_record_json. */
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
  /* ABI 2: 1 if the record belongs to a typed table. */
  int32_t typed;
  /* ABI 3: 1 for a snapshot record of a mapping with StartingPosition
   * SNAPSHOT (a runnel extension): an INSERT of an item as the table held it
   * at sequence_number (the snapshot's, shared by every record of one
   * snapshot pass), delivered before the stream after it. It takes the
   * struct's tail padding, so the record's size and layout stay those of
   * ABI 2 and version-2 plugins read the same array. */
  int32_t snapshot;
} runnel_record;

/* The parts of a record that runnel_record_json renders. */
typedef enum runnel_record_part {
  RUNNEL_RECORD_EVENT = 0,     /* the whole record, one element of "Records" */
  RUNNEL_RECORD_DYNAMODB = 1,  /* its "dynamodb" member */
  RUNNEL_RECORD_KEYS = 2,      /* dynamodb.Keys */
  RUNNEL_RECORD_NEW_IMAGE = 3, /* dynamodb.NewImage */
  RUNNEL_RECORD_OLD_IMAGE = 4  /* dynamodb.OldImage */
} runnel_record_part;

/* Results of the item calls (get_item, put_item, update_item, delete_item)
 * and of get (ABI 3). On any result but OK and NOT_FOUND, last_error says
 * what was wrong. */
typedef enum runnel_item_result {
  RUNNEL_ITEM_OK = 0,
  RUNNEL_ITEM_NOT_FOUND = 1,     /* get_item, get: there is no such item */
  RUNNEL_ITEM_INVALID = 2,       /* a malformed item, key, expression or
                                    value, or a table of the other kind
                                    (the cloud's ValidationException) */
  RUNNEL_ITEM_NO_SUCH_TABLE = 3, /* ResourceNotFoundException */
  RUNNEL_ITEM_ERROR = 4          /* the DB failed to read (I/O) */
} runnel_item_result;

typedef struct runnel_batch {
  const runnel_record* records;
  size_t count;
  const char* event_source_arn; /* the stream ARN, NUL-terminated */
  const char* mapping_uuid;     /* the event source mapping, NUL-terminated */
} runnel_batch;

/* ABI 3: the tumbling window of an invocation (a mapping with
 * TumblingWindowInSeconds), as the cloud's event carries it: "window"
 * {start, end}, "state", "isFinalInvokeForWindow", "isWindowTerminatedEarly"
 * and "shardId". Pointers are valid during the call. */
typedef struct runnel_window {
  int64_t start_micros; /* window.start, since the Unix epoch, UTC */
  int64_t end_micros;   /* window.end: start + TumblingWindowInSeconds */
  /* The state the handler returned for this window's previous invocation,
   * a JSON object; "{}" for the window's first one. NUL-terminated. */
  const char* state;
  size_t state_len;
  /* The window has ended: this invocation has no records and gets the
   * window's aggregate (the state); the state is dropped after it. */
  int32_t is_final_invoke;
  /* With is_final_invoke: the window ended early because a state exceeded
   * the limit; the window goes on with a fresh state ("{}"). */
  int32_t is_terminated_early;
  const char* shard_id; /* NUL-terminated */
} runnel_window;

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
   * succeeds, and discarded when it fails (exactly-once effects). This
   * invocation's own get reads them at once (ABI 3); other readers see
   * them only once committed. Byte tables only (a typed table takes
   * put_item, update_item and delete_item). Non-zero for an invalid
   * argument (the message is in the function's log); the batch then fails. */
  int (*put)(runnel_context* ctx, const char* table, size_t table_len, const char* key,
             size_t key_len, const char* value, size_t value_len);
  int (*del)(runnel_context* ctx, const char* table, size_t table_len, const char* key,
             size_t key_len);

  /* --- ABI 2: typed items. Items, keys and values are DynamoDB's JSON
   * ({"pk":{"S":"a"},"n":{"N":"1"}}, binaries in base64), as the AWS CLI's
   * --item, --key and --expression-attribute-values take them. */

  /* A part of `record` (a pointer into this call's batch) as the cloud's
   * JSON, exactly as event_json renders it; for typed records the images
   * are the typed items. Rendered once per record on first use;
   * NUL-terminated; valid during the call. NULL if the part is absent (a
   * REMOVE has no NewImage, KEYS_ONLY no images) or `record` is not a record
   * of this batch. */
  const char* (*record_json)(runnel_context* ctx, const runnel_record* record, int32_t part,
                             size_t* len);
  /* The item with the given key of a typed table, as item JSON: the item as
   * committed, with this invocation's own item write-backs applied (a
   * handler reads its writes). RUNNEL_ITEM_OK and *item_json (NUL-terminated,
   * valid during the call), or RUNNEL_ITEM_NOT_FOUND, or an error. */
  int (*get_item)(runnel_context* ctx, const char* table, size_t table_len, const char* key_json,
                  size_t key_json_len, const char** item_json, size_t* item_json_len);
  /* Item write-backs. Validated at the call (the item, the key, the
   * expression and its names and values, against the table's key schema and
   * the cloud's limits): an invalid one returns an error, is logged, and
   * writes nothing; the handler decides whether the batch fails. Valid ones
   * are committed, in call order, with the byte write-backs and the
   * mapping's checkpoint in one frame when the batch succeeds, and
   * discarded when it fails (exactly-once effects). An update is applied by
   * the commit to the item as it is then (ADD counts atomically); if that
   * fails there (the item changed type under it), nothing of the batch is
   * committed and the batch is retried. */
  int (*put_item)(runnel_context* ctx, const char* table, size_t table_len, const char* item_json,
                  size_t item_json_len);
  int (*delete_item)(runnel_context* ctx, const char* table, size_t table_len, const char* key_json,
                     size_t key_json_len);
  /* UpdateItem: `update_expression` (SET, REMOVE, ADD, DELETE), with
   * ExpressionAttributeNames as {"#n":"name"} and ExpressionAttributeValues
   * as {":v":{"N":"1"}}; either may be NULL (or empty) when unused. Creates
   * the item if it is missing, as the cloud does. */
  int (*update_item)(runnel_context* ctx, const char* table, size_t table_len, const char* key_json,
                     size_t key_json_len, const char* update_expression,
                     size_t update_expression_len, const char* names_json, size_t names_json_len,
                     const char* values_json, size_t values_json_len);
  /* What the last failed item call of this invocation rejected, or "" after
   * a successful one. NUL-terminated; valid until the next item call. */
  const char* (*last_error)(runnel_context* ctx, size_t* len);

  /* --- ABI 3: reads of byte tables. Present only when abi_version >= 3
   * (a plugin built for version 3 runs only on such a host). */

  /* The value of `key` in the byte table `table`: the value as committed,
   * with this invocation's own put and del write-backs applied (a handler
   * reads its writes; the failed attempts of a retried batch left nothing
   * behind). RUNNEL_ITEM_OK and *value (not NUL-terminated, valid during
   * the call), or RUNNEL_ITEM_NOT_FOUND (no such key, or this invocation
   * deleted it), or RUNNEL_ITEM_NO_SUCH_TABLE, or RUNNEL_ITEM_INVALID (a
   * typed table, which get_item reads, or a key of 0 or more than 4096
   * bytes), or RUNNEL_ITEM_ERROR (I/O); last_error says what was wrong.
   * Reads see what was committed when the call started; with the writes
   * committed atomically with the checkpoint, a read-modify-write of keys
   * that only this mapping writes is exactly once. */
  int (*get)(runnel_context* ctx, const char* table, size_t table_len, const char* key,
             size_t key_len, const char** value, size_t* value_len);
  /* --- ABI 3: tumbling windows (TumblingWindowInSeconds). */

  /* The invocation's window: 0 with *window set, or non-zero (and *window
   * untouched) when the mapping has no tumbling window (and for `invoke`). */
  int (*window)(runnel_context* ctx, runnel_window* window);
  /* Sets the state this invocation returns: a JSON object (the cloud's
   * "state"). Every invocation of a windowed mapping must set one, the
   * final one too, or it fails (as a cloud response without "state" does);
   * the last call wins. The state is committed with the mapping's
   * checkpoint when the invocation succeeds, and discarded when it fails
   * (the batch is then retried with the previous state). With partial batch
   * responses, the state must cover only the records before the lowest
   * failed one: those after it are delivered again. A state larger than
   * 1 MB (1048576 bytes) is accepted here and ends the window early (see
   * runnel_window.is_terminated_early): the invocation's state, write-backs
   * and failed items are discarded and its records delivered again in the
   * same window with a fresh state; a batch that exceeds the limit from a
   * fresh state fails. Non-zero if `state_json` is not a JSON object, or the
   * mapping has no window; the invocation then fails (the message is in the
   * function's log). */
  int (*set_state)(runnel_context* ctx, const char* state_json, size_t len);
  /* The cloud's whole response, {"state":{...},"batchItemFailures":
   * [{"itemIdentifier":"<SequenceNumber>"}]}, for handlers ported from the
   * cloud: set_state with "state" (if present) and report_failed_item for
   * each failure. Non-zero for a malformed response (the invocation then
   * fails). */
  int (*set_response)(runnel_context* ctx, const char* response_json, size_t len);
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

static inline const char* runnel_record_json(runnel_context* ctx, const runnel_record* record,
                                             runnel_record_part part, size_t* len) {
  return ctx->api->record_json(ctx, record, (int32_t)part, len);
}
static inline int runnel_item_get(runnel_context* ctx, const char* table, size_t table_len,
                                  const char* key_json, size_t key_json_len, const char** item_json,
                                  size_t* item_json_len) {
  return ctx->api->get_item(ctx, table, table_len, key_json, key_json_len, item_json,
                            item_json_len);
}
static inline int runnel_item_put(runnel_context* ctx, const char* table, size_t table_len,
                                  const char* item_json, size_t item_json_len) {
  return ctx->api->put_item(ctx, table, table_len, item_json, item_json_len);
}
static inline int runnel_item_delete(runnel_context* ctx, const char* table, size_t table_len,
                                     const char* key_json, size_t key_json_len) {
  return ctx->api->delete_item(ctx, table, table_len, key_json, key_json_len);
}
static inline int runnel_item_update(runnel_context* ctx, const char* table, size_t table_len,
                                     const char* key_json, size_t key_json_len,
                                     const char* update_expression, size_t update_expression_len,
                                     const char* names_json, size_t names_json_len,
                                     const char* values_json, size_t values_json_len) {
  return ctx->api->update_item(ctx, table, table_len, key_json, key_json_len, update_expression,
                               update_expression_len, names_json, names_json_len, values_json,
                               values_json_len);
}
static inline int runnel_get(runnel_context* ctx, const char* table, size_t table_len,
                             const char* key, size_t key_len, const char** value,
                             size_t* value_len) {
  return ctx->api->get(ctx, table, table_len, key, key_len, value, value_len);
}
static inline const char* runnel_item_last_error(runnel_context* ctx, size_t* len) {
  return ctx->api->last_error(ctx, len);
}

/* ABI 3. */
static inline int runnel_window_get(runnel_context* ctx, runnel_window* window) {
  return ctx->api->window(ctx, window);
}
static inline int runnel_set_state(runnel_context* ctx, const char* state_json, size_t len) {
  return ctx->api->set_state(ctx, state_json, len);
}
static inline int runnel_set_response(runnel_context* ctx, const char* response_json, size_t len) {
  return ctx->api->set_response(ctx, response_json, len);
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
