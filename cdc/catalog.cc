// Copyright 2026 The runnel Authors.

#include "cdc/catalog.h"

#include <algorithm>

#include "cdc/arn.h"
#include "util/time.h"

namespace runnel {

Catalog::Catalog(log::CatalogData data) : data_(std::move(data)) {
  for (size_t i = 0; i < data_.tables.size(); ++i) {
    const log::TableEntryData& t = data_.tables[i];
    by_id_[t.id] = i;
    if (t.deleted_seq == 0) live_by_name_[t.name] = i;
  }
}

const log::TableEntryData* Catalog::FindLive(std::string_view name) const {
  auto it = live_by_name_.find(name);
  return it == live_by_name_.end() ? nullptr : &data_.tables[it->second];
}

const log::FunctionEntryData* Catalog::FindFunction(std::string_view name) const {
  for (const auto& f : data_.functions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const log::MappingEntryData* Catalog::FindMapping(std::string_view uuid) const {
  for (const auto& m : data_.mappings) {
    if (m.uuid == uuid) return &m;
  }
  return nullptr;
}

const log::TableEntryData* Catalog::FindById(uint32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &data_.tables[it->second];
}

log::View Catalog::CurrentView(const log::TableEntryData& table) {
  if (table.streams.empty() || table.streams.back().end_seq != 0) {
    return log::View::kNone;
  }
  return table.streams.back().view;
}

std::shared_ptr<const Catalog> Catalog::Apply(const log::MetaData& meta, uint64_t seq) const {
  log::CatalogData next = data_;
  auto find = [&next](uint32_t id) -> log::TableEntryData* {
    for (auto& t : next.tables) {
      if (t.id == id) return &t;
    }
    return nullptr;
  };
  switch (meta.kind) {
    case log::MetaData::Kind::kCreateTable:
      next.tables.push_back(meta.table);
      if (meta.table.id >= next.next_table_id) {
        next.next_table_id = meta.table.id + 1;
      }
      break;
    case log::MetaData::Kind::kDeleteTable:
      if (auto* t = find(meta.table_id)) {
        t->deleted_seq = seq;
        if (!t->streams.empty() && t->streams.back().end_seq == 0) {
          t->streams.back().end_seq = seq - 1;
        }
      }
      break;
    case log::MetaData::Kind::kUpdateStream:
      if (auto* t = find(meta.table_id)) {
        if (meta.view == log::View::kNone) {
          if (!t->streams.empty() && t->streams.back().end_seq == 0) {
            t->streams.back().end_seq = seq - 1;
          }
        } else {
          log::StreamEntryData s;
          s.label = meta.label;
          s.view = meta.view;
          s.creation_time_micros = meta.commit_time_micros;
          s.start_seq = seq + 1;
          t->streams.push_back(std::move(s));
        }
      }
      break;
    case log::MetaData::Kind::kPutFunction: {
      auto it = std::find_if(next.functions.begin(), next.functions.end(),
                             [&](const auto& f) { return f.name == meta.function.name; });
      if (it != next.functions.end()) {
        *it = meta.function;
      } else {
        next.functions.push_back(meta.function);
      }
      break;
    }
    case log::MetaData::Kind::kDeleteFunction:
      std::erase_if(next.functions, [&](const auto& f) { return f.name == meta.function_name; });
      break;
    case log::MetaData::Kind::kPutMapping: {
      auto it = std::find_if(next.mappings.begin(), next.mappings.end(),
                             [&](const auto& m) { return m.id == meta.mapping.id; });
      if (it != next.mappings.end()) {
        *it = meta.mapping;
      } else {
        next.mappings.push_back(meta.mapping);
      }
      next.next_mapping_id = std::max(next.next_mapping_id, meta.mapping.id + 1);
      break;
    }
    case log::MetaData::Kind::kDeleteMapping:
      std::erase_if(next.mappings, [&](const auto& m) { return m.id == meta.mapping_id; });
      break;
    case log::MetaData::Kind::kUpdateTimeToLive:
      if (auto* t = find(meta.table_id)) {
        t->ttl_enabled = meta.ttl_enabled;
        t->ttl_attribute = meta.ttl_attribute;
      }
      break;
  }
  return std::make_shared<const Catalog>(std::move(next));
}

StreamInfo Catalog::MakeStreamInfo(const std::string& region, const std::string& account,
                                   const log::TableEntryData& table,
                                   const log::StreamEntryData& stream) {
  StreamInfo info;
  info.table_name = table.name;
  info.label = stream.label;
  info.arn = arn::Stream(region, account, table.name, stream.label);
  info.view_type = log::ToStreamViewType(stream.view);
  info.creation_time_micros = stream.creation_time_micros;
  info.starting_sequence = stream.start_seq;
  info.ending_sequence = stream.end_seq;
  return info;
}

Status ValidateTableName(std::string_view name) {
  if (name.size() < kMinTableNameBytes || name.size() > kMaxTableNameBytes) {
    return Status::InvalidArgument("table name: must be 3 to 255 characters long, got " +
                                   std::to_string(name.size()));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) {
      return Status::InvalidArgument("table name: only [A-Za-z0-9_.-] allowed, got '" +
                                     std::string(name) + "'");
    }
  }
  return Status::OK();
}

std::string StreamLabel(int64_t micros) { return IsoMillis(micros); }

}  // namespace runnel
