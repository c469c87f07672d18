"""A gradient check that tells the truth: at the notes' h = 1e-5 a correct gradient is never a "bug",
on CIFAR-like pixel data, forward or centered, SVM or softmax, and one wrong entry always is.

The disagreements a correct gradient shows are explained per weight: a hinge kink within h, or the
truncation error of the finite difference at this h (estimated from the one-sided differences and a
second exact sweep at 2h), within round-off.
"""

from __future__ import annotations

import numpy as np
import pytest

import steepest
from steepest import cli

from naive import kink_problem

H = 1e-5
METHODS = ("forward", "centered")
LOSSES = {"svm": steepest.SVMLoss, "softmax": steepest.SoftmaxLoss}


def cifar_like(N=250, C=10, seed=0, w_scale=1e-3, labels="random"):
    """CIFAR-shaped data as the notes prepare it: pixel values 0..255, mean-subtracted with the
    training mean, a bias row of ones appended (D = 3073), one example per column (F-ordered)."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 256, (N, 3072)).astype(np.float64)
    rows -= rows.mean(axis=0)
    X = np.asfortranarray(np.vstack([rows.T, np.ones((1, N))]))
    W = rng.standard_normal((C, X.shape[0])) * w_scale
    y = rng.integers(0, C, N) if labels == "random" else np.argmax(W @ X, axis=0)  # "fit": confident, right
    return W, X, y.astype(np.int64)


@pytest.fixture(scope="module")
def cifar():
    return cifar_like()


@pytest.fixture(scope="module")
def many_kinks():
    """Scores about 0.7 apart: many SVM margins lie within h |x| of their kink."""
    return cifar_like(N=500, seed=1, w_scale=1.7e-4)


def corrupt(g, seed, size):
    """One wrong entry at a random weight (every third seed in the bias column): ``(analytic, index)``."""
    rng = np.random.default_rng(seed)
    C, D = g.shape
    ix = (int(rng.integers(C)), D - 1 if seed % 3 == 0 else int(rng.integers(D)))
    scale = max(abs(g[ix]), float(np.median(np.abs(g))))
    delta = {"small": 1e-3 * scale, "large": 0.3 * scale + 1e-3}[size] * rng.choice([-1.0, 1.0])
    bad = g.copy()
    bad[ix] += delta
    return bad, ix


def assert_only_bug(report, ix):
    assert report.verdicts[ix] == "bug", (ix, report.verdicts[ix], report.counts())
    assert report.bugs() == [ix], report.bugs()[:5]
    assert not report.ok


# --- a correct gradient -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("method", METHODS)
def test_a_correct_gradient_on_cifar_like_data_is_never_a_bug(backend, cifar, kind, method):
    W, X, y = cifar
    loss = LOSSES[kind](X, y, reg=0.05, backend=backend)
    report = steepest.grad_check(loss, W, h=H, method=method)
    counts = report.counts()
    assert counts["bug"] == 0 and report.ok, counts
    assert sum(counts.values()) == W.size
    if kind == "softmax":
        # the disagreement the old check called a bug is the truncation error, estimated per weight
        assert counts["truncation"] > 0
        assert report.passes == 4 and report.estimate.startswith("Richardson")
        corrected = report.reference_errors
        assert np.nanmax(corrected) < 1e-6 < report.max_error  # the analytic agrees with the corrected value
        if method == "forward":
            assert counts["truncation"] > W.size // 2 and report.grade in ("doubtful", "wrong")
            # forward's error is h f''/2 to leading order: the estimate follows (forward - backward) / 2
            fd = steepest.numerical_gradient(loss, W, h=H)
            np.testing.assert_allclose(report.truncation, (fd.forward - fd.backward) / 2, rtol=1e-3, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_float32_data_and_a_much_smaller_tolerance(backend, cifar, method):
    W, X, y = cifar
    for cls in LOSSES.values():
        assert steepest.grad_check(cls(X.astype(np.float32), y, backend=backend), W.astype(np.float32)).ok
        # the estimate, not the tolerance, is what keeps a correct gradient clear of "bug"
        report = steepest.grad_check(cls(X, y, backend=backend), W, method=method, tolerance=1e-13)
        assert report.counts()["bug"] == 0, report.counts()


@pytest.mark.parametrize("labels", ["random", "fit"])
@pytest.mark.parametrize("method", METHODS)
def test_softmax_at_large_scores(backend, labels, method):
    # scores in the hundreds: probabilities one-hot; with fitted labels every example is right and
    # confident, the gradient tiny and the sums the finite differences add up are not
    W, X, y = cifar_like(N=150, seed=2, w_scale=0.3, labels=labels)
    loss = steepest.SoftmaxLoss(X, y, backend=backend)
    assert np.ptp(W @ X, axis=0).min() > 50
    report = steepest.grad_check(loss, W, method=method)
    assert report.ok, report.counts()
    bad, ix = corrupt(loss.grad(W), 4, "large")
    assert_only_bug(steepest.grad_check(loss, W, bad, method=method), ix)


# --- one wrong entry ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("size", ["small", "large"])
def test_one_wrong_entry_is_the_only_bug(cifar, kind, method, size):
    W, X, y = cifar
    loss = LOSSES[kind](X, y, reg=0.05)
    g = loss.grad(W)
    for seed in range(6):  # seeds 0 and 3 corrupt the bias column
        bad, ix = corrupt(g, seed, size)
        assert_only_bug(steepest.grad_check(loss, W, bad, h=H, method=method), ix)


def test_one_wrong_entry_on_every_backend(backend, cifar):
    W, X, y = cifar
    for seed, (kind, method) in enumerate([(k, m) for k in LOSSES for m in METHODS]):
        loss = LOSSES[kind](X, y, reg=0.05, backend=backend)
        bad, ix = corrupt(loss.grad(W), seed, "small")
        assert_only_bug(steepest.grad_check(loss, W, bad, method=method), ix)


@pytest.mark.parametrize("method", METHODS)
def test_a_corruption_a_few_times_the_truncation_estimate_is_caught(cifar, method):
    # with a tolerance below the truncation error, the estimate alone separates the two
    W, X, y = cifar
    loss = steepest.SoftmaxLoss(X, y)
    g = loss.grad(W)
    truncation = steepest.grad_check(loss, W, method=method).truncation
    for seed in range(6):
        ix = corrupt(g, seed, "small")[1]
        for factor in (3.0, -3.0):
            bad = g.copy()
            bad[ix] += factor * abs(truncation[ix])
            assert_only_bug(steepest.grad_check(loss, W, bad, method=method, tolerance=1e-12), ix)


# --- kinks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_svm_with_many_kinks(backend, many_kinks, method):
    W, X, y = many_kinks
    loss = steepest.SVMLoss(X, y, reg=0.05, backend=backend)
    report = steepest.grad_check(loss, W, method=method)
    counts = report.counts()
    assert counts["bug"] == 0 and counts["kink"] > 1000 and np.count_nonzero(report.kinks) > 3000, counts
    # every kink verdict is confirmed: the analytic value is the exact one-sided derivative of a side
    # with no kink within reach (smaller steps are tried where both sides hold one)
    assert report.kinks_confirmed == counts["kink"]
    assert "one-sided extrapolations" in report.estimate
    g = loss.grad(W)
    rng = np.random.default_rng(5)
    kinked = np.argwhere(report.kinks > 0)
    tries = 1 if backend == "numpy" else 4  # the numpy SVM sweeps are slow
    for k in rng.choice(len(kinked), tries, replace=False):  # a wrong entry where a kink lies within h
        ix = tuple(int(i) for i in kinked[k])
        bad = g.copy()
        bad[ix] += 1e-3 * max(abs(g[ix]), float(np.median(np.abs(g))))
        assert_only_bug(steepest.grad_check(loss, W, bad, method=method), ix)


def test_kinks_exactly_at_the_weights_are_explained(backend):
    # integer data: many margins exactly on their kink; whatever side the analytic value takes, it is a kink
    W, X, y = kink_problem(C=5, D=40, N=200, seed=1)
    loss = steepest.SVMLoss(X, y, reg=0.1, backend=backend)
    for method in METHODS:
        counts = steepest.grad_check(loss, W, method=method).counts()
        assert counts["bug"] == 0 and counts["kink"] > 100, counts
    bad = loss.grad(W)
    bad[2, 7] += 1.0
    assert steepest.grad_check(loss, W, bad).bugs() == [(2, 7)]


# --- h_sweep, the report, the command --------------------------------------------------------------


@pytest.mark.parametrize("kind", LOSSES)
def test_h_sweep_recommends_an_h_with_no_false_verdict(kind):
    W, X, y = cifar_like(N=120, seed=3)
    loss = LOSSES[kind](X, y)
    for method in METHODS:
        sweep = steepest.h_sweep(loss, W, hs=[1e-2, 1e-3, 1e-5, 1e-7, 1e-9], method=method, sample=3)
        assert sweep.false_bugs.shape == sweep.hs.shape and sweep.false_bugs[2] == 0
        best = list(sweep.hs).index(sweep.recommended_h)
        assert sweep.false_bugs[best] == 0
        assert steepest.grad_check(loss, W, h=sweep.recommended_h, method=method).ok
        assert "false bugs" in str(sweep)


def test_the_report_shows_the_counts_the_estimate_and_the_bug_first(cifar):
    W, X, y = cifar
    loss = steepest.SoftmaxLoss(X, y)
    text = str(steepest.grad_check(loss, W, method="forward"))
    assert "by the truncation error at this h, 0 unexplained (bug)" in text
    assert "error estimate" in text and "Richardson" in text and "4 passes over X" in text
    assert "est. error of numerical" in text
    bad, ix = corrupt(loss.grad(W), 1, "small")
    report = steepest.grad_check(loss, W, bad, method="forward")
    lines = str(report).splitlines()
    first = lines[lines.index(next(line for line in lines if line.startswith("---------"))) + 1]
    assert first.startswith(str(ix)) and " bug " in first
    # the old interface: worst() by relative error, 6 fields; counts() keeps its keys
    assert len(report.worst(3)[0]) == 6 and set(report.counts()) >= {"agrees", "kink", "bug"}


def test_steepest_check_forward_exits_0_for_correct_gradients(capsys):
    assert cli.main(["check", "--data", "synthetic:300", "--method", "forward", "--sample", "1"]) == 0
    out = capsys.readouterr().out
    assert "no bug" in out and "agrees / kink / truncation / bug" in out and "unexplained" in out


def test_digits_both_losses_both_methods(capsys):
    pytest.importorskip("sklearn", reason="scikit-learn (the data extra) is not installed")
    from steepest.datasets import load_digits

    rows, y = load_digits()
    rows = rows - rows.mean(axis=0)
    X = np.vstack([rows.T, np.ones((1, len(y)))])
    W = np.random.default_rng(0).standard_normal((10, X.shape[0])) * 1e-3
    for cls in LOSSES.values():
        for method in METHODS:
            assert steepest.grad_check(cls(X, y), W, method=method).ok
    assert cli.main(["check", "--method", "forward", "--sample", "1"]) == 0
    assert "614 unexplained" not in capsys.readouterr().out
