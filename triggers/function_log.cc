// Copyright 2026 The runnel Authors.

#include "triggers/function_log.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/time.h"

namespace runnel {

namespace {

// The time IsoMicros wrote at the start of a log line; -1 if there is none.
int64_t LineTime(std::string_view line) {
  int64_t micros = 0;
  if (line.size() < 27 || !ParseIsoTime(line.substr(0, 27), &micros)) return -1;
  return micros;
}

}  // namespace

bool IsValidFunctionName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-')) {
      return false;
    }
  }
  return true;
}

Status ReadFunctionLogFiles(const std::string& db_dir, std::string_view function_name,
                            int64_t since_micros, std::vector<FunctionLogLine>* lines) {
  lines->clear();
  const Status missing = Status::NotFound("function '" + std::string(function_name) +
                                          "' has no log yet (it is created at its first "
                                          "invocation)");
  // The name becomes a path: a name no function can have (such as "..")
  // must not reach outside DIR/logs.
  if (!IsValidFunctionName(function_name)) return missing;
  const std::string dir = db_dir + "/logs/" + std::string(function_name);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return missing;
  // Nothing is appended through this object: Read only reads the files.
  return FunctionLog(dir).Read(since_micros, lines);
}

// A name FunctionLog gives its files: "current.log" or "<digits>.log".
static bool IsFunctionLogFileName(std::string_view name) {
  if (name == "current.log") return true;
  if (name.size() <= 4 || name.substr(name.size() - 4) != ".log") return false;
  for (char c : name.substr(0, name.size() - 4)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Status RemoveFunctionLogs(const std::string& db_dir) {
  namespace fs = std::filesystem;
  const fs::path logs = db_dir + "/logs";
  std::error_code ec;
  if (!fs::is_directory(logs, ec)) return Status::OK();
  Status s;
  auto note = [&s](const fs::path& p, const std::error_code& e) {
    if (e && s.ok()) s = Status::IOError(p.string() + ": " + e.message());
  };
  // Error codes throughout: a filesystem exception must not cross the API.
  const fs::directory_iterator end;
  for (fs::directory_iterator fn(logs, ec); !ec && fn != end; fn.increment(ec)) {
    std::error_code e;
    if (!fn->is_directory(e) || !IsValidFunctionName(fn->path().filename().string())) continue;
    for (fs::directory_iterator f(fn->path(), e); !e && f != end; f.increment(e)) {
      if (!IsFunctionLogFileName(f->path().filename().string())) continue;
      std::error_code r;
      fs::remove(f->path(), r);
      note(f->path(), r);
    }
    note(fn->path(), e);
    fs::remove(fn->path(), e);  // fails if something else is left: it stays
  }
  note(logs, ec);
  fs::remove(logs, ec);
  return s;
}

FunctionLog::FunctionLog(std::string dir, uint64_t rotate_bytes, int keep_files)
    : dir_(std::move(dir)), rotate_bytes_(rotate_bytes), keep_files_(keep_files) {}

FunctionLog::~FunctionLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void FunctionLog::RotateLocked() {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  std::error_code ec;
  std::filesystem::remove(dir_ + "/" + std::to_string(keep_files_) + ".log", ec);
  for (int i = keep_files_ - 1; i >= 1; --i) {
    std::filesystem::rename(dir_ + "/" + std::to_string(i) + ".log",
                            dir_ + "/" + std::to_string(i + 1) + ".log", ec);
  }
  std::filesystem::rename(dir_ + "/current.log", dir_ + "/1.log", ec);
}

void FunctionLog::Append(int64_t time_micros, std::string_view text) {
  std::string line = IsoMicros(time_micros);
  line.push_back(' ');
  for (char c : text) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  line.push_back('\n');
  MutexLock lock(&mu_);
  if (file_ != nullptr && size_ + line.size() > rotate_bytes_) RotateLocked();
  if (file_ == nullptr) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    const std::string path = dir_ + "/current.log";
    file_ = std::fopen(path.c_str(), "ae");  // not inherited by runnel-worker
    if (file_ == nullptr) {
      if (!reported_error_) {
        std::fprintf(stderr, "runnel: cannot open function log %s: %s\n", path.c_str(),
                     std::strerror(errno));
        reported_error_ = true;
      }
      return;
    }
    struct stat st;
    size_ = ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  }
  // Buffered: the runtime flushes when a mapping goes idle and at least
  // every 100 ms while it is busy (FlushIfDue), so `logs --follow` in
  // another shell sees lines promptly without a write(2) per line.
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
    if (!reported_error_) {
      std::fprintf(stderr, "runnel: writing function log in %s: %s\n", dir_.c_str(),
                   std::strerror(errno));
      reported_error_ = true;
    }
  }
  size_ += line.size();
  dirty_ = true;
}

void FunctionLog::Flush() {
  MutexLock lock(&mu_);
  FlushLocked();
}

void FunctionLog::FlushIfDue() {
  const auto now = std::chrono::steady_clock::now();
  MutexLock lock(&mu_);
  if (dirty_ && now - last_flush_ >= std::chrono::milliseconds(100)) FlushLocked();
}

void FunctionLog::FlushLocked() {
  if (file_ != nullptr && dirty_ && std::fflush(file_) != 0 && !reported_error_) {
    std::fprintf(stderr, "runnel: writing function log in %s: %s\n", dir_.c_str(),
                 std::strerror(errno));
    reported_error_ = true;
  }
  dirty_ = false;
  last_flush_ = std::chrono::steady_clock::now();
}

Status FunctionLog::Read(int64_t since_micros, std::vector<FunctionLogLine>* lines) {
  lines->clear();
  MutexLock lock(&mu_);
  FlushLocked();
  std::vector<std::string> files;
  for (int i = keep_files_; i >= 1; --i) {
    files.push_back(dir_ + "/" + std::to_string(i) + ".log");
  }
  files.push_back(dir_ + "/current.log");
  for (const std::string& path : files) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      const int64_t t = LineTime(line);
      if (t < 0 || t < since_micros) continue;
      lines->push_back({t, line});
    }
  }
  return Status::OK();
}

}  // namespace runnel
