// core/stack/funcinfo.h - the registry of funcinfo records that describe managed
// frames (docs/DESIGN.md §4.4: name, frame and argument sizes, stack maps indexed by a
// pc index; the seed's _func + funcdata(_FUNCDATA_LocalsPointerMaps /
// _FUNCDATA_ArgsPointerMaps) + pcdata(_PCDATA_StackMapIndex)).
//
// Registration validates a record once, so that a frame push only has to
// find it: lookups take no lock (an open-addressing table published with
// release; a grown table keeps the old ones alive until shutdown, as
// allgs). Inserts take funcinfo_lock. (The GC hooks issue may move this to
// gc_hooks/ with the rest of what a host plugs in.)
#pragma once

#include <gort/gort.h>

namespace gort {

bool funcinfo_valid(const gort_funcinfo *fi);
int funcinfo_register(const gort_funcinfo *fi);  // GORT_OK or GORT_EINVAL
bool funcinfo_registered(const gort_funcinfo *fi);
void funcinfo_release_all();  // shutdown

// 2 bits per word (seed: ptrbits).
inline unsigned stackmap_bits(const gort_stackmap &bv, uint32_t i) {
    return (bv.bytedata[i / 4] >> ((i & 3) * 2)) & 3;
}

}  // namespace gort
