// Copyright 2026 The runnel Authors.
//
// ItemCalls: the typed-item services of the plugin ABI (runnel/function.h,
// version 2) for one invocation: a record's typed images as the cloud's
// JSON, item reads that see the invocation's own write-backs, and item
// write-backs validated at the call and committed later with the mapping's
// checkpoint (ItemMutation, db/db_internal.h). Also the reads of byte tables
// (version 3), which see the invocation's own byte write-backs.
//
// Thread safety: an invocation runs on one thread; so does its ItemCalls.

#ifndef RUNNEL_TRIGGERS_ITEM_CALLS_H_
#define RUNNEL_TRIGGERS_ITEM_CALLS_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "db/db_internal.h"
#include "runnel/function.h"
#include "runnel/item.h"

namespace runnel {

struct Invocation;

// One item write-back of a handler, as the handler asked for it.
struct ItemWrite {
  enum class Kind : uint8_t { kPut, kDelete, kUpdate };
  Kind kind = Kind::kPut;
  std::string table;
  Item item;  // kPut: the item (normalized); kDelete, kUpdate: the key
  std::string update_expression;
  AttributeNames names;
  Item values;
  // What the commit leader runs against the item as it is at commit time.
  ItemMutation mutation;
};

class ItemCalls {
 public:
  // The write-backs, in call order.
  const std::vector<ItemWrite>& writes() const { return writes_; }
  // Their mutations, in call order (for DBInternal::CommitCheckpoint).
  std::vector<ItemMutation> Mutations() const;
  // Applies the write-backs one by one with the DB's item operations, in
  // call order (Invoke, which has no checkpoint to commit them with; each is
  // then durable at once, as a handler's call is in the cloud). Stops at
  // the first error and returns it.
  Status Replay(DB* db) const;

  // The C ABI entry points (runnel_context_api); `ctx` is an Invocation's.
  static const char* RecordJson(runnel_context* ctx, const runnel_record* record, int32_t part,
                                size_t* len);
  static int GetItem(runnel_context* ctx, const char* table, size_t table_len, const char* key_json,
                     size_t key_json_len, const char** item_json, size_t* item_json_len);
  static int PutItem(runnel_context* ctx, const char* table, size_t table_len,
                     const char* item_json, size_t item_json_len);
  static int DeleteItem(runnel_context* ctx, const char* table, size_t table_len,
                        const char* key_json, size_t key_json_len);
  static int UpdateItem(runnel_context* ctx, const char* table, size_t table_len,
                        const char* key_json, size_t key_json_len, const char* update_expression,
                        size_t update_expression_len, const char* names_json, size_t names_json_len,
                        const char* values_json, size_t values_json_len);
  static const char* LastError(runnel_context* ctx, size_t* len);
  // ABI 3: a byte table's value, this invocation's put and del applied.
  static int Get(runnel_context* ctx, const char* table, size_t table_len, const char* key,
                 size_t key_len, const char** value, size_t* value_len);

  // Notes an accepted byte write-back for Get: a put's value, or nullopt
  // for a del. The writes themselves go to the Invocation's WriteBatch.
  void NoteByteWrite(std::string_view table, std::string_view key,
                     std::optional<std::string_view> value);

 private:
  // The five parts of one record's JSON (runnel_record_part), rendered
  // together on first use.
  struct Rendered {
    bool done = false;
    std::string parts[5];
    bool present[5] = {};
  };

  std::vector<ItemWrite> writes_;
  // The items as this invocation's writes left them, by (table, encoded
  // key); nullopt: deleted.
  std::map<std::pair<std::string, std::string>, std::optional<Item>> overlay_;
  // Byte tables: the values as this invocation's put and del left them, by
  // (table, key); nullopt: deleted.
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> byte_overlay_;
  std::string last_error_;
  // get_item and get results, kept for the rest of the call.
  std::deque<std::string> results_;
  std::vector<Rendered> rendered_;

  // The item as this invocation sees it: its own writes over the DB.
  Status Current(Invocation* inv, const std::string& table, const Item& key,
                 const std::string& encoded_key, std::optional<Item>* item);
  // Records a write-back and its effect on the overlay.
  void Add(ItemWrite write, const std::string& encoded_key, std::optional<Item> after);
  // Ends an item call: clears or sets last_error (and logs it); the ABI
  // result for `s`.
  int Finish(Invocation* inv, std::string_view call, const Status& s);
  void Render(Invocation* inv, size_t index);
};

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_ITEM_CALLS_H_
