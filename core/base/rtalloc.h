// core/base/rtalloc.h - allocation of the runtime's own objects (G, M, P,
// wait nodes, tables): see rtalloc.cc for why it is mimalloc, loaded
// privately.
#pragma once

#include <cstddef>

namespace gort {

void *rtalloc(std::size_t size);  // zeroed, 64-byte aligned; fatal on failure
void rtfree(void *p);
void rtalloc_release();  // shutdown: return cached memory to the OS

}  // namespace gort
