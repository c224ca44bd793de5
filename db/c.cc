// Copyright 2026 The runnel Authors.
//
// The C API (runnel/c.h), database half: options, open/close/destroy, tables,
// items, batches, scans, the change iterator and streams. The trigger half is
// triggers/c.cc, so that db/ stays below triggers/.

#include "runnel/c.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "db/c_internal.h"
#include "runnel/db.h"
#include "runnel/stream.h"
#include "runnel/version.h"

using runnel::Status;
using runnel::c_api::CopyBytes;
using runnel::c_api::Out;
using runnel::c_api::SaveError;
using runnel::c_api::View;

struct runnel_writeoptions_t {
  runnel::WriteOptions rep;
};
struct runnel_readoptions_t {
  runnel::ReadOptions rep;
};
struct runnel_writebatch_t {
  runnel::WriteBatch rep;
};
struct runnel_strings_t {
  std::vector<std::string> rep;
};
struct runnel_tabledescription_t {
  runnel::TableDescription rep;
};
struct runnel_scanoptions_t {
  runnel::ScanOptions rep;
};
struct runnel_scanresult_t {
  runnel::ScanResult rep;
};
struct runnel_change_t {
  runnel::ChangeRecord rep;
};
struct runnel_changeiterator_t {
  std::unique_ptr<runnel::ChangeIterator> rep;
  runnel_change_t current;
};
struct runnel_streams_t {
  std::vector<runnel::StreamInfo> rep;
};
struct runnel_streamdescription_t {
  runnel::StreamDescription rep;
};
struct runnel_records_t {
  // The changes view into the batch's pinned log: the batch is never moved.
  runnel::RecordBatch batch;
  std::vector<runnel_change_t> changes;
  std::string region;
};

namespace runnel::c_api {

bool SaveError(char** errptr, const Status& s) {
  if (s.ok()) return false;
  std::free(*errptr);
  *errptr = CopyBytes(s.ToString());
  return true;
}

char* CopyBytes(std::string_view bytes) {
  char* out = static_cast<char*>(std::malloc(bytes.size() + 1));
  if (out == nullptr) std::abort();  // as operator new would, without throwing across C
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  out[bytes.size()] = '\0';
  return out;
}

}  // namespace runnel::c_api

namespace {

// The C enums are the C++ enums' values; the range is checked so that a bad
// int is an error naming the argument rather than an invalid enum.
Status ToSpecification(unsigned char enabled, int view_type, runnel::StreamSpecification* spec) {
  spec->stream_enabled = enabled != 0;
  if (!spec->stream_enabled) return Status::OK();
  if (view_type < runnel_keys_only || view_type > runnel_new_and_old_images) {
    return Status::InvalidArgument(
        "view_type must be 1 to 4 (runnel_keys_only to runnel_new_and_old_images)");
  }
  spec->stream_view_type = static_cast<runnel::StreamViewType>(view_type);
  return Status::OK();
}

// DB::Get reports a missing key and a missing table both as NotFound; only
// the former is "no value" in the C convention.
bool IsMissingKey(const Status& s) { return s.IsNotFound() && s.message() == "key not found"; }

const runnel::WriteOptions& WriteOpts(const runnel_writeoptions_t* o) {
  static const runnel::WriteOptions kDefault;
  return o != nullptr ? o->rep : kDefault;
}

const runnel::ReadOptions& ReadOpts(const runnel_readoptions_t* o) {
  static const runnel::ReadOptions kDefault;
  return o != nullptr ? o->rep : kDefault;
}

}  // namespace

extern "C" {

int runnel_major_version(void) { return RUNNEL_VERSION_MAJOR; }
int runnel_minor_version(void) { return RUNNEL_VERSION_MINOR; }
void runnel_free(void* ptr) { std::free(ptr); }

// --- Options.

runnel_options_t* runnel_options_create(void) { return new runnel_options_t; }
void runnel_options_destroy(runnel_options_t* options) { delete options; }
void runnel_options_set_create_if_missing(runnel_options_t* o, unsigned char v) {
  o->rep.create_if_missing = v != 0;
}
void runnel_options_set_error_if_exists(runnel_options_t* o, unsigned char v) {
  o->rep.error_if_exists = v != 0;
}
void runnel_options_set_name(runnel_options_t* o, const char* name, size_t len) {
  o->rep.name.assign(View(name, len));
}
void runnel_options_set_region(runnel_options_t* o, const char* region, size_t len) {
  o->rep.region.assign(View(region, len));
}
void runnel_options_set_account_id(runnel_options_t* o, const char* account_id, size_t len) {
  o->rep.account_id.assign(View(account_id, len));
}
void runnel_options_set_recovery_mode(runnel_options_t* o, int mode) {
  o->rep.recovery_mode = static_cast<runnel::WALRecoveryMode>(mode);
}
void runnel_options_set_segment_bytes(runnel_options_t* o, uint64_t bytes) {
  o->rep.segment_bytes = bytes;
}
void runnel_options_set_retention_seconds(runnel_options_t* o, uint64_t seconds) {
  o->rep.retention_seconds = seconds;
}
void runnel_options_set_max_log_bytes(runnel_options_t* o, uint64_t bytes) {
  o->rep.max_log_bytes = bytes;
}
void runnel_options_set_write_buffer_bytes(runnel_options_t* o, size_t bytes) {
  o->rep.write_buffer_bytes = bytes;
}
void runnel_options_set_block_cache_bytes(runnel_options_t* o, size_t bytes) {
  o->rep.block_cache_bytes = bytes;
}
void runnel_options_set_max_open_files(runnel_options_t* o, int n) { o->rep.max_open_files = n; }
void runnel_options_set_key_filter_bits_per_key(runnel_options_t* o, int bits) {
  o->rep.key_filter_bits_per_key = bits;
}
void runnel_options_set_run_triggers(runnel_options_t* o, unsigned char v) {
  o->rep.run_triggers = v != 0;
}
void runnel_options_set_trigger_threads(runnel_options_t* o, int threads) {
  o->rep.trigger_threads = threads;
}

runnel_writeoptions_t* runnel_writeoptions_create(void) { return new runnel_writeoptions_t; }
void runnel_writeoptions_destroy(runnel_writeoptions_t* options) { delete options; }
void runnel_writeoptions_set_sync(runnel_writeoptions_t* o, unsigned char v) {
  o->rep.sync = v != 0;
}

runnel_readoptions_t* runnel_readoptions_create(void) { return new runnel_readoptions_t; }
void runnel_readoptions_destroy(runnel_readoptions_t* options) { delete options; }
void runnel_readoptions_set_verify_checksums(runnel_readoptions_t* o, unsigned char v) {
  o->rep.verify_checksums = v != 0;
}
void runnel_readoptions_set_fill_cache(runnel_readoptions_t* o, unsigned char v) {
  o->rep.fill_cache = v != 0;
}

// --- The DB handle (runnel_open and runnel_destroy_db are in triggers/c.cc,
// beside DB::Open and DestroyDB, which put the store and the runtime together).

void runnel_close(runnel_t* db) {
  if (db == nullptr) return;
  db->rep->Close().ok();  // nothing to report to: the handle is gone either way
  delete db;
}

const char* runnel_name(const runnel_t* db, size_t* len) { return Out(db->rep->name(), len); }
const char* runnel_region(const runnel_t* db, size_t* len) { return Out(db->rep->region(), len); }
const char* runnel_account_id(const runnel_t* db, size_t* len) {
  return Out(db->rep->account_id(), len);
}
uint64_t runnel_last_sequence(const runnel_t* db) { return db->rep->LastSequence(); }
uint64_t runnel_first_available_sequence(const runnel_t* db) {
  return db->rep->FirstAvailableSequence();
}

// --- Tables.

void runnel_create_table(runnel_t* db, const char* name, size_t name_len,
                         unsigned char stream_enabled, int view_type, char** errptr) {
  runnel::StreamSpecification spec;
  if (SaveError(errptr, ToSpecification(stream_enabled, view_type, &spec))) return;
  SaveError(errptr, db->rep->CreateTable(View(name, name_len), spec));
}

void runnel_update_table(runnel_t* db, const char* name, size_t name_len,
                         unsigned char stream_enabled, int view_type, char** errptr) {
  runnel::StreamSpecification spec;
  if (SaveError(errptr, ToSpecification(stream_enabled, view_type, &spec))) return;
  SaveError(errptr, db->rep->UpdateTable(View(name, name_len), spec));
}

void runnel_delete_table(runnel_t* db, const char* name, size_t name_len, char** errptr) {
  SaveError(errptr, db->rep->DeleteTable(View(name, name_len)));
}

runnel_tabledescription_t* runnel_describe_table(runnel_t* db, const char* name, size_t name_len,
                                                 char** errptr) {
  auto d = std::make_unique<runnel_tabledescription_t>();
  if (SaveError(errptr, db->rep->DescribeTable(View(name, name_len), &d->rep))) return nullptr;
  return d.release();
}
void runnel_tabledescription_destroy(runnel_tabledescription_t* d) { delete d; }
const char* runnel_tabledescription_name(const runnel_tabledescription_t* d, size_t* len) {
  return Out(d->rep.table_name, len);
}
int64_t runnel_tabledescription_creation_time_micros(const runnel_tabledescription_t* d) {
  return d->rep.creation_time_micros;
}
unsigned char runnel_tabledescription_stream_enabled(const runnel_tabledescription_t* d) {
  return d->rep.stream_specification.stream_enabled ? 1 : 0;
}
int runnel_tabledescription_stream_view_type(const runnel_tabledescription_t* d) {
  return static_cast<int>(d->rep.stream_specification.stream_view_type);
}
const char* runnel_tabledescription_latest_stream_arn(const runnel_tabledescription_t* d,
                                                      size_t* len) {
  return Out(d->rep.latest_stream_arn, len);
}
const char* runnel_tabledescription_latest_stream_label(const runnel_tabledescription_t* d,
                                                        size_t* len) {
  return Out(d->rep.latest_stream_label, len);
}
uint64_t runnel_tabledescription_item_count(const runnel_tabledescription_t* d) {
  return d->rep.item_count;
}
uint64_t runnel_tabledescription_table_size_bytes(const runnel_tabledescription_t* d) {
  return d->rep.table_size_bytes;
}

runnel_strings_t* runnel_list_tables(runnel_t* db, char** errptr) {
  auto list = std::make_unique<runnel_strings_t>();
  if (SaveError(errptr, db->rep->ListTables(&list->rep))) return nullptr;
  return list.release();
}
size_t runnel_strings_count(const runnel_strings_t* list) { return list->rep.size(); }
const char* runnel_strings_get(const runnel_strings_t* list, size_t i, size_t* len) {
  return Out(list->rep[i], len);
}
void runnel_strings_destroy(runnel_strings_t* list) { delete list; }

// --- Items.

void runnel_put_item(runnel_t* db, const runnel_writeoptions_t* options, const char* table,
                     size_t table_len, const char* key, size_t key_len, const char* value,
                     size_t value_len, char** errptr) {
  SaveError(errptr, db->rep->Put(WriteOpts(options), View(table, table_len), View(key, key_len),
                                 View(value, value_len)));
}

void runnel_delete_item(runnel_t* db, const runnel_writeoptions_t* options, const char* table,
                        size_t table_len, const char* key, size_t key_len, char** errptr) {
  SaveError(errptr,
            db->rep->Delete(WriteOpts(options), View(table, table_len), View(key, key_len)));
}

char* runnel_get_item(runnel_t* db, const runnel_readoptions_t* options, const char* table,
                      size_t table_len, const char* key, size_t key_len, size_t* value_len,
                      char** errptr) {
  *value_len = 0;
  std::string value;
  Status s = db->rep->Get(ReadOpts(options), View(table, table_len), View(key, key_len), &value);
  if (IsMissingKey(s) || SaveError(errptr, s)) return nullptr;
  *value_len = value.size();
  return CopyBytes(value);
}

runnel_writebatch_t* runnel_writebatch_create(void) { return new runnel_writebatch_t; }
void runnel_writebatch_destroy(runnel_writebatch_t* batch) { delete batch; }
void runnel_writebatch_clear(runnel_writebatch_t* batch) { batch->rep.Clear(); }
size_t runnel_writebatch_count(const runnel_writebatch_t* batch) { return batch->rep.Count(); }
void runnel_writebatch_put(runnel_writebatch_t* batch, const char* table, size_t table_len,
                           const char* key, size_t key_len, const char* value, size_t value_len) {
  batch->rep.Put(View(table, table_len), View(key, key_len), View(value, value_len));
}
void runnel_writebatch_delete(runnel_writebatch_t* batch, const char* table, size_t table_len,
                              const char* key, size_t key_len) {
  batch->rep.Delete(View(table, table_len), View(key, key_len));
}

void runnel_write(runnel_t* db, const runnel_writeoptions_t* options,
                  const runnel_writebatch_t* batch, uint64_t* first_sequence,
                  uint32_t* record_count, char** errptr) {
  runnel::CommitInfo info;
  if (SaveError(errptr, db->rep->Write(WriteOpts(options), batch->rep, &info))) return;
  if (first_sequence != nullptr) *first_sequence = info.first_sequence;
  if (record_count != nullptr) *record_count = info.record_count;
}

runnel_scanoptions_t* runnel_scanoptions_create(void) { return new runnel_scanoptions_t; }
void runnel_scanoptions_destroy(runnel_scanoptions_t* options) { delete options; }
void runnel_scanoptions_set_prefix(runnel_scanoptions_t* o, const char* prefix, size_t len) {
  o->rep.prefix.assign(View(prefix, len));
}
void runnel_scanoptions_set_start_key(runnel_scanoptions_t* o, const char* key, size_t len) {
  o->rep.start_key.assign(View(key, len));
}
void runnel_scanoptions_set_end_key(runnel_scanoptions_t* o, const char* key, size_t len) {
  o->rep.end_key.assign(View(key, len));
}
void runnel_scanoptions_set_exclusive_start_key(runnel_scanoptions_t* o, const char* key,
                                                size_t len) {
  o->rep.exclusive_start_key.assign(View(key, len));
}
void runnel_scanoptions_set_limit(runnel_scanoptions_t* o, size_t limit) { o->rep.limit = limit; }

runnel_scanresult_t* runnel_scan(runnel_t* db, const runnel_readoptions_t* read_options,
                                 const char* table, size_t table_len,
                                 const runnel_scanoptions_t* scan_options, char** errptr) {
  static const runnel::ScanOptions kEverything;
  auto result = std::make_unique<runnel_scanresult_t>();
  const runnel::ScanOptions& o = scan_options != nullptr ? scan_options->rep : kEverything;
  if (SaveError(errptr,
                db->rep->Scan(ReadOpts(read_options), View(table, table_len), o, &result->rep)))
    return nullptr;
  return result.release();
}
void runnel_scanresult_destroy(runnel_scanresult_t* result) { delete result; }
size_t runnel_scanresult_count(const runnel_scanresult_t* r) { return r->rep.items.size(); }
const char* runnel_scanresult_key(const runnel_scanresult_t* r, size_t i, size_t* len) {
  return Out(r->rep.items[i].first, len);
}
const char* runnel_scanresult_value(const runnel_scanresult_t* r, size_t i, size_t* len) {
  return Out(r->rep.items[i].second, len);
}
unsigned char runnel_scanresult_has_more(const runnel_scanresult_t* r) {
  return r->rep.has_more ? 1 : 0;
}
const char* runnel_scanresult_last_evaluated_key(const runnel_scanresult_t* r, size_t* len) {
  return Out(r->rep.last_evaluated_key, len);
}

// --- Change records.

uint64_t runnel_change_sequence(const runnel_change_t* c) { return c->rep.sequence; }
int64_t runnel_change_commit_time_micros(const runnel_change_t* c) {
  return c->rep.commit_time_micros;
}
int runnel_change_event(const runnel_change_t* c) { return static_cast<int>(c->rep.event); }
int runnel_change_view_type(const runnel_change_t* c) { return static_cast<int>(c->rep.view_type); }
const char* runnel_change_table(const runnel_change_t* c, size_t* len) {
  *len = c->rep.table.size();
  return c->rep.table.data();
}
const char* runnel_change_key(const runnel_change_t* c, size_t* len) {
  *len = c->rep.key.size();
  return c->rep.key.data();
}
// An empty image that is present must still be told from an absent one.
const char* runnel_change_old_image(const runnel_change_t* c, size_t* len) {
  *len = c->rep.has_old_image ? c->rep.old_image.size() : 0;
  if (!c->rep.has_old_image) return nullptr;
  return c->rep.old_image.data() != nullptr ? c->rep.old_image.data() : "";
}
const char* runnel_change_new_image(const runnel_change_t* c, size_t* len) {
  *len = c->rep.has_new_image ? c->rep.new_image.size() : 0;
  if (!c->rep.has_new_image) return nullptr;
  return c->rep.new_image.data() != nullptr ? c->rep.new_image.data() : "";
}
unsigned char runnel_change_end_of_batch(const runnel_change_t* c) {
  return c->rep.end_of_batch ? 1 : 0;
}
uint32_t runnel_change_size_bytes(const runnel_change_t* c) { return c->rep.size_bytes; }

runnel_changeiterator_t* runnel_create_change_iterator(runnel_t* db, uint64_t start,
                                                       char** errptr) {
  auto it = std::make_unique<runnel_changeiterator_t>();
  if (SaveError(errptr, db->rep->NewChangeIterator(start, &it->rep))) return nullptr;
  return it.release();
}
void runnel_changeiterator_destroy(runnel_changeiterator_t* it) { delete it; }
unsigned char runnel_changeiterator_valid(const runnel_changeiterator_t* it) {
  return it->rep->Valid() ? 1 : 0;
}
void runnel_changeiterator_next(runnel_changeiterator_t* it) { it->rep->Next(); }
const runnel_change_t* runnel_changeiterator_record(const runnel_changeiterator_t* it) {
  // The C++ record is a reference into the iterator; the C handle is a copy
  // of its views, refreshed here, owned by the iterator.
  auto* self = const_cast<runnel_changeiterator_t*>(it);
  self->current.rep = it->rep->record();
  return &self->current;
}
void runnel_changeiterator_get_error(const runnel_changeiterator_t* it, char** errptr) {
  SaveError(errptr, it->rep->status());
}

// --- Streams.

runnel_streams_t* runnel_list_streams(runnel_t* db, const char* table, size_t table_len,
                                      char** errptr) {
  auto list = std::make_unique<runnel_streams_t>();
  if (SaveError(errptr, db->rep->streams()->ListStreams(View(table, table_len), &list->rep))) {
    return nullptr;
  }
  return list.release();
}
void runnel_streams_destroy(runnel_streams_t* list) { delete list; }
size_t runnel_streams_count(const runnel_streams_t* l) { return l->rep.size(); }
const char* runnel_streams_arn(const runnel_streams_t* l, size_t i, size_t* len) {
  return Out(l->rep[i].arn, len);
}
const char* runnel_streams_label(const runnel_streams_t* l, size_t i, size_t* len) {
  return Out(l->rep[i].label, len);
}
const char* runnel_streams_table(const runnel_streams_t* l, size_t i, size_t* len) {
  return Out(l->rep[i].table_name, len);
}
int runnel_streams_view_type(const runnel_streams_t* l, size_t i) {
  return static_cast<int>(l->rep[i].view_type);
}
uint64_t runnel_streams_starting_sequence(const runnel_streams_t* l, size_t i) {
  return l->rep[i].starting_sequence;
}
uint64_t runnel_streams_ending_sequence(const runnel_streams_t* l, size_t i) {
  return l->rep[i].ending_sequence;
}

runnel_streamdescription_t* runnel_describe_stream(runnel_t* db, const char* stream_arn,
                                                   size_t arn_len, char** errptr) {
  auto d = std::make_unique<runnel_streamdescription_t>();
  if (SaveError(errptr, db->rep->streams()->DescribeStream(View(stream_arn, arn_len), &d->rep))) {
    return nullptr;
  }
  return d.release();
}
void runnel_streamdescription_destroy(runnel_streamdescription_t* d) { delete d; }
const char* runnel_streamdescription_arn(const runnel_streamdescription_t* d, size_t* len) {
  return Out(d->rep.stream_arn, len);
}
const char* runnel_streamdescription_label(const runnel_streamdescription_t* d, size_t* len) {
  return Out(d->rep.stream_label, len);
}
const char* runnel_streamdescription_status(const runnel_streamdescription_t* d, size_t* len) {
  return Out(d->rep.stream_status, len);
}
const char* runnel_streamdescription_table(const runnel_streamdescription_t* d, size_t* len) {
  return Out(d->rep.table_name, len);
}
const char* runnel_streamdescription_shard_id(const runnel_streamdescription_t* d, size_t* len) {
  return Out(d->rep.shard_id, len);
}
int runnel_streamdescription_view_type(const runnel_streamdescription_t* d) {
  return static_cast<int>(d->rep.view_type);
}
int64_t runnel_streamdescription_creation_time_micros(const runnel_streamdescription_t* d) {
  return d->rep.creation_request_time_micros;
}
uint64_t runnel_streamdescription_starting_sequence(const runnel_streamdescription_t* d) {
  return d->rep.starting_sequence;
}
uint64_t runnel_streamdescription_ending_sequence(const runnel_streamdescription_t* d) {
  return d->rep.ending_sequence;
}

char* runnel_get_shard_iterator(runnel_t* db, const char* stream_arn, size_t arn_len, int type,
                                uint64_t sequence, int64_t timestamp_micros, size_t* iterator_len,
                                char** errptr) {
  *iterator_len = 0;
  if (type < runnel_trim_horizon || type > runnel_at_timestamp) {
    SaveError(errptr, Status::InvalidArgument("type must be 0 to 4 (runnel_trim_horizon to "
                                              "runnel_at_timestamp)"));
    return nullptr;
  }
  runnel::ShardIteratorRequest request;
  request.stream_arn.assign(View(stream_arn, arn_len));
  request.type = static_cast<runnel::ShardIteratorType>(type);
  request.sequence_number = sequence;
  request.timestamp_micros = timestamp_micros;
  std::string iterator;
  if (SaveError(errptr, db->rep->streams()->GetShardIterator(request, &iterator))) return nullptr;
  *iterator_len = iterator.size();
  return CopyBytes(iterator);
}

runnel_records_t* runnel_get_records(runnel_t* db, const char* iterator, size_t iterator_len,
                                     size_t limit, size_t max_bytes, char** errptr) {
  runnel::GetRecordsOptions options;
  if (limit != 0) options.limit = limit;
  if (max_bytes != 0) options.max_bytes = max_bytes;
  auto records = std::make_unique<runnel_records_t>();
  if (SaveError(errptr, db->rep->streams()->GetRecords(View(iterator, iterator_len), options,
                                                       &records->batch))) {
    return nullptr;
  }
  records->changes.reserve(records->batch.records().size());
  for (const runnel::ChangeRecord& r : records->batch.records()) {
    records->changes.push_back(runnel_change_t{r});
  }
  records->region = db->rep->region();
  return records.release();
}
void runnel_records_destroy(runnel_records_t* records) { delete records; }
size_t runnel_records_count(const runnel_records_t* r) { return r->changes.size(); }
const runnel_change_t* runnel_records_get(const runnel_records_t* r, size_t i) {
  return &r->changes[i];
}
const char* runnel_records_next_shard_iterator(const runnel_records_t* r, size_t* len) {
  return Out(r->batch.next_shard_iterator(), len);
}
const char* runnel_records_stream_arn(const runnel_records_t* r, size_t* len) {
  return Out(r->batch.stream_arn(), len);
}
int64_t runnel_records_millis_behind_latest(const runnel_records_t* r) {
  return r->batch.millis_behind_latest();
}
char* runnel_records_json(const runnel_records_t* r, size_t i, size_t* len) {
  std::string json = runnel::RecordToJson(r->changes[i].rep, r->batch.stream_arn(), r->region);
  *len = json.size();
  return CopyBytes(json);
}

void runnel_wait_for_records(runnel_t* db, const char* iterator, size_t iterator_len,
                             int64_t timeout_ms, char** errptr) {
  SaveError(errptr, db->rep->streams()->WaitForRecords(View(iterator, iterator_len),
                                                       std::chrono::milliseconds(timeout_ms)));
}

}  // extern "C"
