// core/diag/traceback.cc - see traceback.h.
#include "core/diag/traceback.h"

#include <cxxabi.h>
#include <ucontext.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "arch/context.h"
#include "core/sched/gstatus.h"
#include "core/base/lock_futex.h"
#include "core/base/racy.h"
#include "core/sched/runtime2.h"
#include "core/diag/symtab.h"
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
    unw_cursor_t cur;
    if (unw_init_local(&cur, &uc) != 0) {
        f->badsp = true;
        return;
    }
    unwind(&cur, f, gp->stack.lo, gp->stack.hi);
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
// byte back, inside its call. The name comes from libunwind, with a cursor
// made for the pc alone (the stack is not read again), and is demangled; in
// a signal handler both allocate, so there it comes from core/diag/symtab.h and
// stays mangled.
void printframe(FdWriter &w, uintptr_t ip, bool exact, DumpMode mode) {
    char name[256];
    const char *sym = nullptr;
    unw_word_t off = 0;
    if (mode == DumpMode::Signal) {
        uintptr_t o = 0;
        if (symtab_lookup(exact ? ip : ip - 1, &sym, &o)) off = exact ? o : o + 1;
    } else {
        unw_context_t uc;
        std::memset(&uc, 0, sizeof uc);
        uc.uc_mcontext.gregs[REG_RIP] = greg_t(ip);
        uc.uc_mcontext.gregs[REG_RSP] = greg_t(reinterpret_cast<uintptr_t>(&uc));  // any readable word
        unw_cursor_t cur;
        if (unw_init_local2(&cur, &uc, exact ? UNW_INIT_SIGNAL_FRAME : 0) == 0) {
            int rc = unw_get_proc_name(&cur, name, sizeof name, &off);
            name[sizeof name - 1] = '\0';
            if (rc == 0 || rc == -UNW_ENOMEM) sym = name;  // ENOMEM: truncated, still a name
        }
    }
    w.ch('\t');
    if (sym != nullptr) {
        char *dm = nullptr;
        if (mode != DumpMode::Signal) {
            int st = -1;
            dm = abi::__cxa_demangle(sym, nullptr, nullptr, &st);
            if (st != 0) {
                std::free(dm);
                dm = nullptr;
            }
        }
        w.str(dm != nullptr ? dm : sym).ch('+').hex(off);
        std::free(dm);
    } else {
        w.ch('?');
    }
    w.str(" pc=").hex(ip).ch('\n');
}

void printframes(FdWriter &w, const Frames &f, DumpMode mode) {
    if (f.badsp) {
        w.str("\tbad saved context sp=").hex(f.sp).str("; stack unavailable\n");
        return;
    }
    for (int i = 0; i < f.n; i++) printframe(w, f.ip[i], f.exact[i], mode);
    if (f.elided) w.str("\t...additional frames elided...\n");
    if (f.strayed) w.str("\t...unwinding left the goroutine's stack...\n");
}

// Header: what Go 1.4's goroutineheader prints, captured while the g is owned.
struct Header {
    int64_t goid = 0;
    uint32_t status = 0;
    const char *waitreason = nullptr;
    int64_t waitminutes = 0;
    bool locked = false;
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
    if ((status & ~uint32_t(Gscan)) == Gwaiting) h.waitreason = racy_read(gp->waitreason);
    return h;
}

// dumpg: one goroutine that the calling thread is not running (Go 1.4: the
// body of tracebackothers' loop). Claims it with the scan bit (see the file
// comment), retrying while another scanner holds the bit or its stack is
// being copied, and gives up after a bounded number of tries.
void dumpg(FdWriter &w, G *gp, DumpMode mode, bool *first) {
    const int limit = mode == DumpMode::Normal ? kClaimTriesNormal : kClaimTriesFatal;
    auto sep = [&] {
        if (!*first) w.ch('\n');
        *first = false;
    };
    for (int tries = 0;; tries++) {
        uint32_t s = readgstatus(gp);
        uint32_t base = s & ~uint32_t(Gscan);
        if (base == Gdead || base == Gidle) return;  // exited (or not yet born): not live
        if (base == Grunning || base == Gsyscall || s == Gscanenqueue) {
            sep();
            printheader(w, header_unowned(gp, s));
            w.str("\tgoroutine running on other thread; stack unavailable\n");
            return;
        }
        if ((s == Grunnable || s == Gwaiting) && castogscanstatus(gp, s, s | Gscan)) {
            // gp is ours until casfrom_Gscanstatus: record, release, print.
            Header h = header_owned(gp, s);
            Frames f;
            capture_suspended(gp, &f);
            casfrom_Gscanstatus(gp, s | Gscan, s);
            sep();
            printheader(w, h);
            printframes(w, f, mode);
            return;
        }
        if (tries >= limit) {
            sep();
            printheader(w, header_unowned(gp, s));
            w.str("\tgoroutine busy (scan or stack copy in progress); stack unavailable\n");
            return;
        }
        if (tries >= 64) osyield();
    }
}

}  // namespace

void tracebacksuspended(FdWriter &w, const G *gp, DumpMode mode) {
    Frames f;
    capture_suspended(gp, &f);
    printframes(w, f, mode);
}

[[gnu::noinline]] void tracebackhere(FdWriter &w, DumpMode mode) {
    Frames f;
    capture_here(&f, 1);  // from tracebackhere's caller
    printframes(w, f, mode);
}

// Go 1.4 traceback.go: tracebackothers, with the current goroutine first as
// in dopanic.
[[gnu::noinline]] void dumpgoroutines(int fd, DumpMode mode) {
    FdWriter w(fd);
    bool first = true;
    G *self = getg();
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
        first = false;
        printheader(w, h);
        tracebackhere(w, mode);
    } else {
        if (mode == DumpMode::Fatal) {
            // The throw site is on this thread's own stack: g0's, or a host
            // thread's (Go prints g0's as "runtime stack").
            first = false;
            w.str(self != nullptr ? "runtime stack:\n" : "host thread stack:\n");
            tracebackhere(w, mode);
        }
        // cur may be parked but still attached (a locked goroutine in
        // park_m's unlockf): it is dumped like any other, first.
        if (cur != nullptr) dumpg(w, cur, mode, &first);
    }
    std::size_t n = allglen();
    for (std::size_t i = 0; i < n; i++) {
        G *gp = allg_at(i);
        if (gp == nullptr || gp == cur || gp->issystem.load(std::memory_order_relaxed)) continue;
        dumpg(w, gp, mode, &first);
    }
}

}  // namespace gort
