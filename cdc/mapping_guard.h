// Copyright 2026 The runnel Authors.
//
// Read-only file mappings that survive their file being cut short by
// another process.
//
// Touching a page of a MAP_SHARED mapping that lies wholly past the end of
// the file raises SIGBUS. A stream reader maps the newest log segment while
// another process may cut it (the host's recovery cuts a torn tail; a torn
// catalog frame makes it rewrite the segment from offset 0). A guarded
// mapping is registered with a process-wide SIGBUS handler: a fault inside
// it replaces the mapping from the faulting page to its end with zero-filled
// anonymous pages and marks the mapping as cut; the faulting load then
// completes and reads zeros. No log frame verifies over zeros, so a reader
// sees the cut region as the end of the data, and the mark tells it to map
// the file afresh (the zero pages hide anything appended later).
//
// The handler is installed on the first registration and chains to the
// handler it replaced for every fault outside a guarded mapping (a genuine
// bug still crashes as before, or reaches a sanitizer's handler). A handler
// installed later for SIGBUS without chaining to ours disables the guard.

#ifndef RUNNEL_CDC_MAPPING_GUARD_H_
#define RUNNEL_CDC_MAPPING_GUARD_H_

#include <cstdint>

namespace runnel::log {

// Registers the mapping [begin, begin + bytes) (begin page-aligned, as mmap
// returns it). Returns its slot, or -1 if it cannot be guarded (the registry
// is full, the handler could not be installed, or the range cannot be
// encoded): the caller must then not map the file. Thread-safe.
int GuardMapping(const void* begin, uint64_t bytes);
// Unregisters `slot`; call before unmapping. REQUIRES: no thread touches the
// mapping any more.
void UnguardMapping(int slot);
// True if a fault replaced part of the mapping of `slot` with zero pages
// since it was registered.
bool MappingWasCut(int slot);

}  // namespace runnel::log

#endif  // RUNNEL_CDC_MAPPING_GUARD_H_
