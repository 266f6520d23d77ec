/*
 * pynative_bench: the C side of bench.py's spawn comparison. Prints one line
 * "c_spawn_one N SECONDS" (pyn_spawn as one goroutine started from this host
 * thread, N leaves, joined with a wait group) and one line
 * "c_spawn_loop N SECONDS" (N gort_go calls from this host thread).
 * Both time from the first gort_go to the end of gort_wg_wait, as bench.py
 * does from Python.
 *
 * usage: pynative_bench [N (default 1000000)] [maxprocs (default 2)]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pynative.h"

static gort_wg wg;

static void wait_fn(void *arg) {
    (void)arg;
    gort_wg_wait(&wg);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int64_t n = argc > 1 ? atoll(argv[1]) : 1000000;
    gort_config cfg;
    gort_config_init(&cfg);
    cfg.maxprocs = argc > 2 ? atoi(argv[2]) : 2;
    if (gort_init(&cfg) != GORT_OK || gort_start() != GORT_OK) return 1;

    struct pyn_spawn_arg a = {n, &wg, 0};
    gort_wg_add(&wg, (int)n);
    double t0 = now();
    gort_go(pyn_spawn, &a, 0, NULL);
    gort_call_as_goroutine(wait_fn, NULL);
    printf("c_spawn_one %lld %.6f\n", (long long)n, now() - t0);

    gort_wg_add(&wg, (int)n);
    t0 = now();
    for (int64_t i = 0; i < n; i++) gort_go((gort_fn)(void (*)(void))gort_wg_done, &wg, 0, NULL);
    gort_call_as_goroutine(wait_fn, NULL);
    printf("c_spawn_loop %lld %.6f\n", (long long)n, now() - t0);
    return gort_shutdown() == GORT_OK && !a.failed ? 0 : 1;
}
