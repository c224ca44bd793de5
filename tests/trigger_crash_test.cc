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
// the mapping's LastProcessingResult is "OK".
//
// Delivery is at least once: a batch invoked before a kill but not committed
// is invoked again after the restart. The plugin counts invocations in a
// file (COUNT_FILE); the records delivered beyond one per record are printed
// as "redeliveries" to show that the interesting case happened.
//
// Environment: RUNNEL_TRIGGER_CRASH_TRIALS (default 30),
// RUNNEL_TRIGGER_CRASH_SEED (default random; printed).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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
#include "tests/child_process.h"
#include "tests/testutil.h"

#ifndef TRIGGER_HOST_PATH
#error "TRIGGER_HOST_PATH must name the trigger_crash_host binary"
#endif
#ifndef TEST_FUNCTION
#error "TEST_FUNCTION must name the test_function plugin"
#endif

namespace runnel::test {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  return std::strtoull(v, nullptr, 10);
}

std::string Short(const std::string& v) {
  if (v.size() <= 48) return "'" + v + "'";
  return "'" + v.substr(0, 40) + "...'(" + std::to_string(v.size()) + " bytes)";
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
struct HostRun {
  bool opened = false;
  bool ready = false;
  std::string mapping_uuid;
  uint32_t mapping_batch = 0;
  std::optional<Write> pending;  // announced, not acknowledged
  std::vector<Write> announced;
  std::vector<Acked> acked;
  std::string idle_status, close_status;
  bool child_error = false;
  std::string error_line;
  std::vector<std::string> protocol_errors;
  int exit_status = 0;
  bool exited = false;     // by itself
  bool killed = false;     // by our SIGKILL
  bool timed_out = false;  // did not get ready / finish in time
};

void HandleLine(const std::string& line, HostRun* run) {
  std::istringstream in(line);
  std::string tag;
  in >> tag;
  if (tag == "O") {
    run->opened = true;
  } else if (tag == "M") {
    if (!(in >> run->mapping_uuid >> run->mapping_batch)) {
      run->protocol_errors.push_back("bad line: " + line.substr(0, 100));
    }
  } else if (tag == "R") {
    run->ready = true;
  } else if (tag == "B") {
    Write w;
    int n = 0;
    if (!(in >> w.wid >> n)) {
      run->protocol_errors.push_back("bad line: " + line.substr(0, 100));
      return;
    }
    for (int i = 0; i < n; ++i) {
      std::string tok;
      const size_t colon = (in >> tok) ? tok.find(':') : std::string::npos;
      if (colon == std::string::npos) {
        run->protocol_errors.push_back("bad line: " + line.substr(0, 100));
        return;
      }
      w.puts.emplace_back(tok.substr(0, colon), tok.substr(colon + 1));
    }
    if (run->pending) {
      run->protocol_errors.push_back("two writes in flight");
    }
    run->announced.push_back(w);
    run->pending = std::move(w);
  } else if (tag == "A") {
    Acked a;
    uint64_t wid = 0;
    if (!(in >> wid >> a.first_seq >> a.count)) {
      run->protocol_errors.push_back("bad line: " + line.substr(0, 100));
      return;
    }
    if (!run->pending || run->pending->wid != wid) {
      run->protocol_errors.push_back("acknowledgement of an unannounced write " +
                                     std::to_string(wid));
      return;
    }
    a.write = std::move(*run->pending);
    run->pending.reset();
    run->acked.push_back(std::move(a));
  } else if (tag == "I") {
    run->idle_status = line.substr(2);
  } else if (tag == "C") {
    run->close_status = line.substr(2);
  } else if (tag == "E") {
    run->child_error = true;
    run->error_line = line;
  } else {
    run->protocol_errors.push_back("unknown line: " + line.substr(0, 100));
  }
}

// How a run ends.
struct Schedule {
  bool drain = false;      // no kill: the host exits by itself
  int early_kill_ms = -1;  // >= 0: kill this long after the spawn
  int after_ready_ms = 0;  // otherwise: this long after R
};

void RunHost(const std::string& dir, uint64_t run_no, uint64_t seed, uint32_t batch_size,
             int sleep_ms, const Schedule& sched, const std::string& stderr_path, HostRun* run) {
  ChildSchedule schedule;
  if (sched.drain) {
    schedule.give_up = std::chrono::seconds(180);
  } else if (sched.early_kill_ms >= 0) {
    schedule.kill_after_start = std::chrono::milliseconds(sched.early_kill_ms);
  } else {
    schedule.kill_after_ready = std::chrono::milliseconds(sched.after_ready_ms);
  }
  const ChildExit e = RunChild(
      {TRIGGER_HOST_PATH, dir, sched.drain ? "drain" : "write", std::to_string(run_no),
       std::to_string(seed), TEST_FUNCTION, std::to_string(batch_size), std::to_string(sleep_ms)},
      stderr_path, schedule, [run](const std::string& line) {
        HandleLine(line, run);
        return run->ready;
      });
  run->timed_out = e.timed_out;
  run->exit_status = e.status;
  run->killed = e.killed;
  run->exited = e.exited;
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
  std::vector<std::string> violations;
};

// What the parent knows about one directory (one trial).
struct TrialState {
  std::map<std::string, std::string> announced;  // key -> value
  std::vector<Acked> acked;
  std::string mapping_uuid;
  uint64_t last_position = 0;
};

class Verifier {
 public:
  Verifier(Totals* totals, uint64_t trial) : totals_(totals), trial_(trial) {}
  void SetRun(const std::string& run) { run_ = run; }
  void Violation(const std::string& what) {
    totals_->violations.push_back("trial " + std::to_string(trial_) + " " + run_ + ": " + what);
  }

 private:
  Totals* totals_;
  uint64_t trial_;
  std::string run_;
};

// Opens the DB without the runtime and checks (a)-(d); after the drain also
// that everything was processed. Returns the number of src records.
struct Verified {
  uint64_t src_records = 0;
  uint64_t unprocessed = 0;  // src records at or above the checkpoint
  bool inflight_applied = false;
};

// `pending` is the write in flight at the kill, if any: it must be applied
// whole or not at all.
Verified Verify(const std::string& dir, TrialState* ts, bool final_check, const Write* pending,
                Verifier* v) {
  Verified out;
  Options options;
  options.segment_bytes = 64 << 10;
  options.write_buffer_bytes = 64 << 10;
  options.run_triggers = false;
  std::unique_ptr<DB> db;
  Status s = DB::Open(options, dir, &db);
  if (!s.ok()) {
    v->Violation("reopen failed: " + s.ToString());
    return out;
  }

  // (a) The src stream.
  std::vector<Rec> recs;
  s = ReadAll(db.get(), 1, &recs);
  if (!s.ok()) v->Violation("ReadAll: " + s.ToString());
  std::map<SequenceNumber, const Rec*> by_seq;
  std::set<std::string> keys;
  for (const Rec& r : recs) {
    const std::string where =
        "record " + std::to_string(r.seq) + " (" + r.table + "/" + r.key + ")";
    if (!by_seq.empty() && r.seq <= by_seq.rbegin()->first) {
      v->Violation(where + ": sequence not increasing");
    }
    by_seq[r.seq] = &r;
    if (r.table != "src") {
      v->Violation(where + ": a record of an unexpected table");
      continue;
    }
    if (r.event != EventName::kInsert || !r.has_new || r.has_old) {
      v->Violation(where + ": not an INSERT with a new image only");
    }
    if (!keys.insert(r.key).second) v->Violation(where + ": key written twice");
    auto a = ts->announced.find(r.key);
    if (a == ts->announced.end()) {
      v->Violation(where + ": key was never announced");
    } else if (a->second != r.new_image) {
      v->Violation(where + ": new image " + Short(r.new_image) + ", wrote " + Short(a->second));
    }
  }
  for (const Acked& a : ts->acked) {
    if (a.count != a.write.puts.size()) {
      v->Violation("write with " + std::to_string(a.write.puts.size()) +
                   " puts acknowledged with " + std::to_string(a.count) + " records");
      continue;
    }
    for (uint32_t i = 0; i < a.count; ++i) {
      const auto& [key, value] = a.write.puts[i];
      auto it = by_seq.find(a.first_seq + i);
      if (it == by_seq.end()) {
        v->Violation("acknowledged put " + key + " (sequence " + std::to_string(a.first_seq + i) +
                     ") missing from src");
      } else if (it->second->key != key || it->second->new_image != value) {
        v->Violation("sequence " + std::to_string(a.first_seq + i) + " holds " + it->second->key +
                     ", acknowledged for " + key);
      }
    }
    std::string got;
    if (!a.write.puts.empty()) {
      s = db->Get("src", a.write.puts[0].first, &got);
      if (!s.ok() || got != a.write.puts[0].second) {
        v->Violation("Get(src, " + a.write.puts[0].first + "): " + s.ToString() + " " + Short(got));
      }
    }
  }

  if (pending != nullptr) {
    size_t present = 0;
    for (const auto& [k, val] : pending->puts) present += keys.count(k);
    out.inflight_applied = present == pending->puts.size();
    if (present != 0 && present != pending->puts.size()) {
      v->Violation("the write in flight at the kill is partly applied (" + std::to_string(present) +
                   " of " + std::to_string(pending->puts.size()) + " puts)");
    }
  }

  // (b) Seen.
  std::vector<std::pair<std::string, std::string>> seen;
  s = ScanAll(db.get(), "Seen", &seen);
  const bool have_seen = s.ok();
  if (!s.ok() && !(s.IsNotFound() && ts->mapping_uuid.empty())) {
    v->Violation("scan Seen: " + s.ToString());
  }
  std::set<SequenceNumber> seen_seqs;
  for (const auto& [k, value] : seen) {
    const bool digits = k.size() == 20 && k.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) {
      v->Violation("Seen holds key '" + k + "', not a 20-digit sequence number");
      continue;
    }
    const SequenceNumber seq = std::strtoull(k.c_str(), nullptr, 10);
    seen_seqs.insert(seq);
    auto it = by_seq.find(seq);
    if (it == by_seq.end()) {
      v->Violation("Seen/" + k + " is not the sequence of a src record (value " + Short(value) +
                   ")");
      continue;
    }
    const std::string want = "INSERT " + it->second->key + " " + it->second->new_image;
    if (value != want) {
      v->Violation("Seen/" + k + " is " + Short(value) + ", record says " + Short(want));
    }
  }
  if (have_seen) {
    TableDescription d;
    s = db->DescribeTable("Seen", &d);
    if (!s.ok() || d.item_count != seen.size()) {
      v->Violation("DescribeTable(Seen): " + s.ToString() + ", item_count " +
                   std::to_string(d.item_count) + ", scan has " + std::to_string(seen.size()));
    }
  }

  // (c), (d) The checkpoint and the mapping.
  Triggers* t = db->triggers();
  std::vector<EventSourceMappingConfiguration> mappings;
  s = t->ListEventSourceMappings("", "", "", 0, &mappings, nullptr);
  if (!s.ok()) v->Violation("ListEventSourceMappings: " + s.ToString());
  if (!ts->mapping_uuid.empty()) {
    FunctionConfiguration fn;
    s = t->GetFunction("rec", &fn);
    if (!s.ok()) {
      v->Violation("GetFunction(rec): " + s.ToString());
    } else if (fn.environment["TARGET"] != "Seen") {
      v->Violation("the function's environment lost TARGET=Seen");
    }
    if (mappings.size() != 1 || mappings[0].uuid != ts->mapping_uuid) {
      v->Violation(std::to_string(mappings.size()) + " mappings; expected only " +
                   ts->mapping_uuid);
    }
  } else if (mappings.size() > 1) {
    v->Violation(std::to_string(mappings.size()) + " mappings");
  }
  // A mapping may exist that the host did not live to report (killed between
  // the commit and the M line); its checkpoint counts all the same.
  if (mappings.size() == 1) {
    const EventSourceMappingConfiguration& m = mappings[0];
    MappingMetrics metrics;
    s = t->GetMappingMetrics(m.uuid, &metrics);
    if (!s.ok()) v->Violation("GetMappingMetrics: " + s.ToString());
    const uint64_t p = metrics.position;
    if (p < ts->last_position) {
      v->Violation("checkpoint moved backwards from " + std::to_string(ts->last_position) + " to " +
                   std::to_string(p));
    }
    ts->last_position = std::max(ts->last_position, p);
    size_t missing = 0, shown = 0;
    for (const Rec& r : recs) {
      if (r.seq >= p) ++out.unprocessed;
      if (r.seq >= p || seen_seqs.count(r.seq) != 0) continue;
      ++missing;
      if (shown++ < 5) {
        v->Violation("record " + std::to_string(r.seq) + " (" + r.key +
                     ") is below the checkpoint " + std::to_string(p) +
                     " but has no item in Seen (skipped)");
      }
    }
    shown = 0;
    size_t ahead = 0;
    for (SequenceNumber q : seen_seqs) {
      if (q < p) continue;
      ++ahead;
      if (shown++ < 5) {
        v->Violation("Seen has the write-back of record " + std::to_string(q) +
                     " but the checkpoint is only " + std::to_string(p) +
                     " (write-back committed without its checkpoint)");
      }
    }
    if (missing > 5 || ahead > 5) {
      v->Violation(std::to_string(missing) + " records skipped, " + std::to_string(ahead) +
                   " write-backs ahead of the checkpoint");
    }
    if (final_check) {
      if (!recs.empty() && p <= recs.back().seq) {
        v->Violation("after the drain the checkpoint " + std::to_string(p) +
                     " has not passed the last src record " + std::to_string(recs.back().seq));
      }
      if (seen.size() != recs.size()) {
        v->Violation("after the drain Seen has " + std::to_string(seen.size()) + " items for " +
                     std::to_string(recs.size()) + " src records");
      }
      if (!recs.empty() && m.last_processing_result != "OK") {
        v->Violation("LastProcessingResult is '" + m.last_processing_result + "'");
      }
    }
  } else if (!seen.empty()) {
    v->Violation("Seen has " + std::to_string(seen.size()) + " items but there is no mapping");
  } else if (final_check) {
    v->Violation("no mapping after the drain");
  }

  s = db->Close();
  if (!s.ok()) v->Violation("close: " + s.ToString());
  out.src_records = recs.size();
  return out;
}

// Sum of the batch sizes the plugin logged (one line per invocation).
uint64_t DeliveredRecords(const std::string& path) {
  std::ifstream in(path);
  uint64_t total = 0, n = 0;
  while (in >> n) total += n;
  return total;
}

TEST(TriggerCrashTest, WriteBacksAreExactlyOnceUnderSigkill) {
  const uint64_t trials = EnvU64("RUNNEL_TRIGGER_CRASH_TRIALS", 30);
  const uint64_t seed = EnvU64("RUNNEL_TRIGGER_CRASH_SEED", std::random_device()());
  std::printf(
      "trigger crash test: %llu trials, seed %llu "
      "(RUNNEL_TRIGGER_CRASH_SEED=%llu to repeat the schedule)\n",
      static_cast<unsigned long long>(trials), static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  std::mt19937_64 rng(seed);
  TempDir tmp;
  const std::string stderr_path = tmp.Sub("host_stderr.txt");
  Totals totals;
  const Clock::time_point t0 = Clock::now();

  for (uint64_t trial = 0; trial < trials; ++trial) {
    const std::string dir = tmp.Sub("db" + std::to_string(trial));
    const std::string count_file = dir + ".count";
    Verifier v(&totals, trial);
    TrialState ts;
    const uint32_t batch_size = 1 + static_cast<uint32_t>(rng() % 50);
    const int sleep_choices[5] = {0, 0, 1, 2, 5};
    const int sleep_ms = sleep_choices[rng() % 5];
    const int kills = 3 + static_cast<int>(rng() % 4);
    const size_t violations_before = totals.violations.size();
    bool stop = false;
    uint64_t src_records = 0;

    for (int run_no = 0; run_no <= kills && !stop; ++run_no) {
      const bool drain = run_no == kills;
      v.SetRun(drain ? "drain" : "run " + std::to_string(run_no));
      Schedule sched;
      sched.drain = drain;
      if (!drain) {
        // Some kills land while the host opens (recovery), sets up, or
        // restarts the mapping; most while it writes and the handler runs.
        if (rng() % 5 == 0) {
          sched.early_kill_ms = 5 + static_cast<int>(rng() % 56);
        } else {
          sched.after_ready_ms = 5 + static_cast<int>(rng() % 296);
        }
      }
      HostRun run;
      RunHost(dir, static_cast<uint64_t>(run_no), rng(), batch_size, sleep_ms, sched, stderr_path,
              &run);
      if (HasFatalFailure()) return;
      for (const std::string& e : run.protocol_errors) v.Violation(e);
      if (run.child_error) {
        v.Violation("host error: " + run.error_line + "; stderr: " + ReadFile(stderr_path));
        stop = true;
      }
      if (run.timed_out) {
        v.Violation(drain ? "the drain did not finish within 180 s"
                          : "the host did not get ready within 30 s");
        stop = true;
      }
      if (drain) {
        if (!run.exited || WEXITSTATUS(run.exit_status) != 0) {
          v.Violation("the drain host did not exit 0 (wait status " +
                      std::to_string(run.exit_status) + "); stderr: " + ReadFile(stderr_path));
        }
        if (run.idle_status != "OK") {
          v.Violation("WaitUntilIdle: '" + run.idle_status + "'");
        }
        if (run.close_status != "OK") v.Violation("Close: '" + run.close_status + "'");
      } else if (!stop) {
        if (!run.killed) {
          v.Violation("the host was not killed by us (wait status " +
                      std::to_string(run.exit_status) + "); stderr: " + ReadFile(stderr_path));
          stop = true;
        }
        ++totals.kills;
        if (!run.ready) ++totals.kills_before_ready;
      }
      if (!run.mapping_uuid.empty()) {
        if (!ts.mapping_uuid.empty() && ts.mapping_uuid != run.mapping_uuid) {
          v.Violation("the mapping changed from " + ts.mapping_uuid + " to " + run.mapping_uuid);
        }
        ts.mapping_uuid = run.mapping_uuid;
        if (run.mapping_batch != batch_size) {
          v.Violation("mapping batch size " + std::to_string(run.mapping_batch) +
                      ", created with " + std::to_string(batch_size));
        }
      }
      for (const Write& w : run.announced) {
        for (const auto& [k, val] : w.puts) {
          if (!ts.announced.emplace(k, val).second) {
            v.Violation("key " + k + " announced twice");
          }
        }
      }
      totals.acked_writes += run.acked.size();
      for (Acked& a : run.acked) ts.acked.push_back(std::move(a));
      if (run.pending) ++totals.inflight;
      if (stop) break;

      const size_t before = totals.violations.size();
      const Verified got = Verify(dir, &ts, drain, run.pending ? &*run.pending : nullptr, &v);
      src_records = got.src_records;
      if (got.inflight_applied) ++totals.inflight_applied;
      if (!drain) {
        ++totals.checkpoint_checks;
        if (got.unprocessed > 0) ++totals.kills_with_backlog;
        totals.backlog_records += got.unprocessed;
      }
      if (totals.violations.size() > before) stop = true;
    }
    ++totals.trials;
    totals.records_checked += src_records;
    const uint64_t delivered = DeliveredRecords(count_file);
    totals.delivered += delivered;
    if (delivered > src_records) {
      totals.redelivered += delivered - src_records;
      ++totals.trials_with_redelivery;
    }
    if (totals.violations.size() > violations_before) {
      std::printf(
          "trial %llu: %zu violation(s); batch size %u, SLEEP_MS %d, %d "
          "kills, %llu src records\n",
          static_cast<unsigned long long>(trial), totals.violations.size() - violations_before,
          batch_size, sleep_ms, kills, static_cast<unsigned long long>(src_records));
    }
    if (totals.violations.size() > 50) break;
  }

  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "trigger crash test: %llu trials in %.1f s, %llu kills (%llu before the "
      "host was ready), %llu after-kill checkpoint checks (%llu with a backlog "
      "of unprocessed records, %llu records in all), %llu acknowledged "
      "writes, %llu in flight at a kill (%llu applied), %llu src records checked "
      "after the drains, %llu records delivered to the function (at least "
      "%llu redelivered, in %llu trials); %zu violations\n",
      static_cast<unsigned long long>(totals.trials), secs,
      static_cast<unsigned long long>(totals.kills),
      static_cast<unsigned long long>(totals.kills_before_ready),
      static_cast<unsigned long long>(totals.checkpoint_checks),
      static_cast<unsigned long long>(totals.kills_with_backlog),
      static_cast<unsigned long long>(totals.backlog_records),
      static_cast<unsigned long long>(totals.acked_writes),
      static_cast<unsigned long long>(totals.inflight),
      static_cast<unsigned long long>(totals.inflight_applied),
      static_cast<unsigned long long>(totals.records_checked),
      static_cast<unsigned long long>(totals.delivered),
      static_cast<unsigned long long>(totals.redelivered),
      static_cast<unsigned long long>(totals.trials_with_redelivery), totals.violations.size());
  for (const std::string& e : totals.violations) {
    ADD_FAILURE() << e << " (seed " << seed << ")";
  }
}

}  // namespace
}  // namespace runnel::test
