// core/sched/runq.h - run queues and idle lists (seed: runqput, runqputslow,
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
// runnext (modern Go, 1.5+; the seed has none). pp->runnext holds one G
// that runs before the ring: ready() of a goroutine woken by the running one
// (and newproc1, as Go 1.19's newproc) puts it there, so a goroutine that
// wakes another and then blocks hands the P straight to it, without it waiting
// behind the queue or being stolen by another P. A G already in runnext is
// kicked to the ring's tail. Such a G inherits the time slice of the one it
// replaces (runqget's *inherit: execute does not count a new schedtick), so
// sysmon still sees a ping-pong pair as one long slice and, after 10 ms, asks
// the P to preempt (preemptone sets pp->preempt); gort's preemption is
// cooperative and a parking goroutine passes no safe point, so schedule()
// answers that request itself by kicking runnext to the ring's tail and
// taking the ring's head: a runnext pair cannot starve the rest of its P.
//   - only the owner stores a non-null runnext (exchange in runqput);
//   - the owner (runqget) and thieves (runqgrab) take it with a CAS to null:
//     a failed CAS means another consumer took it.
// Thieves take runnext only when asked (stealRunNextG, the later steal
// rounds), only when the ring is empty, and, if the victim is running, only
// after a 3 us sleep so its M can run the G it just readied (Go 1.19's rule).
//
// The global queue and the idle lists live in sched and need sched.lock.
#pragma once

#include "core/sched/runtime2.h"

namespace gort {

// owner only; next: into runnext (the previous runnext goes to the ring)
void runqput(P *pp, G *gp, bool next = false);
bool runqputslow(P *pp, G *gp, uint32_t h, uint32_t t);  // owner only
// owner only; runnext first (*inherit = true then), else the ring's head
G *runqget(P *pp, bool *inherit = nullptr);
// any P; batch holds kRunqSize/2
uint32_t runqgrab(P *pp, G **batch, bool stealRunNextG = false);
G *runqsteal(P *pp, P *p2, bool stealRunNextG = false);  // pp's owner, stealing from p2
// Takes pp's runnext, if any, and puts it on the ring's tail (owner only):
// the end of an inherited time slice (schedule, on pp->preempt).
void runqkicknext(P *pp);
// Empty ring and no runnext. Defends against the race where pp has G1 in
// runnext with an empty ring, then the owner's runqput kicks G1 to the ring
// and its runqget empties runnext: reading the ring then runnext could see
// neither, so the read is retried until runqtail is stable around it
// (modern Go's runqempty).
inline bool runqempty(const P *pp) {
    for (;;) {
        uint32_t h = pp->runqhead.load(std::memory_order_acquire);
        uint32_t t = pp->runqtail.load(std::memory_order_acquire);
        G *next = pp->runnext.load(std::memory_order_acquire);
        if (t == pp->runqtail.load(std::memory_order_acquire)) return h == t && next == nullptr;
    }
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
