// Copyright 2026 The runnel Authors.
//
// Memory of a process that streams N records (issue 13's target: peak RSS
// <= 64 MiB + the configured caches):
//  1. setup: N puts (16 B keys, 100 B values, WriteBatches of 1000) into a
//     stream-enabled table (NEW_IMAGE), in a child process;
//  2. GetRecords: a child process opens the DB and reads all N records with
//     a shard iterator and a GetRecords loop (default GetRecordsOptions: what
//     a stream consumer does);
//  3. mapping: a child process opens the DB and delivers all N records
//     through an event source mapping to the no-op plugin (dlopen);
//  4. Get (--gets G, 0 to skip): a child process reads G random existing
//     keys with DB::Get (the index's side, for comparison).
// Each reading phase is a fresh process (fork of this one before it opened
// anything), so its peak is its own. A sampler thread reads
// /proc/self/status every --sample-ms: VmRSS, RssAnon, RssFile; at each new
// peak it also sums /proc/self/smaps by what is mapped (log segments, index
// tables, anonymous memory, ...) to show where the peak is.
//
// Sampling goes on for --settle-ms after each phase (see Finish()).
//
//   rss_bench [--records N] [--runs R] [--dir DIR] [--plugin PATH]
//             [--batch-size B] [--sample-ms MS] [--settle-ms MS] [--gets G]
//             [--reuse 1]
// --reuse 1 keeps the DB in DIR for the next invocation with the same N.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_db.h"
#include "runnel/db.h"
#include "runnel/triggers.h"

namespace {

using Clock = std::chrono::steady_clock;
using runnel::bench::Check;
using runnel::bench::LoadAvg;
using runnel::bench::Median;

constexpr double kMiB = 1024.0 * 1024.0;
constexpr size_t kValueBytes = 100;
constexpr size_t kKeyBytes = 16;

// --- /proc/self

struct Mem {
  uint64_t rss = 0, anon = 0, file = 0, hwm = 0;  // bytes
};

Mem ReadMem() {
  Mem m;
  std::ifstream in("/proc/self/status");
  std::string line;
  auto field = [&](const char* name, uint64_t* out) {
    const size_t n = std::strlen(name);
    if (line.compare(0, n, name) == 0) *out = std::strtoull(line.c_str() + n, nullptr, 10) * 1024;
  };
  while (std::getline(in, line)) {
    field("VmRSS:", &m.rss);
    field("RssAnon:", &m.anon);
    field("RssFile:", &m.file);
    field("VmHWM:", &m.hwm);
  }
  return m;
}

// What a mapping holds, by kind: the log's segments, the index's tables,
// anonymous memory (heap, malloc arenas, stacks), shared libraries.
std::string Kind(const std::string& path) {
  auto ends = [&](const char* s) {
    const size_t n = std::strlen(s);
    return path.size() >= n && path.compare(path.size() - n, n, s) == 0;
  };
  if (ends(".seg")) return "log segments (mmap)";
  if (ends(".ldb") || ends(".sst")) return "index tables (LevelDB mmap)";
  if (path.empty() || path == "[heap]" || path.rfind("[stack", 0) == 0) return "anonymous";
  if (path.find(".so") != std::string::npos) return "shared libraries";
  return path;
}

// Rss of /proc/self/smaps summed by Kind(), as "kind=N.N" pairs, largest
// first.
std::string SmapsBreakdown() {
  std::ifstream in("/proc/self/smaps");
  std::map<std::string, uint64_t> kb;
  std::string line, kind;
  while (std::getline(in, line)) {
    if (line.rfind("Rss:", 0) == 0) {
      kb[kind] += std::strtoull(line.c_str() + 4, nullptr, 10);
    } else if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
               line.find('-') < line.find(' ')) {
      // "start-end perms offset dev inode [path]"
      std::istringstream h(line);
      std::string range, perms, offset, dev, inode, path;
      h >> range >> perms >> offset >> dev >> inode;
      std::getline(h >> std::ws, path);
      kind = Kind(path);
    }
  }
  std::vector<std::pair<uint64_t, std::string>> v;
  for (const auto& [k, n] : kb) v.emplace_back(n, k);
  std::sort(v.rbegin(), v.rend());
  std::string out;
  for (const auto& [n, k] : v) {
    if (n < 1024) continue;  // under 1 MiB
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%s%s %.1f", out.empty() ? "" : ", ", k.c_str(), n / 1024.0);
    out += buf;
  }
  return out;
}

// Samples the process's memory on a thread until Stop().
class Sampler {
 public:
  explicit Sampler(int period_ms) : period_(period_ms) {
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    stop_.store(true);
    thread_.join();
    Sample();
  }
  Mem peak;  // at the sample with the highest VmRSS
  uint64_t max_anon = 0, max_file = 0;
  std::string breakdown;  // smaps at the highest peak looked at

 private:
  void Loop() {
    while (!stop_.load()) {
      Sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(period_));
    }
  }
  void Sample() {
    const Mem m = ReadMem();
    max_anon = std::max(max_anon, m.anon);
    max_file = std::max(max_file, m.file);
    if (m.rss <= peak.rss) return;
    peak = m;
    // smaps costs a few ms: look again only once the peak has grown by 2 MiB.
    if (m.rss >= smaps_at_ + (2u << 20)) {
      breakdown = SmapsBreakdown();
      smaps_at_ = m.rss;
    }
  }
  const int period_;
  std::atomic<bool> stop_{false};
  uint64_t smaps_at_ = 0;
  std::thread thread_;
};

// --- Phases (each in a child process)

struct Result {
  double seconds = 0;
  uint64_t records = 0;
  Mem baseline;           // right after DB::Open (and, for the mapping, its function)
  uint64_t open_hwm = 0;  // VmHWM then: the peak of the open itself
  Mem peak;               // sampled, the highest VmRSS during the phase
  uint64_t max_anon = 0, max_file = 0;
  // VmHWM at the end. It is reset after the open where the kernel allows
  // (hwm_reset): then it is the exact peak of the phase, else of the process.
  uint64_t hwm = 0;
  bool hwm_reset = false;
  char breakdown[1024] = {0};
};

// Notes the memory after the open and starts the phase's own VmHWM
// (writing 5 to clear_refs resets it; see proc(5)).
void Baseline(Result* r) {
  r->baseline = ReadMem();
  r->open_hwm = r->baseline.hwm;
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5" << std::flush;
  r->hwm_reset = clear.good();
}

// The sampler goes on for `settle_ms` after the phase: work that the open
// started in the background (the key filter's scan of the index) belongs to
// the process too, and a short phase would end before it does.
void Finish(Result* r, Sampler* sampler, Clock::time_point t0, int settle_ms) {
  r->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
  sampler->Stop();
  r->peak = sampler->peak;
  r->max_anon = sampler->max_anon;
  r->max_file = sampler->max_file;
  r->hwm = ReadMem().hwm;
  std::snprintf(r->breakdown, sizeof(r->breakdown), "%s", sampler->breakdown.c_str());
}

// Runs fn in a child process and returns what it filled in.
Result InChild(const std::function<void(Result*)>& fn) {
  int fds[2];
  if (pipe(fds) != 0) std::exit(1);
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    Result r;
    fn(&r);
    const bool ok = write(fds[1], &r, sizeof(r)) == static_cast<ssize_t>(sizeof(r));
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  Result r;
  size_t got = 0;
  while (got < sizeof(r)) {
    const ssize_t n = read(fds[0], reinterpret_cast<char*>(&r) + got, sizeof(r) - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != sizeof(r) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "child phase failed (status %d)\n", status);
    std::exit(1);
  }
  return r;
}

void Setup(const std::string& dir, size_t n, Result* r) {
  std::unique_ptr<runnel::DB> db = runnel::bench::FreshStreamDb(dir, "src");
  r->baseline = ReadMem();
  Sampler sampler(50);
  const auto t0 = Clock::now();
  const std::string value(kValueBytes, 'v');
  runnel::WriteBatch wb;
  for (size_t i = 0; i < n; ++i) {
    char key[32];  // kKeyBytes characters: n < 10^15 (Parse)
    std::snprintf(key, sizeof(key), "k%015zu", i);
    wb.Put("src", key, value);
    if (wb.Count() == 1000 || i + 1 == n) {
      Check(db->Write(runnel::WriteOptions(), wb), "write");
      wb.Clear();
    }
  }
  r->records = n;
  Finish(r, &sampler, t0, 0);
  Check(db->Close(), "close");
}

void ReadGetRecords(const std::string& dir, size_t n, int sample_ms, int settle_ms, Result* r) {
  std::unique_ptr<runnel::DB> db;
  Check(runnel::DB::Open(runnel::Options(), dir, &db), "open");
  Baseline(r);
  Sampler sampler(sample_ms);
  const auto t0 = Clock::now();
  runnel::TableDescription d;
  Check(db->DescribeTable("src", &d), "describe");
  runnel::ShardIteratorRequest req;
  req.stream_arn = d.latest_stream_arn;
  std::string it;
  Check(db->streams()->GetShardIterator(req, &it), "iterator");
  size_t bytes = 0;
  for (;;) {
    runnel::RecordBatch batch;
    Check(db->streams()->GetRecords(it, runnel::GetRecordsOptions(), &batch), "get-records");
    for (const auto& rec : batch.records()) bytes += rec.key.size() + rec.new_image.size();
    r->records += batch.records().size();
    if (batch.records().empty()) break;
    it = batch.next_shard_iterator();
  }
  Finish(r, &sampler, t0, settle_ms);
  if (r->records != n || bytes != n * (kKeyBytes + kValueBytes)) {
    std::fprintf(stderr, "GetRecords read %llu records, %zu bytes\n",
                 static_cast<unsigned long long>(r->records), bytes);
    std::exit(1);
  }
  Check(db->Close(), "close");
}

void DeliverThroughMapping(const std::string& dir, const std::string& plugin, size_t n,
                           uint32_t batch_size, int sample_ms, int settle_ms, Result* r) {
  std::unique_ptr<runnel::DB> db;
  Check(runnel::DB::Open(runnel::Options(), dir, &db), "open");
  runnel::FunctionConfiguration f;
  f.function_name = "rss_noop";
  f.library = plugin;
  Check(db->triggers()->CreateFunction(f, nullptr), "create-function");
  Baseline(r);
  Sampler sampler(sample_ms);
  const auto t0 = Clock::now();
  runnel::EventSourceMappingConfiguration m;
  m.function_name = f.function_name;
  m.event_source = "src";
  m.batch_size = batch_size;
  runnel::EventSourceMappingConfiguration created;
  Check(db->triggers()->CreateEventSourceMapping(m, &created), "create-mapping");
  Check(db->triggers()->Start(), "start");
  Check(db->triggers()->WaitUntilIdle(std::chrono::minutes(30)), "idle");
  Finish(r, &sampler, t0, settle_ms);
  runnel::MappingMetrics metrics;
  Check(db->triggers()->GetMappingMetrics(created.uuid, &metrics), "metrics");
  r->records = metrics.records_in;
  if (metrics.records_in != n) {
    std::fprintf(stderr, "mapping delivered %llu of %zu records\n",
                 static_cast<unsigned long long>(metrics.records_in), n);
    std::exit(1);
  }
  db->triggers()->Stop();
  // The next run starts from an empty runtime again.
  Check(db->triggers()->DeleteEventSourceMapping(created.uuid, nullptr), "delete-mapping");
  Check(db->triggers()->DeleteFunction(f.function_name, true), "delete-function");
  Check(db->Close(), "close");
}

// Point reads of random existing keys: what the index's mapped tables keep
// in RSS under Gets (and what the give-backs of bounded mappings cost).
void RandomGets(const std::string& dir, size_t n, size_t gets, int sample_ms, int settle_ms,
                Result* r) {
  std::unique_ptr<runnel::DB> db;
  Check(runnel::DB::Open(runnel::Options(), dir, &db), "open");
  Baseline(r);
  Sampler sampler(sample_ms);
  std::mt19937_64 rng(3);
  const auto t0 = Clock::now();
  std::string value;
  for (size_t i = 0; i < gets; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "k%015zu", static_cast<size_t>(rng() % n));
    Check(db->Get(runnel::ReadOptions(), "src", key, &value), "get");
    if (value.size() != kValueBytes) {
      std::fprintf(stderr, "%s: %zu bytes\n", key, value.size());
      std::exit(1);
    }
  }
  r->records = gets;
  Finish(r, &sampler, t0, settle_ms);
  Check(db->Close(), "close");
}

// --- Report

// The memory the Options ask for (defaults): LevelDB's block cache and
// write buffer, and the key filter (key_filter_bits_per_key per item, sized
// at open for the items there are plus a quarter).
struct Caches {
  double block_cache = 0, write_buffer = 0, key_filter = 0;
  double total() const { return block_cache + write_buffer + key_filter; }
};

Caches ConfiguredCaches(size_t items) {
  const runnel::Options o;
  Caches c;
  c.block_cache = static_cast<double>(o.block_cache_bytes);
  c.write_buffer = static_cast<double>(o.write_buffer_bytes);
  const double keys = std::max<double>(static_cast<double>(items) * 1.25, 65536);
  c.key_filter = keys * o.key_filter_bits_per_key / 8;
  return c;
}

// The process's peak: the open's, or the phase's if higher.
double ProcessPeak(const Result& r) {
  return static_cast<double>(std::max(r.open_hwm, std::max(r.hwm, r.peak.rss)));
}

void PrintRun(const char* phase, int run, const Result& r) {
  std::printf(
      "  run %d %-10s %.1f s (%.2fM/s); after open %.1f MiB (anon %.1f, file %.1f; VmHWM "
      "%.1f); sampled peak %.1f MiB (anon %.1f, file %.1f; max anon %.1f, max file %.1f); "
      "VmHWM %s %.1f MiB\n"
      "      at the peak (smaps, MiB): %s\n",
      run, phase, r.seconds, r.records / r.seconds / 1e6, r.baseline.rss / kMiB,
      r.baseline.anon / kMiB, r.baseline.file / kMiB, r.open_hwm / kMiB, r.peak.rss / kMiB,
      r.peak.anon / kMiB, r.peak.file / kMiB, r.max_anon / kMiB, r.max_file / kMiB,
      r.hwm_reset ? "of the phase" : "of the process", r.hwm / kMiB, r.breakdown);
}

// `target`: the phase is one the 64 MiB target is about (streaming); the
// Get phase is shown beside it.
void PrintSummary(const char* phase, const std::vector<Result>& runs, const Caches& c,
                  bool target = true) {
  std::vector<double> base, anon, file, peak;
  for (const Result& r : runs) {
    base.push_back(r.baseline.rss / kMiB);
    anon.push_back(r.peak.anon / kMiB);
    file.push_back(r.peak.file / kMiB);
    peak.push_back(ProcessPeak(r) / kMiB);
  }
  const double over = Median(peak) - c.total() / kMiB;
  std::printf(
      "%-10s after open %.1f MiB; peak RSS %.1f MiB (at the sampled peak: anon %.1f, file "
      "%.1f); peak - caches = %.1f MiB = %.2f x 64 MiB (%s)\n",
      phase, Median(base), Median(peak), Median(anon), Median(file), over, over / 64,
      !target      ? "no target: point reads keep index pages mapped"
      : over <= 64 ? "met"
                   : "MISSED");
}

struct Flags {
  size_t records = 10000000;
  int runs = 3;
  std::string dir = "/tmp/runnel-rss-bench";
  std::string plugin;
  uint32_t batch_size = 100;
  int sample_ms = 10;
  int settle_ms = 10000;
  size_t gets = 1000000;
  bool reuse = false;
};

// The no-op plugin built beside this binary.
std::string DefaultPlugin() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path() / "noop_function.so").string();
}

Flags Parse(int argc, char** argv) {
  Flags f;
  f.plugin = DefaultPlugin();
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: missing value\n", flag.c_str());
      std::exit(2);
    }
    const char* v = argv[i + 1];
    if (flag == "--records")
      f.records = std::strtoull(v, nullptr, 10);
    else if (flag == "--runs")
      f.runs = std::atoi(v);
    else if (flag == "--dir")
      f.dir = v;
    else if (flag == "--plugin")
      f.plugin = v;
    else if (flag == "--batch-size")
      f.batch_size = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if (flag == "--sample-ms")
      f.sample_ms = std::atoi(v);
    else if (flag == "--settle-ms")
      f.settle_ms = std::atoi(v);
    else if (flag == "--gets")
      f.gets = std::strtoull(v, nullptr, 10);
    else if (flag == "--reuse")
      f.reuse = std::atoi(v) != 0;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  if (f.records >= 1000000000000000ull) {
    std::fprintf(stderr, "--records: at most 10^15 - 1 (16-byte keys)\n");
    std::exit(2);
  }
  if (f.records == 0 || f.runs < 1 || f.sample_ms < 1 || f.batch_size < 1 || f.settle_ms < 0) {
    std::fprintf(stderr,
                 "--records, --runs, --sample-ms and --batch-size must be >= 1, --settle-ms >= "
                 "0\n");
    std::exit(2);
  }
  if (!std::filesystem::exists(f.plugin)) {
    std::fprintf(stderr, "--plugin %s: no such file (the no-op plugin, noop_function.so)\n",
                 f.plugin.c_str());
    std::exit(2);
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = Parse(argc, argv);
  const std::string db_dir = f.dir + "/db";
  const std::string marker = f.dir + "/records";
  std::printf(
      "records=%zu runs=%d mapping batch size=%u sample every %d ms, and %d ms after each phase; "
      "load average %s\n",
      f.records, f.runs, f.batch_size, f.sample_ms, f.settle_ms, LoadAvg().c_str());
  size_t have = 0;
  if (f.reuse) std::ifstream(marker) >> have;
  if (have != f.records) {
    std::filesystem::create_directories(f.dir);
    std::filesystem::remove(marker);
    const Result w = InChild([&](Result* r) { Setup(db_dir, f.records, r); });
    std::printf("setup: %zu puts in %.1f s (%.0fk/s); writer VmHWM %.1f MiB\n", f.records,
                w.seconds, w.records / w.seconds / 1e3, w.hwm / kMiB);
    std::ofstream(marker) << f.records;
  }
  std::vector<Result> gets, maps, points;
  for (int run = 1; run <= f.runs; ++run) {
    std::printf("--- run %d/%d (load average %s)\n", run, f.runs, LoadAvg().c_str());
    gets.push_back(InChild(
        [&](Result* r) { ReadGetRecords(db_dir, f.records, f.sample_ms, f.settle_ms, r); }));
    PrintRun("GetRecords", run, gets.back());
    maps.push_back(InChild([&](Result* r) {
      DeliverThroughMapping(db_dir, f.plugin, f.records, f.batch_size, f.sample_ms, f.settle_ms, r);
    }));
    PrintRun("mapping", run, maps.back());
    if (f.gets == 0) continue;
    points.push_back(InChild(
        [&](Result* r) { RandomGets(db_dir, f.records, f.gets, f.sample_ms, f.settle_ms, r); }));
    PrintRun("Get", run, points.back());
  }
  const Caches c = ConfiguredCaches(f.records);
  std::printf(
      "\nconfigured caches (default Options): block cache %.1f MiB + write buffer %.1f MiB + "
      "key filter %.1f MiB (%d bits x %zu items x 1.25) = %.1f MiB\n",
      c.block_cache / kMiB, c.write_buffer / kMiB, c.key_filter / kMiB,
      runnel::Options().key_filter_bits_per_key, f.records, c.total() / kMiB);
  std::printf("medians of %d runs (target: VmHWM <= 64 MiB + configured caches):\n", f.runs);
  PrintSummary("GetRecords", gets, c);
  PrintSummary("mapping", maps, c);
  if (!points.empty()) {
    PrintSummary("Get", points, c, false);
    std::vector<double> rate;
    for (const Result& r : points) rate.push_back(r.records / r.seconds);
    std::printf("Get: %.0fk random point reads/s\n", Median(rate) / 1e3);
  }
  std::printf("(load average at the end: %s)\n", LoadAvg().c_str());
  if (!f.reuse) std::filesystem::remove_all(f.dir);
  return 0;
}
