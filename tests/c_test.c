/* Copyright 2026 The runnel Authors.
 *
 * The C API (runnel/c.h), from C: the tutorial's flow end to end (a table
 * with a NEW_AND_OLD_IMAGES stream, the example function, an event source
 * mapping, items put, updated and deleted, the runtime, the function's log,
 * the stream read with shard iterators), plus the error convention, write
 * batches, scan pagination, the change iterator and destroy.
 *
 * Compiled as C (not C++). PROCESS_STREAM is the path of
 * examples/process_stream.c built as a plugin. Exits non-zero on the first
 * failed check. */

#include "runnel/c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The plugin ABI's header may be included alongside: no name clashes. */
#include "runnel/function.h"

#ifndef PROCESS_STREAM
#error "PROCESS_STREAM must name the process_stream plugin"
#endif

static const char* phase = "";

static void StartPhase(const char* name) {
  fprintf(stderr, "=== Test %s\n", name);
  phase = name;
}

#define CheckCondition(cond)                                                              \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, phase, #cond); \
      abort();                                                                            \
    }                                                                                     \
  } while (0)

#define CheckNoError(err)                                                                     \
  do {                                                                                        \
    if ((err) != NULL) {                                                                      \
      fprintf(stderr, "%s:%d: %s: unexpected error: %s\n", __FILE__, __LINE__, phase, (err)); \
      abort();                                                                                \
    }                                                                                         \
  } while (0)

/* Checks that err is set and contains `want`, then frees and clears it. */
#define CheckErrorContains(err, want)                                                     \
  do {                                                                                    \
    if ((err) == NULL || strstr((err), (want)) == NULL) {                                 \
      fprintf(stderr, "%s:%d: %s: expected an error containing '%s', got %s\n", __FILE__, \
              __LINE__, phase, (want), (err) != NULL ? (err) : "no error");               \
      abort();                                                                            \
    }                                                                                     \
    runnel_free(err);                                                                     \
    (err) = NULL;                                                                         \
  } while (0)

/* A (pointer, length) result equals the C string `want`. The length is
 * passed by pointer so that Eq(accessor(x, &len), &len, ...) reads it after
 * the accessor stored it (argument evaluation order is unspecified). */
static int Eq(const char* got, const size_t* len, const char* want) {
  return got != NULL && *len == strlen(want) && memcmp(got, want, *len) == 0;
}

#define S(literal) literal, strlen(literal)

static const char* kMusic = "Music";
static const char* kFunction = "ProcessDynamoDBStream";
static const char* kStreamArnPrefix = "arn:aws:dynamodb:eu-west-1:123456789012:table/Music/stream/";

/* Reads the function's whole log into one malloc'd, NUL-terminated string. */
static char* FunctionLog(runnel_t* db) {
  char* err = NULL;
  runnel_functionlog_t* log = runnel_read_function_log(db, S(kFunction), 0, &err);
  CheckNoError(err);
  size_t total = 1;
  for (size_t i = 0; i < runnel_functionlog_count(log); ++i) {
    size_t len;
    runnel_functionlog_text(log, i, &len);
    total += len + 1;
  }
  char* all = malloc(total);
  CheckCondition(all != NULL);
  size_t pos = 0;
  for (size_t i = 0; i < runnel_functionlog_count(log); ++i) {
    size_t len;
    const char* text = runnel_functionlog_text(log, i, &len);
    CheckCondition(runnel_functionlog_time_micros(log, i) > 0);
    memcpy(all + pos, text, len);
    pos += len;
    all[pos++] = '\n';
  }
  all[pos] = '\0';
  runnel_functionlog_destroy(log);
  return all;
}

/* Reads the value of a key; checks it equals `want` (NULL: missing). */
static void CheckGet(runnel_t* db, const char* table, const char* key, const char* want) {
  char* err = NULL;
  size_t len = 99;
  char* value = runnel_get_item(db, NULL, S(table), S(key), &len, &err);
  CheckNoError(err);
  if (want == NULL) {
    CheckCondition(value == NULL);
    CheckCondition(len == 0);
  } else {
    CheckCondition(Eq(value, &len, want));
    CheckCondition(value[len] == '\0');
  }
  runnel_free(value);
}

int main(void) {
  char tmpl[] = "/tmp/runnel_c_test.XXXXXX";
  const char* base = getenv("TEST_TMPDIR");
  char root[4096];
  if (base != NULL && base[0] != '\0') {
    snprintf(root, sizeof(root), "%s/runnel_c_test.XXXXXX", base);
  } else {
    snprintf(root, sizeof(root), "%s", tmpl);
  }
  CheckCondition(mkdtemp(root) != NULL);
  char dir[4200];
  snprintf(dir, sizeof(dir), "%s/tutorial-db", root);

  char* err = NULL;
  runnel_t* db;
  runnel_writeoptions_t* woptions;
  runnel_readoptions_t* roptions;
  char arn[512];
  size_t arn_len;
  char uuid[64];

  StartPhase("version");
  CheckCondition(runnel_major_version() >= 0);
  CheckCondition(runnel_minor_version() >= 0);
  CheckCondition(runnel_major_version() > 0 || runnel_minor_version() > 0);

  StartPhase("open");
  {
    runnel_options_t* options = runnel_options_create();
    runnel_options_set_create_if_missing(options, 0);
    db = runnel_open(options, dir, &err);
    CheckCondition(db == NULL);
    CheckErrorContains(err, "NotFound: ");
    runnel_options_set_create_if_missing(options, 1);
    runnel_options_set_name(options, S("tutorial"));
    runnel_options_set_recovery_mode(options, 7);
    CheckCondition(runnel_open(options, dir, &err) == NULL);
    CheckErrorContains(err, "InvalidArgument: recovery_mode");
    runnel_options_set_recovery_mode(options, runnel_absolute_consistency);
    runnel_options_set_segment_bytes(options, 1u << 20);
    runnel_options_set_region(options, S("EU-West"));
    CheckCondition(runnel_open(options, dir, &err) == NULL);
    CheckErrorContains(err, "InvalidArgument: options.region");
    runnel_options_set_region(options, S("eu-west-1"));
    runnel_options_set_account_id(options, S("12345"));
    CheckCondition(runnel_open(options, dir, &err) == NULL);
    CheckErrorContains(err, "InvalidArgument: options.account_id");
    runnel_options_set_account_id(options, S("123456789012"));
    runnel_options_set_key_filter_bits_per_key(options, 65);
    CheckCondition(runnel_open(options, dir, &err) == NULL);
    CheckErrorContains(err, "InvalidArgument: options.key_filter_bits_per_key");
    runnel_options_set_key_filter_bits_per_key(options, 10);
    db = runnel_open(options, dir, &err);
    CheckNoError(err);
    CheckCondition(db != NULL);
    size_t len;
    CheckCondition(Eq(runnel_name(db, &len), &len, "tutorial"));
    CheckCondition(Eq(runnel_region(db, &len), &len, "eu-west-1"));
    CheckCondition(Eq(runnel_account_id(db, &len), &len, "123456789012"));

    /* A second open of the same directory is refused while the first holds it. */
    runnel_t* second = runnel_open(options, dir, &err);
    CheckCondition(second == NULL);
    CheckErrorContains(err, "Busy: ");
    runnel_options_destroy(options);
    woptions = runnel_writeoptions_create();
    runnel_writeoptions_set_sync(woptions, 1);
    roptions = runnel_readoptions_create();
    runnel_readoptions_set_verify_checksums(roptions, 1);
    runnel_readoptions_set_fill_cache(roptions, 0);
  }

  StartPhase("errors");
  {
    /* A bad table name: the message names the argument. */
    runnel_create_table(db, S("x"), 1, runnel_new_and_old_images, &err);
    CheckErrorContains(err, "InvalidArgument: table name");
    runnel_create_table(db, S("Music"), 1, 42, &err);
    CheckErrorContains(err, "view_type");
    /* An existing *errptr is freed and replaced (ASan would see a leak). */
    runnel_put_item(db, woptions, S("NoSuchTable"), S("k"), S("v"), &err);
    CheckCondition(err != NULL);
    runnel_delete_table(db, S("AlsoMissing"), &err);
    CheckErrorContains(err, "AlsoMissing");
    /* A missing table is an error; a missing key is not (see CheckGet). */
    size_t len;
    char* value = runnel_get_item(db, roptions, S("NoSuchTable"), S("k"), &len, &err);
    CheckCondition(value == NULL);
    CheckErrorContains(err, "NotFound: table 'NoSuchTable'");
    CheckCondition(runnel_describe_table(db, S("NoSuchTable"), &err) == NULL);
    CheckErrorContains(err, "NotFound: ");
  }

  StartPhase("create_table");
  {
    runnel_create_table(db, S(kMusic), 1, runnel_new_and_old_images, &err);
    CheckNoError(err);
    runnel_create_table(db, S(kMusic), 1, runnel_new_and_old_images, &err);
    CheckErrorContains(err, "Busy: ");
    runnel_create_table(db, S("Pages"), 0, 0, &err);
    CheckNoError(err);

    runnel_tabledescription_t* d = runnel_describe_table(db, S(kMusic), &err);
    CheckNoError(err);
    size_t len;
    CheckCondition(Eq(runnel_tabledescription_name(d, &len), &len, kMusic));
    CheckCondition(runnel_tabledescription_stream_enabled(d));
    CheckCondition(runnel_tabledescription_stream_view_type(d) == runnel_new_and_old_images);
    CheckCondition(runnel_tabledescription_creation_time_micros(d) > 0);
    CheckCondition(runnel_tabledescription_item_count(d) == 0);
    const char* a = runnel_tabledescription_latest_stream_arn(d, &arn_len);
    CheckCondition(arn_len > 0 && arn_len < sizeof(arn));
    memcpy(arn, a, arn_len);
    arn[arn_len] = '\0';
    CheckCondition(strncmp(arn, kStreamArnPrefix, strlen(kStreamArnPrefix)) == 0);
    const char* label = runnel_tabledescription_latest_stream_label(d, &len);
    CheckCondition(len > 0 && strstr(arn, "/stream/") != NULL &&
                   memcmp(strstr(arn, "/stream/") + 8, label, len) == 0);
    runnel_tabledescription_destroy(d);

    /* Stream rules: enabling an enabled stream is Busy; "Pages" has none to
     * disable. A stream enabled and disabled again stays listed, closed. */
    runnel_update_table(db, S(kMusic), 1, runnel_keys_only, &err);
    CheckErrorContains(err, "Busy: ");
    runnel_update_table(db, S("Pages"), 0, 0, &err);
    CheckErrorContains(err, "InvalidArgument: ");
    runnel_create_table(db, S("Scratch"), 0, 0, &err);
    CheckNoError(err);
    runnel_update_table(db, S("Scratch"), 1, runnel_keys_only, &err);
    CheckNoError(err);
    runnel_update_table(db, S("Scratch"), 0, 0, &err);
    CheckNoError(err);
    runnel_streams_t* scratch = runnel_list_streams(db, S("Scratch"), &err);
    CheckNoError(err);
    CheckCondition(runnel_streams_count(scratch) == 1);
    CheckCondition(runnel_streams_view_type(scratch, 0) == runnel_keys_only);
    CheckCondition(runnel_streams_ending_sequence(scratch, 0) > 0);
    runnel_streams_destroy(scratch);
    runnel_delete_table(db, S("Scratch"), &err);
    CheckNoError(err);

    runnel_strings_t* names = runnel_list_tables(db, &err);
    CheckNoError(err);
    CheckCondition(runnel_strings_count(names) == 2);
    CheckCondition(Eq(runnel_strings_get(names, 0, &len), &len, kMusic));
    CheckCondition(Eq(runnel_strings_get(names, 1, &len), &len, "Pages"));
    runnel_strings_destroy(names);
  }

  StartPhase("create_function");
  {
    runnel_functionconfig_t* fn = runnel_functionconfig_create();
    runnel_functionconfig_set_name(fn, S(kFunction));
    runnel_functionconfig_set_library(fn, "/no/such/library.so");
    CheckCondition(runnel_create_function(db, fn, &err) == NULL);
    CheckErrorContains(err, "/no/such/library.so");

    runnel_functionconfig_set_library(fn, PROCESS_STREAM);
    runnel_functionconfig_set_isolation(fn, 7);
    CheckCondition(runnel_create_function(db, fn, &err) == NULL);
    CheckErrorContains(err, "isolation: must be none or process");
    runnel_functionconfig_set_isolation(fn, runnel_isolation_none);
    runnel_functionconfig_set_description(fn, S("the tutorial's function"));
    runnel_functionconfig_set_environment(fn, S("MODE"), S("tutorial"));
    runnel_functionconfig_t* created = runnel_create_function(db, fn, &err);
    CheckNoError(err);
    size_t len;
    CheckCondition(Eq(runnel_functionconfig_name(created, &len), &len, kFunction));
    CheckCondition(Eq(runnel_functionconfig_arn(created, &len), &len,
                      "arn:aws:lambda:eu-west-1:123456789012:function:ProcessDynamoDBStream"));
    CheckCondition(strcmp(runnel_functionconfig_handler(created), "runnel_handler") == 0);
    CheckCondition(runnel_functionconfig_library(created)[0] == '/');
    CheckCondition(runnel_functionconfig_timeout_seconds(created) == 3);
    CheckCondition(runnel_functionconfig_isolation(created) == runnel_isolation_none);
    runnel_functionconfig_code_hash(created, &len);
    CheckCondition(len > 0);
    CheckCondition(runnel_functionconfig_last_modified_micros(created) > 0);
    runnel_functionconfig_destroy(created);

    CheckCondition(runnel_create_function(db, fn, &err) == NULL);
    CheckErrorContains(err, "Busy: ");
    runnel_functionconfig_destroy(fn);

    runnel_functions_t* list = runnel_list_functions(db, &err);
    CheckNoError(err);
    CheckCondition(runnel_functions_count(list) == 1);
    CheckCondition(
        Eq(runnel_functionconfig_name(runnel_functions_get(list, 0), &len), &len, kFunction));
    runnel_functions_destroy(list);

    runnel_functionconfig_t* got = runnel_get_function(db, S(kFunction), &err);
    CheckNoError(err);
    CheckCondition(Eq(runnel_functionconfig_name(got, &len), &len, kFunction));
    runnel_functionconfig_destroy(got);
    CheckCondition(runnel_get_function(db, S("Nope"), &err) == NULL);
    CheckErrorContains(err, "NotFound: ");
  }

  StartPhase("create_event_source_mapping");
  {
    runnel_mappingconfig_t* m = runnel_mappingconfig_create();
    runnel_mappingconfig_set_function_name(m, S(kFunction));
    runnel_mappingconfig_set_event_source(m, arn, arn_len);
    runnel_mappingconfig_set_batch_size(m, 0);
    runnel_mappingconfig_set_starting_position(m, runnel_start_trim_horizon, 0, 0);
    CheckCondition(runnel_create_event_source_mapping(db, m, &err) == NULL);
    CheckErrorContains(err, "InvalidArgument: ");

    runnel_mappingconfig_set_batch_size(m, 100);
    runnel_mappingconfig_set_starting_position(m, 9, 0, 0);
    CheckCondition(runnel_create_event_source_mapping(db, m, &err) == NULL);
    CheckErrorContains(err, "starting_position");
    runnel_mappingconfig_set_starting_position(m, runnel_start_trim_horizon, 0, 0);
    runnel_mappingconfig_set_tumbling_window_seconds(m, 901);
    CheckCondition(runnel_mappingconfig_tumbling_window_seconds(m) == 901);
    CheckCondition(runnel_create_event_source_mapping(db, m, &err) == NULL);
    CheckErrorContains(err, "tumbling window: must be 0 to 900 seconds, got 901");
    runnel_mappingconfig_set_tumbling_window_seconds(m, 0);
    runnel_mappingconfig_t* created = runnel_create_event_source_mapping(db, m, &err);
    CheckNoError(err);
    runnel_mappingconfig_destroy(m);
    size_t len;
    const char* u = runnel_mappingconfig_uuid(created, &len);
    CheckCondition(len == 36);
    memcpy(uuid, u, len);
    uuid[len] = '\0';
    CheckCondition(Eq(runnel_mappingconfig_state(created, &len), &len, "Creating"));
    CheckCondition(
        Eq(runnel_mappingconfig_state_transition_reason(created, &len), &len, "User action"));
    CheckCondition(runnel_mappingconfig_batch_size(created) == 100);
    CheckCondition(runnel_mappingconfig_tumbling_window_seconds(created) == 0);
    CheckCondition(runnel_mappingconfig_starting_position(created) == runnel_start_trim_horizon);
    CheckCondition(runnel_mappingconfig_enabled(created));
    CheckCondition(Eq(runnel_mappingconfig_event_source(created, &len), &len, arn));
    CheckCondition(Eq(runnel_mappingconfig_function_arn(created, &len), &len,
                      "arn:aws:lambda:eu-west-1:123456789012:function:ProcessDynamoDBStream"));
    runnel_mappingconfig_destroy(created);

    runnel_mappings_t* list =
        runnel_list_event_source_mappings(db, S(kFunction), arn, arn_len, NULL, 0, 0, &err);
    CheckNoError(err);
    CheckCondition(runnel_mappings_count(list) == 1);
    const runnel_mappingconfig_t* first = runnel_mappings_get(list, 0);
    CheckCondition(Eq(runnel_mappingconfig_uuid(first, &len), &len, uuid));
    CheckCondition(Eq(runnel_mappingconfig_function_name(first, &len), &len, kFunction));
    CheckCondition(
        Eq(runnel_mappingconfig_last_processing_result(first, &len), &len, "No records processed"));
    runnel_mappings_next_marker(list, &len);
    CheckCondition(len == 0);
    runnel_mappings_destroy(list);

    list = runnel_list_event_source_mappings(db, S("OtherFunction"), NULL, 0, NULL, 0, 0, &err);
    CheckNoError(err);
    CheckCondition(runnel_mappings_count(list) == 0);
    runnel_mappings_destroy(list);
  }

  StartPhase("items");
  {
    const char* today = "{\"Artist\":\"No One You Know\",\"SongTitle\":\"Call Me Today\"}";
    const char* tomorrow = "{\"Artist\":\"No One You Know\",\"SongTitle\":\"Call Me Tomorrow\"}";
    runnel_put_item(db, woptions, S(kMusic), S("song#1"), S(today), &err);
    CheckNoError(err);
    CheckGet(db, kMusic, "song#1", today);
    runnel_put_item(db, woptions, S(kMusic), S("song#1"), S(tomorrow), &err);
    CheckNoError(err);
    CheckGet(db, kMusic, "song#1", tomorrow);
    runnel_delete_item(db, woptions, S(kMusic), S("song#1"), &err);
    CheckNoError(err);
    CheckGet(db, kMusic, "song#1", NULL);
    /* A delete of a missing key is no error. */
    runnel_delete_item(db, NULL, S(kMusic), S("song#1"), &err);
    CheckNoError(err);
    /* Values are bytes: an embedded NUL and an empty value survive. */
    runnel_put_item(db, NULL, S("Pages"), "bin\0ary", 7, "a\0b", 3, &err);
    CheckNoError(err);
    size_t len;
    char* v = runnel_get_item(db, NULL, S("Pages"), "bin\0ary", 7, &len, &err);
    CheckNoError(err);
    CheckCondition(len == 3 && memcmp(v, "a\0b", 3) == 0);
    runnel_free(v);
    runnel_put_item(db, NULL, S("Pages"), S("empty"), "", 0, &err);
    CheckNoError(err);
    v = runnel_get_item(db, NULL, S("Pages"), S("empty"), &len, &err);
    CheckNoError(err);
    CheckCondition(v != NULL && len == 0);
    runnel_free(v);
    runnel_delete_item(db, NULL, S("Pages"), "bin\0ary", 7, &err);
    runnel_delete_item(db, NULL, S("Pages"), S("empty"), &err);
    CheckNoError(err);
    /* An empty key is rejected, naming it. */
    runnel_put_item(db, NULL, S(kMusic), "", 0, S("v"), &err);
    CheckErrorContains(err, "key");
  }

  StartPhase("runtime");
  {
    runnel_triggers_start(db, &err);
    CheckNoError(err);
    runnel_triggers_start(db, &err); /* idempotent */
    CheckNoError(err);
    runnel_triggers_wait_until_idle(db, 30000, &err);
    CheckNoError(err);
    char* log = FunctionLog(db);
    CheckCondition(strstr(log, "START RequestId: ") != NULL);
    CheckCondition(strstr(log, "INSERT key=song#1") != NULL);
    CheckCondition(strstr(log, "MODIFY key=song#1") != NULL);
    CheckCondition(strstr(log, "REMOVE key=song#1") != NULL);
    CheckCondition(strstr(log, "Call Me Tomorrow") != NULL);
    CheckCondition(strstr(log, "Successfully processed") != NULL);
    CheckCondition(strstr(log, "END RequestId: ") != NULL);
    runnel_free(log);

    runnel_mappingconfig_t* m = runnel_get_event_source_mapping(db, S(uuid), &err);
    CheckNoError(err);
    size_t len;
    CheckCondition(Eq(runnel_mappingconfig_last_processing_result(m, &len), &len, "OK"));
    CheckCondition(Eq(runnel_mappingconfig_state(m, &len), &len, "Enabled"));
    runnel_mappingconfig_destroy(m);
    CheckCondition(runnel_get_event_source_mapping(db, S("no-such-uuid"), &err) == NULL);
    CheckErrorContains(err, "NotFound: ");
    runnel_triggers_stop(db);
    runnel_triggers_stop(db); /* idempotent */
  }

  StartPhase("streams");
  {
    size_t len;
    runnel_streams_t* streams = runnel_list_streams(db, S(kMusic), &err);
    CheckNoError(err);
    CheckCondition(runnel_streams_count(streams) == 1);
    CheckCondition(Eq(runnel_streams_arn(streams, 0, &len), &len, arn));
    CheckCondition(Eq(runnel_streams_table(streams, 0, &len), &len, kMusic));
    runnel_streams_label(streams, 0, &len);
    CheckCondition(len > 0);
    CheckCondition(runnel_streams_view_type(streams, 0) == runnel_new_and_old_images);
    CheckCondition(runnel_streams_starting_sequence(streams, 0) > 0);
    CheckCondition(runnel_streams_ending_sequence(streams, 0) == 0);
    runnel_streams_destroy(streams);

    runnel_streamdescription_t* d = runnel_describe_stream(db, arn, arn_len, &err);
    CheckNoError(err);
    CheckCondition(Eq(runnel_streamdescription_arn(d, &len), &len, arn));
    CheckCondition(Eq(runnel_streamdescription_status(d, &len), &len, "ENABLED"));
    CheckCondition(Eq(runnel_streamdescription_table(d, &len), &len, kMusic));
    runnel_streamdescription_label(d, &len);
    CheckCondition(len > 0);
    CheckCondition(strncmp(runnel_streamdescription_shard_id(d, &len), "shardId-", 8) == 0);
    CheckCondition(runnel_streamdescription_view_type(d) == runnel_new_and_old_images);
    CheckCondition(runnel_streamdescription_creation_time_micros(d) > 0);
    CheckCondition(runnel_streamdescription_starting_sequence(d) > 0);
    CheckCondition(runnel_streamdescription_ending_sequence(d) == 0);
    runnel_streamdescription_destroy(d);
    CheckCondition(runnel_describe_stream(db, S("arn:nope"), &err) == NULL);
    CheckCondition(err != NULL);
    runnel_free(err);
    err = NULL;

    CheckCondition(runnel_get_shard_iterator(db, arn, arn_len, 99, 0, 0, &len, &err) == NULL);
    CheckErrorContains(err, "type");
    size_t it_len;
    char* it =
        runnel_get_shard_iterator(db, arn, arn_len, runnel_trim_horizon, 0, 0, &it_len, &err);
    CheckNoError(err);
    CheckCondition(it != NULL && it_len > 0);

    runnel_records_t* records = runnel_get_records(db, it, it_len, 0, 0, &err);
    CheckNoError(err);
    runnel_free(it);
    CheckCondition(runnel_records_count(records) == 3);
    CheckCondition(Eq(runnel_records_stream_arn(records, &len), &len, arn));
    const int want[3] = {runnel_event_insert, runnel_event_modify, runnel_event_remove};
    uint64_t previous = 0, insert_sequence = 0;
    for (size_t i = 0; i < 3; ++i) {
      const runnel_change_t* c = runnel_records_get(records, i);
      CheckCondition(runnel_change_event(c) == want[i]);
      CheckCondition(runnel_change_sequence(c) > previous);
      previous = runnel_change_sequence(c);
      if (i == 0) insert_sequence = previous;
      CheckCondition(Eq(runnel_change_key(c, &len), &len, "song#1"));
      CheckCondition(Eq(runnel_change_table(c, &len), &len, kMusic));
      CheckCondition(runnel_change_view_type(c) == runnel_new_and_old_images);
      CheckCondition(runnel_change_commit_time_micros(c) > 0);
      CheckCondition(runnel_change_size_bytes(c) > 0);
      CheckCondition(runnel_change_end_of_batch(c));
      const char* old_image = runnel_change_old_image(c, &len);
      CheckCondition((old_image != NULL) == (i != 0));
      const char* new_image = runnel_change_new_image(c, &len);
      CheckCondition((new_image != NULL) == (i != 2));
      if (i == 1) CheckCondition(strstr(new_image, "Call Me Tomorrow") != NULL);
    }
    /* A record as the cloud renders it, and back through Invoke. */
    char* json = runnel_records_json(records, 0, &len);
    CheckCondition(json != NULL && len == strlen(json));
    CheckCondition(strstr(json, "\"eventName\":\"INSERT\"") != NULL);
    CheckCondition(strstr(json, "\"awsRegion\":\"eu-west-1\"") != NULL);
    size_t payload_cap = len + 32;
    char* payload = malloc(payload_cap);
    CheckCondition(payload != NULL);
    int payload_len = snprintf(payload, payload_cap, "{\"Records\":[%s]}", json);
    runnel_free(json);
    size_t response_len;
    char* response =
        runnel_invoke(db, S(kFunction), payload, (size_t)payload_len, &response_len, &err);
    CheckNoError(err);
    free(payload);
    CheckCondition(strstr(response, "\"StatusCode\":200") != NULL);
    CheckCondition(strstr(response, "FunctionError") == NULL);
    runnel_free(response);
    CheckCondition(runnel_invoke(db, S(kFunction), S("not json"), &response_len, &err) == NULL);
    CheckErrorContains(err, "InvalidArgument: ");

    /* Caught up: no records, an iterator that continues. */
    const char* next = runnel_records_next_shard_iterator(records, &len);
    CheckCondition(len > 0);
    runnel_records_t* more = runnel_get_records(db, next, len, 10, 0, &err);
    CheckNoError(err);
    CheckCondition(runnel_records_count(more) == 0);
    CheckCondition(runnel_records_millis_behind_latest(more) == 0);
    runnel_records_next_shard_iterator(more, &len);
    CheckCondition(len > 0);
    /* Nothing committed past it: the wait times out. */
    const char* tail = runnel_records_next_shard_iterator(more, &len);
    runnel_wait_for_records(db, tail, len, 10, &err);
    CheckErrorContains(err, "TimedOut: ");
    runnel_records_destroy(more);
    runnel_records_destroy(records);

    /* AFTER_SEQUENCE_NUMBER of the first record: the MODIFY comes next. */
    it = runnel_get_shard_iterator(db, arn, arn_len, runnel_after_sequence_number, insert_sequence,
                                   0, &it_len, &err);
    CheckNoError(err);
    records = runnel_get_records(db, it, it_len, 1, 0, &err);
    CheckNoError(err);
    CheckCondition(runnel_records_count(records) == 1);
    CheckCondition(runnel_change_event(runnel_records_get(records, 0)) == runnel_event_modify);
    runnel_records_destroy(records);
    runnel_free(it);
    CheckCondition(runnel_get_records(db, S("garbage"), 0, 0, &err) == NULL);
    CheckErrorContains(err, "InvalidArgument: ");

    char* log = FunctionLog(db); /* the invocation above logged its record */
    const char* first = strstr(log, "INSERT key=song#1");
    CheckCondition(first != NULL && strstr(first + 1, "INSERT key=song#1") != NULL);
    runnel_free(log);
  }

  StartPhase("write_batch");
  {
    runnel_writebatch_t* batch = runnel_writebatch_create();
    runnel_writebatch_put(batch, S(kMusic), S("song#2"), S("two"));
    runnel_writebatch_put(batch, S(kMusic), S("song#3"), S("three"));
    runnel_writebatch_put(batch, S(kMusic), S("song#2"), S("two, again"));
    runnel_writebatch_delete(batch, S(kMusic), S("song#3"));
    runnel_writebatch_delete(batch, S(kMusic), S("song#9"));
    CheckCondition(runnel_writebatch_count(batch) == 5);
    uint64_t first_sequence = 0;
    uint32_t record_count = 0;
    uint64_t before = runnel_last_sequence(db);
    runnel_write(db, woptions, batch, &first_sequence, &record_count, &err);
    CheckNoError(err);
    /* INSERT, INSERT, MODIFY, REMOVE; the delete of a missing key is nothing. */
    CheckCondition(record_count == 4);
    CheckCondition(first_sequence == before + 1);
    CheckCondition(runnel_last_sequence(db) == before + 4);
    CheckGet(db, kMusic, "song#2", "two, again");
    CheckGet(db, kMusic, "song#3", NULL);

    /* One bad operation rejects the whole batch. */
    runnel_writebatch_clear(batch);
    CheckCondition(runnel_writebatch_count(batch) == 0);
    runnel_writebatch_put(batch, S(kMusic), S("song#4"), S("four"));
    runnel_writebatch_put(batch, S("x"), S("k"), S("v"));
    runnel_write(db, NULL, batch, NULL, NULL, &err);
    CheckErrorContains(err, "table name");
    CheckGet(db, kMusic, "song#4", NULL);
    runnel_writebatch_destroy(batch);

    /* The change iterator sees the batch's records together, in order. */
    runnel_changeiterator_t* it = runnel_create_change_iterator(db, first_sequence, &err);
    CheckNoError(err);
    const int want[4] = {runnel_event_insert, runnel_event_insert, runnel_event_modify,
                         runnel_event_remove};
    size_t n = 0;
    for (; runnel_changeiterator_valid(it); runnel_changeiterator_next(it), ++n) {
      const runnel_change_t* c = runnel_changeiterator_record(it);
      CheckCondition(n < 4);
      CheckCondition(runnel_change_sequence(c) == first_sequence + n);
      CheckCondition(runnel_change_event(c) == want[n]);
      CheckCondition(runnel_change_end_of_batch(c) == (n == 3));
    }
    CheckCondition(n == 4);
    runnel_changeiterator_get_error(it, &err);
    CheckNoError(err);
    runnel_changeiterator_destroy(it);
    CheckCondition(runnel_first_available_sequence(db) <= first_sequence);
  }

  StartPhase("scan");
  {
    char key[16];
    for (int i = 0; i < 5; ++i) {
      snprintf(key, sizeof(key), "page#%d", i);
      runnel_put_item(db, NULL, S("Pages"), S(key), S(key), &err);
      CheckNoError(err);
    }
    runnel_put_item(db, NULL, S("Pages"), S("other"), S("x"), &err);
    CheckNoError(err);

    runnel_scanoptions_t* options = runnel_scanoptions_create();
    runnel_scanoptions_set_prefix(options, S("page#"));
    runnel_scanoptions_set_limit(options, 2);
    size_t seen = 0, pages = 0;
    for (;;) {
      runnel_scanresult_t* page = runnel_scan(db, roptions, S("Pages"), options, &err);
      CheckNoError(err);
      ++pages;
      CheckCondition(runnel_scanresult_count(page) <= 2);
      for (size_t i = 0; i < runnel_scanresult_count(page); ++i, ++seen) {
        size_t klen, vlen;
        const char* k = runnel_scanresult_key(page, i, &klen);
        const char* v = runnel_scanresult_value(page, i, &vlen);
        snprintf(key, sizeof(key), "page#%d", (int)seen);
        CheckCondition(Eq(k, &klen, key));
        CheckCondition(Eq(v, &vlen, key));
      }
      if (!runnel_scanresult_has_more(page)) {
        runnel_scanresult_destroy(page);
        break;
      }
      size_t len;
      const char* last = runnel_scanresult_last_evaluated_key(page, &len);
      runnel_scanoptions_set_exclusive_start_key(options, last, len);
      runnel_scanresult_destroy(page);
      CheckCondition(pages < 10);
    }
    CheckCondition(seen == 5);
    CheckCondition(pages == 3);

    /* Bounds: [page#1, page#3). */
    runnel_scanoptions_set_exclusive_start_key(options, NULL, 0);
    runnel_scanoptions_set_limit(options, 0);
    runnel_scanoptions_set_start_key(options, S("page#1"));
    runnel_scanoptions_set_end_key(options, S("page#3"));
    runnel_scanresult_t* r = runnel_scan(db, NULL, S("Pages"), options, &err);
    CheckNoError(err);
    CheckCondition(runnel_scanresult_count(r) == 2);
    CheckCondition(!runnel_scanresult_has_more(r));
    runnel_scanresult_destroy(r);
    runnel_scanoptions_destroy(options);

    /* No options: everything. */
    r = runnel_scan(db, NULL, S("Pages"), NULL, &err);
    CheckNoError(err);
    CheckCondition(runnel_scanresult_count(r) == 6);
    runnel_scanresult_destroy(r);
    CheckCondition(runnel_scan(db, NULL, S("NoSuchTable"), NULL, &err) == NULL);
    CheckErrorContains(err, "NotFound: ");

    runnel_tabledescription_t* d = runnel_describe_table(db, S("Pages"), &err);
    CheckNoError(err);
    CheckCondition(runnel_tabledescription_item_count(d) == 6);
    CheckCondition(runnel_tabledescription_table_size_bytes(d) > 0);
    CheckCondition(!runnel_tabledescription_stream_enabled(d));
    runnel_tabledescription_destroy(d);
  }

  StartPhase("delete");
  {
    runnel_delete_function(db, S(kFunction), 0, &err);
    CheckErrorContains(err, "FailedPrecondition: ");
    runnel_mappingconfig_t* m = runnel_delete_event_source_mapping(db, S(uuid), &err);
    CheckNoError(err);
    size_t len;
    CheckCondition(Eq(runnel_mappingconfig_state(m, &len), &len, "Deleting"));
    runnel_mappingconfig_destroy(m);
    runnel_mappings_t* list =
        runnel_list_event_source_mappings(db, NULL, 0, NULL, 0, NULL, 0, 0, &err);
    CheckNoError(err);
    CheckCondition(runnel_mappings_count(list) == 0);
    runnel_mappings_destroy(list);
    runnel_delete_function(db, S(kFunction), 0, &err);
    CheckNoError(err);
    runnel_functions_t* fns = runnel_list_functions(db, &err);
    CheckNoError(err);
    CheckCondition(runnel_functions_count(fns) == 0);
    runnel_functions_destroy(fns);

    runnel_delete_table(db, S(kMusic), &err);
    CheckNoError(err);
    runnel_strings_t* names = runnel_list_tables(db, &err);
    CheckNoError(err);
    CheckCondition(runnel_strings_count(names) == 1);
    runnel_strings_destroy(names);
    /* The deleted tables' streams stay listed, oldest first, closed. */
    runnel_streams_t* streams = runnel_list_streams(db, NULL, 0, &err);
    CheckNoError(err);
    CheckCondition(runnel_streams_count(streams) == 2);
    CheckCondition(Eq(runnel_streams_table(streams, 0, &len), &len, kMusic));
    CheckCondition(runnel_streams_ending_sequence(streams, 0) > 0);
    runnel_streams_destroy(streams);
  }

  StartPhase("destroy");
  {
    runnel_options_t* options = runnel_options_create();
    runnel_destroy_db(options, dir, &err);
    CheckErrorContains(err, "Busy: ");
    /* A record batch outlives the DB it was read from (ASan checks). */
    size_t it_len, len;
    char* it =
        runnel_get_shard_iterator(db, arn, arn_len, runnel_trim_horizon, 0, 0, &it_len, &err);
    CheckNoError(err);
    runnel_records_t* records = runnel_get_records(db, it, it_len, 0, 0, &err);
    CheckNoError(err);
    runnel_free(it);
    runnel_close(db);
    CheckCondition(runnel_records_count(records) == 7);
    CheckCondition(Eq(runnel_change_key(runnel_records_get(records, 0), &len), &len, "song#1"));
    CheckCondition(Eq(runnel_change_key(runnel_records_get(records, 6), &len), &len, "song#3"));
    char* json = runnel_records_json(records, 6, &len);
    CheckCondition(strstr(json, "\"eventName\":\"REMOVE\"") != NULL);
    runnel_free(json);
    runnel_records_destroy(records);
    runnel_close(NULL);
    runnel_destroy_db(options, dir, &err);
    CheckNoError(err);
    struct stat st;
    CheckCondition(stat(dir, &st) != 0);
    runnel_destroy_db(options, dir, &err); /* already gone: OK */
    CheckNoError(err);
    /* Files runnel did not write are never removed, nor their directory. */
    char keep[4300];
    snprintf(keep, sizeof(keep), "%s/keep.txt", root);
    FILE* f = fopen(keep, "w");
    CheckCondition(f != NULL && fclose(f) == 0);
    runnel_destroy_db(NULL, root, &err);
    CheckNoError(err);
    CheckCondition(stat(keep, &st) == 0);
    runnel_options_destroy(options);
    runnel_writeoptions_destroy(woptions);
    runnel_readoptions_destroy(roptions);
    CheckCondition(unlink(keep) == 0);
    CheckCondition(rmdir(root) == 0);
  }

  fprintf(stderr, "PASS\n");
  return 0;
}
