// bench/gort_bench.cc - gort's side of the benchmark table (issue 5 §2).
//
//   gort_bench [--reps N] [--filter SUBSTR] [--procs P] [--machine] [--quick]
//
// Each workload runs N times (default 7) in a fresh runtime (gort_init ..
// gort_shutdown). Without --machine it prints a human table: the median and
// the min-max per workload. With --machine it prints one `BENCH gort ...`
// line per run (bench/common.h) for bench/run.sh, which alternates this
// program with bench/go and bench/boost, one run at a time. --quick divides
// the counts by 10 (a smoke run; its numbers are not comparable).
//
// chan_pingpong and mutex sit in the marked CHANNELS/SYNC section, written
// by the channels issue to mirror bench/go's programs.
#include <gort/gort.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "arch/context.h"
#include "bench/common.h"
#include "tests/util/park_sync.h"

namespace {

using bench::now_ns;
using park_sync::Join;
using park_sync::Sema;

int64_t g_div = 1;  // --quick: kQuickDiv
int64_t scaled(int64_t n) { return std::max<int64_t>(1, n / g_div); }

// A result that does not exist yet (see the channels/sync section).
constexpr double kNotBuilt = NAN;
const char *const kNotBuiltWhy = "n/a (gort channels/mutex not built yet)";

// Runs body as the main goroutine with `procs` Ps and the given default
// stack size (0: gort's default); returns its result.
double in_runtime(int procs, const std::function<double()> &body, size_t stack_size = 0) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = procs;
    cfg.stack_size = stack_size;
    if (gort_init(&cfg) != GORT_OK) abort();
    struct Ctx {
        const std::function<double()> *b;
        double r;
    } c{&body, 0};
    gort_main([](void *p) { auto *c = static_cast<Ctx *>(p); c->r = (*c->b)(); }, &c);
    gort_shutdown();
    return c.r;
}

// ---- workloads: each returns one measurement in its row's unit ----

// raw_switch: the bare arch switch between two contexts, ns per switch.
double raw_switch(int) {
    const int64_t n = scaled(bench::kRawSwitches);
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
        static int64_t n;
        n = scaled(bench::kYields);
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
        struct S {
            int64_t n;
            Sema a, b;
            Join j{2};
        } s;
        s.n = scaled(bench::kParkReadyRounds);
        int64_t t0 = now_ns();
        gort_go([](void *p) {
            auto *s = static_cast<S *>(p);
            for (int64_t i = 0; i < s->n; i++) {
                s->b.post();
                s->a.acquire();
            }
            s->j.done();
        }, &s, 0, nullptr);
        gort_go([](void *p) {
            auto *s = static_cast<S *>(p);
            for (int64_t i = 0; i < s->n; i++) {
                s->b.acquire();
                s->a.post();
            }
            s->j.done();
        }, &s, 0, nullptr);
        s.j.wait();
        return double(now_ns() - t0) / double(2 * s.n);
    });
}

// spawn_join: 1,000,000 empty goroutines spawned and joined, ns each.
double spawn_join(int procs) {
    return in_runtime(procs, [] {
        const int64_t n = scaled(bench::kSpawns);
        Join j(n);
        int64_t t0 = now_ns();
        for (int64_t i = 0; i < n; i++) gort_go([](void *p) { static_cast<Join *>(p)->done(); }, &j, 0, nullptr);
        j.wait();
        return double(now_ns() - t0) / double(n);
    });
}

// skynet: the 1,000,000-leaf tree, ms. Each node spawns 10 children and
// joins them; children add their sums into the parent's atomic.
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
        const int64_t leaves = bench::kSkynetLeaves / g_div;
        Join j(1);
        std::atomic<int64_t> sum{0};
        SkyArg a{&j, &sum, 0, leaves};
        int64_t t0 = now_ns();
        gort_go(sky, &a, sizeof a, nullptr);
        j.wait();
        if (sum.load() != leaves * (leaves - 1) / 2) abort();
        return double(now_ns() - t0) / 1e6;
    });
}

// ==== CHANNELS/SYNC: the channels issue (issue 5 §1) fills this section ====
// chan_pingpong: unbuffered channel round trip between two goroutines, ns
// per round trip (bench/go: ping/pong chans; bench/boost: unbuffered_channel).
// As bench/go: one goroutine sends i on ping and waits on pong, the other
// echoes; the main goroutine waits on a WaitGroup.
double chan_pingpong(int procs) {
    return in_runtime(procs, [] {
        struct S {
            gort_chan *ping, *pong;
            gort_wg wg;
            int64_t n;
        } s{};
        s.n = scaled(bench::kChanRounds);
        if (gort_chan_new(sizeof(int64_t), 0, &s.ping) != GORT_OK) abort();
        if (gort_chan_new(sizeof(int64_t), 0, &s.pong) != GORT_OK) abort();
        gort_wg_add(&s.wg, 2);
        int64_t t0 = now_ns();
        gort_go([](void *p) {
            auto *s = static_cast<S *>(p);
            for (int64_t i = 0; i < s->n; i++) {
                int64_t v = i;
                if (gort_chan_send(s->ping, &v) != GORT_OK) abort();
                if (gort_chan_recv(s->pong, &v, nullptr) != GORT_OK || v != i) abort();
            }
            gort_wg_done(&s->wg);
        }, &s, 0, nullptr);
        gort_go([](void *p) {
            auto *s = static_cast<S *>(p);
            for (int64_t i = 0; i < s->n; i++) {
                int64_t v;
                if (gort_chan_recv(s->ping, &v, nullptr) != GORT_OK) abort();
                if (gort_chan_send(s->pong, &v) != GORT_OK) abort();
            }
            gort_wg_done(&s->wg);
        }, &s, 0, nullptr);
        gort_wg_wait(&s.wg);
        double r = double(now_ns() - t0) / double(s.n);
        // Both goroutines signalled the WaitGroup after their last channel
        // call returned: nothing uses the channels any more.
        if (gort_chan_free(s.ping) != GORT_OK || gort_chan_free(s.pong) != GORT_OK) abort();
        return r;
    });
}
// mutex: kMutexGoroutines goroutines each doing kMutexOps lock/unlock pairs
// of one mutex around a counter increment, ns per lock/unlock.
double mutex(int procs) {
    return in_runtime(procs, [] {
        struct S {
            gort_mutex mu;
            gort_wg wg;
            int64_t counter, n;
        } s{};
        s.n = scaled(bench::kMutexOps);
        gort_wg_add(&s.wg, int(bench::kMutexGoroutines));
        int64_t t0 = now_ns();
        for (int64_t k = 0; k < bench::kMutexGoroutines; k++) {
            gort_go([](void *p) {
                auto *s = static_cast<S *>(p);
                for (int64_t i = 0; i < s->n; i++) {
                    gort_mutex_lock(&s->mu);
                    s->counter++;
                    gort_mutex_unlock(&s->mu);
                }
                gort_wg_done(&s->wg);
            }, &s, 0, nullptr);
        }
        gort_wg_wait(&s.wg);
        if (s.counter != s.n * bench::kMutexGoroutines) abort();  // lost updates
        return double(now_ns() - t0) / double(s.n * bench::kMutexGoroutines);
    });
}
// ==== end of CHANNELS/SYNC ====

// memory: resident bytes per blocked goroutine, kBlocked of them, each
// blocked on a receive from one unbuffered channel as in Go's and Boost's
// programs. The delta of the process RSS over the spawn, divided by the
// count; then the channel is closed and every goroutine exits.
double memory_with(size_t stack_size) {
    return in_runtime(1, [] {
        const int64_t n = scaled(bench::kBlocked);
        struct A {
            Join started, exited;
            gort_chan *ch = nullptr;
            explicit A(int64_t n) : started(n), exited(n) {}
        } a(n);
        if (gort_chan_new(0, 0, &a.ch) != GORT_OK) abort();
        int64_t rss0 = bench::rss_bytes();
        for (int64_t i = 0; i < n; i++) {
            gort_go([](void *p) {
                auto *a = static_cast<A *>(p);
                a->started.done();
                gort_chan_recv(a->ch, nullptr, nullptr);
                a->exited.done();
            }, &a, 0, nullptr);
        }
        a.started.wait();
        gort_gosched();  // the last one reaches its receive
        double per = double(bench::rss_bytes() - rss0) / double(n);
        gort_chan_close(a.ch);
        a.exited.wait();
        gort_chan_free(a.ch);
        return per;
    }, stack_size);
}
double memory_default(int) { return memory_with(0); }

// The smallest execution stack gort_init accepts, trying 2 KiB first.
size_t smallest_accepted_stack(std::string *why) {
    for (size_t s = 2048;; s *= 2) {
        gort_config cfg;
        gort_config_init(&cfg);
        cfg.stack_size = s;
        int rc = gort_init(&cfg);
        if (rc == GORT_OK) {
            gort_shutdown();
            return s;
        }
        if (why->empty())
            *why = "gort_config.stack_size=" + std::to_string(s) + " -> " + gort_strerror(rc);
        if (s > (1u << 20)) abort();
    }
}
bool g_machine = false;
double memory_2k(int procs) {
    std::string why;
    size_t s = smallest_accepted_stack(&why);
    if (s != 2048 && g_machine)
        bench::emit_info("gort", "memory_2k", procs,
                         why + "; used the smallest accepted, " + std::to_string(s) + " bytes");
    return memory_with(s);
}

// fanout: kFanoutTasks CPU-bound goroutines of ~50 us; the speed-up of 2
// procs over 1 (time at 1 / time at 2), both timed in this run.
std::atomic<uint64_t> g_sink;
double fanout_seconds(int procs) {
    return in_runtime(procs, [] {
        const int64_t n = scaled(bench::kFanoutTasks);
        Join j(n);
        int64_t t0 = now_ns();
        for (int64_t i = 0; i < n; i++) {
            gort_go([](void *p) {
                g_sink.fetch_add(bench::spin_work(uint64_t(gort_goid(nullptr)), bench::kFanoutIters),
                                 std::memory_order_relaxed);
                static_cast<Join *>(p)->done();
            }, &j, 0, nullptr);
        }
        j.wait();
        return double(now_ns() - t0) / 1e9;
    });
}
double fanout(int procs) {
    double t1 = fanout_seconds(1), t2 = fanout_seconds(procs);
    if (g_machine) {
        char b[160];
        std::snprintf(b, sizeof b, "1 proc %.1f ms, %d procs %.1f ms, %.1f us per task", t1 * 1e3, procs,
                      t2 * 1e3, t1 * 1e6 / double(scaled(bench::kFanoutTasks)));
        bench::emit_info("gort", "fanout", procs, b);
    }
    return t1 / t2;
}

// idle: the CPU the process uses over 1 s while the runtime is started
// (background mode, gort_start) and idle, in percent of one core. Before
// the second, kIdleWarmTasks short CPU-bound goroutines wake the threads,
// and kIdleSettleMs lets spinning threads give up, as in bench/go and
// bench/boost.
double idle(int procs) {
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = procs;
    if (gort_init(&cfg) != GORT_OK || gort_start() != GORT_OK) abort();
    static std::atomic<int64_t> left;
    left = bench::kIdleWarmTasks;
    for (int64_t i = 0; i < bench::kIdleWarmTasks; i++) {
        gort_go([](void *) {
            g_sink.fetch_add(bench::spin_work(7, 500000), std::memory_order_relaxed);  // ~1 ms
            left.fetch_sub(1);
        }, nullptr, 0, nullptr);
    }
    while (left.load() != 0) bench::sleep_ms(1);  // host thread: nothing to park on
    bench::sleep_ms(bench::kIdleSettleMs);
    int64_t c0 = bench::cpu_ns(), t0 = now_ns();
    bench::sleep_ms(1000);
    int64_t c1 = bench::cpu_ns(), t1 = now_ns();
    gort_shutdown();
    return 100.0 * double(c1 - c0) / double(t1 - t0);
}

struct Workload {
    const char *name;
    const char *unit;
    double (*fn)(int);
    std::vector<int> procs;
};

}  // namespace

int main(int argc, char **argv) {
    int reps = 7, only_procs = 0;
    std::string filter;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else if (!std::strcmp(argv[i], "--procs") && i + 1 < argc) only_procs = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--machine")) g_machine = true;
        else if (!std::strcmp(argv[i], "--quick")) g_div = bench::kQuickDiv;
        else {
            std::fprintf(stderr, "usage: %s [--reps N] [--filter SUBSTR] [--procs P] [--machine] [--quick]\n",
                         argv[0]);
            return 2;
        }
    }
    const Workload ws[] = {
        {"raw_switch", "ns/switch", raw_switch, {1}},
        {"yield", "ns/yield", yield, {1}},
        {"park_ready", "ns/wake", park_ready, {1, 2}},
        {"chan_pingpong", "ns/roundtrip", chan_pingpong, {1, 2}},
        {"spawn_join", "ns/goroutine", spawn_join, {1, 2}},
        {"skynet", "ms", skynet, {1, 2}},
        {"mutex", "ns/lock", mutex, {2}},
        {"memory_default", "B/goroutine", memory_default, {1}},
        {"memory_2k", "B/goroutine", memory_2k, {1}},
        {"fanout", "x", fanout, {2}},
        {"idle", "%cpu", idle, {2}},
    };
    if (!g_machine) std::printf("%-14s %5s %10s %21s  %s\n", "workload", "procs", "median", "min - max", "unit");
    for (const Workload &w : ws) {
        if (!filter.empty() && std::string(w.name).find(filter) == std::string::npos) continue;
        // --procs P runs each selected workload at P procs only (any P: the
        // many-core scaling runs use 4..16).
        std::vector<int> plist = only_procs != 0 ? std::vector<int>{only_procs} : w.procs;
        for (int p : plist) {
            std::vector<double> v;
            for (int r = 0; r < reps; r++) {
                double x = w.fn(p);
                if (std::isnan(x)) break;
                v.push_back(x);
                if (g_machine) bench::emit("gort", w.name, p, x, w.unit);
            }
            if (v.empty()) {
                if (g_machine) bench::emit_na("gort", w.name, p, kNotBuiltWhy);
                else std::printf("%-14s %5d %s\n", w.name, p, kNotBuiltWhy);
                continue;
            }
            if (g_machine) continue;
            std::sort(v.begin(), v.end());
            int d = v.back() < 10 ? 3 : 1;  // idle's %cpu and fanout's x are small
            std::printf("%-14s %5d %10.*f %10.*f - %8.*f  %s\n", w.name, p, d, v[v.size() / 2], d, v.front(), d,
                        v.back(), w.unit);
            std::fflush(stdout);
        }
    }
}
