// core/stoptheworld.cc - stopping every P (seed: stoptheworld).
//
// gcwaiting tells every M to stop at its next scheduling point (schedule,
// findrunnable -> gcstopm); idle Ps are taken directly; the caller sleeps on
// stopnote until the last P stops. Departures, until the runtime issue
// brings cooperative preemption, syscalls and starttheworld:
//   - preemptall is not called: nothing would observe it yet, so a goroutine
//     that never reaches a scheduling point delays the stop;
//   - the caller may be a host thread without a P (gort_shutdown), in which
//     case it has no P of its own to stop.
#include "core/atomics.h"
#include "core/proc.h"
#include "core/runq.h"
#include "core/throw.h"

namespace gort {

void stoptheworld() {
    G *g = getg();
    M *mp = g != nullptr ? g->m : nullptr;
    // If we hold a lock, then we won't be able to stop another M that is
    // blocked trying to acquire the lock.
    if (mp != nullptr && mp->locks > 0) gothrow("stoptheworld: holding locks");
    lock(&sched.lock);
    int32_t procs = load_relaxed(gomaxprocs);
    sched.stopwait = procs;
    store_rel(sched.gcwaiting, 1u);
    // stop current P
    if (mp != nullptr && mp->p != nullptr) {
        mp->p->status.store(Pgcstop, std::memory_order_relaxed);  // Pgcstop is only diagnostic.
        sched.stopwait--;
    }
    // try to retake all Ps in Psyscall status
    for (int32_t i = 0; i < procs; i++) {
        P *pp = allp[i];
        uint32_t s = pp->status.load(std::memory_order_relaxed);
        if (s == Psyscall && cas_full(pp->status, s, uint32_t(Pgcstop))) sched.stopwait--;
    }
    // stop idle Ps
    while (P *pp = pidleget()) {
        pp->status.store(Pgcstop, std::memory_order_relaxed);
        sched.stopwait--;
    }
    bool wait = sched.stopwait > 0;
    unlock(&sched.lock);
    // wait for remaining Ps to stop voluntarily
    if (wait) {
        notesleep(&sched.stopnote);
        noteclear(&sched.stopnote);
    }
    lock(&sched.lock);
    if (sched.stopwait != 0) gothrow("stoptheworld: not stopped");
    for (int32_t i = 0; i < procs; i++)
        if (allp[i]->status.load(std::memory_order_relaxed) != Pgcstop) gothrow("stoptheworld: not stopped");
    unlock(&sched.lock);
}

}  // namespace gort
