// core/sched/newproc.cc - creating goroutines and recycling dead ones (seed:
// malg, newproc1, gfput, gfget, gfpurge, gcount).
//
// Spawning takes no lock and makes no system call in the common case: the G
// and its stack come from the P's gfree list (the stack stays attached to a
// dead G of the default size), the goid from the P's cache of 16, and the G
// goes on the P's lock-free run queue. Locks are taken only to move batches
// of 32 dead Gs between a P and the global list, and for a brand-new G.
#include <cstring>

#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/sched/runq.h"
#include "core/sched/switch.h"
#include "core/base/throw.h"
#include "core/sched/upcalls.h"
#include "core/base/rtalloc.h"

namespace gort {

std::size_t default_stack_size = 0;  // set by rt_init before any goroutine (core/stack: kDefaultStackSize)
atomic<uint64_t> foreign_created{0};  // goroutines created from host threads
void (*main_goroutine_fn)(void *) = nullptr;  // seed: funcPC(main), not worth a wakep

namespace {

// False when no stack can be had (gp is left without one).
bool ensure_stack(G *gp) {
    if (gp->stack.lo == 0) {
        // Stack was deallocated in gfput. Allocate a new one.
        gp->stack = stackalloc(default_stack_size, kStackExec);
        if (gp->stack.lo == 0) return false;
        gp->stackguard0.store(gp->stack.lo + kStackGuard, std::memory_order_relaxed);
        stack_initcanary(gp);  // stacks: canary if unguarded
        gtools_stack_changed(gp);
    }
    return true;
}

// Puts back a dead G that could get no stack: on P's free list (it needs no
// stack there; gfget gives it one next time), or the global one.
void gfput_nostack(P *pp, G *gp) {
    if (pp != nullptr) {
        gp->schedlink = pp->gfree;
        pp->gfree = gp;
        store_relaxed(pp->gfreecnt, load_relaxed(pp->gfreecnt) + 1);
        return;
    }
    lock(&sched.gflock);
    gp->schedlink = sched.gfree;
    sched.gfree = gp;
    store_relaxed(sched.ngfree, load_relaxed(sched.ngfree) + 1);
    unlock(&sched.gflock);
}

// gfget_global: a dead G for a caller without a P (host thread). gort's own
// path: the seed's off-P creators (newextram) always malg.
G *gfget_global() {
    if (load_relaxed(sched.ngfree) == 0) return nullptr;
    lock(&sched.gflock);
    G *gp = sched.gfree;
    if (gp != nullptr) {
        sched.gfree = gp->schedlink;
        store_relaxed(sched.ngfree, load_relaxed(sched.ngfree) - 1);
    }
    unlock(&sched.gflock);
    return gp;  // newproc1 gives it a stack if it has none
}

// newproc1's exit (the seed's releasem): drops the m->locks it took and
// restores a preemption request that arrived meanwhile. Returns newg.
G *newproc_done(G *g, G *newg) {
    if (g != nullptr) {
        g->m->locks--;
        if (g->m->locks == 0 && g->preempt.load(std::memory_order_relaxed))
            g->stackguard0.store(kStackPreempt, std::memory_order_relaxed);
    }
    return newg;
}

}  // namespace

// seed: malg. Allocate a new g, with a stack of stacksize bytes (0: none).
// nullptr when no stack can be had.
G *malg(std::size_t stacksize) {
    auto *newg = new (rtalloc(sizeof(G))) G();
    if (stacksize != 0) {
        newg->stack = stackalloc(stacksize, kStackExec);
        if (newg->stack.lo == 0) {
            newg->~G();
            rtfree(newg);
            return nullptr;
        }
        newg->stackguard0.store(newg->stack.lo + kStackGuard, std::memory_order_relaxed);
        stack_initcanary(newg);  // stacks: canary if unguarded
    }
    gtools_create(newg);
    return newg;
}

// seed: newproc1. Create a new g running fn with argsize bytes of arguments
// copied from arg, and put it on the queue of gs waiting to run.
//
// Departure: the seed runs newproc1 on the system stack because a Go stack
// may be split (moved) under it; execution stacks never move, so gort runs it
// on the caller's stack and saves two switches per spawn.
G *newproc1(void (*fn)(void *), const void *arg, std::size_t argsize, std::size_t stacksize, bool lock_os_thread,
            int64_t *goid_out, bool issystem) {
    G *g = getg();
    if (fn == nullptr) gothrow("go of nil func value");
    P *pp = (g != nullptr) ? g->m->p : nullptr;
    if (g != nullptr) g->m->locks++;  // disable preemption because it can be holding p in a local var
    std::size_t siz = (argsize + 15) & ~std::size_t(15);
    if (siz > kMaxArgSize) gothrow("newproc: function arguments too large for new goroutine");

    std::size_t want = stacksize != 0 ? stacksize : default_stack_size;
    G *newg = nullptr;
    if (want == default_stack_size) newg = pp != nullptr ? gfget(pp) : gfget_global();
    if (newg != nullptr && !ensure_stack(newg)) {
        gfput_nostack(pp, newg);
        return newproc_done(g, nullptr);  // no stack: nothing started
    }
    if (newg == nullptr) {
        newg = malg(want);
        if (newg == nullptr) return newproc_done(g, nullptr);  // no stack: nothing started
        casgstatus(newg, Gidle, Gdead);
        allgadd(newg);  // publishes with a status of Gdead so nobody looks at the uninitialised stack
    } else {
        gtools_stack_reuse(newg);
    }
    if (newg->stack.hi == 0) gothrow("newproc1: newg missing stack");
    if (readgstatus(newg) != Gdead) gothrow("newproc1: new g is not Gdead");

    uintptr_t sp = newg->stack.hi;
    sp -= 4 * sizeof(void *);  // extra space in case of reads slightly beyond frame
    sp -= siz;
    sp &= ~uintptr_t(15);
    if (argsize != 0) std::memmove(reinterpret_cast<void *>(sp), arg, argsize);
    newg->startfn = fn;
    newg->startarg = argsize != 0 ? reinterpret_cast<void *>(sp) : const_cast<void *>(arg);
    newg->lock_on_start = lock_os_thread;
    newg->schedlink = nullptr;
    newg->m = nullptr;
    newg->lockedm = nullptr;
    newg->param = nullptr;
    newg->local = nullptr;
    newg->waitreason = nullptr;
    newg->preempt.store(false, std::memory_order_relaxed);
    newg->issystem.store(issystem, std::memory_order_relaxed);
    if (issystem) sched.nsysg.fetch_add(1, std::memory_order_relaxed);  // system goroutines never exit
    gostartcall(newg, sp);

    if (pp != nullptr) {
        if (pp->goidcache == pp->goidcacheend) {
            // sched.goidgen is the last allocated id; this batch must be
            // [goidgen+1, goidgen+GoidCacheBatch]. At startup goidgen=0, so
            // the first goroutine gets goid 1.
            pp->goidcache = xadd_full(sched.goidgen, uint64_t(kGoidCacheBatch));
            pp->goidcache -= kGoidCacheBatch - 1;
            pp->goidcacheend = pp->goidcache + kGoidCacheBatch;
        }
        newg->goid = int64_t(pp->goidcache++);
        counter_inc(pp->ncreated);
    } else {
        newg->goid = int64_t(xadd_full(sched.goidgen, uint64_t(1)));
        foreign_created.fetch_add(1, std::memory_order_relaxed);
    }
    if (goid_out != nullptr) *goid_out = newg->goid;  // newg may run, exit and be reused after the put
    casgstatus(newg, Gdead, Grunnable);

    if (pp != nullptr) {
        // Into runnext, as Go 1.13+'s newproc (runqput(pp, newg, true); the
        // seed and Go 1.5 put it on the ring's tail): the newest goroutine
        // runs as soon as its creator blocks, so a spawn-and-wait tree such
        // as skynet unfolds depth-first. Measured (bench/results/
        // 2026-11-27-runnext.md): skynet's peak RSS 564 -> 336 MB and page
        // faults 140k -> 83k against runnext for ready() alone; spawn_join
        // unchanged.
        runqput(pp, newg, /*next=*/true);
        storeload_fence();  // StoreLoad before reading npidle/nmspinning: see proc.cc
        if (load_relaxed(sched.npidle) != 0 && load_relaxed(sched.nmspinning) == 0 && fn != main_goroutine_fn)
            wakep();
    } else {
        ready_runnable(newg);  // global queue + startm, as from any host thread
    }
    return newproc_done(g, newg);
}

// seed: gfput. Put on gfree list. If the local list is too long, transfer a
// batch to the global list.
void gfput(P *pp, G *gp) {
    if (readgstatus(gp) != Gdead) gothrow("gfput: bad status (not Gdead)");
    std::size_t stksize = gp->stack.hi - gp->stack.lo;
    if (stksize != default_stack_size) {
        // non-standard stack size - free it.
        gtools_stack_freed(gp);
        stackfree(gp->stack, kStackExec);
        gp->stack = Stack{};
        gp->stackcanary = 0;
        gp->stackguard0.store(0, std::memory_order_relaxed);
    }
    gp->schedlink = pp->gfree;
    pp->gfree = gp;
    int32_t cnt = load_relaxed(pp->gfreecnt) + 1;
    store_relaxed(pp->gfreecnt, cnt);
    if (cnt >= 64) {
        lock(&sched.gflock);
        while (cnt >= 32) {
            cnt--;
            gp = pp->gfree;
            pp->gfree = gp->schedlink;
            gp->schedlink = sched.gfree;
            sched.gfree = gp;
            store_relaxed(sched.ngfree, load_relaxed(sched.ngfree) + 1);
        }
        store_relaxed(pp->gfreecnt, cnt);
        unlock(&sched.gflock);
    }
}

// seed: gfget. Get from gfree list. If the local list is empty, grab a
// batch from the global list.
G *gfget(P *pp) {
    for (;;) {
        G *gp = pp->gfree;
        if (gp == nullptr && load_relaxed(sched.ngfree) != 0) {
            lock(&sched.gflock);
            int32_t cnt = load_relaxed(pp->gfreecnt);
            while (cnt < 32 && sched.gfree != nullptr) {
                cnt++;
                gp = sched.gfree;
                sched.gfree = gp->schedlink;
                store_relaxed(sched.ngfree, load_relaxed(sched.ngfree) - 1);
                gp->schedlink = pp->gfree;
                pp->gfree = gp;
            }
            store_relaxed(pp->gfreecnt, cnt);
            unlock(&sched.gflock);
            if (pp->gfree == nullptr) return nullptr;
            continue;  // retry
        }
        if (gp != nullptr) {
            pp->gfree = gp->schedlink;
            store_relaxed(pp->gfreecnt, load_relaxed(pp->gfreecnt) - 1);
        }
        return gp;
    }
}

// seed: gfpurge. Purge all cached Gs from the P's gfree list to the global
// list.
void gfpurge(P *pp) {
    lock(&sched.gflock);
    int32_t cnt = load_relaxed(pp->gfreecnt);
    while (cnt != 0) {
        cnt--;
        G *gp = pp->gfree;
        pp->gfree = gp->schedlink;
        gp->schedlink = sched.gfree;
        sched.gfree = gp;
        store_relaxed(sched.ngfree, load_relaxed(sched.ngfree) + 1);
    }
    store_relaxed(pp->gfreecnt, cnt);
    unlock(&sched.gflock);
}

// seed: gcount. Departure: the seed clamps to 1 because its caller is always
// a running goroutine; a host thread may ask while none exists, so gort
// clamps to 0. The counts change concurrently: the result is a snapshot.
int32_t gcount() {
    int64_t n = int64_t(allglen()) - load_relaxed(sched.ngfree);
    for (int i = 0; i < kMaxGomaxprocs; i++) {
        P *pp = allp[i];
        if (pp == nullptr) break;
        n -= load_relaxed(pp->gfreecnt);
    }
    n -= extram_idle_gs();  // foreign threads' goroutines between calls
    n -= load_relaxed(sched.nsysg);
    return n < 0 ? 0 : int32_t(n);
}

}  // namespace gort
