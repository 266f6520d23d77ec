// core/diag/fatal.cc - the dump that follows "gort: fatal error: msg"
// (core/base/throw.cc calls it through core/base/upcalls.h).
#include "core/base/upcalls.h"
#include "core/diag/traceback.h"
#include "core/sched/proc.h"
#include "core/sched/runtime2.h"

namespace gort {

void fatal_dump() {
    // seed: startpanic -> freezetheworld. Ask every running goroutine to
    // stop and no M to start another, so the dump sees a still world (best
    // effort; a few ms; no lock taken). allp[0] is null before gort_init.
    if (allp[0] != nullptr) freezetheworld();
    dumpgoroutines(2, DumpMode::Fatal);
}

}  // namespace gort
