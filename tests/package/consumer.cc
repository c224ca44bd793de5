// Copyright 2026 The runnel Authors.
// Links against an installed runnel and round-trips one write.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "runnel/db.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::unique_ptr<runnel::DB> db;
  runnel::Status s = runnel::DB::Open(runnel::Options(), argv[1], &db);
  if (s.ok()) s = db->CreateTable("consumer", runnel::StreamSpecification());
  if (s.ok()) s = db->Put(runnel::WriteOptions(), "consumer", "k", "v");
  std::string v;
  if (s.ok()) s = db->Get("consumer", "k", &v);
  if (!s.ok() || v != "v") {
    std::fprintf(stderr, "consumer: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("consumer ok\n");
  return 0;
}
