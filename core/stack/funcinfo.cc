// core/stack/funcinfo.cc - see funcinfo.h.
#include "core/stack/funcinfo.h"

#include <atomic>
#include <cstdint>

#include "core/base/atomics.h"
#include "core/base/lock_futex.h"
#include "core/sched/proc.h"
#include "core/base/rtalloc.h"

namespace gort {

namespace {

constexpr uint32_t kMaxWords = 1u << 20;
constexpr std::size_t kFuncinfoV1 = sizeof(gort_funcinfo);

struct Table {
    std::size_t cap;  // a power of two
    Table *prev;      // retired tables, freed at shutdown
    atomic<const gort_funcinfo *> slot[1];
};

mutex funcinfo_lock{kRankFuncinfo};
atomic<Table *> table{nullptr};
std::size_t count = 0;  // funcinfo_lock

std::size_t hash(const gort_funcinfo *fi, std::size_t cap) {
    uint64_t x = reinterpret_cast<uintptr_t>(fi);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return std::size_t(x) & (cap - 1);
}

Table *newtable(std::size_t cap, Table *prev) {
    auto *t = static_cast<Table *>(rtalloc(sizeof(Table) + (cap - 1) * sizeof(atomic<const gort_funcinfo *>)));
    t->cap = cap;
    t->prev = prev;
    return t;
}

void insert(Table *t, const gort_funcinfo *fi) {
    for (std::size_t i = hash(fi, t->cap);; i = (i + 1) & (t->cap - 1)) {
        if (load_relaxed(t->slot[i]) == nullptr) {
            store_rel(t->slot[i], fi);
            return;
        }
    }
}

bool map_ok(const gort_stackmap &bv, uint32_t words) {
    if (bv.nbit % 2 != 0 || bv.nbit / 2 > words) return false;
    if (bv.nbit == 0) return true;
    if (bv.bytedata == nullptr) return false;
    for (uint32_t i = 0; i < bv.nbit / 2; i++)
        if (stackmap_bits(bv, i) == 3) return false;  // the seed's "unexpected pointer bits"
    return true;
}

}  // namespace

bool funcinfo_valid(const gort_funcinfo *fi) {
    if (fi == nullptr || fi->size < kFuncinfoV1) return false;
    if (fi->frame_words > kMaxWords || fi->arg_words > kMaxWords) return false;
    if ((fi->frame_words > 0 || fi->arg_words > 0) && fi->nmaps == 0) return false;
    if (fi->frame_words > 0 && fi->locals == nullptr) return false;
    if (fi->arg_words > 0 && fi->args == nullptr) return false;
    for (uint32_t m = 0; m < fi->nmaps; m++) {
        if (fi->locals != nullptr && !map_ok(fi->locals[m], fi->frame_words)) return false;
        if (fi->args != nullptr && !map_ok(fi->args[m], fi->arg_words)) return false;
    }
    return true;
}

int funcinfo_register(const gort_funcinfo *fi) {
    if (!funcinfo_valid(fi)) return GORT_EINVAL;
    if (funcinfo_registered(fi)) return GORT_OK;
    lock(&funcinfo_lock);
    Table *t = load_relaxed(table);
    if (!funcinfo_registered(fi)) {
        if (t == nullptr || 2 * (count + 1) > t->cap) {
            Table *nt = newtable(t ? t->cap * 2 : 256, t);
            if (t != nullptr)
                for (std::size_t i = 0; i < t->cap; i++)
                    if (const gort_funcinfo *f = load_relaxed(t->slot[i])) insert(nt, f);
            store_rel(table, nt);  // pairs with funcinfo_registered's load_acq
            t = nt;
        }
        insert(t, fi);
        count++;
    }
    unlock(&funcinfo_lock);
    return GORT_OK;
}

bool funcinfo_registered(const gort_funcinfo *fi) {
    Table *t = load_acq(table);
    if (t == nullptr || fi == nullptr) return false;
    for (std::size_t i = hash(fi, t->cap);; i = (i + 1) & (t->cap - 1)) {
        const gort_funcinfo *f = load_acq(t->slot[i]);
        if (f == fi) return true;
        if (f == nullptr) return false;
    }
}

void funcinfo_release_all() {
    lock(&funcinfo_lock);
    Table *t = load_relaxed(table);
    while (t != nullptr) {
        Table *p = t->prev;
        rtfree(t);
        t = p;
    }
    store_relaxed(table, static_cast<Table *>(nullptr));
    count = 0;
    unlock(&funcinfo_lock);
}

}  // namespace gort
