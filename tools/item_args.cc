// Copyright 2026 The runnel Authors.

#include "tools/item_args.h"

#include <map>

#include "util/numbers.h"

namespace runnel::cli {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

std::string F(std::string_view flag) { return std::string(flag); }

// Parses `text` as JSON; InvalidArgument naming the flag if it is not.
Status ParseJson(std::string_view flag, std::string_view text, json* j) {
  *j = json::parse(text, nullptr, false);
  if (j->is_discarded()) {
    return Status::InvalidArgument(F(flag) + ": invalid JSON: '" + std::string(text.substr(0, 80)) +
                                   "'");
  }
  return Status::OK();
}

// The shorthand `K=V,K=V` of one structure. Values cannot hold commas (no
// structure parsed here needs them).
Status ParseShorthand(std::string_view flag, std::string_view text,
                      std::map<std::string, std::string>* out) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view part = text.substr(pos, comma - pos);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Status::InvalidArgument(F(flag) + ": expected Key=Value[,Key=Value...], got '" +
                                     std::string(part) + "'");
    }
    (*out)[std::string(part.substr(0, eq))] = std::string(part.substr(eq + 1));
    pos = comma + 1;
  }
  return Status::OK();
}

// The structures of a list parameter as JSON objects: one JSON array given
// as the words, or each word (or whitespace-separated part of one) a
// shorthand structure.
Status ListArg(std::string_view flag, const std::vector<std::string>& words, json* list) {
  std::string all;
  for (const auto& w : words) all += (all.empty() ? "" : " ") + w;
  size_t first = all.find_first_not_of(" \t\n");
  if (first != std::string::npos && all[first] == '{') {
    // CLI11 takes a word "[...]" as a bracketed list and splits it at its
    // commas; the JSON array is put back together.
    all = "[";
    for (const auto& w : words) all += (all.size() == 1 ? "" : ",") + w;
    all += "]";
    first = 0;
  }
  if (first != std::string::npos && all[first] == '[') {
    Status s = ParseJson(flag, all, list);
    if (s.ok() && !list->is_array()) s = Status::InvalidArgument(F(flag) + ": expected a list");
    return s;
  }
  *list = json::array();
  size_t pos = 0;
  while ((pos = all.find_first_not_of(" \t\n", pos)) != std::string::npos) {
    size_t end = all.find_first_of(" \t\n", pos);
    if (end == std::string::npos) end = all.size();
    std::map<std::string, std::string> kv;
    Status s = ParseShorthand(flag, std::string_view(all).substr(pos, end - pos), &kv);
    if (!s.ok()) return s;
    json o = json::object();
    for (const auto& [k, v] : kv) o[k] = v;
    list->push_back(std::move(o));
    pos = end;
  }
  if (list->empty()) return Status::InvalidArgument(F(flag) + ": the list is empty");
  return Status::OK();
}

// Object member `name` as a string; "" if absent.
Status Str(std::string_view where, const json& o, const char* name, std::string* out,
           bool required = false) {
  auto it = o.find(name);
  if (it == o.end()) {
    if (required) return Status::InvalidArgument(F(where) + ": " + name + " is required");
    return Status::OK();
  }
  if (!it->is_string()) {
    return Status::InvalidArgument(F(where) + ": " + name + " must be a string");
  }
  *out = it->get<std::string>();
  return Status::OK();
}

Status ItemMember(std::string_view where, const json& o, const char* name, Item* item,
                  bool required) {
  auto it = o.find(name);
  if (it == o.end()) {
    if (required) return Status::InvalidArgument(F(where) + ": " + name + " is required");
    return Status::OK();
  }
  return ParseItemArg(F(where) + "." + name, it->dump(), item);
}

// ExpressionAttributeNames / Values members of a request structure.
Status ExpressionMembers(std::string_view where, const json& o, ExpressionInput* in) {
  auto n = o.find("ExpressionAttributeNames");
  if (n != o.end()) {
    Status s = ParseNamesArg(F(where) + ".ExpressionAttributeNames", n->dump(),
                             &in->expression_attribute_names);
    if (!s.ok()) return s;
  }
  return ItemMember(where, o, "ExpressionAttributeValues", &in->expression_attribute_values, false);
}

Status OnlyMembers(std::string_view where, const json& o, std::initializer_list<const char*> ok) {
  for (const auto& [k, v] : o.items()) {
    bool known = false;
    for (const char* name : ok) known |= k == name;
    if (!known) return Status::InvalidArgument(F(where) + ": unexpected member '" + k + "'");
  }
  return Status::OK();
}

}  // namespace

Status ResolveArg(const Context& ctx, std::string_view flag, const std::string& text,
                  std::string* out) {
  for (const char* scheme : {"file://", "fileb://"}) {
    const std::string_view p(scheme);
    if (text.compare(0, p.size(), p) == 0) {
      Status s = ReadFile(ctx.Path(text.substr(p.size())), out);
      if (!s.ok()) return Status::IOError(F(flag) + ": " + s.message());
      return Status::OK();
    }
  }
  *out = text;
  return Status::OK();
}

Status ParseItemArg(std::string_view flag, std::string_view text, Item* item) {
  json j;
  Status s = ParseJson(flag, text, &j);
  if (!s.ok()) return s;
  if (!j.is_object()) {
    return Status::InvalidArgument(F(flag) + R"(: expected a map like {"name":{"S":"value"}})");
  }
  s = ItemFromJson(text, item);
  if (!s.ok()) return Status::InvalidArgument(F(flag) + ": " + s.message());
  return Status::OK();
}

Status ParseNamesArg(std::string_view flag, std::string_view text, AttributeNames* names) {
  json j;
  Status s = ParseJson(flag, text, &j);
  if (!s.ok()) return s;
  if (!j.is_object()) return Status::InvalidArgument(F(flag) + R"(: expected {"#n":"name"})");
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) {
      return Status::InvalidArgument(F(flag) + ": the value of '" + k + "' must be a string");
    }
    (*names)[k] = v.get<std::string>();
  }
  return Status::OK();
}

Status ParseReturnValuesArg(std::string_view flag, std::string_view text, ReturnValues* rv) {
  static const std::pair<const char*, ReturnValues> kNames[] = {
      {"NONE", ReturnValues::kNone},
      {"ALL_OLD", ReturnValues::kAllOld},
      {"UPDATED_OLD", ReturnValues::kUpdatedOld},
      {"ALL_NEW", ReturnValues::kAllNew},
      {"UPDATED_NEW", ReturnValues::kUpdatedNew}};
  for (const auto& [name, value] : kNames) {
    if (text == name) {
      *rv = value;
      return Status::OK();
    }
  }
  return Status::InvalidArgument(
      F(flag) + ": must be NONE, ALL_OLD, UPDATED_OLD, ALL_NEW or UPDATED_NEW, got '" +
      std::string(text) + "'");
}

Status ParseReturnOnFailureArg(std::string_view flag, std::string_view text, bool* all_old) {
  if (text != "ALL_OLD" && text != "NONE") {
    return Status::InvalidArgument(F(flag) + ": must be ALL_OLD or NONE, got '" +
                                   std::string(text) + "'");
  }
  *all_old = text == "ALL_OLD";
  return Status::OK();
}

Status ParseSelectArg(std::string_view flag, std::string_view text, Select* select) {
  if (text == "ALL_ATTRIBUTES") {
    *select = Select::kAllAttributes;
  } else if (text == "SPECIFIC_ATTRIBUTES") {
    *select = Select::kSpecificAttributes;
  } else if (text == "COUNT") {
    *select = Select::kCount;
  } else {
    return Status::InvalidArgument(F(flag) +
                                   ": must be ALL_ATTRIBUTES, SPECIFIC_ATTRIBUTES or COUNT, got '" +
                                   std::string(text) + "'");
  }
  return Status::OK();
}

Status ParseKeySchemaArg(const std::vector<std::string>& words,
                         std::vector<KeySchemaElement>* schema) {
  const std::string flag = "--key-schema";
  json list;
  Status s = ListArg(flag, words, &list);
  for (size_t i = 0; s.ok() && i < list.size(); ++i) {
    const json& e = list[i];
    if (!e.is_object()) return Status::InvalidArgument(flag + ": elements must be objects");
    KeySchemaElement k;
    std::string type;
    s = OnlyMembers(flag, e, {"AttributeName", "KeyType"});
    if (s.ok()) s = Str(flag, e, "AttributeName", &k.attribute_name, true);
    if (s.ok()) s = Str(flag, e, "KeyType", &type, true);
    if (!s.ok()) return s;
    if (type == "HASH") {
      k.key_type = KeyType::kHash;
    } else if (type == "RANGE") {
      k.key_type = KeyType::kRange;
    } else {
      return Status::InvalidArgument(flag + ": KeyType must be HASH or RANGE, got '" + type + "'");
    }
    schema->push_back(std::move(k));
  }
  return s;
}

Status ParseAttributeDefinitionsArg(const std::vector<std::string>& words,
                                    std::vector<AttributeDefinition>* defs) {
  const std::string flag = "--attribute-definitions";
  json list;
  Status s = ListArg(flag, words, &list);
  for (size_t i = 0; s.ok() && i < list.size(); ++i) {
    const json& e = list[i];
    if (!e.is_object()) return Status::InvalidArgument(flag + ": elements must be objects");
    AttributeDefinition d;
    std::string type;
    s = OnlyMembers(flag, e, {"AttributeName", "AttributeType"});
    if (s.ok()) s = Str(flag, e, "AttributeName", &d.attribute_name, true);
    if (s.ok()) s = Str(flag, e, "AttributeType", &type, true);
    if (!s.ok()) return s;
    if (type == "S") {
      d.attribute_type = ScalarAttributeType::kS;
    } else if (type == "N") {
      d.attribute_type = ScalarAttributeType::kN;
    } else if (type == "B") {
      d.attribute_type = ScalarAttributeType::kB;
    } else {
      return Status::InvalidArgument(flag + ": AttributeType must be S, N or B, got '" + type +
                                     "'");
    }
    defs->push_back(std::move(d));
  }
  return s;
}

Status ParseTimeToLiveArg(std::string_view text, TimeToLiveSpecification* spec) {
  const std::string flag = "--time-to-live-specification";
  json o;
  Status s;
  if (!text.empty() && text[0] == '{') {
    s = ParseJson(flag, text, &o);
    if (s.ok() && !o.is_object()) s = Status::InvalidArgument(flag + ": expected an object");
  } else {
    std::map<std::string, std::string> kv;
    s = ParseShorthand(flag, text, &kv);
    for (const auto& [k, v] : kv) {
      if (k == "Enabled" && (v == "true" || v == "false")) {
        o[k] = v == "true";
      } else {
        o[k] = v;
      }
    }
  }
  if (s.ok()) s = OnlyMembers(flag, o, {"Enabled", "AttributeName"});
  if (s.ok()) s = Str(flag, o, "AttributeName", &spec->attribute_name, true);
  if (!s.ok()) return s;
  auto e = o.find("Enabled");
  if (e == o.end() || !e->is_boolean()) {
    return Status::InvalidArgument(flag + ": Enabled=true or Enabled=false is required");
  }
  spec->enabled = e->get<bool>();
  return Status::OK();
}

Status ParseProvisionedThroughputArg(std::string_view text, uint64_t* read, uint64_t* write) {
  const std::string flag = "--provisioned-throughput";
  std::map<std::string, std::string> kv;
  if (!text.empty() && text[0] == '{') {
    json o;
    Status s = ParseJson(flag, text, &o);
    if (!s.ok()) return s;
    if (!o.is_object()) return Status::InvalidArgument(flag + ": expected an object");
    for (const auto& [k, v] : o.items()) kv[k] = v.is_number_unsigned() ? v.dump() : "";
  } else {
    Status s = ParseShorthand(flag, text, &kv);
    if (!s.ok()) return s;
  }
  if (kv.size() != 2 || !ParseUint64(kv["ReadCapacityUnits"], read) ||
      !ParseUint64(kv["WriteCapacityUnits"], write) || *read == 0 || *write == 0) {
    return Status::InvalidArgument(flag +
                                   ": expected ReadCapacityUnits=N,WriteCapacityUnits=N (N >= 1)");
  }
  return Status::OK();
}

Status ParseBatchGetArg(std::string_view text, BatchGetItemRequest* request) {
  const std::string flag = "--request-items";
  json j;
  Status s = ParseJson(flag, text, &j);
  if (!s.ok()) return s;
  if (!j.is_object() || j.empty()) {
    return Status::InvalidArgument(flag + R"(: expected {"Table":{"Keys":[{...}]}})");
  }
  for (const auto& [table, v] : j.items()) {
    const std::string where = flag + "." + table;
    if (!v.is_object()) return Status::InvalidArgument(where + ": expected an object");
    KeysAndAttributes& ka = request->request_items[table];
    s = OnlyMembers(where, v,
                    {"Keys", "ProjectionExpression", "ExpressionAttributeNames", "ConsistentRead"});
    if (s.ok()) s = Str(where, v, "ProjectionExpression", &ka.projection_expression);
    if (s.ok()) s = ExpressionMembers(where, v, &ka);
    if (!s.ok()) return s;
    if (v.contains("ConsistentRead")) {
      if (!v["ConsistentRead"].is_boolean()) {
        return Status::InvalidArgument(where + ": ConsistentRead must be true or false");
      }
      ka.consistent_read = v["ConsistentRead"].get<bool>();
    }
    if (!v.contains("Keys") || !v["Keys"].is_array()) {
      return Status::InvalidArgument(where + ": Keys (a list of keys) is required");
    }
    for (const json& k : v["Keys"]) {
      Item key;
      s = ParseItemArg(where + ".Keys", k.dump(), &key);
      if (!s.ok()) return s;
      ka.keys.push_back(std::move(key));
    }
  }
  return Status::OK();
}

Status ParseBatchWriteArg(std::string_view text, BatchWriteItemRequest* request) {
  const std::string flag = "--request-items";
  json j;
  Status s = ParseJson(flag, text, &j);
  if (!s.ok()) return s;
  if (!j.is_object() || j.empty()) {
    return Status::InvalidArgument(flag +
                                   R"(: expected {"Table":[{"PutRequest":{"Item":{...}}}, ...]})");
  }
  for (const auto& [table, v] : j.items()) {
    const std::string where = flag + "." + table;
    if (!v.is_array()) return Status::InvalidArgument(where + ": expected a list of requests");
    for (const json& r : v) {
      const bool put = r.is_object() && r.size() == 1 && r.contains("PutRequest");
      const bool del = r.is_object() && r.size() == 1 && r.contains("DeleteRequest");
      if (!(put || del) || !r.begin()->is_object()) {
        return Status::InvalidArgument(
            where +
            R"(: each request is {"PutRequest":{"Item":...}} or {"DeleteRequest":{"Key":...}})");
      }
      WriteRequest w;
      w.put = put;
      const json& body = *r.begin();
      s = OnlyMembers(where, body, {put ? "Item" : "Key"});
      if (s.ok()) s = ItemMember(where, body, put ? "Item" : "Key", &w.item, true);
      if (!s.ok()) return s;
      request->request_items[table].push_back(std::move(w));
    }
  }
  return Status::OK();
}

namespace {

Status ParseTransactWriteAction(const std::string& where, const std::string& kind, const json& b,
                                TransactWriteItem* t) {
  using Kind = TransactWriteItem::Kind;
  if (kind == "Put") {
    t->kind = Kind::kPut;
  } else if (kind == "Update") {
    t->kind = Kind::kUpdate;
  } else if (kind == "Delete") {
    t->kind = Kind::kDelete;
  } else if (kind == "ConditionCheck") {
    t->kind = Kind::kConditionCheck;
  } else {
    return Status::InvalidArgument(
        where + ": expected Put, Update, Delete or ConditionCheck, got '" + kind + "'");
  }
  if (!b.is_object()) return Status::InvalidArgument(where + "." + kind + ": expected an object");
  const std::string w = where + "." + kind;
  Status s = OnlyMembers(w, b,
                         {"TableName", "Item", "Key", "UpdateExpression", "ConditionExpression",
                          "ExpressionAttributeNames", "ExpressionAttributeValues",
                          "ReturnValuesOnConditionCheckFailure"});
  if (s.ok()) s = Str(w, b, "TableName", &t->table_name, true);
  if (s.ok()) s = ItemMember(w, b, "Item", &t->item, t->kind == Kind::kPut);
  if (s.ok()) s = ItemMember(w, b, "Key", &t->key, t->kind != Kind::kPut);
  if (s.ok()) s = Str(w, b, "UpdateExpression", &t->update_expression, t->kind == Kind::kUpdate);
  if (s.ok()) {
    s = Str(w, b, "ConditionExpression", &t->condition_expression,
            t->kind == Kind::kConditionCheck);
  }
  if (s.ok()) s = ExpressionMembers(w, b, t);
  std::string on_failure;
  if (s.ok()) s = Str(w, b, "ReturnValuesOnConditionCheckFailure", &on_failure);
  if (s.ok() && !on_failure.empty()) {
    s = ParseReturnOnFailureArg(w + ".ReturnValuesOnConditionCheckFailure", on_failure,
                                &t->return_old_on_condition_failure);
  }
  return s;
}

}  // namespace

Status ParseTransactWriteArg(std::string_view text, std::vector<TransactWriteItem>* items) {
  const std::string flag = "--transact-items";
  json j;
  Status s = ParseJson(flag, text, &j);
  if (!s.ok()) return s;
  if (!j.is_array() || j.empty()) {
    return Status::InvalidArgument(flag + R"(: expected [{"Put":{...}}, {"Update":{...}}, ...])");
  }
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string where = flag + "[" + std::to_string(i) + "]";
    if (!j[i].is_object() || j[i].size() != 1) {
      return Status::InvalidArgument(where +
                                     ": expected one of Put, Update, Delete, "
                                     "ConditionCheck");
    }
    TransactWriteItem t;
    s = ParseTransactWriteAction(where, j[i].begin().key(), j[i].begin().value(), &t);
    if (!s.ok()) return s;
    items->push_back(std::move(t));
  }
  return Status::OK();
}

Status ParseTransactGetArg(std::string_view text, TransactGetItemsRequest* request) {
  const std::string flag = "--transact-items";
  json j;
  Status s = ParseJson(flag, text, &j);
  if (!s.ok()) return s;
  if (!j.is_array() || j.empty()) {
    return Status::InvalidArgument(flag + R"(: expected [{"Get":{"TableName":...,"Key":...}}])");
  }
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string where = flag + "[" + std::to_string(i) + "].Get";
    if (!j[i].is_object() || j[i].size() != 1 || !j[i].contains("Get") ||
        !j[i]["Get"].is_object()) {
      return Status::InvalidArgument(flag + "[" + std::to_string(i) +
                                     R"(]: expected {"Get":{...}})");
    }
    const json& g = j[i]["Get"];
    TransactGetItem t;
    s = OnlyMembers(where, g,
                    {"TableName", "Key", "ProjectionExpression", "ExpressionAttributeNames"});
    if (s.ok()) s = Str(where, g, "TableName", &t.table_name, true);
    if (s.ok()) s = ItemMember(where, g, "Key", &t.key, true);
    if (s.ok()) s = Str(where, g, "ProjectionExpression", &t.projection_expression);
    if (s.ok()) s = ExpressionMembers(where, g, &t);
    if (!s.ok()) return s;
    request->transact_items.push_back(std::move(t));
  }
  return Status::OK();
}

ojson ItemJson(const Item& item) { return ojson::parse(ItemToJson(item)); }

ojson KeysAndAttributesJson(const KeysAndAttributes& k) {
  ojson j;
  ojson keys = ojson::array();
  for (const Item& key : k.keys) keys.push_back(ItemJson(key));
  j["Keys"] = std::move(keys);
  if (!k.projection_expression.empty()) j["ProjectionExpression"] = k.projection_expression;
  if (!k.expression_attribute_names.empty()) {
    j["ExpressionAttributeNames"] = k.expression_attribute_names;
  }
  if (k.consistent_read) j["ConsistentRead"] = true;
  return j;
}

ojson WriteRequestsJson(const std::map<std::string, std::vector<WriteRequest>>& requests) {
  ojson out = ojson::object();
  for (const auto& [table, list] : requests) {
    ojson l = ojson::array();
    for (const WriteRequest& w : list) {
      l.push_back(w.put ? ojson{{"PutRequest", {{"Item", ItemJson(w.item)}}}}
                        : ojson{{"DeleteRequest", {{"Key", ItemJson(w.item)}}}});
    }
    out[table] = std::move(l);
  }
  return out;
}

ojson CancellationReasonsJson(const std::vector<CancellationReason>& reasons) {
  ojson list = ojson::array();
  for (const CancellationReason& r : reasons) {
    ojson j;
    if (r.item) j["Item"] = ItemJson(*r.item);
    j["Code"] = r.code;
    if (r.code != "None" && !r.message.empty()) j["Message"] = r.message;
    list.push_back(std::move(j));
  }
  return ojson{{"CancellationReasons", std::move(list)}};
}

std::string CancellationMessage(const std::vector<CancellationReason>& reasons) {
  std::string codes;
  for (const CancellationReason& r : reasons) codes += (codes.empty() ? "" : ", ") + r.code;
  return "Transaction cancelled, please refer cancellation reasons for specific reasons [" + codes +
         "]";
}

}  // namespace runnel::cli
