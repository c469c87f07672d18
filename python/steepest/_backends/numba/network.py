"""Numba kernel for :meth:`steepest.network.Network.SGD`: a run of mini-batches in one call.

The NumPy matrix form spends most of a [784, 30, 10] batch-of-10 step in the interpreter overhead of
many small NumPy calls; this kernel does the same arithmetic (BLAS ``np.dot`` for the products, fused
loops for the sigmoid, the deltas and the updates) without returning to the interpreter between
mini-batches. Imported lazily: ``steepest.network`` itself needs only NumPy.

Inputs are validated by ``steepest.network`` (kernels never re-check): ``data`` is the training
inputs, C-contiguous, as rows (N, D) when ``by_rows`` else as columns (D, N); ``targets`` (N, C)
C-contiguous; ``perm`` int64 (N,); ``weights`` / ``biases`` tuples of C-contiguous (n_out, n_in) /
(n_out, 1) arrays of the data's dtype, updated in place. The arithmetic and its order per element
are those of ``Network._backprop_ws`` (the NumPy path): tests compare both with the book's
per-example algorithm.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def sgd_batches(
    data, by_rows, targets, perm, start, stop, m, weights, biases, eta, decay, quadratic
):  # pragma: no cover - compiled
    """Apply the SGD updates of the mini-batches ``perm[k:k+m]`` for k in range(start, stop, m).

    Per mini-batch B (|B| = mm): forward ``a_l = sigmoid(a_{l-1} @ W_l.T + b_l)``; output delta
    ``(a - y) * (a (1 - a))`` (quadratic) or ``a - y``, times ``eta / mm``; backward
    ``d_{l-1} = (d_l @ W_l) * (a (1 - a))`` (with W_l before its update); updates
    ``W_l <- decay * W_l - d_l.T @ a_{l-1}`` (decay applied only when != 1) and
    ``b_l <- b_l - sum_rows(d_l)``.
    """
    n = perm.shape[0]
    L = len(weights)
    C = targets.shape[1]
    D = weights[0].shape[1]
    one = data.dtype.type(1.0)
    for k in range(start, stop, m):
        mm = min(m, n - k)
        x = np.empty((mm, D), data.dtype)
        y = np.empty((mm, C), data.dtype)
        for i in range(mm):
            r = perm[k + i]
            if by_rows:
                for c in range(D):
                    x[i, c] = data[r, c]
            else:
                for c in range(D):
                    x[i, c] = data[c, r]
            for c in range(C):
                y[i, c] = targets[r, c]
        acts = [x]
        for l in range(L):
            z = np.dot(acts[l], weights[l].T)
            b = biases[l]
            for i in range(mm):
                for j in range(z.shape[1]):
                    z[i, j] = one / (one + np.exp(-(z[i, j] + b[j, 0])))
            acts.append(z)
        a = acts[L]
        scale = data.dtype.type(eta / mm)
        d = np.empty((mm, C), data.dtype)
        for i in range(mm):
            for j in range(C):
                if quadratic:
                    d[i, j] = ((a[i, j] - y[i, j]) * ((one - a[i, j]) * a[i, j])) * scale
                else:
                    d[i, j] = (a[i, j] - y[i, j]) * scale
        for l in range(L - 1, -1, -1):
            w = weights[l]
            prev = d
            if l > 0:
                prev = np.dot(d, w)
                h = acts[l]
                for i in range(mm):
                    for j in range(prev.shape[1]):
                        prev[i, j] *= (one - h[i, j]) * h[i, j]
            gw = np.dot(d.T, acts[l])
            if decay != 1.0:
                dec = data.dtype.type(decay)
                for i in range(w.shape[0]):
                    for j in range(w.shape[1]):
                        w[i, j] = w[i, j] * dec - gw[i, j]
            else:
                for i in range(w.shape[0]):
                    for j in range(w.shape[1]):
                        w[i, j] -= gw[i, j]
            b = biases[l]
            for j in range(b.shape[0]):
                s = d[0, j]
                for i in range(1, mm):
                    s += d[i, j]
                b[j, 0] -= s
            d = prev
