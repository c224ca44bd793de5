// Copyright 2026 The runnel Authors.
//
// Pieces shared by the Lambda REST service (lambda.cc: routing and
// functions, lambda_invoke.cc, lambda_mappings.cc) and the code store
// (lambda_code.cc): request parameters, errors, and where a function's code
// lives.

#ifndef RUNNEL_TOOLS_ENDPOINT_LAMBDA_INTERNAL_H_
#define RUNNEL_TOOLS_ENDPOINT_LAMBDA_INTERNAL_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "runnel/status.h"
#include "runnel/triggers.h"
#include "tools/endpoint/endpoint.h"

namespace runnel::endpoint::lambda {

using ojson = nlohmann::ordered_json;

// A 2xx/4xx response with a JSON body (Content-Type application/json).
HttpResponse JsonResponse(int status, const ojson& body);

// Percent-decoding of a path segment or query value ('+' is a space only in
// queries).
std::string UrlDecode(std::string_view s, bool plus_is_space);
std::map<std::string, std::string> ParseQuery(std::string_view query);

// The function name in a FunctionName parameter: a name, a full ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]) or a partial one
// (ACCOUNT:function:NAME). Qualifier other than $LATEST: *qualifier is set.
std::string FunctionNameOf(std::string_view param, std::string* qualifier = nullptr);
bool IsValidFunctionName(std::string_view name);

// The request body as a JSON object ({} when empty). On failure *error is the
// cloud's InvalidRequestContentException.
bool ParseBody(const HttpRequest& request, nlohmann::json* body, HttpResponse* error);

// Typed access to a request's parameters; the first problem (wrong type,
// out of the model's range, parameter not served) is kept as the response
// the cloud would give, and later calls do nothing.
class Params {
 public:
  explicit Params(const nlohmann::json& j) : j_(j) {}
  bool Has(const char* key) const;
  std::optional<std::string> String(const char* key, bool required = false);
  // Integer within the API model's [lo, hi]: ValidationException otherwise.
  std::optional<int64_t> Int(const char* key, int64_t lo, int64_t hi);
  std::optional<double> Number(const char* key);
  std::optional<bool> Bool(const char* key);
  // A JSON object parameter, or nullptr if absent.
  const nlohmann::json* Object(const char* key);
  // Any parameter present and not in `served`: InvalidParameterValueException
  // naming it (runnel does not serve it).
  void OnlyServed(std::initializer_list<std::string_view> served);
  void Fail(HttpResponse error);
  bool ok() const { return !failed_; }
  const HttpResponse& error() const { return error_; }

 private:
  const nlohmann::json& j_;
  bool failed_ = false;
  HttpResponse error_;
};

// The Lambda error for a runnel Status: NotFound 404
// ResourceNotFoundException (with `not_found_message` when given), Busy /
// FailedPrecondition 409 ResourceConflictException, InvalidArgument 400
// InvalidParameterValueException, others 500 ServiceException.
HttpResponse ErrorOf(const Status& s, std::string_view not_found_message = {});
HttpResponse InvalidParameter(std::string_view message);
// The cloud's message for a function that does not exist.
std::string FunctionNotFoundMessage(const ServiceContext& ctx, std::string_view name);

// Milliseconds-precision epoch seconds, the rest-json timestamp shape.
double EpochSeconds(int64_t micros);

// --- The code store (lambda_code.cc): DB_DIR/functions/.

// A zip as stored: content-addressed by its SHA-256.
struct StoredCode {
  std::string dir;         // DB_DIR/functions/<hex sha256>
  std::string sha256_b64;  // CodeSha256
  uint64_t size = 0;       // CodeSize: the zip's bytes
};

// What the cloud records about a function that runnel's triggers do not
// (Runtime, Role, MemorySize, the Handler as given).
struct FunctionMeta {
  std::string runtime;
  std::string role;
  std::string handler;  // "file.so" or "file.so:symbol"
  int64_t memory_size = 128;
};

// Decodes base64 `zip_b64`, checks it is a zip within the cloud's limits,
// and extracts it (once per content) under the DB's functions/ directory.
// Errors are the cloud's (InvalidParameterValueException,
// RequestTooLargeException) in *error.
// `op` names the operation in the cloud's RequestTooLargeException.
bool StoreZip(const ServiceContext& ctx, std::string_view op, std::string_view zip_b64,
              StoredCode* code, HttpResponse* error);
// The cloud's limit on a request carrying a zip (50 MB, base64-encoded),
// checked before the body is parsed: false with RequestTooLargeException.
bool WithinUploadLimit(std::string_view op, const HttpRequest& request, HttpResponse* error);
// The library file `handler_file` (a path inside the zip) of stored code, or
// an InvalidParameterValueException if the zip has no such file.
bool LibraryIn(const StoredCode& code, std::string_view handler_file, std::string* library,
               HttpResponse* error);
// The one shared library (file.so or file.so.N) in stored code, as a path
// inside the zip; false if there is none or more than one.
bool SoleLibrary(const StoredCode& code, std::string* file);
// The stored code a (resolved) library path belongs to; false if the library
// is not in the store (a function created with `runnel create-function`).
bool CodeOfLibrary(const ServiceContext& ctx, const std::string& library, StoredCode* code);
// Removes stored code no function uses any more.
void CollectCode(const ServiceContext& ctx);

bool ReadMeta(const ServiceContext& ctx, std::string_view name, FunctionMeta* meta);
Status WriteMeta(const ServiceContext& ctx, std::string_view name, const FunctionMeta& meta);
void RemoveMeta(const ServiceContext& ctx, std::string_view name);

std::string Base64(std::string_view bytes);
bool Base64Decode(std::string_view text, std::string* bytes);

// Splits a Handler "file.so[:symbol]": false if it names no .so file.
bool SplitHandler(std::string_view handler, std::string* file, std::string* symbol);

// The cloud's FunctionConfiguration of `f` (tools/json_shapes FunctionJson
// plus what the cloud adds).
ojson FunctionConfigJson(const ServiceContext& ctx, const FunctionConfiguration& f);

// --- Sub-services.
HttpResponse ServeInvoke(ServiceContext& ctx, std::string_view name, const HttpRequest& request);
// `rest` is the path after /2015-03-31/event-source-mappings (may be "",
// "/" or "/<UUID>").
HttpResponse ServeMappings(ServiceContext& ctx, std::string_view rest, const HttpRequest& request);

}  // namespace runnel::endpoint::lambda

#endif  // RUNNEL_TOOLS_ENDPOINT_LAMBDA_INTERNAL_H_
