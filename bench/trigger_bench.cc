// Copyright 2026 The runnel Authors.
//
// Trigger runtime benchmarks:
//  1. records/s delivered to a no-op plugin (dlopen) at batch size 1000,
//  2. invocations/s at batch size 1,
//  3. commit -> handler start latency (p50/p99) for single commits.
// Each throughput run pre-writes the backlog with the runtime stopped, then
// times from Start() until every mapping is idle.
//
//   trigger_bench --plugin PATH [--records N] [--invocations N]
//                 [--commits N] [--runs R] [--dir DIR]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_db.h"
#include "runnel/db.h"
#include "runnel/triggers.h"

namespace {

using runnel::bench::Check;
using runnel::bench::Median;

using Clock = std::chrono::steady_clock;

// Records per second through a no-op plugin at the given batch size.
double Throughput(const std::string& dir, const std::string& plugin, size_t records,
                  uint32_t batch_size, uint64_t* invocations) {
  auto db = runnel::bench::FreshStreamDb(dir, "src");
  const std::string value(100, 'v');
  runnel::WriteBatch wb;
  for (size_t i = 0; i < records; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "k%014zu", i);
    wb.Put("src", key, value);
    if (wb.Count() == 1000 || i + 1 == records) {
      Check(db->Write(runnel::WriteOptions(), wb), "write");
      wb.Clear();
    }
  }
  runnel::FunctionConfiguration f;
  f.function_name = "noop";
  f.library = plugin;
  Check(db->triggers()->CreateFunction(f, nullptr), "create-function");
  runnel::EventSourceMappingConfiguration m;
  m.function_name = "noop";
  m.event_source = "src";
  m.batch_size = batch_size;
  runnel::EventSourceMappingConfiguration created;
  Check(db->triggers()->CreateEventSourceMapping(m, &created), "create-mapping");
  const auto t0 = Clock::now();
  Check(db->triggers()->Start(), "start");
  Check(db->triggers()->WaitUntilIdle(std::chrono::minutes(10)), "idle");
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  runnel::MappingMetrics metrics;
  Check(db->triggers()->GetMappingMetrics(created.uuid, &metrics), "metrics");
  if (metrics.records_in != records) {
    std::fprintf(stderr, "delivered %llu of %zu records\n",
                 static_cast<unsigned long long>(metrics.records_in), records);
    std::exit(1);
  }
  *invocations = metrics.invocations;
  Check(db->Close(), "close");
  std::filesystem::remove_all(dir);
  return static_cast<double>(records) / secs;
}

// Commit -> handler start latency for single commits, in microseconds.
void Latency(const std::string& dir, size_t commits, double* p50, double* p99) {
  auto db = runnel::bench::FreshStreamDb(dir, "src");
  std::vector<double> lat;
  lat.reserve(commits);
  std::atomic<size_t> seen{0};
  runnel::FunctionConfiguration f;
  f.function_name = "stamp";
  Check(db->triggers()->RegisterInProcessFunction(
            f,
            [&](const runnel_batch& b, runnel_context*) {
              const auto now = Clock::now();
              for (size_t i = 0; i < b.count; ++i) {
                int64_t stamp;
                std::memcpy(&stamp, b.records[i].new_image, sizeof(stamp));
                lat.push_back(std::chrono::duration<double, std::micro>(
                                  now - Clock::time_point(Clock::duration(stamp)))
                                  .count());
              }
              seen += b.count;
              return 0;
            }),
        "register");
  runnel::EventSourceMappingConfiguration m;
  m.function_name = "stamp";
  m.event_source = "src";
  m.batch_size = 1;
  m.starting_position = runnel::StartingPosition::kLatest;
  Check(db->triggers()->CreateEventSourceMapping(m, nullptr), "create-mapping");
  Check(db->triggers()->Start(), "start");
  for (size_t i = 0; i < commits; ++i) {
    while (seen.load() < i) std::this_thread::yield();
    // Let the worker go back to sleep so each commit wakes it.
    std::this_thread::sleep_for(std::chrono::microseconds(30));
    const int64_t stamp = Clock::now().time_since_epoch().count();
    std::string value(sizeof(stamp), '\0');
    std::memcpy(value.data(), &stamp, sizeof(stamp));
    Check(db->Put(runnel::WriteOptions(), "src", "k" + std::to_string(i % 1000), value), "put");
  }
  Check(db->triggers()->WaitUntilIdle(std::chrono::minutes(1)), "idle");
  Check(db->Close(), "close");
  std::filesystem::remove_all(dir);
  std::sort(lat.begin(), lat.end());
  *p50 = lat[lat.size() / 2];
  *p99 = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
}

}  // namespace

int main(int argc, char** argv) {
  std::string plugin, dir = "/tmp/runnel-trigger-bench";
  size_t records = 1000000, invocations = 200000, commits = 20000;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--plugin")
      plugin = argv[i + 1];
    else if (flag == "--records")
      records = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--invocations")
      invocations = std::strtoull(argv[i + 1], nullptr, 10);
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
  if (plugin.empty()) {
    std::fprintf(stderr, "--plugin PATH (the no-op plugin) is required\n");
    return 2;
  }
  std::filesystem::create_directories(dir);
  std::vector<double> big, small, p50s, p99s;
  for (int r = 0; r < runs; ++r) {
    uint64_t inv = 0;
    big.push_back(Throughput(dir + "/big", plugin, records, 1000, &inv));
    std::printf("  run %d: batch 1000: %.2fM records/s (%llu invocations)\n", r + 1,
                big.back() / 1e6, static_cast<unsigned long long>(inv));
    small.push_back(Throughput(dir + "/small", plugin, invocations, 1, &inv));
    std::printf("  run %d: batch 1: %.0fk invocations/s\n", r + 1, small.back() / 1e3);
    double p50, p99;
    Latency(dir + "/lat", commits, &p50, &p99);
    p50s.push_back(p50);
    p99s.push_back(p99);
    std::printf("  run %d: commit -> handler: p50 %.1f us, p99 %.1f us\n", r + 1, p50, p99);
  }
  std::printf("\nmedians of %d runs:\n", runs);
  std::printf("records/s at batch 1000: %.2fM (target >= 3M)\n", Median(big) / 1e6);
  std::printf("invocations/s at batch 1: %.0fk (target >= 150k)\n", Median(small) / 1e3);
  std::printf(
      "commit -> handler start: p50 %.1f us, p99 %.1f us "
      "(target p50 <= 60 us, p99 <= 250 us)\n",
      Median(p50s), Median(p99s));
  std::filesystem::remove_all(dir);
  return 0;
}
