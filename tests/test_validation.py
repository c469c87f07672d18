"""Every bad input we refuse that applies to the losses: the declared error, naming the argument,
identically on every backend and every entry point, before any work starts."""

from __future__ import annotations

import json
import os
import pathlib
import sys
import warnings

import numpy as np
import pytest

import steepest
from steepest import _interrupt, _optional, _validate

rng = np.random.default_rng(0)
W0 = rng.standard_normal((3, 4))
X0 = rng.standard_normal((4, 6))
y0 = np.array([0, 1, 2, 0, 1, 2])


def entry_points(backend):
    """Callables (W, X, y) -> anything, covering the functional and the object forms."""
    return {
        "svm_loss": lambda W, X, y: steepest.svm_loss(W, X, y, backend=backend),
        "svm_loss_grad": lambda W, X, y: steepest.svm_loss_grad(W, X, y, backend=backend),
        "softmax_loss": lambda W, X, y: steepest.softmax_loss(W, X, y, backend=backend),
        "softmax_loss_grad": lambda W, X, y: steepest.softmax_loss_grad(W, X, y, backend=backend),
        "accuracy": lambda W, X, y: steepest.accuracy(W, X, y, backend=backend),
        "SVMLoss": lambda W, X, y: steepest.SVMLoss(X, y, backend=backend).loss_grad(W),
        "SoftmaxLoss": lambda W, X, y: steepest.SoftmaxLoss(X, y, backend=backend)(W),
    }


def as_matrix(a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.matrix(a)


def non_native(a):
    return a.astype(a.dtype.newbyteorder(">" if a.dtype.byteorder in "=<" else "<"))


class FakeSparse:
    shape = (4, 6)

    def tocsr(self):  # looks like a scipy sparse matrix
        return self


BAD_X = [
    (None, TypeError, "X must be a numpy.ndarray"),
    ("abc", TypeError, "X must be a numpy.ndarray"),
    ({"a": 1}, TypeError, "X must be a numpy.ndarray"),
    ([[1.0, 2.0], [3.0]], TypeError, "X must be a numpy.ndarray"),
    (as_matrix(X0), TypeError, "numpy.matrix"),
    (FakeSparse(), TypeError, "sparse"),
    (np.ma.masked_array(X0), TypeError, "masked"),
    (X0.astype(object), TypeError, "X must have dtype float32 or float64"),
    (X0.astype(str), TypeError, "X must have dtype float32 or float64"),
    (X0 > 0, TypeError, "X must have dtype float32 or float64"),
    (X0.astype(complex), TypeError, "X must have dtype float32 or float64"),
    (X0.astype(np.int64), TypeError, "X must have dtype float32 or float64"),
    (X0.astype(np.float16), TypeError, "X must have dtype float32 or float64"),
    (X0.astype(np.float32), TypeError, "W and X must share a dtype"),
    (non_native(X0), TypeError, "X must be in native byte order"),
    (X0[0], ValueError, "X must be 2-D"),
    (X0[None], ValueError, "X must be 2-D"),
    (X0.T, ValueError, r"did you pass X as \(N, D\)\? use X.T"),
    (np.zeros((4, 0)), ValueError, "X must not be empty"),
    (np.where(np.arange(24).reshape(4, 6) == 7, np.nan, X0), ValueError, r"X must be finite; X\[1, 1\]"),
    (np.where(np.arange(24).reshape(4, 6) == 0, np.inf, X0), ValueError, "X must be finite"),
]

BAD_W = [
    (None, TypeError, "W must be a numpy.ndarray"),
    (W0.tolist(), TypeError, "W must be a numpy.ndarray"),
    (W0.astype(np.int32), TypeError, "W must have dtype float32 or float64"),
    (W0.astype(np.float32), TypeError, "W and X must share a dtype"),
    (W0[0], ValueError, "W must be 2-D"),
    (W0[:1], ValueError, "at least 2 rows"),
    (W0[:, :3], ValueError, r"W.shape\[1\] must equal X.shape\[0\]"),
    (np.zeros((3, 0)), ValueError, "W must not be empty"),
    (np.where(np.eye(3, 4) > 0, np.nan, W0), ValueError, r"W must be finite; W\[0, 0\]"),
]

BAD_Y = [
    (None, TypeError, "y must be a numpy.ndarray"),
    (y0.astype(np.float64), TypeError, "y must have an integer dtype"),
    (y0.astype(bool), TypeError, "y must have an integer dtype"),
    (y0.astype(np.uint64), TypeError, "y must fit in int64"),
    (y0[:, None], ValueError, r"y must be 1-D.*y.ravel\(\)"),
    (y0[:5], ValueError, "one label per column of X: length 6; got length 5"),
    (np.array([0, 1, 2, 0, -1, 2]), ValueError, r"y\[4\] = -1"),
    (np.array([0, 1, 2, 3, 1, 2]), ValueError, r"y\[3\] = 3"),
]


@pytest.mark.parametrize("X, error, message", BAD_X, ids=[f"X{i}" for i in range(len(BAD_X))])
def test_bad_X(backend, X, error, message):
    for call in entry_points(backend).values():
        with pytest.raises(error, match=message):
            call(W0, X, y0)


@pytest.mark.parametrize("W, error, message", BAD_W, ids=[f"W{i}" for i in range(len(BAD_W))])
def test_bad_W(backend, W, error, message):
    for call in entry_points(backend).values():
        with pytest.raises(error, match=message):
            call(W, X0, y0)


@pytest.mark.parametrize("y, error, message", BAD_Y, ids=[f"y{i}" for i in range(len(BAD_Y))])
def test_bad_y(backend, y, error, message):
    for call in entry_points(backend).values():
        with pytest.raises(error, match=message):
            call(W0, X0, y)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"reg": -1.0}, ValueError, "reg must be >= 0"),
        ({"reg": np.nan}, ValueError, "reg must be finite"),
        ({"reg": np.inf}, ValueError, "reg must be finite"),
        ({"reg": "0.1"}, TypeError, "reg must be a real number"),
        ({"reg": True}, TypeError, "reg must be a real number"),
        ({"delta": 0.0}, ValueError, "delta must be > 0"),
        ({"delta": -1.0}, ValueError, "delta must be > 0"),
        ({"delta": np.nan}, ValueError, "delta must be finite"),
        ({"backend": "cuda"}, ValueError, r"backend must be one of \('auto', 'cpp', 'numba', 'numpy'\)"),
        ({"backend": 3}, TypeError, "backend must be a str"),
    ],
)
def test_bad_hyper_parameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        steepest.svm_loss_grad(W0, X0, y0, **kwargs)
    with pytest.raises(error, match=message):
        steepest.SVMLoss(X0, y0, **kwargs)


def test_bad_subset_indices(backend):
    f = steepest.SVMLoss(X0, y0, backend=backend)
    with pytest.raises(ValueError, match=r"idx must hold indices in \[0, 6\); idx\[1\] = 6"):
        f.subset(np.array([0, 6]))
    with pytest.raises(TypeError, match="idx must have an integer dtype"):
        f.subset(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="non-empty"):
        f.subset(np.array([], dtype=np.int64))


def test_errors_leave_inputs_untouched(backend):
    W, X, y = W0.copy(), X0.copy(), np.array([0, 1, 2, 0, 1, 5])
    with pytest.raises(ValueError):
        steepest.svm_loss_grad(W, X, y, backend=backend)
    np.testing.assert_array_equal(W, W0)
    np.testing.assert_array_equal(X, X0)


# ---- the vocabulary itself, the optional imports, Ctrl-C ------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: _validate.boolean(1, "verbose"), TypeError, "verbose must be True or False; got int"),
        (lambda: _validate.path(3, "path"), TypeError, r"path must be a path \(str or os.PathLike\); got int"),
        (lambda: _validate.rng(-1), ValueError, "seed must be >= 0; got -1"),
        (lambda: _validate.rng(np.random.RandomState(0)), TypeError, "seed must be an int or a numpy.random.Generator"),
        (lambda: _validate.seed_int(1.5), TypeError, "seed must be an int or a numpy.random.Generator; got float"),
        (lambda: _validate.seed_int(-2), ValueError, "seed must be >= 0; got -2"),
        (lambda: _validate.real_or_none(-1.0, "tol", low=0.0), ValueError, r"tol must be >= 0.0; got -1.0"),
        (lambda: _validate.array_of_dtype([1.0], "a", np.dtype(np.float32)), TypeError, "a must be a numpy.ndarray"),
        (
            lambda: _validate.array_of_dtype(X0, "a", np.dtype(np.float32)),
            TypeError,
            r"a must have dtype float32; got float64 \(cast it with a.astype\(np.float32\)\)",
        ),
        (
            lambda: _validate.array_of_dtype(X0, "a", np.dtype(np.float32), fix=lambda got: f"not {got}"),
            TypeError,
            r"got float64 \(not float64\)",
        ),
        (
            lambda: _validate.finite(np.array([1.0, np.inf]), "v"),
            ValueError,
            r"v must be finite; v\[1\] = inf \(1 non-finite entry\)",
        ),
    ],
)
def test_vocabulary_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_vocabulary_values():
    assert _validate.boolean(np.bool_(True), "b") is True
    assert _validate.path(pathlib.Path("a") / "b", "path") == os.path.join("a", "b")
    assert _validate.real_or_none(None, "tol") is None and _validate.real_or_none(2, "tol") == 2.0
    assert _validate.seed_int(7) == 7 and 0 <= _validate.seed_int(None) < 2**63
    g = np.random.default_rng(0)
    assert _validate.seed_int(g) == np.random.default_rng(0).integers(2**63)
    assert _validate.rng(g) is g
    assert _validate.array_of_dtype(X0, "a", np.dtype(np.float64)) is X0
    assert _validate.all_finite(np.full(4, 1e308)) and not _validate.all_finite(np.array([0.0, np.nan]))
    _validate.finite(np.full((2, 2), 1e308), "big")  # the sum overflows, the entries are finite


def test_require_names_the_feature_the_package_and_the_extra(monkeypatch):
    assert _optional.require("json", "data", "x") is json
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"^load_it needs scikit-learn: pip install steepest\[data\]$") as err:
        _optional.require("sklearn.datasets", "data", "load_it", package="scikit-learn")
    assert isinstance(err.value.__cause__, ImportError)  # what failed, for a broken install
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match=r"^progress=True needs tqdm: pip install steepest\[progress\]$"):
        _optional.progress_bar(True, 10)


def test_progress_bar_off_is_a_silent_stand_in(capsys):
    bar = _optional.progress_bar(False, 10, "work")
    bar.update(3)
    bar.set_postfix(loss=1.0)
    bar.write("a line")
    bar.close()
    assert capsys.readouterr().out == "a line\n"


def test_stop_on_ctrl_c_and_finish():
    with _interrupt.StopOnCtrlC() as ctrl_c:
        raise KeyboardInterrupt
    assert ctrl_c.interrupted
    with _interrupt.StopOnCtrlC() as ctrl_c:
        pass
    assert not ctrl_c.interrupted
    with pytest.raises(ValueError):
        with _interrupt.StopOnCtrlC():
            raise ValueError("not Ctrl-C")
    runs = []

    def step():
        runs.append(1)
        if len(runs) < 3:
            raise KeyboardInterrupt

    assert _interrupt.finish(step) is True and len(runs) == 3
    assert _interrupt.finish(lambda: None) is False
