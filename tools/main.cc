// Copyright 2026 The runnel Authors.
//
// `runnel [--db DIR] <command> [flags]`: see tools/cli.h for the commands
// and README.md (The runnel tool) for how to use them.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "runnel/db.h"
#include "tools/cli.h"
#include "tools/host.h"

namespace runnel::cli {
namespace {

// A command's own DB: opened on first use, without running triggers (records
// written meanwhile are processed by the next `runnel run`), closed at exit.
class DirectSession final : public Session {
 public:
  DirectSession(std::string dir, bool create, const std::string& region,
                const std::string& account_id)
      : dir_(std::move(dir)), create_(create), region_(region), account_id_(account_id) {}
  ~DirectSession() override { (void)Close(); }
  // Closes the DB if this session opened it; an error is printed (the
  // command's status then becomes 1: what it wrote may not be durable).
  bool Close() {
    if (!db_) return true;
    Status s = db_->Close();
    db_.reset();
    if (!s.ok()) std::fprintf(stderr, "runnel: closing the DB: %s\n", s.ToString().c_str());
    return s.ok();
  }
  // True if this session created the DB directory.
  bool created_dir() const { return created_dir_; }
  const std::string& dir() const override { return dir_; }
  bool hosted() const override { return false; }
  Status Db(DB** db) override {
    if (!db_) {
      struct stat st;
      if (!create_ && ::stat((dir_ + "/IDENTITY").c_str(), &st) != 0) {
        return Status::NotFound("no DB at '" + dir_ +
                                "' (create-table, create-function or load creates one)");
      }
      if (create_ && ::stat(dir_.c_str(), &st) != 0) {
        // Owner-only: a DB holds the user's data and the host's socket.
        if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
          return Status::IOError("cannot create '" + dir_ + "': " + std::strerror(errno));
        }
        created_dir_ = true;
      }
      Options o;
      o.create_if_missing = create_;
      if (!region_.empty()) o.region = region_;
      if (!account_id_.empty()) o.account_id = account_id_;
      Status s = DB::Open(o, dir_, &db_);
      if (s.IsBusy()) {
        return Status::Busy(s.message() +
                            "; no `runnel run` host answers on its socket, so the DB cannot be "
                            "shared: stop that process, or host the DB with `runnel run`");
      }
      if (!s.ok()) return s;
    }
    *db = db_.get();
    return Status::OK();
  }

 private:
  std::string dir_;
  bool create_;
  bool created_dir_ = false;
  std::string region_;
  std::string account_id_;
  std::unique_ptr<DB> db_;
};

int Main(int argc, char** argv) {
  // A reader that goes away (`runnel tail | head`) must not kill a command
  // with SIGPIPE halfway through a write; writes fail with EPIPE instead.
  ::signal(SIGPIPE, SIG_IGN);
  Io io;
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) != nullptr) io.cwd = cwd;
  std::vector<std::string> args(argv, argv + argc);
  Cli cli;
  int rc = cli.Parse(args, io);
  if (rc >= 0) return rc;
  const std::string dir = cli.DbDir(io);
  if (dir.empty() && cli.needs() != Needs::kNothing) {
    std::fprintf(stderr,
                 "runnel: %s: the DB directory is required: --db DIR or RUNNEL_DB=DIR (see "
                 "`runnel --help`)\n",
                 cli.command().c_str());
    return 2;
  }
  if (cli.needs() == Needs::kDb || cli.needs() == Needs::kCreateDb) {
    // A live host owns the DB: the command runs there.
    std::vector<std::string> forwarded(args.begin() + 1, args.end());
    int status = 0;
    if (TryRunOnHost(dir, forwarded, io.cwd, &status)) return status;
  }
  DirectSession session(dir, cli.needs() == Needs::kCreateDb, cli.region(), cli.account_id());
  int status = cli.Run(io, session);
  if (!session.Close() && status == 0) status = 1;
  if (status != 0 && session.created_dir()) {
    // A failed create-table / create-function / load leaves nothing behind
    // when it was the one to create the DB.
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return status;
}

}  // namespace
}  // namespace runnel::cli

int main(int argc, char** argv) { return runnel::cli::Main(argc, argv); }
