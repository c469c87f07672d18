"""Tests specific to the compiled core ``steepest._core`` (the cross-backend tests live elsewhere).

Every kernel's agreement with the naive references is tested by test_contract.py, for every backend;
here it is run again in a subprocess under every SIMD path the CPU has (``STEEPEST_SIMD``). Also:
results must be bitwise identical for any thread count; the bindings refuse bad buffers; Ctrl-C
stops a long call quickly and leaves the module usable; concurrent Python threads get the serial
results; nothing leaks; an idle pool sleeps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

core = pytest.importorskip("steepest._core", reason="the compiled extension steepest._core is not built")
import naive

kernels = core


def problem(C, D, N, dtype=np.float64, order="C", seed=0, scale=1.0):
    return naive.make_problem(C, D, N, dtype, seed=seed, order=order, scale=scale)


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


# ---------------------------------------------------------------------------------------------
# the SIMD path (test_every_simd_path runs the "reference" and "bitwise" tests of this file and
# the cpp cases of test_contract.py again under every path)


def test_reference_simd_path_as_requested():
    want = os.environ.get("STEEPEST_EXPECT_SIMD")
    path = kernels.simd_path()
    assert path in core.supported_simd_paths()
    if want:
        assert path == want


def test_reference_multiply_add_rate():
    # the compute floor of `steepest bench`: a plausible rate on every SIMD path (runs per path)
    one = core.multiply_add_rate(1, 0.02)
    assert 1e8 < one < 1e12
    assert 1e8 < core.multiply_add_rate(3, 0.02) < 1e13
    with pytest.raises(ValueError, match="n_threads"):
        core.multiply_add_rate(0)
    with pytest.raises(ValueError, match="seconds"):
        core.multiply_add_rate(1, 0.0)


# ---------------------------------------------------------------------------------------------
# dispatch


def test_cpu_features_and_path():
    features = kernels.cpu_features()
    assert isinstance(features, dict) and all(isinstance(v, bool) for v in features.values())
    assert {"sse2", "avx2", "fma", "avx512f"} <= set(features)
    paths = core.supported_simd_paths()
    assert paths[0] == "baseline"
    assert ("avx2" in paths) == (features["avx2"] and features["fma"])
    if "STEEPEST_SIMD" not in os.environ:
        assert kernels.simd_path() == paths[-1]


CONTRACT = Path(__file__).with_name("test_contract.py")


def _run_with_simd(path, extra_args=(), env_extra=None, files=(Path(__file__),)):
    env = dict(os.environ, STEEPEST_SIMD=path, STEEPEST_EXPECT_SIMD=path)
    env.update(env_extra or {})
    cmd = [sys.executable, "-m", "pytest", *map(str, files), "-q", "-p", "no:cacheprovider", *extra_args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("D", [45, 48, 77])
def test_bitwise_scores_with_and_without_line_aligned_rows(dtype, order, D):
    # A long pass (B >= 64 rows of W) scores from a copy of W whose rows start on whole cache lines,
    # a short one (a mini-batch) from W in place: every score must be the same bits either way.
    C, N = 10, 1300
    W, X, y = problem(C, D, N, dtype, order, seed=D)
    whole = core.scores(W, X, None, 2)
    batches = np.array_split(np.arange(N, dtype=np.int64), 26)  # 50 examples: W in place
    assert max(len(b) for b in batches) < 64 * C <= N
    pieces = np.concatenate([core.scores(W, X, b, 2) for b in batches], axis=1)
    assert _bits(pieces) == _bits(whole)


@pytest.mark.parametrize("path", ["baseline", "avx2", "avx512"])
def test_every_simd_path(path):
    if path not in core.supported_simd_paths():
        pytest.skip(f"this CPU has no {path}")
    # this file's "reference" and "bitwise" tests, and every cpp case of the contract (the kernels
    # against the naive references)
    select = "(test_cpp_core and (reference or bitwise)) or (test_contract and cpp)"
    result = _run_with_simd(path, ["-k", select], files=(Path(__file__), CONTRACT))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout and " 0 passed" not in result.stdout


def test_simd_request_above_cpu_falls_back_and_typo_fails():
    code = "import steepest._core as c; print(c.simd_path())"
    env = dict(os.environ, STEEPEST_SIMD="avx512")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() in core.supported_simd_paths()
    env["STEEPEST_SIMD"] = "avx9000"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "STEEPEST_SIMD" in out.stderr


# ---------------------------------------------------------------------------------------------
# determinism


def _bits(x):
    return np.asarray(x).tobytes() if isinstance(x, np.ndarray) else float(x).hex()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_bitwise_thread_counts(dtype, order):
    N = 16 * 64 * 8 + 7  # not a multiple of the tile size: ragged tiles and chunks, spread tiles in them
    W, X, y = problem(10, 45, N, dtype, order, seed=11)
    idx = np.random.default_rng(2).integers(0, N, 3001).astype(np.int64)
    calls = [
        lambda n: core.scores(W, X, None, n),
        lambda n: core.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, n),
        lambda n: core.svm_loss_grad(W, X, y, idx, 0.1, 1.0, True, n),
        lambda n: core.softmax_loss_grad(W, X, y, None, 0.1, True, n),
        lambda n: core.softmax_loss_grad(W, X, y, idx, 0.1, True, n),
    ]
    # 12 stacked models: a mini-batch takes the panel pass, all N examples the tiles
    WK = np.ascontiguousarray(np.stack([(1.0 + 0.1 * m) * W for m in range(12)]))
    regs = np.linspace(0.0, 1.0, 12)
    steps = -np.geomspace(1e-3, 1.0, 12)
    long_idx = np.random.default_rng(3).integers(0, N, 8192 + 3001).astype(np.int64)
    calls += [
        lambda n: core.svm_stacked_loss_grad(WK, X, y, idx, regs, 1.0, n),
        lambda n: core.softmax_stacked_loss_grad(WK, X, y, idx, regs, n),
        lambda n: core.svm_stacked_loss_grad(WK, X, y, None, regs, 1.0, n),
        lambda n: (core.svm_stacked_loss_grad(WK, X, y, idx, regs, 1.0, n, steps, out := np.empty_like(WK))[0], out),
        lambda n: core.svm_stacked_losses(WK, X, y, None, regs, 1.0, n),
        lambda n: core.softmax_stacked_losses(WK, X, y, long_idx, regs, n),  # rounds of 8192 examples
    ]
    if dtype == np.float64:
        calls += [
            lambda n: core.svm_fd(W, X, y, 0.1, 1.0, 0.05, n),
            lambda n: core.softmax_fd(W, X, y, 0.1, 1e-4, n),
        ]
    for call in calls:
        first = call(1)
        first = first if isinstance(first, tuple) else (first,)
        expected = [_bits(p) for p in first if p is not None]
        for n in (1, 2, 3, 8):
            for _ in range(20 if n == 2 else 3):
                got = call(n)
                got = got if isinstance(got, tuple) else (got,)
                assert [_bits(p) for p in got if p is not None] == expected


def test_bitwise_grids_thread_counts():
    rng = np.random.default_rng(3)
    C, B = 10, 5 * 1024 + 77
    S0, S1, S2 = (rng.standard_normal((C, B)) for _ in range(3))
    y = rng.integers(0, C, B).astype(np.int64)
    a = np.linspace(-1, 1, 11)
    first_svm = core.svm_grid(S0, S1, S2, y, a, a, 1.0, 1).tobytes()
    first_soft = core.softmax_grid(S0, S1, S2, y, a, a, 1).tobytes()
    for n in (2, 3, 8):
        for _ in range(5):
            assert core.svm_grid(S0, S1, S2, y, a, a, 1.0, n).tobytes() == first_svm
            assert core.softmax_grid(S0, S1, S2, y, a, a, n).tobytes() == first_soft


# ---------------------------------------------------------------------------------------------
# the bindings refuse bad buffers


def test_binding_refuses_bad_arrays():
    W, X, y = problem(4, 9, 30)
    bad_type = [
        (X.astype(np.int64), "X"),
        (X.astype(np.float16), "X"),
        (X.astype(np.float32), "X"),  # W float64, X float32: mismatched
        (X[:, ::2], "X"),  # strided view
        (X.astype(X.dtype.newbyteorder()), "X"),
    ]
    for bad, name in bad_type:
        with pytest.raises(TypeError, match=name):
            core.svm_loss_grad(W, bad, y[: bad.shape[1]], None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError):
        core.svm_loss_grad(W, X.tolist(), y, None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError):
        core.svm_loss_grad(None, X, y, None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError, match="W"):
        core.svm_loss_grad(np.asfortranarray(W), X, y, None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError, match="y"):
        core.svm_loss_grad(W, X, y.astype(np.int32), None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError, match="y"):
        core.svm_loss_grad(W, X, y.astype(np.float64), None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError, match="idx"):
        core.scores(W, X, np.arange(3, dtype=np.int32), 1)
    with pytest.raises(TypeError, match="idx"):
        core.scores(W, X, [0, 1], 1)
    # misaligned float64 buffer
    raw = np.zeros(W.size * 8 + 1, dtype=np.uint8)
    mis = np.frombuffer(raw.data, dtype=np.float64, count=W.size, offset=1).reshape(W.shape)
    with pytest.raises(TypeError, match="aligned"):
        core.scores(mis, X, None, 1)
    # finite differences are float64 only
    with pytest.raises(TypeError, match="float64"):
        core.svm_fd(W.astype(np.float32), X.astype(np.float32), y, 0.0, 1.0, 1e-5, 1)


def test_binding_refuses_bad_shapes_and_values():
    W, X, y = problem(4, 9, 30)
    with pytest.raises(ValueError, match="X.T"):
        core.svm_loss_grad(W, np.ascontiguousarray(X.T), y, None, 0.0, 1.0, True, 1)
    with pytest.raises(ValueError, match="y"):
        core.svm_loss_grad(W, X, y[:-1], None, 0.0, 1.0, True, 1)
    with pytest.raises(ValueError, match="y"):
        core.softmax_loss_grad(W, X, np.where(y == 0, 4, y), None, 0.0, True, 1)
    with pytest.raises(ValueError, match="idx"):
        core.scores(W, X, np.array([0, 30], dtype=np.int64), 1)
    with pytest.raises(ValueError, match="W"):
        core.scores(W[0], X, None, 1)
    with pytest.raises(ValueError, match="n_threads"):
        core.scores(W, X, None, 0)
    S = W @ X
    with pytest.raises(ValueError, match="betas"):
        core.svm_grid(S, S, None, y, np.zeros(2), np.ones(1), 1.0, 1)
    with pytest.raises(ValueError, match="S1"):
        core.svm_grid(S, S[:, :-1].copy(), None, y, np.zeros(2), np.zeros(1), 1.0, 1)


def test_stacked_losses_arguments_refused():
    W0, X, y = problem(4, 12, 50, order="F")
    W = np.ascontiguousarray(np.stack([W0, W0]))
    for call in (
        lambda W, X, regs: core.svm_stacked_losses(W, X, y, None, regs, 1.0, 2),
        lambda W, X, regs: core.softmax_stacked_losses(W, X, y, None, regs, 2),
    ):
        with pytest.raises(ValueError, match="one reg per model"):
            call(W, X, np.zeros(3))
        with pytest.raises(TypeError, match="regs must be float64"):
            call(W, X, np.zeros(2, np.float32))
        with pytest.raises(ValueError, match="W must be 3-D"):
            call(W0, X, np.zeros(2))
        with pytest.raises(TypeError, match="same dtype"):
            call(W.astype(np.float32), X, np.zeros(2))
        with pytest.raises(ValueError, match="D = W.shape"):
            call(W, np.asfortranarray(X[:-1]), np.zeros(2))


def test_stacked_step_arguments_refused():
    W0, X, y = problem(4, 12, 50, order="F")
    W = np.ascontiguousarray(np.stack([W0, W0]))
    regs, steps = np.zeros(2), np.full(2, -0.1)
    out = np.zeros_like(W)
    readonly = np.zeros_like(W)
    readonly.flags.writeable = False
    bad = [
        ((steps, None), ValueError, "step_sizes and out go together"),
        ((None, out), ValueError, "step_sizes and out go together"),
        ((np.full(3, -0.1), out), ValueError, "one step size per model"),
        ((steps.astype(np.float32), out), TypeError, "step_sizes must be float64"),
        ((steps, out.astype(np.float32)), TypeError, "W and out must have the same dtype"),
        ((steps, np.empty((2, 4, 11))), ValueError, "out must have W's shape"),
        ((steps, np.asfortranarray(out)), TypeError, "out must be C-contiguous"),
        ((steps, readonly), ValueError, "out must be writable"),
    ]
    for (st, o), error, message in bad:
        with pytest.raises(error, match=message):
            core.svm_stacked_loss_grad(W, X, y, None, regs, 1.0, 2, st, o)
        with pytest.raises(error, match=message):
            core.softmax_stacked_loss_grad(W, X, y, None, regs, 2, st, o)


def test_stacked_train_arguments_refused():
    """Every argument of the training run is checked before any step, and out is then left as it was."""
    W0, X, y = problem(4, 12, 50, order="F")
    W = np.ascontiguousarray(np.stack([W0, W0]))
    regs, steps = np.zeros(2), np.full(2, -0.1)
    batches = np.zeros((3, 5), np.int64)
    late = batches.copy()
    late[2, 4] = 50  # the last step's last position: no step may run before it is refused
    bad = [
        ((batches.astype(np.int32), steps, regs), TypeError, "batches must be an int64 array"),
        ((batches[0], steps, regs), ValueError, "batches must be 2-D"),
        ((np.asfortranarray(np.zeros((3, 5), np.int64)), steps, regs), TypeError, "batches must be C-contiguous"),
        ((np.zeros((0, 5), np.int64), steps, regs), ValueError, "at least one step"),
        ((late, steps, regs), ValueError, r"batches values must lie in \[0, 50\)"),
        ((batches, np.full(3, -0.1), regs), ValueError, "one step size per model"),
        ((batches, steps, np.zeros(3)), ValueError, "one reg per model"),
    ]
    for (b, st, r), error, message in bad:
        out = np.full_like(W, 7.0)
        with pytest.raises(error, match=message):
            core.svm_stacked_train(W, X, y, b, r, 1.0, st, out, 2)
        with pytest.raises(error, match=message):
            core.softmax_stacked_train(W, X, y, b, r, st, out, 2)
        assert np.all(out == 7.0)


def test_inputs_untouched_and_readonly_accepted():
    W, X, y = problem(4, 9, 30)
    for a in (W, X, y):
        a.setflags(write=False)
    before = [a.copy() for a in (W, X, y)]
    core.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, 2)
    core.svm_fd(W, X, y, 0.1, 1.0, 1e-5, 2)
    for a, b in zip((W, X, y), before):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# Ctrl-C and concurrency


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
@pytest.mark.parametrize("n_threads", [1, 2])
def test_ctrl_c_interrupts_long_call(n_threads):
    rng = np.random.default_rng(0)
    C, B = 10, 20000
    S0, S1, S2 = (rng.standard_normal((C, B)) for _ in range(3))
    y = rng.integers(0, C, B).astype(np.int64)
    grid = np.linspace(-1, 1, 801)  # 641,601 points: many seconds of work
    fired = {}

    def interrupt():
        fired["t"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.3, interrupt)
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            core.svm_grid(S0, S1, S2, y, grid, grid, 1.0, n_threads)
        stopped = time.perf_counter()
    finally:
        timer.cancel()
    assert "t" in fired, "the call finished before the signal; make it longer"
    assert stopped - fired["t"] < 0.25, f"took {stopped - fired['t']:.3f} s to stop"
    assert stopped - start < 5
    # the module is still usable and correct
    a = np.linspace(-1, 1, 3)
    out = core.svm_grid(S0, S1, S2, y, a, a, 1.0, n_threads)
    np.testing.assert_allclose(out, naive.svm_grid(S0, S1, S2, y, a, a, 1.0), rtol=1e-12)


def test_ctrl_c_during_fd_sweep():
    W, X, y = problem(10, 3073, 40000, seed=4, order="F")
    timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        t0 = time.perf_counter()
        try:
            for _ in range(200):  # long enough that the signal lands inside a call
                core.softmax_fd(W, X, y, 0.0, 1e-5, 2)
        except KeyboardInterrupt:
            pass
        else:  # pragma: no cover
            pytest.fail("no KeyboardInterrupt")
        assert time.perf_counter() - t0 < 30
    finally:
        timer.cancel()
    W2, X2, y2 = problem(4, 12, 50)
    loss, _ = core.svm_loss_grad(W2, X2, y2, None, 0.0, 1.0, True, 2)
    assert rel(loss, naive.svm_loss_grad(W2, X2, y2, None, 0.0, 1.0)[0]) < 1e-12


def test_ctrl_c_during_panel_pass():
    """Random search's candidates (the panel pass over all examples) stop within a block on Ctrl-C."""
    W, X, y = problem(10, 3073, 20000, seed=5, order="F")
    Wc = np.ascontiguousarray(np.stack([W * (1 + 0.01 * k) for k in range(64)]))  # 640 rows: ~1.3 G multiply-adds
    regs = np.zeros(64)
    fired = {}

    def interrupt():
        fired["t"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.1, interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in range(100):  # long enough that the signal lands inside a call
                core.svm_stacked_losses(Wc, X, y, None, regs, 1.0, 2)
        stopped = time.perf_counter()
    finally:
        timer.cancel()
    assert "t" in fired and stopped - fired["t"] < 0.5, f"took {stopped - fired.get('t', 0):.3f} s to stop"
    losses = core.svm_stacked_losses(
        Wc[:12, :, :50].copy(), np.asfortranarray(X[:50, :300]), y[:300], None, regs[:12], 1.0, 2
    )
    assert all(
        rel(losses[k], naive.svm_loss_grad(Wc[k, :, :50], X[:50, :300], y[:300], None, 0.0, 1.0)[0]) < 1e-12
        for k in range(12)
    )


def test_eight_python_threads_get_serial_results():
    W, X, y = problem(10, 200, 3001, seed=6, order="F")
    Xc = np.ascontiguousarray(X)
    WK = np.ascontiguousarray(np.stack([W * (1 + 0.1 * k) for k in range(12)]))
    idx = np.random.default_rng(6).integers(0, 3001, 500).astype(np.int64)
    jobs = [
        lambda: core.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, 2),
        lambda: core.softmax_loss_grad(W, Xc, y, None, 0.1, True, 3),
        lambda: core.svm_fd(W, Xc, y, 0.1, 1.0, 1e-3, 2),
        lambda: core.scores(W, X, None, 1),
        lambda: core.svm_stacked_loss_grad(WK, X, y, idx, np.full(12, 0.1), 1.0, 2),  # the panel pass
        lambda: core.softmax_stacked_losses(WK, Xc, y, None, np.full(12, 0.1), 2),
    ]
    serial = [[_bits(p) for p in (r if isinstance(r, tuple) else (r,)) if p is not None] for r in (j() for j in jobs)]

    def run(k):
        r = jobs[k % len(jobs)]()
        return k % len(jobs), [_bits(p) for p in (r if isinstance(r, tuple) else (r,)) if p is not None]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for k, bits in pool.map(run, range(64)):
            assert bits == serial[k]


def test_idle_pool_sleeps():
    # The workers (and a caller waiting for them) stay awake for at most half a millisecond after a
    # job, so that a training loop's next call needs no wake-up; then they must sleep, not spin. In a
    # subprocess: NumPy's BLAS threads spin on their own after a product.
    code = """
import time, numpy as np
from steepest import _core
rng = np.random.default_rng(0)
W = rng.standard_normal((10, 3073)); X = np.asfortranarray(rng.standard_normal((3073, 400)))
y = rng.integers(0, 10, 400).astype(np.int64)
for _ in range(50):
    _core.svm_loss_grad(W, X, y, rng.integers(0, 400, 200), 1.0, 1.0, True, 2)
assert _core.pool_size() >= 1
time.sleep(0.05)
cpu, wall = time.process_time(), time.perf_counter()
time.sleep(0.5)
print(time.process_time() - cpu, time.perf_counter() - wall)
"""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    cpu, wall = map(float, out.stdout.split())
    assert cpu < 0.1 * wall, f"{cpu:.3f} s of CPU in {wall:.3f} s idle: a thread keeps spinning"


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_no_leak_on_normal_and_error_paths():
    W, X, y = problem(4, 16, 40, order="F")
    bad = X.astype(np.float32)

    def calls():
        core.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, 2)
        core.softmax_fd(W, X, y, 0.1, 1e-5, 1)
        with pytest.raises(TypeError):
            core.svm_loss_grad(W, bad, y, None, 0.1, 1.0, True, 2)
        with pytest.raises(ValueError):
            core.scores(W, X, np.array([99], dtype=np.int64), 1)

    for _ in range(500):  # warm up allocator pools and the thread pool
        calls()
    before = _rss_bytes()
    for _ in range(10_000):
        calls()
    assert _rss_bytes() - before < 1 << 20
