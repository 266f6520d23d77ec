// core/diag/schedtrace.cc - GORT_DEBUG=schedtrace=N,scheddetail=1 (seed:
// schedtrace).
//
// The same lines as the seed, field for field where gort has the field:
//
//   SCHED 1004ms: gomaxprocs=4 idleprocs=2 threads=5 spinningthreads=0 idlethreads=2 runqueue=3 [0 1 0 0]
//
// and with scheddetail=1, instead of the bracketed queue lengths:
//
//   SCHED 1004ms: gomaxprocs=4 ... runqueue=3 gcwaiting=0 nmidlelocked=0 stopwait=0
//     P0: status=1 schedtick=12 syscalltick=0 m=0 runqsize=0 gfreecnt=3
//     M0: p=0 curg=1 locks=0 spinning=false lockedg=-1
//     G1: status=2() m=0 lockedm=-1
//
// Seed fields with no gort counterpart, left out rather than printed as
// constants: the SCHED line's sysmonwait (sysmon's own state; add it with
// sysmon), and the M line's mallocing, throwing, gcing, dying, helpgc and
// blocked (gort has no allocator or GC state per M; a throw is process-wide;
// the seed's "blocked" prints the *current* M's field, a bug not worth
// porting).
//
// Locking as in the seed: sched.lock for the whole trace (so mcount,
// nmidlelocked and stopwait are a consistent snapshot) and allglock for the
// G lines (order sched.lock -> allglock). Everything else a P, M or G holds
// may change while it is printed (racy.h), and the output is written while
// the locks are held, as the seed does: the fd must not be one that a
// goroutine has to drain (stderr, a file).
#include "core/base/atomics.h"
#include "core/base/fdwriter.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/base/racy.h"
#include "core/sched/runtime2.h"
#include "core/base/os.h"

namespace gort {

namespace {
// seed: starttime. Set by the first trace of the process, as in the seed
// (which has one runtime per process; gort's restarts keep counting).
atomic<int64_t> starttime{0};
}  // namespace

// seed: schedtrace
void schedtrace(bool detailed, int fd) {
    int64_t now = nanotime();
    int64_t start = 0;
    if (starttime.compare_exchange_strong(start, now, std::memory_order_relaxed)) start = now;  // the first
    FdWriter w(fd);
    lock(&sched.lock);
    int32_t procs = load_relaxed(gomaxprocs);
    w.str("SCHED ").dec((now - start) / 1000000).str("ms: gomaxprocs=").dec(procs);
    w.str(" idleprocs=").udec(load_relaxed(sched.npidle));
    w.str(" threads=").dec(sched.mcount);
    w.str(" spinningthreads=").udec(load_relaxed(sched.nmspinning));
    w.str(" idlethreads=").dec(load_relaxed(sched.nmidle));
    w.str(" runqueue=").dec(load_relaxed(sched.runqsize));
    if (detailed) {
        w.str(" gcwaiting=").udec(load_relaxed(sched.gcwaiting));
        w.str(" nmidlelocked=").dec(sched.nmidlelocked);
        w.str(" stopwait=").dec(sched.stopwait.load(std::memory_order_relaxed));
        w.ch('\n');
    }
    // We must be careful while reading data from P's, M's and G's.
    // Even if we hold schedlock, most data can be changed concurrently.
    // E.g. (p->m ? p->m->id : -1) can crash if p->m changes from non-nil to nil.
    RacyReads ignore;
    for (int32_t i = 0; i < procs; i++) {
        P *pp = allp[i];
        if (pp == nullptr) continue;
        M *mp = pp->m.load(std::memory_order_acquire);
        uint32_t h = load_acq(pp->runqhead);
        // runnext (core/sched/runq.h) counts as queued: one more than the ring
        // (Go's schedtrace shows the ring alone).
        uint32_t t = load_acq(pp->runqtail) + (load_acq(pp->runnext) != nullptr ? 1 : 0);
        if (detailed) {
            int64_t id = mp != nullptr ? mp->id : -1;
            w.str("  P").dec(i).str(": status=").udec(load_relaxed(pp->status));
            w.str(" schedtick=").udec(load_relaxed(pp->schedtick));
            w.str(" syscalltick=").udec(load_relaxed(pp->syscalltick));
            w.str(" m=").dec(id).str(" runqsize=").udec(uint32_t(t - h));
            w.str(" gfreecnt=").dec(load_relaxed(pp->gfreecnt)).ch('\n');
        } else {
            // In non-detailed mode format lengths of per-P run queues as:
            // [len1 len2 len3 len4]
            w.ch(' ');
            if (i == 0) w.ch('[');
            w.udec(uint32_t(t - h));
            if (i == procs - 1) w.str("]\n");
        }
    }
    if (!detailed) {
        w.flush();
        unlock(&sched.lock);
        return;
    }
    for (M *mp = load_acq(allm); mp != nullptr; mp = mp->alllink) {
        P *pp = mp->p;
        G *gp = mp->curg.load(std::memory_order_acquire);
        G *lockedg = mp->lockedg;
        int64_t id1 = pp != nullptr ? pp->id : -1;
        int64_t id2 = gp != nullptr ? gp->goid : -1;
        int64_t id3 = lockedg != nullptr ? lockedg->goid : -1;
        w.str("  M").dec(mp->id).str(": p=").dec(id1).str(" curg=").dec(id2);
        w.str(" locks=").dec(mp->locks).str(" spinning=").boolean(mp->spinning);
        w.str(" lockedg=").dec(id3).ch('\n');
    }
    lock(&allglock);
    std::size_t n = allglen();
    for (std::size_t gi = 0; gi < n; gi++) {
        G *gp = allg_at(gi);
        M *mp = gp->m;
        M *lockedm = gp->lockedm;
        int64_t id1 = mp != nullptr ? mp->id : -1;
        int64_t id2 = lockedm != nullptr ? lockedm->id : -1;
        w.str("  G").dec(gp->goid).str(": status=").udec(readgstatus(gp));
        w.ch('(').str(gp->waitreason).str(") m=").dec(id1).str(" lockedm=").dec(id2).ch('\n');
    }
    unlock(&allglock);
    w.flush();
    unlock(&sched.lock);
}

}  // namespace gort
