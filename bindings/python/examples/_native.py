"""Finds libgort_pynative.so (bindings/python/native, built by CMake as
gort_pynative) for the examples and bench.py: $GORT_PYNATIVE_LIB, else beside
$GORT_LIB's directory tree (build/bindings/python/), else ./build/..."""
import os.path as _p, sys as _s
_s.path.insert(1, _p.join(_p.dirname(_p.abspath(__file__)), ".."))  # this checkout's package
import ctypes
import os

import gort


class SpawnArg(ctypes.Structure):  # struct pyn_spawn_arg
    _fields_ = [("n", ctypes.c_int64), ("wg", ctypes.c_void_p), ("failed", ctypes.c_int)]


class SkynetArg(ctypes.Structure):  # struct pyn_skynet_arg
    _fields_ = [("leaves", ctypes.c_int64), ("result", ctypes.c_int64), ("wg", ctypes.c_void_p)]


def load():
    cands = [os.environ.get("GORT_PYNATIVE_LIB")]
    libdir = os.path.dirname(gort.library_path)
    cands.append(os.path.join(libdir, "bindings", "python", "libgort_pynative.so"))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cands.append(os.path.join(root, "build", "bindings", "python", "libgort_pynative.so"))
    for c in cands:
        if c and os.path.exists(c):
            return ctypes.CDLL(c)
    raise SystemExit("libgort_pynative.so not found: build the gort_pynative target and set GORT_PYNATIVE_LIB")
