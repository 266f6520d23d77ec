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
void m_locks_add(int d) {
    if (G *g = getg()) g->m->locks += d;
}

}  // namespace gort
