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
#include <thread>

#include "cdc/log_format.h"

namespace runnel::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/runnel-test-XXXXXX";
  char* p = mkdtemp(tmpl.data());
  if (p == nullptr) std::abort();
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  std::chrono::milliseconds pause(1);
  while (!cond()) {
    // One last look after the deadline: a slow machine may have got there
    // during the final pause.
    if (std::chrono::steady_clock::now() >= end) return cond();
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return true;
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
    rec.commit_time_micros = r.commit_time_micros;
    out->push_back(std::move(rec));
  }
  return it->status();
}

Status ScanAll(DB* db, const std::string& table,
               std::vector<std::pair<std::string, std::string>>* out) {
  ScanResult result;
  Status s = db->Scan(ReadOptions(), table, ScanOptions(), &result);
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

LogScan ScanLog(const std::string& wal_dir) {
  LogScan out;
  std::vector<std::pair<uint64_t, std::string>> segs;
  for (const std::string& name : ListDir(wal_dir)) {
    uint64_t first;
    if (log::ParseSegmentFileName(name, &first)) segs.emplace_back(first, name);
  }
  std::sort(segs.begin(), segs.end());
  for (size_t i = 0; i < segs.size(); ++i) {
    const bool newest = i + 1 == segs.size();
    const std::string data = ReadFile(wal_dir + "/" + segs[i].second);
    log::SegmentHeader sh;
    if (data.size() < log::kSegmentHeaderSize ||
        !log::DecodeSegmentHeader(data.substr(0, log::kSegmentHeaderSize), &sh).ok()) {
      if (newest) {
        out.torn = true;
        break;
      }
      out.error = segs[i].second + ": damaged header in a non-newest segment";
      return out;
    }
    if (sh.first_sequence != segs[i].first) {
      out.error = segs[i].second + ": header names another first sequence";
      return out;
    }
    if (out.segments > 0 && segs[i].first != out.last_seq + 1) {
      out.error = segs[i].second + ": segment does not continue the log at " +
                  std::to_string(out.last_seq + 1);
      return out;
    }
    ++out.segments;
    out.last_seq = segs[i].first - 1;
    // cdc/log_format.h: a catalog snapshot is "the first frame of every
    // segment". (The newest may have lost it to the power cut.)
    if (!newest && (data.size() < log::kSegmentHeaderSize + log::kFrameHeaderSize ||
                    log::DecodeFrameHeader(data.data() + log::kSegmentHeaderSize).type !=
                        log::kCatalogFrame)) {
      out.preamble_errors.push_back(segs[i].second);
    }
    uint64_t off = log::kSegmentHeaderSize;
    while (off < data.size()) {
      std::string reason;
      log::FrameHeader h;
      if (data.size() - off < log::kFrameHeaderSize) {
        reason = "short frame header";
      } else {
        h = log::DecodeFrameHeader(data.data() + off);
        if (!h.Plausible() || off + h.frame_size() > data.size()) {
          reason = "bad length";
        } else if (!log::VerifyFrame(data.data() + off, h.length, sh.salt, off)) {
          reason = "checksum";
        } else if (h.first_sequence != out.last_seq + 1) {
          out.error = segs[i].second + " offset " + std::to_string(off) + ": frame starts at " +
                      std::to_string(h.first_sequence) + ", expected " +
                      std::to_string(out.last_seq + 1);
          return out;
        }
      }
      if (!reason.empty()) {
        if (newest) {
          out.torn = true;
          break;
        }
        out.error = segs[i].second + " offset " + std::to_string(off) + ": " + reason +
                    " in a non-newest segment";
        return out;
      }
      out.last_seq = h.last_sequence();
      off += h.frame_size();
    }
  }
  return out;
}

}  // namespace runnel::test
