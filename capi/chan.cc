// capi/chan.cc - the C ABI of channels and select (core/wait/chan.h).
// Validates, then calls into core/. gort_chan is an hchan.
#include <climits>

#include "capi/checks.h"
#include "core/base/atomics.h"
#include "core/wait/chan.h"

using namespace gort;
using namespace gort::capi;

static_assert(int(GORT_SEND) == int(kCaseSend) && int(GORT_RECV) == int(kCaseRecv));
static_assert(sizeof(gort_select_case) == sizeof(scase) && offsetof(gort_select_case, c) == offsetof(scase, c) &&
              offsetof(gort_select_case, dir) == offsetof(scase, dir) &&
              offsetof(gort_select_case, elem) == offsetof(scase, elem) &&
              offsetof(gort_select_case, ok) == offsetof(scase, ok));

namespace {

// A handle from gort_chan_new: hchans are 64-byte aligned (rtalloc), so a
// misaligned pointer is refused before it is read.
hchan *chanof(const gort_chan *c) {
    if (c == nullptr || (reinterpret_cast<uintptr_t>(c) & (alignof(hchan) - 1)) != 0) return nullptr;
    auto *h = reinterpret_cast<hchan *>(const_cast<gort_chan *>(c));
    if (h->magic != kChanMagic) return nullptr;
    return h;
}

// The common checks of every channel operation but free, len and cap: the
// channel is valid and of this runtime, and the caller may wake a goroutine
// (a goroutine in a syscall may not touch its P). block: the caller must
// also be able to park.
int check_op(hchan *c, bool block) {
    if (c == nullptr) return GORT_EINVAL;
    if (!running()) return not_running_code();
    if (c->epoch != load_acq(chan_epoch)) return GORT_ESTATE;
    G *gp = curg();
    if (block) {
        if (gp == nullptr) return GORT_ENOTG;
        return may_block(gp);
    }
    if (gp != nullptr && in_syscall(gp)) return GORT_ESTATE;
    return GORT_OK;
}

int send_common(gort_chan *ch, const void *elem, bool block) {
    hchan *c = chanof(ch);
    if (c == nullptr) return GORT_EINVAL;
    if (elem == nullptr && c->elemsize != 0) return GORT_EINVAL;
    if (int rc = check_op(c, block)) return rc;
    switch (chansend(c, elem, block)) {
        case kChanOK: return GORT_OK;
        case kChanClosed: return GORT_ECLOSED;
        default: return GORT_EAGAIN;
    }
}

int recv_common(gort_chan *ch, void *elem, int *ok, bool block) {
    hchan *c = chanof(ch);
    if (int rc = check_op(c, block)) return rc;
    bool received = false;
    if (chanrecv(c, elem, block, &received) == kChanWouldBlock) return GORT_EAGAIN;
    if (ok != nullptr) *ok = received ? 1 : 0;
    return GORT_OK;
}

}  // namespace

extern "C" {

GORT_API int gort_chan_new(size_t elemsize, size_t cap, gort_chan **out) {
    if (out == nullptr) return GORT_EINVAL;
    if (elemsize >= kMaxChanElem || cap > size_t(INT_MAX)) return GORT_EINVAL;
    if (elemsize != 0 && cap > kMaxChanBuf / elemsize) return GORT_EINVAL;
    if (!running()) return not_running_code();
    hchan *c = makechan(elemsize, cap);
    if (c == nullptr) return GORT_EINVAL;
    *out = reinterpret_cast<gort_chan *>(c);
    return GORT_OK;
}

GORT_API int gort_chan_send(gort_chan *c, const void *elem) { return send_common(c, elem, true); }
GORT_API int gort_chan_trysend(gort_chan *c, const void *elem) { return send_common(c, elem, false); }
GORT_API int gort_chan_recv(gort_chan *c, void *elem, int *ok) { return recv_common(c, elem, ok, true); }
GORT_API int gort_chan_tryrecv(gort_chan *c, void *elem, int *ok) { return recv_common(c, elem, ok, false); }

GORT_API int gort_chan_close(gort_chan *ch) {
    hchan *c = chanof(ch);
    if (int rc = check_op(c, false)) return rc;
    return closechan(c) == kChanOK ? GORT_OK : GORT_ECLOSED;
}

GORT_API int gort_chan_len(const gort_chan *ch) {
    hchan *c = chanof(ch);
    if (c == nullptr) return GORT_EINVAL;
    return int(c->qcount.load(std::memory_order_relaxed));
}

GORT_API int gort_chan_cap(const gort_chan *ch) {
    hchan *c = chanof(ch);
    if (c == nullptr) return GORT_EINVAL;
    return int(c->dataqsiz);
}

GORT_API int gort_chan_free(gort_chan *ch) {
    hchan *c = chanof(ch);
    if (c == nullptr) return GORT_EINVAL;
    return chan_free(c) ? GORT_OK : GORT_EBUSY;
}

GORT_API int gort_select(gort_select_case *cases, int n, int64_t timeout_ns) {
    if (n < 0 || n > kMaxSelectCases || (cases == nullptr && n > 0)) return GORT_EINVAL;
    for (int i = 0; i < n; i++) {
        const gort_select_case &k = cases[i];
        if (k.dir != GORT_SEND && k.dir != GORT_RECV) return GORT_EINVAL;
        if (k.c == nullptr) continue;
        hchan *c = chanof(k.c);
        if (c == nullptr) return GORT_EINVAL;
        if (k.dir == GORT_SEND && k.elem == nullptr && c->elemsize != 0) return GORT_EINVAL;
    }
    if (!running()) return not_running_code();
    for (int i = 0; i < n; i++)
        if (cases[i].c != nullptr && chanof(cases[i].c)->epoch != load_acq(chan_epoch)) return GORT_ESTATE;
    G *gp = curg();
    if (timeout_ns != 0) {
        if (gp == nullptr) return GORT_ENOTG;
        if (int rc = may_block(gp)) return rc;
    } else if (gp != nullptr && in_syscall(gp)) {
        return GORT_ESTATE;
    }
    int r = selectgo(reinterpret_cast<scase *>(cases), n, timeout_ns);
    if (r >= 0) return r;
    return r == -kChanTimedOut ? GORT_ETIMEDOUT : GORT_EAGAIN;
}

}  // extern "C"
