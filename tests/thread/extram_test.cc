// tests/thread/extram_test.cc - threads the runtime did not create (seed: needm,
// newextram, dropm, cgocallback): gort_go / gort_call_as_goroutine from host
// threads, the extra M bound to a thread across calls, attach/detach, the
// pthread key destructor that returns an exiting thread's M, bad inputs, and
// bindings left over from an earlier runtime. Every wait is bounded.
#include <gort/gort.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/testutil.h"

using namespace gort_test;

namespace {



gort_stats stats() {
    gort_stats st{};
    st.size = sizeof st;
    EXPECT_EQ(gort_stats_get(&st), GORT_OK);
    return st;
}

// call: gort_call_as_goroutine with a C++ callable.
int call(const std::function<void()> &fn) {
    return gort_call_as_goroutine([](void *p) { (*static_cast<const std::function<void()> *>(p))(); },
                                  const_cast<std::function<void()> *>(&fn));
}

// Worker: a long-lived host thread that runs closures on request, so that a
// test can make one thread call into several runtimes in turn.
class Worker {
  public:
    Worker() : t_([this] { loop(); }) {}
    ~Worker() {
        {
            std::lock_guard<std::mutex> l(mu_);
            quit_ = true;
        }
        cv_.notify_all();
        t_.join();
    }
    // Runs fn on the worker; false if it did not finish within the bound.
    bool run(std::function<void()> fn, std::chrono::seconds bound = std::chrono::seconds(30)) {
        std::unique_lock<std::mutex> l(mu_);
        job_ = std::move(fn);
        done_ = false;
        cv_.notify_all();
        return cv_.wait_for(l, bound, [&] { return done_; });
    }

  private:
    void loop() {
        std::unique_lock<std::mutex> l(mu_);
        for (;;) {
            cv_.wait(l, [&] { return quit_ || job_ != nullptr; });
            if (quit_) return;
            auto fn = std::move(job_);
            job_ = nullptr;
            l.unlock();
            fn();
            l.lock();
            done_ = true;
            cv_.notify_all();
        }
    }
    std::mutex mu_;
    std::condition_variable cv_;
    std::function<void()> job_;
    bool done_ = false;
    bool quit_ = false;
    std::thread t_;
};

// What a stress callback can find wrong (each counted separately).
enum Bad { kNoSelf, kGoid, kNumGoroutine, kThread, kThreadAfterPark, kGoidAfterPark, kSpawn, kNBad };
const char *const kBadNames[kNBad] = {"gort_self() == NULL",          "goid differs between calls",
                                      "gort_numgoroutine() < 1",      "callback on another thread",
                                      "resumed on another thread",    "goid changed across a park",
                                      "gort_go from a callback failed"};

// Per host thread state of the stress test, read by its callbacks.
struct HostState {
    pthread_t thread;
    int64_t goid = -1;        // goid of the first call; every call must match
    int64_t calls = 0;        // callbacks run
    int64_t parks = 0;        // callbacks that parked and were readied
    std::atomic<int> *bad;    // shared failure counters, kNBad of them
    std::atomic<int64_t> *spawned_ran;
    HostLatch *spawned;
};

void stress_callback(void *p) {
    auto *hs = static_cast<HostState *>(p);
    if (gort_self() == nullptr) hs->bad[kNoSelf]++;
    int64_t id = gort_goid(nullptr);
    if (hs->goid == -1) hs->goid = id;
    if (id <= 0 || id != hs->goid) hs->bad[kGoid]++;  // one extra M per thread, one G per M
    if (gort_numgoroutine() < 1) hs->bad[kNumGoroutine]++;  // this goroutine counts while it runs
    if (!pthread_equal(pthread_self(), hs->thread)) hs->bad[kThread]++;
    if (hs->calls % 100 == 0) {
        // A callback may block like any goroutine: park until a goroutine it
        // spawns readies it. It resumes on its own thread (locked to it).
        Sema s;
        if (gort_go([](void *s) { static_cast<Sema *>(s)->post(); }, &s, 0, nullptr) != GORT_OK) hs->bad[kSpawn]++;
        s.acquire();
        if (!pthread_equal(pthread_self(), hs->thread)) hs->bad[kThreadAfterPark]++;
        if (gort_goid(nullptr) != hs->goid) hs->bad[kGoidAfterPark]++;
        hs->parks++;
    }
    hs->calls++;
}

}  // namespace

// 8 host threads, each gort_go N times and gort_call_as_goroutine N times.
TEST(Extram, HostThreadsGoAndCallAsGoroutine) {
    const int kHosts = 8;
    const int64_t n = scaled(10000, 200, 2000);  // TSan: 8 * 200 goroutines stay under its fiber limit
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    std::atomic<int> bad[kNBad] = {};
    std::atomic<int> rc_bad{0};
    std::atomic<int64_t> spawned_ran{0};
    HostLatch spawned(kHosts * n);
    std::vector<HostState> hs(kHosts);
    std::vector<std::thread> hosts;
    for (int h = 0; h < kHosts; h++) {
        hs[h].bad = bad;
        hs[h].spawned_ran = &spawned_ran;
        hs[h].spawned = &spawned;
        hosts.emplace_back([&, h] {
            hs[h].thread = pthread_self();
            for (int64_t i = 0; i < n; i++) {
                if (gort_go(
                        [](void *p) {
                            auto *hs = static_cast<HostState *>(p);
                            hs->spawned_ran->fetch_add(1, std::memory_order_relaxed);
                            hs->spawned->count_down();
                        },
                        &hs[h], 0, nullptr) != GORT_OK)
                    rc_bad++;
                if (gort_call_as_goroutine(stress_callback, &hs[h]) != GORT_OK) rc_bad++;
            }
        });
    }
    for (auto &t : hosts) t.join();
    ASSERT_TRUE(spawned.wait_for(std::chrono::seconds(120)))
        << "goroutines spawned from host threads did not all run: " << spawned_ran.load() << " of " << kHosts * n;
    EXPECT_EQ(spawned_ran.load(), kHosts * n);
    EXPECT_EQ(rc_bad.load(), 0) << "gort_go or gort_call_as_goroutine failed";
    for (int b = 0; b < kNBad; b++) EXPECT_EQ(bad[b].load(), 0) << kBadNames[b];
    for (int h = 0; h < kHosts; h++) {
        EXPECT_EQ(hs[h].calls, n) << "host " << h;
        EXPECT_EQ(hs[h].parks, (n + 99) / 100) << "host " << h;
        EXPECT_GT(hs[h].goid, 0) << "host " << h;
        for (int k = 0; k < h; k++) EXPECT_NE(hs[h].goid, hs[k].goid) << "two live threads shared an extra M";
    }
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// The callback's goroutine counts in gort_numgoroutine while it runs and not
// between calls (even with the thread attached); the thread's goid is stable.
TEST(Extram, NumGoroutineCountsTheCallback) {
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    Worker w;
    int before = -1, attached = -1, inside = -1, after = -1;
    int64_t id1 = -1, id2 = -1, id3 = -1;
    ASSERT_TRUE(w.run([&] {
        before = gort_numgoroutine();
        EXPECT_EQ(gort_thread_attach(), GORT_OK);
        attached = gort_numgoroutine();
        EXPECT_EQ(call([&] {
                      inside = gort_numgoroutine();
                      id1 = gort_goid(nullptr);
                  }),
                  GORT_OK);
        after = gort_numgoroutine();
        EXPECT_EQ(call([&] { id2 = gort_goid(nullptr); }), GORT_OK);
        EXPECT_EQ(gort_thread_attach(), GORT_OK);  // idempotent: keeps the same M
        EXPECT_EQ(call([&] { id3 = gort_goid(nullptr); }), GORT_OK);
    }));
    EXPECT_EQ(before, 0);
    EXPECT_EQ(attached, 0) << "an attached thread's idle goroutine must not count";
    EXPECT_EQ(inside, 1);
    EXPECT_EQ(after, 0);
    EXPECT_GT(id1, 0);
    EXPECT_EQ(id2, id1);
    EXPECT_EQ(id3, id1);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// attach is idempotent (no second M); detach releases; a second detach is
// GORT_ESTATE; detach inside a call is GORT_ESTATE; calls work again after.
TEST(Extram, AttachDetach) {
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    Worker w;
    ASSERT_TRUE(w.run([&] {
        EXPECT_EQ(gort_thread_detach(), GORT_ESTATE) << "detach with nothing bound";
        int64_t t0 = stats().threads;
        EXPECT_EQ(gort_thread_attach(), GORT_OK);
        int64_t t1 = stats().threads;
        EXPECT_EQ(gort_thread_attach(), GORT_OK);
        EXPECT_EQ(gort_thread_attach(), GORT_OK);
        EXPECT_EQ(stats().threads, t1) << "a second attach made another M";
        EXPECT_LE(t1, t0 + 1);
        int detach_inside = 0;
        int64_t first_id = -1;
        EXPECT_EQ(call([&] {
                      detach_inside = gort_thread_detach();
                      first_id = gort_goid(nullptr);
                  }),
                  GORT_OK);
        EXPECT_EQ(detach_inside, GORT_ESTATE);
        EXPECT_EQ(gort_thread_detach(), GORT_OK);
        EXPECT_EQ(gort_thread_detach(), GORT_ESTATE) << "second detach";
        // The released M (the only one on the extra list) is reused by the
        // next attach: same goroutine.
        EXPECT_EQ(gort_thread_attach(), GORT_OK);
        int ran = 0;
        EXPECT_EQ(call([&] {
                      ran = 1;
                      EXPECT_EQ(gort_goid(nullptr), first_id) << "re-attach after detach did not reuse the released M";
                  }),
                  GORT_OK);
        EXPECT_EQ(ran, 1);
        EXPECT_EQ(gort_thread_detach(), GORT_OK);
        // A call without attach binds implicitly; detach then works.
        EXPECT_EQ(call([&] { ran = 2; }), GORT_OK);
        EXPECT_EQ(ran, 2);
        EXPECT_EQ(gort_thread_detach(), GORT_OK);
        EXPECT_EQ(gort_thread_detach(), GORT_ESTATE);
    }));
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// attach in the Init state (before gort_start) is accepted, and the bound M
// serves calls once the runtime runs.
TEST(Extram, AttachBeforeStart) {
    ASSERT_EQ(gort_init(nullptr), GORT_OK);
    Worker w;
    ASSERT_TRUE(w.run([&] { EXPECT_EQ(gort_thread_attach(), GORT_OK); }));
    ASSERT_TRUE(w.run([&] { EXPECT_EQ(gort_call_as_goroutine([](void *) {}, nullptr), GORT_ESTATE) << "not running yet"; }));
    ASSERT_EQ(gort_start(), GORT_OK);
    int64_t id = -1;
    ASSERT_TRUE(w.run([&] { EXPECT_EQ(call([&] { id = gort_goid(nullptr); }), GORT_OK); }));
    EXPECT_GT(id, 0);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// Short-lived threads: each calls once and exits; the pthread key destructor
// returns its extra M, the next thread reuses it, so the thread count stays
// flat and every call runs on the same extra goroutine.
TEST(Extram, ShortLivedThreadsReuseExtraMs) {
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    const int kThreads = 50;
    std::vector<int64_t> ids(kThreads, -1);
    std::vector<int> rcs(kThreads, 1);
    std::thread([&] { rcs[0] = call([&] { ids[0] = gort_goid(nullptr); }); }).join();
    const int64_t t1 = stats().threads;
    int64_t tmax = t1;
    for (int i = 1; i < kThreads; i++) {
        std::thread([&, i] { rcs[i] = call([&, i] { ids[i] = gort_goid(nullptr); }); }).join();
        tmax = std::max(tmax, stats().threads);
    }
    for (int i = 0; i < kThreads; i++) {
        EXPECT_EQ(rcs[i], GORT_OK) << "thread " << i;
        EXPECT_EQ(ids[i], ids[0]) << "thread " << i << " did not reuse the extra M of the exited threads";
    }
    // Slack of 2 for runtime Ms the scheduler may start meanwhile.
    EXPECT_LE(tmax, t1 + 2) << "thread count grew with short-lived foreign threads";

    // Concurrent waves: at most one extra M per thread alive at once.
    const int kWave = 10;
    for (int wave = 0; wave < 5; wave++) {
        std::vector<std::thread> ts;
        std::atomic<int> rc_bad{0};
        for (int i = 0; i < kWave; i++)
            ts.emplace_back([&] {
                if (call([] {}) != GORT_OK) rc_bad++;
            });
        for (auto &t : ts) t.join();
        EXPECT_EQ(rc_bad.load(), 0);
        tmax = std::max(tmax, stats().threads);
    }
    EXPECT_LE(tmax, t1 + kWave + 2) << "extra Ms of exited threads were not reused";
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// Bad inputs and wrong callers.
TEST(Extram, Errors) {
    // Before init.
    EXPECT_EQ(gort_call_as_goroutine([](void *) {}, nullptr), GORT_ENOTINIT);
    EXPECT_EQ(gort_thread_attach(), GORT_ENOTINIT);
    EXPECT_EQ(gort_thread_detach(), GORT_ENOTINIT);
    EXPECT_EQ(gort_call_as_goroutine(nullptr, nullptr), GORT_EINVAL);

    ASSERT_NO_FATAL_FAILURE(start_background(2));
    EXPECT_EQ(gort_call_as_goroutine(nullptr, nullptr), GORT_EINVAL);
    EXPECT_EQ(gort_thread_detach(), GORT_ESTATE) << "nothing bound: a failed call must change nothing";

    // From a goroutine: EBUSY (call fn directly there); attach EBUSY;
    // detach ESTATE.
    struct R {
        int call_rc = 1, attach_rc = 1, detach_rc = 1, nested_rc = 1;
        HostLatch done{1};
    } r;
    ASSERT_EQ(gort_go(
                  [](void *p) {
                      auto *r = static_cast<R *>(p);
                      r->call_rc = gort_call_as_goroutine([](void *) {}, nullptr);
                      r->attach_rc = gort_thread_attach();
                      r->detach_rc = gort_thread_detach();
                      r->done.count_down();
                  },
                  &r, 0, nullptr),
              GORT_OK);
    ASSERT_TRUE(r.done.wait_for(std::chrono::seconds(30)));
    EXPECT_EQ(r.call_rc, GORT_EBUSY);
    EXPECT_EQ(r.attach_rc, GORT_EBUSY);
    EXPECT_EQ(r.detach_rc, GORT_ESTATE);

    // From inside a callback (a goroutine too): a nested call is EBUSY.
    EXPECT_EQ(call([&] { r.nested_rc = gort_call_as_goroutine([](void *) {}, nullptr); }), GORT_OK);
    EXPECT_EQ(r.nested_rc, GORT_EBUSY);

    // The callback's goroutine ends by returning, not by gort_goexit.
    int goexit_rc = 1;
    bool after = false;
    EXPECT_EQ(call([&] {
                  goexit_rc = gort_goexit();
                  after = true;
              }),
              GORT_OK);
    EXPECT_EQ(goexit_rc, GORT_ESTATE);
    EXPECT_TRUE(after);
    // And the thread still works afterwards.
    int ran = 0;
    EXPECT_EQ(call([&] { ran = 1; }), GORT_OK);
    EXPECT_EQ(ran, 1);
    ASSERT_EQ(gort_shutdown(), GORT_OK);

    // After shutdown.
    EXPECT_EQ(gort_call_as_goroutine([](void *) {}, nullptr), GORT_ENOTINIT);
    EXPECT_EQ(gort_thread_attach(), GORT_ENOTINIT);
    EXPECT_EQ(gort_thread_detach(), GORT_ENOTINIT);
}

// A host thread calls in while gort_main runs: the callback parks, readies
// the main goroutine, spawns goroutines. The main goroutine waits for the
// host thread inside a syscall bracket (it must not look deadlocked).
TEST(Extram, CallWhileGortMainRuns) {
    std::atomic<int> bad{0};
    std::atomic<int> spawned_ran{0};
    const int kCalls = int(scaled(1000, 100, 500));
    run_main(2, [&] {
        Sema main_sema;
        int64_t main_id = gort_goid(nullptr);
        HostLatch attached(1);
        std::thread host([&] {
            // Attached before the main goroutine parks: from then on the
            // runtime is not deadlocked while main waits for this thread.
            if (gort_thread_attach() != GORT_OK) bad++;
            attached.count_down();
            int64_t my_id = -1;
            for (int i = 0; i < kCalls; i++) {
                int rc = call([&] {
                    if (gort_self() == nullptr) bad++;
                    int64_t id = gort_goid(nullptr);
                    if (my_id == -1) my_id = id;
                    if (id != my_id || id == main_id) bad++;
                    if (i % 50 == 0) {
                        Sema s;
                        go([&] {
                            spawned_ran++;
                            s.post();
                        });
                        s.acquire();
                    }
                });
                if (rc != GORT_OK) bad++;
            }
            // Last: wake the main goroutine from a callback.
            if (call([&] { main_sema.post(); }) != GORT_OK) bad++;
        });
        ASSERT_EQ(gort_entersyscall(), GORT_OK);
        bool ok = attached.wait_for(std::chrono::seconds(30));
        ASSERT_EQ(gort_exitsyscall(), GORT_OK);
        if (!ok) {
            ADD_FAILURE() << "host thread did not attach";
            abort();
        }
        main_sema.acquire();  // readied by the host thread's last callback
        ASSERT_EQ(gort_entersyscall(), GORT_OK);
        host.join();
        ASSERT_EQ(gort_exitsyscall(), GORT_OK);
    });
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(spawned_ran.load(), (kCalls + 49) / 50);
}

// A thread bound in one runtime calls into the next one (init, shutdown,
// init again): the stale binding is dropped, never dereferenced, and the
// thread gets a fresh extra M. A thread still bound when the runtime shuts
// down exits cleanly afterwards.
TEST(Extram, StaleBindingAfterReinit) {
    Worker w;
    for (int cycle = 0; cycle < 3; cycle++) {
        ASSERT_NO_FATAL_FAILURE(start_background(2));
        int64_t id = -1;
        int rc = 1, rc2 = 1;
        ASSERT_TRUE(w.run([&] {
            if (cycle > 0) EXPECT_EQ(gort_thread_detach(), GORT_ESTATE) << "stale binding detached as if live";
            rc = call([&] { id = gort_goid(nullptr); });
            // A second call reuses the binding made by the first.
            int64_t id2 = -2;
            rc2 = call([&] { id2 = gort_goid(nullptr); });
            EXPECT_EQ(id2, id);
        })) << "cycle " << cycle;
        EXPECT_EQ(rc, GORT_OK) << "cycle " << cycle;
        EXPECT_EQ(rc2, GORT_OK) << "cycle " << cycle;
        EXPECT_GT(id, 0) << "cycle " << cycle;
        EXPECT_EQ(gort_numgoroutine(), 0);
        ASSERT_EQ(gort_shutdown(), GORT_OK);
        // Between runtimes the stale binding is refused cleanly.
        ASSERT_TRUE(w.run([&] { EXPECT_EQ(gort_call_as_goroutine([](void *) {}, nullptr), GORT_ENOTINIT); }));
    }
    // Also under gort_main: the worker's binding from the last background
    // runtime is stale here.
    std::atomic<int> rc{1};
    run_main(2, [&] {
        // The main goroutine waits for the worker inside a syscall bracket.
        ASSERT_EQ(gort_entersyscall(), GORT_OK);
        bool ok = w.run([&] { rc = call([] {}); });
        ASSERT_EQ(gort_exitsyscall(), GORT_OK);
        EXPECT_TRUE(ok);
    });
    EXPECT_EQ(rc.load(), GORT_OK);
    // The worker exits (its destructor runs) with a binding to a runtime
    // that is gone: ASan/TSan would report a use of the freed M.
}

// A thread exits while bound during the runtime's life, right after a
// call, many times concurrently with goroutines running: the destructor's
// dropm races with sysmon retaking the P the call left in Psyscall.
TEST(Extram, ThreadExitRacesWithSysmonRetake) {
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    const int kRounds = int(scaled(200, 30, 100));
    std::atomic<int> rc_bad{0};
    std::atomic<int64_t> ran{0};
    for (int r = 0; r < kRounds; r++) {
        std::vector<std::thread> ts;
        for (int i = 0; i < 4; i++)
            ts.emplace_back([&] {
                if (call([&] {
                        ran++;
                        gort_gosched();  // a locked goroutine yields: its M hands off and waits
                    }) != GORT_OK)
                    rc_bad++;
            });
        for (auto &t : ts) t.join();
    }
    EXPECT_EQ(rc_bad.load(), 0);
    EXPECT_EQ(ran.load(), int64_t(kRounds) * 4);
    // The runtime still works: goroutines run and every P can go idle.
    HostLatch l(100);
    for (int i = 0; i < 100; i++)
        ASSERT_EQ(gort_go([](void *p) { static_cast<HostLatch *>(p)->count_down(); }, &l, 0, nullptr), GORT_OK);
    ASSERT_TRUE(l.wait_for(std::chrono::seconds(30)));
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// lock/unlock inside a callback: the callback's goroutine is locked to its
// thread internally (the extra M); a user lock/unlock pair must not undo that,
// and a user unlock without lock is GORT_ESTATE.
TEST(Extram, LockOSThreadInsideCallback) {
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    const int iters = int(scaled(200, 20, 100));
    std::atomic<int> bad{0};
    std::thread host([&] {
        pthread_t me = pthread_self();
        for (int i = 0; i < iters; i++) {
            int rc = call([&] {
                if (gort_unlock_os_thread() != GORT_ESTATE) bad++;
                if (gort_lock_os_thread() != GORT_OK) bad++;
                if (gort_unlock_os_thread() != GORT_OK) bad++;
                // Still wired to this thread: park, resume here.
                Sema s;
                go([&] { s.post(); });
                s.acquire();
                if (!pthread_equal(pthread_self(), me)) bad++;
                gort_gosched();
                if (!pthread_equal(pthread_self(), me)) bad++;
            });
            if (rc != GORT_OK) bad++;
        }
    });
    host.join();
    EXPECT_EQ(bad.load(), 0);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}
