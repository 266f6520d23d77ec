// core/diag/traceback.cc - see traceback.h.
#include "core/diag/traceback.h"

#include <ucontext.h>

#include <cstdint>
#include <cstring>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "arch/context.h"
#include "core/sched/gstatus.h"
#include "core/base/lock_futex.h"
#include "core/base/racy.h"
#include "core/sched/runtime2.h"
#include "core/diag/pcname.h"
#include "core/base/debugvars.h"
#include "core/base/throw.h"
#include "core/base/os.h"

namespace gort {

namespace {

// Native frames are larger than Go's; Go stops at 100.
constexpr int kMaxFrames = 64;
// How often dumpg retries a goroutine whose scan bit someone else holds (or
// whose stack is being copied) before printing it without a stack. Normal
// dumps wait up to about a second (osyield after the first 64 tries); a
// fatal or signal dump must not hang on a status that its own thread may be
// holding.
constexpr int kClaimTriesNormal = 100000;
constexpr int kClaimTriesFatal = 1000;
// Goroutines a fatal or signal dump prints in full, besides the current one.
constexpr std::size_t kMaxDumpGoroutines = 1000;

// Frames: the pcs of one stack, recorded while the stack is owned and
// symbolised after.
struct Frames {
    int n = 0;
    bool elided = false;   // more than kMaxFrames
    bool strayed = false;  // unwinding left the goroutine's stack: stopped there
    bool badsp = false;    // the saved sp is not a frame on the goroutine's stack
    uintptr_t sp = 0;      // the saved sp, for the badsp message
    uintptr_t ip[kMaxFrames];
    // exact: ip is the pc itself (a function entry, or the pc a signal
    // interrupted), not a return address, which lies one past its call.
    bool exact[kMaxFrames];
};

// unwind: steps cur to the end of the stack, recording each frame's pc. The
// end is the entry trampoline (gort_ctx_entry, or mcall's switch to g0, or a
// thread's first frame), whose CFI leaves rip undefined. [lo, hi]: the stack
// every frame must stay on (lo == 0: unchecked, for the current thread).
void unwind(unw_cursor_t *cur, Frames *f, uintptr_t lo, uintptr_t hi) {
    bool prev_signal = false;
    for (;;) {
        unw_word_t ip = 0, sp = 0;
        if (unw_get_reg(cur, UNW_REG_IP, &ip) < 0 || ip == 0) return;
        if (lo != 0 && (unw_get_reg(cur, UNW_REG_SP, &sp) < 0 || sp < lo || sp > hi)) {
            f->strayed = true;
            return;
        }
        if (f->n == kMaxFrames) {
            f->elided = true;
            return;
        }
        bool signal = unw_is_signal_frame(cur) > 0;
        f->ip[f->n] = ip;
        // A signal trampoline is "returned to" at its first instruction, and
        // the frame it interrupted is at the exact pc.
        f->exact[f->n] = signal || prev_signal;
        f->n++;
        prev_signal = signal;
        if (unw_step(cur) <= 0) return;
    }
}

// saved_context: gp's saved frame as the register state of an unwinder
// context: rip = the resume pc (a return address into the function that
// switched out), rsp = the sp after the frame pops, and the callee-saved
// registers. Caller-saved registers are dead at a call, so they stay 0.
//
// no_sanitize_address: the saved frame is not a C++ object but words that
// the switch's assembly pushed, uninstrumented, below the goroutine's last
// C++ frame. ASan's shadow for those bytes is whatever the last instrumented
// frame at that depth left there. Today every such frame either returned
// (unpoisoning its redzones) or was unpoisoned wholesale (goexit's frames in
// gtools_stack_reuse, g0's by __asan_handle_no_return), so the shadow is
// clean and the suite passes under ASan with or without this attribute; but
// a stale redzone (a host that abandons frames by switching stacks itself)
// would make an instrumented read here report an overflow on valid data. The
// reads are bounds-checked against gp's stack instead, which is the check
// that matters for this memory.
[[gnu::no_sanitize_address]] bool saved_context(const G *gp, unw_context_t *uc, uintptr_t *sp_out) {
    uintptr_t sp = reinterpret_cast<uintptr_t>(gp->sched_sp);
    *sp_out = sp;
    if (sp % arch::kStackAlign != 0 || sp < gp->stack.lo || gp->stack.hi < arch::kFrameSize ||
        sp > gp->stack.hi - arch::kFrameSize)
        return false;
    // Plain loads in this function (a helper lambda would be instrumented).
    const auto *f = reinterpret_cast<const uint64_t *>(sp);
    greg_t *r = uc->uc_mcontext.gregs;
    r[REG_RIP] = greg_t(f[arch::kFramePc / 8]);
    r[REG_RSP] = greg_t(sp + arch::kFrameSize);
    r[REG_RBX] = greg_t(f[arch::kFrameRbx / 8]);
    r[REG_RBP] = greg_t(f[arch::kFrameRbp / 8]);
    r[REG_R12] = greg_t(f[arch::kFrameR12 / 8]);
    r[REG_R13] = greg_t(f[arch::kFrameR13 / 8]);
    r[REG_R14] = greg_t(f[arch::kFrameR14 / 8]);
    r[REG_R15] = greg_t(f[arch::kFrameR15 / 8]);
    return true;
}

// capture_from: the frames of gp from a register state uc whose sp lies on
// gp's stack; the caller owns gp.
void capture_from(const G *gp, unw_context_t *uc, Frames *f) {
    unw_cursor_t cur;
    if (unw_init_local(&cur, uc) != 0) {
        f->badsp = true;
        return;
    }
    unwind(&cur, f, gp->stack.lo, gp->stack.hi);
}

// capture_suspended: the frames of gp, which the caller owns.
void capture_suspended(const G *gp, Frames *f) {
    unw_context_t uc;
    std::memset(&uc, 0, sizeof uc);
    if (!saved_context(gp, &uc, &f->sp)) {
        f->badsp = true;
        return;
    }
    if (uintptr_t(uc.uc_mcontext.gregs[REG_RIP]) == reinterpret_cast<uintptr_t>(&gort_ctx_entry)) {
        // Never ran (gostartcall's frame): its only frame is its function's
        // entry, as Go shows a goroutine that has not started.
        f->ip[0] = reinterpret_cast<uintptr_t>(gp->startfn);
        f->exact[0] = true;
        f->n = 1;
        return;
    }
    capture_from(gp, &uc, f);
}

// capture_syscall: the frames of gp in a system call (Gsyscall, claimed with
// the scan bit, so exitsyscall waits before it touches them) from what
// entersyscall recorded: the innermost live frame's pc, sp and rbp (G's
// syscallpc). Other callee-saved registers are unknown (0): the CFI of
// ordinary frames computes the CFA from rsp or rbp only. Seed: traceback of
// a g in _Gsyscall starts at g.syscallsp/syscallpc.
void capture_syscall(const G *gp, Frames *f) {
    uintptr_t sp = gp->syscallctxsp;
    f->sp = sp;
    if (sp < gp->stack.lo || sp >= gp->stack.hi) {
        f->badsp = true;
        return;
    }
    unw_context_t uc;
    std::memset(&uc, 0, sizeof uc);
    uc.uc_mcontext.gregs[REG_RIP] = greg_t(gp->syscallpc);
    uc.uc_mcontext.gregs[REG_RSP] = greg_t(sp);
    uc.uc_mcontext.gregs[REG_RBP] = greg_t(gp->syscallbp);
    capture_from(gp, &uc, f);
}

// capture_here: the calling thread's frames, from capture_here's caller on.
[[gnu::noinline]] void capture_here(Frames *f, int skip) {
    unw_context_t uc;
    unw_cursor_t cur;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0) return;
    for (int i = 0; i <= skip; i++)
        if (unw_step(&cur) <= 0) return;
    unwind(&cur, f, 0, 0);
}

// printframe: "\tname+0xoff pc=0x...\n". A return address is looked up one
// byte back, inside its call. all: also a runtime-internal frame (else it
// is skipped, see pcname.h's runtime_internal).
void printframe(FdWriter &w, PcNames &names, uintptr_t ip, bool exact, bool all) {
    const char *sym = nullptr;
    uintptr_t off = 0;
    uintptr_t at = exact ? ip : ip - 1;
    if (names.lookup(at, &sym, &off)) {
        if (!all && runtime_internal(sym)) return;
        off = exact ? off : off + 1;
    } else {
        sym = nullptr;
    }
    w.ch('\t');
    if (sym != nullptr)
        w.str(sym).ch('+').hex(off);
    else
        w.ch('?');
    w.str(" pc=").hex(ip).ch('\n');
}

void printframes(FdWriter &w, PcNames &names, const Frames &f, bool all) {
    if (f.badsp) {
        w.str("\tbad saved context sp=").hex(f.sp).str("; stack unavailable\n");
        return;
    }
    for (int i = 0; i < f.n; i++) printframe(w, names, f.ip[i], f.exact[i], all);
    if (f.elided) w.str("\t...additional frames elided...\n");
    if (f.strayed) w.str("\t...unwinding left the goroutine's stack...\n");
}

// printcreatedby: Go's "created by FUNC in goroutine N" and where, from the
// pc of the gort_go call (G::gopc; 0: the main goroutine, none shown).
void printcreatedby(FdWriter &w, PcNames &names, uintptr_t gopc, int64_t parent) {
    if (gopc == 0) return;
    const char *sym = nullptr;
    uintptr_t off = 0;
    bool named = names.lookup(gopc - 1, &sym, &off);
    w.str("created by ").str(named ? sym : "?");
    if (parent != 0) w.str(" in goroutine ").dec(parent);
    w.str("\n\t").str(named ? sym : "?");
    if (named) w.ch('+').hex(off + 1);
    w.str(" pc=").hex(gopc).ch('\n');
}

// Header: what Go 1.4's goroutineheader prints, captured while the g is owned.
struct Header {
    int64_t goid = 0;
    uint32_t status = 0;
    const char *waitreason = nullptr;
    int64_t waitminutes = 0;
    bool locked = false;
    uintptr_t gopc = 0;
    int64_t parentgoid = 0;
};

void printheader(FdWriter &w, const Header &h) {
    // As goroutineheader: the wait reason overrides the status name.
    const char *status = gstatusname(h.status);
    if ((h.status & ~uint32_t(Gscan)) == Gwaiting && h.waitreason != nullptr && h.waitreason[0] != '\0')
        status = h.waitreason;
    w.str("goroutine ").dec(h.goid).str(" [").str(status);
    if (h.waitminutes >= 1) w.str(", ").dec(h.waitminutes).str(" minutes");
    if (h.locked) w.str(", locked to thread");
    w.str("]:\n");
}

// header_owned: gp's header fields; the caller owns gp. Like Go's GC
// (markroot), the first scan that finds a goroutine waiting stamps
// waitsince, so "N minutes" counts from when a dump (or, later, a GC scan)
// first saw it blocked; execute clears it.
Header header_owned(G *gp, uint32_t status) {
    Header h;
    h.goid = gp->goid;
    h.status = status;
    h.locked = gp->lockedm != nullptr;
    h.gopc = gp->gopc;
    h.parentgoid = gp->parentgoid;
    if ((status & ~uint32_t(Gscan)) == Gwaiting) {
        h.waitreason = gp->waitreason;
        int64_t now = nanotime();
        if (gp->waitsince == 0) gp->waitsince = now;
        if (gp->waitsince != 0) h.waitminutes = (now - gp->waitsince) / 60000000000;
    }
    return h;
}

// header_unowned: for a goroutine another thread runs. Its fields may be
// changing under us (racy.h); goid and lockedm are read once each.
Header header_unowned(const G *gp, uint32_t status) {
    Header h;
    h.goid = racy_read(gp->goid);
    h.status = status;
    h.locked = racy_read(gp->lockedm) != nullptr;
    h.gopc = racy_read(gp->gopc);
    h.parentgoid = racy_read(gp->parentgoid);
    if ((status & ~uint32_t(Gscan)) == Gwaiting) h.waitreason = racy_read(gp->waitreason);
    return h;
}

// Dump: one dump's output, name cache and settings.
struct Dump {
    FdWriter &w;
    PcNames names;
    DumpMode mode;
    bool all;  // show runtime-internal frames (GORT_DEBUG=tracebackall=1)
    bool first = true;
    Dump(FdWriter &w, DumpMode mode)
        : w(w), names(mode != DumpMode::Signal), mode(mode), all(debug.tracebackall != 0) {}
    void sep() {
        if (!first) w.ch('\n');
        first = false;
    }
};

// dumpg: one goroutine that the calling thread is not running (Go 1.4: the
// body of tracebackothers' loop). Claims it with the scan bit (see the file
// comment), retrying while another scanner holds the bit or its stack is
// being copied, and gives up after a bounded number of tries. A goroutine
// in a system call is claimed too (Gscansyscall: exitsyscall waits for the
// bit) and unwound from what entersyscall recorded. Returns whether it
// printed gp (false: dead or not yet born).
bool dumpg(Dump &d, G *gp) {
    const int limit = d.mode == DumpMode::Normal ? kClaimTriesNormal : kClaimTriesFatal;
    for (int tries = 0;; tries++) {
        uint32_t s = readgstatus(gp);
        uint32_t base = s & ~uint32_t(Gscan);
        if (base == Gdead || base == Gidle) return false;  // exited (or not yet born): not live
        if (base == Grunning || s == Gscanenqueue) {
            d.sep();
            Header h = header_unowned(gp, s);
            printheader(d.w, h);
            d.w.str("\tgoroutine running on other thread; stack unavailable\n");
            printcreatedby(d.w, d.names, h.gopc, h.parentgoid);
            return true;
        }
        if ((s == Grunnable || s == Gwaiting || s == Gsyscall) && castogscanstatus(gp, s, s | Gscan)) {
            // gp is ours until casfrom_Gscanstatus: record, release, print.
            Header h = header_owned(gp, s);
            Frames f;
            bool nostack = false;
            if (s != Gsyscall)
                capture_suspended(gp, &f);
            else if (gp->syscallpc != 0)
                capture_syscall(gp, &f);
            else
                nostack = true;  // an extra M's goroutine between calls: no frames
            casfrom_Gscanstatus(gp, s | Gscan, s);
            d.sep();
            printheader(d.w, h);
            if (nostack)
                d.w.str("\tgoroutine running on other thread; stack unavailable\n");
            else
                printframes(d.w, d.names, f, d.all);
            printcreatedby(d.w, d.names, h.gopc, h.parentgoid);
            return true;
        }
        if (tries >= limit) {
            d.sep();
            Header h = header_unowned(gp, s);
            printheader(d.w, h);
            d.w.str("\tgoroutine busy (scan or stack copy in progress); stack unavailable\n");
            printcreatedby(d.w, d.names, h.gopc, h.parentgoid);
            return true;
        }
        if (tries >= 64) osyield();
    }
}

// Summary: the goroutines a fatal dump does not print, counted by what
// their header would say (the wait reason, else the status), as Go's
// tracebackothers does past its limit in later releases. Fixed size: a
// signal handler may not allocate; labels beyond it count as "other".
struct Summary {
    static constexpr int kLabels = 32;
    const char *label[kLabels];
    int64_t count[kLabels];
    int n = 0;
    int64_t total = 0, other = 0;

    void add(const char *l) {
        total++;
        for (int i = 0; i < n; i++) {
            if (label[i] == l || std::strcmp(label[i], l) == 0) {
                count[i]++;
                return;
            }
        }
        if (n == kLabels) {
            other++;
            return;
        }
        label[n] = l;
        count[n++] = 1;
    }
};

// summarise: gp's label, read without claiming it (racy.h); dead or
// unborn goroutines are not counted.
void summarise(Summary *sum, const G *gp) {
    uint32_t s = readgstatus(gp);
    uint32_t base = s & ~uint32_t(Gscan);
    if (base == Gdead || base == Gidle) return;
    const char *l = gstatusname(base);
    if (base == Gwaiting) {
        const char *r = racy_read(gp->waitreason);
        if (r != nullptr && r[0] != '\0') l = r;
    }
    sum->add(l);
}

void printsummary(FdWriter &w, const Summary &sum) {
    if (sum.total == 0) return;
    w.str("\n...").dec(sum.total).str(" additional goroutines not shown (gort_dump_goroutines prints them all):\n");
    for (int i = 0; i < sum.n; i++) w.ch('\t').dec(sum.count[i]).str(" [").str(sum.label[i]).str("]\n");
    if (sum.other != 0) w.ch('\t').dec(sum.other).str(" [other]\n");
}

[[gnu::noinline]] void capture_here_of(Frames *f) { capture_here(f, 1); }  // from our caller on

}  // namespace

void tracebacksuspended(FdWriter &w, const G *gp, DumpMode mode) {
    Frames f;
    capture_suspended(gp, &f);
    PcNames names(mode != DumpMode::Signal);
    printframes(w, names, f, debug.tracebackall != 0);
}

[[gnu::noinline]] void tracebackhere(FdWriter &w, DumpMode mode) {
    Frames f;
    capture_here(&f, 1);  // from tracebackhere's caller
    PcNames names(mode != DumpMode::Signal);
    printframes(w, names, f, debug.tracebackall != 0);
}

// Go 1.4 traceback.go: tracebackothers, with the current goroutine first as
// in dopanic. A fatal or signal dump prints at most kMaxDumpGoroutines other
// goroutines in full and summarises the rest (a dump of a million
// goroutines would otherwise take minutes between "fatal error" and the
// abort); gort_dump_goroutines prints them all.
[[gnu::noinline]] void dumpgoroutines(int fd, DumpMode mode) {
    FdWriter w(fd);
    Dump d(w, mode);
    G *self = getg();
    // The thread that threw shows every frame of its own stack: the frames
    // of the runtime are where the error is (Go's showframe does the same
    // for the throwing goroutine).
    const bool allhere = d.all || mode == DumpMode::Fatal;
    // m->curg is written only by this thread (this M), so reading it here is
    // not a race.
    G *cur = self != nullptr ? self->m->curg.load(std::memory_order_relaxed) : nullptr;
    uint32_t curstatus = cur != nullptr ? readgstatus(cur) & ~uint32_t(Gscan) : Gdead;
    if (cur != nullptr && (curstatus == Grunning || curstatus == Gsyscall)) {
        // This thread runs cur: on its stack, on g0 under systemstack (whose
        // CFI leads back into cur's frames), or in a signal handler that
        // interrupted it. Its fields are this thread's own. (On g0 in an
        // mcall continuation before cur's status changes, g0's frames end at
        // the switch and cur's saved frames are not shown.)
        Header h;
        h.goid = cur->goid;
        h.status = curstatus;
        h.locked = cur->lockedm != nullptr;
        d.first = false;
        printheader(w, h);
        Frames f;
        capture_here_of(&f);
        printframes(w, d.names, f, allhere);
        printcreatedby(w, d.names, cur->gopc, cur->parentgoid);
    } else {
        if (mode == DumpMode::Fatal) {
            // The throw site is on this thread's own stack: g0's, or a host
            // thread's (Go prints g0's as "runtime stack").
            d.first = false;
            w.str(self != nullptr ? "runtime stack:\n" : "host thread stack:\n");
            Frames f;
            capture_here_of(&f);
            printframes(w, d.names, f, allhere);
        }
        // cur may be parked but still attached (a locked goroutine in
        // park_m's unlockf): it is dumped like any other, first.
        if (cur != nullptr) dumpg(d, cur);
    }
    const std::size_t limit = mode == DumpMode::Normal ? ~std::size_t(0) : kMaxDumpGoroutines;
    std::size_t shown = 0;
    Summary sum;
    std::size_t n = allglen();
    for (std::size_t i = 0; i < n; i++) {
        G *gp = allg_at(i);
        if (gp == nullptr || gp == cur || gp->issystem.load(std::memory_order_relaxed)) continue;
        if (shown < limit) {
            if (dumpg(d, gp)) shown++;
        } else {
            summarise(&sum, gp);
        }
    }
    printsummary(w, sum);
}

}  // namespace gort
