// tests/thread/fork_test.cc - fork(2) in a process running gort (seed: beforefork,
// afterfork): fork+exec from many goroutines at once with the parent's
// waitpid in a syscall bracket; the child of a fork without exec, where every
// runtime call returns GORT_ESTATE at once instead of waiting for threads
// that do not exist; fork from a host thread in background mode; fork from a
// process whose runtime has shut down. A child that hangs is killed after a
// bounded wait and reported.
#include <gort/gort.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/testutil.h"

using namespace gort_test;

namespace {



// Result of waiting for a child: its wait status, or timed_out (then it was
// killed), plus what it wrote to its progress pipe.
struct ChildResult {
    bool timed_out = false;
    int status = 0;
    std::string progress;
};

// wait_child: bounded wait for pid; kills it on timeout. Polls with WNOHANG:
// the sleeps only bound the wait. Callable from a host thread or, inside a
// gort_entersyscall bracket, from a goroutine.
ChildResult wait_child(pid_t pid, int progress_fd, std::chrono::seconds bound) {
    ChildResult r;
    auto deadline = std::chrono::steady_clock::now() + bound;
    for (;;) {
        pid_t w = waitpid(pid, &r.status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) {
            r.timed_out = true;
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            r.timed_out = true;
            kill(pid, SIGKILL);
            waitpid(pid, &r.status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (progress_fd >= 0) {
        char buf[512];
        ssize_t n;
        while ((n = read(progress_fd, buf, sizeof buf)) > 0) r.progress.append(buf, size_t(n));
        close(progress_fd);
    }
    return r;
}

// In a child: note which call comes next, so a hang can be attributed.
void progress(int fd, const char *what) {
    ssize_t n = write(fd, what, strlen(what));
    (void)n;
    n = write(fd, "\n", 1);
    (void)n;
}

std::string describe(const ChildResult &r) {
    if (r.timed_out) return "child hung (killed); last progress:\n" + r.progress;
    if (WIFEXITED(r.status)) return "exit " + std::to_string(WEXITSTATUS(r.status)) + "; progress:\n" + r.progress;
    if (WIFSIGNALED(r.status)) return "signal " + std::to_string(WTERMSIG(r.status)) + "; progress:\n" + r.progress;
    return "status " + std::to_string(r.status);
}

// The child's checks of a fork without exec. Exit code 0: every call
// answered GORT_ESTATE; else 100 + the index of the first that did not.
[[noreturn]] void child_basic_calls(int fd) {
    progress(fd, "gort_gosched");
    int rc = gort_gosched();
    if (rc != GORT_ESTATE) _exit(100);
    progress(fd, "gort_go");
    rc = gort_go([](void *) {}, nullptr, 0, nullptr);
    if (rc != GORT_ESTATE) _exit(101);
    progress(fd, "done");
    _exit(0);
}

}  // namespace

// 20 goroutines at 2 procs, each forks and execs several times at once:
// /bin/true (exit 0) or /bin/sh -c 'exit 7'. The parent waits in a syscall
// bracket, so the other goroutines keep running.
TEST(Fork, ForkExecFromGoroutines) {
    const int kG = 20;
    const int kPer = int(scaled(10, 3, 5));
    std::atomic<int> bad_status{0}, bad_rc{0}, ok{0};
    std::atomic<int64_t> busy_loops{0};
    run_main(2, [&] {
        Join j(kG);
        std::atomic<bool> stop{false};
        Join busy_done(1);
        // A goroutine that keeps the scheduler busy (and preemptible) meanwhile.
        go([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                busy_loops++;
                gort_safepoint();
                gort_gosched();
            }
            busy_done.done();
        });
        for (int i = 0; i < kG; i++) {
            go([&, i] {
                for (int k = 0; k < kPer; k++) {
                    bool sh = (i + k) % 2 == 1;
                    pid_t pid = fork();
                    if (pid == 0) {
                        if (sh) {
                            char *argv[] = {const_cast<char *>("sh"), const_cast<char *>("-c"),
                                            const_cast<char *>("exit 7"), nullptr};
                            execv("/bin/sh", argv);
                        } else {
                            char *argv[] = {const_cast<char *>("true"), nullptr};
                            execv("/bin/true", argv);
                        }
                        _exit(127);
                    }
                    if (pid < 0) {
                        bad_rc++;
                        continue;
                    }
                    if (gort_entersyscall() != GORT_OK) bad_rc++;
                    int st = 0;
                    pid_t w;
                    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
                    }
                    if (gort_exitsyscall() != GORT_OK) bad_rc++;
                    if (w != pid || !WIFEXITED(st) || WEXITSTATUS(st) != (sh ? 7 : 0))
                        bad_status++;
                    else
                        ok++;
                    // The goroutine is a goroutine again (not pinned by the
                    // fork's m->locks): it can yield and park.
                    if (gort_gosched() != GORT_OK) bad_rc++;
                }
                j.done();
            });
        }
        j.wait();
        stop = true;
        busy_done.wait();
    });
    EXPECT_EQ(bad_rc.load(), 0);
    EXPECT_EQ(bad_status.load(), 0) << "a child did not exit with the expected code";
    EXPECT_EQ(ok.load(), kG * kPer);
    EXPECT_GT(busy_loops.load(), 0);
}

// The child of a fork without exec, from a goroutine: gort_gosched and
// gort_go return GORT_ESTATE at once; the child then _exits with a code the
// parent checks. Repeated with other goroutines running on the other P.
TEST(Fork, ChildWithoutExecFromGoroutine) {
    const int iters = int(scaled(20, 5, 10));
    std::vector<ChildResult> results;
    std::mutex mu;
    run_main(2, [&] {
        std::atomic<bool> stop{false};
        Join busy_done(2);
        for (int b = 0; b < 2; b++)
            go([&] {
                while (!stop.load(std::memory_order_relaxed)) gort_gosched();
                busy_done.done();
            });
        for (int i = 0; i < iters; i++) {
            int fds[2];
            ASSERT_EQ(pipe(fds), 0);
            pid_t pid = fork();
            if (pid == 0) {
                close(fds[0]);
                child_basic_calls(fds[1]);
            }
            ASSERT_GT(pid, 0);
            close(fds[1]);
            ASSERT_EQ(gort_entersyscall(), GORT_OK);
            ChildResult r = wait_child(pid, fds[0], std::chrono::seconds(20));
            ASSERT_EQ(gort_exitsyscall(), GORT_OK);
            std::lock_guard<std::mutex> l(mu);
            results.push_back(r);
        }
        // The parent's goroutine is unaffected.
        EXPECT_EQ(gort_gosched(), GORT_OK);
        stop = true;
        busy_done.wait();
    });
    ASSERT_EQ(int(results.size()), iters);
    for (auto &r : results) {
        EXPECT_FALSE(r.timed_out) << describe(r);
        EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << describe(r);
    }
}

// Fork from a host thread in background mode, goroutines running: the child
// (a host thread there) gets GORT_ESTATE from gort_go and gort_gosched
// (not GORT_ENOTG: the runtime is unusable, not merely the caller).
TEST(Fork, ChildWithoutExecFromHostThread) {
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    struct Busy {
        std::atomic<bool> stop{false};
        HostLatch started{2}, stopped{2};
    } busy;
    for (int b = 0; b < 2; b++)
        ASSERT_EQ(gort_go(
                      [](void *p) {
                          auto *busy = static_cast<Busy *>(p);
                          busy->started.count_down();
                          while (!busy->stop.load(std::memory_order_relaxed)) gort_gosched();
                          busy->stopped.count_down();
                      },
                      &busy, 0, nullptr),
                  GORT_OK);
    HostLatch &started = busy.started;
    ASSERT_TRUE(started.wait_for(std::chrono::seconds(30)));
    const int iters = int(scaled(20, 5, 10));
    for (int i = 0; i < iters; i++) {
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child_basic_calls(fds[1]);
        }
        ASSERT_GT(pid, 0);
        close(fds[1]);
        ChildResult r = wait_child(pid, fds[0], std::chrono::seconds(20));
        EXPECT_FALSE(r.timed_out) << describe(r);
        EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << describe(r);
        // The parent's runtime is unaffected.
        HostLatch l(1);
        ASSERT_EQ(gort_go([](void *p) { static_cast<HostLatch *>(p)->count_down(); }, &l, 0, nullptr), GORT_OK);
        ASSERT_TRUE(l.wait_for(std::chrono::seconds(30)));
    }
    busy.stop = true;
    ASSERT_TRUE(busy.stopped.wait_for(std::chrono::seconds(30)));
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// fork.cc promises that every runtime call in the child returns GORT_ESTATE
// instead of waiting for threads that do not exist. The calls a host thread
// of the child might make beyond gort_go/gort_gosched: each is announced on
// the progress pipe first, so a hang names its call.
TEST(Fork, ChildOtherCallsDoNotHang) {
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    // Leave a P held in Psyscall by an extra M and the other idle: the child
    // then has no P it could legitimately take.
    ASSERT_EQ(gort_call_as_goroutine([](void *) {}, nullptr), GORT_OK);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        int fd = fds[1];
        // Exit code: a bit per call that did not answer as expected; each
        // call's name and result go to the pipe.
        int fails = 0, bit = 0;
        auto check = [&](const char *name, int want, auto call) {
            progress(fd, name);
            int rc = call();
            std::string line = std::string("  -> ") + std::to_string(rc) + (rc == want ? "" : " (WRONG)");
            progress(fd, line.c_str());
            if (rc != want) fails |= 1 << bit;
            bit++;
        };
        check("gort_ready(NULL)", GORT_EINVAL, [] { return gort_ready(nullptr); });
        check("gort_set_maxprocs(1)", GORT_ESTATE, [] { return gort_set_maxprocs(1); });
        check("gort_call_as_goroutine", GORT_ESTATE, [] { return gort_call_as_goroutine([](void *) {}, nullptr); });
        check("gort_thread_detach", GORT_ESTATE, [] { return gort_thread_detach(); });
        check("gort_thread_attach", GORT_ESTATE, [] { return gort_thread_attach(); });
        progress(fd, "done");
        _exit(fails);
    }
    ASSERT_GT(pid, 0);
    close(fds[1]);
    ChildResult r = wait_child(pid, fds[0], std::chrono::seconds(10));
    EXPECT_FALSE(r.timed_out) << describe(r);
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << describe(r);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// A process that ran gort, shut it down, then forks: the child has no
// runtime to lose and may start its own (the fork handlers stay installed
// for the life of the process; they must not mark this child unusable).
TEST(Fork, ChildOfProcessWithoutRuntimeCanInit) {
    run_main(2, [] {
        Join j(1);
        go([&] { j.done(); });
        j.wait();
    });
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        int fd = fds[1];
        gort_config cfg;
        gort_config_init(&cfg);
        cfg.maxprocs = 2;
        progress(fd, "gort_init");
        if (gort_init(&cfg) != GORT_OK) _exit(120);
        progress(fd, "gort_main");
        static int fails;
        fails = 0;
        int rc = gort_main(
            [](void *) {
                if (gort_gosched() != GORT_OK) fails |= 1;
                Join j(10);
                for (int i = 0; i < 10; i++)
                    if (gort_go([](void *p) { static_cast<Join *>(p)->done(); }, &j, 0, nullptr) != GORT_OK) {
                        fails |= 2;
                        j.done();
                    }
                j.wait();
            },
            nullptr);
        if (rc != GORT_OK) _exit(121);
        if (fails != 0) _exit(130 + fails);
        progress(fd, "gort_shutdown");
        if (gort_shutdown() != GORT_OK) _exit(122);
        progress(fd, "done");
        _exit(0);
    }
    ASSERT_GT(pid, 0);
    close(fds[1]);
    ChildResult r = wait_child(pid, fds[0], std::chrono::seconds(20));
    EXPECT_FALSE(r.timed_out) << describe(r);
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
        << describe(r) << "(exit 131: gort_gosched failed, 132: gort_go failed, 133: both)";
}

// gort_shutdown in the child of a fork without exec cannot stop Ps owned by
// threads that do not exist there: it must refuse (GORT_ESTATE), not wait.
TEST(Fork, ChildShutdownDoesNotHang) {
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    HostLatch l(1);
    ASSERT_EQ(gort_go([](void *p) { static_cast<HostLatch *>(p)->count_down(); }, &l, 0, nullptr), GORT_OK);
    ASSERT_TRUE(l.wait_for(std::chrono::seconds(30)));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        progress(fds[1], "gort_shutdown");
        int rc = gort_shutdown();
        progress(fds[1], ("  -> " + std::to_string(rc)).c_str());
        _exit(rc == GORT_ESTATE ? 0 : 1);
    }
    ASSERT_GT(pid, 0);
    close(fds[1]);
    ChildResult r = wait_child(pid, fds[0], std::chrono::seconds(5));
    EXPECT_FALSE(r.timed_out) << describe(r);
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << describe(r);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}
