// tests/sched/timer_test.cc - timers and gort_sleep: the per-P heaps (core/sched/timers.h)
// alone, then many sleepers through the C ABI, ordering, idleness, moving
// timers between Ps, shutdown's fds, and bad inputs. Bounded in time (a
// watchdog aborts a hung scenario with a message), scaled under sanitizers.
#include <dirent.h>
#include <gort/gort.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/poll/netpoll.h"
#include "core/sched/runtime2.h"
#include "core/sched/timers.h"
#include "tests/util/runtime_test.h"
#include "tests/util/testutil.h"

using namespace gort_test;

namespace {

// Scenarios that hold at any P count: RuntimeTest (tests/util/runtime_test.h)
// over {1, 2, 4, 8} Ps, with its leak checks.
using Procs = RuntimeTest;
GORT_INSTANTIATE_PROCS(Timer, Procs);


int count_fds() {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    while (dirent *e = readdir(d))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int64_t cpu_us() {
    rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000000LL + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

// ---- the heap alone: a fake M/P on this thread ----

struct Fired {
    std::vector<int64_t> whens;
};

void record(void *arg, uintptr_t seq) { static_cast<Fired *>(arg)->whens.push_back(int64_t(seq)); }

struct FakeP {
    gort::G g0;
    gort::M m;
    gort::P a, b;
    FakeP() {
        g0.m = &m;
        m.g0 = &g0;
        m.p = &a;
        gort::setg(&g0);
    }
    ~FakeP() {
        gort::setg(nullptr);
        gort::netpoll_release();  // addtimer created the poller's fds
    }
};

TEST(TimerHeap, FiresInOrderAfterRandomAddsAndDeletes) {
    FakeP f;
    std::mt19937_64 rng(42);
    const int n = 2000;
    std::vector<gort::timer> ts(n);
    Fired fired;
    for (int i = 0; i < n; i++) {
        ts[i].when = 1000 + int64_t(rng() % 1000000);
        ts[i].f = record;
        ts[i].arg = &fired;
        ts[i].seq = uintptr_t(ts[i].when);
        gort::addtimer(&ts[i]);
    }
    // Delete every third one: deltimer reports them armed, they never fire.
    std::vector<int64_t> expect;
    for (int i = 0; i < n; i++) {
        if (i % 3 == 0) {
            ASSERT_TRUE(gort::deltimer(&ts[i]));
            ASSERT_FALSE(gort::deltimer(&ts[i])) << "a disarmed timer is not armed";
        } else {
            expect.push_back(ts[i].when);
        }
    }
    std::sort(expect.begin(), expect.end());
    EXPECT_EQ(gort::timers_wakeTime(f.a.timers), expect.front());
    // Run in two steps: only the due half fires first.
    int64_t mid = expect[expect.size() / 2];
    int64_t next = gort::checkTimers(&f.a, mid);
    EXPECT_GT(next, mid);
    for (int64_t w : fired.whens) EXPECT_LE(w, mid) << "a timer fired before it was due";
    gort::checkTimers(&f.a, INT64_MAX);
    EXPECT_EQ(fired.whens, expect) << "timers fired out of order";
    EXPECT_EQ(gort::timers_wakeTime(f.a.timers), 0);
    for (auto &t : ts) EXPECT_FALSE(gort::deltimer(&t)) << "fired timers are no longer armed";
}

TEST(TimerHeap, MoveAllKeepsEveryTimer) {
    FakeP f;
    std::mt19937_64 rng(7);
    const int n = 500;
    std::vector<gort::timer> ts(n);
    Fired fired;
    std::vector<int64_t> expect;
    for (int i = 0; i < n; i++) {
        ts[i].when = 1 + int64_t(rng() % 100000);
        ts[i].f = record;
        ts[i].arg = &fired;
        ts[i].seq = uintptr_t(ts[i].when);
        f.m.p = (i % 2 == 0) ? &f.a : &f.b;  // both Ps hold timers
        gort::addtimer(&ts[i]);
        expect.push_back(ts[i].when);
    }
    f.m.p = &f.a;
    gort::lock(&gort::sched.lock);  // as procresize, when a goes Pdead
    gort::timers_moveall(&f.a, &f.b);
    gort::unlock(&gort::sched.lock);
    EXPECT_EQ(gort::timers_wakeTime(f.a.timers), 0);
    std::sort(expect.begin(), expect.end());
    EXPECT_EQ(gort::timers_wakeTime(f.b.timers), expect.front());
    // A moved timer can still be deleted (it knows its new heap).
    ASSERT_TRUE(gort::deltimer(&ts[0]));
    expect.erase(std::find(expect.begin(), expect.end(), ts[0].when));
    gort::checkTimers(&f.b, INT64_MAX);
    EXPECT_EQ(fired.whens, expect);
}

// ---- gort_sleep through the C ABI ----

struct Sleeper {
    int64_t want = 0, got = 0;
};

TEST_P(Procs, ManySleepersAllWakeNoneEarly) {
    const int64_t n = scaled(10000, 500, 2000);
    std::vector<Sleeper> s(static_cast<std::size_t>(n));
    std::mt19937 rng{uint32_t(procs())};
    for (auto &x : s) x.want = (1 + int64_t(rng() % 50)) * 1000000;
    run([&] {
        Join j(n);
        for (auto &x : s) {
            Sleeper *p = &x;
            go([p, &j] {
                int64_t t0 = gort_nanotime();
                if (gort_sleep(p->want) != GORT_OK) abort();
                p->got = gort_nanotime() - t0;
                j.done();
            });
        }
        j.wait();
    });
    int64_t early = 0;
    for (auto &x : s)
        if (x.got < x.want) early++;
    EXPECT_EQ(early, 0) << early << " of " << n << " sleepers woke early";
}

// Sleepers with well separated deadlines wake in deadline order, whatever
// their spawn order. An inversion needs one wakeup later than the 25 ms gap;
// on this shared CI machine the kernel itself sometimes returns from
// epoll_wait that late (CPU quota throttling: measured up to 100 ms under
// TSan), so a scenario with an inversion is retried, and the test fails
// only if every attempt has one.
bool sleep_ordering_once(std::string *why) {
    const int n = 8;
    std::vector<int> order;
    std::vector<int64_t> lateness;  // us, in wake order
    std::mutex mu;
    run_main(2, [&] {
        Join j(n);
        int idx[n] = {5, 2, 7, 0, 3, 6, 1, 4};
        // Absolute deadlines 25 ms apart, published once every goroutine
        // has started (a loaded machine may start them far apart).
        std::atomic<int> started{0};
        std::atomic<int64_t> base{0};
        for (int k = 0; k < n; k++) {
            int i = idx[k];
            go([i, &started, &base, &order, &lateness, &mu, &j] {
                started.fetch_add(1);
                while (base.load() == 0) gort_sleep(50000);
                int64_t deadline = base.load() + int64_t(i) * 25 * 1000000;
                if (gort_sleep(deadline - gort_nanotime()) != GORT_OK) abort();
                int64_t late = gort_nanotime() - deadline;
                {
                    std::lock_guard<std::mutex> l(mu);
                    order.push_back(i);
                    lateness.push_back(late / 1000);
                }
                j.done();
            });
        }
        while (started.load() != n) gort_sleep(50000);
        base.store(gort_nanotime() + 50 * 1000000);
        j.wait();
    });
    for (int64_t l : lateness)
        if (l < 0) {
            *why = "a sleeper woke early: " + ::testing::PrintToString(lateness);
            return false;
        }
    std::vector<int> want(n);
    for (int i = 0; i < n; i++) want[i] = i;
    if (order == want) return true;
    *why = "wake order " + ::testing::PrintToString(order) +
           ", lateness (us, in wake order) " + ::testing::PrintToString(lateness);
    return false;
}

TEST(Timer, SleepOrdering) {
    Watchdog wd("SleepOrdering", 60);
    std::string why;
    bool ok = false;
    for (int attempt = 0; attempt < 3 && !ok; attempt++) {
        ok = sleep_ordering_once(&why);
        if (!ok && why.rfind("a sleeper woke early", 0) == 0) break;  // never retried
    }
    EXPECT_TRUE(ok) << why;
}

TEST(Timer, SleepZeroAndNegativeYield) {
    run_main(1, [] {
        std::atomic<bool> ran{false};
        go([&] { ran.store(true); });
        // With one P, the other goroutine runs only if sleep(0) yields.
        for (int i = 0; i < 100 && !ran.load(); i++) EXPECT_EQ(gort_sleep(0), GORT_OK);
        EXPECT_TRUE(ran.load()) << "gort_sleep(0) did not yield";
        EXPECT_EQ(gort_sleep(-5), GORT_OK);
        // A huge duration is clamped, not overflowed into the past: that
        // sleeper must still be asleep after a short sleep of ours.
        // (A plain gort_go: the goroutine never ends, so no closure to free.)
        static std::atomic<bool> woke;
        woke.store(false);
        ASSERT_EQ(gort_go(
                      [](void *) {
                          gort_sleep(INT64_MAX);
                          woke.store(true);
                      },
                      nullptr, 0, nullptr),
                  GORT_OK);
        EXPECT_EQ(gort_sleep(5 * 1000000), GORT_OK);
        EXPECT_FALSE(woke.load()) << "gort_sleep(INT64_MAX) returned";
    });
}

// A timer armed on a P stays armed when other goroutines keep that P busy:
// a sleeper with one P wakes while another goroutine spins on gosched.
TEST(Timer, SleeperWakesWhileOtherGoroutineYields) {
    Watchdog wd("SleeperWakesWhileOtherGoroutineYields", 60);
    run_main(1, [] {
        std::atomic<bool> stop{false};
        Join j(1);
        go([&] {
            while (!stop.load()) gort_gosched();
            j.done();
        });
        int64_t t0 = gort_nanotime();
        EXPECT_EQ(gort_sleep(20 * 1000000), GORT_OK);
        EXPECT_GE(gort_nanotime() - t0, 20 * 1000000);
        stop.store(true);
        j.wait();
    });
}

// Only the runtime wakes a sleeper: gort_ready on it is refused and it
// still sleeps its full time.
TEST(Timer, ReadyOnSleeperRefused) {
    Watchdog wd("ReadyOnSleeperRefused", 60);
    run_main(2, [] {
        std::atomic<gort_g *> h{nullptr};
        std::atomic<int64_t> slept{0};
        Join j(1);
        go([&] {
            h.store(gort_self());
            int64_t t0 = gort_nanotime();
            gort_sleep(200 * 1000000);
            slept.store(gort_nanotime() - t0);
            j.done();
        });
        while (h.load() == nullptr) gort_sleep(100000);
        gort_sleep(1000000);  // it is asleep now (or about to be: refused too)
        for (int i = 0; i < 5; i++) EXPECT_EQ(gort_ready(h.load()), GORT_ESTATE);
        j.wait();
        EXPECT_GE(slept.load(), 200 * 1000000) << "an outside gort_ready woke the sleeper early";
    });
}

// A timer added from a host thread (no P) lands on some P and fires on
// time although every M was asleep on its note.
TEST(Timer, HostThreadTimerFires) {
    Watchdog wd("HostThreadTimerFires", 60);
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 2;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
    for (int it = 0; it < 20; it++) {
        static std::atomic<int64_t> fired_at;
        fired_at.store(0);
        gort::timer t;
        int64_t t0 = gort_nanotime();
        t.when = t0 + 2 * 1000000;
        t.f = [](void *, uintptr_t) { fired_at.store(gort_nanotime()); };
        gort::addtimer(&t);
        while (fired_at.load() == 0) std::this_thread::yield();
        EXPECT_GE(fired_at.load(), t.when) << "fired early";
        EXPECT_FALSE(gort::deltimer(&t));
    }
    EXPECT_EQ(gort_shutdown(), GORT_OK);
}

// The idle runtime burns no CPU: one goroutine sleeping 300 ms leaves one
// M in epoll_wait until the deadline, every other M asleep on its note.
TEST(Timer, IdleWhileSleeping) {
    int64_t used = 0, wall = 0;
    run_main(4, [&] {
        gort_sleep(1000000);  // let start-up settle (threads created, poller initialised)
        int64_t c0 = cpu_us();
        int64_t t0 = gort_nanotime();
        EXPECT_EQ(gort_sleep(300 * 1000000), GORT_OK);
        wall = gort_nanotime() - t0;
        used = cpu_us() - c0;
    });
    EXPECT_GE(wall, 300 * 1000000);
    // Generous: a busy-waiting M would use ~300000 us.
    int64_t bound = (kTSan || kASan) ? 60000 : 15000;
    EXPECT_LT(used, bound) << "sleeping runtime used " << used << " us of CPU in " << wall / 1000 << " us";
}

TEST(Timer, ShutdownClosesPollerFds) {
    int before = count_fds();
    run_main(2, [] {
        EXPECT_EQ(gort_sleep(1000000), GORT_OK);  // creates the epoll fd and the eventfd
    });
    EXPECT_EQ(count_fds(), before) << "gort_shutdown left the poller's fds open";
    // And again: the poller is recreated after a new gort_init.
    run_main(1, [] { EXPECT_EQ(gort_sleep(1000000), GORT_OK); });
    EXPECT_EQ(count_fds(), before);
}

TEST(Timer, NoPollerFdsWithoutTimersOrPolls) {
    int before = -1, during = -1;
    before = count_fds();
    run_main(2, [&] {
        Join j(10);
        for (int i = 0; i < 10; i++) go([&] { j.done(); });
        j.wait();
        during = count_fds();
    });
    EXPECT_EQ(during, before) << "the runtime opened fds it does not need";
}

// Shutdown while goroutines sleep far in the future: the M blocked in
// epoll_wait must leave, so shutdown returns.
TEST(Timer, ShutdownWithPendingSleepers) {
    Watchdog wd("ShutdownWithPendingSleepers", 60);
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 2;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
    static std::atomic<int> asleep;
    asleep.store(0);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(gort_go(
                      [](void *) {
                          asleep.fetch_add(1);
                          gort_sleep(int64_t(3600) * 1000000000);
                      },
                      nullptr, 0, nullptr),
                  GORT_OK);
    while (asleep.load() < 4) std::this_thread::yield();
    while (!gort::netpoll_has_waiters_or_timers()) std::this_thread::yield();
    EXPECT_TRUE(gort::netpoll_has_waiters_or_timers());
    EXPECT_EQ(gort_shutdown(), GORT_OK);
}

TEST(Timer, NanotimeIsMonotonic) {
    int64_t prev = gort_nanotime();  // works before gort_init
    EXPECT_GT(prev, 0);
    for (int i = 0; i < 100000; i++) {
        int64_t t = gort_nanotime();
        ASSERT_GE(t, prev);
        prev = t;
    }
}

TEST(Timer, SleepBadCallers) {
    EXPECT_EQ(gort_sleep(1000), GORT_ENOTINIT);
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 1;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    EXPECT_EQ(gort_sleep(1000), GORT_ENOTG) << "from a host thread";
    EXPECT_EQ(gort_sleep(0), GORT_ENOTG);
    ASSERT_EQ(gort_start(), GORT_OK);
    EXPECT_EQ(gort_sleep(1000), GORT_ENOTG);
    // From inside an unlockf (g0): not a goroutine.
    std::atomic<int> rc{0};
    Join j(1);
    go([&] {
        struct Ctx {
            std::atomic<int> *rc;
        } c{&rc};
        gort_park(
            [](gort_g *g, void *p) -> int {
                static_cast<Ctx *>(p)->rc->store(gort_sleep(1000));
                return 0;  // do not park
            },
            &c, "probe");
        j.done();
    });
    // The host thread cannot wait with Join; spin politely.
    while (j.pending.load() != 1) std::this_thread::yield();
    EXPECT_EQ(rc.load(), GORT_ENOTG);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(gort_sleep(1000), GORT_ENOTINIT);
}

}  // namespace
