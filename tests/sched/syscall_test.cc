// tests/sched/syscall_test.cc - goroutines in system calls (seed: entersyscall,
// exitsyscall, retake's handoff).
#include <time.h>

#include <algorithm>
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

// Blocks the calling OS thread (as a system call would) until *flag != 0,
// at most limit_ns. Returns whether the flag was seen.
bool host_wait(std::atomic<int> *flag, int64_t limit_ns) {
    int64_t deadline = now_ns() + limit_ns;
    while (flag->load() == 0) {
        if (now_ns() > deadline) return false;
        timespec ts{0, 200 * 1000};
        nanosleep(&ts, nullptr);  // bounds the wait; the flag decides
    }
    return true;
}

struct Handoff {
    std::atomic<int> b_done{0};
    std::atomic<bool> a_in_syscall{false};
    // What B saw of A: 1 inside its bracket (the handoff under test), 0 not
    // yet there. 0 means A yielded at its gort_go, which is a safe point
    // (capi/lifecycle.cc): A's slice was inherited through runnext from the
    // main goroutine and can be spent already (seen under TSan, where every
    // spawn is slow). A yields first for a fresh slice, which makes this
    // rare; an iteration that still sees 0 tests nothing about the handoff
    // and is retried.
    std::atomic<int> b_saw_syscall{-1};
    int64_t entered = 0, b_ran = 0;
    bool saw = false;
};

// With 1 P, goroutine A blocks its thread inside a syscall bracket until B
// has run. B can only run if the P was taken from A (sysmon's retake, or
// entersyscallblock's immediate handoff). Without the handoff the test
// fails after its bound instead of hanging.
void handoff_once(bool block, Handoff *h) {
    Join join(2);
    go([&] {
        ASSERT_EQ(gort_gosched(), GORT_OK);  // a fresh slice: see b_saw_syscall
        // A starts B itself, so B cannot run first whatever the spawn order
        // (a goroutine started by a goroutine goes to its P's runnext).
        go([&] {
            // B is queued on the only P; when it runs A is in its call.
            h->b_ran = now_ns();
            h->b_saw_syscall.store(h->a_in_syscall.load() ? 1 : 0);
            h->b_done.store(1);
            join.done();
        });
        h->entered = now_ns();
        h->a_in_syscall.store(true);
        ASSERT_EQ(block ? gort_entersyscallblock() : gort_entersyscall(), GORT_OK);
        h->saw = host_wait(&h->b_done, 10 * 1000000000ll);
        ASSERT_EQ(gort_exitsyscall(), GORT_OK);
        join.done();
    });
    join.wait();
}

// Runs handoff_once until iters iterations in which B ran while A was in
// its bracket (at most 5 * iters tries); each must have seen the handoff.
void handoff_iters(bool block, int iters, int64_t *worst) {
    int conclusive = 0;
    for (int i = 0; i < 5 * iters && conclusive < iters; i++) {
        Handoff h;
        handoff_once(block, &h);
        ASSERT_TRUE(h.saw) << "try " << i << ": the second goroutine never ran while the first was in a syscall";
        if (h.b_saw_syscall.load() != 1) continue;  // A yielded at its spawn: retry
        conclusive++;
        *worst = std::max(*worst, h.b_ran - h.entered);
    }
    ASSERT_GE(conclusive, 1) << "B always ran before A entered its syscall: the handoff was never exercised";
}

}  // namespace

TEST(Syscall, HandoffAtOneProc) {
    const int iters = int(scaled(20, 5, 10));
    int64_t worst = 0;
    run_main(1, [&] { handoff_iters(false, iters, &worst); });
    std::printf("worst handoff delay over %d runs: %.3f ms\n", iters, double(worst) / 1e6);
}

TEST(Syscall, EnterSyscallBlockHandsOffAtOnce) {
    const int iters = int(scaled(50, 5, 20));
    int64_t worst = 0;
    run_main(1, [&] { handoff_iters(true, iters, &worst); });
}

// Many short syscalls on 2 Ps while others compute: every goroutine comes
// back (fast path, idle P, or the global queue) and the counts add up.
TEST(Syscall, ManyShortSyscalls) {
    const int n = int(scaled(1000, 50, 200)), per = int(scaled(100, 20, 50));
    std::atomic<int64_t> total{0};
    run_main(2, [&] {
        Join join(n);
        for (int i = 0; i < n; i++) {
            go([&, i] {
                for (int k = 0; k < per; k++) {
                    ASSERT_EQ(gort_entersyscall(), GORT_OK);
                    if ((k + i) % 10 == 0) {
                        timespec ts{0, 1000};
                        nanosleep(&ts, nullptr);  // a real blocking call
                    }
                    ASSERT_EQ(gort_exitsyscall(), GORT_OK);
                    total.fetch_add(1);
                    if (k % 7 == 0) gort_gosched();
                }
                join.done();
            });
        }
        join.wait();
        // The last goroutine readies us just before it exits.
        for (int k = 0; k < 100000 && gort_numgoroutine() != 1; k++) gort_gosched();
        EXPECT_EQ(gort_numgoroutine(), 1);
    });
    EXPECT_EQ(total.load(), int64_t(n) * per);
}

// The slow path: the P was retaken and given to a goroutine that keeps it,
// so exitsyscall finds no P, queues the goroutine globally and its M sleeps;
// the goroutine resumes once the P is free.
TEST(Syscall, ExitWithoutFreePQueuesGoroutine) {
    run_main(1, [&] {
        std::atomic<int> hog_running{0}, stop_hog{0}, a_back{0};
        Join join(2);
        go([&] {
            ASSERT_EQ(gort_entersyscall(), GORT_OK);
            ASSERT_TRUE(host_wait(&hog_running, 10 * 1000000000ll)) << "hog never got the P";
            ASSERT_EQ(gort_exitsyscall(), GORT_OK);  // no P: waits in the global queue
            a_back.store(1);
            join.done();
        });
        go([&] {
            hog_running.store(1);
            // Keep the P (yielding only at safe points) until A is back.
            int64_t deadline = now_ns() + 10 * 1000000000ll;
            while (a_back.load() == 0 && now_ns() < deadline) gort_safepoint();
            EXPECT_EQ(a_back.load(), 1) << "A never resumed after its syscall";
            stop_hog.store(1);
            join.done();
        });
        join.wait();
    });
}

TEST(Syscall, BadCalls) {
    EXPECT_EQ(gort_entersyscall(), GORT_ENOTINIT);
    EXPECT_EQ(gort_exitsyscall(), GORT_ENOTINIT);
    run_main(2, [&] {
        EXPECT_EQ(gort_exitsyscall(), GORT_ESTATE) << "exit without enter";
        ASSERT_EQ(gort_entersyscall(), GORT_OK);
        EXPECT_EQ(gort_entersyscall(), GORT_ESTATE) << "enter twice";
        EXPECT_EQ(gort_entersyscallblock(), GORT_ESTATE);
        EXPECT_EQ(gort_gosched(), GORT_ESTATE) << "gosched inside a syscall";
        EXPECT_EQ(gort_park(nullptr, nullptr, "x"), GORT_ESTATE) << "park inside a syscall";
        EXPECT_EQ(gort_go([](void *) {}, nullptr, 0, nullptr), GORT_ESTATE) << "go inside a syscall";
        EXPECT_EQ(gort_goexit(), GORT_ESTATE);
        EXPECT_EQ(gort_safepoint(), GORT_ESTATE);
        EXPECT_EQ(gort_stop_the_world("x"), GORT_ESTATE);
        EXPECT_EQ(gort_proc_pin(), GORT_ESTATE);
        EXPECT_NE(gort_self(), nullptr);
        ASSERT_EQ(gort_exitsyscall(), GORT_OK);
        EXPECT_EQ(gort_exitsyscall(), GORT_ESTATE) << "exit twice";
        // From a host thread: not a goroutine.
        std::atomic<int> rc_enter{1}, rc_exit{1}, done{0};
        std::thread t([&] {
            rc_enter = gort_entersyscall();
            rc_exit = gort_exitsyscall();
            done = 1;
        });
        t.join();
        EXPECT_EQ(rc_enter.load(), GORT_ENOTG);
        EXPECT_EQ(rc_exit.load(), GORT_ENOTG);
        // From g0 (an unlockf callback).
        static std::atomic<int> in_unlockf{1};
        gort_g *self = gort_self();
        go([self] {
            while (gort_ready(self) != GORT_OK) gort_gosched();
        });
        gort_park(
            [](gort_g *, void *) -> int {
                in_unlockf = gort_entersyscall();
                return 1;
            },
            nullptr, "test");
        EXPECT_EQ(in_unlockf.load(), GORT_ENOTG);
    });
}
