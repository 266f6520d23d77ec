// core/rtalloc.cc - allocation of the runtime's own objects (G, M, P, wait
// nodes): mimalloc, whose thread-local heaps take no lock on the hot path
// (DESIGN §7). Under ASan/TSan the runtime uses malloc instead, so that the
// sanitizers (LSan in particular, which does not scan mimalloc's regions)
// see every object and every pointer stored in one.
#include <cstdlib>
#include <cstring>

#include "core/proc.h"
#include "core/throw.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GORT_SAN_MALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GORT_SAN_MALLOC 1
#endif

#if !GORT_SAN_MALLOC
#include <mimalloc.h>
#endif

namespace gort {

void *rtalloc(std::size_t size) {
#if GORT_SAN_MALLOC
    void *p = nullptr;
    if (posix_memalign(&p, 64, (size + 63) & ~std::size_t(63)) != 0) p = nullptr;
    if (p != nullptr) std::memset(p, 0, size);
#else
    void *p = mi_zalloc_aligned(size, 64);
#endif
    if (p == nullptr) gothrow("out of memory");
    return p;
}

void rtfree(void *p) {
#if GORT_SAN_MALLOC
    std::free(p);
#else
    mi_free(p);
#endif
}

void rtalloc_release() {
#if !GORT_SAN_MALLOC
    mi_collect(true);
#endif
}

}  // namespace gort
