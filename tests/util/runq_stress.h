// tests/util/runq_stress.h - the concurrent steal stress that runq_test (the
// seed's ring) and runnext_test (with runnext) share.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "core/base/lock_futex.h"
#include "core/sched/runq.h"

namespace runq_stress {

struct StressG {
    gort::G g;
    std::atomic<int> sig{0};  // the seed's g.sig: times this g was seen
};

// One owner puts and gets (interleaved, so heads move under the thieves'
// feet); thieves steal into their own queues and drain them. With runnext,
// the owner puts two Gs of three into runnext and the thieves take turns
// asking for it. Every G must be seen exactly once, in every round
// (runqputslow's overflow to the global queue included).
inline void run(int nthieves, int rounds, int perRound, bool runnext) {
    using namespace gort;
    auto owner = std::make_unique<P>();
    std::vector<std::unique_ptr<P>> tp;
    for (int i = 0; i < nthieves; i++) tp.push_back(std::make_unique<P>());
    std::vector<StressG> gs(static_cast<size_t>(perRound));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (int r = 0; r < rounds; r++) {
        for (auto &g : gs) g.sig = 0;
        std::atomic<bool> ownerDone{false};
        std::atomic<int> seen{0};
        auto see = [&](G *g) {
            reinterpret_cast<StressG *>(g)->sig.fetch_add(1, std::memory_order_relaxed);
            seen.fetch_add(1, std::memory_order_relaxed);
        };
        std::vector<std::thread> thieves;
        for (int t = 0; t < nthieves; t++) {
            thieves.emplace_back([&, t] {
                P *mine = tp[size_t(t)].get();
                for (uint32_t i = 0;; i++) {
                    bool done = ownerDone.load(std::memory_order_acquire);
                    G *g = runqsteal(mine, owner.get(), runnext && (i + uint32_t(t)) % 2 == 0);
                    if (g != nullptr) see(g);
                    while ((g = runqget(mine)) != nullptr) see(g);
                    if (done && runqempty(owner.get())) break;
                }
            });
        }
        for (int i = 0; i < perRound; i++) {
            runqput(owner.get(), &gs[size_t(i)].g, runnext && i % 3 != 0);
            if (i % (runnext ? 4 : 3) == 0)
                if (G *g = runqget(owner.get())) see(g);
        }
        while (G *g = runqget(owner.get())) see(g);
        ownerDone.store(true, std::memory_order_release);
        for (auto &th : thieves) th.join();
        lock(&sched.lock);
        for (G *gp = sched.runqhead; gp != nullptr; gp = gp->schedlink) see(gp);
        sched.runqhead = sched.runqtail = nullptr;
        sched.runqsize.store(0, std::memory_order_seq_cst);
        unlock(&sched.lock);
        ASSERT_EQ(seen.load(), perRound) << "round " << r;
        for (int i = 0; i < perRound; i++) ASSERT_EQ(gs[size_t(i)].sig.load(), 1) << "g " << i << " in round " << r;
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "stress test took too long";
    }
}

}  // namespace runq_stress
