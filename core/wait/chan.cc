// core/wait/chan.cc - channel send, receive and close (seed-era runtime/chan.go,
// in the shape of modern Go's chansend/send/chanrecv/recv/closechan). See
// chan.h for the invariants and the locking rules.
//
// Blocking. A goroutine that must wait puts a sudog (acquireSudog) with
// elem = its element on c->sendq or c->recvq, then parks with an unlockf that
// releases c->lock (seed: goparkunlock): park_m marks it Gwaiting before the
// unlockf runs, so any waker, which needs c->lock to find the sudog, finds it
// Gwaiting. The waker dequeues the sudog, copies the element, sets
// sg->success and gp->param = sg under c->lock, releases the lock and readies
// gp. gp reads them after it resumes.
//
// Departures from Go: no panics (a send on a closed channel returns
// kChanClosed, also when the close comes while the sender waits), no nil
// channels (the C ABI refuses NULL; select ignores NULL cases as Go ignores
// nil ones), no race-detector or GC hooks, no lock-free fast paths for the
// non-blocking operations (every operation takes c->lock, which keeps them
// simple and TSan-clean; the cost is one uncontended lock for a failed poll).
#include "core/wait/chan.h"

#include <cstring>
#include <new>

#include "core/base/atomics.h"
#include "core/sched/proc.h"
#include "core/base/throw.h"
#include "core/base/rtalloc.h"

namespace gort {

atomic<uint64_t> chan_epoch{1};

namespace {

int chanparkcommit(G *, void *lk) {
    unlock(&static_cast<hchan *>(lk)->lock);
    return 1;
}

}  // namespace

// seed-era chan.go: send (without its unlock and goready, which the caller
// does: chansend releases c->lock, select releases all its locks).
G *send_direct(hchan *c, sudog *sg, const void *ep) {
    copyelem(sg->elem, ep, c->elemsize);  // into the receiver's element (maybe its stack)
    G *gp = sg->g;
    gp->param = sg;
    sg->success = true;
    return gp;
}

// seed-era chan.go: recv (without unlock and goready). Unbuffered: take the
// sender's element directly. Buffered (and so full): take the head of the
// queue and put the sender's element at its tail, which is the same slot
// since the queue is full.
G *recv_direct(hchan *c, sudog *sg, void *ep) {
    if (c->dataqsiz == 0) {
        copyelem(ep, sg->elem, c->elemsize);
    } else {
        unsigned char *qp = chanbuf(c, c->recvx);
        copyelem(ep, qp, c->elemsize);
        copyelem(qp, sg->elem, c->elemsize);
        if (++c->recvx == c->dataqsiz) c->recvx = 0;
        c->sendx = c->recvx;  // c->sendx = (c->sendx+1) % c->dataqsiz
    }
    G *gp = sg->g;
    gp->param = sg;
    sg->success = true;
    return gp;
}

void bufsend(hchan *c, const void *ep) {
    copyelem(chanbuf(c, c->sendx), ep, c->elemsize);
    if (++c->sendx == c->dataqsiz) c->sendx = 0;
    store_relaxed(c->qcount, load_relaxed(c->qcount) + 1);
}

void bufrecv(hchan *c, void *ep) {
    copyelem(ep, chanbuf(c, c->recvx), c->elemsize);
    if (++c->recvx == c->dataqsiz) c->recvx = 0;
    store_relaxed(c->qcount, load_relaxed(c->qcount) - 1);
}

namespace {

// block: enqueue a sudog for the current goroutine on q and park until a
// peer or close wakes it. c->lock is held and released. Returns success.
bool chanblock(hchan *c, waitq *q, void *ep, const char *reason) {
    G *gp = getg();
    sudog *mysg = acquireSudog();
    mysg->elem = ep;
    mysg->waitlink = nullptr;
    mysg->g = gp;
    mysg->isSelect = false;
    mysg->c = c;
    gp->param = nullptr;
    q->enqueue(mysg);
    sudog_pin_elem(mysg);
    gp->rtpark.store(true, std::memory_order_release);  // only the runtime wakes it (netpoll.h)
    park(chanparkcommit, c, reason);
    // Woken: the waker dequeued mysg and set success (and gp->param).
    gp = getg();
    gp->rtpark.store(false, std::memory_order_relaxed);
    if (gp->param != mysg) gothrow("G waiting list is corrupted");
    sudog_unpin_elem(mysg);
    bool success = mysg->success;
    gp->param = nullptr;
    mysg->c = nullptr;
    mysg->elem = nullptr;
    releaseSudog(mysg);
    // No access to c after the wakeup: the waker took mysg off the queue,
    // and from then on chan_free may succeed.
    return success;
}

}  // namespace

// seed-era chan.go: makechan.
hchan *makechan(std::size_t elemsize, std::size_t size) {
    if (elemsize >= kMaxChanElem) return nullptr;
    if (elemsize != 0 && size > kMaxChanBuf / elemsize) return nullptr;
    std::size_t bufbytes = elemsize * size;
    void *mem = rtalloc(sizeof(hchan) + bufbytes);
    hchan *c = new (mem) hchan();
    c->buf = reinterpret_cast<unsigned char *>(c + 1);
    c->elemsize = elemsize;
    c->dataqsiz = size;
    c->epoch = load_acq(chan_epoch);
    return c;
}

int chan_nwaiters(hchan *c) {
    lock(&c->lock);
    int n = 0;
    for (sudog *s = c->recvq.first; s != nullptr; s = s->next) n++;
    for (sudog *s = c->sendq.first; s != nullptr; s = s->next) n++;
    unlock(&c->lock);
    return n;
}

bool chan_free(hchan *c) {
    bool stale = c->epoch != load_acq(chan_epoch);
    if (!stale) {
        lock(&c->lock);
        bool busy = !c->recvq.empty() || !c->sendq.empty() ||
                    c->nselecting.load(std::memory_order_acquire) != 0;  // pairs with selectblock's release
        unlock(&c->lock);
        if (busy) return false;
    }
    c->magic = 0;  // a stale handle must not look valid
    c->~hchan();
    rtfree(c);
    return true;
}

// seed-era chan.go: chansend.
int chansend(hchan *c, const void *ep, bool block) {
    lock(&c->lock);
    if (load_relaxed(c->closed) != 0) {
        unlock(&c->lock);
        return kChanClosed;  // Go: panic("send on closed channel")
    }
    if (sudog *sg = c->recvq.dequeue()) {
        // Found a waiting receiver. We pass the value we want to send
        // directly to the receiver, bypassing the channel buffer (if any).
        G *gp = send_direct(c, sg, ep);
        unlock(&c->lock);
        goready(gp);
        return kChanOK;
    }
    if (load_relaxed(c->qcount) < c->dataqsiz) {
        // Space is available in the channel buffer. Enqueue the element.
        bufsend(c, ep);
        unlock(&c->lock);
        return kChanOK;
    }
    if (!block) {
        unlock(&c->lock);
        return kChanWouldBlock;
    }
    // Block on the channel. Some receiver will complete our operation for us.
    bool success = chanblock(c, &c->sendq, const_cast<void *>(ep), "chan send");
    return success ? kChanOK : kChanClosed;  // closed while we waited
}

// seed-era chan.go: chanrecv.
int chanrecv(hchan *c, void *ep, bool block, bool *received) {
    lock(&c->lock);
    std::size_t qcount = load_relaxed(c->qcount);
    if (load_relaxed(c->closed) != 0 && qcount == 0) {
        unlock(&c->lock);
        if (ep != nullptr) std::memset(ep, 0, c->elemsize);
        *received = false;
        return kChanOK;
    }
    if (sudog *sg = c->sendq.dequeue()) {
        // Found a waiting sender. If buffer is size 0, receive value
        // directly from sender. Otherwise, receive from head of queue
        // and add sender's value to the tail of the queue (both map to
        // the same buffer slot because the queue is full).
        G *gp = recv_direct(c, sg, ep);
        unlock(&c->lock);
        goready(gp);
        *received = true;
        return kChanOK;
    }
    if (qcount > 0) {
        // Receive directly from queue.
        bufrecv(c, ep);
        unlock(&c->lock);
        *received = true;
        return kChanOK;
    }
    if (!block) {
        unlock(&c->lock);
        return kChanWouldBlock;
    }
    // No sender available: block on this channel.
    bool success = chanblock(c, &c->recvq, ep, "chan receive");
    // closechan zeroed *ep if we were woken by close.
    *received = success;
    return kChanOK;
}

// seed-era chan.go: closechan.
int closechan(hchan *c) {
    lock(&c->lock);
    if (load_relaxed(c->closed) != 0) {
        unlock(&c->lock);
        return kChanClosed;  // Go: panic("close of closed channel")
    }
    store_relaxed(c->closed, 1u);
    G *glist = nullptr;
    // release all readers
    while (sudog *sg = c->recvq.dequeue()) {
        if (sg->elem != nullptr) std::memset(sg->elem, 0, c->elemsize);
        G *gp = sg->g;
        gp->param = sg;
        sg->success = false;
        gp->schedlink = glist;
        glist = gp;
    }
    // release all writers (they will return kChanClosed)
    while (sudog *sg = c->sendq.dequeue()) {
        G *gp = sg->g;
        gp->param = sg;
        sg->success = false;
        gp->schedlink = glist;
        glist = gp;
    }
    unlock(&c->lock);
    // Ready all Gs now that we've dropped the channel lock. The list is
    // newest-first; reverse it so that waiters run in queue order.
    G *fifo = nullptr;
    while (glist != nullptr) {
        G *gp = glist;
        glist = gp->schedlink;
        gp->schedlink = fifo;
        fifo = gp;
    }
    while (fifo != nullptr) {
        G *gp = fifo;
        fifo = gp->schedlink;
        gp->schedlink = nullptr;
        goready(gp);
    }
    return kChanOK;
}

}  // namespace gort
