// Copyright 2026 The runnel Authors.

#include "cdc/codec.h"

#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <stdexcept>

#include "cdc/coding.h"
#include "cdc/log.capnp.h"

namespace runnel::log {
namespace {

capnp::Text::Reader AsText(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }
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
  return kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(bytes.data()),
                                         bytes.size() / sizeof(capnp::word));
}

// Runs fn, turning any exception thrown while decoding into Corruption.
template <typename Fn>
Status Guard(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string(what) + ": " + e.getDescription().cStr());
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
  b.setHashKeyName(AsText(t.hash_key_name));
  b.setHashKeyType(t.hash_key_type);
  b.setRangeKeyName(AsText(t.range_key_name));
  b.setRangeKeyType(t.range_key_type);
  b.setTtlEnabled(t.ttl_enabled);
  b.setTtlAttribute(AsText(t.ttl_attribute));
}

void FillFunction(const FunctionEntryData& f, schema::FunctionEntry::Builder b) {
  b.setName(AsText(f.name));
  b.setKind(f.in_process ? schema::FunctionKind::IN_PROCESS : schema::FunctionKind::LIBRARY);
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
  b.setIsolation(f.isolation == 1 ? schema::FunctionIsolation::PROCESS
                                  : schema::FunctionIsolation::IN_PROCESS);
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
  f.isolation = r.getIsolation() == schema::FunctionIsolation::PROCESS ? 1 : 0;
  return f;
}

void FillMapping(const MappingEntryData& m, schema::MappingEntry::Builder b) {
  b.setId(m.id);
  b.setUuid(AsText(m.uuid));
  b.setFunctionName(AsText(m.function_name));
  b.setEventSourceArn(AsText(m.event_source_arn));
  b.setBatchSize(m.batch_size);
  b.setMaxBatchingWindowSeconds(m.max_batching_window_seconds);
  b.setStartingPosition(static_cast<schema::StartingPosition>(m.starting_position));
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
  b.setTumblingWindowSeconds(m.tumbling_window_seconds);
  if (!m.filter_patterns.empty()) {
    auto list = b.initFilterPatterns(static_cast<unsigned>(m.filter_patterns.size()));
    for (size_t i = 0; i < m.filter_patterns.size(); ++i) {
      list.set(static_cast<unsigned>(i), AsText(m.filter_patterns[i]));
    }
  }
  b.setParallelizationFactor(m.parallelization_factor);
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
  if (sp > 4) throw std::runtime_error("unknown starting position");
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
  for (auto p : r.getFilterPatterns()) m.filter_patterns.emplace_back(p.cStr(), p.size());
  m.parallelization_factor = std::max<uint8_t>(r.getParallelizationFactor(), 1);
  m.tumbling_window_seconds = r.getTumblingWindowSeconds();
  return m;
}

void FillSnapshotState(const SnapshotStateData& st, schema::Checkpoint::Builder cp) {
  if (!st.present()) return;
  cp.setSnapshotPhase(static_cast<schema::SnapshotPhase>(st.phase));
  cp.setSnapshotRecords(st.records);
  if (st.segments.empty()) return;
  auto list = cp.initSnapshotSegments(static_cast<unsigned>(st.segments.size()));
  for (size_t i = 0; i < st.segments.size(); ++i) {
    auto b = list[static_cast<unsigned>(i)];
    const std::string& k = st.segments[i].last_key;
    b.setLastKey(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(k.data()), k.size()));
    b.setSequence(st.segments[i].sequence);
  }
}

SnapshotStateData ReadSnapshotState(schema::Checkpoint::Reader cp) {
  SnapshotStateData st;
  const auto phase = static_cast<uint16_t>(cp.getSnapshotPhase());
  if (phase > 3) throw std::runtime_error("unknown snapshot phase " + std::to_string(phase));
  st.phase = static_cast<SnapshotPhase>(phase);
  st.records = cp.getSnapshotRecords();
  for (auto seg : cp.getSnapshotSegments()) {
    auto k = seg.getLastKey();
    st.segments.push_back(
        {std::string(reinterpret_cast<const char*>(k.begin()), k.size()), seg.getSequence()});
  }
  return st;
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
  t.hash_key_name = r.getHashKeyName().cStr();
  t.hash_key_type = r.getHashKeyType();
  t.range_key_name = r.getRangeKeyName().cStr();
  t.range_key_type = r.getRangeKeyType();
  if (t.typed() &&
      (t.hash_key_type < 1 || t.hash_key_type > 3 ||
       (!t.range_key_name.empty() && (t.range_key_type < 1 || t.range_key_type > 3)))) {
    throw std::runtime_error("table '" + t.name + "': unknown key attribute type");
  }
  t.ttl_enabled = r.getTtlEnabled();
  t.ttl_attribute = r.getTtlAttribute().cStr();
  return t;
}

}  // namespace

ChangeRecord ToChangeRecord(const ChangeData& c, uint64_t sequence, int64_t commit_time_micros,
                            std::string_view table) {
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
  r.size_bytes = static_cast<uint32_t>(c.key.size() + r.old_image.size() + r.new_image.size());
  return r;
}

void SetTableFields(const TableEntryData* table, bool ttl_delete, ChangeRecord* r) {
  r->ttl_delete = ttl_delete;
  if (table == nullptr || !table->typed()) return;
  r->typed = true;
  r->hash_key_name = table->hash_key_name;
  r->range_key_name = table->range_key_name;
}

void EncodeBatch(int64_t commit_time_micros, const std::vector<ChangeData>& changes,
                 const CheckpointData* checkpoint, uint8_t chain_depth, std::string* out,
                 bool ttl_delete) {
  size_t data_bytes = 0;
  for (const ChangeData& c : changes) {
    data_bytes +=
        c.key.size() + (c.has_old ? c.old_image.size() : 0) + (c.has_new ? c.new_image.size() : 0);
  }
  // One first segment large enough for the whole message keeps the payload a
  // single segment (no far pointers), which is cheapest to read.
  size_t checkpoint_words = 0;
  if (checkpoint != nullptr) {
    checkpoint_words = checkpoint->result.size() / 8 + 12 + checkpoint->lane_positions.size() +
                       checkpoint->window_state.size() / 8 + 4;
    for (const auto& seg : checkpoint->snapshot.segments) {
      checkpoint_words += seg.last_key.size() / 8 + 5;
    }
  }
  const size_t words = (data_bytes + 7) / 8 + 4 * changes.size() + 32 + checkpoint_words;
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
    cp.setResult(checkpoint->result.empty()
                     ? capnp::Text::Reader("", 0)
                     : capnp::Text::Reader(checkpoint->result.data(), checkpoint->result.size()));
    if (!checkpoint->lane_positions.empty()) {
      auto lanes = cp.initLanePositions(static_cast<unsigned>(checkpoint->lane_positions.size()));
      for (size_t i = 0; i < checkpoint->lane_positions.size(); ++i) {
        lanes.set(static_cast<unsigned>(i), checkpoint->lane_positions[i]);
      }
    }
    if (checkpoint->has_window) {
      cp.setWindowStartMicros(checkpoint->window_start_micros);
      cp.setWindowState(
          // (A Text::Reader needs a NUL-terminated pointer, never null: an
          // empty view may have none.)
          checkpoint->window_state.empty() ? capnp::Text::Reader("", 0)
                                           : capnp::Text::Reader(checkpoint->window_state.data(),
                                                                 checkpoint->window_state.size()));
    }
    FillSnapshotState(checkpoint->snapshot, cp);
  }
  root.setChainDepth(chain_depth);
  root.setTtlDelete(ttl_delete);
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
    case MetaData::Kind::kUpdateTimeToLive: {
      auto u = root.initUpdateTimeToLive();
      u.setTtlTableId(meta.table_id);
      u.setTtlEnabled(meta.ttl_enabled);
      u.setTtlAttribute(AsText(meta.ttl_attribute));
      break;
    }
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
  auto functions = root.initFunctions(static_cast<unsigned>(catalog.functions.size()));
  for (size_t i = 0; i < catalog.functions.size(); ++i) {
    FillFunction(catalog.functions[i], functions[static_cast<unsigned>(i)]);
  }
  auto mappings = root.initMappings(static_cast<unsigned>(catalog.mappings.size()));
  for (size_t i = 0; i < catalog.mappings.size(); ++i) {
    FillMapping(catalog.mappings[i], mappings[static_cast<unsigned>(i)]);
  }
  root.setNextMappingId(catalog.next_mapping_id);
  AppendFlat(builder, out);
}

namespace {

// Where BatchFrame's and Change's fields lie, read from the compiled schema
// (so a schema change cannot leave this decoder reading stale offsets).
struct BatchLayout {
  bool usable = false;  // false: every field has a zero default, or give up
  // BatchFrame: byte offsets in the data section, pointer indexes.
  uint32_t commit_time = 0, chain_depth = 0, ttl_delete_bit = 0;
  uint32_t changes = 0, data = 0, checkpoint = 0;
  // Change: byte offsets, and bit offsets for the Bools.
  uint32_t table_id = 0, event = 0, view = 0, key_size = 0, old_image_size = 0, new_image_size = 0,
           old_size = 0;
  uint32_t has_old_bit = 0, has_new_bit = 0;
};

// The byte (bit, for Bool) offset of a slot field, or UINT32_MAX if the
// field has a default other than zero (reading raw bytes would be wrong).
uint32_t SlotOffset(capnp::StructSchema schema, const char* name) {
  const auto field = schema.getFieldByName(name);
  const auto slot = field.getProto().getSlot();
  if (slot.getHadExplicitDefault()) return UINT32_MAX;
  const uint32_t offset = slot.getOffset();
  switch (field.getType().which()) {
    case capnp::schema::Type::BOOL:
    case capnp::schema::Type::TEXT:
    case capnp::schema::Type::DATA:
    case capnp::schema::Type::LIST:
    case capnp::schema::Type::STRUCT:
      return offset;  // bits, or a pointer index
    case capnp::schema::Type::UINT8:
      return offset;
    case capnp::schema::Type::ENUM:
      return offset * 2;
    case capnp::schema::Type::UINT32:
      return offset * 4;
    case capnp::schema::Type::INT64:
      return offset * 8;
    default:
      return UINT32_MAX;
  }
}

const BatchLayout& Layout() {
  static const BatchLayout layout = [] {
    BatchLayout l;
    const auto frame = capnp::Schema::from<schema::BatchFrame>();
    const auto change = capnp::Schema::from<schema::Change>();
    const uint32_t v[] = {
        l.commit_time = SlotOffset(frame, "commitTimeMicros"),
        l.chain_depth = SlotOffset(frame, "chainDepth"),
        l.ttl_delete_bit = SlotOffset(frame, "ttlDelete"),
        l.changes = SlotOffset(frame, "changes"),
        l.data = SlotOffset(frame, "data"),
        l.checkpoint = SlotOffset(frame, "checkpoint"),
        l.table_id = SlotOffset(change, "tableId"),
        l.event = SlotOffset(change, "event"),
        l.view = SlotOffset(change, "view"),
        l.key_size = SlotOffset(change, "keySize"),
        l.old_image_size = SlotOffset(change, "oldImageSize"),
        l.new_image_size = SlotOffset(change, "newImageSize"),
        l.old_size = SlotOffset(change, "oldSize"),
        l.has_old_bit = SlotOffset(change, "hasOldImage"),
        l.has_new_bit = SlotOffset(change, "hasNewImage"),
    };
    l.usable = std::none_of(std::begin(v), std::end(v), [](uint32_t x) { return x == UINT32_MAX; });
    return l;
  }();
  return layout;
}

// A struct's data section: fields past its end read as zero (a struct
// written by an older schema), as Cap'n Proto reads them.
struct DataSection {
  const char* p;
  uint64_t bytes;
  template <typename T>
  T Get(uint32_t offset) const {
    T v = 0;
    if (offset + sizeof(T) <= bytes) std::memcpy(&v, p + offset, sizeof(T));
    return v;
  }
  bool Bit(uint32_t bit) const {
    return bit / 8 < bytes && ((static_cast<uint8_t>(p[bit / 8]) >> (bit % 8)) & 1) != 0;
  }
};

// The signed word offset of a struct or list pointer.
int64_t PointerOffset(uint64_t w) { return static_cast<int32_t>(static_cast<uint32_t>(w)) >> 2; }

// Every change owns at least one byte of `data` (its key) and a struct of its
// own in the list: a list that claims more (zero-sized elements cost nothing
// on the wire) would make a decoder allocate far more than the frame holds.
bool ChangesCanFit(uint64_t count, std::string_view data, std::string_view payload) {
  return count <= data.size() && count <= payload.size() / 16;
}

enum class ChangeCheck { kOk, kUnknownEvent, kUnknownView, kNoKey, kSizesExceedData };

// Checks a change's fields and takes its bytes from `data` at *offset, as
// both decoders do.
ChangeCheck FinishChange(uint32_t table_id, uint16_t event, uint16_t view, bool has_old,
                         bool has_new, uint32_t key_size, uint32_t old_image_size,
                         uint32_t new_image_size, uint32_t old_size, std::string_view data,
                         size_t* offset, ChangeData* c) {
  // Takes the next n bytes of `data`; false if the sizes run past it.
  auto take = [&](uint32_t n, std::string_view* out) {
    if (n > data.size() - *offset) return false;
    *out = data.substr(*offset, n);
    *offset += n;
    return true;
  };
  if (event > 2) return ChangeCheck::kUnknownEvent;
  if (view > static_cast<uint16_t>(View::kNewAndOldImages)) return ChangeCheck::kUnknownView;
  c->table_id = table_id;
  c->old_image = {};
  c->new_image = {};
  c->event = static_cast<EventName>(event + 1);
  c->view = static_cast<View>(view);
  c->has_old = has_old;
  c->has_new = has_new;
  c->old_size = old_size;
  if (key_size == 0) return ChangeCheck::kNoKey;
  if (!take(key_size, &c->key) || (has_old && !take(old_image_size, &c->old_image)) ||
      (has_new && !take(new_image_size, &c->new_image))) {
    return ChangeCheck::kSizesExceedData;
  }
  return ChangeCheck::kOk;
}

}  // namespace

// Why a second decoder: Cap'n Proto's checked reader costs ~900 instructions
// per message (arena set-up, segment lookup, pointer validation through
// virtual calls), more than everything else a stream reader does per record
// when each frame holds one put. This one reads the same bytes with the same
// bounds checks in ~100 and gives up (to the reference) on anything unusual.
bool DecodeBatchFast(std::string_view payload, BatchData* batch) {
  const BatchLayout& l = Layout();
  if (!l.usable || payload.size() < 16 || payload.size() % 8 != 0) return false;
  const char* base = payload.data();
  auto word = [base](uint64_t i) { return DecodeFixed64(base + i * 8); };
  // Segment table: one segment, right after the table's one word.
  const uint64_t total_words = payload.size() / 8;
  const uint64_t table = word(0);
  if (static_cast<uint32_t>(table) != 0) return false;  // more than one segment
  const uint64_t n = table >> 32;                       // segment size in words
  if (n == 0 || n > total_words - 1) return false;
  const char* seg = base + 8;
  auto sword = [seg](uint64_t i) { return DecodeFixed64(seg + i * 8); };

  // Root: a struct pointer at word 0.
  const uint64_t root = sword(0);
  if (root == 0 || (root & 3) != 0) return false;
  const int64_t root_at = 1 + PointerOffset(root);
  const uint64_t root_data = (root >> 32) & 0xffff, root_ptrs = root >> 48;
  if (root_at < 0 || static_cast<uint64_t>(root_at) + root_data + root_ptrs > n) return false;
  const DataSection root_section{seg + root_at * 8, root_data * 8};
  auto pointer_index = [&](uint32_t i) -> int64_t {
    return i < root_ptrs ? root_at + static_cast<int64_t>(root_data + i) : -1;
  };
  if (const int64_t cp = pointer_index(l.checkpoint); cp >= 0 && sword(cp) != 0) return false;

  // data: a byte list (Data), or null for empty.
  std::string_view data;
  if (const int64_t dp = pointer_index(l.data); dp >= 0 && sword(dp) != 0) {
    const uint64_t w = sword(dp);
    if ((w & 3) != 1 || ((w >> 32) & 7) != 2) return false;
    const int64_t at = dp + 1 + PointerOffset(w);
    const uint64_t bytes = w >> 35;
    if (at < 0 || static_cast<uint64_t>(at) + (bytes + 7) / 8 > n) return false;
    data = std::string_view(seg + at * 8, bytes);
  }

  // changes: a composite list of Change structs, or null for none.
  uint64_t count = 0, stride = 0, elem_data = 0;
  const char* elems = nullptr;
  if (const int64_t lp = pointer_index(l.changes); lp >= 0 && sword(lp) != 0) {
    const uint64_t w = sword(lp);
    if ((w & 3) != 1 || ((w >> 32) & 7) != 7) return false;
    const int64_t at = lp + 1 + PointerOffset(w);
    const uint64_t words = w >> 35;
    if (at < 0 || static_cast<uint64_t>(at) + 1 + words > n) return false;
    const uint64_t tag = sword(at);
    if ((tag & 3) != 0) return false;
    count = static_cast<uint32_t>(tag) >> 2;
    elem_data = (tag >> 32) & 0xffff;
    stride = elem_data + (tag >> 48);
    if (count * stride > words) return false;
    // Zero-sized elements: leave the amplification rules to the reference.
    if (stride == 0 && count > 0) return false;
    elems = seg + (at + 1) * 8;
  }
  if (!ChangesCanFit(count, data, payload)) return false;

  batch->commit_time_micros = root_section.Get<int64_t>(l.commit_time);
  batch->changes.resize(count);
  size_t offset = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const DataSection c{elems + i * stride * 8, elem_data * 8};
    if (FinishChange(c.Get<uint32_t>(l.table_id), c.Get<uint16_t>(l.event), c.Get<uint16_t>(l.view),
                     c.Bit(l.has_old_bit), c.Bit(l.has_new_bit), c.Get<uint32_t>(l.key_size),
                     c.Get<uint32_t>(l.old_image_size), c.Get<uint32_t>(l.new_image_size),
                     c.Get<uint32_t>(l.old_size), data, &offset,
                     &batch->changes[i]) != ChangeCheck::kOk) {
      return false;
    }
  }
  if (offset != data.size()) return false;
  // Both decoders leave a default checkpoint when there is none: resetting
  // only after a checkpoint frame keeps a reader's per frame work small.
  if (batch->has_checkpoint) batch->checkpoint = CheckpointData();
  batch->has_checkpoint = false;
  batch->chain_depth = root_section.Get<uint8_t>(l.chain_depth);
  batch->ttl_delete = root_section.Bit(l.ttl_delete_bit);
  return true;
}

Status DecodeBatch(std::string_view payload, BatchData* batch) {
  if (DecodeBatchFast(payload, batch)) return Status::OK();
  return DecodeBatchWithCapnp(payload, batch);
}

Status DecodeBatchWithCapnp(std::string_view payload, BatchData* batch) {
  return Guard("batch frame", [&] {
    auto words = AsWords(payload);
    capnp::FlatArrayMessageReader reader(words, LimitsFor(words.size()));
    auto root = reader.getRoot<schema::BatchFrame>();
    batch->commit_time_micros = root.getCommitTimeMicros();
    auto list = root.getChanges();
    const std::string_view data = AsView(root.getData());
    size_t offset = 0;
    if (!ChangesCanFit(list.size(), data, payload)) {
      return Status::Corruption("batch frame: " + std::to_string(list.size()) +
                                " changes cannot fit in a frame of " +
                                std::to_string(payload.size()) + " bytes");
    }
    batch->changes.clear();
    batch->changes.reserve(list.size());
    for (auto r : list) {
      ChangeData c;
      const auto event = static_cast<uint16_t>(r.getEvent());
      const auto view = static_cast<uint16_t>(r.getView());
      switch (FinishChange(r.getTableId(), event, view, r.getHasOldImage(), r.getHasNewImage(),
                           r.getKeySize(), r.getOldImageSize(), r.getNewImageSize(), r.getOldSize(),
                           data, &offset, &c)) {
        case ChangeCheck::kOk:
          break;
        case ChangeCheck::kUnknownEvent:
          return Status::Corruption("batch frame: unknown event " + std::to_string(event));
        case ChangeCheck::kUnknownView:
          return Status::Corruption("batch frame: unknown stream view " + std::to_string(view));
        case ChangeCheck::kNoKey:
          return Status::Corruption("batch frame: a change without a key");
        case ChangeCheck::kSizesExceedData:
          return Status::Corruption("batch frame: change sizes exceed its data");
      }
      batch->changes.push_back(c);
    }
    if (offset != data.size()) {
      return Status::Corruption("batch frame: data holds bytes of no change");
    }
    // A reused BatchData may hold an earlier frame's checkpoint (its lane
    // positions would otherwise be appended to).
    batch->checkpoint = CheckpointData();
    batch->has_checkpoint = root.hasCheckpoint();
    if (batch->has_checkpoint) {
      auto cp = root.getCheckpoint();
      batch->checkpoint.mapping_id = cp.getMappingId();
      batch->checkpoint.position = cp.getPosition();
      auto text = cp.getResult();
      batch->checkpoint.result = std::string_view(text.cStr(), text.size());
      for (uint64_t lane : cp.getLanePositions()) batch->checkpoint.lane_positions.push_back(lane);
      batch->checkpoint.has_window = cp.hasWindowState();
      if (batch->checkpoint.has_window) {
        batch->checkpoint.window_start_micros = cp.getWindowStartMicros();
        auto state = cp.getWindowState();
        batch->checkpoint.window_state = std::string_view(state.cStr(), state.size());
      }
      batch->checkpoint.snapshot = ReadSnapshotState(cp);
    }
    batch->chain_depth = root.getChainDepth();
    batch->ttl_delete = root.getTtlDelete();
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
      case schema::MetaFrame::UPDATE_TIME_TO_LIVE: {
        meta->kind = MetaData::Kind::kUpdateTimeToLive;
        auto u = root.getUpdateTimeToLive();
        meta->table_id = u.getTtlTableId();
        meta->ttl_enabled = u.getTtlEnabled();
        meta->ttl_attribute = u.getTtlAttribute().cStr();
        break;
      }
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
