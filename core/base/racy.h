// core/base/racy.h - deliberate unsynchronised reads, for diagnostics only.
//
// The goroutine dump and schedtrace print fields that their owners write
// without any synchronisation with the printer (an M's curg and locks, a
// running G's lockedm, ...). The seed does the same ("We must be careful
// while reading data from P's, M's and G's. Even if we hold schedlock, most
// data can be changed concurrently."): the values may be stale, never torn
// (aligned words on x86-64), and the memory stays valid because Gs, Ms and
// Ps are freed only at shutdown. Such a read is a data race in the C++
// model, so it is made visibly (a volatile load) and TSan is told to ignore
// it. Never use these for a value the runtime acts on.
#pragma once

#include "core/base/sanitizers.h"

#if GORT_TSAN
extern "C" void AnnotateIgnoreReadsBegin(const char *file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char *file, int line);
#endif

namespace gort {

// RacyReads: while one lives, TSan does not check this thread's plain
// memory accesses (it ignores reads and writes alike; atomics still
// synchronise).
struct RacyReads {
#if GORT_TSAN
    RacyReads() { AnnotateIgnoreReadsBegin(__FILE__, __LINE__); }
    ~RacyReads() { AnnotateIgnoreReadsEnd(__FILE__, __LINE__); }
#else
    RacyReads() {}
#endif
    RacyReads(const RacyReads &) = delete;
    RacyReads &operator=(const RacyReads &) = delete;
};

// racy_read: one such read of a plain field.
template <class T> inline T racy_read(const T &x) {
    RacyReads ignore;
    return *static_cast<const volatile T *>(&x);
}

}  // namespace gort
