"""Finding and loading libgort, and the ctypes prototypes of capi/gort.h.

Search order (the first that loads wins):
  1. $GORT_LIB: a path to the library file;
  2. a libgort.so* installed beside this package (the package directory);
  3. the library directory recorded by `cmake --install` (GORT_BUILD_PYTHON
     writes it into _libdir.txt), then ../../ and ../../../ from the package
     (prefix/lib/python3/dist-packages/gort -> prefix/lib);
  4. the system's: ctypes.util.find_library("gort"), then "libgort.so.1".
"""
import ctypes
import ctypes.util
import glob
import os

ABI_VERSION = 1  # GORT_ABI_VERSION of the header these prototypes follow

_here = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    env = os.environ.get("GORT_LIB")
    if env:
        # An explicit choice is the only one tried: a wrong GORT_LIB must not
        # silently fall back to another copy of the library.
        return [env], True
    c = sorted(glob.glob(os.path.join(_here, "libgort.so*")))
    try:
        with open(os.path.join(_here, "_libdir.txt")) as f:
            d = f.read().strip()
        if d:
            c.append(os.path.join(d, "libgort.so"))
    except OSError:
        pass
    for up in ("../..", "../../.."):
        c.append(os.path.normpath(os.path.join(_here, up, "libgort.so")))
    found = ctypes.util.find_library("gort")
    if found:
        c.append(found)
    c.append("libgort.so.1")
    return c, False


def load():
    cands, explicit = _candidates()
    errors = []
    for path in cands:
        if os.sep in path and not os.path.exists(path):
            errors.append("%s (no such file)" % path)
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append("%s (%s)" % (path, e))
            continue
        _declare(lib)
        got = lib.gort_abi_version()
        if got != ABI_VERSION:
            raise ImportError("gort: %s has ABI version %d, this package needs %d" % (path, got, ABI_VERSION))
        return lib, path
    how = "GORT_LIB=%s" % cands[0] if explicit else "set GORT_LIB to the path of libgort.so"
    raise ImportError("gort: cannot load libgort (%s); tried:\n  %s" % (how, "\n  ".join(errors)))


c_int, c_int64, c_size_t, c_void_p, c_char_p = ctypes.c_int, ctypes.c_int64, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_char_p

GOFN = ctypes.CFUNCTYPE(None, c_void_p)


class Config(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("maxprocs", c_int), ("stack_size", c_size_t),
                ("max_threads", c_int), ("debug", c_char_p)]


class GoOpts(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("stack_size", c_size_t), ("lock_os_thread", c_int)]


class Stats(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("goroutines", c_int64), ("threads", c_int64),
                ("idle_threads", c_int64), ("spinning_threads", c_int64), ("idle_procs", c_int64),
                ("maxprocs", c_int64), ("global_runq", c_int64), ("goroutines_created", ctypes.c_uint64),
                ("context_switches", ctypes.c_uint64), ("steals", ctypes.c_uint64)]


class SelectCase(ctypes.Structure):
    _fields_ = [("c", c_void_p), ("dir", c_int), ("elem", c_void_p), ("ok", c_int)]


class Scan(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("g", c_void_p), ("goid", c_int64), ("status", c_int),
                ("stack_lo", c_void_p), ("stack_hi", c_void_p), ("saved_sp", c_void_p)]


SCAN_G = ctypes.CFUNCTYPE(None, ctypes.POINTER(Scan), c_void_p)
ROOT_VISITOR = ctypes.CFUNCTYPE(None, ctypes.POINTER(c_void_p), c_void_p)
TRIGGER = ctypes.CFUNCTYPE(None, c_void_p)


class GcHooks(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("scan_g", SCAN_G), ("gc_trigger", TRIGGER),
                ("force_period_ns", c_int64), ("ctx", c_void_p)]


def _declare(lib):
    P = ctypes.POINTER

    def f(name, res, *args):
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = list(args)

    f("gort_abi_version", c_int)
    f("gort_version", c_char_p)
    f("gort_strerror", c_char_p, c_int)
    f("gort_config_init", None, P(Config))
    f("gort_init", c_int, P(Config))
    f("gort_start", c_int)
    f("gort_shutdown", c_int)
    f("gort_go", c_int, c_void_p, c_void_p, c_size_t, P(c_int64))
    f("gort_go_ex", c_int, c_void_p, c_void_p, c_size_t, P(GoOpts), P(c_int64))
    f("gort_self", c_void_p)
    f("gort_goid", c_int64, c_void_p)
    f("gort_gosched", c_int)
    f("gort_maxprocs", c_int)
    f("gort_numgoroutine", c_int)
    f("gort_stats_get", c_int, P(Stats))
    f("gort_call_as_goroutine", c_int, c_void_p, c_void_p)
    f("gort_dump_goroutines", c_int, c_int)
    f("gort_nanotime", c_int64)
    f("gort_sleep", c_int, c_int64)
    f("gort_chan_new", c_int, c_size_t, c_size_t, P(c_void_p))
    f("gort_chan_send", c_int, c_void_p, c_void_p)
    f("gort_chan_recv", c_int, c_void_p, c_void_p, P(c_int))
    f("gort_chan_trysend", c_int, c_void_p, c_void_p)
    f("gort_chan_tryrecv", c_int, c_void_p, c_void_p, P(c_int))
    f("gort_chan_close", c_int, c_void_p)
    f("gort_chan_len", c_int, c_void_p)
    f("gort_chan_cap", c_int, c_void_p)
    f("gort_chan_free", c_int, c_void_p)
    f("gort_select", c_int, P(SelectCase), c_int, c_int64)
    f("gort_mutex_lock", c_int, c_void_p)
    f("gort_mutex_trylock", c_int, c_void_p)
    f("gort_mutex_unlock", c_int, c_void_p)
    f("gort_wg_add", c_int, c_void_p, c_int)
    f("gort_wg_done", c_int, c_void_p)
    f("gort_wg_wait", c_int, c_void_p)
    f("gort_gc_set_hooks", c_int, P(GcHooks))
    f("gort_gc_set_phase", c_int, c_int)
    f("gort_gc_phase", c_int)
    f("gort_quiesce", c_int)
    f("gort_stopg", c_int, c_void_p)
    f("gort_restartg", c_int, c_void_p)
    f("gort_scan_precise_roots", c_int, P(Scan), ROOT_VISITOR, c_void_p)
    f("gort_set_maxprocs", c_int, c_int)
