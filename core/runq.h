// core/runq.h - run queues and idle lists (seed: runqput, runqputslow,
// runqget, runqgrab, runqsteal, globrunqput, globrunqputbatch, globrunqget,
// pidleput, pidleget, mput, mget).
//
// The local run queue is a 256-slot ring per P, lock-free:
//   - only the owner P puts (runqput, runqsteal's refill): it writes a slot
//     and publishes it with store_rel(runqtail);
//   - any P consumes from the head (runqget by the owner, runqgrab by
//     thieves): it load_acq's runqhead and runqtail, reads the slots, and
//     commits with cas_rel(runqhead). A failed CAS means someone else
//     consumed first; the reads are discarded and retried.
// load_acq(runqtail) by a thief pairs with the owner's store_rel(runqtail);
// load_acq(runqhead) by the owner in runqput pairs with a consumer's
// cas_rel(runqhead), so the owner never overwrites a slot still being read.
//
// The global queue and the idle lists live in sched and need sched.lock.
#pragma once

#include "core/runtime2.h"

namespace gort {

void runqput(P *pp, G *gp);                         // owner only
bool runqputslow(P *pp, G *gp, uint32_t h, uint32_t t);  // owner only
G *runqget(P *pp);                                  // owner only
uint32_t runqgrab(P *pp, G **batch);                // any P; batch holds kRunqSize/2
G *runqsteal(P *pp, P *p2);                         // pp's owner, stealing from p2
inline bool runqempty(const P *pp) {
    return pp->runqhead.load(std::memory_order_acquire) == pp->runqtail.load(std::memory_order_acquire);
}

// sched.lock held:
void globrunqput(G *gp);
void globrunqputbatch(G *ghead, G *gtail, int32_t n);
G *globrunqget(P *pp, int32_t max);
void pidleput(P *pp);
P *pidleget();
void mput(M *mp);
M *mget();

}  // namespace gort
