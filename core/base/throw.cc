// core/base/throw.cc - see throw.h.
#include "core/base/throw.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "core/base/upcalls.h"
#include "core/base/atomics.h"

namespace gort {

namespace {

int g_printfd = 2;

void writeall(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, s, n);
        if (w <= 0) return;
        s += w;
        n -= size_t(w);
    }
}

void putstr(int fd, const char *s) { writeall(fd, s, std::strlen(s)); }

void putuint(int fd, uint64_t v, int base) {
    char buf[32];
    int i = sizeof buf;
    do {
        buf[--i] = "0123456789abcdef"[v % unsigned(base)];
        v /= unsigned(base);
    } while (v != 0);
    writeall(fd, buf + i, sizeof buf - size_t(i));
}

void putint(int fd, int64_t v) {
    if (v < 0) {
        putstr(fd, "-");
        putuint(fd, uint64_t(0) - uint64_t(v), 10);
    } else {
        putuint(fd, uint64_t(v), 10);
    }
}

atomic<int> throwing{0};

}  // namespace

void printstr(const char *s) { putstr(g_printfd, s); }
void printint(int64_t v) { putint(g_printfd, v); }
void printuint(uint64_t v) { putuint(g_printfd, v, 10); }
void printhex(uint64_t v) {
    putstr(g_printfd, "0x");
    putuint(g_printfd, v, 16);
}
void printptr(const void *p) { printhex(reinterpret_cast<uintptr_t>(p)); }

void gothrow(const char *msg) {
    // A second throw while dumping (a fault in the dump itself) just aborts.
    if (throwing.fetch_add(1, std::memory_order_relaxed) == 0) {
        printstr("gort: fatal error: ");
        printstr(msg);
        printstr("\n\n");
        fatal_dump();
    }
    std::abort();
}

}  // namespace gort
