// bench/chan_bench.cc - gort's channel and mutex workloads, timed in-process.
//
//   chan_bench [--reps N] [--filter SUBSTR]
//
// Prints one line per workload and proc count:
//   name procs median min max unit
// Each run is a fresh runtime (gort_init .. gort_shutdown); N runs (default
// 7) give the median and the min-max. These are gort's side of the
// chan_pingpong and mutex rows of bench/'s table against Go and Boost.Fiber:
//   chan_pingpong  two goroutines bounce an int over two unbuffered channels;
//                  ns per round trip (send + receive each way).
//   mutex          4 goroutines each lock and unlock one gort_mutex in a loop
//                  (an increment inside); ns per lock/unlock pair, total time
//                  over all pairs of all goroutines.
#include <gort/gort.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

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

void check(int rc) {
    if (rc != GORT_OK) {
        std::fprintf(stderr, "chan_bench: %s\n", gort_strerror(rc));
        abort();
    }
}

double chan_pingpong(int procs) {
    return in_runtime(procs, [] {
        const int64_t n = 500000;
        struct S {
            gort_chan *ping, *pong;
            gort_wg wg;
        } s{};
        check(gort_chan_new(sizeof(int64_t), 0, &s.ping));
        check(gort_chan_new(sizeof(int64_t), 0, &s.pong));
        check(gort_wg_add(&s.wg, 1));
        gort_go([](void *p) {
            auto *s = static_cast<S *>(p);
            int64_t v;
            for (int64_t i = 0; i < n; i++) {
                check(gort_chan_recv(s->ping, &v, nullptr));
                v++;
                check(gort_chan_send(s->pong, &v));
            }
            gort_wg_done(&s->wg);
        }, &s, 0, nullptr);
        int64_t v = 0;
        int64_t t0 = now_ns();
        for (int64_t i = 0; i < n; i++) {
            check(gort_chan_send(s.ping, &v));
            check(gort_chan_recv(s.pong, &v, nullptr));
        }
        double r = double(now_ns() - t0) / double(n);
        if (v != n) abort();
        check(gort_wg_wait(&s.wg));
        while (gort_numgoroutine() > 1) gort_gosched();  // the peer's last touch of the channels
        check(gort_chan_free(s.ping));
        check(gort_chan_free(s.pong));
        return r;
    });
}

double mutex4(int procs) {
    return in_runtime(procs, [] {
        const int ng = 4;
        const int64_t per = 1000000;
        struct S {
            gort_mutex m;
            gort_wg wg;
            int64_t counter;
        } s{};
        check(gort_wg_add(&s.wg, ng));
        int64_t t0 = now_ns();
        for (int g = 0; g < ng; g++) {
            gort_go([](void *p) {
                auto *s = static_cast<S *>(p);
                for (int64_t i = 0; i < per; i++) {
                    gort_mutex_lock(&s->m);
                    s->counter++;
                    gort_mutex_unlock(&s->m);
                }
                gort_wg_done(&s->wg);
            }, &s, 0, nullptr);
        }
        check(gort_wg_wait(&s.wg));
        double r = double(now_ns() - t0) / double(ng * per);
        if (s.counter != ng * per) abort();
        return r;
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
        {"chan_pingpong", "ns/roundtrip", chan_pingpong, {1, 2}},
        {"mutex", "ns/lock", mutex4, {2}},
    };
    std::printf("# name procs median min max unit\n");
    for (const Workload &w : ws) {
        if (!filter.empty() && std::string(w.name).find(filter) == std::string::npos) continue;
        for (int p : w.procs) {
            std::vector<double> v;
            for (int r = 0; r < reps; r++) v.push_back(w.fn(p));
            std::sort(v.begin(), v.end());
            std::printf("%s %d %.1f %.1f %.1f %s\n", w.name, p, v[v.size() / 2], v.front(), v.back(), w.unit);
            std::fflush(stdout);
        }
    }
}
