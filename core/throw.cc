// core/throw.cc - see throw.h.
#include "core/throw.h"

#include <cxxabi.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "core/gstatus.h"
#include "core/runtime2.h"

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

void backtrace_here(int fd) {
    unw_context_t uc;
    unw_cursor_t cur;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0) return;
    for (int depth = 0; depth < 64 && unw_step(&cur) > 0; depth++) {
        unw_word_t ip = 0, off = 0;
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        char name[256];
        putstr(fd, "\t");
        if (unw_get_proc_name(&cur, name, sizeof name, &off) == 0) {
            // Demangling allocates; a fatal error is about to abort anyway.
            int st = -1;
            char *dm = abi::__cxa_demangle(name, nullptr, nullptr, &st);
            putstr(fd, st == 0 && dm != nullptr ? dm : name);
            std::free(dm);
            putstr(fd, "+0x");
            putuint(fd, off, 16);
        } else {
            putstr(fd, "?");
        }
        putstr(fd, " pc=0x");
        putuint(fd, ip, 16);
        putstr(fd, "\n");
    }
}

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

void dumpgoroutines(int fd) {
    G *self = getg();
    // The dump reads allgs without allglock: the thrower may hold it, and a
    // torn read of a dying runtime is better than a hang. allgs only grows.
    size_t n = allglen();
    for (size_t i = 0; i < n; i++) {
        G *gp = allg_at(i);
        if (gp == nullptr) continue;
        uint32_t s = readgstatus(gp);
        if (s == Gdead || s == Gidle) continue;
        putstr(fd, "\ngoroutine ");
        putint(fd, gp->goid);
        putstr(fd, " [");
        if ((s & ~uint32_t(Gscan)) == Gwaiting && gp->waitreason != nullptr)
            putstr(fd, gp->waitreason);
        else
            putstr(fd, gstatusname(s));
        if (s & Gscan) putstr(fd, ", scan");
        if (gp->lockedm != nullptr) putstr(fd, ", locked to thread");
        putstr(fd, "]:\n");
        if (self != nullptr && gp == self->m->curg.load(std::memory_order_relaxed)) {
            backtrace_here(fd);
        } else {
            // Native backtraces of suspended goroutines from their saved
            // context come with the runtime issue's goroutine dump.
            putstr(fd, "\t(suspended; sp=0x");
            putuint(fd, reinterpret_cast<uintptr_t>(gp->sched_sp), 16);
            putstr(fd, ")\n");
        }
    }
    if (self == nullptr || self->m->curg.load(std::memory_order_relaxed) == nullptr) {
        putstr(fd, "\nthread backtrace:\n");
        backtrace_here(fd);
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
        printstr("\n");
        dumpgoroutines(2);
    }
    std::abort();
}

}  // namespace gort
