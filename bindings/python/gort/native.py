"""Native goroutines: C functions run by gort with no Python in them.

    lib = ctypes.CDLL("./libmywork.so")        # void work(void *arg)
    wg = gort.native.wait_group()
    wg.add(1_000_000)
    gort.go_native(lib.work, wg, count=1_000_000)  # work calls gort_wg_done(arg)
    wg.wait()

A native goroutine reports completion itself (gort_wg_done on the wait
group's address, a channel, ...): Python cannot run after a C function it
does not wrap, and wrapping it in Python would put the interpreter back into
every goroutine. libgort's own gort_wg_done has the right shape (one pointer
argument; its int result is ignored), so `go_native(gort.native.wg_done, wg)`
is the smallest native goroutine there is: it only marks itself done.
"""
import ctypes

from . import WaitGroup, go_native, lib

__all__ = ["wait_group", "go_native", "wg_done", "WaitGroup"]

# int gort_wg_done(gort_wg *) called as void (*)(void *): the int lands in
# the return register and is ignored, as the platform ABI allows.
wg_done = ctypes.cast(lib.gort_wg_done, ctypes.c_void_p).value


def wait_group():
    """A gort_wg for native goroutines: pass it (or its .ptr) as their arg,
    .add(n) before starting them, .wait() to join them from anywhere."""
    return WaitGroup()
