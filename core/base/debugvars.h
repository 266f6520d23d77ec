// core/base/debugvars.h - the GORT_DEBUG variables (seed: GODEBUG and
// runtime.debug), read by every layer. Set once by gort_init before any
// thread of the runtime runs; read-only afterwards.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gort {

// GORT_DEBUG keys (seed: GODEBUG's schedtrace/scheddetail, plus gort's).
struct DebugVars {
    int64_t schedtrace = 0;   // ms between SCHED lines from sysmon; 0: off
    int64_t scheddetail = 0;  // SCHED lines with P/M/G detail
    int64_t sigquit = 0;      // install a SIGQUIT handler that dumps goroutines
    int64_t tracebackall = 0; // dumps show the runtime's own frames too (GOTRACEBACK=system)
    int64_t deadlock = 1;     // checkdead: 0 turns it off
    // stacks (stack1.go; core/stack/)
    int64_t efence = 0;           // a mapping per stack; freed stacks made inaccessible
    int64_t stackguard = 1;       // 0: no guard pages (canaries only); 2: mprotect guards
    int64_t stackpoisoncopy = 0;  // seed: stackPoisonCopy
    int64_t stackdebug = 0;       // seed: stackDebug, 1..4
    int64_t gcdead = 0;           // poison dead managed-stack slots when copying
    int64_t invalidptr = 1;       // fatal error on a small integer in a pointer slot
    int64_t gcshrinkstackoff = 0; // gort_quiesce does not shrink managed stacks (Go's GODEBUG key)
};
extern DebugVars debug;

// parse_int: n decimal digits (1..18) at s, nothing else; false otherwise.
bool parse_int(const char *s, std::size_t n, int64_t *out);
// parse_debug: validates a GORT_DEBUG string ("key=int,key=int"; unknown
// keys are ignored, as GODEBUG does); fills dv if non-null.
bool parse_debug(const char *s, DebugVars *dv);

}  // namespace gort
