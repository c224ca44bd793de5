// Copyright 2026 The runnel Authors.
//
// runnel's objects in the JSON shapes the cloud CLI prints for them.

#ifndef RUNNEL_TOOLS_JSON_SHAPES_H_
#define RUNNEL_TOOLS_JSON_SHAPES_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/db.h"
#include "runnel/stream.h"
#include "runnel/triggers.h"

namespace runnel::cli {

// DynamoDB's TableDescription; `status` is TableStatus ("ACTIVE",
// "DELETING").
nlohmann::ordered_json TableJson(DB& db, const TableDescription& d, const char* status);
// A typed table's KeySchema and AttributeDefinitions, as in
// TableDescription.
nlohmann::ordered_json KeySchemaJson(const TableSchema& schema);
nlohmann::ordered_json AttributeDefinitionsJson(const TableSchema& schema);
// DynamoDB Streams' StreamDescription.
nlohmann::ordered_json StreamDescriptionJson(const StreamDescription& d);
// The region of a stream ARN (the awsRegion of its records); "" if `arn` is
// no stream ARN.
std::string RegionOfArn(std::string_view arn);
// DynamoDB Streams' GetRecords response: {"Records":[...],
// "NextShardIterator"} (no NextShardIterator once a closed stream is read to
// its end), each record as RecordToJson renders it with the stream's region
// as awsRegion. The cloud's GetRecords records carry no eventSourceARN (its
// Lambda events do): `with_event_source_arn` keeps it.
nlohmann::ordered_json GetRecordsJson(const RecordBatch& batch, bool with_event_source_arn);
// Lambda's FunctionConfiguration.
nlohmann::ordered_json FunctionJson(const FunctionConfiguration& f);
// Lambda's EventSourceMappingConfiguration.
nlohmann::ordered_json MappingJson(const EventSourceMappingConfiguration& m);
// runnel's own figures of a mapping, shown beside the cloud's fields as
// "RunnelMetrics" by get-event-source-mapping (the tool and the endpoint):
// counts since the runtime started the mapping (not durable), plus the
// snapshot's progress for StartingPosition SNAPSHOT.
nlohmann::ordered_json MappingMetricsJson(const MappingMetrics& mm, StartingPosition start);
// Lambda's FilterCriteria ({"Filters":[{"Pattern":"..."}]}; {} and
// {"Filters":[]} or null Filters: none) into its patterns, checking only
// the shape (the library checks the patterns). InvalidArgument naming what
// is wrong, as "FilterCriteria...: ...".
Status FilterCriteriaFromJson(const nlohmann::json& criteria, std::vector<std::string>* patterns);

}  // namespace runnel::cli

#endif  // RUNNEL_TOOLS_JSON_SHAPES_H_
