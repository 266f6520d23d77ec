// core/sched/checkdead.cc - deadlock detection (seed: checkdead).
//
// Called under sched.lock whenever an M goes idle (stopm) or locked-idle
// (incidlelocked). The seed's accounting: an M is running unless it is on
// the idle list (nmidle), asleep locked to a waiting goroutine
// (nmidlelocked), or a system M (sysmon: nmsys). gort also discounts extra Ms
// not bound to a foreign thread (nmextraidle): a bound one may wake a
// goroutine at any time, so while a foreign thread is attached the runtime is
// never deadlocked. An M blocked in the network poller (with timers or fds
// pending) or in a system call is running.
//
// With no running M and every goroutine waiting:
//   - under gort_main: the seed's fatal error, with a goroutine dump;
//   - in background mode: the host may still call gort_ready, so the hook
//     (gort_set_deadlock_hook) runs instead, once per episode, after
//     sched.lock is released, on the M that found it.
// GORT_DEBUG=deadlock=0 turns it off.
//
// Departure: the seed throws "checkdead: runnable g" if it finds a runnable
// goroutine with every M idle. In gort a host thread can make a goroutine
// runnable (gort_go, gort_ready) between its global-queue put and its
// startm, so that state is legal for an instant; checkdead returns instead.
#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/base/throw.h"
#include "core/sched/upcalls.h"
#include "core/base/debugvars.h"

namespace gort {

namespace {
// The background-mode hook (gort_set_deadlock_hook). Written under
// sched.lock; read by checkdead under it.
void (*deadlock_hook)(void *) = nullptr;
void *deadlock_ctx = nullptr;
}  // namespace

void set_deadlock_hook(void (*hook)(void *), void *ctx) {
    lock(&sched.lock);
    deadlock_hook = hook;
    deadlock_ctx = ctx;
    unlock(&sched.lock);
}

// seed: checkdead. sched.lock held.
void checkdead() {
    if (debug.deadlock == 0) return;
    // The world is stopped (shutdown, gort_main's return) or stopping: idle
    // Ms are expected. freezetheworld (a fatal error) sets gcwaiting too.
    if (load_relaxed(sched.gcwaiting) != 0 || sched.m0_resume || load_relaxed(sched.exiting)) return;
    RtState st = rtstate();
    if (st != RtState::Running && st != RtState::RunningMain) return;
    int32_t run = sched.mcount - load_relaxed(sched.nmidle) - sched.nmidlelocked - sched.nmsys - sched.nmextraidle;
    if (run > 0) return;
    if (run < 0) {
        printstr("runtime: checkdead: nmidle=");
        printint(load_relaxed(sched.nmidle));
        printstr(" nmidlelocked=");
        printint(sched.nmidlelocked);
        printstr(" mcount=");
        printint(sched.mcount);
        printstr("\n");
        gothrow("checkdead: inconsistent counts");
    }
    int grunning = 0;
    std::size_t n = allglen();  // acquire: the first n Gs are initialised
    for (std::size_t i = 0; i < n; i++) {
        G *gp = allg_at(i);
        if (gp->issystem.load(std::memory_order_relaxed)) continue;
        uint32_t s = readgstatus(gp) & ~uint32_t(Gscan);
        // Extra Ms' goroutines sit in Gsyscall between calls (a bound one
        // already made run > 0 above); inside a call they count as any other.
        if (gp->isextra && s == Gsyscall) continue;
        if (s == Gwaiting) grunning++;
        else if (s == Grunnable || s == Grunning || s == Gsyscall) return;  // departure: see above
    }
    // An armed timer or a goroutine waiting on an fd can still wake one (the
    // M that runs them blocks in netpoll and is not idle, but it may be
    // between the two: modern Go checks the timers here too).
    if (netpoll_has_waiters_or_timers()) return;
    if (st == RtState::Running) {
        // Background mode: an idle runtime with no goroutine is not a
        // deadlock; one with waiting goroutines is reported to the host.
        if (grunning == 0 || deadlock_hook == nullptr || sched.deadlock_reported) return;
        sched.deadlock_reported = true;
        sched.deadlock_pending.store(true, std::memory_order_relaxed);
        return;
    }
    if (grunning == 0) gothrow("no goroutines (main called runtime.Goexit) - deadlock!");
    gothrow("all goroutines are asleep - deadlock!");
}

// Runs the hook checkdead asked for, without sched.lock. Called by the
// callers of checkdead right after their unlock: one relaxed load when
// nothing is pending.
void run_deadlock_hook() {
    if (!sched.deadlock_pending.load(std::memory_order_relaxed)) return;
    lock(&sched.lock);
    bool pending = sched.deadlock_pending.exchange(false, std::memory_order_relaxed);
    void (*hook)(void *) = deadlock_hook;
    void *ctx = deadlock_ctx;
    unlock(&sched.lock);
    if (pending && hook != nullptr) hook(ctx);
}

}  // namespace gort
