// tests/stack/stack_limits_test.cc - the stack allocator at the process's
// limits (core/stack/stack_alloc.cc): address space exhausted under
// RLIMIT_AS makes gort_go answer GORT_ENOMEM and the runtime keep running;
// VMAs exhausted by the host make mprotect guards fall back to the canary
// instead of a fatal error. Each scenario runs in a child process (the
// limits are the process's), which prints "ok" on success.
#include <gort/gort.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tests/util/testutil.h"

using namespace gort_test;

namespace {

// Address space in use (VmSize), in bytes.
std::size_t vmsize() {
    std::size_t kb = 0;
    if (FILE *f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::sscanf(line, "VmSize: %zu kB", &kb) == 1) break;
        std::fclose(f);
    }
    return kb * 1024;
}

long count_vmas() {
    long n = 0;
    if (FILE *f = std::fopen("/proc/self/maps", "r")) {
        for (int c; (c = std::getc(f)) != EOF;)
            if (c == '\n') n++;
        std::fclose(f);
    }
    return n;
}

void die(const char *what) {
    std::fprintf(stderr, "child: %s\n", what);
    std::_Exit(1);
}

std::atomic<int> parked{0};
std::atomic<bool> release{false};
std::vector<gort_g *> *parked_gs;
std::atomic_flag gs_lock = ATOMIC_FLAG_INIT;

void park_until_released(void *) {
    gort_park(
        [](gort_g *g, void *) -> int {
            while (gs_lock.test_and_set(std::memory_order_acquire)) {
            }
            parked_gs->push_back(g);
            gs_lock.clear(std::memory_order_release);
            parked.fetch_add(1, std::memory_order_release);
            return 1;
        },
        nullptr, "test: parked");
}

// The child of AddressSpaceExhaustedIsENOMEM: spawns parked goroutines
// under RLIMIT_AS until gort_go answers GORT_ENOMEM, then releases them and
// spawns again.
void enomem_child() {
    std::vector<gort_g *> gs;
    gs.reserve(1 << 20);
    parked_gs = &gs;
    gort_config c;
    gort_config_init(&c);
    c.maxprocs = 1;
    if (gort_init(&c) != GORT_OK) die("gort_init");
    int rc = gort_main(
        [](void *) {
            // 768 MiB above what is mapped now: stacks of 64 KiB run out
            // after about 12,000 goroutines (fewer: thread stacks, heap).
            struct rlimit rl;
            rl.rlim_cur = rl.rlim_max = vmsize() + (std::size_t(768) << 20);
            if (setrlimit(RLIMIT_AS, &rl) != 0) die("setrlimit");
            long ok = 0;
            int last = GORT_OK;
            for (long i = 0; i < 1000000; i++) {
                last = gort_go(park_until_released, nullptr, 0, nullptr);
                if (last != GORT_OK) break;
                ok++;
                while (parked.load(std::memory_order_acquire) < ok) gort_gosched();
            }
            if (last != GORT_ENOMEM) {
                std::fprintf(stderr, "child: gort_go answered %d after %ld goroutines\n", last, ok);
                std::_Exit(1);
            }
            if (ok < 1000) die("fewer than 1,000 goroutines before GORT_ENOMEM");
            // The runtime goes on: the parked goroutines are readied and
            // finish, and new ones can be spawned in their place.
            for (gort_g *g : *parked_gs)
                if (gort_ready(g) != GORT_OK) die("gort_ready of a parked goroutine");
            while (gort_numgoroutine() > 1) gort_gosched();
            std::atomic<int> ran{0};
            for (int i = 0; i < 100; i++)
                if (gort_go([](void *p) { static_cast<std::atomic<int> *>(p)->fetch_add(1); }, &ran, 0, nullptr) !=
                    GORT_OK)
                    die("gort_go after the goroutines were freed");
            while (ran.load() < 100) gort_gosched();
            std::fprintf(stderr, "child: %ld goroutines, then GORT_ENOMEM; ok\n", ok);
        },
        nullptr);
    if (rc != GORT_OK) die("gort_main");
    gort_shutdown();
    std::_Exit(0);
}

TEST(StackLimitsDeathTest, AddressSpaceExhaustedIsENOMEM) {
    if (kASan || kTSan) GTEST_SKIP() << "sanitizers reserve terabytes of shadow: RLIMIT_AS cannot be set";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(enomem_child(), ::testing::ExitedWithCode(0), "GORT_ENOMEM; ok");
}

// The child of VmasExhaustedFallsBackToCanary: after gort_init (so the
// guard budget was computed with VMAs to spare), the host maps pages of
// alternating protection (no two merge) until only ~2,000 VMAs are left;
// then goroutines are spawned with mprotect guards (stackguard=2): the
// kernel refuses guards, and the stacks must carry the canary instead.
void eat_vmas() {
    long maxmap = 65530;
    if (FILE *f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
        if (std::fscanf(f, "%ld", &maxmap) != 1) maxmap = 65530;
        std::fclose(f);
    }
    long want = maxmap - 2000 - count_vmas();
    if (want > 0) {
        std::size_t bytes = std::size_t(want) * 4096;
        char *p = static_cast<char *>(
            mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
        if (p == MAP_FAILED) die("mmap");
        for (long i = 1; i < want; i += 2)
            if (mprotect(p + i * 4096, 4096, PROT_READ) != 0) break;
    }
    std::fprintf(stderr, "child: %ld of %ld VMAs in use\n", count_vmas(), maxmap);
}

long vma_spawn;

void vma_child(long spawn) {
    gort_config c;
    gort_config_init(&c);
    c.maxprocs = 2;
    c.debug = "stackguard=2";
    if (gort_init(&c) != GORT_OK) die("gort_init");
    vma_spawn = spawn;
    int rc = gort_main(
        [](void *) {
            eat_vmas();
            long n = vma_spawn;
            std::vector<gort_g *> gs;
            gs.reserve(std::size_t(n));
            parked_gs = &gs;
            for (long i = 0; i < n; i++)
                if (gort_go(park_until_released, nullptr, 0, nullptr) != GORT_OK) die("gort_go");
            while (parked.load(std::memory_order_acquire) < n) gort_gosched();
            gort_stack_stats st;
            st.size = sizeof st;
            if (gort_stack_stats_get(&st) != GORT_OK) die("gort_stack_stats_get");
            if (st.exec_unguarded == 0) die("every stack guarded although VMAs ran out");
            for (gort_g *g : gs)
                if (gort_ready(g) != GORT_OK) die("gort_ready");
            while (gort_numgoroutine() > 1) gort_gosched();
            std::fprintf(stderr, "child: %llu of %llu stacks unguarded (canary), %llu guard VMAs; ok\n",
                         (unsigned long long)st.exec_unguarded, (unsigned long long)st.exec_stacks,
                         (unsigned long long)st.guard_vmas);
        },
        nullptr);
    if (rc != GORT_OK) die("gort_main");
    gort_shutdown();
    std::_Exit(0);
}

TEST(StackLimitsDeathTest, VmasExhaustedFallsBackToCanary) {
    if (kTSan) GTEST_SKIP() << "TSan maps memory per fiber: the VMA count is not the test's to control";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(vma_child(scaled(5000, 500, 5000)), ::testing::ExitedWithCode(0), "unguarded \\(canary\\).*ok");
}

}  // namespace
