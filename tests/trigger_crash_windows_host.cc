// Copyright 2026 The runnel Authors.
//
// trigger_crash_windows_host: the child process of
// tests/trigger_crash_windows_test.cc. It owns a DB with the trigger runtime
// running and a mapping with a tumbling window of 1 s, and is SIGKILLed by
// the parent at a random moment, except in drain mode.
//
// Usage: trigger_crash_windows_host DIR MODE RUN SEED PLUGIN BATCH_SIZE
//   MODE   "write": set up (if missing), then put to "src" until killed;
//          "drain": set up (if missing), write nothing, wait until every
//          window that has records has had its final invocation, close the
//          DB and exit 0.
//   RUN    keys written are "k<RUN*10^6 + n>".
//   PLUGIN the window_function plugin (a counting aggregate: one item per
//          final invocation in "totals", "<start>/final/<request id>" ->
//          count).
//
// Protocol on stdout: O (open), R (set up), D <windows> (drain: every window
// has its final), C <status> (drain: closed), E <message> (failed; exit 3).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runnel/db.h"
#include "runnel/triggers.h"
#include "tests/campaign.h"

namespace {

using runnel::test::ChildEmit;
using runnel::test::ChildFail;

constexpr const char* kFunction = "win";

void Setup(runnel::DB* db, const std::string& plugin, uint32_t batch_size) {
  runnel::Status s =
      db->CreateTable("src", runnel::test::Stream(runnel::StreamViewType::kKeysOnly));
  if (!s.ok() && !s.IsBusy()) ChildFail("create table src", s);
  s = db->CreateTable("totals", runnel::StreamSpecification());
  if (!s.ok() && !s.IsBusy()) ChildFail("create table totals", s);
  runnel::Triggers* t = db->triggers();
  runnel::FunctionConfiguration fn;
  s = t->GetFunction(kFunction, &fn);
  if (s.IsNotFound()) {
    fn = runnel::FunctionConfiguration();
    fn.function_name = kFunction;
    fn.library = plugin;
    fn.environment["TARGET"] = "totals";
    fn.timeout_seconds = 60;
    s = t->CreateFunction(fn, nullptr);
  }
  if (!s.ok()) ChildFail("function", s);
  std::vector<runnel::EventSourceMappingConfiguration> mappings;
  s = t->ListEventSourceMappings(kFunction, "", "", 0, &mappings, nullptr);
  if (!s.ok()) ChildFail("list mappings", s);
  if (mappings.empty()) {
    runnel::EventSourceMappingConfiguration want;
    want.function_name = kFunction;
    want.event_source = "src";
    want.batch_size = batch_size;
    want.tumbling_window_seconds = 1;
    s = t->CreateEventSourceMapping(want, nullptr);
    if (!s.ok()) ChildFail("create mapping", s);
  }
}

[[noreturn]] void WriteLoop(runnel::DB* db, uint64_t run, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (uint64_t n = run * 1000000;; ++n) {
    const runnel::Status s =
        db->Put(runnel::WriteOptions(), "src", "k" + std::to_string(n), std::to_string(n));
    if (!s.ok()) ChildFail("put", s);
    std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % 3000));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: trigger_crash_windows_host DIR write|drain RUN SEED PLUGIN BATCH_SIZE\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string mode = argv[2];
  const uint64_t run = std::strtoull(argv[3], nullptr, 10);
  const uint64_t seed = std::strtoull(argv[4], nullptr, 10);
  const uint32_t batch_size = static_cast<uint32_t>(std::strtoul(argv[6], nullptr, 10));
  if (mode != "write" && mode != "drain") return 2;
  std::unique_ptr<runnel::DB> db = runnel::test::ChildOpen(dir);
  Setup(db.get(), argv[5], batch_size);
  ChildEmit("R");
  if (mode == "write") {
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::seconds(120));
      std::fprintf(stderr, "trigger_crash_windows_host: not killed within 120 s\n");
      _exit(4);
    }).detach();
    WriteLoop(db.get(), run, seed);
  }
  // The last window ends at most 1 s after the last record; its final comes
  // soon after.
  size_t windows = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  for (;;) {
    bool all = false;
    const runnel::Status s = runnel::test::AllWindowsFinal(db.get(), &all, &windows);
    if (!s.ok()) ChildFail("read the windows", s);
    if (all) break;
    if (std::chrono::steady_clock::now() > give_up) {
      ChildFail("drain", runnel::Status::TimedOut("windows without a final invocation"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ChildEmit("D " + std::to_string(windows));
  runnel::Status s = db->Close();
  ChildEmit("C " + (s.ok() ? std::string("OK") : s.ToString()));
  db.reset();
  return 0;
}
