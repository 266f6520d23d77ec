// tests/testutil.h - helpers shared by the runtime tests.
#pragma once

#include <gort/gort.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>

namespace gort_test {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kTSan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kTSan = true;
#else
inline constexpr bool kTSan = false;
#endif
#else
inline constexpr bool kTSan = false;
#endif
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kASan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kASan = true;
#else
inline constexpr bool kASan = false;
#endif
#else
inline constexpr bool kASan = false;
#endif

// scaled(n): n in a normal build; far fewer under TSan (its fiber limit: at
// most a few thousand goroutines may live at once, and it is ~10x slower)
// and fewer under ASan.
inline int64_t scaled(int64_t n, int64_t tsan_n, int64_t asan_n) {
    if (kTSan) return tsan_n < n ? tsan_n : n;
    if (kASan) return asan_n < n ? asan_n : n;
    return n;
}

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
        waiter = gort_self();
        std::atomic_thread_fence(std::memory_order_seq_cst);
        gort_park(
            [](gort_g *, void *p) -> int {
                auto *j = static_cast<Join *>(p);
                return j->pending.fetch_sub(1, std::memory_order_acq_rel) != 1;
            },
            this, "join");
    }
};

// run_main: initialise with `procs` Ps, run body as the main goroutine,
// shut down. Returns after everything is joined.
inline void run_main(int procs, std::function<void()> body) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = procs;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    auto *b = &body;
    ASSERT_EQ(gort_main([](void *p) { (*static_cast<std::function<void()> *>(p))(); }, b), GORT_OK);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// go: spawn a C++ callable as a goroutine (heap-allocated closure).
inline int64_t go(std::function<void()> fn) {
    auto *f = new std::function<void()>(std::move(fn));
    int64_t id = -1;
    int rc = gort_go(
        [](void *p) {
            auto *f = static_cast<std::function<void()> *>(p);
            (*f)();
            delete f;
        },
        f, 0, &id);
    if (rc != GORT_OK) abort();
    return id;
}

}  // namespace gort_test

namespace gort_test {

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

}  // namespace gort_test
