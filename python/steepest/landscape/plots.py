"""Drawing for :mod:`steepest.landscape` (the ``plot`` extra): matplotlib is imported here, lazily.

Figures are made without pyplot (a ``Figure`` with an Agg canvas): no GUI backend is touched, no
global state changes, and the same code runs in scripts, tests and notebooks. When an ``ax`` is
given, the drawing goes there and its figure is returned. PNG files are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .. import _validate
from .._atomic import atomic_open
from .._optional import require
from .checks import check_trajectory


def require_matplotlib():
    """Import matplotlib (Figure and the Agg canvas) or raise ImportError naming the extra."""
    figure = require("matplotlib.figure", "plot", "plotting")
    agg = require("matplotlib.backends.backend_agg", "plot", "plotting")
    return figure.Figure, agg.FigureCanvasAgg


def check_cmap(cmap: Any) -> Any:
    """A matplotlib colormap name (``matplotlib.colormaps``) or a Colormap object."""
    require_matplotlib()
    colors = require("matplotlib.colors", "plot", "plotting")
    if isinstance(cmap, colors.Colormap):
        return cmap
    if not isinstance(cmap, str):
        raise TypeError(f"cmap must be a matplotlib colormap name (e.g. 'jet') or Colormap; got {type(cmap).__name__}")
    names = require("matplotlib", "plot", "plotting").colormaps
    if cmap not in names:
        close = [name for name in sorted(names) if name.lower() == cmap.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else " (see matplotlib.colormaps)"
        raise ValueError(f"cmap must name a matplotlib colormap such as 'jet' or 'viridis'; got {cmap!r}{hint}")
    return cmap


def _check_drawing(ax: Any, path: Any, title: Any) -> str | None:
    """The arguments every drawing takes, checked before anything is drawn or written."""
    if ax is not None:
        require_matplotlib()
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None; got {type(title).__name__}")
    return None if path is None else _validate.file_path(path, "path")


def new_figure(ncols: int = 1, size: tuple[float, float] = (6.0, 4.5)):
    """A Figure with ``ncols`` axes side by side and an Agg canvas (so it can be drawn and saved)."""
    Figure, FigureCanvasAgg = require_matplotlib()
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, k + 1) for k in range(ncols)]
    return fig, axes


def _target(ax: Any, size=(6.0, 4.5)):
    """A new figure and its axes, or the given (checked) axes and their figure."""
    if ax is None:
        fig, (ax,) = new_figure(1, size)
        return fig, ax
    return ax.figure, ax


def save(fig: Any, path: Any, dpi: int = 120) -> None:
    """Write ``fig`` to ``path`` atomically (temporary file in the same folder, fsync, os.replace).

    The format follows the suffix (``.png`` by default, also ``.pdf`` / ``.svg``); the folder is created.
    """
    if path is None:
        return
    target = _validate.file_path(path, "path")
    folder = os.path.dirname(os.path.abspath(target))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"path {target!r}: folder {folder!r} cannot be created: {exc.strerror}") from None
    suffix = os.path.splitext(target)[1].lower().lstrip(".")
    fmt = suffix if suffix in ("png", "pdf", "svg") else "png"
    with atomic_open(target, suffix="." + fmt) as handle:
        fig.savefig(handle, format=fmt, dpi=dpi)


def plot_line(sl: Any, ax: Any = None, path: Any = None, title: str | None = None):
    path = _check_drawing(ax, path, title)
    fig, ax = _target(ax)
    ax.plot(sl.alphas, sl.losses, color="tab:blue", linewidth=1.6, label="loss")
    if sl.breakpoints is not None and 0 < len(sl.breakpoints) <= 200:
        for k in sl.breakpoints:
            ax.axvline(k, color="0.75", linewidth=0.6, zorder=0)
    ax.axvline(0.0, color="k", linestyle="--", linewidth=0.8, label="W (alpha = 0)")
    if sl.minimum is not None:
        ax.plot([sl.minimum.alpha], [sl.minimum.loss], "o", color="tab:red", label="exact minimum")
    ax.set_xlabel("alpha (step along the direction)")
    ax.set_ylabel("loss")
    ax.set_xlim(sl.alphas[0], sl.alphas[-1]) if len(sl.alphas) > 1 else None
    ax.set_title(title or f"{sl.loss_name} loss along a line, {sl.n_examples} example{'s' * (sl.n_examples != 1)}")
    ax.legend(loc="best", fontsize="small")
    save(fig, path)
    return fig


def plot_plane(
    pl: Any,
    ax: Any = None,
    path: Any = None,
    trajectory: Sequence[Any] | None = None,
    cmap: str = "jet",
    levels: int = 12,
    title: str | None = None,
    colorbar: bool = True,
):
    path = _check_drawing(ax, path, title)
    cmap = check_cmap(cmap)
    levels = _validate.integer(levels, "levels", low=0)
    if trajectory is not None:
        trajectory = check_trajectory(trajectory, pl.W)
    fig, ax = _target(ax, (6.0, 5.0))
    a, b, Z = pl.alphas, pl.betas, pl.losses.T  # rows of the image are betas (y axis)
    mesh = ax.pcolormesh(a, b, Z, cmap=cmap, shading="nearest")
    if levels and len(a) > 1 and len(b) > 1 and float(Z.max()) > float(Z.min()):
        ax.contour(a, b, Z, levels=levels, colors="k", linewidths=0.5, alpha=0.6)
    ax.plot([0.0], [0.0], marker="+", color="w", markersize=10, markeredgewidth=1.5)
    if trajectory is not None:
        ta, tb, _ = pl.project(trajectory)
        ax.plot(ta, tb, "-o", color="w", markersize=2.5, linewidth=1.2, markeredgecolor="k", markeredgewidth=0.3)
        ax.plot(ta[-1:], tb[-1:], "*", color="w", markersize=10, markeredgecolor="k")
        ax.set_xlim(a[0], a[-1])
        ax.set_ylim(b[0], b[-1])
    ax.set_xlabel("alpha (along d1)")
    ax.set_ylabel("beta (along d2)")
    ax.set_title(title or f"{pl.loss_name} loss on a plane, {pl.n_examples} example{'s' * (pl.n_examples != 1)}")
    if colorbar:
        fig.colorbar(mesh, ax=ax, label="loss")
    save(fig, path)
    return fig


def plot_notes(line: Any, plane_one: Any, plane_many: Any, trajectory=None, path: Any = None, cmap: str = "jet"):
    path = _check_drawing(None, path, None)
    fig, axes = new_figure(3, (16.0, 4.8))
    plot_line(line, ax=axes[0], title=f"{line.loss_name}: one example, along a line")
    plot_plane(plane_one, ax=axes[1], cmap=cmap, title=f"{plane_one.loss_name}: one example, on a plane")
    plot_plane(
        plane_many,
        ax=axes[2],
        cmap=cmap,
        trajectory=trajectory,
        title=f"{plane_many.loss_name}: average over {plane_many.n_examples} examples",
    )
    save(fig, path)
    return fig
