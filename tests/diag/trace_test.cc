// tests/diag/trace_test.cc - goroutine dumps (gort_dump_goroutines, the fatal
// error dump, SIGQUIT with GORT_DEBUG=sigquit=1) and schedtrace.
//
// The functions whose names the dumps must show are extern "C" (their names
// are the same mangled or not: the SIGQUIT dump does not demangle) and
// noinline, and do work after the call that parks so that it is not a tail
// call (which would take their frame off the stack).
#include <gort/gort.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/base/os.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/sched/runtime2.h"
#include "core/base/throw.h"
#include "core/diag/traceback.h"
#include "tests/util/testutil.h"

using namespace gort_test;

namespace {


// Parker: one goroutine parks in trace_parked_fn with kReason; whoever
// waits on `parked` (a goroutine: sema; a host thread: latch) then knows it
// is Gwaiting, because the unlockf runs after the status change.
constexpr const char *kReason = "trace test wait";

struct Parker {
    Sema parked_sema;          // for a goroutine waiter
    HostLatch parked_latch{1};  // for a host waiter
    bool host_waiter = false;
    bool lock_thread = false;
    std::atomic<gort_g *> g{nullptr};
    std::atomic<int64_t> goid{-1};
    std::atomic<int> resumed{0};
    // run inside the unlockf, on g0, after the goroutine is Gwaiting
    void (*in_unlockf)(Parker *) = nullptr;
    std::string unlockf_dump;
};

std::string read_fd(int fd) {
    std::string out;
    off_t end = lseek(fd, 0, SEEK_END);
    out.resize(size_t(end));
    size_t got = 0;
    while (got < out.size()) {
        ssize_t r = pread(fd, &out[got], out.size() - got, off_t(got));
        if (r <= 0) break;
        got += size_t(r);
    }
    out.resize(got);
    return out;
}

// dump: gort_dump_goroutines into a memfd, read back.
std::string dump(int *rc_out = nullptr) {
    int fd = memfd_create("gort-dump", 0);
    if (fd < 0) abort();
    int rc = gort_dump_goroutines(fd);
    if (rc_out != nullptr) *rc_out = rc;
    std::string s = read_fd(fd);
    close(fd);
    return s;
}

std::string schedtrace_str(bool detailed) {
    int fd = memfd_create("gort-schedtrace", 0);
    if (fd < 0) abort();
    gort::schedtrace(detailed, fd);
    std::string s = read_fd(fd);
    close(fd);
    return s;
}

std::vector<std::string> lines(const std::string &s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string l;
    while (std::getline(in, l)) out.push_back(l);
    return out;
}

// Section: one goroutine of a dump.
struct Section {
    int64_t goid = -1;
    std::string state;               // between the brackets
    std::vector<std::string> body;   // the lines after the header
    bool has(const std::string &needle) const {
        for (auto &l : body)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
};

// parse_dump: sections in order. A header is "goroutine N [state]:";
// every other line until a blank one belongs to it.
std::vector<Section> parse_dump(const std::string &s) {
    std::vector<Section> out;
    bool in = false;
    for (auto &l : lines(s)) {
        long long id;
        char state[256];
        if (std::sscanf(l.c_str(), "goroutine %lld [%255[^]]]:", &id, state) == 2) {
            out.push_back(Section{id, state, {}});
            in = true;
        } else if (l.empty()) {
            in = false;
        } else if (in) {
            out.back().body.push_back(l);
        }
    }
    return out;
}

const Section *find(const std::vector<Section> &secs, int64_t goid) {
    for (auto &s : secs)
        if (s.goid == goid) return &s;
    return nullptr;
}

}  // namespace

extern "C" {

int trace_parker_unlockf(gort_g *g, void *arg) {
    auto *pk = static_cast<Parker *>(arg);
    pk->g.store(g, std::memory_order_release);
    if (pk->in_unlockf != nullptr) pk->in_unlockf(pk);
    if (pk->host_waiter)
        pk->parked_latch.count_down();
    else
        pk->parked_sema.post();
    return 1;
}

// The goroutine whose frame the dumps must show.
__attribute__((noinline)) void trace_parked_fn(Parker *pk) {
    pk->goid.store(gort_goid(nullptr), std::memory_order_relaxed);
    if (pk->lock_thread && gort_lock_os_thread() != GORT_OK) abort();
    int rc = gort_park(trace_parker_unlockf, pk, kReason);
    if (rc != GORT_OK) abort();
    if (pk->lock_thread && gort_unlock_os_thread() != GORT_OK) abort();
    pk->resumed.fetch_add(1, std::memory_order_release);
}

void trace_parked_entry(void *arg) { trace_parked_fn(static_cast<Parker *>(arg)); }

// Never runs before the dump that looks at it.
__attribute__((noinline)) void trace_never_started_fn(void *arg) {
    static_cast<std::atomic<int> *>(arg)->fetch_add(1, std::memory_order_relaxed);
}

// Yields until told to stop: runnable whenever another goroutine runs on its
// only P.
struct Yielder {
    std::atomic<bool> stop{false};
    Sema started;
    Join *done = nullptr;
};
__attribute__((noinline)) void trace_yield_fn(Yielder *y) {
    y->started.post();
    while (!y->stop.load(std::memory_order_acquire)) gort_gosched();
    y->done->done();
}

// The caller of the dump from a goroutine: shown first, as [running].
__attribute__((noinline)) std::string trace_dumping_fn() {
    std::string s = dump();
    asm volatile("" ::: "memory");
    return s;
}

}  // extern "C"

namespace {

// spawn_parker: starts a goroutine in trace_parked_fn and waits until it is
// parked. From a goroutine (host == false) or a host thread.
void spawn_parker(Parker *pk, bool host) {
    pk->host_waiter = host;
    int64_t id = -1;
    ASSERT_EQ(gort_go(trace_parked_entry, pk, 0, &id), GORT_OK);
    if (host)
        ASSERT_TRUE(pk->parked_latch.wait_for(std::chrono::seconds(60))) << "goroutine did not park";
    else
        pk->parked_sema.acquire();
    ASSERT_EQ(pk->goid.load(), id);
}

// Waits (from a host thread) until the parker has resumed.
void wait_resumed(Parker *pk) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (pk->resumed.load(std::memory_order_acquire) == 0) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "parked goroutine never resumed";
        std::this_thread::yield();
    }
}

}  // namespace

// A parked goroutine shows its wait reason and its function; the dumping
// goroutine comes first, [running], unwound from where it called the dump.
TEST(Trace, DumpFromGoroutineShowsWaitReasonAndFunction) {
    run_main(2, [] {
        Parker pk;
        ASSERT_NO_FATAL_FAILURE(spawn_parker(&pk, false));
        std::string d = trace_dumping_fn();
        auto secs = parse_dump(d);
        ASSERT_FALSE(secs.empty()) << d;
        EXPECT_EQ(secs[0].goid, gort_goid(nullptr)) << d;
        EXPECT_EQ(secs[0].state, "running") << d;
        EXPECT_TRUE(secs[0].has("trace_dumping_fn")) << d;
        const Section *s = find(secs, pk.goid.load());
        ASSERT_NE(s, nullptr) << d;
        EXPECT_EQ(s->state, kReason) << d;
        EXPECT_TRUE(s->has("trace_parked_fn+0x")) << d;
        EXPECT_TRUE(s->has("gort_park")) << d;
        // The runtime's own frames (the entry trampoline, gort::park_m) are
        // hidden by default (tests/diag/dump_test.cc: tracebackall=1 shows
        // them, and that the walk ends at the trampoline); "created by"
        // names the function that spawned it.
        EXPECT_FALSE(s->has("gort_ctx_entry")) << d;
        EXPECT_FALSE(s->has("gort::")) << d;
        EXPECT_TRUE(s->has("created by (anonymous namespace)::spawn_parker")) << d;
        ASSERT_EQ(gort_ready(pk.g.load()), GORT_OK);
        while (pk.resumed.load(std::memory_order_acquire) == 0) gort_gosched();
    });
}

// A goroutine locked to its thread says so.
TEST(Trace, LockedGoroutineSaysSo) {
    run_main(2, [] {
        Parker pk;
        pk.lock_thread = true;
        ASSERT_NO_FATAL_FAILURE(spawn_parker(&pk, false));
        std::string d = dump();
        auto secs = parse_dump(d);
        const Section *s = find(secs, pk.goid.load());
        ASSERT_NE(s, nullptr) << d;
        EXPECT_EQ(s->state, std::string(kReason) + ", locked to thread") << d;
        EXPECT_TRUE(s->has("trace_parked_fn")) << d;
        ASSERT_EQ(gort_ready(pk.g.load()), GORT_OK);
        while (pk.resumed.load(std::memory_order_acquire) == 0) gort_gosched();
    });
}

// Runnable goroutines are listed: one that never ran shows its function's
// entry; one that yielded shows where it yielded.
TEST(Trace, RunnableGoroutinesListed) {
    run_main(1, [] {
        std::atomic<int> ran{0};
        Join j(1);
        Yielder y;
        y.done = &j;
        int64_t yid = go([&y] { trace_yield_fn(&y); });
        y.started.acquire();  // y is now in its gosched loop
        int64_t nid = -1;
        ASSERT_EQ(gort_go(trace_never_started_fn, &ran, 0, &nid), GORT_OK);
        // One P: nothing else runs until this goroutine parks or yields.
        std::string d = dump();
        auto secs = parse_dump(d);
        const Section *n = find(secs, nid);
        ASSERT_NE(n, nullptr) << d;
        EXPECT_EQ(n->state, "runnable") << d;
        // One frame, its entry, then "created by" and where (2 lines).
        ASSERT_EQ(n->body.size(), 3u) << d;
        EXPECT_NE(n->body[0].find("trace_never_started_fn+0x0 "), std::string::npos) << d;
        EXPECT_EQ(n->body[1].rfind("created by ", 0), 0u) << d;
        EXPECT_EQ(ran.load(), 0);
        const Section *ys = find(secs, yid);
        ASSERT_NE(ys, nullptr) << d;
        EXPECT_EQ(ys->state, "runnable") << d;
        EXPECT_TRUE(ys->has("trace_yield_fn")) << d;
        EXPECT_TRUE(ys->has("gort_gosched")) << d;
        y.stop.store(true, std::memory_order_release);
        j.wait();
        while (ran.load() == 0) gort_gosched();
    });
}

// The same from a host thread in background mode: every goroutine is
// someone else's, and parked ones are claimed and unwound.
TEST(Trace, DumpFromHostThread) {
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    Parker pk[3];
    for (auto &p : pk) ASSERT_NO_FATAL_FAILURE(spawn_parker(&p, true));
    int rc = 1;
    std::string d = dump(&rc);
    ASSERT_EQ(rc, GORT_OK);
    auto secs = parse_dump(d);
    for (auto &p : pk) {
        const Section *s = find(secs, p.goid.load());
        ASSERT_NE(s, nullptr) << d;
        EXPECT_EQ(s->state, kReason) << d;
        EXPECT_TRUE(s->has("trace_parked_fn")) << d;
    }
    for (auto &p : pk) ASSERT_EQ(gort_ready(p.g.load()), GORT_OK);
    for (auto &p : pk) ASSERT_NO_FATAL_FAILURE(wait_resumed(&p));
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// From g0, inside the parking goroutine's own unlockf: it is already
// waiting, so it is claimed and unwound from its saved context.
TEST(Trace, DumpFromUnlockf) {
    run_main(2, [] {
        Parker pk;
        pk.in_unlockf = [](Parker *p) {
            int fd = memfd_create("gort-dump", 0);
            if (gort_dump_goroutines(fd) != GORT_OK) abort();
            p->unlockf_dump = read_fd(fd);
            close(fd);
        };
        ASSERT_NO_FATAL_FAILURE(spawn_parker(&pk, false));
        const std::string &d = pk.unlockf_dump;
        auto secs = parse_dump(d);
        const Section *s = find(secs, pk.goid.load());
        ASSERT_NE(s, nullptr) << d;
        EXPECT_EQ(s->state, kReason) << d;
        EXPECT_TRUE(s->has("trace_parked_fn")) << d;
        ASSERT_EQ(gort_ready(pk.g.load()), GORT_OK);
        while (pk.resumed.load(std::memory_order_acquire) == 0) gort_gosched();
    });
}

// Go's ", N minutes": from waitsince, which the first scan that saw the
// goroutine waiting stamped. Here the test stamps it 3 minutes back, owning
// the goroutine through the scan bit as a scanner would.
TEST(Trace, WaitMinutes) {
    run_main(2, [] {
        Parker pk;
        ASSERT_NO_FATAL_FAILURE(spawn_parker(&pk, false));
        std::string d = dump();
        auto secs = parse_dump(d);
        const Section *s = find(secs, pk.goid.load());
        ASSERT_NE(s, nullptr) << d;
        EXPECT_EQ(s->state, kReason) << d;  // just stamped: 0 minutes
        auto *gp = reinterpret_cast<gort::G *>(pk.g.load());
        ASSERT_TRUE(gort::castogscanstatus(gp, gort::Gwaiting, gort::Gscanwaiting));
        gp->waitsince = gort::nanotime() - 3 * 60 * int64_t(1000000000) - 1000000;
        gort::casfrom_Gscanstatus(gp, gort::Gscanwaiting, gort::Gwaiting);
        d = dump();
        secs = parse_dump(d);
        s = find(secs, pk.goid.load());
        ASSERT_NE(s, nullptr) << d;
        EXPECT_EQ(s->state, std::string(kReason) + ", 3 minutes") << d;
        ASSERT_EQ(gort_ready(pk.g.load()), GORT_OK);
        while (pk.resumed.load(std::memory_order_acquire) == 0) gort_gosched();
    });
}

// A saved context that is not a frame on the goroutine's own stack is
// reported, not followed; one that is on it but holds garbage ends the walk
// without a crash. (A fake G: the walk must not depend on a live one.)
TEST(Trace, GarbageSavedContextDoesNotCrash) {
    alignas(16) static uint64_t stk[1024];
    auto *g = new gort::G();
    g->stack.lo = reinterpret_cast<uintptr_t>(&stk[0]);
    g->stack.hi = reinterpret_cast<uintptr_t>(&stk[1024]);
    auto walk = [&](void *sp) {
        g->sched_sp = sp;
        int fd = memfd_create("gort-walk", 0);
        {
            gort::FdWriter w(fd);
            gort::tracebacksuspended(w, g, gort::DumpMode::Normal);
        }
        std::string out = read_fd(fd);
        close(fd);
        return out;
    };
    const uintptr_t lo = g->stack.lo, hi = g->stack.hi;
    for (uintptr_t bad : {uintptr_t(0), lo - 64, hi - 8, hi, lo + 8, hi + 4096}) {
        std::string out = walk(reinterpret_cast<void *>(bad));
        EXPECT_NE(out.find("bad saved context"), std::string::npos) << std::hex << bad << ": " << out;
    }
    // In range: all zeros (rip 0: no frame at all).
    std::memset(stk, 0, sizeof stk);
    EXPECT_EQ(walk(&stk[512]), "");
    // A pc that is no code, a frame pointer into nowhere.
    for (auto &w : stk) w = 0x1234;
    stk[512 + 0x38 / 8] = 0x1234;
    stk[512 + 0x30 / 8] = 0xdead0000;
    std::string out = walk(&stk[512]);
    EXPECT_LE(lines(out).size(), 3u) << out;
    // A real pc, with every saved register and stack word pointing into the
    // fake stack or nowhere: whatever the CFI says, the walk stays bounded.
    for (size_t i = 0; i < 1024; i++) stk[i] = (i % 2) ? 0x1234 : g->stack.lo + 8 * ((i * 7) % 1024);
    stk[512 + 0x38 / 8] = reinterpret_cast<uintptr_t>(&trace_parked_fn) + 8;
    out = walk(&stk[512]);
    EXPECT_NE(out.find("trace_parked_fn"), std::string::npos) << out;
    EXPECT_LE(lines(out).size(), 66u) << out;
    delete g;
}

TEST(Trace, BadFdAndState) {
    int fd = memfd_create("gort-dump", 0);
    ASSERT_GE(fd, 0);
    int closed = dup(fd);
    ASSERT_GE(closed, 0);
    close(closed);
    // Arguments first, then state, as everywhere in the ABI.
    EXPECT_EQ(gort_dump_goroutines(-1), GORT_EINVAL);
    EXPECT_EQ(gort_dump_goroutines(closed), GORT_EINVAL);
    EXPECT_EQ(gort_dump_goroutines(fd), GORT_ENOTINIT);
    ASSERT_NO_FATAL_FAILURE(start_background(1));
    EXPECT_EQ(gort_dump_goroutines(-5), GORT_EINVAL);
    EXPECT_EQ(gort_dump_goroutines(closed), GORT_EINVAL);
    EXPECT_EQ(read_fd(fd), "");  // nothing written by the refused calls
    EXPECT_EQ(gort_dump_goroutines(fd), GORT_OK);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(gort_dump_goroutines(fd), GORT_ENOTINIT);
    close(fd);
}

// A fatal error prints "gort: fatal error: <msg>", then the dump: the
// throwing goroutine first, then the parked one with its reason and function.
TEST(TraceDeathTest, FatalErrorDumpsGoroutines) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            run_main(2, [] {
                Parker pk;
                spawn_parker(&pk, false);
                gort::gothrow("trace test throw");
            });
        },
        "gort: fatal error: trace test throw\n\ngoroutine [0-9]+ \\[running\\]:\n\t.*gothrow.*"
        "goroutine [0-9]+ \\[trace test wait\\]:\n.*trace_parked_fn");
}

// A fatal error on a host thread also prints that thread's stack.
TEST(TraceDeathTest, FatalErrorOnHostThread) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            start_background(2);
            Parker pk;
            spawn_parker(&pk, true);
            gort::gothrow("trace test host throw");
        },
        "gort: fatal error: trace test host throw\n\nhost thread stack:\n.*gothrow.*"
        "goroutine [0-9]+ \\[trace test wait\\]:\n.*trace_parked_fn");
}

namespace {

struct sigaction query_sigquit() {
    struct sigaction sa;
    sigaction(SIGQUIT, nullptr, &sa);
    return sa;
}

bool same_handler(const struct sigaction &a, const struct sigaction &b) {
    return a.sa_handler == b.sa_handler && (a.sa_flags & SA_SIGINFO) == (b.sa_flags & SA_SIGINFO);
}

// The child of a SIGQUIT test: a runtime with one parked goroutine, then
// SIGQUIT to this (host) thread.
void sigquit_child() {
    start_background(2, "sigquit=1");
    Parker pk;
    spawn_parker(&pk, true);
    raise(SIGQUIT);
}

extern "C" void host_siginfo_handler(int, siginfo_t *, void *) {
    const char msg[] = "host handler ran\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(9);
    _exit(7);
}

std::atomic<int> host_plain_ran{0};
extern "C" void host_plain_handler(int sig) {
    if (sig == SIGQUIT) host_plain_ran.fetch_add(1);
}

}  // namespace

// GORT_DEBUG=sigquit=1 and no host handler: the dump, then exit status 2.
TEST(TraceDeathTest, SigquitDumpsAndExits2) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            signal(SIGQUIT, SIG_DFL);
            sigquit_child();
        },
        ::testing::ExitedWithCode(2),
        "SIGQUIT: quit\n\n.*goroutine [0-9]+ \\[trace test wait\\]:\n.*trace_parked_fn");
}

extern "C" __attribute__((noinline)) void trace_raise_fn() {
    raise(SIGQUIT);
    asm volatile("" ::: "memory");
    _exit(3);  // not reached: the handler exits with 2
}

// SIGQUIT on the thread of gort_main while it runs a goroutine: the handler
// runs on that goroutine's stack, and the goroutine is shown first, unwound
// through the signal frame to the call that raised it.
TEST(TraceDeathTest, SigquitWhileRunningGoroutine) {
    // ThreadSanitizer queues a signal in the ThreadState of the fiber it
    // arrived on and delivers it later; raised on a goroutine's fiber it is
    // often never delivered before the process exits (7 of 10 runs). The
    // handler itself is covered under TSan by the other SIGQUIT tests.
    if (kTSan) GTEST_SKIP() << "TSan defers signals raised on a goroutine fiber";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            signal(SIGQUIT, SIG_DFL);
            gort_config cfg;
            gort_config_init(&cfg);
            cfg.maxprocs = 2;
            cfg.debug = "sigquit=1";
            gort_init(&cfg);
            gort_main(
                [](void *) {
                    Parker pk;
                    spawn_parker(&pk, false);
                    trace_raise_fn();
                },
                nullptr);
        },
        ::testing::ExitedWithCode(2),
        "SIGQUIT: quit\n\ngoroutine [0-9]+ \\[running\\]:\n.*\n\ttrace_raise_fn\\+.*"
        "goroutine [0-9]+ \\[trace test wait\\]:\n.*trace_parked_fn");
}

// A host SA_SIGINFO handler installed before gort_init runs after the dump.
TEST(TraceDeathTest, SigquitChainsToHostSiginfoHandler) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            struct sigaction sa;
            std::memset(&sa, 0, sizeof sa);
            sa.sa_sigaction = host_siginfo_handler;
            sa.sa_flags = SA_SIGINFO;
            sigaction(SIGQUIT, &sa, nullptr);
            sigquit_child();
        },
        ::testing::ExitedWithCode(7), "trace_parked_fn.*host handler ran\n");
}

// A plain host handler runs after the dump and the process goes on; an
// ignored SIGQUIT stays ignored (after the dump); shutdown restores the
// host's disposition.
TEST(TraceDeathTest, SigquitChainsToPlainHandlerAndIgnore) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            signal(SIGQUIT, host_plain_handler);
            struct sigaction host = query_sigquit();
            sigquit_child();
            if (host_plain_ran.load() != 1) {
                fprintf(stderr, "plain host handler did not run\n");
                _exit(1);
            }
            if (gort_shutdown() != GORT_OK || !same_handler(query_sigquit(), host)) {
                fprintf(stderr, "host disposition not restored\n");
                _exit(1);
            }
            signal(SIGQUIT, SIG_IGN);
            sigquit_child();  // dumps, then the process goes on
            if (gort_shutdown() != GORT_OK || query_sigquit().sa_handler != SIG_IGN) {
                fprintf(stderr, "SIG_IGN not restored\n");
                _exit(1);
            }
            fprintf(stderr, "child done\n");
            std::exit(0);  // not _exit: a sanitizer's report turns the status non-zero
        },
        ::testing::ExitedWithCode(0),
        "SIGQUIT: quit\n\n.*trace_parked_fn.*SIGQUIT: quit\n\n.*trace_parked_fn.*child done\n");
}

// No handler unless asked for; with sigquit=1, gort's handler from init to
// shutdown, and the host's again after; a host that replaced gort's handler
// keeps its own through shutdown.
TEST(Trace, SigquitHandlerOnlyWhenAsked) {
    struct sigaction orig = query_sigquit();
    signal(SIGQUIT, host_plain_handler);
    struct sigaction host = query_sigquit();

    ASSERT_NO_FATAL_FAILURE(start_background(1, "schedtrace=0"));
    EXPECT_TRUE(same_handler(query_sigquit(), host)) << "a handler was installed without sigquit=1";
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_TRUE(same_handler(query_sigquit(), host));

    ASSERT_NO_FATAL_FAILURE(start_background(1, "sigquit=1"));
    struct sigaction ours = query_sigquit();
    EXPECT_FALSE(same_handler(ours, host));
    EXPECT_TRUE(ours.sa_flags & SA_SIGINFO);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_TRUE(same_handler(query_sigquit(), host)) << "host disposition not restored";

    ASSERT_NO_FATAL_FAILURE(start_background(1, "sigquit=1"));
    signal(SIGQUIT, SIG_IGN);  // the host changes its mind after init
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(query_sigquit().sa_handler, SIG_IGN) << "shutdown clobbered the host's newer disposition";

    sigaction(SIGQUIT, &orig, nullptr);
}

namespace {

struct SchedLine {
    long long ms = -1;
    int procs = -1, idleprocs = -1, threads = -1, spinning = -1, idlethreads = -1, runqueue = -1;
    std::string rest;  // after "runqueue=N"
};

SchedLine parse_sched(const std::string &l) {
    SchedLine s;
    int n = 0;
    if (std::sscanf(l.c_str(),
                    "SCHED %lldms: gomaxprocs=%d idleprocs=%d threads=%d spinningthreads=%d idlethreads=%d "
                    "runqueue=%d%n",
                    &s.ms, &s.procs, &s.idleprocs, &s.threads, &s.spinning, &s.idlethreads, &s.runqueue, &n) == 7)
        s.rest = l.substr(size_t(n));
    return s;
}

}  // namespace

// Before the runtime starts, goroutines queued from a host thread sit on the
// global queue: a known state to check the numbers against.
TEST(Trace, SchedtraceKnownStateBeforeStart) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = 2;
    ASSERT_EQ(gort_init(&cfg), GORT_OK);
    std::atomic<int> ran{0};
    std::vector<int64_t> ids;
    for (int i = 0; i < 5; i++) {
        int64_t id;
        ASSERT_EQ(gort_go(trace_never_started_fn, &ran, 0, &id), GORT_OK);
        ids.push_back(id);
    }
    std::string t = schedtrace_str(false);
    auto ls = lines(t);
    ASSERT_EQ(ls.size(), 1u) << t;
    SchedLine s = parse_sched(ls[0]);
    EXPECT_GE(s.ms, 0) << t;
    EXPECT_EQ(s.procs, 2) << t;
    EXPECT_EQ(s.idleprocs, 2) << t;
    EXPECT_EQ(s.threads, 0) << t;
    EXPECT_EQ(s.spinning, 0) << t;
    EXPECT_EQ(s.idlethreads, 0) << t;
    EXPECT_EQ(s.runqueue, 5) << t;
    EXPECT_EQ(s.rest, " [0 0]") << t;

    t = schedtrace_str(true);
    ls = lines(t);
    ASSERT_EQ(ls.size(), 1u + 2u + 5u) << t;  // SCHED, 2 P lines, no M yet, 5 G lines
    s = parse_sched(ls[0]);
    EXPECT_EQ(s.runqueue, 5) << t;
    EXPECT_EQ(s.rest, " gcwaiting=0 nmidlelocked=0 stopwait=0") << t;
    for (int i = 0; i < 2; i++) {
        int p, st, tick, stick, m, rq, gf;
        ASSERT_EQ(std::sscanf(ls[1 + i].c_str(), "  P%d: status=%d schedtick=%d syscalltick=%d m=%d runqsize=%d gfreecnt=%d",
                              &p, &st, &tick, &stick, &m, &rq, &gf),
                  7)
            << t;
        EXPECT_EQ(p, i);
        EXPECT_EQ(st, int(gort::Pidle));
        EXPECT_EQ(m, -1);
        EXPECT_EQ(rq, 0);
    }
    for (int i = 0; i < 5; i++) {
        long long id;
        int st, m, lm;
        ASSERT_EQ(std::sscanf(ls[3 + i].c_str(), "  G%lld: status=%d() m=%d lockedm=%d", &id, &st, &m, &lm), 4) << t;
        EXPECT_EQ(id, ids[size_t(i)]);
        EXPECT_EQ(st, int(gort::Grunnable));
        EXPECT_EQ(m, -1);
        EXPECT_EQ(lm, -1);
    }
    ASSERT_EQ(gort_shutdown(), GORT_OK);
    EXPECT_EQ(ran.load(), 0);
}

// While running, with one P: the caller's P runs (it holds sched.lock while
// tracing: locks=1), its M's curg is the caller, and goroutines it spawned
// without yielding wait on its local queue.
TEST(Trace, SchedtraceWhileRunning) {
    run_main(1, [] {
        std::atomic<int> ran{0};
        std::vector<int64_t> ids;
        for (int i = 0; i < 3; i++) {
            int64_t id;
            ASSERT_EQ(gort_go(trace_never_started_fn, &ran, 0, &id), GORT_OK);
            ids.push_back(id);
        }
        std::string t = schedtrace_str(false);
        SchedLine s = parse_sched(lines(t).at(0));
        EXPECT_EQ(s.procs, 1) << t;
        EXPECT_EQ(s.idleprocs, 0) << t;
        EXPECT_EQ(s.threads, 2) << t;  // m0 and sysmon
        EXPECT_EQ(s.idlethreads, 0) << t;
        EXPECT_EQ(s.runqueue, 0) << t;
        EXPECT_EQ(s.rest, " [3]") << t;

        t = schedtrace_str(true);
        auto ls = lines(t);
        ASSERT_GE(ls.size(), 3u) << t;
        int p, st, tick, stick, m, rq, gf;
        ASSERT_EQ(std::sscanf(ls[1].c_str(), "  P%d: status=%d schedtick=%d syscalltick=%d m=%d runqsize=%d gfreecnt=%d", &p,
                              &st, &tick, &stick, &m, &rq, &gf),
                  7)
            << t;
        EXPECT_EQ(st, int(gort::Prunning)) << t;
        // (schedtick is not checked: it counts time slices, and the main
        // goroutine may have started from runnext, inheriting the P's first.)
        EXPECT_EQ(rq, 3) << t;  // two in the ring, the newest in runnext
        int mid, mp, locks, lg;
        long long curg;
        char spinning[8];
        // The M lines follow allm (newest first: sysmon comes before m0).
        std::string mline;
        for (auto &l : ls)
            if (l.rfind("  M" + std::to_string(m) + ":", 0) == 0) mline = l;
        ASSERT_EQ(std::sscanf(mline.c_str(), "  M%d: p=%d curg=%lld locks=%d spinning=%7s lockedg=%d", &mid, &mp, &curg,
                              &locks, spinning, &lg),
                  6)
            << t;
        EXPECT_EQ(mid, m) << t;
        EXPECT_EQ(mp, 0) << t;
        EXPECT_EQ(curg, gort_goid(nullptr)) << t;
        EXPECT_EQ(locks, 1) << t;
        EXPECT_STREQ(spinning, "false") << t;
        EXPECT_EQ(lg, -1) << t;
        int runnable = 0, running = 0;
        for (auto &l : ls) {
            long long id;
            int gst, gm, glm;
            if (std::sscanf(l.c_str(), "  G%lld: status=%d(%*[^)]) m=%d lockedm=%d", &id, &gst, &gm, &glm) != 4 &&
                std::sscanf(l.c_str(), "  G%lld: status=%d() m=%d lockedm=%d", &id, &gst, &gm, &glm) != 4)
                continue;
            if (id == gort_goid(nullptr)) {
                running++;
                EXPECT_EQ(gst, int(gort::Grunning)) << t;
                EXPECT_EQ(gm, m) << t;
            }
            for (auto want : ids)
                if (id == want) {
                    runnable++;
                    EXPECT_EQ(gst, int(gort::Grunnable)) << t;
                }
        }
        EXPECT_EQ(running, 1) << t;
        EXPECT_EQ(runnable, 3) << t;
        while (ran.load() != 3) gort_gosched();
    });
}

// Goroutines that park, ready, spawn and exit all the time, dumped over and
// over from a host thread and from a goroutine at once (the two dumpers also
// contend for the same scan bits), with schedtrace in between: no crash, no
// hang, the long-lived goroutines are in every dump with a full backtrace,
// and they all finish their work afterwards.
namespace {

struct Pair {
    Sema a, b;
    std::atomic<bool> *stop;
    std::atomic<int64_t> rounds{0};
    int64_t ida = -1, idb = -1;
};

}  // namespace

extern "C" {
__attribute__((noinline)) void trace_pingpong_a(Pair *p) {
    for (;;) {
        p->b.post();
        p->a.acquire();
        p->rounds.fetch_add(1, std::memory_order_relaxed);
        if (p->stop->load(std::memory_order_acquire)) {
            p->b.post();  // releases b for its last round
            break;
        }
    }
}
__attribute__((noinline)) void trace_pingpong_b(Pair *p) {
    for (;;) {
        p->b.acquire();
        p->a.post();
        if (p->stop->load(std::memory_order_acquire)) break;
    }
}
}

TEST(Trace, DumpWhileChurning) {
    const int kPairs = 4;
    const int kDumps = int(scaled(100, 15, 40));
    ASSERT_NO_FATAL_FAILURE(start_background(2));
    std::atomic<bool> stop{false};
    Pair pairs[kPairs];
    HostLatch finished(2 * kPairs + 2);  // pairs, the churner, the goroutine dumper
    struct Ctx {
        Pair *p;
        HostLatch *fin;
    };
    for (auto &p : pairs) {
        p.stop = &stop;
        Ctx c{&p, &finished};
        ASSERT_EQ(gort_go([](void *a) {
                      auto *c = static_cast<Ctx *>(a);
                      trace_pingpong_a(c->p);
                      c->fin->count_down();
                  },
                          &c, sizeof c, &p.ida),
                  GORT_OK);
        ASSERT_EQ(gort_go([](void *a) {
                      auto *c = static_cast<Ctx *>(a);
                      trace_pingpong_b(c->p);
                      c->fin->count_down();
                  },
                          &c, sizeof c, &p.idb),
                  GORT_OK);
    }
    // The churner: batches of short-lived goroutines that yield and exit.
    std::atomic<int64_t> churned{0};
    struct Churn {
        std::atomic<bool> *stop;
        std::atomic<int64_t> *churned;
        HostLatch *fin;
    } ch{&stop, &churned, &finished};
    ASSERT_EQ(gort_go([](void *a) {
                  auto *c = static_cast<Churn *>(a);
                  while (!c->stop->load(std::memory_order_acquire)) {
                      Join j(16);
                      for (int i = 0; i < 16; i++)
                          go([&j] {
                              gort_gosched();
                              j.done();
                          });
                      j.wait();
                      c->churned->fetch_add(16, std::memory_order_relaxed);
                  }
                  c->fin->count_down();
              },
                      &ch, 0, nullptr),
              GORT_OK);
    // The goroutine dumper.
    std::atomic<int> gdumps{0};
    std::atomic<int> gbad{0};
    struct GD {
        int n;
        std::atomic<int> *done, *bad;
        HostLatch *fin;
    } gd{kDumps, &gdumps, &gbad, &finished};
    ASSERT_EQ(gort_go([](void *a) {
                  auto *g = static_cast<GD *>(a);
                  for (int i = 0; i < g->n; i++) {
                      std::string d = dump();
                      if (d.find("goroutine ") == std::string::npos) g->bad->fetch_add(1);
                      g->done->fetch_add(1);
                      gort_gosched();
                  }
                  g->fin->count_down();
              },
                      &gd, 0, nullptr),
              GORT_OK);

    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    // Every pair has started (a goroutine that never ran shows its entry
    // function, the lambda, not trace_pingpong_*).
    for (auto &p : pairs)
        while (p.rounds.load(std::memory_order_relaxed) == 0) {
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "pairs did not start";
            std::this_thread::yield();
        }
    int checked = 0;
    for (int i = 0; i < kDumps; i++) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "dumps too slow: " << i << " done";
        std::string d = dump();
        if (i % 8 == 0) (void)schedtrace_str(i % 16 == 0);
        auto secs = parse_dump(d);
        for (auto &p : pairs) {
            for (int64_t id : {p.ida, p.idb}) {
                const Section *s = find(secs, id);
                ASSERT_NE(s, nullptr) << "goroutine " << id << " missing from dump " << i << ":\n" << d;
                if (s->has("running on other thread")) continue;
                ASSERT_TRUE(s->has("trace_pingpong_")) << "goroutine " << id << " in dump " << i << ":\n" << d;
                EXPECT_FALSE(s->has("bad saved context")) << d;
                EXPECT_FALSE(s->has("unwinding left")) << d;
                EXPECT_FALSE(s->has("busy")) << d;
                checked++;
            }
        }
    }
    stop.store(true, std::memory_order_release);
    ASSERT_TRUE(finished.wait_for(std::chrono::seconds(120))) << "goroutines did not finish after the dumps";
    EXPECT_EQ(gdumps.load(), kDumps);
    EXPECT_EQ(gbad.load(), 0);
    EXPECT_GT(checked, 0);
    for (auto &p : pairs) EXPECT_GT(p.rounds.load(), 0);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// GORT_DEBUG=schedtrace=N: sysmon prints a SCHED line every N ms while the
// runtime runs (here 150 ms of sleeping goroutines with schedtrace=10), with
// the configured gomaxprocs and growing timestamps. In a child process, with
// stderr on a pipe.
TEST(Trace, SchedtraceFromSysmon) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        gort_config cfg;
        gort_config_init(&cfg);
        cfg.maxprocs = 3;
        cfg.debug = "schedtrace=10,scheddetail=0";
        if (gort_init(&cfg) != GORT_OK) _exit(10);
        int rc = gort_main(
            [](void *) {
                for (int i = 0; i < 15; i++) gort_sleep(10 * 1000000);
            },
            nullptr);
        if (rc != GORT_OK || gort_shutdown() != GORT_OK) _exit(11);
        _exit(0);
    }
    close(fds[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
    std::vector<SchedLine> ss;
    for (auto &l : lines(out))
        if (l.rfind("SCHED ", 0) == 0) ss.push_back(parse_sched(l));
    ASSERT_GE(ss.size(), 5u) << "expected a SCHED line every 10 ms over 150 ms:\n" << out;
    for (size_t i = 0; i < ss.size(); i++) {
        EXPECT_EQ(ss[i].procs, 3) << out;
        EXPECT_GE(ss[i].threads, 2) << out;  // m0 and sysmon at least
        EXPECT_LE(ss[i].idleprocs, 3) << out;
        EXPECT_EQ(std::count(ss[i].rest.begin(), ss[i].rest.end(), ' '), 3) << "one queue length per P: " << ss[i].rest;
        if (i > 0) EXPECT_GE(ss[i].ms, ss[i - 1].ms) << out;
    }
    // Periodic on average: one line may be printed late (its thread was
    // descheduled after sysmon decided), which brings the next one closer
    // (TSan saw 3 ms between two lines), but not every line.
    EXPECT_GE(ss.back().ms - ss.front().ms, 5 * int64_t(ss.size() - 1)) << out;
}
