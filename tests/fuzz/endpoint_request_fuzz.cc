// Copyright 2026 The runnel Authors.
//
// Fuzzes what a client sends to the AWS endpoint (`runnel run --listen`):
// the input is the byte stream of one connection, served by the very server
// a TCP connection gets (tools/endpoint/server.h: http_parser, the
// limits, SigV4, then Dispatch and the services over a real DB). The first
// byte picks the server:
//
//   even: no credentials: every parsed request reaches Dispatch;
//   odd:  credentials configured: every request goes through SigV4 parsing
//         and verification first (a valid signature is out of the fuzzer's
//         reach, so Dispatch is exercised by the other half).
//
// Dispatch runs on the event loop's thread here (max_workers 0), so a run
// is deterministic. Any answer or disconnect is fine; a crash, a hang,
// undefined behaviour, a leak or a large allocation is not.

#include <kj/async-io.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "tests/fuzz/fuzz_util.h"
#include "tools/endpoint/server.h"

namespace {

runnel::endpoint::ServerOptions Options(bool with_credentials) {
  runnel::endpoint::ServerOptions o;
  o.max_workers = 0;
  // An in-memory pipe: nothing is slow but the fuzzer's patience.
  o.unread_body_grace = 1 * kj::MILLISECONDS;
  if (with_credentials) o.credentials.secrets["AKIDEXAMPLE"] = "secret";
  return o;
}

struct Fixture {
  Fixture() : io(kj::setupAsyncIo()) {
    // tmpfs when there is one: the services' writes are fsynced.
    if (std::FILE* f = std::fopen("/dev/shm/.runnel-probe", "w")) {
      std::fclose(f);
      std::remove("/dev/shm/.runnel-probe");
      setenv("TMPDIR", "/dev/shm", 1);
    }
    dir = std::make_unique<runnel::fuzz::ScratchDir>("endpoint");
    runnel::fuzz::CheckOk(runnel::DB::Open(runnel::Options(), dir->path() + "/db", &db), "open");
    open = std::make_unique<runnel::endpoint::Server>(io.provider->getTimer(), db.get(),
                                                      Options(false));
    signed_only = std::make_unique<runnel::endpoint::Server>(io.provider->getTimer(), db.get(),
                                                             Options(true));
  }
  kj::AsyncIoContext io;
  std::unique_ptr<runnel::fuzz::ScratchDir> dir;
  std::unique_ptr<runnel::DB> db;
  std::unique_ptr<runnel::endpoint::Server> open, signed_only;
};

// Reads (and checks the framing of nothing: any bytes are fine) everything
// the server answers, until it hangs up.
kj::Promise<void> Drain(kj::AsyncIoStream& s, kj::byte* buf) {
  return s.tryRead(buf, 1, 4096).then([&s, buf](size_t n) -> kj::Promise<void> {
    if (n == 0) return kj::READY_NOW;
    return Drain(s, buf);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fx = new Fixture();
  if (size == 0) return 0;
  runnel::endpoint::Server& server = (data[0] & 1) ? *fx->signed_only : *fx->open;
  auto pipe = kj::newTwoWayPipe();
  kj::Own<kj::AsyncIoStream> peer = kj::mv(pipe.ends[1]);
  kj::Promise<void> served =
      server.ServeConnection(kj::mv(pipe.ends[0])).catch_([](kj::Exception&&) {});
  kj::byte buf[4096];
  auto drained = Drain(*peer, buf).catch_([](kj::Exception&&) {}).fork();
  // All input is sent, unless the server hangs up first (an in-memory pipe,
  // unlike a socket, has no buffer to absorb the rest). Either way the
  // server then sees the end of input.
  kj::Promise<void> sent = peer->write(data + 1, size - 1).catch_([](kj::Exception&&) {});
  sent.exclusiveJoin(drained.addBranch()).wait(fx->io.waitScope);
  peer->shutdownWrite();
  served.wait(fx->io.waitScope);
  drained.addBranch().wait(fx->io.waitScope);
  return 0;
}
