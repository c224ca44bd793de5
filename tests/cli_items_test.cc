// Copyright 2026 The runnel Authors.
//
// The `runnel` tool on typed tables, run as a user runs it: the real binary
// in a child process with the AWS CLI's flags, directly and through a live
// `runnel run` host (the same command lines).

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runnel/db.h"
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
  bool OneErrorLine() const {
    return !err.empty() && err.back() == '\n' && err.find('\n') == err.size() - 1;
  }
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  return os << "exit " << r.exit << "\nstdout: " << r.out << "\nstderr: " << r.err;
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& in, const std::string& out,
            const std::string& err, const std::string& cwd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::vector<std::string> argv_s = {RUNNEL_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, RUNNEL_BIN, &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A `runnel run` host in a child process; stopped with SIGTERM.
class Host {
 public:
  Host(const std::string& db, const std::string& scratch) : db_(db) {
    pid_ = Spawn({"--db", db, "run"}, "/dev/null", "/dev/null", scratch + "/host.err", "");
    EXPECT_TRUE(WaitFor([this] { return Answers(); }, std::chrono::seconds(30)))
        << "the host never opened its socket";
  }
  ~Host() { EXPECT_EQ(Stop(), 0); }
  int Stop() {
    if (pid_ <= 0) return 0;
    ::kill(pid_, SIGTERM);
    const int rc = Wait(pid_);
    pid_ = -1;
    return rc;
  }

 private:
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
  std::string db_;
  pid_t pid_ = -1;
};

// The tutorial's table: Music, keyed by Artist and SongTitle.
const std::vector<std::string> kMusicTable = {
    "create-table",
    "--table-name",
    "Music",
    "--key-schema",
    "AttributeName=Artist,KeyType=HASH",
    "AttributeName=SongTitle,KeyType=RANGE",
    "--attribute-definitions",
    "AttributeName=Artist,AttributeType=S",
    "AttributeName=SongTitle,AttributeType=S",
    "--billing-mode",
    "PAY_PER_REQUEST",
    "--stream-specification",
    "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"};

std::string Song(const std::string& artist, const std::string& title, int year) {
  return R"({"Artist":{"S":")" + artist + R"("},"SongTitle":{"S":")" + title +
         R"("},"Year":{"N":")" + std::to_string(year) + R"("}})";
}
std::string Key(const std::string& artist, const std::string& title) {
  return R"({"Artist":{"S":")" + artist + R"("},"SongTitle":{"S":")" + title + R"("}})";
}

// Every test runs twice: opening the DB directly, and through a host.
class CliItems : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() { ::unsetenv("RUNNEL_DB"); }
  void SetUp() override {
    if (!GetParam()) return;
    std::unique_ptr<DB> empty;
    ASSERT_OK(DB::Open(Options(), db(), &empty));
    ASSERT_OK(empty->Close());
    host_ = std::make_unique<Host>(db(), tmp_.path());
  }
  void TearDown() override { host_.reset(); }
  std::string db() const { return tmp_.Sub("db"); }

  Result Runnel(const std::vector<std::string>& args, const std::string& input = "") {
    const std::string in = tmp_.Sub("stdin"), out = tmp_.Sub("stdout"), err = tmp_.Sub("stderr");
    { std::ofstream(in, std::ios::binary) << input; }
    Result r;
    r.exit = Wait(Spawn(args, in, out, err, tmp_.path()));
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("runtime error:"), std::string::npos) << r.err;
    return r;
  }
  Result R(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--db", db()});
    return Runnel(args, input);
  }
  // Writes `text` to a file in the scratch directory; returns its name
  // relative to it (the commands run there: file:// is relative).
  std::string File(const std::string& name, const std::string& text) {
    std::ofstream(tmp_.Sub(name), std::ios::binary) << text;
    return name;
  }
  void MakeMusic() {
    Result r = R(kMusicTable);
    ASSERT_EQ(r.exit, 0) << r;
  }
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

INSTANTIATE_TEST_SUITE_P(DirectAndHosted, CliItems, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Hosted" : "Direct";
                         });

TEST_P(CliItems, CreateAndDescribeTypedTable) {
  Result r = R(kMusicTable);
  ASSERT_EQ(r.exit, 0) << r;
  json t = r.Json()["TableDescription"];
  EXPECT_EQ(t["KeySchema"], json::parse(R"([{"AttributeName":"Artist","KeyType":"HASH"},
                                            {"AttributeName":"SongTitle","KeyType":"RANGE"}])"));
  EXPECT_EQ(t["AttributeDefinitions"],
            json::parse(R"([{"AttributeName":"Artist","AttributeType":"S"},
                            {"AttributeName":"SongTitle","AttributeType":"S"}])"));
  EXPECT_EQ(t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");
  EXPECT_EQ(t["TableStatus"], "ACTIVE");
  EXPECT_EQ(t["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");

  // JSON forms, file://, and provisioned throughput (accepted, echoed).
  File("ks.json", R"([{"AttributeName":"id","KeyType":"HASH"}])");
  r = R({"create-table", "--table-name", "Counters", "--key-schema", "file://ks.json",
         "--attribute-definitions", R"([{"AttributeName":"id","AttributeType":"N"}])",
         "--provisioned-throughput", "ReadCapacityUnits=5,WriteCapacityUnits=5"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"], 5);
  r = R({"describe-table", "--table-name", "Counters"});
  ASSERT_EQ(r.exit, 0) << r;
  t = r.Json()["Table"];
  EXPECT_EQ(t["KeySchema"][0]["AttributeName"], "id");
  EXPECT_EQ(t["AttributeDefinitions"][0]["AttributeType"], "N");
  EXPECT_EQ(t["ItemCount"], 0);

  // A byte table is unchanged.
  r = R({"create-table", "--table-name", "Plain"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["TableDescription"]["KeySchema"][0]["AttributeName"], "key");
  EXPECT_FALSE(r.Json()["TableDescription"].contains("BillingModeSummary"));
}

TEST_P(CliItems, PutGetUpdateDeleteWithConditions) {
  MakeMusic();
  Result r = R({"put-item", "--table-name", "Music", "--item",
                Song("No One You Know", "Call Me Today", 2015)});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "") << "PutItem's empty response prints nothing, as the AWS CLI";
  File("item.json", Song("Acme Band", "Happy Day", 2019));
  r = R({"put-item", "--table-name", "Music", "--item", "file://item.json"});
  ASSERT_EQ(r.exit, 0) << r;

  r = R({"get-item", "--table-name", "Music", "--key", Key("Acme Band", "Happy Day")});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Item"], json::parse(Song("Acme Band", "Happy Day", 2019)));
  r = R({"get-item", "--table-name", "Music", "--key", Key("Acme Band", "Happy Day"),
         "--projection-expression", "#y", "--expression-attribute-names", R"({"#y":"Year"})",
         "--consistent-read"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Item"], json::parse(R"({"Year":{"N":"2019"}})"));
  r = R({"get-item", "--table-name", "Music", "--key", Key("Acme Band", "Missing")});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json(), json::object());

  // A replaced item with ReturnValues ALL_OLD.
  r = R({"put-item", "--table-name", "Music", "--item", Song("Acme Band", "Happy Day", 2020),
         "--return-values", "ALL_OLD"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Attributes"]["Year"]["N"], "2019");

  // A failed condition: exit 1, the exception named, nothing written.
  r = R({"put-item", "--table-name", "Music", "--item", Song("Acme Band", "Happy Day", 1),
         "--condition-expression", "attribute_not_exists(Artist)"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_TRUE(r.OneErrorLine()) << r;
  EXPECT_NE(r.err.find("ConditionalCheckFailedException"), std::string::npos) << r;
  EXPECT_EQ(r.out, "");
  r = R({"delete-item", "--table-name", "Music", "--key", Key("Acme Band", "Happy Day"),
         "--condition-expression", "#y < :y", "--expression-attribute-names", R"({"#y":"Year"})",
         "--expression-attribute-values", R"({":y":{"N":"2000"}})",
         "--return-values-on-condition-check-failure", "ALL_OLD"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_NE(r.err.find("ConditionalCheckFailedException"), std::string::npos) << r;
  EXPECT_EQ(r.Json()["Item"]["Year"]["N"], "2020") << "the error's Item";

  // update-item: SET with arithmetic, ADD, ReturnValues.
  File("values.json", R"({":inc":{"N":"5"},":t":{"S":"Rock"}})");
  r = R({"update-item", "--table-name", "Music", "--key", Key("Acme Band", "Happy Day"),
         "--update-expression", "SET #y = #y + :inc, Genre = :t ADD Plays :inc",
         "--expression-attribute-names", R"({"#y":"Year"})", "--expression-attribute-values",
         "file://values.json", "--return-values", "ALL_NEW"});
  ASSERT_EQ(r.exit, 0) << r;
  json a = r.Json()["Attributes"];
  EXPECT_EQ(a["Year"]["N"], "2025");
  EXPECT_EQ(a["Genre"]["S"], "Rock");
  EXPECT_EQ(a["Plays"]["N"], "5");
  r = R({"update-item", "--table-name", "Music", "--key", Key("Acme Band", "Happy Day"),
         "--update-expression", "REMOVE Genre", "--condition-expression", "attribute_exists(Genre)",
         "--return-values", "UPDATED_OLD"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Attributes"], json::parse(R"({"Genre":{"S":"Rock"}})"));

  // delete-item returns the old item.
  r = R({"delete-item", "--table-name", "Music", "--key", Key("Acme Band", "Happy Day"),
         "--return-values", "ALL_OLD"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Attributes"]["Plays"]["N"], "5");
  EXPECT_EQ(R({"describe-table", "--table-name", "Music"}).Json()["Table"]["ItemCount"], 1);

  // Byte tables keep their commands.
  ASSERT_EQ(R({"create-table", "--table-name", "Plain"}).exit, 0);
  ASSERT_EQ(R({"put-item", "--table-name", "Plain", "--key", "k", "--value", "v"}).exit, 0);
  r = R({"get-item", "--table-name", "Plain", "--key", "k"});
  EXPECT_EQ(r.Json()["Item"]["value"]["S"], "v");
  ASSERT_EQ(R({"delete-item", "--table-name", "Plain", "--key", "k"}).exit, 0);
}

TEST_P(CliItems, QueryScanAndPages) {
  MakeMusic();
  std::string requests = R"({"Music":[)";
  for (int i = 1; i <= 5; ++i) {
    requests += std::string(i > 1 ? "," : "") + R"({"PutRequest":{"Item":)" +
                Song("Acme Band", "Song " + std::to_string(i), 2000 + i) + "}}";
  }
  requests += R"(,{"PutRequest":{"Item":)" + Song("Other", "Solo", 1999) + "}}]}";
  Result r = R({"batch-write-item", "--request-items", "file://" + File("batch.json", requests)});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json(), json::parse(R"({"UnprocessedItems":{}})"));

  const std::vector<std::string> q = {"query",
                                      "--table-name",
                                      "Music",
                                      "--key-condition-expression",
                                      "Artist = :a AND SongTitle > :t",
                                      "--expression-attribute-values",
                                      R"({":a":{"S":"Acme Band"},":t":{"S":"Song 1"}})"};
  r = R(q);
  ASSERT_EQ(r.exit, 0) << r;
  json j = r.Json();
  EXPECT_EQ(j["Count"], 4);
  EXPECT_EQ(j["ScannedCount"], 4);
  EXPECT_EQ(j["Items"][0]["SongTitle"]["S"], "Song 2");
  EXPECT_FALSE(j.contains("LastEvaluatedKey"));

  // Descending, in pages of 3.
  std::vector<std::string> args = q;
  args.insert(args.end(), {"--no-scan-index-forward", "--limit", "3"});
  r = R(args);
  ASSERT_EQ(r.exit, 0) << r;
  j = r.Json();
  ASSERT_EQ(j["Items"].size(), 3u);
  EXPECT_EQ(j["Items"][0]["SongTitle"]["S"], "Song 5");
  ASSERT_TRUE(j.contains("LastEvaluatedKey")) << j;
  args.insert(args.end(), {"--exclusive-start-key", j["LastEvaluatedKey"].dump()});
  r = R(args);
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Items"].size(), 1u);
  EXPECT_EQ(r.Json()["Items"][0]["SongTitle"]["S"], "Song 2");

  // A filter and Select COUNT.
  args = q;
  args.insert(args.end(), {"--filter-expression", "#y >= :y", "--expression-attribute-names",
                           R"({"#y":"Year"})", "--select", "COUNT"});
  args[6] = R"({":a":{"S":"Acme Band"},":t":{"S":"Song 1"},":y":{"N":"2004"}})";
  r = R(args);
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json(), json::parse(R"({"Count":2,"ScannedCount":4})"));

  // The AWS CLI's automatic pagination: --page-size pages are merged;
  // --max-items stops with a NextToken that --starting-token continues.
  args = q;
  args.insert(args.end(), {"--page-size", "1"});
  r = R(args);
  ASSERT_EQ(r.exit, 0) << r;
  j = r.Json();
  EXPECT_EQ(j["Count"], 4);
  EXPECT_EQ(j["ScannedCount"], 4);
  ASSERT_EQ(j["Items"].size(), 4u);
  EXPECT_EQ(j["Items"][3]["SongTitle"]["S"], "Song 5");
  EXPECT_FALSE(j.contains("LastEvaluatedKey"));
  std::vector<std::string> titles;
  std::string token;
  for (int call = 0; call < 10; ++call) {
    args = q;
    args.insert(args.end(), {"--max-items", "3", "--page-size", "2"});
    if (!token.empty()) args.insert(args.end(), {"--starting-token", token});
    r = R(args);
    ASSERT_EQ(r.exit, 0) << r;
    j = r.Json();
    for (const json& item : j["Items"]) titles.push_back(item["SongTitle"]["S"]);
    if (!j.contains("NextToken")) break;
    token = j["NextToken"];
  }
  EXPECT_EQ(titles, (std::vector<std::string>{"Song 2", "Song 3", "Song 4", "Song 5"}));
  args = q;
  args.insert(args.end(), {"--limit", "2", "--max-items", "1"});
  EXPECT_EQ(R(args).exit, 2);
  args = q;
  args.insert(args.end(), {"--starting-token", "bm90IGpzb24="});
  r = R(args);
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.err.find("--starting-token"), std::string::npos) << r;

  // Scan of a typed table: everything, a filter, parallel segments.
  r = R({"scan", "--table-name", "Music"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Count"], 6);
  EXPECT_EQ(r.Json()["Items"].size(), 6u);
  r = R({"scan", "--table-name", "Music", "--filter-expression", "begins_with(Artist, :o)",
         "--expression-attribute-values", R"({":o":{"S":"Oth"}})", "--projection-expression",
         "SongTitle"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Items"], json::parse(R"([{"SongTitle":{"S":"Solo"}}])"));
  EXPECT_EQ(r.Json()["ScannedCount"], 6);
  size_t seen = 0;
  for (const std::string seg : {"0", "1", "2"}) {
    r = R({"scan", "--table-name", "Music", "--segment", seg, "--total-segments", "3"});
    ASSERT_EQ(r.exit, 0) << r;
    seen += r.Json()["Items"].size();
  }
  EXPECT_EQ(seen, 6u);
  r = R({"scan", "--table-name", "Music", "--limit", "4"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json()["Count"], 4);
  EXPECT_TRUE(r.Json().contains("LastEvaluatedKey"));

  // batch-get-item.
  r = R({"batch-get-item", "--request-items",
         R"({"Music":{"Keys":[)" + Key("Other", "Solo") + "," + Key("Acme Band", "Song 3") + "," +
             Key("Nobody", "Nothing") + R"(],"ProjectionExpression":"SongTitle"}})"});
  ASSERT_EQ(r.exit, 0) << r;
  j = r.Json();
  ASSERT_EQ(j["Responses"]["Music"].size(), 2u) << j;
  EXPECT_EQ(j["UnprocessedKeys"], json::object());

  // batch-write-item deletes.
  r = R({"batch-write-item", "--request-items",
         R"({"Music":[{"DeleteRequest":{"Key":)" + Key("Other", "Solo") + "}}]}"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(R({"scan", "--table-name", "Music"}).Json()["Count"], 5);
}

TEST_P(CliItems, TransactionsAndTimeToLive) {
  MakeMusic();
  const std::string put_a = R"({"Put":{"TableName":"Music","Item":)" + Song("A", "One", 2001) +
                            R"x(,"ConditionExpression":"attribute_not_exists(Artist)"}})x";
  const std::string put_b =
      R"({"Put":{"TableName":"Music","Item":)" + Song("B", "Two", 2002) + "}}";
  Result r = R({"transact-write-items", "--transact-items", "[" + put_a + "," + put_b + "]",
                "--client-request-token", "tok-1"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(R({"scan", "--table-name", "Music"}).Json()["Count"], 2);

  // The same again without the token: the first action's condition fails,
  // so nothing is written; the reasons name each action.
  const std::string update_b = R"({"Update":{"TableName":"Music","Key":)" + Key("B", "Two") +
                               R"(,"UpdateExpression":"SET Plays = :one",)"
                               R"("ExpressionAttributeValues":{":one":{"N":"1"}}}})";
  r = R({"transact-write-items", "--transact-items",
         "file://" + File("tx.json", "[" + update_b + "," + put_a + "]")});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_TRUE(r.OneErrorLine()) << r;
  EXPECT_NE(r.err.find("TransactionCanceledException"), std::string::npos) << r;
  EXPECT_NE(r.err.find("[None, ConditionalCheckFailed]"), std::string::npos) << r;
  json reasons = r.Json()["CancellationReasons"];
  ASSERT_EQ(reasons.size(), 2u) << r;
  EXPECT_EQ(reasons[0]["Code"], "None");
  EXPECT_EQ(reasons[1]["Code"], "ConditionalCheckFailed");
  r = R({"get-item", "--table-name", "Music", "--key", Key("B", "Two")});
  EXPECT_FALSE(r.Json()["Item"].contains("Plays")) << "a canceled transaction wrote";

  r = R({"transact-get-items", "--transact-items",
         R"([{"Get":{"TableName":"Music","Key":)" + Key("A", "One") +
             R"(}},{"Get":{"TableName":"Music","Key":)" + Key("Z", "None") + "}}]"});
  ASSERT_EQ(r.exit, 0) << r;
  json responses = r.Json()["Responses"];
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0]["Item"]["Year"]["N"], "2001");
  EXPECT_EQ(responses[1], json::object());

  // Time to live.
  r = R({"describe-time-to-live", "--table-name", "Music"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json(), json::parse(R"({"TimeToLiveDescription":{"TimeToLiveStatus":"DISABLED"}})"));
  r = R({"update-time-to-live", "--table-name", "Music", "--time-to-live-specification",
         "Enabled=true,AttributeName=ttl"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.Json(), json::parse(R"({"TimeToLiveSpecification":{"Enabled":true,
                                       "AttributeName":"ttl"}})"));
  r = R({"describe-time-to-live", "--table-name", "Music"});
  EXPECT_EQ(r.Json(), json::parse(R"({"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED",
                                       "AttributeName":"ttl"}})"));
  r = R({"update-time-to-live", "--table-name", "Music", "--time-to-live-specification",
         R"({"Enabled":true,"AttributeName":"ttl"})"});
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_NE(r.err.find("ValidationException"), std::string::npos) << r;
}

TEST_P(CliItems, BadInputChangesNothing) {
  MakeMusic();
  ASSERT_EQ(R({"create-table", "--table-name", "Plain"}).exit, 0);
  ASSERT_EQ(R({"put-item", "--table-name", "Music", "--item", Song("A", "One", 1)}).exit, 0);
  const std::string before = LogFingerprint();
  struct Case {
    std::vector<std::string> args;
    int exit;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{"put-item", "--table-name", "Music", "--item", "{not json"}, 2, "--item"},
      {{"put-item", "--table-name", "Music", "--item", R"({"Artist":{"X":"a"}})"}, 2, "--item"},
      {{"put-item", "--table-name", "Music", "--item", "file://nonexistent.json"},
       1,
       "nonexistent.json"},
      {{"put-item", "--table-name", "Music", "--item", R"({"Artist":{"S":"a"}})"},
       1,
       "ValidationException"},
      {{"put-item", "--table-name", "Nope", "--item", Song("A", "B", 1)},
       1,
       "ResourceNotFoundException"},
      {{"put-item", "--table-name", "Music", "--item", Song("A", "One", 2), "--return-values",
        "SOMETIMES"},
       2,
       "--return-values"},
      {{"put-item", "--table-name", "Music", "--item", Song("A", "One", 2),
        "--condition-expression", "Year = :y"},
       1,
       "ValidationException"},
      {{"put-item", "--table-name", "Music", "--item", Song("A", "One", 2),
        "--condition-expression", "attribute_not_exists(Artist)"},
       1,
       "ConditionalCheckFailedException"},
      {{"get-item", "--table-name", "Music", "--key", "not json"}, 2, "--key"},
      {{"update-item", "--table-name", "Music", "--key", Key("A", "One"), "--update-expression",
        "SET SongTitle = :x", "--expression-attribute-values", R"({":x":{"S":"y"}})"},
       1,
       "ValidationException"},
      {{"update-item", "--table-name", "Music", "--key", Key("A", "One"), "--update-expression",
        "SET", "--bogus-flag"},
       2,
       "--bogus-flag"},
      {{"query", "--table-name", "Music", "--key-condition-expression", "Year = :y",
        "--expression-attribute-values", R"({":y":{"N":"1"}})"},
       1,
       "ValidationException"},
      {{"query", "--table-name", "Music", "--key-condition-expression", "Artist = :a",
        "--expression-attribute-values", R"({":a":{"S":"A"}})", "--select", "SOME"},
       2,
       "--select"},
      {{"scan", "--table-name", "Music", "--prefix", "a"}, 2, "--prefix"},
      {{"batch-write-item", "--request-items", R"({"Music":[{"PutRequest":{}}]})"},
       2,
       "--request-items"},
      {{"batch-write-item"}, 2, "--request-items"},
      {{"transact-write-items", "--transact-items", R"([{"Upsert":{}}])"}, 2, "--transact-items"},
      {{"create-table", "--table-name", "T2", "--key-schema", "AttributeName=id,KeyType=MAIN",
        "--attribute-definitions", "AttributeName=id,AttributeType=S"},
       2,
       "KeyType"},
      {{"create-table", "--table-name", "T2", "--key-schema", "AttributeName=id,KeyType=HASH"},
       2,
       "--attribute-definitions"},
      {{"create-table", "--table-name", "T2", "--key-schema", "AttributeName=id,KeyType=HASH",
        "--attribute-definitions", "AttributeName=other,AttributeType=S"},
       1,
       "ValidationException"},
      {{"update-time-to-live", "--table-name", "Music", "--time-to-live-specification",
        "Enabled=maybe,AttributeName=ttl"},
       2,
       "Enabled"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + (c.args.size() > 4 ? c.args[4] : ""));
    Result r = R(c.args);
    EXPECT_EQ(r.exit, c.exit) << r;
    EXPECT_TRUE(r.OneErrorLine()) << r;
    EXPECT_NE(r.err.find(c.mentions), std::string::npos)
        << "expected '" << c.mentions << "': " << r;
    EXPECT_TRUE(r.out.empty()) << r;
  }
  if (!GetParam()) {
    EXPECT_EQ(LogFingerprint(), before) << "a failed command wrote to the log";
  }
  EXPECT_EQ(R({"scan", "--table-name", "Music"}).Json()["Count"], 1);
  EXPECT_EQ(R({"list-tables"}).Json()["TableNames"], json({"Music", "Plain"}));
}

TEST_P(CliItems, DumpLoadInspectTypedTables) {
  MakeMusic();
  ASSERT_EQ(R({"update-time-to-live", "--table-name", "Music", "--time-to-live-specification",
               "Enabled=true,AttributeName=ttl"})
                .exit,
            0);
  ASSERT_EQ(R({"create-table", "--table-name", "Plain"}).exit, 0);
  ASSERT_EQ(R({"put-item", "--table-name", "Plain", "--key", "k", "--value", "v"}).exit, 0);
  const std::string rich =
      R"({"Artist":{"S":"A"},"SongTitle":{"S":"Rich"},"Price":{"N":"-1.50"},)"
      R"("Blob":{"B":"AP8="},"Tags":{"SS":["x","y"]},"Ns":{"NS":["1","2.5"]},)"
      R"("Bs":{"BS":["AA=="]},"Meta":{"M":{"L":{"L":[{"NULL":true},{"BOOL":false}]}}},)"
      R"("Empty":{"S":""}})";
  Result r = R({"put-item", "--table-name", "Music", "--item", rich});
  ASSERT_EQ(r.exit, 0) << r;
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(R({"put-item", "--table-name", "Music", "--item",
                 Song("Band", "Song " + std::to_string(i), i)})
                  .exit,
              0);
  }
  // inspect record: the first item's key and image as DynamoDB JSON.
  if (!GetParam()) {
    r = R({"inspect", "log"});
    ASSERT_EQ(r.exit, 0) << r;
    bool found = false;
    for (uint64_t seq = 1; seq < 10 && !found; ++seq) {
      r = R({"inspect", "record", std::to_string(seq)});
      if (r.exit != 0 || !r.Json().contains("Keys")) continue;
      found = true;
      EXPECT_EQ(r.Json()["Keys"], json::parse(R"({"Artist":{"S":"A"},"SongTitle":{"S":"Rich"}})"));
      EXPECT_EQ(r.Json()["NewImage"]["Price"]["N"], "-1.5");
      EXPECT_EQ(r.Json()["NewImage"]["Blob"]["B"], "AP8=");
    }
    EXPECT_TRUE(found) << "no typed record in the log";
  }
  const json before = R({"scan", "--table-name", "Music"}).Json();
  ASSERT_EQ(before["Count"], 61);
  const json rich_item =
      R({"get-item", "--table-name", "Music", "--key", Key("A", "Rich")}).Json()["Item"];
  const json key_schema =
      R({"describe-table", "--table-name", "Music"}).Json()["Table"]["KeySchema"];
  for (const std::string format : {"jsonl", "capnp"}) {
    SCOPED_TRACE(format);
    const std::string file = tmp_.Sub("dump." + format);
    r = R({"dump", "--format", format, "--output", file});
    ASSERT_EQ(r.exit, 0) << r;
    const std::string target = tmp_.Sub("restored-" + format);
    r = Runnel({"--db", target, "load", "--input", file});
    ASSERT_EQ(r.exit, 0) << r;
    EXPECT_EQ(r.Json()["ItemCount"], 62);
    EXPECT_EQ(Runnel({"--db", target, "scan", "--table-name", "Music"}).Json(), before);
    json t = Runnel({"--db", target, "describe-table", "--table-name", "Music"}).Json()["Table"];
    EXPECT_EQ(t["KeySchema"], key_schema);
    EXPECT_EQ(t["AttributeDefinitions"][1]["AttributeName"], "SongTitle");
    EXPECT_EQ(t["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
    r = Runnel({"--db", target, "describe-time-to-live", "--table-name", "Music"});
    EXPECT_EQ(r.Json()["TimeToLiveDescription"]["AttributeName"], "ttl");
    r = Runnel({"--db", target, "get-item", "--table-name", "Plain", "--key", "k"});
    EXPECT_EQ(r.Json()["Item"]["value"]["S"], "v");
    r = Runnel({"--db", target, "get-item", "--table-name", "Music", "--key", Key("A", "Rich")});
    EXPECT_EQ(r.Json()["Item"], rich_item);
  }
  // The JSON-lines dump shows the schema and DynamoDB JSON items.
  r = R({"dump", "--table-name", "Music"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find(R"("KeySchema":[{"AttributeName":"Artist","KeyType":"HASH"})"),
            std::string::npos)
      << r.out.substr(0, 500);
  EXPECT_NE(r.out.find(R"("TimeToLiveSpecification":{"Enabled":true,"AttributeName":"ttl"})"),
            std::string::npos);
  EXPECT_NE(r.out.find(R"("Item":{"Artist":{"S":"A"})"), std::string::npos);
  // A typed item for a byte table is refused before anything is created.
  const std::string bad =
      R"({"Format":"runnel-dump","Version":1,"DbName":"x","LastSequenceNumber":"0"})"
      "\n"
      R"({"Table":{"TableName":"Plain","StreamSpecification":{"StreamEnabled":false}}})"
      "\n"
      R"({"TableName":"Plain","Item":{"a":{"S":"b"}}})"
      "\n"
      R"({"End":{"Tables":1,"Items":1}})"
      "\n";
  r = Runnel({"--db", tmp_.Sub("bad"), "load"}, bad);
  EXPECT_EQ(r.exit, 1) << r;
  EXPECT_NE(r.err.find("byte table"), std::string::npos) << r;
  struct stat st;
  EXPECT_NE(::stat(tmp_.Sub("bad").c_str(), &st), 0) << "a refused load created the DB";
}

}  // namespace
}  // namespace runnel::test
