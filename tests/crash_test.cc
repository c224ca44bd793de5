// Copyright 2026 The runnel Authors.
//
// Crash test: a child process (tests/crash_writer.cc) writes with several
// threads and reports every acknowledged write on a pipe; the parent SIGKILLs
// it at a random moment, opens the DB itself and checks
//
//  (a) every acknowledged write (sync or not: a crash of the process must
//      not lose a write that returned OK) is present with its value unless a
//      later acknowledged write to the key changed it; a write that was in
//      flight at the kill is either wholly applied or not at all (the batch
//      is atomic);
//  (b) replaying all change records from sequence 1 reproduces each table's
//      Scan exactly, the records are self-consistent (INSERT of a missing
//      key, MODIFY/REMOVE of a present one, old images equal the replayed
//      value), and every acknowledged write appears at the sequence numbers
//      its CommitInfo named, with its keys and new images;
//  (c) recovery_report() is sane, and DescribeTable's item_count and
//      table_size_bytes match the table;
//  (d) trigger write-backs are exactly once: the child runs the mapping
//      crash_a -> mirror, whose handler writes crash_seen[<sequence>] =
//      "<event> <key> <new image>" for every crash_a record. With P the
//      mapping's durable checkpoint, crash_seen holds exactly the records of
//      crash_a below P (none skipped, none ahead of its checkpoint), each
//      with its record's event, key and image, and P never moves backwards.
//
// Trials reuse the directory (so recovery of an interrupted recovery is
// exercised: a kill can land while the child is still opening) and start over
// in a fresh one every few trials.
//
// Environment: RUNNEL_CRASH_TRIALS (default 50), RUNNEL_CRASH_SEED (default
// random; printed), RUNNEL_CRASH_FRESH_EVERY (default 8).

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
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cdc/log_format.h"
#include "runnel/db.h"
#include "tests/child_process.h"
#include "tests/testutil.h"

#ifndef CRASH_WRITER_PATH
#error "CRASH_WRITER_PATH must name the crash_writer binary"
#endif

namespace runnel::test {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  return std::strtoull(v, nullptr, 10);
}

const char* const kTables[2] = {"crash_a", "crash_b"};

struct Op {
  bool del = false;
  std::string table, key, value;
};

struct Announced {
  uint64_t wid = 0;
  bool sync = false;
  std::vector<Op> ops;
};

struct Acked {
  int tid = 0;
  Announced write;
  uint64_t first_seq = 0;
  uint32_t count = 0;
};

// table -> key -> value
using State = std::map<std::string, std::map<std::string, std::string>>;

void Apply(const std::vector<Op>& ops, State* state) {
  for (const Op& op : ops) {
    if (op.del) {
      (*state)[op.table].erase(op.key);
    } else {
      (*state)[op.table][op.key] = op.value;
    }
  }
}

// The thread that owns a key "t<tid>k<n>", or -1.
int OwnerOf(const std::string& key) {
  if (key.size() < 3 || key[0] != 't') return -1;
  const size_t k = key.find('k');
  if (k == std::string::npos || k == 1) return -1;
  return std::atoi(key.substr(1, k - 1).c_str());
}

State Restrict(const State& s, int tid) {
  State out;
  for (const auto& [table, items] : s) {
    for (const auto& [key, value] : items) {
      if (OwnerOf(key) == tid) out[table][key] = value;
    }
  }
  return out;
}

std::string Short(const std::string& v) {
  if (v.size() <= 40) return "'" + v + "'";
  return "'" + v.substr(0, 30) + "...'(" + std::to_string(v.size()) + " bytes)";
}

std::string DiffStates(const State& want, const State& got) {
  std::ostringstream out;
  int shown = 0;
  for (const char* table : kTables) {
    const auto wi = want.find(table);
    const auto gi = got.find(table);
    std::map<std::string, std::string> w, g;
    if (wi != want.end()) w = wi->second;
    if (gi != got.end()) g = gi->second;
    std::set<std::string> keys;
    for (const auto& [k, v] : w) keys.insert(k);
    for (const auto& [k, v] : g) keys.insert(k);
    for (const std::string& k : keys) {
      const auto a = w.find(k);
      const auto b = g.find(k);
      const bool same =
          (a == w.end()) == (b == g.end()) && (a == w.end() || a->second == b->second);
      if (same) continue;
      const std::string ws = a == w.end() ? "<absent>" : Short(a->second);
      const std::string gs = b == g.end() ? "<absent>" : Short(b->second);
      if (shown++ < 8) {
        out << " [" << table << "/" << k << " expected " << ws << " got " << gs << "]";
      }
    }
  }
  return out.str();
}

// One child run: announced/acknowledged writes as read from the pipe.
struct ChildRun {
  bool opened = false;
  bool ready = false;
  bool child_error = false;
  std::string error_line;
  std::map<int, Announced> pending;  // tid -> announced, not acknowledged
  std::vector<Acked> acked;
  std::vector<std::string> protocol_errors;
  int exit_status = 0;
  bool killed = false;
  bool timed_out = false;  // not ready within 30 s
};

bool ParseOps(std::istringstream& in, int n, std::vector<Op>* ops) {
  for (int i = 0; i < n; ++i) {
    std::string tok;
    if (!(in >> tok)) return false;
    Op op;
    if (tok.rfind("P:", 0) == 0) {
      const size_t a = tok.find(':', 2);
      const size_t b = a == std::string::npos ? a : tok.find(':', a + 1);
      if (b == std::string::npos) return false;
      op.table = tok.substr(2, a - 2);
      op.key = tok.substr(a + 1, b - a - 1);
      op.value = tok.substr(b + 1);
    } else if (tok.rfind("D:", 0) == 0) {
      const size_t a = tok.find(':', 2);
      if (a == std::string::npos) return false;
      op.del = true;
      op.table = tok.substr(2, a - 2);
      op.key = tok.substr(a + 1);
    } else {
      return false;
    }
    ops->push_back(std::move(op));
  }
  return true;
}

void HandleLine(const std::string& line, ChildRun* run) {
  std::istringstream in(line);
  std::string tag;
  in >> tag;
  if (tag == "O") {
    run->opened = true;
  } else if (tag == "R") {
    run->ready = true;
  } else if (tag == "B") {
    int tid, sync, n;
    Announced a;
    if (!(in >> tid >> a.wid >> sync >> n) || !ParseOps(in, n, &a.ops)) {
      run->protocol_errors.push_back("bad line: " + line.substr(0, 100));
      return;
    }
    a.sync = sync != 0;
    if (run->pending.count(tid) != 0) {
      run->protocol_errors.push_back("two writes in flight for thread " + std::to_string(tid));
    }
    run->pending[tid] = std::move(a);
  } else if (tag == "A") {
    Acked ack;
    uint64_t wid;
    if (!(in >> ack.tid >> wid >> ack.first_seq >> ack.count)) {
      run->protocol_errors.push_back("bad line: " + line.substr(0, 100));
      return;
    }
    auto it = run->pending.find(ack.tid);
    if (it == run->pending.end() || it->second.wid != wid) {
      run->protocol_errors.push_back("ack without intent: " + line);
      return;
    }
    ack.write = std::move(it->second);
    run->pending.erase(it);
    run->acked.push_back(std::move(ack));
  } else if (tag == "E") {
    run->child_error = true;
    run->error_line = line;
  } else {
    run->protocol_errors.push_back("unknown line: " + line.substr(0, 100));
  }
}

// Spawns the writer, reads its pipe, kills it per the schedule.
// early_kill_ms >= 0: kill that long after spawning, whatever the child does.
// Otherwise kill `after_ready_ms` after the child reported R.
void RunChild(const std::string& dir, uint64_t seed, int threads, int sync_pct, int early_kill_ms,
              int after_ready_ms, const std::string& stderr_path, ChildRun* run) {
  ChildSchedule schedule;
  if (early_kill_ms >= 0) {
    schedule.kill_after_start = std::chrono::milliseconds(early_kill_ms);
  } else {
    schedule.kill_after_ready = std::chrono::milliseconds(after_ready_ms);
  }
  const ChildExit e = test::RunChild({CRASH_WRITER_PATH, dir, std::to_string(seed),
                                      std::to_string(threads), std::to_string(sync_pct)},
                                     stderr_path, schedule, [run](const std::string& line) {
                                       HandleLine(line, run);
                                       return run->ready;
                                     });
  run->timed_out = e.timed_out;
  run->exit_status = e.status;
  run->killed = e.killed;
}

struct Totals {
  uint64_t trials = 0;
  uint64_t acked = 0;
  uint64_t acked_nosync = 0;
  uint64_t inflight = 0;
  uint64_t inflight_applied = 0;
  uint64_t killed_before_ready = 0;
  uint64_t torn_tails = 0;
  uint64_t replayed_records = 0;
  uint64_t max_sequence = 0;
  uint64_t write_backs_checked = 0;
  std::vector<std::string> violations;
};

class Verifier {
 public:
  Verifier(Totals* totals, uint64_t trial) : totals_(totals), trial_(trial) {}
  void Violation(const std::string& what) {
    totals_->violations.push_back("trial " + std::to_string(trial_) + ": " + what);
  }

 private:
  Totals* totals_;
  uint64_t trial_;
};

// Replays the change records; checks their internal consistency.
// (d): crash_seen against crash_a's records and the mirror's checkpoint.
void CheckWriteBacks(DB* db, const std::vector<Rec>& recs, uint64_t* last_checkpoint,
                     Totals* totals, Verifier* v) {
  std::vector<EventSourceMappingConfiguration> mappings;
  std::string next;
  Status s = db->triggers()->ListEventSourceMappings("", "", "", 0, &mappings, &next);
  if (!s.ok() || mappings.size() > 1) {
    v->Violation("mappings: " + s.ToString() + ", " + std::to_string(mappings.size()));
    return;
  }
  std::vector<std::pair<std::string, std::string>> seen;
  s = ScanAll(db, "crash_seen", &seen);
  if (s.IsNotFound()) return;  // killed before the table was created
  if (!s.ok()) {
    v->Violation("scan crash_seen: " + s.ToString());
    return;
  }
  if (mappings.empty()) {
    if (!seen.empty()) v->Violation("write-backs without a mapping");
    return;
  }
  MappingMetrics m;
  s = db->triggers()->GetMappingMetrics(mappings[0].uuid, &m);
  if (!s.ok()) {
    v->Violation("GetMappingMetrics: " + s.ToString());
    return;
  }
  const uint64_t p = m.position;
  if (p < *last_checkpoint) {
    v->Violation("the mirror's checkpoint moved back from " + std::to_string(*last_checkpoint) +
                 " to " + std::to_string(p));
  }
  *last_checkpoint = std::max(*last_checkpoint, p);
  std::map<std::string, std::string> want;
  for (const Rec& r : recs) {
    if (r.table != "crash_a" || r.seq >= p) continue;
    char key[32];
    std::snprintf(key, sizeof(key), "%020llu", static_cast<unsigned long long>(r.seq));
    want[key] = std::string(EventNameString(r.event)) + " " + r.key + " " + r.new_image;
  }
  std::map<std::string, std::string> got(seen.begin(), seen.end());
  if (got != want) {
    size_t shown = 0;
    for (const auto& [k, w] : want) {
      auto it = got.find(k);
      if (it == got.end()) {
        if (shown++ < 3)
          v->Violation("record " + k + " below checkpoint " + std::to_string(p) +
                       " has no write-back (skipped)");
      } else if (it->second != w) {
        if (shown++ < 3)
          v->Violation("write-back " + k + " is '" + it->second.substr(0, 60) + "', expected '" +
                       w.substr(0, 60) + "'");
      }
    }
    for (const auto& [k, g] : got) {
      if (want.count(k) == 0 && shown++ < 6) {
        v->Violation("write-back " + k + " without its checkpoint (P = " + std::to_string(p) +
                     ") or without a crash_a record");
      }
    }
  }
  totals->write_backs_checked += got.size();
}

void ReplayRecords(const std::vector<Rec>& recs, const std::map<std::string, StreamViewType>& views,
                   State* replayed, Verifier* v) {
  SequenceNumber prev = 0;
  for (const Rec& r : recs) {
    const std::string where =
        "record " + std::to_string(r.seq) + " (" + r.table + "/" + r.key + ")";
    if (r.seq <= prev) v->Violation(where + ": sequence not increasing");
    prev = r.seq;
    if (r.table == "crash_seen") continue;  // write-backs: checked by (d)
    auto vi = views.find(r.table);
    if (vi == views.end()) {
      v->Violation(where + ": unexpected table");
      continue;
    }
    const bool with_old = vi->second == StreamViewType::kNewAndOldImages;
    auto& items = (*replayed)[r.table];
    auto cur = items.find(r.key);
    switch (r.event) {
      case EventName::kInsert:
        if (cur != items.end()) v->Violation(where + ": INSERT of present key");
        if (r.has_old || !r.has_new) v->Violation(where + ": INSERT images");
        items[r.key] = r.new_image;
        break;
      case EventName::kModify:
        if (cur == items.end()) {
          v->Violation(where + ": MODIFY of missing key");
        } else if (cur->second == r.new_image) {
          v->Violation(where + ": MODIFY to the same value");
        }
        if (!r.has_new || r.has_old != with_old) {
          v->Violation(where + ": MODIFY images");
        }
        if (with_old && r.has_old && cur != items.end() && cur->second != r.old_image) {
          v->Violation(where + ": MODIFY old image " + Short(r.old_image) + " but replayed value " +
                       Short(cur->second));
        }
        items[r.key] = r.new_image;
        break;
      case EventName::kRemove:
        if (cur == items.end()) v->Violation(where + ": REMOVE of missing key");
        if (r.has_new || r.has_old != with_old) {
          v->Violation(where + ": REMOVE images");
        }
        if (with_old && r.has_old && cur != items.end() && cur->second != r.old_image) {
          v->Violation(where + ": REMOVE old image mismatch");
        }
        items.erase(r.key);
        break;
    }
  }
}

// Checks that an acknowledged write's records are at the sequence numbers
// its CommitInfo named.
void CheckAckedRecords(const Acked& a, const std::map<SequenceNumber, const Rec*>& by_seq,
                       Verifier* v) {
  const std::string who = "write " + std::to_string(a.tid) + "/" + std::to_string(a.write.wid) +
                          " (seq " + std::to_string(a.first_seq) + " count " +
                          std::to_string(a.count) + ")";
  if (a.count == 0) return;
  size_t op_index = 0;
  for (uint32_t i = 0; i < a.count; ++i) {
    auto it = by_seq.find(a.first_seq + i);
    if (it == by_seq.end()) {
      v->Violation(who + ": record " + std::to_string(a.first_seq + i) +
                   " missing from the change stream");
      return;
    }
    const Rec& r = *it->second;
    while (op_index < a.write.ops.size() &&
           (a.write.ops[op_index].table != r.table || a.write.ops[op_index].key != r.key)) {
      ++op_index;
    }
    if (op_index == a.write.ops.size()) {
      v->Violation(who + ": record " + std::to_string(r.seq) + " (" + r.table + "/" + r.key +
                   ") is not an operation of the write");
      return;
    }
    const Op& op = a.write.ops[op_index++];
    if (op.del != (r.event == EventName::kRemove)) {
      v->Violation(who + ": record " + std::to_string(r.seq) + " has the wrong event");
    }
    if (!op.del && r.new_image != op.value) {
      v->Violation(who + ": record " + std::to_string(r.seq) + " has new image " +
                   Short(r.new_image) + ", wrote " + Short(op.value));
    }
    if (r.end_of_batch != (i + 1 == a.count)) {
      v->Violation(who + ": record " + std::to_string(r.seq) + " end_of_batch is wrong");
    }
  }
}

void CheckReport(DB* db, Verifier* v, Totals* totals) {
  const RecoveryReport& r = db->recovery_report();
  const SequenceNumber last = db->LastSequence();
  if (r.index_sequence > last) {
    v->Violation("report: index_sequence " + std::to_string(r.index_sequence) + " > LastSequence " +
                 std::to_string(last));
  }
  if (r.replayed_records > last - std::min(last, r.index_sequence)) {
    v->Violation("report: replayed " + std::to_string(r.replayed_records) + " records but only " +
                 std::to_string(last - r.index_sequence) + " after the index");
  }
  if (r.replayed_frames > last - std::min(last, r.index_sequence)) {
    v->Violation("report: more frames replayed than sequences after the index");
  }
  if (!r.skipped.empty()) v->Violation("report: skipped ranges in default mode");
  if (r.torn_tail) {
    ++totals->torn_tails;
    uint64_t first = 0;
    if (!log::ParseSegmentFileName(r.torn_tail_segment, &first)) {
      v->Violation("report: torn tail names '" + r.torn_tail_segment + "'");
    }
    if (r.torn_tail_offset != 0 &&
        (r.torn_tail_offset < log::kSegmentHeaderSize || r.torn_tail_offset % 8 != 0)) {
      v->Violation("report: torn tail offset " + std::to_string(r.torn_tail_offset));
    }
    if (r.torn_tail_offset != 0 && r.torn_tail_bytes == 0) {
      v->Violation("report: torn tail of 0 bytes");
    }
  } else if (!r.torn_tail_segment.empty() || r.torn_tail_offset != 0 || r.torn_tail_bytes != 0) {
    v->Violation("report: torn tail fields set without torn_tail");
  }
  totals->replayed_records += r.replayed_records;
}

TEST(CrashTest, RandomKills) {
  const uint64_t trials = EnvU64("RUNNEL_CRASH_TRIALS", 50);
  const uint64_t fresh_every = std::max<uint64_t>(1, EnvU64("RUNNEL_CRASH_FRESH_EVERY", 8));
  const uint64_t seed = EnvU64("RUNNEL_CRASH_SEED", std::random_device()());
  std::printf(
      "crash test: %llu trials, seed %llu (RUNNEL_CRASH_SEED=%llu to "
      "repeat the schedule)\n",
      static_cast<unsigned long long>(trials), static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  TempDir tmp;
  const std::string stderr_path = tmp.Sub("child_stderr.txt");
  Totals totals;
  const Clock::time_point t0 = Clock::now();

  std::string dir;
  uint64_t last_checkpoint = 0;  // the mirror mapping's, in this directory
  State state;                   // acknowledged state of the current directory
  bool dir_ready = false;        // some child reported R in this directory
  const std::map<std::string, StreamViewType> views = {
      {"crash_a", StreamViewType::kNewAndOldImages}, {"crash_b", StreamViewType::kNewImage}};

  for (uint64_t trial = 0; trial < trials; ++trial) {
    if (trial % fresh_every == 0) {
      dir = tmp.Sub("db" + std::to_string(trial));
      state.clear();
      last_checkpoint = 0;
      dir_ready = false;
    }
    Verifier v(&totals, trial);
    const int threads = 1 + static_cast<int>(rng() % 4);
    // Mostly sync writes; some trials without any (sync=false writes must
    // survive a crash of the process too, and then there are many more).
    const int sync_pct_choices[4] = {80, 80, 50, 0};
    const int sync_pct = sync_pct_choices[rng() % 4];
    // Some kills land while the child is still starting or recovering.
    const bool early = rng() % 4 == 0;
    const int early_ms = early ? static_cast<int>(rng() % 25) : -1;
    const int after_ready_ms = 5 + static_cast<int>(rng() % 146);
    const size_t violations_before = totals.violations.size();

    ChildRun run;
    RunChild(dir, rng(), threads, sync_pct, early_ms, after_ready_ms, stderr_path, &run);
    if (HasFatalFailure()) return;
    ++totals.trials;
    if (!run.killed || run.child_error) {
      ADD_FAILURE() << "trial " << trial << ": the child was not killed by us "
                    << "(wait status " << run.exit_status << ") " << run.error_line
                    << "\nchild stderr:\n"
                    << ReadFile(stderr_path);
      return;
    }
    for (const std::string& e : run.protocol_errors) v.Violation(e);
    if (run.timed_out) {
      v.Violation(
          "the child did not get ready (open + create tables) within "
          "30 s; opened: " +
          std::string(run.opened ? "yes" : "no"));
    }
    if (!run.ready) ++totals.killed_before_ready;
    dir_ready |= run.ready;

    // Expected state: everything acknowledged; in-flight writes undecided.
    for (const Acked& a : run.acked) {
      Apply(a.write.ops, &state);
      ++totals.acked;
      if (!a.write.sync) ++totals.acked_nosync;
      totals.max_sequence = std::max<uint64_t>(totals.max_sequence, a.first_seq + a.count);
    }

    Options options;
    options.segment_bytes = 64 << 10;
    options.write_buffer_bytes = 64 << 10;
    std::unique_ptr<DB> db;
    Status s = DB::Open(options, dir, &db);
    if (!s.ok()) {
      v.Violation("reopen failed: " + s.ToString());
      break;
    }
    CheckReport(db.get(), &v, &totals);

    State actual;
    bool tables = true;
    for (const char* table : kTables) {
      std::vector<std::pair<std::string, std::string>> items;
      s = ScanAll(db.get(), table, &items);
      if (s.IsNotFound()) {
        tables = false;
        if (dir_ready) v.Violation(std::string("table ") + table + " lost");
        continue;
      }
      if (!s.ok()) {
        v.Violation(std::string("scan ") + table + ": " + s.ToString());
        continue;
      }
      auto& m = actual[table];
      uint64_t bytes = 0;
      for (auto& [k, val] : items) {
        bytes += k.size() + val.size();
        m.emplace(std::move(k), std::move(val));
      }
      TableDescription d;
      s = db->DescribeTable(table, &d);
      if (!s.ok()) {
        v.Violation("describe: " + s.ToString());
      } else if (d.item_count != m.size() || d.table_size_bytes != bytes) {
        v.Violation(std::string("describe ") + table + ": item_count " +
                    std::to_string(d.item_count) + " size " + std::to_string(d.table_size_bytes) +
                    ", table has " + std::to_string(m.size()) + " items of " +
                    std::to_string(bytes) + " bytes");
      }
    }
    for (auto it = actual.begin(); it != actual.end();) {
      it = it->second.empty() ? actual.erase(it) : std::next(it);
    }
    for (auto it = state.begin(); it != state.end();) {
      it = it->second.empty() ? state.erase(it) : std::next(it);
    }

    // (a) per writer thread: acknowledged state, or with the in-flight write.
    std::set<int> tids;
    for (const auto& [table, items] : actual) {
      for (const auto& [k, val] : items) {
        const int owner = OwnerOf(k);
        if (owner < 0) v.Violation("unexpected key " + table + "/" + k);
        tids.insert(owner);
      }
    }
    for (const auto& [table, items] : state) {
      for (const auto& [k, val] : items) tids.insert(OwnerOf(k));
    }
    for (const auto& [tid, a] : run.pending) tids.insert(tid);
    totals.inflight += run.pending.size();
    for (int tid : tids) {
      const State want = Restrict(state, tid);
      const State got = Restrict(actual, tid);
      if (got == want) continue;
      auto p = run.pending.find(tid);
      if (p != run.pending.end()) {
        State with = state;
        Apply(p->second.ops, &with);
        for (auto it = with.begin(); it != with.end();) {
          it = it->second.empty() ? with.erase(it) : std::next(it);
        }
        if (Restrict(with, tid) == got) {
          ++totals.inflight_applied;
          continue;
        }
      }
      v.Violation("thread " + std::to_string(tid) +
                  " keys differ from the acknowledged state (in flight: " +
                  (p == run.pending.end() ? std::string("nothing")
                                          : "write " + std::to_string(p->second.wid)) +
                  "):" + DiffStates(want, got));
    }

    // (b) the change stream reproduces the tables.
    if (tables) {
      std::vector<Rec> recs;
      s = ReadAll(db.get(), 1, &recs);
      if (!s.ok()) {
        v.Violation("ReadAll: " + s.ToString());
      } else {
        State replayed;
        ReplayRecords(recs, views, &replayed, &v);
        for (auto it = replayed.begin(); it != replayed.end();) {
          it = it->second.empty() ? replayed.erase(it) : std::next(it);
        }
        if (replayed != actual) {
          v.Violation("replay of the change stream differs from Scan:" +
                      DiffStates(replayed, actual));
        }
        std::map<SequenceNumber, const Rec*> by_seq;
        for (const Rec& r : recs) by_seq[r.seq] = &r;
        for (const Acked& a : run.acked) CheckAckedRecords(a, by_seq, &v);
        CheckWriteBacks(db.get(), recs, &last_checkpoint, &totals, &v);
        if (!recs.empty() && recs.back().seq > db->LastSequence()) {
          v.Violation("record beyond LastSequence");
        }
      }
    }
    for (const Acked& a : run.acked) {
      if (a.count > 0 && a.first_seq + a.count - 1 > db->LastSequence()) {
        v.Violation("acknowledged sequence " + std::to_string(a.first_seq + a.count - 1) +
                    " beyond LastSequence " + std::to_string(db->LastSequence()));
      }
    }
    s = db->Close();
    if (!s.ok()) v.Violation("close: " + s.ToString());
    db.reset();

    // The verified state resolves whatever was in flight.
    state = actual;
    if (totals.violations.size() > violations_before) {
      std::printf(
          "trial %llu: %zu violation(s); threads %d, sync %d%%, %s, "
          "%zu acked\n",
          static_cast<unsigned long long>(trial), totals.violations.size() - violations_before,
          threads, sync_pct, early ? "early kill" : "kill after ready", run.acked.size());
    }
    if (totals.violations.size() > 50) break;
  }

  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "crash test: %llu trials in %.1f s, %llu acknowledged writes (%llu "
      "sync=false), %llu in flight at the kill (%llu of them applied), %llu "
      "kills before the tables were ready, %llu torn tails cut, %llu records "
      "replayed by recovery, highest sequence %llu, %llu trigger write-backs "
      "checked; %zu violations\n",
      static_cast<unsigned long long>(totals.trials), secs,
      static_cast<unsigned long long>(totals.acked),
      static_cast<unsigned long long>(totals.acked_nosync),
      static_cast<unsigned long long>(totals.inflight),
      static_cast<unsigned long long>(totals.inflight_applied),
      static_cast<unsigned long long>(totals.killed_before_ready),
      static_cast<unsigned long long>(totals.torn_tails),
      static_cast<unsigned long long>(totals.replayed_records),
      static_cast<unsigned long long>(totals.max_sequence),
      static_cast<unsigned long long>(totals.write_backs_checked), totals.violations.size());
  for (const std::string& e : totals.violations) {
    ADD_FAILURE() << e << " (seed " << seed << ")";
  }
}

}  // namespace
}  // namespace runnel::test
