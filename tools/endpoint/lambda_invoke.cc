// Copyright 2026 The runnel Authors.
//
// Invoke (POST /2015-03-31/functions/{name}/invocations). A runnel function
// takes a DynamoDB Streams event, so the payload is one ({"Records":[...]};
// an empty payload is an event without records). The function's response
// payload is its partial batch response, or null; a failed handler is the
// cloud's unhandled function error.

#include "tools/endpoint/lambda_internal.h"

namespace runnel::endpoint::lambda {
namespace {

constexpr size_t kTailBytes = 4096;

// The invocation's own log lines (those naming its request id), without
// their time prefix, newline-terminated, at most the last 4 KB.
std::string TailOf(ServiceContext& ctx, std::string_view name, int64_t since_micros,
                   const std::string& request_id) {
  std::vector<FunctionLogLine> lines;
  if (!ctx.db->triggers()->ReadFunctionLog(name, since_micros, &lines).ok()) return "";
  std::string tail;
  for (const FunctionLogLine& l : lines) {
    if (request_id.empty() || l.text.find(request_id) == std::string::npos) continue;
    const size_t space = l.text.find(' ');
    tail += space == std::string::npos ? l.text : l.text.substr(space + 1);
    tail += '\n';
  }
  if (tail.size() > kTailBytes) tail.erase(0, tail.size() - kTailBytes);
  return tail;
}

}  // namespace

HttpResponse ServeInvoke(ServiceContext& ctx, std::string_view name, const HttpRequest& request) {
  std::string type(request.Header("x-amz-invocation-type"));
  if (type.empty()) type = "RequestResponse";
  if (type != "RequestResponse" && type != "Event" && type != "DryRun") {
    return RestError(400, "ValidationException",
                     "1 validation error detected: Value '" + type +
                         "' at 'invocationType' failed to satisfy constraint: Member must satisfy "
                         "enum value set: [Event, RequestResponse, DryRun]");
  }
  const std::string log_type(request.Header("x-amz-log-type"));
  FunctionConfiguration f;
  Status s = IsValidFunctionName(name) ? ctx.db->triggers()->GetFunction(name, &f)
                                       : Status::NotFound("no such function");
  if (!s.ok()) return ErrorOf(s, FunctionNotFoundMessage(ctx, name));
  HttpResponse r;
  if (type == "DryRun") {
    r.status = 204;
    return r;
  }
  if (!request.body.empty() && !nlohmann::json::accept(request.body)) {
    return RestError(400, "InvalidRequestContentException",
                     "Could not parse request body into json: the payload is not valid JSON");
  }
  const std::string payload = request.body.empty() ? "{\"Records\":[]}" : request.body;
  // The log's clock is the DB's; a millisecond of slack keeps the START line.
  const int64_t since = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() -
                        1000;
  std::string response;
  s = ctx.db->triggers()->Invoke(name, payload, &response);
  if (!s.ok()) {
    if (s.IsInvalidArgument()) return RestError(400, "InvalidRequestContentException", s.message());
    return ErrorOf(s, FunctionNotFoundMessage(ctx, name));
  }
  const nlohmann::json result = nlohmann::json::parse(response, nullptr, false);
  // Event invocations run before the answer (runnel has no queue): the
  // effects are there when 202 arrives; a function error is only logged.
  r.headers.emplace_back("X-Amz-Executed-Version", "$LATEST");
  if (type == "Event") {
    r.status = 202;
    return r;
  }
  r.headers.emplace_back("Content-Type", "application/json");
  const std::string id =
      result.is_object() && result.contains("RequestId") && result["RequestId"].is_string()
          ? result["RequestId"].get<std::string>()
          : "";
  const bool failed = result.is_object() && result.contains("FunctionError");
  if (failed) {
    r.headers.emplace_back("X-Amz-Function-Error", result["FunctionError"].get<std::string>());
    if (result.contains("errorMessage")) {
      // A runtime exit or timeout (isolated functions), as the cloud says it.
      r.body = ojson{{"errorMessage", result["errorMessage"]}, {"errorType", result["errorType"]}}
                   .dump();
    } else {
      // The cloud's message for a runtime that reports no error of its own.
      r.body = ojson{{"errorMessage", "RequestId: " + id + " Error: the handler returned an error"},
                     {"errorType", result["FunctionError"]}}
                   .dump();
    }
  } else if (result.is_object() && result.contains("batchItemFailures")) {
    r.body = ojson{{"batchItemFailures", result["batchItemFailures"]}}.dump();
  } else {
    r.body = "null";
  }
  if (log_type == "Tail") {
    r.headers.emplace_back("X-Amz-Log-Result", Base64(TailOf(ctx, name, since, id)));
  }
  return r;
}

}  // namespace runnel::endpoint::lambda
