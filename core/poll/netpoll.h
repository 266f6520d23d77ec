// core/poll/netpoll.h - the network poller (seed: netpoll; Go's netpoll.go and
// netpoll_epoll.go), on epoll.
//
// One epoll instance and one eventfd (netpollBreak) for the runtime, both
// created lazily on first use (the first timer or the first gort_poll_fd: an
// embedded runtime opens no fd it never needs) and closed by gort_shutdown.
// Every fd waited on has a pollDesc (a table indexed by fd, grown in chunks,
// stable addresses) registered once with EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET.
//
// Who polls. findrunnable polls without blocking when goroutines wait on
// fds; the last M to find no work becomes the poller: it swaps
// sched.lastpoll to 0 and blocks in netpoll until the next timer (or for
// ever), so an idle runtime has at most that one M in epoll_wait and every
// other M asleep on its note. sysmon polls too if nobody has for 10 ms
// (sysmon_netpoll). A timer added earlier than the poller's deadline breaks
// its wait (netpollBreak).
#pragma once

#include <cstdint>

#include "core/sched/runtime2.h"

namespace gort {

// netpollinited: the epoll fd exists. Any thread, no lock.
bool netpollinited();
// netpollGenericInit: create the epoll fd and eventfd if not yet done.
void netpollGenericInit();
// netpoll: Gs made runnable by fd readiness, as a list through schedlink,
// still Gwaiting (the caller injects them: injectglist or casgstatus).
// delay < 0 blocks until an event or netpollBreak, 0 does not block, > 0
// blocks up to delay ns. Only a delay != 0 consumes a pending break.
G *netpoll(int64_t delay);
// netpollBreak: interrupt a blocked netpoll (or make the next one return at
// once). Coalesced: one write per wakeup however many callers.
void netpollBreak();
// Goroutines parked in gort_poll_fd (modern Go's netpollAnyWaiters).
bool netpollAnyWaiters();

// ---- hooks for the rest of the runtime ----
// sysmon, every tick (seed: sysmon's "poll network if not polled for more
// than 10ms"; modern Go's "start an M if a timer is overdue"), plus the
// check for fds closed with close(2) instead of gort_poll_close (at most
// every kClosedCheckPeriod). On sysmon's M, without a P.
void sysmon_netpoll(int64_t now);
inline constexpr int64_t kClosedCheckPeriod = 50 * 1000 * 1000;  // ns
// checkdead: something can still wake a goroutine (an armed timer or a
// goroutine parked in gort_poll_fd).
bool netpoll_has_waiters_or_timers();
// Shutdown / gort_main's return: wake the M blocked in netpoll so that it
// sees sched.exiting / m0_resume. Any thread; no-op if not initialised.
void netpoll_wake_for_exit();
// gort_shutdown, every M joined: close the epoll fd and eventfd, free the
// pollDesc table.
void netpoll_release();
// netpoll_check_closed: wake with GORT_ECLOSED the waiters of every fd
// closed (close(2)) since it was registered; returns how many fds it found
// closed. sysmon_netpoll calls it; tests may too.
int netpoll_check_closed();

// ---- gort_poll_fd / gort_poll_close / gort_sleep (capi/capi_time_poll.cc) ----
// From a goroutine holding a P; arguments already validated.
int poll_fd(int fd, int events, int64_t timeout_ns);
int poll_close(int fd);
void timeSleep(int64_t ns);  // ns > 0
// Only the runtime wakes a goroutine parked in those: gort_ready refuses it
// (G::rtpark), since the timer or poller would later wake it a second time,
// in whatever wait it is in by then.
inline bool runtime_parked(const G *gp) { return gp->rtpark.load(std::memory_order_acquire); }

}  // namespace gort
