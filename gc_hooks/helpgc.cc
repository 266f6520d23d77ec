// gc_hooks/helpgc.cc - GC helper Ms during stop-the-world (seed: gcprocs,
// helpgc, and the helpgc branch of stopm that runs gchelper).
//
// While the world is stopped, Ms without a P sleep in stopm. helpgc takes
// up to nproc-1 of them off the idle list, gives each the job and wakes it;
// each runs the host's function on its g0 and goes back to sleep (stopm's
// retry). The caller runs the function too, then sleeps until the last
// helper is done.
#include "gc_hooks/helpgc.h"

#include <gort/gort.h>

#include <algorithm>

#include "core/base/atomics.h"
#include "core/base/lock_futex.h"
#include "core/sched/proc.h"
#include "core/sched/runq.h"
#include "core/base/throw.h"
#include "core/base/os.h"

namespace gort {

namespace {

constexpr int32_t kMaxGcproc = 32;  // seed: _MaxGcproc

// The job of the helpers now running. One at a time: only the holder of the
// stopped world calls helpgc.
struct HelpJob {
    void (*fn)(void *) = nullptr;
    void *arg = nullptr;
    atomic<uint32_t> pending{0};  // helpers not yet done; futex word
};
HelpJob job;

}  // namespace

// seed: gcprocs. Figure out how many CPUs to use during GC. Limited by
// gomaxprocs, number of actual CPUs, MaxGcproc, and the idle Ms (one M is
// currently running). sched.lock held.
int32_t gcprocs(int32_t want) {
    int32_t n = std::min<int32_t>(want, load_relaxed(gomaxprocs));
    n = std::min<int32_t>(n, ncpu());
    n = std::min<int32_t>(n, kMaxGcproc);
    n = std::min<int32_t>(n, load_relaxed(sched.nmidle) + 1);
    return n < 1 ? 1 : n;
}

int helpgc(int32_t want, void (*fn)(void *), void *arg) {
    // A call from inside fn (the caller's own run still holds the stopped
    // world) would overwrite the job its helpers are running: refused.
    // job.fn is written only by the holder of the stopped world (this thread).
    if (job.fn != nullptr) return GORT_EBUSY;
    lock(&sched.lock);
    int32_t nproc = gcprocs(want);
    job.fn = fn;
    job.arg = arg;
    job.pending.store(uint32_t(nproc - 1), std::memory_order_relaxed);
    for (int32_t n = 1; n < nproc; n++) {  // one M is currently running
        M *mp = mget();
        if (mp == nullptr) gothrow("gcprocs inconsistency");
        mp->helpgc = n;
        notewakeup(&mp->park);  // publishes job to mp
    }
    unlock(&sched.lock);
    fn(arg);
    for (uint32_t p; (p = job.pending.load(std::memory_order_acquire)) != 0;) futexsleep(&job.pending, p, -1);
    job.fn = nullptr;
    job.arg = nullptr;
    return nproc;
}

// seed: gchelper, on a helper M woken in stopm.
void gchelper() {
    M *mp = getg()->m;
    mp->helpgc = 0;
    job.fn(job.arg);
    if (job.pending.fetch_sub(1, std::memory_order_acq_rel) == 1) futexwakeup(&job.pending, 1);
}

}  // namespace gort
