"""Nielsen's book, faster: per-epoch time of steepest against the book's literal code, chapters 1 and 3.

    python bench/bench_network.py [--rounds 5] [--epochs 2] [--data PATH]   # timings
    python bench/bench_network.py --drift 30                                # drift over 30 epochs
    python bench/bench_network.py --profile                                 # where steepest's epoch goes

Timings: the book's run (``tests/naive_network.py``: ``network.py`` and ``network2.py`` line for line) and
steepest's (``steepest.network`` / ``steepest.network2``: the Numba kernel, and ``backend="numpy"``), each started
with ``np.random.seed(s); random.seed(s)`` so both follow the same run, [784, 30, 10], mini-batch 10. Chapter 1:
quadratic cost, eta 3.0, ``test_data`` evaluated every epoch, as in the book. Chapter 3: cross-entropy, lmbda 5.0,
eta 0.5, monitoring all four metrics on the training and evaluation data. Each variant runs under
``threadpoolctl`` with 1 BLAS thread and with the BLAS library's default, in interleaved rounds; medians are
reported. The per-epoch time of a ``SGD`` call of ``--epochs`` epochs is its wall time divided by the epochs, so
steepest pays its one-time setup (stacking the book's pairs into arrays, the inputs' CSR form) inside it; the setup
is also shown apart. Every round checks that steepest ends with the book's weights (1e-9 relative) and printed
the book's accuracies.

Data: the book's 50,000 / 10,000 split from the MNIST IDX files (``steepest.datasets.book``) when the folder has
the training files; else the t10k images only, 8,000 to train and 2,000 to test, in the book's form (float32
pixels / 256). The folder: ``--data``, ``$STEEPEST_MNIST_DIR`` or ``../shared/data/mnist``.

Drift: the book, the book with every sum taken in another order (``tests/book_rounding.py``: inputs and hidden
neurons listed backwards, mini-batches summed backwards; its own rounding noise), and steepest, trained together
for ``--drift`` epochs of chapter 1; per epoch the three test accuracies and the largest relative difference of the
parameters from the book's.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import random
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

from steepest import network, network2
from steepest.cli import measure

import naive_network as nv
from book_rounding import relabelled, relabelled_params, reordered

SIZES = [784, 30, 10]
CH3 = {
    "lmbda": 5.0,
    "monitor_evaluation_cost": True,
    "monitor_evaluation_accuracy": True,
    "monitor_training_cost": True,
    "monitor_training_accuracy": True,
}


def load(folder: str):
    from steepest.datasets import book, load_mnist

    if any(name.startswith("train-images") for name in os.listdir(folder)):
        training, _, test = book.load_data_wrapper(folder)
        return training, test, f"MNIST, the book's 50,000 training / 10,000 test images, from {folder}"
    images, labels = load_mnist(folder, kind="t10k")
    X = np.multiply(images, np.float32(1 / 256), dtype=np.float32)
    training = [(X[i].reshape(784, 1), nv.vectorized_result(int(labels[i]))) for i in range(8000)]
    test = [(X[i].reshape(784, 1), int(labels[i])) for i in range(8000, 10000)]
    return training, test, f"MNIST t10k only (no training files): 8,000 to train, 2,000 to test, from {folder}"


def quiet(fn):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn()
    return result, out.getvalue()


def run(chapter: int, impl: str, training, test, epochs: int, seed: int):
    """One seeded run; returns (network, printed lines)."""
    np.random.seed(seed)
    random.seed(seed)
    if chapter == 1:
        net = nv.Network(SIZES) if impl == "book" else network.Network(SIZES)
        kwargs = {} if impl == "book" else {"backend": impl}
        call = lambda: net.SGD(training, epochs, 10, 3.0, test_data=test, **kwargs)  # noqa: E731
    else:
        net = nv.Network2(SIZES) if impl == "book" else network2.Network(SIZES)
        kwargs = {} if impl == "book" else {"backend": impl}
        call = lambda: net.SGD(training, epochs, 10, 0.5, evaluation_data=test, **CH3, **kwargs)  # noqa: E731
    _, out = quiet(call)
    return net, out


def accuracies(out: str) -> list[str]:
    return [
        line.split(":")[1].split("/")[0].strip()
        for line in out.splitlines()
        if "ccuracy on evaluation" in line or line.startswith("Epoch") and ":" in line
    ]


def timings(args, training, test) -> None:
    impls = ["book", "numba", "numpy"]
    names = {"book": "the book (per example)", "numba": "steepest (default)", "numpy": "steepest numpy"}
    for chapter in (1, 3):
        for impl in impls[1:]:  # compile and warm up, untimed
            run(chapter, impl, training[:200], test[:50], 1, 0)
        # rounds of (book, numba, numpy) at 1 BLAS thread, then at the default; a new seed every round
        seeds, book, epoch = [], {}, {(impl, threads): [] for impl in impls[1:] for threads in (1, 0)}

        def candidate(impl, threads):
            def go():
                if (impl, threads) == ("book", 1):
                    seeds.append(100 + len(seeds))
                with measure.blas_threads(threads or None):
                    return run(chapter, impl, training, test, args.epochs, seeds[-1])

            return go

        def check(key, result):  # untimed: steepest ends where the book ends, and printed what it printed
            (impl, threads), (net, out) = key, result
            if impl == "book":
                book[threads] = net, out
                return
            epoch[key].append(statistics.median(net.history.elapsed))
            ref, ref_out = book[threads]
            err = max(
                float(np.max(np.abs(np.asarray(p) - q)) / np.max(np.abs(q)))
                for p, q in zip(net.weights + net.biases, ref.weights + ref.biases)
            )
            assert err <= 1e-9, (chapter, impl, err)
            assert accuracies(out) == accuracies(ref_out), (chapter, impl)

        fns = {(impl, threads): candidate(impl, threads) for threads in (1, 0) for impl in impls}
        cmed = measure.interleaved(fns, args.rounds, warmup=0, check=check)
        what = "network.py, quadratic, eta 3.0, test_data" if chapter == 1 else "network2.py, cross-entropy, "
        what += "" if chapter == 1 else "lmbda 5.0, eta 0.5, monitoring all four"
        print(f"\nchapter {chapter}: {what}; medians of {args.rounds} interleaved rounds")
        print(
            f"  {'':<24}{'seconds per epoch':>22}{'speed-up per epoch':>22}{f'speed-up, {args.epochs}-epoch call':>26}"
        )
        print(
            f"  {'implementation':<24}{'1 thread':>11}{'default':>11}{'1 thread':>11}{'default':>11}{'1 thread':>13}"
            f"{'default':>13}"
        )
        med = {key: statistics.median(v) for key, v in epoch.items()}
        med |= {("book", threads): cmed[("book", threads)] / args.epochs for threads in (1, 0)}  # the book: no setup
        for impl in impls:
            e1, e0 = med[(impl, 1)], med[(impl, 0)]
            r1, r0 = med[("book", 1)] / e1, med[("book", 0)] / e0
            c1, c0 = cmed[("book", 1)] / cmed[(impl, 1)], cmed[("book", 0)] / cmed[(impl, 0)]
            print(f"  {names[impl]:<24}{e1:>11.4f}{e0:>11.4f}{r1:>10.1f}x{r0:>10.1f}x{c1:>12.1f}x{c0:>12.1f}x")
        setup = cmed[("numba", 0)] - args.epochs * med[("numba", 0)]
        print(f"  steepest's one-time setup per SGD call (pairs to arrays, CSR, first metrics): {setup:.3f} s")


def drift(args, training, test) -> None:
    """Chapter 1 (``--chapter 1``: quadratic, eta 3.0) or 3 (cross-entropy, lmbda 5.0, eta 0.5): the book, the book
    with every sum in another order, and steepest, each snapshotted at the end of every epoch (by the
    method the book's SGD calls there once: ``evaluate``, or ``total_cost`` on the evaluation data)."""
    ch3 = args.chapter == 3
    book_cls = nv.Network2 if ch3 else nv.Network

    def snapshots(cls):
        class Snapshots(cls):
            def keep(self):
                self.kept = getattr(self, "kept", [])
                self.kept.append([np.array(p, dtype=np.float64) for p in self.weights + self.biases])

            def evaluate(self, test_data):
                self.keep()
                return super().evaluate(test_data)

            def total_cost(self, data, lmbda, convert=False):
                if convert:
                    self.keep()
                return super().total_cost(data, lmbda, convert)

        return Snapshots

    runs = {}
    for name, cls, train, evaluate in (
        ("book", book_cls, training, test),
        ("reordered", reordered(book_cls), relabelled(training), relabelled(test)),
        ("steepest", network2.Network if ch3 else network.Network, training, test),
    ):
        np.random.seed(args.seed)
        random.seed(args.seed)
        net = snapshots(cls)(SIZES)
        if ch3:
            go = lambda net=net, train=train, evaluate=evaluate: net.SGD(  # noqa: E731
                train,
                args.drift,
                10,
                0.5,
                lmbda=5.0,
                evaluation_data=evaluate,
                monitor_evaluation_cost=True,
                monitor_evaluation_accuracy=True,
            )
        else:
            go = lambda net=net, train=train, evaluate=evaluate: net.SGD(  # noqa: E731
                train, args.drift, 10, 3.0, test_data=evaluate
            )
        _, out = quiet(go)
        runs[name] = (net, accuracies(out))

    def rel(a, b):
        return [max(float(np.max(np.abs(p - q)) / np.max(np.abs(q))) for p, q in zip(x, y)) for x, y in zip(a, b)]

    book = runs["book"][0].kept
    own = [relabelled_params(kept) for kept in runs["reordered"][0].kept]
    d_ours, d_own = rel(runs["steepest"][0].kept, book), rel(own, book)
    what = "cross-entropy, lmbda 5.0, eta 0.5" if ch3 else "quadratic, eta 3.0"
    print(f"\nchapter {args.chapter} ({what}) seeded with {args.seed}, {args.drift} epochs: test accuracy, and the")
    print("largest relative difference of the parameters from the book's after each epoch")
    print(
        f"{'epoch':>5} {'book':>6} {'steepest':>9} {'reordered':>10} {'steepest vs book':>17} {'reordered vs book':>18}"
    )
    for j in range(args.drift):
        acc = [runs[k][1][j] for k in ("book", "steepest", "reordered")]
        print(f"{j:>5} {acc[0]:>6} {acc[1]:>9} {acc[2]:>10} {d_ours[j]:>17.1e} {d_own[j]:>18.1e}")


def profile(args, training, test) -> None:
    """Where steepest's chapter 1 epoch goes: the kernel, the shuffle, the evaluation, the setup."""
    from steepest._backends.numba import network as kernels
    from steepest.network.data import _as_data

    net = network.Network(SIZES, seed=0)
    net.evaluate(test[:300])  # load the compiled kernels (untimed)
    kernels.csr(np.zeros((2, 784)), 0.5)
    once = functools.partial(measure.median_time, repeat=1, warmup=0)  # what an SGD call does once
    pairs = lambda: _as_data("training_data", training, 784, 10, np.dtype(np.float64), True)  # noqa: E731
    t_pairs = once(pairs)
    train = pairs()
    t_csr = once(lambda: kernels.csr(train.rows, 0.5))
    indptr, indices, values = kernels.csr(train.rows, 0.5)
    n = train.n
    weights = tuple(np.ascontiguousarray(w.T) for w in net.weights)
    biases = tuple(b[:, 0].copy() for b in net.biases)
    perm = np.random.default_rng(0).permutation(n)
    empty = np.zeros((0, 0))
    kernels.sgd_batches(
        indptr, indices, values, empty, True, train.targets, perm, 0, 100, 10, weights, biases, 3.0, 1.0, True
    )
    t_kernel = measure.median_time(
        lambda: kernels.sgd_batches(
            indptr, indices, values, empty, True, train.targets, perm, 0, n, 10, weights, biases, 3.0, 1.0, True
        ),
        args.rounds,
        warmup=0,
    )
    order = list(range(n))
    t_shuffle = once(lambda: (random.shuffle(order), np.array(order, dtype=np.int64)))
    test_data = _as_data("test_data", test, 784, 10, np.dtype(np.float64), False)
    net._correct(test_data)  # its CSR form, once per SGD call
    t_eval = measure.median_time(lambda: net._correct(test_data), args.rounds, warmup=0)
    nnz = indptr[-1] / n
    print(f"\nsteepest, chapter 1, {n} training images ({nnz:.0f} non-zero pixels each), {test_data.n} test images")
    print(
        f"  kernel, one epoch         {t_kernel:8.4f} s  ({t_kernel / (n / 10) * 1e6:.1f} us per mini-batch,"
        f" {t_kernel / (n * nnz) * 1e9:.2f} ns per non-zero pixel)"
    )
    print(f"  random.shuffle + order    {t_shuffle:8.4f} s")
    print(f"  evaluate(test_data)       {t_eval:8.4f} s")
    print(f"  once per SGD call: pairs to arrays {t_pairs:.4f} s, CSR {t_csr:.4f} s")


def main(argv=None) -> int:
    default = os.environ.get("STEEPEST_MNIST_DIR") or os.path.join(HERE, "..", "..", "shared", "data", "mnist")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed SGD call (default 3)")
    parser.add_argument("--data", default=default, help="MNIST folder (default $STEEPEST_MNIST_DIR)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drift run (default 0)")
    parser.add_argument("--drift", type=int, default=0, metavar="EPOCHS", help="measure the drift over EPOCHS")
    parser.add_argument("--chapter", type=int, choices=(1, 3), default=1, help="the drift run's chapter (default 1)")
    parser.add_argument("--profile", action="store_true", help="where steepest's epoch goes")
    args = parser.parse_args(argv)
    training, test, source = load(args.data)
    print(f"{source}; {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, numpy {np.__version__}")
    if args.drift:
        drift(args, training, test)
    elif args.profile:
        profile(args, training, test)
    else:
        timings(args, training, test)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
