"""A 51 x 51 plane of the SVM loss on CIFAR-shaped data (D = 3073, C = 10, N = 50,000, float64).

    python bench/bench_landscape.py [--repeats 3] [--n 50000] [--points 51]

Times, side by side in one process, ``steepest.landscape.loss_on_plane`` on every available backend
(one pass over X for the three score matrices, then O(C * N) per grid point) against one NumPy
vectorized SVM loss evaluation (the unit: ``scores = W.dot(X)``, margins, sum; loss only) and the
point-by-point way (2,601 loss evaluations: a few are timed and the total extrapolated), in interleaved
rounds (``steepest.cli.measure.interleaved``). Prints medians and ratios; targets: C++ plane <= 3x one
NumPy loss, Numba within 2x of C++. Checks the results: every backend's plane equals the point-by-point
loss at a few grid points (1e-12 relative), and the backends agree with each other. Synthetic data with
a fixed seed. Numba is compiled first.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

import steepest
from steepest import reference
from steepest.cli import measure
from steepest.landscape import centered_grid, loss_on_plane, random_direction


def svm_loss_numpy(W, X, y, reg, delta=1.0):
    """One NumPy vectorized SVM loss evaluation (loss only, the notes' fully vectorized form)."""
    scores = W.dot(X)
    columns = np.arange(X.shape[1])
    margins = np.maximum(0, scores - scores[y, columns] + delta)
    margins[y, columns] = 0
    return margins.sum() / X.shape[1] + reg * np.sum(W * W)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--d", type=int, default=3073)
    parser.add_argument("--points", type=int, default=51)
    parser.add_argument("--pointwise", type=int, default=3, help="point-by-point evaluations to time")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    C, D, N = 10, args.d, args.n
    X = rng.standard_normal((D, N))
    y = rng.integers(0, C, N)
    W = rng.standard_normal((C, D)) * 1e-3
    d1, d2 = random_direction(W, 1, "row"), random_direction(W, 2, "row")
    reg = 2.5e-3
    grid = centered_grid(args.points, 1.0)
    print(
        f"SVM loss plane {len(grid)} x {len(grid)}: D = {D}, C = {C}, N = {N:,}, float64; "
        f"backends {steepest.backends()}; {steepest.get_num_threads()} threads"
    )

    points = [(grid[i], grid[j]) for i, j in [(0, 0), (len(grid) // 2, len(grid) // 3), (len(grid) - 1, 1)]][
        : max(1, args.pointwise)
    ]
    pointwise_values = [svm_loss_numpy(W + a * d1 + b * d2, X, y, reg) for a, b in points]
    planes = {}
    for name in steepest.backends():  # checked (and compiled) before anything is timed
        loss = steepest.SVMLoss(X, y, reg=reg, backend=name)
        small = loss.subset(np.arange(64))
        loss_on_plane(small, W, d1, d2, grid[:3], grid[:3])  # compile / warm up
        planes[name] = loss_on_plane(loss, W, d1, d2, grid, grid)
        index = {v: k for k, v in enumerate(grid)}
        for (a, b), expected in zip(points, pointwise_values):
            got = planes[name].losses[index[a], index[b]]
            if abs(got - expected) > 1e-12 * abs(expected):
                raise SystemExit(
                    f"{name}: plane value {got!r} at ({a}, {b}) differs from the point-by-point {expected!r}"
                )
    names = list(planes)
    for name in names[1:]:
        np.testing.assert_allclose(planes[name].losses, planes[names[0]].losses, rtol=1e-12)

    # every candidate in interleaved rounds; the unit: one NumPy vectorized SVM loss evaluation (the
    # notes' / assignment's code); the point-by-point way: one point of the grid, times the grid's size
    fns = {
        "unit": lambda: svm_loss_numpy(W, X, y, reg),
        "with grad": lambda: reference.svm_loss_vectorized(W, X, y, reg),
        "point": lambda: [svm_loss_numpy(W + a * d1 + b * d2, X, y, reg) for a, b in points],
    }
    for name in names:
        loss = steepest.SVMLoss(X, y, reg=reg, backend=name)
        fns[name] = lambda loss=loss: loss_on_plane(loss, W, d1, d2, grid, grid)
    t = measure.interleaved(fns, args.repeats, warmup=0)
    unit = t["unit"]
    pointwise_total = t["point"] / len(points) * len(grid) ** 2
    rows = [
        ("NumPy vectorized SVM loss, once", unit, 1.0),
        ("NumPy vectorized SVM loss + gradient, once", t["with grad"], t["with grad"] / unit),
        (f"point by point, {len(grid) ** 2} evaluations (extrapolated)", pointwise_total, pointwise_total / unit),
    ]
    rows += [(f"loss_on_plane, {name}", t[name], t[name] / unit) for name in names]

    width = max(len(r[0]) for r in rows)
    print(f"{'work'.ljust(width)}  {'median s':>10}  {'x one NumPy loss':>16}")
    for label, t, ratio in rows:
        print(f"{label.ljust(width)}  {t:10.4f}  {ratio:16.2f}")
    times = {r[0].split(", ")[-1]: r[1] for r in rows if r[0].startswith("loss_on_plane")}
    if "cpp" in times:
        print(
            f"target C++ <= 3x one NumPy loss: {times['cpp'] / unit:.2f}x -> "
            f"{'met' if times['cpp'] <= 3 * unit else 'NOT met'}"
        )
        if "numba" in times:
            print(
                f"target Numba within 2x of C++: {times['numba'] / times['cpp']:.2f}x -> "
                f"{'met' if times['numba'] <= 2 * times['cpp'] else 'NOT met'}"
            )
    print("results checked: plane == point-by-point (1e-12 relative) at", len(points), "points; backends agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
