// core/base/lock_futex.cc - see lock_futex.h.
#include "core/base/lock_futex.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>

#include "core/base/os.h"
#include "core/base/throw.h"
#include "core/base/upcalls.h"
#include "core/base/atomics.h"

namespace gort {

namespace {
constexpr uint32_t kUnlocked = 0, kLocked = 1, kSleeping = 2;
constexpr int kActiveSpin = 4, kActiveSpinCnt = 30, kPassiveSpin = 1;
}  // namespace

void futexsleep(atomic<uint32_t> *addr, uint32_t val, int64_t ns) {
    timespec ts, *tsp = nullptr;
    if (ns >= 0) {
        ts.tv_sec = ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        tsp = &ts;
    }
    // EINTR, EAGAIN (value changed) and timeouts all return to the caller,
    // which re-checks its condition.
    syscall(SYS_futex, reinterpret_cast<uint32_t *>(addr), FUTEX_WAIT_PRIVATE, val, tsp, nullptr, 0);
}

void futexwakeup(atomic<uint32_t> *addr, int cnt) {
    if (syscall(SYS_futex, reinterpret_cast<uint32_t *>(addr), FUTEX_WAKE_PRIVATE, cnt, nullptr, nullptr, 0) < 0)
        gothrow("futexwakeup failed");
}

namespace {

inline void procyield(int n) {
    for (int i = 0; i < n; i++) __builtin_ia32_pause();
}

}  // namespace

// seed: lock (lock_futex.go)
void lock(mutex *l) {
    m_locks_add(1);
    // Speculative grab for the uncontended case.
    uint32_t v = l->key.exchange(kLocked, std::memory_order_acquire);
    if (v == kUnlocked) return;
    // wait is kLocked or kSleeping: if we ever slept, we must leave kSleeping
    // behind so the unlocker knows to wake somebody.
    uint32_t wait = v;
    for (;;) {
        for (int i = 0; i < kActiveSpin; i++) {
            while (l->key.load(std::memory_order_relaxed) == kUnlocked) {
                uint32_t exp = kUnlocked;
                if (l->key.compare_exchange_weak(exp, wait, std::memory_order_acquire)) return;
            }
            procyield(kActiveSpinCnt);
        }
        for (int i = 0; i < kPassiveSpin; i++) {
            while (l->key.load(std::memory_order_relaxed) == kUnlocked) {
                uint32_t exp = kUnlocked;
                if (l->key.compare_exchange_weak(exp, wait, std::memory_order_acquire)) return;
            }
            osyield();
        }
        v = l->key.exchange(kSleeping, std::memory_order_acquire);
        if (v == kUnlocked) return;
        wait = kSleeping;
        futexsleep(&l->key, kSleeping, -1);
    }
}

// seed: unlock (lock_futex.go)
void unlock(mutex *l) {
    uint32_t v = l->key.exchange(kUnlocked, std::memory_order_release);  // pairs with lock's acquire
    if (v == kUnlocked) gothrow("unlock of unlocked lock");
    if (v == kSleeping) futexwakeup(&l->key, 1);
    m_locks_add(-1);
}

void noteclear(note *n) { n->key.store(0, std::memory_order_relaxed); }

void notewakeup(note *n) {
    uint32_t old = n->key.exchange(1, std::memory_order_seq_cst);  // pairs with notesleep's acquire load
    if (old != 0) gothrow("notewakeup - double wakeup");
    futexwakeup(&n->key, 1);
}

void notesleep(note *n) {
    while (n->key.load(std::memory_order_acquire) == 0) futexsleep(&n->key, 0, -1);
}

bool notetsleep(note *n, int64_t ns) {
    if (ns < 0) {
        notesleep(n);
        return true;
    }
    if (n->key.load(std::memory_order_acquire) != 0) return true;
    int64_t deadline = nanotime() + ns;
    for (;;) {
        futexsleep(&n->key, 0, ns);
        if (n->key.load(std::memory_order_acquire) != 0) return true;
        int64_t now = nanotime();
        if (now >= deadline) return false;
        ns = deadline - now;
    }
}

}  // namespace gort
