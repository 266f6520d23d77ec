// core/sched/procresize.cc - Ps (seed: procresize, acquirep, releasep).
#include "core/base/atomics.h"
#include "core/sched/proc.h"
#include "core/sched/runq.h"
#include "core/base/throw.h"
#include "core/sched/timers.h"
#include "core/sched/upcalls.h"
#include "core/base/rtalloc.h"

namespace gort {

// seed: procresize. Change the number of processors. The world is stopped
// (or the runtime is not running yet) and sched.lock is held.
//
// Departure: the seed always runs on an M that then acquires allp[0]; gort
// also calls it from gort_init on a host thread, where every P goes idle.
void procresize(int32_t nprocs) {
    int32_t old = load_relaxed(gomaxprocs);
    if (old < 0 || old > kMaxGomaxprocs || nprocs <= 0 || nprocs > kMaxGomaxprocs)
        gothrow("procresize: invalid arg");

    // Departure: every P is re-listed as idle at the end. The seed runs
    // with the world stopped, when the idle list is empty; gort also runs
    // before the start (gort_init, gort_set_maxprocs in the Init state),
    // when every P is on it. Empty it first so no P is listed twice.
    while (pidleget() != nullptr) {
    }

    // initialize new Ps
    for (int32_t i = 0; i < nprocs; i++) {
        if (allp[i] == nullptr) {
            P *pp = new (rtalloc(sizeof(P))) P();
            pp->id = i;
            pp->status.store(Pgcstop, std::memory_order_relaxed);
            allp[i] = pp;
        }
    }

    // Redistribute runnable Gs evenly: collect them all in the global queue
    // preserving FIFO order (required for fairness even during frequent
    // stops: golang.org/issue/7126), popping from the tail of each local
    // queue onto the head of the global queue, round-robin.
    bool empty = false;
    while (!empty) {
        empty = true;
        for (int32_t i = 0; i < old; i++) {
            P *pp = allp[i];
            if (runqempty(pp)) continue;
            empty = false;
            // runnext (modern Go) is the P's first G: it goes last, after
            // the ring, so it ends up ahead of the ring's Gs.
            G *gp;
            uint32_t h = load_relaxed(pp->runqhead);
            uint32_t t = load_relaxed(pp->runqtail);
            if (t != h) {
                store_rel(pp->runqtail, t - 1);
                gp = load_relaxed(pp->runq[(t - 1) % kRunqSize]);
            } else {
                gp = pp->runnext.exchange(nullptr, std::memory_order_acquire);
            }
            gp->schedlink = sched.runqhead;
            sched.runqhead = gp;
            if (sched.runqtail == nullptr) sched.runqtail = gp;
            store_relaxed(sched.runqsize, load_relaxed(sched.runqsize) + 1);
        }
    }

    // Fill local queues with at most len(p.runq)/2 goroutines. Start at 1
    // because the current M already executes some G and will acquire allp[0]
    // below, so a spare G should go to allp[1].
    //
    // Departure: not before the start (gort_set_maxprocs in the Init state):
    // no M runs yet, and the start (rt_start, newproc1's wakep under
    // gort_main) looks for work only on the global queue.
    for (int32_t i = 1; sched.started && i < nprocs * kRunqSize / 2 && load_relaxed(sched.runqsize) > 0; i++) {
        G *gp = sched.runqhead;
        sched.runqhead = gp->schedlink;
        if (sched.runqhead == nullptr) sched.runqtail = nullptr;
        store_relaxed(sched.runqsize, load_relaxed(sched.runqsize) - 1);
        runqput(allp[i % nprocs], gp);
    }

    // free unused Ps (the P itself stays: an M in a syscall may refer to it)
    for (int32_t i = nprocs; i < old; i++) {
        P *pp = allp[i];
        gfpurge(pp);
        stackcache_clear(pp);  // stacks (seed: freemcache -> stackcache_clear)
        pp->status.store(Pdead, std::memory_order_relaxed);
        timers_moveall(pp, allp[0]);  // after Pdead: see timers_moveall
    }

    G *g = getg();
    M *mp = g != nullptr ? g->m : nullptr;
    if (mp != nullptr) {
        if (mp->p != nullptr) store_relaxed(mp->p->m, static_cast<M *>(nullptr));
        mp->p = nullptr;
    }
    for (int32_t i = nprocs - 1; i >= 0; i--) {
        P *pp = allp[i];
        store_relaxed(pp->m, static_cast<M *>(nullptr));
        pp->status.store(Pidle, std::memory_order_relaxed);
        if (i == 0 && mp != nullptr)
            acquirep(pp);
        else
            pidleput(pp);  // allp[0] last: first out of pidleget
    }
    store_rel(gomaxprocs, nprocs);
}

// seed: acquirep. Associate pp and the current m.
void acquirep(P *pp) {
    M *mp = getg()->m;
    if (mp->p != nullptr) gothrow("acquirep: already in go");
    M *pm = load_relaxed(pp->m);
    if (pm != nullptr || pp->status.load(std::memory_order_relaxed) != Pidle) {
        printstr("acquirep: p->m=");
        printptr(pm);
        printstr("(");
        printint(pm != nullptr ? pm->id : 0);
        printstr(") p->status=");
        printuint(pp->status.load(std::memory_order_relaxed));
        printstr("\n");
        gothrow("acquirep: invalid p state");
    }
    mp->p = pp;
    store_rel(pp->m, mp);  // publishes *mp to preemptone's acquire load
    pp->status.store(Prunning, std::memory_order_relaxed);
}

// seed: releasep. Disassociate p and the current m.
P *releasep() {
    M *mp = getg()->m;
    if (mp->p == nullptr) gothrow("releasep: invalid arg");
    P *pp = mp->p;
    if (load_relaxed(pp->m) != mp || pp->status.load(std::memory_order_relaxed) != Prunning) {
        printstr("releasep: m=");
        printptr(mp);
        printstr(" m->p=");
        printptr(mp->p);
        printstr(" p->m=");
        printptr(load_relaxed(pp->m));
        printstr(" p->status=");
        printuint(pp->status.load(std::memory_order_relaxed));
        printstr("\n");
        gothrow("releasep: invalid p state");
    }
    mp->p = nullptr;
    store_relaxed(pp->m, static_cast<M *>(nullptr));
    pp->status.store(Pidle, std::memory_order_relaxed);
    return pp;
}

}  // namespace gort
