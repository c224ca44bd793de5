// Copyright 2026 The runnel Authors.
//
// The AWS endpoint's HTTP server: a real `runnel run --listen 127.0.0.1:0`
// child process on a temp DB, spoken to in raw HTTP/1.1 over real TCP
// sockets (keep-alive, pipelining, limits, timeouts, concurrency), and the
// SigV4 pieces against the known answers of the AWS documentation. Real
// signers (botocore, the AWS CLI) are in endpoint_sigv4_test.py.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runnel/db.h"
#include "tests/testutil.h"
#include "tools/endpoint/server.h"
#include "tools/endpoint/sigv4.h"

extern char** environ;

namespace runnel::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// The x-amz-crc32 a client computes (bitwise, independent of the server's
// table-driven one).
uint32_t ReferenceCrc32(const std::string& s) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// `runnel --db DB run --listen 127.0.0.1:0 ARGS...` in a child process.
class EndpointHost {
 public:
  EndpointHost(const std::string& db, const std::string& err_path,
               const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    int out[2];
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> s = {RUNNEL_BIN, "--db", db, "run"};
    s.insert(s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, RUNNEL_BIN, &fa, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    out_ = out[0];
    first_line_ = ReadLine(std::chrono::seconds(30));
  }
  ~EndpointHost() {
    if (pid_ > 0) Stop();
    if (out_ >= 0) ::close(out_);
  }
  // The first line the host printed on stdout.
  const std::string& first_line() const { return first_line_; }
  // The port of "listening on http://127.0.0.1:PORT", or -1.
  int port() const {
    std::smatch m;
    static const std::regex kLine("^listening on http://127\\.0\\.0\\.1:([0-9]+)$");
    return std::regex_match(first_line_, m, kLine) ? std::stoi(m[1]) : -1;
  }
  // SIGTERM; the exit status.
  int Stop() {
    ::kill(pid_, SIGTERM);
    return Wait();
  }
  // SIGKILL, no chance to flush anything.
  void Kill() {
    ::kill(pid_, SIGKILL);
    Wait();
  }
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  std::string ReadLine(milliseconds timeout) {
    std::string line;
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      pollfd p = {out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c;
      if (::read(out_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line += c;
    }
    return line;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string first_line_;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  json Json() const { return json::parse(body, nullptr, false); }
};

std::ostream& operator<<(std::ostream& os, const Response& r) {
  return os << r.status << " " << r.body;
}

// One client connection over TCP to 127.0.0.1.
class Conn {
 public:
  // A receive buffer of `rcvbuf` bytes if not 0 (a client slow to read).
  explicit Conn(int port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~Conn() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
      const ssize_t n = ::send(fd_, s.data() + done, s.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads one whole response (Content-Length framed); false on EOF or
  // timeout.
  bool Read(Response* r, milliseconds timeout = milliseconds(10000)) {
    const auto deadline = Clock::now() + timeout;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return false;
    }
    std::istringstream head(buf_.substr(0, end));
    std::string line;
    std::getline(head, line);
    if (line.rfind("HTTP/1.1 ", 0) != 0) return false;
    *r = Response();
    r->status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r->headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    const size_t length = std::stoul(
        r->Header("content-length").empty() ? std::string("0") : r->Header("content-length"));
    while (buf_.size() < end + 4 + length) {
      if (!Fill(deadline)) return false;
    }
    r->body = buf_.substr(end + 4, length);
    buf_.erase(0, end + 4 + length);
    return true;
  }
  // True if the server closes the connection within `timeout` (whatever it
  // sends before).
  bool ClosedWithin(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      pollfd p = {fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char b[4096];
      const ssize_t n = ::recv(fd_, b, sizeof(b), 0);
      if (n <= 0) return true;
      buf_.append(b, static_cast<size_t>(n));
    }
    return false;
  }
  const std::string& buffered() const { return buf_; }

 private:
  bool Fill(Clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p = {fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char b[65536];
      const ssize_t n = ::recv(fd_, b, sizeof(b), 0);
      if (n <= 0) return false;
      buf_.append(b, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

// A JSON 1.0 request as the SDKs send it (unsigned).
std::string Post(const std::string& target, const std::string& body,
                 const std::string& extra_headers = "") {
  return "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: " + target +
         "\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

// The checks every answer of the server passes: a request id, and on JSON
// 1.0 the body's CRC-32.
void ExpectServerHeaders(const Response& r) {
  EXPECT_TRUE(std::regex_match(r.Header("x-amzn-requestid"), kUuid))
      << r.Header("x-amzn-requestid");
  if (r.Header("content-type") == "application/x-amz-json-1.0") {
    EXPECT_EQ(r.Header("x-amz-crc32"), std::to_string(ReferenceCrc32(r.body)));
  }
}

std::string ErrorType(const Response& r) {
  json j = r.Json();
  if (j.is_discarded() || !j.contains("__type")) return "";
  std::string t = j["__type"];
  return t.substr(t.find('#') + 1);
}

class EndpointServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(Options(), db_dir(), &db).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  // Whatever a test did, the host reported no sanitizer error.
  void TearDown() override {
    const std::string err = HostErr();
    EXPECT_EQ(err.find("Sanitizer"), std::string::npos) << err;
    EXPECT_EQ(err.find("runtime error:"), std::string::npos) << err;
  }
  std::string db_dir() const { return tmp_.Sub("db"); }
  std::string err_path() const { return tmp_.Sub("host.err"); }
  std::string HostErr() const {
    std::ifstream in(err_path());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::unique_ptr<EndpointHost> Start(std::vector<std::string> args = {},
                                      const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--listen", "127.0.0.1:0"});
    auto host = std::make_unique<EndpointHost>(db_dir(), err_path(), args, env);
    EXPECT_GT(host->port(), 0) << "first line: '" << host->first_line() << "'\n" << HostErr();
    return host;
  }

  TempDir tmp_;
};

TEST_F(EndpointServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto host = Start();
  Conn c(host->port());
  ASSERT_TRUE(c.connected());
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    const std::string target = "NoSuchService_2020.Op" + std::to_string(i);
    ASSERT_TRUE(c.Send(Post(target, "{}")));
    Response r;
    ASSERT_TRUE(c.Read(&r)) << "request " << i;
    EXPECT_EQ(r.status, 400) << r;
    EXPECT_EQ(r.Json()["__type"], "com.amazon.coral.service#UnknownOperationException") << r;
    EXPECT_EQ(r.Json()["message"], "Unknown operation: " + target);
    EXPECT_EQ(r.Header("content-type"), "application/x-amz-json-1.0");
    EXPECT_EQ(r.Header("x-amz-crc32"), std::to_string(ReferenceCrc32(r.body)));
    EXPECT_EQ(r.Header("content-length"), std::to_string(r.body.size()));
    ExpectServerHeaders(r);
    ids.insert(r.Header("x-amzn-requestid"));
  }
  EXPECT_EQ(ids.size(), 5u) << "request ids repeat";
  EXPECT_EQ(host->Stop(), 0) << HostErr();
}

TEST_F(EndpointServer, PipelinedRequestsAreAnsweredInOrder) {
  auto host = Start();
  Conn c(host->port());
  ASSERT_TRUE(c.Send(Post("A_1.First", "{}") + Post("A_1.Second", "{\"x\":1}") +
                     "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  Response r1, r2, r3;
  ASSERT_TRUE(c.Read(&r1));
  ASSERT_TRUE(c.Read(&r2));
  ASSERT_TRUE(c.Read(&r3));
  EXPECT_EQ(r1.Json()["message"], "Unknown operation: A_1.First");
  EXPECT_EQ(r2.Json()["message"], "Unknown operation: A_1.Second");
  EXPECT_EQ(r3.status, 404);
  EXPECT_EQ(ErrorType(r3), "UnknownOperationException");
  for (const Response* r : {&r1, &r2, &r3}) ExpectServerHeaders(*r);
}

TEST_F(EndpointServer, OversizedBodyIsRefusedWith413) {
  auto host = Start();
  {
    // Announced: refused at the head, before any of the body is read.
    Conn c(host->port());
    ASSERT_TRUE(
        c.Send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: "
               "DynamoDB_20120810.PutItem\r\nContent-Length: 16777217\r\n\r\n{"));
    Response r;
    ASSERT_TRUE(c.Read(&r));
    EXPECT_EQ(r.status, 413) << r;
    EXPECT_EQ(ErrorType(r), "RequestEntityTooLargeException") << r;
    ExpectServerHeaders(r);
    EXPECT_TRUE(c.ClosedWithin(milliseconds(10000))) << "the connection stays open";
  }
  {
    // Lambda's limit (a function's zip), in Lambda's REST error shape.
    Conn c(host->port());
    ASSERT_TRUE(
        c.Send("POST /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
               "69905067\r\n\r\n{"));
    Response r;
    ASSERT_TRUE(c.Read(&r));
    EXPECT_EQ(r.status, 413) << r;
    EXPECT_EQ(r.Header("x-amzn-errortype"), "RequestEntityTooLargeException");
    EXPECT_EQ(r.Json()["message"], "Request must be smaller than 69905067 bytes") << r;
    ExpectServerHeaders(r);
  }
  {
    // Chunked, without a length: refused once past the limit.
    Conn c(host->port());
    ASSERT_TRUE(
        c.Send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: "
               "DynamoDB_20120810.PutItem\r\nTransfer-Encoding: chunked\r\n\r\n"));
    const std::string chunk(1 << 20, 'x');
    std::thread writer([&] {
      for (int i = 0; i < 18; ++i) {
        if (!c.Send("100000\r\n" + chunk + "\r\n")) break;
      }
    });
    Response r;
    const bool got = c.Read(&r, milliseconds(20000));
    writer.join();
    ASSERT_TRUE(got);
    EXPECT_EQ(r.status, 413) << r;
    EXPECT_EQ(ErrorType(r), "RequestEntityTooLargeException") << r;
  }
  {
    // A body at the limit is read whole and reaches Dispatch.
    Conn c(host->port());
    const std::string body(16u << 20, ' ');
    ASSERT_TRUE(c.Send(Post("Big_1.Op", body)));
    Response r;
    ASSERT_TRUE(c.Read(&r, milliseconds(20000)));
    EXPECT_EQ(r.status, 400) << r;
    EXPECT_EQ(ErrorType(r), "UnknownOperationException") << r;
  }
}

TEST_F(EndpointServer, OversizedHeadIsRefusedWith431) {
  auto host = Start();
  Conn c(host->port());
  ASSERT_TRUE(c.Send(Post("X_1.Op", "{}", "X-Padding: " + std::string(70000, 'p') + "\r\n")));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 431) << r;
  ExpectServerHeaders(r);
}

TEST_F(EndpointServer, MalformedHttpIs400) {
  auto host = Start();
  for (const std::string bad :
       {"THIS IS NOT HTTP\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST / HTTP/1.1\r\nNo colon here\r\n\r\n"}) {
    Conn c(host->port());
    ASSERT_TRUE(c.Send(bad));
    Response r;
    ASSERT_TRUE(c.Read(&r)) << bad;
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(c.ClosedWithin(milliseconds(5000))) << bad;
  }
  // The server is still there.
  Conn c(host->port());
  ASSERT_TRUE(c.Send(Post("X_1.Op", "{}")));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(host->Stop(), 0) << HostErr();
}

// Trailers of a chunked body never change the request after its head:
// a trailer naming a DynamoDB target does not turn a Lambda request (with
// Lambda's larger body limit) into a DynamoDB one.
TEST_F(EndpointServer, ChunkedTrailersDoNotChangeTheRequest) {
  auto host = Start();
  Conn c(host->port());
  ASSERT_TRUE(
      c.Send("POST /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: "
             "chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n\r\n"));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_NE(r.status, 200) << r;
  EXPECT_FALSE(r.Header("x-amzn-errortype").empty()) << "not Lambda's error shape: " << r;
  EXPECT_EQ(r.Json().count("TableNames"), 0u) << r;
}

TEST_F(EndpointServer, SlowClientsAreCutOff) {
  auto host = Start({"--client-timeout-ms", "300"});
  // A head that never ends.
  Conn head(host->port());
  ASSERT_TRUE(head.Send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  // A body that never ends: 408.
  Conn body(host->port());
  ASSERT_TRUE(
      body.Send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: X_1.Op\r\nContent-Length: "
                "100\r\n\r\n{"));
  const auto start = Clock::now();
  Response r;
  ASSERT_TRUE(body.Read(&r, milliseconds(5000)));
  EXPECT_EQ(r.status, 408) << r;
  EXPECT_EQ(ErrorType(r), "RequestTimeoutException") << r;
  EXPECT_TRUE(body.ClosedWithin(milliseconds(5000)));
  EXPECT_TRUE(head.ClosedWithin(milliseconds(5000)));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(8));
  // A connection that never sends anything.
  Conn silent(host->port());
  EXPECT_TRUE(silent.ClosedWithin(milliseconds(5000)));
}

// A client that stops reading its answers (the socket buffers fill) is
// disconnected after the write timeout, and the server serves others.
TEST_F(EndpointServer, ClientsThatStopReadingAreDisconnected) {
  auto host = Start({"--client-timeout-ms", "300"});
  constexpr int kRequests = 400;
  Conn c(host->port(), 4096);
  // Each answer echoes its 60 KB target: 24 MB of answers in all, far more
  // than the sockets buffer.
  std::thread sender([&] {
    for (int i = 0; i < kRequests; ++i) {
      if (!c.Send(Post("X_1." + std::string(60000, 'a') + std::to_string(i), "{}"))) break;
    }
  });
  std::this_thread::sleep_for(milliseconds(3000));
  // Now read: what the server had written comes, then the end.
  const bool closed = c.ClosedWithin(milliseconds(20000));
  sender.join();
  EXPECT_TRUE(closed) << "the server still waits on a client that does not read";
  size_t answers = 0;
  for (size_t at = 0; (at = c.buffered().find("HTTP/1.1 400", at)) != std::string::npos; ++at) {
    ++answers;
  }
  EXPECT_LT(answers, static_cast<size_t>(kRequests));
  Conn other(host->port());
  ASSERT_TRUE(other.Send(Post("X_1.Op", "{}")));
  Response r;
  ASSERT_TRUE(other.Read(&r));
  EXPECT_EQ(ErrorType(r), "UnknownOperationException") << r;
}

// Request bodies held at once share --max-request-memory-mb: past it a
// request gets the service's throttling error (which AWS clients retry),
// and the budget is free again once the bodies are answered.
TEST_F(EndpointServer, RequestBodiesShareAMemoryBudget) {
  {
    EndpointHost bad(db_dir(), err_path(),
                     {"--listen", "127.0.0.1:0", "--max-request-memory-mb", "0"});
    EXPECT_NE(bad.Wait(), 0);
    EXPECT_NE(HostErr().find("--max-request-memory-mb: expected 1 to 1048576, got 0"),
              std::string::npos)
        << HostErr();
  }
  auto host = Start({"--max-request-memory-mb", "1"});
  // A holds 800,000 of the 1,048,576 bytes, its body on its way.
  Conn a(host->port());
  ASSERT_TRUE(
      a.Send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: X_1.Held\r\nContent-Length: "
             "800000\r\n\r\n{"));
  const std::string body(400000, ' ');
  // (Until the server has read A's head, B's requests fit.)
  Response r;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  do {
    Conn b(host->port());
    ASSERT_TRUE(b.Send(Post("X_1.Op", body)));
    ASSERT_TRUE(b.Read(&r));
  } while (ErrorType(r) != "ThrottlingException" && Clock::now() < deadline);
  EXPECT_EQ(r.status, 400) << r;
  ASSERT_EQ(ErrorType(r), "ThrottlingException") << r;
  EXPECT_NE(r.Json()["message"].get<std::string>().find("--max-request-memory-mb"),
            std::string::npos)
      << r;
  ExpectServerHeaders(r);
  {
    // Lambda's throttling error.
    Conn l(host->port());
    ASSERT_TRUE(
        l.Send("POST /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
               "400000\r\n\r\n"));
    ASSERT_TRUE(l.Read(&r));
    EXPECT_EQ(r.status, 429) << r;
    EXPECT_EQ(r.Header("x-amzn-errortype"), "TooManyRequestsException") << r;
  }
  {
    // A chunked body counts as it arrives.
    Conn c(host->port());
    ASSERT_TRUE(
        c.Send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: X_1.Op\r\nTransfer-Encoding: "
               "chunked\r\n\r\n61a80\r\n" +
               body + "\r\n0\r\n\r\n"));
    ASSERT_TRUE(c.Read(&r));
    EXPECT_EQ(ErrorType(r), "ThrottlingException") << r;
  }
  // A's body completes: it is answered, and its bytes are free again.
  ASSERT_TRUE(a.Send(std::string(799999, ' ')));
  ASSERT_TRUE(a.Read(&r));
  EXPECT_EQ(r.Json()["message"], "Unknown operation: X_1.Held") << r;
  {
    Conn b(host->port());
    ASSERT_TRUE(b.Send(Post("X_1.Op", body)));
    ASSERT_TRUE(b.Read(&r));
    EXPECT_EQ(ErrorType(r), "UnknownOperationException") << r;
  }
  {
    // One body over the whole budget can never fit: 413.
    Conn big(host->port());
    ASSERT_TRUE(big.Send(Post("X_1.Op", std::string(1100000, ' '))));
    ASSERT_TRUE(big.Read(&r));
    EXPECT_EQ(r.status, 413) << r;
    EXPECT_EQ(r.Json()["message"], "Request must be smaller than 1048577 bytes") << r;
  }
}

TEST_F(EndpointServer, IdleKeepAliveConnectionsAreClosed) {
  auto host = Start({"--idle-timeout-ms", "300"});
  Conn c(host->port());
  ASSERT_TRUE(c.Send(Post("X_1.Op", "{}")));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(c.ClosedWithin(milliseconds(5000)));
}

TEST_F(EndpointServer, ConcurrentConnectionsAreServed) {
  auto host = Start();
  constexpr int kClients = 8, kRequests = 20;
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      Conn c(host->port());
      for (int i = 0; i < kRequests; ++i) {
        const std::string target = "C_1.T" + std::to_string(t) + "R" + std::to_string(i);
        if (!c.Send(Post(target, "{}"))) return;
        Response r;
        if (!c.Read(&r)) return;
        if (r.Json()["message"] == "Unknown operation: " + target) ++answered;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(answered.load(), kClients * kRequests);
}

TEST_F(EndpointServer, LocalSocketCommandsWorkBesideTheEndpoint) {
  auto host = Start();
  // A `runnel` command reaches the same host through DIR/runnel.sock.
  const std::string out = tmp_.Sub("out");
  const std::string cmd = std::string(RUNNEL_BIN) + " --db " + db_dir() +
                          " create-table --table-name Side >" + out + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Conn c(host->port());
  ASSERT_TRUE(c.Send(Post("X_1.Op", "{}")));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(host->Stop(), 0) << HostErr();
}

TEST_F(EndpointServer, WithoutCredentialsOnlyLoopbackIsServed) {
  EndpointHost host(db_dir(), err_path(), {"--listen", "0.0.0.0:0"});
  EXPECT_EQ(host.Wait(), 1);
  EXPECT_EQ(host.first_line(), "");
  EXPECT_NE(HostErr().find("0.0.0.0:0 is not a loopback address"), std::string::npos) << HostErr();
}

TEST_F(EndpointServer, BadListenAndCredentialsAreRefusedAtStartup) {
  {
    EndpointHost host(db_dir(), err_path(), {"--listen", "127.0.0.1"});
    EXPECT_EQ(host.Wait(), 1);
    EXPECT_NE(HostErr().find("expected HOST:PORT"), std::string::npos) << HostErr();
  }
  {
    EndpointHost host(db_dir(), err_path(),
                      {"--listen", "127.0.0.1:0", "--credentials", tmp_.Sub("missing")});
    EXPECT_EQ(host.Wait(), 1);
    EXPECT_NE(HostErr().find("cannot read"), std::string::npos) << HostErr();
  }
  {
    EndpointHost host(db_dir(), err_path(), {"--listen", "127.0.0.1:0"},
                      {"RUNNEL_ACCESS_KEY_ID=AKIDONLY"});
    EXPECT_EQ(host.Wait(), 1);
    EXPECT_NE(HostErr().find("must be set together"), std::string::npos) << HostErr();
  }
}

// --no-sync acknowledges a write before its fsync: it must still be in the
// log by then, so a kill -9 of the host right after the answer loses
// nothing (only a power loss may). Without --listen the flag is refused.
TEST_F(EndpointServer, NoSyncWritesSurviveAKillOfTheHost) {
  {
    EndpointHost host(db_dir(), err_path(), {"--no-sync"});
    EXPECT_NE(host.Wait(), 0);
    EXPECT_NE(HostErr().find("--no-sync needs --listen"), std::string::npos) << HostErr();
  }
  auto host = Start({"--no-sync"});
  Conn c(host->port());
  Response r;
  ASSERT_TRUE(
      c.Send(Post("DynamoDB_20120810.CreateTable",
                  R"({"TableName":"tbl","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
                  R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
                  R"("BillingMode":"PAY_PER_REQUEST"})")));
  ASSERT_TRUE(c.Read(&r));
  ASSERT_EQ(r.status, 200) << r;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(c.Send(Post("DynamoDB_20120810.PutItem",
                            R"({"TableName":"tbl","Item":{"pk":{"S":"k)" + std::to_string(i) +
                                R"("},"v":{"N":")" + std::to_string(i) + R"("}}})")));
    ASSERT_TRUE(c.Read(&r));
    ASSERT_EQ(r.status, 200) << r;
  }
  host->Kill();
  auto again = Start();
  Conn d(again->port());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(d.Send(Post("DynamoDB_20120810.GetItem",
                            R"({"TableName":"tbl","Key":{"pk":{"S":"k)" + std::to_string(i) +
                                R"("}},"ConsistentRead":true})")));
    ASSERT_TRUE(d.Read(&r));
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.Json()["Item"]["v"]["N"], std::to_string(i)) << r;
  }
}

TEST_F(EndpointServer, UnsignedRequestsAreRefusedWhenCredentialsAreConfigured) {
  auto host = Start({}, {"RUNNEL_ACCESS_KEY_ID=AKIDENV", "RUNNEL_SECRET_ACCESS_KEY=s3cret"});
  Conn c(host->port());
  ASSERT_TRUE(c.Send(Post("DynamoDB_20120810.ListTables", "{}")));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["__type"], "com.amazon.coral.service#MissingAuthenticationTokenException");
  EXPECT_EQ(r.Json()["message"], "Request is missing Authentication Token");
  ExpectServerHeaders(r);
  // Lambda's REST shape.
  ASSERT_TRUE(c.Send("GET /2015-03-31/functions/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Header("x-amzn-errortype"), "MissingAuthenticationTokenException");
  EXPECT_EQ(r.Json()["Type"], "User");
}

// --- SigV4, against the AWS documentation's examples.

endpoint::HttpRequest IamListUsers() {
  endpoint::HttpRequest r;
  r.method = "GET";
  r.path = "/";
  r.query = "Version=2010-05-08&Action=ListUsers";
  r.headers = {{"host", "iam.amazonaws.com"},
               {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
               {"x-amz-date", "20150830T123600Z"}};
  return r;
}

TEST(EndpointSigV4, CanonicalRequestOfTheDocumentedExample) {
  const std::string canonical = endpoint::CanonicalRequest(
      IamListUsers(), {"content-type", "host", "x-amz-date"}, endpoint::Sha256Hex(""));
  EXPECT_EQ(canonical,
            "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
            "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
            "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(endpoint::Sha256Hex(canonical),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  const std::string sts =
      endpoint::StringToSign("20150830T123600Z", "20150830/us-east-1/iam/aws4_request", canonical);
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(endpoint::Signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1",
                                "iam", sts),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(EndpointSigV4, CanonicalFormsOfPathsQueriesAndHeaderValues) {
  endpoint::HttpRequest r;
  r.method = "GET";
  // The path as sent, encoded once more (every service but S3).
  r.path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Af";
  r.query = "b=2&a=%7e x&a=1&empty";
  r.headers = {{"host", "h"}, {"x-amz-meta", "  a   b  "}, {"x-amz-meta", "c"}};
  EXPECT_EQ(endpoint::CanonicalRequest(r, {"host", "x-amz-meta"}, "UNSIGNED-PAYLOAD"),
            "GET\n/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A0%253Afunction"
            "%253Af\na=1&a=~%20x&b=2&empty=\nhost:h\nx-amz-meta:a b,c\n\nhost;x-amz-meta\n"
            "UNSIGNED-PAYLOAD");
}

// The documented example, verified whole: accepted at its time, and each
// refusal with the cloud's error.
TEST(EndpointSigV4, VerifiesTheDocumentedExample) {
  endpoint::HttpRequest r = IamListUsers();
  r.headers.emplace_back(
      "authorization",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, "
      "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  endpoint::Credentials creds;
  creds.secrets["AKIDEXAMPLE"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  endpoint::SigV4Policy policy;
  policy.credentials = &creds;
  std::tm tm = {};
  ::strptime("20150830T124000Z", "%Y%m%dT%H%M%SZ", &tm);
  policy.now = std::chrono::system_clock::from_time_t(::timegm(&tm));
  auto e = endpoint::VerifySigV4(r, policy);
  EXPECT_FALSE(e.has_value()) << e->type << ": " << e->message;

  creds.secrets["AKIDEXAMPLE"] = "wrong";
  e = endpoint::VerifySigV4(r, policy);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "InvalidSignatureException");
  EXPECT_EQ(e->message.rfind("The request signature we calculated does not match", 0), 0u);

  creds.secrets = {{"OTHER", "x"}};
  e = endpoint::VerifySigV4(r, policy);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "UnrecognizedClientException");
  EXPECT_EQ(e->message, "The security token included in the request is invalid.");

  creds.secrets = {{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}};
  policy.now += std::chrono::minutes(20);
  e = endpoint::VerifySigV4(r, policy);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "InvalidSignatureException");
  EXPECT_EQ(e->message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T124500Z "
            "(20150830T130000Z - 15 min.)");

  policy.now -= std::chrono::minutes(40);
  e = endpoint::VerifySigV4(r, policy);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->message.rfind("Signature not yet current: 20150830T123600Z", 0), 0u) << e->message;

  policy.now += std::chrono::minutes(20);
  policy.region = "eu-west-1";
  e = endpoint::VerifySigV4(r, policy);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "InvalidSignatureException");
  EXPECT_NE(e->message.find("valid region"), std::string::npos);

  r.headers.pop_back();
  e = endpoint::VerifySigV4(r, policy);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "MissingAuthenticationTokenException");
  r.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE");
  e = endpoint::VerifySigV4(r, policy);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "IncompleteSignatureException");
}

TEST(EndpointSigV4, CredentialsFile) {
  TempDir tmp;
  const std::string path = tmp.Sub("credentials");
  std::ofstream(path) << "# runnel\n[default]\naws_access_key_id = AKID1\n"
                         "aws_secret_access_key=secret/one\n\n[other]\n; comment\n"
                         "aws_access_key_id=AKID2\naws_secret_access_key = two\n"
                         "aws_session_token = ignored\n";
  endpoint::Credentials creds;
  ASSERT_TRUE(endpoint::LoadCredentialsFile(path, &creds).ok());
  EXPECT_EQ(creds.secrets,
            (std::map<std::string, std::string>{{"AKID1", "secret/one"}, {"AKID2", "two"}}));
  std::ofstream(path) << "[default]\naws_access_key_id = AKID1\n";
  Status s = endpoint::LoadCredentialsFile(path, &creds);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.ToString().find("needs both"), std::string::npos) << s.ToString();
  std::ofstream(path) << "[default]\n";
  EXPECT_TRUE(endpoint::LoadCredentialsFile(path, &creds).IsInvalidArgument());
}

TEST(EndpointSigV4, Crc32IsZlibs) {
  EXPECT_EQ(endpoint::Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(endpoint::Crc32(""), 0u);
  const std::string s = "{\"__type\":\"x\"}";
  EXPECT_EQ(endpoint::Crc32(s), ReferenceCrc32(s));
}

}  // namespace
}  // namespace runnel::test
