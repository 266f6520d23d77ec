// gc_hooks/forcegc.h - the forced GC (seed: forcegchelper; see forcegc.cc).
#pragma once

#include <cstdint>

namespace gort {

void forcegc_start();               // a gc_trigger hook was installed: start the goroutine once
int64_t forcegc_due_in(int64_t now);  // ns until a forced GC is due (0: now), -1: never
void sysmon_forcegc(int64_t now);   // sysmon: wake the goroutine if due
void forcegc_release();             // gort_shutdown

}  // namespace gort
