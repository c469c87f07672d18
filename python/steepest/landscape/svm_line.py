"""The SVM along a line, exactly: L(a) is piecewise linear in a (plus the quadratic regularizer)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _validate
from .checks import check_bounds, check_direction, check_loss, checked_scores
from .results import LineMinimum


def inner(a: np.ndarray, b: np.ndarray) -> float:
    # einsum's own loop, not BLAS's dot: OpenBLAS would wake its threads, which then spin for about
    # 0.1 s and slow the next kernel call that wants the cores (notes/ARCHITECTURE.md)
    return float(np.einsum("i,i->", a.astype(np.float64, copy=False).ravel(), b.astype(np.float64, copy=False).ravel()))


class SVMLine:
    """``L(a) = (1/B) sum_terms max(0, m0 + a m1) + reg * (q0 + 2 a q1 + a^2 q2)``, convex in a.

    The terms are the (C - 1) * B margins ``m = s_j - s_{y_i} + delta`` (j != y_i) at W (``m0``) and
    their rates of change along the direction (``m1``). A term with ``m1 != 0`` has its kink at
    ``-m0 / m1``; crossing it raises the data slope by ``|m1| / B``.
    """

    def __init__(self, S0, S1, labels, delta, reg, q0, q1, q2):
        B = S0.shape[1]
        cols = np.arange(B)
        off = np.ones(S0.shape, dtype=bool)
        off[labels, cols] = False
        with np.errstate(over="ignore", invalid="ignore"):
            self.m0 = (S0 - S0[labels, cols] + delta)[off]
            self.m1 = (S1 - S1[labels, cols])[off]
        for m, what in ((self.m0, "at W"), (self.m1, "along the direction")):
            if not _validate.all_finite(m):
                raise FloatingPointError(
                    f"the margins {what} (differences of scores) overflowed; scale the weights or X down"
                )
        if reg and not all(math.isfinite(q) for q in (q0, q1, q2)):
            raise FloatingPointError(
                "the regularizer along the line overflowed (||W||^2, <W, d> or ||d||^2 is not finite); "
                "scale W or the direction down"
            )
        self.B = B
        self.reg, self.q0, self.q1, self.q2 = reg, q0, q1, q2
        moving = self.m1 != 0
        with np.errstate(over="ignore"):  # a kink past the float range is refused below
            k = -self.m0[moving] / self.m1[moving]
        order = np.argsort(k, kind="stable")
        self.k = k[order]
        slope = self.m1[moving][order]
        # data slope on piece p (p = 0: left of every kink, p = K: right of every kink), as the sum of
        # the positive slopes already passed and the negative slopes not yet passed: structurally zero
        # slopes come out exactly zero (no cancellation in a running sum)
        pos = np.where(slope > 0, slope, 0.0)
        neg = np.where(slope < 0, slope, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            passed_pos = np.concatenate(([0.0], np.cumsum(pos)))
            remaining_neg = np.concatenate((np.cumsum(neg[::-1])[::-1], [0.0]))
            self.slopes = (passed_pos + remaining_neg) / B  # length K + 1
            finite = _validate.all_finite(self.k) and _validate.all_finite(self.slopes)
        if not finite:
            raise FloatingPointError(
                "the slopes of the loss along the line overflowed (the direction moves the margins by up to "
                f"{np.abs(self.m1).max():.3g}); scale the direction or X down"
            )

    def kinks(self) -> np.ndarray:
        return np.unique(self.k)

    def value(self, a: float) -> float:
        """The loss at ``a``; FloatingPointError when it overflowed (a huge direction or alpha)."""
        with np.errstate(over="ignore", invalid="ignore"):
            data = float(np.maximum(self.m0 + a * self.m1, 0.0).sum()) / self.B
            total = data + (self.reg * (self.q0 + a * (2.0 * self.q1 + a * self.q2)) if self.reg else 0.0)
        if not math.isfinite(total):
            raise FloatingPointError(
                f"the SVM loss along the line overflowed at alpha = {a:.6g}; scale the direction or X down"
            )
        return total

    def _minimal_set(self) -> tuple[float, float]:
        """The interval [l, r] of minimisers over the whole line (l == r when the minimum is unique)."""
        k, sl, K = self.k, self.slopes, len(self.k)
        curv = 2.0 * self.reg * self.q2
        lin = 2.0 * self.reg * self.q1
        if curv > 0:
            # right derivative just after kink t, left derivative just before it
            g_right = sl[1:] + lin + curv * k
            g_left = sl[:-1] + lin + curv * k
            hits = np.flatnonzero(g_right >= 0)
            if len(hits) == 0:
                p = K  # the minimiser lies right of every kink
            else:
                t = int(hits[0])
                if g_left[t] <= 0:
                    return float(k[t]), float(k[t])
                p = t  # inside the piece just before kink t
            a = -(sl[p] + lin) / curv
            lo = k[p - 1] if p > 0 else -math.inf
            hi = k[p] if p < K else math.inf
            a = float(min(max(a, lo), hi))  # rounding may push the stationary point just outside
            return a, a
        # reg == 0 (or a zero-length direction): piecewise linear, slopes nondecreasing, last >= 0
        nonneg = np.flatnonzero(sl >= 0)
        p0 = int(nonneg[0])
        left = float(k[p0 - 1]) if p0 > 0 else -math.inf
        if sl[p0] > 0:
            return left, left
        positive = np.flatnonzero(sl > 0)
        right = float(k[int(positive[0]) - 1]) if len(positive) else math.inf
        return left, right

    def minimum(self, bounds: tuple[float, float]) -> LineMinimum:
        lo, hi = bounds
        left, right = self._minimal_set()
        a_lo, a_hi = max(left, lo), min(right, hi)
        if a_lo <= a_hi:
            a = min(max(0.0, a_lo), a_hi)  # closest to W among the minimisers
        else:
            a = lo if right < lo else hi  # convex: the bound nearest to the minimal set
        return LineMinimum(float(a), self.value(a), self.value(0.0), len(self.k), (lo, hi))


def svm_line(loss: Any, W: Any, direction: Any, name: str, bounds: Any = None) -> tuple[SVMLine, tuple[float, float]]:
    """The SVM along ``W + alpha * direction`` and the checked ``bounds``: every argument is checked
    before the pass over X."""
    loss = check_loss(loss)
    if not loss.has_exact_line:
        raise TypeError(
            "loss must be a steepest.SVMLoss: the exact line minimum uses the SVM's piecewise-linear "
            f"pieces; got {type(loss).__name__} (use loss_along_line for the softmax)"
        )
    W = loss.check_weights(W)
    d = check_direction(direction, W, name)
    bounds = check_bounds(bounds)
    S0, S1 = checked_scores(loss, (W, "W"), (d, name))
    with np.errstate(over="ignore", invalid="ignore"):
        q = inner(W, W), inner(W, d), inner(d, d)
    return SVMLine(S0, S1, loss.labels, loss.margin, loss.reg, *q), bounds


def svm_line_breakpoints(loss: Any, W: Any, direction: Any) -> np.ndarray:
    """The sorted distinct ``alpha`` where the SVM loss along ``W + alpha * direction`` has a kink.

    Each hinge term ``max(0, m0 + alpha m1)`` with ``m1 != 0`` has one, at ``-m0 / m1`` (float64).
    Cost: one pass over the loss's examples, then O(K log K).
    """
    line, _ = svm_line(loss, W, direction, "direction")
    return line.kinks()


def exact_line_minimum(loss: Any, W: Any, direction: Any, bounds: Any = None) -> LineMinimum:
    """The exact minimum of the SVM loss (regularizer included) along ``W + alpha * direction``.

    The data loss is piecewise linear in alpha and the regularizer a convex quadratic, so the loss is
    convex: the kinks are sorted and the slopes swept (with ``reg > 0`` the quadratic's stationary
    point is checked in the piece where the derivative changes sign). ``bounds=(low, high)`` restricts
    alpha (infinite ends allowed; default the whole line). When the minimum is attained on a flat piece
    (``reg = 0``), the minimiser closest to 0 is returned. Cost: one pass over the loss's examples,
    then O(K log K) for K kinks.
    """
    line, bounds = svm_line(loss, W, direction, "direction", bounds)
    return line.minimum(bounds)


def exact_line_search(loss: Any, W: Any, dW: Any, max_step: float | None = None) -> LineMinimum:
    """The exact best step ``t`` in ``[0, max_step]`` of ``W - t * dW`` for the SVM loss.

    ``dW`` is usually the gradient at W; ``.step`` is the best step, ``.loss`` the loss there and
    ``.loss_at_zero`` the loss at W. Since the loss is convex along the line this is the global best
    step, which the notes' step-size sweep (1e-10 ... 1e-1) only samples. Cost as
    :func:`exact_line_minimum`.
    """
    loss = check_loss(loss)
    W = loss.check_weights(W)
    dW = check_direction(dW, W, "dW")
    hi = math.inf if max_step is None else _validate.positive(max_step, "max_step")
    line, bounds = svm_line(loss, W, -dW, "dW", (0.0, hi))
    return line.minimum(bounds)
