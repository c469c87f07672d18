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

from . import book
from .book import load_data_wrapper
from .catalog import DataSplit, load_dataset
from .download import REGISTRY, ChecksumError, DownloadError, data_home, download_cifar10, download_mnist
from .loaders import load_cifar10, load_digits, load_mnist, make_synthetic
from .preprocessing import preprocess, split

__all__ = [
    "REGISTRY",
    "book",
    "ChecksumError",
    "DataSplit",
    "DownloadError",
    "data_home",
    "download_cifar10",
    "download_mnist",
    "load_cifar10",
    "load_data_wrapper",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "make_synthetic",
    "preprocess",
    "split",
]
