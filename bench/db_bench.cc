// Copyright 2026 The runnel Authors.
//
// db_bench: runnel and raw LevelDB side by side, in one process and one run.
//
// LevelDB is opened with the options runnel gives its index (bloom filter of
// 10 bits per key, 8 MiB block cache, 4 MiB write buffer unless a workload
// says otherwise) and keeps its own write-ahead log; runnel writes to one
// table whose stream is NEW_AND_OLD_IMAGES. Both engines get the same keys
// and values. Workloads:
//
//   puts        random puts, sync=false: puts/s
//   synclat     one writer, sync=true: per-put latency p50/p99/mean
//   concurrent  1, 4, 8 writers doing sync=true puts for a fixed time:
//               commits/s and the 8-writer/1-writer scaling
//   recovery    write N puts (sync=false) with a write buffer large enough
//               that nothing leaves the memtable, close, time the reopen:
//               replayed records/s
//   overwrites  overwrite every key of a preloaded table once, in another
//               order (MODIFY records): runnel against change data capture
//               written by hand on LevelDB (Get the old value, then one
//               WriteBatch with the item and a change-log entry): puts/s
//   crash       a child process writes N puts (sync=false) with the default
//               write buffers and kill -9s itself; time the reopen
//
// Every workload runs --runs times (engine order alternates between runs);
// the summary prints the median of each figure, and the median of the
// per-run runnel/LevelDB ratios (each run measures both engines back to back,
// so its ratio is paired).
//
//   db_bench [--runs=3] [--dir=/tmp] [--workloads=puts,synclat,concurrent,recovery]
//            [--num=1000000] [--key_size=16] [--value_size=100]
//            [--sync_num=2000] [--threads=1,4,8] [--seconds=2]
//            [--recovery_num=1000000] [--recovery_write_buffer_mb=512]
//            [--engines=runnel,leveldb]
//
// --engines=runnel (or leveldb) runs one engine alone, for profilers such as
// valgrind --tool=callgrind --toggle-collect='*PutsRunnel*'.

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "runnel/db.h"

extern char** environ;

namespace {

using runnel::bench::LoadAvg;
using runnel::bench::Median;

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "db_bench: %s\n", msg.c_str());
  std::exit(1);
}
void Check(const runnel::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}
void Check(const leveldb::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

// --- Flags

struct Flags {
  int runs = 3;
  std::string dir = "/tmp";
  std::string workloads = "puts,overwrites,synclat,concurrent,recovery,crash";
  uint64_t num = 1000000;
  size_t key_size = 16;
  size_t value_size = 100;
  uint64_t sync_num = 2000;
  std::vector<int> threads = {1, 4, 8};
  double seconds = 2.0;
  uint64_t recovery_num = 1000000;
  size_t recovery_write_buffer_mb = 512;
  uint64_t overwrite_num = 200000;
  // Options::key_filter_bits_per_key for runnel; -1: its default.
  int key_filter_bits = -1;
  // Options::sync_group_wait_micros for runnel; -1: its default.
  int sync_group_wait_us = -1;
  bool run_runnel = true;
  // Set in the child of the crash workload: the engine it writes with, and
  // where.
  std::string crash_child;
  std::string crash_dir;
  bool run_leveldb = true;

  bool Enabled(std::string_view w) const {
    size_t pos = 0;
    while (pos <= workloads.size()) {
      size_t comma = workloads.find(',', pos);
      if (comma == std::string::npos) comma = workloads.size();
      if (std::string_view(workloads).substr(pos, comma - pos) == w) return true;
      pos = comma + 1;
    }
    return false;
  }
};

void Usage() {
  std::printf(
      "usage: db_bench [flags]\n"
      "  --runs=N                     repeat each workload N times (3)\n"
      "  --dir=PATH                   scratch directories go here (/tmp)\n"
      "  --workloads=LIST             puts,overwrites,synclat,concurrent,recovery,crash\n"
      "  --overwrite_num=N            keys preloaded, then overwritten (200000)\n"
      "  --key_filter_bits=N          runnel's absent-key filter, bits per key (10;\n"
      "                               0 turns it off)\n"
      "  --sync_group_wait_us=N       runnel's sync leader waits up to N us for\n"
      "                               the sync writers on their way back (1000;\n"
      "                               0 turns the wait off)\n"
      "  --num=N                      random puts (1000000)\n"
      "  --key_size=N                 key bytes (16)\n"
      "  --value_size=N               value bytes (100)\n"
      "  --sync_num=N                 sync puts for the latency test (2000)\n"
      "  --threads=LIST               concurrent sync writers (1,4,8)\n"
      "  --seconds=S                  duration of each concurrent test (2)\n"
      "  --recovery_num=N             puts written before the reopen (1000000)\n"
      "  --recovery_write_buffer_mb=N write buffer for the recovery test (512)\n"
      "  --engines=LIST               runnel,leveldb (both); one alone is for\n"
      "                               profiling, ratios are then nan\n");
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      Usage();
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) Die("unexpected argument " + arg);
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else {
      if (i + 1 >= argc) Die("flag --" + name + " needs a value");
      value = argv[++i];
    }
    auto num = [&]() -> uint64_t {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0') Die("--" + name + ": not a number");
      return v;
    };
    if (name == "runs") {
      f.runs = static_cast<int>(num());
    } else if (name == "dir") {
      f.dir = value;
    } else if (name == "workloads") {
      f.workloads = value;
    } else if (name == "num") {
      f.num = num();
    } else if (name == "key_size") {
      f.key_size = num();
    } else if (name == "value_size") {
      f.value_size = num();
    } else if (name == "sync_num") {
      f.sync_num = num();
    } else if (name == "seconds") {
      f.seconds = std::atof(value.c_str());
    } else if (name == "recovery_num") {
      f.recovery_num = num();
    } else if (name == "recovery_write_buffer_mb") {
      f.recovery_write_buffer_mb = num();
    } else if (name == "key_filter_bits") {
      f.key_filter_bits = static_cast<int>(num());
    } else if (name == "sync_group_wait_us") {
      f.sync_group_wait_us = static_cast<int>(num());
    } else if (name == "overwrite_num") {
      f.overwrite_num = num();
    } else if (name == "crash_child") {
      f.crash_child = value;
    } else if (name == "crash_dir") {
      f.crash_dir = value;
    } else if (name == "engines") {
      f.run_runnel = value.find("runnel") != std::string::npos;
      f.run_leveldb = value.find("leveldb") != std::string::npos;
      if (!f.run_runnel && !f.run_leveldb) Die("--engines: runnel and/or leveldb");
    } else if (name == "threads") {
      f.threads.clear();
      size_t pos = 0;
      while (pos < value.size()) {
        size_t comma = value.find(',', pos);
        if (comma == std::string::npos) comma = value.size();
        const int t = std::atoi(value.substr(pos, comma - pos).c_str());
        if (t <= 0) Die("--threads: bad list " + value);
        f.threads.push_back(t);
        pos = comma + 1;
      }
    } else {
      Die("unknown flag --" + name + " (see --help)");
    }
  }
  if (f.runs < 1) Die("--runs must be >= 1");
  if (f.key_size < 1 || f.key_size > runnel::kMaxKeyBytes) {
    Die("--key_size must be 1..4096");
  }
  if (f.threads.empty()) Die("--threads is empty");
  return f;
}

// --- Data

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Key i of stream `seed`: key_size pseudo-random bytes.
void MakeKey(uint64_t seed, uint64_t i, size_t n, char* out) {
  const uint64_t base = Mix(seed * 0x100000001b3ull) ^ (i * 0xd6e8feb86659fd93ull);
  for (size_t j = 0; j < n; j += 8) {
    const uint64_t r = Mix(base + j);
    std::memcpy(out + j, &r, std::min<size_t>(8, n - j));
  }
}

// num keys, back to back.
std::string MakeKeys(uint64_t seed, uint64_t num, size_t key_size) {
  std::string keys(num * key_size, '\0');
  for (uint64_t i = 0; i < num; ++i) MakeKey(seed, i, key_size, &keys[i * key_size]);
  return keys;
}

// Values: windows into 1 MiB of random (incompressible) bytes.
class Values {
 public:
  Values(size_t value_size, uint64_t seed) : n_(value_size) {
    buf_.resize((1u << 20) + n_ + 8);
    for (size_t i = 0; i < buf_.size(); i += 8) {
      const uint64_t r = Mix(seed + i);
      std::memcpy(&buf_[i], &r, std::min<size_t>(8, buf_.size() - i));
    }
  }
  std::string_view Get(uint64_t i) const {
    return std::string_view(buf_.data() + (i * 4099) % (1u << 20), n_);
  }

 private:
  size_t n_;
  std::string buf_;
};

// --- Engines

constexpr char kTable[] = "bench";

struct LevelDB {
  std::unique_ptr<const leveldb::FilterPolicy> filter;
  std::unique_ptr<leveldb::Cache> cache;
  std::unique_ptr<leveldb::DB> db;  // destroyed first
};

// The options runnel's index uses (db/db_impl.cc), with LevelDB's WAL on.
std::unique_ptr<LevelDB> OpenLevelDB(const std::string& dir, size_t write_buffer) {
  auto l = std::make_unique<LevelDB>();
  l->filter.reset(leveldb::NewBloomFilterPolicy(10));
  l->cache.reset(leveldb::NewLRUCache(8u << 20));
  leveldb::Options o;
  o.create_if_missing = true;
  o.filter_policy = l->filter.get();
  o.block_cache = l->cache.get();
  o.write_buffer_size = write_buffer;
  o.max_open_files = 1000;
  leveldb::DB* db = nullptr;
  Check(leveldb::DB::Open(o, dir, &db), "leveldb open");
  l->db.reset(db);
  return l;
}

int g_key_filter_bits = -1;     // Flags::key_filter_bits
int g_sync_group_wait_us = -1;  // Flags::sync_group_wait_us

std::unique_ptr<runnel::DB> OpenRunnel(const std::string& dir, size_t write_buffer,
                                       bool create_table) {
  runnel::Options o;
  if (g_key_filter_bits >= 0) o.key_filter_bits_per_key = g_key_filter_bits;
  if (g_sync_group_wait_us >= 0) {
    o.sync_group_wait_micros = static_cast<uint32_t>(g_sync_group_wait_us);
  }
  o.write_buffer_bytes = write_buffer;
  o.block_cache_bytes = 8u << 20;
  std::unique_ptr<runnel::DB> db;
  Check(runnel::DB::Open(o, dir, &db), "runnel open");
  if (create_table) {
    Check(db->CreateTable(
              kTable, runnel::StreamSpecification{true, runnel::StreamViewType::kNewAndOldImages}),
          "runnel create table");
  }
  return db;
}

// A fresh directory under --dir, removed when the object goes away.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& base) {
    std::string templ = base + "/db_bench.XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      Die("mkdtemp " + templ + ": " + std::strerror(errno));
    }
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

// Dirty pages of an earlier phase must not be written back (and paid for)
// inside the next measurement.
void Quiesce() { ::sync(); }

// --- Statistics

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return NAN;
  size_t rank = static_cast<size_t>(std::ceil(p * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// Every figure of every run, by name.
class Results {
 public:
  void Add(const std::string& name, double v) { values_[name].push_back(v); }
  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  double Med(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? NAN : Median(it->second);
  }
  std::string All(const std::string& name, const char* fmt) const {
    std::string out;
    auto it = values_.find(name);
    if (it == values_.end()) return out;
    for (double v : it->second) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), fmt, v);
      if (!out.empty()) out += ", ";
      out += buf;
    }
    return out;
  }

 private:
  std::map<std::string, std::vector<double>> values_;
};

// --- Workload 1: random puts, sync=false

double PutsLevelDB(const Flags& f, const std::string& keys, const Values& vals) {
  ScratchDir dir(f.dir);
  auto l = OpenLevelDB(dir.Sub("leveldb"), 4u << 20);
  const leveldb::WriteOptions wo;  // sync=false, WAL on
  Quiesce();
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < f.num; ++i) {
    const std::string_view v = vals.Get(i);
    leveldb::Status s = l->db->Put(wo, leveldb::Slice(keys.data() + i * f.key_size, f.key_size),
                                   leveldb::Slice(v.data(), v.size()));
    if (!s.ok()) Check(s, "leveldb put");
  }
  const auto t1 = Clock::now();
  return f.num / Seconds(t0, t1);
}

double PutsRunnel(const Flags& f, const std::string& keys, const Values& vals) {
  ScratchDir dir(f.dir);
  auto db = OpenRunnel(dir.Sub("runnel"), 4u << 20, true);
  const runnel::WriteOptions wo;  // sync=false
  Quiesce();
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < f.num; ++i) {
    runnel::Status s = db->Put(
        wo, kTable, std::string_view(keys.data() + i * f.key_size, f.key_size), vals.Get(i));
    if (!s.ok()) Check(s, "runnel put");
  }
  const auto t1 = Clock::now();
  Check(db->Close(), "runnel close");
  return f.num / Seconds(t0, t1);
}

// --- Workload 1b: overwrites (MODIFY)

// The order of the overwrites: a permutation of [0, n) unlike the preload's.
uint64_t OverwriteIndex(uint64_t i, uint64_t n) { return (i * 7919 + 13) % n; }

// Change data capture by hand on LevelDB: items under 't', change-log
// entries under 'c' + the big-endian sequence, each holding the key, the old
// value and the new one, written with the item in one batch.
double OverwritesLevelDB(const Flags& f, const std::string& keys, const Values& vals) {
  ScratchDir dir(f.dir);
  auto l = OpenLevelDB(dir.Sub("leveldb"), 4u << 20);
  const leveldb::WriteOptions wo;  // sync=false, WAL on
  const uint64_t n = f.overwrite_num;
  auto item_key = [&](uint64_t i) {
    return "t" + std::string(keys.data() + i * f.key_size, f.key_size);
  };
  for (uint64_t i = 0; i < n; ++i) {
    const std::string_view v = vals.Get(i);
    Check(l->db->Put(wo, item_key(i), leveldb::Slice(v.data(), v.size())), "leveldb preload");
  }
  Quiesce();
  const auto t0 = Clock::now();
  std::string old, entry, ck;
  leveldb::WriteBatch b;
  for (uint64_t i = 0; i < n; ++i) {
    const std::string k = item_key(OverwriteIndex(i, n));
    const std::string_view v = vals.Get(n + i);
    Check(l->db->Get(leveldb::ReadOptions(), k, &old), "leveldb get");
    entry.clear();
    entry.append(k).append(old).append(v);
    ck = "c";
    for (int shift = 56; shift >= 0; shift -= 8) ck += static_cast<char>((i >> shift) & 0xff);
    b.Clear();
    b.Put(k, leveldb::Slice(v.data(), v.size()));
    b.Put(ck, entry);
    Check(l->db->Write(wo, &b), "leveldb write");
  }
  const auto t1 = Clock::now();
  return n / Seconds(t0, t1);
}

double OverwritesRunnel(const Flags& f, const std::string& keys, const Values& vals) {
  ScratchDir dir(f.dir);
  auto db = OpenRunnel(dir.Sub("runnel"), 4u << 20, true);
  const runnel::WriteOptions wo;  // sync=false
  const uint64_t n = f.overwrite_num;
  for (uint64_t i = 0; i < n; ++i) {
    Check(db->Put(wo, kTable, std::string_view(keys.data() + i * f.key_size, f.key_size),
                  vals.Get(i)),
          "runnel preload");
  }
  Quiesce();
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t k = OverwriteIndex(i, n);
    Check(db->Put(wo, kTable, std::string_view(keys.data() + k * f.key_size, f.key_size),
                  vals.Get(n + i)),
          "runnel overwrite");
  }
  const auto t1 = Clock::now();
  Check(db->Close(), "runnel close");
  return n / Seconds(t0, t1);
}

// --- Workload 2: single-writer sync put latency

struct Latency {
  double p50 = NAN, p99 = NAN, mean = NAN;
};

constexpr uint64_t kWarmup = 20;

template <typename PutFn>
Latency MeasureLatency(uint64_t n, PutFn put) {
  for (uint64_t i = 0; i < kWarmup; ++i) put(n + i);  // not measured
  std::vector<double> us;
  us.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    put(i);
    const auto t1 = Clock::now();
    us.push_back(Seconds(t0, t1) * 1e6);
  }
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double v : us) sum += v;
  return {Percentile(us, 0.50), Percentile(us, 0.99), sum / us.size()};
}

Latency SyncLevelDB(const Flags& f, const std::string& keys, const Values& vals) {
  ScratchDir dir(f.dir);
  auto l = OpenLevelDB(dir.Sub("leveldb"), 4u << 20);
  leveldb::WriteOptions wo;
  wo.sync = true;
  Quiesce();
  return MeasureLatency(f.sync_num, [&](uint64_t i) {
    const std::string_view v = vals.Get(i);
    Check(l->db->Put(wo, leveldb::Slice(keys.data() + i * f.key_size, f.key_size),
                     leveldb::Slice(v.data(), v.size())),
          "leveldb sync put");
  });
}

Latency SyncRunnel(const Flags& f, const std::string& keys, const Values& vals) {
  ScratchDir dir(f.dir);
  auto db = OpenRunnel(dir.Sub("runnel"), 4u << 20, true);
  runnel::WriteOptions wo;
  wo.sync = true;
  Quiesce();
  Latency lat = MeasureLatency(f.sync_num, [&](uint64_t i) {
    Check(db->Put(wo, kTable, std::string_view(keys.data() + i * f.key_size, f.key_size),
                  vals.Get(i)),
          "runnel sync put");
  });
  Check(db->Close(), "runnel close");
  return lat;
}

// --- Workload 3: concurrent sync writers

// Runs `threads` writers calling put(thread, i) for f.seconds; returns
// completed puts per second of wall time (start signal to last join).
template <typename PutFn>
double RunWriters(int threads, double seconds, PutFn put) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false}, stop{false};
  std::vector<uint64_t> done(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) put(t, n++);
      done[t] = n;
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const auto t0 = Clock::now();
  go.store(true);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (auto& th : pool) th.join();
  const auto t1 = Clock::now();
  uint64_t total = 0;
  for (uint64_t n : done) total += n;
  return total / Seconds(t0, t1);
}

// Keys of writer t: stream 1000 + t, generated on the fly (cheap next to an
// fsync).
double ConcurrentLevelDB(const Flags& f, int threads, const Values& vals) {
  ScratchDir dir(f.dir);
  auto l = OpenLevelDB(dir.Sub("leveldb"), 4u << 20);
  leveldb::WriteOptions wo;
  wo.sync = true;
  Quiesce();
  return RunWriters(threads, f.seconds, [&](int t, uint64_t i) {
    char key[runnel::kMaxKeyBytes];
    MakeKey(1000 + t, i, f.key_size, key);
    const std::string_view v = vals.Get(i * 8 + t);
    Check(l->db->Put(wo, leveldb::Slice(key, f.key_size), leveldb::Slice(v.data(), v.size())),
          "leveldb sync put");
  });
}

double ConcurrentRunnel(const Flags& f, int threads, const Values& vals) {
  ScratchDir dir(f.dir);
  auto db = OpenRunnel(dir.Sub("runnel"), 4u << 20, true);
  runnel::WriteOptions wo;
  wo.sync = true;
  Quiesce();
  const double rate = RunWriters(threads, f.seconds, [&](int t, uint64_t i) {
    char key[runnel::kMaxKeyBytes];
    MakeKey(1000 + t, i, f.key_size, key);
    Check(db->Put(wo, kTable, std::string_view(key, f.key_size), vals.Get(i * 8 + t)),
          "runnel sync put");
  });
  Check(db->Close(), "runnel close");
  return rate;
}

// --- Workload 4: recovery replay

struct Replay {
  double records_per_sec = NAN;
  double open_seconds = NAN;
  double records = NAN;
};

Replay RecoveryLevelDB(const Flags& f, const std::string& keys, const Values& vals) {
  ScratchDir dir(f.dir);
  const size_t wb = f.recovery_write_buffer_mb << 20;
  {
    auto l = OpenLevelDB(dir.Sub("leveldb"), wb);
    const leveldb::WriteOptions wo;
    for (uint64_t i = 0; i < f.recovery_num; ++i) {
      const std::string_view v = vals.Get(i);
      leveldb::Status s = l->db->Put(wo, leveldb::Slice(keys.data() + i * f.key_size, f.key_size),
                                     leveldb::Slice(v.data(), v.size()));
      if (!s.ok()) Check(s, "leveldb put");
    }
  }  // closed: everything is in LevelDB's WAL only
  Quiesce();
  const auto t0 = Clock::now();
  auto l = OpenLevelDB(dir.Sub("leveldb"), wb);
  const auto t1 = Clock::now();
  // Spot check: the last key is back.
  std::string v;
  const uint64_t last = f.recovery_num - 1;
  Check(l->db->Get(leveldb::ReadOptions(),
                   leveldb::Slice(keys.data() + last * f.key_size, f.key_size), &v),
        "leveldb get after reopen");
  const double secs = Seconds(t0, t1);
  return {f.recovery_num / secs, secs, static_cast<double>(f.recovery_num)};
}

Replay RecoveryRunnel(const Flags& f, const std::string& keys, const Values& vals) {
  ScratchDir dir(f.dir);
  const size_t wb = f.recovery_write_buffer_mb << 20;
  {
    auto db = OpenRunnel(dir.Sub("runnel"), wb, true);
    const runnel::WriteOptions wo;
    for (uint64_t i = 0; i < f.recovery_num; ++i) {
      runnel::Status s = db->Put(
          wo, kTable, std::string_view(keys.data() + i * f.key_size, f.key_size), vals.Get(i));
      if (!s.ok()) Check(s, "runnel put");
    }
    Check(db->Close(), "runnel close");
  }
  Quiesce();
  const auto t0 = Clock::now();
  auto db = OpenRunnel(dir.Sub("runnel"), wb, false);
  const auto t1 = Clock::now();
  const uint64_t replayed = db->recovery_report().replayed_records;
  std::string v;
  const uint64_t last = f.recovery_num - 1;
  Check(db->Get(runnel::ReadOptions(), kTable,
                std::string_view(keys.data() + last * f.key_size, f.key_size), &v),
        "runnel get after reopen");
  Check(db->Close(), "runnel close");
  const double secs = Seconds(t0, t1);
  return {replayed / secs, secs, static_cast<double>(replayed)};
}

// --- Workload 5: reopen after kill -9, default options

// The crash workload's child: --recovery_num puts, then SIGKILL (nothing
// closed, nothing flushed). Never returns.
[[noreturn]] void CrashChild(const Flags& f, const std::string& keys, const Values& vals) {
  const size_t n = f.recovery_num;
  if (f.crash_child == "runnel") {
    auto db = OpenRunnel(f.crash_dir, runnel::Options().write_buffer_bytes, true);
    for (uint64_t i = 0; i < n; ++i) {
      Check(db->Put(runnel::WriteOptions(), kTable,
                    std::string_view(keys.data() + i * f.key_size, f.key_size), vals.Get(i)),
            "runnel put");
    }
    db.release();  // (never closed)
  } else {
    auto l = OpenLevelDB(f.crash_dir, leveldb::Options().write_buffer_size);
    for (uint64_t i = 0; i < n; ++i) {
      const std::string_view v = vals.Get(i);
      Check(l->db->Put(leveldb::WriteOptions(),
                       leveldb::Slice(keys.data() + i * f.key_size, f.key_size),
                       leveldb::Slice(v.data(), v.size())),
            "leveldb put");
    }
    l.release();
  }
  ::raise(SIGKILL);
  std::abort();
}

struct CrashReopen {
  double open_ms = NAN;
  double replayed = NAN;  // runnel only
};

// Runs this program as the crash child for `engine`, then times the reopen.
CrashReopen Crash(const Flags& f, const char* engine, const std::string& keys) {
  ScratchDir dir(f.dir);
  const std::string sub = dir.Sub(engine);
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::string> args = {self,
                                   "--crash_child=" + std::string(engine),
                                   "--crash_dir=" + sub,
                                   "--recovery_num=" + std::to_string(f.recovery_num),
                                   "--key_size=" + std::to_string(f.key_size),
                                   "--value_size=" + std::to_string(f.value_size),
                                   "--num=0",
                                   "--sync_num=0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    Die("posix_spawn " + self);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
    Die("crash child did not die of SIGKILL");
  Quiesce();
  CrashReopen out;
  const auto t0 = Clock::now();
  if (std::string_view(engine) == "runnel") {
    auto db = OpenRunnel(sub, runnel::Options().write_buffer_bytes, false);
    out.open_ms = Seconds(t0, Clock::now()) * 1e3;
    out.replayed = static_cast<double>(db->recovery_report().replayed_records);
    const uint64_t last = f.recovery_num - 1;
    std::string v;
    Check(db->Get(runnel::ReadOptions(), kTable,
                  std::string_view(keys.data() + last * f.key_size, f.key_size), &v),
          "runnel get after kill -9");
    Check(db->Close(), "runnel close");
  } else {
    auto l = OpenLevelDB(sub, leveldb::Options().write_buffer_size);
    out.open_ms = Seconds(t0, Clock::now()) * 1e3;
    const uint64_t last = f.recovery_num - 1;
    std::string v;
    Check(l->db->Get(leveldb::ReadOptions(),
                     leveldb::Slice(keys.data() + last * f.key_size, f.key_size), &v),
          "leveldb get after kill -9");
  }
  return out;
}

// --- Machine

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string MemTotal() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      const long kb = std::atol(line.c_str() + 9);
      return std::to_string(kb / 1024) + " MiB";
    }
  }
  return "unknown";
}

// The file system holding --dir, as df reports it.
std::string FileSystem(const std::string& dir) {
  std::string cmd = "df -PT '" + dir + "' 2>/dev/null | tail -n 1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "unknown";
  char buf[512] = {};
  std::string out;
  while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  // Keep "device type": the first two columns.
  const size_t a = out.find_first_of(" \t");
  const size_t b = a == std::string::npos ? a : out.find_first_not_of(" \t", a);
  const size_t c = b == std::string::npos ? b : out.find_first_of(" \t", b);
  if (c == std::string::npos) return out.empty() ? "unknown" : out;
  return out.substr(0, a) + " (" + out.substr(b, c - b) + ")";
}

void PrintMachine(const Flags& f) {
  struct utsname u;
  ::uname(&u);
  std::printf("machine: nproc=%ld, cpu=\"%s\", memory=%s\n", ::sysconf(_SC_NPROCESSORS_ONLN),
              CpuModel().c_str(), MemTotal().c_str());
  std::printf("kernel:  %s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
  std::printf("dir:     %s on %s\n", f.dir.c_str(), FileSystem(f.dir).c_str());
  std::printf("leveldb: %d.%d (system library)\n", leveldb::kMajorVersion, leveldb::kMinorVersion);
  std::printf(
      "config:  runs=%d keys=%zu B values=%zu B num=%llu sync_num=%llu "
      "threads=",
      f.runs, f.key_size, f.value_size, static_cast<unsigned long long>(f.num),
      static_cast<unsigned long long>(f.sync_num));
  for (size_t i = 0; i < f.threads.size(); ++i) {
    std::printf("%s%d", i ? "," : "", f.threads[i]);
  }
  std::printf(" seconds=%.1f recovery_num=%llu recovery_write_buffer=%zu MiB\n", f.seconds,
              static_cast<unsigned long long>(f.recovery_num), f.recovery_write_buffer_mb);
  std::printf(
      "engines: LevelDB: bloom 10 bits/key, 8 MiB block cache, 4 MiB write "
      "buffer, own WAL on;\n"
      "         runnel: same index options, one table with a "
      "NEW_AND_OLD_IMAGES stream\n\n");
  std::fflush(stdout);
}

// --- Summary

std::string Fmt(const char* fmt, double v) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

// "met" or "MISSED by N%" for x against a target (at least or at most).
std::string Verdict(double x, double target, bool at_least) {
  if (std::isnan(x)) return "n/a";
  const bool met = at_least ? x >= target : x <= target;
  if (met) return "met";
  const double miss = at_least ? (target - x) / target : (x - target) / target;
  return "MISSED by " + Fmt("%.0f%%", miss * 100);
}

struct Row {
  std::string name, runnel, leveldb, ratio, target, verdict;
};

void PrintTable(const std::vector<Row>& rows) {
  const char* head[6] = {"workload", "runnel", "LevelDB", "runnel/LevelDB", "target", "result"};
  size_t w[6];
  for (int i = 0; i < 6; ++i) w[i] = std::strlen(head[i]);
  for (const Row& r : rows) {
    const std::string* c[6] = {&r.name, &r.runnel, &r.leveldb, &r.ratio, &r.target, &r.verdict};
    for (int i = 0; i < 6; ++i) w[i] = std::max(w[i], c[i]->size());
  }
  auto line = [&](const std::string* c[6]) {
    std::printf("|");
    for (int i = 0; i < 6; ++i) {
      std::printf(" %-*s |", static_cast<int>(w[i]), c[i]->c_str());
    }
    std::printf("\n");
  };
  std::string hs[6];
  const std::string* hp[6];
  for (int i = 0; i < 6; ++i) {
    hs[i] = head[i];
    hp[i] = &hs[i];
  }
  line(hp);
  std::printf("|");
  for (int i = 0; i < 6; ++i) std::printf("%s|", std::string(w[i] + 2, '-').c_str());
  std::printf("\n");
  for (const Row& r : rows) {
    const std::string* c[6] = {&r.name, &r.runnel, &r.leveldb, &r.ratio, &r.target, &r.verdict};
    line(c);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  g_key_filter_bits = f.key_filter_bits;
  g_sync_group_wait_us = f.sync_group_wait_us;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const uint64_t key_count =
      std::max({f.num, f.sync_num + kWarmup, f.recovery_num, f.overwrite_num});
  const std::string keys = MakeKeys(1, key_count, f.key_size);
  const Values vals(f.value_size, 2);
  if (!f.crash_child.empty()) CrashChild(f, keys, vals);
  PrintMachine(f);
  Results res;
  const auto start = Clock::now();

  for (int run = 0; run < f.runs; ++run) {
    // Alternate which engine goes first, so that neither always inherits the
    // other's leftovers (page cache, write-back, CPU frequency).
    const bool leveldb_first = run % 2 == 0;
    std::printf("--- run %d/%d (%s first; load average %s)\n", run + 1, f.runs,
                leveldb_first ? "LevelDB" : "runnel", LoadAvg().c_str());
    // Runs both engines in this run's order; returns {runnel, LevelDB}.
    auto both = [&](auto runnel_fn, auto leveldb_fn) {
      using T = decltype(runnel_fn());
      T r{}, l{};
      if constexpr (std::is_floating_point_v<T>) r = l = NAN;  // not run
      if (leveldb_first && f.run_leveldb) l = leveldb_fn();
      if (f.run_runnel) r = runnel_fn();
      if (!leveldb_first && f.run_leveldb) l = leveldb_fn();
      return std::make_pair(r, l);
    };

    if (f.Enabled("puts")) {
      double r = NAN, l = NAN;
      std::tie(r, l) = both([&] { return PutsRunnel(f, keys, vals); },
                            [&] { return PutsLevelDB(f, keys, vals); });
      res.Add("puts.r", r);
      res.Add("puts.l", l);
      res.Add("puts.ratio", r / l);
      std::printf(
          "[1] random puts (%llu, sync=false): runnel %.0f puts/s, LevelDB %.0f "
          "puts/s, ratio %.3f\n",
          static_cast<unsigned long long>(f.num), r, l, r / l);
    }

    if (f.Enabled("overwrites")) {
      double r = NAN, l = NAN;
      std::tie(r, l) = both([&] { return OverwritesRunnel(f, keys, vals); },
                            [&] { return OverwritesLevelDB(f, keys, vals); });
      res.Add("over.r", r);
      res.Add("over.l", l);
      res.Add("over.ratio", r / l);
      std::printf(
          "[1b] overwrites (%llu keys, sync=false): runnel %.0f puts/s, CDC by hand on LevelDB "
          "%.0f puts/s, ratio %.3f\n",
          static_cast<unsigned long long>(f.overwrite_num), r, l, r / l);
    }

    if (f.Enabled("synclat")) {
      Latency r, l;
      std::tie(r, l) = both([&] { return SyncRunnel(f, keys, vals); },
                            [&] { return SyncLevelDB(f, keys, vals); });
      res.Add("sync.p50.r", r.p50);
      res.Add("sync.p50.l", l.p50);
      res.Add("sync.p50.ratio", r.p50 / l.p50);
      res.Add("sync.p99.r", r.p99);
      res.Add("sync.p99.l", l.p99);
      res.Add("sync.p99.ratio", r.p99 / l.p99);
      res.Add("sync.mean.r", r.mean);
      res.Add("sync.mean.l", l.mean);
      res.Add("sync.mean.ratio", r.mean / l.mean);
      std::printf(
          "[2] sync put latency (%llu, 1 writer): runnel p50 %.1f p99 %.1f mean "
          "%.1f us; LevelDB p50 %.1f p99 %.1f mean %.1f us; p50 ratio %.3f\n",
          static_cast<unsigned long long>(f.sync_num), r.p50, r.p99, r.mean, l.p50, l.p99, l.mean,
          r.p50 / l.p50);
    }

    if (f.Enabled("concurrent")) {
      std::map<int, std::pair<double, double>> rate;  // threads -> (r, l)
      for (int t : f.threads) {
        double r = NAN, l = NAN;
        std::tie(r, l) = both([&] { return ConcurrentRunnel(f, t, vals); },
                              [&] { return ConcurrentLevelDB(f, t, vals); });
        rate[t] = {r, l};
        const std::string k = "conc." + std::to_string(t);
        res.Add(k + ".r", r);
        res.Add(k + ".l", l);
        res.Add(k + ".ratio", r / l);
        std::printf(
            "[3] sync writers x%d (%.1f s): runnel %.0f commits/s, LevelDB %.0f "
            "commits/s, ratio %.3f\n",
            t, f.seconds, r, l, r / l);
      }
      const auto& lo = rate[f.threads.front()];
      const auto& hi = rate[f.threads.back()];
      const double sr = hi.first / lo.first;
      const double sl = hi.second / lo.second;
      res.Add("scale.r", sr);
      res.Add("scale.l", sl);
      res.Add("scale.ratio", sr / sl);
      std::printf("[3] scaling x%d/x%d: runnel %.2fx, LevelDB %.2fx\n", f.threads.back(),
                  f.threads.front(), sr, sl);
    }

    if (f.Enabled("recovery")) {
      Replay r, l;
      std::tie(r, l) = both([&] { return RecoveryRunnel(f, keys, vals); },
                            [&] { return RecoveryLevelDB(f, keys, vals); });
      res.Add("rec.r", r.records_per_sec);
      res.Add("rec.l", l.records_per_sec);
      res.Add("rec.ratio", r.records_per_sec / l.records_per_sec);
      res.Add("rec.replayed", r.records);
      res.Add("rec.open.r", r.open_seconds * 1e3);
      res.Add("rec.open.l", l.open_seconds * 1e3);
      std::printf(
          "[4] recovery (%llu puts, write buffer %zu MiB): runnel replayed %llu "
          "records in %.0f ms = %.0f records/s; LevelDB reopen %.0f ms = %.0f "
          "records/s; ratio %.3f\n",
          static_cast<unsigned long long>(f.recovery_num), f.recovery_write_buffer_mb,
          static_cast<unsigned long long>(std::isnan(r.records) ? 0 : r.records),
          r.open_seconds * 1e3, r.records_per_sec, l.open_seconds * 1e3, l.records_per_sec,
          r.records_per_sec / l.records_per_sec);
      if (f.run_runnel && r.records < 0.9 * f.recovery_num) {
        std::printf(
            "    WARNING: runnel replayed only %.0f of %llu records: the index "
            "made most of them durable before the close (raise "
            "--recovery_write_buffer_mb), or the build is inconsistent\n",
            r.records, static_cast<unsigned long long>(f.recovery_num));
      }
    }

    if (f.Enabled("crash")) {
      CrashReopen r, l;
      std::tie(r, l) =
          both([&] { return Crash(f, "runnel", keys); }, [&] { return Crash(f, "leveldb", keys); });
      res.Add("crash.r", r.open_ms);
      res.Add("crash.l", l.open_ms);
      res.Add("crash.ratio", r.open_ms / l.open_ms);
      res.Add("crash.replayed", r.replayed);
      std::printf(
          "[5] reopen after kill -9 (%llu puts, default options): runnel %.0f ms (replayed %.0f "
          "records), LevelDB %.0f ms, ratio %.3f\n",
          static_cast<unsigned long long>(f.recovery_num), r.open_ms, r.replayed, l.open_ms,
          r.open_ms / l.open_ms);
    }
  }

  std::vector<Row> rows;
  auto ratio = [&](const std::string& k) { return Fmt("%.3f", res.Med(k)); };
  if (res.Has("puts.r")) {
    rows.push_back({"[1] random puts, sync=false (puts/s)", Fmt("%.0f", res.Med("puts.r")),
                    Fmt("%.0f", res.Med("puts.l")), ratio("puts.ratio"), "ratio >= 0.75",
                    Verdict(res.Med("puts.ratio"), 0.75, true)});
  }
  if (res.Has("over.r")) {
    rows.push_back({"[1b] overwrites, MODIFY (puts/s; anchor: CDC by hand on LevelDB)",
                    Fmt("%.0f", res.Med("over.r")), Fmt("%.0f", res.Med("over.l")),
                    ratio("over.ratio"), "ratio >= 1.3",
                    Verdict(res.Med("over.ratio"), 1.3, true)});
  }
  if (res.Has("sync.p50.r")) {
    rows.push_back({"[2] sync put p50 (us)", Fmt("%.1f", res.Med("sync.p50.r")),
                    Fmt("%.1f", res.Med("sync.p50.l")), ratio("sync.p50.ratio"), "ratio <= 1.1",
                    Verdict(res.Med("sync.p50.ratio"), 1.1, false)});
    rows.push_back({"[2] sync put p99 (us)", Fmt("%.1f", res.Med("sync.p99.r")),
                    Fmt("%.1f", res.Med("sync.p99.l")), ratio("sync.p99.ratio"), "-", "-"});
    rows.push_back({"[2] sync put mean (us)", Fmt("%.1f", res.Med("sync.mean.r")),
                    Fmt("%.1f", res.Med("sync.mean.l")), ratio("sync.mean.ratio"), "-", "-"});
  }
  if (res.Has("scale.r")) {
    for (int t : f.threads) {
      const std::string k = "conc." + std::to_string(t);
      const bool most = t == f.threads.back();
      rows.push_back({"[3] " + std::to_string(t) + " sync writer(s) (commits/s)",
                      Fmt("%.0f", res.Med(k + ".r")), Fmt("%.0f", res.Med(k + ".l")),
                      ratio(k + ".ratio"), most ? "ratio >= 1.2" : "-",
                      most ? Verdict(res.Med(k + ".ratio"), 1.2, true) : "-"});
    }
    rows.push_back({"[3] scaling " + std::to_string(f.threads.back()) + " / " +
                        std::to_string(f.threads.front()) + " writers",
                    Fmt("%.2fx", res.Med("scale.r")), Fmt("%.2fx", res.Med("scale.l")),
                    ratio("scale.ratio"), "runnel >= 5x", Verdict(res.Med("scale.r"), 5.0, true)});
  }
  if (res.Has("rec.r")) {
    rows.push_back({"[4] recovery replay (records/s)", Fmt("%.0f", res.Med("rec.r")),
                    Fmt("%.0f", res.Med("rec.l")), ratio("rec.ratio"), "runnel >= 1500000",
                    Verdict(res.Med("rec.r"), 1.5e6, true)});
    rows.push_back({"[4] reopen time (ms)", Fmt("%.0f", res.Med("rec.open.r")),
                    Fmt("%.0f", res.Med("rec.open.l")), "-", "-", "-"});
  }
  if (res.Has("crash.r")) {
    rows.push_back({"[5] reopen after kill -9, default options (ms)",
                    Fmt("%.0f", res.Med("crash.r")), Fmt("%.0f", res.Med("crash.l")),
                    ratio("crash.ratio"), "-", "-"});
  }

  std::printf(
      "\n=== medians of %d run(s); ratio = median of the per-run "
      "runnel/LevelDB ratios ===\n",
      f.runs);
  PrintTable(rows);
  if (res.Has("rec.r")) {
    std::printf(
        "\n[4] uses write_buffer = %zu MiB for both engines so that nothing "
        "leaves the memtable before the close: runnel replayed %s records per "
        "run (of %llu written). LevelDB's reopen time includes writing the "
        "replayed memtable to a level-0 table (its default, reuse_logs=false).\n",
        f.recovery_write_buffer_mb, res.All("rec.replayed", "%.0f").c_str(),
        static_cast<unsigned long long>(f.recovery_num));
  }
  std::printf("total time %.1f s; load average at the end %s\n", Seconds(start, Clock::now()),
              LoadAvg().c_str());
  return 0;
}
