// core/lifecycle.h - the runtime's life cycle (init, gort_main, background
// start, shutdown) and configuration, for capi/.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/sched/upcalls.h"

namespace gort {

// The life-cycle states (RtState) and rtstate() are declared in
// core/sched/upcalls.h: the scheduler asks for them too.

struct RtConfig {
    int maxprocs;            // 0: default
    std::size_t stack_size;  // 0: default; else already validated and rounded
    int max_threads;         // 0: default
    const char *debug;       // nullptr: GORT_DEBUG
};

// Each returns a GORT_* code.
int rt_init(const RtConfig &cfg);
int rt_main(void (*fn)(void *), void *arg);
int rt_start();
// is_main_goroutine: gp is gort_main's main goroutine.
bool is_main_goroutine(const void *gp);
int rt_shutdown();

}  // namespace gort
