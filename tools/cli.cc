// Copyright 2026 The runnel Authors.

#include "tools/cli.h"

#include <fcntl.h>
#include <leveldb/env.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "runnel/version.h"
#include "tools/items_cli.h"
#include "util/clock.h"
#include "util/numbers.h"

namespace runnel::cli {

DB* Context::Db() {
  DB* db = nullptr;
  Status s = session_->Db(&db);
  if (!s.ok()) {
    Fail(s);
    return nullptr;
  }
  return db;
}

int Context::Fail(std::string_view message) {
  std::fprintf(io_->err, "runnel: %s: %.*s\n", command_.c_str(), static_cast<int>(message.size()),
               message.data());
  std::fflush(io_->err);
  return 1;
}

int Context::Fail(const Status& s) { return Fail(ExceptionName(s) + ": " + s.message()); }

int Context::Usage(std::string_view message) {
  std::fprintf(io_->err, "runnel: %s: %.*s (see `runnel %s --help`)\n", command_.c_str(),
               static_cast<int>(message.size()), message.data(), command_.c_str());
  std::fflush(io_->err);
  return 2;
}

void Context::Print(const nlohmann::ordered_json& j) {
  // Text from users or plugins (a description, an error message) may not be
  // UTF-8; it is printed with U+FFFD rather than failing the command.
  const std::string text =
      j.dump(4, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), io_->out);
  std::fflush(io_->out);
}

std::string Context::Path(const std::string& path) const {
  if (path.empty() || path[0] == '/' || io_->cwd.empty()) return path;
  return io_->cwd + "/" + path;
}

bool Context::ErrIsTerminal() const { return isatty(fileno(io_->err)) == 1; }

CLI::App* Registry::Add(std::string name, std::string description, Needs needs, Handler h,
                        CLI::App* parent) {
  CLI::App* sub = (parent ? parent : app_)->add_subcommand(std::move(name), std::move(description));
  entries_[sub] = Entry{needs, std::move(h)};
  return sub;
}

const Registry::Entry* Registry::Find(CLI::App* sub) const {
  auto it = entries_.find(sub);
  return it == entries_.end() ? nullptr : &it->second;
}

Cli::Cli()
    : app_(std::make_unique<CLI::App>("runnel: an embedded key-value store whose log is its change "
                                      "stream, with triggers.\nCommands and flags follow the cloud "
                                      "CLI (aws dynamodb / dynamodbstreams / lambda).",
                                      "runnel")) {
  app_->add_option("--db", db_flag_, "The DB directory")->envname("RUNNEL_DB")->type_name("DIR");
  app_->add_option("--region", region_flag_,
                   "Region of the ARNs of a DB this command creates (default us-east-1); fixed "
                   "at creation")
      ->envname("RUNNEL_REGION")
      ->type_name("REGION");
  app_->add_option("--account-id", account_flag_,
                   "Account id of the ARNs of a DB this command creates (default 000000000000); "
                   "fixed at creation")
      ->envname("RUNNEL_ACCOUNT_ID")
      ->type_name("ID");
  app_->set_version_flag("--version", "runnel " RUNNEL_VERSION_STRING,
                         "Print the version of runnel and exit");
  app_->require_subcommand(1);
  app_->fallthrough();
  registry_ = std::make_unique<Registry>(app_.get());
  AddTableCommands(registry_.get());
  AddItemCommands(registry_.get());
  AddStreamCommands(registry_.get());
  AddFunctionCommands(registry_.get());
  AddAdminCommands(registry_.get());
}

Cli::~Cli() = default;

namespace {

// The innermost parsed subcommand.
CLI::App* Selected(CLI::App* app) {
  for (CLI::App* sub : app->get_subcommands()) return Selected(sub);
  return app;
}

std::string CommandName(CLI::App* app) {
  std::string name;
  for (CLI::App* a = app; a != nullptr && a->get_parent() != nullptr; a = a->get_parent()) {
    name = name.empty() ? a->get_name() : a->get_name() + " " + name;
  }
  return name;
}

void Write(FILE* f, const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), f);
  std::fflush(f);
}

}  // namespace

int Cli::Parse(const std::vector<std::string>& args, Io& io) {
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app_->parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    std::ostringstream out, err;
    // Help of the innermost command named on the line.
    app_->exit(e, out, err);
    Write(io.out, out.str());
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    std::ostringstream out, err;
    app_->exit(e, out, err);
    Write(io.out, out.str());
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::ostringstream out, err;
    app_->exit(e, out, err);
    Write(io.out, out.str());
    return 0;
  } catch (const CLI::ParseError& e) {
    CLI::App* sub = Selected(app_.get());
    if (sub == app_.get()) {
      // CLI11 reports an unknown command as a missing one; name it.
      for (size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--db" || args[i] == "--region" || args[i] == "--account-id") {
          ++i;
          continue;
        }
        if (args[i].empty() || args[i][0] == '-') continue;
        bool known = false;
        for (const CLI::App* a : app_->get_subcommands({})) known |= a->check_name(args[i]);
        if (!known) {
          Write(io.err, "runnel: unknown command '" + args[i] + "' (see `runnel --help`)\n");
          return 2;
        }
        break;
      }
    }
    std::string where = sub == app_.get() ? "" : CommandName(sub) + ": ";
    std::string msg = e.what();
    // CLI11's messages can span lines; one line is the contract.
    for (char& c : msg) {
      if (c == '\n') c = ' ';
    }
    Write(io.err, "runnel: " + where + msg + " (see `runnel " +
                      (where.empty() ? "" : CommandName(sub) + " ") + "--help`)\n");
    return 2;
  }
  selected_ = Selected(app_.get());
  if (registry_->Find(selected_) == nullptr) {
    // A group like `inspect` without its subcommand.
    Write(io.err, "runnel: " + CommandName(selected_) + ": a subcommand is required (see `runnel " +
                      CommandName(selected_) + " --help`)\n");
    return 2;
  }
  return -1;
}

Needs Cli::needs() const {
  const Registry::Entry* e = registry_->Find(selected_);
  return e ? e->needs : Needs::kNothing;
}

std::string Cli::command() const { return CommandName(selected_); }

std::string Cli::DbDir(const Io& io) const {
  if (db_flag_.empty()) return "";
  std::string dir = db_flag_;
  if (dir[0] != '/' && !io.cwd.empty()) dir = io.cwd + "/" + dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

namespace {

// A session whose DB must have the region and account the command line
// named: ARNs are fixed when a DB is created, and a command that silently
// used other ones would hand out ARNs the user did not ask for.
class CheckedSession final : public Session {
 public:
  CheckedSession(Session* inner, const std::string& region, const std::string& account)
      : inner_(inner), region_(region), account_(account) {}
  const std::string& dir() const override { return inner_->dir(); }
  bool hosted() const override { return inner_->hosted(); }
  Status Db(DB** db) override {
    Status s = inner_->Db(db);
    if (!s.ok()) return s;
    if (!region_.empty() && (*db)->region() != region_) {
      return Status::InvalidArgument("--region " + region_ + ": the DB's region is " +
                                     (*db)->region() + ", fixed when it was created");
    }
    if (!account_.empty() && (*db)->account_id() != account_) {
      return Status::InvalidArgument("--account-id " + account_ + ": the DB's account id is " +
                                     (*db)->account_id() + ", fixed when it was created");
    }
    return Status::OK();
  }

 private:
  Session* inner_;
  const std::string& region_;
  const std::string& account_;
};

}  // namespace

int Cli::Run(Io& io, Session& inner) {
  const Registry::Entry* e = registry_->Find(selected_);
  CheckedSession session(&inner, region_flag_, account_flag_);
  Context ctx(&io, &session, command(), region_flag_, account_flag_);
  try {
    return e->handler(ctx);
  } catch (const std::exception& ex) {
    // A bug, not bad input (inputs are checked before use); still one line.
    return ctx.Fail(std::string("internal error: ") + ex.what());
  }
}

std::string ExceptionName(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound:
      return "ResourceNotFoundException";
    case Status::Code::kInvalidArgument:
      return "ValidationException";
    case Status::Code::kBusy:
      return "ResourceInUseException";
    case Status::Code::kTrimmed:
      return "TrimmedDataAccessException";
    case Status::Code::kFailedPrecondition:
      return "ResourceConflictException";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kNotSupported:
      return "NotSupported";
    case Status::Code::kIOError:
      return "IOError";
    case Status::Code::kTimedOut:
      return "TimedOut";
    case Status::Code::kConditionalCheckFailed:
      return "ConditionalCheckFailedException";
    case Status::Code::kTransactionCanceled:
      return "TransactionCanceledException";
    case Status::Code::kOk:
      break;
  }
  return "OK";
}

Status ReadFile(const std::string& path, std::string* data) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Status::IOError("cannot read '" + path + "': " + std::strerror(errno));
  }
  data->clear();
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) data->append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::IOError("error reading '" + path + "'");
  return Status::OK();
}

Status WriteFile(const std::string& path, std::string_view data) {
  // Written beside the target and renamed over it, so a failed write never
  // leaves a half file under the name the user asked for.
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IOError("cannot write '" + path + "': " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::IOError("cannot write '" + path + "': " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int sync_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = !synced ? sync_errno : errno;
    ::unlink(tmp.c_str());
    return Status::IOError("cannot write '" + path + "': " + std::strerror(err));
  }
  return Status::OK();
}

Status ParseSince(std::string_view flag, std::string_view text, int64_t* micros) {
  // A relative duration: digits and one unit.
  uint64_t n = 0;
  if (text.size() >= 2 && text.size() <= 12 && ParseUint64(text.substr(0, text.size() - 1), &n)) {
    int64_t unit = 0;
    switch (text.back()) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        break;
    }
    if (unit != 0 && n <= static_cast<uint64_t>(INT64_MAX / (unit * 1000000))) {
      *micros = NowMicros(leveldb::Env::Default()) - static_cast<int64_t>(n) * unit * 1000000;
      return Status::OK();
    }
  }
  // An absolute UTC time: 2026-11-27T15:00:00[.ffffff][Z|+00:00].
  if (ParseIsoTime(text, micros)) return Status::OK();
  return Status::InvalidArgument(std::string(flag) +
                                 ": expected a duration like 30s, 10m, 2h, 1d or a UTC "
                                 "time like 2026-11-27T15:00:00Z, got '" +
                                 std::string(text) + "'");
}

Status ReadStdin(const Io& io, std::string_view flag, std::string* data) {
  if (io.stdin_is_foreign_terminal) {
    return Status::InvalidArgument(std::string(flag) +
                                   " -: a `runnel run` host cannot read your terminal; pipe the "
                                   "input in (cmd | runnel ...) or give a file");
  }
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), io.in)) > 0) data->append(buf, n);
  if (std::ferror(io.in)) return Status::IOError(std::string(flag) + " -: cannot read stdin");
  return Status::OK();
}

}  // namespace runnel::cli
