// Copyright 2026 The runnel Authors.
//
// Isolated functions (FunctionIsolation::kProcess) with real plugins run by
// the real runnel-worker: a plugin that segfaults, aborts, exits or sleeps
// past its timeout fails only that invocation, logged as the cloud logs a
// runtime exit or a timeout; the host keeps running, the retry works in a
// new worker, and write-backs are committed exactly once, never those of the
// failed attempt.

#include <stdlib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runnel/db.h"
#include "runnel/triggers.h"
#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Stream;
using test::TempDir;

// The worker is built with the sanitizers of the suite: let a segfault be a
// signal there too (they would turn it into exit status 1), and leave leak
// checks to the host's tests.
void SanitizersLetSignalsThrough() {
  for (const char* var : {"ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"}) {
    const char* old = std::getenv(var);
    std::string v = old != nullptr ? std::string(old) + ":" : "";
    v += "handle_segv=0:handle_sigbus=0:detect_leaks=0";
    ::setenv(var, v.c_str(), 1);
  }
}

class IsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("RUNNEL_WORKER", RUNNEL_WORKER_PATH, 1);
    SanitizersLetSignalsThrough();
    Open();
  }
  void Open() {
    if (db_) ASSERT_OK(db_->Close());
    db_.reset();
    Options o;
    o.run_triggers = true;
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
  }
  Triggers* t() { return db_->triggers(); }
  FunctionConfiguration Fn(const std::string& name, std::map<std::string, std::string> env) {
    FunctionConfiguration f;
    f.function_name = name;
    f.library = CRASH_FUNCTION;
    f.environment = std::move(env);
    f.isolation = FunctionIsolation::kProcess;
    return f;
  }
  // A source table with a stream, a byte table for write-backs, and a
  // mapping of one record per batch from the function to them.
  std::string MapOneByOne(const std::string& fn) {
    EXPECT_OK(db_->CreateTable("src", Stream(StreamViewType::kKeysOnly)));
    EXPECT_OK(db_->CreateTable("seen", StreamSpecification()));
    EventSourceMappingConfiguration m;
    m.function_name = fn;
    m.event_source = "src";
    m.batch_size = 1;
    EventSourceMappingConfiguration created;
    EXPECT_OK(t()->CreateEventSourceMapping(m, &created));
    return created.uuid;
  }
  void Put(const std::string& k) { ASSERT_OK(db_->Put(WriteOptions(), "src", k, "v")); }
  std::vector<std::pair<std::string, std::string>> Items(const std::string& table) {
    std::vector<std::pair<std::string, std::string>> out;
    EXPECT_OK(test::ScanAll(db_.get(), table, &out));
    return out;
  }
  std::string Log(const std::string& fn) {
    std::vector<FunctionLogLine> lines;
    EXPECT_OK(t()->ReadFunctionLog(fn, 0, &lines));
    std::string all;
    for (const auto& l : lines) all += l.text + "\n";
    return all;
  }
  static size_t Count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    return n;
  }
  MappingMetrics Metrics(const std::string& uuid) {
    MappingMetrics m;
    EXPECT_OK(t()->GetMappingMetrics(uuid, &m));
    return m;
  }
  // Waits (generously: the machine may be loaded) until `seen` holds `n`
  // items and the mapping is idle.
  void WaitForSeen(size_t n) {
    ASSERT_TRUE(test::WaitFor([&] { return Items("seen").size() >= n; }, std::chrono::seconds(90)))
        << Items("seen").size();
    ASSERT_OK(t()->WaitUntilIdle(std::chrono::seconds(60)));
  }
  // The write-backs of successful attempts, once each, and none of a
  // failed one.
  void ExpectSeenExactly(const std::vector<std::string>& keys) {
    std::vector<std::string> values;
    for (const auto& [k, v] : Items("seen")) {
      EXPECT_EQ(k.find("doomed"), std::string::npos) << "a failed attempt's write-back: " << k;
      values.push_back(v);
    }
    EXPECT_EQ(values, keys);
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
};

struct CrashCase {
  const char* how;
  const char* logged;  // after "Error: "
};

// Each way of dying, once (the retry succeeds): the host survives, the
// invocation is a function error logged as the cloud logs a runtime exit,
// the next worker serves the retry, and write-backs land exactly once.
TEST_F(IsolationTest, CrashesFailOnlyTheInvocationAndTheRetryWorks) {
  const CrashCase cases[] = {
      {"segv", "Runtime exited with error: signal: segmentation fault"},
      {"abort", "Runtime exited with error: signal: aborted"},
      {"exit3", "Runtime exited with error: exit status 3"},
      {"exit0", "Runtime exited without providing a reason"},
  };
  ASSERT_OK(t()->CreateFunction(Fn("crashy", {{"TARGET", "seen"}, {"CRASH", "none"}}), nullptr));
  const std::string uuid = MapOneByOne("crashy");
  std::vector<std::string> keys;
  size_t errors = 0;
  for (const CrashCase& c : cases) {
    SCOPED_TRACE(c.how);
    FunctionConfiguration f =
        Fn("crashy", {{"TARGET", "seen"},
                      {"CRASH", c.how},
                      {"CRASH_KEY", std::string("key-") + c.how},
                      {"CRASH_ONCE", dir_.Sub(std::string("once-") + c.how)}});
    ASSERT_OK(t()->UpdateFunction(f, nullptr));
    const std::string before = Log("crashy");
    keys.push_back(std::string("key-") + c.how);
    Put(keys.back());
    WaitForSeen(keys.size());
    ExpectSeenExactly(keys);
    const std::string log = Log("crashy").substr(before.size());
    // The cloud's lines: "RequestId: <id> Error: <why>", then the type.
    EXPECT_EQ(Count(log, std::string(" Error: ") + c.logged), 1u) << log;
    EXPECT_EQ(Count(log, "Z Runtime.ExitError\n"), 1u) << log;
    EXPECT_EQ(Count(log, "Z RequestId: "), 1u) << log;
    // The crashed attempt and the retry both ran (in two workers).
    EXPECT_EQ(Count(log, "alive "), 2u) << log;
    EXPECT_EQ(Metrics(uuid).errors, ++errors);
  }
  EventSourceMappingConfiguration m;
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &m));
  EXPECT_EQ(m.last_processing_result, "OK");
  // Exactly once across a restart too: the checkpoint landed with the
  // write-backs, so nothing is delivered again.
  const size_t starts = Count(Log("crashy"), "START RequestId");
  Open();
  ASSERT_OK(t()->WaitUntilIdle(std::chrono::seconds(60)));
  EXPECT_EQ(Count(Log("crashy"), "START RequestId"), starts);
  ExpectSeenExactly(keys);
}

// A handler past its timeout is killed at the deadline (it would sleep 60
// s), reported as the cloud reports it, and the retry runs in a new worker.
TEST_F(IsolationTest, TimeoutKillsTheWorkerAndTheRetryWorks) {
  FunctionConfiguration f = Fn(
      "sleepy", {{"TARGET", "seen"}, {"CRASH", "sleep"}, {"CRASH_ONCE", dir_.Sub("once-sleep")}});
  f.timeout_seconds = 1;
  ASSERT_OK(t()->CreateFunction(f, nullptr));
  const std::string uuid = MapOneByOne("sleepy");
  const auto t0 = std::chrono::steady_clock::now();
  Put("a");
  WaitForSeen(1);
  // Well under the handler's 60 s sleep: the worker was killed, not waited
  // for (the bound is loose for a loaded machine).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(45));
  ExpectSeenExactly({"a"});
  const std::string log = Log("sleepy");
  EXPECT_EQ(Count(log, " Task timed out after 1.00 seconds\n"), 1u) << log;
  EXPECT_EQ(Count(log, "Runtime.ExitError"), 0u) << log;
  EXPECT_EQ(Count(log, "alive "), 2u) << log;
  EXPECT_EQ(Metrics(uuid).errors, 1u);
}

// A plugin that crashes every time exhausts the mapping's retries and goes
// to the failure destination, like any failing function; the host lives on.
TEST_F(IsolationTest, AlwaysCrashingPluginIsRetriedThenDiscarded) {
  ASSERT_OK(t()->CreateFunction(Fn("doomed", {{"TARGET", "seen"}, {"CRASH", "segv"}}), nullptr));
  ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kKeysOnly)));
  ASSERT_OK(db_->CreateTable("seen", StreamSpecification()));
  ASSERT_OK(db_->CreateTable("failures", StreamSpecification()));
  EventSourceMappingConfiguration m;
  m.function_name = "doomed";
  m.event_source = "src";
  m.maximum_retry_attempts = 1;
  m.on_failure_destination = "failures";
  EventSourceMappingConfiguration created;
  ASSERT_OK(t()->CreateEventSourceMapping(m, &created));
  Put("a");
  ASSERT_TRUE(
      test::WaitFor([&] { return Items("failures").size() == 1; }, std::chrono::seconds(90)));
  EXPECT_TRUE(Items("seen").empty());
  EXPECT_EQ(Metrics(created.uuid).errors, 2u);
  auto j = nlohmann::json::parse(Items("failures")[0].second);
  EXPECT_EQ(j["requestContext"]["condition"], "RetryAttemptsExhausted");
  EXPECT_EQ(Count(Log("doomed"), "signal: segmentation fault"), 2u);
}

TEST_F(IsolationTest, InvokeReportsACrashAsAFunctionErrorAndWritesNothing) {
  ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kKeysOnly)));
  ASSERT_OK(db_->CreateTable("seen", StreamSpecification()));
  TableDescription d;
  ASSERT_OK(db_->DescribeTable("src", &d));
  const std::string payload =
      R"({"Records":[{"eventName":"INSERT","eventSourceARN":")" + d.latest_stream_arn +
      R"(","dynamodb":{"Keys":{"key":{"B":"YQ=="}},"SequenceNumber":"42"}}]})";
  ASSERT_OK(t()->CreateFunction(Fn("inv", {{"TARGET", "seen"}, {"CRASH", "abort"}}), nullptr));
  std::string response;
  ASSERT_OK(t()->Invoke("inv", payload, &response));
  auto r = nlohmann::json::parse(response);
  EXPECT_EQ(r["FunctionError"], "Unhandled") << response;
  EXPECT_EQ(r["errorType"], "Runtime.ExitError") << response;
  EXPECT_EQ(r["errorMessage"], "RequestId: " + r["RequestId"].get<std::string>() +
                                   " Error: Runtime exited with error: signal: aborted")
      << response;
  EXPECT_TRUE(Items("seen").empty());
  EXPECT_EQ(Count(Log("inv"), "Error: Runtime exited with error: signal: aborted"), 1u);
  // Past the timeout: killed, and said as the cloud says it.
  FunctionConfiguration sleepy = Fn("inv", {{"TARGET", "seen"}, {"CRASH", "sleep"}});
  sleepy.timeout_seconds = 1;
  ASSERT_OK(t()->UpdateFunction(sleepy, nullptr));
  ASSERT_OK(t()->Invoke("inv", payload, &response));
  r = nlohmann::json::parse(response);
  EXPECT_EQ(r["errorType"], "Sandbox.Timedout") << response;
  EXPECT_EQ(r["errorMessage"], "RequestId: " + r["RequestId"].get<std::string>() +
                                   " Error: Task timed out after 1.00 seconds")
      << response;
  EXPECT_TRUE(Items("seen").empty());
  ASSERT_OK(t()->UpdateFunction(Fn("inv", {{"TARGET", "seen"}}), nullptr));
  ASSERT_OK(t()->Invoke("inv", payload, &response));
  EXPECT_FALSE(nlohmann::json::parse(response).contains("FunctionError")) << response;
  ExpectSeenExactly({"a"});
}

TEST_F(IsolationTest, ConfigurationIsDurableAndCheckedInAWorker) {
  FunctionConfiguration created;
  ASSERT_OK(t()->CreateFunction(Fn("f", {}), &created));
  EXPECT_EQ(created.isolation, FunctionIsolation::kProcess);
  FunctionConfiguration plain = Fn("g", {});
  plain.isolation = FunctionIsolation::kInProcess;
  ASSERT_OK(t()->CreateFunction(plain, nullptr));
  Open();
  FunctionConfiguration got;
  ASSERT_OK(t()->GetFunction("f", &got));
  EXPECT_EQ(got.isolation, FunctionIsolation::kProcess);
  ASSERT_OK(t()->GetFunction("g", &got));
  EXPECT_EQ(got.isolation, FunctionIsolation::kInProcess);
  // Back to in-process and isolated again.
  got.isolation = FunctionIsolation::kProcess;
  ASSERT_OK(t()->UpdateFunction(got, &got));
  EXPECT_EQ(got.isolation, FunctionIsolation::kProcess);

  // A plugin that crashes in runnel_init: refused, the host lives on.
  Status s = t()->CreateFunction(Fn("crash_init_fn", {}), nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("signal: segmentation fault"), std::string::npos) << s.ToString();
  EXPECT_TRUE(t()->GetFunction("crash_init_fn", &got).IsNotFound());
  // The load errors are the in-process ones.
  FunctionConfiguration bad = Fn("bad", {});
  bad.handler = "no_such_symbol";
  s = t()->CreateFunction(bad, nullptr);
  EXPECT_NE(s.message().find("does not export 'no_such_symbol'"), std::string::npos)
      << s.ToString();
  // An in-process function cannot be isolated.
  FunctionConfiguration inproc;
  inproc.function_name = "inproc";
  inproc.isolation = FunctionIsolation::kProcess;
  s = t()->RegisterInProcessFunction(inproc,
                                     [](const runnel_batch&, runnel_context*) { return 0; });
  EXPECT_NE(s.message().find("isolation"), std::string::npos) << s.ToString();
  bad = Fn("bad", {});
  bad.isolation = static_cast<FunctionIsolation>(7);
  EXPECT_TRUE(t()->CreateFunction(bad, nullptr).IsInvalidArgument());
  // No worker: a clear error naming where it was looked for.
  ::setenv("RUNNEL_WORKER", dir_.Sub("no-such-worker").c_str(), 1);
  s = t()->CreateFunction(Fn("h", {}), nullptr);
  EXPECT_NE(s.message().find("no-such-worker"), std::string::npos) << s.ToString();
  EXPECT_TRUE(t()->GetFunction("h", &got).IsNotFound());
}

}  // namespace
}  // namespace runnel
