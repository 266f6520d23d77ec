// core/stack_alloc.cc - see stack_alloc.h.
#include "core/stack_alloc.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "core/lock_futex.h"
#include "core/proc.h"
#include "core/throw.h"

#include "core/sanitizers.h"

#if GORT_ASAN  // LSan comes with ASan
#include <sanitizer/lsan_interface.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace gort {

namespace {

constexpr std::size_t kSpanBytes = 64u * 1024 * 1024;
constexpr int kOrders = 15;  // 16 KiB << 14 = 256 MiB

struct Span {
    uintptr_t base;
    std::size_t size;
    Span *next;
};

// Everything below is protected by stackpoolmu (lock order: last).
mutex stackpoolmu;
Span *spans = nullptr;
struct Order {
    uintptr_t bump = 0, bump_end = 0;  // unused part of the newest span of this order
    uintptr_t *free = nullptr;         // free stack base addresses (rtalloc'd array)
    std::size_t nfree = 0, capfree = 0;
} orders[kOrders];
StackStats stats{};
int guard_mode = -1;  // -1 unknown, 0 unsupported, 1 MADV_GUARD_INSTALL works

int order_of(std::size_t n) {
    int o = 0;
    while ((kMinStackSize << o) < n) o++;
    return o;
}

void newspan(Order &o, std::size_t stacksize) {
    std::size_t size = stacksize > kSpanBytes / 16 ? stacksize * 4 : kSpanBytes;
    void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) gothrow("out of memory allocating stack span");
    // Stacks touch a page or two at their top; a transparent huge page
    // would commit 2 MiB for that.
    madvise(p, size, MADV_NOHUGEPAGE);
#if GORT_ASAN
    __lsan_register_root_region(p, size);
#endif
    auto *s = static_cast<Span *>(rtalloc(sizeof(Span)));
    s->base = reinterpret_cast<uintptr_t>(p);
    s->size = size;
    s->next = spans;
    spans = s;
    stats.spans++;
    stats.span_bytes += size;
    o.bump = s->base;
    o.bump_end = s->base + size;
}

// Under LSan the spans are root regions, and LSan would fault scanning a
// guard page (it stays "readable" in /proc/self/maps); ASan builds rely on
// ASan's own checks instead. Registering each stack's usable part as its
// own root region instead would make unregistering quadratic.
void guard(uintptr_t lo) {
#if GORT_ASAN
    (void)lo;
    return;
#endif
    if (guard_mode == 0) return;
    long pg = sysconf(_SC_PAGESIZE);
    if (madvise(reinterpret_cast<void *>(lo), std::size_t(pg), MADV_GUARD_INSTALL) == 0) {
        guard_mode = 1;
        stats.guarded++;
    } else if (errno == EINVAL) {
        guard_mode = 0;  // kernel without guard regions
    }
}

}  // namespace

std::size_t stack_roundsize(std::size_t n) {
    if (n > kMaxStackSize) return 0;
    std::size_t s = kMinStackSize;
    while (s < n) s <<= 1;
    return s;
}

Stack stackalloc(std::size_t n) {
    if (stack_roundsize(n) != n) gothrow("stackalloc: bad size");
    Order &o = orders[order_of(n)];
    lock(&stackpoolmu);
    uintptr_t lo;
    if (o.nfree > 0) {
        lo = o.free[--o.nfree];
    } else {
        if (o.bump_end - o.bump < n) newspan(o, n);
        lo = o.bump;
        o.bump += n;
        guard(lo);
    }
    stats.stacks_in_use++;
    unlock(&stackpoolmu);
    return Stack{lo, lo + n};
}

void stackfree(Stack s) {
    std::size_t n = s.hi - s.lo;
    if (stack_roundsize(n) != n) gothrow("stackfree: bad size");
    Order &o = orders[order_of(n)];
    lock(&stackpoolmu);
    if (o.nfree == o.capfree) {
        std::size_t cap = o.capfree ? o.capfree * 2 : 256;
        auto *nf = static_cast<uintptr_t *>(rtalloc(cap * sizeof(uintptr_t)));
        for (std::size_t i = 0; i < o.nfree; i++) nf[i] = o.free[i];
        if (o.free) rtfree(o.free);
        o.free = nf;
        o.capfree = cap;
    }
    o.free[o.nfree++] = s.lo;
    stats.stacks_in_use--;
    // Large stacks give their memory back now; small ones keep it for reuse
    // (the stacks issue adds the seed's release policy).
    if (n >= 1024 * 1024) madvise(reinterpret_cast<void *>(s.lo), n, MADV_DONTNEED);
    unlock(&stackpoolmu);
}

void stack_release_all() {
    lock(&stackpoolmu);
    while (spans != nullptr) {
        Span *s = spans;
        spans = s->next;
#if GORT_ASAN
        __lsan_unregister_root_region(reinterpret_cast<void *>(s->base), s->size);
#endif
        munmap(reinterpret_cast<void *>(s->base), s->size);
        rtfree(s);
    }
    for (Order &o : orders) {
        if (o.free) rtfree(o.free);
        o = Order{};
    }
    stats = StackStats{};
    unlock(&stackpoolmu);
}

StackStats stack_stats() {
    lock(&stackpoolmu);
    StackStats s = stats;
    unlock(&stackpoolmu);
    return s;
}

}  // namespace gort
