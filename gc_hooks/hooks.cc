// gc_hooks/hooks.cc - the host's hooks, the phase, and gcphasework (seed:
// gcphase, gcphasework, scanstack; the forced-GC period of sysmon).
//
// The hooks are an immutable copy published with one atomic pointer: a scan
// on any thread reads one consistent set without a lock. A replaced copy is
// kept until gort_shutdown (hooks change rarely; a scan may still be reading
// it), so nothing is freed under a reader.
#include "gc_hooks/hooks.h"

#include <new>

#include "gc_hooks/gcscan.h"
#include "gc_hooks/gcwork.h"
#include "core/sched/proc.h"
#include "core/base/rtalloc.h"
#include "core/base/atomics.h"

namespace gort {

atomic<uint32_t> gcphase{GORT_GC_OFF};

namespace {

// seed: forcegcperiod, 2 minutes.
constexpr int64_t kForceGCPeriod = 2 * 60 * 1000000000ll;

struct Hooks {
    gort_gc_hooks h;
    Hooks *retired;  // older copies (gclock via gc_if_idle)
};
atomic<Hooks *> current{nullptr};
Hooks *retired = nullptr;

// Depth of scan_g calls on this thread. A scan runs on g0 or on a host
// thread, or on a goroutine's stack inside casgstatus; none switches
// goroutines while scan_g runs, so a thread_local is exact here.
thread_local int in_scan_g = 0;

struct SetArg {
    Hooks *nh;
};

void swap_hooks(void *arg) {
    Hooks *nh = static_cast<SetArg *>(arg)->nh;
    Hooks *old = current.exchange(nh, std::memory_order_acq_rel);
    if (old != nullptr) {
        old->retired = retired;
        retired = old;
    }
}

}  // namespace

int gc_set_hooks(const gort_gc_hooks *h) {
    Hooks *nh = nullptr;
    if (h != nullptr) {
        nh = static_cast<Hooks *>(rtalloc(sizeof(Hooks)));
        new (nh) Hooks{};
        // Copy what the caller's struct has; later fields stay zero.
        std::size_t n = h->size < sizeof(gort_gc_hooks) ? h->size : sizeof(gort_gc_hooks);
        __builtin_memcpy(&nh->h, h, n);
        nh->h.size = sizeof(gort_gc_hooks);
        if (nh->h.force_period_ns == 0) nh->h.force_period_ns = kForceGCPeriod;
    }
    SetArg a{nh};
    if (!gc_if_idle(swap_hooks, &a)) {
        if (nh != nullptr) rtfree(nh);
        return GORT_EBUSY;
    }
    return GORT_OK;
}

// seed: gcphasework. The gp has been moved to a GC safepoint. GC phase
// specific work is done here.
void gcphasework(G *gp, uint32_t status, uintptr_t saved_sp) {
    switch (gcphase.load(std::memory_order_acquire)) {
        default:  // GORT_GC_OFF, GORT_GC_MARK: no work.
            break;
        case GORT_GC_SCAN: {
            // seed: scanstack. gort hands the stack to the host: precise
            // roots through gort_scan_precise_roots, the execution stack as
            // a conservative range.
            Hooks *h = current.load(std::memory_order_acquire);
            if (h == nullptr) break;
            gort_scan s{};
            s.size = sizeof(gort_scan);
            s.g = reinterpret_cast<gort_g *>(gp);
            s.goid = gp->goid;
            s.status = int(status);
            s.stack_lo = reinterpret_cast<const void *>(gp->stack.lo);
            s.stack_hi = reinterpret_cast<const void *>(gp->stack.hi);
            s.saved_sp = reinterpret_cast<const void *>(saved_sp);
            in_scan_g++;
            h->h.scan_g(&s, h->h.ctx);
            in_scan_g--;
            break;
        }
    }
    gcworkdone_set(gp);  // the scanner then notifies (gc_hooks/gcscan.cc)
}

bool in_scan_callback() { return in_scan_g != 0; }

int64_t gc_force_period() {
    Hooks *h = current.load(std::memory_order_acquire);
    return h != nullptr && h->h.gc_trigger != nullptr ? h->h.force_period_ns : 0;
}

void gc_trigger_call() {
    Hooks *h = current.load(std::memory_order_acquire);
    if (h != nullptr && h->h.gc_trigger != nullptr) h->h.gc_trigger(h->h.ctx);
}

void gc_hooks_release() {
    Hooks *h = current.exchange(nullptr, std::memory_order_relaxed);
    if (h != nullptr) rtfree(h);
    while (retired != nullptr) {
        Hooks *next = retired->retired;
        rtfree(retired);
        retired = next;
    }
    gcphase.store(GORT_GC_OFF, std::memory_order_relaxed);
}

}  // namespace gort
