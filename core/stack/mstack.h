// core/stack/mstack.h - managed stacks: precise, copyable stacks whose frames a
// host lays out and describes with funcinfo records (seed: copystack,
// adjustframe, adjustpointers, adjustpointer, adjustctxt/adjustdefers/
// adjustpanics/adjustsudogs, newstack, shrinkstack; docs/DESIGN.md §4.3).
//
// Frame layout, from high to low addresses (the seed's x86 frame diagram,
// with gort's header where Go has the return address):
//
//   +------------------+ <- the caller's msp (frame top)
//   | args (arg_words) |
//   +------------------+ <- argp = header + sizeof(MFrame)
//   |  header (MFrame) |    link to the caller's header, funcinfo, pc index
//   +------------------+ <- varp = header (16-byte aligned)
//   |     locals       |    frame_words; the locals map covers its top words
//   +------------------+ <- locals (returned by the push), then padding
//   |                  | <- msp (16-byte aligned)
//
// Invariants: gp->msp and gp->mframe describe the innermost frame; every
// header's link points to the next outer header in the same stack (or is
// nullptr); all of it lies in [msp, mstack.hi). Only the goroutine itself
// changes them, except copystack, which runs either on the goroutine's own M
// (growth, shrinking its own stack) or while gp is held in Gcopystack
// (shrinking another goroutine's stack).
//
// stackguard0 (the seed's split-stack check) is the guard of the managed
// stack, mstack.lo + kMStackGuard, or kStackPreempt to ask the goroutine to
// yield at its next push; a goroutine without a managed stack keeps the
// execution stack's stack.lo + kStackGuard there (stackguard_reset).
#pragma once

#include <gort/gort.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/base/atomics.h"
#include "core/sched/runtime2.h"
#include "core/sched/upcalls.h"

namespace gort {

struct MFrame {
    MFrame *link;               // caller's frame header
    const gort_funcinfo *fn;
    uint32_t pcindex;           // which stack map is live (seed: pcdata StackMapIndex)
    uint32_t size;              // bytes from this frame's msp to its top
    uintptr_t pad;
};
static_assert(sizeof(MFrame) == 32, "header keeps 16-byte alignment");

inline constexpr std::size_t kDefaultMaxStack = 1000000000;  // seed: runtime.main's maxstacksize on 64-bit
extern atomic<std::size_t> maxstacksize;                // seed: maxstacksize

// kMStackGuard, stackguard_reset, mstack_free: core/sched/upcalls.h.

// The current goroutine's frames (gp == getg(), a goroutine). *err gets a
// GORT_* code on failure.
void *mframe_push(G *gp, const gort_funcinfo *fi, int *err);
int mframe_pop(G *gp);
void *mframe_locals(const MFrame *f);
void *mframe_args(G *gp, void *locals);  // nullptr if no frame of gp has these locals
int mframe_setpc(G *gp, uint32_t pcindex);
int mstack_root_add(G *gp, void **slot);
int mstack_root_remove(G *gp, void **slot);

// seed: copystack. Copies gp's managed stack to a new one of newsize
// bytes. gp runs on this M, or is held by the caller in Gcopystack or by
// its scan bit (either keeps it off every M and gort_ready waiting).
// False (and gp's stack unchanged) when no address space is left for the
// new stack.
bool copystack(G *gp, std::size_t newsize);
// seed: shrinkstack. Halves gp's managed stack if it uses less than a
// quarter; gp is another goroutine, claimed here with casgcopystack (only
// if Gwaiting or Grunnable). Returns whether it shrank. The caller must not
// hold gp's scan bit (the claim would wait for it for ever): like the
// seed's markroot, call it before stopg.
bool shrinkstack(G *gp);
// The same for a gp the caller already holds by its scan bit (the GC scan
// protocol shrinks under the claim it scans with, as the seed's markroot
// shrinks then scans).
bool shrinkstack_held(G *gp);
// gort_shrink_stacks: every goroutine's managed stack (shrinkstack, and the
// caller's own) and parked execution stack (stack_trim), then shrinkfinish.
int shrink_stacks();

void mstack_release(G *gp);  // shutdown: frees the roots array
void mstack_release_all();   // shutdown: registry, maxstacksize

}  // namespace gort
