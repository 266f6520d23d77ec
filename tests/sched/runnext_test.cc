// tests/sched/runnext_test.cc - P.runnext (modern Go's, not in the seed; core/sched/runq.h
// "runnext"): the queue-level rules (runnext first, kick to the ring, when a
// thief may take it, runqempty) and what the scheduler makes of them (a
// wake/wait pair runs without the ring; the pair cannot starve its P).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "core/base/lock_futex.h"
#include "core/base/os.h"
#include "core/sched/runq.h"
#include "tests/util/runq_stress.h"
#include "tests/util/testutil.h"

using namespace gort;

namespace {

std::unique_ptr<P> newP() { return std::make_unique<P>(); }

uint32_t ringlen(const P *pp) { return pp->runqtail.load(std::memory_order_seq_cst) - pp->runqhead.load(std::memory_order_seq_cst); }

struct TestG {
    G g;
    std::atomic<int> sig{0};  // times this g was seen
};

}  // namespace

TEST(Runnext, RunsFirstAndInheritsTheSlice) {
    auto p = newP();
    std::vector<TestG> gs(3);
    runqput(p.get(), &gs[0].g);
    runqput(p.get(), &gs[1].g);
    runqput(p.get(), &gs[2].g, /*next=*/true);
    EXPECT_EQ(ringlen(p.get()), 2u) << "a put to runnext touched the ring";
    bool inherit = false;
    EXPECT_EQ(runqget(p.get(), &inherit), &gs[2].g) << "runnext is not taken first";
    EXPECT_TRUE(inherit) << "a runnext G must inherit the time slice";
    EXPECT_EQ(runqget(p.get(), &inherit), &gs[0].g);
    EXPECT_FALSE(inherit) << "a ring G starts a new time slice";
    EXPECT_EQ(runqget(p.get(), &inherit), &gs[1].g);
    EXPECT_EQ(runqget(p.get(), &inherit), nullptr);
}

TEST(Runnext, SecondPutKicksTheFirstToTheTail) {
    auto p = newP();
    std::vector<TestG> gs(3);
    runqput(p.get(), &gs[0].g);
    runqput(p.get(), &gs[1].g, true);
    runqput(p.get(), &gs[2].g, true);
    EXPECT_EQ(ringlen(p.get()), 2u);
    EXPECT_EQ(runqget(p.get()), &gs[2].g) << "the latest runnext runs first";
    EXPECT_EQ(runqget(p.get()), &gs[0].g) << "the ring keeps its FIFO order";
    EXPECT_EQ(runqget(p.get()), &gs[1].g) << "the kicked runnext goes to the ring's tail";
    EXPECT_EQ(runqget(p.get()), nullptr);
}

TEST(Runnext, KickNextEndsTheInheritedSlice) {
    auto p = newP();
    std::vector<TestG> gs(2);
    runqput(p.get(), &gs[0].g);
    runqput(p.get(), &gs[1].g, true);
    runqkicknext(p.get());
    EXPECT_EQ(p->runnext.load(std::memory_order_seq_cst), nullptr);
    bool inherit = true;
    EXPECT_EQ(runqget(p.get(), &inherit), &gs[0].g) << "after a kick the ring's head runs first";
    EXPECT_FALSE(inherit);
    EXPECT_EQ(runqget(p.get(), &inherit), &gs[1].g);
    EXPECT_FALSE(inherit) << "a kicked runnext starts a new slice";
    runqkicknext(p.get());  // nothing to kick: no effect
    EXPECT_TRUE(runqempty(p.get()));
}

TEST(Runnext, RunqemptyCountsRunnext) {
    auto p = newP();
    TestG g;
    EXPECT_TRUE(runqempty(p.get()));
    runqput(p.get(), &g.g, true);
    EXPECT_FALSE(runqempty(p.get())) << "a P with only runnext is not empty";
    EXPECT_EQ(runqget(p.get()), &g.g);
    EXPECT_TRUE(runqempty(p.get()));
}

// Thieves take runnext only when asked to and only from an empty ring; the
// sleep before stealing from a running P does not stop the steal.
TEST(Runnext, StealRules) {
    for (uint32_t status : {uint32_t(Pidle), uint32_t(Prunning)}) {
        auto victim = newP();
        auto thief = newP();
        victim->status.store(status, std::memory_order_seq_cst);
        std::vector<TestG> gs(2);
        runqput(victim.get(), &gs[0].g, true);
        EXPECT_EQ(runqsteal(thief.get(), victim.get(), /*stealRunNextG=*/false), nullptr)
            << "runnext stolen without stealRunNextG (status " << status << ")";
        runqput(victim.get(), &gs[1].g);  // ring: g1, runnext: g0
        EXPECT_EQ(runqsteal(thief.get(), victim.get(), true), &gs[1].g)
            << "with a non-empty ring a thief takes from the ring";
        EXPECT_EQ(victim->runnext.load(std::memory_order_seq_cst), &gs[0].g) << "runnext taken while the ring had work";
        EXPECT_EQ(runqsteal(thief.get(), victim.get(), true), &gs[0].g)
            << "runnext not stolen from an empty ring (status " << status << ")";
        EXPECT_TRUE(runqempty(victim.get()));
        EXPECT_TRUE(runqempty(thief.get())) << "a stolen runnext is returned, not queued";
    }
}

// The owner puts to the ring and to runnext and takes; thieves steal with
// and without runnext. Every g must be seen exactly once, in every round.
TEST(Runnext, ConcurrentStealStress) {
    runq_stress::run(2, int(gort_test::scaled(200, 20, 60)), 3000, /*runnext=*/true);
}

// On one P, a semaphore ping-pong hands the P over through runnext: the
// ring is not touched, except once per time slice that sysmon ends (the
// kick of the slice's runnext, every 10 ms at the soonest).
TEST(Runnext, PingPongBypassesTheRing) {
    gort_test::Watchdog wd("Runnext.PingPongBypassesTheRing", 60);
    const int64_t rounds = gort_test::scaled(20000, 2000, 5000);
    struct S {
        int64_t rounds;
        gort_test::Sema a, b;
        gort_test::Join j{2};
        uint32_t puts = 0;
        int64_t ns = 0;
    } s;
    s.rounds = rounds;
    gort_test::run_main(1, [&] {
        gort_go([](void *p) {
            auto *s = static_cast<S *>(p);
            P *pp = getg()->m->p;
            s->b.post();  // let the partner start and park
            s->a.acquire();
            uint32_t t0 = pp->runqtail.load(std::memory_order_seq_cst);
            int64_t n0 = nanotime();
            for (int64_t i = 0; i < s->rounds; i++) {
                s->b.post();
                s->a.acquire();
            }
            s->ns = nanotime() - n0;
            s->puts = pp->runqtail.load(std::memory_order_seq_cst) - t0;
            s->b.post();
            s->j.done();
        }, &s, 0, nullptr);
        gort_go([](void *p) {
            auto *s = static_cast<S *>(p);
            for (int64_t i = 0; i < s->rounds + 2; i++) {
                s->b.acquire();
                if (i <= s->rounds) s->a.post();
            }
            s->j.done();
        }, &s, 0, nullptr);
        s.j.wait();
    });
    const int64_t bound = 2 + s.ns / 5000000;  // slices end every >= 10 ms; a margin of 2x
    EXPECT_LE(int64_t(s.puts), bound) << s.puts << " ring puts in " << rounds << " wake/wait rounds over " << s.ns
                                      << " ns: the woken goroutine did not go to runnext";
}

// A pair that wakes each other through runnext for ever must not starve a
// third goroutine on the same P: sysmon ends the inherited slice (10 ms) and
// schedule() then takes the ring's head. Without that rule the third
// goroutine never runs and the host's bounded wait fails (the host then
// stops the pair, so the failure ends too).
TEST(Runnext, PairCannotStarveItsP) {
    gort_test::Watchdog wd("Runnext.PairCannotStarveItsP", 120);
    const int reps = int(gort_test::scaled(5, 2, 3));
    for (int rep = 0; rep < reps; rep++) {
        struct S {
            std::atomic<bool> stop{false};
            bool msg = false;  // A's "last round", read by B after b.acquire
            gort_test::Sema a, b;
            std::atomic<int64_t> rounds{0};
            gort_test::HostLatch third{1};
            gort_test::HostLatch all{3};
        } s;
        gort_test::start_background(1);
        // A and B first, so that C waits in the ring behind them.
        gort_test::go([&s] {
            for (;;) {
                s.msg = s.stop.load(std::memory_order_acquire);
                bool last = s.msg;
                s.b.post();
                s.a.acquire();
                s.rounds.fetch_add(1, std::memory_order_relaxed);
                if (last) break;
            }
            s.all.count_down();
        });
        gort_test::go([&s] {
            for (;;) {
                s.b.acquire();
                bool last = s.msg;
                s.a.post();
                if (last) break;
            }
            s.all.count_down();
        });
        gort_test::go([&s] {
            // Runs only if the pair lets it: then it ends the pair.
            s.stop.store(true, std::memory_order_release);
            s.third.count_down();
            s.all.count_down();
        });
        bool ran = s.third.wait_for(std::chrono::seconds(10));
        s.stop.store(true, std::memory_order_release);  // ends the pair even on failure
        EXPECT_TRUE(ran) << "rep " << rep << ": the third goroutine did not run in 10 s while a runnext pair did "
                         << s.rounds.load() << " rounds";
        ASSERT_TRUE(s.all.wait_for(std::chrono::seconds(30))) << "rep " << rep << ": goroutines did not finish";
        ASSERT_EQ(gort_shutdown(), GORT_OK);
    }
}

// The README's example, at 1 proc, in a fresh runtime each time: the main
// goroutine spawns G (into runnext) and yields once; G must run before the
// yield returns. The main goroutine is the P's first goroutine and comes
// from runnext: if its execute "inherits" a slice (none was running), the
// P's schedtick stays 0, and 0 % 61 == 0 makes the schedule after the yield
// take the yielder back from the global queue ahead of G (execute in
// core/sched/proc.cc: the P's first execute always counts a tick).
TEST(Runnext, FirstYieldRunsTheSpawnedGoroutine) {
    gort_test::Watchdog wd("Runnext.FirstYieldRunsTheSpawnedGoroutine", 120);
    const int iters = int(gort_test::scaled(200, 20, 50));
    int missed = 0, first_missed = -1;
    uint32_t tick_at_start = 0;
    for (int i = 0; i < iters; i++) {
        struct S {
            std::atomic<bool> ran{false};
            bool seen = false;
            uint32_t tick = 0;
        } s;
        gort_test::run_main(1, [&s] {
            s.tick = getg()->m->p->schedtick.load(std::memory_order_relaxed);
            gort_go([](void *p) { static_cast<S *>(p)->ran.store(true, std::memory_order_relaxed); }, &s, 0,
                    nullptr);
            gort_gosched();
            s.seen = s.ran.load(std::memory_order_relaxed);
        });
        if (!s.seen && missed++ == 0) {
            first_missed = i;
            tick_at_start = s.tick;
        }
    }
    EXPECT_EQ(missed, 0) << missed << " of " << iters << " fresh runtimes (first: iteration " << first_missed
                         << ", the P's schedtick when the main goroutine started: " << tick_at_start
                         << ") returned from the first gort_gosched before the goroutine spawned just before it ran";
}
