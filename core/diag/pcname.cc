// core/diag/pcname.cc - see pcname.h.
#include "core/diag/pcname.h"

#include <cxxabi.h>
#include <ucontext.h>

#include <cstdlib>
#include <cstring>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "core/base/atomics.h"
#include "core/diag/symtab.h"

namespace gort {

namespace {

constexpr std::size_t kSlots = 8192;           // a power of two
constexpr std::size_t kMaxUsed = kSlots * 3 / 4;  // then new names go uncached
constexpr std::size_t kArena = 512 * 1024;

struct Slot {
    uintptr_t pc;      // 0: empty
    const char *name;  // in arena; nullptr: no name known for pc
    uintptr_t off;
};

// The shared table, owned by whoever set busy (see pcname.h).
Slot slots[kSlots];
char arena[kArena];
std::size_t used = 0, arena_used = 0;
atomic<bool> busy{false};

std::size_t slot_of(uintptr_t pc) { return std::size_t((pc * 0x9e3779b97f4a7c15ull) >> 51) & (kSlots - 1); }

}  // namespace

PcNames::PcNames(bool allocating)
    : allocating_(allocating), owner_(!busy.exchange(true, std::memory_order_acquire)) {
    if (owner_) {
        std::memset(slots, 0, sizeof slots);
        used = arena_used = 0;
    }
}

PcNames::~PcNames() {
    if (owner_) busy.store(false, std::memory_order_release);
}

bool PcNames::resolve(uintptr_t pc, const char **name, uintptr_t *off) {
    if (!allocating_) return symtab_lookup(pc, name, off);
    // A cursor made for pc alone (no stack is read): libunwind finds the
    // procedure and its name in the object's symbol table.
    unw_context_t uc;
    std::memset(&uc, 0, sizeof uc);
    uc.uc_mcontext.gregs[REG_RIP] = greg_t(pc);
    uc.uc_mcontext.gregs[REG_RSP] = greg_t(reinterpret_cast<uintptr_t>(&uc));  // any readable word
    unw_cursor_t cur;
    if (unw_init_local2(&cur, &uc, UNW_INIT_SIGNAL_FRAME) != 0) return false;
    unw_word_t o = 0;
    int rc = unw_get_proc_name(&cur, scratch_, sizeof scratch_, &o);
    scratch_[sizeof scratch_ - 1] = '\0';
    if (rc != 0 && rc != -UNW_ENOMEM) return false;  // ENOMEM: truncated, still a name
    *off = o;
    *name = scratch_;
    int st = -1;
    char *dm = abi::__cxa_demangle(scratch_, nullptr, nullptr, &st);
    if (st == 0 && dm != nullptr) {
        std::size_t n = std::strlen(dm);
        if (n >= sizeof scratch_) n = sizeof scratch_ - 1;
        std::memcpy(scratch_, dm, n);
        scratch_[n] = '\0';
    }
    std::free(dm);
    return true;
}

bool PcNames::lookup(uintptr_t pc, const char **name, uintptr_t *off) {
    if (!owner_ || pc == 0) return resolve(pc, name, off);
    std::size_t i = slot_of(pc);
    for (; slots[i].pc != 0; i = (i + 1) & (kSlots - 1)) {
        if (slots[i].pc != pc) continue;
        *name = slots[i].name;
        *off = slots[i].off;
        return *name != nullptr;
    }
    const char *nm = nullptr;
    uintptr_t o = 0;
    bool found = resolve(pc, &nm, &o);
    if (used == kMaxUsed) {
        *name = nm;
        *off = o;
        return found;
    }
    const char *stored = nullptr;
    if (found) {
        std::size_t n = std::strlen(nm) + 1;
        if (n > kArena - arena_used) {  // arena full: this name goes uncached
            *name = nm;
            *off = o;
            return true;
        }
        std::memcpy(arena + arena_used, nm, n);
        stored = arena + arena_used;
        arena_used += n;
    }
    slots[i] = Slot{pc, stored, o};
    used++;
    *name = stored;
    *off = o;
    return found;
}

bool runtime_internal(const char *name) {
    return std::strncmp(name, "gort::", 6) == 0 || std::strncmp(name, "gort_ctx_", 9) == 0 ||
           std::strncmp(name, "_ZN4gort", 8) == 0 || std::strncmp(name, "_ZNK4gort", 9) == 0;
}

}  // namespace gort
