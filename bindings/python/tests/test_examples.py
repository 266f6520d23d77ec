"""The examples run and check their own results (small sizes)."""
import os
import subprocess
import sys

import pytest

EX = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


@pytest.mark.parametrize("name,args", [("skynet.py", ["100000"]), ("producer_consumer.py", ["3000"]),
                                       ("gc_stack_usage.py", [])])
def test_example(name, args):
    if name == "skynet.py" and not os.environ.get("GORT_PYNATIVE_LIB"):
        pytest.skip("GORT_PYNATIVE_LIB not set")
    p = subprocess.run([sys.executable, os.path.join(EX, name)] + args, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "WRONG" not in p.stdout and p.stdout.strip()


def test_readme_snippet():
    readme = os.path.join(os.path.dirname(EX), "README.md")
    text = open(readme).read()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(EX)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == ["499500", "1 0"]
