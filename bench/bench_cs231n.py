"""The CS231n assignment-1 notebook flow: the assignment's NumPy code against ``steepest.cs231n``.

    python bench/bench_cs231n.py            # N = 49,000 train, 1,000 val, 500 dev; 1500 iterations
    python bench/bench_cs231n.py --quick    # N = 10,000, 300 iterations, a 4 x 4 grid of 100 each

The steps of ``svm.ipynb`` / ``softmax.ipynb`` on CIFAR-shaped synthetic data (``steepest.cli.measure.
cifar_shaped``: D = 3073 with the bias column, C = 10, float64 rows (N, D) as the notebook holds them):

1. loss and gradient of the vectorized SVM and softmax on the dev set (500) and on the 49,000 training
   examples (``svm_loss_vectorized(W, X, y, reg)``);
2. ``grad_check_sparse`` on the dev set as the notebook calls it, with the naive loss, at reg 0 and 5e1
   (10 checks each); the assignment's ``f`` is ``lambda w: svm_loss_naive(w, X_dev, y_dev, reg)[0]``,
   steepest's ``loss_function(svm_loss_naive, X_dev, y_dev, reg)`` (the exact path);
3. ``LinearSVM().train`` and ``Softmax().train``: 1500 iterations of batch 200, lr 1e-7, reg 2.5e4,
   seeded with ``np.random.seed(0)``, then ``predict`` on the training and validation sets;
4. the 4 x 4 learning-rate x reg search: for each pair, train a ``LinearSVM`` and predict the
   training and validation sets (the notebook's loop).

The assignment's code is ``tests/cs231n_reference.py``. NumPy is timed with 1 BLAS thread
(threadpoolctl) and with the BLAS library's default threads; steepest with its default threads.
Candidates run in interleaved rounds (NumPy 1 thread, NumPy default, steepest; again), medians are
reported; the grid interleaves the three at every cell and reports the totals. Every result is checked
against the assignment's before it is timed, and the timed seeded runs are compared at the end (the
largest relative difference of W, identical predictions).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

import numpy as np

import cs231n_reference as ref
import steepest
from steepest import cs231n
from steepest._table import table
from steepest.cli import measure
from steepest.cs231n.gradient_check import loss_function

LR, REG = 1e-7, 2.5e4
LEARNING_RATES = [1e-7, 2e-7, 5e-7, 1e-6]
REGS = [1e4, 2.5e4, 5e4, 1e5]


def quiet(fn):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn()


def rel_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(np.asarray(b))))


class Bench:
    """Three candidates per operation, timed in interleaved rounds; rows of the final table."""

    def __init__(self, rounds: int):
        self.rounds = rounds
        self.rows: list[tuple] = []

    def time(self, operation: str, numpy_fn, steepest_fn, reps: int = 1, rounds: int | None = None) -> dict:
        """Median seconds per call of each candidate (``reps`` calls per timing)."""

        def repeat(fn, threads=None):
            def run():
                with measure.blas_threads(threads):
                    for _ in range(reps):
                        fn()

            return run

        fns = {"numpy1": repeat(numpy_fn, 1), "numpy": repeat(numpy_fn), "steepest": repeat(steepest_fn)}
        t = measure.interleaved(fns, rounds or self.rounds, warmup=0)
        t = {k: v / reps for k, v in t.items()}
        self.add(operation, t)
        return t

    def add(self, operation: str, t: dict) -> None:
        self.rows.append(
            (operation, t["numpy1"], t["numpy"], t["steepest"], t["numpy1"] / t["steepest"], t["numpy"] / t["steepest"])
        )
        print(f"  {operation}: {t['numpy1']:.4g} s / {t['numpy']:.4g} s / {t['steepest']:.4g} s", flush=True)

    def table(self) -> str:
        heads = ["operation", "NumPy, 1 BLAS thread (s)", "NumPy, default (s)", "steepest (s)", "x (1 thread)", "x"]
        return table(heads, self.rows)

    def markdown(self) -> str:
        lines = [
            "| notebook step | NumPy, 1 BLAS thread | NumPy, default BLAS | steepest.cs231n "
            "| speed-up (1 thread / default) |",
            "|---|---|---|---|---|",
        ]
        for op, n1, nd, s, r1, rd in self.rows:
            lines.append(f"| {op} | {n1:.3g} s | {nd:.3g} s | {s:.3g} s | {r1:.1f}x / {rd:.1f}x |")
        return "\n".join(lines)


def data(n_train: int, n_val: int, n_dev: int):
    """CIFAR-shaped rows: training, validation, and a dev set drawn from the training set (as the notebook)."""
    rows, y, _ = measure.cifar_shaped(n_train + n_val, seed=0)
    X_train, y_train = rows[:n_train], y[:n_train]
    X_val, y_val = rows[n_train:], y[n_train:]
    mask = np.random.default_rng(1).choice(n_train, n_dev, replace=False)
    return X_train, y_train, X_val, y_val, X_train[mask], y_train[mask]


def check_losses(W, X, y):
    for ours, theirs in [
        (cs231n.svm_loss_vectorized, ref.svm_loss_vectorized),
        (cs231n.softmax_loss_vectorized, ref.softmax_loss_vectorized),
    ]:
        (a, da), (b, db) = ours(W, X, y, REG), theirs(W, X, y, REG)
        assert abs(a - b) <= 1e-10 * abs(b) and rel_diff(da, db) <= 1e-10, ours.__name__


def bench_losses(bench: Bench, W, X_train, y_train, X_dev, y_dev) -> None:
    check_losses(W, X_dev, y_dev)
    check_losses(W, X_train, y_train)
    for what, X, y, reps in (("dev set, 500", X_dev, y_dev, 20), (f"{len(y_train):,} examples", X_train, y_train, 1)):
        for name, ours, theirs in (
            ("SVM", cs231n.svm_loss_vectorized, ref.svm_loss_vectorized),
            ("softmax", cs231n.softmax_loss_vectorized, ref.softmax_loss_vectorized),
        ):
            bench.time(
                f"{name} loss + gradient, vectorized, {what}",
                lambda X=X, y=y, theirs=theirs: theirs(W, X, y, REG),
                lambda X=X, y=y, ours=ours: ours(W, X, y, REG),
                reps,
            )


def bench_grad_check(bench: Bench, W, X_dev, y_dev) -> None:
    for name, ours, theirs in (
        ("SVM", cs231n.svm_loss_naive, ref.svm_loss_naive),
        ("softmax", cs231n.softmax_loss_naive, ref.softmax_loss_naive),
    ):
        grads = {reg: theirs(W, X_dev, y_dev, reg)[1] for reg in (0.0, 5e1)}
        # check: the exact differences at random weights are the loop's, to its cancellation error
        f = loss_function(ours, X_dev, y_dev, 5e1)
        exact = f.centered_differences(W, 1e-5)
        rng = np.random.default_rng(0)
        for _ in range(3):
            ix = (int(rng.integers(W.shape[0])), int(rng.integers(W.shape[1])))
            x = W.copy()
            x[ix] += 1e-5
            plus = theirs(x, X_dev, y_dev, 5e1)[0]
            x[ix] = W[ix] - 1e-5
            minus = theirs(x, X_dev, y_dev, 5e1)[0]
            assert abs((plus - minus) / 2e-5 - exact[ix]) <= 1e-6 * max(1.0, abs(exact[ix])), (name, ix)

        def assignment(theirs=theirs, grads=grads):
            random.seed(0)
            for reg, grad in grads.items():
                quiet(lambda: ref.grad_check_sparse(lambda w: theirs(w, X_dev, y_dev, reg)[0], W.copy(), grad))

        def fast(ours=ours, grads=grads):
            random.seed(0)
            for reg, grad in grads.items():
                quiet(lambda: cs231n.grad_check_sparse(loss_function(ours, X_dev, y_dev, reg), W, grad))

        bench.time(f"grad_check_sparse with {name} naive loss, dev set, reg 0 and 5e1", assignment, fast)


def train_run(cls, X, y, iters, lr=LR, reg=REG):
    np.random.seed(0)
    clf = cls()
    history = clf.train(X, y, learning_rate=lr, reg=reg, num_iters=iters)
    return clf, history


def bench_training(bench: Bench, X_train, y_train, X_val, iters: int) -> list[tuple]:
    equal = []
    for name, ours, theirs in (
        ("LinearSVM", cs231n.LinearSVM, ref.LinearSVM),
        ("Softmax", cs231n.Softmax, ref.Softmax),
    ):
        a, b = train_run(ours, X_train, y_train, 20)[0], train_run(theirs, X_train, y_train, 20)[0]  # warm-up, check
        assert rel_diff(a.W, b.W) <= 1e-10, name
        last = {}

        def keep(key, cls):
            last[key] = train_run(cls, X_train, y_train, iters)[0]

        bench.time(
            f"{name}.train, {iters} iterations, batch 200, N = {len(y_train):,}",
            lambda theirs=theirs: keep("numpy", theirs),
            lambda ours=ours: keep("steepest", ours),
        )
        clf, clf_ref = last["steepest"], last["numpy"]
        same = all(
            np.array_equal(clf.predict(X), clf_ref.predict(X)) for X in (X_train, X_val)
        )  # the notebook's accuracies
        equal.append((f"{name}, {iters} iterations", rel_diff(clf.W, clf_ref.W), same))
        if name == "LinearSVM":
            bench.time(
                f"predict, {len(y_train):,} training + {len(X_val):,} validation rows",
                lambda: [clf_ref.predict(X) for X in (X_train, X_val)],
                lambda: [clf.predict(X) for X in (X_train, X_val)],
            )
    return equal


def bench_grid(bench: Bench, X_train, y_train, X_val, y_val, iters: int) -> tuple:
    """The notebook's search; at every cell NumPy 1 thread, NumPy default, steepest, in turn."""
    totals = {"numpy1": 0.0, "numpy": 0.0, "steepest": 0.0}
    results = {}

    def cell(cls, lr, reg):
        np.random.seed(0)
        svm = cls()
        svm.train(X_train, y_train, learning_rate=lr, reg=reg, num_iters=iters)
        train_accuracy = np.mean(y_train == svm.predict(X_train))
        val_accuracy = np.mean(y_val == svm.predict(X_val))
        return train_accuracy, val_accuracy

    def candidate(cls, threads, lr, reg):
        def run():
            with measure.blas_threads(threads):
                return cell(cls, lr, reg)

        return run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # large rates and regs diverge, in both codes
        for lr in LEARNING_RATES:
            for reg in REGS:
                fns = {
                    "numpy1": candidate(ref.LinearSVM, 1, lr, reg),
                    "numpy": candidate(ref.LinearSVM, None, lr, reg),
                    "steepest": candidate(cs231n.LinearSVM, None, lr, reg),
                }

                def keep(key, accuracies, lr=lr, reg=reg):
                    results[(key, lr, reg)] = accuracies

                t = measure.interleaved(fns, rounds=1, warmup=0, check=keep)
                for key in totals:
                    totals[key] += t[key]
    same = all(results[("steepest", lr, reg)] == results[("numpy", lr, reg)] for lr in LEARNING_RATES for reg in REGS)
    bench.add(f"4 x 4 search (lr x reg): train {iters} iterations + predict, 16 models", totals)
    best = max(((lr, reg) for lr in LEARNING_RATES for reg in REGS), key=lambda k: results[("steepest",) + k][1])
    return same, best, results[("steepest",) + best]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--n-train", type=int, default=49_000)
    parser.add_argument("--iters", type=int, default=1500, help="iterations of the two training runs")
    parser.add_argument("--grid-iters", type=int, default=1500, help="iterations of each model of the search")
    parser.add_argument("--quick", action="store_true", help="N = 10,000, 300 iterations, a grid of 100")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.iters, args.grid_iters, args.rounds = 10_000, 300, 100, 1
    print(
        f"steepest {steepest.__version__}, backend {steepest.get_backend()}, {steepest.get_num_threads()} threads, "
        f"numpy {np.__version__}; {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M')}"
    )
    t0 = time.perf_counter()
    X_train, y_train, X_val, y_val, X_dev, y_dev = data(args.n_train, 1000, 500)
    print(f"data: X_train {X_train.shape}, X_val {X_val.shape}, X_dev {X_dev.shape} float64 (synthetic, CIFAR-shaped)")
    W = np.random.default_rng(2).standard_normal((X_train.shape[1], 10)) * 0.0001
    bench = Bench(args.rounds)
    bench_losses(bench, W, X_train, y_train, X_dev, y_dev)
    bench_grad_check(bench, W, X_dev, y_dev)
    equal = bench_training(bench, X_train, y_train, X_val, args.iters)
    same, best, accuracy = bench_grid(bench, X_train, y_train, X_val, y_val, args.grid_iters)
    print()
    print(bench.table())
    print()
    print(bench.markdown())
    print()
    for what, diff, identical in equal:
        print(f"seeded run {what}: max |W - W_numpy| / max |W_numpy| = {diff:.2e}; predictions identical: {identical}")
    print(f"grid: train and validation accuracies of all 16 models identical: {same}; best lr {best[0]:g}, reg "
          f"{best[1]:g} (train {accuracy[0]:.3f}, val {accuracy[1]:.3f})")  # fmt: skip
    print(f"wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
