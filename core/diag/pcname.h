// core/diag/pcname.h - function names for the pcs of a dump, cached per pc.
//
// Looking a name up is slow: libunwind's unw_get_proc_name reads
// /proc/self/maps and maps the object's file on every call (about 2 ms), and
// __cxa_demangle allocates; in a signal handler core/diag/symtab.h scans a
// symbol table. A dump of many goroutines parked in the same few places asks
// for the same pcs again and again (issue 17: 20,000 goroutines took 14-44 s),
// so each dump keeps the names it found in a fixed table: open addressing on
// the pc, the names in a fixed arena. No allocation, no lock: one dump at a
// time owns the table (a try-lock; a concurrent dump, or a signal handler
// that interrupted a dump, looks names up uncached instead). The owner
// clears the table when it takes it, so a name never outlives the dump that
// found it (a dlclose between dumps cannot leave a stale one).
#pragma once

#include <cstddef>
#include <cstdint>

namespace gort {

// PcNames: one dump's view of the table; its destructor releases it.
class PcNames {
public:
    // allocating: names may come from libunwind and be demangled (both
    // allocate); false: from core/diag/symtab.h only (async-signal-safe).
    explicit PcNames(bool allocating);
    ~PcNames();
    PcNames(const PcNames &) = delete;
    PcNames &operator=(const PcNames &) = delete;

    // lookup: the function containing pc (a pc inside a function: a return
    // address minus one, or an exact pc) and pc's offset from its start.
    // The name stays valid until this object is destroyed. false: unknown.
    bool lookup(uintptr_t pc, const char **name, uintptr_t *off);

private:
    bool resolve(uintptr_t pc, const char **name, uintptr_t *off);
    const bool allocating_;
    const bool owner_;  // holds the shared table
    char scratch_[512];  // an uncached lookup's name
};

// runtime_internal: a frame of the runtime itself (gort::..., the context
// switch trampolines gort_ctx_*), hidden from dumps unless
// GORT_DEBUG=tracebackall=1 (Go's showframe and GOTRACEBACK=system). The
// public entry points (gort_park, gort_chan_recv, ...) are shown, as Go shows
// exported runtime functions.
bool runtime_internal(const char *name);

}  // namespace gort
