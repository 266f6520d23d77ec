// core/sched/sysmon.cc - the system monitor (seed: sysmon, retake, preemptall,
// preemptone).
//
// sysmon runs on an M of its own that never holds a P, so it keeps working
// when every P is busy or blocked. Each tick it retakes Ps that have sat in a
// system call for more than one tick and asks goroutines that have run for
// more than 10 ms to yield at their next safe point. Its sleep adapts: 20 us
// while it finds work, doubling after 1 ms of idleness up to 10 ms; when
// every P is idle (or the world is stopping) it sleeps on sched.sysmonnote
// until a P is taken again (startm, exitsyscall, starttheworld) or
// kSysmonMaxSleep passes, so an idle runtime costs nothing.
#include <unistd.h>

#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/sched/timers.h"
#include "core/sched/runq.h"
#include "core/base/throw.h"
#include "core/sched/upcalls.h"
#include "core/base/debugvars.h"
#include "core/base/os.h"

namespace gort {

namespace {

// seed: forcegcperiod / 2. sysmon's longest sleep when every P is idle
// (shorter when a forced GC falls due sooner: gc_hooks/forcegc.cc).
constexpr int64_t kSysmonMaxSleep = 60 * 1000000000ll;
// seed: 10 ms, the time slice of a goroutine and the patience with a P in a
// syscall when nobody else needs it.
constexpr int64_t kForcePreemptNs = 10 * 1000000;
// sysmon's longest deep sleep while goroutines wait in gort_poll_fd.
constexpr int64_t kPollWaitersSleep = 100 * 1000000;

// seed: pdesc. What sysmon saw of each P at its last tick. sysmon only.
struct PDesc {
    uint32_t schedtick = 0;
    int64_t schedwhen = 0;
    uint32_t syscalltick = 0;
    int64_t syscallwhen = 0;
};

// seed: retake. Retake Ps blocked in syscalls and preempt long-running Gs.
// Returns the number of Ps retaken.
uint32_t retake(PDesc *pdesc, int64_t now) {
    uint32_t n = 0;
    int32_t procs = load_acq(gomaxprocs);
    for (int32_t i = 0; i < procs; i++) {
        P *pp = allp[i];
        if (pp == nullptr) continue;
        PDesc *pd = &pdesc[i];
        uint32_t s = pp->status.load(std::memory_order_seq_cst);
        if (s == Psyscall) {
            // Retake P from syscall if it's there for more than 1 sysmon
            // tick (at least 20us).
            uint32_t t = load_relaxed(pp->syscalltick);
            if (pd->syscalltick != t) {
                pd->syscalltick = t;
                pd->syscallwhen = now;
                continue;
            }
            // On the one hand we don't want to retake Ps if there is no
            // other work to do, but on the other hand we want to retake them
            // eventually because they can prevent the sysmon thread from
            // deep sleep.
            if (runqempty(pp) && load_relaxed(sched.nmspinning) + load_relaxed(sched.npidle) > 0 &&
                pd->syscallwhen + kForcePreemptNs > now)
                continue;
            // Need to decrement number of idle locked Ms (pretending that one
            // more is running) before the CAS. Otherwise the M from which we
            // retake can exit the syscall, increment nmidle and report
            // deadlock.
            incidlelocked(-1);
            if (pp->status.compare_exchange_strong(s, Pidle, std::memory_order_seq_cst)) {
                n++;
                handoffp(pp);
            }
            incidlelocked(1);
        } else if (s == Prunning) {
            // Preempt G if it's running for more than 10ms.
            uint32_t t = load_relaxed(pp->schedtick);
            // schedwhen == 0: the P has not been seen running yet. Go
            // compares with its zero schedwhen and preempts at once a P
            // whose first goroutine came from runnext (schedtick still 0,
            // an inherited slice); gort starts the slice here instead (and
            // its execute counts a P's first goroutine, proc.cc, so a
            // running G is never seen at schedtick 0).
            if (pd->schedtick != t || pd->schedwhen == 0) {
                pd->schedtick = t;
                pd->schedwhen = now;
                continue;
            }
            if (pd->schedwhen + kForcePreemptNs > now) continue;
            preemptone(pp);
        }
    }
    return n;
}

bool sysmon_should_exit() { return sched.exiting.load(std::memory_order_relaxed); }

}  // namespace

// seed: sysmon. Runs on its own M until the runtime shuts down; returns then.
void sysmon() {
    PDesc pdesc[kMaxGomaxprocs];
    int64_t lasttrace = 0;
    int idle = 0;  // how many cycles in succession we had not woken somebody
    uint32_t delay = 0;
    for (;;) {
        if (idle == 0) {  // start with 20us sleep...
            delay = 20;
        } else if (idle > 50) {  // start doubling the sleep after 1ms...
            delay *= 2;
        }
        if (delay > 10 * 1000) delay = 10 * 1000;  // up to 10ms
        usleep(delay);
        if (sysmon_should_exit()) return;
        if (debug.schedtrace <= 0 &&
            (load_relaxed(sched.gcwaiting) != 0 || load_relaxed(sched.npidle) == uint32_t(load_relaxed(gomaxprocs)))) {
            lock(&sched.lock);
            if (load_relaxed(sched.gcwaiting) != 0 ||
                load_relaxed(sched.npidle) == uint32_t(load_relaxed(gomaxprocs))) {
                if (sysmon_should_exit()) {
                    unlock(&sched.lock);
                    return;
                }
                sched.sysmonwait.store(1, std::memory_order_seq_cst);
                unlock(&sched.lock);
                // Departure (modern Go): wake for the next timer, and every
                // kPollWaitersSleep while goroutines wait on fds (a close(2)
                // without gort_poll_close is found by sysmon_netpoll).
                // (Not while the world is stopped: no timer can run then, and
                // starttheworld wakes sysmon.)
                int64_t sleep = kSysmonMaxSleep;
                int64_t next = timeSleepUntil(), t = nanotime();
                if (load_relaxed(sched.gcwaiting) == 0 && next != 0 && next - t < sleep) sleep = next > t ? next - t : 0;
                if (netpollAnyWaiters() && sleep > kPollWaitersSleep) sleep = kPollWaitersSleep;
                // seed: maxsleep = forcegcperiod/2; gort wakes when a forced
                // GC falls due (gc_hooks/forcegc.cc).
                int64_t gcdue = load_relaxed(sched.gcwaiting) == 0 ? forcegc_due_in(t) : -1;
                if (gcdue >= 0 && gcdue < sleep) sleep = gcdue;
                notetsleep(&sched.sysmonnote, sleep);
                lock(&sched.lock);
                sched.sysmonwait.store(0, std::memory_order_seq_cst);
                noteclear(&sched.sysmonnote);
                idle = 0;
                delay = 20;
            }
            unlock(&sched.lock);
            if (sysmon_should_exit()) return;
        }
        int64_t now = nanotime();
        // poll network if not polled for more than 10ms; start an M for an
        // overdue timer; find fds closed under their waiters
        sysmon_netpoll(now);
        // check if we need to force a GC (the host's gc_trigger hook)
        sysmon_forcegc(now);
        // retake Ps blocked in syscalls and preempt long running Gs
        if (retake(pdesc, now) != 0)
            idle = 0;
        else
            idle++;
        if (debug.schedtrace > 0 && lasttrace + debug.schedtrace * 1000000 <= now) {
            lasttrace = now;
            schedtrace(debug.scheddetail > 0);
        }
    }
}

// sysmon_wake: a P was taken while sysmon sleeps deeply (every P was idle):
// wake it so that the new work is watched (seed: the sysmonwait blocks of
// exitsyscall0 and starttheworld; gort also calls it from startm, since
// host threads can start work on an idle runtime).
void sysmon_wake() {
    lock(&sched.lock);
    if (sched.sysmonwait.load(std::memory_order_seq_cst) != 0) {
        sched.sysmonwait.store(0, std::memory_order_seq_cst);
        notewakeup(&sched.sysmonnote);
    }
    unlock(&sched.lock);
}

// seed: preemptall. Tell all goroutines that they have been preempted and
// they should stop. Purely best-effort: it can fail to inform a goroutine
// if a processor just started running it. No locks need to be held. Returns
// true if a preemption request was issued to at least one goroutine.
bool preemptall() {
    bool res = false;
    int32_t procs = load_acq(gomaxprocs);
    for (int32_t i = 0; i < procs; i++) {
        P *pp = allp[i];
        if (pp == nullptr || pp->status.load(std::memory_order_relaxed) != Prunning) continue;
        if (preemptone(pp)) res = true;
    }
    return res;
}

// seed: preemptone. Tell the goroutine running on processor pp to stop.
// Best-effort: it can fail to inform the goroutine, or inform the wrong one
// (the M may have moved on; the flag is then cleared by execute or is
// harmless: the goroutine yields once at its next safe point). Goroutines
// see the request at gort_safepoint, at a managed-stack frame push (the
// stack check, as in the seed), and at any scheduling call.
bool preemptone(P *pp) {
    M *mp = load_acq(pp->m);  // pairs with acquirep's release: *mp is initialised
    G *self = getg();
    if (mp == nullptr || (self != nullptr && mp == self->m)) return false;
    G *gp = load_acq(mp->curg);
    if (gp == nullptr || gp == mp->g0) return false;
    gp->preempt.store(true, std::memory_order_relaxed);
    // Ends the P's slice at its next schedule even if gp parks instead of
    // passing a safe point (runq.h, "runnext": the slice a woken goroutine
    // would inherit).
    pp->preempt.store(true, std::memory_order_relaxed);
    // Setting stackguard0 to kStackPreempt folds preemption into the normal
    // stack check (managed stacks) and is what gort_safepoint tests.
    gp->stackguard0.store(kStackPreempt, std::memory_order_release);
    return true;
}

}  // namespace gort
