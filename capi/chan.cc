// capi/chan.cc - the C ABI of channels and select (core/wait/chan.h).
// Validates, then calls into core/. gort_chan is an hchan.
#include <climits>

#include "capi/checks.h"
#include "core/wait/chan.h"

using namespace gort;
using namespace gort::capi;

static_assert(int(GORT_SEND) == int(kCaseSend) && int(GORT_RECV) == int(kCaseRecv));
static_assert(sizeof(gort_select_case) == sizeof(scase) && offsetof(gort_select_case, c) == offsetof(scase, c) &&
              offsetof(gort_select_case, dir) == offsetof(scase, dir) &&
              offsetof(gort_select_case, elem) == offsetof(scase, elem) &&
              offsetof(gort_select_case, ok) == offsetof(scase, ok));

namespace {

// The checks of every channel operation but free, len and cap: the channel
// is valid and of this runtime (GORT_ESTATE before the caller's kind is
// looked at), and the caller may wake a goroutine or, if it blocks, park.
int check_op(hchan *c, bool block) {
    if (c == nullptr) return GORT_EINVAL;
    if (int rc = runtime_is(Runtime::Serving)) return rc;
    if (chan_stale(c)) return GORT_ESTATE;
    return caller_is(block ? Caller::MayBlock : Caller::Waker);
}

int send_common(gort_chan *ch, const void *elem, bool block) {
    hchan *c = chan_handle(ch);
    if (c == nullptr) return GORT_EINVAL;
    if (elem == nullptr && c->elemsize != 0) return GORT_EINVAL;
    if (int rc = check_op(c, block)) return rc;
    return result_code(ChanResult(chansend(c, elem, block)));
}

int recv_common(gort_chan *ch, void *elem, int *ok, bool block) {
    hchan *c = chan_handle(ch);
    if (int rc = check_op(c, block)) return rc;
    bool received = false;
    // Never kChanClosed: a closed, drained channel receives a zero value.
    if (int rc = result_code(ChanResult(chanrecv(c, elem, block, &received)))) return rc;
    if (ok != nullptr) *ok = received ? 1 : 0;
    return GORT_OK;
}

}  // namespace

extern "C" {

GORT_API int gort_chan_new(size_t elemsize, size_t cap, gort_chan **out) {
    if (out == nullptr) return GORT_EINVAL;
    if (elemsize >= kMaxChanElem || cap > size_t(INT_MAX)) return GORT_EINVAL;
    if (elemsize != 0 && cap > kMaxChanBuf / elemsize) return GORT_EINVAL;
    if (int rc = require(Caller::Any)) return rc;
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
    hchan *c = chan_handle(ch);
    if (int rc = check_op(c, false)) return rc;
    return result_code(ChanResult(closechan(c)));
}

GORT_API int gort_chan_len(const gort_chan *ch) {
    hchan *c = chan_handle(ch);
    if (c == nullptr) return GORT_EINVAL;
    return int(c->qcount.load(std::memory_order_relaxed));
}

GORT_API int gort_chan_cap(const gort_chan *ch) {
    hchan *c = chan_handle(ch);
    if (c == nullptr) return GORT_EINVAL;
    return int(c->dataqsiz);
}

GORT_API int gort_chan_free(gort_chan *ch) {
    hchan *c = chan_handle(ch);
    if (c == nullptr) return GORT_EINVAL;
    return result_code(chan_free(c), GORT_EBUSY);
}

GORT_API int gort_select(gort_select_case *cases, int n, int64_t timeout_ns) {
    if (n < 0 || n > kMaxSelectCases || (cases == nullptr && n > 0)) return GORT_EINVAL;
    for (int i = 0; i < n; i++) {
        const gort_select_case &k = cases[i];
        if (k.dir != GORT_SEND && k.dir != GORT_RECV) return GORT_EINVAL;
        if (k.c == nullptr) continue;
        hchan *c = chan_handle(k.c);
        if (c == nullptr) return GORT_EINVAL;
        if (k.dir == GORT_SEND && k.elem == nullptr && c->elemsize != 0) return GORT_EINVAL;
    }
    if (int rc = runtime_is(Runtime::Serving)) return rc;
    for (int i = 0; i < n; i++)
        if (cases[i].c != nullptr && chan_stale(chan_handle(cases[i].c))) return GORT_ESTATE;
    if (int rc = caller_is(timeout_ns != 0 ? Caller::MayBlock : Caller::Waker)) return rc;
    int r = selectgo(reinterpret_cast<scase *>(cases), n, timeout_ns);
    return r >= 0 ? r : result_code(ChanResult(-r));
}

}  // extern "C"
