// capi/stacks.cc - the C ABI of stacks (gort.h "Stacks"): managed
// frames, registered roots, funcinfo registration, stack shrinking and
// statistics. Validates every argument, then calls into core/ (mstack,
// funcinfo, stack_alloc). Every entry point is noexcept.
#include <cstring>

#include "capi/checks.h"
#include "capi/include/gort/gort.h"
#include "core/stack/funcinfo.h"
#include "core/stack/mstack.h"
#include "core/sched/proc.h"
#include "core/lifecycle.h"
#include "core/stack/stack_alloc.h"

using namespace gort;
using namespace gort::capi;

namespace {

// gort_last_error outside a goroutine: a host thread never switches
// goroutines, so a thread_local is safe there (inside a goroutine the code
// lives in its G: docs/DESIGN.md §3.7).
thread_local int host_last_error = 0;

void set_last_error(G *gp, int err) {
    if (gp != nullptr)
        gp->last_error = err;
    else
        host_last_error = err;
}

constexpr std::size_t kStackStatsV1 = sizeof(gort_stack_stats);

}  // namespace

extern "C" {

GORT_API int gort_funcinfo_register(const gort_funcinfo *fi) {
    if (int rc = require(Caller::Any)) return rc;
    return funcinfo_register(fi);
}

GORT_API void *gort_mframe_push(const gort_funcinfo *fi) {
    if (int rc = require(Caller::Goroutine)) {
        set_last_error(curg(), rc);
        return nullptr;
    }
    G *gp = curg();
    if (!funcinfo_registered(fi)) {
        gp->last_error = GORT_EINVAL;
        return nullptr;
    }
    int err = GORT_OK;
    void *p = mframe_push(gp, fi, &err);
    gp->last_error = err;
    return p;
}

GORT_API int gort_mframe_pop(void) {
    if (int rc = require(Caller::Goroutine)) return rc;
    return mframe_pop(curg());
}

GORT_API void *gort_mframe_top(void) {
    G *gp = require(Caller::Goroutine) == GORT_OK ? curg() : nullptr;
    if (gp == nullptr || gp->mframe == nullptr) return nullptr;
    return mframe_locals(static_cast<MFrame *>(gp->mframe));
}

GORT_API void *gort_mframe_args(void *frame) {
    if (int rc = require(Caller::Goroutine)) {
        set_last_error(curg(), rc);
        return nullptr;
    }
    G *gp = curg();
    void *a = frame != nullptr ? mframe_args(gp, frame) : nullptr;
    gp->last_error = a != nullptr ? GORT_OK : GORT_EINVAL;
    return a;
}

GORT_API int gort_mframe_setpc(uint32_t pcindex) {
    if (int rc = require(Caller::Goroutine)) return rc;
    return mframe_setpc(curg(), pcindex);
}

GORT_API int gort_mstack_root_add(void **slot) {
    if (slot == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::Goroutine)) return rc;
    return mstack_root_add(curg(), slot);
}

GORT_API int gort_mstack_root_remove(void **slot) {
    if (slot == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::Goroutine)) return rc;
    return mstack_root_remove(curg(), slot);
}

GORT_API int gort_set_max_stack(size_t bytes) {
    if (bytes < kFixedStack) return GORT_EINVAL;
    maxstacksize.store(bytes, std::memory_order_relaxed);
    return GORT_OK;
}

GORT_API int gort_last_error(void) {
    G *gp = curg();
    return gp != nullptr ? gp->last_error : host_last_error;
}

GORT_API int gort_shrink_stacks(void) {
    if (int rc = require(Caller::NotG0)) return rc;
    return shrink_stacks();
}

GORT_API int gort_stack_stats_get(gort_stack_stats *st) {
    if (st == nullptr || st->size < kStackStatsV1) return GORT_EINVAL;
    if (int rc = runtime_is(Runtime::Initialised)) return rc;
    StackStats ss = stack_stats();
    gort_stack_stats out;
    std::memset(&out, 0, sizeof out);
    out.exec_stacks = ss.exec_in_use;
    out.exec_unguarded = ss.exec_unguarded;
    out.managed_stacks = ss.managed_in_use;
    out.arenas = ss.arenas;
    out.arena_bytes = ss.arena_bytes;
    out.guard_vmas = ss.guard_vmas;
    out.guard_mode = ss.guard_mode;
    std::size_t keep = st->size;
    std::size_t n = keep < sizeof out ? keep : sizeof out;
    std::memcpy(st, &out, n);
    st->size = keep;
    return GORT_OK;
}

}  // extern "C"
