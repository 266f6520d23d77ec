// tests/stack/mstack_test.cc - managed stacks (core/stack/mstack.h) through the C ABI:
// precise copying on growth and shrinking (frame pointers, frame links,
// argument words, registered roots), stack maps and pc indexes, gcdead
// poisoning, the invalid-pointer fatal error, the maximum size, bad input,
// and the merge's race (shrinking a parked goroutine while host threads
// gort_ready it).
#include <gort/gort.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "core/stack/mstack.h"
#include "core/sched/runtime2.h"
#include "tests/util/testutil.h"

using namespace gort_test;

namespace {

// Map bytes: 2 bits per word.
constexpr uint8_t D = GORT_BITS_DEAD, S = GORT_BITS_SCALAR, P = GORT_BITS_POINTER;
constexpr uint8_t bits4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return uint8_t(a | b << 2 | c << 4 | d << 6); }

gort::G *self_g() { return reinterpret_cast<gort::G *>(gort_self()); }
std::size_t mstack_size() { return self_g()->mstack.hi - self_g()->mstack.lo; }

// The recursion frame: 4 locals, 1 argument.
//   w0 ptr  -> w2 of an earlier frame (frame target(i))
//   w1 scalar  i
//   w2 scalar  value(i)
//   w3 ptr  -> w1 of this frame
//   arg0 ptr -> w2 of the caller
// The locals map covers all 4 words: word 0 is the lowest (locals[0]).
const uint8_t rec_locals_bits[] = {bits4(P, S, S, P)};
const uint8_t rec_args_bits[] = {bits4(P, 0, 0, 0)};
const gort_stackmap rec_locals[] = {{8, rec_locals_bits}};
const gort_stackmap rec_args[] = {{2, rec_args_bits}};
const gort_funcinfo rec_fi = {sizeof(gort_funcinfo), "rec", 4, 1, 1, rec_locals, rec_args};

uintptr_t value(int64_t i) { return uintptr_t(i) * 7 + 1; }
// The earlier frame whose w2 frame i's w0 points to: 1 to 61 frames up.
int64_t target(int64_t i) { return i == 0 ? 0 : (i - 1 - i % 61 < 0 ? 0 : i - 1 - i % 61); }

// Arguments of a frame whose locals are at l (the documented layout:
// [args][header][locals], header 16-byte aligned right below the args).
uintptr_t *args_of(uintptr_t *l, uint32_t frame_words) {
    return reinterpret_cast<uintptr_t *>(reinterpret_cast<char *>(l) + frame_words * 8 + sizeof(gort::MFrame));
}

// Walks every frame from the innermost through the arguments' pointers to
// each caller, checking every pointer against the shadow (frame i's w0
// points to frame target(i)'s w2, w3 to its own w1, arg0 to the caller's w2).
// Returns the number of frames checked, or -1 at the first mismatch.
int64_t verify(int64_t depth, const std::vector<uintptr_t *> &roots, const std::vector<int64_t> &rootframe) {
    auto *l = static_cast<uintptr_t *>(gort_mframe_top());
    std::vector<uintptr_t *> frames(size_t(depth), nullptr);
    for (int64_t i = depth - 1; i >= 0; i--) {
        if (l == nullptr) return -1;
        frames[size_t(i)] = l;
        if (l[1] != uintptr_t(i) || l[2] != value(i)) return -1;
        if (reinterpret_cast<uintptr_t *>(l[3]) != &l[1]) return -1;
        uintptr_t *arg = args_of(l, 4);
        if (i == 0) break;
        l = reinterpret_cast<uintptr_t *>(arg[0]) - 2;  // caller's w2 -> its locals
    }
    for (int64_t i = 0; i < depth; i++) {
        uintptr_t *l2 = frames[size_t(i)];
        if (*reinterpret_cast<uintptr_t *>(l2[0]) != value(target(i))) return -1;
        if (reinterpret_cast<uintptr_t *>(l2[0]) != &frames[size_t(target(i))][2]) return -1;
    }
    for (size_t r = 0; r < roots.size(); r++)
        if (roots[r] != &frames[size_t(rootframe[r])][2]) return -1;
    return depth;
}

void init_main(const char *debug, std::function<void()> body) {
    gort_config c;
    gort_config_init(&c);
    c.maxprocs = 1;
    c.debug = debug;
    ASSERT_EQ(gort_init(&c), GORT_OK);
    auto *b = &body;
    ASSERT_EQ(gort_main([](void *p) { (*static_cast<std::function<void()> *>(p))(); }, b), GORT_OK);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

}  // namespace

// A recursion 100,000 frames deep: every frame holds pointers to slots of
// earlier frames and its arguments point into its caller; 64 registered
// roots point into the stack. After every growth and after every shrink on
// the way back, every pointer still reaches the right value.
TEST(MStack, DeepRecursionSurvivesEveryGrowthAndShrink) {
    const int64_t depth = scaled(100000, 100000, 100000);
    run_main(1, [&] {
        ASSERT_EQ(gort_funcinfo_register(&rec_fi), GORT_OK);
        std::vector<uintptr_t *> roots;
        std::vector<int64_t> rootframe;
        roots.reserve(64);  // registered slots must not move
        int growths = 0;
        uintptr_t lo = 0;
        for (int64_t i = 0; i < depth; i++) {
            uintptr_t *caller = static_cast<uintptr_t *>(gort_mframe_top());
            void *callerw2 = caller != nullptr ? &caller[2] : nullptr;
            // The caller's slot address is a raw pointer across the push:
            // register it as a root so the push adjusts it (docs/DESIGN.md §4).
            ASSERT_EQ(gort_mstack_root_add(&callerw2), GORT_OK);
            auto *l = static_cast<uintptr_t *>(gort_mframe_push(&rec_fi));
            ASSERT_NE(l, nullptr) << "push " << i << ": " << gort_strerror(gort_last_error());
            ASSERT_EQ(gort_mstack_root_remove(&callerw2), GORT_OK);
            for (int w = 0; w < 4; w++) ASSERT_EQ(l[w], 0u) << "push must zero the locals";
            l[1] = uintptr_t(i);
            l[2] = value(i);
            l[3] = reinterpret_cast<uintptr_t>(&l[1]);
            uintptr_t *arg = static_cast<uintptr_t *>(gort_mframe_args(l));
            ASSERT_EQ(arg, args_of(l, 4));
            arg[0] = reinterpret_cast<uintptr_t>(callerw2);
            // w0 -> w2 of frame target(i), found by walking up the callers.
            uintptr_t *f = l;
            for (int64_t k = i; k > target(i); k--) f = reinterpret_cast<uintptr_t *>(args_of(f, 4)[0]) - 2;
            l[0] = reinterpret_cast<uintptr_t>(&f[2]);
            if (i % 1500 == 0 && roots.size() < 64) {
                roots.push_back(reinterpret_cast<uintptr_t *>(&l[2]));
                rootframe.push_back(i);
                ASSERT_EQ(gort_mstack_root_add(reinterpret_cast<void **>(&roots.back())), GORT_OK);
            }
            if (self_g()->mstack.lo != lo) {
                lo = self_g()->mstack.lo;
                growths++;
                ASSERT_EQ(verify(i + 1, roots, rootframe), i + 1) << "after growth to " << mstack_size();
            }
        }
        EXPECT_GE(growths, 10) << "the stack should grow through many doublings";
        EXPECT_GE(mstack_size(), std::size_t(depth) * 64);
        ASSERT_EQ(verify(depth, roots, rootframe), depth);
        // Back down to 10 frames, shrinking as we go.
        for (auto &r : roots) gort_mstack_root_remove(reinterpret_cast<void **>(&r));
        int shrinks = 0;
        for (int64_t d = depth; d > 10; d--) {
            ASSERT_EQ(gort_mframe_pop(), GORT_OK);
            if (d % 1024 == 0 || d == 11) {
                std::size_t before = mstack_size();
                ASSERT_GE(gort_shrink_stacks(), 0);
                if (mstack_size() < before) {
                    shrinks++;
                    ASSERT_EQ(verify(d - 1, {}, {}), d - 1) << "after shrinking to " << mstack_size();
                }
            }
        }
        for (int k = 0; k < 20; k++) {
            std::size_t before = mstack_size();
            gort_shrink_stacks();
            if (mstack_size() < before) {
                shrinks++;
                ASSERT_EQ(verify(10, {}, {}), 10) << "after shrinking to " << mstack_size();
            }
        }
        EXPECT_GE(shrinks, 10) << "the stack should shrink back through many halvings";
        EXPECT_LE(mstack_size(), std::size_t(4096)) << "10 small frames fit in 4 KiB";
        ASSERT_EQ(verify(10, {}, {}), 10);
        for (int d = 0; d < 10; d++) ASSERT_EQ(gort_mframe_pop(), GORT_OK);
        EXPECT_EQ(gort_mframe_pop(), GORT_ESTATE);
    });
}

// The live stack map follows the pc index: a pointer slot is adjusted only
// while its map says pointer.
TEST(MStack, PcIndexSelectsTheStackMap) {
    static const uint8_t m0[] = {bits4(S, S, 0, 0)};
    static const uint8_t m1[] = {bits4(P, S, 0, 0)};
    static const gort_stackmap locals[] = {{4, m0}, {4, m1}};
    static const gort_funcinfo fi = {sizeof(gort_funcinfo), "pcfn", 2, 0, 2, locals, nullptr};
    static const uint8_t bigm[] = {0};
    static const gort_stackmap biglocals[] = {{0, bigm}};
    static const gort_funcinfo big = {sizeof(gort_funcinfo), "big", 4096, 0, 1, biglocals, nullptr};
    run_main(1, [] {
        ASSERT_EQ(gort_funcinfo_register(&fi), GORT_OK);
        ASSERT_EQ(gort_funcinfo_register(&big), GORT_OK);
        for (uint32_t pc : {0u, 1u}) {
            auto *l = static_cast<uintptr_t *>(gort_mframe_push(&fi));
            ASSERT_NE(l, nullptr);
            l[0] = reinterpret_cast<uintptr_t>(&l[1]);
            l[1] = 42;
            uintptr_t old = l[0];
            ASSERT_EQ(gort_mframe_setpc(pc), GORT_OK);
            EXPECT_EQ(gort_mframe_setpc(2), GORT_EINVAL);
            ASSERT_NE(gort_mframe_push(&big), nullptr);  // grows: copies fi's frame
            ASSERT_EQ(gort_mframe_pop(), GORT_OK);
            l = static_cast<uintptr_t *>(gort_mframe_top());
            if (pc == 1) {
                EXPECT_EQ(l[0], reinterpret_cast<uintptr_t>(&l[1])) << "pointer slot not adjusted";
            } else {
                EXPECT_EQ(l[0], old) << "scalar slot must be left alone";
            }
            EXPECT_EQ(l[1], 42u);
            ASSERT_EQ(gort_mframe_pop(), GORT_OK);
        }
    });
}

TEST(MStack, GcdeadPoisonsDeadSlots) {
    static const uint8_t m[] = {bits4(D, S, P, 0)};
    static const gort_stackmap locals[] = {{6, m}};
    static const gort_funcinfo fi = {sizeof(gort_funcinfo), "deadfn", 3, 0, 1, locals, nullptr};
    static const uint8_t bigm[] = {0};
    static const gort_stackmap biglocals[] = {{0, bigm}};
    static const gort_funcinfo big = {sizeof(gort_funcinfo), "big", 4096, 0, 1, biglocals, nullptr};
    for (const char *dbg : {"gcdead=1", "gcdead=0"}) {
        bool poison = std::strcmp(dbg, "gcdead=1") == 0;
        init_main(dbg, [poison] {
            ASSERT_EQ(gort_funcinfo_register(&fi), GORT_OK);
            ASSERT_EQ(gort_funcinfo_register(&big), GORT_OK);
            auto *l = static_cast<uintptr_t *>(gort_mframe_push(&fi));
            l[0] = 12345;
            l[1] = 777;
            l[2] = reinterpret_cast<uintptr_t>(&l[1]);
            ASSERT_NE(gort_mframe_push(&big), nullptr);
            gort_mframe_pop();
            l = static_cast<uintptr_t *>(gort_mframe_top());
            EXPECT_EQ(l[0], poison ? uintptr_t(0x6868686868686868ull) : uintptr_t(12345));
            EXPECT_EQ(l[1], 777u);
            EXPECT_EQ(l[2], reinterpret_cast<uintptr_t>(&l[1]));
            gort_mframe_pop();
        });
    }
}

TEST(MStack, SmallIntegerInAPointerSlotIsFatal) {
    static const uint8_t m[] = {bits4(S, P, 0, 0)};
    static const gort_stackmap locals[] = {{4, m}};
    static const gort_funcinfo fi = {sizeof(gort_funcinfo), "bad_fn", 2, 0, 1, locals, nullptr};
    static const uint8_t bigm[] = {0};
    static const gort_stackmap biglocals[] = {{0, bigm}};
    static const gort_funcinfo big = {sizeof(gort_funcinfo), "big", 4096, 0, 1, biglocals, nullptr};
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(run_main(1,
                          [] {
                              gort_funcinfo_register(&fi);
                              gort_funcinfo_register(&big);
                              auto *l = static_cast<uintptr_t *>(gort_mframe_push(&fi));
                              l[1] = 5;
                              gort_mframe_push(&big);
                          }),
                 "runtime: bad pointer in frame bad_fn at 0x[0-9a-f]+: 0x5\n"
                 "gort: fatal error: invalid stack pointer");
}

TEST(MStack, GrowthPastTheMaximumFailsAndTheGoroutineGoesOn) {
    static const uint8_t m[] = {0};
    static const gort_stackmap locals[] = {{0, m}};
    static const gort_funcinfo fi = {sizeof(gort_funcinfo), "kb", 128, 0, 1, locals, nullptr};
    run_main(1, [] {
        ASSERT_EQ(gort_set_max_stack(64 * 1024), GORT_OK);
        ASSERT_EQ(gort_funcinfo_register(&fi), GORT_OK);
        int pushed = 0;
        void *p;
        while ((p = gort_mframe_push(&fi)) != nullptr) {
            static_cast<uintptr_t *>(p)[0] = uintptr_t(pushed);
            pushed++;
            ASSERT_LT(pushed, 1000);
        }
        EXPECT_EQ(gort_last_error(), GORT_ESTACKOVERFLOW);
        EXPECT_EQ(mstack_size(), std::size_t(64 * 1024));
        EXPECT_GE(pushed, 50);  // 64 KiB / ~1.1 KiB frames
        // The frames are intact and the goroutine goes on.
        for (int i = pushed - 1; i >= 0; i--) {
            ASSERT_EQ(static_cast<uintptr_t *>(gort_mframe_top())[0], uintptr_t(i));
            ASSERT_EQ(gort_mframe_pop(), GORT_OK);
        }
        ASSERT_NE(gort_mframe_push(&fi), nullptr);
        EXPECT_EQ(gort_last_error(), GORT_OK);
        gort_mframe_pop();
    });
}

TEST(MStack, BadInputGetsErrorCodes) {
    static const uint8_t m[] = {bits4(P, 3, 0, 0)};
    static const uint8_t ok[] = {bits4(P, S, 0, 0)};
    static const gort_stackmap bad3[] = {{4, m}};
    static const gort_stackmap good[] = {{4, ok}};
    static const gort_stackmap toolong[] = {{6, ok}};
    static const gort_funcinfo badbits = {sizeof(gort_funcinfo), "b", 2, 0, 1, bad3, nullptr};
    static const gort_funcinfo longmap = {sizeof(gort_funcinfo), "l", 2, 0, 1, toolong, nullptr};
    static const gort_funcinfo nomaps = {sizeof(gort_funcinfo), "n", 2, 0, 0, good, nullptr};
    static const gort_funcinfo noargs = {sizeof(gort_funcinfo), "a", 2, 1, 1, good, nullptr};
    static const gort_funcinfo smallsize = {4, "s", 2, 0, 1, good, nullptr};
    static const gort_funcinfo fine = {sizeof(gort_funcinfo), "f", 2, 0, 1, good, nullptr};
    static const gort_funcinfo unregistered = {sizeof(gort_funcinfo), "u", 2, 0, 1, good, nullptr};
    EXPECT_EQ(gort_funcinfo_register(&fine), GORT_ENOTINIT);
    EXPECT_EQ(gort_mframe_push(&fine), nullptr);
    EXPECT_EQ(gort_last_error(), GORT_ENOTINIT);
    EXPECT_EQ(gort_set_max_stack(100), GORT_EINVAL);
    run_main(1, [] {
        EXPECT_EQ(gort_funcinfo_register(nullptr), GORT_EINVAL);
        EXPECT_EQ(gort_funcinfo_register(&badbits), GORT_EINVAL);
        EXPECT_EQ(gort_funcinfo_register(&longmap), GORT_EINVAL);
        EXPECT_EQ(gort_funcinfo_register(&nomaps), GORT_EINVAL);
        EXPECT_EQ(gort_funcinfo_register(&noargs), GORT_EINVAL);
        EXPECT_EQ(gort_funcinfo_register(&smallsize), GORT_EINVAL);
        EXPECT_EQ(gort_funcinfo_register(&fine), GORT_OK);
        EXPECT_EQ(gort_funcinfo_register(&fine), GORT_OK);
        EXPECT_EQ(gort_mframe_push(&unregistered), nullptr);
        EXPECT_EQ(gort_last_error(), GORT_EINVAL);
        EXPECT_EQ(gort_mframe_push(&badbits), nullptr);
        EXPECT_EQ(gort_mframe_pop(), GORT_ESTATE);
        EXPECT_EQ(gort_mframe_setpc(0), GORT_ESTATE);
        EXPECT_EQ(gort_mframe_top(), nullptr);
        void *l = gort_mframe_push(&fine);
        ASSERT_NE(l, nullptr);
        EXPECT_EQ(gort_last_error(), GORT_OK);
        EXPECT_EQ(gort_mframe_args(nullptr), nullptr);
        EXPECT_EQ(gort_last_error(), GORT_EINVAL);
        EXPECT_EQ(gort_mframe_args(static_cast<char *>(l) + 8), nullptr);
        EXPECT_EQ(gort_mstack_root_add(nullptr), GORT_EINVAL);
        void *slot = l;
        EXPECT_EQ(gort_mstack_root_add(&slot), GORT_OK);
        EXPECT_EQ(gort_mstack_root_add(&slot), GORT_EBUSY);
        EXPECT_EQ(gort_mstack_root_remove(&slot), GORT_OK);
        EXPECT_EQ(gort_mstack_root_remove(&slot), GORT_ESTATE);
        EXPECT_EQ(gort_mframe_pop(), GORT_OK);
    });
    // From a host thread while the runtime runs.
    gort_config c;
    gort_config_init(&c);
    ASSERT_EQ(gort_init(&c), GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
    EXPECT_EQ(gort_funcinfo_register(&fine), GORT_OK);
    EXPECT_EQ(gort_mframe_push(&fine), nullptr);
    EXPECT_EQ(gort_last_error(), GORT_ENOTG);
    EXPECT_EQ(gort_mframe_pop(), GORT_ENOTG);
    EXPECT_EQ(gort_mstack_root_add(reinterpret_cast<void **>(&c)), GORT_ENOTG);
    EXPECT_GE(gort_shrink_stacks(), 0);
    ASSERT_EQ(gort_go([](void *) {}, nullptr, 0, nullptr), GORT_OK);  // a stack, so an arena
    gort_stack_stats st;
    st.size = 4;
    EXPECT_EQ(gort_stack_stats_get(&st), GORT_EINVAL);
    st.size = sizeof st;
    EXPECT_EQ(gort_stack_stats_get(&st), GORT_OK);
    EXPECT_GE(st.arenas, 1u);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// A push is a safe point: a preemption request (stackguard0 =
// kStackPreempt, as issue 3's preemptone sets it) makes the goroutine yield
// there, and it resumes with its guard restored.
TEST(MStack, PushIsAPreemptionPoint) {
    static const uint8_t m[] = {0};
    static const gort_stackmap locals[] = {{0, m}};
    static const gort_funcinfo fi = {sizeof(gort_funcinfo), "p", 2, 0, 1, locals, nullptr};
    run_main(1, [] {
        ASSERT_EQ(gort_funcinfo_register(&fi), GORT_OK);
        std::atomic<int> other{0};
        go([&] { other = 1; });
        ASSERT_NE(gort_mframe_push(&fi), nullptr);
        gort::G *g = self_g();
        EXPECT_EQ(other.load(), 0);
        // Each preempted push yields (to the global queue). The other
        // goroutine runs after the first yield, or after the second when
        // the yield fell on the scheduler's every-61st-tick look at the
        // global queue (schedtick can be 0 here: a goroutine started from
        // runnext inherits the P's slice), which takes the yielder back.
        int pushes = 0;
        while (other.load() == 0 && pushes < 3) {
            g->preempt.store(true, std::memory_order_seq_cst);
            g->stackguard0.store(gort::kStackPreempt, std::memory_order_seq_cst);
            ASSERT_NE(gort_mframe_push(&fi), nullptr);  // yields
            pushes++;
            EXPECT_EQ(g->stackguard0.load(std::memory_order_seq_cst), g->mstack.lo + gort::kMStackGuard);
            EXPECT_FALSE(g->preempt.load(std::memory_order_seq_cst));
        }
        EXPECT_EQ(other.load(), 1) << "the pushes did not yield";
        EXPECT_LE(pushes, 2);
        for (int i = 0; i < pushes; i++) gort_mframe_pop();
        gort_mframe_pop();
    });
}

// The merge's race: a goroutine parks with a shrinkable managed stack while
// one host thread shrinks stacks in a loop and another readies it, many
// thousands of times. Nothing is lost (every park is answered), no status
// check fires, and every pointer survives each shrink.
TEST(MStack, ShrinkWhileReadiedConcurrently) {
    const int64_t iters = scaled(10000, 2000, 4000);
    static const uint8_t m[] = {bits4(P, S, 0, 0)};
    static const gort_stackmap locals[] = {{4, m}};
    static const gort_funcinfo base = {sizeof(gort_funcinfo), "base", 2, 0, 1, locals, nullptr};
    static const uint8_t bigm[] = {0};
    static const gort_stackmap biglocals[] = {{0, bigm}};
    static const gort_funcinfo big = {sizeof(gort_funcinfo), "big", 1024, 0, 1, biglocals, nullptr};
    gort_config c;
    gort_config_init(&c);
    c.maxprocs = 1;
    ASSERT_EQ(gort_init(&c), GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
    ASSERT_EQ(gort_funcinfo_register(&base), GORT_OK);
    ASSERT_EQ(gort_funcinfo_register(&big), GORT_OK);
    struct St {
        std::atomic<gort_g *> w{nullptr};
        std::atomic<int> parked{0};
        std::atomic<bool> done{false}, bad{false};
        std::atomic<int64_t> shrunk{0}, readies{0}, passes{0};
        int64_t iters;
    } st;
    st.iters = iters;
    ASSERT_EQ(gort_go(
                  [](void *p) {
                      auto *st = static_cast<St *>(p);
                      st->w = gort_self();
                      auto *l = static_cast<uintptr_t *>(gort_mframe_push(&base));
                      l[0] = reinterpret_cast<uintptr_t>(&l[1]);
                      l[1] = 0xabcdef;
                      void *root = &l[1];
                      gort_mstack_root_add(&root);
                      for (int64_t i = 0; i < st->iters; i++) {
                          // Grow to 16 KiB, then use little of it: shrinkable.
                          if (gort_mframe_push(&big) == nullptr) st->bad = true;
                          gort_mframe_pop();
                          std::size_t before = mstack_size();
                          gort_park([](gort_g *, void *p) -> int {
                              static_cast<St *>(p)->parked.store(1, std::memory_order_release);
                              return 1;
                          }, st, "mstack race");
                          if (mstack_size() < before) st->shrunk++;
                          l = static_cast<uintptr_t *>(gort_mframe_top());
                          if (l[0] != reinterpret_cast<uintptr_t>(&l[1]) || l[1] != 0xabcdef ||
                              root != &l[1] || *static_cast<uintptr_t *>(root) != 0xabcdef)
                              st->bad = true;
                      }
                      gort_mstack_root_remove(&root);
                      gort_mframe_pop();
                      st->done = true;
                  },
                  &st, 0, nullptr),
              GORT_OK);
    std::thread shrinker([&] {
        while (!st.done.load()) {
            if (gort_shrink_stacks() < 0) st.bad = true;
            st.passes++;
        }
    });
    std::thread readier([&] {
        unsigned r = 1;
        while (!st.done.load()) {
            if (st.parked.exchange(0, std::memory_order_acq_rel) == 1) {
                r = r * 1103515245u + 12345u;
                if (st.readies.load() % 16 == 0) {
                    // Every 16th time, let a whole shrink pass see it parked;
                    // otherwise race with the shrinker at a random moment.
                    int64_t p0 = st.passes.load();
                    while (st.passes.load() < p0 + 2) sched_yield();
                }
                for (unsigned k = (r >> 16) % 2000; k > 0; k--) asm volatile("" ::: "memory");
                int rc = gort_ready(st.w.load());
                if (rc != GORT_OK) st.bad = true;  // lost: it parked and we could not wake it
                st.readies++;
            } else {
                sched_yield();
            }
        }
    });
    auto t0 = std::chrono::steady_clock::now();
    while (!st.done.load() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(240)) sched_yield();
    bool finished = st.done.load();
    if (!finished) st.done = true;
    shrinker.join();
    readier.join();
    ASSERT_TRUE(finished) << "the goroutine was lost after " << st.readies.load() << " wakeups";
    EXPECT_FALSE(st.bad.load());
    EXPECT_EQ(st.readies.load(), iters);
    EXPECT_GE(st.shrunk.load(), iters / 16) << "too few shrinks while parked (" << st.passes.load() << " passes)";
    std::printf("shrunk while parked in %lld of %lld iterations\n", (long long)st.shrunk.load(), (long long)iters);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

// A goroutine blocked in a channel receive whose element is a slot of its
// managed stack (the seed's adjustsudogs case): a sender on another thread
// writes through the element while shrinkers run. The stack is not moved
// during such a wait (sudog.h), and every value lands in the right slot.
TEST(MStack, ChannelElementOnManagedStackSurvivesShrinkers) {
    const int64_t iters = scaled(400, 60, 150);
    static const uint8_t m[] = {bits4(P, S, 0, 0)};
    static const gort_stackmap locals[] = {{4, m}};
    static const gort_funcinfo base = {sizeof(gort_funcinfo), "chanbase", 2, 0, 1, locals, nullptr};
    static const uint8_t bigm[] = {0};
    static const gort_stackmap biglocals[] = {{0, bigm}};
    static const gort_funcinfo big = {sizeof(gort_funcinfo), "chanbig", 1024, 0, 1, biglocals, nullptr};
    gort_config c;
    gort_config_init(&c);
    c.maxprocs = 2;
    ASSERT_EQ(gort_init(&c), GORT_OK);
    ASSERT_EQ(gort_start(), GORT_OK);
    ASSERT_EQ(gort_funcinfo_register(&base), GORT_OK);
    ASSERT_EQ(gort_funcinfo_register(&big), GORT_OK);
    struct St {
        gort_chan *ch = nullptr;
        std::atomic<bool> done{false}, bad{false};
        std::atomic<int64_t> moved{0}, passes{0};
        int64_t iters;
    } st;
    st.iters = iters;
    ASSERT_EQ(gort_chan_new(sizeof(uintptr_t), 0, &st.ch), GORT_OK);
    ASSERT_EQ(gort_go(
                  [](void *p) {
                      auto *st = static_cast<St *>(p);
                      auto *l = static_cast<uintptr_t *>(gort_mframe_push(&base));
                      l[0] = reinterpret_cast<uintptr_t>(&l[1]);
                      for (int64_t i = 0; i < st->iters; i++) {
                          // Grow to 16 KiB, then use little of it: shrinkable.
                          if (gort_mframe_push(&big) == nullptr) st->bad = true;
                          gort_mframe_pop();
                          l = static_cast<uintptr_t *>(gort_mframe_top());
                          l[1] = 0;
                          std::size_t before = mstack_size();
                          int ok = 0;
                          if (gort_chan_recv(st->ch, &l[1], &ok) != GORT_OK || !ok) st->bad = true;
                          if (mstack_size() != before) st->moved++;
                          l = static_cast<uintptr_t *>(gort_mframe_top());
                          if (l[1] != uintptr_t(i) + 1 || l[0] != reinterpret_cast<uintptr_t>(&l[1])) st->bad = true;
                      }
                      gort_mframe_pop();
                      st->done = true;
                  },
                  &st, 0, nullptr),
              GORT_OK);
    std::thread shrinker([&] {
        while (!st.done.load()) {
            if (gort_shrink_stacks() < 0) st.bad = true;
            st.passes++;
        }
    });
    std::thread sender([&] {
        for (int64_t i = 0; i < iters && !st.bad.load(); i++) {
            uintptr_t v = uintptr_t(i) + 1;
            if (i % 16 == 0) {
                // Let whole shrink passes see the receiver blocked first.
                int64_t p0 = st.passes.load();
                while (st.passes.load() < p0 + 2 && !st.done.load()) sched_yield();
            }
            int rc;
            auto t0 = std::chrono::steady_clock::now();
            while ((rc = gort_chan_trysend(st.ch, &v)) == GORT_EAGAIN &&
                   std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
                sched_yield();
            if (rc != GORT_OK) {
                st.bad = true;
                break;
            }
        }
    });
    sender.join();
    auto t0 = std::chrono::steady_clock::now();
    while (!st.done.load() && !st.bad.load() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
        sched_yield();
    bool finished = st.done.load();
    st.done = true;
    shrinker.join();
    ASSERT_TRUE(finished) << "the receiver was lost";
    EXPECT_FALSE(st.bad.load()) << "a value landed in the wrong place";
    EXPECT_EQ(st.moved.load(), 0) << "the managed stack moved during a channel wait on one of its slots";
    ASSERT_EQ(gort_chan_free(st.ch), GORT_OK);
    ASSERT_EQ(gort_shutdown(), GORT_OK);
}

[[gnu::noinline]] void touch_stack(std::size_t n) {
    auto *buf = static_cast<volatile char *>(__builtin_alloca(n));
    for (std::size_t i = 0; i < n; i += 512) buf[i] = char(i);
}

// Execution stacks cannot move: gort_shrink_stacks gives the pages below a
// parked goroutine's saved sp back to the kernel.
TEST(MStack, ParkedExecutionStackIsTrimmed) {
    run_main(1, [] {
        struct A {
            gort_g *g;
            uintptr_t lo, sp;
            Sema s;
        } a{};
        go([&] {
            a.g = gort_self();
            gort::G *g = self_g();
            a.lo = g->stack.lo;
            touch_stack(40 * 1024);  // then come back up
            a.s.acquire();
        });
        while (a.g == nullptr || reinterpret_cast<gort::G *>(a.g)->atomicstatus.load(std::memory_order_seq_cst) != gort::Gwaiting)
            gort_gosched();
        uintptr_t from = a.lo + 2 * 4096, to = a.lo + 40 * 1024;
        auto resident_pages = [&] {
            std::vector<unsigned char> v((to - from) / 4096);
            mincore(reinterpret_cast<void *>(from), to - from, v.data());
            int n = 0;
            for (unsigned char c : v) n += c & 1;
            return n;
        };
        EXPECT_GT(resident_pages(), 4);
        EXPECT_GE(gort_shrink_stacks(), 1);
        EXPECT_EQ(resident_pages(), 0) << "pages below the saved sp were not given back";
        a.s.post();  // it resumes on its trimmed stack
        for (int i = 0; i < 10; i++) gort_gosched();
    });
}

// GORT_DEBUG=stackpoisoncopy=1: the old stack is filled with the seed's
// 0xfc after a copy; stackdebug=1 logs the copy.
TEST(MStack, PoisonCopyAndDebugLog) {
    static const uint8_t m[] = {bits4(P, S, 0, 0)};
    static const gort_stackmap locals[] = {{4, m}};
    static const gort_funcinfo fi = {sizeof(gort_funcinfo), "poisonfn", 2, 0, 1, locals, nullptr};
    static const uint8_t bigm[] = {0};
    static const gort_stackmap biglocals[] = {{0, bigm}};
    static const gort_funcinfo big = {sizeof(gort_funcinfo), "big", 512, 0, 1, biglocals, nullptr};
    init_main("stackpoisoncopy=1", [] {
        ASSERT_EQ(gort_funcinfo_register(&fi), GORT_OK);
        ASSERT_EQ(gort_funcinfo_register(&big), GORT_OK);
        auto *l = static_cast<uintptr_t *>(gort_mframe_push(&fi));
        l[0] = reinterpret_cast<uintptr_t>(&l[1]);
        l[1] = 99;
        gort::Stack old = self_g()->mstack;
        ASSERT_NE(gort_mframe_push(&big), nullptr);  // 2 KiB -> 8 KiB
        ASSERT_NE(self_g()->mstack.lo, old.lo);
        // The old stack went to this P's cache; only its top word (the
        // free-list link) was written since.
        const auto *b = reinterpret_cast<const uint8_t *>(old.lo);
        for (std::size_t i = 0; i < old.hi - old.lo - 8; i++) ASSERT_EQ(b[i], 0xfc) << "byte " << i;
        gort_mframe_pop();
        l = static_cast<uintptr_t *>(gort_mframe_top());
        EXPECT_EQ(l[0], reinterpret_cast<uintptr_t>(&l[1]));
        EXPECT_EQ(l[1], 99u);
        gort_mframe_pop();
    });
    // stackdebug=1 (the seed's stackDebug: stackfree also clobbers freed
    // stacks with zeros, hence a separate run).
    testing::internal::CaptureStderr();
    init_main("stackdebug=1", [] {
        ASSERT_EQ(gort_funcinfo_register(&fi), GORT_OK);  // registrations end at shutdown
        ASSERT_EQ(gort_funcinfo_register(&big), GORT_OK);
        ASSERT_NE(gort_mframe_push(&fi), nullptr);
        ASSERT_NE(gort_mframe_push(&big), nullptr);
        gort_mframe_pop();
        gort_mframe_pop();
    });
    std::string log = testing::internal::GetCapturedStderr();
    EXPECT_NE(log.find("copystack gp=0x"), std::string::npos) << log;
    EXPECT_NE(log.find("]/2048 -> ["), std::string::npos) << log;
    EXPECT_NE(log.find("stack grow done"), std::string::npos) << log;
}
