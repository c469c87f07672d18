"""Loss landscapes: the loss along a line and on a plane through weight space, exact and fast.

The notes draw ``L(W + a*W1)`` along a random direction and ``L(W + a*W1 + b*W2)`` on a random plane,
for one example and averaged over 100. Scores are linear in W (DESIGN.md section 2), so

    S(a, b) = W X + a (W1 X) + b (W2 X) = S0 + a S1 + b S2,

and after one pass over X (the backend's ``scores`` kernel on the loss's examples, W and the
directions stacked into one (3C, D) matrix) every grid point costs O(C * N) (the backend's ``svm_grid`` / ``softmax_grid``), not O(C * D * N).
The regularizer is added exactly from six inner products:

    reg * ||W + a W1 + b W2||^2 = reg * (<W,W> + 2a <W,W1> + 2b <W,W2> + a^2 <W1,W1> + 2ab <W1,W2> + b^2 <W2,W2>).

Along a line the SVM loss is piecewise linear in ``a`` (each hinge term ``max(0, m0 + a m1)`` has its
kink at ``a = -m0 / m1``) plus the convex quadratic regularizer, hence convex: its breakpoints and its
exact minimiser are found by sorting the kinks and sweeping the slopes (``svm_line_breakpoints``,
``exact_line_minimum``), which also gives an exact line search along ``-dW`` (``exact_line_search``).

==============================  ===================================================================
``random_direction``            Gaussian direction, optionally scaled row by row to W ("row")
``centered_grid``               ``points`` evenly spaced numbers in ``[-span, span]``
``loss_along_line``             ``LineSlice``: the loss at ``W + a d`` for every ``a`` (101 in [-1, 1])
``loss_on_plane``               ``PlaneSlice``: the loss at ``W + a d1 + b d2`` (51 x 51 in [-1, 1]^2)
``svm_line_breakpoints``        the sorted kinks of the SVM loss along ``W + a d``
``exact_line_minimum``          ``LineMinimum``: the exact minimiser of the SVM loss along a line
``exact_line_search``           ``LineMinimum``: the exact best step ``t >= 0`` of ``W - t dW``
``project_onto_plane``          least-squares coordinates ``(a, b)`` of weights on the plane
``plot_notes_figure``           the notes' three-panel figure (the ``plot`` extra)
==============================  ===================================================================

W and the directions are never modified. Grids are float64; the losses are float64. For float32
problems the score matrices are formed in float32 (the kernels' output dtype) and then promoted, so
grids agree with point-by-point float32 evaluation to float32 accuracy (about 1e-6 relative).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, Sequence

import numpy as np

from .. import _backends, _validate
from .._table import key_values
from ..losses import LinearLoss, SoftmaxLoss, SVMLoss

__all__ = [
    "LineSlice",
    "PlaneSlice",
    "LineMinimum",
    "random_direction",
    "centered_grid",
    "loss_along_line",
    "loss_on_plane",
    "svm_line_breakpoints",
    "exact_line_minimum",
    "exact_line_search",
    "project_onto_plane",
    "plot_notes_figure",
]

LINE_POINTS = 101
PLANE_POINTS = 51
MAX_BREAKPOINTS_KEPT = 1_000_000  # a LineSlice keeps at most this many breakpoints (the sorted kinks)


# --------------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------------


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclasses.dataclass(frozen=True)
class LineMinimum:
    """The exact minimum of the SVM loss along ``W + alpha * direction`` for ``alpha`` in ``bounds``.

    ``alpha`` is the minimiser (when the minimum is attained on a flat piece, the point of that piece
    closest to 0, i.e. to W), ``loss`` the loss there, ``loss_at_zero`` the loss at W itself,
    ``n_breakpoints`` the number of hinge kinks on the whole line (``K``; cost O(K log K)).
    For an exact line search along ``-dW``, ``step`` is the same number as ``alpha``.
    """

    alpha: float
    loss: float
    loss_at_zero: float
    n_breakpoints: int
    bounds: tuple[float, float]

    @property
    def step(self) -> float:
        return self.alpha

    @property
    def decrease(self) -> float:
        """``loss_at_zero - loss`` (>= 0)."""
        return self.loss_at_zero - self.loss

    def __str__(self) -> str:
        return key_values(
            [
                ("minimiser alpha", self.alpha),
                ("loss there", self.loss),
                ("loss at alpha = 0", self.loss_at_zero),
                ("decrease", self.decrease),
                ("breakpoints on the line", self.n_breakpoints),
                ("bounds", f"[{self.bounds[0]:g}, {self.bounds[1]:g}]"),
            ],
            title="exact SVM line minimum",
        )


@dataclasses.dataclass(frozen=True)
class LineSlice:
    """The loss along ``W + alpha * direction``: ``losses[k]`` at ``alphas[k]`` (float64, read-only).

    For the SVM also ``breakpoints`` (the kinks inside ``[alphas[0], alphas[-1]]``, sorted) and
    ``minimum`` (the exact minimum over that interval, a :class:`LineMinimum`); ``None`` for softmax.
    """

    alphas: np.ndarray
    losses: np.ndarray
    loss_name: str
    n_examples: int
    reg: float
    breakpoints: np.ndarray | None = None
    minimum: LineMinimum | None = None

    @property
    def grid_minimum(self) -> tuple[float, float]:
        """``(alpha, loss)`` of the lowest sampled point."""
        k = int(np.argmin(self.losses))
        return float(self.alphas[k]), float(self.losses[k])

    def __str__(self) -> str:
        a, v = self.grid_minimum
        pairs = [
            ("loss", f"{self.loss_name} (reg {self.reg:g})"),
            ("examples", self.n_examples),
            ("grid", f"{len(self.alphas)} points in [{self.alphas[0]:g}, {self.alphas[-1]:g}]"),
            ("lowest grid point", f"alpha = {a:.6g}, loss = {v:.6g}"),
            ("highest grid loss", float(self.losses.max())),
        ]
        if self.minimum is not None:
            pairs += [
                ("breakpoints in range", len(self.breakpoints)),
                ("exact minimum", f"alpha = {self.minimum.alpha:.6g}, loss = {self.minimum.loss:.6g}"),
            ]
        return key_values(pairs, title="loss along a line")

    def plot(self, ax: Any = None, *, path: Any = None, title: str | None = None) -> Any:
        """Draw the curve (breakpoints and the exact minimum marked for the SVM); returns the Figure.

        Needs matplotlib (``pip install steepest[plot]``); saved as PNG when ``path`` is given.
        """
        from . import plots

        return plots.plot_line(self, ax=ax, path=path, title=title)


@dataclasses.dataclass(frozen=True)
class PlaneSlice:
    """The loss on ``W + alpha * d1 + beta * d2``: ``losses[i, j]`` at ``(alphas[i], betas[j])``.

    ``W``, ``d1``, ``d2`` are kept (read-only copies) so weights can be projected onto the plane.
    """

    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    loss_name: str
    n_examples: int
    reg: float
    W: np.ndarray = dataclasses.field(repr=False)
    d1: np.ndarray = dataclasses.field(repr=False)
    d2: np.ndarray = dataclasses.field(repr=False)

    @property
    def grid_minimum(self) -> tuple[float, float, float]:
        """``(alpha, beta, loss)`` of the lowest sampled point."""
        i, j = np.unravel_index(int(np.argmin(self.losses)), self.losses.shape)
        return float(self.alphas[i]), float(self.betas[j]), float(self.losses[i, j])

    def project(self, weights: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coordinates of weights on this plane: see :func:`project_onto_plane`."""
        return project_onto_plane(weights, self.W, self.d1, self.d2)

    def __str__(self) -> str:
        a, b, v = self.grid_minimum
        return key_values(
            [
                ("loss", f"{self.loss_name} (reg {self.reg:g})"),
                ("examples", self.n_examples),
                ("grid", f"{len(self.alphas)} x {len(self.betas)} in [{self.alphas[0]:g}, {self.alphas[-1]:g}]"
                 f" x [{self.betas[0]:g}, {self.betas[-1]:g}]"),
                ("lowest grid point", f"alpha = {a:.6g}, beta = {b:.6g}, loss = {v:.6g}"),
                ("highest grid loss", float(self.losses.max())),
            ],
            title="loss on a plane",
        )

    def plot(self, ax: Any = None, *, path: Any = None, trajectory: Sequence[Any] | None = None,
             cmap: str = "jet", levels: int = 12, title: str | None = None) -> Any:
        """Heat map (blue low, red high) with contour lines; returns the Figure.

        ``trajectory``: a sequence of weights (C, D) drawn as a path, projected onto the plane by least
        squares. Needs matplotlib (``pip install steepest[plot]``); saved as PNG when ``path`` is given.
        """
        from . import plots

        return plots.plot_plane(self, ax=ax, path=path, trajectory=trajectory, cmap=cmap,
                                           levels=levels, title=title)


# --------------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------------


def _check_loss(loss: Any) -> LinearLoss:
    if not isinstance(loss, (SVMLoss, SoftmaxLoss)):
        raise TypeError(f"loss must be a steepest.SVMLoss or steepest.SoftmaxLoss; got {type(loss).__name__}")
    return loss


def _check_direction(d: Any, W: np.ndarray, name: str) -> np.ndarray:
    """A direction of W's shape and dtype, finite and not all zeros (C-contiguous)."""
    d = _validate.float_array(d, name, 2)
    if d.dtype != W.dtype:
        raise TypeError(f"{name} must have W's dtype {W.dtype}; got {d.dtype} (cast it with {name}.astype(W.dtype))")
    if d.shape != W.shape:
        hint = f" (did you pass {name}.T?)" if d.shape == W.shape[::-1] else ""
        raise ValueError(f"{name} must have W's shape {W.shape}; got {d.shape}{hint}")
    if not np.any(d):
        raise ValueError(f"{name} must not be all zeros (a direction needs a length)")
    return _validate.weights(d)


def _check_grid(values: Any, name: str, default: np.ndarray) -> np.ndarray:
    """A non-empty, finite, strictly increasing 1-D grid of real numbers, as float64."""
    if values is None:
        return default
    if isinstance(values, (list, tuple, range)):
        try:
            values = np.asarray(values)
        except ValueError:
            raise TypeError(f"{name} must be a 1-D sequence of real numbers; got a ragged {type(values).__name__}") from None
    if not isinstance(values, np.ndarray) or isinstance(values, np.matrix) or isinstance(values, np.ma.MaskedArray):
        raise TypeError(f"{name} must be a 1-D numpy array (or list) of real numbers; got {type(values).__name__}")
    if values.dtype == np.bool_ or values.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (int or float); got dtype {values.dtype}")
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {values.shape}")
    if values.shape[0] == 0:
        raise ValueError(f"{name} must not be empty")
    grid = np.ascontiguousarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(grid))
    if len(bad):
        raise ValueError(f"{name} must be finite; {name}[{int(bad[0])}] = {grid[bad[0]]}")
    if len(grid) > 1 and not np.all(np.diff(grid) > 0):
        k = int(np.flatnonzero(np.diff(grid) <= 0)[0])
        raise ValueError(f"{name} must be strictly increasing; {name}[{k}] = {grid[k]:g} >= {name}[{k + 1}] = {grid[k + 1]:g}")
    return grid


def _check_bounds(bounds: Any) -> tuple[float, float]:
    if bounds is None:
        return (-math.inf, math.inf)
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(f"bounds must be None or a pair (low, high); got {type(bounds).__name__}")
    out = []
    for value, what in zip(bounds, ("low", "high")):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"bounds ({what}) must be a real number; got {type(value).__name__}")
        value = float(value)
        if math.isnan(value):
            raise ValueError(f"bounds ({what}) must not be NaN")
        out.append(value)
    lo, hi = out
    if lo > hi:
        raise ValueError(f"bounds must satisfy low <= high; got ({lo:g}, {hi:g})")
    if lo == math.inf or hi == -math.inf:
        raise ValueError(f"bounds must contain a finite number; got ({lo:g}, {hi:g})")
    return lo, hi


def centered_grid(points: int, span: float = 1.0) -> np.ndarray:
    """``points`` evenly spaced numbers from ``-span`` to ``span`` (float64; odd counts include 0)."""
    points = _validate.integer(points, "points", low=1)
    span = _validate.positive(span, "span")
    if points == 1:
        return np.zeros(1)
    return np.linspace(-span, span, points)


# --------------------------------------------------------------------------------------------------
# directions
# --------------------------------------------------------------------------------------------------


def random_direction(shape_or_W: Any, seed: Any = None, normalize: str | None = None, *, dtype: Any = None) -> np.ndarray:
    """A Gaussian direction: entries drawn i.i.d. from N(0, 1) (zero mean), shape (C, D).

    ``shape_or_W`` is a shape ``(C, D)`` or the weights W (then the result has W's dtype).
    ``normalize="row"`` rescales each class row of the direction to the norm of the matching row of W
    (the filter normalization of Li et al. for a linear model; needs W; zero rows of W give zero rows).
    ``seed``: int or ``numpy.random.Generator``; the draw is made in float64, so one seed gives the
    same direction on every backend and in both dtypes (up to the final rounding to float32).
    ``dtype`` defaults to W's dtype, or float64 for a shape.
    """
    W = None
    if isinstance(shape_or_W, np.ndarray):
        W = _validate.float_array(shape_or_W, "shape_or_W", 2)
        shape = W.shape
    elif isinstance(shape_or_W, (tuple, list)):
        if len(shape_or_W) != 2:
            raise ValueError(f"shape_or_W must be a shape (C, D) or the weights W; got a shape of length {len(shape_or_W)}")
        shape = tuple(_validate.integer(v, "shape_or_W", low=1) for v in shape_or_W)
    else:
        raise TypeError(f"shape_or_W must be a shape (C, D) or the weights W (numpy.ndarray); got {type(shape_or_W).__name__}")
    if normalize is not None:
        _validate.choice(normalize, "normalize", ("row",))
        if W is None:
            raise ValueError("normalize='row' scales the direction to the rows of W: pass W, not a shape")
    if dtype is None:
        out_dtype = W.dtype if W is not None else np.dtype(np.float64)
    else:
        out_dtype = _validate.float_dtype(dtype)
    rng = _validate.rng(seed)
    d = rng.standard_normal(shape)
    if normalize == "row":
        W64 = W.astype(np.float64)
        w_norms = np.linalg.norm(W64, axis=1)
        if not np.any(w_norms):
            raise ValueError("normalize='row' needs W with a nonzero row; W is all zeros")
        d *= (w_norms / np.linalg.norm(d, axis=1))[:, None]
    return d.astype(out_dtype)


# --------------------------------------------------------------------------------------------------
# the fast path
# --------------------------------------------------------------------------------------------------


def _scores64(loss: LinearLoss, *Ms: np.ndarray) -> list[np.ndarray]:
    """``M @ X[:, idx]`` for each M, as float64 (C, B) arrays, in ONE pass over the loss's examples:
    the matrices are stacked into one (k*C, D) weight matrix for the backend's ``scores`` kernel."""
    stacked = Ms[0] if len(Ms) == 1 else np.concatenate(Ms, axis=0)
    S = loss._kernels().scores(stacked, loss.X, loss._idx, _backends.get_num_threads())
    C = Ms[0].shape[0]
    return [np.ascontiguousarray(S[k * C:(k + 1) * C], dtype=np.float64) for k in range(len(Ms))]


def _inner(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.vdot(a.astype(np.float64, copy=False).ravel(), b.astype(np.float64, copy=False).ravel()))


def _reg_term(reg: float, quad):
    """``reg * quad``; exactly zero when reg is zero (also where quad overflowed)."""
    return reg * quad if reg else np.zeros_like(quad)


def _data_grid(loss: LinearLoss, S0, S1, S2, alphas, betas) -> np.ndarray:
    kernels = loss._kernels()
    y = np.ascontiguousarray(loss.labels, dtype=np.int64)
    threads = _backends.get_num_threads()
    with np.errstate(all="ignore"):  # overflow is reported below, never returned
        if isinstance(loss, SVMLoss):
            out = kernels.svm_grid(S0, S1, S2, y, alphas, betas, loss.delta, threads)
        else:
            out = kernels.softmax_grid(S0, S1, S2, y, alphas, betas, threads)
    return np.asarray(out, dtype=np.float64)


def _finite_grid(out: np.ndarray, loss: LinearLoss) -> np.ndarray:
    if not np.all(np.isfinite(out)):
        raise FloatingPointError(
            f"the {loss.name} loss is not finite on part of the grid: the scores overflowed; use a smaller "
            "grid span (alphas, betas) or a shorter direction"
        )
    return out


def loss_along_line(loss: Any, W: Any, direction: Any, alphas: Any = None) -> LineSlice:
    """The loss at ``W + alpha * direction`` for every ``alpha`` (default 101 points in [-1, 1]).

    ``loss`` is an :class:`~steepest.SVMLoss` or :class:`~steepest.SoftmaxLoss` on any subset of
    examples (``loss.subset(idx)``); its ``reg`` is included. ``direction`` has W's shape and dtype.
    Cost: one pass over the loss's examples (``S0 = W X`` and ``S1 = direction X`` together, as one
    (2C, D) product), then O(C * N) per point. For the SVM the result also holds the breakpoints inside the grid's range and the exact
    minimum over it (O(K log K), K kinks). Raises TypeError / ValueError naming the bad argument, and
    FloatingPointError when the scores overflow.
    """
    loss = _check_loss(loss)
    W = loss.check_weights(W)
    d = _check_direction(direction, W, "direction")
    alphas = _check_grid(alphas, "alphas", centered_grid(LINE_POINTS))
    S0, S1 = _scores64(loss, W, d)
    q0, q1, q2 = _inner(W, W), _inner(W, d), _inner(d, d)
    data = _data_grid(loss, S0, S1, None, alphas, np.zeros(1))[:, 0]
    with np.errstate(all="ignore"):  # overflow is reported by _finite_grid
        losses = _finite_grid(data + _reg_term(loss.reg, q0 + alphas * (2.0 * q1 + alphas * q2)), loss)
    breakpoints = minimum = None
    if isinstance(loss, SVMLoss):
        line = _SVMLine(S0, S1, loss.labels, loss.delta, loss.reg, q0, q1, q2)
        kinks = line.kinks()
        breakpoints = kinks[(kinks >= alphas[0]) & (kinks <= alphas[-1])][:MAX_BREAKPOINTS_KEPT]
        minimum = line.minimum((float(alphas[0]), float(alphas[-1])))
    return LineSlice(_frozen(alphas), _frozen(losses), loss.name, loss.n, loss.reg, _frozen(breakpoints), minimum)


def loss_on_plane(loss: Any, W: Any, d1: Any, d2: Any, alphas: Any = None, betas: Any = None) -> PlaneSlice:
    """The loss at ``W + alpha * d1 + beta * d2`` on a grid (default 51 x 51 in [-1, 1]^2).

    ``losses[i, j]`` is at ``(alphas[i], betas[j])``. Cost: one pass over the loss's examples
    (``S0 = W X``, ``S1 = d1 X``, ``S2 = d2 X`` as one (3C, D) product), then O(C * N) per grid point; the regularizer is
    added exactly from the six inner products of W, d1, d2. Raises like :func:`loss_along_line`.
    """
    loss = _check_loss(loss)
    W = loss.check_weights(W)
    d1 = _check_direction(d1, W, "d1")
    d2 = _check_direction(d2, W, "d2")
    alphas = _check_grid(alphas, "alphas", centered_grid(PLANE_POINTS))
    betas = _check_grid(betas, "betas", centered_grid(PLANE_POINTS))
    S0, S1, S2 = _scores64(loss, W, d1, d2)
    data = _data_grid(loss, S0, S1, S2, alphas, betas)
    a, b = alphas[:, None], betas[None, :]
    with np.errstate(all="ignore"):  # overflow is reported by _finite_grid
        quad = (_inner(W, W) + a * (2.0 * _inner(W, d1) + a * _inner(d1, d1)) + b * (2.0 * _inner(W, d2) + b * _inner(d2, d2))
                + 2.0 * a * b * _inner(d1, d2))
        losses = _finite_grid(data + _reg_term(loss.reg, quad), loss)
    return PlaneSlice(_frozen(alphas), _frozen(betas), _frozen(losses), loss.name, loss.n, loss.reg,
                      _frozen(W), _frozen(d1), _frozen(d2))


# --------------------------------------------------------------------------------------------------
# the SVM along a line, exactly
# --------------------------------------------------------------------------------------------------


class _SVMLine:
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
        self.m0 = (S0 - S0[labels, cols] + delta)[off]
        self.m1 = (S1 - S1[labels, cols])[off]
        self.B = B
        self.reg, self.q0, self.q1, self.q2 = reg, q0, q1, q2
        moving = self.m1 != 0
        k = -self.m0[moving] / self.m1[moving]
        order = np.argsort(k, kind="stable")
        self.k = k[order]
        slope = self.m1[moving][order]
        # data slope on piece p (p = 0: left of every kink, p = K: right of every kink), as the sum of
        # the positive slopes already passed and the negative slopes not yet passed: structurally zero
        # slopes come out exactly zero (no cancellation in a running sum)
        pos = np.where(slope > 0, slope, 0.0)
        neg = np.where(slope < 0, slope, 0.0)
        passed_pos = np.concatenate(([0.0], np.cumsum(pos)))
        remaining_neg = np.concatenate((np.cumsum(neg[::-1])[::-1], [0.0]))
        self.slopes = (passed_pos + remaining_neg) / B  # length K + 1

    def kinks(self) -> np.ndarray:
        return np.unique(self.k)

    def value(self, a: float) -> float:
        data = float(np.maximum(self.m0 + a * self.m1, 0.0).sum()) / self.B
        return data + self.reg * (self.q0 + a * (2.0 * self.q1 + a * self.q2))

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


def _svm_line(loss: Any, W: Any, direction: Any, name: str) -> tuple[_SVMLine, SVMLoss]:
    loss = _check_loss(loss)
    if not isinstance(loss, SVMLoss):
        raise TypeError(
            "loss must be a steepest.SVMLoss: the exact line minimum uses the SVM's piecewise-linear "
            f"pieces; got {type(loss).__name__} (use loss_along_line for the softmax)"
        )
    W = loss.check_weights(W)
    d = _check_direction(direction, W, name)
    S0, S1 = _scores64(loss, W, d)
    return _SVMLine(S0, S1, loss.labels, loss.delta, loss.reg, _inner(W, W), _inner(W, d), _inner(d, d)), loss


def svm_line_breakpoints(loss: Any, W: Any, direction: Any) -> np.ndarray:
    """The sorted distinct ``alpha`` where the SVM loss along ``W + alpha * direction`` has a kink.

    Each hinge term ``max(0, m0 + alpha m1)`` with ``m1 != 0`` has one, at ``-m0 / m1`` (float64).
    Cost: one pass over the loss's examples, then O(K log K).
    """
    line, _ = _svm_line(loss, W, direction, "direction")
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
    line, _ = _svm_line(loss, W, direction, "direction")
    return line.minimum(_check_bounds(bounds))


def exact_line_search(loss: Any, W: Any, dW: Any, max_step: float | None = None) -> LineMinimum:
    """The exact best step ``t`` in ``[0, max_step]`` of ``W - t * dW`` for the SVM loss.

    ``dW`` is usually the gradient at W; ``.step`` is the best step, ``.loss`` the loss there and
    ``.loss_at_zero`` the loss at W. Since the loss is convex along the line this is the global best
    step, which the notes' step-size sweep (1e-10 ... 1e-1) only samples. Cost as
    :func:`exact_line_minimum`.
    """
    loss = _check_loss(loss)
    W = loss.check_weights(W)
    dW = _check_direction(dW, W, "dW")
    hi = math.inf if max_step is None else _validate.positive(max_step, "max_step")
    line, _ = _svm_line(loss, W, -dW, "dW")
    return line.minimum((0.0, hi))


# --------------------------------------------------------------------------------------------------
# trajectories and the notes' figure
# --------------------------------------------------------------------------------------------------


def project_onto_plane(weights: Sequence[Any], W: Any, d1: Any, d2: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares coordinates of each ``V`` in ``weights`` on the plane ``W + a d1 + b d2``.

    Returns ``(alphas, betas, residuals)``: ``(a, b)`` minimise ``||V - W - a d1 - b d2||`` (Frobenius)
    and ``residuals`` is that distance (how far the weights are from the plane). float64.
    """
    W = _validate.float_array(W, "W", 2)
    d1 = _check_direction(d1, W, "d1")
    d2 = _check_direction(d2, W, "d2")
    if isinstance(weights, np.ndarray) and weights.ndim == 2:
        raise TypeError("weights must be a sequence of weight matrices (a list, or a 3-D array); got one 2-D array")
    if not isinstance(weights, (list, tuple, np.ndarray)):
        raise TypeError(f"weights must be a sequence of weight matrices (C, D); got {type(weights).__name__}")
    if len(weights) == 0:
        raise ValueError("weights must not be empty")
    A = np.stack([d1.astype(np.float64).ravel(), d2.astype(np.float64).ravel()], axis=1)
    if np.linalg.matrix_rank(A) < 2:
        raise ValueError("d1 and d2 must not be parallel: they do not span a plane")
    base = W.astype(np.float64).ravel()
    V = np.empty((A.shape[0], len(weights)))
    for k, Vk in enumerate(weights):
        Vk = _validate.float_array(Vk, f"weights[{k}]", 2)
        if Vk.shape != W.shape:
            raise ValueError(f"weights[{k}] must have W's shape {W.shape}; got {Vk.shape}")
        V[:, k] = Vk.astype(np.float64).ravel() - base
    coef, *_ = np.linalg.lstsq(A, V, rcond=None)
    residuals = np.linalg.norm(V - A @ coef, axis=0)
    return coef[0].copy(), coef[1].copy(), residuals


def _auto_span(loss: LinearLoss, W: np.ndarray, d: np.ndarray) -> float:
    """A span showing most of the hinge kinks of these examples: twice their median distance to W.

    (With delta = 1 margins for the softmax, as a scale.) Rounded to two significant digits.
    """
    delta = loss.delta if isinstance(loss, SVMLoss) else 1.0
    line = _SVMLine(*_scores64(loss, W, d), loss.labels, delta, 0.0, 0.0, 0.0, 0.0)
    k = np.abs(line.k)
    k = k[k > 0]
    if not len(k):
        return 1.0
    span = 2.0 * float(np.median(k))
    return float(f"{span:.2g}")


def plot_notes_figure(loss: Any, W: Any, seed: Any = 0, *, reg: float | None = 0.0, example: int = 0,
                      examples: int = 100, span: float | None = None, line_points: int = LINE_POINTS,
                      plane_points: int = PLANE_POINTS, normalize: str | None = None,
                      trajectory: Sequence[Any] | None = None, path: Any = None, cmap: str = "jet") -> Any:
    """The notes' three-panel figure: the loss along a random line for one example, on a random plane
    for one example, and on the same plane averaged over ``examples`` examples (the first ones).

    ``reg=0.0`` draws the data loss only, as the notes do (``None`` keeps the loss's own ``reg``).
    Directions come from :func:`random_direction` with ``seed`` (``normalize`` passed on). ``span``
    (default: chosen so most kinks show, see ``_auto_span``) sets the grids ``[-span, span]``.
    ``trajectory``: weights to draw on the averaged plane. Returns the matplotlib Figure (PNG at
    ``path``). Needs matplotlib (``pip install steepest[plot]``).
    """
    from . import plots

    plots.require_matplotlib()
    loss = _check_loss(loss)
    W = loss.check_weights(W)
    if reg is not None:
        loss = loss.with_reg(reg)
    example = _validate.integer(example, "example", low=0, high=loss.n - 1)
    examples = _validate.integer(examples, "examples", low=1)
    line_points = _validate.integer(line_points, "line_points", low=2)
    plane_points = _validate.integer(plane_points, "plane_points", low=2)
    rng = _validate.rng(seed)
    d1 = random_direction(W, rng, normalize)
    d2 = random_direction(W, rng, normalize)
    one = loss.subset(np.array([example]))
    many = loss.subset(np.arange(min(examples, loss.n)))
    if span is None:
        span = _auto_span(many, W, d1)
    else:
        span = _validate.positive(span, "span")
    line = loss_along_line(one, W, d1, centered_grid(line_points, span))
    grid = centered_grid(plane_points, span)
    plane_one = loss_on_plane(one, W, d1, d2, grid, grid)
    plane_many = loss_on_plane(many, W, d1, d2, grid, grid)
    return plots.plot_notes(line, plane_one, plane_many, trajectory=trajectory, path=path, cmap=cmap)
