// Copyright 2026 The runnel Authors.
//
// Child process of stream_test: opens a DB's streams read-only and follows
// one stream from TRIM_HORIZON, printing "<sequence> <key>" per record, until
// it has seen `count` records or waited `timeout_ms` without any.
//
//   stream_tail_helper DIR TABLE COUNT TIMEOUT_MS

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "runnel/stream.h"
#include "tests/testutil.h"

int main(int argc, char** argv) {
  if (argc != 5) return 2;
  const std::string dir = argv[1], table = argv[2];
  const long count = std::atol(argv[3]);
  const auto timeout = std::chrono::milliseconds(std::atol(argv[4]));
  std::unique_ptr<runnel::StreamReader> reader;
  runnel::Status s;
  // The DB may not have created the table yet.
  std::vector<runnel::StreamInfo> streams;
  runnel::test::WaitFor(
      [&] {
        if (!reader) s = runnel::StreamReader::OpenReadOnly(dir, &reader);
        return reader && reader->ListStreams(table, &streams).ok() && !streams.empty();
      },
      std::chrono::seconds(5));
  if (!reader || streams.empty()) {
    std::printf("ERROR no stream: %s\n", s.ToString().c_str());
    return 1;
  }
  runnel::ShardIteratorRequest req;
  req.stream_arn = streams.back().arn;
  req.type = runnel::ShardIteratorType::kTrimHorizon;
  std::string it;
  s = reader->GetShardIterator(req, &it);
  long seen = 0;
  while (s.ok() && seen < count) {
    runnel::RecordBatch batch;
    s = reader->GetRecords(it, runnel::GetRecordsOptions(), &batch);
    if (!s.ok()) break;
    for (const auto& r : batch.records()) {
      std::printf("%llu %.*s\n", static_cast<unsigned long long>(r.sequence),
                  static_cast<int>(r.key.size()), r.key.data());
      ++seen;
    }
    std::fflush(stdout);
    it = batch.next_shard_iterator();
    if (it.empty()) break;
    if (batch.records().empty()) {
      s = reader->WaitForRecords(it, timeout);
      if (s.IsTimedOut()) break;
    }
  }
  if (!s.ok() && !s.IsTimedOut()) {
    std::printf("ERROR %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
