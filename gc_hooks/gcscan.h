// gc_hooks/gcscan.h - the GC scan protocol of the scheduler (seed: stopg,
// restartg, stopscanstart, quiesce, mquiesce, and the GC branches of
// casgstatus and newstack). gc_hooks/README.md describes it for hosts.
//
// A goroutine's stacks are scanned only while someone holds its scan bit
// (core/sched/gstatus.h): a scanner claims a goroutine that is not running
// (Grunnable, Gwaiting, Gsyscall -> Gscan*), and a running one is asked
// (preemptscan + a preemption request) to claim itself (Gscanrunning) at its
// next safe point. Invariant: gcphasework runs only under the scan bit and
// only while gcworkdone(gp) is false, and it sets gcworkdone before the bit
// is released, so within one cycle a goroutine is scanned at most once, by
// whoever gets there first. A cycle begins when gcepoch is incremented
// (resetcycle: gort_quiesce, gc_set_phase to GORT_GC_SCAN), which makes
// every goroutine not done at once.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/base/atomics.h"
#include "core/sched/runtime2.h"
#include "core/sched/upcalls.h"

namespace gort {

// The current scan cycle; a new cycle increments it (never to 0, a fresh
// G's value). Written under gclock.
extern atomic<uint32_t> gcepoch;

// seed: gp.gcworkdone. The field is read first (acquire): whoever stored it
// had read the epoch it stored, so the epoch read after it is that one or
// later (read-read coherence), and a goroutine done in this cycle is never
// taken for one done in an earlier cycle.
inline bool gcworkdone(const G *gp, std::memory_order mo = std::memory_order_acquire) {
    uint32_t done = gp->gcworkdone.load(mo);
    return done == gcepoch.load(mo == std::memory_order_seq_cst ? mo : std::memory_order_relaxed);
}
// seed: gp.gcworkdone = true. Under gp's scan bit (or for a dead gp).
inline void gcworkdone_set(G *gp) {
    gp->gcworkdone.store(gcepoch.load(std::memory_order_relaxed), std::memory_order_release);
}

// byquiescer: called by mquiesce, which also shrinks the managed stack of a
// goroutine it claims, and does not need to be told of the scan.
bool stopg(G *gp, bool byquiescer = false);          // seed: stopg
void restartg(G *gp);                                 // seed: restartg
void stopscanstart(G *gp, bool byquiescer = false);  // seed: stopscanstart
// seed: quiesce. From mastergp (the current goroutine, holding worldsema):
// returns once every goroutine that existed when it began has been brought
// to a safe point and, in GORT_GC_SCAN, scanned (the caller too).
void quiesce(G *mastergp);
// The same, for the goroutine that holds the world stopped: nothing else
// runs, so it never waits, and it resumes at once (no run queue).
void quiesce_stopped(G *gp);

// gort_stopg / gort_restartg: stopg and restartg recording who holds the
// claim (an owner token: the claiming goroutine or host thread).
bool stopg_for(G *gp, uintptr_t owner);
bool restartg_for(G *gp, uintptr_t owner);  // false: not claimed by owner

// gcscan_safepoint, gchelp and gc_goexit (the scheduler and the managed
// stacks call them): core/sched/upcalls.h.

// Sets gcphase; moving to GORT_GC_SCAN from another phase begins a scan
// cycle (every goroutine not dead must be scanned again). false, changing
// nothing, while gort_quiesce runs; else true and *old = the previous phase.
bool gc_set_phase(uint32_t phase, uint32_t *old);
// Runs fn(arg) under gclock if no gort_quiesce runs (true), else false.
bool gc_if_idle(void (*fn)(void *), void *arg);
int64_t gc_last_cycle();      // nanotime when the last cycle began (0: none)
void gcscan_release();        // gort_shutdown

}  // namespace gort
