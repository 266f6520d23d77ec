// core/sched/proc.h - the scheduler's internal interface (seed: proc1.go).
//
// Marker, the equivalent of the seed's pragmas:
//   G0ONLY     runs on an M's g0 (scheduling) stack, reached through mcall;
//              never returns to the goroutine that called mcall. Checked in
//              GORT_LOCKRANK builds: each G0ONLY function's body starts with
//              G0ONLY_CHECK() (fatal "G0ONLY function called off g0").
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/sched/runtime2.h"

#define G0ONLY
#if defined(GORT_LOCKRANK) && GORT_LOCKRANK
#define G0ONLY_CHECK() ::gort::assert_g0(__func__)
#else
#define G0ONLY_CHECK() ((void)0)
#endif

namespace gort {

// G0ONLY_CHECK's check (core/sched/proc.cc): fatal unless getg() is its M's g0.
void assert_g0(const char *fn);

// ---- scheduling (core/sched/proc.cc) ----
[[noreturn]] G0ONLY void schedule();                      // seed: schedule
// inheritTime (modern Go): gp came from runnext and runs in the current time
// slice: schedtick is not incremented (see runq.h, "runnext").
[[noreturn]] G0ONLY void execute(G *gp, bool inheritTime = false);  // seed: execute
G0ONLY G *findrunnable(bool *inheritTime);                // seed: findrunnable
void resetspinning();                                     // seed: resetspinning
void injectglist(G *glist);                               // seed: injectglist
void ready(G *gp);                                        // seed: ready (throws on bad status)
void ready_runnable(G *gp);                               // ready()'s second half: gp already Grunnable
void park(unlockf_t unlockf, void *lock, const char *reason);  // seed: park
void parkunlock(mutex *l, const char *reason);            // seed: parkunlock
G0ONLY void park_m(G *gp);                                // seed: park_m
void gosched();                                           // seed: Gosched
G0ONLY void gosched_m(G *gp);                             // seed: gosched_m
[[noreturn]] void goexit1();                              // seed: goexit1
G0ONLY void goexit0(G *gp);                               // seed: goexit0
void dropg();                                             // seed: dropg
uint32_t fastrand1();                                     // seed: fastrand1

// ---- M life cycle (core/sched/mlife.cc) ----
M *allocm(P *pp);                                         // seed: allocm
void newm(void (*fn)(), P *pp);                           // seed: _newm
void mstart(M *mp);                                       // seed: mstart
void stopm();                                             // seed: stopm
void startm(P *pp, bool spinning);                        // seed: startm
void handoffp(P *pp);                                     // seed: handoffp
void wakep();                                             // seed: wakep
void mspinning();                                         // seed: mspinning
void stoplockedm();                                       // seed: stoplockedm
void startlockedm(G *gp);                                 // seed: startlockedm
void gcstopm();                                           // seed: gcstopm
void incidlelocked(int32_t v);                            // seed: incidlelocked
// mpark: sleep on m->park; on wakeup, leave the thread if the runtime is
// exiting (or, for m0, if gort_main is returning). Every M sleeps here.
void mpark(M *mp);
[[noreturn]] void mexit(M *mp);
void checkmcount();                                       // seed: checkmcount

// ---- goroutine creation (core/sched/newproc.cc) ----
// seed: newproc1. Copies argsize bytes of arg onto the new stack. From a
// goroutine or g0 with a P, or from a host thread (no M: the g goes to the
// global queue). stacksize 0: the default. The returned G may already have
// run and exited (and been reused): read its goid through goid_out.
// issystem: a runtime goroutine (gcount and checkdead skip it). gopc: the
// pc of the go statement (seed: callerpc), for "created by" in dumps.
G *newproc1(void (*fn)(void *), const void *arg, std::size_t argsize, std::size_t stacksize,
            bool lock_os_thread, int64_t *goid_out = nullptr, bool issystem = false, uintptr_t gopc = 0);
G *malg(std::size_t stacksize);                           // seed: malg
void gfput(P *pp, G *gp);                                 // seed: gfput
G *gfget(P *pp);                                          // seed: gfget
void gfpurge(P *pp);                                      // seed: gfpurge
int32_t gcount();                                         // seed: gcount
extern std::size_t default_stack_size;
extern atomic<uint64_t> foreign_created;  // goroutines created from host threads (gort_stats)

// ---- Ps (core/sched/procresize.cc) ----
void procresize(int32_t nprocs);                          // seed: procresize
void acquirep(P *pp);                                     // seed: acquirep
P *releasep();                                            // seed: releasep

// ---- debug variables (core/diag/schedtrace.cc) ----
// seed: schedtrace. One SCHED line (detailed: with P, M and G lines) to fd.
// Takes sched.lock and allglock, and writes while holding them, as the seed.
void schedtrace(bool detailed, int fd = 2);

// ---- stop the world (core/sched/stoptheworld.cc) ----
void stoptheworld();                                      // seed: stoptheworld
void starttheworld();                                     // seed: starttheworld
void freezetheworld();                                    // seed: freezetheworld
bool worldsema_acquire();                                 // seed: semacquire(&worldsema); false: the world has ended
void worldsema_release();                                 // seed: semrelease(&worldsema)
void worldsema_end();                                     // the holder ends the world (gort_main's return, shutdown)
void worldsema_reset();                                   // release_all
void set_newprocs(int32_t n);                             // seed: newprocs = n (worldsema held, world stopped)

// ---- system calls (core/sched/syscall.cc) ----
// sp: the caller's stack pointer; frames above it stay live in the call.
// ctx: where a dump unwinds the goroutine from during the call (G's
// syscallpc/syscallctxsp/syscallbp); nullptr: the frame of the function
// that called reentersyscall (it must stay live until exitsyscall). Both
// are noinline so that their own return address and frame name that caller.
struct SyscallCtx {
    uintptr_t pc = 0, sp = 0, bp = 0;  // pc == 0: no frames to show
};
[[gnu::noinline]] void reentersyscall(uintptr_t sp, const SyscallCtx *ctx = nullptr);     // seed: reentersyscall
[[gnu::noinline]] void entersyscallblock(uintptr_t sp, const SyscallCtx *ctx = nullptr);  // seed: entersyscallblock
void exitsyscall();                                       // seed: exitsyscall
G0ONLY void exitsyscall0(G *gp);                          // seed: exitsyscall0

// ---- sysmon and preemption (core/sched/sysmon.cc) ----
void newsysmon();                                         // seed: newsysmon (core/sched/mlife.cc)
void sysmon();                                            // seed: sysmon; returns at shutdown
void sysmon_wake();                                       // wake sysmon from its deep sleep
bool preemptall();                                        // seed: preemptall
bool preemptone(P *pp);                                   // seed: preemptone

// ---- deadlock detection (core/sched/checkdead.cc) ----
void checkdead();                                         // seed: checkdead (sched.lock held)
void run_deadlock_hook();                                 // after unlock: the hook, if checkdead asked
void set_deadlock_hook(void (*hook)(void *), void *ctx);


}  // namespace gort
