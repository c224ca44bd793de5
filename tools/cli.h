// Copyright 2026 The runnel Authors.
//
// The `runnel` command line: every command's flags (CLI11) and its handler.
//
// One Cli object parses one command line and runs it. The same code runs in
// two places: in the `runnel` process the user started (against the DB it
// opens itself, or the log files), and inside a `runnel run` host that
// received the command line over its socket (against the host's open DB).
// Handlers therefore never touch stdout/stderr/cwd directly: they use the
// Io they are given.
//
// Exit status: 0 success, 1 an error (one line on stderr naming the bad
// argument or the failed operation), 2 a usage error (unknown command or
// flag, missing or malformed flag value).

#ifndef RUNNEL_TOOLS_CLI_H_
#define RUNNEL_TOOLS_CLI_H_

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runnel/db.h"
#include "runnel/status.h"
#include "util/encoding.h"  // EncodeBase64, DecodeBase64
#include "util/time.h"      // IsoTime

namespace CLI {
class App;
}

namespace runnel::cli {

// Where a command's standard streams and relative paths are.
struct Io {
  FILE* in = stdin;
  FILE* out = stdout;
  FILE* err = stderr;
  // Relative paths in flags are resolved against this directory.
  std::string cwd;
  // Set in a host when the caller's stdin is its terminal: the host may not
  // read it (see ReadStdin).
  bool stdin_is_foreign_terminal = false;
};

// How a command reaches the DB.
class Session {
 public:
  virtual ~Session() = default;
  // The DB directory (absolute).
  virtual const std::string& dir() const = 0;
  // The open DB. A direct session opens it on first use (without running
  // triggers); a host's session returns the DB it hosts.
  virtual Status Db(DB** db) = 0;
  // True inside a `runnel run` host.
  virtual bool hosted() const = 0;
};

// What a command needs, which decides where it runs.
enum class Needs {
  kNothing,   // help-like commands
  kDb,        // an existing DB: through the host if one runs, else opened
  kCreateDb,  // like kDb, but creates the DB if the directory has none
  kLogFiles,  // reads the log / function log files directly, never the host
  kHost,      // `run`: becomes the host
};

// State shared by a command's handler.
class Context {
 public:
  Context(Io* io, Session* session, std::string command, std::string region = "",
          std::string account_id = "")
      : io_(io),
        session_(session),
        command_(std::move(command)),
        region_(std::move(region)),
        account_id_(std::move(account_id)) {}

  Io& io() { return *io_; }
  Session& session() { return *session_; }
  const std::string& command() const { return command_; }
  // --region / --account-id as given ("" if not): for a command that
  // creates its DB itself (`run --listen`).
  const std::string& region() const { return region_; }
  const std::string& account_id() const { return account_id_; }

  // Opens (or returns) the DB; on failure prints the error and returns null.
  DB* Db();
  // Prints "runnel: <command>: <message>" and returns 1.
  int Fail(std::string_view message);
  // Prints the status as the cloud's exception name and message, returns 1.
  int Fail(const Status& s);
  // Prints a usage error ("runnel: <command>: <message> (see --help)") and
  // returns 2.
  int Usage(std::string_view message);
  // Pretty JSON on stdout, as the cloud CLI prints it (4-space indent).
  void Print(const nlohmann::ordered_json& j);
  // `path` resolved against the caller's working directory.
  std::string Path(const std::string& path) const;
  // True if stderr is a terminal (progress bars are drawn only then).
  bool ErrIsTerminal() const;

 private:
  Io* io_;
  Session* session_;
  std::string command_;
  std::string region_;
  std::string account_id_;
};

using Handler = std::function<int(Context&)>;

// Adds commands to the app and records their handlers.
class Registry {
 public:
  explicit Registry(CLI::App* app) : app_(app) {}
  CLI::App* app() { return app_; }
  // Adds a subcommand (of `parent`, or the top level) whose handler is `h`.
  CLI::App* Add(std::string name, std::string description, Needs needs, Handler h,
                CLI::App* parent = nullptr);
  struct Entry {
    Needs needs;
    Handler handler;
  };
  const Entry* Find(CLI::App* sub) const;

 private:
  CLI::App* app_;
  std::map<CLI::App*, Entry> entries_;
};

// The command groups (cmd_*.cc).
void AddTableCommands(Registry* r);
void AddStreamCommands(Registry* r);
void AddFunctionCommands(Registry* r);
void AddAdminCommands(Registry* r);

class Cli {
 public:
  Cli();
  ~Cli();

  // Parses a command line (args[0] is the program name). Returns -1 if a
  // command is ready to run; otherwise the exit status, having printed the
  // help text or the usage error to io.
  int Parse(const std::vector<std::string>& args, Io& io);
  // What the parsed command needs.
  Needs needs() const;
  // The parsed command's name ("put-item", "inspect log").
  std::string command() const;
  // The DB directory from --db or RUNNEL_DB, absolute; empty if neither.
  std::string DbDir(const Io& io) const;
  // --region / --account-id (or RUNNEL_REGION / RUNNEL_ACCOUNT_ID): the
  // region and account of the ARNs of a DB the command creates; "" if not
  // given (the defaults of runnel::Options then apply).
  const std::string& region() const { return region_flag_; }
  const std::string& account_id() const { return account_flag_; }
  // Runs the parsed command. If --region or --account-id was given and the
  // command's DB has other values (fixed when it was created), the command
  // fails with ValidationException when it first reaches the DB.
  int Run(Io& io, Session& session);

 private:
  std::unique_ptr<CLI::App> app_;
  std::unique_ptr<Registry> registry_;
  std::string db_flag_;
  std::string region_flag_;
  std::string account_flag_;
  CLI::App* selected_ = nullptr;
};

// Helpers shared by the command groups.

// The cloud's exception name for a status ("ResourceNotFoundException").
std::string ExceptionName(const Status& s);
// Reads a whole file; IOError naming it.
Status ReadFile(const std::string& path, std::string* data);
// Writes a whole file (created 0644, replaced atomically).
Status WriteFile(const std::string& path, std::string_view data);
// Parses "10m", "2h", "30s", "1d" (or an ISO-8601 time) into micros since
// the epoch, relative to now; InvalidArgument naming `flag`.
Status ParseSince(std::string_view flag, std::string_view text, int64_t* micros);
// All of the caller's stdin (for `-` file arguments); `flag` names the
// argument in errors, e.g. when a host is asked to read the caller's
// terminal.
Status ReadStdin(const Io& io, std::string_view flag, std::string* data);

}  // namespace runnel::cli

#endif  // RUNNEL_TOOLS_CLI_H_
