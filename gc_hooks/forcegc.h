// gc_hooks/forcegc.h - the forced GC (seed: forcegchelper; see forcegc.cc).
#pragma once

#include <cstdint>

#include "core/sched/upcalls.h"

namespace gort {

void forcegc_start();               // a gc_trigger hook was installed: start the goroutine once
// forcegc_due_in and sysmon_forcegc (sysmon calls them): core/sched/upcalls.h.
void forcegc_release();             // gort_shutdown

}  // namespace gort
