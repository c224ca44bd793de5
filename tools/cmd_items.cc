// Copyright 2026 The runnel Authors.
//
// Items of typed tables: the `aws dynamodb` item commands.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "tools/item_args.h"
#include "tools/items_cli.h"
#include "util/encoding.h"

namespace runnel::cli {

using ojson = nlohmann::ordered_json;

bool IsTypedTable(DB* db, const std::string& table) {
  TableDescription d;
  return db->DescribeTable(table, &d).ok() && d.schema.typed();
}

bool TypedFlags::requested() const {
  for (const CLI::Option* o : options_) {
    if (o->count() > 0) return true;
  }
  return false;
}

namespace {

// Resolves file:// and parses an item argument; 0 or the exit status.
int ItemArg(Context& ctx, const char* flag, const std::string& text, Item* item) {
  std::string resolved;
  Status s = ResolveArg(ctx, flag, text, &resolved);
  if (!s.ok()) return ctx.Fail(s.message());
  s = ParseItemArg(flag, resolved, item);
  return s.ok() ? 0 : ctx.Usage(s.message());
}

// Resolves file:// of a text argument (an expression may be in a file too).
int TextArg(Context& ctx, const char* flag, const std::string& text, std::string* out) {
  Status s = ResolveArg(ctx, flag, text, out);
  return s.ok() ? 0 : ctx.Fail(s.message());
}

void AddExpressionFlags(CLI::App* c, ExpressionFlags* f, std::vector<CLI::Option*>* tracked) {
  tracked->push_back(c->add_option("--expression-attribute-names", f->names,
                                   R"(Substitutes for names: {"#n":"name"} (JSON or file://))"));
  tracked->push_back(
      c->add_option("--expression-attribute-values", f->values,
                    R"(Substitutes for values: {":v":{"S":"x"}} (JSON or file://))"));
}

void AddConditionFlags(CLI::App* c, ConditionFlags* f, std::vector<CLI::Option*>* tracked,
                       const char* return_values_help) {
  tracked->push_back(c->add_option("--condition-expression", f->condition,
                                   "Write only if this condition holds on the current item"));
  AddExpressionFlags(c, f, tracked);
  tracked->push_back(c->add_option("--return-values", f->return_values, return_values_help));
  tracked->push_back(c->add_option("--return-values-on-condition-check-failure", f->on_failure,
                                   "ALL_OLD: print the item as it was when the condition fails"));
}

// Fills the condition parts of a write request; 0 or the exit status.
template <typename Request>
int FillCondition(Context& ctx, const ConditionFlags& f, Request* r) {
  if (int rc = f.Fill(ctx, r); rc != 0) return rc;
  if (int rc = TextArg(ctx, "--condition-expression", f.condition, &r->condition_expression);
      rc != 0) {
    return rc;
  }
  if (!f.return_values.empty()) {
    Status s = ParseReturnValuesArg("--return-values", f.return_values, &r->return_values);
    if (!s.ok()) return ctx.Usage(s.message());
  }
  if (!f.on_failure.empty()) {
    Status s = ParseReturnOnFailureArg("--return-values-on-condition-check-failure", f.on_failure,
                                       &r->return_old_on_condition_failure);
    if (!s.ok()) return ctx.Usage(s.message());
  }
  r->sync = true;
  return 0;
}

// The outcome of put-item, update-item, delete-item: {"Attributes": ...} if
// ReturnValues asked for some, nothing otherwise (as the AWS CLI prints an
// empty response). A failed condition with ALL_OLD prints {"Item": ...}
// (the error's Item) on stdout before the one error line.
int WriteOutcome(Context& ctx, const Status& s, const WriteItemResult& result) {
  if (s.IsConditionalCheckFailed()) {
    if (result.attributes) ctx.Print(ojson{{"Item", ItemJson(*result.attributes)}});
    return ctx.Fail(s);
  }
  if (!s.ok()) return ctx.Fail(s);
  if (result.attributes) ctx.Print(ojson{{"Attributes", ItemJson(*result.attributes)}});
  return 0;
}

}  // namespace

int ExpressionFlags::Fill(Context& ctx, ExpressionInput* in) const {
  if (!names.empty()) {
    std::string text;
    if (int rc = TextArg(ctx, "--expression-attribute-names", names, &text); rc != 0) return rc;
    Status s = ParseNamesArg("--expression-attribute-names", text, &in->expression_attribute_names);
    if (!s.ok()) return ctx.Usage(s.message());
  }
  if (!values.empty()) {
    return ItemArg(ctx, "--expression-attribute-values", values, &in->expression_attribute_values);
  }
  return 0;
}

// --- put-item, get-item, delete-item, scan, batch-write-item (typed).

void TypedPutItem::AddFlags(CLI::App* c) {
  std::vector<CLI::Option*> tracked;
  tracked.push_back(
      c->add_option("--item", item_, R"(Typed tables: the item, {"pk":{"S":"a"},...} or file://)"));
  AddConditionFlags(c, &f_, &tracked, "NONE or ALL_OLD: print the item it replaced");
  for (CLI::Option* o : tracked) Track(o);
}

int TypedPutItem::Run(Context& ctx, const std::string& table) {
  PutItemRequest r;
  r.table_name = table;
  if (item_.empty()) return ctx.Usage("--item is required for a typed table");
  if (int rc = ItemArg(ctx, "--item", item_, &r.item); rc != 0) return rc;
  if (int rc = FillCondition(ctx, f_, &r); rc != 0) return rc;
  DB* db = ctx.Db();
  if (db == nullptr) return 1;
  WriteItemResult result;
  return WriteOutcome(ctx, db->PutItem(r, &result), result);
}

void TypedGetItem::AddFlags(CLI::App* c) {
  Track(c->add_option("--projection-expression", projection_,
                      "Typed tables: only these attributes (a, b.c, #n)"));
  Track(c->add_flag("--consistent-read,!--no-consistent-read", consistent_read_,
                    "Accepted: reads are always strongly consistent"));
  std::vector<CLI::Option*> tracked;
  AddExpressionFlags(c, &f_, &tracked);
  for (CLI::Option* o : tracked) Track(o);
}

int TypedGetItem::Run(Context& ctx, const std::string& table, const std::string& key_text) {
  GetItemRequest r;
  r.table_name = table;
  r.consistent_read = consistent_read_;
  if (int rc = ItemArg(ctx, "--key", key_text, &r.key); rc != 0) return rc;
  if (int rc = TextArg(ctx, "--projection-expression", projection_, &r.projection_expression);
      rc != 0) {
    return rc;
  }
  if (int rc = f_.Fill(ctx, &r); rc != 0) return rc;
  DB* db = ctx.Db();
  if (db == nullptr) return 1;
  GetItemResult result;
  Status s = db->GetItem(ReadOptions(), r, &result);
  if (!s.ok()) return ctx.Fail(s);
  ctx.Print(result.item ? ojson{{"Item", ItemJson(*result.item)}} : ojson::object());
  return 0;
}

void TypedDeleteItem::AddFlags(CLI::App* c) {
  std::vector<CLI::Option*> tracked;
  AddConditionFlags(c, &f_, &tracked, "NONE or ALL_OLD: print the deleted item");
  for (CLI::Option* o : tracked) Track(o);
}

int TypedDeleteItem::Run(Context& ctx, const std::string& table, const std::string& key_text) {
  DeleteItemRequest r;
  r.table_name = table;
  if (int rc = ItemArg(ctx, "--key", key_text, &r.key); rc != 0) return rc;
  if (int rc = FillCondition(ctx, f_, &r); rc != 0) return rc;
  DB* db = ctx.Db();
  if (db == nullptr) return 1;
  WriteItemResult result;
  return WriteOutcome(ctx, db->DeleteItem(r, &result), result);
}

namespace {

// The page of a query or scan, as the AWS CLI prints it.
ojson PageJson(const QueryResult& res, Select select) {
  ojson out;
  if (select != Select::kCount) {
    ojson items = ojson::array();
    for (const Item& i : res.items) items.push_back(ItemJson(i));
    out["Items"] = std::move(items);
  }
  out["Count"] = res.count;
  out["ScannedCount"] = res.scanned_count;
  if (res.last_evaluated_key) out["LastEvaluatedKey"] = ItemJson(*res.last_evaluated_key);
  return out;
}

// The AWS CLI's automatic pagination of query and scan: without --limit,
// --exclusive-start-key or --no-paginate it reads page after page and prints
// one result (Items of every page, Count and ScannedCount summed). With
// --max-items it stops after that many items and prints a NextToken that
// --starting-token continues from: as botocore's, the base64 of
// {"ExclusiveStartKey": <the start key of the page it stopped in>,
// "boto_truncate_amount": <items of that page already printed>}.
struct Paging {
  uint32_t page_size = 0;
  uint32_t max_items = 0;
  std::string starting_token;
  bool no_paginate = false;

  void Add(CLI::App* c, std::vector<CLI::Option*>* tracked) {
    tracked->push_back(c->add_option("--page-size", page_size,
                                     "Items evaluated per underlying request (its Limit)"));
    tracked->push_back(
        c->add_option("--max-items", max_items, "Print at most this many items, then a NextToken"));
    tracked->push_back(c->add_option("--starting-token", starting_token,
                                     "Continue from the NextToken of a previous --max-items"));
    tracked->push_back(
        c->add_flag("--no-paginate", no_paginate, "Print the first page only, as the API has it"));
  }
};

Status ParseStartingToken(std::string_view token, Item* start, uint64_t* skip) {
  const Status bad = Status::InvalidArgument(
      "--starting-token: not a NextToken of this command (base64 of "
      "{\"ExclusiveStartKey\":...,\"boto_truncate_amount\":N})");
  std::string text;
  if (!DecodeBase64(token, &text)) return bad;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad;
  if (j.contains("ExclusiveStartKey")) {
    Status s = ItemFromJson(j["ExclusiveStartKey"].dump(), start);
    if (!s.ok()) return bad;
  }
  if (j.contains("boto_truncate_amount")) {
    if (!j["boto_truncate_amount"].is_number_unsigned()) return bad;
    *skip = j["boto_truncate_amount"].get<uint64_t>();
  }
  return Status::OK();
}

std::string NextToken(const Item& start, uint64_t printed) {
  ojson j;
  if (!start.empty()) j["ExclusiveStartKey"] = ItemJson(start);
  j["boto_truncate_amount"] = printed;
  return EncodeBase64(j.dump());
}

// Runs `read(request, &page)` for every page as the AWS CLI paginates.
template <typename Request, typename Read>
int PrintPages(Context& ctx, const Paging& paging, Request r, Read read) {
  const bool manual = r.limit != 0 || !r.exclusive_start_key.empty() || paging.no_paginate;
  if (manual &&
      (paging.page_size != 0 || paging.max_items != 0 || !paging.starting_token.empty())) {
    return ctx.Usage(
        "--page-size, --max-items and --starting-token paginate automatically: not with --limit, "
        "--exclusive-start-key or --no-paginate");
  }
  QueryResult res;
  if (manual) {
    Status s = read(r, &res);
    if (!s.ok()) return ctx.Fail(s);
    ctx.Print(PageJson(res, r.select));
    return 0;
  }
  uint64_t skip = 0;
  if (!paging.starting_token.empty()) {
    Status s = ParseStartingToken(paging.starting_token, &r.exclusive_start_key, &skip);
    if (!s.ok()) return ctx.Usage(s.message());
  }
  r.limit = paging.page_size;
  QueryResult all;
  std::optional<std::string> next;
  for (;;) {
    Status s = read(r, &res);
    if (!s.ok()) return ctx.Fail(s);
    all.count += res.count;
    all.scanned_count += res.scanned_count;
    for (size_t i = std::min<uint64_t>(skip, res.items.size()); i < res.items.size(); ++i) {
      if (paging.max_items != 0 && all.items.size() == paging.max_items) {
        next = NextToken(r.exclusive_start_key, i);
        break;
      }
      all.items.push_back(std::move(res.items[i]));
    }
    skip = 0;
    if (next.has_value() || !res.last_evaluated_key.has_value()) break;
    r.exclusive_start_key = std::move(*res.last_evaluated_key);
    if (paging.max_items != 0 && all.items.size() == paging.max_items) {
      next = NextToken(r.exclusive_start_key, 0);
      break;
    }
  }
  ojson out = PageJson(all, r.select);
  if (next.has_value()) out["NextToken"] = *next;
  ctx.Print(out);
  return 0;
}

// The read flags query and scan share.
struct ReadFlags {
  std::string filter, projection, exclusive_start_key, select;
  bool consistent_read = false;
  ExpressionFlags expr;

  void Add(CLI::App* c, std::vector<CLI::Option*>* tracked) {
    tracked->push_back(
        c->add_option("--filter-expression", filter, "Return only the evaluated items that match"));
    tracked->push_back(
        c->add_option("--projection-expression", projection, "Only these attributes (a, b.c, #n)"));
    tracked->push_back(c->add_option("--exclusive-start-key", exclusive_start_key,
                                     "Continue after this key (the LastEvaluatedKey of a page)"));
    tracked->push_back(
        c->add_option("--select", select, "ALL_ATTRIBUTES, SPECIFIC_ATTRIBUTES or COUNT"));
    tracked->push_back(c->add_flag("--consistent-read,!--no-consistent-read", consistent_read,
                                   "Accepted: reads are always strongly consistent"));
    AddExpressionFlags(c, &expr, tracked);
  }

  template <typename Request>
  int Fill(Context& ctx, Request* r) const {
    if (int rc = TextArg(ctx, "--filter-expression", filter, &r->filter_expression); rc != 0) {
      return rc;
    }
    if (int rc = TextArg(ctx, "--projection-expression", projection, &r->projection_expression);
        rc != 0) {
      return rc;
    }
    if (!exclusive_start_key.empty()) {
      if (int rc =
              ItemArg(ctx, "--exclusive-start-key", exclusive_start_key, &r->exclusive_start_key);
          rc != 0) {
        return rc;
      }
    }
    if (!select.empty()) {
      Status s = ParseSelectArg("--select", select, &r->select);
      if (!s.ok()) return ctx.Usage(s.message());
    }
    r->consistent_read = consistent_read;
    return expr.Fill(ctx, r);
  }
};

}  // namespace

void TypedScan::AddFlags(CLI::App* c) {
  std::vector<CLI::Option*> tracked;
  tracked.push_back(c->add_option("--filter-expression", filter_,
                                  "Typed tables: return only the evaluated items that match"));
  tracked.push_back(
      c->add_option("--projection-expression", projection_, "Typed tables: only these attributes"));
  tracked.push_back(c->add_option("--exclusive-start-key", exclusive_start_key_,
                                  "Typed tables: continue after this key (LastEvaluatedKey)"));
  tracked.push_back(c->add_option("--select", select_,
                                  "Typed tables: ALL_ATTRIBUTES, SPECIFIC_ATTRIBUTES or "
                                  "COUNT"));
  tracked.push_back(c->add_option("--segment", segment_, "Parallel scan: this segment (0-based)"));
  tracked.push_back(c->add_option("--total-segments", total_segments_,
                                  "Parallel scan: the number of segments (1-1000000)"));
  tracked.push_back(c->add_flag("--consistent-read,!--no-consistent-read", consistent_read_,
                                "Accepted: reads are always strongly consistent"));
  AddExpressionFlags(c, &f_, &tracked);
  for (CLI::Option* o : tracked) Track(o);
}

int TypedScan::Run(Context& ctx, const std::string& table, size_t limit) {
  ScanRequest r;
  r.table_name = table;
  ReadFlags read;
  read.filter = filter_;
  read.projection = projection_;
  read.exclusive_start_key = exclusive_start_key_;
  read.select = select_;
  read.consistent_read = consistent_read_;
  read.expr = f_;
  if (int rc = read.Fill(ctx, &r); rc != 0) return rc;
  if (limit > UINT32_MAX) return ctx.Usage("--limit: at most " + std::to_string(UINT32_MAX));
  r.limit = static_cast<uint32_t>(limit);
  r.segment = segment_;
  r.total_segments = total_segments_;
  DB* db = ctx.Db();
  if (db == nullptr) return 1;
  // --max-items / --limit of scan (shared with byte tables) is Limit: one
  // page. Without either, every page, as the AWS CLI prints them.
  return PrintPages(ctx, Paging(), std::move(r), [db](const ScanRequest& q, QueryResult* res) {
    return db->ScanItems(ReadOptions(), q, res);
  });
}

void TypedBatchWrite::AddFlags(CLI::App* c) {
  Track(c->add_option(
      "--request-items", request_items_,
      R"(Typed tables: {"Table":[{"PutRequest":{"Item":{...}}},{"DeleteRequest":{"Key":{...}}}]} )"
      "(JSON or file://)"));
}

int TypedBatchWrite::Run(Context& ctx) {
  std::string text;
  if (int rc = TextArg(ctx, "--request-items", request_items_, &text); rc != 0) return rc;
  BatchWriteItemRequest r;
  Status s = ParseBatchWriteArg(text, &r);
  if (!s.ok()) return ctx.Usage(s.message());
  r.sync = true;
  DB* db = ctx.Db();
  if (db == nullptr) return 1;
  BatchWriteItemResult result;
  s = db->BatchWriteItem(r, &result);
  if (!s.ok()) return ctx.Fail(s);
  ctx.Print(ojson{{"UnprocessedItems", WriteRequestsJson(result.unprocessed_items)}});
  return 0;
}

// --- Commands of typed tables only.

namespace {

void AddUpdateItem(Registry* r) {
  struct Args {
    std::string table, key, update;
    ConditionFlags f;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c =
      r->Add("update-item", "Typed tables: change an item's attributes (creates it if missing)",
             Needs::kDb, [a](Context& ctx) {
               UpdateItemRequest u;
               u.table_name = a->table;
               if (int rc = ItemArg(ctx, "--key", a->key, &u.key); rc != 0) return rc;
               if (int rc = TextArg(ctx, "--update-expression", a->update, &u.update_expression);
                   rc != 0) {
                 return rc;
               }
               if (int rc = FillCondition(ctx, a->f, &u); rc != 0) return rc;
               DB* db = ctx.Db();
               if (db == nullptr) return 1;
               WriteItemResult result;
               return WriteOutcome(ctx, db->UpdateItem(u, &result), result);
             });
  c->add_option("--table-name", a->table, "Table name")->required();
  c->add_option("--key", a->key, R"(The item's key: {"pk":{"S":"a"}} (JSON or file://))")
      ->required();
  c->add_option("--update-expression", a->update,
                "SET a = :v, b = b + :one REMOVE c ADD n :one DELETE s :x");
  std::vector<CLI::Option*> unused;
  AddConditionFlags(c, &a->f, &unused,
                    "NONE, ALL_OLD, UPDATED_OLD, ALL_NEW or UPDATED_NEW: print those attributes");
}

void AddQuery(Registry* r) {
  struct Args {
    std::string table, key_condition;
    uint32_t limit = 0;
    bool forward = true;
    ReadFlags read;
    Paging paging;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add("query", "Typed tables: the items of one partition, in sort-key order",
                       Needs::kDb, [a](Context& ctx) {
                         QueryRequest q;
                         q.table_name = a->table;
                         if (int rc = TextArg(ctx, "--key-condition-expression", a->key_condition,
                                              &q.key_condition_expression);
                             rc != 0) {
                           return rc;
                         }
                         if (int rc = a->read.Fill(ctx, &q); rc != 0) return rc;
                         q.limit = a->limit;
                         q.scan_index_forward = a->forward;
                         DB* db = ctx.Db();
                         if (db == nullptr) return 1;
                         return PrintPages(ctx, a->paging, std::move(q),
                                           [db](const QueryRequest& r, QueryResult* res) {
                                             return db->Query(ReadOptions(), r, res);
                                           });
                       });
  c->add_option("--table-name", a->table, "Table name")->required();
  c->add_option("--key-condition-expression", a->key_condition,
                "pk = :v [AND sk = | < | <= | > | >= :w | BETWEEN :a AND :b | "
                "begins_with(sk, :p)]")
      ->required();
  c->add_flag("--scan-index-forward,!--no-scan-index-forward", a->forward,
              "Ascending sort-key order (default), or descending");
  c->add_option("--limit", a->limit, "Evaluate at most this many items (LastEvaluatedKey follows)")
      ->check(CLI::PositiveNumber);
  std::vector<CLI::Option*> unused;
  a->read.Add(c, &unused);
  a->paging.Add(c, &unused);
}

void AddBatchGetItem(Registry* r) {
  auto items = std::make_shared<std::string>();
  CLI::App* c =
      r->Add("batch-get-item", "Typed tables: read up to 100 items from one or more tables",
             Needs::kDb, [items](Context& ctx) {
               std::string text;
               if (int rc = TextArg(ctx, "--request-items", *items, &text); rc != 0) return rc;
               BatchGetItemRequest b;
               Status s = ParseBatchGetArg(text, &b);
               if (!s.ok()) return ctx.Usage(s.message());
               DB* db = ctx.Db();
               if (db == nullptr) return 1;
               BatchGetItemResult res;
               s = db->BatchGetItem(ReadOptions(), b, &res);
               if (!s.ok()) return ctx.Fail(s);
               ojson responses = ojson::object();
               for (const auto& [table, list] : res.responses) {
                 ojson l = ojson::array();
                 for (const Item& i : list) l.push_back(ItemJson(i));
                 responses[table] = std::move(l);
               }
               ojson unprocessed = ojson::object();
               for (const auto& [table, ka] : res.unprocessed_keys) {
                 unprocessed[table] = KeysAndAttributesJson(ka);
               }
               ctx.Print(ojson{{"Responses", std::move(responses)},
                               {"UnprocessedKeys", std::move(unprocessed)}});
               return 0;
             });
  c->add_option("--request-items", *items,
                R"({"Table":{"Keys":[{"pk":{"S":"a"}}],"ProjectionExpression":"..."}} )"
                "(JSON or file://)")
      ->required();
}

void AddTransactWriteItems(Registry* r) {
  struct Args {
    std::string items, token;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c =
      r->Add("transact-write-items",
             "Typed tables: up to 100 Put/Update/Delete/ConditionCheck actions, all or nothing",
             Needs::kDb, [a](Context& ctx) {
               std::string text;
               if (int rc = TextArg(ctx, "--transact-items", a->items, &text); rc != 0) return rc;
               TransactWriteItemsRequest t;
               Status s = ParseTransactWriteArg(text, &t.transact_items);
               if (!s.ok()) return ctx.Usage(s.message());
               t.client_request_token = a->token;
               t.sync = true;
               DB* db = ctx.Db();
               if (db == nullptr) return 1;
               TransactWriteItemsResult res;
               s = db->TransactWriteItems(t, &res);
               if (s.IsTransactionCanceled()) {
                 // The error's CancellationReasons on stdout (the AWS CLI shows
                 // them only with --debug); the codes in the one error line.
                 ctx.Print(CancellationReasonsJson(res.cancellation_reasons));
                 return ctx.Fail("TransactionCanceledException: " +
                                 CancellationMessage(res.cancellation_reasons));
               }
               return s.ok() ? 0 : ctx.Fail(s);
             });
  c->add_option(
       "--transact-items", a->items,
       R"([{"Put":{"TableName":"T","Item":{...}}},{"Update":{...}},...] (JSON or file://))")
      ->required();
  c->add_option("--client-request-token", a->token,
                "Idempotency: a retry with the same token within 10 minutes writes nothing");
}

void AddTransactGetItems(Registry* r) {
  auto items = std::make_shared<std::string>();
  CLI::App* c = r->Add(
      "transact-get-items", "Typed tables: up to 100 items read from one consistent snapshot",
      Needs::kDb, [items](Context& ctx) {
        std::string text;
        if (int rc = TextArg(ctx, "--transact-items", *items, &text); rc != 0) return rc;
        TransactGetItemsRequest t;
        Status s = ParseTransactGetArg(text, &t);
        if (!s.ok()) return ctx.Usage(s.message());
        DB* db = ctx.Db();
        if (db == nullptr) return 1;
        TransactGetItemsResult res;
        s = db->TransactGetItems(ReadOptions(), t, &res);
        if (!s.ok()) return ctx.Fail(s);
        ojson responses = ojson::array();
        for (const auto& item : res.responses) {
          responses.push_back(item ? ojson{{"Item", ItemJson(*item)}} : ojson::object());
        }
        ctx.Print(ojson{{"Responses", std::move(responses)}});
        return 0;
      });
  c->add_option("--transact-items", *items,
                R"([{"Get":{"TableName":"T","Key":{...}}},...] (JSON or file://))")
      ->required();
}

ojson TimeToLiveDescriptionJson(const TimeToLiveSpecification& ttl) {
  ojson j{{"TimeToLiveStatus", ttl.enabled ? "ENABLED" : "DISABLED"}};
  if (ttl.enabled) j["AttributeName"] = ttl.attribute_name;
  return ojson{{"TimeToLiveDescription", std::move(j)}};
}

void AddTimeToLive(Registry* r) {
  struct Args {
    std::string table, spec;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add(
      "update-time-to-live", "Typed tables: enable or disable expiry by an attribute", Needs::kDb,
      [a](Context& ctx) {
        std::string text;
        if (int rc = TextArg(ctx, "--time-to-live-specification", a->spec, &text); rc != 0) {
          return rc;
        }
        TimeToLiveSpecification spec;
        Status s = ParseTimeToLiveArg(text, &spec);
        if (!s.ok()) return ctx.Usage(s.message());
        DB* db = ctx.Db();
        if (db == nullptr) return 1;
        s = db->UpdateTimeToLive(a->table, spec);
        if (!s.ok()) return ctx.Fail(s);
        ctx.Print(ojson{{"TimeToLiveSpecification",
                         {{"Enabled", spec.enabled}, {"AttributeName", spec.attribute_name}}}});
        return 0;
      });
  c->add_option("--table-name", a->table, "Table name")->required();
  c->add_option("--time-to-live-specification", a->spec,
                "Enabled=true,AttributeName=ttl (the attribute holds epoch seconds; or JSON)")
      ->required();

  auto table = std::make_shared<std::string>();
  c = r->Add("describe-time-to-live", "Typed tables: whether items expire, and by which attribute",
             Needs::kDb, [table](Context& ctx) {
               DB* db = ctx.Db();
               if (db == nullptr) return 1;
               TableDescription d;
               Status s = db->DescribeTable(*table, &d);
               if (!s.ok()) return ctx.Fail(s);
               ctx.Print(TimeToLiveDescriptionJson(d.time_to_live));
               return 0;
             });
  c->add_option("--table-name", *table, "Table name")->required();
}

}  // namespace

void AddItemCommands(Registry* r) {
  AddUpdateItem(r);
  AddQuery(r);
  AddBatchGetItem(r);
  AddTransactWriteItems(r);
  AddTransactGetItems(r);
  AddTimeToLive(r);
}

}  // namespace runnel::cli
