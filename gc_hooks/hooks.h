// gc_hooks/hooks.h - the collector side of the GC hooks (seed: mgc's
// gcphase, gcphasework, scanstack, forcegc), as the C ABI (capi/gc.cc)
// and the scheduler (gc_hooks/gcwork.h) reach it.
#pragma once

#include <gort/gort.h>

#include "core/sched/runtime2.h"

namespace gort {

// gort_gc_set_hooks: GORT_OK, or GORT_EBUSY during a quiesce. h validated
// by the caller; nullptr removes the hooks.
int gc_set_hooks(const gort_gc_hooks *h);

// This thread is inside a scan_g callback (gort_gc_set_phase would wait for
// the scan it is part of).
bool in_scan_callback();

// seed: scanstack's precise half. gp is held at a safe point. Visits each
// pointer slot of its managed stack by the stack maps (innermost frame
// first), then its registered roots.
void scan_precise_roots(G *gp, gort_root_visitor v, void *ctx);

}  // namespace gort
