// Copyright 2026 The runnel Authors.
//
// The item commands of typed tables (see runnel/item.h), with the AWS CLI's
// flags and output. put-item, get-item, delete-item, scan and
// batch-write-item also exist for byte tables (tools/cmd_tables.cc): those
// commands add the typed flags below and hand over to them when a typed flag
// is given or the table is typed, so one command name serves both kinds.
// Each Run parses its flags first (a usage error, exit 2, needs no DB) and
// then opens the DB through the context.

#ifndef RUNNEL_TOOLS_ITEMS_CLI_H_
#define RUNNEL_TOOLS_ITEMS_CLI_H_

#include <string>
#include <vector>

#include "tools/cli.h"

namespace CLI {
class Option;
}

namespace runnel::cli {

// True if `table` exists and has a key schema. False for a byte table, and
// when the table cannot be described (the byte command then reports that).
bool IsTypedTable(DB* db, const std::string& table);

// A set of typed-only flags of one command.
class TypedFlags {
 public:
  // True if any of them is on the command line.
  bool requested() const;

 protected:
  CLI::Option* Track(CLI::Option* o) {
    options_.push_back(o);
    return o;
  }

 private:
  std::vector<CLI::Option*> options_;
};

// --expression-attribute-names / --expression-attribute-values.
struct ExpressionFlags {
  std::string names, values;
  // 0 with *in filled, else the exit status (the error printed).
  int Fill(Context& ctx, ExpressionInput* in) const;
};

// The condition flags of put-item, update-item and delete-item.
struct ConditionFlags : ExpressionFlags {
  std::string condition, return_values, on_failure;
};

class TypedPutItem : public TypedFlags {
 public:
  void AddFlags(CLI::App* c);
  int Run(Context& ctx, const std::string& table);

 private:
  std::string item_;
  ConditionFlags f_;
};

// get-item: `key_text` is the --key flag the byte command shares.
class TypedGetItem : public TypedFlags {
 public:
  void AddFlags(CLI::App* c);
  int Run(Context& ctx, const std::string& table, const std::string& key_text);

 private:
  std::string projection_;
  bool consistent_read_ = false;
  ExpressionFlags f_;
};

class TypedDeleteItem : public TypedFlags {
 public:
  void AddFlags(CLI::App* c);
  int Run(Context& ctx, const std::string& table, const std::string& key_text);

 private:
  ConditionFlags f_;
};

// scan: `limit` is the --limit (--max-items) flag the byte command shares.
class TypedScan : public TypedFlags {
 public:
  void AddFlags(CLI::App* c);
  int Run(Context& ctx, const std::string& table, size_t limit);

 private:
  std::string filter_, projection_, exclusive_start_key_, select_;
  uint32_t segment_ = 0, total_segments_ = 0;
  bool consistent_read_ = false;
  ExpressionFlags f_;
};

// batch-write-item --request-items.
class TypedBatchWrite : public TypedFlags {
 public:
  void AddFlags(CLI::App* c);
  int Run(Context& ctx);

 private:
  std::string request_items_;
};

// update-item, query, batch-get-item, transact-write-items,
// transact-get-items, update-time-to-live, describe-time-to-live.
void AddItemCommands(Registry* r);

}  // namespace runnel::cli

#endif  // RUNNEL_TOOLS_ITEMS_CLI_H_
