// tests/poll/netpoll_test.cc - the network poller through gort_poll_fd and
// gort_poll_close: pipes, socketpairs and loopback TCP, timeouts, closes,
// the check/park race, host-thread wakeups, bad inputs. Bounded in time (a
// watchdog aborts a hung scenario with a message), scaled under sanitizers.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gort/gort.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "core/poll/netpoll.h"
#include "tests/util/testutil.h"

using namespace gort_test;

namespace {


void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) abort();
        r = fds[0];
        w = fds[1];
    }
    ~Pipe() {
        if (r >= 0) close(r);
        if (w >= 0) close(w);
    }
};

// Reads exactly n bytes from a non-blocking fd, parking in gort_poll_fd.
bool read_full(int fd, char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k > 0) {
            got += size_t(k);
        } else if (k < 0 && errno == EAGAIN) {
            int rc = gort_poll_fd(fd, GORT_POLL_IN, -1);
            if (rc < 0) return false;
        } else {
            return false;
        }
    }
    return true;
}

bool write_full(int fd, const char *buf, size_t n) {
    size_t put = 0;
    while (put < n) {
        ssize_t k = write(fd, buf + put, n - put);
        if (k > 0) {
            put += size_t(k);
        } else if (k < 0 && errno == EAGAIN) {
            int rc = gort_poll_fd(fd, GORT_POLL_OUT, -1);
            if (rc < 0) return false;
        } else {
            return false;
        }
    }
    return true;
}

TEST(Netpoll, PipeBecomesReadable) {
    Watchdog wd("PipeBecomesReadable", 60);
    Pipe p;
    run_main(2, [&] {
        Join j(1);
        std::atomic<int> rc{0};
        go([&] {
            rc.store(gort_poll_fd(p.r, GORT_POLL_IN, -1));
            j.done();
        });
        gort_sleep(5 * 1000000);
        ASSERT_EQ(write(p.w, "x", 1), 1);
        j.wait();
        EXPECT_EQ(rc.load(), GORT_POLL_IN);
        // Level state: still readable, so a new poll returns at once.
        EXPECT_EQ(gort_poll_fd(p.r, GORT_POLL_IN | GORT_POLL_OUT, -1), GORT_POLL_IN);
        EXPECT_EQ(gort_poll_fd(p.w, GORT_POLL_OUT, 0), GORT_POLL_OUT);
        gort_poll_close(p.r);
        gort_poll_close(p.w);
    });
}

// Each of n goroutine pairs echoes messages through its own socketpair.
void echo_socketpairs(int procs) {
    Watchdog wd("EchoSocketpairs", 240);
    const int n = int(scaled(1000, 100, 300));
    const int msgs = 20;
    std::vector<int> fds(size_t(2 * n));
    for (int i = 0; i < n; i++) {
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, &fds[size_t(2 * i)]), 0)
            << "socketpair: " << strerror(errno);
    }
    std::atomic<int> failures{0};
    run_main(procs, [&] {
        Join j(2 * n);
        for (int i = 0; i < n; i++) {
            int a = fds[size_t(2 * i)], b = fds[size_t(2 * i + 1)];
            go([&, b] {  // server: echo msgs messages
                char buf[64];
                for (int k = 0; k < msgs; k++)
                    if (!read_full(b, buf, 16) || !write_full(b, buf, 16)) failures.fetch_add(1);
                j.done();
            });
            go([&, a, i] {  // client: send, wait for the echo, compare
                for (int k = 0; k < msgs; k++) {
                    char out[17], in[17] = {};
                    std::snprintf(out, sizeof out, "%07d:%07d", i, k);
                    if (!write_full(a, out, 16) || !read_full(a, in, 16) || std::memcmp(in, out, 16) != 0)
                        failures.fetch_add(1);
                }
                j.done();
            });
        }
        j.wait();
        for (int fd : fds) EXPECT_EQ(gort_poll_close(fd), GORT_OK);
    });
    for (int fd : fds) close(fd);
    EXPECT_EQ(failures.load(), 0);
}

TEST(Netpoll, EchoSocketpairsProcs1) { echo_socketpairs(1); }
TEST(Netpoll, EchoSocketpairsProcs2) { echo_socketpairs(2); }

// Loopback TCP: an accepting goroutine, a server goroutine per connection,
// clients echoing through them.
TEST(Netpoll, EchoLoopbackTcp) {
    Watchdog wd("EchoLoopbackTcp", 120);
    const int nconn = int(scaled(100, 20, 50));
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(ls, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(ls, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(ls, 512), 0);
    socklen_t alen = sizeof addr;
    ASSERT_EQ(getsockname(ls, reinterpret_cast<sockaddr *>(&addr), &alen), 0);
    std::atomic<int> failures{0};
    std::mutex fdmu;
    std::vector<int> opened;
    run_main(2, [&] {
        Join j(2 * nconn + 1);
        go([&] {  // acceptor
            for (int c = 0; c < nconn;) {
                int s = accept4(ls, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (s < 0) {
                    if (errno != EAGAIN || gort_poll_fd(ls, GORT_POLL_IN, -1) < 0) {
                        failures.fetch_add(1);
                        break;
                    }
                    continue;
                }
                c++;
                {
                    std::lock_guard<std::mutex> l(fdmu);
                    opened.push_back(s);
                }
                go([&, s] {
                    char buf[8];
                    for (int k = 0; k < 10; k++)
                        if (!read_full(s, buf, 8) || !write_full(s, buf, 8)) failures.fetch_add(1);
                    j.done();
                });
            }
            j.done();
        });
        for (int c = 0; c < nconn; c++) {
            go([&, c] {
                int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                {
                    std::lock_guard<std::mutex> l(fdmu);
                    opened.push_back(s);
                }
                int one = 1;
                setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                if (connect(s, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
                    // Non-blocking connect: writable once established.
                    if (errno != EINPROGRESS || gort_poll_fd(s, GORT_POLL_OUT, -1) != GORT_POLL_OUT)
                        failures.fetch_add(1);
                    int err = 0;
                    socklen_t el = sizeof err;
                    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
                    if (err != 0) failures.fetch_add(1);
                }
                for (int k = 0; k < 10; k++) {
                    char out[9], in[9] = {};
                    std::snprintf(out, sizeof out, "%03d:%03d", c, k);
                    if (!write_full(s, out, 8) || !read_full(s, in, 8) || std::memcmp(in, out, 8) != 0)
                        failures.fetch_add(1);
                }
                j.done();
            });
        }
        j.wait();
        for (int s : opened) gort_poll_close(s);
        gort_poll_close(ls);
    });
    for (int s : opened) close(s);
    close(ls);
    EXPECT_EQ(failures.load(), 0);
}

TEST(Netpoll, TimeoutReturnsTimedOutNotEarly) {
    Watchdog wd("TimeoutReturnsTimedOutNotEarly", 60);
    Pipe p;
    run_main(2, [&] {
        for (int64_t ms : {1, 5, 20}) {
            int64_t t0 = gort_nanotime();
            EXPECT_EQ(gort_poll_fd(p.r, GORT_POLL_IN, ms * 1000000), GORT_ETIMEDOUT);
            EXPECT_GE(gort_nanotime() - t0, ms * 1000000) << "timed out early";
        }
        // Ready before the timeout: the result, not ETIMEDOUT, and the
        // timer is disarmed (nothing fires later on a stale waiter).
        ASSERT_EQ(write(p.w, "x", 1), 1);
        EXPECT_EQ(gort_poll_fd(p.r, GORT_POLL_IN, 1000 * 1000000), GORT_POLL_IN);
        gort_poll_close(p.r);
    });
}

TEST(Netpoll, TimeoutZeroPolls) {
    Pipe p;
    run_main(1, [&] {
        int64_t t0 = gort_nanotime();
        EXPECT_EQ(gort_poll_fd(p.r, GORT_POLL_IN, 0), GORT_ETIMEDOUT);
        EXPECT_EQ(gort_poll_fd(p.w, GORT_POLL_OUT, 0), GORT_POLL_OUT);
        EXPECT_EQ(gort_poll_fd(p.w, GORT_POLL_IN | GORT_POLL_OUT, 0), GORT_POLL_OUT);
        ASSERT_EQ(write(p.w, "x", 1), 1);
        EXPECT_EQ(gort_poll_fd(p.r, GORT_POLL_IN, 0), GORT_POLL_IN);
        EXPECT_LT(gort_nanotime() - t0, 1000000000LL) << "timeout 0 blocked";
        // Hangup counts as ready: the reader will see EOF.
        close(p.w);
        p.w = -1;
        char c;
        ASSERT_EQ(read(p.r, &c, 1), 1);
        EXPECT_EQ(gort_poll_fd(p.r, GORT_POLL_IN, 0), GORT_POLL_IN);
        gort_poll_close(p.r);
    });
}

// Both directions of one fd, and two readers: an event wakes every waiter
// it concerns.
TEST(Netpoll, TwoReadersBothWake) {
    Watchdog wd("TwoReadersBothWake", 60);
    Pipe p;
    run_main(2, [&] {
        Join j(2);
        std::atomic<int> rc1{0}, rc2{0};
        go([&] {
            rc1.store(gort_poll_fd(p.r, GORT_POLL_IN, -1));
            j.done();
        });
        go([&] {
            rc2.store(gort_poll_fd(p.r, GORT_POLL_IN, -1));
            j.done();
        });
        while (!gort::netpollAnyWaiters()) gort_sleep(100000);
        gort_sleep(2 * 1000000);
        ASSERT_EQ(write(p.w, "x", 1), 1);
        j.wait();
        EXPECT_EQ(rc1.load(), GORT_POLL_IN);
        EXPECT_EQ(rc2.load(), GORT_POLL_IN);
        gort_poll_close(p.r);
    });
}

// Waits until some goroutine is queued in gort_poll_fd (it may not be
// parked yet; a close then still reaches it).
void wait_for_waiter() {
    while (!gort::netpollAnyWaiters()) gort_sleep(100000);
}

TEST(Netpoll, PollCloseWakesWaiters) {
    Watchdog wd("PollCloseWakesWaiters", 60);
    const int iters = int(scaled(200, 50, 100));
    run_main(2, [&] {
        for (int it = 0; it < iters; it++) {
            Pipe p;
            Join jr(1), j(1);
            std::atomic<int> rc_in{0}, rc_out{0};
            go([&] {
                rc_in.store(gort_poll_fd(p.r, GORT_POLL_IN, -1));
                jr.done();
            });
            // A writer blocked on a full pipe: the other direction.
            static char big[65536];
            while (write(p.w, big, sizeof big) > 0) {
            }
            jr.wait();  // the reader saw the data
            go([&] {
                rc_out.store(gort_poll_fd(p.w, GORT_POLL_OUT, 5 * 1000 * 1000000LL));
                j.done();
            });
            wait_for_waiter();
            EXPECT_EQ(gort_poll_close(p.w), GORT_OK);
            j.wait();
            EXPECT_EQ(rc_in.load(), GORT_POLL_IN);
            EXPECT_EQ(rc_out.load(), GORT_ECLOSED) << "iteration " << it;
            EXPECT_EQ(gort_poll_close(p.r), GORT_OK);
            EXPECT_EQ(gort_poll_close(p.r), GORT_OK) << "idempotent";
        }
    });
}

TEST(Netpoll, PollCloseWakesReaderWithoutData) {
    Watchdog wd("PollCloseWakesReaderWithoutData", 60);
    const int iters = int(scaled(200, 50, 100));
    run_main(2, [&] {
        for (int it = 0; it < iters; it++) {
            Pipe p;
            Join j(1);
            std::atomic<int> rc{0};
            go([&] {
                rc.store(gort_poll_fd(p.r, GORT_POLL_IN, -1));
                j.done();
            });
            wait_for_waiter();
            if (it % 2 == 1) gort_sleep(200000);  // sometimes parked, sometimes only queued
            EXPECT_EQ(gort_poll_close(p.r), GORT_OK);
            j.wait();
            ASSERT_EQ(rc.load(), GORT_ECLOSED) << "iteration " << it;
        }
    });
}

// close(2) without gort_poll_close: found by the closed-fd check (sysmon's,
// called directly here) and reported as GORT_ECLOSED.
TEST(Netpoll, PlainCloseDetected) {
    Watchdog wd("PlainCloseDetected", 60);
    run_main(2, [&] {
        for (int it = 0; it < 20; it++) {
            Pipe p;
            Join j(1);
            std::atomic<int> rc{0};
            go([&] {
                rc.store(gort_poll_fd(p.r, GORT_POLL_IN, -1));
                j.done();
            });
            wait_for_waiter();
            EXPECT_EQ(gort::netpoll_check_closed(), 0) << "an open fd reported closed";
            close(p.r);
            int rfd = p.r;
            p.r = -1;
            if (it % 2 == 0) {
                // sysmon runs the same check every kClosedCheckPeriod and
                // may find the close first: the waiter's result below is
                // what must hold.
                EXPECT_LE(gort::netpoll_check_closed(), 1);
            } else {
                // sysmon's entry point: rate-limited, so give it a later `now`.
                gort::sysmon_netpoll(gort_nanotime() + int64_t(it + 1) * gort::kClosedCheckPeriod * 2);
            }
            j.wait();
            EXPECT_EQ(rc.load(), GORT_ECLOSED) << "iteration " << it;
            EXPECT_EQ(gort_poll_close(rfd), GORT_OK);
        }
    });
}

// The pipe becomes readable right around the moment the waiter checks the
// fd and parks: no wakeup may be lost. A lost wakeup shows as a wait that
// times out with the byte in the pipe. Readiness is a hint (gort.h: the read
// may still see EAGAIN): an event the poller took from epoll while byte i was
// unread can reach the waiter of byte i+1 if the polling M is descheduled
// between epoll_wait and the pollDesc lock (a loaded machine), so the reader
// polls again on EAGAIN, as a Go reader does.
TEST(Netpoll, ReadinessBetweenCheckAndParkNotLost) {
    Watchdog wd("ReadinessBetweenCheckAndParkNotLost", 120);
    const int iters = int(scaled(20000, 2000, 5000));
    const int64_t kLost = int64_t(10) * 1000 * 1000 * 1000;  // 10 s: far beyond any wakeup
    Pipe p;
    std::atomic<int> bad{0}, lost{0}, spurious{0};
    run_main(2, [&] {
        Sema go_write, done;
        Join j(2);
        go([&] {  // reader
            for (int i = 0; i < iters; i++) {
                go_write.post();
                for (;;) {
                    int rc = gort_poll_fd(p.r, GORT_POLL_IN, kLost);
                    if (rc == GORT_ETIMEDOUT) {
                        char c;
                        if (read(p.r, &c, 1) == 1) {
                            lost.fetch_add(1);  // readable, yet nobody woke us
                            break;
                        }
                        continue;  // the writer is that slow: wait on
                    }
                    if (rc != GORT_POLL_IN) {
                        bad.fetch_add(1);
                        break;
                    }
                    char c;
                    ssize_t n = read(p.r, &c, 1);
                    if (n == 1) break;
                    if (n < 0 && errno == EAGAIN) {
                        spurious.fetch_add(1);
                        continue;
                    }
                    bad.fetch_add(1);
                    break;
                }
                done.post();
            }
            j.done();
        });
        go([&] {  // writer, on the other P
            for (int i = 0; i < iters; i++) {
                go_write.acquire();
                for (int k = 0, spin = i % 64; k < spin; k++) __asm__ volatile("" ::: "memory");
                if (write(p.w, "x", 1) != 1) bad.fetch_add(1);
                done.acquire();
            }
            j.done();
        });
        j.wait();
        gort_poll_close(p.r);
    });
    EXPECT_EQ(lost.load(), 0) << "wakeups lost: a wait outlived a byte in the pipe by 10 s";
    EXPECT_EQ(bad.load(), 0) << "unexpected poll result or read error";
    // A spurious readiness needs a stale event in flight: rare (a poller that
    // reported readiness it never saw would do it on most iterations).
    EXPECT_LT(spurious.load(), iters / 10) << "spurious readiness on more than 10% of the iterations";
}

TEST(Netpoll, HostThreadWakesGoroutine) {
    Watchdog wd("HostThreadWakesGoroutine", 60);
    const int iters = int(scaled(200, 50, 100));
    Pipe p;
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 2;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
    std::atomic<int> woken{0}, bad{0};
    std::atomic<bool> waiting{false};
    go([&] {
        for (int i = 0; i < iters; i++) {
            waiting.store(true);
            int rc = gort_poll_fd(p.r, GORT_POLL_IN, -1);
            char c;
            if (rc != GORT_POLL_IN || read(p.r, &c, 1) != 1) bad.fetch_add(1);
            woken.fetch_add(1);
        }
    });
    for (int i = 0; i < iters; i++) {
        while (!waiting.exchange(false)) std::this_thread::yield();
        if (i % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));  // parked, not only queued
        ASSERT_EQ(write(p.w, "x", 1), 1);
        while (woken.load() != i + 1) std::this_thread::yield();
    }
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(gort_shutdown(), GORT_OK);
}

// With goroutines waiting on fds and nothing else to do, the runtime is
// idle: one M in epoll_wait, the others asleep.
TEST(Netpoll, IdleWhileWaitingOnFds) {
    Pipe p;
    int64_t used = 0, wall = 0;
    run_main(4, [&] {
        Join j(4);
        for (int i = 0; i < 4; i++)
            go([&] {
                gort_poll_fd(p.r, GORT_POLL_IN, -1);
                j.done();
            });
        wait_for_waiter();
        gort_sleep(1000000);
        rusage r0, r1;
        getrusage(RUSAGE_SELF, &r0);
        int64_t t0 = gort_nanotime();
        gort_sleep(200 * 1000000);
        wall = gort_nanotime() - t0;
        getrusage(RUSAGE_SELF, &r1);
        auto us = [](const rusage &r) {
            return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000000LL + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
        };
        used = us(r1) - us(r0);
        ASSERT_EQ(write(p.w, "x", 1), 1);
        j.wait();
        gort_poll_close(p.r);
    });
    int64_t bound = (kTSan || kASan) ? 60000 : 15000;
    EXPECT_LT(used, bound) << "waiting runtime used " << used << " us of CPU in " << wall / 1000 << " us";
}

TEST(Netpoll, BadInputs) {
    Pipe p;
    EXPECT_EQ(gort_poll_fd(p.r, GORT_POLL_IN, 0), GORT_ENOTINIT);
    EXPECT_EQ(gort_poll_close(p.r), GORT_ENOTINIT);
    EXPECT_EQ(gort_poll_fd(-1, GORT_POLL_IN, 0), GORT_EINVAL);
    EXPECT_EQ(gort_poll_close(-1), GORT_EINVAL);
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 1;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    EXPECT_EQ(gort_poll_fd(p.r, GORT_POLL_IN, 0), GORT_ENOTG) << "from a host thread";
    EXPECT_EQ(gort_poll_close(p.r), GORT_OK) << "never polled: nothing to do";
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    const int notopen = 4190000;  // in the pollDesc table's range, above any RLIMIT_NOFILE
    run_main(1, [&] {
        EXPECT_EQ(gort_poll_fd(-1, GORT_POLL_IN, 0), GORT_EINVAL);
        EXPECT_EQ(gort_poll_fd(p.r, 0, 0), GORT_EINVAL);
        EXPECT_EQ(gort_poll_fd(p.r, 4, 0), GORT_EINVAL);
        EXPECT_EQ(gort_poll_fd(p.r, GORT_POLL_IN | 8, -1), GORT_EINVAL);
        EXPECT_EQ(gort_poll_fd(notopen, GORT_POLL_IN, -1), GORT_EINVAL);
        EXPECT_EQ(gort_poll_fd(1 << 30, GORT_POLL_IN, -1), GORT_EINVAL);
        EXPECT_EQ(gort_poll_close(-5), GORT_EINVAL);
        // Bad input changed nothing: no waiter left behind.
        EXPECT_FALSE(gort::netpollAnyWaiters());
        // A regular file is always ready (poll(2)'s answer; epoll refuses it).
        FILE *f = tmpfile();
        ASSERT_NE(f, nullptr);
        EXPECT_EQ(gort_poll_fd(fileno(f), GORT_POLL_IN | GORT_POLL_OUT, -1), GORT_POLL_IN | GORT_POLL_OUT);
        fclose(f);
    });
}

}  // namespace
