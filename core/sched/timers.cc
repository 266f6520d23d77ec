// core/sched/timers.cc - per-P timer heaps (see timers.h).
#include "core/sched/timers.h"

#include <cstring>

#include "core/base/atomics.h"
#include "core/sched/proc.h"
#include "core/base/throw.h"
#include "core/sched/upcalls.h"
#include "core/base/os.h"
#include "core/base/rtalloc.h"

namespace gort {

namespace {

constexpr int kArity = 4;  // 4-ary heap, as Go: shallower, cache-friendlier

// ---- heap primitives; h->lock held ----

void heap_set(TimerHeap *h, int32_t i, timer *t) {
    h->heap[i] = t;
    t->idx = i;
}

void siftup(TimerHeap *h, int32_t i) {
    timer *t = h->heap[i];
    int64_t when = t->when;
    while (i > 0) {
        int32_t p = (i - 1) / kArity;
        if (when >= h->heap[p]->when) break;
        heap_set(h, i, h->heap[p]);
        i = p;
    }
    heap_set(h, i, t);
}

void siftdown(TimerHeap *h, int32_t i) {
    timer *t = h->heap[i];
    int64_t when = t->when;
    for (;;) {
        int32_t c = i * kArity + 1;
        if (c >= h->len) break;
        int32_t best = c;
        int32_t end = c + kArity < h->len ? c + kArity : h->len;
        for (int32_t k = c + 1; k < end; k++)
            if (h->heap[k]->when < h->heap[best]->when) best = k;
        if (when <= h->heap[best]->when) break;
        heap_set(h, i, h->heap[best]);
        i = best;
    }
    heap_set(h, i, t);
}

void update_timer0when(TimerHeap *h) {
    h->timer0when.store(h->len > 0 ? h->heap[0]->when : 0, std::memory_order_seq_cst);
}

// Insert t into pp's heap. h->lock held.
void heap_push(P *pp, timer *t) {
    TimerHeap *h = &pp->timers;
    if (h->len == h->cap) {
        int32_t ncap = h->cap == 0 ? 64 : h->cap * 2;
        auto **nh = static_cast<timer **>(rtalloc(std::size_t(ncap) * sizeof(timer *)));
        if (h->len > 0) std::memcpy(nh, h->heap, std::size_t(h->len) * sizeof(timer *));
        rtfree(h->heap);
        h->heap = nh;
        h->cap = ncap;
    }
    int32_t i = h->len++;
    heap_set(h, i, t);
    siftup(h, i);
    t->pp.store(pp, std::memory_order_relaxed);
    update_timer0when(h);
}

// Remove heap[i]. h->lock held.
void heap_remove(TimerHeap *h, int32_t i) {
    timer *t = h->heap[i];
    int32_t last = --h->len;
    if (i != last) {
        heap_set(h, i, h->heap[last]);
        siftdown(h, i);
        siftup(h, i);
    }
    h->heap[last] = nullptr;
    t->idx = -1;
    // release: the last write to t by the heap; pairs with deltimer's
    // acquire, after which the owner may reuse t's memory.
    t->pp.store(nullptr, std::memory_order_release);
    update_timer0when(h);
}

}  // namespace

TimerHeap::~TimerHeap() {
    rtfree(heap);
    heap = nullptr;
}

namespace {
atomic<uint32_t> anyp_next{0};

// A P for a timer added without one (host thread, or g0 of an M without a
// P), locked. A P that procresize made Pdead is skipped: timers_moveall runs
// after the Pdead store and takes the same lock, so a timer pushed under
// the lock with the status not yet Pdead is moved with the rest.
P *lock_anyp() {
    for (;;) {
        int32_t n = load_acq(gomaxprocs);
        if (n <= 0) gothrow("addtimer: no Ps");
        P *pp = allp[anyp_next.fetch_add(1, std::memory_order_relaxed) % uint32_t(n)];
        lock(&pp->timers.lock);
        if (pp->status.load(std::memory_order_relaxed) != Pdead) return pp;
        unlock(&pp->timers.lock);
    }
}
}  // namespace

void addtimer(timer *t) {
    if (t->pp.load(std::memory_order_relaxed) != nullptr) gothrow("addtimer: timer already armed");
    if (t->f == nullptr) gothrow("addtimer: nil func");
    // Timers need the poller: its M sleeps in epoll_wait until the next one.
    if (!netpollinited()) netpollGenericInit();
    G *g = getg();
    P *pp = g != nullptr ? g->m->p : nullptr;
    if (pp != nullptr) lock(&pp->timers.lock);
    else pp = lock_anyp();
    TimerHeap *h = &pp->timers;
    heap_push(pp, t);
    bool first = h->heap[0] == t;
    int64_t when = t->when;
    unlock(&h->lock);
    if (first) wakeNetPoller(when);
}

bool deltimer(timer *t) {
    for (;;) {
        P *pp = t->pp.load(std::memory_order_acquire);  // pairs with heap_remove's release
        if (pp == nullptr) return false;  // fired (or firing), or never armed
        TimerHeap *h = &pp->timers;
        lock(&h->lock);
        if (t->pp.load(std::memory_order_relaxed) != pp) {  // moved or fired meanwhile
            unlock(&h->lock);
            continue;
        }
        heap_remove(h, t->idx);
        unlock(&h->lock);
        return true;
    }
}

int64_t checkTimers_run(P *pp, int64_t now, bool *ran) {
    TimerHeap *h = &pp->timers;
    int64_t next = timers_wakeTime(*h);
    if (next == 0) return 0;
    if (now == 0) now = nanotime();
    if (next > now) return next;
    lock(&h->lock);
    while (h->len > 0 && h->heap[0]->when <= now) {
        timer *t = h->heap[0];
        void (*f)(void *, uintptr_t) = t->f;
        void *arg = t->arg;
        uintptr_t seq = t->seq;
        heap_remove(h, 0);  // t is the owner's again: never touched below
        unlock(&h->lock);
        if (ran != nullptr) *ran = true;
        f(arg, seq);
        lock(&h->lock);
    }
    next = h->len > 0 ? h->heap[0]->when : 0;
    unlock(&h->lock);
    return next;
}

int64_t timeSleepUntil() {
    int64_t next = 0;
    int32_t n = load_acq(gomaxprocs);
    for (int32_t i = 0; i < n; i++) {
        P *pp = allp[i];
        if (pp == nullptr) continue;
        int64_t w = timers_wakeTime(pp->timers);
        if (w != 0 && (next == 0 || w < next)) next = w;
    }
    return next;
}

int64_t timers_count() {
    int64_t n = 0;
    int32_t np = load_acq(gomaxprocs);
    for (int32_t i = 0; i < np; i++) {
        P *pp = allp[i];
        if (pp == nullptr) continue;
        lock(&pp->timers.lock);
        n += pp->timers.len;
        unlock(&pp->timers.lock);
    }
    return n;
}

void timers_moveall(P *from, P *to) {
    if (from == to) gothrow("timers_moveall: same P");
    TimerHeap *hf = &from->timers;
    lock(&hf->lock);
    if (hf->len == 0) {
        unlock(&hf->lock);
        return;
    }
    TimerHeap *ht = &to->timers;
    lock(&ht->lock);
    while (hf->len > 0) {
        timer *t = hf->heap[hf->len - 1];  // the last leaf: no sifting in `from`
        heap_remove(hf, hf->len - 1);
        heap_push(to, t);
    }
    unlock(&ht->lock);
    unlock(&hf->lock);
    // No wakeNetPoller: the earliest deadline over all Ps is unchanged (a
    // blocked poller already sleeps until it at most), and procresize holds
    // sched.lock, which wakep would take.
}

// Modern Go's wakeNetPoller. The store of timer0when (seq_cst, in heap_push)
// and the load of sched.lastpoll below pair with the poller's swap of
// lastpoll to 0 followed by its timeSleepUntil (findrunnable): either the
// poller sees this timer when it computes its deadline, or we see lastpoll
// == 0 and break its wait if it sleeps past `when`.
void wakeNetPoller(int64_t when) {
    if (sched.lastpoll.load(std::memory_order_seq_cst) == 0) {
        int64_t until = sched.pollUntil.load(std::memory_order_seq_cst);
        if (until == 0 || until > when) netpollBreak();
    } else {
        // No M is blocked in netpoll: an idle P (if any) will run it. The
        // M that gives up its P next computes its deadline from every
        // P's timers before it blocks.
        G *g = getg();
        if (g != nullptr && g->m->p != nullptr) {
            if (load_relaxed(sched.npidle) != 0) wakep();
        } else {
            // No P here (host thread): wake an idle P's M, which ends up
            // blocking in netpoll with this deadline; and break a poller
            // that is about to block with an older one.
            if (load_relaxed(sched.npidle) != 0) wakep();
            netpollBreak();
        }
    }
}

}  // namespace gort
