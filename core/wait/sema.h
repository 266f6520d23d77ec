// core/wait/sema.h - the runtime semaphore and notify lists (Go's runtime/sema.go),
// the sleeping half of sync.Mutex, sync.Cond and sync.WaitGroup.
//
// Semaphore: *addr counts available units. semacquire takes one, parking
// while there are none; semrelease adds one and wakes a waiter. Waiters sit
// in a table of 251 roots hashed by address (the seed-era semtable), each
// root a doubly linked list of sudogs under the root's lock with a count of
// waiters (nwait) that lets semrelease skip the lock when nobody waits. The
// seed-era list stays a list (Go 1.9 turned it into a treap of per-address
// lists to make many distinct addresses sharing a root cheap; gort keeps the
// simpler form: a release walks only the root it hashes to).
//
// FIFO by default; lifo puts the waiter at the front (sync.Mutex requeues a
// waiter that was already woken once, so it is not overtaken again). handoff
// (modern semrelease1): the releaser takes the unit itself and gives it to
// the woken waiter (s->ticket = 1), so no running goroutine can steal it in
// between; this is the starvation mode of sync.Mutex.
//
// notifyList (sync.Cond): a ticket-based list. notifyListAdd takes a ticket
// before the caller unlocks its mutex; notifyListWait parks unless that
// ticket was already notified; notifyOne wakes the holder of the oldest
// unnotified ticket, notifyAll every waiter.
//
// Locking: a root's lock and a notify list's lock are leaves (they may take
// sudoglock, in acquireSudog). Waiters are readied after unlocking.
// At shutdown (sema_reset) the table forgets every waiter; user memory
// (gort_cond) that still has waiters must not be reused.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/base/atomics.h"
#include "core/base/lock_futex.h"
#include "core/wait/sudog.h"

namespace gort {

// semacquire1 (modern sema.go): from a goroutine.
void semacquire1(atomic<uint32_t> *addr, bool lifo, const char *reason);
// semrelease1: any thread (handoff's yield only on a goroutine).
void semrelease1(atomic<uint32_t> *addr, bool handoff);
inline void semacquire(atomic<uint32_t> *addr) { semacquire1(addr, false, "semacquire"); }
inline void semrelease(atomic<uint32_t> *addr) { semrelease1(addr, false); }
// Goroutines queued on addr now (tests and dumps; takes the root's lock).
int sema_waiters(const void *addr);
// Shutdown: forget every waiter (their goroutines are discarded).
void sema_reset();

// seed-era sema.go (Go 1.7+): type notifyList. Zero value is empty. Layout
// is the gort_cond ABI (32 bytes, zero means ready to use).
struct notifyList {
    atomic<uint32_t> wait{0};    // ticket of the next waiter (atomic, no lock)
    atomic<uint32_t> notify{0};  // ticket of the next to be notified (lock to write)
    mutex lock;  // host memory, zero = ready: locked with lockWithRank(kRankNotifyList)
    sudog *head = nullptr;            // lock
    sudog *tail = nullptr;            // lock
};

uint32_t notifyListAdd(notifyList *l);              // any thread
void notifyListWait(notifyList *l, uint32_t t);     // goroutine
void notifyListNotifyAll(notifyList *l);            // any thread
void notifyListNotifyOne(notifyList *l);            // any thread

}  // namespace gort
