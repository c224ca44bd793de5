// Copyright 2026 The runnel Authors.

#include "tools/host.h"

#include <capnp/rpc-twoparty.h>
#include <fcntl.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

#include "runnel/triggers.h"
#include "runnel/version.h"
#include "tools/host.capnp.h"

namespace runnel::cli {
namespace {

// Messages on the socket are small (a command line); these limits keep a
// malformed or hostile message from making the host allocate much.
capnp::ReaderOptions SocketReaderOptions() {
  capnp::ReaderOptions o;
  o.traversalLimitInWords = 1u << 17;  // 1 MiB
  o.nestingLimit = 16;
  return o;
}
constexpr unsigned kMaxFdsPerMessage = 3;

// The session of a command run by the host: the host's open DB.
class HostSession final : public Session {
 public:
  HostSession(std::string dir, DB* db) : dir_(std::move(dir)), db_(db) {}
  const std::string& dir() const override { return dir_; }
  Status Db(DB** db) override {
    *db = db_;
    return Status::OK();
  }
  bool hosted() const override { return true; }

 private:
  std::string dir_;
  DB* db_;
};

// A FILE* on a duplicate of a received descriptor; closed with it.
FILE* OpenReceived(kj::Maybe<int> fd, const char* mode) {
  KJ_IF_MAYBE (f, fd) {
    const int copy = ::fcntl(*f, F_DUPFD_CLOEXEC, 3);
    if (copy >= 0) {
      FILE* file = ::fdopen(copy, mode);
      if (file != nullptr) return file;
      ::close(copy);
    }
  }
  return nullptr;
}

}  // namespace

// Commands run on threads of their own, so that one that waits (for its
// caller's stdin, a slow pipe, a long `invoke`) never stalls the event loop:
// other callers, and SIGINT/SIGTERM, are still served.
class CommandThreads {
 public:
  ~CommandThreads() { JoinAll(); }
  template <typename F>
  void Start(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    ++running_;
    threads_.emplace_back([this, f = std::forward<F>(f)]() mutable {
      f();
      --running_;
    });
  }
  int running() const { return running_.load(); }
  void JoinAll() {
    std::list<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

 private:
  std::mutex mu_;
  std::list<std::thread> threads_;
  std::atomic<int> running_{0};
};

namespace {

class HostImpl final : public host::Host::Server {
 public:
  HostImpl(std::string dir, DB* db, CommandThreads* threads)
      : dir_(std::move(dir)), db_(db), threads_(threads) {}

 protected:
  kj::Promise<void> run(RunContext context) override {
    auto params = context.getParams();
    std::vector<std::string> args = {"runnel"};
    for (capnp::Text::Reader a : params.getArgs()) args.emplace_back(a.cStr(), a.size());
    std::string cwd(params.getCwd().cStr(), params.getCwd().size());
    auto fds = kj::heapArrayBuilder<kj::Promise<kj::Maybe<int>>>(3);
    fds.add(params.getStdin().getFd());
    fds.add(params.getStdout().getFd());
    fds.add(params.getStderr().getFd());
    return kj::joinPromises(fds.finish())
        .then([this, args = std::move(args),
               cwd = std::move(cwd)](kj::Array<kj::Maybe<int>> got) mutable {
          FILE* in = OpenReceived(got[0], "r");
          FILE* out = OpenReceived(got[1], "w");
          FILE* err = OpenReceived(got[2], "w");
          if (in == nullptr || out == nullptr || err == nullptr) {
            // Without the caller's streams there is nowhere to answer.
            std::fprintf(stderr, "runnel: run: a client sent no usable stdin/stdout/stderr\n");
            for (FILE* f : {in, out, err}) {
              if (f != nullptr) std::fclose(f);
            }
            return kj::Promise<int>(1);
          }
          if (threads_ == nullptr) {  // no threads (the fuzz target): run here
            const int status = RunOne(args, cwd, in, out, err);
            for (FILE* f : {in, out, err}) std::fclose(f);
            return kj::Promise<int>(status);
          }
          auto paf = kj::newPromiseAndCrossThreadFulfiller<int>();
          // (Held in a struct whose destructor is noexcept, as std::thread
          // requires of what it runs; kj's may throw in principle.)
          struct Answer {
            kj::Own<kj::CrossThreadPromiseFulfiller<int>> fulfiller;
            ~Answer() noexcept {}
          };
          auto answer = std::make_shared<Answer>();
          answer->fulfiller = kj::mv(paf.fulfiller);
          threads_->Start(
              [this, args = std::move(args), cwd = std::move(cwd), in, out, err, answer]() mutable {
                const int status = RunOne(args, cwd, in, out, err);
                for (FILE* f : {in, out, err}) std::fclose(f);
                answer->fulfiller->fulfill(kj::cp(status));
              });
          return kj::mv(paf.promise);
        })
        .then([context](int status) mutable { context.getResults().setExitStatus(status); });
  }

  kj::Promise<void> info(InfoContext context) override {
    auto r = context.getResults();
    r.setPid(static_cast<int32_t>(::getpid()));
    r.setDbName(db_->name());
    r.setVersion(RUNNEL_VERSION_STRING);
    return kj::READY_NOW;
  }

 private:
  int RunOne(const std::vector<std::string>& args, const std::string& cwd, FILE* in, FILE* out,
             FILE* err) {
    Io io;
    io.in = in;
    io.out = out;
    io.err = err;
    // The host cannot read the caller's terminal: it is not the terminal's
    // foreground process (a background `runnel run &` would be stopped by
    // SIGTTIN). Pipes and files are fine.
    io.stdin_is_foreign_terminal = ::isatty(fileno(in)) == 1;
    io.cwd = cwd;
    Cli cli;
    int rc = cli.Parse(args, io);
    if (rc >= 0) return rc;
    if (cli.needs() == Needs::kHost) {
      std::fprintf(err, "runnel: run: %s is already hosted by pid %d\n", dir_.c_str(),
                   static_cast<int>(::getpid()));
      return 1;
    }
    HostSession session(dir_, db_);
    return cli.Run(io, session);
  }

  std::string dir_;
  DB* db_;
  CommandThreads* threads_;
};

// One accepted client.
struct Connection {
  Connection(kj::Own<kj::AsyncCapabilityStream> s, capnp::Capability::Client bootstrap)
      : stream(kj::mv(s)),
        network(*stream, kMaxFdsPerMessage, capnp::rpc::twoparty::Side::SERVER,
                SocketReaderOptions()),
        rpc(capnp::makeRpcServer(network, kj::mv(bootstrap))) {}
  kj::Own<kj::AsyncCapabilityStream> stream;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc;
};

}  // namespace

capnp::Capability::Client NewHost(const std::string& dir, DB* db, CommandThreads* threads) {
  return kj::heap<HostImpl>(dir, db, threads);
}

kj::Promise<void> ServeConnection(kj::Own<kj::AsyncCapabilityStream> stream,
                                  capnp::Capability::Client host) {
  auto conn = kj::heap<Connection>(kj::mv(stream), kj::mv(host));
  auto done = conn->network.onDisconnect();
  return done.attach(kj::mv(conn));
}

namespace {

class Errors final : public kj::TaskSet::ErrorHandler {
 public:
  void taskFailed(kj::Exception&& e) override {
    // A client that disconnects mid-call is routine; nothing to report.
    if (e.getType() == kj::Exception::Type::DISCONNECTED) return;
    std::fprintf(stderr, "runnel: run: connection failed: %s\n", e.getDescription().cStr());
  }
};

// Binds DIR/runnel.sock, owner-only. The caller holds the DB lock, so a
// socket file already there is a dead host's and is replaced.
Status Listen(const std::string& path, int* fd_out) {
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return Status::InvalidArgument("--db: the socket path '" + path + "' is longer than " +
                                   std::to_string(sizeof(addr.sun_path) - 1) +
                                   " bytes; use a shorter DB directory path");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  ::unlink(path.c_str());
  // Made 0600 right after it exists. (The process-wide umask is not touched:
  // the DB's threads are running. Until the chmod the socket is as the
  // umask makes it, inside the owner-only DB directory, and connecting
  // needs write permission on it.)
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  const int bind_errno = errno;
  if (rc == 0 && ::chmod(path.c_str(), 0600) != 0) rc = -1;
  if (rc != 0 || ::listen(fd, 16) != 0) {
    const int err = rc != 0 ? bind_errno : errno;
    ::close(fd);
    return Status::IOError("cannot listen on '" + path + "': " + std::strerror(err));
  }
  *fd_out = fd;
  return Status::OK();
}

// SIGINT, SIGTERM or SIGHUP.
kj::Promise<void> OnStopSignal(kj::UnixEventPort& port) {
  return port.onSignal(SIGINT)
      .ignoreResult()
      .exclusiveJoin(port.onSignal(SIGTERM).ignoreResult())
      .exclusiveJoin(port.onSignal(SIGHUP).ignoreResult());
}

// The host has stopped taking callers: waits for the commands still running
// (their callers get their answers), unless a second signal says to quit at
// once.
void WaitForCommands(Context& ctx, kj::AsyncIoContext& io, CommandThreads* commands) {
  std::fprintf(ctx.io().err,
               "runnel: run: waiting for %d running command(s); Ctrl-C again quits at "
               "once\n",
               commands->running());
  std::fflush(ctx.io().err);
  auto again = OnStopSignal(io.unixEventPort).fork();
  bool quit = false;
  while (commands->running() > 0 && !quit) {
    again.addBranch()
        .then([&quit]() { quit = true; })
        .exclusiveJoin(io.provider->getTimer().afterDelay(20 * kj::MILLISECONDS))
        .wait(io.waitScope);
  }
  // Every acknowledged write is in the log already; the next open
  // recovers the rest.
  if (quit) ::_exit(130);
}

// The AWS endpoint (--listen) on the host's event loop.
class HttpEndpoint {
 public:
  // `fd`: a listening socket (owned), or -1 for no endpoint.
  HttpEndpoint(int fd, endpoint::ServerOptions options) : fd_(fd), options_(std::move(options)) {}
  ~HttpEndpoint() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Serves until the promise is dropped (never resolves).
  kj::Promise<void> Start(kj::AsyncIoContext& io, DB* db) {
    if (fd_ < 0) return kj::NEVER_DONE;
    // The ARNs' region and account are the DB's, fixed when it was created
    // (the global --region / --account-id flags set them then).
    options_.region = db->region();
    options_.account = db->account_id();
    server_ = std::make_unique<endpoint::Server>(io.provider->getTimer(), db, options_);
    listener_ = io.lowLevelProvider->wrapListenSocketFd(
        fd_, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP |
                 kj::LowLevelAsyncIoProvider::ALREADY_NONBLOCK |
                 kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC);
    fd_ = -1;
    return server_->Listen(*listener_).catch_([](kj::Exception&& e) -> kj::Promise<void> {
      std::fprintf(stderr, "runnel: run: the endpoint stopped accepting connections: %s\n",
                   e.getDescription().cStr());
      return kj::NEVER_DONE;
    });
  }
  // After the promise of Start is gone: no new connections; the requests in
  // flight are answered (for at most 10 s), then every connection is closed
  // and the workers joined, before the DB closes.
  void Stop(kj::AsyncIoContext& io) {
    if (server_ == nullptr) return;
    listener_ = nullptr;
    server_->Drain()
        .exclusiveJoin(io.provider->getTimer().afterDelay(10 * kj::SECONDS))
        .wait(io.waitScope);
    server_.reset();
  }

 private:
  int fd_;
  endpoint::ServerOptions options_;
  std::unique_ptr<endpoint::Server> server_;
  kj::Own<kj::ConnectionReceiver> listener_;
};

// Serves connections on listen_fd (and the endpoint's) until a signal (or,
// with --until-idle, idle triggers) stops the host; then lets running
// commands finish.
void Serve(Context& ctx, const HostOptions& options, DB* db, int listen_fd, const std::string& path,
           CommandThreads* commands, HttpEndpoint* http) {
  const std::string& dir = ctx.session().dir();
  kj::AsyncIoContext io = kj::setupAsyncIo();
  capnp::Capability::Client bootstrap = NewHost(dir, db, commands);
  Errors errors;
  kj::TaskSet connections(errors);
  kj::UnixEventPort::FdObserver observer(io.unixEventPort, listen_fd,
                                         kj::UnixEventPort::FdObserver::OBSERVE_READ);
  const uid_t me = ::geteuid();

  // Accepts every pending connection, then waits for more.
  std::function<kj::Promise<void>()> accept_loop = [&]() -> kj::Promise<void> {
    return observer.whenBecomesReadable().then([&]() {
      for (;;) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        ucred cred = {};
        socklen_t len = sizeof(cred);
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != me) {
          std::fprintf(stderr,
                       "runnel: run: refused a connection from uid %d (only uid %d "
                       "may use this DB)\n",
                       static_cast<int>(cred.uid), static_cast<int>(me));
          ::close(fd);
          continue;
        }
        auto stream = io.lowLevelProvider->wrapUnixSocketFd(
            fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP |
                    kj::LowLevelAsyncIoProvider::ALREADY_NONBLOCK |
                    kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC);
        connections.add(ServeConnection(kj::mv(stream), bootstrap));
      }
      return accept_loop();
    });
  };

  kj::Promise<void> stop = OnStopSignal(io.unixEventPort).exclusiveJoin(http->Start(io, db));
  if (options.until_idle) {
    std::function<kj::Promise<void>()> idle_loop = [&]() -> kj::Promise<void> {
      return io.provider->getTimer()
          .afterDelay(20 * kj::MILLISECONDS)
          .then([&]() -> kj::Promise<void> {
            if (db->triggers()->WaitUntilIdle(std::chrono::milliseconds(0)).ok()) {
              return kj::READY_NOW;
            }
            return idle_loop();
          });
    };
    stop = stop.exclusiveJoin(idle_loop());
    stop.exclusiveJoin(accept_loop()).wait(io.waitScope);
  } else {
    stop.exclusiveJoin(accept_loop()).wait(io.waitScope);
  }
  // No new callers; the commands still running finish (their callers get
  // their answers), unless a second signal says to quit at once.
  http->Stop(io);
  ::unlink(path.c_str());
  if (commands->running() > 0) WaitForCommands(ctx, io, commands);
  commands->JoinAll();
  // Let the last answers go out.
  connections.onEmpty()
      .exclusiveJoin(io.provider->getTimer().afterDelay(1 * kj::SECONDS))
      .wait(io.waitScope);
}

}  // namespace

std::string SocketPath(const std::string& dir) { return dir + "/runnel.sock"; }

namespace {

// The endpoint's credentials (file, then environment) and its listening
// socket; refuses a non-loopback address without credentials.
Status PrepareEndpoint(const HostOptions& options, endpoint::ServerOptions* out, int* fd,
                       std::string* url) {
  *out = options.endpoint;
  if (!options.credentials_file.empty()) {
    Status s = endpoint::LoadCredentialsFile(options.credentials_file, &out->credentials);
    if (!s.ok()) return s;
  }
  Status s = endpoint::AddEnvironmentCredentials(&out->credentials);
  if (!s.ok()) return s;
  return endpoint::BindListener(options.listen, out->credentials.empty(), fd, url);
}

}  // namespace

int RunHost(Context& ctx, const HostOptions& options) {
  // Captured before the DB starts its threads, so they inherit the blocked
  // mask and only the event loop below receives these signals.
  kj::UnixEventPort::captureSignal(SIGINT);
  kj::UnixEventPort::captureSignal(SIGTERM);
  kj::UnixEventPort::captureSignal(SIGHUP);

  const std::string& dir = ctx.session().dir();
  endpoint::ServerOptions endpoint_options;
  int http_fd = -1;
  std::string url;
  if (!options.listen.empty()) {
    Status s = PrepareEndpoint(options, &endpoint_options, &http_fd, &url);
    if (!s.ok()) return ctx.Fail(s);
  }
  endpoint_options.db_dir = dir;
  HttpEndpoint http(http_fd, std::move(endpoint_options));
  Options o;
  o.create_if_missing = false;
  o.run_triggers = true;
  o.trigger_threads = options.trigger_threads;
  struct stat st;
  if (::stat((dir + "/IDENTITY").c_str(), &st) != 0) {
    // AWS clients create their tables over the wire: an endpoint may start
    // on an empty directory, as the cloud starts with no tables.
    if (options.listen.empty()) {
      return ctx.Fail("ResourceNotFoundException: no DB at '" + dir +
                      "' (create-table, load or run --listen creates one)");
    }
    o.create_if_missing = true;
    if (!ctx.region().empty()) o.region = ctx.region();
    if (!ctx.account_id().empty()) o.account_id = ctx.account_id();
  }
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, dir, &db);
  if (!s.ok()) return ctx.Fail(s);
  if ((!ctx.region().empty() && db->region() != ctx.region()) ||
      (!ctx.account_id().empty() && db->account_id() != ctx.account_id())) {
    (void)db->Close();
    return ctx.Fail("ValidationException: --region/--account-id " + ctx.region() + "/" +
                    ctx.account_id() + ": the DB's are " + db->region() + "/" + db->account_id() +
                    ", fixed when it was created");
  }

  const std::string path = SocketPath(dir);
  int listen_fd = -1;
  s = Listen(path, &listen_fd);
  if (!s.ok()) {
    (void)db->Close();
    return ctx.Fail(s);
  }
  std::fprintf(ctx.io().err, "runnel: hosting %s (pid %d) on %s%s\n", dir.c_str(),
               static_cast<int>(::getpid()), path.c_str(),
               options.until_idle ? " until idle" : "; Ctrl-C stops");
  std::fflush(ctx.io().err);
  if (!url.empty()) {
    std::fprintf(ctx.io().out, "listening on %s\n", url.c_str());
    std::fflush(ctx.io().out);
  }

  int status = 0;
  CommandThreads commands;
  Serve(ctx, options, db.get(), listen_fd, path, &commands, &http);
  ::close(listen_fd);
  s = db->Close();
  if (!s.ok()) {
    ctx.Fail(s);
    status = 1;
  }
  return status;
}

namespace {

// A descriptor of this process, to be passed to the host.
class PassedFd final : public host::Stream::Server {
 public:
  explicit PassedFd(int fd) : fd_(fd) {}
  kj::Maybe<int> getFd() override { return fd_; }

 private:
  int fd_;
};

}  // namespace

bool TryRunOnHost(const std::string& dir, const std::vector<std::string>& args,
                  const std::string& cwd, int* exit_status) {
  const std::string path = SocketPath(dir);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return false;
  // Our command line and our terminal go to whoever listens there: only to
  // a socket of our own, served by a process of our own.
  const uid_t me = ::geteuid();
  if (!S_ISSOCK(st.st_mode) || st.st_uid != me) {
    std::fprintf(stderr,
                 "runnel: refusing %s: it is not a socket owned by uid %d (owner uid %d); "
                 "remove it if it is stale\n",
                 path.c_str(), static_cast<int>(me), static_cast<int>(st.st_uid));
    *exit_status = 1;
    return true;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == ECONNREFUSED || err == ENOENT) return false;  // a dead host's socket
    std::fprintf(stderr, "runnel: cannot reach the host of %s on %s: %s\n", dir.c_str(),
                 path.c_str(), std::strerror(err));
    *exit_status = 1;
    return true;
  }
  ucred cred = {};
  socklen_t cred_len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) != 0 || cred.uid != me) {
    ::close(fd);
    std::fprintf(stderr, "runnel: refusing the host on %s: it runs as uid %d, not %d\n",
                 path.c_str(), static_cast<int>(cred.uid), static_cast<int>(me));
    *exit_status = 1;
    return true;
  }
  try {
    kj::AsyncIoContext io = kj::setupAsyncIo();
    auto stream =
        io.lowLevelProvider->wrapUnixSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP |
                                                      kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC);
    // The client receives no descriptors, but Cap'n Proto 0.9 only attaches
    // outgoing ones on a network that accepts some, so the same limit is set.
    capnp::TwoPartyVatNetwork network(*stream, kMaxFdsPerMessage,
                                      capnp::rpc::twoparty::Side::CLIENT, SocketReaderOptions());
    auto rpc = capnp::makeRpcClient(network);
    capnp::MallocMessageBuilder vat_id;
    auto id = vat_id.initRoot<capnp::rpc::twoparty::VatId>();
    id.setSide(capnp::rpc::twoparty::Side::SERVER);
    host::Host::Client host = rpc.bootstrap(id).castAs<host::Host>();
    auto req = host.runRequest();
    auto list = req.initArgs(static_cast<unsigned>(args.size()));
    for (size_t i = 0; i < args.size(); ++i) list.set(static_cast<unsigned>(i), args[i]);
    req.setCwd(cwd);
    req.setStdin(kj::heap<PassedFd>(STDIN_FILENO));
    req.setStdout(kj::heap<PassedFd>(STDOUT_FILENO));
    req.setStderr(kj::heap<PassedFd>(STDERR_FILENO));
    *exit_status = req.send().wait(io.waitScope).getExitStatus();
  } catch (const kj::Exception& e) {
    std::fprintf(stderr, "runnel: the host of %s failed to answer: %s\n", dir.c_str(),
                 e.getDescription().cStr());
    *exit_status = 1;
  }
  return true;
}

}  // namespace runnel::cli
