// core/wait/sema.cc - see sema.h (seed-era runtime/sema.go, with modern Go's
// lifo/handoff options and notify lists).
#include "core/wait/sema.h"

#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/base/throw.h"

namespace gort {

namespace {

constexpr int kSemTabSize = 251;  // seed: semTabSize

// seed-era sema.go: type semaRoot. A doubly linked list of waiters for every
// address that hashes here.
struct alignas(64) semaRoot {
    mutex lock{kRankSemaRoot};
    sudog *head = nullptr;            // lock
    sudog *tail = nullptr;            // lock
    atomic<uint32_t> nwait{0};   // number of waiters; read without the lock
};

semaRoot semtable[kSemTabSize];

semaRoot *semroot(const void *addr) {
    return &semtable[(reinterpret_cast<uintptr_t>(addr) >> 3) % kSemTabSize];
}

// seed-era sema.go: cansemacquire.
bool cansemacquire(atomic<uint32_t> *addr) {
    for (;;) {
        uint32_t v = load_acq(*addr);
        if (v == 0) return false;
        if (cas_full(*addr, v, v - 1)) return true;
    }
}

// seed-era sema.go: semaRoot.queue (with modern lifo).
void rootqueue(semaRoot *root, atomic<uint32_t> *addr, sudog *s, bool lifo) {
    s->g = getg();
    s->elem = addr;
    s->next = nullptr;
    s->prev = nullptr;
    if (lifo && root->head != nullptr) {
        s->next = root->head;
        root->head->prev = s;
        root->head = s;
    } else if (root->tail != nullptr) {
        s->prev = root->tail;
        root->tail->next = s;
        root->tail = s;
    } else {
        root->head = s;
        root->tail = s;
    }
}

// seed-era sema.go: semaRoot.dequeue.
void rootdequeue(semaRoot *root, sudog *s) {
    if (s->next != nullptr)
        s->next->prev = s->prev;
    else
        root->tail = s->prev;
    if (s->prev != nullptr)
        s->prev->next = s->next;
    else
        root->head = s->next;
    s->elem = nullptr;
    s->next = nullptr;
    s->prev = nullptr;
}

int semparkcommit(G *, void *lk) {
    unlock(&static_cast<semaRoot *>(lk)->lock);
    return 1;
}

int notifyparkcommit(G *, void *lk) {
    unlock(&static_cast<notifyList *>(lk)->lock);
    return 1;
}

// seed-era sema.go: less. Ticket comparison with wraparound.
inline bool less(uint32_t a, uint32_t b) { return int32_t(a - b) < 0; }

}  // namespace

// seed-era sema.go: semacquire (modern semacquire1).
void semacquire1(atomic<uint32_t> *addr, bool lifo, const char *reason) {
    // Easy case.
    if (cansemacquire(addr)) return;

    // Harder case:
    //   increment waiter count
    //   try cansemacquire one more time, return if succeeded
    //   enqueue itself as a waiter
    //   sleep
    //   (waiter descriptor is dequeued by signaler)
    sudog *s = acquireSudog();
    semaRoot *root = semroot(addr);
    s->ticket = 0;
    for (;;) {
        lock(&root->lock);
        // Add ourselves to nwait to disable "easy case" in semrelease.
        xadd_full(root->nwait, 1u);
        // Check cansemacquire to avoid missed wakeup.
        if (cansemacquire(addr)) {
            xadd_full(root->nwait, uint32_t(-1));
            unlock(&root->lock);
            break;
        }
        // Any semrelease after the cansemacquire knows we're waiting
        // (we set nwait above), so go to sleep.
        rootqueue(root, addr, s, lifo);
        G *gp = getg();
        gp->rtpark.store(true, std::memory_order_release);  // only the runtime wakes it (netpoll.h)
        park(semparkcommit, root, reason);
        getg()->rtpark.store(false, std::memory_order_relaxed);
        if (s->ticket != 0 || cansemacquire(addr)) break;
    }
    s->ticket = 0;
    releaseSudog(s);
}

// seed-era sema.go: semrelease (modern semrelease1).
void semrelease1(atomic<uint32_t> *addr, bool handoff) {
    semaRoot *root = semroot(addr);
    xadd_full(*addr, 1u);

    // Easy case: no waiters? This check must happen after the xadd, to
    // avoid a missed wakeup (see loop in semacquire).
    if (load_acq(root->nwait) == 0) return;

    // Harder case: search for a waiter and wake it.
    lock(&root->lock);
    if (load_acq(root->nwait) == 0) {
        // The count is already consumed by another goroutine,
        // so no need to wake up another goroutine.
        unlock(&root->lock);
        return;
    }
    sudog *s = root->head;
    for (; s != nullptr; s = s->next) {
        if (s->elem == addr) {
            xadd_full(root->nwait, uint32_t(-1));
            rootdequeue(root, s);
            break;
        }
    }
    if (s != nullptr && handoff && cansemacquire(addr)) s->ticket = 1;
    unlock(&root->lock);
    if (s == nullptr) return;
    bool handed = s->ticket == 1;  // read before ready: s belongs to its goroutine after
    goready(s->g);
    // Direct G handoff: the waiter got the unit; let it run now rather than
    // sit behind us (modern Go's goyield). gosched puts us on the global
    // queue, a departure from goyield's local queue that gort's scheduler
    // does not offer; the effect (the waiter runs first) is the same.
    if (handed) {
        G *g = getg();
        if (g != nullptr && g != g->m->g0 && g->m->locks == 0 && readgstatus(g) == Grunning) gosched();
    }
}

int sema_waiters(const void *addr) {
    semaRoot *root = semroot(addr);
    int n = 0;
    lock(&root->lock);
    for (sudog *s = root->head; s != nullptr; s = s->next) n += s->elem == addr;
    unlock(&root->lock);
    return n;
}

void sema_reset() {
    for (semaRoot &r : semtable) {
        r.head = nullptr;
        r.tail = nullptr;
        store_relaxed(r.nwait, 0u);
        store_relaxed(r.lock.key, 0u);
    }
}

// ---- notify lists (sync.Cond) ----

// seed-era sema.go: notifyListAdd. Called before the caller releases its
// mutex: tickets are ordered by the mutex.
uint32_t notifyListAdd(notifyList *l) { return xadd_full(l->wait, 1u) - 1; }

// seed-era sema.go: notifyListWait.
void notifyListWait(notifyList *l, uint32_t t) {
    lockWithRank(&l->lock, kRankNotifyList);
    // Return right away if this ticket has already been notified.
    if (less(t, load_relaxed(l->notify))) {
        unlock(&l->lock);
        return;
    }
    // Enqueue itself.
    sudog *s = acquireSudog();
    s->g = getg();
    s->ticket = t;
    s->next = nullptr;
    if (l->tail == nullptr)
        l->head = s;
    else
        l->tail->next = s;
    l->tail = s;
    getg()->rtpark.store(true, std::memory_order_release);  // only the runtime wakes it (netpoll.h)
    park(notifyparkcommit, l, "sync.Cond.Wait");
    getg()->rtpark.store(false, std::memory_order_relaxed);
    s->ticket = 0;
    releaseSudog(s);
}

// seed-era sema.go: notifyListNotifyAll.
void notifyListNotifyAll(notifyList *l) {
    // Fast-path: if there are no new waiters since the last notification
    // we don't need to acquire the lock.
    if (load_acq(l->wait) == load_acq(l->notify)) return;
    // Pull the list out into a local variable, waiters will be readied
    // outside the lock.
    lockWithRank(&l->lock, kRankNotifyList);
    sudog *s = l->head;
    l->head = nullptr;
    l->tail = nullptr;
    // Update the next ticket to be notified. We can set it to the current
    // value of wait because any previous waiters are already in the list
    // or will notice that they have already been notified when trying to
    // add themselves to the list.
    store_rel(l->notify, load_acq(l->wait));
    unlock(&l->lock);
    // Go through the local list and ready all waiters.
    while (s != nullptr) {
        sudog *next = s->next;
        s->next = nullptr;
        goready(s->g);
        s = next;
    }
}

// seed-era sema.go: notifyListNotifyOne.
void notifyListNotifyOne(notifyList *l) {
    // Fast-path: if there are no new waiters since the last notification
    // we don't need to acquire the lock at all.
    if (load_acq(l->wait) == load_acq(l->notify)) return;
    lockWithRank(&l->lock, kRankNotifyList);
    // Re-check under the lock if we need to do anything.
    uint32_t t = load_relaxed(l->notify);
    if (t == load_acq(l->wait)) {
        unlock(&l->lock);
        return;
    }
    // Update the next notify ticket number.
    store_rel(l->notify, t + 1);
    // Try to find the g that needs to be notified. If it hasn't made it to
    // the list yet we won't find it, but it won't park itself once it sees
    // the new notify number. The list is (almost always) in ticket order,
    // so the waiter is usually near the front.
    for (sudog *p = nullptr, *s = l->head; s != nullptr; p = s, s = s->next) {
        if (s->ticket == t) {
            sudog *n = s->next;
            if (p != nullptr)
                p->next = n;
            else
                l->head = n;
            if (n == nullptr) l->tail = p;
            unlock(&l->lock);
            s->next = nullptr;
            goready(s->g);
            return;
        }
    }
    unlock(&l->lock);
}

}  // namespace gort
