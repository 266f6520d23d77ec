// tests/sched/stw_test.cc - stop/start the world (seed: stoptheworld,
// starttheworld) and procresize at run time (gort_set_maxprocs).
#include <time.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/util/testutil.h"

using namespace gort_test;

namespace {

// Churn: goroutines that spawn, park, get readied and exit, counting
// progress, until told to stop.
struct Churn {
    std::atomic<int64_t> progress{0};
    std::atomic<bool> stop{false};
    std::atomic<int64_t> spawned{0}, exited{0};

    void worker(int depth) {
        spawned.fetch_add(1);
        for (int i = 0; i < 20 && !stop.load(std::memory_order_relaxed); i++) {
            progress.fetch_add(1, std::memory_order_relaxed);
            if (i % 5 == 0) {
                // park and be readied by a child
                gort_g *self = gort_self();
                Sema s;
                go([&s] { s.post(); });
                s.acquire();
                (void)self;
            } else if (i % 3 == 0) {
                gort_gosched();
            } else {
                gort_safepoint();
            }
        }
        if (depth > 0 && !stop.load(std::memory_order_relaxed)) {
            go([this, depth] { worker(depth - 1); });
        }
        exited.fetch_add(1);
    }
};

}  // namespace

// The world stopped 100 times while thousands of goroutines spawn, park,
// are readied and exit: while it is stopped nothing else runs (progress is
// frozen), and afterwards every goroutine has finished.
TEST(StopTheWorld, RepeatedUnderChurn) {
    const int n = int(scaled(10000, 100, 2000)), rounds = int(scaled(100, 10, 50));
    Churn c;
    run_main(2, [&] {
        Join join(n);
        for (int i = 0; i < n; i++)
            go([&] {
                c.worker(3);
                join.done();
            });
        for (int r = 0; r < rounds; r++) {
            ASSERT_EQ(gort_stop_the_world("test"), GORT_OK);
            int64_t before = c.progress.load();
            for (int spin = 0; spin < 20000; spin++) __builtin_ia32_pause();  // give others time to (wrongly) run
            EXPECT_EQ(c.progress.load(), before) << "round " << r << ": a goroutine ran while the world was stopped";
            EXPECT_EQ(gort_stop_the_world("again"), GORT_ESTATE) << "nested stop";
            EXPECT_EQ(gort_gosched(), GORT_ESTATE) << "yield with the world stopped";
            EXPECT_EQ(gort_park(nullptr, nullptr, "x"), GORT_ESTATE);
            ASSERT_EQ(gort_start_the_world(), GORT_OK);
            gort_gosched();
        }
        c.stop = true;
        join.wait();
        // Children spawned at depth>0 may still be finishing: wait for them.
        for (int k = 0; k < 100000 && c.exited.load() != c.spawned.load(); k++) gort_gosched();
        EXPECT_EQ(c.exited.load(), c.spawned.load());
        for (int k = 0; k < 100000 && gort_numgoroutine() != 1; k++) gort_gosched();
        EXPECT_EQ(gort_numgoroutine(), 1);
    });
}

TEST(StopTheWorld, BadCalls) {
    EXPECT_EQ(gort_stop_the_world(nullptr), GORT_ENOTINIT);
    EXPECT_EQ(gort_start_the_world(), GORT_ENOTINIT);
    run_main(2, [&] {
        EXPECT_EQ(gort_start_the_world(), GORT_ESTATE) << "start without stop";
        int host_rc = 1;
        std::thread t([&] { host_rc = gort_stop_the_world(nullptr); });
        t.join();
        EXPECT_EQ(host_rc, GORT_ENOTG);
        // Only the stopper restarts.
        ASSERT_EQ(gort_stop_the_world(nullptr), GORT_OK);
        ASSERT_EQ(gort_start_the_world(), GORT_OK);
    });
}

// Two goroutines stopping the world at once take turns (worldsema).
TEST(StopTheWorld, ConcurrentStoppersTakeTurns) {
    const int per = int(scaled(200, 20, 100));
    std::atomic<int> inside{0}, overlap{0};
    run_main(2, [&] {
        Join join(2);
        for (int k = 0; k < 2; k++)
            go([&] {
                for (int i = 0; i < per; i++) {
                    ASSERT_EQ(gort_stop_the_world("turns"), GORT_OK);
                    if (inside.fetch_add(1) != 0) overlap++;
                    inside.fetch_sub(1);
                    ASSERT_EQ(gort_start_the_world(), GORT_OK);
                }
                join.done();
            });
        join.wait();
    });
    EXPECT_EQ(overlap.load(), 0);
}

// procresize at run time: up and down under load, from a goroutine; no
// goroutine is lost and the previous value comes back.
TEST(SetMaxprocs, UpAndDownUnderLoad) {
    const int n = int(scaled(5000, 60, 1000));
    const int sizes[] = {3, 1, 4, 2, 8, 1, 2};
    Churn c;
    run_main(2, [&] {
        Join join(n);
        for (int i = 0; i < n; i++)
            go([&] {
                c.worker(2);
                join.done();
            });
        int prev = 2;
        for (int rep = 0; rep < int(scaled(10, 2, 5)); rep++) {
            for (int s : sizes) {
                ASSERT_EQ(gort_set_maxprocs(s), prev);
                EXPECT_EQ(gort_maxprocs(), s);
                prev = s;
                for (int k = 0; k < 5; k++) gort_gosched();
            }
        }
        c.stop = true;
        join.wait();
        for (int k = 0; k < 100000 && c.exited.load() != c.spawned.load(); k++) gort_gosched();
        EXPECT_EQ(c.exited.load(), c.spawned.load());
        EXPECT_EQ(gort_set_maxprocs(2), prev);
    });
}

// From a host thread in background mode, and before the start.
TEST(SetMaxprocs, FromHostThread) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 2;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    EXPECT_EQ(gort_set_maxprocs(3), 2) << "before gort_start";
    EXPECT_EQ(gort_maxprocs(), 3);
    ASSERT_EQ(gort_start(), GORT_OK);
    const int n = int(scaled(2000, 100, 500));
    std::atomic<int> done{0};
    for (int i = 0; i < n; i++) {
        ASSERT_EQ(gort_go(
                      [](void *p) {
                          for (int k = 0; k < 10; k++) gort_gosched();
                          static_cast<std::atomic<int> *>(p)->fetch_add(1);
                      },
                      &done, 0, nullptr),
                  GORT_OK);
        if (i % 200 == 0) {
            int want = 1 + (i / 200) % 4;
            int prev = gort_set_maxprocs(want);
            EXPECT_GE(prev, 1);
            EXPECT_EQ(gort_maxprocs(), want);
        }
    }
    for (int k = 0; k < 10000 && done.load() != n; k++) {
        timespec ts{0, 1000000};
        nanosleep(&ts, nullptr);  // bounds the wait; the count decides
    }
    EXPECT_EQ(done.load(), n) << "goroutines lost across procresize";
    EXPECT_EQ(gort_set_maxprocs(0), GORT_EINVAL);
    EXPECT_EQ(gort_set_maxprocs(257), GORT_EINVAL);
    EXPECT_EQ(gort_maxprocs() >= 1, true);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(gort_set_maxprocs(2), GORT_ENOTINIT);
}

TEST(SetMaxThreads, LimitAndErrors) {
    EXPECT_EQ(gort_set_max_threads(10), GORT_ENOTINIT);
    run_main(2, [&] {
        EXPECT_EQ(gort_set_max_threads(0), GORT_EINVAL);
        EXPECT_EQ(gort_set_max_threads(1), GORT_EBUSY) << "below the threads already created";
        int prev = gort_set_max_threads(500);
        EXPECT_EQ(prev, 10000);
        EXPECT_EQ(gort_set_max_threads(prev), 500);
    });
}
