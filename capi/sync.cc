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

// A call that may park: the runtime runs, the caller is a goroutine that may
// block.
int check_block() {
    if (!running()) return not_running_code();
    G *gp = curg();
    if (gp == nullptr) return GORT_ENOTG;
    return may_block(gp);
}

// A call that may wake a goroutine: from any thread, but not from a
// goroutine inside a syscall (it may not touch its P).
int check_wake() {
    if (!running()) return not_running_code();
    if (G *gp = curg(); gp != nullptr && in_syscall(gp)) return GORT_ESTATE;
    return GORT_OK;
}

}  // namespace

extern "C" {

GORT_API int gort_mutex_lock(gort_mutex *m) {
    if (m == nullptr) return GORT_EINVAL;
    if (int rc = check_block()) return rc;
    mutex_lock(M_(m));
    return GORT_OK;
}

GORT_API int gort_mutex_trylock(gort_mutex *m) {
    if (m == nullptr) return GORT_EINVAL;
    if (!running()) return not_running_code();
    return mutex_trylock(M_(m)) ? GORT_OK : GORT_EBUSY;
}

GORT_API int gort_mutex_unlock(gort_mutex *m) {
    if (m == nullptr) return GORT_EINVAL;
    if (int rc = check_wake()) return rc;
    return mutex_unlock(M_(m)) ? GORT_OK : GORT_ESTATE;
}

GORT_API int gort_cond_wait(gort_cond *c, gort_mutex *m) {
    if (c == nullptr || m == nullptr) return GORT_EINVAL;
    if (int rc = check_block()) return rc;
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
    if (int rc = check_wake()) return rc;
    notifyListNotifyOne(N_(c));
    return GORT_OK;
}

GORT_API int gort_cond_broadcast(gort_cond *c) {
    if (c == nullptr) return GORT_EINVAL;
    if (int rc = check_wake()) return rc;
    notifyListNotifyAll(N_(c));
    return GORT_OK;
}

GORT_API int gort_wg_add(gort_wg *w, int delta) {
    if (w == nullptr) return GORT_EINVAL;
    if (int rc = check_wake()) return rc;
    return wg_add(W_(w), delta) ? GORT_OK : GORT_ESTATE;
}

GORT_API int gort_wg_done(gort_wg *w) { return gort_wg_add(w, -1); }

GORT_API int gort_wg_wait(gort_wg *w) {
    if (w == nullptr) return GORT_EINVAL;
    if (int rc = check_block()) return rc;
    return wg_wait(W_(w)) ? GORT_OK : GORT_ESTATE;
}

GORT_API int gort_semacquire(uint32_t *addr) {
    if (addr == nullptr || (reinterpret_cast<uintptr_t>(addr) & 3) != 0) return GORT_EINVAL;
    if (int rc = check_block()) return rc;
    semacquire(reinterpret_cast<std::atomic<uint32_t> *>(addr));
    return GORT_OK;
}

GORT_API int gort_semrelease(uint32_t *addr) {
    if (addr == nullptr || (reinterpret_cast<uintptr_t>(addr) & 3) != 0) return GORT_EINVAL;
    if (int rc = check_wake()) return rc;
    semrelease(reinterpret_cast<std::atomic<uint32_t> *>(addr));
    return GORT_OK;
}

}  // extern "C"
