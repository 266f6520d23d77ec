// core/base/os.h - the few facts and calls of the operating system the
// runtime uses everywhere: the monotonic clock, a yield, the CPU count.
#pragma once

#include <cstdint>

namespace gort {

int64_t nanotime();  // seed: nanotime (CLOCK_MONOTONIC, ns)
void osyield();      // seed: osyield
int ncpu();          // CPUs this process may run on (its affinity mask)

}  // namespace gort
