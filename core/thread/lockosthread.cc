// core/thread/lockosthread.cc - wiring a goroutine to its thread (seed:
// LockOSThread, UnlockOSThread, lockOSThread, unlockOSThread,
// dolockOSThread, dounlockOSThread).
//
// m->locked counts two kinds of lock: LockExternal, a single bit set by the
// public call (a second LockOSThread is a no-op, one UnlockOSThread undoes
// any number), and n*LockInternal for the runtime's own nested uses. The
// goroutine stays wired while either is held. The wiring itself is
// m->lockedg / g->lockedm; schedule, stoplockedm and startlockedm honour it.
#include "core/sched/proc.h"
#include "core/thread/thread.h"
#include "core/base/throw.h"

namespace gort {

namespace {
// seed: dolockOSThread
void dolockOSThread() {
    G *g = getg();
    g->m->lockedg = g;
    g->lockedm = g->m;
}

// seed: dounlockOSThread
void dounlockOSThread() {
    G *g = getg();
    if (g->m->locked != 0) return;
    g->m->lockedg = nullptr;
    g->lockedm = nullptr;
}
}  // namespace

void LockOSThread() {
    getg()->m->locked |= LockExternal;
    dolockOSThread();
}

void lockOSThread() {
    getg()->m->locked += LockInternal;
    dolockOSThread();
}

void UnlockOSThread() {
    getg()->m->locked &= ~uint32_t(LockExternal);
    dounlockOSThread();
}

void unlockOSThread() {
    G *g = getg();
    if (g->m->locked < LockInternal) gothrow("runtime: internal error: misuse of lockOSThread/unlockOSThread");
    g->m->locked -= LockInternal;
    dounlockOSThread();
}

}  // namespace gort
