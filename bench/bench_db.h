// Copyright 2026 The runnel Authors.
//
// Helpers for the benches that link runnel (bench_util.h has the rest).
// Header-only.

#ifndef RUNNEL_BENCH_BENCH_DB_H_
#define RUNNEL_BENCH_BENCH_DB_H_

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "bench/bench_util.h"
#include "runnel/db.h"

namespace runnel::bench {

// Exits the bench with the error if `s` is not OK.
inline void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// A fresh DB in `dir` (whatever was there is removed) holding `table`, its
// stream on (NEW_IMAGE).
inline std::unique_ptr<DB> FreshStreamDb(const std::string& dir, const std::string& table,
                                         const Options& options = Options()) {
  std::filesystem::remove_all(dir);
  std::unique_ptr<DB> db;
  Check(DB::Open(options, dir, &db), "open");
  StreamSpecification spec;
  spec.stream_enabled = true;
  spec.stream_view_type = StreamViewType::kNewImage;
  Check(db->CreateTable(table, spec), "create-table");
  return db;
}

}  // namespace runnel::bench

#endif  // RUNNEL_BENCH_BENCH_DB_H_
