"""Steepest descent with exact line searches: the path drawn across a loss landscape."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validate
from .checks import check_loss
from .svm_line import exact_line_search

NOTES_STEPS = tuple(10.0**e for e in range(-10, 0))  # the notes' sweep: 1e-10 ... 1e-1


def descent_path(loss: Any, W0: np.ndarray, num_steps: int = 20) -> list[np.ndarray]:
    """The weights visited by ``num_steps`` steps of steepest descent from ``W0`` (``W0`` first).

    Each step goes along ``-dW`` to the exact minimum of the loss on that line when the loss has
    one (the SVM: :func:`steepest.landscape.exact_line_search`), otherwise to the best of the notes'
    step sizes 1e-10 ... 1e-1. Stops early at a zero gradient or a zero step. Cost per step: one
    loss-and-gradient pass plus one pass for the line (SVM) or ten loss evaluations (softmax).
    """
    loss = check_loss(loss)
    W0 = loss.check_weights(W0)
    num_steps = _validate.integer(num_steps, "num_steps", low=0)
    path = [W0]
    W = W0
    for _ in range(num_steps):
        _, dW = loss.loss_grad(W)
        if not np.any(dW):
            break
        if loss.has_exact_line:
            step = exact_line_search(loss, W, dW).step
        else:
            step = min(NOTES_STEPS, key=lambda s: loss(W - s * dW))
        if step == 0.0:
            break
        W = W - step * dW
        path.append(W)
    return path
