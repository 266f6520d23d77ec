// tests/wait/sync_test.cc - gort_mutex (mutual exclusion, starvation mode,
// errors), gort_cond (signal order, broadcast), gort_wg, and the runtime
// semaphore; races under contention.
#include <gort/gort.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/wait/sync.h"
#include "tests/util/runtime_test.h"
#include "tests/util/testutil.h"
#include "tests/util/wait_until.h"

using namespace gort_test;

namespace {

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Number of goroutines on a cond's wait list (test-only peek, under its lock).
int cond_waiters(gort_cond *c) {
    auto *l = reinterpret_cast<gort::notifyList *>(c);
    gort::lockWithRank(&l->lock, gort::kRankNotifyList);  // host memory: ranked here
    int n = 0;
    for (gort::sudog *s = l->head; s != nullptr; s = s->next) n++;
    gort::unlock(&l->lock);
    return n;
}

int32_t mutex_state(gort_mutex *m) { return reinterpret_cast<gort::Mutex *>(m)->state.load(std::memory_order_seq_cst); }
constexpr int32_t kStarving = 4;

// Scenarios that hold at any P count: RuntimeTest (tests/util/runtime_test.h)
// over {1, 2, 4, 8} Ps, with its leak checks.
using Procs = RuntimeTest;

}  // namespace

GORT_INSTANTIATE_PROCS(Sync, Procs);

TEST(Sync, Errors) {
    gort_mutex m{};
    EXPECT_EQ(gort_mutex_lock(&m), GORT_ENOTINIT);
    run_main(1, [] {
        gort_mutex m{};
        EXPECT_EQ(gort_mutex_lock(nullptr), GORT_EINVAL);
        EXPECT_EQ(gort_mutex_unlock(&m), GORT_ESTATE) << "unlock of an unlocked mutex";
        EXPECT_EQ(mutex_state(&m), 0);
        EXPECT_EQ(gort_mutex_lock(&m), GORT_OK);
        EXPECT_EQ(gort_mutex_trylock(&m), GORT_EBUSY);
        EXPECT_EQ(gort_mutex_unlock(&m), GORT_OK);
        EXPECT_EQ(gort_mutex_unlock(&m), GORT_ESTATE);
        EXPECT_EQ(gort_mutex_trylock(&m), GORT_OK);
        gort_cond c{};
        EXPECT_EQ(gort_cond_wait(&c, nullptr), GORT_EINVAL);
        EXPECT_EQ(gort_cond_signal(nullptr), GORT_EINVAL);
        gort_mutex unlocked{};
        EXPECT_EQ(gort_cond_wait(&c, &unlocked), GORT_ESTATE);
        gort_wg w{};
        EXPECT_EQ(gort_wg_done(&w), GORT_ESTATE) << "negative WaitGroup counter";
        EXPECT_EQ(gort_wg_add(&w, -3), GORT_ESTATE);
        EXPECT_EQ(gort_wg_wait(&w), GORT_OK);  // counter 0: returns at once
        EXPECT_EQ(gort_wg_add(&w, 2), GORT_OK);
        EXPECT_EQ(gort_wg_add(&w, -3), GORT_ESTATE);
        EXPECT_EQ(gort_wg_add(&w, -2), GORT_OK);
        EXPECT_EQ(gort_wg_add(&w, INT32_MAX), GORT_OK);
        EXPECT_EQ(gort_wg_add(&w, 1), GORT_ESTATE) << "counter overflow";
        EXPECT_EQ(gort_wg_add(&w, -INT32_MAX), GORT_OK);
        EXPECT_EQ(gort_wg_add(nullptr, 1), GORT_EINVAL);
        alignas(4) unsigned char buf[8] = {};
        EXPECT_EQ(gort_semacquire(nullptr), GORT_EINVAL);
        EXPECT_EQ(gort_semrelease(reinterpret_cast<uint32_t *>(buf + 1)), GORT_EINVAL);
        // From a host thread: blocking calls refuse, the others work.
        std::thread t([&m, &w] {
            EXPECT_EQ(gort_mutex_lock(&m), GORT_ENOTG);
            EXPECT_EQ(gort_mutex_unlock(&m), GORT_OK);  // a mutex is not tied to a goroutine
            EXPECT_EQ(gort_mutex_trylock(&m), GORT_OK);
            EXPECT_EQ(gort_wg_wait(&w), GORT_ENOTG);
            EXPECT_EQ(gort_wg_add(&w, 1), GORT_OK);
            EXPECT_EQ(gort_wg_done(&w), GORT_OK);
            uint32_t sem = 0;
            EXPECT_EQ(gort_semacquire(&sem), GORT_ENOTG);
            EXPECT_EQ(gort_semrelease(&sem), GORT_OK);
            EXPECT_EQ(sem, 1u);
        });
        gort_entersyscall();
        t.join();
        gort_exitsyscall();
        EXPECT_EQ(gort_mutex_unlock(&m), GORT_OK);
    });
}

// N goroutines increment a plain counter under the mutex, yielding inside the
// critical section so that others pile up on it.
TEST_P(Procs, MutexMutualExclusion) {
    run([] {
        struct S {
            gort_mutex m{};
            int64_t counter = 0;  // plain: TSan reports any unprotected access
            int inside = 0;
            gort_wg wg{};
            bool overlap = false;
        } s;
        const int ng = 8;
        static const int64_t per = scaled(20000, 500, 4000);
        gort_wg_add(&s.wg, ng);
        for (int g = 0; g < ng; g++) {
            gort_go([](void *p) {
                auto *s = static_cast<S *>(p);
                for (int64_t i = 0; i < per; i++) {
                    gort_mutex_lock(&s->m);
                    if (s->inside++ != 0) s->overlap = true;
                    s->counter++;
                    if (i % 64 == 0) gort_gosched();
                    s->inside--;
                    gort_mutex_unlock(&s->m);
                }
                gort_wg_done(&s->wg);
            }, &s, 0, nullptr);
        }
        ASSERT_EQ(gort_wg_wait(&s.wg), GORT_OK);
        EXPECT_FALSE(s.overlap) << "two goroutines inside the critical section";
        EXPECT_EQ(s.counter, ng * per);
        EXPECT_EQ(mutex_state(&s.m), 0);
    });
}

// Starvation mode, deterministically on one P: the hog holds the mutex
// except for an unlock immediately followed by a re-lock, and yields only
// while holding it. So the waiter only ever runs while the mutex is held: in
// normal mode it is woken, loses, and queues again (at the front) for ever.
// Once it has waited more than 1 ms it sets starvation mode, and the hog's
// next unlock hands the mutex over to it directly: the hog's following lock
// returns only after the waiter has had the mutex.
TEST(Sync, MutexStarvationMode) {
    run_main(1, [] {
        struct S {
            gort_mutex m{};
            bool waiter_got = false;  // under m
            int64_t waited_ns = 0;
            int hog_unlocks_starving = 0, handoffs = 0;
            gort_wg wg{};
        } s;
        gort_wg_add(&s.wg, 2);
        gort_go([](void *p) {  // the hog
            auto *s = static_cast<S *>(p);
            gort_mutex_lock(&s->m);
            gort_go([](void *p) {  // the waiter
                auto *s = static_cast<S *>(p);
                int64_t t0 = now_ns();
                gort_mutex_lock(&s->m);
                s->waited_ns = now_ns() - t0;
                s->waiter_got = true;
                gort_mutex_unlock(&s->m);
                gort_wg_done(&s->wg);
            }, s, 0, nullptr);
            int64_t deadline = now_ns() + 30'000'000'000;
            while (!s->waiter_got && now_ns() < deadline) {
                gort_gosched();  // the waiter runs only here, with the mutex held
                int64_t t = now_ns();
                while (now_ns() - t < 100'000) {
                }  // hold it 100 us
                bool starving = (mutex_state(&s->m) & kStarving) != 0;
                if (starving) s->hog_unlocks_starving++;
                gort_mutex_unlock(&s->m);
                gort_mutex_lock(&s->m);
                if (starving && s->waiter_got) s->handoffs++;
            }
            gort_mutex_unlock(&s->m);
            gort_wg_done(&s->wg);
        }, &s, 0, nullptr);
        ASSERT_EQ(gort_wg_wait(&s.wg), GORT_OK);
        EXPECT_TRUE(s.waiter_got) << "the waiter starved for 30 s";
        EXPECT_GE(s.waited_ns, 1'000'000) << "it cannot get the mutex before starvation mode (1 ms)";
        EXPECT_EQ(s.hog_unlocks_starving, 1) << "the first unlock in starvation mode must hand the mutex over";
        EXPECT_EQ(s.handoffs, 1);
        EXPECT_EQ(mutex_state(&s.m), 0) << "starvation mode not left with the last waiter";
    });
}

// Signal wakes the longest waiter, one at a time; broadcast wakes the rest.
TEST_P(Procs, CondSignalOrderAndBroadcast) {
    run([] {
        struct S {
            gort_mutex m{};
            gort_cond c{};
            int tokens = 0;       // under m
            int go_all = 0;       // under m
            gort_chan *woke;
        } s;
        ASSERT_EQ(gort_chan_new(sizeof(int), 16, &s.woke), GORT_OK);
        const int n = 6;
        struct A {
            S *s;
            int i;
        };
        for (int i = 0; i < n; i++) {
            A a{&s, i};
            gort_go([](void *p) {
                auto *a = static_cast<A *>(p);
                S *s = a->s;
                gort_mutex_lock(&s->m);
                while (s->tokens == 0 && !s->go_all) gort_cond_wait(&s->c, &s->m);
                if (!s->go_all) s->tokens--;
                gort_mutex_unlock(&s->m);
                gort_chan_send(s->woke, &a->i);
            }, &a, sizeof a, nullptr);
            ASSERT_TRUE(wait_until([&] { return cond_waiters(&s.c) == i + 1; }, "waiter to park"));
        }
        for (int i = 0; i < 3; i++) {
            gort_mutex_lock(&s.m);
            s.tokens++;
            gort_mutex_unlock(&s.m);
            ASSERT_EQ(gort_cond_signal(&s.c), GORT_OK);
            int who = -1;
            ASSERT_EQ(gort_chan_recv(s.woke, &who, nullptr), GORT_OK);
            EXPECT_EQ(who, i) << "signal must wake the longest waiter";
            EXPECT_EQ(cond_waiters(&s.c), n - 1 - i) << "signal woke more than one";
        }
        gort_mutex_lock(&s.m);
        s.go_all = 1;
        gort_mutex_unlock(&s.m);
        ASSERT_EQ(gort_cond_broadcast(&s.c), GORT_OK);
        for (int i = 3; i < n; i++) {
            int who = -1;
            ASSERT_EQ(gort_chan_recv(s.woke, &who, nullptr), GORT_OK);
        }
        EXPECT_EQ(cond_waiters(&s.c), 0);
        EXPECT_EQ(gort_cond_signal(&s.c), GORT_OK);  // no waiters: no-op
        ASSERT_TRUE(wait_until([&] { return gort_numgoroutine() == 1; }, "waiters to exit"));
        EXPECT_EQ(gort_chan_free(s.woke), GORT_OK);
    });
}

// A bounded queue on mutex + two conds, many producers and consumers.
TEST_P(Procs, CondProducerConsumerRace) {
    run([] {
        struct Q {
            gort_mutex m{};
            gort_cond notfull{}, notempty{};
            int64_t buf[4];
            int head = 0, len = 0;
            int64_t sum = 0;
            gort_wg wg{};
        } q;
        const int np = 4;
        static const int64_t per = scaled(10000, 300, 2500);
        gort_wg_add(&q.wg, 2 * np);
        for (int p = 0; p < np; p++) {
            gort_go([](void *a) {
                auto *q = static_cast<Q *>(a);
                for (int64_t i = 1; i <= per; i++) {
                    gort_mutex_lock(&q->m);
                    while (q->len == 4) gort_cond_wait(&q->notfull, &q->m);
                    q->buf[(q->head + q->len++) % 4] = i;
                    gort_cond_signal(&q->notempty);
                    gort_mutex_unlock(&q->m);
                }
                gort_wg_done(&q->wg);
            }, &q, 0, nullptr);
            gort_go([](void *a) {
                auto *q = static_cast<Q *>(a);
                for (int64_t i = 1; i <= per; i++) {
                    gort_mutex_lock(&q->m);
                    while (q->len == 0) gort_cond_wait(&q->notempty, &q->m);
                    q->sum += q->buf[q->head];
                    q->head = (q->head + 1) % 4;
                    q->len--;
                    gort_cond_signal(&q->notfull);
                    gort_mutex_unlock(&q->m);
                }
                gort_wg_done(&q->wg);
            }, &q, 0, nullptr);
        }
        ASSERT_EQ(gort_wg_wait(&q.wg), GORT_OK);
        EXPECT_EQ(q.sum, np * per * (per + 1) / 2);
    });
}

TEST_P(Procs, WaitGroupReleasesAllWaiters) {
    run([] {
        for (int round = 0; round < int(scaled(200, 30, 60)); round++) {
            struct S {
                gort_wg wg{}, waiters{};
                std::atomic<int> done{0}, released{0};
            } s;
            const int nw = 3, nd = 10;
            gort_wg_add(&s.wg, nd);
            gort_wg_add(&s.waiters, nw);
            for (int i = 0; i < nw; i++) {
                gort_go([](void *p) {
                    auto *s = static_cast<S *>(p);
                    if (gort_wg_wait(&s->wg) != GORT_OK) abort();
                    // Released only after every done.
                    if (s->done.load() != nd) abort();
                    s->released++;
                    gort_wg_done(&s->waiters);
                }, &s, 0, nullptr);
            }
            for (int i = 0; i < nd; i++) {
                gort_go([](void *p) {
                    auto *s = static_cast<S *>(p);
                    s->done++;
                    gort_wg_done(&s->wg);
                }, &s, 0, nullptr);
            }
            ASSERT_EQ(gort_wg_wait(&s.waiters), GORT_OK);
            EXPECT_EQ(s.released.load(), nw);
            // Let the waiters' last accesses finish before s goes away.
            ASSERT_TRUE(wait_until([&] { return gort_numgoroutine() == 1; }, "goroutines to exit"));
        }
    });
}

// The runtime semaphore: acquire waits for a release; waiters are served in
// FIFO order; a release from a host thread wakes a goroutine.
TEST_P(Procs, Semaphore) {
    run([] {
        alignas(4) static uint32_t sem;
        sem = 2;
        ASSERT_EQ(gort_semacquire(&sem), GORT_OK);
        ASSERT_EQ(gort_semacquire(&sem), GORT_OK);
        EXPECT_EQ(sem, 0u);
        gort_chan *order;
        ASSERT_EQ(gort_chan_new(sizeof(int), 8, &order), GORT_OK);
        struct A {
            gort_chan *order;
            int i;
        };
        const int n = 5;
        for (int i = 0; i < n; i++) {
            A a{order, i};
            gort_go([](void *p) {
                auto *a = static_cast<A *>(p);
                gort_semacquire(&sem);
                gort_chan_send(a->order, &a->i);
            }, &a, sizeof a, nullptr);
            // Waiter i queued before waiter i+1 starts.
            ASSERT_TRUE(wait_until([&] { return gort::sema_waiters(&sem) == i + 1; }, "waiter to park"));
        }
        for (int i = 0; i < n; i++) {
            if (i == n - 1) {
                std::thread t([] { EXPECT_EQ(gort_semrelease(&sem), GORT_OK); });
                gort_entersyscall();
                t.join();
                gort_exitsyscall();
            } else {
                ASSERT_EQ(gort_semrelease(&sem), GORT_OK);
            }
            int who = -1;
            ASSERT_EQ(gort_chan_recv(order, &who, nullptr), GORT_OK);
            EXPECT_EQ(who, i) << "semaphore waiters not woken in FIFO order";
        }
        EXPECT_EQ(sem, 0u);
        ASSERT_TRUE(wait_until([&] { return gort_numgoroutine() == 1; }, "waiters to exit"));
        EXPECT_EQ(gort_chan_free(order), GORT_OK);
    });
}
