// bench/timer_bench.cc - timer lateness: 10,000 goroutines each sleep a
// random time in [1, 50] ms (gort_sleep); lateness = measured sleep -
// requested sleep, both with gort_nanotime. Reports, per run, the median and
// the p99 lateness, then the median over runs and the min-max.
//
//   timer_bench [--reps N] [--n GOROUTINES] [--procs P]
//
// Each run is a fresh gort_init .. gort_shutdown.
#include <gort/gort.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tests/util/park_sync.h"

namespace {

struct Run {
    int n;
    std::vector<int64_t> want, late;
    park_sync::Join *join;
};

struct Arg {
    Run *run;
    int i;
};

void sleeper(void *p) {
    Arg a = *static_cast<Arg *>(p);
    int64_t t0 = gort_nanotime();
    if (gort_sleep(a.run->want[size_t(a.i)]) != GORT_OK) abort();
    a.run->late[size_t(a.i)] = gort_nanotime() - t0 - a.run->want[size_t(a.i)];
    a.run->join->done();
}

void body(void *p) {
    Run *r = static_cast<Run *>(p);
    park_sync::Join j(r->n);
    r->join = &j;
    for (int i = 0; i < r->n; i++) {
        Arg a{r, i};
        if (gort_go(sleeper, &a, sizeof a, nullptr) != GORT_OK) abort();
    }
    j.wait();
}

int64_t pct(std::vector<int64_t> v, double q) {
    std::sort(v.begin(), v.end());
    size_t k = size_t(q * double(v.size() - 1) + 0.5);
    return v[k];
}

}  // namespace

int main(int argc, char **argv) {
    int reps = 5, n = 10000, procs = 0;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--n") && i + 1 < argc) n = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--procs") && i + 1 < argc) procs = std::atoi(argv[++i]);
        else {
            std::fprintf(stderr, "usage: %s [--reps N] [--n GOROUTINES] [--procs P]\n", argv[0]);
            return 2;
        }
    }
    std::vector<int64_t> medians, p99s, maxes;
    int64_t early = 0;
    std::mt19937 rng(1);
    for (int rep = 0; rep < reps; rep++) {
        Run r;
        r.n = n;
        r.want.resize(size_t(n));
        r.late.assign(size_t(n), 0);
        for (auto &w : r.want) w = (1 + int64_t(rng() % 50)) * 1000000;
        gort_config cfg;
        gort_config_init(&cfg);
        cfg.maxprocs = procs;
        if (gort_init(&cfg) != GORT_OK || gort_main(body, &r) != GORT_OK || gort_shutdown() != GORT_OK) {
            std::fprintf(stderr, "runtime failed\n");
            return 1;
        }
        for (int64_t l : r.late)
            if (l < 0) early++;
        if (getenv("TIMER_BENCH_SPLIT")) {
            std::vector<int64_t> lo, hi;
            for (int i = 0; i < n; i++) (r.want[size_t(i)] < 10000000 ? lo : hi).push_back(r.late[size_t(i)]);
            std::printf("  want<10ms: median %.1f p99 %.1f us; want>=10ms: median %.1f p99 %.1f us\n",
                        double(pct(lo, 0.5)) / 1e3, double(pct(lo, 0.99)) / 1e3, double(pct(hi, 0.5)) / 1e3,
                        double(pct(hi, 0.99)) / 1e3);
        }
        medians.push_back(pct(r.late, 0.5));
        p99s.push_back(pct(r.late, 0.99));
        maxes.push_back(pct(r.late, 1.0));
        std::printf("run %d: median %.1f us  p99 %.1f us  max %.1f us\n", rep, double(medians.back()) / 1e3,
                    double(p99s.back()) / 1e3, double(maxes.back()) / 1e3);
    }
    auto summary = [](const char *name, std::vector<int64_t> v) {
        std::sort(v.begin(), v.end());
        std::printf("%-16s median %8.1f us   min-max %8.1f - %8.1f us\n", name, double(v[v.size() / 2]) / 1e3,
                    double(v.front()) / 1e3, double(v.back()) / 1e3);
    };
    std::printf("timer lateness, %d goroutines sleeping [1,50] ms, %d runs, procs=%s\n", n, reps,
                procs ? std::to_string(procs).c_str() : "default");
    summary("median lateness", medians);
    summary("p99 lateness", p99s);
    summary("max lateness", maxes);
    std::printf("early wakeups: %lld\n", static_cast<long long>(early));
    return early == 0 ? 0 : 1;
}
