// Copyright 2026 The runnel Authors.

#include "cdc/arn.h"

namespace runnel::arn {
namespace {

constexpr std::string_view kDynamoDBPrefix = "arn:aws:dynamodb:";
constexpr std::string_view kLambdaPrefix = "arn:aws:lambda:";

std::string Prefix(std::string_view service_prefix, std::string_view region,
                   std::string_view account) {
  std::string s(service_prefix);
  s.append(region).append(":").append(account).append(":");
  return s;
}

bool IsTableNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

Status BadStreamArn(std::string_view arn, std::string_view why) {
  return Status::InvalidArgument(
      "Invalid StreamArn '" + std::string(arn) + "': " + std::string(why) +
      " (expected arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>)");
}

}  // namespace

std::string Table(std::string_view region, std::string_view account, std::string_view table) {
  return Prefix(kDynamoDBPrefix, region, account) + "table/" + std::string(table);
}

std::string Stream(std::string_view region, std::string_view account, std::string_view table,
                   std::string_view label) {
  return Table(region, account, table) + "/stream/" + std::string(label);
}

std::string Function(std::string_view region, std::string_view account, std::string_view name) {
  return Prefix(kLambdaPrefix, region, account) + "function:" + std::string(name);
}

Status ParseStream(std::string_view arn, StreamArnParts* out) {
  if (arn.substr(0, kDynamoDBPrefix.size()) != kDynamoDBPrefix) {
    return BadStreamArn(arn, "not a DynamoDB ARN");
  }
  std::string_view rest = arn.substr(kDynamoDBPrefix.size());
  const size_t a = rest.find(':');
  const size_t b = a == std::string_view::npos ? a : rest.find(':', a + 1);
  if (b == std::string_view::npos) return BadStreamArn(arn, "no region and account");
  const std::string_view region = rest.substr(0, a);
  const std::string_view account = rest.substr(a + 1, b - a - 1);
  if (!CheckRegion(region).ok()) return BadStreamArn(arn, "bad region");
  if (!CheckAccount(account).ok()) return BadStreamArn(arn, "bad account id");
  rest.remove_prefix(b + 1);
  if (rest.substr(0, 6) != "table/") return BadStreamArn(arn, "no table/");
  rest.remove_prefix(6);
  const size_t slash = rest.find('/');
  const std::string_view table = rest.substr(0, slash);
  if (table.size() < 3 || table.size() > 255) return BadStreamArn(arn, "bad table name");
  for (char c : table) {
    if (!IsTableNameChar(c)) return BadStreamArn(arn, "bad table name");
  }
  if (slash == std::string_view::npos || rest.substr(slash, 8) != "/stream/" ||
      rest.size() == slash + 8) {
    return BadStreamArn(arn, "no /stream/<label>");
  }
  out->region = std::string(region);
  out->account = std::string(account);
  out->table = std::string(table);
  out->label = std::string(rest.substr(slash + 8));
  return Status::OK();
}

Status CheckRegion(std::string_view region) {
  bool ok = !region.empty() && region.size() <= 32 && region.front() != '-' && region.back() != '-';
  for (char c : region) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (ok) return Status::OK();
  return Status::InvalidArgument("region '" + std::string(region) +
                                 "': expected 1-32 of [a-z0-9-], e.g. us-east-1");
}

Status CheckAccount(std::string_view account) {
  bool ok = account.size() == 12;
  for (char c : account) ok = ok && c >= '0' && c <= '9';
  if (ok) return Status::OK();
  return Status::InvalidArgument("account id '" + std::string(account) +
                                 "': expected twelve digits, e.g. 000000000000");
}

}  // namespace runnel::arn
