// gc_hooks/hooks.h - the collector side of the GC hooks (seed: mgc's
// gcphase, gcphasework, scanstack, forcegc), as the C ABI (capi/capi_gc.cc)
// and the scheduler (core/gcwork.h) reach it.
#pragma once

#include <gort/gort.h>

#include "core/runtime2.h"

namespace gort {

// gort_gc_set_hooks: GORT_OK, or GORT_EBUSY during a quiesce. h validated
// by the caller; nullptr removes the hooks.
int gc_set_hooks(const gort_gc_hooks *h);

// seed: scanstack's precise half. gp is held at a safe point. Visits each
// pointer slot of its managed stack by the stack maps (innermost frame
// first), then its registered roots.
void scan_precise_roots(G *gp, gort_root_visitor v, void *ctx);

}  // namespace gort
