// Copyright 2026 The runnel Authors.
//
// Model test: random puts, deletes, batches and stream toggles over several
// tables, checked against a std::map model — both the tables' contents and
// the exact sequence of change records (events, images, sequence numbers) —
// across view types and option combinations, with reopens in between.

#include <map>
#include <optional>
#include <random>
#include <thread>

#include "tests/testutil.h"

namespace runnel {
namespace {

using test::Numbered;
using test::ReadAll;
using test::Rec;
using test::TempDir;

struct ModelTable {
  std::string name;
  std::optional<StreamViewType> view;  // the enabled stream, if any
  std::map<std::string, std::string> items;
};

class Model {
 public:
  explicit Model(SequenceNumber next) : next_seq_(next) {}

  void Meta() { ++next_seq_; }
  // Applies one operation; appends the expected record if it changes
  // anything. Returns true if it changed anything.
  bool Apply(ModelTable* t, bool put, const std::string& key, const std::string& value) {
    auto it = t->items.find(key);
    const bool exists = it != t->items.end();
    if (put ? (exists && it->second == value) : !exists) return false;
    Rec r;
    r.seq = next_seq_++;
    r.table = t->name;
    r.key = key;
    r.event = !put ? EventName::kRemove : exists ? EventName::kModify : EventName::kInsert;
    if (t->view) {
      const bool keep_old =
          *t->view == StreamViewType::kOldImage || *t->view == StreamViewType::kNewAndOldImages;
      const bool keep_new =
          *t->view == StreamViewType::kNewImage || *t->view == StreamViewType::kNewAndOldImages;
      if (exists && keep_old) {
        r.has_old = true;
        r.old_image = it->second;
      }
      if (put && keep_new) {
        r.has_new = true;
        r.new_image = value;
      }
      records_.push_back(r);
    }
    if (put) {
      t->items[key] = value;
    } else {
      t->items.erase(it);
    }
    return true;
  }
  std::vector<Rec>& records() { return records_; }
  SequenceNumber next_seq() const { return next_seq_; }

 private:
  SequenceNumber next_seq_;
  std::vector<Rec> records_;
};

struct Param {
  uint64_t segment_bytes;
  size_t write_buffer_bytes;
  int reopen_every;
  uint32_t seed;
};

class ModelTest : public ::testing::TestWithParam<Param> {};

void ExpectSameRecords(const std::vector<Rec>& want, const std::vector<Rec>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Rec& w = want[i];
    const Rec& g = got[i];
    SCOPED_TRACE(Numbered("record ", i) + " seq " + std::to_string(w.seq));
    ASSERT_EQ(g.seq, w.seq);
    ASSERT_EQ(g.table, w.table);
    ASSERT_EQ(g.event, w.event);
    ASSERT_EQ(g.key, w.key);
    ASSERT_EQ(g.has_old, w.has_old);
    ASSERT_EQ(g.has_new, w.has_new);
    ASSERT_EQ(g.old_image, w.old_image);
    ASSERT_EQ(g.new_image, w.new_image);
  }
}

TEST_P(ModelTest, RandomOperations) {
  const Param p = GetParam();
  TempDir dir;
  Options o;
  o.segment_bytes = p.segment_bytes;
  o.write_buffer_bytes = p.write_buffer_bytes;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(o, dir.Sub("db"), &db));

  std::vector<ModelTable> tables = {
      {"keys", StreamViewType::kKeysOnly, {}},
      {"news", StreamViewType::kNewImage, {}},
      {"olds", StreamViewType::kOldImage, {}},
      {"both", StreamViewType::kNewAndOldImages, {}},
      {"none", std::nullopt, {}},
  };
  Model model(1);
  for (auto& t : tables) {
    StreamSpecification spec;
    if (t.view) spec = test::Stream(*t.view);
    ASSERT_OK(db->CreateTable(t.name, spec));
    model.Meta();
  }

  std::mt19937 rng(p.seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  auto key = [&] { return Numbered("k", pick(40)); };
  auto value = [&] {
    // Small alphabet so that identical-value puts (no record) happen often.
    const int kind = pick(10);
    if (kind == 0) return std::string();
    if (kind == 1) return std::string(static_cast<size_t>(500 + pick(3000)), 'x');
    return Numbered("v", pick(4));
  };

  for (int step = 0; step < 3000; ++step) {
    const int action = pick(100);
    WriteOptions wo;
    wo.sync = pick(10) == 0;
    if (action < 55) {
      ModelTable& t = tables[static_cast<size_t>(pick(5))];
      const bool put = pick(3) != 0;
      const std::string k = key(), v = value();
      CommitInfo info;
      WriteBatch b;
      if (put) {
        b.Put(t.name, k, v);
      } else {
        b.Delete(t.name, k);
      }
      const SequenceNumber expect_seq = model.next_seq();
      const bool changed = model.Apply(&t, put, k, v);
      ASSERT_OK(db->Write(wo, b, &info));
      EXPECT_EQ(info.record_count, changed ? 1u : 0u);
      if (changed) {
        EXPECT_EQ(info.first_sequence, expect_seq);
      }
    } else if (action < 90) {
      WriteBatch b;
      const int n = 1 + pick(8);
      for (int i = 0; i < n; ++i) {
        ModelTable& t = tables[static_cast<size_t>(pick(5))];
        const bool put = pick(3) != 0;
        const std::string k = key(), v = value();
        if (put) {
          b.Put(t.name, k, v);
        } else {
          b.Delete(t.name, k);
        }
        model.Apply(&t, put, k, v);
      }
      ASSERT_OK(db->Write(wo, b));
    } else if (action < 94) {
      // Toggle a stream: disable, or enable with a random view type.
      ModelTable& t = tables[static_cast<size_t>(pick(4))];
      if (t.view) {
        ASSERT_OK(db->UpdateTable(t.name, StreamSpecification()));
        t.view.reset();
      } else {
        const auto v = static_cast<StreamViewType>(1 + pick(4));
        ASSERT_OK(db->UpdateTable(t.name, test::Stream(v)));
        t.view = v;
      }
      model.Meta();
    } else if (action < 97 && (tables[3].view == StreamViewType::kNewImage ||
                               tables[3].view == StreamViewType::kNewAndOldImages)) {
      // Concurrent writers to disjoint keys of one table, to exercise
      // group commit inside the model run.
      ModelTable& t = tables[3];
      std::vector<std::thread> threads;
      for (int w = 0; w < 4; ++w) {
        threads.emplace_back([&db, &t, w] {
          WriteOptions sync;
          sync.sync = true;
          for (int i = 0; i < 5; ++i) {
            EXPECT_OK(db->Put(sync, t.name, Numbered("conc", w), Numbered("c", i)));
          }
        });
      }
      for (auto& th : threads) th.join();
      // The order across threads is the log's; update the model from it
      // (the stream shows new images, so the records say what was written).
      std::vector<Rec> recs;
      ASSERT_OK(ReadAll(db.get(), model.next_seq(), &recs));
      for (const Rec& r : recs) {
        ASSERT_EQ(r.table, t.name);
        ASSERT_EQ(r.seq, model.next_seq());
        const std::string v = r.new_image;
        model.Apply(&t, true, r.key, v);
      }
    } else if (p.reopen_every > 0 && pick(p.reopen_every) == 0) {
      ASSERT_OK(db->Close());
      db.reset();
      ASSERT_OK(DB::Open(o, dir.Sub("db"), &db));
    }
    if (step % 250 == 249) {
      for (const auto& t : tables) {
        std::vector<std::pair<std::string, std::string>> got;
        ASSERT_OK(test::ScanAll(db.get(), t.name, &got));
        std::vector<std::pair<std::string, std::string>> want(t.items.begin(), t.items.end());
        ASSERT_EQ(got, want) << "table " << t.name << " at step " << step;
      }
      std::vector<Rec> recs;
      ASSERT_OK(ReadAll(db.get(), 1, &recs));
      ExpectSameRecords(model.records(), recs);
      if (::testing::Test::HasFatalFailure()) return;
      EXPECT_EQ(db->LastSequence(), model.next_seq() - 1);
    }
  }
  // A final reopen: everything is replayed or read from the index again.
  ASSERT_OK(db->Close());
  db.reset();
  ASSERT_OK(DB::Open(o, dir.Sub("db"), &db));
  for (const auto& t : tables) {
    std::vector<std::pair<std::string, std::string>> got;
    ASSERT_OK(test::ScanAll(db.get(), t.name, &got));
    std::vector<std::pair<std::string, std::string>> want(t.items.begin(), t.items.end());
    EXPECT_EQ(got, want) << "table " << t.name;
    TableDescription d;
    ASSERT_OK(db->DescribeTable(t.name, &d));
    EXPECT_EQ(d.item_count, t.items.size()) << t.name;
    uint64_t bytes = 0;
    for (const auto& [k, v] : t.items) bytes += k.size() + v.size();
    EXPECT_EQ(d.table_size_bytes, bytes) << t.name;
  }
  std::vector<Rec> recs;
  ASSERT_OK(ReadAll(db.get(), 1, &recs));
  ExpectSameRecords(model.records(), recs);
}

INSTANTIATE_TEST_SUITE_P(Options, ModelTest,
                         ::testing::Values(Param{64ull << 20, 4u << 20, 0, 1},    // one segment
                                           Param{64ull << 10, 4u << 20, 20, 2},   // many segments
                                           Param{64ull << 10, 64u << 10, 10, 3},  // index flushes
                                           Param{1ull << 20, 64u << 10, 5, 4}),   // frequent reopen
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return Numbered("seed", info.param.seed);
                         });

}  // namespace
}  // namespace runnel
