// Copyright 2026 The runnel Authors.
//
// The cloud's ARNs, as runnel names its tables, streams and functions:
//   arn:aws:dynamodb:<region>:<account>:table/<table>
//   arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>
//   arn:aws:lambda:<region>:<account>:function:<name>
// The region and account are the DB's (Options::region, Options::account_id,
// fixed when the DB is created).

#ifndef RUNNEL_CDC_ARN_H_
#define RUNNEL_CDC_ARN_H_

#include <string>
#include <string_view>

#include "runnel/status.h"

namespace runnel::arn {

constexpr std::string_view kDefaultRegion = "us-east-1";
constexpr std::string_view kDefaultAccount = "000000000000";

std::string Table(std::string_view region, std::string_view account, std::string_view table);
std::string Stream(std::string_view region, std::string_view account, std::string_view table,
                   std::string_view label);
std::string Function(std::string_view region, std::string_view account, std::string_view name);

// The parts of a stream ARN.
struct StreamArnParts {
  std::string region;
  std::string account;
  std::string table;
  std::string label;
};

// InvalidArgument naming the expected shape unless `arn` is a stream ARN of
// the shape above (any region and account: the caller compares them).
Status ParseStream(std::string_view arn, StreamArnParts* out);

// InvalidArgument unless `region` is a plausible region name (1-32 of
// [a-z0-9-], e.g. "us-east-1") and `account` twelve digits: what
// DB::Open checks of Options::region and Options::account_id.
Status CheckRegion(std::string_view region);
Status CheckAccount(std::string_view account);

}  // namespace runnel::arn

#endif  // RUNNEL_CDC_ARN_H_
