// core/sched/runq.cc - see runq.h.
#include "core/sched/runq.h"

#include <unistd.h>

#include "core/base/atomics.h"
#include "core/base/throw.h"

namespace gort {

namespace {
constexpr uint32_t kMask = kRunqSize - 1;
static_assert((kRunqSize & kMask) == 0, "run queue size must be a power of two");
}  // namespace

// seed: runqput. Tries to put g on the local runnable queue; if it is full,
// moves half of it and g to the global queue. Executed only by the owner P.
// next (modern Go): put g in runnext instead; the G it replaces, if any, goes
// to the ring's tail.
void runqput(P *pp, G *gp, bool next) {
    if (next) {
        // Only the owner stores non-null, so a plain exchange suffices (a
        // thief may have cleared runnext meanwhile: old is null then).
        // Release publishes *gp to a thief's acquiring CAS.
        G *old = pp->runnext.exchange(gp, std::memory_order_release);
        if (old == nullptr) return;
        gp = old;  // kick the old runnext out to the regular run queue
    }
    for (;;) {
        uint32_t h = load_acq(pp->runqhead);  // pairs with consumers' cas_rel
        uint32_t t = load_relaxed(pp->runqtail);  // we are the only writer
        if (t - h < uint32_t(kRunqSize)) {
            store_relaxed(pp->runq[t & kMask], gp);
            store_rel(pp->runqtail, t + 1);  // pairs with runqgrab's load_acq: publishes the slot
            return;
        }
        if (runqputslow(pp, gp, h, t)) return;
        // The queue is not full any more: the put above must succeed.
    }
}

// seed: runqputslow. Put g and a batch of work from the local runnable queue
// on the global queue. Executed only by the owner P.
bool runqputslow(P *pp, G *gp, uint32_t h, uint32_t t) {
    G *batch[kRunqSize / 2 + 1];
    uint32_t n = (t - h) / 2;
    if (n != uint32_t(kRunqSize / 2)) gothrow("runqputslow: queue is not full");
    for (uint32_t i = 0; i < n; i++) batch[i] = load_relaxed(pp->runq[(h + i) & kMask]);
    if (!cas_rel(pp->runqhead, h, h + n)) return false;  // commits consume
    batch[n] = gp;
    for (uint32_t i = 0; i < n; i++) batch[i]->schedlink = batch[i + 1];
    lock(&sched.lock);
    globrunqputbatch(batch[0], batch[n], int32_t(n + 1));
    unlock(&sched.lock);
    return true;
}

// seed: runqget. Get g from the local runnable queue. Owner only.
// runnext first (modern Go): it inherits the current time slice (*inherit).
G *runqget(P *pp, bool *inherit) {
    // Only this P stores non-null in runnext, so a failed CAS means a thief
    // took it: no retry needed.
    G *next = pp->runnext.load(std::memory_order_relaxed);
    if (next != nullptr && pp->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acquire,
                                                                  std::memory_order_relaxed)) {
        if (inherit != nullptr) *inherit = true;
        return next;
    }
    if (inherit != nullptr) *inherit = false;
    for (;;) {
        uint32_t h = load_acq(pp->runqhead);  // synchronize with other consumers
        uint32_t t = load_relaxed(pp->runqtail);
        if (t == h) return nullptr;
        G *gp = load_relaxed(pp->runq[h & kMask]);
        if (cas_rel(pp->runqhead, h, h + 1)) return gp;  // commits consume
    }
}

// seed: runqgrab. Grabs a batch of goroutines (half, rounded up) from pp's
// local runnable queue into batch. Can be executed by any P.
// stealRunNextG (modern Go): with an empty ring, take pp's runnext.
uint32_t runqgrab(P *pp, G **batch, bool stealRunNextG) {
    for (;;) {
        uint32_t h = load_acq(pp->runqhead);  // synchronize with other consumers
        uint32_t t = load_acq(pp->runqtail);  // pairs with runqput's store_rel
        uint32_t n = t - h;
        n = n - n / 2;
        if (n == 0) {
            if (!stealRunNextG) return 0;
            G *next = pp->runnext.load(std::memory_order_acquire);
            if (next == nullptr) return 0;
            if (pp->status.load(std::memory_order_relaxed) == Prunning) {
                // Go 1.19: sleep so that pp is not about to run the G we
                // are about to steal. The case that matters: the goroutine
                // running on pp readies another and almost immediately
                // blocks; stealing in that window would bounce goroutines
                // between Ps. A channel hand-off takes ~100 ns, so 3 us
                // (plus the kernel's timer slack) is a wide margin. Thieves
                // only: a spinning M that found nothing else.
                usleep(3);
            }
            if (!pp->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acquire,
                                                     std::memory_order_relaxed))
                continue;  // the owner ran it, or kicked it to the ring: look again
            batch[0] = next;
            return 1;
        }
        if (n > uint32_t(kRunqSize / 2)) continue;  // read inconsistent h and t
        for (uint32_t i = 0; i < n; i++) batch[i] = load_relaxed(pp->runq[(h + i) & kMask]);
        if (cas_rel(pp->runqhead, h, h + n)) return n;  // commits consume
    }
}

// seed: runqsteal. Steal half of the elements of p2's local runnable queue
// and put them onto pp's; returns one of the stolen elements (or nullptr).
G *runqsteal(P *pp, P *p2, bool stealRunNextG) {
    G *batch[kRunqSize / 2];
    uint32_t n = runqgrab(p2, batch, stealRunNextG);
    if (n == 0) return nullptr;
    n--;
    G *gp = batch[n];
    if (n == 0) return gp;
    uint32_t h = load_acq(pp->runqhead);  // synchronize with consumers
    uint32_t t = load_relaxed(pp->runqtail);
    if (t - h + n >= uint32_t(kRunqSize)) gothrow("runqsteal: runq overflow");
    for (uint32_t i = 0; i < n; i++) store_relaxed(pp->runq[(t + i) & kMask], batch[i]);
    store_rel(pp->runqtail, t + n);  // makes the items available for consumption
    return gp;
}

void runqkicknext(P *pp) {
    G *next = pp->runnext.load(std::memory_order_relaxed);
    if (next != nullptr &&
        pp->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acquire, std::memory_order_relaxed))
        runqput(pp, next);
}

// seed: globrunqput. Put gp on the global runnable queue. sched.lock held.
void globrunqput(G *gp) {
    gp->schedlink = nullptr;
    if (sched.runqtail != nullptr)
        sched.runqtail->schedlink = gp;
    else
        sched.runqhead = gp;
    sched.runqtail = gp;
    store_relaxed(sched.runqsize, load_relaxed(sched.runqsize) + 1);
}

// seed: globrunqputbatch. sched.lock held.
void globrunqputbatch(G *ghead, G *gtail, int32_t n) {
    gtail->schedlink = nullptr;
    if (sched.runqtail != nullptr)
        sched.runqtail->schedlink = ghead;
    else
        sched.runqhead = ghead;
    sched.runqtail = gtail;
    store_relaxed(sched.runqsize, load_relaxed(sched.runqsize) + n);
}

// seed: globrunqget. Try to get a batch of Gs from the global runnable queue:
// its fair share (size/gomaxprocs + 1), at most max (if > 0) and half a local
// queue. The first is returned, the rest go to pp's local queue. sched.lock held.
G *globrunqget(P *pp, int32_t max) {
    int32_t size = load_relaxed(sched.runqsize);
    if (size == 0) return nullptr;
    int32_t n = size / load_relaxed(gomaxprocs) + 1;
    if (n > size) n = size;
    if (max > 0 && n > max) n = max;
    if (n > kRunqSize / 2) n = kRunqSize / 2;
    size -= n;
    store_relaxed(sched.runqsize, size);
    if (size == 0) sched.runqtail = nullptr;
    G *gp = sched.runqhead;
    sched.runqhead = gp->schedlink;
    n--;
    for (; n > 0; n--) {
        G *gp1 = sched.runqhead;
        sched.runqhead = gp1->schedlink;
        runqput(pp, gp1);
    }
    return gp;
}

// seed: pidleput. sched.lock held. The increment of npidle is a full
// barrier: findrunnable releases its P here and then re-checks every run
// queue; a submitter stores to a run queue, fences, then reads npidle
// (Dekker: one of the two sees the other).
void pidleput(P *pp) {
    pp->link = sched.pidle;
    sched.pidle = pp;
    xadd_full(sched.npidle, 1u);
}

// seed: pidleget. sched.lock held.
P *pidleget() {
    P *pp = sched.pidle;
    if (pp != nullptr) {
        sched.pidle = pp->link;
        xadd_full(sched.npidle, uint32_t(-1));
    }
    return pp;
}

// seed: mput. Put mp on the midle list. sched.lock held. (The seed calls
// checkdead here; gort's stopm calls it right after, so that a deadlock
// hook can run once the lock is released.)
void mput(M *mp) {
    mp->schedlink = sched.midle;
    sched.midle = mp;
    store_relaxed(sched.nmidle, load_relaxed(sched.nmidle) + 1);
}

// seed: mget. sched.lock held.
M *mget() {
    M *mp = sched.midle;
    if (mp != nullptr) {
        sched.midle = mp->schedlink;
        store_relaxed(sched.nmidle, load_relaxed(sched.nmidle) - 1);
        sched.deadlock_reported = false;  // an M runs again: a new episode may follow
    }
    return mp;
}

}  // namespace gort
