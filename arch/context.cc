// arch/context.cc - building a new context's first saved frame (seed:
// gostartcall). The layout is the one drawn in arch/x86_64_sysv_elf.S.
#include "arch/context.h"

#include <cstring>

namespace gort::arch {

void *make_context(void *hi, void (*fn)(void *), void *arg) {
    auto top = reinterpret_cast<std::uintptr_t>(hi) & ~std::uintptr_t(kStackAlign - 1);
    // One spare 16-byte slot above the frame: a zero "return address" for
    // gort_ctx_entry's frame, so that conservative unwinders that ignore CFI
    // still find a null pc and stop.
    top -= kStackAlign;
    auto *slot0 = reinterpret_cast<std::uint64_t *>(top);
    slot0[0] = 0;
    slot0[1] = 0;
    auto sp = top - kFrameSize;
    auto *f = reinterpret_cast<unsigned char *>(sp);
    std::memset(f, 0, kFrameSize);
    const std::uint16_t fpcw = 0x037f;     // x87 default: all exceptions masked, 64-bit precision
    const std::uint32_t mxcsr = 0x1f80;    // SSE default: all exceptions masked, round to nearest
    std::memcpy(f + kFrameFpcw, &fpcw, sizeof fpcw);
    std::memcpy(f + kFrameMxcsr, &mxcsr, sizeof mxcsr);
    auto put = [f](std::size_t off, std::uint64_t v) { std::memcpy(f + off, &v, sizeof v); };
    put(kFrameRbx, reinterpret_cast<std::uint64_t>(fn));
    put(kFrameR12, reinterpret_cast<std::uint64_t>(arg));
    put(kFrameRbp, 0);
    put(kFramePc, reinterpret_cast<std::uint64_t>(&gort_ctx_entry));
    return f;
}

}  // namespace gort::arch
