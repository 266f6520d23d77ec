// tests/sched/checkdead_test.cc - deadlock detection (seed: checkdead): the fatal
// error under gort_main (in a child process, exact message and dump), the
// background-mode hook (once per episode), GORT_DEBUG deadlock=0, and a
// foreign thread attached under gort_main (it may still wake a goroutine).
// No test sleeps for synchronisation; sleeps only bound waits or widen the
// window in which a wrong deadlock report would show.
#include <gort/gort.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <tuple>
#include <thread>
#include <vector>

#include "tests/util/testutil.h"

using namespace gort_test;

namespace {


gort_stats stats() {
    gort_stats st{};
    st.size = sizeof st;
    if (gort_stats_get(&st) != GORT_OK) abort();
    return st;
}

// Parks the calling goroutine for good under reason, publishing its handle.
void park_forever(const char *reason, std::atomic<gort_g *> *self = nullptr) {
    if (self != nullptr) self->store(gort_self(), std::memory_order_release);
    gort_park(nullptr, nullptr, reason);
}

// init with procs Ps and debug, then gort_main(body). For death tests.
void main_with(int procs, const char *debug, void (*body)(void *), void *arg) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = procs;
    cfg.debug = debug;
    if (gort_init(&cfg) != GORT_OK) abort();
    if (gort_main(body, arg) != GORT_OK) abort();
    if (gort_shutdown() != GORT_OK) abort();
}

// The host thread that readies the parked main goroutine waits until the
// runtime has gone fully idle (every P idle, nothing runnable), then a
// little longer, so that a wrong deadlock report would have fired.
bool wait_runtime_idle(std::atomic<gort_g *> *parked, std::chrono::seconds bound) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (parked->load(std::memory_order_acquire) == nullptr) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // bounds the poll
    }
    for (;;) {
        gort_stats st = stats();
        if (st.idle_procs == st.maxprocs && st.global_runq == 0 && st.spinning_threads == 0) break;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // bounds the poll
    }
    // The M that released the last P runs checkdead right after: widen the
    // window for a (wrong) fatal error.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return true;
}

}  // namespace

// The main goroutine parks with nobody to wake it.
TEST(CheckdeadDeathTest, MainParksAlone) {
    for (int procs : {1, 2}) {
        EXPECT_EXIT(main_with(procs, nullptr, [](void *) { park_forever("forever"); }, nullptr),
                    ::testing::KilledBySignal(SIGABRT),
                    "gort: fatal error: all goroutines are asleep - deadlock!\n(.|\n)*goroutine 1 \\[forever\\]:")
            << "procs=" << procs;
    }
}

// Several goroutines parked, some locked to their threads (their Ms sleep in
// stoplockedm: nmidlelocked), the main goroutine last; variant with the main
// goroutine locked too (m0 in stoplockedm).
namespace {
struct Many {
    bool lock_main;
};
void many_parked(void *p) {
    auto *m = static_cast<Many *>(p);
    const int n = 6;
    Join parked(n);
    for (int i = 0; i < n; i++) {
        go([&parked, i] {
            if (i % 2 == 0 && gort_lock_os_thread() != GORT_OK) abort();
            // Count ourselves as parked from unlockf, once we are waiting.
            gort_park(
                [](gort_g *, void *j) -> int {
                    static_cast<Join *>(j)->done();
                    return 1;
                },
                &parked, i % 2 == 0 ? "locked-park" : "plain-park");
        });
    }
    parked.wait();
    if (m->lock_main && gort_lock_os_thread() != GORT_OK) abort();
    park_forever("main-park");
}
}  // namespace

TEST(CheckdeadDeathTest, ManyParkedSomeLocked) {
    for (bool lock_main : {false, true}) {
        Many m{lock_main};
        EXPECT_EXIT(main_with(2, nullptr, many_parked, &m), ::testing::KilledBySignal(SIGABRT),
                    "gort: fatal error: all goroutines are asleep - deadlock!\n"
                    "(.|\n)*goroutine 1 \\[main-park(, locked to thread)?\\]:"
                    "(.|\n)*\\[locked-park, locked to thread\\]:"
                    "(.|\n)*\\[plain-park\\]:")
            << "lock_main=" << lock_main;
    }
}

// The message is exact, at the start of the output; the dump follows (the
// detecting M's runtime stack first, then every goroutine).
TEST(CheckdeadDeathTest, MessageIsExact) {
    EXPECT_EXIT(main_with(1, nullptr, [](void *) { park_forever("forever"); }, nullptr),
                ::testing::KilledBySignal(SIGABRT),
                "^gort: fatal error: all goroutines are asleep - deadlock!\n\n(.|\n)*\ngoroutine 1 \\[forever\\]:\n");
}

// Background mode: when every goroutine waits, the hook runs (on a runtime
// thread, once per episode); the host readies a goroutine, which parks again:
// a second episode, a second call. Count exactly: no duplicate per episode.
namespace {
struct HookState {
    std::mutex mu;
    std::condition_variable cv;
    int calls = 0;
    bool on_goroutine = false;   // the hook ran where gort_self() != NULL (wrong)
    std::atomic<gort_g *> parked{nullptr};
    bool ready_from_hook = false;
    std::atomic<int> ready_rc{GORT_OK};
};
void hook_fn(void *ctx) {
    auto *h = static_cast<HookState *>(ctx);
    if (gort_self() != nullptr) h->on_goroutine = true;
    bool ready = false;
    {
        std::lock_guard<std::mutex> l(h->mu);
        h->calls++;
        ready = h->ready_from_hook;
        h->cv.notify_all();
    }
    if (ready) {
        gort_g *g = h->parked.exchange(nullptr, std::memory_order_acq_rel);
        if (g == nullptr) {
            h->ready_rc.store(GORT_EINVAL);  // hook without a parked goroutine
        } else if (int rc = gort_ready(g); rc != GORT_OK) {
            h->ready_rc.store(rc);
        }
    }
}
bool wait_calls(HookState *h, int n) {
    std::unique_lock<std::mutex> l(h->mu);
    return h->cv.wait_for(l, std::chrono::seconds(10), [&] { return h->calls >= n; });
}
}  // namespace

// Variants: readied from the hook or from the test thread; the goroutine
// plain or locked to its thread (its M then sleeps in stoplockedm, and the
// next episode starts when that M, not one from the idle list, runs again).
class HookEpisodes : public ::testing::TestWithParam<std::tuple<bool, bool, int>> {};
INSTANTIATE_TEST_SUITE_P(Checkdead, HookEpisodes,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool(), ::testing::Values(1, 2)),
                         [](const auto &info) {
                             return std::string(std::get<0>(info.param) ? "FromHook" : "FromHost") +
                                    (std::get<1>(info.param) ? "Locked" : "Plain") + "Procs" +
                                    std::to_string(std::get<2>(info.param));
                         });

TEST_P(HookEpisodes, OncePerEpisode) {
    {
        const bool from_hook = std::get<0>(GetParam());
        const bool locked = std::get<1>(GetParam());
        const int episodes = int(scaled(50, 10, 20));
        gort_config cfg;
        gort_config_init(&cfg);
        cfg.maxprocs = std::get<2>(GetParam());
        ASSERT_EQ(gort_init(&cfg), GORT_OK);
        HookState h;
        h.ready_from_hook = from_hook;
        ASSERT_EQ(gort_set_deadlock_hook(hook_fn, &h), GORT_OK);
        ASSERT_EQ(gort_start(), GORT_OK);
        std::atomic<int> resumed{0};
        HostLatch finished(1);
        struct Arg {
            HookState *h;
            std::atomic<int> *resumed;
            HostLatch *finished;
            int episodes;
        } a{&h, &resumed, &finished, episodes};
        gort_go_opts opts{sizeof(gort_go_opts), 0, locked ? 1 : 0};
        ASSERT_EQ(gort_go_ex(
                      [](void *p) {
                          auto *a = static_cast<Arg *>(p);
                          for (int i = 0; i < a->episodes; i++) {
                              // Publish the handle from unlockf: once it is
                              // visible we are waiting.
                              gort_park(
                                  [](gort_g *g, void *h) -> int {
                                      static_cast<HookState *>(h)->parked.store(g, std::memory_order_release);
                                      return 1;
                                  },
                                  a->h, "episode");
                              a->resumed->fetch_add(1);
                          }
                          a->finished->count_down();  // then exits: no goroutine waits, no hook
                      },
                      &a, sizeof a, &opts, nullptr),
                  GORT_OK);
        for (int e = 1; e <= episodes; e++) {
            ASSERT_TRUE(wait_calls(&h, e)) << "no hook call for episode " << e;
            if (!from_hook) {
                gort_g *g = h.parked.exchange(nullptr, std::memory_order_acq_rel);
                ASSERT_NE(g, nullptr) << "hook called while the goroutine was not parked, episode " << e;
                ASSERT_EQ(gort_ready(g), GORT_OK);
            }
        }
        ASSERT_TRUE(finished.wait_for(std::chrono::seconds(30)));
        ASSERT_EQ(gort_shutdown(), GORT_OK);  // after this no hook can run
        EXPECT_EQ(h.calls, episodes) << "hook calls != deadlock episodes";
        EXPECT_EQ(resumed.load(), episodes);
        EXPECT_FALSE(h.on_goroutine);
        EXPECT_EQ(h.ready_rc.load(), GORT_OK);
    }
}

// The hook may start a goroutine (gort_go from the runtime thread it runs on)
// that readies the waiting one.
TEST(Checkdead, BackgroundHookSpawns) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 2;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    struct S {
        std::atomic<gort_g *> parked{nullptr};
        std::atomic<int> calls{0};
        std::atomic<int> go_rc{GORT_OK};
        HostLatch resumed{1};
    } s;
    ASSERT_EQ(gort_set_deadlock_hook(
                  [](void *p) {
                      auto *s = static_cast<S *>(p);
                      s->calls++;
                      int rc = gort_go(
                          [](void *p) {
                              auto *s = static_cast<S *>(p);
                              gort_g *g = s->parked.exchange(nullptr);
                              if (g == nullptr || gort_ready(g) != GORT_OK) abort();
                          },
                          s, 0, nullptr);
                      if (rc != GORT_OK) s->go_rc = rc;
                  },
                  &s),
              GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
    ASSERT_EQ(gort_go(
                  [](void *p) {
                      auto *s = static_cast<S *>(p);
                      gort_park(
                          [](gort_g *g, void *s) -> int {
                              static_cast<S *>(s)->parked.store(g);
                              return 1;
                          },
                          s, "wait-for-hook");
                      s->resumed.count_down();
                  },
                  &s, 0, nullptr),
              GORT_OK);
    ASSERT_TRUE(s.resumed.wait_for(std::chrono::seconds(30))) << "the hook's goroutine did not ready the waiter";
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(s.calls.load(), 1);
    EXPECT_EQ(s.go_rc.load(), GORT_OK);
}

// Background mode with no hook: waiting goroutines are not fatal (the host
// may ready them), and gort_set_deadlock_hook(NULL) removes a hook.
TEST(Checkdead, BackgroundNoHookNoDeath) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 2;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    std::atomic<int> calls{0};
    ASSERT_EQ(gort_set_deadlock_hook([](void *c) { static_cast<std::atomic<int> *>(c)->fetch_add(1); }, &calls),
              GORT_OK);
    ASSERT_EQ(gort_set_deadlock_hook(nullptr, nullptr), GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
    std::atomic<gort_g *> parked{nullptr};
    HostLatch resumed(1);
    struct Arg {
        std::atomic<gort_g *> *parked;
        HostLatch *resumed;
    } a{&parked, &resumed};
    ASSERT_EQ(gort_go(
                  [](void *p) {
                      auto *a = static_cast<Arg *>(p);
                      park_forever("bg", a->parked);
                      a->resumed->count_down();
                  },
                  &a, sizeof a, nullptr),
              GORT_OK);
    ASSERT_TRUE(wait_runtime_idle(&parked, std::chrono::seconds(30)));
    ASSERT_EQ(gort_ready(parked.load()), GORT_OK);
    ASSERT_TRUE(resumed.wait_for(std::chrono::seconds(30)));
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(calls.load(), 0) << "a removed hook was called";
}

// GORT_DEBUG deadlock=0 under gort_main: main parks, the runtime goes fully
// idle, a plain host thread readies it, the program completes. Run in a
// child so that a wrong fatal error fails the test instead of the binary.
namespace {
struct HostWakes {
    std::atomic<gort_g *> parked{nullptr};
    std::atomic<int> rc{1};
    bool attach = false;
    bool idle_seen = false;
};
void host_wakes_main(HostWakes *hw, const char *debug) {
    std::thread host;
    struct Arg {
        HostWakes *hw;
        std::thread *host;
    } a{hw, &host};
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 2;
    cfg.debug = debug;
    if (gort_init(&cfg) != GORT_OK) _exit(10);
    int rc = gort_main(
        [](void *p) {
            auto *a = static_cast<Arg *>(p);
            HostWakes *hw = a->hw;
            if (hw->attach) {
                // The host thread attaches before we park; we wait for it in a
                // syscall bracket (a goroutine in a syscall is running).
                HostLatch attached(1);
                if (gort_entersyscall() != GORT_OK) _exit(11);
                *a->host = std::thread([hw, &attached] {
                    if (gort_thread_attach() != GORT_OK) _exit(12);
                    attached.count_down();
                    hw->idle_seen = wait_runtime_idle(&hw->parked, std::chrono::seconds(30));
                    // Ready the main goroutine from a callback, as a host would.
                    int rc = gort_call_as_goroutine(
                        [](void *p) {
                            auto *hw = static_cast<HostWakes *>(p);
                            hw->rc = gort_ready(hw->parked.load());
                        },
                        hw);
                    if (rc != GORT_OK) _exit(13);
                    if (gort_thread_detach() != GORT_OK) _exit(14);
                });
                if (!attached.wait_for(std::chrono::seconds(30))) _exit(15);
                if (gort_exitsyscall() != GORT_OK) _exit(16);
            } else {
                *a->host = std::thread([hw] {
                    hw->idle_seen = wait_runtime_idle(&hw->parked, std::chrono::seconds(30));
                    hw->rc = gort_ready(hw->parked.load());
                });
            }
            park_forever("main-wait", &hw->parked);
            // Readied: wait (in a syscall bracket) for the host thread to
            // finish, detach included, before gort_main returns.
            if (gort_entersyscall() != GORT_OK) _exit(19);
            a->host->join();
            if (gort_exitsyscall() != GORT_OK) _exit(19);
        },
        &a);
    if (rc != GORT_OK) _exit(17);
    if (gort_shutdown() != GORT_OK) _exit(18);
}
}  // namespace

TEST(CheckdeadDeathTest, DebugDeadlockZeroUnderMain) {
    EXPECT_EXIT(
        {
            HostWakes hw;
            host_wakes_main(&hw, "deadlock=0");
            if (!hw.idle_seen) _exit(20);
            if (hw.rc != GORT_OK) _exit(21);
            fprintf(stderr, "completed\n");
            _exit(0);
        },
        ::testing::ExitedWithCode(0), "^completed\n$");
}

// The same scenario without deadlock=0 is the fatal error: the test above
// would catch it.
TEST(CheckdeadDeathTest, SameScenarioWithoutDebugDies) {
    EXPECT_EXIT(
        {
            HostWakes hw;
            host_wakes_main(&hw, "deadlock=1");
            _exit(0);
        },
        ::testing::KilledBySignal(SIGABRT),
        "gort: fatal error: all goroutines are asleep - deadlock!\n(.|\n)*goroutine 1 \\[main-wait\\]:");
}

// A foreign thread attached under gort_main: the runtime is not deadlocked
// while it is attached (it may wake the main goroutine, and does).
TEST(CheckdeadDeathTest, ForeignThreadAttachedUnderMain) {
    EXPECT_EXIT(
        {
            HostWakes hw;
            hw.attach = true;
            host_wakes_main(&hw, nullptr);
            if (!hw.idle_seen) _exit(20);
            if (hw.rc != GORT_OK) _exit(21);
            fprintf(stderr, "completed\n");
            _exit(0);
        },
        ::testing::ExitedWithCode(0), "^completed\n$");
}

// After the foreign thread detaches, the runtime can deadlock again: main
// parks a second time with nobody attached.
TEST(CheckdeadDeathTest, DeadlockAfterForeignThreadDetaches) {
    auto body = [] {
        gort_config cfg;
        gort_config_init(&cfg);
        cfg.maxprocs = 2;
        if (gort_init(&cfg) != GORT_OK) _exit(10);
        gort_main(
            [](void *) {
                HostLatch done(1);
                if (gort_entersyscall() != GORT_OK) _exit(11);
                std::thread t([&] {
                    if (gort_thread_attach() != GORT_OK) _exit(12);
                    if (gort_thread_detach() != GORT_OK) _exit(13);
                    done.count_down();
                });
                if (!done.wait_for(std::chrono::seconds(30))) _exit(14);
                t.join();
                if (gort_exitsyscall() != GORT_OK) _exit(15);
                park_forever("after-detach");
            },
            nullptr);
        _exit(0);
    };
    EXPECT_EXIT(body(), ::testing::KilledBySignal(SIGABRT),
                "gort: fatal error: all goroutines are asleep - deadlock!\n(.|\n)*goroutine 1 \\[after-detach\\]:");
}

// A goroutine in a (long) system call is running: main parked waiting for it
// is not a deadlock.
TEST(Checkdead, GoroutineInSyscallIsNotDeadlock) {
    std::atomic<int> rc{1};
    run_main(2, [&] {
        Sema done;
        HostLatch release(1);
        go([&] {
            if (gort_entersyscall() != GORT_OK) abort();
            // Blocks until the main goroutine has parked and every P is idle.
            bool ok = release.wait_for(std::chrono::seconds(30));
            if (gort_exitsyscall() != GORT_OK) abort();
            rc = ok ? GORT_OK : GORT_ETIMEDOUT;
            done.post();
        });
        std::atomic<gort_g *> parked{nullptr};
        std::thread watcher([&] {
            wait_runtime_idle(&parked, std::chrono::seconds(30));
            release.count_down();
        });
        parked.store(gort_self(), std::memory_order_release);
        done.acquire();
        if (gort_entersyscall() != GORT_OK) abort();
        watcher.join();
        if (gort_exitsyscall() != GORT_OK) abort();
    });
    EXPECT_EQ(rc.load(), GORT_OK);
}

// Background mode: the only waiting goroutine is a foreign thread's callback
// (gort_call_as_goroutine) that parked. Its thread is blocked inside the
// runtime, so nothing but the host can wake it: every goroutine is asleep,
// and the hook must run (as it would for any other goroutine).
TEST(Checkdead, BackgroundHookForParkedCallback) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 2;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    HookState h;
    ASSERT_EQ(gort_set_deadlock_hook(hook_fn, &h), GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
    int call_rc = 1;
    std::thread host([&] {
        call_rc = gort_call_as_goroutine(
            [](void *p) {
                gort_park(
                    [](gort_g *g, void *h) -> int {
                        static_cast<HookState *>(h)->parked.store(g, std::memory_order_release);
                        return 1;
                    },
                    p, "callback-wait");
            },
            &h);
    });
    // Bounded wait for the park, then for the hook.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (h.parked.load(std::memory_order_acquire) == nullptr && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // bounds the poll
    bool hooked = wait_calls(&h, 1);
    EXPECT_TRUE(hooked) << "no deadlock hook while the only goroutine (a parked callback) waits";
    // Wake the callback either way, so the host thread can return.
    gort_g *g = h.parked.exchange(nullptr, std::memory_order_acq_rel);
    ASSERT_NE(g, nullptr);
    ASSERT_EQ(gort_ready(g), GORT_OK);
    host.join();
    EXPECT_EQ(call_rc, GORT_OK);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(h.calls, 1);
}

// Bad inputs: before init; NULL removes (tested above).
TEST(Checkdead, HookErrors) {
    EXPECT_EQ(gort_set_deadlock_hook(hook_fn, nullptr), GORT_ENOTINIT);
    EXPECT_EQ(gort_set_deadlock_hook(nullptr, nullptr), GORT_ENOTINIT);
    ASSERT_EQ(gort_init(nullptr), GORT_OK);
    EXPECT_EQ(gort_set_deadlock_hook(hook_fn, nullptr), GORT_OK);  // in the Init state
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(gort_set_deadlock_hook(hook_fn, nullptr), GORT_ENOTINIT);
}
