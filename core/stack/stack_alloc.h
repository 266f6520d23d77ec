// core/stack/stack_alloc.h - stack memory (seed: stack1.go's stackinit,
// stackpoolalloc/stackpoolfree, stackcacherefill/stackcacherelease,
// stackcache_clear, stackalloc/stackfree, stackfreequeue/shrinkfinish).
//
// Two kinds of stack share the allocator (docs/DESIGN.md §4): execution stacks,
// where native code runs, and managed stacks, which gort copies
// (core/stack/mstack.h). Sizes are powers of two. Small stacks (orders 2 KiB ..
// 64 KiB) come from spans of kStackCacheSize bytes split into stacks of one
// order and one kind, through a per-P cache (refilled and released by half
// its capacity) over a global pool under stackpoolmu; larger stacks get a
// span of their own. Spans come from arenas: 1 GiB anonymous mappings
// reserved with MAP_NORESERVE, so that a million stacks cost a few dozen
// VMAs (Linux caps them at vm.max_map_count, 65,530 by default). Pages are
// committed lazily: a stack costs what it touches.
//
// Memory release policy: a large stack's pages go back to the kernel
// (MADV_DONTNEED) as soon as it is freed; a span of small stacks gives its
// pages back when its last stack returns to the pool (stacks kept in a P's
// cache, and the stacks of dead Gs on the gfree lists, keep theirs, as in
// the seed). Address space is kept for reuse by spans of the same size and
// returned at shutdown. gort_shrink_stacks trims parked execution stacks
// (stack_trim).
//
// Execution stacks. The lowest page of every execution stack is its guard
// page (so an execution stack has size - 4 KiB usable). GORT_DEBUG
// stackguard=1 (the default) protects it with madvise(MADV_GUARD_INSTALL)
// where the kernel accepts it (Linux 6.13+; no VMA cost), else with
// mprotect while the VMAs it costs stay within a quarter of
// vm.max_map_count, else not at all. stackguard=2 takes the mprotect path
// on any kernel (and ASan builds always do: see guard_span). An unprotected execution stack (also
// with stackguard=0) carries a canary just above its guard page, checked at
// every switch-out (stack_checkcanary). Managed stacks have no guard page:
// gort_mframe_push checks them exactly.
//
// Debug modes (GORT_DEBUG): efence=1 gives each stack a mapping of its own
// and makes freed stacks inaccessible, never reusing them (seed:
// stackFromSystem, stackFaultOnFree); stackdebug=1 logs per-stack operations.
//
// Locking: stackpoolmu protects the pools, the heap of spans and the
// statistics (its rank: core/base/lockrank.h, the runtime's one lock order). A
// P's cache is touched only by the M that holds the P, on its g0 or with
// m->locks held (the seed: "stackalloc must run on the scheduler stack").
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/sched/runtime2.h"
#include "core/sched/upcalls.h"
#include "core/stack/stack_guard.h"

namespace gort {

inline constexpr uint32_t kFixedStack = 2048;                   // seed: _FixedStack
inline constexpr std::size_t kStackCacheSize = 256 * 1024;      // seed: _StackCacheSize (32 KiB there)
inline constexpr std::size_t kMinStackSize = 16 * 1024;         // smallest execution stack
inline constexpr std::size_t kMaxStackSize = 256u * 1024 * 1024;
// The default execution stack: 64 KiB (60 KiB usable above the guard page).
// Measured by bench/stack_bench (exec_depth; bench/results/*-stacks.md):
// the deepest ordinary C use seen is 27.7 KiB (30 KiB under ASan) for
// snprintf("%Lf", 1e4000L) (glibc formats the 4,933 digits in an alloca'd
// buffer); printf with floats takes 3.3 KiB, a C++ throw/catch 4.7-7.2 KiB,
// fprintf to an unbuffered stream such as stderr 11.6 KiB (glibc's 8 KiB
// helper buffer), fprintf("%.1000f") 9.8 KiB. 32 KiB would leave 28 KiB
// usable: not enough for the first; 16 KiB barely fits logging to stderr.
inline constexpr std::size_t kDefaultStackSize = 64 * 1024;

void stackinit();  // seed: stackinit. From rt_init.

// Rounds n up to a power of two within [kMinStackSize, kMaxStackSize]; 0 if
// n is out of range. For execution stacks.
std::size_t stack_roundsize(std::size_t n);

// stackalloc, stackfree, stackcache_clear, stack_initcanary and the inline
// stack_checkcanary are declared in core/sched/upcalls.h (the scheduler
// calls them). stackalloc: n a power of two (>= kMinStackSize for execution
// stacks, >= kFixedStack for managed ones); fatal if out of memory.
// Queues a managed stack to be freed by shrinkfinish (seed: copystack's
// stackfreequeue).
void stackfreequeue_put(Stack s);
void shrinkfinish();  // seed: shrinkfinish

// Gives the pages of gp's execution stack below its saved sp back to the
// kernel when less than a quarter of the stack is used. gp must be held
// (scan bit) so that it cannot run. Returns the bytes given back.
std::size_t stack_trim(G *gp);


void stack_release_all();  // shutdown: unmap everything, reset the state

struct StackStats {
    std::size_t arenas, arena_bytes, spans;
    std::size_t exec_in_use, managed_in_use;  // stacks allocated
    std::size_t exec_unguarded;               // execution stacks in use without a guard page
    std::size_t guard_vmas;                   // VMAs spent on mprotect guards
    int guard_mode;                           // 0 none, 1 MADV_GUARD_INSTALL, 2 mprotect
};
StackStats stack_stats();

}  // namespace gort
