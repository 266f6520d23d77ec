import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import gort  # noqa: E402


@pytest.fixture(params=[1, 2], ids=["procs1", "procs2"])
def rt(request):
    r = gort.Runtime(maxprocs=request.param)
    r.start()
    yield r
    r.shutdown()


@pytest.fixture
def rt2():
    r = gort.Runtime(maxprocs=2)
    r.start()
    yield r
    r.shutdown()
