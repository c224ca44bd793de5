// Copyright 2026 The runnel Authors.
//
// Stream benchmarks, with their anchor in the same run:
//  1. GetRecords throughput over N committed records (16 B keys, 100 B
//     values) against RocksDB's GetUpdatesSince reading the same N puts from
//     its WAL. Both read every key and value.
//  2. Commit -> waiting consumer wake-up latency over M commits, with the
//     writer and the consumer on the same core and on different cores.
//
//   stream_bench [--records N] [--commits M] [--runs R] [--dir DIR]

#include <pthread.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/write_batch.h>
#include <sched.h>
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

// Records/s reading N puts back through runnel's GetRecords.
double RunnelGetRecords(const std::string& dir, size_t n) {
  std::unique_ptr<runnel::DB> db = runnel::bench::FreshStreamDb(dir, "bench");
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
  runnel::GetRecordsOptions o;
  o.limit = 10000;
  o.max_bytes = SIZE_MAX;
  size_t records = 0, bytes = 0;
  const auto t0 = Clock::now();
  for (;;) {
    runnel::RecordBatch batch;
    Check(db->streams()->GetRecords(it, o, &batch), "get-records");
    for (const auto& r : batch.records()) bytes += r.key.size() + r.new_image.size();
    records += batch.records().size();
    if (batch.records().empty()) break;
    it = batch.next_shard_iterator();
  }
  const double secs = Seconds(Clock::now() - t0);
  if (records != n || bytes != n * 116) {
    std::fprintf(stderr, "runnel read %zu records, %zu bytes\n", records, bytes);
    std::exit(1);
  }
  Check(db->Close(), "close");
  std::filesystem::remove_all(dir);
  return static_cast<double>(records) / secs;
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

// Records/s reading the same N puts back through RocksDB GetUpdatesSince.
double RocksGetUpdatesSince(const std::string& dir, size_t n) {
  std::filesystem::remove_all(dir);
  rocksdb::Options o;
  o.create_if_missing = true;
  // Keep the WAL around so GetUpdatesSince can read all of it.
  o.WAL_ttl_seconds = 3600;
  o.WAL_size_limit_MB = 4096;
  o.write_buffer_size = 256 << 20;
  rocksdb::DB* raw = nullptr;
  Check(rocksdb::DB::Open(o, dir, &raw), "rocksdb open");
  std::unique_ptr<rocksdb::DB> db(raw);
  std::mt19937_64 rng(1);
  const std::string value(100, 'v');
  for (size_t i = 0; i < n; ++i) {
    Check(db->Put(rocksdb::WriteOptions(), Key(rng), value), "rocksdb put");
  }
  CountingHandler h;
  const auto t0 = Clock::now();
  std::unique_ptr<rocksdb::TransactionLogIterator> iter;
  Check(db->GetUpdatesSince(1, &iter), "GetUpdatesSince");
  for (; iter->Valid(); iter->Next()) {
    rocksdb::BatchResult b = iter->GetBatch();
    Check(b.writeBatchPtr->Iterate(&h), "iterate");
  }
  const double secs = Seconds(Clock::now() - t0);
  if (h.records != n || h.bytes != n * 116) {
    std::fprintf(stderr, "rocksdb read %zu records\n", h.records);
    std::exit(1);
  }
  iter.reset();
  db.reset();
  std::filesystem::remove_all(dir);
  return static_cast<double>(h.records) / secs;
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
  std::string dir = "/tmp/runnel-stream-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--records")
      records = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--commits")
      commits = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--runs")
      runs = std::atoi(argv[i + 1]);
    else if (flag == "--dir")
      dir = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  PrintMachine();
  std::filesystem::create_directories(dir);
  std::printf("records=%zu commits=%zu runs=%d (medians of the runs)\n\n", records, commits, runs);

  std::vector<double> ours, rocks, ratio;
  for (int r = 0; r < runs; ++r) {
    ours.push_back(RunnelGetRecords(dir + "/runnel", records));
    rocks.push_back(RocksGetUpdatesSince(dir + "/rocksdb", records));
    ratio.push_back(ours.back() / rocks.back());
    std::printf("  run %d: runnel %.2fM rec/s, rocksdb %.2fM rec/s, ratio %.2f\n", r + 1,
                ours.back() / 1e6, rocks.back() / 1e6, ratio.back());
  }
  std::printf(
      "GetRecords throughput: runnel %.2fM rec/s, RocksDB GetUpdatesSince "
      "%.2fM rec/s, ratio %.2fx (target >= 1.5x and >= 6M rec/s)\n\n",
      Median(ours) / 1e6, Median(rocks) / 1e6, Median(ratio));

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
