// Copyright 2026 The runnel Authors.
//
// Fuzzes shard iterator strings: the input is passed as the iterator to
// GetRecords and WaitForRecords (timeout 0) of a small real DB (see
// FixtureDb), opened once per process. Any Status is fine; a crash,
// undefined behaviour, a hang or a record view into freed memory is not.
//
// A checked-in iterator names its stream by a placeholder ARN (labels are
// times and differ between runs). When the input decodes to an iterator whose
// ARN is a placeholder, it is read a second time with the real ARN, so the
// fuzzer explores positions (sequence, segment and offset hints) of real
// streams; a successful read's next iterator is followed once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "db/db_impl.h"
#include "runnel/db.h"
#include "runnel/stream.h"
#include "tests/fuzz/fuzz_util.h"

namespace runnel {
namespace {

fuzz::FixtureDb* fixture = nullptr;

void Read(StreamReader* streams, std::string_view iterator, bool follow) {
  GetRecordsOptions options;
  options.limit = 100;
  RecordBatch batch;
  const Status s = streams->GetRecords(iterator, options, &batch);
  (void)streams->WaitForRecords(iterator, std::chrono::milliseconds(0));
  if (!s.ok()) return;
  SequenceNumber last = 0;
  for (const ChangeRecord& r : batch.records()) {
    fuzz::Check(r.sequence > last, "records out of sequence order");
    last = r.sequence;
    fuzz::Touch(r.table);
    fuzz::Touch(r.key);
    fuzz::Touch(r.old_image);
    fuzz::Touch(r.new_image);
  }
  fuzz::Check(batch.records().size() <= options.limit, "limit exceeded");
  if (follow && !batch.next_shard_iterator().empty()) {
    Read(streams, batch.next_shard_iterator(), false);
  }
}

}  // namespace
}  // namespace runnel

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Built before the first input and destroyed at exit (closing the DB and
  // removing its directory), so that it is not taken for a leak.
  static runnel::fuzz::FixtureDb fixture;
  runnel::fuzz::BuildFixtureDb(&fixture);
  runnel::fixture = &fixture;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  runnel::StreamReader* streams = runnel::fixture->db->streams();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  runnel::Read(streams, input, true);
  std::string numbers, arn;
  if (runnel::fuzz::SplitIterator(input, &numbers, &arn)) {
    const auto it = runnel::fixture->placeholders.find(arn);
    if (it != runnel::fixture->placeholders.end()) {
      const uint8_t* key = static_cast<runnel::DBImpl*>(runnel::fixture->db.get())->id_bytes();
      runnel::Read(streams, runnel::fuzz::JoinIterator(numbers, it->second, key), true);
    }
  }
  return 0;
}
