// Copyright 2026 The runnel Authors.
//
// Trigger crash test, snapshot bootstrap: a mapping with StartingPosition
// SNAPSHOT misses and doubles nothing under SIGKILL during its snapshot
// phase, with writes racing the scan.
//
// Each trial uses a fresh directory. The child (tests/
// trigger_crash_snapshot_host.cc) fills "src" with 300-800 items, creates
// the function "rec" (tests/plugins/snapshot_function.c, TARGET=Seen: a
// snapshot record becomes item "s/<key>/<S>" = its image, a stream record
// "t/<seq>" = "<event> <key> <image>", both committed with the mapping's
// checkpoint) and a SNAPSHOT mapping with a random batch size (1..20), then
// updates, deletes and inserts keys with sync=true while the scan runs. The
// parent SIGKILLs it 2-4 times at random moments (most land in the
// snapshot phase), restarting it on the same directory (the scan resumes as
// of a newer snapshot), and finally drains it.
//
// After every kill the parent opens the DB itself (no runtime) and checks,
// against the src stream (the log is never trimmed here, so it holds every
// key's whole history):
//  (a) each snapshot item "s/<key>/<S>" holds exactly the key's value as of
//      sequence S (the key existed then), and no key was delivered by the
//      snapshot twice;
//  (b) each stream item "t/<seq>" is exactly src's record at seq, and its
//      key has no snapshot item at a sequence >= seq (no double delivery);
//  (c) the mapping's durable snapshot record count (metrics) equals the
//      number of snapshot items (they are committed together).
// After the drain, additionally, for every key: its snapshot state followed
// by its delivered stream records equals its value in the table; with a
// snapshot item at S, every record of the key after S was delivered (no
// record after S missing); without one, the delivered records are all the
// key's records from some point on, starting from an absent key; the
// snapshot phase is done and the drain's WaitUntilIdle and Close are OK.
//
// Environment: RUNNEL_TRIGGER_SNAPSHOT_TRIALS (default 6),
// RUNNEL_TRIGGER_SNAPSHOT_SEED (default random; printed).

#include <sys/wait.h>

#include <cstdio>
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
#include "tests/testutil.h"

#ifndef SNAPSHOT_HOST_PATH
#error "SNAPSHOT_HOST_PATH must name the trigger_crash_snapshot_host binary"
#endif
#ifndef SNAPSHOT_FUNCTION
#error "SNAPSHOT_FUNCTION must name the snapshot_function plugin"
#endif

namespace runnel::test {
namespace {

// Coverage counters are asserted from this many trials on.
constexpr uint64_t kMinTrials = 6;

struct HostRun : ChildRunBase {
  std::string uuid;
  std::string idle_status, close_status;
};

bool HandleLine(const std::string& tag, std::istringstream& in, const std::string& line,
                HostRun* run) {
  if (tag == "M") {
    if (!(in >> run->uuid)) run->BadLine(line);
  } else if (tag == "B" || tag == "A") {
    // The stream itself is the reference here: writes are checked by what
    // the records say, not by the announcements.
  } else if (tag == "I") {
    run->idle_status = line.substr(2);
  } else if (tag == "C") {
    run->close_status = line.substr(2);
  } else {
    return false;
  }
  return true;
}

struct Event {
  uint64_t seq;
  bool remove;
  std::string value;
};
using History = std::map<std::string, std::vector<Event>>;  // key -> records in order

// The key's value as of sequence `s` (nullopt: absent).
std::optional<std::string> ValueAt(const std::vector<Event>& h, uint64_t s) {
  std::optional<std::string> v;
  for (const Event& e : h) {
    if (e.seq > s) break;
    v = e.remove ? std::nullopt : std::optional<std::string>(e.value);
  }
  return v;
}

struct Found {
  uint64_t snapshot_items = 0;
  uint64_t stream_items = 0;
  std::set<uint64_t> passes;  // distinct snapshot sequences
  uint64_t skipped = 0;       // records of a key after the first pass, covered by a later one
  bool snapshot_done = false;
};

Found Verify(const std::string& dir, bool final_check, Violations* v) {
  Found f;
  std::unique_ptr<DB> db;
  Status s = DB::Open(CampaignOptions(), dir, &db);
  if (!s.ok()) {
    v->Add("reopen failed: " + s.ToString());
    return f;
  }
  std::vector<Rec> recs;
  s = ReadAll(db.get(), 1, &recs);
  if (!s.ok()) v->Add("ReadAll: " + s.ToString());
  History hist;
  std::map<uint64_t, const Rec*> by_seq;
  for (const Rec& r : recs) {
    if (r.table != "src") continue;
    hist[r.key].push_back({r.seq, r.event == EventName::kRemove, r.new_image});
    by_seq[r.seq] = &r;
  }
  std::vector<std::pair<std::string, std::string>> seen;
  s = ScanAll(db.get(), "Seen", &seen);
  if (!s.ok() && !s.IsNotFound()) v->Add("scan Seen: " + s.ToString());
  std::map<std::string, std::pair<uint64_t, std::string>> snap;  // key -> (S, value)
  std::map<std::string, std::vector<uint64_t>> delivered;        // key -> stream seqs
  for (const auto& [k, val] : seen) {
    if (k.rfind("s/", 0) == 0) {
      const size_t slash = k.rfind('/');
      const std::string key = k.substr(2, slash - 2);
      const uint64_t seq = std::stoull(k.substr(slash + 1));
      ++f.snapshot_items;
      f.passes.insert(seq);
      if (!snap.emplace(key, std::make_pair(seq, val)).second) {
        v->Add("(a) the snapshot delivered " + key + " twice");
      }
      const auto at = ValueAt(hist[key], seq);
      if (!at || *at != val) {
        v->Add("(a) snapshot item " + key + " at " + std::to_string(seq) + " holds " + Short(val) +
               "; the key then: " + (at ? Short(*at) : "absent"));
      }
    }
  }
  for (const auto& [k, val] : seen) {
    if (k.rfind("t/", 0) != 0) continue;
    ++f.stream_items;
    const uint64_t seq = std::stoull(k.substr(2));
    auto r = by_seq.find(seq);
    if (r == by_seq.end()) {
      v->Add("(b) stream item " + k + " is no src record");
      continue;
    }
    const Rec& rec = *r->second;
    const std::string want = std::string(EventNameString(rec.event)) + " " + rec.key + " " +
                             (rec.has_new ? rec.new_image : "");
    if (val != want)
      v->Add("(b) stream item " + k + " holds " + Short(val) + ", src " + Short(want));
    auto sn = snap.find(rec.key);
    if (sn != snap.end() && seq <= sn->second.first) {
      v->Add("(b) record " + std::to_string(seq) + " of " + rec.key +
             " delivered again after the snapshot at " + std::to_string(sn->second.first));
    }
    delivered[rec.key].push_back(seq);
  }
  std::vector<EventSourceMappingConfiguration> mappings;
  s = db->triggers()->ListEventSourceMappings("", "", "", 0, &mappings, nullptr);
  if (!s.ok() || mappings.size() > 1) v->Add("ListEventSourceMappings: " + s.ToString());
  if (mappings.size() == 1) {
    MappingMetrics m;
    s = db->triggers()->GetMappingMetrics(mappings[0].uuid, &m);
    if (!s.ok()) v->Add("metrics: " + s.ToString());
    f.snapshot_done = m.snapshot_done;
    if (m.snapshot_records != f.snapshot_items) {
      v->Add("(c) the checkpoint counts " + std::to_string(m.snapshot_records) +
             " snapshot records; Seen holds " + std::to_string(f.snapshot_items));
    }
    if (final_check && !m.snapshot_done) v->Add("after the drain the snapshot is not done");
  } else if (final_check) {
    v->Add("no mapping after the drain");
  }
  const uint64_t first_pass = f.passes.empty() ? 0 : *f.passes.begin();
  for (const auto& [key, sn] : snap) {
    for (const Event& e : hist[key]) f.skipped += e.seq > first_pass && e.seq <= sn.first;
  }
  if (final_check) {
    std::vector<std::pair<std::string, std::string>> table;
    s = ScanAll(db.get(), "src", &table);
    if (!s.ok()) v->Add("scan src: " + s.ToString());
    const std::map<std::string, std::string> now(table.begin(), table.end());
    for (const auto& [key, h] : hist) {
      auto sn = snap.find(key);
      const std::vector<uint64_t>& d = delivered[key];
      std::vector<uint64_t> want;  // the records that must have been delivered
      std::optional<std::string> state;
      if (sn != snap.end()) {
        state = sn->second.second;
        for (const Event& e : h) {
          if (e.seq > sn->second.first) want.push_back(e.seq);
        }
      } else {
        // A suffix of its history, from an absent key.
        size_t from = h.size();
        if (!d.empty()) {
          while (from > 0 && h[from - 1].seq >= d.front()) --from;
        }
        if (from > 0 && !h[from - 1].remove) {
          v->Add(key + ": not in the snapshot, yet present before its first delivered record");
        }
        for (size_t i = from; i < h.size(); ++i) want.push_back(h[i].seq);
      }
      if (d != want) {
        v->Add(key + ": " + std::to_string(d.size()) + " stream records delivered, " +
               std::to_string(want.size()) + " expected after its snapshot state");
      }
      for (uint64_t q : d) {
        const Rec& r = *by_seq[q];
        state =
            r.event == EventName::kRemove ? std::nullopt : std::optional<std::string>(r.new_image);
      }
      auto it = now.find(key);
      const std::optional<std::string> actual =
          it == now.end() ? std::nullopt : std::optional<std::string>(it->second);
      if (state != actual) {
        v->Add(key + ": delivered state " + (state ? Short(*state) : "absent") + ", table " +
               (actual ? Short(*actual) : "absent"));
      }
    }
  }
  s = db->Close();
  if (!s.ok()) v->Add("close: " + s.ToString());
  return f;
}

TEST(TriggerCrashSnapshotTest, SnapshotMissesAndDoublesNothingUnderSigkill) {
  const CampaignSize size =
      StartCampaign("trigger snapshot crash test", "trials", "RUNNEL_TRIGGER_SNAPSHOT_TRIALS", 6,
                    "RUNNEL_TRIGGER_SNAPSHOT_SEED");
  std::mt19937_64 rng(size.seed);
  TempDir tmp;
  const std::string stderr_path = tmp.Sub("host_stderr.txt");
  Violations v;
  CampaignReport report("trigger snapshot crash test", "trials");
  uint64_t kills = 0, mid_snapshot = 0, resumed = 0, skipped = 0, snapshot_items = 0,
           stream_items = 0, trials = 0;
  for (uint64_t trial = 0; trial < size.runs; ++trial) {
    const std::string dir = tmp.Sub("db" + std::to_string(trial));
    const uint32_t batch = 1 + static_cast<uint32_t>(rng() % 20);
    const int sleeps[3] = {1, 2, 3};
    const int sleep_ms = sleeps[rng() % 3];
    const uint64_t items = 300 + rng() % 500;
    const int runs = 2 + static_cast<int>(rng() % 3);
    bool stop = false;
    Found last;
    for (int run_no = 0; run_no <= runs && !stop; ++run_no) {
      const bool drain = run_no == runs;
      v.SetWhere("trial " + std::to_string(trial) + " " +
                 (drain ? std::string("drain") : "run " + std::to_string(run_no)));
      KillSchedule sched;
      sched.drain = drain;
      if (!drain) {
        if (rng() % 6 == 0) {
          sched.early_kill_ms = 5 + static_cast<int>(rng() % 60);
        } else {
          sched.after_ready_ms = 5 + static_cast<int>(rng() % 250);
        }
      }
      HostRun run;
      const std::vector<std::string> argv = {SNAPSHOT_HOST_PATH,        dir,
                                             drain ? "drain" : "write", std::to_string(run_no),
                                             std::to_string(rng()),     SNAPSHOT_FUNCTION,
                                             std::to_string(batch),     std::to_string(sleep_ms),
                                             std::to_string(items)};
      RunCampaignChild(argv, stderr_path, sched, &run,
                       [&run](const std::string& tag, std::istringstream& in,
                              const std::string& line) { return HandleLine(tag, in, line, &run); });
      if (HasFatalFailure()) return;
      for (const std::string& e : run.protocol_errors) v.Add(e);
      if (run.child_error || run.timed_out) {
        v.Add("host: " + run.error_line + (run.timed_out ? " (timed out)" : "") +
              "; stderr: " + ReadFile(stderr_path));
        stop = true;
        break;
      }
      if (drain) {
        if (!run.exited || WEXITSTATUS(run.exit_status) != 0) v.Add("the drain did not exit 0");
        if (run.idle_status != "OK") v.Add("WaitUntilIdle: '" + run.idle_status + "'");
        if (run.close_status != "OK") v.Add("Close: '" + run.close_status + "'");
      } else {
        if (!run.killed) v.Add("the host was not killed by us");
        ++kills;
      }
      const size_t before = v.count();
      last = Verify(dir, drain, &v);
      if (!drain && !last.snapshot_done && last.snapshot_items > 0) ++mid_snapshot;
      if (v.count() > before) stop = true;
    }
    ++trials;
    if (last.passes.size() > 1) ++resumed;
    skipped += last.skipped;
    snapshot_items += last.snapshot_items;
    stream_items += last.stream_items;
    if (v.count() > 50) break;
  }
  report.Count("kills", kills);
  report.Covered("kills in the snapshot phase", mid_snapshot, kMinTrials);
  report.Covered("trials whose scan resumed as of a newer snapshot", resumed, kMinTrials);
  report.Count("stream records skipped as covered by a later pass", skipped);
  report.Count("snapshot records delivered", snapshot_items);
  report.Count("stream records delivered", stream_items);
  report.Finish(trials, v.count());
  v.Report(size.seed);
}

}  // namespace
}  // namespace runnel::test
