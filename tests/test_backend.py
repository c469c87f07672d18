"""Backend selection, thread counts, and the package without its optional parts."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import steepest
from steepest import _backends


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    environ = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120)


def test_backends_lists_numpy_and_auto_prefers_the_fastest():
    names = steepest.backends()
    assert "numpy" in names
    assert names == [n for n in ("cpp", "numba", "numpy") if n in names]
    with steepest.use_backend("auto"):
        assert steepest.get_backend() == names[0]


def test_selection_order(monkeypatch):
    monkeypatch.setenv("STEEPEST_BACKEND", "numpy")
    assert steepest.get_backend() == "numpy"
    steepest.set_backend("auto")
    try:
        assert steepest.get_backend() == steepest.backends()[0]  # set_backend beats the environment
        with steepest.use_backend("numpy"):
            assert steepest.get_backend() == "numpy"  # the context beats set_backend
            assert _backends.resolve(steepest.backends()[0]) == steepest.backends()[0]  # the argument beats all
        assert steepest.get_backend() == steepest.backends()[0]
    finally:
        steepest.set_backend(None)


def test_use_backend_is_restored_after_an_error():
    before = steepest.get_backend()
    with pytest.raises(RuntimeError):
        with steepest.use_backend("numpy"):
            raise RuntimeError("boom")
    assert steepest.get_backend() == before


def test_unknown_backend_names_the_choices(monkeypatch):
    for call in (steepest.set_backend, lambda n: steepest.use_backend(n).__enter__()):
        with pytest.raises(ValueError, match=r"one of \('auto', 'cpp', 'numba', 'numpy'\); got 'gpu'"):
            call("gpu")
    monkeypatch.setenv("STEEPEST_BACKEND", "gpu")
    with pytest.raises(ValueError, match="STEEPEST_BACKEND must be one of"):
        steepest.get_backend()


def test_thread_count_semantics(monkeypatch):
    monkeypatch.delenv("STEEPEST_NUM_THREADS", raising=False)
    assert steepest.get_num_threads() >= 1
    with steepest.num_threads(3):
        assert steepest.get_num_threads() == 3
    monkeypatch.setenv("STEEPEST_NUM_THREADS", "2")
    assert steepest.get_num_threads() == 2
    with steepest.num_threads(-1):
        assert steepest.get_num_threads() == _backends.cpu_count()
    for bad, error in ((0, ValueError), (-2, ValueError), (True, TypeError), (1.5, TypeError), ("2", TypeError)):
        with pytest.raises(error, match="n_threads"):
            steepest.set_num_threads(bad)
    monkeypatch.setenv("STEEPEST_NUM_THREADS", "0")
    with pytest.raises(ValueError, match="STEEPEST_NUM_THREADS"):
        steepest.get_num_threads()


def test_environment_variables_pick_backend_and_threads():
    out = run_python(
        "import steepest; print(steepest.get_backend(), steepest.get_num_threads())",
        STEEPEST_BACKEND="numpy",
        STEEPEST_NUM_THREADS="3",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["numpy", "3"]


BLOCK_EXTENSION = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name in {blocked}:
            raise ImportError("blocked by the test: " + name)
sys.meta_path.insert(0, Block())
"""


def test_package_works_without_the_extension_and_says_how_to_build_it():
    code = (
        BLOCK_EXTENSION.format(blocked={"steepest._core"})
        + """
import numpy as np, steepest
assert "cpp" not in steepest.backends(), steepest.backends()
W = np.ones((3, 4)); X = np.ones((4, 5)); y = np.zeros(5, dtype=int)
print(steepest.svm_loss(W, X, y))
try:
    steepest.svm_loss(W, X, y, backend="cpp")
except ValueError as exc:
    print(exc)
"""
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert "2.0" in out.stdout
    assert "backend 'cpp' is not available" in out.stdout and "pip install" in out.stdout


def test_package_works_without_numba():
    code = (
        BLOCK_EXTENSION.format(blocked={"numba"})
        + """
import numpy as np, steepest
assert "numba" not in steepest.backends()
print(steepest.softmax_loss(np.zeros((3, 4)), np.ones((4, 5)), np.zeros(5, dtype=int), backend="numpy"))
try:
    steepest.set_backend("numba")
except ValueError as exc:
    print(exc)
"""
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert f"{np.log(3):.6f}"[:6] in out.stdout
    assert "pip install numba" in out.stdout
