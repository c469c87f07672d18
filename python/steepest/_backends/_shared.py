"""Helpers the Python backends (``numpy`` and ``numba``) share.

One backend never imports from another: what two of them need lives here. Nothing in this module
may depend on numba (the numpy backend must import without it).
"""

from __future__ import annotations

import numpy as np

__all__ = ["steps"]


def steps(W: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """The steps the notes' finite-difference loop really takes for every weight ``w`` of ``W``:
    ``e_plus = (w + h) - w`` and ``e_minus = w - (w - h)``, in float64 (see ``contract.Kernels.svm_fd``)."""
    return (W + h) - W, W - (W - h)
