// core/stack/mstack.cc - see mstack.h.
#include "core/stack/mstack.h"

#include <cstring>

#include "core/base/atomics.h"
#include "core/stack/funcinfo.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/stack/stack_alloc.h"
#include "core/base/throw.h"
#include "core/base/debugvars.h"
#include "core/base/rtalloc.h"

namespace gort {

atomic<std::size_t> maxstacksize{kDefaultMaxStack};

namespace {

constexpr uintptr_t kPtrSize = sizeof(void *);
constexpr uintptr_t kPageSize = 4096;                      // seed: _PageSize (invalid pointer bound)
constexpr uintptr_t poisonGC = 0xf969696969696969ull;      // seed: poisonGC
constexpr uintptr_t poisonStack = 0x6868686868686868ull;   // seed: poisonStack
const char *const mapnames[] = {"---", "scalar", "ptr", "???"};  // seed: mapnames

struct AdjustInfo {  // seed: adjustinfo
    Stack old;
    uintptr_t delta;  // ptr distance from old to new stack (newbase - oldbase)
};

const char *funcname(const gort_funcinfo *f) { return f != nullptr && f->name != nullptr ? f->name : "?"; }

// Frame bytes above msp that a push of fi may need (alignment included).
std::size_t frame_need(const gort_funcinfo *fi) {
    return std::size_t(fi->arg_words) * kPtrSize + sizeof(MFrame) + std::size_t(fi->frame_words) * kPtrSize + 32;
}

// Stores v in stackguard0 unless a preemption request is pending there: the
// seed's copystack notes that its store "might clobber a preempt request";
// gort keeps it (preemptone may run on another thread at any time).
void set_stackguard(G *gp, uintptr_t v) {
    uintptr_t cur = gp->stackguard0.load(std::memory_order_relaxed);
    while (cur != kStackPreempt &&
           !gp->stackguard0.compare_exchange_weak(cur, v, std::memory_order_relaxed, std::memory_order_relaxed)) {
    }
}

// seed: adjustpointer. Checks whether *vpp is in the old stack described
// by adjinfo. If so, rewrites *vpp to point into the new stack.
void adjustpointer(AdjustInfo *adjinfo, void *vpp) {
    auto *pp = static_cast<uintptr_t *>(vpp);
    uintptr_t p = *pp;
    if (debug.stackdebug >= 4) {
        printstr("        ");
        printptr(pp);
        printstr(":");
        printhex(p);
        printstr("\n");
    }
    if (adjinfo->old.lo <= p && p < adjinfo->old.hi) {
        *pp = p + adjinfo->delta;
        if (debug.stackdebug >= 3) {
            printstr("        adjust ptr ");
            printptr(pp);
            printstr(":");
            printhex(p);
            printstr(" -> ");
            printhex(*pp);
            printstr("\n");
        }
    }
}

// seed: adjustpointers. bv describes the memory starting at address scanp.
// Adjust any pointers contained therein.
void adjustpointers(uintptr_t scanp, const gort_stackmap &bv, AdjustInfo *adjinfo, const gort_funcinfo *f) {
    uintptr_t minp = adjinfo->old.lo;
    uintptr_t maxp = adjinfo->old.hi;
    uintptr_t delta = adjinfo->delta;
    uint32_t num = bv.nbit / 2;  // seed: bv.n / _BitsPerPointer
    for (uint32_t i = 0; i < num; i++) {
        auto *slot = reinterpret_cast<uintptr_t *>(scanp + i * kPtrSize);
        unsigned bits = stackmap_bits(bv, i);
        if (debug.stackdebug >= 4) {
            printstr("        ");
            printptr(slot);
            printstr(":");
            printstr(mapnames[bits]);
            printstr(":");
            printhex(*slot);
            printstr(" # ");
            printuint(i);
            printstr(" ");
            printuint(bv.bytedata[i / 4]);
            printstr("\n");
        }
        switch (bits) {
            default:
                gothrow("unexpected pointer bits");
            case GORT_BITS_DEAD:
                if (debug.gcdead != 0) *slot = poisonStack;
                break;
            case GORT_BITS_SCALAR:
                break;  // ok
            case GORT_BITS_POINTER: {
                uintptr_t up = *slot;
                if ((f != nullptr && 0 < up && up < kPageSize && debug.invalidptr != 0) || up == poisonGC ||
                    up == poisonStack) {
                    // Looks like a junk value in a pointer slot.
                    // Live analysis wrong?
                    printstr("runtime: bad pointer in frame ");
                    printstr(funcname(f));
                    printstr(" at ");
                    printptr(slot);
                    printstr(": ");
                    printhex(up);
                    printstr("\n");
                    gothrow("invalid stack pointer");
                }
                if (minp <= up && up < maxp) {
                    if (debug.stackdebug >= 3) {
                        printstr("adjust ptr ");
                        printhex(up);
                        printstr(" ");
                        printstr(funcname(f));
                        printstr("\n");
                    }
                    *slot = up + delta;
                }
                break;
            }
        }
    }
}

[[noreturn]] void badpcdata(const gort_funcinfo *f, uint32_t pc, const char *what) {
    printstr("runtime: pcdata is ");
    printuint(pc);
    printstr(" and ");
    printuint(f->nmaps);
    printstr(what);
    printstr(" stack map entries for ");
    printstr(funcname(f));
    printstr("\n");
    gothrow("bad symbol table");
}

// seed: adjustframe. Note: the argument area is adjusted by the callee (it
// is described by the callee's args map).
void adjustframe(MFrame *frame, AdjustInfo *adjinfo) {
    const gort_funcinfo *f = frame->fn;
    uint32_t pcdata = frame->pcindex;
    uintptr_t varp = reinterpret_cast<uintptr_t>(frame);
    if (debug.stackdebug >= 2) {
        printstr("    adjusting ");
        printstr(funcname(f));
        printstr(" frame=[");
        printhex(varp - uintptr_t(f->frame_words) * kPtrSize);
        printstr(",");
        printhex(varp + sizeof(MFrame) + uintptr_t(f->arg_words) * kPtrSize);
        printstr("] pc=");
        printuint(pcdata);
        printstr("\n");
    }
    // Adjust local variables if stack frame has been allocated.
    if (f->frame_words > 0) {
        if (f->locals == nullptr || f->nmaps == 0) {
            printstr("runtime: frame ");
            printstr(funcname(f));
            printstr(" untyped locals\n");
            gothrow("missing stackmap");
        }
        // Locals bitmap information, scan just the pointers in locals.
        if (pcdata >= f->nmaps) badpcdata(f, pcdata, " locals");  // don't know where we are
        const gort_stackmap &bv = f->locals[pcdata];
        uintptr_t size = uintptr_t(bv.nbit / 2) * kPtrSize;
        if (debug.stackdebug >= 3) {
            printstr("      locals ");
            printuint(pcdata);
            printstr("/");
            printuint(f->nmaps);
            printstr(" ");
            printuint(size / kPtrSize);
            printstr(" words\n");
        }
        adjustpointers(varp - size, bv, adjinfo, f);
    }
    // Adjust arguments.
    if (f->arg_words > 0) {
        if (f->args == nullptr || f->nmaps == 0) {
            printstr("runtime: frame ");
            printstr(funcname(f));
            printstr(" untyped args\n");
            gothrow("missing stackmap");
        }
        if (pcdata >= f->nmaps) badpcdata(f, pcdata, " args");
        if (debug.stackdebug >= 3) printstr("      args\n");
        adjustpointers(varp + sizeof(MFrame), f->args[pcdata], adjinfo, nullptr);
    }
}

// seed: adjustctxt, adjustdefers, adjustpanics, adjustsudogs. gort has no
// closure context, defer, panic or sudog records of its own: what points
// into a managed stack from outside it is what the host registered
// (gort_mstack_root_add), channel wait nodes included.
void adjustroots(G *gp, AdjustInfo *adjinfo) {
    for (uint32_t i = 0; i < gp->nmroots; i++) adjustpointer(adjinfo, gp->mroots[i]);
}

void fillstack(Stack stk, uint8_t b) {  // seed: fillstack
    std::memset(reinterpret_cast<void *>(stk.lo), b, stk.hi - stk.lo);
}

// copystack under casgstatus(gp, from, Gcopystack) on gp's own M, with its
// P pinned (stackalloc's per-P cache; the seed runs newstack on g0).
bool copystack_self(G *gp, std::size_t newsize) {
    M *mp = gp->m;
    mp->locks++;
    casgstatus(gp, Grunning, Gcopystack);
    bool ok = copystack(gp, newsize);
    casgstatus(gp, Gcopystack, Grunning);
    mp->locks--;
    if (mp->locks == 0 && gp->preempt.load(std::memory_order_relaxed))
        gp->stackguard0.store(kStackPreempt, std::memory_order_relaxed);  // restore the preemption request
    return ok;
}

// seed: newstack. Called by mframe_push when the frame does not fit below
// the guard: a preemption request, the first frame, or growth. Returns a
// GORT_* code; the caller retries the check.
//
// Departures: the seed's newstack runs on g0 after morestack with the g
// Gwaiting ("stack growth"); a gort goroutine pushes from native code on
// its execution stack, which never moves, so growth runs right there, with
// the g in Gcopystack (gort_ready refuses a Gwaiting g only because it is
// not parked: a host bug must not resume a g that is growing). A frame too
// large for one doubling doubles again before the one copy (the seed
// retries morestack). Growth past maxstacksize is an error the host turns
// into its own stack overflow, not the seed's fatal "stack overflow".
int newstack(G *gp, std::size_t need) {
    M *mp = gp->m;
    if (gp == mp->g0) gothrow("runtime: preempt g0");
    if (gp->stackguard0.load(std::memory_order_relaxed) == kStackPreempt) {
        if (mp->p == nullptr && mp->locks == 0) gothrow("runtime: g is running but p is not");
        // seed: if gp.preemptscan { gcphasework(gp); ... }: the goroutine
        // scans itself, preempt and the request are cleared, and the push
        // goes on.
        if (gcscan_safepoint(gp)) return GORT_OK;
        // Be conservative about where we preempt: not while the host holds
        // runtime locks (m->locks) or the P is being stopped.
        if (mp->locks != 0 || mp->p->status.load(std::memory_order_relaxed) != Prunning) {
            // Let the goroutine keep running for now. gp->preempt is set,
            // so it will be preempted next time.
            uintptr_t cur = kStackPreempt;
            gp->stackguard0.compare_exchange_strong(cur, stackguard_reset(gp), std::memory_order_relaxed);
            return GORT_OK;
        }
        // Act like goroutine called gort_gosched. execute() resets
        // stackguard0 and clears gp->preempt when gp runs again.
        gosched();
        return GORT_OK;
    }

    if (gp->mstack.lo == 0) {
        // The first frame: a stack of the seed's minimum size.
        std::size_t size = kFixedStack;
        while (size < need) size *= 2;
        if (size > maxstacksize.load(std::memory_order_relaxed)) return GORT_ESTACKOVERFLOW;
        mp->locks++;
        Stack s = stackalloc(size, kStackManaged);
        mp->locks--;
        if (s.lo == 0) return GORT_ENOMEM;  // no address space left
        gp->mstack = s;
        gp->msp = s.hi;
        gp->mframe = nullptr;
        set_stackguard(gp, stackguard_reset(gp));
        return GORT_OK;
    }

    // Allocate a bigger segment and move the stack.
    std::size_t oldsize = gp->mstack.hi - gp->mstack.lo;
    std::size_t used = gp->mstack.hi - gp->msp;
    if (gp->msp < gp->mstack.lo) {
        printstr("runtime: split stack overflow: ");
        printhex(gp->msp);
        printstr(" < ");
        printhex(gp->mstack.lo);
        printstr("\n");
        gothrow("runtime: split stack overflow");
    }
    std::size_t newsize = oldsize * 2;
    while (newsize - used < need + kMStackGuard) newsize *= 2;
    std::size_t max = maxstacksize.load(std::memory_order_relaxed);
    if (newsize > max) {
        if (debug.stackdebug >= 1) {
            printstr("runtime: goroutine stack exceeds ");
            printuint(max);
            printstr("-byte limit\n");
        }
        return GORT_ESTACKOVERFLOW;
    }
    // Departure: the seed throws when the heap cannot give the new stack;
    // the host gets GORT_ENOMEM with the stack as it was.
    if (!copystack_self(gp, newsize)) return GORT_ENOMEM;
    if (debug.stackdebug >= 1) printstr("stack grow done\n");
    return GORT_OK;
}

uint32_t roots_find(const G *gp, void **slot) {
    for (uint32_t i = 0; i < gp->nmroots; i++)
        if (gp->mroots[i] == slot) return i;
    return UINT32_MAX;
}

}  // namespace

// seed: copystack. Copies gp's stack to a new stack of a different size.
// Departure: the seed switches gp to Gcopystack (casgcopystack) between the
// memmove and the swap; gort's callers hold gp in Gcopystack for the whole
// copy (as Go 1.5 moved it), because gort shrinks without stopping the
// world and gp must not run while its frames are rewritten.
bool copystack(G *gp, std::size_t newsize) {
    if (gp->syscallsp != 0) gothrow("stack growth not allowed in system call");
    Stack old = gp->mstack;
    if (old.lo == 0) gothrow("nil stackbase");
    uintptr_t used = old.hi - gp->msp;

    // allocate new stack
    Stack nw = stackalloc(newsize, kStackManaged);
    if (nw.lo == 0) return false;  // no address space: gp keeps its stack
    if (debug.stackpoisoncopy != 0) fillstack(nw, 0xfd);
    if (debug.stackdebug >= 1) {
        printstr("copystack gp=");
        printptr(gp);
        printstr(" [");
        printhex(old.lo);
        printstr(" ");
        printhex(old.hi - used);
        printstr(" ");
        printhex(old.hi);
        printstr("]/");
        printuint(old.hi - old.lo);
        printstr(" -> [");
        printhex(nw.lo);
        printstr(" ");
        printhex(nw.hi - used);
        printstr(" ");
        printhex(nw.hi);
        printstr("]/");
        printuint(newsize);
        printstr("\n");
    }

    // adjust pointers in the to-be-copied frames (seed: gentraceback with
    // adjustframe; gort walks its frame headers, adjusting their links as
    // the seed's later versions adjust frame pointers).
    AdjustInfo adjinfo{old, nw.hi - old.hi};
    for (auto *f = static_cast<MFrame *>(gp->mframe); f != nullptr;) {
        uintptr_t fa = reinterpret_cast<uintptr_t>(f);
        if (fa < gp->msp || fa + sizeof(MFrame) > old.hi) gothrow("copystack: frame outside the managed stack");
        MFrame *next = f->link;
        adjustframe(f, &adjinfo);
        adjustpointer(&adjinfo, &f->link);
        f = next;
    }
    adjustpointer(&adjinfo, &gp->mframe);

    // adjust other miscellaneous things that have pointers into stacks.
    adjustroots(gp, &adjinfo);

    // copy the stack to the new location
    if (debug.stackpoisoncopy != 0) fillstack(nw, 0xfb);
    std::memmove(reinterpret_cast<void *>(nw.hi - used), reinterpret_cast<void *>(old.hi - used), used);

    // Swap out old stack for new one
    gp->mstack = nw;
    set_stackguard(gp, nw.lo + kMStackGuard);
    gp->msp = nw.hi - used;

    // free old stack
    if (debug.stackpoisoncopy != 0) fillstack(old, 0xfc);
    if (newsize > old.hi - old.lo) {
        // growing, free stack immediately
        stackfree(old, kStackManaged);
    } else {
        // shrinking, queue up free operation (seed: a scanner may still
        // hold a pointer into the old stack until its cycle ends).
        stackfreequeue_put(old);
    }
    return true;
}

// seed: shrinkstack. Departure: the seed is called with the world stopped,
// where an async wakeup can make gp runnable but nothing can run it; gort
// shrinks beside the scheduler, so it claims gp with casgcopystack for the
// whole copy (try_casgcopystack: a g that an M has meanwhile started is
// skipped instead of being a fatal error). While gp is Gcopystack, execute()
// and gort_ready wait for it; a gort_ready that wins the race just before
// the claim leaves gp Grunnable, and it is restored Grunnable (the merge's
// casgcopystack race).
bool shrinkstack(G *gp) {
    uint32_t oldstatus;
    if (!try_casgcopystack(gp, &oldstatus)) return false;
    bool shrunk = shrinkstack_held(gp);
    casgstatus(gp, Gcopystack, oldstatus);  // oldstatus is Gwaiting or Grunnable
    return shrunk;
}

bool shrinkstack_held(G *gp) {
    bool shrunk = false;
    if (gp->mstack.lo != 0) {
        std::size_t oldsize = gp->mstack.hi - gp->mstack.lo;
        std::size_t newsize = oldsize / 2;
        std::size_t used = gp->mstack.hi - gp->msp;
        // Not below the minimum-sized stack; not while still using at least
        // 1/4 of the segment. We can't copy the stack if we're in a syscall:
        // the syscall might have pointers into the stack (a Gsyscall g is not
        // claimed above; syscallsp is the seed's own check).
        // Nor while a channel operation's element lives on it (sudog.h).
        if (newsize >= kFixedStack && used < oldsize / 4 && gp->syscallsp == 0 &&
            gp->mstack_chan_elems.load(std::memory_order_relaxed) == 0) {
            if (debug.stackdebug > 0) {
                printstr("shrinking stack ");
                printuint(oldsize);
                printstr("->");
                printuint(newsize);
                printstr("\n");
            }
            shrunk = copystack(gp, newsize);  // false: no room for even the smaller stack
        }
    }
    return shrunk;
}

int shrink_stacks() {
    G *self = getg();
    if (self != nullptr && self == self->m->g0) self = nullptr;
    M *mp = self != nullptr ? self->m : nullptr;
    int n = 0;
    // The caller's own managed stack (it is running: no claim needed).
    if (self != nullptr && self->mstack.lo != 0) {
        std::size_t oldsize = self->mstack.hi - self->mstack.lo;
        if (oldsize / 2 >= kFixedStack && self->mstack.hi - self->msp < oldsize / 4) {
            copystack_self(self, oldsize / 2);
            n++;
        }
    }
    if (mp != nullptr) mp->locks++;  // pins the P whose stack cache we use
    std::size_t len = allglen();
    for (std::size_t i = 0; i < len; i++) {
        G *gp = allg_at(i);
        if (gp == nullptr || gp == self) continue;
        if (shrinkstack(gp)) n++;
        // Execution stack: claimed with the scan bit, which keeps gp off
        // every M (and gort_ready waits) while its pages go.
        for (uint32_t s : {uint32_t(Gwaiting), uint32_t(Grunnable)}) {
            if (castogscanstatus(gp, s, s | Gscan)) {
                if (stack_trim(gp) != 0) n++;
                casfrom_Gscanstatus(gp, s | Gscan, s);
                break;
            }
        }
    }
    shrinkfinish();
    if (mp != nullptr) mp->locks--;
    return n;
}

void *mframe_locals(const MFrame *f) {
    return reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(f) - uintptr_t(f->fn->frame_words) * kPtrSize);
}

void *mframe_push(G *gp, const gort_funcinfo *fi, int *err) {
    std::size_t need = frame_need(fi);
    for (;;) {
        uintptr_t sp = gp->msp;
        uintptr_t guard = gp->stackguard0.load(std::memory_order_relaxed);
        // One compare in the common case, like the seed's prologue: a
        // preemption request is above every sp.
        if (sp > need && sp - need >= guard) break;
        int rc = newstack(gp, need);
        if (rc != GORT_OK) {
            *err = rc;
            return nullptr;
        }
    }
    uintptr_t top = gp->msp;
    uintptr_t aw = uintptr_t(fi->arg_words) * kPtrSize;
    uintptr_t fw = uintptr_t(fi->frame_words) * kPtrSize;
    uintptr_t h = (top - aw - sizeof(MFrame)) & ~uintptr_t(15);
    uintptr_t locals = h - fw;
    uintptr_t sp = locals & ~uintptr_t(15);
    std::memset(reinterpret_cast<void *>(sp), 0, top - sp);
    auto *f = reinterpret_cast<MFrame *>(h);
    f->link = static_cast<MFrame *>(gp->mframe);
    f->fn = fi;
    f->pcindex = 0;
    f->size = uint32_t(top - sp);
    gp->msp = sp;
    gp->mframe = f;
    return reinterpret_cast<void *>(locals);
}

int mframe_pop(G *gp) {
    auto *f = static_cast<MFrame *>(gp->mframe);
    if (f == nullptr) return GORT_ESTATE;
    gp->msp += f->size;
    gp->mframe = f->link;
    return GORT_OK;
}

void *mframe_args(G *gp, void *locals) {
    for (auto *f = static_cast<MFrame *>(gp->mframe); f != nullptr; f = f->link)
        if (mframe_locals(f) == locals) return reinterpret_cast<char *>(f) + sizeof(MFrame);
    return nullptr;
}

int mframe_setpc(G *gp, uint32_t pcindex) {
    auto *f = static_cast<MFrame *>(gp->mframe);
    if (f == nullptr) return GORT_ESTATE;
    if (pcindex >= f->fn->nmaps) return GORT_EINVAL;
    f->pcindex = pcindex;
    return GORT_OK;
}

int mstack_root_add(G *gp, void **slot) {
    if (roots_find(gp, slot) != UINT32_MAX) return GORT_EBUSY;
    if (gp->nmroots == gp->capmroots) {
        uint32_t cap = gp->capmroots ? gp->capmroots * 2 : 8;
        auto *nr = static_cast<void ***>(rtalloc(cap * sizeof(void **)));
        if (gp->nmroots) std::memcpy(nr, gp->mroots, gp->nmroots * sizeof(void **));
        if (gp->mroots) rtfree(gp->mroots);
        gp->mroots = nr;
        gp->capmroots = cap;
    }
    gp->mroots[gp->nmroots++] = slot;
    return GORT_OK;
}

int mstack_root_remove(G *gp, void **slot) {
    uint32_t i = roots_find(gp, slot);
    if (i == UINT32_MAX) return GORT_ESTATE;
    gp->mroots[i] = gp->mroots[--gp->nmroots];
    return GORT_OK;
}

void mstack_free(G *gp) {
    if (gp->mstack.lo != 0) stackfree(gp->mstack, kStackManaged);
    gp->mstack = Stack{};
    gp->msp = 0;
    gp->mframe = nullptr;
    mstack_release(gp);
    gp->last_error = 0;
}

void mstack_release(G *gp) {
    if (gp->mroots != nullptr) rtfree(gp->mroots);
    gp->mroots = nullptr;
    gp->nmroots = gp->capmroots = 0;
}

void mstack_release_all() {
    funcinfo_release_all();
    maxstacksize.store(kDefaultMaxStack, std::memory_order_relaxed);
}

}  // namespace gort
