// Copyright 2026 The runnel Authors.

#include "tools/endpoint/server.h"

#include <arpa/inet.h>
#include <kj/compat/http.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
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

// Threads for Dispatch, started on demand up to a maximum and kept for the
// next requests. Dispatch may block (a group commit's fsync, a synchronous
// Invoke); the event loop never does.
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
    if (idle_ == 0 && threads_.size() < static_cast<size_t>(options_.max_workers)) {
      threads_.emplace_back([this] { Loop(); });
    } else {
      cv_.notify_one();
    }
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
    job.fulfiller->fulfill(
        kj::heap<HttpResponse>(Answer(db_, options_, *job.request, job.request_id)));
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

// Appends the body to request->body, 64 KiB at a time, until the end of the
// body (true) or past `limit` bytes (false).
kj::Promise<bool> ReadBody(kj::AsyncInputStream& in, HttpRequest* request, uint64_t limit) {
  const size_t old = request->body.size();
  request->body.resize(old + 65536);
  return in.tryRead(&request->body[old], 1, 65536)
      .then([&in, request, limit, old](size_t n) -> kj::Promise<bool> {
        request->body.resize(old + n);
        if (n == 0) return true;
        if (request->body.size() > limit) return false;
        return ReadBody(in, request, limit);
      });
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

}  // namespace

uint32_t Crc32(std::string_view data) {
  static const auto kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) crc = kTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

struct Server::Impl final : public kj::HttpService, public kj::HttpServerErrorHandler {
  Impl(kj::Timer& t, DB* d, ServerOptions o)
      : timer(t), db(d), options(std::move(o)), table(kj::heap<kj::HttpHeaderTable>()) {
    if (options.max_workers > 0) pool = std::make_unique<WorkerPool>(db, options);
    kj::HttpServerSettings settings;
    settings.headerTimeout = options.header_timeout;
    settings.pipelineTimeout = options.idle_timeout;
    settings.canceledUploadGracePeriod = options.unread_body_grace;
    settings.errorHandler = *this;
    server = kj::heap<kj::HttpServer>(timer, *table, *this, settings);
  }

  kj::Promise<void> request(kj::HttpMethod method, kj::StringPtr url,
                            const kj::HttpHeaders& headers, kj::AsyncInputStream& body,
                            Response& response) override;
  kj::Promise<void> Handle(std::shared_ptr<HttpRequest> request, Response& response);
  kj::Promise<void> Send(Response& response, HttpResponse r, std::string id);

  // Requests kj-http could not parse: 400 (431 for a head too large), in
  // the JSON error shape; kj then closes the connection.
  kj::Promise<void> handleClientProtocolError(kj::HttpHeaders::ProtocolError error,
                                              Response& response) override {
    const int status = error.statusCode == 431 ? 431 : 400;
    return Send(response,
                ServiceError(Service::kNone, status, "BadRequestException",
                             std::string("Malformed HTTP request: ") + error.description.cStr()),
                NewUuid());
  }
  // kj-http reports some malformed framing (a bad Content-Length, a bad
  // chunk size) as an exception of the request; the service itself never
  // throws (Dispatch runs under a catch on the workers).
  kj::Promise<void> handleApplicationError(kj::Exception exception,
                                           kj::Maybe<Response&> response) override {
    if (exception.getType() == kj::Exception::Type::DISCONNECTED) return kj::READY_NOW;
    KJ_IF_MAYBE (r, response) {
      const std::string what = exception.getDescription().cStr();
      const bool framing = what.find("Content-Length") != std::string::npos ||
                           what.find("Transfer-Encoding") != std::string::npos ||
                           what.find("chunk") != std::string::npos;
      return Send(*r,
                  framing ? ServiceError(Service::kNone, 400, "BadRequestException",
                                         "Malformed HTTP request: " + what)
                          : ServiceError(Service::kNone, 500, "InternalServerError",
                                         "The server failed to answer the request"),
                  NewUuid());
    }
    return kj::READY_NOW;
  }

  kj::Timer& timer;
  DB* db;
  const ServerOptions options;
  kj::Own<kj::HttpHeaderTable> table;
  // Destroyed after the server: no connection waits on a job any more.
  std::unique_ptr<WorkerPool> pool;
  kj::Own<kj::HttpServer> server;
};

kj::Promise<void> Server::Impl::request(kj::HttpMethod method, kj::StringPtr url,
                                        const kj::HttpHeaders& headers, kj::AsyncInputStream& body,
                                        Response& response) {
  auto req = std::make_shared<HttpRequest>();
  req->method = kj::str(method).cStr();
  SplitTarget(std::string_view(url.cStr(), url.size()), req.get());
  size_t head = url.size();
  headers.forEach([&](kj::StringPtr name, kj::StringPtr value) {
    std::string lower(name.cStr(), name.size());
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req->headers.emplace_back(std::move(lower), std::string(value.cStr(), value.size()));
    head += name.size() + value.size() + 4;
  });
  const Service service = ServiceOf(*req);
  if (head > options.max_header_bytes) {
    return Send(response,
                ServiceError(service, 431, "RequestHeaderFieldsTooLarge",
                             "The request's headers exceed " +
                                 std::to_string(options.max_header_bytes) + " bytes"),
                NewUuid());
  }
  const uint64_t limit =
      service == Service::kLambda ? options.max_lambda_body_bytes : options.max_body_bytes;
  auto too_large = [this, service, limit, &response]() {
    return Send(
        response,
        ServiceError(service, 413, "RequestEntityTooLargeException",
                     "Request must be smaller than " + std::to_string(limit + 1) + " bytes"),
        NewUuid());
  };
  KJ_IF_MAYBE (length, body.tryGetLength()) {
    if (*length > limit) return too_large();
    // (Not more up front than a typical request: a client that announces a
    // large body must send it to make the server hold it.)
    req->body.reserve(static_cast<size_t>(std::min<uint64_t>(*length, 1u << 20)));
  }
  return timer.timeoutAfter(options.body_timeout, ReadBody(body, req.get(), limit))
      .then(
          [this, req, &response, too_large](bool whole) mutable -> kj::Promise<void> {
            if (!whole) return too_large();
            return Handle(kj::mv(req), response);
          },
          [this, service, &response](kj::Exception&& e) -> kj::Promise<void> {
            if (e.getType() != kj::Exception::Type::OVERLOADED) return kj::mv(e);
            return Send(response,
                        ServiceError(service, 408, "RequestTimeoutException",
                                     "The request body did not arrive in time"),
                        NewUuid());
          });
}

kj::Promise<void> Server::Impl::Handle(std::shared_ptr<HttpRequest> request, Response& response) {
  std::string id = NewUuid();
  if (pool == nullptr) {  // the fuzz target: on the event loop
    return Send(response, Answer(db, options, *request, id), std::move(id));
  }
  auto paf = kj::newPromiseAndCrossThreadFulfiller<kj::Own<HttpResponse>>();
  auto job = std::make_unique<Job>();
  job->request = std::move(request);
  job->request_id = id;
  job->fulfiller = kj::mv(paf.fulfiller);
  pool->Submit(std::move(job));
  return paf.promise.then([this, &response, id](kj::Own<HttpResponse> r) mutable {
    return Send(response, std::move(*r), std::move(id));
  });
}

kj::Promise<void> Server::Impl::Send(Response& response, HttpResponse r, std::string id) {
  auto held = kj::heap<HttpResponse>(std::move(r));
  kj::HttpHeaders h(*table);
  for (const auto& [name, value] : held->headers) {
    if (Sendable(name, value)) {
      h.add(kj::StringPtr(name.c_str(), name.size()), kj::StringPtr(value.c_str(), value.size()));
    }
  }
  h.add("x-amzn-RequestId", kj::StringPtr(id.c_str(), id.size()));
  const std::string crc = std::to_string(Crc32(held->body));
  if (IsJson10(*held)) h.add("x-amz-crc32", kj::StringPtr(crc.c_str(), crc.size()));
  const int status = held->status >= 100 && held->status <= 599 ? held->status : 500;
  auto out = response.send(static_cast<unsigned>(status), StatusText(status), h,
                           static_cast<uint64_t>(held->body.size()));
  auto written = out->write(held->body.data(), held->body.size());
  return written.attach(kj::mv(out), kj::mv(held));
}

Server::Server(kj::Timer& timer, DB* db, ServerOptions options)
    : impl_(std::make_unique<Impl>(timer, db, std::move(options))) {}

Server::~Server() = default;

kj::Promise<void> Server::Listen(kj::ConnectionReceiver& listener) {
  return impl_->server->listenHttp(listener);
}

kj::Promise<void> Server::ServeConnection(kj::Own<kj::AsyncIoStream> connection) {
  return impl_->server->listenHttp(kj::mv(connection));
}

kj::Promise<void> Server::Drain() { return impl_->server->drain(); }

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
