// core/sched/timers.h - timers run by the scheduler: a min-heap per P (modern Go's
// runtime/time.go; the seed's timer goroutine, timerproc, is not ported).
//
// Each P owns a 4-ary min-heap of timers ordered by `when`, under the P's
// own timers lock: the P's M adds and runs them, and other Ms run (steal) a
// P's expired timers while they look for work, so a busy or idle P does not
// hold its timers hostage. A timer's callback runs on g0 of whichever M ran
// checkTimers, without any timers lock held; it may call ready().
//
// A timer is owned by its creator (typically on a goroutine's stack). While
// it is in a heap, the heap's lock protects it; checkTimers copies f, arg and
// seq out under the lock, takes the timer out of the heap, and never touches
// it again, so the owner may reuse its memory as soon as deltimer returns or
// the callback has woken it.
//
// Lock order: core/base/lockrank.h (kRankTimers; two at once only in
// timers_moveall, under sched.lock). No timers lock is held while a callback
// runs or while netpollBreak, wakep or startm are called.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/base/lock_futex.h"
#include "core/base/os.h"

namespace gort {

struct P;

struct timer {
    int64_t when = 0;                            // nanotime() deadline
    void (*f)(void *arg, uintptr_t seq) = nullptr;  // runs on g0, no lock held
    void *arg = nullptr;
    uintptr_t seq = 0;
    // Heap state, under the holding P's timers lock. pp is atomic so that
    // deltimer can find the heap without a lock, then confirm under it.
    std::atomic<P *> pp{nullptr};
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
    std::atomic<int64_t> timer0when{0};
    TimerHeap() = default;
    TimerHeap(const TimerHeap &) = delete;
    TimerHeap &operator=(const TimerHeap &) = delete;
    ~TimerHeap();
};

// addtimer: arm t (not armed) to fire at t->when on the current M's P (from
// a host thread or an M without P: on some live P). Wakes the poller or an idle P if t is now
// the earliest deadline (seed-era addtimer woke timerproc; modern Go's
// wakeNetPoller).
void addtimer(timer *t);
// deltimer: disarm t. true if it was armed (its callback will not run);
// false if it already fired or is firing (the callback copied what it needs
// and will not touch t). Any thread.
bool deltimer(timer *t);
// checkTimers: runs pp's expired timers (on g0; pp held by this M or idle /
// running elsewhere - its lock serialises). now == 0: read the clock only if
// a timer may be due. Returns the next when of pp's heap, 0 if empty; *ran
// (if given) tells whether a callback ran. Inline (runtime2.h, after P):
// the common case of a P without timers is one load, no call, on every
// schedule(); checkTimers_run is the rest.
inline int64_t checkTimers(P *pp, int64_t now, bool *ran = nullptr);
int64_t checkTimers_run(P *pp, int64_t now, bool *ran);
// When pp's next timer fires (0: none). Any thread, no lock.
inline int64_t timers_wakeTime(const TimerHeap &h) { return h.timer0when.load(std::memory_order_seq_cst); }
// timeSleepUntil: the earliest when over all Ps (0: no timer). Any thread.
int64_t timeSleepUntil();
// timers_moveall: procresize, world stopped: every timer of `from` (a P
// going Pdead) moves to `to`. Call it after from->status is Pdead (host
// threads add timers to any P not Pdead). Caller holds sched.lock, which
// makes nesting the two Ps' timers locks legal (core/base/lockrank.h).
void timers_moveall(P *from, P *to);
// Number of armed timers over all Ps (checkdead, tests). Any thread.
int64_t timers_count();

// Modern Go's wakeNetPoller: a timer at `when` was just added; make sure
// somebody will run it on time (break the blocked poller if it sleeps past
// when, else wake an idle P).
void wakeNetPoller(int64_t when);

}  // namespace gort
