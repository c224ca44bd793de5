// Copyright 2026 The runnel Authors.
//
// The HTTP/1.1 server of the AWS endpoint (`runnel run --listen`): on the
// host's KJ event loop, beside the local Cap'n Proto socket, with requests
// parsed by http_parser (Debian's libhttp-parser) as their bytes arrive.
//
// Every request is read whole (with the limits and timeouts below), turned
// into an HttpRequest (header names in lower case), checked with SigV4 when
// credentials are configured (sigv4.h), and answered by Dispatch: on the
// event loop itself when it cannot block (reads; MayBlock in endpoint.h),
// else on a worker thread, so that DB writes wait for a group commit off
// the loop and several writes in flight at once share one. Requests
// pipelined on a connection are answered in order. The answer goes back
// with the server's own headers: x-amzn-RequestId (a random UUID, also in
// ServiceContext::request_id), x-amz-crc32 (CRC-32 of the body, decimal) on
// JSON 1.0 responses, and Content-Length; connections are kept alive unless
// the client asks otherwise (HTTP/1.0, Connection: close). An Upgrade offer
// (h2c) is declined by answering in HTTP/1.1; Expect: 100-continue gets its
// interim 100.
//
// Refusals by the server itself: a malformed request line or header 400, a
// request head over max_header_bytes 431, a body over its limit 413 (the
// connection is then closed), a body that does not arrive within
// body_timeout 408, and a body that would take the bodies held at once past
// max_request_memory_bytes the service's throttling error (ThrottlingException,
// Lambda's 429 TooManyRequestsException), which AWS clients retry with
// backoff; these carry the cloud's JSON error shape where a service can be
// told. Auth failures are the service's error shape (see sigv4.h). A client
// that does not take its answer within write_timeout is disconnected.

#ifndef RUNNEL_TOOLS_ENDPOINT_SERVER_H_
#define RUNNEL_TOOLS_ENDPOINT_SERVER_H_

#include <kj/async-io.h>
#include <kj/timer.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "runnel/db.h"
#include "runnel/status.h"
#include "tools/endpoint/sigv4.h"

namespace runnel::endpoint {

struct ServerOptions {
  // The ARNs' region and account (ServiceContext), and the region a
  // signature's credential scope must name.
  std::string region = "us-east-1";
  std::string account = "000000000000";
  // The DB's directory (ServiceContext::db_dir: Lambda's code store, the
  // function logs).
  std::string db_dir;
  // Empty: no request is authenticated (any or no signature is accepted);
  // BindListener then allows loopback addresses only.
  Credentials credentials;
  // The largest request body: DynamoDB's 16 MiB, and for Lambda (a
  // function's zip in base64) the cloud's: smaller than 69905067 bytes.
  uint64_t max_body_bytes = 16u << 20;
  uint64_t max_lambda_body_bytes = 69905066;
  // The largest request head (all header names and values).
  size_t max_header_bytes = 64u << 10;
  // A request's head must arrive within header_timeout of the connection's
  // opening or of its first byte, its body within body_timeout of the head;
  // otherwise the connection is closed (408 for a slow body).
  kj::Duration header_timeout = 15 * kj::SECONDS;
  kj::Duration body_timeout = 60 * kj::SECONDS;
  // An idle keep-alive connection is closed after this long.
  kj::Duration idle_timeout = 60 * kj::SECONDS;
  // A connection whose client does not read an answer for this long (its
  // socket buffers stay full) is closed.
  kj::Duration write_timeout = 60 * kj::SECONDS;
  // Request bodies held at once across all connections (being read, waiting
  // their turn, being answered) stay under this; a request that would pass
  // it is refused with the service's throttling error. A single body over
  // it gets 413, whatever the service's own limit.
  uint64_t max_request_memory_bytes = 256u << 20;
  // After answering a request whose body it did not read (413, 408), the
  // server waits this long for the rest of the body (to keep the
  // connection) before closing it.
  kj::Duration unread_body_grace = 1 * kj::SECONDS;
  // Writes acknowledged before their fsync (ServiceContext::unsynced_writes).
  bool unsynced_writes = false;
  // At most this many Dispatch calls run at once (more wait in a queue).
  // 0 runs Dispatch on the event loop's thread: for the fuzz target only.
  int max_workers = 32;
};

// Serves the endpoint. Lives on the event loop's thread (not thread-safe);
// destroying it closes every connection and joins the worker threads
// (waiting for the Dispatch calls still running).
class Server {
 public:
  // `db` must outlive the server.
  Server(kj::Timer& timer, DB* db, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Accepts connections on `listener` and serves them; never resolves.
  // Dropping the promise stops accepting (connections already open stay
  // served until Drain or destruction).
  kj::Promise<void> Listen(kj::ConnectionReceiver& listener);
  // Serves one connection until the peer closes it or a timeout does. The
  // promise owns the connection: dropping it closes the connection.
  kj::Promise<void> ServeConnection(kj::Own<kj::AsyncIoStream> connection);
  // Stops taking requests; resolves once those in flight are answered. May
  // be called more than once (each promise resolves then).
  kj::Promise<void> Drain();

  struct Impl;  // (server.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

// A listening TCP socket (non-blocking, close-on-exec) on "HOST:PORT"
// (HOST a name, an IPv4 address or a bracketed IPv6 address; PORT 0 picks a
// free port). With loopback_only, refuses any address outside 127.0.0.0/8
// and ::1. *url is "http://HOST:PORT" with the port actually bound.
Status BindListener(const std::string& host_port, bool loopback_only, int* fd, std::string* url);

// CRC-32 (ISO-HDLC, as zlib's crc32) of `data`: the value of x-amz-crc32.
uint32_t Crc32(std::string_view data);

}  // namespace runnel::endpoint

#endif  // RUNNEL_TOOLS_ENDPOINT_SERVER_H_
