// Copyright 2026 The runnel Authors.
//
// ParallelizationFactor: records/s through a handler that takes 1 ms per
// batch (bench/slow_function.c, dlopen), with 1, 2, 4 and 10 lanes, in the
// same run. Each run pre-writes a backlog of distinct keys with the runtime
// stopped, then times from Start() until the mapping is idle. The factors
// are interleaved run by run, so a change in the machine's load hits all of
// them alike; the load average is printed before and after.
//
//   lanes_bench --plugin PATH [--records N] [--batch-size B] [--runs R]
//               [--dir DIR] [--trigger-threads T]
//
// The runtime runs lanes on a pool (Options::trigger_threads, default four
// per core): a 1 ms handler sleeps, so 10 lanes need 10 threads to overlap
// fully; --trigger-threads shows both.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_db.h"
#include "runnel/db.h"
#include "runnel/triggers.h"

namespace {

using runnel::bench::Check;
using runnel::bench::LoadAvg;
using runnel::bench::Median;

int g_trigger_threads = 0;  // Options::trigger_threads

using Clock = std::chrono::steady_clock;

// Records per second with `factor` lanes; *invocations is how many batches
// it took.
double Run(const std::string& dir, const std::string& plugin, size_t records, uint32_t batch_size,
           uint32_t factor, uint64_t* invocations) {
  runnel::Options o;
  o.trigger_threads = g_trigger_threads;
  std::unique_ptr<runnel::DB> db = runnel::bench::FreshStreamDb(dir, "src", o);
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
  f.function_name = "slow";
  f.library = plugin;
  Check(db->triggers()->CreateFunction(f, nullptr), "create-function");
  runnel::EventSourceMappingConfiguration m;
  m.function_name = "slow";
  m.event_source = "src";
  m.batch_size = batch_size;
  m.parallelization_factor = factor;
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

}  // namespace

int main(int argc, char** argv) {
  std::string plugin, dir = "/tmp/runnel_lanes_bench";
  size_t records = 20000;
  uint32_t batch_size = 10;
  int runs = 5;
  bool usage = argc % 2 == 0;  // flags come in pairs
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--plugin") {
      plugin = v;
    } else if (a == "--records") {
      records = std::strtoull(v, nullptr, 10);
    } else if (a == "--batch-size") {
      batch_size = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    } else if (a == "--runs") {
      runs = std::atoi(v);
    } else if (a == "--dir") {
      dir = v;
    } else if (a == "--trigger-threads") {
      g_trigger_threads = std::atoi(v);
    } else {
      usage = true;
    }
  }
  if (usage) {
    std::fprintf(stderr,
                 "usage: lanes_bench --plugin PATH [--records N] [--batch-size B] "
                 "[--runs R] [--dir DIR] [--trigger-threads T]\n");
    return 2;
  }
  if (plugin.empty() || records == 0 || batch_size == 0 || runs < 1) {
    std::fprintf(stderr, "lanes_bench: --plugin is required; sizes must be positive\n");
    return 2;
  }
  const uint32_t factors[] = {1, 2, 4, 10};
  std::printf(
      "lanes_bench: %zu records, batch size %u, handler 1 ms per batch, %d runs, "
      "trigger threads %d (0: four per core)\n",
      records, batch_size, runs, g_trigger_threads);
  std::printf("load average before: %s\n", LoadAvg().c_str());
  std::map<uint32_t, std::vector<double>> rates;
  std::map<uint32_t, uint64_t> batches;
  for (int r = 0; r < runs; ++r) {
    for (uint32_t factor : factors) {
      uint64_t inv = 0;
      rates[factor].push_back(Run(dir, plugin, records, batch_size, factor, &inv));
      batches[factor] = inv;
    }
  }
  std::printf("load average after:  %s\n", LoadAvg().c_str());
  const double base = Median(rates[1]);
  std::printf("%-8s %14s %10s %9s\n", "factor", "records/s", "speed-up", "batches");
  for (uint32_t factor : factors) {
    const double med = Median(rates[factor]);
    std::printf("%-8u %14.0f %9.2fx %9llu\n", factor, med, med / base,
                static_cast<unsigned long long>(batches[factor]));
  }
  return 0;
}
