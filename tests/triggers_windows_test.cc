// Copyright 2026 The runnel Authors.
//
// Tumbling windows (TumblingWindowInSeconds) with a real plugin
// (tests/plugins/window_function.c, a counting aggregate): exact per-window
// totals with one final invocation per window, in process and isolated (a
// handler reading the cloud's event JSON and returning the cloud's
// response); the state size limit (early termination); the settings'
// validation; and a plugin of the previous ABI.

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runnel/db.h"
#include "runnel/triggers.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Stream;
using test::TempDir;

constexpr int64_t kSecond = 1000000;

struct Final {
  int64_t start = 0;
  bool early = false;
  uint64_t count = 0;
};

class TriggersWindowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("RUNNEL_WORKER", RUNNEL_WORKER_PATH, 1);
    Options o;
    o.run_triggers = true;
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
    ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kKeysOnly)));
    ASSERT_OK(db_->CreateTable("totals", StreamSpecification()));
  }
  Triggers* t() { return db_->triggers(); }

  void CreateFunction(const std::string& name, std::map<std::string, std::string> env,
                      FunctionIsolation isolation = FunctionIsolation::kInProcess) {
    FunctionConfiguration f;
    f.function_name = name;
    f.library = WINDOW_FUNCTION;
    env["TARGET"] = "totals";
    f.environment = std::move(env);
    f.isolation = isolation;
    f.timeout_seconds = 30;
    ASSERT_OK(t()->CreateFunction(f, nullptr));
  }
  std::string Map(const std::string& fn, uint32_t window_seconds, uint32_t batch_size) {
    EventSourceMappingConfiguration m;
    m.function_name = fn;
    m.event_source = "src";
    m.batch_size = batch_size;
    m.tumbling_window_seconds = window_seconds;
    EventSourceMappingConfiguration created;
    EXPECT_OK(t()->CreateEventSourceMapping(m, &created));
    EXPECT_EQ(created.tumbling_window_seconds, window_seconds);
    return created.uuid;
  }
  // The final invocations' write-backs; violations the plugin found fail.
  std::vector<Final> Finals() {
    std::vector<std::pair<std::string, std::string>> items;
    EXPECT_OK(test::ScanAll(db_.get(), "totals", &items));
    std::vector<Final> out;
    for (const auto& [k, v] : items) {
      if (k.rfind("violation/", 0) == 0) {
        ADD_FAILURE() << "the plugin saw " << k;
        continue;
      }
      Final f;
      f.start = std::stoll(k.substr(0, 20));
      f.early = k.compare(21, 5, "early") == 0;
      f.count = std::stoull(v);
      out.push_back(f);
    }
    return out;
  }
  // Records of "src" per window of `seconds`, by commit time.
  std::map<int64_t, uint64_t> Expected(int64_t seconds) {
    std::vector<test::Rec> recs;
    EXPECT_OK(test::ReadAll(db_.get(), 0, &recs));
    std::map<int64_t, uint64_t> want;
    for (const auto& r : recs) {
      if (r.table == "src") ++want[r.commit_time_micros / (seconds * kSecond) * seconds * kSecond];
    }
    return want;
  }
  std::string LastResult(const std::string& uuid) {
    EventSourceMappingConfiguration c;
    EXPECT_OK(t()->GetEventSourceMapping(uuid, &c));
    return c.last_processing_result;
  }
  std::string Log(const std::string& fn) {
    std::vector<FunctionLogLine> lines;
    EXPECT_OK(t()->ReadFunctionLog(fn, 0, &lines));
    std::string all;
    for (const auto& l : lines) all += l.text + "\n";
    return all;
  }
  // Puts `n` records, one every `gap_ms`.
  void Write(int n, int gap_ms) {
    for (int i = 0; i < n; ++i) {
      ASSERT_OK(db_->Put(WriteOptions(), "src", "k" + std::to_string(i), std::to_string(i)));
      std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
    }
  }
  // Waits until every window with records has had its final invocation,
  // then checks the totals: exact, one final per window, none for others.
  void ExpectExactTotals(int64_t seconds) {
    const std::map<int64_t, uint64_t> want = Expected(seconds);
    ASSERT_GE(want.size(), 2u) << "the records should span several windows";
    ASSERT_TRUE(
        test::WaitFor([&] { return Finals().size() >= want.size(); }, std::chrono::seconds(60)))
        << Finals().size() << " finals for " << want.size() << " windows; " << Log(fn_);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // no extra final comes
    std::map<int64_t, std::vector<uint64_t>> got;
    for (const Final& f : Finals()) {
      EXPECT_FALSE(f.early);
      got[f.start].push_back(f.count);
    }
    for (const auto& [start, n] : want) {
      ASSERT_EQ(got[start].size(), 1u) << "finals of window " << start;
      EXPECT_EQ(got[start][0], n) << "window " << start;
    }
    EXPECT_EQ(got.size(), want.size());
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
  std::string fn_ = "agg";
};

TEST_F(TriggersWindowsTest, CountsPerWindowAreExactWithOneFinalInvocationEach) {
  CreateFunction("agg", {});
  Map("agg", 1, 7);
  Write(90, 25);  // about 2.5 s: three or four windows of 1 s
  ExpectExactTotals(1);
}

TEST_F(TriggersWindowsTest, IsolatedHandlerSeesTheCloudsEventAndReturnsTheCloudsResponse) {
  CreateFunction("agg", {{"MODE", "cloud"}}, FunctionIsolation::kProcess);
  Map("agg", 1, 5);
  Write(60, 30);
  ExpectExactTotals(1);
}

TEST_F(TriggersWindowsTest, AStateOverOneMegabyteTerminatesTheWindowEarly) {
  // 200000 bytes of state per record: the sixth record of a window would
  // take it past 1 MB.
  CreateFunction("agg", {{"PAD", "200000"}});
  const std::string uuid = Map("agg", 900, 1);
  Write(12, 0);
  ASSERT_TRUE(test::WaitFor([&] { return Finals().size() >= 2; }, std::chrono::seconds(60)))
      << Log("agg");
  std::vector<Final> f = Finals();
  ASSERT_EQ(f.size(), 2u);
  for (const Final& e : f) {
    EXPECT_TRUE(e.early);
    EXPECT_EQ(e.count, 5u);  // the state before the batch that outgrew it
    EXPECT_EQ(e.start, f[0].start);
  }
  EXPECT_NE(Log("agg").find("exceeds the limit of 1048576 bytes: the window is terminated early"),
            std::string::npos);
  // Turning windows off ends the open window with its final invocation:
  // the two records left, once the mapping has read them (on a slow
  // machine the last one may still be on its way).
  ASSERT_OK(t()->WaitUntilIdle(std::chrono::seconds(60)));
  EventSourceMappingUpdate u;
  u.tumbling_window_seconds = 0;
  ASSERT_OK(t()->UpdateEventSourceMapping(uuid, u, nullptr));
  ASSERT_TRUE(test::WaitFor([&] { return Finals().size() >= 3; }, std::chrono::seconds(60)));
  uint64_t total = 0, normal = 0;
  for (const Final& e : Finals()) {
    total += e.count;
    if (!e.early) {
      ++normal;
      EXPECT_EQ(e.count, 2u);
      EXPECT_EQ(e.start, f[0].start);
    }
  }
  EXPECT_EQ(normal, 1u);
  EXPECT_EQ(total, 12u);  // every record counted once
}

TEST_F(TriggersWindowsTest, AStateOverTheLimitFromAFreshStateFailsTheBatch) {
  CreateFunction("agg", {{"PAD", "2000000"}});
  const std::string uuid = Map("agg", 900, 1);
  Write(1, 0);
  ASSERT_TRUE(test::WaitFor([&] { return LastResult(uuid).rfind("PROBLEM", 0) == 0; },
                            std::chrono::seconds(30)));
  EXPECT_NE(Log("agg").find("from a fresh state; the invocation failed"), std::string::npos);
  EXPECT_TRUE(Finals().empty());
}

TEST_F(TriggersWindowsTest, OutOfRangeWindowsAreRefusedAndChangeNothing) {
  CreateFunction("agg", {});
  EventSourceMappingConfiguration m;
  m.function_name = "agg";
  m.event_source = "src";
  m.tumbling_window_seconds = 901;
  Status s = t()->CreateEventSourceMapping(m, nullptr);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("tumbling window: must be 0 to 900 seconds, got 901"),
            std::string::npos)
      << s.message();
  std::vector<EventSourceMappingConfiguration> all;
  ASSERT_OK(t()->ListEventSourceMappings("", "", "", 0, &all, nullptr));
  EXPECT_TRUE(all.empty());

  const std::string uuid = Map("agg", 900, 10);
  EventSourceMappingUpdate u;
  u.tumbling_window_seconds = 1000;
  s = t()->UpdateEventSourceMapping(uuid, u, nullptr);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("got 1000"), std::string::npos) << s.message();
  EventSourceMappingConfiguration got;
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &got));
  EXPECT_EQ(got.tumbling_window_seconds, 900u);
  u.tumbling_window_seconds = 60;
  ASSERT_OK(t()->UpdateEventSourceMapping(uuid, u, nullptr));
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &got));
  EXPECT_EQ(got.tumbling_window_seconds, 60u);

  // Not (yet) with lanes: a window's state is one per mapping.
  EventSourceMappingUpdate lanes;
  lanes.parallelization_factor = 2;
  s = t()->UpdateEventSourceMapping(uuid, lanes, nullptr);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("ParallelizationFactor above 1 (got 2)"), std::string::npos)
      << s.message();
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &got));
  EXPECT_EQ(got.parallelization_factor, 1u);
  m.tumbling_window_seconds = 10;
  m.parallelization_factor = 4;
  s = t()->CreateEventSourceMapping(m, nullptr);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST_F(TriggersWindowsTest, VersionTwoPluginsStillLoadButCannotReturnAWindowState) {
  ASSERT_OK(db_->CreateTable("out", StreamSpecification()));
  FunctionConfiguration f;
  f.function_name = "old";
  f.library = ABI_V2;
  ASSERT_OK(t()->CreateFunction(f, nullptr));
  // Without a window it runs as before.
  EventSourceMappingConfiguration m;
  m.function_name = "old";
  m.event_source = "src";
  EventSourceMappingConfiguration plain;
  ASSERT_OK(t()->CreateEventSourceMapping(m, &plain));
  Write(1, 0);
  ASSERT_TRUE(test::WaitFor(
      [&] {
        std::string v;
        return db_->Get(ReadOptions(), "out", "k0", &v).ok() && v.rfind("v2", 0) == 0;
      },
      std::chrono::seconds(30)));
  // With one, every invocation fails: it returns no state.
  m.tumbling_window_seconds = 60;
  EventSourceMappingConfiguration windowed;
  ASSERT_OK(t()->CreateEventSourceMapping(m, &windowed));
  ASSERT_TRUE(test::WaitFor([&] { return LastResult(windowed.uuid).rfind("PROBLEM", 0) == 0; },
                            std::chrono::seconds(30)));
  EXPECT_NE(Log("old").find("built for function ABI version 2, which has no window state"),
            std::string::npos)
      << Log("old");
}

}  // namespace
}  // namespace runnel
