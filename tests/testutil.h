// Copyright 2026 The runnel Authors.
//
// Helpers shared by the test suites.

#ifndef RUNNEL_TESTS_TESTUTIL_H_
#define RUNNEL_TESTS_TESTUTIL_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/db.h"

namespace runnel::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object is destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// `prefix` followed by `n` in decimal: Numbered("k", 7) == "k7". Tests build
// numbered keys and values with it: for `"k" + std::to_string(n)` GCC 12 at
// -O3 reports a false -Wrestrict (GCC bug 105651), which breaks Release builds
// with RUNNEL_WERROR=ON.
template <typename Int>
std::string Numbered(std::string_view prefix, Int n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const ::runnel::Status _s = (expr);                     \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                     \
  do {                                                      \
    const ::runnel::Status _s = (expr);                     \
    EXPECT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

// Waits for something another thread or process does: polls `cond` (after
// 1 ms, then with a backoff up to 20 ms between polls) until it holds or
// `deadline` has passed; returns whether it held. Use it instead of a fixed
// sleep: ASSERT_TRUE(WaitFor([&] { return ...; }, std::chrono::seconds(10)));
// the deadline is a failure bound, not a pace, so make it generous.
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds deadline);

// One visible change record, copied out of the log.
struct Rec {
  SequenceNumber seq = 0;
  std::string table;
  EventName event = EventName::kInsert;
  std::string key;
  bool has_old = false, has_new = false;
  std::string old_image, new_image;
  bool end_of_batch = false;
  int64_t commit_time_micros = 0;
};

// All visible records with sequence >= start.
Status ReadAll(DB* db, SequenceNumber start, std::vector<Rec>* out);

// The whole table via Scan, as (key, value) pairs in key order.
Status ScanAll(DB* db, const std::string& table,
               std::vector<std::pair<std::string, std::string>>* out);

StreamSpecification Stream(StreamViewType type);

// Reads a whole file / writes bytes at an offset (for corrupting logs).
std::string ReadFile(const std::string& path);
void WriteAt(const std::string& path, uint64_t offset, const std::string& bytes);
uint64_t FileSize(const std::string& path);
// Seals unsealed frames (log::AppendFrame) for the end of the segment file at
// `path`, as the log writer would, and appends them there.
void AppendFramesToSegment(const std::string& path, std::string frames);
std::vector<std::string> ListDir(const std::string& dir);

// The log as found on disk in `wal_dir`, parsed from the segment files
// independently of the DB, the way recovery reads them: a damaged tail of the
// newest segment, or a newest segment without an intact header, ends the log.
// The power-loss suites compare it with what a reopened DB reports (the
// durable index must be a prefix of the durable log).
struct LogScan {
  uint64_t last_seq = 0;  // the last sequence of the last intact frame
  int segments = 0;
  bool torn = false;                         // the newest segment ended in damage (a torn tail)
  std::string error;                         // damage recovery must not tolerate
  std::vector<std::string> preamble_errors;  // segments without a catalog frame
};
LogScan ScanLog(const std::string& wal_dir);

}  // namespace runnel::test

#endif  // RUNNEL_TESTS_TESTUTIL_H_
