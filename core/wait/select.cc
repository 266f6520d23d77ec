// core/wait/select.cc - select (seed-era runtime/select.go, in the shape of
// modern Go's selectgo).
//
// The protocol:
//   1. Cases on NULL channels are dropped (Go: nil channels never proceed).
//      pollorder is a uniformly random permutation of the rest (Fisher-Yates
//      on fastrand1, as the seed), lockorder the same cases sorted by channel
//      address.
//   2. sellock takes every channel's lock in lockorder, each once. Pass 1
//      scans the cases in pollorder and runs the first that can proceed; so
//      when several are ready, each is chosen with equal probability.
//   3. Nothing ready and timeout 0: unlock, report "would block".
//   4. Pass 2: enqueue one sudog (isSelect) per case on its channel, in
//      lockorder, then park; selparkcommit releases the locks on g0, after
//      the goroutine is Gwaiting. A waker on any channel must first win
//      gp->selectdone (waitq::dequeue); losers drop the sudog and go on to
//      the next waiter. A timeout (timeout_ns > 0) is a timer on this stack,
//      armed by selparkcommit once gp is Gwaiting; its callback competes for
//      the same CAS, keyed by the select's generation, and deltimer removes
//      it after a channel won.
//   5. Woken: sellock again, pass 3 takes every other sudog off its queue,
//      the winner's sudog (gp->param; nullptr for the timer) names the case.
//
// Departure from Go: a send case whose channel is (or gets) closed does not
// panic; select returns that case with ok = 0, as a receive from a closed
// channel.
#include <algorithm>
#include <atomic>

#include "core/base/atomics.h"
#include "core/wait/chan.h"
#include "core/base/lock_futex.h"
#include "core/poll/netpoll.h"
#include "core/sched/proc.h"
#include "core/base/throw.h"
#include "core/sched/timers.h"
#include "core/base/os.h"
#include "core/base/rtalloc.h"

namespace gort {

namespace {

// Random numbers for pollorder: the M's fastrand (seed), or, on a host thread
// polling (timeout 0), a splitmix64 step on a shared counter.
uint32_t selrand() {
    if (getg() != nullptr) return fastrand1();
    static atomic<uint64_t> state{0x9e3779b97f4a7c15ull};
    uint64_t z = state.fetch_add(0x9e3779b97f4a7c15ull, std::memory_order_relaxed);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return uint32_t((z ^ (z >> 31)) >> 32);
}

// seed-era select.go: sellock. Channels appear in lockorder by address, so
// repeats of one channel are adjacent.
void sellock(scase *cases, const uint16_t *lockorder, int n) {
    hchan *c = nullptr;
    for (int i = 0; i < n; i++) {
        hchan *c0 = cases[lockorder[i]].c;
        if (c0 != c) {
            c = c0;
            lock(&c->lock);
        }
    }
}

// seed-era select.go: selunlock. We must be very careful here to not touch
// the cases once the last lock is released, as the cases can be freed
// immediately after the last unlock (here they belong to our own caller, but
// keep Go's order: reverse, each channel once).
void selunlock(scase *cases, const uint16_t *lockorder, int n) {
    for (int i = n - 1; i >= 0; i--) {
        hchan *c = cases[lockorder[i]].c;
        if (i > 0 && c == cases[lockorder[i - 1]].c) continue;  // will unlock it on the next iteration
        unlock(&c->lock);
    }
}

// What selparkcommit needs, on the parking goroutine's stack.
struct SelPark {
    sudog *waiting;  // the goroutine's sudogs in lock order
    timer *t;        // the timeout, or nullptr
};

// The timeout timer's callback (on g0 of some M, no lock held). seq is the
// generation of the select that armed it: the CAS fails if that select was
// already won by a channel, or has returned (a later select has a later
// generation). Winning it means gp is still parked in that select.
void selecttimeout(void *arg, uintptr_t seq) {
    G *gp = static_cast<G *>(arg);
    uint64_t w = uint64_t(seq) << 1;
    if (cas_full(gp->selectdone, w, w | 1)) goready(gp);  // gp->param stays nullptr: timed out
}

// seed-era select.go: selparkcommit. Runs on g0 after gp is Gwaiting.
int selparkcommit(G *gp, void *arg) {
    auto *sp = static_cast<SelPark *>(arg);
    sudog *sg = sp->waiting;
    // Arm the timeout now that gp is Gwaiting (its callback may ready gp at
    // once) and while we still hold the channel locks (so gp cannot have
    // returned and freed the timer). Lock order (core/base/lockrank.h):
    // channel locks, then a P's timers lock, and wakeNetPoller's sched.lock.
    if (sp->t != nullptr) addtimer(sp->t);
    // This must not access gp's stack after the last unlock (gp may be
    // readied and return from selectgo as soon as it can take the locks).
    // As soon as we unlock the channel, fields in any sudog with that
    // channel may change, including c and waitlink. Since multiple sudogs
    // may have the same channel, we unlock only after we've passed the last
    // instance of a channel.
    hchan *lastc = nullptr;
    for (; sg != nullptr; sg = sg->waitlink) {
        if (sg->c != lastc && lastc != nullptr) unlock(&lastc->lock);
        lastc = sg->c;
    }
    if (lastc != nullptr) unlock(&lastc->lock);
    return 1;
}

// Goroutine-blocking part of select: no case was ready, timeout_ns != 0.
// All channels are locked; returns with them unlocked. Returns the index of
// the case that ran, or -kChanTimedOut.
int selectblock(scase *cases, const uint16_t *lockorder, int norder, int64_t timeout_ns) {
    G *gp = getg();
    // A new generation, done clear: from here wakers may CAS it (they need
    // a channel lock we hold, so none before selparkcommit).
    uint64_t gen = (load_relaxed(gp->selectdone) >> 1) + 1;
    store_rel(gp->selectdone, gen << 1);  // pairs with waitq::dequeue's load_acq

    timer t;
    SelPark sp{nullptr, nullptr};
    if (timeout_ns > 0) {
        int64_t now = nanotime();
        t.when = timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
        t.f = selecttimeout;
        t.arg = gp;
        t.seq = uintptr_t(gen);
        sp.t = &t;
    }

    // pass 2 - enqueue on all chans
    sudog **nextp = &sp.waiting;
    for (int i = 0; i < norder; i++) {
        scase *k = &cases[lockorder[i]];
        hchan *c = k->c;
        sudog *sg = acquireSudog();
        sg->g = gp;
        sg->isSelect = true;
        // No stack splits between assigning elem and enqueuing sg on
        // gp.waiting where copystack can find it.
        sg->elem = k->elem;
        sg->c = c;
        *nextp = sg;  // construct waiting list in lock order
        nextp = &sg->waitlink;
        if (k->dir == kCaseSend)
            c->sendq.enqueue(sg);
        else
            c->recvq.enqueue(sg);
        c->nselecting.fetch_add(1, std::memory_order_relaxed);
        sudog_pin_elem(sg);
    }
    gp->param = nullptr;
    gp->rtpark.store(true, std::memory_order_release);  // gort_ready must not wake it (netpoll.h)
    park(selparkcommit, &sp, "select");
    gp = getg();
    gp->rtpark.store(false, std::memory_order_relaxed);
    // Woken by a channel: the timer may still be armed (or firing: its CAS
    // then fails and it does not touch t again).
    if (sp.t != nullptr) deltimer(sp.t);

    sellock(cases, lockorder, norder);
    sudog *won = static_cast<sudog *>(gp->param);
    gp->param = nullptr;

    // pass 3 - dequeue from unsuccessful chans; otherwise they stack up on
    // quiet channels. Record the successful case, if we have one. We
    // singly-linked up the sudogs in lock order.
    int casi = -1;
    bool success = false;
    sudog *sg = sp.waiting;
    for (int i = 0; i < norder; i++) {
        scase *k = &cases[lockorder[i]];
        if (sg == won) {
            // sg has already been dequeued by the G that woke us up.
            casi = lockorder[i];
            success = sg->success;
        } else if (k->dir == kCaseSend) {
            k->c->sendq.remove(sg);
        } else {
            k->c->recvq.remove(sg);
        }
        sudog_unpin_elem(sg);
        sudog *next = sg->waitlink;
        sg->waitlink = nullptr;
        sg->isSelect = false;
        sg->elem = nullptr;
        sg->c = nullptr;
        releaseSudog(sg);
        sg = next;
    }
    if (won != nullptr && casi < 0) gothrow("selectgo: bad wakeup");
    selunlock(cases, lockorder, norder);
    // Our last access to the channels: from here chan_free may succeed.
    for (int i = 0; i < norder; i++)
        cases[lockorder[i]].c->nselecting.fetch_sub(1, std::memory_order_release);  // pairs with chan_free
    if (casi < 0) return -kChanTimedOut;
    // A receive woken by close found *elem zeroed by closechan; a send woken
    // by close did not send.
    cases[casi].ok = success ? 1 : 0;
    return casi;
}

}  // namespace

// seed-era select.go: selectgo.
int selectgo(scase *cases, int ncases, int64_t timeout_ns) {
    constexpr int kSmall = 16;
    uint16_t small[2 * kSmall];
    uint16_t *order = small;
    if (ncases > kSmall) order = static_cast<uint16_t *>(rtalloc(2 * sizeof(uint16_t) * std::size_t(ncases)));
    uint16_t *pollorder = order;
    uint16_t *lockorder = order + ncases;

    // generate permuted order
    int norder = 0;
    for (int i = 0; i < ncases; i++) {
        if (cases[i].c == nullptr) continue;  // omit cases without channels from the poll and lock orders
        int j = int(selrand() % uint32_t(norder + 1));
        pollorder[norder] = pollorder[j];
        pollorder[j] = uint16_t(i);
        norder++;
    }
    // sort the cases by Hchan address to get the locking order.
    std::copy(pollorder, pollorder + norder, lockorder);
    std::sort(lockorder, lockorder + norder, [cases](uint16_t a, uint16_t b) {
        return reinterpret_cast<uintptr_t>(cases[a].c) < reinterpret_cast<uintptr_t>(cases[b].c);
    });

    int result;
    G *wake = nullptr;
    if (norder == 0) {
        result = -kChanWouldBlock;  // no channel: only the timeout can end it
        goto block;
    }
    sellock(cases, lockorder, norder);

    // pass 1 - look for something already waiting
    for (int i = 0; i < norder; i++) {
        int casi = pollorder[i];
        scase *k = &cases[casi];
        hchan *c = k->c;
        if (k->dir == kCaseRecv) {
            if (sudog *sg = c->sendq.dequeue()) {
                wake = recv_direct(c, sg, k->elem);  // can receive from sleeping sender
                k->ok = 1;
            } else if (load_relaxed(c->qcount) > 0) {
                bufrecv(c, k->elem);  // can receive from buffer
                k->ok = 1;
            } else if (load_relaxed(c->closed) != 0) {
                if (k->elem != nullptr) std::fill_n(static_cast<unsigned char *>(k->elem), c->elemsize, 0);
                k->ok = 0;  // read at end of closed channel
            } else {
                continue;
            }
        } else {
            if (load_relaxed(c->closed) != 0) {
                k->ok = 0;  // send on closed channel (Go panics)
            } else if (sudog *sg = c->recvq.dequeue()) {
                wake = send_direct(c, sg, k->elem);  // can send to a sleeping receiver
                k->ok = 1;
            } else if (load_relaxed(c->qcount) < c->dataqsiz) {
                bufsend(c, k->elem);  // can send to buffer
                k->ok = 1;
            } else {
                continue;
            }
        }
        selunlock(cases, lockorder, norder);
        if (wake != nullptr) goready(wake);
        result = casi;
        goto out;
    }
    if (timeout_ns == 0) {
        selunlock(cases, lockorder, norder);
        result = -kChanWouldBlock;
        goto out;
    }
    result = selectblock(cases, lockorder, norder, timeout_ns);
    goto out;

block:
    // select with no channels: timeout 0 polls nothing; a negative timeout
    // blocks for ever (Go's select {}).
    if (timeout_ns < 0) {
        G *gp = getg();
        gp->rtpark.store(true, std::memory_order_release);  // nothing may wake it
        park(nullptr, nullptr, "select (no cases)");
        gothrow("select (no cases): woken");
    }
    if (timeout_ns > 0) {
        timeSleep(timeout_ns);
        result = -kChanTimedOut;
    }
out:
    if (order != small) rtfree(order);
    return result;
}

}  // namespace gort
