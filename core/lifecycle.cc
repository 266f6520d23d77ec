// core/lifecycle.cc - life cycle of the runtime (seed: schedinit, the main
// goroutine's exit; shutdown is gort's own).
//
// Shutdown protocol. The world is stopped first (stoptheworld: every running
// goroutine finishes its slice at its next scheduling point and every P ends
// up Pgcstop), so no M holds a P or runs a goroutine. Then, under sched.lock,
// sched.exiting is set and every sleeping M is woken (the idle list and the
// Ms asleep in stoplockedm); an M on its way to sleep sees the flag under the
// same lock. Each M jumps back to mstart and its thread returns; shutdown
// joins them all, then frees every G, stack span, M and P. Nothing runs while
// the memory is freed, so no lock is needed for that part.
//
// gort_main's return is the same stop, done by the main goroutine itself
// (seed: main's exit), followed by a handover to m0: the M running the main
// goroutine sets sched.m0_resume and wakes m0, which jumps back to the
// context mstart saved and so returns from gort_main on the host's thread.
#include "core/lifecycle.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "capi/include/gort/gort.h"
#include "core/base/atomics.h"
#include "core/wait/chan.h"
#include "gc_hooks/forcegc.h"
#include "gc_hooks/gcscan.h"
#include "gc_hooks/gcwork.h"
#include "core/sched/gstatus.h"
#include "core/poll/netpoll.h"
#include "core/sched/proc.h"
#include "core/thread/thread.h"
#include "core/sched/runq.h"
#include "core/stack/mstack.h"
#include "core/wait/sema.h"
#include "core/diag/sigquit.h"
#include "core/stack/stack_alloc.h"
#include "core/sched/switch.h"
#include "core/base/throw.h"
#include "core/base/debugvars.h"
#include "core/base/os.h"
#include "core/base/rtalloc.h"

namespace gort {

extern void (*main_goroutine_fn)(void *);

namespace {

atomic<int> state{int(RtState::Uninit)};
void (*mainfn)(void *) = nullptr;
G *main_g = nullptr;  // gort_main's main goroutine (written before it runs)
void *mainarg = nullptr;

bool cas_state(RtState from, RtState to) {
    int f = int(from);
    return state.compare_exchange_strong(f, int(to), std::memory_order_acq_rel);
}

// Parses a positive decimal; false if malformed.
// seed: main's epilogue, on g0 of whichever M ran the main goroutine.
void mainexit0(G *gp) {
    M *mp = getg()->m;
    casgstatus(gp, Grunning, Gdead);
    gp->lockedm = nullptr;
    mp->lockedg = nullptr;
    mp->locked = 0;
    dropg();
    // The world is stopped: this M's P is Pgcstop; detach it.
    P *pp = mp->p;
    gfput(pp, gp);
    mp->p = nullptr;
    store_relaxed(pp->m, static_cast<M *>(nullptr));
    lock(&sched.lock);
    sched.m0_resume = true;
    if (mp->is_m0) {
        unlock(&sched.lock);
        mexit(mp);  // returns from gort_main
    }
    M *m0 = sched.m0;
    // Wake m0 wherever it sleeps. If it is on neither list it is on its way
    // to sleep and will see m0_resume under sched.lock (stopm, stoplockedm).
    for (M **pm = &sched.midle; *pm != nullptr; pm = &(*pm)->schedlink) {
        if (*pm == m0) {
            *pm = m0->schedlink;
            store_relaxed(sched.nmidle, load_relaxed(sched.nmidle) - 1);
            notewakeup(&m0->park);
            m0 = nullptr;
            break;
        }
    }
    if (m0 != nullptr && m0->lockedsleep) {
        m0->lockedsleep = false;
        notewakeup(&m0->park);
    }
    unlock(&sched.lock);
    netpoll_wake_for_exit();  // m0 may be the M blocked in netpoll
    stopm();  // until shutdown; never acquires a P again
    gothrow("mainexit0: M woken after main returned");
}

// The main goroutine (seed: runtime.main).
void runtime_main(void *) {
    mainfn(mainarg);
    // Like a Go program's exit: other goroutines do not run again. They
    // stop at their next scheduling point; shutdown frees them. Nobody
    // restarts this world: worldsema ends with it (shutdown resets it).
    if (!worldsema_acquire()) gothrow("runtime_main: world ended twice");
    worldsema_end();
    stoptheworld();
    mcall(mainexit0, /*dying=*/true);
}

void freeg(G *gp) {
    gp->magic = 0;  // a stale handle must not look valid to gort_ready later
    mstack_release(gp);  // stacks: its roots array (the stack memory goes with the arenas)
    gtools_destroy(gp);
    gp->~G();
    rtfree(gp);
}

// Frees every G, M, P and stack; resets sched. Nothing else runs.
void release_all() {
    allgs_free(freeg);
    M *mp = load_relaxed(allm);
    while (mp != nullptr) {
        M *next = mp->alllink;
        mp->g0->~G();
        rtfree(mp->g0);
        mp->~M();
        rtfree(mp);
        mp = next;
    }
    store_relaxed(allm, static_cast<M *>(nullptr));
    // Channels and semaphores: the goroutines waiting on them are gone.
    sudog_release_all();
    sema_reset();
    chan_epoch.fetch_add(1, std::memory_order_release);  // old channels can only be freed
    for (P *&pp : allp) {
        if (pp != nullptr) {
            pp->~P();
            rtfree(pp);
            pp = nullptr;
        }
    }
    netpoll_release();  // before rtalloc_release: frees its pollDesc table
    stack_release_all();
    mstack_release_all();  // stacks: funcinfo registry, maxstacksize
    gc_hooks_release();    // GC hooks: hooks, phase
    gcscan_release();
    forcegc_release();
    rtalloc_release();
    store_relaxed(gomaxprocs, 0);
    sched.~SchedT();
    new (&sched) SchedT();
    store_relaxed(foreign_created, uint64_t(0));
    set_deadlock_hook(nullptr, nullptr);
    worldsema_reset();  // ended by shutdown or by gort_main's return
    mainfn = nullptr;
    mainarg = nullptr;
    main_g = nullptr;
}

// Joins mp's thread (if it has one) and unmaps the stack newosproc made.
void join_m(M *mp) {
    if (!mp->has_thread) return;
    if (mp->thread == 0 || pthread_join(static_cast<pthread_t>(mp->thread), nullptr) != 0)
        gothrow("shutdown: cannot join an M's thread");
    mp->has_thread = false;
    // The thread's mapping (newosproc): its signal stack and stack.
    uintptr_t base = mp->thread_map_lo;  // stacks: was g0's stack.lo - one guard page
    munmap(reinterpret_cast<void *>(base), mp->g0->stack.hi - base);
}

// Makes every runtime M leave its thread and joins them. World stopped.
void exit_all_ms() {
    lock(&sched.lock);
    sched.exiting.store(true, std::memory_order_relaxed);
    while (M *mp = mget()) notewakeup(&mp->park);
    if (sched.sysmonwait.load(std::memory_order_seq_cst) != 0) {
        sched.sysmonwait.store(0, std::memory_order_seq_cst);
        notewakeup(&sched.sysmonnote);
    }
    for (M *mp = load_relaxed(allm); mp != nullptr; mp = mp->alllink) {
        if (mp->lockedsleep) {
            mp->lockedsleep = false;
            notewakeup(&mp->park);
        }
    }
    unlock(&sched.lock);
    netpoll_wake_for_exit();  // the M blocked in netpoll, if any, is on no list
    // sysmon first: it is the one M that keeps running while the world is
    // stopped, and it may be creating an M (retake -> handoffp -> startm)
    // whose thread id it has not yet recorded. Once it has left, every
    // creator has (host threads must not race with shutdown).
    for (M *mp = load_acq(allm); mp != nullptr; mp = mp->alllink)
        if (mp->is_sysmon) join_m(mp);
    for (M *mp = load_acq(allm); mp != nullptr; mp = mp->alllink) join_m(mp);
    extram_shutdown();  // calls from foreign threads have left their Ms
}

}  // namespace

bool is_main_goroutine(const void *gp) { return gp != nullptr && gp == main_g; }

RtState rtstate() { return RtState(state.load(std::memory_order_acquire)); }

// seed: schedinit (the parts gort has).
int rt_init(const RtConfig &cfg) {
    if (!cas_state(RtState::Uninit, RtState::Initializing)) return GORT_EBUSY;
    DebugVars dv;
    if (cfg.debug != nullptr) {
        if (!parse_debug(cfg.debug, &dv)) {
            state.store(int(RtState::Uninit), std::memory_order_release);
            return GORT_EINVAL;
        }
    } else if (!parse_debug(std::getenv("GORT_DEBUG"), &dv)) {
        dv = DebugVars{};  // a malformed GORT_DEBUG is ignored, like GODEBUG
    }
    int procs = cfg.maxprocs;
    if (procs == 0) {
        int64_t n = 0;
        const char *e = std::getenv("GORT_MAXPROCS");
        if (e != nullptr && parse_int(e, std::strlen(e), &n) && n > 0)
            procs = n > kMaxGomaxprocs ? kMaxGomaxprocs : int(n);
        else
            procs = ncpu();
        if (procs > kMaxGomaxprocs) procs = kMaxGomaxprocs;
    }
    std::size_t stk = cfg.stack_size;
    if (stk == 0) {
        int64_t n = 0;
        const char *e = std::getenv("GORT_STACKSIZE");
        if (e != nullptr && parse_int(e, std::strlen(e), &n) && n >= int64_t(kMinStackSize) &&
            stack_roundsize(std::size_t(n)) != 0)
            stk = stack_roundsize(std::size_t(n));
        else
            stk = kDefaultStackSize;
    }
    debug = dv;
    install_atfork();
    stackinit();  // stacks (seed: schedinit's stackinit)
    default_stack_size = stk;
    sched.maxmcount = cfg.max_threads > 0 ? cfg.max_threads : 10000;
    lock(&sched.lock);
    procresize(int32_t(procs));
    sched.lastpoll.store(nanotime(), std::memory_order_seq_cst);  // seed: schedinit
    unlock(&sched.lock);
    sigquit_install();  // GORT_DEBUG=sigquit=1 only
    state.store(int(RtState::Init), std::memory_order_release);
    return GORT_OK;
}

int rt_main(void (*fn)(void *), void *arg) {
    // gort_set_maxprocs from a host thread must not resize the Ps while m0
    // takes one: hold worldsema until the main goroutine exists.
    if (!worldsema_acquire()) return GORT_ESTATE;
    if (!cas_state(RtState::Init, RtState::RunningMain)) {
        worldsema_release();
        return GORT_ESTATE;
    }
    mainfn = fn;
    mainarg = arg;
    main_goroutine_fn = runtime_main;
    M *m0 = allocm(nullptr);
    m0->is_m0 = true;
    setg(m0->g0);
    lock(&sched.lock);
    sched.m0 = m0;
    sched.started = true;
    P *pp = pidleget();
    unlock(&sched.lock);
    acquirep(pp);
    main_g = newproc1(runtime_main, nullptr, 0, 0, false);
    if (main_g == nullptr) gothrow("out of memory (the main goroutine's stack)");
    newsysmon();
    worldsema_release();
    // Goroutines queued from host threads before gort_main need Ms too.
    if (load_relaxed(sched.runqsize) != 0) wakep();
    mstart(m0);  // returns once the main goroutine has returned
    setg(nullptr);
    state.store(int(RtState::Stopped), std::memory_order_release);
    return GORT_OK;
}

int rt_start() {
    // gort_set_maxprocs in the Init state must not race with the start.
    if (!worldsema_acquire()) return GORT_ESTATE;
    if (!cas_state(RtState::Init, RtState::Running)) {
        worldsema_release();
        return GORT_ESTATE;
    }
    lock(&sched.lock);
    sched.started = true;
    int32_t n = load_relaxed(sched.runqsize);
    unlock(&sched.lock);
    newsysmon();
    // Goroutines queued before the start: one M each, up to the idle Ps
    // (as injectglist).
    for (; n != 0 && load_relaxed(sched.npidle) != 0; n--) startm(nullptr, false);
    worldsema_release();
    return GORT_OK;
}

int rt_shutdown() {
    // The child of a fork has none of the runtime's threads to stop or join.
    if (sched.forked_child.load(std::memory_order_relaxed)) return GORT_ESTATE;
    RtState s = rtstate();
    if (s == RtState::RunningMain) {
        return GORT_EBUSY;  // gort_main owns the runtime until it returns
    } else if (s == RtState::Running) {
        if (!cas_state(RtState::Running, RtState::ShuttingDown)) return GORT_ESTATE;
        // A goroutine may be stopping the world itself: wait for it, then
        // end the world so that later stoppers give up instead of waiting.
        if (!worldsema_acquire()) gothrow("rt_shutdown: world ended twice");
        worldsema_end();
        stoptheworld();  // from this host thread: waits for every P to stop
    } else if (s == RtState::Init) {
        if (!cas_state(s, RtState::ShuttingDown)) return GORT_ESTATE;
        if (!worldsema_acquire()) return GORT_ESTATE;
        worldsema_end();
    } else if (s == RtState::Stopped) {
        if (!cas_state(s, RtState::ShuttingDown)) return GORT_ESTATE;
    } else {
        return GORT_ENOTINIT;
    }
    sigquit_remove();  // before anything its dump reads is freed
    exit_all_ms();
    release_all();
    state.store(int(RtState::Uninit), std::memory_order_release);
    return GORT_OK;
}

}  // namespace gort
