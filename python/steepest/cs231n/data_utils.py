"""``cs231n/data_utils.py``: the CIFAR-10 loader of assignment 1, on :func:`steepest.datasets.load_cifar10`.

``load_CIFAR10(ROOT)`` returns what the assignment's returns: ``Xtr`` float64 (50000, 32, 32, 3),
``Ytr`` int64 (50000,), ``Xte`` float64 (10000, 32, 32, 3), ``Yte`` int64 (10000,), pixels 0..255 in
R, G, B order. What steepest adds: the pickles are read with a restricted unpickler (a file cannot run
code), every file is checked (a missing or truncated batch is named), ``ROOT`` may also be the parent
of ``cifar-10-batches-py``, and the arrays are C-contiguous (the assignment's test images are a
transposed view). Download the data with ``steepest.datasets.download_cifar10()``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import _validate
from ..datasets import load_cifar10
from ..datasets.formats import images_from_rows, read_cifar_batch

__all__ = ["load_CIFAR_batch", "load_CIFAR10"]


def load_CIFAR_batch(filename):
    """Load a single batch of cifar: ``(X float64 (n, 32, 32, 3), Y int64 (n,))``."""
    data, labels = read_cifar_batch(Path(_validate.path(filename, "filename")).expanduser())
    return images_from_rows([data]).astype(np.float64), labels


def load_CIFAR10(ROOT):
    """Load all of cifar: ``Xtr, Ytr, Xte, Yte`` (the five training batches, then the test batch)."""
    Xtr, Ytr, Xte, Yte = load_cifar10(_validate.path(ROOT, "ROOT"))
    return Xtr.astype(np.float64), Ytr, Xte.astype(np.float64), Yte
