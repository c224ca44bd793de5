// Copyright 2026 The runnel Authors.
//
// The materialized view of examples/materialized_view (a per-group count and
// sum of a typed source table, kept in a typed view table), recomputed from
// the source and read from the view, for the tests that check one against
// the other (triggers_reads_test, trigger_crash_test).

#ifndef RUNNEL_TESTS_VIEW_CHECK_H_
#define RUNNEL_TESTS_VIEW_CHECK_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runnel/db.h"

namespace runnel::test {

struct GroupTotals {
  int64_t count = 0;
  int64_t sum = 0;
  bool operator==(const GroupTotals& o) const { return count == o.count && sum == o.sum; }
};
// group -> totals; only groups with items.
using ViewTotals = std::map<std::string, GroupTotals>;

// The tables of the view: "orders" (id S; NEW_AND_OLD_IMAGES stream) and
// "totals" (group S). Tables that exist already are left alone.
Status CreateViewTables(DB* db);
// One random write of the orders workload, on the orders o0..o39: a put
// (of an order that counts in the view, or now and then of one without an
// amount or with a fraction), an update (moving the order to another group,
// changing its amount, changing an attribute the view ignores, or removing
// its group), a delete, or a transaction of 2-4 of these on distinct orders
// (one log frame of several records).
Status RandomOrderWrite(DB* db, std::mt19937_64& rng, bool sync);

// Every item of the typed table `table`, as the cloud's JSON, all pages.
Status ScanItemJson(DB* db, const std::string& table, std::vector<std::string>* items);
// The view as the example defines it, from the source table's items: the
// items with an S "group" and an integer N "amount".
Status RecomputeView(DB* db, const std::string& source, ViewTotals* out);
// The view recomputed from the source table as the records of its stream
// below `position` (a mapping's checkpoint) left it: what a view maintained
// exactly once up to that checkpoint holds. *below and *at_or_above count
// the source's records on either side.
Status ViewBelow(DB* db, const std::string& source, uint64_t position, ViewTotals* out,
                 uint64_t* below, uint64_t* at_or_above);
// The view as the view table holds it ({"group":S, "count":N, "sum":N});
// an item of another shape is an error naming it.
Status ReadView(DB* db, const std::string& view, ViewTotals* out);
// The groups that differ (the first few), for messages; "" if equal.
std::string DiffViews(const ViewTotals& want, const ViewTotals& got);

}  // namespace runnel::test

#endif  // RUNNEL_TESTS_VIEW_CHECK_H_
