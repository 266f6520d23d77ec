// core/stack_alloc.h - execution stack memory (a simple, correct allocator;
// the seed's full stack1.go allocator with per-P caches is its own issue).
//
// Stacks are power-of-two sized, carved from large anonymous mappings
// (spans) so that a million stacks cost a handful of VMAs: Linux caps VMAs
// at vm.max_map_count (65,530 by default). Pages are committed lazily, so a
// stack costs what it touches. Each stack's lowest page is a guard page made
// with madvise(MADV_GUARD_INSTALL) where the kernel has it (Linux 6.13+:
// no VMA split); elsewhere, and in ASan builds (LSan scans the spans as root
// regions and would fault on a guard page), stacks are unguarded for now
// (the stacks issue adds the mprotect budget and the canary). Freed stacks go on a per-size free list
// under stackpoolmu and are reused; spans are unmapped at shutdown.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/runtime2.h"

namespace gort {

inline constexpr std::size_t kMinStackSize = 16 * 1024;
inline constexpr std::size_t kMaxStackSize = 256u * 1024 * 1024;
inline constexpr std::size_t kDefaultStackSize = 64 * 1024;

// Rounds n up to a power of two within [kMinStackSize, kMaxStackSize]; 0 if
// n is out of range.
std::size_t stack_roundsize(std::size_t n);
Stack stackalloc(std::size_t n);  // seed: stackalloc. n from stack_roundsize. Fatal if out of memory.
void stackfree(Stack s);          // seed: stackfree
void stack_release_all();         // shutdown: unmap every span

struct StackStats {
    std::size_t spans, span_bytes, stacks_in_use, guarded;
};
StackStats stack_stats();

}  // namespace gort
