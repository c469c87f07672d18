"""Helpers the Python backends (``numpy`` and ``numba``) share.

One backend never imports from another: what two of them need lives here. Nothing in this module
may depend on numba (the numpy backend must import without it).
"""

from __future__ import annotations

import numpy as np

__all__ = ["steps", "penalty", "train_in_turn", "stacked_train_kernels"]


def steps(W: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """The steps the notes' finite-difference loop really takes for every weight ``w`` of ``W``:
    ``e_plus = (w + h) - w`` and ``e_minus = w - (w - h)``, in float64 (see ``contract.Kernels.svm_fd``)."""
    return (W + h) - W, W - (W - h)


def penalty(reg, squares):
    """``reg * squares`` (a number or per-model arrays), exactly 0 where reg is 0: the unpenalized loss of
    huge weights is not NaN from ``0 * inf`` when ``sum(W*W)`` overflows."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(np.asarray(reg) == 0, 0.0, np.multiply(reg, squares))


def train_in_turn(step, W: np.ndarray, batches: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``stacked_train`` as one stacked call a step: ``step(W, idx, out)`` is the backend's stacked kernel
    with its step sizes and ``out``, run in place on a copy of W. Returns the losses (S, K); ``out`` is
    written only after the last step (Ctrl-C between steps leaves it as it was)."""
    now = W.copy()
    losses = np.empty((batches.shape[0], W.shape[0]))
    for s, idx in enumerate(batches):
        losses[s] = step(now, idx, now)[0]
    out[...] = now
    return losses


def stacked_train_kernels(svm_stacked_loss_grad, softmax_stacked_loss_grad):
    """A backend's ``svm_stacked_train`` and ``softmax_stacked_train``, one of its stacked calls a step
    (:func:`train_in_turn`), with the contract's parameter names."""

    def svm_stacked_train(W, X, y, batches, regs, delta, step_sizes, out, n_threads):
        def step(W, idx, out):
            return svm_stacked_loss_grad(W, X, y, idx, regs, delta, n_threads, step_sizes, out)

        return train_in_turn(step, W, batches, out)

    def softmax_stacked_train(W, X, y, batches, regs, step_sizes, out, n_threads):
        def step(W, idx, out):
            return softmax_stacked_loss_grad(W, X, y, idx, regs, n_threads, step_sizes, out)

        return train_in_turn(step, W, batches, out)

    return svm_stacked_train, softmax_stacked_train
