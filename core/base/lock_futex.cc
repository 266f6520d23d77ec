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

// seed: lock (lock_futex.go), the acquisition itself; lock() below adds the
// rank check in GORT_LOCKRANK builds. always_inline: a release build's lock()
// is this body, as before the checker existed.
namespace {
[[gnu::always_inline]] inline void lock2(mutex *l) {
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
}  // namespace

#if GORT_LOCKRANK
// The lock-rank checker (core/base/lockrank.h). Per thread: a runtime lock is
// never held across a goroutine switch (gogo checks it), so the locks a
// thread holds are exactly the ones its current code path took. The stack is
// sorted by rank (each push is above the top, and removing entries keeps it
// sorted), so the top holds the highest rank held. Accessed only in these
// non-inlined functions, which never switch (see getg: no cached TLS
// address survives a migration).
//
// A select may hold up to kMaxSelectCases channel locks, so a run of
// same-rank kNestAddr locks is one entry: [lo, hi] and a count. Releasing
// one of them only checks that it lies in the range, and hi stays the
// highest address ever taken in the run (a later lock of that rank must be
// above it, which is stricter than needed but never wrong: the runtime
// releases a run without relocking into it).
namespace {
constexpr int kMaxHeld = 32;
struct HeldLock {
    const mutex *lo, *hi;
    LockRank rank;
    uint32_t n;  // locks in [lo, hi]: 1 unless the rank is kNestAddr
};
struct HeldLocks {
    int n;
    HeldLock h[kMaxHeld];
};
constinit thread_local HeldLocks held{};

bool holds_rank(const HeldLocks &hl, LockRank r) {
    for (int i = 0; i < hl.n; i++)
        if (hl.h[i].rank == r) return true;
    return false;
}

// Checked before the acquisition, so an inversion is reported even when it
// would deadlock.
[[gnu::noinline]] void lockrank_acquire(const mutex *l, LockRank r) {
    HeldLocks &hl = held;
    if (r == kRankUnranked || r >= kRankCount) {
        print("runtime: lock ", l, " has no rank (", unsigned(r), ")\n");
        gothrow("lock without a rank");
    }
    for (int i = 0; i < hl.n; i++) {
        if (hl.h[i].lo == l || hl.h[i].hi == l) {
            print("runtime: lock of ", lockrank_name(r), " ", l, ", already held by this thread\n");
            gothrow("recursive lock");
        }
    }
    if (hl.n > 0) {
        const HeldLock &top = hl.h[hl.n - 1];
        bool ok = r > top.rank;
        if (r == top.rank) {
            switch (kLockRanks[r].nest) {
            case kNestAddr:
                if (l > top.hi) {
                    HeldLock &run = hl.h[hl.n - 1];
                    run.hi = l;
                    run.n++;
                    return;
                }
                break;
            case kNestUnderSched: ok = holds_rank(hl, kRankSched); break;
            case kNestNone: break;
            }
        }
        if (!ok) {
            print("runtime: lock ordering: acquiring ", lockrank_name(r), " (rank ", unsigned(r), ") ", l,
                  " while holding ", lockrank_name(top.rank), " (rank ", unsigned(top.rank), ") ", top.hi, "\n");
            gothrow("lock ordering problem");
        }
    }
    if (hl.n == kMaxHeld) gothrow("lockrank: too many locks held");
    hl.h[hl.n++] = HeldLock{l, l, r, 1};
}

[[gnu::noinline]] void lockrank_release(const mutex *l) {
    HeldLocks &hl = held;
    for (int i = hl.n - 1; i >= 0; i--) {
        const HeldLock &e = hl.h[i];
        if (e.lo <= l && l <= e.hi && (e.lo == e.hi || l->rank == e.rank)) {
            if (--hl.h[i].n != 0) return;
            for (int j = i; j + 1 < hl.n; j++) hl.h[j] = hl.h[j + 1];
            hl.n--;
            return;
        }
    }
    print("runtime: unlock of ", lockrank_name(l->rank), " ", l, ", not held by this thread\n");
    gothrow("unlock of a lock not held");
}

}  // namespace

void lockrank_assert_none_held(const char *where) {
    const HeldLocks &hl = held;
    if (hl.n == 0) return;
    const HeldLock &top = hl.h[hl.n - 1];
    print("runtime: goroutine switch (", where, ") while holding ", lockrank_name(top.rank), " (rank ",
          unsigned(top.rank), ") ", top.hi, "\n");
    gothrow("goroutine switch with a runtime lock held");
}

void lock(mutex *l) {
    lockrank_acquire(l, l->rank);
    lock2(l);
}

void lockWithRank(mutex *l, LockRank r) {
    lockrank_acquire(l, r);
    lock2(l);
}

#else
void lock(mutex *l) { lock2(l); }
#endif

// seed: unlock (lock_futex.go)
void unlock(mutex *l) {
#if GORT_LOCKRANK
    lockrank_release(l);
#endif
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
