// core/poll/netpoll_epoll.cc - the epoll poller, pollDescs, gort_poll_fd and
// gort_sleep's parking (see netpoll.h).
//
// Waiting on an fd. A goroutine in poll_fd puts a waiter (on its own stack)
// on the fd's pollDesc list under the pollDesc lock, THEN checks the fd's
// level state with a non-blocking poll(2), then parks. Readiness that came
// before the waiter was queued is seen by poll(2) (epoll is edge-triggered:
// an edge reported while nobody waited is dropped, and that is fine);
// readiness that comes after is reported by epoll as a new edge and wakes
// the queued waiter. So nothing is lost between the check and the park.
//
// The waiter's state word is the handshake between the waker and the
// parking goroutine, because a wakeup may come before the goroutine is
// parked: 0 queued, 1 parked (set by the park's unlockf, on g0, once the
// goroutine is Gwaiting), 2 woken (set by the waker, which has already
// taken the waiter off the list and written its result). A waker that finds
// 0 leaves the goroutine to see 2 in its unlockf and cancel the park; one
// that finds 1 makes the goroutine runnable. The waker never touches the
// waiter after that exchange: its memory is the goroutine's stack.
//
// Several goroutines may wait on one fd, in either direction: they queue,
// and an event wakes every waiter whose direction it covers (like poll(2)
// on one fd from several threads; Go instead refuses a second reader). As
// with poll(2), readiness is a hint: a read after it may still see EAGAIN.
//
// Timeouts use a timer whose callback finds the waiter by its id under the
// pollDesc lock (the waiter may be gone by then; the id is never reused).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>

#include "capi/include/gort/gort.h"
#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/poll/netpoll.h"
#include "core/sched/proc.h"
#include "core/base/throw.h"
#include "core/sched/timers.h"
#include "core/base/os.h"
#include "core/base/rtalloc.h"

namespace gort {

namespace {

enum : uint32_t { kWQueued = 0, kWParked = 1, kWWoken = 2 };

struct waiter {
    G *g = nullptr;
    int events = 0;  // GORT_POLL_IN | GORT_POLL_OUT
    int result = 0;  // written by the waker before state = kWWoken
    uint64_t id = 0;
    atomic<uint32_t> state{kWQueued};
    waiter *next = nullptr, *prev = nullptr;  // pollDesc lock
};

// seed-era pollDesc (netpoll.go), one per fd number.
struct pollDesc {
    mutex lock{kRankPollDesc};
    bool registered = false;  // in the epoll set (lock)
    dev_t dev = 0;            // identity of the file at registration (lock)
    ino_t ino = 0;
    waiter *head = nullptr;   // lock
    atomic<int32_t> nwait{0};  // lock to write; read racily by the closed-fd scan
};

constexpr int kChunkShift = 10;
constexpr int kChunk = 1 << kChunkShift;  // pollDescs per chunk
constexpr int kMaxChunks = 4096;          // fds below 4M
constexpr uint64_t kBreakKey = ~uint64_t(0);

// The pollDesc table: chunks allocated on first use, never moved or freed
// before shutdown, so a pollDesc's address is stable.
atomic<pollDesc *> chunks[kMaxChunks];
atomic<int32_t> nchunks_hint{0};  // one past the highest chunk allocated
mutex tablelock{kRankPollTable};// allocates chunks
mutex initlock{kRankPollInit};// netpollGenericInit
atomic<bool> inited{false};
int epfd = -1, evfd = -1;  // written under initlock before inited = true
atomic<uint32_t> wakeSig{0};  // a break is pending (modern Go's netpollWakeSig)
atomic<int32_t> nwaiters{0};  // goroutines queued in poll_fd
atomic<uint64_t> waiterids{0};
atomic<int64_t> lastclosedcheck{0};

pollDesc *pd_lookup(int fd) {
    int c = fd >> kChunkShift;
    if (c >= kMaxChunks) return nullptr;
    pollDesc *chunk = load_acq(chunks[c]);  // pairs with store_rel in pd_get
    return chunk != nullptr ? &chunk[fd & (kChunk - 1)] : nullptr;
}

pollDesc *pd_get(int fd) {
    if (pollDesc *pd = pd_lookup(fd)) return pd;
    int c = fd >> kChunkShift;
    if (c >= kMaxChunks) return nullptr;
    lock(&tablelock);
    pollDesc *chunk = load_relaxed(chunks[c]);
    if (chunk == nullptr) {
        chunk = static_cast<pollDesc *>(rtalloc(sizeof(pollDesc) * kChunk));
        for (int i = 0; i < kChunk; i++) new (&chunk[i]) pollDesc();
        store_rel(chunks[c], chunk);
        if (load_relaxed(nchunks_hint) <= c) store_rel(nchunks_hint, int32_t(c + 1));
    }
    unlock(&tablelock);
    return &chunk[fd & (kChunk - 1)];
}

// Makes gp (Gwaiting) runnable from any context: a goroutine or g0 with a
// P (local queue), or an M without P / host thread (global queue).
void readyg(G *gp) {
    casgstatus(gp, Gwaiting, Grunnable);
    ready_runnable(gp);
}

// Takes w off pd's list and wakes it with result. pd->lock held. If the
// goroutine is parked, it is pushed on *list (still Gwaiting).
void wake_locked(pollDesc *pd, waiter *w, int result, G **list) {
    if (w->prev != nullptr) w->prev->next = w->next;
    else pd->head = w->next;
    if (w->next != nullptr) w->next->prev = w->prev;
    store_relaxed(pd->nwait, load_relaxed(pd->nwait) - 1);
    nwaiters.fetch_sub(1, std::memory_order_relaxed);
    G *gp = w->g;
    w->result = result;
    // acq_rel: publishes result to the goroutine (its unlockf CAS or its
    // resumption reads state with acquire); w is not touched after this.
    if (w->state.exchange(kWWoken, std::memory_order_acq_rel) == kWParked) {
        gp->schedlink = *list;
        *list = gp;
    }
}

// Whether w is still on its list (not woken). pd->lock held.
bool queued(const waiter *w) { return w->state.load(std::memory_order_relaxed) != kWWoken; }

void wake_all_locked(pollDesc *pd, int result, G **list) {
    while (pd->head != nullptr) wake_locked(pd, pd->head, result, list);
}

void readylist(G *list) {
    while (list != nullptr) {
        G *gp = list;
        list = gp->schedlink;
        gp->schedlink = nullptr;
        readyg(gp);
    }
}

// epoll / poll(2) event bits to GORT_POLL_*: errors and hangups make both
// directions ready (the operation will not block; it reports the error).
int epoll_to_gort(uint32_t ev) {
    int r = 0;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) r |= GORT_POLL_IN;
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) r |= GORT_POLL_OUT;
    return r;
}

int poll_to_gort(short ev) {
    int r = 0;
    if (ev & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) r |= GORT_POLL_IN;
    if (ev & (POLLOUT | POLLHUP | POLLERR)) r |= GORT_POLL_OUT;
    return r;
}

// Timer callbacks (run on g0, no lock held).
void poll_timeout(void *arg, uintptr_t seq) {
    auto *pd = static_cast<pollDesc *>(arg);
    G *list = nullptr;
    lock(&pd->lock);
    for (waiter *w = pd->head; w != nullptr; w = w->next) {
        if (w->id == uint64_t(seq)) {
            wake_locked(pd, w, GORT_ETIMEDOUT, &list);
            break;
        }
    }
    unlock(&pd->lock);
    readylist(list);
}

void sleep_ready(void *arg, uintptr_t) { readyg(static_cast<G *>(arg)); }

int sleep_unlockf(G *, void *arg) {
    addtimer(static_cast<timer *>(arg));  // on g0, gp Gwaiting: the callback may ready it at once
    return 1;
}

int poll_unlockf(G *, void *arg) {
    auto *w = static_cast<waiter *>(arg);
    uint32_t exp = kWQueued;
    // acquire on failure: the waker's result is visible when we resume.
    return w->state.compare_exchange_strong(exp, kWParked, std::memory_order_acq_rel, std::memory_order_acquire)
               ? 1
               : 0;
}

}  // namespace

bool netpollinited() { return inited.load(std::memory_order_acquire); }

bool netpollAnyWaiters() { return nwaiters.load(std::memory_order_relaxed) > 0; }

void netpollGenericInit() {
    if (netpollinited()) return;
    lock(&initlock);
    if (!netpollinited()) {
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0) gothrow("netpollinit: epoll_create1 failed");
        evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (evfd < 0) gothrow("netpollinit: eventfd failed");
        // Level-triggered: a pending break stays visible to every poll
        // until a blocking poll consumes it.
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kBreakKey;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) != 0) gothrow("netpollinit: epoll_ctl failed");
        inited.store(true, std::memory_order_release);
    }
    unlock(&initlock);
}

void netpollBreak() {
    if (!netpollinited()) return;
    uint32_t exp = 0;
    if (!wakeSig.compare_exchange_strong(exp, 1, std::memory_order_seq_cst)) return;  // one pending is enough
    uint64_t one = 1;
    for (;;) {
        ssize_t n = write(evfd, &one, sizeof one);
        if (n == sizeof one || (n < 0 && errno == EAGAIN)) return;
        if (n < 0 && errno == EINTR) continue;
        gothrow("netpollBreak: write failed");
    }
}

G *netpoll(int64_t delay) {
    if (!netpollinited()) return nullptr;
    epoll_event events[128];
    int n;
    for (;;) {
        static atomic<bool> no_pwait2{false};
        if (delay > 0 && !no_pwait2.load(std::memory_order_relaxed)) {
            // epoll_pwait2 takes a timespec: timer precision below 1 ms.
            timespec ts;
            ts.tv_sec = time_t(delay / 1000000000);
            ts.tv_nsec = long(delay % 1000000000);
            n = int(syscall(SYS_epoll_pwait2, epfd, events, 128, &ts, nullptr, 0));
            if (n < 0 && errno == ENOSYS) {
                no_pwait2.store(true, std::memory_order_relaxed);
                continue;
            }
        } else {
            int ms;
            if (delay < 0) ms = -1;
            else if (delay == 0) ms = 0;
            else if (delay < 1000000) ms = 1;  // round up: never early
            else if (delay < int64_t(INT_MAX) * 1000000) ms = int(delay / 1000000);
            else ms = INT_MAX;
            n = epoll_wait(epfd, events, 128, ms);
        }
        if (n >= 0) break;
        if (errno != EINTR) gothrow("netpoll: epoll_wait failed");
        // Interrupted: a blocking caller recomputes its deadline.
        if (delay != 0) return nullptr;
    }
    G *list = nullptr;
    for (int i = 0; i < n; i++) {
        const epoll_event &ev = events[i];
        if (ev.data.u64 == kBreakKey) {
            if (delay != 0) {
                // Only a blocking poll consumes the break: a non-blocking
                // one must leave it for the poller it was meant for.
                uint64_t v;
                (void)!read(evfd, &v, sizeof v);
                wakeSig.store(0, std::memory_order_seq_cst);
            }
            continue;
        }
        int mode = epoll_to_gort(ev.events);
        pollDesc *pd = pd_lookup(int(ev.data.u64));
        if (pd == nullptr || mode == 0) continue;
        lock(&pd->lock);
        for (waiter *w = pd->head; w != nullptr;) {
            waiter *next = w->next;
            if (w->events & mode) wake_locked(pd, w, w->events & mode, &list);
            w = next;
        }
        unlock(&pd->lock);
    }
    return list;
}

int poll_fd(int fd, int events, int64_t timeout_ns) {
    G *gp = getg();
    pollDesc *pd = pd_get(fd);
    if (pd == nullptr) return GORT_EINVAL;  // fd beyond the table
    netpollGenericInit();
    waiter w;
    w.g = gp;
    w.events = events;
    w.id = waiterids.fetch_add(1, std::memory_order_relaxed) + 1;
    lock(&pd->lock);
    if (!pd->registered) {
        struct stat st;
        if (fstat(fd, &st) != 0) {
            unlock(&pd->lock);
            return GORT_EINVAL;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = uint64_t(fd);
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            int e = errno;
            if (e == EEXIST) {
                // Registered before gort_poll_close forgot it, or a dup of a
                // file still registered: the registration is usable.
            } else {
                unlock(&pd->lock);
                // EPERM: a regular file or directory, which epoll refuses
                // and poll(2) reports always ready.
                if (e == EPERM) return events;
                return GORT_EINVAL;
            }
        }
        pd->registered = true;
        pd->dev = st.st_dev;
        pd->ino = st.st_ino;
    }
    w.next = pd->head;
    if (pd->head != nullptr) pd->head->prev = &w;
    pd->head = &w;
    store_relaxed(pd->nwait, load_relaxed(pd->nwait) + 1);
    nwaiters.fetch_add(1, std::memory_order_relaxed);
    unlock(&pd->lock);

    // The level state now: readiness that came before we queued.
    pollfd pfd{fd, short(((events & GORT_POLL_IN) ? POLLIN | POLLRDHUP : 0) | ((events & GORT_POLL_OUT) ? POLLOUT : 0)), 0};
    int r = poll(&pfd, 1, 0);
    int now_ready = 0;
    bool closed = false;
    if (r > 0) {
        if (pfd.revents & POLLNVAL) closed = true;
        else now_ready = poll_to_gort(pfd.revents) & events;
    }
    if (now_ready != 0 || closed || timeout_ns == 0) {
        G *list = nullptr;
        lock(&pd->lock);
        bool mine = queued(&w);
        if (mine) wake_locked(pd, &w, 0, &list);  // state 0 -> 2: nothing to ready
        if (closed) pd->registered = false;  // its registration went with the file
        unlock(&pd->lock);
        if (list != nullptr) gothrow("poll_fd: unparked waiter on ready list");
        if (!mine) {
            // A waker got there first; its result stands (read after acquire).
            (void)w.state.load(std::memory_order_acquire);
            return w.result;
        }
        if (closed) return GORT_ECLOSED;
        return now_ready != 0 ? now_ready : GORT_ETIMEDOUT;
    }

    timer t;
    if (timeout_ns > 0) {
        int64_t now = nanotime();
        t.when = timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
        t.f = poll_timeout;
        t.arg = pd;
        t.seq = uintptr_t(w.id);
        addtimer(&t);
    }
    gp->rtpark.store(true, std::memory_order_release);
    park(poll_unlockf, &w, "IO wait");
    gp->rtpark.store(false, std::memory_order_relaxed);
    if (w.state.load(std::memory_order_acquire) != kWWoken) gothrow("poll_fd: resumed without a wakeup");
    if (timeout_ns > 0) deltimer(&t);
    return w.result;
}

int poll_close(int fd) {
    pollDesc *pd = pd_lookup(fd);
    if (pd == nullptr) return GORT_OK;  // never polled: nothing to forget
    G *list = nullptr;
    lock(&pd->lock);
    wake_all_locked(pd, GORT_ECLOSED, &list);
    if (pd->registered) {
        // Fails harmlessly (EBADF/ENOENT) if fd is already closed.
        epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
        pd->registered = false;
    }
    unlock(&pd->lock);
    readylist(list);
    return GORT_OK;
}

void timeSleep(int64_t ns) {
    G *gp = getg();
    timer t;
    int64_t now = nanotime();
    t.when = ns > INT64_MAX - now ? INT64_MAX : now + ns;
    t.f = sleep_ready;
    t.arg = gp;
    gp->rtpark.store(true, std::memory_order_release);
    park(sleep_unlockf, &t, "sleep");
    gp->rtpark.store(false, std::memory_order_relaxed);
}

int netpoll_check_closed() {
    if (!netpollinited() || !netpollAnyWaiters()) return 0;
    int found = 0;
    G *list = nullptr;
    int32_t nc = load_acq(nchunks_hint);
    for (int32_t c = 0; c < nc; c++) {
        pollDesc *chunk = load_acq(chunks[c]);
        if (chunk == nullptr) continue;
        for (int i = 0; i < kChunk; i++) {
            pollDesc *pd = &chunk[i];
            if (load_relaxed(pd->nwait) == 0) continue;
            int fd = (c << kChunkShift) | i;
            lock(&pd->lock);
            if (pd->registered && pd->head != nullptr) {
                // Closed: fd is invalid now, or names another file.
                struct stat st;
                bool gone = fstat(fd, &st) != 0 ? errno == EBADF : (st.st_dev != pd->dev || st.st_ino != pd->ino);
                if (gone) {
                    found++;
                    wake_all_locked(pd, GORT_ECLOSED, &list);
                    // A new file under the same number is not ours to
                    // deregister; the old registration went with its file.
                    pd->registered = false;
                }
            }
            unlock(&pd->lock);
        }
    }
    // On sysmon's M (no P) or a goroutine: the woken Gs are Gwaiting.
    injectglist(list);
    return found;
}

void sysmon_netpoll(int64_t now) {
    if (!netpollinited()) return;
    // seed: sysmon - poll network if not polled for more than 10ms.
    int64_t lastpoll = sched.lastpoll.load(std::memory_order_seq_cst);
    if (lastpoll != 0 && lastpoll + 10 * 1000 * 1000 < now) {
        sched.lastpoll.compare_exchange_strong(lastpoll, now, std::memory_order_seq_cst);
        G *list = netpoll(0);  // non-blocking - returns list of goroutines
        if (list != nullptr) {
            // Need to decrement number of idle locked M's (pretending that
            // one more is running) before injectglist. Otherwise it can
            // lead to the following situation: injectglist grabs all P's
            // but before it starts M's to run the P's, another M returns
            // from syscall, finishes running its G, observes that there is
            // no work to do and no other running M's and reports deadlock.
            incidlelocked(-1);
            injectglist(list);
            incidlelocked(1);
        }
    }
    // Modern Go's sysmon: a timer is overdue and nobody runs it (every M
    // busy in long-running goroutines, or asleep): start an M on an idle P.
    int64_t next = timeSleepUntil();
    if (next != 0 && next < now && load_relaxed(sched.gcwaiting) == 0) startm(nullptr, false);
    int64_t lc = lastclosedcheck.load(std::memory_order_relaxed);
    if (now - lc >= kClosedCheckPeriod && lastclosedcheck.compare_exchange_strong(lc, now, std::memory_order_relaxed))
        netpoll_check_closed();
}

bool netpoll_has_waiters_or_timers() { return netpollAnyWaiters() || timeSleepUntil() != 0; }

void netpoll_wake_for_exit() { netpollBreak(); }

void netpoll_release() {
    for (int c = 0; c < kMaxChunks; c++) {
        pollDesc *chunk = load_relaxed(chunks[c]);
        if (chunk == nullptr) continue;
        for (int i = 0; i < kChunk; i++) chunk[i].~pollDesc();
        rtfree(chunk);
        store_relaxed(chunks[c], static_cast<pollDesc *>(nullptr));
    }
    store_relaxed(nchunks_hint, 0);
    if (netpollinited()) {
        close(epfd);
        close(evfd);
        epfd = evfd = -1;
        inited.store(false, std::memory_order_release);
    }
    wakeSig.store(0, std::memory_order_relaxed);
    nwaiters.store(0, std::memory_order_relaxed);
    lastclosedcheck.store(0, std::memory_order_relaxed);
}

}  // namespace gort
