"""The NumPy backend: the kernels of ``_backends.contract`` in vectorized NumPy (BLAS for the products).

Examples are processed in fixed-size blocks so float32 data can be promoted to float64 a block at a
time (sums accumulate in float64 without a float64 copy of X) and temporaries stay small; block
results are added in block order. ``n_threads`` is accepted for the common interface; NumPy's BLAS
picks its own threads.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import numpy as np

from ._shared import penalty, stacked_train_kernels, steps

BLOCK = 4096  # examples per block
FD_CHUNK_ELEMENTS = 1 << 22  # bound on the (C, k, B) temporaries of the finite-difference sweep


def _quiet(kernel):
    """The contract: a kernel returns an overflowed (non-finite) result as it is, without a warning (the
    caller names what overflowed); NumPy would warn on every inf or NaN it makes."""

    @functools.wraps(kernel)
    def quiet(*args):
        with np.errstate(all="ignore"):
            return kernel(*args)

    return quiet


def _blocks(X: np.ndarray, idx: np.ndarray | None) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield (positions, float64 columns) for consecutive blocks of the examples used."""
    n = X.shape[1] if idx is None else idx.shape[0]
    for start in range(0, n, BLOCK):
        part = slice(start, min(start + BLOCK, n))
        cols = X[:, part] if idx is None else X[:, idx[part]]
        yield part, cols.astype(np.float64, copy=False)


def _count(X: np.ndarray, idx: np.ndarray | None) -> int:
    return X.shape[1] if idx is None else idx.shape[0]


def _labels(y: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
    return y if idx is None else y[idx]


@_quiet
def scores(W, X, idx, n_threads):
    W64 = W.astype(np.float64, copy=False)
    out = np.empty((W.shape[0], _count(X, idx)), dtype=W.dtype)
    for part, Xb in _blocks(X, idx):
        out[:, part] = W64 @ Xb
    return out


def _svm_margins(S: np.ndarray, yb: np.ndarray, delta: float) -> np.ndarray:
    """Margins s_j - s_{y_i} + delta, with the label entries set to zero (they never count)."""
    columns = np.arange(S.shape[1])
    M = S - S[yb, columns] + delta
    M[yb, columns] = 0.0
    return M


def _svm_coefs(S: np.ndarray, yb: np.ndarray, delta: float, want_grad: bool):
    """One model's hinge-loss sum over a block and its gradient coefficients (or None)."""
    M = _svm_margins(S, yb, delta)
    loss = float(np.maximum(M, 0.0).sum())
    if not np.isfinite(S[yb, np.arange(len(yb))]).all():  # the hinge would hide margins of -inf
        loss = math.nan
    if not want_grad:
        return loss, None
    coef = (M > 0).astype(np.float64)
    coef[yb, np.arange(len(yb))] = -coef.sum(axis=0)
    return loss, coef


def _log_softmax(S: np.ndarray) -> np.ndarray:
    """log p = s - logsumexp(s) per column, max-shifted so exp never overflows."""
    Z = S - S.max(axis=0)
    return Z - np.log(np.exp(Z).sum(axis=0))


def _softmax_coefs(S: np.ndarray, yb: np.ndarray, want_grad: bool):
    """One model's cross-entropy sum over a block and its gradient coefficients p - onehot(y) (or None)."""
    columns = np.arange(len(yb))
    logp = _log_softmax(S)
    loss = -float(logp[yb, columns].sum())
    if not want_grad:
        return loss, None
    P = np.exp(logp)
    P[yb, columns] -= 1.0
    return loss, P


def _stacked(W, X, y, idx, regs, coefs, want_grad):
    """K models W (K, C, D) in one pass over the examples used: per block, one (K*C, D) @ (D, b) product
    for the scores and one (K*C, b) @ (b, D) for the gradients. Returns (losses (K,), dW (K, C, D) or None)."""
    K, C, D = W.shape
    W64 = W.astype(np.float64, copy=False)
    Wst = W64.reshape(K * C, D)
    yy = _labels(y, idx)
    sums = np.zeros(K)
    dW = np.zeros((K * C, D)) if want_grad else None
    for part, Xb in _blocks(X, idx):
        S = Wst @ Xb
        coef = np.empty_like(S) if want_grad else None
        for m in range(K):
            rows = slice(m * C, (m + 1) * C)
            loss, c = coefs(S[rows], yy[part], want_grad)
            sums[m] += loss
            if want_grad:
                coef[rows] = c
        if want_grad:
            dW += coef @ Xb.T
    n = _count(X, idx)
    losses = sums / n + penalty(regs, np.array([float(np.sum(w * w)) for w in W64]))
    if not want_grad:
        return losses, None
    grads = dW.reshape(K, C, D) / n + (2.0 * regs)[:, None, None] * W64
    return losses, grads.astype(W.dtype, copy=False)


def _single(W, X, y, idx, reg, coefs, want_grad):
    """One model: the K = 1 case of the stacked pass."""
    losses, dW = _stacked(W[None], X, y, idx, np.array([float(reg)]), coefs, want_grad)
    return float(losses[0]), None if dW is None else dW[0]


@_quiet
def svm_loss_grad(W, X, y, idx, reg, delta, want_grad, n_threads):
    return _single(W, X, y, idx, reg, lambda S, yb, g: _svm_coefs(S, yb, delta, g), want_grad)


@_quiet
def softmax_loss_grad(W, X, y, idx, reg, want_grad, n_threads):
    return _single(W, X, y, idx, reg, _softmax_coefs, want_grad)


def _stepped(result: tuple, W: np.ndarray, step_sizes: np.ndarray | None, out: np.ndarray | None) -> tuple:
    """A stacked kernel's ``(losses, dW)``, or, given ``step_sizes`` and ``out``, ``(losses, None)`` with the
    gradient step ``out = W + step_sizes[m] * dW[m]`` written, rounded as ``dW *= step_sizes; np.add(W, dW,
    out=out)`` in W's dtype (out may be W)."""
    if out is None:
        return result
    losses, dW = result
    with np.errstate(over="ignore", invalid="ignore"):
        dW *= step_sizes[:, None, None]
        np.add(W, dW, out=out)
    return losses, None


@_quiet
def svm_stacked_loss_grad(W, X, y, idx, regs, delta, n_threads, step_sizes=None, out=None):
    result = _stacked(W, X, y, idx, regs, lambda S, yb, g: _svm_coefs(S, yb, delta, g), True)
    return _stepped(result, W, step_sizes, out)


@_quiet
def softmax_stacked_loss_grad(W, X, y, idx, regs, n_threads, step_sizes=None, out=None):
    return _stepped(_stacked(W, X, y, idx, regs, _softmax_coefs, True), W, step_sizes, out)


svm_stacked_train, softmax_stacked_train = stacked_train_kernels(svm_stacked_loss_grad, softmax_stacked_loss_grad)


@_quiet
def svm_stacked_losses(W, X, y, idx, regs, delta, n_threads):
    return _stacked(W, X, y, idx, regs, lambda S, yb, g: _svm_coefs(S, yb, delta, g), False)[0]


@_quiet
def softmax_stacked_losses(W, X, y, idx, regs, n_threads):
    return _stacked(W, X, y, idx, regs, _softmax_coefs, False)[0]


# --- exact finite differences ------------------------------------------------------------------------


def _reg_change(W: np.ndarray, e: np.ndarray, reg: float) -> np.ndarray:
    """reg * ((w + e)^2 - w^2), without cancellation; exactly 0 without a penalty (never 0 * inf)."""
    return reg * e * (2.0 * W + e) if reg else np.zeros_like(W)


def _feature_chunks(D: int, C: int, N: int) -> Iterator[slice]:
    k = max(1, FD_CHUNK_ELEMENTS // max(1, C * N))
    for start in range(0, D, k):
        yield slice(start, min(start + k, D))


def _scores_by_blocks(W, X):
    """W @ X block by block of examples: short BLAS calls, between which Ctrl-C is raised."""
    S = np.empty((W.shape[0], X.shape[1]))
    for part, Xb in _blocks(X, None):
        S[:, part] = W @ Xb
    return S


def _svm_margins_masked(W, X, y, delta):
    """(C, N) margins with -inf at the label entries, so max(0, m + anything finite) = 0 there."""
    S = _scores_by_blocks(W, X)
    columns = np.arange(X.shape[1])
    M = S - S[y, columns] + delta
    M[y, columns] = -np.inf
    return M


def _hinge_change(M, T):
    """max(0, m + t) - max(0, m) without rounding m + t when no kink is crossed (m = -inf gives 0)."""
    return np.where(M >= 0, np.maximum(T, -M), np.maximum(M + T, 0.0))


def _svm_change(M, X, y, E, d_part):
    """sum_i Delta_i(e) for every (c, d) of a chunk of features, e = E[c, d]: shape (C, k)."""
    Xd = X[d_part]  # (k, N)
    Ed = E[:, d_part]  # (C, k)
    # y_i != c: the one term (i, c) moves by e * x (the label entries are -inf and contribute 0)
    other = _hinge_change(M[:, None, :], Ed[:, :, None] * Xd[None, :, :]).sum(axis=2)
    # y_i == c: every margin of example i moves by -e * x
    own = np.zeros_like(Ed)
    for c in range(M.shape[0]):
        cols = np.flatnonzero(y == c)
        if not len(cols):
            continue
        shift = Ed[c][:, None] * Xd[:, cols]  # (k, n_c)
        Mc = M[:, cols]
        for j in range(M.shape[0]):
            own[c] += _hinge_change(Mc[j], -shift).sum(axis=1)
    return other + own


def _svm_kinks(M, X, y, h, d_part):
    """Hinge terms touched by weight (c, d) with x != 0 and |m| <= h |x|: shape (C, k), int64."""
    Xd = X[d_part]
    reach = h * np.abs(Xd)  # (k, N)
    absM = np.abs(M)
    nonzero = Xd != 0
    other = ((absM[:, None, :] <= reach[None]) & nonzero[None]).sum(axis=2)
    own = np.zeros(other.shape, dtype=np.int64)
    for c in range(M.shape[0]):
        cols = np.flatnonzero(y == c)
        if len(cols):
            hits = (absM[:, None, cols] <= reach[None][:, :, cols]) & nonzero[None][:, :, cols]
            own[c] = hits.sum(axis=(0, 2))
    return other + own


@_quiet
def svm_fd(W, X, y, reg, delta, h, n_threads):
    N = X.shape[1]
    M = _svm_margins_masked(W, X, y, delta)
    e_plus, e_minus = steps(W, h)
    plus = np.empty(W.shape)
    minus = np.empty(W.shape)
    kinks = np.empty(W.shape, dtype=np.int64)
    for part in _feature_chunks(X.shape[0], W.shape[0], N):
        plus[:, part] = _svm_change(M, X, y, e_plus, part) / N
        minus[:, part] = _svm_change(M, X, y, -e_minus, part) / N
        kinks[:, part] = _svm_kinks(M, X, y, h, part)
    plus += _reg_change(W, e_plus, reg)
    minus += _reg_change(W, -e_minus, reg)
    return plus, minus, kinks


def _softmax_change(P, X, label_sums, E, d_part):
    """sum_i log1p(p_ci expm1(e x)) - e * sum_{i: y_i = c} x: shape (C, k)."""
    Xd = X[d_part]
    Ed = E[:, d_part]
    spread = np.log1p(P[:, None, :] * np.expm1(Ed[:, :, None] * Xd[None, :, :])).sum(axis=2)
    return spread - Ed * label_sums[:, d_part]


@_quiet
def softmax_fd(W, X, y, reg, h, n_threads):
    N = X.shape[1]
    P = np.exp(_log_softmax(_scores_by_blocks(W, X)))
    label_sums = np.zeros(W.shape)  # (C, D): sum of x_d over the examples of each class
    for part, Xb in _blocks(X, None):
        onehot = np.zeros((W.shape[0], Xb.shape[1]))
        onehot[y[part], np.arange(Xb.shape[1])] = 1.0
        label_sums += onehot @ Xb.T
    e_plus, e_minus = steps(W, h)
    plus = np.empty(W.shape)
    minus = np.empty(W.shape)
    for part in _feature_chunks(X.shape[0], W.shape[0], N):
        plus[:, part] = _softmax_change(P, X, label_sums, e_plus, part) / N
        minus[:, part] = _softmax_change(P, X, label_sums, -e_minus, part) / N
    plus += _reg_change(W, e_plus, reg)
    minus += _reg_change(W, -e_minus, reg)
    return plus, minus


# --- losses on a grid of score matrices (lines, planes, many candidates) ----------------------------


def _grid(S0, S1, S2, y, alphas, betas, data_loss):
    out = np.empty((len(alphas), len(betas)))
    for a, alpha in enumerate(alphas):
        base = S0 + alpha * S1
        for b, beta in enumerate(betas):
            out[a, b] = data_loss(base if S2 is None else base + beta * S2, y)
    return out


def _svm_data_loss(delta):
    def loss(S, y):
        return float(np.maximum(_svm_margins(S, y, delta), 0.0).sum()) / S.shape[1]

    return loss


def _softmax_data_loss(S, y):
    return -float(_log_softmax(S)[y, np.arange(S.shape[1])].sum()) / S.shape[1]


@_quiet
def svm_grid(S0, S1, S2, y, alphas, betas, delta, n_threads):
    return _grid(S0, S1, S2, y, alphas, betas, _svm_data_loss(delta))


@_quiet
def softmax_grid(S0, S1, S2, y, alphas, betas, n_threads):
    return _grid(S0, S1, S2, y, alphas, betas, _softmax_data_loss)
