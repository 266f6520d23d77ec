// tests/util/wait_until.h - wait_until(pred, what): from a goroutine, yield
// (gort_gosched) until pred() holds; a test failure naming `what` after 60 s.
// For conditions another goroutine will make true soon (a goroutine
// blocking on a channel, a waiter joining a list), not a sleep.
#pragma once

#include <gort/gort.h>
#include <gtest/gtest.h>

#include <chrono>

namespace gort_test {

template <class F> bool wait_until(F pred, const char *what) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) {
            ADD_FAILURE() << "timed out waiting for " << what;
            return false;
        }
        gort_gosched();
    }
    return true;
}

}  // namespace gort_test
