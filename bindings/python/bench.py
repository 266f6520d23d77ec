"""bench.py: the Python binding's figures, side by side in one run.

  roundtrip: N round trips of a Python object between two Python goroutines
             over two unbuffered gort.Chans; between two threading.Threads
             over two queue.Queues; between two asyncio tasks over two
             asyncio.Queues. Reported per round trip.
  spawn:     a million native goroutines (libgort_pynative's leaf: gort_wg_done)
             started and joined (wait group) - by one native spawner
             goroutine (pyn_spawn) started from Python vs from C
             (pynative_bench), and by a loop of a million gort_go calls from
             Python (go_native count=N) vs from a C host thread.

Runs alternate (A B C A B C ...) so drift hits all alike; prints medians and
min-max as a Markdown table.

    GORT_LIB=build/libgort.so python3 bindings/python/bench.py [--runs 5] [--n 20000] [--spawn 1000000]
"""
import argparse
import asyncio
import os
import queue
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "examples"))
import gort  # noqa: E402
import _native  # noqa: E402


def rt_gort(n):
    a, b = gort.Chan(), gort.Chan()

    def echo():
        for v in a:
            b.send(v)

    def ping():
        t0 = time.perf_counter()
        for i in range(n):
            a.send(i)
            if b.recv() != i:
                raise AssertionError("wrong value")
        return time.perf_counter() - t0

    e = gort.go(echo)
    dt = gort.go(ping).join()
    a.close()
    e.join()
    return dt / n


def rt_queue(n):
    a, b = queue.Queue(), queue.Queue()

    def echo():
        while True:
            v = a.get()
            if v is None:
                return
            b.put(v)

    t = threading.Thread(target=echo)
    t.start()
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        a.put(i)
        if b.get() != i:
            raise AssertionError("wrong value")
    dt = time.perf_counter() - t0
    a.put(None)
    t.join()
    return dt / n


def rt_asyncio(n):
    async def main():
        a, b = asyncio.Queue(), asyncio.Queue()

        async def echo():
            while True:
                v = await a.get()
                if v is None:
                    return
                await b.put(v)

        t = asyncio.ensure_future(echo())
        t0 = time.perf_counter()
        for i in range(1, n + 1):
            await a.put(i)
            if await b.get() != i:
                raise AssertionError("wrong value")
        dt = time.perf_counter() - t0
        await a.put(None)
        await t
        return dt / n

    return asyncio.run(main())


def spawn_py_one(lib, n):
    wg = gort.native.wait_group()
    arg = _native.SpawnArg(n, wg.ptr, 0)
    wg.add(n)
    t0 = time.perf_counter()
    gort.go_native(lib.pyn_spawn, arg)
    wg.wait()
    dt = time.perf_counter() - t0
    assert arg.failed == 0
    return dt


def spawn_py_loop(n):
    wg = gort.native.wait_group()
    wg.add(n)
    t0 = time.perf_counter()
    gort.go_native(gort.native.wg_done, wg, count=n)
    wg.wait()
    return time.perf_counter() - t0


def spawn_c(exe, n, procs):
    out = subprocess.run([exe, str(n), str(procs)], capture_output=True, text=True, check=True).stdout
    d = {}
    for line in out.splitlines():
        k, _, s = line.split()
        d[k] = float(s)
    return d


def fmt(xs, unit, scale):
    xs = [x * scale for x in xs]
    return "%.2f %s (%.2f-%.2f)" % (statistics.median(xs), unit, min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--n", type=int, default=20000, help="round trips per run")
    ap.add_argument("--spawn", type=int, default=1000000, help="native goroutines per spawn run")
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--bench-exe", default=None, help="pynative_bench (default: beside libgort_pynative)")
    o = ap.parse_args()
    lib = _native.load()
    exe = o.bench_exe or os.path.join(os.path.dirname(lib._name), "pynative_bench")
    r = {k: [] for k in ("gort", "queue", "asyncio", "py_one", "c_one", "py_loop", "c_loop")}
    for run in range(o.runs):
        with gort.Runtime(maxprocs=o.procs):
            r["gort"].append(rt_gort(o.n))
        r["queue"].append(rt_queue(o.n))
        r["asyncio"].append(rt_asyncio(o.n))
        with gort.Runtime(maxprocs=o.procs):
            r["py_one"].append(spawn_py_one(lib, o.spawn))
            r["py_loop"].append(spawn_py_loop(o.spawn))
        c = spawn_c(exe, o.spawn, o.procs)
        r["c_one"].append(c["c_spawn_one"])
        r["c_loop"].append(c["c_spawn_loop"])
        print("run %d/%d done" % (run + 1, o.runs), file=sys.stderr)
    med = {k: statistics.median(v) for k, v in r.items()}
    print("Python %s, gort %s, maxprocs %d, %d runs (median, min-max), %d CPUs" % (
        sys.version.split()[0], gort.version(), o.procs, o.runs, os.cpu_count()))
    print()
    print("| measurement | result | ratio |")
    print("|---|---|---|")
    print("| round trip, 2 Python goroutines, gort.Chan | %s | 1.00 |" % fmt(r["gort"], "us", 1e6))
    print("| round trip, 2 threads, queue.Queue | %s | %.2f |" % (fmt(r["queue"], "us", 1e6),
                                                              med["queue"] / med["gort"]))
    print("| round trip, 2 asyncio tasks, asyncio.Queue | %s | %.2f |" % (fmt(r["asyncio"], "us", 1e6),
                                                                      med["asyncio"] / med["gort"]))
    print("| %d native goroutines, one native spawner started from C | %s | 1.00 |" % (
        o.spawn, fmt(r["c_one"], "s", 1)))
    print("| same, spawner started from Python (go_native + wg.wait) | %s | %.2f |" % (
        fmt(r["py_one"], "s", 1), med["py_one"] / med["c_one"]))
    print("| %d gort_go calls from a C host thread, joined | %s | 1.00 |" % (o.spawn, fmt(r["c_loop"], "s", 1)))
    print("| %d go_native calls from Python (count=N loop), joined | %s | %.2f |" % (
        o.spawn, fmt(r["py_loop"], "s", 1), med["py_loop"] / med["c_loop"]))


if __name__ == "__main__":
    main()
