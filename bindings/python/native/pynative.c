/*
 * pynative: the native goroutine bodies the Python binding's tests, examples
 * and benchmark start with gort.go_native (no Python runs in them), and
 * pynative_bench, the same work driven from C for comparison.
 *
 *   pyn_spawn(struct pyn_spawn_arg *): starts n goroutines that each call
 *       gort_wg_done(wg): a million-goroutine spawn done by one goroutine.
 *   pyn_skynet(struct pyn_skynet_arg *): the skynet tree (10 children per
 *       node down to `leaves` leaves) over channels; stores the sum of the
 *       leaf numbers in result (499999500000 for 10^6) and marks wg done.
 */
#include "pynative.h"

static void leaf(void *wg) { gort_wg_done((gort_wg *)wg); }

void pyn_spawn(void *p) {
    struct pyn_spawn_arg *a = p;
    for (int64_t i = 0; i < a->n; i++) {
        if (gort_go(leaf, a->wg, 0, NULL) != GORT_OK) {
            a->failed = 1;
            gort_wg_add(a->wg, (int)-(a->n - i)); /* release the waiter */
            return;
        }
    }
}

struct sk {
    int64_t num, size;
    gort_chan *out;
};

static void skynet(void *p) {
    struct sk a = *(struct sk *)p; /* a copy on this goroutine's stack */
    if (a.size == 1) {
        gort_chan_send(a.out, &a.num);
        return;
    }
    gort_chan *c;
    if (gort_chan_new(sizeof(int64_t), 10, &c) != GORT_OK) return;
    int64_t sub = a.size / 10;
    for (int i = 0; i < 10; i++) {
        struct sk ch = {a.num + i * sub, sub, c};
        gort_go(skynet, &ch, sizeof ch, NULL);
    }
    int64_t sum = 0, v = 0;
    for (int i = 0; i < 10; i++) {
        gort_chan_recv(c, &v, NULL);
        sum += v;
    }
    gort_chan_free(c);
    gort_chan_send(a.out, &sum);
}

void pyn_skynet(void *p) {
    struct pyn_skynet_arg *a = p;
    gort_chan *out;
    a->result = -1;
    if (gort_chan_new(sizeof(int64_t), 1, &out) == GORT_OK) {
        struct sk root = {0, a->leaves, out};
        gort_go(skynet, &root, sizeof root, NULL);
        gort_chan_recv(out, &a->result, NULL);
        gort_chan_free(out);
    }
    gort_wg_done(a->wg);
}
