// Copyright 2026 The runnel Authors.
//
// endpoint_bench: runnel's AWS endpoint (`runnel run --listen`) against
// dynalite (npm: a DynamoDB implementation on LevelDB, the closest peer that
// runs here), in one run, with one client: this program, over
// --connections concurrent keep-alive HTTP/1.1 connections (one thread each),
// sending the DynamoDB JSON protocol as the AWS SDKs do (16-byte keys,
// 100-byte items). Both servers store on disk (dynalite with --path).
//
//   put     PutItem of new items                      target: >= 10x dynalite
//           (runnel acknowledges once fsynced; also run against a second
//           runnel with --no-sync, dynalite's durability: put-nosync)
//   get     GetItem of existing items (p50/p99 too)   target: >= 10x dynalite
//   query   Query of one 100-item partition           target: >= 5x dynalite
//
// Each run also measures the machine's own ceilings: a fixed-answer server
// (a forked child that answers every request with one canned 200, no work)
// driven by the same client, and the fdatasync latency that bounds durable
// writes (runnel acknowledges a write once its group commit is fsynced;
// dynalite never fsyncs). Both are printed as ratios to dynalite, so a
// target above them is visibly out of this machine's reach.
//
// Then, on runnel only: PutItem over HTTP -> the start of a mapping's
// handler (a plugin that writes its start time to a FIFO), p50/p99.
//
// Every workload runs --runs times per server (the order alternates); the
// summary prints medians and the median of the per-run ratios.
//
//   endpoint_bench --runnel=build/tools/runnel
//                  --dynalite=tests/endpoint/clients/node_modules/dynalite/cli.js
//                  --plugin=build/bench/latency_function.so
//                  [--runs=3] [--seconds=5] [--connections=8] [--items=20000]
//                  [--latency_puts=2000]

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"

namespace {

using runnel::bench::LoadAvg;
using runnel::bench::Median;

using Clock = std::chrono::steady_clock;

// The servers started, stopped by Die too.
std::vector<pid_t> children;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "endpoint_bench: %s\n", what.c_str());
  for (pid_t pid : children) ::kill(pid, SIGKILL);
  std::exit(1);
}

struct Flags {
  std::string runnel, dynalite, plugin, dir = "/tmp";
  int runs = 3, connections = 8;
  double seconds = 5;
  uint64_t items = 20000;
  uint64_t latency_puts = 2000;  // 0: no trigger latency measurement
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) Die("bad flag " + a);
    const std::string name = a.substr(2, eq - 2), value = a.substr(eq + 1);
    if (name == "runnel") {
      f.runnel = value;
    } else if (name == "dynalite") {
      f.dynalite = value;
    } else if (name == "plugin") {
      f.plugin = value;
    } else if (name == "latency_puts") {
      f.latency_puts = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "dir") {
      f.dir = value;
    } else if (name == "runs") {
      f.runs = std::atoi(value.c_str());
    } else if (name == "connections") {
      f.connections = std::atoi(value.c_str());
    } else if (name == "seconds") {
      f.seconds = std::atof(value.c_str());
    } else if (name == "items") {
      f.items = std::strtoull(value.c_str(), nullptr, 10);
    } else {
      Die("unknown flag --" + name);
    }
  }
  if (f.runnel.empty() || f.dynalite.empty() || (f.latency_puts > 0 && f.plugin.empty())) {
    Die("usage: endpoint_bench --runnel=PATH --dynalite=PATH/cli.js --plugin=latency_function.so "
        "[--runs=3] [--seconds=5] [--connections=8] [--items=20000] [--latency_puts=2000] "
        "[--dir=/tmp]");
  }
  if (f.runs < 1 || f.connections < 1 || f.seconds <= 0 || f.items < 200) Die("bad flag value");
  return f;
}

// --- A minimal blocking HTTP/1.1 client, enough for JSON request/response.

class Connection {
 public:
  explicit Connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      Die("connect to port " + std::to_string(port) + ": " + std::strerror(errno));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one DynamoDB request; returns the status and stores the body.
  int Call(const std::string& target, const std::string& body, std::string* response) {
    std::string req = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    req += "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810." + target;
    // Unverified by both servers (runnel has no credentials configured and
    // listens on loopback; dynalite checks only the header's shape).
    req +=
        "\r\nX-Amz-Date: 20261206T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 "
        "Credential=AKIDBENCH/20261206/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=00\r\nContent-Length: ";
    req += std::to_string(body.size()) + "\r\n\r\n" + body;
    for (size_t sent = 0; sent < req.size();) {
      const ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) Die(std::string("send: ") + std::strerror(errno));
      sent += static_cast<size_t>(n);
    }
    return ReadResponse(response);
  }

 private:
  bool Fill() {
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int ReadResponse(std::string* body) {
    size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) Die("connection closed before a response");
    }
    const std::string head = in_.substr(0, end);
    in_.erase(0, end + 4);
    const int status = std::atoi(head.c_str() + head.find(' ') + 1);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    const size_t cl = lower.find("\r\ncontent-length:");
    if (cl != std::string::npos) {
      const size_t len = std::strtoull(lower.c_str() + cl + 17, nullptr, 10);
      while (in_.size() < len) {
        if (!Fill()) Die("connection closed in a body");
      }
      body->assign(in_, 0, len);
      in_.erase(0, len);
      return status;
    }
    if (lower.find("transfer-encoding: chunked") == std::string::npos) Die("no body length");
    body->clear();
    for (;;) {
      size_t eol;
      while ((eol = in_.find("\r\n")) == std::string::npos) {
        if (!Fill()) Die("connection closed in a chunk");
      }
      const size_t len = std::strtoull(in_.c_str(), nullptr, 16);
      while (in_.size() < eol + 2 + len + 2) {
        if (!Fill()) Die("connection closed in a chunk");
      }
      body->append(in_, eol + 2, len);
      in_.erase(0, eol + 2 + len + 2);
      if (len == 0) return status;
    }
  }

  int fd_ = -1;
  std::string in_;
};

// --- The servers, as child processes.

struct Server {
  std::string name;
  pid_t pid = -1;
  int port = 0;
};

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Die("no free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Starts argv with stdout to `log`; waits until the port accepts.
Server Start(const std::string& name, std::vector<std::string> argv, int port,
             const std::string& log) {
  Server s{name, -1, port};
  s.pid = ::fork();
  if (s.pid == 0) {
    FILE* out = std::freopen(log.c_str(), "w", stdout);
    if (out == nullptr) std::_Exit(127);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::_Exit(127);
  }
  children.push_back(s.pid);
  for (int i = 0; i < 300; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (up) return s;
  }
  Die(name + " did not start (see " + log + ")");
}

void Stop(const Server& s) {
  ::kill(s.pid, SIGTERM);
  int status = 0;
  ::waitpid(s.pid, &status, 0);
}

// --- Requests.

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key%013llu", static_cast<unsigned long long>(i));
  return buf;  // 16 bytes
}

// A 100-byte item: pk (16) + "v" (1) + a 83-byte string.
std::string ItemJson(const std::string& table, uint64_t i) {
  return R"({"TableName":")" + table + R"(","Item":{"pk":{"S":")" + Key(i) + R"("},"v":{"S":")" +
         std::string(83, static_cast<char>('a' + i % 26)) + R"("}}})";
}

void Expect(Connection& c, const std::string& target, const std::string& body) {
  std::string response;
  const int status = c.Call(target, body, &response);
  if (status != 200) Die(target + " failed: " + std::to_string(status) + " " + response);
}

void CreateTables(int port, uint64_t items) {
  Connection c(port);
  Expect(c, "CreateTable",
         R"({"TableName":"bench_kv","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
         R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
         R"("BillingMode":"PAY_PER_REQUEST"})");
  Expect(
      c, "CreateTable",
      R"({"TableName":"bench_q","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},)"
      R"({"AttributeName":"sk","KeyType":"RANGE"}],"AttributeDefinitions":[)"
      R"({"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],)"
      R"("BillingMode":"PAY_PER_REQUEST"})");
  // dynalite keeps new tables CREATING for --createTableMs.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (uint64_t i = 0; i < items; ++i) Expect(c, "PutItem", ItemJson("bench_kv", i));
  for (uint64_t p = 0; p < 10; ++p) {
    for (uint64_t s = 0; s < 100; ++s) {
      Expect(c, "PutItem",
             R"({"TableName":"bench_q","Item":{"pk":{"S":")" + Key(p) + R"("},"sk":{"N":")" +
                 std::to_string(s) + R"("},"v":{"S":")" + std::string(76, 'q') + R"("}}})");
    }
  }
}

struct Figure {
  double rate = 0;
  double p50_us = 0, p99_us = 0;
};

// --connections threads, each on its own keep-alive connection, for
// --seconds. `make(thread, i)` returns the target and body of request i.
template <typename Make>
Figure Drive(const Flags& f, int port, Make make) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(f.connections));
  std::vector<std::thread> threads;
  for (int t = 0; t < f.connections; ++t) {
    threads.emplace_back([&, t] {
      Connection c(port);
      std::string response;
      auto& lat = latencies[static_cast<size_t>(t)];
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const auto [target, body] = make(t, i);
        const auto t0 = Clock::now();
        const int status = c.Call(target, body, &response);
        lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        if (status != 200) Die(target + ": " + std::to_string(status) + " " + response);
      }
    });
  }
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(f.seconds));
  stop = true;
  for (auto& th : threads) th.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Figure fig;
  fig.rate = static_cast<double>(all.size()) / secs;
  if (!all.empty()) {
    fig.p50_us = all[all.size() / 2];
    fig.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return fig;
}

// PutItem of new keys: for every run and thread, [items + ...).
Figure Puts(const Flags& f, int port, uint64_t run) {
  return Drive(f, port, [&](int t, uint64_t i) {
    const uint64_t k = f.items + (run * 64 + static_cast<uint64_t>(t)) * 10000000ull + i;
    return std::pair<std::string, std::string>("PutItem", ItemJson("bench_kv", k));
  });
}

std::map<std::string, Figure> RunWorkloads(const Flags& f, int port, uint64_t run) {
  std::map<std::string, Figure> out;
  out["put"] = Puts(f, port, run);
  out["get"] = Drive(f, port, [&](int t, uint64_t i) {
    const uint64_t k = (static_cast<uint64_t>(t) * 7919 + i * 104729) % f.items;
    return std::pair<std::string, std::string>(
        "GetItem", R"({"TableName":"bench_kv","Key":{"pk":{"S":")" + Key(k) + R"("}}})");
  });
  out["query"] = Drive(f, port, [&](int t, uint64_t i) {
    const uint64_t p = (static_cast<uint64_t>(t) + i) % 10;
    return std::pair<std::string, std::string>(
        "Query", R"({"TableName":"bench_q","KeyConditionExpression":"pk = :p",)"
                 R"("ExpressionAttributeValues":{":p":{"S":")" +
                     Key(p) + R"("}}})");
  });
  return out;
}

// --- PutItem over HTTP -> handler start.

// Runs `runnel --db DIR ARGS...` to completion; its stdout.
std::string RunTool(const Flags& f, const std::string& db, const std::vector<std::string>& args) {
  std::string cmd = "'" + f.runnel + "' --db '" + db + "'";
  for (const std::string& a : args) cmd += " '" + a + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) Die("popen " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (::pclose(p) != 0) Die("failed: " + cmd + "\n" + out);
  return out;
}

// Before the host starts: a typed table with a stream, the plugin as a
// function and a mapping from LATEST, made with the runnel tool.
void SetUpLatency(const Flags& f, const std::string& db) {
  RunTool(
      f, db,
      {"create-table", "--table-name", "bench_lat", "--key-schema", "AttributeName=pk,KeyType=HASH",
       "--attribute-definitions", "AttributeName=pk,AttributeType=S", "--stream-specification",
       "StreamEnabled=true,StreamViewType=NEW_IMAGE"});
  const std::string d = RunTool(f, db, {"describe-table", "--table-name", "bench_lat"});
  const std::string field = "\"LatestStreamArn\": \"";
  const size_t at = d.find(field);
  if (at == std::string::npos) Die("no stream ARN in: " + d);
  const size_t begin = at + field.size();
  const std::string arn = d.substr(begin, d.find('"', begin) - begin);
  RunTool(f, db, {"create-function", "--function-name", "lat", "--library", f.plugin});
  RunTool(f, db,
          {"create-event-source-mapping", "--function-name", "lat", "--event-source", arn,
           "--batch-size", "1", "--starting-position", "LATEST"});
}

// One PutItem at a time; for each, the time from sending the request to the
// handler's start (read off the FIFO) and to the response.
void MeasureLatency(const Flags& f, int port, int fifo) {
  Connection c(port);
  std::vector<double> to_handler, to_response;
  std::string response, pending;
  for (uint64_t i = 0; i < f.latency_puts; ++i) {
    const std::string body = R"({"TableName":"bench_lat","Item":{"pk":{"S":")" + Key(i) +
                             R"("},"v":{"S":")" + std::string(83, 'l') + R"("}}})";
    const auto t0 = Clock::now();
    if (c.Call("PutItem", body, &response) != 200) Die("PutItem: " + response);
    const auto t1 = Clock::now();
    size_t eol;
    while ((eol = pending.find('\n')) == std::string::npos) {
      char buf[256];
      const ssize_t n = ::read(fifo, buf, sizeof buf);
      if (n <= 0) Die("the latency FIFO closed");
      pending.append(buf, static_cast<size_t>(n));
    }
    const double started_ns = static_cast<double>(std::atoll(pending.c_str()));
    pending.erase(0, eol + 1);
    const double sent_ns = static_cast<double>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t0.time_since_epoch()).count());
    to_handler.push_back((started_ns - sent_ns) / 1000.0);
    to_response.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(to_handler.begin(), to_handler.end());
  std::sort(to_response.begin(), to_response.end());
  const auto pct = [](const std::vector<double>& v, size_t p) {
    return v[std::min(v.size() - 1, v.size() * p / 100)];
  };
  std::printf(
      "\nPutItem over HTTP -> handler start (%llu sequential puts, batch size 1): p50 %.0f us, "
      "p99 %.0f us; PutItem response: p50 %.0f us, p99 %.0f us\n",
      static_cast<unsigned long long>(f.latency_puts), pct(to_handler, 50), pct(to_handler, 99),
      pct(to_response, 50), pct(to_response, 99));
}

// --- The machine's own ceilings, measured in the same run.

// A server that answers every request with one fixed GetItem-shaped 200 and
// does nothing else (no parsing beyond the framing, no DB), in a child
// process on one thread: what loopback HTTP with this client reaches on
// this machine. No server that does work can beat it.
pid_t StartFixedServer(int port) {
  const int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(ls, 128) != 0) {
    Die("fixed server: bind/listen: " + std::string(std::strerror(errno)));
  }
  const pid_t pid = ::fork();
  if (pid < 0) Die("fork");
  if (pid > 0) {
    ::close(ls);
    children.push_back(pid);
    return pid;
  }
  const std::string body =
      R"({"Item":{"pk":{"S":"k000000000000001"},"v":{"S":")" + std::string(90, 'x') + R"("}}})";
  const std::string resp =
      "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: "
      "00000000-0000-4000-8000-000000000000\r\nx-amz-crc32: 0\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  const int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = ls;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  std::map<int, std::string> in;
  epoll_event evs[64];
  char buf[65536];
  for (;;) {
    const int n = ::epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == ls) {
        int c;
        while ((c = ::accept4(ls, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
        }
        continue;
      }
      const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r <= 0) {
        ::close(fd);
        in.erase(fd);
        continue;
      }
      std::string& b = in[fd];
      b.append(buf, static_cast<size_t>(r));
      for (;;) {
        const size_t end = b.find("\r\n\r\n");
        if (end == std::string::npos) break;
        const char* cl = ::strcasestr(b.c_str(), "content-length:");
        const size_t len = cl != nullptr ? std::strtoull(cl + 15, nullptr, 10) : 0;
        if (b.size() < end + 4 + len) break;
        b.erase(0, end + 4 + len);
        (void)!::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
      }
    }
  }
}

// The median time of an fdatasync after a 512-byte append, in a file beside
// the servers' data: a durable write cannot be acknowledged sooner.
double FsyncMicros(const std::string& dir) {
  const std::string path = dir + "/fsync_probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die("open " + path);
  const std::string block(512, 'f');
  std::vector<double> us;
  for (int i = 0; i < 200; ++i) {
    const auto t0 = Clock::now();
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      Die("fsync probe: " + std::string(std::strerror(errno)));
    }
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  ::close(fd);
  ::unlink(path.c_str());
  return Median(us);
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string dir = f.dir + "/endpoint_bench." + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::printf("machine: nproc=%ld; connections=%d seconds=%.1f runs=%d items=%llu\n",
              ::sysconf(_SC_NPROCESSORS_ONLN), f.connections, f.seconds, f.runs,
              static_cast<unsigned long long>(f.items));

  const std::string fifo_path = dir + "/latency.fifo";
  int fifo = -1;
  if (f.latency_puts > 0) {
    SetUpLatency(f, dir + "/runnel");
    if (::mkfifo(fifo_path.c_str(), 0600) != 0) Die("mkfifo: " + std::string(strerror(errno)));
    ::setenv("RUNNEL_BENCH_FIFO", fifo_path.c_str(), 1);
    fifo = ::open(fifo_path.c_str(), O_RDWR | O_CLOEXEC);  // RDWR: opens without a writer
    if (fifo < 0) Die("open the FIFO");
  }
  const int rport = FreePort();
  Server runnel = Start(
      "runnel",
      {f.runnel, "--db", dir + "/runnel", "run", "--listen", "127.0.0.1:" + std::to_string(rport)},
      rport, dir + "/runnel.log");
  const int dport = FreePort();
  Server dynalite =
      Start("dynalite",
            {"node", f.dynalite, "--host", "127.0.0.1", "--port", std::to_string(dport), "--path",
             dir + "/dynalite", "--createTableMs", "1"},
            dport, dir + "/dynalite.log");
  // runnel with dynalite's durability (--no-sync: a write survives a crash
  // of the process, not of the machine), for PutItem like for like.
  const int nport = FreePort();
  Server unsynced = Start("runnel --no-sync",
                          {f.runnel, "--db", dir + "/runnel-nosync", "run", "--no-sync", "--listen",
                           "127.0.0.1:" + std::to_string(nport)},
                          nport, dir + "/runnel-nosync.log");
  const int fport = FreePort();
  const pid_t fixed = StartFixedServer(fport);
  const auto t0 = Clock::now();
  CreateTables(rport, f.items);
  CreateTables(dport, f.items);
  CreateTables(nport, 200);
  std::printf("loaded %llu + 1000 items into each in %.1f s\n\n",
              static_cast<unsigned long long>(f.items),
              std::chrono::duration<double>(Clock::now() - t0).count());

  std::map<std::string, std::vector<double>> r_rate, d_rate, ratio, r_p50, r_p99, d_p50, d_p99;
  std::vector<double> fixed_rate, fixed_ratio, fsync_us, fsync_ratio;
  for (int run = 0; run < f.runs; ++run) {
    std::printf("--- run %d/%d (load average %s)\n", run + 1, f.runs, LoadAvg().c_str());
    std::map<std::string, Figure> r, d;
    const uint64_t id = static_cast<uint64_t>(run);
    if (run % 2 == 0) {
      r = RunWorkloads(f, rport, id);
      d = RunWorkloads(f, dport, id);
    } else {
      d = RunWorkloads(f, dport, id);
      r = RunWorkloads(f, rport, id);
    }
    r["put-nosync"] = Puts(f, nport, id);
    d["put-nosync"] = d["put"];
    for (const char* w : {"put", "put-nosync", "get", "query"}) {
      r_rate[w].push_back(r[w].rate);
      d_rate[w].push_back(d[w].rate);
      ratio[w].push_back(r[w].rate / d[w].rate);
      r_p50[w].push_back(r[w].p50_us);
      r_p99[w].push_back(r[w].p99_us);
      d_p50[w].push_back(d[w].p50_us);
      d_p99[w].push_back(d[w].p99_us);
      std::printf(
          "%-10s runnel %8.0f req/s (p50 %6.0f us, p99 %6.0f us)  dynalite %7.0f req/s "
          "(p50 %6.0f us, p99 %6.0f us)  ratio %.1fx\n",
          w, r[w].rate, r[w].p50_us, r[w].p99_us, d[w].rate, d[w].p50_us, d[w].p99_us,
          r[w].rate / d[w].rate);
    }
    // The ceilings of this machine in this run: loopback HTTP with nothing
    // behind it, and the fsync that bounds durable writes (8 connections
    // with one request each in flight: at most 8 writes per fsync).
    const Figure empty = Drive(f, fport, [](int, uint64_t) {
      return std::pair<std::string, std::string>("GetItem", "{}");
    });
    const double fs = FsyncMicros(dir);
    const double put_bound = f.connections * 1e6 / fs;
    fixed_rate.push_back(empty.rate);
    fixed_ratio.push_back(empty.rate / d["get"].rate);
    fsync_us.push_back(fs);
    fsync_ratio.push_back(put_bound / d["put"].rate);
    std::printf(
        "ceiling: a fixed-answer server (no work) %.0f req/s = %.1fx dynalite's GetItem; "
        "fdatasync p50 %.0f us: durable PutItem <= %.0f req/s = %.1fx dynalite's PutItem\n",
        empty.rate, empty.rate / d["get"].rate, fs, put_bound, put_bound / d["put"].rate);
  }
  // The server's own ceiling on this machine and client: an operation that
  // does no DB work and parses next to no JSON (runnel only; dynalite does
  // not serve DescribeEndpoints).
  const Figure ceiling = Drive(f, rport, [](int, uint64_t) {
    return std::pair<std::string, std::string>("DescribeEndpoints", "{}");
  });
  std::printf(
      "\nrunnel DescribeEndpoints (no DB work, the HTTP + dispatch ceiling): %.0f req/s "
      "(p50 %.0f us, p99 %.0f us)\n",
      ceiling.rate, ceiling.p50_us, ceiling.p99_us);
  if (f.latency_puts > 0) MeasureLatency(f, rport, fifo);
  Stop(runnel);
  Stop(unsynced);
  Stop(dynalite);
  ::kill(fixed, SIGKILL);
  ::waitpid(fixed, nullptr, 0);
  std::filesystem::remove_all(dir);

  std::printf(
      "\n| workload | runnel req/s | dynalite req/s | ratio | target | result | runnel "
      "p50/p99 us | dynalite p50/p99 us |\n|---|---|---|---|---|---|---|---|\n");
  const std::map<std::string, double> targets = {
      {"put", 10}, {"put-nosync", 10}, {"get", 10}, {"query", 5}};
  for (const char* w : {"put", "put-nosync", "get", "query"}) {
    const double m = Median(ratio[w]);
    std::printf("| %s | %.0f | %.0f | %.1fx | >= %.0fx | %s | %.0f / %.0f | %.0f / %.0f |\n", w,
                Median(r_rate[w]), Median(d_rate[w]), m, targets.at(w),
                m >= targets.at(w) ? "met" : "MISSED", Median(r_p50[w]), Median(r_p99[w]),
                Median(d_p50[w]), Median(d_p99[w]));
  }
  std::printf(
      "machine ceilings (medians): a fixed-answer server %.0f req/s = %.1fx dynalite's GetItem; "
      "fdatasync %.0f us, so durable PutItem at %d connections <= %.1fx dynalite's PutItem\n",
      Median(fixed_rate), Median(fixed_ratio), Median(fsync_us), f.connections,
      Median(fsync_ratio));
  std::printf("(load average at the end: %s)\n", LoadAvg().c_str());
  return 0;
}
