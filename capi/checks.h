// capi/checks.h - the preconditions of the C ABI, and the one place where
// core's answers become GORT_* codes.
//
// An entry point checks, in this order, and returns the first failure:
//   1. its arguments by value (no runtime needed): GORT_EINVAL;
//   2. the runtime's state and the caller: require(Caller) for most calls,
//      runtime_is(Runtime) and caller_is(Caller) separately where the order
//      differs (host-thread calls check the caller first);
//   3. its gort_g handles, dereferenced only once the runtime is known to
//      be alive (Gs die with it): GORT_EINVAL. Channels outlive a runtime
//      instance: their handles are read with the arguments, and a stale one
//      is refused once the runtime serves (chan_stale: GORT_ESTATE).
// Which check fails first decides the code, and the codes are ABI
// (tests/capi/capi_errors_test.cc): keep each entry point's order.
#pragma once

#include <cstdint>

#include "capi/include/gort/gort.h"
#include "core/lifecycle.h"
#include "core/sched/gstatus.h"
#include "core/sched/runtime2.h"
#include "core/wait/chan.h"

namespace gort::capi {

// ---- Who is calling ----

// The current goroutine, or nullptr on a host thread or on g0 (inside an
// unlockf callback, for instance).
inline G *curg() {
    G *g = getg();
    if (g == nullptr || g == g->m->g0) return nullptr;
    return g;
}

// in_syscall: gp is between gort_entersyscall and gort_exitsyscall; it may
// not touch its P (sysmon may have handed it to another M).
inline bool in_syscall(const G *gp) { return (readgstatus(gp) & ~uint32_t(Gscan)) == Gsyscall; }

// holds_stopped_world: gp stopped the world with gort_stop_the_world and
// has not restarted it (capi/sched.cc). It then holds an m->locks count, so
// it is not Caller::MayBlock.
bool holds_stopped_world(const G *gp);

// may_block: GORT_OK if gp may park, yield or enter a system call; else
// GORT_ESTATE: it is inside gort_entersyscall, pinned (gort_proc_pin),
// holding the stopped world or runtime locks. A running goroutine with no
// runtime lock always holds a P; the p check keeps a broken invariant from
// parking without one.
inline int may_block(const G *gp) {
    if (gp->m->locks != 0 || gp->m->p == nullptr) return GORT_ESTATE;
    if ((readgstatus(gp) & ~uint32_t(Gscan)) != Grunning) return GORT_ESTATE;
    return GORT_OK;
}

// The kinds of caller an entry point accepts; the comment of each names the
// code that refuses the others.
enum class Caller {
    Any,        // a goroutine, g0 (inside an unlockf) or a host thread
    Host,       // a host thread: GORT_EBUSY from a goroutine or g0 (they
                // belong to a runtime that already runs)
    Waker,      // Any but a goroutine inside a system call (GORT_ESTATE):
                // readying or creating a goroutine uses the caller's P,
                // which sysmon may have handed to another M
    Goroutine,  // a goroutine: GORT_ENOTG from a host thread or g0
    MayBlock,   // a Goroutine that may park (may_block: GORT_ESTATE)
    NotG0,      // a goroutine or a host thread: GORT_ENOTG from g0, which
                // runs on its M's stack and may not wait for other Gs
    MayWait,    // a host thread, or a goroutine that may block: GORT_ESTATE
                // from g0 (an unlockf cannot wait) or a goroutine that may not
};

inline int caller_is(Caller c) {
    G *g = getg();
    bool g0 = g != nullptr && g == g->m->g0;
    switch (c) {
        case Caller::Any: return GORT_OK;
        case Caller::Host: return g == nullptr ? GORT_OK : GORT_EBUSY;
        case Caller::Waker: return g != nullptr && !g0 && in_syscall(g) ? GORT_ESTATE : GORT_OK;
        case Caller::Goroutine: return g != nullptr && !g0 ? GORT_OK : GORT_ENOTG;
        case Caller::MayBlock: return g != nullptr && !g0 ? may_block(g) : GORT_ENOTG;
        case Caller::NotG0: return g0 ? GORT_ENOTG : GORT_OK;
        case Caller::MayWait: return g == nullptr ? GORT_OK : g0 ? GORT_ESTATE : may_block(g);
    }
    return GORT_EINVAL;  // not reached: every Caller is handled above
}

// ---- The runtime's state ----

enum class Runtime {
    // gort_init has returned (any later state, even after gort_main
    // returned or in a forked child): GORT_ENOTINIT before. The calls that
    // only read counters or handles accept it.
    Initialised,
    // The runtime serves calls from this caller: GORT_ENOTINIT before
    // gort_init, GORT_ESTATE after gort_main returned or in a forked child
    // (core/thread/fork.cc). While gort_shutdown stops the world, goroutines
    // still run until their next scheduling point, and that point must be
    // reachable: calls made from a goroutine (or from g0, inside an unlockf)
    // are still served then. Host threads must not race with shutdown
    // (gort.h), and are refused.
    Serving,
    // The host-thread calls: GORT_ESTATE in a forked child (whatever the
    // state), then GORT_ENOTINIT before gort_init. Unforked accepts every
    // initialised state (core decides: rt_main, rt_start); Started needs
    // gort_start or gort_main, Attachable also accepts Init; GORT_ESTATE
    // otherwise.
    Unforked,
    Started,
    Attachable,
};

inline bool forked_child() { return sched.forked_child.load(std::memory_order_relaxed); }

inline int runtime_is(Runtime r) {
    RtState s = rtstate();
    bool uninit = s == RtState::Uninit || s == RtState::Initializing;
    if (r == Runtime::Initialised) return uninit ? GORT_ENOTINIT : GORT_OK;
    if (r == Runtime::Serving) {
        if (uninit) return GORT_ENOTINIT;
        if (forked_child()) return GORT_ESTATE;
        if (s == RtState::Init || s == RtState::Running || s == RtState::RunningMain) return GORT_OK;
        return s == RtState::ShuttingDown && getg() != nullptr ? GORT_OK : GORT_ESTATE;
    }
    if (forked_child()) return GORT_ESTATE;
    if (uninit) return GORT_ENOTINIT;
    bool started = s == RtState::Running || s == RtState::RunningMain;
    switch (r) {
        case Runtime::Started: return started ? GORT_OK : GORT_ESTATE;
        case Runtime::Attachable: return started || s == RtState::Init ? GORT_OK : GORT_ESTATE;
        default: return GORT_OK;  // Unforked
    }
}

// The common prologue: the runtime serves calls, and the caller is of kind c.
inline int require(Caller c) {
    if (int rc = runtime_is(Runtime::Serving)) return rc;
    return caller_is(c);
}

// ---- Handles ----

// g_handle: the G behind a caller's handle, or nullptr if it cannot be one
// (NULL, not aligned as a G is, or without a G's magic). Alignment first: a
// misaligned pointer must not even be read as a G.
inline G *g_handle(const gort_g *g) {
    auto *gp = reinterpret_cast<G *>(const_cast<gort_g *>(g));
    if (gp == nullptr || reinterpret_cast<uintptr_t>(gp) % alignof(G) != 0) return nullptr;
    return gp->magic == kGMagic ? gp : nullptr;
}

// chan_handle: the hchan behind a gort_chan, or nullptr (as g_handle;
// hchans are 64-byte aligned by rtalloc). A valid handle may still be of an
// earlier runtime instance: chan_stale says so, and is asked only once the
// runtime serves (chan_epoch is bumped at every shutdown).
inline hchan *chan_handle(const gort_chan *c) {
    if (c == nullptr || (reinterpret_cast<uintptr_t>(c) & (alignof(hchan) - 1)) != 0) return nullptr;
    auto *h = reinterpret_cast<hchan *>(const_cast<gort_chan *>(c));
    return h->magic == kChanMagic ? h : nullptr;
}
inline bool chan_stale(const hchan *c) { return c->epoch != chan_epoch.load(std::memory_order_acquire); }

// ---- Core's answers as GORT_* codes ----
// Core answers in three styles: functions shared with the C ABI return
// GORT_* codes already (rt_*, mframe_*, poll_fd, helpgc, ...: passed
// through); the channel code returns a ChanResult; the rest say whether
// they did it (bool). These two are the only translations.

inline int result_code(ChanResult r) {
    switch (r) {
        case kChanOK: return GORT_OK;
        case kChanWouldBlock: return GORT_EAGAIN;
        case kChanClosed: return GORT_ECLOSED;
        case kChanTimedOut: return GORT_ETIMEDOUT;
    }
    return GORT_EAGAIN;  // not reached: core returns only the values above
}

// done: core did it; else it refused, changing nothing, and `refused` is the
// code the entry point documents for that (GORT_EBUSY: try again later;
// GORT_ESTATE: the object or the world is in the wrong state).
inline int result_code(bool done, int refused) { return done ? GORT_OK : refused; }

}  // namespace gort::capi
