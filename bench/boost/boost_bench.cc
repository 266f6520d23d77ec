// bench/boost/boost_bench.cc - Boost.Fiber's side of the benchmark table:
// the workloads of bench/gort_bench.cc, on Boost.Fiber 1.74 / Boost.Context.
//
//   boost_bench --workload NAME --procs P [--reps N] [--pool] [--quick]
//
// Prints `BENCH boost ...` (or `BENCH boost_pool ...` with --pool) lines as
// bench/common.h describes. One workload and one procs count per process:
// Boost's work_stealing algorithm can be set up only once per process (its
// thread count and barrier are function-local statics).
//
// How each gort notion maps onto Boost.Fiber here:
//   procs 1   the default round_robin scheduler on a fresh thread;
//   procs P   algo::work_stealing(P) on the main thread and P-1 workers, with
//             its default suspend=false (idle workers spin: Boost's fastest
//             setting), except for `idle`, which uses suspend=true (with
//             suspend=false two threads would spin at 100% by design);
//   park/ready  context::suspend(lk) / context::schedule(ctx), the primitive
//             boost::fibers::mutex itself is built on; Sema and Join below
//             mirror tests/util/park_sync.h over it;
//   stacks    default: fixedsize_stack (malloc, stack_traits::default_size());
//             --pool: pooled_fixedsize_stack (boost::pool, never returns
//             memory), behind a std::mutex when procs > 1 because boost::pool
//             is not thread-safe and a stolen fiber is freed on the thief.
#include <boost/context/detail/fcontext.hpp>
#include <boost/context/stack_traits.hpp>
#include <boost/fiber/all.hpp>
#include <boost/fiber/detail/spinlock.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/common.h"

namespace {

namespace bf = boost::fibers;
namespace bctx = boost::context;
using bench::now_ns;
using bf::context;
using bf::detail::spinlock;
using bf::detail::spinlock_lock;

int64_t g_div = 1;
int64_t scaled(int64_t n) { return std::max<int64_t>(1, n / g_div); }
bool g_pool = false;
const char *g_sys = "boost";
int g_procs = 1;
size_t g_stack_size = bctx::stack_traits::default_size();
bool g_suspend = false;  // work_stealing's suspend flag

// ---- stacks ----

// Pooled stacks, shareable across threads: boost::pool is not thread-safe.
struct LockedPool {
    struct State {
        std::mutex mu;
        bf::pooled_fixedsize_stack pool;
        explicit State(size_t s) : pool(s) {}
    };
    std::shared_ptr<State> st;
    bctx::stack_context allocate() {
        std::lock_guard<std::mutex> l(st->mu);
        return st->pool.allocate();
    }
    void deallocate(bctx::stack_context &sc) noexcept {
        std::lock_guard<std::mutex> l(st->mu);
        st->pool.deallocate(sc);
    }
};
std::unique_ptr<bf::pooled_fixedsize_stack> g_pool1;  // procs == 1
LockedPool g_poolN;                                   // procs > 1

// spawn: a detached fiber running fn on the configured stack allocator.
template <class Fn>
void spawn(Fn &&fn) {
    if (!g_pool) bf::fiber(std::allocator_arg, bf::fixedsize_stack(g_stack_size), std::forward<Fn>(fn)).detach();
    else if (g_procs == 1) bf::fiber(std::allocator_arg, *g_pool1, std::forward<Fn>(fn)).detach();
    else bf::fiber(std::allocator_arg, g_poolN, std::forward<Fn>(fn)).detach();
}

// ---- park/ready helpers (tests/util/park_sync.h, on Boost's suspend/schedule) ----

// Sema: a counting semaphore with one waiter at a time.
struct Sema {
    spinlock splk;
    int64_t count = 0;
    context *waiter = nullptr;
    void post() {
        context *w;
        {
            spinlock_lock lk{splk};
            w = waiter;
            waiter = nullptr;
            if (w == nullptr) count++;
        }
        if (w != nullptr) context::active()->schedule(w);
    }
    void acquire() {
        spinlock_lock lk{splk};
        if (count > 0) {
            count--;
            return;
        }
        waiter = context::active();
        waiter->suspend(lk);  // releases lk once switched away
    }
};

// Join: wait for n done() calls (a WaitGroup with one waiter).
struct Join {
    std::atomic<int64_t> pending;
    spinlock splk;
    bool fired = false;
    context *waiter = nullptr;
    explicit Join(int64_t n) : pending(n) {}
    void done() {
        if (pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        context *w;
        {
            spinlock_lock lk{splk};
            fired = true;
            w = waiter;
        }
        if (w != nullptr) context::active()->schedule(w);
    }
    void wait() {
        spinlock_lock lk{splk};
        if (fired) return;
        waiter = context::active();
        waiter->suspend(lk);
    }
};

// ---- running with P threads ----

// Runs body in a fiber scheduler with `procs` threads; returns its result.
double in_sched(int procs, const std::function<double()> &body) {
    double r = 0;
    if (procs == 1) {  // a fresh thread: a fresh round_robin scheduler
        std::thread t([&] { r = body(); });
        t.join();
        return r;
    }
    static bool used = false;
    if (used) {
        std::fprintf(stderr, "boost_bench: work_stealing can be set up once per process\n");
        std::abort();
    }
    used = true;
    bf::mutex mu;
    bf::condition_variable cv;
    bool stop = false;
    std::vector<std::thread> workers;
    for (int i = 1; i < procs; i++) {
        workers.emplace_back([&] {
            bf::use_scheduling_algorithm<bf::algo::work_stealing>(procs, g_suspend);
            std::unique_lock<bf::mutex> lk(mu);
            cv.wait(lk, [&] { return stop; });
        });
    }
    bf::use_scheduling_algorithm<bf::algo::work_stealing>(procs, g_suspend);
    r = body();
    {
        std::unique_lock<bf::mutex> lk(mu);
        stop = true;
    }
    cv.notify_all();
    for (auto &t : workers) t.join();
    return r;
}

// ---- workloads ----

// raw_switch: Boost.Context's fcontext switch, ns per switch.
namespace bcd = boost::context::detail;
double raw_switch(int) {
    const int64_t n = scaled(bench::kRawSwitches);
    std::vector<unsigned char> stack(64 * 1024);
    bcd::fcontext_t other = bcd::make_fcontext(stack.data() + stack.size(), stack.size(), [](bcd::transfer_t t) {
        for (;;) t = bcd::jump_fcontext(t.fctx, nullptr);
    });
    bcd::transfer_t t{other, nullptr};
    int64_t t0 = now_ns();
    for (int64_t i = 0; i < n; i++) t = bcd::jump_fcontext(t.fctx, nullptr);
    return double(now_ns() - t0) / double(2 * n);
}

double yield(int procs) {
    return in_sched(procs, [] {
        const int64_t n = scaled(bench::kYields);
        Join j(2);
        int64_t t0 = now_ns();
        for (int k = 0; k < 2; k++) spawn([&] {
            for (int64_t i = 0; i < n; i++) boost::this_fiber::yield();
            j.done();
        });
        j.wait();
        return double(now_ns() - t0) / double(2 * n);
    });
}

double park_ready(int procs) {
    return in_sched(procs, [] {
        const int64_t n = scaled(bench::kParkReadyRounds);
        Sema a, b;
        Join j(2);
        int64_t t0 = now_ns();
        spawn([&] {
            for (int64_t i = 0; i < n; i++) {
                b.post();
                a.acquire();
            }
            j.done();
        });
        spawn([&] {
            for (int64_t i = 0; i < n; i++) {
                b.acquire();
                a.post();
            }
            j.done();
        });
        j.wait();
        return double(now_ns() - t0) / double(2 * n);
    });
}

double chan_pingpong(int procs) {
    return in_sched(procs, [] {
        const int64_t n = scaled(bench::kChanRounds);
        bf::unbuffered_channel<int64_t> ping, pong;
        Join j(2);
        int64_t t0 = now_ns();
        spawn([&] {
            int64_t v;
            for (int64_t i = 0; i < n; i++) {
                ping.push(i);
                pong.pop(v);
            }
            j.done();
        });
        spawn([&] {
            int64_t v;
            for (int64_t i = 0; i < n; i++) {
                ping.pop(v);
                pong.push(v);
            }
            j.done();
        });
        j.wait();
        return double(now_ns() - t0) / double(n);
    });
}

double spawn_join(int procs) {
    return in_sched(procs, [] {
        const int64_t n = scaled(bench::kSpawns);
        Join j(n);
        int64_t t0 = now_ns();
        for (int64_t i = 0; i < n; i++) spawn([&j] { j.done(); });
        j.wait();
        return double(now_ns() - t0) / double(n);
    });
}

void sky(Join *parent, std::atomic<int64_t> *psum, int64_t num, int64_t size) {
    if (size == 1) {
        psum->fetch_add(num, std::memory_order_relaxed);
        parent->done();
        return;
    }
    Join j(10);
    std::atomic<int64_t> sum{0};
    int64_t sub = size / 10;
    for (int i = 0; i < 10; i++) {
        int64_t cn = num + i * sub;
        spawn([&j, &sum, cn, sub] { sky(&j, &sum, cn, sub); });
    }
    j.wait();
    psum->fetch_add(sum.load(), std::memory_order_relaxed);
    parent->done();
}
double skynet(int procs) {
    return in_sched(procs, [] {
        const int64_t leaves = bench::kSkynetLeaves / g_div;
        Join j(1);
        std::atomic<int64_t> sum{0};
        int64_t t0 = now_ns();
        spawn([&] { sky(&j, &sum, 0, leaves); });
        j.wait();
        if (sum.load() != leaves * (leaves - 1) / 2) std::abort();
        return double(now_ns() - t0) / 1e6;
    });
}

double mutex(int procs) {
    return in_sched(procs, [] {
        const int64_t n = scaled(bench::kMutexOps);
        bf::mutex mu;
        int64_t counter = 0;
        Join j(bench::kMutexGoroutines);
        int64_t t0 = now_ns();
        for (int k = 0; k < bench::kMutexGoroutines; k++) spawn([&] {
            for (int64_t i = 0; i < n; i++) {
                mu.lock();
                counter++;
                mu.unlock();
            }
            j.done();
        });
        j.wait();
        if (counter != n * bench::kMutexGoroutines) std::abort();
        return double(now_ns() - t0) / double(n * bench::kMutexGoroutines);
    });
}

// memory: fibers blocked on an unbuffered channel's pop; RSS delta / count.
double memory(int procs) {
    return in_sched(procs, [] {
        const int64_t n = scaled(bench::kBlocked);
        bf::unbuffered_channel<int64_t> ch;
        Join started(n), exited(n);
        int64_t rss0 = bench::rss_bytes();
        for (int64_t i = 0; i < n; i++) spawn([&] {
            started.done();
            int64_t v;
            ch.pop(v);  // returns closed once ch.close() runs
            exited.done();
        });
        started.wait();
        boost::this_fiber::yield();  // the last one reaches its pop
        double per = double(bench::rss_bytes() - rss0) / double(n);
        ch.close();
        exited.wait();
        return per;
    });
}

std::atomic<uint64_t> g_sink;
double fanout_seconds(int procs) {
    return in_sched(procs, [] {
        const int64_t n = scaled(bench::kFanoutTasks);
        Join j(n);
        int64_t t0 = now_ns();
        for (int64_t i = 0; i < n; i++) spawn([&j, i] {
            g_sink.fetch_add(bench::spin_work(uint64_t(i), bench::kFanoutIters), std::memory_order_relaxed);
            j.done();
        });
        j.wait();
        return double(now_ns() - t0) / 1e9;
    });
}
double fanout(int procs) {
    double t1 = fanout_seconds(1), t2 = fanout_seconds(procs);
    char b[160];
    std::snprintf(b, sizeof b, "1 proc %.1f ms, %d procs %.1f ms, %.1f us per task", t1 * 1e3, procs, t2 * 1e3,
                  t1 * 1e6 / double(scaled(bench::kFanoutTasks)));
    bench::emit_info(g_sys, "fanout", procs, b);
    return t1 / t2;
}

double idle(int procs) {
    return in_sched(procs, [] {
        Join j(bench::kIdleWarmTasks);
        for (int64_t i = 0; i < bench::kIdleWarmTasks; i++) spawn([&j] {
            g_sink.fetch_add(bench::spin_work(7, 500000), std::memory_order_relaxed);
            j.done();
        });
        j.wait();
        boost::this_fiber::sleep_for(std::chrono::milliseconds(bench::kIdleSettleMs));
        int64_t c0 = bench::cpu_ns(), t0 = now_ns();
        boost::this_fiber::sleep_for(std::chrono::seconds(1));
        int64_t c1 = bench::cpu_ns(), t1 = now_ns();
        return 100.0 * double(c1 - c0) / double(t1 - t0);
    });
}

}  // namespace

int main(int argc, char **argv) {
    std::string w;
    int reps = 1;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--workload") && i + 1 < argc) w = argv[++i];
        else if (!std::strcmp(argv[i], "--procs") && i + 1 < argc) g_procs = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--pool")) g_pool = true;
        else if (!std::strcmp(argv[i], "--quick")) g_div = bench::kQuickDiv;
        else {
            std::fprintf(stderr, "usage: %s --workload NAME --procs P [--reps N] [--pool] [--quick]\n", argv[0]);
            return 2;
        }
    }
    if (g_pool) g_sys = "boost_pool";
    struct W {
        const char *name, *unit;
        double (*fn)(int);
    };
    const W ws[] = {
        {"raw_switch", "ns/switch", raw_switch}, {"yield", "ns/yield", yield},
        {"park_ready", "ns/wake", park_ready},   {"chan_pingpong", "ns/roundtrip", chan_pingpong},
        {"spawn_join", "ns/goroutine", spawn_join}, {"skynet", "ms", skynet},
        {"mutex", "ns/lock", mutex},             {"memory_default", "B/goroutine", memory},
        {"memory_2k", "B/goroutine", memory},    {"fanout", "x", fanout},
        {"idle", "%cpu", idle},
    };
    const W *sel = nullptr;
    for (const W &x : ws)
        if (w == x.name) sel = &x;
    if (sel == nullptr) {
        std::fprintf(stderr, "boost_bench: unknown workload '%s'\n", w.c_str());
        return 2;
    }
    if (w == "memory_2k") {
        // Boost cannot run a fiber on 2 KiB: 2048 and 4096 bytes crash with
        // SIGSEGV (the fiber's context record and the channel-pop path do not
        // fit); 8 KiB is the smallest power of two that runs (measured
        // 2026-11-27, Boost 1.74). Boost's own stated minimum is
        // stack_traits::minimum_size().
        g_stack_size = 8192;
        bench::emit_info(g_sys, "memory_2k", g_procs,
                         "2048 and 4096-byte fiber stacks crash (SIGSEGV); used 8192; stack_traits::minimum_size()=" +
                             std::to_string(bctx::stack_traits::minimum_size()));
    }
    if (w == "idle") g_suspend = true;
    if (w == "fanout" || w == "idle" || w == "memory_2k" || w == "memory_default") {
        char b[200];
        std::string sched = g_procs == 1 ? std::string("round_robin")
                                         : "work_stealing(" + std::to_string(g_procs) +
                                               ", suspend=" + (g_suspend ? "true" : "false") + ")";
        if (w == "fanout") sched = "1 proc: round_robin; " + sched;
        std::snprintf(b, sizeof b, "stack %zu bytes (%s), %s", g_stack_size,
                      g_pool ? "pooled_fixedsize_stack" : "fixedsize_stack", sched.c_str());
        bench::emit_info(g_sys, sel->name, g_procs, b);
    }
    if (g_pool) {
        g_pool1 = std::make_unique<bf::pooled_fixedsize_stack>(g_stack_size);
        g_poolN.st = std::make_shared<LockedPool::State>(g_stack_size);
    }
    if (reps > 1 && g_procs > 1 && std::strcmp(sel->name, "raw_switch") != 0) {
        std::fprintf(stderr, "boost_bench: --reps > 1 needs procs 1 (work_stealing is once per process)\n");
        return 2;
    }
    for (int r = 0; r < reps; r++) bench::emit(g_sys, sel->name, g_procs, sel->fn(g_procs), sel->unit);
    std::fflush(stdout);
    // Fibers of a work_stealing scheduler cannot be torn down in order at
    // exit (its schedulers are statics); nothing is left to flush.
    std::_Exit(0);
}
