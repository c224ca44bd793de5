// Copyright 2026 The runnel Authors.
//
// The definitions behind the opaque handles of runnel/c.h that both halves
// of the C API use: db/c.cc (the database) and triggers/c.cc (functions,
// mappings, the runtime). Private to librunnel.

#ifndef RUNNEL_DB_C_INTERNAL_H_
#define RUNNEL_DB_C_INTERNAL_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "runnel/c.h"
#include "runnel/db.h"
#include "runnel/status.h"

struct runnel_t {
  std::unique_ptr<runnel::DB> rep;
};
struct runnel_options_t {
  runnel::Options rep;
};

namespace runnel::c_api {

// Stores a failed status in *errptr (freeing a message already there, as
// LevelDB's C API does) and returns true; returns false for OK.
bool SaveError(char** errptr, const Status& s);

// A malloc'd, NUL-terminated copy (the NUL is not counted in the length),
// for buffers the caller frees with runnel_free.
char* CopyBytes(std::string_view bytes);

// A borrowed view out through (pointer, length).
inline const char* Out(const std::string& s, size_t* len) {
  *len = s.size();
  return s.data();
}

inline std::string_view View(const char* data, size_t len) {
  return len == 0 ? std::string_view() : std::string_view(data, len);
}

}  // namespace runnel::c_api

#endif  // RUNNEL_DB_C_INTERNAL_H_
