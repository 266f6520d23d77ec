// core/stack/stack_guard.h - stack overflow detection for execution stacks: the
// SIGSEGV handler for guard pages and the alternate signal stacks it runs on
// (seed: minit/unminit's signal stack, sigtramp's "stack overflow" check).
//
// The handler is installed only while guard pages exist (stack_alloc.cc
// installs it with the first guard page and removes it at shutdown), runs on
// an alternate signal stack (a thread cannot take a signal on a stack it has
// just overflowed), and handles only faults in the guard page of the
// faulting thread's current goroutine stack, or of any execution stack of
// the allocator: those are fatal ("gort: fatal error: stack overflow in
// goroutine N (stack size S)" plus the dump). Every other fault goes to the
// handler that was installed before ours (the host's, or the default
// action): an embedded runtime must not steal the host's signals.
#pragma once

#include "core/sched/runtime2.h"
#include "core/sched/upcalls.h"

namespace gort {

void sigsegv_install();    // stackpoolmu held (stack_alloc.cc)
void sigsegv_uninstall();  // shutdown

inline constexpr std::size_t kStackPage = 4096;
// Lowest usable byte of an execution stack (above its guard page).
inline uintptr_t stack_usable_lo(const Stack &s) { return s.lo + kStackPage; }
// Whether addr lies in the guard page of an execution stack of the
// allocator (for the SIGSEGV handler; lock-free; core/stack/stack_alloc.cc).
bool stack_in_guard(uintptr_t addr, Stack *stk);

// minit_sigstack / unminit_sigstack / kSigStackSize: core/sched/upcalls.h
// (mstart and mexit call them).

}  // namespace gort
