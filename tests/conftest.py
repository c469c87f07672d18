"""Shared fixtures: every test that takes ``backend`` runs once per available backend."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

import steepest

from naive import make_problem  # noqa: F401  (the shared problem builder; some modules import it from here)

BACKENDS = steepest.backends()

# Real MNIST t10k files live beside the repository (never copied into it); tests skip without them.
MNIST_DIR = Path(
    os.environ.get("STEEPEST_MNIST_DIR", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(params=[np.float64, np.float32], ids=["f64", "f32"])
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture(scope="session", autouse=True)
def sigint_as_in_a_terminal():
    """A shell starts a background job (``pytest &``, ``nohup``) with SIGINT ignored, and Python then installs
    no handler for it: the Ctrl-C tests would fail and their long runs would never be interrupted. Give the
    run Python's own handler, as in a terminal, and put back what was there."""
    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT) if main else None
    if main and before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    if main and before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, before)
