"""Numba kernels of Nielsen's network (``steepest.network``, ``steepest.network2``): runs of SGD mini-batches.

:func:`sgd_batches` applies a run of mini-batches in one call, example by example, without returning to the
interpreter and without allocating per mini-batch. Two ideas make it fast at the book's sizes ([784, 30, 10],
mini-batches of 10), where the matrix form is dominated by call overhead:

- **Transposed weights.** Layer ``l`` is held as ``WT`` (n_in, n_out), C-contiguous: the forward pass adds
  ``a[c] * WT[c, :]`` for every input unit ``c`` (contiguous rows, no reduction across a vector, so it vectorizes
  without reassociation), the weight update subtracts ``a[c] * delta`` from the same rows, and the backward
  pass takes ``WT[c, :] . delta``.
- **Sparse inputs.** Inputs are read through a CSR form (:func:`csr`) when at most half their entries are
  non-zero (MNIST: 19%), so the first layer's forward pass and update touch only the rows of ``WT`` whose pixel
  is non-zero. Skipping a zero term changes no sum (``s + 0 * w == s``). Dense inputs are gathered per
  mini-batch from either memory order.

The update rounds as the book's ``update_mini_batch`` does: per-example gradients summed in order into
``nabla_w``, then ``w - (eta/m) * nabla_w``, one rounding of each weight per mini-batch (subtracting each example's
share from the weights directly would round them m times and drift from the book's run several times faster).
What is left different is the order of the sums inside the products (the book's BLAS calls have their own) and the
last bit of about one ``exp`` in twenty (NumPy's vectorized ``exp`` against the C library's), so results agree with
the book to rounding, not bitwise. Inputs are checked by ``steepest.network`` (kernels never re-check).
Arithmetic is in the parameters' dtype, IEEE (no fast-math). Imported lazily: ``steepest.network`` itself needs
only NumPy.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .calls import LAUNCH_WORK, entry


def csr(rows, max_density):
    """CSR form ``(indptr int64 (N+1,), indices int32, values)`` of ``rows`` (N, D), any strides.

    Returns three empty arrays when more than ``max_density`` of the entries are non-zero (use the dense path).
    Both passes are branch-free (a count, then a compaction that writes every entry and advances past the
    non-zero ones), so their speed does not depend on where the zeros are. They run in launches of about
    ``LAUNCH_WORK`` entries and fill arrays allocated here: Ctrl-C is raised between two launches (a kernel
    that returned an array would box it, which runs Python code inside Numba's wrapper: see ``kernels._run``).
    """
    n, d = rows.shape
    step = max(1, LAUNCH_WORK // max(1, d))
    indptr = np.zeros(n + 1, np.int64)
    for r0 in range(0, n, step):
        _csr_count(rows, r0, min(n, r0 + step), indptr)
    nnz = int(indptr[n])
    if nnz > max_density * n * d:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, rows.dtype)
    indices = np.empty(nnz + 1, np.int32)  # + 1: the compaction writes one entry past the last non-zero
    values = np.empty(nnz + 1, rows.dtype)
    for r0 in range(0, n, step):
        _csr_fill(rows, r0, min(n, r0 + step), indptr, indices, values)
    return indptr, indices[:nnz], values[:nnz]


@entry
@njit(cache=True, nogil=True)
def _csr_count(rows, r0, r1, indptr):  # pragma: no cover - compiled
    """``indptr[r + 1] = indptr[r] + (non-zeros of row r)`` for ``r0 <= r < r1``."""
    d = rows.shape[1]
    for r in range(r0, r1):
        c = 0
        for j in range(d):
            c += rows[r, j] != 0
        indptr[r + 1] = indptr[r] + c


@entry
@njit(cache=True, nogil=True)
def _csr_fill(rows, r0, r1, indptr, indices, values):  # pragma: no cover - compiled
    """The columns and values of the non-zeros of rows ``r0 .. r1`` at ``indptr[r0]`` on (every entry is
    written and the position advances past the non-zero ones; the next row or launch overwrites the rest)."""
    d = rows.shape[1]
    p = indptr[r0]
    for r in range(r0, r1):
        for j in range(d):
            v = rows[r, j]
            indices[p] = j
            values[p] = v
            p += v != 0


@njit(nogil=True, inline="always")
def _accumulate(out, cols, vals, WT):  # pragma: no cover - compiled
    """``out += sum_p vals[p] * WT[cols[p], :]``, four rows at a time (a shorter dependency chain through out)."""
    h = out.shape[0]
    n = cols.shape[0]
    p = 0
    while p + 4 <= n:
        v0, v1, v2, v3 = vals[p], vals[p + 1], vals[p + 2], vals[p + 3]
        w0, w1, w2, w3 = WT[cols[p]], WT[cols[p + 1]], WT[cols[p + 2]], WT[cols[p + 3]]
        for j in range(h):
            out[j] += (v0 * w0[j] + v1 * w1[j]) + (v2 * w2[j] + v3 * w3[j])
        p += 4
    while p < n:
        v0 = vals[p]
        w0 = WT[cols[p]]
        for j in range(h):
            out[j] += v0 * w0[j]
        p += 1


@njit(nogil=True, inline="always")
def _forward(cols, vals, weights_t, biases, acts, ar, z_last):  # pragma: no cover - compiled
    """One example through every layer: ``acts[l, :n_out] = sigmoid(a_{l-1} @ WT_l + b_l)``, the input given by
    its non-zero entries ``vals`` at ``cols`` (``ar`` is ``arange``, the columns of a dense hidden layer); the last
    layer's weighted input goes to ``z_last`` too."""
    one = acts.dtype.type(1.0)
    L = len(weights_t)
    for l in range(L):
        WT = weights_t[l]
        b = biases[l]
        n_in, n_out = WT.shape
        out = acts[l, :n_out]
        for j in range(n_out):
            out[j] = 0
        if l == 0:
            _accumulate(out, cols, vals, WT)
        else:
            _accumulate(out, ar[:n_in], acts[l - 1, :n_in], WT)
        for j in range(n_out):
            z = out[j] + b[j]
            if l == L - 1:
                z_last[j] = z
            out[j] = one / (one + np.exp(-z))


def forward_sparse(indptr, indices, values, weights_t, biases, a_out, z_out):
    """The outputs of every example of a CSR data set: ``a_out`` (N, C) activations and ``z_out`` (N, C) weighted
    inputs of the last layer, the arithmetic of :func:`sgd_batches`' forward pass. One thread: at about 1 us an
    example this is a few percent of an epoch, and on a loaded 2-core machine Numba's threads made it slower.
    Launches of about ``LAUNCH_WORK`` multiply-adds, so Ctrl-C is raised between two of them."""
    n = a_out.shape[0]
    per_row = indices.shape[0] // max(1, n) * weights_t[0].shape[1] + sum(w.size for w in weights_t[1:])
    step = max(1, LAUNCH_WORK // max(1, per_row))
    for r0 in range(0, n, step):
        _forward_rows(indptr, indices, values, weights_t, biases, a_out, z_out, r0, min(n, r0 + step))


@entry
@njit(cache=True, nogil=True)
def _forward_rows(indptr, indices, values, weights_t, biases, a_out, z_out, r0, r1):  # pragma: no cover - compiled
    """:func:`forward_sparse` of the examples ``r0 .. r1``."""
    C = a_out.shape[1]
    L = len(weights_t)
    maxw = 1
    for l in range(L):
        maxw = max(maxw, weights_t[l].shape[1])
    ar = np.arange(max(weights_t[0].shape[0], maxw)).astype(np.int32)
    acts = np.zeros((L, maxw), a_out.dtype)
    for r in range(r0, r1):
        cols = indices[indptr[r] : indptr[r + 1]]
        _forward(cols, values[indptr[r] : indptr[r + 1]], weights_t, biases, acts, ar, z_out[r])
        for j in range(C):
            a_out[r, j] = acts[L - 1, j]


@entry
@njit(cache=True, nogil=True)
def sgd_batches(
    indptr, indices, values, dense, by_rows, targets, perm, start, stop, m, weights_t, biases, eta, decay, quadratic
):  # pragma: no cover - compiled
    """Apply the SGD updates of the mini-batches ``perm[k:k+m]`` for k in range(start, stop, m).

    Inputs: the CSR arrays of the training inputs when ``indptr`` is not empty, else ``dense``, C-contiguous rows
    (N, D) when ``by_rows`` or columns (D, N). ``targets`` (N, C) C-contiguous; ``perm`` int64 (N,);
    ``weights_t`` a tuple of (n_in, n_out) C-contiguous transposed weights and ``biases`` of (n_out,) vectors,
    updated in place.

    Per mini-batch B (|B| = mm), the book's arithmetic: every example first, with the weights from before the
    mini-batch: forward ``a_l = sigmoid(a_{l-1} @ WT_l + b_l)``; output delta ``(a - y) * ((1 - a) a)``
    (quadratic) or ``a - y`` (cross-entropy); backward ``d_{l-1} = (WT_l @ d_l) * ((1 - a) a)``. The gradients
    are summed over the examples in their order, from zero (``nabla_w``, ``nabla_b``), then
    ``W <- decay * W - (eta / mm) * nabla_w`` (the product by decay only when it is not 1) and
    ``b <- b - (eta / mm) * nabla_b``: the rounding of the book's ``update_mini_batch``. With sparse inputs only
    the rows of the first layer's gradient whose pixel is non-zero somewhere in the mini-batch are summed and
    applied (the others are exactly zero in the book too).
    """
    n = perm.shape[0]
    L = len(weights_t)
    dt = targets.dtype
    one = dt.type(1.0)
    sparse = indptr.shape[0] > 0
    D = weights_t[0].shape[0]
    C = targets.shape[1]
    maxw = 1
    for l in range(L):
        maxw = max(maxw, weights_t[l].shape[1])
    acts = np.zeros((L, m, maxw), dt)
    deltas = np.zeros((L, m, maxw), dt)
    grads = [np.zeros((weights_t[l].shape[0], weights_t[l].shape[1]), dt) for l in range(L)]
    mark = np.full(D, -1, np.int64)  # mark[c] == k: row c of the first layer's gradient is in use in batch k
    touched = np.empty(D, np.int64)
    ar = np.arange(max(D, maxw)).astype(np.int32)
    xb = np.zeros((m, D if not sparse else 1), dt)
    dec = dt.type(decay)
    z_last = np.zeros(C, dt)
    for k in range(start, stop, m):
        mm = min(m, n - k)
        step = dt.type(eta / mm)
        if not sparse:
            for i in range(mm):
                r = perm[k + i]
                if by_rows:
                    for c in range(D):
                        xb[i, c] = dense[r, c]
                else:
                    for c in range(D):
                        xb[i, c] = dense[c, r]
        # forward and backward, example by example, with the weights from before the mini-batch
        for i in range(mm):
            r = perm[k + i]
            if sparse:
                cols = indices[indptr[r] : indptr[r + 1]]
                _forward(cols, values[indptr[r] : indptr[r + 1]], weights_t, biases, acts[:, i], ar, z_last)
            else:
                _forward(ar[:D], xb[i], weights_t, biases, acts[:, i], ar, z_last)
            a = acts[L - 1, i, :C]
            d = deltas[L - 1, i, :C]
            for j in range(C):
                if quadratic:
                    d[j] = (a[j] - targets[r, j]) * ((one - a[j]) * a[j])
                else:
                    d[j] = a[j] - targets[r, j]
            for l in range(L - 1, 0, -1):
                WT = weights_t[l]
                n_in, n_out = WT.shape
                d = deltas[l, i, :n_out]
                prev = deltas[l - 1, i, :n_in]
                h = acts[l - 1, i, :n_in]
                for c in range(n_in):
                    w = WT[c]
                    s = w[0] * d[0]
                    for j in range(1, n_out):
                        s += w[j] * d[j]
                    prev[c] = s * ((one - h[c]) * h[c])
        # the gradients, summed over the examples in order, then the updates
        for l in range(L):
            WT = weights_t[l]
            G = grads[l]
            b = biases[l]
            n_in, n_out = WT.shape
            if l == 0 and sparse:
                nt = 0
                for i in range(mm):
                    r = perm[k + i]
                    d = deltas[0, i, :n_out]
                    for p in range(indptr[r], indptr[r + 1]):
                        c = indices[p]
                        v = values[p]
                        g = G[c]
                        if mark[c] != k:
                            mark[c] = k
                            touched[nt] = c
                            nt += 1
                            for j in range(n_out):
                                g[j] = v * d[j]
                        else:
                            for j in range(n_out):
                                g[j] += v * d[j]
                if decay != 1.0:
                    for c in range(n_in):
                        for j in range(n_out):
                            WT[c, j] *= dec
                for t in range(nt):
                    w = WT[touched[t]]
                    g = G[touched[t]]
                    for j in range(n_out):
                        w[j] -= step * g[j]
            else:
                for c in range(n_in):
                    for j in range(n_out):
                        G[c, j] = 0
                for i in range(mm):
                    d = deltas[l, i, :n_out]
                    src = xb[i] if l == 0 else acts[l - 1, i, :n_in]
                    for c in range(n_in):
                        v = src[c]
                        g = G[c]
                        for j in range(n_out):
                            g[j] += v * d[j]
                for c in range(n_in):
                    w = WT[c]
                    g = G[c]
                    if decay != 1.0:
                        for j in range(n_out):
                            w[j] = w[j] * dec - step * g[j]
                    else:
                        for j in range(n_out):
                            w[j] -= step * g[j]
            for j in range(n_out):
                s = deltas[l, 0, j]
                for i in range(1, mm):
                    s += deltas[l, i, j]
                b[j] -= step * s
