"""The hyper-parameter grid in one pass: K (learning rate, reg) settings trained together.

CS231n's assignment follows training with a grid search: every (learning rate, reg) pair trains its
own classifier for 1500 mini-batch steps, one after the other. Here the K models share one sequence
of mini-batches and are stacked into one (K*C, D) weight matrix, so each step reads the batch's
columns once for all of them (one stacked product for the scores, one for the gradients); each
model keeps its own learning rate and reg. Model k's weights are those a single training run gives
with the same starting W and the same mini-batches, up to the rounding of the stacked products.

``n_jobs`` cuts the grid into chunks trained in parallel through joblib (threads by default); under
``with joblib.parallel_config(backend="dask"):`` the chunks run on a Dask cluster, the data (the
loss with its X, the batches) broadcast to each worker once and shared by its chunks.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _backends, _validate
from .._interrupt import StopOnCtrlC
from .._optional import progress_bar, require
from .._runs import RunLengths
from .._table import table
from .checks import check_linear_loss, check_validation

__all__ = ["tune", "TuneResult"]


@dataclass(frozen=True)
class TuneResult:
    """The grid's table and its best model.

    ``settings`` (K, 2) learning rate and reg per model (learning rates outer, regs inner, as the
    assignment's loops); ``final_loss`` the last mini-batch loss, ``train_acc`` and ``val_acc`` (NaN
    without validation data) per model; ``diverged`` the models whose loss stopped being finite
    (excluded from ``best``); ``W`` (K, C, D) the trained weights; ``loss_history`` (K, num_iters);
    ``interrupted`` when Ctrl-C ended the training early (``num_iters`` is then the steps completed).
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
    interrupted: bool = False

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
            + (" - interrupted by Ctrl-C" if self.interrupted else "")
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


class Batches:
    """The grid's mini-batches: ``num_iters`` draws of ``batch_size`` positions in ``[0, n)`` from a copy of
    ``rng``, exactly ``rng.integers(0, n, (num_iters, batch_size))``, but drawn a block of steps at a time
    as they are used (NumPy draws bounded integers in sequence, so blocks give the same values): a long
    run holds one block, not every index up front (10^6 steps of 200 would be 1.6 GB). Small to send to
    a Dask worker; every iteration starts the sequence again. ``rng`` itself is advanced past the draws,
    as the one big draw would have advanced it."""

    BLOCK = 1024  # steps drawn at once

    def __init__(self, rng: np.random.Generator, n: int, num_iters: int, batch_size: int):
        self._start = copy.deepcopy(rng.bit_generator)
        self.n, self.num_iters, self.batch_size = n, num_iters, batch_size
        for _ in self._blocks(rng):  # the caller's generator ends where the one big draw would leave it
            pass

    def _blocks(self, rng: np.random.Generator):
        for first in range(0, self.num_iters, self.BLOCK):
            yield rng.integers(0, self.n, (min(self.BLOCK, self.num_iters - first), self.batch_size))

    def __len__(self) -> int:
        return self.num_iters

    def __iter__(self):
        for block in self._blocks(np.random.Generator(copy.deepcopy(self._start))):
            yield from block


def _train(loss, W0: np.ndarray, lrs: np.ndarray, regs: np.ndarray, batches: Batches, progress: bool):
    """The stacked loop: runs of steps (``RunLengths``), each one kernel call that trains all models.

    ``W0`` (the initial weights, made for this run) is the first of two buffers: each call reads one and
    writes the other, so Ctrl-C during a call leaves the weights the last call wrote. Returns (W, the
    loss history of the steps done, whether Ctrl-C ended it): each run is committed by one store of
    (weights, spare buffer, steps done), so Ctrl-C leaves the last completed run.
    """
    history = np.empty((W0.shape[0], len(batches)))
    step_sizes = -lrs
    state = (W0, np.empty_like(W0), 0)
    bar = progress_bar(progress, len(batches), "tune", unit="step")
    steps = iter(batches)
    try:
        with StopOnCtrlC() as ctrl_c:
            for size in RunLengths(len(batches)):
                W, spare, done = state
                run = np.stack(list(itertools.islice(steps, size)))
                # the weights stay packed in the kernel from step to step; spare = W after the run
                losses = loss.stacked_train(W, regs, run, step_sizes, spare)
                history[:, done : done + size] = losses.T
                state = (spare, W, done + size)  # the commit
                bar.update(size)
    finally:
        bar.close()
    W, _, done = state
    return W, history[:, :done], ctrl_c.interrupted


@contextlib.contextmanager
def _sent_once(joblib, *shared):
    """The arguments every chunk reads (the loss with its X, the batches), as the chunks' tasks take them.

    On a Dask cluster (``joblib.parallel_config(backend="dask")``) they are broadcast to each worker once
    and the tasks carry their futures: joblib's dask backend scatters only arguments that ``dask.sizeof``
    puts above 1 kB, and it sizes a loss by its few attribute slots, so X would otherwise travel inside
    every chunk's task. Any other backend gets the objects themselves (threads share them).
    """
    dask = sys.modules.get("joblib._dask")  # imported by joblib only once the dask backend was asked for
    backend, _ = joblib.parallel.get_active_backend(prefer="threads")
    if dask is None or not isinstance(backend, dask.DaskDistributedBackend):
        yield shared
        return
    futures = backend.client.scatter(list(shared), broadcast=True, hash=False)
    try:
        yield futures
    finally:
        backend.client.cancel(futures)


def _train_chunk(loss, W0: np.ndarray, lrs: np.ndarray, regs: np.ndarray, batches: Batches):
    """One chunk of the grid, wherever joblib runs it.

    Arrays unpickled from a Dask message can start at any byte offset of its frame, and the kernels
    read aligned data only: those are copied once (``np.require`` leaves aligned arrays, such as the
    caller's own on a local backend, in place; the loss realigns its own data when unpickled).
    """
    W0, lrs, regs = (np.require(a, requirements="A") for a in (W0, lrs, regs))
    W, history, _ = _train(loss, W0, lrs, regs, batches, False)
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
    multiply-adds each, the batch's columns read once. ``n_jobs`` > 1 (-1: one per core) trains chunks
    of the grid in parallel through joblib (the ``distributed`` extra for a Dask cluster). Verbose
    prints the table.
    FloatingPointError when every model diverged (there is no best model to return).
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
    n_jobs = 1 if n_jobs is None else _backends.check_threads(n_jobs, "n_jobs")  # -1: all cores, as joblib
    progress = _validate.boolean(progress, "progress")
    verbose = _validate.boolean(verbose, "verbose")
    X_val, y_val = check_validation(loss, X_val, y_val, max(2, loss.min_classes))
    val = None if X_val is None else loss.with_data(X_val, y_val)
    rng = _validate.rng(seed)
    joblib = require("joblib", "distributed", "n_jobs > 1", package="joblib") if n_jobs > 1 else None

    settings = np.array(list(itertools.product(lrs, grid_regs)))
    K, C, D = len(settings), max(2, loss.min_classes), loss.dim
    W0 = (rng.standard_normal((K, C, D)) * init_scale).astype(loss.dtype, copy=False)
    batches = Batches(rng, loss.n, num_iters, batch_size)
    began = time.perf_counter()
    interrupted = False
    if joblib is None:
        W, history, interrupted = _train(loss, W0, settings[:, 0], settings[:, 1], batches, progress)
        if history.shape[1] == 0:  # Ctrl-C before the first step: nothing to report
            raise KeyboardInterrupt
    else:
        chunks = np.array_split(np.arange(K), min(n_jobs, K))
        with _sent_once(joblib, loss, batches) as (data, idx):
            parts = joblib.Parallel(n_jobs=len(chunks), prefer="threads")(
                joblib.delayed(_train_chunk)(data, W0[c], settings[c, 0], settings[c, 1], idx) for c in chunks
            )
        W = np.concatenate([p[0] for p in parts])
        history = np.concatenate([p[1] for p in parts])
    elapsed = time.perf_counter() - began

    final = history[:, -1]
    diverged = ~np.isfinite(final) | ~np.all(np.isfinite(W.reshape(K, -1)), axis=1)
    if diverged.all():  # no best model: a diverged one is never returned as the result
        raise FloatingPointError(
            f"tune: every one of the {K} models diverged (its loss or W is not finite); use smaller learning_rates "
            f"(the smallest was {lrs.min():g})"
        )
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
        num_iters=history.shape[1],
        batch_size=batch_size,
        interrupted=interrupted,
    )
    if verbose:
        print(result)
    return result


def _accuracies(loss, W: np.ndarray) -> np.ndarray:
    """The accuracy of every model on the loss's examples, all scored in one pass over X."""
    with np.errstate(over="ignore", invalid="ignore"):
        S = loss.candidate_scores(np.nan_to_num(W))
    return np.mean(np.argmax(S, axis=1) == loss.labels[None, :], axis=1)
