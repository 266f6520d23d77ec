// capi/trace.cc - the C ABI of tracing: gort_dump_goroutines.
#include <fcntl.h>

#include "capi/checks.h"
#include "capi/include/gort/gort.h"
#include "core/diag/traceback.h"

using namespace gort;

extern "C" {

// From any thread: a goroutine, g0 (inside an unlockf), a host thread. Also
// after gort_main has returned (every goroutine is then suspended for good),
// but not from a host thread once gort_shutdown has begun freeing them.
GORT_API int gort_dump_goroutines(int fd) {
    if (fd < 0 || fcntl(fd, F_GETFD) == -1) return GORT_EINVAL;
    if (int rc = capi::runtime_is(capi::Runtime::Initialised)) return rc;
    if (rtstate() == RtState::ShuttingDown && getg() == nullptr) return GORT_ESTATE;
    dumpgoroutines(fd, DumpMode::Normal);
    return GORT_OK;
}

}  // extern "C"
