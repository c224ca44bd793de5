// Copyright 2026 The runnel Authors.
//
// Trigger power-loss test: the crash campaign's mixed workload, with a
// trigger that writes back, over the FaultInjectionEnv (tests/fault_env.h)
// that drops every byte not yet fsynced when the power is cut.
//
// Tables: "src" (NEW_AND_OLD_IMAGES), "aux" (NEW_IMAGE) and "Seen" (no
// stream). Each iteration opens the DB with Options::run_triggers and an
// in-process function "rec" that writes back, for every record of src, the
// item Seen[<20-digit sequence number>] = "<event> <key> <old> <new>", where
// an image is "+<bytes>", or "-" if the record has none (INSERT has no old
// image, REMOVE no new one). A mapping src -> rec (random batch size) runs
// while one writer thread commits a mixed workload on 64 keys per table:
// single puts that insert or overwrite (INSERT, MODIFY; most go to src),
// single deletes of present keys (REMOVE), WriteBatches of 2-5 puts and
// deletes of distinct keys (src only, aux only, or both tables), and 3 % of
// writes that change nothing (the same value again, or a delete of an absent
// key: no record); 10, 50 or 90 % of the writes are sync=true. Every other
// put writes a new value (1-200 bytes, 2 % 2-8 KB, so the log rotates
// often). The writer keeps a model of both tables and predicts each write's
// records before committing it. At a random point the power is
// cut (after a random number of file operations: inside a commit, a
// checkpoint, a rotation, a LevelDB flush; or after a random time), the DB is
// abandoned, the unsynced bytes are dropped (all, a torn prefix, or a
// zero-filled tail), the log left on disk is parsed independently
// (ScanLog, tests/testutil.h), and the DB is reopened without the runtime to
// check:
//
//  (a) the writes: the src and aux records added since the last check are
//      exactly the records of a prefix of the writer's writes, in commit
//      order; each write's records are contiguous, at the sequence numbers
//      its CommitInfo named (as many as it said), with the events, keys and
//      images the writer's model of the tables predicts, end_of_batch on its
//      last; that prefix includes every write up to the last one
//      acknowledged with sync=true (a sync write that changed nothing still
//      waited for the fsync), so an acknowledged sync put is there with its
//      value and an acknowledged sync delete has its key absent unless a
//      later surviving write changed it; the write that failed at the cut is
//      there whole or not at all; no batch is cut in two; the records of
//      earlier iterations are all still there; and src and aux (Scan) equal
//      the model after that prefix;
//  (b) every item of Seen is the write-back of a src record still in the
//      log, with exactly that record's "<event> <key> <old> <new>" (no aux
//      record has one);
//  (c) Seen holds an item for EXACTLY the src records below the mapping's
//      durable checkpoint P: a power cut never separates write-backs from
//      the checkpoint of their batch (one atomic frame), never skips a
//      record, never keeps a write-back whose checkpoint was lost; and P
//      never moves back;
//  (d) the function binding aside, the mapping survives (same UUID);
//  (e) replaying the change records of src and aux from sequence 1
//      reproduces both tables' Scan;
//  (f) the durable index is a prefix of the durable log: the log on disk has
//      no damage but a torn tail of its newest segment, every segment but
//      the newest opens with a catalog snapshot, recovery_report()
//      .index_sequence is at most the last sequence of the log on disk, and
//      LastSequence() equals it.
//
// Every fifth iteration ends with a drain instead of a power cut: the
// runtime catches up (WaitUntilIdle), the DB is closed, the same checks run
// and Seen then holds one item per src record. A fresh directory is used
// every five iterations.
//
// Environment: RUNNEL_TRIGGER_POWER_LOSS_ITERATIONS (default 40),
// RUNNEL_TRIGGER_POWER_LOSS_SEED (default random; printed).
//
// The same campaign runs with a filtered mapping (FilterCriteria) and with
// one of ParallelizationFactor 4; the materialized view and a tumbling
// window run their own workloads in the same loop (RunPowerLoss). See each
// TEST below.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cdc/env_util.h"
#include "gtest/gtest.h"
#include "runnel/db.h"
#include "runnel/function.hpp"
#include "runnel/triggers.h"
#include "tests/campaign.h"
#include "tests/fault_env.h"
#include "tests/testutil.h"
#include "tests/view_check.h"

#ifndef MATERIALIZED_VIEW
#error "MATERIALIZED_VIEW must name the examples/materialized_view plugin"
#endif
#ifndef WINDOW_FUNCTION
#error "WINDOW_FUNCTION must name the window_function plugin"
#endif

namespace runnel::test {
namespace {

// The coverage counters (CampaignReport::Covered) are asserted from this many
// iterations on: measured in 40 runs of 5 iterations (4 power cuts each),
// none of them was ever zero.
constexpr uint64_t kMinIterations = 20;
// ... except for acknowledged sync=false writes lost to a cut, asserted from
// this many iterations on, the default size. Measured in 40 runs of 5
// iterations: none lost in 22 (a log rotation, or a synced commit of the
// runtime, makes the writer's tail durable); in 40 runs of one random and one
// steered iteration (see the loop): none lost in 6. With 8 steered and 24
// random cuts a run of 40 loses none with probability about 1e-8.
constexpr uint64_t kMinLostIterations = 40;

// ... and for the windows campaign (its default size). Measured in 7 runs
// of 10 iterations (2 directories, 8 cuts): 4-5 windows spanning a cut and
// 7-17 final checks after cuts in each; 1000 iterations gave 408 and 1160.
constexpr uint64_t kMinWindowIterations = 10;

constexpr char kSrc[] = "src";  // NEW_AND_OLD_IMAGES, the mapping's source
constexpr char kAux[] = "aux";  // NEW_IMAGE
constexpr int kKeys = 64;       // per table

std::string Image(bool has, std::string_view image) { return has ? "+" + std::string(image) : "-"; }

// The write-back of a record: "<event> <key> <old> <new>".
std::string WriteBack(std::string_view event, std::string_view key, bool has_old,
                      std::string_view old_image, bool has_new, std::string_view new_image) {
  return std::string(event) + " " + std::string(key) + " " + Image(has_old, old_image) + " " +
         Image(has_new, new_image);
}

// The filter of the filtered mappings (FilterCriteria): INSERTs and REMOVEs
// (not MODIFYs) of the keys ending in 3 or 7, about one src record in ten.
constexpr char kFilter[] = R"({"eventName":["INSERT","REMOVE"],)"
                           R"("dynamodb":{"Keys":{"key":{"S":[{"suffix":"3"},{"suffix":"7"}]}}}})";

bool FilterMatches(std::string_view event, std::string_view key) {
  return event != "MODIFY" && !key.empty() && (key.back() == '3' || key.back() == '7');
}

// What the function is handed during one open of the DB, checked as it
// runs: with a filter, no record that matches none; while the power is on,
// the records of each key in sequence order (a batch is redelivered only
// after its commit failed, which here only a power cut makes happen).
struct Delivery {
  const FaultInjectionEnv* env = nullptr;
  bool filtered = false;
  std::mutex mu;
  std::map<std::string, uint64_t> last;  // key -> the last sequence delivered
  std::vector<std::string> violations;
  uint64_t records = 0;

  void Note(std::string_view event, std::string_view key, uint64_t seq) {
    const bool power_on = !env->crashed();
    std::lock_guard<std::mutex> lock(mu);
    ++records;
    const std::string where =
        "record " + std::to_string(seq) + " (" + std::string(event) + " " + std::string(key) + ")";
    if (filtered && !FilterMatches(event, key)) {
      violations.push_back(where + " matches no filter but was delivered");
    }
    uint64_t& prev = last[std::string(key)];
    if (power_on && seq <= prev) {
      violations.push_back(where + " delivered after record " + std::to_string(prev) +
                           " of the same key");
    }
    prev = std::max(prev, seq);
  }
};

// Binds the write-back function in this process (after every open);
// `delivery` (reset here) watches what it is handed.
Status BindFunction(DB* db, Delivery* delivery) {
  {
    std::lock_guard<std::mutex> lock(delivery->mu);
    delivery->last.clear();
  }
  FunctionConfiguration f;
  f.function_name = "rec";
  return db->triggers()->RegisterInProcessFunction(
      f, [delivery](const runnel_batch& b, runnel_context* c) {
        fn::Context ctx(c);
        for (const fn::Record& r : fn::Batch(b)) {
          delivery->Note(r.event_name(), r.key(), r.sequence_number());
          const std::string v = WriteBack(r.event_name(), r.key(), r.has_old_image(), r.old_image(),
                                          r.has_new_image(), r.new_image());
          if (!ctx.Put("Seen", SeqKey(r.sequence_number()), v)) return 1;
        }
        return 0;
      });
}

// A change record as the writer's model predicts it.
struct Expected {
  std::string table, key;
  EventName event = EventName::kInsert;
  bool has_old = false, has_new = false;
  std::string old_image, new_image;
};

struct Write {
  std::vector<Op> ops;
  std::vector<Expected> records;  // predicted before the write was committed
  bool sync = false;
  bool ok = false;  // acknowledged
  CommitInfo info;
};

// Applies `ops` to *state and returns the records they make (none for an
// operation that changes nothing), by the images of each table's view type.
std::vector<Expected> ApplyAndPredict(const std::vector<Op>& ops, State* state) {
  std::vector<Expected> out;
  for (const Op& op : ops) {
    auto& items = (*state)[op.table];
    const auto cur = items.find(op.key);
    const bool with_old = op.table == kSrc;
    Expected e;
    e.table = op.table;
    e.key = op.key;
    if (op.del) {
      if (cur == items.end()) continue;
      e.event = EventName::kRemove;
      e.has_old = with_old;
      if (with_old) e.old_image = cur->second;
      items.erase(cur);
    } else {
      if (cur != items.end() && cur->second == op.value) continue;
      e.event = cur == items.end() ? EventName::kInsert : EventName::kModify;
      e.has_old = with_old && cur != items.end();
      if (e.has_old) e.old_image = cur->second;
      e.has_new = true;
      e.new_image = op.value;
      items[op.key] = op.value;
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Why record `r` is not the predicted `e`; empty if it is.
std::string Mismatch(const Rec& r, const Expected& e) {
  if (r.table == e.table && r.key == e.key && r.event == e.event && r.has_old == e.has_old &&
      r.has_new == e.has_new && (!e.has_old || r.old_image == e.old_image) &&
      (!e.has_new || r.new_image == e.new_image)) {
    return "";
  }
  return "record " + std::to_string(r.seq) + " is " + r.table + "/" +
         WriteBack(EventNameString(r.event), r.key, r.has_old, Short(r.old_image), r.has_new,
                   Short(r.new_image)) +
         ", expected " + e.table + "/" +
         WriteBack(EventNameString(e.event), e.key, e.has_old, Short(e.old_image), e.has_new,
                   Short(e.new_image));
}

std::string Key(std::mt19937_64& rng) { return Numbered("k", rng() % kKeys); }

// The operations of one write, given the tables as the writer sees them.
std::vector<Op> MakeOps(std::mt19937_64& rng, const State& live, uint64_t* value_counter) {
  auto value = [&] {
    std::string v = "v" + std::to_string(++*value_counter) + ".";
    const size_t len = rng() % 50 == 0 ? 2000 + rng() % 6000 : 1 + rng() % 200;
    v.append(len, static_cast<char>('a' + rng() % 26));
    return v;
  };
  auto table = [&]() -> std::string { return rng() % 4 == 0 ? kAux : kSrc; };
  // A present key of `t` not in `used`; empty if none was found.
  auto present = [&](const std::string& t, const std::set<std::string>& used) -> std::string {
    const auto it = live.find(t);
    if (it == live.end() || it->second.empty()) return "";
    for (int attempt = 0; attempt < 4; ++attempt) {
      auto k = it->second.begin();
      std::advance(k, static_cast<long>(rng() % it->second.size()));
      if (used.count(t + "/" + k->first) == 0) return k->first;
    }
    return "";
  };
  std::vector<Op> ops;
  const uint64_t kind = rng() % 100;
  if (kind < 70) {  // one put, or one delete of a present key
    Op op;
    op.table = table();
    if (kind >= 48) op.key = present(op.table, {});
    op.del = !op.key.empty();
    if (!op.del) {
      op.key = Key(rng);
      op.value = value();
    }
    ops.push_back(std::move(op));
  } else if (kind < 73) {  // a write that changes nothing
    Op op;
    op.table = table();
    op.key = present(op.table, {});
    if (!op.key.empty() && rng() % 2 == 0) {
      op.value = live.at(op.table).at(op.key);  // the same value again
    } else {
      op.del = true;  // a delete of an absent key
      const auto it = live.find(op.table);
      do {
        op.key = "absent" + std::to_string(rng() % 1000);
      } while (it != live.end() && it->second.count(op.key) != 0);
    }
    ops.push_back(std::move(op));
  } else {  // a batch: src only, aux only, or both tables
    const int scope = static_cast<int>(rng() % 3);
    const int n = 2 + static_cast<int>(rng() % 4);
    std::set<std::string> used;
    for (int i = 0; i < n; ++i) {
      Op op;
      op.table = scope == 0 ? kSrc : scope == 1 ? kAux : i == 0 ? kSrc : i == 1 ? kAux : table();
      if (rng() % 4 == 0) op.key = present(op.table, used);
      op.del = !op.key.empty();
      if (!op.del) {
        op.key = Key(rng);
        op.value = value();
      }
      if (!used.insert(op.table + "/" + op.key).second) continue;
      ops.push_back(std::move(op));
    }
  }
  return ops;
}

// One writer: commits writes made by MakeOps until `budget` or the first
// failure (the power is out). `live` is the writer's model of the tables.
void RunWriter(DB* db, uint64_t seed, int budget, int sync_pct, State live, uint64_t* value_counter,
               std::vector<Write>* out) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < budget; ++i) {
    Write w;
    w.ops = MakeOps(rng, live, value_counter);
    w.sync = static_cast<int>(rng() % 100) < sync_pct;
    State next = live;
    w.records = ApplyAndPredict(w.ops, &next);
    WriteBatch batch;
    for (const Op& op : w.ops) {
      if (op.del) {
        batch.Delete(op.table, op.key);
      } else {
        batch.Put(op.table, op.key, op.value);
      }
    }
    WriteOptions wo;
    wo.sync = w.sync;
    w.ok = db->Write(wo, batch, &w.info).ok();
    const bool stop = !w.ok;
    out->push_back(std::move(w));
    if (stop) return;
    live = std::move(next);
  }
}

struct Totals {
  uint64_t cuts = 0, writes_acked = 0, sync_acked = 0, noop_writes = 0, batches = 0;
  uint64_t modifies = 0, removes = 0, acked_lost = 0, failed_in_log = 0;
  uint64_t records_checked = 0, src_records = 0, below_checkpoint = 0;
  uint64_t torn_tails = 0, index_behind = 0, max_segments = 0;
  uint64_t filtered_below = 0;  // src records below a checkpoint that match no filter
  uint64_t uneven_cuts = 0;     // cuts after which the lanes' positions differed
  uint64_t delivered = 0;       // records handed to the function
};

// What the checks carry from one iteration to the next (per directory).
struct Carried {
  State state;                  // src and aux as last checked
  size_t records = 0;           // visible records at the last check
  SequenceNumber last_seq = 0;  // the last of them
  uint64_t checkpoint = 0;      // the mapping's P at the last check
  std::vector<uint64_t> lanes;  // the lanes' positions at the last check
};

// The mapping of a write-back campaign: its lanes (ParallelizationFactor),
// and in which directories it has kFilter (0: none, 1: all, 2: every other).
struct Shape {
  uint32_t lanes = 1;
  int filter_every = 0;
};

// Check (a): the new records against the writes; returns the state the
// tables must have.
State CheckWrites(const std::vector<Rec>& recs, const std::vector<Write>& writes,
                  const Carried& before, Totals* totals, Violations* v) {
  size_t old = 0;
  while (old < recs.size() && recs[old].seq <= before.last_seq) ++old;
  if (old != before.records) {
    v->Add(std::to_string(before.records) + " records up to sequence " +
           std::to_string(before.last_seq) + " at the last check, " + std::to_string(old) + " now");
  }
  State state = before.state;
  size_t i = old;                     // the next record to explain
  size_t first_lost = writes.size();  // the first write with records not in the log
  for (size_t k = 0; k < writes.size(); ++k) {
    const Write& w = writes[k];
    const std::string name = "write #" + std::to_string(k) + (w.sync ? " (sync, " : " (") +
                             (w.ok ? "acknowledged)" : "failed at the cut)");
    if (w.ok && w.info.record_count != w.records.size()) {
      v->Add(name + ": CommitInfo says " + std::to_string(w.info.record_count) +
             " records, the model predicts " + std::to_string(w.records.size()));
    }
    if (w.records.empty()) continue;  // nothing to find (its fsync: below)
    if (first_lost == writes.size() && i == recs.size()) first_lost = k;
    if (k >= first_lost) {
      totals->acked_lost += w.ok;
      continue;
    }
    for (size_t j = 0; j < w.records.size(); ++j, ++i) {
      if (i == recs.size()) {
        v->Add(name + " is cut in two: the log ends after " + std::to_string(j) + " of its " +
               std::to_string(w.records.size()) + " records");
        return state;
      }
      const Rec& r = recs[i];
      std::string why = Mismatch(r, w.records[j]);
      if (why.empty() && w.ok && r.seq != w.info.first_sequence + j) {
        why = "record " + std::to_string(r.seq) + " should be at " +
              std::to_string(w.info.first_sequence + j) + " (CommitInfo)";
      }
      if (why.empty() && j > 0 && r.seq != recs[i - 1].seq + 1) {
        why = "record " + std::to_string(r.seq) + " does not follow " +
              std::to_string(recs[i - 1].seq);
      }
      if (why.empty() && r.end_of_batch != (j + 1 == w.records.size())) {
        why = "record " + std::to_string(r.seq) + ": wrong end_of_batch";
      }
      if (!why.empty()) {
        v->Add(name + ": " + why);
        return state;
      }
    }
    totals->failed_in_log += !w.ok;
    ApplyAndPredict(w.ops, &state);
  }
  // Every write up to the last sync-acknowledged one is in the log.
  for (size_t k = writes.size(); k-- > first_lost;) {
    if (!writes[k].ok || !writes[k].sync) continue;
    v->Add("write #" + std::to_string(k) + " was acknowledged with sync=true, but " +
           (k == first_lost ? std::string("its records are")
                            : "the records of write #" + std::to_string(first_lost) + " are") +
           " not in the log (its last record is " +
           std::to_string(recs.empty() ? 0 : recs.back().seq) + ")");
    break;
  }
  if (i < recs.size()) {
    v->Add("records " + std::to_string(recs[i].seq) + ".." + std::to_string(recs.back().seq) +
           " belong to no write (" + std::to_string(writes.size()) + " writes)");
  }
  totals->records_checked += i - old;
  return state;
}

// Reads src and aux; compares them with `want` (check (a)) and with the
// replay of `recs` (check (e)).
State CheckTables(DB* db, const std::vector<Rec>& recs, const State& want, Violations* v) {
  State actual, replayed, expected = want;
  for (const char* t : {kSrc, kAux}) {
    std::vector<std::pair<std::string, std::string>> items;
    const Status s = ScanAll(db, t, &items);
    if (!s.ok()) v->Add(std::string("scan ") + t + ": " + s.ToString());
    actual[t].insert(items.begin(), items.end());
  }
  Prune(&actual);
  Prune(&expected);
  ReplayRecords(recs, {{kSrc, StreamViewType::kNewAndOldImages}, {kAux, StreamViewType::kNewImage}},
                &replayed, v);
  if (actual != expected) {
    v->Add("the tables differ from the writes:" + DiffStates(expected, actual));
  }
  if (actual != replayed) {
    v->Add("replaying the change records does not reproduce the tables (replay vs Scan):" +
           DiffStates(replayed, actual));
  }
  return actual;
}

// Checks (b)-(d); with a filter, "the src records" of (b) and (c) are the
// matching ones (the others are never delivered); with lanes, (c) holds per
// lane. After a drain the checkpoint is past the last src record, filtered
// or not (the position moves past filtered records durably).
void CheckSeen(DB* db, const std::vector<Rec>& recs, const std::string& uuid, const Shape& shape,
               bool filtered, bool drained, Carried* carried, Totals* totals, Violations* v) {
  std::map<uint64_t, std::string> src;  // seq -> expected write-back
  std::vector<uint64_t> unmatched;      // src records that match no filter
  uint64_t last_src = 0;
  for (const Rec& r : recs) {
    if (r.table != kSrc) continue;
    last_src = r.seq;
    if (filtered && !FilterMatches(EventNameString(r.event), r.key)) {
      unmatched.push_back(r.seq);
      continue;
    }
    src[r.seq] =
        WriteBack(EventNameString(r.event), r.key, r.has_old, r.old_image, r.has_new, r.new_image);
  }
  totals->src_records += src.size();
  std::vector<std::pair<std::string, std::string>> seen;
  Status s = ScanAll(db, "Seen", &seen);
  if (!s.ok()) v->Add("scan Seen: " + s.ToString());
  std::vector<EventSourceMappingConfiguration> mappings;
  std::string next;
  s = db->triggers()->ListEventSourceMappings("", "", "", 0, &mappings, &next);
  if (!s.ok() || mappings.size() != 1 || mappings[0].uuid != uuid) {
    v->Add("the mapping " + uuid + " did not survive (" + std::to_string(mappings.size()) +
           " mappings)");
    return;
  }
  if (mappings[0].filter_patterns.size() != (filtered ? 1u : 0u)) {
    v->Add("the mapping has " + std::to_string(mappings[0].filter_patterns.size()) + " filters");
  }
  bool uneven = false;
  const WriteBackCheck c =
      shape.lanes > 1 ? CheckLaneWriteBacks(db, uuid, shape.lanes, recs, src, seen,
                                            &carried->checkpoint, &carried->lanes, &uneven, v)
                      : CheckWriteBacks(db, uuid, src, seen, &carried->checkpoint, v);
  totals->below_checkpoint += c.below;
  totals->uneven_cuts += !drained && uneven;
  for (uint64_t q : unmatched) totals->filtered_below += q < c.position;
  if (drained && seen.size() != src.size()) {
    v->Add("after the drain Seen has " + std::to_string(seen.size()) + " items for " +
           std::to_string(src.size()) + " src records to deliver");
  }
  if (drained && last_src != 0 && c.position <= last_src) {
    v->Add("after the drain the checkpoint " + std::to_string(c.position) +
           " has not passed the last src record " + std::to_string(last_src));
  }
}

// --- The loop of every power-loss campaign here.

// What a campaign does in its directories; RunPowerLoss runs the loop.
struct PowerLossSteps {
  // Sets up a fresh directory: tables, function, mapping.
  std::function<void(const std::string& dir)> set_up;
  // After every open with the runtime (binds in-process functions); may be
  // empty.
  std::function<Status(DB*)> bind;
  // Lets the runtime catch up (the DB is closed after it).
  std::function<void(DB*)> drain;
  // Writes while the runtime works, and cuts the power (or leaves the cut
  // to the loop); returns how the unsynced bytes are dropped.
  std::function<DropMode(DB*)> write_and_cut;
  // Checks the directory after the cut or the drain, `drained` after a
  // drain (the loop reports the violations after each).
  std::function<void(const std::string& dir, bool drained)> check;
};

// `iterations` of: open `dir` with the runtime, write, cut the power (a
// random number of file operations into the writes, or a random time),
// drop the unsynced bytes (as write_and_cut says), check. Every fifth
// iteration drains instead of writing; a fresh directory every five.
void RunPowerLoss(uint64_t iterations, uint64_t seed, std::mt19937_64& rng, FaultInjectionEnv* env,
                  const Options& options, const PowerLossSteps& steps, Violations* v) {
  TempDir tmp;
  std::string dir;
  for (uint64_t it = 0; it < iterations; ++it) {
    v->SetWhere("iteration " + std::to_string(it));
    const bool drain = it % 5 == 4;
    if (it % 5 == 0) {
      dir = tmp.Sub("db" + std::to_string(it));
      steps.set_up(dir);
      if (testing::Test::HasFatalFailure()) return;
    }
    Options run = options;
    run.run_triggers = true;
    std::unique_ptr<DB> db;
    const Status s = DB::Open(run, dir, &db);
    ASSERT_TRUE(s.ok()) << "iteration " << it << ": " << s.ToString();
    if (steps.bind) ASSERT_OK(steps.bind(db.get()));
    if (drain) {
      steps.drain(db.get());
      ASSERT_OK(db->Close());
    } else {
      const DropMode mode = steps.write_and_cut(db.get());
      env->SetCrashed(true);
      db.reset();
      env->CrashAfter(-1);
      const leveldb::Status ds = env->DropUnsyncedData(nullptr, mode, rng());
      ASSERT_TRUE(ds.ok()) << ds.ToString();
      env->SetCrashed(false);
    }
    steps.check(dir, drain);
    if (testing::Test::HasFatalFailure()) return;
    v->Report(seed);
  }
}

// The fault env and the options of a campaign over it.
struct PowerLossEnv {
  FaultInjectionEnv env;
  LevelDBEnvAdapter handle{&env};
  Options options;
  PowerLossEnv() {
    env.SetSkipRealSync(true);
    options = CampaignOptions();
    options.env = &handle;
  }
};

// --- Write-backs under power loss (plain, filtered, in lanes).

// What a write-back campaign carries across iterations.
struct WriteBackRun {
  Shape shape;
  PowerLossEnv* pl = nullptr;
  std::mt19937_64* rng = nullptr;
  std::string uuid;
  bool filtered = false;  // this directory's mapping has kFilter
  uint64_t dirs = 0;
  uint64_t iteration = 0;  // of the next write_and_cut
  Carried carried;
  uint64_t value_counter = 0;
  std::vector<Write> writes;  // of the last iteration
  Delivery delivery;
  Totals totals;
  Violations v;
};

void SetUpWriteBacks(const std::string& dir, WriteBackRun* r) {
  r->carried = Carried();
  r->filtered = r->shape.filter_every != 0 && r->dirs++ % r->shape.filter_every == 0;
  r->delivery.filtered = r->filtered;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(r->pl->options, dir, &db));
  ASSERT_OK(db->CreateTable(kSrc, Stream(StreamViewType::kNewAndOldImages)));
  ASSERT_OK(db->CreateTable(kAux, Stream(StreamViewType::kNewImage)));
  ASSERT_OK(db->CreateTable("Seen", StreamSpecification()));
  ASSERT_OK(BindFunction(db.get(), &r->delivery));
  EventSourceMappingConfiguration m, created;
  m.function_name = "rec";
  m.event_source = kSrc;
  m.batch_size = 1 + static_cast<uint32_t>((*r->rng)() % 50);
  m.starting_position = StartingPosition::kTrimHorizon;
  m.parallelization_factor = r->shape.lanes;
  if (r->filtered) m.filter_patterns = {kFilter};
  ASSERT_OK(db->triggers()->CreateEventSourceMapping(m, &created));
  r->uuid = created.uuid;
  ASSERT_OK(db->Close());
}

// The writer, and the cut. The second iteration in each directory leaves an
// unsynced tail on purpose: no sync writes, the power cut as soon as the
// writer is done, every unsynced byte dropped (see kMinLostIterations).
DropMode WriteBacksWriteAndCut(DB* db, WriteBackRun* r) {
  std::mt19937_64& rng = *r->rng;
  FaultInjectionEnv& env = r->pl->env;
  const bool unsynced_tail = r->iteration++ % 5 == 1;
  const int sync_pct = unsynced_tail ? 0 : static_cast<int>(rng() % 3) * 40 + 10;
  const int budget = 100 + static_cast<int>(rng() % 400);
  const bool by_ops = !unsynced_tail && rng() % 2 == 0;
  if (by_ops) env.CrashAfter(static_cast<int64_t>(rng() % 2000));
  r->writes.clear();
  std::thread writer(RunWriter, db, rng(), budget, sync_pct, r->carried.state, &r->value_counter,
                     &r->writes);
  if (!by_ops && !unsynced_tail) {
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 100));
    env.SetCrashed(true);
  }
  writer.join();
  // Let the runtime work on what was written, then cut.
  if (!unsynced_tail) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
  env.SetCrashed(true);
  ++r->totals.cuts;
  for (const Write& w : r->writes) {
    if (!w.ok) continue;
    ++r->totals.writes_acked;
    r->totals.sync_acked += w.sync;
    r->totals.noop_writes += w.records.empty();
    r->totals.batches += w.ops.size() > 1;
    for (const Expected& e : w.records) {
      r->totals.modifies += e.event == EventName::kModify;
      r->totals.removes += e.event == EventName::kRemove;
    }
  }
  const DropMode modes[3] = {DropMode::kDropAll, DropMode::kKeepRandomPrefix,
                             DropMode::kZeroFillTail};
  return unsynced_tail ? DropMode::kDropAll : modes[rng() % 3];
}

// Checks (a)-(f) after a cut or a drain.
void CheckWriteBackDir(const std::string& dir, bool drained, WriteBackRun* r) {
  Violations& violations = r->v;
  {
    std::lock_guard<std::mutex> lock(r->delivery.mu);
    for (const std::string& e : r->delivery.violations) violations.Add(e);
    r->delivery.violations.clear();
    r->totals.delivered += r->delivery.records;
    r->delivery.records = 0;
  }
  if (drained) r->writes.clear();
  // (f), first half: the log as the power cut left it.
  const LogScan scan = ScanLog(dir + "/wal");
  if (!scan.error.empty()) violations.Add("log on disk: " + scan.error);
  for (const std::string& seg : scan.preamble_errors) {
    violations.Add("log on disk: " + seg + " does not open with a catalog snapshot");
  }
  r->totals.max_segments = std::max<uint64_t>(r->totals.max_segments, scan.segments);
  std::unique_ptr<DB> check;
  Status s = DB::Open(r->pl->options, dir, &check);
  ASSERT_TRUE(s.ok()) << "reopen: " << s.ToString();
  const RecoveryReport& report = check->recovery_report();
  const SequenceNumber last = check->LastSequence();
  if (report.index_sequence > scan.last_seq) {
    violations.Add("the durable index (sequence " + std::to_string(report.index_sequence) +
                   ") is ahead of the durable log (last sequence " + std::to_string(scan.last_seq) +
                   ")");
  }
  if (last != scan.last_seq) {
    violations.Add("LastSequence " + std::to_string(last) + " but the log on disk ends at " +
                   std::to_string(scan.last_seq));
  }
  r->totals.torn_tails += report.torn_tail;
  r->totals.index_behind += report.index_sequence < last;
  std::vector<Rec> recs;
  s = ReadAll(check.get(), 1, &recs);
  if (!s.ok()) violations.Add("reading the log: " + s.ToString());
  Carried& carried = r->carried;
  const State want = CheckWrites(recs, r->writes, carried, &r->totals, &violations);
  carried.state = CheckTables(check.get(), recs, want, &violations);
  carried.records = recs.size();
  carried.last_seq = recs.empty() ? 0 : recs.back().seq;
  CheckSeen(check.get(), recs, r->uuid, r->shape, r->filtered, drained, &carried, &r->totals,
            &violations);
  ASSERT_OK(check->Close());
}

void ReportWriteBacks(uint64_t iterations, const WriteBackRun& r, CampaignReport* out) {
  const Totals& totals = r.totals;
  CampaignReport& report = *out;
  report.Count("acknowledged writes", totals.writes_acked);
  report.Count("sync", totals.sync_acked);
  report.Count("writes failed at the cut found in the log", totals.failed_in_log);
  report.Count("new records checked", totals.records_checked);
  report.Count("src records checked against Seen", totals.src_records);
  report.Count("records delivered", totals.delivered);
  report.Count("segments at most", totals.max_segments);
  // What must have happened in a run of kMinIterations or more.
  report.Covered("power cuts", totals.cuts, kMinIterations);
  report.Covered("batches", totals.batches, kMinIterations);
  report.Covered("writes changing nothing", totals.noop_writes, kMinIterations);
  report.Covered("MODIFY", totals.modifies, kMinIterations);
  report.Covered("REMOVE", totals.removes, kMinIterations);
  report.Covered("sync=false writes lost to power cuts (allowed)", totals.acked_lost,
                 kMinLostIterations);
  report.Covered("src records below a checkpoint", totals.below_checkpoint, kMinIterations);
  report.Covered("torn tails cut", totals.torn_tails, kMinIterations);
  report.Covered("reopens replayed the log", totals.index_behind, kMinIterations);
  if (r.shape.filter_every != 0) {
    report.Covered("filtered-out src records below a checkpoint", totals.filtered_below,
                   kMinIterations);
  }
  if (r.shape.lanes > 1) {
    report.Covered("cuts with the lanes at different positions", totals.uneven_cuts,
                   kMinIterations);
  }
  report.Finish(iterations, r.v.count());
}

// The write-back campaign (see the top of the file) with a mapping of
// `shape`.
void RunWriteBackCampaign(const CampaignSize& size, const char* name, const Shape& shape) {
  std::mt19937_64 rng(size.seed);
  CampaignReport report(name, "iterations");
  PowerLossEnv pl;
  WriteBackRun r;
  r.shape = shape;
  r.pl = &pl;
  r.rng = &rng;
  r.delivery.env = &pl.env;
  PowerLossSteps steps;
  steps.set_up = [&r](const std::string& dir) { SetUpWriteBacks(dir, &r); };
  steps.bind = [&r](DB* db) { return BindFunction(db, &r.delivery); };
  steps.drain = [&r](DB* db) {
    ++r.iteration;
    const Status s = db->triggers()->WaitUntilIdle(std::chrono::milliseconds(30000));
    EXPECT_TRUE(s.ok()) << s.ToString();
  };
  steps.write_and_cut = [&r](DB* db) { return WriteBacksWriteAndCut(db, &r); };
  steps.check = [&r](const std::string& dir, bool drained) { CheckWriteBackDir(dir, drained, &r); };
  RunPowerLoss(size.runs, size.seed, rng, &pl.env, pl.options, steps, &r.v);
  if (testing::Test::HasFatalFailure()) return;
  ReportWriteBacks(size.runs, r, &report);
  r.v.Report(size.seed);
}

TEST(TriggerPowerLossTest, WriteBacksStayWithTheirCheckpoint) {
  RunWriteBackCampaign(
      StartCampaign("trigger power-loss test", "iterations", "RUNNEL_TRIGGER_POWER_LOSS_ITERATIONS",
                    kMinLostIterations, "RUNNEL_TRIGGER_POWER_LOSS_SEED"),
      "trigger power-loss test", Shape{1, 0});
}

// The same campaign with kFilter on the mapping of every directory: a
// record that matches no filter is never handed to the function, each
// matching one is written back exactly once with its checkpoint, and the
// checkpoint moves past the others durably (after a drain it is past the
// last src record, filtered or not).
//
// Environment: RUNNEL_TRIGGER_FILTER_POWER_LOSS_ITERATIONS (default 40),
// RUNNEL_TRIGGER_FILTER_POWER_LOSS_SEED.
TEST(TriggerPowerLossTest, FilteredWriteBacksStayWithTheirCheckpoint) {
  RunWriteBackCampaign(StartCampaign("trigger filter power-loss test", "iterations",
                                     "RUNNEL_TRIGGER_FILTER_POWER_LOSS_ITERATIONS",
                                     kMinLostIterations, "RUNNEL_TRIGGER_FILTER_POWER_LOSS_SEED"),
                       "trigger filter power-loss test", Shape{1, 1});
}

// The same campaign with ParallelizationFactor 4 (kFilter in every other
// directory): the durable checkpoint holds each lane's position L (lane =
// XXH3-64 of the key mod 4) and (c) holds per lane: Seen holds exactly the
// write-backs of the records of each lane below its L; no L moves back; and
// while the power is on, the records of each key reach the function in
// order.
//
// Environment: RUNNEL_TRIGGER_LANES_POWER_LOSS_ITERATIONS (default 40),
// RUNNEL_TRIGGER_LANES_POWER_LOSS_SEED.
TEST(TriggerPowerLossTest, FourLanesWriteBacksStayWithTheirCheckpoints) {
  RunWriteBackCampaign(StartCampaign("trigger lanes power-loss test", "iterations",
                                     "RUNNEL_TRIGGER_LANES_POWER_LOSS_ITERATIONS",
                                     kMinLostIterations, "RUNNEL_TRIGGER_LANES_POWER_LOSS_SEED"),
                       "trigger lanes power-loss test", Shape{4, 2});
}

// --- The materialized view under power loss.

struct ViewCounters {
  uint64_t cuts = 0, drains = 0, checks = 0, writes_acked = 0;
  uint64_t cuts_with_backlog = 0, records_below = 0, nonempty_views = 0;
};

// A fresh directory with the view's tables, the function (the real
// examples/materialized_view plugin) and a mapping orders -> view.
void SetUpView(const Options& options, const std::string& dir, uint32_t batch_size) {
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(options, dir, &db));
  ASSERT_OK(CreateViewTables(db.get()));
  FunctionConfiguration f;
  f.function_name = "view";
  f.library = MATERIALIZED_VIEW;
  f.environment = {{"VIEW_TABLE", "totals"}};
  ASSERT_OK(db->triggers()->CreateFunction(f, nullptr));
  EventSourceMappingConfiguration m, created;
  m.function_name = "view";
  m.event_source = "orders";
  m.batch_size = batch_size;
  m.starting_position = StartingPosition::kTrimHorizon;
  ASSERT_OK(db->triggers()->CreateEventSourceMapping(m, &created));
  ASSERT_OK(db->Close());
}

// Writes random orders while the runtime keeps the view, and cuts the power
// (after a random number of file operations, or a random time).
DropMode WriteAndCut(DB* db, FaultInjectionEnv* env, std::mt19937_64& rng, ViewCounters* totals) {
  const uint64_t sync_pct = rng() % 3 * 40 + 10;
  const int budget = 100 + static_cast<int>(rng() % 400);
  const bool by_ops = rng() % 2 == 0;
  if (by_ops) env->CrashAfter(static_cast<int64_t>(rng() % 2000));
  std::atomic<uint64_t> acked{0};
  std::thread writer([db, budget, sync_pct, &acked, seed = rng()] {
    std::mt19937_64 wrng(seed);
    for (int i = 0; i < budget; ++i) {
      if (!RandomOrderWrite(db, wrng, wrng() % 100 < sync_pct).ok()) return;
      ++acked;
    }
  });
  if (!by_ops) {
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 100));
    env->SetCrashed(true);
  }
  writer.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
  env->SetCrashed(true);
  totals->writes_acked += acked;
  ++totals->cuts;
  const DropMode modes[3] = {DropMode::kDropAll, DropMode::kKeepRandomPrefix,
                             DropMode::kZeroFillTail};
  return modes[rng() % 3];
}

// The view against the orders: that of the records below the durable
// checkpoint P (which never moves back); after a drain also that of the
// table, with P past every record.
void CheckView(DB* db, bool drained, uint64_t* last_position, ViewCounters* totals, Violations* v) {
  std::vector<EventSourceMappingConfiguration> mappings;
  Status s = db->triggers()->ListEventSourceMappings("", "", "", 0, &mappings, nullptr);
  if (!s.ok() || mappings.size() != 1) {
    v->Add("ListEventSourceMappings: " + s.ToString() + ", " + std::to_string(mappings.size()));
    return;
  }
  MappingMetrics m;
  s = db->triggers()->GetMappingMetrics(mappings[0].uuid, &m);
  if (!s.ok()) v->Add("GetMappingMetrics: " + s.ToString());
  if (m.position < *last_position) {
    v->Add("the checkpoint moved back from " + std::to_string(*last_position) + " to " +
           std::to_string(m.position));
  }
  *last_position = std::max(*last_position, m.position);
  ViewTotals at_checkpoint, view, from_table;
  uint64_t below = 0, at_or_above = 0;
  s = ViewBelow(db, "orders", m.position, &at_checkpoint, &below, &at_or_above);
  if (s.ok()) s = ReadView(db, "totals", &view);
  if (!s.ok()) v->Add("reading the view: " + s.ToString());
  ++totals->checks;
  totals->records_below += below;
  if (!drained && at_or_above > 0) ++totals->cuts_with_backlog;
  std::string diff = DiffViews(at_checkpoint, view);
  if (!diff.empty()) {
    v->Add("the view is not that of the " + std::to_string(below) +
           " records below the checkpoint " + std::to_string(m.position) + ": " + diff);
  }
  if (!drained) return;
  s = RecomputeView(db, "orders", &from_table);
  if (!s.ok()) v->Add("RecomputeView: " + s.ToString());
  diff = DiffViews(from_table, view);
  if (!diff.empty()) v->Add("after the drain, the view differs from the table: " + diff);
  if (at_or_above > 0) {
    v->Add("after the drain, " + std::to_string(at_or_above) + " records are unprocessed");
  }
  totals->nonempty_views += !view.empty();
}

// The materialized view (examples/materialized_view, loaded with dlopen)
// over the FaultInjectionEnv: random orders are put, updated (moving them
// between groups, changing amounts), deleted and transacted (10, 50 or 90 %
// with sync=true) while the runtime keeps the view, and the power is cut;
// the unsynced bytes are dropped (all, a torn prefix, or a zero-filled
// tail). After every cut the view equals the recomputation from the orders
// records below the mapping's durable checkpoint (the view's write-backs
// never part from their checkpoint); every fifth iteration the runtime
// catches up instead, and the view then equals the recomputation from the
// orders table. A fresh directory every five iterations.
//
// Environment: RUNNEL_TRIGGER_VIEW_POWER_LOSS_ITERATIONS (default 20),
// RUNNEL_TRIGGER_VIEW_POWER_LOSS_SEED (default random; printed).
TEST(TriggerPowerLossTest, MaterializedViewStaysWithItsCheckpoint) {
  const CampaignSize size = StartCampaign("trigger view power-loss test", "iterations",
                                          "RUNNEL_TRIGGER_VIEW_POWER_LOSS_ITERATIONS", 20,
                                          "RUNNEL_TRIGGER_VIEW_POWER_LOSS_SEED");
  std::mt19937_64 rng(size.seed);
  PowerLossEnv pl;
  CampaignReport report("trigger view power-loss test", "iterations");
  ViewCounters totals;
  Violations v;
  uint64_t last_position = 0;
  PowerLossSteps steps;
  steps.set_up = [&](const std::string& dir) {
    last_position = 0;
    SetUpView(pl.options, dir, 1 + static_cast<uint32_t>(rng() % 50));
  };
  steps.drain = [&](DB* db) {
    EXPECT_OK(db->triggers()->WaitUntilIdle(std::chrono::seconds(30)));
    ++totals.drains;
  };
  steps.write_and_cut = [&](DB* db) { return WriteAndCut(db, &pl.env, rng, &totals); };
  steps.check = [&](const std::string& dir, bool drained) {
    std::unique_ptr<DB> check;
    ASSERT_OK(DB::Open(pl.options, dir, &check));
    CheckView(check.get(), drained, &last_position, &totals, &v);
    ASSERT_OK(check->Close());
  };
  RunPowerLoss(size.runs, size.seed, rng, &pl.env, pl.options, steps, &v);
  if (HasFatalFailure()) return;
  report.Count("acknowledged writes", totals.writes_acked);
  report.Count("checks", totals.checks);
  report.Count("orders records below the checkpoints checked", totals.records_below);
  report.Covered("power cuts", totals.cuts, 1);
  report.Covered("cuts with a backlog of unprocessed records", totals.cuts_with_backlog,
                 kMinIterations);
  report.Covered("drains ending with a non-empty view", totals.nonempty_views, 5);
  report.Finish(size.runs, v.count());
  v.Report(size.seed);
}

// --- Tumbling windows under power loss.

struct WindowCounters {
  uint64_t cuts = 0, drains = 0, puts_acked = 0, windows = 0, finals_before_drain = 0;
  uint64_t across_cuts = 0, records = 0;
};

// A fresh directory with "src" (KEYS_ONLY), "totals", the function "win"
// (the window_function plugin, TARGET=totals) and a mapping src -> win with
// a tumbling window of 1 s (kWindowMicros).
void SetUpWindows(const Options& options, const std::string& dir, uint32_t batch_size) {
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(options, dir, &db));
  ASSERT_OK(db->CreateTable("src", Stream(StreamViewType::kKeysOnly)));
  ASSERT_OK(db->CreateTable("totals", StreamSpecification()));
  FunctionConfiguration f;
  f.function_name = "win";
  f.library = WINDOW_FUNCTION;
  f.environment = {{"TARGET", "totals"}};
  f.timeout_seconds = 60;
  ASSERT_OK(db->triggers()->CreateFunction(f, nullptr));
  EventSourceMappingConfiguration m;
  m.function_name = "win";
  m.event_source = "src";
  m.batch_size = batch_size;
  m.starting_position = StartingPosition::kTrimHorizon;
  m.tumbling_window_seconds = kWindowMicros / 1000000;
  ASSERT_OK(db->triggers()->CreateEventSourceMapping(m, nullptr));
  ASSERT_OK(db->Close());
}

// Puts "k<run * 10^6 + n>" to src every 0.5-3.5 ms (10, 50 or 90 % with
// sync=true) while the runtime aggregates, and cuts the power 0.1-1.5 s on,
// or sooner after a random number of file operations: so that windows span
// cuts, and cuts land mid-window and during final invocations.
DropMode WriteWindowsAndCut(DB* db, FaultInjectionEnv* env, std::mt19937_64& rng, uint64_t run,
                            WindowCounters* totals) {
  const uint64_t sync_pct = rng() % 3 * 40 + 10;
  if (rng() % 2 == 0) env->CrashAfter(static_cast<int64_t>(rng() % 1500));
  std::atomic<uint64_t> acked{0};
  std::atomic<bool> stop{false};
  std::thread writer([db, run, sync_pct, &acked, &stop, seed = rng()] {
    std::mt19937_64 wrng(seed);
    for (uint64_t n = run * 1000000; !stop.load(); ++n) {
      WriteOptions wo;
      wo.sync = wrng() % 100 < sync_pct;
      if (!db->Put(wo, "src", Numbered("k", n), Numbered("", n)).ok()) return;
      ++acked;
      std::this_thread::sleep_for(std::chrono::microseconds(500 + wrng() % 3000));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 1400));
  env->SetCrashed(true);
  stop = true;
  writer.join();
  totals->puts_acked += acked;
  ++totals->cuts;
  const DropMode modes[3] = {DropMode::kDropAll, DropMode::kKeepRandomPrefix,
                             DropMode::kZeroFillTail};
  return modes[rng() % 3];
}

// Waits until every window with records has had its final invocation (the
// last window ends at most 1 s after the last record).
void DrainWindows(DB* db, Violations* v) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    bool all = false;
    size_t windows = 0;
    const Status s = AllWindowsFinal(db, &all, &windows);
    if (!s.ok()) return v->Add("reading the windows: " + s.ToString());
    if (all) return;
    if (std::chrono::steady_clock::now() > give_up) {
      return v->Add("after 60 s, windows without a final invocation (of " +
                    std::to_string(windows) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Tumbling windows (TumblingWindowInSeconds 1, the window_function plugin,
// loaded with dlopen) over the FaultInjectionEnv: puts are written to src
// while the runtime aggregates them in windows, and the power is cut
// mid-window or during a final invocation; the unsynced bytes are dropped
// (all, a torn prefix, or a zero-filled tail). A window's state travels with
// the mapping's checkpoint, and a final's write-back with the checkpoint that
// closes its window, so after every cut each final in "totals" is the only
// one of its window and its count is exactly the number of src records
// committed in the window (on disk after the cut); no final for a window
// without records. Every fifth iteration the runtime catches up instead:
// then every window with records has its final. A fresh directory every five
// iterations.
//
// Environment: RUNNEL_TRIGGER_WINDOWS_POWER_LOSS_ITERATIONS (default 10),
// RUNNEL_TRIGGER_WINDOWS_POWER_LOSS_SEED.
TEST(TriggerPowerLossTest, WindowTotalsAreExactAndFinalOnce) {
  const CampaignSize size = StartCampaign("trigger windows power-loss test", "iterations",
                                          "RUNNEL_TRIGGER_WINDOWS_POWER_LOSS_ITERATIONS", 10,
                                          "RUNNEL_TRIGGER_WINDOWS_POWER_LOSS_SEED");
  std::mt19937_64 rng(size.seed);
  PowerLossEnv pl;
  CampaignReport report("trigger windows power-loss test", "iterations");
  WindowCounters totals;
  Violations v;
  uint64_t run = 0;
  PowerLossSteps steps;
  steps.set_up = [&](const std::string& dir) {
    SetUpWindows(pl.options, dir, 1 + static_cast<uint32_t>(rng() % 50));
  };
  steps.drain = [&](DB* db) {
    DrainWindows(db, &v);
    ++totals.drains;
  };
  steps.write_and_cut = [&](DB* db) {
    return WriteWindowsAndCut(db, &pl.env, rng, ++run, &totals);
  };
  steps.check = [&](const std::string& dir, bool drained) {
    std::unique_ptr<DB> check;
    ASSERT_OK(DB::Open(pl.options, dir, &check));
    const WindowCheck c = CheckWindowFinals(check.get(), drained, &v);
    if (drained) {
      totals.windows += c.windows;
      totals.across_cuts += c.across_runs;
      totals.records += c.records;
    } else {
      totals.finals_before_drain += c.finals;
    }
    ASSERT_OK(check->Close());
  };
  RunPowerLoss(size.runs, size.seed, rng, &pl.env, pl.options, steps, &v);
  if (HasFatalFailure()) return;
  report.Count("acknowledged puts", totals.puts_acked);
  report.Count("records aggregated", totals.records);
  report.Count("windows checked after the drains", totals.windows);
  report.Covered("power cuts", totals.cuts, 1);
  report.Covered("final checks after cuts (a final counts at each check)",
                 totals.finals_before_drain, kMinWindowIterations);
  report.Covered("windows spanning a power cut", totals.across_cuts, kMinWindowIterations);
  report.Finish(size.runs, v.count());
  v.Report(size.seed);
}

}  // namespace
}  // namespace runnel::test
