// core/stack/stack_alloc.cc - see stack_alloc.h.
#include "core/stack/stack_alloc.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/base/atomics.h"
#include "core/base/lock_futex.h"
#include "core/sched/proc.h"
#include "core/base/sanitizers.h"
#include "core/stack/stack_guard.h"
#include "core/base/throw.h"
#include "core/base/debugvars.h"
#include "core/base/rtalloc.h"

#if GORT_ASAN  // LSan comes with ASan
#include <sanitizer/lsan_interface.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif

namespace gort {

namespace {

// The stack heap (seed: mHeap_AllocStack/mHeap_FreeStack/mHeap_Lookup over
// mheap_): arenas are 1 GiB windows of the address space, aligned to 1 GiB,
// carved into spans whose sizes are powers of two, at least kGranule. A span
// is found from any address in it through arena_index and the arena's
// table, without a lock.
//
// Address space is reserved as it is needed, not a window at a time: a
// reservation (a NORESERVE mapping) of kReserveChunk, or of the span when it
// is larger, is extended in place (MAP_FIXED_NOREPLACE just above the last
// one) until the window is full or something else of the process sits
// there; then a new reservation is placed wherever the kernel puts it, in
// whichever window that is. So a process under RLIMIT_AS pays for the
// stacks it has, and when no address space is left stackalloc fails (the
// spawn answers GORT_ENOMEM) instead of the runtime dying. Departure: the
// seed's heap grows by arena_used, in a range reserved at start.
constexpr int kArenaShift = 30;
constexpr std::size_t kArenaBytes = std::size_t(1) << kArenaShift;
constexpr std::size_t kArenaIndexLen = std::size_t(1) << (47 - kArenaShift);  // x86-64 user space
constexpr std::size_t kGranule = std::size_t(kFixedStack) << kNumStackOrders;  // 128 KiB: smallest large stack
constexpr std::size_t kArenaSlots = kArenaBytes / kGranule;
constexpr std::size_t kReserveChunk = std::size_t(64) << 20;
static_assert(kStackCacheSize % kGranule == 0 && kStackCacheSize % kStackPage == 0,
              "cache size must be a multiple of page size");  // seed: stackinit

enum : uint8_t { kSpanFree = 0, kSpanSmall = 1, kSpanLarge = 2 };
enum : uint8_t { kGuardNone = 0, kGuardMadvise = 1, kGuardMprotect = 2 };

struct StackSpan {  // seed: mspan in state _MSpanStack
    uintptr_t start = 0;
    std::size_t bytes = 0;
    StackSpan *next = nullptr, *prev = nullptr;  // stackpool list, or heap free list (next only)
    uintptr_t freelist = 0;                      // first free stack of a small span
    int32_t ref = 0;                             // stacks allocated from a small span
    uint8_t state = kSpanFree, kind = 0, order = 0, guard = kGuardNone;
};

struct Arena {
    uintptr_t base;
    Arena *next;  // all arenas, for shutdown
    atomic<StackSpan *> spans[kArenaSlots];
};

// Lock-free lookup tables (written under stackpoolmu, read anywhere).
atomic<Arena *> arena_index[kArenaIndexLen];

// Everything below is protected by stackpoolmu.
mutex stackpoolmu{kRankStackpool};
StackSpan stackpool[2][kNumStackOrders];  // seed: stackpool (list heads)
StackSpan *heapfree[64];                  // free spans by log2(bytes)
Arena *arenas = nullptr;
// [bump, bump_end): reserved and not yet carved, inside one arena (window).
uintptr_t bump = 0, bump_end = 0;
struct Reservation {  // one mapping made by reserve(), for shutdown
    uintptr_t p;
    std::size_t n;
    Reservation *next;
};
Reservation *reservations = nullptr;
std::size_t reserved_bytes = 0;
Stack stackfreequeue_;                    // seed: stackfreequeue
struct EfenceMap {
    uintptr_t p;
    std::size_t n;
};
EfenceMap *efence_maps = nullptr;  // debug.efence: every stack ever mapped
std::size_t nefence = 0, capefence = 0;
std::size_t narenas = 0, nspans = 0, guard_vmas = 0, guard_budget = 0;
std::size_t max_map_count = 65530, guard_recount_at = 0;
int guard_detected = -1;  // -1: not tried; else kGuardMadvise or kGuardMprotect
bool sigsegv_on = false;

atomic<std::size_t> exec_in_use{0}, managed_in_use{0}, exec_unguarded{0};

inline uintptr_t &link_of(uintptr_t x, std::size_t size) {
    // The free-list link lives in the top word of a free stack: the bottom
    // page of an execution stack is its guard page.
    return *reinterpret_cast<uintptr_t *>(x + size - sizeof(uintptr_t));
}

int log2_of(std::size_t n) {
    int k = 0;
    while ((std::size_t(1) << k) < n) k++;
    return k;
}

void list_init(StackSpan *l) { l->next = l->prev = l; }
void list_insert(StackSpan *l, StackSpan *s) {  // seed: mSpanList_Insert
    s->next = l->next;
    s->prev = l;
    l->next->prev = s;
    l->next = s;
}
void list_remove(StackSpan *s) {  // seed: mSpanList_Remove
    s->prev->next = s->next;
    s->next->prev = s->prev;
    s->next = s->prev = nullptr;
}

void stackpool_init_locked() {
    for (auto &k : stackpool)
        for (StackSpan &l : k)
            if (l.next == nullptr) list_init(&l);
}

StackSpan *span_lookup(uintptr_t p) {  // seed: mHeap_Lookup
    Arena *a = arena_index[(p >> kArenaShift) & (kArenaIndexLen - 1)].load(std::memory_order_acquire);
    if (a == nullptr || p < a->base || p >= a->base + kArenaBytes) return nullptr;
    return a->spans[(p - a->base) / kGranule].load(std::memory_order_acquire);
}

Arena *arena_of_window(uintptr_t p) {
    uintptr_t base = p & ~(kArenaBytes - 1);
    Arena *a = arena_index[(base >> kArenaShift) & (kArenaIndexLen - 1)].load(std::memory_order_relaxed);
    if (a != nullptr) return a;
    a = static_cast<Arena *>(rtalloc(sizeof(Arena)));  // zeroed: no spans
    a->base = base;
    a->next = arenas;
    arenas = a;
    arena_index[(base >> kArenaShift) & (kArenaIndexLen - 1)].store(a, std::memory_order_release);
    narenas++;
    return a;
}

// Records and prepares a new reservation [p, p+n).
void reserved(uintptr_t p, std::size_t n) {
    // Stacks touch a page or two at their top; a transparent huge page
    // would commit 2 MiB for that.
    madvise(reinterpret_cast<void *>(p), n, MADV_NOHUGEPAGE);
#if GORT_ASAN
    // Parked goroutines' stacks hold pointers to heap objects; LSan scans
    // only the readable parts of a root region (guards are mprotect'ed
    // under ASan, see guard_span).
    __lsan_register_root_region(reinterpret_cast<void *>(p), n);
#endif
    reserved_bytes += n;
    auto *r = static_cast<Reservation *>(rtalloc(sizeof(Reservation)));
    *r = Reservation{p, n, reservations};
    reservations = r;
}

void *map_reserve(uintptr_t hint, std::size_t n, int extra) {
    void *v = mmap(reinterpret_cast<void *>(hint), n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | extra, -1, 0);
    if (v == MAP_FAILED) return nullptr;
    // Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and may place the
    // mapping elsewhere: treat that as "taken".
    if ((extra & MAP_FIXED_NOREPLACE) != 0 && reinterpret_cast<uintptr_t>(v) != hint) {
        munmap(v, n);
        return nullptr;
    }
    return v;
}

// Makes [bump, bump + bytes) reserved, inside one window. False when the
// address space is exhausted (mmap's ENOMEM, RLIMIT_AS).
bool reserve(std::size_t bytes) {
    // Extend the current reservation in place, up to its window's end.
    if (bump_end != 0) {
        uintptr_t window_end = (bump & ~(kArenaBytes - 1)) + kArenaBytes;
        std::size_t need = bytes - (bump_end - bump);
        if (bump + bytes <= window_end) {
            std::size_t n = std::min(std::max(need, kReserveChunk), window_end - bump_end);
            if (map_reserve(bump_end, n, MAP_FIXED_NOREPLACE) != nullptr) {
                reserved(bump_end, n);
                bump_end += n;
                return true;
            }
        }
        // The rest of [bump, bump_end) stays reserved and unused (at most a
        // chunk per window change); it is unmapped at shutdown.
    }
    // A new reservation where the kernel finds room; a span never crosses
    // a window, so a mapping that does is cut to the half that fits.
    for (std::size_t n : {std::max(bytes, kReserveChunk), bytes}) {
        void *v = map_reserve(0, n, 0);
        if (v == nullptr) continue;
        uintptr_t lo = reinterpret_cast<uintptr_t>(v), hi = lo + n;
        uintptr_t cut = (lo + kArenaBytes - 1) & ~(kArenaBytes - 1);
        if (cut > lo && cut < hi) {
            if (hi - cut >= bytes) {
                munmap(v, cut - lo);
                lo = cut;
            } else if (cut - lo >= bytes) {
                munmap(reinterpret_cast<void *>(cut), hi - cut);
                hi = cut;
            } else {
                munmap(v, n);  // neither half fits: try at the boundary
                if (map_reserve(cut, n, MAP_FIXED_NOREPLACE) == nullptr) continue;
                lo = cut;
                hi = cut + n;
            }
        }
        reserved(lo, hi - lo);
        arena_of_window(lo);
        bump = lo;
        bump_end = hi;
        return true;
    }
    return false;
}

// seed: mHeap_AllocStack. A span of `bytes` (a power of two >= kGranule).
// Departure: a free span is reused only for the same size (no coalescing);
// its pages were given back to the kernel, so only address space waits.
// nullptr when no address space is left.
StackSpan *mheap_allocstack(std::size_t bytes) {
    int k = log2_of(bytes);
    if (StackSpan *s = heapfree[k]) {
        heapfree[k] = s->next;
        s->next = nullptr;
        return s;
    }
    if (bump_end - bump < bytes && !reserve(bytes)) return nullptr;
    auto *s = new (rtalloc(sizeof(StackSpan))) StackSpan();
    s->start = bump;
    s->bytes = bytes;
    bump += bytes;
    Arena *a = arena_index[s->start >> kArenaShift].load(std::memory_order_relaxed);
    for (uintptr_t p = s->start; p < s->start + bytes; p += kGranule)
        a->spans[(p - a->base) / kGranule].store(s, std::memory_order_release);
    nspans++;
    return s;
}

std::size_t stacksize_of(const StackSpan *s) {
    return s->state == kSpanSmall ? std::size_t(kFixedStack) << s->order : s->bytes;
}

// Guards the lowest page of every stack of an execution-stack span.
void guard_span(StackSpan *s) {
    s->guard = kGuardNone;
    if (debug.stackguard == 0) return;
    std::size_t size = stacksize_of(s);
    std::size_t n = s->bytes / size;
    int mode = guard_detected;
#if GORT_ASAN
    // LSan scans the arenas as root regions and would fault on a guard
    // region (it stays "readable" in /proc/self/maps); it skips mprotect'ed
    // pages.
    mode = kGuardMprotect;
#endif
    if (debug.stackguard == 2) mode = kGuardMprotect;  // the older kernels' path, on any kernel
    if (mode == -1) {
        // Probe once: MADV_GUARD_INSTALL (Linux 6.13+) costs no VMA.
        if (madvise(reinterpret_cast<void *>(s->start), kStackPage, MADV_GUARD_INSTALL) == 0) {
            mode = guard_detected = kGuardMadvise;
            madvise(reinterpret_cast<void *>(s->start), kStackPage, MADV_GUARD_REMOVE);
        } else {
            mode = guard_detected = kGuardMprotect;  // EINVAL: a kernel without guard regions
        }
    }
    // Each mprotect'ed page in the middle of a mapping costs up to 2 VMAs.
    // mprotect guards get at most a quarter of vm.max_map_count, and only
    // while the process (whose own mappings count against the same limit)
    // leaves an eighth of it free: the VMAs in use are counted again every
    // 1,024 guard VMAs. Past the budget, spans go unguarded (the canary).
    if (mode == kGuardMprotect && guard_vmas >= guard_recount_at) {
        std::size_t in_use = 0;
        if (FILE *f = std::fopen("/proc/self/maps", "r")) {
            for (int c; (c = std::getc(f)) != EOF;)
                if (c == '\n') in_use++;
            std::fclose(f);
        }
        std::size_t keep = max_map_count / 8;
        std::size_t spare = max_map_count > in_use + keep ? max_map_count - in_use - keep : 0;
        guard_budget = std::min(max_map_count / 4, guard_vmas + spare);
        guard_recount_at = guard_vmas + 1024;
    }
    if (mode == kGuardMprotect && guard_vmas + 2 * n > guard_budget) return;
    for (std::size_t i = 0; i < n; i++) {
        void *p = reinterpret_cast<void *>(s->start + i * size);
        int rc = mode == kGuardMadvise ? madvise(p, kStackPage, MADV_GUARD_INSTALL) : mprotect(p, kStackPage, PROT_NONE);
        if (rc != 0) {
            // ENOMEM: the process is out of VMAs (vm.max_map_count: the
            // host's mappings count too) or page tables. The span goes
            // unguarded, its stacks carry the canary, as documented; the
            // budget stops at what is installed, so no more mprotect guards
            // are tried until some of gort's are freed (or the next
            // gort_init counts again).
            for (std::size_t j = 0; j < i; j++) {
                void *q = reinterpret_cast<void *>(s->start + j * size);
                if (mode == kGuardMadvise)
                    madvise(q, kStackPage, MADV_GUARD_REMOVE);
                else
                    mprotect(q, kStackPage, PROT_READ | PROT_WRITE);
            }
            if (mode == kGuardMprotect) guard_budget = guard_vmas;
            return;
        }
    }
    if (mode == kGuardMprotect) guard_vmas += 2 * n;
    s->guard = uint8_t(mode);
    if (!sigsegv_on) {
        sigsegv_on = true;
        sigsegv_install();  // only while guard pages exist (docs/DESIGN.md §4)
    }
}

void unguard_span(StackSpan *s) {
    if (s->guard == kGuardNone) return;
    std::size_t size = stacksize_of(s);
    std::size_t n = s->bytes / size;
    for (std::size_t i = 0; i < n; i++) {
        void *p = reinterpret_cast<void *>(s->start + i * size);
        if (s->guard == kGuardMadvise)
            madvise(p, kStackPage, MADV_GUARD_REMOVE);
        else
            mprotect(p, kStackPage, PROT_READ | PROT_WRITE);
    }
    if (s->guard == kGuardMprotect) guard_vmas -= 2 * n;
    s->guard = kGuardNone;
}

// seed: mHeap_FreeStack. The span's pages go back to the kernel.
void mheap_freestack(StackSpan *s) {
    unguard_span(s);
    madvise(reinterpret_cast<void *>(s->start), s->bytes, MADV_DONTNEED);
    s->state = kSpanFree;
    s->freelist = 0;
    s->ref = 0;
    int k = log2_of(s->bytes);
    s->next = heapfree[k];
    heapfree[k] = s;
}

// seed: stackpoolalloc. Allocates a stack from the free pool. Must be
// called with stackpoolmu held. 0 when no address space is left.
uintptr_t stackpoolalloc(int kind, uint8_t order) {
    StackSpan *list = &stackpool[kind][order];
    StackSpan *s = list->next;
    std::size_t size = std::size_t(kFixedStack) << order;
    if (s == list) {
        // no free stacks. Allocate another span worth.
        s = mheap_allocstack(kStackCacheSize);
        if (s == nullptr) return 0;
        if (s->ref != 0) gothrow("bad ref");
        if (s->freelist != 0) gothrow("bad freelist");
        s->state = kSpanSmall;
        s->kind = uint8_t(kind);
        s->order = order;
        if (kind == kStackExec) guard_span(s);
        for (uintptr_t i = 0; i < kStackCacheSize; i += size) {
            uintptr_t x = s->start + i;
            link_of(x, size) = s->freelist;
            s->freelist = x;
        }
        list_insert(list, s);
    }
    uintptr_t x = s->freelist;
    if (x == 0) gothrow("span has no free stacks");
    s->freelist = link_of(x, size);
    s->ref++;
    if (s->freelist == 0) {
        // all stacks in s are allocated.
        list_remove(s);
    }
    return x;
}

// seed: stackpoolfree. Adds stack x to the free pool. Must be called with
// stackpoolmu held.
void stackpoolfree(uintptr_t x, int kind, uint8_t order) {
    StackSpan *s = span_lookup(x);
    if (s == nullptr || s->state != kSpanSmall || s->kind != kind || s->order != order)
        gothrow("freeing stack not in a stack span");
    std::size_t size = std::size_t(kFixedStack) << order;
    if (s->freelist == 0) {
        // s will now have a free stack
        list_insert(&stackpool[kind][order], s);
    }
    link_of(x, size) = s->freelist;
    s->freelist = x;
    s->ref--;
    if (s->ref == 0) {
        // span is completely free - return to heap
        list_remove(s);
        mheap_freestack(s);
    }
}

// seed: stackcacherefill. Grab half of the allowed capacity (to prevent
// thrashing).
void stackcacherefill(P *pp, int kind, uint8_t order) {
    if (debug.stackdebug >= 1) {
        printstr("stackcacherefill order=");
        printint(order);
        printstr("\n");
    }
    std::size_t sz = std::size_t(kFixedStack) << order;
    uintptr_t list = 0;
    std::size_t size = 0;
    lock(&stackpoolmu);
    while (size < kStackCacheSize / 2) {
        uintptr_t x = stackpoolalloc(kind, order);
        if (x == 0) break;  // out of address space: what there is (maybe nothing)
        link_of(x, sz) = list;
        list = x;
        size += sz;
    }
    unlock(&stackpoolmu);
    pp->stackcache[kind][order].list = list;
    pp->stackcache[kind][order].size = size;
}

// seed: stackcacherelease
void stackcacherelease(P *pp, int kind, uint8_t order) {
    if (debug.stackdebug >= 1) {
        printstr("stackcacherelease order=");
        printint(order);
        printstr("\n");
    }
    std::size_t sz = std::size_t(kFixedStack) << order;
    uintptr_t x = pp->stackcache[kind][order].list;
    std::size_t size = pp->stackcache[kind][order].size;
    lock(&stackpoolmu);
    while (size > kStackCacheSize / 2) {
        uintptr_t y = link_of(x, sz);
        stackpoolfree(x, kind, order);
        x = y;
        size -= sz;
    }
    unlock(&stackpoolmu);
    pp->stackcache[kind][order].list = x;
    pp->stackcache[kind][order].size = size;
}

// The P whose cache the caller may use, or nullptr: the global pool. The
// seed's stackalloc must run on the scheduler stack; gort also allows a
// goroutine that pins its P with m->locks (newproc1 allocates on the
// caller's stack: execution stacks never move, so the seed's issue 1547
// cannot arise), and callers without a P (host threads) use the pool.
P *cache_owner() {
    G *g = getg();
    if (g == nullptr || g->m == nullptr) return nullptr;
    M *mp = g->m;
    if (mp->p == nullptr) return nullptr;
    if (g != mp->g0 && mp->locks == 0) gothrow("stackalloc not on scheduler stack");
    return mp->p;
}

uint8_t order_of(std::size_t n) {
    uint8_t order = 0;
    std::size_t n2 = n;
    while (n2 > kFixedStack) {
        order++;
        n2 >>= 1;
    }
    return order;
}

bool is_small(std::size_t n) { return n < (std::size_t(kFixedStack) << kNumStackOrders) && n < kStackCacheSize; }

void count_exec(uintptr_t lo, int delta) {
    StackSpan *s = span_lookup(lo);
    if (s != nullptr && s->guard == kGuardNone) exec_unguarded.fetch_add(std::size_t(delta), std::memory_order_relaxed);
}

void print_stack(const char *what, uintptr_t lo, std::size_t n) {
    printstr(what);
    printhex(lo);
    printstr(" ");
    printuint(n);
    printstr("\n");
}

}  // namespace

// seed: stackinit
void stackinit() {
    lock(&stackpoolmu);
    stackpool_init_locked();
    max_map_count = 65530;
    if (FILE *f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
        unsigned long v = 0;
        if (std::fscanf(f, "%lu", &v) == 1 && v > 0) max_map_count = v;
        std::fclose(f);
    }
    guard_recount_at = 0;  // guard_span counts the process's VMAs first
    unlock(&stackpoolmu);
}

std::size_t stack_roundsize(std::size_t n) {
    if (n > kMaxStackSize) return 0;
    std::size_t s = kMinStackSize;
    while (s < n) s <<= 1;
    return s;
}

// seed: stackalloc. Stack{} (lo == 0) when no address space is left for
// it: the caller decides (a spawn and a managed stack's growth answer
// GORT_ENOMEM; the seed throws).
Stack stackalloc(std::size_t n, StackKind kind) {
    if ((n & (n - 1)) != 0) gothrow("stack size not a power of 2");
    if (n < kFixedStack || n > kMaxStackSize || (kind == kStackExec && n < kMinStackSize))
        gothrow("stackalloc: bad size");
    if (debug.stackdebug >= 1) print_stack("stackalloc ", 0, n);

    if (debug.efence != 0) {
        // seed: stackFromSystem. A mapping per stack.
        void *v = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (v == MAP_FAILED) return Stack{};
        if (kind == kStackExec) mprotect(v, kStackPage, PROT_NONE);
        lock(&stackpoolmu);
        if (kind == kStackExec && !sigsegv_on) {
            sigsegv_on = true;
            sigsegv_install();
        }
        if (nefence == capefence) {
            std::size_t cap = capefence ? capefence * 2 : 256;
            auto *nm = static_cast<EfenceMap *>(rtalloc(cap * sizeof(EfenceMap)));
            if (nefence) std::memcpy(nm, efence_maps, nefence * sizeof(EfenceMap));
            if (efence_maps) rtfree(efence_maps);
            efence_maps = nm;
            capefence = cap;
        }
        efence_maps[nefence++] = EfenceMap{reinterpret_cast<uintptr_t>(v), n};
        unlock(&stackpoolmu);
#if GORT_ASAN
        __lsan_register_root_region(v, n);
#endif
        (kind == kStackExec ? exec_in_use : managed_in_use).fetch_add(1, std::memory_order_relaxed);
        uintptr_t lo = reinterpret_cast<uintptr_t>(v);
        return Stack{lo, lo + n};
    }

    // Small stacks are allocated with a fixed-size free-list allocator.
    // If we need a stack of a bigger size, we fall back on allocating a
    // dedicated span.
    uintptr_t v;
    if (is_small(n)) {
        uint8_t order = order_of(n);
        P *pp = cache_owner();
        if (pp == nullptr) {
            // No P (a host thread, or the guts of procresize): just get a
            // stack from the global pool.
            lock(&stackpoolmu);
            v = stackpoolalloc(kind, order);
            unlock(&stackpoolmu);
            if (v == 0) return Stack{};
        } else {
            StackFreeList &c = pp->stackcache[kind][order];
            if (c.list == 0) stackcacherefill(pp, kind, order);
            v = c.list;
            if (v == 0) return Stack{};
            c.list = link_of(v, n);
            c.size -= n;
        }
    } else {
        lock(&stackpoolmu);
        stackpool_init_locked();
        StackSpan *s = mheap_allocstack(n);
        if (s == nullptr) {
            unlock(&stackpoolmu);
            return Stack{};
        }
        s->state = kSpanLarge;
        s->kind = uint8_t(kind);
        s->order = 0;
        if (kind == kStackExec) guard_span(s);
        v = s->start;
        unlock(&stackpoolmu);
    }
    if (kind == kStackExec) {
        exec_in_use.fetch_add(1, std::memory_order_relaxed);
        count_exec(v, 1);
    } else {
        managed_in_use.fetch_add(1, std::memory_order_relaxed);
    }
    if (debug.stackdebug >= 1) print_stack("  allocated ", v, n);
    return Stack{v, v + n};
}

// seed: stackfree
void stackfree(Stack stk, StackKind kind) {
    std::size_t n = stk.hi - stk.lo;
    uintptr_t v = stk.lo;
    if ((n & (n - 1)) != 0) gothrow("stack not a power of 2");
    if (debug.stackdebug >= 1) {
        print_stack("stackfree ", v, n);
        // for testing, clobber stack data (above the guard page)
        uintptr_t from = kind == kStackExec ? stack_usable_lo(stk) : v;
        std::memset(reinterpret_cast<void *>(from), 0, stk.hi - from);
    }
    (kind == kStackExec ? exec_in_use : managed_in_use).fetch_sub(1, std::memory_order_relaxed);
    if (debug.efence != 0) {
        // seed: stackFaultOnFree. Never reused; unmapped at shutdown.
        mprotect(reinterpret_cast<void *>(v), n, PROT_NONE);
        return;
    }
    if (kind == kStackExec) count_exec(v, -1);
    if (is_small(n)) {
        uint8_t order = order_of(n);
        P *pp = cache_owner();
        if (pp == nullptr) {
            lock(&stackpoolmu);
            stackpoolfree(v, kind, order);
            unlock(&stackpoolmu);
        } else {
            StackFreeList &c = pp->stackcache[kind][order];
            if (c.size >= kStackCacheSize) stackcacherelease(pp, kind, order);
            link_of(v, n) = c.list;
            c.list = v;
            c.size += n;
        }
    } else {
        lock(&stackpoolmu);
        StackSpan *s = span_lookup(v);
        if (s == nullptr || s->state != kSpanLarge || s->start != v) {
            printhex(v);
            printstr("\n");
            gothrow("bad span state");
        }
        mheap_freestack(s);
        unlock(&stackpoolmu);
    }
}

// seed: stackcache_clear
void stackcache_clear(P *pp) {
    if (debug.stackdebug >= 1) printstr("stackcache clear\n");
    lock(&stackpoolmu);
    for (int kind = 0; kind < 2; kind++) {
        for (uint8_t order = 0; order < kNumStackOrders; order++) {
            std::size_t sz = std::size_t(kFixedStack) << order;
            uintptr_t x = pp->stackcache[kind][order].list;
            while (x != 0) {
                uintptr_t y = link_of(x, sz);
                stackpoolfree(x, kind, order);
                x = y;
            }
            pp->stackcache[kind][order] = StackFreeList{};
        }
    }
    unlock(&stackpoolmu);
}

void stackfreequeue_put(Stack old) {
    // Shrinking: the seed queues the free until the GC cycle ends (see
    // copystack). Managed stacks have no guard page: the link fits at lo.
    lock(&stackpoolmu);
    *reinterpret_cast<Stack *>(old.lo) = stackfreequeue_;
    stackfreequeue_ = old;
    unlock(&stackpoolmu);
}

// seed: shrinkfinish. Do any delayed stack freeing that was queued up
// during GC (gort: during gort_shrink_stacks, or the scan cycle).
void shrinkfinish() {
    lock(&stackpoolmu);
    Stack s = stackfreequeue_;
    stackfreequeue_ = Stack{};
    unlock(&stackpoolmu);
    while (s.lo != 0) {
        Stack t = *reinterpret_cast<Stack *>(s.lo);
        stackfree(s, kStackManaged);
        s = t;
    }
}

void stack_initcanary(G *gp) {
    gp->stackcanary = 0;
    if (gp->stack.lo == 0 || debug.efence != 0) return;  // efence: always a guard page
    StackSpan *s = span_lookup(gp->stack.lo);
    if (s != nullptr && s->guard != kGuardNone) return;
    uintptr_t c = stack_usable_lo(gp->stack);
    auto *w = reinterpret_cast<uint64_t *>(c);
    for (int i = 0; i < kStackCanaryWords; i++) w[i] = kStackCanary;
    gp->stackcanary = c;
}

std::size_t stack_trim(G *gp) {
    if (gp->stack.lo == 0 || gp->sched_sp == nullptr) return 0;
    uintptr_t lo = stack_usable_lo(gp->stack);
    if (gp->stackcanary != 0) lo += kStackPage;  // keep the canary's page
    uintptr_t sp = reinterpret_cast<uintptr_t>(gp->sched_sp);
    if (sp < lo || sp > gp->stack.hi) return 0;
    std::size_t size = gp->stack.hi - gp->stack.lo;
    if (gp->stack.hi - sp >= size / 4) return 0;  // still using at least 1/4 of the stack
    uintptr_t end = sp & ~uintptr_t(kStackPage - 1);
    if (end <= lo) return 0;
    madvise(reinterpret_cast<void *>(lo), end - lo, MADV_DONTNEED);
    return end - lo;
}

bool stack_in_guard(uintptr_t addr, Stack *stk) {
    StackSpan *s = span_lookup(addr);
    if (s == nullptr || s->state == kSpanFree || s->kind != kStackExec || s->guard == kGuardNone) return false;
    std::size_t size = stacksize_of(s);
    uintptr_t base = s->start + (addr - s->start) / size * size;
    if (addr - base >= kStackPage) return false;
    *stk = Stack{base, base + size};
    return true;
}

void stack_release_all() {
    lock(&stackpoolmu);
    while (Arena *a = arenas) {
        arenas = a->next;
        for (std::size_t i = 0; i < kArenaSlots;) {
            StackSpan *s = a->spans[i].load(std::memory_order_relaxed);
            if (s == nullptr) {  // not carved (or not gort's)
                i++;
                continue;
            }
            i += s->bytes / kGranule;
            s->~StackSpan();
            rtfree(s);
        }
        arena_index[a->base >> kArenaShift].store(nullptr, std::memory_order_relaxed);
        rtfree(a);
    }
    while (Reservation *r = reservations) {
        reservations = r->next;
#if GORT_ASAN
        __lsan_unregister_root_region(reinterpret_cast<void *>(r->p), r->n);
#endif
        munmap(reinterpret_cast<void *>(r->p), r->n);
        rtfree(r);
    }
    reserved_bytes = 0;
    for (std::size_t i = 0; i < nefence; i++) {
#if GORT_ASAN
        __lsan_unregister_root_region(reinterpret_cast<void *>(efence_maps[i].p), efence_maps[i].n);
#endif
        munmap(reinterpret_cast<void *>(efence_maps[i].p), efence_maps[i].n);
    }
    if (efence_maps) rtfree(efence_maps);
    efence_maps = nullptr;
    nefence = capefence = 0;
    for (auto &k : stackpool)
        for (StackSpan &l : k) list_init(&l);
    for (StackSpan *&h : heapfree) h = nullptr;
    bump = bump_end = 0;
    stackfreequeue_ = Stack{};
    narenas = nspans = guard_vmas = 0;
    guard_detected = -1;
    if (sigsegv_on) {
        sigsegv_on = false;
        sigsegv_uninstall();
    }
    exec_in_use.store(0, std::memory_order_relaxed);
    managed_in_use.store(0, std::memory_order_relaxed);
    exec_unguarded.store(0, std::memory_order_relaxed);
    unlock(&stackpoolmu);
}

StackStats stack_stats() {
    lock(&stackpoolmu);
    StackStats s{};
    s.arenas = narenas;
    s.arena_bytes = reserved_bytes;
    s.spans = nspans;
    s.guard_vmas = guard_vmas;
    s.guard_mode = debug.stackguard == 0                            ? 0
                   : (GORT_ASAN || debug.stackguard == 2) ? kGuardMprotect
                   : (guard_detected < 0 ? 0 : guard_detected);
    unlock(&stackpoolmu);
    s.exec_in_use = exec_in_use.load(std::memory_order_relaxed);
    s.managed_in_use = managed_in_use.load(std::memory_order_relaxed);
    s.exec_unguarded = exec_unguarded.load(std::memory_order_relaxed);
    return s;
}

}  // namespace gort
