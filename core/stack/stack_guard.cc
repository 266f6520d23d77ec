// core/stack/stack_guard.cc - see stack_guard.h.
#include "core/stack/stack_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "core/base/throw.h"

namespace gort {

namespace {

struct sigaction old_segv;  // the handler before ours (the host's, or SIG_DFL)
bool installed = false;

// Formats the fatal message without allocating: a signal handler, or the
// canary check, may run on a stack that has just overflowed.
char overflow_msg[128];

void append(char *&p, const char *end, const char *s) {
    while (*s != '\0' && p < end) *p++ = *s++;
}

void append_uint(char *&p, const char *end, uint64_t v) {
    char buf[24];
    int i = sizeof buf;
    do {
        buf[--i] = char('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (i < int(sizeof buf) && p < end) *p++ = buf[i++];
}

// The handler for faults that are not ours: as if ours were not there.
void chain(int sig, siginfo_t *info, void *ctx) {
    if (old_segv.sa_flags & SA_SIGINFO) {
        if (old_segv.sa_sigaction != nullptr) {
            old_segv.sa_sigaction(sig, info, ctx);
            return;
        }
    } else if (old_segv.sa_handler != SIG_DFL && old_segv.sa_handler != SIG_IGN) {
        old_segv.sa_handler(sig);
        return;
    }
    // SIG_DFL (or SIG_IGN, which cannot ignore a fault): restore the
    // default action and return; the faulting instruction faults again and
    // the kernel applies it (a core dump with the right address).
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, nullptr);
}

void sigsegv_handler(int sig, siginfo_t *info, void *ctx) {
    uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
    G *g = getg();
    G *gp = g;
    if (gp != nullptr && gp->m != nullptr && gp == gp->m->g0) gp = gp->m->curg.load(std::memory_order_relaxed);
    if (gp != nullptr && gp->stack.lo != 0 && addr >= gp->stack.lo && addr < stack_usable_lo(gp->stack))
        throw_stackoverflow(gp);
    // A guard page of some other execution stack: a goroutine whose frame
    // skipped its own guard, or a stray pointer into a stack bottom.
    Stack stk;
    if (stack_in_guard(addr, &stk)) {
        if (gp != nullptr && stk.lo == gp->stack.lo) throw_stackoverflow(gp);
        gothrow("fault in the guard page of another goroutine's stack");
    }
    chain(sig, info, ctx);
}

}  // namespace

void throw_stackoverflow(G *gp) {
    char *p = overflow_msg;
    const char *end = overflow_msg + sizeof overflow_msg - 1;
    append(p, end, "stack overflow in goroutine ");
    append_uint(p, end, uint64_t(gp->goid));
    append(p, end, " (stack size ");
    append_uint(p, end, gp->stack.hi - gp->stack.lo);
    append(p, end, ")");
    *p = '\0';
    gothrow(overflow_msg);
}

void sigsegv_install() {
    if (installed) return;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigsegv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &old_segv) != 0) gothrow("sigaction(SIGSEGV)");
    installed = true;
}

void sigsegv_uninstall() {
    if (!installed) return;
    struct sigaction cur;
    sigaction(SIGSEGV, nullptr, &cur);
    // If the host replaced our handler since, leave its own in place (it may
    // chain to ours: sigsegv_handler keeps chaining to old_segv).
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == sigsegv_handler) sigaction(SIGSEGV, &old_segv, nullptr);
    installed = false;
}

void minit_sigstack(M *mp, void *stk, std::size_t size) {
    stack_t cur;
    if (sigaltstack(nullptr, &cur) == 0 && (cur.ss_flags & SS_DISABLE) == 0) {
        mp->sigstk = nullptr;  // the thread has one (the host's, or a sanitizer's): keep it
        return;
    }
    if (stk == nullptr) {
        void *v = mmap(nullptr, kSigStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (v == MAP_FAILED) gothrow("minit: cannot allocate signal stack");
        stk = v;
        size = kSigStackSize;
        mp->sigstk_mapped = true;
    }
    stack_t ss;
    ss.ss_sp = stk;
    ss.ss_size = size;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, nullptr) != 0) gothrow("minit: sigaltstack");
    mp->sigstk = stk;
    mp->sigstk_size = size;
}

void unminit_sigstack(M *mp) {
    if (mp->sigstk == nullptr) return;
    stack_t ss;
    std::memset(&ss, 0, sizeof ss);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    if (mp->sigstk_mapped) munmap(mp->sigstk, mp->sigstk_size);
    mp->sigstk = nullptr;
    mp->sigstk_mapped = false;
}

}  // namespace gort
