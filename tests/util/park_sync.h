// tests/util/park_sync.h - blocking helpers built on gort_park/gort_ready alone,
// shared by the tests and bench/ (the runtime's own channels and semaphores
// come with the channels issue). Header-only, public API only.
#pragma once

#include <gort/gort.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>

namespace park_sync {

// Join: wait for n events from other goroutines (a WaitGroup on park/ready).
// pending counts the events plus one for the waiter, so that whichever of
// the last event and the parked waiter comes second knows it is last.
struct Join {
    std::atomic<int64_t> pending;
    gort_g *waiter = nullptr;
    explicit Join(int64_t n) : pending(n + 1) {}
    void done() {
        if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            int rc = gort_ready(waiter);
            if (rc != GORT_OK) abort();
        }
    }
    // From a goroutine.
    void wait() {
        waiter = gort_self();  // published to done() by the RMWs on pending
        gort_park(
            [](gort_g *, void *p) -> int {
                auto *j = static_cast<Join *>(p);
                return j->pending.fetch_sub(1, std::memory_order_acq_rel) != 1;
            },
            this, "join");
    }
};

// Sema: a counting semaphore for goroutines on park/ready (one waiter at a
// time). post may come from any thread. v > 0: tokens; v == -1: the waiter
// is parked (or parking) and the next post hands it the token directly.
struct Sema {
    std::atomic<int64_t> v{0};
    gort_g *waiter = nullptr;

    void post() {
        for (;;) {
            int64_t c = v.load(std::memory_order_acquire);
            if (c == -1) {
                if (v.compare_exchange_weak(c, 0, std::memory_order_acq_rel)) {
                    if (gort_ready(waiter) != GORT_OK) abort();
                    return;
                }
            } else if (v.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel)) {
                return;
            }
        }
    }

    // From a goroutine.
    void acquire() {
        int64_t c = v.load(std::memory_order_acquire);
        while (c > 0)
            if (v.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel)) return;
        waiter = gort_self();
        // unlockf runs once we are marked waiting: either take a token that
        // arrived meanwhile (cancel the park) or announce that we sleep.
        int rc = gort_park(
            [](gort_g *, void *p) -> int {
                auto *s = static_cast<Sema *>(p);
                int64_t c = s->v.load(std::memory_order_acquire);
                for (;;) {
                    if (c > 0) {
                        if (s->v.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel)) return 0;
                    } else if (s->v.compare_exchange_weak(c, -1, std::memory_order_acq_rel)) {
                        return 1;
                    }
                }
            },
            this, "sema");
        if (rc != GORT_OK) abort();
    }
};


}  // namespace park_sync
