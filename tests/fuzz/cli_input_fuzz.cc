// Copyright 2026 The runnel Authors.
//
// Fuzzes the `runnel` tool's parsers of user input, in process, through the
// same Cli object the binary uses: the first byte picks a command, the rest
// is its input.
//
//   0: batch-write-item --file -      (JSON lines on stdin)
//   1: load --input -                 (a dump, jsonl or capnp, on stdin; the
//                                      DB has tables, so the whole dump is
//                                      checked and then refused)
//   2: create-table --stream-specification <input>
//   3: create-function --environment <input>   (the library is missing, so
//                                      nothing is created after parsing)
//   4: create-event-source-mapping --destination-config <input>
//   5: update-event-source-mapping --uuid <input> --batch-size 5
//   6: get-shard-iterator ... --timestamp <input>
//
// Any exit status is fine; a crash, an escaped exception (the Cli turns
// exceptions into an "internal error", which this target treats as a bug)
// or undefined behaviour is not.

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_util.h"
#include "tools/cli.h"

namespace {

using runnel::cli::Cli;
using runnel::cli::Io;

class FuzzSession final : public runnel::cli::Session {
 public:
  FuzzSession(std::string dir, runnel::DB* db) : dir_(std::move(dir)), db_(db) {}
  const std::string& dir() const override { return dir_; }
  runnel::Status Db(runnel::DB** db) override {
    *db = db_;
    return runnel::Status::OK();
  }
  bool hosted() const override { return false; }

 private:
  std::string dir_;
  runnel::DB* db_;
};

struct Fixture {
  Fixture() {
    // tmpfs when there is one: the tool's writes are fsynced.
    if (std::FILE* f = std::fopen("/dev/shm/.runnel-probe", "w")) {
      std::fclose(f);
      std::remove("/dev/shm/.runnel-probe");
      setenv("TMPDIR", "/dev/shm", 1);
    }
    dir = std::make_unique<runnel::fuzz::ScratchDir>("cli");
    runnel::fuzz::CheckOk(runnel::DB::Open(runnel::Options(), dir->path() + "/db", &db), "open");
    runnel::StreamSpecification s;
    s.stream_enabled = true;
    runnel::fuzz::CheckOk(db->CreateTable("Music", s), "create table");
    null_out = std::fopen("/dev/null", "w");
    err_path = dir->path() + "/err";
  }
  std::unique_ptr<runnel::fuzz::ScratchDir> dir;
  std::unique_ptr<runnel::DB> db;
  std::FILE* null_out = nullptr;
  std::string err_path;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fx = new Fixture();
  if (size == 0) return 0;
  const int mode = data[0] % 7;
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  // Flag values are C strings on a real command line.
  std::string arg = input.substr(0, input.find('\0'));
  std::vector<std::string> args = {"runnel"};
  std::string in_bytes;
  switch (mode) {
    case 0:
      args.insert(args.end(), {"batch-write-item", "--file", "-"});
      in_bytes = input;
      break;
    case 1:
      args.insert(args.end(), {"load", "--input", "-"});
      in_bytes = input;
      break;
    case 2:
      args.insert(args.end(),
                  {"create-table", "--table-name", "Fuzzed", "--stream-specification", arg});
      break;
    case 3:
      args.insert(args.end(), {"create-function", "--function-name", "f", "--library",
                               "/nonexistent/f.so", "--environment", arg});
      break;
    case 4:
      args.insert(args.end(),
                  {"create-event-source-mapping", "--function-name", "nope", "--event-source",
                   "Music", "--starting-position", "LATEST", "--destination-config", arg});
      break;
    case 5:
      args.insert(args.end(), {"update-event-source-mapping", "--uuid", arg, "--batch-size", "5"});
      break;
    default:
      args.insert(args.end(), {"get-shard-iterator", "--stream-arn",
                               "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/y",
                               "--shard-iterator-type", "AT_TIMESTAMP", "--timestamp", arg});
      break;
  }
  std::FILE* in = fmemopen(in_bytes.empty() ? nullptr : in_bytes.data(), in_bytes.size(), "r");
  if (in == nullptr) in = std::fopen("/dev/null", "r");
  std::FILE* err = std::fopen(fx->err_path.c_str(), "w+");
  Io io;
  io.in = in;
  io.out = fx->null_out;
  io.err = err;
  io.cwd = "/";
  Cli cli;
  int rc = cli.Parse(args, io);
  if (rc < 0) {
    FuzzSession session(fx->dir->path() + "/db", fx->db.get());
    rc = cli.Run(io, session);
  }
  // An exception inside a handler is a bug even though it is reported.
  std::fflush(err);
  std::rewind(err);
  char line[512] = {};
  const size_t n = std::fread(line, 1, sizeof(line) - 1, err);
  line[n] = '\0';
  // (Only the start of the line is the tool's; the rest may echo input.)
  const std::string bug = "runnel: " + cli.command() + ": internal error: ";
  runnel::fuzz::Check(std::strncmp(line, bug.c_str(), bug.size()) != 0, line);
  std::fclose(err);
  std::fclose(in);
  // Keep the DB from growing without bound: drop what a batch wrote.
  if (mode == 0 && rc == 0) {
    runnel::ScanResult all;
    if (fx->db->Scan(runnel::ReadOptions(), "Music", runnel::ScanOptions(), &all).ok() &&
        all.items.size() > 1000) {
      runnel::WriteBatch b;
      for (const auto& [k, v] : all.items) b.Delete("Music", k);
      (void)fx->db->Write(runnel::WriteOptions(), b);
    }
  }
  return 0;
}
