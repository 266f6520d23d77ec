// tests/wait/chan_test.cc - channels: Go's semantics through the C ABI (FIFO,
// direct hand-off, close, receive from closed, len/cap, zero-size elements),
// argument errors, host-thread try operations, free, and races.
#include <gort/gort.h>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <thread>
#include <vector>

#include "core/wait/chan.h"
#include "tests/util/runtime_test.h"
#include "tests/util/testutil.h"
#include "tests/util/wait_until.h"

using namespace gort_test;

namespace {

gort::hchan *H(gort_chan *c) { return reinterpret_cast<gort::hchan *>(c); }

// Goroutines parked on c (sudogs on its queues and not yet gone). Test-only
// peek at the internals, under the channel lock.
int nwaiting(gort_chan *c) { return gort::chan_nwaiters(H(c)); }

gort_chan *mk(size_t elemsize, size_t cap) {
    gort_chan *c = nullptr;
    EXPECT_EQ(gort_chan_new(elemsize, cap, &c), GORT_OK);
    return c;
}

// Run a host-thread body from a goroutine, joined inside a syscall bracket
// (the join blocks this M).
void host_thread(std::thread &t) {
    gort_entersyscall();
    t.join();
    gort_exitsyscall();
}

// Scenarios that hold at any P count: RuntimeTest (tests/util/runtime_test.h)
// over {1, 2, 4, 8} Ps, with its leak checks.
using Procs = RuntimeTest;

}  // namespace

GORT_INSTANTIATE_PROCS(Chan, Procs);

TEST(Chan, BadArguments) {
    gort_chan *c = nullptr;
    EXPECT_EQ(gort_chan_new(8, 1, &c), GORT_ENOTINIT);
    EXPECT_EQ(c, nullptr);
    run_main(1, [] {
        gort_chan *c = nullptr;
        EXPECT_EQ(gort_chan_new(8, 1, nullptr), GORT_EINVAL);
        EXPECT_EQ(gort_chan_new(65536, 1, &c), GORT_EINVAL);
        EXPECT_EQ(gort_chan_new(1024, size_t(1) << 40, &c), GORT_EINVAL);
        EXPECT_EQ(c, nullptr);
        int v = 1, ok = 7;
        EXPECT_EQ(gort_chan_send(nullptr, &v), GORT_EINVAL);
        EXPECT_EQ(gort_chan_recv(nullptr, &v, &ok), GORT_EINVAL);
        EXPECT_EQ(gort_chan_trysend(nullptr, &v), GORT_EINVAL);
        EXPECT_EQ(gort_chan_tryrecv(nullptr, &v, &ok), GORT_EINVAL);
        EXPECT_EQ(gort_chan_close(nullptr), GORT_EINVAL);
        EXPECT_EQ(gort_chan_len(nullptr), GORT_EINVAL);
        EXPECT_EQ(gort_chan_cap(nullptr), GORT_EINVAL);
        EXPECT_EQ(gort_chan_free(nullptr), GORT_EINVAL);
        EXPECT_EQ(ok, 7);
        c = mk(sizeof(int), 2);
        EXPECT_EQ(gort_chan_send(c, nullptr), GORT_EINVAL);  // elemsize != 0
        EXPECT_EQ(gort_chan_trysend(c, nullptr), GORT_EINVAL);
        EXPECT_EQ(gort_chan_len(c), 0);
        // A bad handle (not a channel) is refused, not trusted.
        uint64_t junk[16] = {};
        EXPECT_EQ(gort_chan_send(reinterpret_cast<gort_chan *>(junk), &v), GORT_EINVAL);
        // Blocking calls need a goroutine; try calls do not.
        std::thread t([c] {
            int v = 5;
            EXPECT_EQ(gort_chan_send(c, &v), GORT_ENOTG);
            EXPECT_EQ(gort_chan_recv(c, &v, nullptr), GORT_ENOTG);
            EXPECT_EQ(gort_chan_trysend(c, &v), GORT_OK);
        });
        host_thread(t);
        EXPECT_EQ(gort_chan_len(c), 1);
        // Inside a syscall bracket nothing may wake a goroutine.
        ASSERT_EQ(gort_entersyscall(), GORT_OK);
        EXPECT_EQ(gort_chan_trysend(c, &v), GORT_ESTATE);
        EXPECT_EQ(gort_chan_close(c), GORT_ESTATE);
        ASSERT_EQ(gort_exitsyscall(), GORT_OK);
        EXPECT_EQ(gort_chan_len(c), 1);
        EXPECT_EQ(gort_chan_free(c), GORT_OK);
    });
}

TEST(Chan, BufferedFIFOLenCap) {
    run_main(1, [] {
        gort_chan *c = mk(sizeof(int64_t), 8);
        EXPECT_EQ(gort_chan_cap(c), 8);
        // Wrap the ring a few times.
        int64_t next_in = 0, next_out = 0;
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 5 + round % 4; i++) {
                ASSERT_EQ(gort_chan_send(c, &next_in), GORT_OK);
                next_in++;
            }
            EXPECT_EQ(gort_chan_len(c), int(next_in - next_out));
            while (next_out < next_in) {
                int64_t v = -1;
                int ok = -1;
                ASSERT_EQ(gort_chan_recv(c, &v, &ok), GORT_OK);
                EXPECT_EQ(ok, 1);
                EXPECT_EQ(v, next_out) << "buffered channel is not FIFO";
                next_out++;
            }
        }
        for (int64_t i = 0; i < 8; i++) ASSERT_EQ(gort_chan_trysend(c, &i), GORT_OK);
        int64_t x = 99;
        EXPECT_EQ(gort_chan_trysend(c, &x), GORT_EAGAIN);
        EXPECT_EQ(gort_chan_len(c), 8);
        for (int64_t i = 0; i < 8; i++) {
            int64_t v;
            ASSERT_EQ(gort_chan_tryrecv(c, &v, nullptr), GORT_OK);
            EXPECT_EQ(v, i);
        }
        EXPECT_EQ(gort_chan_tryrecv(c, &x, nullptr), GORT_EAGAIN);
        EXPECT_EQ(x, 99);
        EXPECT_EQ(gort_chan_free(c), GORT_OK);

        gort_chan *u = mk(sizeof(int), 0);
        EXPECT_EQ(gort_chan_cap(u), 0);
        int v = 1;
        EXPECT_EQ(gort_chan_trysend(u, &v), GORT_EAGAIN);  // no receiver waits
        EXPECT_EQ(gort_chan_tryrecv(u, &v, nullptr), GORT_EAGAIN);
        EXPECT_EQ(gort_chan_free(u), GORT_OK);
    });
}

// Blocked senders and receivers are served in the order they blocked, on
// unbuffered and on buffered channels (a full buffer refills from the
// oldest sender).
TEST_P(Procs, WaitersFIFO) {
    for (size_t cap : {size_t(0), size_t(3)}) {
        run([cap] {
            const int n = 20;
            gort_chan *c = mk(sizeof(int), cap);
            gort_chan *done = mk(0, size_t(n));
            struct A {
                gort_chan *c, *done;
                int i;
            };
            // Fill the buffer so that every sender blocks.
            for (int i = 0; i < int(cap); i++) ASSERT_EQ(gort_chan_send(c, &i), GORT_OK);
            for (int i = 0; i < n; i++) {
                A a{c, done, int(cap) + i};
                ASSERT_EQ(gort_go([](void *p) {
                    auto *a = static_cast<A *>(p);
                    EXPECT_EQ(gort_chan_send(a->c, &a->i), GORT_OK);
                    gort_chan_send(a->done, nullptr);
                }, &a, sizeof a, nullptr), GORT_OK);
                // Sender i blocks before sender i+1 starts.
                ASSERT_TRUE(wait_until([&] { return nwaiting(c) == i + 1; }, "sender to block"));
            }
            for (int i = 0; i < n + int(cap); i++) {
                int v = -1;
                ASSERT_EQ(gort_chan_recv(c, &v, nullptr), GORT_OK);
                EXPECT_EQ(v, i) << "senders not served in FIFO order (cap " << cap << ")";
            }
            for (int i = 0; i < n; i++) gort_chan_recv(done, nullptr, nullptr);

            // Receivers.
            std::atomic<int> order{0};
            struct R {
                gort_chan *c, *done;
                int i;
                std::atomic<int> *order;
            };
            for (int i = 0; i < n; i++) {
                R r{c, done, i, &order};
                ASSERT_EQ(gort_go([](void *p) {
                    auto *r = static_cast<R *>(p);
                    int v = -1;
                    EXPECT_EQ(gort_chan_recv(r->c, &v, nullptr), GORT_OK);
                    EXPECT_EQ(v, r->i) << "receivers not served in FIFO order";
                    gort_chan_send(r->done, nullptr);
                }, &r, sizeof r, nullptr), GORT_OK);
                ASSERT_TRUE(wait_until([&] { return nwaiting(c) == i + 1; }, "receiver to block"));
            }
            for (int i = 0; i < n; i++) ASSERT_EQ(gort_chan_send(c, &i), GORT_OK);
            for (int i = 0; i < n; i++) gort_chan_recv(done, nullptr, nullptr);
            ASSERT_TRUE(wait_until([&] { return nwaiting(c) == 0; }, "receivers to leave"));
            EXPECT_EQ(gort_chan_free(c), GORT_OK);
            EXPECT_EQ(gort_chan_free(done), GORT_OK);
        });
    }
}

TEST_P(Procs, CloseWakesAllWaiters) {
    run([] {
        const int n = 16;
        gort_chan *rc = mk(sizeof(int64_t), 0);
        gort_chan *sc = mk(sizeof(int64_t), 1);
        int64_t fill = 1;
        ASSERT_EQ(gort_chan_send(sc, &fill), GORT_OK);  // full: senders block
        gort_chan *done = mk(sizeof(int), n * 2);
        struct A {
            gort_chan *c, *done;
        };
        for (int i = 0; i < n; i++) {
            A a{rc, done};
            gort_go([](void *p) {
                auto *a = static_cast<A *>(p);
                int64_t v = 12345;
                int ok = -1;
                int rc = gort_chan_recv(a->c, &v, &ok);
                int res = (rc == GORT_OK && ok == 0 && v == 0) ? 1 : -1;  // zeroed, closed
                gort_chan_send(a->done, &res);
            }, &a, sizeof a, nullptr);
            A b{sc, done};
            gort_go([](void *p) {
                auto *a = static_cast<A *>(p);
                int64_t v = 7;
                int res = gort_chan_send(a->c, &v) == GORT_ECLOSED ? 2 : -2;
                gort_chan_send(a->done, &res);
            }, &b, sizeof b, nullptr);
        }
        ASSERT_TRUE(wait_until([&] { return nwaiting(rc) == n && nwaiting(sc) == n; }, "waiters to block"));
        EXPECT_EQ(gort_chan_free(rc), GORT_EBUSY);  // goroutines wait on it
        ASSERT_EQ(gort_chan_close(rc), GORT_OK);
        ASSERT_EQ(gort_chan_close(sc), GORT_OK);
        EXPECT_EQ(gort_chan_close(rc), GORT_ECLOSED);
        int got1 = 0, got2 = 0;
        for (int i = 0; i < 2 * n; i++) {
            int res = 0;
            ASSERT_EQ(gort_chan_recv(done, &res, nullptr), GORT_OK);
            if (res == 1) got1++;
            if (res == 2) got2++;
        }
        EXPECT_EQ(got1, n) << "every receiver returns ok=0 with a zeroed element";
        EXPECT_EQ(got2, n) << "every sender returns GORT_ECLOSED";
        // The buffered element survives the close.
        int64_t v = 0;
        int ok = 0;
        EXPECT_EQ(gort_chan_recv(sc, &v, &ok), GORT_OK);
        EXPECT_EQ(v, 1);
        EXPECT_EQ(ok, 1);
        ASSERT_TRUE(wait_until([&] { return nwaiting(rc) == 0 && nwaiting(sc) == 0; }, "waiters to leave"));
        EXPECT_EQ(gort_chan_free(rc), GORT_OK);
        EXPECT_EQ(gort_chan_free(sc), GORT_OK);
        EXPECT_EQ(gort_chan_free(done), GORT_OK);
    });
}

TEST(Chan, ReceiveFromClosedDrainsThenZeroes) {
    run_main(1, [] {
        gort_chan *c = mk(sizeof(int), 4);
        for (int i = 1; i <= 3; i++) ASSERT_EQ(gort_chan_send(c, &i), GORT_OK);
        ASSERT_EQ(gort_chan_close(c), GORT_OK);
        EXPECT_EQ(gort_chan_close(c), GORT_ECLOSED);
        int v = 9;
        EXPECT_EQ(gort_chan_send(c, &v), GORT_ECLOSED);
        EXPECT_EQ(gort_chan_trysend(c, &v), GORT_ECLOSED);
        EXPECT_EQ(gort_chan_len(c), 3);
        for (int i = 1; i <= 3; i++) {
            int ok = -1;
            ASSERT_EQ(i == 2 ? gort_chan_tryrecv(c, &v, &ok) : gort_chan_recv(c, &v, &ok), GORT_OK);
            EXPECT_EQ(v, i);
            EXPECT_EQ(ok, 1);
        }
        for (int k = 0; k < 3; k++) {
            int ok = -1;
            v = 77;
            ASSERT_EQ(k == 1 ? gort_chan_tryrecv(c, &v, &ok) : gort_chan_recv(c, &v, &ok), GORT_OK);
            EXPECT_EQ(ok, 0);
            EXPECT_EQ(v, 0) << "receive from a closed, drained channel zeroes the element";
        }
        EXPECT_EQ(gort_chan_len(c), 0);
        EXPECT_EQ(gort_chan_free(c), GORT_OK);
    });
}

TEST_P(Procs, ZeroSizeElements) {
    run([] {
        gort_chan *c = mk(0, 3);
        for (int i = 0; i < 3; i++) ASSERT_EQ(gort_chan_send(c, nullptr), GORT_OK);
        EXPECT_EQ(gort_chan_trysend(c, nullptr), GORT_EAGAIN);
        EXPECT_EQ(gort_chan_len(c), 3);
        int ok = 0;
        EXPECT_EQ(gort_chan_recv(c, nullptr, &ok), GORT_OK);
        EXPECT_EQ(ok, 1);
        EXPECT_EQ(gort_chan_len(c), 2);
        // Unbuffered signalling between goroutines.
        gort_chan *u = mk(0, 0);
        const int n = 1000;
        gort_go([](void *p) {
            for (int i = 0; i < n; i++) gort_chan_send(static_cast<gort_chan *>(p), nullptr);
            gort_chan_close(static_cast<gort_chan *>(p));
        }, u, 0, nullptr);
        int got = 0;
        for (;;) {
            int ok = 0;
            ASSERT_EQ(gort_chan_recv(u, nullptr, &ok), GORT_OK);
            if (!ok) break;
            got++;
        }
        EXPECT_EQ(got, n);
        ASSERT_TRUE(wait_until([&] { return nwaiting(u) == 0; }, "sender to leave"));
        EXPECT_EQ(gort_chan_free(u), GORT_OK);
        EXPECT_EQ(gort_chan_free(c), GORT_OK);
    });
}

// Large elements pass by value, intact, through the buffer and directly.
TEST_P(Procs, LargeElementsByValue) {
    run([] {
        struct Big {
            uint64_t w[512];
        };
        for (size_t cap : {size_t(0), size_t(2)}) {
            gort_chan *c = mk(sizeof(Big), cap);
            static const int n = int(scaled(200, 50, 100));
            gort_go([](void *p) {
                auto *c = static_cast<gort_chan *>(p);
                for (int i = 0; i < n; i++) {
                    Big b;
                    for (int k = 0; k < 512; k++) b.w[k] = uint64_t(i) * 1000 + k;
                    gort_chan_send(c, &b);
                }
            }, c, 0, nullptr);
            for (int i = 0; i < n; i++) {
                Big b;
                ASSERT_EQ(gort_chan_recv(c, &b, nullptr), GORT_OK);
                for (int k = 0; k < 512; k++) ASSERT_EQ(b.w[k], uint64_t(i) * 1000 + k);
            }
            ASSERT_TRUE(wait_until([&] { return nwaiting(c) == 0; }, "sender to leave"));
            EXPECT_EQ(gort_chan_free(c), GORT_OK);
        }
    });
}

// trysend/tryrecv/close from a host thread wake goroutines blocked on the
// channel (through the foreign-thread ready path).
TEST(Chan, HostThreadTryOpsWakeGoroutines) {
    run_main(2, [] {
        gort_chan *c = mk(sizeof(int), 0);
        const int n = int(scaled(2000, 200, 500));
        static std::atomic<bool> attached{false};
        attached = false;
        std::thread t([c, n] {
            // An attached foreign thread may still wake goroutines: checkdead
            // must not call the blocked main goroutine a deadlock.
            EXPECT_EQ(gort_thread_attach(), GORT_OK);
            attached = true;
            for (int i = 0; i < n; i++) {
                while (gort_chan_trysend(c, &i) == GORT_EAGAIN) std::this_thread::yield();
            }
            int v;
            for (int i = 0; i < n; i++) {
                int rc;
                while ((rc = gort_chan_tryrecv(c, &v, nullptr)) == GORT_EAGAIN) std::this_thread::yield();
                EXPECT_EQ(rc, GORT_OK);
                EXPECT_EQ(v, -i);
            }
            EXPECT_EQ(gort_chan_close(c), GORT_OK);
            EXPECT_EQ(gort_thread_detach(), GORT_OK);
        });
        ASSERT_TRUE(wait_until([] { return attached.load(); }, "host thread to attach"));
        for (int i = 0; i < n; i++) {
            int v = -1;
            ASSERT_EQ(gort_chan_recv(c, &v, nullptr), GORT_OK);
            ASSERT_EQ(v, i);
        }
        for (int i = 0; i < n; i++) {
            int v = -i;
            ASSERT_EQ(gort_chan_send(c, &v), GORT_OK);
        }
        int ok = 1, v;
        EXPECT_EQ(gort_chan_recv(c, &v, &ok), GORT_OK);  // woken by the host's close
        EXPECT_EQ(ok, 0);
        host_thread(t);
        EXPECT_EQ(gort_chan_free(c), GORT_OK);
    });
}

// Many producers and consumers on one channel: every element arrives once.
TEST_P(Procs, StressManyProducersConsumers) {
    for (size_t cap : {size_t(0), size_t(1), size_t(64)}) {
        run([cap] {
            const int np = 8, nc = 8;
            static const int64_t per = scaled(20000, 200, 2000);
            gort_chan *c = mk(sizeof(int64_t), cap);
            gort_chan *res = mk(sizeof(int64_t), nc);
            for (int p = 0; p < np; p++) {
                gort_go([](void *a) {
                    auto *c = static_cast<gort_chan *>(a);
                    for (int64_t i = 1; i <= per; i++) {
                        if (gort_chan_send(c, &i) != GORT_OK) abort();
                    }
                }, c, 0, nullptr);
            }
            struct A {
                gort_chan *c, *res;
            };
            A a{c, res};
            for (int k = 0; k < nc; k++) {
                gort_go([](void *p) {
                    auto *a = static_cast<A *>(p);
                    int64_t sum = 0, v;
                    int ok;
                    for (;;) {
                        if (gort_chan_recv(a->c, &v, &ok) != GORT_OK) abort();
                        if (!ok) break;
                        sum += v;
                    }
                    gort_chan_send(a->res, &sum);
                }, &a, sizeof a, nullptr);
            }
            // Close once every producer is done: all elements are then
            // received (the producers block until consumed).
            ASSERT_TRUE(wait_until([&] {
                return gort_numgoroutine() == 1 + nc && gort_chan_len(c) == 0 && nwaiting(c) == nc;
            }, "producers to finish"));
            ASSERT_EQ(gort_chan_close(c), GORT_OK);
            int64_t total = 0;
            for (int k = 0; k < nc; k++) {
                int64_t s;
                ASSERT_EQ(gort_chan_recv(res, &s, nullptr), GORT_OK);
                total += s;
            }
            EXPECT_EQ(total, np * per * (per + 1) / 2) << "elements lost or duplicated (cap " << cap << ")";
            ASSERT_TRUE(wait_until([&] { return nwaiting(c) == 0; }, "consumers to leave"));
            EXPECT_EQ(gort_chan_free(c), GORT_OK);
            EXPECT_EQ(gort_chan_free(res), GORT_OK);
        });
    }
}

// A channel with goroutines blocked on it when the runtime shuts down can
// still be freed afterwards; it cannot be used by the next runtime.
TEST(Chan, FreeAfterShutdownWithWaiters) {
    gort_chan *c = nullptr;
    run_main(1, [&c] {
        c = mk(sizeof(int), 0);
        gort_go([](void *p) {
            int v;
            gort_chan_recv(static_cast<gort_chan *>(p), &v, nullptr);
        }, c, 0, nullptr);
        ASSERT_TRUE(wait_until([&] { return nwaiting(c) == 1; }, "receiver to block"));
        EXPECT_EQ(gort_chan_free(c), GORT_EBUSY);
    });
    int v = 1;
    EXPECT_EQ(gort_chan_trysend(c, &v), GORT_ENOTINIT);
    run_main(1, [c] {
        int v = 1;
        EXPECT_EQ(gort_chan_trysend(c, &v), GORT_ESTATE);
        EXPECT_EQ(gort_chan_close(c), GORT_ESTATE);
        EXPECT_EQ(gort_chan_free(c), GORT_OK);
    });
}

// Goroutines blocked on channels nobody else can reach are a deadlock, as in
// Go: the fatal error names the wait reasons.
TEST(ChanDeathTest, AllBlockedOnChannelsIsDeadlock) {
    // A fresh process: a child forked from one that already ran the runtime
    // cannot start it again (core/thread/fork.cc).
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            gort_config cfg;
            gort_config_init(&cfg);
            cfg.maxprocs = 2;
            if (gort_init(&cfg) != GORT_OK) abort();
            gort_main([](void *) {
                gort_chan *c;
                if (gort_chan_new(sizeof(int), 0, &c) != GORT_OK) abort();
                gort_go([](void *p) {
                    int v = 1;
                    gort_chan_send(static_cast<gort_chan *>(p), &v);  // nobody receives
                }, c, 0, nullptr);
                gort_chan *d;
                if (gort_chan_new(0, 0, &d) != GORT_OK) abort();
                gort_chan_recv(d, nullptr, nullptr);  // nobody sends
            }, nullptr);
        },
        ::testing::KilledBySignal(SIGABRT),
        "gort: fatal error: all goroutines are asleep - deadlock!\n(.|\n)*\\[chan (send|receive)\\](.|\n)*"
        "\\[chan (send|receive)\\]");
}
