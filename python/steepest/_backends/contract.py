"""The kernel contract: the one written interface that every backend module implements.

Three backends implement it: ``cpp`` (the compiled module ``steepest._core``, registered as it is),
``numba`` (``_backends.numba.kernels``) and ``numpy`` (``_backends.numpy``). ``Kernels`` below is
the contract as a ``typing.Protocol``: a backend module satisfies it when it defines every member
with these parameter names, in this order (``tests/test_contract.py`` checks that, and checks every
kernel of every backend against the slow, obvious references of ``tests/naive.py``).
``steepest.reference`` is never dispatched to: it is the ground truth the references are built on.

Inputs (already validated by the caller)
----------------------------------------
``steepest._validate`` and the loss objects have checked and converted every input; kernels never
re-check values (the C++ binding still refuses wrong dtypes and non-contiguous buffers with
``TypeError`` as a second line of defence).

- ``W``: (C, D), C-contiguous, float32 or float64, C >= 2.
- ``X``: (D, N), the dtype of ``W``, C-contiguous *or* F-contiguous; both memory orders are read in
  place, never copied whole (one example is one column).
- ``y``: int64 (N,), contiguous, labels in [0, C).
- ``idx``: ``None`` (all N examples, in order) or int64 (B,), contiguous, example positions in
  [0, N), repeats allowed: the kernel gathers these columns itself (a mini-batch, with no NumPy
  fancy-index copy of X). With ``idx`` the examples used are ``X[:, idx]`` with labels ``y[idx]``.
- ``reg >= 0``, ``delta > 0``, ``h > 0``: Python floats. ``want_grad``: bool.
- ``n_threads``: a positive int (the caller has resolved ``-1`` to the core count). Backends that do
  not thread (numpy) accept it and ignore it.

Numerics
--------
- Every sum accumulates in float64, also for float32 inputs. Losses are returned as Python
  ``float``, averaged over the examples used (N, or B with ``idx``).
- Gradients are (C, D), C-contiguous, in W's dtype; the finite-difference kernels and the grids take
  and return float64 only (the callers cast).
- Determinism: results are bitwise identical for any ``n_threads`` and across repeated calls. The
  examples are cut into blocks whose size never depends on the thread count, each block's partial
  (loss, dW) is computed on its own, and the partials are combined in block order.
- Kernels never raise on overflow or NaN: a non-finite loss is returned as it is, and the Python layer
  raises ``FloatingPointError``.
- Ctrl-C: a long call stops with ``KeyboardInterrupt`` (the cpp backend polls for signals between
  blocks and inside long ones; the Python backends raise it when control returns to Python), and the
  backend stays usable afterwards.

Definitions
-----------
For example i (a column ``x_i`` of X, label ``y_i``) the scores are ``s = W @ x_i`` and the SVM
margins ``m_ji = s_j - s_{y_i} + delta`` for ``j != y_i``. Over the B examples used:

    SVM loss      L = (1/B) sum_i sum_{j != y_i} max(0, m_ji) + reg * sum(W * W)
    SVM gradient  dW[j]   += (1/B) * 1(m_ji > 0) * x_i                 for j != y_i
                  dW[y_i] -= (1/B) * (count_j 1(m_ji > 0)) * x_i;      dW += 2 reg W
    softmax loss  L = (1/B) sum_i (logsumexp(s) - s_{y_i}) + reg * sum(W * W)
                  (the max-subtracted log-sum-exp form, never -log of a probability)
    softmax grad  dW[j] += (1/B) * (p_ji - 1(j == y_i)) * x_i,  p = softmax(s);  dW += 2 reg W

A margin of exactly 0 is not positive: it adds nothing to the loss or the gradient.

Exact finite differences: for weight (c, d) with value ``w`` the notes' loop stores ``w + h`` and
``w - h``, so the steps it really takes are ``e_plus = (w + h) - w`` and ``e_minus = w - (w - h)``
(in float64). The kernels return, for every weight,

    plus[c, d]  = L(W + e_plus E_cd) - L(W),    minus[c, d] = L(W - e_minus E_cd) - L(W)

(``E_cd`` the unit matrix of weight (c, d)) as exact sums of per-example changes, never as the
difference of two rounded losses:

    L(W + e E_cd) - L(W) = (1/N) sum_i Delta_i(e) + reg * e * (2 w + e)

where moving ``W[c, d]`` by ``e`` moves score ``c`` of example i by ``e x``, ``x = X[d, i]``:

    SVM      Delta_i(e) = max(0, m_ci + e x) - max(0, m_ci)                     if y_i != c
             Delta_i(e) = sum_{j != c} [max(0, m_ji - e x) - max(0, m_ji)]      if y_i == c
    softmax  Delta_i(e) = log1p(p_ci * expm1(e x)) - 1(c == y_i) * e x

The callers form ``forward = plus / h``, ``backward = -minus / h``, ``centered = (plus - minus) / 2h``.
How each backend computes these is described in notes/KERNELS.md.

Loss on a grid of score matrices (lines and planes through W, random search): for
``S = S0 + alphas[a] * S1 + betas[b] * S2`` the grid kernels return the *data* loss (no reg term),
averaged over the B columns, at every point (a, b). Only the scores are needed, never X.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["Kernels", "KERNEL_NAMES", "FloatArray", "F64Array", "I64Array"]

#: A float32 or float64 array (W, X, scores, gradients: one dtype per call).
FloatArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]
#: A float64 array (finite differences, grids).
F64Array = npt.NDArray[np.float64]
#: An int64 array (labels, example positions, kink counts).
I64Array = npt.NDArray[np.int64]


@runtime_checkable
class Kernels(Protocol):
    """What every backend module provides: the kernels of ``KERNEL_NAMES``, with exactly these parameter names.

    The backends share no other attribute: block and tile sizes (``_core.block_size``, the numba and
    numpy ``BLOCK``) are private to each backend. ``isinstance(module, Kernels)`` checks only that
    the members exist; ``tests/test_contract.py`` checks their signatures and results.
    """

    def scores(self, W: FloatArray, X: FloatArray, idx: I64Array | None, n_threads: int) -> FloatArray:
        """Scores of the examples used: ``S = W @ X[:, idx]`` (``W @ X`` when ``idx`` is None).

        Returns S (C, B), C-contiguous, in W's dtype, each entry accumulated in float64 (and
        rounded to float32 once, at the end, for float32 inputs).
        """
        ...

    def svm_loss_grad(
        self,
        W: FloatArray,
        X: FloatArray,
        y: I64Array,
        idx: I64Array | None,
        reg: float,
        delta: float,
        want_grad: bool,
        n_threads: int,
    ) -> tuple[float, FloatArray | None]:
        """Multiclass SVM (hinge) loss and gradient over the examples used, in one pass over them.

        Returns ``(loss, dW)``: ``loss`` a Python float, the mean over the B examples used of
        ``sum_{j != y_i} max(0, s_j - s_{y_i} + delta)`` plus ``reg * sum(W * W)``, accumulated in
        float64; ``dW`` (C, D) C-contiguous in W's dtype, or ``None`` when ``want_grad`` is False
        (the loss is then the same float, bitwise). Margins of exactly 0 count as inactive.
        """
        ...

    def softmax_loss_grad(
        self,
        W: FloatArray,
        X: FloatArray,
        y: I64Array,
        idx: I64Array | None,
        reg: float,
        want_grad: bool,
        n_threads: int,
    ) -> tuple[float, FloatArray | None]:
        """Softmax cross-entropy loss and gradient over the examples used, in one pass over them.

        Returns ``(loss, dW)``: ``loss`` a Python float, the mean of ``logsumexp(s) - s_{y_i}``
        (max-subtracted: finite for any finite scores, however far apart) plus
        ``reg * sum(W * W)``, accumulated in float64; ``dW = mean((p - onehot(y_i)) x_i^T) + 2 reg W``
        (C, D) C-contiguous in W's dtype, or ``None`` when ``want_grad`` is False.
        """
        ...

    def svm_stacked_loss_grad(
        self,
        W: FloatArray,
        X: FloatArray,
        y: I64Array,
        idx: I64Array | None,
        regs: F64Array,
        delta: float,
        n_threads: int,
        step_sizes: F64Array | None = None,
        out: FloatArray | None = None,
    ) -> tuple[F64Array, FloatArray | None]:
        """``svm_loss_grad`` of K models at once (the hyper-parameter grid), the examples read once for all.

        ``W`` (K, C, D) C-contiguous, ``regs`` float64 (K,), one reg per model. Returns
        ``(losses, dW)``: ``losses`` float64 (K,), ``dW`` (K, C, D) in W's dtype; model m's entries are
        ``svm_loss_grad(W[m], X, y, idx, regs[m], delta, True, n_threads)``'s up to rounding, and
        bitwise for a single model (K = 1: the training loops' fused step, ``LinearLoss.step_at``).

        A training step in the same call: given ``step_sizes`` float64 (K,) and ``out`` (K, C, D) in W's
        dtype, C-contiguous, writable (W itself allowed), returns ``(losses, None)`` and writes
        ``out = W + step_sizes[m] * dW[m]``, bitwise what ``dW *= step_sizes[:, None, None];
        np.add(W, dW, out=out)`` gives.
        """
        ...

    def softmax_stacked_loss_grad(
        self,
        W: FloatArray,
        X: FloatArray,
        y: I64Array,
        idx: I64Array | None,
        regs: F64Array,
        n_threads: int,
        step_sizes: F64Array | None = None,
        out: FloatArray | None = None,
    ) -> tuple[F64Array, FloatArray | None]:
        """``softmax_loss_grad`` of K models at once; arguments and results as ``svm_stacked_loss_grad``."""
        ...

    def svm_stacked_train(
        self,
        W: FloatArray,
        X: FloatArray,
        y: I64Array,
        batches: I64Array,
        regs: F64Array,
        delta: float,
        step_sizes: F64Array,
        out: FloatArray,
        n_threads: int,
    ) -> F64Array:
        """S training steps of K stacked models (the hyper-parameter grid's loop), one mini-batch each.

        ``batches`` int64 (S, B), C-contiguous: row s holds the example positions of step s. Returns
        ``losses`` float64 (S, K), the loss of every model at each step's weights, and writes the weights
        after the last step into ``out`` (like W, W itself allowed): bitwise the S calls
        ``svm_stacked_loss_grad(W_s, X, y, batches[s], regs, delta, n_threads, step_sizes, W_{s+1})``.
        ``out`` is left as it was when Ctrl-C stops the call.
        """
        ...

    def softmax_stacked_train(
        self,
        W: FloatArray,
        X: FloatArray,
        y: I64Array,
        batches: I64Array,
        regs: F64Array,
        step_sizes: F64Array,
        out: FloatArray,
        n_threads: int,
    ) -> F64Array:
        """S training steps of K stacked softmax models; arguments and results as ``svm_stacked_train``."""
        ...

    def svm_stacked_losses(
        self,
        W: FloatArray,
        X: FloatArray,
        y: I64Array,
        idx: I64Array | None,
        regs: F64Array,
        delta: float,
        n_threads: int,
    ) -> F64Array:
        """The losses alone of K models at once (random search's candidates), no gradient formed.

        Arguments as ``svm_stacked_loss_grad``; returns ``losses`` float64 (K,), model m's entry
        ``svm_loss_grad(W[m], X, y, idx, regs[m], delta, False, n_threads)``'s up to rounding.
        """
        ...

    def softmax_stacked_losses(
        self, W: FloatArray, X: FloatArray, y: I64Array, idx: I64Array | None, regs: F64Array, n_threads: int
    ) -> F64Array:
        """The softmax losses alone of K models at once; arguments and results as ``svm_stacked_losses``."""
        ...

    def svm_fd(
        self, W: F64Array, X: F64Array, y: I64Array, reg: float, delta: float, h: float, n_threads: int
    ) -> tuple[F64Array, F64Array, I64Array]:
        """Exact one-sided loss changes of the SVM for every weight, and its kink counts.

        ``W`` and ``X`` are float64 (no ``idx``: all N examples). Returns ``(plus, minus, kinks)``,
        each (C, D): ``plus = L(W + e_plus E_cd) - L(W)`` and ``minus = L(W - e_minus E_cd) - L(W)``
        with the loop's steps ``e_plus = (w + h) - w``, ``e_minus = w - (w - h)``, exact to rounding
        (sums of per-example changes, see the module docstring), float64; ``kinks`` int64, the
        number of hinge terms (i, j), ``j != y_i``, that weight (c, d) moves (``c == j`` or
        ``c == y_i``) with ``x = X[d, i] != 0`` and ``|m_ji| <= h * |x|``.
        """
        ...

    def softmax_fd(
        self, W: F64Array, X: F64Array, y: I64Array, reg: float, h: float, n_threads: int
    ) -> tuple[F64Array, F64Array]:
        """Exact one-sided loss changes of the softmax loss for every weight.

        ``W`` and ``X`` are float64 (all N examples). Returns ``(plus, minus)``, float64 (C, D):
        ``L(W + e_plus E_cd) - L(W)`` and ``L(W - e_minus E_cd) - L(W)`` with the steps of
        ``svm_fd``, exact to rounding: ``(1/N) sum_i [log1p(p_ci expm1(e x)) - 1(c == y_i) e x]``
        plus ``reg * e * (2 w + e)``.
        """
        ...

    def svm_grid(
        self,
        S0: F64Array,
        S1: F64Array,
        S2: F64Array | None,
        y: I64Array,
        alphas: F64Array,
        betas: F64Array,
        delta: float,
        n_threads: int,
    ) -> F64Array:
        """SVM data loss (no reg) of the scores ``S0 + alphas[a] * S1 + betas[b] * S2`` at every point.

        ``S0``, ``S1``: float64 (C, B) C-contiguous; ``S2`` the same, or ``None`` (then ``betas`` is
        ``[0.0]`` and the term is absent); ``y`` int64 (B,); ``alphas``, ``betas`` float64 1-D.
        Returns ``out`` float64 (len(alphas), len(betas)): the mean over the B columns of
        ``sum_{j != y_i} max(0, s_j - s_{y_i} + delta)``. O(C B) per point.
        """
        ...

    def softmax_grid(
        self,
        S0: F64Array,
        S1: F64Array,
        S2: F64Array | None,
        y: I64Array,
        alphas: F64Array,
        betas: F64Array,
        n_threads: int,
    ) -> F64Array:
        """Softmax data loss (no reg) of the scores ``S0 + alphas[a] * S1 + betas[b] * S2`` at every point.

        Inputs as in ``svm_grid``. Returns ``out`` float64 (len(alphas), len(betas)): the mean over
        the B columns of ``logsumexp(s) - s_{y_i}``. O(C B) per point.
        """
        ...


#: The members of ``Kernels``, in the order of the contract.
KERNEL_NAMES: tuple[str, ...] = (
    "scores",
    "svm_loss_grad",
    "softmax_loss_grad",
    "svm_stacked_loss_grad",
    "softmax_stacked_loss_grad",
    "svm_stacked_train",
    "softmax_stacked_train",
    "svm_stacked_losses",
    "softmax_stacked_losses",
    "svm_fd",
    "softmax_fd",
    "svm_grid",
    "softmax_grid",
)
