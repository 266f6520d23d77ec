// core/sched/upcalls.h - everything the scheduler calls in the layers above
// it (docs/DESIGN.md, "Layers").
//
// core/sched/ includes only core/base/, arch/ and itself. Where the seed's
// scheduler calls into the stack allocator, the poller, the GC or the life
// cycle, gort declares the callee here and the layer above defines it (and
// includes this header, so a signature that drifts is a compile error, not a
// link error). This file is the whole of what the scheduler knows of the
// layers above it; the layers between sched and gc_hooks may use it too for
// the same few calls (a managed frame push is a GC safe point).
//
// The two stack checks of every switch are inline here (they read G fields
// only): a call there would cost on the hottest path.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/sched/runtime2.h"

namespace gort {

// ---- the life cycle (core/lifecycle.cc) ----
// Transitions: Uninit -> Init (rt_init) -> Running (rt_main or rt_start) ->
// Stopped (gort_main returned) -> Uninit (rt_shutdown); Init or Running ->
// Uninit (rt_shutdown). RunningMain is Running under gort_main: shutdown
// must wait for it to return.
enum class RtState : int { Uninit = 0, Initializing, Init, Running, RunningMain, Stopped, ShuttingDown };
RtState rtstate();

// ---- stacks (core/stack/) ----
// Execution stacks run native code; managed stacks hold a VM's frames and
// may move (core/stack/stack_alloc.h).
enum StackKind : int { kStackExec = 0, kStackManaged = 1 };
// seed: stackalloc. n a power of two >= 2 KiB; Stack{} (lo == 0) when no
// address space is left (the caller decides what that means).
Stack stackalloc(std::size_t n, StackKind kind);
void stackfree(Stack s, StackKind kind);  // seed: stackfree
void stackcache_clear(P *pp);             // seed: stackcache_clear (procresize)
// gp->stackcanary for gp's (new) execution stack: the address of its canary
// if no guard page protects the stack, else 0.
void stack_initcanary(G *gp);
[[noreturn]] void throw_stackoverflow(G *gp);
inline constexpr uint64_t kStackCanary = 0x67cf2b1df00dfaceull;
inline constexpr int kStackCanaryWords = 4;
// Every switch-out: fatal "stack overflow in goroutine N" if gp's canary was
// overwritten (unguarded stacks only).
inline void stack_checkcanary(G *gp) {
    if (gp->stackcanary == 0) return;
    auto *w = reinterpret_cast<const volatile uint64_t *>(gp->stackcanary);
    for (int i = 0; i < kStackCanaryWords; i++)
        if (w[i] != kStackCanary) throw_stackoverflow(gp);
}
// A managed frame's check is exact (sp - need >= guard): no reserve is
// needed below the guard, since neither the runtime nor native code runs
// on a managed stack (the seed's _StackGuard covers nosplit chains).
inline constexpr uintptr_t kMStackGuard = 0;
// What execute() stores in stackguard0 for gp.
inline uintptr_t stackguard_reset(const G *gp) {
    return gp->mstack.lo != 0 ? gp->mstack.lo + kMStackGuard : gp->stack.lo + kStackGuard;
}
void mstack_free(G *gp);  // goexit0: frees the managed stack and roots
// seed: minit/unminit (the signal stack part; core/stack/stack_guard.cc).
// On the M's own thread: give it an alternate signal stack, on which the
// stack-overflow handler runs, unless it already has one (a host thread's
// own is kept). The runtime's threads (newosproc) carve theirs from their
// thread mapping; others get a mapping that unminit_sigstack removes.
void minit_sigstack(M *mp, void *stk, std::size_t size);
void unminit_sigstack(M *mp);
inline constexpr std::size_t kSigStackSize = 64 * 1024;

// ---- the network poller (core/poll/netpoll_epoll.cc) ----
// netpollinited: the epoll fd exists. Any thread, no lock.
bool netpollinited();
// netpollGenericInit: create the epoll fd and eventfd if not yet done.
void netpollGenericInit();
// seed: netpoll. Gs made runnable by fd readiness, as a list through
// schedlink, still Gwaiting (the caller injects them: injectglist or
// casgstatus). delay < 0 blocks until an event or netpollBreak, 0 does not
// block, > 0 blocks up to delay ns. Only a delay != 0 consumes a pending
// break.
G *netpoll(int64_t delay);
// netpollBreak: interrupt a blocked netpoll (or make the next one return at
// once). Coalesced: one write per wakeup however many callers.
void netpollBreak();
// Goroutines parked in gort_poll_fd (modern Go's netpollAnyWaiters).
bool netpollAnyWaiters();
// sysmon, every tick (seed: sysmon's "poll network if not polled for more
// than 10ms"; modern Go's "start an M if a timer is overdue"), plus the
// check for fds closed with close(2) instead of gort_poll_close. On sysmon's
// M, without a P.
void sysmon_netpoll(int64_t now);
// checkdead: something can still wake a goroutine (an armed timer or a
// goroutine parked in gort_poll_fd).
bool netpoll_has_waiters_or_timers();
// Shutdown / gort_main's return: wake the M blocked in netpoll so that it
// sees sched.exiting / m0_resume. Any thread; no-op if not initialised.
void netpoll_wake_for_exit();

// ---- threads (core/thread/) ----
void LockOSThread();       // seed: LockOSThread (a goroutine started with lock_os_thread)
int32_t extram_idle_gs();  // gcount: foreign threads' goroutines between calls

// ---- the GC scan protocol (gc_hooks/) ----
// casgstatus: gp leaves Grunning for newval with a scan asked of it (seed:
// "Help GC if needed").
void gchelp(G *gp, uint32_t newval);
// goexit0: a dead goroutine counts as scanned in this cycle (seed:
// mquiesce's no-op scan); a pending request dies with it.
void gc_goexit(G *gp);
// A safe point of the running goroutine gp == getg() (gort_safepoint, a
// managed frame push): if a scan was asked of it, claims itself, scans and
// returns true (the seed's newstack preemptscan branch: no yield).
bool gcscan_safepoint(G *gp);
void gchelper();                      // seed: gchelper (stopm, on a woken helper M)
int64_t forcegc_due_in(int64_t now);  // ns until a forced GC is due (0: now), -1: never
void sysmon_forcegc(int64_t now);     // sysmon: wake the forcegc goroutine if due

}  // namespace gort
