"""Data for the optimization toolkit: CIFAR-10, MNIST, scikit-learn's digits, synthetic data.

Loaders return raw images as the publishers store them (uint8 pixels, int64 labels); ``preprocess``
turns them into what the losses take: mean-subtracted with the *training* mean, a constant-1 bias
feature appended (the "bias trick"), one example per column, (D, N), float32 or float64.
``load_dataset`` does all of it from the command line's ``--data`` spec and returns a ``DataSplit``.

==========================  ======================================================================
``load_cifar10(path)``       python-version batches -> uint8 (n, 32, 32, 3) images, int64 labels
``load_mnist(path, kind)``   IDX files (gzip or plain) -> uint8 (n, 784) images, int64 labels
``load_digits()``            scikit-learn's 8x8 digits (the ``data`` extra) -> float64 (1797, 64)
``make_synthetic(n)``        CIFAR-shaped (3073, n) learnable data, bias row included
``preprocess(X, *others)``   rows -> (D, N) mean-subtracted, bias row, chosen dtype
``split(X, y, ...)``         seeded train / validation / test pieces of row data
``load_dataset(spec)``       "digits", "cifar10:PATH", "mnist:PATH", "synthetic[:N]" -> DataSplit
``download_cifar10()``       checksummed download into ``data_home()`` ($STEEPEST_DATA)
``download_mnist()``         idem for the MNIST IDX files
==========================  ======================================================================

Only NumPy and the standard library are imported here; scikit-learn is imported by ``load_digits``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import numpy as np

from .. import _optional, _validate
from .._validate import float_dtype
from .arrays import center, rows_view, synthetic
from .download import (
    REGISTRY,
    ChecksumError,
    DownloadError,
    data_home,
    download_cifar10,
    download_mnist,
)
from .formats import (
    CIFAR_TEST_BATCH,
    CIFAR_TRAIN_BATCHES,
    as_path,
    cifar_folder,
    find_idx,
    images_from_rows,
    read_cifar_batch,
    read_mnist,
)

__all__ = [
    "REGISTRY",
    "ChecksumError",
    "DataSplit",
    "DownloadError",
    "data_home",
    "download_cifar10",
    "download_mnist",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "make_synthetic",
    "preprocess",
    "split",
]

_SPECS = "'digits', 'cifar10:PATH', 'mnist:PATH', 'synthetic' or 'synthetic:N'"


# --------------------------------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------------------------------

def load_cifar10(path: Any, *, batches: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load CIFAR-10 (python version) -> ``(X_train, y_train, X_test, y_test)``.

    ``path`` is the folder ``cifar-10-batches-py`` or its parent. Reads ``data_batch_1`` ...
    ``data_batch_5`` and ``test_batch`` (``batches=(1, 2)`` reads only those training batches);
    each is a pickled dict with ``b'data'`` uint8 (n, 3072) in R, G, B planes and ``b'labels'``.
    A batch may hold fewer than 10,000 images (small test folders) if it is consistent in itself.

    Returns images as C-contiguous uint8 (n, 32, 32, 3) (like CS231n's ``load_CIFAR10``, without
    its conversion to float) and labels as int64 (n,) in 0..9.

    Pickles are opened with a restricted unpickler that runs nothing but NumPy's array
    reconstruction, so an untrusted file cannot execute code. A missing, truncated or foreign batch
    raises ``FileNotFoundError`` or ``ValueError`` naming the file and the problem; nothing is
    returned until every file has been read and checked.
    """
    folder = cifar_folder(as_path(path, "path"))
    if batches is None:
        names = list(CIFAR_TRAIN_BATCHES)
    else:
        if isinstance(batches, (numbers.Integral, str)):
            raise TypeError(f"batches must be a sequence of batch numbers in 1..5; got {batches!r}")
        nums = [_validate.integer(b, "batches[i]", low=1) for b in batches]
        if not nums or len(set(nums)) != len(nums) or max(nums) > 5:
            raise ValueError(f"batches must be distinct numbers in 1..5; got {list(batches)!r}")
        names = [f"data_batch_{b}" for b in nums]
    train = [read_cifar_batch(folder / name) for name in names]
    test = read_cifar_batch(folder / CIFAR_TEST_BATCH)
    X_train = images_from_rows([d for d, _ in train])
    y_train = np.concatenate([lab for _, lab in train])
    X_test = images_from_rows([test[0]])
    return X_train, y_train, X_test, test[1]


def load_mnist(path: Any, kind: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST IDX files -> ``(images uint8 (n, 784), labels int64 (n,))``.

    Reads ``{kind}-images-idx3-ubyte`` and ``{kind}-labels-idx1-ubyte`` in the folder ``path``,
    each gzip-compressed (``.gz``, as published) or plain; ``kind`` is "train" (60,000) or "t10k"
    (10,000). Checks the magic numbers (2051 images, 2049 labels), that each file holds exactly the
    bytes its header promises, and that the two counts agree; errors name the file.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"kind must be 'train' or 't10k'; got {kind!r}")
    folder = as_path(path, "path")
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder {str(folder)!r} does not exist (download it with steepest.datasets.download_mnist())")
    return read_mnist(folder, kind)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits -> ``(images float64 (1797, 64) in 0..16, labels int64)``.

    Needs no download; needs scikit-learn (``pip install steepest[data]``).
    """
    sklearn_datasets = _optional.require(
        "sklearn.datasets", "data", "steepest.datasets.load_digits", package="scikit-learn"
    )
    X, y = sklearn_datasets.load_digits(return_X_y=True)
    return np.ascontiguousarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


# --------------------------------------------------------------------------------------------------
# synthetic data
# --------------------------------------------------------------------------------------------------

def make_synthetic(n: int, d: int = 3073, c: int = 10, seed: Any = 0, dtype: Any = np.float64, *,
                   noise: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-shaped synthetic data ``(X (d, n), y (n,) int64)`` that a linear classifier can learn.

    Features: ``x = A z + e`` with z ~ N(0, I_32) latent factors mapped by a hidden (d - 1, 32)
    matrix A and e uniform noise; each feature has mean 0 and variance 1, and the last row is 1
    (the bias trick), so X looks like what ``preprocess`` returns. Labels:
    ``argmax(W_true @ x / std + noise * N(0, 1))`` for a hidden linear model ``W_true`` (c, d - 1).
    With the default ``noise`` the hidden model itself agrees with about 80% of the labels and a
    linear classifier trained on 4,000 examples reaches about 70% (chance: 1/c).

    Deterministic per ``seed`` (int; a Generator draws one) for a given (n, d, c, dtype). X is
    written in blocks of rows straight into the result, so the only large allocation is X itself
    (n = 50,000: 1.2 GB in float64; O(d n k) work, plus the cost any fresh result of that size pays
    to map its memory).
    ``dtype`` float32 or float64. Cost: O(d n k).
    """
    n = _validate.integer(n, "n", low=1)
    d = _validate.integer(d, "d", low=2)
    c = _validate.integer(c, "c", low=2)
    dt = float_dtype(dtype)
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"noise must be a number; got {type(noise).__name__}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
    s = _validate.seed_int(seed)
    return synthetic(n, d, c, s, dt, 0, float(noise))


# --------------------------------------------------------------------------------------------------
# preprocessing and splitting
# --------------------------------------------------------------------------------------------------

def preprocess(X_train: Any, *others: Any, dtype: Any = np.float64, bias: bool = True,
               layout: str = "columns") -> Any:
    """Mean-subtract with the training mean, append the bias feature, cast, and lay out as (D, N).

    Each input has one example per row, of any shape after the first axis (images (n, 32, 32, 3)
    are flattened to (n, 3072)) and any integer or float dtype. The mean of ``X_train`` is computed
    in float64 and subtracted from every set (never each set's own mean); with ``bias=True`` a
    constant-1 feature is appended last. ``layout="columns"`` (default) returns (D, N) arrays, one
    example per column as the losses take them, F-ordered (each example contiguous: the transpose
    of the (N, D) rows, the fastest order for the kernels); ``layout="rows"`` returns (N, D).

    Returns one array when only ``X_train`` is given, else a tuple (train, *others), like
    ``np.atleast_2d``. Inputs are never modified (read-only arrays and memmaps are fine); an input
    whose rows cannot be viewed as flat vectors (unusual strides) is copied once by the reshape.
    Float inputs must be finite (ValueError naming the row and feature). One pass over each input,
    in blocks of examples written straight into the result: the only large allocation.
    """
    dt = float_dtype(dtype)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool; got {type(bias).__name__}")
    if not isinstance(layout, str) or layout not in ("columns", "rows"):
        raise ValueError(f"layout must be 'columns' (D, N) or 'rows' (N, D); got {layout!r}")
    train = rows_view(X_train, "X_train")
    sets = [train] + [rows_view(o, f"others[{i}]") for i, o in enumerate(others)]
    F = train.shape[1]
    for i, s in enumerate(sets[1:]):
        if s.shape[1] != F:
            raise ValueError(f"others[{i}] must have {F} features per example like X_train; got {s.shape[1]} (shape {others[i].shape})")
    with np.errstate(over="ignore", invalid="ignore"):
        mean = train.mean(axis=0, dtype=np.float64)
    if not np.isfinite(mean).all():
        _validate.finite(train, "X_train")
        raise ValueError("X_train's mean is not finite: its values are too large for float64")
    names = ["X_train"] + [f"others[{i}]" for i in range(len(others))]
    out = tuple(center(s, mean, dt, bool(bias), layout, name) for s, name in zip(sets, names))
    return out[0] if not others else out


def split(X: Any, y: Any, n_train: int, n_val: int, n_test: int = 0, seed: Any = 0) -> tuple[np.ndarray, ...]:
    """Seeded train / validation / test pieces of row data (one example per row of ``X``).

    Draws one permutation of the n examples (from ``seed``: int or Generator) and assigns its first
    ``n_train`` to train, the next ``n_val`` to validation and the next ``n_test`` to test; the
    pieces are disjoint and each keeps the original order of its examples. Returns
    ``(X_train, y_train, X_val, y_val, X_test, y_test)`` (always six; a piece of size 0 is empty),
    copies of the rows. The CS231n assignment uses 49,000 / 1,000 of CIFAR-10's training set (and
    1,000 of its test set).
    """
    if not isinstance(X, np.ndarray) or X.ndim < 1:
        raise TypeError(f"X must be a numpy.ndarray with one example per row; got {type(X).__name__}")
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu" or y.ndim != 1:
        what = f"dtype {y.dtype} shape {y.shape}" if isinstance(y, np.ndarray) else type(y).__name__
        raise TypeError(f"y must be a 1-D numpy.ndarray of integer labels; got {what}")
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X and y must hold the same number of examples; got {n} rows in X and {len(y)} labels")
    n_train = _validate.integer(n_train, "n_train", low=1)
    n_val = _validate.integer(n_val, "n_val", low=0)
    n_test = _validate.integer(n_test, "n_test", low=0)
    if n_train + n_val + n_test > n:
        raise ValueError(f"n_train + n_val + n_test must be <= {n} (the examples in X); got {n_train} + {n_val} + {n_test}")
    perm = _validate.rng(seed).permutation(n)
    cuts = np.cumsum([0, n_train, n_val, n_test])
    out: list[np.ndarray] = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        idx = np.sort(perm[a:b])
        out += [X[idx], y[idx].astype(np.int64)]
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# DataSplit and load_dataset
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


def _sizes(n: int, n_train: Any, n_val: Any, n_test: Any, *, test_from_pool: bool,
           default_val: int, default_test: int, what: str) -> tuple[int, int, int]:
    """Resolve the three sizes for a pool of n examples (test drawn from the pool or not)."""
    n_val = default_val if n_val is None else _validate.integer(n_val, "n_val", low=0)
    n_test = default_test if n_test is None else _validate.integer(n_test, "n_test", low=0)
    rest = n - n_val - (n_test if test_from_pool else 0)
    if rest < 1:
        raise ValueError(f"{what} has {n} examples: too few for n_val = {n_val}" + (f" and n_test = {n_test}" if test_from_pool else ""))
    if n_train is None:
        n_train = rest
    else:
        n_train = _validate.integer(n_train, "n_train", low=1)
        if n_train > rest:
            raise ValueError(f"n_train must be <= {rest} for {what} (after {n_val} validation examples); got {n_train}")
    return n_train, n_val, n_test


def _from_rows(name: str, X: np.ndarray, y: np.ndarray, X_test: np.ndarray | None, y_test: np.ndarray | None,
               dt: np.dtype, seed: Any, n_train: Any, n_val: Any, n_test: Any, description: str,
               classes: int, pool_default: int = 1000) -> DataSplit:
    n = len(X)
    if X_test is None:  # one pool: train / val / test all drawn from it
        d = min(pool_default, n // 7)
        nt, nv, ne = _sizes(n, n_train, n_val, n_test, test_from_pool=True,
                            default_val=d, default_test=d, what=name)
        Xtr, ytr, Xv, yv, Xte, yte = split(X, y, nt, nv, ne, seed)
    else:  # the publisher's test set: its first n_test examples, as in the CS231n assignment
        nt, nv, ne = _sizes(n, n_train, n_val, n_test, test_from_pool=False,
                            default_val=min(1000, n // 10), default_test=min(1000, len(X_test)), what=name)
        if ne > len(X_test):
            raise ValueError(f"n_test must be <= {len(X_test)} (the test set of {name}); got {ne}")
        Xtr, ytr, Xv, yv, _, _ = split(X, y, nt, nv, 0, seed)
        Xte, yte = X_test[:ne], y_test[:ne].astype(np.int64)
    Xtr, Xv, Xte = preprocess(Xtr, Xv, Xte, dtype=dt)
    desc = f"{description}; {nt:,} / {nv:,} / {ne:,} train / val / test, mean-subtracted (training mean), bias row appended"
    return DataSplit(name, Xtr, ytr, Xv, yv, Xte, yte, classes, desc)


def load_dataset(spec: str = "digits", dtype: Any = np.float64, seed: Any = 0, n_train: Any = None,
                 n_val: Any = None, n_test: Any = None) -> DataSplit:
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
    kind, sep, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "digits" and not sep:
        X, y = load_digits()
        return _from_rows("digits", X, y, None, None, dt, seed, n_train, n_val, n_test,
                          "scikit-learn's 8x8 digits (1,797 images, pixels 0..16)", 10, pool_default=250)
    if kind == "cifar10":
        path = as_path(arg, "path") if arg else data_home()
        X, y, Xt, yt = load_cifar10(path)
        return _from_rows("cifar10", X, y, Xt, yt, dt, seed, n_train, n_val, n_test,
                          f"CIFAR-10 from {str(path)!r} ({len(X):,} train, {len(Xt):,} test images 32x32x3)", 10)
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
            return _from_rows("mnist", X, y, Xe, ye, dt, seed, n_train, n_val, n_test,
                              f"MNIST from {str(path)!r} ({len(X):,} train, {len(Xe):,} t10k images 28x28, pixels 0..255)", 10)
        return _from_rows("mnist", Xe, ye, None, None, dt, seed, n_train, n_val, n_test,
                          f"MNIST t10k from {str(path)!r} ({len(Xe):,} images 28x28, pixels 0..255; no train files)", 10)
    if kind == "synthetic":
        try:
            total = int(arg.replace(",", "").replace("_", "")) if arg else 5000
        except ValueError:
            raise ValueError(f"spec {spec!r}: 'synthetic:N' needs an integer N; got {arg!r}") from None
        if total < 3:
            raise ValueError(f"spec {spec!r}: N must be >= 3; got {total}")
        nt, nv, ne = _sizes(total, n_train, n_val, n_test, test_from_pool=True,
                            default_val=min(1000, total // 10), default_test=min(1000, total // 10), what=spec)
        s = _validate.seed_int(seed)
        parts = [synthetic(m, 3073, 10, s, dt, part, 0.25) for part, m in enumerate((nt, nv, ne))]
        desc = (f"synthetic CIFAR-shaped data (make_synthetic, seed {s}); {nt:,} / {nv:,} / {ne:,} "
                f"train / val / test, zero-mean features, bias row appended")
        return DataSplit("synthetic", parts[0][0], parts[0][1], parts[1][0], parts[1][1], parts[2][0],
                         parts[2][1], 10, desc)
    raise ValueError(f"unknown data spec {spec!r}; expected one of {_SPECS}")

