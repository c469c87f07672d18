"""Numerical gradients and gradient checking.

``eval_numerical_gradient(f, x)`` is the notes' function. For a plain callable it runs the notes'
per-index loop (one or two evaluations of ``f`` per weight). For an :class:`~steepest.SVMLoss` or
:class:`~steepest.SoftmaxLoss` it takes the exact fast path: scores are linear in W, so perturbing
``W[c, d]`` by e only moves score row c by ``e * X[d, :]`` and the change of the loss is a sum of
per-example terms that one pass over X computes for every weight at once.
The fast path returns the finite differences the loop computes, without the loop's cancellation
error, at the cost of one pass over X for all weights (the loop costs one or two loss
evaluations per weight).

``grad_check`` gives every weight a verdict: it agrees, or its disagreement is explained by a hinge
kink within h or by the truncation error of the finite difference at this h (estimated per weight
from the one-sided differences and a second exact sweep at 2h), or it is a bug.
"""

from __future__ import annotations

import math
import numbers
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


def _check_loss(loss: Any) -> LinearLoss:
    if not isinstance(loss, LinearLoss):
        raise TypeError(f"loss must be an SVMLoss or SoftmaxLoss; got {type(loss).__name__}")
    return loss


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
        method = _validate.choice(method, "method", METHODS)  # "backward" is a field, not a method
        return self.centered if method == "centered" else self.forward


def numerical_gradient(loss: LinearLoss, W: Any, h: float = 1e-5, *, backend: str | None = None) -> FiniteDifferences:
    """Exact forward, backward and centered differences of ``loss`` for every weight of ``W``.

    Cost: two passes over X (scores, then the sweep), whatever the number of weights. float32 problems
    are computed in float64 (the result's ``note`` says so). A loss that overflows at W or at some
    ``W +- h E`` raises FloatingPointError naming it (never made-up finite numbers or NaN).
    """
    loss = _check_loss(loss)
    W = loss.check_weights(W)
    h = _check_h(h)
    _validate.backend(backend)
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
        fx = _finite_value(f(x), "x") if method == "forward" else None
        for ix in todo:
            old = x[ix]
            try:
                x[ix] = old + h
                fxph = _finite_value(f(x), f"x + h*E[{_index(ix)}]")
                if method == "centered":
                    x[ix] = old - h
                    fxmh = _finite_value(f(x), f"x - h*E[{_index(ix)}]")
            finally:
                x[ix] = old
            grad[ix] = (fxph - fx) / h if method == "forward" else (fxph - fxmh) / (2 * h)
            bar.update()
    finally:
        bar.close()
    return grad


def _index(ix: tuple) -> str:
    return ", ".join(str(int(i)) for i in ix)


def _finite_value(value: Any, where: str) -> float:
    """f's value at ``where``, refused when it is not a finite real number: a difference of it would
    be NaN or inf, never a derivative."""
    value = _validate.returned_real(value, f"f (at {where})")
    if not math.isfinite(value):
        raise FloatingPointError(
            f"f({where}) = {value} is not finite: the function overflowed there; scale x down or use a smaller h"
        )
    return value


def eval_numerical_gradient(
    f: Callable, x: Any, h: float = 1e-5, method: str = "forward", *, backend: str | None = None, progress: bool = False
) -> np.ndarray:
    """The numerical gradient of ``f`` at ``x``: the notes' function, and fast for steepest's losses.

    ``method="forward"`` (the notes' default) gives ``(f(x + h) - f(x)) / h`` per entry; ``"centered"``
    gives ``(f(x + h) - f(x - h)) / 2h``. When ``f`` is an ``SVMLoss`` or ``SoftmaxLoss`` the result is
    computed exactly for every weight in two passes over X (see :func:`numerical_gradient`); otherwise
    ``f`` is evaluated once or twice per entry (``x`` is modified in place and restored, also on
    errors and Ctrl-C); a value of ``f`` that is NaN or infinite raises FloatingPointError naming the
    point. Returns float64 of ``x``'s shape.
    """
    method = _validate.choice(method, "method", METHODS)
    h = _check_h(h)
    _validate.backend(backend)
    progress = _validate.boolean(progress, "progress")
    if isinstance(f, LinearLoss):
        return numerical_gradient(f, x, h, backend=backend).gradient(method)
    return _loop(f, _loop_input(f, x, h), h, method, progress)


def _loop_input(f: Any, x: Any, h: float, f_name: str = "f", x_name: str = "x") -> np.ndarray:
    """``x`` checked for the loop: a writeable float64 array in which h moves every entry (the names
    are the caller's arguments)."""
    if not callable(f):
        raise TypeError(f"{f_name} must be callable (a function of {x_name} returning a float); got {type(f).__name__}")
    x = _validate.float_array(x, x_name, x.ndim if isinstance(x, np.ndarray) and x.ndim else 1)
    if x.dtype != np.float64:
        raise TypeError(
            f"{x_name} must be float64 for finite differences; got {x.dtype}. "
            f"{FLOAT32_NOTE.replace('computed in float64: ', '').capitalize()}; pass {x_name}.astype(np.float64)"
        )
    if not x.flags.writeable:
        raise ValueError(f"{x_name} must be writeable: the loop perturbs it in place (and restores it)")
    _check_step_changes(x, h, x_name)
    return x


# --- relative errors and the notes' reading of them -------------------------------------------


def relative_error(a: Any, b: Any, tiny: float = 1e-300) -> np.ndarray:
    """``|a - b| / max(|a| + |b|, tiny)`` elementwise (0 where both are 0)."""
    a = _validate.real_array(a, "a")
    b = _validate.real_array(b, "b")
    tiny = _validate.positive(tiny, "tiny")
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


# --- what a disagreement can be explained by -----------------------------------------------------
#
# For one weight w let f(t) = L(W + t E_w) and g = f'(0). The sweeps give the exact loss changes for
# the steps the notes' loop really takes, e+ = (w + h) - w and e- = w - (w - h), hence the one-sided
# differences d+ = (f(e+) - f(0)) / e+ and d- = (f(0) - f(-e-)) / e- (the reported forward and backward
# divide by h instead: that representation error is part of what the estimate explains). Taylor:
#
#     d+(h) = g + h f''/2 + h^2 f'''/6 + h^3 f''''/24 + ...      d-(h) = g - h f''/2 + h^2 f'''/6 - ...
#     c(h)  = (d+ e- + d- e+) / (e+ + e-) = g + h^2 f'''/6 + h^4 f'''''/120 + ...
#
# so forward - backward = h f'' + O(h^3) is forward's leading error (twice over). A second exact sweep
# at 2h (two more passes over X) gives the Richardson estimate of the centered error
# Tc = (c(2h) - c(h)) / 3 = h^2 f'''/6 + O(h^4) and the reference R = c(h) - Tc = g + O(h^4 f''''').
# ``numerical - R`` is then the estimated error of the method at this h (forward: h f''/2 + h^2 f'''/6,
# centered: Tc). A correct analytic value lies within U of R, where U = |Tc| + |h^3 f''''/4| (the
# correction itself and the next even term, |(d+(2h) - d-(2h))/2 - (d+(h) - d-(h))|, bound what the
# extrapolation leaves) plus round-off: 16 eps times the differences, times the analytic value (in its
# own dtype), and times (1 + log2 n) one example's gradient term (``_example_scale``: at a confident W
# the gradient is tiny, the sums the finite differences add up are not). A bug is what exceeds both U
# and the relative tolerance.
#
# A loss that is piecewise linear along a line (``has_exact_line``: the SVM, plus its quadratic
# regularization) has f''' = 0 between kinks: there c(h) is exact and no second sweep is needed unless
# a kink lies within h. At such a weight the one-sided extrapolation from the steps s and 2s,
# g+ = (d+(s) e+(2s) - d+(2s) e+(s)) / (e+(2s) - e+(s)) (likewise g-), is the exact one-sided derivative
# when that side has no kink within 2s; where at most one kink lies within 2s one side is kink-free and
# the analytic value must equal its extrapolation. The step is halved (one sweep each) while weights
# with two or more kinks within reach remain and their number falls.

VERDICTS = ("agrees", "kink", "truncation", "bug")
NEXT_TERM = 1.0  # what Richardson leaves, in units of its own correction |Tc| plus the next even term
ROUNDOFF = 16.0  # the round-off allowance, in units of the machine epsilon of each term
REFINE = 6  # at most this many halvings of the step to isolate kinks (one more sweep each)


@dataclass(frozen=True)
class _Estimate:
    """What the finite differences at h (and 2h) say about the derivative of every weight."""

    reference: np.ndarray  # the best estimate of the derivative; NaN where a kink within h leaves none
    uncertainty: np.ndarray  # the allowance of |analytic - reference| before the tolerance
    roundoff: np.ndarray  # the round-off part of that allowance
    one_sided: list | None  # per level (step, 2 step): (g+, g-, kinks within 2 step), piecewise-linear losses
    description: str
    passes: int
    elapsed: float


def _steps(W64: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """The steps the notes' loop really takes: (w + h) - w and w - (w - h)."""
    return (W64 + h) - W64, W64 - (W64 - h)


def _example_scale(loss: LinearLoss, shape: tuple, sample: int = 64) -> np.ndarray:
    """The size of one example's gradient term per feature: the mean over up to ``sample`` evenly spaced
    examples of ``max_c |dL_i/dW[c, d]|`` at W = 0, shape (D,).

    The round-off of a sum over the examples scales with its terms, not with the sum: at a W where the
    model is confident the gradient is tiny while the terms the finite differences add up are not. At
    W = 0 every example contributes, so this measures the data's scale (the size of ``x_d`` times the
    loss's coefficient there) whatever W is. Cost: ``sample`` single-example gradients, O(sample C D).
    """
    n = loss.n
    picks = np.unique(np.linspace(0, n - 1, min(n, sample)).round().astype(np.int64))
    zero = np.zeros(shape, dtype=loss.dtype)
    total = np.zeros(shape[1])
    for k in range(len(picks)):
        total += np.abs(loss.subset(picks[k : k + 1]).grad(zero)).max(axis=0)
    return total / len(picks)


def _one_sided(loss: LinearLoss, W64: np.ndarray, step: float, backend: str):
    """d+ and d- for the loop's real steps at ``step``, the kink counts, the time taken (one sweep)."""
    _check_step_changes(W64, step, "W")
    start = time.perf_counter()
    plus, minus, kinks, _, _ = loss.finite_differences(W64, step, backend)
    ep, em = _steps(W64, step)
    return plus / ep, -minus / em, kinks, time.perf_counter() - start


def _extrapolate(d_near, d_far, e_near, e_far):
    """The one-sided derivative from one-sided differences at steps e and about 2e: exact when the
    loss is quadratic on that side (no kink within the larger step)."""
    return (d_near * e_far - d_far * e_near) / (e_far - e_near)


def _richardson(dp, dm, ep, em, dp2, dm2, ep2, em2):
    """(reference, centered error Tc, next even term h^3 f''''/4) from one-sided differences at h and 2h."""
    c1 = (dp * em + dm * ep) / (ep + em)
    c2 = (dp2 * em2 + dm2 * ep2) / (ep2 + em2)
    centered_error = (c2 - c1) / 3.0
    return c1 - centered_error, centered_error, (dp2 - dm2) / 2.0 - (dp - dm)


def _loop_estimate(f: Callable, x: np.ndarray, h: float, method: str, analytic, analytic_eps: float):
    """The notes' loop with the estimate: f at x, x +- h and x +- 2h per index (x restored, also on
    errors and Ctrl-C). Returns the method's numerical gradient (the loop's own numbers) and the
    _Estimate; the round-off allowance is that of the loop's subtractions, 16 eps |f| / h."""
    eps = float(np.finfo(np.float64).eps)
    fx = _finite_value(f(x), "x")
    values = np.empty((4,) + x.shape)
    steps = np.empty((4,) + x.shape)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        try:
            for k, (step, where) in enumerate(zip((h, -h, 2.0 * h, -2.0 * h), ("+ h", "- h", "+ 2h", "- 2h"))):
                x[ix] = old + step
                steps[k][ix] = abs(x[ix] - old)
                values[k][ix] = _finite_value(f(x), f"x {where}*E[{_index(ix)}]")
        finally:
            x[ix] = old
    plus, minus, plus2, minus2 = values
    numerical = (plus - fx) / h if method == "forward" else (plus - minus) / (2 * h)
    dp, dm = (plus - fx) / steps[0], (fx - minus) / steps[1]
    dp2, dm2 = (plus2 - fx) / steps[2], (fx - minus2) / steps[3]
    reference, centered_error, fourth = _richardson(dp, dm, steps[0], steps[1], dp2, dm2, steps[2], steps[3])
    size = np.maximum(np.abs(values).max(axis=0), abs(fx))
    roundoff = ROUNDOFF * (eps * size / h + analytic_eps * np.abs(analytic))
    uncertainty = NEXT_TERM * (np.abs(centered_error) + np.abs(fourth)) + roundoff
    description = (
        "Richardson from the loop at h and 2h (4 evaluations of f per weight): centered error (c(2h) - c(h))/3"
    )
    return numerical, _Estimate(reference, uncertainty, roundoff, None, description, 0, 0.0)


def _estimate(
    loss: LinearLoss,
    W64: np.ndarray,
    fd: FiniteDifferences,
    analytic: np.ndarray,
    analytic_eps: float,
    data_scale: np.ndarray,
) -> _Estimate:
    h = fd.h
    eps = float(np.finfo(np.float64).eps)
    ep, em = _steps(W64, h)
    dp, dm = fd.forward * (h / ep), fd.backward * (h / em)
    c1 = (dp * em + dm * ep) / (ep + em)
    scale = np.maximum(np.abs(dp), np.abs(dm))
    kinked = fd.kinks is not None and bool(np.any(fd.kinks > 0))
    piecewise = bool(loss.has_exact_line)  # piecewise linear along a line (+ quadratic reg): f''' = 0 between kinks
    passes, elapsed = 2, 0.0
    if not piecewise or kinked:
        dp2, dm2, kinks2, seconds = _one_sided(loss, W64, 2.0 * h, fd.backend)
        passes, elapsed = passes + 2, elapsed + seconds
        ep2, em2 = _steps(W64, 2.0 * h)
        scale = np.maximum(scale, np.maximum(np.abs(dp2), np.abs(dm2)))
    one_sided = None
    if piecewise:
        reference = c1
        extra = ""
        if kinked:
            # levels (step, 2 step) from 2h down: where at most one kink lies within 2 step, one side is
            # kink-free there and its extrapolation is the exact one-sided derivative
            one_sided = [(_extrapolate(dp, dp2, ep, ep2), _extrapolate(dm, dm2, em, em2), kinks2)]
            pending = (fd.kinks > 0) & (kinks2 >= 2)
            far_p, far_m, far_e, far_k, step = dp, dm, (ep, em), fd.kinks, h
            while pending.any() and len(one_sided) <= REFINE:
                step /= 2.0
                if np.any(((W64 + step) - W64) == 0) or np.any((W64 - (W64 - step)) == 0):
                    break
                near_p, near_m, near_k, seconds = _one_sided(loss, W64, step, fd.backend)
                passes, elapsed = passes + 2, elapsed + seconds
                e_p, e_m = _steps(W64, step)
                scale = np.maximum(scale, np.maximum(np.abs(near_p), np.abs(near_m)))
                one_sided.append(
                    (_extrapolate(near_p, far_p, e_p, far_e[0]), _extrapolate(near_m, far_m, e_m, far_e[1]), far_k)
                )
                before = int(pending.sum())
                pending &= far_k >= 2
                if int(pending.sum()) == before:  # kinks that stay together (e.g. exactly at 0): stop halving
                    break
                far_p, far_m, far_e, far_k = near_p, near_m, (e_p, e_m), near_k
            reference = np.where(fd.kinks > 0, np.nan, c1)
            steps = ", ".join(f"{h * 2.0 ** (1 - i):.3g}" for i in range(len(one_sided) + 1)[::-1])
            extra = f"; at a kink, one-sided extrapolations from the steps {steps}"
        description = "exact between kinks: the loss is piecewise linear along a line (f''' = 0)" + extra
        centered_error = fourth = 0.0
    else:
        reference, centered_error, fourth = _richardson(dp, dm, ep, em, dp2, dm2, ep2, em2)
        description = "Richardson from sweeps at h and 2h: centered error (c(2h) - c(h))/3"
        if fd.kinks is not None:  # a smooth loss with kinks: no reference where one lies within h
            reference = np.where(fd.kinks > 0, np.nan, reference)
    # round-off: of every difference (relative), of the sums over the examples (pairwise-blocked sums of
    # n terms of the size of one example's term, ``data_scale``) and of the analytic value itself
    sums = (1.0 + np.log2(loss.n)) * data_scale
    roundoff = ROUNDOFF * (eps * (4.0 * scale + sums) + analytic_eps * np.abs(analytic))
    uncertainty = NEXT_TERM * (np.abs(centered_error) + np.abs(fourth)) + roundoff
    return _Estimate(reference, uncertainty, roundoff, one_sided, description, passes, elapsed)


def _judge(analytic, numerical, errors, tolerance, kinks, forward, backward, est: _Estimate | None):
    """Verdict per weight and the reference it was judged against (see VERDICTS).

    agrees: relative error <= tolerance, or the difference is round-off; kink: a hinge kink within h
    and the analytic value lies between the one-sided differences (for a piecewise-linear loss, where
    at most one kink lies within some step's reach, it must also equal the kink-free side's
    extrapolation); truncation: the analytic value matches the truncation-corrected reference; bug:
    none of these.
    """
    agrees = errors <= tolerance
    verdicts = np.full(np.shape(analytic), "bug", dtype=object)
    reference, confirmed = None, 0
    if est is not None:
        agrees |= np.abs(analytic - numerical) <= est.roundoff
        reference = est.reference.copy()
        with np.errstate(invalid="ignore"):
            allowed = np.maximum(est.uncertainty, tolerance * (np.abs(analytic) + np.abs(reference)))
            verdicts[np.abs(analytic - reference) <= allowed] = "truncation"
    if kinks is not None:
        low, high = np.minimum(forward, backward), np.maximum(forward, backward)
        slack = tolerance * (np.abs(low) + np.abs(high)) + (1e-12 if est is None else est.roundoff)
        candidate = (kinks > 0) & ~agrees & (analytic >= low - slack) & (analytic <= high + slack)
        if est is not None and est.one_sided is not None:
            undecided = candidate.copy()
            for g_plus, g_minus, count in est.one_sided:
                decide = undecided & (count <= 1)

                def near(side_value):
                    allowed = np.maximum(4 * est.roundoff, tolerance * (np.abs(analytic) + np.abs(side_value)))
                    return np.abs(analytic - side_value) <= allowed

                near_plus, near_minus = near(g_plus), near(g_minus)
                match = decide & (near_plus | near_minus)
                reference[match] = np.where(near_plus, g_plus, g_minus)[match]
                confirmed += int(match.sum())
                candidate &= ~decide | match  # a decidable weight that matches neither side is a bug
                undecided &= ~decide
        verdicts[candidate] = "kink"
    verdicts[agrees] = "agrees"
    return verdicts.astype(str), reference, confirmed


# --- checking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradCheck:
    """The result of :func:`grad_check`: how the analytic gradient compares with finite differences.

    ``verdicts`` holds one of ``VERDICTS`` per weight. With the estimate (the default) the check also
    keeps ``reference`` (the derivative with the method's truncation error removed: Richardson from
    differences at h and 2h; NaN at SVM kinks it could not confirm), ``uncertainty`` (how far a correct
    analytic value may lie from it: the next-order term and round-off; the verdict also allows
    ``tolerance`` relative) and the description of that ``estimate``; ``truncation`` is the estimated
    error of ``numerical`` at this h.
    """

    loss: str
    backend: str
    shape: tuple
    h: float
    method: str
    errors: np.ndarray = field(repr=False)
    analytic: np.ndarray = field(repr=False)
    numerical: np.ndarray = field(repr=False)
    verdicts: np.ndarray = field(repr=False)  # "agrees", "kink", "truncation", "bug" per weight
    kinks: np.ndarray | None = field(repr=False)
    tolerance: float
    elapsed: float  # the numerical gradient: the sweep at h (for a plain callable, the whole loop)
    loss_evaluations: float  # the time taken, in loss-and-gradient evaluations
    loop_evaluations: int  # what the notes' loop would have needed
    note: str = ""
    reference: np.ndarray | None = field(default=None, repr=False)
    uncertainty: np.ndarray | None = field(default=None, repr=False)
    estimate: str = ""  # how the truncation error was estimated ("" without the estimate)
    estimate_elapsed: float = 0.0  # the estimate's extra sweeps (2h; smaller steps at SVM kinks)
    passes: int = 0  # passes over X of the finite differences and the estimate together
    kinks_confirmed: int = 0  # kink verdicts whose analytic value equals a kink-free side's extrapolation

    @property
    def max_error(self) -> float:
        return float(self.errors.max())

    @property
    def grade(self) -> str:
        return grade(self.max_error)

    @property
    def ok(self) -> bool:
        """No weight disagrees without a kink or the truncation error to explain it."""
        return not np.any(self.verdicts == "bug")

    @property
    def truncation(self) -> np.ndarray | None:
        """The estimated error of ``numerical`` at this h: ``numerical - reference`` (NaN at kinks)."""
        return None if self.reference is None else self.numerical - self.reference

    @property
    def reference_errors(self) -> np.ndarray | None:
        """Relative errors of the analytic gradient against ``reference`` (NaN at kinks)."""
        if self.reference is None:
            return None
        with np.errstate(invalid="ignore"):
            return relative_error(self.analytic, self.reference)

    def counts(self) -> dict:
        return {v: int(np.sum(self.verdicts == v)) for v in VERDICTS}

    def bugs(self) -> list[tuple]:
        """The indices of the weights judged "bug"."""
        return [tuple(int(i) for i in ix) for ix in np.argwhere(self.verdicts == "bug")]

    def worst(self, k: int = 5) -> list[tuple]:
        """``(weight, analytic, numerical, rel. error, kinks, verdict)`` of the k largest relative errors."""
        k = _validate.integer(k, "k", low=0)
        return [self._row(flat)[:6] for flat in np.argsort(self.errors, axis=None)[::-1][:k]]

    def _row(self, flat: int) -> tuple:
        ix = np.unravel_index(int(flat), self.shape)
        kinks = int(self.kinks[ix]) if self.kinks is not None else None
        row = (
            str(tuple(int(i) for i in ix)),
            float(self.analytic[ix]),
            float(self.numerical[ix]),
            float(self.errors[ix]),
            kinks,
            str(self.verdicts[ix]),
        )
        if self.reference is None:
            return row
        error = float(self.numerical[ix] - self.reference[ix])
        off = float(abs(self.analytic[ix] - self.reference[ix]))
        return row + (None if np.isnan(error) else error, None if np.isnan(off) else off)

    def _worst_rows(self, k: int) -> list[tuple]:
        """The bugs first (largest relative error first), then the largest relative errors."""
        flat = np.argsort(self.errors, axis=None, kind="stable")[::-1]
        is_bug = (self.verdicts == "bug").ravel()[flat]
        order = np.concatenate([flat[is_bug], flat[~is_bug]])[:k]
        return [self._row(i) for i in order]

    def __str__(self) -> str:
        q = np.quantile(self.errors, [0.5, 0.9, 0.99])
        c = self.counts()
        pairs = [
            ("loss", f"{self.loss} on W {self.shape}, backend {self.backend}"),
            ("finite differences", f"{self.method}, h = {self.h:g}"),
            ("relative error max", self.max_error),
            ("mean / median", f"{self.errors.mean():.3e} / {q[0]:.3e}"),
            ("90% / 99%", f"{q[1]:.3e} / {q[2]:.3e}"),
            ("grade (max)", self.grade),
            (
                "weights",
                f"{c['agrees']} agree, {c['kink']} explained by a kink within h, {c['truncation']} by the "
                f"truncation error at this h, {c['bug']} unexplained (bug)",
            ),
        ]
        if self.reference is not None:
            trunc = np.abs(self.truncation)
            ref = self.reference_errors
            finite = np.isfinite(ref)
            pairs += [
                ("error estimate", self.estimate + (f"; {self.passes} passes over X" if self.passes else "")),
                (
                    "estimated |error| of numerical",
                    f"median {np.nanmedian(trunc):.3e}, max {np.nanmax(trunc):.3e}" if finite.any() else "-",
                ),
                (
                    "analytic vs corrected",
                    f"max rel. error {ref[finite].max():.3e} ({grade(float(ref[finite].max()))})"
                    if finite.any()
                    else "-",
                ),
            ]
            if c["kink"]:
                pairs.append(("kinks confirmed", f"{self.kinks_confirmed} of {c['kink']} by a kink-free side"))
        time_text = (
            f"{self.elapsed:.3g} s = {self.loss_evaluations:.2g} loss evaluations (the loop: {self.loop_evaluations})"
        )
        if self.estimate_elapsed:
            time_text += f"; the estimate's extra sweeps {self.estimate_elapsed:.3g} s"
        pairs.append(("time", time_text))
        if self.note:
            pairs.append(("note", self.note))
        summary = key_values(pairs, title="gradient check")
        headers = ["weight", "analytic", "numerical", "rel. error", "kinks", "verdict"]
        if self.reference is not None:
            headers += ["est. error of numerical", "|analytic - corrected|"]
        worst = table(headers, self._worst_rows(5), title="worst weights (bugs first)")
        return summary + "\n\n" + worst


def grad_check(
    loss: Any,
    W: Any,
    analytic: Any = None,
    h: float = 1e-5,
    method: str = "centered",
    *,
    tolerance: float = 1e-6,
    backend: str | None = None,
    estimate: bool = True,
) -> GradCheck:
    """Compare an analytic gradient with finite differences for every weight and explain mismatches.

    ``loss`` is an ``SVMLoss`` / ``SoftmaxLoss`` (exact fast path; ``analytic`` defaults to its
    ``grad(W)``) or any callable (the per-index loop; then ``analytic`` is required). A weight whose
    relative error exceeds ``tolerance`` is explained when

    - a hinge kink lies within h and the analytic value lies between the backward and forward
      differences (verdict ``"kink"``), or
    - the analytic value matches the finite differences once the method's truncation error at this h
      is removed (``"truncation"``): the error is estimated per weight from the one-sided differences
      and a second exact sweep at 2h (Richardson), within the next-order term, round-off and
      ``tolerance`` (for a plain callable, from the loop at h and 2h).

    Anything else is a ``"bug"``; ``ok`` is True when there is none. For the SVM a kink verdict is
    confirmed where the analytic value equals the exact one-sided derivative of a kink-free side
    (``kinks_confirmed``); a value that matches neither side where one must be kink-free is a bug.

    Cost: the sweep at h (two passes over X), one more at 2h (two passes; for the SVM only when a kink
    lies within h, plus one sweep per halving of the step where two kinks lie within reach), 64
    single-example gradients (the round-off scale) and three loss evaluations (the timing). A plain
    callable is evaluated at x, x +- h and x +- 2h: 4 evaluations per weight (the loop alone needs one
    or two). ``estimate=False`` skips the estimate: then only kinks explain a disagreement.
    """
    method = _validate.choice(method, "method", METHODS)
    h = _check_h(h)
    tolerance = _validate.positive(tolerance, "tolerance")
    estimate = _validate.boolean(estimate, "estimate")
    _validate.backend(backend)
    if isinstance(loss, LinearLoss):
        W = loss.check_weights(W)
    else:
        W = _loop_input(loss, W, h, "loss", "W")
        if analytic is None:
            raise TypeError("analytic is required when loss is a plain callable (there is no .grad to call)")
    if analytic is not None:
        given = _validate.real_array(analytic, "analytic")
        if given.shape != W.shape:
            hint = " (did you pass analytic.T?)" if given.shape == W.shape[::-1] else ""
            raise ValueError(f"analytic must have W's shape {W.shape}; got {given.shape}{hint}")
        dtype = getattr(analytic, "dtype", given.dtype)  # the round-off of a float32 gradient is float32's
        analytic_eps = float(np.finfo(dtype if dtype.kind == "f" else np.float64).eps)
        analytic = given
    fd = est = None
    if isinstance(loss, LinearLoss):
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
            analytic_eps = float(np.finfo(dW.dtype).eps)
    analytic = np.asarray(analytic, dtype=np.float64)
    if fd is None:
        used_backend, note, per_eval = "python loop", "", None
        start = time.perf_counter()
        if estimate:
            numerical, est = _loop_estimate(loss, W, h, method, analytic, analytic_eps)
        else:
            numerical = _loop(loss, W, h, method, False)
        elapsed = time.perf_counter() - start
    elif estimate:
        W64 = np.ascontiguousarray(W, dtype=np.float64)
        est = _estimate(loss, W64, fd, analytic, analytic_eps, _example_scale(loss, W.shape))
    errors = relative_error(analytic, numerical)
    verdicts, reference, confirmed = _judge(
        analytic,
        numerical,
        errors,
        tolerance,
        None if fd is None else fd.kinks,
        None if fd is None else fd.forward,
        None if fd is None else fd.backward,
        est,
    )
    n = int(np.size(W))
    loop = n + 1 if method == "forward" else 2 * n
    evaluations = elapsed / per_eval if per_eval else float(4 * n + 1 if est is not None else loop + 1)
    return GradCheck(
        loss=getattr(loss, "name", getattr(loss, "__name__", type(loss).__name__)),
        backend=used_backend,
        shape=tuple(np.shape(W)),
        h=h,
        method=method,
        errors=errors,
        analytic=analytic,
        numerical=numerical,
        verdicts=verdicts,
        kinks=None if fd is None else fd.kinks,
        tolerance=tolerance,
        elapsed=elapsed,
        loss_evaluations=evaluations,
        loop_evaluations=loop,
        note=note,
        reference=reference,
        uncertainty=None if est is None else est.uncertainty,
        estimate="" if est is None else est.description,
        estimate_elapsed=0.0 if est is None else est.elapsed,
        passes=0 if est is None else est.passes,
        kinks_confirmed=confirmed,
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
    h = _check_h(h)
    x = _loop_input(f, x, h)
    analytic_grad = _validate.real_array(analytic_grad, "analytic_grad")
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad must have x's shape {x.shape}; got {analytic_grad.shape}")
    num_checks = _validate.integer(num_checks, "num_checks", low=1)
    verbose = _validate.boolean(verbose, "verbose")
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
    false_bugs: np.ndarray | None = None  # "bug" verdicts of grad_check at each h for the loss's own gradient
    explained: np.ndarray | None = None  # weights whose disagreement the check explains (kink or truncation)

    def __str__(self) -> str:
        bugs = self.false_bugs if self.false_bugs is not None else [None] * len(self.hs)
        explained = self.explained if self.explained is not None else [None] * len(self.hs)
        rows = [
            (
                f"{h:.0e}",
                float(e),
                float(l),
                None if x is None else int(x),
                None if b is None else int(b),
                "<- recommended" if h == self.recommended_h else "",
            )
            for h, e, l, x, b in zip(self.hs, self.exact_max_error, self.loop_max_error, explained, bugs)
        ]
        return table(
            [
                "h",
                "fast path max rel. error",
                f"loop max rel. error ({self.sample} weights)",
                "explained (kink, truncation)",
                "false bugs",
                "",
            ],
            rows,
            title="finite-difference step h: truncation error falls with h, the loop's round-off grows",
        )


def _check_hs(hs: Any, W64: np.ndarray) -> np.ndarray:
    """The steps of an h sweep (default 1e-1 ... 1e-10): positive, finite, each moving every weight."""
    if hs is None:
        return 10.0 ** -np.arange(1, 11)
    if isinstance(hs, (numbers.Real, np.ndarray)) and np.ndim(hs) == 0:
        raise TypeError(f"hs must be a 1-D sequence of steps (e.g. [1e-3, 1e-5]); got one {type(hs).__name__}")
    values = _validate.real_array(hs, "hs")
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"hs must be a non-empty 1-D sequence of steps; got shape {values.shape}")
    for k, h in enumerate(values):
        if not (math.isfinite(h) and h > 0):
            raise ValueError(f"hs must be positive finite steps; hs[{k}] = {h}")
        _check_step_changes(W64, float(h), "W")
    return values


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
    loop over ``sample`` weights (which adds the round-off of ``f(x+h) - f(x)``), and what
    :func:`grad_check` at that h says of the loss's own (correct) gradient: how many disagreements it
    explains and how many it would wrongly call a bug. The recommended h minimises the loop's error
    among the h with no false bug: the h to use with a per-index loop, and one where the check is right.
    """
    loss = _check_loss(loss)
    method = _validate.choice(method, "method", METHODS)
    W = loss.check_weights(W)
    W64 = np.array(W, dtype=np.float64)
    hs = _check_hs(hs, W64)
    sample = _validate.integer(sample, "sample", low=1)
    rng = _validate.rng(seed)
    _validate.backend(backend)
    loss64 = loss.as_float64()
    analytic = loss64.grad(W64)
    eps = float(np.finfo(np.float64).eps)
    picks = _stratified_indices(W64.shape, sample, rng)
    data_scale = _example_scale(loss64, W64.shape)
    exact, looped, bugs, explained = [], [], [], []
    for h in hs:
        fd = numerical_gradient(loss64, W64, float(h), backend=backend)
        numerical = fd.gradient(method)
        errors = relative_error(analytic, numerical)
        exact.append(float(errors.max()))
        est = _estimate(loss64, W64, fd, analytic, eps, data_scale)
        verdicts = _judge(analytic, numerical, errors, 1e-6, fd.kinks, fd.forward, fd.backward, est)[0]
        bugs.append(int(np.sum(verdicts == "bug")))
        explained.append(int(np.sum((verdicts == "kink") | (verdicts == "truncation"))))
        numeric = _loop(loss64, W64, float(h), method, False, picks)
        looped.append(max(float(relative_error(analytic[ix], numeric[ix])) for ix in picks))
    looped, bugs = np.array(looped), np.array(bugs)
    candidates = np.flatnonzero(bugs == 0)
    best = int(candidates[np.argmin(looped[candidates])]) if len(candidates) else int(np.argmin(looped))
    return HSweep(hs, np.array(exact), looped, len(picks), float(hs[best]), bugs, np.array(explained))
