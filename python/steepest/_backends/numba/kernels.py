"""Numba backend: the kernels of ``_backends.contract`` (``Kernels``) compiled with ``numba.njit``.

Every function here takes inputs already validated by ``steepest._validate`` and never re-checks
them. Conventions (the contract's, and how this backend keeps them):

- ``W`` (C, D) C-contiguous; ``X`` (D, N) of W's dtype, C- *or* F-contiguous, read in place (a
  C-ordered X is copied a tile of 32 examples at a time into small float64 buffers, never whole).
- All sums accumulate in float64, also for float32 inputs; losses are Python floats, gradients
  have W's dtype.
- Determinism: the examples are cut into blocks whose size is set by the problem size, never by the
  thread count (``BLOCK``, ``FD_BLOCK``; smaller blocks for mini-batches: ``_block_size``); each
  block writes its own partial (loss, dW) slot and the slots are summed in block order. Results
  are bitwise identical for any ``n_threads`` and across calls.
- No fast-math flags except ``reassoc``/``contract`` on the fixed-length dot products of
  ``tiles.dot20`` (scores of F-ordered X): their lane split is fixed at compile time,
  independent of the data and the thread count. Every other summation order is the one written in
  the source (see ``tiles`` for how the loops still vectorize without reassociation).

Cost: ``svm_loss_grad`` / ``softmax_loss_grad`` and ``svm_fd`` / ``softmax_fd`` read X once (the
finite differences from the gradient sum plus kink corrections, or from moment sums: ``fd``);
the grids never touch X.
"""

from __future__ import annotations

import threading

import numba
import numpy as np
from numba import njit, prange

from .. import numpy as numpy_backend
from .._shared import stacked_train_kernels, steps
from .calls import LAUNCH_WORK, entry
from .fd import FD_BLOCK, fd_outputs, softmax_fd_blocks, svm_fd_blocks
from .tiles import (
    TILE,
    exp_nonpos,
    fold_sum,
    rows_grad,
    rows_scores,
    softmax_tile,
    sum_blocks,
    svm_tile,
    tile_buffers,
    tile_loss,
    tile_rows,
)

__all__ = [
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
]

#: Examples per block of the loss / gradient kernels (one (C, D) float64 partial per block).
BLOCK = 512
#: The fewest examples per block of a mini-batch (``_block_size``).
MIN_BLOCK = 64
#: Examples per partial-sum row of the grid kernels (a fixed block, whatever the thread count) ...
_GRID_BLOCK = 1024
#: ... processed in cache-resident sub-blocks (a power of two: the lanes are summed by fold_sum).
_GRID_SUB = 128

_SVM, _SOFTMAX = 0, 1

#: Multiply-adds a thread must get before a second one is woken. Below it a call runs on the calling
#: thread alone: waking workers costs more than the work, and on busy cores the OpenMP layer's
#: workers spin-wait for a core (a digits-sized pass then takes milliseconds instead of 0.2 ms).
WORK_PER_THREAD = 4_000_000

# Numba's default "workqueue" threading layer must not be entered by two Python threads at once
# (it aborts the process). Every parallel launch therefore holds this lock. It is correct and
# cannot deadlock: it is only taken here, around the launches of one pass, which never call back
# into Python or take another lock, so a holder always releases it (a with block), and the
# kernels are nogil, so waiting threads do not block the holder.
_launch_lock = threading.Lock()


def _run(kernel, n_threads, n_units, unit_work, *args):
    """Run ``kernel(lo, hi, *args)`` over the parallel units ``0 .. n_units`` (blocks, tiles, tasks) of
    about ``unit_work`` multiply-adds each, with ``n_threads`` threads (clamped to Numba's pool size, to
    the units of a launch and to the units the work keeps busy: waking idle workers for one block costs
    far more than the block), under the launch lock; this thread's Numba thread count is restored.

    Ctrl-C: Python raises KeyboardInterrupt between two bytecodes, never inside a kernel, so a pass is
    cut into launches of about ``LAUNCH_WORK`` per thread and Ctrl-C is seen within one launch. Every
    unit writes its own output slot, preallocated by the caller, so any cut gives the same bits. A
    kernel returns nothing: boxing a returned array calls Python code inside Numba's wrapper, where the
    pending KeyboardInterrupt would be raised and turned into a SystemError.
    """
    n_units = int(n_units)
    threads = max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS, _units(n_units, n_units * unit_work)))
    step = max(threads, LAUNCH_WORK * threads // max(1, int(unit_work)))
    with _launch_lock:
        previous = numba.get_num_threads()
        try:
            for lo in range(0, n_units, step):
                hi = min(n_units, lo + step)
                numba.set_num_threads(min(threads, hi - lo))
                kernel(lo, hi, *args)
        finally:
            # the Ctrl-C that arrived during a kernel may be raised in this call (at its first bytecode):
            # repeat it until it completes, then let the KeyboardInterrupt go on
            stopped = False
            while True:
                try:
                    numba.set_num_threads(previous)
                    break
                except KeyboardInterrupt:
                    stopped = True
            if stopped:
                raise KeyboardInterrupt


def _run_blocks(kernel, n_threads, nb, block, example_work, *args):
    """:func:`_run` over ``nb`` blocks of ``block`` examples of about ``example_work`` multiply-adds each: the
    kernel is called as ``kernel(lo, hi, s0, s1, *args)`` for the examples ``s0 .. s1`` of each block. A block
    with more work than a launch is taken in spans of whole tiles, one launch after the other, in order."""
    span = block
    if block * example_work > LAUNCH_WORK:
        span = min(block, max(TILE, LAUNCH_WORK // max(1, int(example_work)) // TILE * TILE))
    for s0 in range(0, block, span):
        _run(kernel, n_threads, nb, span * example_work, s0, min(block, s0 + span), *args)


def threading_layer() -> str:
    """Numba's threading layer: the one running (after the first parallel launch), else the one asked
    for (``NUMBA_THREADING_LAYER``, "default": Numba picks tbb, then omp, then workqueue)."""
    try:
        return str(numba.threading_layer())
    except ValueError:  # no parallel launch yet
        return f"{numba.config.THREADING_LAYER} (not started yet)"


def _units(blocks: int, work: int) -> int:
    """The parallel units a launch may use: its blocks, but no more threads than its work keeps busy."""
    return max(1, min(int(blocks), int(work) // WORK_PER_THREAD))


def _blocks(n: int, size: int) -> int:
    return (int(n) + size - 1) // size


def _block_size(B: int) -> int:
    """Examples per block of a loss / gradient pass over B examples: BLOCK for long passes; a
    mini-batch is cut into a power of two of equal blocks (at most 8, at least MIN_BLOCK examples
    each; sizes rounded up to 8), which Numba's static schedule shares out evenly between 2, 4 or 8
    threads: B = 200 is 104 + 96 examples, not 7 blocks of 32 that split 128 + 72 over two threads
    (the step took 28 % longer). Fixed by B alone, so the result never depends on the thread count."""
    nb = 1
    while nb < 8 and 2 * nb * MIN_BLOCK <= B:
        nb *= 2
    return min(BLOCK, _blocks(_blocks(B, nb), 8) * 8)


def _layout(X):
    """(Xc, Xr, c_order): X itself when C-ordered, else its transpose (N, D), C-ordered too."""
    empty = np.empty((0, 0), dtype=X.dtype)
    if X.flags.c_contiguous:
        return X, empty, True
    return empty, X.T, False


def _ids(X, idx):
    return np.arange(X.shape[1], dtype=np.int64) if idx is None else idx


@entry
@njit(cache=True, nogil=True)
def _sumsq(W):
    """``sum(W * W)`` in float64: four interleaved partial sums over the flat index (a fixed order,
    without one long chain of dependent adds)."""
    flat = W.ravel()
    n = flat.shape[0]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    n4 = n - n % 4
    for j in range(0, n4, 4):
        w0 = np.float64(flat[j])
        w1 = np.float64(flat[j + 1])
        w2 = np.float64(flat[j + 2])
        w3 = np.float64(flat[j + 3])
        s0 += w0 * w0
        s1 += w1 * w1
        s2 += w2 * w2
        s3 += w3 * w3
    for j in range(n4, n):
        w0 = np.float64(flat[j])
        s0 += w0 * w0
    return (s0 + s1) + (s2 + s3)


@entry
@njit(cache=True, nogil=True, parallel=True)
def _scores_kernel(lo, hi, W64, Xc, Xr, c_order, ids_all, out):
    """Scores of the tiles ``lo .. hi`` of TILE examples into their columns of ``out``."""
    C, D = W64.shape
    B = ids_all.shape[0]
    for b in prange(lo, hi):
        xr, iota = tile_buffers(Xc, c_order, D)
        St = np.empty((C, TILE))
        i0 = b * TILE
        t = min(TILE, B - i0)
        R, rid = tile_rows(Xc, Xr, c_order, ids_all[i0 : i0 + t], xr, iota)
        rows_scores(W64, R, rid, t, St)
        for c in range(C):
            for k in range(t):
                out[c, i0 + k] = St[c, k]


@entry
@njit(cache=True, nogil=True, parallel=True)
def _loss_grad_kernel(lo, hi, s0, s1, W64, models, Xc, Xr, c_order, y, ids_all, kind, delta, block, losses, grads):
    """Add each model's data loss to ``losses[b, m]`` and, if ``grads`` has rows, dL/dW to ``grads[b]``
    (K C, D) of the examples ``s0 .. s1`` of each block ``lo <= b < hi`` of ``block`` examples (both zeroed
    by the caller; a block taken in several spans, in order, sums in the order of one pass). ``W64`` stacks
    ``models`` models of C rows each (the hyper-parameter grid; 1 for a single model): the examples are
    read once for all of them, and each model's rows get exactly the operations they get alone.

    F-ordered X (examples contiguous): scores are dot products of W's rows with X's columns read in
    place, the gradient eight axpys per pass over the block's dW; nothing is copied. C-ordered X:
    a tile of TILE examples is gathered and transposed into the rows ``xr`` (``tile_rows``), which both
    read the same way, so the result is bitwise the F-ordered one.
    """
    KC, D = W64.shape
    C = KC // models
    B = ids_all.shape[0]
    want_grad = grads.shape[0] > 0
    for b in prange(lo, hi):
        xr, iota = tile_buffers(Xc, c_order, D)
        St = np.empty((KC, TILE))
        coef = np.empty((KC, TILE))
        b1 = min(B, b * block + s1)
        for i0 in range(b * block + s0, b1, TILE):
            t = min(TILE, b1 - i0)
            ids = ids_all[i0 : i0 + t]
            R, rid = tile_rows(Xc, Xr, c_order, ids, xr, iota)
            # model by model: its rows of W (then of dW) stay in L2 while the whole tile uses them
            for m in range(models):
                rows = slice(m * C, (m + 1) * C)
                losses[b, m] += tile_loss(kind == _SVM, W64[rows], R, rid, y, ids, t, delta, St[rows], coef[rows])
                if want_grad:
                    rows_grad(coef[rows], R, rid, t, grads[b, rows])


@entry
@njit(cache=True, nogil=True, parallel=True)
def _models_kernel(lo, hi, W64, C, Xc, Xr, c_order, y, ids_all, kind, delta, block, losses, G):
    """The stacked pass of a mini-batch, parallel over the models ``lo <= m < hi`` instead of over blocks:
    model m's data loss into ``losses[m]`` and its gradient sum into ``G[m C : (m + 1) C]``, block after
    block, each block's partial summed in block order as ``sum_blocks`` sums the partials of
    ``_loss_grad_kernel`` (bitwise the same results), so only one partial per thread is ever stored, not
    one per block and model (the grid's 25 models x 8 blocks of a 1000-example batch would be 49 MB)."""
    D = W64.shape[1]
    B = ids_all.shape[0]
    nb = (B + block - 1) // block
    for m in prange(lo, hi):
        xr, iota = tile_buffers(Xc, c_order, D)
        St = np.empty((C, TILE))
        coef = np.empty((C, TILE))
        part = np.empty((C, D))
        Wm = W64[m * C : (m + 1) * C]
        Gm = G[m * C : (m + 1) * C]
        Gm[:, :] = 0.0
        total = 0.0
        for b in range(nb):
            part[:, :] = 0.0
            block_loss = 0.0
            for i0 in range(b * block, min(B, (b + 1) * block), TILE):
                t = min(TILE, B - i0, (b + 1) * block - i0)
                ids = ids_all[i0 : i0 + t]
                R, rid = tile_rows(Xc, Xr, c_order, ids, xr, iota)
                block_loss += tile_loss(kind == _SVM, Wm, R, rid, y, ids, t, delta, St, coef)
                rows_grad(coef, R, rid, t, part)
            total += block_loss
            for c in range(C):
                g = Gm[c]
                p = part[c]
                for d in range(D):
                    g[d] += p[d]
        losses[m] = total


#: Stacked rows from which a mini-batch's pass is two matrix products in NumPy's BLAS, the scores and
#: then the gradient, as the cpp core's panel pass is (its threshold: 4 panels of 24 rows). Below it the
#: models run one by one through ``_models_kernel`` (each bitwise its single-model pass); above, each
#: differs from it by rounding only. Model by model, the grid's step (25 models x 10 classes) took
#: several times the cpp panel pass: Numba cannot hold a panel product's 24 sums in registers.
_PRODUCT_MIN_ROWS = 96


@entry
@njit(cache=True, nogil=True, parallel=True)
def _rules_kernel(lo, hi, S, C, y, ids, kind, delta, losses, coef):
    """Models ``lo <= m < hi`` of the batch's stacked scores S (K C, B): the data loss of model m summed
    over the batch, tile by tile in order, into ``losses[m]``, and its coefficients dL/ds into its rows
    of ``coef``, by the rules of ``svm_tile`` / ``softmax_tile``."""
    B = S.shape[1]
    for m in prange(lo, hi):
        St = np.empty((C, TILE))
        ct = np.empty((C, TILE))
        total = 0.0
        for i0 in range(0, B, TILE):
            t = min(TILE, B - i0)
            St[:, :t] = S[m * C : (m + 1) * C, i0 : i0 + t]
            if kind == _SVM:
                total += svm_tile(St, y, ids[i0 : i0 + t], t, delta, ct)
            else:
                total += softmax_tile(St, y, ids[i0 : i0 + t], t, ct)
            coef[m * C : (m + 1) * C, i0 : i0 + t] = ct[:, :t]
        losses[m] = total


def _stacked_products(kind, W64, K, C, X, y, idx, delta, n_threads):
    """The stacked pass of a mini-batch as two float64 products: S = W64 @ X_B, the rules, then
    G = coef @ X_B^T; returns the data-loss sums (K,) and G (K C, D), sums over the B examples."""
    ids = _ids(X, idx)
    D, B = X.shape[0], ids.shape[0]
    # (D, B), gathered once for both products (fancy indexing: np.take with out= on an F-ordered X
    # took seconds); the products write into this thread's arrays, as BLAS would into fresh ones
    XB = np.asarray(X[:, ids], dtype=np.float64)
    S = np.matmul(W64, XB, out=_work_array("scores", (W64.shape[0], B)))
    data = np.empty(K)
    coef = _work_array("coef", S.shape)
    _run(_rules_kernel, n_threads, K, 4 * C * B, S, C, y, ids, kind, float(delta), data, coef)
    return data, np.matmul(coef, XB.T, out=_work_array("gradient", (W64.shape[0], D)))


def _data_pass(kind, W64, models, X, y, idx, delta, want_grad, n_threads):
    """One pass over the examples for ``models`` models stacked in ``W64`` (K C, D) float64: each model's
    data loss, summed over the blocks in block order (K,), and the gradient of the data losses (K C, D),
    float64, or None: this thread's kept array (``_work_array``), valid until its next pass."""
    Xc, Xr, c_order = _layout(X)
    ids = _ids(X, idx)
    B = ids.shape[0]
    block = _block_size(B)
    nb = _blocks(B, block)
    losses = np.zeros((nb, models))
    grads = _zeroed_partials((nb if want_grad else 0,) + W64.shape)
    _run_blocks(
        _loss_grad_kernel,
        n_threads,
        nb,
        block,
        W64.size * (2 if want_grad else 1),
        W64,
        models,
        Xc,
        Xr,
        c_order,
        y,
        ids,
        kind,
        float(delta),
        block,
        losses,
        grads,
    )
    data = np.zeros(models)
    for part in losses:  # block order
        data += part
    data /= B
    if not want_grad:
        return data, None
    G = _work_array("data_gradient", (W64.size,))  # read by the caller before this thread's next pass
    sum_blocks(grads.reshape(grads.shape[0], W64.size), G, 1.0 / B)
    return data, G.reshape(W64.shape)


def _loss_grad(kind, W, X, y, idx, reg, delta, want_grad, n_threads):
    W64 = np.ascontiguousarray(W, dtype=np.float64)
    data, G = _data_pass(kind, W64, 1, X, y, idx, delta, want_grad, n_threads)
    loss = float(data[0]) + (reg * _sumsq(W64) if reg else 0.0)  # never 0 * inf
    if G is None:
        return loss, None
    dW = np.empty(W.shape, W.dtype)
    _add_penalty_gradient(G, 2.0 * reg, W64, dW)
    return loss, dW


@entry
@njit(cache=True, nogil=True)
def _add_penalty_gradient(G, two_reg, W64, dW):
    """``dW = G + two_reg * W64`` in float64, stored in dW's dtype: NumPy's ``(G + (2 reg) * W64).astype``
    in one pass, without its two temporaries of W's size."""
    g = G.ravel()
    w = W64.ravel()
    out = dW.ravel()
    for r in range(g.shape[0]):
        out[r] = g[r] + two_reg * w[r]


class _Scratch(threading.local):
    """This thread's work arrays, kept between calls and named by their use. A mini-batch step would
    otherwise map fresh arrays of hundreds of kilobytes (the grid's: megabytes) every call, whose page
    faults cost more than the arithmetic they hold. One call at a time uses a thread's arrays."""

    def __init__(self):
        self.arrays = {}


_scratch = _Scratch()
_SCRATCH_MAX = (16 << 20) // 8  # float64 values: larger arrays are fresh each call, not kept


def _work_array(name, shape):
    """A float64 array of ``shape`` (contents undefined): this thread's array ``name`` when it fits."""
    n = int(np.prod(shape))
    if n > _SCRATCH_MAX:
        return np.empty(shape)
    kept = _scratch.arrays.get(name)
    if kept is None or kept.size < n:
        kept = _scratch.arrays[name] = np.empty(n)
    return kept[:n].reshape(shape)


def _zeroed_partials(shape):
    """Zeros of ``shape`` for the per-block gradient partials."""
    out = _work_array("partials", shape)
    out.fill(0.0)
    return out


@entry
@njit(cache=True, nogil=True, parallel=True)
def _finish_models(lo, hi, W, W64, regs, data, G, B, dW, step_sizes, out, losses):
    """Models ``lo <= m < hi`` of a stacked pass, from their data-loss sums ``data`` and gradient sums ``G``
    (K C, D) over B examples (B = 1: already means): ``losses[m]``, and ``dW[m]`` or, when ``out`` has
    rows, the training step ``out[m] = W[m] + step_sizes[m] * dW[m]``. The operations of ``_loss_grad``
    on one model (``data / B``, ``G * (1 / B) + 2 reg W`` rounded to W's dtype) and, for the step, of
    NumPy's ``dW *= step_sizes; np.add(W, dW, out=out)``, so every result is bitwise theirs."""
    K, C, D = W.shape
    inv_B = 1.0 / B
    stepping = out.shape[0] > 0
    for m in prange(lo, hi):
        reg = regs[m]
        penalty = reg * _sumsq(W64[m * C : (m + 1) * C]) if reg != 0.0 else 0.0
        losses[m] = data[m] / B + penalty
        two_reg = 2.0 * reg
        row = np.empty(D, W.dtype)  # dW's row in W's dtype, as NumPy would store it
        for c in range(C):
            r = m * C + c
            for d in range(D):
                row[d] = G[r, d] * inv_B + two_reg * W64[r, d]
            if stepping:
                for d in range(D):
                    row[d] = row[d] * step_sizes[m]
                    out[m, c, d] = W[m, c, d] + row[d]
            else:
                dW[m, c, :] = row


def _stacked_loss_grad(kind, W, X, y, idx, regs, delta, n_threads, step_sizes=None, out=None):
    """K models (W (K, C, D)) in one pass over the examples; model m's loss and gradient are bitwise
    ``_loss_grad`` of W[m] with regs[m] (a mini-batch of many models: up to rounding, see
    ``_PRODUCT_MIN_ROWS``; one model is always bitwise its own, the contract's K = 1). With
    ``step_sizes`` and ``out``: (losses, None), the training step written into out (the contract's
    ``svm_stacked_loss_grad``)."""
    K, C, D = W.shape
    W64 = np.ascontiguousarray(W, dtype=np.float64).reshape(K * C, D)
    B = y.shape[0] if idx is None else idx.shape[0]
    several = K > 1 and 2 * B * C * D <= LAUNCH_WORK  # a mini-batch of several models
    if several and K * C >= _PRODUCT_MIN_ROWS:  # many models: two products
        data, G = _stacked_products(kind, W64, K, C, X, y, idx, delta, n_threads)
        scale = float(B)
    elif several:  # a model is one short unit of work
        Xc, Xr, c_order = _layout(X)
        data = np.empty(K)
        G = np.empty((K * C, D))
        args = (W64, C, Xc, Xr, c_order, y, _ids(X, idx), kind, float(delta), _block_size(B), data, G)
        _run(_models_kernel, n_threads, K, 2 * B * C * D, *args)
        scale = float(B)
    else:  # a long pass, or one model (the loops' step: its mini-batch split between the threads)
        data, G = _data_pass(kind, W64, K, X, y, idx, delta, True, n_threads)
        scale = 1.0  # already means
    losses = np.empty(K)
    stepping = out is not None
    dW = np.empty((0, C, D) if stepping else W.shape, W.dtype)
    out_rows = out if stepping else np.empty((0, C, D), W.dtype)
    step_sizes = step_sizes if stepping else np.empty(0)
    # a pass over 3-4 arrays of the models' size: memory-bound, worth about 16 multiply-adds an entry
    _run(_finish_models, n_threads, K, 16 * C * D, W, W64, regs, data, G, scale, dW, step_sizes, out_rows, losses)
    return losses, (None if stepping else dW)


def scores(W, X, idx, n_threads):
    """``S = W @ X[:, idx]`` (C, B) in W's dtype, accumulated in float64. One pass over X."""
    Xc, Xr, c_order = _layout(X)
    ids = _ids(X, idx)
    out = np.empty((W.shape[0], ids.shape[0]), dtype=W.dtype)
    _run(
        _scores_kernel,
        n_threads,
        _blocks(ids.shape[0], TILE),
        TILE * W.size,
        np.ascontiguousarray(W, dtype=np.float64),
        Xc,
        Xr,
        c_order,
        ids,
        out,
    )
    return out


def svm_loss_grad(W, X, y, idx, reg, delta, want_grad, n_threads):
    """Multiclass SVM loss ``(1/B) sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + delta) + reg sum(W*W)``
    and its gradient (or None). One pass over X."""
    return _loss_grad(_SVM, W, X, y, idx, reg, delta, want_grad, n_threads)


def softmax_loss_grad(W, X, y, idx, reg, want_grad, n_threads):
    """Softmax loss ``(1/B) sum_i (logsumexp(s_i) - s_{y_i}) + reg sum(W*W)`` and its gradient
    (or None). One pass over X."""
    return _loss_grad(_SOFTMAX, W, X, y, idx, reg, 1.0, want_grad, n_threads)


def svm_stacked_loss_grad(W, X, y, idx, regs, delta, n_threads, step_sizes=None, out=None):
    """K stacked models, the examples read once for all (see ``_loss_grad_kernel``)."""
    return _stacked_loss_grad(_SVM, W, X, y, idx, regs, delta, n_threads, step_sizes, out)


def softmax_stacked_loss_grad(W, X, y, idx, regs, n_threads, step_sizes=None, out=None):
    """K stacked softmax models, the examples read once for all."""
    return _stacked_loss_grad(_SOFTMAX, W, X, y, idx, regs, 1.0, n_threads, step_sizes, out)


# S training steps: one stacked call a step (the numpy backend takes them the same way)
svm_stacked_train, softmax_stacked_train = stacked_train_kernels(svm_stacked_loss_grad, softmax_stacked_loss_grad)


# The losses alone of many stacked models (random search's 64 candidates x 10 classes against 50,000
# examples) are one large matrix product: NumPy's BLAS (the numpy backend) runs it in 1.35 s, this
# backend's tile loops in 3.4-3.8 s (2.6x the cpp core's 1.3-1.4 s), so these two kernels are the numpy ones.
svm_stacked_losses = numpy_backend.svm_stacked_losses
softmax_stacked_losses = numpy_backend.softmax_stacked_losses


def _reg_change(W, reg, e):
    if reg == 0:  # no penalty: not 0 * inf where e * (2w + e) overflows for huge w
        return np.zeros_like(W)
    return reg * (e * (2.0 * W + e))


def svm_fd(W, X, y, reg, delta, h, n_threads):
    """Exact ``L(W + e_plus E_cd) - L(W)`` and ``L(W - e_minus E_cd) - L(W)`` of the SVM for every
    weight, and the number of hinge terms each weight moves across its kink within ``[-h, h]``.
    float64; one pass over X: ``e * G`` (G the gradient sum) plus exact corrections of the terms
    within reach of their kink (``fd``). Returns (plus, minus, kinks int64)."""
    W = np.ascontiguousarray(W, dtype=np.float64)
    C, D = W.shape
    N = y.shape[0]
    eP, eM = steps(W, h)
    # a term can change non-linearly, or count as a kink, only if |m| <= max(|e|, h) |x|
    reach = max(float(np.max(np.abs(eP))), float(np.max(np.abs(eM))), float(h)) * (1.0 + 1e-12)
    Xc, Xr, c_order = _layout(X)
    nb = _blocks(N, FD_BLOCK)
    G, P, M, K, used = outputs = fd_outputs(nb, C, D, svm=True)
    _run_blocks(
        svm_fd_blocks,
        n_threads,
        nb,
        FD_BLOCK,
        2 * C * D,
        W,
        Xc,
        Xr,
        c_order,
        y,
        float(delta),
        float(h),
        reach,
        eP,
        eM,
        *outputs,
    )
    CD = C * D
    g = np.empty(CD)
    sum_blocks(G.reshape(G.shape[0], CD), g, 1.0)
    cp, cm, kinks = np.zeros(CD), np.zeros(CD), np.zeros(CD, dtype=np.int64)
    ub = np.flatnonzero(used)  # block order
    if ub.size:
        sum_blocks(np.ascontiguousarray(P[ub].reshape(ub.size, CD)), cp, 1.0)
        sum_blocks(np.ascontiguousarray(M[ub].reshape(ub.size, CD)), cm, 1.0)
        sum_blocks(np.ascontiguousarray(K[ub].reshape(ub.size, CD)), kinks, 1)
    g = g.reshape(C, D)
    plus = (eP * g + cp.reshape(C, D)) / N + _reg_change(W, reg, eP)
    minus = (-eM * g + cm.reshape(C, D)) / N + _reg_change(W, reg, -eM)
    return plus, minus, kinks.reshape(C, D)


def softmax_fd(W, X, y, reg, h, n_threads):
    """Exact ``L(W + e_plus E_cd) - L(W)`` and ``L(W - e_minus E_cd) - L(W)`` of the softmax loss
    for every weight (float64; one pass over X: per-block moment sums of the cumulant series, see
    ``fd``). Returns (plus, minus)."""
    W = np.ascontiguousarray(W, dtype=np.float64)
    C, D = W.shape
    N = y.shape[0]
    eP, eM = steps(W, h)
    emax = max(float(np.max(np.abs(eP))), float(np.max(np.abs(eM))))
    Xc, Xr, c_order = _layout(X)
    nb = _blocks(N, FD_BLOCK)
    Gm, terms, DP, DM, used = outputs = fd_outputs(nb, C, D, svm=False)
    # the moment sums cost about twice the SVM's pass (measured)
    _run_blocks(softmax_fd_blocks, n_threads, nb, FD_BLOCK, 4 * C * D, W, Xc, Xr, c_order, y, emax, eP, eM, *outputs)
    CD = C * D
    nt = int(terms.max()) if terms.size else 0
    moments = np.zeros((nt, CD))
    for b in range(Gm.shape[0]):  # block order
        for n in range(int(terms[b])):
            moments[n] += Gm[b, n].reshape(CD)
    dp, dm = np.zeros(CD), np.zeros(CD)
    ub = np.flatnonzero(used)
    if ub.size:
        sum_blocks(np.ascontiguousarray(DP[ub].reshape(ub.size, CD)), dp, 1.0)
        sum_blocks(np.ascontiguousarray(DM[ub].reshape(ub.size, CD)), dm, 1.0)
    ep, em = eP.reshape(CD), -eM.reshape(CD)
    sp, sm = np.zeros(CD), np.zeros(CD)
    for n in range(nt - 1, -1, -1):  # Horner in e over the moment sums
        sp = sp * ep + moments[n]
        sm = sm * em + moments[n]
    plus = ((sp * ep + dp) / N).reshape(C, D) + _reg_change(W, reg, eP)
    minus = ((sm * em + dm) / N).reshape(C, D) + _reg_change(W, reg, -eM)
    return plus, minus


@njit(cache=True, nogil=True)
def _svm_grid_sub(S0, S1, S2, has_s2, y, alphas, betas, a0, a1, delta, i0, t, M0, M1, M2, A, L, row):
    """Add the SVM data loss of examples ``i0 .. i0 + t`` (t <= ``_GRID_SUB``) at the points
    (a, b), ``a0 <= a < a1``, to ``row[a * nbeta + b]``.

    Margins relative to the label score are formed once per sub-block and split by direction
    (``M0 + alpha M1 + beta M2``); the label's own margin is ``M0 = -inf`` (``M1 = M2 = 0``), so it
    never counts and the class loop has no branch. Per point, the hinge terms go elementwise into
    the lanes ``L[q, k]`` (four betas per pass over the margins), then ``fold_sum`` in a fixed order.
    """
    C = S0.shape[0]
    nbeta = betas.shape[0]
    for k in range(t):
        i = i0 + k
        yk = y[i]
        L[0, k] = S0[yk, i]
        L[1, k] = S1[yk, i]
        L[2, k] = S2[yk, i] if has_s2 else 0.0
    for c in range(C):
        r0 = S0[c, i0 : i0 + t]
        r1 = S1[c, i0 : i0 + t]
        m0 = M0[c]
        m1 = M1[c]
        for k in range(t):
            m0[k] = (r0[k] - L[0, k]) + delta
            m1[k] = r1[k] - L[1, k]
        if has_s2:
            r2 = S2[c, i0 : i0 + t]
            m2 = M2[c]
            for k in range(t):
                m2[k] = r2[k] - L[2, k]
    for k in range(t):
        yk = y[i0 + k]
        M0[yk, k] = -np.inf
        M1[yk, k] = 0.0
        if has_s2:
            M2[yk, k] = 0.0
    for a in range(a0, a1):
        alpha = alphas[a]
        for c in range(C):
            m0 = M0[c]
            m1 = M1[c]
            ac = A[c]
            for k in range(t):
                ac[k] = m0[k] + alpha * m1[k]
        if not has_s2:
            l0 = L[0]
            l0[:] = 0.0
            for c in range(C):
                ac = A[c]
                for k in range(t):
                    v = ac[k]
                    l0[k] += v if v > 0.0 else 0.0
            row[a * nbeta] += fold_sum(l0)
            continue
        b = 0
        while b < nbeta:
            if b + 4 <= nbeta:
                b0, b1, b2, b3 = betas[b], betas[b + 1], betas[b + 2], betas[b + 3]
                L[:, :] = 0.0
                l0, l1, l2, l3 = L[0], L[1], L[2], L[3]
                for c in range(C):
                    ac = A[c]
                    m2 = M2[c]
                    for k in range(t):
                        u = ac[k]
                        w = m2[k]
                        v0 = u + b0 * w
                        v1 = u + b1 * w
                        v2 = u + b2 * w
                        v3 = u + b3 * w
                        l0[k] += v0 if v0 > 0.0 else 0.0
                        l1[k] += v1 if v1 > 0.0 else 0.0
                        l2[k] += v2 if v2 > 0.0 else 0.0
                        l3[k] += v3 if v3 > 0.0 else 0.0
                for q in range(4):
                    row[a * nbeta + b + q] += fold_sum(L[q])
                b += 4
            else:
                b0 = betas[b]
                l0 = L[0]
                l0[:] = 0.0
                for c in range(C):
                    ac = A[c]
                    m2 = M2[c]
                    for k in range(t):
                        v0 = ac[k] + b0 * m2[k]
                        l0[k] += v0 if v0 > 0.0 else 0.0
                row[a * nbeta + b] += fold_sum(l0)
                b += 1


@njit(cache=True, nogil=True)
def _softmax_grid_sub(S0, S1, S2, has_s2, y, alphas, betas, a0, a1, i0, t, A, Sb, E, Ex, kb, L, row):
    """Add the softmax data loss (``max + log(sum exp(s - max)) - s_y``) of examples
    ``i0 .. i0 + t`` at the points (a, b), ``a0 <= a < a1``, to ``row[a * nbeta + b]``: the scores
    of a point are formed in the (C, t) tile ``Sb``, exponentiated by the vectorized ``exp_nonpos``,
    and the per-example losses summed by ``fold_sum``."""
    C = S0.shape[0]
    nbeta = betas.shape[0]
    mx = L[1]
    z = L[2]
    for a in range(a0, a1):
        alpha = alphas[a]
        for c in range(C):
            r0 = S0[c, i0 : i0 + t]
            r1 = S1[c, i0 : i0 + t]
            ac = A[c]
            for k in range(t):
                ac[k] = r0[k] + alpha * r1[k]
        for b in range(nbeta):
            beta = betas[b]
            if has_s2:
                for c in range(C):
                    r2 = S2[c, i0 : i0 + t]
                    ac = A[c]
                    sc = Sb[c]
                    for k in range(t):
                        sc[k] = ac[k] + beta * r2[k]
                sv = Sb
            else:
                sv = A
            s = sv[0]
            for k in range(t):
                mx[k] = s[k]
            for c in range(1, C):
                s = sv[c]
                for k in range(t):
                    mx[k] = s[k] if s[k] > mx[k] else mx[k]
            for c in range(C):
                s = sv[c]
                e = E[c]
                for k in range(t):
                    e[k] = s[k] - mx[k]
            exp_nonpos(E.reshape(-1), C * E.shape[1], Ex.reshape(-1), kb)
            z[:t] = Ex[0, :t]
            for c in range(1, C):
                e = Ex[c]
                for k in range(t):
                    z[k] += e[k]
            lk = L[0]
            lk[:] = 0.0
            for k in range(t):
                lk[k] = (mx[k] + np.log(z[k])) - sv[y[i0 + k], k]
            row[a * nbeta + b] += fold_sum(lk)


#: A plane point's sums below this are recomputed directly (see ``_softmax_plane_sub``).
_PLANE_MIN_SUM = 2.0**-30
#: Lanes of the per-example sums multiplied together before one log: 128 / 4 = 32 sums a lane, each in
#: [_PLANE_MIN_SUM, C], so a lane's product stays within [2^-960, C^32] (a log costs about as much as
#: the multiply-adds of a whole lane's 32 sums).
_PLANE_LANES = 4


@njit(cache=True, nogil=True)
def _shifted_exps(D0, D1, has_d0, s, t, X, kb, E, m):
    """``E[c, k] = exp(x_ck - m_k)`` and ``m_k = max(0, max_c x_ck)`` for ``x = D0 + s D1`` (``s D1``
    without D0), k < t (the rest of the rows zeroed); returns ``sum_k m_k``. X is scratch like E."""
    C = D1.shape[0]
    m[:] = 0.0
    X[:, :] = 0.0
    for c in range(C):
        d1 = D1[c]
        xc = X[c]
        if has_d0:
            d0 = D0[c]
            for k in range(t):
                xc[k] = d0[k] + s * d1[k]
        else:
            for k in range(t):
                xc[k] = s * d1[k]
        for k in range(t):
            m[k] = xc[k] if xc[k] > m[k] else m[k]  # a NaN x leaves m, and exp(NaN - m) is NaN
    for c in range(C):
        xc = X[c]
        for k in range(t):
            xc[k] -= m[k]
    exp_nonpos(X.reshape(-1), X.size, E.reshape(-1), kb)
    total = 0.0
    for k in range(t):
        total += m[k]
    return total


@njit(cache=True, nogil=True)
def _plane_point_direct(D0, D1, D2, alpha, beta, t, X, kb, E, m):
    """``sum_k log(sum_c exp(D0 + alpha D1 + beta D2))`` over k < t, the plain way."""
    C = D0.shape[0]
    m[:] = 0.0
    X[:, :] = 0.0
    for c in range(C):
        xc = X[c]
        for k in range(t):
            xc[k] = D0[c, k] + alpha * D1[c, k] + beta * D2[c, k]
            m[k] = xc[k] if xc[k] > m[k] else m[k]
    for c in range(C):
        for k in range(t):
            X[c, k] -= m[k]
    exp_nonpos(X.reshape(-1), X.size, E.reshape(-1), kb)
    total = 0.0
    for k in range(t):
        z = 0.0
        for c in range(C):
            z += E[c, k]
        total += m[k] + np.log(z)
    return total


@njit(cache=True, nogil=True)
def _softmax_plane_sub(S0, S1, S2, y, alphas, betas, a0, a1, i0, t, D, P, Q, SP, SQ, X, Ed, kb, L, row):
    """Add the softmax data loss of examples ``i0 .. i0 + t`` at the plane's points (a, b),
    ``a0 <= a < a1``, to ``row[a * nbeta + b]``, in separable form.

    With the label's score as reference (``D = S - S_label``), the exponent of class c at (a, b) is
    ``u_c(a) + v_c(b)`` (``u = D0 + a D1``, ``v = b D2``), so ``sum_c exp(u_c + v_c) = exp(mu + nu) *
    sum_c P_c Q_c`` with ``P = exp(u - mu)`` per alpha and ``Q = exp(v - nu)`` per beta (mu, nu the
    maxima, >= 0): a point costs C multiply-adds per example, not C exps. The sums of a point are
    multiplied lane-wise (each is in [``_PLANE_MIN_SUM``, C]) and one log taken per lane. A point
    with a smaller sum (u and v peak on different classes, far apart) or a non-finite result is
    recomputed directly.
    """
    C = S0.shape[0]
    nbeta = betas.shape[0]
    for k in range(t):
        i = i0 + k
        yk = y[i]
        for c in range(C):
            D[0, c, k] = S0[c, i] - S0[yk, i]
            D[1, c, k] = S1[c, i] - S1[yk, i]
            D[2, c, k] = S2[c, i] - S2[yk, i]
    D0, D1, D2 = D[0], D[1], D[2]
    m = L[0]
    for a in range(a0, a1):
        SP[a - a0] = _shifted_exps(D0, D1, True, alphas[a], t, X, kb, P[a - a0], m)
    for b in range(nbeta):
        SQ[b] = _shifted_exps(D0, D2, False, betas[b], t, X, kb, Q[b], m)
    sig = L[1]
    lanes = L[2, :_PLANE_LANES]
    full = t - t % _PLANE_LANES
    for b in range(nbeta):
        Qb = Q[b]
        for a in range(a0, a1):
            Pa = P[a - a0]
            for k in range(t):
                sig[k] = Pa[0, k] * Qb[0, k]
            for c in range(1, C):
                pc = Pa[c]
                qc = Qb[c]
                for k in range(t):
                    sig[k] += pc[k] * qc[k]
            low = 0
            for k in range(t):
                low += 0 if sig[k] >= _PLANE_MIN_SUM else 1  # NaN counts too
            lanes[:] = 1.0
            for k0 in range(0, full, _PLANE_LANES):
                for q in range(_PLANE_LANES):
                    lanes[q] *= sig[k0 + q]
            for k in range(full, t):
                lanes[k - full] *= sig[k]
            total = SP[a - a0] + SQ[b]
            for q in range(_PLANE_LANES):
                total += np.log(lanes[q])
            if low > 0 or not np.isfinite(total):
                total = _plane_point_direct(D0, D1, D2, alphas[a], betas[b], t, X, kb, Ed, m)
            row[a * nbeta + b] += total


@entry
@njit(cache=True, nogil=True, parallel=True)
def _grid_kernel(lo, hi, S0, S1, S2, has_s2, y, alphas, betas, kind, delta, a_step, part):
    """Data loss summed per block of ``_GRID_BLOCK`` examples at every grid point into ``part``
    (n_blocks, n_points), zeroed by the caller, for the tasks ``lo .. hi``: (block, range of ``a_step``
    alphas) pairs; a point's block sum does not depend on which pair computed it, and the blocks are
    summed in order by the caller.
    """
    C, B = S0.shape
    na = alphas.shape[0]
    nbeta = betas.shape[0]
    nas = (na + a_step - 1) // a_step
    for task in prange(lo, hi):
        blk = task // nas
        a0 = (task % nas) * a_step
        a1 = min(na, a0 + a_step)
        row = part[blk]
        A = np.empty((C, _GRID_SUB))
        M0 = np.empty((C, _GRID_SUB))
        M1 = np.empty((C, _GRID_SUB))
        M2 = np.empty((C, _GRID_SUB))
        kb = np.empty(C * _GRID_SUB)
        L = np.zeros((4, _GRID_SUB))
        plane = kind == _SOFTMAX and has_s2
        n_p, n_q = (a1 - a0, nbeta) if plane else (0, 0)
        D = np.empty((3 if plane else 0, C, _GRID_SUB))
        P = np.empty((n_p, C, _GRID_SUB))
        Q = np.empty((n_q, C, _GRID_SUB))
        SP = np.empty(n_p)
        SQ = np.empty(n_q)
        e1 = min(B, (blk + 1) * _GRID_BLOCK)
        for i0 in range(blk * _GRID_BLOCK, e1, _GRID_SUB):
            t = min(_GRID_SUB, e1 - i0)
            if plane:
                _softmax_plane_sub(S0, S1, S2, y, alphas, betas, a0, a1, i0, t, D, P, Q, SP, SQ, M0, M1, kb, L, row)
            elif kind == _SVM:
                _svm_grid_sub(S0, S1, S2, has_s2, y, alphas, betas, a0, a1, delta, i0, t, M0, M1, M2, A, L, row)
            else:
                _softmax_grid_sub(S0, S1, S2, has_s2, y, alphas, betas, a0, a1, i0, t, A, M0, M1, M2, kb, L, row)


def _grid(kind, S0, S1, S2, y, alphas, betas, delta, n_threads):
    has_s2 = S2 is not None
    S2a = S2 if has_s2 else np.zeros((1, 1))
    na, nbeta = alphas.shape[0], betas.shape[0]
    B = S0.shape[1]
    nblk = _blocks(B, _GRID_BLOCK)
    # a point costs O(C) per example, the softmax's exp and log about 16 times the SVM's hinge, its plane
    # (C multiply-adds a point, the exps per line) about twice (measured)
    cost = 1 if kind == _SVM else (2 if has_s2 else 16)
    alpha_work = nbeta * S0.shape[0] * min(B, _GRID_BLOCK) * cost
    # split the alphas too when there are few blocks, and so that a task fits in a launch (any split gives
    # the same bits)
    a_step = max(1, min(-(-na // max(1, 16 // nblk)), LAUNCH_WORK // alpha_work))
    tasks = nblk * _blocks(na, a_step)
    task_work = a_step * alpha_work
    part = np.zeros((nblk, na * nbeta))
    _run(
        _grid_kernel,
        n_threads,
        tasks,
        task_work,
        S0,
        S1,
        S2a,
        has_s2,
        y,
        alphas,
        betas,
        kind,
        float(delta),
        a_step,
        part,
    )
    out = np.empty(na * nbeta)
    sum_blocks(part, out, 1.0 / B)
    return out.reshape(na, nbeta)


def svm_grid(S0, S1, S2, y, alphas, betas, delta, n_threads):
    """SVM data loss (no reg) of ``S0 + alphas[a] S1 + betas[b] S2`` at every grid point,
    (len(alphas), len(betas)) float64. O(C B) per point; never reads X."""
    return _grid(_SVM, S0, S1, S2, y, alphas, betas, delta, n_threads)


def softmax_grid(S0, S1, S2, y, alphas, betas, n_threads):
    """Softmax data loss (no reg) of ``S0 + alphas[a] S1 + betas[b] S2`` at every grid point,
    (len(alphas), len(betas)) float64. O(C B) per point; never reads X."""
    return _grid(_SOFTMAX, S0, S1, S2, y, alphas, betas, 1.0, n_threads)
