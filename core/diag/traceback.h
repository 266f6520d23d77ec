// core/diag/traceback.h - goroutine dumps with native backtraces (Go 1.4's
// traceback.go: goroutineheader, tracebackothers, traceback of a g).
//
// A suspended goroutine's whole context is its saved frame at g->sched_sp
// (arch/x86_64_sysv_elf.S): the return address and the callee-saved
// registers. That is exactly the register state a DWARF unwinder needs at a
// call site, so libunwind can walk the goroutine's native frames from it as
// if it were the current thread, down to the entry trampoline, whose CFI
// marks rip undefined (the end of the stack).
//
// Ownership while reading another goroutine's stack: the dump claims it with
// the scan bit exactly as a GC scan would (castogscanstatus from Grunnable or
// Gwaiting; casfrom_Gscanstatus releases it). While the bit is held nobody
// can resume the goroutine (execute, ready and the stack copier all wait for
// the bit), so its saved frame and stack stay put. The dump holds the bit
// only while it walks the frames and records their pcs; symbolising and
// writing happen after the release, so a slow or blocked fd never keeps a
// goroutine (or a waker spinning on its status) waiting. A running
// goroutine, or one in a system call, cannot be claimed and prints
// "goroutine running on other thread; stack unavailable", except the
// caller's own, which is unwound from the current context.
//
// allgs is read without allglock (core/sched/allgs.cc publishes the array and its
// length with release stores and keeps retired arrays until shutdown), so a
// dump takes no runtime lock at all: it may run in a signal handler that
// interrupted a thread holding allglock or sched.lock, and in gothrow.
#pragma once

#include "core/base/fdwriter.h"

namespace gort {

struct G;

enum class DumpMode : int {
    // gort_dump_goroutines: waits (boundedly) for a scan bit another scanner
    // holds; demangles C++ names (which allocates).
    Normal,
    // gothrow: gives up quickly on a goroutine whose status keeps changing
    // (the thrower may be what holds it); also prints the current thread's
    // stack when it is not running a goroutine.
    Fatal,
    // The SIGQUIT handler: Fatal's short waits, and no allocation: names
    // come from core/diag/symtab.h (loaded when the handler was installed) and
    // stay mangled.
    Signal,
};

// dumpgoroutines writes every live goroutine to fd (Go 1.4: tracebackothers):
// the caller's own goroutine first, then every other one that is not dead
// and not a system goroutine, each as
//     goroutine N [waitreason or status(, M minutes)(, locked to thread)]:
//     <tab>function+0xoff pc=0x...     one line per native frame
// separated by blank lines. From any thread: a goroutine, g0 (inside an
// unlockf), a host thread, a signal handler. No runtime lock is taken.
void dumpgoroutines(int fd, DumpMode mode);

// tracebacksuspended: the native backtrace of gp from its saved context.
// The caller owns gp's stack (scan bit held, or gp cannot run: the world is
// stopped, or the runtime is). A saved sp that does not lie on gp's stack is
// reported, not followed.
void tracebacksuspended(FdWriter &w, const G *gp, DumpMode mode);

// tracebackhere: the native backtrace of the calling thread from its current
// context, starting at tracebackhere's caller.
void tracebackhere(FdWriter &w, DumpMode mode);

}  // namespace gort
