// capi/lifecycle.cc - the C ABI of the runtime itself: init, main, start,
// shutdown, spawning, the current goroutine, statistics. Every entry point
// of capi/ validates every argument, then calls into core/; it is noexcept
// and returns a GORT_* code; bad input changes nothing. Broken invariants
// inside core/ are fatal (gothrow).
#include <cstddef>
#include <cstring>

#include "capi/checks.h"
#include "capi/include/gort/gort.h"
#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/poll/netpoll.h"
#include "core/sched/proc.h"
#include "core/thread/thread.h"
#include "core/sched/runq.h"
#include "core/lifecycle.h"
#include "core/stack/stack_alloc.h"
#include "core/base/debugvars.h"

using namespace gort;
using namespace gort::capi;

namespace gort {
}

namespace {

// Minimum struct sizes: version 1 of each struct. Larger sizes come from
// newer headers and are accepted; their extra fields are ignored.
constexpr std::size_t kConfigV1 = sizeof(gort_config);
constexpr std::size_t kGoOptsV1 = sizeof(gort_go_opts);
constexpr std::size_t kStatsV1 = sizeof(gort_stats);

int go_common(gort_fn fn, const void *arg, std::size_t argsize, const gort_go_opts *opts, int64_t *goid_out) {
    if (fn == nullptr) return GORT_EINVAL;
    if (argsize > kMaxArgSize) return GORT_EINVAL;
    if (argsize > 0 && arg == nullptr) return GORT_EINVAL;
    std::size_t stk = 0;
    bool lockos = false;
    if (opts != nullptr) {
        if (opts->size < kGoOptsV1) return GORT_EINVAL;
        if (opts->stack_size != 0) {
            stk = stack_roundsize(opts->stack_size);
            if (stk == 0 || opts->stack_size < kMinStackSize) return GORT_EINVAL;
        }
        lockos = opts->lock_os_thread != 0;
    }
    if (int rc = require(Caller::Waker)) return rc;
    G *self = curg();
    if (newproc1(fn, arg, argsize, stk, lockos, goid_out) == nullptr) return GORT_ENOMEM;
    // A spawn is a safe point, as in the seed (newproc's stack check is
    // where a pending preemption is noticed): a goroutine that only spawns
    // yields after its slice, so its children run and their Gs and stacks
    // are recycled instead of all living at once.
    if (self != nullptr && self->stackguard0.load(std::memory_order_relaxed) == kStackPreempt &&
        self->m->locks == 0) {
        self->preempt.store(false, std::memory_order_relaxed);
        gosched();
    }
    return GORT_OK;
}

}  // namespace

extern "C" {

GORT_API int gort_abi_version(void) { return GORT_ABI_VERSION; }

GORT_API const char *gort_strerror(int err) {
    switch (err) {
        case GORT_OK: return "success";
        case GORT_EINVAL: return "invalid argument";
        case GORT_ENOTINIT: return "runtime not initialised";
        case GORT_ENOTG: return "not called from a goroutine";
        case GORT_ESTATE: return "invalid state for this call";
        case GORT_ENOMEM: return "out of memory";
        case GORT_EAGAIN: return "resource temporarily unavailable";
        case GORT_EBUSY: return "resource busy";
        case GORT_ESTACKOVERFLOW: return "stack overflow";
        case GORT_ETIMEDOUT: return "timed out";
        case GORT_ECLOSED: return "closed";
        default: return "unknown error";
    }
}

GORT_API void gort_config_init(gort_config *cfg) {
    if (cfg == nullptr) return;
    std::memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
}

GORT_API int gort_init(const gort_config *cfg) {
    RtConfig rc{0, 0, 0, nullptr};
    if (cfg != nullptr) {
        if (cfg->size < kConfigV1) return GORT_EINVAL;
        if (cfg->maxprocs < 0 || cfg->maxprocs > kMaxGomaxprocs) return GORT_EINVAL;
        if (cfg->max_threads < 0) return GORT_EINVAL;
        if (cfg->stack_size != 0) {
            rc.stack_size = stack_roundsize(cfg->stack_size);
            if (rc.stack_size == 0 || cfg->stack_size < kMinStackSize) return GORT_EINVAL;
        }
        if (cfg->debug != nullptr && !parse_debug(cfg->debug, nullptr)) return GORT_EINVAL;
        rc.maxprocs = cfg->maxprocs;
        rc.max_threads = cfg->max_threads;
        rc.debug = cfg->debug;
    }
    if (int err = caller_is(Caller::Host)) return err;  // a goroutine of a running runtime
    return rt_init(rc);
}

GORT_API int gort_main(gort_fn fn, void *arg) {
    if (fn == nullptr) return GORT_EINVAL;
    if (int rc = caller_is(Caller::Host)) return rc;
    if (int rc = runtime_is(Runtime::Unforked)) return rc;
    return rt_main(fn, arg);
}

GORT_API int gort_start(void) {
    if (int rc = runtime_is(Runtime::Unforked)) return rc;  // any caller: rt_start refuses a started runtime
    return rt_start();
}

GORT_API int gort_shutdown(void) {
    if (int rc = caller_is(Caller::Host)) return rc;
    return rt_shutdown();
}

GORT_API int gort_go(gort_fn fn, const void *arg, size_t argsize, int64_t *goid_out) {
    return go_common(fn, arg, argsize, nullptr, goid_out);
}

GORT_API int gort_go_ex(gort_fn fn, const void *arg, size_t argsize, const gort_go_opts *opts,
                        int64_t *goid_out) {
    return go_common(fn, arg, argsize, opts, goid_out);
}

GORT_API gort_g *gort_self(void) { return reinterpret_cast<gort_g *>(curg()); }

GORT_API int64_t gort_goid(const gort_g *g) {
    // Handles die with the runtime: never dereference one without it.
    if (runtime_is(Runtime::Initialised) != GORT_OK) return -1;
    const G *gp = g != nullptr ? g_handle(g) : curg();
    if (gp == nullptr) return -1;
    return gp->goid;
}

GORT_API int gort_gosched(void) {
    if (int rc = require(Caller::MayBlock)) return rc;
    gosched();
    return GORT_OK;
}

namespace {
// The core's unlockf for gort_park: calls the host's unlockf through its own
// type (gort_unlockf); calling it through the core's unlockf_t, a different
// function type, is undefined behaviour (clang's -fsanitize=function reports
// it). The host's function and lock wait in the M (arg), not on the parking
// goroutine's stack: a gort_ready may make gp run elsewhere, and return from
// gort_park, before park_m calls this on g0 (see park_m).
int call_unlockf(G *gp, void *arg) {
    auto *mp = static_cast<M *>(arg);
    auto fn = reinterpret_cast<gort_unlockf>(mp->waithostfn);
    void *lk = mp->waithostlock;
    mp->waithostfn = nullptr;
    mp->waithostlock = nullptr;
    return fn(reinterpret_cast<gort_g *>(gp), lk);
}
}  // namespace

GORT_API int gort_park(gort_unlockf unlockf, void *lk, const char *reason) {
    if (int rc = require(Caller::MayBlock)) return rc;
    const char *why = reason != nullptr ? reason : "park";
    if (unlockf == nullptr) {
        park(nullptr, lk, why);
        return GORT_OK;
    }
    // The caller runs on this M until park's mcall reaches park_m on the
    // same M's g0 (require(MayBlock): not inside a system call).
    M *mp = curg()->m;
    mp->waithostfn = reinterpret_cast<void (*)()>(unlockf);
    mp->waithostlock = lk;
    park(call_unlockf, mp, why);
    return GORT_OK;
}

GORT_API int gort_ready(gort_g *g) {
    if (g == nullptr) return GORT_EINVAL;
    if (int rc = runtime_is(Runtime::Serving)) return rc;  // before touching the handle: it dies with the runtime
    G *gp = g_handle(g);
    if (gp == nullptr) return GORT_EINVAL;
    if (int rc = caller_is(Caller::Waker)) return rc;
    // Parked in gort_sleep / gort_poll_fd: only the runtime wakes it.
    if (runtime_parked(gp)) return GORT_ESTATE;
    if (int rc = result_code(try_casgstatus_waiting_runnable(gp), GORT_ESTATE)) return rc;
    ready_runnable(gp);
    return GORT_OK;
}

GORT_API int gort_goexit(void) {
    // ESTATE from the main goroutine (it ends gort_main by returning) and an
    // extra M's goroutine (it ends gort_call_as_goroutine by returning), as
    // from one that may not block.
    if (int rc = require(Caller::MayBlock)) return rc;
    G *gp = curg();
    if (is_main_goroutine(gp) || gp->isextra) return GORT_ESTATE;
    goexit1();
}

GORT_API int gort_lock_os_thread(void) {
    if (int rc = require(Caller::Goroutine)) return rc;
    LockOSThread();
    return GORT_OK;
}

GORT_API int gort_unlock_os_thread(void) {
    if (int rc = require(Caller::Goroutine)) return rc;
    if ((curg()->m->locked & LockExternal) == 0) return GORT_ESTATE;
    UnlockOSThread();
    return GORT_OK;
}

GORT_API int gort_set_local(void *value) {
    if (int rc = require(Caller::Goroutine)) return rc;
    curg()->local = value;
    return GORT_OK;
}

GORT_API void *gort_get_local(void) {
    return require(Caller::Goroutine) == GORT_OK ? curg()->local : nullptr;
}

GORT_API int gort_maxprocs(void) {
    if (int rc = runtime_is(Runtime::Initialised)) return rc;
    return load_acq(gomaxprocs);
}

GORT_API int gort_numgoroutine(void) {
    if (int rc = runtime_is(Runtime::Initialised)) return rc;
    // gcount is a snapshot taken without gflock: a batch moving between the
    // global and a P's free list may be subtracted twice. The seed clamps to
    // 1 (its caller is a goroutine); so does gort for a goroutine caller.
    int n = gcount();
    return (n < 1 && curg() != nullptr) ? 1 : n;
}

GORT_API int gort_stats_get(gort_stats *st) {
    if (st == nullptr || st->size < kStatsV1) return GORT_EINVAL;
    if (int rc = runtime_is(Runtime::Initialised)) return rc;
    gort_stats out;
    std::memset(&out, 0, sizeof out);
    out.size = sizeof out;
    out.goroutines = gcount();
    lock(&sched.lock);
    out.threads = sched.mcount;  // Ms live until shutdown
    unlock(&sched.lock);
    out.idle_threads = load_relaxed(sched.nmidle);
    out.spinning_threads = load_relaxed(sched.nmspinning);
    out.idle_procs = load_relaxed(sched.npidle);
    out.maxprocs = load_relaxed(gomaxprocs);
    out.global_runq = load_relaxed(sched.runqsize);
    out.goroutines_created = load_relaxed(foreign_created);
    for (int i = 0; i < kMaxGomaxprocs && allp[i] != nullptr; i++) {
        out.goroutines_created += load_relaxed(allp[i]->ncreated);
        out.context_switches += load_relaxed(allp[i]->nswitch);
        out.steals += load_relaxed(allp[i]->nsteal);
    }
    std::size_t n = st->size < sizeof out ? st->size : sizeof out;
    std::size_t keep = st->size;
    std::memcpy(st, &out, n);
    st->size = keep;
    return GORT_OK;
}

}  // extern "C"
