"""Numba's on-disk cache follows every source file of the numba backend: a kernel compiled into its cache
is not reused after an edit to another file whose functions it calls (Numba alone checks only the file
that defines the kernel, so an edit to ``tiles.py`` would leave the cached kernels of ``fd.py`` running
the old building blocks)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba")
import steepest  # noqa: E402
from steepest._backends.numba import cache, fd, kernels, tiles  # noqa: E402

# One small cached kernel of fd.py that calls the building blocks of tiles.py; prints its cache hits.
PROBE = """
import json, numpy as np
from steepest._backends.numba import fd
W = np.ones((3, 8)); Xr = np.ones((5, 8)); empty = np.empty((0, 0))
ids = np.arange(4); St = np.empty((3, 32))
fd._tile_pass(W, empty, Xr, False, ids, 4, np.empty((0, 8)), np.arange(32), St)
print(json.dumps({"hits": sum(fd._tile_pass.stats.cache_hits.values()), "score": St[0, 0]}))
"""


def test_every_kernel_is_stamped_with_all_the_backend_sources():
    for kernel in (kernels._loss_grad_kernel, tiles.rows_grad, fd.svm_fd_blocks):
        locator = kernel._cache._impl.locator
        assert type(locator).__name__.startswith("SteepestBackend")
        assert locator.get_source_stamp() == cache.sources_digest()


def test_digest_changes_with_any_file(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    before = cache.sources_digest(tmp_path)
    (tmp_path / "b.py").write_text("y = 3\n")
    assert cache.sources_digest(tmp_path) != before


def test_an_edit_to_a_called_file_recompiles_the_caller(tmp_path):
    package = tmp_path / "steepest"
    shutil.copytree(Path(steepest.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    env = {name: value for name, value in os.environ.items() if name != "NUMBA_CACHE_DIR"}  # the copy's own cache
    env["PYTHONPATH"] = str(tmp_path)

    def probe() -> dict:
        done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.splitlines()[-1])

    assert probe()["hits"] == 0  # compiled, and saved in the copy's __pycache__
    assert probe()["hits"] == 1  # loaded from the cache
    tiles_py = package / "_backends" / "numba" / "tiles.py"
    tiles_py.write_text(tiles_py.read_text() + "\n# edited\n")  # fd.py itself is unchanged
    assert probe()["hits"] == 0  # recompiled: the cached kernel no longer matches the sources
