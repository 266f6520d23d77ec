// tests/lockrank_test.cc - the lock-rank checker (core/base/lockrank.h) and
// the G0ONLY check: nestings in rank order pass, an inversion is fatal and
// names both locks, as are an unlock of a lock not held, same-rank nestings
// the rank does not allow, and a G0ONLY function called off g0. Only in
// GORT_LOCKRANK builds (Debug, sanitizers); skipped elsewhere. The runtime
// is not started: lock/unlock on a host thread need no M.
#include <gtest/gtest.h>

#include "core/base/lock_futex.h"
#include "core/base/lockrank.h"
#include "core/sched/proc.h"
#include "core/sched/runtime2.h"

using namespace gort;

namespace {

#define SKIP_UNLESS_CHECKED() \
    if (!kLockRankChecked) GTEST_SKIP() << "built without GORT_LOCKRANK"

TEST(LockRank, TableIsComplete) {
    for (int r = 1; r < kRankCount; r++) EXPECT_NE(kLockRanks[r].name, nullptr) << r;
    EXPECT_STREQ(lockrank_name(kRankSched), "sched.lock");
}

TEST(LockRank, CorrectNestingPasses) {
    SKIP_UNLESS_CHECKED();
    // sched.lock -> allglock -> sched.gflock (schedtrace, procresize).
    lock(&sched.lock);
    lock(&allglock);
    lock(&sched.gflock);
    unlock(&sched.gflock);
    unlock(&allglock);
    // Out-of-order release is fine; a later acquisition is checked against
    // what is still held.
    lock(&sched.gflock);
    unlock(&sched.lock);
    unlock(&sched.gflock);
    // Two channel locks in increasing address order (sellock).
    mutex c[2] = {mutex(kRankHchan), mutex(kRankHchan)};
    lock(&c[0]);
    lock(&c[1]);
    unlock(&c[0]);  // selparkcommit releases in lock order
    unlock(&c[1]);
    // Two timers locks in any order under sched.lock (timers_moveall).
    mutex t[2] = {mutex(kRankTimers), mutex(kRankTimers)};
    lock(&sched.lock);
    lock(&t[1]);
    lock(&t[0]);
    unlock(&t[0]);
    unlock(&t[1]);
    unlock(&sched.lock);
    // A lock in host memory, ranked at the call site.
    mutex host;  // unranked, as zeroed memory is
    lockWithRank(&host, kRankNotifyList);
    unlock(&host);
}

TEST(LockRankDeathTest, InversionNamesBothLocks) {
    SKIP_UNLESS_CHECKED();
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            lock(&sched.gflock);
            lock(&sched.lock);
        },
        "runtime: lock ordering: acquiring sched.lock \\(rank [0-9]+\\) .* while holding sched.gflock "
        "\\(rank [0-9]+\\)[^\n]*\n(.*\n)*gort: fatal error: lock ordering problem");
}

TEST(LockRankDeathTest, SameRankRules) {
    SKIP_UNLESS_CHECKED();
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    mutex c[2] = {mutex(kRankHchan), mutex(kRankHchan)};
    EXPECT_DEATH(
        {
            lock(&c[1]);
            lock(&c[0]);
        },
        "acquiring hchan.lock .* while holding hchan.lock");
    mutex t[2] = {mutex(kRankTimers), mutex(kRankTimers)};
    EXPECT_DEATH(
        {
            lock(&t[0]);
            lock(&t[1]);
        },
        "acquiring timers.lock .* while holding timers.lock");
    EXPECT_DEATH(
        {
            lock(&sched.lock);
            lock(&sched.lock);
        },
        "fatal error: recursive lock");
}

TEST(LockRankDeathTest, UnrankedAndNotHeld) {
    SKIP_UNLESS_CHECKED();
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    mutex m;
    EXPECT_DEATH(lock(&m), "fatal error: lock without a rank");
    EXPECT_DEATH(unlock(&sched.lock), "unlock of sched.lock .*not held by this thread");
}

TEST(LockRankDeathTest, G0OnlyOffG0) {
    SKIP_UNLESS_CHECKED();
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // A host thread has no g0: the check fires before gp is touched.
    EXPECT_DEATH(gosched_m(nullptr), "G0ONLY function called off g0: gosched_m");
}

}  // namespace
