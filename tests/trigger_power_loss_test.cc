// Copyright 2026 The runnel Authors.
//
// Trigger power-loss test: the trigger runtime and its write-backs when the
// power is cut, over the FaultInjectionEnv (tests/fault_env.h) that drops
// every byte not yet fsynced.
//
// Each iteration opens the DB with Options::run_triggers and an in-process
// function "rec" that writes back, for every record of table "src", one item
// into table "Seen" keyed by the record's 20-digit sequence number with value
// "<event> <key> <new image>"; a mapping src -> rec (random batch size) runs
// while a writer puts unique keys into src (some sync=true, some not). At a
// random point the power is cut (after a random number of file operations:
// inside a commit, a checkpoint, a rotation, a LevelDB flush; or after a
// random time), the DB is abandoned, the unsynced bytes are dropped (all, a
// torn prefix, or a zero-filled tail), and the DB is reopened without the
// runtime to check:
//
//  (a) every write acknowledged with sync=true is in src, with its value;
//  (b) every item of Seen is the write-back of a src record still in the
//      log, with exactly that record's "<event> <key> <new image>";
//  (c) Seen holds an item for EXACTLY the src records below the mapping's
//      durable checkpoint P: a power cut never separates write-backs from
//      the checkpoint of their batch (one atomic frame), never skips a
//      record, never keeps a write-back whose checkpoint was lost;
//  (d) the function binding aside, the mapping survives (same UUID).
//
// Every fifth iteration ends with a drain instead: the runtime catches up
// (WaitUntilIdle) and Seen then holds one item per src record.
//
// Environment: RUNNEL_TRIGGER_POWER_LOSS_ITERATIONS (default 20),
// RUNNEL_TRIGGER_POWER_LOSS_SEED (default random; printed).

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runnel/db.h"
#include "runnel/function.hpp"
#include "tests/fault_env.h"
#include "tests/testutil.h"

namespace runnel::test {
namespace {

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v == nullptr ? def : std::strtoull(v, nullptr, 10);
}

std::string SeqKey(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64, seq);
  return buf;
}

// Binds the write-back function in this process (after every open).
Status BindFunction(DB* db) {
  FunctionConfiguration f;
  f.function_name = "rec";
  return db->triggers()->RegisterInProcessFunction(
      f, [](const runnel_batch& b, runnel_context* c) {
        fn::Context ctx(c);
        for (const fn::Record& r : fn::Batch(b)) {
          std::string v = std::string(r.event_name()) + " " + std::string(r.key()) + " " +
                          std::string(r.new_image());
          if (!ctx.Put("Seen", SeqKey(r.sequence_number()), v)) return 1;
        }
        return 0;
      });
}

struct Acked {
  std::string key, value;
  bool sync = false;
};

struct Check {
  size_t src_records = 0;
  size_t below_checkpoint = 0;
};

// The checks (a)-(d) on a DB opened without the runtime.
Check CheckDb(DB* db, const std::vector<Acked>& acked, const std::string& uuid, bool drained,
              std::vector<std::string>* violations) {
  auto violation = [&](const std::string& s) {
    if (violations->size() < 20) violations->push_back(s);
  };
  Check out;
  for (const Acked& a : acked) {
    if (!a.sync) continue;
    std::string v;
    Status s = db->Get("src", a.key, &v);
    if (!s.ok() || v != a.value) {
      violation("sync-acknowledged put of " + a.key + " lost: " + s.ToString());
    }
  }
  std::vector<Rec> recs;
  Status s = ReadAll(db, 1, &recs);
  if (!s.ok()) violation("reading the log: " + s.ToString());
  std::map<uint64_t, std::string> src;  // seq -> expected write-back
  for (const Rec& r : recs) {
    if (r.table != "src") continue;
    src[r.seq] = std::string(EventNameString(r.event)) + " " + r.key + " " + r.new_image;
  }
  out.src_records = src.size();
  std::vector<std::pair<std::string, std::string>> seen;
  s = ScanAll(db, "Seen", &seen);
  if (!s.ok()) violation("scan Seen: " + s.ToString());
  std::set<uint64_t> seen_seqs;
  for (const auto& [k, v] : seen) {
    const uint64_t q = std::strtoull(k.c_str(), nullptr, 10);
    seen_seqs.insert(q);
    auto it = src.find(q);
    if (it == src.end()) {
      violation("Seen has " + k + " but the log has no src record there");
    } else if (it->second != v) {
      violation("Seen " + k + " is '" + v + "', expected '" + it->second + "'");
    }
  }
  std::vector<EventSourceMappingConfiguration> mappings;
  std::string next;
  s = db->triggers()->ListEventSourceMappings("", "", "", 0, &mappings, &next);
  if (!s.ok() || mappings.size() != 1 || mappings[0].uuid != uuid) {
    violation("the mapping " + uuid + " did not survive (" + std::to_string(mappings.size()) +
              " mappings)");
    return out;
  }
  MappingMetrics m;
  s = db->triggers()->GetMappingMetrics(uuid, &m);
  if (!s.ok()) violation("GetMappingMetrics: " + s.ToString());
  const uint64_t p = m.position;
  for (const auto& [q, want] : src) {
    if (q < p) {
      ++out.below_checkpoint;
      if (seen_seqs.count(q) == 0) {
        violation("record " + std::to_string(q) + " is below the checkpoint " +
                  std::to_string(p) + " but has no write-back (skipped)");
      }
    } else if (seen_seqs.count(q) != 0) {
      violation("write-back of record " + std::to_string(q) +
                " survived but the checkpoint is " + std::to_string(p) +
                " (separated from its checkpoint)");
    }
  }
  if (drained && seen.size() != src.size()) {
    violation("after the drain Seen has " + std::to_string(seen.size()) + " items for " +
              std::to_string(src.size()) + " src records");
  }
  return out;
}

TEST(TriggerPowerLossTest, WriteBacksStayWithTheirCheckpoint) {
  const uint64_t iterations = EnvU64("RUNNEL_TRIGGER_POWER_LOSS_ITERATIONS", 20);
  const uint64_t seed = EnvU64("RUNNEL_TRIGGER_POWER_LOSS_SEED", std::random_device()());
  std::printf("trigger power-loss test: %llu iterations, seed %llu "
              "(RUNNEL_TRIGGER_POWER_LOSS_SEED=%llu to repeat)\n",
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  TempDir tmp;
  FaultInjectionEnv env;
  env.SetSkipRealSync(true);
  Options options;
  options.env = &env;
  options.segment_bytes = 64 << 10;
  options.write_buffer_bytes = 64 << 10;

  std::string dir, uuid;
  std::vector<Acked> acked;
  uint64_t key_counter = 0;
  size_t total_violations = 0, cuts = 0, sync_acked = 0, src_records = 0, checked_below = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    std::vector<std::string> violations;
    const bool drain = it % 5 == 4;
    if (it % 5 == 0) {
      dir = tmp.Sub("db" + std::to_string(it));
      acked.clear();
      std::unique_ptr<DB> db;
      ASSERT_OK(DB::Open(options, dir, &db));
      ASSERT_OK(db->CreateTable("src", Stream(StreamViewType::kNewImage)));
      ASSERT_OK(db->CreateTable("Seen", StreamSpecification()));
      ASSERT_OK(BindFunction(db.get()));
      EventSourceMappingConfiguration m, created;
      m.function_name = "rec";
      m.event_source = "src";
      m.batch_size = 1 + static_cast<uint32_t>(rng() % 50);
      m.starting_position = StartingPosition::kTrimHorizon;
      ASSERT_OK(db->triggers()->CreateEventSourceMapping(m, &created));
      uuid = created.uuid;
      ASSERT_OK(db->Close());
    }
    Options run = options;
    run.run_triggers = true;
    std::unique_ptr<DB> db;
    Status s = DB::Open(run, dir, &db);
    ASSERT_TRUE(s.ok()) << "iteration " << it << ": " << s.ToString();
    ASSERT_OK(BindFunction(db.get()));
    if (drain) {
      s = db->triggers()->WaitUntilIdle(std::chrono::milliseconds(30000));
      EXPECT_TRUE(s.ok()) << s.ToString();
      ASSERT_OK(db->Close());
    } else {
      // The writer, and the cut.
      const int sync_pct = static_cast<int>(rng() % 3) * 40 + 10;
      const int budget = 100 + static_cast<int>(rng() % 400);
      const bool by_ops = rng() % 2 == 0;
      if (by_ops) env.CrashAfter(static_cast<int64_t>(rng() % 2000));
      std::mt19937_64 wrng(rng());
      std::vector<Acked> mine;
      std::thread writer([&] {
        for (int i = 0; i < budget; ++i) {
          Acked a;
          a.key = "k" + std::to_string(++key_counter);
          a.value = std::string(1 + wrng() % 200, static_cast<char>('a' + wrng() % 26));
          a.sync = static_cast<int>(wrng() % 100) < sync_pct;
          WriteOptions w;
          w.sync = a.sync;
          if (!db->Put(w, "src", a.key, a.value).ok()) break;  // the power is out
          mine.push_back(a);
        }
      });
      if (!by_ops) {
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 100));
        env.SetCrashed(true);
      }
      writer.join();
      // Let the runtime work on what was written, then cut.
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
      env.SetCrashed(true);
      db.reset();
      const DropMode modes[3] = {DropMode::kDropAll, DropMode::kKeepRandomPrefix,
                                 DropMode::kZeroFillTail};
      env.CrashAfter(-1);
      const leveldb::Status ds = env.DropUnsyncedData(nullptr, modes[rng() % 3], rng());
      ASSERT_TRUE(ds.ok()) << ds.ToString();
      env.SetCrashed(false);
      ++cuts;
      for (const Acked& a : mine) {
        acked.push_back(a);
        sync_acked += a.sync;
      }
    }
    std::unique_ptr<DB> check;
    s = DB::Open(options, dir, &check);
    ASSERT_TRUE(s.ok()) << "reopen after iteration " << it << ": " << s.ToString();
    const Check c = CheckDb(check.get(), acked, uuid, drain, &violations);
    src_records += c.src_records;
    checked_below += c.below_checkpoint;
    ASSERT_OK(check->Close());
    for (const std::string& v : violations) ADD_FAILURE() << "iteration " << it << ": " << v;
    total_violations += violations.size();
  }
  std::printf("trigger power-loss test: %llu iterations, %zu power cuts, %zu sync-acknowledged "
              "puts, %zu src records checked (%zu below a checkpoint), %zu violations\n",
              static_cast<unsigned long long>(iterations), cuts, sync_acked, src_records,
              checked_below, total_violations);
}

}  // namespace
}  // namespace runnel::test
