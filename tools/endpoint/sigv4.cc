// Copyright 2026 The runnel Authors.

#include "tools/endpoint/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>

namespace runnel::endpoint {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";

std::string Hex(const unsigned char* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[p[i] >> 4];
    s[2 * i + 1] = kDigits[p[i] & 15];
  }
  return s;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, the rest
// %XX in upper case ('/' kept in paths).
std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query components are decoded before re-encoding, so that a client that
// encoded more or less than SigV4 does still signs the same canonical form.
// ('+' is a space in form encoding, but SigV4 clients never send it for
// one: it stays '+'.)
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view part = query.substr(start, end - start);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      const std::string_view name = part.substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? "" : part.substr(eq + 1);
      params.emplace_back(UriEncode(PercentDecode(name), false),
                          UriEncode(PercentDecode(value), false));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

// Trimmed, with runs of spaces inside collapsed to one.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The Authorization header's parts.
struct ParsedAuth {
  std::string access_key, date, region, service, terminator;
  std::vector<std::string> signed_headers;
  std::string signature;
};

AuthError Incomplete(std::string_view what, std::string_view header) {
  return {"IncompleteSignatureException",
          std::string(what) + " Authorization=" + std::string(header.substr(0, 256))};
}

std::optional<AuthError> ParseAuthorization(std::string_view header, ParsedAuth* out) {
  const size_t space = header.find(' ');
  const std::string_view algorithm = header.substr(0, space);
  if (algorithm != kAlgorithm) {
    return AuthError{"IncompleteSignatureException",
                     "Unsupported AWS 'algorithm': '" + std::string(algorithm.substr(0, 64)) + "'"};
  }
  std::string_view credential, signed_headers, signature;
  const std::string_view rest = space == std::string_view::npos ? "" : header.substr(space + 1);
  for (std::string_view part : Split(rest, ',')) {
    part = Trim(part);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "Credential") credential = value;
    if (name == "SignedHeaders") signed_headers = value;
    if (name == "Signature") signature = value;
  }
  std::string missing;
  if (credential.empty()) missing += "Authorization header requires 'Credential' parameter. ";
  if (signed_headers.empty()) {
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  if (signature.empty()) missing += "Authorization header requires 'Signature' parameter. ";
  if (!missing.empty()) return Incomplete(missing, header);
  const std::vector<std::string_view> scope = Split(credential, '/');
  if (scope.size() != 5 || scope[0].empty()) {
    return Incomplete("Credential should be of the form <key>/<date>/<region>/<service>/" +
                          std::string(kTerminator) + ".",
                      header);
  }
  out->access_key = scope[0];
  out->date = scope[1];
  out->region = scope[2];
  out->service = scope[3];
  out->terminator = scope[4];
  for (std::string_view h : Split(signed_headers, ';')) out->signed_headers.emplace_back(h);
  out->signature = signature;
  return std::nullopt;
}

// X-Amz-Date (yyyymmddThhmmssZ) or an RFC 1123 Date, as seconds since the
// epoch; false if neither parses.
bool RequestTime(const HttpRequest& request, std::string* amz_date, time_t* t) {
  std::tm tm = {};
  const std::string x(request.Header("x-amz-date"));
  if (!x.empty()) {
    const char* end = ::strptime(x.c_str(), "%Y%m%dT%H%M%SZ", &tm);
    if (end == nullptr || *end != '\0') return false;
  } else {
    const std::string d(request.Header("date"));
    const char* end = ::strptime(d.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (d.empty() || end == nullptr || *end != '\0') return false;
  }
  *t = ::timegm(&tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  *amz_date = buf;
  return true;
}

std::string FormatAmzDate(time_t t) {
  std::tm tm = {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::optional<AuthError> CheckTime(time_t sent, std::string_view amz_date,
                                   const SigV4Policy& policy) {
  const time_t now = std::chrono::system_clock::to_time_t(policy.now);
  const time_t skew = static_cast<time_t>(policy.max_skew.count());
  const std::string minutes = std::to_string(policy.max_skew.count() / 60) + " min.)";
  if (sent < now - skew) {
    return AuthError{"InvalidSignatureException",
                     "Signature expired: " + std::string(amz_date) + " is now earlier than " +
                         FormatAmzDate(now - skew) + " (" + FormatAmzDate(now) + " - " + minutes};
  }
  if (sent > now + skew) {
    return AuthError{"InvalidSignatureException",
                     "Signature not yet current: " + std::string(amz_date) +
                         " is still later than " + FormatAmzDate(now + skew) + " (" +
                         FormatAmzDate(now) + " + " + minutes};
  }
  return std::nullopt;
}

std::optional<AuthError> CheckScope(const ParsedAuth& auth, std::string_view amz_date,
                                    std::string_view service, const SigV4Policy& policy) {
  auto invalid = [](std::string message) {
    return AuthError{"InvalidSignatureException", std::move(message)};
  };
  if (auth.date != amz_date.substr(0, 8)) {
    return invalid(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
        "date from HTTP: '" +
        auth.date + "' != '" + std::string(amz_date.substr(0, 8)) + "', from '" +
        std::string(amz_date) + "'.");
  }
  if (auth.region != policy.region) {
    return invalid("Credential should be scoped to a valid region, not '" + auth.region + "'. ");
  }
  if (!service.empty() && auth.service != service) {
    return invalid("Credential should be scoped to correct service: '" + std::string(service) +
                   "'. ");
  }
  if (auth.terminator != kTerminator) {
    return invalid("Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                   auth.terminator + "'. ");
  }
  return std::nullopt;
}

std::optional<AuthError> PayloadHash(const HttpRequest& request, std::string* hash) {
  const std::string_view sent = request.Header("x-amz-content-sha256");
  const std::string actual = Sha256Hex(request.body);
  if (sent.empty()) {
    *hash = actual;
  } else if (sent == "UNSIGNED-PAYLOAD") {
    *hash = std::string(sent);
  } else if (sent != actual) {
    return AuthError{"InvalidSignatureException",
                     "The provided 'x-amz-content-sha256' header does not match what was "
                     "computed."};
  } else {
    *hash = actual;
  }
  return std::nullopt;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return Hex(out, sizeof(out));
}

std::string_view SigningName(Service service) {
  switch (service) {
    case Service::kDynamoDB:
    case Service::kStreams:
      return "dynamodb";
    case Service::kLambda:
      return "lambda";
    case Service::kLogs:
      return "logs";
    case Service::kNone:
      break;
  }
  return "";
}

std::string CanonicalRequest(const HttpRequest& request,
                             const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash) {
  // Every service but S3 signs the path as sent, encoded once more.
  std::string out = request.method + "\n";
  out += request.path.empty() ? "/" : UriEncode(request.path, true);
  out += "\n" + CanonicalQuery(request.query) + "\n";
  std::string names;
  for (const std::string& name : signed_headers) {
    std::string value;
    bool first = true;
    for (const auto& [n, v] : request.headers) {
      if (n != name) continue;
      if (!first) value += ',';
      value += CanonicalValue(v);
      first = false;
    }
    out += name + ":" + value + "\n";
    if (!names.empty()) names += ';';
    names += name;
  }
  out += "\n" + names + "\n" + std::string(payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" +
         Sha256Hex(canonical_request);
}

std::string Signature(std::string_view secret, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign) {
  std::string key = Hmac("AWS4" + std::string(secret), date);
  key = Hmac(key, region);
  key = Hmac(key, service);
  key = Hmac(key, kTerminator);
  const std::string mac = Hmac(key, string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::optional<AuthError> VerifySigV4(const HttpRequest& request, const SigV4Policy& policy) {
  const std::string_view header = request.Header("authorization");
  if (header.empty()) {
    return AuthError{"MissingAuthenticationTokenException",
                     "Request is missing Authentication Token"};
  }
  ParsedAuth auth;
  if (auto e = ParseAuthorization(header, &auth)) return e;
  std::string amz_date;
  time_t sent = 0;
  if (!RequestTime(request, &amz_date, &sent)) {
    return Incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        header);
  }
  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "host") ==
      auth.signed_headers.end()) {
    return AuthError{"InvalidSignatureException",
                     "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."};
  }
  if (auto e = CheckScope(auth, amz_date, SigningName(ServiceOf(request)), policy)) return e;
  const auto secret = policy.credentials->secrets.find(auth.access_key);
  if (secret == policy.credentials->secrets.end()) {
    return AuthError{"UnrecognizedClientException",
                     "The security token included in the request is invalid."};
  }
  if (auto e = CheckTime(sent, amz_date, policy)) return e;
  std::string payload_hash;
  if (auto e = PayloadHash(request, &payload_hash)) return e;
  const std::string scope =
      auth.date + "/" + auth.region + "/" + auth.service + "/" + std::string(kTerminator);
  const std::string expected = Signature(
      secret->second, auth.date, auth.region, auth.service,
      StringToSign(amz_date, scope, CanonicalRequest(request, auth.signed_headers, payload_hash)));
  if (expected.size() != auth.signature.size() ||
      CRYPTO_memcmp(expected.data(), auth.signature.data(), expected.size()) != 0) {
    return AuthError{"InvalidSignatureException",
                     "The request signature we calculated does not match the signature you "
                     "provided. Check your AWS Secret Access Key and signing method. Consult the "
                     "service documentation for details."};
  }
  return std::nullopt;
}

namespace {

// A named line of the credentials file, for errors.
Status BadLine(const std::string& path, int line, std::string_view what) {
  return Status::InvalidArgument("--credentials: " + path + ":" + std::to_string(line) + ": " +
                                 std::string(what));
}

struct Profile {
  std::string name, key, secret;
  int line = 0;
};

Status AddProfile(const std::string& path, const Profile& p, Credentials* credentials) {
  if (p.key.empty() && p.secret.empty()) return Status::OK();
  if (p.key.empty() || p.secret.empty()) {
    return BadLine(path, p.line,
                   "profile [" + p.name +
                       "] needs both aws_access_key_id and "
                       "aws_secret_access_key");
  }
  credentials->secrets[p.key] = p.secret;
  return Status::OK();
}

}  // namespace

Status LoadCredentialsFile(const std::string& path, Credentials* credentials) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("--credentials: cannot read '" + path + "'");
  const size_t before = credentials->secrets.size();
  Profile p;
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    const std::string_view l = Trim(raw);
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    if (l[0] == '[') {
      if (l.back() != ']') return BadLine(path, line, "a section header must end with ']'");
      Status s = AddProfile(path, p, credentials);
      if (!s.ok()) return s;
      p = Profile{std::string(Trim(l.substr(1, l.size() - 2))), "", "", line};
      continue;
    }
    const size_t eq = l.find('=');
    if (eq == std::string_view::npos) return BadLine(path, line, "expected 'name = value'");
    const std::string_view name = Trim(l.substr(0, eq));
    const std::string value(Trim(l.substr(eq + 1)));
    if (name == "aws_access_key_id") p.key = value;
    if (name == "aws_secret_access_key") p.secret = value;
  }
  Status s = AddProfile(path, p, credentials);
  if (!s.ok()) return s;
  if (credentials->secrets.size() == before) {
    return Status::InvalidArgument("--credentials: " + path +
                                   " names no aws_access_key_id / aws_secret_access_key pair");
  }
  return Status::OK();
}

Status AddEnvironmentCredentials(Credentials* credentials) {
  const char* key = std::getenv("RUNNEL_ACCESS_KEY_ID");
  const char* secret = std::getenv("RUNNEL_SECRET_ACCESS_KEY");
  const bool has_key = key != nullptr && *key != '\0';
  const bool has_secret = secret != nullptr && *secret != '\0';
  if (!has_key && !has_secret) return Status::OK();
  if (!has_key || !has_secret) {
    return Status::InvalidArgument(
        "RUNNEL_ACCESS_KEY_ID and RUNNEL_SECRET_ACCESS_KEY must be set together");
  }
  credentials->secrets[key] = secret;
  return Status::OK();
}

}  // namespace runnel::endpoint
