// core/wait/sudog.cc - see sudog.h.
#include "core/wait/sudog.h"

#include <new>

#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/base/throw.h"
#include "core/base/rtalloc.h"

namespace gort {

namespace {
// Central cache and list of all sudogs (modern Go's sched.sudogcache under
// sched.sudoglock). A leaf (core/base/lockrank.h).
mutex sudoglock{kRankSudog};
sudog *sudogcentral = nullptr;  // sudoglock
sudog *sudogall = nullptr;      // sudoglock
}  // namespace

// seed-era proc.go: acquireSudog.
sudog *acquireSudog() {
    M *mp = getg()->m;
    mp->locks++;  // keep the P in a local (no preemption point while held)
    P *pp = mp->p;
    if (pp == nullptr) gothrow("acquireSudog: no P");
    if (pp->nsudogcache == 0) {
        // First, try to grab a batch from the central cache.
        lock(&sudoglock);
        while (pp->nsudogcache < P::kSudogCache / 2 && sudogcentral != nullptr) {
            sudog *s = sudogcentral;
            sudogcentral = s->next;
            s->next = nullptr;
            pp->sudogcache[pp->nsudogcache++] = s;
        }
        unlock(&sudoglock);
        // If the central cache is empty, allocate a new one.
        if (pp->nsudogcache == 0) {
            sudog *s = new (rtalloc(sizeof(sudog))) sudog();
            lock(&sudoglock);
            s->alllink = sudogall;
            sudogall = s;
            unlock(&sudoglock);
            pp->sudogcache[pp->nsudogcache++] = s;
        }
    }
    sudog *s = pp->sudogcache[--pp->nsudogcache];
    pp->sudogcache[pp->nsudogcache] = nullptr;
    mp->locks--;
    if (s->elem != nullptr) gothrow("acquireSudog: found s.elem != nil in cache");
    if (s->isSelect) gothrow("acquireSudog: found s.isSelect != false in cache");
    if (s->next != nullptr) gothrow("acquireSudog: found s.next != nil in cache");
    if (s->prev != nullptr) gothrow("acquireSudog: found s.prev != nil in cache");
    if (s->waitlink != nullptr) gothrow("acquireSudog: found s.waitlink != nil in cache");
    if (s->c != nullptr) gothrow("acquireSudog: found s.c != nil in cache");
    return s;
}

// seed-era proc.go: releaseSudog.
void releaseSudog(sudog *s) {
    if (s->elem != nullptr) gothrow("runtime: sudog with non-nil elem");
    if (s->isSelect) gothrow("runtime: sudog with non-false isSelect");
    if (s->next != nullptr) gothrow("runtime: sudog with non-nil next");
    if (s->prev != nullptr) gothrow("runtime: sudog with non-nil prev");
    if (s->waitlink != nullptr) gothrow("runtime: sudog with non-nil waitlink");
    if (s->c != nullptr) gothrow("runtime: sudog with non-nil c");
    s->g = nullptr;
    s->ticket = 0;
    s->success = false;
    M *mp = getg()->m;
    mp->locks++;
    P *pp = mp->p;
    if (pp == nullptr) gothrow("releaseSudog: no P");
    if (pp->nsudogcache == P::kSudogCache) {
        // Transfer half of the local cache to the central cache.
        sudog *first = nullptr, *last = nullptr;
        while (pp->nsudogcache > P::kSudogCache / 2) {
            sudog *p = pp->sudogcache[--pp->nsudogcache];
            pp->sudogcache[pp->nsudogcache] = nullptr;
            if (first == nullptr)
                first = p;
            else
                last->next = p;
            last = p;
        }
        lock(&sudoglock);
        last->next = sudogcentral;
        sudogcentral = first;
        unlock(&sudoglock);
    }
    pp->sudogcache[pp->nsudogcache++] = s;
    mp->locks--;
}

void sudog_release_all() {
    sudog *s = sudogall;
    while (s != nullptr) {
        sudog *n = s->alllink;
        s->~sudog();
        rtfree(s);
        s = n;
    }
    sudogall = nullptr;
    sudogcentral = nullptr;
    for (P *pp : allp) {
        if (pp == nullptr) continue;
        for (int i = 0; i < pp->nsudogcache; i++) pp->sudogcache[i] = nullptr;
        pp->nsudogcache = 0;
    }
}

void goready(G *gp) {
    if (getg() != nullptr) {
        ready(gp);  // seed: goready -> ready
        return;
    }
    // A host thread (trysend, close, semrelease): no M to count locks on.
    casgstatus(gp, Gwaiting, Grunnable);
    ready_runnable(gp);
}

// ---- waitq (seed-era chan.go) ----

void waitq::enqueue(sudog *s) {
    s->next = nullptr;
    sudog *x = last;
    if (x == nullptr) {
        s->prev = nullptr;
        first = s;
        last = s;
        return;
    }
    s->prev = x;
    x->next = s;
    last = s;
}

sudog *waitq::dequeue() {
    for (;;) {
        sudog *s = first;
        if (s == nullptr) return nullptr;
        sudog *y = s->next;
        if (y == nullptr) {
            first = nullptr;
            last = nullptr;
        } else {
            y->prev = nullptr;
            first = y;
            s->next = nullptr;  // mark as removed (see remove)
        }
        // If a goroutine was put on this queue because of a select, there
        // is a small window between the goroutine being woken up by a
        // different case and it grabbing the channel locks. Once it has the
        // lock it removes itself from the queue, so we won't see it after
        // that. We use a flag in the G struct to tell us when someone else
        // has won the race to signal this goroutine but the goroutine hasn't
        // removed itself from the queue yet.
        if (s->isSelect) {
            G *gp = s->g;
            uint64_t w = load_acq(gp->selectdone);
            // Pairs with the release store of the generation in selectgo:
            // s is queued, so w is this select's generation.
            if ((w & 1) != 0 || !cas_full(gp->selectdone, w, w | 1)) continue;
        }
        return s;
    }
}

// seed-era select.go: dequeueSudoG.
void waitq::remove(sudog *s) {
    sudog *x = s->prev;
    sudog *y = s->next;
    if (x != nullptr) {
        if (y != nullptr) {  // middle of queue
            x->next = y;
            y->prev = x;
            s->next = nullptr;
            s->prev = nullptr;
            return;
        }
        // end of queue
        x->next = nullptr;
        last = x;
        s->prev = nullptr;
        return;
    }
    if (y != nullptr) {  // start of queue
        y->prev = nullptr;
        first = y;
        s->next = nullptr;
        return;
    }
    // x==y==nil. Either s is the only element in the queue, or it has
    // already been removed. Use first to disambiguate.
    if (first == s) {
        first = nullptr;
        last = nullptr;
    }
}

}  // namespace gort
