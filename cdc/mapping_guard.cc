// Copyright 2026 The runnel Authors.

#include "cdc/mapping_guard.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace runnel::log {

namespace {

// Why a handler rather than the other ways out:
//  - Copying frames out with pread(2) instead of mapping: stream_bench
//    (1M records, 2 vCPUs, same run as RocksDB) read 0.92M rec/s, 0.40x
//    RocksDB, with a pread per read, against 6.57M rec/s, 1.43x, mapped. A
//    larger read-ahead buffer would save syscalls but still copy every
//    byte, for an event that happens once per host crash.
//  - Checking the size (fstat) before touching the mapping: the file can
//    be cut between the check and the load, so it only narrows the race.
//  - Recovery overwriting the torn tail with zeros instead of cutting it:
//    readers notice new frames by the file's size growing, and the writer
//    appends with O_APPEND; frames written over the zeros would leave the
//    size alone, so every waiting reader would have to re-read its tail on
//    each wake-up, and the writer would need its own positioned writes. It
//    would still not cover the other shrink (a segment whose catalog frame
//    was torn is rewritten from offset 0) nor a cut by any other tool.
// The handler costs nothing on the read path: a fault can only happen in
// bytes a reader has not verified yet (recovery cuts from the first damaged
// frame on, and an intact frame is never damaged later), so payload views
// handed out stay backed by the file.

// A slot holds (first page << kPageBits) | pages, in 4 KiB units: one word,
// so the handler never sees a begin of one mapping with the size of another.
constexpr int kSlots = 4096;
constexpr int kPageShift = 12;
constexpr int kPagesBits = 28;  // up to 1 TiB per mapping
constexpr uint64_t kPagesMask = (uint64_t{1} << kPagesBits) - 1;
constexpr uint64_t kMaxFirstPage = uint64_t{1} << (64 - kPagesBits);

std::atomic<uint64_t> g_slots[kSlots];
std::atomic<bool> g_cut[kSlots];
std::atomic<int> g_used{0};  // slots [0, g_used) may be occupied
uintptr_t g_page_size = 4096;
struct sigaction g_previous;

static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<bool>::is_always_lock_free);

void PassOn(int sig, siginfo_t* info, void* context) {
  if ((g_previous.sa_flags & SA_SIGINFO) != 0) {
    if (g_previous.sa_sigaction != nullptr) g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
    return;
  }
  // What would have happened without us: the default action, a core dump.
  // The signal is blocked while we run, so it is delivered on return.
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  raise(sig);
}

// Only async-signal-safe work: atomic loads and stores, mmap(2) (a plain
// system call), errno restored.
void OnSigbus(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (info != nullptr && info->si_code > 0) {  // raised by the kernel
    const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
    const int used = g_used.load(std::memory_order_acquire);
    for (int i = 0; i < used; ++i) {
      const uint64_t v = g_slots[i].load(std::memory_order_acquire);
      const uintptr_t begin = static_cast<uintptr_t>(v >> kPagesBits) << kPageShift;
      const uintptr_t end = begin + (static_cast<uintptr_t>(v & kPagesMask) << kPageShift);
      if (v == 0 || addr < begin || addr >= end) continue;
      const uintptr_t page = addr & ~(g_page_size - 1);
      void* p = mmap(reinterpret_cast<void*>(page), end - page, PROT_READ,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (p == MAP_FAILED) break;
      g_cut[i].store(true, std::memory_order_relaxed);
      errno = saved_errno;
      return;  // the load runs again and reads zeros
    }
  }
  errno = saved_errno;
  PassOn(sig, info, context);
}

bool Install() {
  const long page = sysconf(_SC_PAGESIZE);
  if (page > 0) g_page_size = static_cast<uintptr_t>(page);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = OnSigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGBUS, &sa, &g_previous) == 0;
}

}  // namespace

int GuardMapping(const void* begin, uint64_t bytes) {
  static const bool installed = Install();
  if (!installed) return -1;
  const uintptr_t b = reinterpret_cast<uintptr_t>(begin);
  const uint64_t pages = (bytes + (uint64_t{1} << kPageShift) - 1) >> kPageShift;
  if (b % g_page_size != 0 || (b >> kPageShift) >= kMaxFirstPage || pages == 0 ||
      pages > kPagesMask) {
    return -1;
  }
  const uint64_t v = (static_cast<uint64_t>(b >> kPageShift) << kPagesBits) | pages;
  for (int i = 0; i < kSlots; ++i) {
    uint64_t expected = 0;
    if (g_slots[i].load(std::memory_order_relaxed) != 0 ||
        !g_slots[i].compare_exchange_strong(expected, v, std::memory_order_acq_rel)) {
      continue;
    }
    int used = g_used.load(std::memory_order_relaxed);
    while (used < i + 1 && !g_used.compare_exchange_weak(used, i + 1, std::memory_order_acq_rel)) {
    }
    return i;
  }
  return -1;
}

void UnguardMapping(int slot) {
  if (slot < 0 || slot >= kSlots) return;
  // A free slot's mark is clear, so a new mapping starts uncut.
  g_cut[slot].store(false, std::memory_order_relaxed);
  g_slots[slot].store(0, std::memory_order_release);
}

bool MappingWasCut(int slot) {
  return slot >= 0 && slot < kSlots && g_cut[slot].load(std::memory_order_relaxed);
}

}  // namespace runnel::log
