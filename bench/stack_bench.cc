// bench/stack_bench.cc - what stacks cost (core/stack/stack_alloc.h, core/stack/mstack.h).
//
//   stack_bench [--reps N] [--filter SUBSTR] [--parked N]
//
//   parked_rss    resident bytes per parked goroutine (1,000,000 by
//                 default) with the default and the smallest execution
//                 stack, and the process's VMA count against
//                 vm.max_map_count;
//   mstack_grow   the cost of growing a managed stack from 2 KiB to 1 MiB
//                 (1 KiB frames, a quarter of their words pointers into the
//                 previous frame): the pushes on an empty stack minus the
//                 same pushes on a stack already 1 MiB;
//   mframe_push_pop  a push and a pop of a small managed frame;
//   exec_depth    the deepest execution-stack use of ordinary C/C++ calls
//                 made from a goroutine, measured by pre-filling the stack
//                 with a pattern (the measurement behind the default size).
//
// Each figure is the median and min-max over N runs (default 5), each in a
// fresh runtime.
#include <gort/gort.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/sched/runtime2.h"
#include "core/stack/stack_alloc.h"

namespace {

int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

long resident_bytes() {
    long size = 0, res = 0;
    if (FILE *f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
        std::fclose(f);
    }
    return res * sysconf(_SC_PAGESIZE);
}

long count_vmas() {
    long n = 0;
    if (FILE *f = std::fopen("/proc/self/maps", "r")) {
        int c;
        while ((c = std::fgetc(f)) != EOF) n += c == '\n';
        std::fclose(f);
    }
    return n;
}

long max_map_count() {
    long v = 65530;
    if (FILE *f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
        if (std::fscanf(f, "%ld", &v) != 1) v = 65530;
        std::fclose(f);
    }
    return v;
}

double in_runtime(int procs, std::size_t stack_size, const std::function<double()> &body) {
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

// ---- parked_rss ----
int64_t nparked = 1000000;
long last_vmas = 0;

double parked_rss(std::size_t stack_size) {
    return in_runtime(2, stack_size, [] {
        static std::atomic<int64_t> parked;
        parked = 0;
        long before = resident_bytes();
        for (int64_t i = 0; i < nparked; i++) {
            gort_go([](void *) {
                gort_park([](gort_g *, void *) -> int {
                    parked.fetch_add(1, std::memory_order_relaxed);
                    return 1;
                }, nullptr, "parked");
            }, nullptr, 0, nullptr);
        }
        while (parked.load() < nparked) gort_gosched();
        long after = resident_bytes();
        last_vmas = count_vmas();
        return double(after - before) / double(nparked);
    });
}

// ---- mstack_grow ----
constexpr uint32_t kFrameWords = 128;  // 1 KiB of locals
uint8_t grow_bits[kFrameWords / 4];
gort_stackmap grow_map[1];
gort_funcinfo grow_fi;

void *prev_frame;  // a registered root: the pushes adjust it when they move the stack

void push_frames(int n) {
    for (int i = 0; i < n; i++) {
        prev_frame = gort_mframe_top();
        auto *l = static_cast<uintptr_t *>(gort_mframe_push(&grow_fi));
        if (l == nullptr) abort();
        auto *prev = static_cast<uintptr_t *>(prev_frame);
        for (uint32_t w = 0; w < kFrameWords; w++)
            l[w] = (w % 4 == 0) ? (prev ? reinterpret_cast<uintptr_t>(&prev[w + 1]) : 0) : uintptr_t(i);
    }
}

double mstack_grow(std::size_t) {
    return in_runtime(1, 0, [] {
        for (auto &b : grow_bits) b = uint8_t(GORT_BITS_POINTER | GORT_BITS_SCALAR << 2 | GORT_BITS_SCALAR << 4 |
                                             GORT_BITS_SCALAR << 6);
        grow_map[0] = gort_stackmap{2 * kFrameWords, grow_bits};
        grow_fi = gort_funcinfo{sizeof(gort_funcinfo), "grow", kFrameWords, 0, 1, grow_map, nullptr};
        if (gort_funcinfo_register(&grow_fi) != GORT_OK) abort();
        if (gort_mstack_root_add(&prev_frame) != GORT_OK) abort();
        auto *g = reinterpret_cast<gort::G *>(gort_self());
        // Frames that fill 1 MiB exactly once grown: count them first.
        int n = 0;
        int64_t t0 = now_ns();
        while (g->mstack.lo == 0 || g->mstack.hi - g->mstack.lo < (std::size_t(1) << 20)) {
            push_frames(1);
            n++;
        }
        int64_t grow = now_ns() - t0;
        for (int i = 0; i < n; i++) gort_mframe_pop();
        int64_t t1 = now_ns();
        push_frames(n);
        int64_t nogrow = now_ns() - t1;
        for (int i = 0; i < n; i++) gort_mframe_pop();
        gort_mstack_root_remove(&prev_frame);
        return double(grow - nogrow) / 1000.0;  // microseconds
    });
}

// ---- mframe_push_pop ----
double mframe_push_pop(std::size_t) {
    return in_runtime(1, 0, [] {
        static const uint8_t bits[] = {uint8_t(GORT_BITS_POINTER | GORT_BITS_SCALAR << 2 | GORT_BITS_SCALAR << 4 |
                                               GORT_BITS_SCALAR << 6)};
        static const gort_stackmap map[] = {{8, bits}};
        static const gort_funcinfo fi = {sizeof(gort_funcinfo), "small", 4, 0, 1, map, nullptr};
        if (gort_funcinfo_register(&fi) != GORT_OK) abort();
        const int64_t n = 10000000;
        gort_mframe_pop();
        int64_t t0 = now_ns();
        for (int64_t i = 0; i < n; i++) {
            auto *l = static_cast<uintptr_t *>(gort_mframe_push(&fi));
            l[1] = uintptr_t(i);
            gort_mframe_pop();
        }
        return double(now_ns() - t0) / double(n);
    });
}

// ---- exec_depth ----
int depth_case = 0;
const char *const depth_names[] = {
    "printf(\"%d %s\")", "printf floats (%f %g %e)", "snprintf(\"%.40f\")", "C++ throw/catch",
    "std::to_string(1e300)", "fprintf(\"%.1000f\")", "snprintf(\"%Lf\", 1e4000L)",
    "fprintf(unbuffered, like stderr, floats)",
};
constexpr int kDepthCases = 8;

[[gnu::noinline]] void fill_pattern(uintptr_t lo, uintptr_t hi) {
    for (uintptr_t p = lo; p < hi; p++) *reinterpret_cast<volatile uint8_t *>(p) = 0xa5;
}

FILE *devnull, *unbuffered;

[[gnu::noinline]] void run_case(int c) {
    char buf[512];
    switch (c) {
        case 0: std::fprintf(devnull, "%d %s\n", 42, "x"); break;  // a buffered stream, as stdout
        case 1: std::fprintf(devnull, "%f %g %e\n", 3.14159, 1e300, 2.5e-300); break;
        case 2: std::snprintf(buf, sizeof buf, "%.40f", 1.0 / 3); break;
        case 3:
            try {
                throw std::runtime_error("boom");
            } catch (const std::exception &e) {
                std::snprintf(buf, sizeof buf, "%s", e.what());
            }
            break;
        case 4: std::snprintf(buf, sizeof buf, "%s", std::to_string(1e300).c_str()); break;
        case 5: {
            FILE *f = std::fopen("/dev/null", "w");
            std::fprintf(f, "%.1000f", 1e300);
            std::fclose(f);
            break;
        }
        case 6: std::snprintf(buf, sizeof buf, "%Lf", 1e4000L); break;
        // glibc formats into an 8 KiB buffer on the stack for unbuffered
        // streams such as stderr.
        case 7: std::fprintf(unbuffered, "%f %g %e\n", 3.14159, 1e300, 2.5e-300); break;
    }
    asm volatile("" ::"r"(buf) : "memory");
}

double exec_depth(std::size_t) {
    return in_runtime(1, 0, [] {
        static double used;
        struct J {
            std::atomic<bool> done{false};
        } j;
        gort_go([](void *p) {
            auto *g = reinterpret_cast<gort::G *>(gort_self());
            uintptr_t lo = gort::stack_usable_lo(g->stack) + (g->stackcanary ? 64 : 0);
            volatile char here = 0;
            uintptr_t top = reinterpret_cast<uintptr_t>(&here);
            fill_pattern(lo, top - 1024);
            run_case(depth_case);
            uintptr_t q = lo;
            while (*reinterpret_cast<volatile uint8_t *>(q) == 0xa5) q++;
            used = double(top - q);
            static_cast<J *>(p)->done = true;
        }, &j, 0, nullptr);
        while (!j.done.load()) gort_gosched();
        return used;
    });
}

}  // namespace

int main(int argc, char **argv) {
    int reps = 5;
    std::string filter;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else if (!std::strcmp(argv[i], "--parked") && i + 1 < argc) nparked = std::atoll(argv[++i]);
    }
    auto report = [&](const char *name, const char *unit, std::function<double()> fn) {
        std::vector<double> v;
        for (int r = 0; r < reps; r++) v.push_back(fn());
        std::sort(v.begin(), v.end());
        std::printf("%-44s %10.1f %10.1f - %10.1f  %s\n", name, v[v.size() / 2], v.front(), v.back(), unit);
        std::fflush(stdout);
    };
    devnull = std::fopen("/dev/null", "w");
    unbuffered = std::fopen("/dev/null", "w");
    setvbuf(unbuffered, nullptr, _IONBF, 0);
    std::printf("%-44s %10s %23s  %s\n", "workload", "median", "min - max", "unit");
    if (filter.empty() || std::string("parked_rss").find(filter) != std::string::npos) {
        char name[96];
        for (std::size_t sz : {gort::kDefaultStackSize, gort::kMinStackSize}) {
            std::snprintf(name, sizeof name, "parked_rss %lld x %zu KiB stack", (long long)nparked, sz / 1024);
            report(name, "bytes/goroutine", [&] { return parked_rss(sz); });
            std::printf("%-44s %10ld (vm.max_map_count %ld)\n", "  VMAs with all of them parked", last_vmas,
                        max_map_count());
        }
    }
    if (filter.empty() || std::string("mstack_grow").find(filter) != std::string::npos)
        report("mstack_grow 2 KiB -> 1 MiB (9 copies)", "us", [] { return mstack_grow(0); });
    if (filter.empty() || std::string("mframe_push_pop").find(filter) != std::string::npos)
        report("mframe_push_pop (4-word frame)", "ns/pair", [] { return mframe_push_pop(0); });
    if (filter.empty() || std::string("exec_depth").find(filter) != std::string::npos) {
        for (int c = 0; c < kDepthCases; c++) {
            depth_case = c;
            char name[96];
            std::snprintf(name, sizeof name, "exec_depth %s", depth_names[c]);
            report(name, "bytes", [] { return exec_depth(0); });
        }
    }
}
