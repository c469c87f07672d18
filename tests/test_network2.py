"""Nielsen's network, chapter 3 (``steepest.network2``) against the book's literal ``network2.py``
(``naive_network.Network2``): every call and its return type, the book's seeded run, user-written costs and other
overrides, the book's JSON files; and the book's ``mnist_loader`` (``steepest.datasets.book``)."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import pickle
import random

import numpy as np
import pytest

from steepest import network2
from steepest.datasets import book as mnist_loader
from steepest.datasets import load_data_wrapper
from test_network import BACKENDS, HAVE_MNIST, book_pairs, make_data, max_rel_err, mnist_book_data, params, seeded

import naive_network as nv
from data_factories import py2_pickle, write_mnist_folder

ALL_FOUR = {
    "monitor_evaluation_cost": True,
    "monitor_evaluation_accuracy": True,
    "monitor_training_cost": True,
    "monitor_training_accuracy": True,
}


def data(n_train=120, n_eval=40, seed=0, density=0.4, inputs=20):
    X, y = make_data(n=n_train + n_eval, sizes=(inputs, 10), seed=seed, density=density)
    return book_pairs(X[:, :n_train], y[:n_train]), book_pairs(X[:, n_train:], y[n_train:], one_hot=False)


def trained(seed, make, *args, **kwargs):
    """Seed both global generators, ``make()`` a network, run ``SGD``; (network, its return, its output)."""

    def go():
        net = make()
        return net, net.SGD(*args, **kwargs)

    (net, result), out = seeded(seed, go)
    return net, result, out


def same_lists(ours, book):
    """The four lists: accuracies equal, costs equal to rounding."""
    assert len(ours) == len(book) == 4
    for k in (1, 3):
        assert ours[k] == book[k]
    for k in (0, 2):
        np.testing.assert_allclose(ours[k], book[k], rtol=1e-12)


def same_output(ours, book):
    """Printed lines equal, but for the last digits of the costs."""
    ours, book = ours.splitlines(), book.splitlines()
    assert len(ours) == len(book)
    for a, b in zip(ours, book):
        if a.startswith("Cost on"):
            head, _, value = a.rpartition(" ")
            assert b.startswith(head) and float(value) == pytest.approx(float(b.rpartition(" ")[2]), rel=1e-12)
        else:
            assert a == b


# ---- the surface: every call and what it returns ---------------------------------------------


def test_every_call_of_network2_and_its_return_type(tmp_path):
    train, evaluation = data()
    assert network2.vectorized_result(3).shape == (10, 1) and network2.vectorized_result(3)[3, 0] == 1.0
    z = np.linspace(-3, 3, 7)
    assert np.array_equal(network2.sigmoid(z), nv.sigmoid(z))
    assert np.array_equal(network2.sigmoid_prime(z), nv.sigmoid_prime(z))
    a, y = network2.sigmoid(z)[:, None], np.eye(7)[:, [2]]
    for ours, book in ((network2.QuadraticCost, nv.QuadraticCost), (network2.CrossEntropyCost, nv.CrossEntropyCost)):
        assert ours.fn(a, y) == book.fn(a, y)
        assert np.array_equal(ours.delta(z[:, None], a, y), book.delta(z[:, None], a, y))
    net = network2.Network([20, 15, 10])
    assert net.cost is network2.CrossEntropyCost and net.num_layers == 3 and net.sizes == [20, 15, 10]
    assert [w.shape for w in net.weights] == [(15, 20), (10, 15)] and [b.shape for b in net.biases] == [
        (15, 1),
        (10, 1),
    ]
    assert net.default_weight_initializer() is None and net.large_weight_initializer() is None
    out = net.feedforward(train[0][0])
    assert out.shape == (10, 1) and out.dtype == np.float64
    nabla_b, nabla_w = net.backprop(*train[0])
    assert [b.shape for b in nabla_b] == [(15, 1), (10, 1)] and [w.shape for w in nabla_w] == [(15, 20), (10, 15)]
    assert net.update_mini_batch(train[:10], 0.5, 5.0, len(train)) is None
    k = net.accuracy(evaluation)
    assert type(k) is int and 0 <= k <= len(evaluation)
    assert type(net.accuracy(train, convert=True)) is int
    assert type(net.total_cost(train, 5.0)) is float and type(net.total_cost(evaluation, 5.0, convert=True)) is float
    with contextlib.redirect_stdout(io.StringIO()):
        result = net.SGD(train, 2, 10, 0.5, lmbda=5.0, evaluation_data=evaluation, **ALL_FOUR)
    assert isinstance(result, tuple) and len(result) == 4 and all(isinstance(r, list) and len(r) == 2 for r in result)
    evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = result
    assert all(type(c) is float for c in evaluation_cost + training_cost)
    assert all(type(c) is int for c in evaluation_accuracy + training_accuracy)
    with contextlib.redirect_stdout(io.StringIO()):
        assert net.SGD(train, 1, 10, 0.5) == ([], [], [], [])
    assert net.save(tmp_path / "n.json") is None
    back = network2.load(tmp_path / "n.json")
    assert isinstance(back, network2.Network) and back.cost is network2.CrossEntropyCost
    assert network2.Network([3, 2], cost=network2.QuadraticCost).cost is network2.QuadraticCost


def test_initializers_draw_what_the_books_draw():
    np.random.seed(1)
    book = nv.Network2([20, 15, 10])
    np.random.seed(1)
    ours = network2.Network([20, 15, 10])
    for a, b in zip(params(ours), params(book)):
        assert np.array_equal(a, b)  # bit for bit: the same draws, the same division by sqrt(n_in)
    np.random.seed(2)
    book.large_weight_initializer()
    np.random.seed(2)
    ours.large_weight_initializer()
    for a, b in zip(params(ours), params(book)):
        assert np.array_equal(a, b)
    state = np.random.get_state()[1].copy()
    seeded_net = network2.Network([20, 15, 10], seed=3)
    seeded_net.large_weight_initializer()
    assert np.array_equal(np.random.get_state()[1], state)  # seed=: steepest's generator, the global one untouched
    assert np.array_equal(
        params(network2.Network([20, 15, 10], seed=3))[0], params(network2.Network([20, 15, 10], seed=3))[0]
    )


# ---- the book's own run ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cost,lmbda", [("CrossEntropyCost", 5.0), ("QuadraticCost", 0.0), ("CrossEntropyCost", 0.0)])
def test_book_run_seeded_globally_gives_the_books_numbers(backend, cost, lmbda):
    train, evaluation = data()
    args = (train, 3, 10, 0.5)
    kwargs = dict(lmbda=lmbda, evaluation_data=evaluation, **ALL_FOUR)
    book, book_lists, book_out = trained(4, lambda: nv.Network2([20, 15, 10], cost=getattr(nv, cost)), *args, **kwargs)
    ours, our_lists, our_out = trained(
        4, lambda: network2.Network([20, 15, 10], cost=getattr(network2, cost)), *args, backend=backend, **kwargs
    )
    same_lists(our_lists, book_lists)
    same_output(our_out, book_out)
    assert "Epoch 2 training complete" in our_out and our_out.endswith("\n\n")
    assert max_rel_err(ours, book) <= 1e-12


def test_some_monitors_and_no_evaluation_data():
    train, evaluation = data(seed=5)
    kwargs = dict(lmbda=1.0, evaluation_data=evaluation, monitor_evaluation_accuracy=True)
    _, book_lists, book_out = trained(6, lambda: nv.Network2([20, 15, 10]), train, 2, 7, 0.5, **kwargs)
    _, our_lists, our_out = trained(6, lambda: network2.Network([20, 15, 10]), train, 2, 7, 0.5, **kwargs)
    assert our_lists == book_lists and our_out == book_out
    _, book_lists, book_out = trained(7, lambda: nv.Network2([20, 15, 10]), train, 2, 7, 0.5)
    _, our_lists, our_out = trained(7, lambda: network2.Network([20, 15, 10]), train, 2, 7, 0.5)
    assert our_lists == book_lists == ([], [], [], []) and our_out == book_out


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST files not available")
def test_book_run_on_mnist_equals_the_book():
    train, test = mnist_book_data(2000, 1000)
    args = (train, 2, 10, 0.5)
    kwargs = dict(lmbda=5.0, evaluation_data=test, **ALL_FOUR)
    book, book_lists, book_out = trained(12, lambda: nv.Network2([784, 30, 10]), *args, **kwargs)
    ours, our_lists, our_out = trained(12, lambda: network2.Network([784, 30, 10]), *args, **kwargs)
    same_lists(our_lists, book_lists)
    same_output(our_out, book_out)
    assert max_rel_err(ours, book) <= 1e-9


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST files not available")
def test_book_run_on_mnist_30_epochs_stays_the_books():
    # Regularized, cross-entropy, eta 0.5: not chaotic; the drift stays at rounding for all 30 epochs.
    train, test = mnist_book_data(8000, 2000)
    args = (train, 30, 10, 0.5)
    kwargs = dict(lmbda=5.0, evaluation_data=test, monitor_evaluation_cost=True, monitor_evaluation_accuracy=True)
    book, book_lists, book_out = trained(0, lambda: nv.Network2([784, 30, 10]), *args, **kwargs)
    ours, our_lists, our_out = trained(0, lambda: network2.Network([784, 30, 10]), *args, **kwargs)
    same_lists(our_lists, book_lists)
    same_output(our_out, book_out)
    assert max_rel_err(ours, book) <= 1e-12


# ---- user-written costs and overrides ------------------------------------------------------------


class HalvedCrossEntropy:
    """A user-written cost: half the cross-entropy (so half its delta)."""

    @staticmethod
    def fn(a, y):
        return 0.5 * nv.CrossEntropyCost.fn(a, y)

    @staticmethod
    def delta(z, a, y):
        assert z.shape == a.shape == y.shape == (10, 1)  # called one example at a time, as in the book
        return 0.5 * (a - y)


class SameAsQuadratic(network2.QuadraticCost):
    pass


def test_user_written_cost_is_used_as_the_book_uses_it():
    train, evaluation = data(seed=8)
    args = (train, 2, 10, 0.5)
    kwargs = dict(lmbda=2.0, evaluation_data=evaluation, **ALL_FOUR)
    book, book_lists, book_out = trained(9, lambda: nv.Network2([20, 15, 10], cost=HalvedCrossEntropy), *args, **kwargs)
    ours, our_lists, our_out = trained(
        9, lambda: network2.Network([20, 15, 10], cost=HalvedCrossEntropy), *args, **kwargs
    )
    assert not ours._fused_training()
    same_lists(our_lists, book_lists)
    same_output(our_out, book_out)
    assert max_rel_err(ours, book) <= 1e-12
    assert network2.Network([3, 2], cost=SameAsQuadratic, seed=0)._fused_training()  # the book's fn and delta


class CountingNetwork(network2.Network):
    calls = {"update_mini_batch": 0, "backprop": 0}

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        type(self).calls["update_mini_batch"] += 1
        assert isinstance(mini_batch, list) and n == 120
        super().update_mini_batch(mini_batch, eta, lmbda, n)

    def backprop(self, x, y):
        type(self).calls["backprop"] += 1
        return super().backprop(x, y)


class OwnAccuracy(network2.Network):
    def accuracy(self, data, convert=False):
        assert isinstance(data, list)
        return -1 if convert else -2


def test_overrides_go_through_the_books_structure_and_agree_with_the_fused_path():
    train, evaluation = data(seed=10)
    kwargs = dict(lmbda=3.0, evaluation_data=evaluation, verbose=False, **ALL_FOUR)
    fused = network2.Network([20, 15, 10], seed=11)
    fused_lists = fused.SGD(train, 2, 10, 0.5, **kwargs)
    CountingNetwork.calls = {"update_mini_batch": 0, "backprop": 0}
    ours = CountingNetwork([20, 15, 10], seed=11)
    our_lists = ours.SGD(train, 2, 10, 0.5, **kwargs)
    assert CountingNetwork.calls == {"update_mini_batch": 2 * 12, "backprop": 2 * 120}
    same_lists(our_lists, fused_lists)
    for a, b in zip(params(ours), params(fused)):
        assert np.abs(a - b).max() <= 1e-12 * np.abs(b).max()
    lists = OwnAccuracy([20, 15, 10], seed=0).SGD(train, 2, 10, 0.5, **kwargs)
    assert lists[1] == [-2, -2] and lists[3] == [-1, -1] and len(lists[0]) == 2


def test_convert_flags_that_do_not_match_the_data_are_refused():
    train, evaluation = data(seed=13)
    net = network2.Network([20, 15, 10], seed=0)
    with pytest.raises(ValueError, match="convert=True"):
        net.accuracy(train)
    with pytest.raises(ValueError, match="convert=False"):
        net.accuracy(evaluation, convert=True)
    with pytest.raises(ValueError, match="convert=True"):
        net.total_cost(evaluation, 0.0)
    with pytest.raises(ValueError, match="convert=False"):
        net.total_cost(train, 0.0, convert=True)
    X, y = make_data(n=30, sizes=(20, 10), seed=14)
    assert (
        net.accuracy((X, y))
        == net.accuracy(book_pairs(X, y, one_hot=False))
        == net.accuracy(book_pairs(X, y), convert=True)
    )
    book = nv.Network2([20, 15, 10])
    book.weights, book.biases = params(net)[:2], params(net)[2:]
    assert net.total_cost(train, 2.0) == pytest.approx(book.total_cost(train, 2.0), rel=1e-13)
    assert net.total_cost(evaluation, 2.0, convert=True) == pytest.approx(
        book.total_cost(evaluation, 2.0, convert=True), rel=1e-13
    )
    assert net.accuracy(evaluation) == book.accuracy(evaluation)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda net, t, e: network2.Network([20, 10], cost="cross_entropy"), TypeError, "cost class"),
        (lambda net, t, e: net.SGD(t, 1, 10, 0.5, monitor_evaluation_cost=True), ValueError, "evaluation_data"),
        (lambda net, t, e: net.SGD(t, 1, 10, 0.5, monitor_training_cost=1), TypeError, "monitor_training_cost"),
        (lambda net, t, e: net.SGD(t, 1, 0, 0.5), ValueError, "mini_batch_size"),
        (lambda net, t, e: net.SGD(t, 1, 10, 0.5, lmbda=-1.0), ValueError, "lmbda"),
        (lambda net, t, e: net.SGD(t, 1, 10, 0.5, evaluation_data=[(t[0][0], 12)]), ValueError, "evaluation_data"),
        (lambda net, t, e: net.accuracy(e, convert="yes"), TypeError, "convert"),
        (lambda net, t, e: net.update_mini_batch(t[:5], 0.5, 1.0, 0), ValueError, "n"),
        (lambda net, t, e: net.save(None), TypeError, "filename"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(call, exc, match):
    train, evaluation = data(seed=15)
    net = network2.Network([20, 15, 10], seed=16)
    before = params(net)
    with pytest.raises(exc, match=match):
        call(net, train, evaluation)
    for a, b in zip(params(net), before):
        assert np.array_equal(a, b)


def test_float32_pairs_as_in_mnist_pkl_gz_are_taken_as_the_book_takes_them():
    train, evaluation = data(seed=17)
    train32 = [(x.astype(np.float32), y) for x, y in train]
    eval32 = [(x.astype(np.float32), y) for x, y in evaluation]
    kwargs = dict(lmbda=1.0, evaluation_data=eval32, **ALL_FOUR)
    book, book_lists, _ = trained(18, lambda: nv.Network2([20, 15, 10]), train32, 2, 10, 0.5, **kwargs)
    ours, our_lists, _ = trained(18, lambda: network2.Network([20, 15, 10]), train32, 2, 10, 0.5, **kwargs)
    same_lists(our_lists, book_lists)
    assert max_rel_err(ours, book) <= 1e-12 and ours.weights[0].dtype == np.float64


# ---- files: the book's JSON ----------------------------------------------------------------------


def test_save_writes_the_books_json_and_the_books_load_reads_it(tmp_path):
    np.random.seed(19)
    net = network2.Network([20, 15, 10], cost=network2.QuadraticCost)
    path = tmp_path / "net.json"
    net.save(path)
    doc = json.loads(path.read_text())
    assert set(doc) == {"sizes", "weights", "biases", "cost"} and doc["cost"] == "QuadraticCost"
    book = nv.load(str(path))
    assert book.cost is nv.QuadraticCost
    for a, b in zip(book.weights + book.biases, params(net)):
        assert np.array_equal(a, b)
    # and the other way: the book's file, our load, which (unlike the book's) draws nothing from np.random
    np.random.seed(20)
    nv.Network2([20, 15, 10]).save(str(tmp_path / "book.json"))
    np.random.seed(21)
    book_back = nv.load(str(tmp_path / "book.json"))
    before = np.random.get_state()[1].copy()
    ours = network2.load(tmp_path / "book.json")
    assert np.array_equal(np.random.get_state()[1], before)
    assert ours.cost is network2.CrossEntropyCost and ours.rng is None
    for a, b in zip(params(ours), book_back.weights + book_back.biases):
        assert np.array_equal(a, b)


def test_a_seeded_network_saves_its_generator_and_continues_exactly(tmp_path):
    train, evaluation = data(seed=22)
    net = network2.Network([20, 15, 10], seed=23)
    net.SGD(train, 1, 10, 0.5, verbose=False)
    net.save(tmp_path / "s.json")
    doc = json.loads((tmp_path / "s.json").read_text())
    assert {"sizes", "weights", "biases", "cost", "rng"} <= set(doc)
    assert nv.load(str(tmp_path / "s.json")).sizes == [20, 15, 10]  # the book's load ignores the extra keys
    back = network2.load(tmp_path / "s.json")
    a = net.SGD(train, 2, 10, 0.5, lmbda=1.0, evaluation_data=evaluation, verbose=False, **ALL_FOUR)
    b = back.SGD(train, 2, 10, 0.5, lmbda=1.0, evaluation_data=evaluation, verbose=False, **ALL_FOUR)
    assert a == b
    for p, q in zip(params(net), params(back)):
        assert np.array_equal(p, q)


def test_load_refuses_what_is_not_a_network2_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"sizes": [3, 2], "weights": [], "biases": [], "cost": "os"}))
    with pytest.raises(ValueError, match="cost"):
        network2.load(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="keys"):
        network2.load(bad)
    steepest_chapter1 = tmp_path / "c1.json"
    from steepest.network import Network

    Network([3, 2], cost="cross_entropy", seed=0).save(steepest_chapter1)
    assert network2.load(steepest_chapter1).cost is network2.CrossEntropyCost


# ---- the book's mnist_loader -----------------------------------------------------------------------


def _write_book_pickle(path, parts):
    path.write_bytes(gzip.compress(py2_pickle(parts), mtime=0))
    return path


def test_load_data_wrapper_from_idx_files_has_the_books_forms(tmp_path):
    train_images, train_labels = write_mnist_folder(tmp_path, n=60, kind="train", seed=24)
    test_images, test_labels = write_mnist_folder(tmp_path, n=15, kind="t10k", seed=25)
    training, validation, test = mnist_loader.load_data_wrapper(tmp_path, validation_size=20)
    assert isinstance(training, list) and (len(training), len(validation), len(test)) == (40, 20, 15)
    x, y = training[0]
    assert x.shape == (784, 1) and x.dtype == np.float32 and y.shape == (10, 1) and y.dtype == np.float64
    assert y[train_labels[0], 0] == 1.0 and y.sum() == 1.0
    assert np.array_equal(x[:, 0], train_images[0] / np.float32(256))  # exactly mnist.pkl.gz's values
    x, k = validation[3]
    assert type(k) is int and k == train_labels[43] and np.array_equal(x[:, 0], train_images[43] / np.float32(256))
    assert all(type(k) is int for _, k in test) and [k for _, k in test] == test_labels.tolist()
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = mnist_loader.load_data(tmp_path, validation_size=20)
    assert tr_x.shape == (40, 784) and tr_x.dtype == np.float32 and tr_y.dtype == np.int64 and te_x.shape == (15, 784)
    assert load_data_wrapper is mnist_loader.load_data_wrapper
    net = network2.Network([784, 10, 10], seed=0)  # the networks take these lists as they are
    with contextlib.redirect_stdout(io.StringIO()):
        lists = net.SGD(training, 1, 10, 0.5, evaluation_data=validation, monitor_evaluation_accuracy=True)
    assert len(lists[1]) == 1
    with pytest.raises(ValueError, match="validation_size"):
        mnist_loader.load_data(tmp_path)  # 10,000 validation images of 60


def test_load_data_wrapper_from_the_books_pickle(tmp_path, monkeypatch):
    rng = np.random.default_rng(26)

    def part(n):
        return (rng.integers(0, 256, (n, 784)).astype(np.float32) / np.float32(256), rng.integers(0, 10, n))

    parts = (part(30), part(10), part(12))
    path = _write_book_pickle(tmp_path / "mnist.pkl.gz", parts)
    for where in (path, tmp_path):
        training, validation, test = mnist_loader.load_data_wrapper(where)
        assert (len(training), len(validation), len(test)) == (30, 10, 12)
        assert np.array_equal(training[4][0][:, 0], parts[0][0][4]) and training[4][1][parts[0][1][4], 0] == 1.0
        assert test[2][1] == parts[2][1][2] and type(test[2][1]) is int
    monkeypatch.setenv("STEEPEST_MNIST_DIR", str(tmp_path))
    assert len(mnist_loader.load_data_wrapper()[0]) == 30
    monkeypatch.setenv("STEEPEST_MNIST_DIR", str(tmp_path / "nothing"))
    monkeypatch.setenv("STEEPEST_DATA", str(tmp_path / "nothing"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="download_mnist"):
        mnist_loader.load_data_wrapper()


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


@pytest.mark.parametrize(
    "content,match",
    [
        (pickle.dumps(_Evil()), "refused global"),
        (pickle.dumps({"a": 1}), "tuple of 3"),
        (pickle.dumps((1, 2, 3)), "pair"),
        (pickle.dumps(((np.zeros((2, 784), np.float32), [0, 1]),) * 3), "plain numpy array"),
        (pickle.dumps(((np.zeros((2, 5), np.float32), np.zeros(2, np.int64)),) * 3), "784"),
        (pickle.dumps(((np.full((2, 784), 2.0, np.float32), np.zeros(2, np.int64)),) * 3), r"\[0, 1\]"),
        (pickle.dumps(((np.zeros((2, 784), np.float32), np.array([0, 10])),) * 3), r"\[0, 10\)"),
        (pickle.dumps(((np.zeros((2, 784), np.float32), np.zeros(3, np.int64)),) * 3), "one per image"),
        (b"not a pickle at all", "not the book's mnist.pkl.gz"),
    ],
)
def test_a_pickle_that_is_not_the_books_is_refused_safely(tmp_path, capfd, content, match):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(ValueError, match=match):
        mnist_loader.load_data(path)
    assert "pwned" not in capfd.readouterr().out


def test_seeded_book_run_with_the_loaders_lists_equals_the_books(tmp_path):
    write_mnist_folder(tmp_path, n=150, kind="train", seed=27)
    write_mnist_folder(tmp_path, n=30, kind="t10k", seed=28)
    training, validation, _ = mnist_loader.load_data_wrapper(tmp_path, validation_size=50)
    kwargs = dict(lmbda=5.0, evaluation_data=validation, **ALL_FOUR)
    book, book_lists, _ = trained(29, lambda: nv.Network2([784, 12, 10]), training, 2, 10, 0.5, **kwargs)
    ours, our_lists, _ = trained(29, lambda: network2.Network([784, 12, 10]), training, 2, 10, 0.5, **kwargs)
    same_lists(our_lists, book_lists)
    assert max_rel_err(ours, book) <= 1e-12
    random.seed(0)  # leave the global generators as a fresh test would find them
    np.random.seed(None)
