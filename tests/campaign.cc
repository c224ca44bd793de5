// Copyright 2026 The runnel Authors.

#include "tests/campaign.h"

#include <gtest/gtest.h>
#include <sys/random.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <sstream>

#include "db/db_internal.h"
#include "runnel/triggers.h"
#include "tests/child_process.h"

namespace runnel::test {

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  return std::strtoull(v, nullptr, 10);
}

CampaignSize StartCampaign(const char* name, const char* unit, const char* runs_env,
                           uint64_t default_runs, const char* seed_env) {
  CampaignSize size;
  size.runs = EnvU64(runs_env, default_runs);
  uint64_t random = 0;
  // getrandom never fails for 8 bytes once the pool is ready; a zero seed is
  // a seed all the same.
  if (::getrandom(&random, sizeof(random), 0) != sizeof(random)) random = 0;
  size.seed = EnvU64(seed_env, random);
  std::printf("%s: %llu %s, seed %llu (%s=%llu to repeat the schedule)\n", name,
              static_cast<unsigned long long>(size.runs), unit,
              static_cast<unsigned long long>(size.seed), seed_env,
              static_cast<unsigned long long>(size.seed));
  std::fflush(stdout);
  return size;
}

Options CampaignOptions() {
  Options o;
  o.segment_bytes = 64 << 10;
  o.write_buffer_bytes = 64 << 10;
  return o;
}

void Apply(const std::vector<Op>& ops, State* state) {
  for (const Op& op : ops) {
    if (op.del) {
      (*state)[op.table].erase(op.key);
    } else {
      (*state)[op.table][op.key] = op.value;
    }
  }
}

void Prune(State* s) {
  for (auto it = s->begin(); it != s->end();) {
    it = it->second.empty() ? s->erase(it) : std::next(it);
  }
}

int OwnerOf(const std::string& key) {
  if (key.size() < 3 || key[0] != 't') return -1;
  const size_t k = key.find('k');
  if (k == std::string::npos || k == 1) return -1;
  return std::atoi(key.substr(1, k - 1).c_str());
}

std::string Short(const std::string& v) {
  if (v.size() <= 40) return "'" + v + "'";
  std::string s = "'";  // appended to: see Numbered() in tests/testutil.h
  s.append(v, 0, 30);
  s += Numbered("...'(", v.size());
  s += " bytes)";
  return s;
}

std::string DiffStates(const State& want, const State& got) {
  std::set<std::string> tables;
  for (const auto& [t, items] : want) tables.insert(t);
  for (const auto& [t, items] : got) tables.insert(t);
  static const std::map<std::string, std::string> kNone;
  std::ostringstream out;
  int total = 0;
  for (const std::string& table : tables) {
    const auto wi = want.find(table);
    const auto gi = got.find(table);
    const auto& w = wi == want.end() ? kNone : wi->second;
    const auto& g = gi == got.end() ? kNone : gi->second;
    std::set<std::string> keys;
    for (const auto& [k, v] : w) keys.insert(k);
    for (const auto& [k, v] : g) keys.insert(k);
    for (const std::string& k : keys) {
      const auto a = w.find(k);
      const auto b = g.find(k);
      if ((a == w.end()) == (b == g.end()) && (a == w.end() || a->second == b->second)) continue;
      if (total++ < 8) {
        out << " [" << table << "/" << k << " expected "
            << (a == w.end() ? "<absent>" : Short(a->second)) << " got "
            << (b == g.end() ? "<absent>" : Short(b->second)) << "]";
      }
    }
  }
  out << " (" << total << " keys differ)";
  return out.str();
}

std::string SeqKey(uint64_t seq) {
  char key[32];
  std::snprintf(key, sizeof(key), "%020llu", static_cast<unsigned long long>(seq));
  return key;
}

void Violations::Add(const std::string& what) {
  ++count_;
  if (list_.size() < 100) {
    list_.push_back(where_.empty() ? what : where_ + ": " + what);
  } else {
    ++unkept_;
  }
}

void Violations::Report(uint64_t seed) {
  for (const std::string& e : list_) ADD_FAILURE() << e << " (seed " << seed << ")";
  if (unkept_ > 0) ADD_FAILURE() << unkept_ << " more violations (seed " << seed << ")";
  list_.clear();
  unkept_ = 0;
}

void ReplayRecords(const std::vector<Rec>& recs, const std::map<std::string, StreamViewType>& views,
                   State* replayed, Violations* v) {
  SequenceNumber prev = 0;
  for (const Rec& r : recs) {
    const std::string where =
        "record " + std::to_string(r.seq) + " (" + r.table + "/" + r.key + ")";
    if (r.seq <= prev) v->Add(where + ": sequence not increasing");
    prev = r.seq;
    const auto vi = views.find(r.table);
    if (vi == views.end()) {
      v->Add(where + ": unexpected table");
      continue;
    }
    const bool with_old = vi->second == StreamViewType::kNewAndOldImages;
    auto& items = (*replayed)[r.table];
    const auto cur = items.find(r.key);
    const bool old_differs =
        with_old && r.has_old && cur != items.end() && cur->second != r.old_image;
    switch (r.event) {
      case EventName::kInsert:
        if (cur != items.end()) v->Add(where + ": INSERT of present key");
        if (r.has_old || !r.has_new) v->Add(where + ": INSERT images");
        items[r.key] = r.new_image;
        break;
      case EventName::kModify:
        if (cur == items.end()) {
          v->Add(where + ": MODIFY of missing key");
        } else if (cur->second == r.new_image) {
          v->Add(where + ": MODIFY to the same value");
        }
        if (!r.has_new || r.has_old != with_old) v->Add(where + ": MODIFY images");
        if (old_differs) {
          v->Add(where + ": MODIFY old image " + Short(r.old_image) + " but replayed value " +
                 Short(cur->second));
        }
        items[r.key] = r.new_image;
        break;
      case EventName::kRemove:
        if (cur == items.end()) v->Add(where + ": REMOVE of missing key");
        if (r.has_new || r.has_old != with_old) v->Add(where + ": REMOVE images");
        if (old_differs) v->Add(where + ": REMOVE old image differs from the replayed value");
        items.erase(r.key);
        break;
    }
  }
  Prune(replayed);
}

bool RecordsMatch(uint64_t first, uint32_t count, const std::vector<Op>& ops,
                  const std::map<SequenceNumber, const Rec*>& by_seq, std::string* why) {
  size_t op_index = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const auto it = by_seq.find(first + i);
    if (it == by_seq.end()) {
      *why = "record " + std::to_string(first + i) + " is missing from the change stream";
      return false;
    }
    const Rec& r = *it->second;
    while (op_index < ops.size() &&
           (ops[op_index].table != r.table || ops[op_index].key != r.key)) {
      ++op_index;
    }
    if (op_index == ops.size()) {
      *why = "record " + std::to_string(r.seq) + " (" + r.table + "/" + r.key +
             ") is not one of the write's operations";
      return false;
    }
    const Op& op = ops[op_index++];
    if (op.del != (r.event == EventName::kRemove)) {
      *why = "record " + std::to_string(r.seq) + " has the wrong event";
      return false;
    }
    if (!op.del && r.new_image != op.value) {
      *why = "record " + std::to_string(r.seq) + " has new image " + Short(r.new_image) +
             ", the write put " + Short(op.value);
      return false;
    }
    if (r.end_of_batch != (i + 1 == count)) {
      *why = "record " + std::to_string(r.seq) + ": wrong end_of_batch";
      return false;
    }
  }
  return true;
}

WriteBackCheck CheckWriteBacks(DB* db, const std::string& uuid,
                               const std::map<uint64_t, std::string>& want,
                               const std::vector<std::pair<std::string, std::string>>& seen,
                               uint64_t* last_position, Violations* v) {
  WriteBackCheck out;
  MappingMetrics m;
  const Status s = db->triggers()->GetMappingMetrics(uuid, &m);
  if (!s.ok()) {
    v->Add("GetMappingMetrics: " + s.ToString());
    return out;
  }
  const uint64_t p = m.position;
  out.position = p;
  if (p < *last_position) {
    v->Add("the checkpoint moved back from " + std::to_string(*last_position) + " to " +
           std::to_string(p));
  }
  *last_position = std::max(*last_position, p);
  // Each kind of violation is shown a few times, then only counted.
  int wrong = 0, skipped = 0, ahead = 0;
  std::set<uint64_t> seen_seqs;
  for (const auto& [k, value] : seen) {
    const bool digits = k.size() == 20 && k.find_first_not_of("0123456789") == std::string::npos;
    const uint64_t q = digits ? std::strtoull(k.c_str(), nullptr, 10) : 0;
    const auto it = want.find(q);
    if (!digits || it == want.end()) {
      if (wrong++ < 5) v->Add("write-back " + k + " is not that of a source record");
      continue;
    }
    seen_seqs.insert(q);
    if (it->second != value && wrong++ < 5) {
      v->Add("write-back " + k + " is " + Short(value) + ", the record says " + Short(it->second));
    }
    if (q >= p && ahead++ < 5) {
      v->Add("write-back of record " + std::to_string(q) + " but the checkpoint is only " +
             std::to_string(p) + " (committed without its checkpoint)");
    }
  }
  for (const auto& [q, w] : want) {
    if (q >= p) {
      ++out.unprocessed;
      continue;
    }
    ++out.below;
    if (seen_seqs.count(q) == 0 && skipped++ < 5) {
      v->Add("record " + std::to_string(q) + " is below the checkpoint " + std::to_string(p) +
             " but has no write-back (skipped)");
    }
  }
  if (wrong > 5 || skipped > 5 || ahead > 5) {
    v->Add(std::to_string(wrong) + " wrong write-backs, " + std::to_string(skipped) +
           " records skipped, " + std::to_string(ahead) + " write-backs ahead of the checkpoint");
  }
  return out;
}

WriteBackCheck CheckLaneWriteBacks(DB* db, const std::string& uuid, uint32_t lanes,
                                   const std::vector<Rec>& recs,
                                   const std::map<uint64_t, std::string>& want,
                                   const std::vector<std::pair<std::string, std::string>>& seen,
                                   uint64_t* last_position, std::vector<uint64_t>* last_lanes,
                                   bool* uneven, Violations* v) {
  WriteBackCheck out;
  // The lanes' positions are the DB's internals.
  auto* internal = dynamic_cast<DBInternal*>(db);
  auto cat = internal != nullptr ? internal->CurrentCatalog() : nullptr;
  const log::MappingEntryData* m = cat != nullptr ? cat->FindMapping(uuid) : nullptr;
  if (m == nullptr || m->parallelization_factor != lanes) {
    v->Add("the mapping " + uuid + " is missing or lost its ParallelizationFactor");
    return out;
  }
  uint64_t p = m->initial_position;
  std::string result;
  internal->ReadCheckpoint(m->id, &p, &result);
  std::vector<uint64_t> at = internal->ReadCheckpointLanes(m->id);
  *uneven = !at.empty();
  if (at.empty()) at.assign(lanes, p);
  if (at.size() != lanes || *std::min_element(at.begin(), at.end()) != p) {
    v->Add("the checkpoint's " + std::to_string(at.size()) +
           " lane positions do not match its position " + std::to_string(p));
    return out;
  }
  out.position = p;
  if (p < *last_position) v->Add("the checkpoint moved back to " + std::to_string(p));
  *last_position = std::max(*last_position, p);
  for (uint32_t l = 0; l < lanes && last_lanes->size() == lanes; ++l) {
    if (at[l] < (*last_lanes)[l]) {
      v->Add("lane " + std::to_string(l) + " moved back from " + std::to_string((*last_lanes)[l]) +
             " to " + std::to_string(at[l]));
    }
  }
  *last_lanes = at;
  std::map<uint64_t, std::string> keys;  // seq -> key
  for (const Rec& r : recs) keys[r.seq] = r.key;
  std::map<uint64_t, std::string> got;
  int shown = 0;
  for (const auto& [k, value] : seen) {
    const uint64_t q = std::strtoull(k.c_str(), nullptr, 10);
    if (want.count(q) == 0 && shown++ < 5) v->Add("write-back " + k + " is not a record's");
    got[q] = value;
  }
  for (const auto& [q, w] : want) {
    const std::string& key = keys[q];
    const auto lane = static_cast<uint32_t>(XXH3_64bits(key.data(), key.size()) % lanes);
    auto it = got.find(q);
    const std::string where = "record " + std::to_string(q) + " (lane " + std::to_string(lane) +
                              " at " + std::to_string(at[lane]) + ")";
    if (q < at[lane]) {
      ++out.below;
      if (it == got.end() && shown++ < 5) v->Add(where + " has no write-back (skipped)");
      if (it != got.end() && it->second != w && shown++ < 5) {
        v->Add(where + ": write-back " + Short(it->second) + ", want " + Short(w));
      }
    } else {
      ++out.unprocessed;
      if (it != got.end() && shown++ < 5) {
        v->Add(where + " has a write-back committed without its lane's checkpoint");
      }
    }
  }
  if (shown > 5) v->Add(std::to_string(shown) + " lane write-back violations in all");
  return out;
}

namespace {

// The windows of the "src" records: window start -> records; *runs: the
// runs ("k<run>" of a key "k<run * 10^6 + n>") that wrote in each.
Status SrcWindows(DB* db, std::map<int64_t, uint64_t>* want,
                  std::map<int64_t, std::set<std::string>>* runs) {
  std::vector<Rec> recs;
  Status s = ReadAll(db, 0, &recs);
  if (!s.ok()) return s;
  for (const Rec& r : recs) {
    if (r.table != "src") continue;
    const int64_t w = r.commit_time_micros / kWindowMicros * kWindowMicros;
    ++(*want)[w];
    if (runs != nullptr)
      (*runs)[w].insert(r.key.substr(0, r.key.size() > 7 ? r.key.size() - 6 : 1));
  }
  return s;
}

}  // namespace

WindowCheck CheckWindowFinals(DB* db, bool all_final, Violations* v) {
  WindowCheck out;
  std::map<int64_t, uint64_t> want;
  std::map<int64_t, std::set<std::string>> runs;
  Status s = SrcWindows(db, &want, &runs);
  if (!s.ok()) {
    v->Add("read the stream: " + s.ToString());
    return out;
  }
  std::vector<std::pair<std::string, std::string>> items;
  s = ScanAll(db, "totals", &items);
  if (!s.ok()) {
    v->Add("scan totals: " + s.ToString());
    return out;
  }
  std::map<int64_t, std::vector<std::string>> finals;
  for (const auto& [k, val] : items) {
    if (k.size() < 27 || k[20] != '/' || k.compare(21, 6, "final/") != 0) {
      v->Add("unexpected write-back '" + k + "' = '" + val + "'");
      continue;
    }
    finals[std::stoll(k.substr(0, 20))].push_back(val);
  }
  for (const auto& [w, n] : want) {
    out.records += n;
    ++out.windows;
    if (runs[w].size() > 1) ++out.across_runs;
    auto it = finals.find(w);
    if (it == finals.end()) {
      if (all_final) {
        v->Add("window " + std::to_string(w) + " (" + std::to_string(n) + " records) has no final");
      }
      continue;
    }
    ++out.finals;
    if (it->second.size() != 1) {
      v->Add("window " + std::to_string(w) + " has " + std::to_string(it->second.size()) +
             " finals");
    } else if (it->second[0] != std::to_string(n)) {
      v->Add("window " + std::to_string(w) + ": final count " + it->second[0] + ", " +
             std::to_string(n) + " records committed in it");
    }
  }
  for (const auto& [w, f] : finals) {
    if (want.count(w) == 0) v->Add("a final for window " + std::to_string(w) + " without records");
  }
  return out;
}

Status AllWindowsFinal(DB* db, bool* all, size_t* windows) {
  std::map<int64_t, uint64_t> want;
  Status s = SrcWindows(db, &want, nullptr);
  if (!s.ok()) return s;
  std::vector<std::pair<std::string, std::string>> items;
  s = ScanAll(db, "totals", &items);
  if (!s.ok()) return s;
  std::set<int64_t> got;
  for (const auto& [k, val] : items) {
    if (k.size() > 20 && k[20] == '/') got.insert(std::stoll(k.substr(0, 20)));
  }
  *windows = want.size();
  *all = std::all_of(want.begin(), want.end(), [&](const auto& w) { return got.count(w.first); });
  return s;
}

CampaignReport::CampaignReport(const char* name, const char* unit)
    : name_(name), unit_(unit), start_(std::chrono::steady_clock::now()) {}

void CampaignReport::Count(const std::string& what, uint64_t value) {
  counters_.push_back({what, value, 0});
}

void CampaignReport::Covered(const std::string& what, uint64_t value, uint64_t min_runs) {
  counters_.push_back({what, value, std::max<uint64_t>(min_runs, 1)});
}

void CampaignReport::Finish(uint64_t runs, size_t violations) {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = name_ + ": " + std::to_string(runs) + " " + unit_ + " in ";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", secs);
  line += buf;
  const char* sep = "; ";
  for (const Counter& c : counters_) {
    line += sep + std::to_string(c.value) + " " + c.what;
    sep = ", ";
  }
  line += "; " + std::to_string(violations) + " violations\n";
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
  for (const Counter& c : counters_) {
    if (c.min_runs == 0) continue;
    if (runs < c.min_runs) {
      std::printf("%s: coverage of \"%s\" not asserted below %llu %s\n", name_.c_str(),
                  c.what.c_str(), static_cast<unsigned long long>(c.min_runs), unit_.c_str());
      continue;
    }
    EXPECT_GT(c.value, 0u) << name_ << ": no " << c.what << " in " << runs << " " << unit_
                           << ": the campaign did not reach what it is there to test";
  }
}

void RunCampaignChild(const std::vector<std::string>& argv, const std::string& stderr_path,
                      const KillSchedule& kill, ChildRunBase* run,
                      const ChildLineHandler& on_line) {
  ChildSchedule schedule;
  if (kill.drain) {
    schedule.give_up = std::chrono::seconds(180);
  } else if (kill.early_kill_ms >= 0) {
    schedule.kill_after_start = std::chrono::milliseconds(kill.early_kill_ms);
  } else {
    schedule.kill_after_ready = std::chrono::milliseconds(kill.after_ready_ms);
  }
  const ChildExit e = RunChild(argv, stderr_path, schedule, [&](const std::string& line) {
    std::istringstream in(line);
    std::string tag;
    in >> tag;
    if (tag == "O") {
      run->opened = true;
    } else if (tag == "R") {
      run->ready = true;
    } else if (tag == "E") {
      run->child_error = true;
      run->error_line = line;
    } else if (!on_line(tag, in, line)) {
      run->protocol_errors.push_back("unknown line: " + line.substr(0, 100));
    }
    return run->ready;
  });
  run->timed_out = e.timed_out;
  run->exit_status = e.status;
  run->killed = e.killed;
  run->exited = e.exited;
}

namespace {
std::mutex child_out_mu;
}  // namespace

void ChildEmit(const std::string& line) {
  std::lock_guard<std::mutex> lock(child_out_mu);
  EmitLine(line);
}

void ChildFail(const std::string& what, const Status& s) {
  ChildEmit("E " + what + ": " + s.ToString());
  std::fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what.c_str(),
               s.ToString().c_str());
  _exit(3);
}

std::unique_ptr<DB> ChildOpen(const std::string& dir) {
  Options options = CampaignOptions();
  options.run_triggers = true;
  std::unique_ptr<DB> db;
  const Status s = DB::Open(options, dir, &db);
  if (!s.ok()) ChildFail("open", s);
  ChildEmit("O");
  return db;
}

}  // namespace runnel::test
