// Copyright 2026 The runnel Authors.
//
// crash_writer: the child process of tests/crash_test.cc. It is SIGKILLed by
// the parent at a random moment; it never exits by itself (except on an
// error, or after a safety timeout).
//
// Usage: crash_writer DIR SEED THREADS SYNC_PERCENT
//
// Opens (creating if missing) the DB in DIR with small segments and a small
// LevelDB write buffer, creates (if missing) the tables "crash_a"
// (NEW_AND_OLD_IMAGES stream) and "crash_b" (NEW_IMAGE stream), then runs
// THREADS writer threads that loop over random puts, deletes and multi-table
// WriteBatches, SYNC_PERCENT % of them with sync=true. Meanwhile the trigger
// runtime runs (Options::run_triggers): the mapping crash_a -> "mirror" (an
// in-process function bound at every start, batch size from SEED) writes
// back, for every record of crash_a, the item crash_seen[<20-digit
// sequence>] = "<event> <key> <new image>" (table crash_seen has no
// stream). Each thread owns the keys "t<thread>k<n>" of both tables, so
// per key the thread's program order is the commit order.
//
// Protocol on stdout (a pipe to the parent), one line per write(2):
//   O                            the DB is open
//   R                            both tables exist
//   B <tid> <wid> <sync> <n> <op>...
//                                intent: write <wid> of thread <tid> is about
//                                to start; <op> is P:<table>:<key>:<value>
//                                or D:<table>:<key>
//   A <tid> <wid> <first_seq> <record_count>
//                                write <wid> returned OK (CommitInfo)
//   E <message>                  an operation failed; the child exits 3
// A write is started only after its B line was written completely, so a
// write the parent never saw announced never happened. Values use only
// [0-9a-z.] characters. Writes with sync=false are announced and acknowledged
// the same way: they too survive a crash of the process (runnel's contract;
// sync only matters for power loss).

#include <unistd.h>

#include <atomic>
#include <cerrno>
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
#include "runnel/function.hpp"
#include "runnel/triggers.h"
#include "tests/campaign.h"

namespace {

using runnel::test::ChildEmit;
using runnel::test::ChildFail;

constexpr int kKeysPerThread = 40;
const char* const kTables[2] = {"crash_a", "crash_b"};

std::string Value(std::mt19937_64& rng, int tid, uint64_t wid) {
  std::string v = "v";  // appended to: see Numbered() in tests/testutil.h
  v += std::to_string(tid);
  v += '.';
  v += std::to_string(wid);
  v += '.';
  const uint64_t r = rng() % 1000;
  size_t len;
  if (r < 800) {
    len = rng() % 120;
  } else if (r < 990) {
    len = 120 + rng() % 1500;
  } else if (r < 997) {
    len = 3000 + rng() % 9000;
  } else {
    len = 70000 + rng() % 30000;  // a frame larger than a whole segment
  }
  if (rng() % 50 == 0) return std::string();  // empty values are allowed
  v.append(len, static_cast<char>('a' + rng() % 26));
  return v;
}

void WriterLoop(runnel::DB* db, int tid, uint64_t seed, int sync_pct) {
  std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(tid) * 7919 + 1);
  for (uint64_t wid = 0;; ++wid) {
    runnel::WriteBatch batch;
    std::string line;
    const uint64_t kind = rng() % 100;
    const int nops = kind < 50 ? 1 : kind < 65 ? 1 : 2 + static_cast<int>(rng() % 5);
    std::set<std::pair<int, int>> used;  // distinct keys within a batch
    std::string ops;
    int added = 0;
    for (int i = 0; i < nops; ++i) {
      const int t = static_cast<int>(rng() % 2);
      const int k = static_cast<int>(rng() % kKeysPerThread);
      if (!used.insert({t, k}).second) continue;
      std::string key = "t";
      key += std::to_string(tid);
      key += 'k';
      key += std::to_string(k);
      const bool del = nops == 1 ? (kind >= 50) : (rng() % 4 == 0);
      if (del) {
        batch.Delete(kTables[t], key);
        ops += std::string(" D:") + kTables[t] + ":" + key;
      } else {
        const std::string value = Value(rng, tid, wid);
        batch.Put(kTables[t], key, value);
        ops += std::string(" P:") + kTables[t] + ":" + key + ":" + value;
      }
      ++added;
    }
    runnel::WriteOptions wo;
    wo.sync = static_cast<int>(rng() % 100) < sync_pct;
    ChildEmit("B " + std::to_string(tid) + " " + std::to_string(wid) + " " + (wo.sync ? "1" : "0") +
              " " + std::to_string(added) + ops);
    runnel::CommitInfo info;
    runnel::Status s = db->Write(wo, batch, &info);
    if (!s.ok()) ChildFail("write " + std::to_string(tid) + "/" + std::to_string(wid), s);
    ChildEmit("A " + std::to_string(tid) + " " + std::to_string(wid) + " " +
              std::to_string(info.first_sequence) + " " + std::to_string(info.record_count));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: crash_writer DIR SEED THREADS SYNC_PERCENT\n");
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const int threads = std::max(1, std::atoi(argv[3]));
  const int sync_pct = std::atoi(argv[4]);

  std::unique_ptr<runnel::DB> db = runnel::test::ChildOpen(dir);
  runnel::Status s;

  const runnel::StreamViewType views[2] = {runnel::StreamViewType::kNewAndOldImages,
                                           runnel::StreamViewType::kNewImage};
  for (int t = 0; t < 2; ++t) {
    runnel::StreamSpecification spec;
    spec.stream_enabled = true;
    spec.stream_view_type = views[t];
    s = db->CreateTable(kTables[t], spec);
    if (!s.ok() && !s.IsBusy()) ChildFail(std::string("create ") + kTables[t], s);
  }
  s = db->CreateTable("crash_seen", runnel::StreamSpecification());
  if (!s.ok() && !s.IsBusy()) ChildFail("create crash_seen", s);
  runnel::FunctionConfiguration fn;
  fn.function_name = "mirror";
  s = db->triggers()->RegisterInProcessFunction(fn, [](const runnel_batch& b, runnel_context* c) {
    runnel::fn::Context ctx(c);
    for (const runnel::fn::Record& r : runnel::fn::Batch(b)) {
      const std::string v = std::string(r.event_name()) + " " + std::string(r.key()) + " " +
                            std::string(r.new_image());
      if (!ctx.Put("crash_seen", runnel::test::SeqKey(r.sequence_number()), v)) return 1;
    }
    return 0;
  });
  if (!s.ok()) ChildFail("register mirror", s);
  std::vector<runnel::EventSourceMappingConfiguration> mappings;
  std::string next;
  s = db->triggers()->ListEventSourceMappings("mirror", "", "", 0, &mappings, &next);
  if (!s.ok()) ChildFail("list mappings", s);
  if (mappings.empty()) {
    runnel::EventSourceMappingConfiguration m;
    m.function_name = "mirror";
    m.event_source = "crash_a";
    m.batch_size = 1 + static_cast<uint32_t>(seed % 50);
    m.starting_position = runnel::StartingPosition::kTrimHorizon;
    s = db->triggers()->CreateEventSourceMapping(m, nullptr);
    if (!s.ok()) ChildFail("create mapping", s);
  }
  ChildEmit("R");

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(WriterLoop, db.get(), t, seed, sync_pct);
  }
  // Safety net: the parent kills us long before this.
  std::this_thread::sleep_for(std::chrono::seconds(120));
  std::fprintf(stderr, "crash_writer: not killed within 120 s\n");
  _exit(4);
}
