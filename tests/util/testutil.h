// tests/util/testutil.h - helpers shared by the runtime tests.
#pragma once

#include <gort/gort.h>
#include <gtest/gtest.h>

#include "core/base/sanitizers.h"
#include "tests/util/park_sync.h"

#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <thread>
#include <mutex>
#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <functional>

namespace gort_test {

using park_sync::Join;
using park_sync::Sema;

inline constexpr bool kTSan = GORT_TSAN;
inline constexpr bool kASan = GORT_ASAN;

// scaled(n): n in a normal build; far fewer under TSan (its fiber limit: at
// most a few thousand goroutines may live at once, and it is ~10x slower)
// and fewer under ASan.
inline int64_t scaled(int64_t n, int64_t tsan_n, int64_t asan_n) {
    if (kTSan) return tsan_n < n ? tsan_n : n;
    if (kASan) return asan_n < n ? asan_n : n;
    return n;
}

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

// HostLatch: a host thread waits (bounded) for n count_downs.
struct HostLatch {
    std::mutex mu;
    std::condition_variable cv;
    int64_t n;
    explicit HostLatch(int64_t n) : n(n) {}
    void count_down() {
        std::lock_guard<std::mutex> l(mu);
        if (--n == 0) cv.notify_all();
    }
    bool wait_for(std::chrono::seconds s) {
        std::unique_lock<std::mutex> l(mu);
        return cv.wait_for(l, s, [&] { return n == 0; });
    }
};

// start_background: init with `procs` Ps (and GORT_DEBUG-style `debug`,
// nullptr: the environment's) and start background mode.
inline void start_background(int procs, const char *debug = nullptr) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = procs;
    cfg.debug = debug;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
}

// Watchdog: aborts the process with a message if the scope is not left
// within secs (a hang fails the test instead of stalling the suite).
class Watchdog {
public:
    Watchdog(const char *what, int secs) : what_(what) {
        th_ = std::thread([this, secs] {
            std::unique_lock<std::mutex> l(mu_);
            if (!cv_.wait_for(l, std::chrono::seconds(secs), [this] { return done_; })) {
                std::fprintf(stderr, "watchdog: %s did not finish in %d s\n", what_, secs);
                std::abort();
            }
        });
    }
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> l(mu_);
            done_ = true;
        }
        cv_.notify_all();
        th_.join();
    }

private:
    const char *what_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread th_;
};

}  // namespace gort_test
