"""The reference algorithms, literal and slow: the ground truth every backend is checked against.

These are the functions of the CS231n "Optimization" notes and the CS231n assignment, written as
they are taught (per-example loops where the notes loop), in the library's layout: ``W`` is (C, D),
``X`` is (D, N) with one example per column, ``y`` holds labels in [0, C). They compute in float64
whatever the input dtype, so they can judge float32 results too. They validate nothing and are
never dispatched to; use :mod:`steepest` for real work.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "L_i",
    "L_i_vectorized",
    "L",
    "svm_loss_naive",
    "svm_loss_vectorized",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "eval_numerical_gradient",
    "eval_numerical_gradient_centered",
]


def L_i(x, y, W, delta=1.0):
    """Unvectorized multiclass SVM loss of one example ``x`` (D,) with label ``y`` (the notes' L_i)."""
    scores = np.asarray(W, dtype=np.float64).dot(np.asarray(x, dtype=np.float64))
    correct_class_score = scores[y]
    loss_i = 0.0
    for j in range(W.shape[0]):
        if j == y:
            continue
        loss_i += max(0, scores[j] - correct_class_score + delta)
    return loss_i


def L_i_vectorized(x, y, W, delta=1.0):
    """Half-vectorized SVM loss of one example (the notes' L_i_vectorized)."""
    scores = np.asarray(W, dtype=np.float64).dot(np.asarray(x, dtype=np.float64))
    margins = np.maximum(0, scores - scores[y] + delta)
    margins[y] = 0
    return np.sum(margins)


def L(X, y, W, reg=0.0, delta=1.0):
    """Mean SVM loss over the columns of ``X`` plus ``reg * sum(W*W)``: the notes' ``L(X, y, W)``."""
    num_train = X.shape[1]
    loss = 0.0
    for i in range(num_train):
        loss += L_i(X[:, i], y[i], W, delta)
    return loss / num_train + reg * np.sum(np.asarray(W, dtype=np.float64) ** 2)


def svm_loss_naive(W, X, y, reg=0.0, delta=1.0):
    """The assignment's ``svm_loss_naive``: loops over examples and classes; returns (loss, dW)."""
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    dW = np.zeros(W.shape)
    num_classes = W.shape[0]
    num_train = X.shape[1]
    loss = 0.0
    for i in range(num_train):
        scores = W.dot(X[:, i])
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + delta
            if margin > 0:
                loss += margin
                dW[j, :] += X[:, i]
                dW[y[i], :] -= X[:, i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def svm_loss_vectorized(W, X, y, reg=0.0, delta=1.0):
    """The assignment's vectorized SVM loss and gradient (NumPy, no loops); returns (loss, dW)."""
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    num_train = X.shape[1]
    scores = W.dot(X)
    columns = np.arange(num_train)
    correct = scores[y, columns]
    margins = np.maximum(0, scores - correct + delta)
    margins[y, columns] = 0
    loss = margins.sum() / num_train + reg * np.sum(W * W)
    coef = (margins > 0).astype(np.float64)
    coef[y, columns] = -coef.sum(axis=0)
    dW = coef.dot(X.T) / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_naive(W, X, y, reg=0.0):
    """The assignment's ``softmax_loss_naive`` in log-sum-exp form; returns (loss, dW)."""
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    dW = np.zeros(W.shape)
    num_classes = W.shape[0]
    num_train = X.shape[1]
    loss = 0.0
    for i in range(num_train):
        scores = W.dot(X[:, i])
        scores = scores - np.max(scores)  # shift for stability: exp never overflows
        log_sum = np.log(np.sum(np.exp(scores)))
        loss += log_sum - scores[y[i]]
        for j in range(num_classes):
            p = np.exp(scores[j] - log_sum)
            dW[j, :] += (p - (j == y[i])) * X[:, i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg=0.0):
    """The assignment's vectorized softmax loss and gradient in log-sum-exp form; returns (loss, dW)."""
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    num_train = X.shape[1]
    scores = W.dot(X)
    scores = scores - scores.max(axis=0)
    log_sum = np.log(np.exp(scores).sum(axis=0))
    columns = np.arange(num_train)
    loss = np.sum(log_sum - scores[y, columns]) / num_train + reg * np.sum(W * W)
    probs = np.exp(scores - log_sum)
    probs[y, columns] -= 1
    dW = probs.dot(X.T) / num_train + 2 * reg * W
    return loss, dW


def eval_numerical_gradient(f: Callable, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The notes' forward difference: for every index, ``(f(x + h) - f(x)) / h``; ``x`` is restored.

    One evaluation of ``f`` per entry of ``x`` plus one: 30,731 for a CIFAR-10 ``W``.
    """
    fx = f(x)  # evaluate function value at original point
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old_value = x[ix]
        x[ix] = old_value + h  # increment by h
        try:
            fxh = f(x)  # evaluate f(x + h)
        finally:
            x[ix] = old_value  # restore to previous value (very important!)
        grad[ix] = (fxh - fx) / h  # the slope
        it.iternext()
    return grad


def eval_numerical_gradient_centered(f: Callable, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The centered difference ``(f(x + h) - f(x - h)) / 2h`` per index (the assignment's form)."""
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        try:
            x[ix] = oldval + h
            fxph = f(x)  # evaluate f(x + h)
            x[ix] = oldval - h
            fxmh = f(x)  # evaluate f(x - h)
        finally:
            x[ix] = oldval  # restore
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad
