// bench/runtime_bench.cc - latencies of the runtime's control paths:
//   syscall_handoff   1 P: a goroutine blocks inside gort_entersyscall; time
//                     until a second goroutine runs (sysmon's retake)
//   syscall_block     the same with gort_entersyscallblock (immediate handoff)
//   preempt_latency   1 P: a goroutine loops on gort_safepoint; time until a
//                     second goroutine runs (sysmon's preemptone)
//   syscall_roundtrip gort_entersyscall + gort_exitsyscall, ns per pair
//   call_as_goroutine a host thread calling an empty function as a goroutine
//                     (bound extra M), ns per call, background mode
//   stw_roundtrip     gort_stop_the_world + gort_start_the_world with 2 Ps
//                     busy, us per pair
//
//   runtime_bench [--reps N] [--filter SUBSTR]
// Prints one line per workload and procs: name procs median min max unit.
#include <gort/gort.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/park_sync.h"

namespace {

int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

using park_sync::Join;

void init(int procs) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = procs;
    if (gort_init(&cfg) != GORT_OK) abort();
}

// Runs body as the main goroutine; returns its result.
double in_main(int procs, const std::function<double()> &body) {
    init(procs);
    struct Ctx {
        const std::function<double()> *b;
        double r;
    } c{&body, 0};
    gort_main([](void *p) { auto *c = static_cast<Ctx *>(p); c->r = (*c->b)(); }, &c);
    gort_shutdown();
    return c.r;
}

template <class F>
void spawn(F *f) {
    gort_go([](void *p) { (*static_cast<F *>(p))(); }, f, 0, nullptr);
}

// ms until a second goroutine runs while the first holds the only P in a
// blocking call (block: entersyscallblock) or a safepoint loop (preempt).
double handoff_ms(int mode) {
    return in_main(1, [mode] {
        std::atomic<int> b_ran{0};
        std::atomic<int64_t> t0{0}, t1{0};
        Join join(2);
        auto a = [&] {
            t0 = now_ns();
            if (mode == 2) {
                while (b_ran.load(std::memory_order_relaxed) == 0) gort_safepoint();
            } else {
                if (mode == 1) gort_entersyscallblock(); else gort_entersyscall();
                while (b_ran.load(std::memory_order_relaxed) == 0) {
                    timespec ts{0, 20000};
                    nanosleep(&ts, nullptr);  // a blocking call
                }
                gort_exitsyscall();
            }
            join.done();
        };
        auto b = [&] {
            t1 = now_ns();
            b_ran = 1;
            join.done();
        };
        spawn(&a);
        spawn(&b);
        join.wait();
        return double(t1.load() - t0.load()) / 1e6;
    });
}

double syscall_roundtrip(int procs) {
    return in_main(procs, [] {
        const int n = 2000000;
        int64_t t = now_ns();
        for (int i = 0; i < n; i++) {
            gort_entersyscall();
            gort_exitsyscall();
        }
        return double(now_ns() - t) / n;
    });
}

double call_as_goroutine(int procs) {
    init(procs);
    gort_start();
    const int n = 1000000;
    double r = 0;
    std::thread t([&] {
        gort_call_as_goroutine([](void *) {}, nullptr);  // binds the extra M
        int64_t t0 = now_ns();
        for (int i = 0; i < n; i++) gort_call_as_goroutine([](void *) {}, nullptr);
        r = double(now_ns() - t0) / n;
    });
    t.join();
    gort_shutdown();
    return r;
}

double stw_roundtrip(int procs) {
    return in_main(procs, [procs] {
        std::atomic<bool> stop{false};
        Join join(procs);
        auto busy = [&] {
            while (!stop.load(std::memory_order_relaxed)) gort_safepoint();
            join.done();
        };
        for (int i = 0; i < procs; i++) spawn(&busy);
        gort_gosched();
        const int n = 2000;
        int64_t t = now_ns();
        for (int i = 0; i < n; i++) {
            gort_stop_the_world("bench");
            gort_start_the_world();
        }
        double r = double(now_ns() - t) / n / 1000;
        stop = true;
        join.wait();
        return r;
    });
}

struct Workload {
    const char *name;
    std::vector<int> procs;
    const char *unit;
    std::function<double(int)> run;
};

}  // namespace

int main(int argc, char **argv) {
    int reps = 7;
    const char *filter = nullptr;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    }
    std::vector<Workload> ws = {
        {"syscall_handoff", {1}, "ms", [](int) { return handoff_ms(0); }},
        {"syscall_block", {1}, "ms", [](int) { return handoff_ms(1); }},
        {"preempt_latency", {1}, "ms", [](int) { return handoff_ms(2); }},
        {"syscall_roundtrip", {1, 2}, "ns", syscall_roundtrip},
        {"call_as_goroutine", {1, 2}, "ns", call_as_goroutine},
        {"stw_roundtrip", {1, 2}, "us", stw_roundtrip},
    };
    for (auto &w : ws) {
        if (filter && !std::strstr(w.name, filter)) continue;
        for (int p : w.procs) {
            std::vector<double> v;
            int n = std::strstr(w.name, "handoff") || std::strstr(w.name, "latency") || std::strstr(w.name, "block")
                        ? reps * 5
                        : reps;
            for (int i = 0; i < n; i++) v.push_back(w.run(p));
            std::sort(v.begin(), v.end());
            std::printf("%s %d %.3f %.3f %.3f %s\n", w.name, p, v[v.size() / 2], v.front(), v.back(), w.unit);
            std::fflush(stdout);
        }
    }
}
