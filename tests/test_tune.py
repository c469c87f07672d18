"""``optimize.tune``: K (learning rate, reg) models trained together on one sequence of mini-batches."""

from __future__ import annotations

import numpy as np
import pytest

import steepest
from steepest import _runs
from steepest import optimize as opt
from steepest.optimize.tune import Batches


def _problem(kind, dtype=np.float64, backend=None):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 400)).astype(dtype)
    y = rng.integers(0, 5, 400)
    cls = steepest.SVMLoss if kind == "svm" else steepest.SoftmaxLoss
    return cls(X, y, backend=backend), X, y


@pytest.mark.parametrize("kind", ["svm", "softmax"])
@pytest.mark.parametrize("block", [None, 7])
def test_each_model_equals_its_own_training_run(backend, kind, block, monkeypatch):
    """(``block``: the batches drawn 7 steps at a time instead of all 60 at once.)"""
    if block is not None:
        monkeypatch.setattr(Batches, "BLOCK", block)
    loss, X, y = _problem(kind, backend=backend)
    lrs, regs = [1e-2, 3e-2], [0.0, 0.1, 1.0]
    res = opt.tune(loss, lrs, regs, num_iters=60, batch_size=32, seed=4)
    # the same draws: K starting W in grid order, then the batches
    rng = np.random.default_rng(4)
    W0 = rng.standard_normal((6, 5, 30)) * 1e-3
    batches = rng.integers(0, 400, (60, 32))
    for k, (lr, reg) in enumerate(res.settings):
        single = loss.with_reg(reg)
        W, hist = W0[k].copy(), []
        for idx in batches:
            value, dW = single.subset(idx).loss_grad(W)
            hist.append(value)
            W -= lr * dW
        np.testing.assert_allclose(res.W[k], W, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(res.loss_history[k], hist, rtol=1e-10)
    assert res.train_acc.shape == (6,) and np.all(np.isnan(res.val_acc))
    assert res.best == int(np.argmax(res.train_acc))


@pytest.mark.parametrize("num_iters", [1, 6, 7, 20, 21])
def test_batches_are_the_one_big_draw(monkeypatch, num_iters):
    """The grid's batches, drawn a block of steps at a time (blocks of 7 here), are exactly one
    ``rng.integers(0, n, (num_iters, B))`` draw, every time they are iterated (each chunk of a grid walks
    them), after a pickle (a Dask worker's copy), and they leave the caller's generator where that draw
    would have left it."""
    import pickle

    monkeypatch.setattr(Batches, "BLOCK", 7)
    ours, theirs = np.random.default_rng(11), np.random.default_rng(11)
    batches = Batches(ours, 1000, num_iters, 5)
    expected = theirs.integers(0, 1000, (num_iters, 5))
    assert len(batches) == num_iters
    for walk in (batches, batches, pickle.loads(pickle.dumps(batches))):
        np.testing.assert_array_equal(np.array(list(walk)), expected)
    assert ours.integers(2**62) == theirs.integers(2**62)


def test_validation_picks_the_best_and_diverged_models_are_reported():
    loss, X, y = _problem("svm")
    X_val, y_val = X[:, :100].copy(), y[:100].copy()
    res = opt.tune(loss, [1e-2, 1e300], [0.5], num_iters=20, batch_size=16, seed=0, X_val=X_val, y_val=y_val)
    assert list(res.diverged) == [False, True]
    assert res.best == 0 and res.best_learning_rate == 1e-2 and res.best_reg == 0.5
    expect = np.mean(np.argmax(res.W[0] @ X_val, axis=0) == y_val)
    assert res.val_acc[0] == pytest.approx(expect)
    text = str(res)
    assert "diverged" in text and "<- best" in text and "val acc" in text


def test_chunks_in_parallel_give_the_same_models():
    pytest.importorskip("joblib")
    loss, X, y = _problem("softmax")
    one = opt.tune(loss, [1e-2, 2e-2], [0.0, 0.2], num_iters=30, batch_size=20, seed=1)
    two = opt.tune(loss, [1e-2, 2e-2], [0.0, 0.2], num_iters=30, batch_size=20, seed=1, n_jobs=2)
    np.testing.assert_allclose(two.W, one.W, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(learning_rates=[]), ValueError, "learning_rates"),
        (dict(learning_rates=[-1.0]), ValueError, "learning_rates"),
        (dict(learning_rates="1e-3"), TypeError, "learning_rates"),
        (dict(regs=[-0.1]), ValueError, "regs"),
        (dict(regs=[float("nan")]), ValueError, "regs"),
        (dict(num_iters=0), ValueError, "num_iters"),
        (dict(batch_size=401), ValueError, "batch_size"),
        (dict(n_jobs=0), ValueError, "n_jobs"),
        (dict(seed="x"), TypeError, "seed"),
        (dict(X_val=np.zeros((30, 3))), ValueError, "X_val and y_val"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(kwargs, error, match):
    loss, X, y = _problem("svm")
    args = dict(learning_rates=[1e-3], regs=[0.0], num_iters=5, batch_size=10)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        opt.tune(loss, **args)
    with pytest.raises(TypeError, match="loss"):
        opt.tune(lambda W: 0.0, [1e-3], [0.0])


def test_run_lengths_follow_the_pace(monkeypatch):
    """Runs of training steps: one step first, then as many as fill the time at the last run's pace,
    at most ``longest``, never past the total; a faster pace gives longer runs."""
    clock = [0.0]
    monkeypatch.setattr(_runs.time, "perf_counter", lambda: clock[0])

    def lengths(total, per_step, **kw):
        out = []
        for size in _runs.RunLengths(total, **kw):
            out.append(size)
            clock[0] += size * per_step
        return out

    assert lengths(100, 0.01, seconds=0.25, longest=64) == [1, 25, 25, 25, 24]
    assert lengths(100, 0.001, seconds=0.25, longest=64) == [1, 64, 35]
    assert lengths(3, 10.0) == [1, 1, 1]
    assert lengths(0, 0.01) == []
