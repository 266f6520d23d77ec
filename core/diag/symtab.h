// core/diag/symtab.h - symbol names for pcs from inside a signal handler.
//
// libunwind's unw_get_proc_name is not usable in the SIGQUIT handler: for
// every lookup it reads /proc/self/maps and maps the object's file, and it
// allocates while doing so (malloc in a handler can deadlock on an arena
// lock the interrupted thread holds). So the handler uses this table
// instead: symtab_load, called outside any handler (by sigquit_install),
// maps the ELF file of every object loaded at that time and records its
// address ranges and its symbol table (.symtab, else .dynsym);
// symtab_lookup then only reads that memory: no allocation, no lock, no
// system call. C++ names are demangled by symtab_load (demangling
// allocates), so lookups return them readable, as gort_dump_goroutines does. Objects loaded later (dlopen) are not in the table; their
// frames print without a name.
//
// Concurrency: the table is written only by symtab_load and symtab_unload,
// which the caller orders against every lookup (sigquit.cc: load before the
// handler is published, unload after the last handler has finished).
#pragma once

#include <cstdint>

namespace gort {

// Maps and indexes every loaded object. Idempotent until symtab_unload.
void symtab_load();
// Unmaps everything symtab_load mapped.
void symtab_unload();
// The function containing pc: its name (demangled if it is a C++ one;
// valid until symtab_unload) and pc's offset from its start. false if none is known.
// Async-signal-safe.
bool symtab_lookup(uintptr_t pc, const char **name, uintptr_t *off);

}  // namespace gort
