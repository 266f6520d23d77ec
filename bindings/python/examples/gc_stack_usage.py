"""A GC-hooks experiment: goroutines park at different C-stack depths, then
one scan cycle (gort.gc.quiesce in phase SCAN) reports each goroutine's
execution-stack usage from its scan record.

Python-to-Python calls do not grow the C stack in CPython 3.11, so depth here
goes through a C builtin (map) on every level; native skynet goroutines are
scanned too, for comparison.

    GORT_LIB=build/libgort.so python3 bindings/python/examples/gc_stack_usage.py
"""
import os.path as _p, sys as _s
_s.path.insert(1, _p.join(_p.dirname(_p.abspath(__file__)), ".."))  # this checkout's package
import gort
import gort.gc

with gort.Runtime(maxprocs=2):
    gate = gort.Chan()
    depth_of = {}

    def deep(n):
        if n == 0:
            return gate.recv()
        return list(map(deep, [n - 1]))[0]  # one C frame (map) per level

    gs = [gort.go(deep, d) for d in (0, 10, 50, 150)]
    for g, d in zip(gs, (0, 10, 50, 150)):
        depth_of[g.goid] = d
    gort.sleep(0.05)  # let them reach their parking point (only for the report)

    records = []
    gort.gc.set_scan_hook(records.append)
    gort.gc.set_phase(gort.gc.SCAN)
    gort.gc.quiesce()
    gort.gc.clear()

    print("%6s %9s %6s %12s %s" % ("goid", "status", "depth", "stack used", "stack size"))
    used = {}
    for r in sorted(records, key=lambda r: r.goid):
        if r.goid in depth_of:
            used[depth_of[r.goid]] = r.stack_used
            print("%6d %9s %6d %12d %d" % (r.goid, r.status_name, depth_of[r.goid], r.stack_used,
                                            r.stack_hi - r.stack_lo))
    print("other goroutines scanned: %d" % (len(records) - len(used)))
    for _ in gs:
        gate.send("go")
    for g in gs:
        g.join()
    grows = used[0] < used[10] < used[50] < used[150]
    print("stack use grows with depth: %s (%.0f bytes per level)" % (grows, (used[150] - used[50]) / 100))
    raise SystemExit(0 if grows else 1)
