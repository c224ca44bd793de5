// Copyright 2026 The runnel Authors.
//
// CloudWatch Logs over JSON 1.1 (Logs_20140328.<Op>) for the functions'
// logs: log group /aws/lambda/<function> is runnel's function log
// (DIR/logs/<function>/), one log stream per group. Events are the log's
// lines: timestamp the line's time in ms, message the line without its time
// prefix. An event's position (its time in microseconds and its ordinal
// among lines of that time) is its eventId and the paging tokens, so
// `aws logs tail --follow`, which re-asks from the newest timestamp it saw
// and drops eventIds it printed, sees every line once.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "runnel/triggers.h"
#include "tools/endpoint/endpoint.h"

namespace runnel::endpoint {
namespace {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

constexpr std::string_view kGroupPrefix = "/aws/lambda/";

HttpResponse LogsError(std::string_view type, std::string_view message) {
  HttpResponse r;
  r.status = 400;
  r.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  r.body = ojson{{"__type", std::string(type)}, {"message", std::string(message)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse LogsOk(const ojson& body) {
  HttpResponse r;
  r.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse GroupNotFound() {
  return LogsError("ResourceNotFoundException", "The specified log group does not exist.");
}

bool IsFunctionName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

struct Event {
  int64_t micros = 0;
  size_t ordinal = 0;  // among the lines of the same micros
  std::string message;
};

// A position in a log: events at or after it.
struct Position {
  int64_t micros = 0;
  size_t ordinal = 0;
  bool operator<=(const Event& e) const {
    return micros < e.micros || (micros == e.micros && ordinal <= e.ordinal);
  }
};

std::string EventId(const Event& e) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%020lld%06zu", static_cast<long long>(e.micros), e.ordinal);
  return buf;
}

std::string Token(const Position& p) {
  return std::to_string(p.micros) + "/" + std::to_string(p.ordinal);
}

bool ParseToken(std::string_view token, Position* p) {
  const size_t slash = token.find('/');
  if (slash == std::string_view::npos) return false;
  try {
    size_t used = 0;
    const std::string micros(token.substr(0, slash)), ord(token.substr(slash + 1));
    p->micros = std::stoll(micros, &used);
    if (used != micros.size()) return false;
    p->ordinal = std::stoull(ord, &used);
    return used == ord.size();
  } catch (const std::exception&) {
    return false;
  }
}

Position After(const Event& e) { return {e.micros, e.ordinal + 1}; }

class LogsService {
 public:
  LogsService(ServiceContext& ctx, const json& body) : ctx_(ctx), body_(body) {}

  HttpResponse DescribeLogGroups();
  HttpResponse DescribeLogStreams();
  HttpResponse GetLogEvents();
  HttpResponse FilterLogEvents();

 private:
  std::string StreamName() const { return "[$LATEST]" + ctx_.db->id(); }
  std::string GroupArn(const std::string& group) const {
    return "arn:aws:logs:" + ctx_.region + ":" + ctx_.account + ":log-group:" + group;
  }
  // The function names that have a log, sorted.
  std::vector<std::string> Groups() const;
  // The events of `group`; false with *error if there is no such group.
  bool Events(std::string_view group, std::vector<Event>* events, HttpResponse* error) const;
  // Parameter access; the first problem is kept in error_.
  std::optional<std::string> Str(const char* key, bool required = false);
  std::optional<int64_t> Int(const char* key, int64_t lo, int64_t hi);
  std::string GroupParam();
  bool TimeFilter(std::vector<Event>* events);

  ServiceContext& ctx_;
  const json& body_;
  std::optional<HttpResponse> error_;
};

std::optional<std::string> LogsService::Str(const char* key, bool required) {
  if (!body_.contains(key) || body_[key].is_null()) {
    if (required && !error_) {
      error_ = LogsError("InvalidParameterException",
                         std::string("1 validation error detected: Value null at '") + key +
                             "' failed to satisfy constraint: Member must not be null");
    }
    return std::nullopt;
  }
  if (!body_[key].is_string()) {
    if (!error_) error_ = LogsError("SerializationException", std::string(key) + ": not a string");
    return std::nullopt;
  }
  return body_[key].get<std::string>();
}

std::optional<int64_t> LogsService::Int(const char* key, int64_t lo, int64_t hi) {
  if (!body_.contains(key) || body_[key].is_null()) return std::nullopt;
  const json& v = body_[key];
  if (!v.is_number_integer()) {
    if (!error_) error_ = LogsError("SerializationException", std::string(key) + ": not a number");
    return std::nullopt;
  }
  const int64_t n = v.get<int64_t>();
  if (n < lo || n > hi) {
    if (!error_) {
      error_ = LogsError("InvalidParameterException",
                         "1 validation error detected: Value '" + std::to_string(n) + "' at '" +
                             key + "' failed to satisfy constraint: Member must have value " +
                             (n < lo ? "greater than or equal to " + std::to_string(lo)
                                     : "less than or equal to " + std::to_string(hi)));
    }
    return std::nullopt;
  }
  return n;
}

// logGroupName, or logGroupIdentifier (a name or an ARN).
std::string LogsService::GroupParam() {
  auto name = Str("logGroupName");
  if (!name) {
    name = Str("logGroupIdentifier");
    if (name && name->rfind("arn:", 0) == 0) {
      const size_t at = name->find(":log-group:");
      *name = at == std::string::npos ? "" : name->substr(at + 11);
      if (name->size() >= 2 && name->compare(name->size() - 2, 2, ":*") == 0)
        name->resize(name->size() - 2);
    }
  }
  if (!name && !error_) {
    error_ = LogsError("InvalidParameterException",
                       "Should provide either logGroupName or logGroupIdentifier.");
  }
  return name.value_or("");
}

std::vector<std::string> LogsService::Groups() const {
  std::vector<std::string> names;
  std::error_code ec;
  if (!ctx_.db_dir.empty()) {
    for (const auto& e : std::filesystem::directory_iterator(ctx_.db_dir + "/logs", ec)) {
      const std::string n = e.path().filename().string();
      if (e.is_directory() && IsFunctionName(n)) names.push_back(n);
    }
  } else {
    std::vector<FunctionConfiguration> fns;
    if (ctx_.db->triggers()->ListFunctions(&fns).ok()) {
      for (const auto& f : fns) names.push_back(f.function_name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool LogsService::Events(std::string_view group, std::vector<Event>* events,
                         HttpResponse* error) const {
  if (group.substr(0, kGroupPrefix.size()) != kGroupPrefix) {
    *error = GroupNotFound();
    return false;
  }
  const std::string name(group.substr(kGroupPrefix.size()));
  if (!IsFunctionName(name)) {
    *error = GroupNotFound();
    return false;
  }
  std::vector<FunctionLogLine> lines;
  FunctionConfiguration f;
  // The live function's log is flushed first; a deleted one's is read from
  // its files, as the cloud keeps a deleted function's log group.
  Status s = ctx_.db->triggers()->GetFunction(name, &f).ok()
                 ? ctx_.db->triggers()->ReadFunctionLog(name, 0, &lines)
                 : ReadFunctionLogFiles(ctx_.db_dir, name, 0, &lines);
  if (s.IsNotFound()) {
    *error = GroupNotFound();
    return false;
  }
  if (!s.ok()) {
    *error = LogsError("ServiceUnavailableException", s.ToString());
    error->status = 500;
    return false;
  }
  events->clear();
  for (const FunctionLogLine& l : lines) {
    Event e;
    e.micros = l.time_micros;
    if (!events->empty() && events->back().micros == l.time_micros) {
      e.ordinal = events->back().ordinal + 1;
    }
    const size_t space = l.text.find(' ');
    e.message = space == std::string::npos ? l.text : l.text.substr(space + 1);
    events->push_back(std::move(e));
  }
  return true;
}

ojson EventJson(const Event& e, const std::string& stream, bool with_stream) {
  ojson j;
  if (with_stream) j["logStreamName"] = stream;
  j["timestamp"] = e.micros / 1000;
  j["message"] = e.message;
  j["ingestionTime"] = e.micros / 1000;
  if (with_stream) j["eventId"] = EventId(e);
  return j;
}

// Events within startTime and endTime (ms, both inclusive).
bool LogsService::TimeFilter(std::vector<Event>* events) {
  const auto start = Int("startTime", 0, INT64_MAX);
  const auto end = Int("endTime", 0, INT64_MAX);
  if (error_) return false;
  if (!start && !end) return true;
  std::vector<Event> kept;
  for (Event& e : *events) {
    const int64_t ms = e.micros / 1000;
    if ((start && ms < *start) || (end && ms > *end)) continue;
    kept.push_back(std::move(e));
  }
  *events = std::move(kept);
  return true;
}

HttpResponse LogsService::DescribeLogGroups() {
  const auto prefix = Str("logGroupNamePrefix");
  const auto limit = Int("limit", 1, 50);
  const auto token = Str("nextToken");
  if (error_) return *error_;
  ojson groups = ojson::array();
  ojson out;
  for (const std::string& fn : Groups()) {
    const std::string group = std::string(kGroupPrefix) + fn;
    if (prefix && group.compare(0, prefix->size(), *prefix) != 0) continue;
    if (token && group <= *token) continue;
    if (groups.size() == static_cast<size_t>(limit.value_or(50))) {
      out["nextToken"] = groups.back()["logGroupName"];
      break;
    }
    std::vector<Event> events;
    HttpResponse ignored;
    Events(group, &events, &ignored);
    ojson g;
    g["logGroupName"] = group;
    g["creationTime"] = events.empty() ? 0 : events.front().micros / 1000;
    g["metricFilterCount"] = 0;
    g["arn"] = GroupArn(group) + ":*";
    g["storedBytes"] = 0;
    g["logGroupClass"] = "STANDARD";
    g["logGroupArn"] = GroupArn(group);
    groups.push_back(std::move(g));
  }
  out["logGroups"] = std::move(groups);
  return LogsOk(out);
}

HttpResponse LogsService::DescribeLogStreams() {
  const std::string group = GroupParam();
  const auto prefix = Str("logStreamNamePrefix");
  const auto order = Str("orderBy");
  Int("limit", 1, 50);
  if (error_) return *error_;
  if (order && *order != "LogStreamName" && *order != "LastEventTime") {
    return LogsError("InvalidParameterException",
                     "1 validation error detected: Value '" + *order +
                         "' at 'orderBy' failed to satisfy constraint: Member must satisfy enum "
                         "value set: [LogStreamName, LastEventTime]");
  }
  if (prefix && order && *order == "LastEventTime") {
    return LogsError("InvalidParameterException",
                     "Cannot order by LastEventTime with a logStreamNamePrefix.");
  }
  std::vector<Event> events;
  HttpResponse error;
  if (!Events(group, &events, &error)) return error;
  ojson streams = ojson::array();
  const std::string name = StreamName();
  if (!prefix || name.compare(0, prefix->size(), *prefix) == 0) {
    ojson s;
    s["logStreamName"] = name;
    s["creationTime"] = events.empty() ? 0 : events.front().micros / 1000;
    if (!events.empty()) {
      s["firstEventTimestamp"] = events.front().micros / 1000;
      s["lastEventTimestamp"] = events.back().micros / 1000;
      s["lastIngestionTime"] = events.back().micros / 1000;
    }
    s["arn"] = GroupArn(group) + ":log-stream:" + name;
    s["storedBytes"] = 0;
    streams.push_back(std::move(s));
  }
  return LogsOk(ojson{{"logStreams", std::move(streams)}});
}

HttpResponse LogsService::GetLogEvents() {
  const std::string group = GroupParam();
  const auto stream = Str("logStreamName", true);
  const auto token = Str("nextToken");
  const size_t limit = static_cast<size_t>(Int("limit", 1, 10000).value_or(10000));
  bool from_head = body_.contains("startFromHead") && body_["startFromHead"].is_boolean() &&
                   body_["startFromHead"].get<bool>();
  if (error_) return *error_;
  std::vector<Event> events;
  HttpResponse error;
  if (!Events(group, &events, &error)) return error;
  if (*stream != StreamName()) {
    return LogsError("ResourceNotFoundException", "The specified log stream does not exist.");
  }
  if (!TimeFilter(&events)) return *error_;
  Position at{0, 0};
  bool forward = from_head;
  if (token) {
    forward = token->rfind("f/", 0) == 0;
    if ((!forward && token->rfind("b/", 0) != 0) || !ParseToken(token->substr(2), &at)) {
      return LogsError("InvalidParameterException", "The specified nextToken is invalid.");
    }
  }
  // [first, last): the page.
  size_t first = 0, last = events.size();
  if (token) {
    size_t i = 0;
    while (i < events.size() && !(at <= events[i])) ++i;
    (forward ? first : last) = i;
  }
  if (forward) last = std::min(last, first + limit);
  if (!forward && last - first > limit) first = last - limit;
  ojson list = ojson::array();
  for (size_t i = first; i < last; ++i) list.push_back(EventJson(events[i], "", false));
  const Position head = first < events.size()
                            ? Position{events[first].micros, events[first].ordinal}
                            : (token ? at : Position{});
  const Position tail = last > first ? After(events[last - 1]) : head;
  ojson out;
  out["events"] = std::move(list);
  out["nextForwardToken"] = "f/" + Token(tail);
  out["nextBackwardToken"] = "b/" + Token(head);
  return LogsOk(out);
}

// A filter pattern of terms: every plain term (or "quoted phrase") must
// occur, none of the -terms, and at least one of the ?terms if any. The
// JSON and space-delimited pattern syntaxes are not served.
class TermPattern {
 public:
  bool Parse(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
      if (text[i] == ' ' || text[i] == '\t') {
        ++i;
        continue;
      }
      if (text[i] == '{' || text[i] == '[') return false;
      std::vector<std::string>* into = &all_;
      if (text[i] == '?' || text[i] == '-') {
        into = text[i] == '?' ? &any_ : &none_;
        ++i;
      }
      std::string term;
      if (i < text.size() && text[i] == '"') {
        const size_t close = text.find('"', i + 1);
        if (close == std::string_view::npos) return false;
        term = std::string(text.substr(i + 1, close - i - 1));
        i = close + 1;
      } else {
        const size_t end = std::min(text.find(' ', i), text.size());
        term = std::string(text.substr(i, end - i));
        i = end;
      }
      if (!term.empty()) into->push_back(std::move(term));
    }
    return true;
  }
  bool Matches(const std::string& message) const {
    for (const auto& t : all_) {
      if (message.find(t) == std::string::npos) return false;
    }
    for (const auto& t : none_) {
      if (message.find(t) != std::string::npos) return false;
    }
    if (any_.empty()) return true;
    for (const auto& t : any_) {
      if (message.find(t) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::vector<std::string> all_, any_, none_;
};

HttpResponse LogsService::FilterLogEvents() {
  const std::string group = GroupParam();
  const auto pattern_text = Str("filterPattern");
  const auto token = Str("nextToken");
  const auto prefix = Str("logStreamNamePrefix");
  const size_t limit = static_cast<size_t>(Int("limit", 1, 10000).value_or(10000));
  if (error_) return *error_;
  TermPattern pattern;
  if (pattern_text && !pattern.Parse(*pattern_text)) {
    return LogsError("InvalidParameterException",
                     "runnel serves filter patterns of terms only (term, \"phrase\", ?term, "
                     "-term), not: " +
                         *pattern_text);
  }
  Position at{0, 0};
  if (token && !ParseToken(*token, &at)) {
    return LogsError("InvalidParameterException", "The specified nextToken is invalid.");
  }
  std::vector<Event> events;
  HttpResponse error;
  if (!Events(group, &events, &error) || !TimeFilter(&events)) return error_ ? *error_ : error;
  const std::string name = StreamName();
  bool stream_selected = !prefix || name.compare(0, prefix->size(), *prefix) == 0;
  if (body_.contains("logStreamNames") && body_["logStreamNames"].is_array()) {
    stream_selected = false;
    for (const auto& n : body_["logStreamNames"]) stream_selected = stream_selected || n == name;
  }
  ojson list = ojson::array();
  ojson out;
  for (size_t i = 0; stream_selected && i < events.size(); ++i) {
    if (!(at <= events[i]) || !pattern.Matches(events[i].message)) continue;
    if (list.size() == limit) {
      out["nextToken"] = Token({events[i].micros, events[i].ordinal});
      break;
    }
    list.push_back(EventJson(events[i], name, true));
  }
  out["events"] = std::move(list);
  ojson searched = ojson::array();
  if (stream_selected) searched.push_back({{"logStreamName", name}, {"searchedCompletely", true}});
  out["searchedLogStreams"] = std::move(searched);
  return LogsOk(out);
}

}  // namespace

HttpResponse ServeLogs(ServiceContext& ctx, std::string_view op, const HttpRequest& request) {
  json body = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return LogsError("SerializationException", "the request body is not a JSON object");
  }
  LogsService service(ctx, body);
  if (op == "DescribeLogGroups") return service.DescribeLogGroups();
  if (op == "DescribeLogStreams") return service.DescribeLogStreams();
  if (op == "GetLogEvents") return service.GetLogEvents();
  if (op == "FilterLogEvents") return service.FilterLogEvents();
  return LogsError("UnknownOperationException", "Operation not served: " + std::string(op));
}

}  // namespace runnel::endpoint
