// gc_hooks/gcwork.h - the narrow interface between the scheduler's scan protocol
// (gc_hooks/gcscan.cc, the seed's proc1.go half) and the collector side a host
// plugs in (gc_hooks/, the seed's mgc half: gcphase, gcphasework, the
// forced-GC trigger). core/ calls only what is declared here; gc_hooks/
// implements it.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/base/atomics.h"
#include "core/sched/runtime2.h"

namespace gort {

// seed: gcphase. GORT_GC_OFF, GORT_GC_SCAN or GORT_GC_MARK (gort.h).
extern atomic<uint32_t> gcphase;

// seed: gcphasework. gp is held at a GC safe point by the caller (its scan
// bit); status is what gp was when claimed (Grunnable, Grunning, Gsyscall,
// Gwaiting), saved_sp the lowest live byte of its execution stack. Does the
// phase's work (GORT_GC_SCAN: the host's scan_g) and sets gp->gcworkdone.
void gcphasework(G *gp, uint32_t status, uintptr_t saved_sp);

// The forced GC (seed: forcegcperiod and forcegc.g): the period, or 0 if no
// gc_trigger hook is installed; and the call the forcegc goroutine makes.
int64_t gc_force_period();
void gc_trigger_call();

// gort_shutdown: hooks removed, phase back to GORT_GC_OFF.
void gc_hooks_release();

}  // namespace gort
