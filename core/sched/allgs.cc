// core/sched/allgs.cc - the list of every G ever created (seed: allgs, allglen,
// allgadd under allglock). Gs are never freed while the runtime runs; dead
// ones are reused through the gfree lists, so the list only grows.
//
// Readers that do not take allglock (gcount, the fatal-error dump) read
// allglen with acquire and the array through a pointer published with
// release; a grown array keeps the old one alive until shutdown so such a
// reader never touches freed memory.
#include <atomic>

#include "core/base/atomics.h"
#include "core/sched/proc.h"
#include "core/sched/runtime2.h"
#include "core/sched/gstatus.h"
#include "core/sched/switch.h"
#include "core/base/throw.h"
#include "core/base/rtalloc.h"

namespace gort {

mutex allglock{kRankAllg};

namespace {
struct GArray {
    std::size_t cap;
    GArray *prev;  // retired arrays, freed at shutdown
    atomic<G *> g[1];
};
atomic<GArray *> garr{nullptr};
atomic<std::size_t> glen{0};

GArray *newarray(std::size_t cap, GArray *prev) {
    auto *a = static_cast<GArray *>(rtalloc(sizeof(GArray) + (cap - 1) * sizeof(atomic<G *>)));
    a->cap = cap;
    a->prev = prev;
    return a;
}
}  // namespace

// seed: allgadd
void allgadd(G *gp) {
    if (readgstatus(gp) == Gidle) gothrow("allgadd: bad status Gidle");
    lock(&allglock);
    GArray *a = load_relaxed(garr);
    std::size_t n = load_relaxed(glen);
    if (a == nullptr || n == a->cap) {
        GArray *na = newarray(a ? a->cap * 2 : 1024, a);
        for (std::size_t i = 0; i < n; i++) store_relaxed(na->g[i], load_relaxed(a->g[i]));
        store_rel(garr, na);  // pairs with allg_at's load_acq
        a = na;
    }
    store_relaxed(a->g[n], gp);
    store_rel(glen, n + 1);  // pairs with allglen's load_acq
    unlock(&allglock);
}

std::size_t allglen() { return load_acq(glen); }

G *allg_at(std::size_t i) {
    GArray *a = load_acq(garr);
    return (a != nullptr && i < a->cap) ? load_relaxed(a->g[i]) : nullptr;
}

// allgs_free: shutdown only (no other thread runs). Frees every G and the
// arrays.
void allgs_free(void (*freeg)(G *)) {
    GArray *a = load_relaxed(garr);
    std::size_t n = load_relaxed(glen);
    for (std::size_t i = 0; i < n; i++) freeg(load_relaxed(a->g[i]));
    while (a != nullptr) {
        GArray *p = a->prev;
        rtfree(a);
        a = p;
    }
    store_relaxed(garr, static_cast<GArray *>(nullptr));
    store_relaxed(glen, std::size_t(0));
}

}  // namespace gort
