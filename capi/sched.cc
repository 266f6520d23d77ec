// capi/sched.cc - the C ABI of the scheduler's run-time controls:
// system calls, preemption, stop-the-world, procresize, thread limit,
// pinning, deadlock hook. Each validates, then calls into core/.
#include "capi/checks.h"
#include "core/base/atomics.h"
#include "gc_hooks/gcscan.h"
#include "core/sched/proc.h"
#include "core/thread/thread.h"

using namespace gort;
using namespace gort::capi;

namespace {
// The goroutine holding the world stopped through gort_stop_the_world
// (written and read by it alone while worldsema is held; others compare).
std::atomic<G *> world_stopper{nullptr};

// The caller's stack pointer as it will be after this call returns: the
// goroutine's frames at or above it stay live during the system call.
#define GORT_CALLER_SP() (reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) + 16)
// The caller's frame as a dump unwinds it during the call (G::syscallpc):
// the pc it resumes at, its sp, and its rbp (saved at our frame address).
#define GORT_CALLER_CTX(name)                                                       \
    const SyscallCtx name {                                                         \
        reinterpret_cast<uintptr_t>(__builtin_return_address(0)), GORT_CALLER_SP(), \
            *static_cast<const uintptr_t *>(__builtin_frame_address(0))             \
    }
}  // namespace

bool gort::capi::holds_stopped_world(const G *gp) {
    return gp != nullptr && world_stopper.load(std::memory_order_relaxed) == gp;
}

extern "C" {

GORT_API int gort_entersyscall(void) {
    if (int rc = require(Caller::MayBlock)) return rc;
    GORT_CALLER_CTX(ctx);
    reentersyscall(GORT_CALLER_SP(), &ctx);
    return GORT_OK;
}

GORT_API int gort_entersyscallblock(void) {
    if (int rc = require(Caller::MayBlock)) return rc;
    GORT_CALLER_CTX(ctx);
    entersyscallblock(GORT_CALLER_SP(), &ctx);
    return GORT_OK;
}

GORT_API int gort_exitsyscall(void) {
    if (int rc = require(Caller::Goroutine)) return rc;
    G *gp = curg();
    if (!in_syscall(gp) || GORT_CALLER_SP() > gp->syscallsp) return GORT_ESTATE;  // seed: "syscall frame is no longer valid"
    exitsyscall();
    return GORT_OK;
}

// Cheap when nothing is pending: getg, one relaxed load, one compare.
GORT_API int gort_safepoint(void) {
    G *gp = getg();
    if (gp == nullptr) return runtime_is(Runtime::Initialised) == GORT_OK ? GORT_ENOTG : GORT_ENOTINIT;
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
    if (int rc = require(Caller::MayBlock)) return rc;  // includes "already stopped by me"
    // The world has ended (gort_main returned, shutdown): GORT_ESTATE.
    if (int rc = result_code(worldsema_acquire(), GORT_ESTATE)) return rc;
    stoptheworld();
    G *gp = getg();
    gp->m->locks++;  // no preemption, park or syscall until the restart
    (void)reason;  // the seed passes it to its tracer; gort has none yet
    world_stopper.store(gp, std::memory_order_relaxed);
    return GORT_OK;
}

GORT_API int gort_start_the_world(void) {
    if (int rc = require(Caller::Goroutine)) return rc;
    G *gp = curg();
    if (!holds_stopped_world(gp)) return GORT_ESTATE;
    world_stopper.store(nullptr, std::memory_order_relaxed);
    gp->m->locks--;
    starttheworld();
    worldsema_release();
    return GORT_OK;
}

GORT_API int gort_set_maxprocs(int n) {
    if (n < 1 || n > kMaxGomaxprocs) return GORT_EINVAL;
    if (int rc = require(Caller::MayWait)) return rc;
    if (int rc = result_code(worldsema_acquire(), GORT_ESTATE)) return rc;  // the world has ended
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
    if (int rc = require(Caller::Any)) return rc;
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
    if (int rc = require(Caller::MayBlock)) return rc;  // includes a second pin
    // seed: sync_procPin
    G *gp = curg();
    gp->m->locks++;
    gp->pinned = true;
    return gp->m->p->id;
}

GORT_API int gort_proc_unpin(void) {
    if (int rc = require(Caller::Goroutine)) return rc;
    G *gp = curg();
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
    if (int rc = require(Caller::Any)) return rc;
    set_deadlock_hook(hook, ctx);
    return GORT_OK;
}

GORT_API int gort_call_as_goroutine(gort_fn fn, void *arg) {
    if (fn == nullptr) return GORT_EINVAL;
    if (int rc = caller_is(Caller::Host)) return rc;  // a goroutine (or g0): call fn directly
    if (int rc = runtime_is(Runtime::Started)) return rc;
    return result_code(cgocall(fn, arg), GORT_ESTATE);
}

GORT_API int gort_thread_attach(void) {
    if (int rc = caller_is(Caller::Host)) return rc;
    if (int rc = runtime_is(Runtime::Attachable)) return rc;
    needm();
    return GORT_OK;
}

GORT_API int gort_thread_detach(void) {
    // A host thread, but GORT_ESTATE (not Caller::Host's GORT_EBUSY) from a
    // goroutine or g0, as gort.h documents for gort_call_as_goroutine: a
    // thread runs Go code then, and may detach once that has returned.
    if (caller_is(Caller::Host) != GORT_OK) return GORT_ESTATE;
    if (int rc = runtime_is(Runtime::Attachable)) return rc;
    return result_code(extram_detach(), GORT_ESTATE);
}

}  // extern "C"
