// Copyright 2026 The runnel Authors.
//
// Isolated vs in-process functions: the same no-op plugin run in the host
// (FunctionIsolation::kInProcess) and in a runnel-worker process
// (kProcess), through one mapping:
//  1. invocations/s at batch size 1 and the invocation's duration as the
//     host measures it (p50/p99 of MappingMetrics: send, run, answer);
//  2. records/s at batch size 1000 (the batch crosses the socket).
// Each run pre-writes the backlog with the runtime stopped, then times from
// Start() until the mapping is idle.
//
//   isolation_bench --plugin PATH [--worker PATH] [--invocations N]
//                   [--records N] [--runs R] [--dir DIR]

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench_db.h"
#include "runnel/db.h"
#include "runnel/triggers.h"

namespace {

using runnel::bench::Check;
using runnel::bench::Median;

using Clock = std::chrono::steady_clock;
using runnel::FunctionIsolation;

struct Figures {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// Delivers `records` records in batches of `batch_size` to the plugin.
Figures Run(const std::string& dir, const std::string& plugin, FunctionIsolation isolation,
            size_t records, uint32_t batch_size) {
  std::unique_ptr<runnel::DB> db = runnel::bench::FreshStreamDb(dir, "src");
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
  f.isolation = isolation;
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
  if (metrics.records_in != records || metrics.errors != 0) {
    std::fprintf(stderr, "delivered %llu of %zu records, %llu errors\n",
                 static_cast<unsigned long long>(metrics.records_in), records,
                 static_cast<unsigned long long>(metrics.errors));
    std::exit(1);
  }
  Check(db->Close(), "close");
  std::filesystem::remove_all(dir);
  const double units = batch_size == 1 ? static_cast<double>(metrics.invocations) : records;
  return {units / secs, metrics.duration_p50_ms, metrics.duration_p99_ms};
}

}  // namespace

int main(int argc, char** argv) {
  std::string plugin, dir = "/tmp/runnel-isolation-bench";
  size_t records = 200000, invocations = 20000;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--plugin") {
      plugin = argv[i + 1];
    } else if (flag == "--worker") {
      ::setenv("RUNNEL_WORKER", argv[i + 1], 1);
    } else if (flag == "--records") {
      records = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--invocations") {
      invocations = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--runs") {
      runs = std::atoi(argv[i + 1]);
    } else if (flag == "--dir") {
      dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (plugin.empty()) {
    std::fprintf(stderr, "--plugin PATH (the no-op plugin) is required\n");
    return 2;
  }
  std::filesystem::create_directories(dir);
  const FunctionIsolation modes[] = {FunctionIsolation::kInProcess, FunctionIsolation::kProcess};
  std::vector<double> inv[2], p50[2], p99[2], recs[2];
  for (int r = 0; r < runs; ++r) {
    for (int k = 0; k < 2; ++k) {
      const std::string name(runnel::FunctionIsolationName(modes[k]));
      Figures small = Run(dir + "/small", plugin, modes[k], invocations, 1);
      inv[k].push_back(small.per_second);
      p50[k].push_back(small.p50_ms * 1000);
      p99[k].push_back(small.p99_ms * 1000);
      Figures big = Run(dir + "/big", plugin, modes[k], records, 1000);
      recs[k].push_back(big.per_second);
      std::printf(
          "  run %d %-7s: batch 1: %.1fk invocations/s, duration p50 %.1f us p99 %.1f us; "
          "batch 1000: %.2fM records/s\n",
          r + 1, name.c_str(), small.per_second / 1e3, small.p50_ms * 1000, small.p99_ms * 1000,
          big.per_second / 1e6);
    }
  }
  std::printf("\nmedians of %d runs (in-process / isolated = ratio):\n", runs);
  std::printf("invocations/s at batch 1:   %.1fk / %.1fk = %.1fx\n", Median(inv[0]) / 1e3,
              Median(inv[1]) / 1e3, Median(inv[0]) / Median(inv[1]));
  std::printf("invocation p50 (us):        %.1f / %.1f\n", Median(p50[0]), Median(p50[1]));
  std::printf("invocation p99 (us):        %.1f / %.1f\n", Median(p99[0]), Median(p99[1]));
  std::printf("records/s at batch 1000:    %.2fM / %.2fM = %.1fx\n", Median(recs[0]) / 1e6,
              Median(recs[1]) / 1e6, Median(recs[0]) / Median(recs[1]));
  std::filesystem::remove_all(dir);
  return 0;
}
