// capi/checks.h - what every capi/*.cc file needs to validate a call:
// who is calling (goroutine, g0, host thread) and whether the runtime
// accepts calls now.
#pragma once

#include "capi/include/gort/gort.h"
#include "core/lifecycle.h"
#include "core/sched/gstatus.h"
#include "core/sched/runtime2.h"

namespace gort::capi {

// The current goroutine, or nullptr on a host thread or on g0 (inside an
// unlockf callback, for instance).
inline G *curg() {
    G *g = getg();
    if (g == nullptr || g == g->m->g0) return nullptr;
    return g;
}

// running: whether the runtime accepts calls from this caller. While
// gort_shutdown stops the world, goroutines still run until their next
// scheduling point, and that point must be reachable: calls made from a
// goroutine (or from g0, inside an unlockf) are still served then. Host
// threads must not race with shutdown (gort.h), and are refused.
inline bool running() {
    if (sched.forked_child.load(std::memory_order_relaxed)) return false;  // core/thread/fork.cc
    RtState s = rtstate();
    if (s == RtState::Init || s == RtState::Running || s == RtState::RunningMain) return true;
    return s == RtState::ShuttingDown && getg() != nullptr;
}

inline int not_running_code() {
    RtState s = rtstate();
    return (s == RtState::Uninit || s == RtState::Initializing) ? GORT_ENOTINIT : GORT_ESTATE;
}

// in_syscall: gp is between gort_entersyscall and gort_exitsyscall; it may
// not touch its P (sysmon may have handed it to another M).
inline bool in_syscall(const G *gp) { return (readgstatus(gp) & ~uint32_t(Gscan)) == Gsyscall; }

// may_block: the code for a goroutine call that can park, yield or enter a
// syscall: GORT_ESTATE while it is inside gort_entersyscall, pinned
// (gort_proc_pin), holding the stopped world, or holding runtime locks; else
// GORT_OK.
inline int may_block(G *gp) {
    if (gp->m->locks != 0) return GORT_ESTATE;
    if ((readgstatus(gp) & ~uint32_t(Gscan)) != Grunning) return GORT_ESTATE;
    return GORT_OK;
}

// holds_stopped_world: gp stopped the world with gort_stop_the_world and
// has not restarted it (capi/sched.cc).
bool holds_stopped_world(const G *gp);

// g_handle: the G behind a caller's handle, or nullptr if it cannot be one
// (NULL, not aligned as a G is, or without a G's magic). Alignment first: a
// misaligned pointer must not even be read as a G.
inline G *g_handle(const gort_g *g) {
    auto *gp = reinterpret_cast<G *>(const_cast<gort_g *>(g));
    if (gp == nullptr || reinterpret_cast<uintptr_t>(gp) % alignof(G) != 0) return nullptr;
    return gp->magic == kGMagic ? gp : nullptr;
}

// initialised: gort_init has returned (any later state).
inline bool initialised() {
    RtState s = rtstate();
    return s != RtState::Uninit && s != RtState::Initializing;
}

}  // namespace gort::capi
