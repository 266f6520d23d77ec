// tests/stack/stack_alloc_test.cc - the stack allocator (core/stack/stack_alloc.h):
// every order and kind, the per-P cache's refill/release, large stacks,
// the release of memory to the kernel, guard pages and canaries, the
// debug modes, and a randomized soak across 2 Ps.
#include <gort/gort.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <vector>

#include "core/sched/proc.h"
#include "core/lifecycle.h"
#include "core/stack/stack_alloc.h"
#include "tests/util/testutil.h"

using namespace gort_test;
using gort::Stack;
using gort::StackKind;

namespace {

constexpr std::size_t kPage = 4096;

void init_only(const char *debug = nullptr, int procs = 1) {
    gort_config c;
    gort_config_init(&c);
    c.maxprocs = procs;
    c.debug = debug;
    ASSERT_EQ(gort_init(&c), GORT_OK);
}

// The first byte a caller may use: execution stacks keep a guard page.
uintptr_t usable(const Stack &s, StackKind k) { return k == gort::kStackExec ? gort::stack_usable_lo(s) : s.lo; }

void fill(const Stack &s, StackKind k, uint8_t b) {
    std::memset(reinterpret_cast<void *>(usable(s, k)), b, s.hi - usable(s, k));
}

bool check(const Stack &s, StackKind k, uint8_t b) {
    for (uintptr_t p = usable(s, k); p < s.hi; p++)
        if (*reinterpret_cast<const uint8_t *>(p) != b) return false;
    return true;
}

bool resident(uintptr_t lo, std::size_t n) {
    std::vector<unsigned char> v(n / kPage);
    if (mincore(reinterpret_cast<void *>(lo), n, v.data()) != 0) return true;
    for (unsigned char c : v)
        if (c & 1) return true;
    return false;
}

// Runs fn in the main goroutine with its P pinned (as newproc1 does), so
// that stackalloc/stackfree use the P's cache.
void with_p(int procs, std::function<void(gort::P *)> fn) {
    run_main(procs, [&] {
        gort::G *g = gort::getg();
        g->m->locks++;
        fn(g->m->p);
        g->m->locks--;
    });
}

}  // namespace

TEST(StackAlloc, EveryOrderAndKindFromThePool) {
    init_only();
    // A host thread has no P: the global pool (stackpoolalloc) serves it.
    for (StackKind k : {gort::kStackExec, gort::kStackManaged}) {
        for (std::size_t n = gort::kFixedStack; n <= 512 * 1024; n *= 2) {
            if (k == gort::kStackExec && n < gort::kMinStackSize) continue;
            std::vector<Stack> v;
            for (int i = 0; i < 9; i++) {  // more than a span's worth for the small orders
                Stack s = gort::stackalloc(n, k);
                ASSERT_EQ(s.hi - s.lo, n);
                ASSERT_EQ(s.lo % gort::kFixedStack, 0u);
                fill(s, k, uint8_t(i + 1));
                for (const Stack &o : v) ASSERT_TRUE(s.hi <= o.lo || o.hi <= s.lo) << "overlapping stacks of " << n;
                v.push_back(s);
            }
            for (std::size_t i = 0; i < v.size(); i++) {
                ASSERT_TRUE(check(v[i], k, uint8_t(i + 1))) << "stack of " << n << " bytes was overwritten";
                gort::stackfree(v[i], k);
            }
        }
    }
    gort::StackStats st = gort::stack_stats();
    EXPECT_EQ(st.exec_in_use, 0u);
    EXPECT_EQ(st.managed_in_use, 0u);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

TEST(StackAlloc, CacheRefillAndReleaseByHalf) {
    with_p(1, [](gort::P *pp) {
        gort::stackcache_clear(pp);  // the main goroutine's stack came through it
        for (StackKind k : {gort::kStackExec, gort::kStackManaged}) {
            for (int order = 0; order < gort::kNumStackOrders; order++) {
                std::size_t n = std::size_t(gort::kFixedStack) << order;
                if (k == gort::kStackExec && n < gort::kMinStackSize) continue;
                gort::StackFreeList &c = pp->stackcache[k][order];
                ASSERT_EQ(c.size, 0u);
                Stack s = gort::stackalloc(n, k);
                // refill grabbed half the capacity; we took one.
                EXPECT_EQ(c.size, gort::kStackCacheSize / 2 - n) << "order " << order;
                std::vector<Stack> v{s};
                gort::stackfree(s, k);
                EXPECT_EQ(c.size, gort::kStackCacheSize / 2);
                // Fill the cache past its capacity: release brings it back
                // to half, never above kStackCacheSize.
                std::size_t count = 3 * gort::kStackCacheSize / n;
                v.clear();
                for (std::size_t i = 0; i < count; i++) v.push_back(gort::stackalloc(n, k));
                for (const Stack &x : v) {
                    gort::stackfree(x, k);
                    ASSERT_LE(c.size, gort::kStackCacheSize + n);
                }
                EXPECT_GE(c.size, gort::kStackCacheSize / 2);
                EXPECT_LE(c.size, gort::kStackCacheSize + n);
            }
        }
        gort::stackcache_clear(pp);
        for (auto &kind : pp->stackcache)
            for (auto &c : kind) EXPECT_EQ(c.list, 0u);
    });
}

TEST(StackAlloc, LargeStacksAndMemoryGoesBackToTheKernel) {
    init_only();
    for (StackKind k : {gort::kStackExec, gort::kStackManaged}) {
        for (std::size_t n : {std::size_t(128) << 10, std::size_t(1) << 20, std::size_t(16) << 20}) {
            Stack s = gort::stackalloc(n, k);
            ASSERT_EQ(s.hi - s.lo, n);
            fill(s, k, 0x5a);
            ASSERT_TRUE(check(s, k, 0x5a));
            ASSERT_TRUE(resident(usable(s, k), s.hi - usable(s, k)));
            gort::stackfree(s, k);
            EXPECT_FALSE(resident(usable(s, k), s.hi - usable(s, k)))
                << n << "-byte stack: pages not given back on free";
            // Reused for the same size.
            Stack t = gort::stackalloc(n, k);
            EXPECT_EQ(t.lo, s.lo);
            fill(t, k, 0x33);
            gort::stackfree(t, k);
        }
    }
    // A span of small stacks gives its pages back when its last stack is
    // freed (4 x 64 KiB = one 256 KiB span, from the global pool).
    std::vector<Stack> v;
    for (int i = 0; i < 4; i++) {
        v.push_back(gort::stackalloc(64 * 1024, gort::kStackExec));
        fill(v.back(), gort::kStackExec, 1);
    }
    for (const Stack &s : v) gort::stackfree(s, gort::kStackExec);
    for (const Stack &s : v)
        EXPECT_FALSE(resident(gort::stack_usable_lo(s), s.hi - gort::stack_usable_lo(s)))
            << "a wholly free span keeps its pages";
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

TEST(StackAlloc, ExecutionStacksAreGuardedByDefault) {
    init_only();
    Stack s = gort::stackalloc(64 * 1024, gort::kStackExec);
    gort::StackStats st = gort::stack_stats();
    EXPECT_NE(st.guard_mode, 0) << "no guard page on the default settings";
    EXPECT_EQ(st.exec_unguarded, 0u);
    EXPECT_EQ(st.exec_in_use, 1u);
    // The guard page faults; the usable part does not. (The handler says
    // which goroutine; here no goroutine runs, so the fault is "another
    // goroutine's stack".)
    EXPECT_DEATH(*reinterpret_cast<volatile char *>(s.lo + 100) = 1,
                 "gort: fatal error: fault in the guard page of another goroutine's stack");
    *reinterpret_cast<volatile char *>(gort::stack_usable_lo(s)) = 1;
    gort::G g;
    g.stack = s;
    gort::stack_initcanary(&g);
    EXPECT_EQ(g.stackcanary, 0u) << "a guarded stack needs no canary";
    gort::stackfree(s, gort::kStackExec);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

TEST(StackAlloc, StackguardZeroGivesCanaries) {
    init_only("stackguard=0");
    Stack s = gort::stackalloc(64 * 1024, gort::kStackExec);
    gort::StackStats st = gort::stack_stats();
    EXPECT_EQ(st.exec_unguarded, 1u);
    *reinterpret_cast<volatile char *>(s.lo + 100) = 1;  // no guard page
    gort::G g;
    g.stack = s;
    g.goid = 77;
    gort::stack_initcanary(&g);
    ASSERT_EQ(g.stackcanary, gort::stack_usable_lo(s));
    gort::stack_checkcanary(&g);  // intact
    reinterpret_cast<volatile char *>(g.stackcanary)[5] = 0;
    EXPECT_DEATH(gort::stack_checkcanary(&g), "gort: fatal error: stack overflow in goroutine 77 \\(stack size 65536\\)");
    gort::stackfree(s, gort::kStackExec);
    EXPECT_EQ(gort::stack_stats().exec_unguarded, 0u);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

TEST(StackAlloc, MprotectGuardsStayWithinTheVmaBudget) {
    init_only("stackguard=2");  // the path of kernels without MADV_GUARD_INSTALL
    Stack probe = gort::stackalloc(64 * 1024, gort::kStackExec);
    ASSERT_EQ(gort::stack_stats().guard_mode, 2);
    EXPECT_DEATH(*reinterpret_cast<volatile char *>(probe.lo) = 1, "fault in the guard page");
    // Allocate until the budget (a quarter of vm.max_map_count) is spent:
    // later stacks come unguarded, with canaries.
    std::vector<Stack> v{probe};
    while (gort::stack_stats().exec_unguarded == 0 && v.size() < 100000)
        v.push_back(gort::stackalloc(64 * 1024, gort::kStackExec));
    gort::StackStats st = gort::stack_stats();
    EXPECT_GT(st.exec_unguarded, 0u) << "the mprotect budget never ran out";
    long maxmap = 65530;
    if (FILE *f = fopen("/proc/sys/vm/max_map_count", "r")) {
        if (fscanf(f, "%ld", &maxmap) != 1) maxmap = 65530;
        fclose(f);
    }
    EXPECT_LE(st.guard_vmas, std::size_t(maxmap) / 4);
    for (const Stack &s : v) gort::stackfree(s, gort::kStackExec);
    EXPECT_EQ(gort::stack_stats().guard_vmas, 0u) << "freed spans keep their guards";
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

TEST(StackAlloc, EfenceGivesAMappingPerStackAndFaultsOnFree) {
    init_only("efence=1");
    Stack s = gort::stackalloc(gort::kFixedStack, gort::kStackManaged);
    Stack t = gort::stackalloc(gort::kFixedStack, gort::kStackManaged);
    fill(s, gort::kStackManaged, 7);
    EXPECT_EQ(s.lo % kPage, 0u);
    EXPECT_EQ(t.lo % kPage, 0u) << "efence stacks are not carved from spans";
    gort::stackfree(s, gort::kStackManaged);
    EXPECT_DEATH(*reinterpret_cast<volatile char *>(s.lo) = 1, "");
    gort::stackfree(t, gort::kStackManaged);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

TEST(StackAlloc, StackdebugLogs) {
    init_only("stackdebug=1");
    testing::internal::CaptureStderr();
    Stack s = gort::stackalloc(gort::kFixedStack, gort::kStackManaged);
    gort::stackfree(s, gort::kStackManaged);
    std::string log = testing::internal::GetCapturedStderr();
    EXPECT_NE(log.find("stackalloc 0x0 2048"), std::string::npos) << log;
    EXPECT_NE(log.find("stackfree 0x"), std::string::npos) << log;
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// Randomized alloc/free on 2 Ps at once, every usable byte of every stack
// written and checked, stacks handed between the Ps (freed into the other
// P's cache).
TEST(StackAlloc, RandomizedSoakAcrossTwoPs) {
    const int64_t iters = scaled(40000, 4000, 8000);
    struct Shared {
        std::mutex mu;
        std::vector<std::pair<Stack, int>> exchange;  // (stack, kind | pattern << 8)
        std::atomic<int64_t> allocated{0};
        std::atomic<bool> bad{false};
    } sh;
    run_main(2, [&] {
        Join j(2);
        struct Arg {
            Shared *sh;
            Join *j;
            int seed;
            int64_t iters;
        };
        auto worker = [](void *p) {
            Arg *a = static_cast<Arg *>(p);
            std::mt19937 rng(a->seed);
            std::vector<std::pair<Stack, int>> live;
            auto release = [&](std::pair<Stack, int> e) {
                StackKind k = StackKind(e.second & 0xff);
                if (!check(e.first, k, uint8_t(e.second >> 8))) a->sh->bad = true;
                gort::G *g = gort::getg();
                g->m->locks++;
                gort::stackfree(e.first, k);
                g->m->locks--;
            };
            for (int64_t i = 0; i < a->iters; i++) {
                unsigned r = rng();
                if (live.size() < 64 && (r & 1)) {
                    StackKind k = (r >> 1) & 1 ? gort::kStackExec : gort::kStackManaged;
                    int maxlog = (r >> 2) % 16 == 0 ? 18 : 16;  // mostly cached sizes, some large
                    int minlog = k == gort::kStackExec ? 14 : 11;
                    std::size_t n = std::size_t(1) << (minlog + int((r >> 6) % unsigned(maxlog - minlog + 1)));
                    gort::G *g = gort::getg();
                    g->m->locks++;
                    Stack s = gort::stackalloc(n, k);
                    g->m->locks--;
                    int pat = int((r >> 12) & 0xff);
                    fill(s, k, uint8_t(pat));
                    live.push_back({s, int(k) | pat << 8});
                    a->sh->allocated++;
                } else if (!live.empty()) {
                    std::size_t idx = rng() % live.size();
                    auto e = live[idx];
                    live[idx] = live.back();
                    live.pop_back();
                    if ((r >> 3) % 4 == 0) {
                        // Hand it to the other P; free one it handed us.
                        std::pair<Stack, int> other{Stack{}, 0};
                        {
                            std::lock_guard<std::mutex> l(a->sh->mu);
                            a->sh->exchange.push_back(e);
                            if (a->sh->exchange.size() > 1) {
                                other = a->sh->exchange.front();
                                a->sh->exchange.erase(a->sh->exchange.begin());
                            }
                        }
                        if (other.first.lo != 0) release(other);
                    } else {
                        release(e);
                    }
                }
                if (i % 256 == 0) gort_gosched();
            }
            for (auto &e : live) release(e);
            a->j->done();
        };
        Arg a1{&sh, &j, 1, iters}, a2{&sh, &j, 2, iters};
        gort_go(worker, &a1, 0, nullptr);
        gort_go(worker, &a2, 0, nullptr);
        j.wait();
        gort::G *g = gort::getg();
        g->m->locks++;
        for (auto &e : sh.exchange) {
            if (!check(e.first, StackKind(e.second & 0xff), uint8_t(e.second >> 8))) sh.bad = true;
            gort::stackfree(e.first, StackKind(e.second & 0xff));
        }
        g->m->locks--;
        // Only the goroutines' own execution stacks are left.
        gort::StackStats st = gort::stack_stats();
        EXPECT_EQ(st.managed_in_use, 0u);
    });
    EXPECT_FALSE(sh.bad.load()) << "a stack's bytes changed while it was allocated (overlap or reuse)";
    EXPECT_GT(sh.allocated.load(), iters / 2);
}

// Guard pages must not cost scale (docs/DESIGN.md §4): parked goroutines share a
// handful of VMAs whatever their number, far under vm.max_map_count.
// (bench/stack_bench parks 1,000,000.)
TEST(StackAlloc, ParkedGoroutinesShareVmas) {
    const int64_t n = scaled(100000, 2000, 20000);
    auto vmas = [] {
        long c = 0;
        if (FILE *f = fopen("/proc/self/maps", "r")) {
            int ch;
            while ((ch = fgetc(f)) != EOF) c += ch == '\n';
            fclose(f);
        }
        return c;
    };
    run_main(2, [&] {
        static std::atomic<int64_t> parked;
        parked = 0;
        long before = vmas();
        for (int64_t i = 0; i < n; i++)
            ASSERT_EQ(gort_go([](void *) {
                gort_park([](gort_g *, void *) -> int {
                    parked.fetch_add(1, std::memory_order_relaxed);
                    return 1;
                }, nullptr, "parked");
            }, nullptr, 0, nullptr), GORT_OK);
        while (parked.load() < n) gort_gosched();
        long after = vmas();
        gort_stack_stats st;
        st.size = sizeof st;
        ASSERT_EQ(gort_stack_stats_get(&st), GORT_OK);
        EXPECT_GE(st.exec_stacks, uint64_t(n));
        if (!kASan) EXPECT_EQ(st.exec_unguarded, 0u) << "guard mode " << st.guard_mode;
        // 64 KiB stacks: n / 16384 arenas of 1 GiB (rounded up), one VMA
        // each, plus a few for new threads. (TSan maps memory of its own for
        // every fiber; ASan's guards are mprotect'ed, within the budget.)
        if (!kTSan)
            EXPECT_LT(after - before, 16 + (n + 16383) / 16384 + (kASan ? 20000 : 0))
                << before << " -> " << after << " VMAs";
        std::printf("%lld parked goroutines: %ld -> %ld VMAs, %llu arenas\n", (long long)n, before, after,
                    (unsigned long long)st.arenas);
    });
}
