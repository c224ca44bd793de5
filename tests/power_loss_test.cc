// Copyright 2026 The runnel Authors.
//
// Power-loss test: writer threads run a random workload (puts, deletes,
// multi-table batches; sync=true and sync=false mixed) against a DB whose
// Env is a FaultInjectionEnv (tests/fault_env.h), with a 64 KiB LevelDB write
// buffer and 64 KiB log segments so that the index flushes and compacts and
// the log rotates during the run. At a random point the power is cut: the env
// crashes (by itself after a random number of file operations, or when the
// main thread says so, or once the writers are done), the DB object is
// abandoned, what was not fsynced is dropped (all of it; or all but a prefix
// torn at a random byte; or a prefix followed by zeros), and the DB is
// reopened.
// Sometimes the power is cut again in the middle of that recovery.
//
// Checks after each power cut:
//  * reopen succeeds; the durable index is a prefix of the durable log:
//    recovery_report().index_sequence <= the last sequence of the log as
//    found on disk (parsed independently before reopening), and
//    LastSequence() equals that last sequence;
//  * every write acknowledged with sync=true survived: LastSequence() is at
//    least the last sequence of every sync-acknowledged write;
//  * the log is a prefix of the commit order: every acknowledged write whose
//    sequences are <= LastSequence() is in the change stream at the sequence
//    numbers its CommitInfo named, with its keys and new images; no batch is
//    cut in two; any other new record belongs to a write that was in flight
//    (it failed) and then holds that whole write;
//  * the tables equal the state before the iteration plus exactly those
//    writes, applied in sequence order;
//  * replaying all change records from sequence 1 reproduces every table's
//    Scan; DescribeTable's statistics match; recovery_report() is sane;
//  * every segment but the newest opens with a catalog snapshot frame.
//
// Environment: RUNNEL_POWER_LOSS_ITERATIONS (default 30), RUNNEL_POWER_LOSS_SEED
// (default random; printed).

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cdc/env_util.h"
#include "runnel/db.h"
#include "tests/campaign.h"
#include "tests/fault_env.h"
#include "tests/testutil.h"

namespace runnel::test {
namespace {

// The coverage counters of RandomPowerCuts (CampaignReport::Covered) are
// asserted from this many iterations on (the default is 30). The rare ones
// are steered (each drop mode, a cut during recovery, an unsynced tail:
// see the loop); of the others, measured in runs of 5 iterations, torn
// tails were missing from one run in 30, and writes failing at the cut,
// replayed logs and durable index progress from none.
constexpr uint64_t kMinIterations = 20;

const char* const kTables[2] = {"power_a", "power_b"};

struct Write {
  int tid = 0;
  uint64_t wid = 0;
  std::vector<Op> ops;
  bool sync = false;
  bool ok = false;
  Status status;
  uint64_t first = 0;  // CommitInfo, or where the records were found
  uint32_t count = 0;
  uint64_t last() const { return first + count - 1; }
};

std::string MakeValue(std::mt19937_64& rng, int tid, uint64_t wid) {
  std::string v = "p" + std::to_string(tid) + "." + std::to_string(wid) + ".";
  const uint64_t r = rng() % 100;
  const size_t len = r < 2 ? 5000 + rng() % 15000 : rng() % 1500;
  v.append(len, static_cast<char>('a' + rng() % 26));
  return v;
}

void WriterThread(DB* db, int tid, uint64_t seed, int budget, int sync_pct,
                  std::vector<Write>* out) {
  std::mt19937_64 rng(seed);
  for (int n = 0; n < budget; ++n) {
    Write w;
    w.tid = tid;
    w.wid = static_cast<uint64_t>(n);
    WriteBatch batch;
    const uint64_t kind = rng() % 100;
    const int nops = kind < 65 ? 1 : 2 + static_cast<int>(rng() % 5);
    std::set<std::pair<int, int>> used;
    for (int i = 0; i < nops; ++i) {
      const int t = static_cast<int>(rng() % 2);
      const int k = static_cast<int>(rng() % 48);
      if (!used.insert({t, k}).second) continue;
      Op op;
      op.table = kTables[t];
      op.key = "t" + std::to_string(tid) + "k" + std::to_string(k);
      op.del = nops == 1 ? kind >= 50 : rng() % 4 == 0;
      if (op.del) {
        batch.Delete(op.table, op.key);
      } else {
        op.value = MakeValue(rng, tid, w.wid);
        batch.Put(op.table, op.key, op.value);
      }
      w.ops.push_back(std::move(op));
    }
    WriteOptions wo;
    wo.sync = static_cast<int>(rng() % 100) < sync_pct;
    w.sync = wo.sync;
    CommitInfo info;
    w.status = db->Write(wo, batch, &info);
    w.ok = w.status.ok();
    w.first = info.first_sequence;
    w.count = info.record_count;
    const bool stop = !w.ok;
    out->push_back(std::move(w));
    if (stop) return;  // the DB refuses writes from now on
  }
}

struct Totals {
  uint64_t iterations = 0;
  uint64_t acked = 0, acked_sync = 0;
  uint64_t acked_lost = 0;  // sync=false writes dropped by the power cut
  uint64_t failed_writes = 0, failed_in_log = 0;
  uint64_t dropped_bytes = 0;
  uint64_t torn_tails = 0;
  uint64_t crashes_in_recovery = 0;
  uint64_t max_segments = 0;
  uint64_t index_behind = 0;  // reopen had to replay the log
  uint64_t env_syncs = 0;
  uint64_t index_tables = 0;      // LevelDB tables found at the power cuts
  uint64_t index_durable = 0;     // reopens whose index had durable progress
  uint64_t index_torn_tails = 0;  // torn MANIFEST records cut by a reopen
  uint64_t drop_modes[3] = {0, 0, 0};
};

Options MakeOptions(Env* env) {
  Options o = CampaignOptions();
  o.env = env;
  return o;
}

TEST(PowerLossTest, RandomPowerCuts) {
  const CampaignSize size =
      StartCampaign("power-loss test", "iterations", "RUNNEL_POWER_LOSS_ITERATIONS", 30,
                    "RUNNEL_POWER_LOSS_SEED");
  const uint64_t iterations = size.runs, seed = size.seed;
  std::mt19937_64 rng(seed);
  TempDir tmp;
  FaultInjectionEnv env;
  env.SetSkipRealSync(true);  // durability is simulated by the env
  LevelDBEnvAdapter env_handle(&env);
  const Options options = MakeOptions(&env_handle);
  Totals totals;
  uint64_t iteration = 0;
  Violations v;
  CampaignReport report("power-loss test", "iterations");

  std::string dir;
  State state;
  bool created = false;
  std::set<std::string> preamble_reported;
  for (iteration = 0; iteration < iterations; ++iteration) {
    if (iteration % 5 == 0) {
      dir = tmp.Sub("db" + std::to_string(iteration));
      state.clear();
      created = false;
    }
    v.SetWhere("iteration " + std::to_string(iteration));
    const size_t violations_before = v.count();
    std::unique_ptr<DB> db;
    Status s = DB::Open(options, dir, &db);
    if (!s.ok()) {
      v.Add("open after a clean close failed: " + s.ToString());
      break;
    }
    if (!created) {
      s = db->CreateTable(kTables[0], Stream(StreamViewType::kNewAndOldImages));
      if (s.ok()) s = db->CreateTable(kTables[1], Stream(StreamViewType::kNewImage));
      if (!s.ok()) {
        v.Add("create tables: " + s.ToString());
        break;
      }
      created = true;
    }
    const uint64_t base_seq = db->LastSequence();  // durable (Close/CreateTable)

    // The workload and the power cut.
    const int threads = 1 + static_cast<int>(rng() % 3);
    // Every tenth iteration leaves an unsynced tail for certain: no sync
    // writes, the power cut as soon as the writers are done, every unsynced
    // byte dropped. (At random, 30 iterations lost no acknowledged
    // sync=false write with probability 6e-5: a log rotation syncs what came
    // before it.)
    const bool unsynced_tail = iteration % 10 == 6;
    const uint64_t mode = unsynced_tail ? 8 : rng() % 10;
    std::string how;
    if (mode < 4) {
      const int64_t n = static_cast<int64_t>(rng() % 3000);
      env.CrashAfter(n);
      how = "after " + std::to_string(n) + " file operations";
    } else if (mode < 8) {
      how = "timed";
    } else {
      how = "idle";
    }
    // Mostly sync, half and half, or mostly not: long unsynced tails too.
    const int sync_pct = unsynced_tail ? 0 : static_cast<int>(rng() % 3) * 40 + 10;
    std::vector<std::vector<Write>> writes(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      const int budget = 200 + static_cast<int>(rng() % 500);
      workers.emplace_back(WriterThread, db.get(), t, rng(), budget, sync_pct, &writes[t]);
    }
    if (mode >= 4 && mode < 8) {
      const int ms = static_cast<int>(rng() % 120);
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      env.SetCrashed(true);
      how = "after " + std::to_string(ms) + " ms";
    }
    for (auto& w : workers) w.join();
    if (mode >= 8 && !unsynced_tail) {
      // Let background flushes and compactions run a little, then cut.
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
    }
    env.SetCrashed(true);
    db.reset();  // Close fails: nothing more reaches the disk
    // What the power cut leaves of the unsynced bytes.
    const DropMode drop_modes[4] = {DropMode::kDropAll, DropMode::kDropAll,
                                    DropMode::kKeepRandomPrefix, DropMode::kZeroFillTail};
    // The first iterations take each mode once, so that every run covers all
    // three (at random, 30 iterations miss one with probability 2e-4).
    const DropMode each_mode[3] = {DropMode::kKeepRandomPrefix, DropMode::kZeroFillTail,
                                   DropMode::kDropAll};
    const DropMode drop_mode = iteration < 3   ? each_mode[iteration]
                               : unsynced_tail ? DropMode::kDropAll
                                               : drop_modes[rng() % 4];
    ++totals.drop_modes[static_cast<int>(drop_mode)];
    uint64_t dropped = 0;
    ASSERT_TRUE(env.DropUnsyncedData(&dropped, drop_mode, rng()).ok());
    totals.dropped_bytes += dropped;
    env.SetCrashed(false);

    // Sometimes the power fails again while recovery runs: at random, and in
    // every tenth iteration (at random alone, 30 iterations would have none
    // with probability 1e-3).
    if (rng() % 5 == 0 || iteration % 10 == 3) {
      env.CrashAfter(static_cast<int64_t>(rng() % 60));
      std::unique_ptr<DB> half;
      DB::Open(options, dir, &half).ok();  // may or may not fail
      env.SetCrashed(true);
      half.reset();
      ASSERT_TRUE(env.DropUnsyncedData(nullptr, drop_modes[rng() % 4], rng()).ok());
      env.SetCrashed(false);
      ++totals.crashes_in_recovery;
    }

    for (const std::string& name : ListDir(dir + "/index")) {
      totals.index_tables += name.size() > 4 && name.substr(name.size() - 4) == ".ldb";
    }
    const LogScan scan = ScanLog(dir + "/wal");
    if (!scan.error.empty()) v.Add("log on disk: " + scan.error);
    for (const std::string& seg : scan.preamble_errors) {
      if (preamble_reported.insert(dir + "/" + seg).second) {
        v.Add("log on disk: " + seg +
              " does not open with a catalog snapshot "
              "(cdc/log_format.h: the first frame of every segment); an "
              "earlier recovery in this directory may have cut a torn "
              "preamble back to the bare header and continued the segment");
      }
    }
    totals.max_segments = std::max<uint64_t>(totals.max_segments, scan.segments);

    s = DB::Open(options, dir, &db);
    if (!s.ok()) {
      v.Add("reopen after power loss failed: " + s.ToString());
      break;
    }
    const RecoveryReport& report = db->recovery_report();
    const SequenceNumber L = db->LastSequence();
    if (report.index_sequence > scan.last_seq) {
      v.Add("the durable index (sequence " + std::to_string(report.index_sequence) +
            ") is ahead of the durable log (last sequence " + std::to_string(scan.last_seq) + ")");
    }
    if (L != scan.last_seq) {
      v.Add("LastSequence " + std::to_string(L) + " but the log on disk ends at " +
            std::to_string(scan.last_seq));
    }
    if (report.index_sequence < L) ++totals.index_behind;
    if (report.index_sequence > base_seq) ++totals.index_durable;
    if (!report.skipped.empty()) v.Add("report: skipped ranges");
    if (report.torn_tail) ++totals.torn_tails;
    if (report.index_torn_tail) ++totals.index_torn_tails;
    if (report.replayed_records > L - std::min(L, report.index_sequence)) {
      v.Add("report: more records replayed than sequences after the index");
    }

    // Acknowledged writes and the durable floor.
    uint64_t floor = base_seq;
    std::vector<Write*> included;
    std::map<int, Write*> failed;  // tid -> its last, failed write
    for (auto& tw : writes) {
      for (Write& w : tw) {
        if (!w.ok) {
          failed[w.tid] = &w;
          ++totals.failed_writes;
          continue;
        }
        ++totals.acked;
        if (w.sync) ++totals.acked_sync;
        if (w.count == 0) continue;
        if (w.sync) floor = std::max(floor, w.last());
        if (w.last() <= L) {
          included.push_back(&w);
        } else if (w.first <= L) {
          v.Add("write " + std::to_string(w.tid) + "/" + std::to_string(w.wid) + " (sequences " +
                std::to_string(w.first) + ".." + std::to_string(w.last()) + ") cut in two at " +
                std::to_string(L));
        } else {
          ++totals.acked_lost;
          if (w.sync) {
            v.Add("sync write " + std::to_string(w.tid) + "/" + std::to_string(w.wid) +
                  " (sequences " + std::to_string(w.first) + ".." + std::to_string(w.last()) +
                  ") was acknowledged but lost: the log ends at " + std::to_string(L));
          }
        }
      }
    }
    if (L < floor) {
      v.Add("log ends at " + std::to_string(L) + " but sync writes were acknowledged up to " +
            std::to_string(floor));
    }

    std::vector<Rec> recs;
    s = ReadAll(db.get(), 1, &recs);
    if (!s.ok()) {
      v.Add("ReadAll: " + s.ToString());
    } else {
      std::map<SequenceNumber, const Rec*> by_seq;
      for (const Rec& r : recs) by_seq[r.seq] = &r;
      std::set<SequenceNumber> covered;
      for (Write* w : included) {
        std::string why;
        if (!RecordsMatch(w->first, w->count, w->ops, by_seq, &why)) {
          v.Add("acknowledged write " + std::to_string(w->tid) + "/" + std::to_string(w->wid) +
                " at " + std::to_string(w->first) + ": " + why);
        }
        for (uint32_t i = 0; i < w->count; ++i) covered.insert(w->first + i);
      }
      // New records no acknowledged write explains: in-flight writes.
      std::vector<const Rec*> extra;
      for (const Rec& r : recs) {
        if (r.seq > base_seq && covered.count(r.seq) == 0) extra.push_back(&r);
      }
      size_t i = 0;
      while (i < extra.size()) {
        size_t j = i;
        while (j < extra.size() && !extra[j]->end_of_batch) ++j;
        if (j == extra.size()) --j;
        const uint64_t first = extra[i]->seq;
        const uint32_t count = static_cast<uint32_t>(j - i + 1);
        const std::string& key = extra[i]->key;
        const int owner = key.size() > 1 && key[0] == 't' ? std::atoi(key.c_str() + 1) : -1;
        auto f = failed.find(owner);
        std::string why = "no write of thread " + std::to_string(owner) + " was in flight";
        if (f != failed.end() && f->second->count == 0 &&
            RecordsMatch(first, count, f->second->ops, by_seq, &why)) {
          f->second->first = first;
          f->second->count = count;
          included.push_back(f->second);
          ++totals.failed_in_log;
        } else {
          v.Add("records " + std::to_string(first) + ".." + std::to_string(first + count - 1) +
                " belong to no acknowledged or in-flight write: " + why);
        }
        i = j + 1;
      }

      // The tables: the previous state plus exactly the included writes.
      std::sort(included.begin(), included.end(),
                [](const Write* a, const Write* b) { return a->first < b->first; });
      State expected = state;
      for (Write* w : included) Apply(w->ops, &expected);
      Prune(&expected);
      State actual;
      for (const char* table : kTables) {
        std::vector<std::pair<std::string, std::string>> items;
        s = ScanAll(db.get(), table, &items);
        if (!s.ok()) {
          v.Add(std::string("scan ") + table + ": " + s.ToString());
          continue;
        }
        uint64_t bytes = 0;
        for (auto& [k, val] : items) {
          bytes += k.size() + val.size();
          actual[table].emplace(k, val);
        }
        TableDescription d;
        s = db->DescribeTable(table, &d);
        if (!s.ok() || d.item_count != items.size() || d.table_size_bytes != bytes) {
          v.Add(std::string("describe ") + table + ": " + s.ToString() + " item_count " +
                std::to_string(d.item_count) + " size " + std::to_string(d.table_size_bytes) +
                ", table has " + std::to_string(items.size()) + " items of " +
                std::to_string(bytes) + " bytes");
        }
      }
      Prune(&actual);
      if (actual != expected) {
        v.Add("tables differ from the acknowledged prefix of the log (" +
              std::to_string(included.size()) + " writes up to sequence " + std::to_string(L) +
              "):" + DiffStates(expected, actual));
      }
      State replayed;
      ReplayRecords(
          recs,
          {{kTables[0], StreamViewType::kNewAndOldImages}, {kTables[1], StreamViewType::kNewImage}},
          &replayed, &v);
      if (replayed != actual) {
        v.Add("replay of the change stream differs from Scan:" + DiffStates(replayed, actual));
      }
      state = actual;
    }
    s = db->Close();
    if (!s.ok()) v.Add("close: " + s.ToString());
    db.reset();
    ++totals.iterations;
    totals.env_syncs = env.syncs();
    if (v.count() > violations_before) {
      std::printf(
          "iteration %llu (power cut %s, %d threads, drop mode %d): "
          "%zu violation(s)\n",
          static_cast<unsigned long long>(iteration), how.c_str(), threads,
          static_cast<int>(drop_mode), v.count() - violations_before);
    }
    if (v.count() > 50) break;
  }

  report.Count("acknowledged writes", totals.acked);
  report.Count("sync", totals.acked_sync);
  report.Covered("sync=false writes lost to power cuts (allowed)", totals.acked_lost,
                 kMinIterations);
  report.Covered("writes failed at the cut", totals.failed_writes, kMinIterations);
  report.Count("of them found in the log", totals.failed_in_log);
  report.Covered("unsynced bytes dropped", totals.dropped_bytes, kMinIterations);
  report.Covered("torn tails cut", totals.torn_tails, kMinIterations);
  report.Covered("reopens replayed the log", totals.index_behind, kMinIterations);
  report.Covered("found index progress made durable by LevelDB flushes", totals.index_durable,
                 kMinIterations);
  report.Count("index tables seen", totals.index_tables);
  report.Count("torn index MANIFEST tails cut", totals.index_torn_tails);
  report.Covered("power cuts during recovery", totals.crashes_in_recovery, kMinIterations);
  report.Count("segments at most", totals.max_segments);
  report.Count("syncs", totals.env_syncs);
  report.Covered("cuts dropping all unsynced data", totals.drop_modes[0], kMinIterations);
  report.Covered("cuts leaving a torn prefix", totals.drop_modes[1], kMinIterations);
  report.Covered("cuts leaving a zero-filled tail", totals.drop_modes[2], kMinIterations);
  report.Finish(totals.iterations, v.count());
  v.Report(seed);
}

// A deterministic case: sync writes survive, the unsynced tail after them
// is really dropped (so the harness is not vacuous), and the DB stays usable.
TEST(PowerLossTest, UnsyncedTailIsDroppedSyncedWritesSurvive) {
  TempDir tmp;
  FaultInjectionEnv env;
  LevelDBEnvAdapter env_handle(&env);
  const Options options = MakeOptions(&env_handle);
  const std::string dir = tmp.Sub("db");
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(options, dir, &db));
  ASSERT_OK(db->CreateTable("power_a", Stream(StreamViewType::kNewAndOldImages)));
  WriteOptions sync, nosync;
  sync.sync = true;
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(db->Put(sync, "power_a", "s" + std::to_string(i), std::string(100, 'a' + i % 26)));
  }
  const SequenceNumber synced_last = db->LastSequence();
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(db->Put(nosync, "power_a", "n" + std::to_string(i), "x"));
  }
  env.SetCrashed(true);
  db.reset();
  uint64_t dropped = 0;
  ASSERT_TRUE(env.DropUnsyncedData(&dropped).ok());
  env.SetCrashed(false);
  EXPECT_GT(dropped, 0u) << "the unsynced writes should have been dropped";

  ASSERT_OK(DB::Open(options, dir, &db));
  EXPECT_EQ(db->LastSequence(), synced_last);
  for (int i = 0; i < 50; ++i) {
    std::string value;
    ASSERT_OK(db->Get(ReadOptions(), "power_a", "s" + std::to_string(i), &value));
    EXPECT_EQ(value, std::string(100, 'a' + i % 26));
    EXPECT_TRUE(db->Get(ReadOptions(), "power_a", "n" + std::to_string(i), &value).IsNotFound());
  }
  ASSERT_OK(db->Put(sync, "power_a", "after", "ok"));
  ASSERT_OK(db->Close());
}

// The power cut lands while LevelDB appends a record to the index's MANIFEST
// (a memtable flush or compaction): the record's header reaches the disk but
// the sector with its payload does not, as a zero-filled tail leaves it
// (DropMode::kZeroFillTail). LevelDB never synced that record, so the edit
// it carried never took effect; but LevelDB's own recovery reads the
// MANIFEST strictly and refuses to open with "checksum mismatch" (the
// failure of long_power_loss_1000_iterations at iteration 897, and
// google/leveldb#160). The DB must reopen with every acknowledged write,
// cutting off the torn record.
TEST(PowerLossTest, TornIndexManifestTailReopens) {
  TempDir tmp;
  FaultInjectionEnv env;
  env.SetSkipRealSync(true);
  LevelDBEnvAdapter env_handle(&env);
  const Options options = MakeOptions(&env_handle);
  const std::string dir = tmp.Sub("db");
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(options, dir, &db));
  ASSERT_OK(db->CreateTable("power_a", Stream(StreamViewType::kNewImage)));
  // The next MANIFEST sync (the first flush's edit) fails: the power is cut
  // between the append and the sync.
  FaultSpec cut;
  cut.op = FileOp::kSync;
  cut.path_contains = "MANIFEST";
  cut.count = -1;
  cut.message = "simulated power loss";
  env.InjectFault(cut);
  WriteOptions sync;
  sync.sync = true;
  std::map<std::string, std::string> acked;
  std::string failed_key;  // a write that failed may or may not be there
  for (int i = 0; i < 2000 && env.faults_triggered() == 0; ++i) {
    const std::string key = "k" + std::to_string(i);
    const std::string value(700, static_cast<char>('a' + i % 26));
    if (!db->Put(sync, "power_a", key, value).ok()) {
      failed_key = key;
      break;
    }
    acked[key] = value;
  }
  // Let the flush reach its MANIFEST sync.
  for (int i = 0; i < 200 && env.faults_triggered() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(env.faults_triggered(), 0) << "no index flush reached its MANIFEST sync";
  env.SetCrashed(true);
  db.reset();
  env.ClearFaults();

  // The MANIFEST ends in the unsynced record.
  std::string manifest;
  uint64_t synced = 0;
  for (const auto& [path, size] : env.SyncedSizes()) {
    if (path.find("/index/MANIFEST-") != std::string::npos && FileSize(path) > size) {
      manifest = path;
      synced = size;
    }
  }
  ASSERT_FALSE(manifest.empty()) << "no MANIFEST with an unsynced tail";
  const std::string written = ReadFile(manifest);
  ASSERT_GT(written.size(), synced + 7);
  uint64_t dropped = 0;
  ASSERT_TRUE(env.DropUnsyncedData(&dropped).ok());
  env.SetCrashed(false);
  // What the cut left: the record's 7-byte header (checksum, length, type)
  // as written, its payload zeros.
  {
    std::string tail = written.substr(synced, 7);
    tail.append(written.size() - synced - 7, '\0');
    std::FILE* f = std::fopen(manifest.c_str(), "ab");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(tail.data(), 1, tail.size(), f), tail.size());
    ASSERT_EQ(std::fclose(f), 0);
  }
  ASSERT_EQ(FileSize(manifest), written.size());

  ASSERT_OK(DB::Open(options, dir, &db));
  const RecoveryReport& report = db->recovery_report();
  EXPECT_TRUE(report.index_torn_tail);
  EXPECT_EQ(report.index_torn_tail_file, manifest.substr(manifest.rfind('/') + 1));
  EXPECT_EQ(report.index_torn_tail_bytes, written.size() - synced);
  for (const auto& [key, value] : acked) {
    std::string got;
    ASSERT_OK(db->Get(ReadOptions(), "power_a", key, &got));
    EXPECT_EQ(got, value) << key;
  }
  std::vector<std::pair<std::string, std::string>> items;
  ASSERT_OK(ScanAll(db.get(), "power_a", &items));
  for (const auto& [key, value] : items) {
    EXPECT_TRUE(acked.count(key) > 0 || key == failed_key) << key << " was never written";
  }
  EXPECT_GE(items.size(), acked.size());
  ASSERT_OK(db->Put(sync, "power_a", "after", "ok"));
  ASSERT_OK(db->Close());
  db.reset();
  // And once more, cleanly.
  ASSERT_OK(DB::Open(options, dir, &db));
  EXPECT_FALSE(db->recovery_report().index_torn_tail);
  std::string got;
  ASSERT_OK(db->Get(ReadOptions(), "power_a", "after", &got));
  ASSERT_OK(db->Close());
}

}  // namespace
}  // namespace runnel::test
