// core/base/lockrank.h - the runtime's lock order, written once (in the
// spirit of Go's runtime/lockrank.go). docs/DESIGN.md §3.13 is its table.
//
// Every runtime `mutex` has a rank. A thread may acquire a lock only if its
// rank is above the rank of every lock the thread already holds: locks are
// taken in increasing rank order (lower rank = taken first = outer). Two
// locks of one rank may be held together only where the rank says so below
// (kNestAddr: in increasing address order; kNestUnderSched: only while
// sched.lock is held too, which serialises the nesting).
//
// Checked in GORT_LOCKRANK builds (CMakeLists.txt turns it on for
// CMAKE_BUILD_TYPE=Debug and for every GORT_SANITIZE build): lock()/unlock()
// keep a per-thread stack of held locks, and an acquisition out of order, an
// unlock of a lock this thread does not hold, or a goroutine switch (gogo)
// with a lock held is a fatal error. thread_local state is sound because a
// runtime lock is never held across a goroutine switch: holding one
// increments m->locks, and the holder must not park; the one hand-off
// (park's unlockf) releases the lock on the same thread's g0. Release builds
// keep the rank field (one byte in the mutex's padding) but compile no check.
//
// A lock nobody ranked (rank 0) is a fatal error when locked in a checked
// build. Locks in memory the runtime does not construct (a gort_cond's
// notifyList lives in host memory where zero means ready) are locked with
// lockWithRank, which supplies the rank at the call site.
#pragma once

#include <cstdint>

namespace gort {

#if defined(GORT_LOCKRANK) && GORT_LOCKRANK
inline constexpr bool kLockRankChecked = true;
#else
inline constexpr bool kLockRankChecked = false;
#endif

// In acquisition order. "under it" lists what the code takes while holding
// the lock (found by reading every lock() call; exercised by the Debug and
// sanitizer suites).
enum LockRank : uint8_t {
    kRankUnranked = 0,  // not a rank: a mutex nobody initialised
    // gc_hooks/gcscan.cc: scan cycle start/end vs phase and hook changes.
    // Under it: nothing ranked (the phase barrier spins; hooks swap frees).
    kRankGc,
    // core/wait/chan.h, each channel. select (sellock) holds several, in
    // increasing address order. Under it: sudoglock (acquireSudog in
    // chanblock), and from selparkcommit's addtimer a P's timers lock,
    // netpoll's initlock and sched.lock (wakeNetPoller -> wakep -> startm).
    kRankHchan,
    // core/wait/sema.h, a gort_cond's waiters. Under it: sudoglock.
    kRankNotifyList,
    // core/wait/sema.cc, one of the 251 semaphore roots. Leaf.
    kRankSemaRoot,
    // core/poll/netpoll_epoll.cc, one fd's waiters. Leaf (woken Gs are
    // collected in a list and readied after the unlock).
    kRankPollDesc,
    // core/sched/runtime2.h, sched.lock. Under it: allglock (schedtrace),
    // sched.gflock, P timers locks, stackpoolmu (procresize: gfpurge,
    // timers_moveall, stackcache_clear; checkdead: timers_count).
    kRankSched,
    // core/sched/allgs.cc, appends to allgs. Leaf.
    kRankAllg,
    // core/sched/runtime2.h, sched.gflock: the global dead-G list. Leaf.
    kRankGFree,
    // core/sched/timerheap.h, each P's timer heap. Two at once only in
    // timers_moveall (the dying P's, then the survivor's; not in address
    // order), which runs under sched.lock with the world stopped.
    kRankTimers,
    // core/stack/stack_alloc.cc, the stack pools and statistics. Leaf.
    kRankStackpool,
    // core/wait/sudog.cc, the central sudog cache. Leaf.
    kRankSudog,
    // gc_hooks/forcegc.cc, the forced-GC goroutine. Leaf.
    kRankForcegc,
    // core/stack/funcinfo.cc, funcinfo registry inserts. Leaf.
    kRankFuncinfo,
    // core/poll/netpoll_epoll.cc, tablelock: pollDesc chunk allocation. Leaf.
    kRankPollTable,
    // core/poll/netpoll_epoll.cc, initlock: creating the epoll fd. Leaf.
    kRankPollInit,
    kRankCount
};

// How two locks of one rank may nest.
enum LockNest : uint8_t {
    kNestNone,        // never
    kNestAddr,        // in increasing address order
    kNestUnderSched,  // in any order, only while sched.lock is held
};

struct LockRankInfo {
    const char *name;
    LockNest nest;
};

inline constexpr LockRankInfo kLockRanks[kRankCount] = {
    {"unranked", kNestNone},
    {"gclock", kNestNone},
    {"hchan.lock", kNestAddr},
    {"notifyList.lock", kNestNone},
    {"semaRoot.lock", kNestNone},
    {"pollDesc.lock", kNestNone},
    {"sched.lock", kNestNone},
    {"allglock", kNestNone},
    {"sched.gflock", kNestNone},
    {"timers.lock", kNestUnderSched},
    {"stackpoolmu", kNestNone},
    {"sudoglock", kNestNone},
    {"forcegc_lock", kNestNone},
    {"funcinfo_lock", kNestNone},
    {"tablelock", kNestNone},
    {"initlock", kNestNone},
};

inline const char *lockrank_name(LockRank r) { return r < kRankCount ? kLockRanks[r].name : "bad rank"; }

// The switch check (core/sched/switch.cc, gogo): fatal if this thread holds
// a runtime lock. No code in release builds.
#if defined(GORT_LOCKRANK) && GORT_LOCKRANK
void lockrank_assert_none_held(const char *where);
#else
inline void lockrank_assert_none_held(const char *) {}
#endif

}  // namespace gort
