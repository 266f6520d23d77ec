// core/thread/thread.h - goroutines and OS threads: lockOSThread, extra Ms
// for threads the runtime did not create (seed: needm/dropm, cgocallback),
// and fork.
#pragma once

#include "core/sched/runtime2.h"
#include "core/sched/upcalls.h"

namespace gort {

// LockOSThread and extram_idle_gs (the scheduler calls them):
// core/sched/upcalls.h.
// ---- lockOSThread (core/thread/lockosthread.cc) ----
void UnlockOSThread();                                    // seed: UnlockOSThread
void lockOSThread();                                      // seed: lockOSThread (internal)
void unlockOSThread();                                    // seed: unlockOSThread (internal)

// ---- foreign threads (core/thread/extram.cc) ----
M *needm();                                               // seed: needm (binds an extra M to this thread)
bool extram_detach();                                     // seed: dropm of the bound M; false if none
bool cgocall(void (*fn)(void *), void *arg);              // run fn as this thread's goroutine
void extram_shutdown();

// ---- fork (core/thread/fork.cc) ----
void install_atfork();

}  // namespace gort
