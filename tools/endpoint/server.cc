// Copyright 2026 The runnel Authors.

#include "tools/endpoint/server.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "util/random.h"

namespace runnel::endpoint {
namespace {

constexpr std::string_view kCoral = "com.amazon.coral.service";

const char* StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Request Entity Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

// An error of the server itself (limits, timeouts, auth) in the shape the
// request's service uses: Lambda's REST errors, or JSON 1.0 (1.1 for Logs).
HttpResponse ServiceError(Service service, int status, std::string_view type,
                          std::string_view message) {
  if (service == Service::kLambda) return RestError(status, type, message);
  HttpResponse r = JsonError(status, kCoral, type, message);
  if (service == Service::kLogs) {
    for (auto& [name, value] : r.headers) {
      if (name == "Content-Type") value = "application/x-amz-json-1.1";
    }
  }
  return r;
}

// A header the server may send: a token name (not one kj sets itself) and
// a value without control characters (kj refuses those by throwing).
bool Sendable(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= ' ' || c >= 127 || std::strchr("\"(),/:;<=>?@[\\]{}", c) != nullptr) return false;
  }
  for (unsigned char c : value) {
    if ((c < ' ' && c != '\t') || c == 127) return false;
  }
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower != "content-length" && lower != "transfer-encoding" && lower != "connection" &&
         lower != "x-amzn-requestid" && lower != "x-amz-crc32";
}

bool IsJson10(const HttpResponse& r) {
  for (const auto& [name, value] : r.headers) {
    if (strcasecmp(name.c_str(), "content-type") == 0) {
      return value.rfind("application/x-amz-json-1.0", 0) == 0;
    }
  }
  return false;
}

// The answer to one whole request: SigV4 (when credentials are
// configured), then Dispatch. Runs on a worker: hashing a large body and the
// service's DB calls both stay off the event loop.
HttpResponse Answer(DB* db, const ServerOptions& options, const HttpRequest& request,
                    const std::string& id) {
  if (!options.credentials.empty()) {
    SigV4Policy policy;
    policy.credentials = &options.credentials;
    policy.region = options.region;
    policy.now = std::chrono::system_clock::now();
    if (auto e = VerifySigV4(request, policy)) {
      const Service service = ServiceOf(request);
      const int status = service == Service::kLambda ? 403 : 400;
      return ServiceError(service, status, e->type, e->message);
    }
  }
  ServiceContext ctx;
  ctx.db = db;
  ctx.region = options.region;
  ctx.account = options.account;
  ctx.db_dir = options.db_dir;
  ctx.request_id = id;
  ctx.unsynced_writes = options.unsynced_writes;
  try {
    return Dispatch(ctx, request);
  } catch (const std::exception& e) {  // (Dispatch promises not to throw)
    return JsonError(500, kCoral, "InternalServerError", e.what());
  }
}

// A Dispatch call waiting for, or running on, a worker.
struct Job {
  std::shared_ptr<const HttpRequest> request;
  std::string request_id;
  kj::Own<kj::CrossThreadPromiseFulfiller<kj::Own<HttpResponse>>> fulfiller;
  // (kj::Own's destructor may throw in principle; the job's must not.)
  ~Job() noexcept {}
};

// Threads for the requests that may block (MayBlock), started on demand up
// to a maximum and kept for the next requests. The event loop never waits
// on a group commit's fsync or on a function.
class WorkerPool {
 public:
  WorkerPool(DB* db, const ServerOptions& options) : db_(db), options_(options) {}
  ~WorkerPool() {
    std::deque<std::unique_ptr<Job>> dropped;  // destroyed outside the lock
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      dropped.swap(queue_);
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void Submit(std::unique_ptr<Job> job) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
    // (A woken thread counts as idle until it takes the lock again: compare
    // with the queue, so that a burst of writes gets threads of its own and
    // shares one group commit instead of queueing behind one fsync.)
    if (queue_.size() > static_cast<size_t>(idle_) &&
        threads_.size() < static_cast<size_t>(options_.max_workers)) {
      threads_.emplace_back([this] { Loop(); });
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      --idle_;
      if (stopping_) return;
      std::unique_ptr<Job> job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      Run(*job);
      job.reset();
      lock.lock();
    }
  }
  void Run(Job& job) {
    HttpResponse r;
    try {
      r = Answer(db_, options_, *job.request, job.request_id);
    } catch (const std::exception& e) {  // (SigV4's allocations, say: not the process)
      r = JsonError(500, kCoral, "InternalServerError", e.what());
    }
    job.fulfiller->fulfill(kj::heap<HttpResponse>(std::move(r)));
  }

  DB* const db_;
  const ServerOptions& options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool stopping_ = false;
};

// A request id: a version-4 UUID from a per-thread SplitMix64 stream seeded
// by getrandom. An id must be unique, not secret, and a getrandom call per
// request was a measurable share of a GetItem.
std::string RequestId() {
  thread_local uint64_t state = RandomU64();
  uint8_t b[16];
  for (int half = 0; half < 2; ++half) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(b + 8 * half, &z, 8);
  }
  b[6] = static_cast<uint8_t>(0x40 | (b[6] & 0x0f));  // version 4
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f));  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[b[i] >> 4];
    id += kHex[b[i] & 15];
  }
  return id;
}

// The path and query of a request target (origin form, or absolute form
// as proxies send it).
void SplitTarget(std::string_view url, HttpRequest* request) {
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
    const size_t authority = url.find("//") + 2;
    const size_t path = url.find_first_of("/?", authority);
    url = path == std::string_view::npos ? std::string_view("/") : url.substr(path);
  }
  const size_t q = url.find('?');
  request->path = std::string(url.substr(0, q));
  if (q != std::string_view::npos) request->query = std::string(url.substr(q + 1));
}

// The whole response as it goes on the wire, in one or two pieces.
struct Wire {
  std::string head;
  std::string body;
  std::array<kj::ArrayPtr<const kj::byte>, 2> pieces;
};

// Responses up to this size are copied behind their head (one write);
// larger ones go out as two pieces (writev) without the copy.
constexpr size_t kCopyBodyBytes = 16u << 10;

// A HEAD request's answer has the head only (its Content-Length is the body
// a GET would get).
kj::Own<Wire> Serialize(HttpResponse r, const std::string& id, bool close, bool head_only = false) {
  auto w = kj::heap<Wire>();
  const int status = r.status >= 100 && r.status <= 599 ? r.status : 500;
  std::string& h = w->head;
  h.reserve(256 + (r.body.size() <= kCopyBodyBytes ? r.body.size() : 0));
  h += "HTTP/1.1 ";
  h += std::to_string(status);
  h += ' ';
  h += StatusText(status);
  h += "\r\n";
  for (const auto& [name, value] : r.headers) {
    if (!Sendable(name, value)) continue;
    h += name;
    h += ": ";
    h += value;
    h += "\r\n";
  }
  h += "x-amzn-RequestId: ";
  h += id;
  if (IsJson10(r)) {
    h += "\r\nx-amz-crc32: ";
    h += std::to_string(Crc32(r.body));
  }
  h += "\r\nContent-Length: ";
  h += std::to_string(r.body.size());
  if (close) h += "\r\nConnection: close";
  h += "\r\n\r\n";
  if (head_only) {
    // (no body)
  } else if (r.body.size() <= kCopyBodyBytes) {
    h += r.body;
  } else {
    w->body = std::move(r.body);
  }
  w->pieces[0] =
      kj::ArrayPtr<const kj::byte>(reinterpret_cast<const kj::byte*>(h.data()), h.size());
  w->pieces[1] = kj::ArrayPtr<const kj::byte>(reinterpret_cast<const kj::byte*>(w->body.data()),
                                              w->body.size());
  return w;
}

}  // namespace

uint32_t Crc32(std::string_view data) {
  // (zlib's: several bytes per step, where a byte-wise table is the
  // endpoint's largest cost per byte of a Query answer.)
  uLong crc = ::crc32(0L, Z_NULL, 0);
  while (!data.empty()) {
    const uInt n = static_cast<uInt>(std::min<size_t>(data.size(), 1u << 30));
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(data.data()), n);
    data.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

namespace {
class Connection;
}  // namespace

struct Server::Impl final : public kj::TaskSet::ErrorHandler {
  Impl(kj::Timer& t, DB* d, ServerOptions o) : timer(t), db(d), options(std::move(o)) {
    if (options.max_workers > 0) pool = std::make_unique<WorkerPool>(db, options);
  }

  // A connection's failure (the peer reset it) ends only that connection.
  void taskFailed(kj::Exception&&) override {}

  // The answer to a whole request: on the event loop when it cannot block,
  // else on a worker.
  kj::Promise<kj::Own<HttpResponse>> Answer(std::shared_ptr<const HttpRequest> request,
                                            const std::string& id) {
    if (pool == nullptr || !MayBlock(*request)) {
      return kj::heap<HttpResponse>(endpoint::Answer(db, options, *request, id));
    }
    auto paf = kj::newPromiseAndCrossThreadFulfiller<kj::Own<HttpResponse>>();
    auto job = std::make_unique<Job>();
    job->request = std::move(request);
    job->request_id = id;
    job->fulfiller = kj::mv(paf.fulfiller);
    pool->Submit(std::move(job));
    return kj::mv(paf.promise);
  }

  void Ended(Connection* c);

  kj::Timer& timer;
  DB* db;
  const ServerOptions options;
  // Destroyed after the connections: none waits on a job any more.
  std::unique_ptr<WorkerPool> pool;
  std::set<Connection*> connections;
  // Bytes of request bodies the connections hold (ServerOptions::
  // max_request_memory_bytes).
  uint64_t held_bytes = 0;
  kj::TimePoint last_accept_error = kj::origin<kj::TimePoint>();
  bool draining = false;
  kj::Own<kj::PromiseFulfiller<void>> drained;
  kj::Maybe<kj::ForkedPromise<void>> drained_fork;
  // The connections Listen accepted.
  kj::TaskSet tasks{*this};
};

namespace {

// One HTTP/1.1 connection: requests parsed by http_parser as their bytes
// arrive, answered one at a time in order (pipelined ones wait their turn),
// each answer written whole before the next request is read.
//
// Timeouts cost no timer per request: one watchdog sleeps until the
// earliest deadline armed so far and, when it wakes, sleeps again until the
// current deadline if that has moved later. Only a deadline that moves
// earlier (a request that arrives in pieces) re-arms it.
class Connection {
 public:
  Connection(Server::Impl& server, kj::Own<kj::AsyncIoStream> stream)
      : server_(server), stream_(kj::mv(stream)), buffer_(kReadBytes) {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    server_.connections.insert(this);
  }
  ~Connection() {
    uint64_t held = parsing_charge_ + answering_charge_;
    for (const Ready& r : ready_) held += r.charge;
    Release(held);
    server_.Ended(this);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  kj::Promise<void> Run() {
    auto paf = kj::newPromiseAndFulfiller<void>();
    stop_ = kj::mv(paf.fulfiller);
    idle_deadline_ = server_.timer.now() + server_.options.header_timeout;
    Arm(idle_deadline_);
    // (The stop branch must win the join at once, so that Loop, and its
    // pending read, is cancelled before a 408 is written: a body that
    // arrives meanwhile must never complete the request.)
    return Loop().exclusiveJoin(kj::mv(paf.promise)).then([this] { return Stopped(); });
  }

  // Between requests: nothing of a next request read, none being answered.
  bool Idle() const { return !busy_ && !in_message_ && ready_.empty(); }
  // Ends an idle connection (Drain).
  void Abort() {
    if (!stopping_) {
      stopping_ = true;
      stop_->fulfill();
    }
  }

 private:
  static constexpr size_t kReadBytes = 64u << 10;

  kj::Promise<void> Loop();
  kj::Promise<void> Stopped();
  kj::Promise<void> Refuse(HttpResponse r);
  // Writes `wire` whole, within the write timeout.
  kj::Promise<void> Write(kj::Own<Wire> wire);
  // Counts `n` more bytes of the request being parsed against the server's
  // request memory; false (and a throttling refusal) if they do not fit.
  bool Charge(uint64_t n);
  void Release(uint64_t n) { server_.held_bytes -= n; }
  kj::Promise<void> DropInput();
  void Feed(const char* data, size_t n);
  void UpdateDeadline();
  void Arm(kj::TimePoint deadline);
  kj::Promise<void> Watch();
  void SetRefusal(int status, std::string_view type, std::string message);

  static int OnMessageBegin(http_parser* p);
  static int OnUrl(http_parser* p, const char* at, size_t n);
  static int OnHeaderField(http_parser* p, const char* at, size_t n);
  static int OnHeaderValue(http_parser* p, const char* at, size_t n);
  static int OnHeadersComplete(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t n);
  static int OnMessageComplete(http_parser* p);
  static const http_parser_settings kSettings;
  static Connection& Of(http_parser* p) { return *static_cast<Connection*>(p->data); }
  bool HeadTooLarge(size_t n);

  Server::Impl& server_;
  kj::Own<kj::AsyncIoStream> stream_;
  std::vector<char> buffer_;
  http_parser parser_;

  // The request being parsed.
  std::shared_ptr<HttpRequest> request_;
  std::string url_;
  bool in_value_ = false;
  size_t head_bytes_ = 0;
  uint64_t limit_ = 0;
  bool in_message_ = false, headers_done_ = false;
  bool expect_continue_ = false;
  kj::TimePoint message_start_ = kj::origin<kj::TimePoint>();
  kj::TimePoint headers_end_ = kj::origin<kj::TimePoint>();

  // Parsed, waiting for their answers; with their keep-alive and the bytes
  // they hold of the server's request memory.
  struct Ready {
    std::shared_ptr<HttpRequest> request;
    bool keep_alive;
    uint64_t charge;
  };
  std::deque<Ready> ready_;
  uint64_t parsing_charge_ = 0;    // the request being parsed
  uint64_t answering_charge_ = 0;  // the request being answered
  bool charged_upfront_ = false;   // by its Content-Length
  // Sent instead of an answer once the requests before it are answered;
  // then the connection closes.
  std::unique_ptr<HttpResponse> refusal_;
  bool busy_ = false;
  bool writing_ = false;  // an answer is on its way (the write timeout runs)

  kj::TimePoint idle_deadline_ = kj::origin<kj::TimePoint>();
  kj::TimePoint deadline_ = kj::origin<kj::TimePoint>();
  kj::TimePoint armed_ = kj::origin<kj::TimePoint>();
  kj::Promise<void> watchdog_ = nullptr;
  bool watching_ = false;
  kj::Own<kj::PromiseFulfiller<void>> stop_;
  bool stopping_ = false, timed_out_ = false, write_timed_out_ = false;
};

const http_parser_settings Connection::kSettings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = &Connection::OnMessageBegin;
  s.on_url = &Connection::OnUrl;
  s.on_header_field = &Connection::OnHeaderField;
  s.on_header_value = &Connection::OnHeaderValue;
  s.on_headers_complete = &Connection::OnHeadersComplete;
  s.on_body = &Connection::OnBody;
  s.on_message_complete = &Connection::OnMessageComplete;
  return s;
}();

kj::Promise<void> Connection::Loop() {
  if (!ready_.empty()) {
    std::shared_ptr<HttpRequest> request = std::move(ready_.front().request);
    const bool keep_alive = ready_.front().keep_alive;
    const bool head_only = request->method == "HEAD";
    answering_charge_ = ready_.front().charge;
    ready_.pop_front();
    busy_ = true;
    std::string id = RequestId();
    return server_.Answer(std::move(request), id)
        .then([this, id, keep_alive, head_only](kj::Own<HttpResponse> r) {
          const bool close = !keep_alive || (server_.draining && ready_.empty() && !in_message_);
          return Write(Serialize(std::move(*r), id, close, head_only))
              .then([this, close]() -> kj::Promise<void> {
                busy_ = false;
                Release(answering_charge_);
                answering_charge_ = 0;
                if (close) {
                  stream_->shutdownWrite();
                  return kj::READY_NOW;
                }
                const kj::TimePoint now = server_.timer.now();
                idle_deadline_ = now + server_.options.idle_timeout;
                // (A pipelined request read in part before this answer is
                // not charged for the time the server spent answering.)
                if (in_message_) (headers_done_ ? headers_end_ : message_start_) = now;
                UpdateDeadline();
                return Loop();
              });
        });
  }
  if (refusal_ != nullptr) {
    HttpResponse r = std::move(*refusal_);
    refusal_.reset();
    return Refuse(std::move(r));
  }
  if (server_.draining && !in_message_) return kj::READY_NOW;
  if (expect_continue_) {
    expect_continue_ = false;
    auto wire = kj::heap<Wire>();
    wire->head = "HTTP/1.1 100 Continue\r\n\r\n";
    return Write(kj::mv(wire)).then([this] { return Loop(); });
  }
  return stream_->tryRead(buffer_.data(), 1, buffer_.size())
      .then([this](size_t n) -> kj::Promise<void> {
        if (n == 0) return kj::READY_NOW;  // the peer closed; a partial request is dropped
        Feed(buffer_.data(), n);
        UpdateDeadline();
        return Loop();
      });
}

// A refusal (a malformed request, a limit, a timeout) ends the connection:
// the answer, then the rest of what the client sends is read and dropped
// for a grace period, so that closing with unread bytes (a TCP reset) does
// not destroy the answer before the client reads it.
kj::Promise<void> Connection::Refuse(HttpResponse r) {
  busy_ = true;
  return Write(Serialize(std::move(r), RequestId(), true)).then([this]() {
    stream_->shutdownWrite();
    return DropInput().exclusiveJoin(server_.timer.afterDelay(server_.options.unread_body_grace));
  });
}

kj::Promise<void> Connection::Write(kj::Own<Wire> wire) {
  writing_ = true;
  Arm(server_.timer.now() + server_.options.write_timeout);
  auto written = wire->body.empty()
                     ? stream_->write(wire->head.data(), wire->head.size())
                     : stream_->write(kj::arrayPtr(wire->pieces.data(), wire->pieces.size()));
  return written.attach(kj::mv(wire)).then([this] { writing_ = false; });
}

kj::Promise<void> Connection::DropInput() {
  return stream_->tryRead(buffer_.data(), 1, buffer_.size())
      .then([this](size_t n) -> kj::Promise<void> {
        if (n == 0) return kj::READY_NOW;
        return DropInput();
      });
}

// The watchdog or Drain ended the connection; a request whose body was on
// its way gets a 408 (unless the client stopped taking answers: then the
// connection just closes).
kj::Promise<void> Connection::Stopped() {
  if (timed_out_ && !write_timed_out_ && in_message_ && headers_done_) {
    // (The watchdog has ended: this answer's write gets its own timeout.)
    const ServerOptions& o = server_.options;
    return Refuse(ServiceError(ServiceOf(*request_), 408, "RequestTimeoutException",
                               "The request body did not arrive in time"))
        .exclusiveJoin(server_.timer.afterDelay(o.write_timeout + o.unread_body_grace));
  }
  return kj::READY_NOW;
}

void Connection::Feed(const char* data, size_t n) {
  while (n > 0 && refusal_ == nullptr) {
    const size_t parsed = http_parser_execute(&parser_, &kSettings, data, n);
    const http_errno error = HTTP_PARSER_ERRNO(&parser_);
    if (error == HPE_PAUSED) return;  // a callback refused the request
    if (error != HPE_OK) {
      if (error == HPE_HEADER_OVERFLOW) {
        SetRefusal(431, "RequestHeaderFieldsTooLarge",
                   "The request's headers exceed " +
                       std::to_string(server_.options.max_header_bytes) + " bytes");
      } else {
        SetRefusal(400, "BadRequestException",
                   std::string("Malformed HTTP request: ") + http_errno_description(error));
      }
      return;
    }
    if (parsed < n && parser_.upgrade) {
      // (An Upgrade: h2c offer, say: it is declined by answering in
      // HTTP/1.1; the parser stops at such a request, so start it again.)
      http_parser_init(&parser_, HTTP_REQUEST);
      parser_.data = this;
    }
    data += parsed;
    n -= parsed;
  }
}

void Connection::SetRefusal(int status, std::string_view type, std::string message) {
  const Service service = request_ != nullptr ? ServiceOf(*request_) : Service::kNone;
  refusal_ = std::make_unique<HttpResponse>(ServiceError(service, status, type, message));
  // (The request being parsed is dropped, and its body with it.)
  Release(parsing_charge_);
  parsing_charge_ = 0;
}

bool Connection::Charge(uint64_t n) {
  const uint64_t budget = server_.options.max_request_memory_bytes;
  if (server_.held_bytes + n <= budget) {
    server_.held_bytes += n;
    parsing_charge_ += n;
    return true;
  }
  const bool lambda = ServiceOf(*request_) == Service::kLambda;
  SetRefusal(lambda ? 429 : 400, lambda ? "TooManyRequestsException" : "ThrottlingException",
             "The endpoint holds " + std::to_string(budget) +
                 " bytes of request bodies at most (--max-request-memory-mb) and is busy with "
                 "others; retry the request later");
  http_parser_pause(&parser_, 1);
  return false;
}

void Connection::UpdateDeadline() {
  const ServerOptions& o = server_.options;
  kj::TimePoint d = idle_deadline_;
  if (in_message_)
    d = headers_done_ ? headers_end_ + o.body_timeout : message_start_ + o.header_timeout;
  Arm(d);
}

void Connection::Arm(kj::TimePoint deadline) {
  deadline_ = deadline;
  if (!watching_ || deadline < armed_) {
    watching_ = true;
    armed_ = deadline;
    watchdog_ = Watch().eagerlyEvaluate(nullptr);
  }
}

kj::Promise<void> Connection::Watch() {
  return server_.timer.atTime(armed_).then([this]() -> kj::Promise<void> {
    const kj::TimePoint now = server_.timer.now();
    // (While the server works on an answer, no client deadline runs; while
    // the answer is written, the write's does.)
    const bool working = busy_ && !writing_;
    if (working || now < deadline_) {
      armed_ = working ? std::max(deadline_, now + 1 * kj::SECONDS) : deadline_;
      return Watch();
    }
    if (!stopping_) {
      stopping_ = timed_out_ = true;
      write_timed_out_ = writing_;
      stop_->fulfill();
    }
    return kj::READY_NOW;
  });
}

bool Connection::HeadTooLarge(size_t n) {
  head_bytes_ += n;
  if (head_bytes_ <= server_.options.max_header_bytes) return false;
  SetRefusal(431, "RequestHeaderFieldsTooLarge",
             "The request's headers exceed " + std::to_string(server_.options.max_header_bytes) +
                 " bytes");
  http_parser_pause(&parser_, 1);
  return true;
}

int Connection::OnMessageBegin(http_parser* p) {
  Connection& c = Of(p);
  c.request_ = std::make_shared<HttpRequest>();
  c.charged_upfront_ = false;
  c.url_.clear();
  c.in_value_ = false;
  c.head_bytes_ = 0;
  c.in_message_ = true;
  c.headers_done_ = false;
  c.message_start_ = c.server_.timer.now();
  return 0;
}

int Connection::OnUrl(http_parser* p, const char* at, size_t n) {
  Connection& c = Of(p);
  if (!c.HeadTooLarge(n)) c.url_.append(at, n);
  return 0;
}

int Connection::OnHeaderField(http_parser* p, const char* at, size_t n) {
  Connection& c = Of(p);
  // (Trailers of a chunked body come through here too: they are dropped,
  // never allowed to change the request after its limits were chosen.)
  if (c.headers_done_) return 0;
  if (c.HeadTooLarge(n + 4)) return 0;
  auto& headers = c.request_->headers;
  if (headers.empty() || c.in_value_) headers.emplace_back();
  c.in_value_ = false;
  std::string& name = headers.back().first;
  for (size_t i = 0; i < n; ++i) {
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(at[i])));
  }
  return 0;
}

int Connection::OnHeaderValue(http_parser* p, const char* at, size_t n) {
  Connection& c = Of(p);
  if (c.headers_done_) return 0;
  if (c.HeadTooLarge(n)) return 0;
  c.request_->headers.back().second.append(at, n);
  c.in_value_ = true;
  return 0;
}

int Connection::OnHeadersComplete(http_parser* p) {
  Connection& c = Of(p);
  HttpRequest& r = *c.request_;
  r.method = http_method_str(static_cast<http_method>(p->method));
  SplitTarget(c.url_, &r);
  c.headers_done_ = true;
  c.headers_end_ = c.server_.timer.now();
  const ServerOptions& o = c.server_.options;
  c.limit_ = std::min(ServiceOf(r) == Service::kLambda ? o.max_lambda_body_bytes : o.max_body_bytes,
                      o.max_request_memory_bytes);
  // (content_length is ULLONG_MAX when the request announces none.)
  if (p->content_length != ULLONG_MAX) {
    if (p->content_length > c.limit_) {
      c.SetRefusal(413, "RequestEntityTooLargeException",
                   "Request must be smaller than " + std::to_string(c.limit_ + 1) + " bytes");
      http_parser_pause(p, 1);
      return 0;
    }
    // (The whole announced body counts at once: a request admitted is never
    // refused half way.)
    if (!c.Charge(p->content_length)) return 0;
    c.charged_upfront_ = true;
    // (Not more up front than a typical request: a client that announces a
    // large body must send it to make the server hold it.)
    r.body.reserve(static_cast<size_t>(std::min<uint64_t>(p->content_length, 1u << 20)));
  }
  c.expect_continue_ = strcasecmp(std::string(r.Header("expect")).c_str(), "100-continue") == 0;
  return 0;
}

int Connection::OnBody(http_parser* p, const char* at, size_t n) {
  Connection& c = Of(p);
  std::string& body = c.request_->body;
  if (body.size() + n > c.limit_) {
    c.SetRefusal(413, "RequestEntityTooLargeException",
                 "Request must be smaller than " + std::to_string(c.limit_ + 1) + " bytes");
    http_parser_pause(p, 1);
    return 0;
  }
  if (!c.charged_upfront_ && !c.Charge(n)) return 0;
  body.append(at, n);
  return 0;
}

int Connection::OnMessageComplete(http_parser* p) {
  Connection& c = Of(p);
  c.ready_.push_back(
      Ready{std::move(c.request_), http_should_keep_alive(p) != 0, c.parsing_charge_});
  c.parsing_charge_ = 0;
  c.request_.reset();
  c.in_message_ = false;
  c.expect_continue_ = false;
  return 0;
}

}  // namespace

void Server::Impl::Ended(Connection* c) {
  connections.erase(c);
  if (draining && connections.empty() && drained.get() != nullptr) drained->fulfill();
}

Server::Server(kj::Timer& timer, DB* db, ServerOptions options)
    : impl_(std::make_unique<Impl>(timer, db, std::move(options))) {}

Server::~Server() = default;

kj::Promise<void> Server::Listen(kj::ConnectionReceiver& listener) {
  return listener.accept().then(
      [this, &listener](kj::Own<kj::AsyncIoStream> stream) {
        impl_->tasks.add(ServeConnection(kj::mv(stream)));
        return Listen(listener);
      },
      [this, &listener](kj::Exception&& e) {
        // Out of file descriptors or memory (EMFILE, ENFILE, ENOMEM): the
        // connections already open go on, and accepting resumes after a
        // pause, never stops for good. Said at most every 10 s.
        const kj::TimePoint now = impl_->timer.now();
        if (now - impl_->last_accept_error >= 10 * kj::SECONDS) {
          impl_->last_accept_error = now;
          std::fprintf(stderr,
                       "runnel: run: the endpoint cannot accept a connection (%s); retrying\n",
                       e.getDescription().cStr());
        }
        return impl_->timer.afterDelay(100 * kj::MILLISECONDS).then([this, &listener] {
          return Listen(listener);
        });
      });
}

kj::Promise<void> Server::ServeConnection(kj::Own<kj::AsyncIoStream> stream) {
  auto connection = kj::heap<Connection>(*impl_, kj::mv(stream));
  auto served = connection->Run();
  return served.attach(kj::mv(connection));
}

kj::Promise<void> Server::Drain() {
  impl_->draining = true;
  for (Connection* c :
       std::vector<Connection*>(impl_->connections.begin(), impl_->connections.end())) {
    if (c->Idle()) c->Abort();
  }
  if (impl_->connections.empty()) return kj::READY_NOW;
  KJ_IF_MAYBE (fork, impl_->drained_fork) {
    return fork->addBranch();
  }
  auto paf = kj::newPromiseAndFulfiller<void>();
  impl_->drained = kj::mv(paf.fulfiller);
  kj::ForkedPromise<void>& fork = impl_->drained_fork.emplace(paf.promise.fork());
  return fork.addBranch();
}

namespace {

bool IsLoopback(const sockaddr* a) {
  if (a->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(a);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (a->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a);
    return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
  }
  return false;
}

Status SplitHostPort(const std::string& host_port, std::string* host, std::string* port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == host_port.size()) {
    return Status::InvalidArgument("--listen: expected HOST:PORT, got '" + host_port + "'");
  }
  *host = host_port.substr(0, colon);
  *port = host_port.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  if (host->empty() || port->find_first_not_of("0123456789") != std::string::npos ||
      port->size() > 5 || std::stoi(*port) > 65535) {
    return Status::InvalidArgument("--listen: expected HOST:PORT (PORT 0-65535), got '" +
                                   host_port + "'");
  }
  return Status::OK();
}

std::string Url(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    return "http://[" + std::string(buf) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
  ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
  return "http://" + std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
}

}  // namespace

Status BindListener(const std::string& host_port, bool loopback_only, int* fd, std::string* url) {
  std::string host, port;
  Status s = SplitHostPort(host_port, &host, &port);
  if (!s.ok()) return s;
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return Status::InvalidArgument("--listen: cannot resolve '" + host + "': " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
  if (loopback_only && !IsLoopback(found->ai_addr)) {
    return Status::InvalidArgument(
        "--listen: " + host_port +
        " is not a loopback address; without credentials (--credentials FILE, or "
        "RUNNEL_ACCESS_KEY_ID and RUNNEL_SECRET_ACCESS_KEY) the endpoint serves loopback "
        "addresses (127.0.0.0/8, ::1) only");
  }
  const int sock = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (sock < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage bound = {};
  socklen_t len = sizeof(bound);
  if (::bind(sock, found->ai_addr, found->ai_addrlen) != 0 || ::listen(sock, 128) != 0 ||
      ::getsockname(sock, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    const int err = errno;
    ::close(sock);
    return Status::IOError("--listen: cannot listen on " + host_port + ": " + std::strerror(err));
  }
  *fd = sock;
  *url = Url(bound);
  return Status::OK();
}

}  // namespace runnel::endpoint
