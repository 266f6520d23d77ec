/*
 * minigc.h - a small example garbage collector for a host's objects, built on
 * gort's GC hooks (gort.h, "GC hooks") and nothing else of gort's.
 *
 * It shows how a host plugs a collector into the scan protocol: minigc finds
 * its roots only through gort_scan_precise_roots (the pointer slots of every
 * goroutine's managed stack, by the stack maps of its frames, and the slots
 * each goroutine registered with gort_mstack_root_add), called from the
 * scan_g hook while gort holds the goroutine at a safe point.
 *
 * Objects are fixed-size slots in an mmap'd arena: a payload word and
 * MINIGC_NFIELDS pointer fields. Whether a word is an object pointer is
 * decided by the arena alone (inside the arena, on a slot boundary, slot
 * allocated), so a root slot may also hold NULL or a pointer into the managed
 * stack itself: those are not objects and are left alone.
 *
 * Three collectors, chosen when the heap is made:
 *
 *  MINIGC_CONCURRENT  mark-sweep, non-moving, marking and sweeping while the
 *      goroutines run (Go 1.5+'s shape): the world is stopped only to turn
 *      the write barrier and black allocation on; every goroutine is then
 *      scanned at its own safe point (gort_quiesce), the grey set is drained
 *      while mutators run, and the arena is swept while they run. The write
 *      barrier is Go 1.8's hybrid barrier (shade the old and the new value).
 *  MINIGC_STW  the same mark-sweep with the world stopped for the whole
 *      cycle; the grey set is drained in parallel on gort's GC helper Ms
 *      (gort_gc_helpers).
 *  MINIGC_MOVING  a semispace (Cheney) copying collector, world stopped: the
 *      scan forwards every root object to to-space and rewrites the root
 *      slot, to-space is scanned breadth-first, the spaces flip. Every live
 *      object moves in every cycle; the space left behind is poisoned.
 *
 * What a mutator (a goroutine using a minigc heap) must do:
 *
 *  1. Keep every object pointer it still needs in a managed-stack pointer
 *     slot (a word its frame's current stack map marks GORT_BITS_POINTER) or
 *     in a slot registered with gort_mstack_root_add, or in a field of an
 *     object reachable from those, at every safe point: gort_safepoint, a
 *     managed frame push, a park, a yield, a channel or sync operation, a
 *     system call, gort_go, minigc_collect. Between safe points it may copy
 *     object pointers into native locals; at a safe point those are not
 *     roots (the execution stack is not scanned).
 *  2. In a MINIGC_MOVING heap, re-read object pointers from those slots after
 *     every safe point: a cycle may have moved every object and rewritten
 *     every root slot. A copy kept across a safe point points at poison.
 *  3. Write object fields only with minigc_store (the write barrier), never
 *     by hand. Payloads are plain words: minigc_set_payload.
 *  4. Channel buffers, gort_go arguments, goroutine-local storage and any
 *     other host memory are NOT roots. To hand an object to another
 *     goroutine that way, the sender keeps it in one of its own roots until
 *     the receiver has stored it in one of the receiver's, and the receiver
 *     then calls minigc_shade on it (during a concurrent cycle the
 *     receiver's stack may already be scanned while the sender's is not yet:
 *     this is the barrier stack-to-stack copies need, as Go's sendDirect).
 *  5. Mutate only from goroutines (host threads may not allocate or store
 *     while a cycle can run: the world cannot stop them), and never from a
 *     gort_park unlockf, a scan_g or a GC helper.
 *
 * minigc_alloc and minigc_store are not safe points: they never call gort.
 * Only one heap can be attached (its hooks installed) at a time.
 */
#ifndef GORT_EXAMPLES_MINIGC_H
#define GORT_EXAMPLES_MINIGC_H

#include <gort/gort.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MINIGC_NFIELDS 4

#define MINIGC_CONCURRENT 1
#define MINIGC_STW 2
#define MINIGC_MOVING 3

/* The payload word a freed or moved-from object is overwritten with. */
#define MINIGC_POISON ((uintptr_t)0xdeadbeefdeadbeefULL)

typedef struct minigc_heap minigc_heap;
typedef struct minigc_obj minigc_obj;

/* Statistics (a snapshot; counters are updated with relaxed atomics). */
typedef struct minigc_stats {
    uint64_t allocated;      /* objects allocated, in total */
    uint64_t freed;          /* objects freed (swept, or left behind by a copy) */
    uint64_t moved;          /* objects copied to to-space (MINIGC_MOVING) */
    uint64_t cycles;         /* completed collections; a stop-the-world or
                              * moving one counts before the world starts
                              * again, so a goroutine that sees the count
                              * unchanged knows no such cycle ran since */
    uint64_t live;           /* allocated - freed */
    uint64_t alloc_black;    /* objects allocated black during a cycle */
    uint64_t barrier_shades; /* objects greyed by the write barrier */
    uint64_t goroutines_scanned; /* scan_g calls that scanned roots */
    uint64_t root_objects;   /* root slots found holding an object */
    uint64_t bad_pointers;   /* root or field words pointing into the arena
                              * at something that is not a live object: a
                              * mutator or collector bug (must stay 0) */
    uint64_t helper_runs;    /* GC helper runs, summed over cycles (STW) */
} minigc_stats;

/* Makes a heap of nslots objects (1 .. 2^31) in mode MINIGC_CONCURRENT,
 * MINIGC_STW or MINIGC_MOVING (which maps twice nslots: two semispaces).
 * helpers: for MINIGC_STW, the n of gort_gc_helpers (>= 1); ignored
 * otherwise. NULL if the arguments are bad or memory is short. Needs no
 * runtime; minigc_attach installs its hooks. */
minigc_heap *minigc_new(int mode, size_t nslots, int helpers);
/* Releases the heap, removing its hooks if it is attached. No cycle may be
 * running and no goroutine may use the heap any more. */
void minigc_free(minigc_heap *h);

/* Installs h's scan_g hook (gort_gc_set_hooks; after gort_init). Returns
 * gort's error code. minigc_detach removes them. */
int minigc_attach(minigc_heap *h);
int minigc_detach(minigc_heap *h);

/* Allocates an object with the given payload and NULL fields. NULL when the
 * heap is full (collect and retry). From any goroutine; not a safe point. */
minigc_obj *minigc_alloc(minigc_heap *h, uintptr_t payload);

uintptr_t minigc_payload(const minigc_obj *o);
void minigc_set_payload(minigc_obj *o, uintptr_t payload);
/* Field i (0 .. MINIGC_NFIELDS-1) of o. */
minigc_obj *minigc_field(const minigc_obj *o, int i);
/* o->field[i] = v through the write barrier. */
void minigc_store(minigc_heap *h, minigc_obj *o, int i, minigc_obj *v);
/* Greys o if a concurrent cycle is marking (rule 4 above); else nothing. */
void minigc_shade(minigc_heap *h, minigc_obj *o);

/* 1 if p points at a live object of h, else 0. */
int minigc_is_object(const minigc_heap *h, const void *p);

/* Runs one full collection in the heap's mode and returns GORT_OK, or a
 * gort error code (GORT_ENOTG from a host thread, GORT_ESTATE if h is not
 * the attached heap). From a goroutine; cycles are serialised. A safe
 * point: in a MINIGC_MOVING heap the caller's own roots are rewritten. */
int minigc_collect(minigc_heap *h);

void minigc_stats_get(const minigc_heap *h, minigc_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* GORT_EXAMPLES_MINIGC_H */
