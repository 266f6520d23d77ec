// tests/gc/gc_review_test.cc - regressions found reviewing the GC scan protocol
// (gc_hooks/gcscan.cc, gc_hooks/helpgc.cc): each test is a scenario the first
// version hung or broke its documented guarantee in.
#include <gort/gort.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/util/testutil.h"

using namespace gort_test;

namespace {

constexpr int64_t kMaxGoid = 1 << 20;

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Scans per goid, split at the quiescer's own scan (the first scan_g of an
// mquiesce: the cycle has begun).
struct Log {
    std::atomic<int64_t> quiescer{-1};
    std::atomic<bool> started{false};
    std::atomic<uint32_t> after[kMaxGoid];
    std::atomic<int64_t> total{0};
    int64_t scan_ns = 0;
};
Log *rlog;

void count_scan(const gort_scan *s, void *) {
    rlog->total.fetch_add(1, std::memory_order_relaxed);
    if (s->goid <= 0 || s->goid >= kMaxGoid) return;
    if (s->goid == rlog->quiescer.load(std::memory_order_acquire)) rlog->started.store(true, std::memory_order_release);
    else if (rlog->started.load(std::memory_order_acquire)) rlog->after[s->goid].fetch_add(1, std::memory_order_relaxed);
    // A collector's scan takes time: the cycle lasts long enough for other
    // threads to overlap it.
    for (int64_t t0 = now_ns(); now_ns() - t0 < rlog->scan_ns;) {
    }
}

void install() {
    gort_gc_hooks h{};
    h.size = sizeof h;
    h.scan_g = count_scan;
    ASSERT_EQ(gort_gc_set_hooks(&h), GORT_OK);
}

// A goroutine parked until released, its handle published once it is
// Gwaiting (the unlockf runs after the status change).
struct Parked {
    std::atomic<gort_g *> self{nullptr};
    std::atomic<bool> parked{false};
    std::atomic<bool> release{false};
};

void park_until_released(Parked *p) {
    while (!p->release.load(std::memory_order_acquire)) {
        p->self.store(gort_self(), std::memory_order_relaxed);
        gort_park(
            [](gort_g *, void *a) -> int {
                auto *pp = static_cast<Parked *>(a);
                pp->parked.store(true, std::memory_order_release);
                return 1;
            },
            p, "review: parked");
    }
}

void wake(Parked *p) {
    p->release.store(true, std::memory_order_release);
    while (!p->parked.load(std::memory_order_acquire)) gort_gosched();
    ASSERT_EQ(gort_ready(p->self.load()), GORT_OK);
}

class GcReview : public ::testing::Test {
protected:
    void SetUp() override { rlog = new Log(); }
    void TearDown() override {
        delete rlog;
        rlog = nullptr;
    }
};

}  // namespace

// A goroutine that holds a gort_stopg claim and calls gort_quiesce: the
// quiescer clears the claimed goroutine's gcworkdone and then waits for its
// scan bit to be released - by itself, suspended in gort_quiesce. Must not
// hang (the claim is the quiescer's own: it may scan under it), with the
// world running or stopped by the caller (quiesce_stopped "never waits").
static void quiesce_holding_own_claim(bool stop_world) {
    run_main(2, [stop_world] {
        install();
        auto *p = new Parked();
        Join j(1);
        go([&] {
            park_until_released(p);
            j.done();
        });
        while (!p->parked.load(std::memory_order_acquire)) gort_gosched();
        ASSERT_EQ(gort_gc_set_phase(GORT_GC_OFF), GORT_GC_OFF);
        ASSERT_GE(gort_gc_set_phase(GORT_GC_SCAN), 0);  // a new cycle: gcworkdone cleared
        ASSERT_EQ(gort_stopg(p->self.load()), 1);
        if (stop_world) ASSERT_EQ(gort_stop_the_world("review"), GORT_OK);
        EXPECT_EQ(gort_quiesce(), GORT_OK);
        if (stop_world) ASSERT_EQ(gort_start_the_world(), GORT_OK);
        EXPECT_EQ(gort_restartg(p->self.load()), GORT_OK);
        wake(p);
        j.wait();
        delete p;
        gort_gc_set_phase(GORT_GC_OFF);
    });
}

TEST_F(GcReview, QuiesceWhileHoldingOwnStopgClaim) {
    Watchdog wd("gort_quiesce while the caller holds a gort_stopg claim", 20);
    quiesce_holding_own_claim(false);
}

TEST_F(GcReview, StoppedWorldQuiesceWhileHoldingOwnStopgClaim) {
    Watchdog wd("stopped-world gort_quiesce while the caller holds a claim", 20);
    quiesce_holding_own_claim(true);
}

namespace {
std::atomic<int> helper_runs{0};
std::atomic<int> nested_rc{0};
thread_local int helper_depth = 0;  // per thread; the nested call is on the caller's thread

void helper_fn(void *) {
    helper_runs.fetch_add(1);
    if (helper_depth++ == 0 && gort_self() != nullptr) {
        // The caller's own run (a goroutine: helpers have none) calls again.
        nested_rc.store(gort_gc_helpers(4, helper_fn, nullptr));
    }
    helper_depth--;
}
}  // namespace

// gort_gc_helpers called from inside its own fn (on the caller's thread,
// which still holds the stopped world): the nested call must not overwrite
// the job the outer helpers are running (pending count, fn).
TEST_F(GcReview, NestedGcHelpersIsRefused) {
    Watchdog wd("nested gort_gc_helpers", 20);
    run_main(4, [] {
        // Give the runtime idle Ms: goroutines that spin on every P, then end.
        const int kSpinners = 4;
        for (int round = 0; round < 3; round++) {
            Join j(kSpinners);
            std::atomic<int> in{0};
            for (int i = 0; i < kSpinners; i++)
                go([&] {
                    in.fetch_add(1);
                    for (int k = 0; k < 1000 && in.load() < kSpinners; k++) gort_gosched();
                    j.done();
                });
            j.wait();
        }
        for (int iter = 0; iter < 50; iter++) {
            helper_runs.store(0);
            nested_rc.store(0);
            ASSERT_EQ(gort_stop_the_world("review"), GORT_OK);
            int n = gort_gc_helpers(4, helper_fn, nullptr);
            ASSERT_EQ(gort_start_the_world(), GORT_OK);
            ASSERT_GE(n, 1);
            // The nested call is refused and the outer one ran fn n times.
            EXPECT_LT(nested_rc.load(), 0) << "nested gort_gc_helpers was accepted: " << nested_rc.load();
            EXPECT_EQ(helper_runs.load(), n);
            if (HasFailure()) break;
        }
    });
}

// A host thread claims goroutines with gort_stopg while gort_quiesce runs.
// The header: "A scan cycle begins with each gort_quiesce ...: every live
// goroutine is then scanned at most once until the next cycle begins,
// whoever triggers it." The quiescer's own scan is the first of its cycle;
// no goroutine may be scanned twice after it.
TEST_F(GcReview, HostStopgDuringQuiesceScansAtMostOnce) {
    Watchdog wd("host stopg racing gort_quiesce", 60);
    const int kG = int(scaled(20000, 1000, 5000));
    rlog->scan_ns = 2000;
    run_main(2, [kG] {
        install();
        std::vector<Parked> ps(kG);
        Join j(kG);
        for (int i = 0; i < kG; i++)
            go([&, i] {
                park_until_released(&ps[i]);
                j.done();
            });
        for (auto &p : ps)
            while (!p.parked.load(std::memory_order_acquire)) gort_gosched();
        int worst = 0;
        for (int round = 0; round < 5 && worst <= 1; round++) {
            ASSERT_GE(gort_gc_set_phase(GORT_GC_OFF), 0);
            ASSERT_EQ(gort_gc_set_phase(GORT_GC_SCAN), GORT_GC_OFF);  // a cycle: gcworkdone cleared
            rlog->started.store(false);
            for (auto &a : rlog->after) a.store(0, std::memory_order_relaxed);
            std::atomic<bool> stop{false};
            std::thread host([&] {
                while (!rlog->started.load(std::memory_order_acquire) && !stop.load()) std::this_thread::yield();
                for (int i = kG - 1; i >= 0 && !stop.load(); i--) {
                    gort_g *g = ps[i].self.load();
                    if (gort_stopg(g) == 1) EXPECT_EQ(gort_restartg(g), GORT_OK);
                }
            });
            Join q(1);
            go([&] {
                rlog->quiescer.store(gort_goid(nullptr), std::memory_order_release);
                EXPECT_EQ(gort_quiesce(), GORT_OK);
                q.done();
            });
            q.wait();
            stop.store(true);
            host.join();
            for (int64_t g = 0; g < kMaxGoid; g++) {
                int c = int(rlog->after[g].load());
                if (c > worst) worst = c;
            }
        }
        EXPECT_LE(worst, 1) << "a goroutine was scanned " << worst << " times in one quiesce cycle";
        gort_gc_set_phase(GORT_GC_OFF);
        for (auto &p : ps) wake(&p);
        j.wait();
    });
}

// gort_stopg on itself from inside gort_entersyscall: the goroutine would
// claim its own scan bit (Gscansyscall), and gort_exitsyscall would then
// wait for it for ever. Refused (GORT_ESTATE), changing nothing.
TEST_F(GcReview, StopgOfSelfInSyscallIsRefused) {
    Watchdog wd("gort_stopg of itself inside a system call", 20);
    run_main(2, [] {
        install();
        ASSERT_EQ(gort_gc_set_phase(GORT_GC_SCAN), GORT_GC_OFF);
        ASSERT_EQ(gort_entersyscall(), GORT_OK);
        int rc = gort_stopg(gort_self());
        if (rc == 1) gort_restartg(gort_self());  // keep the test from hanging on the old behaviour
        ASSERT_EQ(gort_exitsyscall(), GORT_OK);
        EXPECT_EQ(rc, GORT_ESTATE);
        gort_gc_set_phase(GORT_GC_OFF);
    });
}
