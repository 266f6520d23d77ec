// core/sudog.h - wait nodes for channels and semaphores (Go's sudog,
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
// still held by goroutines it discards. Lock order: sudoglock is a leaf.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/runtime2.h"

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
    sudog *alllink = nullptr;  // list of every sudog (sudoglock)
};

// acquireSudog / releaseSudog (seed-era proc.go). From a goroutine with a P.
sudog *acquireSudog();
void releaseSudog(sudog *s);
// Shutdown (release_all): frees every sudog, and forgets the per-P caches
// (the Ps are freed next). Nothing else runs.
void sudog_release_all();

// sudog_pin_elem / sudog_unpin_elem: where a goroutine about to wait with
// s->elem pointing into its own managed stack registers that pointer as a
// root, so that copystack adjusts it while it waits (the seed's
// adjustsudogs), and unregisters it once woken.
// MANAGED-STACKS HOOK: empty; execution stacks never move, so nothing needs
// adjusting unless elem points into s->g's managed stack
// (mstack_root_add(gp, &s->elem) when gp->mstack.lo <= elem < gp->mstack.hi,
// mstack_root_remove in unpin). Registering is not enough on its own: a
// waker writes through s->elem under the channel lock while the goroutine is
// parked, which is exactly when shrinkstack may move the stack. Go closes
// that race with gp.activeStackChans/parkingOnChan: copystack takes the locks
// of every channel gp waits on (syncadjustsudogs) before adjusting sudogs,
// and shrinkstack skips a goroutine that is still parking on a channel.
// Wiring managed stacks here needs that too.
inline void sudog_pin_elem(sudog *s) { (void)s; }
inline void sudog_unpin_elem(sudog *s) { (void)s; }

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
