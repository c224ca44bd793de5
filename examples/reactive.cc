// Copyright 2026 The runnel Authors.
//
// reactive: a database trigger in C++. For every change it
//  * appends an audit item to the table named by $AUDIT_TABLE (default
//    "Audit"), keyed by the record's sequence number, and
//  * records the latest change of each item in $LATEST_TABLE (default
//    "LatestChange"): key "<table>/<key>", value "<event> at <sequence>".
// Its writes are committed atomically with the batch's checkpoint: a crash or
// a retry never writes an audit entry twice or loses one.

#include <cstdlib>
#include <string>

#include "runnel/function.hpp"

RUNNEL_DECLARE_FUNCTION_ABI

namespace {

int Handle(const runnel::fn::Batch& batch, runnel::fn::Context& ctx) {
  const char* audit = ctx.Getenv("AUDIT_TABLE");
  const char* latest = ctx.Getenv("LATEST_TABLE");
  const std::string audit_table = audit != nullptr ? audit : "Audit";
  const std::string latest_table = latest != nullptr ? latest : "LatestChange";
  for (const runnel::fn::Record& r : batch) {
    char seq[24];
    std::snprintf(seq, sizeof(seq), "%020llu",
                  static_cast<unsigned long long>(r.sequence_number()));
    const std::string entry =
        std::string(r.event_name()) + " " + std::string(r.table()) + "/" + std::string(r.key());
    if (!ctx.Put(audit_table, seq, entry)) return 1;
    // Later records of the same key in the batch overwrite earlier ones.
    if (!ctx.Put(latest_table, std::string(r.table()) + "/" + std::string(r.key()),
                 std::string(r.event_name()) + " at " + std::to_string(r.sequence_number()))) {
      return 1;
    }
  }
  ctx.Log("audited " + std::to_string(batch.size()) + " records");
  return 0;
}

}  // namespace

RUNNEL_CPP_HANDLER(runnel_handler, Handle)
