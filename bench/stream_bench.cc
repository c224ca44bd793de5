// Copyright 2026 The runnel Authors.
//
// Stream benchmarks, with their anchor in the same run:
//  1. GetRecords throughput over N committed records (16 B keys, 100 B
//     values) against RocksDB's GetUpdatesSince reading the same N puts from
//     its WAL, five times over. Both read every key and value, on a reader
//     pinned to CPU 0,
//     each run twice: on a quiet machine and "busy", with a CPU-bound thread
//     spinning on the other core (the engines' background work, a flush or a
//     compaction after the writes, then shares that core with it). Both
//     engines get the same memtable size (--write_buffer_mb, 64 MiB:
//     RocksDB's default), so both have the same background work behind
//     their reads.
//     Instructions per record come from the CPU's counter where the machine
//     has one (perf_event_open); in a VM without one, run the read loops
//     under callgrind (bench/RESULTS.md has the command): ReadAllRunnel and
//     ReadAllRocks are the functions to collect.
//  2. Commit -> waiting consumer wake-up latency over M commits, with the
//     writer and the consumer on the same core and on different cores.
//
//   stream_bench [--records N] [--commits M] [--runs R] [--dir DIR]
//                [--modes quiet,busy] [--latency 0|1] [--write_buffer_mb MB]

#include <linux/perf_event.h>
#include <pthread.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/write_batch.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_db.h"
#include "runnel/db.h"

namespace {

using runnel::bench::Check;
using runnel::bench::LoadAvg;
using runnel::bench::Median;

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void Check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

std::string Key(std::mt19937_64& rng) {
  char buf[16];
  for (int i = 0; i < 16; i += 8) {
    const uint64_t v = rng();
    std::memcpy(buf + i, &v, 8);
  }
  return std::string(buf, 16);
}

double Percentile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % static_cast<int>(std::thread::hardware_concurrency()), &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// Pins the calling thread to CPU 0 for its lifetime (the readers: "busy"
// spins on CPU 1), then lets it run anywhere again. Threads the engines
// start meanwhile would inherit the pin, so none is started inside.
class PinReader {
 public:
  PinReader() {
    pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_);
    Pin(0);
  }
  ~PinReader() { pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_); }

 private:
  cpu_set_t saved_;
};

// Counts the instructions the calling thread retires between Start and
// Stop, user and kernel, where the CPU exposes a counter (most VMs do not:
// then available() is false).
class InstructionCounter {
 public:
  InstructionCounter() {
    perf_event_attr a{};
    a.type = PERF_TYPE_HARDWARE;
    a.size = sizeof(a);
    a.config = PERF_COUNT_HW_INSTRUCTIONS;
    a.disabled = 1;
    fd_ = static_cast<int>(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
  }
  ~InstructionCounter() {
    if (fd_ >= 0) close(fd_);
  }
  bool available() const { return fd_ >= 0; }
  void Start() {
    if (fd_ < 0) return;
    ioctl(fd_, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0);
  }
  uint64_t Stop() {
    if (fd_ < 0) return 0;
    ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0);
    uint64_t n = 0;
    if (read(fd_, &n, sizeof(n)) != sizeof(n)) return 0;
    return n;
  }

 private:
  int fd_ = -1;
};

// A thread spinning on `cpu` until destroyed: the "busy" machine.
class Spinner {
 public:
  explicit Spinner(int cpu)
      : thread_([this, cpu] {
          Pin(cpu);
          uint64_t x = 1;
          while (!stop_.load(std::memory_order_relaxed)) {
            for (int i = 0; i < 1000; ++i) x = x * 6364136223846793005ull + 1442695040888963407ull;
          }
          sink_ = x;
        }) {}
  ~Spinner() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  uint64_t sink_ = 0;
  std::thread thread_;
};

// Each run reads what it wrote this many times from the start (a short read
// is at the mercy of one scheduling hiccup).
constexpr int kPasses = 5;

struct ReadResult {
  double records_per_sec = 0;
  double instructions_per_record = 0;  // 0: no counter
};

struct Timed {
  double seconds = 0;
  uint64_t instructions = 0;  // 0: no counter
};

// Runs read_all kPasses times on the pinned reader (with the other core
// spinning if busy): the seconds and instructions it took.
template <typename ReadAll>
Timed TimeReads(bool busy, ReadAll read_all) {
  InstructionCounter counter;
  std::unique_ptr<Spinner> spinner;
  if (busy) spinner = std::make_unique<Spinner>(1);
  Timed t;
  PinReader pin;
  const auto t0 = Clock::now();
  counter.Start();
  for (int i = 0; i < kPasses; ++i) read_all();
  t.instructions = counter.Stop();
  t.seconds = Seconds(Clock::now() - t0);
  return t;
}

// Reads the whole stream from `it` through GetRecords, touching every key
// and value. Not inlined: callgrind collects it by name.
__attribute__((noinline)) void ReadAllRunnel(runnel::DB* db, std::string it, size_t* records,
                                             size_t* bytes) {
  runnel::GetRecordsOptions o;
  o.limit = 10000;
  o.max_bytes = SIZE_MAX;
  for (;;) {
    runnel::RecordBatch batch;
    Check(db->streams()->GetRecords(it, o, &batch), "get-records");
    for (const auto& r : batch.records()) *bytes += r.key.size() + r.new_image.size();
    *records += batch.records().size();
    if (batch.records().empty()) break;
    it = batch.next_shard_iterator();
  }
}

// Records/s reading N puts back through runnel's GetRecords.
ReadResult RunnelGetRecords(const std::string& dir, size_t n, bool busy, size_t write_buffer) {
  runnel::Options o;
  o.write_buffer_bytes = write_buffer;
  std::unique_ptr<runnel::DB> db = runnel::bench::FreshStreamDb(dir, "bench", o);
  runnel::TableDescription d;
  Check(db->DescribeTable("bench", &d), "describe");
  std::mt19937_64 rng(1);
  const std::string value(100, 'v');
  for (size_t i = 0; i < n; ++i) {
    Check(db->Put(runnel::WriteOptions(), "bench", Key(rng), value), "put");
  }
  runnel::ShardIteratorRequest req;
  req.stream_arn = d.latest_stream_arn;
  std::string it;
  Check(db->streams()->GetShardIterator(req, &it), "iterator");
  size_t records = 0, bytes = 0;
  const Timed t = TimeReads(busy, [&] { ReadAllRunnel(db.get(), it, &records, &bytes); });
  if (records != kPasses * n || bytes != kPasses * n * 116) {
    std::fprintf(stderr, "runnel read %zu records, %zu bytes\n", records, bytes);
    std::exit(1);
  }
  Check(db->Close(), "close");
  std::filesystem::remove_all(dir);
  return {static_cast<double>(records) / t.seconds,
          static_cast<double>(t.instructions) / static_cast<double>(records)};
}

class CountingHandler : public rocksdb::WriteBatch::Handler {
 public:
  rocksdb::Status PutCF(uint32_t, const rocksdb::Slice& k, const rocksdb::Slice& v) override {
    ++records;
    bytes += k.size() + v.size();
    return rocksdb::Status::OK();
  }
  size_t records = 0, bytes = 0;
};

// Reads every write batch since sequence 1, as ReadAllRunnel.
__attribute__((noinline)) void ReadAllRocks(rocksdb::DB* db, CountingHandler* h) {
  std::unique_ptr<rocksdb::TransactionLogIterator> iter;
  Check(db->GetUpdatesSince(1, &iter), "GetUpdatesSince");
  for (; iter->Valid(); iter->Next()) {
    rocksdb::BatchResult b = iter->GetBatch();
    Check(b.writeBatchPtr->Iterate(h), "iterate");
  }
}

// Records/s reading the same N puts back through RocksDB GetUpdatesSince.
ReadResult RocksGetUpdatesSince(const std::string& dir, size_t n, bool busy, size_t write_buffer) {
  std::filesystem::remove_all(dir);
  rocksdb::Options o;
  o.create_if_missing = true;
  // Keep the WAL around so GetUpdatesSince can read all of it.
  o.WAL_ttl_seconds = 3600;
  o.WAL_size_limit_MB = 4096;
  o.write_buffer_size = write_buffer;
  rocksdb::DB* raw = nullptr;
  Check(rocksdb::DB::Open(o, dir, &raw), "rocksdb open");
  std::unique_ptr<rocksdb::DB> db(raw);
  std::mt19937_64 rng(1);
  const std::string value(100, 'v');
  for (size_t i = 0; i < n; ++i) {
    Check(db->Put(rocksdb::WriteOptions(), Key(rng), value), "rocksdb put");
  }
  CountingHandler h;
  const Timed t = TimeReads(busy, [&] { ReadAllRocks(db.get(), &h); });
  if (h.records != kPasses * n || h.bytes != kPasses * n * 116) {
    std::fprintf(stderr, "rocksdb read %zu records\n", h.records);
    std::exit(1);
  }
  db.reset();
  std::filesystem::remove_all(dir);
  return {static_cast<double>(h.records) / t.seconds,
          static_cast<double>(t.instructions) / static_cast<double>(h.records)};
}

struct Latency {
  double wake_p50 = 0, wake_p99 = 0, read_p50 = 0, read_p99 = 0;
};

// Commit -> consumer latency. The writer stamps each value with the time
// just before its Put; the consumer, blocked in WaitForRecords, notes when it
// wakes and when it holds the record (after GetRecords).
Latency CommitToWake(const std::string& dir, size_t commits, int writer_cpu, int reader_cpu) {
  std::unique_ptr<runnel::DB> db = runnel::bench::FreshStreamDb(dir, "lat");
  runnel::TableDescription d;
  Check(db->DescribeTable("lat", &d), "describe");
  runnel::ShardIteratorRequest req;
  req.stream_arn = d.latest_stream_arn;
  req.type = runnel::ShardIteratorType::kLatest;
  std::string it;
  Check(db->streams()->GetShardIterator(req, &it), "iterator");

  std::atomic<size_t> consumed{0};
  std::vector<double> wake, read;
  wake.reserve(commits);
  read.reserve(commits);
  std::thread consumer([&] {
    Pin(reader_cpu);
    while (consumed.load() < commits) {
      Check(db->streams()->WaitForRecords(it, std::chrono::seconds(10)), "wait");
      const auto woke = Clock::now();
      runnel::RecordBatch batch;
      Check(db->streams()->GetRecords(it, runnel::GetRecordsOptions(), &batch), "get-records");
      const auto got = Clock::now();
      for (const auto& r : batch.records()) {
        int64_t stamp;
        std::memcpy(&stamp, r.new_image.data(), sizeof(stamp));
        const auto sent = Clock::time_point(Clock::duration(stamp));
        wake.push_back(std::chrono::duration<double, std::micro>(woke - sent).count());
        read.push_back(std::chrono::duration<double, std::micro>(got - sent).count());
      }
      it = batch.next_shard_iterator();
      consumed += batch.records().size();
    }
  });
  Pin(writer_cpu);
  for (size_t i = 0; i < commits; ++i) {
    // One commit at a time: wait until the consumer has taken the last one,
    // so each measurement is one commit waking one sleeping consumer.
    while (consumed.load() < i) std::this_thread::yield();
    // Let the consumer go back to sleep in WaitForRecords.
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    const int64_t stamp = Clock::now().time_since_epoch().count();
    std::string value(sizeof(stamp), '\0');
    std::memcpy(value.data(), &stamp, sizeof(stamp));
    Check(db->Put(runnel::WriteOptions(), "lat", "k" + std::to_string(i % 1000), value), "put");
  }
  consumer.join();
  Check(db->Close(), "close");
  std::filesystem::remove_all(dir);
  Latency l;
  l.wake_p50 = Percentile(wake, 0.50);
  l.wake_p99 = Percentile(wake, 0.99);
  l.read_p50 = Percentile(read, 0.50);
  l.read_p99 = Percentile(read, 0.99);
  return l;
}

void PrintMachine() {
  std::string model;
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  struct utsname u;
  uname(&u);
  std::printf("machine: %u vCPU, %s, %s %s\n", std::thread::hardware_concurrency(), model.c_str(),
              u.sysname, u.release);
}

}  // namespace

int main(int argc, char** argv) {
  size_t records = 1000000, commits = 100000;
  int runs = 3;
  bool latency = true;
  // Both engines' memtable (runnel's index, RocksDB's): 64 MiB is
  // RocksDB's default. Until session 11 RocksDB had 256 MiB and runnel
  // LevelDB's 4 MiB: RocksDB never flushed, runnel's index flushed and
  // compacted on the other core while the reads ran (bench/RESULTS.md).
  size_t write_buffer = 64u << 20;
  std::string dir = "/tmp/runnel-stream-bench";
  std::vector<bool> modes = {false, true};  // quiet, busy
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", flag.c_str());
      return 2;
    }
    const std::string value = argv[i + 1];
    if (flag == "--records") {
      records = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--commits") {
      commits = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--runs") {
      runs = std::atoi(value.c_str());
    } else if (flag == "--dir") {
      dir = value;
    } else if (flag == "--write_buffer_mb") {
      write_buffer = std::strtoull(value.c_str(), nullptr, 10) << 20;
    } else if (flag == "--latency") {
      latency = value != "0";
    } else if (flag == "--modes") {
      modes.clear();
      for (const std::string m : {"quiet", "busy"}) {
        if (value.find(m) != std::string::npos) modes.push_back(m == std::string("busy"));
      }
      if (modes.empty()) {
        std::fprintf(stderr, "--modes: expected quiet, busy or quiet,busy, got '%s'\n",
                     value.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (records == 0 || runs <= 0 || write_buffer == 0) {
    std::fprintf(stderr, "--records, --runs and --write_buffer_mb must be positive\n");
    return 2;
  }
  PrintMachine();
  std::filesystem::create_directories(dir);
  std::printf(
      "records=%zu commits=%zu runs=%d (medians of the runs), write buffer %zu MiB in both "
      "engines, load average %s\n\n",
      records, commits, runs, write_buffer >> 20, LoadAvg().c_str());

  for (const bool busy : modes) {
    const char* name = busy ? "busy (a spinning thread on the other core)" : "quiet";
    std::vector<double> ours, rocks, ratio, ours_ipr, rocks_ipr;
    for (int r = 0; r < runs; ++r) {
      // Alternate which engine goes first: what one leaves behind (page
      // cache, dirty pages being written back) falls on both alike.
      ReadResult a, b;
      if (r % 2 == 0) {
        a = RunnelGetRecords(dir + "/runnel", records, busy, write_buffer);
        b = RocksGetUpdatesSince(dir + "/rocksdb", records, busy, write_buffer);
      } else {
        b = RocksGetUpdatesSince(dir + "/rocksdb", records, busy, write_buffer);
        a = RunnelGetRecords(dir + "/runnel", records, busy, write_buffer);
      }
      ours.push_back(a.records_per_sec);
      rocks.push_back(b.records_per_sec);
      ratio.push_back(a.records_per_sec / b.records_per_sec);
      ours_ipr.push_back(a.instructions_per_record);
      rocks_ipr.push_back(b.instructions_per_record);
      std::printf("  %s run %d: runnel %.2fM rec/s, rocksdb %.2fM rec/s, ratio %.2f (load %s)\n",
                  busy ? "busy" : "quiet", r + 1, ours.back() / 1e6, rocks.back() / 1e6,
                  ratio.back(), LoadAvg().c_str());
    }
    std::printf(
        "GetRecords throughput, %s: runnel %.2fM rec/s, RocksDB GetUpdatesSince "
        "%.2fM rec/s, ratio %.2fx (target >= 1.5x)\n",
        name, Median(ours) / 1e6, Median(rocks) / 1e6, Median(ratio));
    if (Median(ours_ipr) > 0) {
      std::printf("  instructions per record: runnel %.0f, RocksDB %.0f\n\n", Median(ours_ipr),
                  Median(rocks_ipr));
    } else {
      std::printf(
          "  instructions per record: no hardware counter on this machine (see "
          "bench/RESULTS.md for the callgrind command)\n\n");
    }
  }
  if (!latency) {
    std::filesystem::remove_all(dir);
    return 0;
  }

  for (auto [name, wcpu, rcpu] :
       {std::tuple<const char*, int, int>{"same core", 0, 0}, {"cross core", 0, 1}}) {
    std::vector<double> w50, w99, r50, r99;
    for (int r = 0; r < runs; ++r) {
      Latency l = CommitToWake(dir + "/lat", commits, wcpu, rcpu);
      w50.push_back(l.wake_p50);
      w99.push_back(l.wake_p99);
      r50.push_back(l.read_p50);
      r99.push_back(l.read_p99);
    }
    std::printf(
        "commit -> wake-up (%s): p50 %.1f us, p99 %.1f us; "
        "-> record in hand: p50 %.1f us, p99 %.1f us "
        "(target p50 <= 60 us, p99 <= 250 us)\n",
        name, Median(w50), Median(w99), Median(r50), Median(r99));
  }
  std::filesystem::remove_all(dir);
  return 0;
}
