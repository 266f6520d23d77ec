// gc_hooks/gcscan.cc - see gcscan.h.
//
// Departures from the seed, each for the same reason (a host's collector
// relies on "scanned exactly once" when gort_quiesce returns, and several
// threads may claim goroutines at once):
//   - gcphasework runs only under the scan bit and only if gcworkdone is
//     still false (the seed's stopg scans whatever it claims, and its
//     casgstatus helps without the bit, so a goroutine could be scanned by
//     itself and by a GC helper at once);
//   - mquiesce scans the master goroutine itself and makes it runnable only
//     at the end, so gort_quiesce returns after the whole cycle (the seed
//     readies it first: it could resume while others were still unscanned);
//   - stopg answers Gscanrunning and Gscanenqueue (another claimant, or a
//     goroutine scanning itself, or the quiescer) with false where the seed
//     throws;
//   - the bottom loop of mquiesce re-issues the request to a running
//     goroutine on every round and sleeps on a futex that self-scans wake,
//     where the seed polls stopnote every 100 us; the seed's separate pass
//     of bottom consistency checks is folded into it (one pass less over
//     every G: 1M goroutines cost a cache miss each);
//   - shrinkstack runs under the scan claim of the quiescer's stopg, right
//     before the scan (the seed's markroot also shrinks then scans), rather
//     than under a claim of its own: two atomic operations less per G.
#include "gc_hooks/gcscan.h"

#include "core/base/atomics.h"
#include "gc_hooks/gcwork.h"
#include "core/sched/gstatus.h"
#include "core/base/lock_futex.h"
#include "core/stack/mstack.h"
#include "core/sched/proc.h"
#include "core/stack/stack_alloc.h"
#include "core/sched/switch.h"
#include "core/base/throw.h"
#include "core/base/debugvars.h"
#include "core/base/os.h"

namespace gort {

atomic<uint32_t> gcepoch{1};

namespace {

// gclock: orders a cycle's start and end with gc_set_phase and the hooks.
mutex gclock{kRankGc};
bool cycle_active = false;                 // gclock
atomic<int64_t> last_cycle{0};        // nanotime of the last cycle start
// The quiescer sleeps on progress (at most 100 us, the seed's re-preempt
// period) while it waits for running goroutines; whoever finishes a scan
// bumps it if the quiescer said it waits (waiter), so self-scans cost no
// system call when nobody waits.
atomic<uint32_t> progress{0};
atomic<uint32_t> waiter{0};
constexpr int64_t kRepreemptNs = 100 * 1000;
// mquiesce's mode: false for quiesce (ready the master at the end), true for
// quiesce_stopped (resume it at once). Written by the master before mcall;
// worldsema (or the stopped world) serialises quiesces.
bool quiesce_world_stopped = false;

// After gcworkdone was stored (release): the fence orders that store before
// the load of waiter, against wait_progress's store of waiter and load of
// gcworkdone (seq_cst): one of the two threads sees the other's store.
void notify_progress() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiter.load(std::memory_order_relaxed) != 0 && waiter.exchange(0, std::memory_order_seq_cst) != 0) {
        progress.fetch_add(1, std::memory_order_seq_cst);
        futexwakeup(&progress, 1);
    }
}

// Sleeps until a scan finishes somewhere or kRepreemptNs pass, unless gp is
// done already (see notify_progress).
void wait_progress(G *gp) {
    uint32_t seen = progress.load(std::memory_order_seq_cst);
    waiter.store(1, std::memory_order_seq_cst);
    if (gcworkdone(gp, std::memory_order_seq_cst)) return;
    futexsleep(&progress, seen, kRepreemptNs);
}

// The lowest live byte of gp's execution stack for a scan.
uintptr_t scan_sp(const G *gp, uint32_t status) {
    if (status == Gsyscall) return gp->syscallsp != 0 ? gp->syscallsp : gp->stack.hi;
    return reinterpret_cast<uintptr_t>(gp->sched_sp);
}

// The phase barrier: gc_set_phase returns only once no scan that may have
// read the old phase is still running, so a collector that moves on (to
// MARK, to OFF and its sweep) knows no scan_g of the earlier phase is still
// shading roots. Scans by the quiescer need no count (gc_set_phase is
// refused while it runs); the others (self-scans, gort_stopg) enter one of
// two buckets, chosen by the parity of phaseseq, which gc_set_phase bumps
// after storing the phase before it drains the old bucket (RCU-like: new
// scans use the other bucket, so the drain cannot be starved).
atomic<uint32_t> phaseseq{0};
atomic<uint32_t> inflight[2];

uint32_t phase_enter() {
    for (;;) {
        uint32_t seq = phaseseq.load(std::memory_order_seq_cst);
        inflight[seq & 1].fetch_add(1, std::memory_order_seq_cst);
        // Dekker with gc_set_phase's bump and load: if the bump is not seen
        // here, gc_set_phase sees this count and waits for it.
        if (phaseseq.load(std::memory_order_seq_cst) == seq) return seq & 1;
        inflight[seq & 1].fetch_sub(1, std::memory_order_seq_cst);
    }
}

// gp is held by the caller's scan bit: do the phase's work once. outside:
// the scanner is not the quiescer (a self-scan or gort_stopg): it counts for
// the phase barrier and tells a waiting quiescer.
void scan_claimed(G *gp, uint32_t status, uintptr_t sp, bool outside) {
    if (!outside) {
        if (!gcworkdone(gp)) gcphasework(gp, status, sp);
        gp->preemptscan.store(false, std::memory_order_relaxed);
        return;
    }
    uint32_t bucket = phase_enter();
    if (!gcworkdone(gp)) gcphasework(gp, status, sp);
    gp->preemptscan.store(false, std::memory_order_relaxed);
    inflight[bucket].fetch_sub(1, std::memory_order_release);
    notify_progress();
}

// Asks a running gp to scan itself at its next safe point (seed: the
// Grunning case of stopg). False if gp was not running any more.
bool request_selfscan(G *gp) {
    if (!castogscanstatus(gp, Grunning, Gscanrunning)) return false;
    if (!gcworkdone(gp)) {
        gp->preemptscan.store(true, std::memory_order_relaxed);
        gp->preempt.store(true, std::memory_order_relaxed);
        gp->stackguard0.store(kStackPreempt, std::memory_order_relaxed);
    }
    casfrom_Gscanstatus(gp, Gscanrunning, Grunning);  // publishes the request
    return true;
}

// seed: the gcworkdone reset of mquiesce. A new cycle (gclock held): every
// goroutine is "not done" at once, with no pass over the Gs (a per-G reset
// inside the scanning pass would clear a goroutine that another thread's
// gort_stopg had already scanned in this cycle, and scan it twice). Dead
// goroutines are no-op scans, marked done when a pass meets them.
void resetcycle() {
    uint32_t e = gcepoch.load(std::memory_order_relaxed) + 1;
    if (e == 0) e = 1;  // 0 is a fresh G's "never done"
    gcepoch.store(e, std::memory_order_release);
}

// seed: the Gscanenqueue case of castogscanstatus, retried: a GC helper may
// hold Gscanrunning for a moment (request_selfscan).
void claim_self(G *gp, uint32_t scanstatus) {
    for (int spins = 0; !castogscanstatus(gp, Grunning, scanstatus); spins++)
        if (spins > 64) osyield();
}

}  // namespace

// seed: stopg. Ensures that gp is stopped at a GC safe point where its
// stack can be scanned (or, for a moving collector, its pointers flipped).
// true: gp is held there (scan bit) until the caller's restartg. false: the
// caller is not responsible for restartg; gp is dead, scanned already, or
// someone else (gp itself at its next safe point, another GC thread) does
// the work.
bool stopg(G *gp, bool byquiescer) {
    for (int spins = 0;; spins++) {
        if (gcworkdone(gp)) return false;
        uint32_t s = readgstatus(gp);
        switch (s) {
            default:
                dumpgstatus(gp);
                gothrow("stopg: gp->atomicstatus is not valid");
            case Gidle:
            case Gdead:
                return false;
            case Gcopystack:
                break;  // Loop until a new stack is in place.
            case Grunnable:
            case Gsyscall:
            case Gwaiting:
                // Claim goroutine by setting scan bit.
                if (!castogscanstatus(gp, s, s | Gscan)) break;
                if (gcworkdone(gp)) {
                    // Another scanner finished it between our first check
                    // and the claim: hand it back (at most one scan).
                    casfrom_Gscanstatus(gp, s | Gscan, s);
                    return false;
                }
                // seed (markroot): shrink a stack if not much of it is being
                // used, then scan it.
                if (byquiescer && s != Gsyscall && debug.gcshrinkstackoff == 0) shrinkstack_held(gp);
                // In scan state, do work.
                scan_claimed(gp, s, scan_sp(gp, s), !byquiescer);
                return true;
            case Gscanrunnable:
            case Gscanwaiting:
            case Gscansyscall:
            case Gscanrunning:
            case Gscanenqueue:
                // Goroutine already claimed by another GC helper (or by
                // itself, or it is the quiescer).
                return false;
            case Grunning:
                // Claim goroutine, so we aren't racing with a status
                // transition away from Grunning; mark it for preemption.
                if (!request_selfscan(gp)) break;
                return false;
        }
        if (spins > 64) osyield();
    }
}

// seed: restartg. The GC requests that this routine be moved from a
// scanmumble state to a mumble state.
void restartg(G *gp) {
    uint32_t s = readgstatus(gp);
    switch (s) {
        default:
            dumpgstatus(gp);
            gothrow("restartg: unexpected status");
        case Gdead:
            break;  // ok
        case Gscanrunnable:
        case Gscanwaiting:
        case Gscansyscall:
            casfrom_Gscanstatus(gp, s, s & ~uint32_t(Gscan));
            break;
        // Scan is now completed. Goroutine now needs to be made runnable.
        // We put it on the run queue (ready).
        case Gscanenqueue:
            casfrom_Gscanstatus(gp, Gscanenqueue, Gwaiting);
            if (gp != getg()->m->curg.load(std::memory_order_relaxed)) gothrow("processing Gscanenqueue on wrong m");
            dropg();
            ready(gp);
            break;
    }
}

// seed: stopscanstart
void stopscanstart(G *gp, bool byquiescer) {
    G *g = getg();
    if (g == gp) gothrow("GC not moved to G0");
    if (stopg(gp, byquiescer)) {
        if (!isscanstatus(readgstatus(gp))) {
            dumpgstatus(gp);
            gothrow("GC not in scan state");
        }
        restartg(gp);
    }
}

// gort_stopg: stopg, recording who holds the claim for gort_restartg.
bool stopg_for(G *gp, uintptr_t owner) {
    if (!stopg(gp)) return false;
    gp->gcscanowner.store(owner, std::memory_order_relaxed);
    return true;
}

bool restartg_for(G *gp, uintptr_t owner) {
    uint32_t s = readgstatus(gp);
    if (s != Gscanrunnable && s != Gscanwaiting && s != Gscansyscall) return false;
    uintptr_t cur = owner;
    if (!gp->gcscanowner.compare_exchange_strong(cur, 0, std::memory_order_relaxed)) return false;
    restartg(gp);
    return true;
}

namespace {

// The passes of mquiesce walk every G: with a million goroutines each G is a
// cache miss, so the lines a pass touches are fetched a few Gs ahead.
constexpr std::size_t kPrefetchAhead = 8;
inline void prefetch_g(const G *gp) {
    if (gp == nullptr) return;
    __builtin_prefetch(gp, 1);
    __builtin_prefetch(&gp->mstack, 0);
}

// gp is held (status) by a gort_stopg claim of the master goroutine itself.
// stopg_for stored the owner after the claim, on the master, before it
// called gort_quiesce; restartg_for clears it before releasing.
bool held_by(const G *gp, const G *gpmaster, uint32_t status) {
    return (status == Gscanrunnable || status == Gscanwaiting || status == Gscansyscall) &&
           gp->gcscanowner.load(std::memory_order_relaxed) == reinterpret_cast<uintptr_t>(gpmaster);
}

// seed: mquiesce. Runs on g0 and does the actual work; the master is held
// in Gscanenqueue (quiesce) or Gscanrunning (quiesce_stopped) meanwhile.
void mquiesce(G *gpmaster) {
    lock(&gclock);
    cycle_active = true;
    unlock(&gclock);
    last_cycle.store(nanotime(), std::memory_order_relaxed);
    std::size_t activeglen = allglen();
    // The reset before the master's scan, the cycle's first (see
    // resetcycle).
    resetcycle();
    // The master first (departure: see the top of the file). Its context
    // was saved by mcall.
    scan_claimed(gpmaster, Grunning, reinterpret_cast<uintptr_t>(gpmaster->sched_sp), false);

    for (std::size_t i = 0; i < activeglen; i++) {
        G *gp = allg_at(i);
        prefetch_g(allg_at(i + kPrefetchAhead));
        if (gp == gpmaster) continue;
        stopscanstart(gp, /*byquiescer=*/true);
    }

    // Check that each G's gcwork (such as scanning) has been done. If not do
    // it now. You can end up doing work here if the request to a Grunning
    // goroutine has not been served yet, or in some race situations (for
    // example a runnable goes dead and is started up again).
    for (std::size_t i = 0; i < activeglen; i++) {
        G *gp = allg_at(i);
        prefetch_g(allg_at(i + kPrefetchAhead));
        if (gp == gpmaster) continue;
        while (!gcworkdone(gp)) {
            uint32_t status = readgstatus(gp);
            if (status == Gdead) {
                gcworkdone_set(gp);  // scan is a noop
                break;
            }
            if (held_by(gp, gpmaster, status)) {
                // The master's own gort_stopg claim: the master is suspended
                // here and cannot release it before the cycle ends, so the
                // quiescer scans under it (waiting would never end).
                uint32_t s = status & ~uint32_t(Gscan);
                scan_claimed(gp, s, scan_sp(gp, s), false);
            } else if (status == Grunning || status == Gcopystack || isscanstatus(status)) {
                // Running, or held for a moment by someone else (a scanner,
                // a dump, a stack copy): (re)issue the request and wait.
                if (status == Grunning) request_selfscan(gp);
                wait_progress(gp);
            } else {
                stopscanstart(gp, /*byquiescer=*/true);
            }
        }
        // seed: the bottom consistency check (mstopandscang:bottom). Only a
        // new cycle clears gcworkdone, and gclock keeps one from starting.
        if (!gcworkdone(gp) && readgstatus(gp) != Gdead) {
            printstr("mstopandscang:bottom: post scan gp=");
            printptr(gp);
            printstr("->gcworkdone still false\n");
            dumpgstatus(gp);
            gothrow("quiesce: goroutine not scanned");
        }
    }
    waiter.store(0, std::memory_order_relaxed);
    shrinkfinish();  // seed: old stacks of shrunk goroutines are freed once the cycle ends

    lock(&gclock);
    cycle_active = false;
    unlock(&gclock);

    if (quiesce_world_stopped) {
        casfrom_Gscanstatus(gpmaster, Gscanrunning, Grunning);
        gogo(gpmaster);
    }
    restartg(gpmaster);  // enqueue the calling goroutine
    schedule();          // Never returns.
}

}  // namespace

// seed: quiesce. Moves all the goroutines to a GC safepoint.
void quiesce(G *mastergp) {
    claim_self(mastergp, Gscanenqueue);
    quiesce_world_stopped = false;
    // Now move this to the g0 (aka m) stack. g0 will scan every goroutine
    // and put mastergp on the run queue.
    mcall(mquiesce);
}

void quiesce_stopped(G *gp) {
    claim_self(gp, Gscanrunning);
    quiesce_world_stopped = true;
    mcall(mquiesce);
}

bool gcscan_safepoint(G *gp) {
    if (!gp->preemptscan.load(std::memory_order_relaxed)) return false;
    // On g0, so that the goroutine's registers are saved at sched_sp and
    // its whole execution stack is at rest for the scan.
    mcall([](G *self) {
        claim_self(self, Gscanrunning);
        scan_claimed(self, Grunning, reinterpret_cast<uintptr_t>(self->sched_sp), true);
        casfrom_Gscanstatus(self, Gscanrunning, Grunning);
        gogo(self);
    });
    // seed (newstack): tells the GC preemption was successful. A request
    // of sysmon or stop-the-world made meanwhile is dropped with it, as in
    // the seed; both ask again.
    gp->preempt.store(false, std::memory_order_relaxed);
    uintptr_t cur = kStackPreempt;
    gp->stackguard0.compare_exchange_strong(cur, stackguard_reset(gp), std::memory_order_relaxed);
    return true;
}

void gc_goexit(G *gp) {
    gp->preemptscan.store(false, std::memory_order_relaxed);
    gcworkdone_set(gp);
}

void gchelp(G *gp, uint32_t newval) {
    for (int spins = 0; gp->preemptscan.load(std::memory_order_relaxed); spins++) {
        if (gcworkdone(gp)) {
            gp->preemptscan.store(false, std::memory_order_relaxed);
            return;
        }
        if (castogscanstatus(gp, Grunning, Gscanrunning)) {
            uintptr_t sp = newval == Gsyscall ? gp->syscallsp : reinterpret_cast<uintptr_t>(gp->sched_sp);
            scan_claimed(gp, Grunning, sp, true);
            casfrom_Gscanstatus(gp, Gscanrunning, Grunning);
            return;
        }
        if (spins > 64) osyield();
    }
}

bool gc_set_phase(uint32_t phase, uint32_t *old) {
    lock(&gclock);
    if (cycle_active) {
        unlock(&gclock);
        return false;
    }
    *old = gcphase.load(std::memory_order_relaxed);
    if (phase == 1 /* GORT_GC_SCAN */ && *old != phase) {
        last_cycle.store(nanotime(), std::memory_order_relaxed);
        resetcycle();
    }
    gcphase.store(phase, std::memory_order_seq_cst);
    // The phase barrier (see phase_enter): drain the scans that may have
    // read the old phase. They are host callbacks that must not block.
    uint32_t oldbucket = phaseseq.fetch_add(1, std::memory_order_seq_cst) & 1;
    for (int spins = 0; inflight[oldbucket].load(std::memory_order_seq_cst) != 0; spins++)
        if (spins > 64) osyield();
    unlock(&gclock);
    return true;
}

bool gc_if_idle(void (*fn)(void *), void *arg) {
    lock(&gclock);
    bool idle = !cycle_active;
    if (idle) fn(arg);
    unlock(&gclock);
    return idle;
}

int64_t gc_last_cycle() { return last_cycle.load(std::memory_order_relaxed); }

void gcscan_release() {
    cycle_active = false;
    last_cycle.store(0, std::memory_order_relaxed);
    waiter.store(0, std::memory_order_relaxed);
}

}  // namespace gort
