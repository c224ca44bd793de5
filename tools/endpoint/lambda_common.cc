// Copyright 2026 The runnel Authors.
//
// Request parameters and errors of the Lambda REST service.

#include <openssl/evp.h>

#include <cmath>
#include <limits>

#include "tools/endpoint/lambda_internal.h"

namespace runnel::endpoint::lambda {

HttpResponse JsonResponse(int status, const ojson& body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::string UrlDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view part = query.substr(pos, amp - pos);
    const size_t eq = part.find('=');
    if (!part.empty()) {
      out.emplace(UrlDecode(part.substr(0, eq), true),
                  eq == std::string_view::npos ? "" : UrlDecode(part.substr(eq + 1), true));
    }
    pos = amp + 1;
  }
  return out;
}

bool IsValidFunctionName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string FunctionNameOf(std::string_view param, std::string* qualifier) {
  std::string_view name = param;
  const size_t fn = param.find(":function:");
  if (fn != std::string_view::npos) name = param.substr(fn + 10);
  const size_t colon = name.find(':');
  if (colon != std::string_view::npos) {
    if (qualifier != nullptr) *qualifier = std::string(name.substr(colon + 1));
    name = name.substr(0, colon);
  }
  return std::string(name);
}

bool ParseBody(const HttpRequest& request, nlohmann::json* body, HttpResponse* error) {
  if (request.body.empty()) {
    *body = nlohmann::json::object();
    return true;
  }
  *body = nlohmann::json::parse(request.body, nullptr, false);
  if (body->is_discarded() || !body->is_object()) {
    *error = RestError(400, "InvalidRequestContentException",
                       "Could not parse request body into json: the body is not a JSON object");
    return false;
  }
  return true;
}

namespace {

std::string Camel(std::string_view key) {
  std::string s(key);
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

HttpResponse Validation(std::string_view value, std::string_view key, std::string_view what) {
  return RestError(400, "ValidationException",
                   "1 validation error detected: Value '" + std::string(value) + "' at '" +
                       Camel(key) + "' failed to satisfy constraint: " + std::string(what));
}

}  // namespace

void Params::Fail(HttpResponse error) {
  if (failed_) return;
  failed_ = true;
  error_ = std::move(error);
}

bool Params::Has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }

std::optional<std::string> Params::String(const char* key, bool required) {
  if (!Has(key)) {
    if (required) Fail(Validation("null", key, "Member must not be null"));
    return std::nullopt;
  }
  if (!j_[key].is_string()) {
    Fail(InvalidParameter(std::string(key) + " must be a string"));
    return std::nullopt;
  }
  return j_[key].get<std::string>();
}

std::optional<int64_t> Params::Int(const char* key, int64_t lo, int64_t hi) {
  if (!Has(key)) return std::nullopt;
  const nlohmann::json& v = j_[key];
  if (!v.is_number_integer()) {
    Fail(InvalidParameter(std::string(key) + " must be an integer"));
    return std::nullopt;
  }
  const int64_t n = v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX
                        ? std::numeric_limits<int64_t>::max()
                        : v.get<int64_t>();
  if (n < lo) {
    Fail(Validation(v.dump(), key,
                    "Member must have value greater than or equal to " + std::to_string(lo)));
    return std::nullopt;
  }
  if (n > hi) {
    Fail(Validation(v.dump(), key,
                    "Member must have value less than or equal to " + std::to_string(hi)));
    return std::nullopt;
  }
  return n;
}

std::optional<double> Params::Number(const char* key) {
  if (!Has(key)) return std::nullopt;
  if (!j_[key].is_number()) {
    Fail(InvalidParameter(std::string(key) + " must be a number"));
    return std::nullopt;
  }
  return j_[key].get<double>();
}

std::optional<bool> Params::Bool(const char* key) {
  if (!Has(key)) return std::nullopt;
  if (!j_[key].is_boolean()) {
    Fail(InvalidParameter(std::string(key) + " must be a boolean"));
    return std::nullopt;
  }
  return j_[key].get<bool>();
}

const nlohmann::json* Params::Object(const char* key) {
  if (!Has(key)) return nullptr;
  if (!j_[key].is_object()) {
    Fail(InvalidParameter(std::string(key) + " must be an object"));
    return nullptr;
  }
  return &j_[key];
}

void Params::OnlyServed(std::initializer_list<std::string_view> served) {
  for (const auto& [key, value] : j_.items()) {
    if (value.is_null()) continue;
    bool known = false;
    for (std::string_view s : served) known = known || s == key;
    if (!known) {
      Fail(InvalidParameter(key + " is not supported by runnel"));
      return;
    }
  }
}

HttpResponse InvalidParameter(std::string_view message) {
  return RestError(400, "InvalidParameterValueException", message);
}

HttpResponse ErrorOf(const Status& s, std::string_view not_found_message) {
  if (s.IsNotFound()) {
    return RestError(404, "ResourceNotFoundException",
                     not_found_message.empty() ? s.message() : not_found_message);
  }
  if (s.IsBusy() || s.IsFailedPrecondition()) {
    return RestError(409, "ResourceConflictException", s.message());
  }
  if (s.IsInvalidArgument() || s.IsNotSupported()) return InvalidParameter(s.message());
  HttpResponse r = RestError(500, "ServiceException", s.ToString());
  return r;
}

std::string FunctionNotFoundMessage(const ServiceContext& ctx, std::string_view name) {
  return "Function not found: arn:aws:lambda:" + ctx.region + ":" + ctx.account +
         ":function:" + std::string(name);
}

double EpochSeconds(int64_t micros) {
  return std::floor(static_cast<double>(micros) / 1000.0) / 1000.0;
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

bool Base64Decode(std::string_view text, std::string* bytes) {
  if (text.size() % 4 != 0) return false;
  bytes->assign(3 * (text.size() / 4) + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes->data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return false;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && len > 0; --i) --len;
  bytes->resize(len);
  return true;
}

bool SplitHandler(std::string_view handler, std::string* file, std::string* symbol) {
  const size_t colon = handler.rfind(':');
  *file = std::string(handler.substr(0, colon));
  *symbol = colon == std::string_view::npos ? RUNNEL_DEFAULT_HANDLER_SYMBOL
                                            : std::string(handler.substr(colon + 1));
  const bool so = file->size() > 3 && (file->compare(file->size() - 3, 3, ".so") == 0 ||
                                       file->find(".so.") != std::string::npos);
  return so && !symbol->empty();
}

}  // namespace runnel::endpoint::lambda
