"""``steepest info``: version, backends, threads, CPU features, and a self-check of every backend."""

from __future__ import annotations

import os
import platform
import time

import numpy as np

NAME = "info"
HELP = "show the version, backends, threads and CPU features, and self-check every backend"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip the self-check of every backend against steepest.reference (and numba's first compile)",
    )


def self_check(seed: int = 0) -> list[tuple]:
    """Run every available backend on a small problem, compare with the reference (float64 and float32).

    Returns rows (backend, dtype, loss, max relative loss error, max gradient error, seconds, ok).
    """
    from .. import _backends, reference
    from ..losses import SoftmaxLoss, SVMLoss

    rng = np.random.default_rng(seed)
    C, D, N = 10, 65, 1037
    W = rng.standard_normal((C, D)) * 0.05
    X = rng.standard_normal((D, N))
    y = rng.integers(0, C, N)
    rows = []
    for name in _backends.backends():
        for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-4)):
            Wt, Xt = W.astype(dtype), X.astype(dtype)
            worst_loss = worst_grad = 0.0
            start = time.perf_counter()
            for cls, ref in (
                (SVMLoss, reference.svm_loss_vectorized),
                (SoftmaxLoss, reference.softmax_loss_vectorized),
            ):
                loss, dW = cls(Xt, y, reg=0.01, backend=name).loss_grad(Wt)
                rloss, rdW = ref(Wt, Xt, y, 0.01)
                worst_loss = max(worst_loss, abs(loss - rloss) / abs(rloss))
                worst_grad = max(worst_grad, float(np.max(np.abs(dW - rdW)) / np.max(np.abs(rdW))))
            elapsed = time.perf_counter() - start
            ok = worst_loss <= tol and worst_grad <= tol
            rows.append((name, np.dtype(dtype).name, worst_loss, worst_grad, elapsed, ok))
    return rows


def run(args) -> int:
    from .. import __version__, _backends
    from .._table import key_values, table

    available = _backends.backends()
    pairs = [
        ("steepest", __version__),
        ("python", platform.python_version()),
        ("numpy", np.__version__),
        ("machine", f"{platform.machine()}, {_backends.cpu_count()} cores"),
        ("backends", ", ".join(available)),
        ("default backend", _backends.get_backend()),
        ("threads", _backends.get_num_threads()),
    ]
    for name in _backends.NAMES:
        if name not in available:
            pairs.append((f"{name} unavailable", _backends.unavailable().get(name, "?")))
    if "cpp" in available:
        from .. import _core as core  # its system functions (not kernels): CPU features, SIMD path

        features = core.cpu_features()
        pairs.append(("CPU features", " ".join(k for k, v in features.items() if v) or "baseline only"))
        pairs.append(("C++ SIMD path", core.simd_path()))
        from .measure import multiply_add_rate

        rate = multiply_add_rate(repeat=3)
        pairs.append(
            (
                "peak multiply-adds",
                f"{rate / 1e9:.1f} G/s in float64 on {_backends.get_num_threads()} threads, "
                "measured now (the compute floor of `steepest bench`)",
            )
        )
    if "numba" in available:
        import numba

        pairs.append(("numba", f"{numba.__version__}, threading layer {numba.config.THREADING_LAYER}"))
    print(key_values(pairs, title="steepest info"))
    if args.no_check:
        return 0
    from . import numba_compile_notice

    numba_compile_notice(available)
    rows = self_check()
    print()
    print(
        table(
            ["backend", "dtype", "loss rel. error", "grad rel. error", "seconds", "ok"],
            rows,
            title="self-check against steepest.reference (SVM and softmax, C=10, D=65, N=1037)",
        )
    )
    if "numba" in available:
        kernels = _backends.get("numba")
        print(
            f"\nnumba threading layer in use: {kernels.threading_layer()}; a call gets no more threads than its "
            f"work keeps busy ({kernels.WORK_PER_THREAD:,} multiply-adds a thread), so small calls never wait "
            f"for idle workers; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')} (idle OpenMP "
            "workers sleep instead of spinning on a busy core)"
        )
    return 0 if all(r[-1] for r in rows) else 1
