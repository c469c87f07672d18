"""The slow, obvious reference of every backend kernel (``steepest._backends.contract.Kernels``).

One function per kernel, same parameters minus ``n_threads``: what the kernel must return, computed
the plainest way there is. The losses and gradients are ``steepest.reference`` (the notes' and the
assignment's literal loops) applied to the gathered columns ``X[:, idx]``; the grids evaluate the
reference loss point by point; the finite differences re-evaluate the loss of the perturbed weights
with the loop's real steps ``(w + h) - w`` and ``w - (w - h)``, example by example, in extended
precision (``np.longdouble``), so that the reference itself has no cancellation error worth the
name; the kink counts visit every hinge term. Everything returns float64 (or int64 counts).

Also the problem builders the tests share (``make_problem``, ``kink_problem``).
"""

from __future__ import annotations

import numpy as np

from steepest import reference

LD = np.longdouble


# ----------------------------------------------------------------------------------------- problems


def make_problem(C=10, D=7, N=1000, dtype=np.float64, seed=0, order="C", scale=1.0, x_scale=1.0):
    """A random linear-classifier problem: W (C, D) ``scale * randn``, X (D, N) ``x_scale * randn``
    in the given memory order, y (N,) int64 labels in [0, C)."""
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((C, D)) * scale).astype(dtype)
    X = (rng.standard_normal((D, N)) * x_scale).astype(dtype)
    if order == "F":
        X = np.asfortranarray(X)
    y = rng.integers(0, C, N).astype(np.int64)
    return W, X, y


def kink_problem(C=4, D=5, N=30, seed=0, order="C", w_step=0.5, w_max=2):
    """Small integers in X (zeros included) and W on a grid of ``w_step`` (``|W| <= w_max * w_step``):
    scores and margins are exact, many margins sit exactly on their kink and many scores tie."""
    rng = np.random.default_rng(seed)
    W = rng.integers(-w_max, w_max + 1, (C, D)) * w_step
    X = rng.integers(-2, 3, (D, N)).astype(np.float64)
    if order == "F":
        X = np.asfortranarray(X)
    y = rng.integers(0, C, N).astype(np.int64)
    return W, X, y


def used(X, y=None, idx=None):
    """The examples a kernel call uses: (``X[:, idx]`` in float64, ``y[idx]``); all of them for None."""
    X = np.asarray(X, dtype=np.float64)
    if idx is None:
        return X, y
    return X[:, idx], (None if y is None else y[idx])


# --------------------------------------------------------------------------------- losses, gradients


def scores(W, X, idx=None):
    """``S = W @ X[:, idx]`` in float64, one example at a time (the notes' ``W.dot(x)``)."""
    W = np.asarray(W, dtype=np.float64)
    Xs, _ = used(X, None, idx)
    S = np.empty((W.shape[0], Xs.shape[1]))
    for i in range(Xs.shape[1]):
        S[:, i] = W.dot(Xs[:, i])
    return S


def svm_loss_grad(W, X, y, idx=None, reg=0.0, delta=1.0):
    """(loss, dW) of the SVM over the examples used: the assignment's ``svm_loss_naive``."""
    Xs, ys = used(X, y, idx)
    return reference.svm_loss_naive(W, Xs, ys, reg, delta)


def softmax_loss_grad(W, X, y, idx=None, reg=0.0):
    """(loss, dW) of the softmax loss over the examples used: the assignment's ``softmax_loss_naive``."""
    Xs, ys = used(X, y, idx)
    return reference.softmax_loss_naive(W, Xs, ys, reg)


# ------------------------------------------------------------- per-example losses in any precision


def svm_example_losses(S, y, delta=1.0):
    """``sum_{j != y_i} max(0, s_j - s_{y_i} + delta)`` for every column of the scores S, in S's
    precision (pass ``np.longdouble`` scores for extended precision)."""
    cols = np.arange(S.shape[1])
    M = S - S[y, cols] + delta
    M[y, cols] = 0
    return np.maximum(M, 0).sum(axis=0)


def softmax_example_losses(S, y):
    """``logsumexp(s) - s_{y_i}`` (max-subtracted) for every column of S, in S's precision."""
    mx = S.max(axis=0)
    return mx + np.log(np.exp(S - mx).sum(axis=0)) - S[y, np.arange(S.shape[1])]


# ----------------------------------------------------------------------------- finite differences


def steps(W, h):
    """The steps the notes' loop really takes: ``(w + h) - w`` and ``w - (w - h)`` (float64)."""
    W = np.asarray(W, dtype=np.float64)
    return (W + h) - W, W - (W - h)


def _fd(example_losses, W, X, y, reg, h):
    """``L(W + e_plus E_cd) - L(W)`` and ``L(W - e_minus E_cd) - L(W)`` for every weight (c, d): the
    loss of the perturbed W re-evaluated and subtracted example by example, in extended precision."""
    W = np.asarray(W, dtype=np.float64)
    WL, XL = W.astype(LD), np.asarray(X, dtype=np.float64).astype(LD)
    N = XL.shape[1]
    S = WL @ XL
    base = example_losses(S)
    e_plus, e_minus = steps(W, h)
    plus, minus = np.empty(W.shape), np.empty(W.shape)
    for c, d in np.ndindex(W.shape):
        w = LD(W[c, d])
        for out, e in ((plus, LD(e_plus[c, d])), (minus, -LD(e_minus[c, d]))):
            row = WL[c].copy()
            row[d] = w + e
            S2 = S.copy()
            S2[c] = row @ XL  # only score c of every example moves
            change = np.sum(example_losses(S2) - base) / N
            out[c, d] = float(change + LD(reg) * (e * (2 * w + e)))
    return plus, minus


def svm_kinks(W, X, y, delta, h):
    """How many hinge terms (i, j), ``j != y_i``, each weight (c, d) moves with ``x = X[d, i] != 0``
    and ``|m_ji| <= h |x|``: every term visited once; a term is moved by W[j, d] and by W[y_i, d]."""
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    S = W @ X
    K = np.zeros(W.shape, dtype=np.int64)
    for i in range(X.shape[1]):
        x = X[:, i]
        for j in range(W.shape[0]):
            if j == y[i]:
                continue
            m = S[j, i] - S[y[i], i] + delta
            near = (x != 0) & (abs(m) <= h * np.abs(x))
            K[j] += near
            K[y[i]] += near
    return K


def svm_fd(W, X, y, reg, delta, h):
    """(plus, minus, kinks) of the SVM: see ``_fd`` and ``svm_kinks``."""
    plus, minus = _fd(lambda S: svm_example_losses(S, y, LD(delta)), W, X, y, reg, h)
    return plus, minus, svm_kinks(W, X, y, delta, h)


def softmax_fd(W, X, y, reg, h):
    """(plus, minus) of the softmax loss: see ``_fd``."""
    return _fd(lambda S: softmax_example_losses(S, y), W, X, y, reg, h)


# ------------------------------------------------------------------------------------------- grids


def _grid(data_loss, S0, S1, S2, alphas, betas):
    out = np.empty((len(alphas), len(betas)))
    for a, alpha in enumerate(alphas):
        for b, beta in enumerate(betas):
            S = S0 + alpha * S1 if S2 is None else S0 + alpha * S1 + beta * S2
            out[a, b] = data_loss(S)
    return out


def svm_data_loss(S, y, delta=1.0):
    """The reference SVM loss (no reg) of the scores S: ``W = I`` and ``X = S``."""
    return reference.svm_loss_vectorized(np.eye(S.shape[0]), S, y, 0.0, delta)[0]


def softmax_data_loss(S, y):
    """The reference softmax loss (no reg) of the scores S: ``W = I`` and ``X = S``."""
    return reference.softmax_loss_vectorized(np.eye(S.shape[0]), S, y, 0.0)[0]


def svm_grid(S0, S1, S2, y, alphas, betas, delta=1.0):
    """The SVM data loss of ``S0 + alphas[a] S1 + betas[b] S2`` point by point."""
    return _grid(lambda S: svm_data_loss(S, y, delta), S0, S1, S2, alphas, betas)


def softmax_grid(S0, S1, S2, y, alphas, betas):
    """The softmax data loss of ``S0 + alphas[a] S1 + betas[b] S2`` point by point."""
    return _grid(lambda S: softmax_data_loss(S, y), S0, S1, S2, alphas, betas)
