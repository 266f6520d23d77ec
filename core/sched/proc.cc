// core/sched/proc.cc - the scheduler loop: schedule, findrunnable, execute, park,
// ready, gosched, goexit (seed: proc1.go).
//
// Spinning and wakeups (seed; docs/DESIGN.md §3.5). An M is "spinning" while it holds a
// P and looks for work it does not have. At most about half of the busy Ps
// have a spinning M (findrunnable stops spinning when 2*nmspinning >=
// gomaxprocs - npidle). A producer of work (ready, newproc1) wakes an idle P
// only when there is one and no M is spinning (wakep); the spinning M that
// finds work calls resetspinning, which wakes another if it was the last
// spinner. So a burst of work starts Ms one by one, and an idle runtime has
// every M asleep on its note: no polling, no CPU.
//
// The lost-wakeup race and its StoreLoad points. A spinning M that gives up
// releases its P (pidleput: npidle++), drops nmspinning, then re-checks every
// local run queue. A producer stores to a run queue, then reads npidle and
// nmspinning. Each side stores one location then loads the other's: without
// a StoreLoad barrier on both sides, both could miss each other and the work
// would sit in a queue with every M asleep. The M side gets its barrier from
// the seq_cst read-modify-writes on npidle/nmspinning (LOCK XADD, as the
// seed's xadd); the producer side uses storeload_fence() after its runqput.
// (The seed's atomicstore is an XCHG, a full barrier; C++ store-release is
// not.)
#include "core/sched/proc.h"
#include "core/sched/timers.h"

#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/sched/runq.h"
#include "core/sched/switch.h"
#include "core/base/throw.h"
#include "core/sched/upcalls.h"
#include "core/base/os.h"

namespace gort {

SchedT sched;
atomic<int32_t> gomaxprocs{0};
P *allp[kMaxGomaxprocs + 1];
atomic<M *> allm{nullptr};

namespace {
inline void restore_preempt(G *g) {
    // seed: "restore the preemption request in case we've cleared it in
    // newstack"
    if (g->m->locks == 0 && g->preempt.load(std::memory_order_relaxed))
        g->stackguard0.store(kStackPreempt, std::memory_order_relaxed);
}
}  // namespace

// seed: fastrand1
uint32_t fastrand1() {
    M *mp = getg()->m;
    uint32_t x = mp->fastrand;
    x += x;
    if (x & 0x80000000u) x ^= 0x88888eefu;
    mp->fastrand = x;
    return x;
}

// seed: ready. Mark gp ready to run. gp must be waiting: anything else is a
// broken invariant here (gort_ready checks its caller's input first).
void ready(G *gp) {
    uint32_t status = readgstatus(gp);
    G *g = getg();
    g->m->locks++;  // disable preemption because it can be holding p in a local var
    if ((status & ~uint32_t(Gscan)) != Gwaiting) {
        dumpgstatus(gp);
        gothrow("bad g->status in ready");
    }
    casgstatus(gp, Gwaiting, Grunnable);
    g->m->locks--;
    ready_runnable(gp);
}

// ready_runnable: put a g that was just made Grunnable on a run queue and
// wake a P for it if needed. With a P: this P's runnext (modern Go's ready:
// runqput(pp, gp, next=true); the seed puts it on the ring's tail), so the
// woken goroutine runs as soon as its waker blocks (runq.h, "runnext").
// Without one (a host thread, or g0 of an M without P): the global queue and
// startm, as the seed's injectglist, which also runs without a P.
void ready_runnable(G *gp) {
    G *g = getg();
    if (g != nullptr && g->m->p != nullptr) {
        g->m->locks++;
        runqput(g->m->p, gp, /*next=*/true);
        storeload_fence();  // StoreLoad: see the essay at the top
        if (load_relaxed(sched.npidle) != 0 && load_relaxed(sched.nmspinning) == 0) wakep();
        g->m->locks--;
        restore_preempt(g);
        return;
    }
    lock(&sched.lock);
    globrunqput(gp);
    bool started = sched.started;
    unlock(&sched.lock);
    // injectglist reads npidle after its unlock: a P released after our
    // globrunqput saw the queue under sched.lock; one released before is
    // counted in npidle here.
    if (started && load_relaxed(sched.npidle) != 0) startm(nullptr, false);
}

void assert_g0(const char *fn) {
    G *g = getg();
    if (g != nullptr && g == g->m->g0) return;
    print("runtime: G0ONLY function called off g0: ", fn, "\n");
    gothrow("G0ONLY function called off g0");
}

// seed: execute. Schedules gp to run on the current M. Never returns.
// inheritTime (modern Go): gp takes over the current time slice, so sysmon
// still sees one slice (schedtick unchanged) and preempts it after 10 ms.
void execute(G *gp, bool inheritTime) {
    G0ONLY_CHECK();
    G *g = getg();
    M *mp = g->m;
    casgstatus(gp, Grunnable, Grunning);
    gp->waitsince = 0;
    gp->preempt.store(false, std::memory_order_relaxed);
    gp->stackguard0.store(stackguard_reset(gp), std::memory_order_relaxed);  // stacks: managed stack's guard if any
    // Departure (from the seed, which has no runnext, and from modern Go):
    // a P's first execute (schedtick 0) always counts a tick. Only then can
    // a runnext G come with no slice to inherit: rt_main's newproc1 puts the
    // main goroutine in P0's runnext from g0, before anything ran. Were that
    // counted as inherited, schedtick would stay 0 through the main
    // goroutine, and 0 % 61 == 0 would make schedule()'s global-queue check
    // fire on its first yield: gosched puts the yielder on the global queue,
    // so it came straight back ahead of the G it had just spawned into
    // runnext (the README example printed nothing). The seed counts the main
    // goroutine's execute (its newproc uses the ring); modern Go inherits
    // too, but runtime.main parks and readies goroutines of its own before
    // user code, which moves schedtick off 0. Invariant: schedtick == 0 only
    // before the P's first execute (and after a 2^32 wrap, where this costs
    // one extra tick).
    if (!inheritTime || load_relaxed(mp->p->schedtick) == 0) counter_inc(mp->p->schedtick);
    counter_inc(mp->p->nswitch);
    store_rel(mp->curg, gp);  // publishes *gp to preemptone
    gp->m = mp;
    gogo(gp);
}

// netpoll_take: the first G of a netpoll list to run now; the rest go to
// the scheduler (seed: injectglist(gp.schedlink); casgstatus(gp, ...)).
static G *netpoll_take(G *list) {
    G *gp = list;
    injectglist(gp->schedlink);
    gp->schedlink = nullptr;
    casgstatus(gp, Gwaiting, Grunnable);
    return gp;
}

// seed: findrunnable. Finds a runnable goroutine to execute: local queue,
// global queue, network poll, stealing from other Ps; otherwise releases the
// P and sleeps, or blocks in the network poller until the next timer.
// (The seed's finalizer wakeup has no counterpart.) Departures, from modern
// Go: timers are run here (this P's first, other Ps' while stealing), the
// non-blocking poll happens only when goroutines wait on fds, and the
// blocking poll also waits for timers, with a deadline; *inheritTime (Go
// 1.5+) is set when the G came from this P's runnext.
G *findrunnable(bool *inheritTime) {
    G0ONLY_CHECK();
    G *g = getg();
    M *mp = g->m;
top:
    if (load_acq(sched.gcwaiting) != 0) {
        gcstopm();
        goto top;
    }
    // timers of this P (their callbacks ready goroutines into its runq)
    checkTimers(mp->p, 0);
    *inheritTime = false;
    // local runq
    if (G *gp = runqget(mp->p, inheritTime)) return gp;
    // global runq
    if (load_relaxed(sched.runqsize) != 0) {
        lock(&sched.lock);
        G *gp = globrunqget(mp->p, 0);
        unlock(&sched.lock);
        if (gp != nullptr) return gp;
    }
    // poll network (non-blocking), if goroutines wait on fds and no M is
    // blocked in netpoll already (it would get the events)
    if (netpollinited() && netpollAnyWaiters() && sched.lastpoll.load(std::memory_order_seq_cst) != 0) {
        if (G *list = netpoll(0)) return netpoll_take(list);
    }
    {
        // If the number of spinning Ms >= the number of busy Ps, block.
        // This prevents excessive CPU consumption when gomaxprocs >> 1 but
        // the program's parallelism is low.
        uint32_t procs = uint32_t(load_relaxed(gomaxprocs));
        if (!mp->spinning && 2 * load_relaxed(sched.nmspinning) >= procs - load_relaxed(sched.npidle)) goto stop;
        if (!mp->spinning) {
            mp->spinning = true;
            xadd_full(sched.nmspinning, 1u);
        }
        // random steal from other Ps; a victim's runnext only in the
        // second half of the rounds (modern Go: the last round), when
        // its ring has been found empty
        for (uint32_t i = 0; i < 2 * procs; i++) {
            if (load_acq(sched.gcwaiting) != 0) goto top;
            P *pp = allp[fastrand1() % procs];
            G *gp;
            if (pp == mp->p) {
                gp = runqget(pp, inheritTime);
            } else {
                gp = runqsteal(mp->p, pp, /*stealRunNextG=*/i >= procs);
                if (gp != nullptr) counter_inc(mp->p->nsteal);
            }
            if (gp != nullptr) return gp;
        }
        // run other Ps' expired timers (modern Go's stealWork), so that a
        // busy or idle P does not hold them hostage
        int64_t now = 0;
        for (uint32_t i = 0; i < procs; i++) {
            P *pp = allp[i];
            if (pp == mp->p) continue;
            int64_t w = timers_wakeTime(pp->timers);
            if (w == 0) continue;
            if (now == 0) now = nanotime();
            if (w <= now) {
                checkTimers(pp, now);
                if (G *gp = runqget(mp->p, inheritTime)) return gp;
            }
        }
    }
stop:
    // return P and block
    lock(&sched.lock);
    if (load_relaxed(sched.gcwaiting) != 0) {
        unlock(&sched.lock);
        goto top;
    }
    if (load_relaxed(sched.runqsize) != 0) {
        G *gp = globrunqget(mp->p, 0);
        unlock(&sched.lock);
        return gp;
    }
    {
        P *pp = releasep();
        pidleput(pp);  // full barrier (StoreLoad) before the re-check below
    }
    unlock(&sched.lock);
    if (mp->spinning) {
        mp->spinning = false;
        xadd_full(sched.nmspinning, uint32_t(-1));
    }
    // StoreLoad between giving up (npidle++, nmspinning--) and re-reading
    // the queues. x86 already orders the LOCK'd RMWs above before the loads
    // below; the fence makes it hold in the C++ model too (pairs with the
    // producer's storeload_fence after its runqput).
    storeload_fence();
    // check all runqueues once again
    {
        int32_t procs = load_relaxed(gomaxprocs);
        for (int32_t i = 0; i < procs; i++) {
            P *pp = allp[i];
            if (pp != nullptr && !runqempty(pp)) {
                lock(&sched.lock);
                pp = pidleget();
                unlock(&sched.lock);
                if (pp != nullptr) {
                    acquirep(pp);
                    goto top;
                }
                break;
            }
        }
    }
    // poll network until next timer (seed: "poll network"; the deadline
    // is modern Go's). At most one M blocks here: the one that swaps
    // lastpoll to 0.
    if (netpollinited() && (netpollAnyWaiters() || timeSleepUntil() != 0) &&
        sched.lastpoll.exchange(0, std::memory_order_seq_cst) != 0) {
        if (mp->p != nullptr) gothrow("findrunnable: netpoll with p");
        if (mp->spinning) gothrow("findrunnable: netpoll with spinning");
        // Read the timers after the swap: a timer added since is either
        // seen here or its adder sees lastpoll == 0 and breaks our wait
        // (wakeNetPoller).
        int64_t until = timeSleepUntil();
        sched.pollUntil.store(until, std::memory_order_seq_cst);
        int64_t delay = -1;
        if (until != 0) {
            delay = until - nanotime();
            if (delay < 0) delay = 0;
        }
        G *list = netpoll(delay);  // block until new work is available
        sched.pollUntil.store(0, std::memory_order_seq_cst);
        sched.lastpoll.store(nanotime(), std::memory_order_seq_cst);
        lock(&sched.lock);
        P *pp = sched.started ? pidleget() : nullptr;
        unlock(&sched.lock);
        if (pp != nullptr) {
            acquirep(pp);
            if (list != nullptr) return netpoll_take(list);
            goto top;  // timers are due (or a break): run them with this P
        }
        injectglist(list);
    } else if (netpollinited()) {
        // Another M is the poller: make sure it wakes for our timers.
        int64_t until = timeSleepUntil();
        if (until != 0) {
            int64_t pu = sched.pollUntil.load(std::memory_order_seq_cst);
            if (pu == 0 || pu > until) netpollBreak();
        }
    }
    stopm();
    goto top;
}

// seed: resetspinning
void resetspinning() {
    M *mp = getg()->m;
    uint32_t nmspinning;
    if (mp->spinning) {
        mp->spinning = false;
        nmspinning = xadd_full(sched.nmspinning, uint32_t(-1));
        if (int32_t(nmspinning) < 0) gothrow("findrunnable: negative nmspinning");
    } else {
        nmspinning = load_relaxed(sched.nmspinning);
    }
    // M wakeup policy is deliberately somewhat conservative (see nmspinning
    // handling), so see if we need to wake up another P here.
    if (nmspinning == 0 && load_relaxed(sched.npidle) > 0) wakep();
}

// seed: injectglist. Injects the list of runnable Gs into the scheduler.
// Can run without a P.
void injectglist(G *glist) {
    if (glist == nullptr) return;
    lock(&sched.lock);
    int n = 0;
    for (; glist != nullptr; n++) {
        G *gp = glist;
        glist = gp->schedlink;
        casgstatus(gp, Gwaiting, Grunnable);
        globrunqput(gp);
    }
    unlock(&sched.lock);
    for (; n != 0 && load_relaxed(sched.npidle) != 0; n--) startm(nullptr, false);
}

// seed: schedule. One round of scheduler: find a runnable goroutine and
// execute it. Never returns.
void schedule() {
    G0ONLY_CHECK();
    G *g = getg();
    M *mp = g->m;
    if (mp->locks != 0) gothrow("schedule: holding locks");
    if (mp->lockedg != nullptr) {
        stoplockedm();
        execute(mp->lockedg);  // Never returns.
    }
top:
    if (load_acq(sched.gcwaiting) != 0) {
        gcstopm();
        goto top;
    }
    // Run this P's expired timers (modern Go's checkTimers in schedule):
    // no clock read unless one may be due.
    bool rantimers = false;
    checkTimers(mp->p, 0, &rantimers);
    G *gp = nullptr;
    bool inheritTime = false;
    // The P's time slice is over (sysmon's preemptone) and its goroutine got
    // here through a scheduling call, not a safe point: end the slice that a
    // runnext goroutine would inherit (runq.h, "runnext"), so that a pair
    // waking each other cannot starve the rest of the queue. The counted
    // schedule below also lets the global queue check come round.
    if (load_relaxed(mp->p->preempt)) {
        store_relaxed(mp->p->preempt, false);
        runqkicknext(mp->p);
    }
    // Check the global runnable queue once in a while to ensure fairness.
    // Otherwise two goroutines can completely occupy the local runqueue by
    // constantly respawning each other. (tick % 61 with two multiplications.)
    // tick stays put across executes that inherit a slice, so the check
    // repeats until a counted one; tick is 0 only on a fresh P's first
    // schedule (execute counts a P's first goroutine even from runnext: else
    // the main goroutine's first gosched came straight back from here).
    uint64_t tick = load_relaxed(mp->p->schedtick);
    if (tick - ((tick * 0x4325c53full) >> 36) * 61 == 0 && load_relaxed(sched.runqsize) > 0) {
        lock(&sched.lock);
        gp = globrunqget(mp->p, 1);
        unlock(&sched.lock);
        if (gp != nullptr) resetspinning();
    }
    if (gp == nullptr) {
        gp = runqget(mp->p, &inheritTime);
        if (gp != nullptr && mp->spinning) {
            // A spinning M starts with an empty queue; only the timers it
            // just ran may have filled it. It found work: stop spinning.
            if (!rantimers) gothrow("schedule: spinning with local work");
            resetspinning();
        }
    }
    if (gp == nullptr) {
        gp = findrunnable(&inheritTime);  // blocks until work is available
        resetspinning();
    }
    if (gp->lockedm != nullptr) {
        // Hands off own p to the locked m, then blocks waiting for a new p.
        startlockedm(gp);
        goto top;
    }
    execute(gp, inheritTime);
}

// seed: dropg. Removes the association between m and its current goroutine.
void dropg() {
    M *mp = getg()->m;
    if (mp->lockedg == nullptr) {
        load_relaxed(mp->curg)->m = nullptr;
        store_relaxed(mp->curg, static_cast<G *>(nullptr));
    }
}

// seed: park. Puts the current goroutine into a waiting state and calls
// unlockf on g0; if unlockf returns 0 the goroutine is resumed.
void park(unlockf_t unlockf, void *lk, const char *reason) {
    G *g = getg();
    g->m->waitlock = lk;
    g->m->waitunlockf = unlockf;
    g->waitreason = reason;
    mcall(park_m);
}

namespace {
int parkunlock_c(G *, void *lk) {
    unlock(static_cast<mutex *>(lk));
    return 1;
}
}  // namespace

// seed: parkunlock
void parkunlock(mutex *l, const char *reason) { park(parkunlock_c, l, reason); }

// seed: park_m. park continuation on g0.
//
// Departure: the seed marks gp waiting and then calls dropg. In Go nobody can
// ready gp before unlockf releases the lock its waker needs; gort_ready may
// come from any thread as soon as gp is Gwaiting (a NULL unlockf is allowed),
// and a goroutine resumed on another M before dropg would have its m cleared
// under it. So gort drops the association first; the cancelled-park path
// restores it in execute.
void park_m(G *gp) {
    G0ONLY_CHECK();
    M *mp = getg()->m;
    dropg();
    casgstatus(gp, Grunning, Gwaiting);
    if (mp->waitunlockf != nullptr) {
        unlockf_t fn = mp->waitunlockf;
        int ok = fn(gp, mp->waitlock);
        mp->waitunlockf = nullptr;
        mp->waitlock = nullptr;
        if (!ok) {
            casgstatus(gp, Gwaiting, Grunnable);
            execute(gp, /*inheritTime=*/true);  // Schedule it back, never returns (Go 1.5+: same slice).
        }
    }
    schedule();
}

// seed: Gosched
void gosched() { mcall(gosched_m); }

// seed: gosched_m. Gosched continuation on g0: the goroutine goes to the
// global queue, behind everything already runnable.
void gosched_m(G *gp) {
    G0ONLY_CHECK();
    uint32_t status = readgstatus(gp);
    if ((status & ~uint32_t(Gscan)) != Grunning) {
        dumpgstatus(gp);
        gothrow("bad g status");
    }
    casgstatus(gp, Grunning, Grunnable);
    dropg();
    // Departure (gort; the seed and Go 1.19 lock, put, unlock and
    // schedule()): when this P has no local work after its timers ran,
    // schedule() would reach findrunnable's global queue check and take
    // sched.lock a second time, to get back a batch that starts with the
    // global queue's head. Take that batch under the same lock instead. The
    // goroutine still goes to the global queue's tail and the head runs
    // next, as before; what is skipped is one lock round trip and the empty
    // local checks. Not while this M is locked to gp (schedule() hands the
    // P off then) or while the world is being stopped.
    M *mp = getg()->m;
    P *pp = mp->p;
    bool local = mp->lockedg != nullptr;
    if (!local) {
        checkTimers(pp, 0);  // as schedule() would: what they ready runs first
        local = !runqempty(pp);
    }
    G *next = nullptr;
    lock(&sched.lock);
    globrunqput(gp);
    if (!local && load_relaxed(sched.gcwaiting) == 0) next = globrunqget(pp, 0);
    unlock(&sched.lock);
    if (next != nullptr) {
        if (next->lockedm == nullptr) execute(next);  // never returns
        startlockedm(next);  // as schedule(): hand the P to next's M, look again
    }
    schedule();
}

// seed: goexit1. Finishes execution of the current goroutine.
void goexit1() {
    mcall(goexit0, /*dying=*/true);
    gothrow("goexit1: dead goroutine resumed");
}

// seed: goexit0. goexit continuation on g0.
void goexit0(G *gp) {
    G0ONLY_CHECK();
    M *mp = getg()->m;
    casgstatus(gp, Grunning, Gdead);
    // GC: a dead goroutine counts as scanned (seed: mquiesce's no-op scan);
    // a pending request dies with it.
    gc_goexit(gp);
    gp->m = nullptr;
    gp->lockedm = nullptr;
    mp->lockedg = nullptr;
    gp->waitreason = nullptr;
    gp->param = nullptr;
    dropg();
    if ((mp->locked & ~uint32_t(LockExternal)) != 0) {
        printstr("invalid m->locked = ");
        printuint(mp->locked);
        printstr("\n");
        gothrow("internal lockOSThread error");
    }
    mp->locked = 0;
    mstack_free(gp);  // stacks: the managed stack and registered roots die with the goroutine
    gfput(mp->p, gp);
    schedule();
}

}  // namespace gort
