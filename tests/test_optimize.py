"""steepest.optimize: the strategies and the descent loops, on every backend."""

from __future__ import annotations

import functools
import math
import os
import re
import sys
import types

import numpy as np
import pytest

import steepest
from steepest import _runs
from steepest import optimize as opt
from steepest.optimize import descent
from steepest.optimize import updates as upd

from conftest import BACKENDS


def learnable(N=600, D=16, C=4, seed=0, dtype=np.float64):
    """X (D, N) with a bias row and labels from a hidden linear model: a linear classifier can learn it."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((D, N))
    X[-1] = 1.0
    W_true = rng.standard_normal((C, D))
    y = np.argmax(W_true @ X, axis=0).astype(np.int64)
    return X.astype(dtype), y


@pytest.fixture(scope="module")
def data():
    return learnable()


def svm(data, backend=None, reg=1e-3):
    X, y = data
    return steepest.SVMLoss(X, y, reg, backend=backend)


def softmax(data, backend=None, reg=1e-3):
    X, y = data
    return steepest.SoftmaxLoss(X, y, reg, backend=backend)


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-300)))


# --- random search -------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [svm, softmax], ids=["svm", "softmax"])
@pytest.mark.parametrize("block", [None, 7])
def test_random_search_fast_path_equals_one_at_a_time(data, backend, make, block):
    loss = make(data, backend)
    slow = opt.random_search(loss, (4, 16), num_tries=40, scale=0.3, seed=3, block=1)
    fast = opt.random_search(loss, (4, 16), num_tries=40, scale=0.3, seed=3, block=block)
    assert rel(fast.loss_history, slow.loss_history) < 1e-12
    assert np.array_equal(fast.W, slow.W)
    assert fast.loss == pytest.approx(slow.loss, rel=1e-12)
    assert fast.nfev == slow.nfev == 40 and fast.backend == backend


def test_random_search_candidates_in_loop_order(data):
    """The notes' loop: candidate k is the k-th randn((C, D)) * scale draw of the generator."""
    loss = svm(data, "numpy")
    res = opt.random_search(loss, (4, 16), num_tries=10, scale=1e-2, seed=5, block=4)
    rng = np.random.default_rng(5)
    expected = [loss(rng.standard_normal((4, 16)) * 1e-2) for _ in range(10)]
    assert rel(res.loss_history, expected) < 1e-12
    assert np.array_equal(res.best_history, np.minimum.accumulate(expected))


def test_random_search_subset_and_float32(backend):
    X, y = learnable(dtype=np.float32)
    loss = steepest.SVMLoss(X, y, 1e-3, backend=backend).subset(np.arange(0, 600, 3))
    slow = opt.random_search(loss, (4, 16), num_tries=12, scale=0.3, seed=1, block=1)
    fast = opt.random_search(loss, (4, 16), num_tries=12, scale=0.3, seed=1)
    assert fast.W.dtype == np.float32
    assert rel(fast.loss_history, slow.loss_history) < 1e-6


def test_random_search_plain_callable():
    f = lambda W: float(np.sum((W - 1.0) ** 2))  # noqa: E731
    res = opt.random_search(f, (2, 3), num_tries=50, scale=1.0, seed=0)
    assert res.nfev == 50 and res.loss == min(res.loss_history)


# --- same seed, same result on every backend --------------------------------------------------------


@pytest.mark.skipif(len(BACKENDS) < 2, reason="one backend")
def test_same_seed_same_results_across_backends(data):
    runs = {}
    for b in BACKENDS:
        loss = svm(data, b)
        runs[b] = (
            opt.random_search(loss, (4, 16), num_tries=30, scale=0.3, seed=2),
            opt.random_local_search(loss, step_size=0.05, num_iters=40, seed=2),
            opt.gradient_descent(loss, None, 0.1, 20, seed=2),
            opt.minibatch_gd(loss, None, 32, 0.1, num_iters=50, update="nesterov", seed=2),
            opt.minibatch_gd(softmax(data, b), None, 32, 0.1, num_epochs=2, sampling="epoch", update="adam", seed=2),
        )
    ref = runs["numpy"]
    for b, results in runs.items():
        for r, q in zip(results, ref):
            assert r.backend == b
            assert rel(r.loss_history, q.loss_history) < 1e-10, (b, r.method)
            assert rel(r.W, q.W) < 1e-10, (b, r.method)


# --- the strategies learn -----------------------------------------------------------------------


def test_strategies_improve_the_loss(data, backend):
    loss = svm(data, backend)
    X, y = data
    W0 = np.random.default_rng(0).standard_normal((4, 16)) * 1e-3
    start = loss(W0)
    rs = opt.random_search(loss, (4, 16), num_tries=50, scale=0.5, seed=0)
    rls = opt.random_local_search(loss, W0, step_size=0.05, num_iters=100, seed=0)
    gd = opt.gradient_descent(loss, W0, 0.2, 60)
    mb = opt.minibatch_gd(loss, W0, 64, 0.2, num_epochs=5, seed=0)
    assert rs.loss < np.median(rs.loss_history) and rls.loss < start and gd.loss < start
    assert rls.accepted >= 1 and np.all(np.diff(rls.best_history) <= 0)
    assert np.all(np.diff(rs.best_history) <= 0) and rs.loss == rs.best_history[-1]
    assert gd.loss < rls.loss and gd.loss_history[-1] < gd.loss_history[0]
    assert gd.nfev == 61 and gd.ngev == 60 and gd.nit == 60
    assert mb.accuracy(X, y) > 0.85 and gd.accuracy(X, y) > 0.85
    assert np.array_equal(mb.predict(X), steepest.predict(mb.W, X))


def test_train_linear_classifier(data, backend):
    X, y = data
    clf = opt.train_linear_classifier(
        X, y, "softmax", reg=1e-3, learning_rate=0.5, batch_size=50, num_iters=300, seed=0, backend=backend
    )
    assert isinstance(clf, opt.LinearClassifier)
    assert clf.W.shape == (4, 16) and len(clf.loss_history) == 300
    assert clf.accuracy(X, y) > 0.85 and clf.predict(X).shape == (600,)
    # the CS231n start: W = 0.001 * randn(C, D) from the seed, then minibatch_gd with replacement
    W0 = 0.001 * np.random.default_rng(7).standard_normal((4, 16))
    rng = np.random.default_rng(7)
    rng.standard_normal((4, 16))
    a = opt.train_linear_classifier(X, y, "svm", reg=1e-2, learning_rate=1e-2, num_iters=20, seed=7, backend=backend)
    b = opt.minibatch_gd(svm(data, backend, reg=1e-2), W0, 200, 1e-2, num_iters=20, seed=rng)
    assert np.array_equal(a.W, b.W) and np.array_equal(a.loss_history, b.loss_history)
    assert "svm" in str(a) and "iterations" in str(a)


def test_sgd_is_batch_of_one(data):
    loss = svm(data, "numpy")
    res = opt.sgd(loss, None, 0.05, num_epochs=1, seed=0)
    assert res.nit == 600 and res.details["steps_per_epoch"] == 600
    with pytest.raises(TypeError, match="batch_size"):
        opt.sgd(loss, batch_size=2)


def test_epoch_sampling_visits_every_example_once(data):
    seen = []
    loss = svm(data, "numpy")
    res = opt.minibatch_gd(
        loss,
        None,
        256,
        0.1,
        num_epochs=1,
        sampling="epoch",
        seed=11,
        shape=(4, 16),
        callback=lambda step, info: seen.append(step),
    )
    assert res.nit == 3 and seen == [0, 1, 2]
    # the first batch is the first 256 of the epoch's permutation (W0 drawn first from the same seed)
    rng = np.random.default_rng(11)
    W0 = rng.standard_normal((4, 16)) * 1e-3
    perm = rng.permutation(600)
    first = svm(data, "numpy").subset(perm[:256]).loss(W0)
    assert res.loss_history[0] == pytest.approx(first, rel=1e-14)


# --- update rules, decay ------------------------------------------------------------------------


@pytest.mark.parametrize("update", ["sgd", "momentum", "nesterov", "adam"])
def test_update_formulas_by_hand(data, update, backend):
    loss = svm(data, backend)
    W0 = np.random.default_rng(1).standard_normal((4, 16)) * 0.1
    lr, mu, b1, b2, eps = 0.05, 0.8, 0.85, 0.99, 1e-7
    res = opt.gradient_descent(loss, W0, lr, 4, update=update, momentum=mu, beta1=b1, beta2=b2, eps=eps)
    # CS231n optim.py, written out
    W = W0.copy()
    v = np.zeros_like(W)
    m = np.zeros_like(W)
    hist = []
    for t in range(1, 5):
        value, dW = loss.loss_grad(W)
        hist.append(value)
        if update == "sgd":
            W = W - lr * dW
        elif update == "momentum":
            v = mu * v - lr * dW
            W = W + v
        elif update == "nesterov":
            v_prev = v
            v = mu * v - lr * dW
            W = W + (-mu * v_prev + (1 + mu) * v)
        else:
            m = b1 * m + (1 - b1) * dW
            v = b2 * v + (1 - b2) * dW**2
            mt = m / (1 - b1**t)
            vt = v / (1 - b2**t)
            W = W - lr * mt / (np.sqrt(vt) + eps)
    assert rel(res.loss_history, hist) < 1e-13
    assert np.allclose(res.W, W, rtol=1e-13, atol=1e-15)
    assert res.loss == pytest.approx(loss(W), rel=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("update", ["sgd", "momentum", "nesterov", "adam"])
def test_update_rules_are_the_formulas_bitwise(update, dtype):
    # the rules compute in place, in the loop's own gradient: the same bits as the formulas written
    # out with NumPy temporaries, and W and the state untouched
    rng = np.random.default_rng(3)
    W, dW = (rng.standard_normal((7, 33)).astype(dtype) for _ in range(2))
    state = {key: rng.standard_normal((7, 33)).astype(dtype) ** 2 for key in upd.STATE_KEYS[update]}
    hp = types.SimpleNamespace(momentum=0.9, beta1=0.85, beta2=0.995, eps=1e-7)
    lr, t = 0.03, 4
    kept = (W.copy(), {key: v.copy() for key, v in state.items()})
    if update == "sgd":
        want, want_state = W - lr * dW, {}
    elif update == "momentum":
        v = hp.momentum * state["v"] - lr * dW
        want, want_state = W + v, {"v": v}
    elif update == "nesterov":
        v = hp.momentum * state["v"] - lr * dW
        want, want_state = W - hp.momentum * state["v"] + (1.0 + hp.momentum) * v, {"v": v}
    else:
        m = hp.beta1 * state["m"] + (1.0 - hp.beta1) * dW
        v = hp.beta2 * state["v"] + (1.0 - hp.beta2) * (dW * dW)
        m_hat, v_hat = m / (1.0 - hp.beta1 ** (t + 1)), v / (1.0 - hp.beta2 ** (t + 1))
        want, want_state = W - lr * m_hat / (np.sqrt(v_hat) + hp.eps), {"m": m, "v": v}
    got, got_state = upd.RULES[update](W, dW.copy(), lr, state, t, hp)
    assert got.dtype == dtype and got.tobytes() == want.tobytes()
    assert {k: v.tobytes() for k, v in got_state.items()} == {k: v.tobytes() for k, v in want_state.items()}
    assert W.tobytes() == kept[0].tobytes()
    assert all(state[key].tobytes() == kept[1][key].tobytes() for key in state)
    assert all(got is not s for s in got_state.values()) and all(got is not s for s in state.values())


def test_updates_keep_float32(data):
    X, y = learnable(dtype=np.float32)
    loss = steepest.SVMLoss(X, y, 1e-3, backend="numpy")
    for update in upd.UPDATES:
        res = opt.minibatch_gd(loss, None, 32, 0.1, num_iters=5, update=update, seed=0)
        assert res.W.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("make", [svm, softmax], ids=["svm", "softmax"])
def test_plain_sgd_step_in_the_kernel_call_is_the_rule_bitwise(backend, make, dtype):
    """Plain SGD takes its update in the kernel call (``step_at``): bitwise the loop that takes the
    gradient and then the rule ``dW *= lr; W - dW``, every step, with a decaying rate, both dtypes."""
    loss = make(learnable(dtype=dtype), backend)
    W0 = (np.random.default_rng(4).standard_normal((4, 16)) * 0.1).astype(dtype)
    decay = ("exp", 0.3)
    res = opt.minibatch_gd(loss, W0, 16, 0.37, num_iters=9, lr_decay=decay, seed=2)
    rng, W, hist = np.random.default_rng(2), loss.check_weights(W0), []
    for t in range(9):
        value, dW = loss.loss_grad_at(W, rng.integers(0, loss.n, 16))
        W, _ = upd.RULES["sgd"](W, dW, upd.learning_rate(0.37, decay, t), {}, t, None)
        hist.append(value)
    assert res.W.dtype == dtype and res.loss_history.tolist() == hist
    assert np.array_equal(res.W.view(np.uint8), W.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("make", [svm, softmax], ids=["svm", "softmax"])
def test_plain_sgd_in_runs_is_the_loop_bitwise(backend, make, dtype, monkeypatch):
    """Plain SGD with a constant rate and nothing between steps takes its steps in runs, each one kernel
    call (``train_at``): bitwise the literal loop with its per-step draws, the generator left where the
    loop leaves it, whatever the runs' lengths (1 then 4 at a time, or the default pace)."""
    loss = make(learnable(dtype=dtype), backend)
    W0 = (np.random.default_rng(4).standard_normal((4, 16)) * 0.1).astype(dtype)
    rng, W, hist = np.random.default_rng(2), loss.check_weights(W0), []
    for _ in range(11):
        value, dW = loss.loss_grad_at(W, rng.integers(0, loss.n, 16))
        W, _ = upd.RULES["sgd"](W, dW, 0.37, {}, 0, None)
        hist.append(value)
    after = rng.integers(1 << 30)
    for lengths in ({}, {"seconds": 1e9, "longest": 4}):
        monkeypatch.setattr(descent, "RunLengths", functools.partial(_runs.RunLengths, **lengths))
        gen = np.random.default_rng(2)
        res = opt.minibatch_gd(loss, W0, 16, 0.37, num_iters=11, seed=gen)
        assert res.W.dtype == dtype and res.loss_history.tolist() == hist, lengths
        assert np.array_equal(res.W.view(np.uint8), W.view(np.uint8)), lengths
        assert gen.integers(1 << 30) == after, lengths


@pytest.mark.parametrize("longest", [4, 64])
def test_plain_sgd_in_runs_reports_divergence_at_its_step(data, backend, monkeypatch, longest):
    """A run of steps whose loss or W overflows (W grows 1e5-fold a step: the penalty overflows after
    about 30 steps, inside a run) is taken again step by step: the error names the same step and loss
    as the step-by-step loop (a callback forces that loop), with the generator where that loop leaves it."""
    X, y = data
    loss = steepest.SVMLoss(X, y, 1.0, backend=backend)
    monkeypatch.setattr(descent, "RunLengths", functools.partial(_runs.RunLengths, seconds=1e9, longest=longest))
    messages = []
    for callback in (None, lambda *a: None):
        gen = np.random.default_rng(0)
        with pytest.raises(FloatingPointError) as err:
            opt.minibatch_gd(loss, None, 32, 1e5, num_iters=200, seed=gen, callback=callback)
        messages.append((str(err.value), gen.integers(1 << 30)))  # the draws of the steps taken, no more
    step = int(re.search(r"at step (\d+)", messages[0][0]).group(1))
    assert messages[0] == messages[1] and step > 1, messages  # inside a run after the first (one step)


def test_lr_decay(data):
    loss = svm(data, "numpy")
    step = opt.minibatch_gd(loss, None, 32, 0.1, num_iters=7, lr_decay=("step", 3, 0.5), seed=0)
    assert step.lr_history.tolist() == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    exp = opt.minibatch_gd(loss, None, 32, 0.1, num_iters=5, lr_decay=("exp", 0.2), seed=0)
    assert np.array_equal(exp.lr_history, [0.1 * math.exp(-0.2 * t) for t in range(5)])
    # a decayed run is the plain run until the first decay: the first three steps agree
    plain = opt.minibatch_gd(loss, None, 32, 0.1, num_iters=3, seed=0)
    assert np.array_equal(plain.loss_history, step.loss_history[:3])


# --- validation and early stopping ----------------------------------------------------------------


def test_validation_history_and_early_stopping(data, backend):
    X, y = data
    rng = np.random.default_rng(3)
    Xv = rng.standard_normal((16, 200))
    Xv[-1] = 1
    yv = rng.integers(0, 4, 200)  # random labels: validation accuracy cannot keep improving
    loss = svm(data, backend)
    res = opt.minibatch_gd(
        loss, None, 32, 0.5, num_iters=400, X_val=Xv, y_val=yv, eval_every=5, early_stopping=3, seed=0
    )
    assert res.stopped_early and res.nit < 400
    assert res.val_steps.tolist() == list(range(5, res.nit + 1, 5))
    assert res.best_val_acc == max(res.val_acc_history)
    assert res.best_step == res.val_steps[int(np.argmax(res.val_acc_history))]
    assert steepest.accuracy(res.W, Xv, yv) == res.best_val_acc  # the best W is returned
    # without early stopping: evaluated once per epoch (ceil(600 / 32) = 19 steps)
    full = opt.minibatch_gd(loss, None, 32, 0.5, num_iters=40, X_val=X, y_val=y, seed=0)
    assert full.val_steps.tolist() == [19, 38] and not full.stopped_early
    assert full.details["final_val_acc"] == steepest.accuracy(full.W, X, y)
    assert "validation accuracy" in str(full)


def test_gradient_descent_tol(data):
    loss = svm(data, "numpy")
    res = opt.gradient_descent(loss, None, 1e-6, 1000, tol=1e-3, seed=0)
    assert res.converged and res.nit == 2
    assert opt.gradient_descent(loss, None, 0.1, 3, seed=0).converged is None


# --- checkpoints -------------------------------------------------------------------------------


CKPT_CASES = [
    dict(update="momentum", sampling="replacement"),
    dict(update="adam", sampling="epoch", lr_decay=("step", 10, 0.7)),
    dict(update="nesterov", sampling="epoch", eval_every=7, val=True),
]


@pytest.mark.parametrize("case", CKPT_CASES, ids=lambda c: c["update"])
def test_checkpoint_resume_is_bitwise(data, backend, tmp_path, case):
    case = dict(case)
    X, y = data
    if case.pop("val", False):
        case.update(X_val=X[:, :100], y_val=y[:100])
    loss = svm(data, backend)
    straight = opt.minibatch_gd(loss, None, 50, 0.1, num_iters=100, seed=4, **case)
    path = tmp_path / "run.ckpt"
    first = opt.minibatch_gd(loss, None, 50, 0.1, num_iters=40, seed=4, checkpoint=path, checkpoint_every=15, **case)
    assert first.nit == 40 and path.exists()
    resumed = opt.minibatch_gd(loss, None, 50, 0.1, num_iters=100, seed=999, resume=path, checkpoint=path, **case)
    assert resumed.nit == 100 and resumed.details["start_step"] == 40
    assert np.array_equal(resumed.W, straight.W)
    assert np.array_equal(resumed.loss_history, straight.loss_history)
    assert np.array_equal(resumed.lr_history, straight.lr_history)
    if straight.val_acc_history is not None:
        assert np.array_equal(resumed.val_acc_history, straight.val_acc_history)
        assert np.array_equal(resumed.val_steps, straight.val_steps)
    assert [p.name for p in tmp_path.iterdir()] == ["run.ckpt"]  # no temporary files left


def test_checkpoint_after_ctrl_c_resumes_bitwise(data, tmp_path):
    loss = svm(data, "numpy")
    straight = opt.minibatch_gd(loss, None, 50, 0.1, num_iters=60, sampling="epoch", update="adam", seed=1)

    def interrupt(step, info):
        if step == 36:
            raise KeyboardInterrupt

    path = tmp_path / "c.npz"
    cut = opt.minibatch_gd(
        loss,
        None,
        50,
        0.1,
        num_iters=60,
        sampling="epoch",
        update="adam",
        seed=1,
        checkpoint=path,
        checkpoint_every=10,
        callback=interrupt,
    )
    assert cut.interrupted and cut.nit == 37 and len(cut.loss_history) == 37
    assert np.array_equal(cut.loss_history, straight.loss_history[:37])
    resumed = opt.minibatch_gd(loss, None, 50, 0.1, num_iters=60, sampling="epoch", update="adam", resume=path)
    assert np.array_equal(resumed.W, straight.W)
    assert np.array_equal(resumed.loss_history, straight.loss_history)


def test_gradient_descent_checkpoint(data, tmp_path):
    loss = softmax(data, "numpy")
    straight = opt.gradient_descent(loss, None, 0.3, 30, seed=0, update="momentum")
    path = tmp_path / "gd.ckpt"
    opt.gradient_descent(loss, None, 0.3, 12, seed=0, update="momentum", checkpoint=path)
    resumed = opt.gradient_descent(loss, None, 0.3, 30, seed=0, update="momentum", resume=path)
    assert np.array_equal(resumed.W, straight.W) and resumed.loss == straight.loss


def test_resume_mismatch_and_bad_checkpoints(data, tmp_path):
    loss = svm(data, "numpy")
    path = tmp_path / "a.ckpt"
    opt.minibatch_gd(loss, None, 50, 0.1, num_iters=5, seed=0, checkpoint=path)
    with pytest.raises(ValueError, match="batch_size"):
        opt.minibatch_gd(loss, None, 40, 0.1, num_iters=10, resume=path)
    with pytest.raises(ValueError, match="step_size"):
        opt.minibatch_gd(loss, None, 50, 0.2, num_iters=10, resume=path)
    with pytest.raises(ValueError, match="update"):
        opt.minibatch_gd(loss, None, 50, 0.1, num_iters=10, update="adam", resume=path)
    X, y = learnable(D=12)
    with pytest.raises(ValueError, match="D="):
        opt.minibatch_gd(steepest.SVMLoss(X, y, 1e-3), None, 50, 0.1, num_iters=10, resume=path)
    with pytest.raises(ValueError, match="reg"):
        opt.minibatch_gd(svm(data, reg=0.5), None, 50, 0.1, num_iters=10, resume=path)
    with pytest.raises(ValueError, match="does not exist"):
        opt.minibatch_gd(loss, None, 50, 0.1, resume=tmp_path / "missing.ckpt")
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.ckpt"):
        opt.minibatch_gd(loss, None, 50, 0.1, resume=junk)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="checkpoint folder"):
        opt.minibatch_gd(loss, None, 50, 0.1, checkpoint=blocker / "sub" / "run.ckpt")
    with pytest.raises(ValueError, match="checkpoint"):
        opt.minibatch_gd(loss, None, 50, 0.1, checkpoint=tmp_path)
    if os.geteuid() != 0:  # root can write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(ValueError, match="not writable"):
            opt.minibatch_gd(loss, None, 50, 0.1, checkpoint=ro / "run.ckpt")


# --- Ctrl-C and callbacks ----------------------------------------------------------------------


def _raise_at(k):
    def callback(step, info):
        if step == k:
            raise KeyboardInterrupt

    return callback


def test_ctrl_c_returns_what_was_reached(data, backend):
    loss = svm(data, backend)
    rs = opt.random_search(loss, (4, 16), num_tries=100, scale=0.1, seed=0, callback=_raise_at(9))
    assert rs.interrupted and rs.nfev == 10 and len(rs.loss_history) == 10
    assert rs.loss == min(rs.loss_history)
    rls = opt.random_local_search(loss, num_iters=100, seed=0, callback=_raise_at(4))
    assert rls.interrupted and rls.nfev == 5
    gd = opt.gradient_descent(loss, None, 0.1, 100, seed=0, callback=_raise_at(6))
    assert gd.interrupted and gd.nit == 7 and gd.loss == gd.loss_history[-1]
    mb = opt.minibatch_gd(loss, None, 32, 0.1, num_iters=100, seed=0, callback=_raise_at(19))
    assert mb.interrupted and mb.nit == 20 and len(mb.lr_history) == 20
    assert "interrupted" in str(mb) and "yes" in str(mb)


def test_callback_stops(data):
    loss = svm(data, "numpy")
    seen = []

    def cb(step, info):
        seen.append((step, info["loss"]))
        return step == 4

    res = opt.minibatch_gd(loss, None, 32, 0.1, num_iters=100, seed=0, callback=cb)
    assert res.nit == 5 and not res.interrupted and res.message == "stopped by the callback"
    assert [s for s, _ in seen] == list(range(5)) and [v for _, v in seen] == res.loss_history.tolist()
    rs = opt.random_search(loss, (4, 16), num_tries=100, seed=0, callback=lambda s, i: s == 2)
    assert rs.nfev == 3


# --- printing ----------------------------------------------------------------------------------


def test_verbose_formats(data, capsys):
    loss = svm(data, "numpy")
    opt.random_search(loss, (4, 16), num_tries=3, seed=0, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(
        re.fullmatch(r"in attempt \d+ the loss was \d+\.\d{6}, best \d+\.\d{6}", l) for l in lines
    )
    assert lines[0].startswith("in attempt 0 ")
    opt.random_local_search(loss, num_iters=3, seed=0, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert [l.split(" loss")[0] for l in lines] == ["iter 0", "iter 1", "iter 2"]
    assert all(re.fullmatch(r"iter \d+ loss is \d+\.\d{6}", l) for l in lines)
    sweep = opt.step_size_sweep(loss, np.zeros((4, 16)), verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "for step size 1.000000e-10 new loss: %f" % sweep.losses[0] and len(lines) == 10
    opt.minibatch_gd(loss, None, 32, 0.1, num_iters=250, seed=0, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert [l.split(":")[0] for l in lines] == ["iteration 0 / 250", "iteration 100 / 250", "iteration 200 / 250"]


def test_results_print_as_tables(data):
    loss = svm(data, "numpy")
    res = opt.random_search(loss, (4, 16), num_tries=5, seed=0)
    text = str(res)
    assert "random_search" in text and "nfev / ngev" in text and "5 / 0" in text
    assert res.as_dict()["W_shape"] == [4, 16]
    sweep = opt.step_size_sweep(loss, res.W)
    text = str(sweep)
    assert text.count("<- best") == 1 and "1e-10" in text
    assert sweep.rows()[sweep.best_index][3] and sweep.best_loss == min(sweep.losses)


def test_step_size_sweep_fast_path_equals_direct(data, backend):
    for loss in (svm(data, backend), softmax(data, backend)):
        W = np.random.default_rng(0).standard_normal((4, 16)) * 0.1
        s = opt.step_size_sweep(loss, W)
        value, dW = loss.loss_grad(W)
        direct = [loss(W - st * dW) for st in s.steps]
        assert s.method.startswith("scores") and rel(s.losses, direct) < 1e-12
        assert s.loss0 == pytest.approx(value, rel=1e-13) and s.ngev == 1
        assert s.steps.tolist() == [10**e for e in range(-10, 0)]
    f = lambda W: float(np.sum(W**2))  # noqa: E731
    s = opt.step_size_sweep(f, np.ones((2, 2)), dW=2 * np.ones((2, 2)), exponents=[-2, -1, 0])
    assert s.best_step == 0.1 and s.method.startswith("direct")


def test_progress_bar_and_missing_tqdm(data, monkeypatch, capsys):
    loss = svm(data, "numpy")
    pytest.importorskip("tqdm")
    res = opt.minibatch_gd(loss, None, 32, 0.1, num_iters=5, seed=0, progress=True)
    assert res.nit == 5
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match=re.escape("pip install steepest[progress]")):
        opt.random_search(loss, (4, 16), num_tries=5, progress=True)


# --- bad input ---------------------------------------------------------------------------------


def _bad_cases(loss, W0):
    mb = opt.minibatch_gd
    return [
        (lambda: mb(loss, W0, 32, 0.0, num_iters=5), ValueError, "step_size"),
        (lambda: mb(loss, W0, 32, -1.0, num_iters=5), ValueError, "step_size"),
        (lambda: mb(loss, W0, 32, float("nan"), num_iters=5), ValueError, "step_size"),
        (lambda: mb(loss, W0, 32, float("inf"), num_iters=5), ValueError, "step_size"),
        (lambda: mb(loss, W0, 32, "0.1", num_iters=5), TypeError, "step_size"),
        (lambda: mb(loss, W0, 0, 0.1, num_iters=5), ValueError, "batch_size"),
        (lambda: mb(loss, W0, 601, 0.1, num_iters=5), ValueError, "batch_size"),
        (lambda: mb(loss, W0, True, 0.1, num_iters=5), TypeError, "batch_size"),
        (lambda: mb(loss, W0, 32.0, 0.1, num_iters=5), TypeError, "batch_size"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=0), ValueError, "num_iters"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=True), TypeError, "num_iters"),
        (lambda: mb(loss, W0, 32, 0.1, num_epochs=0), ValueError, "num_epochs"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, num_epochs=1), ValueError, "num_epochs"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, seed=1.5), TypeError, "seed"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, seed="x"), TypeError, "seed"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, seed=True), TypeError, "seed"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, seed=-1), ValueError, "seed"),
        (lambda: mb(loss, W0[:, :5], 32, 0.1, num_iters=5), ValueError, "W0"),
        (lambda: mb(loss, W0[:1], 32, 0.1, num_iters=5), ValueError, "W0"),
        (lambda: mb(loss, W0.astype(np.float32), 32, 0.1, num_iters=5), TypeError, "W0"),
        (lambda: mb(loss, W0.astype(int), 32, 0.1, num_iters=5), TypeError, "W0"),
        (lambda: mb(loss, W0.tolist(), 32, 0.1, num_iters=5), TypeError, "W0"),
        (lambda: mb(loss, np.full_like(W0, np.nan), 32, 0.1, num_iters=5), ValueError, "W0"),
        (lambda: mb(loss, W0[0], 32, 0.1, num_iters=5), ValueError, "W0"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, update="rmsprop"), ValueError, "update"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, update=None), TypeError, "update"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, sampling="shuffle"), ValueError, "sampling"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, momentum=1.0), ValueError, "momentum"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, beta2=-0.1), ValueError, "beta2"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, eps=0.0), ValueError, "eps"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, lr_decay=("step", 0, 0.5)), ValueError, "lr_decay every"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, lr_decay=("step", 5, 0.0)), ValueError, "lr_decay factor"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, lr_decay=("cosine", 5)), ValueError, "lr_decay"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, lr_decay=0.5), TypeError, "lr_decay"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, early_stopping=3), ValueError, "early_stopping"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, X_val=loss.X), ValueError, "y_val"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, X_val=loss.X.T, y_val=loss.y), ValueError, "X_val"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, X_val=loss.X, y_val=loss.y + 4), ValueError, "y_val"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, eval_every=0), ValueError, "eval_every"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, checkpoint_every=0), ValueError, "checkpoint_every"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, checkpoint=3), TypeError, "checkpoint"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, callback=3), TypeError, "callback"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, progress="yes"), TypeError, "progress"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, verbose=1), TypeError, "verbose"),
        (lambda: mb(loss, W0, 32, 0.1, num_iters=5, backend="cuda"), ValueError, "backend"),
        (lambda: mb(lambda W: 0.0, W0, 32, 0.1, num_iters=5), TypeError, "loss"),
        (lambda: opt.gradient_descent(loss, W0, 0.1, 5, tol=-1.0), ValueError, "tol"),
        (lambda: opt.gradient_descent(loss, W0, 0.1, 0), ValueError, "num_iters"),
        (lambda: opt.random_search(loss, (4, 16), num_tries=0), ValueError, "num_tries"),
        (lambda: opt.random_search(loss, (4, 16), scale=0.0), ValueError, "scale"),
        (lambda: opt.random_search(loss, (4, 15)), ValueError, "shape"),
        (lambda: opt.random_search(loss, (3, 16)), ValueError, "shape"),
        (lambda: opt.random_search(loss, 16), TypeError, "shape"),
        (lambda: opt.random_search(loss, (4, 16), block=0), ValueError, "block"),
        (lambda: opt.random_search(loss, (4, 16), seed=2.0), TypeError, "seed"),
        (lambda: opt.random_search("svm", (4, 16)), TypeError, "loss"),
        (lambda: opt.random_search(lambda W: 0.0), ValueError, "shape"),
        (lambda: opt.random_local_search(loss, W0, step_size=0.0), ValueError, "step_size"),
        (lambda: opt.random_local_search(loss, W0, num_iters=-3), ValueError, "num_iters"),
        (lambda: opt.random_local_search(loss, init_scale=float("inf")), ValueError, "init_scale"),
        (lambda: opt.random_local_search(loss, W0.T), ValueError, "W0"),
        (lambda: opt.step_size_sweep(loss, W0, dW=W0[:2]), ValueError, "dW"),
        (lambda: opt.step_size_sweep(loss, W0, exponents=[]), ValueError, "exponents"),
        (lambda: opt.step_size_sweep(loss, W0, exponents=[float("nan")]), ValueError, "exponents"),
        (lambda: opt.step_size_sweep(loss, W0, exponents=3), TypeError, "exponents"),
        (lambda: opt.step_size_sweep(lambda W: 0.0, W0), ValueError, "dW"),
        (lambda: opt.train_linear_classifier(loss.X, loss.y, "hinge"), ValueError, "loss"),
        (lambda: opt.train_linear_classifier(loss.X, loss.y, learning_rate=0), ValueError, "learning_rate"),
        (lambda: opt.train_linear_classifier(loss.X, loss.y, batch_size=0), ValueError, "batch_size"),
        (lambda: opt.train_linear_classifier(loss.X, loss.y, reg=-1.0), ValueError, "reg"),
        (lambda: opt.train_linear_classifier(loss.X, loss.y, W0=W0), TypeError, "W0"),
        (lambda: opt.train_linear_classifier(loss.X.T, loss.y), ValueError, "X.T"),
        (lambda: opt.train_linear_classifier(loss.X, loss.y, num_classes=3), ValueError, "num_classes"),
    ]


def test_bad_input(data, backend):
    loss = svm(data, backend)
    W0 = np.zeros((4, 16))
    before = W0.copy()
    for _i, (call, exc, word) in enumerate(_bad_cases(loss, W0)):
        with pytest.raises(exc, match=re.escape(word)):
            call()
    assert np.array_equal(W0, before)


def test_inputs_not_modified_and_read_only_accepted(data):
    loss = svm(data, "numpy")
    W0 = np.random.default_rng(0).standard_normal((4, 16))
    W0.flags.writeable = False
    keep = W0.copy()
    for update in upd.UPDATES:
        res = opt.minibatch_gd(loss, W0, 32, 0.1, num_iters=3, update=update, seed=0)
        assert res.W is not W0
    opt.gradient_descent(loss, W0, 0.1, 3)
    opt.random_local_search(loss, W0, num_iters=3, seed=0)
    opt.step_size_sweep(loss, W0)
    assert np.array_equal(W0, keep)


def test_divergence_raises(data):
    X, y = data
    loss = steepest.SoftmaxLoss(X * 1e150, y, 0.0, backend="numpy")
    with pytest.raises(FloatingPointError):
        opt.minibatch_gd(loss, None, 32, 1e300, num_iters=50, seed=0)


# --- the descent configuration -----------------------------------------------------------------


def test_signature_defaults_are_the_config_defaults():
    """Every public descent function's default for a DescentConfig setting is the config's own, except
    the documented ones of sgd (per-epoch shuffling) and train_linear_classifier (CS231n's)."""
    import dataclasses
    import inspect

    from steepest.optimize.config import DEFAULTS, DescentConfig

    names = {f.name for f in dataclasses.fields(DescentConfig)}
    own = {}
    for fn in (opt.gradient_descent, opt.minibatch_gd, opt.sgd, opt.train_linear_classifier):
        for p in inspect.signature(fn).parameters.values():
            if p.name in names and p.default is not inspect.Parameter.empty:
                if p.default != getattr(DEFAULTS, p.name) or type(p.default) is not type(getattr(DEFAULTS, p.name)):
                    own[(fn.__name__, p.name)] = p.default
    assert own == {
        ("sgd", "sampling"): "epoch",
        ("train_linear_classifier", "batch_size"): 200,
        ("train_linear_classifier", "num_iters"): 1500,
    }
    assert DescentConfig() == DEFAULTS


def test_config_is_frozen_validated_and_normalized(data, tmp_path):
    import dataclasses

    from steepest.optimize.config import DescentConfig
    from steepest.optimize.descent import descend

    cfg = DescentConfig(
        batch_size=np.int64(32),
        step_size=np.float32(0.5),
        lr_decay=["step", 3, 0.5],
        checkpoint=tmp_path / "run.ckpt",
        resume=tmp_path / "old.ckpt",
    )
    assert cfg.batch_size == 32 and type(cfg.batch_size) is int and type(cfg.step_size) is float
    assert cfg.lr_decay == ("step", 3, 0.5) and cfg.checkpoint == str(tmp_path / "run.ckpt")
    assert cfg.resume == str(tmp_path / "old.ckpt")
    assert list(tmp_path.iterdir()) == []  # a config touches nothing
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.step_size = 1.0
    with pytest.raises(ValueError, match="step_size"):
        dataclasses.replace(cfg, step_size=0.0)  # a copy is validated too
    with pytest.raises(ValueError, match="method"):
        DescentConfig(method="newton")
    with pytest.raises(TypeError, match="resume"):
        DescentConfig(resume=3)
    with pytest.raises(ValueError, match="init_scale"):
        DescentConfig(init_scale=-1.0)
    with pytest.raises(TypeError, match="config"):
        descend(svm(data, "numpy"), {"step_size": 0.1})
    assert cfg.total_steps(cfg.steps_per_epoch(600)) == DescentConfig.DEFAULT_STEPS
    assert DescentConfig(batch_size=50, num_epochs=2).total_steps(12) == 24


def test_refused_calls_create_no_checkpoint_folder(data, tmp_path):
    loss = svm(data, "numpy")
    saved = tmp_path / "a.ckpt"
    opt.minibatch_gd(loss, None, 50, 0.1, num_iters=5, seed=0, checkpoint=saved)
    target = tmp_path / "new" / "run.ckpt"
    mb = opt.minibatch_gd
    refused = [
        (lambda: mb(loss, np.zeros((4, 5)), 32, 0.1, num_iters=5, checkpoint=target), ValueError, "W0"),
        (lambda: mb(loss, None, 601, 0.1, num_iters=5, checkpoint=target), ValueError, "batch_size"),
        (lambda: mb(loss, None, 32, 0.1, num_iters=5, checkpoint=target, verbose=1), TypeError, "verbose"),
        (lambda: mb(loss, None, 32, 0.1, num_iters=5, checkpoint=target, seed=-1), ValueError, "seed"),
        (lambda: mb(loss, None, 32, 0.1, num_iters=5, checkpoint=target, callback=3), TypeError, "callback"),
        (lambda: mb(loss, None, 32, 0.1, num_iters=5, checkpoint=target, backend="cuda"), ValueError, "backend"),
        (
            lambda: mb(loss, None, 32, 0.1, num_iters=5, checkpoint=target, early_stopping=2),
            ValueError,
            "early_stopping",
        ),
        (
            lambda: mb(loss, None, 32, 0.1, num_iters=5, checkpoint=target, X_val=loss.X.T, y_val=loss.y),
            ValueError,
            "X_val",
        ),
        (lambda: mb(loss, None, 40, 0.1, num_iters=10, checkpoint=target, resume=saved), ValueError, "batch_size"),
        (
            lambda: mb(loss, None, 50, 0.1, checkpoint=target, resume=tmp_path / "missing.ckpt"),
            ValueError,
            "does not exist",
        ),
    ]
    for call, exc, word in refused:
        with pytest.raises(exc, match=re.escape(word)):
            call()
        assert not target.parent.exists(), word
    res = mb(loss, None, 50, 0.1, num_iters=10, checkpoint=target, resume=saved)
    assert res.details["start_step"] == 5 and target.exists()


def test_resume_compares_the_loss_options(data, tmp_path):
    X, y = data
    path = tmp_path / "svm.ckpt"
    opt.minibatch_gd(steepest.SVMLoss(X, y, 1e-3), None, 50, 0.1, num_iters=5, seed=0, checkpoint=path)
    with pytest.raises(ValueError, match="delta=1.0; this call has delta=2.0"):
        opt.minibatch_gd(steepest.SVMLoss(X, y, 1e-3, delta=2.0), None, 50, 0.1, num_iters=10, resume=path)
    with pytest.raises(ValueError, match="loss='svm'"):
        opt.minibatch_gd(steepest.SoftmaxLoss(X, y, 1e-3), None, 50, 0.1, num_iters=10, resume=path)


def test_train_linear_classifier_passes_minibatch_options_through(data, tmp_path):
    X, y = data
    clf = opt.train_linear_classifier(
        X,
        y,
        "svm",
        reg=1e-3,
        learning_rate=0.1,
        batch_size=50,
        num_iters=6,
        seed=0,
        update="momentum",
        sampling="epoch",
        X_val=X,
        y_val=y,
        eval_every=3,
        checkpoint=tmp_path / "t.ckpt",
    )
    assert clf.val_steps.tolist() == [3, 6] and (tmp_path / "t.ckpt").exists()
    for name in ("tol", "init_scale", "num_epochs", "shape", "W0"):
        with pytest.raises(TypeError, match=name):
            opt.train_linear_classifier(X, y, num_iters=5, **{name: None})


@pytest.mark.parametrize("kind", ["svm", "softmax"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_random_local_search_blocks_accept_the_same_tries_as_one_at_a_time(backend, kind, dtype):
    """Scores are linear in W: tries scored together in one pass, then accepted one after the other,
    give the same accepted tries, the same W and the same losses (to rounding) as one pass per try."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 301)).astype(dtype)
    y = rng.integers(0, 4, 301)
    loss = (steepest.SVMLoss if kind == "svm" else steepest.SoftmaxLoss)(X, y, 0.3, backend=backend)
    one = opt.random_local_search(loss, step_size=0.05, num_iters=90, seed=11, block=1)
    for block in (7, 64):
        fast = opt.random_local_search(loss, step_size=0.05, num_iters=90, seed=11, block=block)
        assert fast.accepted == one.accepted
        assert np.array_equal(fast.W, one.W) and fast.W.dtype == one.W.dtype
        np.testing.assert_allclose(fast.loss_history, one.loss_history, rtol=1e-12 if dtype == np.float64 else 1e-5)
        assert np.array_equal(np.diff(fast.best_history) < 0, np.diff(one.best_history) < 0)
