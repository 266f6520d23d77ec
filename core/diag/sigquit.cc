// core/diag/sigquit.cc - GORT_DEBUG=sigquit=1: SIGQUIT dumps every goroutine, as
// it does in a Go program (seed: sighandler's _SigKill path for SIGQUIT,
// "SIGQUIT: quit", tracebacks, exit(2)).
//
// An embedded runtime is a guest: the handler exists only when the host asks
// for it (GORT_DEBUG=sigquit=1), is installed by gort_init and removed by
// gort_shutdown, and after its dump hands the signal to whatever the host had
// installed before:
//   - a host handler (SA_SIGINFO or not) is called, with the same arguments;
//   - SIG_DFL: exit with status 2, like Go;
//   - SIG_IGN: the host chose to ignore SIGQUIT; the dump was all that was
//     asked for, and the process goes on.
// If the host replaces gort's handler after gort_init, gort_shutdown leaves
// the host's choice in place.
//
// Where it runs. Runtime threads block asynchronous signals (newosproc), so
// the handler runs on a host thread: the thread that called gort_main (m0,
// possibly in the middle of a goroutine or the scheduler) or any other. It
// must not take a lock the interrupted code may hold, and must not allocate:
// the dump (core/diag/traceback.h) reads allgs through its lock-free snapshot
// (allglen/allg_at: the array and its length are published with release
// stores and old arrays live until shutdown) rather than taking allglock, a
// futex lock the interrupted thread may hold; it claims goroutines with the
// scan bit and gives up on one it cannot claim quickly (the interrupted code
// may be the one holding it); it writes with write(2) from a stack buffer;
// it names functions from core/diag/symtab.h, whose tables sigquit_install built
// (libunwind's name lookup allocates), and leaves C++ names mangled
// (demangling allocates). The unwinding itself is libunwind's, which is
// documented as async-signal-safe for local unwinding (it blocks signals
// around its own locks and caches). So the handler is async-signal-safe in
// practice.
//
// The handler needs a few KiB of stack (libunwind's cursor and context, the
// recorded pcs, the output buffer); it runs with SA_ONSTACK, on the host's
// alternate signal stack if the interrupted thread has one.
//
// Removal vs a running handler. gort_shutdown frees the Gs the dump reads,
// so sigquit_remove must not return while a handler dumps. A handler
// increments `active` and then reads `installed`; remove clears `installed`
// and then waits for `active` to drop to 0. Both are seq_cst, so either the
// handler sees installed == false (and only chains), or remove sees its
// increment and waits (Dekker).
#include "core/diag/sigquit.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "core/base/fdwriter.h"
#include "core/base/lock_futex.h"
#include "core/diag/symtab.h"
#include "core/diag/traceback.h"
#include "core/base/debugvars.h"
#include "core/base/os.h"
#include "core/base/atomics.h"

namespace gort {

namespace {

// The host's disposition, written by sigquit_install before `installed` is
// set and the handler exists; read by the handler.
struct sigaction host_sa;
atomic<bool> installed{false};
atomic<int> active{0};

void sigquit_handler(int sig, siginfo_t *info, void *ctx) {
    int saved_errno = errno;
    active.fetch_add(1, std::memory_order_seq_cst);
    if (installed.load(std::memory_order_seq_cst)) {
        {
            FdWriter w(2);
            w.str("SIGQUIT: quit\n\n");
        }
        dumpgoroutines(2, DumpMode::Signal);
    }
    struct sigaction prev = host_sa;
    active.fetch_sub(1, std::memory_order_seq_cst);
    errno = saved_errno;
    if (prev.sa_handler == SIG_IGN) return;
    if (prev.sa_handler == SIG_DFL) _exit(2);  // as Go does after the dump
    if ((prev.sa_flags & SA_SIGINFO) != 0)
        prev.sa_sigaction(sig, info, ctx);
    else
        prev.sa_handler(sig);
}

bool is_ours(const struct sigaction &sa) {
    return (sa.sa_flags & SA_SIGINFO) != 0 && sa.sa_sigaction == sigquit_handler;
}

}  // namespace

void sigquit_install() {
    if (debug.sigquit == 0 || installed.load(std::memory_order_relaxed)) return;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigquit_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    if (sigaction(SIGQUIT, nullptr, &host_sa) != 0) return;
    symtab_load();  // the handler may not build it: that allocates
    installed.store(true, std::memory_order_seq_cst);
    sigaction(SIGQUIT, &sa, nullptr);
}

void sigquit_remove() {
    if (!installed.load(std::memory_order_relaxed)) return;
    installed.store(false, std::memory_order_seq_cst);
    struct sigaction cur;
    if (sigaction(SIGQUIT, nullptr, &cur) == 0 && is_ours(cur)) sigaction(SIGQUIT, &host_sa, nullptr);
    while (active.load(std::memory_order_seq_cst) != 0) osyield();
    symtab_unload();  // no handler reads it any more
}

}  // namespace gort
