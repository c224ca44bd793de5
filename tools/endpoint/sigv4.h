// Copyright 2026 The runnel Authors.
//
// AWS Signature Version 4 (AWS4-HMAC-SHA256, in the Authorization header),
// as the cloud verifies it, and the credentials it is verified against.
//
// A request is accepted when: its Authorization header parses (Credential
// "<key>/<yyyymmdd>/<region>/<service>/aws4_request", SignedHeaders with
// "host", Signature of 64 hex digits); the access key is known; the scope
// names the configured region, the request's service (dynamodb for DynamoDB
// and DynamoDB Streams, lambda, logs) and the day of X-Amz-Date; X-Amz-Date
// (or Date) is within 15 minutes of now; and the signature over the
// canonical request matches. The payload hash is x-amz-content-sha256 when
// sent (UNSIGNED-PAYLOAD is taken as is; any other value must be the body's
// SHA-256), else the body's SHA-256.
//
// Pre-signed URLs (X-Amz-Signature in the query) are not accepted: the SDKs
// sign these services' requests in headers.

#ifndef RUNNEL_TOOLS_ENDPOINT_SIGV4_H_
#define RUNNEL_TOOLS_ENDPOINT_SIGV4_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/status.h"
#include "tools/endpoint/endpoint.h"

namespace runnel::endpoint {

// Access key id -> secret access key.
struct Credentials {
  std::map<std::string, std::string> secrets;
  bool empty() const { return secrets.empty(); }
};

// Adds every profile of an AWS credentials file (INI: "[profile]" sections
// with aws_access_key_id and aws_secret_access_key; '#' and ';' start
// comments; other keys, e.g. aws_session_token, are ignored). A section with
// one of the two keys but not the other, or a file that names no key at all,
// is InvalidArgument naming the file and line.
Status LoadCredentialsFile(const std::string& path, Credentials* credentials);
// Adds RUNNEL_ACCESS_KEY_ID / RUNNEL_SECRET_ACCESS_KEY when both are set;
// InvalidArgument when only one is.
Status AddEnvironmentCredentials(Credentials* credentials);

// Why a request was refused: the cloud's error type and message.
struct AuthError {
  std::string type;  // e.g. "InvalidSignatureException"
  std::string message;
};

// What the server checks a signature against.
struct SigV4Policy {
  const Credentials* credentials = nullptr;
  std::string region = "us-east-1";
  std::chrono::system_clock::time_point now;
  // How far X-Amz-Date may be from `now`.
  std::chrono::seconds max_skew{15 * 60};
};

// The signing name of a request's service: "dynamodb" (DynamoDB and
// Streams), "lambda", "logs", or "" for none.
std::string_view SigningName(Service service);

// Verifies the request's signature. nullopt: accepted.
std::optional<AuthError> VerifySigV4(const HttpRequest& request, const SigV4Policy& policy);

// The pieces of the signature, exposed for the known-answer tests.
// The canonical request over `signed_headers` (lower case, sorted).
std::string CanonicalRequest(const HttpRequest& request,
                             const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash);
// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical_request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// Hex HMAC-SHA256 of string_to_sign with the key derived from the secret,
// date (yyyymmdd), region and service.
std::string Signature(std::string_view secret, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign);
// Lower-case hex SHA-256.
std::string Sha256Hex(std::string_view data);

}  // namespace runnel::endpoint

#endif  // RUNNEL_TOOLS_ENDPOINT_SIGV4_H_
