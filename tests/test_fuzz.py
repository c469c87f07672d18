"""Run the fuzz tests (``tests/fuzz/fuzz_*.py``, Hypothesis) each in a subprocess.

A file reader that crashes the interpreter (a segmentation fault in a kernel fed a tampered index, an abort)
would kill the whole test run if fuzzed in-process; in a subprocess it fails this test instead, with the
fuzz run's output. The fuzz files are not named ``test_*.py`` so pytest does not collect them directly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

FUZZ_DIR = Path(__file__).parent / "fuzz"
FUZZ_FILES = sorted(FUZZ_DIR.glob("fuzz_*.py"))


@pytest.mark.parametrize("path", FUZZ_FILES, ids=[p.stem for p in FUZZ_FILES])
def test_fuzz_file_in_a_subprocess(path: Path) -> None:
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", str(path)]
    run = subprocess.run(cmd, cwd=Path(__file__).parents[1], env=env, capture_output=True, text=True, timeout=900)
    if run.returncode < 0:
        name = signal.Signals(-run.returncode).name
        pytest.fail(f"{path.name} crashed the interpreter ({name}):\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}")
    assert run.returncode == 0, f"{path.name} failed:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
