// capi/sync.cc - the C ABI of the sync package and the runtime
// semaphore (core/wait/sync.h, core/wait/sema.h). gort_mutex is a Mutex, gort_wg a
// WaitGroup, gort_cond a notifyList: the static_asserts pin the layouts.
#include "capi/checks.h"
#include "core/wait/sync.h"
#include "core/base/throw.h"

using namespace gort;
using namespace gort::capi;

static_assert(sizeof(Mutex) <= sizeof(gort_mutex) && alignof(Mutex) <= alignof(gort_mutex));
static_assert(sizeof(WaitGroup) <= sizeof(gort_wg) && alignof(WaitGroup) <= alignof(gort_wg));
static_assert(sizeof(notifyList) <= sizeof(gort_cond) && alignof(notifyList) <= alignof(gort_cond));
static_assert(std::atomic<uint32_t>::is_always_lock_free && std::atomic<uint64_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));

namespace {

inline Mutex *M_(gort_mutex *m) { return reinterpret_cast<Mutex *>(m); }
inline WaitGroup *W_(gort_wg *w) { return reinterpret_cast<WaitGroup *>(w); }
inline notifyList *N_(gort_cond *c) { return reinterpret_cast<notifyList *>(c); }

}  // namespace

extern "C" {

GORT_API int gort_mutex_lock(gort_mutex *m) {
    if (m == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::MayBlock)) return rc;
    mutex_lock(M_(m));
    return GORT_OK;
}

GORT_API int gort_mutex_trylock(gort_mutex *m) {
    if (m == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::Any)) return rc;
    return result_code(mutex_trylock(M_(m)), GORT_EBUSY);
}

GORT_API int gort_mutex_unlock(gort_mutex *m) {
    if (m == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::Waker)) return rc;
    return result_code(mutex_unlock(M_(m)), GORT_ESTATE);
}

GORT_API int gort_cond_wait(gort_cond *c, gort_mutex *m) {
    if (c == nullptr || m == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::MayBlock)) return rc;
    if (!mutex_locked(M_(m))) return GORT_ESTATE;
    // sync/cond.go: Wait.
    uint32_t t = notifyListAdd(N_(c));
    if (!mutex_unlock(M_(m))) gothrow("gort_cond_wait: mutex unlocked concurrently");
    notifyListWait(N_(c), t);
    mutex_lock(M_(m));
    return GORT_OK;
}

GORT_API int gort_cond_signal(gort_cond *c) {
    if (c == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::Waker)) return rc;
    notifyListNotifyOne(N_(c));
    return GORT_OK;
}

GORT_API int gort_cond_broadcast(gort_cond *c) {
    if (c == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::Waker)) return rc;
    notifyListNotifyAll(N_(c));
    return GORT_OK;
}

GORT_API int gort_wg_add(gort_wg *w, int delta) {
    if (w == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::Waker)) return rc;
    return result_code(wg_add(W_(w), delta), GORT_ESTATE);
}

GORT_API int gort_wg_done(gort_wg *w) { return gort_wg_add(w, -1); }

GORT_API int gort_wg_wait(gort_wg *w) {
    if (w == nullptr) return GORT_EINVAL;
    if (int rc = require(Caller::MayBlock)) return rc;
    return result_code(wg_wait(W_(w)), GORT_ESTATE);
}

GORT_API int gort_semacquire(uint32_t *addr) {
    if (addr == nullptr || (reinterpret_cast<uintptr_t>(addr) & 3) != 0) return GORT_EINVAL;
    if (int rc = require(Caller::MayBlock)) return rc;
    semacquire(reinterpret_cast<atomic<uint32_t> *>(addr));
    return GORT_OK;
}

GORT_API int gort_semrelease(uint32_t *addr) {
    if (addr == nullptr || (reinterpret_cast<uintptr_t>(addr) & 3) != 0) return GORT_EINVAL;
    if (int rc = require(Caller::Waker)) return rc;
    semrelease(reinterpret_cast<atomic<uint32_t> *>(addr));
    return GORT_OK;
}

}  // extern "C"
