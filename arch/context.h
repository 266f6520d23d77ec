// arch/context.h - the machine-level context switch, shared by every ISA.
//
// A suspended context is a single pointer: the stack pointer at which the
// callee-saved state was pushed (the "saved frame", laid out per ISA in
// arch/<isa>_<abi>_<fmt>.S and mirrored by the constants below). Everything a
// context needs to resume lives on its own stack, so switching costs a handful
// of pushes and pops and touches no heap memory.
//
// These are the seed's gogo / mcall / systemstack / gostartcall, reshaped for
// C: Go keeps pc and sp in g.sched (gobuf); gort keeps only sp because the
// resume pc is the return address at the top of the saved frame.
//
// None of these functions knows about sanitizers: the callers in core/ (see
// core/sched/switch.h) announce every switch to ASan/TSan, in the same function
// that performs it, as TSan requires.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gort::arch {

#if defined(__x86_64__)
// The saved frame (see arch/x86_64_sysv_elf.S), offsets from the saved sp.
inline constexpr std::size_t kFrameFpcw = 0x00;   // x87 control word (16 bits)
inline constexpr std::size_t kFrameMxcsr = 0x04;  // MXCSR (32 bits)
inline constexpr std::size_t kFrameR15 = 0x08;
inline constexpr std::size_t kFrameR14 = 0x10;
inline constexpr std::size_t kFrameR13 = 0x18;
inline constexpr std::size_t kFrameR12 = 0x20;
inline constexpr std::size_t kFrameRbx = 0x28;
inline constexpr std::size_t kFrameRbp = 0x30;
inline constexpr std::size_t kFramePc = 0x38;     // return address
inline constexpr std::size_t kFrameSize = 0x40;
inline constexpr std::size_t kStackAlign = 16;
#else
#error "gort: no context switch for this architecture yet (see arch/README.md)"
#endif

}  // namespace gort::arch

extern "C" {

// gort_ctx_switch saves the callee-saved state of the caller on its stack,
// stores the resulting sp in *save_sp, then resumes the context suspended at
// new_sp. It "returns" when someone resumes *save_sp.
void gort_ctx_switch(void **save_sp, void *new_sp);

// gort_ctx_jump resumes the context suspended at sp, abandoning the current
// one (seed: gogo). Never returns.
[[noreturn]] void gort_ctx_jump(void *sp);

// gort_ctx_mcall saves the caller's context like gort_ctx_switch, switches
// to the stack whose top is stack_top (16-byte aligned) and calls fn(arg)
// there; fn must not return (seed: mcall). The saved context is resumed
// later with gort_ctx_jump or gort_ctx_switch.
void gort_ctx_mcall(void **save_sp, void *stack_top, void (*fn)(void *), void *arg);

// gort_ctx_call_on runs fn(arg) on the stack whose top is stack_top and
// returns to the caller's stack when fn returns (seed: systemstack).
void gort_ctx_call_on(void *stack_top, void (*fn)(void *), void *arg);

// gort_ctx_entry is the first "return address" of a new context: it calls
// the function left in the frame's rbx slot with the argument in the r12
// slot, and traps if that function returns. Unwinders stop here.
void gort_ctx_entry(void);

// gort_ctx_current_sp returns the caller's stack pointer (approximately: the
// sp at the call instruction).
void *gort_ctx_current_sp(void);
}

namespace gort::arch {

// make_context lays a new saved frame at the top of [lo, hi) so that the
// first switch to the returned sp calls fn(arg) with a correctly aligned
// stack, a default MXCSR/x87 control word, and rbp = 0 to end frame-pointer
// walks (seed: gostartcall). `hi` must be 16-byte aligned.
void *make_context(void *hi, void (*fn)(void *), void *arg);

}  // namespace gort::arch
