// Copyright 2026 The runnel Authors.
//
// The quick-start demo: create a table with a NEW_AND_OLD_IMAGES stream,
// insert, modify and delete items, then read the change records back from
// the log.
//
//   quickstart [DIR]     (default: a fresh directory under /tmp)

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "runnel/db.h"

namespace {

int Fail(const char* what, const runnel::Status& s) {
  std::fprintf(stderr, "quickstart: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  if (argc > 1) {
    dir = argv[1];
  } else {
    char tmpl[] = "/tmp/runnel-quickstart-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    dir = tmpl;
  }
  std::unique_ptr<runnel::DB> db;
  runnel::Status s = runnel::DB::Open(runnel::Options(), dir, &db);
  if (!s.ok()) return Fail("open", s);
  std::printf("opened %s (db name '%s')\n", dir.c_str(), db->name().c_str());

  runnel::StreamSpecification stream;
  stream.stream_enabled = true;
  stream.stream_view_type = runnel::StreamViewType::kNewAndOldImages;
  s = db->CreateTable("Music", stream);
  if (s.IsBusy()) s = runnel::Status::OK();  // rerun on the same directory
  if (!s.ok()) return Fail("create-table", s);

  runnel::TableDescription desc;
  s = db->DescribeTable("Music", &desc);
  if (!s.ok()) return Fail("describe-table", s);
  std::printf("table Music, stream %s\n", desc.latest_stream_arn.c_str());

  const runnel::SequenceNumber from = db->LastSequence() + 1;
  runnel::WriteOptions sync;
  sync.sync = true;
  if (!(s = db->Put(sync, "Music", "song#1", R"({"title":"Call Me Today"})")).ok() ||
      !(s = db->Put(sync, "Music", "song#2", R"({"title":"Blue Sky"})")).ok() ||
      !(s = db->Put(sync, "Music", "song#1", R"({"title":"Call Me Tomorrow"})")).ok() ||
      !(s = db->Delete(sync, "Music", "song#2")).ok()) {
    return Fail("write", s);
  }
  // Writes that change nothing produce no record.
  if (!(s = db->Put(sync, "Music", "song#1", R"({"title":"Call Me Tomorrow"})")).ok() ||
      !(s = db->Delete(sync, "Music", "song#2")).ok()) {
    return Fail("write", s);
  }

  std::unique_ptr<runnel::ChangeIterator> it;
  s = db->NewChangeIterator(from, &it);
  if (!s.ok()) return Fail("read changes", s);
  int n = 0;
  for (; it->Valid(); it->Next()) {
    const runnel::ChangeRecord& r = it->record();
    std::printf("  #%llu %-6s %s key=%.*s", static_cast<unsigned long long>(r.sequence),
                std::string(runnel::EventNameString(r.event)).c_str(), std::string(r.table).c_str(),
                static_cast<int>(r.key.size()), r.key.data());
    if (r.has_old_image) {
      std::printf(" old=%.*s", static_cast<int>(r.old_image.size()), r.old_image.data());
    }
    if (r.has_new_image) {
      std::printf(" new=%.*s", static_cast<int>(r.new_image.size()), r.new_image.data());
    }
    std::printf("\n");
    ++n;
  }
  if (!it->status().ok()) return Fail("read changes", it->status());
  std::printf("%d change records (expected 4: INSERT, INSERT, MODIFY, REMOVE)\n", n);
  s = db->Close();
  if (!s.ok()) return Fail("close", s);
  return n == 4 ? 0 : 1;
}
