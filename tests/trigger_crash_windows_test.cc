// Copyright 2026 The runnel Authors.
//
// Tumbling windows under SIGKILL: a child process
// (tests/trigger_crash_windows_host.cc) hosts a DB whose mapping aggregates
// records in windows of 1 s with a real plugin (tests/plugins/
// window_function.c, a counting aggregate), writes records, and is killed at
// random moments, mid-window or during a final invocation; it is restarted on
// the same directory several times, then drained. A window's state is
// committed with the mapping's checkpoint, and a final invocation's
// write-back with the checkpoint that closes its window, so after all that:
//   - every window that holds records has exactly one final write-back (no
//     final lost, none doubled by a redelivery),
//   - its count equals the number of records committed in the window (no
//     record lost from the aggregate, none counted twice), and
//   - there is no final for a window without records, and the plugin saw no
//     record outside its window and no final invocation with records.
//
// Environment: RUNNEL_TRIGGER_CRASH_WINDOWS_TRIALS (default 3; the ctest
// entry long_trigger_crash_windows_1000_trials runs 1000),
// RUNNEL_TRIGGER_CRASH_WINDOWS_SEED.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "runnel/db.h"
#include "tests/campaign.h"
#include "tests/testutil.h"

#ifndef WINDOWS_HOST_PATH
#error "WINDOWS_HOST_PATH must name the trigger_crash_windows_host binary"
#endif
#ifndef WINDOW_FUNCTION
#error "WINDOW_FUNCTION must name the window_function plugin"
#endif

namespace runnel::test {
namespace {

// Coverage counters are asserted from this many trials on: every trial has
// at least two kills, and a window of 1 s with kills 0.1-1.5 s apart spans a
// kill in nearly every trial.
constexpr uint64_t kMinTrials = 10;

struct HostRun : ChildRunBase {
  std::string close_status;
};

struct Totals {
  uint64_t kills = 0, windows = 0, windows_across_kills = 0, records = 0;
};

// Checks the drained DB in `dir`: one exact final per window with records.
void Verify(const std::string& dir, Violations* v, Totals* totals) {
  std::unique_ptr<DB> db;
  const Status s = DB::Open(CampaignOptions(), dir, &db);
  if (!s.ok()) return v->Add("reopen: " + s.ToString());
  const WindowCheck c = CheckWindowFinals(db.get(), /*all_final=*/true, v);
  totals->windows += c.windows;
  totals->windows_across_kills += c.across_runs;
  totals->records += c.records;
}

TEST(TriggerCrashWindowsTest, WindowTotalsAreExactAndFinalOnceUnderSigkill) {
  const CampaignSize size =
      StartCampaign("trigger crash windows test", "trials", "RUNNEL_TRIGGER_CRASH_WINDOWS_TRIALS",
                    3, "RUNNEL_TRIGGER_CRASH_WINDOWS_SEED");
  std::mt19937_64 rng(size.seed);
  TempDir tmp;
  const std::string stderr_path = tmp.Sub("host_stderr.txt");
  Totals totals;
  Violations v;
  CampaignReport report("trigger crash windows test", "trials");
  for (uint64_t trial = 0; trial < size.runs; ++trial) {
    const std::string dir = tmp.Sub("db" + std::to_string(trial));
    const uint32_t batch_size = 1 + static_cast<uint32_t>(rng() % 50);
    const int kills = 2 + static_cast<int>(rng() % 3);
    bool stop = false;
    for (int run_no = 0; run_no <= kills && !stop; ++run_no) {
      const bool drain = run_no == kills;
      v.SetWhere("trial " + std::to_string(trial) + " " +
                 (drain ? std::string("drain") : "run " + std::to_string(run_no)));
      KillSchedule sched;
      sched.drain = drain;
      if (!drain && rng() % 6 == 0) {
        sched.early_kill_ms = static_cast<int>(rng() % 60);  // while opening or setting up
      } else if (!drain) {
        sched.after_ready_ms = 100 + static_cast<int>(rng() % 1400);
      }
      HostRun run;
      const std::vector<std::string> argv = {WINDOWS_HOST_PATH,         dir,
                                             drain ? "drain" : "write", std::to_string(run_no + 1),
                                             std::to_string(rng()),     WINDOW_FUNCTION,
                                             std::to_string(batch_size)};
      RunCampaignChild(argv, stderr_path, sched, &run,
                       [&run](const std::string& tag, std::istringstream& in, const std::string&) {
                         if (tag == "D") return true;
                         if (tag != "C") return false;
                         std::getline(in >> std::ws, run.close_status);
                         return true;
                       });
      if (HasFatalFailure()) return;
      for (const std::string& e : run.protocol_errors) v.Add(e);
      if (run.child_error || run.timed_out) {
        v.Add("host: " + run.error_line + (run.timed_out ? " (timed out)" : "") +
              "; stderr: " + ReadFile(stderr_path));
        stop = true;
      } else if (drain) {
        if (!run.exited || WEXITSTATUS(run.exit_status) != 0 || run.close_status != "OK") {
          v.Add("the drain did not end cleanly (wait status " + std::to_string(run.exit_status) +
                ", close '" + run.close_status + "')");
        }
      } else if (!run.killed) {
        v.Add("the host was not killed by us");
        stop = true;
      } else {
        ++totals.kills;
      }
    }
    v.SetWhere("trial " + std::to_string(trial) + " check");
    if (!stop) Verify(dir, &v, &totals);
  }
  report.Covered("kills", totals.kills, kMinTrials);
  report.Count("windows checked", totals.windows);
  report.Covered("windows spanning a kill", totals.windows_across_kills, kMinTrials);
  report.Count("records aggregated", totals.records);
  report.Finish(size.runs, v.count());
  v.Report(size.seed);
}

}  // namespace
}  // namespace runnel::test
