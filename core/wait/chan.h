// core/wait/chan.h - channels (Go's runtime/chan.go and select.go).
//
// Invariants (chan.go): at least one of c->sendq and c->recvq is empty,
// except for an unbuffered channel with a single goroutine blocked on it for
// both sending and receiving in a select. For a buffered channel, qcount > 0
// implies recvq is empty, and qcount < dataqsiz implies sendq is empty.
//
// Locking: every field below the lock is protected by c->lock, including the
// sudogs on its queues. select holds several at once, always taken in order
// of increasing channel address (sellock). What may be taken under a channel
// lock: core/base/lockrank.h (kRankHchan), the runtime's one lock order.
// Waiters are made runnable (goready) after c->lock is released.
//
// Direct hand-off: a sender that finds a waiting receiver copies its element
// straight into the receiver's elem (often on the receiver's stack) and
// readies it; a receiver that finds a waiting sender does the same the other
// way (through the buffer's head slot for a full buffered channel, to keep
// FIFO order). No element passes through the buffer when a peer waits.
//
// Lifetime: a channel belongs to the runtime instance that made it
// (chan_epoch). gort_chan_free refuses while goroutines are blocked on it:
// while sudogs sit on its queues, and while a select that queued on it has
// not finished with it (nselecting: a select woken through another channel
// locks this one again to dequeue; a plain send or receive never touches the
// channel after its wakeup). After a shutdown the goroutines are gone and
// any channel can be freed, but no longer used.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/base/atomics.h"
#include "core/base/lock_futex.h"
#include "core/wait/sudog.h"

namespace gort {

inline constexpr uint64_t kChanMagic = 0x676f72745f636831ull;  // "gort_ch1"
inline constexpr std::size_t kMaxChanElem = 1 << 16;            // as Go: element size < 64 KiB
inline constexpr std::size_t kMaxChanBuf = std::size_t(1) << 40;  // buffer bytes

// seed-era chan.go: type hchan.
struct alignas(64) hchan {
    uint64_t magic = kChanMagic;
    uint64_t epoch = 0;              // chan_epoch at makechan
    std::size_t dataqsiz = 0;        // size of the circular queue
    std::size_t elemsize = 0;
    unsigned char *buf = nullptr;    // dataqsiz elements (after the struct)
    // Selects that queued on this channel, until their last access to it
    // (chan_free's EBUSY). Incremented under lock, decremented after the
    // select's final unlock (release; chan_free loads acquire).
    atomic<int32_t> nselecting{0};
    mutex lock{kRankHchan};
    atomic<std::size_t> qcount{0};  // lock to write; len() reads it relaxed
    atomic<uint32_t> closed{0};     // lock to write
    std::size_t sendx = 0;           // send index
    std::size_t recvx = 0;           // receive index
    waitq recvq;                     // list of recv waiters
    waitq sendq;                     // list of send waiters
};

// The runtime instance counter: bumped at every shutdown (sudog_release_all).
extern atomic<uint64_t> chan_epoch;

// makechan: nullptr if elemsize/size are out of range (the caller checks).
hchan *makechan(std::size_t elemsize, std::size_t size);
// chan_free: false (changing nothing) while goroutines wait on c.
// chan_nwaiters: sudogs on c's queues now (tests, dumps).
int chan_nwaiters(hchan *c);
bool chan_free(hchan *c);

// Results of chansend/chanrecv/selectgo besides a case index.
enum ChanResult : int { kChanOK = 0, kChanWouldBlock = 1, kChanClosed = 2, kChanTimedOut = 3 };

// chansend: block = false never parks (any thread); block = true only from a
// goroutine. kChanClosed: c is closed (or was closed while we waited).
int chansend(hchan *c, const void *ep, bool block);
// chanrecv: ep may be nullptr (value dropped). *received = false: c is
// closed and drained, and *ep was zeroed.
int chanrecv(hchan *c, void *ep, bool block, bool *received);
// closechan: kChanClosed if already closed. Any thread.
int closechan(hchan *c);

// The pieces of chansend/chanrecv that select shares (c->lock held; the
// caller releases the lock(s), then readies the returned goroutine).
inline unsigned char *chanbuf(hchan *c, std::size_t i) { return c->buf + i * c->elemsize; }
inline void copyelem(void *dst, const void *src, std::size_t n) {
    if (n != 0 && dst != nullptr) __builtin_memcpy(dst, src, n);
}
G *send_direct(hchan *c, sudog *sg, const void *ep);  // seed-era chan.go: send
G *recv_direct(hchan *c, sudog *sg, void *ep);        // seed-era chan.go: recv
void bufsend(hchan *c, const void *ep);               // qcount < dataqsiz
void bufrecv(hchan *c, void *ep);                     // qcount > 0

// select (core/wait/select.cc). One case; c == nullptr never proceeds.
struct scase {
    hchan *c;
    int dir;      // kCaseSend or kCaseRecv
    void *elem;   // send: source; recv: destination (may be nullptr)
    int ok;       // out: 1 sent / received, 0 the channel was closed (nothing sent; zeroed element)
};
enum : int { kCaseSend = 1, kCaseRecv = 2 };
inline constexpr int kMaxSelectCases = 1 << 16;
// selectgo: returns the index of the case that ran (>= 0), or
// -kChanWouldBlock (timeout_ns == 0, nothing ready) or -kChanTimedOut.
// timeout_ns < 0 waits for ever. Parking (timeout_ns != 0) only from a
// goroutine.
int selectgo(scase *cases, int ncases, int64_t timeout_ns);

}  // namespace gort
