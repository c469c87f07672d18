"""``load_dataset``: the command line's ``--data`` specs, loaded, split and preprocessed into a ``DataSplit``."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .. import _validate
from .._validate import float_dtype
from .arrays import synthetic
from .download import (
    data_home,
)
from .formats import (
    as_path,
    find_idx,
)
from .loaders import load_cifar10, load_digits, load_mnist
from .preprocessing import preprocess, split

_SPECS = "'digits', 'cifar10:PATH', 'mnist:PATH', 'synthetic' or 'synthetic:N'"


# --------------------------------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class DataSplit:
    """A data set ready for the losses: (D, N) float arrays, one example per column, int64 labels.

    ``X_*`` are mean-subtracted with the training mean and end with the constant-1 bias row;
    ``classes`` is the number of classes C, so the weights have shape (classes, D).
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: int
    description: str = ""

    @property
    def dtype(self) -> np.dtype:
        return self.X_train.dtype

    @property
    def n_features(self) -> int:
        """D, the bias feature included."""
        return int(self.X_train.shape[0])

    def shapes(self) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
        """``{"train": (X shape, y shape), "val": ..., "test": ...}``."""
        return {
            "train": (self.X_train.shape, self.y_train.shape),
            "val": (self.X_val.shape, self.y_val.shape),
            "test": (self.X_test.shape, self.y_test.shape),
        }

    def __str__(self) -> str:
        lines = [f"data set {self.name}: {self.classes} classes, {self.dtype}, D = {self.n_features} (bias included)"]
        if self.description:
            lines.append(f"  {self.description}")
        lines.append(f"  {'set':<6} {'X (D, N)':>16} {'examples':>9}")
        for key, ((D, N), _) in self.shapes().items():
            lines.append(f"  {key:<6} {f'({D}, {N})':>16} {N:>9,}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v[0]}" for k, v in self.shapes().items())
        return f"DataSplit(name={self.name!r}, classes={self.classes}, dtype={self.dtype}, {parts})"


def _sizes(
    n: int,
    n_train: Any,
    n_val: Any,
    n_test: Any,
    *,
    test_from_pool: bool,
    default_val: int,
    default_test: int,
    what: str,
) -> tuple[int, int, int]:
    """Resolve the three sizes for a pool of n examples (test drawn from the pool or not)."""
    n_val = default_val if n_val is None else _validate.integer(n_val, "n_val", low=0)
    n_test = default_test if n_test is None else _validate.integer(n_test, "n_test", low=0)
    rest = n - n_val - (n_test if test_from_pool else 0)
    if rest < 1:
        raise ValueError(
            f"{what} has {n} examples: too few for n_val = {n_val}"
            + (f" and n_test = {n_test}" if test_from_pool else "")
        )
    if n_train is None:
        n_train = rest
    else:
        n_train = _validate.integer(n_train, "n_train", low=1)
        if n_train > rest:
            raise ValueError(f"n_train must be <= {rest} for {what} (after {n_val} validation examples); got {n_train}")
    return n_train, n_val, n_test


def _from_rows(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    X_test: np.ndarray | None,
    y_test: np.ndarray | None,
    dt: np.dtype,
    seed: Any,
    n_train: Any,
    n_val: Any,
    n_test: Any,
    description: str,
    classes: int,
    pool_default: int = 1000,
) -> DataSplit:
    n = len(X)
    if X_test is None:  # one pool: train / val / test all drawn from it
        d = min(pool_default, n // 7)
        nt, nv, ne = _sizes(n, n_train, n_val, n_test, test_from_pool=True, default_val=d, default_test=d, what=name)
        Xtr, ytr, Xv, yv, Xte, yte = split(X, y, nt, nv, ne, seed)
    else:  # the publisher's test set: its first n_test examples, as in the CS231n assignment
        nt, nv, ne = _sizes(
            n,
            n_train,
            n_val,
            n_test,
            test_from_pool=False,
            default_val=min(1000, n // 10),
            default_test=min(1000, len(X_test)),
            what=name,
        )
        if ne > len(X_test):
            raise ValueError(f"n_test must be <= {len(X_test)} (the test set of {name}); got {ne}")
        Xtr, ytr, Xv, yv, _, _ = split(X, y, nt, nv, 0, seed)
        Xte, yte = X_test[:ne], y_test[:ne].astype(np.int64)
    Xtr, Xv, Xte = preprocess(Xtr, Xv, Xte, dtype=dt)
    desc = (
        f"{description}; {nt:,} / {nv:,} / {ne:,} train / val / test, mean-subtracted (training mean), "
        "bias row appended"
    )
    return DataSplit(name, Xtr, ytr, Xv, yv, Xte, yte, classes, desc)


def load_dataset(
    spec: str = "digits",
    dtype: Any = np.float64,
    seed: Any = 0,
    n_train: Any = None,
    n_val: Any = None,
    n_test: Any = None,
) -> DataSplit:
    """Load the data set named by the command line's ``--data`` spec, ready for the losses.

    ===================  ===============================================================================
    ``digits``           scikit-learn's 8x8 digits (default, no download): 1,297 / 250 / 250 of 1,797
    ``cifar10[:PATH]``   CIFAR-10 batches at PATH (default ``data_home()``): 49,000 / 1,000 of the
                         training set for train / val (seeded), the first 1,000 of the test set for test
    ``mnist[:PATH]``     MNIST IDX files at PATH (default ``data_home()/mnist``): the train files when
                         present (59,000 / 1,000, test: first 1,000 of t10k), else t10k split
                         8,000 / 1,000 / 1,000
    ``synthetic[:N]``    ``make_synthetic``'s CIFAR-shaped data, N examples in all (default 5,000):
                         4,000 / 500 / 500, already centred with a bias row
    ===================  ===============================================================================

    ``n_train`` caps the training set (ValueError if more than available); ``n_val`` and ``n_test``
    override the other two sizes. ``seed`` fixes the split (and the synthetic data). Arrays are
    (D, N) of ``dtype`` (the image sets F-ordered, each example a contiguous column; synthetic data
    C-ordered), labels int64. Unknown specs raise ValueError listing the forms;
    nothing is downloaded (see ``download_cifar10`` / ``download_mnist``).
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a str, one of {_SPECS}; got {type(spec).__name__}")
    dt = float_dtype(dtype)
    # Checked before any data is read: sizes against the data's size come later, their types cannot wait.
    _validate.rng(seed)  # an int >= 0, a Generator (not drawn from here) or None
    for name, value, low in (("n_train", n_train, 1), ("n_val", n_val, 0), ("n_test", n_test, 0)):
        if value is not None:
            _validate.integer(value, name, low=low)
    kind, sep, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in ("digits", "cifar10", "mnist", "synthetic") or (kind == "digits" and sep):
        raise ValueError(f"unknown data spec {spec!r}; expected one of {_SPECS}")
    if kind == "digits" and not sep:
        X, y = load_digits()
        return _from_rows(
            "digits",
            X,
            y,
            None,
            None,
            dt,
            seed,
            n_train,
            n_val,
            n_test,
            "scikit-learn's 8x8 digits (1,797 images, pixels 0..16)",
            10,
            pool_default=250,
        )
    if kind == "cifar10":
        path = as_path(arg, "path") if arg else data_home()
        X, y, Xt, yt = load_cifar10(path)
        return _from_rows(
            "cifar10",
            X,
            y,
            Xt,
            yt,
            dt,
            seed,
            n_train,
            n_val,
            n_test,
            f"CIFAR-10 from {str(path)!r} ({len(X):,} train, {len(Xt):,} test images 32x32x3)",
            10,
        )
    if kind == "mnist":
        path = as_path(arg, "path") if arg else data_home() / "mnist"
        try:
            find_idx(path, "train", "images")
            has_train = True
        except FileNotFoundError:
            has_train = False
        Xe, ye = load_mnist(path, "t10k")
        if has_train:
            X, y = load_mnist(path, "train")
            return _from_rows(
                "mnist",
                X,
                y,
                Xe,
                ye,
                dt,
                seed,
                n_train,
                n_val,
                n_test,
                f"MNIST from {str(path)!r} ({len(X):,} train, {len(Xe):,} t10k images 28x28, pixels 0..255)",
                10,
            )
        return _from_rows(
            "mnist",
            Xe,
            ye,
            None,
            None,
            dt,
            seed,
            n_train,
            n_val,
            n_test,
            f"MNIST t10k from {str(path)!r} ({len(Xe):,} images 28x28, pixels 0..255; no train files)",
            10,
        )
    if kind == "synthetic":
        try:
            total = int(arg.replace(",", "").replace("_", "")) if arg else 5000
        except ValueError:
            raise ValueError(f"spec {spec!r}: 'synthetic:N' needs an integer N; got {arg!r}") from None
        if total < 3:
            raise ValueError(f"spec {spec!r}: N must be >= 3; got {total}")
        nt, nv, ne = _sizes(
            total,
            n_train,
            n_val,
            n_test,
            test_from_pool=True,
            default_val=min(1000, total // 10),
            default_test=min(1000, total // 10),
            what=spec,
        )
        s = _validate.seed_int(seed)
        parts = [synthetic(m, 3073, 10, s, dt, part, 0.25) for part, m in enumerate((nt, nv, ne))]
        desc = (
            f"synthetic CIFAR-shaped data (make_synthetic, seed {s}); {nt:,} / {nv:,} / {ne:,} "
            f"train / val / test, zero-mean features, bias row appended"
        )
        return DataSplit(
            "synthetic", parts[0][0], parts[0][1], parts[1][0], parts[1][1], parts[2][0], parts[2][1], 10, desc
        )
    raise ValueError(f"unknown data spec {spec!r}; expected one of {_SPECS}")
