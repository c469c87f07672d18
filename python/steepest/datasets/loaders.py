"""The loaders: CIFAR-10 batches, MNIST IDX files, scikit-learn's digits, synthetic CIFAR-shaped data."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import _optional, _validate
from .._validate import float_dtype
from .arrays import synthetic
from .formats import (
    CIFAR_TEST_BATCH,
    CIFAR_TRAIN_BATCHES,
    as_path,
    cifar_folder,
    images_from_rows,
    read_cifar_batch,
    read_mnist,
)


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
    # Both arguments checked before the folder is looked at: a bad `batches` is named even without the data.
    root = as_path(path, "path")
    if batches is None:
        names = list(CIFAR_TRAIN_BATCHES)
    else:
        if isinstance(batches, (numbers.Integral, str, bytes)) or not isinstance(batches, Iterable):
            raise TypeError(f"batches must be a sequence of batch numbers in 1..5, e.g. (1, 2); got {batches!r}")
        nums = [_validate.integer(b, f"batches[{i}]", low=1) for i, b in enumerate(batches)]
        if not nums or len(set(nums)) != len(nums) or max(nums) > 5:
            raise ValueError(f"batches must be distinct numbers in 1..5; got {nums!r}")
        names = [f"data_batch_{b}" for b in nums]
    folder = cifar_folder(root)
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
        raise FileNotFoundError(
            f"MNIST folder {str(folder)!r} does not exist (download it with steepest.datasets.download_mnist())"
        )
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


def make_synthetic(
    n: int, d: int = 3073, c: int = 10, seed: Any = 0, dtype: Any = np.float64, *, noise: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
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
