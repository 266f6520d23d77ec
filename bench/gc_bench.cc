// bench/gc_bench.cc - the time of one scan cycle (gort_quiesce) over many
// goroutines, for a host's collector (issue 6):
//   quiesce_scan      phase GORT_GC_SCAN: every goroutine's scan_g, which
//                     walks its precise roots (one managed frame, two
//                     pointer slots) with a counting visitor
//   quiesce_off       phase GORT_GC_OFF: every goroutine brought to a safe
//                     point, no scan work (the protocol's own cost)
//   quiesce_stw_scan  the same as quiesce_scan with the world stopped by the
//                     caller (gort_stop_the_world + gort_quiesce + start)
// N goroutines are parked (each with one managed frame) before the cycles;
// a few more run (spinning on gort_safepoint) when procs > 1, so running
// goroutines are asked to scan themselves.
//
//   gc_bench [--reps N] [--goroutines N[,N...]] [--procs P]
// Prints one line per workload: name goroutines procs median min max ms.
#include <gort/gort.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tests/util/park_sync.h"

namespace {

int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

const uint8_t frame_bits[] = {uint8_t(GORT_BITS_POINTER | GORT_BITS_SCALAR << 2 | GORT_BITS_POINTER << 4 |
                                      GORT_BITS_SCALAR << 6)};
const gort_stackmap frame_map[] = {{8, frame_bits}};
const gort_funcinfo frame_fi = {sizeof(gort_funcinfo), "gc_bench.frame", 4, 0, 1, frame_map, nullptr};

std::atomic<int64_t> scanned{0}, slots{0};
uintptr_t object;

void count_slot(void **slot, void *) {
    if (*slot == &object) slots.fetch_add(1, std::memory_order_relaxed);
}
void scan_g(const gort_scan *s, void *) {
    scanned.fetch_add(1, std::memory_order_relaxed);
    gort_scan_precise_roots(s, count_slot, nullptr);
}

struct Params {
    int64_t n;
    int procs;
    int reps;
};

struct Parked {
    std::atomic<gort_g *> g{nullptr};
};

void report(const char *name, const Params &p, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    std::printf("%-18s %8lld %2d %10.2f %10.2f %10.2f ms\n", name, (long long)p.n, p.procs, v[v.size() / 2], v.front(),
                v.back());
    std::fflush(stdout);
}

void body(void *arg) {
    const Params &p = *static_cast<Params *>(arg);
    gort_funcinfo_register(&frame_fi);
    gort_gc_hooks h{};
    h.size = sizeof h;
    h.scan_g = scan_g;
    if (gort_gc_set_hooks(&h) != GORT_OK) abort();

    std::vector<Parked> parked(static_cast<size_t>(p.n));
    park_sync::Join all_parked(p.n), finished(p.n);
    struct Ctx {
        Parked *slot;
        park_sync::Join *parked, *finished;
    };
    for (int64_t i = 0; i < p.n; i++) {
        Ctx c{&parked[size_t(i)], &all_parked, &finished};
        gort_go(
            [](void *a) {
                Ctx c = *static_cast<Ctx *>(a);
                auto *l = static_cast<uintptr_t *>(gort_mframe_push(&frame_fi));
                l[0] = l[2] = reinterpret_cast<uintptr_t>(&object);
                c.slot->g.store(gort_self());
                gort_park(
                    [](gort_g *, void *j) -> int {
                        static_cast<park_sync::Join *>(j)->done();
                        return 1;
                    },
                    c.parked, "gc_bench");
                gort_mframe_pop();
                c.finished->done();
            },
            &c, sizeof c, nullptr);
    }
    all_parked.wait();
    // Spinners keep the other Ps busy with running goroutines.
    std::atomic<bool> stop{false};
    int nspin = p.procs - 1;
    park_sync::Join spun(nspin);
    for (int i = 0; i < nspin; i++) {
        struct S {
            std::atomic<bool> *stop;
            park_sync::Join *j;
        } s{&stop, &spun};
        gort_go(
            [](void *a) {
                S s = *static_cast<S *>(a);
                while (!s.stop->load(std::memory_order_relaxed)) gort_safepoint();
                s.j->done();
            },
            &s, sizeof s, nullptr);
    }

    std::vector<double> scan, off, stw;
    for (int r = 0; r < p.reps; r++) {
        gort_gc_set_phase(GORT_GC_SCAN);
        scanned = 0;
        slots = 0;
        int64_t t0 = now_ns();
        gort_quiesce();
        int64_t t1 = now_ns();
        gort_gc_set_phase(GORT_GC_OFF);
        if (scanned.load() < p.n || slots.load() != 2 * p.n) {
            std::fprintf(stderr, "gc_bench: scanned %lld goroutines and %lld slots, expected >= %lld and %lld\n",
                         (long long)scanned.load(), (long long)slots.load(), (long long)p.n, (long long)(2 * p.n));
            abort();
        }
        scan.push_back(double(t1 - t0) / 1e6);

        t0 = now_ns();
        gort_quiesce();
        t1 = now_ns();
        off.push_back(double(t1 - t0) / 1e6);

        gort_gc_set_phase(GORT_GC_SCAN);
        t0 = now_ns();
        gort_stop_the_world("gc_bench");
        gort_quiesce();
        gort_start_the_world();
        t1 = now_ns();
        gort_gc_set_phase(GORT_GC_OFF);
        stw.push_back(double(t1 - t0) / 1e6);
    }
    report("quiesce_scan", p, scan);
    report("quiesce_off", p, off);
    report("quiesce_stw_scan", p, stw);

    stop.store(true);
    spun.wait();
    for (auto &g : parked) gort_ready(g.g.load());
    finished.wait();
}

}  // namespace

int main(int argc, char **argv) {
    int reps = 5, procs = 2;
    std::vector<int64_t> ns = {100000, 1000000};
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = std::atoi(argv[++i]);
        } else if (!std::strcmp(argv[i], "--procs") && i + 1 < argc) {
            procs = std::atoi(argv[++i]);
        } else if (!std::strcmp(argv[i], "--goroutines") && i + 1 < argc) {
            ns.clear();
            for (char *s = argv[++i]; *s;) {
                ns.push_back(std::strtoll(s, &s, 10));
                if (*s == ',') s++;
            }
        } else {
            std::fprintf(stderr, "usage: gc_bench [--reps N] [--goroutines N[,N...]] [--procs P]\n");
            return 2;
        }
    }
    std::printf("%-18s %8s %2s %10s %10s %10s\n", "workload", "gs", "P", "median", "min", "max");
    for (int64_t n : ns) {
        Params p{n, procs, reps};
        gort_config cfg;
        gort_config_init(&cfg);
        cfg.maxprocs = procs;
        if (gort_init(&cfg) != GORT_OK) abort();
        gort_main(body, &p);
        gort_shutdown();
    }
    return 0;
}
