// core/lifecycle.h - the runtime's life cycle (init, gort_main, background
// start, shutdown) and configuration, for capi/.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gort {

// Life-cycle states. Transitions: Uninit -> Init (rt_init) -> Running
// (rt_main or rt_start) -> Stopped (gort_main returned) -> Uninit
// (rt_shutdown); Init or Running -> Uninit (rt_shutdown).
// RunningMain is Running under gort_main: shutdown must wait for it to return.
enum class RtState : int { Uninit = 0, Initializing, Init, Running, RunningMain, Stopped, ShuttingDown };

RtState rtstate();
int ncpu();  // CPUs this process may run on

// GORT_DEBUG keys (seed: GODEBUG's schedtrace/scheddetail, plus gort's).
struct DebugVars {
    int64_t schedtrace = 0;   // ms between SCHED lines from sysmon; 0: off
    int64_t scheddetail = 0;  // SCHED lines with P/M/G detail
    int64_t sigquit = 0;      // install a SIGQUIT handler that dumps goroutines
    int64_t deadlock = 1;     // checkdead: 0 turns it off
    // stacks (stack1.go; core/stack/stack_alloc.h, core/stack/mstack.h)
    int64_t efence = 0;           // a mapping per stack; freed stacks made inaccessible
    int64_t stackguard = 1;       // 0: no guard pages (canaries only); 2: mprotect guards
    int64_t stackpoisoncopy = 0;  // seed: stackPoisonCopy
    int64_t stackdebug = 0;       // seed: stackDebug, 1..4
    int64_t gcdead = 0;           // poison dead managed-stack slots when copying
    int64_t invalidptr = 1;       // fatal error on a small integer in a pointer slot
    int64_t gcshrinkstackoff = 0; // gort_quiesce does not shrink managed stacks (Go's GODEBUG key)
};
extern DebugVars debug;

struct RtConfig {
    int maxprocs;            // 0: default
    std::size_t stack_size;  // 0: default; else already validated and rounded
    int max_threads;         // 0: default
    const char *debug;       // nullptr: GORT_DEBUG
};

// Each returns a GORT_* code.
int rt_init(const RtConfig &cfg);
int rt_main(void (*fn)(void *), void *arg);
int rt_start();
// is_main_goroutine: gp is gort_main's main goroutine.
bool is_main_goroutine(const void *gp);
int rt_shutdown();
// parse_debug: validates a GORT_DEBUG string; fills dv if non-null.
bool parse_debug(const char *s, DebugVars *dv);

}  // namespace gort
