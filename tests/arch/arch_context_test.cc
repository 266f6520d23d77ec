// tests/arch/arch_context_test.cc - the arch layer alone (arch/context.h): the
// context switch, gogo (gort_ctx_jump), mcall, systemstack (gort_ctx_call_on)
// and gostartcall (make_context), on x86-64 System V.
//
// Rules for code that runs on a context other than the test's own: it never
// uses gtest assertions (an ASSERT_* would return from an entry function,
// which traps); it records what it saw in a state struct that the test body
// checks once it is back on its own stack. Every entry function ends by
// switching or jumping back to the test's saved context.
#include "arch/context.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unwind.h>
#include <xmmintrin.h>

#include <cfenv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <thread>
#include <vector>

// A function in assembly that loads known values into every callee-saved
// general register (rbx, rbp, r12-r15), calls gort_ctx_switch with them live,
// and stores what those registers hold after the switch returns into out[0..5]
// (rbx, rbp, r12, r13, r14, r15), before restoring its caller's values.
// gort_test_regs_switch_ret is the return address of that call, i.e. the pc
// the saved frame must hold.
extern "C" void gort_test_regs_switch(void **save_sp, void *new_sp, std::uint64_t seed,
                                      std::uint64_t *out);
extern "C" char gort_test_regs_switch_ret[];

asm(R"(
        .text
        .globl  gort_test_regs_switch
        .hidden gort_test_regs_switch
        .globl  gort_test_regs_switch_ret
        .hidden gort_test_regs_switch_ret
        .type   gort_test_regs_switch, @function
        .p2align 4
gort_test_regs_switch:
        .cfi_startproc
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r12, 0
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r13, 0
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r14, 0
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r15, 0
        pushq   %rcx                    /* out; sp = 0 mod 16 now */
        .cfi_adjust_cfa_offset 8
        leaq    1(%rdx), %rbx
        leaq    2(%rdx), %rbp
        leaq    3(%rdx), %r12
        leaq    4(%rdx), %r13
        leaq    5(%rdx), %r14
        leaq    6(%rdx), %r15
        call    gort_ctx_switch@PLT
gort_test_regs_switch_ret:
        popq    %rcx
        .cfi_adjust_cfa_offset -8
        movq    %rbx, 0(%rcx)
        movq    %rbp, 8(%rcx)
        movq    %r12, 16(%rcx)
        movq    %r13, 24(%rcx)
        movq    %r14, 32(%rcx)
        movq    %r15, 40(%rcx)
        popq    %r15
        .cfi_adjust_cfa_offset -8
        popq    %r14
        .cfi_adjust_cfa_offset -8
        popq    %r13
        .cfi_adjust_cfa_offset -8
        popq    %r12
        .cfi_adjust_cfa_offset -8
        popq    %rbx
        .cfi_adjust_cfa_offset -8
        popq    %rbp
        .cfi_adjust_cfa_offset -8
        ret
        .cfi_endproc
        .size   gort_test_regs_switch, .-gort_test_regs_switch
)");

namespace {

using gort::arch::make_context;

constexpr std::size_t kPage = 4096;

// An mmap'ed stack with a PROT_NONE guard page at its low end; unmapped when
// the test ends.
class Stack {
  public:
    explicit Stack(std::size_t size = 256 * 1024) : size_(size) {
        void *p = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (p == MAP_FAILED) return;
        base_ = static_cast<unsigned char *>(p);
        mprotect(base_, kPage, PROT_NONE);
    }
    ~Stack() {
        if (base_ != nullptr) munmap(base_, size_);
    }
    Stack(const Stack &) = delete;
    Stack &operator=(const Stack &) = delete;

    bool ok() const { return base_ != nullptr; }
    unsigned char *lo() const { return base_ + kPage; }
    unsigned char *hi() const { return base_ + size_; }
    bool contains(const void *p) const {
        auto a = reinterpret_cast<std::uintptr_t>(p);
        return a >= reinterpret_cast<std::uintptr_t>(lo()) &&
               a < reinterpret_cast<std::uintptr_t>(hi());
    }

  private:
    std::size_t size_;
    unsigned char *base_ = nullptr;
};

std::uintptr_t addr(const void *p) { return reinterpret_cast<std::uintptr_t>(p); }

std::uint16_t get_fpcw() {
    std::uint16_t cw;
    asm volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

// MXCSR without the sticky exception flags (bits 0-5): only the control bits
// are part of a context.
std::uint32_t get_mxcsr_ctl() { return _mm_getcsr() & ~0x3fu; }

// The thread pointer (%fs:0 is the TCB's self pointer in glibc). Read through
// asm volatile so that the compiler cannot reuse a value read before a switch
// (pthread_self() is declared const and would be CSE'd across it).
__attribute__((noinline)) std::uintptr_t thread_pointer() {
    std::uintptr_t tp;
    asm volatile("movq %%fs:0, %0" : "=r"(tp));
    return tp;
}

// ---------------------------------------------------------------------------
// Probe: things that break when the stack is misaligned or the FP state is
// bogus. Run on every kind of foreign stack.

struct ProbeResult {
    bool frame_aligned = false;    // __builtin_frame_address(0) % 16 == 0
    bool call_sp_aligned = false;  // sp at a call instruction % 16 == 0
    bool sse_local_ok = false;     // movaps to an alignas(16) local
    bool printf_ok = false;        // "%f" of double and long double
    bool exception_ok = false;     // throw/catch through two frames
    std::uintptr_t local = 0;      // address of a local
};

__attribute__((noinline)) void throw_runtime_error(int v) {
    throw std::runtime_error("probe " + std::to_string(v));
}

__attribute__((noinline)) int catch_in_frame(int v) {
    try {
        throw_runtime_error(v);
    } catch (const std::runtime_error &e) {
        return std::strcmp(e.what(), ("probe " + std::to_string(v)).c_str()) == 0 ? v : -1;
    }
    return -2;
}

__attribute__((noinline)) void probe(ProbeResult *r) {
    volatile int marker = 1;
    r->local = addr(const_cast<int *>(&marker));
    r->frame_aligned = addr(__builtin_frame_address(0)) % 16 == 0;
    r->call_sp_aligned = addr(gort_ctx_current_sp()) % 16 == 0;

    alignas(16) float v[4];
    volatile float seed = 1.5f;
    __m128 x = _mm_set1_ps(seed);
    _mm_store_ps(v, _mm_add_ps(x, x));  // movaps: faults if v is not 16-aligned
    r->sse_local_ok = v[0] == 3.0f && v[3] == 3.0f;

    char buf[64];
    volatile double d = 3.14159;
    volatile long double ld = 2.71828L;
    std::snprintf(buf, sizeof buf, "%.3f|%.3Lf|%g", static_cast<double>(d),
                  static_cast<long double>(ld), static_cast<double>(d) * 2);
    r->printf_ok = std::strcmp(buf, "3.142|2.718|6.28318") == 0;

    r->exception_ok = catch_in_frame(marker + 41) == 42;
}

#define EXPECT_PROBE_OK(r)                         \
    do {                                           \
        EXPECT_TRUE((r).frame_aligned);            \
        EXPECT_TRUE((r).call_sp_aligned);          \
        EXPECT_TRUE((r).sse_local_ok);             \
        EXPECT_TRUE((r).printf_ok);                \
        EXPECT_TRUE((r).exception_ok);             \
    } while (0)

// ---------------------------------------------------------------------------
// make_context / first switch

struct FirstRun {
    void *main_sp = nullptr;
    void *ctx_sp = nullptr;
    void *arg_seen = nullptr;
    bool ran = false;
    std::uintptr_t frame = 0;
    std::uintptr_t saved_rbp = 1;   // rbp at entry, as pushed by the entry fn
    std::uintptr_t ret_addr = 0;    // return address of the entry fn
    ProbeResult probe;
};

void first_run_entry(void *arg) {
    auto *s = static_cast<FirstRun *>(arg);
    s->ran = true;
    s->arg_seen = arg;
    void *fa = __builtin_frame_address(0);
    s->frame = addr(fa);
    s->saved_rbp = reinterpret_cast<std::uintptr_t *>(fa)[0];
    s->ret_addr = reinterpret_cast<std::uintptr_t *>(fa)[1];
    probe(&s->probe);
    gort_ctx_jump(s->main_sp);
}

TEST(ArchContext, MakeContextFrameLayout) {
    Stack st;
    ASSERT_TRUE(st.ok());
    int dummy;
    void *sp = make_context(st.hi(), first_run_entry, &dummy);
    auto *f = static_cast<unsigned char *>(sp);
    EXPECT_EQ(addr(sp) % gort::arch::kStackAlign, 0u);
    EXPECT_LT(addr(sp), addr(st.hi()));
    EXPECT_GE(addr(sp) + gort::arch::kFrameSize, addr(st.hi()) - 64);
    EXPECT_LE(addr(sp) + gort::arch::kFrameSize, addr(st.hi()));
    auto u64 = [f](std::size_t off) {
        std::uint64_t v;
        std::memcpy(&v, f + off, sizeof v);
        return v;
    };
    std::uint16_t fpcw;
    std::uint32_t mxcsr;
    std::memcpy(&fpcw, f + gort::arch::kFrameFpcw, sizeof fpcw);
    std::memcpy(&mxcsr, f + gort::arch::kFrameMxcsr, sizeof mxcsr);
    EXPECT_EQ(fpcw, 0x037f);
    EXPECT_EQ(mxcsr, 0x1f80u);
    EXPECT_EQ(u64(gort::arch::kFramePc), addr(reinterpret_cast<void *>(&gort_ctx_entry)));
    EXPECT_EQ(u64(gort::arch::kFrameRbx), addr(reinterpret_cast<void *>(&first_run_entry)));
    EXPECT_EQ(u64(gort::arch::kFrameR12), addr(&dummy));
    EXPECT_EQ(u64(gort::arch::kFrameRbp), 0u);
}

TEST(ArchContext, FreshContextArgAlignmentAndFrameChain) {
    Stack st;
    ASSERT_TRUE(st.ok());
    FirstRun s;
    s.ctx_sp = make_context(st.hi(), first_run_entry, &s);
    gort_ctx_switch(&s.main_sp, s.ctx_sp);
    ASSERT_TRUE(s.ran);
    EXPECT_EQ(s.arg_seen, &s);
    EXPECT_TRUE(st.contains(reinterpret_cast<void *>(s.frame)));
    EXPECT_EQ(s.frame % 16, 0u);
    // rbp = 0 on entry terminates frame-pointer walks; the entry function was
    // called from gort_ctx_entry.
    EXPECT_EQ(s.saved_rbp, 0u);
    EXPECT_GT(s.ret_addr, addr(reinterpret_cast<void *>(&gort_ctx_entry)));
    EXPECT_LT(s.ret_addr, addr(reinterpret_cast<void *>(&gort_ctx_entry)) + 16);
    EXPECT_TRUE(st.contains(reinterpret_cast<void *>(s.probe.local)));
    EXPECT_PROBE_OK(s.probe);
}

// ---------------------------------------------------------------------------
// Ping-pong

struct PingPong {
    void *main_sp = nullptr;
    void *ctx_sp = nullptr;
    long n = 0;
    long counter = 0;
    long bad = 0;
};

void pingpong_entry(void *arg) {
    auto *p = static_cast<PingPong *>(arg);
    for (long i = 0; i < p->n; i++) {
        if (p->counter != 2 * i + 1) p->bad++;
        p->counter++;
        gort_ctx_switch(&p->ctx_sp, p->main_sp);
    }
    gort_ctx_jump(p->main_sp);
}

TEST(ArchContext, PingPong100k) {
    Stack st;
    ASSERT_TRUE(st.ok());
    PingPong p;
    p.n = 100000;
    p.ctx_sp = make_context(st.hi(), pingpong_entry, &p);
    long bad = 0;
    for (long i = 0; i < p.n; i++) {
        p.counter++;
        gort_ctx_switch(&p.main_sp, p.ctx_sp);
        if (p.counter != 2 * i + 2) bad++;
    }
    gort_ctx_switch(&p.main_sp, p.ctx_sp);  // lets the context leave its loop
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(p.bad, 0);
    EXPECT_EQ(p.counter, 2 * p.n);
}

struct Ring {
    void *main_sp = nullptr;
    void *sp[3] = {};
    int rounds = 0;
    std::vector<int> log;
};
struct RingMember {
    Ring *ring;
    int id;
};

void ring_entry(void *arg) {
    auto *m = static_cast<RingMember *>(arg);
    Ring *r = m->ring;
    for (int i = 0; i < r->rounds; i++) {
        r->log.push_back(m->id);
        void *next = m->id == 2 ? r->main_sp : r->sp[m->id + 1];
        gort_ctx_switch(&r->sp[m->id], next);
    }
    gort_ctx_jump(r->main_sp);
}

TEST(ArchContext, RingOfThreeContexts) {
    Stack st[3];
    Ring r;
    r.rounds = 1000;
    RingMember m[3];
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE(st[i].ok());
        m[i] = {&r, i};
        r.sp[i] = make_context(st[i].hi(), ring_entry, &m[i]);
    }
    for (int round = 0; round < r.rounds; round++) gort_ctx_switch(&r.main_sp, r.sp[0]);
    ASSERT_EQ(r.log.size(), 3u * r.rounds);
    for (std::size_t i = 0; i < r.log.size(); i++) ASSERT_EQ(r.log[i], int(i % 3)) << i;
    // Let each member leave its loop; each jumps back to main.
    for (int i = 0; i < 3; i++) gort_ctx_switch(&r.main_sp, r.sp[i]);
}

// ---------------------------------------------------------------------------
// Callee-saved registers

struct Regs {
    void *main_sp = nullptr;
    void *ctx_sp = nullptr;
    int rounds = 0;
    std::uint64_t ctx_out[6] = {};
    long ctx_bad = 0;
    // The main context's saved frame as the other context saw it.
    std::uint64_t frame_seen[8] = {};
    std::uint16_t frame_fpcw = 0;
    std::uint32_t frame_mxcsr = 0;
};

constexpr std::uint64_t kMainSeed = 0x1111111111110000ull;
constexpr std::uint64_t kCtxSeed = 0x7777777777770000ull;

void regs_entry(void *arg) {
    auto *r = static_cast<Regs *>(arg);
    for (int i = 0; i < r->rounds; i++) {
        if (i == 0) {
            auto *f = static_cast<unsigned char *>(r->main_sp);
            std::memcpy(r->frame_seen, f, sizeof r->frame_seen);
            std::memcpy(&r->frame_fpcw, f + gort::arch::kFrameFpcw, 2);
            std::memcpy(&r->frame_mxcsr, f + gort::arch::kFrameMxcsr, 4);
        }
        std::uint64_t seed = kCtxSeed + 0x100 * i;
        gort_test_regs_switch(&r->ctx_sp, r->main_sp, seed, r->ctx_out);
        for (int k = 0; k < 6; k++)
            if (r->ctx_out[k] != seed + 1 + k) r->ctx_bad++;
    }
    gort_ctx_jump(r->main_sp);
}

TEST(ArchContext, CalleeSavedRegistersSurviveSwitch) {
    Stack st;
    ASSERT_TRUE(st.ok());
    Regs r;
    r.rounds = 1000;
    r.ctx_sp = make_context(st.hi(), regs_entry, &r);
    // Switch through a pointer so that nothing can be inlined or assumed.
    void (*volatile sw)(void **, void *) = gort_ctx_switch;
    long bad = 0;
    for (int i = 0; i < r.rounds; i++) {
        std::uint64_t out[6];
        std::uint64_t seed = kMainSeed + 0x100 * i;
        gort_test_regs_switch(&r.main_sp, r.ctx_sp, seed, out);
        for (int k = 0; k < 6; k++)
            if (out[k] != seed + 1 + k) bad++;
        if (i == 0) {
            EXPECT_EQ(out[0], seed + 1) << "rbx";
            EXPECT_EQ(out[1], seed + 2) << "rbp";
            EXPECT_EQ(out[2], seed + 3) << "r12";
            EXPECT_EQ(out[3], seed + 4) << "r13";
            EXPECT_EQ(out[4], seed + 5) << "r14";
            EXPECT_EQ(out[5], seed + 6) << "r15";
        }
    }
    sw(&r.main_sp, r.ctx_sp);  // the context checks its last round and jumps back
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(r.ctx_bad, 0);

    // The frame the other context saw while we were suspended in round 0
    // matches the kFrame* offsets of arch/context.h.
    auto slot = [&r](std::size_t off) { return r.frame_seen[off / 8]; };
    EXPECT_EQ(slot(gort::arch::kFrameRbx), kMainSeed + 1);
    EXPECT_EQ(slot(gort::arch::kFrameRbp), kMainSeed + 2);
    EXPECT_EQ(slot(gort::arch::kFrameR12), kMainSeed + 3);
    EXPECT_EQ(slot(gort::arch::kFrameR13), kMainSeed + 4);
    EXPECT_EQ(slot(gort::arch::kFrameR14), kMainSeed + 5);
    EXPECT_EQ(slot(gort::arch::kFrameR15), kMainSeed + 6);
    EXPECT_EQ(slot(gort::arch::kFramePc), addr(gort_test_regs_switch_ret));
    EXPECT_EQ(r.frame_fpcw, get_fpcw());
    EXPECT_EQ(r.frame_mxcsr & ~0x3fu, get_mxcsr_ctl());
    EXPECT_EQ(addr(r.main_sp) % 16, 0u);
}

// Many live C++ locals across a switch (the compiler keeps some in
// callee-saved registers, the rest on the stack).
struct Locals {
    void *main_sp = nullptr;
    void *ctx_sp = nullptr;
    int rounds = 0;
    std::uint64_t scramble = 0;
};

void locals_entry(void *arg) {
    auto *l = static_cast<Locals *>(arg);
    for (int i = 0; i < l->rounds; i++) {
        // Churn registers here with different values.
        std::uint64_t a = l->scramble, b = a * 3, c = b ^ 0x5555, d = c + a, e = d * 7;
        std::uint64_t f = e ^ b, g = f + c, h = g * 11;
        gort_ctx_switch(&l->ctx_sp, l->main_sp);
        l->scramble = a + b + c + d + e + f + g + h;
    }
    gort_ctx_jump(l->main_sp);
}

__attribute__((noinline)) std::uint64_t mix(std::uint64_t x) { return x * 0x9e3779b97f4a7c15ull + 1; }

TEST(ArchContext, LiveLocalsSurviveSwitch) {
    Stack st;
    ASSERT_TRUE(st.ok());
    Locals l;
    l.rounds = 10000;
    l.ctx_sp = make_context(st.hi(), locals_entry, &l);
    volatile std::uint64_t seed = 12345;
    long bad = 0;
    for (int i = 0; i < l.rounds; i++) {
        std::uint64_t v0 = mix(seed + i), v1 = mix(v0), v2 = mix(v1), v3 = mix(v2);
        std::uint64_t v4 = mix(v3), v5 = mix(v4), v6 = mix(v5), v7 = mix(v6);
        std::uint64_t v8 = mix(v7), v9 = mix(v8);
        double d0 = static_cast<double>(v0 & 0xffff), d1 = d0 * 0.5;
        gort_ctx_switch(&l.main_sp, l.ctx_sp);
        std::uint64_t w = mix(seed + i);
        if (v0 != w) bad++;
        w = mix(w); if (v1 != w) bad++;
        w = mix(w); if (v2 != w) bad++;
        w = mix(w); if (v3 != w) bad++;
        w = mix(w); if (v4 != w) bad++;
        w = mix(w); if (v5 != w) bad++;
        w = mix(w); if (v6 != w) bad++;
        w = mix(w); if (v7 != w) bad++;
        w = mix(w); if (v8 != w) bad++;
        w = mix(w); if (v9 != w) bad++;
        if (d1 != static_cast<double>(v0 & 0xffff) * 0.5) bad++;
    }
    gort_ctx_switch(&l.main_sp, l.ctx_sp);
    EXPECT_EQ(bad, 0);
}

// ---------------------------------------------------------------------------
// FP control state is per context

struct Fp {
    void *main_sp = nullptr;
    void *ctx_sp = nullptr;
    std::uint32_t mxcsr_at_entry = 0;
    std::uint16_t fpcw_at_entry = 0;
    std::uint32_t mxcsr_after = 0;
    std::uint16_t fpcw_after = 0;
    std::uint32_t mxcsr_ftz_after = 0;
    bool rounding_is_upward = false;
};

void fp_entry(void *arg) {
    auto *s = static_cast<Fp *>(arg);
    s->mxcsr_at_entry = _mm_getcsr();
    s->fpcw_at_entry = get_fpcw();
    std::fesetround(FE_UPWARD);  // x87 CW and MXCSR
    gort_ctx_switch(&s->ctx_sp, s->main_sp);
    s->mxcsr_after = get_mxcsr_ctl();
    s->fpcw_after = get_fpcw();
    volatile double one = 1.0, three = 3.0;
    // volatile results: the divisions must not move across fesetround.
    volatile double up = one / three;
    std::fesetround(FE_TONEAREST);
    volatile double near = one / three;
    s->rounding_is_upward = up > near;
    // Flush-to-zero via MXCSR only.
    _mm_setcsr(_mm_getcsr() | 0x8000);
    gort_ctx_switch(&s->ctx_sp, s->main_sp);
    s->mxcsr_ftz_after = get_mxcsr_ctl();
    gort_ctx_jump(s->main_sp);
}

TEST(ArchContext, FpControlStateIsPerContext) {
    Stack st;
    ASSERT_TRUE(st.ok());
    ASSERT_EQ(get_mxcsr_ctl(), 0x1f80u);
    ASSERT_EQ(get_fpcw(), 0x037f);
    Fp s;
    s.ctx_sp = make_context(st.hi(), fp_entry, &s);

    // Main runs with a non-default mode, so the new context's defaults can
    // only come from make_context.
    std::fesetround(FE_TOWARDZERO);
    const std::uint32_t main_mxcsr = get_mxcsr_ctl();
    const std::uint16_t main_fpcw = get_fpcw();
    EXPECT_EQ(main_mxcsr, 0x7f80u);
    EXPECT_EQ(main_fpcw, 0x0f7f);

    gort_ctx_switch(&s.main_sp, s.ctx_sp);
    const std::uint32_t m1 = get_mxcsr_ctl();
    const std::uint16_t c1 = get_fpcw();
    gort_ctx_switch(&s.main_sp, s.ctx_sp);
    const std::uint32_t m2 = get_mxcsr_ctl();
    const std::uint16_t c2 = get_fpcw();
    gort_ctx_switch(&s.main_sp, s.ctx_sp);
    const std::uint32_t m3 = get_mxcsr_ctl();
    std::fesetround(FE_TONEAREST);

    EXPECT_EQ(s.mxcsr_at_entry, 0x1f80u);
    EXPECT_EQ(s.fpcw_at_entry, 0x037f);
    EXPECT_EQ(m1, main_mxcsr) << "the context's FE_UPWARD leaked into main";
    EXPECT_EQ(c1, main_fpcw);
    EXPECT_EQ(s.mxcsr_after, 0x5f80u) << "the context lost its own FE_UPWARD";
    EXPECT_EQ(s.fpcw_after, 0x0b7f);
    EXPECT_TRUE(s.rounding_is_upward);
    EXPECT_EQ(m2, main_mxcsr) << "FTZ leaked into main";
    EXPECT_EQ(c2, main_fpcw);
    EXPECT_EQ(s.mxcsr_ftz_after, 0x9f80u);
    EXPECT_EQ(m3, main_mxcsr);
    EXPECT_EQ(get_mxcsr_ctl(), 0x1f80u);
    EXPECT_EQ(get_fpcw(), 0x037f);
}

// ---------------------------------------------------------------------------
// Exceptions inside a context

struct Exc {
    void *main_sp = nullptr;
    void *ctx_sp = nullptr;
    int caught = 0;
    int rounds = 0;
};

void exc_entry(void *arg) {
    auto *s = static_cast<Exc *>(arg);
    for (int i = 0; i < s->rounds; i++) {
        try {
            throw_runtime_error(i);
        } catch (const std::exception &e) {
            if (std::strcmp(e.what(), ("probe " + std::to_string(i)).c_str()) == 0) s->caught++;
        }
        // Suspend with the exception machinery idle, resume, throw again.
        gort_ctx_switch(&s->ctx_sp, s->main_sp);
    }
    gort_ctx_jump(s->main_sp);
}

TEST(ArchContext, ExceptionsInsideContextInterleaved) {
    Stack st;
    ASSERT_TRUE(st.ok());
    Exc s;
    s.rounds = 200;
    s.ctx_sp = make_context(st.hi(), exc_entry, &s);
    int main_caught = 0;
    for (int i = 0; i < s.rounds; i++) {
        gort_ctx_switch(&s.main_sp, s.ctx_sp);
        try {
            throw std::logic_error("main");
        } catch (const std::logic_error &) {
            main_caught++;
        }
    }
    gort_ctx_switch(&s.main_sp, s.ctx_sp);
    EXPECT_EQ(s.caught, s.rounds);
    EXPECT_EQ(main_caught, s.rounds);
}

// ---------------------------------------------------------------------------
// Unwinding: stops cleanly at gort_ctx_entry / gort_ctx_mcall; goes through
// gort_ctx_call_on.

struct Trace {
    std::uintptr_t ip[64];
    int n = 0;
    _Unwind_Reason_Code rc = _URC_NO_REASON;
    bool null_end = false;
};

_Unwind_Reason_Code trace_cb(struct _Unwind_Context *ctx, void *arg) {
    auto *t = static_cast<Trace *>(arg);
    if (t->n >= 64) return _URC_END_OF_STACK;
    t->ip[t->n++] = _Unwind_GetIP(ctx);
    return _URC_NO_REASON;
}

// libgcc reports the frame above an outermost one (return address column
// undefined) once more with ip 0 before returning _URC_END_OF_STACK; n counts
// the real frames only, and null_end records that trailing null frame.
__attribute__((noinline)) void take_trace(Trace *t) {
    t->n = 0;
    t->rc = _Unwind_Backtrace(trace_cb, t);
    t->null_end = t->n > 0 && t->ip[t->n - 1] == 0;
    if (t->null_end) t->n--;
}

bool ip_in(std::uintptr_t ip, void (*fn)(), std::uintptr_t len) {
    auto a = addr(reinterpret_cast<void *>(fn));
    return ip > a && ip <= a + len;
}

struct TraceCtx {
    void *main_sp = nullptr;
    Trace t;
};

void trace_entry(void *arg) {
    auto *s = static_cast<TraceCtx *>(arg);
    take_trace(&s->t);
    gort_ctx_jump(s->main_sp);
}

TEST(ArchContext, UnwinderStopsAtContextEntry) {
    Stack st;
    ASSERT_TRUE(st.ok());
    TraceCtx s;
    void *sp = make_context(st.hi(), trace_entry, &s);
    gort_ctx_switch(&s.main_sp, sp);
    EXPECT_EQ(s.t.rc, _URC_END_OF_STACK);
    ASSERT_GE(s.t.n, 2);
    EXPECT_EQ(s.t.n, 3);  // take_trace, trace_entry, gort_ctx_entry
    EXPECT_TRUE(ip_in(s.t.ip[s.t.n - 1], gort_ctx_entry, 16))
        << "last frame is not gort_ctx_entry";
    EXPECT_TRUE(s.t.null_end);
}

// ---------------------------------------------------------------------------
// gort_ctx_mcall

struct Mcall {
    Stack *g0 = nullptr;
    void *saved = nullptr;  // the caller's context, written by mcall (not at
                            // offset 0, so &saved != the fn argument)
    unsigned char *top = nullptr;
    void *arg_seen = nullptr;
    std::uintptr_t local = 0;
    std::uintptr_t caller_sp = 0;
    void *saved_seen = nullptr;
    std::uintptr_t saved_rbp = 1;
    ProbeResult probe;
    Trace t;
    int runs = 0;
};

void mcall_fn(void *arg) {
    auto *m = static_cast<Mcall *>(arg);
    int local = 0;
    m->local = addr(&local);
    m->arg_seen = arg;
    m->saved_seen = m->saved;  // must already be written when fn runs
    // fn is called with rbp = 0, so frame-pointer walks end at it.
    m->saved_rbp = reinterpret_cast<std::uintptr_t *>(__builtin_frame_address(0))[0];
    probe(&m->probe);
    if (m->runs == 0) take_trace(&m->t);
    m->runs++;
    gort_ctx_jump(m->saved);  // resumes the caller: gort_ctx_mcall returns
}

__attribute__((noinline)) void mcall_once(Mcall *m, long *bad) {
    volatile long seed = 99;
    long a = seed * 3, b = a + 7, c = b * b, d = c ^ a, e = d - b;
    m->caller_sp = addr(gort_ctx_current_sp());
    gort_ctx_mcall(&m->saved, m->top, mcall_fn, m);
    if (a != 297 || b != 304 || c != 304 * 304 || d != ((304 * 304) ^ 297) ||
        e != ((304 * 304) ^ 297) - 304)
        ++*bad;
}

TEST(ArchContext, McallRunsOnOtherStackAndResumes) {
    Stack g0;
    ASSERT_TRUE(g0.ok());
    Mcall m;
    m.g0 = &g0;
    // Garbage above the stack top given to mcall: an unwinder that does not
    // stop at gort_ctx_mcall would read a return address from it.
    m.top = g0.hi() - 256;
    std::memset(m.top, 0xa5, 256);
    long bad = 0;
    for (int i = 0; i < 1000; i++) mcall_once(&m, &bad);
    EXPECT_EQ(m.runs, 1000);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(m.arg_seen, &m);
    EXPECT_TRUE(g0.contains(reinterpret_cast<void *>(m.local)));
    EXPECT_GT(m.local, addr(g0.hi()) - 4096) << "fn should run near the top of the stack";
    ASSERT_NE(m.saved_seen, nullptr);
    // The saved sp lies just below the caller's sp (one saved frame).
    EXPECT_EQ(addr(m.saved_seen) % 16, 0u);
    EXPECT_LT(addr(m.saved_seen), m.caller_sp);
    EXPECT_GE(addr(m.saved_seen) + 256, m.caller_sp);
    EXPECT_EQ(m.saved_rbp, 0u);
    EXPECT_PROBE_OK(m.probe);
    EXPECT_EQ(m.t.rc, _URC_END_OF_STACK);
    ASSERT_GE(m.t.n, 2);
    EXPECT_EQ(m.t.n, 3);  // take_trace, mcall_fn, gort_ctx_mcall
    EXPECT_TRUE(ip_in(m.t.ip[m.t.n - 1], reinterpret_cast<void (*)()>(&gort_ctx_mcall), 64))
        << "unwinding from fn should stop at gort_ctx_mcall";
    EXPECT_TRUE(m.t.null_end);
}

// A miniature scheduler in the seed's shape: goroutines yield with mcall to
// g0, where park_m queues them and schedule() gogo's the next one.
struct G {
    void *sp = nullptr;
    int id = 0;
    int steps = 0;
    bool done = false;
};
struct Sched {
    void *main_sp = nullptr;
    Stack *g0 = nullptr;
    std::deque<G *> runq;
    std::vector<int> log;
    int finished = 0;
    int off_g0 = 0;  // fn bodies seen running off the g0 stack
};
Sched *sched;

[[noreturn]] void schedule() {
    if (sched->runq.empty()) gort_ctx_jump(sched->main_sp);
    G *g = sched->runq.front();
    sched->runq.pop_front();
    gort_ctx_jump(g->sp);
}

void park_m(void *arg) {  // on g0
    int local = 0;
    if (!sched->g0->contains(&local)) sched->off_g0++;
    auto *g = static_cast<G *>(arg);
    if (g->done)
        sched->finished++;
    else
        sched->runq.push_back(g);
    schedule();
}

void sched_start(void *) { schedule(); }

void g_entry(void *arg) {
    auto *g = static_cast<G *>(arg);
    for (int i = 0; i < g->steps; i++) {
        sched->log.push_back(g->id * 1000 + i);
        gort_ctx_mcall(&g->sp, sched->g0->hi(), park_m, g);  // Gosched
    }
    g->done = true;
    gort_ctx_mcall(&g->sp, sched->g0->hi(), park_m, g);  // goexit
    __builtin_trap();
}

TEST(ArchContext, McallRoundRobinScheduler) {
    Stack g0;
    Stack gs[3];
    ASSERT_TRUE(g0.ok());
    Sched s;
    s.g0 = &g0;
    sched = &s;
    G g[3];
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE(gs[i].ok());
        g[i].id = i;
        g[i].steps = 500;
        g[i].sp = make_context(gs[i].hi(), g_entry, &g[i]);
        s.runq.push_back(&g[i]);
    }
    gort_ctx_mcall(&s.main_sp, g0.hi(), sched_start, nullptr);
    sched = nullptr;
    EXPECT_EQ(s.finished, 3);
    EXPECT_EQ(s.off_g0, 0);
    ASSERT_EQ(s.log.size(), 1500u);
    for (std::size_t k = 0; k < s.log.size(); k++)
        ASSERT_EQ(s.log[k], int(k % 3) * 1000 + int(k / 3)) << k;
}

// ---------------------------------------------------------------------------
// gort_ctx_call_on

struct CallOn {
    Stack *stack = nullptr;
    void *arg_seen = nullptr;
    std::uintptr_t local = 0;
    ProbeResult probe;
    Trace t;
    int caught = 0;
};

void call_on_fn(void *arg) {
    auto *c = static_cast<CallOn *>(arg);
    int local = 0;
    c->local = addr(&local);
    c->arg_seen = arg;
    probe(&c->probe);
    try {
        throw_runtime_error(7);
    } catch (const std::runtime_error &) {
        c->caught++;
    }
    take_trace(&c->t);
}

__attribute__((noinline)) void call_on_caller_marker(CallOn *c, long *bad) {
    volatile long seed = 5;
    long a = seed * 11, b = a * a, c2 = b + a, d = c2 ^ 0xabc;
    gort_ctx_call_on(c->stack->hi(), call_on_fn, c);
    if (a != 55 || b != 3025 || c2 != 3080 || d != (3080 ^ 0xabc)) ++*bad;
}

TEST(ArchContext, CallOnRunsOnOtherStackAndReturns) {
    Stack st;
    ASSERT_TRUE(st.ok());
    CallOn c;
    c.stack = &st;
    long bad = 0;
    call_on_caller_marker(&c, &bad);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(c.arg_seen, &c);
    EXPECT_TRUE(st.contains(reinterpret_cast<void *>(c.local)));
    EXPECT_PROBE_OK(c.probe);
    EXPECT_EQ(c.caught, 1);
    // The unwinder walks from fn, through gort_ctx_call_on, back onto the
    // caller's stack and up to the test.
    EXPECT_EQ(c.t.rc, _URC_END_OF_STACK);
    bool through = false, caller = false;
    for (int i = 0; i < c.t.n; i++) {
        through |= ip_in(c.t.ip[i], reinterpret_cast<void (*)()>(&gort_ctx_call_on), 64);
        caller |= ip_in(c.t.ip[i], reinterpret_cast<void (*)()>(&call_on_caller_marker), 4096);
    }
    EXPECT_TRUE(through);
    EXPECT_TRUE(caller);
    EXPECT_GT(c.t.n, 6);

    long more_bad = 0;
    for (int i = 0; i < 10000; i++) call_on_caller_marker(&c, &more_bad);
    EXPECT_EQ(more_bad, 0);
}

struct Nested {
    unsigned char *lo[8] = {};
    unsigned char *hi[8] = {};
    int depth = 0;
    int max_depth = 0;
    int wrong_stack = 0;
    int bad_locals = 0;
    int bad_align = 0;
};

void nested_fn(void *arg) {
    auto *n = static_cast<Nested *>(arg);
    int level = n->depth;
    unsigned char local = 0;
    if (&local < n->lo[level] || &local >= n->hi[level]) n->wrong_stack++;
    if (addr(gort_ctx_current_sp()) % 16 != 0) n->bad_align++;
    if (level + 1 < n->max_depth) {
        volatile std::uint64_t keep = 0xfeed0000ull + level;
        std::uint64_t k2 = keep * 3;
        n->depth = level + 1;
        gort_ctx_call_on(n->hi[level + 1], nested_fn, n);
        n->depth = level;
        if (keep != 0xfeed0000ull + level || k2 != (0xfeed0000ull + level) * 3) n->bad_locals++;
    }
}

TEST(ArchContext, CallOnNested) {
    Stack st;
    ASSERT_TRUE(st.ok());
    Nested n;
    n.max_depth = 8;
    const std::size_t slice = (st.hi() - st.lo()) / 8 & ~std::size_t(15);
    for (int i = 0; i < 8; i++) {
        n.lo[i] = st.lo() + i * slice;
        n.hi[i] = n.lo[i] + slice;
    }
    for (int rep = 0; rep < 100; rep++) {
        n.depth = 0;
        gort_ctx_call_on(n.hi[0], nested_fn, &n);
    }
    EXPECT_EQ(n.depth, 0);
    EXPECT_EQ(n.wrong_stack, 0);
    EXPECT_EQ(n.bad_locals, 0);
    EXPECT_EQ(n.bad_align, 0);
}

void throw_through_fn(void *arg) {
    throw std::runtime_error(static_cast<const char *>(arg));
}

TEST(ArchContext, CallOnExceptionPropagatesToCaller) {
    // The CFI of gort_ctx_call_on (CFA through rbp) lets an exception leave
    // fn and be caught on the caller's stack.
    Stack st;
    ASSERT_TRUE(st.ok());
    int caught = 0;
    for (int i = 0; i < 100; i++) {
        try {
            gort_ctx_call_on(st.hi(), throw_through_fn, const_cast<char *>("across"));
        } catch (const std::runtime_error &e) {
            if (std::strcmp(e.what(), "across") == 0) caught++;
        }
    }
    EXPECT_EQ(caught, 100);
    // The stack pointer is back where it was.
    void *sp1 = gort_ctx_current_sp();
    try {
        gort_ctx_call_on(st.hi(), throw_through_fn, const_cast<char *>("x"));
    } catch (const std::exception &) {
    }
    EXPECT_EQ(gort_ctx_current_sp(), sp1);
}

// A goroutine calling systemstack: call_on from a context other than the
// thread's own.
struct SysFromCtx {
    void *main_sp = nullptr;
    Stack *g0 = nullptr;
    CallOn c;
    long bad = 0;
};

void sys_from_ctx_entry(void *arg) {
    auto *s = static_cast<SysFromCtx *>(arg);
    for (int i = 0; i < 100; i++) call_on_caller_marker(&s->c, &s->bad);
    gort_ctx_jump(s->main_sp);
}

TEST(ArchContext, CallOnFromNewContext) {
    Stack g0, gst;
    ASSERT_TRUE(g0.ok());
    ASSERT_TRUE(gst.ok());
    SysFromCtx s;
    s.g0 = &g0;
    s.c.stack = &g0;
    void *sp = make_context(gst.hi(), sys_from_ctx_entry, &s);
    gort_ctx_switch(&s.main_sp, sp);
    EXPECT_EQ(s.bad, 0);
    EXPECT_TRUE(g0.contains(reinterpret_cast<void *>(s.c.local)));
    EXPECT_EQ(s.c.caught, 100);
    EXPECT_PROBE_OK(s.c.probe);
    // The unwind from fn crosses call_on onto the goroutine's stack and then
    // stops at gort_ctx_entry.
    EXPECT_EQ(s.c.t.rc, _URC_END_OF_STACK);
    ASSERT_GE(s.c.t.n, 1);
    EXPECT_TRUE(ip_in(s.c.t.ip[s.c.t.n - 1], gort_ctx_entry, 16));
    EXPECT_TRUE(s.c.t.null_end);
}

// ---------------------------------------------------------------------------
// gort_ctx_current_sp

__attribute__((noinline)) void current_sp_check(int depth, std::uintptr_t above, int *bad) {
    char local = 0;
    auto sp = addr(gort_ctx_current_sp());
    auto l = addr(&local);
    if (sp % 16 != 0) ++*bad;
    if (!(l >= sp && l - sp < 512)) ++*bad;
    if (above != 0 && !(sp < above)) ++*bad;
    if (depth > 0) current_sp_check(depth - 1, sp, bad);
    asm volatile("" ::: "memory");  // no tail call
}

TEST(ArchContext, CurrentSpIsNearLocals) {
    char local = 0;
    auto sp = addr(gort_ctx_current_sp());
    EXPECT_EQ(sp % 16, 0u);
    EXPECT_LE(sp, addr(&local));
    int bad = 0;
    current_sp_check(20, 0, &bad);
    EXPECT_EQ(bad, 0);
}

// ---------------------------------------------------------------------------
// A suspended context resumes on another thread (M:N).

struct Migrate {
    void *main_sp = nullptr;
    void *thread_sp = nullptr;
    void *ctx_sp = nullptr;
    std::uintptr_t tp_before = 0;
    std::uintptr_t tp_after = 0;
    long bad = 0;
    ProbeResult probe;
};

void migrate_entry(void *arg) {
    auto *m = static_cast<Migrate *>(arg);
    volatile std::uint64_t keep = 0x1234567890abcdefull;
    m->tp_before = thread_pointer();
    gort_ctx_switch(&m->ctx_sp, m->main_sp);
    m->tp_after = thread_pointer();  // now on the other thread
    if (keep != 0x1234567890abcdefull) m->bad++;
    probe(&m->probe);
    gort_ctx_switch(&m->ctx_sp, m->thread_sp);
    // Back on the first thread to finish.
    if (thread_pointer() != m->tp_before) m->bad++;
    gort_ctx_jump(m->main_sp);
}

TEST(ArchContext, ContextMigratesBetweenThreads) {
    Stack st;
    ASSERT_TRUE(st.ok());
    Migrate m;
    m.ctx_sp = make_context(st.hi(), migrate_entry, &m);
    gort_ctx_switch(&m.main_sp, m.ctx_sp);
    std::uintptr_t other_tp = 0;
    std::thread th([&m, &other_tp] {
        other_tp = thread_pointer();
        gort_ctx_switch(&m.thread_sp, m.ctx_sp);
    });
    th.join();
    gort_ctx_switch(&m.main_sp, m.ctx_sp);
    EXPECT_EQ(m.tp_before, thread_pointer());
    EXPECT_EQ(m.tp_after, other_tp);
    EXPECT_NE(m.tp_before, m.tp_after);
    EXPECT_EQ(m.bad, 0);
    EXPECT_PROBE_OK(m.probe);
}

// ---------------------------------------------------------------------------
// Contract traps: an entry function or an mcall fn that returns hits ud2.

void no_core_dump() {
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
}

void returning_entry(void *) {}

void returning_mcall_fn(void *) {}

TEST(ArchContextDeathTest, EntryFunctionReturnTraps) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            no_core_dump();
            Stack st;
            void *main_sp;
            gort_ctx_switch(&main_sp, make_context(st.hi(), returning_entry, nullptr));
            std::_Exit(0);
        },
        ::testing::KilledBySignal(SIGILL), "");
}

TEST(ArchContextDeathTest, McallFnReturnTraps) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            no_core_dump();
            Stack st;
            void *saved;
            gort_ctx_mcall(&saved, st.hi(), returning_mcall_fn, nullptr);
            std::_Exit(0);
        },
        ::testing::KilledBySignal(SIGILL), "");
}

}  // namespace
