// core/base/atomics.h - atomics named after their memory order (STYLE §5).
//
// core/ never uses the implicit seq_cst operators of std::atomic. Each call
// site says which order it needs, and a release names the acquire it pairs
// with in a comment. The seed's atomicload/atomicstore are acquire/release;
// its cas and xadd are full barriers (LOCK-prefixed on x86), ported as
// seq_cst read-modify-writes where the seed relies on the StoreLoad they give.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/base/sanitizers.h"

namespace gort {

template <class T> inline T load_relaxed(const std::atomic<T> &a) { return a.load(std::memory_order_relaxed); }
template <class T> inline T load_acq(const std::atomic<T> &a) { return a.load(std::memory_order_acquire); }
template <class T> inline void store_relaxed(std::atomic<T> &a, T v) { a.store(v, std::memory_order_relaxed); }
template <class T> inline void store_rel(std::atomic<T> &a, T v) { a.store(v, std::memory_order_release); }
// cas_rel: the seed's "cas-release, commits consume" on run queue heads. It
// is acq_rel so that a thief that wins also acquires the slots it read.
template <class T> inline bool cas_rel(std::atomic<T> &a, T old, T nw) {
    return a.compare_exchange_strong(old, nw, std::memory_order_acq_rel, std::memory_order_relaxed);
}
// cas_full / xadd_full / xchg_full: the seed's cas/xadd/xchg, full barriers.
template <class T> inline bool cas_full(std::atomic<T> &a, T old, T nw) {
    return a.compare_exchange_strong(old, nw, std::memory_order_seq_cst, std::memory_order_seq_cst);
}
template <class T> inline T xadd_full(std::atomic<T> &a, T d) { return a.fetch_add(d, std::memory_order_seq_cst) + d; }
template <class T> inline T xchg_full(std::atomic<T> &a, T v) { return a.exchange(v, std::memory_order_seq_cst); }
// storeload_fence: a StoreLoad barrier (the seed gets it from LOCK'd stores).
// TSan does not model fences (gcc warns); there it is a seq_cst RMW on a
// local, which is the same full barrier on x86 and which TSan understands.
#if GORT_TSAN
inline void storeload_fence() {
    std::atomic<int> x{0};
    x.exchange(1, std::memory_order_seq_cst);
}
#else
inline void storeload_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
#endif
// Owner-only counters read by other threads for statistics: a plain
// load+store pair (no LOCK prefix), atomic only so readers are race-free.
template <class T> inline void counter_inc(std::atomic<T> &a) {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace gort
