// core/sched/tls.cc - the current goroutine of each thread (see getg in
// runtime2.h). initial-exec TLS: one %fs-relative load, no __tls_get_addr.
#include "core/sched/runtime2.h"
#include "core/base/upcalls.h"

namespace gort {

namespace {
thread_local G *tls_g __attribute__((tls_model("initial-exec"))) = nullptr;
}

G *getg() {
    asm volatile("" ::: "memory");  // compiler barrier: never reuse an earlier read
    return tls_g;
}

void setg(G *gp) {
    asm volatile("" ::: "memory");
    tls_g = gp;
}

// core/base/upcalls.h. A host thread has no M and no count.
// Reads tls_g directly (one call per lock/unlock, as when this lived in
// lock_futex.cc and called getg): nothing here can switch goroutines.
void m_locks_add(int d) {
    asm volatile("" ::: "memory");
    if (G *g = tls_g) g->m->locks += d;
}

}  // namespace gort
