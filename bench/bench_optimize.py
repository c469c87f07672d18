"""Benchmarks of steepest.optimize against the NumPy code of the notes, as ratios in one process.

1. The CS231n loop: 1500 iterations of batch 200 on N = 49,000 CIFAR-shaped float64 data (D = 3073,
   C = 10, synthetic), multiclass SVM. Reference: the assignment's loop (``np.random.choice``,
   ``X_batch = X[idx]`` on (N, D) rows, vectorized loss and gradient, ``W -= lr * grad``). steepest:
   ``minibatch_gd`` on the same rows passed as ``X_rows.T`` (read in place). Target: C++ >= 10x.
2. Random search on N = 50,000: NumPy evaluations of ``W = randn * 1e-4`` one at a time (a sample,
   extrapolated) against ``random_search``'s blocked fast path, per candidate. Target: >= 3x.
3. Random local search against random search, the same number of tries each (1000 by default: the
   notes' strategy 2 against strategy 1). Target: local search <= 1.2x random search.
4. Random search's stacked losses (``SVMLoss.candidate_losses``): each backend's ``svm_stacked_losses``
   kernel on a block of candidates against NumPy's BLAS product ``Wstack @ X_block`` alone.

Every figure is the median of ``--repeats`` interleaved rounds (``steepest.cli.measure.interleaved``: the
candidates of a table run in turn, round after round); results are checked before they are timed.
Run: ``PYTHONPATH=python python bench/bench_optimize.py [--quick]``.
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np

import steepest
from steepest import _backends
from steepest import optimize as opt
from steepest._table import table
from steepest.cli import measure
from steepest.datasets import make_synthetic
from steepest.losses import _candidate_columns
from steepest.optimize.strategies import default_block

C, D = 10, 3073
LR, REG, BATCH = 1e-7, 2.5e4, 200


# --- the NumPy reference code, as written in the assignment / the notes ----------------------------


def svm_loss_vectorized(W, X, y, reg):
    """CS231n assignment 1: W (D, C), X (B, D) rows."""
    num_train = X.shape[0]
    scores = X.dot(W)
    correct = scores[np.arange(num_train), y][:, None]
    margins = np.maximum(0, scores - correct + 1)
    margins[np.arange(num_train), y] = 0
    loss = margins.sum() / num_train + reg * np.sum(W * W)
    binary = (margins > 0).astype(float)
    binary[np.arange(num_train), y] = -binary.sum(axis=1)
    dW = X.T.dot(binary) / num_train + 2 * reg * W
    return loss, dW


def cs231n_train(X_rows, y, num_iters, seed=0, draw=None):
    """``LinearClassifier.train``: sampling with replacement, X_batch = X[idx], W -= lr * grad."""
    np.random.seed(seed)
    N = X_rows.shape[0]
    W = 0.001 * np.random.randn(D, C)
    history = []
    for _ in range(num_iters):
        idx = np.random.choice(N, BATCH) if draw is None else draw()
        X_batch = X_rows[idx]
        y_batch = y[idx]
        loss, grad = svm_loss_vectorized(W, X_batch, y_batch, REG)
        history.append(loss)
        W -= LR * grad
    return W, history


def notes_svm_loss(X, y, W):
    """The notes' fully vectorized L(X, y, W) with X (D, N): one evaluation of random search."""
    scores = W.dot(X)
    cols = np.arange(X.shape[1])
    margins = np.maximum(0, scores - scores[y, cols] + 1.0)
    margins[y, cols] = 0
    return margins.sum() / X.shape[1]


# --- helpers ---------------------------------------------------------------------------------------


# median of `repeats` timed runs, no untimed warm-up (the callers warm up where it matters)
median_time = functools.partial(measure.median_time, warmup=0)


def check_loop_matches_reference(X, X_rows, y):
    """steepest's loop and the assignment's loop agree on the same batches (first steps, 1e-10)."""
    rng = np.random.default_rng(0)
    W0 = 0.001 * rng.standard_normal((C, D))
    res = opt.minibatch_gd(steepest.SVMLoss(X, y, REG, backend="numpy"), W0, BATCH, LR, num_iters=5, seed=1)
    draw_rng = np.random.default_rng(1)
    W_ref = W0.T.copy()
    for k in range(5):
        idx = draw_rng.choice(X_rows.shape[0], BATCH, replace=True)
        loss, grad = svm_loss_vectorized(W_ref, X_rows[idx], y[idx], REG)
        assert abs(loss - res.loss_history[k]) <= 1e-10 * loss, (k, loss, res.loss_history[k])
        W_ref -= LR * grad
    assert np.allclose(W_ref.T, res.W, rtol=1e-10, atol=1e-16)


def bench_loop(X_rows, y, backends, repeats, iters, slow_s=8.0):
    N = 49_000
    rows = X_rows[:N]
    yy = y[:N]
    X = rows.T  # (D, N), F-contiguous: the same memory, read in place
    check_loop_matches_reference(X, rows, yy)
    # The reference and the backends whose run is short are timed over all `iters` iterations; a
    # backend slower than `slow_s` per run is timed once over a fifth of them and extrapolated (the loop
    # has the same cost every iteration), so the whole bench stays within minutes.
    fns, scale, notes = {"ref": lambda: cs231n_train(rows, yy, iters)}, {"ref": 1.0}, {}
    for b in backends:
        run = lambda k, b=b: opt.train_linear_classifier(X, yy, "svm", REG, LR, BATCH, k, seed=0, backend=b)  # noqa: E731
        probe = median_time(lambda: run(max(5, iters // 50)), 1) * 50  # also the warm-up (Numba JIT)
        res = run(20)
        assert res.loss_history[-1] < res.loss_history[0] and np.isfinite(res.W).all()
        k = iters if probe < slow_s else max(5, iters // 5)
        fns[b], scale[b] = (lambda k=k, run=run: run(k)), iters / k
        notes[b] = f"median of {repeats}" if k == iters else f"{k} iterations, extrapolated (median of {repeats})"
    t = {name: v * scale[name] for name, v in measure.interleaved(fns, repeats, warmup=0).items()}
    ref = t["ref"]
    out = [("NumPy reference (assignment)", ref, 1.0, "", f"median of {repeats}")]
    for b in backends:
        out.append((f"steepest {b}", t[b], ref / t[b], ">= 10x" if b == "cpp" else "", notes[b]))
    return table(
        [
            "CS231n SVM loop, %d iterations of batch %d, N = %d" % (iters, BATCH, N),
            "seconds",
            "speed-up",
            "target",
            "timing",
        ],
        out,
    )


def bench_random_search(X, y, backends, repeats, tries, sample):
    loss0 = steepest.SVMLoss(X, y, 0.0, backend="numpy")
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((C, D)) * 1e-4 for _ in range(sample)]
    # check: the notes' evaluation equals steepest's loss, and the fast path the one-at-a-time path
    assert abs(notes_svm_loss(X, y, Ws[0]) - loss0(Ws[0])) <= 1e-12 * loss0(Ws[0])
    losses = {}
    for b in backends:
        loss = losses[b] = steepest.SVMLoss(X, y, 0.0, backend=b)
        slow = opt.random_search(loss, (C, D), num_tries=3, seed=0, block=1)
        fast = opt.random_search(loss, (C, D), num_tries=3, seed=0, block=3)
        assert np.max(np.abs(slow.loss_history - fast.loss_history) / slow.loss_history) < 1e-12
    # interleaved rounds (reference, then each backend): a busy machine slows all alike
    fns = {"ref": lambda: [notes_svm_loss(X, y, W) for W in Ws]}
    for b in backends:
        fns[b] = lambda b=b: opt.random_search(losses[b], (C, D), num_tries=tries, seed=0)
    times = measure.interleaved(fns, repeats, warmup=0)
    ref_each = times["ref"] / sample
    rows = [("NumPy, one evaluation per candidate (notes)", ref_each, ref_each * 1000, 1.0, "")]
    for b in backends:
        t = times[b] / tries
        rows.append((f"steepest {b}, blocked fast path", t, t * 1000, ref_each / t, ">= 3x" if b == "cpp" else ""))
    return table([f"random search, N = {X.shape[1]}", "s / candidate", "s / 1000", "speed-up", "target"], rows)


def bench_local_search(X, y, repeats, tries):
    """Strategy 2 (tries scored in blocks through the linearity of the scores, accepted one after the
    other) against strategy 1 (candidates in blocks), the same number of tries, interleaved rounds."""
    loss = steepest.SVMLoss(X, y, 0.0, backend="cpp" if "cpp" in steepest.backends() else None)
    W0 = np.random.default_rng(1).standard_normal((C, D)) * 1e-3
    small = loss.subset(np.arange(2000))
    one = opt.random_local_search(small, W0, 1e-4, 40, seed=0, block=1)
    fast = opt.random_local_search(small, W0, 1e-4, 40, seed=0)
    assert one.accepted == fast.accepted and np.array_equal(one.W, fast.W)
    runs = {
        "random search (strategy 1)": lambda: opt.random_search(loss, (C, D), num_tries=tries, seed=0),
        "random local search (strategy 2)": lambda: opt.random_local_search(loss, W0, 1e-4, tries, seed=0),
    }
    times = measure.interleaved(runs, repeats, warmup=0)
    base = times["random search (strategy 1)"]
    rows = [(k, v, v / base) for k, v in times.items()]
    return table([f"{tries} tries, N = {X.shape[1]}", "seconds", "x random search"], rows)


def bench_stacked_product(X, y, backends, repeats):
    K = default_block(C, D)
    rng = np.random.default_rng(0)
    Wblk = rng.standard_normal((K, C, D)) * 1e-4
    Wstack = Wblk.reshape(K * C, D)
    cols = _candidate_columns(K, C, D, 8, X.shape[1])
    part = slice(0, cols)
    where = np.arange(cols, dtype=np.int64)
    regs = np.zeros(K)
    threads = _backends.get_num_threads()
    fns = {"NumPy BLAS product alone": lambda: Wstack @ X[:, part]}
    expected = None
    for b in backends:
        kern = _backends.get(b)
        losses = kern.svm_stacked_losses(Wblk, X, y, where, regs, 1.0, threads)  # checked (and compiled) first
        expected = losses if expected is None else expected
        assert np.allclose(losses, expected, rtol=1e-10)
        fns[f"{b} svm_stacked_losses"] = lambda kern=kern: kern.svm_stacked_losses(
            Wblk, X, y, where, regs, 1.0, threads
        )
    times = measure.interleaved(fns, repeats, warmup=0)
    base = times["NumPy BLAS product alone"]
    rows = [(name, t, base / t) for name, t in times.items()]
    return table([f"{K} candidates ({K * C}, {D}) on {cols} examples", "seconds", "speed vs the BLAS product"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iters", type=int, default=1500)
    parser.add_argument("--tries", type=int, default=128, help="random-search candidates timed per backend")
    parser.add_argument("--sample", type=int, default=8, help="NumPy evaluations timed (extrapolated to 1000)")
    parser.add_argument("--local-tries", type=int, default=1000, help="tries of local search vs random search")
    parser.add_argument("--quick", action="store_true", help="fewer iterations and candidates")
    args = parser.parse_args(argv)
    if args.quick:
        args.iters, args.tries, args.sample, args.repeats, args.local_tries = 300, 64, 4, 1, 128
    backends = steepest.backends()
    print(f"backends: {backends}; threads: {steepest.get_num_threads()}; numpy {np.__version__}")
    t = time.perf_counter()
    X, y = make_synthetic(50_000, D, C, seed=0)
    X_rows = np.ascontiguousarray(X.T)  # the assignment's (N, D) layout
    del X
    X = X_rows.T
    print(f"data: X (D, N) = {X.shape} float64, made in {time.perf_counter() - t:.1f} s\n")
    print(bench_loop(X_rows, y, backends, args.repeats, args.iters), "\n", flush=True)
    print(bench_stacked_product(X, y, backends, args.repeats), "\n", flush=True)
    print(bench_random_search(X, y, backends, args.repeats, args.tries, args.sample), "\n", flush=True)
    print(bench_local_search(X, y, args.repeats, args.local_tries), flush=True)


if __name__ == "__main__":
    main()
