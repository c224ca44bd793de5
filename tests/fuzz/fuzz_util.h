// Copyright 2026 The runnel Authors.
//
// Helpers shared by the libFuzzer targets in tests/fuzz/ and by the program
// that writes their seed corpora (make_fuzz_corpus.cc).

#ifndef RUNNEL_TESTS_FUZZ_FUZZ_UTIL_H_
#define RUNNEL_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "runnel/db.h"
#include "runnel/status.h"

namespace leveldb {
class Env;
}  // namespace leveldb

namespace runnel::fuzz {

// Stops the process with a message: for broken invariants (which a fuzzer
// must report as a crash) and for setup failures.
[[noreturn]] void Die(std::string_view what);
inline void Check(bool ok, std::string_view what) {
  if (!ok) Die(what);
}
inline void CheckOk(const Status& s, std::string_view what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents at
// destruction.
class ScratchDir {
 public:
  explicit ScratchDir(std::string_view tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Replaces the file at `path` with `bytes`.
void WriteFileOrDie(const std::string& path, std::string_view bytes);

// Reads every byte of `v`, so that AddressSanitizer checks that a view
// returned by the library points at live memory over its whole length.
uint64_t Touch(std::string_view v);

// A leveldb::Env whose random-access files are read with pread into the
// caller's buffer, never mapped: readers then take their buffered path, and
// AddressSanitizer sees reads past what they asked for (a mapping hides them).
// Not owned; lives for the process.
leveldb::Env* PreadEnv();

// The DB the shard iterator target reads: built by the same calls in the
// fuzzer and in the corpus generator, so sequence numbers, segments and
// offsets in the checked-in iterators name real positions of it. Several
// small segments (segment_bytes is the 64 KiB minimum), tables with every
// stream view, a closed stream, a deleted table, multi-table batches.
//
// Stream labels are times, so they differ between runs. Checked-in iterators
// therefore name streams by placeholder ARNs
// "arn:aws:dynamodb:us-east-1:000000000000:table/<table>/stream/@<i>" (the table's i-th stream,
// oldest first); `placeholders` maps each to the stream's real ARN.
struct FixtureDb {
  std::unique_ptr<ScratchDir> dir;
  std::unique_ptr<DB> db;
  std::map<std::string, std::string> placeholders;  // placeholder -> real ARN
};
void BuildFixtureDb(FixtureDb* fixture);

// The parts of a shard iterator ("2|next|segment|offset|tag|arn", base64):
// numbers = everything up to and including the fifth '|'. False if
// `iterator` is not base64 of a string with five '|'.
bool SplitIterator(std::string_view iterator, std::string* numbers, std::string* arn);
// An iterator of `numbers` and `arn`, tagged with `key` (the DB's raw id)
// when the numbers parse, so the reader believes the position; otherwise
// base64(numbers + arn) as is.
std::string JoinIterator(std::string_view numbers, std::string_view arn, const uint8_t* key);

}  // namespace runnel::fuzz

#endif  // RUNNEL_TESTS_FUZZ_FUZZ_UTIL_H_
