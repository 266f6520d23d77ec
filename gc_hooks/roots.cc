// gc_hooks/roots.cc - precise roots of a goroutine held at a safe point: the
// pointer slots of its managed stack, by the stack maps of its frames (the
// walk of the seed's scanstack -> scanframe, over gort's frame headers), and
// the slots the host registered (gort_mstack_root_add).
#include "core/stack/funcinfo.h"
#include "core/stack/mstack.h"
#include "core/base/throw.h"
#include "gc_hooks/hooks.h"

namespace gort {

namespace {

constexpr uintptr_t kPtrSize = sizeof(void *);

// seed: scanblock over a stack map: every word marked pointer.
void scanmap(uintptr_t base, const gort_stackmap &bv, gort_root_visitor v, void *ctx) {
    uint32_t num = bv.nbit / 2;
    for (uint32_t i = 0; i < num; i++)
        if (stackmap_bits(bv, i) == GORT_BITS_POINTER) v(reinterpret_cast<void **>(base + i * kPtrSize), ctx);
}

[[noreturn]] void badframe(const gort_funcinfo *f, const char *what) {
    printstr("runtime: scanframe ");
    printstr(f != nullptr && f->name != nullptr ? f->name : "?");
    printstr(": ");
    printstr(what);
    printstr("\n");
    gothrow("scanstack: bad managed frame");
}

}  // namespace

// seed: scanframe, for each frame from the innermost out. The frame headers
// were validated when pushed (funcinfo registered); the walk checks that
// each lies in the stack, as copystack does, so a corrupted link is a fatal
// error rather than a wild read.
void scan_precise_roots(G *gp, gort_root_visitor v, void *ctx) {
    uintptr_t lo = gp->msp, hi = gp->mstack.hi;
    for (auto *f = static_cast<MFrame *>(gp->mframe); f != nullptr; f = f->link) {
        uintptr_t fa = reinterpret_cast<uintptr_t>(f);
        if (fa < lo || fa + sizeof(MFrame) > hi) badframe(nullptr, "frame outside the managed stack");
        const gort_funcinfo *fn = f->fn;
        uint32_t pc = f->pcindex;
        if (fn->frame_words > 0) {
            if (fn->locals == nullptr || pc >= fn->nmaps) badframe(fn, "no locals map for its pc index");
            const gort_stackmap &bv = fn->locals[pc];
            scanmap(fa - uintptr_t(bv.nbit / 2) * kPtrSize, bv, v, ctx);
        }
        if (fn->arg_words > 0) {
            if (fn->args == nullptr || pc >= fn->nmaps) badframe(fn, "no args map for its pc index");
            scanmap(fa + sizeof(MFrame), fn->args[pc], v, ctx);
        }
    }
    for (uint32_t i = 0; i < gp->nmroots; i++) v(gp->mroots[i], ctx);
}

}  // namespace gort
