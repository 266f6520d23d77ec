// core/wait/sudog.h - wait nodes for channels and semaphores (Go's sudog,
// runtime2.go / proc.go acquireSudog/releaseSudog), and the wait queue of a
// channel (chan.go waitq).
//
// A sudog is one goroutine waiting on one object: a channel (send or receive
// queue) or a semaphore address. A goroutine can wait on several channels at
// once (select), with one sudog per case, so a sudog is not a G.
//
// Ownership. The goroutine that acquired a sudog owns it. While the sudog is
// on a queue, the queue's lock (the channel's, or the semaphore root's)
// protects its links (next, prev) and the fields a waker writes (elem's
// bytes, success, ticket). The owner reads them after it is woken: the waker
// wrote them before ready(), and the run-queue handoff orders the two.
//
// Allocation: rtalloc, cached per P (no lock, no allocation on the hot path);
// a P with an empty cache refills half of it from a central list under
// sudoglock, and a P with a full one moves half there. Every sudog ever
// allocated is also on a list of all sudogs, so that shutdown frees the ones
// still held by goroutines it discards. Lock order: core/base/lockrank.h.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/sched/runtime2.h"

namespace gort {

struct hchan;

// seed-era runtime2.go: type sudog.
struct sudog {
    G *g = nullptr;
    sudog *next = nullptr;     // queue links (queue lock)
    sudog *prev = nullptr;
    void *elem = nullptr;      // data element (may point into g's stack), or the semaphore address
    hchan *c = nullptr;        // channel waited on (select's dequeue pass reads it)
    sudog *waitlink = nullptr; // g's list of sudogs in a select, in lock order (owner)
    uint32_t ticket = 0;       // sema: 1 if the releaser handed the count over; notifyList: the ticket
    bool isSelect = false;     // g is in a select: a waker must win g->selectdone first
    bool success = false;      // chan: woken by a value passed (true) or by close (false)
    bool elem_on_mstack = false;  // sudog_pin_elem counted it in g->mstack_chan_elems (owner)
    sudog *alllink = nullptr;  // list of every sudog (sudoglock)
};

// acquireSudog / releaseSudog (seed-era proc.go). From a goroutine with a P.
sudog *acquireSudog();
void releaseSudog(sudog *s);
// Shutdown (release_all): frees every sudog, and forgets the per-P caches
// (the Ps are freed next). Nothing else runs.
void sudog_release_all();

// sudog_pin_elem / sudog_unpin_elem: called by the goroutine itself, while
// it runs, around a wait whose s->elem may point into its own managed stack
// (the seed's adjustsudogs case). Execution stacks never move; a managed
// stack moves when it grows (only while its goroutine runs: no wait is
// active then) or when shrinkstack moves it while the goroutine waits.
//
// Departure: the seed shrinks only with the world stopped, so it can adjust
// s->elem in copystack (adjustsudogs). gort shrinks concurrently, and a
// waker writes through s->elem under the channel lock while the goroutine
// is parked - exactly when a shrink would move the stack (Go closes the same
// race with syncadjustsudogs, taking every channel lock of the goroutine).
// gort keeps it simpler: a goroutine waiting with an element on its managed
// stack is not shrunk until it is woken (G::mstack_chan_elems); the wait
// ends with the element where the waker wrote it.
inline void sudog_pin_elem(sudog *s) {
    G *gp = s->g;
    uintptr_t e = reinterpret_cast<uintptr_t>(s->elem);
    s->elem_on_mstack = gp->mstack.lo != 0 && e >= gp->mstack.lo && e < gp->mstack.hi;
    if (s->elem_on_mstack) gp->mstack_chan_elems.fetch_add(1, std::memory_order_relaxed);
}
inline void sudog_unpin_elem(sudog *s) {
    if (s->elem_on_mstack) s->g->mstack_chan_elems.fetch_sub(1, std::memory_order_relaxed);
    s->elem_on_mstack = false;
}

// goready: make gp (parked by a channel or semaphore operation) runnable.
// From a goroutine, from g0, or from a host thread (then through
// ready_runnable's global-queue path, as gort_ready).
void goready(G *gp);

// seed-era chan.go: type waitq. FIFO of sudogs, under the channel's lock.
struct waitq {
    sudog *first = nullptr;
    sudog *last = nullptr;

    bool empty() const { return first == nullptr; }
    void enqueue(sudog *s);
    // dequeue: the first sudog whose goroutine this caller may wake. A sudog
    // of a select is skipped (and dropped from the queue) when its select
    // was already won through another case.
    sudog *dequeue();
    // remove: take s out if it is still queued (select's cleanup pass; a
    // waker may have dropped it already).
    void remove(sudog *s);
};

}  // namespace gort
