// Copyright 2026 The runnel Authors.
//
// The `runnel` tool, run as a user runs it: the real binary in a child
// process, its stdout/stderr captured, its exit status checked; the host
// (`runnel run`) is a real child process serving the real socket.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runnel/db.h"
#include "runnel/triggers.h"
#include "runnel/version.h"
#include "tests/testutil.h"

extern char** environ;

namespace runnel::test {
namespace {

using nlohmann::json;

struct Result {
  int exit = -1;
  std::string out, err;
  json Json() const {
    json j = json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "stdout is not JSON: " << out;
    return j;
  }
  // The error contract: one line on stderr.
  bool OneErrorLine() const {
    return !err.empty() && err.back() == '\n' && err.find('\n') == err.size() - 1;
  }
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  return os << "exit " << r.exit << "\nstdout: " << r.out << "\nstderr: " << r.err;
}

// Runs `runnel args...` with `input` on stdin.
Result Runnel(const std::vector<std::string>& args, const std::string& input = "",
              const std::string& cwd = "") {
  int in[2], out[2], err[2];
  EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::vector<std::string> argv_s = {RUNNEL_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, RUNNEL_BIN, &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  // stdin is fed from another thread: a child that fails before reading it
  // must not block the test (nor kill it with SIGPIPE).
  ::signal(SIGPIPE, SIG_IGN);
  std::thread feeder([fd = in[1], &input] {
    size_t done = 0;
    while (done < input.size()) {
      const ssize_t n = ::write(fd, input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  Result r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open = 2;
  char buf[65536];
  while (open > 0) {
    ::poll(fds, 2, -1);
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      } else {
        (i == 0 ? r.out : r.err).append(buf, n);
      }
    }
  }
  feeder.join();
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // Under the sanitizers a report must fail the test even where an exit
  // status of 1 is the expected answer.
  EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("runtime error:"), std::string::npos) << r.err;
  return r;
}

// A `runnel run` host in a child process; stopped with SIGTERM.
class Host {
 public:
  explicit Host(const std::string& db, const std::string& err_path) : db_(db) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> s = {RUNNEL_BIN, "--db", db, "run"};
    std::vector<char*> argv;
    for (auto& a : s) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, RUNNEL_BIN, &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    // Ready once the socket answers.
    EXPECT_TRUE(WaitFor([this] { return Answers(); }, std::chrono::seconds(30)))
        << "the host never opened its socket";
  }
  ~Host() {
    if (pid_ > 0) Stop();
  }
  bool Answers() const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    const std::string path = db_ + "/runnel.sock";
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
  }
  // SIGTERM; returns the exit status.
  int Stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  pid_t pid() const { return pid_; }

 private:
  std::string db_;
  pid_t pid_ = -1;
};

class CliBase : public ::testing::Test {
 protected:
  // The tests name the DB with --db; an inherited RUNNEL_DB must not count.
  static void SetUpTestSuite() { ::unsetenv("RUNNEL_DB"); }
  std::string db() const { return tmp_.Sub("db"); }
  bool hosted() const { return host_ != nullptr; }
  // Runs the mappings over everything committed: a `run --until-idle`, or,
  // with a live host, waiting until every mapping has caught up.
  void RunMappingsUntilIdle() {
    if (!hosted()) {
      Result r = R({"run", "--until-idle"});
      ASSERT_EQ(r.exit, 0) << r;
      return;
    }
    const bool idle = WaitFor(
        [&] {
          json stats = R({"inspect", "stats"}).Json();
          bool idle = true;
          for (const auto& m : stats["EventSourceMappings"]) {
            idle &= m.value("RecordsBehind", 1) == 0 && m["State"] == "Enabled";
          }
          return idle;
        },
        std::chrono::seconds(30));
    ASSERT_TRUE(idle) << "the host's mappings never caught up";
  }
  // A function's log once it contains `needle` (the host flushes function
  // logs within 100 ms of an invocation); the last read if it never does.
  Result LogsContaining(const std::string& function, const std::string& needle) {
    Result r;
    WaitFor(
        [&] {
          r = R({"logs", "--function-name", function, "--since", "1h"});
          return r.out.find(needle) != std::string::npos;
        },
        std::chrono::seconds(20));
    return r;
  }
  Result R(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--db", db()});
    return Runnel(args, input);
  }
  // create-table with a NEW_AND_OLD_IMAGES stream; returns the stream ARN.
  std::string MakeTable(const std::string& name) {
    Result r = R({"create-table", "--table-name", name, "--stream-specification",
                  "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"});
    EXPECT_EQ(r.exit, 0) << r;
    return r.Json()["TableDescription"].value("LatestStreamArn", "");
  }
  std::string MakeMapping(const std::string& fn, const std::string& lib,
                          const std::string& source) {
    Result r = R({"create-function", "--function-name", fn, "--library", lib});
    EXPECT_EQ(r.exit, 0) << r;
    r = R({"create-event-source-mapping", "--function-name", fn, "--event-source", source,
           "--batch-size", "100", "--starting-position", "TRIM_HORIZON"});
    EXPECT_EQ(r.exit, 0) << r;
    return r.Json().value("UUID", "");
  }
  // The log's state, to prove a failed command changed nothing.
  std::string LogFingerprint() {
    std::string all;
    for (const std::string& f : ListDir(db() + "/wal")) {
      all += f + ":" + std::to_string(FileSize(db() + "/wal/" + f)) + ";";
    }
    return all;
  }
  TempDir tmp_;
  std::unique_ptr<Host> host_;
};

// Every command's happy path, twice: opening the DB directly, and through a
// live `runnel run` host's socket (the same command lines).
class CliTest : public CliBase, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    if (!GetParam()) return;
    // A host needs a DB to host: an empty one.
    std::unique_ptr<DB> empty;
    ASSERT_OK(DB::Open(Options(), db(), &empty));
    ASSERT_OK(empty->Close());
    empty.reset();
    host_ = std::make_unique<Host>(db(), tmp_.Sub("host.err"));
  }
  void TearDown() override {
    if (host_) {
      EXPECT_EQ(host_->Stop(), 0) << ReadFile(tmp_.Sub("host.err"));
      host_.reset();
    }
  }
};

INSTANTIATE_TEST_SUITE_P(DirectAndHosted, CliTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Hosted" : "Direct";
                         });

// --- The tutorial, step by step.

TEST_P(CliTest, TutorialWalkThrough) {
  // Step 3.1: a table with a stream; its ARN.
  const std::string arn = MakeTable("Music");
  ASSERT_NE(arn.find(":table/Music/stream/"), std::string::npos) << arn;
  // The function (ProcessDynamoDBStream) from examples/process_stream.
  Result r = R(
      {"create-function", "--function-name", "ProcessDynamoDBStream", "--library", PROCESS_STREAM});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["FunctionName"], "ProcessDynamoDBStream");
  // Step 3.2: the mapping, with the tutorial's flags; note the UUID.
  r = R({"create-event-source-mapping", "--function-name", "ProcessDynamoDBStream",
         "--event-source", arn, "--batch-size", "100", "--starting-position", "TRIM_HORIZON"});
  ASSERT_EQ(r.exit, 0) << r;
  json m = r.Json();
  const std::string uuid = m["UUID"];
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_EQ(m["State"], "Creating");
  EXPECT_EQ(m["BatchSize"], 100);
  EXPECT_EQ(m["StartingPosition"], "TRIM_HORIZON");
  EXPECT_EQ(m["EventSourceArn"], arn);
  r = R({"list-event-source-mappings", "--function-name", "ProcessDynamoDBStream", "--event-source",
         arn});
  ASSERT_EQ(r.exit, 0) << r;
  ASSERT_EQ(r.Json()["EventSourceMappings"].size(), 1u);
  EXPECT_EQ(r.Json()["EventSourceMappings"][0]["LastProcessingResult"], "No records processed");
  EXPECT_EQ(r.Json()["EventSourceMappings"][0]["UUID"], uuid);
  // Step 3.3: add, update, delete items.
  ASSERT_EQ(R({"put-item", "--table-name", "Music", "--key", "song#1", "--value",
               R"({"title":"Call Me Today"})"})
                .exit,
            0);
  ASSERT_EQ(R({"put-item", "--table-name", "Music", "--key", "song#1", "--value",
               R"({"title":"Call Me Tomorrow"})"})
                .exit,
            0);
  ASSERT_EQ(R({"delete-item", "--table-name", "Music", "--key", "song#1"}).exit, 0);
  // The mapping runs while the DB is hosted.
  RunMappingsUntilIdle();
  r = R({"get-event-source-mapping", "--uuid", uuid});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["LastProcessingResult"], "OK");
  EXPECT_EQ(r.Json()["State"], "Enabled");
  r = LogsContaining("ProcessDynamoDBStream", "REMOVE key=song#1");
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("START RequestId: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"(INSERT key=song#1 SequenceNumber=)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"(NewImage={"title":"Call Me Today"})"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"(MODIFY key=song#1)"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find(R"(OldImage={"title":"Call Me Today"} NewImage={"title":"Call Me Tomorrow"})"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(R"(REMOVE key=song#1)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("END RequestId: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("REPORT RequestId: "), std::string::npos) << r.out;
  // One batch of three when the host starts after the writes; a live host
  // may deliver them as they come.
  if (!hosted()) {
    EXPECT_NE(r.out.find("Records: 3"), std::string::npos) << r.out;
  }
  // Running again does not deliver them again (the checkpoint held).
  RunMappingsUntilIdle();
  r = R({"logs", "--function-name", "ProcessDynamoDBStream"});
  size_t inserts = 0;
  for (size_t p = 0; (p = r.out.find("INSERT key=song#1", p)) != std::string::npos; ++p) ++inserts;
  EXPECT_EQ(inserts, 1u) << r.out;
}

// --- Every command's happy path.

TEST_P(CliTest, TablesAndItems) {
  MakeTable("Music");
  Result r = R({"create-table", "--table-name", "Plain"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_FALSE(r.Json()["TableDescription"].contains("StreamSpecification"));
  r = R({"list-tables"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["TableNames"], json({"Music", "Plain"}));
  r = R({"describe-table", "--table-name", "Music"});
  ASSERT_EQ(r.exit, 0) << r;
  json t = r.Json()["Table"];
  EXPECT_EQ(t["TableStatus"], "ACTIVE");
  EXPECT_EQ(t["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
  const std::string first_arn = t["LatestStreamArn"];

  // Three value forms, and binary keys.
  ASSERT_EQ(R({"put-item", "--table-name", "Music", "--key", "a", "--value", "{\"n\":1}"}).exit, 0);
  const std::string file = tmp_.Sub("value.bin");
  { std::ofstream(file, std::ios::binary) << std::string("\x00\x01\xff", 3); }
  ASSERT_EQ(R({"put-item", "--table-name", "Music", "--key", "b", "--value-file", file}).exit, 0);
  ASSERT_EQ(
      R({"put-item", "--table-name", "Music", "--key-base64", "/w==", "--value-base64", "aGk="})
          .exit,
      0);
  ASSERT_EQ(
      R({"put-item", "--table-name", "Music", "--key", "c", "--value-file", "-"}, "stdin!").exit,
      0);
  r = R({"get-item", "--table-name", "Music", "--key", "a"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Item"]["n"]["N"], "1");
  EXPECT_EQ(r.Json()["Item"]["key"]["S"], "a");
  r = R({"get-item", "--table-name", "Music", "--key", "b", "--value-file", "-"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, std::string("\x00\x01\xff", 3));
  r = R({"get-item", "--table-name", "Music", "--key-base64", "/w=="});
  EXPECT_EQ(r.Json()["Item"]["key"]["B"], "/w==");
  EXPECT_EQ(r.Json()["Item"]["value"]["S"], "hi");
  r = R({"get-item", "--table-name", "Music", "--key", "c"});
  EXPECT_EQ(r.Json()["Item"]["value"]["S"], "stdin!");
  r = R({"get-item", "--table-name", "Music", "--key", "missing"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json(), json::object());

  // Scan: prefix, pages with NextToken.
  r = R({"scan", "--table-name", "Music"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Count"], 4);
  r = R({"scan", "--table-name", "Music", "--prefix", "a"});
  EXPECT_EQ(r.Json()["Count"], 1);
  std::vector<std::string> keys;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    std::vector<std::string> args = {"scan", "--table-name", "Music", "--max-items", "3"};
    if (!token.empty()) args.insert(args.end(), {"--starting-token", token});
    r = R(args);
    ASSERT_EQ(r.exit, 0) << r;
    const json page_json = r.Json();
    for (const auto& item : page_json["Items"]) {
      keys.push_back(item["key"].contains("S") ? item["key"]["S"].get<std::string>() : "<bin>");
    }
    if (!page_json.contains("NextToken")) break;
    token = page_json["NextToken"];
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c", "<bin>"}));

  // batch-write-item: one atomic batch across tables.
  const std::string lines =
      R"({"PutRequest":{"TableName":"Plain","Key":"x","Value":{"deep":[1,2]}}})"
      "\n"
      R"({"PutRequest":{"TableName":"Plain","KeyBase64":"AAE=","ValueBase64":"AAE="}})"
      "\n"
      R"({"DeleteRequest":{"TableName":"Music","Key":"a"}})"
      "\n";
  r = R({"batch-write-item", "--file", "-"}, lines);
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["RecordCount"], 3);
  r = R({"get-item", "--table-name", "Plain", "--key", "x", "--value-file", "-"});
  EXPECT_EQ(r.out, R"({"deep":[1,2]})");
  EXPECT_EQ(R({"get-item", "--table-name", "Music", "--key", "a"}).Json(), json::object());

  ASSERT_EQ(R({"delete-item", "--table-name", "Music", "--key", "b"}).exit, 0);
  EXPECT_EQ(R({"describe-table", "--table-name", "Music"}).Json()["Table"]["ItemCount"], 2);

  // update-table: disable, then enable with another view type (a new stream).
  r = R({"update-table", "--table-name", "Music", "--stream-specification", "StreamEnabled=false"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["TableDescription"]["StreamSpecification"]["StreamEnabled"], false);
  r = R({"update-table", "--table-name", "Music", "--stream-specification",
         R"({"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"})"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.Json()["TableDescription"]["LatestStreamArn"], first_arn);

  r = R({"delete-table", "--table-name", "Plain"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["TableDescription"]["TableStatus"], "DELETING");
  EXPECT_EQ(R({"list-tables"}).Json()["TableNames"], json({"Music"}));
}

TEST_P(CliTest, Streams) {
  const std::string arn = MakeTable("Music");
  ASSERT_EQ(R({"put-item", "--table-name", "Music", "--key", "k1", "--value", "v1"}).exit, 0);
  ASSERT_EQ(R({"put-item", "--table-name", "Music", "--key", "k1", "--value", "v2"}).exit, 0);
  ASSERT_EQ(R({"delete-item", "--table-name", "Music", "--key", "k1"}).exit, 0);

  Result r = R({"list-streams"});
  ASSERT_EQ(r.exit, 0) << r;
  ASSERT_EQ(r.Json()["Streams"].size(), 1u);
  EXPECT_EQ(r.Json()["Streams"][0]["StreamArn"], arn);
  r = R({"describe-stream", "--stream-arn", arn});
  ASSERT_EQ(r.exit, 0) << r;
  json d = r.Json()["StreamDescription"];
  EXPECT_EQ(d["StreamStatus"], "ENABLED");
  EXPECT_EQ(d["TableName"], "Music");
  const std::string shard = d["Shards"][0]["ShardId"];

  r = R({"get-shard-iterator", "--stream-arn", arn, "--shard-id", shard, "--shard-iterator-type",
         "TRIM_HORIZON"});
  ASSERT_EQ(r.exit, 0) << r;
  const std::string it = r.Json()["ShardIterator"];
  r = R({"get-records", "--shard-iterator", it, "--limit", "2"});
  ASSERT_EQ(r.exit, 0) << r;
  json recs = r.Json()["Records"];
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["eventName"], "INSERT");
  EXPECT_EQ(recs[1]["eventName"], "MODIFY");
  EXPECT_EQ(recs[1]["dynamodb"]["OldImage"]["value"]["S"], "v1");
  EXPECT_EQ(recs[1]["dynamodb"]["NewImage"]["value"]["S"], "v2");
  EXPECT_EQ(recs[0]["eventSourceARN"], arn);
  r = R({"get-records", "--shard-iterator", r.Json()["NextShardIterator"]});
  ASSERT_EQ(r.Json()["Records"].size(), 1u);
  EXPECT_EQ(r.Json()["Records"][0]["eventName"], "REMOVE");
  const std::string seq2 = recs[1]["dynamodb"]["SequenceNumber"];

  r = R({"get-shard-iterator", "--stream-arn", arn, "--shard-iterator-type",
         "AFTER_SEQUENCE_NUMBER", "--sequence-number", seq2});
  ASSERT_EQ(r.exit, 0) << r;
  r = R({"get-records", "--shard-iterator", r.Json()["ShardIterator"]});
  EXPECT_EQ(r.Json()["Records"][0]["eventName"], "REMOVE");
  r = R({"get-shard-iterator", "--stream-arn", arn, "--shard-iterator-type", "AT_SEQUENCE_NUMBER",
         "--sequence-number", seq2});
  r = R({"get-records", "--shard-iterator", r.Json()["ShardIterator"]});
  EXPECT_EQ(r.Json()["Records"][0]["eventName"], "MODIFY");
  r = R({"get-shard-iterator", "--stream-arn", arn, "--shard-iterator-type", "LATEST"});
  r = R({"get-records", "--shard-iterator", r.Json()["ShardIterator"]});
  EXPECT_TRUE(r.Json()["Records"].empty());
  r = R({"get-shard-iterator", "--stream-arn", arn, "--shard-iterator-type", "AT_TIMESTAMP",
         "--timestamp", "1h"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(
      R({"get-records", "--shard-iterator", r.Json()["ShardIterator"]}).Json()["Records"].size(),
      3u);

  // tail: the records so far, then one written while it follows.
  r = R({"tail", "--table-name", "Music", "--from", "TRIM_HORIZON", "--max-records", "3"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    Runnel({"--db", db(), "put-item", "--table-name", "Music", "--key", "live", "--value", "x"});
  });
  // From TRIM_HORIZON, so that the test does not depend on tail starting
  // before the write: the fourth record arrives while it follows.
  r = R({"tail", "--table-name", "Music", "--from", "TRIM_HORIZON", "--max-records", "4"});
  writer.join();
  ASSERT_EQ(r.exit, 0) << r;
  const std::string last_line = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
  EXPECT_EQ(json::parse(last_line)["dynamodb"]["Keys"]["key"]["S"], "live");
}

// --isolation process: echoed as RunnelIsolation by every function command,
// and the tool finds runnel-worker beside itself to run the plugin.
TEST_P(CliTest, IsolatedFunctionIsEchoedAndRunsInAWorker) {
  MakeTable("Music");
  Result r = R({"create-function", "--function-name", "iso", "--library", FAIL_ON_KEY,
                "--environment", "Variables={FAIL_KEY=bad}", "--isolation", "process"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["RunnelIsolation"], "process");
  r = R({"get-function", "--function-name", "iso"});
  EXPECT_EQ(r.Json()["Configuration"]["RunnelIsolation"], "process") << r;
  const std::string event =
      R"({"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{"key":{"S":"bad"}},)"
      R"("NewImage":{"key":{"S":"bad"}},"SequenceNumber":"1"}}]})";
  const std::string outfile = tmp_.Sub("response.json");
  r = R({"invoke", "--function-name", "iso", "--payload", event, outfile});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["FunctionError"], "Unhandled");  // the worker ran the handler
  r = R({"update-function-configuration", "--function-name", "iso", "--isolation", "sandbox"});
  EXPECT_EQ(r.exit, 2) << r;
  EXPECT_NE(r.err.find("--isolation: expected none or process, got 'sandbox'"), std::string::npos)
      << r;
  r = R({"list-functions"});
  EXPECT_EQ(r.Json()["Functions"][0]["RunnelIsolation"], "process") << r;
  r = R({"update-function-configuration", "--function-name", "iso", "--isolation", "none"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["RunnelIsolation"], "none");
}

TEST_P(CliTest, FunctionsMappingsAndInvoke) {
  const std::string arn = MakeTable("Music");
  Result r = R({"create-function", "--function-name", "fail", "--library", FAIL_ON_KEY,
                "--environment", "Variables={FAIL_KEY=bad,REPORT_ITEMS=1}", "--timeout", "10",
                "--description", "fails on bad"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Environment"]["Variables"]["FAIL_KEY"], "bad");
  EXPECT_EQ(r.Json()["Timeout"], 10);
  r = R({"get-function", "--function-name", "fail"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Configuration"]["Description"], "fails on bad");
  r = R({"list-functions"});
  EXPECT_EQ(r.Json()["Functions"].size(), 1u);
  r = R({"update-function", "--function-name", "fail", "--timeout", "20"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Timeout"], 20);
  EXPECT_EQ(r.Json()["Environment"]["Variables"]["FAIL_KEY"], "bad");  // unset flags stay
  r = R({"update-function-configuration", "--function-name", "fail", "--environment",
         R"({"Variables":{"FAIL_KEY":"worse"}})"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Environment"]["Variables"]["FAIL_KEY"], "worse");

  // invoke: a payload in the cloud's shape; the response file.
  const std::string event =
      R"({"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{"key":{"S":"ok"}},)"
      R"("NewImage":{"key":{"S":"ok"},"value":{"S":"1"}},"SequenceNumber":"1"}}]})";
  const std::string outfile = tmp_.Sub("response.json");
  r = R({"invoke", "--function-name", "fail", "--payload", event, outfile});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["StatusCode"], 200);
  EXPECT_FALSE(r.Json().contains("FunctionError"));
  EXPECT_EQ(ReadFile(outfile), "null\n");
  std::string failing = event;
  failing.replace(failing.find("\"ok\""), 4, "\"worse\"");
  { std::ofstream(tmp_.Sub("event.json")) << failing; }
  r = R({"invoke", "--function-name", "fail", "--payload", "file://" + tmp_.Sub("event.json"),
         outfile});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["FunctionError"], "Unhandled");
  // The environment was replaced whole (REPORT_ITEMS is gone), as in the
  // cloud: the handler fails the batch instead of reporting the item.
  EXPECT_NE(ReadFile(outfile).find("errorMessage"), std::string::npos) << ReadFile(outfile);

  // Mappings: every setting, echoed back; update; delete.
  r = R({"create-event-source-mapping",
         "--function-name",
         "fail",
         "--event-source-arn",
         "Music",
         "--batch-size",
         "10",
         "--starting-position",
         "LATEST",
         "--maximum-batching-window-in-seconds",
         "1",
         "--maximum-retry-attempts",
         "2",
         "--maximum-record-age-in-seconds",
         "60",
         "--bisect-batch-on-function-error",
         "--destination-config",
         "OnFailure={Destination=Music}",
         "--function-response-types",
         "ReportBatchItemFailures",
         "--no-enabled"});
  ASSERT_EQ(r.exit, 0) << r;
  json m = r.Json();
  const std::string uuid = m["UUID"];
  EXPECT_EQ(m["EventSourceArn"], arn);
  EXPECT_EQ(m["StartingPosition"], "LATEST");
  EXPECT_EQ(m["BatchSize"], 10);
  EXPECT_EQ(m["MaximumBatchingWindowInSeconds"], 1);
  EXPECT_EQ(m["MaximumRetryAttempts"], 2);
  EXPECT_EQ(m["MaximumRecordAgeInSeconds"], 60);
  EXPECT_EQ(m["BisectBatchOnFunctionError"], true);
  EXPECT_EQ(m["DestinationConfig"]["OnFailure"]["Destination"], "Music");
  EXPECT_EQ(m["FunctionResponseTypes"], json({"ReportBatchItemFailures"}));
  r = R({"get-event-source-mapping", "--uuid", uuid});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["State"], "Disabled");
  r = R({"update-event-source-mapping", "--uuid", uuid, "--batch-size", "50", "--enabled"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["BatchSize"], 50);
  EXPECT_EQ(r.Json()["MaximumRetryAttempts"], 2);  // unset flags stay
  r = R({"get-event-source-mapping", "--uuid", uuid});
  EXPECT_EQ(r.Json()["State"], "Enabled");
  r = R({"list-event-source-mappings", "--event-source-arn", arn});
  EXPECT_EQ(r.Json()["EventSourceMappings"].size(), 1u);
  r = R({"list-event-source-mappings", "--function-name", "other"});
  EXPECT_TRUE(r.Json()["EventSourceMappings"].empty());

  // The function is in use: plain delete refused, --force takes the mapping.
  r = R({"delete-function", "--function-name", "fail"});
  EXPECT_EQ(r.exit, 1) << r;
  r = R({"delete-event-source-mapping", "--uuid", uuid});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["State"], "Deleting");
  EXPECT_TRUE(R({"list-event-source-mappings"}).Json()["EventSourceMappings"].empty());
  ASSERT_EQ(R({"delete-function", "--function-name", "fail"}).exit, 0);
  EXPECT_TRUE(R({"list-functions"}).Json()["Functions"].empty());

  // The invocations were logged.
  r = LogsContaining("fail", "REPORT RequestId");
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("REPORT RequestId"), std::string::npos) << r.out;
}

TEST_P(CliTest, InspectLogRecordAndStats) {
  MakeTable("Music");
  MakeMapping("proc", PROCESS_STREAM, "Music");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(
        R({"put-item", "--table-name", "Music", "--key", Numbered("k", i), "--value", "v"}).exit,
        0);
  }
  Result r = R({"inspect", "log", "--verify"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = r.Json();
  EXPECT_EQ(j["Tables"]["Music"]["Records"], 5);
  EXPECT_TRUE(j["Problems"].empty());
  EXPECT_GE(j["Totals"]["Segments"], 1);

  r = R({"get-shard-iterator", "--stream-arn",
         R({"describe-table", "--table-name", "Music"}).Json()["Table"]["LatestStreamArn"],
         "--shard-iterator-type", "TRIM_HORIZON"});
  r = R({"get-records", "--shard-iterator", r.Json()["ShardIterator"]});
  const std::string seq = r.Json()["Records"][2]["dynamodb"]["SequenceNumber"];
  r = R({"inspect", "record", seq});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["TableName"], "Music");
  EXPECT_EQ(r.Json()["Key"], "k2");
  EXPECT_EQ(r.Json()["eventName"], "INSERT");
  r = R({"inspect", "record", "999999"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_TRUE(r.OneErrorLine()) << r;

  r = R({"inspect", "stats"});
  ASSERT_EQ(r.exit, 0) << r;
  j = r.Json();
  EXPECT_EQ(j["Tables"][0]["ItemCount"], 5);
  ASSERT_EQ(j["EventSourceMappings"].size(), 1u);
  if (!hosted()) {
    EXPECT_EQ(j["EventSourceMappings"][0]["RecordsBehind"], 5);
  }
  EXPECT_EQ(j["Hosted"], hosted());
  RunMappingsUntilIdle();
  r = R({"inspect", "stats"});
  EXPECT_EQ(r.Json()["EventSourceMappings"][0]["RecordsBehind"], 0);
  EXPECT_EQ(r.Json()["EventSourceMappings"][0]["LastProcessingResult"], "OK");
}

TEST_P(CliTest, MappingFilterCriteria) {
  MakeTable("Music");
  ASSERT_EQ(R({"create-function", "--function-name", "proc", "--library", PROCESS_STREAM}).exit, 0);
  // The cloud CLI's JSON form: only REMOVE records are delivered.
  const std::string removes = R"({"eventName":["REMOVE"]})";
  Result r = R({"create-event-source-mapping", "--function-name", "proc", "--event-source", "Music",
                "--starting-position", "TRIM_HORIZON", "--filter-criteria",
                json{{"Filters", {{{"Pattern", removes}}}}}.dump()});
  ASSERT_EQ(r.exit, 0) << r;
  const std::string uuid = r.Json()["UUID"];
  EXPECT_EQ(r.Json()["FilterCriteria"], (json{{"Filters", {{{"Pattern", removes}}}}}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(
        R({"put-item", "--table-name", "Music", "--key", Numbered("k", i), "--value", "v"}).exit,
        0);
  }
  ASSERT_EQ(R({"delete-item", "--table-name", "Music", "--key", "k1"}).exit, 0);
  RunMappingsUntilIdle();
  r = LogsContaining("proc", "REMOVE key=k1");
  EXPECT_NE(r.out.find("REMOVE key=k1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("INSERT"), std::string::npos) << r.out;
  // The filtered-out records are counted beside the cloud's fields (by the
  // process that ran the mapping: the host, when there is one).
  r = R({"get-event-source-mapping", "--uuid", uuid});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["FilterCriteria"]["Filters"][0]["Pattern"], removes);
  EXPECT_EQ(r.Json()["RunnelMetrics"]["RecordsFilteredOut"], hosted() ? 3 : 0);
  EXPECT_EQ(R({"inspect", "stats"}).Json()["EventSourceMappings"][0]["RecordsFilteredOut"],
            hosted() ? 3 : 0);

  // The shorthand, with a bare and a quoted pattern: update replaces them.
  r = R(
      {"update-event-source-mapping", "--uuid", uuid, "--filter-criteria",
       R"(Filters=[{Pattern={"eventName":["INSERT"]}},{Pattern='{"dynamodb":{"Keys":{"key":{"S":[{"prefix":"k"}]}}}}'}])"});
  ASSERT_EQ(r.exit, 0) << r;
  ASSERT_EQ(r.Json()["FilterCriteria"]["Filters"].size(), 2u) << r;
  EXPECT_EQ(r.Json()["FilterCriteria"]["Filters"][0]["Pattern"], R"({"eventName":["INSERT"]})");
  EXPECT_EQ(r.Json()["FilterCriteria"]["Filters"][1]["Pattern"],
            R"({"dynamodb":{"Keys":{"key":{"S":[{"prefix":"k"}]}}}})");
  // An invalid pattern: one error line naming the key, nothing changes.
  r = R({"update-event-source-mapping", "--uuid", uuid, "--filter-criteria",
         R"({"Filters":[{"Pattern":"{\"eventName\":\"INSERT\"}"}]})"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_TRUE(r.OneErrorLine()) << r;
  EXPECT_NE(r.err.find("FilterCriteria.Filters[0].Pattern: key eventName: expected a list"),
            std::string::npos)
      << r;
  r = R({"update-event-source-mapping", "--uuid", uuid, "--filter-criteria", "Filters=[{Pat=x}]"});
  EXPECT_EQ(r.exit, 2) << r;
  EXPECT_NE(r.err.find("--filter-criteria: expected"), std::string::npos) << r;
  r = R({"get-event-source-mapping", "--uuid", uuid});
  EXPECT_EQ(r.Json()["FilterCriteria"]["Filters"].size(), 2u) << r;
  // {"Filters":[]} clears them: the cloud then omits FilterCriteria.
  r = R({"update-event-source-mapping", "--uuid", uuid, "--filter-criteria", R"({"Filters":[]})"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_FALSE(r.Json().contains("FilterCriteria")) << r;
  r = R({"get-event-source-mapping", "--uuid", uuid});
  EXPECT_FALSE(r.Json().contains("FilterCriteria")) << r;
}

TEST_P(CliTest, MappingParallelizationFactor) {
  MakeTable("Music");
  ASSERT_EQ(R({"create-function", "--function-name", "proc", "--library", PROCESS_STREAM}).exit, 0);
  Result r = R({"create-event-source-mapping", "--function-name", "proc", "--event-source", "Music",
                "--starting-position", "TRIM_HORIZON", "--parallelization-factor", "4"});
  ASSERT_EQ(r.exit, 0) << r;
  const std::string uuid = r.Json()["UUID"];
  EXPECT_EQ(r.Json()["ParallelizationFactor"], 4);
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(
        R({"put-item", "--table-name", "Music", "--key", Numbered("k", i), "--value", "v"}).exit,
        0);
  }
  RunMappingsUntilIdle();
  r = LogsContaining("proc", "INSERT key=k7");
  EXPECT_NE(r.out.find("INSERT key=k7"), std::string::npos) << r.out;
  r = R({"get-event-source-mapping", "--uuid", uuid});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["ParallelizationFactor"], 4);
  EXPECT_EQ(r.Json()["RunnelMetrics"]["ConcurrentLanes"], 0);
  r = R({"update-event-source-mapping", "--uuid", uuid, "--parallelization-factor", "10"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["ParallelizationFactor"], 10);
  // Out of range: one error line naming the parameter; nothing changes.
  for (const char* bad : {"0", "11", "-1"}) {
    r = R({"update-event-source-mapping", "--uuid", uuid, "--parallelization-factor", bad});
    EXPECT_EQ(r.exit, 1) << r;
    EXPECT_TRUE(r.OneErrorLine()) << r;
    EXPECT_NE(r.err.find("parallelization"), std::string::npos) << r;
    EXPECT_NE(r.err.find("1 to 10"), std::string::npos) << r;
  }
  r = R({"create-event-source-mapping", "--function-name", "proc", "--event-source", "Music",
         "--starting-position", "LATEST", "--parallelization-factor", "11"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_NE(r.err.find("parallelization factor: must be 1 to 10, got 11"), std::string::npos) << r;
  r = R({"get-event-source-mapping", "--uuid", uuid});
  EXPECT_EQ(r.Json()["ParallelizationFactor"], 10);
}

// StartingPosition SNAPSHOT (a runnel extension): the table's items first,
// marked as snapshot records, then the stream; echoed as given.
TEST_P(CliTest, MappingStartingPositionSnapshot) {
  MakeTable("Music");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(
        R({"put-item", "--table-name", "Music", "--key", Numbered("k", i), "--value", "old"}).exit,
        0);
  }
  ASSERT_EQ(R({"create-function", "--function-name", "proc", "--library", PROCESS_STREAM}).exit, 0);
  Result r = R({"create-event-source-mapping", "--function-name", "proc", "--event-source", "Music",
                "--batch-size", "2", "--starting-position", "SNAPSHOT"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["StartingPosition"], "SNAPSHOT");
  const std::string uuid = r.Json()["UUID"];
  RunMappingsUntilIdle();
  r = LogsContaining("proc", "INSERT key=" + Numbered("k", 2));
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(r.out.find("INSERT key=" + Numbered("k", i)), std::string::npos) << r.out;
  }
  r = R({"get-event-source-mapping", "--uuid", uuid});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["StartingPosition"], "SNAPSHOT");
  // Durable with the checkpoint: the same with or without a host.
  EXPECT_EQ(r.Json()["RunnelMetrics"]["SnapshotRecords"], 3) << r;
  EXPECT_EQ(r.Json()["RunnelMetrics"]["SnapshotDone"], true) << r;
  // A bad name: one error line listing the values, nothing created.
  r = R({"create-event-source-mapping", "--function-name", "proc", "--event-source", "Music",
         "--starting-position", "SNAP"});
  EXPECT_EQ(r.exit, 2) << r;
  EXPECT_NE(r.err.find("AT_SEQUENCE_NUMBER or SNAPSHOT, got 'SNAP'"), std::string::npos) << r;
  r = R({"list-event-source-mappings"});
  EXPECT_EQ(r.Json()["EventSourceMappings"].size(), 1u) << r;
}

TEST_F(CliBase, InspectLogVerifyFindsAFlippedByte) {
  MakeTable("Music");
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(R({"put-item", "--table-name", "Music", "--key", "key" + std::to_string(i), "--value",
                 std::string(100, 'a' + i % 26)})
                  .exit,
              0);
  }
  ASSERT_EQ(R({"inspect", "log", "--verify"}).exit, 0);
  const std::vector<std::string> segs = ListDir(db() + "/wal");
  ASSERT_EQ(segs.size(), 1u);
  const std::string seg = db() + "/wal/" + segs[0];
  const std::string bytes = ReadFile(seg);
  // A byte in the middle of the file: inside an early frame, far from the
  // tail (a damaged tail would be a torn write, not corruption).
  const uint64_t at = bytes.size() / 3;
  WriteAt(seg, at, std::string(1, static_cast<char>(bytes[at] ^ 0x40)));
  Result r = R({"inspect", "log", "--verify"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_TRUE(r.OneErrorLine()) << r;
  EXPECT_NE(r.err.find("Corruption"), std::string::npos) << r;
  EXPECT_NE(r.err.find(segs[0]), std::string::npos) << r;
  EXPECT_FALSE(r.Json()["Problems"].empty());
  // Inspecting wrote nothing.
  EXPECT_EQ(ReadFile(seg).size(), bytes.size());
}

// --- A live DB from a second shell.

TEST_F(CliBase, CommandsReachALiveHostThroughTheSocket) {
  const std::string arn = MakeTable("Music");
  MakeMapping("proc", PROCESS_STREAM, arn);
  Host host(db(), tmp_.Sub("host.err"));
  struct stat st;
  ASSERT_EQ(::stat((db() + "/runnel.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Writes through the host; the host's runtime delivers them.
  ASSERT_EQ(R({"put-item", "--table-name", "Music", "--key", "live", "--value", "v1"}).exit, 0);
  Result r = R({"get-item", "--table-name", "Music", "--key", "live"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Item"]["value"]["S"], "v1");
  // Relative paths are the caller's, not the host's.
  { std::ofstream(tmp_.Sub("rel.txt")) << "from a file"; }
  r = Runnel(
      {"--db", "db", "put-item", "--table-name", "Music", "--key", "f", "--value-file", "rel.txt"},
      "", tmp_.path());
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(R({"get-item", "--table-name", "Music", "--key", "f"}).Json()["Item"]["value"]["S"],
            "from a file");
  r = LogsContaining("proc", "INSERT key=live");
  EXPECT_NE(r.out.find("INSERT key=live"), std::string::npos) << r;
  // `logs --follow` prints lines logged after it started.
  Result followed;
  std::thread follower([&] {
    followed = R({"logs", "--function-name", "proc", "--since", "1s", "--follow-for", "6"});
  });
  // Pacing, not a wait: the put most likely lands while the follower
  // follows; should it start late, --since 1s still shows the line.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(R({"put-item", "--table-name", "Music", "--key", "followed", "--value", "v"}).exit, 0);
  follower.join();
  EXPECT_EQ(followed.exit, 0) << followed;
  EXPECT_NE(followed.out.find("INSERT key=followed"), std::string::npos) << followed;
  r = R({"inspect", "stats"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Hosted"], true);
  // Errors come back as from a direct command.
  r = R({"describe-table", "--table-name", "Nope"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_TRUE(r.OneErrorLine()) << r;
  EXPECT_NE(r.err.find("ResourceNotFoundException"), std::string::npos) << r;
  r = R({"put-item", "--table-name", "Music", "--key", "x"});
  EXPECT_EQ(r.exit, 2) << r;
  // A second host is refused.
  r = R({"run"});
  EXPECT_EQ(r.exit, 1) << r;
  // Read-only commands read the files while the host runs.
  r = R({"inspect", "log", "--verify"});
  EXPECT_EQ(r.exit, 0) << r;
  r = R({"tail", "--table-name", "Music", "--from", "TRIM_HORIZON", "--max-records", "2"});
  EXPECT_EQ(r.exit, 0) << r;

  // A clean stop: exit 0, socket gone, the DB opens directly again.
  EXPECT_EQ(host.Stop(), 0);
  EXPECT_NE(::stat((db() + "/runnel.sock").c_str(), &st), 0);
  r = R({"get-item", "--table-name", "Music", "--key", "live"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Item"]["value"]["S"], "v1");
}

TEST_F(CliBase, HostRefusesAnotherUid) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another uid";
  MakeTable("Music");
  Host host(db(), tmp_.Sub("host.err"));
  const std::string sock = db() + "/runnel.sock";
  // The socket is owner-only; open it up so the peer-uid check is what
  // stands in the way.
  ASSERT_EQ(::chmod(sock.c_str(), 0666), 0);
  ASSERT_EQ(::chmod(db().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
  pid_t child = ::fork();
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(10);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) _exit(11);
    // The host must close the connection without a word (not leave it
    // open: a read that times out is a failure too).
    timeval tv = {10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[16];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) _exit(13);
    _exit(n <= 0 ? 0 : 12);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10/11: setup failed, 12: the host answered, 13: the host kept the connection open";
  EXPECT_EQ(host.Stop(), 0);
  EXPECT_NE(ReadFile(tmp_.Sub("host.err")).find("refused a connection from uid 65534"),
            std::string::npos);
}

// Raw bytes on the socket: what a buggy or hostile peer of the same uid
// might send. The host drops such a connection without allocating what the
// bytes claim, and goes on serving.
TEST_F(CliBase, HostDropsOversizedAndMalformedMessages) {
  MakeTable("Music");
  Host host(db(), tmp_.Sub("host.err"));
  const std::string sock = db() + "/runnel.sock";
  // Sends `bytes` on a new connection, then reads until the host closes it;
  // returns what the host answered. The host drops a message it refuses
  // without reading the rest of it, so a send cut short (a short count, then
  // EPIPE or ECONNRESET) is an expected outcome: how much the kernel took
  // before the close depends on timing and buffer sizes, not on the host.
  auto send_and_wait_for_close = [&](const std::string& bytes) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    // A host that never closes fails the test instead of hanging it.
    const timeval limit = {10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        EXPECT_TRUE(errno == EPIPE || errno == ECONNRESET) << std::strerror(errno);
        break;
      }
      sent += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    char buf[4096];
    ssize_t n;
    std::string got;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) got.append(buf, n);
    // The end: EOF, or a reset because the host closed with our bytes unread.
    EXPECT_TRUE(n == 0 || errno == ECONNRESET)
        << "the host did not close: " << std::strerror(errno);
    ::close(fd);
    return got;
  };
  // After each bad message the host is still running and serves a command
  // on a new connection.
  auto still_serves = [&] {
    int status = 0;
    EXPECT_EQ(::waitpid(host.pid(), &status, WNOHANG), 0) << "the host exited";
    Result r = R({"list-tables"});
    EXPECT_EQ(r.exit, 0) << r;
    EXPECT_EQ(r.Json()["TableNames"], json({"Music"}));
  };
  // A segment table claiming 1 segment of 2^29 words (4 GiB).
  // The host's Abort message names the limit that refused it.
  std::string huge("\0\0\0\0\0\0\0\x20", 8);
  EXPECT_NE(send_and_wait_for_close(huge).find("traversalLimitInWords"), std::string::npos);
  still_serves();
  // A segment table claiming 2^31 segments.
  EXPECT_NE(
      send_and_wait_for_close(std::string("\xff\xff\xff\x7f\x01\0\0\0", 8)).find("segmentCount"),
      std::string::npos);
  still_serves();
  // Noise, more than the socket buffers hold: the host refuses it after its
  // first bytes and closes while the rest is still being sent.
  std::mt19937 rng(7);
  std::string noise(1 << 16, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  send_and_wait_for_close(noise);
  still_serves();
  // A plausible header, then the connection ends mid-message.
  send_and_wait_for_close(std::string("\0\0\0\0\x10\0\0\0\0\0\0\0", 12));

  // Still serving, and it never grew for what the bytes claimed.
  Result r = R({"list-tables"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["TableNames"], json({"Music"}));
  std::ifstream status("/proc/" + std::to_string(host.pid()) + "/status");
  std::string line;
  long peak_kb = -1;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) peak_kb = std::stol(line.substr(6));
  }
  EXPECT_GT(peak_kb, 0);
  EXPECT_LT(peak_kb, 512 * 1024) << "the host's peak RSS";
  EXPECT_EQ(host.Stop(), 0);
}

// A client hands its terminal only to a socket of its own uid: a socket
// someone else planted in the DB directory is refused, not used.
TEST_F(CliBase, ClientRefusesASocketOfAnotherUid) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another uid";
  MakeTable("Music");
  const std::string sock = db() + "/runnel.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::chown(sock.c_str(), 65534, 65534), 0);
  Result r = R({"put-item", "--table-name", "Music", "--key", "k", "--value", "v"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_TRUE(r.OneErrorLine()) << r;
  EXPECT_NE(r.err.find("refusing"), std::string::npos) << r;
  // Nothing was sent to the planted listener.
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  EXPECT_LT(::accept(fd, nullptr, nullptr), 0);
  ::close(fd);
  ::unlink(sock.c_str());
  EXPECT_EQ(R({"get-item", "--table-name", "Music", "--key", "k"}).Json(), json::object());
}

// --- Bad input: a clear error, a non-zero exit, nothing changed.

TEST_P(CliTest, BadInputChangesNothing) {
  const std::string arn = MakeTable("Music");
  const std::string uuid = MakeMapping("proc", PROCESS_STREAM, arn);
  ASSERT_EQ(R({"create-table", "--table-name", "Plain"}).exit, 0);
  ASSERT_EQ(R({"put-item", "--table-name", "Music", "--key", "k", "--value", "v"}).exit, 0);
  const std::string before = LogFingerprint();
  struct Case {
    std::vector<std::string> args;
    int exit;
    std::string mentions;
    std::string input = "";
  };
  const std::string bad_lines = tmp_.Sub("bad.jsonl");
  {
    std::ofstream(bad_lines) << R"({"PutRequest":{"TableName":"Music","Key":"ok","Value":"1"}})"
                             << "\n{not json\n";
  }
  const std::vector<Case> cases = {
      {{"describe-table", "--table-name", "Nope"}, 1, "Nope"},
      {{"put-item", "--table-name", "Nope", "--key", "k", "--value", "v"}, 1, "Nope"},
      {{"put-item", "--table-name", "Music", "--key", std::string(5000, 'k'), "--value", "v"},
       1,
       "key"},
      {{"put-item", "--table-name", "Music", "--key", "k"}, 2, "--value"},
      {{"put-item", "--table-name", "Music", "--key", "k", "--value", "a", "--value-base64",
        "YQ=="},
       2,
       "--value"},
      {{"put-item", "--table-name", "Music", "--key-base64", "!!!", "--value", "v"},
       2,
       "--key-base64"},
      {{"put-item", "--table-name", "Music", "--key", "k", "--value-file", "/nonexistent/x"},
       1,
       "--value-file"},
      {{"create-table", "--table-name", "Music"}, 1, "ResourceInUseException"},
      {{"create-table", "--table-name", "x"}, 1, "ValidationException"},
      {{"create-table", "--table-name", "T2", "--stream-specification", "StreamEnabled=maybe"},
       2,
       "--stream-specification"},
      {{"create-table", "--table-name", "T2", "--stream-specification",
        "StreamEnabled=true,StreamViewType=ALL"},
       2,
       "StreamViewType"},
      {{"update-table", "--table-name", "Music", "--stream-specification",
        "StreamEnabled=true,StreamViewType=NEW_IMAGE"},
       1,
       "ResourceInUseException"},
      {{"get-item", "--table-name", "Nope", "--key", "k"}, 1, "Nope"},
      {{"scan", "--table-name", "Music", "--starting-token", "%%%"}, 2, "--starting-token"},
      {{"scan", "--table-name", "Music", "--max-items", "-1"}, 2, "--max-items"},
      {{"batch-write-item", "--file", bad_lines}, 1, "line 2"},
      {{"batch-write-item", "--file", "-"},
       1,
       "line 1",
       R"({"PutRequest":{"TableName":"Nope"}})"
       "\n"},
      {{"get-shard-iterator", "--stream-arn", arn + "x", "--shard-iterator-type", "LATEST"},
       1,
       "ResourceNotFoundException"},
      {{"get-shard-iterator", "--stream-arn", arn, "--shard-iterator-type", "SOMEWHERE"},
       2,
       "--shard-iterator-type"},
      {{"get-shard-iterator", "--stream-arn", arn, "--shard-iterator-type", "AT_SEQUENCE_NUMBER"},
       2,
       "--sequence-number"},
      {{"get-shard-iterator", "--stream-arn", arn, "--shard-iterator-type", "AT_SEQUENCE_NUMBER",
        "--sequence-number", "x1"},
       2,
       "--sequence-number"},
      {{"get-records", "--shard-iterator", "not-an-iterator"}, 1, "ValidationException"},
      {{"get-records", "--shard-iterator", "x", "--limit", "5000"}, 2, "--limit"},
      {{"tail", "--table-name", "Nope"}, 1, "Nope"},
      {{"create-function", "--function-name", "f2", "--library", "/nonexistent/lib.so"},
       1,
       "/nonexistent/lib.so"},
      {{"create-function", "--function-name", "f2", "--library", PROCESS_STREAM, "--handler",
        "no_such_symbol"},
       1,
       "no_such_symbol"},
      {{"create-function", "--function-name", "f2", "--library", PROCESS_STREAM, "--timeout",
        "901"},
       1,
       "900"},
      {{"create-function", "--function-name", "f2", "--library", PROCESS_STREAM, "--environment",
        "Vars=x"},
       2,
       "--environment"},
      {{"create-function", "--function-name", "proc", "--library", PROCESS_STREAM},
       1,
       "ResourceInUseException"},
      {{"get-function", "--function-name", "nope"}, 1, "nope"},
      {{"invoke", "--function-name", "proc", "--payload", "{not json", tmp_.Sub("o.json")},
       2,
       "--payload"},
      {{"invoke", "--function-name", "nope", "--payload", "{}", tmp_.Sub("o.json")}, 1, "nope"},
      {{"create-event-source-mapping", "--function-name", "proc", "--event-source", arn,
        "--batch-size", "0", "--starting-position", "LATEST"},
       1,
       "--batch-size"},
      {{"create-event-source-mapping", "--function-name", "proc", "--event-source", arn,
        "--batch-size", "10001", "--starting-position", "LATEST"},
       1,
       "10000"},
      {{"create-event-source-mapping", "--function-name", "proc", "--event-source", arn,
        "--batch-size", "abc", "--starting-position", "LATEST"},
       2,
       "--batch-size"},
      {{"create-event-source-mapping", "--function-name", "proc", "--event-source", arn,
        "--starting-position", "BOGUS"},
       2,
       "--starting-position"},
      {{"create-event-source-mapping", "--function-name", "proc", "--event-source", "NoTable",
        "--starting-position", "LATEST"},
       1,
       "NoTable"},
      {{"create-event-source-mapping", "--function-name", "nope", "--event-source", arn,
        "--starting-position", "LATEST"},
       1,
       "nope"},
      {{"create-event-source-mapping", "--function-name", "proc", "--event-source", arn,
        "--starting-position", "LATEST", "--maximum-record-age-in-seconds", "5"},
       1,
       "60"},
      {{"create-event-source-mapping", "--function-name", "proc", "--event-source", arn,
        "--starting-position", "LATEST", "--maximum-retry-attempts", "4294967295"},
       1,
       "--maximum-retry-attempts"},
      {{"list-event-source-mappings", "--event-source", "Plain"}, 1, "Plain"},
      {{"create-event-source-mapping", "--function-name", "proc", "--event-source", arn,
        "--starting-position", "LATEST", "--function-response-types", "Everything"},
       2,
       "--function-response-types"},
      {{"create-event-source-mapping", "--function-name", "proc", "--event-source", arn},
       2,
       "--starting-position"},
      {{"get-event-source-mapping", "--uuid", "00000000-0000-0000-0000-000000000000"},
       1,
       "00000000-0000-0000-0000-000000000000"},
      {{"update-event-source-mapping", "--uuid", "nope", "--batch-size", "5"}, 1, "nope"},
      {{"update-event-source-mapping", "--uuid", uuid, "--batch-size", "0"}, 1, "--batch-size"},
      {{"delete-event-source-mapping", "--uuid", "nope"}, 1, "nope"},
      {{"logs", "--function-name", "never-ran"}, 1, "never-ran"},
      {{"logs", "--function-name", "proc", "--since", "yesterday"}, 2, "--since"},
      {{"inspect", "record", "abc"}, 2, "sequence-number"},
      {{"dump", "--format", "xml"}, 2, "--format"},
      {{"no-such-command"}, 2, "no-such-command"},
      {{"put-item", "--table-name", "Music", "--key", "k", "--value", "v", "--bogus"},
       2,
       "--bogus"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + (c.args.size() > 1 ? c.args[1] : ""));
    Result r = R(c.args, c.input);
    EXPECT_EQ(r.exit, c.exit) << r;
    EXPECT_TRUE(r.OneErrorLine()) << r;
    EXPECT_NE(r.err.find(c.mentions), std::string::npos)
        << "expected '" << c.mentions << "': " << r;
    EXPECT_TRUE(r.out.empty()) << r;
  }
  // (A host's runtime may write checkpoints meanwhile: the log is compared
  // only without one; the contents below are compared in both cases.)
  if (!hosted()) {
    EXPECT_EQ(LogFingerprint(), before) << "a failed command wrote to the log";
  }
  EXPECT_EQ(R({"scan", "--table-name", "Music"}).Json()["Count"], 1);
  EXPECT_EQ(R({"list-functions"}).Json()["Functions"].size(), 1u);
  EXPECT_EQ(R({"list-event-source-mappings"}).Json()["EventSourceMappings"].size(), 1u);
}

// The tool reports the version of the library it was built with.
TEST(CliVersion, VersionFlagPrintsTheLibraryVersion) {
  Result r = Runnel({"--version"});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "runnel " RUNNEL_VERSION_STRING "\n") << r;
  EXPECT_TRUE(r.err.empty()) << r;
  EXPECT_EQ(std::string(RUNNEL_VERSION_STRING), std::to_string(RUNNEL_VERSION_MAJOR) + "." +
                                                    std::to_string(RUNNEL_VERSION_MINOR) + "." +
                                                    std::to_string(RUNNEL_VERSION_PATCH));
}

// run --trigger-threads sizes the runtime's pool; a size out of range is
// refused before anything starts.
TEST_F(CliBase, RunChecksTriggerThreads) {
  ASSERT_EQ(Runnel({"--db", db(), "create-table", "--table-name", "Music"}).exit, 0);
  for (const char* bad : {"-1", "1025"}) {
    Result r = Runnel({"--db", db(), "run", "--until-idle", "--trigger-threads", bad});
    EXPECT_EQ(r.exit, 2) << r;
    EXPECT_NE(r.err.find("--trigger-threads: expected 0 (four per core) to 1024, got " +
                         std::string(bad)),
              std::string::npos)
        << r;
  }
  Result r = Runnel({"--db", db(), "run", "--until-idle", "--trigger-threads", "1"});
  EXPECT_EQ(r.exit, 0) << r;
}

TEST_F(CliBase, MissingDirectoryAndLockedDb) {
  // No DB there: an error, and nothing is created.
  const std::string nowhere = tmp_.Sub("nowhere");
  Result r = Runnel({"--db", nowhere, "list-tables"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_TRUE(r.OneErrorLine()) << r;
  EXPECT_NE(r.err.find("no DB at"), std::string::npos) << r;
  struct stat st;
  EXPECT_NE(::stat(nowhere.c_str(), &st), 0);
  r = Runnel({"--db", nowhere, "run", "--until-idle"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_NE(::stat(nowhere.c_str(), &st), 0);
  r = Runnel({"list-tables"});
  EXPECT_EQ(r.exit, 2) << r;
  EXPECT_NE(r.err.find("--db"), std::string::npos) << r;
  // A create that fails leaves no DB behind.
  r = Runnel({"--db", nowhere, "create-table", "--table-name", "ab"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_NE(::stat(nowhere.c_str(), &st), 0) << "a failed create-table left a DB";
  r = Runnel({"--db", nowhere, "create-function", "--function-name", "f", "--library",
              "/nonexistent/f.so"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_NE(::stat(nowhere.c_str(), &st), 0) << "a failed create-function left a DB";
  // The directory a create makes is owner-only.
  ASSERT_EQ(Runnel({"--db", nowhere, "create-table", "--table-name", "Music"}).exit, 0);
  ASSERT_EQ(::stat(nowhere.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // Another process (this test) has the DB open, and hosts no socket.
  MakeTable("Music");
  {
    std::unique_ptr<DB> open;
    Options o;
    ASSERT_OK(DB::Open(o, db(), &open));
    r = R({"put-item", "--table-name", "Music", "--key", "k", "--value", "v"});
    EXPECT_EQ(r.exit, 1) << r;
    EXPECT_TRUE(r.OneErrorLine()) << r;
    EXPECT_NE(r.err.find("locked by pid " + std::to_string(::getpid())), std::string::npos) << r;
    // Read-only commands still work.
    r = R({"list-streams"});
    EXPECT_EQ(r.exit, 0) << r;
    std::string v;
    EXPECT_TRUE(open->Get(ReadOptions(), "Music", "k", &v).IsNotFound());
  }
}

TEST_F(CliBase, RegionAndAccountIdAreFixedWhenTheDbIsCreated) {
  const std::string dir = tmp_.Sub("eu");
  Result r = Runnel({"--db", dir, "--region", "EU", "create-table", "--table-name", "Music"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_TRUE(r.OneErrorLine()) << r;
  EXPECT_NE(r.err.find("region 'EU'"), std::string::npos) << r;
  struct stat st;
  EXPECT_NE(::stat(dir.c_str(), &st), 0) << "a failed create-table left a DB";
  r = Runnel({"--db", dir, "--region", "eu-west-1", "--account-id", "123456789012", "create-table",
              "--table-name", "Music", "--stream-specification",
              "StreamEnabled=true,StreamViewType=NEW_IMAGE"});
  ASSERT_EQ(r.exit, 0) << r;
  const std::string prefix = "arn:aws:dynamodb:eu-west-1:123456789012:table/Music";
  EXPECT_EQ(r.Json()["TableDescription"]["TableArn"], prefix) << r;
  // Later commands need no flags: the DB keeps what it was created with.
  r = Runnel({"--db", dir, "describe-table", "--table-name", "Music"});
  ASSERT_EQ(r.exit, 0) << r;
  const std::string arn = r.Json()["Table"]["LatestStreamArn"];
  EXPECT_EQ(arn.substr(0, prefix.size() + 8), prefix + "/stream/") << r;
  // The same values are fine; others are refused, and nothing is written.
  r = Runnel({"--db", dir, "--region", "eu-west-1", "put-item", "--table-name", "Music", "--key",
              "k", "--value", "v"});
  EXPECT_EQ(r.exit, 0) << r;
  r = Runnel({"--db", dir, "--region", "us-east-1", "put-item", "--table-name", "Music", "--key",
              "k2", "--value", "v"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_TRUE(r.OneErrorLine()) << r;
  EXPECT_NE(r.err.find("the DB's region is eu-west-1, fixed when it was created"),
            std::string::npos)
      << r;
  r = Runnel({"--db", dir, "--account-id", "000000000000", "list-tables"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_NE(r.err.find("the DB's account id is 123456789012"), std::string::npos) << r;
  r = Runnel({"--db", dir, "get-item", "--table-name", "Music", "--key", "k2"});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out.find("k2"), std::string::npos) << r;
  // Records carry the region as awsRegion.
  r = Runnel({"--db", dir, "get-shard-iterator", "--stream-arn", arn, "--shard-iterator-type",
              "TRIM_HORIZON"});
  ASSERT_EQ(r.exit, 0) << r;
  r = Runnel({"--db", dir, "get-records", "--shard-iterator", r.Json()["ShardIterator"]});
  ASSERT_EQ(r.exit, 0) << r;
  ASSERT_EQ(r.Json()["Records"].size(), 1u) << r;
  EXPECT_EQ(r.Json()["Records"][0]["awsRegion"], "eu-west-1") << r;
  EXPECT_EQ(r.Json()["Records"][0]["eventSourceARN"], arn) << r;
  r = Runnel({"--db", dir, "inspect", "stats"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Region"], "eu-west-1") << r;
  EXPECT_EQ(r.Json()["AccountId"], "123456789012") << r;
}

// --- dump and load.

TEST_P(CliTest, DumpLoadRoundTripBothFormats) {
  MakeTable("Music");
  ASSERT_EQ(R({"create-table", "--table-name", "Other", "--stream-specification",
               "StreamEnabled=true,StreamViewType=KEYS_ONLY"})
                .exit,
            0);
  ASSERT_EQ(R({"create-table", "--table-name", "Plain"}).exit, 0);
  std::string lines;
  for (int i = 0; i < 2500; ++i) {
    lines += R"({"PutRequest":{"TableName":"Music","Key":"song#)" + std::to_string(i) +
             R"(","Value":{"n":)" + std::to_string(i) + "}}}\n";
  }
  lines += R"({"PutRequest":{"TableName":"Other","KeyBase64":"AP8=","ValueBase64":"gAD/"}})"
           "\n";
  lines += R"({"PutRequest":{"TableName":"Plain","Key":"empty","Value":""}})"
           "\n";
  ASSERT_EQ(R({"batch-write-item", "--file", "-"}, lines).exit, 0);

  for (const std::string format : {"jsonl", "capnp"}) {
    SCOPED_TRACE(format);
    const std::string file = tmp_.Sub("dump." + format);
    Result r = R({"dump", "--format", format, "--output", file});
    ASSERT_EQ(r.exit, 0) << r;
    const std::string target = tmp_.Sub("restored-" + format);
    r = Runnel({"--db", target, "load", "--input", file});
    ASSERT_EQ(r.exit, 0) << r;
    EXPECT_EQ(r.Json()["ItemCount"], 2502);
    for (const std::string table : {"Music", "Other", "Plain"}) {
      Result a = R({"scan", "--table-name", table});
      Result b = Runnel({"--db", target, "scan", "--table-name", table});
      ASSERT_EQ(b.exit, 0) << b;
      EXPECT_EQ(a.Json()["Items"], b.Json()["Items"]) << table;
      json da = R({"describe-table", "--table-name", table}).Json()["Table"];
      json dbb = Runnel({"--db", target, "describe-table", "--table-name", table}).Json()["Table"];
      EXPECT_EQ(da.value("StreamSpecification", json()), dbb.value("StreamSpecification", json()));
      EXPECT_EQ(da["ItemCount"], dbb["ItemCount"]);
      EXPECT_EQ(da["TableSizeBytes"], dbb["TableSizeBytes"]);
    }
    // Raw bytes survive exactly.
    Result v = Runnel({"--db", target, "get-item", "--table-name", "Other", "--key-base64",
                       "AP8=", "--value-file", "-"});
    EXPECT_EQ(v.out, std::string("\x80\x00\xff", 3));
    // A second load into the now non-empty DB is refused, nothing changed.
    r = Runnel({"--db", target, "load", "--input", file});
    EXPECT_EQ(r.exit, 1) << r;
    EXPECT_TRUE(r.OneErrorLine()) << r;
    EXPECT_NE(r.err.find("already has tables"), std::string::npos) << r;
    EXPECT_EQ(Runnel({"--db", target, "scan", "--table-name", "Music"}).Json()["Count"], 2500);
  }

  // A dump to stdout of one table, loaded from stdin.
  Result d = R({"dump", "--table-name", "Other"});
  ASSERT_EQ(d.exit, 0) << d;
  Result l = Runnel({"--db", tmp_.Sub("from-stdin"), "load"}, d.out);
  ASSERT_EQ(l.exit, 0) << l;
  EXPECT_EQ(l.Json()["Tables"], json({"Other"}));

  // A dump cut short is refused before anything is created.
  std::string cut = d.out.substr(0, d.out.rfind("{\"End\""));
  const std::string fresh = tmp_.Sub("cut");
  l = Runnel({"--db", fresh, "load"}, cut);
  EXPECT_EQ(l.exit, 1) << l;
  EXPECT_NE(l.err.find("cut short"), std::string::npos) << l;
  struct stat st;
  EXPECT_NE(::stat(fresh.c_str(), &st), 0) << "a refused load created the DB";
  l = Runnel({"--db", fresh, "load"}, "garbage");
  EXPECT_EQ(l.exit, 1) << l;
}

// A progress bar is drawn on a terminal, never into a pipe.
TEST_F(CliBase, ProgressBarOnlyOnATerminal) {
  MakeTable("Music");
  std::string lines;
  for (int i = 0; i < 20000; ++i) {
    lines += R"({"PutRequest":{"TableName":"Music","Key":"k)" + std::to_string(i) +
             R"(","Value":"v"}})"
             "\n";
  }
  ASSERT_EQ(R({"batch-write-item", "--file", "-"}, lines).exit, 0);
  const std::string out = tmp_.Sub("d.jsonl");
  Result piped = R({"dump", "--output", out});
  ASSERT_EQ(piped.exit, 0) << piped;
  EXPECT_EQ(piped.err.find('\r'), std::string::npos) << piped;

  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const std::string slave_name = ::ptsname(master);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, slave_name.c_str(), O_RDWR | O_NOCTTY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> s = {RUNNEL_BIN, "--db", db(), "dump", "--output", out};
  std::vector<char*> argv;
  for (auto& a : s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, RUNNEL_BIN, &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  std::string tty;
  char buf[4096];
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    if (std::chrono::steady_clock::now() > give_up) {
      ::kill(pid, SIGKILL);
      ADD_FAILURE() << "dump on a terminal did not finish";
    }
    pollfd p = {master, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) {
      int status;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        break;
      }
      continue;
    }
    const ssize_t n = ::read(master, buf, sizeof(buf));
    if (n <= 0) {
      int status;
      ::waitpid(pid, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      break;
    }
    tty.append(buf, n);
  }
  ::close(master);
  EXPECT_NE(tty.find("dump ["), std::string::npos) << tty;
  EXPECT_NE(tty.find("/20000 items"), std::string::npos) << "the bar's total" << tty;
}

// TumblingWindowInSeconds through the tool: refused out of range (the flag
// named, nothing created), echoed as the cloud does, changed by update.
// inspect record shows what a checkpoint holds: for a mapping with a
// tumbling window, the open window's start and the state the handler
// returned (durable with the position).
TEST_F(CliBase, InspectShowsAWindowsStateInItsCheckpoint) {
  MakeTable("src");
  MakeTable("totals");
  Result r = R({"create-function", "--function-name", "agg", "--library", WINDOW_FUNCTION,
                "--environment", "Variables={TARGET=totals}"});
  ASSERT_EQ(r.exit, 0) << r;
  r = R({"create-event-source-mapping", "--function-name", "agg", "--event-source", "src",
         "--starting-position", "TRIM_HORIZON", "--tumbling-window-in-seconds", "900"});
  ASSERT_EQ(r.exit, 0) << r;
  for (const char* k : {"a", "b", "c"}) {
    ASSERT_EQ(R({"put-item", "--table-name", "src", "--key", k, "--value", "v"}).exit, 0);
  }
  RunMappingsUntilIdle();
  json window;
  for (int seq = 1; seq < 40; ++seq) {
    r = R({"inspect", "record", std::to_string(seq)});
    if (r.exit == 0 && r.Json().contains("Checkpoint") &&
        r.Json()["Checkpoint"].contains("Window")) {
      window = r.Json()["Checkpoint"]["Window"];  // the last one wins
    }
  }
  ASSERT_FALSE(window.is_null()) << "no checkpoint with a window in the log";
  EXPECT_EQ(window["Open"], true) << window;
  EXPECT_EQ(window["State"]["count"], 3) << window;
  EXPECT_TRUE(window.contains("Start")) << window;
}

TEST_F(CliBase, TumblingWindowIsCheckedAndEchoed) {
  MakeTable("src");
  Result r = R({"create-function", "--function-name", "agg", "--library", PROCESS_STREAM});
  ASSERT_EQ(r.exit, 0) << r;
  const std::string before = LogFingerprint();
  for (const char* bad : {"901", "-1"}) {
    r = R({"create-event-source-mapping", "--function-name", "agg", "--event-source", "src",
           "--starting-position", "LATEST", "--tumbling-window-in-seconds", bad});
    EXPECT_NE(r.exit, 0) << r;
    EXPECT_TRUE(r.OneErrorLine()) << r;
    EXPECT_NE(r.err.find(std::string(bad) == "901"
                             ? "tumbling window: must be 0 to 900 seconds, got 901"
                             : "--tumbling-window-in-seconds must be 0 to 900, got -1"),
              std::string::npos)
        << r;
  }
  EXPECT_EQ(LogFingerprint(), before);
  r = R({"create-event-source-mapping", "--function-name", "agg", "--event-source", "src",
         "--starting-position", "LATEST", "--tumbling-window-in-seconds", "60"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["TumblingWindowInSeconds"], 60);
  const std::string uuid = r.Json().value("UUID", "");
  r = R({"update-event-source-mapping", "--uuid", uuid, "--tumbling-window-in-seconds", "900"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["TumblingWindowInSeconds"], 900);
  r = R({"update-event-source-mapping", "--uuid", uuid, "--tumbling-window-in-seconds", "1000"});
  EXPECT_NE(r.exit, 0) << r;
  r = R({"get-event-source-mapping", "--uuid", uuid});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["TumblingWindowInSeconds"], 900);
}

}  // namespace
}  // namespace runnel::test
