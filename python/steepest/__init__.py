"""steepest: the CS231n / Nielsen optimization toolkit for linear classifiers, exact and fast.

The same functions as the notes (losses, numerical gradients, gradient checks, search and descent
strategies, loss landscapes, Nielsen's network) on three backends: ``cpp`` (compiled, threaded),
``numba`` and ``numpy``; :mod:`steepest.reference` holds the literal slow algorithms they are checked
against. Layout: ``W`` (C, D), ``X`` (D, N) one example per column, ``y`` (N,) int labels.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from . import datasets, landscape, network, optimize, reference
from ._backends import (
    backends,
    get_backend,
    get_num_threads,
    num_threads,
    set_backend,
    set_num_threads,
    use_backend,
)
from .gradients import (
    eval_numerical_gradient,
    grad_check,
    grad_check_sparse,
    h_sweep,
    numerical_gradient,
    relative_error,
)
from .losses import (
    SoftmaxLoss,
    SVMLoss,
    accuracy,
    predict,
    scores,
    softmax_loss,
    softmax_loss_grad,
    svm_loss,
    svm_loss_grad,
)

try:
    __version__ = _version("steepest")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "reference",
    "datasets",
    "landscape",
    "network",
    "optimize",
    "backends",
    "get_backend",
    "set_backend",
    "use_backend",
    "get_num_threads",
    "set_num_threads",
    "num_threads",
    "SVMLoss",
    "SoftmaxLoss",
    "svm_loss",
    "svm_loss_grad",
    "softmax_loss",
    "softmax_loss_grad",
    "scores",
    "predict",
    "accuracy",
    "eval_numerical_gradient",
    "numerical_gradient",
    "relative_error",
    "grad_check",
    "grad_check_sparse",
    "h_sweep",
]
