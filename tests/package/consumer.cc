// Copyright 2026 The runnel Authors.
// Links against an installed runnel, round-trips one write and destroys the
// DB; checks that the installed headers carry the version.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "runnel/db.h"
#include "runnel/triggers.h"
#include "runnel/version.h"

static_assert(sizeof(RUNNEL_VERSION_STRING) >= sizeof("0.0.0"), "runnel/version.h");

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::unique_ptr<runnel::DB> db;
  runnel::Status s = runnel::DB::Open(runnel::Options(), argv[1], &db);
  if (s.ok()) s = db->CreateTable("consumer", runnel::StreamSpecification());
  if (s.ok()) s = db->Put(runnel::WriteOptions(), "consumer", "k", "v");
  std::string v;
  if (s.ok()) s = db->Get(runnel::ReadOptions(), "consumer", "k", &v);
  if (s.ok() && db->triggers() == nullptr) s = runnel::Status::Corruption("no trigger runtime");
  if (s.ok()) s = db->Close();
  if (s.ok()) s = runnel::DestroyDB(argv[1], runnel::Options());
  if (!s.ok() || v != "v") {
    std::fprintf(stderr, "consumer: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("consumer ok (runnel %s)\n", RUNNEL_VERSION_STRING);
  return 0;
}
