// core/base/rtalloc.cc - allocation of the runtime's own objects (G, M, P, wait
// nodes).
//
// mimalloc (docs/DESIGN.md §7): fast thread-local heaps, no lock on the hot path.
// Debian's libmimalloc.so also exports malloc/free, so linking it would
// replace the host's allocator for the whole process whenever it comes
// before libc in symbol lookup (any program that links libgort.a). An
// embedded runtime is a guest: gort loads mimalloc with dlopen(RTLD_LOCAL),
// which keeps its symbols out of the global scope, and calls it through
// function pointers. The runtime falls back to the C allocator when mimalloc
// is not installed, when running under Valgrind (which redirects mimalloc's
// free, an alias of its exported free), and under ASan/TSan (LSan does not
// scan mimalloc's regions, so pointers stored in runtime objects would be
// invisible to it).
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <pthread.h>

#include "core/base/rtalloc.h"
#include "core/base/throw.h"

#include "core/base/sanitizers.h"
#if GORT_HAVE_VALGRIND
#include <valgrind/valgrind.h>
#endif

namespace gort {

namespace {

struct Mimalloc {
    void *(*zalloc_aligned)(std::size_t, std::size_t) = nullptr;
    void (*free)(void *) = nullptr;
    void (*collect)(bool) = nullptr;
};
Mimalloc mi;
pthread_once_t mi_once = PTHREAD_ONCE_INIT;  // not std::call_once: its lambda symbol would be exported

void mi_load() {
#if !GORT_ASAN && !GORT_TSAN
#if GORT_HAVE_VALGRIND
    if (RUNNING_ON_VALGRIND) return;
#endif
    // Never unloaded: memory it handed out may outlive a shutdown.
    void *h = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) return;
    Mimalloc m;
    m.zalloc_aligned = reinterpret_cast<void *(*)(std::size_t, std::size_t)>(dlsym(h, "mi_zalloc_aligned"));
    m.free = reinterpret_cast<void (*)(void *)>(dlsym(h, "mi_free"));
    m.collect = reinterpret_cast<void (*)(bool)>(dlsym(h, "mi_collect"));
    if (m.zalloc_aligned && m.free && m.collect) mi = m;
#endif
}

inline const Mimalloc &mimalloc() {
    pthread_once(&mi_once, mi_load);
    return mi;
}

}  // namespace

void *rtalloc(std::size_t size) {
    const Mimalloc &m = mimalloc();
    void *p = nullptr;
    if (m.zalloc_aligned != nullptr) {
        p = m.zalloc_aligned(size, 64);
    } else {
        if (posix_memalign(&p, 64, (size + 63) & ~std::size_t(63)) != 0) p = nullptr;
        if (p != nullptr) std::memset(p, 0, size);
    }
    if (p == nullptr) gothrow("out of memory");
    return p;
}

void rtfree(void *p) {
    const Mimalloc &m = mimalloc();
    if (m.free != nullptr)
        m.free(p);
    else
        std::free(p);
}

void rtalloc_release() {
    const Mimalloc &m = mimalloc();
    if (m.collect != nullptr) m.collect(true);
}

}  // namespace gort
