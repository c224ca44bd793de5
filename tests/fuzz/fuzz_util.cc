// Copyright 2026 The runnel Authors.

#include "tests/fuzz/fuzz_util.h"

#include <fcntl.h>
#include <kj/encoding.h>
#include <leveldb/env.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "cdc/stream_reader.h"

namespace runnel::fuzz {

void Die(std::string_view what) {
  std::fprintf(stderr, "fuzz: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

ScratchDir::ScratchDir(std::string_view tag) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr ? base : "/tmp") + "/runnel-fuzz-" + std::string(tag) + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp " + tmpl);
  path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void WriteFileOrDie(const std::string& path, std::string_view bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) Die("open " + path + ": " + std::strerror(errno));
  if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    Die("write " + path);
  }
}

// A volatile sink keeps Touch's loop from being optimized away.
volatile uint64_t touch_sink = 0;

uint64_t Touch(std::string_view v) {
  uint64_t h = v.size();
  for (char c : v) h = h * 31 + static_cast<unsigned char>(c);
  touch_sink = h;
  return h;
}

namespace {

class PreadFile : public leveldb::RandomAccessFile {
 public:
  PreadFile(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}
  ~PreadFile() override { ::close(fd_); }
  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    const ssize_t r = ::pread(fd_, scratch, n, static_cast<off_t>(offset));
    if (r < 0) return leveldb::Status::IOError(name_, std::strerror(errno));
    *result = leveldb::Slice(scratch, static_cast<size_t>(r));
    return leveldb::Status::OK();
  }

 private:
  const std::string name_;
  const int fd_;
};

class PreadOnlyEnv : public leveldb::EnvWrapper {
 public:
  PreadOnlyEnv() : EnvWrapper(leveldb::Env::Default()) {}
  leveldb::Status NewRandomAccessFile(const std::string& name,
                                      leveldb::RandomAccessFile** file) override {
    const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *file = nullptr;
      return errno == ENOENT ? leveldb::Status::NotFound(name) : leveldb::Status::IOError(name);
    }
    *file = new PreadFile(name, fd);
    return leveldb::Status::OK();
  }
};

// Deterministic filler bytes: values must be the same in every run so that
// frame offsets are.
std::string Filler(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>('a' + x % 26);
  }
  return s;
}

}  // namespace

leveldb::Env* PreadEnv() {
  static PreadOnlyEnv* env = new PreadOnlyEnv;
  return env;
}

void BuildFixtureDb(FixtureDb* fx) {
  fx->dir = std::make_unique<ScratchDir>("db");
  Options options;
  options.name = "fuzz";
  options.segment_bytes = 64 << 10;
  options.retention_seconds = 0;
  options.retention_check_seconds = 24 * 3600;
  CheckOk(DB::Open(options, fx->dir->path() + "/fuzz", &fx->db), "DB::Open");
  DB* db = fx->db.get();
  const WriteOptions w;
  auto spec = [](StreamViewType view) {
    StreamSpecification s;
    s.stream_enabled = true;
    s.stream_view_type = view;
    return s;
  };
  CheckOk(db->CreateTable("items", spec(StreamViewType::kNewAndOldImages)), "create items");
  CheckOk(db->CreateTable("keys", spec(StreamViewType::kKeysOnly)), "create keys");
  CheckOk(db->CreateTable("plain", StreamSpecification()), "create plain");
  CheckOk(db->CreateTable("gone", spec(StreamViewType::kNewImage)), "create gone");
  for (uint32_t i = 0; i < 100; ++i) {
    CheckOk(db->Put(w, "items", "item#" + std::to_string(i), Filler(900, i)), "put items");
  }
  for (uint32_t i = 0; i < 10; ++i) {
    const std::string k = "k" + std::to_string(i);
    CheckOk(db->Put(w, "keys", k, Filler(40, i)), "put keys");
    CheckOk(db->Put(w, "plain", k, Filler(40, i)), "put plain");
    CheckOk(db->Put(w, "gone", k, "{\"n\":" + std::to_string(i) + "}"), "put gone");
  }
  // Frames that change several tables (table hint 0), modifies and removes.
  WriteBatch batch;
  for (uint32_t i = 0; i < 5; ++i) {
    batch.Put("items", "item#" + std::to_string(i), Filler(100, 1000 + i));
    batch.Delete("items", "item#" + std::to_string(10 + i));
    batch.Put("keys", "k" + std::to_string(i), "");
    batch.Put("plain", "k" + std::to_string(i), Filler(10, i));
  }
  CheckOk(db->Write(w, batch), "multi-table batch");
  // A second stream on "keys"; the first one is closed.
  CheckOk(db->UpdateTable("keys", StreamSpecification()), "disable keys");
  CheckOk(db->UpdateTable("keys", spec(StreamViewType::kOldImage)), "re-enable keys");
  for (uint32_t i = 0; i < 10; ++i) {
    CheckOk(db->Put(w, "keys", "k" + std::to_string(i), Filler(20, 50 + i)), "put keys again");
  }
  CheckOk(db->DeleteTable("gone"), "delete gone");
  for (uint32_t i = 100; i < 200; ++i) {
    CheckOk(db->Put(w, "items", "item#" + std::to_string(i % 150), Filler(900, i)),
            "put items again");
  }
  CheckOk(db->Delete(w, "items", "item#3"), "delete item#3");

  std::vector<StreamInfo> streams;
  CheckOk(db->ListStreams("", &streams), "ListStreams");
  std::map<std::string, int> per_table;
  for (const StreamInfo& s : streams) {
    const int i = per_table[s.table_name]++;
    fx->placeholders["arn:aws:dynamodb:us-east-1:000000000000:table/" + s.table_name + "/stream/@" +
                     std::to_string(i)] = s.arn;
  }
}

bool SplitIterator(std::string_view iterator, std::string* numbers, std::string* arn) {
  auto decoded = kj::decodeBase64(kj::ArrayPtr<const char>(iterator.data(), iterator.size()));
  if (decoded.hadErrors) return false;
  const std::string plain(reinterpret_cast<const char*>(decoded.begin()), decoded.size());
  size_t pos = 0;
  for (int i = 0; i < 5; ++i) {
    pos = plain.find('|', pos);
    if (pos == std::string::npos) return false;
    ++pos;
  }
  *numbers = plain.substr(0, pos);
  *arn = plain.substr(pos);
  return true;
}

std::string JoinIterator(std::string_view numbers, std::string_view arn, const uint8_t* key) {
  // "2|next|segment|offset|tag|": re-signed with `key` when the numbers
  // parse, so that mutated positions reach the reader.
  ShardPosition p;
  p.arn = std::string(arn);
  unsigned long long next = 0, segment = 0, offset = 0;
  char tail = 0;
  const std::string n(numbers);
  if (key != nullptr &&
      std::sscanf(n.c_str(), "2|%llu|%llu|%llu|%*16[0-9a-f]%c", &next, &segment, &offset, &tail) ==
          4 &&
      tail == '|') {
    p.next = next;
    p.segment = segment;
    p.offset = offset;
    return EncodeShardIterator(p, key);
  }
  const std::string plain = n + std::string(arn);
  kj::String enc = kj::encodeBase64(
      kj::ArrayPtr<const kj::byte>(reinterpret_cast<const kj::byte*>(plain.data()), plain.size()));
  return std::string(enc.cStr(), enc.size());
}

}  // namespace runnel::fuzz
