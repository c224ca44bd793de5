// Copyright 2026 The runnel Authors.

#include "triggers/item_calls.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "db/items/expression.h"
#include "db/items/item_codec.h"
#include "db/items/key_codec.h"
#include "db/items/table_shape.h"
#include "db/items/value.h"
#include "db/record_json.h"
#include "triggers/event_json.h"
#include "triggers/invocation.h"

namespace runnel {
namespace {

using items::KeyShape;

Invocation* Self(runnel_context* ctx) { return reinterpret_cast<Invocation*>(ctx); }

std::string_view View(const char* p, size_t n) {
  return p == nullptr ? std::string_view() : std::string_view(p, n);
}

Status Prefixed(std::string_view what, const Status& s) {
  if (s.ok()) return s;
  return Status::InvalidArgument(std::string(what) + ": " + s.message());
}

// The key shape of the live typed table `name`.
Status TypedTable(const Invocation& inv, std::string_view name, KeyShape* shape) {
  if (inv.db == nullptr) return Status::NotSupported("item calls need a DB");
  const auto cat = inv.db->CurrentCatalog();
  const log::TableEntryData* t = cat->FindLive(name);
  if (t == nullptr) {
    return Status::NotFound("Requested resource not found: table '" + std::string(name) +
                            "' does not exist");
  }
  if (!t->typed()) {
    return Status::InvalidArgument("table '" + std::string(name) +
                                   "' is a byte table (no key schema): write it with put and del");
  }
  *shape = items::ShapeOf(*t);
  return Status::OK();
}

// A Key parameter: exactly the key attributes, normalized and encoded.
Status ParseKey(const KeyShape& shape, std::string_view json, Item* key, std::string* encoded) {
  Status s = ItemFromJson(json, key);
  if (s.ok()) s = items::NormalizeItem(key);
  if (s.ok()) s = items::EncodeItemKey(shape, *key, /*exact=*/true, encoded);
  return Prefixed("Key", s);
}

// ExpressionAttributeNames {"#n":"name"} and ExpressionAttributeValues
// {":v":{"N":"1"}}; empty JSON is none.
Status ParseParameters(std::string_view names_json, std::string_view values_json,
                       AttributeNames* names, Item* values) {
  if (!names_json.empty()) {
    auto j = nlohmann::json::parse(names_json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Status::InvalidArgument(
          "ExpressionAttributeNames: expected a JSON object {\"#name\":\"attribute\"}");
    }
    for (const auto& [k, v] : j.items()) {
      if (!v.is_string()) {
        return Status::InvalidArgument("ExpressionAttributeNames: " + k + " must name a string");
      }
      (*names)[k] = v.get<std::string>();
    }
  }
  if (values_json.empty()) return Status::OK();
  Status s = ItemFromJson(values_json, values);
  for (auto it = values->begin(); s.ok() && it != values->end(); ++it) {
    s = items::NormalizeValue(it->first, &it->second);
  }
  return Prefixed("ExpressionAttributeValues", s);
}

// A parsed update expression with what its parse refers to (the context
// keeps references to the names and values).
struct ParsedUpdate {
  AttributeNames names;
  Item values;
  std::unique_ptr<items::ExpressionContext> context;
  std::shared_ptr<const items::Update> update;
};

Status ParseUpdate(const KeyShape& shape, std::string_view expression,
                   std::shared_ptr<ParsedUpdate> u) {
  u->context = std::make_unique<items::ExpressionContext>(u->names, u->values);
  Status s = u->context->ParseUpdate(expression, &u->update);
  if (s.ok()) s = u->context->CheckAllUsed();
  if (!s.ok()) return s;
  for (const std::string& name : u->update->TopLevelNames()) {
    if (name == shape.hash_name || (shape.has_range() && name == shape.range_name)) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: Cannot update attribute " + name +
          ". This attribute is part of the key");
    }
  }
  return Status::OK();
}

// The update applied to `current` (a missing item starts as its key, as
// UpdateItem creates it), checked against the model's limits.
Status ApplyUpdate(const ParsedUpdate& u, const KeyShape& shape, std::string_view encoded_key,
                   const std::optional<Item>& current, Item* out) {
  Status s;
  if (current.has_value()) {
    *out = *current;
  } else {
    out->clear();
    s = items::DecodeItemKey(shape, encoded_key, out);
  }
  std::set<std::string> updated;
  if (s.ok()) s = u.update->Apply(out, &updated);
  if (s.ok()) s = items::NormalizeItem(out);
  return s;
}

ItemMutation PutMutation(const std::string& table, const std::string& key, const Item& item) {
  auto encoded = std::make_shared<std::string>();
  items::EncodeItem(item, encoded.get());
  return {table, key, [encoded](std::optional<std::string_view>, std::optional<std::string>* next) {
            *next = *encoded;
            return Status::OK();
          }};
}

ItemMutation DeleteMutation(const std::string& table, const std::string& key) {
  return {table, key, [](std::optional<std::string_view>, std::optional<std::string>* next) {
            next->reset();
            return Status::OK();
          }};
}

// The update runs again at commit, on the item as it is then: an ADD
// counts from the committed value, not from what the handler saw.
ItemMutation UpdateMutation(const std::string& table, const std::string& key, const KeyShape& shape,
                            std::shared_ptr<const ParsedUpdate> u) {
  return {
      table, key,
      [u, shape, key](std::optional<std::string_view> current, std::optional<std::string>* next) {
        std::optional<Item> before;
        if (current.has_value()) {
          before.emplace();
          Status s = items::DecodeItem(*current, &*before);
          if (!s.ok()) return s;
        }
        Item after;
        Status s = ApplyUpdate(*u, shape, key, before, &after);
        if (!s.ok()) return s;
        std::string encoded;
        items::EncodeItem(after, &encoded);
        *next = std::move(encoded);
        return Status::OK();
      }};
}

int ResultCode(const Status& s) {
  if (s.ok()) return RUNNEL_ITEM_OK;
  if (s.IsNotFound()) return RUNNEL_ITEM_NO_SUCH_TABLE;
  if (s.IsInvalidArgument() || s.IsFailedPrecondition()) return RUNNEL_ITEM_INVALID;
  return RUNNEL_ITEM_ERROR;
}

}  // namespace

std::vector<ItemMutation> ItemCalls::Mutations() const {
  std::vector<ItemMutation> out;
  out.reserve(writes_.size());
  for (const ItemWrite& w : writes_) out.push_back(w.mutation);
  return out;
}

Status ItemCalls::Replay(DB* db) const {
  for (const ItemWrite& w : writes_) {
    WriteItemResult r;
    Status s;
    if (w.kind == ItemWrite::Kind::kPut) {
      PutItemRequest q;
      q.table_name = w.table;
      q.item = w.item;
      q.sync = true;
      s = db->PutItem(q, &r);
    } else if (w.kind == ItemWrite::Kind::kDelete) {
      DeleteItemRequest q;
      q.table_name = w.table;
      q.key = w.item;
      q.sync = true;
      s = db->DeleteItem(q, &r);
    } else {
      UpdateItemRequest q;
      q.table_name = w.table;
      q.key = w.item;
      q.update_expression = w.update_expression;
      q.expression_attribute_names = w.names;
      q.expression_attribute_values = w.values;
      q.sync = true;
      s = db->UpdateItem(q, &r);
    }
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status ItemCalls::Current(Invocation* inv, const std::string& table, const Item& key,
                          const std::string& encoded_key, std::optional<Item>* item) {
  const auto it = overlay_.find({table, encoded_key});
  if (it != overlay_.end()) {
    *item = it->second;
    return Status::OK();
  }
  GetItemRequest q;
  q.table_name = table;
  q.key = key;
  GetItemResult r;
  Status s = inv->db->GetItem(ReadOptions(), q, &r);
  if (s.ok()) *item = std::move(r.item);
  return s;
}

void ItemCalls::Add(ItemWrite write, const std::string& encoded_key, std::optional<Item> after) {
  overlay_[{write.table, encoded_key}] = std::move(after);
  writes_.push_back(std::move(write));
}

int ItemCalls::Finish(Invocation* inv, std::string_view call, const Status& s) {
  if (s.ok()) {
    last_error_.clear();
    return RUNNEL_ITEM_OK;
  }
  last_error_ = s.message();
  inv->LogLine("runnel: " + std::string(call) + " rejected: " + s.ToString());
  return ResultCode(s);
}

void ItemCalls::Render(Invocation* inv, size_t index) {
  if (rendered_.size() < inv->batch->count) rendered_.resize(inv->batch->count);
  Rendered& r = rendered_[index];
  if (r.done) return;
  r.done = true;
  const ChangeRecord c =
      inv->changes != nullptr ? inv->changes[index] : ChangeFromAbi(inv->batch->records[index]);
  const char* arn = inv->batch->event_source_arn;
  const nlohmann::ordered_json j = runnel::RecordJson(c, arn != nullptr ? arn : "", inv->region);
  r.parts[RUNNEL_RECORD_EVENT] = j.dump();
  r.present[RUNNEL_RECORD_EVENT] = true;
  const auto d = j.find("dynamodb");
  if (d == j.end()) return;
  r.parts[RUNNEL_RECORD_DYNAMODB] = d->dump();
  r.present[RUNNEL_RECORD_DYNAMODB] = true;
  const std::pair<int, const char*> members[] = {{RUNNEL_RECORD_KEYS, "Keys"},
                                                 {RUNNEL_RECORD_NEW_IMAGE, "NewImage"},
                                                 {RUNNEL_RECORD_OLD_IMAGE, "OldImage"}};
  for (const auto& [part, name] : members) {
    const auto m = d->find(name);
    if (m == d->end()) continue;
    r.parts[part] = m->dump();
    r.present[part] = true;
  }
}

const char* ItemCalls::RecordJson(runnel_context* ctx, const runnel_record* record, int32_t part,
                                  size_t* len) {
  Invocation* inv = Self(ctx);
  if (len != nullptr) *len = 0;
  const runnel_batch* b = inv->batch;
  if (b == nullptr || record == nullptr || part < RUNNEL_RECORD_EVENT ||
      part > RUNNEL_RECORD_OLD_IMAGE) {
    return nullptr;
  }
  // Compared as integers: a pointer from elsewhere is no error here.
  const auto p = reinterpret_cast<uintptr_t>(record);
  const auto first = reinterpret_cast<uintptr_t>(b->records);
  if (p < first || p >= first + b->count * sizeof(runnel_record) ||
      (p - first) % sizeof(runnel_record) != 0) {
    return nullptr;
  }
  const size_t index = (p - first) / sizeof(runnel_record);
  ItemCalls& calls = inv->items;
  calls.Render(inv, index);
  const Rendered& r = calls.rendered_[index];
  if (!r.present[part]) return nullptr;
  if (len != nullptr) *len = r.parts[part].size();
  return r.parts[part].c_str();
}

int ItemCalls::GetItem(runnel_context* ctx, const char* table, size_t table_len,
                       const char* key_json, size_t key_json_len, const char** item_json,
                       size_t* item_json_len) {
  Invocation* inv = Self(ctx);
  ItemCalls& calls = inv->items;
  if (item_json != nullptr) *item_json = nullptr;
  if (item_json_len != nullptr) *item_json_len = 0;
  const std::string t(View(table, table_len));
  KeyShape shape;
  Item key;
  std::string encoded;
  std::optional<Item> item;
  Status s = TypedTable(*inv, t, &shape);
  if (s.ok()) s = ParseKey(shape, View(key_json, key_json_len), &key, &encoded);
  if (s.ok()) s = calls.Current(inv, t, key, encoded, &item);
  const int rc = calls.Finish(inv, "get_item", s);
  if (rc != RUNNEL_ITEM_OK) return rc;
  if (!item.has_value()) return RUNNEL_ITEM_NOT_FOUND;
  const std::string& json = calls.results_.emplace_back(ItemToJson(*item));
  if (item_json != nullptr) *item_json = json.c_str();
  if (item_json_len != nullptr) *item_json_len = json.size();
  return RUNNEL_ITEM_OK;
}

int ItemCalls::PutItem(runnel_context* ctx, const char* table, size_t table_len,
                       const char* item_json, size_t item_json_len) {
  Invocation* inv = Self(ctx);
  ItemWrite w;
  w.kind = ItemWrite::Kind::kPut;
  w.table = std::string(View(table, table_len));
  KeyShape shape;
  std::string encoded;
  Status s = TypedTable(*inv, w.table, &shape);
  if (s.ok()) s = Prefixed("Item", ItemFromJson(View(item_json, item_json_len), &w.item));
  if (s.ok()) s = Prefixed("Item", items::NormalizeItem(&w.item));
  if (s.ok()) s = Prefixed("Item", items::EncodeItemKey(shape, w.item, false, &encoded));
  if (s.ok()) {
    w.mutation = PutMutation(w.table, encoded, w.item);
    Item after = w.item;
    inv->items.Add(std::move(w), encoded, std::move(after));
  }
  return inv->items.Finish(inv, "put_item", s);
}

int ItemCalls::DeleteItem(runnel_context* ctx, const char* table, size_t table_len,
                          const char* key_json, size_t key_json_len) {
  Invocation* inv = Self(ctx);
  ItemWrite w;
  w.kind = ItemWrite::Kind::kDelete;
  w.table = std::string(View(table, table_len));
  KeyShape shape;
  std::string encoded;
  Status s = TypedTable(*inv, w.table, &shape);
  if (s.ok()) s = ParseKey(shape, View(key_json, key_json_len), &w.item, &encoded);
  if (s.ok()) {
    w.mutation = DeleteMutation(w.table, encoded);
    inv->items.Add(std::move(w), encoded, std::nullopt);
  }
  return inv->items.Finish(inv, "delete_item", s);
}

int ItemCalls::UpdateItem(runnel_context* ctx, const char* table, size_t table_len,
                          const char* key_json, size_t key_json_len, const char* update_expression,
                          size_t update_expression_len, const char* names_json,
                          size_t names_json_len, const char* values_json, size_t values_json_len) {
  Invocation* inv = Self(ctx);
  ItemCalls& calls = inv->items;
  ItemWrite w;
  w.kind = ItemWrite::Kind::kUpdate;
  w.table = std::string(View(table, table_len));
  w.update_expression = std::string(View(update_expression, update_expression_len));
  KeyShape shape;
  std::string encoded;
  auto u = std::make_shared<ParsedUpdate>();
  Status s = TypedTable(*inv, w.table, &shape);
  if (s.ok()) s = ParseKey(shape, View(key_json, key_json_len), &w.item, &encoded);
  if (s.ok()) {
    s = ParseParameters(View(names_json, names_json_len), View(values_json, values_json_len),
                        &u->names, &u->values);
  }
  if (s.ok()) s = ParseUpdate(shape, w.update_expression, u);
  // Applied now to what the handler sees, so that an update the commit
  // would refuse is refused at the call, and get_item reads its result.
  std::optional<Item> before;
  Item after;
  if (s.ok()) s = calls.Current(inv, w.table, w.item, encoded, &before);
  if (s.ok()) s = ApplyUpdate(*u, shape, encoded, before, &after);
  if (s.ok()) {
    w.names = u->names;
    w.values = u->values;
    w.mutation = UpdateMutation(w.table, encoded, shape, u);
    calls.Add(std::move(w), encoded, std::move(after));
  }
  return calls.Finish(inv, "update_item", s);
}

void ItemCalls::NoteByteWrite(std::string_view table, std::string_view key,
                              std::optional<std::string_view> value) {
  auto& slot = byte_overlay_[{std::string(table), std::string(key)}];
  if (value.has_value()) {
    slot.emplace(*value);
  } else {
    slot.reset();
  }
}

namespace {

// The live byte table `name`, and a key it can hold.
Status ByteTableKey(const Invocation& inv, std::string_view name, std::string_view key) {
  if (inv.db == nullptr) return Status::NotSupported("get needs a DB");
  const auto cat = inv.db->CurrentCatalog();
  const log::TableEntryData* t = cat->FindLive(name);
  if (t == nullptr) {
    return Status::NotFound("Requested resource not found: table '" + std::string(name) +
                            "' does not exist");
  }
  if (t->typed()) {
    return Status::InvalidArgument("table '" + std::string(name) +
                                   "' is a typed table: read it with get_item");
  }
  if (key.size() < kMinKeyBytes || key.size() > kMaxKeyBytes) {
    return Status::InvalidArgument("key: must be 1 to 4096 bytes, got " +
                                   std::to_string(key.size()));
  }
  return Status::OK();
}

}  // namespace

int ItemCalls::Get(runnel_context* ctx, const char* table, size_t table_len, const char* key,
                   size_t key_len, const char** value, size_t* value_len) {
  Invocation* inv = Self(ctx);
  ItemCalls& calls = inv->items;
  if (value != nullptr) *value = nullptr;
  if (value_len != nullptr) *value_len = 0;
  const std::string_view t = View(table, table_len), k = View(key, key_len);
  Status s = ByteTableKey(*inv, t, k);
  std::optional<std::string> found;
  if (s.ok()) {
    const auto it = calls.byte_overlay_.find({std::string(t), std::string(k)});
    if (it != calls.byte_overlay_.end()) {
      found = it->second;
    } else {
      std::string v;
      s = inv->db->Get(ReadOptions(), t, k, &v);
      if (s.ok()) found = std::move(v);
      // The table was checked live: NotFound is the key's absence (or a
      // table deleted since, which reads as empty).
      if (s.IsNotFound()) s = Status::OK();
    }
  }
  const int rc = calls.Finish(inv, "get", s);
  if (rc != RUNNEL_ITEM_OK) return rc;
  if (!found.has_value()) return RUNNEL_ITEM_NOT_FOUND;
  const std::string& kept = calls.results_.emplace_back(std::move(*found));
  if (value != nullptr) *value = kept.data();
  if (value_len != nullptr) *value_len = kept.size();
  return RUNNEL_ITEM_OK;
}

const char* ItemCalls::LastError(runnel_context* ctx, size_t* len) {
  const std::string& e = Self(ctx)->items.last_error_;
  if (len != nullptr) *len = e.size();
  return e.c_str();
}

}  // namespace runnel
