// Copyright 2026 The runnel Authors.
//
// Streams: the `aws dynamodbstreams` commands, and `tail`. They read the log
// files directly (StreamReader::OpenReadOnly): no lock, no host needed, and
// they work while another process writes.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "runnel/stream.h"
#include "tools/cli.h"
#include "tools/json_shapes.h"
#include "util/numbers.h"

namespace runnel::cli {
namespace {

using ojson = nlohmann::ordered_json;

std::unique_ptr<StreamReader> OpenReader(Context& ctx) {
  std::unique_ptr<StreamReader> reader;
  Status s = StreamReader::OpenReadOnly(ctx.session().dir(), &reader);
  if (!s.ok()) {
    ctx.Fail(s);
    return nullptr;
  }
  return reader;
}

void AddListStreams(Registry* r) {
  auto table = std::make_shared<std::string>();
  CLI::App* c =
      r->Add("list-streams", "List streams (of one table, or of all, deleted included)",
             Needs::kLogFiles, [table](Context& ctx) {
               auto reader = OpenReader(ctx);
               if (!reader) return 1;
               std::vector<StreamInfo> streams;
               Status s = reader->ListStreams(*table, &streams);
               if (!s.ok()) return ctx.Fail(s);
               ojson list = ojson::array();
               for (const StreamInfo& i : streams) {
                 list.push_back(ojson{
                     {"StreamArn", i.arn}, {"TableName", i.table_name}, {"StreamLabel", i.label}});
               }
               ctx.Print(ojson{{"Streams", std::move(list)}});
               return 0;
             });
  c->add_option("--table-name", *table, "Only this table's streams");
}

void AddDescribeStream(Registry* r) {
  auto arn = std::make_shared<std::string>();
  CLI::App* c = r->Add("describe-stream", "Describe a stream and its shard", Needs::kLogFiles,
                       [arn](Context& ctx) {
                         auto reader = OpenReader(ctx);
                         if (!reader) return 1;
                         StreamDescription d;
                         Status s = reader->DescribeStream(*arn, &d);
                         if (!s.ok()) return ctx.Fail(s);
                         ctx.Print(ojson{{"StreamDescription", StreamDescriptionJson(d)}});
                         return 0;
                       });
  c->add_option("--stream-arn", *arn, "The stream's ARN (list-streams, describe-table)")
      ->required();
}

void AddGetShardIterator(Registry* r) {
  struct Args {
    std::string arn, shard_id, type, sequence, timestamp;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c =
      r->Add("get-shard-iterator", "An iterator for get-records (it never expires)",
             Needs::kLogFiles, [a](Context& ctx) {
               ShardIteratorRequest req;
               req.stream_arn = a->arn;
               req.shard_id = a->shard_id;
               if (!ParseShardIteratorType(a->type, &req.type)) {
                 return ctx.Usage(
                     "--shard-iterator-type: expected TRIM_HORIZON, LATEST, "
                     "AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP, got '" +
                     a->type + "'");
               }
               const bool by_seq = req.type == ShardIteratorType::kAtSequenceNumber ||
                                   req.type == ShardIteratorType::kAfterSequenceNumber;
               if (by_seq) {
                 if (a->sequence.empty()) {
                   return ctx.Usage("--sequence-number is required with " + a->type);
                 }
                 if (!ParseUint64(a->sequence, &req.sequence_number)) {
                   return ctx.Usage("--sequence-number: expected a decimal sequence number, got '" +
                                    a->sequence + "'");
                 }
               } else if (!a->sequence.empty()) {
                 return ctx.Usage(
                     "--sequence-number is only valid with AT_SEQUENCE_NUMBER or "
                     "AFTER_SEQUENCE_NUMBER");
               }
               if (req.type == ShardIteratorType::kAtTimestamp) {
                 if (a->timestamp.empty())
                   return ctx.Usage("--timestamp is required with AT_TIMESTAMP");
                 Status s = ParseSince("--timestamp", a->timestamp, &req.timestamp_micros);
                 if (!s.ok()) return ctx.Usage(s.message());
               } else if (!a->timestamp.empty()) {
                 return ctx.Usage("--timestamp is only valid with AT_TIMESTAMP");
               }
               auto reader = OpenReader(ctx);
               if (!reader) return 1;
               std::string it;
               Status s = reader->GetShardIterator(req, &it);
               if (!s.ok()) return ctx.Fail(s);
               ctx.Print(ojson{{"ShardIterator", it}});
               return 0;
             });
  c->add_option("--stream-arn", a->arn, "The stream's ARN")->required();
  c->add_option("--shard-id", a->shard_id, "The shard (each stream has one)");
  c->add_option("--shard-iterator-type", a->type,
                "TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP")
      ->required();
  c->add_option("--sequence-number", a->sequence, "For AT_/AFTER_SEQUENCE_NUMBER");
  c->add_option("--timestamp", a->timestamp,
                "For AT_TIMESTAMP: a UTC time (2026-11-27T15:00:00Z) or an age (10m)");
}

void AddGetRecords(Registry* r) {
  struct Args {
    std::string iterator;
    size_t limit = 1000;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c = r->Add("get-records", "Records from an iterator, as the cloud's JSON",
                       Needs::kLogFiles, [a](Context& ctx) {
                         auto reader = OpenReader(ctx);
                         if (!reader) return 1;
                         GetRecordsOptions o;
                         o.limit = a->limit;
                         RecordBatch batch;
                         Status s = reader->GetRecords(a->iterator, o, &batch);
                         if (!s.ok()) return ctx.Fail(s);
                         ctx.Print(GetRecordsJson(batch, /*with_event_source_arn=*/true));
                         return 0;
                       });
  c->add_option("--shard-iterator", a->iterator, "From get-shard-iterator or NextShardIterator")
      ->required();
  c->add_option("--limit", a->limit, "At most this many records (1-1000)")
      ->check(CLI::Range(1, 1000));
}

void AddTail(Registry* r) {
  struct Args {
    std::string table, from = "LATEST";
    size_t max_records = 0;
  };
  auto a = std::make_shared<Args>();
  CLI::App* c =
      r->Add("tail", "Follow a table's stream live: one record (cloud JSON) per line",
             Needs::kLogFiles, [a](Context& ctx) {
               ShardIteratorRequest req;
               if (!ParseShardIteratorType(a->from, &req.type) ||
                   (req.type != ShardIteratorType::kTrimHorizon &&
                    req.type != ShardIteratorType::kLatest)) {
                 return ctx.Usage("--from: expected TRIM_HORIZON or LATEST, got '" + a->from + "'");
               }
               auto reader = OpenReader(ctx);
               if (!reader) return 1;
               std::vector<StreamInfo> streams;
               Status s = reader->ListStreams(a->table, &streams);
               if (!s.ok()) return ctx.Fail(s);
               if (streams.empty() || !streams.back().enabled()) {
                 return ctx.Fail("ResourceNotFoundException: table '" + a->table +
                                 "' has no enabled stream (create-table or update-table "
                                 "--stream-specification StreamEnabled=true,...)");
               }
               req.stream_arn = streams.back().arn;
               const std::string region = RegionOfArn(req.stream_arn);
               std::string it;
               s = reader->GetShardIterator(req, &it);
               if (!s.ok()) return ctx.Fail(s);
               size_t printed = 0;
               while (!it.empty()) {
                 RecordBatch batch;
                 s = reader->GetRecords(it, GetRecordsOptions(), &batch);
                 if (!s.ok()) return ctx.Fail(s);
                 for (const ChangeRecord& rec : batch.records()) {
                   std::string line = RecordToJson(rec, batch.stream_arn(), region);
                   line += '\n';
                   std::fwrite(line.data(), 1, line.size(), ctx.io().out);
                   if (a->max_records != 0 && ++printed == a->max_records) {
                     std::fflush(ctx.io().out);
                     return 0;
                   }
                 }
                 std::fflush(ctx.io().out);
                 if (std::ferror(ctx.io().out)) return 0;  // the reader went away (a closed pipe)
                 it = batch.next_shard_iterator();
                 if (batch.records().empty() && !it.empty()) {
                   s = reader->WaitForRecords(it, std::chrono::milliseconds(500));
                   if (!s.ok() && !s.IsTimedOut()) return ctx.Fail(s);
                 }
               }
               return 0;  // the stream was closed (disabled, or its table deleted)
             });
  c->add_option("--table-name", a->table, "The table whose latest stream to follow")->required();
  c->add_option("--from", a->from, "TRIM_HORIZON (everything still in the log) or LATEST");
  c->add_option("--max-records", a->max_records, "Exit after printing this many records");
}

}  // namespace

void AddStreamCommands(Registry* r) {
  AddListStreams(r);
  AddDescribeStream(r);
  AddGetShardIterator(r);
  AddGetRecords(r);
  AddTail(r);
}

}  // namespace runnel::cli
