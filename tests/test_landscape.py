"""Loss landscapes: the fast path against point-by-point reference evaluation, the exact SVM line
minimum against dense grids and a brute-force search, plots (Agg) and their pixels, bad input."""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest

import steepest
from steepest import landscape, reference
from steepest.landscape import (
    centered_grid,
    exact_line_minimum,
    exact_line_search,
    loss_along_line,
    loss_on_plane,
    project_onto_plane,
    random_direction,
    svm_line_breakpoints,
)

from conftest import make_problem

REG = 0.05


def make_loss(kind, X, y, reg=REG, backend=None):
    cls = steepest.SVMLoss if kind == "svm" else steepest.SoftmaxLoss
    return cls(X, y, reg=reg, backend=backend)


def ref_loss(kind, W, X, y, reg=REG):
    if kind == "svm":
        return reference.svm_loss_vectorized(W, X, y, reg)[0]
    return reference.softmax_loss_vectorized(W, X, y, reg)[0]


SUBSETS = {
    "one": np.array([3]),
    "hundred": np.arange(100),
    "repeats": np.array([5, 5, 17, 0, 299, 17]),
    "all": None,
}


# --------------------------------------------------------------------------------------------------
# fast path == point by point (reference losses, float64, 1e-12 relative)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["svm", "softmax"])
@pytest.mark.parametrize("subset", list(SUBSETS))
@pytest.mark.parametrize("order", ["C", "F"])
def test_line_equals_point_by_point(backend, kind, subset, order):
    W, X, y = make_problem(C=6, D=9, N=300, seed=1, order=order, scale=0.3)
    idx = SUBSETS[subset]
    loss = make_loss(kind, X, y, backend=backend)
    if idx is not None:
        loss = loss.subset(idx)
    Xs, ys = (X, y) if idx is None else (X[:, idx], y[idx])
    d = random_direction(W, seed=7)
    W_before, d_before = W.copy(), d.copy()
    alphas = np.linspace(-2.0, 1.5, 37)
    sl = loss_along_line(loss, W, d, alphas)
    expected = np.array([ref_loss(kind, W + a * d, Xs, ys) for a in alphas])
    np.testing.assert_allclose(sl.losses, expected, rtol=1e-12, atol=0)
    assert sl.losses.shape == alphas.shape and sl.n_examples == len(ys)
    np.testing.assert_array_equal(W, W_before)  # W and the direction are never modified
    np.testing.assert_array_equal(d, d_before)
    assert not sl.losses.flags.writeable
    assert (sl.minimum is None) == (kind == "softmax")


@pytest.mark.parametrize("kind", ["svm", "softmax"])
@pytest.mark.parametrize("subset", ["one", "hundred", "all"])
def test_plane_equals_point_by_point(backend, kind, subset):
    W, X, y = make_problem(C=5, D=8, N=300, seed=2, scale=0.3)
    idx = SUBSETS[subset]
    loss = make_loss(kind, X, y, backend=backend)
    if idx is not None:
        loss = loss.subset(idx)
    Xs, ys = (X, y) if idx is None else (X[:, idx], y[idx])
    d1 = random_direction(W, seed=3)
    d2 = random_direction(W, seed=4, normalize="row")
    alphas, betas = np.linspace(-1, 1, 9), np.array([-1.5, -0.2, 0.0, 0.7])
    pl = loss_on_plane(loss, W, d1, d2, alphas, betas)
    assert pl.losses.shape == (9, 4)
    expected = np.array([[ref_loss(kind, W + a * d1 + b * d2, Xs, ys) for b in betas] for a in alphas])
    np.testing.assert_allclose(pl.losses, expected, rtol=1e-12, atol=0)


def test_default_grids_are_centred(backend):
    W, X, y = make_problem(C=4, D=5, N=50, seed=5)
    loss = make_loss("svm", X, y, backend=backend)
    sl = loss_along_line(loss, W, random_direction(W, 0))
    assert len(sl.alphas) == 101 and sl.alphas[0] == -1 and sl.alphas[-1] == 1 and sl.alphas[50] == 0
    assert sl.losses[50] == pytest.approx(loss(W), rel=1e-12)
    pl = loss_on_plane(loss, W, random_direction(W, 1), random_direction(W, 2))
    assert pl.losses.shape == (51, 51) and pl.losses[25, 25] == pytest.approx(loss(W), rel=1e-12)
    assert "loss on a plane" in str(pl) and "exact minimum" in str(sl)


def test_float32_agrees_to_float32_accuracy(backend):
    W, X, y = make_problem(C=5, D=8, N=200, seed=6, dtype=np.float32, scale=0.3)
    d = random_direction(W, 1)
    assert d.dtype == np.float32
    for kind in ("svm", "softmax"):
        loss = make_loss(kind, X, y, backend=backend)
        sl = loss_along_line(loss, W, d, np.linspace(-1, 1, 11))
        expected = [ref_loss(kind, (W.astype(np.float64) + a * d.astype(np.float64)), X, y) for a in sl.alphas]
        np.testing.assert_allclose(sl.losses, expected, rtol=1e-5)


def test_backends_agree():
    W, X, y = make_problem(C=5, D=8, N=500, seed=8, scale=0.3)
    d1, d2 = random_direction(W, 1), random_direction(W, 2)
    results = [
        loss_on_plane(make_loss("svm", X, y, backend=b), W, d1, d2, np.linspace(-1, 1, 5), np.linspace(-1, 1, 5)).losses
        for b in steepest.backends()
    ]
    for other in results[1:]:
        np.testing.assert_allclose(other, results[0], rtol=1e-12)


# --------------------------------------------------------------------------------------------------
# directions
# --------------------------------------------------------------------------------------------------


def test_random_direction():
    W, _, _ = make_problem(C=4, D=6, seed=0)
    a = random_direction(W, seed=3)
    np.testing.assert_array_equal(a, random_direction((4, 6), seed=3))
    np.testing.assert_array_equal(a, np.random.default_rng(3).standard_normal((4, 6)))
    assert abs(random_direction((200, 500), seed=1).mean()) < 0.01  # zero mean (not uniform [0, 1))
    r = random_direction(W, seed=3, normalize="row")
    np.testing.assert_allclose(np.linalg.norm(r, axis=1), np.linalg.norm(W, axis=1), rtol=1e-12)
    W0 = W.copy()
    W0[1] = 0.0
    assert not np.any(random_direction(W0, seed=1, normalize="row")[1])
    assert random_direction(W.astype(np.float32), 0).dtype == np.float32
    assert random_direction((2, 3), 0, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="pass W"):
        random_direction((4, 6), 0, normalize="row")
    with pytest.raises(ValueError, match="normalize"):
        random_direction(W, 0, normalize="layer")
    with pytest.raises(ValueError, match="all zeros"):
        random_direction(np.zeros((3, 4)), 0, normalize="row")
    with pytest.raises(TypeError, match="shape_or_W"):
        random_direction("W", 0)
    with pytest.raises(TypeError, match="seed"):
        random_direction(W, 1.5)
    with pytest.raises(ValueError, match="shape_or_W"):
        random_direction((3, 0), 0)
    with pytest.raises(TypeError, match="dtype"):
        random_direction((3, 2), 0, dtype=np.int64)


# --------------------------------------------------------------------------------------------------
# the SVM along a line, exactly
# --------------------------------------------------------------------------------------------------


def brute_force_minimum(W, X, y, d, reg, delta=1.0):
    """Minimum of the reference loss over the kinks (found by scanning every hinge term) and, with
    reg > 0, the vertex of the quadratic fitted through three reference values inside each piece."""
    S0, S1 = W @ X, d @ X
    kinks = []
    for i in range(X.shape[1]):
        for j in range(W.shape[0]):
            if j == y[i]:
                continue
            m0 = S0[j, i] - S0[y[i], i] + delta
            m1 = S1[j, i] - S1[y[i], i]
            if m1 != 0:
                kinks.append(-m0 / m1)
    kinks = np.unique(kinks)
    f = lambda a: reference.svm_loss_vectorized(W + a * d, X, y, reg)[0]  # noqa: E731
    candidates = list(kinks)
    if reg > 0:
        edges = np.concatenate(([kinks[0] - 10.0], kinks, [kinks[-1] + 10.0]))
        for lo, hi in zip(edges[:-1], edges[1:]):
            xs = np.array([lo, (lo + hi) / 2, hi])
            c2, c1, _ = np.polyfit(xs - lo, [f(x) for x in xs], 2)
            if c2 > 0:
                v = lo - c1 / (2 * c2)
                if lo < v < hi:
                    candidates.append(v)
        candidates.append(-np.vdot(W, d) / np.vdot(d, d))  # the outer pieces
    values = [f(a) for a in candidates]
    return float(min(values)), kinks


@pytest.mark.parametrize("reg", [0.0, 0.02, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_minimum_matches_brute_force(backend, reg, seed):
    W, X, y = make_problem(C=4, D=5, N=12, seed=seed, scale=0.5)
    d = random_direction(W, seed + 10)
    loss = steepest.SVMLoss(X, y, reg=reg, backend=backend)
    best, kinks = brute_force_minimum(W, X, y, d, reg)
    m = exact_line_minimum(loss, W, d)
    assert m.loss == pytest.approx(best, rel=1e-12, abs=1e-14)
    assert m.loss == pytest.approx(ref_loss("svm", W + m.alpha * d, X, y, reg), rel=1e-12)
    assert m.n_breakpoints == X.shape[1] * (W.shape[0] - 1)
    np.testing.assert_allclose(svm_line_breakpoints(loss, W, d), kinks, rtol=1e-12)
    assert m.loss_at_zero == pytest.approx(loss(W), rel=1e-12)


@pytest.mark.parametrize("reg", [0.0, 0.1])
@pytest.mark.parametrize("subset", ["one", "hundred", "all"])
def test_exact_minimum_not_above_dense_grid(backend, reg, subset):
    W, X, y = make_problem(C=6, D=9, N=300, seed=3, scale=0.3)
    loss = steepest.SVMLoss(X, y, reg=reg, backend=backend)
    if SUBSETS[subset] is not None:
        loss = loss.subset(SUBSETS[subset])
    d = random_direction(W, 4)
    m = exact_line_minimum(loss, W, d)
    grid = loss_along_line(loss, W, d, np.linspace(-3, 3, 6001))
    assert m.loss <= grid.losses.min() * (1 + 1e-12)
    assert m.loss <= m.loss_at_zero
    # the bounded minimum over the grid's range is the slice's own minimum
    assert grid.minimum.loss == pytest.approx(m.loss, rel=1e-12) or not (-3 <= m.alpha <= 3)
    assert np.all(np.diff(grid.breakpoints) > 0) and grid.breakpoints[0] >= -3


def test_exact_minimum_bounds_and_flat_pieces():
    # one example, two classes: L(a) = max(0, m0 + a m1) is zero on a half-line; the minimiser closest to 0
    X = np.array([[1.0], [0.0]])
    y = np.array([0])
    W = np.array([[0.0, 0.0], [0.5, 0.0]])  # m0 = 0.5 - 0 + 1 = 1.5
    d = np.array([[0.0, 0.0], [1.0, 0.0]])  # m1 = 1: kink at -1.5, zero loss for a <= -1.5
    loss = steepest.SVMLoss(X, y)
    m = exact_line_minimum(loss, W, d)
    assert (m.alpha, m.loss, m.loss_at_zero) == (-1.5, 0.0, 1.5)
    assert exact_line_minimum(loss, W, d, bounds=(-1.0, 2.0)).alpha == -1.0
    assert exact_line_minimum(loss, W, d, bounds=(-5.0, -2.0)).alpha == -2.0  # closest to 0 on the flat part
    np.testing.assert_array_equal(svm_line_breakpoints(loss, W, d), [-1.5])
    # a direction that moves no margin: constant loss, minimiser 0
    d0 = np.array([[0.0, 1.0], [0.0, 0.0]])
    m = exact_line_minimum(loss, W, d0)
    assert (m.alpha, m.n_breakpoints) == (0.0, 0)
    assert exact_line_minimum(loss.with_reg(1.0), W, d0).alpha == 0.0  # <W, d0> = 0


def test_exact_line_search_beats_the_notes_sweep(backend):
    W, X, y = make_problem(C=10, D=20, N=400, seed=9, scale=0.01)
    loss = steepest.SVMLoss(X, y, reg=0.01, backend=backend)
    loss0, dW = loss.loss_grad(W)
    ls = exact_line_search(loss, W, dW)
    sweep = [loss(W - 10.0**e * dW) for e in range(-10, 0)]
    assert ls.step > 0 and ls.loss <= min(sweep) * (1 + 1e-12) and ls.loss < loss0
    assert ls.loss == pytest.approx(loss(W - ls.step * dW), rel=1e-12)
    assert ls.bounds == (0.0, float("inf"))
    capped = exact_line_search(loss, W, dW, max_step=ls.step / 10)
    assert capped.step == pytest.approx(ls.step / 10) and capped.loss > ls.loss
    assert "exact SVM line minimum" in str(ls)


def test_exact_minimum_needs_the_svm():
    W, X, y = make_problem(C=3, D=4, N=10)
    with pytest.raises(TypeError, match="SVMLoss"):
        exact_line_minimum(steepest.SoftmaxLoss(X, y), W, random_direction(W, 0))


# --------------------------------------------------------------------------------------------------
# projection of trajectories
# --------------------------------------------------------------------------------------------------


def test_project_onto_plane():
    W, _, _ = make_problem(C=3, D=4, seed=0)
    d1, d2 = random_direction(W, 1), random_direction(W, 2)
    off = random_direction(W, 3)
    points = [W + a * d1 + b * d2 for a, b in [(0, 0), (0.5, -1), (2, 3)]] + [W + 0.3 * d1 + 1e-3 * off]
    a, b, res = project_onto_plane(points, W, d1, d2)
    np.testing.assert_allclose(a[:3], [0, 0.5, 2], atol=1e-12)
    np.testing.assert_allclose(b[:3], [0, -1, 3], atol=1e-12)
    assert np.all(res[:3] < 1e-12) and res[3] > 0
    with pytest.raises(ValueError, match="parallel"):
        project_onto_plane(points, W, d1, 2 * d1)
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        project_onto_plane([W, W[:, :2]], W, d1, d2)
    with pytest.raises(ValueError, match="empty"):
        project_onto_plane([], W, d1, d2)
    with pytest.raises(TypeError, match="sequence"):
        project_onto_plane(W, W, d1, d2)


# --------------------------------------------------------------------------------------------------
# plots (Agg, no pyplot) and their pixels
# --------------------------------------------------------------------------------------------------


def _rgb(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)


def _axes_pixels(fig, ax, img):
    """The image pixels inside ax (rows top to bottom), trimmed by 2 pixels of frame."""
    x0, y0, x1, y1 = ax.get_window_extent().extents
    H = img.shape[0]
    return img[int(H - y1) + 2 : int(H - y0) - 2, int(x0) + 2 : int(x1) - 2]


def bowl(center=(0.0, 0.0)):
    """reg large, data tiny: L ~ reg * ||W + a d1 + b d2||^2, lowest at ``center`` by construction."""
    rng = np.random.default_rng(0)
    C, D = 3, 6
    d1, d2 = rng.standard_normal((C, D)), rng.standard_normal((C, D))
    W = -(center[0] * d1 + center[1] * d2)
    X = rng.standard_normal((D, 20)) * 1e-6
    y = rng.integers(0, C, 20)
    return steepest.SVMLoss(X, y, reg=10.0), W, d1, d2


@pytest.mark.parametrize("center", [(0.0, 0.0), (0.5, -0.3)])
def test_heat_map_minimum_is_blue_where_it_should_be(center):
    pytest.importorskip("matplotlib")
    loss, W, d1, d2 = bowl(center)
    pl = loss_on_plane(loss, W, d1, d2)
    a, b, _ = pl.grid_minimum
    assert abs(a - center[0]) <= 0.04 and abs(b - center[1]) <= 0.04
    fig = pl.plot()
    ax = fig.axes[0]
    px = _axes_pixels(fig, ax, _rgb(fig))[::2, ::2]  # every other pixel is plenty
    # read the colours back as positions on the colormap (0 = dark blue = low, 1 = dark red = high)
    from matplotlib import colormaps

    lut = colormaps["jet"](np.linspace(0, 1, 256))[:, :3] * 255
    dist = np.linalg.norm(px[:, :, None, :] - lut[None, None], axis=-1)
    level, miss = dist.argmin(axis=-1), dist.min(axis=-1)
    on_map = miss < 20  # contour lines and markers are not colormap colours
    lowest = on_map & (level <= level[on_map].min() + 5)
    rows, cols = np.nonzero(lowest)
    h, w = level.shape
    a_pix = -1 + 2 * cols.mean() / (w - 1)  # x: alpha from -1 (left) to 1 (right)
    b_pix = 1 - 2 * rows.mean() / (h - 1)  # y: beta from 1 (top) to -1 (bottom)
    assert abs(a_pix - center[0]) < 0.06 and abs(b_pix - center[1]) < 0.06
    assert level[on_map].min() <= 5  # the lowest colour is the bottom of the colormap (dark blue)
    # the highest colour (dark red) is there too, far from the minimum
    highest = on_map & (level >= level[on_map].max() - 5)
    assert level[on_map].max() >= 250
    rows, cols = np.nonzero(highest)
    far = np.hypot(-1 + 2 * cols / (w - 1) - center[0], 1 - 2 * rows / (h - 1) - center[1])
    assert far.min() > 0.8


def test_plots_render_and_save(tmp_path):
    pytest.importorskip("matplotlib")
    W, X, y = make_problem(C=4, D=6, N=60, seed=1, scale=0.3)
    loss = steepest.SVMLoss(X, y)
    d1, d2 = random_direction(W, 1), random_direction(W, 2)
    sl = loss_along_line(loss.subset([0]), W, d1)
    fig = sl.plot(path=tmp_path / "line.png")
    assert (tmp_path / "line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    line = fig.axes[0].lines[0]
    np.testing.assert_array_equal(line.get_xdata(), sl.alphas)
    np.testing.assert_array_equal(line.get_ydata(), sl.losses)
    pl = loss_on_plane(loss, W, d1, d2, np.linspace(-1, 1, 11), np.linspace(-0.5, 0.5, 7))
    traj = [W + t * (0.5 * d1 - 0.2 * d2) for t in np.linspace(1, 0, 6)]
    fig = pl.plot(path=str(tmp_path / "sub" / "plane.png"), trajectory=traj)
    assert (tmp_path / "sub" / "plane.png").stat().st_size > 1000
    path_line = [l for l in fig.axes[0].lines if len(l.get_xdata()) == 6][0]
    np.testing.assert_allclose(path_line.get_xdata(), np.linspace(0.5, 0, 6), atol=1e-12)
    np.testing.assert_allclose(path_line.get_ydata(), np.linspace(-0.2, 0, 6), atol=1e-12)
    assert not [f for f in os.listdir(tmp_path / "sub") if f.startswith(".steepest-")]  # no temporary left
    # into a caller's axes
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert sl.plot(ax=ax) is fig
    with pytest.raises(TypeError, match="ax"):
        sl.plot(ax="axes")
    with pytest.raises(TypeError, match="path"):
        sl.plot(path=3)


@pytest.mark.parametrize("kind", ["svm", "softmax"])
def test_notes_figure(tmp_path, kind):
    pytest.importorskip("matplotlib")
    W, X, y = make_problem(C=10, D=20, N=300, seed=2, scale=0.001)
    loss = make_loss(kind, X, y)
    traj = [W * (1 - t) for t in np.linspace(0, 1, 4)]
    fig = landscape.plot_notes_figure(
        loss, W, seed=0, path=tmp_path / "notes.png", trajectory=traj, line_points=41, plane_points=21
    )
    assert len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]) == 3
    assert (tmp_path / "notes.png").stat().st_size > 5000
    titles = [ax.get_title() for ax in fig.axes]
    assert any("one example" in t for t in titles) and any("100 examples" in t for t in titles)


def test_plots_need_matplotlib(monkeypatch):
    W, X, y = make_problem(C=3, D=4, N=10)
    sl = loss_along_line(steepest.SVMLoss(X, y), W, random_direction(W, 0))
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install steepest\[plot\]"):
        sl.plot()
    with pytest.raises(ImportError, match=r"steepest\[plot\]"):
        landscape.plot_notes_figure(steepest.SVMLoss(X, y), W)


# --------------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def small():
    W, X, y = make_problem(C=3, D=4, N=10)
    return steepest.SVMLoss(X, y), W, random_direction(W, 0), random_direction(W, 1)


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (None, TypeError, "direction"),
        ("d", TypeError, "direction"),
        ([[1.0] * 4] * 3, TypeError, "direction"),
        (np.ones((3, 4), dtype=np.int64), TypeError, "direction.*float"),
        (np.ones((3, 4), dtype=np.float32), TypeError, "direction.*dtype"),
        (np.ones((3, 4), dtype=np.complex128), TypeError, "direction"),
        ("matrix", TypeError, "direction.*matrix"),
        (np.ones((4, 3)), ValueError, r"direction.*shape.*direction\.T"),
        (np.ones((3, 5)), ValueError, "direction.*shape"),
        (np.ones(12), ValueError, "direction.*2-D"),
        (np.zeros((3, 4)), ValueError, "direction.*all zeros"),
        (np.full((3, 4), np.nan), ValueError, "direction.*finite"),
        (np.full((3, 4), np.inf), ValueError, "direction.*finite"),
        (np.ones((3, 4)).astype(">f8"), TypeError, "direction.*byte order"),
    ],
)
def test_bad_direction(small, bad, exc, match):
    loss, W, d1, _ = small
    if isinstance(bad, str) and bad == "matrix":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            bad = np.matrix(np.ones((3, 4)))
    with pytest.raises(exc, match=match):
        loss_along_line(loss, W, bad)
    with pytest.raises(exc, match=match):
        exact_line_minimum(loss, W, bad)
    with pytest.raises(exc, match=match.replace("direction", "d2")):
        loss_on_plane(loss, W, d1, bad)


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        ([], ValueError, "empty"),
        (np.array([]), ValueError, "empty"),
        ([0.0, np.nan], ValueError, "finite"),
        (np.array([0.0, np.inf]), ValueError, "finite"),
        ([1.0, 0.0], ValueError, "increasing"),
        ([0.0, 0.0], ValueError, "increasing"),
        (np.ones((2, 2)), ValueError, "1-D"),
        (np.array([True, False]), TypeError, "real"),
        (np.array(["a"]), TypeError, "real"),
        (np.array([1j]), TypeError, "real"),
        ([[0.0], [1.0, 2.0]], TypeError, "ragged"),
        ("0:1", TypeError, "array"),
        (5, TypeError, "array"),
    ],
)
def test_bad_grid(small, bad, exc, match):
    loss, W, d1, d2 = small
    with pytest.raises(exc, match="alphas.*" + match if exc is ValueError else "alphas"):
        loss_along_line(loss, W, d1, bad)
    with pytest.raises(exc, match="betas"):
        loss_on_plane(loss, W, d1, d2, None, bad)


def test_bad_loss_W_bounds_and_steps(small):
    loss, W, d1, d2 = small
    with pytest.raises(TypeError, match="loss"):
        loss_along_line(reference.svm_loss_vectorized, W, d1)
    with pytest.raises(TypeError, match="W and X must share a dtype"):
        loss_along_line(loss, W.astype(np.float32), d1.astype(np.float32))
    with pytest.raises(ValueError, match="W.shape"):
        loss_along_line(loss, np.ones((3, 5)), np.ones((3, 5)))
    with pytest.raises(ValueError, match="W must be finite"):
        loss_on_plane(loss, np.full(W.shape, np.nan), d1, d2)
    with pytest.raises(ValueError, match="labels"):
        loss_along_line(loss, W[:2], d1[:2])
    with pytest.raises(ValueError, match="bounds"):
        exact_line_minimum(loss, W, d1, bounds=(1.0, -1.0))
    with pytest.raises(ValueError, match="bounds"):
        exact_line_minimum(loss, W, d1, bounds=(0.0, float("nan")))
    with pytest.raises(TypeError, match="bounds"):
        exact_line_minimum(loss, W, d1, bounds=1.0)
    with pytest.raises(TypeError, match="bounds"):
        exact_line_minimum(loss, W, d1, bounds=(True, 2.0))
    with pytest.raises(ValueError, match="dW.*all zeros"):
        exact_line_search(loss, W, np.zeros_like(W))
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="max_step"):
            exact_line_search(loss, W, d1, max_step=bad)
    with pytest.raises(TypeError, match="max_step"):
        exact_line_search(loss, W, d1, max_step="1")
    for bad, exc in ((0, ValueError), (True, TypeError), (2.5, TypeError)):
        with pytest.raises(exc, match="points"):
            centered_grid(bad)
    with pytest.raises(ValueError, match="span"):
        centered_grid(5, span=0.0)


def test_read_only_inputs_accepted(small):
    loss, W, d1, d2 = small
    for a in (W, d1, d2):
        a.setflags(write=False)
    pl = loss_on_plane(loss, W, d1, d2, [-1.0, 0.0, 1.0], (0.0,))
    assert pl.losses.shape == (3, 1)


def test_overflow_raises_not_nan(small):
    loss, W, d1, _ = small
    with pytest.raises(FloatingPointError, match="overflow"):
        loss_along_line(steepest.SoftmaxLoss(loss.X, loss.y), W, d1 * 1e300, [1e10])


# --------------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["svm", "softmax"])
def test_cli_landscape(tmp_path, capsys, kind):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    from steepest import cli

    rc = cli.main(["landscape", "--loss", kind, "--out", str(tmp_path), "--points", "15", "--backend", "numpy"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "the notes' sweep" in out
    if kind == "svm":
        assert "exact min loss" in out and "exact line search" in out
    for name in ("landscape_notes.png", "landscape_line.png", "landscape_descent.png"):
        assert (tmp_path / name).stat().st_size > 1000


def test_cli_landscape_bad_arguments(tmp_path, capsys):
    from steepest import cli

    assert cli.main(["landscape", "--points", "1", "--out", str(tmp_path), "--no-plots"]) == 2
    assert "points" in capsys.readouterr().err
    assert cli.main(["landscape", "--backend", "fortran", "--no-plots"]) == 2
    assert "backend" in capsys.readouterr().err
