// core/wait/sync.h - Go's sync.Mutex, sync.Cond and sync.WaitGroup on the runtime
// semaphore (core/wait/sema.h). Their layouts are the C ABI's gort_mutex,
// gort_cond and gort_wg: zero means unlocked / no waiters / counter 0.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/base/atomics.h"
#include "core/wait/sema.h"

namespace gort {

// sync/mutex.go: type Mutex.
struct Mutex {
    atomic<int32_t> state{0};
    atomic<uint32_t> sema{0};
};
void mutex_lock(Mutex *m);      // goroutine
bool mutex_trylock(Mutex *m);   // any thread
// false (changing nothing) if m is not locked.
bool mutex_unlock(Mutex *m);    // any thread
bool mutex_locked(const Mutex *m);

// sync/waitgroup.go: type WaitGroup. state: counter in the high 32 bits,
// waiter count in the low 32.
struct WaitGroup {
    atomic<uint64_t> state{0};
    atomic<uint32_t> sema{0};
};
// false (changing nothing) if the counter would go negative or past
// INT32_MAX, or on an Add racing with Wait that Go calls misuse.
bool wg_add(WaitGroup *w, int32_t delta);  // any thread
// false: the WaitGroup was reused before this Wait returned (Go panics).
bool wg_wait(WaitGroup *w);                // goroutine

}  // namespace gort
