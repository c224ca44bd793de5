// Copyright 2026 The runnel Authors.

#include "cdc/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <stdexcept>

#include "cdc/log.capnp.h"

namespace runnel::log {
namespace {

capnp::Text::Reader AsText(const std::string& s) {
  return capnp::Text::Reader(s.data(), s.size());
}
std::string_view AsView(capnp::Data::Reader d) {
  return std::string_view(reinterpret_cast<const char*>(d.begin()), d.size());
}

// Writes the message in Cap'n Proto's flat-array (stream) format: a segment
// table, padded to a word, then the segments.
void AppendFlat(capnp::MessageBuilder& builder, std::string* out) {
  auto segments = builder.getSegmentsForOutput();
  const size_t table_words = (segments.size() + 2) / 2;
  size_t total_words = table_words;
  for (auto seg : segments) total_words += seg.size();
  const size_t start = out->size();
  out->resize(start + total_words * sizeof(capnp::word));
  char* p = out->data() + start;
  std::memset(p, 0, table_words * sizeof(capnp::word));
  const uint32_t count_minus_one = static_cast<uint32_t>(segments.size() - 1);
  std::memcpy(p, &count_minus_one, 4);
  for (size_t i = 0; i < segments.size(); ++i) {
    const uint32_t words = static_cast<uint32_t>(segments[i].size());
    std::memcpy(p + 4 + 4 * i, &words, 4);
  }
  p += table_words * sizeof(capnp::word);
  for (auto seg : segments) {
    std::memcpy(p, seg.begin(), seg.size() * sizeof(capnp::word));
    p += seg.size() * sizeof(capnp::word);
  }
}

// Bounds a reader by the input: a message can legitimately traverse each of
// its words at most a few times, so a hostile message that points at the same
// bytes over and over runs out of budget instead of amplifying work.
capnp::ReaderOptions LimitsFor(size_t words) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words * 4 + 64;
  options.nestingLimit = 16;
  return options;
}

kj::ArrayPtr<const capnp::word> AsWords(std::string_view bytes) {
  return kj::ArrayPtr<const capnp::word>(
      reinterpret_cast<const capnp::word*>(bytes.data()),
      bytes.size() / sizeof(capnp::word));
}

// Runs fn, turning any exception thrown while decoding into Corruption.
template <typename Fn>
Status Guard(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string(what) + ": " +
                              e.getDescription().cStr());
  } catch (const std::exception& e) {
    return Status::Corruption(std::string(what) + ": " + e.what());
  }
}

void FillTable(const TableEntryData& t, schema::TableEntry::Builder b) {
  b.setId(t.id);
  b.setName(AsText(t.name));
  b.setCreationTimeMicros(t.creation_time_micros);
  b.setDeletedSeq(t.deleted_seq);
  auto streams = b.initStreams(static_cast<unsigned>(t.streams.size()));
  for (size_t i = 0; i < t.streams.size(); ++i) {
    const StreamEntryData& s = t.streams[i];
    auto sb = streams[static_cast<unsigned>(i)];
    sb.setLabel(AsText(s.label));
    sb.setView(static_cast<schema::View>(s.view));
    sb.setCreationTimeMicros(s.creation_time_micros);
    sb.setStartSeq(s.start_seq);
    sb.setEndSeq(s.end_seq);
  }
}

void FillFunction(const FunctionEntryData& f, schema::FunctionEntry::Builder b) {
  b.setName(AsText(f.name));
  b.setKind(f.in_process ? schema::FunctionKind::IN_PROCESS
                         : schema::FunctionKind::LIBRARY);
  b.setLibrary(AsText(f.library));
  b.setHandler(AsText(f.handler));
  auto env = b.initEnvironment(static_cast<unsigned>(f.environment.size()));
  for (size_t i = 0; i < f.environment.size(); ++i) {
    env[static_cast<unsigned>(i)].setName(AsText(f.environment[i].first));
    env[static_cast<unsigned>(i)].setValue(AsText(f.environment[i].second));
  }
  b.setTimeoutSeconds(f.timeout_seconds);
  b.setDescription(AsText(f.description));
  b.setLastModifiedMicros(f.last_modified_micros);
  b.setCodeHash(AsText(f.code_hash));
}

FunctionEntryData ReadFunction(schema::FunctionEntry::Reader r) {
  FunctionEntryData f;
  f.name = r.getName().cStr();
  f.in_process = r.getKind() == schema::FunctionKind::IN_PROCESS;
  f.library = r.getLibrary().cStr();
  f.handler = r.getHandler().cStr();
  for (auto e : r.getEnvironment()) {
    f.environment.emplace_back(e.getName().cStr(), e.getValue().cStr());
  }
  f.timeout_seconds = r.getTimeoutSeconds();
  f.description = r.getDescription().cStr();
  f.last_modified_micros = r.getLastModifiedMicros();
  f.code_hash = r.getCodeHash().cStr();
  return f;
}

void FillMapping(const MappingEntryData& m, schema::MappingEntry::Builder b) {
  b.setId(m.id);
  b.setUuid(AsText(m.uuid));
  b.setFunctionName(AsText(m.function_name));
  b.setEventSourceArn(AsText(m.event_source_arn));
  b.setBatchSize(m.batch_size);
  b.setMaxBatchingWindowSeconds(m.max_batching_window_seconds);
  b.setStartingPosition(
      static_cast<schema::StartingPosition>(m.starting_position));
  b.setStartingTimestampMicros(m.starting_timestamp_micros);
  b.setStartingSequence(m.starting_sequence);
  b.setEnabled(m.enabled);
  b.setMaxRetryAttempts(m.max_retry_attempts);
  b.setMaxRecordAgeSeconds(m.max_record_age_seconds);
  b.setBisectOnError(m.bisect_on_error);
  b.setOnFailureDestination(AsText(m.on_failure_destination));
  b.setReportBatchItemFailures(m.report_batch_item_failures);
  b.setLastModifiedMicros(m.last_modified_micros);
  b.setStateTransitionReason(AsText(m.state_transition_reason));
  b.setInitialPosition(m.initial_position);
}

MappingEntryData ReadMapping(schema::MappingEntry::Reader r) {
  MappingEntryData m;
  m.id = r.getId();
  m.uuid = r.getUuid().cStr();
  m.function_name = r.getFunctionName().cStr();
  m.event_source_arn = r.getEventSourceArn().cStr();
  m.batch_size = r.getBatchSize();
  m.max_batching_window_seconds = r.getMaxBatchingWindowSeconds();
  const auto sp = static_cast<uint16_t>(r.getStartingPosition());
  if (sp > 3) throw std::runtime_error("unknown starting position");
  m.starting_position = static_cast<StartingPositionData>(sp);
  m.starting_timestamp_micros = r.getStartingTimestampMicros();
  m.starting_sequence = r.getStartingSequence();
  m.enabled = r.getEnabled();
  m.max_retry_attempts = r.getMaxRetryAttempts();
  m.max_record_age_seconds = r.getMaxRecordAgeSeconds();
  m.bisect_on_error = r.getBisectOnError();
  m.on_failure_destination = r.getOnFailureDestination().cStr();
  m.report_batch_item_failures = r.getReportBatchItemFailures();
  m.last_modified_micros = r.getLastModifiedMicros();
  m.state_transition_reason = r.getStateTransitionReason().cStr();
  m.initial_position = r.getInitialPosition();
  return m;
}

View CheckedView(schema::View v) {
  const auto raw = static_cast<uint16_t>(v);
  if (raw > static_cast<uint16_t>(View::kNewAndOldImages)) {
    throw std::runtime_error("unknown stream view " + std::to_string(raw));
  }
  return static_cast<View>(raw);
}

TableEntryData ReadTable(schema::TableEntry::Reader r) {
  TableEntryData t;
  t.id = r.getId();
  t.name = r.getName().cStr();
  t.creation_time_micros = r.getCreationTimeMicros();
  t.deleted_seq = r.getDeletedSeq();
  for (auto s : r.getStreams()) {
    StreamEntryData e;
    e.label = s.getLabel().cStr();
    e.view = CheckedView(s.getView());
    e.creation_time_micros = s.getCreationTimeMicros();
    e.start_seq = s.getStartSeq();
    e.end_seq = s.getEndSeq();
    t.streams.push_back(std::move(e));
  }
  return t;
}

}  // namespace

ChangeRecord ToChangeRecord(const ChangeData& c, uint64_t sequence,
                            int64_t commit_time_micros, std::string_view table) {
  ChangeRecord r;
  r.sequence = sequence;
  r.commit_time_micros = commit_time_micros;
  r.table_id = c.table_id;
  r.table = table;
  r.event = c.event;
  r.view_type = ToStreamViewType(c.view);
  r.key = c.key;
  r.has_old_image = c.has_old && c.event != EventName::kInsert;
  if (r.has_old_image) r.old_image = c.old_image;
  // The new image is always in the log (it is the WAL); the view decides
  // whether the stream shows it.
  r.has_new_image = c.has_new && ShowsNewImage(c.view);
  if (r.has_new_image) r.new_image = c.new_image;
  r.size_bytes = static_cast<uint32_t>(c.key.size() + r.old_image.size() +
                                       r.new_image.size());
  return r;
}

void EncodeBatch(int64_t commit_time_micros,
                 const std::vector<ChangeData>& changes,
                 const CheckpointData* checkpoint, uint8_t chain_depth,
                 std::string* out) {
  size_t data_bytes = 0;
  for (const ChangeData& c : changes) {
    data_bytes += c.key.size() + (c.has_old ? c.old_image.size() : 0) +
                  (c.has_new ? c.new_image.size() : 0);
  }
  // One first segment large enough for the whole message keeps the payload a
  // single segment (no far pointers), which is cheapest to read.
  const size_t words = (data_bytes + 7) / 8 + 4 * changes.size() + 32 +
                       (checkpoint != nullptr ? checkpoint->result.size() / 8 + 8 : 0);
  capnp::MallocMessageBuilder builder(static_cast<unsigned>(words),
                                      capnp::AllocationStrategy::FIXED_SIZE);
  auto root = builder.initRoot<schema::BatchFrame>();
  root.setCommitTimeMicros(commit_time_micros);
  auto list = root.initChanges(static_cast<unsigned>(changes.size()));
  auto data = root.initData(static_cast<unsigned>(data_bytes));
  char* p = reinterpret_cast<char*>(data.begin());
  auto put = [&p](std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
    p += bytes.size();
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    const ChangeData& c = changes[i];
    auto b = list[static_cast<unsigned>(i)];
    b.setTableId(c.table_id);
    b.setEvent(static_cast<schema::Event>(static_cast<uint8_t>(c.event) - 1));
    b.setView(static_cast<schema::View>(c.view));
    b.setKeySize(static_cast<uint32_t>(c.key.size()));
    b.setHasOldImage(c.has_old);
    b.setHasNewImage(c.has_new);
    b.setOldImageSize(c.has_old ? static_cast<uint32_t>(c.old_image.size()) : 0);
    b.setNewImageSize(c.has_new ? static_cast<uint32_t>(c.new_image.size()) : 0);
    b.setOldSize(c.old_size);
    put(c.key);
    if (c.has_old) put(c.old_image);
    if (c.has_new) put(c.new_image);
  }
  if (checkpoint != nullptr) {
    auto cp = root.initCheckpoint();
    cp.setMappingId(checkpoint->mapping_id);
    cp.setPosition(checkpoint->position);
    cp.setResult(capnp::Text::Reader(checkpoint->result.data(),
                                     checkpoint->result.size()));
  }
  root.setChainDepth(chain_depth);
  AppendFlat(builder, out);
}

void EncodeMeta(const MetaData& meta, std::string* out) {
  capnp::MallocMessageBuilder builder;
  auto root = builder.initRoot<schema::MetaFrame>();
  root.setCommitTimeMicros(meta.commit_time_micros);
  switch (meta.kind) {
    case MetaData::Kind::kCreateTable:
      FillTable(meta.table, root.initCreateTable());
      break;
    case MetaData::Kind::kDeleteTable:
      root.setDeleteTable(meta.table_id);
      break;
    case MetaData::Kind::kUpdateStream: {
      auto u = root.initUpdateStream();
      u.setTableId(meta.table_id);
      u.setView(static_cast<schema::View>(meta.view));
      u.setLabel(AsText(meta.label));
      break;
    }
    case MetaData::Kind::kPutFunction:
      FillFunction(meta.function, root.initPutFunction());
      break;
    case MetaData::Kind::kDeleteFunction:
      root.setDeleteFunction(AsText(meta.function_name));
      break;
    case MetaData::Kind::kPutMapping:
      FillMapping(meta.mapping, root.initPutMapping());
      break;
    case MetaData::Kind::kDeleteMapping:
      root.setDeleteMapping(meta.mapping_id);
      break;
  }
  AppendFlat(builder, out);
}

void EncodeCatalog(const CatalogData& catalog, std::string* out) {
  capnp::MallocMessageBuilder builder;
  auto root = builder.initRoot<schema::Catalog>();
  root.setNextTableId(catalog.next_table_id);
  auto tables = root.initTables(static_cast<unsigned>(catalog.tables.size()));
  for (size_t i = 0; i < catalog.tables.size(); ++i) {
    FillTable(catalog.tables[i], tables[static_cast<unsigned>(i)]);
  }
  auto functions =
      root.initFunctions(static_cast<unsigned>(catalog.functions.size()));
  for (size_t i = 0; i < catalog.functions.size(); ++i) {
    FillFunction(catalog.functions[i], functions[static_cast<unsigned>(i)]);
  }
  auto mappings =
      root.initMappings(static_cast<unsigned>(catalog.mappings.size()));
  for (size_t i = 0; i < catalog.mappings.size(); ++i) {
    FillMapping(catalog.mappings[i], mappings[static_cast<unsigned>(i)]);
  }
  root.setNextMappingId(catalog.next_mapping_id);
  AppendFlat(builder, out);
}

Status DecodeBatch(std::string_view payload, BatchData* batch) {
  return Guard("batch frame", [&] {
    auto words = AsWords(payload);
    capnp::FlatArrayMessageReader reader(words, LimitsFor(words.size()));
    auto root = reader.getRoot<schema::BatchFrame>();
    batch->commit_time_micros = root.getCommitTimeMicros();
    auto list = root.getChanges();
    const std::string_view data = AsView(root.getData());
    size_t offset = 0;
    // Takes the next n bytes of `data`; false if the sizes run past it.
    auto take = [&](uint32_t n, std::string_view* out) {
      if (n > data.size() - offset) return false;
      *out = data.substr(offset, n);
      offset += n;
      return true;
    };
    // Every change owns at least one byte of `data` (its key) and a struct
    // of its own in the list: a list that claims more (zero-sized elements
    // cost nothing on the wire) would make the decoder allocate far more
    // than the frame holds.
    if (list.size() > data.size() || list.size() > payload.size() / 16) {
      return Status::Corruption("batch frame: " + std::to_string(list.size()) +
                                " changes cannot fit in a frame of " +
                                std::to_string(payload.size()) + " bytes");
    }
    batch->changes.clear();
    batch->changes.reserve(list.size());
    for (auto r : list) {
      ChangeData c;
      c.table_id = r.getTableId();
      const auto event = static_cast<uint16_t>(r.getEvent());
      if (event > 2) {
        return Status::Corruption("batch frame: unknown event " +
                                  std::to_string(event));
      }
      c.event = static_cast<EventName>(event + 1);
      c.view = CheckedView(r.getView());
      c.has_old = r.getHasOldImage();
      c.has_new = r.getHasNewImage();
      c.old_size = r.getOldSize();
      if (r.getKeySize() == 0) return Status::Corruption("batch frame: a change without a key");
      if (!take(r.getKeySize(), &c.key) ||
          (c.has_old && !take(r.getOldImageSize(), &c.old_image)) ||
          (c.has_new && !take(r.getNewImageSize(), &c.new_image))) {
        return Status::Corruption("batch frame: change sizes exceed its data");
      }
      batch->changes.push_back(c);
    }
    if (offset != data.size()) {
      return Status::Corruption("batch frame: data holds bytes of no change");
    }
    batch->has_checkpoint = root.hasCheckpoint();
    if (batch->has_checkpoint) {
      auto cp = root.getCheckpoint();
      batch->checkpoint.mapping_id = cp.getMappingId();
      batch->checkpoint.position = cp.getPosition();
      auto text = cp.getResult();
      batch->checkpoint.result = std::string_view(text.cStr(), text.size());
    }
    batch->chain_depth = root.getChainDepth();
    return Status::OK();
  });
}

Status DecodeMeta(std::string_view payload, MetaData* meta) {
  return Guard("meta frame", [&] {
    auto words = AsWords(payload);
    capnp::FlatArrayMessageReader reader(words, LimitsFor(words.size()));
    auto root = reader.getRoot<schema::MetaFrame>();
    meta->commit_time_micros = root.getCommitTimeMicros();
    switch (root.which()) {
      case schema::MetaFrame::CREATE_TABLE:
        meta->kind = MetaData::Kind::kCreateTable;
        meta->table = ReadTable(root.getCreateTable());
        break;
      case schema::MetaFrame::DELETE_TABLE:
        meta->kind = MetaData::Kind::kDeleteTable;
        meta->table_id = root.getDeleteTable();
        break;
      case schema::MetaFrame::UPDATE_STREAM: {
        meta->kind = MetaData::Kind::kUpdateStream;
        auto u = root.getUpdateStream();
        meta->table_id = u.getTableId();
        meta->view = CheckedView(u.getView());
        meta->label = u.getLabel().cStr();
        break;
      }
      case schema::MetaFrame::PUT_FUNCTION:
        meta->kind = MetaData::Kind::kPutFunction;
        meta->function = ReadFunction(root.getPutFunction());
        break;
      case schema::MetaFrame::DELETE_FUNCTION:
        meta->kind = MetaData::Kind::kDeleteFunction;
        meta->function_name = root.getDeleteFunction().cStr();
        break;
      case schema::MetaFrame::PUT_MAPPING:
        meta->kind = MetaData::Kind::kPutMapping;
        meta->mapping = ReadMapping(root.getPutMapping());
        break;
      case schema::MetaFrame::DELETE_MAPPING:
        meta->kind = MetaData::Kind::kDeleteMapping;
        meta->mapping_id = root.getDeleteMapping();
        break;
      default:
        return Status::NotSupported("meta frame of an unknown kind");
    }
    return Status::OK();
  });
}

Status DecodeCatalog(std::string_view bytes, CatalogData* catalog) {
  if (bytes.size() % sizeof(capnp::word) != 0) {
    return Status::Corruption("catalog size is not a multiple of 8");
  }
  return Guard("catalog", [&] {
    // LevelDB values carry no alignment guarantee: copy into words first.
    auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
    std::memcpy(words.begin(), bytes.data(), bytes.size());
    capnp::FlatArrayMessageReader reader(words, LimitsFor(words.size()));
    auto root = reader.getRoot<schema::Catalog>();
    catalog->next_table_id = root.getNextTableId();
    catalog->tables.clear();
    for (auto t : root.getTables()) catalog->tables.push_back(ReadTable(t));
    catalog->functions.clear();
    for (auto f : root.getFunctions()) {
      catalog->functions.push_back(ReadFunction(f));
    }
    catalog->mappings.clear();
    for (auto m : root.getMappings()) {
      catalog->mappings.push_back(ReadMapping(m));
    }
    catalog->next_mapping_id = std::max<uint32_t>(1, root.getNextMappingId());
    return Status::OK();
  });
}

}  // namespace runnel::log
