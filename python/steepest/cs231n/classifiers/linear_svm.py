"""``cs231n/classifiers/linear_svm.py``: the multiclass SVM loss and gradient, in the assignment's layout.

``W`` is (D, C), ``X`` is (N, D) with one example per row, ``y`` (N,) holds labels in [0, C); the loss
is ``1/N sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + 1) + reg * np.sum(W * W)`` with ``s = X[i].dot(W)``.

``svm_loss_naive`` is the assignment's double loop, as slow as the assignment's; ``svm_loss_vectorized``
is steepest's fused kernel (one pass over X, read in place as ``X.T``: X is never copied). Both return
``(loss, dW)`` with ``dW`` (D, C).
"""

from __future__ import annotations

import numpy as np

from ...losses import svm_loss_grad
from .. import _checks

__all__ = ["svm_loss_naive", "svm_loss_vectorized"]


def svm_loss_naive(W, X, y, reg):
    """Structured SVM loss, naive implementation (with loops): the assignment's, line for line.

    Inputs: ``W`` (D, C) weights; ``X`` (N, D) a minibatch of data; ``y`` (N,) labels in [0, C);
    ``reg`` (float) regularization strength. Returns ``(loss, dW)``, dW of W's shape.
    """
    W, X, y, reg = _checks.problem(W, X, y, reg)
    dW = np.zeros(W.shape)  # initialize the gradient as zero
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1  # note delta = 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    # the loss is a sum over all training examples: make it an average
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    """Structured SVM loss function, vectorized: steepest's fused kernel, the same ``(loss, dW)``.

    ``X`` (N, D) is read in place (as the (D, N) view ``X.T``); float32 and float64 are both native
    (W and X share a dtype). Backend and threads: see :mod:`steepest` (``steepest.use_backend``).
    """
    W, X, y, reg = _checks.problem(W, X, y, reg)
    loss, dW = svm_loss_grad(_checks.to_steepest(W), X.T, y, reg)
    return loss, _checks.from_steepest(dW)
