// core/wait/sync.cc - sync.Mutex and sync.WaitGroup (Go's sync/mutex.go and
// sync/waitgroup.go) on the runtime semaphore; sync.Cond is a notifyList
// (core/wait/sema.h) plus a Mutex, in capi/sync.cc.
//
// Mutex fairness (sync/mutex.go). Mutex can be in 2 modes of operation:
// normal and starvation. In normal mode waiters are queued in FIFO order, but
// a woken up waiter does not own the mutex and competes with new arriving
// goroutines over the ownership. New arriving goroutines have an advantage -
// they are already running on CPU and there can be lots of them, so a woken
// up waiter has good chances of losing. In such case it is queued at front
// of the wait queue. If a waiter fails to acquire the mutex for more than
// 1 ms, it switches mutex to the starvation mode.
//
// In starvation mode ownership of the mutex is directly handed off from the
// unlocking goroutine to the waiter at the front of the queue. New arriving
// goroutines don't try to acquire the mutex even if it appears to be
// unlocked, and don't try to spin. Instead they queue themselves at the tail
// of the wait queue.
//
// If a waiter receives ownership of the mutex and sees that either (1) it is
// the last waiter in the queue, or (2) it waited for less than 1 ms, it
// switches mutex back to normal operation mode.
//
// Departure from Go: unlock of an unlocked mutex and a negative WaitGroup
// counter are caller mistakes answered with false (GORT_ESTATE) and change
// nothing, where Go throws or panics; so unlock is a CAS loop instead of
// Go's single atomic add.
#include "core/wait/sync.h"

#include <cstdint>

#include "core/base/atomics.h"
#include "core/sched/proc.h"
#include "core/sched/runq.h"
#include "core/base/throw.h"
#include "core/base/os.h"

namespace gort {

namespace {

constexpr int32_t mutexLocked = 1;  // mutex is locked
constexpr int32_t mutexWoken = 2;
constexpr int32_t mutexStarving = 4;
constexpr int32_t mutexWaiterShift = 3;
constexpr int64_t starvationThresholdNs = 1000000;  // 1 ms

// sync/runtime (proc.go): sync_runtime_canSpin. Active spinning for
// sync.Mutex is conservative: only a few times, only on a multicore machine
// with GOMAXPROCS > 1 and at least one other running P, and only if the
// local runq is empty (unlike the runtime mutex, which spins more).
// Departure: no ncpu <= 1 test (gort does not cache the CPU count; with one
// CPU the default maxprocs is 1, which the gomaxprocs test already covers).
bool canSpin(int iter) {
    constexpr int active_spin = 4;
    if (iter >= active_spin) return false;
    if (load_relaxed(gomaxprocs) <= int32_t(load_relaxed(sched.npidle) + load_relaxed(sched.nmspinning)) + 1)
        return false;
    P *pp = getg()->m->p;
    if (pp == nullptr) return false;
    return runqempty(pp);  // ring and runnext
}

// sync_runtime_doSpin: procyield(active_spin_cnt).
void doSpin() {
    for (int i = 0; i < 30; i++) __builtin_ia32_pause();
}

void lockSlow(Mutex *m) {
    int64_t waitStartTime = 0;
    bool starving = false;
    bool awoke = false;
    int iter = 0;
    int32_t old = load_relaxed(m->state);
    for (;;) {
        // Don't spin in starvation mode, ownership is handed off to waiters
        // so we won't be able to acquire the mutex anyway.
        if ((old & (mutexLocked | mutexStarving)) == mutexLocked && canSpin(iter)) {
            // Active spinning makes sense. Try to set mutexWoken flag to
            // inform Unlock to not wake other blocked goroutines.
            if (!awoke && (old & mutexWoken) == 0 && (old >> mutexWaiterShift) != 0 &&
                cas_full(m->state, old, old | mutexWoken))
                awoke = true;
            doSpin();
            iter++;
            old = load_relaxed(m->state);
            continue;
        }
        int32_t nw = old;
        // Don't try to acquire starving mutex, new arriving goroutines must queue.
        if ((old & mutexStarving) == 0) nw |= mutexLocked;
        if ((old & (mutexLocked | mutexStarving)) != 0) nw += 1 << mutexWaiterShift;
        // The current goroutine switches mutex to starvation mode. But if
        // the mutex is currently unlocked, don't do the switch. Unlock
        // expects that starving mutex has waiters, which will not be true in
        // this case.
        if (starving && (old & mutexLocked) != 0) nw |= mutexStarving;
        if (awoke) {
            // The goroutine has been woken from sleep, so we need to reset
            // the flag in either case.
            if ((nw & mutexWoken) == 0) gothrow("sync: inconsistent mutex state");
            nw &= ~mutexWoken;
        }
        if (cas_full(m->state, old, nw)) {
            if ((old & (mutexLocked | mutexStarving)) == 0) break;  // locked the mutex with CAS
            // If we were already waiting before, queue at the front of the queue.
            bool queueLifo = waitStartTime != 0;
            if (waitStartTime == 0) waitStartTime = nanotime();
            semacquire1(&m->sema, queueLifo, "sync.Mutex.Lock");
            starving = starving || nanotime() - waitStartTime > starvationThresholdNs;
            old = load_relaxed(m->state);
            if ((old & mutexStarving) != 0) {
                // If this goroutine was woken and mutex is in starvation
                // mode, ownership was handed off to us but mutex is in
                // somewhat inconsistent state: mutexLocked is not set and we
                // are still accounted as waiter. Fix that.
                if ((old & (mutexLocked | mutexWoken)) != 0 || (old >> mutexWaiterShift) == 0)
                    gothrow("sync: inconsistent mutex state");
                int32_t delta = int32_t(mutexLocked - (1 << mutexWaiterShift));
                if (!starving || (old >> mutexWaiterShift) == 1) {
                    // Exit starvation mode. Critical to do it here and
                    // consider wait time. Starvation mode is so inefficient,
                    // that two goroutines can go lock-step infinitely once
                    // they switch mutex to starvation mode.
                    delta -= mutexStarving;
                }
                m->state.fetch_add(delta, std::memory_order_acq_rel);
                break;
            }
            awoke = true;
            iter = 0;
        } else {
            old = load_relaxed(m->state);
        }
    }
}

void unlockSlow(Mutex *m, int32_t nw) {
    if ((nw & mutexStarving) == 0) {
        int32_t old = nw;
        for (;;) {
            // If there are no waiters or a goroutine has already been woken
            // or grabbed the lock, no need to wake anyone. In starvation
            // mode ownership is directly handed off from unlocking goroutine
            // to the next waiter. We are not part of this chain, since we
            // did not observe mutexStarving when we unlocked the mutex above.
            // So get off the way.
            if ((old >> mutexWaiterShift) == 0 || (old & (mutexLocked | mutexWoken | mutexStarving)) != 0) return;
            // Grab the right to wake someone.
            nw = (old - (1 << mutexWaiterShift)) | mutexWoken;
            if (cas_full(m->state, old, nw)) {
                semrelease1(&m->sema, false);
                return;
            }
            old = load_relaxed(m->state);
        }
    } else {
        // Starving mode: handoff mutex ownership to the next waiter, and
        // yield our time slice so that the next waiter can start to run
        // immediately. Note: mutexLocked is not set, the waiter will set it
        // after wakeup. But mutex is still considered locked if
        // mutexStarving is set, so new coming goroutines won't acquire it.
        semrelease1(&m->sema, true);
    }
}

}  // namespace

// sync/mutex.go: Lock.
void mutex_lock(Mutex *m) {
    // Fast path: grab unlocked mutex.
    int32_t z = 0;
    if (m->state.compare_exchange_strong(z, mutexLocked, std::memory_order_acquire, std::memory_order_relaxed))
        return;
    // Slow path (outlined so that the fast path can be inlined)
    lockSlow(m);
}

// sync/mutex.go: TryLock.
bool mutex_trylock(Mutex *m) {
    int32_t old = load_relaxed(m->state);
    if ((old & (mutexLocked | mutexStarving)) != 0) return false;
    // There may be a goroutine waiting for the mutex, but we are running now
    // and can try to grab the mutex before that goroutine wakes up.
    return m->state.compare_exchange_strong(old, old | mutexLocked, std::memory_order_acquire,
                                            std::memory_order_relaxed);
}

// sync/mutex.go: Unlock. Locked means mutexLocked set, or starvation mode
// (a handed-off owner runs with mutexLocked clear until it fixes the state).
bool mutex_unlock(Mutex *m) {
    int32_t old = load_relaxed(m->state);
    for (;;) {
        if ((old & mutexLocked) == 0) return false;  // Go: fatal("sync: unlock of unlocked mutex")
        if (m->state.compare_exchange_weak(old, old - mutexLocked, std::memory_order_acq_rel,
                                           std::memory_order_relaxed))
            break;
    }
    int32_t nw = old - mutexLocked;
    if (nw != 0) {
        // Outlined slow path to allow inlining the fast path.
        unlockSlow(m, nw);
    }
    return true;
}

bool mutex_locked(const Mutex *m) { return (load_relaxed(m->state) & mutexLocked) != 0; }

// sync/waitgroup.go: Add.
bool wg_add(WaitGroup *w, int32_t delta) {
    uint64_t state = load_relaxed(w->state);
    int32_t v;
    uint32_t waiters;
    for (;;) {
        int64_t v64 = int64_t(int32_t(state >> 32)) + delta;
        waiters = uint32_t(state);
        if (v64 < 0) return false;  // Go: panic("sync: negative WaitGroup counter")
        if (v64 > INT32_MAX) return false;  // the counter is 32 bits in Go too
        v = int32_t(v64);
        // Go: panic("sync: WaitGroup misuse: Add called concurrently with Wait")
        if (waiters != 0 && delta > 0 && v == delta) return false;
        uint64_t nw = (uint64_t(uint32_t(v)) << 32) | waiters;
        if (w->state.compare_exchange_weak(state, nw, std::memory_order_acq_rel, std::memory_order_relaxed)) break;
    }
    if (v > 0 || waiters == 0) return true;
    // This goroutine has set counter to 0 when waiters > 0. Now there can't
    // be concurrent mutations of state: Adds must not happen concurrently
    // with Wait, and Wait does not increment waiters if it sees counter == 0.
    // Reset waiters count to 0.
    store_rel(w->state, uint64_t(0));
    for (; waiters != 0; waiters--) semrelease1(&w->sema, false);
    return true;
}

// sync/waitgroup.go: Wait.
bool wg_wait(WaitGroup *w) {
    uint64_t state = load_acq(w->state);
    for (;;) {
        if ((state >> 32) == 0) return true;  // Counter is 0, no need to wait.
        // Increment waiters count.
        if (w->state.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
            semacquire1(&w->sema, false, "sync.WaitGroup.Wait");
            // Go: panic("sync: WaitGroup is reused before previous Wait has returned")
            return load_acq(w->state) == 0;
        }
    }
}

}  // namespace gort
