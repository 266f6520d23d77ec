"""gort.gc from Python; each Python goroutine owns its thread."""
import threading

import pytest

import gort
import gort.gc


def test_each_goroutine_keeps_its_own_thread(rt):
    n = 40
    start = gort.Chan()

    def body(i):
        tid = threading.get_native_id()
        start.recv()
        seen = set()
        for k in range(20):
            gort.gosched()
            gort.sleep(0)
            seen.add(threading.get_native_id())
        return tid, seen

    gs = [gort.go(body, i) for i in range(n)]
    for _ in range(n):
        start.send(None)
    res = [g.join(timeout=30) for g in gs]
    assert all(seen == {tid} for tid, seen in res)
    assert len({tid for tid, _ in res}) == n  # alive together: n threads


def test_gc_hooks_scan_every_goroutine_once(rt):
    recs = []
    gort.gc.set_scan_hook(recs.append)
    try:
        blocker = gort.Chan()
        gs = [gort.go(blocker.recv) for _ in range(5)]
        gort.sleep(0.02)
        assert gort.gc.set_phase(gort.gc.SCAN) == gort.gc.OFF
        assert gort.gc.phase() == gort.gc.SCAN
        gort.gc.quiesce()  # from the main thread
        mine = [r for r in recs if r.goid in {g.goid for g in gs}]
        assert sorted(r.goid for r in mine) == sorted(g.goid for g in gs)
        for r in mine:
            assert r.status_name == "waiting"
            assert r.stack_lo < r.saved_sp <= r.stack_hi and r.stack_used > 0
            assert r.roots == ()
        with pytest.raises(AttributeError):
            mine[0].goid = 1
        # A second cycle from inside a goroutine scans them again.
        recs.clear()
        gort.go(gort.gc.quiesce).join(timeout=30)
        assert {g.goid for g in gs} <= {r.goid for r in recs}
        # stopg/restartg: a new cycle, then claim a parked goroutine.
        gort.gc.set_phase(gort.gc.OFF)
        gort.gc.set_phase(gort.gc.SCAN)
        recs.clear()
        assert gort.gc.stopg(gs[0]) is True
        assert [r.goid for r in recs] == [gs[0].goid]
        assert gort.gc.stopg(gs[0]) is False  # already scanned this cycle
        gort.gc.restartg(gs[0])
        with pytest.raises(gort.GortError):
            gort.gc.restartg(gs[0])
        for _ in gs:
            blocker.send(1)
        for g in gs:
            assert g.join(timeout=30) == 1
        with pytest.raises(gort.GortError):
            gort.gc.stopg(gs[0])  # finished
        assert gort.gc.errors == []
        # Handles: only those scan records showed; never an arbitrary int
        # (gort would read it), nor a finished goroutine.
        if gort.gc.stopg(mine[1].g):  # its G may serve another goroutine by now
            gort.gc.restartg(mine[1].g)
        for bogus in (1, 4096, 0xdeadbeef0):
            with pytest.raises(ValueError):
                gort.gc.stopg(bogus)

        # Blocking gort calls from inside the hook fail instead of blocking
        # the scheduler (the hook is not in a goroutine).
        def bad_hook(rec):
            gort.Chan().send(1)

        gort.gc.set_scan_hook(bad_hook)
        blk = gort.Chan()
        g = gort.go(blk.recv)
        gort.sleep(0.01)
        gort.gc.quiesce()
        assert gort.gc.errors and all(isinstance(e, gort.GortError) and e.code == gort.EBUSY
                                      for e in gort.gc.errors)
        gort.gc.errors.clear()
        blk.send(0)
        g.join(timeout=10)
    finally:
        gort.gc.clear()
    with pytest.raises(ValueError):
        gort.gc.set_phase(7)
    with pytest.raises(TypeError):
        gort.gc.set_scan_hook(3)


def _pynative():
    import ctypes
    import os
    path = os.environ.get("GORT_PYNATIVE_LIB")
    if not path:
        pytest.skip("GORT_PYNATIVE_LIB not set (ctest sets it to the built libgort_pynative.so)")
    return ctypes.CDLL(path)


def test_native_skynet_and_spawner_from_python(rt2):
    import ctypes
    lib = _pynative()

    class SkynetArg(ctypes.Structure):
        _fields_ = [("leaves", ctypes.c_int64), ("result", ctypes.c_int64), ("wg", ctypes.c_void_p)]

    class SpawnArg(ctypes.Structure):
        _fields_ = [("n", ctypes.c_int64), ("wg", ctypes.c_void_p), ("failed", ctypes.c_int)]

    wg = gort.native.wait_group()
    arg = SkynetArg(100000, 0, wg.ptr)
    wg.add(1)
    gort.go_native(lib.pyn_skynet, arg)
    wg.wait()
    assert arg.result == 100000 * 99999 // 2
    sp = SpawnArg(200000, wg.ptr, 0)
    wg.add(200000)
    gort.go_native(lib.pyn_spawn, sp)
    wg.wait()
    assert sp.failed == 0
