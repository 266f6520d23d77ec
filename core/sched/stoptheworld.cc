// core/sched/stoptheworld.cc - stopping and restarting every P (seed: stoptheworld,
// starttheworld, freezetheworld, and the worldsema its callers take).
//
// gcwaiting tells every M to stop at its next scheduling point (schedule,
// findrunnable -> gcstopm); preemptall asks running goroutines to reach one
// (gort_safepoint, park, gosched, syscall entry); idle Ps and Ps in system
// calls are taken directly. The caller sleeps on stopnote until the last P
// stops, re-issuing the preemption requests every 100 us in case one raced
// with a goroutine switch (seed).
//
// Departures:
//   - the caller may be a host thread without a P (gort_shutdown,
//     gort_set_maxprocs from a host thread): it has no P of its own to stop,
//     and starttheworld then leaves every P to other Ms;
//   - worldsema is a futex word, not a goroutine semaphore: a goroutine that
//     must wait for it hands its P off first (entersyscallblock), so a stop
//     in progress is never blocked by a goroutine waiting to stop the world.
#include <unistd.h>

#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/sched/runq.h"
#include "core/base/throw.h"
#include "core/sched/upcalls.h"

namespace gort {

namespace {
// worldsema: 0 free, 1 held, 2 held with possible sleepers, 3 ended: held
// for good by whoever ended the world (gort_main's return, shutdown).
constexpr uint32_t kSemaFree = 0, kSemaHeld = 1, kSemaContended = 2, kSemaEnded = 3;
atomic<uint32_t> worldsema{kSemaFree};
int32_t newprocs = 0;  // seed: newprocs; gomaxprocs for the next starttheworld (worldsema)
}  // namespace

// seed: semacquire(&worldsema). Serialises the stoppers of the world.
// False if the world has ended (gort_main returned, or shutdown): the caller
// must give up. A goroutine that gives up has re-entered the scheduler
// (exitsyscall) and, the world being stopped for good, normally never
// resumes.
bool worldsema_acquire() {
    uint32_t v = kSemaFree;
    if (worldsema.compare_exchange_strong(v, kSemaHeld, std::memory_order_acquire)) return true;
    G *g = getg();
    if (v == kSemaEnded) {
        // The world is being (or has been) stopped for good. A goroutine
        // that keeps asking must still reach a scheduling point, or that
        // stop would wait for it for ever: yield.
        if (g != nullptr && g != g->m->g0 && g->m->locks == 0 && (readgstatus(g) & ~uint32_t(Gscan)) == Grunning)
            gosched();
        return false;
    }
    bool insyscall = false;
    if (g != nullptr && g != g->m->g0 && g->m->p != nullptr && (readgstatus(g) & ~uint32_t(Gscan)) == Grunning) {
        // Do not sleep holding a P: the holder may be stopping the world.
        entersyscallblock(reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
        insyscall = true;
    }
    bool got = false;
    for (;;) {
        v = worldsema.load(std::memory_order_relaxed);
        if (v == kSemaEnded) break;
        if (v == kSemaFree) {
            if (worldsema.compare_exchange_weak(v, kSemaContended, std::memory_order_acquire)) {
                got = true;
                break;
            }
            continue;
        }
        if (v == kSemaHeld && !worldsema.compare_exchange_weak(v, kSemaContended, std::memory_order_relaxed)) continue;
        futexsleep(&worldsema, kSemaContended, -1);  // returns at once if the word changed (released, ended)
    }
    if (insyscall) exitsyscall();
    return got;
}

// seed: semrelease(&worldsema)
void worldsema_release() {
    if (worldsema.exchange(kSemaFree, std::memory_order_release) == kSemaContended) futexwakeup(&worldsema, 1);
}

// The holder ends the world: worldsema stays held until worldsema_reset, and
// every waiter (now and later) gives up instead of sleeping until shutdown.
void worldsema_end() {
    worldsema.store(kSemaEnded, std::memory_order_release);
    futexwakeup(&worldsema, 0x7fffffff);
}

// release_all: a fresh runtime starts with a free worldsema.
void worldsema_reset() { worldsema.store(kSemaFree, std::memory_order_relaxed); }

void set_newprocs(int32_t n) { newprocs = n; }

// seed: stoptheworld. Returns with every P stopped except the caller's.
// The caller holds worldsema (or is the only possible stopper: shutdown,
// gort_main's return).
void stoptheworld() {
    G *g = getg();
    M *mp = g != nullptr ? g->m : nullptr;
    // If we hold a lock, then we won't be able to stop another M that is
    // blocked trying to acquire the lock.
    if (mp != nullptr && mp->locks > 0) gothrow("stoptheworld: holding locks");
    lock(&sched.lock);
    int32_t procs = load_relaxed(gomaxprocs);
    sched.stopwait.store(procs, std::memory_order_seq_cst);
    sched.gcwaiting.store(1u, std::memory_order_seq_cst);  // StoreLoad with entersyscall's P status
    preemptall();
    // stop current P
    if (mp != nullptr && mp->p != nullptr) {
        mp->p->status.store(Pgcstop, std::memory_order_relaxed);  // Pgcstop is only diagnostic.
        sched.stopwait.fetch_sub(1, std::memory_order_seq_cst);
    }
    // try to retake all Ps in Psyscall status
    for (int32_t i = 0; i < procs; i++) {
        P *pp = allp[i];
        uint32_t s = pp->status.load(std::memory_order_seq_cst);
        if (s == Psyscall && pp->status.compare_exchange_strong(s, Pgcstop, std::memory_order_seq_cst))
            sched.stopwait.fetch_sub(1, std::memory_order_seq_cst);
    }
    // stop idle Ps
    while (P *pp = pidleget()) {
        pp->status.store(Pgcstop, std::memory_order_relaxed);
        sched.stopwait.fetch_sub(1, std::memory_order_seq_cst);
    }
    bool wait = sched.stopwait.load(std::memory_order_seq_cst) > 0;
    unlock(&sched.lock);
    // wait for remaining Ps to stop voluntarily
    if (wait) {
        for (;;) {
            // wait for 100us, then try to re-preempt in case of any races
            if (notetsleep(&sched.stopnote, 100 * 1000)) {
                noteclear(&sched.stopnote);
                break;
            }
            preemptall();
        }
    }
    lock(&sched.lock);
    if (sched.stopwait.load(std::memory_order_seq_cst) != 0) gothrow("stoptheworld: not stopped");
    for (int32_t i = 0; i < procs; i++)
        if (allp[i]->status.load(std::memory_order_relaxed) != Pgcstop) gothrow("stoptheworld: not stopped");
    unlock(&sched.lock);
}

// seed: starttheworld. Resizes to newprocs if set, then gives every P with
// work an M. From the goroutine (or host thread) that stopped the world.
void starttheworld() {
    G *g = getg();
    M *mp = g != nullptr ? g->m : nullptr;
    if (mp != nullptr) mp->locks++;  // disable preemption because it can be holding p in a local var
    if (netpollinited()) injectglist(netpoll(0));  // non-blocking
    lock(&sched.lock);
    int32_t n = newprocs != 0 ? newprocs : load_relaxed(gomaxprocs);
    newprocs = 0;
    procresize(n);
    sched.gcwaiting.store(0u, std::memory_order_seq_cst);
    // Departure: the seed stops at the first idle P without local work,
    // because procresize puts the Ps with work at the head of the idle list
    // and the caller took allp[0]. A host caller takes no P, so allp[0] may
    // come first without work: walk the whole list (at most gomaxprocs).
    P *p1 = nullptr, *keep = nullptr;
    while (P *pp = pidleget()) {
        if (runqempty(pp)) {
            pp->link = keep;
            keep = pp;
            continue;
        }
        store_rel(pp->m, mget());
        pp->link = p1;
        p1 = pp;
    }
    while (keep != nullptr) {
        P *next = keep->link;
        pidleput(keep);
        keep = next;
    }
    if (sched.sysmonwait.load(std::memory_order_seq_cst) != 0) {
        sched.sysmonwait.store(0, std::memory_order_seq_cst);
        notewakeup(&sched.sysmonnote);
    }
    unlock(&sched.lock);
    while (p1 != nullptr) {
        P *pp = p1;
        p1 = p1->link;
        M *m2 = load_relaxed(pp->m);
        if (m2 != nullptr) {
            store_relaxed(pp->m, static_cast<M *>(nullptr));
            if (m2->nextp != nullptr) gothrow("starttheworld: inconsistent mp->nextp");
            m2->nextp = pp;
            notewakeup(&m2->park);
        } else {
            // Start M to run P.
            newm(nullptr, pp);
        }
    }
    // Departure (modern Go's startTheWorld): wake an additional P if one is
    // idle. The seed's caller would find excess work in its next schedule,
    // but a host caller runs nothing, and timers need an M: the one blocked
    // in netpoll during the stop may have found no P and gone idle, leaving
    // nobody to run a timer on an idle P. The spinning M runs due timers,
    // takes queued work, or becomes the poller.
    if (load_relaxed(sched.npidle) != 0) wakep();
    if (mp != nullptr) {
        mp->locks--;
        // restore the preemption request in case we've cleared it
        if (mp->locks == 0 && g->preempt.load(std::memory_order_relaxed))
            g->stackguard0.store(kStackPreempt, std::memory_order_relaxed);
    }
}

// seed: freezetheworld. Best effort to stop every goroutine before a fatal
// error's dump: no scheduling point starts a new goroutine after this, and
// running ones are asked to stop. Never waits for them.
void freezetheworld() {
    if (load_relaxed(gomaxprocs) <= 1) return;
    // stopwait and preemption requests can be lost due to races with
    // concurrently executing threads, so try several times
    for (int i = 0; i < 5; i++) {
        // this should tell the scheduler to not start any new goroutines
        sched.stopwait.store(0x7fffffff, std::memory_order_seq_cst);
        sched.gcwaiting.store(1u, std::memory_order_seq_cst);
        // this should stop running goroutines
        if (!preemptall()) break;  // no running goroutines
        usleep(1000);
    }
    // to be sure
    usleep(1000);
    preemptall();
    usleep(1000);
}

}  // namespace gort
