// bench/gort_bench.cc - gort's core workloads, timed in-process.
//
//   gort_bench [--reps N] [--filter SUBSTR]
//
// Each workload runs N times (default 7) in a fresh runtime (gort_init ..
// gort_shutdown) and reports the median and the min-max of its per-operation
// time. The workloads are the ones bench/ compares against Go and
// Boost.Fiber (issue: benchmarks); this program is gort's side of that
// table.
#include <gort/gort.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "arch/context.h"
#include "tests/park_sync.h"

namespace {

int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

using park_sync::Join;
using park_sync::Sema;

// Runs body as the main goroutine with `procs` Ps; returns its result.
double in_runtime(int procs, const std::function<double()> &body) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = procs;
    if (gort_init(&cfg) != GORT_OK) abort();
    struct Ctx {
        const std::function<double()> *b;
        double r;
    } c{&body, 0};
    gort_main([](void *p) { auto *c = static_cast<Ctx *>(p); c->r = (*c->b)(); }, &c);
    gort_shutdown();
    return c.r;
}

// ---- workloads: each returns ns per operation ----

// raw_switch: the bare arch switch between two contexts, ns per switch.
double raw_switch(int) {
    const int64_t n = 10000000;
    static void *main_sp, *other_sp;
    std::vector<unsigned char> stack(64 * 1024);
    other_sp = gort::arch::make_context(stack.data() + stack.size(), [](void *) {
        for (;;) gort_ctx_switch(&other_sp, main_sp);
    }, nullptr);
    int64_t t0 = now_ns();
    for (int64_t i = 0; i < n; i++) gort_ctx_switch(&main_sp, other_sp);
    return double(now_ns() - t0) / double(2 * n);
}

// yield: two goroutines calling gosched, ns per yield.
double yield(int procs) {
    return in_runtime(procs, [] {
        const int64_t n = 2000000;
        Join j(2);
        auto f = [](void *p) {
            for (int64_t i = 0; i < n; i++) gort_gosched();
            static_cast<Join *>(p)->done();
        };
        int64_t t0 = now_ns();
        gort_go(f, &j, 0, nullptr);
        gort_go(f, &j, 0, nullptr);
        j.wait();
        return double(now_ns() - t0) / double(2 * n);
    });
}

// park_ready: semaphore ping-pong between two goroutines, ns per wake.
double park_ready(int procs) {
    return in_runtime(procs, [] {
        const int64_t n = 1000000;
        struct S {
            Sema a, b;
            Join j{2};
        } s;
        int64_t t0 = now_ns();
        gort_go([](void *p) {
            auto *s = static_cast<S *>(p);
            for (int64_t i = 0; i < n; i++) {
                s->b.post();
                s->a.acquire();
            }
            s->j.done();
        }, &s, 0, nullptr);
        gort_go([](void *p) {
            auto *s = static_cast<S *>(p);
            for (int64_t i = 0; i < n; i++) {
                s->b.acquire();
                s->a.post();
            }
            s->j.done();
        }, &s, 0, nullptr);
        s.j.wait();
        return double(now_ns() - t0) / double(2 * n);
    });
}

// spawn_join: 1,000,000 empty goroutines spawned and joined, ns each.
double spawn_join(int procs) {
    return in_runtime(procs, [] {
        const int64_t n = 1000000;
        Join j(n);
        int64_t t0 = now_ns();
        for (int64_t i = 0; i < n; i++) gort_go([](void *p) { static_cast<Join *>(p)->done(); }, &j, 0, nullptr);
        j.wait();
        return double(now_ns() - t0) / double(n);
    });
}

// skynet: the 1,000,000-leaf tree, ms.
struct SkyArg {
    Join *parent;
    std::atomic<int64_t> *sum;
    int64_t num, size;
};
void sky(void *p) {
    auto *a = static_cast<SkyArg *>(p);
    if (a->size == 1) {
        a->sum->fetch_add(a->num, std::memory_order_relaxed);
        a->parent->done();
        return;
    }
    Join j(10);
    std::atomic<int64_t> sum{0};
    int64_t sub = a->size / 10;
    for (int i = 0; i < 10; i++) {
        SkyArg c{&j, &sum, a->num + i * sub, sub};
        gort_go(sky, &c, sizeof c, nullptr);
    }
    j.wait();
    a->sum->fetch_add(sum.load(), std::memory_order_relaxed);
    a->parent->done();
}
double skynet(int procs) {
    return in_runtime(procs, [] {
        Join j(1);
        std::atomic<int64_t> sum{0};
        SkyArg a{&j, &sum, 0, 1000000};
        int64_t t0 = now_ns();
        gort_go(sky, &a, sizeof a, nullptr);
        j.wait();
        if (sum.load() != 499999500000) abort();
        return double(now_ns() - t0) / 1e6;
    });
}

struct Workload {
    const char *name;
    const char *unit;
    double (*fn)(int);
    std::vector<int> procs;
};

}  // namespace

int main(int argc, char **argv) {
    int reps = 7;
    std::string filter;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    }
    const Workload ws[] = {
        {"raw_switch", "ns/switch", raw_switch, {1}},
        {"yield", "ns/yield", yield, {1}},
        {"park_ready", "ns/wake", park_ready, {1, 2}},
        {"spawn_join", "ns/goroutine", spawn_join, {1, 2}},
        {"skynet", "ms", skynet, {1, 2}},
    };
    std::printf("%-12s %5s %10s %21s  %s\n", "workload", "procs", "median", "min - max", "unit");
    for (const Workload &w : ws) {
        if (!filter.empty() && std::string(w.name).find(filter) == std::string::npos) continue;
        for (int p : w.procs) {
            std::vector<double> v;
            for (int r = 0; r < reps; r++) v.push_back(w.fn(p));
            std::sort(v.begin(), v.end());
            std::printf("%-12s %5d %10.1f %10.1f - %8.1f  %s\n", w.name, p, v[v.size() / 2], v.front(), v.back(),
                        w.unit);
            std::fflush(stdout);
        }
    }
}
