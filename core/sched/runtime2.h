// core/sched/runtime2.h - G, M, P and sched: the scheduler's data (seed:
// runtime2.go as used by proc1.go).
//
// Who protects what is written beside each field. "owner" means the M that
// currently holds the P (for P fields) or runs the G (for G fields); such
// fields are read by other threads only for statistics and dumps, through
// relaxed atomics.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/base/atomics.h"
#include "core/base/lock_futex.h"
#include "core/sched/timerheap.h"

namespace gort {

struct G;
struct M;
struct P;
struct sudog;  // core/wait/sudog.h

// ---- goroutine status (seed: _Gidle ... _Gscanenqueue) ----
// The values are pinned: debuggers and the Python binding read them.
enum : uint32_t {
    // Gidle: just allocated, not yet initialised. Not on allgs' live set.
    Gidle = 0,
    // Grunnable: on a run queue (local, global, or a handoff list); owns its
    // stack but runs no code; no M.
    Grunnable = 1,
    // Grunning: executing on an M that holds a P; owns its stack; not on a
    // run queue.
    Grunning = 2,
    // Gsyscall: executing host code outside the scheduler (runtime issue);
    // owns its stack; has an M but not necessarily a P.
    Gsyscall = 3,
    // Gwaiting: parked; not on a run queue; its stack may be scanned (or
    // copied, for managed stacks) by others. gort_ready makes it Grunnable.
    Gwaiting = 4,
    // Gmoribund_unused = 5 in the seed: unused, value kept free.
    // Gdead: exited or never started; on a gfree list or being set up.
    Gdead = 6,
    // Genqueue = 7 in the seed: unused there too.
    // Gcopystack: its managed stack is being moved; not on a run queue.
    Gcopystack = 8,
    // The scan bit: whoever set it owns the g's stack until they clear it.
    Gscan = 0x1000,
    Gscanrunnable = Gscan + Grunnable,
    Gscanrunning = Gscan + Grunning,
    Gscansyscall = Gscan + Gsyscall,
    Gscanwaiting = Gscan + Gwaiting,
    // Gscanenqueue: a running g asked to be put back on a run queue once its
    // own scan is done (seed: restartg).
    Gscanenqueue = Gscan + 7,
};

// ---- P status (seed: _Pidle ...) ----
enum : uint32_t {
    Pidle = 0,
    Prunning = 1,
    Psyscall = 2,
    Pgcstop = 3,
    Pdead = 4,
};

// m->locked bits (seed: _LockExternal, _LockInternal).
enum : uint32_t { LockExternal = 1, LockInternal = 2 };

inline constexpr int kMaxGomaxprocs = 256;   // seed: _MaxGomaxprocs
inline constexpr int kRunqSize = 256;        // seed: len(p.runq)
inline constexpr int kGoidCacheBatch = 16;   // seed: _GoidCacheBatch
inline constexpr size_t kMaxArgSize = 1024;  // gort_go argument bytes
// seed: stackPreempt. Stored in stackguard0 to ask a goroutine to yield at its
// next safe point (the runtime issue wires the safe points).
inline constexpr uintptr_t kStackPreempt = uintptr_t(-1314);
// seed: _StackGuard. stackguard0 = stack.lo + kStackGuard when not preempting.
inline constexpr uintptr_t kStackGuard = 640;
inline constexpr uint64_t kGMagic = 0x676f72745f675f31ull;  // "gort_g_1": gort_ready sanity check

struct Stack {
    uintptr_t lo = 0, hi = 0;  // [lo, hi)
};

// seed: _NumStackOrders, stackfreelist (p.stackcache; core/stack/stack_alloc.h).
// Orders 2 KiB .. 64 KiB: gort's default execution stack is 64 KiB.
inline constexpr int kNumStackOrders = 6;
struct StackFreeList {
    uintptr_t list = 0;  // first free stack (its base); link in the stack itself
    uintptr_t size = 0;  // total bytes of the stacks on the list
};

using unlockf_t = int (*)(G *gp, void *lock);

// G is a goroutine (seed: type g).
struct alignas(64) G {
    uint64_t magic = kGMagic;
    // Saved context (seed: g.sched): the sp of the suspended saved frame
    // (arch/context.h). Written by the owner when it switches out, read by
    // the M that resumes it; the run queue handoff orders the two.
    void *sched_sp = nullptr;
    Stack stack;                     // written by malg/gfget/gfput while Gdead
    atomic<uintptr_t> stackguard0{0};  // stack.lo + guard, or kStackPreempt
    atomic<uint32_t> atomicstatus{Gidle};  // only through gstatus.h
    int64_t goid = 0;               // set while Gdead, read anywhere after
    M *m = nullptr;                 // owner M while running or in a syscall (seed: g.m)
    M *lockedm = nullptr;           // owner; read by schedule on other Ms after a run-queue handoff
    G *schedlink = nullptr;         // protected by whichever queue holds the g
    atomic<bool> preempt{false};       // seed: g.preempt
    // GC scan protocol (gc_hooks/gcscan.h). preemptscan: a scan is asked of
    // the running g at its next safe point. gcworkdone: the cycle (gcepoch)
    // in which g was last scanned or found dead; "done" is equality with the
    // current cycle (gcworkdone() in gcscan.h). Set under the scan bit.
    atomic<bool> preemptscan{false};   // seed: g.preemptscan
    atomic<uint32_t> gcworkdone{0};    // seed: g.gcworkdone (a bool there)
    // Who holds the claim of gort_stopg (0: none or an internal claim).
    atomic<uintptr_t> gcscanowner{0};
    // Not counted by checkdead/numgoroutine (g0s, the forcegc goroutine).
    // Written before the g is published (Gdead -> Grunnable), read anywhere.
    atomic<bool> issystem{false};
    bool lock_on_start = false;     // gort_go_opts.lock_os_thread
    const char *waitreason = nullptr;  // owner while parking; dumps read it racily
    void *param = nullptr;          // seed: g.param
    void *local = nullptr;          // goroutine-local slot (gort_set_local); owner only
    int64_t waitsince = 0;          // seed: g.waitsince
    // Entry point (seed: the funcval gostartcallfn installs).
    void (*startfn)(void *) = nullptr;
    void *startarg = nullptr;
    // Sanitizer/tool state for this g's stack (core/sched/switch.h).
    void *tsan_fiber = nullptr;
    void *asan_fake_stack = nullptr;
    unsigned valgrind_stack_id = 0;
    uint32_t stack_order_size = 0;  // size class of stack (stack_alloc), 0 if not from the pool
    // ---- runtime (proc1.go: syscalls, pinning, foreign threads) ----
    // seed: g.syscallsp. While Gsyscall: the caller's sp at gort_entersyscall;
    // [syscallsp, stack.hi) holds the goroutine's frames (GC scans, dumps).
    uintptr_t syscallsp = 0;
    bool pinned = false;            // gort_proc_pin (owner)
    bool isextra = false;           // the goroutine of an extra M (foreign thread)
    // Channel waits whose element lives on this g's managed stack (sudog.h):
    // while > 0 the stack is not shrunk. Owner writes before it parks;
    // the shrinker reads after claiming the parked g.
    atomic<int32_t> mstack_chan_elems{0};
    // ---- channels (core/wait/select.cc; modern Go's g.selectDone) ----
    // (generation << 1) | done. A select in progress stores a new generation
    // with done clear before it enqueues its sudogs; whoever wakes it (a
    // channel operation, close, or its timeout timer) must first CAS done
    // from 0 to 1. The generation lets a late timer of an earlier select
    // lose the CAS.
    atomic<uint64_t> selectdone{0};
    // Parked by the runtime itself (gort_sleep, gort_poll_fd): only the
    // runtime may wake it, so gort_ready refuses it. Set by the owner before
    // it parks, cleared by it once resumed; read by gort_ready.
    atomic<bool> rtpark{false};
    // ---- stacks (stack1.go) ----
    // Canary of an unguarded execution stack (core/stack/stack_alloc.h): address of
    // its words, 0 when a guard page protects the stack. Written with stack.
    uintptr_t stackcanary = 0;
    // The managed stack (core/stack/mstack.h). Written by the owner while it runs,
    // or by whoever holds gp in Gcopystack; mstack.lo == 0: none yet.
    Stack mstack;
    uintptr_t msp = 0;         // lowest byte in use (seed: sched.sp of a Go stack)
    void *mframe = nullptr;    // innermost frame's header, nullptr if none
    // Registered roots (gort_mstack_root_add): slots outside the managed
    // stack that may point into it (seed: ctxt, defers, panics, sudogs).
    void ***mroots = nullptr;
    uint32_t nmroots = 0, capmroots = 0;
    int last_error = 0;        // gort_last_error in this goroutine
};

// M is an OS thread (seed: type m).
struct alignas(64) M {
    G *g0 = nullptr;                // scheduling stack
    // Current running goroutine. Written by the owner; read by sysmon
    // (preemptone) and dumps, hence atomic (relaxed: a stale value only
    // misdirects a best-effort preemption request, as in the seed).
    atomic<G *> curg{nullptr};
    P *p = nullptr;                 // attached P (owner)
    P *nextp = nullptr;             // handed over by the waker before notewakeup(park)
    int64_t id = 0;
    int32_t locks = 0;              // runtime locks held, preemption disabled (owner)
    bool spinning = false;          // looking for work (owner; set by startm before wakeup)
    bool lockedsleep = false;       // asleep in stoplockedm (sched.lock)
    note park;                      // sleeps here when idle
    G *lockedg = nullptr;           // seed: m.lockedg (owner)
    uint32_t locked = 0;            // seed: m.locked, LockExternal | n*LockInternal
    uint32_t fastrand = 0;
    void (*mstartfn)() = nullptr;   // run first by mstart1 (seed: m.mstartfn)
    unlockf_t waitunlockf = nullptr;  // park -> park_m
    void (*mcallfn)(G *) = nullptr;   // mcall -> its trampoline on g0
    void *waitlock = nullptr;
    // gort_park's host unlockf and its lock (capi/lifecycle.cc), owner M
    // only: set by the parking goroutine, read by park_m on this M's g0.
    // Stored as a generic function pointer; capi casts it back to
    // gort_unlockf before calling it, so it is called through its own type.
    void (*waithostfn)() = nullptr;
    void *waithostlock = nullptr;
    M *alllink = nullptr;           // on allm (sched.lock to add; never removed until shutdown)
    M *schedlink = nullptr;         // on sched.midle (sched.lock)
    // Thread and stack of g0 (core/mstart).
    uintptr_t g0_top = 0;           // where mcall starts g0's frames
    void *exit_sp = nullptr;        // saved context that returns from mstart
    unsigned long thread = 0;       // pthread_t, written by the thread itself (thread_start); 0 for m0
    bool has_thread = false;        // created by newosproc (set before pthread_create): joined at shutdown
    bool is_m0 = false;
    // TSan fibers (core/sched/switch.cc): the thread's own, and g0's next one.
    void *tsan_thread_fiber = nullptr;
    void *tsan_next_fiber = nullptr;
    // ---- runtime (proc1.go: sysmon, foreign threads) ----
    bool is_sysmon = false;         // the sysmon M: never holds a P
    bool is_extra = false;          // an extra M for foreign threads (seed: needm)
    void (*cgo_fn)(void *) = nullptr;  // extra M: the call gort_call_as_goroutine runs
    void *cgo_arg = nullptr;
    bool cgo_done = false;          // extra M: cgo_fn returned (not abandoned by shutdown)
    // seed: m.helpgc. Set (with the job, gc_hooks/helpgc.cc) by the holder of
    // the stopped world before it wakes this idle M; stopm runs gchelper.
    int32_t helpgc = 0;
    // ---- stacks (stack1.go) ----
    // Alternate signal stack for the stack-overflow handler (seed: minit,
    // m.gsignal; core/stack/stack_guard.cc). The thread's mapping (newosproc)
    // starts at thread_map_lo and also holds it; 0 for m0.
    uintptr_t thread_map_lo = 0;
    void *sigstk = nullptr;       // our sigaltstack, nullptr if the thread had one
    std::size_t sigstk_size = 0;
    bool sigstk_mapped = false;   // sigstk was mapped by minit_sigstack (m0) and is unmapped by it
};

// P is a processor (seed: type p).
struct alignas(64) P {
    int32_t id = 0;
    atomic<uint32_t> status{Pidle};  // seed: p.status (Psyscall CAS by sysmon, runtime issue)
    P *link = nullptr;                    // on sched.pidle (sched.lock)
    // owner; incremented on every execute not inheriting a slice, and on
    // the P's first (proc.cc, execute): 0 only before the P's first execute.
    atomic<uint32_t> schedtick{0};
    // Set by preemptone (sysmon, preemptall): this P's time slice is over.
    // schedule() reads and clears it: a runnext goroutine does not inherit
    // the slice then (see runq.h, "runnext"). Relaxed: a late view only
    // delays the end of a slice by one schedule.
    atomic<bool> preempt{false};
    atomic<uint32_t> syscalltick{0}; // owner
    // Back-link to the associated M (nil if idle or in a syscall). Written by
    // the owner; read by sysmon (preemptone), hence atomic, relaxed.
    atomic<M *> m{nullptr};
    // Local run queue, accessed without lock (seed: runqhead/runqtail/runq).
    // runqhead: consumers CAS it (cas_rel), producers load_acq it.
    // runqtail: only the owner stores it (store_rel), thieves load_acq it.
    // The slots are atomics read relaxed: the seed reads them before the CAS
    // that commits the consume, which is a data race in C++'s model.
    alignas(64) atomic<uint32_t> runqhead{0};
    alignas(64) atomic<uint32_t> runqtail{0};
    // runnext (modern Go, 1.5+; not in the seed): a G readied by the running
    // goroutine, run before runq. Only the owner makes it non-null (exchange);
    // the owner and thieves take it with a CAS to null. See runq.h.
    atomic<G *> runnext{nullptr};
    atomic<G *> runq[kRunqSize];
    // Free Gs with a standard stack (seed: p.gfree/gfreecnt); owner only,
    // gfreecnt also read by gcount.
    G *gfree = nullptr;
    atomic<int32_t> gfreecnt{0};
    // goid cache (seed: p.goidcache/goidcacheend); owner only.
    uint64_t goidcache = 0, goidcacheend = 0;
    // Statistics (owner writes, anyone reads).
    atomic<uint64_t> ncreated{0}, nswitch{0}, nsteal{0};
    // Free sudogs (core/wait/sudog.cc, seed-era acquireSudog's cache); owner only.
    static constexpr int kSudogCache = 128;
    int32_t nsudogcache = 0;
    sudog *sudogcache[kSudogCache] = {};
    // Timers of this P (core/sched/timers.h): own lock; other Ms run them too.
    TimerHeap timers;
    // ---- stacks (stack1.go) ----
    // seed: mcache.stackcache, per kind of stack (execution, managed) and
    // order. Owner only, on g0 or with m->locks held (core/stack/stack_alloc.h).
    StackFreeList stackcache[2][kNumStackOrders];
};

// seed-era timers.h's checkTimers: no call while pp has no timers.
inline int64_t checkTimers(P *pp, int64_t now, bool *ran) {
    if (timers_wakeTime(pp->timers) == 0) return 0;
    return checkTimers_run(pp, now, ran);
}

// sched (seed: schedt).
struct SchedT {
    mutex lock{kRankSched};
    atomic<uint64_t> goidgen{0};
    M *midle = nullptr;             // idle Ms waiting for work (lock)
    atomic<int32_t> nmidle{0};        // lock to write
    int32_t nmidlelocked = 0;       // locked Ms waiting for work (lock)
    int32_t mcount = 0;             // Ms created (lock)
    int32_t maxmcount = 10000;      // lock
    P *pidle = nullptr;             // idle Ps (lock)
    atomic<uint32_t> npidle{0};       // lock to write; seq_cst RMW (see findrunnable)
    atomic<uint32_t> nmspinning{0};
    // Global run queue (lock). runqsize is read without lock as a hint.
    G *runqhead = nullptr, *runqtail = nullptr;
    atomic<int32_t> runqsize{0};
    // Global cache of dead Gs (gflock).
    mutex gflock{kRankGFree};
    G *gfree = nullptr;
    atomic<int32_t> ngfree{0};
    // Stop the world (lock, gcwaiting read without).
    atomic<uint32_t> gcwaiting{0};
    // stopwait: written under lock; read without it by exitsyscallfast
    // (freezetheworld sets it without the lock, as the seed does).
    atomic<int32_t> stopwait{0};
    note stopnote;
    // sysmon (core/sched/sysmon.cc). sysmonwait: sysmon sleeps deeply on
    // sysmonnote (lock to write; read without it on the syscall path).
    atomic<uint32_t> sysmonwait{0};
    note sysmonnote;
    int32_t nmsys = 0;              // system Ms not counted by checkdead (sysmon) (lock)
    // Foreign threads (core/thread/extram.cc): extra Ms not bound to a thread are
    // not counted by checkdead either (lock).
    int32_t nmextraidle = 0;
    // System goroutines (the forcegc goroutine): not counted by gcount.
    atomic<int32_t> nsysg{0};
    atomic<bool> deadlock_pending{false};  // checkdead found one; the hook runs after unlock (lock to set)
    bool deadlock_reported = false; // the hook ran for this episode; mget clears it (lock)
    atomic<bool> forked_child{false};  // this process is the child of a fork
    // Life cycle (core/lifecycle.cc): written under lock.
    bool started = false;           // Ms may be created
    atomic<bool> exiting{false};      // every runtime M leaves its thread
    bool m0_resume = false;         // m0 returns to the host (gort_main done)
    M *m0 = nullptr;
    // Network poller (core/poll/netpoll.h). lastpoll: nanotime of the last
    // network poll, 0 while an M blocks in netpoll (at most one does;
    // seed: sched.lastpoll). pollUntil: when that blocked poll ends (0: for
    // ever or not known yet; modern Go's sched.pollUntil). Both seq_cst.
    atomic<int64_t> lastpoll{0};
    atomic<int64_t> pollUntil{0};
};

extern SchedT sched;
extern atomic<int32_t> gomaxprocs;
extern P *allp[kMaxGomaxprocs + 1];   // allp[i] written only with the world stopped (or at init)
extern atomic<M *> allm;

// allgs (seed: allgs/allglen under allglock).
extern mutex allglock;
void allgadd(G *gp);
std::size_t allglen();
G *allg_at(std::size_t i);  // any thread; nullptr past the end
void allgs_free(void (*freeg)(G *));  // shutdown only

// Current goroutine of this thread (TLS across migration, docs/DESIGN.md §3.7): a
// goroutine can resume on another thread after any switch, and the compiler
// may cache a thread_local's address in a register across a call, so the
// runtime reads it only through this non-inlined accessor, which also acts
// as a compiler barrier. NULL on host threads.
[[gnu::noinline]] G *getg();
[[gnu::noinline]] void setg(G *gp);

}  // namespace gort
