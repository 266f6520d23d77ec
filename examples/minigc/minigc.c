/*
 * minigc.c - the example collector of minigc.h on gort's GC hooks.
 *
 * Plain C99 plus POSIX threads; atomics through GCC's __atomic builtins,
 * wrapped below in helpers named for their memory order.
 *
 * ---- Heap layout ----
 * An arena of nslots objects (two of them, the semispaces, in MINIGC_MOVING)
 * and beside it a side table of per-slot metadata: `alloc` (the slot holds a
 * live object) and `mark` (mark-sweep: the epoch of the cycle that marked
 * it; moving: 1 + the to-space index it was copied to, its forwarding
 * pointer). An address is an object iff it lies in the current space, on a
 * slot boundary, and the slot's alloc flag is set (slot_index, member).
 *
 * ---- Mark-sweep: the colours ----
 * White: mark != epoch. Grey: mark == epoch and the index is on the grey
 * stack (not yet scanned). Black: mark == epoch and scanned (or allocated
 * black, which never needs scanning: its fields start NULL and every later
 * store goes through the barrier). Colouring happens only in shade(), under
 * grey_mu, which sets the mark and pushes the index in one critical section;
 * so "grey stack empty and nobody scanning" (checked under grey_mu) means
 * "no grey object exists", with no shade half done.
 *
 * Epochs instead of clearing marks: a cycle marks with a fresh epoch, so all
 * marks of earlier cycles read as white without a pass over the heap, and a
 * sweep that runs while mutators allocate (black, with the current epoch)
 * can tell their objects from the dead: an allocated slot whose mark is not
 * the current epoch was neither reached nor allocated during the cycle.
 * Free slots have mark 0, which no epoch is.
 *
 * ---- Why the concurrent cycle frees nothing reachable ----
 * A goroutine's "stack" below means everything gort_scan_precise_roots
 * shows for it (managed-stack pointer slots and its registered roots) plus,
 * between two of its safe points, its native locals. Rule 1 of minigc.h
 * (every needed pointer is in a root slot at a safe point) is what lets the
 * scan at a safe point stand for the whole stack.
 *
 *  (a) The barrier and black allocation are turned on with the world
 *      stopped, so every mutator sees both on from its next instruction
 *      after a safe point: no store or allocation straddles the switch.
 *  (b) gort_quiesce scans each goroutine that existed at the start exactly
 *      once, at one of its safe points, shading every object its roots hold.
 *      After its scan a stack is black: it can only acquire pointers by
 *      allocating (black), by loading a field of an object it reaches (see
 *      c), or from another goroutine through memory that is not a root,
 *      which rule 4 makes the receiver shade. Goroutines created during the
 *      cycle start with no roots: black from the start.
 *  (c) Go 1.8's hybrid barrier: a store into a field shades the value it
 *      overwrites (Yuasa: anything a stack could have loaded from the heap
 *      before the store stays protected once the heap edge is gone) and the
 *      value it writes (Dijkstra: a pointer moved from a not-yet-scanned
 *      stack into an object that is already black is not lost when that
 *      stack drops it before its scan). Together they keep the weak
 *      tricolour invariant: every white object that a black object or a
 *      black stack points to is reachable from a grey object through white
 *      objects. (Go shades the new value only while the storing stack is
 *      grey; shading it always is simpler and still correct.)
 *  (d) Marking ends when the grey stack is empty after gort_quiesce has
 *      returned: every stack is black and there is no grey object, so by (c)
 *      no black object or stack points to a white one, and every object a
 *      mutator can reach from now on is black. The barrier is switched off
 *      then; a racing barrier can only find black objects (shade's fast
 *      path), so no grey is ever left behind for the next cycle (checked at
 *      the start of each cycle).
 *  (e) The sweep frees an allocated slot only if its mark is not this
 *      cycle's epoch: by (d) it is unreachable. Objects allocated during the
 *      sweep are still allocated black (black allocation ends only after
 *      the sweep), and allocation and sweeping of a slot are serialised by
 *      alloc_mu, so a slot is never freed under its new owner.
 *
 * The stop-the-world cycle is the same with no mutator running between the
 * stop and the start: no barrier, no black allocation needed.
 *
 * ---- Moving ----
 * World stopped, so nothing but the collector touches objects. scan_g
 * forwards each root object (copy to to-space once, remember the forwarding
 * index in the from-space slot's mark) and rewrites the root slot; then the
 * Cheney scan forwards every field of every to-space object, in order, until
 * the scan pointer meets the allocation pointer: every object reachable from
 * a root has been copied and every pointer in a root or a copied object
 * points to to-space. From-space objects that were not copied are garbage;
 * the whole from-space is poisoned and its slots freed, and the spaces flip.
 */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS under -std=c99 */
#include "minigc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct minigc_obj {
    uintptr_t payload; /* plain: written by the owner, copied with the world stopped */
    minigc_obj *f[MINIGC_NFIELDS]; /* atomic: the concurrent marker reads them while mutators store */
};

struct slotmeta {
    uint32_t mark;  /* atomic; see the file comment */
    uint8_t alloc;  /* atomic; 1 while the slot holds an object */
};

struct minigc_heap {
    int mode;
    size_t nslots;
    int helpers;
    void *map;
    size_t maplen;
    minigc_obj *space[2];      /* [1] only in MINIGC_MOVING */
    struct slotmeta *meta[2];
    int cur;                   /* atomic; the space objects live in (changes with the world stopped) */

    /* Allocation. alloc_mu protects freelist/nfree (mark-sweep), top[]
     * (moving) and the transitions of a slot's alloc flag. It is a pthread
     * mutex: it is held only across a few stores, never across a gort call,
     * so no goroutine can be descheduled while holding it. */
    pthread_mutex_t alloc_mu;
    uint32_t *freelist;
    size_t nfree;
    size_t top[2];

    /* Marking. marking and alloc_mark are set with the world stopped (a)
     * and read by mutators; epoch is written only by the collector holding
     * cycle_mu, with the world stopped. */
    int marking;          /* atomic: the write barrier is on */
    uint32_t alloc_mark;  /* atomic: the mark new objects get (0: white) */
    uint32_t epoch;       /* atomic */
    int in_cycle;         /* atomic: scan_g has work to do */

    /* grey_mu protects grey/ngrey/nbusy/nwait, and is held while a mark is
     * set (see shade). */
    pthread_mutex_t grey_mu;
    pthread_cond_t grey_cv;
    uint32_t *grey;       /* capacity nslots: an object is pushed at most once per cycle */
    size_t ngrey;
    int nbusy;            /* parallel drainers scanning an object they popped */
    int nwait;            /* parallel drainers waiting for grey objects */

    /* Moving: scan_g may run on several threads (gort.h), copy_mu
     * serialises forwarding among them. to_top is the Cheney allocation
     * pointer. */
    pthread_mutex_t copy_mu;
    size_t to_top;

    gort_mutex cycle_mu;  /* one collection at a time */

    /* Statistics, relaxed atomics. */
    uint64_t st_allocated, st_freed, st_moved, st_cycles, st_alloc_black, st_barrier_shades;
    uint64_t st_goroutines_scanned, st_root_objects, st_bad_pointers, st_helper_runs;
};

/* The attached heap: the ctx of the installed hooks (atomic). */
static minigc_heap *attached;
static minigc_heap *attached_heap(void) { return __atomic_load_n(&attached, __ATOMIC_ACQUIRE); }
static void set_attached(minigc_heap *h) { __atomic_store_n(&attached, h, __ATOMIC_RELEASE); }

/* ---- atomics, named for their order ---- */
static inline uint32_t load_acq32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline uint32_t load_relaxed32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void store_rel32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void store_relaxed32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline uint8_t load_acq8(const uint8_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void store_rel8(uint8_t *p, uint8_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline int load_acq_int(const int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void store_rel_int(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
/* Fields: a release store pairs with the marker's (and readers') acquire
 * load, so an object reached through a field is seen initialised. */
static inline minigc_obj *load_acq_ptr(minigc_obj *const *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void store_rel_ptr(minigc_obj **p, minigc_obj *v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void count(uint64_t *c, uint64_t n) { __atomic_fetch_add(c, n, __ATOMIC_RELAXED); }
static inline uint64_t count_read(const uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }

static void fatal(const char *msg) {
    fprintf(stderr, "minigc: fatal error: %s\n", msg);
    abort();
}

/* ---- membership ---- */

/* Index of p in space sp: >= 0 if p is on a slot boundary of that space, -1
 * if p is outside it, -2 if inside but not on a boundary. */
static int64_t slot_index(const minigc_heap *h, int sp, const void *p) {
    uintptr_t base = (uintptr_t)h->space[sp], a = (uintptr_t)p;
    if (h->space[sp] == NULL || a < base || a >= base + h->nslots * sizeof(minigc_obj)) return -1;
    if ((a - base) % sizeof(minigc_obj) != 0) return -2;
    return (int64_t)((a - base) / sizeof(minigc_obj));
}

/* p points into either space (whether or not at a live object). */
static int in_arena(const minigc_heap *h, const void *p) {
    return slot_index(h, 0, p) != -1 || (h->mode == MINIGC_MOVING && slot_index(h, 1, p) != -1);
}

static int cur_space(const minigc_heap *h) { return load_acq_int(&h->cur); }

int minigc_is_object(const minigc_heap *h, const void *p) {
    int sp = cur_space(h);
    int64_t i = slot_index(h, sp, p);
    return i >= 0 && load_acq8(&h->meta[sp][i].alloc) != 0;
}

/* ---- heap ---- */

minigc_heap *minigc_new(int mode, size_t nslots, int helpers) {
    if (mode != MINIGC_CONCURRENT && mode != MINIGC_STW && mode != MINIGC_MOVING) return NULL;
    if (nslots == 0 || nslots > ((size_t)1 << 31)) return NULL;
    if (mode == MINIGC_STW && helpers < 1) return NULL;
    minigc_heap *h = calloc(1, sizeof *h);
    if (h == NULL) return NULL;
    int nspaces = mode == MINIGC_MOVING ? 2 : 1;
    h->mode = mode;
    h->nslots = nslots;
    h->helpers = helpers;
    h->maplen = nspaces * nslots * sizeof(minigc_obj);
    h->map = mmap(NULL, h->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h->map == MAP_FAILED) {
        free(h);
        return NULL;
    }
    for (int s = 0; s < nspaces; s++) {
        h->space[s] = (minigc_obj *)h->map + s * nslots;
        h->meta[s] = calloc(nslots, sizeof(struct slotmeta));
    }
    h->grey = mode == MINIGC_MOVING ? NULL : malloc(nslots * sizeof(uint32_t));
    h->freelist = mode == MINIGC_MOVING ? NULL : malloc(nslots * sizeof(uint32_t));
    if (h->meta[0] == NULL || (nspaces == 2 && h->meta[1] == NULL) ||
        (mode != MINIGC_MOVING && (h->grey == NULL || h->freelist == NULL))) {
        minigc_free(h);
        return NULL;
    }
    /* Lowest slots first: they are popped from the end. */
    if (h->freelist != NULL) {
        for (size_t i = 0; i < nslots; i++) h->freelist[i] = (uint32_t)(nslots - 1 - i);
        h->nfree = nslots;
    }
    pthread_mutex_init(&h->alloc_mu, NULL);
    pthread_mutex_init(&h->grey_mu, NULL);
    pthread_cond_init(&h->grey_cv, NULL);
    pthread_mutex_init(&h->copy_mu, NULL);
    return h;
}

void minigc_free(minigc_heap *h) {
    if (h == NULL) return;
    if (attached_heap() == h) {
        gort_gc_set_hooks(NULL);  /* fails harmlessly after gort_shutdown, which removed them */
        set_attached(NULL);
    }
    if (h->map != NULL && h->map != MAP_FAILED) munmap(h->map, h->maplen);
    free(h->meta[0]);
    free(h->meta[1]);
    free(h->grey);
    free(h->freelist);
    pthread_mutex_destroy(&h->alloc_mu);
    pthread_mutex_destroy(&h->grey_mu);
    pthread_cond_destroy(&h->grey_cv);
    pthread_mutex_destroy(&h->copy_mu);
    free(h);
}

/* ---- objects ---- */

minigc_obj *minigc_alloc(minigc_heap *h, uintptr_t payload) {
    minigc_obj *o = NULL;
    int black = 0;
    pthread_mutex_lock(&h->alloc_mu);
    if (h->mode == MINIGC_MOVING) {
        int sp = cur_space(h);
        if (h->top[sp] < h->nslots) {
            size_t i = h->top[sp]++;
            o = &h->space[sp][i];
            o->payload = payload;
            for (int k = 0; k < MINIGC_NFIELDS; k++) store_rel_ptr(&o->f[k], NULL);
            store_rel8(&h->meta[sp][i].alloc, 1);
        }
    } else if (h->nfree > 0) {
        uint32_t i = h->freelist[--h->nfree];
        o = &h->space[0][i];
        o->payload = payload;
        for (int k = 0; k < MINIGC_NFIELDS; k++) store_rel_ptr(&o->f[k], NULL);
        /* Black while a cycle runs (e): set before the slot is published. */
        uint32_t m = load_relaxed32(&h->alloc_mark);
        black = m != 0;
        store_relaxed32(&h->meta[0][i].mark, m);
        store_rel8(&h->meta[0][i].alloc, 1);
    }
    pthread_mutex_unlock(&h->alloc_mu);
    if (o != NULL) count(&h->st_allocated, 1);
    if (black) count(&h->st_alloc_black, 1);
    return o;
}

uintptr_t minigc_payload(const minigc_obj *o) { return o->payload; }
void minigc_set_payload(minigc_obj *o, uintptr_t payload) { o->payload = payload; }

minigc_obj *minigc_field(const minigc_obj *o, int i) {
    if (i < 0 || i >= MINIGC_NFIELDS) fatal("field index out of range");
    return load_acq_ptr(&o->f[i]);
}

/* shade (mark-sweep): greys o if it is white. Returns 1 if it did. Mark and
 * push happen together under grey_mu (see "the colours"); the unlocked
 * check is only the fast path for objects already marked, whose mark can
 * only stay the epoch for the rest of the cycle. */
static int shade(minigc_heap *h, minigc_obj *o) {
    int64_t i = slot_index(h, 0, o);
    if (i < 0 || load_acq8(&h->meta[0][i].alloc) == 0) {
        count(&h->st_bad_pointers, 1);
        return 0;
    }
    uint32_t e = load_relaxed32(&h->epoch);
    if (load_acq32(&h->meta[0][i].mark) == e) return 0;
    int greyed = 0;
    pthread_mutex_lock(&h->grey_mu);
    if (load_relaxed32(&h->meta[0][i].mark) != e) {
        store_rel32(&h->meta[0][i].mark, e);
        h->grey[h->ngrey++] = (uint32_t)i;
        if (h->nwait > 0) pthread_cond_signal(&h->grey_cv);
        greyed = 1;
    }
    pthread_mutex_unlock(&h->grey_mu);
    return greyed;
}

/* The hybrid write barrier (c). The marking flag cannot change while a
 * mutator runs between two safe points except to go off at mark
 * termination, when every object it could shade is already black (d). */
void minigc_store(minigc_heap *h, minigc_obj *o, int i, minigc_obj *v) {
    if (i < 0 || i >= MINIGC_NFIELDS) fatal("field index out of range");
    if (load_acq_int(&h->marking)) {
        minigc_obj *old = load_acq_ptr(&o->f[i]);
        int n = 0;
        if (old != NULL) n += shade(h, old);
        if (v != NULL) n += shade(h, v);
        if (n) count(&h->st_barrier_shades, (uint64_t)n);
    }
    store_rel_ptr(&o->f[i], v);
}

void minigc_shade(minigc_heap *h, minigc_obj *o) {
    if (o != NULL && h->mode != MINIGC_MOVING && load_acq_int(&h->marking))
        if (shade(h, o)) count(&h->st_barrier_shades, 1);
}

/* Blackens object i: shades its fields. */
static void scan_object(minigc_heap *h, uint32_t i) {
    minigc_obj *o = &h->space[0][i];
    for (int k = 0; k < MINIGC_NFIELDS; k++) {
        minigc_obj *v = load_acq_ptr(&o->f[k]);
        if (v != NULL) shade(h, v);
    }
}

/* ---- the scan_g hook ---- */

/* Mark-sweep root visitor: shade what is an object, ignore NULL and
 * pointers elsewhere (the managed stack, ...). A pointer into the arena that
 * is not a live object is a broken mutator (or collector): counted. */
static void visit_shade(void **slot, void *ctx) {
    minigc_heap *h = ctx;
    void *p = *slot;
    if (p == NULL || !in_arena(h, p)) return;
    if (minigc_is_object(h, p)) {
        count(&h->st_root_objects, 1);
        shade(h, p);
    } else {
        count(&h->st_bad_pointers, 1);
    }
}

/* Moving: forwards p (an address in from-space) and returns its to-space
 * copy. Pointers already in to-space (a slot visited twice) stay. Caller
 * holds copy_mu, or is the only thread (Cheney scan with the world stopped
 * after gort_quiesce returned). */
static minigc_obj *forward(minigc_heap *h, minigc_obj *p) {
    int from = cur_space(h), to = 1 - from;
    int64_t i = slot_index(h, from, p);
    if (i < 0) {
        int64_t j = slot_index(h, to, p);
        if (j < 0 || (size_t)j >= h->to_top) count(&h->st_bad_pointers, 1);
        return p;
    }
    struct slotmeta *m = &h->meta[from][i];
    if (load_acq8(&m->alloc) == 0) {
        count(&h->st_bad_pointers, 1);
        return p;
    }
    uint32_t fwd = load_relaxed32(&m->mark);
    if (fwd != 0) return &h->space[to][fwd - 1];
    size_t n = h->to_top++;
    minigc_obj *c = &h->space[to][n];
    c->payload = p->payload;
    for (int k = 0; k < MINIGC_NFIELDS; k++) store_rel_ptr(&c->f[k], load_acq_ptr(&p->f[k]));
    store_rel8(&h->meta[to][n].alloc, 1);
    store_relaxed32(&m->mark, (uint32_t)n + 1);
    return c;
}

static void visit_forward(void **slot, void *ctx) {
    minigc_heap *h = ctx;
    void *p = *slot;
    if (p == NULL || !in_arena(h, p)) return;
    count(&h->st_root_objects, 1);
    *slot = forward(h, p);
}

static void minigc_scan_g(const gort_scan *s, void *ctx) {
    minigc_heap *h = ctx;
    if (!load_acq_int(&h->in_cycle)) return;  /* a scan cycle someone else began */
    int rc;
    if (h->mode == MINIGC_MOVING) {
        pthread_mutex_lock(&h->copy_mu);
        rc = gort_scan_precise_roots(s, visit_forward, h);
        pthread_mutex_unlock(&h->copy_mu);
    } else {
        rc = gort_scan_precise_roots(s, visit_shade, h);
    }
    if (rc != GORT_OK) {
        /* A scan_g that cannot see a goroutine's roots would let the cycle
         * free what they hold. */
        fprintf(stderr, "minigc: fatal error: gort_scan_precise_roots: %s\n", gort_strerror(rc));
        abort();
    }
    count(&h->st_goroutines_scanned, 1);
}

int minigc_attach(minigc_heap *h) {
    gort_gc_hooks hk;
    memset(&hk, 0, sizeof hk);
    hk.size = sizeof hk;
    hk.scan_g = minigc_scan_g;
    hk.ctx = h;
    int rc = gort_gc_set_hooks(&hk);
    if (rc == GORT_OK) set_attached(h);
    return rc;
}

int minigc_detach(minigc_heap *h) {
    if (attached_heap() != h) return GORT_ESTATE;
    int rc = gort_gc_set_hooks(NULL);
    if (rc == GORT_OK) set_attached(NULL);
    return rc;
}

/* ---- mark-sweep ---- */

/* Concurrent drain, on the collector goroutine while mutators run and
 * shade: ends when the grey stack is found empty, which with the one
 * drainer means no grey object exists (d). */
static void drain_concurrent(minigc_heap *h) {
    unsigned n = 0;
    for (;;) {
        pthread_mutex_lock(&h->grey_mu);
        if (h->ngrey == 0) {
            pthread_mutex_unlock(&h->grey_mu);
            return;
        }
        uint32_t i = h->grey[--h->ngrey];
        pthread_mutex_unlock(&h->grey_mu);
        scan_object(h, i);
        /* Not a long-running loop without safe points (gort.h). */
        if ((++n & 255) == 0) gort_safepoint();
    }
}

/* Parallel drain, the gort_gc_helpers function (world stopped): each run
 * pops and scans until the stack is empty and no run is scanning, waiting
 * on grey_cv meanwhile. Only a scanning run can push more, and it looks at
 * the stack again after each object, so a run that left as soon as it saw
 * the stack empty would still leave the mark complete: the wait is what
 * keeps the helpers sharing the work that the last busy runs uncover. */
static void drain_parallel(void *arg) {
    minigc_heap *h = arg;
    pthread_mutex_lock(&h->grey_mu);
    for (;;) {
        if (h->ngrey > 0) {
            uint32_t i = h->grey[--h->ngrey];
            h->nbusy++;
            pthread_mutex_unlock(&h->grey_mu);
            scan_object(h, i);
            pthread_mutex_lock(&h->grey_mu);
            h->nbusy--;
            continue;
        }
        if (h->nbusy == 0) {
            pthread_cond_broadcast(&h->grey_cv);
            break;
        }
        h->nwait++;
        pthread_cond_wait(&h->grey_cv, &h->grey_mu);
        h->nwait--;
    }
    pthread_mutex_unlock(&h->grey_mu);
}

/* Frees every allocated slot not marked in this cycle (e), in chunks under
 * alloc_mu so that mutators can allocate between chunks. */
static void sweep(minigc_heap *h, int concurrent) {
    const size_t chunk = 4096;
    uint32_t e = load_relaxed32(&h->epoch);
    uint64_t freed = 0;
    for (size_t lo = 0; lo < h->nslots; lo += chunk) {
        size_t hi = lo + chunk < h->nslots ? lo + chunk : h->nslots;
        pthread_mutex_lock(&h->alloc_mu);
        for (size_t i = lo; i < hi; i++) {
            struct slotmeta *m = &h->meta[0][i];
            if (load_acq8(&m->alloc) == 0 || load_relaxed32(&m->mark) == e) continue;
            minigc_obj *o = &h->space[0][i];
            o->payload = MINIGC_POISON;
            for (int k = 0; k < MINIGC_NFIELDS; k++) store_rel_ptr(&o->f[k], NULL);
            store_relaxed32(&m->mark, 0);
            store_rel8(&m->alloc, 0);
            h->freelist[h->nfree++] = (uint32_t)i;
            freed++;
        }
        pthread_mutex_unlock(&h->alloc_mu);
        if (concurrent) gort_safepoint();
    }
    count(&h->st_freed, freed);
}

static uint32_t next_epoch(minigc_heap *h) {
    uint32_t e = load_relaxed32(&h->epoch) + 1;
    if (e == 0) e = 1;  /* 0 is the mark of free and white-allocated slots */
    return e;
}

static void check(int rc, const char *what) {
    if (rc < 0) {
        fprintf(stderr, "minigc: fatal error: %s: %s\n", what, gort_strerror(rc));
        abort();
    }
}

static void begin_mark(minigc_heap *h) {
    if (h->ngrey != 0) fatal("grey objects left from the previous cycle");
    store_rel32(&h->epoch, next_epoch(h));
    store_rel_int(&h->in_cycle, 1);
}

static void cycle_concurrent(minigc_heap *h) {
    check(gort_stop_the_world("minigc: mark start"), "gort_stop_the_world");
    begin_mark(h);
    store_rel32(&h->alloc_mark, load_relaxed32(&h->epoch));  /* (a) */
    store_rel_int(&h->marking, 1);
    check(gort_gc_set_phase(GORT_GC_SCAN), "gort_gc_set_phase");
    check(gort_start_the_world(), "gort_start_the_world");
    /* (b): every goroutine scanned at a safe point, mutators running. */
    check(gort_quiesce(), "gort_quiesce");
    check(gort_gc_set_phase(GORT_GC_MARK), "gort_gc_set_phase");
    drain_concurrent(h);
    store_rel_int(&h->marking, 0);  /* (d) */
    sweep(h, 1);
    store_rel32(&h->alloc_mark, 0);  /* after the sweep: (e) */
    store_rel_int(&h->in_cycle, 0);
    check(gort_gc_set_phase(GORT_GC_OFF), "gort_gc_set_phase");
    count(&h->st_cycles, 1);
}

static void cycle_stw(minigc_heap *h) {
    check(gort_stop_the_world("minigc: stw collection"), "gort_stop_the_world");
    begin_mark(h);
    check(gort_gc_set_phase(GORT_GC_SCAN), "gort_gc_set_phase");
    check(gort_quiesce(), "gort_quiesce");  /* nothing else runs: scans every goroutine here */
    check(gort_gc_set_phase(GORT_GC_MARK), "gort_gc_set_phase");
    int runs = gort_gc_helpers(h->helpers, drain_parallel, h);
    check(runs, "gort_gc_helpers");
    count(&h->st_helper_runs, (uint64_t)runs);
    if (h->ngrey != 0 || h->nbusy != 0) fatal("parallel mark ended with grey objects");
    sweep(h, 0);
    store_rel_int(&h->in_cycle, 0);
    count(&h->st_cycles, 1);
    check(gort_gc_set_phase(GORT_GC_OFF), "gort_gc_set_phase");
    check(gort_start_the_world(), "gort_start_the_world");
}

/* ---- moving ---- */

static void cycle_moving(minigc_heap *h) {
    check(gort_stop_the_world("minigc: copying collection"), "gort_stop_the_world");
    int from = cur_space(h), to = 1 - from;
    h->to_top = 0;
    store_rel_int(&h->in_cycle, 1);
    check(gort_gc_set_phase(GORT_GC_SCAN), "gort_gc_set_phase");
    check(gort_quiesce(), "gort_quiesce");  /* roots forwarded and rewritten */
    check(gort_gc_set_phase(GORT_GC_MARK), "gort_gc_set_phase");
    /* Cheney: to-space between scan and to_top is grey. */
    for (size_t scan = 0; scan < h->to_top; scan++) {
        minigc_obj *o = &h->space[to][scan];
        for (int k = 0; k < MINIGC_NFIELDS; k++) {
            minigc_obj *v = load_acq_ptr(&o->f[k]);
            if (v != NULL) store_rel_ptr(&o->f[k], forward(h, v));
        }
    }
    /* Flip: from-space is garbage now; poison it so that a pointer kept
     * across the cycle (rule 2) reads MINIGC_POISON. */
    size_t nfrom = h->top[from], survivors = h->to_top;
    for (size_t i = 0; i < nfrom; i++) {
        minigc_obj *o = &h->space[from][i];
        o->payload = MINIGC_POISON;
        for (int k = 0; k < MINIGC_NFIELDS; k++) store_rel_ptr(&o->f[k], NULL);
        store_relaxed32(&h->meta[from][i].mark, 0);
        store_rel8(&h->meta[from][i].alloc, 0);
    }
    h->top[from] = 0;
    h->top[to] = survivors;
    store_rel_int(&h->cur, to);
    count(&h->st_moved, survivors);
    count(&h->st_freed, nfrom - survivors);
    count(&h->st_cycles, 1);  /* before the world starts: see minigc_stats.cycles */
    store_rel_int(&h->in_cycle, 0);
    check(gort_gc_set_phase(GORT_GC_OFF), "gort_gc_set_phase");
    check(gort_start_the_world(), "gort_start_the_world");
}

int minigc_collect(minigc_heap *h) {
    if (gort_self() == NULL) return GORT_ENOTG;
    if (h == NULL || attached_heap() != h) return GORT_ESTATE;
    int rc = gort_mutex_lock(&h->cycle_mu);
    if (rc != GORT_OK) return rc;
    switch (h->mode) {
    case MINIGC_CONCURRENT: cycle_concurrent(h); break;
    case MINIGC_STW: cycle_stw(h); break;
    default: cycle_moving(h); break;
    }
    gort_mutex_unlock(&h->cycle_mu);
    return GORT_OK;
}

void minigc_stats_get(const minigc_heap *h, minigc_stats *st) {
    memset(st, 0, sizeof *st);
    st->allocated = count_read(&h->st_allocated);
    st->freed = count_read(&h->st_freed);
    st->moved = count_read(&h->st_moved);
    st->cycles = count_read(&h->st_cycles);
    st->live = st->allocated - st->freed;
    st->alloc_black = count_read(&h->st_alloc_black);
    st->barrier_shades = count_read(&h->st_barrier_shades);
    st->goroutines_scanned = count_read(&h->st_goroutines_scanned);
    st->root_objects = count_read(&h->st_root_objects);
    st->bad_pointers = count_read(&h->st_bad_pointers);
    st->helper_runs = count_read(&h->st_helper_runs);
}
