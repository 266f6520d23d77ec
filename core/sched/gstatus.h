// core/sched/gstatus.h - the goroutine status machine (seed: readgstatus,
// casgstatus, castogscanstatus, casfrom_Gscanstatus, casgcopystack,
// isscanstatus).
//
// Every read and write of g->atomicstatus goes through these functions. The
// Gscan bit acts as a lock on the g's stack: castogscanstatus acquires it,
// casfrom_Gscanstatus releases it, and casgstatus spins while it is held.
// Illegal transitions are fatal and name the from/to values.
#pragma once

#include <cstdint>

#include "core/sched/runtime2.h"

namespace gort {

// seed: readgstatus. Acquire: pairs with the release CAS that set the status,
// so a reader of Gwaiting also sees what the parker wrote before parking.
inline uint32_t readgstatus(const G *gp) { return gp->atomicstatus.load(std::memory_order_acquire); }

bool isscanstatus(uint32_t status);                       // seed: isscanstatus
void casgstatus(G *gp, uint32_t oldval, uint32_t newval);  // seed: casgstatus
bool castogscanstatus(G *gp, uint32_t oldval, uint32_t newval);  // seed: castogscanstatus
void casfrom_Gscanstatus(G *gp, uint32_t oldval, uint32_t newval);  // seed: casfrom_Gscanstatus
uint32_t casgcopystack(G *gp);                             // seed: casgcopystack
// stacks: casgcopystack for a caller that cannot stop gp from running
// (gort_shrink_stacks runs beside the scheduler): false, changing nothing,
// if gp is neither Gwaiting nor Grunnable (an M may have started a g that an
// async gort_ready made runnable); else *oldstatus = what it replaced.
bool try_casgcopystack(G *gp, uint32_t *oldstatus);

// try_casgstatus_waiting_runnable: gort_ready's non-fatal variant of
// casgstatus(gp, Gwaiting, Grunnable) for caller-supplied goroutines. Returns
// false, changing nothing, if gp is not waiting (a double ready is the
// caller's mistake, not a broken invariant); waits out a scan bit like
// casgstatus.
bool try_casgstatus_waiting_runnable(G *gp);

// "idle", "runnable", ... for dumps (the scan bit ignored).
const char *gstatusname(uint32_t status);
// seed: dumpgstatus. Prints gp's and the current goroutine's status words
// before a fatal error about gp's status.
void dumpgstatus(G *gp);

}  // namespace gort
