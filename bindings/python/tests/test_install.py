"""Packaging: pip install of ./bindings/python (offline, Debian's pip and
setuptools) and GORT_BUILD_PYTHON's cmake --install; the package then finds
its library without GORT_LIB."""
import os
import shutil
import subprocess
import sys

import pytest

import gort

PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOKE = "import gort\nwith gort.Runtime(maxprocs=1):\n    print(gort.go(lambda: 6 * 7).join(), gort.library_path)\n"


def _run(code, path, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k not in ("GORT_LIB", "PYTHONPATH")}
    env["PYTHONPATH"] = path
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          cwd="/")


def test_pip_install_offline(tmp_path):
    import importlib.util
    if importlib.util.find_spec("pip") is None or importlib.util.find_spec("setuptools") is None:
        pytest.skip("python3-pip / python3-setuptools not installed")
    build = tmp_path / "src"
    shutil.copytree(PKG, build, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "tests"))
    target = tmp_path / "site"
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index",
                        "--disable-pip-version-check", "--target", str(target), str(build)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (target / "gort" / "__init__.py").exists() and (target / "gort" / "trace.py").exists()
    # Without a library beside it or GORT_LIB, the ImportError names what it tried...
    r = _run("import gort", str(target))
    if r.returncode != 0:
        assert "ImportError" in r.stderr and "tried" in r.stderr and str(target) in r.stderr
    # ...and with one copied beside the package, that one is used.
    shutil.copy(gort.library_path, target / "gort" / "libgort.so")
    r = _run(SMOKE, str(target))
    assert r.returncode == 0, r.stderr
    ans, path = r.stdout.split()
    assert ans == "42" and path == str(target / "gort" / "libgort.so")


def test_cmake_install_with_gort_build_python(tmp_path):
    bdir = os.environ.get("GORT_BUILD_DIR")
    if not bdir or "dist-packages" not in open(os.path.join(bdir, "bindings/python/cmake_install.cmake")).read():
        pytest.skip("needs GORT_BUILD_DIR of a build configured with -DGORT_BUILD_PYTHON=ON")
    prefix = tmp_path / "prefix"
    p = subprocess.run(["cmake", "--install", bdir, "--prefix", str(prefix)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    site = prefix / "lib" / "python3" / "dist-packages"
    assert (site / "gort" / "_libdir.txt").read_text().strip().startswith(str(prefix))
    r = _run(SMOKE, str(site))
    assert r.returncode == 0, r.stderr
    ans, path = r.stdout.split()
    assert ans == "42" and path.startswith(str(prefix)) and "libgort.so" in path
