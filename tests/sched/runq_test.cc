// tests/sched/runq_test.cc - the per-P run queue (core/sched/runq.cc), through the
// internal interface: the seed's testSchedLocalQueue and
// testSchedLocalQueueSteal, plus a concurrent steal stress.
#include "core/sched/runq.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "core/base/lock_futex.h"
#include "tests/util/runq_stress.h"
#include "tests/util/testutil.h"

using namespace gort;

namespace {

struct TestG {
    G g;
    std::atomic<int> sig{0};  // the seed's g.sig: times this g was seen
};

std::unique_ptr<P> newP() { return std::make_unique<P>(); }

// Takes everything off the global queue (runqputslow's overflow).
std::vector<G *> drain_global() {
    std::vector<G *> out;
    lock(&sched.lock);
    for (G *gp = sched.runqhead; gp != nullptr; gp = gp->schedlink) out.push_back(gp);
    sched.runqhead = sched.runqtail = nullptr;
    sched.runqsize.store(0, std::memory_order_seq_cst);
    unlock(&sched.lock);
    return out;
}

}  // namespace

// seed: testSchedLocalQueue
TEST(Runq, SchedLocalQueue) {
    auto p = newP();
    std::vector<TestG> gs(kRunqSize);
    for (int i = 0; i < kRunqSize; i++) {
        ASSERT_EQ(runqget(p.get()), nullptr) << "runq is not empty initially";
        for (int j = 0; j < i; j++) runqput(p.get(), &gs[i].g);
        for (int j = 0; j < i; j++) ASSERT_EQ(runqget(p.get()), &gs[i].g) << "bad element at iter " << i << "/" << j;
        ASSERT_EQ(runqget(p.get()), nullptr) << "runq is not empty afterwards";
    }
}

// seed: testSchedLocalQueueSteal
TEST(Runq, SchedLocalQueueSteal) {
    auto p1 = newP();
    auto p2 = newP();
    std::vector<TestG> gs(kRunqSize);
    for (int i = 0; i < kRunqSize; i++) {
        for (int j = 0; j < i; j++) {
            gs[j].sig = 0;
            runqput(p1.get(), &gs[j].g);
        }
        G *gp = runqsteal(p2.get(), p1.get());
        int s = 0;
        auto seen = [&](G *g) { reinterpret_cast<TestG *>(g)->sig++; };
        if (gp != nullptr) {
            s++;
            seen(gp);
        }
        while ((gp = runqget(p2.get())) != nullptr) {
            s++;
            seen(gp);
        }
        while ((gp = runqget(p1.get())) != nullptr) seen(gp);
        for (int j = 0; j < i; j++) ASSERT_EQ(gs[j].sig, 1) << "bad element " << j << " at iter " << i;
        ASSERT_TRUE(s == i / 2 || s == i / 2 + 1) << "bad steal " << s << ", want " << i / 2 << " or " << i / 2 + 1
                                                  << ", iter " << i;
    }
}

// A full queue spills half of itself plus the new g to the global queue, in
// order (seed: runqputslow).
TEST(Runq, PutSlowMovesHalfToGlobal) {
    auto p = newP();
    std::vector<TestG> gs(kRunqSize + 1);
    for (int i = 0; i <= kRunqSize; i++) runqput(p.get(), &gs[i].g);
    std::vector<G *> glob = drain_global();
    ASSERT_EQ(glob.size(), size_t(kRunqSize / 2 + 1));
    for (int i = 0; i < kRunqSize / 2; i++) EXPECT_EQ(glob[i], &gs[i].g) << "global queue out of order at " << i;
    EXPECT_EQ(glob.back(), &gs[kRunqSize].g);
    for (int i = kRunqSize / 2; i < kRunqSize; i++) EXPECT_EQ(runqget(p.get()), &gs[i].g);
    EXPECT_EQ(runqget(p.get()), nullptr);
}

// One owner puts and gets; thieves steal into their own queues and drain
// them. Every g must be seen exactly once, in every round.
TEST(Runq, ConcurrentStealStress) {
    runq_stress::run(3, int(gort_test::scaled(300, 30, 100)), 5000, /*runnext=*/false);
}
