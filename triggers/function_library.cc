// Copyright 2026 The runnel Authors.

#include "triggers/function_library.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace runnel {

// ABI 3 appended runnel_record.snapshot into the struct's tail padding:
// version-2 plugins walk the records array with the same stride only while
// the size stays what version 2 had (104 bytes on LP64).
static_assert(sizeof(void*) != 8 || sizeof(runnel_record) == 104,
              "runnel_record must keep its version-2 size");

Status ResolveLibraryPath(const std::string& path, std::string* resolved) {
  if (path.empty()) {
    return Status::InvalidArgument("library: a path to a shared library is required");
  }
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) {
    return Status::InvalidArgument("library: " + path + ": " + std::strerror(errno));
  }
  struct stat st;
  if (::stat(buf, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("library: " + path + " is not a regular file");
  }
  *resolved = buf;
  return Status::OK();
}

Status FunctionLibrary::Load(const std::string& path, const std::string& handler_symbol,
                             const std::string& function_name,
                             std::shared_ptr<FunctionLibrary>* library) {
  std::shared_ptr<FunctionLibrary> lib(new FunctionLibrary);
  lib->path_ = path;
  dlerror();
  lib->handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib->handle_ == nullptr) {
    const char* err = dlerror();
    return Status::InvalidArgument("library: cannot load " + path + ": " +
                                   (err != nullptr ? err : "unknown error"));
  }
  auto version =
      reinterpret_cast<runnel_abi_version_fn>(::dlsym(lib->handle_, RUNNEL_ABI_VERSION_SYMBOL));
  if (version == nullptr) {
    return Status::InvalidArgument("library: " + path +
                                   " does not export " RUNNEL_ABI_VERSION_SYMBOL
                                   " (is it a runnel function? use RUNNEL_DECLARE_FUNCTION_ABI)");
  }
  const uint32_t v = version();
  // A version-2 plugin reads the context's table as it knew it: the
  // members it has are where it expects them (version 3 only appended).
  if (v < RUNNEL_FUNCTION_ABI_MIN_VERSION || v > RUNNEL_FUNCTION_ABI_VERSION) {
    return Status::InvalidArgument(
        "library: " + path + " was built for function ABI version " + std::to_string(v) +
        "; this runnel speaks version " + std::to_string(RUNNEL_FUNCTION_ABI_VERSION) +
        " and still loads version " + std::to_string(RUNNEL_FUNCTION_ABI_MIN_VERSION) +
        " (rebuild the plugin against runnel/function.h)");
  }
  lib->abi_version_ = v;
  lib->handler_ =
      reinterpret_cast<runnel_handler_fn>(::dlsym(lib->handle_, handler_symbol.c_str()));
  if (lib->handler_ == nullptr) {
    return Status::InvalidArgument("handler: " + path + " does not export '" + handler_symbol +
                                   "'");
  }
  lib->shutdown_ =
      reinterpret_cast<runnel_shutdown_fn>(::dlsym(lib->handle_, RUNNEL_SHUTDOWN_SYMBOL));
  auto init = reinterpret_cast<runnel_init_fn>(::dlsym(lib->handle_, RUNNEL_INIT_SYMBOL));
  if (init != nullptr) {
    runnel_init_args args;
    args.abi_version = RUNNEL_FUNCTION_ABI_VERSION;
    args.function_name = function_name.c_str();
    const int rc = init(&args);
    if (rc != 0) {
      lib->shutdown_ = nullptr;  // init failed: nothing to shut down
      return Status::InvalidArgument("library: " + path + ": " RUNNEL_INIT_SYMBOL " failed with " +
                                     std::to_string(rc));
    }
  }
  *library = std::move(lib);
  return Status::OK();
}

FunctionLibrary::~FunctionLibrary() {
  if (shutdown_ != nullptr) shutdown_();
  if (handle_ != nullptr) ::dlclose(handle_);
}

}  // namespace runnel
