// Copyright 2026 The runnel Authors.
//
// Tables and items: the `aws dynamodb` commands.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "tools/cli.h"
#include "tools/item_args.h"
#include "tools/items_cli.h"
#include "tools/json_shapes.h"

namespace runnel::cli {
namespace {

using ojson = nlohmann::ordered_json;

// --stream-specification in the cloud CLI's shorthand
// (StreamEnabled=true,StreamViewType=NEW_IMAGE) or as JSON.
Status ParseStreamSpecification(const std::string& text, StreamSpecification* spec) {
  const std::string flag = "--stream-specification";
  bool have_enabled = false;
  std::string view;
  if (!text.empty() && text[0] == '{') {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Status::InvalidArgument(flag + ": invalid JSON");
    }
    for (const auto& [k, v] : j.items()) {
      if (k == "StreamEnabled" && v.is_boolean()) {
        spec->stream_enabled = v.get<bool>();
        have_enabled = true;
      } else if (k == "StreamViewType" && v.is_string()) {
        view = v.get<std::string>();
      } else {
        return Status::InvalidArgument(flag + ": unexpected member '" + k + "'");
      }
    }
  } else {
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t comma = text.find(',', pos);
      if (comma == std::string::npos) comma = text.size();
      const std::string part = text.substr(pos, comma - pos);
      const size_t eq = part.find('=');
      const std::string k = part.substr(0, eq);
      const std::string v = eq == std::string::npos ? "" : part.substr(eq + 1);
      if (k == "StreamEnabled" && (v == "true" || v == "false")) {
        spec->stream_enabled = v == "true";
        have_enabled = true;
      } else if (k == "StreamViewType" && !v.empty()) {
        view = v;
      } else {
        return Status::InvalidArgument(
            flag + ": expected StreamEnabled=true|false[,StreamViewType=TYPE], got '" + part + "'");
      }
      pos = comma + 1;
    }
  }
  if (!have_enabled) return Status::InvalidArgument(flag + ": StreamEnabled is required");
  if (!view.empty()) {
    if (!spec->stream_enabled) {
      return Status::InvalidArgument(flag +
                                     ": StreamViewType is only valid with StreamEnabled=true");
    }
    if (!ParseStreamViewType(view, &spec->stream_view_type)) {
      return Status::InvalidArgument(flag +
                                     ": StreamViewType must be KEYS_ONLY, NEW_IMAGE, "
                                     "OLD_IMAGE or NEW_AND_OLD_IMAGES, got '" +
                                     view + "'");
    }
  } else if (spec->stream_enabled) {
    return Status::InvalidArgument(flag + ": StreamViewType is required with StreamEnabled=true");
  }
  return Status::OK();
}

// A key given as --key TEXT or --key-base64 B64.
struct KeyFlags {
  std::string text;
  std::string base64;
  void Add(CLI::App* c, bool required = true) {
    auto* k = c->add_option("--key", text, "The item's key (text)");
    auto* b = c->add_option("--key-base64", base64, "The item's key, base64 (binary keys)");
    k->excludes(b);
    if (required) {
      // One of the two is required; checked in Get so the message names both.
    }
  }
  Status Get(std::string* key) const {
    if (!base64.empty()) {
      if (!DecodeBase64(base64, key)) {
        return Status::InvalidArgument("--key-base64: not valid base64");
      }
    } else {
      *key = text;
    }
    if (key->empty())
      return Status::InvalidArgument("--key or --key-base64 is required (1 to 4096 bytes)");
    return Status::OK();
  }
};

int DescribeTableTo(Context& ctx, DB* db, const std::string& table, const char* wrapper,
                    const char* status) {
  TableDescription d;
  Status s = db->DescribeTable(table, &d);
  if (!s.ok()) return ctx.Fail(s);
  ctx.Print(ojson{{wrapper, TableJson(*db, d, status)}});
  return 0;
}

// The typed-table flags of create-table.
struct SchemaFlags {
  std::vector<std::string> key_schema, attribute_definitions;
  std::string billing_mode, throughput;

  // 0 with *schema set (empty for a byte table), else the exit status.
  int Get(Context& ctx, TableSchema* schema, uint64_t* read, uint64_t* write) const {
    std::vector<std::string> ks = key_schema, defs = attribute_definitions;
    // A list parameter given as one file:// word is the file's JSON.
    for (auto [flag, words] :
         {std::pair{"--key-schema", &ks}, std::pair{"--attribute-definitions", &defs}}) {
      if (words->size() != 1) continue;
      Status s = ResolveArg(ctx, flag, std::string((*words)[0]), &(*words)[0]);
      if (!s.ok()) return ctx.Fail(s.message());
    }
    if (!ks.empty()) {
      Status s = ParseKeySchemaArg(ks, &schema->key_schema);
      if (!s.ok()) return ctx.Usage(s.message());
    }
    if (!defs.empty()) {
      Status s = ParseAttributeDefinitionsArg(defs, &schema->attribute_definitions);
      if (!s.ok()) return ctx.Usage(s.message());
    }
    if (key_schema.empty() && !attribute_definitions.empty()) {
      return ctx.Usage("--attribute-definitions needs --key-schema");
    }
    if (!key_schema.empty() && attribute_definitions.empty()) {
      return ctx.Usage("--key-schema needs --attribute-definitions for its attributes");
    }
    if (!throughput.empty()) {
      std::string text;
      Status s = ResolveArg(ctx, "--provisioned-throughput", throughput, &text);
      if (s.ok()) s = ParseProvisionedThroughputArg(text, read, write);
      if (!s.ok()) return ctx.Usage(s.message());
      if (billing_mode == "PAY_PER_REQUEST") {
        return ctx.Usage("--provisioned-throughput is not allowed with PAY_PER_REQUEST");
      }
    } else if (billing_mode == "PROVISIONED") {
      return ctx.Usage("--billing-mode PROVISIONED needs --provisioned-throughput");
    }
    return 0;
  }
};

// create-table's answer echoes the billing parameters it accepted (runnel
// has no capacity to provision: they change nothing).
void EchoBilling(const SchemaFlags& f, uint64_t read, uint64_t write, ojson* table) {
  if (f.throughput.empty()) return;
  (*table)["ProvisionedThroughput"] = {
      {"NumberOfDecreasesToday", 0}, {"ReadCapacityUnits", read}, {"WriteCapacityUnits", write}};
  (*table)["BillingModeSummary"] = {{"BillingMode", "PROVISIONED"}};
}

void AddCreateTable(Registry* r) {
  struct Args {
    std::string table, stream;
    SchemaFlags schema;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add("create-table", "Create a table (and the DB, if the directory has none)",
                       Needs::kCreateDb, [a](Context& ctx) {
                         StreamSpecification spec;
                         if (!a->stream.empty()) {
                           Status s = ParseStreamSpecification(a->stream, &spec);
                           if (!s.ok()) return ctx.Usage(s.message());
                         }
                         TableSchema schema;
                         uint64_t read = 0, write = 0;
                         if (int rc = a->schema.Get(ctx, &schema, &read, &write); rc != 0)
                           return rc;
                         DB* db = ctx.Db();
                         if (db == nullptr) return 1;
                         Status s = schema.typed() ? db->CreateTable(a->table, spec, schema)
                                                   : db->CreateTable(a->table, spec);
                         if (!s.ok()) return ctx.Fail(s);
                         TableDescription d;
                         s = db->DescribeTable(a->table, &d);
                         if (!s.ok()) return ctx.Fail(s);
                         ojson t = TableJson(*db, d, "ACTIVE");
                         EchoBilling(a->schema, read, write, &t);
                         ctx.Print(ojson{{"TableDescription", std::move(t)}});
                         return 0;
                       });
  c->add_option("--table-name", a->table, "Table name (3-255 of A-Z a-z 0-9 _ . -)")->required();
  c->add_option("--stream-specification", a->stream,
                "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES|NEW_IMAGE|OLD_IMAGE|"
                "KEYS_ONLY (or the same as JSON)");
  c->add_option("--key-schema", a->schema.key_schema,
                "A typed table: AttributeName=pk,KeyType=HASH [AttributeName=sk,KeyType=RANGE] "
                "(or JSON)");
  c->add_option("--attribute-definitions", a->schema.attribute_definitions,
                "The key attributes' types: AttributeName=pk,AttributeType=S|N|B ... (or JSON)");
  c->add_option("--billing-mode", a->schema.billing_mode,
                "PROVISIONED or PAY_PER_REQUEST (accepted; runnel has no capacity limits)")
      ->check(CLI::IsMember({"PROVISIONED", "PAY_PER_REQUEST"}));
  c->add_option("--provisioned-throughput", a->schema.throughput,
                "ReadCapacityUnits=N,WriteCapacityUnits=N (accepted and echoed)");
}

void AddDescribeTable(Registry* r) {
  auto table = std::make_shared<std::string>();
  CLI::App* c = r->Add("describe-table", "Describe a table", Needs::kDb, [table](Context& ctx) {
    DB* db = ctx.Db();
    if (db == nullptr) return 1;
    return DescribeTableTo(ctx, db, *table, "Table", "ACTIVE");
  });
  c->add_option("--table-name", *table, "Table name")->required();
}

void AddListTables(Registry* r) {
  r->Add("list-tables", "List the tables", Needs::kDb, [](Context& ctx) {
    DB* db = ctx.Db();
    if (db == nullptr) return 1;
    std::vector<std::string> names;
    Status s = db->ListTables(&names);
    if (!s.ok()) return ctx.Fail(s);
    ctx.Print(ojson{{"TableNames", names}});
    return 0;
  });
}

void AddUpdateTable(Registry* r) {
  struct Args {
    std::string table, stream;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c =
      r->Add("update-table", "Enable or disable a table's stream", Needs::kDb, [a](Context& ctx) {
        StreamSpecification spec;
        Status s = ParseStreamSpecification(a->stream, &spec);
        if (!s.ok()) return ctx.Usage(s.message());
        DB* db = ctx.Db();
        if (db == nullptr) return 1;
        s = db->UpdateTable(a->table, spec);
        if (!s.ok()) return ctx.Fail(s);
        return DescribeTableTo(ctx, db, a->table, "TableDescription", "ACTIVE");
      });
  c->add_option("--table-name", a->table, "Table name")->required();
  c->add_option("--stream-specification", a->stream,
                "StreamEnabled=true,StreamViewType=... or StreamEnabled=false")
      ->required();
}

void AddDeleteTable(Registry* r) {
  auto table = std::make_shared<std::string>();
  CLI::App* c = r->Add("delete-table",
                       "Delete a table and its items (its streams stay "
                       "readable until retention removes them)",
                       Needs::kDb, [table](Context& ctx) {
                         DB* db = ctx.Db();
                         if (db == nullptr) return 1;
                         TableDescription d;
                         Status s = db->DescribeTable(*table, &d);
                         if (s.ok()) s = db->DeleteTable(*table);
                         if (!s.ok()) return ctx.Fail(s);
                         ctx.Print(ojson{{"TableDescription", TableJson(*db, d, "DELETING")}});
                         return 0;
                       });
  c->add_option("--table-name", *table, "Table name")->required();
}

// The value of put-item: exactly one of --value, --value-file, --value-base64.
struct ValueFlags {
  std::string text, file, base64;
  CLI::Option* text_opt = nullptr;
  void Add(CLI::App* c) {
    text_opt = c->add_option("--value", text,
                             "The value as text (a JSON object becomes typed attributes in "
                             "stream records)");
    auto* f = c->add_option("--value-file", file, "Read the value from a file (- for stdin)");
    auto* b = c->add_option("--value-base64", base64, "The value, base64 (binary data)");
    text_opt->excludes(f)->excludes(b);
    f->excludes(b);
  }
  // 2 for a usage error, 1 for a failure, 0 with *value set.
  int Get(Context& ctx, std::string* value) const {
    if (!file.empty()) {
      if (file == "-") {
        Status s = ReadStdin(ctx.io(), "--value-file", value);
        return s.ok() ? 0 : ctx.Fail(s.message());
      }
      Status s = ReadFile(ctx.Path(file), value);
      return s.ok() ? 0 : ctx.Fail("--value-file: " + s.message());
    }
    if (!base64.empty()) {
      if (!DecodeBase64(base64, value)) return ctx.Usage("--value-base64: not valid base64");
      return 0;
    }
    if (text_opt->count() == 0) {
      return ctx.Usage(
          "one of --item (typed tables), --value, --value-file or --value-base64 is required");
    }
    *value = text;
    return 0;
  }
};

void AddPutItem(Registry* r) {
  struct Args {
    std::string table;
    KeyFlags key;
    ValueFlags value;
    TypedPutItem typed;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add("put-item", "Write an item (durably: the command returns after fsync)",
                       Needs::kDb, [a](Context& ctx) {
                         if (a->typed.requested()) return a->typed.Run(ctx, a->table);
                         std::string key, value;
                         Status s = a->key.Get(&key);
                         if (!s.ok()) return ctx.Usage(s.message());
                         if (int rc = a->value.Get(ctx, &value); rc != 0) return rc;
                         DB* db = ctx.Db();
                         if (db == nullptr) return 1;
                         WriteOptions w;
                         w.sync = true;
                         s = db->Put(w, a->table, key, value);
                         return s.ok() ? 0 : ctx.Fail(s);
                       });
  c->add_option("--table-name", a->table, "Table name")->required();
  a->key.Add(c);
  a->value.Add(c);
  a->typed.AddFlags(c);
}

void AddGetItem(Registry* r) {
  struct Args {
    std::string table, value_file;
    KeyFlags key;
    TypedGetItem typed;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c =
      r->Add("get-item", "Read an item: {\"Item\": attributes}, or {} if the key is missing",
             Needs::kDb, [a](Context& ctx) {
               if (a->typed.requested()) return a->typed.Run(ctx, a->table, a->key.text);
               std::string key, value;
               Status s = a->key.Get(&key);
               if (!s.ok()) return ctx.Usage(s.message());
               DB* db = ctx.Db();
               if (db == nullptr) return 1;
               if (a->key.base64.empty() && a->value_file.empty() && IsTypedTable(db, a->table)) {
                 return a->typed.Run(ctx, a->table, a->key.text);
               }
               s = db->Get(ReadOptions(), a->table, key, &value);
               if (s.IsNotFound()) {
                 // A missing table is an error; a missing key is an empty answer,
                 // as in the cloud.
                 TableDescription d;
                 Status t = db->DescribeTable(a->table, &d);
                 if (!t.ok()) return ctx.Fail(t);
                 ctx.Print(ojson::object());
                 return 0;
               }
               if (!s.ok()) return ctx.Fail(s);
               if (!a->value_file.empty()) {
                 if (a->value_file == "-") {
                   std::fwrite(value.data(), 1, value.size(), ctx.io().out);
                   std::fflush(ctx.io().out);
                   return 0;
                 }
                 s = WriteFile(ctx.Path(a->value_file), value);
                 return s.ok() ? 0 : ctx.Fail("--value-file: " + s.message());
               }
               ctx.Print(ojson{{"Item", ojson::parse(ImageToJson(key, value))}});
               return 0;
             });
  c->add_option("--table-name", a->table, "Table name")->required();
  a->key.Add(c);
  c->add_option("--value-file", a->value_file,
                "Write the raw value bytes to this file (- for stdout) instead of JSON");
  a->typed.AddFlags(c);
}

void AddDeleteItem(Registry* r) {
  struct Args {
    std::string table;
    KeyFlags key;
    TypedDeleteItem typed;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add("delete-item", "Delete an item (durably)", Needs::kDb, [a](Context& ctx) {
    if (a->typed.requested()) return a->typed.Run(ctx, a->table, a->key.text);
    std::string key;
    Status s = a->key.Get(&key);
    if (!s.ok()) return ctx.Usage(s.message());
    DB* db = ctx.Db();
    if (db == nullptr) return 1;
    if (a->key.base64.empty() && IsTypedTable(db, a->table)) {
      return a->typed.Run(ctx, a->table, a->key.text);
    }
    WriteOptions w;
    w.sync = true;
    s = db->Delete(w, a->table, key);
    return s.ok() ? 0 : ctx.Fail(s);
  });
  c->add_option("--table-name", a->table, "Table name")->required();
  a->key.Add(c);
  a->typed.AddFlags(c);
}

void AddScan(Registry* r) {
  struct Args {
    std::string table, prefix, starting_token;
    size_t max_items = 0;
    TypedScan typed;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add("scan", "Items in key order (one consistent snapshot per page)", Needs::kDb,
                       [a](Context& ctx) {
                         const bool byte_flags = !a->prefix.empty() || !a->starting_token.empty();
                         if (a->typed.requested() && !byte_flags) {
                           return a->typed.Run(ctx, a->table, a->max_items);
                         }
                         ScanOptions o;
                         o.prefix = a->prefix;
                         o.limit = a->max_items;
                         if (!a->starting_token.empty() &&
                             !DecodeBase64(a->starting_token, &o.exclusive_start_key)) {
                           return ctx.Usage("--starting-token: not a NextToken of scan");
                         }
                         DB* db = ctx.Db();
                         if (db == nullptr) return 1;
                         if (IsTypedTable(db, a->table)) {
                           if (byte_flags) {
                             return ctx.Usage(
                                 "--prefix and --starting-token are for byte tables; a typed "
                                 "table takes --exclusive-start-key and --filter-expression");
                           }
                           return a->typed.Run(ctx, a->table, a->max_items);
                         }
                         ScanResult res;
                         Status s = db->Scan(ReadOptions(), a->table, o, &res);
                         if (!s.ok()) return ctx.Fail(s);
                         ojson items = ojson::array();
                         for (const auto& [k, v] : res.items) {
                           items.push_back(ojson::parse(ImageToJson(k, v)));
                         }
                         ojson out;
                         out["Items"] = std::move(items);
                         out["Count"] = res.items.size();
                         out["ScannedCount"] = res.items.size();
                         if (res.has_more) out["NextToken"] = EncodeBase64(res.last_evaluated_key);
                         ctx.Print(out);
                         return 0;
                       });
  c->add_option("--table-name", a->table, "Table name")->required();
  c->add_option("--prefix", a->prefix, "Only keys starting with this prefix");
  c->add_option("--max-items,--limit", a->max_items, "At most this many items; NextToken continues")
      ->check(CLI::PositiveNumber);
  c->add_option("--starting-token", a->starting_token, "The NextToken of the previous page");
  a->typed.AddFlags(c);
}

// One line of a batch-write-item file:
//   {"PutRequest": {"TableName": T, "Key": K, "Value": V}}
//   {"DeleteRequest": {"TableName": T, "Key": K}}
// K and V are text ("KeyBase64"/"ValueBase64" for bytes); a V that is a JSON
// object, array, number or boolean is stored as its compact JSON text.
Status ParseWriteLine(const std::string& line, WriteBatch* batch) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("invalid JSON");
  if (!j.is_object() || j.size() != 1 ||
      !(j.contains("PutRequest") || j.contains("DeleteRequest"))) {
    return Status::InvalidArgument("expected {\"PutRequest\":{...}} or {\"DeleteRequest\":{...}}");
  }
  const bool put = j.contains("PutRequest");
  const nlohmann::json& req = put ? j["PutRequest"] : j["DeleteRequest"];
  if (!req.is_object()) return Status::InvalidArgument("the request must be an object");
  auto text = [&](const char* name, const char* b64name, std::string* out, bool json_ok) -> Status {
    if (req.contains(b64name)) {
      if (!req[b64name].is_string() || !DecodeBase64(req[b64name].get<std::string>(), out)) {
        return Status::InvalidArgument(std::string(b64name) + " must be a base64 string");
      }
      return Status::OK();
    }
    if (!req.contains(name)) {
      return Status::InvalidArgument(std::string(name) + " (or " + b64name + ") is missing");
    }
    const nlohmann::json& v = req[name];
    if (v.is_string()) {
      *out = v.get<std::string>();
    } else if (json_ok && !v.is_null()) {
      *out = v.dump();
    } else {
      return Status::InvalidArgument(std::string(name) + " must be a string");
    }
    return Status::OK();
  };
  if (!req.contains("TableName") || !req["TableName"].is_string()) {
    return Status::InvalidArgument("TableName (a string) is missing");
  }
  const std::string table = req["TableName"].get<std::string>();
  std::string key, value;
  Status s = text("Key", "KeyBase64", &key, false);
  if (!s.ok()) return s;
  if (put) {
    s = text("Value", "ValueBase64", &value, true);
    if (!s.ok()) return s;
    batch->Put(table, key, value);
  } else {
    batch->Delete(table, key);
  }
  return Status::OK();
}

void AddBatchWriteItem(Registry* r) {
  struct Args {
    std::string file;
    TypedBatchWrite typed;
  };
  auto a = std::make_shared<Args>();
  auto file = std::shared_ptr<std::string>(a, &a->file);
  CLI::App* c =
      r->Add("batch-write-item",
             "Apply a JSON-lines file of PutRequest/DeleteRequest lines as one atomic batch "
             "(byte tables), or --request-items (typed tables)",
             Needs::kDb, [a, file](Context& ctx) {
               if (a->typed.requested()) {
                 if (!file->empty()) return ctx.Usage("give --request-items or --file, not both");
                 return a->typed.Run(ctx);
               }
               if (file->empty()) return ctx.Usage("--request-items or --file is required");
               std::string data;
               if (*file == "-") {
                 Status s = ReadStdin(ctx.io(), "--file", &data);
                 if (!s.ok()) return ctx.Fail(s.message());
               } else {
                 Status s = ReadFile(ctx.Path(*file), &data);
                 if (!s.ok()) return ctx.Fail("--file: " + s.message());
               }
               // Every line is checked before anything is written.
               WriteBatch batch;
               size_t line_no = 0, pos = 0;
               while (pos < data.size()) {
                 size_t nl = data.find('\n', pos);
                 if (nl == std::string::npos) nl = data.size();
                 const std::string line = data.substr(pos, nl - pos);
                 pos = nl + 1;
                 ++line_no;
                 if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
                 Status s = ParseWriteLine(line, &batch);
                 if (!s.ok()) {
                   return ctx.Fail("--file: line " + std::to_string(line_no) + ": " + s.message());
                 }
               }
               DB* db = ctx.Db();
               if (db == nullptr) return 1;
               WriteOptions w;
               w.sync = true;
               CommitInfo info;
               Status s = db->Write(w, batch, &info);
               if (!s.ok()) return ctx.Fail(s);
               ojson out;
               out["UnprocessedItems"] = ojson::object();
               out["RecordCount"] = info.record_count;
               if (info.record_count > 0) {
                 out["FirstSequenceNumber"] = std::to_string(info.first_sequence);
               }
               ctx.Print(out);
               return 0;
             });
  c->add_option("--file", *file,
                "JSON lines: {\"PutRequest\":{\"TableName\":T,\"Key\":K,\"Value\":V}} or "
                "{\"DeleteRequest\":{\"TableName\":T,\"Key\":K}}; - for stdin (byte tables)");
  a->typed.AddFlags(c);
}

}  // namespace

void AddTableCommands(Registry* r) {
  AddCreateTable(r);
  AddDescribeTable(r);
  AddListTables(r);
  AddUpdateTable(r);
  AddDeleteTable(r);
  AddPutItem(r);
  AddGetItem(r);
  AddDeleteItem(r);
  AddScan(r);
  AddBatchWriteItem(r);
}

}  // namespace runnel::cli
