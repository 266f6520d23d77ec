// tests/util/runtime_test.h - RuntimeTest, the fixture for tests that run
// the same scenario over P counts {1, 2, 4, 8}, with a leak check around
// every runtime they start.
//
//   namespace { using Procs = gort_test::RuntimeTest; }
//   GORT_INSTANTIATE_PROCS(Chan, Procs);           // Chan/Procs.X/procs1 ... procs8
//   TEST_P(Procs, PingPong) {
//       run([&] { ... });                          // gort_main with procs() Ps
//   }
//
// run(body) inits the runtime with procs() Ps, runs body as the main
// goroutine and shuts down; it may be called several times per test (a
// fresh runtime each time). start() is background mode instead: body code
// runs on the test's host thread, and stop() (or TearDown) shuts down.
// Around each runtime the fixture checks:
//   - no goroutine is left once the body is done (gort_numgoroutine is 1 in
//     run's main goroutine, 0 in background mode before stop), polled with
//     a deadline since an exiting goroutine may still be on its way out;
//   - gort_shutdown releases its stacks: a goroutine stack's address seen
//     during the run is unmapped afterwards, and the stack allocator holds
//     no arena and no stack (gort::stack_stats);
//   - TearDown: the process has exactly the threads it had in SetUp
//     (gort_shutdown joins every thread it created), polled with a deadline.
// The deadlines are leak_wait (30 s): a leak fails the test, it never hangs.
// Each test runs under a Watchdog (watchdog_secs(), default 300 s): a hang
// aborts with the test's name instead of stalling the suite.
#pragma once

#include <gort/gort.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/stack/stack_alloc.h"
#include "tests/util/proc_self.h"
#include "tests/util/testutil.h"

namespace gort_test {

class RuntimeTest : public ::testing::TestWithParam<int> {
public:
    // The P counts every RuntimeTest suite runs over, and their names.
    static constexpr int kProcs[] = {1, 2, 4, 8};
    static std::string ProcsName(const ::testing::TestParamInfo<int> &info) {
        return "procs" + std::to_string(info.param);
    }

protected:
    int procs() const { return GetParam(); }

    // scaled (testutil.h) for the test's P count: under a sanitizer the
    // instances at 4 and 8 Ps run a quarter of the sanitizer count, so
    // that the P counts added to the scenarios run at 1 and 2 Ps before
    // cost the sanitizer passes little (TSan: ~10-50x per operation).
    // Static, so that captureless lambdas in run(...) bodies can call it.
    static int64_t scaled(int64_t n, int64_t tsan_n, int64_t asan_n) {
        int64_t v = gort_test::scaled(n, tsan_n, asan_n);
        if ((kTSan || kASan) && current_procs_ > 2) v = v / 4 > 0 ? v / 4 : 1;
        return v;
    }
    virtual int watchdog_secs() const { return 300; }
    // How long the leak checks wait for goroutines and threads to go.
    std::chrono::milliseconds leak_wait{30000};

    void SetUp() override {
        current_procs_ = GetParam();
        name_ = std::string(::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name()) + "." +
                ::testing::UnitTest::GetInstance()->current_test_info()->name();
        // Started before the thread count is taken (it is a thread, and
        // under TSan the first pthread_create starts TSan's own thread).
        wd_ = std::make_unique<Watchdog>(name_.c_str(), watchdog_secs());
        tasks0_ = count_tasks();
    }

    void TearDown() override {
        if (background_) stop();
        check_threads();
        wd_.reset();
    }

    // The process has the threads it had in SetUp (waits up to leak_wait).
    void check_threads() {
        EXPECT_TRUE(poll_until([&] { return count_tasks() == tasks0_; }, leak_wait))
            << "threads left after shutdown: " << count_tasks() << ", " << tasks0_ << " before the test";
    }

    // Init with procs() Ps, run body as the main goroutine, shut down, check.
    void run(std::function<void()> body) {
        gort_config cfg;
        gort_config_init(&cfg);
        cfg.maxprocs = procs();
        ASSERT_EQ(gort_init(&cfg), GORT_OK);
        struct Ctx {
            std::function<void()> *body;
            uintptr_t stack_addr;
            std::chrono::milliseconds wait;
        } ctx{&body, 0, leak_wait};
        ASSERT_EQ(gort_main(
                      [](void *p) {
                          auto *c = static_cast<Ctx *>(p);
                          (*c->body)();
                          c->stack_addr = probe_stack();
                          EXPECT_TRUE(poll_until([] { return gort_numgoroutine() == 1; }, c->wait, true))
                              << "goroutines left when the test body returned: " << gort_numgoroutine() - 1;
                      },
                      &ctx),
                  GORT_OK);
        ASSERT_EQ(gort_shutdown(), GORT_OK);
        check_released(ctx.stack_addr);
    }

    // Background mode with procs() Ps; stop() or TearDown shuts it down.
    void start() {
        ASSERT_FALSE(background_) << "start() twice without stop()";
        ASSERT_NO_FATAL_FAILURE(start_background(procs()));
        background_ = true;
    }

    // Background mode: wait for every goroutine to finish, shut down, check.
    void stop() {
        if (!background_) return;
        background_ = false;
        EXPECT_TRUE(poll_until([] { return gort_numgoroutine() == 0; }, leak_wait))
            << "goroutines left when the test body returned: " << gort_numgoroutine();
        HostLatch l(1);
        struct Ctx {
            HostLatch *l;
            uintptr_t addr;
        } ctx{&l, 0};
        ASSERT_EQ(gort_go(
                      [](void *p) {
                          auto *c = static_cast<Ctx *>(p);
                          c->addr = reinterpret_cast<uintptr_t>(&c);  // this goroutine's stack
                          c->l->count_down();
                      },
                      &ctx, 0, nullptr),
                  GORT_OK);
        EXPECT_TRUE(l.wait_for(std::chrono::seconds(60))) << "probe goroutine did not run";
        EXPECT_TRUE(is_mapped(ctx.addr)) << "goroutine stack not mapped during the run?";
        ASSERT_EQ(gort_shutdown(), GORT_OK);
        check_released(ctx.addr);
    }

private:
    // Polls cond until it holds or `wait` passes; from a goroutine (gosched
    // between polls) or a host thread (yield).
    template <class F> static bool poll_until(F cond, std::chrono::milliseconds wait, bool in_goroutine = false) {
        auto deadline = std::chrono::steady_clock::now() + wait;
        while (!cond()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            if (in_goroutine) gort_gosched();
            else std::this_thread::yield();
        }
        return true;
    }

    // From the main goroutine: the address of a local of a fresh goroutine
    // (on an execution stack from the stack allocator), once it has exited.
    static uintptr_t probe_stack() {
        Join j(1);
        struct Ctx {
            Join *j;
            uintptr_t addr;
        } ctx{&j, 0};
        int rc = gort_go(
            [](void *p) {
                auto *c = static_cast<Ctx *>(p);
                uintptr_t local = reinterpret_cast<uintptr_t>(&c);
                c->addr = local;
                c->j->done();
            },
            &ctx, 0, nullptr);
        EXPECT_EQ(rc, GORT_OK);
        if (rc != GORT_OK) return 0;
        j.wait();
        // Mapped now (else the check after shutdown would prove nothing).
        EXPECT_TRUE(is_mapped(ctx.addr)) << "goroutine stack not mapped during the run?";
        return ctx.addr;
    }

    static void check_released(uintptr_t stack_addr) {
        if (stack_addr != 0)
            EXPECT_FALSE(is_mapped(stack_addr)) << "goroutine stack memory left mapped after gort_shutdown";
        gort::StackStats st = gort::stack_stats();
        EXPECT_EQ(st.arenas, 0u) << "stack arenas kept after gort_shutdown";
        EXPECT_EQ(st.exec_in_use + st.managed_in_use, 0u) << "stacks in use after gort_shutdown";
    }

    static inline int current_procs_ = 0;
    std::string name_;
    std::unique_ptr<Watchdog> wd_;
    int tasks0_ = 0;
    bool background_ = false;
};

}  // namespace gort_test

// Instantiates a RuntimeTest suite over {1, 2, 4, 8} Ps: names
// Prefix/Fixture.Test/procs1 ... /procs8.
#define GORT_INSTANTIATE_PROCS(prefix, fixture)                                                  \
    INSTANTIATE_TEST_SUITE_P(prefix, fixture, ::testing::ValuesIn(::gort_test::RuntimeTest::kProcs), \
                             ::gort_test::RuntimeTest::ProcsName)
