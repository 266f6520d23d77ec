"""The gort package: goroutines, channels, select, sync, errors, leaks."""
import gc
import os
import subprocess
import sys
import threading
import time
import traceback
import weakref

import pytest

import gort

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)


def test_go_join_result_and_goid(rt):
    gs = [gort.go(lambda a, b=0: a * 10 + b, i, b=1) for i in range(20)]
    assert [g.join(timeout=10) for g in gs] == [i * 10 + 1 for i in range(20)]
    ids = [g.goid for g in gs]
    assert all(i > 0 for i in ids) and len(set(ids)) == len(ids)
    assert all(g.done() for g in gs)


def test_exception_reraised_with_traceback(rt):
    def inner():
        raise KeyError("boom")

    def body():
        inner()

    g = gort.go(body)
    with pytest.raises(KeyError) as ei:
        g.join(timeout=10)
    names = [f.name for f in traceback.extract_tb(ei.value.__traceback__)]
    assert "body" in names and "inner" in names
    # BaseExceptions too: a goroutine's SystemExit does not end the process.
    g2 = gort.go(sys.exit, 3)
    with pytest.raises(SystemExit):
        g2.join(timeout=10)
    assert gort.go(lambda: "alive").join(timeout=10) == "alive"


def test_join_timeout(rt):
    ch = gort.Chan()
    g = gort.go(ch.recv)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        g.join(timeout=0.05)
    assert time.monotonic() - t0 >= 0.049
    ch.send("x")
    assert g.join(timeout=10) == "x"


def test_pingpong_1000_goroutines(rt):
    """500 pairs (1,000 goroutines, each on its own thread) exchange values;
    every reply is checked."""
    pairs, rounds = 500, 10

    def ping(i, a, b):
        for r in range(rounds):
            v = (i, r, [i * r])
            a.send(v)
            back = b.recv()
            if back != (i, r + 1, [i * r, "pong"]):
                return "pair %d round %d got %r" % (i, r, back)
        return None

    def pong(a, b):
        for _ in range(rounds):
            i, r, lst = a.recv()
            b.send((i, r + 1, lst + ["pong"]))

    gs = []
    for i in range(pairs):
        a, b = gort.Chan(), gort.Chan(i % 2)
        gs.append(gort.go(ping, i, a, b))
        gs.append(gort.go(pong, a, b))
    res = [g.join(timeout=60) for g in gs]
    assert [r for r in res if r is not None] == []


def test_chan_buffered_len_cap_try_close_iter(rt):
    ch = gort.Chan(3)
    assert ch.cap == 3 and len(ch) == 0
    assert ch.try_send(1) and ch.try_send("two")
    ch.send([3])
    assert len(ch) == 3
    assert ch.try_send(4) is False
    assert ch.try_recv() == (1, True)
    ch.close()
    with pytest.raises(gort.Closed):
        ch.send(5)
    with pytest.raises(gort.Closed):
        ch.try_send(5)
    assert list(ch) == ["two", [3]]
    with pytest.raises(gort.Closed):
        ch.recv()
    with pytest.raises(gort.Closed):
        ch.try_recv()
    with pytest.raises(gort.Closed) as ei:
        ch.close()
    assert ei.value.code == gort.ECLOSED
    assert gort.Chan().try_recv() == (None, False)


def test_recv_timeout_and_closed_wakes_receiver(rt):
    ch = gort.Chan()
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        ch.recv(timeout=0.05)
    assert time.monotonic() - t0 >= 0.049
    with pytest.raises(TimeoutError):
        ch.send(1, timeout=0.01)

    def waiter():
        try:
            ch.recv()
        except gort.Closed:
            return "closed"

    g = gort.go(waiter)
    gort.sleep(0.01)
    ch.close()
    assert g.join(timeout=10) == "closed"


def test_select_fairness(rt):
    a, b = gort.Chan(1), gort.Chan(1)
    counts = [0, 0]
    n = 2000
    for _ in range(n):
        a.try_send("a")
        b.try_send("b")
        i, v = gort.select((a,), (b,))
        assert v == "ab"[i]
        counts[i] += 1
    # Uniform choice: 1000 +- 6 sigma (sigma = 22.4).
    assert 865 < counts[0] < 1135, counts


def test_select_send_recv_timeout_closed(rt):
    a, b = gort.Chan(), gort.Chan(1)
    t0 = time.monotonic()
    assert gort.select((a,), timeout=0.05) == (-1, None)
    assert time.monotonic() - t0 >= 0.049
    assert gort.select((a,), timeout=0) == (-1, None)
    assert gort.select((a,), (b, "sent"), timeout=1) == (1, None)
    assert b.recv() == "sent"
    # A send that loses leaves nothing behind in its channel's table.
    b.send("full")
    assert gort.select((a, "x"), (b, "y"), timeout=0.01) == (-1, None)
    assert a._objs == {} and list(b._objs.values()) == ["full"]
    b.close()
    assert gort.select((a,), (b,)) == (1, "full")
    assert gort.select((a,), (b,)) == (1, gort.CLOSED)
    with pytest.raises(gort.Closed):
        gort.select((b, 1))

    # A select in a goroutine served by the main thread.
    def sel():
        return gort.select((a,), (gort.Chan(),), timeout=10)

    g = gort.go(sel)
    a.send(42)
    assert g.join(timeout=10) == (0, 42)


def test_mutex_and_waitgroup(rt):
    m, wg = gort.Mutex(), gort.WaitGroup()
    box = [0]
    n, k = 8, 200

    def work():
        for _ in range(k):
            with m:
                v = box[0]
                gort.gosched()  # switch while holding the lock
                box[0] = v + 1
        wg.done()

    wg.add(n)
    gs = [gort.go(work) for _ in range(n)]
    with m:  # the main thread contends too
        box[0] += 1
    wg.wait()
    assert box[0] == n * k + 1
    for g in gs:
        g.join(timeout=10)
    assert m.try_lock() and not m.try_lock()
    m.unlock()


def test_other_python_threads(rt):
    ch, out = gort.Chan(), gort.Chan(4)

    def consumer():
        return sum(ch)

    g = gort.go(consumer)
    ths = [threading.Thread(target=lambda base=base: [ch.send(base + i) for i in range(100)]) for base in (0, 1000)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    ch.close()
    assert g.join(timeout=10) == sum(range(100)) + sum(range(1000, 1100))
    # A goroutine joined from another thread.
    g2 = gort.go(lambda: out.recv() * 2)
    res = []
    t = threading.Thread(target=lambda: res.append(g2.join()))
    t.start()
    out.send(21)
    t.join(10)
    assert res == [42]


def test_sleep_gosched_stats_dump(rt):
    def body():
        t0 = time.monotonic()
        gort.sleep(0.02)
        gort.gosched()
        return time.monotonic() - t0

    assert gort.go(body).join(timeout=10) >= 0.019
    ch = gort.Chan()
    g = gort.go(ch.recv)
    gort.sleep(0.01)
    assert rt.numgoroutine() >= 1
    st = rt.stats()
    assert st.maxprocs == rt.maxprocs and st.goroutines_created >= 2 and st.threads >= 1
    assert "goroutine %d [" % g.goid in rt.dump()
    ch.send(None)
    g.join(timeout=10)


def test_million_native_goroutines_joined(rt2):
    n = 1_000_000
    wg = gort.native.wait_group()
    wg.add(n)
    t0 = time.monotonic()
    gort.go_native(gort.native.wg_done, wg, count=n)
    wg.wait()
    assert rt2.stats().goroutines_created >= n
    assert time.monotonic() - t0 < 60
    # wait() from a goroutine as well
    wg.add(1000)
    g = gort.go(wg.wait)
    gort.go_native(gort.native.wg_done, wg, count=1000)
    g.join(timeout=10)


def test_no_leaks(rt):
    obj = object()
    base = sys.getrefcount(obj)
    ch, back = gort.Chan(), gort.Chan(8)

    def echo():
        for v in ch:
            back.send(v)
        return None

    g = gort.go(echo)
    for _ in range(200):
        ch.send(obj)
        assert back.recv() is obj
        gort.select((ch, obj))
        assert gort.select((back,))[1] is obj
    ch.close()
    g.join(timeout=10)
    del g
    assert ch._objs == {} and back._objs == {}
    assert sys.getrefcount(obj) == base

    # A dropped channel drops the values it still buffers.
    class Thing:
        pass

    t = Thing()
    w = weakref.ref(t)
    c = gort.Chan(4)
    c.send(t)
    del t, c
    gc.collect()
    assert w() is None

    # A finished goroutine keeps neither its arguments nor itself.
    arg = Thing()
    wa = weakref.ref(arg)
    g = gort.go(lambda a: None, arg)
    wg = weakref.ref(g)
    g.join(timeout=10)
    del arg, g
    gc.collect()
    assert wa() is None and wg() is None


def test_misuse_raises(rt):
    with pytest.raises(TypeError):
        gort.go(42)
    with pytest.raises(TypeError):
        gort.Chan("3")
    with pytest.raises(ValueError):
        gort.Chan(-1)
    with pytest.raises(TypeError):
        gort.select([gort.Chan()])
    with pytest.raises(TypeError):
        gort.select(("notachan",))
    with pytest.raises(ValueError):
        gort.select((gort.Chan(), 1, 2))
    with pytest.raises(ValueError):
        gort.sleep(-1)
    with pytest.raises(TypeError):
        gort.Chan().recv(timeout="1")
    with pytest.raises(TypeError):
        gort.go_native(lambda a: None)
    import ctypes
    with pytest.raises(TypeError):
        gort.go_native(ctypes.CFUNCTYPE(None, ctypes.c_void_p)(lambda a: None))
    with pytest.raises(ValueError):
        gort.go_native(0)
    with pytest.raises(gort.GortError) as ei:
        gort.Mutex().unlock()
    assert ei.value.code == gort.ESTATE and "state" in ei.value.message
    with pytest.raises(gort.GortError) as ei:
        gort.WaitGroup().add(-1)
    assert ei.value.code == gort.ESTATE
    with pytest.raises(gort.GortError) as ei:
        gort.Runtime().start()
    assert ei.value.code == gort.EBUSY

    def selfjoin():
        return gort._tls.g.join()

    with pytest.raises(gort.GortError):
        gort.go(selfjoin).join(timeout=10)
    with pytest.raises(gort.GortError) as ei:
        gort.go(rt.shutdown).join(timeout=10)
    assert ei.value.code == gort.EBUSY
    assert gort.go(lambda: 1).join(timeout=10) == 1  # still fine


def test_not_running():
    with pytest.raises(gort.NotRunning):
        gort.go(print)
    with pytest.raises(gort.NotRunning):
        gort.Chan()
    with pytest.raises(gort.NotRunning):
        gort.sleep(0)
    with pytest.raises(gort.NotRunning):
        gort.stats()
    with pytest.raises(gort.NotRunning):
        gort.go_native(gort.native.wg_done, None)
    with pytest.raises(ValueError):
        gort.Runtime(maxprocs=0)
    with pytest.raises(TypeError):
        gort.Runtime(debug=1)
    assert issubclass(gort.NotRunning, gort.GortError)
    # An old runtime's goroutine: discarded by shutdown, join says so.
    r = gort.Runtime(maxprocs=1).start()
    ch = gort.Chan()
    g = gort.go(ch.recv)
    gort.sleep(0.01)
    r.shutdown()
    with pytest.raises(gort.NotRunning):
        g.join()
    with gort.Runtime(maxprocs=1):  # and a new one works
        assert gort.go(lambda: 7).join(timeout=10) == 7


def _child(code, timeout=30, env=None):
    e = dict(os.environ)
    e["PYTHONPATH"] = PKG + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env or {})
    return subprocess.Popen([sys.executable, "-c", code], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


CTRL_C_CHILD = r"""
import sys, time, gort
what = sys.argv[1] if len(sys.argv) > 1 else "%s"
with gort.Runtime(maxprocs=2):
    ch, m, wg = gort.Chan(), gort.Mutex(), gort.WaitGroup()
    m.lock(); wg.add(1)
    block = {"recv": ch.recv, "select": lambda: gort.select((ch,)), "join": gort.go(ch.recv).join,
             "lock": m.lock, "wait": wg.wait}[what]
    print("ready", flush=True)
    try:
        block()
        print("returned", flush=True)
    except KeyboardInterrupt:
        print("interrupted %%.6f" %% time.monotonic(), flush=True)
    # still usable after the interrupt
    g = gort.go(lambda: 5)
    print("after", g.join(timeout=10), flush=True)
    ch.close(); m.unlock(); wg.done()
"""


def _interrupt_once(what):
    import signal
    p = _child(CTRL_C_CHILD % what)
    try:
        assert p.stdout.readline().strip() == "ready"
        # Let it get well into the blocking call (several wait slices), then
        # interrupt it. The latency is measured, not assumed.
        time.sleep(0.3)
        t_kill = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20)
    finally:
        p.kill()
    lines = out.split("\n")
    assert lines[0].startswith("interrupted"), (out, err)
    assert lines[1] == "after 5", (out, err)
    assert p.returncode == 0, err
    return float(lines[0].split()[1]) - t_kill


@pytest.mark.parametrize("what", ["recv", "select", "join", "lock", "wait"])
def test_ctrl_c_interrupts_blocked_main_thread(what):
    # Every attempt must be interrupted; the 100 ms bound must hold in one of
    # three (ctest -j may load the 2 cores enough to delay a single one; the
    # mechanism's own bound is the 50 ms wait slice, typically 3-5 ms).
    lat = []
    for _ in range(3):
        lat.append(_interrupt_once(what))
        assert lat[-1] < 2.0, "KeyboardInterrupt %.3fs after SIGINT" % lat[-1]
        if lat[-1] < 0.1:
            break
    assert min(lat) < 0.1, "KeyboardInterrupt latencies %s s, none under 0.1 s" % lat


def test_atexit_shutdown_and_bad_lib():
    p = _child("import gort\nr = gort.Runtime(maxprocs=2).start()\nc = gort.Chan()\n"
               "g = gort.go(c.recv)\nprint('started')\n")
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0 and out.strip() == "started", err
    p = _child("import gort", env={"GORT_LIB": "/nonexistent/libgort.so"})
    out, err = p.communicate(timeout=30)
    assert p.returncode != 0 and "ImportError" in err and "/nonexistent/libgort.so" in err


def test_recursion_limit_in_goroutine(rt):
    """Python recursion, also through C frames (map), hits RecursionError
    well inside a Python goroutine's execution stack."""
    def deep(n):
        return deep(n + 1)

    def cdeep(n):
        return list(map(cdeep, [n + 1]))

    for f in (deep, cdeep):
        with pytest.raises(RecursionError):
            gort.go(f, 0).join(timeout=30)
