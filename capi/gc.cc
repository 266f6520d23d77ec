// capi/gc.cc - the C ABI of the GC hooks (gort.h "GC hooks"):
// validates, then calls the scan protocol (gc_hooks/gcscan.h) or the collector
// side (gc_hooks/). Every entry point is noexcept.
#include <pthread.h>

#include <cstddef>

#include "capi/checks.h"
#include "capi/include/gort/gort.h"
#include "gc_hooks/forcegc.h"
#include "gc_hooks/gcscan.h"
#include "gc_hooks/gcwork.h"
#include "gc_hooks/helpgc.h"
#include "core/sched/proc.h"
#include "gc_hooks/hooks.h"

using namespace gort;
using namespace gort::capi;

namespace {

// Who holds a gort_stopg claim: the claiming goroutine (it may migrate
// between claim and release), else the thread (a host thread, or g0 inside
// a callback, never switches). Odd values cannot be G addresses.
uintptr_t claim_owner() {
    if (G *gp = curg(); gp != nullptr) return reinterpret_cast<uintptr_t>(gp);
    return uintptr_t(pthread_self()) | 1;
}

}  // namespace

extern "C" {

GORT_API int gort_scan_precise_roots(const gort_scan *s, gort_root_visitor v, void *ctx) {
    if (s == nullptr || v == nullptr) return GORT_EINVAL;
    if (s->size < offsetof(gort_scan, g) + sizeof(s->g)) return GORT_EINVAL;
    if (int rc = runtime_is(Runtime::Initialised)) return rc;
    G *gp = g_handle(s->g);
    if (gp == nullptr) return GORT_EINVAL;
    // Held at a safe point: only a scan-bit holder may walk the stacks.
    uint32_t st = readgstatus(gp);
    if ((st & Gscan) == 0 || st == Gscan) return GORT_ESTATE;
    scan_precise_roots(gp, v, ctx);
    return GORT_OK;
}

GORT_API int gort_gc_set_hooks(const gort_gc_hooks *h) {
    if (h != nullptr && (h->size < sizeof(gort_gc_hooks) || h->scan_g == nullptr || h->force_period_ns < 0))
        return GORT_EINVAL;
    if (int rc = require(Caller::Waker)) return rc;  // forcegc_start creates a goroutine
    if (in_scan_callback()) return GORT_EBUSY;
    if (int rc = gc_set_hooks(h)) return rc;
    if (h != nullptr && h->gc_trigger != nullptr) forcegc_start();
    return GORT_OK;
}

GORT_API int gort_gc_set_phase(int phase) {
    if (phase != GORT_GC_OFF && phase != GORT_GC_SCAN && phase != GORT_GC_MARK) return GORT_EINVAL;
    if (int rc = require(Caller::Any)) return rc;
    if (in_scan_callback()) return GORT_EBUSY;  // the phase barrier would wait for this very scan
    uint32_t old;
    if (int rc = result_code(gc_set_phase(uint32_t(phase), &old), GORT_EBUSY)) return rc;
    return int(old);
}

GORT_API int gort_gc_phase(void) {
    if (int rc = runtime_is(Runtime::Initialised)) return rc;
    return int(gcphase.load(std::memory_order_acquire));
}

GORT_API int gort_quiesce(void) {
    if (int rc = require(Caller::Goroutine)) return rc;
    if (G *gp = curg(); holds_stopped_world(gp)) {
        quiesce_stopped(gp);  // nothing else runs: every goroutine can be claimed at once
        return GORT_OK;
    }
    if (int rc = caller_is(Caller::MayBlock)) return rc;
    // Serialised with stop-the-world (and other quiesces): a goroutine
    // stopping the world while we wait for it to reach a safe point would
    // never reach one.
    if (!worldsema_acquire()) return GORT_ESTATE;  // the world has ended
    quiesce(getg());
    worldsema_release();
    return GORT_OK;
}

GORT_API int gort_stopg(gort_g *g) {
    if (g == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::Any)) return rc;  // before touching the handle
    G *gp = g_handle(g);
    if (gp == nullptr) return GORT_EINVAL;
    // A goroutine in a system call claiming itself would hold its own scan
    // bit: its gort_exitsyscall would wait for it for ever.
    if (gp == curg() && in_syscall(gp)) return GORT_ESTATE;
    // Not a GORT_* code: 1 claimed, 0 not (gort.h).
    return stopg_for(gp, claim_owner()) ? 1 : 0;
}

GORT_API int gort_restartg(gort_g *g) {
    if (g == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::Any)) return rc;
    G *gp = g_handle(g);
    if (gp == nullptr) return GORT_EINVAL;
    return result_code(restartg_for(gp, claim_owner()), GORT_ESTATE);
}

GORT_API int gort_gc_helpers(int n, gort_fn fn, void *arg) {
    if (fn == nullptr || n < 1) return GORT_EINVAL;
    if (int rc = require(Caller::Any)) return rc;
    if (!holds_stopped_world(curg())) return GORT_ESTATE;  // also from a host thread or g0
    return helpgc(n, fn, arg);
}

}  // extern "C"
