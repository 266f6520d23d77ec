// core/sched/timers.h - timers run by the scheduler: a min-heap per P (modern Go's
// runtime/time.go; the seed's timer goroutine, timerproc, is not ported).
//
// Each P owns a 4-ary min-heap of timers ordered by `when`, under the P's
// own timers lock: the P's M adds and runs them, and other Ms run (steal) a
// P's expired timers while they look for work, so a busy or idle P does not
// hold its timers hostage. A timer's callback runs on g0 of whichever M ran
// checkTimers, without any timers lock held; it may call ready().
//
// A timer is owned by its creator (typically on a goroutine's stack). While
// it is in a heap, the heap's lock protects it; checkTimers copies f, arg and
// seq out under the lock, takes the timer out of the heap, and never touches
// it again, so the owner may reuse its memory as soon as deltimer returns or
// the callback has woken it.
//
// Lock order: core/base/lockrank.h (kRankTimers; two at once only in
// timers_moveall, under sched.lock). No timers lock is held while a callback
// runs or while netpollBreak, wakep or startm are called.
#pragma once

#include <cstdint>

#include "core/base/atomics.h"
#include "core/sched/timerheap.h"
#include "core/base/os.h"

namespace gort {

struct P;

// addtimer: arm t (not armed) to fire at t->when on the current M's P (from
// a host thread or an M without P: on some live P). Wakes the poller or an idle P if t is now
// the earliest deadline (seed-era addtimer woke timerproc; modern Go's
// wakeNetPoller).
void addtimer(timer *t);
// deltimer: disarm t. true if it was armed (its callback will not run);
// false if it already fired or is firing (the callback copied what it needs
// and will not touch t). Any thread.
bool deltimer(timer *t);
// checkTimers (runs pp's expired timers): timerheap.h.
// timeSleepUntil: the earliest when over all Ps (0: no timer). Any thread.
int64_t timeSleepUntil();
// timers_moveall: procresize, world stopped: every timer of `from` (a P
// going Pdead) moves to `to`. Call it after from->status is Pdead (host
// threads add timers to any P not Pdead). Caller holds sched.lock, which
// makes nesting the two Ps' timers locks legal (core/base/lockrank.h).
void timers_moveall(P *from, P *to);
// Number of armed timers over all Ps (checkdead, tests). Any thread.
int64_t timers_count();

// Modern Go's wakeNetPoller: a timer at `when` was just added; make sure
// somebody will run it on time (break the blocked poller if it sleeps past
// when, else wake an idle P).
void wakeNetPoller(int64_t when);

}  // namespace gort
