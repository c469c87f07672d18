"""Multiclass SVM and softmax losses of a linear classifier, their gradients, scores and accuracy.

Layout (the notes'): ``W`` is (C, D), ``X`` is (D, N) with one example per column, ``y`` (N,) holds
labels in [0, C). Data held as rows is passed as ``X_rows.T``; both memory orders of (D, N) are read
in place. float32 and float64 are native (W and X share a dtype, results keep it); sums accumulate in
float64. Each loss-and-gradient evaluation is one fused pass over X.

    SVM:      L = 1/N sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + delta) + reg * sum(W*W)
    softmax:  L = 1/N sum_i (logsumexp(s_i) - s_{y_i}) + reg * sum(W*W)

The loss objects validate X and y once, then evaluate any W cheaply: ``f = SVMLoss(X, y)`` is the
notes' ``CIFAR10_loss_fun`` (``f(W)`` returns the loss).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _backends, _validate
from ._backends._shared import penalty

__all__ = [
    "SVMLoss",
    "SoftmaxLoss",
    "svm_loss",
    "svm_loss_grad",
    "softmax_loss",
    "softmax_loss_grad",
    "scores",
    "predict",
    "accuracy",
]


FLOAT32_NOTE = (
    "computed in float64: finite differences of float32 losses at h = 1e-5 are noise "
    "(float32 resolves about 1e-7 of the loss, the same size as the change being measured)"
)
_SCORE_BYTES = 32 << 20  # bound on a (K*C, B) float64 score block of candidate_scores
_XCAST_BYTES = 32 << 20  # bound on a float64 copy of a float32 column block


def _candidate_columns(K: int, C: int, D: int, itemsize: int, n: int) -> int:
    """Columns of X per stacked product: the score block and any float64 cast stay small."""
    cols = _SCORE_BYTES // (8 * K * C)
    if itemsize != 8:
        cols = min(cols, _XCAST_BYTES // (8 * D))
    return int(max(64, min(cols, n)))


class LinearLoss:
    """Shared machinery of :class:`SVMLoss` and :class:`SoftmaxLoss` (validation, backend, subsets)."""

    name = "linear"

    def __init__(
        self, X: Any, y: Any, reg: float = 0.0, *, backend: str | None = None, check_finite: bool = True, **options: Any
    ):
        if backend is not None:
            _backends.check_name(backend)
        check_finite = _validate.boolean(check_finite, "check_finite")
        self.X = _validate.data(_validate.float_array(X, "X", 2, check_finite=check_finite))
        if isinstance(y, np.ndarray) and y.ndim == 1 and len(y) == self.X.shape[0] != self.X.shape[1]:
            raise ValueError(
                f"X must be (D, N) with one example per column: y has {len(y)} labels but X {self.X.shape} "
                "has that many rows; did you pass X as (N, D)? use X.T"
            )
        self.y = _validate.labels(y, self.X.shape[1], None)
        self._init_options(reg=reg, **options)
        self.backend = backend
        self._idx: np.ndarray | None = None
        self._max_label = int(self.y.max())
        self._data_checked = check_finite

    def __setstate__(self, state: dict) -> None:
        # An array unpickled from a message (a Dask frame) can start at any byte offset, and the kernels
        # read aligned data only: misaligned ones are copied once, here (aligned ones stay as they are).
        self.__dict__.update(
            {k: np.require(v, requirements="A") if isinstance(v, np.ndarray) else v for k, v in state.items()}
        )

    @classmethod
    def _from_validated(cls, X: np.ndarray, y: np.ndarray, backend: str | None, **options: Any) -> LinearLoss:
        """A loss on X and y that the function forms already validated, except X's finiteness: a
        non-finite X shows in the kernel's result, and only then is X scanned to name the entry."""
        loss = object.__new__(cls)
        loss.X, loss.y, loss._idx, loss._max_label, loss._data_checked = X, y, None, int(y.max()), False
        loss._init_options(**options)
        if backend is not None:
            _backends.check_name(backend)
        loss.backend = backend
        return loss

    def _init_options(self, reg: float = 0.0) -> None:
        self.reg = _validate.reg(reg)

    def _finite(self, loss: float, dtype: np.dtype, dW: np.ndarray | None = None) -> float:
        """Refuse a result that is not finite: name X's non-finite entry if X was not checked up front,
        else the overflow (never return NaN or inf); float32 results must fit float32."""
        limit = float(np.finfo(dtype).max)
        if np.isfinite(loss) and abs(loss) <= limit and (dW is None or np.all(np.isfinite(dW))):
            return loss
        if not self._data_checked:
            _validate.finite(self.X, "X")
        raise FloatingPointError(
            f"the {self.name} loss or its gradient is not finite in {dtype} (loss {loss}): the scores W @ X "
            "overflowed; scale W or X down (or use float64)"
        )

    # -- construction of related objects ---------------------------------------------------------
    def _options(self) -> dict:
        return {"reg": self.reg}

    def _replace(self, **attributes: Any) -> LinearLoss:
        """A shallow copy with some attributes replaced (X, y and the validation are shared)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.__dict__.update(attributes)
        return other

    def subset(self, idx: Any) -> LinearLoss:
        """The same loss on the examples ``idx`` (positions in this loss's examples, repeats allowed).

        Nothing is copied: the kernels gather the columns themselves (mini-batches).
        """
        idx = _validate.indices(idx, self.n)
        return self._replace(_idx=idx if self._idx is None else self._idx[idx])

    def with_backend(self, backend: str | None) -> LinearLoss:
        """The same loss evaluated on another backend (nothing is copied)."""
        if backend is not None:
            _backends.check_name(backend)
        return self._replace(backend=backend)

    def with_data(self, X: np.ndarray, y: np.ndarray) -> LinearLoss:
        """The same loss (class, reg, delta, backend) on other data, e.g. a validation set.

        ``X`` and ``y`` must already be validated (``_validate.float_array`` / ``labels``); nothing is copied.
        """
        return self._replace(X=_validate.data(X), y=y, _idx=None, _max_label=int(y.max()))

    def with_reg(self, reg: float) -> LinearLoss:
        return self._replace(reg=_validate.reg(reg))

    # -- shape facts -----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """The number of examples this loss averages over."""
        return self.X.shape[1] if self._idx is None else self._idx.shape[0]

    @property
    def dim(self) -> int:
        return self.X.shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.X.dtype

    @property
    def labels(self) -> np.ndarray:
        """The labels of the examples used (in order)."""
        return self.y if self._idx is None else self.y[self._idx]

    def check_weights(self, W: Any) -> np.ndarray:
        """W validated for this loss: (C, D) in X's dtype, C >= 2 and above every label, finite, C-contiguous."""
        W = _validate.float_array(W, "W", 2)
        if W.dtype != self.X.dtype:
            raise TypeError(f"W and X must share a dtype; got W {W.dtype} and X {self.X.dtype} (cast one with .astype)")
        _validate.weight_columns(W, self.X.shape)
        if W.shape[0] < 2:
            raise ValueError(f"W must have at least 2 rows (classes); got shape {W.shape}")
        if self._max_label >= W.shape[0]:
            bad = int(np.flatnonzero(self.y >= W.shape[0])[0])
            raise ValueError(
                f"y must hold labels in [0, {W.shape[0]}) for W with {W.shape[0]} rows; y[{bad}] = {int(self.y[bad])}"
            )
        return _validate.weights(W)

    def _kernels(self):
        return _backends.get(self.backend)

    # -- evaluation --------------------------------------------------------------------------------
    def _kernel_loss_grad(self, W: np.ndarray, idx: np.ndarray | None, want_grad: bool):  # pragma: no cover - abstract
        """The backend's fused kernel on the examples ``idx`` of X (absolute positions, or None for all)."""
        raise NotImplementedError

    def _loss_grad(self, W: np.ndarray, want_grad: bool):
        return self._kernel_loss_grad(W, self._idx, want_grad)

    def loss_grad_at(self, W: np.ndarray, idx: np.ndarray | None) -> tuple[float, np.ndarray]:
        """``(loss, dW)`` on the examples at positions ``idx`` of this loss (None: all), for the training loops.

        The hot path of a mini-batch step: ``W`` must come from :meth:`check_weights` and ``idx`` be
        int64 positions in ``[0, n)`` drawn by the library; nothing is re-checked and the result is
        the kernel's, not yet checked for overflow (the loop does that once per step).
        """
        return self._kernel_loss_grad(W, self._columns(idx), True)

    def _columns(self, idx: np.ndarray | None) -> np.ndarray | None:
        """The columns of X at positions ``idx`` of this loss's examples (None: all of them)."""
        return self._idx if idx is None else (idx if self._idx is None else self._idx[idx])

    def step_at(self, W: np.ndarray, idx: np.ndarray | None, learning_rate: float, out: np.ndarray) -> float:
        """The plain SGD step ``out = W - learning_rate * dW`` on the examples at ``idx`` in the kernel call
        (dW is never returned, and the update runs on the workers while dW is formed); returns the loss
        at W. Bitwise ``grad *= learning_rate; W - grad`` with ``(loss, grad) = loss_grad_at(W, idx)``:
        the rate is rounded to W's dtype first, as NumPy rounds a Python float multiplying a float32
        array. A hot path like :meth:`loss_grad_at` (nothing re-checked); ``out`` is C-contiguous like
        W and may be W itself.
        """
        step, regs = self._sgd_model(W, learning_rate)
        threads = _backends.get_num_threads()
        losses, _ = self._kernel_stacked(self._kernels(), W[None], regs, self._columns(idx), threads, step, out[None])
        return float(losses[0])

    def train_at(self, W: np.ndarray, batches: np.ndarray, learning_rate: float, out: np.ndarray) -> np.ndarray:
        """S plain SGD steps in one kernel call, step s on the examples at positions ``batches[s]``
        (``batches`` (S, B)): ``out`` = W after the last step (W itself allowed; left as it was if Ctrl-C
        stops the call), and the losses (S,) at each step's W. Bitwise S calls of :meth:`step_at`. A hot
        path like :meth:`step_at`.
        """
        step, regs = self._sgd_model(W, learning_rate)
        return self.stacked_train(W[None], regs, batches, step, out[None])[:, 0]

    def _sgd_model(self, W: np.ndarray, learning_rate: float) -> tuple[np.ndarray, np.ndarray]:
        """W as one stacked model: its step size (the rate rounded to W's dtype, as NumPy rounds it) and reg."""
        return np.array([-float(W.dtype.type(learning_rate))]), np.array([self.reg])

    def __call__(self, W: Any) -> float:
        """The loss at ``W`` (one pass over X)."""
        return self.loss(W)

    def loss(self, W: Any) -> float:
        W = self.check_weights(W)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, as an error
            loss = self._loss_grad(W, False)[0]
        return self._finite(loss, W.dtype)

    def loss_grad(self, W: Any) -> tuple[float, np.ndarray]:
        """``(loss, dW)`` in one fused pass over X; ``dW`` has W's shape and dtype."""
        W = self.check_weights(W)
        with np.errstate(over="ignore", invalid="ignore"):
            loss, dW = self._loss_grad(W, True)
        return self._finite(loss, W.dtype, dW), dW

    def grad(self, W: Any) -> np.ndarray:
        return self.loss_grad(W)[1]

    def scores(self, W: Any) -> np.ndarray:
        """``W @ X`` for the examples used: (C, n) in W's dtype."""
        W = self.check_weights(W)
        return self._kernels().scores(W, self.X, self._idx, _backends.get_num_threads())

    def predict(self, W: Any) -> np.ndarray:
        """The predicted class of every example used: ``argmax`` of the scores (int64)."""
        return np.argmax(self.scores(W), axis=0).astype(np.int64)

    def accuracy(self, W: Any) -> float:
        """The fraction of examples whose predicted class is their label."""
        return float(np.mean(self.predict(W) == self.labels))

    # -- what the rest of the library asks of a loss --------------------------------------------
    # optimize, gradients and landscape evaluate through these methods; they never read the data,
    # the labels' positions or the class-specific options themselves, and never branch on the class.

    @property
    def min_classes(self) -> int:
        """The fewest classes (rows of W) the labels allow: the largest label used + 1."""
        return self._max_label + 1 if self._idx is None else int(self.labels.max()) + 1

    @property
    def options(self) -> dict:
        """The loss's hyper-parameters by name, e.g. ``{"reg": 0.5, "delta": 1.0}`` (a copy)."""
        return self._options()

    #: the SVM is piecewise linear along a line (exact minimum, breakpoints); the softmax is not
    has_exact_line = False
    #: the hinge margin of the loss; the softmax uses 1 as the scale of its score differences
    margin = 1.0

    def as_float64(self) -> LinearLoss:
        """The same loss on a float64 copy of X (itself when X is float64)."""
        return self if self.dtype == np.float64 else self._replace(X=self.X.astype(np.float64))

    def stacked_scores(self, *Ms: np.ndarray) -> list[np.ndarray]:
        """``M @ X`` on the examples used, as float64 (C, n) arrays, for every M in ONE pass over X.

        The matrices (each (C, D) in X's dtype, already checked) are stacked into one (k*C, D)
        weight matrix for the backend's ``scores`` kernel.
        """
        stacked = Ms[0] if len(Ms) == 1 else np.concatenate(Ms, axis=0)
        with np.errstate(over="ignore", invalid="ignore"):  # the callers check the scores for overflow
            S = self._kernels().scores(stacked, self.X, self._idx, _backends.get_num_threads())
        C = Ms[0].shape[0]
        return [np.ascontiguousarray(S[k * C : (k + 1) * C], dtype=np.float64) for k in range(len(Ms))]

    def data_losses(self, S: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """The data loss (no reg) of K candidates' score blocks ``S`` (K, C, n): (K,) float64.

        ``labels`` are those of the n columns (default: all the examples used).
        """
        y = self.labels if labels is None else labels
        with np.errstate(over="ignore", invalid="ignore"):
            return self._score_sums(S, y) / S.shape[2]

    def _stacked_blocks(self, Wblk: np.ndarray):
        """Yield (columns, S) with S = Wblk @ X[:, columns] as float64 (K, C, B), block by block of
        columns: one stacked (K*C, D) @ (D, B) product each, so X is read once for all K matrices.

        The product is NumPy's BLAS on every backend (random local search's score changes, through
        :meth:`candidate_scores`). float32 columns are cast to float64 a block at a time.
        """
        K, C, D = Wblk.shape
        Wstack = Wblk.astype(np.float64, copy=False).reshape(K * C, D)
        n = self.n
        cols = _candidate_columns(K, C, D, self.X.dtype.itemsize, n)
        for start in range(0, n, cols):
            part = slice(start, min(start + cols, n))
            Xb = self.X[:, part] if self._idx is None else self.X[:, self._idx[part]]
            with np.errstate(over="ignore", invalid="ignore"):
                yield part, (Wstack @ Xb.astype(np.float64, copy=False)).reshape(K, C, -1)

    def candidate_losses(self, Wblk: np.ndarray) -> np.ndarray:
        """The full loss of each of K candidates ``Wblk`` (K, C, D), in X's dtype, in one pass over X:
        (K,) float64, the same losses as K separate calls up to rounding.

        The backend's stacked kernel without the gradient (``*_stacked_losses``): the cpp core's panel
        product, NumPy's BLAS on the numba and numpy backends. Overflow is left to the caller.
        """
        regs = np.full(Wblk.shape[0], float(self.reg))
        threads = _backends.get_num_threads()
        return self._kernel_stacked_losses(self._kernels(), np.ascontiguousarray(Wblk), regs, self._idx, threads)

    def candidate_scores(self, Mblk: np.ndarray) -> np.ndarray:
        """``M @ X`` on the examples used for each of K matrices ``Mblk`` (K, C, D), as one float64
        (K, C, n) array, in one pass over X (the stacked product of :meth:`_stacked_blocks`)."""
        K, C, _ = Mblk.shape
        out = None
        for part, S in self._stacked_blocks(Mblk):
            if part.start == 0 and part.stop == self.n:  # one block: the product is the result, not copied
                return S
            if out is None:
                out = np.empty((K, C, self.n))
            out[:, :, part] = S
        return out

    def loss_of_scores(self, S: np.ndarray, W: np.ndarray) -> float:
        """The loss of ``W`` given its float64 scores ``S = W @ X`` (C, n) on the examples used:
        the data loss of S plus ``reg * sum(W*W)`` computed from W. O(C n), no pass over X."""
        with np.errstate(over="ignore", invalid="ignore"):
            W64 = W.astype(np.float64, copy=False)
            squares = np.einsum("ij,ij->", W64, W64)  # no (C, D) temporary; not BLAS (its threads spin after)
            return float(self.data_losses(S[None])[0]) + float(penalty(self.reg, squares))

    def stacked_loss_grad(
        self,
        Wst: np.ndarray,
        regs: np.ndarray,
        idx: np.ndarray | None,
        step_sizes: np.ndarray | None = None,
        out: np.ndarray | None = None,
    ) -> tuple:
        """Loss and gradient of K models ``Wst`` (K, C, D) with their own ``regs`` (K,) on the examples
        at positions ``idx`` (None: all), reading those columns once for all K models: the backend's
        stacked kernel (K*C rows through one pass). Returns (losses (K,) float64, grads (K, C, D) in
        Wst's dtype); overflow is left to the caller. With ``step_sizes`` (K,) and ``out`` (like the
        C-contiguous Wst): the training step ``out = Wst + step_sizes[m] * grads[m]`` in the same call,
        bitwise NumPy's ``grads *= step_sizes; Wst + grads``, and (losses, None).
        """
        cols = self._columns(idx)
        regs = np.ascontiguousarray(regs, dtype=np.float64)
        Wst = np.ascontiguousarray(Wst)
        if step_sizes is not None:
            step_sizes = np.ascontiguousarray(step_sizes, dtype=np.float64)
        return self._kernel_stacked(self._kernels(), Wst, regs, cols, _backends.get_num_threads(), step_sizes, out)

    def stacked_train(
        self, Wst: np.ndarray, regs: np.ndarray, batches: np.ndarray, step_sizes: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        """S training steps of K models ``Wst`` (K, C, D, C-contiguous) in one kernel call: step s takes
        ``W + step_sizes[m] * dW[m]`` on the examples at positions ``batches[s]`` (``batches`` (S, B)).
        Returns the losses (S, K) at each step's weights and writes the last step into ``out`` (like
        Wst, Wst itself allowed): bitwise S calls of :meth:`stacked_loss_grad` with ``step_sizes`` and
        ``out``. The cpp core keeps the models' weights packed from step to step (notes/KERNELS.md).
        A hot path like :meth:`loss_grad_at`: positions drawn by the library, nothing re-checked.
        """
        cols = np.ascontiguousarray(self._columns(batches), dtype=np.int64)
        regs, step_sizes = (np.ascontiguousarray(a, dtype=np.float64) for a in (regs, step_sizes))
        threads = _backends.get_num_threads()
        return self._kernel_stacked_train(self._kernels(), Wst, regs, cols, step_sizes, out, threads)

    def finite_differences(self, W64: np.ndarray, h: float, backend: str | None = None):
        """Exact loss changes ``plus = L(W + e+ E_cd) - L(W)``, ``minus = L(W - e- E_cd) - L(W)`` for
        every weight (float64 W; the steps are those the notes' loop really takes), the SVM's kink
        counts (None for the softmax), the backend used, and a note when float32 data was cast.
        Two passes over the examples used (scores, then the sweep).
        """
        name = _backends.resolve(backend if backend is not None else self.backend)
        X = self.X if self._idx is None else self.X[:, self._idx]
        note = ""
        if X.dtype != np.float64:
            X = X.astype(np.float64)
            note = FLOAT32_NOTE
        y = np.ascontiguousarray(self.labels)
        threads = _backends.get_num_threads()
        with np.errstate(all="ignore"):  # overflow is reported below, as an error
            plus, minus, kinks = self._kernel_fd(_backends.get(name), W64, X, y, h, threads)
        self._check_differences(W64, X, h, plus, minus)
        return plus, minus, kinks, name, note

    def _check_differences(self, W64: np.ndarray, X: np.ndarray, h: float, plus: np.ndarray, minus: np.ndarray) -> None:
        """FloatingPointError naming the first loss of the finite differences that overflowed: at W, at
        ``W +- h*E[c, d]``, or in the sweep's own arithmetic; the kernels' made-up finite changes of an
        overflowed loss never reach the caller.

        A bound proves the common case safe for O(C D) (with the largest |x| of each feature, one pass over X
        made once per loss): with ``s`` a bound on every score of W and of every perturbed W, a loss is
        at most ``C (2 s + margin) + log C`` per example. Only when that bound fails are the scores
        formed (one more pass) and the loss at W and at each weight the bound cannot clear evaluated from them.
        """
        limit = float(np.finfo(self.dtype).max)
        C, n = W64.shape[0], X.shape[1]
        xmax = self._feature_max()
        with np.errstate(all="ignore"):
            steps = np.maximum((W64 + h) - W64, W64 - (W64 - h))
            moves = steps * xmax  # the most weight (c, d) moves a score
            pen = penalty(self.reg, float(np.sum(np.square(np.abs(W64) + steps))))
            bound = float((np.abs(W64) @ xmax).max() + moves.max())
            if self._safe(bound, C, n, pen, limit):
                return self._check_sweep(plus, minus, h, xmax)
            S = W64 @ X
            rows = np.abs(S).max(axis=1)
            at_w = self.loss_of_scores(S, W64)
        if not (math.isfinite(at_w) and abs(at_w) <= limit):
            raise FloatingPointError(
                f"the {self.name} loss at W overflowed (the scores W @ X reach {rows.max():.3g}); scale X or W down"
            )
        with np.errstate(all="ignore"):
            reach = np.maximum(rows.max(), rows[:, None] + moves)  # (C, D): the largest perturbed score
        for c, d in np.argwhere(~self._safe(reach, C, n, pen, limit)):
            for sign, side in ((1.0, "+"), (-1.0, "-")):
                e = sign * ((W64[c, d] + h) - W64[c, d] if sign > 0 else W64[c, d] - (W64[c, d] - h))
                Wp = W64.copy()
                Wp[c, d] += e
                Sp = S.copy()
                with np.errstate(all="ignore"):
                    Sp[c] += e * X[d]
                    value = self.loss_of_scores(Sp, Wp)
                if not (math.isfinite(value) and abs(value) <= limit):
                    raise FloatingPointError(
                        f"the {self.name} loss at W {side} h*E[{c}, {d}] overflowed; scale X or W down"
                    )
        self._check_sweep(plus, minus, h, xmax)

    def _feature_max(self) -> np.ndarray:
        """``max_i |X[d, i]|`` over all the examples, (D,) float64: one pass over X, made once per X (a
        subset's examples share it, as a bound)."""
        cached = self.__dict__.get("_xmax")
        if cached is None or cached[0] is not self.X:
            X = self.X
            rows = max(1, (8 << 20) // (X.itemsize * X.shape[1]))  # |X| a block of rows at a time
            xmax = np.concatenate([np.abs(X[s : s + rows]).max(axis=1) for s in range(0, X.shape[0], rows)])
            cached = self._xmax = (X, xmax.astype(np.float64))
        return cached[1]

    def _safe(self, score_bound, C: int, n: int, pen: float, limit: float):
        """Whether scores bounded by ``score_bound`` give a finite loss and finite sums of n examples."""
        with np.errstate(all="ignore"):
            per_example = C * (2.0 * np.asarray(score_bound) + self.margin) + math.log(C)
            return (n * per_example < np.finfo(np.float64).max / 4) & (per_example + pen < limit / 4)

    def _check_sweep(self, plus: np.ndarray, minus: np.ndarray, h: float, xmax: np.ndarray) -> None:
        """The losses are finite: a non-finite change overflowed in the sweep's own arithmetic (e.g. the
        softmax's exp(h x) once h |x| passes about 709)."""
        for values, side in ((plus, "+"), (minus, "-")):
            if not _validate.all_finite(values):
                c, d = (int(i) for i in np.argwhere(~np.isfinite(values))[0])
                raise FloatingPointError(
                    f"the change of the {self.name} loss at W {side} h*E[{c}, {d}] overflowed in the finite-difference "
                    f"sweep (h * max|X[{d}]| = {h * xmax[d]:.3g}); use a smaller h or scale X down"
                )

    def data_loss_grid(self, S0, S1, S2, alphas, betas) -> np.ndarray:
        """The data loss of ``S0 + a S1 + b S2`` (float64 scores of the examples used) for every
        (a, b) of the grid: (len(alphas), len(betas)); O(C n) per point, overflow left as inf/NaN."""
        y = np.ascontiguousarray(self.labels, dtype=np.int64)
        with np.errstate(all="ignore"):
            out = self._kernel_grid(self._kernels(), S0, S1, S2, y, alphas, betas, _backends.get_num_threads())
        return np.asarray(out, dtype=np.float64)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}(D={self.dim}, N={self.n}, dtype={self.dtype}, {opts})"


class SVMLoss(LinearLoss):
    """Multiclass SVM (Weston-Watkins) loss on fixed data: ``f(W)`` is the loss.

    ``L = 1/N sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + delta) + reg * sum(W*W)``; gradient row j
    gets ``1(margin_ij > 0) x_i``, row y_i gets minus the count of positive margins times ``x_i``,
    plus ``2 reg W``. X (D, N) and y (N,) are validated once here.
    """

    name = "svm"

    def __init__(
        self,
        X: Any,
        y: Any,
        reg: float = 0.0,
        delta: float = 1.0,
        *,
        backend: str | None = None,
        check_finite: bool = True,
    ):
        super().__init__(X, y, reg, backend=backend, check_finite=check_finite, delta=delta)

    def _init_options(self, reg: float = 0.0, delta: float = 1.0) -> None:
        self.reg = _validate.reg(reg)
        self.delta = _validate.delta(delta)

    def _options(self) -> dict:
        return {"reg": self.reg, "delta": self.delta}

    def _kernel_loss_grad(self, W, idx, want_grad):
        return self._kernels().svm_loss_grad(
            W, self.X, self.y, idx, self.reg, self.delta, want_grad, _backends.get_num_threads()
        )

    has_exact_line = True

    @property
    def margin(self) -> float:
        return self.delta

    def _kernel_stacked(self, kernels, Wst, regs, cols, threads, step_sizes=None, out=None):
        return kernels.svm_stacked_loss_grad(Wst, self.X, self.y, cols, regs, self.delta, threads, step_sizes, out)

    def _kernel_stacked_train(self, kernels, Wst, regs, batches, step_sizes, out, threads):
        return kernels.svm_stacked_train(Wst, self.X, self.y, batches, regs, self.delta, step_sizes, out, threads)

    def _kernel_stacked_losses(self, kernels, Wst, regs, cols, threads):
        return kernels.svm_stacked_losses(Wst, self.X, self.y, cols, regs, self.delta, threads)

    def _kernel_fd(self, kernels, W64, X, y, h, threads):
        return kernels.svm_fd(W64, X, y, self.reg, self.delta, h, threads)

    def _kernel_grid(self, kernels, S0, S1, S2, y, alphas, betas, threads):
        return kernels.svm_grid(S0, S1, S2, y, alphas, betas, self.delta, threads)

    def _margins(self, S: np.ndarray, y: np.ndarray) -> np.ndarray:
        """s_j - s_{y_i} + delta per candidate, zero at the labels: S (K, C, B) -> (K, C, B)."""
        cols = np.arange(S.shape[2])
        M = S - S[:, y, cols][:, None, :]
        M += self.delta
        M[:, y, cols] = 0.0
        return M

    def _score_sums(self, S: np.ndarray, y: np.ndarray) -> np.ndarray:
        """sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + delta) per candidate: S (K, C, B) -> (K,)."""
        M = self._margins(S, y)
        np.maximum(M, 0.0, out=M)
        return M.sum(axis=(1, 2))


class SoftmaxLoss(LinearLoss):
    """Softmax (cross-entropy) loss on fixed data: ``f(W)`` is the loss.

    ``L = 1/N sum_i (logsumexp(s_i) - s_{y_i}) + reg * sum(W*W)`` in log-sum-exp form; gradient row j
    gets ``(p_ij - 1(j == y_i)) x_i`` plus ``2 reg W``.
    """

    name = "softmax"

    def _kernel_loss_grad(self, W, idx, want_grad):
        return self._kernels().softmax_loss_grad(
            W, self.X, self.y, idx, self.reg, want_grad, _backends.get_num_threads()
        )

    def _kernel_stacked(self, kernels, Wst, regs, cols, threads, step_sizes=None, out=None):
        return kernels.softmax_stacked_loss_grad(Wst, self.X, self.y, cols, regs, threads, step_sizes, out)

    def _kernel_stacked_train(self, kernels, Wst, regs, batches, step_sizes, out, threads):
        return kernels.softmax_stacked_train(Wst, self.X, self.y, batches, regs, step_sizes, out, threads)

    def _kernel_stacked_losses(self, kernels, Wst, regs, cols, threads):
        return kernels.softmax_stacked_losses(Wst, self.X, self.y, cols, regs, threads)

    def _kernel_fd(self, kernels, W64, X, y, h, threads):
        plus, minus = kernels.softmax_fd(W64, X, y, self.reg, h, threads)
        return plus, minus, None

    def _kernel_grid(self, kernels, S0, S1, S2, y, alphas, betas, threads):
        return kernels.softmax_grid(S0, S1, S2, y, alphas, betas, threads)

    def _score_sums(self, S: np.ndarray, y: np.ndarray) -> np.ndarray:
        """sum_i (logsumexp(s_i) - s_{y_i}) per candidate, max-shifted: S (K, C, B) -> (K,)."""
        cols = np.arange(S.shape[2])
        Z = S - S.max(axis=1, keepdims=True)
        lse = np.log(np.exp(Z).sum(axis=1))
        return (lse - Z[:, y, cols]).sum(axis=1)


def _bound(cls, W, X, y, backend, **options) -> tuple[LinearLoss, np.ndarray]:
    """Validate the functional arguments in the documented order (W, X, y, options) and build a loss."""
    W, X = _validate.weights_and_data(W, X, data_finite=False)
    y = _validate.labels(y, X.shape[1], W.shape[0])
    return cls._from_validated(X, y, backend, **options), W


def svm_loss(W, X, y, reg: float = 0.0, delta: float = 1.0, *, backend: str | None = None) -> float:
    """The multiclass SVM loss (see :class:`SVMLoss`); one pass over X."""
    loss, W = _bound(SVMLoss, W, X, y, backend, reg=reg, delta=delta)
    return loss.loss(W)


def svm_loss_grad(
    W, X, y, reg: float = 0.0, delta: float = 1.0, *, backend: str | None = None
) -> tuple[float, np.ndarray]:
    """``(loss, dW)`` of the multiclass SVM in one fused pass over X."""
    loss, W = _bound(SVMLoss, W, X, y, backend, reg=reg, delta=delta)
    return loss.loss_grad(W)


def softmax_loss(W, X, y, reg: float = 0.0, *, backend: str | None = None) -> float:
    """The softmax loss (see :class:`SoftmaxLoss`); one pass over X."""
    loss, W = _bound(SoftmaxLoss, W, X, y, backend, reg=reg)
    return loss.loss(W)


def softmax_loss_grad(W, X, y, reg: float = 0.0, *, backend: str | None = None) -> tuple[float, np.ndarray]:
    """``(loss, dW)`` of the softmax loss in one fused pass over X."""
    loss, W = _bound(SoftmaxLoss, W, X, y, backend, reg=reg)
    return loss.loss_grad(W)


def scores(W, X, *, backend: str | None = None) -> np.ndarray:
    """``S = W @ X``: (C, N) class scores in W's dtype (accumulated in float64)."""
    W, X = _validate.weights_and_data(W, X, data_finite=False)
    return _checked_scores(W, X, backend)


def _checked_scores(W, X, backend: str | None) -> np.ndarray:
    """``scores`` for W and X validated but X's finiteness: with finite W, a non-finite column of X
    gives non-finite scores, which costs O(C N) to see; only then is X scanned to name the entry."""
    S = _backends.get(backend).scores(W, X, None, _backends.get_num_threads())
    if not np.isfinite(S).all():
        _validate.finite(X, "X")
    return S


def predict(W, X, *, backend: str | None = None) -> np.ndarray:
    """The predicted class of every column of X (int64, shape (N,))."""
    return np.argmax(scores(W, X, backend=backend), axis=0).astype(np.int64)


def accuracy(W, X, y, *, backend: str | None = None) -> float:
    """The fraction of columns of X whose predicted class equals y."""
    W, X = _validate.weights_and_data(W, X, data_finite=False)
    y = _validate.labels(y, X.shape[1], W.shape[0])
    return float(np.mean(np.argmax(_checked_scores(W, X, backend), axis=0) == y))
