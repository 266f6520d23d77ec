// tests/sched/worldsema_test.cc - who may stop the world, and when: regressions
// found in review (each once hung or corrupted the runtime). Each scenario
// runs in a child process with an alarm, so a hang fails instead of
// blocking the suite.
#include <unistd.h>
#include <sys/wait.h>
#include <signal.h>
#include <atomic>
#include <thread>
#include "tests/util/testutil.h"
using namespace gort_test;

// Run body in a child; returns true if it finished within secs.
static bool finishes_within(int secs, void (*body)()) {
    pid_t pid = fork();
    if (pid == 0) { alarm(secs); body(); _exit(0); }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) fprintf(stderr, "child killed by signal %d\n", WTERMSIG(st));
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

// 1. A goroutine waiting for worldsema when gort_main's main goroutine
//    returns (main keeps worldsema until shutdown): its M sleeps on the
//    futex for ever and gort_shutdown's join hangs.
static std::atomic<int> started{0};
static void body_main_returns() {
    gort_config cfg; gort_config_init(&cfg); cfg.maxprocs = 2;
    if (gort_init(&cfg) != GORT_OK) _exit(3);
    gort_main([](void *) {
        go([] { started.store(1); for (;;) { gort_set_maxprocs(2); gort_safepoint(); } });
        while (started.load() == 0) gort_gosched();
        gort_sleep(5 * 1000 * 1000);
    }, nullptr);
    fprintf(stderr, "gort_main returned\n");
    gort_shutdown();
    fprintf(stderr, "gort_shutdown returned\n");
}
TEST(Worldsema, ShutdownAfterMainWithWorldsemaWaiter) {
    EXPECT_TRUE(finishes_within(10, body_main_returns)) << "gort_shutdown hung (or crashed)";
}

// 2. Background mode: shutdown while goroutines contend for worldsema.
static void body_bg() {
    gort_config cfg; gort_config_init(&cfg); cfg.maxprocs = 4;
    if (gort_init(&cfg) != GORT_OK) _exit(3);
    gort_start();
    for (int i = 0; i < 4; i++)
        go([] { for (;;) { gort_stop_the_world("x"); gort_start_the_world(); gort_set_maxprocs(4); } });
    usleep(50 * 1000);
    gort_shutdown();
}
TEST(Worldsema, ShutdownWithWorldsemaContention) {
    for (int i = 0; i < int(scaled(20, 3, 5)); i++) ASSERT_TRUE(finishes_within(30, body_bg)) << "iteration " << i;
}

// 3. gort_set_maxprocs in the Init state racing with gort_main (rt_main does
//    not take worldsema): a P may be listed idle while m0 holds it.
static void body_init_race() {
    gort_config cfg; gort_config_init(&cfg); cfg.maxprocs = 1;
    if (gort_init(&cfg) != GORT_OK) _exit(3);
    std::atomic<bool> go_{false};
    std::thread t([&] { while (!go_.load()) {} for (int i = 0; i < 2000; i++) gort_set_maxprocs(1 + i % 3); });
    go_.store(true);
    gort_main([](void *) {
        for (int i = 0; i < 200; i++) { go([] {}); gort_gosched(); }
    }, nullptr);
    t.join();
    gort_shutdown();
}
TEST(Worldsema, SetMaxprocsInitVsMain) {
    for (int i = 0; i < int(scaled(50, 3, 10)); i++) ASSERT_TRUE(finishes_within(30, body_init_race)) << "iteration " << i;
}

// 4. gort_set_maxprocs in the Init state moves goroutines queued by gort_go
//    from the global queue into idle Ps' local queues (procresize's
//    redistribution); gort_start then sees runqsize == 0 and starts no M.
static std::atomic<int> ran4{0};
static void body_lost_start() {
    gort_config cfg; gort_config_init(&cfg); cfg.maxprocs = 2;
    if (gort_init(&cfg) != GORT_OK) _exit(3);
    gort_go([](void *) { ran4.store(1); }, nullptr, 0, nullptr);
    if (gort_set_maxprocs(4) != 2) _exit(4);
    gort_start();
    for (int i = 0; i < 300 && ran4.load() == 0; i++) usleep(10 * 1000);
    if (ran4.load() == 0) { fprintf(stderr, "goroutine queued before gort_start never ran\n"); _exit(5); }
    gort_shutdown();
}
TEST(Worldsema, SetMaxprocsInInitThenStartLosesWork) {
    EXPECT_TRUE(finishes_within(10, body_lost_start));
}
// 4b. Same with gort_main: the goroutine sits on allp[1]; main spin-waits
//     with gort_gosched (which only ever finds itself on the global queue).
static std::atomic<int> ran4b{0};
static void body_lost_main() {
    gort_config cfg; gort_config_init(&cfg); cfg.maxprocs = 2;
    if (gort_init(&cfg) != GORT_OK) _exit(3);
    gort_go([](void *) { ran4b.store(1); }, nullptr, 0, nullptr);
    if (gort_set_maxprocs(4) != 2) _exit(4);
    gort_main([](void *) { while (ran4b.load() == 0) gort_gosched(); }, nullptr);
    gort_shutdown();
}
TEST(Worldsema, SetMaxprocsInInitThenMainSpinWaitHangs) {
    EXPECT_TRUE(finishes_within(5, body_lost_main));
}

// 5. sysmon spins (usleep(20) loop) while the world is stopped and a timer
//    is overdue: after gort_main returned with a goroutine in gort_sleep, or
//    while a goroutine holds gort_stop_the_world.
static double cpu_now() { timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }
TEST(Worldsema, SysmonSpinsAfterMainReturnedWithPendingTimer) {
    gort_config cfg; gort_config_init(&cfg); cfg.maxprocs = 2;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    gort_main([](void *) { gort_go([](void *) { gort_sleep(5 * 1000 * 1000); }, nullptr, 0, nullptr); gort_gosched(); }, nullptr);
    double c0 = cpu_now();
    usleep(500 * 1000);
    double ms = (cpu_now() - c0) * 1e3;
    EXPECT_LT(ms, kTSan || kASan ? 60.0 : 10.0) << "runtime burned " << ms << " ms CPU in 500 ms after gort_main returned";
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// 1b. A host thread calling gort_set_maxprocs (legal while gort_main runs)
//     when the main goroutine returns: main keeps worldsema until shutdown,
//     so the host call never returns (and the host cannot call
//     gort_shutdown "after" it).
static std::atomic<bool> returned1b{false};
static std::atomic<int> calls1b{0};
static std::thread *t1b;
static void body_host_setmaxprocs_main_returns() {
    gort_config cfg; gort_config_init(&cfg); cfg.maxprocs = 2;
    if (gort_init(&cfg) != GORT_OK) _exit(3);
    gort_main([](void *) {
        // host thread started once the runtime runs (no Init-state race)
        t1b = new std::thread([] { while (gort_set_maxprocs(2) >= 0) calls1b++; returned1b = true; });
        while (calls1b.load() == 0) gort_gosched();
        gort_sleep(2 * 1000 * 1000);
    }, nullptr);
    for (int i = 0; i < 200 && !returned1b.load(); i++) usleep(10 * 1000);
    if (!returned1b.load()) { fprintf(stderr, "host gort_set_maxprocs stuck after gort_main returned (%d calls)\n", calls1b.load()); _exit(7); }
    t1b->join();
    gort_shutdown();
}
TEST(Worldsema, HostSetMaxprocsWhenMainReturns) {
    for (int i = 0; i < int(scaled(10, 3, 5)); i++) ASSERT_TRUE(finishes_within(30, body_host_setmaxprocs_main_returns)) << "iteration " << i;
}
