// Copyright 2026 The runnel Authors.
//
// ParallelizationFactor at run time, with a real plugin (dlopen): records of
// one key are delivered in order under 4 lanes; every record is delivered
// and written back exactly once (also across a restart in the middle and a
// factor change); lanes really invoke at once; bad factors are refused and
// change nothing.

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <dlfcn.h>
#include <xxhash.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "cdc/codec.h"
#include "cdc/log.capnp.h"
#include "db/db_internal.h"
#include "runnel/db.h"
#include "runnel/triggers.h"
#include "tests/testutil.h"
#include "triggers/mapping_lanes.h"

namespace runnel {
namespace {

using test::Numbered;
using test::Stream;
using test::TempDir;

class TriggersLanes : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(bool run = true) {
    if (db_) ASSERT_OK(db_->Close());
    db_.reset();
    Options o;
    o.run_triggers = run;
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
  }
  Triggers* t() { return db_->triggers(); }
  void Idle() { ASSERT_OK(t()->WaitUntilIdle(std::chrono::seconds(60))); }
  // Table "src" with a stream, table "Seen" (its stream shows a write-back
  // committed twice as a MODIFY) and function "lanes".
  void MakeSource(int sleep_ms = 0, const std::string& fail_key = "",
                  FunctionIsolation isolation = FunctionIsolation::kInProcess) {
    ASSERT_OK(db_->CreateTable("src", Stream(StreamViewType::kNewAndOldImages)));
    ASSERT_OK(db_->CreateTable("Seen", Stream(StreamViewType::kNewImage)));
    FunctionConfiguration f;
    f.function_name = "lanes";
    f.library = LANES_FUNCTION;
    f.environment = {{"TARGET", "Seen"}};
    if (sleep_ms != 0) f.environment["SLEEP_MS"] = std::to_string(sleep_ms);
    if (!fail_key.empty()) f.environment["FAIL_KEY"] = fail_key;
    f.isolation = isolation;
    ASSERT_OK(t()->CreateFunction(f, nullptr));
  }
  std::string CreateMapping(uint32_t factor, uint32_t batch_size,
                            StartingPosition start = StartingPosition::kTrimHorizon) {
    EventSourceMappingConfiguration m;
    m.starting_position = start;
    m.function_name = "lanes";
    m.event_source = "src";
    m.batch_size = batch_size;
    m.parallelization_factor = factor;
    EventSourceMappingConfiguration created;
    EXPECT_OK(t()->CreateEventSourceMapping(m, &created));
    EXPECT_EQ(created.parallelization_factor, factor);
    return created.uuid;
  }
  // `versions` rounds over `keys` keys: the keys interleave in the stream.
  void PutRounds(int keys, int versions, int first_version = 0) {
    for (int v = first_version; v < first_version + versions; ++v) {
      for (int k = 0; k < keys; ++k) {
        ASSERT_OK(db_->Put(WriteOptions(), "src", Numbered("k", k), Numbered("v", v)));
      }
    }
  }
  size_t SeenCount() {
    std::vector<std::pair<std::string, std::string>> items;
    EXPECT_OK(test::ScanAll(db_.get(), "Seen", &items));
    return items.size();
  }
  // Every record of src was written back exactly once, for its own key, and
  // each key's records were delivered in sequence order. Returns the number
  // of src records.
  size_t CheckExactlyOnceInOrder(const std::string& never_key = "") {
    std::vector<test::Rec> recs;
    EXPECT_OK(test::ReadAll(db_.get(), 0, &recs));
    std::map<uint64_t, std::string> src;  // seq -> key
    size_t seen_inserts = 0;
    for (const auto& r : recs) {
      if (r.table == "src" && r.key != never_key) src[r.seq] = r.key;
      if (r.table == "Seen") {
        EXPECT_EQ(r.event, EventName::kInsert) << "a write-back committed twice: " << r.key;
        ++seen_inserts;
      }
    }
    std::vector<std::pair<std::string, std::string>> items;
    EXPECT_OK(test::ScanAll(db_.get(), "Seen", &items));
    EXPECT_EQ(items.size(), src.size());
    EXPECT_EQ(seen_inserts, src.size());
    std::map<std::string, uint64_t> last_delivery;  // key -> delivery
    std::map<uint64_t, std::pair<std::string, uint64_t>> by_seq;
    for (const auto& [k, v] : items) {
      const size_t space = v.rfind(' '), dot = v.rfind('.');
      by_seq[std::stoull(k)] = {v.substr(0, space), std::stoull(v.substr(dot + 1))};
    }
    for (const auto& [seq, key] : src) {
      auto it = by_seq.find(seq);
      if (it == by_seq.end()) {
        ADD_FAILURE() << "record " << seq << " (key " << key << ") was never delivered";
        continue;
      }
      EXPECT_EQ(it->second.first, key) << "record " << seq;
      auto& last = last_delivery[key];
      EXPECT_GT(it->second.second, last)
          << "key " << key << ": record " << seq << " was delivered before an earlier one";
      last = it->second.second;
    }
    return src.size();
  }
  MappingMetrics Metrics(const std::string& uuid) {
    MappingMetrics m;
    EXPECT_OK(t()->GetMappingMetrics(uuid, &m));
    return m;
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(TriggersLanes, KeysStayInOrderUnderFourLanes) {
  void* lib = dlopen(LANES_FUNCTION, RTLD_NOW);  // the runtime's own copy
  ASSERT_NE(lib, nullptr) << dlerror();
  auto max_batch = reinterpret_cast<size_t (*)()>(dlsym(lib, "lanes_max_batch"));
  ASSERT_NE(max_batch, nullptr);
  MakeSource();
  // A backlog first: the lanes start with full batches to take.
  PutRounds(/*keys=*/200, /*versions=*/8);
  const std::string uuid = CreateMapping(4, 7);
  Idle();
  EXPECT_EQ(CheckExactlyOnceInOrder(), 1600u);
  const MappingMetrics m = Metrics(uuid);
  EXPECT_EQ(m.records_in, 1600u);
  EXPECT_EQ(m.concurrent_lanes, 0u);  // caught up
  // Each lane's batches hold up to BatchSize of its own records: full ones
  // from a backlog (all but each lane's last), never more.
  EXPECT_EQ(max_batch(), 7u);
  EXPECT_GE(m.invocations, 1600u / 7);
  EXPECT_LE(m.invocations, 1600u / 7 + 4);
  dlclose(lib);
}

TEST_F(TriggersLanes, ExactlyOnceAcrossRestartsInTheMiddle) {
  MakeSource(/*sleep_ms=*/2);
  CreateMapping(4, 5);
  PutRounds(60, 5);
  // Closed while the lanes are busy, at uneven positions: each resumes from
  // its own.
  ASSERT_TRUE(test::WaitFor([&] { return SeenCount() >= 40; }, std::chrono::seconds(30)));
  Open();
  PutRounds(60, 5, 5);
  ASSERT_TRUE(test::WaitFor([&] { return SeenCount() >= 350; }, std::chrono::seconds(30)));
  Open();
  Idle();
  EXPECT_EQ(CheckExactlyOnceInOrder(), 600u);
}

TEST_F(TriggersLanes, LanesInvokeConcurrently) {
  void* lib = dlopen(LANES_FUNCTION, RTLD_NOW);  // the runtime's own copy
  ASSERT_NE(lib, nullptr) << dlerror();
  auto max_in_flight = reinterpret_cast<int (*)()>(dlsym(lib, "lanes_max_in_flight"));
  auto reset = reinterpret_cast<void (*)()>(dlsym(lib, "lanes_reset"));
  ASSERT_NE(max_in_flight, nullptr);
  MakeSource(/*sleep_ms=*/20);
  // One lane: never two invocations at once.
  reset();
  const std::string one = CreateMapping(1, 1);
  PutRounds(16, 1);
  Idle();
  EXPECT_EQ(max_in_flight(), 1);
  EventSourceMappingConfiguration deleted;
  ASSERT_OK(t()->DeleteEventSourceMapping(one, &deleted));
  // Four lanes: batches of different lanes overlap, and the metric sees
  // more than one lane at work.
  reset();
  const std::string four = CreateMapping(4, 1, StartingPosition::kLatest);
  PutRounds(64, 1, 1);
  bool seen_lanes = false;
  ASSERT_TRUE(test::WaitFor(
      [&] {
        seen_lanes |= Metrics(four).concurrent_lanes >= 2;
        return t()->WaitUntilIdle(std::chrono::milliseconds(1)).ok();
      },
      std::chrono::seconds(60)));
  EXPECT_GE(max_in_flight(), 2);
  EXPECT_LE(max_in_flight(), 4);
  EXPECT_TRUE(seen_lanes);
  EXPECT_EQ(CheckExactlyOnceInOrder(), 16u + 64u);
  dlclose(lib);
}

TEST_F(TriggersLanes, FactorChangesByUpdateLoseAndRepeatNothing) {
  MakeSource(/*sleep_ms=*/1);
  const std::string uuid = CreateMapping(4, 3);
  PutRounds(50, 4);
  // Changed while lanes are at uneven positions, several times.
  for (uint32_t factor : {2u, 10u, 1u, 3u}) {
    ASSERT_TRUE(test::WaitFor([&] { return SeenCount() >= 20; }, std::chrono::seconds(30)));
    EventSourceMappingUpdate u;
    u.parallelization_factor = factor;
    EventSourceMappingConfiguration updated;
    ASSERT_OK(t()->UpdateEventSourceMapping(uuid, u, &updated));
    EXPECT_EQ(updated.parallelization_factor, factor);
    PutRounds(50, 1, static_cast<int>(10 + factor));
  }
  Idle();
  EXPECT_EQ(CheckExactlyOnceInOrder(), 200u + 4 * 50u);
  EventSourceMappingConfiguration got;
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &got));
  EXPECT_EQ(got.parallelization_factor, 3u);
}

TEST_F(TriggersLanes, FactorChangedWhileStoppedDrainsTheOldLanesFirst) {
  MakeSource(/*sleep_ms=*/2);
  const std::string uuid = CreateMapping(4, 4);
  PutRounds(80, 3);
  ASSERT_TRUE(test::WaitFor([&] { return SeenCount() >= 30; }, std::chrono::seconds(30)));
  // Stopped with the 4 lanes' positions in the checkpoint, changed to 3
  // while no runtime runs: the next start drains the 4 lanes, then splits
  // in 3.
  Open(/*run=*/false);
  EventSourceMappingUpdate u;
  u.parallelization_factor = 3;
  ASSERT_OK(t()->UpdateEventSourceMapping(uuid, u, nullptr));
  PutRounds(80, 1, 3);
  Open();
  Idle();

  EXPECT_EQ(CheckExactlyOnceInOrder(), 320u);
}

TEST_F(TriggersLanes, OneLaneCheckpointResumesUnderFourLanes) {
  MakeSource(/*sleep_ms=*/1);
  const std::string uuid = CreateMapping(1, 10);
  PutRounds(40, 5);
  ASSERT_TRUE(test::WaitFor([&] { return SeenCount() >= 50; }, std::chrono::seconds(30)));
  // A checkpoint without lanes (as every checkpoint older than lanes is):
  // each of the 4 lanes starts from its position.
  Open(/*run=*/false);
  EventSourceMappingUpdate u;
  u.parallelization_factor = 4;
  ASSERT_OK(t()->UpdateEventSourceMapping(uuid, u, nullptr));
  Open();
  PutRounds(40, 1, 5);
  Idle();
  EXPECT_EQ(CheckExactlyOnceInOrder(), 240u);
}

TEST_F(TriggersLanes, AFailingBatchBlocksOnlyItsLaneAndIsBisectedToTheDestination) {
  MakeSource(/*sleep_ms=*/0, /*fail_key=*/"k7");
  ASSERT_OK(db_->CreateTable("Failed", StreamSpecification()));
  PutRounds(100, 1);
  EventSourceMappingConfiguration m;
  m.function_name = "lanes";
  m.event_source = "src";
  m.batch_size = 8;
  m.parallelization_factor = 4;
  m.maximum_retry_attempts = 6;  // backoffs of 50 ms to 1.6 s: 3.1 s blocked
  m.bisect_batch_on_function_error = true;
  m.on_failure_destination = "Failed";
  EventSourceMappingConfiguration created;
  ASSERT_OK(t()->CreateEventSourceMapping(m, &created));
  // While k7's lane retries, the other lanes deliver all their records.
  size_t other_lanes = 0;
  for (int k = 0; k < 100; ++k) {
    const std::string key = Numbered("k", k);
    other_lanes += XXH3_64bits(key.data(), key.size()) % 4 != XXH3_64bits("k7", 2) % 4;
  }
  ASSERT_TRUE(test::WaitFor([&] { return SeenCount() >= other_lanes; }, std::chrono::seconds(30)));
  EXPECT_EQ(Metrics(created.uuid).records_failed, 0u);
  // A lane waiting out its failing batch's backoff counts as idle: wait for
  // the discard first.
  ASSERT_TRUE(test::WaitFor([&] { return Metrics(created.uuid).records_failed == 1; },
                            std::chrono::seconds(30)));
  Idle();
  // Every other record was delivered once, in order per key; k7's lane
  // bisected its batch down to k7 alone, retried it, and sent it to the
  // failure destination.
  EXPECT_EQ(CheckExactlyOnceInOrder(/*never_key=*/"k7"), 99u);
  std::vector<std::pair<std::string, std::string>> failed;
  ASSERT_OK(test::ScanAll(db_.get(), "Failed", &failed));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].second.find("\"batchSize\":1"), std::string::npos) << failed[0].second;
  const MappingMetrics metrics = Metrics(created.uuid);
  EXPECT_EQ(metrics.records_failed, 1u);
  EXPECT_GE(metrics.errors, 2u);
}

TEST_F(TriggersLanes, IsolatedFunctionsRunAWorkerPerLane) {
  ::setenv("RUNNEL_WORKER", RUNNEL_WORKER_PATH, 1);
  MakeSource(/*sleep_ms=*/1, "", FunctionIsolation::kProcess);
  PutRounds(30, 4);
  CreateMapping(3, 5);
  Idle();
  EXPECT_EQ(CheckExactlyOnceInOrder(), 120u);
}

// The durable formats: a mapping written before lanes existed reads as one
// lane; a checkpoint keeps its lanes' positions, and one without them (all
// older ones) reads with none.
TEST(LanesFormat, OlderMappingsAreOneLaneAndCheckpointsKeepTheirLanes) {
  capnp::MallocMessageBuilder builder;
  auto entry = builder.initRoot<schema::MetaFrame>().initPutMapping();
  entry.setId(3);
  entry.setUuid("u");
  entry.setBatchSize(100);
  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  log::MetaData meta;
  ASSERT_OK(log::DecodeMeta(
      std::string_view(reinterpret_cast<const char*>(words.begin()), words.size() * 8), &meta));
  EXPECT_EQ(meta.mapping.parallelization_factor, 1);

  log::CheckpointData cp;
  cp.mapping_id = 3;
  cp.position = 42;
  cp.result = "OK";
  std::string payload;
  log::EncodeBatch(0, {}, &cp, 0, &payload);
  log::BatchData batch;
  ASSERT_OK(log::DecodeBatch(payload, &batch));
  EXPECT_EQ(batch.checkpoint.position, 42u);
  EXPECT_TRUE(batch.checkpoint.lane_positions.empty());

  cp.lane_positions = {50, 42, 60, 44};
  payload.clear();
  log::EncodeBatch(0, {}, &cp, 0, &payload);
  ASSERT_OK(log::DecodeBatch(payload, &batch));
  EXPECT_EQ(batch.checkpoint.lane_positions, (std::vector<uint64_t>{50, 42, 60, 44}));
  // A reader decodes frame after frame into one BatchData: the next
  // checkpoint's lanes replace the last one's, a frame without a checkpoint
  // shows none.
  ASSERT_OK(log::DecodeBatch(payload, &batch));
  EXPECT_EQ(batch.checkpoint.lane_positions, (std::vector<uint64_t>{50, 42, 60, 44}));
  log::ChangeData change;
  change.table_id = 1;
  change.key = "k";
  change.has_new = true;
  change.new_image = "v";
  payload.clear();
  log::EncodeBatch(0, {change}, nullptr, 0, &payload);
  ASSERT_OK(log::DecodeBatch(payload, &batch));
  EXPECT_FALSE(batch.has_checkpoint);
  EXPECT_TRUE(batch.checkpoint.lane_positions.empty());
  EXPECT_EQ(batch.checkpoint.position, 0u);
}

// A lane that has not invoked since it started (say, it only moved past
// filtered-out records) has no result of its own: its checkpoint must not
// take back the "OK" another lane committed, nor the one a restart found.
TEST_F(TriggersLanes, ALaneWithNoResultOfItsOwnKeepsTheMappingsResult) {
  Open(/*run=*/false);
  MakeSource();
  const std::string uuid = CreateMapping(2, 10);
  auto* db = dynamic_cast<DBInternal*>(db_.get());
  ASSERT_NE(db, nullptr);
  uint32_t id = 0;
  uint64_t start = 0;
  const auto cat = db->CurrentCatalog();
  for (const auto& e : cat->data().mappings) {
    if (e.uuid == uuid) {
      id = e.id;
      start = e.initial_position;
    }
  }
  ASSERT_NE(id, 0u);
  uint64_t position = 0;
  std::string result;
  {
    LaneCheckpoints lanes(db, id, {start, start});
    ASSERT_OK(lanes.Commit(0, start + 1, "OK", WriteBatch(), {}, 0));
    ASSERT_OK(lanes.Commit(1, start + 2, "", WriteBatch(), {}, 0));
    ASSERT_TRUE(db->ReadCheckpoint(id, &position, &result));
    EXPECT_EQ(result, "OK");
    EXPECT_EQ(position, start + 1);
  }
  // After a restart: the lanes start over with no result of their own.
  LaneCheckpoints lanes(db, id, {start + 1, start + 2});
  ASSERT_OK(lanes.Commit(0, start + 3, "", WriteBatch(), {}, 0));
  ASSERT_TRUE(db->ReadCheckpoint(id, &position, &result));
  EXPECT_EQ(result, "OK");
  EXPECT_EQ(position, start + 2);
}

// Lane positions are kept in the index only while the lanes differ: once
// they are even again the entry goes, also when they became uneven before a
// reopen (else a restart would resume the lanes from the stale positions and
// deliver their records again).
TEST_F(TriggersLanes, EvenLanesDropTheirPositionsAlsoAfterAReopen) {
  Open(/*run=*/false);
  MakeSource();
  const std::string uuid = CreateMapping(2, 10);
  auto mapping = [&](uint32_t* id, uint64_t* start) {
    auto* db = dynamic_cast<DBInternal*>(db_.get());
    const auto cat = db->CurrentCatalog();
    for (const auto& e : cat->data().mappings) {
      if (e.uuid == uuid) {
        *id = e.id;
        *start = e.initial_position;
      }
    }
    return db;
  };
  uint32_t id = 0;
  uint64_t start = 0;
  {
    DBInternal* db = mapping(&id, &start);
    LaneCheckpoints lanes(db, id, {start, start});
    ASSERT_OK(lanes.Commit(0, start + 5, "OK", WriteBatch(), {}, 0));
    EXPECT_EQ(db->ReadCheckpointLanes(id), (std::vector<uint64_t>{start + 5, start}));
  }
  Open(/*run=*/false);
  DBInternal* db = mapping(&id, &start);
  EXPECT_EQ(db->ReadCheckpointLanes(id), (std::vector<uint64_t>{start + 5, start}));
  LaneCheckpoints lanes(db, id, {start + 5, start});
  ASSERT_OK(lanes.Commit(1, start + 5, "OK", WriteBatch(), {}, 0));
  EXPECT_TRUE(db->ReadCheckpointLanes(id).empty());
  Open(/*run=*/false);
  db = mapping(&id, &start);
  EXPECT_TRUE(db->ReadCheckpointLanes(id).empty());
  uint64_t position = 0;
  std::string result;
  ASSERT_TRUE(db->ReadCheckpoint(id, &position, &result));
  EXPECT_EQ(position, start + 5);
}

TEST_F(TriggersLanes, BadFactorsAreRefusedAndChangeNothing) {
  MakeSource();
  for (uint32_t bad : {0u, 11u, 1000u}) {
    EventSourceMappingConfiguration m;
    m.function_name = "lanes";
    m.event_source = "src";
    m.parallelization_factor = bad;
    Status s = t()->CreateEventSourceMapping(m, nullptr);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(s.message(), "parallelization factor: must be 1 to 10, got " + std::to_string(bad));
  }
  std::vector<EventSourceMappingConfiguration> all;
  std::string next;
  ASSERT_OK(t()->ListEventSourceMappings("", "", "", 0, &all, &next));
  EXPECT_TRUE(all.empty());
  const std::string uuid = CreateMapping(10, 100);
  EventSourceMappingUpdate u;
  u.parallelization_factor = 11;
  EXPECT_TRUE(t()->UpdateEventSourceMapping(uuid, u, nullptr).IsInvalidArgument());
  EventSourceMappingConfiguration got;
  ASSERT_OK(t()->GetEventSourceMapping(uuid, &got));
  EXPECT_EQ(got.parallelization_factor, 10u);
  // The default is one lane.
  EventSourceMappingConfiguration m;
  m.function_name = "lanes";
  m.event_source = "src";
  EventSourceMappingConfiguration created;
  ASSERT_OK(t()->CreateEventSourceMapping(m, &created));
  EXPECT_EQ(created.parallelization_factor, 1u);
}

}  // namespace
}  // namespace runnel
