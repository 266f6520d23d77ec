// core/sched/mlife.cc - the life of an M (seed: allocm, _newm, mstart, mstart1,
// stopm, startm, handoffp, wakep, mspinning, stoplockedm, startlockedm,
// gcstopm).
//
// Every M runs on a pthread of its own (m0 excepted: it is the host thread
// that called gort_main). Its g0 runs on that thread's stack: mstart records
// the top of the free part of the stack, and mcall starts g0's frames there
// every time, exactly like the seed's gosave in mstart1.
//
// Sleeping and exiting. An M without work sleeps on its note m->park, either
// on the idle list (stopm) or, locked to a waiting goroutine, in
// stoplockedm; nothing else blocks an M. So shutdown (and gort_main's return
// for m0) only has to set a flag under sched.lock and wake the sleepers; an M
// that was about to sleep checks the flag under the same lock first (mpark,
// stopm, stoplockedm). Leaving is a jump to the context mstart saved, which
// returns from mstart on the thread's own stack.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/context.h"
#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/sched/timers.h"
#include "core/sched/runq.h"
#include "core/base/sanitizers.h"
#include "core/sched/switch.h"
#include "core/base/throw.h"
#include "core/sched/upcalls.h"
#include "core/base/rtalloc.h"

namespace gort {

namespace {

constexpr std::size_t kM0StackGuess = 64 * 1024;
// g0's stack: the scheduler, dumps, and host unlockf callbacks run on it.
// TSan keeps ~900 KiB of thread state at the top of a thread's stack.
#if GORT_TSAN || GORT_ASAN
constexpr std::size_t kThreadStackSize = 4 * 1024 * 1024;
#else
constexpr std::size_t kThreadStackSize = 512 * 1024;
#endif

// Whether mp must leave its thread now. sched.lock held, or after a wakeup
// (the waker set the flag under sched.lock before notewakeup).
bool mshouldexit(M *mp) {
    if (mp->is_m0) return sched.m0_resume;
    return sched.exiting.load(std::memory_order_relaxed);
}

uint64_t cputicks() {
    return __builtin_ia32_rdtsc();
}

// seed: mcommoninit
void mcommoninit(M *mp) {
    lock(&sched.lock);
    mp->id = sched.mcount++;
    sched.deadlock_reported = false;  // a new M runs: a later deadlock is a new episode
    checkmcount();
    mp->fastrand = 0x49f6428au + uint32_t(mp->id) + uint32_t(cputicks());
    if (mp->fastrand == 0) mp->fastrand = 0x49f6428au;
    mp->alllink = load_relaxed(allm);
    store_rel(allm, mp);  // readers walk allm without the lock
    unlock(&sched.lock);
}

void *thread_start(void *arg) {
    M *mp = static_cast<M *>(arg);
    mstart(mp);
    return nullptr;
}

// seed: newosproc. Runtime threads start with every asynchronous signal
// blocked: an embedded runtime is a guest, and the host's signals must be
// delivered to the host's threads, not to ours.
//
// The thread's stack is mapped here, not by glibc, so that shutdown can
// unmap it: glibc keeps the stacks of joined threads in a cache, which would
// leave mappings behind after gort_shutdown. Its lowest page is a guard.
void newosproc(M *mp) {
    std::size_t pg = std::size_t(sysconf(_SC_PAGESIZE));
    // stacks (stack1.go): the mapping also holds the M's alternate signal
    // stack, below the thread stack: [guard][signal stack][guard][stack].
    std::size_t sigpart = pg + kSigStackSize;
    void *map = mmap(nullptr, sigpart + kThreadStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) gothrow("newosproc: cannot allocate thread stack");
    mprotect(map, pg, PROT_NONE);
    mp->thread_map_lo = reinterpret_cast<uintptr_t>(map);
    mp->sigstk = static_cast<char *>(map) + pg;
    mp->sigstk_size = kSigStackSize;
    void *stk = static_cast<char *>(map) + sigpart;
    mprotect(stk, pg, PROT_NONE);
    mp->g0->stack.lo = reinterpret_cast<uintptr_t>(stk) + pg;
    mp->g0->stack.hi = reinterpret_cast<uintptr_t>(stk) + kThreadStackSize;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stk, kThreadStackSize);
    sigset_t all, old;
    sigfillset(&all);
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) sigdelset(&all, s);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t tid;
    mp->has_thread = true;  // before the thread runs: shutdown must join it
    int err = pthread_create(&tid, &attr, thread_start, mp);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    pthread_attr_destroy(&attr);
    // Shutdown joins mp->thread. Written by the creator under sched.lock:
    // creators are Ms that shutdown waits for (they hold a P, or are sysmon
    // or gort_start) or host threads, which must not race with shutdown. (The
    // new thread cannot write it itself: sysmon's thread may not have run
    // at all when shutdown joins it.)
    if (err == 0) {
        lock(&sched.lock);
        mp->thread = static_cast<unsigned long>(tid);
        unlock(&sched.lock);
    }
    if (err != 0) {
        printstr("runtime: failed to create new OS thread (have ");
        printint(mp->id);
        printstr(" already; errno=");
        printint(err);
        printstr(")\n");
        gothrow("newosproc");
    }
}

// seed: mstart1
[[noreturn]] void mstart1(void *arg) {
    M *mp = static_cast<M *>(arg);
    if (mp->mstartfn != nullptr) mp->mstartfn();
    if (mp->is_sysmon) mexit(mp);  // sysmon returned: the runtime is exiting
    if (!mp->is_m0) {
        acquirep(mp->nextp);
        mp->nextp = nullptr;
    }
    schedule();
}

}  // namespace

// seed: checkmcount. sched.lock held.
void checkmcount() {
    if (sched.mcount > sched.maxmcount) {
        printstr("runtime: program exceeds ");
        printint(sched.maxmcount);
        printstr("-thread limit\n");
        gothrow("thread exhaustion");
    }
}

// seed: allocm. Allocate a new m unassociated with any thread. (The seed
// borrows pp for its malloc cache; gort's allocator needs no P.)
M *allocm(P *pp) {
    (void)pp;
    auto *mp = new (rtalloc(sizeof(M))) M();
    mcommoninit(mp);
    mp->g0 = new (rtalloc(sizeof(G))) G();
    mp->g0->m = mp;
    mp->g0->issystem.store(true, std::memory_order_relaxed);  // before the g0 is published
    mp->g0->goid = -1;
    return mp;
}

// seed: newsysmon. sysmon's M holds no P and is not counted by checkdead.
void newsysmon() {
    M *mp = allocm(nullptr);
    mp->is_sysmon = true;
    mp->mstartfn = sysmon;
    lock(&sched.lock);
    sched.nmsys++;
    unlock(&sched.lock);
    newosproc(mp);
}

// seed: _newm. Create a new m. It starts with fn, then the scheduler.
void newm(void (*fn)(), P *pp) {
    M *mp = allocm(pp);
    mp->nextp = pp;
    mp->mstartfn = fn;
    newosproc(mp);
}

// seed: mstart. Runs mp's scheduler on the current thread; returns only
// when the M leaves (mexit).
void mstart(M *mp) {
    G *g0 = mp->g0;
    uintptr_t sp = reinterpret_cast<uintptr_t>(gort_ctx_current_sp());
    if (g0->stack.lo == 0) {
        // m0: the host's thread and stack.
        pthread_attr_t attr;
        void *addr = nullptr;
        std::size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            pthread_attr_getstack(&attr, &addr, &size);
            pthread_attr_destroy(&attr);
        }
        if (addr == nullptr) {
            addr = reinterpret_cast<void *>(sp - kM0StackGuess);
            size = kM0StackGuess + 1024;
        }
        g0->stack.lo = reinterpret_cast<uintptr_t>(addr);
        g0->stack.hi = g0->stack.lo + size;
    }
    g0->stackguard0.store(g0->stack.lo + kStackGuard, std::memory_order_relaxed);
    // stacks: an alternate signal stack for the overflow handler (seed: minit).
    minit_sigstack(mp, mp->thread_map_lo != 0 ? mp->sigstk : nullptr, kSigStackSize);
    gtools_g0(g0);
    setg(g0);
    // Everything below this frame is g0's to reuse (seed: gosave in
    // mstart1); 256 bytes leave room for the saved frame below.
    mp->g0_top = (sp - 256) & ~uintptr_t(arch::kStackAlign - 1);
    gort_ctx_mcall(&mp->exit_sp, reinterpret_cast<void *>(mp->g0_top), mstart1, mp);
    // mexit jumped back here: the M is done.
    unminit_sigstack(mp);  // stacks (seed: unminit)
    gtools_g0_exit(g0);
    setg(nullptr);
}

void mexit(M *mp) { gogo_exit(mp); }

void mpark(M *mp) {
    notesleep(&mp->park);
    noteclear(&mp->park);
    if (mshouldexit(mp)) mexit(mp);
}

// seed: stopm. Stops execution of the current m until new work is
// available. Returns with acquired P.
void stopm() {
    M *mp = getg()->m;
    if (mp->locks != 0) gothrow("stopm holding locks");
    if (mp->p != nullptr) gothrow("stopm holding p");
    if (mp->spinning) {
        mp->spinning = false;
        xadd_full(sched.nmspinning, uint32_t(-1));
    }
    for (;;) {  // seed: retry
        lock(&sched.lock);
        if (mshouldexit(mp)) {
            unlock(&sched.lock);
            mexit(mp);
        }
        mput(mp);
        checkdead();
        unlock(&sched.lock);
        run_deadlock_hook();
        mpark(mp);
        if (mp->helpgc == 0) break;
        gchelper();  // woken by helpgc during stop-the-world: help, then sleep again
    }
    acquirep(mp->nextp);
    mp->nextp = nullptr;
}

// seed: mspinning
void mspinning() { getg()->m->spinning = true; }

// seed: startm. Schedules some M to run the p (creates an M if necessary).
// If pp == nullptr, tries to get an idle P; if there is none, does nothing.
void startm(P *pp, bool spinning) {
    lock(&sched.lock);
    if (pp == nullptr) {
        pp = sched.started ? pidleget() : nullptr;
        if (pp == nullptr) {
            unlock(&sched.lock);
            if (spinning) xadd_full(sched.nmspinning, uint32_t(-1));
            return;
        }
    }
    M *mp = mget();
    unlock(&sched.lock);
    // gort: a P leaves the idle list; if sysmon sleeps because every P was
    // idle, it must watch this one (a host thread can start work on an idle
    // runtime, and only sysmon preempts).
    if (sched.sysmonwait.load(std::memory_order_relaxed) != 0) sysmon_wake();
    if (mp == nullptr) {
        newm(spinning ? mspinning : nullptr, pp);
        return;
    }
    if (mp->spinning) gothrow("startm: m is spinning");
    if (mp->nextp != nullptr) gothrow("startm: m has p");
    mp->spinning = spinning;
    mp->nextp = pp;
    notewakeup(&mp->park);  // publishes spinning/nextp to mp
}

// seed: handoffp. Hands off P from a syscall or locked M.
void handoffp(P *pp) {
    // if it has local work, start it straight away
    if (!runqempty(pp) || load_relaxed(sched.runqsize) != 0) {
        startm(pp, false);
        return;
    }
    // no local work, check that there are no spinning/idle Ms, otherwise our
    // help is not required
    if (load_relaxed(sched.nmspinning) + load_relaxed(sched.npidle) == 0 && cas_full(sched.nmspinning, 0u, 1u)) {
        startm(pp, true);
        return;
    }
    lock(&sched.lock);
    if (load_relaxed(sched.gcwaiting) != 0) {
        pp->status.store(Pgcstop, std::memory_order_relaxed);
        if (sched.stopwait.fetch_sub(1, std::memory_order_seq_cst) == 1) notewakeup(&sched.stopnote);
        unlock(&sched.lock);
        return;
    }
    if (load_relaxed(sched.runqsize) != 0) {
        unlock(&sched.lock);
        startm(pp, false);
        return;
    }
    // If this is the last running P and nobody is polling network, need to
    // wakeup another M to poll network. (Departure: only once the poller
    // exists; before that there is nothing to poll and no timer.)
    if (netpollinited() && load_relaxed(sched.npidle) == uint32_t(load_relaxed(gomaxprocs) - 1) &&
        sched.lastpoll.load(std::memory_order_seq_cst) != 0) {
        unlock(&sched.lock);
        startm(pp, false);
        return;
    }
    // Modern Go: the P goes idle with its timers; make sure somebody wakes
    // for the first of them.
    int64_t when = timers_wakeTime(pp->timers);
    pidleput(pp);
    unlock(&sched.lock);
    if (when != 0) wakeNetPoller(when);
}

// seed: wakep. Tries to add one more P to execute Gs. Called when a G is
// made runnable (newproc, ready).
void wakep() {
    // be conservative about spinning threads
    if (!cas_full(sched.nmspinning, 0u, 1u)) return;
    startm(nullptr, true);
}

// seed: incidlelocked
void incidlelocked(int32_t v) {
    lock(&sched.lock);
    sched.nmidlelocked += v;
    if (v < 0) sched.deadlock_reported = false;  // an M runs again (startlockedm, retake)
    if (v > 0) checkdead();
    unlock(&sched.lock);
    if (v > 0) run_deadlock_hook();
}

namespace {

// lockedsleep tells shutdown (and gort_main's return) which Ms sleep in
// stoplockedm. Only the sleeper sets and clears it, under sched.lock: a
// waker's startlockedm may run before the sleeper has even announced itself
// (the seed's nmidlelocked goes transiently negative the same way), so a
// flag cleared by the waker could be left set by a late sleeper.
bool set_lockedsleep(M *mp, bool v) {
    lock(&sched.lock);
    mp->lockedsleep = v;
    bool exit = v && mshouldexit(mp);
    if (exit) mp->lockedsleep = false;
    unlock(&sched.lock);
    return exit;
}
}  // namespace

// seed: stoplockedm. Stops execution of the current m that is locked to a
// g until the g is runnable again. Returns with acquired P.
void stoplockedm() {
    M *mp = getg()->m;
    if (mp->lockedg == nullptr || mp->lockedg->lockedm != mp) gothrow("stoplockedm: inconsistent locking");
    if (mp->p != nullptr) {
        // Schedule another M to run this p.
        P *pp = releasep();
        handoffp(pp);
    }
    incidlelocked(1);
    if (set_lockedsleep(mp, true)) mexit(mp);
    // Wait until another thread schedules lockedg again.
    mpark(mp);
    set_lockedsleep(mp, false);
    uint32_t status = readgstatus(mp->lockedg);
    if ((status & ~uint32_t(Gscan)) != Grunnable) {
        printstr("runtime:stoplockedm: g is not Grunnable or Gscanrunnable\n");
        dumpgstatus(mp->lockedg);
        gothrow("stoplockedm: not runnable");
    }
    acquirep(mp->nextp);
    mp->nextp = nullptr;
}

// seed: startlockedm. Schedules the locked m to run the locked gp.
void startlockedm(G *gp) {
    M *self = getg()->m;
    M *mp = gp->lockedm;
    if (mp == self) gothrow("startlockedm: locked to me");
    if (mp->nextp != nullptr) gothrow("startlockedm: m has p");
    // directly handoff current P to the locked m
    incidlelocked(-1);
    P *pp = releasep();
    mp->nextp = pp;
    notewakeup(&mp->park);
    stopm();
}

// seed: gcstopm. Stops the current m for stoptheworld. Returns when the
// world is restarted.
void gcstopm() {
    M *mp = getg()->m;
    if (load_relaxed(sched.gcwaiting) == 0) gothrow("gcstopm: not waiting for gc");
    if (mp->spinning) {
        mp->spinning = false;
        xadd_full(sched.nmspinning, uint32_t(-1));
    }
    P *pp = releasep();
    lock(&sched.lock);
    pp->status.store(Pgcstop, std::memory_order_relaxed);
    if (sched.stopwait.fetch_sub(1, std::memory_order_seq_cst) == 1) notewakeup(&sched.stopnote);
    unlock(&sched.lock);
    stopm();
}

}  // namespace gort
