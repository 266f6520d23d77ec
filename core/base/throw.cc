// core/base/throw.cc - see throw.h.
#include "core/base/throw.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "core/sched/gstatus.h"
#include "core/sched/proc.h"
#include "core/sched/runtime2.h"
#include "core/diag/traceback.h"

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

std::atomic<int> throwing{0};

}  // namespace

void printstr(const char *s) { putstr(g_printfd, s); }
void printint(int64_t v) { putint(g_printfd, v); }
void printuint(uint64_t v) { putuint(g_printfd, v, 10); }
void printhex(uint64_t v) {
    putstr(g_printfd, "0x");
    putuint(g_printfd, v, 16);
}
void printptr(const void *p) { printhex(reinterpret_cast<uintptr_t>(p)); }

const char *gstatusname(uint32_t s) {
    switch (s & ~uint32_t(Gscan)) {
        case Gidle: return "idle";
        case Grunnable: return "runnable";
        case Grunning: return "running";
        case Gsyscall: return "syscall";
        case Gwaiting: return "waiting";
        case Gdead: return "dead";
        case Gcopystack: return "copystack";
        case 7: return "enqueue";
        default: return "???";
    }
}

void dumpgstatus(G *gp) {
    G *g = getg();
    printstr("runtime: gp: gp=");
    printptr(gp);
    printstr(", goid=");
    printint(gp->goid);
    printstr(", gp->atomicstatus=");
    printuint(readgstatus(gp));
    printstr("\n");
    if (g != nullptr) {
        printstr("runtime:  g:  g=");
        printptr(g);
        printstr(", goid=");
        printint(g->goid);
        printstr(",  g->atomicstatus=");
        printuint(readgstatus(g));
        printstr("\n");
    }
}

void gothrow(const char *msg) {
    // A second throw while dumping (a fault in the dump itself) just aborts.
    if (throwing.fetch_add(1, std::memory_order_relaxed) == 0) {
        printstr("gort: fatal error: ");
        printstr(msg);
        printstr("\n\n");
        // seed: startpanic -> freezetheworld. Ask every running goroutine to
        // stop and no M to start another, so the dump sees a still world
        // (best effort; a few ms; no lock taken).
        if (allp[0] != nullptr) freezetheworld();
        dumpgoroutines(2, DumpMode::Fatal);
    }
    std::abort();
}

}  // namespace gort
