// gc_hooks/helpgc.h - GC helper Ms during stop-the-world (seed: gcprocs,
// helpgc, gchelper; see helpgc.cc).
#pragma once

#include <cstdint>

#include "core/sched/upcalls.h"

namespace gort {

int32_t gcprocs(int32_t want);  // seed: gcprocs (sched.lock held)
// Runs fn(arg) on this thread and on up to want-1 idle Ms; returns the
// number of runs once all have returned. The world is stopped by the caller.
// GORT_EBUSY, running nothing, from inside fn (a job is running).
int helpgc(int32_t want, void (*fn)(void *), void *arg);
// gchelper (stopm runs it on a woken helper): core/sched/upcalls.h.

}  // namespace gort
