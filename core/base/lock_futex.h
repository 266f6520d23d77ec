// core/base/lock_futex.h - runtime locks and notes on Linux futexes, as in Go's
// lock_futex.go.
//
// mutex: 0 unlocked, 1 locked, 2 locked with possible sleepers. lock spins
// briefly (active then passive spinning), then sleeps in FUTEX_WAIT. Holding a
// runtime lock increments m->locks: the holder must not park or be preempted.
// Lock order (DESIGN §3): sched.lock -> allglock -> sched.gflock ->
// stackpoolmu; no other runtime lock may be held while taking one earlier in
// that list.
//
// note: a one-shot event. notesleep blocks until notewakeup; notewakeup may
// come first. A note is re-armed with noteclear once the sleeper has woken
// and nobody else can wake it; a second wakeup without a clear is fatal.
#pragma once

#include <cstdint>

#include "core/base/atomics.h"

namespace gort {

struct mutex {
    atomic<uint32_t> key{0};
};

struct note {
    atomic<uint32_t> key{0};
};

void lock(mutex *l);      // seed: lock
void unlock(mutex *l);    // seed: unlock
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
