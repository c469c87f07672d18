"""Nielsen's network, chapter 1 (``steepest.network``) and the core it shares with chapter 3: back-propagation
against finite differences, the fused path against the book's literal per-example code (``naive_network.py``),
the book's own seeded run, overrides, data forms and dtypes, Ctrl-C, files, bad inputs, the command, real MNIST."""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import random
import re
import signal
import sys
import threading

import numpy as np
import pytest

from steepest.network import Network, TrainingHistory, mnist_for_network, sigmoid, to_pairs, vectorized_result

import naive_network as nv
from book_rounding import relabelled, relabelled_params
from book_rounding import reordered as reordered_book
from conftest import MNIST_DIR

HAVE_MNIST = (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists()
BACKENDS = ["numpy", "numba"]


def make_data(n=53, sizes=(12, 7, 4), seed=0, dtype=np.float64, density=1.0):
    rng = np.random.default_rng(seed)
    X = rng.random((sizes[0], n))
    if density < 1:
        X *= rng.random((sizes[0], n)) < density
    return X.astype(dtype), rng.integers(0, sizes[-1], n)


def book_pairs(X, y, one_hot=True):
    """The book's data form for 10 classes: (x (D, 1), one-hot (10, 1) column or int)."""
    return [(X[:, i : i + 1].copy(), nv.vectorized_result(int(y[i])) if one_hot else int(y[i])) for i in range(len(y))]


def params(net):
    return [np.array(p) for p in net.weights + net.biases]


def book_reference(net, lmbda=0.0):
    """The book's literal network holding ``net``'s parameters: chapter 1's for the quadratic cost without
    regularization, else chapter 3's with the matching cost class."""
    if net.cost == "quadratic" and not lmbda:
        ref = nv.Network(list(net.sizes))
    else:
        ref = nv.Network2(list(net.sizes), cost=nv.QuadraticCost if net.cost == "quadratic" else nv.CrossEntropyCost)
    ref.weights = [np.array(w, dtype=np.float64) for w in net.weights]
    ref.biases = [np.array(b, dtype=np.float64) for b in net.biases]
    return ref


def book_update(ref, batch, eta, lmbda=0.0, n=1):
    if isinstance(ref, nv.Network2):
        ref.update_mini_batch(batch, eta, lmbda, n)
    else:
        ref.update_mini_batch(batch, eta)


def rel_err(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300))


def max_rel_err(net, ref):
    return max(rel_err(a, b) for a, b in zip(net.weights + net.biases, ref.weights + ref.biases))


def seeded(seed, fn):
    """Run ``fn()`` after ``np.random.seed(seed); random.seed(seed)``; return its result and what it printed."""
    np.random.seed(seed)
    random.seed(seed)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn()
    return result, out.getvalue()


def trained(seed, make, *args, **kwargs):
    """``make()`` a network and train it by ``SGD(*args, **kwargs)`` after seeding both global generators;
    returns the network and what it printed."""

    def go():
        net = make()
        net.SGD(*args, **kwargs)
        return net

    return seeded(seed, go)


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


def mnist_book_data(n_train, n_test):
    """t10k images in the book's form: float32 pixels / 256 (the values of mnist.pkl.gz)."""
    from steepest.datasets import load_mnist

    images, labels = load_mnist(MNIST_DIR, kind="t10k")
    X = np.multiply(images, np.float32(1 / 256), dtype=np.float32)
    train = [(X[i].reshape(784, 1), nv.vectorized_result(int(labels[i]))) for i in range(n_train)]
    test = [(X[i].reshape(784, 1), int(labels[i])) for i in range(n_train, n_train + n_test)]
    return train, test


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
    ref = book_reference(net)
    X, y = make_data(n=9, seed=6)
    total_b = [np.zeros_like(b) for b in net.biases]
    total_w = [np.zeros_like(w) for w in net.weights]
    for i in range(9):
        x, t = X[:, i : i + 1], vectorized_result(int(y[i]), 4)
        nb, nw = net.backprop(x, t)
        rb, rw = ref.backprop(x, t)
        assert isinstance(nb, list) and isinstance(nw, list)
        for a, b in zip(nb + nw, rb + rw):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
        total_b = [s + a for s, a in zip(total_b, rb)]
        total_w = [s + a for s, a in zip(total_w, rw)]
    nb, nw = net.backprop(X, y)
    for a, b in zip(nb + nw, total_b + total_w):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---- the fused path equals the book's per-example algorithm ------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "cost,lmbda,m,density",
    [
        ("quadratic", 0.0, 10, 1.0),
        ("cross_entropy", 0.0, 8, 0.3),
        ("quadratic", 5.0, 7, 0.3),
        ("cross_entropy", 1.0, 53, 1.0),
    ],
)
def test_two_epochs_equal_the_book_on_the_same_mini_batches(backend, cost, lmbda, m, density):
    sizes = (12, 7, 4)
    X, y = make_data(n=53, sizes=sizes, seed=7, density=density)  # density 0.3: the kernel's sparse path
    net = Network(sizes, cost=cost, seed=8)
    ref = book_reference(net, lmbda)
    rng = copy.deepcopy(net.rng)
    pairs = to_pairs(X, y, one_hot=True, n_out=4)
    for _ in range(2):
        perm = rng.permutation(53)
        for k in range(0, 53, m):
            book_update(ref, [pairs[i] for i in perm[k : k + m]], 3.0, lmbda, 53)
    assert net.SGD((X, y), 2, m, 3.0, lmbda=lmbda, verbose=False, backend=backend) is None
    assert max_rel_err(net, ref) <= 1e-12


def test_mnist_sized_epoch_equals_the_book():
    rng = np.random.default_rng(9)
    X = (rng.random((784, 400)) * (rng.random((784, 400)) < 0.2)).astype(np.float64)  # sparse, like MNIST
    y = rng.integers(0, 10, 400)
    for backend in BACKENDS:
        net = Network([784, 30, 10], seed=10)
        ref = book_reference(net)
        perm = copy.deepcopy(net.rng).permutation(400)
        pairs = to_pairs(X, y)
        for k in range(0, 400, 10):
            ref.update_mini_batch([pairs[i] for i in perm[k : k + 10]], 3.0)
        net.SGD((X, y), 1, 10, 3.0, verbose=False, backend=backend)
        assert max_rel_err(net, ref) <= 1e-12


def test_deeper_network_and_both_layouts_agree():
    X, y = make_data(n=64, sizes=(12, 9, 7, 4), seed=11, density=0.4)
    results = []
    for backend in BACKENDS:
        for Xl in (X, np.asfortranarray(X), X.copy()[:, ::1]):
            net = Network([12, 9, 7, 4], seed=12)
            net.SGD((Xl, y), 3, 5, 1.0, verbose=False, backend=backend)
            results.append(params(net))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert rel_err(a, b) <= 1e-12
    X[X == 0] = 0.5  # dense: the kernel's dense path, both memory orders
    dense = []
    for Xl in (X, np.asfortranarray(X)):
        net = Network([12, 9, 7, 4], seed=12)
        net.SGD((Xl, y), 2, 5, 1.0, verbose=False, backend="numba")
        dense.append(params(net))
    ref = Network([12, 9, 7, 4], seed=12)
    ref.SGD((X, y), 2, 5, 1.0, verbose=False, backend="numpy")
    for run in dense:
        for a, b in zip(run, params(ref)):
            assert rel_err(a, b) <= 1e-12


@pytest.mark.parametrize("sizes", [(12, 4), (12, 9, 7, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_kernel_agrees_with_numpy_on_any_depth_and_both_dtypes(sizes, dtype):
    X, y = make_data(n=64, sizes=sizes, seed=57, dtype=dtype, density=0.3)
    every = ["training_cost", "training_accuracy", "test_cost", "test_accuracy"]
    runs = []
    for backend in BACKENDS:
        net = Network(sizes, cost="cross_entropy", seed=58, dtype=dtype)
        net.SGD((X, y), 3, 5, 1.0, lmbda=0.5, test_data=(X[:, :20], y[:20]), monitor=every, backend=backend)
        runs.append(net)
    a, b = runs
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for p, q in zip(params(a), params(b)):
        assert p.dtype == dtype and rel_err(p, q) <= tol
    np.testing.assert_allclose(a.history.training_cost, b.history.training_cost, rtol=tol)
    np.testing.assert_allclose(a.history.test_cost, b.history.test_cost, rtol=tol)
    assert a.history.test_accuracy == b.history.test_accuracy


# ---- the book's own run: np.random.seed, random.seed --------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_book_run_seeded_globally_gives_the_books_numbers(backend):
    X, y = make_data(n=300, sizes=(20, 15, 10), seed=13, density=0.4)
    train = book_pairs(X[:, :200], y[:200])
    test = book_pairs(X[:, 200:], y[200:], one_hot=False)
    book, book_out = trained(3, lambda: nv.Network([20, 15, 10]), train, 4, 10, 3.0, test_data=test)
    ours, our_out = trained(3, lambda: Network([20, 15, 10]), train, 4, 10, 3.0, test_data=test, backend=backend)
    assert our_out == book_out and our_out.count("Epoch") == 4
    assert max_rel_err(ours, book) <= 1e-12
    assert ours.history.test_accuracy == tuple(int(line.split()[2]) for line in book_out.splitlines())
    # without test data: the book's "Epoch j complete"
    _, book_out = seeded(4, lambda: nv.Network([20, 15, 10]).SGD(train, 2, 7, 1.0))
    _, our_out = seeded(4, lambda: Network([20, 15, 10]).SGD(train, 2, 7, 1.0, backend=backend))
    assert our_out == book_out == "Epoch 0 complete\nEpoch 1 complete\n"


def test_book_mode_initial_parameters_are_the_books_bit_for_bit():
    np.random.seed(5)
    book = nv.Network([7, 5, 3])
    np.random.seed(5)
    ours = Network([7, 5, 3])
    for a, b in zip(params(ours), params(book)):
        assert np.array_equal(a, b)
    state = np.random.get_state()[1].copy()
    Network([7, 5, 3], seed=1).SGD(make_data(n=20, sizes=(7, 5, 3)), 1, 5, 1.0, verbose=False)
    before = random.getstate()
    Network([7, 5, 3], seed=np.random.default_rng(2)).SGD(make_data(n=20, sizes=(7, 5, 3)), 2, 5, 1.0, verbose=False)
    assert np.array_equal(np.random.get_state()[1], state) and random.getstate() == before  # seeded: untouched


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST files not available")
def test_book_run_on_mnist_equals_the_book():
    train, test = mnist_book_data(2000, 1000)
    book, book_out = trained(11, lambda: nv.Network([784, 30, 10]), train, 2, 10, 3.0, test_data=test)
    ours, our_out = trained(11, lambda: Network([784, 30, 10]), train, 2, 10, 3.0, test_data=test)
    assert our_out == book_out
    assert max_rel_err(ours, book) <= 1e-9


def snapshots(cls):
    """``cls`` whose ``evaluate`` (called by SGD once at the end of every epoch) also keeps the parameters."""

    class Snapshots(cls):
        def evaluate(self, test_data):
            self.kept = getattr(self, "kept", [])
            self.kept.append([np.array(p, dtype=np.float64) for p in self.weights + self.biases])
            return super().evaluate(test_data)

    return Snapshots


def drift(a, b):
    return [max(rel_err(p, q) for p, q in zip(x, y)) for x, y in zip(a.kept, b.kept)]


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST files not available")
def test_book_run_on_mnist_30_epochs_drifts_no_more_than_the_books_own_rounding(capsys):
    train, test = mnist_book_data(8000, 2000)
    run = 30, 10, 3.0  # epochs, mini-batch size, eta

    def trained_from_book_seed(cls, train, test):
        return trained(0, lambda: snapshots(cls)([784, 30, 10]), train, *run, test_data=test)

    book, book_out = trained_from_book_seed(nv.Network, train, test)
    ours, our_out = trained_from_book_seed(Network, train, test)
    reordered, _ = trained_from_book_seed(reordered_book(nv.Network), relabelled(train), relabelled(test))
    reordered.kept = [relabelled_params(kept) for kept in reordered.kept]
    ours_drift, own_drift = drift(ours, book), drift(reordered, book)
    book_lines, our_lines = book_out.splitlines(), our_out.splitlines()
    with capsys.disabled():
        print("\nepoch  book  steepest  drift(steepest, book)  drift(book with every sum reordered, book)")
        for j in range(30):
            a, b = book_lines[j].split()[2], our_lines[j].split()[2]
            print(f"{j:5d}  {a:>4}  {b:>8}  {ours_drift[j]:.1e}  {own_drift[j]:.1e}")
    assert ours_drift[0] <= 1e-9 and own_drift[0] <= 1e-9  # both are the book's run, to rounding
    for j in range(30):
        if own_drift[j] < 1e-4:  # before the chaos of SGD has amplified rounding to the size of the weights
            assert ours_drift[j] <= 10 * own_drift[j], (j, ours_drift[j], own_drift[j])
        if ours_drift[j] < 1e-7:
            assert our_lines[j] == book_lines[j]


# ---- overrides: the book's structure, through the user's methods ---------------------------------


class CountingBackprop(Network):
    calls = 0

    def backprop(self, x, y):
        type(self).calls += 1
        assert x.shape == (12, 1) and y.shape == (4, 1)
        return super().backprop(x, y)


class CountingStep(Network):
    batches = []

    def update_mini_batch(self, mini_batch, eta):
        assert isinstance(mini_batch, list) and all(x.shape == (12, 1) for x, _ in mini_batch)
        type(self).batches.append(len(mini_batch))
        super().update_mini_batch(mini_batch, eta)


class DoubledDerivative(Network):
    def cost_derivative(self, output_activations, y):
        return 2 * (output_activations - y)


class BookDoubledDerivative(nv.Network):
    def cost_derivative(self, output_activations, y):
        return 2 * (output_activations - y)


class CountingFeedforward(Network):
    calls = 0

    def feedforward(self, a):
        type(self).calls += 1
        return super().feedforward(a)


class ConstantEvaluate(Network):
    def evaluate(self, test_data):
        assert isinstance(test_data, list) and isinstance(test_data[0][1], int)
        return 7


def test_overridden_training_methods_go_through_the_books_structure_and_agree_with_the_fused_path():
    X, y = make_data(n=53, seed=14)
    fused = Network([12, 7, 4], seed=15)
    assert fused._fused_training()
    fused.SGD((X, y), 2, 10, 3.0, verbose=False)
    CountingBackprop.calls = 0
    a = CountingBackprop([12, 7, 4], seed=15)
    assert not a._fused_training()
    a.SGD((X, y), 2, 10, 3.0, verbose=False)
    assert CountingBackprop.calls == 2 * 53  # once per example per epoch, as the book
    CountingStep.batches = []
    b = CountingStep([12, 7, 4], seed=15)
    b.SGD(to_pairs(X, y, n_out=4), 2, 10, 3.0, verbose=False)
    assert CountingStep.batches == [10, 10, 10, 10, 10, 3] * 2
    for net in (a, b):
        assert net.history.n_updates == 12
        for p, q in zip(params(net), params(fused)):
            assert rel_err(p, q) <= 1e-12


def test_overridden_cost_derivative_is_used_as_the_book_uses_it():
    X, y = make_data(n=40, sizes=(12, 7, 10), seed=16)
    train = book_pairs(X, y)
    test = book_pairs(X[:, :20], y[:20], one_hot=False)
    book, book_out = trained(17, lambda: BookDoubledDerivative([12, 7, 10]), train, 2, 8, 2.0, test_data=test)
    ours, our_out = trained(17, lambda: DoubledDerivative([12, 7, 10]), train, 2, 8, 2.0, test_data=test)
    assert our_out == book_out and max_rel_err(ours, book) <= 1e-12
    plain, _ = trained(17, lambda: Network([12, 7, 10]), train, 2, 8, 2.0)
    assert max_rel_err(plain, book) > 1e-6  # the override changed the run


def test_overridden_feedforward_and_evaluate_measure_the_epochs():
    X, y = make_data(n=30, seed=18)
    Xt, yt = make_data(n=11, seed=19)
    CountingFeedforward.calls = 0
    net = CountingFeedforward([12, 7, 4], seed=20)
    assert net._fused_training()  # training does not call feedforward
    net.SGD((X, y), 3, 5, 1.0, test_data=(Xt, yt), verbose=False)
    assert CountingFeedforward.calls == 3 * 11
    ref = Network([12, 7, 4], seed=20)
    ref.SGD((X, y), 3, 5, 1.0, test_data=(Xt, yt), verbose=False)
    assert net.history.test_accuracy == ref.history.test_accuracy
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ConstantEvaluate([12, 7, 4], seed=0).SGD((X, y), 2, 5, 1.0, test_data=(Xt, yt))
    assert out.getvalue() == "Epoch 0: 7 / 11\nEpoch 1: 7 / 11\n"


def test_update_mini_batch_and_backprop_are_the_books():
    X, y = make_data(n=9, seed=21)
    net = Network([12, 7, 4], seed=22)
    ref = book_reference(net)
    batch = to_pairs(X, y, n_out=4)
    assert net.update_mini_batch(batch, 2.5) is None
    ref.update_mini_batch(batch, 2.5)
    assert max_rel_err(net, ref) <= 1e-13
    x, t = batch[0]
    for a, b in zip(net.backprop(x, t)[0] + net.backprop(x, t)[1], ref.backprop(x, t)[0] + ref.backprop(x, t)[1]):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(net.cost_derivative(x[:4], t), x[:4] - t)
    assert np.allclose(sigmoid(np.array([0.0, 2.0])), nv.sigmoid(np.array([0.0, 2.0])), rtol=0, atol=0)


# ---- reproducibility, data forms, dtypes --------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_fixed_seed_is_bit_reproducible(backend):
    X, y = make_data(n=80, seed=23)
    Xt, yt = make_data(n=20, seed=24)
    runs = []
    for seed in (15, 15, np.random.default_rng(15)):
        net = Network([12, 7, 4], seed=seed)
        net.SGD(
            (X, y),
            3,
            10,
            2.0,
            test_data=(Xt, yt),
            verbose=False,
            backend=backend,
            monitor=["training_cost", "training_accuracy", "test_cost", "test_accuracy"],
        )
        runs.append((params(net), net.history))
    for p, h in runs[1:]:
        for a, b in zip(runs[0][0], p):
            assert np.array_equal(a, b)
        assert h.training_cost == runs[0][1].training_cost
        assert h.test_accuracy == runs[0][1].test_accuracy
    other = Network([12, 7, 4], seed=16)
    assert not np.array_equal(other.weights[0], runs[0][0][0])


def test_book_form_and_array_form_give_the_same_run():
    X, y = make_data(n=40, seed=25)
    Xt, yt = make_data(n=15, seed=26)
    a = Network([12, 7, 4], seed=19)
    a.SGD((X, y), 2, 4, 3.0, test_data=(Xt, yt), verbose=False)
    b = Network([12, 7, 4], seed=19)
    b.SGD(
        zip(list(X.T[:, :, None]), [vectorized_result(int(k), 4) for k in y]),
        2,
        4,
        3.0,
        test_data=to_pairs(Xt, yt, one_hot=False, n_out=4),
        verbose=False,
    )
    for p, q in zip(params(a), params(b)):
        assert np.array_equal(p, q)
    ha = a.history
    assert ha.test_accuracy == b.history.test_accuracy
    assert a.evaluate(to_pairs(Xt, yt, one_hot=False, n_out=4)) == a.evaluate((Xt, yt)) == ha.test_accuracy[-1]
    assert a.evaluate(to_pairs(Xt, yt, one_hot=True, n_out=4)) == ha.test_accuracy[-1]
    assert np.array_equal(a.predict(Xt), np.argmax(a.feedforward(Xt), axis=0))


def test_training_data_is_not_modified():
    X, y = make_data(n=30, seed=27)
    pairs = to_pairs(X, y, n_out=4)
    before = [(x.copy(), t.copy()) for x, t in pairs]
    X.flags.writeable = False
    Network([12, 7, 4], seed=0).SGD((X, y), 2, 3, 1.0, verbose=False)
    Network([12, 7, 4]).SGD(pairs, 2, 3, 1.0, verbose=False)  # book mode: shuffles an index list, not the data
    for (x, t), (x0, t0) in zip(pairs, before):
        assert np.array_equal(x, x0) and np.array_equal(t, t0)


def test_feedforward_shapes_and_the_book_formula():
    net = Network([12, 7, 4], seed=28)
    ref = book_reference(net)
    X, _ = make_data(n=5, seed=29)
    np.testing.assert_allclose(net.feedforward(X[:, :1]), ref.feedforward(X[:, :1]), rtol=1e-14)
    assert net.feedforward(X).shape == (4, 5)
    assert net.feedforward(X[:, 0]).shape == (4,)
    assert net.predict(X).dtype == np.int64


def test_float32_network_stays_float32_and_learns():
    X, y = make_data(n=200, seed=30, dtype=np.float32)
    y = (X[0] > 0.5).astype(np.int64)  # learnable
    for backend in BACKENDS:
        net = Network([12, 7, 4], seed=31, dtype=np.float32)
        net.SGD((X, y), 20, 10, 3.0, test_data=(X, y), verbose=False, backend=backend)
        assert all(p.dtype == np.float32 for p in net.weights + net.biases)
        assert net.history.test_accuracy[-1] >= 0.9 * 200


def test_float32_inputs_are_accepted_everywhere_and_converted_exactly():
    X32, y = make_data(n=30, seed=32, dtype=np.float32)
    X64 = X32.astype(np.float64)
    nets = []
    for X in (X32, X64):
        net = Network([12, 7, 4], seed=33)
        net.SGD((X, y), 2, 5, 1.0, test_data=(X, y), verbose=False)
        net.SGD(to_pairs(X, y, n_out=4), 1, 5, 1.0, verbose=False)
        net.update_mini_batch(to_pairs(X[:, :5], y[:5], n_out=4), 1.0)
        nets.append(net)
        assert net.evaluate(to_pairs(X, y, one_hot=False, n_out=4)) == net.evaluate((X, y))
    a, b = nets
    for p, q in zip(params(a), params(b)):
        assert np.array_equal(p, q)
    assert np.array_equal(a.feedforward(X32), b.feedforward(X64))
    assert np.array_equal(a.predict(X32), b.predict(X64))
    for p, q in zip(a.backprop(X32[:, :1], y[:1])[1], b.backprop(X64[:, :1], y[:1])[1]):
        assert np.array_equal(p, q)
    assert a.total_cost((X32, y)) == b.total_cost((X64, y))


def _every_input_path(net, bad, y):
    return [
        lambda: net.SGD((bad, y), 1, 5, 1.0, verbose=False),
        lambda: net.SGD([(bad[:, i : i + 1], int(y[i])) for i in range(10)], 1, 5, 1.0, verbose=False),
        lambda: net.evaluate((bad, y)),
        lambda: net.evaluate([(bad[:, :1], 0)]),
        lambda: net.feedforward(bad),
        lambda: net.predict(bad),
        lambda: net.backprop(bad[:, :1], 0),
        lambda: net.update_mini_batch([(bad[:, :1], vectorized_result(0, 4))], 1.0),
        lambda: net.total_cost((bad, y)),
    ]


@pytest.mark.parametrize("kind", ["float64 into float32", "uint8"])
def test_narrowing_and_integer_inputs_are_refused_everywhere_with_one_message(kind):
    X, y = make_data(n=10, seed=34)
    if kind == "uint8":
        net, bad, match = Network([12, 7, 4], seed=0), (X * 255).astype(np.uint8), "divide the pixels by 255"
    else:
        net, bad, match = Network([12, 7, 4], seed=0, dtype=np.float32), X, "would round"
    messages = set()
    for call in _every_input_path(net, bad, y):
        with pytest.raises(TypeError, match=match) as info:
            call()
        messages.add(str(info.value).split(" must ", 1)[1])
    assert len(messages) == 1  # the same words wherever the input comes in


def test_history_and_printing(capsys):
    X, y = make_data(n=30, seed=35)
    net = Network([12, 7, 4], seed=36)
    assert net.history is None
    net.SGD((X, y), 2, 5, 1.0, test_data=(X, y))
    h = net.history
    out = capsys.readouterr().out
    assert out == f"Epoch 0: {h.test_accuracy[0]} / 30\nEpoch 1: {h.test_accuracy[1]} / 30\n"
    net.SGD((X, y), 1, 5, 1.0)
    assert capsys.readouterr().out == "Epoch 0 complete\n"
    assert "1 epoch complete, 6 mini-batch updates" in str(net.history)
    net.SGD((X, y), 2, 5, 1.0, test_data=(X, y), verbose=False, monitor=["training_cost", "test_accuracy"])
    h = net.history
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
    X, y = make_data(n=30, seed=37)
    net = Network([12, 7, 4], seed=0)
    net.SGD((X, y), 2, 5, 1.0, test_data=(X, y), progress=True)
    assert len(net.history.epochs) == 2
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match=r"steepest\[progress\]"):
        Network([12, 7, 4], seed=0).SGD((X, y), 1, 5, 1.0, progress=True)


# ---- Ctrl-C and divergence ------------------------------------------------------------------------


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_returns_the_history_reached(backend):
    X, y = make_data(n=2000, sizes=(64, 32, 4), seed=38)
    net = Network([64, 32, 4], seed=39)
    net.SGD((X, y), 1, 1, 0.5, verbose=False, backend=backend)  # compile / warm up
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        net.SGD((X, y), 10_000, 1, 0.5, test_data=(X, y), verbose=False, backend=backend)
    finally:
        timer.cancel()
    h = net.history
    assert h.interrupted and len(h.epochs) < 10_000 and h.n_updates >= len(h.epochs) * 2000
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert all(np.isfinite(p).all() for p in net.weights)
    net.SGD((X, y), 1, 100, 0.5, verbose=False)
    assert net.history.epochs == (0,)  # still usable


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
    ref = book_reference(net, lmbda=0.5)
    rng = copy.deepcopy(net.rng)
    weights, first = net.weights, net.weights[0]
    monkeypatch.setattr(Network, "_backprop_ws", _raise_once_at(at, Network._backprop_ws))
    net.SGD((X, y), 5, 10, 2.0, lmbda=0.5, verbose=False, backend="numpy")
    h = net.history
    assert h.interrupted and h.n_updates == at and len(h.epochs) == (at - 1) // 30
    assert net.weights is weights and net.weights[0] is first  # the network's own arrays, updated in place
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    pairs = to_pairs(X, y, n_out=4)
    done = 0
    while done < at:
        perm = rng.permutation(300)
        for k in range(0, 300, 10):
            if done < at:
                book_update(ref, [pairs[i] for i in perm[k : k + 10]], 2.0, 0.5, 300)
                done += 1
    assert max_rel_err(net, ref) <= 1e-12


def test_ctrl_c_after_a_numba_run_keeps_the_run(monkeypatch):
    pytest.importorskip("numba")
    import steepest._backends.numba.network as kernels

    # 60 mini-batches per epoch, one run of the kernel each; Ctrl-C lands as the second run returns.
    X, y = make_data(n=300, seed=42)
    net = Network([12, 7, 4], seed=43)
    monkeypatch.setattr(kernels, "sgd_batches", _raise_once_at(2, kernels.sgd_batches, after=True))
    net.SGD((X, y), 5, 5, 1.0, verbose=False, backend="numba")
    monkeypatch.undo()
    h = net.history
    assert h.interrupted and h.n_updates == 120 and h.epochs == (0,)
    ref = Network([12, 7, 4], seed=43)
    ref.SGD((X, y), 2, 5, 1.0, verbose=False, backend="numba")
    for a, b in zip(params(net), params(ref)):
        assert np.array_equal(a, b)


def test_non_finite_parameters_raise_and_restore(monkeypatch):
    X, y = make_data(n=20, seed=44)
    net = Network([12, 7, 4], seed=45)
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


def test_non_finite_parameters_on_the_books_path_raise_and_restore():
    class Poisoned(Network):
        def update_mini_batch(self, mini_batch, eta):
            super().update_mini_batch(mini_batch, eta)
            self.weights[0][0, 0] = np.inf

    X, y = make_data(n=20, seed=46)
    net = Poisoned([12, 7, 4], seed=47)
    before = params(net)
    with pytest.raises(FloatingPointError, match="epoch 0"):
        net.SGD((X, y), 2, 5, 1.0, verbose=False)
    for a, b in zip(params(net), before):
        assert np.array_equal(a, b)


# ---- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_load_round_trip_and_resume(tmp_path, dtype):
    X, y = make_data(n=40, seed=48, dtype=dtype)
    net = Network([12, 7, 4], cost="cross_entropy", seed=49, dtype=dtype, init="scaled")
    net.SGD((X, y), 1, 4, 0.5, verbose=False)
    path = tmp_path / "net.json"
    net.save(path)
    assert sorted(os.listdir(tmp_path)) == ["net.json"]  # no temporary file left
    doc = json.loads(path.read_text())
    assert doc["sizes"] == [12, 7, 4] and doc["cost"] == "CrossEntropyCost" and len(doc["weights"]) == 2
    back = Network.load(str(path))
    assert back.sizes == net.sizes and back.cost == net.cost and back.dtype == net.dtype and back.init == "scaled"
    for a, b in zip(params(back), params(net)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    net.SGD((X, y), 2, 4, 0.5, test_data=(X, y), verbose=False, monitor=["training_cost"])
    back.SGD((X, y), 2, 4, 0.5, test_data=(X, y), verbose=False, monitor=["training_cost"])
    assert net.history.training_cost == back.history.training_cost  # the generator state travelled too
    for a, b in zip(params(back), params(net)):
        assert np.array_equal(a, b)
    net.save(path)  # overwrite in place
    assert Network.load(path).sizes == [12, 7, 4]


def test_book_mode_files_are_read_by_the_books_load_and_stay_in_book_mode(tmp_path):
    np.random.seed(50)
    net = Network([6, 5, 10])
    path = tmp_path / "book.json"
    net.save(path)
    book = nv.load(str(path))  # the book's network2.load
    assert book.cost is nv.QuadraticCost
    for a, b in zip(book.weights + book.biases, params(net)):
        assert np.array_equal(a, b)
    state = np.random.get_state()[1].copy()
    back = Network.load(path)
    assert back.rng is None and np.array_equal(np.random.get_state()[1], state)  # nothing drawn
    X, y = make_data(n=30, sizes=(6, 5, 10), seed=51)
    random.seed(52)
    back2 = Network.load(path)
    back2.SGD((X, y), 2, 5, 1.0, verbose=False)
    random.seed(52)
    net2 = Network.load(path)
    net2.SGD((X, y), 2, 5, 1.0, verbose=False)
    for p, q in zip(params(back2), params(net2)):
        assert np.array_equal(p, q)


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
    bad.write_text(json.dumps({"sizes": [3, 2], "weights": [], "biases": [], "cost": "HingeCost"}))
    with pytest.raises(ValueError, match="cost"):
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
    X, y = make_data(n=20, seed=53)
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
        ({"training_data": ((X * 255).astype(np.uint8), y)}, TypeError, "divide the pixels by 255"),
        ({"training_data": (X.astype(np.complex128), y)}, TypeError, "training_data X"),
        ({"training_data": (np.ma.masked_array(X), y)}, TypeError, "training_data X"),
        ({"training_data": (X[:, :0], y[:0])}, ValueError, "at least one"),
        ({"training_data": []}, ValueError, "at least one"),
        ({"training_data": None}, TypeError, "training_data"),
        ({"training_data": [(X[:, :1], 7)]}, ValueError, r"training_data\[0\]\[1\]"),
        ({"training_data": [(X[:11, :1], 1)]}, ValueError, r"training_data\[0\]\[0\].*\(12, 1\)"),
        ({"training_data": [(X[:, :1], True)]}, TypeError, r"training_data\[0\]\[1\]"),
        ({"training_data": [(X[:, :1], np.ones((3, 1)))]}, ValueError, r"training_data\[0\]\[1\]"),
        ({"training_data": [(X[:, :1], 1), (X[:, 1:2],)]}, TypeError, r"training_data\[1\]"),
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


def test_replaced_parameters_are_checked_before_training():
    X, y = make_data(n=20, seed=54)
    net = Network([12, 7, 4], seed=0)
    net.weights = [w.tolist() for w in net.weights]
    with pytest.raises(TypeError, match=r"net.weights\[0\]"):
        net.SGD((X, y), 1, 5, 1.0, verbose=False)
    net = Network([12, 7, 4], seed=0)
    net.biases[1] = net.biases[1][:3]
    with pytest.raises(ValueError, match=r"net.biases\[1\]"):
        net.SGD((X, y), 1, 5, 1.0, verbose=False)


def test_bad_inputs_to_the_other_methods():
    net = Network([12, 7, 4], seed=0)
    X, y = make_data(n=5, seed=55)
    with pytest.raises(ValueError, match=r"use X\.T"):
        net.predict(X.T)
    with pytest.raises(TypeError, match="a"):
        net.feedforward([0.0] * 12)
    with pytest.raises(ValueError, match="finite"):
        net.predict(np.full((12, 2), np.nan))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        net.evaluate((X, np.array([0, 1, 2, 3, 4])))
    with pytest.raises(ValueError, match="lmbda"):
        net.total_cost((X, y), lmbda=-1.0)
    with pytest.raises(ValueError, match="eta"):
        net.update_mini_batch(to_pairs(X, y, n_out=4), 0.0)
    with pytest.raises(TypeError, match="images"):
        mnist_for_network(np.zeros((3, 784)), np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="labels"):
        mnist_for_network(np.zeros((3, 784), np.uint8), np.array([0, 1, 10]))


def test_mnist_for_network_layout():
    rng = np.random.default_rng(56)
    images = rng.integers(0, 256, (50, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 50)
    X, y = mnist_for_network(images, labels)
    assert X.shape == (784, 50) and X.dtype == np.float64 and X.T.flags.c_contiguous
    assert X.min() >= 0.0 and X.max() <= 1.0 and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 3], images[3] / 255.0, rtol=1e-15)
    X32, _ = mnist_for_network(images.reshape(50, 28, 28), labels, dtype=np.float32)
    assert X32.dtype == np.float32 and X32.shape == (784, 50)


# ---- the command -------------------------------------------------------------------------------


def _cli(**kw):
    from steepest.cli import network as _cli_network

    parser = argparse.ArgumentParser()
    _cli_network.add_arguments(parser)
    argv = []
    for k, v in kw.items():
        argv += [f"--{k.replace('_', '-')}", str(v)]
    return _cli_network, parser, parser.parse_args(argv)


def test_cli_without_data_says_what_to_pass(monkeypatch, capsys):
    monkeypatch.delenv("STEEPEST_MNIST_DIR", raising=False)
    mod, _, args = _cli()
    assert mod.NAME == "network" and mod.HELP
    assert mod.run(args) == 2
    err = capsys.readouterr().err
    assert "--data mnist:PATH" in err and "STEEPEST_MNIST_DIR" in err
    mod, _, args = _cli(data="cifar:/x")
    assert mod.run(args) == 2


def test_cli_every_flag_has_help():
    _, parser, _ = _cli()
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            assert action.help and action.help.strip(), action.option_strings


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"batch_size": 0}, "--batch-size"),
        ({"batch_size": 9000}, "--batch-size"),
        ({"epochs": 0}, "--epochs"),
        ({"eta": -1.0}, "--eta"),
        ({"lmbda": -1.0}, "--lmbda"),
        ({"sizes": "784,30,9"}, "--sizes"),
        ({"sizes": "784,x,10"}, "--sizes"),
        ({"n_train": 0}, "--n-train"),
        ({"save": "/nonexistent-folder/net.json"}, "--save"),
    ],
)
def test_cli_errors_come_before_the_header(tmp_path, capsys, kw, message):
    mod, _, args = _cli(data=f"mnist:{tmp_path}", **kw)
    assert mod.run(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST files not available")
def test_cli_trains_on_mnist_and_prints_each_epoch_once(capsys, tmp_path):
    mod, _, args = _cli(data=f"mnist:{MNIST_DIR}", epochs=2, n_train=1000, n_test=500, seed=1)
    assert mod.run(args) == 0
    out = capsys.readouterr().out
    assert out.count("Epoch 0:") == 1 and out.count("Epoch 1:") == 1 and "/ 500" in out
    assert "2 epochs, mini-batch 10" in out and "2 epochs complete" in out
    mod, _, args = _cli(data=f"mnist:{MNIST_DIR}", epochs=1, n_train=200, n_test=0, save=tmp_path / "n.json")
    assert mod.run(args) == 0
    out = capsys.readouterr().out
    assert ": 1 epoch, mini-batch" in out and "1 epoch complete" in out and "1 epochs" not in out
    assert Network.load(tmp_path / "n.json").sizes == [784, 30, 10]


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST files not available")
def test_cli_more_images_than_the_t10k_file_holds_is_an_error_without_negative_counts(capsys):
    mod, _, args = _cli(data=f"mnist:{MNIST_DIR}", n_train=20000, epochs=1)
    assert mod.run(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "20000" in captured.err and "10000" in captured.err and not re.search(r"-\d", captured.err)


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST files not available")
def test_book_run_on_real_mnist_reaches_90_percent(capsys):
    from steepest.datasets import load_mnist

    images, labels = load_mnist(MNIST_DIR, kind="t10k")
    X, y = mnist_for_network(images, labels)
    net = Network([784, 30, 10], seed=0)
    net.SGD((X[:, :8000], y[:8000]), 30, 10, 3.0, test_data=(X[:, 8000:], y[8000:]))
    h = net.history
    with capsys.disabled():
        print()
        print(h)
    assert len(h.test_accuracy) == 30
    assert max(h.test_accuracy[-5:]) >= 0.90 * 2000 and h.test_accuracy[-1] >= 0.90 * 2000
