// core/thread/fork.cc - fork(2) from a process that runs gort (seed: beforefork,
// afterfork, syscall_BeforeFork/AfterFork), through pthread_atfork.
//
// Only the forking thread exists in the child: every other M, sysmon and
// every lock another thread held are gone. As in Go, the child may only call
// exec (or _exit): gort marks it forked_child, and every runtime call in it
// returns GORT_ESTATE instead of waiting for threads that do not exist.
//
// In the parent, the forking goroutine is kept from being preempted or
// moved during the fork (m->locks), as the seed does.
#include <pthread.h>

#include "core/sched/proc.h"
#include "core/thread/thread.h"
#include "core/base/throw.h"
#include "core/sched/upcalls.h"

namespace gort {

namespace {

pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

G *forking_goroutine() {
    G *g = getg();
    if (g == nullptr || g == g->m->g0) return nullptr;
    return g;
}

// seed: beforefork
void beforefork() {
    if (G *gp = forking_goroutine()) gp->m->locks++;
}

// seed: afterfork (parent)
void afterfork_parent() {
    if (G *gp = forking_goroutine()) {
        gp->m->locks--;
        if (gp->m->locks == 0 && gp->preempt.load(std::memory_order_relaxed))
            gp->stackguard0.store(kStackPreempt, std::memory_order_relaxed);
    }
}

// A child of a process with no runtime (never initialised, or shut down)
// may initialise its own.
void afterfork_child() {
    if (rtstate() != RtState::Uninit) sched.forked_child.store(true, std::memory_order_relaxed);
}

void register_atfork() {
    if (pthread_atfork(beforefork, afterfork_parent, afterfork_child) != 0) gothrow("pthread_atfork failed");
}

}  // namespace

// Called by gort_init; the handlers stay for the life of the process (they
// do nothing while no runtime runs: getg() is nullptr everywhere).
void install_atfork() { pthread_once(&atfork_once, register_atfork); }

}  // namespace gort
