/* Copyright 2026 The runnel Authors.
 *
 * c_example: runnel from C (runnel/c.h). Creates a table with a stream,
 * writes items, reads them back, reads the stream as DynamoDB Streams
 * records, and, given the path of a function plugin (e.g.
 * build/examples/process_stream.so), runs it on the changes through an
 * event source mapping and prints its log.
 *
 *   c_example DB_DIR [FUNCTION_LIBRARY]
 *
 * DB_DIR is destroyed at the end. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runnel/c.h"

/* Prints the error and exits: the simplest use of the errptr convention. */
static void Check(char* err, const char* what) {
  if (err != NULL) {
    fprintf(stderr, "%s: %s\n", what, err);
    runnel_free(err);
    exit(1);
  }
}

static void RunFunction(runnel_t* db, const char* library) {
  char* err = NULL;
  runnel_functionconfig_t* fn = runnel_functionconfig_create();
  runnel_functionconfig_set_name(fn, "ProcessDynamoDBStream", 21);
  runnel_functionconfig_set_library(fn, library);
  runnel_functionconfig_destroy(runnel_create_function(db, fn, &err));
  runnel_functionconfig_destroy(fn);
  Check(err, "create-function");

  runnel_mappingconfig_t* m = runnel_mappingconfig_create();
  runnel_mappingconfig_set_function_name(m, "ProcessDynamoDBStream", 21);
  runnel_mappingconfig_set_event_source(m, "Music", 5); /* the table's latest stream */
  runnel_mappingconfig_set_batch_size(m, 100);
  runnel_mappingconfig_set_starting_position(m, runnel_start_trim_horizon, 0, 0);
  runnel_mappingconfig_t* created = runnel_create_event_source_mapping(db, m, &err);
  runnel_mappingconfig_destroy(m);
  Check(err, "create-event-source-mapping");
  size_t len;
  const char* uuid = runnel_mappingconfig_uuid(created, &len);
  printf("mapping %.*s\n", (int)len, uuid);
  runnel_mappingconfig_destroy(created);

  runnel_triggers_start(db, &err);
  Check(err, "start");
  runnel_triggers_wait_until_idle(db, 10000, &err);
  Check(err, "wait until idle");
  runnel_triggers_stop(db);

  runnel_functionlog_t* log = runnel_read_function_log(db, "ProcessDynamoDBStream", 21, 0, &err);
  Check(err, "logs");
  for (size_t i = 0; i < runnel_functionlog_count(log); ++i) {
    const char* text = runnel_functionlog_text(log, i, &len);
    printf("log: %.*s\n", (int)len, text);
  }
  runnel_functionlog_destroy(log);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DB_DIR [FUNCTION_LIBRARY]\n", argv[0]);
    return 2;
  }
  printf("runnel %d.%d\n", runnel_major_version(), runnel_minor_version());
  char* err = NULL;
  runnel_options_t* options = runnel_options_create();
  runnel_t* db = runnel_open(options, argv[1], &err);
  Check(err, "open");

  runnel_create_table(db, "Music", 5, 1, runnel_new_and_old_images, &err);
  Check(err, "create-table");

  runnel_writeoptions_t* sync = runnel_writeoptions_create();
  runnel_writeoptions_set_sync(sync, 1); /* durable against power loss when it returns */
  const char* today = "{\"title\":\"Call Me Today\"}";
  runnel_put_item(db, sync, "Music", 5, "song#1", 6, today, strlen(today), &err);
  Check(err, "put-item");

  runnel_writebatch_t* batch = runnel_writebatch_create(); /* atomic: one log frame */
  runnel_writebatch_put(batch, "Music", 5, "song#2", 6, "{\"title\":\"Tomorrow\"}", 20);
  runnel_writebatch_delete(batch, "Music", 5, "song#1", 6);
  runnel_write(db, sync, batch, NULL, NULL, &err);
  runnel_writebatch_destroy(batch);
  Check(err, "write");

  size_t len;
  char* value = runnel_get_item(db, NULL, "Music", 5, "song#2", 6, &len, &err);
  Check(err, "get-item");
  printf("song#2 = %.*s\n", (int)len, value);
  runnel_free(value);
  value = runnel_get_item(db, NULL, "Music", 5, "song#1", 6, &len, &err);
  Check(err, "get-item");
  printf("song#1 %s\n", value == NULL ? "is gone" : "is still there?");
  runnel_free(value);

  /* The stream, from its oldest record, as the cloud renders records. */
  runnel_tabledescription_t* d = runnel_describe_table(db, "Music", 5, &err);
  Check(err, "describe-table");
  size_t arn_len;
  const char* arn = runnel_tabledescription_latest_stream_arn(d, &arn_len);
  size_t it_len;
  char* it = runnel_get_shard_iterator(db, arn, arn_len, runnel_trim_horizon, 0, 0, &it_len, &err);
  runnel_tabledescription_destroy(d);
  Check(err, "get-shard-iterator");
  runnel_records_t* records = runnel_get_records(db, it, it_len, 0, 0, &err);
  runnel_free(it);
  Check(err, "get-records");
  for (size_t i = 0; i < runnel_records_count(records); ++i) {
    char* json = runnel_records_json(records, i, &len);
    printf("%s\n", json);
    runnel_free(json);
  }
  runnel_records_destroy(records);

  if (argc > 2) RunFunction(db, argv[2]);

  runnel_writeoptions_destroy(sync);
  runnel_close(db);
  runnel_destroy_db(options, argv[1], &err);
  runnel_options_destroy(options);
  Check(err, "destroy");
  return 0;
}
