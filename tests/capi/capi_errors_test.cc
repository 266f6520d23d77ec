// tests/capi/capi_errors_test.cc - the C ABI's answers to bad input and to calls
// made in the wrong state or from the wrong kind of thread.
//
// Every test checks the exact GORT_* code (as capi/*.cc and
// core/lifecycle.cc define it) and that the rejected call changed nothing: the
// runtime stays in the same life-cycle state and stays usable, counters such
// as gort_numgoroutine do not move, output buffers are not written, callbacks
// are not called, a goroutine is not readied twice.
//
// The tests run in one process, in sequence (and also one per process under
// ctest): each starts with the runtime un-initialised and leaves it so.
// Bodies that must run inside a goroutine run as the main goroutine of
// gort_main and only record what they saw; the assertions are made on the
// host thread after gort_main returns. Synchronisation uses atomics with
// bounded spin loops (gort_gosched inside goroutines, std::this_thread::yield
// on host threads), never sleeps.
#include <gort/gort.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>

namespace {

// ---------------------------------------------------------------------------
// Helpers

constexpr long kSpinLimit = 20'000'000;  // bound of every wait loop
constexpr int kUnset = 12345;            // a result slot nobody wrote

gort_config Cfg2() {
    gort_config c;
    gort_config_init(&c);
    c.maxprocs = 2;
    return c;
}

// Inside a goroutine: gosched until done() or the bound is hit.
template <class F>
bool SpinGosched(F done) {
    for (long i = 0; i < kSpinLimit; i++) {
        if (done()) return true;
        gort_gosched();
    }
    return done();
}

// On a host thread: yield until done() or the bound is hit.
template <class F>
bool SpinHost(F done) {
    for (long i = 0; i < kSpinLimit; i++) {
        if (done()) return true;
        std::this_thread::yield();
    }
    return done();
}

void Noop(void *) {}

std::atomic<int> g_unlockf_calls{0};
int CountingUnlockf(gort_g *, void *) {
    g_unlockf_calls.fetch_add(1);
    return 0;  // would cancel the park
}

std::atomic<int> g_fn_calls{0};
void CountingFn(void *) { g_fn_calls.fetch_add(1); }

// Runs body(arg) as the main goroutine of a fresh runtime (maxprocs 2),
// then shuts it down.
void RunInMain(gort_fn body, void *arg) {
    gort_config c = Cfg2();
    ASSERT_EQ(gort_init(&c), GORT_OK);
    ASSERT_EQ(gort_main(body, arg), GORT_OK);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// The runtime is un-initialised and a normal life cycle still works.
void ExpectUninitAndUsable() {
    EXPECT_EQ(gort_maxprocs(), GORT_ENOTINIT) << "a rejected call initialised the runtime";
    EXPECT_EQ(gort_numgoroutine(), GORT_ENOTINIT);
    gort_config c = Cfg2();
    ASSERT_EQ(gort_init(&c), GORT_OK) << "runtime not usable after a rejected call";
    EXPECT_EQ(gort_maxprocs(), 2);
    EXPECT_EQ(gort_numgoroutine(), 0);
    g_fn_calls = 0;
    ASSERT_EQ(gort_main(CountingFn, nullptr), GORT_OK);
    EXPECT_EQ(g_fn_calls.load(), 1);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(gort_maxprocs(), GORT_ENOTINIT);
}

// A valid gort_init(maxprocs 2) works after a rejected one, then shutdown.
void ExpectInitStillWorks() {
    EXPECT_EQ(gort_maxprocs(), GORT_ENOTINIT) << "a rejected gort_init initialised the runtime";
    gort_config c = Cfg2();
    ASSERT_EQ(gort_init(&c), GORT_OK);
    EXPECT_EQ(gort_maxprocs(), 2);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

uint64_t CreatedNow() {
    gort_stats st;
    std::memset(&st, 0, sizeof st);
    st.size = sizeof st;
    EXPECT_EQ(gort_stats_get(&st), GORT_OK);
    return st.goroutines_created;
}

class CapiErrors : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(gort_maxprocs(), GORT_ENOTINIT) << "an earlier test left the runtime initialised";
        g_unlockf_calls = 0;
        g_fn_calls = 0;
    }
    void TearDown() override {
        // Leave the runtime un-initialised even when a test failed midway.
        if (gort_maxprocs() != GORT_ENOTINIT) {
            EXPECT_EQ(gort_shutdown(), GORT_OK);
        }
    }
};

// ---------------------------------------------------------------------------
// Before gort_init: every call that needs the runtime answers GORT_ENOTINIT.

TEST_F(CapiErrors, GoBeforeInit) {
    int64_t goid = -77;
    EXPECT_EQ(gort_go(Noop, nullptr, 0, &goid), GORT_ENOTINIT);
    EXPECT_EQ(goid, -77) << "goid_out written by a failed gort_go";
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, GoExBeforeInit) {
    gort_go_opts o{sizeof(gort_go_opts), 0, 0};
    int64_t goid = -77;
    EXPECT_EQ(gort_go_ex(Noop, nullptr, 0, &o, &goid), GORT_ENOTINIT);
    EXPECT_EQ(goid, -77) << "goid_out written by a failed gort_go_ex";
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, GoschedBeforeInit) {
    EXPECT_EQ(gort_gosched(), GORT_ENOTINIT);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, ParkBeforeInit) {
    EXPECT_EQ(gort_park(CountingUnlockf, nullptr, "test"), GORT_ENOTINIT);
    EXPECT_EQ(g_unlockf_calls.load(), 0) << "unlockf called by a rejected park";
    ExpectUninitAndUsable();
}

// gort_ready validates its handle before the runtime state: a pointer that is
// not a goroutine (here a zeroed, 64-byte aligned 256-byte buffer, whose magic
// field is 0) is GORT_EINVAL whether or not the runtime is initialised. A real
// handle cannot exist before the first gort_init.
// Before init no handle can be valid, and the runtime does not even look at
// it (a handle of an earlier runtime may point to freed memory).
TEST_F(CapiErrors, ReadyBeforeInitNotAGoroutine) {
    alignas(64) unsigned char buf[256];
    std::memset(buf, 0, sizeof buf);
    EXPECT_EQ(gort_ready(reinterpret_cast<gort_g *>(buf)), GORT_ENOTINIT);
    for (unsigned char b : buf) ASSERT_EQ(b, 0) << "gort_ready wrote to a non-goroutine";
    EXPECT_EQ(gort_goid(reinterpret_cast<gort_g *>(buf)), -1);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, ReadyNullBeforeInit) {
    EXPECT_EQ(gort_ready(nullptr), GORT_EINVAL);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, GoexitBeforeInit) {
    EXPECT_EQ(gort_goexit(), GORT_ENOTINIT);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, LockOSThreadBeforeInit) {
    EXPECT_EQ(gort_lock_os_thread(), GORT_ENOTINIT);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, UnlockOSThreadBeforeInit) {
    EXPECT_EQ(gort_unlock_os_thread(), GORT_ENOTINIT);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, MaxprocsBeforeInit) {
    EXPECT_EQ(gort_maxprocs(), GORT_ENOTINIT);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, NumgoroutineBeforeInit) {
    EXPECT_EQ(gort_numgoroutine(), GORT_ENOTINIT);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, StatsGetBeforeInit) {
    gort_stats st;
    std::memset(&st, 0xAB, sizeof st);
    st.size = sizeof st;
    gort_stats before = st;
    EXPECT_EQ(gort_stats_get(&st), GORT_ENOTINIT);
    EXPECT_EQ(std::memcmp(&st, &before, sizeof st), 0) << "a failed gort_stats_get wrote the struct";
    ExpectUninitAndUsable();
}

// Argument checks come first: NULL is GORT_EINVAL even before init.
TEST_F(CapiErrors, StatsGetNullBeforeInit) {
    EXPECT_EQ(gort_stats_get(nullptr), GORT_EINVAL);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, StartBeforeInit) {
    EXPECT_EQ(gort_start(), GORT_ENOTINIT);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, MainBeforeInit) {
    EXPECT_EQ(gort_main(CountingFn, nullptr), GORT_ENOTINIT);
    EXPECT_EQ(g_fn_calls.load(), 0) << "gort_main ran fn before init";
    ExpectUninitAndUsable();
}

// Argument checks come first: gort_main(NULL) is GORT_EINVAL even before init.
TEST_F(CapiErrors, MainNullFnBeforeInit) {
    EXPECT_EQ(gort_main(nullptr, nullptr), GORT_EINVAL);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, ShutdownBeforeInit) {
    EXPECT_EQ(gort_shutdown(), GORT_ENOTINIT);
    ExpectUninitAndUsable();
}

TEST_F(CapiErrors, SelfAndGoidOutsideGoroutineBeforeInit) {
    EXPECT_EQ(gort_self(), nullptr);
    EXPECT_EQ(gort_goid(nullptr), -1);
    ExpectUninitAndUsable();
}

// ---------------------------------------------------------------------------
// gort_init: bad configurations are GORT_EINVAL and initialise nothing.

TEST_F(CapiErrors, InitSizeTooSmall) {
    gort_config c = Cfg2();
    c.size = sizeof(size_t);
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitSizeZero) {
    gort_config c = Cfg2();
    c.size = 0;
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitMaxprocsNegative) {
    gort_config c = Cfg2();
    c.maxprocs = -1;
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitMaxprocsTooBig) {
    gort_config c = Cfg2();
    c.maxprocs = 257;
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitMaxprocs256Accepted) {
    gort_config c = Cfg2();
    c.maxprocs = 256;
    ASSERT_EQ(gort_init(&c), GORT_OK) << "256 is the documented maximum";
    EXPECT_EQ(gort_maxprocs(), 256);
    EXPECT_EQ(gort_shutdown(), GORT_OK);
}

TEST_F(CapiErrors, InitStackSizeTooSmall) {
    gort_config c = Cfg2();
    c.stack_size = 1;
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitStackSizeJustBelowMinimum) {
    gort_config c = Cfg2();
    c.stack_size = 16 * 1024 - 1;
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitStackSizeTooBig) {
    gort_config c = Cfg2();
    c.stack_size = size_t(1) << 40;
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitStackSizeJustAboveMaximum) {
    gort_config c = Cfg2();
    c.stack_size = size_t(256) * 1024 * 1024 + 1;
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitStackSizeBoundsAccepted) {
    for (size_t s : {size_t(16 * 1024), size_t(256) * 1024 * 1024}) {
        gort_config c = Cfg2();
        c.stack_size = s;
        ASSERT_EQ(gort_init(&c), GORT_OK) << "stack_size " << s << " is within the documented range";
        EXPECT_EQ(gort_shutdown(), GORT_OK);
    }
}

TEST_F(CapiErrors, InitMaxThreadsNegative) {
    gort_config c = Cfg2();
    c.max_threads = -1;
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitDebugValueNotANumber) {
    gort_config c = Cfg2();
    c.debug = "schedtrace=abc";
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitDebugEmptyName) {
    gort_config c = Cfg2();
    c.debug = "=1";
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitDebugNoEquals) {
    gort_config c = Cfg2();
    c.debug = "noequals";
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitDebugEmptyValue) {
    gort_config c = Cfg2();
    c.debug = "schedtrace=";
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

TEST_F(CapiErrors, InitDebugMalformedSecondItem) {
    gort_config c = Cfg2();
    c.debug = "schedtrace=0,scheddetail=x";
    EXPECT_EQ(gort_init(&c), GORT_EINVAL);
    ExpectInitStillWorks();
}

// Unknown names are ignored (header): not an error.
TEST_F(CapiErrors, InitDebugUnknownNameAccepted) {
    gort_config c = Cfg2();
    c.debug = "schedtrace=0,nosuchknob=5";
    ASSERT_EQ(gort_init(&c), GORT_OK);
    EXPECT_EQ(gort_shutdown(), GORT_OK);
}

TEST_F(CapiErrors, InitTwiceIsBusy) {
    gort_config c = Cfg2();
    ASSERT_EQ(gort_init(&c), GORT_OK);
    gort_config c3 = Cfg2();
    c3.maxprocs = 3;
    EXPECT_EQ(gort_init(&c3), GORT_EBUSY);
    EXPECT_EQ(gort_init(nullptr), GORT_EBUSY);
    EXPECT_EQ(gort_maxprocs(), 2) << "a rejected second gort_init changed the configuration";
    EXPECT_EQ(gort_numgoroutine(), 0);
    // Still usable: a main goroutine runs.
    g_fn_calls = 0;
    EXPECT_EQ(gort_main(CountingFn, nullptr), GORT_OK);
    EXPECT_EQ(g_fn_calls.load(), 1);
    EXPECT_EQ(gort_shutdown(), GORT_OK);
}

// ---------------------------------------------------------------------------
// After gort_init (state Init), from the host thread: bad arguments.

class CapiErrorsInit : public CapiErrors {
  protected:
    void SetUp() override {
        CapiErrors::SetUp();
        if (HasFatalFailure()) return;
        gort_config c = Cfg2();
        ASSERT_EQ(gort_init(&c), GORT_OK);
        ASSERT_EQ(gort_numgoroutine(), 0);
        created0_ = CreatedNow();
    }
    // Nothing was created, and the runtime still spawns and runs goroutines.
    void ExpectNothingCreatedAndUsable() {
        EXPECT_EQ(gort_numgoroutine(), 0) << "a rejected call created a goroutine";
        EXPECT_EQ(CreatedNow(), created0_) << "a rejected call counted a goroutine";
        g_fn_calls = 0;
        int64_t goid = -1;
        ASSERT_EQ(gort_go(CountingFn, nullptr, 0, &goid), GORT_OK);
        EXPECT_GT(goid, 0);
        EXPECT_EQ(gort_numgoroutine(), 1);
        // The queued goroutine runs once the runtime runs (gort_main).
        struct W {
            static void Main(void *) {
                SpinGosched([] { return g_fn_calls.load() == 1; });
            }
        };
        ASSERT_EQ(gort_main(W::Main, nullptr), GORT_OK);
        EXPECT_EQ(g_fn_calls.load(), 1) << "goroutine queued before gort_main did not run exactly once";
    }
    uint64_t created0_ = 0;
};

TEST_F(CapiErrorsInit, GoNullFn) {
    int64_t goid = -77;
    EXPECT_EQ(gort_go(nullptr, nullptr, 0, &goid), GORT_EINVAL);
    EXPECT_EQ(goid, -77);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, GoArgsizeTooBig) {
    alignas(16) unsigned char arg[1025] = {};
    int64_t goid = -77;
    EXPECT_EQ(gort_go(Noop, arg, 1025, &goid), GORT_EINVAL);
    EXPECT_EQ(goid, -77);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, GoArgsizeHugeNoOverflow) {
    alignas(16) unsigned char arg[16] = {};
    EXPECT_EQ(gort_go(Noop, arg, SIZE_MAX, nullptr), GORT_EINVAL);
    EXPECT_EQ(gort_go(Noop, arg, SIZE_MAX - 14, nullptr), GORT_EINVAL);
    ExpectNothingCreatedAndUsable();
}

// 1024 is the documented maximum: accepted, and the copy arrives intact.
TEST_F(CapiErrorsInit, GoArgsize1024Accepted) {
    struct Big {
        unsigned char b[1024];
    };
    static std::atomic<int> ok{0};
    ok = 0;
    Big big;
    for (int i = 0; i < 1024; i++) big.b[i] = static_cast<unsigned char>(i * 7 + 1);
    struct F {
        static void Fn(void *p) {
            auto *b = static_cast<Big *>(p);
            bool good = (reinterpret_cast<uintptr_t>(p) & 15) == 0;
            for (int i = 0; i < 1024; i++) good = good && b->b[i] == static_cast<unsigned char>(i * 7 + 1);
            ok = good ? 1 : -1;
        }
        static void Main(void *) {
            SpinGosched([] { return ok.load() != 0; });
        }
    };
    ASSERT_EQ(gort_go(F::Fn, &big, sizeof big, nullptr), GORT_OK);
    std::memset(&big, 0, sizeof big);  // the runtime copied it already
    EXPECT_EQ(gort_numgoroutine(), 1);
    ASSERT_EQ(gort_main(F::Main, nullptr), GORT_OK);
    EXPECT_EQ(ok.load(), 1) << "1024-byte argument not delivered intact and 16-byte aligned";
}

TEST_F(CapiErrorsInit, GoArgsizeWithNullArg) {
    int64_t goid = -77;
    EXPECT_EQ(gort_go(Noop, nullptr, 8, &goid), GORT_EINVAL);
    EXPECT_EQ(goid, -77);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, GoExNullFn) {
    gort_go_opts o{sizeof(gort_go_opts), 0, 0};
    EXPECT_EQ(gort_go_ex(nullptr, nullptr, 0, &o, nullptr), GORT_EINVAL);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, GoExOptsSizeTooSmall) {
    gort_go_opts o{sizeof(size_t), 0, 0};
    int64_t goid = -77;
    EXPECT_EQ(gort_go_ex(Noop, nullptr, 0, &o, &goid), GORT_EINVAL);
    EXPECT_EQ(goid, -77);
    o.size = 0;
    EXPECT_EQ(gort_go_ex(Noop, nullptr, 0, &o, &goid), GORT_EINVAL);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, GoExStackSizeTooSmall) {
    gort_go_opts o{sizeof(gort_go_opts), 1, 0};
    EXPECT_EQ(gort_go_ex(Noop, nullptr, 0, &o, nullptr), GORT_EINVAL);
    o.stack_size = 16 * 1024 - 1;
    EXPECT_EQ(gort_go_ex(Noop, nullptr, 0, &o, nullptr), GORT_EINVAL);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, GoExStackSizeTooBig) {
    gort_go_opts o{sizeof(gort_go_opts), size_t(1) << 40, 0};
    EXPECT_EQ(gort_go_ex(Noop, nullptr, 0, &o, nullptr), GORT_EINVAL);
    o.stack_size = size_t(256) * 1024 * 1024 + 1;
    EXPECT_EQ(gort_go_ex(Noop, nullptr, 0, &o, nullptr), GORT_EINVAL);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, GoExArgsizeTooBig) {
    gort_go_opts o{sizeof(gort_go_opts), 0, 0};
    alignas(16) unsigned char arg[1025] = {};
    EXPECT_EQ(gort_go_ex(Noop, arg, 1025, &o, nullptr), GORT_EINVAL);
    EXPECT_EQ(gort_go_ex(Noop, nullptr, 1, &o, nullptr), GORT_EINVAL);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, StatsGetNull) {
    EXPECT_EQ(gort_stats_get(nullptr), GORT_EINVAL);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, StatsGetSizeTooSmall) {
    gort_stats st;
    std::memset(&st, 0xAB, sizeof st);
    st.size = sizeof(size_t);
    gort_stats before = st;
    EXPECT_EQ(gort_stats_get(&st), GORT_EINVAL);
    EXPECT_EQ(std::memcmp(&st, &before, sizeof st), 0) << "a rejected gort_stats_get wrote the struct";
    st.size = 0;
    before = st;
    EXPECT_EQ(gort_stats_get(&st), GORT_EINVAL);
    EXPECT_EQ(std::memcmp(&st, &before, sizeof st), 0);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, ReadyNull) {
    EXPECT_EQ(gort_ready(nullptr), GORT_EINVAL);
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, ReadyNotAGoroutine) {
    alignas(64) unsigned char buf[256];
    std::memset(buf, 0, sizeof buf);
    EXPECT_EQ(gort_ready(reinterpret_cast<gort_g *>(buf)), GORT_EINVAL);
    for (unsigned char b : buf) ASSERT_EQ(b, 0) << "gort_ready wrote to a non-goroutine";
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, MainNullFn) {
    EXPECT_EQ(gort_main(nullptr, nullptr), GORT_EINVAL);
    // Still in state Init: gort_main with a real function works.
    ExpectNothingCreatedAndUsable();
}

// ---------------------------------------------------------------------------
// Calls that need a goroutine, made from the host thread: GORT_ENOTG, both
// after gort_init and in background mode (after gort_start).

void ExpectHostThreadCallsNotG(const char *when) {
    SCOPED_TRACE(when);
    int n0 = gort_numgoroutine();
    EXPECT_EQ(gort_self(), nullptr);
    EXPECT_EQ(gort_goid(nullptr), -1);
    EXPECT_EQ(gort_gosched(), GORT_ENOTG);
    g_unlockf_calls = 0;
    EXPECT_EQ(gort_park(CountingUnlockf, nullptr, "test"), GORT_ENOTG);
    EXPECT_EQ(g_unlockf_calls.load(), 0) << "unlockf called by a rejected park";
    EXPECT_EQ(gort_park(nullptr, nullptr, nullptr), GORT_ENOTG);
    EXPECT_EQ(gort_goexit(), GORT_ENOTG);
    EXPECT_EQ(gort_lock_os_thread(), GORT_ENOTG);
    EXPECT_EQ(gort_unlock_os_thread(), GORT_ENOTG);
    // A lock that was rejected must not make a later unlock succeed.
    EXPECT_EQ(gort_unlock_os_thread(), GORT_ENOTG);
    EXPECT_EQ(gort_numgoroutine(), n0);
    EXPECT_EQ(gort_maxprocs(), 2);
}

TEST_F(CapiErrorsInit, HostThreadCallsAfterInit) {
    ExpectHostThreadCallsNotG("state Init");
    ExpectNothingCreatedAndUsable();
}

TEST_F(CapiErrorsInit, HostThreadCallsInBackgroundMode) {
    ASSERT_EQ(gort_start(), GORT_OK);
    ExpectHostThreadCallsNotG("background mode");
    // The runtime still runs goroutines.
    g_fn_calls = 0;
    ASSERT_EQ(gort_go(CountingFn, nullptr, 0, nullptr), GORT_OK);
    EXPECT_TRUE(SpinHost([] { return g_fn_calls.load() == 1; })) << "goroutine did not run in background mode";
    EXPECT_EQ(gort_shutdown(), GORT_OK);
}

TEST_F(CapiErrorsInit, BackgroundModeStartAndMainAgain) {
    ASSERT_EQ(gort_start(), GORT_OK);
    EXPECT_EQ(gort_start(), GORT_ESTATE);
    g_fn_calls = 0;
    EXPECT_EQ(gort_main(CountingFn, nullptr), GORT_ESTATE);
    EXPECT_EQ(gort_init(nullptr), GORT_EBUSY);
    // Still running in background mode: a goroutine runs exactly once.
    ASSERT_EQ(gort_go(CountingFn, nullptr, 0, nullptr), GORT_OK);
    EXPECT_TRUE(SpinHost([] { return g_fn_calls.load() >= 1; })) << "goroutine did not run after rejected calls";
    EXPECT_EQ(g_fn_calls.load(), 1) << "the rejected gort_main ran its fn";
    EXPECT_EQ(gort_shutdown(), GORT_OK);
}

// ---------------------------------------------------------------------------
// From inside a goroutine (the main goroutine of gort_main).

// Unlock without lock; lock, unlock, unlock again.
struct LockRes {
    int unlock_unlocked = kUnset;
    int lock1 = kUnset, unlock1 = kUnset, unlock2 = kUnset;
    int lock2 = kUnset, unlock3 = kUnset;
};
void LockBody(void *p) {
    auto *r = static_cast<LockRes *>(p);
    r->unlock_unlocked = gort_unlock_os_thread();
    r->lock1 = gort_lock_os_thread();
    r->unlock1 = gort_unlock_os_thread();
    r->unlock2 = gort_unlock_os_thread();
    // The failed unlock changed nothing: the pair still works.
    r->lock2 = gort_lock_os_thread();
    r->unlock3 = gort_unlock_os_thread();
}
TEST_F(CapiErrors, UnlockOSThreadWithoutLock) {
    LockRes r;
    RunInMain(LockBody, &r);
    EXPECT_EQ(r.unlock_unlocked, GORT_ESTATE) << "unlock of a goroutine never locked";
    EXPECT_EQ(r.lock1, GORT_OK);
    EXPECT_EQ(r.unlock1, GORT_OK);
    EXPECT_EQ(r.unlock2, GORT_ESTATE) << "second unlock after one lock";
    EXPECT_EQ(r.lock2, GORT_OK);
    EXPECT_EQ(r.unlock3, GORT_OK);
}

// gort_go_ex(lock_os_thread=1) starts the goroutine locked: one unlock is OK,
// a second one is GORT_ESTATE.
struct LockedStartRes {
    std::atomic<int> done{0};
    int unlock1 = kUnset, unlock2 = kUnset;
    int go = kUnset;
    bool waited = false;
};
void LockedStartChild(void *p) {
    auto *r = static_cast<LockedStartRes *>(p);
    r->unlock1 = gort_unlock_os_thread();
    r->unlock2 = gort_unlock_os_thread();
    r->done.store(1, std::memory_order_release);
}
void LockedStartBody(void *p) {
    auto *r = static_cast<LockedStartRes *>(p);
    gort_go_opts o{sizeof(gort_go_opts), 0, 1};
    r->go = gort_go_ex(LockedStartChild, r, 0, &o, nullptr);
    r->waited = SpinGosched([r] { return r->done.load(std::memory_order_acquire) == 1; });
}
TEST_F(CapiErrors, GoExLockedStartUnlockTwice) {
    LockedStartRes r;
    RunInMain(LockedStartBody, &r);
    EXPECT_EQ(r.go, GORT_OK);
    ASSERT_TRUE(r.waited) << "child goroutine did not finish within the spin bound";
    EXPECT_EQ(r.unlock1, GORT_OK) << "a goroutine started locked must be unlockable";
    EXPECT_EQ(r.unlock2, GORT_ESTATE);
}

// gort_ready on the running goroutine itself.
struct ReadySelfRes {
    int rc = kUnset;
    int n_before = kUnset, n_after = kUnset;
    int gosched_after = kUnset;
    int64_t goid = 0;
    bool self_nonnull = false;
};
void ReadySelfBody(void *p) {
    auto *r = static_cast<ReadySelfRes *>(p);
    gort_g *self = gort_self();
    r->self_nonnull = self != nullptr;
    r->goid = gort_goid(nullptr);
    r->n_before = gort_numgoroutine();
    r->rc = gort_ready(self);
    r->n_after = gort_numgoroutine();
    r->gosched_after = gort_gosched();  // still a normal running goroutine
}
TEST_F(CapiErrors, ReadyRunningSelf) {
    ReadySelfRes r;
    RunInMain(ReadySelfBody, &r);
    EXPECT_TRUE(r.self_nonnull);
    EXPECT_GT(r.goid, 0);
    EXPECT_EQ(r.rc, GORT_ESTATE) << "gort_ready on a running goroutine";
    EXPECT_EQ(r.n_before, 1);
    EXPECT_EQ(r.n_after, 1);
    EXPECT_EQ(r.gosched_after, GORT_OK);
}

// gort_ready on a goroutine that is runnable or running but never parks.
struct ReadyRunnableRes {
    std::atomic<int> runs{0};
    std::atomic<gort_g *> handle{nullptr};
    std::atomic<bool> release{false};
    int ready_rc = kUnset;
    bool saw_handle = false, saw_run = false;
    int runs_final = kUnset;
};
void ReadyRunnableChild(void *p) {
    auto *r = static_cast<ReadyRunnableRes *>(p);
    r->handle.store(gort_self(), std::memory_order_release);
    r->runs.fetch_add(1);
    // Stay alive (runnable or running, never waiting) until released, so the
    // handle cannot be reused while the test looks at it.
    SpinGosched([r] { return r->release.load(); });
}
void ReadyRunnableBody(void *p) {
    auto *r = static_cast<ReadyRunnableRes *>(p);
    if (gort_go(ReadyRunnableChild, r, 0, nullptr) != GORT_OK) return;
    r->saw_handle = SpinGosched([r] { return r->handle.load(std::memory_order_acquire) != nullptr; });
    if (!r->saw_handle) return;
    r->ready_rc = gort_ready(r->handle.load());
    r->release = true;
    // Wait for the child to be gone-or-going; it must have run exactly once.
    r->saw_run = SpinGosched([r] { return gort_numgoroutine() == 1; });
    r->runs_final = r->runs.load();
}
TEST_F(CapiErrors, ReadyGoroutineNotParked) {
    ReadyRunnableRes r;
    RunInMain(ReadyRunnableBody, &r);
    ASSERT_TRUE(r.saw_handle) << "child goroutine did not start within the spin bound";
    EXPECT_EQ(r.ready_rc, GORT_ESTATE) << "gort_ready on a goroutine that is not parked";
    EXPECT_TRUE(r.saw_run) << "child goroutine did not exit within the spin bound";
    EXPECT_EQ(r.runs_final, 1) << "child ran more than once";
}

// Double ready from a goroutine. The target parks once (its unlockf publishes
// its handle, which happens after it is marked waiting) and never parks
// again: after the wake-up it spins with gort_gosched (runnable/running, not
// waiting) until released. So the second gort_ready, and a third one made
// after the target has certainly resumed, both find it "not waiting",
// whatever the interleaving.
struct DoubleReady {
    std::atomic<gort_g *> parked{nullptr};
    std::atomic<int> resumed{0};
    std::atomic<bool> release{false};
    std::atomic<bool> finished{false};
    gort_g *self_before_park = nullptr;
    int park_rc = kUnset;
    int go_rc = kUnset;
    int ready1 = kUnset, ready2 = kUnset, ready3 = kUnset;
    bool saw_park = false, saw_resume = false, saw_finish = false;
    int resumed_final = kUnset;
};
int PublishUnlockf(gort_g *g, void *lk) {
    static_cast<DoubleReady *>(lk)->parked.store(g, std::memory_order_release);
    return 1;
}
void DoubleReadyTarget(void *p) {
    auto *d = static_cast<DoubleReady *>(p);
    d->self_before_park = gort_self();
    d->park_rc = gort_park(PublishUnlockf, d, "capi_errors_test double ready");
    d->resumed.fetch_add(1);
    SpinGosched([d] { return d->release.load(); });
    d->finished.store(true, std::memory_order_release);
}
void DoubleReadyBody(void *p) {
    auto *d = static_cast<DoubleReady *>(p);
    d->go_rc = gort_go(DoubleReadyTarget, d, 0, nullptr);
    if (d->go_rc != GORT_OK) return;
    d->saw_park = SpinGosched([d] { return d->parked.load(std::memory_order_acquire) != nullptr; });
    if (!d->saw_park) return;
    gort_g *h = d->parked.load(std::memory_order_acquire);
    d->ready1 = gort_ready(h);
    d->ready2 = gort_ready(h);
    d->saw_resume = SpinGosched([d] { return d->resumed.load() != 0; });
    d->ready3 = gort_ready(h);
    d->release = true;
    d->saw_finish = SpinGosched([d] { return d->finished.load(std::memory_order_acquire); });
    d->resumed_final = d->resumed.load();
}
TEST_F(CapiErrors, DoubleReadyFromGoroutine) {
    DoubleReady d;
    RunInMain(DoubleReadyBody, &d);
    ASSERT_EQ(d.go_rc, GORT_OK);
    ASSERT_TRUE(d.saw_park) << "target did not park within the spin bound";
    EXPECT_EQ(d.parked.load(), d.self_before_park) << "unlockf got a handle other than gort_self()";
    EXPECT_EQ(d.ready1, GORT_OK) << "first ready of a parked goroutine";
    EXPECT_EQ(d.ready2, GORT_ESTATE) << "second ready right after the first";
    ASSERT_TRUE(d.saw_resume) << "readied target did not resume within the spin bound";
    EXPECT_EQ(d.ready3, GORT_ESTATE) << "ready of a resumed (running/runnable) goroutine";
    ASSERT_TRUE(d.saw_finish) << "target did not finish within the spin bound";
    EXPECT_EQ(d.park_rc, GORT_OK);
    EXPECT_EQ(d.resumed_final, 1) << "target resumed more than once: readied twice?";
}

// The same from the host thread in background mode (gort_ready's path with
// no P: global run queue + startm).
TEST_F(CapiErrorsInit, DoubleReadyFromHostThread) {
    static DoubleReady d;
    d.parked = nullptr;
    d.resumed = 0;
    d.release = false;
    d.finished = false;
    d.park_rc = kUnset;
    ASSERT_EQ(gort_start(), GORT_OK);
    ASSERT_EQ(gort_go(DoubleReadyTarget, &d, 0, nullptr), GORT_OK);
    ASSERT_TRUE(SpinHost([] { return d.parked.load(std::memory_order_acquire) != nullptr; }))
        << "target did not park within the spin bound";
    gort_g *h = d.parked.load(std::memory_order_acquire);
    EXPECT_EQ(gort_ready(h), GORT_OK) << "first ready of a parked goroutine";
    EXPECT_EQ(gort_ready(h), GORT_ESTATE) << "second ready right after the first";
    ASSERT_TRUE(SpinHost([] { return d.resumed.load() != 0; })) << "target did not resume";
    EXPECT_EQ(gort_ready(h), GORT_ESTATE) << "ready of a resumed goroutine";
    d.release = true;
    ASSERT_TRUE(SpinHost([] { return d.finished.load(std::memory_order_acquire); })) << "target did not finish";
    EXPECT_EQ(d.park_rc, GORT_OK);
    EXPECT_EQ(d.resumed.load(), 1) << "target resumed more than once: readied twice?";
    EXPECT_EQ(gort_shutdown(), GORT_OK);
}

// Life-cycle calls from a goroutine.
struct LifeRes {
    int init_cfg = kUnset, init_null = kUnset;
    int shutdown = kUnset;
    int main_rc = kUnset, main_null = kUnset;
    int start = kUnset;
    int maxprocs_after = kUnset;
    int n_before = kUnset, n_after = kUnset;
    bool child_ran = false;
};
std::atomic<int> g_life_child{0};
void LifeChild(void *) { g_life_child.fetch_add(1); }
void LifeBody(void *p) {
    auto *r = static_cast<LifeRes *>(p);
    r->n_before = gort_numgoroutine();
    gort_config c = Cfg2();
    c.maxprocs = 3;
    r->init_cfg = gort_init(&c);
    r->init_null = gort_init(nullptr);
    r->shutdown = gort_shutdown();
    r->main_rc = gort_main(CountingFn, nullptr);
    r->main_null = gort_main(nullptr, nullptr);
    r->start = gort_start();
    r->maxprocs_after = gort_maxprocs();
    r->n_after = gort_numgoroutine();
    // The runtime still works: a new goroutine runs.
    g_life_child = 0;
    if (gort_go(LifeChild, nullptr, 0, nullptr) == GORT_OK)
        r->child_ran = SpinGosched([] { return g_life_child.load() == 1; });
}
TEST_F(CapiErrors, LifeCycleCallsFromGoroutine) {
    LifeRes r;
    RunInMain(LifeBody, &r);
    EXPECT_EQ(r.init_cfg, GORT_EBUSY) << "gort_init from a goroutine";
    EXPECT_EQ(r.init_null, GORT_EBUSY) << "gort_init(NULL) from a goroutine";
    EXPECT_EQ(r.shutdown, GORT_EBUSY) << "gort_shutdown from a goroutine";
    EXPECT_EQ(r.main_rc, GORT_EBUSY) << "gort_main from a goroutine";
    EXPECT_EQ(g_fn_calls.load(), 0) << "the rejected gort_main ran its fn";
    EXPECT_EQ(r.main_null, GORT_EINVAL) << "gort_main(NULL) from a goroutine";
    EXPECT_EQ(r.start, GORT_ESTATE) << "gort_start while gort_main runs";
    EXPECT_EQ(r.maxprocs_after, 2) << "a rejected gort_init changed the configuration";
    EXPECT_EQ(r.n_before, 1);
    EXPECT_EQ(r.n_after, 1);
    EXPECT_TRUE(r.child_ran) << "runtime not usable after the rejected calls";
}

// Bad arguments from inside a goroutine: nothing is created.
struct BadGoRes {
    int null_fn = kUnset, too_big = kUnset, null_arg = kUnset, opts_small = kUnset, stk_small = kUnset,
        stk_big = kUnset, stats_small = kUnset, ready_null = kUnset;
    int n_before = kUnset, n_after = kUnset;
    int64_t goid = -77;
};
void BadGoBody(void *p) {
    auto *r = static_cast<BadGoRes *>(p);
    alignas(16) static unsigned char arg[1025];
    r->n_before = gort_numgoroutine();
    r->null_fn = gort_go(nullptr, nullptr, 0, &r->goid);
    r->too_big = gort_go(Noop, arg, 1025, &r->goid);
    r->null_arg = gort_go(Noop, nullptr, 4, &r->goid);
    gort_go_opts o{1, 0, 0};
    r->opts_small = gort_go_ex(Noop, nullptr, 0, &o, &r->goid);
    o = gort_go_opts{sizeof o, 1, 0};
    r->stk_small = gort_go_ex(Noop, nullptr, 0, &o, &r->goid);
    o.stack_size = size_t(1) << 40;
    r->stk_big = gort_go_ex(Noop, nullptr, 0, &o, &r->goid);
    gort_stats st;
    std::memset(&st, 0, sizeof st);
    st.size = 1;
    r->stats_small = gort_stats_get(&st);
    r->ready_null = gort_ready(nullptr);
    r->n_after = gort_numgoroutine();
}
TEST_F(CapiErrors, BadArgumentsFromGoroutine) {
    BadGoRes r;
    RunInMain(BadGoBody, &r);
    EXPECT_EQ(r.null_fn, GORT_EINVAL);
    EXPECT_EQ(r.too_big, GORT_EINVAL);
    EXPECT_EQ(r.null_arg, GORT_EINVAL);
    EXPECT_EQ(r.opts_small, GORT_EINVAL);
    EXPECT_EQ(r.stk_small, GORT_EINVAL);
    EXPECT_EQ(r.stk_big, GORT_EINVAL);
    EXPECT_EQ(r.stats_small, GORT_EINVAL);
    EXPECT_EQ(r.ready_null, GORT_EINVAL);
    EXPECT_EQ(r.goid, -77) << "goid_out written by a rejected call";
    EXPECT_EQ(r.n_before, 1);
    EXPECT_EQ(r.n_after, 1) << "a rejected gort_go created a goroutine";
}

// Calls made from another host thread while gort_main runs.
struct HostWhileMainRes {
    std::atomic<bool> done{false};
    int shutdown = kUnset, main_rc = kUnset, init = kUnset, start = kUnset, gosched = kUnset, ready_null = kUnset;
    gort_g *self = reinterpret_cast<gort_g *>(1);
    int64_t goid = 0;
    bool waited = false;
    int maxprocs_after = kUnset;
};
void HostWhileMainBody(void *p) {
    auto *r = static_cast<HostWhileMainRes *>(p);
    std::thread t([r] {
        r->shutdown = gort_shutdown();
        r->main_rc = gort_main(CountingFn, nullptr);
        gort_config c = Cfg2();
        r->init = gort_init(&c);
        r->start = gort_start();
        r->gosched = gort_gosched();
        r->ready_null = gort_ready(nullptr);
        r->self = gort_self();
        r->goid = gort_goid(nullptr);
        r->done.store(true, std::memory_order_release);
    });
    r->waited = SpinGosched([r] { return r->done.load(std::memory_order_acquire); });
    t.join();
    r->maxprocs_after = gort_maxprocs();
}
TEST_F(CapiErrors, HostThreadCallsWhileMainRuns) {
    HostWhileMainRes r;
    RunInMain(HostWhileMainBody, &r);
    ASSERT_TRUE(r.waited);
    EXPECT_EQ(r.shutdown, GORT_EBUSY) << "gort_shutdown from a host thread while gort_main runs";
    EXPECT_EQ(r.main_rc, GORT_ESTATE) << "second gort_main while one runs";
    EXPECT_EQ(g_fn_calls.load(), 0) << "the rejected gort_main ran its fn";
    EXPECT_EQ(r.init, GORT_EBUSY);
    EXPECT_EQ(r.start, GORT_ESTATE);
    EXPECT_EQ(r.gosched, GORT_ENOTG);
    EXPECT_EQ(r.ready_null, GORT_EINVAL);
    EXPECT_EQ(r.self, nullptr);
    EXPECT_EQ(r.goid, -1);
    EXPECT_EQ(r.maxprocs_after, 2);
}

// Calls made from an unlockf, which runs on the scheduler stack (g0): not a
// goroutine, but not a host thread either.
struct UnlockfRes {
    gort_g *self = reinterpret_cast<gort_g *>(1);
    int64_t goid = 0;
    int gosched = kUnset, park = kUnset, goexit = kUnset, lock = kUnset, unlock = kUnset;
    int init = kUnset, shutdown = kUnset, main_rc = kUnset;
    int64_t arg_goid = 0;
    int calls = 0;
    int park_rc = kUnset;
    int64_t my_goid = 0;
    int after_gosched = kUnset;
};
int ProbingUnlockf(gort_g *g, void *lk) {
    auto *r = static_cast<UnlockfRes *>(lk);
    r->calls++;
    r->self = gort_self();
    r->goid = gort_goid(nullptr);
    r->arg_goid = gort_goid(g);
    r->gosched = gort_gosched();
    r->park = gort_park(nullptr, nullptr, nullptr);
    r->goexit = gort_goexit();
    r->lock = gort_lock_os_thread();
    r->unlock = gort_unlock_os_thread();
    gort_config c = Cfg2();
    r->init = gort_init(&c);
    r->shutdown = gort_shutdown();
    r->main_rc = gort_main(CountingFn, nullptr);
    return 0;  // cancel the park: the goroutine resumes at once
}
void UnlockfBody(void *p) {
    auto *r = static_cast<UnlockfRes *>(p);
    r->my_goid = gort_goid(nullptr);
    r->park_rc = gort_park(ProbingUnlockf, r, "capi_errors_test probe");
    r->after_gosched = gort_gosched();
}
TEST_F(CapiErrors, CallsFromUnlockf) {
    UnlockfRes r;
    RunInMain(UnlockfBody, &r);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.park_rc, GORT_OK) << "park cancelled by unlockf returning 0";
    EXPECT_EQ(r.after_gosched, GORT_OK);
    EXPECT_EQ(r.self, nullptr) << "gort_self on g0";
    EXPECT_EQ(r.goid, -1) << "gort_goid(NULL) on g0";
    EXPECT_EQ(r.arg_goid, r.my_goid) << "unlockf's g is the parking goroutine";
    EXPECT_EQ(r.gosched, GORT_ENOTG);
    EXPECT_EQ(r.park, GORT_ENOTG);
    EXPECT_EQ(r.goexit, GORT_ENOTG);
    EXPECT_EQ(r.lock, GORT_ENOTG);
    EXPECT_EQ(r.unlock, GORT_ENOTG);
    EXPECT_EQ(r.init, GORT_EBUSY);
    EXPECT_EQ(r.shutdown, GORT_EBUSY);
    EXPECT_EQ(r.main_rc, GORT_EBUSY);
    EXPECT_EQ(g_fn_calls.load(), 0);
}

// ---------------------------------------------------------------------------
// After gort_main returned (state Stopped), then after gort_shutdown.

struct LeftParked {
    std::atomic<gort_g *> parked{nullptr};
    std::atomic<int> resumed{0};
    bool saw_park = false;
};
int LeftParkedUnlockf(gort_g *g, void *lk) {
    static_cast<LeftParked *>(lk)->parked.store(g, std::memory_order_release);
    return 1;
}
void LeftParkedChild(void *p) {
    auto *lp = static_cast<LeftParked *>(p);
    gort_park(LeftParkedUnlockf, lp, "capi_errors_test left parked");
    lp->resumed.fetch_add(1);
}
void LeftParkedMain(void *p) {
    auto *lp = static_cast<LeftParked *>(p);
    if (gort_go(LeftParkedChild, lp, 0, nullptr) != GORT_OK) return;
    lp->saw_park = SpinGosched([lp] { return lp->parked.load(std::memory_order_acquire) != nullptr; });
}

TEST_F(CapiErrors, AfterMainReturnedThenAfterShutdown) {
    LeftParked lp;
    gort_config c = Cfg2();
    ASSERT_EQ(gort_init(&c), GORT_OK);
    ASSERT_EQ(gort_main(LeftParkedMain, &lp), GORT_OK);
    ASSERT_TRUE(lp.saw_park) << "child did not park within the spin bound";

    // State Stopped.
    int n0 = gort_numgoroutine();
    EXPECT_EQ(n0, 1) << "the parked child is still counted until shutdown";
    int64_t goid = -77;
    EXPECT_EQ(gort_go(Noop, nullptr, 0, &goid), GORT_ESTATE) << "gort_go after gort_main returned";
    gort_go_opts o{sizeof o, 0, 0};
    EXPECT_EQ(gort_go_ex(Noop, nullptr, 0, &o, &goid), GORT_ESTATE);
    EXPECT_EQ(goid, -77);
    EXPECT_EQ(gort_start(), GORT_ESTATE) << "gort_start after gort_main returned";
    EXPECT_EQ(gort_main(CountingFn, nullptr), GORT_ESTATE) << "gort_main is once per gort_init";
    EXPECT_EQ(g_fn_calls.load(), 0);
    EXPECT_EQ(gort_init(&c), GORT_EBUSY);
    // The child left parked when main returned is still a valid handle until
    // shutdown, but the runtime no longer runs goroutines.
    EXPECT_EQ(gort_ready(lp.parked.load()), GORT_ESTATE) << "gort_ready after gort_main returned";
    EXPECT_EQ(lp.resumed.load(), 0);
    EXPECT_EQ(gort_numgoroutine(), n0) << "a rejected call changed the goroutine count";
    EXPECT_EQ(gort_maxprocs(), 2);

    EXPECT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(lp.resumed.load(), 0) << "a goroutine discarded at shutdown ran";

    // After shutdown.
    EXPECT_EQ(gort_go(Noop, nullptr, 0, &goid), GORT_ENOTINIT) << "gort_go after gort_shutdown";
    EXPECT_EQ(goid, -77);
    EXPECT_EQ(gort_shutdown(), GORT_ENOTINIT) << "second gort_shutdown";
    EXPECT_EQ(gort_start(), GORT_ENOTINIT);
    EXPECT_EQ(gort_maxprocs(), GORT_ENOTINIT);
    EXPECT_EQ(gort_numgoroutine(), GORT_ENOTINIT);
    ExpectUninitAndUsable();
}

// Background mode, then shutdown: the same after-shutdown answers.
TEST_F(CapiErrors, AfterBackgroundShutdown) {
    gort_config c = Cfg2();
    ASSERT_EQ(gort_init(&c), GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(gort_go(Noop, nullptr, 0, nullptr), GORT_ENOTINIT);
    EXPECT_EQ(gort_shutdown(), GORT_ENOTINIT);
    EXPECT_EQ(gort_gosched(), GORT_ENOTINIT);
    ExpectUninitAndUsable();
}

// ---------------------------------------------------------------------------
// gort_strerror, gort_self, gort_goid

TEST(CapiStrerror, DistinctNonEmptyStrings) {
    const int codes[] = {GORT_OK,    GORT_EINVAL, GORT_ENOTINIT,       GORT_ENOTG,     GORT_ESTATE,  GORT_ENOMEM,
                         GORT_EAGAIN, GORT_EBUSY, GORT_ESTACKOVERFLOW, GORT_ETIMEDOUT, GORT_ECLOSED};
    std::set<std::string> seen;
    for (int c : codes) {
        const char *s = gort_strerror(c);
        ASSERT_NE(s, nullptr) << "code " << c;
        EXPECT_NE(std::strlen(s), 0u) << "code " << c;
        EXPECT_STRNE(s, "unknown error") << "code " << c;
        EXPECT_TRUE(seen.insert(s).second) << "code " << c << " shares its string: " << s;
    }
    EXPECT_EQ(seen.size(), sizeof codes / sizeof codes[0]);
}

TEST(CapiStrerror, UnknownCodes) {
    EXPECT_STREQ(gort_strerror(12345), "unknown error");
    EXPECT_STREQ(gort_strerror(-11), "unknown error");
    EXPECT_STREQ(gort_strerror(1), "unknown error");
}

TEST(CapiAbi, Version) { EXPECT_EQ(gort_abi_version(), GORT_ABI_VERSION); }

TEST(CapiConfig, ConfigInitNullIsHarmless) {
    gort_config_init(nullptr);
    gort_config c;
    std::memset(&c, 0xAB, sizeof c);
    gort_config_init(&c);
    EXPECT_EQ(c.size, sizeof c);
    EXPECT_EQ(c.maxprocs, 0);
    EXPECT_EQ(c.stack_size, 0u);
    EXPECT_EQ(c.max_threads, 0);
    EXPECT_EQ(c.debug, nullptr);
}

TEST_F(CapiErrorsInit, SelfAndGoidOutsideGoroutineAfterInit) {
    EXPECT_EQ(gort_self(), nullptr);
    EXPECT_EQ(gort_goid(nullptr), -1);
    ExpectNothingCreatedAndUsable();
}

// Calls that ready or create a goroutine, made between gort_entersyscall and
// gort_exitsyscall: GORT_ESTATE (gort.h, "System calls"), changing nothing.
// gort_poll_close readies fd's waiters and gort_gc_set_hooks (with a
// gc_trigger) creates the forcegc goroutine, both on the caller's P, which
// sysmon may have handed to another M; both used to be served there.
struct WakeInSyscallRes {
    int fds[2] = {-1, -1};
    std::atomic<bool> polling{false};
    std::atomic<int> poll_rc{kUnset};
    int poll_close = kUnset, set_hooks = kUnset;
    uint64_t created_before = 0, created_after = 0;
    bool waited = false;
};
void NoScan(const gort_scan *, void *) {}
void NoTrigger(void *) {}
void WakeInSyscallBody(void *p) {
    auto *r = static_cast<WakeInSyscallRes *>(p);
    ASSERT_EQ(pipe(r->fds), 0);
    ASSERT_EQ(gort_go(
                  [](void *q) {
                      auto *r = static_cast<WakeInSyscallRes *>(q);
                      r->polling.store(true, std::memory_order_release);
                      r->poll_rc.store(gort_poll_fd(r->fds[0], GORT_POLL_IN, -1));
                  },
                  r, 0, nullptr),
              GORT_OK);
    SpinGosched([r] { return r->polling.load(std::memory_order_acquire); });
    gort_gc_hooks h;
    std::memset(&h, 0, sizeof h);
    h.size = sizeof h;
    h.scan_g = NoScan;
    h.gc_trigger = NoTrigger;
    r->created_before = CreatedNow();
    ASSERT_EQ(gort_entersyscall(), GORT_OK);
    r->poll_close = gort_poll_close(r->fds[0]);
    r->set_hooks = gort_gc_set_hooks(&h);
    ASSERT_EQ(gort_exitsyscall(), GORT_OK);
    r->created_after = CreatedNow();
    // The waiter was not woken with GORT_ECLOSED: it sees the data.
    ASSERT_EQ(write(r->fds[1], "x", 1), 1);
    r->waited = SpinGosched([r] { return r->poll_rc.load() != kUnset; });
    close(r->fds[0]);
    close(r->fds[1]);
}
TEST_F(CapiErrors, WakersInsideSyscall) {
    WakeInSyscallRes r;
    RunInMain(WakeInSyscallBody, &r);
    EXPECT_EQ(r.poll_close, GORT_ESTATE);
    EXPECT_EQ(r.set_hooks, GORT_ESTATE);
    EXPECT_EQ(r.created_after, r.created_before) << "a refused gort_gc_set_hooks created the forcegc goroutine";
    EXPECT_TRUE(r.waited);
    EXPECT_EQ(r.poll_rc.load(), GORT_POLL_IN) << "a refused gort_poll_close woke the waiter";
    ExpectUninitAndUsable();
}

}  // namespace
