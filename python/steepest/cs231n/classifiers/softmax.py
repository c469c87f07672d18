"""``cs231n/classifiers/softmax.py``: the softmax loss and gradient, in the assignment's layout.

``W`` is (D, C), ``X`` is (N, D) with one example per row, ``y`` (N,) holds labels in [0, C); the loss
is ``1/N sum_i -log(softmax(s_i)[y_i]) + reg * np.sum(W * W)`` with ``s_i = X[i].dot(W)``.

``softmax_loss_naive`` is the assignment's loop (the scores shifted by their maximum, for numeric
stability), as slow as the assignment's; ``softmax_loss_vectorized`` is steepest's fused kernel (one
pass over X, read in place as ``X.T``). Both return ``(loss, dW)`` with ``dW`` (D, C).
"""

from __future__ import annotations

import numpy as np

from ...losses import softmax_loss_grad
from .. import _checks

__all__ = ["softmax_loss_naive", "softmax_loss_vectorized"]


def softmax_loss_naive(W, X, y, reg):
    """Softmax loss function, naive implementation (with loops): the assignment's, line for line.

    Inputs: ``W`` (D, C) weights; ``X`` (N, D) a minibatch of data; ``y`` (N,) labels in [0, C);
    ``reg`` (float) regularization strength. Returns ``(loss, dW)``, dW of W's shape.
    """
    W, X, y, reg = _checks.problem(W, X, y, reg)
    loss = 0.0
    dW = np.zeros_like(W)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)  # shift: exp never overflows
        exp_scores = np.exp(scores)
        probs = exp_scores / np.sum(exp_scores)
        loss += -np.log(probs[y[i]])
        for j in range(num_classes):
            dW[:, j] += (probs[j] - (j == y[i])) * X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    """Softmax loss function, vectorized: steepest's fused kernel, the same ``(loss, dW)``.

    ``X`` (N, D) is read in place (as the (D, N) view ``X.T``); the kernel works in log-sum-exp form,
    so no score overflows. float32 and float64 are both native (W and X share a dtype).
    """
    W, X, y, reg = _checks.problem(W, X, y, reg)
    loss, dW = softmax_loss_grad(_checks.to_steepest(W), X.T, y, reg)
    return loss, _checks.from_steepest(dW)
