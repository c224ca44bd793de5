// Copyright 2026 The runnel Authors.
//
// What the crash and power-loss campaigns share (tests/crash_test.cc,
// power_loss_test.cc, trigger_crash_test.cc, trigger_power_loss_test.cc and
// their child processes crash_writer.cc, trigger_crash_host.cc): the run size
// and seed from the environment, the options every campaign opens its DB
// with, the model of the tables (operations, states, their difference), the
// list of violations, and the verifiers that more than one campaign runs
// (replaying the change stream, matching a write's records, write-backs
// against their mapping's checkpoint, per lane too, tumbling-window finals
// against the records, coverage counters).

#ifndef RUNNEL_TESTS_CAMPAIGN_H_
#define RUNNEL_TESTS_CAMPAIGN_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "runnel/db.h"
#include "tests/testutil.h"

namespace runnel::test {

// An unsigned number from the environment; `def` if unset or empty.
uint64_t EnvU64(const char* name, uint64_t def);

// The size and seed of one campaign run: `runs` from $runs_env (default
// `default_runs`), the seed from $seed_env (default: random, from
// getrandom(2)). Prints both, and how to repeat the schedule.
struct CampaignSize {
  uint64_t runs = 0;
  uint64_t seed = 0;
};
CampaignSize StartCampaign(const char* name, const char* unit, const char* runs_env,
                           uint64_t default_runs, const char* seed_env);

// The options of every campaign DB (parent and children): 64 KiB log
// segments and LevelDB write buffer, so that the log rotates and the index
// flushes and compacts within a short run.
Options CampaignOptions();

// One put or delete of a write.
struct Op {
  bool del = false;
  std::string table, key, value;
};

// The model of the tables: table -> key -> value.
using State = std::map<std::string, std::map<std::string, std::string>>;

void Apply(const std::vector<Op>& ops, State* state);
// Drops the tables without items (a table of the model and an absent one
// are the same).
void Prune(State* state);
// The thread that owns a key "t<tid>k<n>", or -1.
int OwnerOf(const std::string& key);
// A value quoted, cut short if long (for messages).
std::string Short(const std::string& v);
// The keys that differ between two states (the first few), for messages.
std::string DiffStates(const State& want, const State& got);

// The 20-digit decimal key of a write-back for the record at `seq`.
std::string SeqKey(uint64_t seq);

// The violations a campaign found, each prefixed by where it was found
// (SetWhere: "trial 3", "iteration 7 run 2"). At most 100 are kept between
// two reports; the rest are only counted.
class Violations {
 public:
  void SetWhere(std::string where) { where_ = std::move(where); }
  void Add(const std::string& what);
  // All violations found so far, reported or not.
  size_t count() const { return count_; }
  // Reports the kept violations as test failures naming the seed that
  // repeats them, and forgets them.
  void Report(uint64_t seed);

 private:
  std::string where_;
  std::vector<std::string> list_;
  size_t count_ = 0, unkept_ = 0;
};

// Replays change records into *replayed and checks them: sequences
// increase; an INSERT is of an absent key with a new image only; a MODIFY of
// a present key to another value, a REMOVE of a present key, both with the
// old image (equal to the replayed value) exactly when the table's view type
// has old images. Records of tables not in `views` are violations.
void ReplayRecords(const std::vector<Rec>& recs, const std::map<std::string, StreamViewType>& views,
                   State* replayed, Violations* v);

// Whether the records [first, first + count) are exactly the changes of
// `ops` (a subsequence of them, in order, with their events and new images,
// end_of_batch on the last only). If not, *why says which record is off.
bool RecordsMatch(uint64_t first, uint32_t count, const std::vector<Op>& ops,
                  const std::map<SequenceNumber, const Rec*>& by_seq, std::string* why);

// Write-backs against their mapping's durable checkpoint P. `want` is the
// expected write-back of every record of the mapping's source (sequence ->
// value); `seen` the write-back table (SeqKey -> value). Checks that `seen`
// holds exactly want[q] for every q < P and nothing else (no record below P
// skipped, no write-back without its checkpoint, none that is not a
// record's), and that P did not move below *last_position, which is then
// raised to P.
struct WriteBackCheck {
  uint64_t position = 0;     // P
  uint64_t below = 0;        // source records below P
  uint64_t unprocessed = 0;  // source records at or above P
};
WriteBackCheck CheckWriteBacks(DB* db, const std::string& uuid,
                               const std::map<uint64_t, std::string>& want,
                               const std::vector<std::pair<std::string, std::string>>& seen,
                               uint64_t* last_position, Violations* v);

// (c) per lane, for a mapping of `lanes` lanes (ParallelizationFactor): the
// durable checkpoint holds each lane's position L (lane = XXH3-64 of the key
// mod `lanes`) and P is their minimum. Checks that the write-backs `seen`
// hold exactly want[q] for every record q of its lane below that lane's L
// (`recs`: the records, for their keys), none at or above
// it, and that neither P nor any L moved below *last_position and
// *last_lanes, which are then raised. *uneven: the lanes' positions were
// recorded apart (the lanes had moved at different speeds). `db` is a
// DBInternal (what DB::Open returns).
WriteBackCheck CheckLaneWriteBacks(DB* db, const std::string& uuid, uint32_t lanes,
                                   const std::vector<Rec>& recs,
                                   const std::map<uint64_t, std::string>& want,
                                   const std::vector<std::pair<std::string, std::string>>& seen,
                                   uint64_t* last_position, std::vector<uint64_t>* last_lanes,
                                   bool* uneven, Violations* v);

// The tumbling-window aggregate of tests/plugins/window_function.c with
// TARGET "totals", windows of kWindowMicros, on the records of the table
// "src" whose keys are "k<run * 10^6 + n>" (one run per process or
// iteration). Each final invocation writes "totals" item
// "<20-digit window start>/final/<request id>" -> the window's count.
constexpr int64_t kWindowMicros = 1000000;
struct WindowCheck {
  uint64_t windows = 0;      // windows with records
  uint64_t finals = 0;       // ... of them with their final
  uint64_t across_runs = 0;  // ... with records of more than one run
  uint64_t records = 0;      // src records
};
// Checks `db`'s "totals" against its "src" records: a window has at most
// one final, its count is the number of src records committed in the window
// (none lost from the aggregate, none counted twice), no final for a window
// without records, no other item; with `all_final`, every window with
// records has its final.
WindowCheck CheckWindowFinals(DB* db, bool all_final, Violations* v);
// Whether every window with records of "src" has its final in "totals";
// *windows: how many windows have records.
Status AllWindowsFinal(DB* db, bool* all, size_t* windows);

// The closing line of a campaign run: its counters, printed in one line,
// and the coverage counters among them asserted. A campaign in which nothing
// interesting happened (no kill landed mid-backlog, no tail was torn) must
// not pass: a coverage counter must be above zero once the campaign ran at
// least `min_runs` runs, the size from which a zero is practically
// impossible (as measured; below it the counter is only printed).
class CampaignReport {
 public:
  // Starts the clock.
  CampaignReport(const char* name, const char* unit);
  // A counter that is only printed.
  void Count(const std::string& what, uint64_t value);
  // A coverage counter: printed, and asserted above zero from `min_runs`.
  void Covered(const std::string& what, uint64_t value, uint64_t min_runs);
  // Prints "<name>: <runs> <unit> in <seconds> s; <value> <what>, ...;
  // <violations> violations" and asserts the coverage counters, for the
  // `runs` runs done.
  void Finish(uint64_t runs, size_t violations);

 private:
  struct Counter {
    std::string what;
    uint64_t value;
    uint64_t min_runs;  // 0: only printed
  };
  std::string name_, unit_;
  std::chrono::steady_clock::time_point start_;
  std::vector<Counter> counters_;
};

// The parent's side of a child process run (crash_writer,
// trigger_crash_host): what every campaign child reports, and how it ended.
struct ChildRunBase {
  bool opened = false;       // "O": the DB is open
  bool ready = false;        // "R": set up, working
  bool child_error = false;  // "E <message>": an operation failed
  std::string error_line;
  std::vector<std::string> protocol_errors;
  int exit_status = 0;     // from waitpid
  bool killed = false;     // by our SIGKILL
  bool exited = false;     // by itself
  bool timed_out = false;  // did not get ready, or finish, in time
  void BadLine(const std::string& line) {
    protocol_errors.push_back("bad line: " + line.substr(0, 100));
  }
};

// When a child is killed: `early_kill_ms` >= 0, that long after the spawn,
// whatever it does; otherwise `after_ready_ms` after it reported R. With
// `drain` never: it exits by itself (and is given up on after 180 s).
struct KillSchedule {
  bool drain = false;
  int early_kill_ms = -1;
  int after_ready_ms = 0;
};

// Runs a child process (argv) under `kill`, its stderr appended to
// `stderr_path`. The lines O, R and E are handled here; every other goes to
// `on_line` with its tag, the rest of the line in `in`, and the whole line;
// on_line returns false for a tag it does not know.
using ChildLineHandler =
    std::function<bool(const std::string& tag, std::istringstream& in, const std::string& line)>;
void RunCampaignChild(const std::vector<std::string>& argv, const std::string& stderr_path,
                      const KillSchedule& kill, ChildRunBase* run, const ChildLineHandler& on_line);

// The child processes' side (crash_writer, trigger_crash_host).
// One protocol line on stdout, whole, from any thread.
void ChildEmit(const std::string& line);
// Reports a failed operation ("E <what>: <status>", and on stderr) and
// exits 3.
[[noreturn]] void ChildFail(const std::string& what, const Status& s);
// Opens the DB in `dir` with CampaignOptions() and the trigger runtime
// running; reports "O" once open.
std::unique_ptr<DB> ChildOpen(const std::string& dir);

}  // namespace runnel::test

#endif  // RUNNEL_TESTS_CAMPAIGN_H_
