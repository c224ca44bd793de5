// Copyright 2026 The runnel Authors.
//
// trigger_crash_snapshot_host: the child process of
// tests/trigger_crash_snapshot_test.cc. It owns a DB with the trigger
// runtime running and is SIGKILLed by the parent at random moments while a
// mapping with StartingPosition SNAPSHOT reads the table's items and writes
// race it; in drain mode it writes nothing, waits until the mapping has
// caught up, closes the DB and exits 0.
//
// Usage: trigger_crash_snapshot_host DIR write|drain RUN SEED PLUGIN
//                                    BATCH_SIZE SLEEP_MS ITEMS
//   PLUGIN the snapshot_function plugin (TARGET=Seen, SLEEP_MS, COUNT_FILE);
//   ITEMS  how many items "p<n>" (value "init<n>") the table holds before
//          the mapping is created.
//
// Setup (idempotent, so a kill anywhere in it is repaired by the next run):
// tables "src" (NEW_IMAGE stream) and "Seen" (no stream), the items (only
// while no mapping exists: writing a value a key already has writes
// nothing), the function "rec" and the mapping src -> rec from SNAPSHOT.
//
// Protocol on stdout, one line per write(2):
//   O / R / E <message>    as every campaign child (tests/campaign.h)
//   M <uuid>               the mapping exists
//   B <wid> <n> <key>:<value>...
//                          write <wid> (one WriteBatch to "src") is about to
//                          start; value "-" is a delete
//   A <wid> <first_seq> <record_count>
//                          write <wid> was acknowledged (sync=true)
//   I <status>, C <status> drain: WaitUntilIdle and Close returned
// Values use only [0-9a-z.] characters.

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

void Populate(runnel::DB* db, uint64_t items) {
  for (uint64_t n = 0; n < items; n += 100) {
    runnel::WriteBatch b;
    for (uint64_t i = n; i < std::min(items, n + 100); ++i) {
      b.Put("src", "p" + std::to_string(i), "init" + std::to_string(i));
    }
    runnel::WriteOptions wo;
    wo.sync = true;
    runnel::Status s = db->Write(wo, b);
    if (!s.ok()) ChildFail("populate", s);
  }
}

void Setup(runnel::DB* db, const std::string& plugin, const std::string& count_file,
           uint32_t batch_size, int sleep_ms, uint64_t items) {
  runnel::StreamSpecification stream;
  stream.stream_enabled = true;
  stream.stream_view_type = runnel::StreamViewType::kNewImage;
  runnel::Status s = db->CreateTable("src", stream);
  if (!s.ok() && !s.IsBusy()) ChildFail("create table src", s);
  s = db->CreateTable("Seen", runnel::StreamSpecification());
  if (!s.ok() && !s.IsBusy()) ChildFail("create table Seen", s);
  runnel::Triggers* t = db->triggers();
  std::vector<runnel::EventSourceMappingConfiguration> mappings;
  s = t->ListEventSourceMappings("", "", "", 0, &mappings, nullptr);
  if (!s.ok()) ChildFail("list mappings", s);
  if (mappings.empty()) Populate(db, items);

  runnel::FunctionConfiguration fn;
  s = t->GetFunction("rec", &fn);
  if (s.IsNotFound()) {
    fn = runnel::FunctionConfiguration();
    fn.function_name = "rec";
    fn.library = plugin;
    fn.environment["TARGET"] = "Seen";
    if (sleep_ms > 0) fn.environment["SLEEP_MS"] = std::to_string(sleep_ms);
    fn.environment["COUNT_FILE"] = count_file;
    fn.timeout_seconds = 60;
    s = t->CreateFunction(fn, nullptr);
  }
  if (!s.ok()) ChildFail("function", s);
  runnel::EventSourceMappingConfiguration m;
  if (mappings.empty()) {
    runnel::EventSourceMappingConfiguration want;
    want.function_name = "rec";
    want.event_source = "src";
    want.batch_size = batch_size;
    want.starting_position = runnel::StartingPosition::kSnapshot;
    s = t->CreateEventSourceMapping(want, &m);
    if (!s.ok()) ChildFail("create mapping", s);
  } else {
    m = mappings[0];
  }
  ChildEmit("M " + m.uuid);
}

[[noreturn]] void WriteLoop(runnel::DB* db, uint64_t run, uint64_t seed, uint64_t items) {
  std::mt19937_64 rng(seed);
  uint64_t n = run * 1000000;
  for (uint64_t wid = 0;; ++wid) {
    const int ops = rng() % 5 == 0 ? 2 + static_cast<int>(rng() % 4) : 1;
    runnel::WriteBatch batch;
    std::set<std::string> keys;
    std::string line;
    int count = 0;
    for (int i = 0; i < ops; ++i) {
      const uint64_t r = rng() % 10;
      // Mostly the populated keys (ahead of and behind the scan), some new.
      std::string key =
          r < 8 ? "p" + std::to_string(rng() % (items + 20)) : "n" + std::to_string(n);
      if (!keys.insert(key).second) continue;
      const std::string value = "v" + std::to_string(n++) + "." + std::to_string(rng() % 1000);
      if (r < 2) {
        batch.Delete("src", key);
        line += " " + key + ":-";
      } else {
        batch.Put("src", key, value);
        line += " " + key + ":" + value;
      }
      ++count;
    }
    ChildEmit("B " + std::to_string(wid) + " " + std::to_string(count) + line);
    runnel::WriteOptions wo;
    wo.sync = true;
    runnel::CommitInfo info;
    const runnel::Status s = db->Write(wo, batch, &info);
    if (!s.ok()) ChildFail("write " + std::to_string(wid), s);
    ChildEmit("A " + std::to_string(wid) + " " + std::to_string(info.first_sequence) + " " +
              std::to_string(info.record_count));
    if (rng() % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr,
                 "usage: trigger_crash_snapshot_host DIR write|drain RUN SEED PLUGIN "
                 "BATCH_SIZE SLEEP_MS ITEMS\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string mode = argv[2];
  const uint64_t run = std::strtoull(argv[3], nullptr, 10);
  const uint64_t seed = std::strtoull(argv[4], nullptr, 10);
  const uint32_t batch_size = static_cast<uint32_t>(std::strtoul(argv[6], nullptr, 10));
  const int sleep_ms = std::atoi(argv[7]);
  const uint64_t items = std::strtoull(argv[8], nullptr, 10);
  if (mode != "write" && mode != "drain") {
    std::fprintf(stderr, "trigger_crash_snapshot_host: bad mode '%s'\n", mode.c_str());
    return 2;
  }
  std::unique_ptr<runnel::DB> db = runnel::test::ChildOpen(dir);
  Setup(db.get(), argv[5], dir + ".count", batch_size, sleep_ms, items);
  ChildEmit("R");
  if (mode == "write") {
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::seconds(120));
      std::fprintf(stderr, "trigger_crash_snapshot_host: not killed within 120 s\n");
      _exit(4);
    }).detach();
    WriteLoop(db.get(), run, seed, items);
  }
  runnel::Status s = db->triggers()->WaitUntilIdle(std::chrono::seconds(120));
  ChildEmit("I " + (s.ok() ? std::string("OK") : s.ToString()));
  s = db->Close();
  ChildEmit("C " + (s.ok() ? std::string("OK") : s.ToString()));
  db.reset();
  return 0;
}
