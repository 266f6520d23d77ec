"""gort.gc: the GC scan hooks (capi/gort.h, gc_hooks/README.md) from Python.

    def scan(rec):                     # rec: a read-only ScanRecord
        print(rec.goid, rec.status_name, rec.stack_used, rec.roots)
    gort.gc.set_scan_hook(scan)
    gort.gc.set_phase(gort.gc.SCAN)
    gort.gc.quiesce()                  # every live goroutine scanned once
    gort.gc.clear()

Caveats (they follow from the protocol, not from Python):
- scan_g runs on a scheduler stack of whichever thread brought the goroutine
  to its safe point, possibly on several threads at once; the hook takes the
  GIL there, so it is serialised with all Python code. It must not call gort
  (no channels, sleep, go): the record is valid only during the call, so
  ScanRecord copies every field and the precise roots eagerly.
- A Python goroutine is only at a safe point inside a gort call. One that
  runs pure Python without calling gort delays gort_quiesce (and stopg
  answers 0 for it) until it does: a cycle waits for it, as stop-the-world
  would.
- Python goroutines have no managed frames, so their precise roots are empty;
  stack_lo..stack_hi is the C execution stack, with CPython's C frames in it
  (Python frames live on the heap, in the interpreter's own stack chunks).
- An exception raised by the hook is kept in gort.gc.errors (it cannot
  propagate through the scheduler).
"""
import ctypes

import gort

from . import _L, _as_goroutine, _check, _in_goroutine, _require_running, _tls, EBUSY, GortError, Goroutine, lib

OFF, SCAN, MARK = 0, 1, 2
STATUS_NAMES = {1: "runnable", 2: "running", 3: "syscall", 4: "waiting"}

errors = []   # exceptions raised by the scan hook
_hook = None  # (python fn, ctypes callback, hooks struct): kept alive while installed
# gort_g handles seen in scan records of this runtime (generation, set): the
# only ints stopg/restartg accept. gort checks a handle by reading it, so an
# arbitrary int could fault; a G of a live runtime is never unmapped (G
# structs are reused, not freed, until shutdown).
_seen = (0, set())


class ScanRecord:
    """A read-only copy of one gort_scan record, taken during scan_g."""

    __slots__ = ("g", "goid", "status", "stack_lo", "stack_hi", "saved_sp", "roots")

    def __init__(self, **kw):
        for k, v in kw.items():
            object.__setattr__(self, k, v)

    def __setattr__(self, name, value):
        raise AttributeError("ScanRecord is read-only")

    @property
    def status_name(self):
        return STATUS_NAMES.get(self.status, str(self.status))

    @property
    def stack_used(self):
        """Bytes of execution stack in use: stack_hi - saved_sp."""
        return (self.stack_hi or 0) - (self.saved_sp or 0)

    def __repr__(self):
        return "ScanRecord(goid=%d, %s, stack_used=%d, roots=%d)" % (self.goid, self.status_name,
                                                                      self.stack_used, len(self.roots))


def _visit_roots(sp):
    vals = []

    def visit(slot, _ctx):
        vals.append(slot[0] or 0)

    cb = _L.ROOT_VISITOR(visit)
    rc = lib.gort_scan_precise_roots(sp, cb, None)
    return tuple(vals) if rc == 0 else ()


def _make_scan(fn):
    def scan_g(sp, _ctx):
        global _seen
        # The hook runs on a scheduler stack, not in a goroutine, even on the
        # thread of a Python goroutine scanning itself: gort calls from it
        # take the host-thread path (and fail with EBUSY where they would block).
        prev = _tls.__dict__.get("g")
        _tls.g = None
        try:
            s = sp.contents
            if _seen[0] != gort._generation:
                _seen = (gort._generation, set())
            _seen[1].add(s.g)
            rec = ScanRecord(g=s.g, goid=s.goid, status=s.status, stack_lo=s.stack_lo, stack_hi=s.stack_hi,
                             saved_sp=s.saved_sp, roots=_visit_roots(sp))
            fn(rec)
        except BaseException as e:  # noqa: B902 - must not unwind into the scheduler
            errors.append(e)
        finally:
            _tls.g = prev
    return _L.SCAN_G(scan_g)


def set_scan_hook(fn, force_period=None):
    """Installs fn(ScanRecord) as scan_g. force_period (seconds) is the seed's
    forced-GC period for gc_trigger, unused here: None."""
    global _hook
    if not callable(fn):
        raise TypeError("scan hook must be callable")
    _require_running()
    cb = _make_scan(fn)
    h = _L.GcHooks()
    h.size = ctypes.sizeof(h)
    h.scan_g = cb
    _check(lib.gort_gc_set_hooks(ctypes.byref(h)), "gort_gc_set_hooks")
    _hook = (fn, cb, h)


def clear():
    """Removes the hooks and sets the phase back to OFF."""
    global _hook
    _require_running()
    _check(lib.gort_gc_set_phase(OFF), "gort_gc_set_phase")
    _check(lib.gort_gc_set_hooks(None), "gort_gc_set_hooks")
    _hook = None


def set_phase(phase):
    """Sets the phase (OFF, SCAN, MARK); returns the previous one."""
    if phase not in (OFF, SCAN, MARK):
        raise ValueError("phase must be gort.gc.OFF, SCAN or MARK")
    _require_running()
    return _check(lib.gort_gc_set_phase(phase), "gort_gc_set_phase")


def phase():
    _require_running()
    return _check(lib.gort_gc_phase(), "gort_gc_phase")


def quiesce():
    """Brings every goroutine to a safe point and (phase SCAN) scans each
    live one once. From a goroutine, or from a host thread (through a
    goroutine bound to it)."""
    _require_running()
    if _in_goroutine():
        return _check(lib.gort_quiesce(), "gort_quiesce")
    return _check(_as_goroutine(lib.gort_quiesce), "gort_quiesce")


def _handle(g):
    if isinstance(g, Goroutine):
        if g._handle is None or g._gen != gort._generation:
            raise GortError(EBUSY, "goroutine %d is not running" % g.goid)
        return g._handle
    if isinstance(g, int) and not isinstance(g, bool):
        if _seen[0] != gort._generation or g not in _seen[1]:
            raise ValueError("%#x is not a goroutine handle from a scan record of this runtime" % g)
        return g
    raise TypeError("stopg needs a gort.Goroutine or a gort_g handle (int)")


def stopg(g):
    """Claims g (a Goroutine, or a ScanRecord.g handle) at a safe point and
    scans it; True if claimed (release it with restartg), False if it was
    running, already scanned this cycle, claimed elsewhere or dead."""
    _require_running()
    return bool(_check(lib.gort_stopg(_handle(g)), "gort_stopg"))


def restartg(g):
    _require_running()
    _check(lib.gort_restartg(_handle(g)), "gort_restartg")
