// Copyright 2026 The runnel Authors.

#include "tests/testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cdc/log_format.h"

namespace runnel::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") +
                     "/runnel-test-XXXXXX";
  char* p = mkdtemp(tmpl.data());
  if (p == nullptr) std::abort();
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Status ReadAll(DB* db, SequenceNumber start, std::vector<Rec>* out) {
  out->clear();
  std::unique_ptr<ChangeIterator> it;
  Status s = db->NewChangeIterator(start, &it);
  if (!s.ok()) return s;
  for (; it->Valid(); it->Next()) {
    const ChangeRecord& r = it->record();
    Rec rec;
    rec.seq = r.sequence;
    rec.table = std::string(r.table);
    rec.event = r.event;
    rec.key = std::string(r.key);
    rec.has_old = r.has_old_image;
    rec.has_new = r.has_new_image;
    rec.old_image = std::string(r.old_image);
    rec.new_image = std::string(r.new_image);
    rec.end_of_batch = r.end_of_batch;
    out->push_back(std::move(rec));
  }
  return it->status();
}

Status ScanAll(DB* db, const std::string& table,
               std::vector<std::pair<std::string, std::string>>* out) {
  ScanResult result;
  Status s = db->Scan(table, ScanOptions(), &result);
  *out = std::move(result.items);
  return s;
}

StreamSpecification Stream(StreamViewType type) {
  StreamSpecification spec;
  spec.stream_enabled = true;
  spec.stream_view_type = type;
  return spec;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAt(const std::string& path, uint64_t offset, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  if (fd < 0) std::abort();
  if (::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)) !=
      static_cast<ssize_t>(bytes.size())) {
    std::abort();
  }
  ::close(fd);
}

void AppendFramesToSegment(const std::string& path, std::string frames) {
  const std::string seg = ReadFile(path);
  log::SegmentHeader h;
  if (!log::DecodeSegmentHeader(seg, &h).ok()) std::abort();
  log::SealFrames(frames.data(), frames.size(), h.salt, seg.size());
  WriteAt(path, seg.size(), frames);
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace runnel::test
