// core/sched/syscall.cc - goroutines in system calls (seed: reentersyscall,
// entersyscall, entersyscallblock, exitsyscall, exitsyscallfast,
// exitsyscall0).
//
// A goroutine about to block outside the scheduler (a system call, a slow
// host function) marks itself Gsyscall and its P Psyscall, and keeps both.
// Nothing is handed off on entry: a short call comes back and re-takes its P
// with one CAS (exitsyscallfast). If the call lasts longer than a sysmon tick
// (20 us up to 10 ms), sysmon's retake CASes the P from Psyscall to Pidle and
// hands it to another M (handoffp), so the other goroutines keep running.
// entersyscallblock is for calls known to block: it hands the P off at once.
//
// On exit the goroutine tries its old P, then any idle P; failing both it
// queues itself on the global run queue and its M goes idle (exitsyscall0),
// so it may resume on another thread.
//
// The P status word is the meeting point of three parties: the syscall
// goroutine (Psyscall on entry, CAS back to Prunning on exit), sysmon (CAS
// Psyscall -> Pidle) and stoptheworld (CAS Psyscall -> Pgcstop). Entry
// stores Psyscall and then reads gcwaiting; stoptheworld stores gcwaiting and
// then reads the status: both sides are seq_cst (the seed's atomicstore is an
// XCHG), so at least one of them sees the other.
#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/sched/runq.h"
#include "core/sched/switch.h"
#include "core/base/throw.h"

namespace gort {

namespace {

void entersyscall_bad(void *arg) {
    G *gp = static_cast<G *>(arg);
    printstr("entersyscall inconsistent ");
    printhex(gp->syscallsp);
    printstr(" [");
    printhex(gp->stack.lo);
    printstr(",");
    printhex(gp->stack.hi);
    printstr("]\n");
    gothrow("entersyscall");
}

// seed: entersyscall_sysmon. Wake sysmon from its deep sleep: a P in a
// syscall may need retaking.
void entersyscall_sysmon(void *) {
    lock(&sched.lock);
    if (sched.sysmonwait.load(std::memory_order_seq_cst) != 0) {
        sched.sysmonwait.store(0, std::memory_order_seq_cst);
        notewakeup(&sched.sysmonnote);
    }
    unlock(&sched.lock);
}

// seed: entersyscall_gcwait. stoptheworld is waiting: give it our P now.
void entersyscall_gcwait(void *arg) {
    P *pp = static_cast<P *>(arg);
    lock(&sched.lock);
    uint32_t s = Psyscall;
    if (sched.stopwait.load(std::memory_order_relaxed) > 0 &&
        pp->status.compare_exchange_strong(s, Pgcstop, std::memory_order_seq_cst)) {
        if (sched.stopwait.fetch_sub(1, std::memory_order_seq_cst) == 1) notewakeup(&sched.stopnote);
    }
    unlock(&sched.lock);
}

void entersyscallblock_handoff(void *) { handoffp(releasep()); }

inline void restore_stackguard(G *gp) {
    // seed: restore the preemption request in case we've cleared it in
    // newstack; otherwise restore the real guard, spoiled on entry.
    if (gp->preempt.load(std::memory_order_relaxed))
        gp->stackguard0.store(kStackPreempt, std::memory_order_relaxed);
    else
        gp->stackguard0.store(gp->stack.lo + kStackGuard, std::memory_order_relaxed);
}

// seed: exitsyscallfast_pidle
bool exitsyscallfast_pidle() {
    lock(&sched.lock);
    P *pp = pidleget();
    if (pp != nullptr && sched.sysmonwait.load(std::memory_order_seq_cst) != 0) {
        sched.sysmonwait.store(0, std::memory_order_seq_cst);
        notewakeup(&sched.sysmonnote);
    }
    unlock(&sched.lock);
    if (pp != nullptr) {
        acquirep(pp);
        return true;
    }
    return false;
}

// seed: exitsyscallfast. Re-take the P we had, else any idle one.
bool exitsyscallfast() {
    M *mp = getg()->m;
    // Freezetheworld sets stopwait but does not retake Ps.
    if (sched.stopwait.load(std::memory_order_relaxed) != 0) {
        mp->p = nullptr;
        return false;
    }
    // Try to re-acquire the last P.
    P *pp = mp->p;
    uint32_t s = Psyscall;
    if (pp != nullptr && pp->status.load(std::memory_order_relaxed) == Psyscall &&
        pp->status.compare_exchange_strong(s, Prunning, std::memory_order_seq_cst)) {
        // There's a cpu for us, so we can run.
        store_rel(pp->m, mp);  // publishes *mp to preemptone's acquire load
        return true;
    }
    // Try to get any other idle P.
    mp->p = nullptr;
    if (load_relaxed(sched.npidle) != 0 && exitsyscallfast_pidle()) return true;
    return false;
}

// save_syscallctx: records where a dump unwinds g from while Gsyscall
// (G::syscallpc). ctx == nullptr: the caller of reentersyscall or
// entersyscallblock, from their own return address ra and frame fa (they
// take __builtin_frame_address(0), so they have an rbp frame: their CFA,
// the caller's sp at the call, is fa + 16, and the caller's rbp is saved at
// fa). Stored before the status becomes Gsyscall, whose release publishes it.
inline void save_syscallctx(G *g, const SyscallCtx *ctx, void *ra, void *fa) {
    if (ctx != nullptr) {
        g->syscallpc = ctx->pc;
        g->syscallctxsp = ctx->sp;
        g->syscallbp = ctx->bp;
        return;
    }
    g->syscallpc = reinterpret_cast<uintptr_t>(ra);
    g->syscallctxsp = reinterpret_cast<uintptr_t>(fa) + 16;
    g->syscallbp = *static_cast<const uintptr_t *>(fa);
}

}  // namespace

// seed: reentersyscall. sp: the caller's stack pointer; the goroutine's
// frames above it stay live (and, for the GC issue, scannable) during the
// call.
void reentersyscall(uintptr_t sp, const SyscallCtx *ctx) {
    G *g = getg();
    M *mp = g->m;
    // Disable preemption: during this function g is in Gsyscall status but
    // its P is not yet Psyscall.
    mp->locks++;
    // Catch a managed-stack push during the call (it would have to grow or
    // move the stack): its stack check fails and newstack throws.
    g->stackguard0.store(kStackPreempt, std::memory_order_relaxed);
    g->syscallsp = sp;
    save_syscallctx(g, ctx, __builtin_return_address(0), __builtin_frame_address(0));
    casgstatus(g, Grunning, Gsyscall);
    if (g->syscallsp < g->stack.lo || g->stack.hi < g->syscallsp) systemstack(entersyscall_bad, g);
    if (sched.sysmonwait.load(std::memory_order_seq_cst) != 0) systemstack(entersyscall_sysmon, nullptr);
    P *pp = mp->p;
    store_relaxed(pp->m, static_cast<M *>(nullptr));
    pp->status.store(Psyscall, std::memory_order_seq_cst);
    if (sched.gcwaiting.load(std::memory_order_seq_cst) != 0) systemstack(entersyscall_gcwait, pp);
    mp->locks--;
}

// seed: entersyscallblock. The same as reentersyscall, but the call is known
// to block: hand the P off at once.
void entersyscallblock(uintptr_t sp, const SyscallCtx *ctx) {
    G *g = getg();
    M *mp = g->m;
    mp->locks++;
    g->stackguard0.store(kStackPreempt, std::memory_order_relaxed);
    g->syscallsp = sp;
    save_syscallctx(g, ctx, __builtin_return_address(0), __builtin_frame_address(0));
    casgstatus(g, Grunning, Gsyscall);
    if (g->syscallsp < g->stack.lo || g->stack.hi < g->syscallsp) systemstack(entersyscall_bad, g);
    systemstack(entersyscallblock_handoff, nullptr);
    mp->locks--;
}

// seed: exitsyscall. The goroutine exited its system call: arrange for it to
// run on a cpu again. Returns on whichever M runs it.
void exitsyscall() {
    G *g = getg();
    g->m->locks++;
    g->waitsince = 0;
    if (exitsyscallfast()) {
        // There's a cpu for us, so we can run.
        counter_inc(g->m->p->syscalltick);
        // We need to cas the status and scan before resuming...
        casgstatus(g, Gsyscall, Grunning);
        g->syscallsp = 0;
        g->m->locks--;
        restore_stackguard(g);
        return;
    }
    g->m->locks--;
    // Call the scheduler.
    mcall(exitsyscall0);
    // Scheduler returned, so we're allowed to run now (on any M). syscallsp
    // stays set until here: until then a scanner may still read the frames.
    g = getg();
    g->syscallsp = 0;
    counter_inc(g->m->p->syscalltick);
}

// seed: exitsyscall0. exitsyscall slow path on g0: failed to acquire a P,
// enqueue gp as runnable.
void exitsyscall0(G *gp) {
    G0ONLY_CHECK();
    M *mp = getg()->m;
    casgstatus(gp, Gsyscall, Grunnable);
    dropg();
    lock(&sched.lock);
    P *pp = pidleget();
    if (pp == nullptr) {
        globrunqput(gp);
    } else if (sched.sysmonwait.load(std::memory_order_seq_cst) != 0) {
        sched.sysmonwait.store(0, std::memory_order_seq_cst);
        notewakeup(&sched.sysmonnote);
    }
    unlock(&sched.lock);
    if (pp != nullptr) {
        acquirep(pp);
        execute(gp);  // Never returns.
    }
    if (mp->lockedg != nullptr) {
        // Wait until another thread schedules gp and so m again.
        stoplockedm();
        execute(gp);  // Never returns.
    }
    stopm();
    schedule();  // Never returns.
}

}  // namespace gort
