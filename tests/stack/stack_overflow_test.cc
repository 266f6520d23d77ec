// tests/stack/stack_overflow_test.cc - overflowing an execution stack, in a child
// process: with guard pages (the SIGSEGV handler on the alternate signal
// stack) and without (the canary checked at switch-out), the exact message
// and goroutine id; and faults that are not ours reach the host's handler.
#include <gort/gort.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "core/sched/runtime2.h"
#include "core/stack/stack_alloc.h"
#include "tests/util/testutil.h"

using namespace gort_test;

namespace {

// Recurses until the stack overflows (each frame writes its whole buffer).
[[gnu::noinline]] int recurse(int n) {
    volatile char buf[512];
    for (std::size_t i = 0; i < sizeof buf; i++) buf[i] = char(n);
    return recurse(n + 1) + buf[n % 512];
}

// Recurses until the sp is `below` bytes under the canary's address, then
// returns: a bounded overflow that overwrites the canary (and the unguarded
// page under it) but nothing else.
[[gnu::noinline]] int recurse_to(uintptr_t limit, int n) {
    volatile char buf[256];
    for (std::size_t i = 0; i < sizeof buf; i++) buf[i] = char(n);
    if (reinterpret_cast<uintptr_t>(&buf[0]) < limit) return buf[0];
    return recurse_to(limit, n + 1) + buf[n % 256];
}

void run_overflow(const char *debug, size_t stack_size, bool guarded) {
    gort_config c;
    gort_config_init(&c);
    c.maxprocs = 1;
    c.debug = debug;
    if (gort_init(&c) != GORT_OK) abort();
    static bool s_guarded;
    static size_t s_size;
    s_guarded = guarded;
    s_size = stack_size;
    gort_main(
        [](void *) {
            gort_go_opts o;
            std::memset(&o, 0, sizeof o);
            o.size = sizeof o;
            o.stack_size = s_size;
            int64_t id;
            gort_go_ex(
                [](void *) {
                    if (s_guarded) {
                        recurse(0);
                    } else {
                        auto *g = reinterpret_cast<gort::G *>(gort_self());
                        recurse_to(g->stackcanary - 1024, 0);
                        gort_gosched();  // the switch-out checks the canary
                    }
                },
                nullptr, 0, &o, &id);
            for (;;) gort_gosched();
        },
        nullptr);
}

}  // namespace

TEST(StackOverflow, GuardPageNamesTheGoroutine) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // The main goroutine is goroutine 1; the one it starts, 2.
    EXPECT_DEATH(run_overflow(nullptr, 0, true), "gort: fatal error: stack overflow in goroutine 2 \\(stack size 65536\\)\n"
                                                 "(.|\n)*goroutine 2 \\[running\\]");
    EXPECT_DEATH(run_overflow(nullptr, 16 * 1024, true),
                 "gort: fatal error: stack overflow in goroutine 2 \\(stack size 16384\\)");
    EXPECT_DEATH(run_overflow(nullptr, 1024 * 1024, true),
                 "gort: fatal error: stack overflow in goroutine 2 \\(stack size 1048576\\)");
    // mprotect guard pages (kernels without MADV_GUARD_INSTALL).
    EXPECT_DEATH(run_overflow("stackguard=2", 0, true),
                 "gort: fatal error: stack overflow in goroutine 2 \\(stack size 65536\\)");
}

// A foreign thread's goroutine (gort_call_as_goroutine) overflowing its
// stack: the thread got an alternate signal stack with its extra M, so the
// handler runs and names the goroutine.
TEST(StackOverflow, ForeignThreadGoroutine) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            gort_config c;
            gort_config_init(&c);
            c.maxprocs = 1;
            if (gort_init(&c) != GORT_OK || gort_start() != GORT_OK) abort();
            std::thread t([] { gort_call_as_goroutine([](void *) { recurse(0); }, nullptr); });
            t.join();
        },
        "gort: fatal error: stack overflow in goroutine [0-9]+ \\(stack size 65536\\)");
}

TEST(StackOverflow, CanaryWithoutGuardPages) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(run_overflow("stackguard=0", 0, false),
                 "gort: fatal error: stack overflow in goroutine 2 \\(stack size 65536\\)");
    EXPECT_DEATH(run_overflow("stackguard=0", 32 * 1024, false),
                 "gort: fatal error: stack overflow in goroutine 2 \\(stack size 32768\\)");
}

namespace {
void host_segv(int) { _exit(42); }

// Faults in memory that is no stack's guard page, from a goroutine.
void fault_in_goroutine() {
    run_main(1, [] {
        void *p = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        *static_cast<volatile int *>(p) = 1;
    });
}
}  // namespace

TEST(StackOverflow, OtherFaultsReachTheHostsHandler) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            signal(SIGSEGV, host_segv);
            fault_in_goroutine();
        },
        testing::ExitedWithCode(42), "");
    // Without a host handler: the default action (under ASan, the handler
    // before ours is ASan's, which reports the fault).
    // TSan's handler, also installed before ours, reports it its own way;
    // so does clang's UBSan runtime.
#ifdef GORT_TEST_UBSAN_SEGV
    constexpr bool kUbsanSegv = true;
#else
    constexpr bool kUbsanSegv = false;
#endif
    if (kASan)
        EXPECT_EXIT(fault_in_goroutine(), testing::ExitedWithCode(1), "AddressSanitizer: SEGV");
    else if (kUbsanSegv)
        EXPECT_EXIT(fault_in_goroutine(), testing::ExitedWithCode(1), "UndefinedBehaviorSanitizer: SEGV");
    else if (!kTSan)
        EXPECT_EXIT(fault_in_goroutine(), testing::KilledBySignal(SIGSEGV), "");
}

TEST(StackOverflow, HandlerOnlyWhileGuardPagesExist) {
    struct sigaction before, during, after;
    sigaction(SIGSEGV, nullptr, &before);
    run_main(1, [&] { sigaction(SIGSEGV, nullptr, &during); });
    sigaction(SIGSEGV, nullptr, &after);
    EXPECT_TRUE(during.sa_flags & SA_ONSTACK) << "the handler must run on the alternate signal stack";
    EXPECT_NE(reinterpret_cast<void *>(during.sa_sigaction), reinterpret_cast<void *>(before.sa_sigaction));
    EXPECT_EQ(reinterpret_cast<void *>(after.sa_sigaction), reinterpret_cast<void *>(before.sa_sigaction))
        << "gort_shutdown must give SIGSEGV back to the host";
    // With guards off, there is nothing to handle.
    gort_config c;
    gort_config_init(&c);
    c.maxprocs = 1;
    c.debug = "stackguard=0";
    ASSERT_EQ(gort_init(&c), GORT_OK);
    ASSERT_EQ(gort_main([](void *p) { sigaction(SIGSEGV, nullptr, static_cast<struct sigaction *>(p)); }, &during),
              GORT_OK);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(reinterpret_cast<void *>(during.sa_sigaction), reinterpret_cast<void *>(before.sa_sigaction));
}
