// Copyright 2026 The runnel Authors.
//
// The plugin of tests/triggers_reads_test.cc (ABI 3, through the C++
// wrapper): a handler that reads byte tables and its own pending writes.
// For each record of a byte table (NEW_IMAGE stream), with tables named by
// $OUT, $CONFIG and $COUNTS:
//   - an INSERT or MODIFY of key k with value v: reads "factor" from CONFIG
//     (another table; "none" if absent), logs "before k: <value|absent>" (OUT
//     as committed), puts OUT/k = "v/<factor>", logs "own put k: <value>"
//     (read back before the commit), then counts the record with a
//     read-modify-write of COUNTS/"n" (absent: 0), logging
//     "count before k: <n>";
//   - a REMOVE of k: deletes OUT/k and logs "own delete k: <value|absent>".
// After the records it logs what reads the API refuses, as
// "refused: <rc>:<last error>|..." (a typed table $TYPED, a missing table,
// an empty key). FAIL_ONCE=P: after all write-backs of the first batch,
// creates file P and fails the batch (the retry finds P and succeeds).

#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "runnel/function.hpp"

RUNNEL_DECLARE_FUNCTION_ABI

namespace {

using runnel::fn::Context;
using runnel::fn::Record;

std::string Env(Context& ctx, const char* name) {
  const char* v = ctx.Getenv(name);
  return v != nullptr ? v : "";
}

std::string Read(Context& ctx, const std::string& table, std::string_view key) {
  std::string_view value;
  const runnel_item_result rc = ctx.Get(table, key, &value);
  if (rc == RUNNEL_ITEM_NOT_FOUND) return "absent";
  if (rc != RUNNEL_ITEM_OK) return "error " + std::string(ctx.LastError());
  return std::string(value);
}

int OnRecord(Context& ctx, const Record& r) {
  const std::string out = Env(ctx, "OUT"), counts = Env(ctx, "COUNTS");
  const std::string key(r.key());
  if (r.event() == RUNNEL_REMOVE) {
    if (!ctx.Delete(out, key)) return 1;
    ctx.Log("own delete " + key + ": " + Read(ctx, out, key));
    return 0;
  }
  std::string factor = Read(ctx, Env(ctx, "CONFIG"), "factor");
  if (factor == "absent") factor = "none";
  ctx.Log("before " + key + ": " + Read(ctx, out, key));
  if (!ctx.Put(out, key, std::string(r.new_image()) + "/" + factor)) return 1;
  ctx.Log("own put " + key + ": " + Read(ctx, out, key));
  std::string_view n;
  const runnel_item_result rc = ctx.Get(counts, "n", &n);
  if (rc != RUNNEL_ITEM_OK && rc != RUNNEL_ITEM_NOT_FOUND) return 1;
  const long count = rc == RUNNEL_ITEM_OK ? std::stol(std::string(n)) : 0;
  ctx.Log("count before " + key + ": " + std::to_string(count));
  return ctx.Put(counts, "n", std::to_string(count + 1)) ? 0 : 1;
}

void LogRefused(Context& ctx) {
  std::string line = "refused:";
  std::string_view value;
  const std::string typed = Env(ctx, "TYPED");
  const std::pair<std::string, std::string> calls[] = {
      {typed, "k"}, {"missing", "k"}, {Env(ctx, "OUT"), ""}};
  for (const auto& [table, key] : calls) {
    const int rc = ctx.Get(table, key, &value);
    line += " " + std::to_string(rc) + ":" + std::string(ctx.LastError()) + "|";
  }
  ctx.Log(line);
}

int Handle(const runnel::fn::Batch& batch, Context& ctx) {
  for (const Record& r : batch) {
    if (OnRecord(ctx, r) != 0) return 1;
  }
  LogRefused(ctx);
  const std::string fail_once = Env(ctx, "FAIL_ONCE");
  struct stat st;
  if (!fail_once.empty() && ::stat(fail_once.c_str(), &st) != 0) {
    if (FILE* f = std::fopen(fail_once.c_str(), "w")) std::fclose(f);
    ctx.Log("failing after the write-backs");
    return 1;
  }
  return 0;
}

}  // namespace

RUNNEL_CPP_HANDLER(runnel_handler, Handle)
