// core/sched/switch.h - goroutine switches (seed: gogo, mcall, systemstack), made
// known to the sanitizers and Valgrind.
//
// Every switch is announced in the function that performs it:
//   ASan: __sanitizer_start_switch_fiber right before the switch (NULL save
//         slot when the stack we leave dies), __sanitizer_finish_switch_fiber
//         first thing after it, both in the resumed goroutine and in the
//         entry trampoline. Frames abandoned on g0 by gogo are unpoisoned with
//         __asan_handle_no_return; a reused goroutine stack is unpoisoned
//         when it is handed to a new goroutine.
//   TSan: one fiber per G (__tsan_create_fiber), g0 uses its thread's fiber;
//         __tsan_switch_to_fiber is called in the same function as the switch
//         (gcc 12's TSan crashes if a helper that returns calls it).
//   LSan: stack spans are root regions (stack_alloc.cc).
//   Valgrind: each stack is registered with VALGRIND_STACK_REGISTER.
#pragma once

#include "core/sched/runtime2.h"

namespace gort {

// seed: gogo. From g0: resume gp (gp->m already set by execute). Never returns.
[[noreturn]] void gogo(G *gp);

// seed: mcall. From a goroutine: save its context and run fn(gp) on g0's
// stack. fn must not return; the goroutine continues after mcall when it is
// resumed with gogo (on any M). dying: the goroutine will never resume.
void mcall(void (*fn)(G *), bool dying = false);

// seed: systemstack. Run fn(arg) on g0's stack and return. From g0, calls
// fn directly.
void systemstack(void (*fn)(void *), void *arg);

// gostartcall: lay gp's first frame so that gogo(gp) enters goentry.
void gostartcall(G *gp, uintptr_t sp);

// Tool bookkeeping for a goroutine's stack and fiber.
void gtools_create(G *gp);         // after malg gives gp a stack
void gtools_stack_changed(G *gp);  // gp's stack was replaced (gfget realloc)
void gtools_stack_freed(G *gp);    // before the stack is freed
void gtools_destroy(G *gp);        // at shutdown
void gtools_stack_reuse(G *gp);    // gp's stack is reused by a new goroutine
// g0 of an M: adopt the current thread's fiber and stack bounds; undo when
// the M leaves its thread.
void gtools_g0(G *g0);
void gtools_g0_exit(G *g0);
// seed: (none) the M leaves: jump from g0 back to the context mstart saved,
// abandoning every frame in between.
[[noreturn]] void gogo_exit(M *mp);

}  // namespace gort
