"""Nielsen's network: back-propagation against finite differences, the matrix form against the book's
per-example algorithm (``naive_network.py``), reproducibility, files, bad inputs, and real MNIST."""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import sys
import threading

import numpy as np
import pytest

from steepest.network import Network, TrainingHistory, mnist_for_network, to_pairs, vectorized_result

import naive_network

MNIST_DIR = os.environ.get("STEEPEST_MNIST_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "mnist"
)
HAVE_MNIST = os.path.exists(os.path.join(MNIST_DIR, "t10k-images-idx3-ubyte.gz"))
BACKENDS = ["numpy", "numba"]


def make_data(n=53, sizes=(12, 7, 4), seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.random((sizes[0], n)).astype(dtype)
    y = rng.integers(0, sizes[-1], n)
    return X, y


def params(net):
    return [p.copy() for p in net.weights + net.biases]


def naive_from(net):
    ref = naive_network.Network(list(net.sizes), cost=net.cost)
    ref.weights = [w.astype(np.float64).copy() for w in net.weights]
    ref.biases = [b.astype(np.float64).copy() for b in net.biases]
    return ref


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def centered_grad(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fp = f()
        x[ix] = old - h
        fm = f()
        x[ix] = old
        grad[ix] = (fp - fm) / (2 * h)
        it.iternext()
    return grad


# ---- gradients ------------------------------------------------------------------------------


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("sizes", [(4, 5, 3), (3, 6, 4, 2)])
def test_backprop_matches_centered_finite_differences(cost, sizes):
    net = Network(sizes, cost=cost, seed=1, init="scaled")
    X, y = make_data(n=7, sizes=sizes, seed=2)
    X = X * 2 - 1
    data = (X, y)
    nb, nw = net.backprop(X, y)
    n = X.shape[1]
    worst = 0.0
    for analytic, p in zip(nw + nb, net.weights + net.biases):
        numeric = centered_grad(lambda: net.total_cost(data) * n, p)
        err = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
        worst = max(worst, float(err.max()))
    assert worst <= 1e-7, worst


def test_backprop_matches_steepest_reference_numerical_gradient():
    reference = pytest.importorskip("steepest.reference")
    fd = getattr(reference, "eval_numerical_gradient_centered", None)
    if fd is None:
        pytest.skip("steepest.reference.eval_numerical_gradient_centered is not there yet")
    for cost in ("quadratic", "cross_entropy"):
        net = Network([5, 4, 3], cost=cost, seed=3)
        X, y = make_data(n=6, sizes=(5, 4, 3), seed=4)
        nb, nw = net.backprop(X, y)
        for analytic, p in zip(nw + nb, net.weights + net.biases):
            before = p.copy()
            numeric = fd(lambda _, net=net, X=X, y=y: net.total_cost((X, y)) * X.shape[1], p)
            assert np.array_equal(p, before)  # restored
            err = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
            assert err.max() <= 1e-7


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_backprop_single_example_equals_book_and_batch_is_the_sum(cost):
    net = Network([12, 7, 4], cost=cost, seed=5)
    ref = naive_from(net)
    X, y = make_data(n=9, seed=6)
    total_b = [np.zeros_like(b) for b in net.biases]
    total_w = [np.zeros_like(w) for w in net.weights]
    for i in range(9):
        x, t = X[:, i : i + 1], vectorized_result(int(y[i]), 4)
        nb, nw = net.backprop(x, t)
        rb, rw = ref.backprop(x, t)
        for a, b in zip(nb + nw, rb + rw):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
        total_b = [s + a for s, a in zip(total_b, rb)]
        total_w = [s + a for s, a in zip(total_w, rw)]
    nb, nw = net.backprop(X, y)
    for a, b in zip(nb + nw, total_b + total_w):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---- the matrix form equals the book's per-example algorithm -----------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "cost,lmbda,m",
    [("quadratic", 0.0, 10), ("cross_entropy", 0.0, 8), ("quadratic", 5.0, 7), ("cross_entropy", 1.0, 53)],
)
def test_one_epoch_equals_the_book_on_the_same_mini_batches(backend, cost, lmbda, m):
    sizes = (12, 7, 4)
    X, y = make_data(n=53, sizes=sizes, seed=7)
    net = Network(sizes, cost=cost, seed=8)
    ref = naive_from(net)
    rng = copy.deepcopy(net.rng)
    pairs = to_pairs(X, y, one_hot=True, n_out=4)
    for _ in range(2):
        perm = rng.permutation(53)
        for k in range(0, 53, m):
            ref.update_mini_batch([pairs[i] for i in perm[k : k + m]], 3.0, lmbda=lmbda, n=53)
    net.SGD((X, y), 2, m, 3.0, lmbda=lmbda, verbose=False, backend=backend)
    for a, b in zip(net.weights + net.biases, ref.weights + ref.biases):
        assert rel_err(a, b) <= 1e-12


def test_mnist_sized_epoch_equals_the_book():
    rng = np.random.default_rng(9)
    X = (rng.random((784, 400)) * (rng.random((784, 400)) < 0.2)).astype(np.float64)  # sparse, like MNIST
    y = rng.integers(0, 10, 400)
    for backend in BACKENDS:
        net = Network([784, 30, 10], seed=10)
        ref = naive_from(net)
        perm = copy.deepcopy(net.rng).permutation(400)
        pairs = to_pairs(X, y)
        for k in range(0, 400, 10):
            ref.update_mini_batch([pairs[i] for i in perm[k : k + 10]], 3.0)
        net.SGD((X, y), 1, 10, 3.0, verbose=False, backend=backend)
        for a, b in zip(net.weights + net.biases, ref.weights + ref.biases):
            assert rel_err(a, b) <= 1e-12


def test_backends_and_layouts_agree():
    X, y = make_data(n=64, seed=11)
    results = []
    for backend in BACKENDS:
        for Xl in (X, np.asfortranarray(X), X.copy()[:, ::1]):
            net = Network([12, 7, 4], seed=12)
            net.SGD((Xl, y), 3, 5, 1.0, verbose=False, backend=backend)
            results.append(params(net))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert rel_err(a, b) <= 1e-12


# ---- reproducibility, data forms ----------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_fixed_seed_is_bit_reproducible(backend):
    X, y = make_data(n=80, seed=13)
    Xt, yt = make_data(n=20, seed=14)
    runs = []
    for seed in (15, 15, np.random.default_rng(15)):
        net = Network([12, 7, 4], seed=seed)
        h = net.SGD(
            (X, y),
            3,
            10,
            2.0,
            test_data=(Xt, yt),
            verbose=False,
            backend=backend,
            monitor=["training_cost", "training_accuracy", "test_cost", "test_accuracy"],
        )
        runs.append((params(net), h))
    for p, h in runs[1:]:
        for a, b in zip(runs[0][0], p):
            assert np.array_equal(a, b)
        assert h.training_cost == runs[0][1].training_cost
        assert h.test_accuracy == runs[0][1].test_accuracy
    other = Network([12, 7, 4], seed=16)
    assert not np.array_equal(other.weights[0], runs[0][0][0])


def test_book_form_and_array_form_give_the_same_run():
    X, y = make_data(n=40, seed=17)
    Xt, yt = make_data(n=15, seed=18)
    a = Network([12, 7, 4], seed=19)
    ha = a.SGD((X, y), 2, 4, 3.0, test_data=(Xt, yt), verbose=False)
    b = Network([12, 7, 4], seed=19)
    hb = b.SGD(
        zip(list(X.T[:, :, None]), [vectorized_result(int(k), 4) for k in y]),
        2,
        4,
        3.0,
        test_data=to_pairs(Xt, yt, one_hot=False, n_out=4),
        verbose=False,
    )
    for p, q in zip(params(a), params(b)):
        assert np.array_equal(p, q)
    assert ha.test_accuracy == hb.test_accuracy
    assert a.evaluate(to_pairs(Xt, yt, one_hot=False, n_out=4)) == a.evaluate((Xt, yt)) == ha.test_accuracy[-1]
    assert a.evaluate(to_pairs(Xt, yt, one_hot=True, n_out=4)) == ha.test_accuracy[-1]
    assert np.array_equal(a.predict(Xt), np.argmax(a.feedforward(Xt), axis=0))


def test_training_data_is_not_modified():
    X, y = make_data(n=30, seed=20)
    pairs = to_pairs(X, y, n_out=4)
    before = [(x.copy(), t.copy()) for x, t in pairs]
    X.flags.writeable = False
    Network([12, 7, 4], seed=0).SGD((X, y), 2, 3, 1.0, verbose=False)
    Network([12, 7, 4], seed=0).SGD(pairs, 2, 3, 1.0, verbose=False)
    for (x, t), (x0, t0) in zip(pairs, before):
        assert np.array_equal(x, x0) and np.array_equal(t, t0)


def test_feedforward_shapes_and_the_book_formula():
    net = Network([12, 7, 4], seed=21)
    ref = naive_from(net)
    X, _ = make_data(n=5, seed=22)
    np.testing.assert_allclose(net.feedforward(X[:, :1]), ref.feedforward(X[:, :1]), rtol=1e-14)
    assert net.feedforward(X).shape == (4, 5)
    assert net.feedforward(X[:, 0]).shape == (4,)
    assert net.predict(X).dtype == np.int64


def test_float32_network_stays_float32_and_learns():
    X, y = make_data(n=200, seed=23, dtype=np.float32)
    y = (X[0] > 0.5).astype(np.int64)  # learnable
    for backend in BACKENDS:
        net = Network([12, 7, 4], seed=24, dtype=np.float32)
        h = net.SGD((X, y), 20, 10, 3.0, test_data=(X, y), verbose=False, backend=backend)
        assert all(p.dtype == np.float32 for p in net.weights + net.biases)
        assert h.test_accuracy[-1] >= 0.9 * 200


def test_history_and_printing(capsys):
    X, y = make_data(n=30, seed=25)
    net = Network([12, 7, 4], seed=26)
    h = net.SGD((X, y), 2, 5, 1.0, test_data=(X, y))
    out = capsys.readouterr().out
    assert f"Epoch 0: {h.test_accuracy[0]} / 30" in out and "Epoch 1:" in out
    net.SGD((X, y), 1, 5, 1.0)
    assert "Epoch 0 complete" in capsys.readouterr().out
    h = net.SGD((X, y), 2, 5, 1.0, test_data=(X, y), verbose=False, monitor=["training_cost", "test_accuracy"])
    assert capsys.readouterr().out == ""
    assert isinstance(h, TrainingHistory) and h.epochs == (0, 1) and len(h.training_cost) == 2
    assert h.training_accuracy == () and h.n_updates == 12 and not h.interrupted
    text = str(h)
    assert "train cost" in text and "test accuracy" in text and "2 epochs complete" in text
    with pytest.raises(dataclasses_error()):
        h.interrupted = True


def dataclasses_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_progress_bar_and_missing_tqdm(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    X, y = make_data(n=30, seed=27)
    h = Network([12, 7, 4], seed=0).SGD((X, y), 2, 5, 1.0, test_data=(X, y), progress=True)
    assert len(h.epochs) == 2
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match=r"steepest\[progress\]"):
        Network([12, 7, 4], seed=0).SGD((X, y), 1, 5, 1.0, progress=True)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_returns_the_history_reached(backend):
    X, y = make_data(n=2000, sizes=(64, 32, 4), seed=28)
    net = Network([64, 32, 4], seed=29)
    net.SGD((X, y), 1, 1, 0.5, verbose=False, backend=backend)  # compile / warm up
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        h = net.SGD((X, y), 10_000, 1, 0.5, test_data=(X, y), verbose=False, backend=backend)
    finally:
        timer.cancel()
    assert h.interrupted and len(h.epochs) < 10_000 and h.n_updates >= len(h.epochs) * 2000
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert all(np.isfinite(p).all() for p in net.weights)
    assert net.SGD((X, y), 1, 100, 0.5, verbose=False).epochs == (0,)  # still usable


def _raise_once_at(call, real, after=False):
    """A stand-in for ``real`` that raises KeyboardInterrupt (as Ctrl-C would) on its ``call``-th call, before
    doing the work or, with ``after``, once the work is done."""
    calls = [0]

    def fake(*args, **kwargs):
        calls[0] += 1
        if calls[0] == call and not after:
            raise KeyboardInterrupt
        out = real(*args, **kwargs)
        if calls[0] == call:
            raise KeyboardInterrupt
        return out

    return fake


@pytest.mark.parametrize("at", [1, 17, 30, 45])
def test_ctrl_c_in_a_numpy_run_keeps_exactly_the_mini_batches_reached(monkeypatch, at):
    # 30 mini-batches per epoch; Ctrl-C while mini-batch `at` is in flight: it is completed, nothing after it.
    X, y = make_data(n=300, seed=40)
    net = Network([12, 7, 4], seed=41)
    ref = naive_from(net)
    rng = copy.deepcopy(net.rng)
    weights, first = net.weights, net.weights[0]
    monkeypatch.setattr(Network, "_backprop_ws", _raise_once_at(at, Network._backprop_ws))
    h = net.SGD((X, y), 5, 10, 2.0, lmbda=0.5, verbose=False, backend="numpy")
    assert h.interrupted and h.n_updates == at and len(h.epochs) == (at - 1) // 30
    assert net.weights is weights and net.weights[0] is first  # the network's own arrays, updated in place
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    pairs = to_pairs(X, y, n_out=4)
    done = 0
    while done < at:
        perm = rng.permutation(300)
        for k in range(0, 300, 10):
            if done < at:
                ref.update_mini_batch([pairs[i] for i in perm[k : k + 10]], 2.0, lmbda=0.5, n=300)
                done += 1
    for a, b in zip(net.weights + net.biases, ref.weights + ref.biases):
        assert rel_err(a, b) <= 1e-12


def test_ctrl_c_after_a_numba_run_keeps_the_run(monkeypatch):
    pytest.importorskip("numba")
    import steepest._backends.numba.network as kernels

    # 60 mini-batches per epoch, one run of the kernel each; Ctrl-C lands as the second run returns.
    X, y = make_data(n=300, seed=42)
    net = Network([12, 7, 4], seed=43)
    monkeypatch.setattr(kernels, "sgd_batches", _raise_once_at(2, kernels.sgd_batches, after=True))
    h = net.SGD((X, y), 5, 5, 1.0, verbose=False, backend="numba")
    monkeypatch.undo()
    assert h.interrupted and h.n_updates == 120 and h.epochs == (0,)
    ref = Network([12, 7, 4], seed=43)
    ref.SGD((X, y), 2, 5, 1.0, verbose=False, backend="numba")
    for a, b in zip(params(net), params(ref)):
        assert np.array_equal(a, b)


def test_non_finite_parameters_raise_and_restore(monkeypatch):
    X, y = make_data(n=20, seed=30)
    net = Network([12, 7, 4], seed=31)
    net.SGD((X, y), 1, 5, 1.0, verbose=False, backend="numpy")
    before = params(net)
    real = Network._backprop_ws

    def poisoned(self, ws, scale=1.0):
        real(self, ws, scale)
        ws.gW[0][0, 0] = np.nan

    monkeypatch.setattr(Network, "_backprop_ws", poisoned)
    with pytest.raises(FloatingPointError, match="eta"):
        net.SGD((X, y), 1, 5, 1.0, verbose=False, backend="numpy")
    for a, b in zip(params(net), before):
        assert np.array_equal(a, b)


# ---- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_load_round_trip_and_resume(tmp_path, dtype):
    X, y = make_data(n=40, seed=32, dtype=dtype)
    net = Network([12, 7, 4], cost="cross_entropy", seed=33, dtype=dtype, init="scaled")
    net.SGD((X, y), 1, 4, 0.5, verbose=False)
    path = tmp_path / "net.json"
    net.save(path)
    assert sorted(os.listdir(tmp_path)) == ["net.json"]  # no temporary file left
    doc = json.loads(path.read_text())
    assert doc["sizes"] == [12, 7, 4] and doc["cost"] == "cross_entropy" and len(doc["weights"]) == 2
    back = Network.load(str(path))
    assert back.sizes == net.sizes and back.cost == net.cost and back.dtype == net.dtype and back.init == "scaled"
    for a, b in zip(params(back), params(net)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    h1 = net.SGD((X, y), 2, 4, 0.5, test_data=(X, y), verbose=False, monitor=["training_cost"])
    h2 = back.SGD((X, y), 2, 4, 0.5, test_data=(X, y), verbose=False, monitor=["training_cost"])
    assert h1.training_cost == h2.training_cost  # the generator state travelled too
    for a, b in zip(params(back), params(net)):
        assert np.array_equal(a, b)
    net.save(path)  # overwrite in place
    assert Network.load(path).sizes == [12, 7, 4]


def test_load_network2_file_and_bad_files(tmp_path):
    net = Network([3, 2], seed=0)
    path = tmp_path / "n2.json"
    path.write_text(
        json.dumps(
            {
                "sizes": [3, 2],
                "weights": [w.tolist() for w in net.weights],
                "biases": [b.tolist() for b in net.biases],
                "cost": "QuadraticCost",
            }
        )
    )
    back = Network.load(path)
    assert back.cost == "quadratic" and np.array_equal(back.weights[0], net.weights[0])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="path"):
        Network.load(bad)
    bad.write_text(json.dumps({"sizes": [3, 2], "weights": [[[1.0]]], "biases": [[[0.0], [0.0]]], "cost": "quadratic"}))
    with pytest.raises(ValueError, match="layer 0"):
        Network.load(bad)
    with pytest.raises(TypeError, match="path"):
        net.save(3)


@pytest.mark.skipif(
    os.name != "posix" or (hasattr(os, "geteuid") and os.geteuid() == 0), reason="needs a non-root POSIX user"
)
def test_save_into_read_only_folder_fails_cleanly(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError):
            Network([3, 2], seed=0).save(folder / "x.json")
    finally:
        folder.chmod(0o700)


# ---- bad inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"sizes": [784]}, ValueError, "sizes"),
        ({"sizes": []}, ValueError, "sizes"),
        ({"sizes": [784, 0, 10]}, ValueError, r"sizes\[1\]"),
        ({"sizes": [784, -3, 10]}, ValueError, r"sizes\[1\]"),
        ({"sizes": [784, 30.0, 10]}, TypeError, r"sizes\[1\]"),
        ({"sizes": [784, True, 10]}, TypeError, r"sizes\[1\]"),
        ({"sizes": "784,30,10"}, TypeError, "sizes"),
        ({"sizes": None}, TypeError, "sizes"),
        ({"cost": "hinge"}, ValueError, "cost"),
        ({"cost": None}, TypeError, "cost"),
        ({"init": "xavier"}, ValueError, "init"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"seed": True}, TypeError, "seed"),
        ({"seed": "0"}, TypeError, "seed"),
        ({"seed": np.random.RandomState(0)}, TypeError, "seed"),
        ({"seed": -1}, ValueError, "seed"),
        ({"dtype": np.float16}, TypeError, "dtype"),
        ({"dtype": np.int64}, TypeError, "dtype"),
        ({"dtype": "nope"}, TypeError, "dtype"),
    ],
)
def test_bad_constructor_arguments(kwargs, exc, match):
    args = {"sizes": [784, 30, 10], **kwargs}
    with pytest.raises(exc, match=match):
        Network(**args)


def _sgd_cases():
    X, y = make_data(n=20, seed=34)
    Xnan = X.copy()
    Xnan[3, 4] = np.nan
    Xinf = X.copy()
    Xinf[0, 0] = np.inf
    y_hi = y.copy()
    y_hi[5] = 4
    y_neg = y.copy()
    y_neg[2] = -1
    ok = (X, y)
    return [
        # data
        ({"training_data": (X.T, y)}, ValueError, r"use X\.T"),
        ({"training_data": (X[:11], y)}, ValueError, r"training_data X .*\(12, N\)"),
        ({"training_data": (X, y[:-1])}, ValueError, r"training_data y .*\(20,\)"),
        ({"training_data": (X, y_hi)}, ValueError, r"\[0, 4\).*y\[5\] = 4"),
        ({"training_data": (X, y_neg)}, ValueError, r"\[0, 4\).*y\[2\] = -1"),
        ({"training_data": (X, y.astype(float))}, TypeError, "training_data y"),
        ({"training_data": (X, y.astype(bool))}, TypeError, "training_data y"),
        ({"training_data": (X, y[:, None])}, TypeError, "training_data y"),
        ({"training_data": (Xnan, y)}, ValueError, "finite"),
        ({"training_data": (Xinf, y)}, ValueError, "finite"),
        ({"training_data": ((X * 255).astype(np.uint8), y)}, TypeError, "mnist_for_network"),
        ({"training_data": (X.astype(np.float32), y)}, TypeError, "float64"),
        ({"training_data": (np.ma.masked_array(X), y)}, TypeError, "training_data X"),
        ({"training_data": (X[:, :0], y[:0])}, ValueError, "at least one"),
        ({"training_data": []}, ValueError, "at least one"),
        ({"training_data": None}, TypeError, "training_data"),
        ({"training_data": [(X[:, :1], 7)]}, ValueError, r"training_data\[0\]\[1\]"),
        ({"training_data": [(X[:11, :1], 1)]}, ValueError, r"training_data\[0\]\[0\].*\(12, 1\)"),
        ({"training_data": [(X[:, :1], True)]}, TypeError, r"training_data\[0\]\[1\]"),
        ({"training_data": [(X[:, :1], np.ones((3, 1)))]}, ValueError, r"training_data\[0\]\[1\]"),
        ({"training_data": [(Xnan[:, 4:5], 1)]}, ValueError, "finite"),
        ({"test_data": (X, y_hi)}, ValueError, "test_data y"),
        ({"test_data": (X[:5], y)}, ValueError, "test_data X"),
        # hyper-parameters
        ({"eta": 0.0}, ValueError, "eta"),
        ({"eta": -1.0}, ValueError, "eta"),
        ({"eta": float("nan")}, ValueError, "eta"),
        ({"eta": float("inf")}, ValueError, "eta"),
        ({"eta": "3"}, TypeError, "eta"),
        ({"eta": True}, TypeError, "eta"),
        ({"mini_batch_size": 0}, ValueError, "mini_batch_size"),
        ({"mini_batch_size": 21}, ValueError, "mini_batch_size"),
        ({"mini_batch_size": 2.0}, TypeError, "mini_batch_size"),
        ({"mini_batch_size": True}, TypeError, "mini_batch_size"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epochs": True}, TypeError, "epochs"),
        ({"epochs": 1.0}, TypeError, "epochs"),
        ({"lmbda": -0.1}, ValueError, "lmbda"),
        ({"lmbda": float("nan")}, ValueError, "lmbda"),
        ({"verbose": 1}, TypeError, "verbose"),
        ({"monitor": ["accuracy"]}, ValueError, "monitor"),
        ({"monitor": ["test_accuracy"], "test_data": None}, ValueError, "test_data"),
        ({"monitor": 3}, TypeError, "monitor"),
        ({"backend": "cuda"}, ValueError, "backend"),
    ], ok


@pytest.mark.parametrize("case", range(len(_sgd_cases()[0])))
def test_bad_sgd_arguments(case):
    cases, ok = _sgd_cases()
    kwargs, exc, match = cases[case]
    args = {"training_data": ok, "epochs": 1, "mini_batch_size": 5, "eta": 3.0, "verbose": False, **kwargs}
    net = Network([12, 7, 4], seed=0)
    before = params(net)
    with pytest.raises(exc, match=match):
        net.SGD(**args)
    for a, b in zip(params(net), before):  # nothing happened
        assert np.array_equal(a, b)


def test_bad_inputs_to_the_other_methods():
    net = Network([12, 7, 4], seed=0)
    X, y = make_data(n=5, seed=35)
    with pytest.raises(ValueError, match=r"use X\.T"):
        net.predict(X.T)
    with pytest.raises(TypeError, match="a"):
        net.feedforward([0.0] * 12)
    with pytest.raises(TypeError, match="float64"):
        net.feedforward(X.astype(np.float32))
    with pytest.raises(ValueError, match="finite"):
        net.predict(np.full((12, 2), np.nan))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        net.evaluate((X, np.array([0, 1, 2, 3, 4])))
    with pytest.raises(ValueError, match="lmbda"):
        net.total_cost((X, y), lmbda=-1.0)
    with pytest.raises(TypeError, match="images"):
        mnist_for_network(np.zeros((3, 784)), np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="labels"):
        mnist_for_network(np.zeros((3, 784), np.uint8), np.array([0, 1, 10]))


def test_mnist_for_network_layout():
    rng = np.random.default_rng(36)
    images = rng.integers(0, 256, (50, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 50)
    X, y = mnist_for_network(images, labels)
    assert X.shape == (784, 50) and X.dtype == np.float64 and X.T.flags.c_contiguous
    assert X.min() >= 0.0 and X.max() <= 1.0 and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 3], images[3] / 255.0, rtol=1e-15)
    X32, _ = mnist_for_network(images.reshape(50, 28, 28), labels, dtype=np.float32)
    assert X32.dtype == np.float32 and X32.shape == (784, 50)


# ---- the command -------------------------------------------------------------------------------


def _cli_args(**kw):
    from steepest.cli import network as _cli_network

    parser = argparse.ArgumentParser()
    _cli_network.add_arguments(parser)
    argv = []
    for k, v in kw.items():
        argv += [f"--{k.replace('_', '-')}", str(v)]
    return _cli_network, parser.parse_args(argv)


def test_cli_without_data_says_what_to_pass(monkeypatch, capsys):
    monkeypatch.delenv("STEEPEST_MNIST_DIR", raising=False)
    mod, args = _cli_args()
    assert mod.NAME == "network" and mod.HELP
    assert mod.run(args) == 2
    err = capsys.readouterr().err
    assert "--data mnist:PATH" in err and "STEEPEST_MNIST_DIR" in err
    mod, args = _cli_args(data="cifar:/x")
    assert mod.run(args) == 2


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST files not available")
def test_cli_trains_on_mnist(capsys):
    mod, args = _cli_args(data=f"mnist:{MNIST_DIR}", epochs=2, n_train=1000, n_test=500, seed=1)
    assert mod.run(args) == 0
    out = capsys.readouterr().out
    assert "Epoch 0:" in out and "Epoch 1:" in out and "/ 500" in out


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST files not available")
def test_book_run_on_real_mnist_reaches_90_percent(capsys):
    from steepest.datasets import load_mnist

    images, labels = load_mnist(MNIST_DIR, kind="t10k")
    X, y = mnist_for_network(images, labels)
    net = Network([784, 30, 10], seed=0)
    h = net.SGD((X[:, :8000], y[:8000]), 30, 10, 3.0, test_data=(X[:, 8000:], y[8000:]))
    with capsys.disabled():
        print()
        print(h)
    assert len(h.test_accuracy) == 30
    assert max(h.test_accuracy[-5:]) >= 0.90 * 2000 and h.test_accuracy[-1] >= 0.90 * 2000
