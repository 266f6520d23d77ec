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

namespace gort {

void sigsegv_install();    // stackpoolmu held (stack_alloc.cc)
void sigsegv_uninstall();  // shutdown

// seed: minit/unminit (the signal stack part). On the M's own thread: give
// it an alternate signal stack unless it already has one (a host thread's
// own is kept). The runtime's threads (newosproc) carve theirs from their
// thread mapping; others get a mapping that unminit_sigstack removes.
void minit_sigstack(M *mp, void *stk, std::size_t size);
void unminit_sigstack(M *mp);
inline constexpr std::size_t kSigStackSize = 64 * 1024;

}  // namespace gort
