// Copyright 2026 The runnel Authors.
//
// Trigger crash test: trigger write-backs are exactly-once under SIGKILL of
// the process that runs the trigger runtime.
//
// Each trial uses a fresh directory. A child process
// (tests/trigger_crash_host.cc) opens the DB with Options::run_triggers,
// sets up tables "src" (NEW_IMAGE stream) and "Seen", the function "rec"
// (the test_function plugin with TARGET=Seen: one item per record, keyed by
// the record's 20-digit sequence number, value "<event> <key> <new image>")
// and a mapping src -> rec with a random batch size (1..50), then writes
// unique keys to "src" with sync=true while the runtime delivers batches and
// the handler writes back. The parent SIGKILLs it at a random moment,
// several times, restarting it on the same directory, and finally runs it
// in drain mode: it writes nothing, waits (WaitUntilIdle) until the mapping
// has caught up and exits cleanly.
//
// After every kill the parent opens the DB itself (run_triggers = false) and
// checks, with P the mapping's durable checkpoint (GetMappingMetrics):
//
//  (a) the src change stream holds only announced puts, each once, as
//      INSERTs with the written value; every acknowledged write is there at
//      the sequence numbers its CommitInfo named;
//  (b) every item of Seen is keyed by the sequence number of a src record
//      and its value is exactly that record's "INSERT <key> <new image>";
//  (c) Seen holds an item for EXACTLY the src records below P: none missing
//      (a record the checkpoint passed was not skipped) and none at or
//      above P (no write-back was committed without its checkpoint) — the
//      write-backs and the checkpoint are one atomic commit;
//  (d) P never moves backwards; the function and exactly one mapping (the
//      same UUID) survive; DescribeTable(Seen).item_count matches.
//
// After the drain, additionally: P is past the last src record (so Seen has
// exactly one item per src record), WaitUntilIdle and Close returned OK, and
// the mapping's LastProcessingResult is "OK" if any record was to be
// delivered.
//
// Delivery is at least once: a batch invoked before a kill but not committed
// is invoked again after the restart. The plugin counts invocations in a
// file (COUNT_FILE); the records delivered beyond one per record are printed
// as "redeliveries" to show that the interesting case happened.
//
// Every other trial's mapping has a filter (FilterCriteria: keys ending in
// 3 or 7). There "the src records" in (b)-(c) and the drain checks are the
// matching ones: Seen holds exactly the matching records below P, each once,
// and nothing of the others (never delivered, and P moved past them).
//
// TriggerCrashTest.FourLanesWriteBacksAreExactlyOnceUnderSigkill runs the
// same campaign with a mapping of ParallelizationFactor 4 (filtered every
// other trial too). The durable checkpoint then holds each lane's position
// L (lane = XXH3-64 of the key mod 4) and P is their minimum: (c) holds per
// lane — Seen holds an item for exactly the records of each lane below its
// L — and no lane's L moves backwards.
//
// Environment: RUNNEL_TRIGGER_CRASH_TRIALS (default 30),
// RUNNEL_TRIGGER_CRASH_LANES_TRIALS (default 6), RUNNEL_TRIGGER_CRASH_SEED
// (default random; printed).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "runnel/db.h"
#include "runnel/triggers.h"
#include "tests/campaign.h"
#include "tests/child_process.h"
#include "tests/testutil.h"
#include "tests/view_check.h"

#ifndef TRIGGER_HOST_PATH
#error "TRIGGER_HOST_PATH must name the trigger_crash_host binary"
#endif
#ifndef TEST_FUNCTION
#error "TEST_FUNCTION must name the test_function plugin"
#endif
#ifndef MATERIALIZED_VIEW
#error "MATERIALIZED_VIEW must name the examples/materialized_view plugin"
#endif

namespace runnel::test {
namespace {

// The coverage counters (CampaignReport::Covered) are asserted from this many
// trials on (the default is 30). Measured in 8 runs of 30 trials (random
// seeds, on a loaded 2-core machine): 119-147 kills, 18-36 of them before
// the host was ready, 112-124 with a backlog of unprocessed records, 76-97
// writes in flight at a kill, and a redelivery in 20-27 of the 30 trials;
// 20 trials without any one of these is practically impossible.
constexpr uint64_t kMinTrials = 20;

// The lanes of trigger_crash_host's "lanes" mapping.
constexpr uint32_t kLanes = 4;

// The filter of trigger_crash_host's kFilter.
bool FilterMatches(const std::string& key) {
  return !key.empty() && (key.back() == '3' || key.back() == '7');
}

struct Write {
  uint64_t wid = 0;
  std::vector<std::pair<std::string, std::string>> puts;  // key, value
};

struct Acked {
  Write write;
  uint64_t first_seq = 0;
  uint32_t count = 0;
};

// One run of the host, as read from its pipe.
struct HostRun : ChildRunBase {
  std::string mapping_uuid;
  uint32_t mapping_batch = 0;
  std::optional<Write> pending;  // announced, not acknowledged
  std::vector<Write> announced;
  std::vector<Acked> acked;
  std::string idle_status, close_status;
};

// The host's lines M, B, A, I and C.
bool HandleLine(const std::string& tag, std::istringstream& in, const std::string& line,
                HostRun* run) {
  if (tag == "M") {
    if (!(in >> run->mapping_uuid >> run->mapping_batch)) run->BadLine(line);
  } else if (tag == "B") {
    Write w;
    int n = 0;
    if (!(in >> w.wid >> n)) {
      run->BadLine(line);
      return true;
    }
    for (int i = 0; i < n; ++i) {
      std::string tok;
      const size_t colon = (in >> tok) ? tok.find(':') : std::string::npos;
      if (colon == std::string::npos) {
        run->BadLine(line);
        return true;
      }
      w.puts.emplace_back(tok.substr(0, colon), tok.substr(colon + 1));
    }
    if (run->pending) run->protocol_errors.push_back("two writes in flight");
    run->announced.push_back(w);
    run->pending = std::move(w);
  } else if (tag == "A") {
    Acked a;
    uint64_t wid = 0;
    if (!(in >> wid >> a.first_seq >> a.count)) {
      run->BadLine(line);
      return true;
    }
    if (!run->pending || run->pending->wid != wid) {
      run->protocol_errors.push_back("acknowledgement of an unannounced write " +
                                     std::to_string(wid));
      return true;
    }
    a.write = std::move(*run->pending);
    run->pending.reset();
    run->acked.push_back(std::move(a));
  } else if (tag == "I") {
    run->idle_status = line.substr(2);
  } else if (tag == "C") {
    run->close_status = line.substr(2);
  } else {
    return false;
  }
  return true;
}

struct Totals {
  uint64_t trials = 0;
  uint64_t kills = 0;
  uint64_t kills_before_ready = 0;
  uint64_t acked_writes = 0;
  uint64_t inflight = 0;
  uint64_t inflight_applied = 0;
  uint64_t records_checked = 0;     // src records checked after the drains
  uint64_t checkpoint_checks = 0;   // intermediate (after-kill) verifications
  uint64_t kills_with_backlog = 0;  // ... with records not yet processed
  uint64_t backlog_records = 0;
  uint64_t delivered = 0;  // records handed to the function
  // Delivered beyond once per record. A lower bound: the plugin counts a
  // batch after its SLEEP_MS, so a kill during the sleep is not counted.
  uint64_t redelivered = 0;
  uint64_t trials_with_redelivery = 0;
  uint64_t filtered_trials = 0;
  uint64_t filtered_out = 0;  // src records of the drained filtered trials not matched
  uint64_t uneven_kills = 0;  // lanes: kills after which the lanes' positions differed
};

// What the parent knows about one directory (one trial).
struct TrialState {
  std::map<std::string, std::string> announced;  // key -> value
  std::vector<Acked> acked;
  std::string mapping_uuid;
  uint64_t last_position = 0;
  bool filtered = false;             // the mapping has kFilter
  bool lanes = false;                // the mapping has kLanes lanes
  std::vector<uint64_t> last_lanes;  // their positions at the last check
};

// Opens the DB without the runtime and checks (a)-(d); after the drain also
// that everything was processed. Returns the number of src records.
struct Verified {
  uint64_t src_records = 0;
  uint64_t matching = 0;     // of them, those the mapping delivers
  uint64_t unprocessed = 0;  // src records at or above the checkpoint
  bool inflight_applied = false;
  bool uneven_lanes = false;  // the checkpoint's lanes were at different positions
};

// `pending` is the write in flight at the kill, if any: it must be applied
// whole or not at all.
Verified Verify(const std::string& dir, TrialState* ts, bool final_check, const Write* pending,
                Violations* v) {
  Verified out;
  std::unique_ptr<DB> db;
  Status s = DB::Open(CampaignOptions(), dir, &db);
  if (!s.ok()) {
    v->Add("reopen failed: " + s.ToString());
    return out;
  }

  // (a) The src stream.
  std::vector<Rec> recs;
  s = ReadAll(db.get(), 1, &recs);
  if (!s.ok()) v->Add("ReadAll: " + s.ToString());
  std::map<SequenceNumber, const Rec*> by_seq;
  std::set<std::string> keys;
  for (const Rec& r : recs) {
    const std::string where =
        "record " + std::to_string(r.seq) + " (" + r.table + "/" + r.key + ")";
    if (!by_seq.empty() && r.seq <= by_seq.rbegin()->first) {
      v->Add(where + ": sequence not increasing");
    }
    by_seq[r.seq] = &r;
    if (r.table != "src") {
      v->Add(where + ": a record of an unexpected table");
      continue;
    }
    if (r.event != EventName::kInsert || !r.has_new || r.has_old) {
      v->Add(where + ": not an INSERT with a new image only");
    }
    if (!keys.insert(r.key).second) v->Add(where + ": key written twice");
    auto a = ts->announced.find(r.key);
    if (a == ts->announced.end()) {
      v->Add(where + ": key was never announced");
    } else if (a->second != r.new_image) {
      v->Add(where + ": new image " + Short(r.new_image) + ", wrote " + Short(a->second));
    }
  }
  for (const Acked& a : ts->acked) {
    if (a.count != a.write.puts.size()) {
      v->Add("write with " + std::to_string(a.write.puts.size()) + " puts acknowledged with " +
             std::to_string(a.count) + " records");
      continue;
    }
    for (uint32_t i = 0; i < a.count; ++i) {
      const auto& [key, value] = a.write.puts[i];
      auto it = by_seq.find(a.first_seq + i);
      if (it == by_seq.end()) {
        v->Add("acknowledged put " + key + " (sequence " + std::to_string(a.first_seq + i) +
               ") missing from src");
      } else if (it->second->key != key || it->second->new_image != value) {
        v->Add("sequence " + std::to_string(a.first_seq + i) + " holds " + it->second->key +
               ", acknowledged for " + key);
      }
    }
    std::string got;
    if (!a.write.puts.empty()) {
      s = db->Get(ReadOptions(), "src", a.write.puts[0].first, &got);
      if (!s.ok() || got != a.write.puts[0].second) {
        v->Add("Get(src, " + a.write.puts[0].first + "): " + s.ToString() + " " + Short(got));
      }
    }
  }

  if (pending != nullptr) {
    size_t present = 0;
    for (const auto& [k, val] : pending->puts) present += keys.count(k);
    out.inflight_applied = present == pending->puts.size();
    if (present != 0 && present != pending->puts.size()) {
      v->Add("the write in flight at the kill is partly applied (" + std::to_string(present) +
             " of " + std::to_string(pending->puts.size()) + " puts)");
    }
  }

  // (b) Seen.
  std::vector<std::pair<std::string, std::string>> seen;
  s = ScanAll(db.get(), "Seen", &seen);
  const bool have_seen = s.ok();
  if (!s.ok() && !(s.IsNotFound() && ts->mapping_uuid.empty())) {
    v->Add("scan Seen: " + s.ToString());
  }
  std::map<uint64_t, std::string> want;  // checked with the checkpoint, below
  for (const Rec& r : recs) {
    if (!ts->filtered || FilterMatches(r.key)) {
      want[r.seq] = "INSERT " + r.key + " " + r.new_image;
    }
  }
  if (have_seen) {
    TableDescription d;
    s = db->DescribeTable("Seen", &d);
    if (!s.ok() || d.item_count != seen.size()) {
      v->Add("DescribeTable(Seen): " + s.ToString() + ", item_count " +
             std::to_string(d.item_count) + ", scan has " + std::to_string(seen.size()));
    }
  }

  // (c), (d) The checkpoint and the mapping.
  Triggers* t = db->triggers();
  std::vector<EventSourceMappingConfiguration> mappings;
  s = t->ListEventSourceMappings("", "", "", 0, &mappings, nullptr);
  if (!s.ok()) v->Add("ListEventSourceMappings: " + s.ToString());
  if (!ts->mapping_uuid.empty()) {
    FunctionConfiguration fn;
    s = t->GetFunction("rec", &fn);
    if (!s.ok()) {
      v->Add("GetFunction(rec): " + s.ToString());
    } else if (fn.environment["TARGET"] != "Seen") {
      v->Add("the function's environment lost TARGET=Seen");
    }
    if (mappings.size() != 1 || mappings[0].uuid != ts->mapping_uuid) {
      v->Add(std::to_string(mappings.size()) + " mappings; expected only " + ts->mapping_uuid);
    } else if (mappings[0].filter_patterns.size() != (ts->filtered ? 1u : 0u)) {
      v->Add("the mapping has " + std::to_string(mappings[0].filter_patterns.size()) + " filters");
    }
  } else if (mappings.size() > 1) {
    v->Add(std::to_string(mappings.size()) + " mappings");
  }
  // A mapping may exist that the host did not live to report (killed between
  // the commit and the M line); its checkpoint counts all the same.
  if (mappings.size() == 1) {
    const EventSourceMappingConfiguration& m = mappings[0];
    const WriteBackCheck c =
        ts->lanes ? CheckLaneWriteBacks(db.get(), m.uuid, kLanes, recs, want, seen,
                                        &ts->last_position, &ts->last_lanes, &out.uneven_lanes, v)
                  : CheckWriteBacks(db.get(), m.uuid, want, seen, &ts->last_position, v);
    const uint64_t p = c.position;
    out.unprocessed = c.unprocessed;
    if (final_check) {
      if (!recs.empty() && p <= recs.back().seq) {
        v->Add("after the drain the checkpoint " + std::to_string(p) +
               " has not passed the last src record " + std::to_string(recs.back().seq));
      }
      if (seen.size() != want.size()) {
        v->Add("after the drain Seen has " + std::to_string(seen.size()) + " items for " +
               std::to_string(want.size()) + " src records to deliver (of " +
               std::to_string(recs.size()) + ")");
      }
      // (A trial whose every record was filtered out invoked nothing: its
      // mapping says "No records processed", as the cloud's does.)
      if (!want.empty() && m.last_processing_result != "OK") {
        v->Add("LastProcessingResult is '" + m.last_processing_result + "'");
      }
    }
  } else if (!seen.empty()) {
    v->Add("Seen has " + std::to_string(seen.size()) + " items but there is no mapping");
  } else if (final_check) {
    v->Add("no mapping after the drain");
  }

  s = db->Close();
  if (!s.ok()) v->Add("close: " + s.ToString());
  out.src_records = recs.size();
  out.matching = want.size();
  return out;
}

// Sum of the batch sizes the plugin logged (one line per invocation).
uint64_t DeliveredRecords(const std::string& path) {
  std::ifstream in(path);
  uint64_t total = 0, n = 0;
  while (in >> n) total += n;
  return total;
}

// The campaign; `lanes`: its mapping has kLanes lanes.
void RunCampaign(const CampaignSize& size, const char* name, bool lanes) {
  const uint64_t trials = size.runs, seed = size.seed;
  std::mt19937_64 rng(seed);
  TempDir tmp;
  const std::string stderr_path = tmp.Sub("host_stderr.txt");
  Totals totals;
  Violations v;
  CampaignReport report(name, "trials");

  for (uint64_t trial = 0; trial < trials; ++trial) {
    const std::string dir = tmp.Sub("db" + std::to_string(trial));
    const std::string count_file = dir + ".count";
    TrialState ts;
    ts.filtered = trial % 2 == 1;
    ts.lanes = lanes;
    const uint32_t batch_size = 1 + static_cast<uint32_t>(rng() % 50);
    const int sleep_choices[5] = {0, 0, 1, 2, 5};
    const int sleep_ms = sleep_choices[rng() % 5];
    const int kills = 3 + static_cast<int>(rng() % 4);
    const size_t violations_before = v.count();
    bool stop = false;
    uint64_t src_records = 0, matching = 0;

    for (int run_no = 0; run_no <= kills && !stop; ++run_no) {
      const bool drain = run_no == kills;
      v.SetWhere("trial " + std::to_string(trial) + " " +
                 (drain ? std::string("drain") : "run " + std::to_string(run_no)));
      KillSchedule sched;
      sched.drain = drain;
      if (!drain) {
        // Some kills land while the host opens (recovery), sets up, or
        // restarts the mapping; most while it writes and the handler runs.
        // On a quiet machine the host can be ready within 5 ms, so a few
        // runs (the second of every eighth trial: there is a log to
        // recover) are killed within 3 ms of the spawn, so that kills before
        // the host is ready happen on every machine.
        if (trial % 8 == 3 && run_no == 1) {
          sched.early_kill_ms = static_cast<int>(rng() % 4);
        } else if (rng() % 5 == 0) {
          sched.early_kill_ms = 5 + static_cast<int>(rng() % 56);
        } else {
          sched.after_ready_ms = 5 + static_cast<int>(rng() % 296);
        }
      }
      HostRun run;
      std::vector<std::string> argv = {TRIGGER_HOST_PATH,          dir,
                                       drain ? "drain" : "write",  std::to_string(run_no),
                                       std::to_string(rng()),      TEST_FUNCTION,
                                       std::to_string(batch_size), std::to_string(sleep_ms)};
      if (ts.filtered) argv.push_back("filter");
      if (ts.lanes) argv.push_back("lanes");
      RunCampaignChild(argv, stderr_path, sched, &run,
                       [&run](const std::string& tag, std::istringstream& in,
                              const std::string& line) { return HandleLine(tag, in, line, &run); });
      if (::testing::Test::HasFatalFailure()) return;
      for (const std::string& e : run.protocol_errors) v.Add(e);
      if (run.child_error) {
        v.Add("host error: " + run.error_line + "; stderr: " + ReadFile(stderr_path));
        stop = true;
      }
      if (run.timed_out) {
        v.Add(drain ? "the drain did not finish within 180 s"
                    : "the host did not get ready within 30 s");
        stop = true;
      }
      if (drain) {
        if (!run.exited || WEXITSTATUS(run.exit_status) != 0) {
          v.Add("the drain host did not exit 0 (wait status " + std::to_string(run.exit_status) +
                "); stderr: " + ReadFile(stderr_path));
        }
        if (run.idle_status != "OK") {
          v.Add("WaitUntilIdle: '" + run.idle_status + "'");
        }
        if (run.close_status != "OK") v.Add("Close: '" + run.close_status + "'");
      } else if (!stop) {
        if (!run.killed) {
          v.Add("the host was not killed by us (wait status " + std::to_string(run.exit_status) +
                "); stderr: " + ReadFile(stderr_path));
          stop = true;
        }
        ++totals.kills;
        if (!run.ready) ++totals.kills_before_ready;
      }
      if (!run.mapping_uuid.empty()) {
        if (!ts.mapping_uuid.empty() && ts.mapping_uuid != run.mapping_uuid) {
          v.Add("the mapping changed from " + ts.mapping_uuid + " to " + run.mapping_uuid);
        }
        ts.mapping_uuid = run.mapping_uuid;
        if (run.mapping_batch != batch_size) {
          v.Add("mapping batch size " + std::to_string(run.mapping_batch) + ", created with " +
                std::to_string(batch_size));
        }
      }
      for (const Write& w : run.announced) {
        for (const auto& [k, val] : w.puts) {
          if (!ts.announced.emplace(k, val).second) {
            v.Add("key " + k + " announced twice");
          }
        }
      }
      totals.acked_writes += run.acked.size();
      for (Acked& a : run.acked) ts.acked.push_back(std::move(a));
      if (run.pending) ++totals.inflight;
      if (stop) break;

      const size_t before = v.count();
      const Verified got = Verify(dir, &ts, drain, run.pending ? &*run.pending : nullptr, &v);
      src_records = got.src_records;
      matching = got.matching;
      if (got.inflight_applied) ++totals.inflight_applied;
      if (!drain && got.uneven_lanes) ++totals.uneven_kills;
      if (!drain) {
        ++totals.checkpoint_checks;
        if (got.unprocessed > 0) ++totals.kills_with_backlog;
        totals.backlog_records += got.unprocessed;
      }
      if (v.count() > before) stop = true;
    }
    ++totals.trials;
    totals.records_checked += src_records;
    if (ts.filtered) {
      ++totals.filtered_trials;
      totals.filtered_out += src_records - matching;
    }
    const uint64_t delivered = DeliveredRecords(count_file);
    totals.delivered += delivered;
    if (delivered > matching) {
      totals.redelivered += delivered - matching;
      ++totals.trials_with_redelivery;
    }
    if (v.count() > violations_before) {
      std::printf(
          "trial %llu: %zu violation(s); batch size %u, SLEEP_MS %d, %d "
          "kills, %llu src records\n",
          static_cast<unsigned long long>(trial), v.count() - violations_before, batch_size,
          sleep_ms, kills, static_cast<unsigned long long>(src_records));
    }
    if (v.count() > 50) break;
  }

  report.Covered("kills", totals.kills, kMinTrials);
  report.Covered("before the host was ready", totals.kills_before_ready, kMinTrials);
  report.Count("after-kill checkpoint checks", totals.checkpoint_checks);
  report.Covered("with a backlog of unprocessed records", totals.kills_with_backlog, kMinTrials);
  report.Count("backlog records in all", totals.backlog_records);
  report.Count("acknowledged writes", totals.acked_writes);
  report.Covered("writes in flight at a kill", totals.inflight, kMinTrials);
  report.Count("of them applied", totals.inflight_applied);
  report.Count("src records checked after the drains", totals.records_checked);
  report.Count("records delivered to the function", totals.delivered);
  report.Covered("records redelivered (at least)", totals.redelivered, kMinTrials);
  report.Count("trials with a redelivery", totals.trials_with_redelivery);
  report.Count("trials with a filter", totals.filtered_trials);
  report.Covered("src records filtered out (never delivered)", totals.filtered_out, kMinTrials);
  if (lanes) {
    report.Covered("kills with the lanes at different positions", totals.uneven_kills, kMinTrials);
  }
  report.Finish(totals.trials, v.count());
  v.Report(seed);
}

// --- The materialized view under SIGKILL (examples/materialized_view).

// One run of the host in view mode, as read from its pipe.
struct ViewRun : ChildRunBase {
  std::string mapping_uuid;
  uint32_t mapping_batch = 0;
  uint64_t acked = 0;  // acknowledged writes ("W")
  std::string idle_status, close_status;
};

bool HandleViewLine(const std::string& tag, std::istringstream& in, const std::string& line,
                    ViewRun* run) {
  if (tag == "M") {
    if (!(in >> run->mapping_uuid >> run->mapping_batch)) run->BadLine(line);
  } else if (tag == "W") {
    ++run->acked;
  } else if (tag == "I") {
    run->idle_status = line.substr(2);
  } else if (tag == "C") {
    run->close_status = line.substr(2);
  } else {
    return false;
  }
  return true;
}

struct ViewTotalsCounters {
  uint64_t trials = 0, kills = 0, kills_before_ready = 0, acked_writes = 0;
  uint64_t checks_at_checkpoint = 0, checks_caught_up = 0;
  uint64_t kills_with_backlog = 0, backlog_records = 0;
  uint64_t records = 0;  // orders records at the end of the trials
  // Records the function applied, as its log says (lines buffered at a
  // kill are lost: this is not a count of redeliveries).
  uint64_t delivered = 0;
  uint64_t trial_records = 0, trial_groups = 0;  // of the trial's last catch-up
  uint64_t nonempty_views = 0;
};

// The one mapping of the DB, if any (a violation if there are more).
std::optional<EventSourceMappingConfiguration> TheMapping(DB* db, Violations* v) {
  std::vector<EventSourceMappingConfiguration> mappings;
  const Status s = db->triggers()->ListEventSourceMappings("", "", "", 0, &mappings, nullptr);
  if (!s.ok()) v->Add("ListEventSourceMappings: " + s.ToString());
  if (mappings.size() > 1) v->Add(std::to_string(mappings.size()) + " mappings");
  if (mappings.size() != 1) return std::nullopt;
  return mappings[0];
}

// Checks the view against the source. `caught_up`: after a drain, the view
// must equal the recomputation from the source table and the checkpoint be
// past every record; otherwise (just after a kill) it must equal the
// recomputation from the records below the durable checkpoint P, which
// must not have moved back. Returns the records at or above P.
uint64_t VerifyView(const std::string& dir, bool caught_up, uint64_t* last_position,
                    ViewTotalsCounters* totals, Violations* v) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(CampaignOptions(), dir, &db);
  if (!s.ok()) {
    v->Add("reopen failed: " + s.ToString());
    return 0;
  }
  uint64_t at_or_above = 0;
  const std::optional<EventSourceMappingConfiguration> m = TheMapping(db.get(), v);
  if (m) {
    MappingMetrics metrics;
    s = db->triggers()->GetMappingMetrics(m->uuid, &metrics);
    if (!s.ok()) v->Add("GetMappingMetrics: " + s.ToString());
    const uint64_t p = metrics.position;
    if (p < *last_position) {
      v->Add("the checkpoint moved back from " + std::to_string(*last_position) + " to " +
             std::to_string(p));
    }
    *last_position = std::max(*last_position, p);
    test::ViewTotals at_checkpoint, from_table, view;
    uint64_t below = 0;
    s = test::ViewBelow(db.get(), "orders", p, &at_checkpoint, &below, &at_or_above);
    if (s.ok()) s = test::ReadView(db.get(), "totals", &view);
    if (!s.ok()) v->Add("reading the view: " + s.ToString());
    std::string diff = test::DiffViews(at_checkpoint, view);
    if (!diff.empty()) {
      v->Add("the view is not that of the " + std::to_string(below) +
             " records below the checkpoint " + std::to_string(p) + ": " + diff);
    }
    if (caught_up) {
      ++totals->checks_caught_up;
      s = test::RecomputeView(db.get(), "orders", &from_table);
      if (!s.ok()) v->Add("RecomputeView: " + s.ToString());
      diff = test::DiffViews(from_table, view);
      if (!diff.empty()) v->Add("after catching up, the view differs from the table: " + diff);
      if (at_or_above != 0) {
        v->Add("after catching up, " + std::to_string(at_or_above) +
               " records are at or above the checkpoint");
      }
      if (below > 0 && m->last_processing_result != "OK") {
        v->Add("LastProcessingResult is '" + m->last_processing_result + "'");
      }
      totals->trial_records = below;
      totals->trial_groups = view.size();
    } else {
      ++totals->checks_at_checkpoint;
    }
  }
  s = db->Close();
  if (!s.ok()) v->Add("close: " + s.ToString());
  return at_or_above;
}

// The records the function applied, from its log ("applied N records").
uint64_t AppliedRecords(const std::string& dir) {
  std::unique_ptr<DB> db;
  if (!DB::Open(CampaignOptions(), dir, &db).ok()) return 0;
  std::vector<FunctionLogLine> lines;
  uint64_t total = 0;
  if (db->triggers()->ReadFunctionLog("view", 0, &lines).ok()) {
    for (const FunctionLogLine& l : lines) {
      const size_t p = l.text.find(" applied ");
      if (p != std::string::npos) total += std::strtoull(l.text.c_str() + p + 9, nullptr, 10);
    }
  }
  (void)db->Close();
  return total;
}

// Runs the host once on `dir` (a write run killed per `sched`, or a drain)
// and checks how it ended. False if the trial cannot go on.
bool RunViewHost(const std::string& dir, const std::string& stderr_path, const KillSchedule& sched,
                 uint32_t batch_size, uint64_t host_seed, std::string* uuid,
                 ViewTotalsCounters* totals, Violations* v) {
  ViewRun run;
  const std::vector<std::string> argv = {TRIGGER_HOST_PATH,
                                         dir,
                                         sched.drain ? "drain" : "write",
                                         "0",
                                         std::to_string(host_seed),
                                         MATERIALIZED_VIEW,
                                         std::to_string(batch_size),
                                         "0",
                                         "view"};
  RunCampaignChild(argv, stderr_path, sched, &run,
                   [&run](const std::string& tag, std::istringstream& in, const std::string& line) {
                     return HandleViewLine(tag, in, line, &run);
                   });
  for (const std::string& e : run.protocol_errors) v->Add(e);
  totals->acked_writes += run.acked;
  if (!run.mapping_uuid.empty()) {
    if (!uuid->empty() && *uuid != run.mapping_uuid) {
      v->Add("the mapping changed from " + *uuid + " to " + run.mapping_uuid);
    }
    *uuid = run.mapping_uuid;
    if (run.mapping_batch != batch_size) v->Add("mapping batch size " + std::to_string(batch_size));
  }
  if (run.child_error || run.timed_out) {
    v->Add(run.child_error ? "host error: " + run.error_line + "; stderr: " + ReadFile(stderr_path)
                           : "the host did not get ready or finish in time");
    return false;
  }
  if (sched.drain) {
    if (!run.exited || WEXITSTATUS(run.exit_status) != 0 || run.idle_status != "OK" ||
        run.close_status != "OK") {
      v->Add("the drain did not end cleanly: wait status " + std::to_string(run.exit_status) +
             ", WaitUntilIdle '" + run.idle_status + "', Close '" + run.close_status +
             "'; stderr: " + ReadFile(stderr_path));
      return false;
    }
    return true;
  }
  if (!run.killed) {
    v->Add("the host was not killed by us (wait status " + std::to_string(run.exit_status) + ")");
    return false;
  }
  ++totals->kills;
  if (!run.ready) ++totals->kills_before_ready;
  return true;
}

// The materialized view (examples/materialized_view: a per-group count and
// sum of "orders" kept in "totals" by read-modify-write) while the host
// puts, updates (moving orders between groups, changing amounts) and
// deletes orders, some in transactions, and is SIGKILLed at random moments.
// After every kill: the view equals the recomputation from the records
// below the mapping's durable checkpoint (the view's write-backs and the
// checkpoint are one commit). Then the host catches up (drain mode) and
// the view equals the recomputation from the orders table itself.
//
// Environment: RUNNEL_TRIGGER_VIEW_CRASH_TRIALS (default 4),
// RUNNEL_TRIGGER_VIEW_CRASH_SEED (default random; printed).
TEST(TriggerCrashTest, MaterializedViewEqualsRecomputationUnderSigkill) {
  const CampaignSize size =
      StartCampaign("trigger view crash test", "trials", "RUNNEL_TRIGGER_VIEW_CRASH_TRIALS", 4,
                    "RUNNEL_TRIGGER_VIEW_CRASH_SEED");
  std::mt19937_64 rng(size.seed);
  TempDir tmp;
  const std::string stderr_path = tmp.Sub("host_stderr.txt");
  ViewTotalsCounters totals;
  Violations v;
  CampaignReport report("trigger view crash test", "trials");
  for (uint64_t trial = 0; trial < size.runs && v.count() <= 50; ++trial) {
    const std::string dir = tmp.Sub("db" + std::to_string(trial));
    const uint32_t batch_size = 1 + static_cast<uint32_t>(rng() % 50);
    const int kills = 3 + static_cast<int>(rng() % 4);
    std::string uuid;
    uint64_t last_position = 0;
    bool ok = true;
    for (int run_no = 0; run_no < kills && ok; ++run_no) {
      v.SetWhere("trial " + std::to_string(trial) + " run " + std::to_string(run_no));
      KillSchedule sched;
      if (trial % 4 == 1 && run_no == 1) {
        sched.early_kill_ms = static_cast<int>(rng() % 4);
      } else if (rng() % 5 == 0) {
        sched.early_kill_ms = 5 + static_cast<int>(rng() % 56);
      } else {
        sched.after_ready_ms = 5 + static_cast<int>(rng() % 296);
      }
      ok = RunViewHost(dir, stderr_path, sched, batch_size, rng(), &uuid, &totals, &v);
      if (HasFatalFailure()) return;
      const size_t before = v.count();
      if (ok) {
        const uint64_t backlog = VerifyView(dir, false, &last_position, &totals, &v);
        totals.backlog_records += backlog;
        if (backlog > 0) ++totals.kills_with_backlog;
      }
      v.SetWhere("trial " + std::to_string(trial) + " catch-up " + std::to_string(run_no));
      KillSchedule drain;
      drain.drain = true;
      if (ok) ok = RunViewHost(dir, stderr_path, drain, batch_size, rng(), &uuid, &totals, &v);
      if (ok) VerifyView(dir, true, &last_position, &totals, &v);
      if (v.count() > before) ok = false;
    }
    ++totals.trials;
    const uint64_t applied = AppliedRecords(dir);
    totals.delivered += applied;
    totals.records += totals.trial_records;
    if (totals.trial_groups > 0) ++totals.nonempty_views;
    totals.trial_records = totals.trial_groups = 0;
  }
  const uint64_t kMinViewTrials = 20;
  report.Covered("kills", totals.kills, 1);
  report.Covered("before the host was ready", totals.kills_before_ready, kMinViewTrials);
  report.Covered("with a backlog of unprocessed records", totals.kills_with_backlog,
                 kMinViewTrials);
  report.Count("backlog records in all", totals.backlog_records);
  report.Count("acknowledged writes", totals.acked_writes);
  report.Count("checks at the checkpoint", totals.checks_at_checkpoint);
  report.Covered("checks after catching up", totals.checks_caught_up, 1);
  report.Count("orders records at the trials' ends", totals.records);
  report.Count("records applied by the function (logged)", totals.delivered);
  report.Covered("trials ending with a non-empty view", totals.nonempty_views, 1);
  report.Finish(totals.trials, v.count());
  v.Report(size.seed);
}

TEST(TriggerCrashTest, WriteBacksAreExactlyOnceUnderSigkill) {
  RunCampaign(StartCampaign("trigger crash test", "trials", "RUNNEL_TRIGGER_CRASH_TRIALS", 30,
                            "RUNNEL_TRIGGER_CRASH_SEED"),
              "trigger crash test", /*lanes=*/false);
}

TEST(TriggerCrashTest, FourLanesWriteBacksAreExactlyOnceUnderSigkill) {
  RunCampaign(StartCampaign("trigger crash test, 4 lanes", "trials",
                            "RUNNEL_TRIGGER_CRASH_LANES_TRIALS", 6, "RUNNEL_TRIGGER_CRASH_SEED"),
              "trigger crash test, 4 lanes", /*lanes=*/true);
}

}  // namespace
}  // namespace runnel::test
