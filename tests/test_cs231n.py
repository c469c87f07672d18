"""steepest.cs231n against the assignment's NumPy code (tests/cs231n_reference.py): the same module paths
and signatures, the same numbers (seeded notebooks included), X never copied, bad input refused."""

from __future__ import annotations

import functools
import importlib
import inspect
import random
import re
import tracemalloc
import warnings

import numpy as np
import pytest

import cs231n_reference as ref
import steepest
from steepest import cs231n
from steepest._runs import RunLengths
from steepest.cli.measure import cifar_shaped
from steepest.cs231n import data_utils, gradient_check
from steepest.cs231n.classifiers import LinearClassifier, LinearSVM, Softmax, linear_classifier, linear_svm, softmax

from data_factories import write_cifar_folder


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """The assignment's code (and the numpy backend) with 1 BLAS thread: on a busy 2-core machine a
    multi-threaded BLAS spends most of a small product waiting for a core (25 s instead of 3 s)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # threadpoolctl's notes on mixed OpenMP runtimes
        limits = threadpool_limits(limits=1, user_api="blas")
    try:
        yield
    finally:
        limits.restore_original_limits()


LOSSES = {
    "svm_loss_naive": (linear_svm.svm_loss_naive, ref.svm_loss_naive),
    "svm_loss_vectorized": (linear_svm.svm_loss_vectorized, ref.svm_loss_vectorized),
    "softmax_loss_naive": (softmax.softmax_loss_naive, ref.softmax_loss_naive),
    "softmax_loss_vectorized": (softmax.softmax_loss_vectorized, ref.softmax_loss_vectorized),
}
CLASSIFIERS = {"svm": (LinearSVM, ref.LinearSVM), "softmax": (Softmax, ref.Softmax)}


def problem(N=60, D=13, C=5, seed=0, scale=0.1):
    """Rows X (N, D), labels y, weights W (D, C): the assignment's layout."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.integers(0, C, N), rng.standard_normal((D, C)) * scale


def rel_diff(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def seeded(cls, seed, X, y, **kwargs):
    """A classifier trained from ``np.random.seed(seed)``, as a notebook cell does it."""
    np.random.seed(seed)
    clf = cls()
    history = clf.train(X, y, **kwargs)
    return clf, history


# --- module paths and signatures -----------------------------------------------------------------


@pytest.mark.parametrize(
    "module, names",
    [
        ("steepest.cs231n.classifiers.linear_svm", ["svm_loss_naive", "svm_loss_vectorized"]),
        ("steepest.cs231n.classifiers.softmax", ["softmax_loss_naive", "softmax_loss_vectorized"]),
        ("steepest.cs231n.classifiers.linear_classifier", ["LinearClassifier", "LinearSVM", "Softmax"]),
        ("steepest.cs231n.classifiers", ["LinearSVM", "Softmax"]),
        (
            "steepest.cs231n.gradient_check",
            ["eval_numerical_gradient", "eval_numerical_gradient_array", "grad_check_sparse"],
        ),
        ("steepest.cs231n.data_utils", ["load_CIFAR10", "load_CIFAR_batch"]),
    ],
)
def test_the_assignments_module_paths(module, names):
    mod = importlib.import_module(module)
    for name in names:
        ours = getattr(mod, name)
        theirs = getattr(ref, name)
        assert list(inspect.signature(ours).parameters.items()) == list(inspect.signature(theirs).parameters.items()), (
            name
        )


@pytest.mark.parametrize("method", ["__init__", "train", "predict", "loss"])
def test_the_classifiers_signatures(method):
    for ours, theirs in [(LinearClassifier, ref.LinearClassifier)] + list(CLASSIFIERS.values()):
        assert inspect.signature(getattr(ours, method)) == inspect.signature(getattr(theirs, method)), method


def test_positional_and_keyword_calls_agree():
    X, y, W = problem()
    a = linear_svm.svm_loss_vectorized(W, X, y, 0.1)
    b = linear_svm.svm_loss_vectorized(reg=0.1, y=y, X=X, W=W)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])


# --- the losses against the assignment's code -----------------------------------------------------


@pytest.mark.parametrize("reg", [0.0, 0.7])
@pytest.mark.parametrize("name", list(LOSSES))
def test_losses_match_the_assignment(backend, name, reg):
    ours, theirs = LOSSES[name]
    X, y, W = problem(seed=3)
    with steepest.use_backend(backend):
        loss, dW = ours(W, X, y, reg)
    loss_ref, dW_ref = theirs(W, X, y, reg)
    assert abs(loss - loss_ref) <= 1e-12 * abs(loss_ref)
    assert dW.shape == W.shape and dW.dtype == np.float64 and dW.flags.c_contiguous
    assert rel_diff(dW, dW_ref) <= 1e-12


@pytest.mark.parametrize("name", ["svm_loss_naive", "softmax_loss_naive"])
def test_naive_loops_are_the_assignments_bit_for_bit(name):
    ours, theirs = LOSSES[name]
    X, y, W = problem(seed=4)
    loss, dW = ours(W, X, y, 0.3)
    loss_ref, dW_ref = theirs(W, X, y, 0.3)
    assert loss == loss_ref and np.array_equal(dW, dW_ref)


def test_float32_is_native():
    X, y, W = problem(seed=5)
    loss, dW = linear_svm.svm_loss_vectorized(W.astype(np.float32), X.astype(np.float32), y, 0.1)
    loss_ref, dW_ref = ref.svm_loss_vectorized(W, X, y, 0.1)
    assert dW.dtype == np.float32 and abs(loss - loss_ref) <= 1e-5 * loss_ref and rel_diff(dW, dW_ref) <= 1e-5


# --- training: the seeded notebook ------------------------------------------------------------------


@pytest.fixture(scope="module")
def cifar_rows():
    """CIFAR-shaped rows (N, D = 3073) with a bias column, labels in 0..9 (synthetic)."""
    rows, y, _ = cifar_shaped(2000, seed=1)
    rows.flags.writeable = False
    return rows, y


@pytest.mark.parametrize("kind", list(CLASSIFIERS))
def test_seeded_training_on_cifar_shaped_data_is_the_assignments(backend, kind, cifar_rows):
    ours, theirs = CLASSIFIERS[kind]
    X, y = cifar_rows
    kw = {"learning_rate": 1e-7, "reg": 2.5e4, "num_iters": 100, "batch_size": 200}
    clf_ref, hist_ref = seeded(theirs, 231, X, y, **kw)
    state_ref = np.random.get_state()[1].copy()
    with steepest.use_backend(backend):
        clf, hist = seeded(ours, 231, X, y, **kw)
        state = np.random.get_state()[1].copy()
        pred = clf.predict(X)
    assert rel_diff(clf.W, clf_ref.W) <= 1e-10
    assert rel_diff(hist, hist_ref) <= 1e-10 and len(hist) == len(hist_ref)
    assert np.array_equal(pred, clf_ref.predict(X))
    assert np.array_equal(state, state_ref)  # the same draws, no more: the notebook's next cell is unchanged


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("kind", list(CLASSIFIERS))
def test_train_is_the_loss_then_the_assignments_update_bitwise(backend, kind, dtype, cifar_rows, monkeypatch):
    """Each step of ``train`` (runs of steps, each one kernel call with the update in it, two swapped
    buffers) is bitwise the literal loop on steepest's loss: ``loss, grad = loss_grad_at(W, idx);
    grad *= lr; W -= grad``, for a kept float32 W too (NumPy rounds the Python float rate to float32
    there), whatever the runs' lengths; the runs draw the loop's mini-batches and leave its random state."""
    ours, _ = CLASSIFIERS[kind]
    X, y = cifar_rows[0][:600].astype(dtype), cifar_rows[1][:600]
    W0 = (0.001 * np.random.default_rng(3).standard_normal((X.shape[1], 10))).astype(dtype)
    lr, reg, steps, B = 1e-7, 2.5e4, 30, 100
    with steepest.use_backend(backend):
        clf = ours()
        clf.W = W0.copy()
        np.random.seed(5)
        hist = clf.train(X, y, learning_rate=lr, reg=reg, num_iters=steps, batch_size=B)
        after = np.random.randint(1 << 30)  # the random state the steps left
        f = (steepest.SVMLoss if kind == "svm" else steepest.SoftmaxLoss)(X.T, y, reg, check_finite=False)
        W, expected = np.ascontiguousarray(W0.T), []
        np.random.seed(5)
        for _ in range(steps):
            loss, grad = f.loss_grad_at(W, np.random.randint(0, X.shape[0], B))
            grad *= lr
            W -= grad
            expected.append(float(loss))
        assert np.random.randint(1 << 30) == after
        # the steps in runs of 1, 4, 4, ... (each run one kernel call): the same steps
        monkeypatch.setattr(linear_classifier, "RunLengths", functools.partial(RunLengths, seconds=1e9, longest=4))
        short = ours()
        short.W = W0.copy()
        np.random.seed(5)
        assert short.train(X, y, learning_rate=lr, reg=reg, num_iters=steps, batch_size=B) == expected
    assert clf.W.dtype == dtype and hist == expected
    assert np.array_equal(clf.W.view(np.uint8), np.ascontiguousarray(W.T).view(np.uint8))
    assert np.array_equal(short.W.view(np.uint8), clf.W.view(np.uint8))


@pytest.mark.parametrize("kind", list(CLASSIFIERS))
def test_ctrl_c_during_a_run_leaves_the_loop_before_it(backend, kind, cifar_rows, monkeypatch):
    """Ctrl-C inside the second run of steps: W, the history's loss and NumPy's global random state are
    those of the uninterrupted loop after the first run (its draws undone with its steps), so training
    on from there gives the uninterrupted run's weights and losses, bitwise."""
    ours, _ = CLASSIFIERS[kind]
    X, y = cifar_rows[0][:400], cifar_rows[1][:400]
    W0 = 0.001 * np.random.default_rng(4).standard_normal((X.shape[1], 10))
    kw = {"learning_rate": 1e-7, "reg": 2.5e4, "batch_size": 50}
    monkeypatch.setattr(linear_classifier, "RunLengths", functools.partial(RunLengths, seconds=1e9, longest=4))
    with steepest.use_backend(backend):
        whole = ours()
        whole.W = W0.copy()
        np.random.seed(9)
        expected = whole.train(X, y, num_iters=12, **kw)
        after_whole = np.random.get_state()[1].copy()
        loss_class = ours()._fused_loss()
        calls, train_at = [], loss_class.train_at

        def stopped_in_the_second_run(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return train_at(self, *args, **kwargs)

        cut = ours()
        cut.W = W0.copy()
        np.random.seed(9)
        with monkeypatch.context() as m:
            m.setattr(loss_class, "train_at", stopped_in_the_second_run)
            with pytest.raises(KeyboardInterrupt):
                cut.train(X, y, num_iters=12, **kw)
        assert len(calls) == 2
        state_cut = np.random.get_state()
        first = ours()  # the loop stopped after the first run (1 step)
        first.W = W0.copy()
        np.random.seed(9)
        first.train(X, y, num_iters=1, **kw)
        assert np.array_equal(cut.W, first.W)
        assert np.array_equal(state_cut[1], np.random.get_state()[1]) and state_cut[2] == np.random.get_state()[2]
        np.random.set_state(state_cut)
        rest = cut.train(X, y, num_iters=11, **kw)  # on from there: the uninterrupted run
    assert rest == expected[1:]
    assert np.array_equal(cut.W, whole.W)
    assert np.array_equal(np.random.get_state()[1], after_whole)


@pytest.mark.parametrize("kind", list(CLASSIFIERS))
def test_1500_iterations_as_in_the_notebook(kind, cifar_rows, capsys):
    """The notebook's cell: seed, train 1500 iterations verbosely, predict; W within 1e-10."""
    ours, theirs = CLASSIFIERS[kind]
    X, y = cifar_rows[0][:500], cifar_rows[1][:500]
    kw = {"learning_rate": 1e-7, "reg": 2.5e4, "num_iters": 1500, "verbose": True}
    clf_ref, hist_ref = seeded(theirs, 0, X, y, **kw)
    printed_ref = capsys.readouterr().out
    clf, hist = seeded(ours, 0, X, y, **kw)
    printed = capsys.readouterr().out
    assert rel_diff(clf.W, clf_ref.W) <= 1e-10, rel_diff(clf.W, clf_ref.W)
    assert rel_diff(hist, hist_ref) <= 1e-10
    assert printed == printed_ref and printed.count("\n") == 15 and printed.startswith("iteration 0 / 1500: loss ")
    X_val = cifar_rows[0][500:]
    assert np.array_equal(clf.predict(X_val), clf_ref.predict(X_val))


@pytest.mark.parametrize("kind", list(CLASSIFIERS))
def test_seeded_training_on_digits_is_the_assignments(kind):
    pytest.importorskip("sklearn")
    images, labels = steepest.datasets.load_digits()
    X = images - images.mean(axis=0)
    X = np.hstack([X, np.ones((X.shape[0], 1))])  # the notebook's bias trick
    ours, theirs = CLASSIFIERS[kind]
    kw = {"learning_rate": 1e-3, "reg": 0.1, "num_iters": 1500}
    clf_ref, hist_ref = seeded(theirs, 7, X, labels, **kw)
    clf, hist = seeded(ours, 7, X, labels, **kw)
    assert rel_diff(clf.W, clf_ref.W) <= 1e-10 and rel_diff(hist, hist_ref) <= 1e-10
    assert np.array_equal(clf.predict(X), clf_ref.predict(X))
    assert np.mean(clf.predict(X) == labels) > 0.9


def test_the_next_train_continues_from_W():
    X, y, _ = problem(N=300, D=20, C=4, seed=6)
    kw = {"learning_rate": 1e-2, "reg": 1e-3, "num_iters": 40, "batch_size": 50}
    np.random.seed(1)
    clf_ref = ref.LinearSVM()
    clf_ref.train(X, y, **kw)
    hist_ref = clf_ref.train(X, y, **kw)
    np.random.seed(1)
    clf = LinearSVM()
    clf.train(X, y, **kw)
    W_first = clf.W
    hist = clf.train(X, y, **kw)
    assert clf.W is W_first  # updated in place, as `self.W -= learning_rate * grad` does
    assert rel_diff(clf.W, clf_ref.W) <= 1e-12 and rel_diff(hist, hist_ref) <= 1e-12


def test_an_overridden_loss_is_the_one_train_calls():
    calls = []

    class MySVM(LinearSVM):
        def loss(self, X_batch, y_batch, reg):
            calls.append(X_batch.shape)
            return ref.svm_loss_vectorized(self.W, X_batch, y_batch, reg)

    class Halved(ref.LinearSVM):
        def loss(self, X_batch, y_batch, reg):
            loss, grad = super().loss(X_batch, y_batch, reg)
            return loss / 2, grad / 2

    class MyHalved(LinearSVM):
        def loss(self, X_batch, y_batch, reg):
            loss, grad = super().loss(X_batch, y_batch, reg)
            return loss / 2, grad / 2

    X, y, _ = problem(N=200, D=11, C=3, seed=7)
    kw = {"learning_rate": 1e-2, "reg": 0.01, "num_iters": 30, "batch_size": 25}
    clf, hist = seeded(MySVM, 2, X, y, **kw)
    clf_ref, hist_ref = seeded(ref.LinearSVM, 2, X, y, **kw)
    assert calls == [(25, 11)] * 30
    assert np.array_equal(clf.W, clf_ref.W) and hist == hist_ref
    halved, hist_h = seeded(MyHalved, 2, X, y, **kw)
    halved_ref, hist_h_ref = seeded(Halved, 2, X, y, **kw)
    assert rel_diff(halved.W, halved_ref.W) <= 1e-12 and rel_diff(hist_h, hist_h_ref) <= 1e-12
    assert rel_diff(halved.W, clf.W) > 1e-6  # the override changed the run


def test_a_diverging_run_goes_on_as_numpys_with_one_warning():
    X, y, _ = problem(N=200, D=11, C=3, seed=8)
    np.random.seed(0)
    clf = LinearSVM()
    with pytest.warns(RuntimeWarning, match="diverged at iteration") as caught:
        hist = clf.train(X, y, learning_rate=5.0, reg=100.0, num_iters=200)
    assert len(caught) == 1 and not np.isfinite(hist[-1]) and len(hist) == 200
    assert clf.predict(X).shape == (200,)  # a grid search keeps going


def test_the_base_class_has_no_loss():
    X, y, _ = problem()
    state = np.random.get_state()[1].copy()
    with pytest.raises(NotImplementedError, match="use LinearSVM or Softmax"):
        LinearClassifier().train(X, y)
    assert np.array_equal(np.random.get_state()[1], state)  # refused before any draw


# --- X is read in place, never copied -----------------------------------------------------------------


def peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_X_is_never_copied(backend, cifar_rows):
    X, y = cifar_rows  # read-only: nothing may write to it
    big = X.nbytes  # 49 MB
    W = np.random.default_rng(0).standard_normal((X.shape[1], 10)) * 1e-3
    trained = Softmax()
    trained.W = W
    with steepest.use_backend(backend):
        linear_svm.svm_loss_vectorized(W, X, y, 0.1)  # warm-up (JIT, caches)
        calls = {
            "svm_loss_vectorized": lambda: linear_svm.svm_loss_vectorized(W, X, y, 0.1),
            "softmax_loss_vectorized": lambda: softmax.softmax_loss_vectorized(W, X, y, 0.1),
            "train": lambda: LinearSVM().train(X, y, 1e-7, 2.5e4, num_iters=20),
            "predict": lambda: trained.predict(X),
            "loss_function": lambda: gradient_check.loss_function(linear_svm.svm_loss_vectorized, X, y, 0.1)(W),
        }
        for name, call in calls.items():
            assert peak_bytes(call) < big / 4, name  # a copy of X would be 49 MB; a mini-batch is 5 MB


def test_loss_function_keeps_X_in_place():
    X, y, W = problem()
    f = gradient_check.loss_function(linear_svm.svm_loss_naive, X, y, 0.1)
    assert np.shares_memory(f.X, X) and f.exact and f(W) == ref.svm_loss_naive(W, X, y, 0.1)[0]


# --- gradient_check ------------------------------------------------------------------------------------


def test_eval_numerical_gradient_loop_is_the_assignments(capsys):
    x = np.random.default_rng(0).standard_normal((3, 4))

    def f(v):
        return np.sum(np.sin(v) * v**2)

    ours = gradient_check.eval_numerical_gradient(f, x.copy())
    out = capsys.readouterr().out
    theirs = ref.eval_numerical_gradient(f, x.copy())
    assert np.array_equal(ours, theirs) and out == capsys.readouterr().out
    assert out.splitlines()[0].startswith("(0, 0) ") and len(out.splitlines()) == 12
    assert np.array_equal(gradient_check.eval_numerical_gradient(f, x.copy(), verbose=False, h=1e-4),
                          ref.eval_numerical_gradient(f, x.copy(), False, 1e-4))  # fmt: skip
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("name", list(LOSSES))
def test_eval_numerical_gradient_is_exact_for_steepests_losses(backend, name, capsys):
    ours_fn, ref_fn = LOSSES[name]
    X, y, W = problem(N=40, D=6, C=3, seed=9)
    f = gradient_check.loss_function(ours_fn, X, y, 0.5)
    W_before = W.copy()
    with steepest.use_backend(backend):
        exact = gradient_check.eval_numerical_gradient(f, W)
    printed = capsys.readouterr().out.splitlines()
    loop = ref.eval_numerical_gradient(lambda w: ref_fn(w, X, y, 0.5)[0], W.copy(), verbose=False)
    assert np.array_equal(W, W_before) and exact.shape == W.shape
    assert np.max(np.abs(exact - loop)) <= 1e-9  # the loop's cancellation error
    assert rel_diff(exact, ref_fn(W, X, y, 0.5)[1]) <= 1e-6  # and both estimate the gradient
    assert len(printed) == W.size and printed[0] == f"(0, 0) {exact[0, 0]}"


def test_grad_check_sparse_draws_and_prints_as_the_assignment(capsys):
    X, y, W = problem(N=50, D=9, C=4, seed=10)
    _, grad = ref.svm_loss_naive(W, X, y, 0.0)
    random.seed(5)
    ref.grad_check_sparse(lambda w: ref.svm_loss_naive(w, X, y, 0.0)[0], W.copy(), grad)
    state_ref, printed_ref = random.getstate(), capsys.readouterr().out
    # the notebook's lambda: the assignment's loop, the same lines character for character
    random.seed(5)
    assert gradient_check.grad_check_sparse(lambda w: linear_svm.svm_loss_naive(w, X, y, 0.0)[0], W, grad) is None
    assert capsys.readouterr().out == printed_ref and random.getstate() == state_ref
    # loss_function: the same indices, the numbers computed exactly
    f = gradient_check.loss_function(linear_svm.svm_loss_naive, X, y, 0.0)
    random.seed(5)
    np_state = np.random.get_state()[1].copy()
    gradient_check.grad_check_sparse(f, W, grad, num_checks=10, h=1e-5)
    printed = capsys.readouterr().out
    assert random.getstate() == state_ref and np.array_equal(np.random.get_state()[1], np_state)
    pattern = r"numerical: (\S+) analytic: (\S+), relative error: (\S+)"
    rows, rows_ref = re.findall(pattern, printed), re.findall(pattern, printed_ref)
    assert len(rows) == 10 and [r[1] for r in rows] == [r[1] for r in rows_ref]
    assert all(abs(float(a[0]) - float(b[0])) <= 1.5e-6 for a, b in zip(rows, rows_ref))


def test_eval_numerical_gradient_array_is_the_assignments():
    rng = np.random.default_rng(11)
    x, A, df = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    ours = gradient_check.eval_numerical_gradient_array(lambda v: np.tanh(v @ A), x.copy(), df)
    theirs = ref.eval_numerical_gradient_array(lambda v: np.tanh(v @ A), x.copy(), df)
    assert np.array_equal(ours, theirs)


def test_the_loop_restores_x_when_f_raises():
    x = np.arange(6.0).reshape(2, 3)

    def f(v):
        if v[0, 1] != 1.0:
            raise RuntimeError("boom")
        return float(np.sum(v))

    with pytest.raises(RuntimeError, match="boom"):
        gradient_check.eval_numerical_gradient(f, x, verbose=False)
    assert np.array_equal(x, np.arange(6.0).reshape(2, 3))


def test_a_loss_of_your_own_runs_the_loop():
    X, y, W = problem(N=30, D=5, C=3, seed=12)
    calls = []

    def my_loss(W, X, y, reg):
        calls.append(1)
        return ref.svm_loss_vectorized(W, X, y, reg)

    f = gradient_check.loss_function(my_loss, X, y, 0.1)
    assert not f.exact
    grad = gradient_check.eval_numerical_gradient(f, W.copy(), verbose=False)
    assert len(calls) == 1 + 2 * W.size
    assert np.array_equal(grad, ref.eval_numerical_gradient(f, W.copy(), verbose=False))


# --- data_utils -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True])
def test_load_CIFAR10_is_the_assignments(tmp_path, nested):
    written = write_cifar_folder(tmp_path, n_per_batch=6, n_test=4, nested=nested)
    folder = written["folder"]
    ours = data_utils.load_CIFAR10(str(folder if not nested else tmp_path))
    theirs = ref.load_CIFAR10(str(folder))
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    assert ours[0].dtype == np.float64 and ours[0].shape == (30, 32, 32, 3) and ours[1].dtype == np.int64
    X, Y = data_utils.load_CIFAR_batch(folder / "test_batch")
    assert np.array_equal(X, theirs[2]) and np.array_equal(Y, theirs[3])


# --- bad input -------------------------------------------------------------------------------------------


def bad_calls():
    X, y, W = problem()
    fn = linear_svm.svm_loss_vectorized
    return [
        ("W in steepest's layout", lambda: fn(W.T.copy(), X, y, 0.1), ValueError, r"W must be \(D, C\).*pass W\.T"),
        ("X as (D, N)", lambda: fn(W, X.T.copy(), y, 0.1), ValueError, r"did you pass X as \(D, N\)\? use X\.T"),
        ("W of another D", lambda: fn(W[:-1], X, y, 0.1), ValueError, r"W\.shape\[0\] must equal X\.shape\[1\]"),
        ("y too short", lambda: fn(W, X, y[:-1], 0.1), ValueError, "y must have one label per row of X"),
        ("y float", lambda: fn(W, X, y.astype(float), 0.1), TypeError, "y must have an integer dtype"),
        ("y out of range", lambda: fn(W[:, :3], X, y, 0.1), ValueError, r"y must hold labels in \[0, 3\)"),
        ("reg < 0", lambda: fn(W, X, y, -1.0), ValueError, "reg must be >= 0"),
        ("X a list", lambda: fn(W, X.tolist(), y, 0.1), TypeError, "X must be a numpy.ndarray"),
        ("X int", lambda: fn(W, X.astype(int), y, 0.1), TypeError, "X must have dtype float32 or float64"),
        ("dtypes", lambda: fn(W.astype(np.float32), X, y, 0.1), TypeError, "W and X must share a dtype"),
        ("W NaN", lambda: fn(np.full_like(W, np.nan), X, y, 0.1), ValueError, "W must be finite"),
        ("naive too", lambda: softmax.softmax_loss_naive(W.T.copy(), X, y, 0.1), ValueError, "pass W.T"),
        ("num_iters", lambda: LinearSVM().train(X, y, num_iters=-1), ValueError, "num_iters must be >= 0"),
        ("batch_size", lambda: LinearSVM().train(X, y, batch_size=0), ValueError, "batch_size must be >= 1"),
        ("verbose", lambda: Softmax().train(X, y, verbose="yes"), TypeError, "verbose must be True or False"),
        ("learning_rate", lambda: Softmax().train(X, y, learning_rate="1"), TypeError, "learning_rate must be a real"),
        ("X float32", lambda: LinearSVM().train(X.astype(np.float32), y), TypeError, "X must be float64"),
        ("one class", lambda: LinearSVM().train(X, np.zeros(len(y), int)), ValueError, "at least 2 classes"),
        ("predict first", lambda: LinearSVM().predict(X), ValueError, r"W is None: call train\(X, y\)"),
        ("f", lambda: gradient_check.eval_numerical_gradient(3, W), TypeError, "f must be callable"),
        ("x int", lambda: gradient_check.eval_numerical_gradient(np.sum, np.arange(3)), TypeError, "x must have"),
        ("h", lambda: gradient_check.grad_check_sparse(np.sum, W, W, h=0), ValueError, "h must be > 0"),
        ("grad shape", lambda: gradient_check.grad_check_sparse(np.sum, W, W.T), ValueError, "analytic_grad must"),
        ("num_checks", lambda: gradient_check.grad_check_sparse(np.sum, W, W, 1.5), TypeError, "num_checks must"),
        (
            "exact x in steepest's layout",
            lambda: gradient_check.eval_numerical_gradient(
                gradient_check.loss_function(linear_svm.svm_loss_vectorized, X, y, 0.0), W.T.copy()
            ),
            ValueError,
            r"x must be \(D, C\).*pass x\.T",
        ),
        ("loss_fn", lambda: gradient_check.loss_function("svm", X, y, 0.0), TypeError, "loss_fn must be callable"),
        ("ROOT", lambda: data_utils.load_CIFAR10(3), TypeError, "ROOT must be a path"),
        ("ROOT missing", lambda: data_utils.load_CIFAR10("/nonexistent/cifar"), FileNotFoundError, "does not exist"),
    ]


@pytest.mark.parametrize("case", range(len(bad_calls())), ids=[c[0] for c in bad_calls()])
def test_bad_input_is_refused_with_a_message_naming_it(case):
    _, call, error, match = bad_calls()[case]
    with pytest.raises(error, match=match):
        call()


def test_a_kept_W_of_the_wrong_shape_is_named():
    X, y, W = problem()
    clf = LinearSVM()
    clf.W = W.T.copy()
    with pytest.raises(ValueError, match=r"W must be \(D, C\)"):
        clf.train(X, y)
    clf.W = W[:, :2].copy()
    with pytest.raises(ValueError, match="for the kept W"):
        clf.train(X, y)


def test_read_only_x_is_refused_by_the_loop():
    x = np.zeros(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="x must be writeable"):
        gradient_check.eval_numerical_gradient(np.sum, x)


def test_the_package_exports():
    assert cs231n.LinearSVM is LinearSVM and cs231n.loss_function is gradient_check.loss_function
    assert set(cs231n.__all__) <= set(dir(cs231n))


@pytest.mark.parametrize("N, B", [(49_000, 200), (10, 7), (1, 3), (2**40, 5)])
def test_the_training_loops_draw_equals_the_assignments_np_random_choice(N, B):
    """train draws its batches with np.random.randint(0, N, B), which must give np.random.choice(N, B)'s
    indices and leave the global generator in the same state (the same seed gives the same run)."""
    np.random.seed(5)
    expected = np.random.choice(N, B)
    after = np.random.get_state()
    np.random.seed(5)
    got = np.random.randint(0, N, B)
    assert got.dtype == np.int64 and np.array_equal(got, expected)
    state = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]
