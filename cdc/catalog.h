// Copyright 2026 The runnel Authors.
//
// Catalog: the tables and their streams, as an immutable snapshot.
//
// Metadata changes are rare, so the DB keeps the catalog copy-on-write: the
// commit leader builds a new Catalog for every metadata frame and swaps a
// shared_ptr; readers take the pointer and never hold a lock while using it.
// Deleted tables stay in the catalog (their streams stay readable, their ids
// are never reused).

#ifndef RUNNEL_CDC_CATALOG_H_
#define RUNNEL_CDC_CATALOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cdc/codec.h"
#include "runnel/db.h"

namespace runnel {

class Catalog {
 public:
  explicit Catalog(log::CatalogData data);
  // The name index holds views into data_: not copyable.
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  const log::CatalogData& data() const { return data_; }
  // A live table by name, or nullptr.
  const log::TableEntryData* FindLive(std::string_view name) const;
  // Any table (deleted ones too) by id, or nullptr.
  const log::TableEntryData* FindById(uint32_t id) const;
  const log::FunctionEntryData* FindFunction(std::string_view name) const;
  const log::MappingEntryData* FindMapping(std::string_view uuid) const;

  // The view of the table's enabled stream, kNone if it has none.
  static log::View CurrentView(const log::TableEntryData& table);

  // A new catalog with `meta` (the frame with sequence `seq`) applied.
  // REQUIRES: the change was validated against this catalog.
  std::shared_ptr<const Catalog> Apply(const log::MetaData& meta, uint64_t seq) const;

  // Public descriptions.
  static StreamInfo MakeStreamInfo(const std::string& region, const std::string& account,
                                   const log::TableEntryData& table,
                                   const log::StreamEntryData& stream);

 private:
  log::CatalogData data_;
  std::unordered_map<std::string_view, size_t> live_by_name_;
  std::unordered_map<uint32_t, size_t> by_id_;
};

// Table name rules (DynamoDB's): InvalidArgument naming the rule otherwise.
Status ValidateTableName(std::string_view name);

// "2026-11-27T13:22:23.291" for a time in microseconds since the epoch.
std::string StreamLabel(int64_t micros);

}  // namespace runnel

#endif  // RUNNEL_CDC_CATALOG_H_
