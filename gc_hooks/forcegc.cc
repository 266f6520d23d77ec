// gc_hooks/forcegc.cc - the forced GC (seed: forcegchelper, forcegc.g, and
// sysmon's "check if we need to force a GC").
//
// A runtime goroutine sleeps parked until sysmon finds that no scan cycle
// has begun for the period of the host's gc_trigger hook; sysmon makes it
// runnable and it calls gc_trigger on a goroutine, where the host may do
// anything a goroutine may (gort_quiesce included). It is a system
// goroutine: gort_numgoroutine and checkdead do not count it.
//
// Departure: the seed measures from the last GC and never forces one before
// the first; gort measures from the later of the last cycle, the hook's
// installation and the last trigger (a trigger the host ignores does not
// fire again until a period later, where the seed would fire on every tick).
#include "gc_hooks/forcegc.h"

#include "core/base/atomics.h"
#include "gc_hooks/gcscan.h"
#include "gc_hooks/gcwork.h"
#include "core/sched/gstatus.h"
#include "core/base/lock_futex.h"
#include "core/sched/proc.h"
#include "core/base/throw.h"
#include "core/base/os.h"

namespace gort {

namespace {

mutex forcegc_lock{kRankForcegc};
G *forcegc_g = nullptr;                   // forcegc_lock
atomic<bool> forcegc_idle{false};    // parked, waiting for sysmon (forcegc_lock to set)
atomic<int64_t> forcegc_since{0};    // installation or last trigger (nanotime)

int forcegc_unlock(G *, void *l) {
    unlock(static_cast<mutex *>(l));
    return 1;
}

// seed: forcegchelper
void forcegchelper(void *) {
    for (;;) {
        lock(&forcegc_lock);
        if (forcegc_idle.load(std::memory_order_relaxed)) gothrow("forcegc: phase error");
        forcegc_idle.store(true, std::memory_order_relaxed);
        park(forcegc_unlock, &forcegc_lock, "force gc (idle)");
        // this goroutine is explicitly resumed by sysmon
        gc_trigger_call();
    }
}

}  // namespace

void forcegc_start() {
    forcegc_since.store(nanotime(), std::memory_order_relaxed);
    lock(&forcegc_lock);
    bool started = forcegc_g != nullptr;
    if (!started) forcegc_g = reinterpret_cast<G *>(uintptr_t(1));  // reserved: one creator
    unlock(&forcegc_lock);
    if (started) return;
    G *gp = newproc1(forcegchelper, nullptr, 0, 0, false, nullptr, /*issystem=*/true);
    if (gp == nullptr) gothrow("out of memory (the forced-GC goroutine's stack)");
    lock(&forcegc_lock);
    forcegc_g = gp;  // it never exits, so the handle stays its own
    unlock(&forcegc_lock);
}

int64_t forcegc_due_in(int64_t now) {
    int64_t period = gc_force_period();
    if (period == 0) return -1;
    int64_t last = gc_last_cycle(), since = forcegc_since.load(std::memory_order_relaxed);
    if (since > last) last = since;
    int64_t left = last + period - now;
    return left > 0 ? left : 0;
}

void sysmon_forcegc(int64_t now) {
    if (!forcegc_idle.load(std::memory_order_relaxed) || forcegc_due_in(now) != 0) return;
    lock(&forcegc_lock);
    G *gp = forcegc_g;
    bool idle = forcegc_idle.load(std::memory_order_relaxed) && gp != nullptr && uintptr_t(gp) != 1;
    if (idle) forcegc_idle.store(false, std::memory_order_relaxed);
    unlock(&forcegc_lock);
    if (!idle) return;
    forcegc_since.store(now, std::memory_order_relaxed);
    ready(gp);  // seed: injectglist(forcegc.g); sysmon has no P: the global queue
}

void forcegc_release() {
    forcegc_g = nullptr;
    forcegc_idle.store(false, std::memory_order_relaxed);
    forcegc_since.store(0, std::memory_order_relaxed);
}

}  // namespace gort
