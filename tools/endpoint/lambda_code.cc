// Copyright 2026 The runnel Authors.
//
// The code store: function zips as clients upload them, kept in
// DB_DIR/functions/<hex sha256>/ (package.zip and root/, the zip's files) so
// that a function's library outlives the request and the host (triggers
// record the library's path and reload it after a restart). The directory
// name is the zip's SHA-256: the same upload is stored once, and CodeSha256
// and CodeSize come back from the store. DB_DIR/functions/meta/<name>.json
// holds what the cloud records and triggers do not (Runtime, Role,
// MemorySize, the Handler as given).

#include <openssl/sha.h>
#include <unistd.h>
#include <zip.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "tools/endpoint/lambda_internal.h"

namespace runnel::endpoint::lambda {
namespace {

namespace fs = std::filesystem;

// The cloud's limits for a direct upload.
constexpr size_t kMaxZipBytes = 50u << 20;
constexpr size_t kMaxRequestBytes = 69905067;
constexpr uint64_t kMaxUnzippedBytes = 262144000;

// One process, one store: creating, collecting and reading metadata do not
// interleave.
std::mutex& StoreMutex() {
  static std::mutex mu;
  return mu;
}

std::string StoreRoot(const ServiceContext& ctx) {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::path(ctx.db_dir) / "functions", ec);
  return ec ? ctx.db_dir + "/functions" : root.string();
}

std::string Hex(const unsigned char* bytes, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

bool IsHexName(const std::string& s) {
  if (s.size() != 2 * SHA256_DIGEST_LENGTH) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A zip entry name that stays inside the extraction directory.
bool SafeEntryName(std::string_view name) {
  if (name.empty() || name[0] == '/' || name.find('\\') != std::string_view::npos) return false;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    if (slash == std::string_view::npos) slash = name.size();
    if (name.substr(pos, slash - pos) == "..") return false;
    pos = slash + 1;
  }
  return true;
}

HttpResponse Unzippable() {
  return InvalidParameter(
      "Could not unzip uploaded file. Please check your file, then try to upload again.");
}

bool ExtractEntry(zip_t* za, zip_uint64_t i, const fs::path& root, uint64_t* total,
                  HttpResponse* error) {
  zip_stat_t st;
  if (zip_stat_index(za, i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME)) {
    *error = Unzippable();
    return false;
  }
  const std::string name = st.name;
  if (!SafeEntryName(name)) {
    *error = InvalidParameter("The zip file holds an entry outside its root: " + name);
    return false;
  }
  std::error_code ec;
  if (name.back() == '/') {
    fs::create_directories(root / name, ec);
    return !ec || (*error = Unzippable(), false);
  }
  fs::create_directories((root / name).parent_path(), ec);
  zip_file_t* zf = zip_fopen_index(za, i, 0);
  if (zf == nullptr) {
    *error = Unzippable();
    return false;
  }
  std::ofstream out(root / name, std::ios::binary);
  char buf[64 << 10];
  zip_int64_t n;
  while ((n = zip_fread(zf, buf, sizeof(buf))) > 0) {
    *total += static_cast<uint64_t>(n);
    if (*total > kMaxUnzippedBytes) break;
    out.write(buf, n);
  }
  zip_fclose(zf);
  if (*total > kMaxUnzippedBytes) {
    *error = InvalidParameter("Unzipped size must be smaller than " +
                              std::to_string(kMaxUnzippedBytes) + " bytes");
    return false;
  }
  out.close();
  if (n < 0 || !out) {
    *error = n < 0 ? Unzippable() : RestError(500, "ServiceException", "cannot write the code");
    return false;
  }
  return true;
}

// Extracts every entry of `zip` into `root`.
bool Extract(const std::string& zip, const fs::path& root, HttpResponse* error) {
  zip_error_t zerr;
  zip_error_init(&zerr);
  zip_source_t* src = zip_source_buffer_create(zip.data(), zip.size(), 0, &zerr);
  zip_t* za = src == nullptr ? nullptr : zip_open_from_source(src, ZIP_RDONLY, &zerr);
  zip_error_fini(&zerr);
  if (za == nullptr) {
    if (src != nullptr) zip_source_free(src);
    *error = Unzippable();
    return false;
  }
  const zip_int64_t entries = zip_get_num_entries(za, 0);
  uint64_t total = 0;
  bool ok = entries > 0 || (*error = InvalidParameter("The zip file is empty"), false);
  for (zip_int64_t i = 0; ok && i < entries; ++i) {
    ok = ExtractEntry(za, static_cast<zip_uint64_t>(i), root, &total, error);
  }
  zip_discard(za);
  return ok;
}

}  // namespace

bool WithinUploadLimit(std::string_view op, const HttpRequest& request, HttpResponse* error) {
  if (request.body.size() <= kMaxRequestBytes) return true;
  *error = RestError(413, "RequestTooLargeException",
                     "Request must be smaller than " + std::to_string(kMaxRequestBytes) +
                         " bytes for the " + std::string(op) + " operation");
  return false;
}

bool StoreZip(const ServiceContext& ctx, std::string_view op, std::string_view zip_b64,
              StoredCode* code, HttpResponse* error) {
  if (ctx.db_dir.empty()) {
    *error = RestError(500, "ServiceException", "the endpoint has no DB directory to keep code in");
    return false;
  }
  std::string zip;
  if (!Base64Decode(zip_b64, &zip)) {
    *error = InvalidParameter("ZipFile must be base64-encoded");
    return false;
  }
  if (zip.size() > kMaxZipBytes) {
    *error = RestError(413, "RequestTooLargeException",
                       "Request must be smaller than " + std::to_string(kMaxRequestBytes) +
                           " bytes for the " + std::string(op) + " operation");
    return false;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(zip.data()), zip.size(), digest);
  const std::string hex = Hex(digest, sizeof(digest));
  code->sha256_b64 = Base64(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
  code->size = zip.size();
  const fs::path root = StoreRoot(ctx);
  code->dir = (root / hex).string();
  std::lock_guard<std::mutex> lock(StoreMutex());
  std::error_code ec;
  if (fs::is_directory(code->dir, ec)) return true;
  // Extracted beside, then renamed: a stored code directory is complete.
  const fs::path tmp = root / (".tmp-" + hex + "-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp / "root", ec);
  bool ok = !ec && Extract(zip, tmp / "root", error);
  if (ok) {
    std::ofstream(tmp / "package.zip", std::ios::binary).write(zip.data(), zip.size());
    fs::rename(tmp, code->dir, ec);
    ok = !ec ||
         (*error = RestError(500, "ServiceException", "cannot store the code: " + ec.message()),
          false);
  } else if (ec) {
    *error = RestError(500, "ServiceException", "cannot store the code: " + ec.message());
  }
  if (!ok) fs::remove_all(tmp, ec);
  return ok;
}

bool LibraryIn(const StoredCode& code, std::string_view handler_file, std::string* library,
               HttpResponse* error) {
  std::error_code ec;
  const fs::path path = fs::path(code.dir) / "root" / std::string(handler_file);
  if (!SafeEntryName(handler_file) || !fs::is_regular_file(path, ec)) {
    *error = InvalidParameter("The zip file does not contain " + std::string(handler_file) +
                              ", the library named by Handler");
    return false;
  }
  *library = path.string();
  return true;
}

bool SoleLibrary(const StoredCode& code, std::string* file) {
  const fs::path root = fs::path(code.dir) / "root";
  std::error_code ec;
  int found = 0;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool so = (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0) ||
                    name.find(".so.") != std::string::npos;
    if (so && it->is_regular_file()) {
      *file = fs::relative(it->path(), root, ec).string();
      ++found;
    }
  }
  return found == 1 && !ec;
}

bool CodeOfLibrary(const ServiceContext& ctx, const std::string& library, StoredCode* code) {
  if (ctx.db_dir.empty()) return false;
  const std::string root = StoreRoot(ctx) + "/";
  if (library.compare(0, root.size(), root) != 0) return false;
  const std::string hex = library.substr(root.size(), 2 * SHA256_DIGEST_LENGTH);
  if (!IsHexName(hex)) return false;
  code->dir = root + hex;
  std::error_code ec;
  const auto size = fs::file_size(code->dir + "/package.zip", ec);
  if (ec) return false;
  code->size = size;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  for (size_t i = 0; i < sizeof(digest); ++i) {
    digest[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  code->sha256_b64 = Base64(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
  return true;
}

void CollectCode(const ServiceContext& ctx) {
  if (ctx.db_dir.empty() || ctx.db == nullptr) return;
  std::lock_guard<std::mutex> lock(StoreMutex());
  std::vector<FunctionConfiguration> fns;
  if (!ctx.db->triggers()->ListFunctions(&fns).ok()) return;
  std::set<std::string> used;
  for (const auto& f : fns) {
    StoredCode code;
    if (CodeOfLibrary(ctx, f.library, &code)) used.insert(code.dir);
  }
  std::error_code ec;
  const fs::path root = StoreRoot(ctx);
  // Code stored in the last minute may be about to become a function's (a
  // CreateFunction between StoreZip and the trigger's record): kept.
  const auto recent = fs::file_time_type::clock::now() - std::chrono::minutes(1);
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    std::error_code t;
    if (IsHexName(name) && used.count(entry.path().string()) == 0 &&
        fs::last_write_time(entry.path(), t) < recent && !t) {
      std::error_code rm;
      fs::remove_all(entry.path(), rm);
    }
  }
}

namespace {
std::string MetaPath(const ServiceContext& ctx, std::string_view name) {
  return ctx.db_dir + "/functions/meta/" + std::string(name) + ".json";
}
}  // namespace

bool ReadMeta(const ServiceContext& ctx, std::string_view name, FunctionMeta* meta) {
  if (ctx.db_dir.empty() || !IsValidFunctionName(name)) return false;
  std::lock_guard<std::mutex> lock(StoreMutex());
  std::ifstream in(MetaPath(ctx, name));
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (!j.is_object()) return false;
  meta->runtime = j.value("Runtime", "");
  meta->role = j.value("Role", "");
  meta->handler = j.value("Handler", "");
  meta->memory_size = j.value("MemorySize", int64_t{128});
  return true;
}

Status WriteMeta(const ServiceContext& ctx, std::string_view name, const FunctionMeta& meta) {
  if (ctx.db_dir.empty() || !IsValidFunctionName(name)) return Status::OK();
  std::lock_guard<std::mutex> lock(StoreMutex());
  std::error_code ec;
  fs::create_directories(ctx.db_dir + "/functions/meta", ec);
  const std::string path = MetaPath(ctx, name);
  const nlohmann::json j = {{"Runtime", meta.runtime},
                            {"Role", meta.role},
                            {"Handler", meta.handler},
                            {"MemorySize", meta.memory_size}};
  {
    std::ofstream out(path + ".tmp");
    out << j.dump();
    if (!out) return Status::IOError("cannot write " + path);
  }
  fs::rename(path + ".tmp", path, ec);
  return ec ? Status::IOError("cannot write " + path + ": " + ec.message()) : Status::OK();
}

void RemoveMeta(const ServiceContext& ctx, std::string_view name) {
  if (ctx.db_dir.empty() || !IsValidFunctionName(name)) return;
  std::lock_guard<std::mutex> lock(StoreMutex());
  std::error_code ec;
  fs::remove(MetaPath(ctx, name), ec);
}

}  // namespace runnel::endpoint::lambda
