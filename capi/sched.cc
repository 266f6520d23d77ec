// capi/sched.cc - the C ABI of the scheduler's run-time controls:
// system calls, preemption, stop-the-world, procresize, thread limit,
// pinning, deadlock hook. Each validates, then calls into core/.
#include "capi/checks.h"
#include "core/base/atomics.h"
#include "gc_hooks/gcscan.h"
#include "core/sched/proc.h"

using namespace gort;
using namespace gort::capi;

namespace {
// The goroutine holding the world stopped through gort_stop_the_world
// (written and read by it alone while worldsema is held; others compare).
std::atomic<G *> world_stopper{nullptr};

// The caller's stack pointer as it will be after this call returns: the
// goroutine's frames at or above it stay live during the system call.
#define GORT_CALLER_SP() (reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) + 16)
}  // namespace

bool gort::capi::holds_stopped_world(const G *gp) {
    return gp != nullptr && world_stopper.load(std::memory_order_relaxed) == gp;
}

extern "C" {

GORT_API int gort_entersyscall(void) {
    if (!running()) return not_running_code();
    G *gp = curg();
    if (gp == nullptr) return GORT_ENOTG;
    if (int rc = may_block(gp)) return rc;
    reentersyscall(GORT_CALLER_SP());
    return GORT_OK;
}

GORT_API int gort_entersyscallblock(void) {
    if (!running()) return not_running_code();
    G *gp = curg();
    if (gp == nullptr) return GORT_ENOTG;
    if (int rc = may_block(gp)) return rc;
    entersyscallblock(GORT_CALLER_SP());
    return GORT_OK;
}

GORT_API int gort_exitsyscall(void) {
    if (!running()) return not_running_code();
    G *gp = curg();
    if (gp == nullptr) return GORT_ENOTG;
    if (!in_syscall(gp) || GORT_CALLER_SP() > gp->syscallsp) return GORT_ESTATE;  // seed: "syscall frame is no longer valid"
    exitsyscall();
    return GORT_OK;
}

// Cheap when nothing is pending: getg, one relaxed load, one compare.
GORT_API int gort_safepoint(void) {
    G *gp = getg();
    if (gp == nullptr) return initialised() ? GORT_ENOTG : GORT_ENOTINIT;
    if (gp->stackguard0.load(std::memory_order_relaxed) != kStackPreempt)
        return gp == gp->m->g0 ? GORT_ENOTG : 0;
    if (gp == gp->m->g0) return GORT_ENOTG;
    if (in_syscall(gp)) return GORT_ESTATE;
    // seed: newstack's preemptscan branch: a GC scan asked of this
    // goroutine is done here, and it goes on running (even pinned).
    if (gcscan_safepoint(gp)) return 0;
    // Pinned, holding the stopped world or a runtime lock: the request stays
    // pending until the goroutine may yield (unpin restores it).
    if (gp->m->locks != 0) return 0;
    // seed: newstack's preemption branch -> gopreempt_m.
    gp->preempt.store(false, std::memory_order_relaxed);
    gosched();
    return 1;
}

GORT_API int gort_stop_the_world(const char *reason) {
    if (!running()) return not_running_code();
    G *gp = curg();
    if (gp == nullptr) return GORT_ENOTG;
    if (int rc = may_block(gp)) return rc;  // includes "already stopped by me"
    if (!worldsema_acquire()) return GORT_ESTATE;  // the world has ended (gort_main returned, shutdown)
    stoptheworld();
    gp = getg();
    gp->m->locks++;  // no preemption, park or syscall until the restart
    (void)reason;  // the seed passes it to its tracer; gort has none yet
    world_stopper.store(gp, std::memory_order_relaxed);
    return GORT_OK;
}

GORT_API int gort_start_the_world(void) {
    if (!running()) return not_running_code();
    G *gp = curg();
    if (gp == nullptr) return GORT_ENOTG;
    if (world_stopper.load(std::memory_order_relaxed) != gp) return GORT_ESTATE;
    world_stopper.store(nullptr, std::memory_order_relaxed);
    gp->m->locks--;
    starttheworld();
    worldsema_release();
    return GORT_OK;
}

GORT_API int gort_set_maxprocs(int n) {
    if (n < 1 || n > kMaxGomaxprocs) return GORT_EINVAL;
    if (!running()) return not_running_code();
    G *g = getg();
    if (g != nullptr) {
        if (g == g->m->g0) return GORT_ESTATE;  // inside an unlockf: cannot wait
        if (int rc = may_block(g)) return rc;
    }
    if (!worldsema_acquire()) return GORT_ESTATE;  // the world has ended
    int old;
    if (rtstate() == RtState::Init) {
        // No M runs yet (rt_start also takes worldsema).
        lock(&sched.lock);
        old = load_relaxed(gomaxprocs);
        procresize(n);
        unlock(&sched.lock);
    } else {
        stoptheworld();
        old = load_relaxed(gomaxprocs);
        set_newprocs(n);
        starttheworld();
    }
    worldsema_release();
    return old;
}

GORT_API int gort_set_max_threads(int n) {
    if (n < 1) return GORT_EINVAL;
    if (!running()) return not_running_code();
    lock(&sched.lock);
    if (n < sched.mcount) {
        unlock(&sched.lock);
        return GORT_EBUSY;
    }
    int old = sched.maxmcount;  // seed: setMaxThreads
    sched.maxmcount = n;
    unlock(&sched.lock);
    return old;
}

GORT_API int gort_proc_pin(void) {
    if (!running()) return not_running_code();
    G *gp = curg();
    if (gp == nullptr) return GORT_ENOTG;
    if (int rc = may_block(gp)) return rc;  // includes a second pin
    // seed: sync_procPin
    gp->m->locks++;
    gp->pinned = true;
    return gp->m->p->id;
}

GORT_API int gort_proc_unpin(void) {
    if (!running()) return not_running_code();
    G *gp = curg();
    if (gp == nullptr) return GORT_ENOTG;
    if (!gp->pinned) return GORT_ESTATE;
    // seed: sync_procUnpin
    gp->pinned = false;
    gp->m->locks--;
    // A preemption request that arrived while pinned is served at the next
    // safe point.
    if (gp->m->locks == 0 && gp->preempt.load(std::memory_order_relaxed))
        gp->stackguard0.store(kStackPreempt, std::memory_order_relaxed);
    return GORT_OK;
}

GORT_API int gort_set_deadlock_hook(void (*hook)(void *ctx), void *ctx) {
    if (!initialised()) return GORT_ENOTINIT;
    if (!running()) return not_running_code();
    set_deadlock_hook(hook, ctx);
    return GORT_OK;
}

GORT_API int gort_call_as_goroutine(gort_fn fn, void *arg) {
    if (fn == nullptr) return GORT_EINVAL;
    if (getg() != nullptr) return GORT_EBUSY;  // a goroutine (or g0): call fn directly
    if (sched.forked_child.load(std::memory_order_relaxed)) return GORT_ESTATE;
    RtState s = rtstate();
    if (s == RtState::Uninit || s == RtState::Initializing) return GORT_ENOTINIT;
    if (s != RtState::Running && s != RtState::RunningMain) return GORT_ESTATE;
    return cgocall(fn, arg) ? GORT_OK : GORT_ESTATE;
}

GORT_API int gort_thread_attach(void) {
    if (getg() != nullptr) return GORT_EBUSY;
    if (sched.forked_child.load(std::memory_order_relaxed)) return GORT_ESTATE;
    RtState s = rtstate();
    if (s == RtState::Uninit || s == RtState::Initializing) return GORT_ENOTINIT;
    if (s != RtState::Running && s != RtState::RunningMain && s != RtState::Init) return GORT_ESTATE;
    needm();
    return GORT_OK;
}

GORT_API int gort_thread_detach(void) {
    if (getg() != nullptr) return GORT_ESTATE;  // inside gort_call_as_goroutine
    if (sched.forked_child.load(std::memory_order_relaxed)) return GORT_ESTATE;
    RtState s = rtstate();
    if (s == RtState::Uninit || s == RtState::Initializing) return GORT_ENOTINIT;
    if (s != RtState::Running && s != RtState::RunningMain && s != RtState::Init) return GORT_ESTATE;
    return extram_detach() ? GORT_OK : GORT_ESTATE;
}

}  // extern "C"
