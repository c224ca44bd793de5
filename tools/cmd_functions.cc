// Copyright 2026 The runnel Authors.
//
// Functions, event source mappings and function logs: the `aws lambda`
// commands (and `aws logs tail`'s role, as `runnel logs`).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "runnel/triggers.h"
#include "tools/cli.h"
#include "tools/json_shapes.h"

namespace runnel::cli {
namespace {

using ojson = nlohmann::ordered_json;

// --environment Variables={K=V,K2=V2} (the cloud CLI's shorthand) or
// {"Variables":{"K":"V"}}.
Status ParseEnvironment(const std::string& text, std::map<std::string, std::string>* vars) {
  const std::string flag = "--environment";
  vars->clear();
  if (!text.empty() && text[0] == '{') {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() != 1 || !j.contains("Variables") ||
        !j["Variables"].is_object()) {
      return Status::InvalidArgument(flag + ": expected {\"Variables\":{\"K\":\"V\",...}}");
    }
    for (const auto& [k, v] : j["Variables"].items()) {
      if (!v.is_string())
        return Status::InvalidArgument(flag + ": value of " + k + " must be a string");
      (*vars)[k] = v.get<std::string>();
    }
    return Status::OK();
  }
  const std::string prefix = "Variables={";
  if (text.compare(0, prefix.size(), prefix) != 0 || text.back() != '}') {
    return Status::InvalidArgument(flag + ": expected Variables={KEY=VALUE,...}, got '" + text +
                                   "'");
  }
  const std::string body = text.substr(prefix.size(), text.size() - prefix.size() - 1);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t comma = body.find(',', pos);
    if (comma == std::string::npos) comma = body.size();
    const std::string part = body.substr(pos, comma - pos);
    const size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument(flag + ": expected KEY=VALUE, got '" + part + "'");
    }
    (*vars)[part.substr(0, eq)] = part.substr(eq + 1);
    pos = comma + 1;
  }
  return Status::OK();
}

// Flags shared by create-function and update-function.
struct FunctionFlags {
  std::string name, library, handler, environment, description, isolation;
  uint32_t timeout = 3;
  CLI::Option* library_opt = nullptr;
  CLI::Option* handler_opt = nullptr;
  CLI::Option* environment_opt = nullptr;
  CLI::Option* timeout_opt = nullptr;
  CLI::Option* description_opt = nullptr;
  CLI::Option* isolation_opt = nullptr;

  void Add(CLI::App* c, bool library_required) {
    c->add_option("--function-name", name, "Function name (1-64 of A-Z a-z 0-9 _ -)")->required();
    library_opt = c->add_option("--library", library,
                                "The shared library (.so) exporting the handler; loaded and "
                                "checked now, recorded as an absolute path");
    if (library_required) library_opt->required();
    handler_opt =
        c->add_option("--handler", handler, "The exported handler symbol (default runnel_handler)");
    environment_opt =
        c->add_option("--environment", environment, "Variables={KEY=VALUE,...} (or JSON)");
    timeout_opt = c->add_option("--timeout", timeout, "Seconds per invocation, 1-900 (default 3)");
    description_opt = c->add_option("--description", description, "Free text");
    isolation_opt = c->add_option("--isolation", isolation,
                                  "Where the handler runs: none (in the host process, the "
                                  "default) or process (a runnel-worker process; a crash or "
                                  "timeout fails only that invocation)");
  }
  // Applies the flags given on the command line to *config.
  Status Apply(Context& ctx, FunctionConfiguration* config) const {
    config->function_name = name;
    if (library_opt->count()) config->library = ctx.Path(library);
    if (handler_opt->count()) config->handler = handler;
    if (environment_opt->count()) {
      Status s = ParseEnvironment(environment, &config->environment);
      if (!s.ok()) return s;
    }
    if (timeout_opt->count()) config->timeout_seconds = timeout;
    if (description_opt->count()) config->description = description;
    if (isolation_opt->count() && !ParseFunctionIsolation(isolation, &config->isolation)) {
      return Status::InvalidArgument("--isolation: expected none or process, got '" + isolation +
                                     "'");
    }
    return Status::OK();
  }
};

void AddCreateFunction(Registry* r) {
  auto a = std::make_shared<FunctionFlags>();
  CLI::App* c = r->Add("create-function", "Create a function from a shared library",
                       Needs::kCreateDb, [a](Context& ctx) {
                         FunctionConfiguration config;
                         Status s = a->Apply(ctx, &config);
                         if (!s.ok()) return ctx.Usage(s.message());
                         DB* db = ctx.Db();
                         if (db == nullptr) return 1;
                         FunctionConfiguration created;
                         s = db->triggers()->CreateFunction(config, &created);
                         if (!s.ok()) return ctx.Fail(s);
                         ctx.Print(FunctionJson(created));
                         return 0;
                       });
  a->Add(c, /*library_required=*/true);
}

void AddUpdateFunction(Registry* r) {
  auto a = std::make_shared<FunctionFlags>();
  CLI::App* c = r->Add(
      "update-function",
      "Change a function's library, handler, environment, timeout, description or isolation (the "
      "new "
      "library is loaded and checked first)",
      Needs::kDb, [a](Context& ctx) {
        DB* db = ctx.Db();
        if (db == nullptr) return 1;
        FunctionConfiguration config;
        Status s = db->triggers()->GetFunction(a->name, &config);
        if (!s.ok()) return ctx.Fail(s);
        s = a->Apply(ctx, &config);
        if (!s.ok()) return ctx.Usage(s.message());
        FunctionConfiguration updated;
        s = db->triggers()->UpdateFunction(config, &updated);
        if (!s.ok()) return ctx.Fail(s);
        ctx.Print(FunctionJson(updated));
        return 0;
      });
  a->Add(c, /*library_required=*/false);
  // The cloud splits this in two; both names work.
  c->alias("update-function-code");
  c->alias("update-function-configuration");
}

void AddGetFunction(Registry* r) {
  auto name = std::make_shared<std::string>();
  CLI::App* c = r->Add("get-function", "Describe a function", Needs::kDb, [name](Context& ctx) {
    DB* db = ctx.Db();
    if (db == nullptr) return 1;
    FunctionConfiguration f;
    Status s = db->triggers()->GetFunction(*name, &f);
    if (!s.ok()) return ctx.Fail(s);
    ojson out;
    out["Configuration"] = FunctionJson(f);
    out["Code"] = {{"RepositoryType", "File"}, {"Location", f.library}};
    ctx.Print(out);
    return 0;
  });
  c->add_option("--function-name", *name, "Function name")->required();
}

void AddListFunctions(Registry* r) {
  r->Add("list-functions", "List the functions", Needs::kDb, [](Context& ctx) {
    DB* db = ctx.Db();
    if (db == nullptr) return 1;
    std::vector<FunctionConfiguration> fns;
    Status s = db->triggers()->ListFunctions(&fns);
    if (!s.ok()) return ctx.Fail(s);
    ojson list = ojson::array();
    for (const auto& f : fns) list.push_back(FunctionJson(f));
    ctx.Print(ojson{{"Functions", std::move(list)}});
    return 0;
  });
}

void AddDeleteFunction(Registry* r) {
  struct Args {
    std::string name;
    bool force = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add("delete-function", "Delete a function", Needs::kDb, [a](Context& ctx) {
    DB* db = ctx.Db();
    if (db == nullptr) return 1;
    Status s = db->triggers()->DeleteFunction(a->name, a->force);
    return s.ok() ? 0 : ctx.Fail(s);
  });
  c->add_option("--function-name", a->name, "Function name")->required();
  c->add_flag("--force", a->force, "Also delete the event source mappings that use it");
}

void AddInvoke(Registry* r) {
  struct Args {
    std::string name, payload, outfile;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add(
      "invoke",
      "Invoke a function once with a DynamoDB Streams event; its response goes to OUTFILE",
      Needs::kDb, [a](Context& ctx) {
        std::string payload = a->payload;
        const std::string file_prefix = "file://";
        if (payload.compare(0, file_prefix.size(), file_prefix) == 0) {
          Status s = ReadFile(ctx.Path(payload.substr(file_prefix.size())), &payload);
          if (!s.ok()) return ctx.Fail("--payload: " + s.message());
        }
        if (!nlohmann::json::accept(payload)) {
          return ctx.Usage("--payload: invalid JSON (expected {\"Records\":[...]} or file://PATH)");
        }
        DB* db = ctx.Db();
        if (db == nullptr) return 1;
        std::string response;
        Status s = db->triggers()->Invoke(a->name, payload, &response);
        if (!s.ok()) return ctx.Fail(s);
        // OUTFILE gets what the function returned (its partial batch
        // response, or the error); stdout gets the invocation's metadata,
        // as the cloud CLI does.
        nlohmann::ordered_json resp = nlohmann::ordered_json::parse(response);
        ojson result = nullptr;
        if (resp.contains("batchItemFailures")) {
          result = ojson{{"batchItemFailures", resp["batchItemFailures"]}};
        } else if (resp.contains("errorMessage")) {
          result = ojson{{"errorMessage", resp["errorMessage"]}, {"errorType", resp["errorType"]}};
        } else if (resp.contains("FunctionError")) {
          result = ojson{{"errorMessage", "the handler returned an error"},
                         {"errorType", resp["FunctionError"]}};
        }
        s = WriteFile(ctx.Path(a->outfile), result.dump() + "\n");
        if (!s.ok()) return ctx.Fail("OUTFILE: " + s.message());
        ojson out;
        out["StatusCode"] = resp.value("StatusCode", 200);
        if (resp.contains("FunctionError")) out["FunctionError"] = resp["FunctionError"];
        out["ExecutedVersion"] = "$LATEST";
        ctx.Print(out);
        return 0;
      });
  c->add_option("--function-name", a->name, "Function name")->required();
  c->add_option("--payload", a->payload, "The event as JSON, or file://PATH")->required();
  c->add_option("outfile", a->outfile, "Where to write the function's response")->required();
  c->add_option("--cli-binary-format", "Accepted for compatibility: payloads are raw JSON here")
      ->check(CLI::IsMember({"raw-in-base64-out"}));
}

// Flags of create- and update-event-source-mapping.
struct MappingFlags {
  std::string uuid, function_name, event_source, starting_position, starting_timestamp,
      destination_config, response_types, filter_criteria;
  int64_t batch_size = 100, window = 0, retries = -1, record_age = -1, parallelization = 1,
          tumbling = 0;
  uint64_t starting_sequence = 0;
  bool enabled = true, bisect = false;
  std::map<std::string, CLI::Option*> opts;

  void Add(CLI::App* c, bool create) {
    if (create) {
      opts["function"] =
          c->add_option("--function-name", function_name, "Function name")->required();
      opts["source"] = c->add_option("--event-source-arn,--event-source", event_source,
                                     "A stream ARN, or a table name (its latest stream)")
                           ->required();
      opts["start"] = c->add_option("--starting-position", starting_position,
                                    "TRIM_HORIZON, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER or "
                                    "SNAPSHOT (runnel: the table's items first, then the stream)")
                          ->required();
      opts["start_ts"] = c->add_option("--starting-position-timestamp", starting_timestamp,
                                       "For AT_TIMESTAMP: a UTC time or an age (10m)");
      opts["start_seq"] =
          c->add_option("--starting-sequence-number", starting_sequence, "For AT_SEQUENCE_NUMBER");
    } else {
      c->add_option("--uuid", uuid, "The mapping's UUID")->required();
      opts["function"] = c->add_option("--function-name", function_name, "Function name");
    }
    opts["batch"] =
        c->add_option("--batch-size", batch_size, "Records per invocation, 1-10000 (default 100)");
    opts["window"] =
        c->add_option("--maximum-batching-window-in-seconds", window, "0-300 (default 0)");
    opts["tumbling"] = c->add_option("--tumbling-window-in-seconds", tumbling,
                                     "Aggregate in windows of this many seconds, 0-900 (default 0: "
                                     "none); the handler keeps a state per window");
    opts["enabled"] =
        c->add_flag("--enabled,!--no-enabled", enabled, "Run the mapping (default) or pause it");
    opts["retries"] = c->add_option("--maximum-retry-attempts", retries,
                                    "-1 (until the records expire, default) or 0-10000");
    opts["age"] = c->add_option("--maximum-record-age-in-seconds", record_age,
                                "-1 (no limit, default) or 60-604800");
    opts["bisect"] =
        c->add_flag("--bisect-batch-on-function-error,!--no-bisect-batch-on-function-error", bisect,
                    "Split a failing batch in two and retry the halves");
    opts["dest"] = c->add_option("--destination-config", destination_config,
                                 "OnFailure={Destination=TABLE} (or JSON): a table that gets one "
                                 "item per discarded batch");
    opts["types"] =
        c->add_option("--function-response-types", response_types,
                      "ReportBatchItemFailures (partial batch responses), or '' to clear");
    opts["parallel"] = c->add_option("--parallelization-factor", parallelization,
                                     "1-10 (default 1): lanes that run at once, records split "
                                     "by a hash of the item key (one key stays in order)");
    opts["filters"] =
        c->add_option("--filter-criteria", filter_criteria,
                      "Deliver only records matching one of up to 5 patterns: "
                      "'{\"Filters\":[{\"Pattern\":\"{\\\"eventName\\\":[\\\"INSERT\\\"]}\"}]}' "
                      "or Filters=[{Pattern=...}]; '{\"Filters\":[]}' clears");
  }
  bool Given(const char* name) const {
    auto it = opts.find(name);
    return it != opts.end() && it->second->count() > 0;
  }
  // The numeric flags against what the configuration's fields can hold
  // (uint32 sizes, int32 counts), and the two lower bounds a wrap would
  // hide; the library names the exact ranges of the rest. Flags not given
  // keep their defaults, which pass.
  Status CheckNumbers() const {
    const struct {
      const char* flag;
      int64_t value, lo, hi;
    } fields[] = {
        {"--batch-size", batch_size, 0, UINT32_MAX},
        {"--maximum-batching-window-in-seconds", window, INT32_MIN, UINT32_MAX},
        {"--maximum-retry-attempts", retries, INT32_MIN, INT32_MAX},
        {"--maximum-record-age-in-seconds", record_age, INT32_MIN, INT32_MAX},
        {"--parallelization-factor", parallelization, INT32_MIN, UINT32_MAX},
        {"--tumbling-window-in-seconds", tumbling, INT32_MIN, UINT32_MAX},
    };
    for (const auto& f : fields) {
      if (f.value < f.lo || f.value > f.hi) {
        return Status::InvalidArgument(std::string(f.flag) + ": " + std::to_string(f.value) +
                                       " is out of range");
      }
    }
    if (batch_size < 1) {
      return Status::InvalidArgument("--batch-size must be 1 to 10000, got " +
                                     std::to_string(batch_size));
    }
    if (parallelization < 1) {
      return Status::InvalidArgument("--parallelization-factor must be 1 to 10, got " +
                                     std::to_string(parallelization));
    }
    if (tumbling < 0) {
      return Status::InvalidArgument("--tumbling-window-in-seconds must be 0 to 900, got " +
                                     std::to_string(tumbling));
    }
    if (window < 0) {
      return Status::InvalidArgument(
          "--maximum-batching-window-in-seconds must be 0 to 300, "
          "got " +
          std::to_string(window));
    }
    return Status::OK();
  }
  Status Destination(std::string* table) const {
    const std::string flag = "--destination-config";
    if (!destination_config.empty() && destination_config[0] == '{') {
      nlohmann::json j = nlohmann::json::parse(destination_config, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("OnFailure") ||
          !j["OnFailure"].is_object()) {
        return Status::InvalidArgument(flag +
                                       ": expected {\"OnFailure\":{\"Destination\":\"TABLE\"}}");
      }
      const auto& of = j["OnFailure"];
      *table = of.contains("Destination") && of["Destination"].is_string()
                   ? of["Destination"].get<std::string>()
                   : "";
      return Status::OK();
    }
    const std::string prefix = "OnFailure={Destination=";
    if (destination_config == "OnFailure={}") {
      table->clear();
      return Status::OK();
    }
    if (destination_config.compare(0, prefix.size(), prefix) != 0 ||
        destination_config.back() != '}') {
      return Status::InvalidArgument(flag + ": expected OnFailure={Destination=TABLE}, got '" +
                                     destination_config + "'");
    }
    *table =
        destination_config.substr(prefix.size(), destination_config.size() - prefix.size() - 1);
    return Status::OK();
  }
  // --filter-criteria: the cloud CLI's JSON, or its shorthand
  // Filters=[{Pattern=P},...] with P quoted ('...' or "..." with \"
  // escapes) or a bare JSON object.
  Status Filters(std::vector<std::string>* patterns) const {
    const std::string& s = filter_criteria;
    const size_t first = s.find_first_not_of(" \t\n");
    if (first != std::string::npos && s[first] == '{') {
      nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
      if (j.is_discarded()) {
        return Status::InvalidArgument("--filter-criteria: not valid JSON: " + s);
      }
      return FilterCriteriaFromJson(j, patterns).WithContext("--filter-criteria");
    }
    return FilterShorthand(s, patterns);
  }
  static Status FilterShorthand(const std::string& s, std::vector<std::string>* patterns) {
    const Status usage = Status::InvalidArgument(
        "--filter-criteria: expected {\"Filters\":[{\"Pattern\":\"...\"}]} or "
        "Filters=[{Pattern=...}], got '" +
        s + "'");
    const std::string head = "Filters=[", open = "{Pattern=";
    if (s.compare(0, head.size(), head) != 0 || s.back() != ']') return usage;
    const size_t end = s.size() - 1;
    patterns->clear();
    for (size_t i = head.size(); i < end;) {
      if (!patterns->empty() && s[i++] != ',') return usage;
      if (s.compare(i, open.size(), open) != 0) return usage;
      i += open.size();
      std::string value;
      if (i < end && (s[i] == '"' || s[i] == '\'')) {
        const char q = s[i++];
        for (; i < end && s[i] != q; ++i) {
          if (q == '"' && s[i] == '\\' && i + 1 < end) ++i;
          value += s[i];
        }
        if (i++ >= end) return usage;
      } else {
        // A bare JSON object: up to its matching brace.
        const size_t start = i;
        int depth = 0;
        bool in_string = false;
        for (; i < end; ++i) {
          if (in_string) {
            if (s[i] == '\\')
              ++i;
            else if (s[i] == '"')
              in_string = false;
          } else if (s[i] == '"') {
            in_string = true;
          } else if (s[i] == '{') {
            ++depth;
          } else if (s[i] == '}' && --depth == 0) {
            ++i;
            break;
          }
        }
        if (depth != 0 || i == start) return usage;
        value = s.substr(start, i - start);
      }
      if (i >= end || s[i] != '}') return usage;
      ++i;
      patterns->push_back(value);
    }
    return Status::OK();
  }
  Status ResponseTypes(bool* report) const {
    if (response_types.empty()) {
      *report = false;
    } else if (response_types == "ReportBatchItemFailures") {
      *report = true;
    } else {
      return Status::InvalidArgument(
          "--function-response-types: the only type is ReportBatchItemFailures, got '" +
          response_types + "'");
    }
    return Status::OK();
  }
};

void AddCreateMapping(Registry* r) {
  auto a = std::make_shared<MappingFlags>();
  CLI::App* c = r->Add(
      "create-event-source-mapping",
      "Map a table's stream to a function: it is invoked with batches of the stream's records",
      Needs::kDb, [a](Context& ctx) {
        EventSourceMappingConfiguration m;
        m.function_name = a->function_name;
        m.event_source = a->event_source;
        if (!ParseStartingPosition(a->starting_position, &m.starting_position)) {
          return ctx.Usage(
              "--starting-position: expected TRIM_HORIZON, LATEST, AT_TIMESTAMP, "
              "AT_SEQUENCE_NUMBER or SNAPSHOT, got '" +
              a->starting_position + "'");
        }
        if (m.starting_position == StartingPosition::kAtTimestamp) {
          if (a->starting_timestamp.empty()) {
            return ctx.Usage("--starting-position-timestamp is required with AT_TIMESTAMP");
          }
          Status s = ParseSince("--starting-position-timestamp", a->starting_timestamp,
                                &m.starting_position_timestamp_micros);
          if (!s.ok()) return ctx.Usage(s.message());
        } else if (a->Given("start_ts")) {
          return ctx.Usage("--starting-position-timestamp is only valid with AT_TIMESTAMP");
        }
        if (m.starting_position == StartingPosition::kAtSequenceNumber) {
          if (!a->Given("start_seq")) {
            return ctx.Usage("--starting-sequence-number is required with AT_SEQUENCE_NUMBER");
          }
          m.starting_sequence_number = a->starting_sequence;
        } else if (a->Given("start_seq")) {
          return ctx.Usage("--starting-sequence-number is only valid with AT_SEQUENCE_NUMBER");
        }
        if (Status n = a->CheckNumbers(); !n.ok()) return ctx.Fail(n);
        m.batch_size = static_cast<uint32_t>(a->batch_size);
        m.maximum_batching_window_seconds = static_cast<uint32_t>(a->window);
        m.enabled = a->enabled;
        m.maximum_retry_attempts = static_cast<int32_t>(a->retries);
        m.maximum_record_age_seconds = static_cast<int32_t>(a->record_age);
        m.bisect_batch_on_function_error = a->bisect;
        m.parallelization_factor = static_cast<uint32_t>(a->parallelization);
        m.tumbling_window_seconds = static_cast<uint32_t>(a->tumbling);
        if (a->Given("dest")) {
          Status s = a->Destination(&m.on_failure_destination);
          if (!s.ok()) return ctx.Usage(s.message());
        }
        Status s = a->ResponseTypes(&m.report_batch_item_failures);
        if (!s.ok()) return ctx.Usage(s.message());
        if (a->Given("filters")) {
          s = a->Filters(&m.filter_patterns);
          if (!s.ok()) return ctx.Usage(s.message());
        }
        DB* db = ctx.Db();
        if (db == nullptr) return 1;
        EventSourceMappingConfiguration created;
        s = db->triggers()->CreateEventSourceMapping(m, &created);
        if (!s.ok()) return ctx.Fail(s);
        ctx.Print(MappingJson(created));
        return 0;
      });
  a->Add(c, /*create=*/true);
}

void AddUpdateMapping(Registry* r) {
  auto a = std::make_shared<MappingFlags>();
  CLI::App* c =
      r->Add("update-event-source-mapping", "Change a mapping's settings (unset flags stay)",
             Needs::kDb, [a](Context& ctx) {
               EventSourceMappingUpdate u;
               if (a->Given("function")) u.function_name = a->function_name;
               if (Status n = a->CheckNumbers(); !n.ok()) return ctx.Fail(n);
               if (a->Given("batch")) u.batch_size = static_cast<uint32_t>(a->batch_size);
               if (a->Given("window")) {
                 u.maximum_batching_window_seconds = static_cast<uint32_t>(a->window);
               }
               if (a->Given("enabled")) u.enabled = a->enabled;
               if (a->Given("retries")) u.maximum_retry_attempts = static_cast<int32_t>(a->retries);
               if (a->Given("age"))
                 u.maximum_record_age_seconds = static_cast<int32_t>(a->record_age);
               if (a->Given("bisect")) u.bisect_batch_on_function_error = a->bisect;
               if (a->Given("parallel")) {
                 u.parallelization_factor = static_cast<uint32_t>(a->parallelization);
               }
               if (a->Given("tumbling")) {
                 u.tumbling_window_seconds = static_cast<uint32_t>(a->tumbling);
               }
               if (a->Given("dest")) {
                 std::string table;
                 Status s = a->Destination(&table);
                 if (!s.ok()) return ctx.Usage(s.message());
                 u.on_failure_destination = table;
               }
               if (a->Given("types")) {
                 bool report = false;
                 Status s = a->ResponseTypes(&report);
                 if (!s.ok()) return ctx.Usage(s.message());
                 u.report_batch_item_failures = report;
               }
               if (a->Given("filters")) {
                 std::vector<std::string> patterns;
                 Status s = a->Filters(&patterns);
                 if (!s.ok()) return ctx.Usage(s.message());
                 u.filter_patterns = std::move(patterns);
               }
               DB* db = ctx.Db();
               if (db == nullptr) return 1;
               EventSourceMappingConfiguration updated;
               Status s = db->triggers()->UpdateEventSourceMapping(a->uuid, u, &updated);
               if (!s.ok()) return ctx.Fail(s);
               ctx.Print(MappingJson(updated));
               return 0;
             });
  a->Add(c, /*create=*/false);
}

void AddListMappings(Registry* r) {
  struct Args {
    std::string function_name, event_source, starting_token;
    size_t max_items = 0;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c =
      r->Add("list-event-source-mappings", "List mappings (of a function and/or a stream)",
             Needs::kDb, [a](Context& ctx) {
               DB* db = ctx.Db();
               if (db == nullptr) return 1;
               std::string source = a->event_source;
               if (!source.empty() && source.compare(0, 4, "arn:") != 0) {
                 // A table name, as create-event-source-mapping accepts: its
                 // latest stream.
                 TableDescription d;
                 Status s = db->DescribeTable(source, &d);
                 if (!s.ok()) return ctx.Fail(s.WithContext("--event-source-arn"));
                 if (d.latest_stream_arn.empty()) {
                   return ctx.Fail("ResourceNotFoundException: --event-source-arn: table '" +
                                   source + "' has no stream");
                 }
                 source = d.latest_stream_arn;
               }
               std::vector<EventSourceMappingConfiguration> mappings;
               std::string next;
               Status s = db->triggers()->ListEventSourceMappings(
                   a->function_name, source, a->starting_token, a->max_items, &mappings, &next);
               if (!s.ok()) return ctx.Fail(s);
               ojson list = ojson::array();
               for (const auto& m : mappings) list.push_back(MappingJson(m));
               ojson out;
               out["EventSourceMappings"] = std::move(list);
               if (!next.empty()) out["NextToken"] = next;
               ctx.Print(out);
               return 0;
             });
  c->add_option("--function-name", a->function_name, "Only this function's mappings");
  c->add_option("--event-source-arn,--event-source", a->event_source,
                "Only this stream's mappings (an ARN or a table name)");
  c->add_option("--max-items", a->max_items, "At most this many; NextToken continues");
  c->add_option("--starting-token,--marker", a->starting_token, "The NextToken of the last page");
}

// get- and delete-event-source-mapping: one UUID in, the mapping out.
void AddMappingByUuid(Registry* r, const char* name, const char* description,
                      Status (Triggers::*op)(std::string_view, EventSourceMappingConfiguration*)) {
  auto uuid = std::make_shared<std::string>();
  CLI::App* c = r->Add(name, description, Needs::kDb, [uuid, op](Context& ctx) {
    DB* db = ctx.Db();
    if (db == nullptr) return 1;
    EventSourceMappingConfiguration m;
    Status s = (db->triggers()->*op)(*uuid, &m);
    if (!s.ok()) return ctx.Fail(s);
    ojson j = MappingJson(m);
    MappingMetrics mm;
    if (op == &Triggers::GetEventSourceMapping &&
        db->triggers()->GetMappingMetrics(m.uuid, &mm).ok()) {
      j["RunnelMetrics"] = MappingMetricsJson(mm, m.starting_position);
    }
    ctx.Print(j);
    return 0;
  });
  c->add_option("--uuid", *uuid, "The mapping's UUID")->required();
}

void AddLogs(Registry* r) {
  struct Args {
    std::string name, since = "10m";
    bool follow = false;
    double follow_seconds = 0;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add(
      "logs", "A function's log lines (START, its own lines, END, REPORT)", Needs::kLogFiles,
      [a](Context& ctx) {
        int64_t since = 0;
        Status s = ParseSince("--since", a->since, &since);
        if (!s.ok()) return ctx.Usage(s.message());
        const bool follow = a->follow || a->follow_seconds > 0;
        // Read from the files: the DB may be open in another process.
        auto read = [&](int64_t from, std::vector<FunctionLogLine>* lines) {
          Status r = ReadFunctionLogFiles(ctx.session().dir(), a->name, from, lines);
          // Followed, a log that does not exist yet is one without lines.
          return follow && r.IsNotFound() ? Status::OK() : r;
        };
        std::vector<FunctionLogLine> lines;
        s = read(since, &lines);
        if (!s.ok()) return ctx.Fail(s);  // NotFound: ResourceNotFoundException
        int64_t last_time = since;
        size_t same_time = 0;  // lines already printed with time == last_time
        auto print = [&](const std::vector<FunctionLogLine>& ls) {
          // Lines are re-read from the files while following; those at the
          // last printed time that were printed already are skipped.
          size_t at_last = 0;
          for (const FunctionLogLine& l : ls) {
            if (l.time_micros < last_time) continue;
            if (l.time_micros == last_time && at_last++ < same_time) continue;
            std::fprintf(ctx.io().out, "%s\n", l.text.c_str());
            if (l.time_micros != last_time) {
              last_time = l.time_micros;
              same_time = 0;
              at_last = 1;
            }
            ++same_time;
          }
          std::fflush(ctx.io().out);
        };
        print(lines);
        if (!follow) return 0;
        const auto stop = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(a->follow_seconds * 1000));
        while (a->follow_seconds <= 0 || std::chrono::steady_clock::now() < stop) {
          if (std::ferror(ctx.io().out)) return 0;
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          s = read(last_time, &lines);
          if (!s.ok()) return ctx.Fail(s);
          print(lines);
        }
        return 0;
      });
  c->add_option("--function-name", a->name, "Function name")->required();
  c->add_option("--since", a->since,
                "From this long ago (30s, 10m, 2h, 1d; default 10m) or a UTC time");
  c->add_flag("--follow", a->follow, "Keep printing new lines until interrupted");
  c->add_option("--follow-for", a->follow_seconds, "Follow for this many seconds, then exit");
}

}  // namespace

void AddFunctionCommands(Registry* r) {
  AddCreateFunction(r);
  AddGetFunction(r);
  AddListFunctions(r);
  AddUpdateFunction(r);
  AddDeleteFunction(r);
  AddInvoke(r);
  AddCreateMapping(r);
  AddListMappings(r);
  AddMappingByUuid(r, "get-event-source-mapping", "Describe a mapping",
                   &Triggers::GetEventSourceMapping);
  AddUpdateMapping(r);
  AddMappingByUuid(r, "delete-event-source-mapping", "Delete a mapping",
                   &Triggers::DeleteEventSourceMapping);
  AddLogs(r);
}

}  // namespace runnel::cli
