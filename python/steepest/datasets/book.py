"""The book's ``mnist_loader``: MNIST in the forms of "Neural Networks and Deep Learning".

    import mnist_loader                                   # the book
    from steepest.datasets import book as mnist_loader    # steepest: the same calls, the same data

    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()

:func:`load_data` returns the book's ``(training_data, validation_data, test_data)``, each a pair (images float32
(n, 784) in [0, 1), labels int64 (n,)): 50,000 / 10,000 / 10,000 images. :func:`load_data_wrapper` returns them as
the lists the networks take: training pairs ``(x, y)`` with ``x`` float32 (784, 1) and ``y`` the one-hot float64
(10, 1) column, validation and test pairs ``(x, y)`` with ``y`` an ``int``. Lists, not the ``zip`` objects of the
book's Python 3 ports, so they can be used more than once. Each ``x`` is a view into one array, as in the book.

Two sources, whichever the folder holds:

- the book's own ``mnist.pkl.gz`` (Python 2 pickle). It is read with a restricted unpickler that builds nothing
  but NumPy arrays (no other code can run), then checked: three (images, labels) pairs of plain arrays, images 2-D
  floats in [0, 1] with 784 columns, labels 1-D integers in [0, 10), one label per image;
- the MNIST IDX files (``train-*`` and ``t10k-*``, gzip or not; ``steepest.datasets.download_mnist()``). The book's
  training and validation sets are the first 50,000 and the last 10,000 training images, its test set the t10k
  images, each pixel divided by 256 in float32: exactly the values of ``mnist.pkl.gz``, whose largest is 255/256.

Without ``path``: ``$STEEPEST_MNIST_DIR``, then the book's ``../data/mnist.pkl.gz``, then ``data_home()/mnist``.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from .. import _validate
from .download import data_home
from .formats import _RestrictedUnpickler, as_path, read_mnist

__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]

PICKLE_NAME = "mnist.pkl.gz"
_BOOK_PICKLE = Path("..") / "data" / PICKLE_NAME  # where the book's mnist_loader looks
_PIXELS = 784
_CLASSES = 10


def vectorized_result(j: int) -> np.ndarray:
    """The 10-dimensional unit column (10, 1) with a 1.0 in position ``j`` (the book's helper)."""
    j = _validate.integer(j, "j", low=0, high=_CLASSES - 1)
    e = np.zeros((_CLASSES, 1))
    e[j] = 1.0
    return e


class _MnistUnpickler(_RestrictedUnpickler):
    """The library's restricted unpickler (NumPy arrays only), with messages about mnist.pkl.gz."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except pickle.UnpicklingError:
            raise pickle.UnpicklingError(f"refused global {module}.{name} (not part of mnist.pkl.gz)") from None


def _read_pickle(path: Path) -> tuple:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{str(path)!r} is missing") from None
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        obj = _MnistUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except Exception as exc:  # every way a foreign or damaged file can fail to unpickle
        raise ValueError(f"{str(path)!r} is not the book's mnist.pkl.gz ({type(exc).__name__}: {exc})") from None
    names = ("training_data", "validation_data", "test_data")
    if not isinstance(obj, (tuple, list)) or len(obj) != 3:
        raise ValueError(f"{str(path)!r}: expected a tuple of 3 (images, labels) pairs; got {type(obj).__name__}")
    out = []
    for name, part in zip(names, obj):
        if not isinstance(part, (tuple, list)) or len(part) != 2:
            raise ValueError(f"{str(path)!r}: {name} must be an (images, labels) pair; got {type(part).__name__}")
        images, labels = part
        for what, a in (("images", images), ("labels", labels)):
            if type(a) is not np.ndarray:
                raise ValueError(f"{str(path)!r}: {name} {what} must be a plain numpy array; got {type(a).__name__}")
        if images.dtype.kind != "f" or images.ndim != 2 or images.shape[1] != _PIXELS or images.shape[0] == 0:
            raise ValueError(
                f"{str(path)!r}: {name} images must be floats of shape (n, {_PIXELS}); "
                f"got {images.dtype} {images.shape}"
            )
        if not (np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1):
            raise ValueError(f"{str(path)!r}: {name} images must be finite pixels in [0, 1]")
        if labels.dtype.kind not in "iu" or labels.shape != (images.shape[0],):
            raise ValueError(
                f"{str(path)!r}: {name} labels must be {images.shape[0]} integers (one per image); "
                f"got {labels.dtype} {labels.shape}"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= _CLASSES):
            raise ValueError(f"{str(path)!r}: {name} labels must lie in [0, {_CLASSES})")
        out.append((images.astype(np.float32, copy=False), labels.astype(np.int64)))
    return tuple(out)


def _read_idx(folder: Path, validation_size: int) -> tuple:
    train_images, train_labels = read_mnist(folder, "train")
    test_images, test_labels = read_mnist(folder, "t10k")
    n = train_images.shape[0]
    if train_images.shape[1] != _PIXELS or test_images.shape[1] != _PIXELS:
        raise ValueError(f"MNIST folder {str(folder)!r}: images must have {_PIXELS} pixels")
    if not 0 < validation_size < n:
        raise ValueError(f"validation_size must be in [1, {n - 1}] for {n} training images; got {validation_size}")
    scale = np.float32(1 / 256)  # exact: the values of mnist.pkl.gz

    def floats(images: np.ndarray) -> np.ndarray:
        return np.multiply(images, scale, dtype=np.float32)

    cut = n - validation_size
    return (
        (floats(train_images[:cut]), train_labels[:cut]),
        (floats(train_images[cut:]), train_labels[cut:]),
        (floats(test_images), test_labels),
    )


def _has_idx(folder: Path) -> bool:
    return any(folder.glob("train-images*")) and any(folder.glob("t10k-images*"))


def _source(path: Any) -> tuple[str, Path]:
    """("pickle", file) or ("idx", folder) for ``path`` (None: the default places, in order)."""
    if path is None:
        candidates = []
        env = os.environ.get("STEEPEST_MNIST_DIR", "").strip()
        if env:
            candidates.append(Path(env).expanduser())
        candidates += [_BOOK_PICKLE, data_home() / "mnist"]
        for candidate in candidates:
            try:
                return _source(candidate)
            except FileNotFoundError:
                continue
        raise FileNotFoundError(
            "no MNIST data found: looked in $STEEPEST_MNIST_DIR, the book's ../data/mnist.pkl.gz and "
            f"{str(data_home() / 'mnist')!r}; pass path= (a folder with the IDX files or mnist.pkl.gz) or download "
            "the IDX files with steepest.datasets.download_mnist()"
        )
    p = as_path(path, "path")
    if p.is_file():
        return "pickle", p
    if p.is_dir():
        if (p / PICKLE_NAME).is_file():
            return "pickle", p / PICKLE_NAME
        if _has_idx(p):
            return "idx", p
        raise FileNotFoundError(
            f"{str(p)!r} holds neither mnist.pkl.gz nor the MNIST IDX files (train-* and t10k-*); "
            "download them with steepest.datasets.download_mnist()"
        )
    raise FileNotFoundError(f"{str(p)!r} does not exist")


def load_data(path: Any = None, *, validation_size: int = 10_000) -> tuple:
    """The book's ``load_data()``: ``(training_data, validation_data, test_data)``, each ``(images, labels)`` with
    images float32 (n, 784) in [0, 1) and labels int64 (n,).

    ``path``: a folder holding ``mnist.pkl.gz`` or the IDX files, or the pickle itself (see the module docstring
    for the default places). ``validation_size``: from IDX files, how many of the last training images form the
    validation set (the book's 10,000; the training set is the rest, 50,000 for MNIST).
    """
    validation_size = _validate.integer(validation_size, "validation_size", low=1)
    kind, where = _source(path)
    return _read_pickle(where) if kind == "pickle" else _read_idx(where, validation_size)


def load_data_wrapper(path: Any = None, *, validation_size: int = 10_000) -> tuple[list, list, list]:
    """The book's ``load_data_wrapper()``: ``(training_data, validation_data, test_data)`` as lists of ``(x, y)``.

    Training: ``x`` float32 (784, 1), ``y`` the one-hot float64 (10, 1) column of the digit. Validation and test:
    ``x`` float32 (784, 1), ``y`` the digit as an ``int``. Arguments as :func:`load_data`.
    """
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = load_data(path, validation_size=validation_size)
    eye = np.eye(_CLASSES)
    training_data = [(x.reshape(_PIXELS, 1), eye[k][:, None].copy()) for x, k in zip(tr_x, tr_y.tolist())]
    validation_data = [(x.reshape(_PIXELS, 1), k) for x, k in zip(va_x, va_y.tolist())]
    test_data = [(x.reshape(_PIXELS, 1), k) for x, k in zip(te_x, te_y.tolist())]
    return training_data, validation_data, test_data
