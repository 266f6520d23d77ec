// capi/time_poll.cc - the C ABI of time, sleeping and the network
// poller: gort_nanotime, gort_sleep, gort_poll_fd, gort_poll_close.
#include <cstdint>

#include "capi/checks.h"
#include "capi/include/gort/gort.h"
#include "core/sched/gstatus.h"
#include "core/base/lock_futex.h"
#include "core/poll/netpoll.h"
#include "core/sched/proc.h"
#include "core/base/os.h"

using namespace gort;
using namespace gort::capi;

extern "C" {

GORT_API int64_t gort_nanotime(void) { return nanotime(); }

GORT_API int gort_sleep(int64_t ns) {
    if (int rc = require(Caller::MayBlock)) return rc;
    if (ns <= 0) {
        gosched();
        return GORT_OK;
    }
    timeSleep(ns);
    return GORT_OK;
}

GORT_API int gort_poll_fd(int fd, int events, int64_t timeout_ns) {
    if (fd < 0) return GORT_EINVAL;
    if (events == 0 || (events & ~(GORT_POLL_IN | GORT_POLL_OUT)) != 0) return GORT_EINVAL;
    if (int rc = require(Caller::MayBlock)) return rc;
    return poll_fd(fd, events, timeout_ns);
}

GORT_API int gort_poll_close(int fd) {
    if (fd < 0) return GORT_EINVAL;
    if (int rc = require(Caller::Waker)) return rc;  // it readies fd's waiters
    return poll_close(fd);
}

}  // extern "C"
