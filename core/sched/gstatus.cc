// core/sched/gstatus.cc - see gstatus.h.
#include "core/sched/gstatus.h"
#include "core/sched/upcalls.h"

#include "core/base/lock_futex.h"
#include "core/base/throw.h"
#include "core/base/os.h"

namespace gort {

namespace {
inline bool cas_status(G *gp, uint32_t oldval, uint32_t newval) {
    // Release on success: whatever the g's owner wrote before the transition
    // is visible to whoever acquires the new status (readgstatus).
    return gp->atomicstatus.compare_exchange_strong(oldval, newval, std::memory_order_acq_rel,
                                                    std::memory_order_acquire);
}

[[noreturn]] void badstatus(const char *what, G *gp, uint32_t oldval, uint32_t newval) {
    printstr("runtime: ");
    printstr(what);
    printstr(" oldval=");
    printhex(oldval);
    printstr(" newval=");
    printhex(newval);
    printstr("\n");
    if (gp != nullptr) dumpgstatus(gp);
    gothrow(what);
}
}  // namespace

bool isscanstatus(uint32_t status) {
    if (status == Gscan) gothrow("isscanstatus: Bad status Gscan");
    return (status & Gscan) == Gscan;
}

// seed: casfrom_Gscanstatus. The Gscan statuses act like locks and this
// releases them.
void casfrom_Gscanstatus(G *gp, uint32_t oldval, uint32_t newval) {
    bool success = false;
    switch (oldval) {
        case Gscanrunnable:
        case Gscanwaiting:
        case Gscanrunning:
        case Gscansyscall:
            if (newval == (oldval & ~uint32_t(Gscan))) success = cas_status(gp, oldval, newval);
            break;
        case Gscanenqueue:
            if (newval == Gwaiting) success = cas_status(gp, oldval, newval);
            break;
    }
    if (!success) badstatus("casfrom_Gscanstatus: gp->status is not in scan state", gp, oldval, newval);
}

// seed: castogscanstatus. Returns false if gp is not in oldval; acquiring
// the scan bit is like taking a lock.
bool castogscanstatus(G *gp, uint32_t oldval, uint32_t newval) {
    switch (oldval) {
        case Grunnable:
        case Gwaiting:
        case Gsyscall:
            if (newval == (oldval | Gscan)) return cas_status(gp, oldval, newval);
            break;
        case Grunning:
            if (newval == Gscanrunning || newval == Gscanenqueue) return cas_status(gp, oldval, newval);
            break;
    }
    badstatus("castogscanstatus", nullptr, oldval, newval);
}

// seed: casgstatus. Loops while gp is in a scan state, until the scanner
// restores oldval. The merge (seed/000_*.txt) added the Gwaiting/Grunnable
// check: waiting for Gwaiting while the g is already Grunnable can never
// succeed (someone readied it concurrently), so it is a broken invariant.
void casgstatus(G *gp, uint32_t oldval, uint32_t newval) {
    if ((oldval & Gscan) != 0 || (newval & Gscan) != 0 || oldval == newval)
        badstatus("casgstatus: bad incoming values", gp, oldval, newval);
    // Help GC if needed: a goroutine asked to scan itself (stopg) that
    // leaves Grunning for a park, a yield or a system call does it here,
    // its context saved (gc_hooks/gcscan.h). Departure: the seed helps only when
    // its CAS fails (and without holding the scan bit); gort checks first
    // too, so the request is served at this safe point rather than by the
    // quiescer later.
    bool helps = oldval == Grunning && (newval == Gwaiting || newval == Grunnable || newval == Gsyscall);
    if (helps && gp->preemptscan.load(std::memory_order_relaxed)) gchelp(gp, newval);
    for (int spins = 0; !cas_status(gp, oldval, newval); spins++) {
        if (oldval == Gwaiting && gp->atomicstatus.load(std::memory_order_relaxed) == Grunnable) {
            gothrow("casgstatus: waiting for Gwaiting but is Grunnable");
        }
        // A GC helper held Gscanrunning for a moment (stopg's request).
        if (helps && gp->preemptscan.load(std::memory_order_relaxed)) gchelp(gp, newval);
        if (spins > 64) osyield();
    }
}

// seed: casgcopystack. casgstatus(gp, oldstatus, Gcopystack) for a g that is
// Gwaiting or Grunnable. It cannot use casgstatus: an asynchronous
// gort_ready may turn Gwaiting into Grunnable between the read and the CAS,
// and casgstatus would then wait for Gwaiting for ever (or, with the merge's
// check, throw). So it retries with whatever status it sees.
uint32_t casgcopystack(G *gp) {
    uint32_t oldstatus;
    if (!try_casgcopystack(gp, &oldstatus)) gothrow("copystack: bad status, not Gwaiting or Grunnable");
    return oldstatus;
}

// stacks: the seed's loop, answering instead of throwing. A scan bit held
// by someone else is waited out (the CAS from the plain status fails).
bool try_casgcopystack(G *gp, uint32_t *oldstatus) {
    for (int spins = 0;; spins++) {
        uint32_t s = readgstatus(gp) & ~uint32_t(Gscan);
        if (s != Gwaiting && s != Grunnable) return false;
        if (cas_status(gp, s, Gcopystack)) {
            *oldstatus = s;
            return true;
        }
        if (spins > 64) osyield();
    }
}

bool try_casgstatus_waiting_runnable(G *gp) {
    for (int spins = 0;; spins++) {
        uint32_t s = readgstatus(gp);
        if (s == Gcopystack) {
            // A stack copy owns the g for a moment; it restores Gwaiting (or
            // Grunnable, if an async ready won the race: casgcopystack).
            if (spins > 64) osyield();
            continue;
        }
        if ((s & ~uint32_t(Gscan)) != Gwaiting) return false;
        if (s == Gwaiting && cas_status(gp, Gwaiting, Grunnable)) return true;
        // Gscanwaiting: a scanner owns the stack for a moment; wait it out.
        if (spins > 64) osyield();
    }
}

const char *gstatusname(uint32_t s) {
    switch (s & ~uint32_t(Gscan)) {
        case Gidle: return "idle";
        case Grunnable: return "runnable";
        case Grunning: return "running";
        case Gsyscall: return "syscall";
        case Gwaiting: return "waiting";
        case Gdead: return "dead";
        case Gcopystack: return "copystack";
        case 7: return "enqueue";
        default: return "???";
    }
}

void dumpgstatus(G *gp) {
    print("runtime: gp: gp=", static_cast<const void *>(gp), ", goid=", gp->goid, ", gp->atomicstatus=",
          readgstatus(gp), "\n");
    if (G *g = getg())
        print("runtime:  g:  g=", static_cast<const void *>(g), ", goid=", g->goid, ",  g->atomicstatus=",
              readgstatus(g), "\n");
}

}  // namespace gort
