// Copyright 2026 The runnel Authors.
//
// The `runnel run` host and its local socket (DIR/runnel.sock).
//
// While a host runs, it owns the DB (its lock) and runs its triggers; every
// other `runnel` command on that DB reaches it through the socket: the
// command line, working directory and standard streams are handed over and
// the host runs the command against its open DB (see tools/host.capnp).
//
// Security: the socket is created 0600 (umask held during bind) in the DB
// directory, and the host refuses any peer whose uid (SO_PEERCRED) is not its
// own effective uid. Incoming messages are read with Cap'n Proto reader
// limits (1 MiB of words, nesting 16) and at most 3 file descriptors each.

#ifndef RUNNEL_TOOLS_HOST_H_
#define RUNNEL_TOOLS_HOST_H_

#include <capnp/capability.h>
#include <kj/async-io.h>

#include <string>
#include <vector>

#include "tools/cli.h"
#include "tools/endpoint/server.h"

namespace runnel::cli {

// The socket's path for a DB directory.
std::string SocketPath(const std::string& dir);

struct HostOptions {
  // Stop once every enabled mapping has caught up (instead of waiting for
  // SIGINT / SIGTERM).
  bool until_idle = false;
  // The AWS endpoint (tools/endpoint/server.h): "HOST:PORT" to serve it on,
  // or empty for none. Its URL is printed on stdout once it listens
  // ("listening on http://127.0.0.1:8000").
  std::string listen;
  // An AWS credentials file whose keys sign requests (besides
  // RUNNEL_ACCESS_KEY_ID / RUNNEL_SECRET_ACCESS_KEY); none: no SigV4 check,
  // loopback only.
  std::string credentials_file;
  // Options::trigger_threads: the trigger runtime's pool (0: the default).
  int trigger_threads = 0;
  // Region, account, limits and timeouts of the endpoint (credentials are
  // filled in from the two sources above).
  endpoint::ServerOptions endpoint;
};

// Opens the DB in ctx.session().dir() with its triggers running, serves the
// socket, and returns (closing the DB cleanly) on SIGINT or SIGTERM, or when
// idle with until_idle. Returns the exit status.
// REQUIRES: called on the main thread before any other thread was started
// (the signals are captured for the whole process).
int RunHost(Context& ctx, const HostOptions& options);

class CommandThreads;
// The Host interface (tools/host.capnp) over an open DB: runs the command
// lines it receives against `db`, for DB directory `dir`, each on a thread
// of `threads` (or, if null, on the event loop's thread).
capnp::Capability::Client NewHost(const std::string& dir, DB* db, CommandThreads* threads);
// Serves `host` on one connection, with the socket's reader limits, until
// the peer disconnects or sends something malformed (the promise then
// rejects). Used by RunHost for every accepted connection, and by the
// socket fuzz target.
kj::Promise<void> ServeConnection(kj::Own<kj::AsyncCapabilityStream> stream,
                                  capnp::Capability::Client host);

// If a host answers on the socket of `dir`, runs `args` (without the program
// name) there with this process's standard streams, stores the command's
// exit status in *exit_status and returns true. Returns false, having done
// nothing, if no host answers (no socket, or a stale one).
bool TryRunOnHost(const std::string& dir, const std::vector<std::string>& args,
                  const std::string& cwd, int* exit_status);

}  // namespace runnel::cli

#endif  // RUNNEL_TOOLS_HOST_H_
