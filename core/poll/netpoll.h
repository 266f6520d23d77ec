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
#include "core/sched/upcalls.h"

namespace gort {

// The calls the scheduler makes (netpollinited, netpollGenericInit, netpoll,
// netpollBreak, netpollAnyWaiters, sysmon_netpoll,
// netpoll_has_waiters_or_timers, netpoll_wake_for_exit) are declared, with
// their contracts, in core/sched/upcalls.h.

// sysmon_netpoll checks fds closed with close(2) at most this often.
inline constexpr int64_t kClosedCheckPeriod = 50 * 1000 * 1000;  // ns
// gort_shutdown, every M joined: close the epoll fd and eventfd, free the
// pollDesc table.
void netpoll_release();
// netpoll_check_closed: wake with GORT_ECLOSED the waiters of every fd
// closed (close(2)) since it was registered; returns how many fds it found
// closed. sysmon_netpoll calls it; tests may too.
int netpoll_check_closed();

// ---- gort_poll_fd / gort_poll_close / gort_sleep (capi/time_poll.cc) ----
// From a goroutine holding a P; arguments already validated.
int poll_fd(int fd, int events, int64_t timeout_ns);
int poll_close(int fd);
void timeSleep(int64_t ns);  // ns > 0
// Only the runtime wakes a goroutine parked in those: gort_ready refuses it
// (G::rtpark), since the timer or poller would later wake it a second time,
// in whatever wait it is in by then.
inline bool runtime_parked(const G *gp) { return gp->rtpark.load(std::memory_order_acquire); }

}  // namespace gort
