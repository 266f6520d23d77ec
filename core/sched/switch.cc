// core/sched/switch.cc - see switch.h.
#include "core/sched/switch.h"

#include "arch/context.h"
#include "core/sched/proc.h"
#include "core/base/throw.h"

#include "core/base/sanitizers.h"
#include "core/sched/upcalls.h"

#if GORT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif
#if GORT_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#if GORT_HAVE_VALGRIND
#include <valgrind/valgrind.h>
#endif

namespace gort {

static_assert(arch::kFrameSize % arch::kStackAlign == 0, "saved frame keeps alignment");

namespace {

#if GORT_ASAN
inline void asan_start(void **save, const G *to) {
    __sanitizer_start_switch_fiber(save, reinterpret_cast<const void *>(to->stack.lo),
                                   to->stack.hi - to->stack.lo);
}
inline void asan_finish(void *fake) { __sanitizer_finish_switch_fiber(fake, nullptr, nullptr); }
#endif

// goentry: the first function of every goroutine, on its own stack.
[[noreturn]] void goentry(void *arg) noexcept {
#if GORT_ASAN
    asan_finish(nullptr);  // a fiber that has never run has no fake stack
#endif
    G *gp = static_cast<G *>(arg);
    if (gp->lock_on_start) LockOSThread();
    gp->startfn(gp->startarg);
    goexit1();
}

// mcall's trampoline on g0: finish the switch, then run the continuation.
[[noreturn]] void mcall_tramp(void *arg) noexcept {
    M *mp = static_cast<M *>(arg);
#if GORT_ASAN
    asan_finish(mp->g0->asan_fake_stack);
#endif
#if GORT_TSAN
    // g0 starts afresh on a new fiber (see mcall); retire the previous one,
    // whose shadow stack holds the frames gogo abandoned.
    if (mp->g0->tsan_fiber != mp->tsan_thread_fiber) __tsan_destroy_fiber(mp->g0->tsan_fiber);
    mp->g0->tsan_fiber = mp->tsan_next_fiber;
    mp->tsan_next_fiber = nullptr;
#endif
    void (*fn)(G *) = mp->mcallfn;
    mp->mcallfn = nullptr;
    stack_checkcanary(mp->curg.load(std::memory_order_relaxed));  // stacks: every switch-out checks an unguarded stack's canary
    fn(mp->curg.load(std::memory_order_relaxed));
    gothrow("mcall: continuation returned");
}

struct SysCall {
    void (*fn)(void *);
    void *arg;
    G *gp;
};

void systemstack_tramp(void *arg) noexcept {
    auto *sc = static_cast<SysCall *>(arg);
#if GORT_ASAN
    asan_finish(sc->gp->m->g0->asan_fake_stack);
#endif
    sc->fn(sc->arg);
#if GORT_ASAN
    asan_start(&sc->gp->m->g0->asan_fake_stack, sc->gp);
#endif
}

}  // namespace

void gostartcall(G *gp, uintptr_t sp) {
    gp->sched_sp = arch::make_context(reinterpret_cast<void *>(sp), goentry, gp);
}

[[noreturn]] void gogo(G *gp) {
    // A runtime lock is never held across a switch (core/base/lockrank.h:
    // the checker's per-thread state relies on it). No code in release.
    lockrank_assert_none_held("gogo");
    M *mp = gp->m;
    setg(gp);
#if GORT_ASAN
    __asan_handle_no_return();  // g0's frames above us are abandoned
    asan_start(&mp->g0->asan_fake_stack, gp);
#endif
#if GORT_TSAN
    __tsan_switch_to_fiber(gp->tsan_fiber, 0);
#endif
    (void)mp;
    gort_ctx_jump(gp->sched_sp);
}

void mcall(void (*fn)(G *), bool dying) {
    G *gp = getg();
    M *mp = gp->m;
    G *g0 = mp->g0;
    if (gp == g0) gothrow("mcall called on m->g0 stack");
    mp->mcallfn = fn;
    setg(g0);
#if GORT_ASAN
    asan_start(dying ? nullptr : &gp->asan_fake_stack, g0);
#else
    (void)dying;
#endif
#if GORT_TSAN
    // TSan keeps a shadow call stack per fiber and pops it only on function
    // exit. g0's frames never return (mcall restarts them at g0_top, gogo
    // abandons them), so each mcall runs g0 on a fresh fiber; otherwise the
    // shadow stack would overflow after some thousands of switches.
    mp->tsan_next_fiber = __tsan_create_fiber(0);
    __tsan_switch_to_fiber(mp->tsan_next_fiber, 0);
#endif
    gort_ctx_mcall(&gp->sched_sp, reinterpret_cast<void *>(mp->g0_top), mcall_tramp, mp);
    // Resumed by gogo, possibly on another M.
#if GORT_ASAN
    asan_finish(gp->asan_fake_stack);
#endif
}

void systemstack(void (*fn)(void *), void *arg) {
    G *gp = getg();
    if (gp == nullptr || gp == gp->m->g0) {
        fn(arg);
        return;
    }
    M *mp = gp->m;
    SysCall sc{fn, arg, gp};
    setg(mp->g0);
#if GORT_ASAN
    asan_start(&gp->asan_fake_stack, mp->g0);
#endif
    // No fiber switch for TSan: this is a call on the same logical thread
    // of execution, only on another stack.
    gort_ctx_call_on(reinterpret_cast<void *>(mp->g0_top), systemstack_tramp, &sc);
#if GORT_ASAN
    asan_finish(gp->asan_fake_stack);
#endif
    setg(gp);
}

void gtools_create(G *gp) {
#if GORT_TSAN
    gp->tsan_fiber = __tsan_create_fiber(0);
#endif
    gtools_stack_changed(gp);
}

void gtools_stack_changed(G *gp) {
#if GORT_HAVE_VALGRIND
    if (gp->stack.lo != 0)
        gp->valgrind_stack_id = VALGRIND_STACK_REGISTER(gp->stack.lo, gp->stack.hi);
#else
    (void)gp;
#endif
}

void gtools_stack_freed(G *gp) {
#if GORT_HAVE_VALGRIND
    if (gp->stack.lo != 0) VALGRIND_STACK_DEREGISTER(gp->valgrind_stack_id);
    gp->valgrind_stack_id = 0;
#endif
#if GORT_ASAN
    if (gp->stack.lo != 0)
        __asan_unpoison_memory_region(reinterpret_cast<void *>(gp->stack.lo), gp->stack.hi - gp->stack.lo);
#endif
    (void)gp;
}

void gtools_destroy(G *gp) {
    gtools_stack_freed(gp);
#if GORT_TSAN
    if (gp->tsan_fiber != nullptr) __tsan_destroy_fiber(gp->tsan_fiber);
    gp->tsan_fiber = nullptr;
#endif
}

void gtools_stack_reuse(G *gp) {
#if GORT_TSAN
    // The previous goroutine's frames never returned (goexit): start the
    // new one on a fresh fiber, with an empty shadow stack.
    if (gp->tsan_fiber != nullptr) __tsan_destroy_fiber(gp->tsan_fiber);
    gp->tsan_fiber = __tsan_create_fiber(0);
#endif
#if GORT_ASAN
    // The previous goroutine's frames were abandoned by goexit, redzones
    // and all.
    __asan_unpoison_memory_region(reinterpret_cast<void *>(gp->stack.lo), gp->stack.hi - gp->stack.lo);
#else
    (void)gp;
#endif
}

void gtools_g0(G *g0) {
#if GORT_TSAN
    g0->tsan_fiber = __tsan_get_current_fiber();
    g0->m->tsan_thread_fiber = g0->tsan_fiber;
#endif
#if GORT_ASAN
    // While a goroutine runs on this thread, ASan (after the fiber switch)
    // takes the goroutine's stack for the thread's, so LSan would not scan
    // the thread's own stack, where m0 keeps the host's frames. LSan scans
    // only the mapped, readable part of a root region.
    __lsan_register_root_region(reinterpret_cast<void *>(g0->stack.lo), g0->stack.hi - g0->stack.lo);
#endif
    (void)g0;
}

void gtools_g0_exit(G *g0) {
#if GORT_ASAN
    __lsan_unregister_root_region(reinterpret_cast<void *>(g0->stack.lo), g0->stack.hi - g0->stack.lo);
#endif
    (void)g0;
}

void gogo_exit(M *mp) {
#if GORT_ASAN
    __asan_handle_no_return();  // the frames we leave on this stack are gone
#endif
#if GORT_TSAN
    // Back to the thread's own fiber, which mstart's frame belongs to; in
    // this function, which performs the jump.
    if (mp->g0->tsan_fiber != mp->tsan_thread_fiber) {
        void *old = mp->g0->tsan_fiber;
        mp->g0->tsan_fiber = mp->tsan_thread_fiber;
        __tsan_switch_to_fiber(mp->tsan_thread_fiber, 0);
        __tsan_destroy_fiber(old);
    }
#endif
    gort_ctx_jump(mp->exit_sp);
}

}  // namespace gort
