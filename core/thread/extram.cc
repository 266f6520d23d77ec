// core/thread/extram.cc - threads the runtime did not create (seed: needm,
// newextram, dropm, lockextra, unlockextra, and cgocallback's
// exitsyscall/entersyscall bracket).
//
// Any thread may call gort_go and gort_ready without an M (they use the
// global run queue). To run code *as a goroutine* - so that it may park,
// use channels, be scanned - a foreign thread borrows an "extra" M: an M with
// no thread of its own whose goroutine (curg) is locked to it and sits in
// Gsyscall between calls, exactly like the seed's newextram. A call
// (gort_call_as_goroutine) makes this thread the M: g0 runs on the thread's
// own stack below the caller's frame, the goroutine's stack is started
// afresh, exitsyscall takes a P, fn runs, entersyscall gives the P back
// (Psyscall: the next call re-takes it with one CAS, or sysmon retakes it),
// and the goroutine switches back to g0, which returns to the caller.
//
// Beyond the seed (as Go 1.21): the extra M stays bound to the thread after
// the call, in a pthread key whose destructor returns it to the extra list
// when the thread exits, so repeated calls pay no needm/dropm. A binding
// records the runtime's generation: after gort_shutdown (and a new
// gort_init) a stale binding is dropped without touching the freed M.
//
// Accounting (checkdead): extra Ms on the list count as idle (nmextraidle);
// a bound one does not, since its thread may wake goroutines at any time.
// gort_numgoroutine does not count an extra M's goroutine between calls.
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <cstring>

#include "arch/context.h"
#include "core/base/atomics.h"
#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/thread/thread.h"
#include "core/sched/runq.h"
#include "core/stack/stack_guard.h"
#include "core/sched/switch.h"
#include "core/base/throw.h"
#include "core/base/os.h"

namespace gort {

namespace {

constexpr uintptr_t kExtraLocked = 1;
// seed: extram. Head of the list of free extra Ms; kExtraLocked while a
// thread pops or pushes (a few instructions: waiters yield).
atomic<uintptr_t> extram{0};

// The thread's binding (pthread key value). Allocated with the host's
// malloc: it outlives the runtime (a thread may exit after gort_shutdown).
struct Binding {
    M *mp;
    uint64_t gen;
    // The alternate signal stack gort gave this thread (nullptr if it had
    // one): the stack-overflow handler runs on it (seed: minit's
    // signalstack on needm). Host memory, like the binding: it must outlive
    // the runtime, since the thread keeps it until it exits.
    void *sigstk;
};

// The thread's alternate signal stack for goroutine overflows, unless it
// already has one (the host's, a sanitizer's).
void bind_sigstack(Binding *b) {
    stack_t cur;
    if (sigaltstack(nullptr, &cur) == 0 && (cur.ss_flags & SS_DISABLE) == 0) return;
    void *stk = std::malloc(kSigStackSize);
    if (stk == nullptr) gothrow("needm: cannot allocate a signal stack");
    stack_t ss;
    ss.ss_sp = stk;
    ss.ss_size = kSigStackSize;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, nullptr) != 0) gothrow("needm: sigaltstack");
    b->sigstk = stk;
}
pthread_key_t binding_key;
pthread_once_t binding_once = PTHREAD_ONCE_INIT;
// Bumped by every shutdown: bindings from an earlier runtime are stale.
atomic<uint64_t> generation{1};
// Extra goroutines not inside a call (gcount leaves them out).
atomic<int32_t> idle_extra_gs{0};
// Calls in progress: shutdown waits for them to leave before it frees Ms.
// busy_waiter: shutdown sleeps on busy (seq_cst with the decrement: one of
// the two sides sees the other).
atomic<uint32_t> busy{0};
atomic<bool> busy_waiter{false};

// seed: lockextra(nilokay=true). gort never waits for a non-empty list: a
// thread that finds it empty allocates a new extra M (newextram) itself.
M *lockextra() {
    for (;;) {
        uintptr_t old = extram.load(std::memory_order_acquire);
        if (old == kExtraLocked) {
            osyield();
            continue;
        }
        if (extram.compare_exchange_weak(old, kExtraLocked, std::memory_order_acquire)) return reinterpret_cast<M *>(old);
    }
}

// seed: unlockextra
void unlockextra(M *mp) { extram.store(reinterpret_cast<uintptr_t>(mp), std::memory_order_release); }

void binding_destructor(void *arg);

void binding_key_init() {
    if (pthread_key_create(&binding_key, binding_destructor) != 0) gothrow("extram: pthread_key_create failed");
}

// seed: newextram. An M with no thread, and its goroutine locked to it in
// Gsyscall, the context of every call from the thread that borrows it.
M *newextram() {
    M *mp = allocm(nullptr);
    mp->is_extra = true;
    G *gp = malg(default_stack_size);
    gp->syscallsp = gp->stack.hi;
    // malg returns status as Gidle, change to Gsyscall before adding to
    // allg where the GC will see it.
    casgstatus(gp, Gidle, Gsyscall);
    gp->m = mp;
    gp->isextra = true;
    store_relaxed(mp->curg, gp);
    mp->locked = LockInternal;
    mp->lockedg = gp;
    gp->lockedm = mp;
    gp->goid = int64_t(xadd_full(sched.goidgen, uint64_t(1)));
    idle_extra_gs.fetch_add(1, std::memory_order_relaxed);
    allgadd(gp);
    return mp;
}

// g0's stack bounds: the borrowing thread's stack.
void set_g0_stack(M *mp) {
    pthread_attr_t attr;
    void *addr = nullptr;
    std::size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    if (addr == nullptr) gothrow("needm: cannot find the thread's stack");
    mp->g0->stack.lo = reinterpret_cast<uintptr_t>(addr);
    mp->g0->stack.hi = mp->g0->stack.lo + size;
    mp->g0->stackguard0.store(mp->g0->stack.lo + kStackGuard, std::memory_order_relaxed);
}

Binding *current_binding() {
    pthread_once(&binding_once, binding_key_init);
    return static_cast<Binding *>(pthread_getspecific(binding_key));
}

// The M bound to this thread, or nullptr (a stale binding is cleared).
M *bound_m() {
    Binding *b = current_binding();
    if (b == nullptr || b->mp == nullptr) return nullptr;
    if (b->gen != generation.load(std::memory_order_acquire)) {
        b->mp = nullptr;  // from a runtime that has shut down
        return nullptr;
    }
    return b->mp;
}

// seed: dropm. Return this thread's M to the extra list. Host thread, no g.
void dropm(M *mp) {
    // The last call left the P in Psyscall (or sysmon has taken it): give
    // it back like retake does.
    if (P *pp = mp->p) {
        mp->p = nullptr;
        uint32_t s = Psyscall;
        if (pp->status.compare_exchange_strong(s, Pidle, std::memory_order_seq_cst)) handoffp(pp);
    }
    M *mnext = lockextra();
    mp->schedlink = mnext;
    unlockextra(mp);
    // One fewer running M: this may be the last one (seed: checkdead runs
    // whenever an M goes idle).
    lock(&sched.lock);
    sched.nmextraidle++;
    checkdead();
    unlock(&sched.lock);
    run_deadlock_hook();
}

void binding_destructor(void *arg) {
    auto *b = static_cast<Binding *>(arg);
    // (Not in the child of a fork: its runtime has no threads to hand Ps to.)
    if (b->mp != nullptr && b->gen == generation.load(std::memory_order_acquire) && getg() == nullptr &&
        !sched.forked_child.load(std::memory_order_relaxed))
        dropm(b->mp);
    if (b->sigstk != nullptr) {
        stack_t ss;
        std::memset(&ss, 0, sizeof ss);
        ss.ss_flags = SS_DISABLE;
        sigaltstack(&ss, nullptr);
        std::free(b->sigstk);
    }
    std::free(b);
}

// On g0 at the end of a call: back to the caller of gort_call_as_goroutine.
[[noreturn]] void cgocall_return(G *gp) { gogo_exit(gp->m); }

// The goroutine's side of a call (seed: cgocallbackg), on its own stack.
void cgocallbackg(void *arg) {
    M *mp = static_cast<M *>(arg);
    G *gp = getg();
    exitsyscall();  // take a P; the goroutine is locked to mp
    mp->cgo_fn(mp->cgo_arg);
    // seed: entersyscall before returning to C. The P stays with mp in
    // Psyscall: the thread's next call re-takes it with one CAS.
    // No frames to show during the call: this goroutine's are abandoned.
    SyscallCtx none;
    reentersyscall(gp->stack.hi, &none);
    mp->cgo_done = true;
    mcall(cgocall_return, /*dying=*/true);  // its frames are abandoned
}

// First code on g0 (the thread's stack, below the caller's frame).
[[noreturn]] void cgocall_start(void *arg) {
    M *mp = static_cast<M *>(arg);
    G *gp = load_relaxed(mp->curg);
    gtools_stack_reuse(gp);  // the previous call's frames were abandoned
    gp->startfn = cgocallbackg;
    gp->startarg = mp;
    gostartcall(gp, gp->stack.hi);
    gogo(gp);
}

}  // namespace

// seed: needm. Bind an extra M to this thread (or return the one bound).
M *needm() {
    if (M *mp = bound_m()) return mp;
    M *mp = lockextra();
    if (mp != nullptr) {
        unlockextra(mp->schedlink);
        mp->schedlink = nullptr;
        lock(&sched.lock);
        sched.nmextraidle--;
        unlock(&sched.lock);
    } else {
        unlockextra(nullptr);
        mp = newextram();
    }
    set_g0_stack(mp);
    Binding *b = current_binding();
    if (b == nullptr) {
        b = static_cast<Binding *>(std::malloc(sizeof(Binding)));
        if (b == nullptr) gothrow("needm: out of memory");
        if (pthread_setspecific(binding_key, b) != 0) gothrow("needm: pthread_setspecific failed");
        b->sigstk = nullptr;
        bind_sigstack(b);
    }
    b->mp = mp;
    b->gen = generation.load(std::memory_order_relaxed);
    return mp;
}

// gort_thread_detach: false if no M is bound.
bool extram_detach() {
    M *mp = bound_m();
    if (mp == nullptr) return false;
    current_binding()->mp = nullptr;
    dropm(mp);
    return true;
}

// gort_call_as_goroutine: run fn(arg) on this thread's extra M's goroutine.
// Returns whether fn returned (false: gort_shutdown abandoned it).
bool cgocall(void (*fn)(void *), void *arg) {
    busy.fetch_add(1, std::memory_order_acquire);
    M *mp = needm();
    mp->cgo_fn = fn;
    mp->cgo_arg = arg;
    mp->cgo_done = false;
    idle_extra_gs.fetch_sub(1, std::memory_order_relaxed);
    G *g0 = mp->g0;
    gtools_g0(g0);
    setg(g0);
    uintptr_t sp = reinterpret_cast<uintptr_t>(gort_ctx_current_sp());
    // g0's frames start here on every mcall, below this frame (seed: the
    // stack bounds needm sets around its own frame).
    mp->g0_top = (sp - 256) & ~uintptr_t(arch::kStackAlign - 1);
    gort_ctx_mcall(&mp->exit_sp, reinterpret_cast<void *>(mp->g0_top), cgocall_start, mp);
    // Back from cgocall_return, or from mexit at shutdown.
    gtools_g0_exit(g0);
    setg(nullptr);
    bool done = mp->cgo_done;
    mp->cgo_fn = nullptr;
    mp->cgo_arg = nullptr;
    idle_extra_gs.fetch_add(1, std::memory_order_relaxed);
    if (busy.fetch_sub(1, std::memory_order_seq_cst) == 1 && busy_waiter.load(std::memory_order_seq_cst)) futexwakeup(&busy, 1);
    return done;
}

// Extra goroutines not inside a call (for gcount).
int32_t extram_idle_gs() { return idle_extra_gs.load(std::memory_order_relaxed); }

// Shutdown: wait for calls abandoned by exit_all_ms to leave their Ms, then
// forget every extra M (release_all frees them with allm) and make every
// thread's binding stale.
void extram_shutdown() {
    // seq_cst: with cgocall's decrement-then-load this is a Dekker pair
    // (each side stores, then loads the other's word): at least one side
    // sees the other, so the last call to leave always wakes the waiter.
    busy_waiter.store(true, std::memory_order_seq_cst);
    for (uint32_t n; (n = busy.load(std::memory_order_seq_cst)) != 0;) futexsleep(&busy, n, -1);
    busy_waiter.store(false, std::memory_order_seq_cst);
    extram.store(0, std::memory_order_relaxed);
    idle_extra_gs.store(0, std::memory_order_relaxed);
    generation.fetch_add(1, std::memory_order_release);
}

}  // namespace gort
