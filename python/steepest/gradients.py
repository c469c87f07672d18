"""Numerical gradients and gradient checking.

``eval_numerical_gradient(f, x)`` is the notes' function. For a plain callable it runs the notes'
per-index loop (one or two evaluations of ``f`` per weight). For an :class:`~steepest.SVMLoss` or
:class:`~steepest.SoftmaxLoss` it takes the exact fast path: scores are linear in W, so perturbing
``W[c, d]`` by e only moves score row c by ``e * X[d, :]`` and the change of the loss is a sum of
per-example terms that one pass over X computes for every weight at once.
The fast path returns the finite differences the loop computes, without the loop's cancellation
error, at the cost of one pass over X for all weights (the loop costs one or two loss
evaluations per weight).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _validate
from ._optional import progress_bar
from ._table import key_values, table
from .losses import FLOAT32_NOTE, LinearLoss

__all__ = [
    "eval_numerical_gradient",
    "numerical_gradient",
    "FiniteDifferences",
    "relative_error",
    "grad_check",
    "GradCheck",
    "grad_check_sparse",
    "h_sweep",
    "HSweep",
]

METHODS = ("forward", "centered")


def _check_h(h: Any) -> float:
    return _validate.positive(h, "h")


def _check_step_changes(x: np.ndarray, h: float, name: str) -> None:
    """Refuse an h that vanishes next to some weight: (w + h) - w == 0 there."""
    dead = np.flatnonzero(((x + h) - x).ravel() == 0)
    if len(dead):
        ix = np.unravel_index(int(dead[0]), x.shape)
        raise ValueError(
            f"h = {h:g} is too small for {name}: {name}[{', '.join(map(str, ix))}] = {x[ix]!r} does not change "
            f"when h is added ({len(dead)} such weights); use a larger h"
        )


# --- the exact fast path -----------------------------------------------------------------------


@dataclass(frozen=True)
class FiniteDifferences:
    """All finite differences of a linear-classifier loss at ``W``, computed exactly in one pass.

    ``forward`` = (L(W + h E) - L(W)) / h, ``backward`` = (L(W) - L(W - h E)) / h and ``centered`` =
    their mean, for every weight (float64, W's shape). ``kinks`` (SVM only, else None) counts the hinge
    terms that cross their kink inside [-h, +h] for each weight.
    """

    forward: np.ndarray
    backward: np.ndarray
    centered: np.ndarray
    kinks: np.ndarray | None
    h: float
    loss: str
    backend: str
    elapsed: float
    note: str = ""

    def gradient(self, method: str = "centered") -> np.ndarray:
        return self.centered if method == "centered" else self.forward


def numerical_gradient(loss: LinearLoss, W: Any, h: float = 1e-5, *, backend: str | None = None) -> FiniteDifferences:
    """Exact forward, backward and centered differences of ``loss`` for every weight of ``W``.

    Cost: two passes over X (scores, then the sweep), whatever the number of weights. float32 problems
    are computed in float64 (the result's ``note`` says so).
    """
    if not isinstance(loss, LinearLoss):
        raise TypeError(f"loss must be an SVMLoss or SoftmaxLoss; got {type(loss).__name__}")
    W = loss.check_weights(W)
    h = _check_h(h)
    W64 = np.ascontiguousarray(W, dtype=np.float64)
    _check_step_changes(W64, h, "W")
    start = time.perf_counter()
    plus, minus, kinks, name, note = loss.finite_differences(W64, h, backend)
    forward = plus / h
    backward = -minus / h
    centered = (plus - minus) / (2.0 * h)
    elapsed = time.perf_counter() - start
    return FiniteDifferences(forward, backward, centered, kinks, h, loss.name, name, elapsed, note)


# --- the notes' function -------------------------------------------------------------------------


def _loop(f: Callable, x: np.ndarray, h: float, method: str, progress: bool, indices=None) -> np.ndarray:
    """The notes' per-index loop; x is restored after every step, also when f raises or Ctrl-C."""
    grad = np.zeros(x.shape)
    todo = list(np.ndindex(x.shape)) if indices is None else indices
    bar = progress_bar(progress, len(todo), f"{method} differences", unit="weight")
    try:
        fx = f(x) if method == "forward" else None
        for ix in todo:
            old = x[ix]
            try:
                x[ix] = old + h
                fxph = f(x)
                if method == "centered":
                    x[ix] = old - h
                    fxmh = f(x)
            finally:
                x[ix] = old
            grad[ix] = (fxph - fx) / h if method == "forward" else (fxph - fxmh) / (2 * h)
            bar.update()
    finally:
        bar.close()
    return grad


def eval_numerical_gradient(
    f: Callable, x: Any, h: float = 1e-5, method: str = "forward", *, backend: str | None = None, progress: bool = False
) -> np.ndarray:
    """The numerical gradient of ``f`` at ``x``: the notes' function, and fast for steepest's losses.

    ``method="forward"`` (the notes' default) gives ``(f(x + h) - f(x)) / h`` per entry; ``"centered"``
    gives ``(f(x + h) - f(x - h)) / 2h``. When ``f`` is an ``SVMLoss`` or ``SoftmaxLoss`` the result is
    computed exactly for every weight in two passes over X (see :func:`numerical_gradient`); otherwise
    ``f`` is evaluated once or twice per entry (``x`` is modified in place and restored, also on
    errors and Ctrl-C). Returns float64 of ``x``'s shape.
    """
    method = _validate.choice(method, "method", METHODS)
    h = _check_h(h)
    if isinstance(f, LinearLoss):
        return numerical_gradient(f, x, h, backend=backend).gradient(method)
    if not callable(f):
        raise TypeError(f"f must be callable (a function of x returning a float); got {type(f).__name__}")
    x = _validate.float_array(x, "x", x.ndim if isinstance(x, np.ndarray) and x.ndim else 1)
    if x.dtype != np.float64:
        raise TypeError(
            f"x must be float64 for finite differences; got {x.dtype}. "
            f"{FLOAT32_NOTE.replace('computed in float64: ', '').capitalize()}; pass x.astype(np.float64)"
        )
    if not x.flags.writeable:
        raise ValueError("x must be writeable: the loop perturbs it in place (and restores it)")
    _check_step_changes(x, h, "x")
    return _loop(f, x, h, method, progress)


# --- checking ---------------------------------------------------------------------------------


def relative_error(a: Any, b: Any, tiny: float = 1e-300) -> np.ndarray:
    """``|a - b| / max(|a| + |b|, tiny)`` elementwise (0 where both are 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)


GRADES = ((1e-7, "good"), (1e-4, "acceptable with kinks, too high without"), (1e-2, "doubtful"), (np.inf, "wrong"))


def grade(error: float) -> str:
    """The notes' reading of a relative error."""
    for limit, name in GRADES:
        if error <= limit:
            return name
    return "wrong"  # NaN


@dataclass(frozen=True)
class GradCheck:
    """The result of :func:`grad_check`: how the analytic gradient compares with finite differences."""

    loss: str
    backend: str
    shape: tuple
    h: float
    method: str
    errors: np.ndarray = field(repr=False)
    analytic: np.ndarray = field(repr=False)
    numerical: np.ndarray = field(repr=False)
    verdicts: np.ndarray = field(repr=False)  # "agrees", "kink", "bug" per weight
    kinks: np.ndarray | None = field(repr=False)
    tolerance: float
    elapsed: float
    loss_evaluations: float  # the time taken, in loss-and-gradient evaluations
    loop_evaluations: int  # what the notes' loop would have needed
    note: str = ""

    @property
    def max_error(self) -> float:
        return float(self.errors.max())

    @property
    def grade(self) -> str:
        return grade(self.max_error)

    @property
    def ok(self) -> bool:
        """No weight disagrees without a kink to explain it."""
        return not np.any(self.verdicts == "bug")

    def counts(self) -> dict:
        return {v: int(np.sum(self.verdicts == v)) for v in ("agrees", "kink", "bug")}

    def worst(self, k: int = 5) -> list[tuple]:
        order = np.argsort(self.errors, axis=None)[::-1][:k]
        rows = []
        for flat in order:
            ix = np.unravel_index(int(flat), self.shape)
            kinks = int(self.kinks[ix]) if self.kinks is not None else None
            rows.append(
                (
                    str(tuple(int(i) for i in ix)),
                    float(self.analytic[ix]),
                    float(self.numerical[ix]),
                    float(self.errors[ix]),
                    kinks,
                    str(self.verdicts[ix]),
                )
            )
        return rows

    def __str__(self) -> str:
        q = np.quantile(self.errors, [0.5, 0.9, 0.99])
        counts = self.counts()
        summary = key_values(
            [
                ("loss", f"{self.loss} on W {self.shape}, backend {self.backend}"),
                ("finite differences", f"{self.method}, h = {self.h:g}"),
                ("relative error max", self.max_error),
                ("mean / median", f"{self.errors.mean():.3e} / {q[0]:.3e}"),
                ("90% / 99%", f"{q[1]:.3e} / {q[2]:.3e}"),
                ("grade (max)", self.grade),
                (
                    "weights",
                    f"{counts['agrees']} agree, {counts['kink']} explained by a kink within h, "
                    f"{counts['bug']} unexplained",
                ),
                (
                    "time",
                    f"{self.elapsed:.3g} s = {self.loss_evaluations:.2g} loss evaluations "
                    f"(the loop: {self.loop_evaluations})",
                ),
            ]
            + ([("note", self.note)] if self.note else []),
            title="gradient check",
        )
        worst = table(
            ["weight", "analytic", "numerical", "rel. error", "kinks", "verdict"], self.worst(), title="worst weights"
        )
        return summary + "\n\n" + worst


def _verdicts(analytic, numerical, errors, tolerance, fd: FiniteDifferences | None) -> np.ndarray:
    """agrees | kink (a kink lies within h and the analytic value lies between the one-sided
    differences: fine) | bug (disagrees with nothing to explain it)."""
    verdicts = np.where(errors <= tolerance, "agrees", "bug").astype(object)
    if fd is not None and fd.kinks is not None:
        low = np.minimum(fd.forward, fd.backward)
        high = np.maximum(fd.forward, fd.backward)
        slack = tolerance * (np.abs(low) + np.abs(high)) + 1e-12
        between = (analytic >= low - slack) & (analytic <= high + slack)
        verdicts[(verdicts == "bug") & (fd.kinks > 0) & between] = "kink"
    return verdicts.astype(str)


def grad_check(
    loss: Any,
    W: Any,
    analytic: Any = None,
    h: float = 1e-5,
    method: str = "centered",
    *,
    tolerance: float = 1e-6,
    backend: str | None = None,
) -> GradCheck:
    """Compare an analytic gradient with finite differences for every weight and explain mismatches.

    ``loss`` is an ``SVMLoss`` / ``SoftmaxLoss`` (exact fast path; ``analytic`` defaults to its
    ``grad(W)``) or any callable (the per-index loop; then ``analytic`` is required). A weight whose
    relative error exceeds ``tolerance`` is explained when a hinge kink lies within h and the analytic
    value lies between the backward and forward differences; otherwise it is reported as a bug.
    """
    method = _validate.choice(method, "method", METHODS)
    h = _check_h(h)
    tolerance = _validate.positive(tolerance, "tolerance")
    fd = None
    if isinstance(loss, LinearLoss):
        W = loss.check_weights(W)
        fd = numerical_gradient(loss, W, h, backend=backend)
        numerical, elapsed = fd.gradient(method), fd.elapsed
        used_backend, note = fd.backend, fd.note
        per_eval = float("inf")
        for _ in range(3):  # the best of three: one evaluation is short and easily disturbed
            t0 = time.perf_counter()
            _, dW = loss.loss_grad(W)
            per_eval = min(per_eval, time.perf_counter() - t0)
        if analytic is None:
            analytic = dW  # the same (deterministic) pass as loss.grad(W)
    else:
        if analytic is None:
            raise TypeError("analytic is required when loss is a plain callable (there is no .grad to call)")
        start = time.perf_counter()
        numerical = eval_numerical_gradient(loss, W, h, method)
        elapsed = time.perf_counter() - start
        used_backend, note, per_eval = "python loop", "", None
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != np.shape(W):
        raise ValueError(f"analytic must have W's shape {np.shape(W)}; got {analytic.shape}")
    errors = relative_error(analytic, numerical)
    n = int(np.size(W))
    loop = n + 1 if method == "forward" else 2 * n
    evaluations = elapsed / per_eval if per_eval else float(loop + 1)
    return GradCheck(
        loss=getattr(loss, "name", getattr(loss, "__name__", type(loss).__name__)),
        backend=used_backend,
        shape=tuple(np.shape(W)),
        h=h,
        method=method,
        errors=errors,
        analytic=analytic,
        numerical=numerical,
        verdicts=_verdicts(analytic, numerical, errors, tolerance, fd),
        kinks=None if fd is None else fd.kinks,
        tolerance=tolerance,
        elapsed=elapsed,
        loss_evaluations=evaluations,
        loop_evaluations=loop,
        note=note,
    )


def _stratified_indices(shape: tuple, num_checks: int, rng: np.random.Generator) -> list[tuple]:
    """Random distinct-ish indices; for a (C, D) W the bias column (the last) and every class row come
    first, so even a small sample sees the weights a bug most often hides in."""
    if len(shape) != 2:
        return [tuple(int(rng.integers(m)) for m in shape) for _ in range(num_checks)]
    C, D = shape
    bias = [(c, D - 1) for c in rng.permutation(C)]
    rows = [(int(c), int(rng.integers(D))) for c in rng.permutation(C)]
    # alternate: a bias weight, a weight of another class row, ... then uniform picks
    picks = [p for pair in zip(bias, rows) for p in pair]
    while len(picks) < num_checks:
        picks.append((int(rng.integers(C)), int(rng.integers(D))))
    return [tuple(int(i) for i in p) for p in picks[:num_checks]]


def grad_check_sparse(
    f: Callable,
    x: Any,
    analytic_grad: Any,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: Any = None,
    *,
    verbose: bool = True,
) -> list[tuple]:
    """The CS231n assignment's sparse check: centered differences at ``num_checks`` random indices.

    Stratified for a (C, D) weight matrix: the bias column (last) and every class row are sampled
    first. Prints ``numerical: %f analytic: %f, relative error: %e`` per index like the assignment;
    returns ``[(index, numerical, analytic, relative_error), ...]``. ``x`` is restored.
    """
    if not callable(f):
        raise TypeError(f"f must be callable; got {type(f).__name__}")
    x = _validate.float_array(x, "x", x.ndim if isinstance(x, np.ndarray) and x.ndim else 1)
    if x.dtype != np.float64:
        raise TypeError(f"x must be float64 for finite differences; got {x.dtype}")
    analytic_grad = np.asarray(analytic_grad, dtype=np.float64)
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad must have x's shape {x.shape}; got {analytic_grad.shape}")
    num_checks = _validate.integer(num_checks, "num_checks", low=1)
    h = _check_h(h)
    _check_step_changes(x, h, "x")
    rng = _validate.rng(seed)
    results = []
    for ix in _stratified_indices(x.shape, num_checks, rng):
        numerical = float(_loop(f, x, h, "centered", False, [ix])[ix])
        analytic = float(analytic_grad[ix])
        err = float(relative_error(numerical, analytic))
        if verbose:
            print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {err:e}")
        results.append((ix, numerical, analytic, err))
    return results


@dataclass(frozen=True)
class HSweep:
    """Error between analytic and numerical gradients as a function of h (see :func:`h_sweep`)."""

    hs: np.ndarray
    exact_max_error: np.ndarray  # the exact fast path: truncation and kinks only
    loop_max_error: np.ndarray  # the notes' loop on a sample of weights: round-off included
    sample: int
    recommended_h: float

    def __str__(self) -> str:
        rows = [
            (f"{h:.0e}", float(e), float(l), "<- recommended" if h == self.recommended_h else "")
            for h, e, l in zip(self.hs, self.exact_max_error, self.loop_max_error)
        ]
        return table(
            ["h", "fast path max rel. error", f"loop max rel. error ({self.sample} weights)", ""],
            rows,
            title="finite-difference step h: truncation error falls with h, the loop's round-off grows",
        )


def h_sweep(
    loss: LinearLoss,
    W: Any,
    hs: Any = None,
    *,
    method: str = "centered",
    sample: int = 20,
    seed: Any = 0,
    backend: str | None = None,
) -> HSweep:
    """For each h: the max relative error of the exact fast path over all weights, and of the notes'
    loop over ``sample`` weights (which adds the round-off of ``f(x+h) - f(x)``). The recommended h
    minimises the loop's error: that is the h to use with a per-index loop.
    """
    if not isinstance(loss, LinearLoss):
        raise TypeError(f"loss must be an SVMLoss or SoftmaxLoss; got {type(loss).__name__}")
    method = _validate.choice(method, "method", METHODS)
    W = loss.check_weights(W)
    hs = np.asarray(10.0 ** -np.arange(1, 11) if hs is None else hs, dtype=np.float64)
    if hs.ndim != 1 or hs.size == 0 or not np.all(np.isfinite(hs)) or np.any(hs <= 0):
        raise ValueError(f"hs must be a non-empty 1-D array of positive finite steps; got {hs!r}")
    sample = _validate.integer(sample, "sample", low=1)
    W64 = np.array(W, dtype=np.float64)
    loss64 = loss.as_float64()
    analytic = loss64.grad(W64)
    rng = _validate.rng(seed)
    picks = _stratified_indices(W64.shape, sample, rng)
    exact, looped = [], []
    for h in hs:
        fd = numerical_gradient(loss64, W64, float(h), backend=backend)
        exact.append(float(relative_error(analytic, fd.gradient(method)).max()))
        numeric = _loop(loss64, W64, float(h), method, False, picks)
        looped.append(max(float(relative_error(analytic[ix], numeric[ix])) for ix in picks))
    looped = np.array(looped)
    return HSweep(hs, np.array(exact), looped, len(picks), float(hs[int(np.argmin(looped))]))
