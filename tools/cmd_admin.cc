// Copyright 2026 The runnel Authors.
//
// run, dump, load.

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "tools/cli.h"
#include "tools/dump.capnp.h"
#include "tools/host.h"
#include "tools/item_args.h"
#include "tools/json_shapes.h"
#include "tools/progress.h"
#include "util/numbers.h"
#include "util/utf8.h"

namespace runnel::cli {
namespace {

using ojson = nlohmann::ordered_json;

// Timeouts of the endpoint, in milliseconds (hidden flags: tests shorten
// them); 0 keeps the default.
struct RunFlags {
  int64_t client_timeout_ms = 0;
  int64_t idle_timeout_ms = 0;
  int64_t request_memory_mb = 256;
};

int Run(Context& ctx, HostOptions o, const RunFlags& f) {
  if (o.endpoint.account.size() != 12 ||
      o.endpoint.account.find_first_not_of("0123456789") != std::string::npos) {
    return ctx.Usage("--account-id: expected 12 digits, got '" + o.endpoint.account + "'");
  }
  if (o.endpoint.region.empty() ||
      o.endpoint.region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") !=
          std::string::npos) {
    return ctx.Usage("--region: expected a region name such as us-east-1, got '" +
                     o.endpoint.region + "'");
  }
  if (o.listen.empty() && !o.credentials_file.empty()) {
    return ctx.Usage("--credentials needs --listen");
  }
  if (o.listen.empty() && o.endpoint.unsynced_writes) return ctx.Usage("--no-sync needs --listen");
  if (!o.credentials_file.empty()) o.credentials_file = ctx.Path(o.credentials_file);
  if (o.trigger_threads < 0 || o.trigger_threads > 1024) {
    return ctx.Usage("--trigger-threads: expected 0 (four per core) to 1024, got " +
                     std::to_string(o.trigger_threads));
  }
  if (f.request_memory_mb < 1 || f.request_memory_mb > (int64_t{1} << 20)) {
    return ctx.Usage("--max-request-memory-mb: expected 1 to 1048576, got " +
                     std::to_string(f.request_memory_mb));
  }
  if (f.request_memory_mb != 256 && o.listen.empty()) {
    return ctx.Usage("--max-request-memory-mb needs --listen");
  }
  o.endpoint.max_request_memory_bytes = static_cast<uint64_t>(f.request_memory_mb) << 20;
  if (f.client_timeout_ms > 0) {
    o.endpoint.header_timeout = f.client_timeout_ms * kj::MILLISECONDS;
    o.endpoint.body_timeout = f.client_timeout_ms * kj::MILLISECONDS;
    o.endpoint.write_timeout = f.client_timeout_ms * kj::MILLISECONDS;
  }
  if (f.idle_timeout_ms > 0) o.endpoint.idle_timeout = f.idle_timeout_ms * kj::MILLISECONDS;
  return RunHost(ctx, o);
}

void AddRun(Registry* r) {
  auto o = std::make_shared<HostOptions>();
  auto f = std::make_shared<RunFlags>();
  CLI::App* c =
      r->Add("run",
             "Host the DB: run its triggers and serve other shells' commands on DIR/runnel.sock "
             "(and, with --listen, AWS clients over HTTP) until SIGINT/SIGTERM",
             Needs::kHost, [o, f](Context& ctx) { return Run(ctx, *o, *f); });
  c->add_flag("--until-idle", o->until_idle,
              "Stop once every enabled mapping has processed everything committed");
  c->add_option("--listen", o->listen,
                "Serve the AWS endpoint (DynamoDB, DynamoDB Streams, Lambda, CloudWatch Logs) on "
                "HOST:PORT (port 0 picks a free one; the URL is printed on stdout)");
  c->add_option("--credentials", o->credentials_file,
                "AWS credentials file (INI: [profile] aws_access_key_id / "
                "aws_secret_access_key) whose keys requests must be signed with (SigV4); also "
                "RUNNEL_ACCESS_KEY_ID / RUNNEL_SECRET_ACCESS_KEY. Without any, only loopback "
                "addresses may be listened on");
  c->add_flag("--no-sync", o->endpoint.unsynced_writes,
              "With --listen: acknowledge writes before their fsync. They survive a crash of "
              "runnel but not of the machine (a power loss), as with dynalite or DynamoDB Local; "
              "without the flag every write is acknowledged once durable");
  c->add_option("--max-request-memory-mb", f->request_memory_mb,
                "With --listen: request bodies held at once, across all connections, in MiB "
                "(default 256). A request that would pass it gets the service's throttling error, "
                "which AWS clients retry; a single body larger than it gets 413");
  c->add_option("--trigger-threads", o->trigger_threads,
                "Threads that run every mapping and lane (default 0: four per core). A lane "
                "waiting for records holds none; at most this many handlers run at once");
  c->add_option("--client-timeout-ms", f->client_timeout_ms)->group("");
  c->add_option("--idle-timeout-ms", f->idle_timeout_ms)->group("");
}

// --- Dump formats.

struct DumpTable {
  std::string name;
  StreamSpecification spec;
  TableSchema schema;  // empty key_schema: a byte table
  TimeToLiveSpecification ttl;
};

// The typed parts of a table entry in the JSON-lines dump: KeySchema,
// AttributeDefinitions and TimeToLiveSpecification, as the AWS CLI's
// create-table and update-time-to-live take them.
void AddTypedTableJson(const DumpTable& t, ojson* j) {
  if (!t.schema.typed()) return;
  (*j)["KeySchema"] = KeySchemaJson(t.schema);
  (*j)["AttributeDefinitions"] = AttributeDefinitionsJson(t.schema);
  if (t.ttl.enabled) {
    (*j)["TimeToLiveSpecification"] = {{"Enabled", true}, {"AttributeName", t.ttl.attribute_name}};
  }
}

// Throws (nlohmann's exceptions) on members of the wrong type.
Status ParseTypedTableJson(const nlohmann::json& t, DumpTable* dt) {
  if (!t.contains("KeySchema")) return Status::OK();
  Status s = ParseKeySchemaArg({t.at("KeySchema").dump()}, &dt->schema.key_schema);
  if (s.ok()) {
    s = ParseAttributeDefinitionsArg({t.at("AttributeDefinitions").dump()},
                                     &dt->schema.attribute_definitions);
  }
  if (s.ok() && t.contains("TimeToLiveSpecification")) {
    s = ParseTimeToLiveArg(t.at("TimeToLiveSpecification").dump(), &dt->ttl);
  }
  return s;
}

// Receives a dump's entries in order.
class DumpSink {
 public:
  virtual ~DumpSink() = default;
  virtual Status Header(const std::string& db_name, SequenceNumber last) = 0;
  virtual Status Table(const DumpTable& t) = 0;
  virtual Status Item(const std::string& table, std::string_view key, std::string_view value) = 0;
  // An item of a typed table.
  virtual Status TypedItem(const std::string& table, const runnel::Item& item) = 0;
  virtual Status End(uint64_t tables, uint64_t items) = 0;
};

class JsonlSink final : public DumpSink {
 public:
  explicit JsonlSink(FILE* f) : f_(f) {}
  Status Header(const std::string& db_name, SequenceNumber last) override {
    return Line(ojson{{"Format", "runnel-dump"},
                      {"Version", 1},
                      {"DbName", db_name},
                      {"LastSequenceNumber", std::to_string(last)}});
  }
  Status Table(const DumpTable& t) override {
    ojson spec{{"StreamEnabled", t.spec.stream_enabled}};
    if (t.spec.stream_enabled) {
      spec["StreamViewType"] = std::string(StreamViewTypeName(t.spec.stream_view_type));
    }
    ojson table{{"TableName", t.name}, {"StreamSpecification", spec}};
    AddTypedTableJson(t, &table);
    return Line(ojson{{"Table", std::move(table)}});
  }
  Status TypedItem(const std::string& table, const runnel::Item& item) override {
    return Line(ojson{{"TableName", table}, {"Item", ItemJson(item)}});
  }
  Status Item(const std::string& table, std::string_view key, std::string_view value) override {
    ojson j;
    j["TableName"] = table;
    if (ValidUtf8(key)) {
      j["Key"] = key;
    } else {
      j["KeyBase64"] = EncodeBase64(key);
    }
    if (ValidUtf8(value)) {
      j["Value"] = value;
    } else {
      j["ValueBase64"] = EncodeBase64(value);
    }
    return Line(j);
  }
  Status End(uint64_t tables, uint64_t items) override {
    return Line(ojson{{"End", {{"Tables", tables}, {"Items", items}}}});
  }

 private:
  Status Line(const ojson& j) {
    std::string s = j.dump();
    s += '\n';
    if (std::fwrite(s.data(), 1, s.size(), f_) != s.size()) {
      return Status::IOError(std::string("write failed: ") + std::strerror(errno));
    }
    return Status::OK();
  }
  FILE* f_;
};

class FileOutput final : public kj::OutputStream {
 public:
  explicit FileOutput(FILE* f) : f_(f) {}
  void write(const void* buffer, size_t size) override {
    if (std::fwrite(buffer, 1, size, f_) != size) failed_ = true;
  }
  bool failed() const { return failed_; }

 private:
  FILE* f_;
  bool failed_ = false;
};

class CapnpSink final : public DumpSink {
 public:
  explicit CapnpSink(FILE* f) : out_(std::make_unique<FileOutput>(f)) {}
  Status Header(const std::string& db_name, SequenceNumber last) override {
    capnp::MallocMessageBuilder m;
    auto h = m.initRoot<dump::Entry>().initHeader();
    h.setFormat("runnel-dump");
    h.setVersion(1);
    h.setDbName(db_name);
    h.setLastSequenceNumber(last);
    return Write(m);
  }
  Status Table(const DumpTable& t) override {
    capnp::MallocMessageBuilder m;
    auto e = m.initRoot<dump::Entry>().initTable();
    e.setName(t.name);
    e.setStreamEnabled(t.spec.stream_enabled);
    if (t.spec.stream_enabled) {
      e.setStreamViewType(std::string(StreamViewTypeName(t.spec.stream_view_type)));
    }
    if (t.schema.typed()) {
      auto ks = e.initKeySchema(static_cast<unsigned>(t.schema.key_schema.size()));
      for (size_t i = 0; i < t.schema.key_schema.size(); ++i) {
        const KeySchemaElement& k = t.schema.key_schema[i];
        ks[i].setAttributeName(k.attribute_name);
        ks[i].setKeyType(k.key_type == KeyType::kHash ? "HASH" : "RANGE");
      }
      const ojson defs = AttributeDefinitionsJson(t.schema);
      auto ad = e.initAttributeDefinitions(static_cast<unsigned>(defs.size()));
      for (size_t i = 0; i < defs.size(); ++i) {
        ad[i].setAttributeName(defs[i]["AttributeName"].get<std::string>());
        ad[i].setAttributeType(defs[i]["AttributeType"].get<std::string>());
      }
      e.setTtlEnabled(t.ttl.enabled);
      e.setTtlAttributeName(t.ttl.attribute_name);
    }
    return Write(m);
  }
  Status TypedItem(const std::string& table, const runnel::Item& item) override {
    capnp::MallocMessageBuilder m;
    auto e = m.initRoot<dump::Entry>().initItem();
    e.setTable(table);
    e.setItemJson(ItemToJson(item));
    return Write(m);
  }
  Status Item(const std::string& table, std::string_view key, std::string_view value) override {
    capnp::MallocMessageBuilder m;
    auto e = m.initRoot<dump::Entry>().initItem();
    e.setTable(table);
    e.setKey(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
    e.setValue(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(value.data()), value.size()));
    return Write(m);
  }
  Status End(uint64_t tables, uint64_t items) override {
    capnp::MallocMessageBuilder m;
    auto e = m.initRoot<dump::Entry>().initEnd();
    e.setTables(tables);
    e.setItems(items);
    return Write(m);
  }

 private:
  Status Write(capnp::MallocMessageBuilder& m) {
    capnp::writeMessage(*out_, m);
    if (out_->failed())
      return Status::IOError(std::string("write failed: ") + std::strerror(errno));
    return Status::OK();
  }
  // Held by pointer: kj streams' destructors may throw, a DumpSink's not.
  std::unique_ptr<FileOutput> out_;
};

class FileInput final : public kj::InputStream {
 public:
  explicit FileInput(FILE* f) : f_(f) {}
  size_t tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override {
    size_t got = 0;
    while (got < min_bytes) {
      size_t n = std::fread(static_cast<char*>(buffer) + got, 1, max_bytes - got, f_);
      if (n == 0) break;
      got += n;
    }
    return got;
  }

 private:
  FILE* f_;
};

// Checks the structure of a dump as its entries arrive, and hands them on to
// a sink: header first, each table declared once before its items, items only
// of declared tables, the end entry last with matching totals.
class DumpChecker {
 public:
  DumpChecker(bool capnp_format, DumpSink* sink) : capnp_format_(capnp_format), sink_(sink) {}

  // Counts the entry about to be checked (errors name it).
  void NextEntry() { ++entry_; }
  bool have_end() const { return have_end_; }
  // The current entry, for error messages: "line 3: ".
  std::string Where() const {
    return (capnp_format_ ? "message " : "line ") + std::to_string(entry_) + ": ";
  }

  Status Header(const std::string& format, uint64_t version, const std::string& name,
                uint64_t last) {
    if (have_header_ || entry_ != 1) return Status::InvalidArgument(Where() + "unexpected header");
    if (format != "runnel-dump" || version != 1) {
      return Status::InvalidArgument(Where() + "not a runnel dump of version 1");
    }
    have_header_ = true;
    return sink_->Header(name, last);
  }

  Status Table(const DumpTable& t) {
    if (!have_header_) return Status::InvalidArgument(Where() + "a Table before the header");
    // The table-name rules, so that a load never fails half-way on them.
    bool name_ok = t.name.size() >= kMinTableNameBytes && t.name.size() <= kMaxTableNameBytes;
    for (char c : t.name) {
      name_ok &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '-';
    }
    if (!name_ok) {
      return Status::InvalidArgument(Where() + "table name '" + t.name +
                                     "' is not 3 to 255 characters of [A-Za-z0-9_.-]");
    }
    if (!tables_.emplace(t.name, t.schema.typed()).second) {
      return Status::InvalidArgument(Where() + "table '" + t.name + "' declared twice");
    }
    return sink_->Table(t);
  }

  Status Item(const std::string& table, std::string_view key, std::string_view value) {
    if (tables_.count(table) == 0) {
      return Status::InvalidArgument(Where() + "item of undeclared table '" + table + "'");
    }
    if (tables_[table]) {
      return Status::InvalidArgument(Where() + "a key and value for typed table '" + table +
                                     "' (its items are Item entries)");
    }
    if (key.size() < kMinKeyBytes || key.size() > kMaxKeyBytes) {
      return Status::InvalidArgument(Where() + "key of " + std::to_string(key.size()) +
                                     " bytes (allowed 1 to 4096)");
    }
    if (value.size() > kMaxValueBytes) {
      return Status::InvalidArgument(Where() + "value larger than 16 MiB");
    }
    ++items_;
    return sink_->Item(table, key, value);
  }

  Status TypedItem(const std::string& table, const runnel::Item& item) {
    auto it = tables_.find(table);
    if (it == tables_.end()) {
      return Status::InvalidArgument(Where() + "item of undeclared table '" + table + "'");
    }
    if (!it->second) {
      return Status::InvalidArgument(Where() + "a typed Item for byte table '" + table + "'");
    }
    ++items_;
    return sink_->TypedItem(table, item);
  }

  Status End(uint64_t t, uint64_t i) {
    if (t != tables_.size() || i != items_) {
      return Status::InvalidArgument(Where() + "the end entry counts " + std::to_string(t) +
                                     " tables and " + std::to_string(i) + " items, the dump has " +
                                     std::to_string(tables_.size()) + " and " +
                                     std::to_string(items_));
    }
    have_end_ = true;
    return sink_->End(t, i);
  }

  // After the last entry: the dump had a header and an end entry.
  Status Finish() const {
    if (!have_header_) return Status::InvalidArgument("empty input: not a runnel dump");
    if (!have_end_) {
      return Status::InvalidArgument("the dump has no end entry: it was cut short");
    }
    return Status::OK();
  }

 private:
  const bool capnp_format_;
  DumpSink* const sink_;
  std::map<std::string, bool> tables_;  // name -> typed
  bool have_header_ = false, have_end_ = false;
  uint64_t items_ = 0;
  size_t entry_ = 0;
};

Status CheckCapnpEntry(dump::Entry::Reader e, DumpChecker* check) {
  switch (e.which()) {
    case dump::Entry::HEADER: {
      auto h = e.getHeader();
      return check->Header(h.getFormat(), h.getVersion(), h.getDbName(), h.getLastSequenceNumber());
    }
    case dump::Entry::TABLE: {
      auto t = e.getTable();
      DumpTable dt;
      dt.name = t.getName();
      dt.spec.stream_enabled = t.getStreamEnabled();
      if (dt.spec.stream_enabled &&
          !ParseStreamViewType(std::string(t.getStreamViewType()), &dt.spec.stream_view_type)) {
        return Status::InvalidArgument(check->Where() + "bad StreamViewType");
      }
      if (t.hasKeySchema() && t.getKeySchema().size() > 0) {
        nlohmann::json table;
        for (auto k : t.getKeySchema()) {
          table["KeySchema"].push_back({{"AttributeName", std::string(k.getAttributeName())},
                                        {"KeyType", std::string(k.getKeyType())}});
        }
        table["AttributeDefinitions"] = nlohmann::json::array();
        for (auto a : t.getAttributeDefinitions()) {
          table["AttributeDefinitions"].push_back(
              {{"AttributeName", std::string(a.getAttributeName())},
               {"AttributeType", std::string(a.getAttributeType())}});
        }
        if (t.getTtlEnabled()) {
          table["TimeToLiveSpecification"] = {
              {"Enabled", true}, {"AttributeName", std::string(t.getTtlAttributeName())}};
        }
        Status s = ParseTypedTableJson(table, &dt);
        if (!s.ok()) return Status::InvalidArgument(check->Where() + s.message());
      }
      return check->Table(dt);
    }
    case dump::Entry::ITEM: {
      auto i = e.getItem();
      if (i.hasItemJson() && i.getItemJson().size() > 0) {
        runnel::Item item;
        Status s =
            ItemFromJson(std::string_view(i.getItemJson().cStr(), i.getItemJson().size()), &item);
        if (!s.ok()) return Status::InvalidArgument(check->Where() + s.message());
        return check->TypedItem(i.getTable(), item);
      }
      auto k = i.getKey();
      auto v = i.getValue();
      return check->Item(i.getTable(),
                         std::string_view(reinterpret_cast<const char*>(k.begin()), k.size()),
                         std::string_view(reinterpret_cast<const char*>(v.begin()), v.size()));
    }
    case dump::Entry::END:
      return check->End(e.getEnd().getTables(), e.getEnd().getItems());
    default:
      return Status::InvalidArgument(check->Where() + "unknown entry");
  }
}

Status ReadCapnpDump(FILE* f, DumpChecker* check) {
  FileInput in(f);
  capnp::ReaderOptions o;
  // An item carries up to 4 KiB of key and 16 MiB of value.
  o.traversalLimitInWords = (kMaxValueBytes + kMaxKeyBytes + 4096) / 8;
  for (;;) {
    int c = std::fgetc(f);
    if (c == EOF) break;
    std::ungetc(c, f);
    check->NextEntry();
    if (check->have_end())
      return Status::InvalidArgument(check->Where() + "data after the end entry");
    // The reader's destructor reads the rest of the message and can throw
    // on a truncated one, so no return leaves this try block: a return value
    // built before such a throw would never be destroyed.
    Status s;
    try {
      capnp::InputStreamMessageReader reader(in, o);
      s = CheckCapnpEntry(reader.getRoot<dump::Entry>(), check);
    } catch (const kj::Exception& e) {
      if (!s.ok()) return s;
      return Status::InvalidArgument(check->Where() + "not a valid Cap'n Proto dump message (" +
                                     std::string(e.getDescription().cStr()) + ")");
    }
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// Throws (nlohmann's exceptions) on an entry of the wrong shape.
Status CheckJsonEntry(const nlohmann::json& j, DumpChecker* check) {
  if (j.contains("Format")) {
    uint64_t last = 0;
    if (!ParseUint64(j.value("LastSequenceNumber", std::string("0")), &last)) {
      return Status::InvalidArgument(check->Where() +
                                     "LastSequenceNumber is not a decimal sequence number");
    }
    return check->Header(j.at("Format").get<std::string>(), j.value("Version", 0u),
                         j.value("DbName", std::string()), last);
  }
  if (j.contains("Table")) {
    const auto& t = j.at("Table");
    DumpTable dt;
    dt.name = t.at("TableName").get<std::string>();
    const auto& spec = t.at("StreamSpecification");
    dt.spec.stream_enabled = spec.at("StreamEnabled").get<bool>();
    if (dt.spec.stream_enabled && !ParseStreamViewType(spec.at("StreamViewType").get<std::string>(),
                                                       &dt.spec.stream_view_type)) {
      return Status::InvalidArgument(check->Where() + "bad StreamViewType");
    }
    Status s = ParseTypedTableJson(t, &dt);
    if (!s.ok()) return Status::InvalidArgument(check->Where() + s.message());
    return check->Table(dt);
  }
  if (j.contains("Item")) {
    runnel::Item item;
    Status s = ItemFromJson(j.at("Item").dump(), &item);
    if (!s.ok()) return Status::InvalidArgument(check->Where() + s.message());
    return check->TypedItem(j.at("TableName").get<std::string>(), item);
  }
  if (j.contains("End")) {
    return check->End(j.at("End").at("Tables").get<uint64_t>(),
                      j.at("End").at("Items").get<uint64_t>());
  }
  std::string key, value;
  if (j.contains("KeyBase64")) {
    if (!DecodeBase64(j.at("KeyBase64").get<std::string>(), &key)) {
      return Status::InvalidArgument(check->Where() + "KeyBase64 is not base64");
    }
  } else {
    key = j.at("Key").get<std::string>();
  }
  if (j.contains("ValueBase64")) {
    if (!DecodeBase64(j.at("ValueBase64").get<std::string>(), &value)) {
      return Status::InvalidArgument(check->Where() + "ValueBase64 is not base64");
    }
  } else {
    value = j.at("Value").get<std::string>();
  }
  return check->Item(j.at("TableName").get<std::string>(), key, value);
}

Status ReadJsonDump(FILE* f, DumpChecker* check) {
  std::string line;
  char buf[1 << 16];
  bool eof = false;
  while (!eof) {
    line.clear();
    // One line, however long (values reach 16 MiB).
    for (;;) {
      if (std::fgets(buf, sizeof(buf), f) == nullptr) {
        eof = true;
        break;
      }
      line += buf;
      if (!line.empty() && line.back() == '\n') break;
    }
    if (line.empty()) break;
    check->NextEntry();
    if (line.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    if (check->have_end())
      return Status::InvalidArgument(check->Where() + "data after the end entry");
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Status::InvalidArgument(check->Where() + "invalid JSON");
    }
    Status s;
    try {
      s = CheckJsonEntry(j, check);
    } catch (const std::exception& e) {
      return Status::InvalidArgument(check->Where() + "unexpected shape (" + e.what() + ")");
    }
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// Reads a dump (either format) and hands its entries to a sink, checking the
// structure (see DumpChecker).
Status ReadDump(FILE* f, bool capnp_format, DumpSink* sink) {
  DumpChecker check(capnp_format, sink);
  Status s = capnp_format ? ReadCapnpDump(f, &check) : ReadJsonDump(f, &check);
  if (!s.ok()) return s;
  return check.Finish();
}

// Counts a dump's items while it is validated.
class CountingSink final : public DumpSink {
 public:
  Status Header(const std::string&, SequenceNumber) override { return Status::OK(); }
  Status Table(const DumpTable& t) override {
    tables.push_back(t.name);
    return Status::OK();
  }
  Status Item(const std::string&, std::string_view, std::string_view) override {
    ++items;
    return Status::OK();
  }
  Status TypedItem(const std::string&, const runnel::Item&) override {
    ++items;
    return Status::OK();
  }
  Status End(uint64_t, uint64_t) override { return Status::OK(); }
  std::vector<std::string> tables;
  uint64_t items = 0;
};

// Applies a validated dump to the DB: tables, then items in batches of about
// 4 MiB; the last batch is synced, so a finished load is durable.
class LoadingSink final : public DumpSink {
 public:
  LoadingSink(DB* db, Progress* progress) : db_(db), progress_(progress) {}
  Status Header(const std::string&, SequenceNumber) override { return Status::OK(); }
  Status Table(const DumpTable& t) override {
    Status s = Flush(false);
    if (!s.ok()) return s;
    if (!t.schema.typed()) return db_->CreateTable(t.name, t.spec);
    s = db_->CreateTable(t.name, t.spec, t.schema);
    if (s.ok() && t.ttl.enabled) s = db_->UpdateTimeToLive(t.name, t.ttl);
    return s;
  }
  // Typed items go in BatchWriteItem's largest batches (25 items).
  Status TypedItem(const std::string& table, const runnel::Item& item) override {
    typed_.request_items[table].push_back(WriteRequest{true, item});
    if (++typed_pending_ >= kMaxBatchWriteRequests) return Flush(false);
    return Status::OK();
  }
  Status Item(const std::string& table, std::string_view key, std::string_view value) override {
    batch_.Put(table, key, value);
    bytes_ += key.size() + value.size();
    ++pending_;
    if (bytes_ >= (4u << 20)) return Flush(false);
    return Status::OK();
  }
  Status End(uint64_t, uint64_t) override { return Flush(true); }

 private:
  Status Flush(bool sync) {
    if (typed_pending_ > 0) {
      typed_.sync = sync;
      BatchWriteItemResult result;
      Status s = db_->BatchWriteItem(typed_, &result);
      typed_.request_items.clear();
      progress_->Add(typed_pending_);
      typed_pending_ = 0;
      if (!s.ok()) return s;
    }
    if (batch_.Count() == 0 && !sync) return Status::OK();
    WriteOptions w;
    w.sync = sync;
    Status s = batch_.Count() == 0 ? Status::OK() : db_->Write(w, batch_);
    batch_.Clear();
    bytes_ = 0;
    progress_->Add(pending_);
    pending_ = 0;
    return s;
  }
  DB* db_;
  Progress* progress_;
  WriteBatch batch_;
  size_t bytes_ = 0;
  uint64_t pending_ = 0;
  BatchWriteItemRequest typed_;
  size_t typed_pending_ = 0;
};

// The items of a typed table, page by page.
Status WriteTypedItems(DB* db, const std::string& table, DumpSink* sink, Progress* progress,
                       uint64_t* items) {
  ScanRequest r;
  r.table_name = table;
  r.limit = 1000;
  for (;;) {
    QueryResult page;
    Status s = db->ScanItems(ReadOptions(), r, &page);
    for (size_t k = 0; s.ok() && k < page.items.size(); ++k) {
      s = sink->TypedItem(table, page.items[k]);
      ++*items;
    }
    if (!s.ok()) return s;
    progress->Add(page.items.size());
    if (!page.last_evaluated_key) return Status::OK();
    r.exclusive_start_key = std::move(*page.last_evaluated_key);
  }
}

// Writes the tables (definitions and items) to the sink, counting the items.
Status WriteDump(DB* db, const std::vector<TableDescription>& descs, DumpSink* sink,
                 Progress* progress, uint64_t* items) {
  Status s = sink->Header(db->name(), db->LastSequence());
  for (size_t i = 0; s.ok() && i < descs.size(); ++i) {
    DumpTable t{descs[i].table_name, descs[i].stream_specification, descs[i].schema,
                descs[i].time_to_live};
    s = sink->Table(t);
    if (t.schema.typed()) {
      if (s.ok()) s = WriteTypedItems(db, t.name, sink, progress, items);
      continue;
    }
    ScanOptions o;
    o.limit = 1000;
    while (s.ok()) {
      ScanResult page;
      s = db->Scan(ReadOptions(), t.name, o, &page);
      for (size_t k = 0; s.ok() && k < page.items.size(); ++k) {
        s = sink->Item(t.name, page.items[k].first, page.items[k].second);
        ++*items;
      }
      progress->Add(page.items.size());
      if (!page.has_more) break;
      o.exclusive_start_key = page.last_evaluated_key;
    }
  }
  if (s.ok()) s = sink->End(descs.size(), *items);
  return s;
}

void AddDump(Registry* r) {
  struct Args {
    std::string table, format = "jsonl", output = "-";
  };
  auto a = std::make_shared<Args>();
  CLI::App* c =
      r->Add("dump", "Write tables (definitions and items) to a file or stdout", Needs::kDb,
             [a](Context& ctx) {
               DB* db = ctx.Db();
               if (db == nullptr) return 1;
               std::vector<std::string> names;
               if (!a->table.empty()) {
                 names.push_back(a->table);
               } else {
                 Status s = db->ListTables(&names);
                 if (!s.ok()) return ctx.Fail(s);
               }
               std::vector<TableDescription> descs(names.size());
               uint64_t total = 0;
               for (size_t i = 0; i < names.size(); ++i) {
                 Status s = db->DescribeTable(names[i], &descs[i]);
                 if (!s.ok()) return ctx.Fail(s);
                 total += descs[i].item_count;
               }
               // A file is written beside its name and renamed into place at the
               // end: a failed dump never leaves a truncated file that looks whole.
               const bool to_stdout = a->output == "-";
               const std::string path = to_stdout ? "" : ctx.Path(a->output);
               const std::string tmp = path + ".tmp" + std::to_string(getpid());
               FILE* f = to_stdout ? ctx.io().out : std::fopen(tmp.c_str(), "wb");
               if (f == nullptr) {
                 return ctx.Fail("--output: cannot write '" + path + "': " + std::strerror(errno));
               }
               std::unique_ptr<DumpSink> sink;
               if (a->format == "capnp") {
                 sink = std::make_unique<CapnpSink>(f);
               } else {
                 sink = std::make_unique<JsonlSink>(f);
               }
               Progress progress(ctx, "dump", total, "items");
               uint64_t items = 0;
               Status s = WriteDump(db, descs, sink.get(), &progress, &items);
               progress.Done();
               if (to_stdout) {
                 if (s.ok() && (std::fflush(f) != 0 || std::ferror(f))) {
                   s = Status::IOError(std::string("writing the dump to stdout failed: ") +
                                       std::strerror(errno));
                 }
                 return s.ok() ? 0 : ctx.Fail(s);
               }
               const bool flushed = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
               std::fclose(f);
               if (s.ok() && !flushed) s = Status::IOError("cannot write '" + path + "'");
               if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
                 s = Status::IOError("cannot rename to '" + path + "': " + std::strerror(errno));
               }
               if (!s.ok()) {
                 ::unlink(tmp.c_str());
                 return ctx.Fail(s);
               }
               std::fprintf(ctx.io().err, "runnel: dump: %zu tables, %llu items to %s\n",
                            descs.size(), static_cast<unsigned long long>(items), path.c_str());
               return 0;
             });
  c->add_option("--table-name", a->table, "Only this table (default: every table)");
  c->add_option("--format", a->format, "jsonl (default) or capnp")
      ->check(CLI::IsMember({"jsonl", "capnp"}));
  c->add_option("--output", a->output, "The file to write (default - : stdout)");
}

void AddLoad(Registry* r) {
  struct Args {
    std::string input = "-", format;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add(
      "load",
      "Restore a dump into a new or empty DB (it refuses a DB that has tables; the whole dump "
      "is checked before anything is written)",
      Needs::kCreateDb, [a](Context& ctx) {
        // stdin cannot be read twice (check, then apply): it is buffered.
        std::string buffered;
        FILE* f = nullptr;
        if (a->input == "-") {
          Status rs = ReadStdin(ctx.io(), "--input", &buffered);
          if (!rs.ok()) return ctx.Fail(rs.message());
          if (buffered.empty()) return ctx.Fail("--input: stdin is empty: not a runnel dump");
          f = fmemopen(buffered.data(), buffered.size(), "rb");
        } else {
          f = std::fopen(ctx.Path(a->input).c_str(), "rb");
          if (f == nullptr) {
            return ctx.Fail("--input: cannot read '" + ctx.Path(a->input) +
                            "': " + std::strerror(errno));
          }
        }
        std::unique_ptr<FILE, int (*)(FILE*)> closer(f, &std::fclose);
        bool capnp_format = a->format == "capnp";
        if (a->format.empty()) {
          int first = std::fgetc(f);
          capnp_format = first != '{' && first != EOF;
          std::rewind(f);
        }
        CountingSink counted;
        Status s = ReadDump(f, capnp_format, &counted);
        if (!s.ok()) return ctx.Fail("--input: " + s.message());
        DB* db = ctx.Db();
        if (db == nullptr) return 1;
        std::vector<std::string> existing;
        s = db->ListTables(&existing);
        if (!s.ok()) return ctx.Fail(s);
        if (!existing.empty()) {
          std::string list;
          for (const auto& t : existing) list += (list.empty() ? "" : ", ") + t;
          return ctx.Fail("ResourceInUseException: the DB already has tables (" + list +
                          "); load restores only into a new or empty DB");
        }
        std::rewind(f);
        Progress progress(ctx, "load", counted.items, "items");
        LoadingSink loading(db, &progress);
        s = ReadDump(f, capnp_format, &loading);
        progress.Done();
        if (!s.ok()) return ctx.Fail(s);
        ctx.Print(ojson{{"Tables", counted.tables}, {"ItemCount", counted.items}});
        return 0;
      });
  c->add_option("--input", a->input, "The dump file (default - : stdin)");
  c->add_option("--format", a->format, "jsonl or capnp (default: detected)")
      ->check(CLI::IsMember({"jsonl", "capnp"}));
}

}  // namespace

void AddInspectCommands(Registry* r);

void AddAdminCommands(Registry* r) {
  AddRun(r);
  AddDump(r);
  AddLoad(r);
  AddInspectCommands(r);
}

}  // namespace runnel::cli
