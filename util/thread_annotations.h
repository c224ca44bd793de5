// Copyright 2026 The runnel Authors.
//
// Clang thread-safety annotations
// (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html). With clang and
// -Wthread-safety (the build adds it for clang) the compiler checks that
// state declared GUARDED_BY(mu) is only touched with mu held, and that a
// function declared REQUIRES(mu) is only called with it held. With other
// compilers every macro expands to nothing.
//
// The capability must be an annotated type: runnel::Mutex (util/mutex.h),
// not std::mutex, which libstdc++ does not annotate.

#ifndef RUNNEL_UTIL_THREAD_ANNOTATIONS_H_
#define RUNNEL_UTIL_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define RUNNEL_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define RUNNEL_THREAD_ANNOTATION_(x)
#endif

// On a class: its objects are capabilities (a mutex); `x` names the kind in
// diagnostics.
#define CAPABILITY(x) RUNNEL_THREAD_ANNOTATION_(capability(x))

// On a class: RAII objects that hold a capability for their lifetime.
#define SCOPED_CAPABILITY RUNNEL_THREAD_ANNOTATION_(scoped_lockable)

// On a data member: read or written only with the capability held.
#define GUARDED_BY(x) RUNNEL_THREAD_ANNOTATION_(guarded_by(x))

// On a pointer member: the pointee is accessed only with the capability held.
#define PT_GUARDED_BY(x) RUNNEL_THREAD_ANNOTATION_(pt_guarded_by(x))

// On a function: the caller holds the capabilities (and still holds them on
// return).
#define REQUIRES(...) RUNNEL_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))

// On a function: the caller must not hold the capabilities (the function
// takes them itself, or calls out to code that does).
#define EXCLUDES(...) RUNNEL_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))

// On a function: it acquires the capabilities (or, without arguments on a
// member function, `this`) and returns with them held.
#define ACQUIRE(...) RUNNEL_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))

// On a function: it releases the capabilities (or `this`), which the caller
// held.
#define RELEASE(...) RUNNEL_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))

// On a function: it returns only if the capability is held (a run-time check
// the analysis may rely on).
#define ASSERT_CAPABILITY(x) RUNNEL_THREAD_ANNOTATION_(assert_capability(x))

// On a function: it returns a reference to the capability.
#define RETURN_CAPABILITY(x) RUNNEL_THREAD_ANNOTATION_(lock_returned(x))

// On a function: the analysis is turned off for its body. Use it where the
// locking is correct but beyond what the analysis can follow, and say why.
#define NO_THREAD_SAFETY_ANALYSIS RUNNEL_THREAD_ANNOTATION_(no_thread_safety_analysis)

#endif  // RUNNEL_UTIL_THREAD_ANNOTATIONS_H_
