// Copyright 2026 The runnel Authors.
//
// trigger_crash_host: the child process of tests/trigger_crash_test.cc. It
// owns a DB with the trigger runtime running (Options::run_triggers) and is
// SIGKILLed by the parent at a random moment, except in drain mode.
//
// Usage: trigger_crash_host DIR MODE RUN SEED PLUGIN BATCH_SIZE SLEEP_MS [filter] [lanes] [view]
//   MODE   "write": set up (if missing), then write to "src" until killed;
//          "drain": set up (if missing), write nothing, wait until the
//          mapping has caught up, close the DB and exit 0.
//   RUN    the run's number; keys written are "k<RUN*10^6 + n>" (unique
//          across the runs on one directory).
//   PLUGIN the test_function plugin; BATCH_SIZE and SLEEP_MS configure the
//          function and the mapping when they are created (the first run
//          that gets that far); later runs find them and leave them alone.
//   filter the mapping is created with kFilter (FilterCriteria): only records
//          whose key ends in 3 or 7 are delivered.
//   view   the materialized view instead (PLUGIN is
//          examples/materialized_view; SLEEP_MS is unused): typed tables
//          "orders" (id S; NEW_AND_OLD_IMAGES stream) and "totals" (group S),
//          the function "view" (VIEW_TABLE=totals) and a mapping orders ->
//          view; "write" mode puts, updates (moving items between groups,
//          changing amounts) and deletes random orders, some in
//          transactions, until killed, reporting each acknowledged write
//          as "W <records>".
//   lanes  the mapping is created with ParallelizationFactor kLanes (4).
//
// Setup (idempotent, so a kill anywhere in it is repaired by the next run):
// tables "src" (NEW_IMAGE stream) and "Seen" (no stream), the function "rec"
// (TARGET=Seen: one item per record, keyed by the record's 20-digit sequence
// number; COUNT_FILE=DIR.count: one line per invocation with its batch size)
// and one event source mapping src -> rec from TRIM_HORIZON.
//
// Protocol on stdout (a pipe to the parent), one line per write(2):
//   O                      the DB is open
//   M <uuid> <batch_size>  the mapping exists
//   R                      setup is complete
//   B <wid> <n> <key>:<value>...
//                          intent: write <wid> (one WriteBatch of n puts to
//                          "src") is about to start
//   A <wid> <first_seq> <record_count>
//                          write <wid> was acknowledged (sync=true)
//   I <status>             drain: WaitUntilIdle returned
//   C <status>             drain: Close returned; the process exits 0 next
//   E <message>            an operation failed; the process exits 3
// A write is started only after its B line was written completely. Values
// use only [0-9a-z.] characters.

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "runnel/db.h"
#include "runnel/triggers.h"
#include "tests/campaign.h"
#include "tests/view_check.h"

namespace {

using runnel::test::ChildEmit;
using runnel::test::ChildFail;

constexpr const char* kFunction = "rec";
// tests/trigger_crash_test.cc's kLanes must agree.
constexpr uint32_t kLanes = 4;
// tests/trigger_crash_test.cc's FilterMatches must agree.
constexpr const char* kFilter =
    R"({"eventName":["INSERT"],"dynamodb":{"Keys":{"key":{"S":[{"suffix":"3"},{"suffix":"7"}]}}}})";

void Setup(runnel::DB* db, const std::string& plugin, const std::string& count_file,
           uint32_t batch_size, int sleep_ms, bool filter, bool lanes) {
  runnel::StreamSpecification stream;
  stream.stream_enabled = true;
  stream.stream_view_type = runnel::StreamViewType::kNewImage;
  runnel::Status s = db->CreateTable("src", stream);
  if (!s.ok() && !s.IsBusy()) ChildFail("create table src", s);
  s = db->CreateTable("Seen", runnel::StreamSpecification());
  if (!s.ok() && !s.IsBusy()) ChildFail("create table Seen", s);

  runnel::Triggers* t = db->triggers();
  runnel::FunctionConfiguration fn;
  s = t->GetFunction(kFunction, &fn);
  if (s.IsNotFound()) {
    fn = runnel::FunctionConfiguration();
    fn.function_name = kFunction;
    fn.library = plugin;
    fn.environment["TARGET"] = "Seen";
    if (sleep_ms > 0) fn.environment["SLEEP_MS"] = std::to_string(sleep_ms);
    // Every invocation appends its batch size here (before its write-backs
    // are committed): the parent counts deliveries, redeliveries included.
    fn.environment["COUNT_FILE"] = count_file;
    fn.timeout_seconds = 60;
    s = t->CreateFunction(fn, nullptr);
  }
  if (!s.ok()) ChildFail("function", s);

  std::vector<runnel::EventSourceMappingConfiguration> mappings;
  s = t->ListEventSourceMappings(kFunction, "", "", 0, &mappings, nullptr);
  if (!s.ok()) ChildFail("list mappings", s);
  if (mappings.size() > 1) {
    ChildFail("list mappings", runnel::Status::Corruption(std::to_string(mappings.size()) +
                                                          " mappings of one function"));
  }
  runnel::EventSourceMappingConfiguration m;
  if (mappings.empty()) {
    runnel::EventSourceMappingConfiguration want;
    want.function_name = kFunction;
    want.event_source = "src";
    want.batch_size = batch_size;
    want.starting_position = runnel::StartingPosition::kTrimHorizon;
    if (filter) want.filter_patterns = {kFilter};
    if (lanes) want.parallelization_factor = kLanes;
    s = t->CreateEventSourceMapping(want, &m);
    if (!s.ok()) ChildFail("create mapping", s);
  } else {
    m = mappings[0];
  }
  ChildEmit("M " + m.uuid + " " + std::to_string(m.batch_size));
}

std::string Value(std::mt19937_64& rng, uint64_t n) {
  std::string v = "v";  // appended to: see Numbered() in tests/testutil.h
  v += std::to_string(n);
  v += '.';
  const uint64_t r = rng() % 100;
  const size_t len = r < 90 ? rng() % 64 : 64 + rng() % 2000;
  v.append(len, static_cast<char>('a' + rng() % 26));
  return v;
}

[[noreturn]] void WriteLoop(runnel::DB* db, uint64_t run, uint64_t seed) {
  std::mt19937_64 rng(seed);
  uint64_t n = run * 1000000;
  for (uint64_t wid = 0;; ++wid) {
    // Mostly single puts; some atomic batches of several records (one log
    // frame that a mapping batch may cut in the middle).
    const int puts = rng() % 5 == 0 ? 2 + static_cast<int>(rng() % 6) : 1;
    runnel::WriteBatch batch;
    std::string line = "B " + std::to_string(wid) + " " + std::to_string(puts);
    for (int i = 0; i < puts; ++i) {
      std::string key = "k";
      key += std::to_string(n);
      const std::string value = Value(rng, n);
      ++n;
      batch.Put("src", key, value);
      line += " " + key + ":" + value;
    }
    ChildEmit(line);
    runnel::WriteOptions wo;
    wo.sync = true;
    runnel::CommitInfo info;
    const runnel::Status s = db->Write(wo, batch, &info);
    if (!s.ok()) ChildFail("write " + std::to_string(wid), s);
    ChildEmit("A " + std::to_string(wid) + " " + std::to_string(info.first_sequence) + " " +
              std::to_string(info.record_count));
    // Now and then a pause, so the mapping sometimes catches up (and
    // persists a position without write-backs) while the writer is idle.
    if (rng() % 40 == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 30));
    }
  }
}

// --- The materialized view (examples/materialized_view).

void SetupView(runnel::DB* db, const std::string& plugin, uint32_t batch_size) {
  runnel::Status s = runnel::test::CreateViewTables(db);
  if (!s.ok()) ChildFail("create the view's tables", s);
  runnel::Triggers* t = db->triggers();
  runnel::FunctionConfiguration fn;
  s = t->GetFunction("view", &fn);
  if (s.IsNotFound()) {
    fn = runnel::FunctionConfiguration();
    fn.function_name = "view";
    fn.library = plugin;
    fn.environment["VIEW_TABLE"] = "totals";
    fn.timeout_seconds = 60;
    s = t->CreateFunction(fn, nullptr);
  }
  if (!s.ok()) ChildFail("function", s);
  std::vector<runnel::EventSourceMappingConfiguration> mappings;
  s = t->ListEventSourceMappings("view", "", "", 0, &mappings, nullptr);
  if (!s.ok()) ChildFail("list mappings", s);
  runnel::EventSourceMappingConfiguration m;
  if (mappings.empty()) {
    runnel::EventSourceMappingConfiguration want;
    want.function_name = "view";
    want.event_source = "orders";
    want.batch_size = batch_size;
    want.starting_position = runnel::StartingPosition::kTrimHorizon;
    s = t->CreateEventSourceMapping(want, &m);
    if (!s.ok()) ChildFail("create mapping", s);
  } else {
    m = mappings[0];
  }
  ChildEmit("M " + m.uuid + " " + std::to_string(m.batch_size));
}

[[noreturn]] void ViewWriteLoop(runnel::DB* db, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (uint64_t n = 0;; ++n) {
    // Mostly without fsync (a kill -9 loses nothing of them), so that the
    // writer outruns the function now and then.
    const runnel::Status s = runnel::test::RandomOrderWrite(db, rng, rng() % 4 == 0);
    if (!s.ok()) ChildFail("write " + std::to_string(n), s);
    ChildEmit("W");
    if (rng() % 40 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 30));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool filter = false, lanes = false, view = false, bad = argc < 8;
  for (int i = 8; i < argc; ++i) {
    const std::string flag = argv[i];
    bad |= flag != "filter" && flag != "lanes" && flag != "view";
    filter |= flag == "filter";
    lanes |= flag == "lanes";
    view |= flag == "view";
  }
  if (bad) {
    std::fprintf(stderr,
                 "usage: trigger_crash_host DIR write|drain RUN SEED PLUGIN "
                 "BATCH_SIZE SLEEP_MS [filter] [lanes] [view]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string mode = argv[2];
  const uint64_t run = std::strtoull(argv[3], nullptr, 10);
  const uint64_t seed = std::strtoull(argv[4], nullptr, 10);
  const std::string plugin = argv[5];
  const uint32_t batch_size = static_cast<uint32_t>(std::strtoul(argv[6], nullptr, 10));
  const int sleep_ms = std::atoi(argv[7]);
  if (mode != "write" && mode != "drain") {
    std::fprintf(stderr, "trigger_crash_host: bad mode '%s'\n", mode.c_str());
    return 2;
  }

  std::unique_ptr<runnel::DB> db = runnel::test::ChildOpen(dir);
  if (view) {
    SetupView(db.get(), plugin, batch_size);
  } else {
    Setup(db.get(), plugin, dir + ".count", batch_size, sleep_ms, filter, lanes);
  }
  ChildEmit("R");

  if (mode == "write") {
    // Safety net: the parent kills us long before this.
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::seconds(120));
      std::fprintf(stderr, "trigger_crash_host: not killed within 120 s\n");
      _exit(4);
    }).detach();
    if (view) ViewWriteLoop(db.get(), seed);
    WriteLoop(db.get(), run, seed);
  }

  runnel::Status s = db->triggers()->WaitUntilIdle(std::chrono::seconds(120));
  ChildEmit("I " + (s.ok() ? std::string("OK") : s.ToString()));
  s = db->Close();
  ChildEmit("C " + (s.ok() ? std::string("OK") : s.ToString()));
  db.reset();
  return 0;
}
