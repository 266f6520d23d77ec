// core/sched/timerheap.h - the timer and the per-P heap that holds it, as
// data: P embeds a TimerHeap (runtime2.h), so the type sits below P, apart
// from the operations on timers (timers.h), which need P.
#pragma once

#include <cstdint>

#include "core/base/atomics.h"
#include "core/base/lock_futex.h"

namespace gort {

struct P;

struct timer {
    int64_t when = 0;                            // nanotime() deadline
    void (*f)(void *arg, uintptr_t seq) = nullptr;  // runs on g0, no lock held
    void *arg = nullptr;
    uintptr_t seq = 0;
    // Heap state, under the holding P's timers lock. pp is atomic so that
    // deltimer can find the heap without a lock, then confirm under it.
    atomic<P *> pp{nullptr};
    int32_t idx = -1;
};

// TimerHeap: one per P (P::timers). Destroyed with its P at shutdown (the
// timers still in it belong to goroutines that die with the runtime).
struct TimerHeap {
    mutex lock{kRankTimers};
    timer **heap = nullptr;  // lock
    int32_t len = 0, cap = 0;  // lock
    // when of heap[0], 0 if empty: read without the lock to skip empty or
    // not-yet-due heaps. Stored under the lock, seq_cst (see wakeNetPoller).
    atomic<int64_t> timer0when{0};
    TimerHeap() = default;
    TimerHeap(const TimerHeap &) = delete;
    TimerHeap &operator=(const TimerHeap &) = delete;
    ~TimerHeap();
};

// When pp's next timer fires (0: none). Any thread, no lock.
inline int64_t timers_wakeTime(const TimerHeap &h) { return h.timer0when.load(std::memory_order_seq_cst); }
// checkTimers: runs pp's expired timers (on g0; pp held by this M or idle /
// running elsewhere - its lock serialises). now == 0: read the clock only if
// a timer may be due. Returns the next when of pp's heap, 0 if empty; *ran
// (if given) tells whether a callback ran. Inline (runtime2.h, after P):
// the common case of a P without timers is one load, no call, on every
// schedule(); checkTimers_run is the rest.
inline int64_t checkTimers(P *pp, int64_t now, bool *ran = nullptr);
// checkTimers' slow half.
int64_t checkTimers_run(P *pp, int64_t now, bool *ran);

}  // namespace gort
