// Copyright 2026 The runnel Authors.
//
// FunctionLibrary: one dlopen(3)ed function plugin, checked against the C ABI
// (runnel/function.h) and initialized once.
//
// Loading never crashes the host on a bad plugin: a missing file, a missing
// symbol, an ABI version mismatch or a failing runnel_init() is a Status that
// names the library and what is wrong. (A plugin that crashes while running
// does take the process down: plugins run in the host process.)
//
// Thread safety: Load and the destructor are not concurrent with handler
// calls; the handler itself may be called from any thread.

#ifndef RUNNEL_TRIGGERS_FUNCTION_LIBRARY_H_
#define RUNNEL_TRIGGERS_FUNCTION_LIBRARY_H_

#include <memory>
#include <string>

#include "runnel/function.h"
#include "runnel/status.h"

namespace runnel {

class FunctionLibrary {
 public:
  // Loads `path` (RTLD_NOW | RTLD_LOCAL: every symbol is resolved now, and
  // plugins cannot see each other's symbols), checks the ABI version,
  // resolves `handler_symbol` and calls runnel_init if present.
  static Status Load(const std::string& path, const std::string& handler_symbol,
                     const std::string& function_name, std::shared_ptr<FunctionLibrary>* library);

  // Calls runnel_shutdown if present, then dlclose.
  ~FunctionLibrary();
  FunctionLibrary(const FunctionLibrary&) = delete;
  FunctionLibrary& operator=(const FunctionLibrary&) = delete;

  runnel_handler_fn handler() const { return handler_; }
  const std::string& path() const { return path_; }
  // The ABI version the plugin was built for.
  uint32_t abi_version() const { return abi_version_; }

 private:
  FunctionLibrary() = default;
  void* handle_ = nullptr;
  runnel_handler_fn handler_ = nullptr;
  runnel_shutdown_fn shutdown_ = nullptr;
  std::string path_;
  uint32_t abi_version_ = 0;
};

// The absolute, symlink-free path of an existing regular file; InvalidArgument
// naming `what` otherwise. Functions are recorded by resolved path, so what
// runs is what was named at create/update time.
Status ResolveLibraryPath(const std::string& path, std::string* resolved);

}  // namespace runnel

#endif  // RUNNEL_TRIGGERS_FUNCTION_LIBRARY_H_
