"""``cs231n/classifiers/linear_classifier.py``: ``LinearClassifier``, ``LinearSVM`` and ``Softmax``.

The assignment's classes with the assignment's numbers. ``train`` draws from NumPy's global generator
exactly as the assignment's code does, in the same order: ``0.001 * np.random.randn(dim, num_classes)``
when ``W`` is None (the first ``train``), then ``np.random.choice(num_train, batch_size)`` per
iteration (sampling with replacement). So after ``np.random.seed(s)`` a notebook gets the weights,
loss history and predictions of the assignment's NumPy code (to rounding: the sums are taken in
another order, about 1e-14 relative after 1500 iterations).

What makes it fast: ``LinearSVM`` and ``Softmax`` build steepest's loss object ONCE per ``train`` call
on ``X.T`` (the (N, D) rows read in place, never copied) and take each step with its
``loss_grad_at(W, idx)``, which gathers the mini-batch's columns inside the kernel (no ``X[idx]``
copy). A subclass that overrides ``loss`` is trained through its ``loss``, exactly as the assignment
does it (``X[idx]``, ``self.loss(X_batch, y_batch, reg)``, ``W -= learning_rate * grad``).

A run that diverges (too large a learning rate) goes on as NumPy's does, with inf or NaN losses and
one ``RuntimeWarning``, so a hyper-parameter search over a grid keeps running.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import _validate
from ..._runs import RunLengths
from ...losses import SoftmaxLoss, SVMLoss, scores
from .. import _checks
from .linear_svm import svm_loss_naive, svm_loss_vectorized
from .softmax import softmax_loss_naive, softmax_loss_vectorized

__all__ = [
    "LinearClassifier",
    "LinearSVM",
    "Softmax",
    "svm_loss_naive",
    "svm_loss_vectorized",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
]


def _fused(loss_class):
    """Mark a ``loss`` method as equal to steepest's ``loss_class`` on the same data, so that ``train``
    may take its steps in the fused kernel. An override (a new function) carries no mark."""

    def mark(method):
        method._steepest_loss = loss_class
        return method

    return mark


class LinearClassifier:
    """A linear classifier trained by mini-batch SGD; ``W`` (D, C) is None until the first ``train``."""

    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False):
        """Train this linear classifier using stochastic gradient descent.

        Inputs: ``X`` (N, D) training data, one example per row (read in place); ``y`` (N,) labels in
        [0, C); ``learning_rate``; ``reg`` (regularization strength); ``num_iters`` (steps);
        ``batch_size`` (examples per step, drawn with replacement); ``verbose`` (print
        ``iteration %d / %d: loss %f`` every 100 iterations).

        ``W`` is created on the first call (``0.001 * np.random.randn(D, C)``, C = ``np.max(y) + 1``)
        and kept: the next call goes on from it. Returns the list of the losses of every iteration.
        """
        X = _checks.rows(X)
        y = _checks.labels(y, X)
        learning_rate = _validate.real(learning_rate, "learning_rate")
        reg = _validate.reg(reg)
        num_iters = _validate.integer(num_iters, "num_iters", low=0)
        batch_size = _validate.integer(batch_size, "batch_size", low=1)
        verbose = _validate.boolean(verbose, "verbose")
        num_train, dim = X.shape
        num_classes = _checks.classes_of(y)  # assume y takes values 0...K-1 where K is number of classes
        fused = self._fused_loss()
        if fused is None and getattr(self.loss, "__func__", None) is LinearClassifier.loss:
            self.loss(None, None, reg)  # raises: the base class has no loss (before any random draw)
        if self.W is not None:
            self.W = self._checked_W(X, num_classes)
        elif fused is not None and X.dtype != np.float64:
            raise TypeError(
                f"X must be float64 to train a new W (0.001 * np.random.randn is float64, as in the assignment); "
                f"got {X.dtype} (cast it with X.astype(np.float64))"
            )
        if self.W is None:
            self.W = 0.001 * np.random.randn(dim, num_classes)  # lazily initialize W
        if fused is None:
            return self._train_through_loss(X, y, learning_rate, reg, num_iters, batch_size, verbose)
        return self._train_fused(fused, X, y, learning_rate, reg, num_iters, batch_size, verbose)

    def predict(self, X):
        """Predicted labels (N,) of the rows of ``X`` (N, D): ``np.argmax(X.dot(self.W), axis=1)``.

        The scores come from steepest's kernel, which reads X in place; a W with inf or NaN entries
        (a diverged run) is scored by NumPy, as in the assignment.
        """
        if self.W is None:
            raise ValueError(f"{type(self).__name__}.W is None: call train(X, y) before predict(X)")
        X = _checks.rows(X)
        W = _checks.weights(self.W, X, "W", check_finite=False)
        if not _validate.all_finite(W):
            with np.errstate(all="ignore"):
                return np.argmax(X.dot(W), axis=1)
        return np.argmax(scores(_checks.to_steepest(W), X.T), axis=0)

    def loss(self, X_batch, y_batch, reg):
        """Loss and its derivative on a mini-batch: ``(loss, dW)``, dW of ``self.W``'s shape.

        Subclasses override this (``LinearSVM``, ``Softmax``, or your own).
        """
        raise NotImplementedError(
            "LinearClassifier.loss must be overridden: use LinearSVM or Softmax, or a subclass with its own loss"
        )

    # -- steepest's machinery ------------------------------------------------------------------------

    def _fused_loss(self):
        """steepest's loss class equal to ``self.loss``, or None when ``loss`` is not one of ours."""
        method = self.loss
        return getattr(getattr(method, "__func__", method), "_steepest_loss", None)

    def _checked_W(self, X: np.ndarray, num_classes: int) -> np.ndarray:
        """The kept ``self.W`` checked against new data: (D, C) with C above every label."""
        W = _validate.ndarray(self.W, "W", "float32 or float64")
        W = _checks.weights(W, X, "W", check_finite=False)
        if W.shape[1] < num_classes:
            raise ValueError(
                f"y must hold labels in [0, {W.shape[1]}) for the kept W {W.shape} (C = {W.shape[1]} columns); "
                f"its largest label is {num_classes - 1} (set W = None to start afresh)"
            )
        return W

    def _train_through_loss(self, X, y, learning_rate, reg, num_iters, batch_size, verbose):
        """The assignment's loop, calling ``self.loss`` (an override) on each mini-batch."""
        num_train = X.shape[0]
        loss_history = []
        for it in range(num_iters):
            batch_idx = np.random.choice(num_train, batch_size)
            X_batch = X[batch_idx]
            y_batch = y[batch_idx]
            loss, grad = self.loss(X_batch, y_batch, reg)  # evaluate loss and gradient
            loss_history.append(loss)
            self.W -= learning_rate * grad  # perform parameter update
            if verbose and it % 100 == 0:
                print("iteration %d / %d: loss %f" % (it, num_iters, loss))
        return loss_history

    def _train_fused(self, loss_class, X, y, learning_rate, reg, num_iters, batch_size, verbose):
        """The same loop, its steps taken in runs (``RunLengths``), each run one kernel call on the
        mini-batches' columns of ``X.T``: every step's loss, gradient and ``W -= learning_rate * grad``
        (bitwise, tested), the new W written into a second buffer; the two buffers then swap. A run's
        mini-batches are drawn before it, in the loop's order: the same draws (tested). Ctrl-C during
        a run undoes its draws as well as its steps: W and the random state are the loop's after the
        steps taken before it, so the next call goes on as the uninterrupted loop would (tested)."""
        num_train = X.shape[0]
        f = loss_class(X.T, y, reg, check_finite=False)  # validated once; X.T is read in place
        W = _checks.to_steepest(self.W)  # (C, D), C-contiguous: the kernels' layout (a copy)
        W_next = np.empty_like(W)
        loss_history = []
        diverged = False
        try:
            for size in RunLengths(num_iters):
                # size draws of np.random.choice(num_train, batch_size), one after the other (tested)
                drawn_from = np.random.get_state()
                batches = np.random.randint(0, num_train, (size, batch_size))
                try:
                    with np.errstate(all="ignore"):  # a diverged run is reported once, below
                        losses = f.train_at(W, batches, learning_rate, W_next)
                except BaseException:  # Ctrl-C: the run's steps are not taken, so neither are its draws
                    np.random.set_state(drawn_from)
                    raise
                W, W_next = W_next, W  # the steps taken (Ctrl-C during the call leaves W as it was)
                first = len(loss_history)
                loss_history.extend(losses.tolist())
                for it in range(first, len(loss_history)):
                    loss = loss_history[it]
                    if not diverged and not math.isfinite(loss):  # an overflowed W shows in the next loss
                        diverged = True
                        warnings.warn(
                            f"{type(self).__name__}.train diverged at iteration {it} (loss {loss}): the scores or "
                            f"W overflowed; use a smaller learning_rate (now {learning_rate:g}) or reg (now {reg:g})",
                            RuntimeWarning,
                            stacklevel=3,
                        )
                    if verbose and it % 100 == 0:
                        print("iteration %d / %d: loss %f" % (it, num_iters, loss))
        finally:  # also on Ctrl-C: W keeps every step taken
            self.W[...] = W.T
        return loss_history


class LinearSVM(LinearClassifier):
    """A subclass that uses the Multiclass SVM loss function."""

    @_fused(SVMLoss)
    def loss(self, X_batch, y_batch, reg):
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """A subclass that uses the Softmax + Cross-entropy loss function."""

    @_fused(SoftmaxLoss)
    def loss(self, X_batch, y_batch, reg):
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)
