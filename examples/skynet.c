/*
 * skynet: the classic goroutine benchmark. A root goroutine spawns 10
 * children, each spawns 10, ... down to 1,000,000 leaves; each leaf returns
 * its number and every node sums its children's. Expected result:
 * 499999500000. Uses only gort/gort.h: joining is done with gort_park /
 * gort_ready.
 *
 * usage: skynet [leaves (power of 10, default 1000000)]
 */
#include <gort/gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* A join point on the waiting goroutine's stack: `pending` counts children
 * plus one for the waiter itself, so whichever of the last child and the
 * parked parent comes second knows it is last. */
struct join {
    _Atomic int64_t sum;
    atomic_int pending;
    gort_g *waiter;
};

struct child_arg {
    struct join *parent;
    int64_t num, size;
};

static void join_done(struct join *j, int64_t v) {
    atomic_fetch_add_explicit(&j->sum, v, memory_order_relaxed);
    if (atomic_fetch_sub_explicit(&j->pending, 1, memory_order_acq_rel) == 1) gort_ready(j->waiter);
}

/* unlockf: runs after the parent is marked waiting. If the children are
 * all done already, cancel the park (return 0). */
static int join_unlockf(gort_g *g, void *p) {
    struct join *j = p;
    (void)g;
    return atomic_fetch_sub_explicit(&j->pending, 1, memory_order_acq_rel) != 1;
}

static void skynet(void *p) {
    struct child_arg *a = p;
    if (a->size == 1) {
        join_done(a->parent, a->num);
        return;
    }
    struct join j;
    atomic_init(&j.sum, 0);
    atomic_init(&j.pending, 11);
    j.waiter = gort_self();
    int64_t sub = a->size / 10;
    for (int i = 0; i < 10; i++) {
        struct child_arg c = {&j, a->num + i * sub, sub};
        if (gort_go(skynet, &c, sizeof c, NULL) != GORT_OK) abort();
    }
    gort_park(join_unlockf, &j, "skynet join");
    join_done(a->parent, atomic_load(&j.sum));
}

static int64_t leaves = 1000000;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void main_goroutine(void *unused) {
    (void)unused;
    struct join root;
    atomic_init(&root.sum, 0);
    atomic_init(&root.pending, 2);
    root.waiter = gort_self();
    struct child_arg a = {&root, 0, leaves};
    double t0 = now_ms();
    gort_go(skynet, &a, sizeof a, NULL);
    gort_park(join_unlockf, &root, "skynet root");
    double t1 = now_ms();
    int64_t want = leaves * (leaves - 1) / 2;
    int64_t got = atomic_load(&root.sum);
    printf("skynet: result %lld (%s), %lld leaves, %.1f ms, %d procs\n", (long long)got,
           got == want ? "correct" : "WRONG", (long long)leaves, t1 - t0, gort_maxprocs());
    gort_stats st = {.size = sizeof st};
    gort_stats_get(&st);
    printf("stats: goroutines_created=%llu context_switches=%llu steals=%llu threads=%lld "
           "idle_threads=%lld idle_procs=%lld live_goroutines=%lld\n",
           (unsigned long long)st.goroutines_created, (unsigned long long)st.context_switches,
           (unsigned long long)st.steals, (long long)st.threads, (long long)st.idle_threads,
           (long long)st.idle_procs, (long long)st.goroutines);
    if (got != want) exit(1);
}

int main(int argc, char **argv) {
    if (argc > 1) leaves = atoll(argv[1]);
    int rc = gort_init(NULL);
    if (rc != GORT_OK) {
        fprintf(stderr, "gort_init: %s\n", gort_strerror(rc));
        return 1;
    }
    rc = gort_main(main_goroutine, NULL);
    if (rc != GORT_OK) {
        fprintf(stderr, "gort_main: %s\n", gort_strerror(rc));
        return 1;
    }
    gort_shutdown();
    return 0;
}
