// core/base/upcalls.h - the two calls core/base/ makes into the layers above
// it (docs/DESIGN.md, "Layers"). Declared here, defined above: base/ includes
// nothing of theirs, and this file is the whole of what it knows of them.
#pragma once

namespace gort {

// core/sched/tls.cc. Holding a runtime lock disables preemption (seed:
// m.locks): lock/unlock add +1/-1 to the current M's count. A host thread
// (no M) taking sched.lock on the foreign-thread paths of gort_go/gort_ready
// has no count to keep.
void m_locks_add(int d);

// core/diag/fatal.cc. gothrow's dump after "gort: fatal error: msg": freeze
// the world (seed: startpanic -> freezetheworld), then every goroutine with
// its backtrace to stderr. No lock taken, no allocation.
void fatal_dump();

}  // namespace gort
