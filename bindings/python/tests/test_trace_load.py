"""gort.trace and library loading."""
import os
import subprocess
import sys

import pytest

import gort
import gort.trace

PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKLOAD = r"""
import gort
with gort.Runtime(maxprocs=2):
    ch = gort.Chan(64)
    def prod():
        for i in range(3000):
            ch.send(i)
        ch.close()
    g = gort.go(prod)
    total = sum(ch)
    gort.go(gort.sleep, 0.15).join()
    g.join()
    print("sum", total)
"""


def test_parse_lines():
    s = gort.trace.parse("x\nSCHED 1004ms: gomaxprocs=4 idleprocs=2 threads=5 spinningthreads=0 idlethreads=2 "
                         "runqueue=3 [0 1 0 7]\nSCHED 5ms: gomaxprocs=1 idleprocs=0 threads=2 spinningthreads=1 "
                         "idlethreads=0 runqueue=0 gcwaiting=0\n")
    assert [(x.t_ms, x.gomaxprocs, x.threads, x.runqueue, x.local) for x in s] == \
        [(1004, 4, 5, 3, [0, 1, 0, 7]), (5, 1, 2, 0, [])]


def test_trace_cli(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = PKG + os.pathsep + env.get("PYTHONPATH", "")
    png, csv = tmp_path / "t.png", tmp_path / "t.csv"
    try:
        import matplotlib  # noqa: F401
        plot = ["-o", str(png)]
    except ImportError:
        plot = ["--no-plot"]
    p = subprocess.run([sys.executable, "-m", "gort.trace", "-i", "5", "--csv", str(csv)] + plot +
                       ["--", sys.executable, "-c", WORKLOAD], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "sum %d" % sum(range(3000))
    assert "SCHED " not in p.stderr.replace("SCHED samples", "")
    rows = csv.read_text().splitlines()
    assert rows[0].startswith("t_ms,gomaxprocs") and rows[0].endswith(",p0,p1")
    assert len(rows) >= 1 + 10, rows  # >= 150 ms at 5 ms
    assert all(r.split(",")[1] == "2" for r in rows[1:])
    if plot[0] == "-o":
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_loading():
    assert gort.lib.gort_abi_version() == gort._L.ABI_VERSION
    assert os.path.exists(gort.library_path) or gort.library_path.startswith("lib")
    # A library found beside the package is used without GORT_LIB.
    env = dict(os.environ)
    env.pop("GORT_LIB", None)
    env["PYTHONPATH"] = PKG
    code = "import gort; print(gort.library_path)"
    here = os.path.join(PKG, "gort")
    if not any(n.startswith("libgort.so") for n in os.listdir(here)) and os.environ.get("GORT_LIB"):
        # Not installed beside the package: check the search order reports
        # what it tried when nothing is found.
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            assert "tried" in p.stderr and "GORT_LIB" in p.stderr
        return
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
