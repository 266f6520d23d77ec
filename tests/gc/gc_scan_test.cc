// tests/gc/gc_scan_test.cc - the GC scan protocol through the C ABI (gort.h
// "GC hooks"; gc_hooks/gcscan.h): gort_quiesce over goroutines in every state,
// exactly-once scans over many cycles under churn, gort_stopg/gort_restartg
// races, the safe points, quiesce with the world stopped and GC helper Ms,
// stack shrinking from the protocol, the forced GC, and bad input.
#include <gort/gort.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/sched/runtime2.h"
#include "tests/util/testutil.h"

using namespace gort_test;

namespace {

constexpr uint8_t P = GORT_BITS_POINTER, S = GORT_BITS_SCALAR;
constexpr uint8_t bits4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return uint8_t(a | b << 2 | c << 4 | d << 6); }

// A frame of 4 locals: w0 ptr, w1 scalar, w2 ptr, w3 scalar.
const uint8_t frame_bits[] = {bits4(P, S, P, S)};
const gort_stackmap frame_map[] = {{8, frame_bits}};
const gort_funcinfo frame_fi = {sizeof(gort_funcinfo), "gc_scan_test.frame", 4, 0, 1, frame_map, nullptr};

// What pointer slots of the test's frames point to: "objects" in a static
// array, so a visitor can check every slot it is given.
constexpr int kObjects = 4096;
uintptr_t objects[kObjects];
bool is_object(void *p) {
    auto a = reinterpret_cast<uintptr_t>(p);
    auto lo = reinterpret_cast<uintptr_t>(&objects[0]), hi = reinterpret_cast<uintptr_t>(&objects[kObjects]);
    return a >= lo && a < hi && (a - lo) % sizeof(uintptr_t) == 0;
}

// Goid-indexed scan bookkeeping (goids grow monotonically; tests bound them).
constexpr int64_t kMaxGoid = 1 << 22;

struct ScanLog {
    std::atomic<uint32_t> count[kMaxGoid];      // scans per goid, this cycle
    std::atomic<uint8_t> exited[kMaxGoid];      // the goroutine has finished its body
    std::atomic<uint8_t> last_status[kMaxGoid]; // status in its last scan
    std::atomic<int64_t> status_hist[8];
    std::atomic<int64_t> scans{0}, roots{0}, bad{0}, overflow{0}, outside{0};
    std::atomic<int64_t> quiescer{-1};
    std::atomic<bool> in_cycle{false};
    // Goids scanned since the last reset (so a reset touches only those),
    // and how many scans found their goroutine scanned already.
    std::atomic<int64_t> ntouched{0}, doubles{0};
    std::atomic<int64_t> touched[kMaxGoid];
    void reset_counts() {
        int64_t n = ntouched.exchange(0);
        for (int64_t i = 0; i < n && i < kMaxGoid; i++) count[touched[i].load()].store(0, std::memory_order_relaxed);
        for (auto &h : status_hist) h.store(0, std::memory_order_relaxed);
        doubles.store(0);
    }
};
ScanLog *slog;

void visit(void **slot, void *) {
    void *v = *slot;
    if (v != nullptr && !is_object(v)) slog->bad.fetch_add(1);
    slog->roots.fetch_add(1, std::memory_order_relaxed);
}

void scan_g(const gort_scan *s, void *) {
    slog->scans.fetch_add(1, std::memory_order_relaxed);
    if (!slog->in_cycle.load(std::memory_order_relaxed)) slog->outside.fetch_add(1);
    if (s->goid <= 0 || s->goid >= kMaxGoid) {
        slog->overflow.fetch_add(1);
        return;
    }
    if (slog->count[s->goid].fetch_add(1, std::memory_order_relaxed) == 0) {
        int64_t i = slog->ntouched.fetch_add(1);
        if (i < kMaxGoid) slog->touched[i].store(s->goid);
    } else {
        slog->doubles.fetch_add(1);
    }
    if (slog->exited[s->goid].load(std::memory_order_acquire)) slog->bad.fetch_add(1);  // scanned after its end
    if (s->status >= 0 && s->status < 8) slog->status_hist[s->status].fetch_add(1, std::memory_order_relaxed);
    slog->last_status[s->goid].store(uint8_t(s->status), std::memory_order_relaxed);
    // The record describes a stack at rest: saved_sp inside it.
    if (s->size != sizeof(gort_scan) || s->saved_sp < s->stack_lo || s->saved_sp > s->stack_hi) slog->bad.fetch_add(1);
    if (gort_goid(s->g) != s->goid) slog->bad.fetch_add(1);
    if (gort_scan_precise_roots(s, visit, nullptr) != GORT_OK) slog->bad.fetch_add(1);
}

void install_hooks() {
    ASSERT_EQ(gort_funcinfo_register(&frame_fi), GORT_OK);
    gort_gc_hooks h{};
    h.size = sizeof h;
    h.scan_g = scan_g;
    ASSERT_EQ(gort_gc_set_hooks(&h), GORT_OK);
}

// Pushes a frame whose pointer slots point at objects[i], objects[i+1].
uintptr_t *push_frame(int i) {
    auto *l = static_cast<uintptr_t *>(gort_mframe_push(&frame_fi));
    if (l == nullptr) {
        std::fprintf(stderr, "gort_mframe_push: %s\n", gort_strerror(gort_last_error()));
        abort();
    }
    l[0] = reinterpret_cast<uintptr_t>(&objects[i % kObjects]);
    l[1] = uintptr_t(i);
    l[2] = reinterpret_cast<uintptr_t>(&objects[(i + 1) % kObjects]);
    l[3] = ~uintptr_t(i);
    return l;
}
bool frame_ok(const uintptr_t *l, int i) {
    return l[0] == reinterpret_cast<uintptr_t>(&objects[i % kObjects]) && l[1] == uintptr_t(i) &&
           l[2] == reinterpret_cast<uintptr_t>(&objects[(i + 1) % kObjects]) && l[3] == ~uintptr_t(i);
}

// Parks the current goroutine; j->done() once it is parked.
void park_then_done(Join *j, const char *reason) {
    gort_park(
        [](gort_g *, void *p) -> int {
            static_cast<Join *>(p)->done();
            return 1;
        },
        j, reason);
}

// Runs quiesce from a fresh goroutine (the "from another goroutine")
// and waits for it.
void quiesce_from_goroutine() {
    Join j(1);
    go([&] {
        slog->quiescer.store(gort_goid(nullptr));
        slog->in_cycle.store(true);
        EXPECT_EQ(gort_quiesce(), GORT_OK);
        slog->in_cycle.store(false);
        j.done();
    });
    j.wait();
}

class GcScan : public ::testing::Test {
protected:
    void SetUp() override {
        slog = new ScanLog();
    }
    void TearDown() override {
        delete slog;
        slog = nullptr;
    }
};

// Goroutines in every state; one quiesce; each live one scanned exactly
// once, the dead never; then each carries on and checks its own data.
TEST_F(GcScan, QuiesceScansEveryStateExactlyOnce) {
    const int64_t nwait = scaled(100000, 1500, 20000);
    const int nyield = int(scaled(200, 40, 100)), nspin = 4, nsys = 4, nlocked = 4, nchan = 100, ndead = 1000;
    Watchdog wd("QuiesceScansEveryStateExactlyOnce", 240);
    run_main(2, [&] {
        install_hooks();
        ASSERT_EQ(gort_gc_set_phase(GORT_GC_SCAN), GORT_GC_OFF);
        std::vector<int64_t> live, dead;
        std::atomic<bool> stop{false};
        std::atomic<int64_t> failures{0};
        Join finished(nwait + nyield + nspin + nsys + nlocked + nchan);

        // Dead: ran and exited before the cycle.
        {
            Join d(ndead);
            for (int i = 0; i < ndead; i++) dead.push_back(go([&] { d.done(); }));
            d.wait();
        }
        // Waiting (parked), with a managed frame each.
        std::vector<std::atomic<gort_g *>> parked(static_cast<size_t>(nwait));
        Join parkedj(nwait);
        for (int64_t i = 0; i < nwait; i++) {
            live.push_back(go([&, i] {
                uintptr_t *l = push_frame(int(i));
                parked[size_t(i)].store(gort_self());
                park_then_done(&parkedj, "gc test wait");
                // The frame may have moved (quiesce shrinks stacks): re-read.
                l = static_cast<uintptr_t *>(gort_mframe_top());
                if (!frame_ok(l, int(i))) failures.fetch_add(1);
                gort_mframe_pop();
                finished.done();
            }));
        }
        parkedj.wait();
        // Blocked in a channel receive.
        gort_chan *ch;
        ASSERT_EQ(gort_chan_new(sizeof(int), 0, &ch), GORT_OK);
        for (int i = 0; i < nchan; i++)
            live.push_back(go([&] {
                int v, ok;
                gort_chan_recv(ch, &v, &ok);
                if (ok) failures.fetch_add(1);
                finished.done();
            }));
        // Runnable: yielding in a loop.
        for (int i = 0; i < nyield; i++)
            live.push_back(go([&] {
                while (!stop.load(std::memory_order_relaxed)) gort_gosched();
                finished.done();
            }));
        // Running: spinning on safe points (caught running, or runnable
        // between sysmon's preemptions; RunningGoroutinesScanThemselves...
        // covers the running case for certain).
        std::atomic<int> spinning{0};
        for (int i = 0; i < nspin; i++)
            live.push_back(go([&, i] {
                uintptr_t *l = push_frame(1000 + i);
                (void)l;
                spinning.fetch_add(1);
                while (!stop.load(std::memory_order_relaxed)) gort_safepoint();
                if (!frame_ok(static_cast<uintptr_t *>(gort_mframe_top()), 1000 + i)) failures.fetch_add(1);
                gort_mframe_pop();
                finished.done();
            }));
        while (spinning.load() < nspin) gort_gosched();  // each has its frame
        // In a system call, blocked in host code.
        std::mutex mu;
        std::condition_variable cv;
        bool release = false;
        std::atomic<int> insys{0};
        for (int i = 0; i < nsys; i++)
            live.push_back(go([&] {
                ASSERT_EQ(gort_entersyscall(), GORT_OK);
                insys.fetch_add(1);  // (gort_ready is not allowed inside the syscall)
                {
                    std::unique_lock<std::mutex> lk(mu);
                    cv.wait(lk, [&] { return release; });
                }
                ASSERT_EQ(gort_exitsyscall(), GORT_OK);
                finished.done();
            }));
        while (insys.load() < nsys) gort_gosched();
        // Locked to their threads, parked.
        std::vector<std::atomic<gort_g *>> locked(nlocked);
        Join lockedj(nlocked);
        for (int i = 0; i < nlocked; i++)
            live.push_back(go([&, i] {
                gort_lock_os_thread();
                locked[size_t(i)].store(gort_self());
                park_then_done(&lockedj, "gc test locked");
                gort_unlock_os_thread();
                finished.done();
            }));
        lockedj.wait();

        quiesce_from_goroutine();

        // Every live goroutine exactly once, the dead never, nothing twice.
        int64_t missing = 0, twice = 0;
        for (int64_t id : live) {
            uint32_t c = slog->count[id].load();
            if (c == 0) missing++;
            if (c > 1) twice++;
        }
        int64_t deadscanned = 0;
        for (int64_t id : dead) deadscanned += slog->count[id].load();
        twice += slog->doubles.load();
        EXPECT_EQ(missing, 0) << "live goroutines never scanned";
        EXPECT_EQ(twice, 0) << "goroutines scanned more than once";
        EXPECT_EQ(deadscanned, 0) << "dead goroutines scanned";
        EXPECT_EQ(slog->count[slog->quiescer.load()].load(), 1u) << "the quiescer scans itself";
        EXPECT_EQ(slog->bad.load(), 0) << "bad scan records or root slots";
        EXPECT_EQ(slog->overflow.load(), 0);
        // Roots: two pointer slots per frame of the parked and spinning ones.
        EXPECT_GE(slog->roots.load(), 2 * (nwait + nspin));
        EXPECT_GE(slog->status_hist[GORT_G_WAITING].load(), nwait + nchan + nlocked);
        EXPECT_EQ(slog->status_hist[GORT_G_SYSCALL].load(), nsys);
        EXPECT_GE(slog->status_hist[GORT_G_RUNNABLE].load(), 1);
        EXPECT_GE(slog->status_hist[GORT_G_RUNNING].load(), 1) << "the quiescer scans itself as running";

        // Everyone continues.
        stop.store(true);
        {
            std::lock_guard<std::mutex> lk(mu);
            release = true;
        }
        cv.notify_all();
        for (auto &g : parked) ASSERT_EQ(gort_ready(g.load()), GORT_OK);
        for (auto &g : locked) ASSERT_EQ(gort_ready(g.load()), GORT_OK);
        ASSERT_EQ(gort_chan_close(ch), GORT_OK);
        finished.wait();
        EXPECT_EQ(failures.load(), 0) << "goroutines found their frames changed";
        EXPECT_EQ(gort_chan_free(ch), GORT_OK);
        EXPECT_EQ(slog->outside.load(), 0) << "scans outside gort_quiesce";
    });
}

// 200 cycles while goroutines spawn, park, get readied, exit and grow their
// managed stacks: in every cycle each long-lived goroutine is scanned
// exactly once, no goroutine twice, none after it ended.
TEST_F(GcScan, ExactlyOnceOverCyclesUnderChurn) {
    // TSan: 30 cycles of 200 took 287 s of the 300 s watchdog on 2 cores
    // (every switch creates a TSan fiber, core/sched/switch.cc).
    const int cycles = int(scaled(200, 10, 60));
    const int nstable = int(scaled(2000, 100, 500));
    const int nchurn = 8;
    Watchdog wd("ExactlyOnceOverCyclesUnderChurn", 300);
    run_main(2, [&] {
        install_hooks();
        gort_gc_set_phase(GORT_GC_SCAN);
        std::atomic<bool> stop{false};
        std::atomic<int64_t> failures{0}, spawned{0};
        std::vector<int64_t> stable(static_cast<size_t>(nstable));
        Join done(nstable + nchurn);
        // Long-lived: park/ready ping-pong in pairs, growing and checking a
        // managed stack of random depth between rounds.
        std::vector<Sema> semas(static_cast<size_t>(nstable));
        for (int i = 0; i < nstable; i++) {
            stable[size_t(i)] = go([&, i] {
                uint32_t seed = uint32_t(i) * 2654435761u + 1;
                int peer = i ^ 1;
                if (peer >= nstable) peer = i;
                for (int round = 0; !stop.load(std::memory_order_relaxed); round++) {
                    seed = seed * 1103515245u + 12345u;
                    int depth = 1 + int(seed >> 16) % 200;  // up to ~200 frames: stacks grow past 2 KiB
                    for (int d = 0; d < depth; d++) push_frame(i + d);
                    for (int d = depth - 1; d >= 0; d--) {
                        if (!frame_ok(static_cast<uintptr_t *>(gort_mframe_top()), i + d)) failures.fetch_add(1);
                        gort_mframe_pop();
                    }
                    if (peer != i) {
                        // Ping-pong with the peer: park on our semaphore,
                        // post the peer's.
                        semas[size_t(peer)].post();
                        semas[size_t(i)].acquire();
                    } else {
                        gort_gosched();
                    }
                }
                if (peer != i) semas[size_t(peer)].post();  // let a peer that is still waiting out
                slog->exited[gort_goid(nullptr)].store(1, std::memory_order_release);
                done.done();
            });
        }
        // Churn: short-lived goroutines that push a frame, maybe yield, exit.
        for (int c = 0; c < nchurn; c++)
            go([&] {
                while (!stop.load(std::memory_order_relaxed)) {
                    if (spawned.load(std::memory_order_relaxed) > kMaxGoid / 2) {  // goids stay indexable
                        gort_gosched();
                        continue;
                    }
                    Join kids(16);
                    for (int k = 0; k < 16; k++) {
                        int64_t id = go([&, k] {
                            push_frame(k);
                            if (k % 3 == 0) gort_gosched();
                            gort_mframe_pop();
                            slog->exited[gort_goid(nullptr)].store(1, std::memory_order_release);
                            kids.done();
                        });
                        (void)id;
                        spawned.fetch_add(1, std::memory_order_relaxed);
                    }
                    kids.wait();
                }
                done.done();
            });
        // The cycles must overlap the churn: wait until it is under way.
        while (spawned.load() < 64) gort_gosched();
        int64_t notscanned = 0, twice = 0;
        for (int cycle = 0; cycle < cycles; cycle++) {
            slog->reset_counts();
            quiesce_from_goroutine();
            for (int64_t id : stable) {
                uint32_t c = slog->count[id].load();
                if (c == 0) notscanned++;
            }
            twice += slog->doubles.load();
            if (notscanned + twice != 0) break;
        }
        stop.store(true);
        for (auto &s : semas) s.post();
        done.wait();
        EXPECT_EQ(notscanned, 0) << "a long-lived goroutine was not scanned in a cycle";
        EXPECT_EQ(twice, 0) << "a goroutine was scanned twice in one cycle";
        EXPECT_EQ(slog->bad.load(), 0) << "a goroutine scanned after its end, or a bad record";
        EXPECT_EQ(slog->outside.load(), 0) << "scans outside gort_quiesce";
        EXPECT_EQ(slog->overflow.load(), 0);
        EXPECT_EQ(failures.load(), 0) << "managed frames corrupted";
        EXPECT_GT(spawned.load(), 0);
    });
}

// Many claimants race for the same goroutines while they run, park and are
// readied: a claim is exclusive (never doubled), every claim is released
// (never lost: everything finishes), and each goroutine is scanned at most
// once per cycle.
TEST_F(GcScan, StopgRestartgRaces) {
    const int ng = 64, nhost = 3, nclaimg = 2;
    const int rounds = int(scaled(300, 40, 100));
    Watchdog wd("StopgRestartgRaces", 240);
    start_background(2);
    install_hooks();
    std::atomic<bool> stop{false};
    std::vector<std::atomic<gort_g *>> gs(ng);
    std::vector<std::atomic<uintptr_t>> owner(ng);
    std::atomic<int64_t> doubled{0}, claims{0}, restart_err{0}, foreign_restart_ok{0};
    std::vector<Sema> semas(ng);
    HostLatch started(ng), finished(ng + nclaimg);
    for (int i = 0; i < ng; i++) {
        int64_t id = go([&, i] {
            gs[size_t(i)].store(gort_self());
            started.count_down();
            uint64_t n = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                switch (n++ % 3) {
                    case 0:  // park, readied by the next one
                        semas[size_t((i + 1) % ng)].post();
                        semas[size_t(i)].acquire();
                        break;
                    case 1:
                        gort_gosched();
                        break;
                    default:
                        for (int k = 0; k < 100; k++) gort_safepoint();
                }
            }
            semas[size_t((i + 1) % ng)].post();
            finished.count_down();
        });
        (void)id;
    }
    ASSERT_TRUE(started.wait_for(std::chrono::seconds(60)));
    std::atomic<int> round{0};
    auto claimant = [&](uintptr_t me) {
        uint32_t x = uint32_t(me);
        while (!stop.load(std::memory_order_relaxed)) {
            x = x * 1103515245u + 12345u;
            int i = int(x >> 8) % ng;
            gort_g *g = gs[size_t(i)].load();
            int rc = gort_stopg(g);
            if (rc < 0) restart_err.fetch_add(1);
            if (rc != 1) continue;
            claims.fetch_add(1, std::memory_order_relaxed);
            uintptr_t none = 0;
            if (!owner[size_t(i)].compare_exchange_strong(none, me)) doubled.fetch_add(1);
            // Held: it cannot run, so a second claim must fail.
            if (gort_stopg(g) != 0) doubled.fetch_add(1);
            owner[size_t(i)].store(0);
            if (gort_restartg(g) != GORT_OK) restart_err.fetch_add(1);
            if (gort_restartg(g) != GORT_ESTATE) restart_err.fetch_add(1);  // released once only
        }
    };
    std::vector<std::thread> hosts;
    for (int t = 0; t < nhost; t++) hosts.emplace_back([&, t] { claimant(uintptr_t(t + 1) * 2); });
    for (int t = 0; t < nclaimg; t++)
        go([&, t] {
            claimant(uintptr_t(100 + t) * 2);
            finished.count_down();
        });
    // A claim made by one thread cannot be released by another.
    std::thread foreign([&] {
        while (!stop.load(std::memory_order_relaxed)) {
            for (int i = 0; i < ng; i++)
                if (owner[size_t(i)].load() != 0 && gort_restartg(gs[size_t(i)].load()) == GORT_OK)
                    foreign_restart_ok.fetch_add(1);
            std::this_thread::yield();
        }
    });
    // Cycles: each moves the phase to SCAN from OFF; within one, at most one
    // scan per goroutine.
    int64_t twice = 0;
    for (int r = 0; r < rounds; r++) {
        ASSERT_GE(gort_gc_set_phase(GORT_GC_OFF), 0);
        slog->reset_counts();
        slog->in_cycle.store(true);
        ASSERT_GE(gort_gc_set_phase(GORT_GC_SCAN), 0);
        std::this_thread::sleep_for(std::chrono::microseconds(500));  // let claims happen (not synchronisation)
        ASSERT_GE(gort_gc_set_phase(GORT_GC_OFF), 0);
        twice += slog->doubles.load();
        round.store(r);
    }
    stop.store(true);
    for (auto &h : hosts) h.join();
    foreign.join();
    for (auto &s : semas) s.post();
    ASSERT_TRUE(finished.wait_for(std::chrono::seconds(60))) << "a goroutine stayed claimed (lost restart)";
    EXPECT_EQ(doubled.load(), 0) << "a claim was doubled";
    EXPECT_EQ(restart_err.load(), 0);
    EXPECT_EQ(foreign_restart_ok.load(), 0) << "another thread released a claim";
    EXPECT_EQ(twice, 0) << "scanned twice in one cycle";
    EXPECT_GT(claims.load(), 0);
    EXPECT_EQ(slog->bad.load(), 0);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// The safe points: a frame push and a pinned gort_safepoint serve a scan
// request without yielding: with 3 Ps the two spinners keep running while
// the quiescer works on the third, so they can only scan themselves.
TEST_F(GcScan, RunningGoroutinesScanThemselvesAtSafePoints) {
    Watchdog wd("RunningGoroutinesScanThemselvesAtSafePoints", 120);
    run_main(3, [&] {
        install_hooks();
        gort_gc_set_phase(GORT_GC_SCAN);
        std::atomic<bool> stop{false};
        std::atomic<int> ready{0};
        Join j(2);
        int64_t pusher = go([&] {
            ready.fetch_add(1);
            // Only frame pushes: no gort_safepoint, park or yield.
            while (!stop.load(std::memory_order_relaxed)) {
                push_frame(7);
                gort_mframe_pop();
            }
            j.done();
        });
        int64_t pinned = go([&] {
            gort_proc_pin();
            ready.fetch_add(1);
            while (!stop.load(std::memory_order_relaxed)) gort_safepoint();
            gort_proc_unpin();
            j.done();
        });
        while (ready.load() < 2) gort_gosched();
        quiesce_from_goroutine();
        stop.store(true);
        j.wait();
        EXPECT_EQ(slog->count[pusher].load(), 1u);
        EXPECT_EQ(slog->count[pinned].load(), 1u);
        // The pinned one never leaves its P (sysmon cannot preempt it); the
        // pusher leaves it only when sysmon preempts it, every 10 ms.
        EXPECT_EQ(slog->last_status[pinned].load(), GORT_G_RUNNING);
        EXPECT_EQ(slog->last_status[pusher].load(), GORT_G_RUNNING);
        EXPECT_EQ(slog->bad.load(), 0);
    });
}

// With the world stopped by the caller, gort_quiesce scans everything at
// once; gort_gc_helpers runs a function on the idle Ms in parallel.
TEST_F(GcScan, QuiesceWithWorldStoppedAndHelpers) {
    Watchdog wd("QuiesceWithWorldStoppedAndHelpers", 120);
    run_main(2, [&] {
        install_hooks();
        gort_gc_set_phase(GORT_GC_SCAN);
        const int n = 200;
        std::vector<std::atomic<gort_g *>> parked(n);
        Join p(n), fin(n);
        std::vector<int64_t> ids;
        for (int i = 0; i < n; i++)
            ids.push_back(go([&, i] {
                parked[size_t(i)].store(gort_self());
                park_then_done(&p, "stw test");
                fin.done();
            }));
        p.wait();
        ASSERT_EQ(gort_stop_the_world("gc test"), GORT_OK);
        EXPECT_EQ(gort_quiesce(), GORT_OK);
        for (int64_t id : ids) EXPECT_EQ(slog->count[id].load(), 1u);
        EXPECT_EQ(slog->count[gort_goid(nullptr)].load(), 1u) << "the stopper scans itself";
        // Helpers: every run on a distinct thread, all done before return.
        struct H {
            std::atomic<int> runs{0};
            std::mutex mu;
            std::set<std::thread::id> threads;
        } h;
        int got = gort_gc_helpers(4, [](void *a) {
            auto *hh = static_cast<H *>(a);
            {
                std::lock_guard<std::mutex> l(hh->mu);
                hh->threads.insert(std::this_thread::get_id());
            }
            hh->runs.fetch_add(1);
        }, &h);
        EXPECT_GE(got, 1);
        EXPECT_LE(got, 2);  // gort_maxprocs is 2
        EXPECT_EQ(h.runs.load(), got);
        EXPECT_EQ(int(h.threads.size()), got);
        ASSERT_EQ(gort_start_the_world(), GORT_OK);
        // Helpers only with the world stopped.
        EXPECT_EQ(gort_gc_helpers(2, [](void *) {}, nullptr), GORT_ESTATE);
        for (auto &g : parked) ASSERT_EQ(gort_ready(g.load()), GORT_OK);
        fin.wait();
    });
}

// gort_quiesce halves managed stacks that use less than a quarter, as the
// seed's GC shrinks them; gcshrinkstackoff=1 turns it off.
TEST_F(GcScan, QuiesceShrinksManagedStacks) {
    for (int off = 0; off <= 1; off++) {
        Watchdog wd("QuiesceShrinksManagedStacks", 60);
        gort_config cfg;
        gort_config_init(&cfg);
        cfg.maxprocs = 2;
        cfg.debug = off ? "gcshrinkstackoff=1" : "";
        ASSERT_EQ(gort_init(&cfg), GORT_OK);
        ASSERT_EQ(gort_funcinfo_register(&frame_fi), GORT_OK);
        struct Arg {
            int off;
        } arg{off};
        ASSERT_EQ(gort_main(
                      [](void *a) {
                          int off = static_cast<Arg *>(a)->off;
                          std::atomic<gort_g *> g{nullptr};
                          std::atomic<size_t> size_before{0};
                          Join parked(1), fin(1);
                          go([&] {
                              for (int d = 0; d < 300; d++) push_frame(d);  // 300 * 64 B: stack grows to 32 KiB
                              for (int d = 0; d < 299; d++) gort_mframe_pop();
                              auto *self = reinterpret_cast<gort::G *>(gort_self());
                              size_before.store(self->mstack.hi - self->mstack.lo);
                              g.store(gort_self());
                              park_then_done(&parked, "shrink test");
                              if (!frame_ok(static_cast<uintptr_t *>(gort_mframe_top()), 0)) abort();
                              gort_mframe_pop();
                              fin.done();
                          });
                          parked.wait();
                          EXPECT_EQ(gort_quiesce(), GORT_OK);
                          auto *gp = reinterpret_cast<gort::G *>(g.load());
                          size_t after = gp->mstack.hi - gp->mstack.lo;
                          if (off)
                              EXPECT_EQ(after, size_before.load());
                          else
                              EXPECT_EQ(after, size_before.load() / 2);
                          EXPECT_EQ(gort_ready(g.load()), GORT_OK);
                          fin.wait();
                      },
                      &arg),
                  GORT_OK);
        ASSERT_EQ(gort_shutdown(), GORT_OK);
    }
}

// The forced GC: with a gc_trigger hook, sysmon wakes a runtime goroutine
// that calls it once a period has passed without a cycle, also when the
// runtime is idle; it is not counted as a goroutine.
TEST_F(GcScan, ForcedGCTriggerRunsOnAGoroutine) {
    Watchdog wd("ForcedGCTriggerRunsOnAGoroutine", 60);
    start_background(2);
    struct T {
        std::atomic<int> fired{0};
        std::atomic<int> quiesce_rc{1};
        HostLatch twice{2};
    } t;
    gort_gc_hooks h{};
    h.size = sizeof h;
    h.scan_g = scan_g;
    h.gc_trigger = [](void *c) {
        auto *tt = static_cast<T *>(c);
        tt->quiesce_rc.store(gort_quiesce());  // a goroutine: may quiesce
        if (tt->fired.fetch_add(1) < 2) tt->twice.count_down();
    };
    h.force_period_ns = 50 * 1000000ll;
    h.ctx = &t;
    ASSERT_EQ(gort_gc_set_hooks(&h), GORT_OK);
    EXPECT_EQ(gort_numgoroutine(), 0) << "the forcegc goroutine is not counted";
    ASSERT_TRUE(t.twice.wait_for(std::chrono::seconds(30))) << "the trigger did not fire twice";
    EXPECT_EQ(t.quiesce_rc.load(), GORT_OK);
    EXPECT_EQ(gort_numgoroutine(), 0);
    ASSERT_EQ(gort_gc_set_hooks(nullptr), GORT_OK);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// While a cycle runs, the phase and the hooks cannot change.
TEST_F(GcScan, PhaseAndHooksBusyDuringQuiesce) {
    Watchdog wd("PhaseAndHooksBusyDuringQuiesce", 60);
    static std::atomic<int> phase_rc, hooks_rc;
    phase_rc = 1;
    hooks_rc = 1;
    run_main(2, [&] {
        gort_gc_hooks h{};
        h.size = sizeof h;
        h.scan_g = [](const gort_scan *, void *) {
            // A host thread tries while this scan (inside the cycle) waits.
            std::thread t([] {
                gort_gc_hooks h2{};
                h2.size = sizeof h2;
                h2.scan_g = [](const gort_scan *, void *) {};
                phase_rc.store(gort_gc_set_phase(GORT_GC_OFF));
                hooks_rc.store(gort_gc_set_hooks(&h2));
            });
            t.join();
        };
        ASSERT_EQ(gort_gc_set_hooks(&h), GORT_OK);
        ASSERT_EQ(gort_gc_set_phase(GORT_GC_SCAN), GORT_GC_OFF);
        ASSERT_EQ(gort_gc_phase(), GORT_GC_SCAN);
        ASSERT_EQ(gort_quiesce(), GORT_OK);
        EXPECT_EQ(phase_rc.load(), GORT_EBUSY);
        EXPECT_EQ(hooks_rc.load(), GORT_EBUSY);
        EXPECT_EQ(gort_gc_set_phase(GORT_GC_MARK), GORT_GC_SCAN);
        EXPECT_EQ(gort_gc_set_phase(GORT_GC_OFF), GORT_GC_MARK);
    });
}

// gort_gc_set_phase is a barrier: while a scan outside gort_quiesce (a
// goroutine scanning itself at a safe point) runs scan_g, a phase change on
// another thread does not return; it returns once that scan_g has.
TEST_F(GcScan, SetPhaseWaitsForScansOfTheOldPhase) {
    Watchdog wd("SetPhaseWaitsForScansOfTheOldPhase", 60);
    static std::atomic<int> in_scan, entered, returned, early;
    in_scan = entered = returned = early = 0;
    start_background(2);
    gort_gc_hooks h{};
    h.size = sizeof h;
    h.scan_g = [](const gort_scan *, void *) {
        in_scan.store(1);
        while (entered.load() == 0) {
        }
        // Give the phase change 500 ms to (wrongly) return meanwhile: a
        // correct one cannot, so this scan always lasts that long.
        auto t0 = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(500))
            if (returned.load()) {
                early.store(1);
                break;
            }
    };
    ASSERT_EQ(gort_gc_set_hooks(&h), GORT_OK);
    ASSERT_EQ(gort_gc_set_phase(GORT_GC_SCAN), GORT_GC_OFF);  // a cycle
    std::atomic<bool> stop{false};
    std::atomic<gort_g *> spinner{nullptr};
    HostLatch fin(1);
    go([&] {
        gort_proc_pin();  // never preempted: always running, so only a self-scan can do it
        spinner.store(gort_self());
        while (!stop.load(std::memory_order_relaxed)) gort_safepoint();
        gort_proc_unpin();
        fin.count_down();
    });
    while (spinner.load() == nullptr) std::this_thread::yield();
    // Running: asked to scan itself at its next gort_safepoint.
    ASSERT_EQ(gort_stopg(spinner.load()), 0);
    while (in_scan.load() == 0) std::this_thread::yield();
    int old = -100;
    std::thread t([&] {
        entered.store(1);
        old = gort_gc_set_phase(GORT_GC_OFF);
        returned.store(1);
    });
    t.join();
    EXPECT_EQ(old, GORT_GC_SCAN);
    stop.store(true);
    ASSERT_TRUE(fin.wait_for(std::chrono::seconds(30)));  // its scan_g has returned
    EXPECT_EQ(early.load(), 0) << "gort_gc_set_phase returned while a scan_g of the old phase ran";
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

TEST_F(GcScan, BadInput) {
    EXPECT_EQ(gort_quiesce(), GORT_ENOTINIT);
    EXPECT_EQ(gort_gc_phase(), GORT_ENOTINIT);
    EXPECT_EQ(gort_gc_set_phase(GORT_GC_SCAN), GORT_ENOTINIT);
    EXPECT_EQ(gort_stopg(nullptr), GORT_EINVAL);
    start_background(2);
    gort_gc_hooks h{};
    h.size = sizeof h;
    EXPECT_EQ(gort_gc_set_hooks(&h), GORT_EINVAL) << "NULL scan_g";
    h.scan_g = scan_g;
    h.size = sizeof h - 1;
    EXPECT_EQ(gort_gc_set_hooks(&h), GORT_EINVAL) << "bad size";
    h.size = sizeof h;
    h.force_period_ns = -1;
    EXPECT_EQ(gort_gc_set_hooks(&h), GORT_EINVAL) << "negative period";
    EXPECT_EQ(gort_gc_set_phase(3), GORT_EINVAL);
    EXPECT_EQ(gort_gc_set_phase(-1), GORT_EINVAL);
    EXPECT_EQ(gort_gc_phase(), GORT_GC_OFF) << "nothing changed";
    EXPECT_EQ(gort_quiesce(), GORT_ENOTG) << "from a host thread";
    EXPECT_EQ(gort_gc_helpers(1, [](void *) {}, nullptr), GORT_ESTATE);
    EXPECT_EQ(gort_gc_helpers(0, [](void *) {}, nullptr), GORT_EINVAL);
    EXPECT_EQ(gort_gc_helpers(1, nullptr, nullptr), GORT_EINVAL);
    uint64_t junk[32] = {};
    EXPECT_EQ(gort_stopg(reinterpret_cast<gort_g *>(junk)), GORT_EINVAL);
    EXPECT_EQ(gort_restartg(reinterpret_cast<gort_g *>(junk)), GORT_EINVAL);
    EXPECT_EQ(gort_restartg(nullptr), GORT_EINVAL);
    gort_scan s{};
    EXPECT_EQ(gort_scan_precise_roots(nullptr, visit, nullptr), GORT_EINVAL);
    EXPECT_EQ(gort_scan_precise_roots(&s, visit, nullptr), GORT_EINVAL) << "size 0";
    struct R {
        std::atomic<int> pinned_rc{1}, syscall_rc{1}, roots_rc{1}, restart_rc{1}, stopg_rc{-100};
        std::atomic<gort_g *> parked{nullptr};
        HostLatch done{1};
    } r;
    go([&] {
        gort_proc_pin();
        r.pinned_rc.store(gort_quiesce());
        gort_proc_unpin();
        gort_entersyscall();
        r.syscall_rc.store(gort_quiesce());
        gort_exitsyscall();
        // A record of a goroutine that is not held.
        gort_scan s2{};
        s2.size = sizeof s2;
        s2.g = gort_self();
        r.roots_rc.store(gort_scan_precise_roots(&s2, visit, nullptr));
        r.done.count_down();
    });
    ASSERT_TRUE(r.done.wait_for(std::chrono::seconds(30)));
    EXPECT_EQ(r.pinned_rc.load(), GORT_ESTATE);
    EXPECT_EQ(r.syscall_rc.load(), GORT_ESTATE);
    EXPECT_EQ(r.roots_rc.load(), GORT_ESTATE);
    // A claim outside a cycle finds the goroutine done: 0, nothing held; a
    // release without a claim is refused.
    HostLatch parked(1);
    std::atomic<gort_g *> pg{nullptr};
    HostLatch fin(1);
    go([&] {
        pg.store(gort_self());
        gort_park(
            [](gort_g *, void *p) -> int {
                static_cast<HostLatch *>(p)->count_down();
                return 1;
            },
            &parked, "bad input");
        fin.count_down();
    });
    ASSERT_TRUE(parked.wait_for(std::chrono::seconds(30)));
    EXPECT_EQ(gort_restartg(pg.load()), GORT_ESTATE);
    ASSERT_EQ(gort_gc_set_phase(GORT_GC_SCAN), GORT_GC_OFF);  // a new cycle
    EXPECT_EQ(gort_stopg(pg.load()), 1) << "parked and not scanned: claimed";
    EXPECT_EQ(gort_restartg(pg.load()), GORT_OK);
    EXPECT_EQ(gort_stopg(pg.load()), 0) << "scanned already in this cycle";
    EXPECT_EQ(gort_ready(pg.load()), GORT_OK);
    ASSERT_TRUE(fin.wait_for(std::chrono::seconds(30)));
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(gort_stopg(pg.load()), GORT_ENOTINIT);
}

}  // namespace
