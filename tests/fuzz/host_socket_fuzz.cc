// Copyright 2026 The runnel Authors.
//
// Fuzzes what arrives on the `runnel run` host's socket: the input is the
// byte stream a peer sends, served by the very code a connection gets
// (ServeConnection: Cap'n Proto RPC with the socket's reader limits, and the
// Host interface over a real DB). The stream is an in-memory capability
// pipe, so no descriptors arrive: a well-formed `run` call is answered with
// an error status without running a command (commands themselves are
// fuzzed by cli_input_fuzz).
//
// Any answer, abort or disconnect is fine; a crash, a hang, undefined
// behaviour or a large allocation (libFuzzer's -rss_limit_mb, -malloc_limit_mb)
// is not.

#include <kj/async-io.h>

#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_util.h"
#include "tools/host.h"

namespace {

struct Fixture {
  Fixture() : io(kj::setupAsyncIo()) {
    dir = std::make_unique<runnel::fuzz::ScratchDir>("host");
    runnel::fuzz::CheckOk(runnel::DB::Open(runnel::Options(), dir->path() + "/db", &db), "open");
    // No command threads: a call is answered on the event loop (it never
    // runs a command here: no descriptors arrive over the pipe).
    host = runnel::cli::NewHost(dir->path() + "/db", db.get(), nullptr);
  }
  kj::AsyncIoContext io;
  std::unique_ptr<runnel::fuzz::ScratchDir> dir;
  std::unique_ptr<runnel::DB> db;
  capnp::Capability::Client host = nullptr;
};

// Reads (and drops) everything the host answers, until it hangs up.
kj::Promise<void> Drain(kj::AsyncIoStream& s, kj::byte* buf) {
  return s.tryRead(buf, 1, 4096).then([&s, buf](size_t n) -> kj::Promise<void> {
    if (n == 0) return kj::READY_NOW;
    return Drain(s, buf);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fx = new Fixture();
  auto pipe = kj::newCapabilityPipe();
  kj::Own<kj::AsyncCapabilityStream> peer = kj::mv(pipe.ends[1]);
  kj::Promise<void> served =
      runnel::cli::ServeConnection(kj::mv(pipe.ends[0]), fx->host).catch_([](kj::Exception&&) {});
  kj::byte buf[4096];
  auto drained = Drain(*peer, buf).catch_([](kj::Exception&&) {}).fork();
  // All input is sent, unless the host hangs up first (it stops reading at
  // a malformed message; an in-memory pipe, unlike a socket, has no buffer
  // to absorb the rest). Either way the host then sees the end of input.
  kj::Promise<void> sent = peer->write(data, size).catch_([](kj::Exception&&) {});
  sent.exclusiveJoin(drained.addBranch()).wait(fx->io.waitScope);
  peer->shutdownWrite();
  served.wait(fx->io.waitScope);
  drained.addBranch().wait(fx->io.waitScope);
  return 0;
}
