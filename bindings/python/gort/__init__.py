"""gort: Python goroutines, channels and select on the gort runtime (ctypes).

Design (see README.md, "Why Python goroutines are safe"): every Python
goroutine is a gort goroutine started locked to its own OS thread
(gort_go_opts.lock_os_thread), so the CPython thread state ctypes creates for
it on entry stays the thread's only state until the goroutine returns. Host
threads (the main thread, threading.Thread) block through
gort_call_as_goroutine, which runs the call on a goroutine bound to the
calling thread, so their own thread state is the one in use there too.
"""
import atexit
import ctypes
import dataclasses
import itertools
import os
import tempfile
import threading
import time

from . import _lib as _L

lib, library_path = _L.load()

__all__ = ["Runtime", "go", "Goroutine", "Chan", "select", "Closed", "CLOSED", "Mutex", "WaitGroup",
           "sleep", "gosched", "GortError", "NotRunning", "Stats", "stats", "dump", "numgoroutine",
           "go_native", "version"]

OK, EINVAL, ENOTINIT, ENOTG, ESTATE, ENOMEM, EAGAIN, EBUSY, ESTACKOVERFLOW, ETIMEDOUT, ECLOSED = \
    0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10
_SEND, _RECV = 1, 2
_INT_MAX = 2 ** 31 - 1
# How long a blocking call from the main thread waits inside gort before
# Python gets a chance to run its signal handlers (KeyboardInterrupt).
_MAIN_SLICE_NS = 50 * 1000 * 1000


def version():
    return lib.gort_version().decode()


# ---------------------------------------------------------------- errors

class GortError(Exception):
    """A gort error code: .code (a negative GORT_E* value) and gort's message."""

    def __init__(self, code, what=None):
        self.code = code
        self.message = lib.gort_strerror(code).decode()
        super().__init__("%s: %s (gort error %d)" % (what, self.message, code) if what
                         else "%s (gort error %d)" % (self.message, code))


class NotRunning(GortError):
    """The call needs a running gort.Runtime."""

    def __init__(self, what=None):
        super().__init__(ENOTINIT, what or "no gort.Runtime is running")


class Closed(GortError):
    """Receive from a closed and drained channel, send on a closed one."""

    def __init__(self, what=None):
        super().__init__(ECLOSED, what)


class _ClosedValue:
    def __repr__(self):
        return "gort.CLOSED"


CLOSED = _ClosedValue()  # select's value for a receive case whose channel is closed


def _err(rc, what=None):
    if rc == ENOTINIT:
        return NotRunning(what)
    if rc == ECLOSED:
        return Closed(what)
    return GortError(rc, what)


def _check(rc, what=None):
    if rc < 0:
        raise _err(rc, what)
    return rc


def _int_arg(v, name, lo=None, hi=None):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError("%s must be an int, not %s" % (name, type(v).__name__))
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError("%s out of range: %d" % (name, v))
    return v


def _seconds_to_ns(timeout, name="timeout"):
    """None -> -1 (for ever); seconds -> ns (>= 0)."""
    if timeout is None:
        return -1
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError("%s must be a number of seconds or None" % name)
    if timeout != timeout or timeout < 0:
        raise ValueError("%s must be >= 0" % name)
    return int(timeout * 1e9)


# ---------------------------------------------------------------- runtime

_state_lock = threading.Lock()
_current = None      # the running Runtime
_generation = 0      # bumped by every start: objects of an older runtime are stale
_tls = threading.local()  # .g: the Goroutine this thread runs (Python goroutines only)
_host_busy = 0       # host threads inside gort_call_as_goroutine now


def _require_running():
    if _current is None:
        raise NotRunning()


def _in_goroutine():
    return getattr(_tls, "g", None) is not None


@dataclasses.dataclass(frozen=True)
class Stats:
    """A snapshot of gort_stats (fields may disagree by a few units)."""
    goroutines: int
    threads: int
    idle_threads: int
    spinning_threads: int
    idle_procs: int
    maxprocs: int
    global_runq: int
    goroutines_created: int
    context_switches: int
    steals: int


class Runtime:
    """The gort runtime in background mode. A context manager:

        with gort.Runtime(maxprocs=2):
            g = gort.go(f, 1)
            print(g.join())

    maxprocs: number of Ps (None: GORT_MAXPROCS or the CPUs); stack_size:
    execution stack of native goroutines in bytes (None: 64 KiB or
    GORT_STACKSIZE); debug: GORT_DEBUG-style string; python_stack_size: the
    execution stack of each Python goroutine (CPython needs more than C).
    One Runtime runs at a time; it is shut down at interpreter exit if still
    running."""

    def __init__(self, maxprocs=None, stack_size=None, debug=None, python_stack_size=2 << 20):
        if maxprocs is not None:
            _int_arg(maxprocs, "maxprocs", 1, 256)
        if stack_size is not None:
            _int_arg(stack_size, "stack_size", 16 << 10, 256 << 20)
        if debug is not None and not isinstance(debug, str):
            raise TypeError("debug must be a str")
        _int_arg(python_stack_size, "python_stack_size", 64 << 10, 256 << 20)
        self.maxprocs, self.stack_size, self.debug = maxprocs, stack_size, debug
        self.python_stack_size = python_stack_size
        self._running = False

    def start(self):
        global _current, _generation
        with _state_lock:
            if _current is not None:
                raise GortError(EBUSY, "a gort.Runtime is already running")
            cfg = _L.Config()
            lib.gort_config_init(ctypes.byref(cfg))
            if self.maxprocs is not None:
                cfg.maxprocs = self.maxprocs
            if self.stack_size is not None:
                cfg.stack_size = self.stack_size
            if self.debug is not None:
                self._debug_bytes = self.debug.encode()
                cfg.debug = self._debug_bytes
            _check(lib.gort_init(ctypes.byref(cfg)), "gort_init")
            rc = lib.gort_start()
            if rc < 0:
                lib.gort_shutdown()
                raise _err(rc, "gort_start")
            self._opts = _L.GoOpts(ctypes.sizeof(_L.GoOpts), self.python_stack_size, 1)
            _generation += 1
            _current = self
            self._running = True
        return self

    def shutdown(self):
        """Stops the runtime: waits for every running goroutine to reach a
        scheduling point; goroutines not finished are discarded (their
        join() raises NotRunning). From a host thread only."""
        global _current
        if _in_goroutine():
            raise GortError(EBUSY, "shutdown from a goroutine")
        with _state_lock:
            if _current is not self:
                return
            if _host_busy:
                raise GortError(EBUSY, "host threads are blocked in gort calls")
            _current = None
            self._running = False
            rc = lib.gort_shutdown()
            for g in list(_started.values()):
                g._abandon()
            _started.clear()
            _live.clear()
            _check(rc, "gort_shutdown")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.shutdown()
        return False

    @property
    def running(self):
        return self._running

    stats = staticmethod(lambda: stats())
    dump = staticmethod(lambda: dump())
    numgoroutine = staticmethod(lambda: numgoroutine())


def stats():
    _require_running()
    st = _L.Stats()
    st.size = ctypes.sizeof(st)
    _check(lib.gort_stats_get(ctypes.byref(st)), "gort_stats_get")
    return Stats(*(getattr(st, f.name) for f in dataclasses.fields(Stats)))


def dump():
    """The goroutine dump (gort_dump_goroutines) as a str."""
    _require_running()
    with tempfile.TemporaryFile() as f:
        _check(lib.gort_dump_goroutines(f.fileno()), "gort_dump_goroutines")
        f.seek(0)
        return f.read().decode(errors="replace")


def numgoroutine():
    _require_running()
    return _check(lib.gort_numgoroutine())


@atexit.register
def _shutdown_at_exit():
    rt = _current
    if rt is not None:
        try:
            rt.shutdown()
        except GortError:
            pass


# ------------------------------------------------- host threads in gort

def _hostcall_entry(_arg):
    # Runs on this same OS thread (a goroutine bound to it), under the thread
    # state ctypes released for gort_call_as_goroutine. Never lets an
    # exception escape (ctypes would print and drop it).
    t = _tls
    try:
        t.rc = t.fn()
    except BaseException as e:  # noqa: B902 - KeyboardInterrupt included
        t.exc = e


_hostcall_c = _L.GOFN(_hostcall_entry)


def _as_goroutine(fn):
    """Runs fn() on a goroutine bound to this host thread and returns its
    result (re-raising its exception)."""
    global _host_busy
    t = _tls
    t.fn, t.exc, t.rc = fn, None, None
    with _state_lock:
        if _current is None:
            raise NotRunning()
        _host_busy += 1
    try:
        rc = lib.gort_call_as_goroutine(_hostcall_c, None)
    finally:
        with _state_lock:
            _host_busy -= 1
    exc, t.fn, t.exc = t.exc, None, None
    if exc is not None:
        raise exc
    _check(rc, "gort_call_as_goroutine")
    return t.rc


def _select_raw(cases, n, timeout_ns):
    """gort_select from anywhere: directly in a goroutine; from a host
    thread via _as_goroutine, in slices on the main thread so that signal
    handlers (Ctrl-C) run between them. Returns gort_select's result."""
    if timeout_ns == 0 or _in_goroutine():
        return lib.gort_select(cases, n, timeout_ns)
    if threading.current_thread() is not threading.main_thread():
        return _as_goroutine(lambda: lib.gort_select(cases, n, timeout_ns))
    deadline = None if timeout_ns < 0 else time.monotonic_ns() + timeout_ns
    while True:
        left = _MAIN_SLICE_NS if deadline is None else min(_MAIN_SLICE_NS, deadline - time.monotonic_ns())
        if left <= 0:
            return ETIMEDOUT
        rc = _as_goroutine(lambda: lib.gort_select(cases, n, left))
        if rc != ETIMEDOUT:
            return rc
        # Back in Python on the main thread: a pending SIGINT raises
        # KeyboardInterrupt at the next loop iteration.


# ---------------------------------------------------------------- goroutines

_ids = itertools.count(1)
_live = {}      # id -> Goroutine, started but not yet entered
_started = {}   # id -> Goroutine, not yet finished (for shutdown)


def _py_entry(arg):
    g = _live.pop(arg, None)
    if g is None:  # shut down before it ran
        return
    _tls.g = g
    g._handle = lib.gort_self()
    try:
        g._result = g._fn(*g._args, **g._kwargs)
    except BaseException as e:  # noqa: B902 - an exception never kills the process
        g._exc = e
    finally:
        g._fn = g._args = g._kwargs = None
        g._done = True
        g._handle = None
        _started.pop(arg, None)
        _tls.g = None
        lib.gort_chan_close(g._donech)


# Kept alive for the life of the module: every Python goroutine enters here.
_py_entry_c = _L.GOFN(_py_entry)


class Goroutine:
    """A Python callable running as a gort goroutine (see gort.go)."""

    __slots__ = ("_fn", "_args", "_kwargs", "_result", "_exc", "_done", "_abandoned", "_donech", "goid",
                 "_gen", "_handle", "__weakref__")

    def __init__(self):
        self._result = self._exc = None
        self._done = self._abandoned = False
        self._donech = None
        self._handle = None  # its gort_g while it runs (gort.gc.stopg)
        self.goid = -1

    def _abandon(self):
        self._abandoned = True

    def done(self):
        return self._done

    def join(self, timeout=None):
        """Waits for the goroutine; returns its result or re-raises its
        exception (with its traceback). TimeoutError after timeout seconds."""
        ns = _seconds_to_ns(timeout)
        if not self._done:
            if self._abandoned or self._gen != _generation or _current is None:
                raise NotRunning("goroutine %d was discarded by shutdown" % self.goid)
            if _tls.__dict__.get("g") is self:
                raise GortError(EBUSY, "a goroutine cannot join itself")
            cases = (_L.SelectCase * 1)(_L.SelectCase(self._donech, _RECV, None, 0))
            rc = _select_raw(cases, 1, ns)
            if rc in (ETIMEDOUT, EAGAIN):
                raise TimeoutError("goroutine %d did not finish in %ss" % (self.goid, timeout))
            _check(rc, "join")
        if self._exc is not None:
            raise self._exc
        return self._result

    def __repr__(self):
        return "<gort.Goroutine %d %s>" % (self.goid, "done" if self._done else "running")

    def __del__(self):
        c, self._donech = self._donech, None
        if c:
            try:
                lib.gort_chan_free(c)
            except Exception:
                pass


def go(fn, *args, **kwargs):
    """Runs fn(*args, **kwargs) as a goroutine locked to its own OS thread;
    returns its Goroutine."""
    if not callable(fn):
        raise TypeError("gort.go needs a callable, not %s" % type(fn).__name__)
    rt = _current
    if rt is None:
        raise NotRunning()
    g = Goroutine()
    g._fn, g._args, g._kwargs, g._gen = fn, args, kwargs, _generation
    c = ctypes.c_void_p()
    _check(lib.gort_chan_new(0, 0, ctypes.byref(c)), "gort_chan_new")
    g._donech = c.value
    gid = next(_ids)
    _live[gid] = g
    _started[gid] = g
    goid = ctypes.c_int64(-1)
    rc = lib.gort_go_ex(_py_entry_c, gid, 0, ctypes.byref(rt._opts), ctypes.byref(goid))
    if rc < 0:
        _live.pop(gid, None)
        _started.pop(gid, None)
        raise _err(rc, "gort_go_ex")
    g.goid = goid.value
    return g


def gosched():
    """Yields the processor (a goroutine); a host thread just yields its CPU."""
    _require_running()
    if _in_goroutine():
        _check(lib.gort_gosched(), "gort_gosched")
    else:
        os.sched_yield()


def sleep(seconds):
    """Sleeps; a goroutine parks in gort (its thread sleeps, the P runs
    others); a host thread sleeps as time.sleep (Ctrl-C works)."""
    ns = _seconds_to_ns(seconds, "seconds")
    _require_running()
    if _in_goroutine():
        _check(lib.gort_sleep(ns), "gort_sleep")
    else:
        time.sleep(seconds)


# ---------------------------------------------------------------- channels

_tokens = itertools.count(1)


class Chan:
    """A channel of Python objects. The gort channel carries integer tokens;
    the objects wait in this Chan's table while in flight, so a dropped
    channel drops them with it."""

    def __init__(self, capacity=0):
        _int_arg(capacity, "capacity", 0, _INT_MAX)
        _require_running()
        c = ctypes.c_void_p()
        _check(lib.gort_chan_new(8, capacity, ctypes.byref(c)), "gort_chan_new")
        self._c = c.value
        self._cap = capacity
        self._objs = {}

    @property
    def cap(self):
        return self._cap

    def __len__(self):
        return _check(lib.gort_chan_len(self._c), "gort_chan_len")

    def _put(self, value):
        tok = next(_tokens)
        self._objs[tok] = value
        return tok

    def send(self, value, timeout=None):
        """Sends value; blocks until received or buffered. Raises Closed if
        the channel is (or gets) closed, TimeoutError after timeout."""
        ns = _seconds_to_ns(timeout)
        tok = self._put(value)
        buf = ctypes.c_int64(tok)
        try:
            if ns < 0 and _in_goroutine():
                rc = lib.gort_chan_send(self._c, ctypes.byref(buf))
            else:
                cases = (_L.SelectCase * 1)(_L.SelectCase(self._c, _SEND, ctypes.addressof(buf), -1))
                rc = _select_raw(cases, 1, ns)
                if rc == 0 and cases[0].ok == 0:
                    rc = ECLOSED
        except BaseException:
            if cases[0].ok != 1:
                self._objs.pop(tok, None)
            raise
        if rc < 0:
            self._objs.pop(tok, None)
            if rc in (ETIMEDOUT, EAGAIN):
                raise TimeoutError("send timed out")
            raise _err(rc, "send")

    def recv(self, timeout=None):
        """Receives a value; raises Closed once the channel is closed and
        drained, TimeoutError after timeout."""
        ns = _seconds_to_ns(timeout)
        buf = ctypes.c_int64(0)
        if ns < 0 and _in_goroutine():
            ok = ctypes.c_int(0)
            _check(lib.gort_chan_recv(self._c, ctypes.byref(buf), ctypes.byref(ok)), "recv")
            okv = ok.value
        else:
            cases = (_L.SelectCase * 1)(_L.SelectCase(self._c, _RECV, ctypes.addressof(buf), -1))
            try:
                rc = _select_raw(cases, 1, ns)
            except BaseException:
                if cases[0].ok == 1:  # received, then interrupted: drop it
                    self._objs.pop(buf.value, None)
                raise
            if rc in (ETIMEDOUT, EAGAIN):
                raise TimeoutError("recv timed out")
            _check(rc, "recv")
            okv = cases[0].ok
        if not okv:
            raise Closed("recv on a closed channel")
        return self._objs.pop(buf.value)

    def try_send(self, value):
        """Sends without blocking: True if sent, False if it would block.
        Closed if closed."""
        tok = self._put(value)
        rc = lib.gort_chan_trysend(self._c, ctypes.byref(ctypes.c_int64(tok)))
        if rc == 0:
            return True
        self._objs.pop(tok, None)
        if rc == EAGAIN:
            return False
        raise _err(rc, "try_send")

    def try_recv(self):
        """(value, True) if one was ready, (None, False) if it would block;
        Closed once closed and drained."""
        buf, ok = ctypes.c_int64(0), ctypes.c_int(0)
        rc = lib.gort_chan_tryrecv(self._c, ctypes.byref(buf), ctypes.byref(ok))
        if rc == EAGAIN:
            return None, False
        _check(rc, "try_recv")
        if not ok.value:
            raise Closed("try_recv on a closed channel")
        return self._objs.pop(buf.value), True

    def close(self):
        """Closes the channel (Closed if already closed). Buffered values
        are still received."""
        _check(lib.gort_chan_close(self._c), "close")

    def __iter__(self):
        while True:
            try:
                yield self.recv()
            except Closed:
                return

    def __del__(self):
        c, self._c = getattr(self, "_c", None), None
        if c:
            try:
                # The tokens still buffered are plain ints; their objects
                # go with self._objs.
                lib.gort_chan_free(c)
            except Exception:
                pass

    def __repr__(self):
        return "<gort.Chan cap=%d>" % self._cap


def select(*cases, timeout=None):
    """Go's select. Each case is (ch,) to receive or (ch, value) to send.
    Returns (index, value): the received value (gort.CLOSED if that
    channel is closed), None for a send. timeout None waits for ever, 0
    polls; (-1, None) when no case proceeded in time. A send case on a
    closed channel raises Closed."""
    ns = _seconds_to_ns(timeout)
    n = len(cases)
    if n > 65536:
        raise ValueError("too many cases")
    arr = (_L.SelectCase * n)()
    bufs = (ctypes.c_int64 * max(n, 1))()
    base = ctypes.addressof(bufs)
    sends = []
    for i, case in enumerate(cases):
        if not isinstance(case, tuple):
            raise TypeError("select case %d must be a tuple (ch,) or (ch, value)" % i)
        if len(case) not in (1, 2):
            raise ValueError("select case %d must be (ch,) or (ch, value)" % i)
        ch = case[0]
        if not isinstance(ch, Chan):
            raise TypeError("select case %d: %r is not a gort.Chan" % (i, ch))
    for i, case in enumerate(cases):
        ch = case[0]
        if len(case) == 2:
            bufs[i] = ch._put(case[1])
            sends.append(i)
        arr[i] = _L.SelectCase(ch._c, _SEND if len(case) == 2 else _RECV, base + 8 * i, -1)

    def unsent(winner):
        for i in sends:
            if i != winner:
                cases[i][0]._objs.pop(bufs[i], None)

    try:
        rc = _select_raw(arr, n, ns)
    except BaseException:
        won = next((i for i in range(n) if arr[i].ok != -1), -1)
        if won >= 0 and len(cases[won]) == 1 and arr[won].ok == 1:
            cases[won][0]._objs.pop(bufs[won], None)
        unsent(won if won >= 0 and arr[won].ok == 1 else -1)
        raise
    if rc in (ETIMEDOUT, EAGAIN):
        unsent(-1)
        return -1, None
    if rc < 0:
        unsent(-1)
        raise _err(rc, "select")
    ok = arr[rc].ok
    if rc in sends:
        unsent(rc if ok else -1)
        if not ok:
            raise Closed("select: send on a closed channel")
        return rc, None
    unsent(-1)
    if not ok:
        return rc, CLOSED
    return rc, cases[rc][0]._objs.pop(bufs[rc])


# ---------------------------------------------------------------- sync

def _host_wait(block, undo=None):
    """From the main thread: run block() (a blocking gort call that has no
    timeout) in a helper Python goroutine and wait for it in interruptible
    slices. If the wait is interrupted, undo() runs once block() has
    completed (at once, or later in the helper)."""
    st = {"done": False, "cancel": False, "rc": 0}
    lk = threading.Lock()
    ch = Chan(1)

    def helper():
        rc = block()
        with lk:
            st["done"], st["rc"] = True, rc
            cancelled = st["cancel"]
        if cancelled and undo is not None and rc == 0:
            undo()
        ch.close()

    go(helper)
    try:
        try:
            ch.recv()
        except Closed:
            pass
    except BaseException:
        with lk:
            st["cancel"] = True
            done, rc = st["done"], st["rc"]
        if done and undo is not None and rc == 0:
            undo()
        raise
    return st["rc"]


def _block(fn, *args):
    """A blocking gort call without timeout, from anywhere."""
    if _in_goroutine():
        return fn(*args)
    if threading.current_thread() is threading.main_thread():
        return _host_wait(lambda: fn(*args))
    return _as_goroutine(lambda: fn(*args))


class Mutex:
    """sync.Mutex (gort_mutex). A context manager. Not tied to a goroutine
    or thread: any of them may unlock it."""

    def __init__(self):
        self._m = (ctypes.c_uint64 * 2)()
        self._p = ctypes.addressof(self._m)

    def lock(self):
        _require_running()
        if lib.gort_mutex_trylock(self._p) == 0:
            return
        if _in_goroutine():
            _check(lib.gort_mutex_lock(self._p), "gort_mutex_lock")
        elif threading.current_thread() is threading.main_thread():
            _check(_host_wait(lambda: lib.gort_mutex_lock(self._p), lambda: lib.gort_mutex_unlock(self._p)),
                   "gort_mutex_lock")
        else:
            _check(_as_goroutine(lambda: lib.gort_mutex_lock(self._p)), "gort_mutex_lock")

    def try_lock(self):
        rc = lib.gort_mutex_trylock(self._p)
        if rc == EBUSY:
            return False
        _check(rc, "gort_mutex_trylock")
        return True

    def unlock(self):
        _check(lib.gort_mutex_unlock(self._p), "gort_mutex_unlock")

    def __enter__(self):
        self.lock()
        return self

    def __exit__(self, *exc):
        self.unlock()
        return False


class WaitGroup:
    """sync.WaitGroup (gort_wg). .ptr is its address, for native code
    (gort_wg_done(ptr) at the end of a native goroutine)."""

    def __init__(self):
        self._w = (ctypes.c_uint64 * 2)()
        self.ptr = ctypes.addressof(self._w)

    def add(self, delta=1):
        _int_arg(delta, "delta", -_INT_MAX, _INT_MAX)
        _check(lib.gort_wg_add(self.ptr, delta), "gort_wg_add")

    def done(self):
        _check(lib.gort_wg_done(self.ptr), "gort_wg_done")

    def wait(self):
        _require_running()
        _check(_block(lib.gort_wg_wait, self.ptr), "gort_wg_wait")


# ---------------------------------------------------------------- native

def _func_address(cfunc):
    if isinstance(cfunc, int) and not isinstance(cfunc, bool):
        if cfunc == 0:
            raise ValueError("go_native: NULL function")
        return cfunc
    if not isinstance(cfunc, ctypes._CFuncPtr):
        raise TypeError("go_native needs a C function (a ctypes function from a CDLL, or an address), "
                        "not %s" % type(cfunc).__name__)
    if any(type(v).__name__ == "CThunkObject" for v in (cfunc._objects or {}).values()):
        raise TypeError("go_native: a ctypes callback runs Python; use gort.go for Python code")
    if getattr(cfunc, "_flags_", 0) & ctypes._FUNCFLAG_PYTHONAPI:
        raise TypeError("go_native: a PyDLL/PYFUNCTYPE function holds the GIL; use gort.go")
    return ctypes.cast(cfunc, ctypes.c_void_p).value


def _arg_address(arg):
    if arg is None:
        return None
    if isinstance(arg, WaitGroup):
        return arg.ptr
    if isinstance(arg, int) and not isinstance(arg, bool):
        return arg
    if isinstance(arg, ctypes.c_void_p):
        return arg.value
    if isinstance(arg, (ctypes._SimpleCData, ctypes.Structure, ctypes.Union, ctypes.Array)):
        return ctypes.addressof(arg)
    if isinstance(arg, ctypes._Pointer):
        return ctypes.cast(arg, ctypes.c_void_p).value
    raise TypeError("go_native arg must be None, an address, a ctypes object or a WaitGroup")


def go_native(cfunc, arg=None, count=1):
    """Starts count goroutines running the C function cfunc(arg) (void
    (*)(void *)): true M:N goroutines with no Python in them. arg (an
    address, a ctypes object - passed by address - or a WaitGroup) must
    stay valid until they are done. Returns the goid of the last one."""
    addr = _func_address(cfunc)
    a = _arg_address(arg)
    _int_arg(count, "count", 0)
    _require_running()
    goid = ctypes.c_int64(-1)
    gp = ctypes.byref(goid)
    gofn = lib.gort_go
    for _ in range(count):
        rc = gofn(addr, a, 0, gp)
        if rc < 0:
            raise _err(rc, "gort_go")
    return goid.value


from . import native  # noqa: E402  (uses the names above)
