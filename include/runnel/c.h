/* Copyright 2026 The runnel Authors.
 *
 * runnel/c.h: the C API of runnel, for applications in C and for bindings
 * (Go, Rust, Python, Zig ...) that link librunnel through a stable C ABI.
 *
 * It covers the C++ API of runnel/db.h, runnel/stream.h and
 * runnel/triggers.h: open/close/destroy, tables, items, write batches,
 * scans, the change iterator, DynamoDB Streams (shard iterators and
 * GetRecords), functions, event source mappings and the trigger runtime.
 * Not covered: in-process C++ handlers, a custom file system (Env),
 * UpdateFunction and UpdateEventSourceMapping, mapping metrics, the
 * read-only reader of another process's DB.
 *
 * Conventions:
 *
 * (1) Every object is an opaque pointer, created and destroyed by the
 *     functions named after it (runnel_options_create / _destroy ...).
 *     A *_destroy function accepts NULL.
 *
 * (2) Byte strings (table names, keys, values, ARNs, iterators) are passed
 *     and returned as a pointer and a length; they may hold any byte,
 *     including NUL. Returned pointers are NOT NUL-terminated unless said
 *     otherwise. A `const char*` without a length (a directory, a library
 *     path) is a NUL-terminated C string.
 *
 * (3) Errors: a function that can fail takes `char** errptr` last. The caller
 *     sets *errptr = NULL before the call. On success *errptr is left
 *     unchanged. On failure *errptr receives a NUL-terminated message
 *     allocated with malloc, of the form "<Code>: <message>" where Code is
 *     one of NotFound, Corruption, NotSupported, InvalidArgument, IOError,
 *     Busy, Trimmed, FailedPrecondition, TimedOut (as runnel::Status names
 *     them); an InvalidArgument names the argument and the limit. If
 *     *errptr was not NULL, the old message is freed and replaced (as
 *     LevelDB does), so one errptr may be reused across calls that are
 *     checked at the end. The caller frees the message with runnel_free.
 *     A function that returns a pointer returns NULL on failure.
 *
 * (4) Every buffer a function returns as `char*` is allocated with malloc,
 *     owned by the caller and freed with runnel_free; a NUL follows its
 *     length (not counted), so text can be used as a C string. Pointers
 *     returned as `const char*` by an accessor are borrowed: they stay valid
 *     as long as the object they were read from (for a change record, see
 *     below).
 *
 * (5) Booleans are `unsigned char` (0 false, anything else true) and enums
 *     are `int` constants defined here, so that every binding can map them.
 *
 * Thread safety: a runnel_t may be used from any number of threads at once,
 * like runnel::DB. Every other object (options, batches, iterators, results)
 * is used by one thread at a time; distinct objects need no synchronization.
 * Results (descriptions, lists, record batches) are snapshots: they do not
 * change when the DB does, and may outlive the runnel_t that produced them
 * unless their accessor says otherwise.
 *
 * Crash behaviour is the C++ API's (runnel/db.h): a write acknowledged with
 * sync set survives power loss; one without survives a crash of the process.
 */

#ifndef RUNNEL_INCLUDE_C_H_
#define RUNNEL_INCLUDE_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define RUNNEL_C_EXPORT __declspec(dllexport)
#else
#define RUNNEL_C_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------ */
/* Types                                                                    */

typedef struct runnel_t runnel_t;
typedef struct runnel_options_t runnel_options_t;
typedef struct runnel_readoptions_t runnel_readoptions_t;
typedef struct runnel_writeoptions_t runnel_writeoptions_t;
typedef struct runnel_writebatch_t runnel_writebatch_t;
typedef struct runnel_strings_t runnel_strings_t;
typedef struct runnel_tabledescription_t runnel_tabledescription_t;
typedef struct runnel_scanoptions_t runnel_scanoptions_t;
typedef struct runnel_scanresult_t runnel_scanresult_t;
typedef struct runnel_change_t runnel_change_t;
typedef struct runnel_changeiterator_t runnel_changeiterator_t;
typedef struct runnel_streams_t runnel_streams_t;
typedef struct runnel_streamdescription_t runnel_streamdescription_t;
typedef struct runnel_records_t runnel_records_t;
typedef struct runnel_functionconfig_t runnel_functionconfig_t;
typedef struct runnel_functions_t runnel_functions_t;
typedef struct runnel_functionlog_t runnel_functionlog_t;
typedef struct runnel_mappingconfig_t runnel_mappingconfig_t;
typedef struct runnel_mappings_t runnel_mappings_t;

/* WAL recovery modes (runnel::WALRecoveryMode). */
enum {
  runnel_tolerate_corrupted_tail_records = 0,
  runnel_absolute_consistency = 1,
  runnel_skip_any_corrupted_records = 2
};

/* Stream view types (runnel::StreamViewType). */
enum {
  runnel_keys_only = 1,
  runnel_new_image = 2,
  runnel_old_image = 3,
  runnel_new_and_old_images = 4
};

/* Event names of change records (runnel::EventName). */
enum { runnel_event_insert = 1, runnel_event_modify = 2, runnel_event_remove = 3 };

/* Shard iterator types (runnel::ShardIteratorType). */
enum {
  runnel_trim_horizon = 0,
  runnel_latest = 1,
  runnel_at_sequence_number = 2,
  runnel_after_sequence_number = 3,
  runnel_at_timestamp = 4
};

/* Starting positions of event source mappings (runnel::StartingPosition). */
enum {
  runnel_start_trim_horizon = 0,
  runnel_start_latest = 1,
  runnel_start_at_timestamp = 2,
  runnel_start_at_sequence_number = 3,
  /* A runnel extension: the table's items first, then the stream (see
   * StartingPosition::kSnapshot in runnel/triggers.h). */
  runnel_start_snapshot = 4
};

/* ------------------------------------------------------------------------ */
/* Version and memory                                                       */

/* The version of the library linked (not of the header compiled against). */
RUNNEL_C_EXPORT int runnel_major_version(void);
RUNNEL_C_EXPORT int runnel_minor_version(void);

/* Frees a buffer or an error message returned by this API. NULL is fine.
 * Use it rather than free(3): the library and the caller may use different
 * allocators (e.g. on Windows, or under a binding's own malloc). */
RUNNEL_C_EXPORT void runnel_free(void* ptr);

/* ------------------------------------------------------------------------ */
/* Options (runnel::Options; defaults as there)                             */

RUNNEL_C_EXPORT runnel_options_t* runnel_options_create(void);
RUNNEL_C_EXPORT void runnel_options_destroy(runnel_options_t* options);
/* Default on: create the directory and an empty DB if missing. */
RUNNEL_C_EXPORT void runnel_options_set_create_if_missing(runnel_options_t* options,
                                                          unsigned char value);
RUNNEL_C_EXPORT void runnel_options_set_error_if_exists(runnel_options_t* options,
                                                        unsigned char value);
/* The DB's name; empty (the default) means the directory's base name.
 * Fixed when the DB is created. */
RUNNEL_C_EXPORT void runnel_options_set_name(runnel_options_t* options, const char* name,
                                             size_t name_len);
/* The region and account id of the DB's ARNs (arn:aws:dynamodb:<region>:
 * <account>:table/...): default "us-east-1" and "000000000000". Fixed when
 * the DB is created (runnel::Options::region, account_id): later values are
 * checked for form (runnel_open fails otherwise) and ignored. */
RUNNEL_C_EXPORT void runnel_options_set_region(runnel_options_t* options, const char* region,
                                               size_t region_len);
RUNNEL_C_EXPORT void runnel_options_set_account_id(runnel_options_t* options,
                                                   const char* account_id, size_t account_id_len);
/* One of the runnel_*_records / runnel_absolute_consistency constants. */
RUNNEL_C_EXPORT void runnel_options_set_recovery_mode(runnel_options_t* options, int mode);
/* Minimum 64 KiB (checked at open). */
RUNNEL_C_EXPORT void runnel_options_set_segment_bytes(runnel_options_t* options, uint64_t bytes);
/* 0 keeps segments forever. */
RUNNEL_C_EXPORT void runnel_options_set_retention_seconds(runnel_options_t* options,
                                                          uint64_t seconds);
RUNNEL_C_EXPORT void runnel_options_set_max_log_bytes(runnel_options_t* options, uint64_t bytes);
RUNNEL_C_EXPORT void runnel_options_set_write_buffer_bytes(runnel_options_t* options, size_t bytes);
RUNNEL_C_EXPORT void runnel_options_set_block_cache_bytes(runnel_options_t* options, size_t bytes);
RUNNEL_C_EXPORT void runnel_options_set_max_open_files(runnel_options_t* options, int n);
/* Options::key_filter_bits_per_key: 0 (off) to 64; another value makes
 * runnel_open fail with an invalid-argument error. */
RUNNEL_C_EXPORT void runnel_options_set_key_filter_bits_per_key(runnel_options_t* options,
                                                                int bits);
/* Start the trigger runtime at open (default off). */
RUNNEL_C_EXPORT void runnel_options_set_run_triggers(runnel_options_t* options,
                                                     unsigned char value);
/* Options::trigger_threads: the trigger runtime's pool, 0 (four per core)
 * to 1024; another value makes runnel_open fail with an invalid-argument
 * error. */
RUNNEL_C_EXPORT void runnel_options_set_trigger_threads(runnel_options_t* options, int threads);

/* Options of one write. Default: not synced. */
RUNNEL_C_EXPORT runnel_writeoptions_t* runnel_writeoptions_create(void);
RUNNEL_C_EXPORT void runnel_writeoptions_destroy(runnel_writeoptions_t* options);
RUNNEL_C_EXPORT void runnel_writeoptions_set_sync(runnel_writeoptions_t* options,
                                                  unsigned char value);

/* Options of one read (runnel::ReadOptions). NULL is accepted wherever a
 * runnel_readoptions_t is and means the defaults. */
RUNNEL_C_EXPORT runnel_readoptions_t* runnel_readoptions_create(void);
RUNNEL_C_EXPORT void runnel_readoptions_destroy(runnel_readoptions_t* options);
/* Default off: check every index block read against its checksum (a
 * mismatch fails the read with Corruption). */
RUNNEL_C_EXPORT void runnel_readoptions_set_verify_checksums(runnel_readoptions_t* options,
                                                             unsigned char value);
/* Default on: keep the blocks read in the block cache; turn it off for a
 * bulk scan. */
RUNNEL_C_EXPORT void runnel_readoptions_set_fill_cache(runnel_readoptions_t* options,
                                                       unsigned char value);

/* ------------------------------------------------------------------------ */
/* Open, close, destroy                                                     */

/* Opens (or creates) the DB in directory `dir`; `options` may be NULL (the
 * defaults) and is copied. Returns NULL and sets *errptr on failure; Busy if
 * another runnel_t or process has it open. */
RUNNEL_C_EXPORT runnel_t* runnel_open(const runnel_options_t* options, const char* dir,
                                      char** errptr);
/* Closes the DB (stopping the trigger runtime first, making the log durable)
 * and frees the handle. NULL is fine. REQUIRES: no other call on db is
 * running, and every iterator, record batch and result obtained from db that
 * says it borrows from the DB has been destroyed. */
RUNNEL_C_EXPORT void runnel_close(runnel_t* db);
/* Removes the DB in `dir` (runnel::DestroyDB): its log, index, identity,
 * info log and function logs, then the directory unless files runnel did not
 * write are left in it (they are not touched). OK if `dir` does not exist;
 * Busy while the DB is open, and then nothing is removed. `options` may be
 * NULL. */
RUNNEL_C_EXPORT void runnel_destroy_db(const runnel_options_t* options, const char* dir,
                                       char** errptr);

/* The DB's name; borrowed, valid until runnel_close. */
RUNNEL_C_EXPORT const char* runnel_name(const runnel_t* db, size_t* len);
/* The region (also the records' awsRegion) and account id of the DB's ARNs;
 * borrowed, valid until runnel_close. */
RUNNEL_C_EXPORT const char* runnel_region(const runnel_t* db, size_t* len);
RUNNEL_C_EXPORT const char* runnel_account_id(const runnel_t* db, size_t* len);
/* The newest committed sequence number (0 if none), and the oldest one the
 * log still holds. */
RUNNEL_C_EXPORT uint64_t runnel_last_sequence(const runnel_t* db);
RUNNEL_C_EXPORT uint64_t runnel_first_available_sequence(const runnel_t* db);

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */

/* Creates a table, with a stream of `view_type` if stream_enabled (the view
 * type is ignored otherwise). Busy if it exists; InvalidArgument naming
 * "table name" for a bad name (3-255 characters of [A-Za-z0-9_.-]). */
RUNNEL_C_EXPORT void runnel_create_table(runnel_t* db, const char* name, size_t name_len,
                                         unsigned char stream_enabled, int view_type,
                                         char** errptr);
/* Enables (stream_enabled set, with `view_type`) or disables the table's
 * stream, with DynamoDB's rules: enabling an enabled stream is Busy (disable
 * first; re-enabling creates a new stream with a new label), disabling a
 * table without an enabled stream is InvalidArgument. */
RUNNEL_C_EXPORT void runnel_update_table(runnel_t* db, const char* name, size_t name_len,
                                         unsigned char stream_enabled, int view_type,
                                         char** errptr);
/* Removes the table and its items; its streams stay readable until
 * retention removes their records. NotFound if missing. */
RUNNEL_C_EXPORT void runnel_delete_table(runnel_t* db, const char* name, size_t name_len,
                                         char** errptr);
/* The table's description, or NULL (NotFound if missing). */
RUNNEL_C_EXPORT runnel_tabledescription_t* runnel_describe_table(runnel_t* db, const char* name,
                                                                 size_t name_len, char** errptr);
RUNNEL_C_EXPORT void runnel_tabledescription_destroy(runnel_tabledescription_t* d);
RUNNEL_C_EXPORT const char* runnel_tabledescription_name(const runnel_tabledescription_t* d,
                                                         size_t* len);
RUNNEL_C_EXPORT int64_t
runnel_tabledescription_creation_time_micros(const runnel_tabledescription_t* d);
RUNNEL_C_EXPORT unsigned char runnel_tabledescription_stream_enabled(
    const runnel_tabledescription_t* d);
/* Meaningful when the stream is enabled. */
RUNNEL_C_EXPORT int runnel_tabledescription_stream_view_type(const runnel_tabledescription_t* d);
/* The newest stream's ARN and label; empty (len 0) if it never had one. */
RUNNEL_C_EXPORT const char* runnel_tabledescription_latest_stream_arn(
    const runnel_tabledescription_t* d, size_t* len);
RUNNEL_C_EXPORT const char* runnel_tabledescription_latest_stream_label(
    const runnel_tabledescription_t* d, size_t* len);
RUNNEL_C_EXPORT uint64_t runnel_tabledescription_item_count(const runnel_tabledescription_t* d);
RUNNEL_C_EXPORT uint64_t
runnel_tabledescription_table_size_bytes(const runnel_tabledescription_t* d);

/* Names of live tables, sorted; NULL on failure. */
RUNNEL_C_EXPORT runnel_strings_t* runnel_list_tables(runnel_t* db, char** errptr);

/* A list of byte strings. Index i < runnel_strings_count. */
RUNNEL_C_EXPORT size_t runnel_strings_count(const runnel_strings_t* list);
RUNNEL_C_EXPORT const char* runnel_strings_get(const runnel_strings_t* list, size_t i, size_t* len);
RUNNEL_C_EXPORT void runnel_strings_destroy(runnel_strings_t* list);

/* ------------------------------------------------------------------------ */
/* Items                                                                    */

RUNNEL_C_EXPORT void runnel_put_item(runnel_t* db, const runnel_writeoptions_t* options,
                                     const char* table, size_t table_len, const char* key,
                                     size_t key_len, const char* value, size_t value_len,
                                     char** errptr);
/* Deleting a missing key is not an error (and produces no record). */
RUNNEL_C_EXPORT void runnel_delete_item(runnel_t* db, const runnel_writeoptions_t* options,
                                        const char* table, size_t table_len, const char* key,
                                        size_t key_len, char** errptr);
/* Returns the value (malloc'd; free with runnel_free) and its length in
 * *value_len. A missing key returns NULL with *value_len = 0 and leaves
 * *errptr unchanged, as LevelDB's C API does; a missing table or any other
 * failure returns NULL and sets *errptr. `options` may be NULL. */
RUNNEL_C_EXPORT char* runnel_get_item(runnel_t* db, const runnel_readoptions_t* options,
                                      const char* table, size_t table_len, const char* key,
                                      size_t key_len, size_t* value_len, char** errptr);

/* Write batches (runnel::WriteBatch): puts and deletes over any tables,
 * committed atomically as one log frame. Arguments are copied. */
RUNNEL_C_EXPORT runnel_writebatch_t* runnel_writebatch_create(void);
RUNNEL_C_EXPORT void runnel_writebatch_destroy(runnel_writebatch_t* batch);
RUNNEL_C_EXPORT void runnel_writebatch_clear(runnel_writebatch_t* batch);
RUNNEL_C_EXPORT size_t runnel_writebatch_count(const runnel_writebatch_t* batch);
RUNNEL_C_EXPORT void runnel_writebatch_put(runnel_writebatch_t* batch, const char* table,
                                           size_t table_len, const char* key, size_t key_len,
                                           const char* value, size_t value_len);
RUNNEL_C_EXPORT void runnel_writebatch_delete(runnel_writebatch_t* batch, const char* table,
                                              size_t table_len, const char* key, size_t key_len);
/* Commits the batch; any invalid operation rejects the whole batch (the
 * message names its index). The batch is not modified. If first_sequence /
 * record_count are not NULL they receive what was committed (0 and 0 if the
 * batch changed nothing). */
RUNNEL_C_EXPORT void runnel_write(runnel_t* db, const runnel_writeoptions_t* options,
                                  const runnel_writebatch_t* batch, uint64_t* first_sequence,
                                  uint32_t* record_count, char** errptr);

/* Scans (runnel::ScanOptions): all bounds combine. Defaults: no bounds, no
 * limit. Arguments are copied. */
RUNNEL_C_EXPORT runnel_scanoptions_t* runnel_scanoptions_create(void);
RUNNEL_C_EXPORT void runnel_scanoptions_destroy(runnel_scanoptions_t* options);
RUNNEL_C_EXPORT void runnel_scanoptions_set_prefix(runnel_scanoptions_t* options,
                                                   const char* prefix, size_t len);
/* Keys >= start_key. */
RUNNEL_C_EXPORT void runnel_scanoptions_set_start_key(runnel_scanoptions_t* options,
                                                      const char* key, size_t len);
/* Keys < end_key; empty means no upper bound. */
RUNNEL_C_EXPORT void runnel_scanoptions_set_end_key(runnel_scanoptions_t* options, const char* key,
                                                    size_t len);
/* Resume after this key: the previous page's last evaluated key. */
RUNNEL_C_EXPORT void runnel_scanoptions_set_exclusive_start_key(runnel_scanoptions_t* options,
                                                                const char* key, size_t len);
/* At most this many items per page; 0 means no limit. */
RUNNEL_C_EXPORT void runnel_scanoptions_set_limit(runnel_scanoptions_t* options, size_t limit);

/* Items in key order from a consistent snapshot; NULL on failure.
 * `read_options` may be NULL; `scan_options` may be NULL (everything). */
RUNNEL_C_EXPORT runnel_scanresult_t* runnel_scan(runnel_t* db,
                                                 const runnel_readoptions_t* read_options,
                                                 const char* table, size_t table_len,
                                                 const runnel_scanoptions_t* scan_options,
                                                 char** errptr);
RUNNEL_C_EXPORT void runnel_scanresult_destroy(runnel_scanresult_t* result);
RUNNEL_C_EXPORT size_t runnel_scanresult_count(const runnel_scanresult_t* result);
RUNNEL_C_EXPORT const char* runnel_scanresult_key(const runnel_scanresult_t* result, size_t i,
                                                  size_t* len);
RUNNEL_C_EXPORT const char* runnel_scanresult_value(const runnel_scanresult_t* result, size_t i,
                                                    size_t* len);
/* Set when the page stopped at the limit and more keys may follow: pass the
 * last evaluated key to runnel_scanoptions_set_exclusive_start_key. */
RUNNEL_C_EXPORT unsigned char runnel_scanresult_has_more(const runnel_scanresult_t* result);
RUNNEL_C_EXPORT const char* runnel_scanresult_last_evaluated_key(const runnel_scanresult_t* result,
                                                                 size_t* len);

/* ------------------------------------------------------------------------ */
/* Change records (runnel::ChangeRecord)                                    */

/* A change record is always borrowed, from a change iterator (valid until
 * the iterator moves or is destroyed) or from a record batch (valid until
 * the batch is destroyed). Its byte strings point into the log and share
 * that lifetime. */
RUNNEL_C_EXPORT uint64_t runnel_change_sequence(const runnel_change_t* c);
RUNNEL_C_EXPORT int64_t runnel_change_commit_time_micros(const runnel_change_t* c);
/* runnel_event_insert, _modify or _remove. */
RUNNEL_C_EXPORT int runnel_change_event(const runnel_change_t* c);
/* The view type of the stream the record belongs to. */
RUNNEL_C_EXPORT int runnel_change_view_type(const runnel_change_t* c);
RUNNEL_C_EXPORT const char* runnel_change_table(const runnel_change_t* c, size_t* len);
RUNNEL_C_EXPORT const char* runnel_change_key(const runnel_change_t* c, size_t* len);
/* The images, as the view type and the event allow: NULL (len 0) when the
 * record has none. An empty image is a non-NULL pointer with len 0. */
RUNNEL_C_EXPORT const char* runnel_change_old_image(const runnel_change_t* c, size_t* len);
RUNNEL_C_EXPORT const char* runnel_change_new_image(const runnel_change_t* c, size_t* len);
/* Set on the last record of an atomic batch. */
RUNNEL_C_EXPORT unsigned char runnel_change_end_of_batch(const runnel_change_t* c);
RUNNEL_C_EXPORT uint32_t runnel_change_size_bytes(const runnel_change_t* c);

/* The change iterator: visible change records with sequence >= start, up to
 * the newest at the time of the call, in sequence order. NULL on failure
 * (Trimmed, naming the first available sequence, if start is older than the
 * log holds). Borrows from db: destroy it before runnel_close. */
RUNNEL_C_EXPORT runnel_changeiterator_t* runnel_create_change_iterator(runnel_t* db, uint64_t start,
                                                                       char** errptr);
RUNNEL_C_EXPORT void runnel_changeiterator_destroy(runnel_changeiterator_t* it);
RUNNEL_C_EXPORT unsigned char runnel_changeiterator_valid(const runnel_changeiterator_t* it);
/* REQUIRES: valid. */
RUNNEL_C_EXPORT void runnel_changeiterator_next(runnel_changeiterator_t* it);
/* REQUIRES: valid. Borrowed until the next runnel_changeiterator_next. */
RUNNEL_C_EXPORT const runnel_change_t* runnel_changeiterator_record(
    const runnel_changeiterator_t* it);
/* Sets *errptr if the iterator stopped on an error rather than at the end. */
RUNNEL_C_EXPORT void runnel_changeiterator_get_error(const runnel_changeiterator_t* it,
                                                     char** errptr);

/* ------------------------------------------------------------------------ */
/* Streams (runnel::StreamReader of the DB)                                 */

/* Streams of one table (all tables, deleted ones too, when table_len is 0),
 * oldest first; NULL on failure. */
RUNNEL_C_EXPORT runnel_streams_t* runnel_list_streams(runnel_t* db, const char* table,
                                                      size_t table_len, char** errptr);
RUNNEL_C_EXPORT void runnel_streams_destroy(runnel_streams_t* list);
RUNNEL_C_EXPORT size_t runnel_streams_count(const runnel_streams_t* list);
RUNNEL_C_EXPORT const char* runnel_streams_arn(const runnel_streams_t* list, size_t i, size_t* len);
RUNNEL_C_EXPORT const char* runnel_streams_label(const runnel_streams_t* list, size_t i,
                                                 size_t* len);
RUNNEL_C_EXPORT const char* runnel_streams_table(const runnel_streams_t* list, size_t i,
                                                 size_t* len);
RUNNEL_C_EXPORT int runnel_streams_view_type(const runnel_streams_t* list, size_t i);
/* The stream's sequence range; the ending sequence is 0 while it is enabled. */
RUNNEL_C_EXPORT uint64_t runnel_streams_starting_sequence(const runnel_streams_t* list, size_t i);
RUNNEL_C_EXPORT uint64_t runnel_streams_ending_sequence(const runnel_streams_t* list, size_t i);

/* DescribeStream; NULL (NotFound) if no such stream. */
RUNNEL_C_EXPORT runnel_streamdescription_t* runnel_describe_stream(runnel_t* db,
                                                                   const char* stream_arn,
                                                                   size_t arn_len, char** errptr);
RUNNEL_C_EXPORT void runnel_streamdescription_destroy(runnel_streamdescription_t* d);
RUNNEL_C_EXPORT const char* runnel_streamdescription_arn(const runnel_streamdescription_t* d,
                                                         size_t* len);
RUNNEL_C_EXPORT const char* runnel_streamdescription_label(const runnel_streamdescription_t* d,
                                                           size_t* len);
/* "ENABLED" or "DISABLED". */
RUNNEL_C_EXPORT const char* runnel_streamdescription_status(const runnel_streamdescription_t* d,
                                                            size_t* len);
RUNNEL_C_EXPORT const char* runnel_streamdescription_table(const runnel_streamdescription_t* d,
                                                           size_t* len);
RUNNEL_C_EXPORT const char* runnel_streamdescription_shard_id(const runnel_streamdescription_t* d,
                                                              size_t* len);
RUNNEL_C_EXPORT int runnel_streamdescription_view_type(const runnel_streamdescription_t* d);
RUNNEL_C_EXPORT int64_t
runnel_streamdescription_creation_time_micros(const runnel_streamdescription_t* d);
RUNNEL_C_EXPORT uint64_t
runnel_streamdescription_starting_sequence(const runnel_streamdescription_t* d);
RUNNEL_C_EXPORT uint64_t
runnel_streamdescription_ending_sequence(const runnel_streamdescription_t* d);

/* GetShardIterator. `type` is one of runnel_trim_horizon, runnel_latest,
 * runnel_at_sequence_number, runnel_after_sequence_number (which use
 * `sequence`) and runnel_at_timestamp (which uses `timestamp_micros`, since
 * the Unix epoch). Returns the iterator (malloc'd, *iterator_len bytes; free
 * with runnel_free), an opaque string that may be stored and handed to
 * another process; NULL on failure. */
RUNNEL_C_EXPORT char* runnel_get_shard_iterator(runnel_t* db, const char* stream_arn,
                                                size_t arn_len, int type, uint64_t sequence,
                                                int64_t timestamp_micros, size_t* iterator_len,
                                                char** errptr);

/* GetRecords: at most `limit` records (0 means the default 1000) and about
 * `max_bytes` (0 means the default 1 MB) from the iterator's position.
 * NULL on failure (InvalidArgument for a malformed iterator, Trimmed if
 * retention removed the position). The batch keeps the log it points into
 * alive; it may outlive db. */
RUNNEL_C_EXPORT runnel_records_t* runnel_get_records(runnel_t* db, const char* iterator,
                                                     size_t iterator_len, size_t limit,
                                                     size_t max_bytes, char** errptr);
RUNNEL_C_EXPORT void runnel_records_destroy(runnel_records_t* records);
RUNNEL_C_EXPORT size_t runnel_records_count(const runnel_records_t* records);
/* Borrowed until runnel_records_destroy. */
RUNNEL_C_EXPORT const runnel_change_t* runnel_records_get(const runnel_records_t* records,
                                                          size_t i);
/* The iterator to continue from. Empty (len 0) when the stream is closed and
 * fully read: there will never be more. A caught-up read of an open stream
 * returns no records and a non-empty iterator. */
RUNNEL_C_EXPORT const char* runnel_records_next_shard_iterator(const runnel_records_t* records,
                                                               size_t* len);
RUNNEL_C_EXPORT const char* runnel_records_stream_arn(const runnel_records_t* records, size_t* len);
RUNNEL_C_EXPORT int64_t runnel_records_millis_behind_latest(const runnel_records_t* records);
/* Record i as DynamoDB Streams renders it (runnel::RecordToJson, with the
 * DB's region as awsRegion, captured when the batch was read): malloc'd,
 * NUL-terminated JSON; free with runnel_free. */
RUNNEL_C_EXPORT char* runnel_records_json(const runnel_records_t* records, size_t i, size_t* len);

/* Blocks until something was committed past the iterator's position or
 * timeout_ms passes (then TimedOut). The commit wakes the waiter: no
 * polling. */
RUNNEL_C_EXPORT void runnel_wait_for_records(runnel_t* db, const char* iterator,
                                             size_t iterator_len, int64_t timeout_ms,
                                             char** errptr);

/* ------------------------------------------------------------------------ */
/* Functions (runnel::FunctionConfiguration); implemented in triggers/      */

/* A function's configuration: set the fields, then runnel_create_function.
 * The name is 1-64 characters of [A-Za-z0-9_-]; the library a path to a
 * shared library with the ABI of runnel/function.h. Strings are copied. */
RUNNEL_C_EXPORT runnel_functionconfig_t* runnel_functionconfig_create(void);
RUNNEL_C_EXPORT void runnel_functionconfig_destroy(runnel_functionconfig_t* fn);
RUNNEL_C_EXPORT void runnel_functionconfig_set_name(runnel_functionconfig_t* fn, const char* name,
                                                    size_t len);
RUNNEL_C_EXPORT void runnel_functionconfig_set_library(runnel_functionconfig_t* fn,
                                                       const char* path);
/* Default "runnel_handler". */
RUNNEL_C_EXPORT void runnel_functionconfig_set_handler(runnel_functionconfig_t* fn,
                                                       const char* symbol);
/* 1-900; default 3. */
RUNNEL_C_EXPORT void runnel_functionconfig_set_timeout_seconds(runnel_functionconfig_t* fn,
                                                               uint32_t seconds);
RUNNEL_C_EXPORT void runnel_functionconfig_set_description(runnel_functionconfig_t* fn,
                                                           const char* text, size_t len);
/* Where the handler runs: runnel_isolation_none (in the host process, the
 * default) or runnel_isolation_process (a runnel-worker process; a crash or
 * timeout fails only that invocation). See FunctionIsolation in
 * runnel/triggers.h; another value is refused by runnel_create_function. */
enum { runnel_isolation_none = 0, runnel_isolation_process = 1 };
RUNNEL_C_EXPORT void runnel_functionconfig_set_isolation(runnel_functionconfig_t* fn,
                                                         int isolation);
RUNNEL_C_EXPORT int runnel_functionconfig_isolation(const runnel_functionconfig_t* fn);
/* Sets one environment variable of the function (replacing a previous one). */
RUNNEL_C_EXPORT void runnel_functionconfig_set_environment(runnel_functionconfig_t* fn,
                                                           const char* name, size_t name_len,
                                                           const char* value, size_t value_len);
RUNNEL_C_EXPORT const char* runnel_functionconfig_name(const runnel_functionconfig_t* fn,
                                                       size_t* len);
/* NUL-terminated; the absolute, resolved path once created. */
RUNNEL_C_EXPORT const char* runnel_functionconfig_library(const runnel_functionconfig_t* fn);
RUNNEL_C_EXPORT const char* runnel_functionconfig_handler(const runnel_functionconfig_t* fn);
RUNNEL_C_EXPORT uint32_t runnel_functionconfig_timeout_seconds(const runnel_functionconfig_t* fn);
/* Set by runnel: the ARN, the library's hash, the last modification. */
RUNNEL_C_EXPORT const char* runnel_functionconfig_arn(const runnel_functionconfig_t* fn,
                                                      size_t* len);
RUNNEL_C_EXPORT const char* runnel_functionconfig_code_hash(const runnel_functionconfig_t* fn,
                                                            size_t* len);
RUNNEL_C_EXPORT int64_t
runnel_functionconfig_last_modified_micros(const runnel_functionconfig_t* fn);

/* Loads the library to check it (file, ABI version, handler symbol,
 * runnel_init), then records the function. Returns the function as created
 * (destroy it with runnel_functionconfig_destroy), or NULL: Busy if the name
 * exists, InvalidArgument naming what is wrong with the library. */
RUNNEL_C_EXPORT runnel_functionconfig_t* runnel_create_function(
    runnel_t* db, const runnel_functionconfig_t* config, char** errptr);
/* NULL (NotFound) if missing. */
RUNNEL_C_EXPORT runnel_functionconfig_t* runnel_get_function(runnel_t* db, const char* name,
                                                             size_t name_len, char** errptr);
/* FailedPrecondition while mappings use the function, unless force (then
 * they are deleted too). */
RUNNEL_C_EXPORT void runnel_delete_function(runnel_t* db, const char* name, size_t name_len,
                                            unsigned char force, char** errptr);
/* Every function; NULL on failure. */
RUNNEL_C_EXPORT runnel_functions_t* runnel_list_functions(runnel_t* db, char** errptr);
RUNNEL_C_EXPORT void runnel_functions_destroy(runnel_functions_t* list);
RUNNEL_C_EXPORT size_t runnel_functions_count(const runnel_functions_t* list);
/* Borrowed until runnel_functions_destroy. */
RUNNEL_C_EXPORT const runnel_functionconfig_t* runnel_functions_get(const runnel_functions_t* list,
                                                                    size_t i);

/* Invokes the function once with `payload`, a DynamoDB Streams event
 * ({"Records":[...]}), like `lambda invoke`. Returns the response JSON
 * ({"StatusCode":200,...}, "FunctionError" set if the handler failed):
 * malloc'd, NUL-terminated, *response_len bytes; NULL on failure. */
RUNNEL_C_EXPORT char* runnel_invoke(runnel_t* db, const char* name, size_t name_len,
                                    const char* payload, size_t payload_len, size_t* response_len,
                                    char** errptr);

/* The function's log lines at or after since_micros, oldest first: START,
 * the handler's lines, END and REPORT per invocation. NULL on failure. */
RUNNEL_C_EXPORT runnel_functionlog_t* runnel_read_function_log(runnel_t* db, const char* name,
                                                               size_t name_len,
                                                               int64_t since_micros, char** errptr);
RUNNEL_C_EXPORT void runnel_functionlog_destroy(runnel_functionlog_t* log);
RUNNEL_C_EXPORT size_t runnel_functionlog_count(const runnel_functionlog_t* log);
RUNNEL_C_EXPORT int64_t runnel_functionlog_time_micros(const runnel_functionlog_t* log, size_t i);
RUNNEL_C_EXPORT const char* runnel_functionlog_text(const runnel_functionlog_t* log, size_t i,
                                                    size_t* len);

/* ------------------------------------------------------------------------ */
/* Event source mappings (runnel::EventSourceMappingConfiguration)          */

/* A mapping's configuration, with the C++ defaults (batch size 100,
 * TRIM_HORIZON, enabled, retry until the records expire ...). Strings are
 * copied. Ranges are checked by runnel_create_event_source_mapping. */
RUNNEL_C_EXPORT runnel_mappingconfig_t* runnel_mappingconfig_create(void);
RUNNEL_C_EXPORT void runnel_mappingconfig_destroy(runnel_mappingconfig_t* m);
RUNNEL_C_EXPORT void runnel_mappingconfig_set_function_name(runnel_mappingconfig_t* m,
                                                            const char* name, size_t len);
/* A stream ARN, or a table name (its latest stream). */
RUNNEL_C_EXPORT void runnel_mappingconfig_set_event_source(runnel_mappingconfig_t* m,
                                                           const char* source, size_t len);
RUNNEL_C_EXPORT void runnel_mappingconfig_set_batch_size(runnel_mappingconfig_t* m, uint32_t n);
RUNNEL_C_EXPORT void runnel_mappingconfig_set_maximum_batching_window_seconds(
    runnel_mappingconfig_t* m, uint32_t seconds);
/* One of runnel_start_*; the timestamp and sequence are used by
 * runnel_start_at_timestamp and runnel_start_at_sequence_number. */
RUNNEL_C_EXPORT void runnel_mappingconfig_set_starting_position(runnel_mappingconfig_t* m,
                                                                int position,
                                                                int64_t timestamp_micros,
                                                                uint64_t sequence);
RUNNEL_C_EXPORT void runnel_mappingconfig_set_enabled(runnel_mappingconfig_t* m,
                                                      unsigned char enabled);
/* -1: retry until the records expire. */
RUNNEL_C_EXPORT void runnel_mappingconfig_set_maximum_retry_attempts(runnel_mappingconfig_t* m,
                                                                     int32_t n);
/* -1: no limit. */
RUNNEL_C_EXPORT void runnel_mappingconfig_set_maximum_record_age_seconds(runnel_mappingconfig_t* m,
                                                                         int32_t seconds);
RUNNEL_C_EXPORT void runnel_mappingconfig_set_bisect_batch_on_function_error(
    runnel_mappingconfig_t* m, unsigned char value);
/* A table of the DB that receives one item per discarded batch. */
RUNNEL_C_EXPORT void runnel_mappingconfig_set_on_failure_destination(runnel_mappingconfig_t* m,
                                                                     const char* table, size_t len);
RUNNEL_C_EXPORT void runnel_mappingconfig_set_report_batch_item_failures(runnel_mappingconfig_t* m,
                                                                         unsigned char value);
/* ParallelizationFactor, 1-10 (default 1): lanes that run at once, the
 * records split by a hash of the item key (one key's records stay in order).
 * With more than one lane an in-process handler is called from that many
 * threads at once and must be thread-safe. Out of range: creating the
 * mapping fails with an invalid-argument error. */
RUNNEL_C_EXPORT void runnel_mappingconfig_set_parallelization_factor(runnel_mappingconfig_t* m,
                                                                     uint32_t factor);
/* TumblingWindowInSeconds, 0 (none, the default) to 900: the handler keeps
 * a state per window (runnel/function.h, runnel_window). Checked when the
 * mapping is created. */
RUNNEL_C_EXPORT void runnel_mappingconfig_set_tumbling_window_seconds(runnel_mappingconfig_t* m,
                                                                      uint32_t seconds);
/* Set by runnel: the UUID (36 characters), the function's ARN, the state
 * ("Creating", "Enabled", "Disabling", "Disabled", "Updating", "Deleting"),
 * its reason, the last processing result ("No records processed", "OK",
 * "PROBLEM: ...") and the last modification. */
RUNNEL_C_EXPORT const char* runnel_mappingconfig_uuid(const runnel_mappingconfig_t* m, size_t* len);
RUNNEL_C_EXPORT const char* runnel_mappingconfig_function_name(const runnel_mappingconfig_t* m,
                                                               size_t* len);
/* The stream ARN once created. */
RUNNEL_C_EXPORT const char* runnel_mappingconfig_event_source(const runnel_mappingconfig_t* m,
                                                              size_t* len);
RUNNEL_C_EXPORT const char* runnel_mappingconfig_function_arn(const runnel_mappingconfig_t* m,
                                                              size_t* len);
RUNNEL_C_EXPORT uint32_t runnel_mappingconfig_batch_size(const runnel_mappingconfig_t* m);
RUNNEL_C_EXPORT uint32_t
runnel_mappingconfig_parallelization_factor(const runnel_mappingconfig_t* m);
RUNNEL_C_EXPORT uint32_t
runnel_mappingconfig_tumbling_window_seconds(const runnel_mappingconfig_t* m);
RUNNEL_C_EXPORT int runnel_mappingconfig_starting_position(const runnel_mappingconfig_t* m);
RUNNEL_C_EXPORT unsigned char runnel_mappingconfig_enabled(const runnel_mappingconfig_t* m);
RUNNEL_C_EXPORT const char* runnel_mappingconfig_state(const runnel_mappingconfig_t* m,
                                                       size_t* len);
RUNNEL_C_EXPORT const char* runnel_mappingconfig_state_transition_reason(
    const runnel_mappingconfig_t* m, size_t* len);
RUNNEL_C_EXPORT const char* runnel_mappingconfig_last_processing_result(
    const runnel_mappingconfig_t* m, size_t* len);
RUNNEL_C_EXPORT int64_t runnel_mappingconfig_last_modified_micros(const runnel_mappingconfig_t* m);

/* Validates every setting (naming the allowed range), resolves the starting
 * position and returns the mapping with its UUID and state "Creating"
 * (destroy it with runnel_mappingconfig_destroy); NULL on failure. */
RUNNEL_C_EXPORT runnel_mappingconfig_t* runnel_create_event_source_mapping(
    runnel_t* db, const runnel_mappingconfig_t* config, char** errptr);
/* NULL (NotFound) if missing. */
RUNNEL_C_EXPORT runnel_mappingconfig_t* runnel_get_event_source_mapping(runnel_t* db,
                                                                        const char* uuid,
                                                                        size_t uuid_len,
                                                                        char** errptr);
/* Deletes the mapping; returns it with state "Deleting", or NULL. */
RUNNEL_C_EXPORT runnel_mappingconfig_t* runnel_delete_event_source_mapping(runnel_t* db,
                                                                           const char* uuid,
                                                                           size_t uuid_len,
                                                                           char** errptr);
/* Mappings, filtered by function name and/or stream ARN (length 0: no
 * filter), in pages of max_items (0: all) starting after `marker` (the
 * previous page's next marker; length 0 for the first page). NULL on
 * failure. */
RUNNEL_C_EXPORT runnel_mappings_t* runnel_list_event_source_mappings(
    runnel_t* db, const char* function_name, size_t function_name_len, const char* stream_arn,
    size_t stream_arn_len, const char* marker, size_t marker_len, size_t max_items, char** errptr);
RUNNEL_C_EXPORT void runnel_mappings_destroy(runnel_mappings_t* list);
RUNNEL_C_EXPORT size_t runnel_mappings_count(const runnel_mappings_t* list);
/* Borrowed until runnel_mappings_destroy. */
RUNNEL_C_EXPORT const runnel_mappingconfig_t* runnel_mappings_get(const runnel_mappings_t* list,
                                                                  size_t i);
/* Empty (len 0) on the last page. */
RUNNEL_C_EXPORT const char* runnel_mappings_next_marker(const runnel_mappings_t* list, size_t* len);

/* ------------------------------------------------------------------------ */
/* The trigger runtime (in the process that owns the DB)                    */

/* Starts a worker for every enabled mapping (and those created later).
 * Idempotent. Handlers then run on the runtime's threads. */
RUNNEL_C_EXPORT void runnel_triggers_start(runnel_t* db, char** errptr);
/* Stops the workers after their current invocation. Idempotent. */
RUNNEL_C_EXPORT void runnel_triggers_stop(runnel_t* db);
/* Waits until every enabled mapping whose function is available has
 * processed everything committed so far (or is blocked on a failing batch);
 * TimedOut after timeout_ms. */
RUNNEL_C_EXPORT void runnel_triggers_wait_until_idle(runnel_t* db, int64_t timeout_ms,
                                                     char** errptr);

#ifdef __cplusplus
} /* end extern "C" */
#endif

#endif /* RUNNEL_INCLUDE_C_H_ */
