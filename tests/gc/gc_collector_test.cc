// tests/gc/gc_collector_test.cc - the example collector (examples/minigc) on
// the GC hooks, in its three modes (concurrent mark-sweep, stop-the-world
// mark-sweep with GC helpers, semispace copying):
//  - the roots are exactly the precise roots: managed-stack pointer slots
//    live at the frame's pc index, argument slots, registered roots; not a
//    dead slot, a native local, a channel buffer or a gort_go argument;
//    pointers into the managed stack are left to gort;
//  - a random object graph mutated between cycles: after every cycle the
//    live count is exactly the model's reachable set, every reachable object
//    is intact, and (moving) every one has a new address;
//  - churn: goroutines spawning children that park and exit, recursing
//    through managed frames (stacks grow and shrink), cutting chains so that
//    a sub-chain is held only by a stack slot across safe points while
//    cycles run (concurrently with them in the concurrent mode); at every
//    quiescent point the collector has freed exactly what the mutators
//    dropped;
//  - the stop-the-world mark is shared with GC helper Ms.
#include <gort/gort.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdarg>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "examples/minigc/minigc.h"
#include "tests/util/testutil.h"

using namespace gort_test;

namespace {

constexpr uint8_t D = GORT_BITS_DEAD, S = GORT_BITS_SCALAR, P = GORT_BITS_POINTER;
constexpr uint8_t bits4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return uint8_t(a | b << 2 | c << 4 | d << 6); }

const char *mode_name(int m) {
    return m == MINIGC_CONCURRENT ? "Concurrent" : m == MINIGC_STW ? "Stw" : "Moving";
}

minigc_stats stats(const minigc_heap *h) {
    minigc_stats st;
    minigc_stats_get(h, &st);
    return st;
}

void **top() { return static_cast<void **>(gort_mframe_top()); }

// Errors found inside goroutines: counted, the first few printed; the main
// goroutine asserts the count is 0.
std::atomic<int64_t> g_errors{0};
void error(const char *fmt, ...) {
    if (g_errors.fetch_add(1) < 20) {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        fprintf(stderr, "gc_collector_test: %s\n", buf);
    }
}

// ---- chains ----
// A chain is a linked list of objects, newest first. Node seq has payload
// pay(owner, chain id, seq); field 0 -> seq-1, field 1 -> itself (so
// dropped nodes are cyclic garbage), field 2 -> seq-2, field 3 NULL. It holds
// seq hi-1 (the head, in a root slot) down to lo.
struct Chain {
    uint32_t id = 0, lo = 0, hi = 0;
    uint32_t len() const { return hi - lo; }
};

uintptr_t pay(uint32_t owner, uint32_t chain, uint32_t seq) {
    return uintptr_t(owner) << 40 | uintptr_t(chain) << 24 | seq;
}

// None of the chain functions reaches a safe point: slot may be in the
// managed stack, and object pointers may be held in locals.
bool chain_push(minigc_heap *h, uint32_t owner, Chain &c, void **slot, int n) {
    for (int i = 0; i < n; i++) {
        auto *head = static_cast<minigc_obj *>(*slot);
        minigc_obj *o = minigc_alloc(h, pay(owner, c.id, c.hi));
        if (o == nullptr) {
            error("owner %u: heap full", owner);
            return false;
        }
        minigc_store(h, o, 0, head);
        minigc_store(h, o, 1, o);
        minigc_store(h, o, 2, head != nullptr ? minigc_field(head, 0) : nullptr);
        *slot = o;
        c.hi++;
    }
    return true;
}

// Keeps the newest `keep` (>= 2) nodes; returns how many were dropped.
uint32_t chain_truncate(minigc_heap *h, uint32_t owner, Chain &c, void **slot, uint32_t keep) {
    uint32_t len = c.len();
    if (len <= keep) return 0;
    auto *p = static_cast<minigc_obj *>(*slot);
    for (uint32_t k = 1; k < keep && p != nullptr; k++) {
        if (k == keep - 1) minigc_store(h, p, 2, nullptr);  // it pointed past the new tail
        p = minigc_field(p, 0);
    }
    if (p == nullptr) {
        error("owner %u chain %u: broken while truncating", owner, c.id);
        return 0;
    }
    minigc_store(h, p, 0, nullptr);
    minigc_store(h, p, 2, nullptr);
    c.lo = c.hi - keep;
    return len - keep;
}

bool chain_verify(const minigc_heap *h, uint32_t owner, const Chain &c, const void *head, const char *where) {
    auto *p = static_cast<const minigc_obj *>(head);
    for (uint32_t seq = c.hi; seq-- > c.lo;) {
        if (p == nullptr || !minigc_is_object(h, p)) {
            error("%s: owner %u chain %u seq %u [%u,%u): %p is not an object", where, owner, c.id, seq, c.lo, c.hi,
                  static_cast<const void *>(p));
            return false;
        }
        if (minigc_payload(p) != pay(owner, c.id, seq)) {
            error("%s: owner %u chain %u seq %u: payload %#lx", where, owner, c.id, seq,
                  (unsigned long)minigc_payload(p));
            return false;
        }
        minigc_obj *o0 = minigc_field(p, 0), *o2 = minigc_field(p, 2);
        bool ok = minigc_field(p, 1) == p && minigc_field(p, 3) == nullptr;
        ok = ok && (seq > c.lo ? o0 != nullptr && minigc_payload(o0) == pay(owner, c.id, seq - 1) : o0 == nullptr);
        ok = ok && (seq >= c.lo + 2 ? o2 != nullptr && minigc_payload(o2) == pay(owner, c.id, seq - 2) : o2 == nullptr);
        if (!ok) {
            error("%s: owner %u chain %u seq %u: bad links", where, owner, c.id, seq);
            return false;
        }
        p = o0;
    }
    if (p != nullptr) {
        error("%s: owner %u chain %u: longer than [%u,%u)", where, owner, c.id, c.lo, c.hi);
        return false;
    }
    return true;
}

void chain_addrs(const Chain &c, const void *head, std::vector<uintptr_t> &out) {
    auto *p = static_cast<const minigc_obj *>(head);
    for (uint32_t i = 0; i < c.len() && p != nullptr; i++, p = minigc_field(p, 0)) out.push_back(uintptr_t(p));
}

struct Heap {
    minigc_heap *h;
    Heap(int mode, size_t nslots, int helpers = 4) : h(minigc_new(mode, nslots, helpers)) {
        if (h == nullptr || minigc_attach(h) != GORT_OK) {
            fprintf(stderr, "gc_collector_test: cannot make a heap\n");
            abort();
        }
    }
    ~Heap() {
        minigc_detach(h);
        minigc_free(h);
    }
};

class GcCollector : public ::testing::TestWithParam<int> {
protected:
    void SetUp() override { g_errors = 0; }
};

// ---- roots are exactly the precise roots ----

// Frame: w0 chain head; w1 pointer at pc index 1, dead at 0; w2 scalar; w3
// a pointer into this frame (not an object: the collector leaves it, gort
// adjusts it). One argument word, a pointer.
const uint8_t rf_map0[] = {bits4(P, D, S, P)};
const uint8_t rf_map1[] = {bits4(P, P, S, P)};
const uint8_t rf_args[] = {bits4(P, 0, 0, 0)};
const gort_stackmap rf_locals[] = {{8, rf_map0}, {8, rf_map1}};
const gort_stackmap rf_argmaps[] = {{2, rf_args}, {2, rf_args}};
const gort_funcinfo roots_fi = {sizeof(gort_funcinfo), "gctest.roots", 4, 1, 2, rf_locals, rf_argmaps};

struct GArg {
    minigc_obj *o;  // in the goroutine's argument copy only
    Sema *wake;
    Join *join;
    std::atomic<int> *freed;
    const minigc_heap *h;
};

TEST_P(GcCollector, RootsAreExactlyThePreciseRoots) {
    const int mode = GetParam();
    Watchdog wd("RootsAreExactlyThePreciseRoots", 120);
    run_main(2, [&] {
        Heap heap(mode, 4096);
        minigc_heap *h = heap.h;
        ASSERT_EQ(gort_funcinfo_register(&roots_fi), GORT_OK);
        void **f = static_cast<void **>(gort_mframe_push(&roots_fi));
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(gort_mframe_setpc(1), GORT_OK);
        f[2] = reinterpret_cast<void *>(uintptr_t(77));
        f[3] = &f[2];
        Chain fc{1, 0, 0}, rc{2, 0, 0};
        void *root = nullptr;  // a registered root
        ASSERT_EQ(gort_mstack_root_add(&root), GORT_OK);
        ASSERT_TRUE(chain_push(h, 0, fc, &f[0], 100));
        ASSERT_TRUE(chain_push(h, 0, rc, &root, 50));
        minigc_obj *x = minigc_alloc(h, 0xaaa);  // in w1, live at pc 1
        f[1] = x;
        minigc_obj *a = minigc_alloc(h, 0xa1a);  // in the argument word
        static_cast<void **>(gort_mframe_args(f))[0] = a;
        // Not roots: a native local, a channel buffer, a gort_go argument.
        uintptr_t native = uintptr_t(minigc_alloc(h, 0xbbb));
        gort_chan *ch;
        ASSERT_EQ(gort_chan_new(sizeof(void *), 1, &ch), GORT_OK);
        minigc_obj *inchan = minigc_alloc(h, 0xccc);
        ASSERT_EQ(gort_chan_send(ch, &inchan), GORT_OK);
        uintptr_t inchan_addr = uintptr_t(inchan);
        inchan = nullptr;
        Sema wake;
        Join join(1);
        std::atomic<int> garg_freed{-1};
        GArg ga{minigc_alloc(h, 0xddd), &wake, &join, &garg_freed, h};
        ASSERT_EQ(gort_go(
                      [](void *p) {
                          auto *a = static_cast<GArg *>(p);
                          a->wake->acquire();
                          *a->freed = !minigc_is_object(a->h, a->o) && minigc_payload(a->o) == MINIGC_POISON;
                          a->join->done();
                      },
                      &ga, sizeof ga, nullptr),
                  GORT_OK);
        ga.o = nullptr;
        // Unreachable: loose objects and a ring.
        for (int i = 0; i < 200; i++) ASSERT_NE(minigc_alloc(h, 0xeee), nullptr);
        minigc_obj *first = minigc_alloc(h, 0xf00), *prev = first;
        for (int i = 1; i < 30; i++) {
            minigc_obj *o = minigc_alloc(h, 0xf00 + uintptr_t(i));
            minigc_store(h, prev, 0, o);
            prev = o;
        }
        minigc_store(h, prev, 0, first);
        first = prev = nullptr;
        x = a = nullptr;

        uintptr_t head_before = uintptr_t(top()[0]), root_before = uintptr_t(root);
        minigc_stats st0 = stats(h);
        ASSERT_EQ(st0.allocated, 100u + 50 + 1 + 1 + 1 + 1 + 1 + 200 + 30);
        ASSERT_EQ(minigc_collect(h), GORT_OK);
        minigc_stats st1 = stats(h);
        f = top();
        EXPECT_EQ(st1.live, 100u + 50 + 2) << "the chains, w1 and the argument word";
        EXPECT_EQ(st1.freed, 200u + 30 + 3) << "loose objects, the ring, native, channel, gort_go argument";
        EXPECT_EQ(st1.bad_pointers, 0u);
        EXPECT_TRUE(chain_verify(h, 0, fc, f[0], "frame chain"));
        EXPECT_TRUE(chain_verify(h, 0, rc, root, "registered root chain"));
        ASSERT_TRUE(minigc_is_object(h, f[1]));
        EXPECT_EQ(minigc_payload(static_cast<minigc_obj *>(f[1])), 0xaaau);
        void *arg0 = static_cast<void **>(gort_mframe_args(f))[0];
        ASSERT_TRUE(minigc_is_object(h, arg0));
        EXPECT_EQ(minigc_payload(static_cast<minigc_obj *>(arg0)), 0xa1au);
        EXPECT_EQ(f[3], &f[2]) << "a pointer into the managed stack is not the collector's";
        EXPECT_EQ(uintptr_t(f[2]), 77u);
        EXPECT_FALSE(minigc_is_object(h, reinterpret_cast<void *>(native)));
        EXPECT_EQ(minigc_payload(reinterpret_cast<minigc_obj *>(native)), MINIGC_POISON);
        void *got = nullptr;
        ASSERT_EQ(gort_chan_tryrecv(ch, &got, nullptr), GORT_OK);
        EXPECT_EQ(uintptr_t(got), inchan_addr);
        EXPECT_FALSE(minigc_is_object(h, got)) << "a channel buffer is not a root";
        EXPECT_EQ(minigc_payload(static_cast<minigc_obj *>(got)), MINIGC_POISON);
        wake.post();
        join.wait();
        EXPECT_EQ(garg_freed.load(), 1) << "a gort_go argument is not a root";
        if (mode == MINIGC_MOVING) {
            EXPECT_EQ(st1.moved, 152u);
            EXPECT_NE(uintptr_t(f[0]), head_before) << "the frame slot was not rewritten";
            EXPECT_NE(uintptr_t(root), root_before) << "the registered root was not rewritten";
        } else {
            EXPECT_EQ(uintptr_t(f[0]), head_before);
            EXPECT_EQ(uintptr_t(root), root_before);
        }

        // w1 dead at pc index 0: its object goes.
        void *xold = f[1];
        ASSERT_EQ(gort_mframe_setpc(0), GORT_OK);
        ASSERT_EQ(minigc_collect(h), GORT_OK);
        f = top();
        EXPECT_EQ(stats(h).live, 150u + 1) << "a slot dead at the frame's pc index is not a root";
        EXPECT_FALSE(minigc_is_object(h, xold));
        EXPECT_EQ(f[1], xold) << "a dead slot is left alone";
        EXPECT_TRUE(chain_verify(h, 0, fc, f[0], "frame chain"));
        EXPECT_TRUE(chain_verify(h, 0, rc, root, "registered root chain"));

        // Dropping the registered root's chain, then the frame.
        root = nullptr;
        ASSERT_EQ(minigc_collect(h), GORT_OK);
        EXPECT_EQ(stats(h).live, 100u + 1);
        EXPECT_TRUE(chain_verify(h, 0, fc, top()[0], "frame chain"));
        ASSERT_EQ(gort_mframe_pop(), GORT_OK);
        ASSERT_EQ(gort_mstack_root_remove(&root), GORT_OK);
        ASSERT_EQ(minigc_collect(h), GORT_OK);
        minigc_stats st = stats(h);
        EXPECT_EQ(st.live, 0u);
        EXPECT_EQ(st.freed, st.allocated);
        EXPECT_EQ(st.cycles, 4u);
        EXPECT_EQ(st.bad_pointers, 0u);
        EXPECT_EQ(gort_chan_free(ch), GORT_OK);
        EXPECT_EQ(g_errors.load(), 0);
    });
}

// ---- a random graph, exact reachability after every cycle ----

const uint8_t graph_map[] = {bits4(P, P, P, P), bits4(S, P, 0, 0)};
const gort_stackmap graph_locals[] = {{12, graph_map}};
const gort_funcinfo graph_fi = {sizeof(gort_funcinfo), "gctest.graph", 6, 0, 1, graph_locals, nullptr};

TEST_P(GcCollector, RandomGraphExactReachability) {
    const int mode = GetParam();
    const int64_t n = scaled(20000, 6000, 20000);
    const int cycles = int(scaled(60, 30, 60));
    Watchdog wd("RandomGraphExactReachability", 300);
    run_main(2, [&] {
        Heap heap(mode, size_t(4 * n));
        minigc_heap *h = heap.h;
        std::mt19937_64 rng(12345 + mode);
        ASSERT_EQ(gort_funcinfo_register(&graph_fi), GORT_OK);
        ASSERT_NE(gort_mframe_push(&graph_fi), nullptr);
        void *regroots[2] = {nullptr, nullptr};
        for (auto &r : regroots) ASSERT_EQ(gort_mstack_root_add(&r), GORT_OK);
        constexpr int kRoots = 6;
        auto rootslot = [&](int r) -> void ** { return r < 4 ? &top()[r] : &regroots[r - 4]; };
        std::vector<std::array<int64_t, 4>> edges;  // the model: edges[id][k], -1 none
        std::array<int64_t, kRoots> rootid;
        rootid.fill(-1);
        std::vector<minigc_obj *> addr;  // valid until the next safe point

        auto newnode = [&]() -> int64_t {
            minigc_obj *o = minigc_alloc(h, uintptr_t(edges.size()));
            if (o == nullptr) return -1;
            edges.push_back({-1, -1, -1, -1});
            addr.push_back(o);
            return int64_t(edges.size()) - 1;
        };
        auto link = [&](int64_t src, int k, int64_t dst) {
            minigc_store(h, addr[size_t(src)], k, dst < 0 ? nullptr : addr[size_t(dst)]);
            edges[size_t(src)][size_t(k)] = dst;
        };
        auto setroot = [&](int r, int64_t id) {
            *rootslot(r) = id < 0 ? nullptr : addr[size_t(id)];
            rootid[size_t(r)] = id;
        };
        // Initial graph: a backbone through field 0 plus random fields.
        for (int64_t i = 0; i < n; i++) {
            ASSERT_EQ(newnode(), i);
            if (i > 0) link(i, 0, i - 1);
            for (int k = 1; k < 4; k++)
                if (rng() % 2) link(i, k, int64_t(rng() % uint64_t(i + 1)));
        }
        for (int r = 0; r < kRoots; r++) setroot(r, r == 0 ? n - 1 : int64_t(rng() % uint64_t(n)));

        std::vector<int64_t> live;
        std::vector<uintptr_t> before;  // moving: addresses before the cycle
        for (int c = 0; c < cycles; c++) {
            // The model's reachable set.
            std::vector<char> reach(edges.size(), 0);
            std::vector<int64_t> work;
            for (int64_t id : rootid)
                if (id >= 0 && !reach[size_t(id)]) reach[size_t(id)] = 1, work.push_back(id);
            while (!work.empty()) {
                int64_t id = work.back();
                work.pop_back();
                for (int64_t e : edges[size_t(id)])
                    if (e >= 0 && !reach[size_t(e)]) reach[size_t(e)] = 1, work.push_back(e);
            }
            uint64_t nreach = uint64_t(std::count(reach.begin(), reach.end(), 1));
            before.assign(edges.size(), 0);
            for (size_t id = 0; id < edges.size(); id++)
                if (reach[id]) before[id] = uintptr_t(addr[id]);

            minigc_stats st0 = stats(h);
            ASSERT_EQ(minigc_collect(h), GORT_OK);
            minigc_stats st1 = stats(h);
            ASSERT_EQ(st1.live, nreach) << "cycle " << c << ": live objects != reachable in the model";
            ASSERT_EQ(st1.freed - st0.freed, st0.live - nreach) << "cycle " << c;
            if (mode == MINIGC_MOVING) ASSERT_EQ(st1.moved - st0.moved, nreach) << "cycle " << c;

            // The heap from the roots must be the model, node for node.
            std::fill(addr.begin(), addr.end(), nullptr);
            uint64_t visited = 0;
            std::vector<std::pair<minigc_obj *, int64_t>> stack;
            for (int r = 0; r < kRoots; r++) {
                auto *p = static_cast<minigc_obj *>(*rootslot(r));
                ASSERT_EQ(p == nullptr, rootid[size_t(r)] < 0) << "cycle " << c << " root " << r;
                if (p != nullptr) stack.push_back({p, rootid[size_t(r)]});
            }
            while (!stack.empty()) {
                auto [p, id] = stack.back();
                stack.pop_back();
                if (addr[size_t(id)] != nullptr) {
                    ASSERT_EQ(addr[size_t(id)], p) << "cycle " << c << ": node " << id << " at two addresses";
                    continue;
                }
                ASSERT_TRUE(minigc_is_object(h, p)) << "cycle " << c << ": node " << id << " freed";
                ASSERT_EQ(minigc_payload(p), uintptr_t(id)) << "cycle " << c;
                if (mode == MINIGC_MOVING)
                    ASSERT_NE(uintptr_t(p), before[size_t(id)]) << "cycle " << c << ": node " << id << " not moved";
                else
                    ASSERT_EQ(uintptr_t(p), before[size_t(id)]) << "cycle " << c << ": node " << id << " moved";
                addr[size_t(id)] = p;
                visited++;
                for (int k = 0; k < 4; k++) {
                    minigc_obj *q = minigc_field(p, k);
                    int64_t e = edges[size_t(id)][size_t(k)];
                    ASSERT_EQ(q == nullptr, e < 0) << "cycle " << c << ": node " << id << " field " << k;
                    if (q != nullptr) stack.push_back({q, e});
                }
            }
            ASSERT_EQ(visited, nreach) << "cycle " << c;

            // Mutate: drop and add edges, add nodes (some garbage at once),
            // move roots.
            live.clear();
            for (size_t id = 0; id < edges.size(); id++)
                if (addr[id] != nullptr) live.push_back(int64_t(id));
            ASSERT_FALSE(live.empty());
            auto any = [&] { return live[rng() % live.size()]; };
            for (size_t i = 0; i < live.size() / 20; i++) link(any(), int(rng() % 4), -1);
            for (size_t i = 0; i < live.size() / 20; i++) link(any(), int(rng() % 4), any());
            for (int64_t i = 0; i < n / 50; i++) {
                int64_t id = newnode();
                ASSERT_GE(id, 0) << "heap full";
                link(id, 0, any());
                link(id, 1, any());
                if (rng() % 10 < 7) link(any(), int(rng() % 4), id);
            }
            for (int r = 0; r < kRoots; r++)
                if (rng() % 4 == 0) setroot(r, rng() % 5 == 0 ? -1 : any());
            // Keep the graph from dying out: a fresh node under root 0.
            int64_t fresh = newnode();
            ASSERT_GE(fresh, 0);
            link(fresh, 0, rootid[0]);
            setroot(0, fresh);
        }
        EXPECT_EQ(stats(h).bad_pointers, 0u);
        for (auto &r : regroots) ASSERT_EQ(gort_mstack_root_remove(&r), GORT_OK);
        ASSERT_EQ(gort_mframe_pop(), GORT_OK);
        ASSERT_EQ(minigc_collect(h), GORT_OK);
        minigc_stats st = stats(h);
        EXPECT_EQ(st.live, 0u);
        EXPECT_EQ(st.freed, st.allocated);
        if (mode == MINIGC_STW) EXPECT_GE(st.helper_runs, st.cycles);
    });
}

// ---- churn ----

// The worker's frame: w0..w2 chain slots, w3 scratch, w4 -> w5 (into the
// managed stack), w5 scalar magic, w6 pointer always NULL, w7 scalar round.
const uint8_t worker_map[] = {bits4(P, P, P, P), bits4(P, S, P, S)};
const gort_stackmap worker_locals[] = {{16, worker_map}};
const gort_funcinfo worker_fi = {sizeof(gort_funcinfo), "gctest.worker", 8, 0, 1, worker_locals, nullptr};
// Nest frames: w0 an object, w1 scalar depth; one argument: the caller's
// object. Two sizes, so that recursion grows the managed stack quickly. A
// locals map describes the words just below the frame header, so the big
// frame's map spans all 300 words to reach w0 and w1.
const uint8_t nest_map[] = {bits4(P, S, D, D)};
const uint8_t nest_big_map[75] = {bits4(P, S, D, D)};
const uint8_t nest_args[] = {bits4(P, 0, 0, 0)};
const gort_stackmap nest_locals[] = {{4, nest_map}};
const gort_stackmap nest_big_locals[] = {{600, nest_big_map}};
const gort_stackmap nest_argmaps[] = {{2, nest_args}};
const gort_funcinfo nest_small = {sizeof(gort_funcinfo), "gctest.nest_small", 2, 1, 1, nest_locals, nest_argmaps};
const gort_funcinfo nest_big = {sizeof(gort_funcinfo), "gctest.nest_big", 300, 1, 1, nest_big_locals, nest_argmaps};
// A child's frame: w0 chain head, w1 scalar.
const uint8_t child_map[] = {bits4(P, S, 0, 0)};
const gort_stackmap child_locals[] = {{4, child_map}};
const gort_funcinfo child_fi = {sizeof(gort_funcinfo), "gctest.child", 2, 0, 1, child_locals, nullptr};

constexpr uint32_t kNestChain = 0xffff, kChildChain = 0xfffe;
constexpr uintptr_t kMagic = 0x5eed;
constexpr int kSlots = 5;  // w0..w2 and two registered roots

struct ChurnShared {
    minigc_heap *h;
    int mode;
    int rounds;
    Join *epoch = nullptr;
    bool quit = false;
    std::atomic<int64_t> addr_checks{0};
    std::atomic<int64_t> collects{0};
};

struct Worker {
    uint32_t id;
    ChurnShared *sh;
    bool collector;
    Sema start;  // posted by the main goroutine for each epoch
    std::mt19937_64 rng;
    Chain chains[kSlots];
    uint32_t next_chain = 1;
    void *roots[2] = {nullptr, nullptr};  // registered: chain slots 3 and 4
    void *scratch2 = nullptr;             // registered: the other scratch
    uint64_t dropped = 0, held = 0;
    bool broken = false;
    std::vector<uintptr_t> addrs;  // moving: every held object at the epoch's end
    uint64_t addrs_cycles = 0;     // cycles completed when addrs was recorded

    void **slot(int s) { return s < 3 ? &top()[s] : &roots[s - 3]; }
    minigc_heap *h() { return sh->h; }

    bool verify_all(const char *where) {
        void **f = top();
        bool ok = true;
        if (f[4] != &f[5] || uintptr_t(f[5]) != kMagic || f[6] != nullptr || f[3] != nullptr || scratch2 != nullptr) {
            error("worker %u %s: frame words %p %p %p %p", id, where, f[3], f[4], f[5], f[6]);
            ok = false;
        }
        for (int s = 0; s < kSlots && ok; s++) ok = chain_verify(h(), id, chains[s], *slot(s), where);
        if (!ok) broken = true;
        return ok;
    }

    // A safe point at which a collection may run; collectors sometimes run
    // one themselves.
    void safepoint() {
        if (collector && rng() % 4 == 0) {
            collect();
        } else if (rng() % 2) {
            gort_gosched();
        } else {
            gort_safepoint();
        }
    }

    void collect() {
        int rc = minigc_collect(h());
        if (rc != GORT_OK) error("worker %u: minigc_collect: %d", id, rc);
        sh->collects.fetch_add(1);
    }

    void op_push() {
        int s = int(rng() % kSlots);
        Chain &c = chains[s];
        if (c.len() == 0) c = Chain{next_chain++, 0, 0};
        if (!chain_push(h(), id, c, slot(s), 1 + int(rng() % 8))) broken = true;
        if (c.len() > 48) dropped += chain_truncate(h(), id, c, slot(s), 16);
    }

    void op_truncate() {
        int s = int(rng() % kSlots);
        Chain &c = chains[s];
        if (c.len() >= 3) dropped += chain_truncate(h(), id, c, slot(s), 2 + uint32_t(rng() % (c.len() - 2)));
    }

    void op_drop() {
        int s = int(rng() % kSlots);
        dropped += chains[s].len();
        chains[s] = Chain{};
        *slot(s) = nullptr;
    }

    void op_swap() {
        int s = int(rng() % kSlots), t = int(rng() % kSlots);
        std::swap(*slot(s), *slot(t));
        std::swap(chains[s], chains[t]);
    }

    // Cuts a chain below its head: the rest of it is held only by a scratch
    // slot (of the frame or a registered root) across safe points, the edge
    // deleted through the barrier; then puts it back.
    void op_cut() {
        int s = int(rng() % kSlots);
        if (chains[s].len() < 2) return;
        bool inframe = rng() % 2;
        auto scratch = [&]() -> void ** { return inframe ? &top()[3] : &scratch2; };
        auto *x = static_cast<minigc_obj *>(*slot(s));
        *scratch() = minigc_field(x, 0);
        minigc_store(h(), x, 0, nullptr);
        minigc_store(h(), x, 2, nullptr);
        x = nullptr;
        for (int i = 1 + int(rng() % 3); i > 0; i--) safepoint();
        x = static_cast<minigc_obj *>(*slot(s));  // re-read: it may have moved
        auto *y = static_cast<minigc_obj *>(*scratch());
        if (x == nullptr || y == nullptr || !minigc_is_object(h(), y)) {
            error("worker %u: cut chain lost", id);
            broken = true;
            return;
        }
        minigc_store(h(), x, 0, y);
        minigc_store(h(), x, 2, minigc_field(y, 0));
        *scratch() = nullptr;
    }

    // Recursion through managed frames, each holding a new object linked
    // to the caller's (which is also in this frame's argument word).
    void nest(uint32_t d, uint32_t maxd) {
        void *parent = d > 0 ? top()[0] : nullptr;
        gort_mstack_root_add(&parent);  // across the push: a safe point
        auto **f = static_cast<void **>(gort_mframe_push(d % 2 ? &nest_big : &nest_small));
        gort_mstack_root_remove(&parent);
        if (f == nullptr) {
            error("worker %u: mframe_push: %d", id, gort_last_error());
            broken = true;
            return;
        }
        minigc_obj *o = minigc_alloc(h(), pay(id, kNestChain, d));
        if (o == nullptr) {
            error("worker %u: heap full", id);
            broken = true;
        } else {
            minigc_store(h(), o, 0, static_cast<minigc_obj *>(parent));
        }
        f[0] = o;
        f[1] = reinterpret_cast<void *>(uintptr_t(d));
        static_cast<void **>(gort_mframe_args(f))[0] = parent;
        o = nullptr;
        parent = nullptr;
        if (d + 1 < maxd) nest(d + 1, maxd);
        else safepoint();
        f = top();
        auto *arg = static_cast<minigc_obj *>(static_cast<void **>(gort_mframe_args(f))[0]);
        auto *mine = static_cast<minigc_obj *>(f[0]);
        if (uintptr_t(f[1]) != d || mine == nullptr || !minigc_is_object(h(), mine) ||
            minigc_payload(mine) != pay(id, kNestChain, d) || minigc_field(mine, 0) != arg ||
            (d > 0 ? arg == nullptr || minigc_payload(arg) != pay(id, kNestChain, d - 1) : arg != nullptr)) {
            error("worker %u: nest frame %u damaged", id, d);
            broken = true;
        }
        gort_mframe_pop();
        if (mine != nullptr) dropped++;
    }

    // A child goroutine builds its own chain, parks until readied, checks
    // it, and exits.
    struct ChildCtx {
        Worker *w;
        uint32_t k;
        Sema wake;
        Join join{1};
    };
    static void child(ChildCtx *c) {
        Worker *w = c->w;
        minigc_heap *h = w->h();
        auto **f = static_cast<void **>(gort_mframe_push(&child_fi));
        Chain ch{kChildChain, 0, 0};
        if (f == nullptr || !chain_push(h, w->id, ch, &f[0], int(c->k))) {
            error("worker %u: child setup", w->id);
        } else {
            f[1] = reinterpret_cast<void *>(uintptr_t(c->k));
            c->wake.acquire();
            f = top();
            if (uintptr_t(f[1]) != c->k) error("worker %u: child frame", w->id);
            chain_verify(h, w->id, ch, f[0], "child");
            gort_mframe_pop();
        }
        c->join.done();  // c is gone after this
    }
    void op_child() {
        ChildCtx c{this, 1 + uint32_t(rng() % 16)};
        go([&c] { child(&c); });
        safepoint();
        c.wake.post();
        c.join.wait();
        dropped += c.k;
    }

    void epoch_start() {
        if (sh->mode == MINIGC_MOVING && !addrs.empty() && !broken) {
            // No safe point from here to the comparison. After an odd
            // number of cycles since addrs was recorded, every object is in
            // the other semispace: at a new address. (After an even number
            // it may be back at its old one.)
            minigc_stats st;
            minigc_stats_get(h(), &st);
            if ((st.cycles - addrs_cycles) % 2 == 1) {
                std::vector<uintptr_t> now;
                for (int s = 0; s < kSlots; s++) chain_addrs(chains[s], *slot(s), now);
                bool ok = now.size() == addrs.size();
                for (size_t i = 0; ok && i < now.size(); i++)
                    ok = now[i] != addrs[i] && !minigc_is_object(h(), reinterpret_cast<void *>(addrs[i]));
                if (!ok) error("worker %u: %zu objects, %zu before: not all moved by the copying cycle", id, now.size(), addrs.size());
                sh->addr_checks.fetch_add(1);
            }
        }
        verify_all("epoch start");
    }

    void epoch_end() {
        held = 0;
        addrs.clear();
        minigc_stats st;
        minigc_stats_get(h(), &st);
        addrs_cycles = st.cycles;
        for (int s = 0; s < kSlots; s++) {
            held += chains[s].len();
            chain_addrs(chains[s], *slot(s), addrs);
        }
    }

    void run() {
        gort_mstack_root_add(&roots[0]);
        gort_mstack_root_add(&roots[1]);
        gort_mstack_root_add(&scratch2);
        auto **f = static_cast<void **>(gort_mframe_push(&worker_fi));
        f[4] = &f[5];
        f[5] = reinterpret_cast<void *>(kMagic);
        for (;;) {
            start.acquire();
            if (sh->quit) break;
            epoch_start();
            for (int r = 0; r < sh->rounds && !broken; r++) {
                top()[7] = reinterpret_cast<void *>(uintptr_t(r));
                if (collector && r == sh->rounds / 2) collect();
                for (int k = 0; k < 3 && !broken; k++) {
                    switch (rng() % 8) {
                    case 0: case 1: op_push(); break;
                    case 2: op_truncate(); break;
                    case 3: op_drop(); break;
                    case 4: op_swap(); break;
                    case 5: op_cut(); break;
                    case 6: nest(0, 1 + uint32_t(rng() % 24)); break;
                    default: op_child(); break;
                    }
                    if (!broken) verify_all("after op");
                    gort_safepoint();
                }
            }
            epoch_end();
            sh->epoch->done();
        }
        for (auto &c : chains) dropped += c.len();
        gort_mframe_pop();
        gort_mstack_root_remove(&roots[0]);
        gort_mstack_root_remove(&roots[1]);
        gort_mstack_root_remove(&scratch2);
        sh->epoch->done();
    }
};

TEST_P(GcCollector, ChurnKeepsEveryRootedObject) {
    const int mode = GetParam();
    const int nworkers = int(scaled(64, 32, 64));
    const int epochs = int(scaled(30, 12, 30));
    const int rounds = int(scaled(16, 8, 16));
    Watchdog wd("ChurnKeepsEveryRootedObject", 400);
    run_main(4, [&] {
        // Per worker: at most 5 chains of 48 live, and per epoch (garbage
        // may float until the quiescent cycle) 3 ops a round of at most 24
        // new objects each.
        Heap heap(mode, size_t(nworkers) * (size_t(rounds) * 3 * 24 + 600));
        for (auto *fi : {&worker_fi, &nest_small, &nest_big, &child_fi}) ASSERT_EQ(gort_funcinfo_register(fi), GORT_OK);
        ChurnShared sh;
        sh.h = heap.h;
        sh.mode = mode;
        sh.rounds = rounds;
        std::vector<std::unique_ptr<Worker>> ws;
        const int ncollectors = std::max(2, nworkers / 16);
        for (int i = 0; i < nworkers; i++) {
            auto w = std::make_unique<Worker>();
            w->id = uint32_t(i);
            w->sh = &sh;
            w->collector = i < ncollectors;
            w->rng.seed(uint64_t(i) * 7919 + uint64_t(mode));
            Worker *wp = w.get();
            go([wp] { wp->run(); });
            ws.push_back(std::move(w));
        }
        uint64_t quiescent = 0;
        for (int e = 0; e < epochs; e++) {
            Join j(nworkers);
            sh.epoch = &j;
            for (auto &w : ws) w->start.post();
            j.wait();
            // Quiescent: every worker is parked (or about to) with its
            // chains in its roots, every child has exited.
            minigc_stats st0 = stats(heap.h);
            ASSERT_EQ(minigc_collect(heap.h), GORT_OK);
            quiescent++;
            minigc_stats st1 = stats(heap.h);
            uint64_t held = 0, dropped = 0;
            for (auto &w : ws) held += w->held, dropped += w->dropped;
            ASSERT_EQ(g_errors.load(), 0) << "epoch " << e << " (see the messages above)";
            ASSERT_EQ(st1.allocated, held + dropped) << "epoch " << e << ": the test's own accounting";
            ASSERT_EQ(st1.live, held) << "epoch " << e << ": live objects != objects the mutators hold";
            ASSERT_EQ(st1.freed, dropped) << "epoch " << e << ": freed != dropped";
            if (mode == MINIGC_MOVING) ASSERT_EQ(st1.moved - st0.moved, held) << "epoch " << e;
            ASSERT_EQ(st1.bad_pointers, 0u) << "epoch " << e;
        }
        Join j(nworkers);
        sh.epoch = &j;
        sh.quit = true;
        for (auto &w : ws) w->start.post();
        j.wait();
        ASSERT_EQ(minigc_collect(heap.h), GORT_OK);
        minigc_stats st = stats(heap.h);
        EXPECT_EQ(g_errors.load(), 0);
        EXPECT_EQ(st.live, 0u);
        EXPECT_EQ(st.freed, st.allocated);
        EXPECT_EQ(st.bad_pointers, 0u);
        EXPECT_EQ(st.cycles, quiescent + 1 + uint64_t(sh.collects.load()));
        EXPECT_GE(st.cycles, uint64_t(epochs) * 3) << "too few cycles ran among the mutators";
        fprintf(stderr, "%s: %d workers, %llu cycles (%lld by mutators), %llu allocated, %llu moved, "
                        "%llu allocated black, %llu barrier shades, %llu helper runs, %lld address checks\n",
                mode_name(mode), nworkers, (unsigned long long)st.cycles, (long long)sh.collects.load(),
                (unsigned long long)st.allocated, (unsigned long long)st.moved,
                (unsigned long long)st.alloc_black, (unsigned long long)st.barrier_shades,
                (unsigned long long)st.helper_runs, (long long)sh.addr_checks.load());
        if (mode == MINIGC_CONCURRENT) {
            EXPECT_GT(st.alloc_black, 0u) << "no object was allocated while a cycle ran";
            EXPECT_GT(st.barrier_shades, 0u) << "the write barrier never shaded while a cycle ran";
        }
        if (mode == MINIGC_MOVING) EXPECT_GT(sh.addr_checks.load(), 0) << "no worker saw its objects moved";
        if (mode == MINIGC_STW) EXPECT_GE(st.helper_runs, st.cycles);
    });
}

INSTANTIATE_TEST_SUITE_P(Modes, GcCollector, ::testing::Values(MINIGC_CONCURRENT, MINIGC_STW, MINIGC_MOVING),
                         [](const ::testing::TestParamInfo<int> &i) { return std::string(mode_name(i.param)); });

// ---- the stop-the-world mark on GC helper Ms ----

// A wide tree (fan-out 4) of objects from one frame slot: the parallel
// drain must mark all of it, and with several Ps, CPUs and idle Ms it runs
// on more than one M.
const uint8_t tree_map[] = {bits4(P, 0, 0, 0)};
const gort_stackmap tree_locals[] = {{2, tree_map}};
const gort_funcinfo tree_fi = {sizeof(gort_funcinfo), "gctest.tree", 1, 0, 1, tree_locals, nullptr};

TEST(GcCollectorStw, GcHelpersShareTheMark) {
    const int64_t n = scaled(200000, 50000, 200000);
    Watchdog wd("GcHelpersShareTheMark", 120);
    run_main(4, [&] {
        Heap heap(MINIGC_STW, size_t(n), 4);
        minigc_heap *h = heap.h;
        ASSERT_EQ(gort_funcinfo_register(&tree_fi), GORT_OK);
        ASSERT_NE(gort_mframe_push(&tree_fi), nullptr);
        std::vector<minigc_obj *> nodes;
        for (int64_t i = 0; i < n; i++) {
            minigc_obj *o = minigc_alloc(h, uintptr_t(i));
            ASSERT_NE(o, nullptr);
            if (i > 0) minigc_store(h, nodes[size_t((i - 1) / 4)], int((i - 1) % 4), o);
            nodes.push_back(o);
        }
        top()[0] = nodes[0];
        nodes.clear();
        // Put Ms to work on every P once, so that idle Ms exist.
        Join j(4);
        for (int i = 0; i < 4; i++)
            go([&j] {
                for (int k = 0; k < 1000; k++) gort_safepoint();
                j.done();
            });
        j.wait();
        uint64_t maxruns = 0;
        const int cycles = 20;
        for (int c = 0; c < cycles; c++) {
            minigc_stats st0 = stats(h);
            ASSERT_EQ(minigc_collect(h), GORT_OK);
            minigc_stats st1 = stats(h);
            ASSERT_EQ(st1.live, uint64_t(n)) << "cycle " << c;
            ASSERT_EQ(st1.freed, 0u);
            uint64_t runs = st1.helper_runs - st0.helper_runs;
            ASSERT_GE(runs, 1u);
            ASSERT_LE(runs, 4u);
            maxruns = std::max(maxruns, runs);
        }
        // Every node still holds its payload and children.
        std::vector<minigc_obj *> work{static_cast<minigc_obj *>(top()[0])};
        int64_t seen = 0;
        while (!work.empty()) {
            minigc_obj *o = work.back();
            work.pop_back();
            int64_t i = int64_t(minigc_payload(o));
            ASSERT_TRUE(minigc_is_object(h, o));
            for (int k = 0; k < 4; k++) {
                minigc_obj *c = minigc_field(o, k);
                int64_t ci = 4 * i + k + 1;
                ASSERT_EQ(c == nullptr, ci >= n);
                if (c != nullptr) {
                    ASSERT_EQ(int64_t(minigc_payload(c)), ci);
                    work.push_back(c);
                }
            }
            seen++;
        }
        EXPECT_EQ(seen, n);
        if (std::thread::hardware_concurrency() >= 2)
            EXPECT_GE(maxruns, 2u) << "gort_gc_helpers never ran the mark on a second M in " << cycles << " cycles";
        ASSERT_EQ(gort_mframe_pop(), GORT_OK);
    });
}

}  // namespace
