// core/base/atomics.h - atomics whose every operation names its memory order.
//
// core/ and gc_hooks/ never use the implicit seq_cst operators of
// std::atomic (=, ++, +=, a load() without an order, ...): an order left
// implicit is an order nobody chose. They declare gort::atomic<T>, which
// has no operators and no default orders, so the compiler enforces the rule;
// scripts/check_layers.py rejects a std::atomic<...> there. Each call site
// says which order it needs, and a release names the acquire it pairs with
// in a comment. The seed's atomicload/atomicstore are acquire/release;
// its cas and xadd are full barriers (LOCK-prefixed on x86), ported as
// seq_cst read-modify-writes where the seed relies on the StoreLoad they give.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/base/sanitizers.h"

namespace gort {

// std::atomic<T> less its implicit operators: every operation takes its
// order(s). Same size and layout as std::atomic<T> (the futex calls pass
// its address to the kernel as a T*).
template <class T> class atomic {
  public:
    constexpr atomic() noexcept : v_{} {}
    constexpr atomic(T v) noexcept : v_(v) {}
    atomic(const atomic &) = delete;
    atomic &operator=(const atomic &) = delete;

    T load(std::memory_order mo) const noexcept { return v_.load(mo); }
    void store(T v, std::memory_order mo) noexcept { v_.store(v, mo); }
    T exchange(T v, std::memory_order mo) noexcept { return v_.exchange(v, mo); }
    bool compare_exchange_strong(T &expected, T desired, std::memory_order success,
                                 std::memory_order failure) noexcept {
        return v_.compare_exchange_strong(expected, desired, success, failure);
    }
    bool compare_exchange_strong(T &expected, T desired, std::memory_order mo) noexcept {
        return v_.compare_exchange_strong(expected, desired, mo);
    }
    bool compare_exchange_weak(T &expected, T desired, std::memory_order success,
                               std::memory_order failure) noexcept {
        return v_.compare_exchange_weak(expected, desired, success, failure);
    }
    bool compare_exchange_weak(T &expected, T desired, std::memory_order mo) noexcept {
        return v_.compare_exchange_weak(expected, desired, mo);
    }
    template <class D> T fetch_add(D d, std::memory_order mo) noexcept { return v_.fetch_add(d, mo); }
    template <class D> T fetch_sub(D d, std::memory_order mo) noexcept { return v_.fetch_sub(d, mo); }
    T fetch_and(T d, std::memory_order mo) noexcept { return v_.fetch_and(d, mo); }
    T fetch_or(T d, std::memory_order mo) noexcept { return v_.fetch_or(d, mo); }
    T fetch_xor(T d, std::memory_order mo) noexcept { return v_.fetch_xor(d, mo); }

  private:
    std::atomic<T> v_;
};
static_assert(sizeof(atomic<uint32_t>) == sizeof(uint32_t) && alignof(atomic<uint64_t>) == alignof(std::atomic<uint64_t>));

template <class T> inline T load_relaxed(const atomic<T> &a) { return a.load(std::memory_order_relaxed); }
template <class T> inline T load_acq(const atomic<T> &a) { return a.load(std::memory_order_acquire); }
template <class T> inline void store_relaxed(atomic<T> &a, T v) { a.store(v, std::memory_order_relaxed); }
template <class T> inline void store_rel(atomic<T> &a, T v) { a.store(v, std::memory_order_release); }
// cas_rel: the seed's "cas-release, commits consume" on run queue heads. It
// is acq_rel so that a thief that wins also acquires the slots it read.
template <class T> inline bool cas_rel(atomic<T> &a, T old, T nw) {
    return a.compare_exchange_strong(old, nw, std::memory_order_acq_rel, std::memory_order_relaxed);
}
// cas_full / xadd_full / xchg_full: the seed's cas/xadd/xchg, full barriers.
template <class T> inline bool cas_full(atomic<T> &a, T old, T nw) {
    return a.compare_exchange_strong(old, nw, std::memory_order_seq_cst, std::memory_order_seq_cst);
}
template <class T> inline T xadd_full(atomic<T> &a, T d) { return a.fetch_add(d, std::memory_order_seq_cst) + d; }
template <class T> inline T xchg_full(atomic<T> &a, T v) { return a.exchange(v, std::memory_order_seq_cst); }
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
template <class T> inline void counter_inc(atomic<T> &a) {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace gort
