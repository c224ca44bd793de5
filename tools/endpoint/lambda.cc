// Copyright 2026 The runnel Authors.
//
// Lambda's REST API under /2015-03-31/: routing, and the function
// operations. A function arrives as the cloud takes it (Code.ZipFile, a zip
// holding the shared library; Handler "file.so[:symbol]"); the zip is kept
// in the code store (lambda_code.cc) and the function is runnel's trigger
// function with that library.

#include <filesystem>

#include "tools/endpoint/lambda_internal.h"
#include "tools/json_shapes.h"

namespace runnel::endpoint {
namespace lambda {
namespace {

constexpr std::string_view kPrefix = "/2015-03-31";

HttpResponse NotServed(const HttpRequest& request) {
  return RestError(404, "UnknownOperationException",
                   "Operation not served: " + request.method + " " + request.path);
}

std::string Basename(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// What the function was created with (Runtime, Role, MemorySize, Handler
// as given), or the defaults for one created otherwise (`runnel
// create-function`). A Handler that no longer names the function's library
// and symbol (changed outside the endpoint) is rebuilt from them.
FunctionMeta MetaOf(const ServiceContext& ctx, const FunctionConfiguration& f) {
  FunctionMeta m;
  if (!ReadMeta(ctx, f.function_name, &m)) {
    m.runtime = "provided.al2023";
    m.role = "arn:aws:iam::" + ctx.account + ":role/runnel";
  }
  std::string file, symbol;
  if (!SplitHandler(m.handler, &file, &symbol) || Basename(file) != Basename(f.library) ||
      symbol != f.handler) {
    m.handler = Basename(f.library) + ":" + f.handler;
  }
  return m;
}

// Environment.Variables: an object of strings.
bool ParseEnvironment(Params& p, std::map<std::string, std::string>* vars) {
  const nlohmann::json* env = p.Object("Environment");
  if (env == nullptr) return false;
  vars->clear();
  if (!env->contains("Variables") || (*env)["Variables"].is_null()) return true;
  const nlohmann::json& v = (*env)["Variables"];
  if (!v.is_object()) {
    p.Fail(InvalidParameter("Environment.Variables must be an object of strings"));
    return false;
  }
  for (const auto& [k, val] : v.items()) {
    if (!val.is_string()) {
      p.Fail(InvalidParameter("Environment.Variables." + k + " must be a string"));
      return false;
    }
    (*vars)[k] = val.get<std::string>();
  }
  return true;
}

// The one (name, qualifier) a path or parameter names; qualifiers other than
// $LATEST (versions, aliases) are not served: not found.
bool ResolveName(const ServiceContext& ctx, std::string_view param, const HttpRequest& request,
                 std::string* name, HttpResponse* error) {
  std::string qualifier;
  *name = FunctionNameOf(param, &qualifier);
  const auto query = ParseQuery(request.query);
  if (auto it = query.find("Qualifier"); it != query.end()) qualifier = it->second;
  if (!qualifier.empty() && qualifier != "$LATEST") {
    *error = RestError(404, "ResourceNotFoundException",
                       FunctionNotFoundMessage(ctx, *name + ":" + qualifier));
    return false;
  }
  return true;
}

bool GetFunctionOr404(const ServiceContext& ctx, const std::string& name, FunctionConfiguration* f,
                      HttpResponse* error) {
  Status s = IsValidFunctionName(name) ? ctx.db->triggers()->GetFunction(name, f)
                                       : Status::NotFound("no such function");
  if (!s.ok()) {
    *error = ErrorOf(s, FunctionNotFoundMessage(ctx, name));
    return false;
  }
  return true;
}

struct CreateArgs {
  FunctionConfiguration config;
  FunctionMeta meta;
  std::string zip;
};

// The parameters of CreateFunction, checked; false with p's error.
bool ParseCreate(Params& p, CreateArgs* a) {
  p.OnlyServed({"FunctionName", "Runtime", "Role", "Handler", "Code", "Description", "Timeout",
                "MemorySize", "Environment", "PackageType", "Publish", "Architectures"});
  const auto name = p.String("FunctionName", true);
  const auto role = p.String("Role", true);
  const auto runtime = p.String("Runtime");
  const auto handler = p.String("Handler");
  const auto description = p.String("Description");
  const auto timeout = p.Int("Timeout", 1, UINT32_MAX);
  const auto memory = p.Int("MemorySize", 128, 10240);
  const auto package = p.String("PackageType");
  const auto publish = p.Bool("Publish");
  const nlohmann::json* code = p.Object("Code");
  ParseEnvironment(p, &a->config.environment);
  if (!p.ok()) return false;
  if (package && *package != "Zip") {
    p.Fail(InvalidParameter("PackageType " + *package + " is not supported by runnel: use Zip"));
  } else if (publish.value_or(false)) {
    p.Fail(InvalidParameter("Publish is not supported by runnel: functions have $LATEST only"));
  } else if (code == nullptr || !code->contains("ZipFile") || !(*code)["ZipFile"].is_string()) {
    p.Fail(InvalidParameter(code != nullptr && !code->empty()
                                ? "runnel takes function code as Code.ZipFile only"
                                : "Please provide a source for function code."));
  } else if (!runtime || !handler) {
    p.Fail(InvalidParameter(
        "Runtime and Handler are mandatory parameters for functions created with deployment "
        "packages."));
  } else if (!IsValidFunctionName(*name)) {
    p.Fail(InvalidParameter("FunctionName must be 1 to 64 characters of [A-Za-z0-9_-], got '" +
                            *name + "'"));
  }
  if (!p.ok()) return false;
  std::string file;
  if (!SplitHandler(*handler, &file, &a->config.handler)) {
    p.Fail(InvalidParameter("Handler must name the shared library in the zip and optionally its " +
                            std::string("symbol, file.so[:symbol]; got '") + *handler + "'"));
    return false;
  }
  a->config.function_name = *name;
  a->config.description = description.value_or("");
  if (timeout) a->config.timeout_seconds = static_cast<uint32_t>(*timeout);
  a->meta = {*runtime, *role, *handler, memory.value_or(128)};
  a->zip = (*code)["ZipFile"].get<std::string>();
  return true;
}

HttpResponse CreateFunction(ServiceContext& ctx, const HttpRequest& request) {
  nlohmann::json body;
  HttpResponse error;
  if (!WithinUploadLimit("CreateFunction", request, &error)) return error;
  if (!ParseBody(request, &body, &error)) return error;
  Params p(body);
  CreateArgs a;
  if (!ParseCreate(p, &a)) return p.error();
  FunctionConfiguration existing;
  if (ctx.db->triggers()->GetFunction(a.config.function_name, &existing).ok()) {
    return RestError(409, "ResourceConflictException",
                     "Function already exist: " + a.config.function_name);
  }
  StoredCode code;
  std::string file, symbol;
  SplitHandler(a.meta.handler, &file, &symbol);
  if (!StoreZip(ctx, "CreateFunction", a.zip, &code, &error) ||
      !LibraryIn(code, file, &a.config.library, &error)) {
    return error;
  }
  FunctionConfiguration created;
  Status s = ctx.db->triggers()->CreateFunction(a.config, &created);
  if (!s.ok()) {
    if (s.IsBusy()) {
      return RestError(409, "ResourceConflictException",
                       "Function already exist: " + a.config.function_name);
    }
    return ErrorOf(s);
  }
  s = WriteMeta(ctx, created.function_name, a.meta);
  if (!s.ok()) return ErrorOf(s);
  return JsonResponse(201, FunctionConfigJson(ctx, created));
}

HttpResponse GetFunction(ServiceContext& ctx, const std::string& name, bool configuration_only) {
  FunctionConfiguration f;
  HttpResponse error;
  if (!GetFunctionOr404(ctx, name, &f, &error)) return error;
  if (configuration_only) return JsonResponse(200, FunctionConfigJson(ctx, f));
  StoredCode code;
  const std::string location =
      CodeOfLibrary(ctx, f.library, &code) ? code.dir + "/package.zip" : f.library;
  ojson out;
  out["Configuration"] = FunctionConfigJson(ctx, f);
  out["Code"] = {{"RepositoryType", "S3"}, {"Location", "file://" + location}};
  return JsonResponse(200, out);
}

HttpResponse ListFunctions(ServiceContext& ctx, const HttpRequest& request) {
  const auto query = ParseQuery(request.query);
  size_t max_items = 50;
  if (auto it = query.find("MaxItems"); it != query.end()) {
    char* end = nullptr;
    const long n = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || n < 1 || n > 10000) {
      return RestError(400, "ValidationException",
                       "1 validation error detected: Value '" + it->second +
                           "' at 'maxItems' failed to satisfy constraint: Member must have value "
                           "between 1 and 10000");
    }
    max_items = std::min<size_t>(static_cast<size_t>(n), 50);
  }
  const auto marker = query.count("Marker") ? query.at("Marker") : std::string();
  std::vector<FunctionConfiguration> fns;
  Status s = ctx.db->triggers()->ListFunctions(&fns);
  if (!s.ok()) return ErrorOf(s);
  std::sort(fns.begin(), fns.end(),
            [](const auto& a, const auto& b) { return a.function_name < b.function_name; });
  ojson list = ojson::array();
  ojson out;
  for (const auto& f : fns) {
    if (!marker.empty() && f.function_name <= marker) continue;
    if (list.size() == max_items) {
      out["NextMarker"] = list.back()["FunctionName"];
      break;
    }
    list.push_back(FunctionConfigJson(ctx, f));
  }
  out["Functions"] = std::move(list);
  return JsonResponse(200, out);
}

HttpResponse UpdateCode(ServiceContext& ctx, const std::string& name, const HttpRequest& request) {
  nlohmann::json body;
  HttpResponse error;
  if (!WithinUploadLimit("UpdateFunctionCode", request, &error)) return error;
  if (!ParseBody(request, &body, &error)) return error;
  Params p(body);
  p.OnlyServed({"ZipFile", "Publish", "DryRun", "RevisionId", "Architectures"});
  const auto zip = p.String("ZipFile");
  if (p.ok() && (p.Bool("Publish").value_or(false) || p.Bool("DryRun").value_or(false))) {
    p.Fail(InvalidParameter("Publish and DryRun are not supported by runnel"));
  }
  if (p.ok() && !zip) p.Fail(InvalidParameter("Please provide a source for function code."));
  if (!p.ok()) return p.error();
  FunctionConfiguration f;
  if (!GetFunctionOr404(ctx, name, &f, &error)) return error;
  FunctionMeta meta = MetaOf(ctx, f);
  std::string file, symbol;
  SplitHandler(meta.handler, &file, &symbol);
  StoredCode code;
  if (!StoreZip(ctx, "UpdateFunctionCode", *zip, &code, &error)) return error;
  if (!LibraryIn(code, file, &f.library, &error)) {
    // New code whose one library has another name: the Handler follows it
    // (the cloud would take the zip and fail at the next invocation).
    std::string sole;
    if (!SoleLibrary(code, &sole) || !LibraryIn(code, sole, &f.library, &error)) return error;
    meta.handler = meta.handler.find(':') == std::string::npos ? sole : sole + ":" + symbol;
  }
  FunctionConfiguration updated;
  Status s = ctx.db->triggers()->UpdateFunction(f, &updated);
  if (!s.ok()) return ErrorOf(s, FunctionNotFoundMessage(ctx, name));
  s = WriteMeta(ctx, name, meta);
  if (!s.ok()) return ErrorOf(s);
  CollectCode(ctx);
  return JsonResponse(200, FunctionConfigJson(ctx, updated));
}

// A new Handler for f: the library it names in f's stored code.
bool ApplyHandler(const ServiceContext& ctx, const std::string& handler, FunctionConfiguration* f,
                  HttpResponse* error) {
  std::string file;
  if (!SplitHandler(handler, &file, &f->handler)) {
    *error = InvalidParameter("Handler must be file.so[:symbol], got '" + handler + "'");
    return false;
  }
  StoredCode code;
  if (CodeOfLibrary(ctx, f->library, &code)) return LibraryIn(code, file, &f->library, error);
  if (file == Basename(f->library)) return true;
  *error = InvalidParameter("Handler must name the function's library " + Basename(f->library));
  return false;
}

HttpResponse UpdateConfiguration(ServiceContext& ctx, const std::string& name,
                                 const HttpRequest& request) {
  nlohmann::json body;
  HttpResponse error;
  if (!ParseBody(request, &body, &error)) return error;
  Params p(body);
  p.OnlyServed({"Role", "Handler", "Description", "Timeout", "MemorySize", "Environment", "Runtime",
                "RevisionId"});
  const auto role = p.String("Role"), handler = p.String("Handler");
  const auto description = p.String("Description"), runtime = p.String("Runtime");
  const auto timeout = p.Int("Timeout", 1, UINT32_MAX);
  const auto memory = p.Int("MemorySize", 128, 10240);
  std::map<std::string, std::string> env;
  const bool has_env = ParseEnvironment(p, &env);
  if (!p.ok()) return p.error();
  FunctionConfiguration f;
  if (!GetFunctionOr404(ctx, name, &f, &error)) return error;
  FunctionMeta meta = MetaOf(ctx, f);
  if (handler && !ApplyHandler(ctx, *handler, &f, &error)) return error;
  if (handler) meta.handler = *handler;
  if (description) f.description = *description;
  if (timeout) f.timeout_seconds = static_cast<uint32_t>(*timeout);
  if (has_env) f.environment = env;
  if (role) meta.role = *role;
  if (runtime) meta.runtime = *runtime;
  if (memory) meta.memory_size = *memory;
  FunctionConfiguration updated;
  Status s = ctx.db->triggers()->UpdateFunction(f, &updated);
  if (!s.ok()) return ErrorOf(s, FunctionNotFoundMessage(ctx, name));
  s = WriteMeta(ctx, name, meta);
  if (!s.ok()) return ErrorOf(s);
  CollectCode(ctx);
  return JsonResponse(200, FunctionConfigJson(ctx, updated));
}

HttpResponse DeleteFunction(ServiceContext& ctx, const std::string& name) {
  // The cloud keeps a deleted function's log group: its lines still
  // buffered (Invoke does not flush them) go to the files first, as reading
  // flushes.
  std::vector<FunctionLogLine> unused;
  if (IsValidFunctionName(name)) {
    (void)ctx.db->triggers()->ReadFunctionLog(name, INT64_MAX, &unused);
  }
  // The cloud deletes a function that mappings use; runnel deletes the
  // mappings with it rather than leave them pointing at nothing.
  Status s = IsValidFunctionName(name) ? ctx.db->triggers()->DeleteFunction(name, /*force=*/true)
                                       : Status::NotFound("no such function");
  if (!s.ok()) return ErrorOf(s, FunctionNotFoundMessage(ctx, name));
  RemoveMeta(ctx, name);
  CollectCode(ctx);
  HttpResponse r;
  r.status = 204;
  return r;
}

HttpResponse ServeFunction(ServiceContext& ctx, std::string_view rest, const HttpRequest& request) {
  const size_t slash = rest.find('/');
  const std::string param = UrlDecode(rest.substr(0, slash), false);
  const std::string_view sub = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  std::string name;
  HttpResponse error;
  if (!ResolveName(ctx, param, request, &name, &error)) return error;
  const std::string& m = request.method;
  if (sub.empty() && m == "GET") return GetFunction(ctx, name, false);
  if (sub.empty() && m == "DELETE") return DeleteFunction(ctx, name);
  if (sub == "configuration" && m == "GET") return GetFunction(ctx, name, true);
  if (sub == "configuration" && m == "PUT") return UpdateConfiguration(ctx, name, request);
  if (sub == "code" && m == "PUT") return UpdateCode(ctx, name, request);
  if (sub == "invocations" && m == "POST") return ServeInvoke(ctx, name, request);
  return NotServed(request);
}

}  // namespace

ojson FunctionConfigJson(const ServiceContext& ctx, const FunctionConfiguration& f) {
  const FunctionMeta meta = MetaOf(ctx, f);
  StoredCode code;
  const bool stored = CodeOfLibrary(ctx, f.library, &code);
  ojson j = cli::FunctionJson(f);
  j.erase("Library");
  j["Runtime"] = meta.runtime;
  j["Role"] = meta.role;
  j["Handler"] = meta.handler;
  std::error_code ec;
  j["CodeSize"] = stored ? code.size : std::filesystem::file_size(f.library, ec);
  if (ec) j["CodeSize"] = 0;
  if (stored) j["CodeSha256"] = code.sha256_b64;
  j["MemorySize"] = meta.memory_size;
  j["PackageType"] = "Zip";
  j["TracingConfig"] = {{"Mode", "PassThrough"}};
  j["RevisionId"] = f.code_hash.substr(0, 8) + "-" + std::to_string(f.last_modified_micros);
  j["LastUpdateStatus"] = "Successful";
#if defined(__aarch64__)
  j["Architectures"] = {"arm64"};
#else
  j["Architectures"] = {"x86_64"};
#endif
  j["EphemeralStorage"] = {{"Size", 512}};
  j["SnapStart"] = {{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}};
  j["LoggingConfig"] = {{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + f.function_name}};
  return j;
}

}  // namespace lambda

HttpResponse ServeLambda(ServiceContext& ctx, const HttpRequest& request) {
  using lambda::kPrefix;
  std::string_view path = request.path;
  if (path.substr(0, kPrefix.size()) != kPrefix) return lambda::NotServed(request);
  path.remove_prefix(kPrefix.size());
  const std::string_view esm = "/event-source-mappings";
  if (path.substr(0, esm.size()) == esm) {
    return lambda::ServeMappings(ctx, path.substr(esm.size()), request);
  }
  const std::string_view fns = "/functions";
  if (path == fns || path == "/functions/") {
    if (request.method == "POST") return lambda::CreateFunction(ctx, request);
    if (request.method == "GET") return lambda::ListFunctions(ctx, request);
    return lambda::NotServed(request);
  }
  if (path.substr(0, fns.size() + 1) == "/functions/") {
    return lambda::ServeFunction(ctx, path.substr(fns.size() + 1), request);
  }
  return lambda::NotServed(request);
}

}  // namespace runnel::endpoint
