// Copyright 2026 The runnel Authors.
//
// The AWS endpoint: the cloud's wire protocols served by `runnel run
// --listen` (DynamoDB and DynamoDB Streams JSON 1.0, Lambda REST JSON,
// CloudWatch Logs JSON 1.1), so that the AWS CLI, boto3 and the AWS SDKs
// drive runnel unmodified.
//
// Layers, each in its own file:
//   server.cc      HTTP/1.1 on the host's event loop: limits, timeouts, SigV4
//                  (sigv4.cc), request ids, x-amz-crc32; answers reads on
//                  the loop and hands the requests that may block
//                  (MayBlock: writes wait for a group commit) to Dispatch
//                  on a worker thread.
//   dispatch.cc    Dispatch: picks the service from X-Amz-Target or the path.
//   dynamodb*.cc   ServeDynamoDB, streams.cc ServeStreams, lambda*.cc
//                  ServeLambda, logs.cc ServeLogs: request JSON -> runnel's
//                  C++ API -> response JSON, in the cloud's shapes.
//
// The service functions are plain functions of (context, request) ->
// response: no sockets, no event loop. Tests and the fuzz target call them
// directly; the server is one caller among them.

#ifndef RUNNEL_TOOLS_ENDPOINT_ENDPOINT_H_
#define RUNNEL_TOOLS_ENDPOINT_ENDPOINT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runnel/db.h"

namespace runnel::endpoint {

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string path;    // as sent, percent-encoded, without the query
  std::string query;   // as sent, without '?'
  // Names in lower case, in the order received.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that (lower-case) name, or "" if absent.
  std::string_view Header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // besides the server's own
  std::string body;
};

// What every service call sees. Thread-compatible: one per request.
struct ServiceContext {
  DB* db = nullptr;
  // The cloud's ARN parts: arn:aws:<service>:<region>:<account>:...
  std::string region = "us-east-1";
  std::string account = "000000000000";
  // The DB's directory: Lambda keeps function code in DIR/functions/, Logs
  // reads DIR/logs/. Required by CreateFunction and UpdateFunctionCode.
  std::string db_dir;
  // x-amzn-RequestId of this request (the server adds the header).
  std::string request_id;
  // False (the default): a write is acknowledged once its group commit is
  // fsynced, as the cloud acknowledges only durable writes. True (`runnel
  // run --no-sync`): once it is in the log, before the fsync; it survives a
  // crash of the process, not of the machine.
  bool unsynced_writes = false;
};

// The service a request is for, by X-Amz-Target or path; kNone if none.
enum class Service { kNone, kDynamoDB, kStreams, kLambda, kLogs };
Service ServiceOf(const HttpRequest& request);

// Whether Dispatch of `request` may block its thread for long: wait for a
// group commit's fsync (every write), run a function, read a log file, or
// work through a large body. The server answers such requests on worker
// threads and the others (point and page reads, descriptions, stream
// reads, errors) on its event loop, without a thread hop.
bool MayBlock(const HttpRequest& request);

// Serves one (already authenticated) request. Never throws; any failure is
// an error response in the service's own error shape. May block (DB
// writes): call it off the event loop.
HttpResponse Dispatch(ServiceContext& ctx, const HttpRequest& request);

// One operation of a JSON-protocol service: `op` is the part of
// X-Amz-Target after the dot ("PutItem", "GetRecords", "GetLogEvents").
HttpResponse ServeDynamoDB(ServiceContext& ctx, std::string_view op, const HttpRequest& request);
HttpResponse ServeStreams(ServiceContext& ctx, std::string_view op, const HttpRequest& request);
HttpResponse ServeLogs(ServiceContext& ctx, std::string_view op, const HttpRequest& request);
// Lambda's REST API under /2015-03-31/.
HttpResponse ServeLambda(ServiceContext& ctx, const HttpRequest& request);

// Errors in the JSON 1.0/1.1 protocols' shape: status (400, or 500 for
// InternalServerError) and {"__type":"<prefix>#<type>","message":...}.
// `prefix` is e.g. "com.amazonaws.dynamodb.v20120810".
HttpResponse JsonError(int status, std::string_view prefix, std::string_view type,
                       std::string_view message);
// Errors in Lambda's REST shape: status, x-amzn-ErrorType: <type>, and
// {"Type":"User","message":...}.
HttpResponse RestError(int status, std::string_view type, std::string_view message);

}  // namespace runnel::endpoint

#endif  // RUNNEL_TOOLS_ENDPOINT_ENDPOINT_H_
