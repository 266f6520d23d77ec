// tests/sched/preempt_test.cc - cooperative preemption (seed: preemptone via
// sysmon's retake, stackguard0 = stackPreempt) and gort_safepoint, and
// gort_proc_pin.
#include <time.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "tests/util/testutil.h"

using namespace gort_test;

namespace {
int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
constexpr int64_t kBound = 10 * 1000000000ll;  // a failure, not a hang
}  // namespace

// With 1 P, a goroutine that loops calling gort_safepoint does not starve
// another: sysmon asks it to yield after its 10 ms slice.
//
// gort_go is a safe point too (capi/lifecycle.cc, as the seed's newproc
// stack check): if the looper's slice is already spent when it spawns, it
// yields there and the other goroutine runs before the loop starts. Its
// slice can be spent at once because it is inherited: the main goroutine
// readies it into runnext and parks, and runnext keeps the slice (Go 1.5+).
// The looper therefore yields first (a fresh slice), and an iteration in
// which the spawn still yielded (a slow or descheduled thread) tests nothing
// about the loop and is retried.
TEST(Preempt, SafepointLoopDoesNotStarveOthers) {
    const int iters = int(scaled(10, 3, 5));
    int64_t worst = 0;
    int conclusive = 0;
    run_main(1, [&] {
        for (int i = 0; i < 5 * iters && conclusive < iters; i++) {
            std::atomic<int> other_ran{0};
            std::atomic<bool> spawn_yielded{false};
            std::atomic<int64_t> yields{0}, start{0}, ran_at{0};
            Join join(2);
            // The looper starts the other goroutine itself, so that the
            // other cannot run first whatever the spawn order (a goroutine
            // started by a goroutine goes to its P's runnext, core/sched/runq.h).
            go([&] {
                ASSERT_EQ(gort_gosched(), GORT_OK);
                start = now_ns();
                go([&] {
                    ran_at = now_ns();
                    other_ran = 1;
                    join.done();
                });
                spawn_yielded = other_ran.load() != 0;
                int64_t deadline = start + kBound;
                while (other_ran.load(std::memory_order_relaxed) == 0 && now_ns() < deadline) {
                    int r = gort_safepoint();
                    ASSERT_GE(r, 0);
                    yields += r;
                }
                join.done();
            });
            join.wait();
            ASSERT_EQ(other_ran.load(), 1) << "iteration " << i << ": the looping goroutine was never preempted";
            if (spawn_yielded.load()) continue;
            conclusive++;
            EXPECT_GE(yields.load(), 1) << "iteration " << i << ": the other goroutine ran, but gort_safepoint never reported a yield";
            worst = std::max(worst, ran_at.load() - start.load());
        }
    });
    ASSERT_GE(conclusive, 1) << "every spawn yielded: the safepoint loop was never exercised";
    std::printf("worst preemption latency over %d conclusive of %d runs: %.3f ms\n", conclusive, iters,
                double(worst) / 1e6);
}

// Nothing pending: gort_safepoint returns 0 and does not switch.
TEST(Preempt, SafepointIsNoOpWhenNothingPending) {
    run_main(2, [&] {
        gort_g *self = gort_self();
        int yields = 0;
        for (int i = 0; i < 1000; i++) yields += gort_safepoint();
        // sysmon may preempt once if this took over 10 ms (it never should
        // here, but the machine may be loaded): allow one yield, not more.
        EXPECT_LE(yields, 1);
        EXPECT_EQ(gort_self(), self);
    });
}

TEST(Preempt, SafepointBadCallers) {
    EXPECT_EQ(gort_safepoint(), GORT_ENOTINIT);
    run_main(1, [&] {
        int host_rc = 1;
        std::thread t([&] { host_rc = gort_safepoint(); });
        t.join();
        EXPECT_EQ(host_rc, GORT_ENOTG);
        static std::atomic<int> g0_rc{1};
        gort_g *self = gort_self();
        go([self] {
            while (gort_ready(self) != GORT_OK) gort_gosched();
        });
        gort_park([](gort_g *, void *) -> int {
            g0_rc = gort_safepoint();
            return 1;
        }, nullptr, "test");
        EXPECT_EQ(g0_rc.load(), GORT_ENOTG);
    });
}

// A pinned goroutine keeps its P: with 1 P nobody else runs, even with a
// preemption request pending; the request is served after the unpin.
TEST(Preempt, PinHoldsTheProcessor) {
    const int iters = int(scaled(5, 2, 3));
    run_main(1, [&] {
        for (int i = 0; i < iters; i++) {
            std::atomic<int> other_ran{0};
            Join join(2);
            go([&] {
                // Started here, before the pin, so that it cannot run first
                // (see SafepointLoopDoesNotStarveOthers).
                go([&] {
                    other_ran = 1;
                    join.done();
                });
                int id = gort_proc_pin();
                ASSERT_GE(id, 0);
                ASSERT_LT(id, gort_maxprocs());
                EXPECT_EQ(gort_proc_pin(), GORT_ESTATE) << "pins do not nest";
                EXPECT_EQ(gort_gosched(), GORT_ESTATE) << "a pinned goroutine must not yield";
                EXPECT_EQ(gort_entersyscall(), GORT_ESTATE);
                int64_t until = now_ns() + 30 * 1000000;  // 3 of sysmon's 10 ms slices
                while (now_ns() < until) EXPECT_EQ(gort_safepoint(), 0);
                EXPECT_EQ(other_ran.load(), 0) << "another goroutine ran on the pinned P";
                ASSERT_EQ(gort_proc_unpin(), GORT_OK);
                EXPECT_EQ(gort_proc_unpin(), GORT_ESTATE);
                int64_t deadline = now_ns() + kBound;
                while (other_ran.load() == 0 && now_ns() < deadline) gort_safepoint();
                EXPECT_EQ(other_ran.load(), 1) << "the preemption request was lost by the pin";
                join.done();
            });
            join.wait();
        }
    });
}

TEST(Preempt, PinBadCalls) {
    EXPECT_EQ(gort_proc_pin(), GORT_ENOTINIT);
    EXPECT_EQ(gort_proc_unpin(), GORT_ENOTINIT);
    run_main(2, [&] {
        EXPECT_EQ(gort_proc_unpin(), GORT_ESTATE);
        int host_rc = 1;
        std::thread t([&] { host_rc = gort_proc_pin(); });
        t.join();
        EXPECT_EQ(host_rc, GORT_ENOTG);
    });
}
