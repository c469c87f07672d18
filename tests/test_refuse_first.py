"""Every public function refuses each bad argument before it works: no kernel call, no call of the
user's function, no draw from a caller's generator, nothing created on disk.

Each case is ``(id, call, error, match)``: ``call(ctx)`` makes one call with one bad argument, every
other argument good. The check runs it inside ``counting_kernels`` in an empty working folder
(``tmp_path``: default paths land there, and the path arguments point into folders not yet made),
then asserts the error, the message (it names the argument; it never leaks NumPy's "could not
convert string to float" or an internal number such as the int64 maximum), zero kernel calls, zero
calls of ``ctx.f`` (the user's function in the callable forms) and an unchanged folder tree.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

import steepest
from kernel_calls import counting_kernels
from steepest import cs231n, landscape, optimize
from steepest.cli import main as cli_main
from steepest.cs231n.classifiers import LinearSVM, Softmax, softmax_loss_naive, svm_loss_naive, svm_loss_vectorized

LEAKS = ("could not convert", str(np.iinfo(np.int64).max), str(np.iinfo(np.int64).max + 1))
HAS_MATPLOTLIB = True
try:
    import matplotlib  # noqa: F401
except ImportError:  # pragma: no cover - the plot extra is installed for the tests
    HAS_MATPLOTLIB = False

C, D, N = 3, 5, 240


class Counted:
    """A plain callable loss f(W) -> float that counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, W):
        self.calls += 1
        return float(np.sum(np.asarray(W) ** 2))


def tree(root) -> list[str]:
    """Every path under ``root`` (folders included), sorted."""
    out = []
    for folder, dirs, files in os.walk(root):
        out += [os.path.relpath(os.path.join(folder, name), root) for name in dirs + files]
    return sorted(out)


@pytest.fixture
def ctx(backend, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((C, D))
    X = rng.standard_normal((D, N))
    y = np.arange(N) % C
    d1, d2 = rng.standard_normal((C, D)), rng.standard_normal((C, D))
    svm = steepest.SVMLoss(X, y, reg=0.1, backend=backend)
    soft = steepest.SoftmaxLoss(X, y, reg=0.1, backend=backend)
    x = rng.standard_normal(6)
    readonly = x.copy()
    readonly.setflags(write=False)
    (tmp_path / "file").write_text("")  # a file where a folder is expected
    return SimpleNamespace(
        backend=backend,
        tmp=tmp_path,
        new=tmp_path / "new" / "deeper",  # a folder that does not exist yet
        W=W,
        X=X,
        y=y,
        d1=d1,
        d2=d2,
        svm=svm,
        soft=soft,
        f=Counted(),
        x=x,
        readonly=readonly,
        pixels=(rng.random((D, N)) * 255).astype(np.uint8),
        gen=np.random.default_rng(7),
    )


def refused(ctx, call, error, match):
    """Run one refused call; assert the error and that nothing was done before it."""
    before = tree(ctx.tmp)
    state = ctx.gen.bit_generator.state
    legacy = np.random.get_state()[1].copy()
    with counting_kernels() as calls, steepest.use_backend(ctx.backend):  # the default, for calls without backend=
        with pytest.raises(error, match=match) as caught:
            call(ctx)
    message = str(caught.value)
    assert not any(leak in message for leak in LEAKS), message
    assert calls.total == 0, f"{dict(calls)} kernel calls before: {message}"
    assert ctx.f.calls == 0, f"the user's function ran {ctx.f.calls} times before: {message}"
    assert ctx.gen.bit_generator.state == state, f"the caller's generator moved before: {message}"
    assert np.array_equal(np.random.get_state()[1], legacy), f"np.random moved before: {message}"
    assert tree(ctx.tmp) == before, f"created {sorted(set(tree(ctx.tmp)) - set(before))} before: {message}"


def cases(*rows):
    return [pytest.param(call, error, match, id=name) for name, call, error, match in rows]


# --------------------------------------------------------------------------- the top-level API

LOSS_FUNCTIONS = {
    "svm_loss": lambda c, **kw: steepest.svm_loss(backend=c.backend, **kw),
    "svm_loss_grad": lambda c, **kw: steepest.svm_loss_grad(backend=c.backend, **kw),
    "softmax_loss": lambda c, **kw: steepest.softmax_loss(backend=c.backend, **kw),
    "softmax_loss_grad": lambda c, **kw: steepest.softmax_loss_grad(backend=c.backend, **kw),
}

BAD_PROBLEM = [
    ("W transposed", lambda c: dict(W=c.W.T, X=c.X, y=c.y), ValueError, r"use W\.T"),
    ("X as rows", lambda c: dict(W=c.W, X=c.X.T, y=c.y), ValueError, r"use X\.T"),
    ("W str", lambda c: dict(W="W", X=c.X, y=c.y), TypeError, "W must be a numpy.ndarray"),
    ("W list", lambda c: dict(W=c.W.tolist(), X=c.X, y=c.y), TypeError, r"np\.asarray\(W"),
    ("X uint8 pixels", lambda c: dict(W=c.W, X=c.pixels, y=c.y), TypeError, "divide by 255"),
    ("X str array", lambda c: dict(W=c.W, X=c.X.astype(str), y=c.y), TypeError, "X must have dtype float32"),
    ("y float", lambda c: dict(W=c.W, X=c.X, y=c.y.astype(float)), TypeError, r"astype\(np\.int64\)"),
    ("y str", lambda c: dict(W=c.W, X=c.X, y=c.y.astype(str)), TypeError, "y must have an integer dtype"),
    ("y negative", lambda c: dict(W=c.W, X=c.X, y=-1 - c.y), ValueError, r"y must hold labels in \[0, 3\)"),
    ("y too long", lambda c: dict(W=c.W, X=c.X, y=np.r_[c.y, 0]), ValueError, "one label per column"),
]
BAD_OPTIONS = [
    ("reg str", dict(reg="0.1"), TypeError, "reg must be a real number"),
    ("reg negative", dict(reg=-1.0), ValueError, "reg must be >= 0"),
    ("reg nan", dict(reg=float("nan")), ValueError, "reg must be finite"),
]


@pytest.mark.parametrize("function", sorted(LOSS_FUNCTIONS))
@pytest.mark.parametrize("name, arguments, error, match", BAD_PROBLEM, ids=[r[0] for r in BAD_PROBLEM])
def test_loss_functions_refuse_a_bad_problem(ctx, function, name, arguments, error, match):
    refused(ctx, lambda c: LOSS_FUNCTIONS[function](c, **arguments(c)), error, match)


@pytest.mark.parametrize("function", sorted(LOSS_FUNCTIONS))
@pytest.mark.parametrize("name, options, error, match", BAD_OPTIONS, ids=[r[0] for r in BAD_OPTIONS])
def test_loss_functions_refuse_bad_options(ctx, function, name, options, error, match):
    refused(ctx, lambda c: LOSS_FUNCTIONS[function](c, W=c.W, X=c.X, y=c.y, **options), error, match)


TOP_LEVEL = cases(
    ("svm_loss delta 0", lambda c: steepest.svm_loss(c.W, c.X, c.y, delta=0.0, backend=c.backend), ValueError, "delta"),
    ("svm_loss backend", lambda c: steepest.svm_loss(c.W, c.X, c.y, backend="gpu"), ValueError, "backend must be one"),
    ("svm_loss backend int", lambda c: steepest.svm_loss(c.W, c.X, c.y, backend=1), TypeError, "backend must be a str"),
    ("scores W.T", lambda c: steepest.scores(c.W.T, c.X, backend=c.backend), ValueError, r"use W\.T"),
    ("scores backend", lambda c: steepest.scores(c.W, c.X, backend="gpu"), ValueError, "backend"),
    ("predict X rows", lambda c: steepest.predict(c.W, c.X.T, backend=c.backend), ValueError, r"use X\.T"),
    ("accuracy y float", lambda c: steepest.accuracy(c.W, c.X, c.y * 1.0, backend=c.backend), TypeError, "int64"),
    ("SVMLoss check_finite", lambda c: steepest.SVMLoss(c.X, c.y, check_finite="no"), TypeError, "check_finite"),
    ("SVMLoss backend", lambda c: steepest.SVMLoss(c.X, c.y, backend="gpu"), ValueError, "backend"),
    ("SVMLoss y negative", lambda c: steepest.SVMLoss(c.X, -1 - c.y), ValueError, "y must hold labels >= 0"),
    ("SVMLoss X uint8", lambda c: steepest.SVMLoss(c.pixels, c.y), TypeError, "divide by 255"),
    ("SoftmaxLoss y float", lambda c: steepest.SoftmaxLoss(c.X, c.y * 1.0), TypeError, r"astype\(np\.int64\)"),
    ("loss W.T", lambda c: c.svm.loss(c.W.T), ValueError, r"use W\.T"),
    ("loss_grad float32", lambda c: c.soft.loss_grad(c.W.astype(np.float32)), TypeError, "share a dtype"),
    ("grad W str", lambda c: c.svm.grad("W"), TypeError, "W must be a numpy.ndarray"),
    ("scores method W.T", lambda c: c.svm.scores(c.W.T), ValueError, r"use W\.T"),
    ("accuracy method W list", lambda c: c.soft.accuracy(c.W.tolist()), TypeError, "W must be"),
    ("subset out of range", lambda c: c.svm.subset([0, N]), ValueError, "idx must hold indices"),
    ("subset float", lambda c: c.svm.subset(np.array([0.5])), TypeError, "idx must have an integer dtype"),
    ("with_reg", lambda c: c.svm.with_reg(-1), ValueError, "reg"),
    ("with_backend", lambda c: c.svm.with_backend("gpu"), ValueError, "backend"),
    ("set_backend", lambda c: steepest.set_backend("gpu"), ValueError, "backend"),
    ("use_backend", lambda c: steepest.use_backend(3).__enter__(), TypeError, "backend"),
    ("set_num_threads", lambda c: steepest.set_num_threads(0), ValueError, "n_threads"),
    ("num_threads", lambda c: steepest.num_threads("2").__enter__(), TypeError, "n_threads"),
    # numerical gradients
    ("eng h 0", lambda c: steepest.eval_numerical_gradient(c.svm, c.W, h=0.0), ValueError, "h must be > 0"),
    ("eng h str", lambda c: steepest.eval_numerical_gradient(c.svm, c.W, h="1e-5"), TypeError, "h must be a real"),
    ("eng method", lambda c: steepest.eval_numerical_gradient(c.svm, c.W, method="backward"), ValueError, "method"),
    ("eng backend", lambda c: steepest.eval_numerical_gradient(c.svm, c.W, backend="gpu"), ValueError, "backend"),
    ("eng progress", lambda c: steepest.eval_numerical_gradient(c.svm, c.W, progress="yes"), TypeError, "progress"),
    ("eng W.T", lambda c: steepest.eval_numerical_gradient(c.svm, c.W.T), ValueError, r"use W\.T"),
    ("eng h too small", lambda c: steepest.eval_numerical_gradient(c.svm, c.W * 1e12), ValueError, "h = 1e-05 is too"),
    (
        "eng f x float32",
        lambda c: steepest.eval_numerical_gradient(c.f, c.x.astype(np.float32)),
        TypeError,
        "x must be",
    ),
    (
        "eng f x readonly",
        lambda c: steepest.eval_numerical_gradient(c.f, c.readonly),
        ValueError,
        "x must be writeable",
    ),
    ("eng f x str", lambda c: steepest.eval_numerical_gradient(c.f, "x"), TypeError, "x must be a numpy.ndarray"),
    ("eng f backend", lambda c: steepest.eval_numerical_gradient(c.f, c.x, backend="gpu"), ValueError, "backend"),
    ("eng f progress", lambda c: steepest.eval_numerical_gradient(c.f, c.x, progress=1), TypeError, "progress"),
    ("eng f method", lambda c: steepest.eval_numerical_gradient(c.f, c.x, method="x"), ValueError, "method"),
    ("eng not callable", lambda c: steepest.eval_numerical_gradient(3, c.x), TypeError, "f must be callable"),
    ("ng loss", lambda c: steepest.numerical_gradient(c.f, c.W), TypeError, "loss must be an SVMLoss"),
    ("ng h", lambda c: steepest.numerical_gradient(c.svm, c.W, h=-1.0), ValueError, "h must be > 0"),
    ("ng backend", lambda c: steepest.numerical_gradient(c.svm, c.W, backend="gpu"), ValueError, "backend"),
    ("ng W float32", lambda c: steepest.numerical_gradient(c.svm, c.W.astype(np.float32)), TypeError, "share"),
    ("relative_error str", lambda c: steepest.relative_error("a", 1.0), TypeError, "a must be real numbers"),
    ("relative_error str array", lambda c: steepest.relative_error(1.0, np.array(["1"])), TypeError, "b must hold"),
    ("relative_error complex", lambda c: steepest.relative_error(1j, 1.0), TypeError, "a must hold real"),
    ("relative_error shapes", lambda c: steepest.relative_error([1.0], [1.0, 2.0]), ValueError, "same shape"),
    ("relative_error tiny", lambda c: steepest.relative_error(1.0, 1.0, tiny=0.0), ValueError, "tiny"),
    ("grad_check analytic W.T", lambda c: steepest.grad_check(c.svm, c.W, c.W.T), ValueError, r"analytic\.T"),
    ("grad_check analytic str", lambda c: steepest.grad_check(c.svm, c.W, "dW"), TypeError, "analytic must be real"),
    ("grad_check analytic shape", lambda c: steepest.grad_check(c.svm, c.W, c.W[:1]), ValueError, "analytic must"),
    ("grad_check h", lambda c: steepest.grad_check(c.svm, c.W, h=0), ValueError, "h must be > 0"),
    ("grad_check method", lambda c: steepest.grad_check(c.svm, c.W, method="x"), ValueError, "method"),
    ("grad_check tolerance", lambda c: steepest.grad_check(c.svm, c.W, tolerance=-1), ValueError, "tolerance"),
    ("grad_check backend", lambda c: steepest.grad_check(c.svm, c.W, backend="gpu"), ValueError, "backend"),
    ("grad_check estimate", lambda c: steepest.grad_check(c.svm, c.W, estimate="no"), TypeError, "estimate"),
    ("grad_check W.T", lambda c: steepest.grad_check(c.soft, c.W.T), ValueError, r"use W\.T"),
    ("grad_check f no analytic", lambda c: steepest.grad_check(c.f, c.x), TypeError, "analytic is required"),
    ("grad_check f analytic shape", lambda c: steepest.grad_check(c.f, c.x, c.x[:2]), ValueError, "analytic"),
    ("grad_check f W float32", lambda c: steepest.grad_check(c.f, c.x.astype(np.float32), c.x), TypeError, "W must"),
    ("grad_check f readonly", lambda c: steepest.grad_check(c.f, c.readonly, c.x), ValueError, "W must be writeable"),
    ("grad_check not callable", lambda c: steepest.grad_check(3, c.x, c.x), TypeError, "loss must be callable"),
    ("gcs analytic str", lambda c: steepest.grad_check_sparse(c.f, c.x, "g"), TypeError, "analytic_grad must be"),
    ("gcs analytic shape", lambda c: steepest.grad_check_sparse(c.f, c.x, c.x[:2]), ValueError, "analytic_grad"),
    ("gcs num_checks", lambda c: steepest.grad_check_sparse(c.f, c.x, c.x, num_checks=0), ValueError, "num_checks"),
    ("gcs h", lambda c: steepest.grad_check_sparse(c.f, c.x, c.x, h=0.0), ValueError, "h must be > 0"),
    ("gcs seed", lambda c: steepest.grad_check_sparse(c.f, c.x, c.x, seed=-1), ValueError, "seed must be >= 0"),
    ("gcs verbose", lambda c: steepest.grad_check_sparse(c.f, c.x, c.x, verbose="no"), TypeError, "verbose"),
    ("gcs readonly", lambda c: steepest.grad_check_sparse(c.f, c.readonly, c.x), ValueError, "writeable"),
    ("gcs x float32", lambda c: steepest.grad_check_sparse(c.f, c.x.astype(np.float32), c.x), TypeError, "x must"),
    ("h_sweep loss", lambda c: steepest.h_sweep(c.f, c.W), TypeError, "loss must be an SVMLoss"),
    ("h_sweep hs str", lambda c: steepest.h_sweep(c.svm, c.W, hs="1e-3"), TypeError, "hs must be real"),
    ("h_sweep hs number", lambda c: steepest.h_sweep(c.svm, c.W, hs=1e-3), TypeError, "hs must be a 1-D sequence"),
    ("h_sweep hs negative", lambda c: steepest.h_sweep(c.svm, c.W, hs=[1e-3, -1.0]), ValueError, r"hs\[1\]"),
    ("h_sweep hs empty", lambda c: steepest.h_sweep(c.svm, c.W, hs=[]), ValueError, "hs must be a non-empty"),
    ("h_sweep hs too small", lambda c: steepest.h_sweep(c.svm, c.W, hs=[1e-3, 1e-30]), ValueError, "too small"),
    ("h_sweep seed", lambda c: steepest.h_sweep(c.svm, c.W, seed=-1), ValueError, "seed"),
    ("h_sweep seed str", lambda c: steepest.h_sweep(c.svm, c.W, seed="0"), TypeError, "seed"),
    ("h_sweep backend", lambda c: steepest.h_sweep(c.svm, c.W, backend="gpu"), ValueError, "backend"),
    ("h_sweep sample", lambda c: steepest.h_sweep(c.svm, c.W, sample=0), ValueError, "sample"),
    ("h_sweep method", lambda c: steepest.h_sweep(c.svm, c.W, method="x"), ValueError, "method"),
    ("h_sweep W.T", lambda c: steepest.h_sweep(c.svm, c.W.T), ValueError, r"use W\.T"),
)


@pytest.mark.parametrize("call, error, match", TOP_LEVEL)
def test_top_level_functions_refuse_before_working(ctx, call, error, match):
    refused(ctx, call, error, match)


def test_the_cases_cover_the_top_level_api():
    """Every function of steepest.__all__ is called by some case (the modules have their own tables)."""
    import inspect

    source = inspect.getsource(inspect.getmodule(test_the_cases_cover_the_top_level_api))
    functions = [
        n for n in steepest.__all__ if callable(getattr(steepest, n)) and not inspect.ismodule(getattr(steepest, n))
    ]
    trivial = {"backends", "get_backend", "get_num_threads"}  # no arguments to refuse
    missing = [n for n in functions if n not in trivial and f"steepest.{n}(" not in source and f".{n}(" not in source]
    assert not missing, missing


# --------------------------------------------------------------------------------- landscape

LANDSCAPE = cases(
    ("random_direction seed", lambda c: landscape.random_direction(c.W, seed=-1), ValueError, "seed"),
    ("random_direction normalize", lambda c: landscape.random_direction(c.W, c.gen, "col"), ValueError, "normalize"),
    (
        "random_direction zero W",
        lambda c: landscape.random_direction(np.zeros((C, D)), c.gen, "row"),
        ValueError,
        "W is all zeros",
    ),
    ("random_direction shape", lambda c: landscape.random_direction((C,), c.gen), ValueError, "shape_or_W"),
    ("random_direction dtype", lambda c: landscape.random_direction(c.W, c.gen, dtype=int), TypeError, "dtype"),
    ("random_direction str", lambda c: landscape.random_direction("W", c.gen), TypeError, "shape_or_W"),
    ("centered_grid points", lambda c: landscape.centered_grid(0), ValueError, "points"),
    ("centered_grid span", lambda c: landscape.centered_grid(5, span=0), ValueError, "span"),
    ("line loss", lambda c: landscape.loss_along_line(c.f, c.W, c.d1), TypeError, "loss must be"),
    ("line W.T", lambda c: landscape.loss_along_line(c.svm, c.W.T, c.d1), ValueError, r"use W\.T"),
    ("line direction.T", lambda c: landscape.loss_along_line(c.svm, c.W, c.d1.T), ValueError, r"direction\.T"),
    ("line direction zero", lambda c: landscape.loss_along_line(c.svm, c.W, 0 * c.d1), ValueError, "all zeros"),
    ("line alphas order", lambda c: landscape.loss_along_line(c.svm, c.W, c.d1, [1.0, 0.0]), ValueError, "increasing"),
    ("line alphas str", lambda c: landscape.loss_along_line(c.svm, c.W, c.d1, "a"), TypeError, "alphas"),
    ("line alphas nan", lambda c: landscape.loss_along_line(c.svm, c.W, c.d1, [0.0, np.nan]), ValueError, "finite"),
    ("plane d2 dtype", lambda c: landscape.loss_on_plane(c.soft, c.W, c.d1, c.d2.astype(np.float32)), TypeError, "d2"),
    ("plane betas", lambda c: landscape.loss_on_plane(c.soft, c.W, c.d1, c.d2, None, [[0.0]]), ValueError, "betas"),
    ("breakpoints softmax", lambda c: landscape.svm_line_breakpoints(c.soft, c.W, c.d1), TypeError, "SVMLoss"),
    ("breakpoints d", lambda c: landscape.svm_line_breakpoints(c.svm, c.W, "d"), TypeError, "direction"),
    ("minimum bounds order", lambda c: landscape.exact_line_minimum(c.svm, c.W, c.d1, (1, 0)), ValueError, "bounds"),
    ("minimum bounds nan", lambda c: landscape.exact_line_minimum(c.svm, c.W, c.d1, (0, np.nan)), ValueError, "bounds"),
    ("minimum bounds str", lambda c: landscape.exact_line_minimum(c.svm, c.W, c.d1, "wide"), TypeError, "bounds"),
    ("minimum bounds item", lambda c: landscape.exact_line_minimum(c.svm, c.W, c.d1, (0, "1")), TypeError, "bounds"),
    ("search max_step", lambda c: landscape.exact_line_search(c.svm, c.W, c.d1, max_step=0), ValueError, "max_step"),
    ("search dW.T", lambda c: landscape.exact_line_search(c.svm, c.W, c.d1.T), ValueError, r"dW\.T"),
    ("search softmax", lambda c: landscape.exact_line_search(c.soft, c.W, c.d1), TypeError, "SVMLoss"),
    (
        "project weights.T",
        lambda c: landscape.project_onto_plane([c.W.T], c.W, c.d1, c.d2),
        ValueError,
        r"weights\[0\]",
    ),
    ("project one W", lambda c: landscape.project_onto_plane(c.W, c.W, c.d1, c.d2), TypeError, "weights"),
    ("project parallel", lambda c: landscape.project_onto_plane([c.W], c.W, c.d1, 2 * c.d1), ValueError, "parallel"),
    ("auto_span W.T", lambda c: landscape.auto_span(c.svm, c.W.T, c.d1), ValueError, r"use W\.T"),
    ("auto_span d", lambda c: landscape.auto_span(c.svm, c.W, c.d1[:1]), ValueError, "d must have W's shape"),
    ("auto_span loss", lambda c: landscape.auto_span(c.f, c.W, c.d1), TypeError, "loss"),
    ("descent_path loss", lambda c: landscape.descent_path(c.f, c.W), TypeError, "loss"),
    ("descent_path W0.T", lambda c: landscape.descent_path(c.svm, c.W.T), ValueError, r"use W\.T"),
    ("descent_path steps", lambda c: landscape.descent_path(c.svm, c.W, num_steps=-1), ValueError, "num_steps"),
    ("descent_path steps str", lambda c: landscape.descent_path(c.soft, c.W, "3"), TypeError, "num_steps"),
)


@pytest.mark.parametrize("call, error, match", LANDSCAPE)
def test_landscape_functions_refuse_before_working(ctx, call, error, match):
    refused(ctx, call, error, match)


def figure(c, **bad):
    """plot_notes_figure with one bad argument, writing (if it ever did) into a folder not yet made."""
    arguments = dict(seed=c.gen, examples=10, line_points=5, plane_points=5, path=c.new / "notes.png")
    arguments.update(bad)
    return landscape.plot_notes_figure(c.svm, c.W, **arguments)


FIGURE = cases(
    ("path folder", lambda c: figure(c, path=str(c.new) + os.sep), ValueError, "path must be a file path"),
    ("path existing folder", lambda c: figure(c, path=c.tmp), ValueError, "path must be a file path"),
    ("path int", lambda c: figure(c, path=3), TypeError, "path must be a path"),
    ("path under a file", lambda c: figure(c, path=c.tmp / "file" / "x.png"), ValueError, "path"),
    ("cmap unknown", lambda c: figure(c, cmap="nope"), ValueError, "cmap must name a matplotlib colormap"),
    ("cmap case", lambda c: figure(c, cmap="Viridis"), ValueError, "did you mean 'viridis'"),
    ("cmap int", lambda c: figure(c, cmap=3), TypeError, "cmap"),
    ("trajectory W.T", lambda c: figure(c, trajectory=[c.W, c.W.T]), ValueError, r"trajectory\[1\]"),
    ("trajectory one W", lambda c: figure(c, trajectory=c.W), TypeError, "trajectory"),
    ("trajectory empty", lambda c: figure(c, trajectory=[]), ValueError, "trajectory must not be empty"),
    ("trajectory str", lambda c: figure(c, trajectory="path"), TypeError, "trajectory"),
    ("trajectory nan", lambda c: figure(c, trajectory=[c.W * np.nan]), ValueError, "finite"),
    ("span", lambda c: figure(c, span=0.0), ValueError, "span"),
    ("example", lambda c: figure(c, example=N), ValueError, "example"),
    ("examples", lambda c: figure(c, examples=0), ValueError, "examples"),
    ("line_points", lambda c: figure(c, line_points=1), ValueError, "line_points"),
    ("plane_points", lambda c: figure(c, plane_points="5"), TypeError, "plane_points"),
    ("normalize", lambda c: figure(c, normalize="rows"), ValueError, "normalize"),
    ("seed", lambda c: figure(c, seed=-1), ValueError, "seed"),
    ("reg", lambda c: figure(c, reg=-1.0), ValueError, "reg"),
    ("W.T", lambda c: landscape.plot_notes_figure(c.svm, c.W.T, path=c.new / "a.png"), ValueError, r"use W\.T"),
    ("loss", lambda c: landscape.plot_notes_figure(c.f, c.W, path=c.new / "a.png"), TypeError, "loss"),
)


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="needs matplotlib")
@pytest.mark.parametrize("call, error, match", FIGURE)
def test_plot_notes_figure_refuses_before_any_kernel_or_file(ctx, call, error, match):
    refused(ctx, call, error, match)


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="needs matplotlib")
@pytest.mark.parametrize(
    "bad, error, match",
    [
        (dict(path="sub/"), ValueError, "path must be a file path"),
        (dict(cmap="nope"), ValueError, "cmap"),
        (dict(levels="12"), TypeError, "levels"),
        (dict(levels=-1), ValueError, "levels"),
        (dict(title=3), TypeError, "title"),
        (dict(ax="axes"), TypeError, "ax must be"),
        (dict(trajectory=[np.zeros((D, C))]), ValueError, r"trajectory\[0\]"),
    ],
    ids=["path", "cmap", "levels str", "levels negative", "title", "ax", "trajectory"],
)
def test_slice_plots_refuse_before_drawing_or_writing(ctx, bad, error, match):
    plane = landscape.loss_on_plane(ctx.svm, ctx.W, ctx.d1, ctx.d2, [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0])
    line = landscape.loss_along_line(ctx.svm, ctx.W, ctx.d1, [-1.0, 0.0, 1.0])
    arguments = dict(path=ctx.new / "plane.png")
    arguments.update(bad)
    refused(ctx, lambda c: plane.plot(**arguments), error, match)
    if set(bad) <= {"path", "title", "ax"}:
        refused(ctx, lambda c: line.plot(**arguments), error, match)


# --------------------------------------------------------------------------------- optimize


def descent(c, function, **bad):
    """A descent call with one bad argument; its checkpoint (if ever written) goes into a new folder."""
    arguments = dict(checkpoint=c.new / "run.npz", seed=c.gen)
    arguments.update(bad)
    if function == "gradient_descent":
        W0 = arguments.pop("W0", c.W)
        step, iters = arguments.pop("step_size", 1e-3), arguments.pop("num_iters", 3)
        return optimize.gradient_descent(c.svm, W0, step, iters, **arguments)
    if function == "sgd":
        arguments.setdefault("num_iters", 3)
        return optimize.sgd(c.soft, **arguments)
    if function == "train_linear_classifier":
        X, y = arguments.pop("X", c.X), arguments.pop("y", c.y)
        arguments.setdefault("num_iters", 3)
        arguments.setdefault("batch_size", 8)
        return optimize.train_linear_classifier(X, y, backend=arguments.pop("backend", c.backend), **arguments)
    arguments.setdefault("num_iters", 3)
    arguments.setdefault("batch_size", 8)
    return optimize.minibatch_gd(c.svm, **arguments)


DESCENT_FUNCTIONS = ("gradient_descent", "minibatch_gd", "sgd", "train_linear_classifier")
BAD_DESCENT = [  # refused the same way by every descent function
    ("step_size", dict(step_size=0.0), ValueError, "step_size"),
    ("num_iters", dict(num_iters=0), ValueError, "num_iters"),
    ("seed", dict(seed=-1), ValueError, "seed"),
    ("seed str", dict(seed="1"), TypeError, "seed"),
    ("update", dict(update="rmsprop"), ValueError, "update"),
    ("momentum", dict(momentum=1.0), ValueError, "momentum"),
    ("beta2", dict(beta2=-0.1), ValueError, "beta2"),
    ("eps", dict(eps=0.0), ValueError, "eps"),
    ("lr_decay kind", dict(lr_decay=("cosine", 1)), ValueError, "lr_decay"),
    ("lr_decay type", dict(lr_decay=0.5), TypeError, "lr_decay"),
    ("X_val alone", lambda c: dict(X_val=c.X), ValueError, "X_val and y_val"),
    ("X_val rows", lambda c: dict(X_val=c.X.T, y_val=c.y), ValueError, r"use X_val\.T"),
    ("y_val float", lambda c: dict(X_val=c.X, y_val=c.y * 1.0), TypeError, r"astype\(np\.int64\)"),
    ("early_stopping alone", dict(early_stopping=2), ValueError, "early_stopping"),
    ("eval_every", dict(eval_every=0), ValueError, "eval_every"),
    ("checkpoint folder", lambda c: dict(checkpoint=str(c.new) + os.sep), ValueError, "checkpoint must be a file"),
    ("checkpoint existing folder", lambda c: dict(checkpoint=c.tmp), ValueError, "checkpoint must be a file"),
    ("checkpoint int", dict(checkpoint=3), TypeError, "checkpoint must be a path"),
    ("checkpoint under a file", lambda c: dict(checkpoint=c.tmp / "file" / "x.npz"), ValueError, "checkpoint"),
    ("checkpoint_every", dict(checkpoint_every=0), ValueError, "checkpoint_every"),
    ("resume missing", lambda c: dict(resume=c.tmp / "missing.npz"), ValueError, "does not exist"),
    ("resume int", dict(resume=3), TypeError, "resume"),
    ("callback", dict(callback=3), TypeError, "callback"),
    ("progress", dict(progress="yes"), TypeError, "progress"),
    ("verbose", dict(verbose=1), TypeError, "verbose"),
    ("verbose_every", dict(verbose_every=0), ValueError, "verbose_every"),
    ("backend", dict(backend="gpu"), ValueError, "backend"),
    ("tol", dict(tol=-1.0), ValueError, "tol"),
]


@pytest.mark.parametrize("function", DESCENT_FUNCTIONS)
@pytest.mark.parametrize("name, bad, error, match", BAD_DESCENT, ids=[r[0] for r in BAD_DESCENT])
def test_descent_functions_refuse_before_any_step_or_folder(ctx, function, name, bad, error, match):
    arguments = bad(ctx) if callable(bad) else dict(bad)
    if function == "train_linear_classifier" and "step_size" in arguments:
        arguments, match = {"learning_rate": arguments["step_size"]}, "learning_rate"
    elif function != "gradient_descent" and "tol" in arguments:  # gradient_descent's alone
        error, match = TypeError, "tol"
    refused(ctx, lambda c: descent(c, function, **arguments), error, match)


OPTIMIZE = cases(
    ("mb batch_size", lambda c: descent(c, "minibatch_gd", batch_size=N + 1), ValueError, "batch_size must be <="),
    ("mb sampling", lambda c: descent(c, "minibatch_gd", sampling="shuffle"), ValueError, "sampling"),
    ("mb iters and epochs", lambda c: descent(c, "minibatch_gd", num_epochs=2), ValueError, "num_iters or num_epochs"),
    ("mb W0.T", lambda c: descent(c, "minibatch_gd", W0=c.W.T), ValueError, r"use W0\.T"),
    ("mb W0 float32", lambda c: descent(c, "minibatch_gd", W0=c.W.astype(np.float32)), TypeError, "W0"),
    ("mb shape", lambda c: descent(c, "minibatch_gd", shape=(C, D + 1)), ValueError, "shape"),
    ("mb init_scale", lambda c: descent(c, "minibatch_gd", init_scale=0), ValueError, "init_scale"),
    ("mb loss", lambda c: optimize.minibatch_gd(c.f, num_iters=2), TypeError, "loss must be an SVMLoss"),
    ("sgd batch_size", lambda c: descent(c, "sgd", batch_size=2), TypeError, "batch_size"),
    ("gd W0 str", lambda c: descent(c, "gradient_descent", W0="W"), TypeError, "W0"),
    ("tlc loss", lambda c: descent(c, "train_linear_classifier", loss="hinge"), ValueError, "loss must be one of"),
    ("tlc num_classes", lambda c: descent(c, "train_linear_classifier", num_classes=1), ValueError, "num_classes"),
    ("tlc W0", lambda c: descent(c, "train_linear_classifier", W0=c.W), TypeError, "unexpected keyword"),
    ("tlc X uint8", lambda c: descent(c, "train_linear_classifier", X=c.pixels), TypeError, "divide by 255"),
    ("tlc y float", lambda c: descent(c, "train_linear_classifier", y=c.y * 1.0), TypeError, r"astype\(np\.int64"),
    ("tlc delta", lambda c: descent(c, "train_linear_classifier", delta=-1.0), ValueError, "delta"),
    ("random_search tries", lambda c: optimize.random_search(c.svm, num_tries=0), ValueError, "num_tries"),
    ("random_search scale", lambda c: optimize.random_search(c.svm, scale=-1.0), ValueError, "scale"),
    ("random_search seed", lambda c: optimize.random_search(c.svm, seed=-1), ValueError, "seed"),
    ("random_search block", lambda c: optimize.random_search(c.svm, seed=c.gen, block=0), ValueError, "block"),
    ("random_search callback", lambda c: optimize.random_search(c.svm, seed=c.gen, callback=1), TypeError, "callback"),
    ("random_search progress", lambda c: optimize.random_search(c.svm, seed=c.gen, progress=0), TypeError, "progress"),
    ("random_search verbose", lambda c: optimize.random_search(c.svm, seed=c.gen, verbose=0), TypeError, "verbose"),
    (
        "random_search backend",
        lambda c: optimize.random_search(c.svm, seed=c.gen, backend="gpu"),
        ValueError,
        "backend",
    ),
    ("random_search shape", lambda c: optimize.random_search(c.svm, (C, D + 1), seed=c.gen), ValueError, "shape"),
    ("random_search f no shape", lambda c: optimize.random_search(c.f, seed=c.gen), ValueError, "shape"),
    ("random_search f tries", lambda c: optimize.random_search(c.f, (2, 2), num_tries=-1), ValueError, "num_tries"),
    ("random_search loss", lambda c: optimize.random_search(3, (2, 2)), TypeError, "loss must be"),
    ("local W0.T", lambda c: optimize.random_local_search(c.svm, c.W.T, seed=c.gen), ValueError, r"use W0\.T"),
    ("local step", lambda c: optimize.random_local_search(c.svm, c.W, 0.0, seed=c.gen), ValueError, "step_size"),
    ("local iters", lambda c: optimize.random_local_search(c.svm, c.W, num_iters=0), ValueError, "num_iters"),
    ("local init_scale", lambda c: optimize.random_local_search(c.svm, init_scale=0), ValueError, "init_scale"),
    ("local seed", lambda c: optimize.random_local_search(c.svm, c.W, seed=1.5), TypeError, "seed"),
    ("local block", lambda c: optimize.random_local_search(c.svm, seed=c.gen, block=0), ValueError, "block"),
    ("local shape vs W0", lambda c: optimize.random_local_search(c.svm, c.W, shape=(4, D)), ValueError, "shape"),
    ("local backend", lambda c: optimize.random_local_search(c.svm, seed=c.gen, backend=0), TypeError, "backend"),
    ("local callback", lambda c: optimize.random_local_search(c.f, np.zeros((2, 2)), callback=2), TypeError, "callb"),
    ("local f verbose", lambda c: optimize.random_local_search(c.f, np.zeros((2, 2)), verbose=2), TypeError, "verbo"),
    ("sweep exponents 400", lambda c: optimize.step_size_sweep(c.svm, c.W, exponents=[-3, 400]), ValueError, "expo"),
    ("sweep exponents str", lambda c: optimize.step_size_sweep(c.svm, c.W, exponents="-3"), TypeError, "exponents"),
    ("sweep exponents item", lambda c: optimize.step_size_sweep(c.svm, c.W, exponents=["-3"]), TypeError, "exponents"),
    ("sweep exponents empty", lambda c: optimize.step_size_sweep(c.svm, c.W, exponents=[]), ValueError, "exponents"),
    ("sweep exponents nan", lambda c: optimize.step_size_sweep(c.svm, c.W, exponents=[np.nan]), ValueError, "expon"),
    ("sweep dW.T", lambda c: optimize.step_size_sweep(c.svm, c.W, c.W.T), ValueError, "dW"),
    ("sweep dW dtype", lambda c: optimize.step_size_sweep(c.svm, c.W, c.W.astype(np.float32)), TypeError, "dW"),
    ("sweep W.T", lambda c: optimize.step_size_sweep(c.svm, c.W.T), ValueError, r"use W\.T"),
    ("sweep verbose", lambda c: optimize.step_size_sweep(c.svm, c.W, verbose="yes"), TypeError, "verbose"),
    ("sweep backend", lambda c: optimize.step_size_sweep(c.svm, c.W, backend="gpu"), ValueError, "backend"),
    ("sweep f no dW", lambda c: optimize.step_size_sweep(c.f, c.W), ValueError, "dW must be given"),
    ("sweep f exponents", lambda c: optimize.step_size_sweep(c.f, c.W, c.W, exponents=[309]), ValueError, "expo"),
    ("tune rates", lambda c: optimize.tune(c.svm, [], [0.0], seed=c.gen), ValueError, "learning_rates"),
    ("tune rates str", lambda c: optimize.tune(c.svm, "1e-3", [0.0], seed=c.gen), TypeError, "learning_rates"),
    ("tune regs", lambda c: optimize.tune(c.svm, [1e-3], [-1.0], seed=c.gen), ValueError, "regs"),
    ("tune iters", lambda c: optimize.tune(c.svm, [1e-3], [0.0], seed=c.gen, num_iters=0), ValueError, "num_iters"),
    (
        "tune batch",
        lambda c: optimize.tune(c.svm, [1e-3], [0.0], seed=c.gen, batch_size=N + 1),
        ValueError,
        "batch_size",
    ),
    (
        "tune init_scale",
        lambda c: optimize.tune(c.svm, [1e-3], [0.0], seed=c.gen, init_scale=0),
        ValueError,
        "init_scale",
    ),
    ("tune n_jobs", lambda c: optimize.tune(c.svm, [1e-3], [0.0], seed=c.gen, n_jobs=0), ValueError, "n_jobs"),
    ("tune seed", lambda c: optimize.tune(c.svm, [1e-3], [0.0], seed=-1), ValueError, "seed"),
    ("tune progress", lambda c: optimize.tune(c.svm, [1e-3], [0.0], seed=c.gen, progress="y"), TypeError, "progress"),
    ("tune verbose", lambda c: optimize.tune(c.svm, [1e-3], [0.0], seed=c.gen, verbose="y"), TypeError, "verbose"),
    (
        "tune X_val dtype",
        lambda c: optimize.tune(c.svm, [1], [0], seed=c.gen, X_val=c.X.astype(np.float32), y_val=c.y),
        TypeError,
        "X_val",
    ),
    (
        "tune y_val float",
        lambda c: optimize.tune(c.svm, [1], [0], seed=c.gen, X_val=c.X, y_val=c.y * 1.0),
        TypeError,
        "int64",
    ),
    ("tune loss", lambda c: optimize.tune(c.f, [1e-3], [0.0]), TypeError, "loss"),
    ("DescentConfig", lambda c: optimize.DescentConfig(step_size=-1.0), ValueError, "step_size"),
    ("DescentConfig backend", lambda c: optimize.DescentConfig(backend="gpu"), ValueError, "backend"),
    ("DescentConfig checkpoint", lambda c: optimize.DescentConfig(checkpoint="sub/"), ValueError, "checkpoint"),
)


@pytest.mark.parametrize("call, error, match", OPTIMIZE)
def test_optimize_functions_refuse_before_working(ctx, call, error, match):
    refused(ctx, call, error, match)


# --------------------------------------------------------------------------------- cs231n

CS231N_LOSSES = (svm_loss_naive, svm_loss_vectorized, softmax_loss_naive, cs231n.softmax_loss_vectorized)
BAD_ASSIGNMENT = [  # W (D, C), X (N, D) in the assignment's layout
    ("W in steepest's layout", lambda c: (c.W, c.X.T, c.y, 0.1), ValueError, r"pass W\.T"),
    ("X as columns", lambda c: (c.W.T, c.X, c.y, 0.1), ValueError, r"X\.T"),
    ("X uint8", lambda c: (c.W.T, c.pixels.T, c.y, 0.1), TypeError, "divide by 255"),
    ("y float", lambda c: (c.W.T, c.X.T, c.y * 1.0, 0.1), TypeError, r"astype\(np\.int64\)"),
    ("y negative", lambda c: (c.W.T, c.X.T, -1 - c.y, 0.1), ValueError, "y must hold labels"),
    ("reg str", lambda c: (c.W.T, c.X.T, c.y, "0.1"), TypeError, "reg"),
    ("W str", lambda c: ("W", c.X.T, c.y, 0.1), TypeError, "W must be"),
]


@pytest.mark.parametrize("function", CS231N_LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("name, arguments, error, match", BAD_ASSIGNMENT, ids=[r[0] for r in BAD_ASSIGNMENT])
def test_cs231n_losses_refuse_before_working(ctx, function, name, arguments, error, match):
    refused(ctx, lambda c: function(*arguments(c)), error, match)


def train(c, cls=LinearSVM, **bad):
    arguments = dict(X=c.X.T, y=c.y, num_iters=3, batch_size=8)
    arguments.update(bad)
    return cls().train(**arguments)


def exact_f(c):
    return cs231n.loss_function(svm_loss_naive, c.X.T, c.y, 0.0)


CS231N = cases(
    ("train learning_rate", lambda c: train(c, learning_rate="1e-3"), TypeError, "learning_rate"),
    ("train reg", lambda c: train(c, Softmax, reg=-1.0), ValueError, "reg"),
    ("train num_iters", lambda c: train(c, num_iters=-1), ValueError, "num_iters"),
    ("train batch_size", lambda c: train(c, batch_size=0), ValueError, "batch_size"),
    ("train verbose", lambda c: train(c, verbose="yes"), TypeError, "verbose"),
    ("train X columns", lambda c: train(c, X=c.X), ValueError, "y must have one label per row"),
    ("train X uint8", lambda c: train(c, X=c.pixels.T), TypeError, "divide by 255"),
    ("train y float", lambda c: train(c, y=c.y * 1.0), TypeError, r"astype\(np\.int64\)"),
    ("train one class", lambda c: train(c, y=0 * c.y), ValueError, "at least 2 classes"),
    ("train float32 new W", lambda c: train(c, X=c.X.T.astype(np.float32)), TypeError, "float64"),
    ("predict untrained", lambda c: LinearSVM().predict(c.X.T), ValueError, "call train"),
    ("base class loss", lambda c: train(c, cs231n.LinearClassifier), NotImplementedError, "overridden"),
    ("eng verbose", lambda c: cs231n.eval_numerical_gradient(c.f, c.x, verbose="no"), TypeError, "verbose"),
    ("eng h", lambda c: cs231n.eval_numerical_gradient(c.f, c.x, h=0), ValueError, "h"),
    ("eng x str", lambda c: cs231n.eval_numerical_gradient(c.f, "x", False), TypeError, "x must be"),
    ("eng readonly", lambda c: cs231n.eval_numerical_gradient(c.f, c.readonly, False), ValueError, "writeable"),
    ("eng not callable", lambda c: cs231n.eval_numerical_gradient(3, c.x, False), TypeError, "f must be callable"),
    ("eng exact x.T", lambda c: cs231n.eval_numerical_gradient(exact_f(c), c.W, False), ValueError, r"pass x\.T"),
    ("enga df", lambda c: cs231n.eval_numerical_gradient_array(c.f, c.x, "df"), TypeError, "df must be"),
    ("enga h", lambda c: cs231n.eval_numerical_gradient_array(c.f, c.x, c.x, h=-1.0), ValueError, "h"),
    ("gcs shape", lambda c: cs231n.grad_check_sparse(c.f, c.x, c.x[:2]), ValueError, "analytic_grad"),
    ("gcs num_checks", lambda c: cs231n.grad_check_sparse(c.f, c.x, c.x, num_checks=-1), ValueError, "num_checks"),
    ("gcs h", lambda c: cs231n.grad_check_sparse(c.f, c.x, c.x, h="1e-5"), TypeError, "h"),
    ("gcs exact shape", lambda c: cs231n.grad_check_sparse(exact_f(c), c.W.T, c.W), ValueError, "analytic_grad"),
    ("loss_function fn", lambda c: cs231n.loss_function(3, c.X.T, c.y, 0.0), TypeError, "loss_fn"),
    ("loss_function y", lambda c: cs231n.loss_function(svm_loss_naive, c.X.T, c.y * 1.0, 0.0), TypeError, "int64"),
    ("loss_function reg", lambda c: cs231n.loss_function(svm_loss_naive, c.X.T, c.y, None), TypeError, "reg"),
    ("load_CIFAR10 root", lambda c: cs231n.load_CIFAR10(3), TypeError, "ROOT"),
    ("load_CIFAR_batch file", lambda c: cs231n.data_utils.load_CIFAR_batch(None), TypeError, "filename"),
)


@pytest.mark.parametrize("call, error, match", CS231N)
def test_cs231n_functions_refuse_before_working(ctx, call, error, match):
    refused(ctx, call, error, match)


def test_a_kept_W_is_left_alone_by_a_refused_train(ctx):
    model = LinearSVM()
    model.train(ctx.X.T, ctx.y, num_iters=2, batch_size=8)
    kept = model.W.copy()
    refused(ctx, lambda c: model.train(c.X.T, c.y, learning_rate=float("inf")), ValueError, "learning_rate")
    refused(ctx, lambda c: model.train(c.X[:-1].T, c.y, num_iters=1), ValueError, r"W must be \(D, C\)|W.shape")
    assert np.array_equal(model.W, kept)


# --------------------------------------------------------------------------------- the command line


@pytest.mark.parametrize(
    "argv",
    [
        ["landscape", "--data", "nosuchset", "--out", "{new}"],
        ["landscape", "--data", "synthetic:60", "--points", "2", "--out", "{new}"],
        ["landscape", "--data", "synthetic:60", "--reg", "-1", "--out", "{new}"],
        ["landscape", "--data", "synthetic:60", "--backend", "gpu", "--out", "{new}"],
        ["landscape", "--data", "synthetic:60", "--out", "{file}/sub"],
        ["check", "--data", "synthetic:60", "--h", "0"],
        ["check", "--data", "synthetic:60", "--reg", "-1"],
        ["check", "--data", "synthetic:60", "--sample", "0"],
        ["check", "--data", "synthetic:60", "--seed", "-1"],
        ["check", "--data", "synthetic:60", "--backend", "gpu"],
        ["tour", "--data", "nosuchset", "--out", "{new}"],
        ["tour", "--data", "synthetic:60", "--tries", "0", "--out", "{new}"],
        ["tour", "--data", "synthetic:60", "--seed", "-1", "--out", "{new}"],
        ["tour", "--data", "synthetic:60", "--backend", "gpu", "--out", "{new}"],
    ],
    ids=lambda argv: " ".join(argv[:1] + argv[3:5]),
)
def test_commands_refuse_before_loading_or_writing(ctx, argv, capsys):
    argv = [a.format(new=ctx.new, file=ctx.tmp / "file") for a in argv]
    before = tree(ctx.tmp)
    with counting_kernels() as calls:
        assert cli_main(argv) == 2
    assert "error:" in capsys.readouterr().err
    assert calls.total == 0
    assert tree(ctx.tmp) == before


def test_result_methods_refuse_bad_arguments(ctx):
    fd = steepest.numerical_gradient(ctx.svm, ctx.W)
    refused(ctx, lambda c: fd.gradient("backward"), ValueError, "method must be one of")
    check = steepest.grad_check(ctx.svm, ctx.W)
    refused(ctx, lambda c: check.worst("5"), TypeError, "k must be an int")


@pytest.mark.parametrize("returned", ["1.0", None, np.ones(2), True])
def test_a_function_returning_no_number_is_named(returned):
    with pytest.raises(TypeError, match=r"f \(at x\) must return a real number; it returned"):
        steepest.eval_numerical_gradient(lambda v: returned, np.zeros(3))
    with pytest.raises(TypeError, match="loss must return a real number"):
        optimize.random_search(lambda W: returned, (2, 2), num_tries=2, seed=0)
    with pytest.raises(TypeError, match="loss must return a real number"):
        optimize.step_size_sweep(lambda W: returned, np.ones((2, 2)), np.ones((2, 2)))
