/*
 * gc_demo: a host collector (examples/minigc) on gort's GC hooks, in each of
 * its three modes: concurrent mark-sweep, stop-the-world mark-sweep with GC
 * helpers, and semispace copying. Uses only gort/gort.h and minigc.h.
 *
 * A few hundred worker goroutines each own two linked lists of minigc
 * objects: one whose head lives in a managed-stack frame slot, one whose
 * head lives in a native local registered with gort_mstack_root_add. Each
 * round (one per collection, run while the collection runs) a worker checks
 * both lists against what it built, pushes new nodes, drops old ones, and
 * recurses through managed frames that each hold a short-lived object
 * (growing its managed stack) with a yield at the bottom. Nodes link to the
 * next older node (field 0), to themselves (field 1: dropped nodes are
 * cyclic garbage) and to the node two older (field 2). When the workers
 * finish, one more collection must free every object.
 *
 * usage: gc_demo [goroutines (default 300)] [collections per mode (default 40)]
 * Exits 1 on any mismatch.
 */
#include <gort/gort.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "minigc/minigc.h"

enum { PUSH_FRAME = 8, PUSH_ROOT = 4, MAXLEN = 32, KEEP = 12, NEST = 16 };

#define BITS4(a, b, c, d) ((uint8_t)((a) | (b) << 2 | (c) << 4 | (d) << 6))
#define P GORT_BITS_POINTER
#define S GORT_BITS_SCALAR
#define D GORT_BITS_DEAD

/* Worker frame: [0] frame list head, [1] unused pointer slot (NULL),
 * [2] scalar: last round, [3] pointer into this frame (&[2]): not an object,
 * the collector must leave it to gort, which adjusts it when the stack
 * moves. */
static const uint8_t worker_map[] = {BITS4(P, P, S, P)};
static const gort_stackmap worker_locals[] = {{8, worker_map}};
static const gort_funcinfo worker_fi = {sizeof(gort_funcinfo), "gc_demo.worker", 4, 0, 1, worker_locals, NULL};

/* Nest frame: 64 words, [0] an object, [1] scalar: depth, the rest dead. */
static const uint8_t nest_map[16] = {BITS4(P, S, D, D)};
static const gort_stackmap nest_locals[] = {{128, nest_map}};
static const gort_funcinfo nest_fi = {sizeof(gort_funcinfo), "gc_demo.nest", 64, 0, 1, nest_locals, NULL};

struct list {
    int no;          /* 0: frame list, 1: root list */
    uint32_t lo, hi; /* the list holds seq hi-1 (head) down to lo */
};

struct worker {
    int id;
    gort_chan *cmd;
    struct list fl, rl;
    uint64_t dropped; /* objects this worker made unreachable */
    int broken;       /* a mismatch was found: stop mutating */
};

static minigc_heap *heap;
static gort_wg wg;
static int64_t errors; /* atomic */

static void fail(struct worker *w, const char *what, uint64_t a, uint64_t b) {
    w->broken = 1;
    if (__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED) < 10)
        fprintf(stderr, "gc_demo: worker %d: %s (%llx, %llx)\n", w->id, what, (unsigned long long)a,
                (unsigned long long)b);
}

static uintptr_t payload(const struct worker *w, int no, uint32_t seq) {
    return (uintptr_t)w->id << 40 | (uintptr_t)no << 32 | seq;
}

/* None of the list functions reaches a safe point: slot may point into the
 * managed stack. */
static void list_push(struct worker *w, struct list *l, void **slot, int n) {
    for (int i = 0; i < n; i++) {
        minigc_obj *head = *slot;
        minigc_obj *o = minigc_alloc(heap, payload(w, l->no, l->hi));
        if (o == NULL) {
            fail(w, "heap full", l->hi, 0);
            return;
        }
        minigc_store(heap, o, 0, head);
        minigc_store(heap, o, 1, o);
        minigc_store(heap, o, 2, head != NULL ? minigc_field(head, 0) : NULL);
        *slot = o;
        l->hi++;
    }
}

static void list_truncate(struct worker *w, struct list *l, void **slot, uint32_t keep) {
    uint32_t len = l->hi - l->lo;
    if (len <= keep) return;
    minigc_obj *p = *slot;
    for (uint32_t k = 1; k < keep && p != NULL; k++) {
        if (k == keep - 1) minigc_store(heap, p, 2, NULL); /* its field 2 is the new tail's field 0 */
        p = minigc_field(p, 0);
    }
    if (p == NULL) {
        fail(w, "list broken while truncating", l->no, l->lo);
        return;
    }
    minigc_store(heap, p, 0, NULL);
    minigc_store(heap, p, 2, NULL);
    w->dropped += len - keep;
    l->lo = l->hi - keep;
}

static void list_verify(struct worker *w, const struct list *l, void **slot) {
    minigc_obj *p = *slot;
    for (uint32_t seq = l->hi; seq-- > l->lo;) {
        if (p == NULL || !minigc_is_object(heap, p)) {
            fail(w, "list node lost", l->no, seq);
            return;
        }
        if (minigc_payload(p) != payload(w, l->no, seq)) {
            fail(w, "payload", minigc_payload(p), payload(w, l->no, seq));
            return;
        }
        minigc_obj *older = minigc_field(p, 0), *older2 = minigc_field(p, 2);
        if (minigc_field(p, 1) != p) fail(w, "self link", l->no, seq);
        if (seq > l->lo ? older == NULL || minigc_payload(older) != payload(w, l->no, seq - 1) : older != NULL)
            fail(w, "field 0", l->no, seq);
        if (seq >= l->lo + 2 ? older2 == NULL || minigc_payload(older2) != payload(w, l->no, seq - 2)
                             : older2 != NULL)
            fail(w, "field 2", l->no, seq);
        p = older;
    }
    if (p != NULL) fail(w, "list too long", l->no, l->lo);
}

/* Recursion through managed frames, each holding an object only there;
 * the stack grows; a yield at the bottom lets collections (and, when
 * moving, a copy of every object) happen under it. */
static void nest(struct worker *w, uint32_t depth) {
    void **f = gort_mframe_push(&nest_fi);
    if (f == NULL) {
        fail(w, "mframe_push", (uint64_t)gort_last_error(), depth);
        return;
    }
    minigc_obj *o = minigc_alloc(heap, payload(w, 2, depth));
    if (o == NULL) fail(w, "heap full", depth, 0);
    f[0] = o;
    f[1] = (void *)(uintptr_t)depth;
    if (depth + 1 < NEST) nest(w, depth + 1);
    else gort_gosched();
    f = gort_mframe_top(); /* re-read: the stack and the objects may have moved */
    if ((uintptr_t)f[1] != depth) fail(w, "nest frame", (uintptr_t)f[1], depth);
    if (f[0] == NULL || minigc_payload(f[0]) != payload(w, 2, depth))
        fail(w, "nest object", f[0] != NULL ? minigc_payload(f[0]) : 0, payload(w, 2, depth));
    gort_mframe_pop();
    w->dropped++;
}

static void check_frame(struct worker *w, void **f, uintptr_t round) {
    if (f[3] != (void *)&f[2]) fail(w, "frame self pointer", (uintptr_t)f[3], (uintptr_t)&f[2]);
    if ((uintptr_t)f[2] != round) fail(w, "frame scalar", (uintptr_t)f[2], round);
    if (f[1] != NULL) fail(w, "frame slot 1", (uintptr_t)f[1], 0);
}

static void worker_main(void *arg) {
    struct worker *w = *(struct worker **)arg;
    void *rootlist = NULL; /* a registered root: the collector may rewrite it */
    if (gort_mstack_root_add(&rootlist) != GORT_OK) fail(w, "root_add", 0, 0);
    void **f = gort_mframe_push(&worker_fi);
    f[3] = &f[2];
    uintptr_t round = 0;
    for (;;) {
        int cmd = -1, ok = 0;
        gort_chan_recv(w->cmd, &cmd, &ok); /* parks: collections run meanwhile */
        f = gort_mframe_top();
        check_frame(w, f, round);
        if (!w->broken) list_verify(w, &w->fl, &f[0]);
        if (!w->broken) list_verify(w, &w->rl, &rootlist);
        if (!ok || cmd < 0) break;
        if (w->broken) {
            gort_wg_done(&wg);
            continue;
        }
        list_push(w, &w->fl, &f[0], PUSH_FRAME);
        list_push(w, &w->rl, &rootlist, PUSH_ROOT);
        if (w->fl.hi - w->fl.lo > MAXLEN) list_truncate(w, &w->fl, &f[0], KEEP);
        if (w->rl.hi - w->rl.lo > MAXLEN) list_truncate(w, &w->rl, &rootlist, KEEP);
        nest(w, 0);
        f = gort_mframe_top();
        round = (uintptr_t)cmd % 1000;
        f[2] = (void *)round;
        check_frame(w, f, round);
        list_verify(w, &w->fl, &f[0]);
        list_verify(w, &w->rl, &rootlist);
        gort_wg_done(&wg);
    }
    /* Drop everything: the last collection must free it all. */
    w->dropped += (w->fl.hi - w->fl.lo) + (w->rl.hi - w->rl.lo);
    gort_mframe_pop();
    gort_mstack_root_remove(&rootlist);
    gort_wg_done(&wg);
}

static int nworkers = 300, ncycles = 40;
static int failed;

static double now_ms(void) { return gort_nanotime() / 1e6; }

static void expect(int cond, const char *mode, const char *what, unsigned long long a, unsigned long long b) {
    if (!cond) {
        fprintf(stderr, "gc_demo: %s: %s (%llu vs %llu)\n", mode, what, a, b);
        failed = 1;
    }
}

static void run_mode(int mode, const char *name) {
    heap = minigc_new(mode, (size_t)nworkers * 256, 4);
    if (heap == NULL || minigc_attach(heap) != GORT_OK) {
        fprintf(stderr, "gc_demo: cannot make the %s heap\n", name);
        exit(1);
    }
    struct worker *ws = calloc((size_t)nworkers, sizeof *ws);
    for (int i = 0; i < nworkers; i++) {
        struct worker *w = &ws[i];
        w->id = i;
        w->fl.no = 0;
        w->rl.no = 1;
        gort_chan_new(sizeof(int), 1, &w->cmd);
        gort_go(worker_main, &w, sizeof w, NULL);
    }
    double t0 = now_ms();
    for (int c = 0; c < ncycles; c++) {
        gort_wg_add(&wg, nworkers);
        for (int i = 0; i < nworkers; i++) gort_chan_send(ws[i].cmd, &c);
        int rc = minigc_collect(heap); /* while the workers run their round */
        expect(rc == GORT_OK, name, "minigc_collect", (unsigned)-rc, 0);
        gort_wg_wait(&wg);
    }
    gort_wg_add(&wg, nworkers);
    for (int i = 0; i < nworkers; i++) gort_chan_close(ws[i].cmd);
    gort_wg_wait(&wg);
    minigc_collect(heap); /* nothing is reachable any more */
    double t1 = now_ms();

    minigc_stats st;
    minigc_stats_get(heap, &st);
    uint64_t dropped = 0;
    for (int i = 0; i < nworkers; i++) dropped += ws[i].dropped;
    printf("gc_demo: %-10s %d goroutines, %llu collections in %.0f ms: %llu allocated, %llu freed, "
           "%llu moved, %llu allocated black, %llu barrier shades, %llu helper runs\n",
           name, nworkers, (unsigned long long)st.cycles, t1 - t0, (unsigned long long)st.allocated,
           (unsigned long long)st.freed, (unsigned long long)st.moved, (unsigned long long)st.alloc_black,
           (unsigned long long)st.barrier_shades, (unsigned long long)st.helper_runs);
    expect(st.cycles == (uint64_t)ncycles + 1, name, "cycles", st.cycles, (unsigned long long)ncycles + 1);
    expect(st.live == 0, name, "objects left after the last collection", st.live, 0);
    expect(st.freed == dropped, name, "freed != dropped by the workers", st.freed, dropped);
    expect(st.bad_pointers == 0, name, "bad pointers", st.bad_pointers, 0);
    if (mode == MINIGC_MOVING) expect(st.moved > 0, name, "nothing moved", st.moved, 0);
    if (mode == MINIGC_STW) expect(st.helper_runs >= st.cycles, name, "helper runs", st.helper_runs, st.cycles);
    minigc_detach(heap);
    minigc_free(heap);
    for (int i = 0; i < nworkers; i++) gort_chan_free(ws[i].cmd);
    free(ws);
}

static void main_goroutine(void *unused) {
    (void)unused;
    if (gort_funcinfo_register(&worker_fi) != GORT_OK || gort_funcinfo_register(&nest_fi) != GORT_OK) {
        fprintf(stderr, "gc_demo: funcinfo_register failed\n");
        exit(1);
    }
    run_mode(MINIGC_CONCURRENT, "concurrent");
    run_mode(MINIGC_STW, "stw");
    run_mode(MINIGC_MOVING, "moving");
    int64_t e = __atomic_load_n(&errors, __ATOMIC_RELAXED);
    if (e != 0) {
        fprintf(stderr, "gc_demo: %lld mismatches\n", (long long)e);
        failed = 1;
    }
    printf("gc_demo: %s\n", failed ? "FAILED" : "all lists intact, all garbage freed");
}

int main(int argc, char **argv) {
    if (argc > 1) nworkers = atoi(argv[1]);
    if (argc > 2) ncycles = atoi(argv[2]);
    if (nworkers < 1 || ncycles < 1) {
        fprintf(stderr, "usage: gc_demo [goroutines] [collections per mode]\n");
        return 2;
    }
    int rc = gort_init(NULL);
    if (rc == GORT_OK) rc = gort_main(main_goroutine, NULL);
    if (rc != GORT_OK) {
        fprintf(stderr, "gc_demo: %s\n", gort_strerror(rc));
        return 1;
    }
    gort_shutdown();
    return failed;
}
