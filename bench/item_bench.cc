// Copyright 2026 The runnel Authors.
//
// item_bench: typed-table operations against their baselines, in one process
// and one run, printing the ratios the typed tables issue sets:
//
//   condput   PutItem with ConditionExpression attribute_not_exists(pk) vs
//             unconditional PutItem, each of --num new items (sync=false):
//             items/s; target >= 0.9x (the leader evaluates the condition on
//             the old item it reads anyway)
//   add       UpdateItem "ADD counter :one" on --num existing items vs
//             PutItem of the same items (counter changed, so both write):
//             items/s; target >= 0.8x
//   query     Query of the 100 items of one random partition of a table of
//             --query_items items vs a raw LevelDB iterator reading the same
//             100 entries (same index keys and encoded values, copied out):
//             queries/s; target >= 0.7x. runnel reads the page as an
//             ItemPage (items left encoded, as LevelDB's values are); the
//             same pages decoded into runnel::Item maps (QueryResult) are
//             reported too, without a target.
//
// Every workload runs --runs times (which side goes first alternates; the
// query sides are interleaved in chunks); the
// summary prints medians and the median of the per-run ratios. The query
// tables are loaded once per process.
//
//   item_bench [--runs=3] [--dir=/tmp] [--workloads=condput,add,query]
//              [--num=100000] [--query_items=1000000] [--queries=5000]

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "bench/bench_util.h"
#include "db/index_keys.h"
#include "db/items/item_codec.h"
#include "db/items/key_codec.h"
#include "runnel/db.h"
#include "runnel/item.h"

namespace {

using runnel::bench::LoadAvg;
using runnel::bench::Median;

using Clock = std::chrono::steady_clock;
using runnel::AttributeValue;
using runnel::Item;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "item_bench: %s\n", msg.c_str());
  std::exit(1);
}
void Check(const runnel::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}
void Check(const leveldb::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

struct Flags {
  int runs = 3;
  std::string dir = "/tmp";
  std::string workloads = "condput,add,query";
  uint64_t num = 100000;
  uint64_t query_items = 1000000;
  uint64_t queries = 5000;
  bool Enabled(const std::string& w) const {
    return ("," + workloads + ",").find("," + w + ",") != std::string::npos;
  }
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      Die("usage: item_bench [--runs=N] [--dir=PATH] [--workloads=condput,add,query] "
          "[--num=N] [--query_items=N] [--queries=N]");
    }
    const std::string name = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
    const uint64_t n = std::strtoull(value.c_str(), nullptr, 10);
    if (name == "runs") {
      f.runs = static_cast<int>(n);
    } else if (name == "dir") {
      f.dir = value;
    } else if (name == "workloads") {
      f.workloads = value;
    } else if (name == "num") {
      f.num = n;
    } else if (name == "query_items") {
      f.query_items = n;
    } else if (name == "queries") {
      f.queries = n;
    } else {
      Die("unknown flag --" + name);
    }
  }
  if (f.runs < 1 || f.num < 1 || f.queries < 1 || f.query_items < 100) Die("bad flag value");
  return f;
}

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& base) {
    std::string templ = base + "/item_bench.XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) Die("mkdtemp " + templ);
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Sub(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// --- Items: a user profile of about 120 bytes.

std::string Padded(const char* prefix, uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%010llu", prefix, static_cast<unsigned long long>(i));
  return buf;
}

Item MakeItem(uint64_t i, uint64_t counter) {
  return {{"pk", AttributeValue::S(Padded("user", i))},
          {"name", AttributeValue::S(Padded("name-of-user-", i))},
          {"counter", AttributeValue::N(std::to_string(counter))},
          {"payload", AttributeValue::S(std::string(60, static_cast<char>('a' + i % 26)))}};
}

std::unique_ptr<runnel::DB> OpenRunnel(const std::string& dir) {
  runnel::Options o;
  o.block_cache_bytes = 8u << 20;
  std::unique_ptr<runnel::DB> db;
  Check(runnel::DB::Open(o, dir, &db), "runnel open");
  return db;
}

void CreateTable(runnel::DB* db, const std::string& name, bool range) {
  runnel::TableSchema schema;
  schema.key_schema.push_back({"pk", runnel::KeyType::kHash});
  schema.attribute_definitions.push_back({"pk", runnel::ScalarAttributeType::kS});
  if (range) {
    schema.key_schema.push_back({"sk", runnel::KeyType::kRange});
    schema.attribute_definitions.push_back({"sk", runnel::ScalarAttributeType::kN});
  }
  runnel::StreamSpecification stream{true, runnel::StreamViewType::kNewAndOldImages};
  Check(db->CreateTable(name, stream, schema), "create table");
}

// Puts items [0, n) into `table`; `condition` empty for unconditional puts.
double PutAll(runnel::DB* db, const std::string& table, uint64_t n, uint64_t counter,
              const std::string& condition) {
  runnel::PutItemRequest r;
  r.table_name = table;
  r.condition_expression = condition;
  runnel::WriteItemResult w;
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    r.item = MakeItem(i, counter);
    Check(db->PutItem(r, &w), "PutItem");
  }
  return static_cast<double>(n) / Seconds(t0, Clock::now());
}

double AddAll(runnel::DB* db, const std::string& table, uint64_t n) {
  runnel::UpdateItemRequest r;
  r.table_name = table;
  r.update_expression = "ADD #c :one";
  r.expression_attribute_names = {{"#c", "counter"}};
  r.expression_attribute_values = {{":one", AttributeValue::N("1")}};
  runnel::WriteItemResult w;
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    r.key = {{"pk", AttributeValue::S(Padded("user", i))}};
    Check(db->UpdateItem(r, &w), "UpdateItem");
  }
  return static_cast<double>(n) / Seconds(t0, Clock::now());
}

// --- Query: runnel and a raw LevelDB holding the same entries.

struct QueryFixture {
  std::unique_ptr<ScratchDir> dir;
  std::unique_ptr<runnel::DB> db;
  std::unique_ptr<const leveldb::FilterPolicy> filter;
  std::unique_ptr<leveldb::Cache> cache;
  std::unique_ptr<leveldb::DB> raw;
  uint64_t partitions = 0;
};

Item QueryItem(uint64_t p, uint64_t s) {
  Item item = MakeItem(p * 100 + s, s);
  item["pk"] = AttributeValue::S(Padded("part", p));
  item["sk"] = AttributeValue::N(std::to_string(s));
  return item;
}

void LoadQueryFixture(const Flags& f, QueryFixture* q) {
  q->dir = std::make_unique<ScratchDir>(f.dir);
  q->db = OpenRunnel(q->dir->Sub("runnel"));
  CreateTable(q->db.get(), "query", /*range=*/true);
  q->filter.reset(leveldb::NewBloomFilterPolicy(10));
  q->cache.reset(leveldb::NewLRUCache(8u << 20));
  leveldb::Options o;
  o.create_if_missing = true;
  o.filter_policy = q->filter.get();
  o.block_cache = q->cache.get();
  leveldb::DB* raw = nullptr;
  Check(leveldb::DB::Open(o, q->dir->Sub("leveldb"), &raw), "leveldb open");
  q->raw.reset(raw);
  q->partitions = f.query_items / 100;
  runnel::items::KeyShape shape{"pk", runnel::ScalarAttributeType::kS, "sk",
                                runnel::ScalarAttributeType::kN};
  const auto t0 = Clock::now();
  for (uint64_t p = 0; p < q->partitions; ++p) {
    leveldb::WriteBatch raw_batch;
    for (uint64_t s0 = 0; s0 < 100; s0 += runnel::kMaxBatchWriteRequests) {
      runnel::BatchWriteItemRequest req;
      auto& writes = req.request_items["query"];
      for (uint64_t s = s0; s < std::min<uint64_t>(100, s0 + 25); ++s) {
        Item item = QueryItem(p, s);
        std::string key, value;
        Check(runnel::items::EncodeItemKey(shape, item, false, &key), "encode key");
        runnel::items::EncodeItem(item, &value);
        raw_batch.Put(runnel::index::ItemKey(1, key), value);
        writes.push_back({true, std::move(item)});
      }
      runnel::BatchWriteItemResult res;
      Check(q->db->BatchWriteItem(req, &res), "BatchWriteItem");
    }
    Check(q->raw->Write(leveldb::WriteOptions(), &raw_batch), "leveldb write");
  }
  std::printf("query tables: %llu items each, loaded in %.1f s\n",
              static_cast<unsigned long long>(q->partitions * 100), Seconds(t0, Clock::now()));
}

// The partition of the i-th query of a run.
uint64_t QueryPartition(const QueryFixture& q, uint64_t seed, uint64_t i) {
  return (seed + i * 7919) % q.partitions;
}

// Queries [begin, end) of a run, read as ItemPage (the items left in their
// stored form, as the LevelDB side leaves its values) or, with Result =
// QueryResult, decoded into runnel::Item maps. Returns the seconds taken.
template <typename Result>
double QueryRunnel(QueryFixture* q, uint64_t seed, uint64_t begin, uint64_t end) {
  runnel::QueryRequest r;
  r.table_name = "query";
  r.key_condition_expression = "pk = :p";
  Result res;
  const auto t0 = Clock::now();
  for (uint64_t i = begin; i < end; ++i) {
    const uint64_t p = QueryPartition(*q, seed, i);
    r.expression_attribute_values = {{":p", AttributeValue::S(Padded("part", p))}};
    Check(q->db->Query(runnel::ReadOptions(), r, &res), "Query");
    size_t n = 0;
    if constexpr (std::is_same_v<Result, runnel::ItemPage>) {
      n = res.size();
    } else {
      n = res.items.size();
    }
    if (n != 100) Die("Query returned " + std::to_string(n));
  }
  return Seconds(t0, Clock::now());
}

double QueryLevelDB(QueryFixture* q, uint64_t seed, uint64_t begin, uint64_t end) {
  const auto t0 = Clock::now();
  std::vector<std::pair<std::string, std::string>> out;
  for (uint64_t i = begin; i < end; ++i) {
    std::string prefix;
    runnel::items::AppendKeyComponent(
        AttributeValue::S(Padded("part", QueryPartition(*q, seed, i))), &prefix);
    prefix = runnel::index::ItemKey(1, prefix);
    std::unique_ptr<leveldb::Iterator> it(q->raw->NewIterator(leveldb::ReadOptions()));
    out.clear();
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      out.emplace_back(it->key().ToString(), it->value().ToString());
    }
    if (out.size() != 100) Die("LevelDB read " + std::to_string(out.size()));
  }
  return Seconds(t0, Clock::now());
}

// One run of --queries queries on each side, interleaved in chunks of 50
// whose order rotates (so that load spikes of a shared machine, and block
// cache warmth from the side before, fall on every side alike). Returns
// queries/s of: runnel ItemPage, runnel QueryResult, raw LevelDB.
std::array<double, 3> QueryRun(const Flags& f, QueryFixture* q, uint64_t seed) {
  constexpr uint64_t kChunk = 50;
  std::array<double, 3> seconds = {0, 0, 0};
  for (uint64_t begin = 0, chunk = 0; begin < f.queries; begin += kChunk, ++chunk) {
    const uint64_t end = std::min<uint64_t>(f.queries, begin + kChunk);
    for (uint64_t k = 0; k < 3; ++k) {
      const uint64_t side = (chunk + k) % 3;
      if (side == 0) seconds[0] += QueryRunnel<runnel::ItemPage>(q, seed, begin, end);
      if (side == 1) seconds[1] += QueryRunnel<runnel::QueryResult>(q, seed, begin, end);
      if (side == 2) seconds[2] += QueryLevelDB(q, seed, begin, end);
    }
  }
  const double n = static_cast<double>(f.queries);
  return {n / seconds[0], n / seconds[1], n / seconds[2]};
}

// --- Report

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

struct Figures {
  std::vector<double> subject, baseline, ratio;
};

// One row of the summary; target 0: informative, no target.
void Report(const std::string& name, const char* unit, const Figures& fig, double target) {
  const double r = Median(fig.ratio);
  char goal[32] = "-";
  if (target > 0) std::snprintf(goal, sizeof goal, ">= %.1fx", target);
  std::printf("| %-13s | %10.0f %s | %10.0f %s | %5.2fx | %s | %s |\n", name.c_str(),
              Median(fig.subject), unit, Median(fig.baseline), unit, r, goal,
              target <= 0 ? "-" : (r >= target ? "met" : "MISSED"));
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("machine: nproc=%ld, cpu=\"%s\"\n", ::sysconf(_SC_NPROCESSORS_ONLN),
              CpuModel().c_str());
  std::printf("config:  runs=%d num=%llu query_items=%llu queries=%llu\n\n", f.runs,
              static_cast<unsigned long long>(f.num),
              static_cast<unsigned long long>(f.query_items),
              static_cast<unsigned long long>(f.queries));
  Figures condput, add, query, decoded;
  QueryFixture qf;
  if (f.Enabled("query")) LoadQueryFixture(f, &qf);
  for (int run = 0; run < f.runs; ++run) {
    const bool subject_first = run % 2 == 1;
    std::printf("--- run %d/%d (load average %s)\n", run + 1, f.runs, LoadAvg().c_str());
    if (f.Enabled("condput")) {
      ScratchDir dir(f.dir);
      auto db = OpenRunnel(dir.Sub("db"));
      CreateTable(db.get(), "plain", false);
      CreateTable(db.get(), "cond", false);
      double c = 0, u = 0;
      if (subject_first) c = PutAll(db.get(), "cond", f.num, 0, "attribute_not_exists(pk)");
      u = PutAll(db.get(), "plain", f.num, 0, "");
      if (!subject_first) c = PutAll(db.get(), "cond", f.num, 0, "attribute_not_exists(pk)");
      condput.subject.push_back(c);
      condput.baseline.push_back(u);
      condput.ratio.push_back(c / u);
      std::printf("condput: conditional %.0f/s, unconditional %.0f/s, ratio %.2f\n", c, u, c / u);
    }
    if (f.Enabled("add")) {
      ScratchDir dir(f.dir);
      auto db = OpenRunnel(dir.Sub("db"));
      CreateTable(db.get(), "items", false);
      PutAll(db.get(), "items", f.num, 0, "");
      double a = 0, p = 0;
      if (subject_first) a = AddAll(db.get(), "items", f.num);
      p = PutAll(db.get(), "items", f.num, 1000 + static_cast<uint64_t>(run), "");
      if (!subject_first) a = AddAll(db.get(), "items", f.num);
      add.subject.push_back(a);
      add.baseline.push_back(p);
      add.ratio.push_back(a / p);
      std::printf("add: UpdateItem ADD %.0f/s, PutItem %.0f/s, ratio %.2f\n", a, p, a / p);
    }
    if (f.Enabled("query")) {
      const uint64_t seed = static_cast<uint64_t>(run) * 104729;
      const auto [r, d, l] = QueryRun(f, &qf, seed);
      query.subject.push_back(r);
      query.baseline.push_back(l);
      query.ratio.push_back(r / l);
      decoded.subject.push_back(d);
      decoded.baseline.push_back(l);
      decoded.ratio.push_back(d / l);
      std::printf(
          "query: runnel ItemPage %.0f/s, QueryResult %.0f/s, LevelDB iterator %.0f/s, "
          "ratios %.2f, %.2f\n",
          r, d, l, r / l, d / l);
    }
  }
  std::printf("\n| workload | subject | baseline | ratio | target | result |\n");
  std::printf("|---|---|---|---|---|---|\n");
  if (!condput.ratio.empty()) Report("condput", "items/s", condput, 0.9);
  if (!add.ratio.empty()) Report("add", "items/s", add, 0.8);
  if (!query.ratio.empty()) Report("query", "q/s", query, 0.7);
  // Informative (no target): the same pages decoded into runnel::Item maps.
  if (!decoded.ratio.empty()) Report("query/decoded", "q/s", decoded, 0.0);
  std::printf("(load average at the end: %s)\n", LoadAvg().c_str());
  return 0;
}
