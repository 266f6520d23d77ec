// tests/wait/select_test.cc - select: poll, blocking with send and receive cases,
// closed and NULL channels, uniform choice among ready cases (chi-square),
// cleanup of the losing cases' queues, races.
#include <gort/gort.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/wait/chan.h"
#include "tests/util/runtime_test.h"
#include "tests/util/testutil.h"
#include "tests/util/wait_until.h"

using namespace gort_test;

namespace {

int nwaiting(gort_chan *c) { return gort::chan_nwaiters(reinterpret_cast<gort::hchan *>(c)); }

gort_chan *mk(size_t elemsize, size_t cap) {
    gort_chan *c = nullptr;
    EXPECT_EQ(gort_chan_new(elemsize, cap, &c), GORT_OK);
    return c;
}

gort_select_case recv_case(gort_chan *c, void *elem) { return gort_select_case{c, GORT_RECV, elem, -1}; }
gort_select_case send_case(gort_chan *c, void *elem) { return gort_select_case{c, GORT_SEND, elem, -1}; }

// Pearson's chi-square statistic of counts against a uniform expectation.
double chi2(const std::vector<int64_t> &counts) {
    int64_t total = 0;
    for (int64_t c : counts) total += c;
    double e = double(total) / double(counts.size());
    double x = 0;
    for (int64_t c : counts) x += (double(c) - e) * (double(c) - e) / e;
    return x;
}
// Upper 1e-6 quantiles of the chi-square distribution with k-1 degrees of
// freedom: a uniform chooser exceeds them with probability < 1e-6.
double chi2_bound(size_t k) {
    switch (k) {
        case 2: return 23.93;  // 1 dof
        case 3: return 27.64;  // 2 dof: -2 ln(1e-6)
        case 4: return 30.66;  // 3 dof
        default: return 1e300;
    }
}

// Scenarios that hold at any P count: RuntimeTest (tests/util/runtime_test.h)
// over {1, 2, 4, 8} Ps, with its leak checks.
using Procs = RuntimeTest;

}  // namespace

GORT_INSTANTIATE_PROCS(Select, Procs);

TEST(Select, BadArguments) {
    gort_select_case k{};
    EXPECT_EQ(gort_select(&k, 0, 0), GORT_ENOTINIT);
    run_main(1, [] {
        gort_chan *c = mk(sizeof(int), 1);
        int v = 1;
        gort_select_case ks[2] = {recv_case(c, &v), send_case(c, &v)};
        EXPECT_EQ(gort_select(nullptr, 1, 0), GORT_EINVAL);
        EXPECT_EQ(gort_select(ks, -1, 0), GORT_EINVAL);
        EXPECT_EQ(gort_select(ks, 65537, 0), GORT_EINVAL);
        ks[0].dir = 3;
        EXPECT_EQ(gort_select(ks, 2, 0), GORT_EINVAL);
        ks[0].dir = GORT_RECV;
        ks[1].elem = nullptr;  // send without element, elemsize 4
        EXPECT_EQ(gort_select(ks, 2, 0), GORT_EINVAL);
        EXPECT_EQ(gort_chan_len(c), 0);  // nothing ran
        EXPECT_EQ(ks[0].ok, -1);
        ks[1].elem = &v;
        uint64_t junk[16] = {};
        ks[0].c = reinterpret_cast<gort_chan *>(junk);
        EXPECT_EQ(gort_select(ks, 2, 0), GORT_EINVAL);
        ks[0].c = c;
        // Blocking select needs a goroutine; a poll does not.
        std::thread t([&ks] {
            EXPECT_EQ(gort_select(ks, 2, -1), GORT_ENOTG);
            EXPECT_EQ(gort_select(ks, 1, 0), GORT_EAGAIN);
        });
        gort_entersyscall();
        t.join();
        gort_exitsyscall();
        EXPECT_EQ(gort_chan_free(c), GORT_OK);
    });
}

TEST(Select, PollAndNullCases) {
    run_main(1, [] {
        EXPECT_EQ(gort_select(nullptr, 0, 0), GORT_EAGAIN);
        gort_chan *a = mk(sizeof(int), 1), *b = mk(sizeof(int), 0);
        int x = 0, y = 0;
        gort_select_case ks[3] = {recv_case(a, &x), recv_case(nullptr, &y), recv_case(b, &y)};
        EXPECT_EQ(gort_select(ks, 3, 0), GORT_EAGAIN);
        int v = 42;
        ASSERT_EQ(gort_chan_send(a, &v), GORT_OK);
        EXPECT_EQ(gort_select(ks, 3, 0), 0);
        EXPECT_EQ(ks[0].ok, 1);
        EXPECT_EQ(x, 42);
        // Send cases: a has room now, b has no receiver.
        int s1 = 7, s2 = 8;
        gort_select_case ss[3] = {send_case(b, &s2), send_case(nullptr, &s2), send_case(a, &s1)};
        EXPECT_EQ(gort_select(ss, 3, 0), 2);
        EXPECT_EQ(ss[2].ok, 1);
        EXPECT_EQ(gort_select(ss, 3, 0), GORT_EAGAIN);  // a full, b without receiver
        ASSERT_EQ(gort_chan_recv(a, &v, nullptr), GORT_OK);
        EXPECT_EQ(v, 7);
        // Only NULL channels: a poll finds nothing.
        gort_select_case nn[2] = {recv_case(nullptr, &x), send_case(nullptr, &x)};
        EXPECT_EQ(gort_select(nn, 2, 0), GORT_EAGAIN);
        EXPECT_EQ(gort_chan_free(a), GORT_OK);
        EXPECT_EQ(gort_chan_free(b), GORT_OK);
    });
}

TEST(Select, ClosedChannels) {
    run_main(1, [] {
        gort_chan *a = mk(sizeof(int), 0), *b = mk(sizeof(int), 0);
        ASSERT_EQ(gort_chan_close(a), GORT_OK);
        int x = 5;
        gort_select_case r[2] = {recv_case(b, &x), recv_case(a, &x)};
        EXPECT_EQ(gort_select(r, 2, -1), 1);
        EXPECT_EQ(r[1].ok, 0);
        EXPECT_EQ(x, 0);
        int s = 3;
        gort_select_case w[2] = {send_case(b, &s), send_case(a, &s)};
        EXPECT_EQ(gort_select(w, 2, 0), 1);
        EXPECT_EQ(w[1].ok, 0) << "a send case on a closed channel reports ok = 0";

        // Closed while the select waits: receive and send cases.
        struct A {
            gort_chan *c;
        } arg{b};
        for (int dir : {GORT_RECV, GORT_SEND}) {
            gort_chan *c = mk(sizeof(int), 0);
            arg.c = c;
            gort_go([](void *p) {
                auto *c = static_cast<A *>(p)->c;
                ASSERT_TRUE(wait_until([&] { return nwaiting(c) == 1; }, "select to block"));
                gort_chan_close(c);
            }, &arg, sizeof arg, nullptr);
            int v = 9;
            gort_select_case k[2] = {gort_select_case{nullptr, GORT_RECV, nullptr, -1},
                                     gort_select_case{c, dir, &v, -1}};
            EXPECT_EQ(gort_select(k, 2, -1), 1);
            EXPECT_EQ(k[1].ok, 0);
            if (dir == GORT_RECV) EXPECT_EQ(v, 0);
            EXPECT_EQ(gort_chan_free(c), GORT_OK);
        }
        EXPECT_EQ(gort_chan_free(a), GORT_OK);
        EXPECT_EQ(gort_chan_free(b), GORT_OK);
    });
}

// A blocked select is woken by a sender on one case or a receiver on another;
// its sudogs leave every other channel's queue.
TEST_P(Procs, BlockingSendAndRecvCases) {
    run([] {
        gort_chan *in = mk(sizeof(int), 0), *out = mk(sizeof(int), 0), *quiet = mk(sizeof(int), 0);
        static const int n = int(scaled(2000, 200, 500));
        struct A {
            gort_chan *in, *out;
        } a{in, out};
        // The peer alternately sends on `in` and receives from `out`.
        gort_go([](void *p) {
            auto *a = static_cast<A *>(p);
            for (int i = 0; i < n; i++) {
                if (i % 2 == 0) {
                    if (gort_chan_send(a->in, &i) != GORT_OK) abort();
                } else {
                    int v = -1;
                    if (gort_chan_recv(a->out, &v, nullptr) != GORT_OK || v != i) abort();
                }
            }
        }, &a, sizeof a, nullptr);
        for (int i = 0; i < n; i++) {
            int got = -1, put = i, q = 0;
            gort_select_case k[3] = {recv_case(quiet, &q), recv_case(in, &got), send_case(out, &put)};
            int r = gort_select(k, 3, -1);
            if (i % 2 == 0) {
                ASSERT_EQ(r, 1);
                EXPECT_EQ(got, i);
                EXPECT_EQ(k[1].ok, 1);
            } else {
                ASSERT_EQ(r, 2);
                EXPECT_EQ(k[2].ok, 1);
            }
        }
        EXPECT_EQ(nwaiting(quiet), 0) << "the select left a sudog on a channel that never fired";
        EXPECT_TRUE(wait_until([&] { return nwaiting(in) == 0 && nwaiting(out) == 0; }, "peer to leave"));
        EXPECT_EQ(gort_chan_free(quiet), GORT_OK);
        EXPECT_EQ(gort_chan_free(in), GORT_OK);
        EXPECT_EQ(gort_chan_free(out), GORT_OK);
    });
}

// One channel in several cases, in both directions: the select cannot match
// itself, and a peer's operation completes exactly one case.
TEST_P(Procs, DuplicateChannel) {
    run([] {
        gort_chan *c = mk(sizeof(int), 0);
        gort_go([](void *p) {
            auto *c = static_cast<gort_chan *>(p);
            ASSERT_TRUE(wait_until([&] { return nwaiting(c) == 4; }, "select to block"));
            int v = 11;
            gort_chan_send(c, &v);
        }, c, 0, nullptr);
        int r0 = 0, r1 = 0, s0 = 1, s1 = 2;
        gort_select_case k[4] = {send_case(c, &s0), recv_case(c, &r0), send_case(c, &s1), recv_case(c, &r1)};
        int r = gort_select(k, 4, -1);
        ASSERT_TRUE(r == 1 || r == 3) << r;
        EXPECT_EQ(r == 1 ? r0 : r1, 11);
        EXPECT_TRUE(wait_until([&] { return nwaiting(c) == 0; }, "peer to leave"));
        EXPECT_EQ(gort_chan_free(c), GORT_OK);
    });
}

// When several cases are ready, each is chosen with equal probability.
TEST(Select, FairnessChiSquare) {
    run_main(1, [] {
        for (size_t k : {size_t(2), size_t(3), size_t(4)}) {
            const int64_t trials = scaled(60000, 12000, 30000);
            std::vector<gort_chan *> cs(k);
            for (auto &c : cs) c = mk(sizeof(int), 1);
            // Receive cases, every channel always holding an element.
            std::vector<int64_t> counts(k, 0);
            int v = 0;
            for (auto *c : cs) gort_chan_send(c, &v);
            std::vector<gort_select_case> ks(k);
            for (int64_t t = 0; t < trials; t++) {
                for (size_t i = 0; i < k; i++) ks[i] = recv_case(cs[i], &v);
                int r = gort_select(ks.data(), int(k), 0);
                ASSERT_GE(r, 0);
                counts[size_t(r)]++;
                gort_chan_send(cs[size_t(r)], &v);  // refill
            }
            EXPECT_LT(chi2(counts), chi2_bound(k)) << "recv cases not uniform, k=" << k;
            // Send cases, every channel always with room.
            for (auto *c : cs) gort_chan_recv(c, &v, nullptr);
            std::fill(counts.begin(), counts.end(), 0);
            for (int64_t t = 0; t < trials; t++) {
                for (size_t i = 0; i < k; i++) ks[i] = send_case(cs[i], &v);
                int r = gort_select(ks.data(), int(k), -1);  // ready: never blocks
                ASSERT_GE(r, 0);
                counts[size_t(r)]++;
                gort_chan_recv(cs[size_t(r)], &v, nullptr);  // drain
            }
            EXPECT_LT(chi2(counts), chi2_bound(k)) << "send cases not uniform, k=" << k;
            for (auto *c : cs) EXPECT_EQ(gort_chan_free(c), GORT_OK);
        }
        // From a host thread (its own random source).
        gort_chan *a = mk(0, 1), *b = mk(0, 1), *c = mk(0, 1);
        std::vector<int64_t> counts(3, 0);
        gort_chan_send(a, nullptr);
        gort_chan_send(b, nullptr);
        gort_chan_send(c, nullptr);
        std::thread t([&] {
            gort_chan *cs[3] = {a, b, c};
            for (int64_t i = 0; i < scaled(30000, 6000, 15000); i++) {
                gort_select_case ks[3] = {recv_case(a, nullptr), recv_case(b, nullptr), recv_case(c, nullptr)};
                int r = gort_select(ks, 3, 0);
                ASSERT_GE(r, 0);
                counts[size_t(r)]++;
                gort_chan_trysend(cs[r], nullptr);
            }
        });
        gort_entersyscall();
        t.join();
        gort_exitsyscall();
        EXPECT_LT(chi2(counts), chi2_bound(3)) << "host-thread poll not uniform";
        for (auto *x : {a, b, c}) EXPECT_EQ(gort_chan_free(x), GORT_OK);
    });
}

// Many goroutines selecting over shared channels in both directions while
// others send, receive and close: every element is delivered exactly once.
TEST_P(Procs, StressRace) {
    run([] {
        const int nch = 4, nsel = 8;
        static const int64_t per = scaled(5000, 300, 1000);
        struct S {
            gort_chan *c[nch];
            gort_chan *sink;     // selectors forward what they receive
            gort_chan *done;
            std::atomic<int64_t> sent{0}, recvd{0};
        } s;
        for (auto &c : s.c) c = mk(sizeof(int64_t), 0);
        s.sink = mk(sizeof(int64_t), 16);
        s.done = mk(0, 2 * nsel);
        // Selectors: each round either receives from any channel or sends
        // a token into one.
        for (int g = 0; g < nsel; g++) {
            gort_go([](void *p) {
                auto *s = static_cast<S *>(p);
                for (int64_t i = 0; i < per; i++) {
                    int64_t in[nch], out = 1;
                    gort_select_case ks[nch + 1];
                    for (int j = 0; j < nch; j++) ks[j] = recv_case(s->c[j], &in[j]);
                    ks[nch] = send_case(s->sink, &out);
                    int r = gort_select(ks, nch + 1, -1);
                    if (r < 0) abort();
                    if (r < nch) s->recvd.fetch_add(in[r], std::memory_order_relaxed);
                    else s->sent.fetch_add(1, std::memory_order_relaxed);
                }
                gort_chan_send(s->done, nullptr);
            }, &s, 0, nullptr);
        }
        // Feeders: send on the channels, and drain the sink.
        for (int g = 0; g < nsel; g++) {
            gort_go([](void *p) {
                auto *s = static_cast<S *>(p);
                for (int64_t i = 0; i < per; i++) {
                    int64_t one = 1;
                    gort_select_case ks[2] = {send_case(s->c[i % nch], &one), recv_case(s->sink, &one)};
                    int r = gort_select(ks, 2, -1);
                    if (r == 0) s->recvd.fetch_sub(1, std::memory_order_relaxed);  // delivered: expect +1
                    else s->sent.fetch_sub(1, std::memory_order_relaxed);         // drained one token
                }
                gort_chan_send(s->done, nullptr);
            }, &s, 0, nullptr);
        }
        for (int g = 0; g < 2 * nsel; g++) gort_chan_recv(s.done, nullptr, nullptr);
        // Every select completed exactly one case: each delivered element
        // was received once, each token sent was drained once or sits in
        // the sink.
        EXPECT_EQ(s.recvd.load(), 0);
        EXPECT_EQ(s.sent.load(), gort_chan_len(s.sink));
        for (auto *c : s.c) EXPECT_EQ(nwaiting(c), 0);
        for (auto *c : s.c) EXPECT_EQ(gort_chan_free(c), GORT_OK);
        EXPECT_EQ(gort_chan_free(s.sink), GORT_OK);
        EXPECT_EQ(gort_chan_free(s.done), GORT_OK);
    });
}

// A timeout ends a select in which no case proceeds, no sooner than asked;
// with no cases it is a sleep.
TEST_P(Procs, Timeout) {
    run([] {
        gort_chan *c = mk(sizeof(int), 0);
        int v = 0;
        for (int64_t ns : {int64_t(1), int64_t(200'000), int64_t(5'000'000)}) {
            gort_select_case k[2] = {recv_case(c, &v), send_case(c, &v)};
            int64_t t0 = gort_nanotime();
            EXPECT_EQ(gort_select(k, 2, ns), GORT_ETIMEDOUT);
            EXPECT_GE(gort_nanotime() - t0, ns);
            EXPECT_EQ(k[0].ok, -1);
            EXPECT_EQ(nwaiting(c), 0) << "a timed-out select left its sudogs queued";
            t0 = gort_nanotime();
            EXPECT_EQ(gort_select(nullptr, 0, ns), GORT_ETIMEDOUT);
            EXPECT_GE(gort_nanotime() - t0, ns);
        }
        // A ready case wins over the timeout.
        gort_go([](void *p) {
            int x = 5;
            gort_chan_send(static_cast<gort_chan *>(p), &x);
        }, c, 0, nullptr);
        gort_select_case k[1] = {recv_case(c, &v)};
        EXPECT_EQ(gort_select(k, 1, 10'000'000'000), 0);
        EXPECT_EQ(v, 5);
        EXPECT_TRUE(wait_until([&] { return nwaiting(c) == 0; }, "sender to leave"));
        EXPECT_EQ(gort_chan_free(c), GORT_OK);
    });
}

// Timeouts racing with senders: each select either times out or receives,
// never both, never a value lost; a timer armed by one select never ends a
// later one (the generation in selectdone).
TEST_P(Procs, TimeoutRacesWithSenders) {
    run([] {
        struct S {
            gort_chan *c;
            std::atomic<int64_t> sent{0};
            std::atomic<bool> stop{false};
            gort_wg wg{};
        } s;
        s.c = mk(sizeof(int64_t), 0);
        gort_chan *quiet = mk(sizeof(int64_t), 0);
        gort_wg_add(&s.wg, 1);
        gort_go([](void *p) {
            auto *s = static_cast<S *>(p);
            int64_t i = 1;
            while (!s->stop.load()) {
                gort_select_case k[1] = {send_case(s->c, &i)};
                int r = gort_select(k, 1, 30'000);
                if (r == 0) {
                    s->sent.fetch_add(i);
                    i++;
                    // Now and then the receiver must time out: with runnext
                    // the pair would otherwise hand off in lockstep for ever.
                    if (i % 32 == 0) gort_sleep(80'000);
                } else if (r != GORT_ETIMEDOUT) {
                    abort();
                }
            }
            gort_wg_done(&s->wg);
        }, &s, 0, nullptr);
        const int64_t rounds = scaled(20000, 1500, 5000);
        int64_t got = 0, timeouts = 0;
        for (int64_t r = 0; r < rounds; r++) {
            int64_t v = 0;
            gort_select_case k[1] = {recv_case(s.c, &v)};
            int rc = gort_select(k, 1, 20'000 + (r % 7) * 5'000);
            if (rc == 0) {
                ASSERT_EQ(k[0].ok, 1);
                got += v;
            } else {
                ASSERT_EQ(rc, GORT_ETIMEDOUT);
                timeouts++;
            }
            if (r % 16 == 0) {  // long waits: a stale timer would end them early
                int64_t t0 = gort_nanotime();
                gort_select_case q[1] = {recv_case(quiet, &v)};
                EXPECT_EQ(gort_select(q, 1, 100'000), GORT_ETIMEDOUT);
                EXPECT_GE(gort_nanotime() - t0, 100'000);
            }
        }
        s.stop = true;
        // Drain a send in flight.
        // The sender's last select ends by a receive or by its timeout.
        int64_t v;
        gort_select_case k[1] = {recv_case(s.c, &v)};
        while (gort_select(k, 1, 1'000'000) == 0) got += v;
        ASSERT_EQ(gort_wg_wait(&s.wg), GORT_OK);
        EXPECT_EQ(got, s.sent.load()) << "a value was both sent and timed out, or lost";
        EXPECT_GT(timeouts, 0);
        EXPECT_TRUE(wait_until([&] { return nwaiting(s.c) == 0; }, "sender to leave"));
        EXPECT_EQ(gort_chan_free(s.c), GORT_OK);
        EXPECT_EQ(gort_chan_free(quiet), GORT_OK);
    });
}

// A goroutine blocked in a channel operation is the runtime's to wake:
// gort_ready refuses it (it would later be woken a second time).
TEST(Select, GortReadyRefusesChannelWaiters) {
    run_main(2, [] {
        gort_chan *c = mk(sizeof(int), 0);
        static std::atomic<gort_g *> who{nullptr};
        gort_go([](void *p) {
            who = gort_self();
            int v;
            gort_chan_recv(static_cast<gort_chan *>(p), &v, nullptr);
        }, c, 0, nullptr);
        ASSERT_TRUE(wait_until([&] { return nwaiting(c) == 1; }, "receiver to block"));
        EXPECT_EQ(gort_ready(who.load()), GORT_ESTATE);
        int v = 1;
        EXPECT_EQ(gort_chan_send(c, &v), GORT_OK);
        EXPECT_TRUE(wait_until([&] { return nwaiting(c) == 0; }, "receiver to leave"));
        EXPECT_EQ(gort_chan_free(c), GORT_OK);
    });
}

// More cases than the select's on-stack order arrays hold (16).
TEST_P(Procs, ManyCases) {
    run([] {
        const int n = 40;
        std::vector<gort_chan *> cs(n);
        for (auto &c : cs) c = mk(sizeof(int), 0);
        std::vector<int> vals(n, -1);
        std::vector<gort_select_case> ks(n);
        for (int i = 0; i < n; i++) ks[i] = recv_case(cs[i], &vals[i]);
        EXPECT_EQ(gort_select(ks.data(), n, 0), GORT_EAGAIN);
        struct A {
            gort_chan *c;
        } a{cs[37]};
        gort_go([](void *p) {
            int v = 37;
            gort_chan_send(static_cast<A *>(p)->c, &v);
        }, &a, sizeof a, nullptr);
        EXPECT_EQ(gort_select(ks.data(), n, -1), 37);
        EXPECT_EQ(vals[37], 37);
        EXPECT_EQ(ks[37].ok, 1);
        for (auto *c : cs) {
            EXPECT_EQ(nwaiting(c), 0);
            EXPECT_EQ(gort_chan_free(c), GORT_OK);
        }
    });
}

// Close racing with blocked senders, plain receivers and selects: every
// goroutine ends, every successful send is received exactly once (or is
// left in the buffer), every other operation reports the close.
TEST_P(Procs, CloseRacesWithSendersAndSelects) {
    for (size_t cap : {size_t(0), size_t(1)}) {
        run([cap] {
            const int rounds = int(scaled(300, 30, 100));
            for (int r = 0; r < rounds; r++) {
                struct S {
                    gort_chan *c, *quiet;
                    std::atomic<int> sent{0}, got{0}, closed_seen{0};
                    gort_wg wg{};
                } s;
                s.c = mk(sizeof(int), cap);
                s.quiet = mk(sizeof(int), 0);
                const int ns = 4, nr = 4;
                gort_wg_add(&s.wg, ns + nr);
                for (int i = 0; i < ns; i++) {
                    gort_go([](void *p) {
                        auto *s = static_cast<S *>(p);
                        int v = 1;
                        int rc = gort_chan_send(s->c, &v);
                        if (rc == GORT_OK) s->sent++;
                        else if (rc != GORT_ECLOSED) abort();
                        gort_wg_done(&s->wg);
                    }, &s, 0, nullptr);
                }
                for (int i = 0; i < nr; i++) {
                    struct A {
                        S *s;
                        int i;
                    } a{&s, i};
                    gort_go([](void *p) {
                        auto *a = static_cast<A *>(p);
                        S *s = a->s;
                        int v = 0, ok = 0;
                        if (a->i % 2 == 0) {
                            if (gort_chan_recv(s->c, &v, &ok) != GORT_OK) abort();
                        } else {
                            gort_select_case k[2] = {recv_case(s->quiet, &v), recv_case(s->c, &v)};
                            if (gort_select(k, 2, -1) != 1) abort();
                            ok = k[1].ok;
                        }
                        if (ok) s->got += v;
                        else s->closed_seen++;
                        gort_wg_done(&s->wg);
                    }, &a, sizeof a, nullptr);
                }
                for (int y = 0; y < r % 5; y++) gort_gosched();
                ASSERT_EQ(gort_chan_close(s.c), GORT_OK);
                ASSERT_EQ(gort_wg_wait(&s.wg), GORT_OK);
                int left = 0, v, ok = 1;
                while (gort_chan_tryrecv(s.c, &v, &ok) == GORT_OK && ok) left++;
                EXPECT_EQ(s.got.load() + left, s.sent.load()) << "round " << r;
                EXPECT_EQ(s.got.load() + s.closed_seen.load(), nr);
                ASSERT_TRUE(wait_until([&] { return gort_numgoroutine() == 1; }, "goroutines to exit"));
                EXPECT_EQ(gort_chan_free(s.c), GORT_OK);
                EXPECT_EQ(gort_chan_free(s.quiet), GORT_OK);
            }
        });
    }
}
