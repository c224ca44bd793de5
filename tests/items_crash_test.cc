// Copyright 2026 The runnel Authors.
//
// Crash campaign of typed transactions: tests/items_crash_writer.cc runs
// TransactWriteItems in a loop and is SIGKILLed at a random moment; after
// each kill the DB is reopened and checked:
// - every transaction is all there or not at all, in the tables and in the
//   stream (its records are one batch: its puts and the counter's update,
//   contiguous, end_of_batch on the last only);
// - every acknowledged transaction is there; none that was canceled or
//   never announced is;
// - the counter item equals the number of transactions that are there.
//
// RUNNEL_ITEMS_CRASH_TRIALS (default 20) and RUNNEL_ITEMS_CRASH_SEED size
// and repeat a run.

#include <map>
#include <random>
#include <set>
#include <sstream>

#include "db/items/item_codec.h"
#include "db/items/key_codec.h"
#include "tests/campaign.h"

namespace runnel::test {
namespace {

constexpr uint64_t kMinTrials = 20;

struct Announced {
  int k = 0;
  bool doomed = false;
  bool acked = false;
  bool canceled = false;
};

struct ItemsChildRun : ChildRunBase {
  std::map<std::string, Announced> txs;  // by transaction id
};

bool HandleLine(const std::string& tag, std::istringstream& in, const std::string& line,
                ItemsChildRun* run) {
  std::string tx;
  if (tag == "B") {
    Announced a;
    int doomed = 0;
    if (!(in >> tx >> a.k >> doomed)) run->BadLine(line);
    a.doomed = doomed != 0;
    run->txs[tx] = a;
  } else if (tag == "A" || tag == "C") {
    if (!(in >> tx) || run->txs.count(tx) == 0) {
      run->BadLine(line);
      return true;
    }
    (tag == "A" ? run->txs[tx].acked : run->txs[tx].canceled) = true;
  } else {
    return false;
  }
  return true;
}

// tx id -> how many of its items the tables hold; and the counter.
struct Found {
  std::map<std::string, int> items;
  int64_t counter = 0;
};

Status ScanFound(DB* db, Found* found) {
  for (const char* table : {"tx_a", "tx_b"}) {
    ScanRequest r;
    r.table_name = table;
    for (;;) {
      QueryResult page;
      Status s = db->ScanItems(ReadOptions(), r, &page);
      if (!s.ok()) return s;
      for (const Item& item : page.items) {
        if (item.at("pk").scalar == "counter") {
          found->counter = std::stoll(item.at("n").scalar);
        } else {
          found->items[item.at("tx").scalar] += 1;
        }
      }
      if (!page.last_evaluated_key) break;
      r.exclusive_start_key = *page.last_evaluated_key;
    }
  }
  return Status::OK();
}

// Checks the stream: one batch per transaction, all of it.
void CheckStream(DB* db, const Found& found, Violations* v) {
  std::unique_ptr<ChangeIterator> it;
  Status s = db->NewChangeIterator(1, &it);
  if (!s.ok()) return v->Add("change iterator: " + s.ToString());
  std::map<std::string, int> batches;  // tx -> batches seen
  std::set<std::string> batch_txs;
  int puts = 0, counters = 0;
  for (; it->Valid(); it->Next()) {
    const ChangeRecord& r = it->record();
    Item image;
    if (!r.has_new_image || !items::DecodeItem(r.new_image, &image).ok()) {
      return v->Add("record " + std::to_string(r.sequence) + " without a decodable new image");
    }
    if (image.at("pk").scalar == "counter") {
      ++counters;
    } else {
      ++puts;
      batch_txs.insert(image.at("tx").scalar);
    }
    if (!r.end_of_batch) continue;
    if (batch_txs.size() != 1 || counters != 1) {
      v->Add("batch ending at " + std::to_string(r.sequence) + " holds " +
             std::to_string(batch_txs.size()) + " transactions and " + std::to_string(counters) +
             " counter updates");
    } else {
      const std::string& tx = *batch_txs.begin();
      batches[tx] += 1;
      auto f = found.items.find(tx);
      if (f == found.items.end() || f->second != puts) {
        v->Add("transaction " + tx + ": the stream has " + std::to_string(puts) +
               " puts, the tables " + std::to_string(f == found.items.end() ? 0 : f->second));
      }
    }
    batch_txs.clear();
    puts = counters = 0;
  }
  if (!it->status().ok()) v->Add("stream: " + it->status().ToString());
  for (const auto& [tx, n] : found.items) {
    if (batches[tx] != 1) {
      v->Add("transaction " + tx + " is in the tables but in " + std::to_string(batches[tx]) +
             " stream batches");
    }
  }
}

void CheckTrial(const ItemsChildRun& run, const Found& found, Violations* v, uint64_t* inflight) {
  for (const auto& [tx, a] : run.txs) {
    auto f = found.items.find(tx);
    const int n = f == found.items.end() ? 0 : f->second;
    if (n != 0 && n != a.k) {
      v->Add("transaction " + tx + " is torn: " + std::to_string(n) + " of " + std::to_string(a.k) +
             " items");
    }
    if (a.acked && n != a.k) v->Add("acknowledged transaction " + tx + " is missing");
    if ((a.canceled || a.doomed) && n != 0) v->Add("canceled transaction " + tx + " wrote items");
    if (a.doomed && a.acked) v->Add("transaction " + tx + " passed a condition that cannot pass");
    if (!a.doomed && a.canceled) v->Add("transaction " + tx + " was canceled for no reason");
    if (!a.acked && !a.canceled) ++*inflight;
  }
  for (const auto& [tx, n] : found.items) {
    if (run.txs.count(tx) == 0) v->Add("transaction " + tx + " was never announced");
  }
  int64_t present = 0;
  for (const auto& [tx, n] : found.items) present += n > 0 ? 1 : 0;
  if (found.counter != present) {
    v->Add("counter is " + std::to_string(found.counter) + " but " + std::to_string(present) +
           " transactions are there");
  }
}

TEST(ItemsCrashTest, TransactionsAreAllOrNothingUnderSigkill) {
  const CampaignSize size = StartCampaign("items crash test", "trials", "RUNNEL_ITEMS_CRASH_TRIALS",
                                          20, "RUNNEL_ITEMS_CRASH_SEED");
  std::mt19937_64 rng(size.seed);
  TempDir tmp;
  const std::string dir = tmp.Sub("db");
  const std::string stderr_path = tmp.Sub("child_stderr.txt");
  Violations v;
  CampaignReport report("items crash test", "trials");
  uint64_t acked = 0, canceled = 0, inflight = 0, trials = 0;
  std::map<std::string, Announced> all;  // every trial's transactions

  for (uint64_t trial = 0; trial < size.runs; ++trial) {
    v.SetWhere("trial " + std::to_string(trial));
    ItemsChildRun run;
    KillSchedule kill;
    kill.after_ready_ms = 5 + static_cast<int>(rng() % 200);
    RunCampaignChild({ITEMS_CRASH_WRITER_PATH, dir, std::to_string(rng()), std::to_string(trial)},
                     stderr_path, kill, &run,
                     [&run](const std::string& tag, std::istringstream& in,
                            const std::string& line) { return HandleLine(tag, in, line, &run); });
    ++trials;
    if (!run.killed || run.child_error || run.timed_out) {
      ADD_FAILURE() << "trial " << trial << ": the child was not killed by us " << run.error_line
                    << "\nchild stderr:\n"
                    << ReadFile(stderr_path);
      return;
    }
    for (const std::string& e : run.protocol_errors) v.Add(e);
    for (const auto& [tx, a] : run.txs) {
      acked += a.acked ? 1 : 0;
      canceled += a.canceled ? 1 : 0;
      all[tx] = a;
    }

    std::unique_ptr<DB> db;
    Status s = DB::Open(CampaignOptions(), dir, &db);
    if (!s.ok()) {
      v.Add("reopen failed: " + s.ToString());
      break;
    }
    Found found;
    s = ScanFound(db.get(), &found);
    if (!s.ok()) {
      v.Add("scan: " + s.ToString());
      break;
    }
    ItemsChildRun everything;
    everything.txs = all;
    CheckTrial(everything, found, &v, &inflight);
    CheckStream(db.get(), found, &v);
    ASSERT_OK(db->Close());
    // What was in flight is decided now: remember it as it turned out.
    for (auto& [tx, a] : all) {
      if (!a.acked && !a.canceled) {
        auto f = found.items.find(tx);
        if (f != found.items.end() && f->second == a.k) {
          a.acked = true;
        } else {
          a.canceled = true;  // it never happened
          a.doomed = true;
        }
      }
    }
    if (v.count() > 50) break;
  }
  report.Count("transactions acknowledged", acked);
  report.Covered("transactions canceled by a condition", canceled, kMinTrials);
  report.Covered("transactions in flight at a kill", inflight, kMinTrials);
  report.Finish(trials, v.count());
  v.Report(size.seed);
}

}  // namespace
}  // namespace runnel::test
