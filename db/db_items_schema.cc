// Copyright 2026 The runnel Authors.
//
// Typed tables in the catalog: CreateTable with a key schema and
// UpdateTimeToLive, validated as the cloud validates them (its
// ValidationException messages), committed as metadata frames.

#include <set>
#include <string>

#include "db/db_impl.h"

namespace runnel {
namespace {

constexpr size_t kMaxAttributeNameBytes = 255;

Status CheckAttributeName(std::string_view name, const std::string& where) {
  if (name.empty()) {
    return Status::InvalidArgument("1 validation error detected: Value '' at '" + where +
                                   "' failed to satisfy constraint: Member must have length "
                                   "greater than or equal to 1");
  }
  if (name.size() > kMaxAttributeNameBytes) {
    return Status::InvalidArgument("1 validation error detected: Value at '" + where +
                                   "' failed to satisfy constraint: Member must have length "
                                   "less than or equal to 255");
  }
  return Status::OK();
}

Status CheckKeySchema(const TableSchema& schema) {
  const auto& ks = schema.key_schema;
  if (ks.size() > 2) {
    return Status::InvalidArgument(
        "1 validation error detected: Value at 'keySchema' failed to satisfy constraint: Member "
        "must have length less than or equal to 2");
  }
  for (size_t i = 0; i < ks.size(); ++i) {
    const std::string where = "keySchema." + std::to_string(i + 1) + ".member.attributeName";
    Status s = CheckAttributeName(ks[i].attribute_name, where);
    if (!s.ok()) return s;
    const auto type = static_cast<uint8_t>(ks[i].key_type);
    if (type != 1 && type != 2) {
      return Status::InvalidArgument("1 validation error detected: Value at 'keySchema." +
                                     std::to_string(i + 1) +
                                     ".member.keyType' failed to satisfy constraint: Member must "
                                     "satisfy enum value set: [HASH, RANGE]");
    }
  }
  if (ks[0].key_type != KeyType::kHash) {
    return Status::InvalidArgument(
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  }
  if (ks.size() == 2) {
    if (ks[1].key_type != KeyType::kRange) {
      return Status::InvalidArgument(
          "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
    }
    if (ks[0].attribute_name == ks[1].attribute_name) {
      return Status::InvalidArgument(
          "Invalid KeySchema: Both the Hash Key and the Range Key element in the KeySchema have "
          "the same name");
    }
  }
  return Status::OK();
}

// Attribute definitions: exactly the key attributes, each once, of type S,
// N or B.
Status CheckDefinitions(const TableSchema& schema) {
  const auto& defs = schema.attribute_definitions;
  std::set<std::string> defined;
  for (size_t i = 0; i < defs.size(); ++i) {
    const std::string where =
        "attributeDefinitions." + std::to_string(i + 1) + ".member.attributeName";
    Status s = CheckAttributeName(defs[i].attribute_name, where);
    if (!s.ok()) return s;
    const auto type = static_cast<uint8_t>(defs[i].attribute_type);
    if (type < 1 || type > 3) {
      return Status::InvalidArgument(
          "1 validation error detected: Value at 'attributeDefinitions." + std::to_string(i + 1) +
          ".member.attributeType' failed to satisfy constraint: Member "
          "must satisfy enum value set: [B, N, S]");
    }
    if (!defined.insert(defs[i].attribute_name).second) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: Duplicate AttributeName in "
          "AttributeDefinitions: " +
          defs[i].attribute_name);
    }
  }
  std::string keys;
  bool missing = false;
  for (const KeySchemaElement& k : schema.key_schema) {
    keys += (keys.empty() ? "" : ", ") + k.attribute_name;
    if (defined.count(k.attribute_name) == 0) missing = true;
  }
  if (missing) {
    std::string names;
    for (const auto& n : defined) names += (names.empty() ? "" : ", ") + n;
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Some index key attributes are not defined in "
        "AttributeDefinitions. Keys: [" +
        keys + "], AttributeDefinitions: [" + names + "]");
  }
  if (defs.size() != schema.key_schema.size()) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Number of attributes in KeySchema does not "
        "exactly match number of attributes defined in AttributeDefinitions");
  }
  return Status::OK();
}

uint8_t DefinedType(const TableSchema& schema, const std::string& name) {
  for (const AttributeDefinition& d : schema.attribute_definitions) {
    if (d.attribute_name == name) return static_cast<uint8_t>(d.attribute_type);
  }
  return 0;
}

}  // namespace

Status DBImpl::CreateTable(std::string_view name, const StreamSpecification& stream,
                           const TableSchema& schema) {
  if (!schema.typed()) {
    if (!schema.attribute_definitions.empty()) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: AttributeDefinitions without a KeySchema");
    }
    return CreateTable(name, stream);
  }
  Status s = CheckKeySchema(schema);
  if (s.ok()) s = CheckDefinitions(schema);
  if (!s.ok()) return s;
  const std::string table(name);
  return CommitMeta([&](const Catalog& cat, uint64_t seq, int64_t now, log::MetaData* meta) {
    Status st =
        PrepareTableMeta(log::MetaData::Kind::kCreateTable, table, stream, cat, now, seq, meta);
    if (!st.ok()) return st;
    const auto& ks = schema.key_schema;
    meta->table.hash_key_name = ks[0].attribute_name;
    meta->table.hash_key_type = DefinedType(schema, ks[0].attribute_name);
    if (ks.size() == 2) {
      meta->table.range_key_name = ks[1].attribute_name;
      meta->table.range_key_type = DefinedType(schema, ks[1].attribute_name);
    }
    return Status::OK();
  });
}

Status DBImpl::UpdateTimeToLive(std::string_view table, const TimeToLiveSpecification& spec) {
  Status s = CheckOpen();
  if (s.ok()) s = ValidateTableName(table);
  if (s.ok()) {
    s = CheckAttributeName(spec.attribute_name, "timeToLiveSpecification.attributeName");
  }
  if (!s.ok()) return s;
  const std::string name(table);
  return CommitMeta([&](const Catalog& cat, uint64_t, int64_t now, log::MetaData* meta) {
    const log::TableEntryData* t = cat.FindLive(name);
    if (t == nullptr) return Status::NotFound("table '" + name + "' does not exist");
    if (!t->typed()) {
      return Status::FailedPrecondition("table '" + name +
                                        "' is a byte table: time to live needs a key schema");
    }
    if (spec.enabled && t->ttl_enabled) {
      return Status::InvalidArgument("TimeToLive is already enabled");
    }
    if (!spec.enabled && !t->ttl_enabled) {
      return Status::InvalidArgument("TimeToLive is already disabled");
    }
    if (!spec.enabled && t->ttl_attribute != spec.attribute_name) {
      return Status::InvalidArgument(
          "TimeToLive is active on a different AttributeName: current AttributeName is " +
          t->ttl_attribute);
    }
    meta->kind = log::MetaData::Kind::kUpdateTimeToLive;
    meta->commit_time_micros = now;
    meta->table_id = t->id;
    meta->ttl_enabled = spec.enabled;
    meta->ttl_attribute = spec.enabled ? spec.attribute_name : std::string();
    return Status::OK();
  });
}

// The schema and time to live of a table's description (DescribeTable).
void FillTypedDescription(const log::TableEntryData& t, TableDescription* d) {
  if (t.typed()) {
    d->schema.key_schema.push_back({t.hash_key_name, KeyType::kHash});
    d->schema.attribute_definitions.push_back(
        {t.hash_key_name, static_cast<ScalarAttributeType>(t.hash_key_type)});
    if (!t.range_key_name.empty()) {
      d->schema.key_schema.push_back({t.range_key_name, KeyType::kRange});
      d->schema.attribute_definitions.push_back(
          {t.range_key_name, static_cast<ScalarAttributeType>(t.range_key_type)});
    }
  }
  d->time_to_live.enabled = t.ttl_enabled;
  d->time_to_live.attribute_name = t.ttl_attribute;
}

}  // namespace runnel
