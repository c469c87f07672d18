"""One SGD epoch of Nielsen's [784, 30, 10] network on 8,000 MNIST images, mini-batch 10, eta 3.0.

    python bench/bench_network.py [--repeats 5] [--data PATH]

Times, side by side in one process, the book's per-example algorithm (``tests/naive_network.py``,
``update_mini_batch`` over the mini-batches) and steepest's matrix form (the Numba kernel and the
NumPy path), all on the same mini-batches from the same starting weights, and prints the medians and
the ratios (target: steepest >= 10x the book). It checks the results too: after the timed epoch
every implementation holds the same weights (float64, 1e-12 relative). The Numba kernel is compiled
before timing. Uses the real t10k images from ``$STEEPEST_MNIST_DIR`` or ``../shared/data/mnist``,
else synthetic images of MNIST's sparsity (said in the output).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

from steepest.network import Network, mnist_for_network, to_pairs

import naive_network


def load(path: str, n: int):
    if os.path.exists(os.path.join(path, "t10k-images-idx3-ubyte.gz")):
        from steepest.datasets import load_mnist

        images, labels = load_mnist(path, kind="t10k")
        X, y = mnist_for_network(images[:n], labels[:n])
        return X, y, f"MNIST t10k[:{n}] from {path}"
    rng = np.random.default_rng(0)
    images = (rng.integers(0, 256, (n, 784)) * (rng.random((n, 784)) < 0.19)).astype(np.uint8)
    X, y = mnist_for_network(images, rng.integers(0, 10, n))
    return X, y, f"synthetic MNIST-like images (n={n}; no MNIST folder at {path})"


def main(argv=None) -> int:
    default = os.environ.get("STEEPEST_MNIST_DIR") or os.path.join(HERE, "..", "..", "shared", "data", "mnist")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=8000)
    parser.add_argument("--data", default=default)
    args = parser.parse_args(argv)

    X, y, source = load(args.data, args.n)
    n, m, eta = X.shape[1], 10, 3.0
    pairs = to_pairs(X, y)
    start = Network([784, 30, 10], seed=0)
    Network([784, 30, 10], seed=0).SGD((X[:, :100], y[:100]), 1, m, eta, verbose=False, backend="numba")  # compile

    def run_naive():
        ref = naive_network.Network([784, 30, 10])
        ref.weights = [w.copy() for w in start.weights]
        ref.biases = [b.copy() for b in start.biases]
        perm = np.random.default_rng(1).permutation(n)
        t = time.perf_counter()
        for k in range(0, n, m):
            ref.update_mini_batch([pairs[i] for i in perm[k : k + m]], eta)
        return time.perf_counter() - t, ref.weights + ref.biases

    def run_steepest(backend):
        net = Network([784, 30, 10], seed=0)
        net.rng = np.random.default_rng(1)  # the same permutation as run_naive
        t = time.perf_counter()
        net.SGD((X, y), 1, m, eta, verbose=False, backend=backend)
        return time.perf_counter() - t, net.weights + net.biases

    runs = {
        "book (per example)": run_naive,
        "steepest numba": lambda: run_steepest("numba"),
        "steepest numpy": lambda: run_steepest("numpy"),
    }
    times = {k: [] for k in runs}
    params = {}
    for _ in range(args.repeats):  # interleaved, so load changes hit every variant alike
        for name, fn in runs.items():
            t, p = fn()
            times[name].append(t)
            params[name] = p
    ref = params["book (per example)"]
    for name, p in params.items():
        err = max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(p, ref))
        assert err <= 1e-12, (name, err)

    print(f"one epoch, [784, 30, 10], mini-batch {m}, eta {eta}, float64: {source}")
    print(f"medians of {args.repeats} interleaved repeats; results checked equal to the book's (1e-12)")
    base = statistics.median(times["book (per example)"])
    print(f"{'implementation':<22}{'median s':>10}{'min s':>10}{'speed-up':>10}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<22}{med:>10.4f}{min(ts):>10.4f}{base / med:>9.1f}x")
    ratio = base / statistics.median(times["steepest numba"])
    print(f"steepest (default backend) vs the book: {ratio:.1f}x (target >= 10x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
