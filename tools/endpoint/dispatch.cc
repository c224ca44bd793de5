// Copyright 2026 The runnel Authors.

#include <nlohmann/json.hpp>

#include "tools/endpoint/endpoint.h"

namespace runnel::endpoint {
namespace {

constexpr std::string_view kDynamoDBPrefix = "DynamoDB_20120810.";
constexpr std::string_view kStreamsPrefix = "DynamoDBStreams_20120810.";
constexpr std::string_view kLogsPrefix = "Logs_20140328.";
constexpr std::string_view kLambdaPath = "/2015-03-31/";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

Service ServiceOf(const HttpRequest& request) {
  const std::string_view target = request.Header("x-amz-target");
  if (StartsWith(target, kDynamoDBPrefix)) return Service::kDynamoDB;
  if (StartsWith(target, kStreamsPrefix)) return Service::kStreams;
  if (StartsWith(target, kLogsPrefix)) return Service::kLogs;
  if (target.empty() && StartsWith(request.path, kLambdaPath)) return Service::kLambda;
  return Service::kNone;
}

bool MayBlock(const HttpRequest& request) {
  // (Over this, even a read spends long parsing and hashing its body.)
  constexpr size_t kSmallBody = 256u << 10;
  if (request.body.size() > kSmallBody) return true;
  const std::string_view target = request.Header("x-amz-target");
  switch (ServiceOf(request)) {
    case Service::kDynamoDB: {
      const std::string_view op = target.substr(kDynamoDBPrefix.size());
      for (std::string_view read :
           {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable",
            "ListTables", "DescribeEndpoints", "DescribeTimeToLive"}) {
        if (op == read) return false;
      }
      return true;
    }
    case Service::kStreams:
      return false;  // reads of mapped log segments, a bounded page at a time
    case Service::kLogs:
    case Service::kLambda:
      return true;
    case Service::kNone:
      break;
  }
  return false;  // an error answer
}

HttpResponse Dispatch(ServiceContext& ctx, const HttpRequest& request) {
  const std::string_view target = request.Header("x-amz-target");
  switch (ServiceOf(request)) {
    case Service::kDynamoDB:
      return ServeDynamoDB(ctx, target.substr(kDynamoDBPrefix.size()), request);
    case Service::kStreams:
      return ServeStreams(ctx, target.substr(kStreamsPrefix.size()), request);
    case Service::kLogs:
      return ServeLogs(ctx, target.substr(kLogsPrefix.size()), request);
    case Service::kLambda:
      return ServeLambda(ctx, request);
    case Service::kNone:
      break;
  }
  if (!target.empty()) {
    return JsonError(400, "com.amazon.coral.service", "UnknownOperationException",
                     "Unknown operation: " + std::string(target));
  }
  return JsonError(404, "com.amazon.coral.service", "UnknownOperationException",
                   "No service serves " + request.method + " " + request.path);
}

HttpResponse JsonError(int status, std::string_view prefix, std::string_view type,
                       std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
  nlohmann::ordered_json j;
  j["__type"] = std::string(prefix) + "#" + std::string(type);
  j["message"] = std::string(message);
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse RestError(int status, std::string_view type, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("x-amzn-ErrorType", std::string(type));
  nlohmann::ordered_json j;
  j["Type"] = "User";
  j["message"] = std::string(message);
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace runnel::endpoint
