// Copyright 2026 The runnel Authors.
//
// Child process of stream_test: follows one table's stream read-only with
// one StreamCursor kept across reads (as a trigger worker keeps one), so its
// segment stays mapped, at the size it had, between reads. Prints
// "<sequence> <key>" per record; after a read that returns nothing it prints
// "WAITING" and reads a line from stdin before reading again (the test's
// lock-step: it changes the log while the reader holds its view). Exits 0 at
// the end of stdin, 1 with "ERROR <status>" on any error.
//
//   stream_cursor_helper DIR TABLE

#include <cstdio>
#include <memory>
#include <string>

#include "cdc/stream_cursor.h"
#include "cdc/stream_reader.h"
#include "tests/child_process.h"

namespace {

int Fail(const runnel::Status& s) {
  runnel::test::EmitLine("ERROR " + s.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  std::unique_ptr<runnel::LogSource> source;
  runnel::Status s = runnel::OpenReadOnlySource(argv[1], &source);
  if (!s.ok()) return Fail(s);
  std::shared_ptr<const runnel::Catalog> catalog;
  s = source->Catalog(&catalog);
  if (!s.ok()) return Fail(s);
  const runnel::log::TableEntryData* table = catalog->FindLive(argv[2]);
  if (table == nullptr) return Fail(runnel::Status::NotFound(argv[2]));
  runnel::StreamCursor cursor(source.get(), table->id, 1, catalog);
  cursor.Seek(1);
  for (;;) {
    runnel::SequenceNumber last = 0;
    s = source->LastSequence(&last);
    if (!s.ok()) return Fail(s);
    runnel::RecordBatch batch;
    s = cursor.Read(last, runnel::GetRecordsOptions(), &batch);
    if (!s.ok()) return Fail(s);
    for (const auto& r : batch.records()) {
      runnel::test::EmitLine(std::to_string(r.sequence) + " " + std::string(r.key));
    }
    if (!batch.records().empty()) continue;
    runnel::test::EmitLine("WAITING");
    char line[64];
    if (std::fgets(line, sizeof(line), stdin) == nullptr) return 0;
  }
}
