// Copyright 2026 The runnel Authors.
//
// inspect log | record | stats.
//
// `inspect log` and `inspect record` read the log files directly, like the
// read-only stream reader: no lock, no host, nothing written; they work on a
// live DB (the newest frame may then be one being written: it is reported as
// an incomplete tail, not as corruption).

#include <dirent.h>
#include <leveldb/env.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "cdc/codec.h"
#include "cdc/identity.h"
#include "cdc/log_format.h"
#include "cdc/segment_reader.h"
#include "runnel/stream.h"
#include "runnel/triggers.h"
#include "tools/cli.h"
#include "tools/progress.h"
#include "util/utf8.h"

namespace runnel::cli {
namespace {

using ojson = nlohmann::ordered_json;

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

uint64_t TreeSize(const std::string& dir) {
  uint64_t total = 0;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    total += S_ISDIR(st.st_mode) ? TreeSize(path) : static_cast<uint64_t>(st.st_size);
  }
  ::closedir(d);
  return total;
}

// Table names and key attributes learned while walking the log (catalog
// snapshots and create-table frames).
class TableNames {
 public:
  void Learn(const log::Frame& f) {
    if (f.header.type == log::kCatalogFrame) {
      log::CatalogData c;
      if (log::DecodeCatalog(f.payload, &c).ok()) {
        for (const auto& t : c.tables) Add(t);
      }
    } else if (f.header.type == log::kMetaFrame) {
      log::MetaData m;
      if (log::DecodeMeta(f.payload, &m).ok() && m.kind == log::MetaData::Kind::kCreateTable) {
        Add(m.table);
      }
    }
  }
  std::string Name(uint32_t id) const {
    auto it = tables_.find(id);
    return it == tables_.end() ? "table#" + std::to_string(id) : it->second.name;
  }
  // The catalog entry of a typed table; null for a byte table or an unknown
  // one.
  const log::TableEntryData* Typed(uint32_t id) const {
    auto it = tables_.find(id);
    return it == tables_.end() || !it->second.typed() ? nullptr : &it->second;
  }

 private:
  void Add(const log::TableEntryData& t) { tables_[t.id] = t; }
  std::map<uint32_t, log::TableEntryData> tables_;
};

const char* FrameTypeName(uint8_t type) {
  switch (type) {
    case log::kBatchFrame:
      return "batch";
    case log::kMetaFrame:
      return "meta";
    case log::kCatalogFrame:
      return "catalog";
    default:
      return "unknown";
  }
}

struct LogOpen {
  std::string wal;
  std::vector<uint64_t> segments;
  Identity identity;
};

Status OpenLog(const std::string& dir, LogOpen* out) {
  leveldb::Env* env = leveldb::Env::Default();
  Status s = ReadIdentity(env, dir, &out->identity);
  if (s.IsNotFound()) {
    return Status::NotFound("no DB at '" + dir + "' (create-table or load creates one)");
  }
  if (!s.ok()) return s;
  out->wal = dir + "/wal";
  return log::ListSegments(env, out->wal, &out->segments);
}

// What `inspect log` gathers while it walks the log.
struct LogInspection {
  bool verify = false;
  TableNames names;
  std::map<std::string, std::pair<uint64_t, uint64_t>> per_table;  // records, frames
  ojson segments = ojson::array();
  ojson problems = ojson::array();
  ojson torn = nullptr;
  uint64_t total_bytes = 0, total_frames = 0, total_records = 0;
  uint64_t first_seq = 0, last_seq = 0, expected = 0;
};

// What it gathers about one segment.
struct SegmentInspection {
  ojson file;
  uint64_t frames = 0, records = 0, seg_first = 0, seg_last = 0;
  std::map<std::string, uint64_t> frame_types;
  ojson damage = ojson::array();
};

void InspectFrame(const log::Frame& f, LogInspection* in, SegmentInspection* seg) {
  ++seg->frames;
  ++seg->frame_types[FrameTypeName(f.header.type)];
  in->names.Learn(f);
  if (f.header.count > 0) {
    if (in->verify && in->expected != 0 && f.header.first_sequence != in->expected) {
      in->problems.push_back(
          {{"Segment", seg->file},
           {"Offset", f.offset},
           {"Reason", "sequence gap: frame starts at " + std::to_string(f.header.first_sequence) +
                          ", expected " + std::to_string(in->expected)}});
    }
    in->expected = f.header.last_sequence() + 1;
    if (seg->seg_first == 0) seg->seg_first = f.header.first_sequence;
    seg->seg_last = f.header.last_sequence();
  }
  if (f.header.type == log::kBatchFrame) {
    log::BatchData b;
    Status ds = log::DecodeBatch(f.payload, &b);
    if (!ds.ok()) {
      in->problems.push_back(
          {{"Segment", seg->file}, {"Offset", f.offset}, {"Reason", ds.ToString()}});
      return;
    }
    std::set<std::string> tables_in_frame;
    for (const auto& ch : b.changes) {
      const std::string t = in->names.Name(ch.table_id);
      ++in->per_table[t].first;
      tables_in_frame.insert(t);
    }
    for (const auto& t : tables_in_frame) ++in->per_table[t].second;
    seg->records += b.changes.size();
  } else if (in->verify && f.header.type == log::kMetaFrame) {
    log::MetaData m;
    Status ds = log::DecodeMeta(f.payload, &m);
    if (!ds.ok()) {
      in->problems.push_back(
          {{"Segment", seg->file}, {"Offset", f.offset}, {"Reason", ds.ToString()}});
    }
  }
}

void InspectSegment(const LogOpen& lo, size_t i, LogInspection* in, Progress* progress) {
  leveldb::Env* env = leveldb::Env::Default();
  const bool newest = i + 1 == lo.segments.size();
  std::unique_ptr<log::SegmentReader> reader;
  Status s = log::SegmentReader::Open(env, lo.wal, lo.segments[i], lo.identity.id, &reader);
  ojson seg;
  seg["File"] = log::SegmentFileName(lo.segments[i]);
  if (!s.ok()) {
    seg["Error"] = s.ToString();
    in->problems.push_back({{"Segment", seg["File"]}, {"Reason", s.ToString()}});
    in->segments.push_back(seg);
    return;
  }
  if (in->verify && in->expected != 0 && lo.segments[i] != in->expected) {
    in->problems.push_back(
        {{"Segment", seg["File"]},
         {"Reason", "sequence gap: segment starts at " + std::to_string(lo.segments[i]) +
                        ", expected " + std::to_string(in->expected)}});
  }
  SegmentInspection counts;
  counts.file = seg["File"];
  for (;;) {
    log::Frame f;
    log::Damage d;
    const log::SegmentReader::Result res = reader->Next(&f, &d);
    if (res == log::SegmentReader::Result::kEnd) break;
    if (res == log::SegmentReader::Result::kError) {
      in->problems.push_back({{"Segment", seg["File"]}, {"Reason", reader->status().ToString()}});
      break;
    }
    if (res == log::SegmentReader::Result::kDamaged) {
      ojson dj{{"Offset", d.offset}, {"Reason", d.reason}};
      if (d.to_end_of_file && newest) {
        dj["Bytes"] = reader->file_size() - d.offset;
        in->torn = dj;
        in->torn["Segment"] = seg["File"];
        break;
      }
      counts.damage.push_back(dj);
      in->problems.push_back(
          {{"Segment", seg["File"]}, {"Offset", d.offset}, {"Reason", d.reason}});
      reader->SkipDamage(d);
      in->expected = 0;  // continuity cannot be checked across the damage
      continue;
    }
    InspectFrame(f, in, &counts);
  }
  const uint64_t bytes = reader->file_size();
  progress->Add(bytes);
  seg["FirstSequenceNumber"] = std::to_string(counts.seg_first);
  seg["LastSequenceNumber"] = std::to_string(counts.seg_last);
  seg["Bytes"] = bytes;
  seg["Frames"] = counts.frames;
  ojson types = ojson::object();
  for (const auto& [k, v] : counts.frame_types) types[k] = v;
  seg["FrameTypes"] = types;
  seg["Records"] = counts.records;
  if (!counts.damage.empty()) seg["Damage"] = counts.damage;
  in->segments.push_back(seg);
  in->total_bytes += bytes;
  in->total_frames += counts.frames;
  in->total_records += counts.records;
  if (in->first_seq == 0) in->first_seq = counts.seg_first;
  if (counts.seg_last != 0) in->last_seq = counts.seg_last;
}

int ReportLog(Context& ctx, const LogOpen& lo, LogInspection* in) {
  ojson tables = ojson::object();
  for (const auto& [t, rf] : in->per_table)
    tables[t] = {{"Records", rf.first}, {"Frames", rf.second}};
  ojson out;
  out["Directory"] = ctx.session().dir();
  out["DbName"] = lo.identity.name;
  out["DbId"] = lo.identity.IdHex();
  out["Segments"] = in->segments;
  out["Tables"] = tables;
  out["Totals"] = {{"Segments", lo.segments.size()},
                   {"Bytes", in->total_bytes},
                   {"Frames", in->total_frames},
                   {"Records", in->total_records},
                   {"FirstSequenceNumber", std::to_string(in->first_seq)},
                   {"LastSequenceNumber", std::to_string(in->last_seq)}};
  if (!in->torn.is_null()) {
    in->torn["Note"] =
        "an incomplete last frame: a write in progress, or a torn write that "
        "the next open cuts off";
    out["IncompleteTail"] = in->torn;
  }
  out["Verified"] = in->verify;
  out["Problems"] = in->problems;
  ctx.Print(out);
  if (in->verify && !in->problems.empty()) {
    const ojson& p = in->problems[0];
    std::string where = p["Segment"].get<std::string>();
    if (p.contains("Offset")) where += " at offset " + std::to_string(p["Offset"].get<uint64_t>());
    return ctx.Fail("Corruption: " + std::to_string(in->problems.size()) +
                    " problem(s) in the log; first: " + where + ": " +
                    p["Reason"].get<std::string>());
  }
  return 0;
}

int InspectLog(Context& ctx, bool verify) {
  LogOpen lo;
  Status s = OpenLog(ctx.session().dir(), &lo);
  if (!s.ok()) return ctx.Fail(s);
  LogInspection in;
  in.verify = verify;
  uint64_t total_size = 0;
  for (uint64_t first : lo.segments)
    total_size += FileSize(lo.wal + "/" + log::SegmentFileName(first));
  Progress progress(ctx, "inspect log", total_size, "bytes");
  for (size_t i = 0; i < lo.segments.size(); ++i) InspectSegment(lo, i, &in, &progress);
  progress.Done();
  return ReportLog(ctx, lo, &in);
}

void AddInspectLog(Registry* r, CLI::App* parent) {
  auto verify = std::make_shared<bool>(false);
  CLI::App* c = r->Add(
      "log",
      "Segments, sequence ranges, sizes, frames and records per table; with --verify, every "
      "checksum, payload and sequence number is checked (exit 1 on damage)",
      Needs::kLogFiles, [verify](Context& ctx) { return InspectLog(ctx, *verify); }, parent);
  c->add_flag("--verify", *verify, "Check everything; exit 1 if anything is damaged");
}

std::string TextOrBase64(std::string_view bytes, ojson* j, const char* name) {
  if (ValidUtf8(bytes)) {
    (*j)[name] = bytes;
  } else {
    (*j)[std::string(name) + "Base64"] = EncodeBase64(bytes);
  }
  return "";
}

// A mapping checkpoint as inspect shows it: the position and result, and
// what a checkpoint of a mapping with lanes, a tumbling window or a snapshot
// also holds (each lane's position, the open window and its state, the
// snapshot's progress).
ojson CheckpointJson(const log::CheckpointData& cp) {
  ojson j = {{"MappingId", cp.mapping_id},
             {"Position", std::to_string(cp.position)},
             {"LastProcessingResult", std::string(cp.result)}};
  if (!cp.lane_positions.empty()) {
    ojson lanes = ojson::array();
    for (uint64_t p : cp.lane_positions) lanes.push_back(std::to_string(p));
    j["LanePositions"] = lanes;
  }
  if (cp.has_window) {
    ojson w;
    if (cp.window_state.empty()) {
      w["Open"] = false;
      w["NextStartNotBefore"] = IsoTime(cp.window_start_micros);
    } else {
      w["Open"] = true;
      w["Start"] = IsoTime(cp.window_start_micros);
      // The handler's state: JSON as it returned it.
      ojson state = ojson::parse(cp.window_state, nullptr, /*allow_exceptions=*/false);
      if (state.is_discarded()) {
        w["StateText"] = std::string(cp.window_state);
      } else {
        w["State"] = std::move(state);
      }
    }
    j["Window"] = std::move(w);
  }
  if (cp.snapshot.present()) {
    static const char* kPhases[] = {"NONE", "SCANNING", "STREAMING", "DONE"};
    ojson snap;
    snap["Phase"] = kPhases[static_cast<size_t>(cp.snapshot.phase) % 4];
    snap["Records"] = cp.snapshot.records;
    ojson segments = ojson::array();
    for (const auto& seg : cp.snapshot.segments) {
      ojson e;
      TextOrBase64(seg.last_key, &e, "LastKey");
      e["SequenceNumber"] = std::to_string(seg.sequence);
      segments.push_back(std::move(e));
    }
    snap["Segments"] = std::move(segments);
    j["Snapshot"] = std::move(snap);
  }
  return j;
}

// A change of a typed table: its key and images as DynamoDB JSON (Keys,
// OldImage, NewImage), rendered by the stream's own RecordToJson so that
// inspect shows exactly what a stream reader gets.
Status DescribeTypedChange(const log::ChangeData& ch, uint64_t seq,
                           const log::TableEntryData& table, ojson* out) {
  ChangeRecord r = log::ToChangeRecord(ch, seq, 0, table.name);
  log::SetTableFields(&table, false, &r);
  // Every image the log holds, whatever the table's stream shows.
  r.view_type = StreamViewType::kNewAndOldImages;
  const ojson j = ojson::parse(RecordToJson(r, "", ""), nullptr, false);
  if (j.is_discarded() || !j.contains("dynamodb")) {
    return Status::Corruption("record " + std::to_string(seq) + " cannot be rendered");
  }
  for (const char* part : {"Keys", "OldImage", "NewImage"}) {
    if (j["dynamodb"].contains(part)) (*out)[part] = j["dynamodb"][part];
  }
  return Status::OK();
}

// The record at `seq` of frame `f`, which holds it, with where it is in the
// log.
Status DescribeRecord(const log::SegmentReader& reader, const log::Frame& f, uint64_t seq,
                      const TableNames& names, ojson* out_json) {
  ojson& out = *out_json;
  out["SequenceNumber"] = std::to_string(seq);
  out["Segment"] = reader.file_name();
  out["FrameOffset"] = f.offset;
  out["FrameType"] = FrameTypeName(f.header.type);
  out["FrameFirstSequenceNumber"] = std::to_string(f.header.first_sequence);
  out["FrameRecords"] = f.header.count;
  if (f.header.type == log::kBatchFrame) {
    log::BatchData b;
    Status s = log::DecodeBatch(f.payload, &b);
    if (!s.ok()) return s;
    out["CommitTime"] = IsoTime(b.commit_time_micros);
    out["ChainDepth"] = b.chain_depth;
    const uint64_t index = seq - f.header.first_sequence;
    if (index < b.changes.size()) {
      const log::ChangeData& ch = b.changes[index];
      out["TableName"] = names.Name(ch.table_id);
      out["eventName"] = std::string(EventNameString(ch.event));
      out["StreamViewType"] = ch.view == log::View::kNone
                                  ? "NONE (table without a stream)"
                                  : std::string(StreamViewTypeName(log::ToStreamViewType(ch.view)));
      if (const log::TableEntryData* table = names.Typed(ch.table_id)) {
        Status s = DescribeTypedChange(ch, seq, *table, &out);
        if (!s.ok()) return s;
      } else {
        TextOrBase64(ch.key, &out, "Key");
        if (ch.has_old) TextOrBase64(ch.old_image, &out, "OldImage");
        if (ch.has_new) TextOrBase64(ch.new_image, &out, "NewImage");
      }
    } else if (b.has_checkpoint) {
      out["Checkpoint"] = CheckpointJson(b.checkpoint);
    }
  } else if (f.header.type == log::kMetaFrame) {
    log::MetaData m;
    Status s = log::DecodeMeta(f.payload, &m);
    if (!s.ok()) return s;
    static const char* kKinds[] = {"CreateTable",   "DeleteTable",     "UpdateStream",
                                   "PutFunction",   "DeleteFunction",  "PutMapping",
                                   "DeleteMapping", "UpdateTimeToLive"};
    const size_t kind = static_cast<size_t>(m.kind);
    out["Meta"] = kind < std::size(kKinds) ? kKinds[kind] : "unknown";
    out["CommitTime"] = IsoTime(m.commit_time_micros);
  }
  return Status::OK();
}

int InspectRecord(Context& ctx, uint64_t seq) {
  LogOpen lo;
  Status s = OpenLog(ctx.session().dir(), &lo);
  if (!s.ok()) return ctx.Fail(s);
  if (lo.segments.empty() || seq < lo.segments.front()) {
    return ctx.Fail(
        "TrimmedDataAccessException: sequence number " + std::to_string(seq) +
        " is no longer in the log (first available: " +
        (lo.segments.empty() ? std::string("none") : std::to_string(lo.segments.front())) + ")");
  }
  TableNames names;
  // Names come from the catalog that opens the record's segment.
  size_t i = lo.segments.size() - 1;
  while (lo.segments[i] > seq) --i;
  std::unique_ptr<log::SegmentReader> reader;
  s = log::SegmentReader::Open(leveldb::Env::Default(), lo.wal, lo.segments[i], lo.identity.id,
                               &reader);
  if (!s.ok()) return ctx.Fail(s);
  for (;;) {
    log::Frame f;
    log::Damage d;
    const auto res = reader->Next(&f, &d);
    if (res == log::SegmentReader::Result::kEnd) break;
    if (res == log::SegmentReader::Result::kError) return ctx.Fail(reader->status());
    if (res == log::SegmentReader::Result::kDamaged) {
      if (d.to_end_of_file) break;
      reader->SkipDamage(d);
      continue;
    }
    names.Learn(f);
    if (f.header.count == 0 || f.header.last_sequence() < seq) continue;
    if (f.header.first_sequence > seq) break;
    ojson out;
    s = DescribeRecord(*reader, f, seq, names, &out);
    if (!s.ok()) return ctx.Fail(s);
    ctx.Print(out);
    return 0;
  }
  return ctx.Fail("ResourceNotFoundException: no record with sequence number " +
                  std::to_string(seq) + " in the log");
}

void AddInspectRecord(Registry* r, CLI::App* parent) {
  auto seq = std::make_shared<uint64_t>(0);
  CLI::App* c = r->Add(
      "record", "One change record by sequence number, with where it is in the log",
      Needs::kLogFiles, [seq](Context& ctx) { return InspectRecord(ctx, *seq); }, parent);
  c->add_option("sequence-number", *seq, "The record's sequence number")->required();
}

// Stream records of `arn` at or after `position`, counted by reading them
// (at most 100,000; *capped then says there are more).
bool CountRecordsFrom(DB* db, const std::string& arn, SequenceNumber position, uint64_t* count,
                      bool* capped) {
  constexpr uint64_t kCap = 100000;
  *count = 0;
  *capped = false;
  if (position > db->LastSequence()) return true;
  ShardIteratorRequest req;
  req.stream_arn = arn;
  req.type = ShardIteratorType::kAtSequenceNumber;
  req.sequence_number = position;
  std::string it;
  if (!db->streams()->GetShardIterator(req, &it).ok()) return false;
  while (!it.empty()) {
    RecordBatch batch;
    if (!db->streams()->GetRecords(it, GetRecordsOptions(), &batch).ok()) return false;
    if (batch.records().empty()) break;
    *count += batch.records().size();
    if (*count >= kCap) {
      *capped = true;
      break;
    }
    it = batch.next_shard_iterator();
  }
  return true;
}

void AddInspectStats(Registry* r, CLI::App* parent) {
  r->Add(
      "stats", "Sizes, tables, and every mapping's lag and last result", Needs::kDb,
      [](Context& ctx) {
        DB* db = ctx.Db();
        if (db == nullptr) return 1;
        const std::string& dir = ctx.session().dir();
        ojson out;
        out["Directory"] = dir;
        out["DbName"] = db->name();
        out["Region"] = db->region();
        out["AccountId"] = db->account_id();
        out["Hosted"] = ctx.session().hosted();
        out["Log"] = {{"Bytes", TreeSize(dir + "/wal")},
                      {"FirstSequenceNumber", std::to_string(db->FirstAvailableSequence())},
                      {"LastSequenceNumber", std::to_string(db->LastSequence())}};
        out["Index"] = {{"Bytes", TreeSize(dir + "/index")}};
        std::vector<std::string> names;
        Status s = db->ListTables(&names);
        if (!s.ok()) return ctx.Fail(s);
        ojson tables = ojson::array();
        for (const auto& n : names) {
          TableDescription d;
          s = db->DescribeTable(n, &d);
          if (!s.ok()) return ctx.Fail(s);
          tables.push_back({{"TableName", n},
                            {"ItemCount", d.item_count},
                            {"TableSizeBytes", d.table_size_bytes},
                            {"StreamEnabled", d.stream_specification.stream_enabled}});
        }
        out["Tables"] = tables;
        std::vector<EventSourceMappingConfiguration> mappings;
        std::string next;
        s = db->triggers()->ListEventSourceMappings("", "", "", 0, &mappings, &next);
        if (!s.ok()) return ctx.Fail(s);
        ojson ms = ojson::array();
        for (const auto& m : mappings) {
          MappingMetrics mm;
          s = db->triggers()->GetMappingMetrics(m.uuid, &mm);
          ojson j;
          j["UUID"] = m.uuid;
          j["FunctionName"] = m.function_name;
          j["EventSourceArn"] = m.event_source;
          j["State"] = std::string(MappingStateName(m.state));
          j["LastProcessingResult"] = m.last_processing_result;
          if (s.ok()) {
            j["NextSequenceNumber"] = std::to_string(mm.position);
            uint64_t behind = 0;
            bool capped = false;
            if (CountRecordsFrom(db, m.event_source, mm.position, &behind, &capped)) {
              j["RecordsBehind"] = behind;
              if (capped) j["RecordsBehindIsAtLeast"] = true;
            }
            j["IteratorAgeMs"] = mm.iterator_age_ms;
            j["Invocations"] = mm.invocations;
            j["Errors"] = mm.errors;
            j["RecordsIn"] = mm.records_in;
            j["RecordsFailed"] = mm.records_failed;
            j["RecordsFilteredOut"] = mm.records_filtered_out;
            j["ConcurrentLanes"] = mm.concurrent_lanes;
            j["DurationP50Ms"] = mm.duration_p50_ms;
            j["DurationP99Ms"] = mm.duration_p99_ms;
          }
          ms.push_back(j);
        }
        out["EventSourceMappings"] = ms;
        ctx.Print(out);
        return 0;
      },
      parent);
}

}  // namespace

void AddInspectCommands(Registry* r) {
  CLI::App* inspect = r->app()->add_subcommand("inspect", "Look inside the DB: log, record, stats");
  inspect->require_subcommand(1);
  AddInspectLog(r, inspect);
  AddInspectRecord(r, inspect);
  AddInspectStats(r, inspect);
}

}  // namespace runnel::cli
