// tests/util/runtime_test_test.cc - the RuntimeTest fixture's leak checks
// fail when something leaks: a goroutine still alive when the body returns
// (gort_main and background mode), a thread still running at TearDown.
#include <gort/gort.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/util/runtime_test.h"

using namespace gort_test;

namespace {

using Fixture = RuntimeTest;
INSTANTIATE_TEST_SUITE_P(RuntimeTest, Fixture, ::testing::Values(2), RuntimeTest::ProcsName);

// Parks for good: gort_shutdown discards it.
void park_forever(void *) { gort_park(nullptr, nullptr, "leaked"); }

}  // namespace

TEST_P(Fixture, ReportsGoroutineLeftByMainBody) {
    leak_wait = std::chrono::milliseconds(200);
    EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(
        run([] { ASSERT_EQ(gort_go(park_forever, nullptr, 0, nullptr), GORT_OK); }),
        "goroutines left when the test body returned: 1");
}

TEST_P(Fixture, ReportsGoroutineLeftInBackgroundMode) {
    leak_wait = std::chrono::milliseconds(200);
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_EQ(gort_go(park_forever, nullptr, 0, nullptr), GORT_OK);
    EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(stop(), "goroutines left when the test body returned: 1");
}

TEST_P(Fixture, ReportsThreadLeftRunning) {
    leak_wait = std::chrono::milliseconds(200);
    run([] {});
    std::atomic<bool> quit{false};
    std::thread t([&] {
        while (!quit.load()) std::this_thread::yield();
    });
    EXPECT_NONFATAL_FAILURE(check_threads(), "threads left after shutdown");
    quit = true;
    t.join();
}

// A clean run passes every check, twice in one test (a fresh runtime each).
TEST_P(Fixture, CleanRunsPass) {
    for (int cycle = 0; cycle < 2; cycle++) {
        std::atomic<int> ran{0};
        run([&] {
            Join j(10);
            for (int i = 0; i < 10; i++)
                go([&] {
                    ran.fetch_add(1);
                    j.done();
                });
            j.wait();
        });
        EXPECT_EQ(ran.load(), 10);
    }
}
