"""The hyper-parameter grid in one pass: K (learning rate, reg) settings trained together.

CS231n's assignment follows training with a grid search: every (learning rate, reg) pair trains its
own classifier for 1500 mini-batch steps, one after the other. Here the K models share one sequence
of mini-batches and are stacked into one (K*C, D) weight matrix, so each step reads the batch's
columns once for all of them (one stacked product for the scores, one for the gradients); each
model keeps its own learning rate and reg. Model k's weights are those a single training run gives
with the same starting W and the same mini-batches, up to the rounding of the stacked products.

``n_jobs`` cuts the grid into chunks trained in parallel through joblib (threads by default); under
``with joblib.parallel_config(backend="dask"):`` the chunks run on a Dask cluster, the data sent
to each worker once with its chunk.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _validate
from .._optional import progress_bar, require
from .._table import table
from .checks import check_linear_loss

__all__ = ["tune", "TuneResult"]


@dataclass(frozen=True)
class TuneResult:
    """The grid's table and its best model.

    ``settings`` (K, 2) learning rate and reg per model (learning rates outer, regs inner, as the
    assignment's loops); ``final_loss`` the last mini-batch loss, ``train_acc`` and ``val_acc`` (NaN
    without validation data) per model; ``diverged`` the models whose loss stopped being finite
    (excluded from ``best``); ``W`` (K, C, D) the trained weights; ``loss_history`` (K, num_iters).
    """

    settings: np.ndarray
    final_loss: np.ndarray
    train_acc: np.ndarray
    val_acc: np.ndarray
    diverged: np.ndarray
    W: np.ndarray = field(repr=False)
    loss_history: np.ndarray = field(repr=False)
    best: int
    elapsed: float
    num_iters: int
    batch_size: int

    @property
    def best_learning_rate(self) -> float:
        return float(self.settings[self.best, 0])

    @property
    def best_reg(self) -> float:
        return float(self.settings[self.best, 1])

    @property
    def best_W(self) -> np.ndarray:
        return self.W[self.best]

    def __str__(self) -> str:
        rows = []
        for k, (lr, reg) in enumerate(self.settings):
            status = "diverged" if self.diverged[k] else ("<- best" if k == self.best else "")
            rows.append((f"{lr:g}", f"{reg:g}", self.final_loss[k], self.train_acc[k], self.val_acc[k], status))
        title = (
            f"{len(self.settings)} models, {self.num_iters} steps of batch {self.batch_size}, trained together "
            f"in {self.elapsed:.3g} s ({self.elapsed / len(self.settings):.3g} s a model)"
        )
        return table(["learning rate", "reg", "final loss", "train acc", "val acc", "best"], rows, title=title)

    __repr__ = __str__


def _grid(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of positive numbers; got {type(values).__name__}")
    out = [_validate.real(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if not out:
        raise ValueError(f"{name} must not be empty")
    return np.asarray(out, dtype=np.float64)


def _train(loss, W0: np.ndarray, lrs: np.ndarray, regs: np.ndarray, batches: np.ndarray, progress: bool):
    """The stacked loop: every step one stacked loss-and-gradient call and one update of all models."""
    W = W0.copy()
    history = np.empty((W.shape[0], len(batches)))
    step = (-lrs)[:, None, None]
    bar = progress_bar(progress, len(batches), "tune", unit="step")
    try:
        for t, idx in enumerate(batches):
            history[:, t], grads = loss.stacked_loss_grad(W, regs, idx)
            with np.errstate(over="ignore", invalid="ignore"):
                W += (step * grads).astype(W.dtype, copy=False)
            bar.update()
    finally:
        bar.close()
    return W, history


def tune(
    loss: Any,
    learning_rates: Any,
    regs: Any,
    num_iters: int = 1500,
    batch_size: int = 200,
    *,
    X_val: Any = None,
    y_val: Any = None,
    init_scale: float = 1e-3,
    seed: Any = None,
    n_jobs: int | None = None,
    progress: bool = False,
    verbose: bool = False,
) -> TuneResult:
    """Train one model per (learning rate, reg) pair together, on one shared sequence of mini-batches.

    ``loss`` is an :class:`~steepest.SVMLoss` / :class:`~steepest.SoftmaxLoss` (its own reg is
    replaced by each grid value); every model starts from ``init_scale * randn(C, D)`` (drawn from
    ``seed`` in grid order, then the batches: ``num_iters`` draws of ``batch_size`` positions with
    replacement, as the assignment's ``np.random.choice``) and takes ``W -= lr * dW`` each step. With
    ``X_val`` (D, N_val) and ``y_val`` the validation accuracy of every model is reported and picks
    ``best`` (else the training accuracy). Cost per step: two stacked products of K*C*B*D
    multiply-adds each, the batch's columns read once. ``n_jobs`` > 1 trains chunks of the grid in
    parallel through joblib (the ``distributed`` extra for a Dask cluster). Verbose prints the table.
    """
    loss = check_linear_loss(loss)
    lrs = _grid(learning_rates, "learning_rates")
    if np.any(lrs <= 0):
        raise ValueError(f"learning_rates must be > 0; got {lrs.tolist()}")
    grid_regs = _grid(regs, "regs")
    if np.any(grid_regs < 0):
        raise ValueError(f"regs must be >= 0; got {grid_regs.tolist()}")
    num_iters = _validate.integer(num_iters, "num_iters", low=1)
    batch_size = _validate.integer(batch_size, "batch_size", low=1, high=loss.n)
    init_scale = _validate.positive(init_scale, "init_scale")
    n_jobs = 1 if n_jobs is None else _validate.integer(n_jobs, "n_jobs", low=1)
    progress = _validate.boolean(progress, "progress")
    verbose = _validate.boolean(verbose, "verbose")
    val = None
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together (or neither)")
    if X_val is not None:
        X_val = _validate.float_array(X_val, "X_val", 2)
        if X_val.dtype != loss.dtype or X_val.shape[0] != loss.dim:
            raise ValueError(
                f"X_val must be ({loss.dim}, N_val) of dtype {loss.dtype}; got {X_val.dtype} {X_val.shape}"
            )
        val = loss.with_data(X_val, _validate.labels(y_val, X_val.shape[1], np.iinfo(np.int64).max, "y_val"))
    rng = _validate.rng(seed)
    joblib = require("joblib", "distributed", "n_jobs > 1", package="joblib") if n_jobs > 1 else None

    settings = np.array(list(itertools.product(lrs, grid_regs)))
    K, C, D = len(settings), max(2, loss.min_classes), loss.dim
    W0 = (rng.standard_normal((K, C, D)) * init_scale).astype(loss.dtype, copy=False)
    batches = rng.integers(0, loss.n, (num_iters, batch_size))
    began = time.perf_counter()
    if joblib is None:
        W, history = _train(loss, W0, settings[:, 0], settings[:, 1], batches, progress)
    else:
        chunks = np.array_split(np.arange(K), min(n_jobs, K))
        parts = joblib.Parallel(n_jobs=len(chunks), prefer="threads")(
            joblib.delayed(_train)(loss, W0[c], settings[c, 0], settings[c, 1], batches, False) for c in chunks
        )
        W = np.concatenate([p[0] for p in parts])
        history = np.concatenate([p[1] for p in parts])
    elapsed = time.perf_counter() - began

    final = history[:, -1]
    diverged = ~np.isfinite(final) | ~np.all(np.isfinite(W.reshape(K, -1)), axis=1)
    train_acc = _accuracies(loss, W)
    val_acc = _accuracies(val, W) if val is not None else np.full(K, math.nan)
    score = np.where(diverged, -np.inf, val_acc if val is not None else train_acc)
    result = TuneResult(
        settings=settings,
        final_loss=final,
        train_acc=train_acc,
        val_acc=val_acc,
        diverged=diverged,
        W=W,
        loss_history=history,
        best=int(np.argmax(score)),
        elapsed=elapsed,
        num_iters=num_iters,
        batch_size=batch_size,
    )
    if verbose:
        print(result)
    return result


def _accuracies(loss, W: np.ndarray) -> np.ndarray:
    """The accuracy of every model on the loss's examples, all scored in one pass over X."""
    with np.errstate(over="ignore", invalid="ignore"):
        S = loss.candidate_scores(np.nan_to_num(W))
    return np.mean(np.argmax(S, axis=1) == loss.labels[None, :], axis=1)
