"""Native skynet driven from Python: a million native goroutines (C code
from libgort_pynative, no Python in them) started and joined from Python.

    GORT_LIB=build/libgort.so python3 bindings/python/examples/skynet.py [leaves]
"""
import os.path as _p, sys as _s
_s.path.insert(1, _p.join(_p.dirname(_p.abspath(__file__)), ".."))  # this checkout's package
import sys
import time

import _native
import gort

leaves = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
lib = _native.load()
with gort.Runtime() as rt:
    wg = gort.native.wait_group()
    arg = _native.SkynetArg(leaves, 0, wg.ptr)
    t0 = time.perf_counter()
    wg.add(1)
    gort.go_native(lib.pyn_skynet, arg)  # the root; it spawns the tree
    wg.wait()                            # Ctrl-C works here
    dt = time.perf_counter() - t0
    expect = leaves * (leaves - 1) // 2
    print("skynet(%d) = %d (%s) in %.3f s, %d goroutines created, %d threads" % (
        leaves, arg.result, "ok" if arg.result == expect else "WRONG", dt, rt.stats().goroutines_created,
        rt.stats().threads))
    sys.exit(0 if arg.result == expect else 1)
