// core/base/lock_futex.h - runtime locks and notes on Linux futexes, as in Go's
// lock_futex.go.
//
// mutex: 0 unlocked, 1 locked, 2 locked with possible sleepers. lock spins
// briefly (active then passive spinning), then sleeps in FUTEX_WAIT. Holding a
// runtime lock increments m->locks: the holder must not park or be preempted.
// Lock order: every mutex has a rank, core/base/lockrank.h (the one place the
// order is written; checked in GORT_LOCKRANK builds).
//
// note: a one-shot event. notesleep blocks until notewakeup; notewakeup may
// come first. A note is re-armed with noteclear once the sleeper has woken
// and nobody else can wake it; a second wakeup without a clear is fatal.
#pragma once

#include <cstdint>

#include "core/base/atomics.h"
#include "core/base/lockrank.h"

namespace gort {

// rank sits in key's padding of an 8-byte word; lock/unlock read it only in
// GORT_LOCKRANK builds. A default-constructed (or zeroed) mutex is unranked:
// give it a rank where it is declared or constructed.
struct mutex {
    atomic<uint32_t> key{0};
    LockRank rank = kRankUnranked;
    constexpr mutex() = default;
    constexpr explicit mutex(LockRank r) : rank(r) {}
};

struct note {
    atomic<uint32_t> key{0};
};

void lock(mutex *l);      // seed: lock
void unlock(mutex *l);    // seed: unlock
// lock for a mutex whose memory the runtime does not construct (zero means
// ready, e.g. a gort_cond's notifyList): the rank comes from the caller.
#if defined(GORT_LOCKRANK) && GORT_LOCKRANK
void lockWithRank(mutex *l, LockRank r);
#else
inline void lockWithRank(mutex *l, LockRank) { lock(l); }
#endif
void noteclear(note *n);  // seed: noteclear
void notewakeup(note *n); // seed: notewakeup
void notesleep(note *n);  // seed: notesleep
// notetsleep waits at most ns nanoseconds (ns < 0: for ever); true if woken.
bool notetsleep(note *n, int64_t ns);  // seed: notetsleep

// The futex itself (seed: futexsleep/futexwakeup): sleep while *addr == val,
// at most ns (< 0: for ever); spurious wakeups are possible.
void futexsleep(atomic<uint32_t> *addr, uint32_t val, int64_t ns);
void futexwakeup(atomic<uint32_t> *addr, int cnt);

}  // namespace gort
