// Copyright 2026 The runnel Authors.
//
// Typed tables on the command line: the AWS CLI's parameter syntax for
// DynamoDB items, key schemas and request maps, and the JSON the AWS CLI
// prints for the responses.
//
// Parameters are taken as the AWS CLI takes them: JSON (the wire format of
// the parameter), `file://PATH` for a file's text (relative to the caller's
// working directory), and, for the structures that have one, the shorthand
// syntax (`AttributeName=pk,KeyType=HASH`). Every parser returns
// InvalidArgument naming the flag and what is wrong with it; a command turns
// that into a usage error (exit 2).

#ifndef RUNNEL_TOOLS_ITEM_ARGS_H_
#define RUNNEL_TOOLS_ITEM_ARGS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "runnel/item.h"
#include "runnel/status.h"
#include "tools/cli.h"

namespace runnel::cli {

// The text of an argument: `file://PATH` is replaced by the file's contents
// (PATH resolved by ctx.Path), anything else is returned as is. IOError
// naming the flag if the file cannot be read.
Status ResolveArg(const Context& ctx, std::string_view flag, const std::string& text,
                  std::string* out);

// An item or key in DynamoDB JSON ({"pk":{"S":"a"}}).
Status ParseItemArg(std::string_view flag, std::string_view text, Item* item);
// --expression-attribute-names: {"#n":"name"}.
Status ParseNamesArg(std::string_view flag, std::string_view text, AttributeNames* names);
// NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW.
Status ParseReturnValuesArg(std::string_view flag, std::string_view text, ReturnValues* rv);
// ALL_OLD or NONE: true for ALL_OLD.
Status ParseReturnOnFailureArg(std::string_view flag, std::string_view text, bool* all_old);
// ALL_ATTRIBUTES, SPECIFIC_ATTRIBUTES, COUNT.
Status ParseSelectArg(std::string_view flag, std::string_view text, Select* select);

// --key-schema and --attribute-definitions: the words of a list parameter,
// each shorthand (`AttributeName=pk,KeyType=HASH`) or all together one JSON
// array.
Status ParseKeySchemaArg(const std::vector<std::string>& words,
                         std::vector<KeySchemaElement>* schema);
Status ParseAttributeDefinitionsArg(const std::vector<std::string>& words,
                                    std::vector<AttributeDefinition>* defs);
// --time-to-live-specification: Enabled=true,AttributeName=ttl or JSON.
Status ParseTimeToLiveArg(std::string_view text, TimeToLiveSpecification* spec);
// --provisioned-throughput: ReadCapacityUnits=5,WriteCapacityUnits=5 or JSON.
Status ParseProvisionedThroughputArg(std::string_view text, uint64_t* read, uint64_t* write);

// --request-items of batch-get-item and batch-write-item, and
// --transact-items of transact-write-items and transact-get-items, in their
// wire JSON.
Status ParseBatchGetArg(std::string_view text, BatchGetItemRequest* request);
Status ParseBatchWriteArg(std::string_view text, BatchWriteItemRequest* request);
Status ParseTransactWriteArg(std::string_view text, std::vector<TransactWriteItem>* items);
Status ParseTransactGetArg(std::string_view text, TransactGetItemsRequest* request);

// Responses, as the AWS CLI prints them.
nlohmann::ordered_json ItemJson(const Item& item);
nlohmann::ordered_json KeysAndAttributesJson(const KeysAndAttributes& k);
nlohmann::ordered_json WriteRequestsJson(
    const std::map<std::string, std::vector<WriteRequest>>& requests);
// {"CancellationReasons":[{"Code":"None"},{"Code":...,"Message":...,"Item":...}]}.
nlohmann::ordered_json CancellationReasonsJson(const std::vector<CancellationReason>& reasons);
// The AWS CLI's message of a TransactionCanceledException:
// "Transaction cancelled, please refer cancellation reasons for specific
// reasons [None, ConditionalCheckFailed]".
std::string CancellationMessage(const std::vector<CancellationReason>& reasons);

}  // namespace runnel::cli

#endif  // RUNNEL_TOOLS_ITEM_ARGS_H_
